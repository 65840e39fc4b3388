//! A small synthetic organisation with known churn, and fixture loading.
//!
//! Customers contact at their own rate; a customer's satisfaction sets the tone of its contacts
//! and its NPS answers and, with it, its chance to churn. A churner sends one or two negative
//! complaints 10 to 45 days before its churn date and is then silent (the warning the early
//! warning must find), like the generator in hearken-gen but small enough for debug-build tests.

use std::path::PathBuf;

use hearken_engine::risk::{CaseStep, CaseSteps, RiskData, RiskIndex};
use hearken_engine::{CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
use serde_json::Value;

pub const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z.
pub const START: i64 = 1_704_067_200;

pub fn reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/risk/reference.json");
    let text = std::fs::read_to_string(&path).expect("fixture reference.json");
    serde_json::from_str(&text).expect("reference.json is JSON")
}

/// `a` equals the reference `b` to ~1e-9 relative.
#[track_caller]
pub fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: engine {a} vs reference {b}"
    );
}

/// SplitMix64: a tiny seeded generator (the tests need no statistics from it, only variety).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.f() * (hi - lo) as f64) as i64
    }
}

/// The frames of a synthetic organisation.
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub signals: SignalFrame,
    pub surveys: SurveyFrame,
    pub customers: CustomerFrame,
    pub cases: CaseSteps,
}

impl Org {
    pub fn index(&self) -> RiskIndex {
        RiskIndex::build(&RiskData {
            signals: &self.signals,
            surveys: &self.surveys,
            customers: &self.customers,
            cases: &self.cases,
        })
        .expect("frames of equal lengths")
    }

    /// The same organisation with only the rows before `t` (churn dates kept).
    pub fn before(&self, t: i64) -> Org {
        let rows: Vec<usize> = (0..self.signals.at.len())
            .filter(|&r| self.signals.at[r] < t)
            .collect();
        let answers: Vec<usize> = (0..self.surveys.at.len())
            .filter(|&r| self.surveys.at[r] < t)
            .collect();
        let mut cases = CaseSteps::default();
        for i in 0..self.cases.at.len() {
            if self.cases.at[i] < t {
                cases.case.push(self.cases.case[i]);
                cases.at.push(self.cases.at[i]);
                cases.step.push(self.cases.step[i]);
            }
        }
        Org {
            signals: self.signals.select(&rows),
            surveys: self.surveys.select(&answers),
            customers: self.customers.clone(),
            cases,
        }
    }
}

const COMPLAINT: u8 = 2;
const QUESTION: u8 = 1;

/// `n` customers over `days` days from [`START`].
pub fn org(seed: u64, n: usize, days: i64) -> Org {
    let mut rng = Rng::new(seed);
    let end = START + days * DAY;
    let mut o = Org::default();
    o.signals.customers = Dict {
        names: (0..n).map(|i| format!("C{i:04}")).collect(),
    };
    o.signals.topics = Dict {
        names: ["billing", "network", "contract", "device", "app"]
            .map(String::from)
            .to_vec(),
    };
    o.customers.segments = Dict {
        names: vec!["consumer".into(), "business".into()],
    };
    let mut cases = 0u32;
    let mut rows: Vec<(i64, u32, u8, u32, f32, u32)> = Vec::new();
    for c in 0..n as u32 {
        let satisfaction = rng.f();
        let rate = 0.01 + 0.15 * rng.f() * rng.f();
        let business = rng.f() < 0.3;
        o.customers.segment.push(u32::from(business));
        o.customers.persona.push(NONE);
        o.customers.since.push(START - rng.range(-200, 2000) * DAY);
        o.customers.value_per_year.push(if rng.f() < 0.05 {
            f64::NAN
        } else {
            (200.0 + 2000.0 * rng.f()).round()
        });
        o.customers.white_glove.push(business && rng.f() < 0.3);
        let churn = (rng.f() < 0.6 * (1.0 - satisfaction))
            .then(|| (START + rng.range(70, days) * DAY) / DAY * DAY);
        o.customers.churned_at.push(churn.unwrap_or(i64::MIN));
        let active_end = churn.map_or(end, |ch| ch - rng.range(7, 21) * DAY);
        let mut t = START + (rng.f() * 10.0 / rate) as i64 * DAY / 10;
        while t < active_end {
            let negative = rng.f() < 0.4 * (1.0 - satisfaction);
            let kind = if negative && rng.f() < 0.6 {
                COMPLAINT
            } else {
                QUESTION
            };
            let sentiment = if negative {
                -0.2 - 0.6 * rng.f() as f32
            } else {
                0.6 * rng.f() as f32 - 0.1
            };
            let case = if kind == COMPLAINT && rng.f() < 0.5 {
                cases += 1;
                cases - 1
            } else {
                NONE
            };
            rows.push((t, c, kind, rng.range(0, 5) as u32, sentiment, case));
            t += (-(1.0 - rng.f()).ln() / rate * DAY as f64) as i64 + 3600;
        }
        if let Some(ch) = churn {
            for _ in 0..1 + rng.range(0, 2) {
                let w = ch - rng.range(10, 45) * DAY;
                if w > START && w < active_end {
                    cases += 1;
                    rows.push((w, c, COMPLAINT, rng.range(0, 5) as u32, -0.8, cases - 1));
                }
            }
        }
        // NPS answers, about one in 100 days; low before a churn.
        let mut t = START + rng.range(0, 100) * DAY;
        while t < active_end {
            let low = churn.is_some_and(|ch| ch - t < 60 * DAY) && rng.f() < 0.5;
            let nps = ((10.0 * satisfaction + 2.0 * rng.f() - 1.0).round() as i64
                - if low { 4 } else { 0 })
            .clamp(0, 10) as u8;
            o.surveys.at.push(t);
            o.surveys.customer.push(c);
            o.surveys.nps.push(nps);
            o.surveys.overall.push(f32::from(nps));
            t += rng.range(60, 140) * DAY;
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    for (at, c, kind, topic, sentiment, case) in rows {
        o.signals.at.push(at);
        o.signals.customer.push(c);
        o.signals.kind.push(kind);
        o.signals.topic.push(topic);
        o.signals.sentiment.push(sentiment);
        o.signals.case.push(case);
        if case != NONE {
            o.cases.case.push(case);
            o.cases.at.push(at + 600);
            o.cases.step.push(CaseStep::Other);
            let escalate = rng.f() < 0.2;
            if escalate {
                o.cases.case.push(case);
                o.cases.at.push(at + DAY);
                o.cases.step.push(CaseStep::Escalated);
            }
            if rng.f() < 0.85 {
                o.cases.case.push(case);
                o.cases.at.push(at + rng.range(1, 20) * DAY);
                o.cases.step.push(CaseStep::Closed);
            }
        }
    }
    o.signals.cases = Dict {
        names: (0..cases).map(|k| format!("K{k}")).collect(),
    };
    o
}
