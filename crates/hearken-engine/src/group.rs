//! The one group-by every sliced number goes through.
//!
//! A dimension (segment, product, channel, team, agent, period, cohort, tenure band, lifecycle
//! stage, …) is a column of dense `u32` codes plus the [`Dict`] naming them (see [`crate::keys`]
//! for the derived ones). An aggregate is a *partial state* that can absorb rows and be merged
//! with another ([`Partial`]). [`Grouped`] holds one state per code in a `Vec`, so a row costs an
//! array index, never a hash; rows whose code is [`NONE`] or outside the dictionary land in one
//! extra `none` state, so no row is dropped silently. Because states merge, a frame can be folded
//! in chunks on several threads ([`par_fold`]) and combined.

use std::ops::Range;

use serde::Serialize;

use crate::frame::{Dict, NONE};

/// An aggregate that can be computed on parts of the data and combined.
///
/// `merge` must be associative and commutative with `Default` as identity, so the result does
/// not depend on how the rows were split.
pub trait Partial: Default + Clone + Send {
    fn merge(&mut self, other: &Self);
}

/// One partial state per group code, plus the state of rows without a usable code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grouped<S> {
    pub groups: Vec<S>,
    /// Rows whose code was [`NONE`] or not in the dictionary.
    pub none: S,
}

impl<S: Partial> Grouped<S> {
    pub fn new(n_groups: usize) -> Grouped<S> {
        Grouped {
            groups: vec![S::default(); n_groups],
            none: S::default(),
        }
    }

    /// The state a row with `code` adds to.
    #[inline]
    pub fn slot(&mut self, code: u32) -> &mut S {
        match self.groups.get_mut(code as usize) {
            Some(s) if code != NONE => s,
            _ => &mut self.none,
        }
    }

    /// The state of a group, `None` for a code the dictionary does not have.
    pub fn get(&self, code: u32) -> Option<&S> {
        self.groups.get(code as usize)
    }

    /// The state of the group called `name`, `None` when the dictionary has no such name.
    pub fn find(&self, dict: &Dict, name: &str) -> Option<&S> {
        let code = dict.names.iter().position(|n| n == name)?;
        self.groups.get(code)
    }

    /// Every group's state merged with the `none` rows: the whole selection.
    pub fn total(&self) -> S {
        let mut t = self.none.clone();
        for g in &self.groups {
            t.merge(g);
        }
        t
    }
}

impl<S: Partial> Partial for Grouped<S> {
    fn merge(&mut self, other: &Self) {
        if self.groups.len() < other.groups.len() {
            self.groups.resize(other.groups.len(), S::default());
        }
        for (a, b) in self.groups.iter_mut().zip(&other.groups) {
            a.merge(b);
        }
        self.none.merge(&other.none);
    }
}

/// Folds `rows` into one state per code of `keys`: `add(state, row)` is called once per row.
/// `n_groups` is the dictionary's size.
pub fn fold_grouped<S: Partial>(
    keys: &[u32],
    n_groups: usize,
    rows: Range<usize>,
    mut add: impl FnMut(&mut S, usize),
) -> Grouped<S> {
    let mut out = Grouped::new(n_groups);
    let end = rows.end.min(keys.len());
    for (row, &code) in keys.iter().enumerate().take(end).skip(rows.start) {
        add(out.slot(code), row);
    }
    out
}

/// Runs `fold` on `threads` contiguous chunks of `0..len` at once (scoped threads, nothing
/// outlives the call) and merges the results in chunk order. `threads <= 1` or a small `len`
/// runs inline.
pub fn par_fold<S: Partial>(
    len: usize,
    threads: usize,
    fold: impl Fn(Range<usize>) -> S + Sync,
) -> S {
    // Below this a thread costs more than it saves.
    const MIN_CHUNK: usize = 64 * 1024;
    let threads = threads.clamp(1, (len / MIN_CHUNK).max(1));
    if threads == 1 {
        return fold(0..len);
    }
    let chunk = len.div_ceil(threads);
    let fold = &fold;
    let parts: Vec<S> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let r = (i * chunk).min(len)..((i + 1) * chunk).min(len);
                scope.spawn(move || fold(r))
            })
            .collect();
        handles
            .into_iter()
            // A worker only panics if `fold` does; re-raise it on the caller's thread rather than
            // return a partial result.
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out = S::default();
    for p in &parts {
        out.merge(p);
    }
    out
}

/// One group's estimate, named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupEstimate<T> {
    /// The group's name; `(none)` for rows without a value in the grouping column.
    pub group: String,
    /// The group's code in its dictionary; absent for the `(none)` group.
    pub code: Option<u32>,
    #[serde(flatten)]
    pub estimate: T,
}

/// The name used for rows without a value in the grouping column.
pub const NONE_GROUP: &str = "(none)";

/// Turns grouped states into named estimates. Groups for which `is_empty` holds are skipped
/// (a dictionary often names more entities than the window has), and so is the `none` group
/// when empty; the order is the dictionary's.
pub fn estimates<S, T>(
    grouped: &Grouped<S>,
    dict: &Dict,
    is_empty: impl Fn(&S) -> bool,
    estimate: impl Fn(&S) -> T,
) -> Vec<GroupEstimate<T>> {
    let mut out: Vec<GroupEstimate<T>> = grouped
        .groups
        .iter()
        .enumerate()
        .filter(|(_, s)| !is_empty(s))
        .map(|(code, s)| GroupEstimate {
            group: dict
                .name(code as u32)
                .map_or_else(|| format!("#{code}"), str::to_string),
            code: Some(code as u32),
            estimate: estimate(s),
        })
        .collect();
    if !is_empty(&grouped.none) {
        out.push(GroupEstimate {
            group: NONE_GROUP.to_string(),
            code: None,
            estimate: estimate(&grouped.none),
        });
    }
    out
}

/// A plain count, the simplest partial state.
impl Partial for u64 {
    fn merge(&mut self, other: &Self) {
        *self += *other;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_codes_land_in_none() {
        let keys = [0, 1, NONE, 7, 1];
        let g: Grouped<u64> = fold_grouped(&keys, 2, 0..keys.len(), |s, _| *s += 1);
        assert_eq!(g.groups, vec![1, 2]);
        assert_eq!(g.none, 2);
        assert_eq!(g.get(9), None);
        assert_eq!(g.total(), 5);
    }

    #[test]
    fn parallel_fold_equals_sequential() {
        let keys: Vec<u32> = (0..300_000u32).map(|i| i % 13).collect();
        let seq: Grouped<u64> = fold_grouped(&keys, 13, 0..keys.len(), |s, r| *s += r as u64);
        let par = par_fold(keys.len(), 3, |r| {
            fold_grouped::<u64>(&keys, 13, r, |s, row| *s += row as u64)
        });
        assert_eq!(seq, par);
    }

    #[test]
    fn merge_grows_to_the_larger_dictionary() {
        let mut a: Grouped<u64> = Grouped::new(1);
        *a.slot(0) = 2;
        let mut b: Grouped<u64> = Grouped::new(3);
        *b.slot(2) = 5;
        a.merge(&b);
        assert_eq!(a.groups, vec![2, 0, 5]);
    }
}
