//! Scores: NPS, CSAT and CES of survey responses and net sentiment of signals, with intervals;
//! overall, per group, or as the change from an earlier window.

use hearken_engine::scores::{
    self, Ces, CesTally, Change, Csat, CsatTally, NetSentiment, Nps, NpsTally, ScoreOptions,
    SentimentTally,
};
use hearken_engine::{GroupEstimate, IntervalMethod, Level, Quality};
use hearken_store::{FrameSource, SignalColumns, SurveyColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::names::names;
use crate::request::{By, Filters, Metric, request};
use crate::scope::Scope;
use crate::select::{self, KeyColumns};

request! {
    /// A score over the selection, overall, per group of `by`, or against an earlier window.
    pub struct ScoresRequest {
        /// Which score.
        pub metric: Metric = Metric::Nps,
        /// Split by this dimension (`topic` and `stage` with the sentiment metric only).
        pub by: Option<By> = None,
        /// Confidence level of the intervals, a fraction in (0, 1).
        #[cfg_attr(feature = "utoipa", param(exclusive_minimum = 0, exclusive_maximum = 1))]
        pub level: f64 = 0.9,
        /// Start of the earlier window to compare the selection with.
        pub against_from: Option<String> = None,
        /// End (exclusive) of the earlier window.
        pub against_to: Option<String> = None,
        /// Percentile bootstrap intervals from this many resamples (100 to 1,000,000) instead of
        /// the closed-form ones.
        #[cfg_attr(feature = "utoipa", param(minimum = 100, maximum = 1_000_000))]
        pub bootstrap: Option<u32> = None,
    }
}

/// The groupings scores accept: all of them (`topic` and `stage` for the sentiment of signals).
pub const SCORES_BY: &[By] = By::ALL;

/// One score's estimate; serialised as the engine's estimate of that metric (`nps`, `low`,
/// `high`, `level`, `n`, counts and quality flags).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Estimate {
    Nps(Nps),
    Csat(Csat),
    Ces(Ces),
    Sentiment(NetSentiment),
}

impl Estimate {
    pub fn value(&self) -> Option<f64> {
        match self {
            Estimate::Nps(e) => e.nps,
            Estimate::Csat(e) => e.csat,
            Estimate::Ces(e) => e.ces,
            Estimate::Sentiment(e) => e.net_sentiment,
        }
    }

    pub fn interval(&self) -> (Option<f64>, Option<f64>) {
        match self {
            Estimate::Nps(e) => (e.low, e.high),
            Estimate::Csat(e) => (e.low, e.high),
            Estimate::Ces(e) => (e.low, e.high),
            Estimate::Sentiment(e) => (e.low, e.high),
        }
    }

    pub fn n(&self) -> u64 {
        match self {
            Estimate::Nps(e) => e.n,
            Estimate::Csat(e) => e.n,
            Estimate::Ces(e) => e.n,
            Estimate::Sentiment(e) => e.n,
        }
    }

    pub fn level(&self) -> f64 {
        match self {
            Estimate::Nps(e) => e.level,
            Estimate::Csat(e) => e.level,
            Estimate::Ces(e) => e.level,
            Estimate::Sentiment(e) => e.level,
        }
    }

    pub fn quality(&self) -> &Quality {
        match self {
            Estimate::Nps(e) => &e.quality,
            Estimate::Csat(e) => &e.quality,
            Estimate::Ces(e) => &e.quality,
            Estimate::Sentiment(e) => &e.quality,
        }
    }
}

/// The answer to a scores request, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoresResponse {
    /// The whole selection: the estimate's fields at the top level.
    Overall(OverallScore),
    /// One estimate per group of `by`.
    Groups(GroupScores),
    /// The selection against an earlier window.
    Change(Box<ScoreChange>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct OverallScore {
    pub metric: Metric,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub estimate: Estimate,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct GroupScores {
    pub metric: Metric,
    pub by: By,
    pub level: f64,
    /// In the dimension's order; rows without a value in it last, as `(none)`.
    pub groups: Vec<GroupScore>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// A group's estimate: `group` is the dimension's value (an id for customers, products and
/// agents, with their display `name` beside it when the store has one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct GroupScore {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ScoreChange {
    pub metric: Metric,
    /// The earlier window (`against_from` to `against_to`).
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub baseline: Estimate,
    /// The selection (`from` to `to`).
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub selection: Estimate,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub change: Change,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// A metric's mergeable tally over a whole selection.
enum Tally {
    Nps(NpsTally),
    Csat(CsatTally),
    Ces(CesTally),
    Sentiment(SentimentTally),
}

fn options(req: &ScoresRequest) -> Result<ScoreOptions> {
    let method = match req.bootstrap {
        None => IntervalMethod::Analytic,
        Some(resamples) if (100..=1_000_000).contains(&resamples) => {
            IntervalMethod::Bootstrap { resamples, seed: 1 }
        }
        Some(resamples) => {
            return Err(QueryError::OutOfRange {
                field: "bootstrap",
                value: resamples.to_string(),
                allowed: "give between 100 and 1000000 resamples".into(),
            });
        }
    };
    Ok(ScoreOptions {
        level: Level::new(req.level)?,
        method,
        ..ScoreOptions::default()
    })
}

/// The score asked for.
pub fn scores(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ScoresRequest,
) -> Result<ScoresResponse> {
    crate::cache::answer(
        store,
        scope,
        "scores",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| scores(s, sc, r)),
    )
}

/// [`scores`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &ScoresRequest) -> Result<ScoresResponse> {
    let opts = options(req)?;
    let filters = req.filters();
    if let Some(by) = req.by
        && by.signals_only()
        && req.metric != Metric::Sentiment
    {
        return Err(QueryError::UnsupportedGroup {
            by,
            reason: format!(
                "applies to signals, not survey responses: use it with the sentiment metric, not {}",
                req.metric
            ),
            accepted: SCORES_BY
                .iter()
                .copied()
                .filter(|b| !b.signals_only())
                .collect(),
        });
    }
    match (&req.against_from, &req.against_to) {
        (None, None) => {}
        (Some(_), Some(_)) if req.by.is_some() => {
            return Err(QueryError::Conflict {
                message: "`against_from` compares the whole selection with an earlier window; it cannot be split by `by`".into(),
                hint: "leave out `by`".into(),
            });
        }
        (Some(from), Some(to)) => {
            let baseline = Filters {
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..filters.clone()
            };
            // The baseline's dates are checked under their own names.
            select::window_between(Some(from), Some(to), ("against_from", "against_to"))?;
            return change(store, scope, req.metric, &baseline, &filters, &opts);
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(QueryError::Conflict {
                message: "`against_from` and `against_to` go together".into(),
                hint: "give both ends of the earlier window".into(),
            });
        }
    }
    let partial = partial(store, scope)?;
    let Some(by) = req.by else {
        let estimate = estimate(&tally(store, scope, &filters, req.metric)?, &opts);
        return Ok(ScoresResponse::Overall(OverallScore {
            metric: req.metric,
            estimate,
            notes: Vec::new(),
            partial,
        }));
    };
    let estimates = if req.metric == Metric::Sentiment {
        sentiment_groups(store, scope, &filters, by, &opts)?
    } else {
        survey_groups(store, scope, &filters, req.metric, by, &opts)?
    };
    let ids: Vec<&str> = estimates.iter().map(|g| g.group.as_str()).collect();
    let display = names(store, by, &ids)?;
    let groups = estimates
        .into_iter()
        .zip(display)
        .map(|(g, name)| GroupScore {
            group: g.group,
            name,
            estimate: g.estimate,
        })
        .collect();
    Ok(ScoresResponse::Groups(GroupScores {
        metric: req.metric,
        by,
        level: opts.level.get(),
        groups,
        notes: Vec::new(),
        partial,
    }))
}

fn wrap<T>(
    groups: Vec<GroupEstimate<T>>,
    f: impl Fn(T) -> Estimate,
) -> Vec<GroupEstimate<Estimate>> {
    groups
        .into_iter()
        .map(|g| GroupEstimate {
            group: g.group,
            code: g.code,
            estimate: f(g.estimate),
        })
        .collect()
}

fn survey_groups(
    store: &dyn FrameSource,
    scope: &Scope,
    filters: &Filters,
    metric: Metric,
    by: By,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Estimate>>> {
    let want = SurveyColumns {
        nps: metric == Metric::Nps,
        csat: metric == Metric::Csat,
        ces: metric == Metric::Ces,
        ..SurveyColumns::default()
    };
    let select::Surveys {
        frame: f,
        customers,
        agents,
    } = select::surveys(store, scope, filters, Some(by), want)?;
    let key = select::key(by, &KeyColumns::of_surveys(&f), &customers, &agents)?;
    Ok(match metric {
        Metric::Nps => wrap(scores::nps_by(&f.nps, &key, opts)?, Estimate::Nps),
        Metric::Csat => wrap(scores::csat_by(&f.csat, &key, opts)?, Estimate::Csat),
        _ => wrap(scores::ces_by(&f.ces, &key, opts)?, Estimate::Ces),
    })
}

fn sentiment_groups(
    store: &dyn FrameSource,
    scope: &Scope,
    filters: &Filters,
    by: By,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Estimate>>> {
    let want = SignalColumns {
        sentiment: true,
        ..SignalColumns::default()
    };
    let select::Signals {
        frame: f,
        customers,
        agents,
    } = select::signals(store, scope, filters, Some(by), want, false)?;
    let key = select::key(by, &KeyColumns::of_signals(&f), &customers, &agents)?;
    Ok(wrap(
        scores::net_sentiment_by(&f.sentiment, &key, opts)?,
        Estimate::Sentiment,
    ))
}

fn tally(
    store: &dyn FrameSource,
    scope: &Scope,
    filters: &Filters,
    metric: Metric,
) -> Result<Tally> {
    if metric == Metric::Sentiment {
        let want = SignalColumns {
            sentiment: true,
            ..SignalColumns::default()
        };
        let f = select::signals(store, scope, filters, None, want, false)?.frame;
        return Ok(Tally::Sentiment(SentimentTally::from_column(
            &f.sentiment,
            0..f.len(),
        )));
    }
    let want = SurveyColumns {
        nps: metric == Metric::Nps,
        csat: metric == Metric::Csat,
        ces: metric == Metric::Ces,
        ..SurveyColumns::default()
    };
    let f = select::surveys(store, scope, filters, None, want)?.frame;
    let n = f.len();
    Ok(match metric {
        Metric::Nps => Tally::Nps(NpsTally::from_column(&f.nps, 0, 0..n)),
        Metric::Csat => Tally::Csat(CsatTally::from_column(&f.csat, 1, 0..n)),
        _ => Tally::Ces(CesTally::from_column(&f.ces, 1, 0..n)),
    })
}

fn estimate(t: &Tally, opts: &ScoreOptions) -> Estimate {
    match t {
        Tally::Nps(t) => Estimate::Nps(scores::nps(t, opts)),
        Tally::Csat(t) => Estimate::Csat(scores::csat(t, opts)),
        Tally::Ces(t) => Estimate::Ces(scores::ces(t, opts)),
        Tally::Sentiment(t) => Estimate::Sentiment(scores::net_sentiment(t, opts)),
    }
}

/// The selection against an earlier window: both estimates and the change between them.
fn change(
    store: &dyn FrameSource,
    scope: &Scope,
    metric: Metric,
    baseline: &Filters,
    selection: &Filters,
    opts: &ScoreOptions,
) -> Result<ScoresResponse> {
    let before = tally(store, scope, baseline, metric)?;
    let after = tally(store, scope, selection, metric)?;
    let diff = match (&before, &after) {
        (Tally::Nps(b), Tally::Nps(a)) => scores::nps_change(b, a, opts),
        (Tally::Csat(b), Tally::Csat(a)) => scores::csat_change(b, a, opts),
        (Tally::Ces(b), Tally::Ces(a)) => scores::ces_change(b, a, opts),
        (Tally::Sentiment(b), Tally::Sentiment(a)) => scores::net_sentiment_change(b, a, opts),
        // `tally` returns the metric it was asked for, the same one twice.
        _ => unreachable!("two tallies of one metric"),
    };
    Ok(ScoresResponse::Change(Box::new(ScoreChange {
        metric,
        baseline: estimate(&before, opts),
        selection: estimate(&after, opts),
        change: diff,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })))
}
