//! Validation of Hearken's effect measurement (hearken_engine::effect) on generated data, the
//! figures of docs/validation.md:
//!
//! (a) recovery: the generator injects an improvement of each kind (volume, sentiment, repeat
//!     rate, NPS of a segment, time in a stage); is the true change (truth.json `effects`) inside
//!     the 90% interval, and is the estimate within 10% of it?
//! (b) null: actions on topics, segments and stages with no injected change, many seeds and
//!     dates; how often is the change "significant at 0.10"? (target 8-12%, with its binomial
//!     interval)
//! (c) season: every topic's volume falls by a quarter on the action's date, and the action's
//!     topic by 40% more; the naive before/after credits the season to the action, the
//!     difference-in-differences should not.
//!
//! (r) diagnostics of the repeat-rate recovery (not part of `all`): the estimate, its standard
//!     error and the truth per seed; the spread over 20 disjoint groups of customers against
//!     their standard errors; the DiD against every unlinked topic; the null topics' changes.
//!     `HEARKEN_R_WITH=improvement,sentiment,nps,stage` adds the other effects of (a);
//!     `HEARKEN_R_AFTER=91` measures the after window to the end of the data, the span the
//!     truth covers (the 56-day figures are printed alongside); `--reuse` reads data sets kept
//!     by an earlier run with `HEARKEN_R_KEEP=1`.
//!
//! cargo run --release -p hearken-gen --example effect_validation -- [--part a|b|c|r|all]
//!     [--seeds N] [--customers N] [--first-seed N] [--org stationary|growing|both]
//!     [--noise off|on|both] [--out DIR] [--reuse]
//!
//! `--first-seed N` shifts every part's seeds (N = 1 gives the default ones: (a) 1.., (b)
//! 101.., (c) 201..; N = 2001 gives 2001.., 2101.., 2201..), for a report on data sets the
//! method was not chosen on. (b) runs on a stationary organisation (`GenConfig::stationary`:
//! nobody joins or churns, so an untouched topic has no real change to find) and on the
//! generator's default growing one (a before/after there reports the real drift), each without
//! and with day-to-day volume noise; `--org` and `--noise` pick some of them. Every line of (b)
//! also prints `estimate / se` over the null actions (mean 0, standard deviation 1 when the
//! standard error is right).
//!
//! (b) prints every rate twice: with its binomial interval and clustered by seed (the actions
//! of one data set share it, so they are not independent draws).
//!
//! Diagnostics: `HEARKEN_VARIANCE=cr1|cr2|cr3` the cluster-robust variance of shares and means
//! (default the engine's, CR2); `HEARKEN_TIME_CLUSTERS=off|day|week` one-way or two-way (by
//! customer or case and by day or week) for every share and mean (default the engine's: weeks
//! for the repeat rate only); `HEARKEN_WEEK_CORRELATION=off` volume's weeks independent (the
//! method until 2026-12-05); `HEARKEN_VOLUME_CUSTOMERS=off` volume without its customers
//! (the weekly variance alone); `HEARKEN_CONTROLS=all` every eligible group as a control
//! instead of the 5 most similar; `HEARKEN_CASE_CLUSTER=customer` stage visits and cases
//! clustered by the case's customer instead of by case.
//!
//! `HEARKEN_A_FACTOR=1` (a diagnostic) runs (a) with the volume improvement's factor given, e.g.
//! 1 for nothing removed: the treated topic's trend against its controls'.
//!
//! The files are read back the way an import would see them (CSV, VADER on the texts); the
//! mapping to the engine's observations is written out below (what the query layer will do).
//! Every topic is labelled (`labelled_topic_share = 1`) so that what is measured is the effect
//! estimator, not the topic classifier. Nothing here is tuned to the results.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hearken_engine::effect::{
    ClusterVariance, ControlRule, Effect as Measured, EffectOptions, Metric, Observations, Scope,
    Status, TimeClusters, WeekCorrelation, effect, nps_value, repeat_value, sentiment_value,
};
use hearken_engine::repeats::repeat_flags;
use hearken_engine::{Dict, Level, NONE};
use hearken_gen::{
    Effect, GenConfig, Improvement, NpsShift, RepeatShift, Season, SentimentShift, StageTimeShift,
    Truth, VolumeNoise, generate,
};
use hearken_model::{DateOptions, Timestamp};

fn ts(v: &str) -> i64 {
    Timestamp::parse("at", v, &DateOptions::default()).map_or(i64::MIN, Timestamp::unix)
}

/// Dense codes for strings.
#[derive(Default)]
struct Codes {
    map: HashMap<String, u32>,
    dict: Dict,
}

impl Codes {
    fn code(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return NONE;
        }
        if let Some(c) = self.map.get(s) {
            return *c;
        }
        let c = self.dict.names.len() as u32;
        self.dict.names.push(s.to_string());
        self.map.insert(s.to_string(), c);
        c
    }
}

/// Observation columns of one metric.
#[derive(Default)]
struct Cols {
    at: Vec<i64>,
    group: Vec<u32>,
    value: Vec<f64>,
    cluster: Vec<u32>,
}

/// A generated data set mapped to the engine's observations.
struct Data {
    truth: Truth,
    start: i64,
    end: i64,
    topics: Dict,
    segments: Dict,
    stages: Dict,
    /// Signals with a topic: volume (events), net sentiment and repeat rate (values), by topic,
    /// clustered by customer (employees' suggestions each their own cluster).
    signals: Cols,
    repeats: Vec<f64>,
    /// Survey responses by the customer's segment: NPS values, clustered by customer.
    nps: Cols,
    /// Stage visits: time from an event to the case's next event, by the first event's
    /// activity, at the time the stage was entered, clustered by case.
    visits: Cols,
    /// Cases by the topic of their first signal, at the case's first event: transfers
    /// (consecutive events whose known agents differ).
    transfers: Cols,
}

fn read(dir: &Path, file: &str) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new()
        .from_path(dir.join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn load(dir: &Path) -> Data {
    let truth = Truth::from_json(&std::fs::read_to_string(dir.join("truth.json")).expect("truth"))
        .expect("truth.json");
    let (start, end) = (ts(&truth.config.start), ts(&truth.config.end));
    let mut customers = Codes::default();
    let mut segment_of: Vec<u32> = Vec::new();
    let mut segments = Codes::default();
    for r in read(dir, "customers.csv").records() {
        let r = r.expect("customers row");
        let c = customers.code(&r[0]);
        let s = segments.code(&r[2]);
        if segment_of.len() <= c as usize {
            segment_of.resize(c as usize + 1, NONE);
        }
        segment_of[c as usize] = s;
    }
    let mut topics = Codes::default();
    for t in &truth.taxonomy {
        topics.code(t);
    }
    let mut cases = Codes::default();
    let mut case_topic: Vec<u32> = Vec::new();
    // The customer of each case: its first signal's (cases group their customer's contacts).
    let mut case_customer: Vec<u32> = Vec::new();
    let mut s = Cols::default();
    let mut texts = Vec::new();
    let mut s_customer = Vec::new();
    for r in read(dir, "signals.csv").records() {
        let r = r.expect("signals row");
        let topic = topics.code(&r[10]);
        let case = cases.code(&r[7]);
        if case != NONE {
            if case_topic.len() <= case as usize {
                case_topic.resize(case as usize + 1, NONE);
            }
            if case_topic[case as usize] == NONE {
                case_topic[case as usize] = topic;
            }
            if case_customer.len() <= case as usize {
                case_customer.resize(case as usize + 1, NONE);
            }
            if case_customer[case as usize] == NONE {
                case_customer[case as usize] = customers.code(&r[5]);
            }
        }
        if topic == NONE {
            continue;
        }
        let cust = customers.code(&r[5]);
        s.at.push(ts(&r[1]));
        s.group.push(topic);
        s.cluster.push(cust);
        s_customer.push(cust);
        texts.push(r[11].to_string());
    }
    // VADER on every text, as the import scores it, on two threads.
    let half = texts.len() / 2;
    let score = |t: &[String]| -> Vec<f64> {
        t.iter()
            .map(|x| {
                hearken_text::score(x)
                    .sentiment()
                    .map_or(f64::NAN, |v| sentiment_value(v.compound as f32))
            })
            .collect()
    };
    s.value = std::thread::scope(|sc| {
        let a = sc.spawn(|| score(&texts[..half]));
        let mut b = score(&texts[half..]);
        let mut v = a.join().expect("scoring thread");
        v.append(&mut b);
        v
    });
    let n_customers = customers.dict.len();
    let flags = repeat_flags(
        &s.at,
        &s_customer,
        &s.group,
        n_customers,
        topics.dict.len(),
        7,
    )
    .expect("repeat flags");
    let repeats = flags.into_iter().map(repeat_value).collect();

    let mut nps = Cols::default();
    for r in read(dir, "surveys.csv").records() {
        let r = r.expect("surveys row");
        let c = customers.code(&r[2]);
        nps.at.push(ts(&r[1]));
        nps.group
            .push(segment_of.get(c as usize).copied().unwrap_or(NONE));
        nps.value
            .push(r[7].parse::<u8>().map_or(f64::NAN, nps_value));
        nps.cluster.push(c);
    }

    // Case events, in file order within a case (the generator writes them in time order).
    let mut stages = Codes::default();
    let mut by_case: Vec<Vec<(i64, u32, String)>> = Vec::new();
    for r in read(dir, "case_events.csv").records() {
        let r = r.expect("events row");
        let case = cases.code(&r[1]);
        if by_case.len() <= case as usize {
            by_case.resize(case as usize + 1, Vec::new());
        }
        let stage = stages.code(&r[3]);
        by_case[case as usize].push((ts(&r[2]), stage, r[4].to_string()));
    }
    let mut visits = Cols::default();
    let mut transfers = Cols::default();
    // Stage visits and cases are clustered by case, as the query layer does;
    // `HEARKEN_CASE_CLUSTER=customer` clusters them by the case's customer instead (its first
    // signal's; a case with no customer stays its own cluster, numbered after the customers), a
    // diagnostic: whether customers shared across topics and stages move the DiD's variance.
    let by_case_only = std::env::var("HEARKEN_CASE_CLUSTER").as_deref() != Ok("customer");
    let n_cust = customers.dict.len() as u32;
    let cluster_of = |case: usize| -> u32 {
        match case_customer.get(case).copied() {
            Some(c) if c != NONE && !by_case_only => c,
            _ => n_cust + case as u32,
        }
    };
    for (case, evs) in by_case.iter().enumerate() {
        if evs.is_empty() {
            continue;
        }
        let mut n = 0.0;
        for pair in evs.windows(2) {
            visits.at.push(pair[0].0);
            visits.group.push(pair[0].1);
            visits.value.push((pair[1].0 - pair[0].0) as f64);
            visits.cluster.push(cluster_of(case));
            if !pair[0].2.is_empty() && !pair[1].2.is_empty() && pair[0].2 != pair[1].2 {
                n += 1.0;
            }
        }
        transfers.at.push(evs[0].0);
        transfers
            .group
            .push(case_topic.get(case).copied().unwrap_or(NONE));
        transfers.value.push(n);
        transfers.cluster.push(cluster_of(case));
    }
    Data {
        truth,
        start,
        end,
        topics: topics.dict,
        segments: segments.dict,
        stages: stages.dict,
        signals: s,
        repeats,
        nps,
        visits,
        transfers,
    }
}

impl Data {
    fn columns(&self, m: Metric) -> (&Cols, Option<&[f64]>, &Dict) {
        match m {
            Metric::Volume | Metric::NetSentiment => (&self.signals, None, &self.topics),
            Metric::RepeatRate => (&self.signals, Some(&self.repeats), &self.topics),
            Metric::Nps | Metric::Csat => (&self.nps, None, &self.segments),
            Metric::StageTime => (&self.visits, None, &self.stages),
            Metric::TransfersPerCase => (&self.transfers, None, &self.topics),
        }
    }

    /// Measures `metric` for `treated` with `days` either side of `at`.
    fn measure(
        &self,
        metric: Metric,
        treated: u32,
        linked: Vec<u32>,
        at: i64,
        days: u32,
    ) -> Measured {
        self.measure_windows(metric, treated, linked, at, days, days)
    }

    /// As [`Data::measure`], with `before` days before the date and `after` days after it.
    fn measure_windows(
        &self,
        metric: Metric,
        treated: u32,
        linked: Vec<u32>,
        at: i64,
        before: u32,
        after: u32,
    ) -> Measured {
        let (c, values, groups) = self.columns(metric);
        // Diagnostic: HEARKEN_VOLUME_CUSTOMERS=off measures volume without its customers (the
        // weekly variance alone).
        let no_customers = metric == Metric::Volume
            && std::env::var("HEARKEN_VOLUME_CUSTOMERS").as_deref() == Ok("off");
        let obs = Observations {
            at: &c.at,
            group: &c.group,
            value: values.unwrap_or(&c.value),
            cluster: if no_customers { &[] } else { &c.cluster },
            groups,
        };
        let scope = Scope {
            treated: vec![treated],
            linked,
        };
        let opts = EffectOptions {
            before_days: before,
            after_days: after,
            data_from: self.start,
            data_to: self.end,
            level: Level::NINETY,
            controls: ControlRule::Similar {
                max: if std::env::var("HEARKEN_CONTROLS").as_deref() == Ok("all") {
                    usize::MAX
                } else {
                    5
                },
            },
            variance: variance_kind(),
            time_clusters: time_clusters(),
            week_correlation: week_correlation(),
            ..EffectOptions::around(at)
        };
        effect(metric, &obs, &scope, &opts).expect("a well-formed request")
    }

    /// Volume of a topic's signals from customers with even numbers against the same topic's
    /// signals from customers with odd numbers (employees' by row): two halves of one topic
    /// share its trend by construction, so the difference-in-differences has no real change
    /// to find, whatever the generator's topics do over time.
    fn split_placebo(&self, topic: u32, at: i64, days: u32) -> Measured {
        let c = &self.signals;
        let group: Vec<u32> = c
            .group
            .iter()
            .zip(&c.cluster)
            .enumerate()
            .map(|(row, (&g, &cl))| {
                let odd = if cl == NONE { row % 2 } else { cl as usize % 2 };
                g * 2 + odd as u32
            })
            .collect();
        let groups = Dict {
            names: (0..self.topics.len() * 2)
                .map(|i| format!("half{i}"))
                .collect(),
        };
        let no_customers = std::env::var("HEARKEN_VOLUME_CUSTOMERS").as_deref() == Ok("off");
        let obs = Observations {
            at: &c.at,
            group: &group,
            value: &c.value,
            cluster: if no_customers { &[] } else { &c.cluster },
            groups: &groups,
        };
        let scope = Scope {
            treated: vec![topic * 2],
            linked: vec![],
        };
        let opts = EffectOptions {
            before_days: days,
            after_days: days,
            data_from: self.start,
            data_to: self.end,
            level: Level::NINETY,
            controls: ControlRule::Given {
                groups: vec![topic * 2 + 1],
            },
            ..EffectOptions::around(at)
        };
        effect(Metric::Volume, &obs, &scope, &opts).expect("a well-formed request")
    }

    fn code(dict: &Dict, name: &str) -> u32 {
        dict.names
            .iter()
            .position(|n| n == name)
            .map_or(NONE, |p| p as u32)
    }

    /// The other subtopics of the topic's parent: linked, never controls.
    fn siblings(&self, topic: u32) -> Vec<u32> {
        let name = self.topics.name(topic).unwrap_or("");
        let parent = name.split('/').next().unwrap_or("");
        (0..self.topics.len() as u32)
            .filter(|&t| {
                t != topic
                    && self
                        .topics
                        .name(t)
                        .is_some_and(|n| n.split('/').next() == Some(parent))
            })
            .collect()
    }
}

/// Added to every part's seeds (`--first-seed N` makes the first seed N): fresh data sets for a
/// report after a method was chosen on others.
static SEED_OFFSET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The cluster-robust variance of shares and means: the engine's default, or
/// `HEARKEN_VARIANCE=cr1|cr2|cr3` (a diagnostic, to compare them on the same data).
fn variance_kind() -> ClusterVariance {
    match std::env::var("HEARKEN_VARIANCE").as_deref() {
        Ok("cr1") => ClusterVariance::Cr1,
        Ok("cr2") => ClusterVariance::Cr2,
        Ok("cr3") => ClusterVariance::Cr3,
        _ => ClusterVariance::default(),
    }
}

/// The time clusters of shares and means: the engine's default (weeks for the repeat rate), or
/// `HEARKEN_TIME_CLUSTERS=off|day|week` for every share and mean (a diagnostic).
fn time_clusters() -> TimeClusters {
    match std::env::var("HEARKEN_TIME_CLUSTERS").as_deref() {
        Ok("off") => TimeClusters::Off,
        Ok("day") => TimeClusters::Day,
        Ok("week") => TimeClusters::Week,
        _ => TimeClusters::default(),
    }
}

/// `HEARKEN_WEEK_CORRELATION=off` volume's weeks independent (a diagnostic: the method until
/// 2026-12-05).
fn week_correlation() -> WeekCorrelation {
    match std::env::var("HEARKEN_WEEK_CORRELATION").as_deref() {
        Ok("off") => WeekCorrelation::Off,
        _ => WeekCorrelation::default(),
    }
}

fn base(customers: u64, seed: u64) -> GenConfig {
    GenConfig {
        customers,
        months: 6,
        seed: seed + SEED_OFFSET.load(std::sync::atomic::Ordering::Relaxed),
        labelled_topic_share: 1.0,
        spike: None,
        improvement: None,
        threads: 2,
        ..GenConfig::default()
    }
}

fn make(cfg: &GenConfig, dir: &Path) -> Data {
    generate(cfg, dir, &|_| {}).unwrap_or_else(|e| panic!("generate: {e}"));
    load(dir)
}

/// The rate `sum k / sum n` over data sets `(k, n)` with its 95% interval clustered by data set
/// (the ratio estimator's variance `sum (k - rate n)^2 / (S (S - 1))` over the mean `n`, Student
/// t on `S - 1` degrees of freedom).
fn seed_clustered(per: &[(u64, u64)]) -> (f64, f64, f64) {
    let s = per.len() as f64;
    let (k, n): (u64, u64) = per.iter().fold((0, 0), |a, p| (a.0 + p.0, a.1 + p.1));
    if n == 0 || per.len() < 2 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let rate = k as f64 / n as f64;
    let ss: f64 = per
        .iter()
        .map(|&(k, n)| (k as f64 - rate * n as f64).powi(2))
        .sum();
    let se = (ss / (s * (s - 1.0))).sqrt() / (n as f64 / s);
    let q = Level::new(0.95).map_or(1.96, |l| l.t(s - 1.0));
    (rate, rate - q * se, rate + q * se)
}

/// Wilson 95% interval of `k` out of `n`.
fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (p, nf, z) = (k as f64 / n as f64, n as f64, 1.959_963_984_540_054);
    let d = 1.0 + z * z / nf;
    let c = (p + z * z / (2.0 * nf)) / d;
    let h = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / d;
    (c - h, c + h)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.4}"))
}

// ---------------------------------------------------------------- (a)

/// The date of the injected effects of (a) and (r). The truth covers every observation from
/// the date to the end of the data (2025-07-01), the after window the 56 days from the date.
/// Dating the effects 56 days before the end, so that both cover the same days, was tried and
/// is worse: the generated metrics drift over the last months (docs/validation.md).
const RECOVERY_AT: &str = "2025-04-01";

fn recovery_at() -> Option<Timestamp> {
    Timestamp::parse("at", RECOVERY_AT, &DateOptions::default()).ok()
}

const IMPROVED: &str = "billing/double_charge";
const SENTIMENT: &str = "network/slow_speed";
const REPEATS: &str = "product/defect";

fn part_a(seeds: u64, customers: u64, work: &Path) {
    println!(
        "\n(a) recovery of injected effects: {seeds} seeds, {customers} customers, 6 months, 56 days either side of {RECOVERY_AT}"
    );
    println!(
        "metric            seed  true       | before/after: est    low     high    in  10% | did: est    low     high    in  10% | controls"
    );
    let mut tally: HashMap<&'static str, [u64; 5]> = HashMap::new();
    for seed in 1..=seeds {
        let cfg = GenConfig {
            improvement: Some(Improvement {
                topic: IMPROVED.into(),
                at: recovery_at(),
                // Diagnostic only: HEARKEN_A_FACTOR=1 measures the volume's DiD with nothing
                // removed (the treated topic's trend against its controls').
                factor: std::env::var("HEARKEN_A_FACTOR")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.6),
            }),
            sentiment_shift: Some(SentimentShift {
                topic: SENTIMENT.into(),
                at: recovery_at(),
                share: 0.6,
            }),
            repeat_shift: Some(RepeatShift {
                topic: REPEATS.into(),
                at: recovery_at(),
                factor: 0.3,
            }),
            nps_shift: Some(NpsShift {
                segment: "smb".into(),
                at: recovery_at(),
                shift: 1.0,
            }),
            stage_time_shift: Some(StageTimeShift {
                stage: "waiting_on_customer".into(),
                at: recovery_at(),
                factor: 0.7,
            }),
            ..base(customers, seed)
        };
        let d = make(&cfg, &work.join(format!("a{seed}")));
        // Topics touched by any injected effect are never controls.
        let touched: Vec<u32> = [IMPROVED, SENTIMENT, REPEATS]
            .iter()
            .map(|t| Data::code(&d.topics, t))
            .collect();
        for e in &d.truth.effects {
            let (metric, name, group, at, truth, linked) = match e {
                Effect::Improvement {
                    topic,
                    at,
                    true_change,
                    ..
                } => {
                    let g = Data::code(&d.topics, topic);
                    (
                        Metric::Volume,
                        "volume",
                        g,
                        at,
                        *true_change,
                        touched.clone(),
                    )
                }
                Effect::SentimentShift {
                    topic,
                    at,
                    true_change,
                    ..
                } => {
                    let g = Data::code(&d.topics, topic);
                    (
                        Metric::NetSentiment,
                        "net_sentiment",
                        g,
                        at,
                        *true_change,
                        touched.clone(),
                    )
                }
                Effect::RepeatShift {
                    topic,
                    at,
                    true_change,
                    ..
                } => {
                    let g = Data::code(&d.topics, topic);
                    (
                        Metric::RepeatRate,
                        "repeat_rate",
                        g,
                        at,
                        *true_change,
                        touched.clone(),
                    )
                }
                Effect::NpsShift {
                    segment,
                    at,
                    true_change,
                    ..
                } => {
                    let g = Data::code(&d.segments, segment);
                    (Metric::Nps, "nps", g, at, *true_change, vec![])
                }
                Effect::StageTimeShift {
                    stage,
                    at,
                    true_change,
                    ..
                } => {
                    let g = Data::code(&d.stages, stage);
                    (Metric::StageTime, "stage_time", g, at, *true_change, vec![])
                }
                _ => continue,
            };
            let linked: Vec<u32> = linked.into_iter().filter(|&l| l != group).collect();
            let m = d.measure(metric, group, linked, ts(at), 56);
            let check = |low: Option<f64>, high: Option<f64>, est: Option<f64>| {
                let inside = matches!((low, high), (Some(l), Some(h)) if l <= truth && truth <= h);
                let close = est.is_some_and(|x| (x - truth).abs() <= 0.1 * truth.abs());
                (inside, close)
            };
            let (ni, nc) = check(m.estimate.low, m.estimate.high, m.estimate.change);
            let (di, dc) = check(
                m.did.estimate.low,
                m.did.estimate.high,
                m.did.estimate.change,
            );
            let t = tally.entry(name).or_default();
            t[0] += 1;
            t[1] += u64::from(ni);
            t[2] += u64::from(nc);
            t[3] += u64::from(di);
            t[4] += u64::from(dc);
            let yn = |b: bool| if b { "yes" } else { "no " };
            println!(
                "{name:<17} {seed:>4}  {truth:<10.4} | {:>9} {:>7} {:>7} {}  {} | {:>8} {:>7} {:>7} {}  {} | {}",
                fmt(m.estimate.change),
                fmt(m.estimate.low),
                fmt(m.estimate.high),
                yn(ni),
                yn(nc),
                fmt(m.did.estimate.change),
                fmt(m.did.estimate.low),
                fmt(m.did.estimate.high),
                yn(di),
                yn(dc),
                m.did.controls.join(" "),
            );
        }
    }
    println!("\nsummary (a): runs, true inside the 90% interval, estimate within 10% of the truth");
    let mut names: Vec<_> = tally.keys().copied().collect();
    names.sort_unstable();
    for name in names {
        let t = tally[name];
        println!(
            "  {name:<14} runs {}  before/after: inside {}/{} within10% {}/{}  did: inside {}/{} within10% {}/{}",
            t[0], t[1], t[0], t[2], t[0], t[3], t[0], t[4], t[0]
        );
    }
}

// ---------------------------------------------------------------- (b)

#[derive(Default, Clone, Copy)]
struct Rate {
    runs: u64,
    naive: u64,
    did: u64,
    did_runs: u64,
    undefined: u64,
    /// Sums of the estimated changes, for their means: a drift common to the null actions shows
    /// as a mean away from zero.
    naive_sum: f64,
    did_sum: f64,
    /// Sums of z = estimate / standard error (on the estimator's scale) and of z^2: with a
    /// right standard error and no drift, z has mean 0 and standard deviation 1.
    naive_z: [f64; 2],
    did_z: [f64; 2],
}

/// The estimate over its standard error, on the estimator's own scale (log for relative
/// changes).
fn z_of(e: &hearken_engine::effect::Estimate, relative: bool) -> Option<f64> {
    let c = e.change?;
    let se = e.se.filter(|s| *s > 0.0)?;
    Some(if relative { c.ln_1p() } else { c } / se)
}

fn add_z(acc: &mut [f64; 2], z: Option<f64>) {
    if let Some(z) = z {
        acc[0] += z;
        acc[1] += z * z;
    }
}

/// Mean and standard deviation of z from its sums over `n`.
fn z_summary(acc: [f64; 2], n: u64) -> (f64, f64) {
    let n = n.max(1) as f64;
    let mean = acc[0] / n;
    (mean, (acc[1] / n - mean * mean).max(0.0).sqrt())
}

fn part_b(seeds: u64, customers: u64, noise: Option<VolumeNoise>, stationary: bool, work: &Path) {
    let label = if noise.is_some() {
        "with day-to-day volume noise (sd 0.25, rho 0.5, common 0.5)"
    } else {
        "no volume noise"
    };
    let org = if stationary {
        "stationary organisation (nobody joins or churns)"
    } else {
        "growing customer base (the generator's default)"
    };
    println!(
        "\n(b) null scenarios, {org}, {label}: {seeds} seeds from {}, {customers} customers, 28 days either side of 4 dates, every topic / segment / stage",
        101 + SEED_OFFSET.load(std::sync::atomic::Ordering::Relaxed)
    );
    let dates = ["2025-02-05", "2025-03-05", "2025-04-02", "2025-05-07"];
    let metrics = [
        Metric::Volume,
        Metric::NetSentiment,
        Metric::RepeatRate,
        Metric::TransfersPerCase,
        Metric::Nps,
        Metric::StageTime,
    ];
    let mut rates: Vec<Rate> = vec![Rate::default(); metrics.len()];
    let mut placebo = Rate::default();
    // The same per action date, for a drift over the window to show.
    let mut by_date: Vec<Vec<Rate>> = vec![vec![Rate::default(); metrics.len()]; dates.len()];
    // The same per seed: the actions of one data set share it (a stage is treated in one action
    // and a control in others), so the rates' intervals are also given clustered by seed.
    let mut by_seed: Vec<Vec<Rate>> = Vec::new();
    for seed in 1..=seeds {
        by_seed.push(vec![Rate::default(); metrics.len()]);
        let cfg = GenConfig {
            noise: noise.clone(),
            stationary,
            ..base(customers, 100 + seed)
        };
        let d = make(&cfg, &work.join(format!("b{seed}")));
        // Diagnostic: HEARKEN_DUMP_SIGNALS=DIR writes every signal's day (from the data's
        // start), topic and customer, one file per data set.
        if let Some(dir) = std::env::var_os("HEARKEN_DUMP_SIGNALS") {
            let path = PathBuf::from(dir).join(format!(
                "signals_{}_{}.csv",
                cfg.seed,
                if noise.is_some() { "noise" } else { "plain" }
            ));
            let mut text = String::from("day,topic,customer\n");
            for i in 0..d.signals.at.len() {
                text.push_str(&format!(
                    "{},{},{}\n",
                    (d.signals.at[i] - d.start).div_euclid(86_400),
                    d.signals.group[i],
                    d.signals.cluster[i]
                ));
            }
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        for (di, date) in dates.iter().enumerate() {
            let at = ts(date);
            for g in 0..d.topics.len() as u32 {
                let m = d.split_placebo(g, at, 28);
                if m.did.estimate.p_value.is_some() {
                    placebo.did_runs += 1;
                    placebo.did += u64::from(m.did.estimate.significant == Some(true));
                    placebo.did_sum += m.did.estimate.change.unwrap_or(0.0);
                }
            }
            for (mi, &metric) in metrics.iter().enumerate() {
                let groups = d.columns(metric).2.len() as u32;
                for g in 0..groups {
                    let linked = if d.columns(metric).2 == &d.topics {
                        d.siblings(g)
                    } else {
                        vec![]
                    };
                    let m = d.measure(metric, g, linked, at, 28);
                    let r = &mut rates[mi];
                    if m.estimate.status != Status::Estimated || m.estimate.p_value.is_none() {
                        r.undefined += 1;
                        continue;
                    }
                    if m.quality.small_sample {
                        r.undefined += 1;
                        continue;
                    }
                    let relative = metric.scale() == hearken_engine::effect::Scale::Relative;
                    r.runs += 1;
                    r.naive += u64::from(m.estimate.significant == Some(true));
                    r.naive_sum += m.estimate.change.unwrap_or(0.0);
                    add_z(&mut r.naive_z, z_of(&m.estimate, relative));
                    let rd = &mut by_date[di][mi];
                    rd.runs += 1;
                    rd.naive += u64::from(m.estimate.significant == Some(true));
                    rd.naive_sum += m.estimate.change.unwrap_or(0.0);
                    let rs = &mut by_seed[seed as usize - 1][mi];
                    rs.runs += 1;
                    rs.naive += u64::from(m.estimate.significant == Some(true));
                    if m.did.estimate.p_value.is_some() {
                        rs.did_runs += 1;
                        rs.did += u64::from(m.did.estimate.significant == Some(true));
                    }
                    if m.did.estimate.p_value.is_some() {
                        let r = &mut rates[mi];
                        r.did_runs += 1;
                        r.did += u64::from(m.did.estimate.significant == Some(true));
                        r.did_sum += m.did.estimate.change.unwrap_or(0.0);
                        add_z(&mut r.did_z, z_of(&m.did.estimate, relative));
                        rd.did_runs += 1;
                        rd.did += u64::from(m.did.estimate.significant == Some(true));
                        rd.did_sum += m.did.estimate.change.unwrap_or(0.0);
                    }
                }
            }
        }
    }
    println!(
        "metric              actions  before/after signif. at 0.10 [95% CI]  mean change | did actions  did signif. at 0.10 [95% CI]  mean change | skipped (thin or undefined)"
    );
    for (mi, metric) in metrics.iter().enumerate() {
        let r = rates[mi];
        let (nl, nh) = wilson(r.naive, r.runs);
        let (dl, dh) = wilson(r.did, r.did_runs);
        println!(
            "{:<19} {:>7}  {:>6.3} [{:.3}, {:.3}]             {:>9.4}   | {:>7}      {:>6.3} [{:.3}, {:.3}]      {:>9.4}   | {}",
            metric.name(),
            r.runs,
            r.naive as f64 / r.runs.max(1) as f64,
            nl,
            nh,
            r.naive_sum / r.runs.max(1) as f64,
            r.did_runs,
            r.did as f64 / r.did_runs.max(1) as f64,
            dl,
            dh,
            r.did_sum / r.did_runs.max(1) as f64,
            r.undefined
        );
    }
    let (pl, ph) = wilson(placebo.did, placebo.did_runs);
    println!(
        "volume, a topic's even-numbered customers against its odd-numbered ones (parallel trends by construction): did significant at 0.10 {}/{} = {:.3} [{pl:.3}, {ph:.3}], mean change {:+.4}",
        placebo.did,
        placebo.did_runs,
        placebo.did as f64 / placebo.did_runs.max(1) as f64,
        placebo.did_sum / placebo.did_runs.max(1) as f64
    );
    println!(
        "z = estimate / standard error: mean and standard deviation (1 when the standard error is right), before/after and did"
    );
    for (mi, metric) in metrics.iter().enumerate() {
        let r = rates[mi];
        let (nm, ns) = z_summary(r.naive_z, r.runs);
        let (dm, ds) = z_summary(r.did_z, r.did_runs);
        println!(
            "  {:<19} before/after z mean {nm:+.3} sd {ns:.3} | did z mean {dm:+.3} sd {ds:.3}",
            metric.name()
        );
    }
    println!(
        "clustered by seed (the actions of a data set are not independent): rate and its 95% interval, before/after and did"
    );
    for (mi, metric) in metrics.iter().enumerate() {
        let per: Vec<Rate> = by_seed.iter().map(|r| r[mi]).collect();
        let naive: Vec<(u64, u64)> = per.iter().map(|r| (r.naive, r.runs)).collect();
        let did: Vec<(u64, u64)> = per.iter().map(|r| (r.did, r.did_runs)).collect();
        let (nr, nl, nh) = seed_clustered(&naive);
        let (dr, dl, dh) = seed_clustered(&did);
        println!(
            "  {:<19} before/after {nr:.3} [{nl:.3}, {nh:.3}] | did {dr:.3} [{dl:.3}, {dh:.3}]",
            metric.name()
        );
    }
    println!(
        "by action date: significant at 0.10 before/after, did (mean change before/after, did)"
    );
    for (mi, metric) in metrics.iter().enumerate() {
        let cells: Vec<String> = dates
            .iter()
            .zip(&by_date)
            .map(|(d, r)| {
                let r = r[mi];
                format!(
                    "{d}: {:.3} {:.3} ({:+.4} {:+.4})",
                    r.naive as f64 / r.runs.max(1) as f64,
                    r.did as f64 / r.did_runs.max(1) as f64,
                    r.naive_sum / r.runs.max(1) as f64,
                    r.did_sum / r.did_runs.max(1) as f64
                )
            })
            .collect();
        println!("  {:<19} {}", metric.name(), cells.join("  "));
    }
}

// ---------------------------------------------------------------- (c)

fn part_c(seeds: u64, customers: u64, work: &Path) {
    println!(
        "\n(c) a season (every topic x0.75 from 2025-04-01) and the action (billing/double_charge x0.6: truth.json's true change) on the same date: {seeds} seeds, {customers} customers, 56 days either side"
    );
    println!(
        "seed  true     action: before/after est [low, high]      did est [low, high]     did inside | other topics: n  naive mean  naive signif  did mean  did signif"
    );
    let mut totals = [0u64; 3];
    for seed in 1..=seeds {
        let cfg = GenConfig {
            improvement: Some(Improvement {
                topic: IMPROVED.into(),
                at: None,
                factor: 0.6,
            }),
            season: Some(Season {
                at: None,
                factor: 0.75,
            }),
            ..base(customers, 200 + seed)
        };
        let d = make(&cfg, &work.join(format!("c{seed}")));
        let at = ts("2025-04-01");
        let improved = Data::code(&d.topics, IMPROVED);
        let m = d.measure(Metric::Volume, improved, d.siblings(improved), at, 56);
        let truth = d
            .truth
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::Improvement { true_change, .. } => Some(*true_change),
                _ => None,
            })
            .unwrap_or(f64::NAN);
        let inside = matches!((m.did.estimate.low, m.did.estimate.high), (Some(l), Some(h)) if l <= truth && truth <= h);
        let (mut n, mut naive_sum, mut naive_sig, mut did_sum, mut did_sig) =
            (0u64, 0.0, 0u64, 0.0, 0u64);
        for g in 0..d.topics.len() as u32 {
            if g == improved {
                continue;
            }
            let mut linked = d.siblings(g);
            linked.push(improved);
            let o = d.measure(Metric::Volume, g, linked, at, 56);
            if let (Some(a), Some(b)) = (o.estimate.change, o.did.estimate.change) {
                n += 1;
                naive_sum += a;
                did_sum += b;
                naive_sig += u64::from(o.estimate.significant == Some(true));
                did_sig += u64::from(o.did.estimate.significant == Some(true));
            }
        }
        totals[0] += n;
        totals[1] += naive_sig;
        totals[2] += did_sig;
        println!(
            "{seed:>4}  {truth:+.4}  {:>8} [{}, {}]   {:>8} [{}, {}] {} | {:>3}  {:>9.4}  {:>5}/{:<5}  {:>8.4}  {:>4}/{}",
            fmt(m.estimate.change),
            fmt(m.estimate.low),
            fmt(m.estimate.high),
            fmt(m.did.estimate.change),
            fmt(m.did.estimate.low),
            fmt(m.did.estimate.high),
            if inside { "yes" } else { "no " },
            n,
            naive_sum / n.max(1) as f64,
            naive_sig,
            n,
            did_sum / n.max(1) as f64,
            did_sig,
            n
        );
    }
    let (dl, dh) = wilson(totals[2], totals[0]);
    println!(
        "summary (c): topics the action did not touch, under the season: naive significant {}/{} ({:.3}), did significant {}/{} ({:.3}, 95% CI [{dl:.3}, {dh:.3}])",
        totals[1],
        totals[0],
        totals[1] as f64 / totals[0].max(1) as f64,
        totals[2],
        totals[0],
        totals[2] as f64 / totals[0].max(1) as f64
    );
}

// ---------------------------------------------------------------- (r) repeat-rate diagnostics

/// Mean and sample standard deviation.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// Why the repeat-rate estimate scatters around the truth more than its interval says: per
/// seed, (1) the standard error against the spread of the estimate over 20 disjoint subsets of
/// the customers (customers are independent in the generator, so a correct customer-clustered
/// standard error matches that spread), (2) the null topics' before/after and DiD z-scores.
fn part_r(seeds: u64, customers: u64, work: &Path, reuse: bool) {
    println!("\n(r) repeat-rate diagnostics: {seeds} seeds, {customers} customers");
    const K: u32 = 20;
    // HEARKEN_R_AFTER=91: the after window to the end of the data, the span the truth covers.
    let after: u32 = std::env::var("HEARKEN_R_AFTER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(56);
    let mut zt = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let mut dt = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for seed in 1..=seeds {
        let cfg = GenConfig {
            repeat_shift: Some(RepeatShift {
                topic: REPEATS.into(),
                at: recovery_at(),
                factor: 0.3,
            }),
            ..base(customers, seed)
        };
        // Diagnostic: the other injected effects of (a), named in HEARKEN_R_WITH.
        let with = std::env::var("HEARKEN_R_WITH").unwrap_or_default();
        let cfg = GenConfig {
            improvement: with.contains("improvement").then(|| Improvement {
                topic: IMPROVED.into(),
                at: recovery_at(),
                factor: 0.6,
            }),
            sentiment_shift: with.contains("sentiment").then(|| SentimentShift {
                topic: SENTIMENT.into(),
                at: recovery_at(),
                share: 0.6,
            }),
            nps_shift: with.contains("nps").then(|| NpsShift {
                segment: "smb".into(),
                at: recovery_at(),
                shift: 1.0,
            }),
            stage_time_shift: with.contains("stage").then(|| StageTimeShift {
                stage: "waiting_on_customer".into(),
                at: recovery_at(),
                factor: 0.7,
            }),
            ..cfg
        };
        let dir = work.join(format!("r{seed}"));
        let d = if reuse && dir.join("truth.json").exists() {
            load(&dir)
        } else {
            let d = make(&cfg, &dir);
            // 400,000 customers take 0.8 GB: keep only what --reuse will read.
            if std::env::var_os("HEARKEN_R_KEEP").is_none() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            d
        };
        let at = ts(RECOVERY_AT);
        let treated = Data::code(&d.topics, REPEATS);
        let truth = d
            .truth
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::RepeatShift { true_change, .. } => Some(*true_change),
                _ => None,
            })
            .unwrap_or(f64::NAN);
        let touched: Vec<u32> = [IMPROVED, SENTIMENT]
            .iter()
            .map(|t| Data::code(&d.topics, t))
            .chain(d.siblings(treated))
            .collect();
        let full = d.measure_windows(Metric::RepeatRate, treated, touched.clone(), at, 56, after);
        // The DiD against every topic not linked (no selection on the before window).
        let all = {
            let (c, values, groups) = d.columns(Metric::RepeatRate);
            let obs = Observations {
                at: &c.at,
                group: &c.group,
                value: values.unwrap_or(&c.value),
                cluster: &c.cluster,
                groups,
            };
            let given: Vec<u32> = (0..d.topics.len() as u32)
                .filter(|g| *g != treated && !touched.contains(g))
                .collect();
            let opts = EffectOptions {
                before_days: 56,
                after_days: after,
                data_from: d.start,
                data_to: d.end,
                level: Level::NINETY,
                controls: ControlRule::Given { groups: given },
                ..EffectOptions::around(at)
            };
            let scope = Scope {
                treated: vec![treated],
                linked: touched.clone(),
            };
            effect(Metric::RepeatRate, &obs, &scope, &opts).expect("request")
        };
        let chosen: Vec<String> = full
            .candidates
            .iter()
            .filter(|c| c.chosen)
            .map(|c| format!("{:.1}", c.before_value.unwrap_or(f64::NAN)))
            .collect();
        println!(
            "        treated before {} after {}; chosen controls' before: {}; did against all {} topics {} se {}",
            fmt(full.before.value),
            fmt(full.after.value),
            chosen.join(" "),
            all.did.controls.len(),
            fmt(all.did.estimate.change),
            fmt(all.did.estimate.se)
        );
        // The same with 56 days after, whatever HEARKEN_R_AFTER says, for comparison.
        let full56 = d.measure(Metric::RepeatRate, treated, touched.clone(), at, 56);
        for (i, e) in [
            &full.estimate,
            &full.did.estimate,
            &all.did.estimate,
            &full56.estimate,
            &full56.did.estimate,
        ]
        .into_iter()
        .enumerate()
        {
            if let (Some(x), Some(s)) = (e.change, e.se) {
                zt[i].push((x - truth) / s);
                dt[i].push(x - truth);
            }
        }
        let c = &d.signals;
        let mut est = [Vec::new(), Vec::new()];
        let mut se = [Vec::new(), Vec::new()];
        for k in 0..K {
            let group: Vec<u32> = c
                .group
                .iter()
                .zip(&c.cluster)
                .map(|(&g, &cl)| if cl != NONE && cl % K == k { g } else { NONE })
                .collect();
            let obs = Observations {
                at: &c.at,
                group: &group,
                value: &d.repeats,
                cluster: &c.cluster,
                groups: &d.topics,
            };
            let scope = Scope {
                treated: vec![treated],
                linked: touched.clone(),
            };
            let opts = EffectOptions {
                before_days: 56,
                after_days: after,
                data_from: d.start,
                data_to: d.end,
                level: Level::NINETY,
                controls: ControlRule::Similar { max: 5 },
                ..EffectOptions::around(at)
            };
            let m = effect(Metric::RepeatRate, &obs, &scope, &opts).expect("request");
            for (i, e) in [&m.estimate, &m.did.estimate].into_iter().enumerate() {
                if let (Some(x), Some(s)) = (e.change, e.se) {
                    est[i].push(x);
                    se[i].push(s);
                }
            }
        }
        let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
        let (bm, bsd) = mean_sd(&est[0]);
        let (dm, dsd) = mean_sd(&est[1]);
        println!(
            "seed {seed}: truth {truth:+.3}; full: before/after {} se {} did {} se {}; {K} subsets: before/after mean {bm:+.3} sd {bsd:.3} rms se {:.3} (ratio {:.2}), did mean {dm:+.3} sd {dsd:.3} rms se {:.3} (ratio {:.2})",
            fmt(full.estimate.change),
            fmt(full.estimate.se),
            fmt(full.did.estimate.change),
            fmt(full.did.estimate.se),
            rms(&se[0]),
            bsd / rms(&se[0]),
            rms(&se[1]),
            dsd / rms(&se[1]),
        );
        // Null topics (every topic but the shifted one and its siblings), full data.
        let mut z = [Vec::new(), Vec::new()];
        let mut ch = [Vec::new(), Vec::new()];
        let sib = d.siblings(treated);
        for g in 0..d.topics.len() as u32 {
            if g == treated || sib.contains(&g) {
                continue;
            }
            let mut linked = d.siblings(g);
            linked.push(treated);
            let m = d.measure_windows(Metric::RepeatRate, g, linked, at, 56, after);
            for (i, e) in [&m.estimate, &m.did.estimate].into_iter().enumerate() {
                if let (Some(x), Some(s)) = (e.change, e.se) {
                    z[i].push(x / s);
                    ch[i].push(x);
                }
            }
        }
        let (zm, zsd) = mean_sd(&z[0]);
        let (dzm, dzsd) = mean_sd(&z[1]);
        let sig = |v: &[f64]| v.iter().filter(|x| x.abs() > 1.645).count();
        println!(
            "        null topics ({}): before/after z mean {zm:+.2} sd {zsd:.2} |z|>1.645 {}, mean change {:+.3}; did z mean {dzm:+.2} sd {dzsd:.2} |z|>1.645 {}, mean change {:+.3}",
            z[0].len(),
            sig(&z[0]),
            mean_sd(&ch[0]).0,
            sig(&z[1]),
            mean_sd(&ch[1]).0,
        );
    }
    let inside = |v: &[f64]| v.iter().filter(|z| z.abs() <= 1.645).count();
    for (i, name) in [
        "before/after",
        "did (similar, 5)",
        "did (all topics)",
        "before/after, 56 days after",
        "did (similar, 5), 56 days after",
    ]
    .iter()
    .enumerate()
    {
        let (z, p) = (mean_sd(&zt[i]), mean_sd(&dt[i]));
        println!(
            "{name}: (estimate - truth) over {} seeds: mean {:+.3} sd {:.3} points; / se: mean {:+.2} sd {:.2}; truth inside the 90% interval {}",
            zt[i].len(),
            p.0,
            p.1,
            z.0,
            z.1,
            inside(&zt[i])
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut part = "all".to_string();
    let mut seeds: Option<u64> = None;
    let mut customers: Option<u64> = None;
    let mut out = std::env::temp_dir().join("hearken-effect-validation");
    let mut org = "both".to_string();
    let mut noise_arg = "both".to_string();
    let reuse = args.iter().any(|a| a == "--reuse");
    let args: Vec<String> = args.into_iter().filter(|a| a != "--reuse").collect();
    let mut i = 0;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--part" => part = args[i + 1].clone(),
            "--seeds" => match args[i + 1].parse() {
                Ok(n) => seeds = Some(n),
                Err(_) => {
                    eprintln!("--seeds: '{}' is not a number", args[i + 1]);
                    return ExitCode::FAILURE;
                }
            },
            "--customers" => match args[i + 1].parse() {
                Ok(n) if n > 0 => customers = Some(n),
                _ => {
                    eprintln!("--customers: '{}' is not a positive number", args[i + 1]);
                    return ExitCode::FAILURE;
                }
            },
            "--out" => out = PathBuf::from(&args[i + 1]),
            "--first-seed" => match args[i + 1].parse::<u64>() {
                Ok(n) if n > 0 => {
                    SEED_OFFSET.store(n - 1, std::sync::atomic::Ordering::Relaxed);
                }
                _ => {
                    eprintln!("--first-seed: '{}' is not a positive number", args[i + 1]);
                    return ExitCode::FAILURE;
                }
            },
            "--org" => match args[i + 1].as_str() {
                "stationary" | "growing" | "both" => org = args[i + 1].clone(),
                other => {
                    eprintln!("--org: '{other}'; use stationary, growing or both");
                    return ExitCode::FAILURE;
                }
            },
            "--noise" => match args[i + 1].as_str() {
                "off" | "on" | "both" => noise_arg = args[i + 1].clone(),
                other => {
                    eprintln!("--noise: '{other}'; use off, on or both");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!(
                    "unknown flag {other}; use --part a|b|c|r|all, --seeds N, --customers N, --first-seed N, --org stationary|growing|both, --noise off|on|both, --out DIR, --reuse"
                );
                return ExitCode::FAILURE;
            }
        }
        i += 2;
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    if part == "a" || part == "all" {
        part_a(seeds.unwrap_or(5), customers.unwrap_or(100_000), &out);
    }
    if part == "b" || part == "all" {
        // The null scenarios proper run on a stationary organisation; the growing one (the
        // generator's default) shows what a before/after reports when the base really changes.
        let orgs: &[bool] = match org.as_str() {
            "stationary" => &[true],
            "growing" => &[false],
            _ => &[true, false],
        };
        for &stationary in orgs {
            let noisy = Some(VolumeNoise {
                sd: 0.25,
                rho: 0.5,
                common: 0.5,
            });
            let noises = match noise_arg.as_str() {
                "off" => vec![None],
                "on" => vec![noisy],
                _ => vec![None, noisy],
            };
            for noise in noises {
                part_b(
                    seeds.unwrap_or(10),
                    customers.unwrap_or(40_000),
                    noise,
                    stationary,
                    &out,
                );
            }
        }
    }
    if part == "r" {
        part_r(
            seeds.unwrap_or(5),
            customers.unwrap_or(400_000),
            &out,
            reuse,
        );
    }
    if part == "c" || part == "all" {
        part_c(seeds.unwrap_or(5), customers.unwrap_or(60_000), &out);
    }
    ExitCode::SUCCESS
}
