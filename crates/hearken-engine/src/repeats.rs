//! Repeat (avoidable) contacts: a contact is a *repeat* when the same customer contacted about
//! the same topic at most `window_days` days earlier (`0 <= at - previous <= window_days · 86400`
//! seconds, comparing with that customer's previous contact on that topic). Contacts without a
//! customer or a topic ([`crate::NONE`]) cannot be judged and are counted apart as not `eligible`; the rate is
//! `repeats / eligible`, with its Wilson interval. Contacts at the same second are ordered by
//! row, so the later row is the repeat.
//!
//! The scan is linear: rows are bucketed by customer with a counting sort (dense customer codes),
//! each bucket is walked in time order keeping the last time per topic in a dense array that is
//! reset only where touched. No hash map, no per-row allocation.

use serde::Serialize;

use crate::error::{EngineError, Result, same_len};
use crate::frame::Dict;
use crate::group::{Grouped, Partial};
use crate::stats::{Level, Quality, wilson};

/// How repeat contacts are counted and costed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RepeatOptions {
    pub window_days: u32,
    /// Cost of handling one contact, in the organisation's currency; `None` for no cost figures.
    pub cost_per_contact: Option<f64>,
    pub level: Level,
    /// Below this many eligible contacts a rate is flagged `small_sample`.
    pub min_n: u64,
}

impl Default for RepeatOptions {
    fn default() -> RepeatOptions {
        RepeatOptions {
            window_days: 7,
            cost_per_contact: None,
            level: Level::NINETY,
            min_n: 30,
        }
    }
}

/// An eligible contact as the scan reads it: packed so that walking a customer's bucket reads
/// memory in order instead of jumping through the frame's columns.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    at: i64,
    row: u32,
    topic: u32,
    /// The row's product code, carried so that per-product counts need no random read.
    product: u32,
}

/// Walks every eligible contact grouped by customer, in time order within a customer, and calls
/// `visit(row, topic, product, is_repeat)` (`product` is [`crate::NONE`] when not given).
#[allow(clippy::too_many_arguments)]
fn scan(
    at: &[i64],
    customer: &[u32],
    topic: &[u32],
    product: Option<&[u32]>,
    n_customers: usize,
    n_topics: usize,
    window_days: u32,
    mut visit: impl FnMut(usize, u32, u32, bool),
) -> Result<()> {
    same_len("customer", customer.len(), "at", at.len())?;
    same_len("topic", topic.len(), "at", at.len())?;
    if at.len() > u32::MAX as usize {
        return Err(EngineError::BadOption {
            name: "rows",
            reason: format!(
                "{} rows is more than 2^32; scan the window in parts",
                at.len()
            ),
        });
    }
    let window = i64::from(window_days) * 86_400;
    let eligible =
        |row: usize| (customer[row] as usize) < n_customers && (topic[row] as usize) < n_topics;

    // Counting sort of eligible rows by customer; stable, so each bucket keeps row order.
    let mut start = vec![0usize; n_customers + 1];
    for row in 0..at.len() {
        if eligible(row) {
            start[customer[row] as usize + 1] += 1;
        }
    }
    for c in 0..n_customers {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut entries = vec![Entry::default(); start[n_customers]];
    for row in 0..at.len() {
        if eligible(row) {
            let slot = &mut fill[customer[row] as usize];
            entries[*slot] = Entry {
                at: at[row],
                row: row as u32,
                topic: topic[row],
                product: product.map_or(crate::NONE, |p| p[row]),
            };
            *slot += 1;
        }
    }
    drop(fill);

    let mut last = vec![i64::MIN; n_topics];
    let mut touched: Vec<u32> = Vec::new();
    for c in 0..n_customers {
        let bucket = &mut entries[start[c]..start[c + 1]];
        // Stores usually hand rows over in time order; sort only the buckets that are not.
        if !bucket.is_sorted_by_key(|e| e.at) {
            bucket.sort_unstable_by_key(|e| (e.at, e.row));
        }
        for e in bucket.iter() {
            let t = e.topic as usize;
            let prev = last[t];
            if prev == i64::MIN {
                touched.push(e.topic);
            }
            visit(
                e.row as usize,
                e.topic,
                e.product,
                prev != i64::MIN && e.at - prev <= window,
            );
            last[t] = e.at;
        }
        for &t in &touched {
            last[t as usize] = i64::MIN;
        }
        touched.clear();
    }
    Ok(())
}

/// Marks each row: `None` when it has no customer or topic, `Some(true)` when it repeats the
/// same customer's contact on the same topic within `window_days`.
pub fn repeat_flags(
    at: &[i64],
    customer: &[u32],
    topic: &[u32],
    n_customers: usize,
    n_topics: usize,
    window_days: u32,
) -> Result<Vec<Option<bool>>> {
    let mut flags = vec![None; at.len()];
    scan(
        at,
        customer,
        topic,
        None,
        n_customers,
        n_topics,
        window_days,
        |row, _, _, rep| {
            flags[row] = Some(rep);
        },
    )?;
    Ok(flags)
}

/// Eligible contacts and repeats: the mergeable state behind every repeat rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepeatTally {
    pub eligible: u64,
    pub repeats: u64,
}

impl Partial for RepeatTally {
    fn merge(&mut self, o: &Self) {
        self.eligible += o.eligible;
        self.repeats += o.repeats;
    }
}

/// Repeat contacts of one topic or product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatGroup {
    pub group: String,
    pub code: Option<u32>,
    pub eligible: u64,
    pub repeats: u64,
    pub rate: Option<f64>,
    pub cost: Option<f64>,
}

/// Repeat contacts in a selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeats {
    pub window_days: u32,
    /// All contacts in the selection.
    pub contacts: u64,
    /// Contacts with a customer and a topic.
    pub eligible: u64,
    pub repeats: u64,
    /// `repeats / eligible`.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    /// `repeats · cost_per_contact`.
    pub cost: Option<f64>,
    /// Largest number of repeats first.
    pub by_topic: Vec<RepeatGroup>,
    pub by_product: Vec<RepeatGroup>,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Signal columns a repeat analysis reads.
#[derive(Debug, Clone, Copy)]
pub struct ContactColumns<'a> {
    pub at: &'a [i64],
    pub customer: &'a [u32],
    pub topic: &'a [u32],
    pub product: &'a [u32],
    /// How many customer codes there are (codes are `0..n_customers`).
    pub n_customers: usize,
    pub topics: &'a Dict,
    pub products: &'a Dict,
}

impl<'a> ContactColumns<'a> {
    pub fn of(f: &'a crate::frame::SignalFrame) -> ContactColumns<'a> {
        ContactColumns {
            at: &f.at,
            customer: &f.customer,
            topic: &f.topic,
            product: &f.product,
            // The names need not be loaded to count repeats: the largest code bounds them.
            n_customers: f.customers.len().max(
                f.customer
                    .iter()
                    .filter(|&&c| c != crate::NONE)
                    .max()
                    .map_or(0, |&c| c as usize + 1),
            ),
            topics: &f.topics,
            products: &f.products,
        }
    }
}

/// The partial aggregates of a repeat analysis: the contacts in the selection, and the eligible
/// contacts and repeats per topic and per product code. Whoever computes them (the scan below, or
/// a Spark cluster's window functions: ADR 0014), [`repeats_from_partials`] turns them into the
/// figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepeatPartials {
    /// All contacts in the selection, eligible or not.
    pub contacts: u64,
    /// Per topic code (of the topics' dictionary); contacts without a topic are not eligible.
    pub by_topic: Grouped<RepeatTally>,
    /// Per product code (of the products' dictionary); eligible contacts without a product land
    /// in `none`.
    pub by_product: Grouped<RepeatTally>,
}

/// The partial aggregates of [`repeat_contacts`]: the scan of the frame's columns.
pub fn repeat_partials(cols: &ContactColumns<'_>, window_days: u32) -> Result<RepeatPartials> {
    same_len("product", cols.product.len(), "at", cols.at.len())?;
    let mut by_topic: Grouped<RepeatTally> = Grouped::new(cols.topics.len());
    let mut by_product: Grouped<RepeatTally> = Grouped::new(cols.products.len());
    scan(
        cols.at,
        cols.customer,
        cols.topic,
        Some(cols.product),
        cols.n_customers,
        cols.topics.len(),
        window_days,
        |_, topic, product, rep| {
            for s in [by_topic.slot(topic), by_product.slot(product)] {
                s.eligible += 1;
                s.repeats += u64::from(rep);
            }
        },
    )?;
    Ok(RepeatPartials {
        contacts: cols.at.len() as u64,
        by_topic,
        by_product,
    })
}

/// Repeat rate overall, by topic and by product, with costs when a cost per contact is given.
pub fn repeat_contacts(cols: &ContactColumns<'_>, opts: &RepeatOptions) -> Result<Repeats> {
    check_cost(opts)?;
    let p = repeat_partials(cols, opts.window_days)?;
    repeats_from_partials(&p, cols.topics, cols.products, opts)
}

fn check_cost(opts: &RepeatOptions) -> Result<()> {
    if let Some(c) = opts.cost_per_contact
        && !(c.is_finite() && c >= 0.0)
    {
        return Err(EngineError::BadOption {
            name: "cost per contact",
            reason: format!("is {c}; give a non-negative amount"),
        });
    }
    Ok(())
}

/// The figures of a repeat analysis from its partial aggregates (`topics` and `products` name
/// the codes of `p.by_topic` and `p.by_product`); `opts.window_days` is the window the partials
/// were counted with.
pub fn repeats_from_partials(
    p: &RepeatPartials,
    topics: &Dict,
    products: &Dict,
    opts: &RepeatOptions,
) -> Result<Repeats> {
    check_cost(opts)?;
    let total = p.by_topic.total();
    let cost = |repeats: u64| opts.cost_per_contact.map(|c| c * repeats as f64);

    let mut quality = Quality::for_n(total.eligible, opts.min_n);
    if quality.no_data {
        quality.warnings =
            vec!["no data: no contact with both a customer and a topic in this selection".into()];
    }
    let interval = wilson(total.repeats, total.eligible, opts.level);
    Ok(Repeats {
        window_days: opts.window_days,
        contacts: p.contacts,
        eligible: total.eligible,
        repeats: total.repeats,
        rate: rate(&total),
        low: interval.map(|i| i.0),
        high: interval.map(|i| i.1),
        level: opts.level.get(),
        cost: cost(total.repeats),
        by_topic: groups(&p.by_topic, topics, &cost),
        by_product: groups(&p.by_product, products, &cost),
        quality,
    })
}

fn rate(t: &RepeatTally) -> Option<f64> {
    (t.eligible > 0).then(|| t.repeats as f64 / t.eligible as f64)
}

fn groups(
    g: &Grouped<RepeatTally>,
    dict: &Dict,
    cost: &impl Fn(u64) -> Option<f64>,
) -> Vec<RepeatGroup> {
    let mut out: Vec<RepeatGroup> =
        crate::group::estimates(g, dict, |t| t.eligible == 0, |t| (rate(t), *t))
            .into_iter()
            .map(|e| RepeatGroup {
                group: e.group,
                code: e.code,
                eligible: e.estimate.1.eligible,
                repeats: e.estimate.1.repeats,
                rate: e.estimate.0,
                cost: cost(e.estimate.1.repeats),
            })
            .collect();
    out.sort_by(|a, b| b.repeats.cmp(&a.repeats).then(a.code.cmp(&b.code)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::NONE;

    const D: i64 = 86_400;

    #[test]
    fn repeats_are_per_customer_and_topic_within_the_window() {
        // rows:            c0/t0  c0/t0   c0/t1  c1/t0  c0/t0     c0/t0 (out of order)
        let at = [0, 3 * D, 4 * D, 5 * D, 20 * D, 2 * D];
        let customer = [0, 0, 0, 1, 0, 0];
        let topic = [0, 0, 1, 0, 0, 0];
        let f = repeat_flags(&at, &customer, &topic, 2, 2, 7).unwrap();
        // In time order c0/t0 is at 0, 2D, 3D, 20D: 2D and 3D repeat, 20D does not.
        assert_eq!(
            f,
            vec![
                Some(false),
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                Some(true)
            ]
        );
    }

    #[test]
    fn window_is_inclusive_and_unknowns_are_not_eligible() {
        let at = [0, 7 * D, 7 * D + 1, 0];
        let customer = [0, 0, NONE, 0];
        let topic = [0, 0, 0, NONE];
        let f = repeat_flags(&at, &customer, &topic, 1, 1, 7).unwrap();
        assert_eq!(f, vec![Some(false), Some(true), None, None]);
        assert!(repeat_flags(&at, &customer[..2], &topic, 1, 1, 7).is_err());
    }

    #[test]
    fn empty_selection_is_no_data() {
        let d = Dict::default();
        let cols = ContactColumns {
            at: &[],
            customer: &[],
            topic: &[],
            product: &[],
            n_customers: 0,
            topics: &d,
            products: &d,
        };
        let r = repeat_contacts(&cols, &RepeatOptions::default()).unwrap();
        assert!(r.quality.no_data);
        assert_eq!((r.rate, r.low), (None, None));
        let bad = RepeatOptions {
            cost_per_contact: Some(-1.0),
            ..RepeatOptions::default()
        };
        assert!(repeat_contacts(&cols, &bad).is_err());
    }
}
