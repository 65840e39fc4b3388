//! Null calibration of the volume method on simulated series: with no effect, how often is the
//! change "significant at 0.10"? Daily counts are Poisson or gamma-Poisson (overdispersed), with
//! a weekly cycle, optionally serially correlated; the engine sees the events. Run with
//! `--nocapture` to see the rates (docs/effects.md quotes them).
//!
//! The rates are estimated from 400 simulated actions each (standard error 1.5 points at 10%);
//! the bounds [0.06, 0.14] are about 2.7 standard errors either side of the level. The simulation
//! is seeded, so the test is deterministic; it fails if the method's null rate drifts away from
//! its level, for independent, overdispersed or serially correlated days (since 2026-12-05, when
//! the weekly variance allows for correlated adjacent weeks: with weeks taken as independent,
//! `WeekCorrelation::Off`, days correlated at AR(1) 0.7 gave 15%).

use hearken_engine::effect::{EffectOptions, Metric, Observations, Scope, effect};
use hearken_engine::{Dict, Level};

const DAY: i64 = 86_400;
const AT: i64 = 1_706_486_400; // 2024-01-29, a Monday

/// SplitMix64 uniforms, Box-Muller normals, Marsaglia-Tsang gammas, Poisson by inversion.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn poisson(&mut self, lambda: f64) -> u64 {
        let (mut k, mut p, limit) = (0, 1.0, (-lambda).exp());
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

struct Setting {
    name: &'static str,
    /// Log-sd of the daily rate multiplier (0: Poisson).
    sd: f64,
    /// AR(1) coefficient of the multiplier from day to day.
    rho: f64,
    /// Whether the rate must hold (asserted) or is only reported.
    assert: bool,
}

fn null_rates(s: &Setting, reps: usize, seed: u64) -> (f64, f64) {
    let mut rng = Rng(seed);
    let groups = Dict {
        names: (0..6).map(|i| format!("topic{i}")).collect(),
    };
    let weekly = [1.2, 1.1, 1.0, 1.0, 1.1, 0.5, 0.4];
    let (mut naive, mut did, mut n) = (0, 0, 0);
    for _ in 0..reps {
        let (mut at, mut group) = (Vec::new(), Vec::new());
        for g in 0..6u32 {
            let base = 12.0 * (1.0 + 0.15 * f64::from(g));
            let mut z = rng.normal();
            for d in -28i64..28 {
                z = s.rho * z + (1.0 - s.rho * s.rho).sqrt() * rng.normal();
                let m = (s.sd * z - s.sd * s.sd / 2.0).exp();
                let lambda = base * weekly[d.rem_euclid(7) as usize] * m;
                for i in 0..rng.poisson(lambda) {
                    at.push(AT + d * DAY + 60 * i as i64);
                    group.push(g);
                }
            }
        }
        let obs = Observations {
            at: &at,
            group: &group,
            value: &[],
            cluster: &[],
            groups: &groups,
        };
        let scope = Scope {
            treated: vec![0],
            linked: vec![],
        };
        let opts = EffectOptions {
            level: Level::NINETY,
            ..EffectOptions::around(AT)
        };
        let e = effect(Metric::Volume, &obs, &scope, &opts).expect("valid request");
        n += 1;
        naive += usize::from(e.estimate.significant == Some(true));
        did += usize::from(e.did.estimate.significant == Some(true));
    }
    (naive as f64 / n as f64, did as f64 / n as f64)
}

#[test]
fn volume_null_changes_are_significant_about_as_often_as_the_level_says() {
    let settings = [
        Setting {
            name: "poisson",
            sd: 0.0,
            rho: 0.0,
            assert: true,
        },
        Setting {
            name: "overdispersed (log-sd 0.3)",
            sd: 0.3,
            rho: 0.0,
            assert: true,
        },
        Setting {
            name: "overdispersed, AR(1) 0.5",
            sd: 0.3,
            rho: 0.5,
            assert: true,
        },
        Setting {
            name: "overdispersed, AR(1) 0.7",
            sd: 0.3,
            rho: 0.7,
            assert: true,
        },
    ];
    for (i, s) in settings.iter().enumerate() {
        let (naive, did) = null_rates(s, 400, 1000 + i as u64);
        println!(
            "{:<28} null significant at 0.10: before/after {naive:.3}, did {did:.3}",
            s.name
        );
        if s.assert {
            assert!((0.06..=0.14).contains(&naive), "{}: naive {naive}", s.name);
            assert!((0.06..=0.14).contains(&did), "{}: did {did}", s.name);
        }
    }
}
