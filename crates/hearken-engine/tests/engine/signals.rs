//! Pareto, repeat contacts, trends with spikes and issue ranking against numpy / pandas.

use hearken_engine::issues::{self, IssueColumns, IssueOptions};
use hearken_engine::keys::Period;
use hearken_engine::pareto::{self, EntityCounts, ParetoOptions};
use hearken_engine::repeats::{self, ContactColumns, RepeatOptions};
use hearken_engine::trends::{self, SpikeOptions};
use serde_json::Value;

use crate::helpers::*;

#[test]
fn pareto_matches_numpy() {
    let exp = expected();
    let (frame, _) = signals(&exp);
    for (name, codes, dict) in [
        ("customer", &frame.customer, &frame.customers),
        ("topic", &frame.topic, &frame.topics),
        ("product", &frame.product, &frame.products),
    ] {
        let w = &exp["pareto"][name];
        let counts = split_fold(codes.len(), |r| {
            EntityCounts::from_codes(codes, dict.len(), r)
        });
        let p = pareto::pareto(&counts, dict, &ParetoOptions::default());
        assert_eq!(p.entities, u(&w["entities"]), "{name}");
        assert_eq!(p.contacts, u(&w["contacts"]), "{name}");
        assert_eq!(p.unattributed, u(&w["unattributed"]), "{name}");
        assert_eq!(p.top20_entities, u(&w["top20_entities"]), "{name}");
        assert_eq!(p.k80, Some(u(&w["k80"])), "{name}");
        close_opt(p.top20_share, &w["top20_share"], &format!("{name} top20"));
        close_opt(p.gini, &w["gini"], &format!("{name} gini"));
        let lorenz = w["lorenz"].as_array().unwrap();
        assert_eq!(p.lorenz.len(), lorenz.len());
        for (got, want) in p.lorenz.iter().zip(lorenz) {
            close(got[0], f(&want[0]), "lorenz x");
            close(
                got[1],
                f(&want[1]),
                &format!("{name} lorenz y at {}", got[0]),
            );
        }
        assert_eq!(
            p.top[0].contacts,
            p.top.iter().map(|t| t.contacts).max().unwrap()
        );
    }
}

#[test]
fn repeat_contacts_match_pandas() {
    let exp = expected();
    let (frame, _) = signals(&exp);
    let cols = ContactColumns::of(&frame);
    for w in exp["repeats"].as_array().unwrap() {
        let opts = RepeatOptions {
            window_days: u(&w["window_days"]) as u32,
            cost_per_contact: Some(f(&w["cost_per_contact"])),
            ..RepeatOptions::default()
        };
        let r = repeats::repeat_contacts(&cols, &opts).unwrap();
        let what = format!("window {}", opts.window_days);
        assert_eq!(r.contacts, u(&w["contacts"]), "{what}");
        assert_eq!(r.eligible, u(&w["eligible"]), "{what}");
        assert_eq!(r.repeats, u(&w["repeats"]), "{what}");
        close_opt(r.rate, &w["rate"], &what);
        close_opt(r.low, &w["low"], &what);
        close_opt(r.high, &w["high"], &what);
        close_opt(r.cost, &w["cost"], &what);
        for (groups, want) in [
            (&r.by_topic, &w["by_topic"]),
            (&r.by_product, &w["by_product"]),
        ] {
            assert_eq!(groups.len(), want.as_object().unwrap().len(), "{what}");
            for g in groups {
                let x = &want[&g.group];
                assert_eq!(
                    (g.eligible, g.repeats),
                    (u(&x["eligible"]), u(&x["repeats"])),
                    "{}",
                    g.group
                );
            }
            assert!(groups.windows(2).all(|p| p[0].repeats >= p[1].repeats));
        }
        let flags = repeats::repeat_flags(
            &frame.at,
            &frame.customer,
            &frame.topic,
            frame.customers.len(),
            frame.topics.len(),
            opts.window_days,
        )
        .unwrap();
        let want: Vec<Option<bool>> = w["flags_first_200"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_bool)
            .collect();
        assert_eq!(&flags[..200], &want[..]);
    }
}

#[test]
fn trends_and_spikes_match_pandas() {
    let exp = expected();
    let w = &exp["trends"];
    let (frame, _) = signals(&exp);
    for (period, first, last, want) in [
        (
            Period::Week,
            &w["first_week"],
            &w["last_week"],
            &w["weekly"],
        ),
        (Period::Day, &w["first_day"], &w["last_day"], &w["daily"]),
    ] {
        let (first, last) = (first.as_i64().unwrap(), last.as_i64().unwrap());
        let n_topics = frame.topics.len();
        let counts = split_fold(frame.len(), |r| {
            trends::period_counts(&frame.at, &frame.topic, n_topics, period, first, last, r)
                .unwrap()
        });
        let t = trends::trends(&counts, &frame.topics, &SpikeOptions::for_period(period));
        assert_eq!(t.topics.len(), want.as_object().unwrap().len());
        let mut spikes = 0;
        for topic in &t.topics {
            let points = want[&topic.topic].as_array().unwrap();
            assert_eq!(topic.points.len(), points.len(), "{}", topic.topic);
            for (got, p) in topic.points.iter().zip(points) {
                let what = format!("{period:?} {} {}", topic.topic, got.period);
                assert_eq!(u64::from(got.count), u(&p["count"]), "{what}");
                close_opt(got.expected, &p["expected"], &what);
                // The bounds are `expected ± half`: compare them to the precision of their
                // terms, as `low` near zero is a difference of two large numbers.
                for (a, b) in [(got.low, &p["low"]), (got.high, &p["high"])] {
                    match (a, b.as_f64()) {
                        (Some(a), Some(b)) => {
                            let scale = b.abs().max(got.expected.unwrap_or(0.0)).max(1.0);
                            assert!((a - b).abs() <= 1e-9 * scale, "{what}: {a} vs {b}");
                        }
                        (None, None) => {}
                        (a, b) => panic!("{what}: engine {a:?} vs reference {b:?}"),
                    }
                }
                assert_eq!(got.spike, p["spike"].as_bool().unwrap(), "{what}");
                spikes += usize::from(got.spike);
            }
        }
        assert_eq!(t.spikes.len(), spikes);
        if period == Period::Week {
            // The injected outage burst (week 15 from the start) is flagged.
            let outage = t.topics.iter().find(|x| x.topic == "outage").unwrap();
            assert!(outage.points[15].spike, "{:?}", outage.points[15]);
        }
    }
}

#[test]
fn issue_ranking_matches_pandas() {
    let exp = expected();
    let (frame, value) = signals(&exp);
    let cols = IssueColumns::of(&frame, &value);
    let opts = IssueOptions {
        limit: 100,
        evidence: 5,
    };
    let ranked = issues::rank_issues(&cols, &opts).unwrap();
    let want = exp["issues"].as_array().unwrap();
    assert_eq!(ranked.len(), want.len());
    for (got, w) in ranked.iter().zip(want) {
        let what = &got.topic;
        assert_eq!(got.topic, w["topic"].as_str().unwrap());
        assert_eq!(
            (got.signals, got.negative),
            (u(&w["signals"]), u(&w["negative"])),
            "{what}"
        );
        close_opt(got.negative_share, &w["negative_share"], what);
        close_opt(got.mean_sentiment, &w["mean_sentiment"], what);
        close(got.value_factor, f(&w["value_factor"]), what);
        close_opt(got.score, &w["score"], what);
        let ev: Vec<u32> = w["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(got.evidence, ev, "{what}");
    }
    // Chunked tallies give the same ranking (sums up to rounding).
    let g = split_fold(frame.len(), |r| issues::issue_tallies(&cols, r).unwrap());
    let chunked = issues::rank_tallies(&g, &cols, &opts);
    for (a, b) in chunked.iter().zip(&ranked) {
        assert_eq!(
            (&a.topic, &a.evidence, a.signals),
            (&b.topic, &b.evidence, b.signals)
        );
        close(a.score.unwrap(), b.score.unwrap(), "chunked score");
    }
}
