//! Scores on Spark: the exact partial aggregates of a scores request (counts per scale point and
//! group, the sentiment classes with their compound sum) as Spark SQL over the lake, turned into
//! the query layer's [`ScorePartials`] against the store's dictionaries. The answer is then built
//! by `hearken_query::scores::scores_from_partials`, the function the embedded path uses.

use std::collections::HashMap;
use std::path::Path;

use hearken_engine::keys::Period;
use hearken_engine::scores::{NEGATIVE_AT, POSITIVE_AT, SentimentTally, Tally as ScaleTally};
use hearken_engine::{Dict, Grouped, Partial};
use hearken_model::{Channel, SignalKind};
use hearken_query::scores::{ScorePartials, ScoresPlan, Shape, Tallies, Tally, plan};
use hearken_query::{By, Filters, Metric, QueryError, Scope, ScoresRequest};
use hearken_store::{FrameSource, SignalColumns, Window};

use crate::error::{Result, SparkError};
use crate::lake::{Lake, Table};
use crate::{Cell, Sql};

/// The groupings the Spark path computes (the others need customer attributes as of each row's
/// time, not in the lake: persona, tenure, tenure-band, cohort).
pub const SPARK_BY: &[By] = &[
    By::Customer,
    By::Segment,
    By::Product,
    By::Channel,
    By::Agent,
    By::Team,
    By::Topic,
    By::Stage,
    By::Kind,
    By::Day,
    By::Week,
    By::Month,
];

/// The partial aggregates of a scores request, computed by Spark over `lake`. `store` gives
/// the dimensions' dictionaries (their order is the answer's order).
pub fn score_partials(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ScoresRequest,
) -> Result<ScorePartials> {
    let plan = plan(req)?;
    refuse_unsupported(scope, &plan, "scores")?;
    let table = if req.metric == Metric::Sentiment {
        Table::Signals
    } else {
        Table::Surveys
    };
    let (dir, _months) = lake.table(table)?;
    Ok(match &plan.shape {
        Shape::Overall => ScorePartials::Overall(overall(sql, &dir, req.metric, &plan.filters)?),
        Shape::Change { baseline } => ScorePartials::Change {
            baseline: overall(sql, &dir, req.metric, baseline)?,
            selection: overall(sql, &dir, req.metric, &plan.filters)?,
        },
        Shape::Groups(by) => {
            hearken_query::ensure_fresh(store)?;
            let rows = sql.rows(&query(&dir, req.metric, Some(*by), &plan.filters)?)?;
            let (dict, codes) = codes(store, *by, &rows)?;
            let tallies = fold(req.metric, &rows, &codes, dict.len())?;
            ScorePartials::Groups { dict, tallies }
        }
    })
}

/// Refuses what the Spark path cannot honour: a limited scope and the entity filters.
pub(crate) fn refuse_unsupported(
    scope: &Scope,
    plan: &ScoresPlan,
    analytic: &'static str,
) -> Result<()> {
    refuse_filters(scope, &plan.filters, analytic)?;
    if let Shape::Groups(by) = plan.shape
        && !SPARK_BY.contains(&by)
    {
        return Err(QueryError::UnsupportedGroup {
            by,
            reason: "needs customer attributes the lake does not hold; use the embedded engine"
                .into(),
            accepted: SPARK_BY.to_vec(),
        }
        .into());
    }
    Ok(())
}

pub(crate) fn refuse_filters(scope: &Scope, f: &Filters, analytic: &'static str) -> Result<()> {
    if scope.is_limited() {
        return Err(SparkError::Request(QueryError::Refused(
            "the Spark engine computes over the whole lake: a scope limited to segments or teams is not supported; use the embedded engine".into(),
        )));
    }
    let refused = [
        ("segment", f.segment.is_some()),
        ("product", f.product.is_some()),
        ("channel", f.channel.is_some()),
        ("agent", f.agent.is_some()),
        ("team", f.team.is_some()),
    ];
    if let Some(&(field, _)) = refused.iter().find(|(_, on)| *on) {
        return Err(QueryError::UnsupportedFilter {
            field,
            analytic,
            reason: "the Spark engine takes the window (from, to) only; use the embedded engine for entity filters".into(),
        }
        .into());
    }
    Ok(())
}

/// A whole selection's tally.
fn overall(sql: &dyn Sql, dir: &Path, metric: Metric, f: &Filters) -> Result<Tally> {
    let rows = sql.rows(&query(dir, metric, None, f)?)?;
    let codes = vec![0u32; rows.len()];
    Ok(match fold(metric, &rows, &codes, 1)? {
        Tallies::Nps(g) => Tally::Nps(g.total()),
        Tallies::Csat(g) => Tally::Csat(g.total()),
        Tallies::Ces(g) => Tally::Ces(g.total()),
        Tallies::Sentiment(g) => Tally::Sentiment(g.total()),
    })
}

/// A Spark SQL literal for a path (backquoted identifier of `parquet.` file reads).
pub(crate) fn parquet(dir: &Path) -> Result<String> {
    let s = dir.to_string_lossy();
    if s.contains('`') {
        return Err(SparkError::Lake(format!(
            "the lake path {s} holds a backquote, which Spark SQL cannot take: move the lake"
        )));
    }
    Ok(format!("parquet.`{s}`"))
}

/// The `WHERE` clause of a window, on the rows' Unix seconds (`from` inclusive, `to`
/// exclusive), as the store's snapshot selects them.
pub(crate) fn window_clause(f: &Filters) -> Result<String> {
    let w: Window = f.window()?;
    let mut parts = vec!["TRUE".to_string()];
    if let Some(from) = w.from {
        parts.push(format!("unix_seconds(at) >= {from}"));
    }
    if let Some(to) = w.to {
        parts.push(format!("unix_seconds(at) < {to}"));
    }
    Ok(parts.join(" AND "))
}

/// The day index of a row (days since 1970-01-01, floored), as `hearken_engine::keys` counts.
const DAY: &str = "((unix_seconds(at) - pmod(unix_seconds(at), 86400)) DIV 86400)";

/// The grouping expression of `by`, as text (`NULL` lands in the `(none)` group).
pub(crate) fn group_expr(by: Option<By>) -> String {
    let Some(by) = by else {
        return "CAST(NULL AS STRING)".into();
    };
    let col = match by {
        By::Customer => "customer_id".to_string(),
        By::Segment => "segment".into(),
        By::Product => "product_id".into(),
        By::Channel => "channel".into(),
        By::Agent => "agent_id".into(),
        By::Team => "team".into(),
        By::Topic => "topic".into(),
        By::Stage => "stage".into(),
        By::Kind => "kind".into(),
        By::Day => DAY.into(),
        // 1970-01-01 was a Thursday: shifting by 3 days puts Mondays on multiples of 7.
        By::Week => format!("((({DAY} + 3) - pmod({DAY} + 3, 7)) DIV 7)"),
        By::Month => format!(
            "(year(date_from_unix_date(CAST({DAY} AS INT))) * 12 + month(date_from_unix_date(CAST({DAY} AS INT))) - 1)"
        ),
        // Refused before a query is built (SPARK_BY).
        By::Persona | By::Tenure | By::TenureBand | By::Cohort => "CAST(NULL AS STRING)".into(),
    };
    format!("CAST({col} AS STRING)")
}

/// A float literal exactly equal to an `f32` threshold (Spark compares the lake's doubles, which
/// are the store's `f32` compounds widened).
fn threshold(t: f32) -> String {
    format!("{:?}D", f64::from(t))
}

/// The Spark SQL of a metric's partials over the table folder `dir` (signals for sentiment,
/// surveys for the others): survey scores as counts per (group, scale point), signals'
/// sentiment as counts per class (positive, negative, unscored, all) and the compound sum per
/// group; the group as text, `NULL` for rows without one.
pub fn query(dir: &Path, metric: Metric, by: Option<By>, f: &Filters) -> Result<String> {
    let from = parquet(dir)?;
    let w = window_clause(f)?;
    let g = group_expr(by);
    Ok(match metric {
        Metric::Sentiment => {
            // The store keeps compounds as `f32` (the snapshot's column); the lake has the
            // imported double. Rounded to float first, as the snapshot does, then widened.
            let c = "CAST(CAST(sentiment AS FLOAT) AS DOUBLE)";
            let scored = format!("({c} IS NOT NULL AND NOT isnan({c}))");
            format!(
                "SELECT {g} AS g, \
                 count_if({scored} AND {c} >= {pos}) AS positive, \
                 count_if({scored} AND {c} <= {neg}) AS negative, \
                 count_if(NOT {scored}) AS unscored, \
                 count(*) AS n, \
                 sum(CASE WHEN {scored} THEN {c} ELSE 0D END) AS s \
                 FROM {from} WHERE {w} GROUP BY 1",
                pos = threshold(POSITIVE_AT),
                neg = threshold(NEGATIVE_AT),
            )
        }
        _ => format!(
            "SELECT {g} AS g, CAST({m} AS BIGINT) AS v, count(*) AS n FROM {from} WHERE {w} GROUP BY 1, 2",
            m = metric.as_str(),
        ),
    })
}

fn text(c: Option<&Cell>) -> Option<&str> {
    match c {
        Some(Cell::Text(s)) => Some(s),
        _ => None,
    }
}

pub(crate) fn int(c: Option<&Cell>, what: &str) -> Result<i64> {
    match c {
        Some(Cell::Int(v)) => Ok(*v),
        Some(Cell::Null) => Ok(0),
        other => Err(SparkError::Query(format!(
            "expected an integer {what}, got {other:?}"
        ))),
    }
}

fn count(c: Option<&Cell>, what: &str) -> Result<u64> {
    u64::try_from(int(c, what)?)
        .map_err(|_| SparkError::Query(format!("a negative count of {what}")))
}

/// The group code of each result row (its first column) in the dimension's dictionary, and
/// that dictionary.
pub(crate) fn codes(
    store: &dyn FrameSource,
    by: By,
    rows: &[Vec<Cell>],
) -> Result<(Dict, Vec<u32>)> {
    let period = match by {
        By::Day => Some(Period::Day),
        By::Week => Some(Period::Week),
        By::Month => Some(Period::Month),
        _ => None,
    };
    if let Some(period) = period {
        let ix: Vec<Option<i64>> = rows
            .iter()
            .map(|r| {
                text(r.first())
                    .map(|s| {
                        s.parse::<i64>().map_err(|_| {
                            SparkError::Query(format!("a period index that is not a number: {s}"))
                        })
                    })
                    .transpose()
            })
            .collect::<Result<_>>()?;
        let Some((lo, hi)) = ix
            .iter()
            .flatten()
            .fold(None, |acc: Option<(i64, i64)>, &i| {
                Some(acc.map_or((i, i), |(lo, hi)| (lo.min(i), hi.max(i))))
            })
        else {
            return Ok((Dict::default(), vec![hearken_engine::NONE; rows.len()]));
        };
        if hi - lo > hearken_engine::keys::MAX_PERIODS {
            return Err(QueryError::Refused(format!(
                "the window spans more than {} periods; narrow it",
                hearken_engine::keys::MAX_PERIODS
            ))
            .into());
        }
        let dict = Dict {
            names: (lo..=hi).map(|i| period.name(i)).collect(),
        };
        let codes = ix
            .iter()
            .map(|i| i.map_or(hearken_engine::NONE, |i| (i - lo) as u32))
            .collect();
        return Ok((dict, codes));
    }
    let dict = dictionary(store, by)?;
    let index: HashMap<&str, u32> = dict
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let codes = rows
        .iter()
        .map(|r| match text(r.first()) {
            None => Ok(hearken_engine::NONE),
            Some(name) => index.get(name).copied().ok_or_else(|| {
                SparkError::Foreign(format!(
                    "the lake holds {by} '{name}', which the store does not know: the lake was exported from another store or before the last import; export it again from this store"
                ))
            }),
        })
        .collect::<Result<Vec<u32>>>()?;
    Ok((dict, codes))
}

/// The dictionary of a dimension as the embedded path's grouping key has it.
pub(crate) fn dictionary(store: &dyn FrameSource, by: By) -> Result<Dict> {
    // A window no row falls in: only the dictionaries are read.
    let none = Window {
        from: Some(0),
        to: Some(0),
    };
    let signals = |want: SignalColumns| store.snapshot_signals(&none, &want);
    Ok(match by {
        By::Customer => {
            signals(SignalColumns {
                customer_names: true,
                ..SignalColumns::default()
            })?
            .customers
        }
        By::Product => {
            signals(SignalColumns {
                product_names: true,
                ..SignalColumns::default()
            })?
            .products
        }
        By::Agent => {
            signals(SignalColumns {
                agent_names: true,
                ..SignalColumns::default()
            })?
            .agents
        }
        By::Topic => {
            signals(SignalColumns {
                topic: true,
                ..SignalColumns::default()
            })?
            .topics
        }
        By::Stage => {
            signals(SignalColumns {
                stage: true,
                ..SignalColumns::default()
            })?
            .stages
        }
        By::Segment => store.snapshot_customers()?.segments,
        By::Team => store.snapshot_agents()?.teams,
        By::Channel => Dict {
            names: Channel::ALL
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        },
        By::Kind => Dict {
            names: SignalKind::ALL
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        },
        other => {
            return Err(SparkError::Request(QueryError::Refused(format!(
                "grouping by {other} is not computed on Spark"
            ))));
        }
    })
}

fn scale<const K: usize>(
    rows: &[Vec<Cell>],
    codes: &[u32],
    n_groups: usize,
    lo: i64,
) -> Result<Grouped<ScaleTally<K>>> {
    let mut g: Grouped<ScaleTally<K>> = Grouped::new(n_groups);
    for (r, &code) in rows.iter().zip(codes) {
        let n = count(r.get(2), "responses")?;
        let mut t = ScaleTally::<K>::default();
        match r.get(1) {
            None | Some(Cell::Null) => t.missing = n,
            Some(Cell::Int(v)) => match usize::try_from(v - lo).ok().filter(|&i| i < K) {
                Some(i) => t.counts[i] = n,
                None => t.invalid = n,
            },
            Some(other) => {
                return Err(SparkError::Query(format!(
                    "expected an integer score, got {other:?}"
                )));
            }
        }
        g.slot(code).merge(&t);
    }
    Ok(g)
}

/// The result rows of [`query`] folded into tallies per group code.
pub(crate) fn fold(
    metric: Metric,
    rows: &[Vec<Cell>],
    codes: &[u32],
    n_groups: usize,
) -> Result<Tallies> {
    Ok(match metric {
        Metric::Nps => Tallies::Nps(scale::<11>(rows, codes, n_groups, 0)?),
        Metric::Csat => Tallies::Csat(scale::<5>(rows, codes, n_groups, 1)?),
        Metric::Ces => Tallies::Ces(scale::<7>(rows, codes, n_groups, 1)?),
        Metric::Sentiment => {
            let mut g: Grouped<SentimentTally> = Grouped::new(n_groups);
            for (r, &code) in rows.iter().zip(codes) {
                let positive = count(r.get(1), "positive signals")?;
                let negative = count(r.get(2), "negative signals")?;
                let unscored = count(r.get(3), "unscored signals")?;
                let n = count(r.get(4), "signals")?;
                let sum = match r.get(5) {
                    Some(Cell::Float(s)) => *s,
                    Some(Cell::Null) | None => 0.0,
                    Some(other) => {
                        return Err(SparkError::Query(format!(
                            "expected a float sum, got {other:?}"
                        )));
                    }
                };
                let neutral = n
                    .checked_sub(positive + negative + unscored)
                    .ok_or_else(|| {
                        SparkError::Query("more sentiment classes than signals".into())
                    })?;
                let t = SentimentTally {
                    positive,
                    negative,
                    unscored,
                    neutral,
                    sum,
                };
                g.slot(code).merge(&t);
            }
            Tallies::Sentiment(g)
        }
    })
}
