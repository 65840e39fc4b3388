//! Properties over arbitrary input: no panics, chunking does not change results, and the linear
//! repeat-contact scan agrees with a direct quadratic definition.

use hearken_engine::keys::Period;
use hearken_engine::pareto::{self, EntityCounts, ParetoOptions};
use hearken_engine::repeats::repeat_flags;
use hearken_engine::scores::{self, NpsTally, ScoreOptions};
use hearken_engine::{Dict, NONE, Partial};
use proptest::prelude::*;

/// The definition, row by row: the previous contact of the same customer on the same topic in
/// (time, row) order, and whether it is at most `window` days earlier.
fn naive_flags(
    at: &[i64],
    customer: &[u32],
    topic: &[u32],
    nc: usize,
    nt: usize,
    window: u32,
) -> Vec<Option<bool>> {
    (0..at.len())
        .map(|i| {
            if customer[i] as usize >= nc || topic[i] as usize >= nt {
                return None;
            }
            let prev = (0..at.len())
                .filter(|&j| customer[j] == customer[i] && topic[j] == topic[i])
                .filter(|&j| (at[j], j) < (at[i], i))
                .max_by_key(|&j| (at[j], j));
            Some(prev.is_some_and(|j| at[i] - at[j] <= i64::from(window) * 86_400))
        })
        .collect()
}

fn code(max: u32) -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0..max, 1 => Just(NONE), 1 => max..max + 3]
}

proptest! {
    #[test]
    fn scores_never_panic_and_intervals_bracket(values in prop::collection::vec(any::<u8>(), 0..300)) {
        let t = NpsTally::from_column(&values, 0, 0..values.len());
        prop_assert_eq!(t.n() + t.missing + t.invalid, values.len() as u64);
        let e = scores::nps(&t, &ScoreOptions::default());
        prop_assert_eq!(e.nps.is_none(), t.n() == 0);
        if let (Some(v), Some(l), Some(h)) = (e.nps, e.low, e.high) {
            prop_assert!(-100.0 <= l && l <= v && v <= h && h <= 100.0);
        }
        let c = scores::csat(&scores::CsatTally::from_column(&values, 1, 0..values.len()), &ScoreOptions::default());
        if let (Some(v), Some(l), Some(h)) = (c.csat, c.low, c.high) {
            prop_assert!(0.0 <= l && l <= v && v <= h && h <= 100.0);
        }
        let _ = scores::ces(&scores::CesTally::from_column(&values, 1, 0..values.len()), &ScoreOptions::default());
    }

    #[test]
    fn tallies_do_not_depend_on_chunking(values in prop::collection::vec(0u8..12, 0..200), cut in 0usize..200) {
        let cut = cut.min(values.len());
        let whole = NpsTally::from_column(&values, 0, 0..values.len());
        let mut parts = NpsTally::from_column(&values, 0, 0..cut);
        parts.merge(&NpsTally::from_column(&values, 0, cut..values.len()));
        prop_assert_eq!(whole, parts);
    }

    #[test]
    fn repeat_scan_equals_the_definition(
        rows in prop::collection::vec((0i64..40 * 86_400, code(4), code(3)), 0..60),
        window in 0u32..10,
    ) {
        let at: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let customer: Vec<u32> = rows.iter().map(|r| r.1).collect();
        let topic: Vec<u32> = rows.iter().map(|r| r.2).collect();
        let fast = repeat_flags(&at, &customer, &topic, 4, 3, window).unwrap();
        prop_assert_eq!(fast, naive_flags(&at, &customer, &topic, 4, 3, window));
    }

    #[test]
    fn pareto_figures_stay_in_range(codes in prop::collection::vec(code(30), 0..400)) {
        let counts = EntityCounts::from_codes(&codes, 30, 0..codes.len());
        let p = pareto::pareto(&counts, &Dict::default(), &ParetoOptions::default());
        prop_assert_eq!(p.contacts + p.unattributed, codes.len() as u64);
        if let (Some(share), Some(k80), Some(gini)) = (p.top20_share, p.k80, p.gini) {
            prop_assert!((0.2 - 1e-12..=1.0).contains(&share) || p.entities < 5);
            prop_assert!(k80 >= 1 && k80 <= p.entities);
            prop_assert!((-1e-12..1.0).contains(&gini));
            prop_assert!(p.lorenz.windows(2).all(|w| w[0][1] <= w[1][1] + 1e-12));
            prop_assert!(p.lorenz.iter().all(|[x, y]| *y <= *x + 1e-12));
        }
    }

    #[test]
    fn periods_contain_their_times(t in -3_000_000_000i64..6_000_000_000) {
        for p in [Period::Day, Period::Week, Period::Month] {
            let i = p.index(t);
            prop_assert!(p.start(i) <= t && t < p.start(i + 1), "{:?} {}", p, t);
        }
    }
}
