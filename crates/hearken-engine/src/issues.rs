//! Stack-ranked issues: which topics matter most, by frequency × negative sentiment × customer
//! value, each with the signals behind it.
//!
//! For each topic (an *issue*):
//! - `signals` = contacts in the selection;
//! - `negative_share` = negative signals (compound <= -0.05) / signals with a sentiment score;
//! - `value_factor` = mean yearly value of the customers behind the topic's signals (per signal,
//!   signals whose customer value is known) divided by the same mean over all signals, so 1 is an
//!   average customer; 1 when no value is known;
//! - `score = signals × negative_share × value_factor`: the expected number of negative contacts,
//!   weighted by how valuable the customers raising them are.
//!
//! Issues are ranked by score (ties: more signals first, then code); a topic without any scored
//! signal has no score and ranks last. `evidence` lists row indices into the frame, most negative
//! first, up to `evidence` per issue.

use serde::Serialize;

use crate::error::{Result, same_len};
use crate::frame::{Dict, NONE};
use crate::group::{Grouped, NONE_GROUP, Partial, fold_grouped};
use crate::scores::NEGATIVE_AT;

/// Per-topic sums behind a ranking.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IssueTally {
    pub signals: u64,
    pub scored: u64,
    pub negative: u64,
    pub sentiment_sum: f64,
    pub valued: u64,
    pub value_sum: f64,
}

impl Partial for IssueTally {
    fn merge(&mut self, o: &Self) {
        self.signals += o.signals;
        self.scored += o.scored;
        self.negative += o.negative;
        self.sentiment_sum += o.sentiment_sum;
        self.valued += o.valued;
        self.value_sum += o.value_sum;
    }
}

/// Signal columns an issue ranking reads.
#[derive(Debug, Clone, Copy)]
pub struct IssueColumns<'a> {
    pub topic: &'a [u32],
    pub sentiment: &'a [f32],
    pub customer: &'a [u32],
    /// Yearly value per customer code (`CustomerFrame::value_per_year`), NaN when unknown; may
    /// be empty.
    pub customer_value: &'a [f64],
    pub topics: &'a Dict,
}

impl<'a> IssueColumns<'a> {
    pub fn of(f: &'a crate::frame::SignalFrame, customer_value: &'a [f64]) -> IssueColumns<'a> {
        IssueColumns {
            topic: &f.topic,
            sentiment: &f.sentiment,
            customer: &f.customer,
            customer_value,
            topics: &f.topics,
        }
    }

    fn value(&self, row: usize) -> Option<f64> {
        let c = self.customer[row];
        if c == NONE {
            return None;
        }
        self.customer_value
            .get(c as usize)
            .copied()
            .filter(|v| v.is_finite() && *v >= 0.0)
    }
}

/// Tallies `rows` per topic.
pub fn issue_tallies(
    cols: &IssueColumns<'_>,
    rows: std::ops::Range<usize>,
) -> Result<Grouped<IssueTally>> {
    same_len("sentiment", cols.sentiment.len(), "topic", cols.topic.len())?;
    same_len("customer", cols.customer.len(), "topic", cols.topic.len())?;
    Ok(fold_grouped(
        cols.topic,
        cols.topics.len(),
        rows,
        |t: &mut IssueTally, row| {
            t.signals += 1;
            let s = cols.sentiment[row];
            if !s.is_nan() {
                t.scored += 1;
                t.negative += u64::from(s <= NEGATIVE_AT);
                t.sentiment_sum += f64::from(s);
            }
            if let Some(v) = cols.value(row) {
                t.valued += 1;
                t.value_sum += v;
            }
        },
    ))
}

/// How issues are ranked and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IssueOptions {
    /// How many issues to return.
    pub limit: usize,
    /// Row indices listed per issue.
    pub evidence: usize,
}

impl Default for IssueOptions {
    fn default() -> IssueOptions {
        IssueOptions {
            limit: 10,
            evidence: 50,
        }
    }
}

/// One ranked issue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub rank: usize,
    pub topic: String,
    pub code: Option<u32>,
    pub signals: u64,
    pub negative: u64,
    pub negative_share: Option<f64>,
    pub mean_sentiment: Option<f64>,
    pub mean_value: Option<f64>,
    pub value_factor: f64,
    pub score: Option<f64>,
    /// Row indices of the issue's signals, most negative first (unscored last).
    pub evidence: Vec<u32>,
}

/// Ranks topics (see the module docs) and collects the evidence rows of the top `limit`.
pub fn rank_issues(cols: &IssueColumns<'_>, opts: &IssueOptions) -> Result<Vec<Issue>> {
    let g = issue_tallies(cols, 0..cols.topic.len())?;
    Ok(rank_tallies(&g, cols, opts))
}

/// The ranking from tallies already computed (e.g. merged from chunks); `cols` is read again
/// only for the evidence.
pub fn rank_tallies(
    g: &Grouped<IssueTally>,
    cols: &IssueColumns<'_>,
    opts: &IssueOptions,
) -> Vec<Issue> {
    let all = g.total();
    let overall_value =
        (all.valued > 0 && all.value_sum > 0.0).then(|| all.value_sum / all.valued as f64);
    let mut issues: Vec<Issue> =
        crate::group::estimates(g, cols.topics, |t| t.signals == 0, |t| *t)
            .into_iter()
            .map(|e| {
                let t = e.estimate;
                let negative_share = (t.scored > 0).then(|| t.negative as f64 / t.scored as f64);
                let mean_value = (t.valued > 0).then(|| t.value_sum / t.valued as f64);
                let value_factor = match (mean_value, overall_value) {
                    (Some(v), Some(o)) => v / o,
                    _ => 1.0,
                };
                Issue {
                    rank: 0,
                    topic: e.group,
                    code: e.code,
                    signals: t.signals,
                    negative: t.negative,
                    negative_share,
                    mean_sentiment: (t.scored > 0).then(|| t.sentiment_sum / t.scored as f64),
                    mean_value,
                    value_factor,
                    score: negative_share.map(|s| t.signals as f64 * s * value_factor),
                    evidence: Vec::new(),
                }
            })
            .collect();
    issues.sort_by(|a, b| {
        let (sa, sb) = (
            a.score.unwrap_or(f64::NEG_INFINITY),
            b.score.unwrap_or(f64::NEG_INFINITY),
        );
        sb.total_cmp(&sa).then(b.signals.cmp(&a.signals)).then(
            a.code
                .map_or(u64::MAX, u64::from)
                .cmp(&b.code.map_or(u64::MAX, u64::from)),
        )
    });
    issues.truncate(opts.limit);
    for (i, issue) in issues.iter_mut().enumerate() {
        issue.rank = i + 1;
    }
    collect_evidence(&mut issues, cols, opts.evidence);
    issues
}

/// One pass over the rows: each row of a listed issue goes to that issue's evidence.
fn collect_evidence(issues: &mut [Issue], cols: &IssueColumns<'_>, limit: usize) {
    if limit == 0 || issues.is_empty() {
        return;
    }
    let n_topics = cols.topics.len();
    // Slot per topic code; index n_topics is the `(none)` group.
    let mut slot = vec![usize::MAX; n_topics + 1];
    for (i, issue) in issues.iter().enumerate() {
        let t = issue.code.map_or(n_topics, |c| c as usize);
        if let Some(s) = slot.get_mut(t) {
            *s = i;
        }
    }
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); issues.len()];
    for (row, &t) in cols.topic.iter().enumerate() {
        let t = if (t as usize) < n_topics {
            t as usize
        } else {
            n_topics
        };
        if let Some(&i) = slot.get(t)
            && i != usize::MAX
        {
            rows[i].push(row as u32);
        }
    }
    let key = |r: &u32| {
        let s = cols.sentiment[*r as usize];
        if s.is_nan() { f32::INFINITY } else { s }
    };
    let order = |a: &u32, b: &u32| key(a).total_cmp(&key(b)).then(a.cmp(b));
    for (issue, mut r) in issues.iter_mut().zip(rows) {
        // Only the `limit` most negative are listed: select them in linear time, sort just those.
        if r.len() > limit {
            r.select_nth_unstable_by(limit, order);
            r.truncate(limit);
        }
        r.sort_by(order);
        issue.evidence = r;
    }
    debug_assert!(
        issues
            .iter()
            .all(|i| i.topic != NONE_GROUP || i.code.is_none())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_negativity_and_value_rank_issues() {
        let topics = Dict {
            names: vec!["billing".into(), "login".into(), "praise".into()],
        };
        // billing: 4 signals, 3 negative, rich customer; login: 6 signals, 2 negative;
        // praise: 3 signals, none negative.
        let topic = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, NONE];
        let sentiment = [
            -0.5,
            -0.6,
            -0.1,
            0.3,
            -0.4,
            -0.2,
            0.0,
            0.1,
            0.2,
            f32::NAN,
            0.8,
            0.9,
            0.7,
            -0.9,
        ];
        let customer = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, NONE];
        let value = [300.0, 100.0];
        let cols = IssueColumns {
            topic: &topic,
            sentiment: &sentiment,
            customer: &customer,
            customer_value: &value,
            topics: &topics,
        };
        let r = rank_issues(&cols, &IssueOptions::default()).unwrap();
        assert_eq!(r[0].topic, "billing");
        assert_eq!(r[0].evidence, vec![1, 0, 2, 3]);
        assert_eq!(r[1].topic, "login");
        assert_eq!(*r[1].evidence.last().unwrap(), 9, "unscored last");
        let none = r.iter().find(|i| i.code.is_none()).unwrap();
        assert_eq!((none.signals, none.value_factor), (1, 1.0));
        assert_eq!(r.last().unwrap().topic, "praise");
        assert_eq!(
            r.iter().map(|i| i.rank).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn empty_is_empty() {
        let d = Dict::default();
        let cols = IssueColumns {
            topic: &[],
            sentiment: &[],
            customer: &[],
            customer_value: &[],
            topics: &d,
        };
        assert!(
            rank_issues(&cols, &IssueOptions::default())
                .unwrap()
                .is_empty()
        );
    }
}
