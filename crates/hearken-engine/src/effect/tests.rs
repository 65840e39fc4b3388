use super::*;

const AT: i64 = 1_704_067_200 + 28 * DAY; // 2024-01-29, a Monday

fn dict(names: &[&str]) -> Dict {
    Dict {
        names: names.iter().map(|s| (*s).to_string()).collect(),
    }
}

fn opts() -> EffectOptions {
    EffectOptions {
        min_n: 2,
        ..EffectOptions::around(AT)
    }
}

/// Rows at noon of day `d` (relative to AT) for group `g`, one per value.
fn push(rows: &mut (Vec<i64>, Vec<u32>, Vec<f64>), d: i64, g: u32, values: &[f64]) {
    for v in values {
        rows.0.push(AT + d * DAY + DAY / 2);
        rows.1.push(g);
        rows.2.push(*v);
    }
}

#[test]
fn share_change_is_the_difference_of_means_with_the_hc1_variance() {
    let mut r = (Vec::new(), Vec::new(), Vec::new());
    let before = [100.0, 0.0, -100.0, 100.0, 100.0];
    let after = [100.0, 100.0, 0.0, 100.0];
    push(&mut r, -3, 0, &before);
    push(&mut r, 2, 0, &after);
    let groups = dict(&["a"]);
    let obs = Observations {
        at: &r.0,
        group: &r.1,
        value: &r.2,
        cluster: &[],
        groups: &groups,
    };
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let o = EffectOptions {
        variance: ClusterVariance::Cr1,
        ..opts()
    };
    let e = effect(Metric::Nps, &obs, &scope, &o).unwrap();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mb, ma) = (mean(&before), mean(&after));
    assert_eq!(e.before.value, Some(mb));
    assert_eq!(e.after.value, Some(ma));
    assert!((e.estimate.change.unwrap() - (ma - mb)).abs() < 1e-12);
    // HC1: n/(n-k) times the sum of the biased variances over n.
    let bv = |v: &[f64], m: f64| {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64).powi(2)
    };
    let var = 9.0 / 7.0 * (bv(&before, mb) + bv(&after, ma));
    assert!((e.estimate.se.unwrap() - var.sqrt()).abs() < 1e-10);
    assert_eq!(e.estimate.df, Some(8.0));
    assert_eq!(
        e.did.estimate.status,
        Status::NoControls {
            reason: "no other group has data in the windows".into()
        }
    );
}

#[test]
fn thin_data_is_a_typed_result_never_a_panic() {
    let groups = dict(&["a", "b"]);
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let mut r = (Vec::new(), Vec::new(), Vec::new());
    push(&mut r, -3, 0, &[1.0]);
    push(&mut r, 2, 0, &[1.0, 2.0]);
    let obs = Observations {
        at: &r.0,
        group: &r.1,
        value: &r.2,
        cluster: &[],
        groups: &groups,
    };
    for metric in Metric::ALL {
        let e = effect(metric, &obs, &scope, &opts()).unwrap();
        let expected = match metric.family() {
            Family::Count => Status::Estimated,
            _ => Status::TooFew {
                window: Window::Before,
                n: 1,
                needed: 2,
            },
        };
        if metric.family() != Family::Count {
            assert_eq!(e.estimate.status, expected, "{metric:?}");
            assert_eq!(e.estimate.change, None);
            assert_eq!((e.before.n, e.after.n), (1, 2));
        }
        // No data at all in the windows.
        let none = Observations {
            at: &[],
            group: &[],
            value: &[],
            cluster: &[],
            groups: &groups,
        };
        let e = effect(metric, &none, &scope, &opts()).unwrap();
        assert_eq!(
            e.estimate.status,
            Status::NoData {
                window: Window::Before
            },
            "{metric:?}"
        );
        assert!(e.quality.no_data);
        // The data end at the action's date: the after window is empty.
        let o = EffectOptions {
            data_to: AT,
            ..opts()
        };
        let e = effect(metric, &obs, &scope, &o).unwrap();
        assert_eq!(
            e.estimate.status,
            Status::EmptyWindow {
                window: Window::After
            }
        );
        assert_eq!(e.windows.days_after, 0);
        assert_eq!(e.windows.days_before, 28);
        // Asking wrongly is an error naming the option.
        let bad = Scope {
            treated: vec![],
            linked: vec![],
        };
        assert!(effect(metric, &obs, &bad, &opts()).is_err());
        let bad = Scope {
            treated: vec![7],
            linked: vec![],
        };
        assert!(effect(metric, &obs, &bad, &opts()).is_err());
        let o = EffectOptions {
            before_days: 0,
            ..opts()
        };
        assert!(effect(metric, &obs, &scope, &o).is_err());
        let o = EffectOptions {
            controls: ControlRule::Given { groups: vec![0] },
            ..opts()
        };
        assert!(effect(metric, &obs, &scope, &o).is_err());
    }
    let short = Observations {
        at: &r.0[..2],
        ..obs
    };
    assert!(matches!(
        effect(Metric::Nps, &short, &scope, &opts()),
        Err(EngineError::LengthMismatch { .. })
    ));
}

#[test]
fn a_zero_mean_before_leaves_a_relative_change_undefined() {
    let groups = dict(&["a"]);
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let mut r = (Vec::new(), Vec::new(), Vec::new());
    push(&mut r, -3, 0, &[0.0, 0.0, 0.0]);
    push(&mut r, 2, 0, &[1.0, 0.0, 2.0]);
    let obs = Observations {
        at: &r.0,
        group: &r.1,
        value: &r.2,
        cluster: &[],
        groups: &groups,
    };
    let e = effect(Metric::TransfersPerCase, &obs, &scope, &opts()).unwrap();
    assert!(matches!(e.estimate.status, Status::Undefined { .. }));
    assert_eq!(e.before.value, Some(0.0));
}

/// A small deterministic generator for count series (splitmix64 + inversion).
struct Counts(u64);

impl Counts {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn poisson(&mut self, lambda: f64) -> u64 {
        let (mut k, mut p, l) = (0, 1.0, (-lambda).exp());
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

/// Events of `groups` series over 56 days around AT: series `g` has `base[g]` a day, times
/// `season` after AT for every series, times `effect` after AT for series 0.
fn events(base: &[f64], season: f64, effect: f64, seed: u64) -> (Vec<i64>, Vec<u32>) {
    let mut rng = Counts(seed);
    let (mut at, mut group) = (Vec::new(), Vec::new());
    for d in -28i64..28 {
        let weekday = d.rem_euclid(7);
        let weekly = if weekday >= 5 { 0.5 } else { 1.1 };
        for (g, b) in base.iter().enumerate() {
            let mut lambda = b * weekly;
            if d >= 0 {
                lambda *= season;
                if g == 0 {
                    lambda *= effect;
                }
            }
            for _ in 0..rng.poisson(lambda) {
                at.push(AT + d * DAY + 3600);
                group.push(g as u32);
            }
        }
    }
    (at, group)
}

#[test]
fn volume_sees_the_season_and_did_nets_it_out() {
    let base = [20.0, 10.0, 26.0, 18.0, 45.0, 22.0, 0.5];
    let names = ["t", "c1", "c2", "c3", "c4", "c5", "tiny"];
    let groups = dict(&names);
    let (at, group) = events(&base, 0.7, 1.0, 11);
    let obs = Observations {
        at: &at,
        group: &group,
        value: &[],
        cluster: &[],
        groups: &groups,
    };
    let scope = Scope {
        treated: vec![0],
        linked: vec![5],
    };
    let o = EffectOptions {
        controls: ControlRule::Similar { max: 3 },
        ..EffectOptions::around(AT)
    };
    let e = effect(Metric::Volume, &obs, &scope, &o).unwrap();
    let naive = e.estimate.change.unwrap();
    assert!((naive + 0.3).abs() < 0.1, "naive sees the season: {naive}");
    assert_eq!(e.estimate.significant, Some(true));
    let did = e.did.estimate.change.unwrap();
    assert!(did.abs() < 0.2, "did nets it out: {did}");
    let (lo, hi) = (e.did.estimate.low.unwrap(), e.did.estimate.high.unwrap());
    assert!(lo < 0.0 && hi > 0.0);
    assert_eq!(e.did.controls.len(), 3);
    // The closest in volume before: c3 (18), c2 (26), c1 (10) before c4 (45); c5 (22) is
    // linked, tiny too small.
    assert_eq!(e.did.controls, ["c3", "c2", "c1"]);
    let c5 = e.candidates.iter().find(|c| c.name == "c5").unwrap();
    assert!(!c5.chosen && c5.reason.contains("linked"));
    let tiny = e.candidates.iter().find(|c| c.name == "tiny").unwrap();
    assert!(!tiny.chosen && tiny.reason.contains("too few events"));
    let c4 = e.candidates.iter().find(|c| c.name == "c4").unwrap();
    assert!(!c4.chosen && c4.reason.contains("rank"), "{}", c4.reason);
    assert_eq!(e.before.n, 28);
    assert_eq!(e.windows.days_after, 28);

    // A real effect on top of the season is recovered by the DiD.
    let (at, group) = events(&base, 0.7, 0.6, 12);
    let obs = Observations {
        at: &at,
        group: &group,
        ..obs
    };
    let e = effect(Metric::Volume, &obs, &scope, &o).unwrap();
    let did = e.did.estimate.change.unwrap();
    assert!((did + 0.4).abs() < 0.15, "{did}");
    assert!(e.did.estimate.low.unwrap() < -0.4 && e.did.estimate.high.unwrap() > -0.4);
    let json = serde_json::to_value(&e).unwrap();
    for key in [
        "metric",
        "before",
        "after",
        "change",
        "low",
        "high",
        "level",
        "p_value",
        "significant",
        "did",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["change", "low", "high", "p_value", "controls"] {
        assert!(json["did"].get(key).is_some(), "did.{key}");
    }
}

#[test]
fn a_treated_series_with_no_event_after_is_no_data_not_minus_one() {
    let groups = dict(&["t", "c"]);
    let (mut at, mut group) = (Vec::new(), Vec::new());
    for d in -28..28 {
        for g in 0..2u32 {
            if g == 0 && d >= 0 {
                continue;
            }
            at.push(AT + d * DAY);
            group.push(g);
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
    let e = effect(Metric::Volume, &obs, &scope, &opts()).unwrap();
    assert_eq!(
        e.estimate.status,
        Status::NoData {
            window: Window::After
        }
    );
    assert_eq!(e.after.events, Some(0));
    assert_eq!(e.before.events, Some(28));
    assert_eq!(e.did.estimate.status, e.estimate.status);
}

/// Rows with clusters: `(day, group, value, cluster)`.
fn columns(rows: &[(i64, u32, f64, u32)]) -> (Vec<i64>, Vec<u32>, Vec<f64>, Vec<u32>) {
    (
        rows.iter().map(|r| AT + r.0 * DAY + DAY / 2).collect(),
        rows.iter().map(|r| r.1).collect(),
        rows.iter().map(|r| r.2).collect(),
        rows.iter().map(|r| r.3).collect(),
    )
}

/// NPS-like answers of customers with very unequal numbers of answers, in a treated group 0
/// and a control group 1: a few customers hold a large share of each cell.
fn heavy_rows() -> Vec<(i64, u32, f64, u32)> {
    let mut rows = Vec::new();
    let mut x = 7u64;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    for cust in 0..40u32 {
        let answers = if cust < 3 { 12 } else { 1 + next() % 3 };
        for _ in 0..answers {
            let day = (next() % 40) as i64 - 20;
            let group = u32::from(next() % 3 == 0);
            let value = [-100.0, 0.0, 100.0][(next() + cust as usize) % 3];
            rows.push((day, group, value, cust));
        }
    }
    rows
}

#[test]
fn cr3_is_the_leave_one_customer_out_jackknife() {
    let rows = heavy_rows();
    let groups = dict(&["a", "b"]);
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let o = EffectOptions {
        controls: ControlRule::Given { groups: vec![1] },
        variance: ClusterVariance::Cr3,
        ..opts()
    };
    let measure = |rows: &[(i64, u32, f64, u32)]| {
        let c = columns(rows);
        let obs = Observations {
            at: &c.0,
            group: &c.1,
            value: &c.2,
            cluster: &c.3,
            groups: &groups,
        };
        effect(Metric::Nps, &obs, &scope, &o).unwrap()
    };
    let full = measure(&rows);
    // The jackknife by brute force: the estimate again without each customer in turn, over
    // the customers the estimate uses (the treated group's for before/after, both for the DiD).
    for (did, ids) in [
        (
            false,
            rows.iter()
                .filter(|r| r.1 == 0)
                .map(|r| r.3)
                .collect::<Vec<_>>(),
        ),
        (true, rows.iter().map(|r| r.3).collect::<Vec<_>>()),
    ] {
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        let pick = |e: &Effect| {
            if did {
                e.did.estimate.clone()
            } else {
                e.estimate.clone()
            }
        };
        let d = pick(&full).change.unwrap();
        let g = ids.len() as f64;
        let sum: f64 = ids
            .iter()
            .map(|&id| {
                let rest: Vec<_> = rows.iter().copied().filter(|r| r.3 != id).collect();
                (pick(&measure(&rest)).change.unwrap() - d).powi(2)
            })
            .sum();
        let jackknife = (g - 1.0) / g * sum;
        let se = pick(&full).se.unwrap();
        assert!(
            (se * se - jackknife).abs() < 1e-9 * jackknife,
            "did {did}: CR3 {} vs jackknife {jackknife}",
            se * se
        );
        assert_eq!(pick(&full).df, Some(g - 1.0));
    }
}

#[test]
fn cr2_without_clusters_is_the_unbiased_variance_of_each_mean() {
    let mut r = (Vec::new(), Vec::new(), Vec::new());
    let before = [100.0, 0.0, -100.0, 100.0, 100.0];
    let after = [100.0, 100.0, 0.0, 100.0];
    push(&mut r, -3, 0, &before);
    push(&mut r, 2, 0, &after);
    let groups = dict(&["a"]);
    let obs = Observations {
        at: &r.0,
        group: &r.1,
        value: &r.2,
        cluster: &[],
        groups: &groups,
    };
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let o = EffectOptions {
        variance: ClusterVariance::Cr2,
        ..opts()
    };
    let e = effect(Metric::Nps, &obs, &scope, &o).unwrap();
    // Each observation its own cluster: leverage 1/n, so CR2 is s^2/n for each mean.
    let s2n = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) / n
    };
    let var = s2n(&before) + s2n(&after);
    assert!((e.estimate.se.unwrap() - var.sqrt()).abs() < 1e-10);
}

#[test]
fn the_variances_agree_when_no_cluster_holds_much_of_a_cell() {
    // 400 customers of one answer each before and after: leverages are 1/200.
    let mut rows = Vec::new();
    for cust in 0..400u32 {
        let day = if cust % 2 == 0 { -5 } else { 5 };
        rows.push((day, 0, [-100.0, 0.0, 100.0][(cust as usize * 7) % 3], cust));
    }
    let c = columns(&rows);
    let groups = dict(&["a"]);
    let obs = Observations {
        at: &c.0,
        group: &c.1,
        value: &c.2,
        cluster: &c.3,
        groups: &groups,
    };
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let se = |v: ClusterVariance| {
        let o = EffectOptions {
            variance: v,
            ..opts()
        };
        effect(Metric::Nps, &obs, &scope, &o)
            .unwrap()
            .estimate
            .se
            .unwrap()
    };
    let (a, b, c) = (
        se(ClusterVariance::Cr1),
        se(ClusterVariance::Cr2),
        se(ClusterVariance::Cr3),
    );
    assert!(a < b * 1.01 && b < c && c < a * 1.01, "{a} {b} {c}");
    // With heavy customers CR2 and CR3 are larger than CR1, in that order.
    let rows = heavy_rows();
    let c = columns(&rows);
    let groups = dict(&["a", "b"]);
    let obs = Observations {
        at: &c.0,
        group: &c.1,
        value: &c.2,
        cluster: &c.3,
        groups: &groups,
    };
    let se = |v: ClusterVariance| {
        let o = EffectOptions {
            variance: v,
            ..opts()
        };
        effect(Metric::Nps, &obs, &scope, &o)
            .unwrap()
            .estimate
            .se
            .unwrap()
    };
    let (a, b, c) = (
        se(ClusterVariance::Cr1),
        se(ClusterVariance::Cr2),
        se(ClusterVariance::Cr3),
    );
    assert!(a < b && b < c, "{a} {b} {c}");
}

#[test]
fn controls_are_chosen_on_the_window_before_the_before_window() {
    // Treated group 0 at 50 throughout; group 1 at 50 in the selection window (days -56..-28)
    // but 80 in the before window; group 2 the other way round.
    let mut rows = Vec::new();
    let mut cust = 0u32;
    for (g, pre, before) in [(0u32, 50.0, 50.0), (1, 50.0, 80.0), (2, 80.0, 50.0)] {
        for (lo, level) in [(-56i64, pre), (-28, before), (0, before)] {
            for i in 0..40 {
                // Values around the level: level +- 10.
                let v = level + if i % 2 == 0 { 10.0 } else { -10.0 };
                rows.push((lo + (i % 28), g, v, cust));
                cust += 1;
            }
        }
    }
    let c = columns(&rows);
    let groups = dict(&["t", "c1", "c2"]);
    let obs = Observations {
        at: &c.0,
        group: &c.1,
        value: &c.2,
        cluster: &c.3,
        groups: &groups,
    };
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let o = EffectOptions {
        controls: ControlRule::Similar { max: 1 },
        min_n: 30,
        ..EffectOptions::around(AT)
    };
    for metric in [Metric::StageTime, Metric::Nps] {
        let e = effect(metric, &obs, &scope, &o).unwrap();
        assert_eq!(e.did.controls, vec!["c1".to_string()], "{metric:?}");
        assert_eq!(e.windows.controls_from, Some(AT - 56 * DAY));
        assert_eq!(e.windows.controls_to, Some(AT - 28 * DAY));
        let chosen = e.candidates.iter().find(|c| c.chosen).unwrap();
        assert!(
            chosen
                .reason
                .contains("in the 28 days before the before window"),
            "{}",
            chosen.reason
        );
        // The data start at the before window: the before window's levels choose.
        let cut = EffectOptions {
            data_from: AT - 28 * DAY,
            ..o.clone()
        };
        let e = effect(metric, &obs, &scope, &cut).unwrap();
        assert_eq!(e.did.controls, vec!["c2".to_string()], "{metric:?}");
        assert_eq!(e.windows.controls_from, None);
    }
    // Volume: the same by events per day.
    let mut at = Vec::new();
    let mut group = Vec::new();
    for (g, pre, before) in [(0u32, 50, 50), (1, 50, 80), (2, 80, 50)] {
        for (lo, n) in [(-56i64, pre), (-28, before), (0, before)] {
            for i in 0..n * 28 / 10 {
                at.push(AT + (lo + i64::from(i) % 28) * DAY + 3600);
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
    let e = effect(Metric::Volume, &obs, &scope, &o).unwrap();
    assert_eq!(e.did.controls, vec!["c1".to_string()]);
    assert_eq!(e.windows.controls_from, Some(AT - 56 * DAY));
}

/// Two-way clustering by customer and day: when every customer's observations fall on one day
/// (customers nested in days), the customer-and-day clusters are the customers, so
/// `V_customer + V_day - V_both` is exactly the variance clustered by day alone when that is
/// larger than the customers' (else the one-way variance is used), with Satterthwaite's degrees
/// of freedom from the two one-way variances; without time clusters the variance is the
/// customers' one.
#[test]
fn two_way_clustering_with_customers_nested_in_days_is_clustering_by_day() {
    let rows: Vec<(i64, u32, f64, u32)> = heavy_rows()
        .into_iter()
        .map(|(_, g, v, cust)| (i64::from(cust % 17) - 8, g, v, cust))
        .collect();
    let groups = dict(&["a", "b"]);
    let scope = Scope {
        treated: vec![0],
        linked: vec![],
    };
    let mut two_way_seen = 0;
    for kind in [
        ClusterVariance::Cr1,
        ClusterVariance::Cr2,
        ClusterVariance::Cr3,
    ] {
        let c = columns(&rows);
        let by_day: Vec<u32> = rows.iter().map(|r| (r.0 + 100) as u32).collect();
        let measure = |cluster: &[u32], time: TimeClusters| {
            let obs = Observations {
                at: &c.0,
                group: &c.1,
                value: &c.2,
                cluster,
                groups: &groups,
            };
            let o = EffectOptions {
                controls: ControlRule::Given { groups: vec![1] },
                variance: kind,
                time_clusters: time,
                ..opts()
            };
            effect(Metric::Nps, &obs, &scope, &o).unwrap()
        };
        let two_way = measure(&c.3, TimeClusters::Day);
        let day = measure(&by_day, TimeClusters::Off);
        let customer = measure(&c.3, TimeClusters::Off);
        for (a, d, cu, what) in [
            (
                &two_way.estimate,
                &day.estimate,
                &customer.estimate,
                "before/after",
            ),
            (
                &two_way.did.estimate,
                &day.did.estimate,
                &customer.did.estimate,
                "did",
            ),
        ] {
            let (sa, sd, sc) = (a.se.unwrap(), d.se.unwrap(), cu.se.unwrap());
            if sd > sc {
                two_way_seen += 1;
                assert!(
                    (sa - sd).abs() < 1e-12 * sd,
                    "{kind:?} {what}: two-way {sa} vs by day {sd}"
                );
                let (vc, vd) = (sc * sc, sd * sd);
                let (gc, gd) = (cu.df.unwrap(), d.df.unwrap());
                let df = vd * vd / (vc * vc / gc + (vd - vc).powi(2) / gd);
                assert!((a.df.unwrap() - df).abs() < 1e-9 * df, "{kind:?} {what} df");
                assert!(a.method.ends_with("two_way_clustered"), "{}", a.method);
            } else {
                assert_eq!(a.se, cu.se, "{kind:?} {what}: the one-way variance");
                assert_eq!(a.df, cu.df, "{kind:?} {what}");
                assert!(!a.method.ends_with("two_way_clustered"), "{}", a.method);
            }
        }
        assert_eq!(
            customer.estimate.method,
            "difference_of_means_cluster_robust"
        );
    }
    assert!(two_way_seen > 0, "the data exercise the two-way variance");
}
