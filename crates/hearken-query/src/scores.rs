//! Scores: NPS, CSAT and CES of survey responses and net sentiment of signals, with intervals;
//! overall, per group, or as the change from an earlier window.

use hearken_engine::group::{Grouped, estimates};
use hearken_engine::scores::{
    self, Ces, CesTally, Change, Csat, CsatTally, NetSentiment, Nps, NpsTally, ScoreOptions,
    SentimentTally,
};
use hearken_engine::{Dict, GroupEstimate, IntervalMethod, Level, Quality};
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
#[derive(Debug, Clone, PartialEq)]
pub enum Tally {
    Nps(NpsTally),
    Csat(CsatTally),
    Ces(CesTally),
    Sentiment(SentimentTally),
}

/// A metric's mergeable tallies per group code of a dimension (rows without a value in the
/// `none` state).
#[derive(Debug, Clone, PartialEq)]
pub enum Tallies {
    Nps(Grouped<NpsTally>),
    Csat(Grouped<CsatTally>),
    Ces(Grouped<CesTally>),
    Sentiment(Grouped<SentimentTally>),
}

/// The exact partial aggregates a scores request is answered from: counts per scale point (and
/// the sentiment classes with their compound sum), overall, per group of `by` with the
/// dimension's dictionary (its codes index `tallies`, its order is the answer's), or for the
/// selection and the earlier window. The embedded path ([`score_partials`]) and another engine
/// (the Spark one, crates/hearken-spark) both produce this, and [`scores_from_partials`] alone
/// turns it into the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ScorePartials {
    Overall(Tally),
    Groups { dict: Dict, tallies: Tallies },
    Change { baseline: Tally, selection: Tally },
}

/// What a valid scores request asks for, once checked: its options and the shape of the
/// answer. Any engine plans with [`plan`] first.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoresPlan {
    pub opts: ScoreOptions,
    pub filters: Filters,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Overall,
    Groups(By),
    /// The selection (`filters`) against the earlier window (`baseline`).
    Change {
        baseline: Filters,
    },
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
    let plan = plan(req)?;
    let partial = partial(store, scope)?;
    let partials = score_partials(store, scope, req.metric, &plan)?;
    respond(store, req.metric, &plan, partials, partial)
}

/// Checks a scores request and says what it asks for (options, grouping, earlier window).
pub fn plan(req: &ScoresRequest) -> Result<ScoresPlan> {
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
    let shape = match (&req.against_from, &req.against_to) {
        (None, None) => match req.by {
            None => Shape::Overall,
            Some(by) => Shape::Groups(by),
        },
        (Some(_), Some(_)) if req.by.is_some() => {
            return Err(QueryError::Conflict {
                message: "`against_from` compares the whole selection with an earlier window; it cannot be split by `by`".into(),
                hint: "leave out `by`".into(),
            });
        }
        (Some(from), Some(to)) => {
            // The baseline's dates are checked under their own names.
            select::window_between(Some(from), Some(to), ("against_from", "against_to"))?;
            Shape::Change {
                baseline: Filters {
                    from: Some(from.clone()),
                    to: Some(to.clone()),
                    ..filters.clone()
                },
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(QueryError::Conflict {
                message: "`against_from` and `against_to` go together".into(),
                hint: "give both ends of the earlier window".into(),
            });
        }
    };
    Ok(ScoresPlan {
        opts,
        filters,
        shape,
    })
}

/// The partial aggregates of a planned scores request, from the store's snapshot.
pub fn score_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    metric: Metric,
    plan: &ScoresPlan,
) -> Result<ScorePartials> {
    Ok(match &plan.shape {
        Shape::Overall => ScorePartials::Overall(tally(store, scope, &plan.filters, metric)?),
        Shape::Groups(by) => {
            let (dict, tallies) = if metric == Metric::Sentiment {
                sentiment_groups(store, scope, &plan.filters, *by)?
            } else {
                survey_groups(store, scope, &plan.filters, metric, *by)?
            };
            ScorePartials::Groups { dict, tallies }
        }
        Shape::Change { baseline } => ScorePartials::Change {
            baseline: tally(store, scope, baseline, metric)?,
            selection: tally(store, scope, &plan.filters, metric)?,
        },
    })
}

/// The answer to a scores request built from its partial aggregates, wherever they were
/// computed: the one place the figures are made. `store` gives the groups' display names and
/// `partial` is the note of an import running while the partials were read.
pub fn scores_from_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ScoresRequest,
    partials: ScorePartials,
) -> Result<ScoresResponse> {
    let plan = plan(req)?;
    let partial = partial(store, scope)?;
    respond(store, req.metric, &plan, partials, partial)
}

fn respond(
    store: &dyn FrameSource,
    metric: Metric,
    plan: &ScoresPlan,
    partials: ScorePartials,
    partial: Option<PartialNote>,
) -> Result<ScoresResponse> {
    let opts = &plan.opts;
    let by = match (&plan.shape, partials) {
        (Shape::Overall, ScorePartials::Overall(t)) => {
            return Ok(ScoresResponse::Overall(OverallScore {
                metric,
                estimate: estimate(&t, opts),
                notes: Vec::new(),
                partial,
            }));
        }
        (
            Shape::Change { .. },
            ScorePartials::Change {
                baseline,
                selection,
            },
        ) => {
            return change(metric, &baseline, &selection, opts, partial);
        }
        (Shape::Groups(by), ScorePartials::Groups { dict, tallies }) => {
            (*by, group_estimates(&dict, &tallies, metric, opts)?)
        }
        (shape, _) => {
            return Err(QueryError::InvalidRequest(format!(
                "scores partials of another shape than the request's ({shape:?})"
            )));
        }
    };
    let (by, estimates) = by;
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
        metric,
        by,
        level: opts.level.get(),
        groups,
        notes: Vec::new(),
        partial,
    }))
}

/// Named estimates per group in the dictionary's order (empty groups left out), as
/// `hearken_engine::scores::nps_by` and its siblings make them.
fn group_estimates(
    dict: &Dict,
    tallies: &Tallies,
    metric: Metric,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Estimate>>> {
    let ok = matches!(
        (metric, tallies),
        (Metric::Nps, Tallies::Nps(_))
            | (Metric::Csat, Tallies::Csat(_))
            | (Metric::Ces, Tallies::Ces(_))
            | (Metric::Sentiment, Tallies::Sentiment(_))
    );
    if !ok {
        return Err(QueryError::InvalidRequest(format!(
            "scores partials of another metric than {metric}"
        )));
    }
    Ok(match tallies {
        Tallies::Nps(g) => estimates(
            g,
            dict,
            |t| t.n() == 0,
            |t| Estimate::Nps(scores::nps(t, opts)),
        ),
        Tallies::Csat(g) => estimates(
            g,
            dict,
            |t| t.n() == 0,
            |t| Estimate::Csat(scores::csat(t, opts)),
        ),
        Tallies::Ces(g) => estimates(
            g,
            dict,
            |t| t.n() == 0,
            |t| Estimate::Ces(scores::ces(t, opts)),
        ),
        Tallies::Sentiment(g) => estimates(
            g,
            dict,
            |t| t.n() == 0,
            |t| Estimate::Sentiment(scores::net_sentiment(t, opts)),
        ),
    })
}

fn survey_groups(
    store: &dyn FrameSource,
    scope: &Scope,
    filters: &Filters,
    metric: Metric,
    by: By,
) -> Result<(Dict, Tallies)> {
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
    let tallies = match metric {
        Metric::Nps => Tallies::Nps(scores::tally_by(&f.nps, 0, &key, 0..f.nps.len())?),
        Metric::Csat => Tallies::Csat(scores::tally_by(&f.csat, 1, &key, 0..f.csat.len())?),
        _ => Tallies::Ces(scores::tally_by(&f.ces, 1, &key, 0..f.ces.len())?),
    };
    Ok((key.dict.into_owned(), tallies))
}

fn sentiment_groups(
    store: &dyn FrameSource,
    scope: &Scope,
    filters: &Filters,
    by: By,
) -> Result<(Dict, Tallies)> {
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
    let tallies = Tallies::Sentiment(scores::sentiment_by(
        &f.sentiment,
        &key,
        0..f.sentiment.len(),
    )?);
    Ok((key.dict.into_owned(), tallies))
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
    metric: Metric,
    before: &Tally,
    after: &Tally,
    opts: &ScoreOptions,
    partial: Option<PartialNote>,
) -> Result<ScoresResponse> {
    let diff = match (before, after) {
        (Tally::Nps(b), Tally::Nps(a)) => scores::nps_change(b, a, opts),
        (Tally::Csat(b), Tally::Csat(a)) => scores::csat_change(b, a, opts),
        (Tally::Ces(b), Tally::Ces(a)) => scores::ces_change(b, a, opts),
        (Tally::Sentiment(b), Tally::Sentiment(a)) => scores::net_sentiment_change(b, a, opts),
        _ => {
            return Err(QueryError::InvalidRequest(
                "scores partials of two different metrics".into(),
            ));
        }
    };
    Ok(ScoresResponse::Change(Box::new(ScoreChange {
        metric,
        baseline: estimate(before, opts),
        selection: estimate(after, opts),
        change: diff,
        notes: Vec::new(),
        partial,
    })))
}
