//! Pareto and trends on Spark: contacts per entity, and signals per topic and period, as Spark
//! SQL over the lake's signals, folded into the query layer's partials against the store's
//! dictionaries; the answers come from `hearken_query::pareto::pareto_from_partials` and
//! `hearken_query::trends::trends_from_partials`, the embedded path's own functions.

use std::path::Path;

use hearken_engine::pareto::EntityCounts;
use hearken_engine::trends::PeriodCounts;
use hearken_engine::{Dict, NONE};
use hearken_query::pareto::{ParetoRequest, check};
use hearken_query::trends::{TrendsPartials, TrendsRequest};
use hearken_query::{By, Filters, QueryError, Scope};
use hearken_store::FrameSource;

use crate::error::{Result, SparkError};
use crate::lake::{Lake, Table};
use crate::scores::{
    SPARK_BY, codes, dictionary, group_expr, int, parquet, refuse_filters, window_clause,
};
use crate::{Cell, Sql};

/// Contacts per entity of `req.by` (and the contacts without one), computed by Spark.
pub fn pareto_partials(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ParetoRequest,
) -> Result<(Dict, EntityCounts)> {
    check(req)?;
    let f = req.filters();
    refuse_filters(scope, &f, "pareto")?;
    if !SPARK_BY.contains(&req.by) {
        return Err(QueryError::UnsupportedGroup {
            by: req.by,
            reason: "needs customer attributes the lake does not hold; use the embedded engine"
                .into(),
            accepted: hearken_query::pareto::PARETO_BY
                .iter()
                .copied()
                .filter(|b| SPARK_BY.contains(b))
                .collect(),
        }
        .into());
    }
    let (dir, _) = lake.table(Table::Signals)?;
    hearken_query::ensure_fresh(store)?;
    let rows = sql.rows(&pareto_query(&dir, req.by, &f)?)?;
    let (dict, codes) = codes(store, req.by, &rows)?;
    let mut counts = EntityCounts {
        counts: vec![0; dict.len()],
        none: 0,
    };
    for (r, &code) in rows.iter().zip(&codes) {
        let n = u64::try_from(int(r.get(1), "contacts")?)
            .map_err(|_| SparkError::Query("a negative count of contacts".into()))?;
        match counts.counts.get_mut(code as usize) {
            Some(c) if code != NONE => *c += n,
            _ => counts.none += n,
        }
    }
    Ok((dict, counts))
}

/// The Spark SQL of Pareto's partials over the signals table folder `dir`: contacts per entity
/// of `by` (its id as text; `NULL` for contacts without one).
pub fn pareto_query(dir: &Path, by: By, f: &Filters) -> Result<String> {
    Ok(format!(
        "SELECT {g} AS g, count(*) AS n FROM {from} WHERE {w} GROUP BY 1",
        g = group_expr(Some(by)),
        from = parquet(dir)?,
        w = window_clause(f)?,
    ))
}

/// The Spark SQL of trends' partials over the signals table folder `dir`: signals per
/// (period index as text, topic).
pub fn trends_query(dir: &Path, period: hearken_query::Period, f: &Filters) -> Result<String> {
    let by = match period {
        hearken_query::Period::Day => By::Day,
        hearken_query::Period::Week => By::Week,
        hearken_query::Period::Month => By::Month,
    };
    Ok(format!(
        "SELECT {p} AS p, CAST(topic AS STRING) AS t, count(*) AS n FROM {from} WHERE {w} GROUP BY 1, 2",
        p = group_expr(Some(by)),
        from = parquet(dir)?,
        w = window_clause(f)?,
    ))
}

/// Signals per topic and period over the run from the first to the last signal's period,
/// computed by Spark.
pub fn trends_partials(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &TrendsRequest,
) -> Result<TrendsPartials> {
    let f = req.filters();
    refuse_filters(scope, &f, "trends")?;
    let (dir, _) = lake.table(Table::Signals)?;
    hearken_query::ensure_fresh(store)?;
    let rows = sql.rows(&trends_query(&dir, req.period, &f)?)?;
    let topics = dictionary(store, By::Topic)?;
    // Topic codes: the rows' second column looked up in the store's topics.
    let topic_rows: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| vec![r.get(1).cloned().unwrap_or(Cell::Null)])
        .collect();
    let (_, topic_codes) = codes(store, By::Topic, &topic_rows)?;
    let ix: Vec<i64> = rows
        .iter()
        .map(|r| match r.first() {
            Some(Cell::Text(s)) => s.parse().map_err(|_| {
                SparkError::Query(format!("a period index that is not a number: {s}"))
            }),
            other => Err(SparkError::Query(format!(
                "a signal without a time in the lake ({other:?}): export the lake again"
            ))),
        })
        .collect::<Result<_>>()?;
    let mut signals = 0u64;
    let mut without_topic = 0u64;
    let (Some(&first), Some(&last)) = (ix.iter().min(), ix.iter().max()) else {
        return Ok(TrendsPartials {
            topics,
            counts: PeriodCounts::default(),
            signals: 0,
            without_topic: 0,
        });
    };
    let span = last - first + 1;
    if !(1..=hearken_engine::keys::MAX_PERIODS).contains(&span) {
        return Err(QueryError::Refused(format!(
            "the signals span {span} periods (more than {}); narrow the window",
            hearken_engine::keys::MAX_PERIODS
        ))
        .into());
    }
    let periods = span as usize;
    let n_topics = topics.len();
    let mut counts = PeriodCounts {
        period: Some(req.period_engine()),
        first,
        periods,
        topics: n_topics,
        counts: vec![0; (n_topics + 1) * periods],
        outside: 0,
    };
    for ((r, &code), &p) in rows.iter().zip(&topic_codes).zip(&ix) {
        let n = u64::try_from(int(r.get(2), "signals")?)
            .map_err(|_| SparkError::Query("a negative count of signals".into()))?;
        signals += n;
        let t = (code as usize).min(n_topics);
        if t == n_topics {
            without_topic += n;
        }
        let slot = &mut counts.counts[t * periods + (p - first) as usize];
        *slot = u32::try_from(u64::from(*slot) + n).map_err(|_| {
            SparkError::Query("more than 4,294,967,295 signals in one topic and period".into())
        })?;
    }
    Ok(TrendsPartials {
        topics,
        counts,
        signals,
        without_topic,
    })
}

/// The engine's period of a trends request.
trait PeriodOf {
    fn period_engine(&self) -> hearken_engine::Period;
}

impl PeriodOf for TrendsRequest {
    fn period_engine(&self) -> hearken_engine::Period {
        match self.period {
            hearken_query::Period::Day => hearken_engine::Period::Day,
            hearken_query::Period::Week => hearken_engine::Period::Week,
            hearken_query::Period::Month => hearken_engine::Period::Month,
        }
    }
}
