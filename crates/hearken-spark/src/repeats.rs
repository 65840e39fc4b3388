//! Repeat contacts on Spark: each eligible contact's previous contact by the same customer on the
//! same topic is found by a window function (`LAG` over the customer and topic, in time order),
//! and Spark returns only the contacts, eligible contacts and repeats per (topic, product). Those
//! are folded into the query layer's [`RepeatsPartials`] against the store's dictionaries; the
//! answer comes from `hearken_query::repeats::repeats_from_partials`, the embedded path's own
//! function.
//!
//! **Order of contacts at the same second.** The embedded scan walks a customer's contacts in
//! (time, row) order, the row being the snapshot's import order, so of two contacts at the same
//! second the later imported one is the repeat (which matters for the product it is counted
//! against). Equal seconds fall in the same month, so in the same part file of the lake, whose
//! rows the export writes in import order: the window orders by `unix_seconds(at)`, then
//! `_metadata.row_index` (the row's index in its Parquet file), which is the same order.

use std::path::Path;

use hearken_engine::repeats::{RepeatPartials, RepeatTally};
use hearken_engine::{Grouped, NONE, Partial};
use hearken_query::repeats::{RepeatsPartials, RepeatsRequest, check};
use hearken_query::{By, Filters, Scope};
use hearken_store::FrameSource;

use crate::error::{Result, SparkError};
use crate::lake::{Lake, Table};
use crate::scores::{codes, int, parquet, refuse_filters, window_clause};
use crate::{Cell, Sql};

/// The Spark SQL of the repeats partials over the signals table folder `dir`: per (topic,
/// product) as text (`NULL` for none), the contacts, the eligible ones (with a customer and a
/// topic) and the repeats (an eligible contact whose previous contact by the same customer on
/// the same topic, in the window's selection, is at most `days` days earlier).
pub fn repeats_query(dir: &Path, days: u32, f: &Filters) -> Result<String> {
    let window = i64::from(days) * 86_400;
    Ok(format!(
        "SELECT t, p, count(*) AS n, count_if(e) AS eligible, count_if(r) AS repeats FROM (\
         SELECT CAST(topic AS STRING) AS t, CAST(product_id AS STRING) AS p, \
         (customer_id IS NOT NULL AND topic IS NOT NULL) AS e, \
         (customer_id IS NOT NULL AND topic IS NOT NULL AND coalesce(\
         unix_seconds(at) - LAG(unix_seconds(at)) OVER (PARTITION BY customer_id, topic \
         ORDER BY unix_seconds(at), _metadata.row_index) <= {window}, FALSE)) AS r \
         FROM {from} WHERE {w}) GROUP BY 1, 2",
        from = parquet(dir)?,
        w = window_clause(f)?,
    ))
}

/// The partial aggregates of a repeats request, computed by Spark over the lake's signals.
pub fn repeats_partials(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
) -> Result<RepeatsPartials> {
    check(req)?;
    let f = req.filters();
    refuse_filters(scope, &f, "repeats")?;
    let (dir, _) = lake.table(Table::Signals)?;
    hearken_query::ensure_fresh(store)?;
    let rows = sql.rows(&repeats_query(&dir, req.days, &f)?)?;
    fold(store, &rows)
}

/// The rows of [`repeats_query`] folded into tallies per topic and product code.
pub fn fold(store: &dyn FrameSource, rows: &[Vec<Cell>]) -> Result<RepeatsPartials> {
    let column = |i: usize| -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|r| vec![r.get(i).cloned().unwrap_or(Cell::Null)])
            .collect()
    };
    let (topics, topic_codes) = codes(store, By::Topic, &column(0))?;
    let (products, product_codes) = codes(store, By::Product, &column(1))?;
    let mut tallies = RepeatPartials {
        contacts: 0,
        by_topic: Grouped::new(topics.len()),
        by_product: Grouped::new(products.len()),
    };
    let mut without_topic = 0u64;
    let count = |c: Option<&Cell>, what: &str| {
        u64::try_from(int(c, what)?)
            .map_err(|_| SparkError::Query(format!("a negative count of {what}")))
    };
    for ((r, &t), &p) in rows.iter().zip(&topic_codes).zip(&product_codes) {
        let n = count(r.get(2), "contacts")?;
        let eligible = count(r.get(3), "eligible contacts")?;
        let repeats = count(r.get(4), "repeats")?;
        if repeats > eligible || eligible > n {
            return Err(SparkError::Query(format!(
                "{repeats} repeats of {eligible} eligible contacts of {n}: not a subset"
            )));
        }
        tallies.contacts += n;
        if t == NONE {
            without_topic += n;
        }
        if eligible > 0 {
            let tally = RepeatTally { eligible, repeats };
            tallies.by_topic.slot(t).merge(&tally);
            tallies.by_product.slot(p).merge(&tally);
        }
    }
    Ok(RepeatsPartials {
        topics,
        products,
        tallies,
        without_topic,
    })
}
