//! Do the 90% intervals cover the true value 90% of the time?
//!
//! Each check draws 10,000 seeded samples from a known distribution and counts how often the
//! interval contains the true value. If an interval's coverage is exactly 90%, the observed rate
//! has a binomial standard deviation of sqrt(0.9 · 0.1 / 10,000) = 0.3 percentage points, so the
//! accepted band 88-92% is ±6.7 standard deviations: a correct interval fails it with
//! probability below 1e-10, while the usual mistakes (a 95% or 80% quantile, a variance off by a
//! factor of 1.5, a binomial variance in place of the trinomial one) move coverage by 3 points or
//! more and fail. The approximate intervals (normal, Wilson) have exact coverage within about a
//! point of nominal at the sample sizes used here, inside the band. The draws are seeded, so the test is
//! deterministic.

use hearken_engine::scores::{self, CesTally, CsatTally, NpsTally, ScoreOptions};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const REPS: usize = 10_000;

/// Draws a category from cumulative probabilities.
fn draw(rng: &mut Xoshiro256PlusPlus, cum: &[f64]) -> usize {
    let u: f64 = rng.random();
    cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1)
}

fn cumulative(p: &[f64]) -> Vec<f64> {
    p.iter()
        .scan(0.0, |s, x| {
            *s += x;
            Some(*s)
        })
        .collect()
}

#[track_caller]
fn assert_band(covered: usize, what: &str) {
    let rate = covered as f64 / REPS as f64;
    assert!((0.88..=0.92).contains(&rate), "{what}: coverage {rate}");
}

#[test]
fn nps_interval_covers_90_percent() {
    // Scores 0..10; detractors 25%, passives 35%, promoters 40%: true NPS 15.
    let mut p = [0.25 / 7.0; 11];
    p[7] = 0.175;
    p[8] = 0.175;
    p[9] = 0.2;
    p[10] = 0.2;
    let cum = cumulative(&p);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let opts = ScoreOptions::default();
    let mut covered = 0;
    for _ in 0..REPS {
        let mut t = NpsTally::default();
        for _ in 0..200 {
            t.push(draw(&mut rng, &cum) as u8, 0);
        }
        let e = scores::nps(&t, &opts);
        covered += usize::from(e.low.unwrap() <= 15.0 && 15.0 <= e.high.unwrap());
    }
    assert_band(covered, "nps n=200");
}

#[test]
fn nps_change_interval_covers_90_percent() {
    // Before: true NPS 15 (as above); after: 25% / 30% / 45%, true NPS 20; difference 5.
    let before = cumulative(&[0.25, 0.35, 0.40]);
    let after = cumulative(&[0.25, 0.30, 0.45]);
    let code = [0u8, 7, 9];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let opts = ScoreOptions::default();
    let mut covered = 0;
    for _ in 0..REPS {
        let (mut b, mut a) = (NpsTally::default(), NpsTally::default());
        for _ in 0..150 {
            b.push(code[draw(&mut rng, &before)], 0);
        }
        for _ in 0..250 {
            a.push(code[draw(&mut rng, &after)], 0);
        }
        let c = scores::nps_change(&b, &a, &opts);
        covered += usize::from(c.low.unwrap() <= 5.0 && 5.0 <= c.high.unwrap());
    }
    assert_band(covered, "nps change");
}

#[test]
fn wilson_interval_covers_90_percent() {
    // P(satisfied) = 0.7 on n = 200. A discrete interval's coverage oscillates with n and p
    // (Brown, Cai & DasGupta 2001): Wilson's exact 90% coverage is 88.0% at n = 60, p = 0.7 but
    // 89.5% at n = 200 (binomial sum, statsmodels), so n = 200 tests the code, not the
    // oscillation.
    let cum = cumulative(&[0.1, 0.1, 0.1, 0.4, 0.3]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let opts = ScoreOptions::default();
    let mut covered = 0;
    for _ in 0..REPS {
        let mut t = CsatTally::default();
        for _ in 0..200 {
            t.push(draw(&mut rng, &cum) as u8 + 1, 1);
        }
        let e = scores::csat(&t, &opts);
        covered += usize::from(e.low.unwrap() <= 70.0 && 70.0 <= e.high.unwrap());
    }
    assert_band(covered, "csat n=200");
}

#[test]
fn t_interval_covers_90_percent() {
    let p = [0.05, 0.05, 0.1, 0.2, 0.25, 0.2, 0.15];
    let mean: f64 = p.iter().enumerate().map(|(i, q)| (i + 1) as f64 * q).sum();
    let cum = cumulative(&p);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let opts = ScoreOptions::default();
    let mut covered = 0;
    for _ in 0..REPS {
        let mut t = CesTally::default();
        for _ in 0..40 {
            t.push(draw(&mut rng, &cum) as u8 + 1, 1);
        }
        let e = scores::ces(&t, &opts);
        covered += usize::from(e.low.unwrap() <= mean && mean <= e.high.unwrap());
    }
    assert_band(covered, "ces n=40");
}
