//! Pareto analysis: how concentrated contacts are on a few customers, products, topics or
//! channels.
//!
//! Definitions (fixed, so numbers compare across reports):
//! - *entities* are the distinct entities with at least one contact in the selection (a
//!   dictionary entry without contacts is not an entity here: the dictionary of a window can name
//!   every customer ever seen, and counting the silent ones would make every window look
//!   concentrated);
//! - *top 20%* is the `ceil(0.2 · entities)` entities with most contacts (ties broken by code, which
//!   does not change the share), and `top20_share` is their share of contacts;
//! - `k80` is the smallest number of entities whose contacts cover at least 80% of all contacts;
//! - the Lorenz curve runs over entities sorted by ascending contacts, from (0, 0) to (1, 1),
//!   sampled at `lorenz_points` evenly spaced x by linear interpolation of the exact curve (the
//!   Pareto chart is its reflection: the top x of entities hold `1 - L(1 - x)` of contacts);
//! - the Gini coefficient is `Σᵢ Σⱼ |xᵢ - xⱼ| / (2 n² x̄)` over the same entities, computed exactly
//!   from the sorted counts.
//!
//! Contacts without an entity code are reported as `unattributed`, outside every figure.

use std::ops::Range;

use serde::Serialize;

use crate::frame::Dict;
use crate::group::Partial;
use crate::stats::Quality;

/// Contacts per entity code: the mergeable state of a Pareto analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityCounts {
    pub counts: Vec<u64>,
    /// Contacts with no entity (code [`crate::NONE`] or beyond the dictionary).
    pub none: u64,
}

impl Partial for EntityCounts {
    fn merge(&mut self, other: &Self) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.none += other.none;
    }
}

impl EntityCounts {
    /// Counts `rows` of a code column whose dictionary has `n_entities` entries.
    pub fn from_codes(codes: &[u32], n_entities: usize, rows: Range<usize>) -> EntityCounts {
        let mut out = EntityCounts {
            counts: vec![0; n_entities],
            none: 0,
        };
        let end = rows.end.min(codes.len());
        let codes = codes.get(rows.start..end).unwrap_or(&[]);
        // Four interleaved count arrays when there are few entities: a heavy-tailed column hits
        // the same counters again and again, and one array would chain every increment on the
        // previous store to the same slot.
        let ways = if n_entities <= 1 << 16 { 4 } else { 1 };
        let mut counts = vec![0u64; n_entities * ways];
        let mut none = 0u64;
        for (i, &c) in codes.iter().enumerate() {
            if (c as usize) < n_entities {
                counts[(c as usize) * ways + (i % ways)] += 1;
            } else {
                none += 1;
            }
        }
        for (e, n) in out.counts.iter_mut().enumerate() {
            *n = counts[e * ways..(e + 1) * ways].iter().sum();
        }
        out.none = none;
        out
    }
}

/// How a Pareto analysis is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParetoOptions {
    /// Points of the downsampled Lorenz curve (at least 2; 101 gives one per percent).
    pub lorenz_points: usize,
    /// How many of the largest entities to list by name.
    pub top: usize,
}

impl Default for ParetoOptions {
    fn default() -> ParetoOptions {
        ParetoOptions {
            lorenz_points: 101,
            top: 20,
        }
    }
}

/// One of the entities with most contacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopEntity {
    pub entity: String,
    pub code: u32,
    pub contacts: u64,
    pub share: f64,
    /// Share of contacts of this entity and every larger one.
    pub cumulative_share: f64,
}

/// The concentration of contacts over entities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pareto {
    /// Distinct entities with at least one contact.
    pub entities: u64,
    /// Contacts with an entity.
    pub contacts: u64,
    /// `ceil(0.2 · entities)`.
    pub top20_entities: u64,
    /// Share (0..1) of contacts from the top 20% of entities.
    pub top20_share: Option<f64>,
    /// Fewest entities covering at least 80% of contacts.
    pub k80: Option<u64>,
    /// `k80 / entities`.
    pub k80_fraction: Option<f64>,
    pub gini: Option<f64>,
    /// `[x, y]`: the smallest fraction x of entities holds fraction y of contacts.
    pub lorenz: Vec<[f64; 2]>,
    pub top: Vec<TopEntity>,
    /// Contacts without an entity, outside every figure above.
    pub unattributed: u64,
    #[serde(flatten)]
    pub quality: Quality,
}

/// The Pareto analysis of `counts`, naming entities from `dict`.
pub fn pareto(counts: &EntityCounts, dict: &Dict, opts: &ParetoOptions) -> Pareto {
    // (contacts, code), largest first; ties by code so the listing is stable.
    let mut sorted: Vec<(u64, u32)> = counts
        .counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, &c)| (c, i as u32))
        .collect();
    sorted.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let entities = sorted.len() as u64;
    let contacts: u64 = sorted.iter().map(|e| e.0).sum();
    let mut quality = Quality::default();
    if entities == 0 {
        quality.no_data = true;
        quality
            .warnings
            .push("no data: no contact with an entity in this selection".into());
        return Pareto {
            entities,
            contacts,
            top20_entities: 0,
            top20_share: None,
            k80: None,
            k80_fraction: None,
            gini: None,
            lorenz: Vec::new(),
            top: Vec::new(),
            unattributed: counts.none,
            quality,
        };
    }
    if entities < 5 {
        quality.small_sample = true;
        quality.warnings.push(format!(
            "only {entities} entities: the top 20% is {} entity and the shares say little",
            entities.div_ceil(5)
        ));
    }
    let total = contacts as f64;
    let top20_entities = entities.div_ceil(5);
    let top20: u64 = sorted
        .iter()
        .take(top20_entities as usize)
        .map(|e| e.0)
        .sum();

    // k80: integer test cum / contacts >= 0.8 <=> 5 cum >= 4 contacts, free of rounding.
    let mut cum: u128 = 0;
    let mut k80 = entities;
    for (i, e) in sorted.iter().enumerate() {
        cum += u128::from(e.0);
        if 5 * cum >= 4 * u128::from(contacts) {
            k80 = i as u64 + 1;
            break;
        }
    }

    // Gini from ascending order: G = 2 Σ i·x(i) / (n Σx) - (n + 1) / n, i = 1..n; with the
    // descending order at hand, x(i) is sorted[n - i]. Sums in u128 stay exact.
    let n = entities as f64;
    let weighted: u128 = sorted
        .iter()
        .enumerate()
        .map(|(j, e)| u128::from(entities - j as u64) * u128::from(e.0))
        .sum();
    let gini = 2.0 * weighted as f64 / (n * total) - (n + 1.0) / n;

    let top = {
        let mut cum = 0u64;
        sorted
            .iter()
            .take(opts.top)
            .map(|&(c, code)| {
                cum += c;
                TopEntity {
                    entity: dict
                        .name(code)
                        .map_or_else(|| format!("#{code}"), str::to_string),
                    code,
                    contacts: c,
                    share: c as f64 / total,
                    cumulative_share: cum as f64 / total,
                }
            })
            .collect()
    };

    Pareto {
        entities,
        contacts,
        top20_entities,
        top20_share: Some(top20 as f64 / total),
        k80: Some(k80),
        k80_fraction: Some(k80 as f64 / n),
        gini: Some(gini),
        lorenz: lorenz(&sorted, contacts, opts.lorenz_points.max(2)),
        top,
        unattributed: counts.none,
        quality,
    }
}

/// The Lorenz curve at `points` evenly spaced x, from counts sorted descending.
fn lorenz(desc: &[(u64, u32)], contacts: u64, points: usize) -> Vec<[f64; 2]> {
    let n = desc.len();
    let total = contacts as f64;
    let asc = |i: usize| desc[n - 1 - i].0;
    let mut out = Vec::with_capacity(points);
    // `below` = contacts of the `i` smallest entities, advanced as x grows.
    let (mut i, mut below) = (0usize, 0u64);
    for j in 0..points {
        let x = j as f64 / (points - 1) as f64;
        let t = x * n as f64;
        while i < n && ((i + 1) as f64) <= t {
            below += asc(i);
            i += 1;
        }
        let y = if i < n {
            (below as f64 + (t - i as f64) * asc(i) as f64) / total
        } else {
            1.0
        };
        out.push([x, y]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::NONE;

    fn run(codes: &[u32], n: usize) -> Pareto {
        let c = EntityCounts::from_codes(codes, n, 0..codes.len());
        pareto(&c, &Dict::default(), &ParetoOptions::default())
    }

    #[test]
    fn equal_entities_have_no_concentration() {
        let codes: Vec<u32> = (0..100).map(|i| i % 10).collect();
        let p = run(&codes, 10);
        assert_eq!((p.entities, p.contacts, p.top20_entities), (10, 100, 2));
        assert_eq!(p.top20_share, Some(0.2));
        assert_eq!(p.k80, Some(8));
        assert!(p.gini.unwrap().abs() < 1e-12);
        for [x, y] in &p.lorenz {
            assert!((x - y).abs() < 1e-12);
        }
        assert_eq!(p.lorenz.len(), 101);
    }

    #[test]
    fn zero_entities_and_unattributed_contacts() {
        let p = run(&[NONE, 7, NONE], 3);
        assert!(p.quality.no_data);
        assert_eq!((p.unattributed, p.top20_share, p.gini), (3, None, None));
        let one = run(&[1, 1, 1], 3);
        assert_eq!((one.entities, one.k80, one.gini), (1, Some(1), Some(0.0)));
        assert!(one.quality.small_sample);
    }

    #[test]
    fn chunked_counts_merge() {
        let codes: Vec<u32> = (0..1000u32).map(|i| (i * i) % 17).collect();
        let whole = EntityCounts::from_codes(&codes, 17, 0..1000);
        let mut a = EntityCounts::from_codes(&codes, 17, 0..400);
        a.merge(&EntityCounts::from_codes(&codes, 17, 400..1000));
        assert_eq!(a, whole);
    }
}
