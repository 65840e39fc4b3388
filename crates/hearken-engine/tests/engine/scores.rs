//! Scores, intervals, period changes and group-bys against scipy / statsmodels.

use hearken_engine::keys::{self, GroupKey, Period};
use hearken_engine::scores::{self, CesTally, CsatTally, NpsTally, ScoreOptions, SentimentTally};
use hearken_engine::{Level, Partial};
use serde_json::Value;

use crate::helpers::*;

fn opts(level: &Value) -> ScoreOptions {
    ScoreOptions {
        level: Level::new(f(level)).expect("a level in (0, 1)"),
        ..ScoreOptions::default()
    }
}

fn tallies(v: &Value) -> (NpsTally, CsatTally, CesTally, SentimentTally) {
    let (n, c, e) = (u8s(&v["nps"]), u8s(&v["csat"]), u8s(&v["ces"]));
    let s = f32s(&v["sentiment"]);
    (
        NpsTally::from_column(&n, 0, 0..n.len()),
        CsatTally::from_column(&c, 1, 0..c.len()),
        CesTally::from_column(&e, 1, 0..e.len()),
        SentimentTally::from_column(&s, 0..s.len()),
    )
}

#[test]
fn scores_and_intervals_match_the_reference() {
    let exp = expected();
    for case in exp["score_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let o = opts(&case["level"]);
        let (tn, tc, te, ts) = tallies(case);
        let want = &case["expected"];

        let n = scores::nps(&tn, &o);
        let w = &want["nps"];
        close_opt(n.nps, &w["nps"], &format!("{name} nps"));
        close_opt(n.low, &w["low"], &format!("{name} nps low"));
        close_opt(n.high, &w["high"], &format!("{name} nps high"));
        close_opt(n.se, &w["se"], &format!("{name} nps se"));
        assert_eq!(
            (n.n, n.promoters, n.detractors),
            (u(&w["n"]), u(&w["promoters"]), u(&w["detractors"]))
        );
        assert_eq!(
            n.quality.degenerate,
            w["degenerate"].as_bool().unwrap(),
            "{name}"
        );
        assert_eq!(n.quality.small_sample, n.n < 30, "{name}");

        let c = scores::csat(&tc, &o);
        let w = &want["csat"];
        close_opt(c.csat, &w["csat"], &format!("{name} csat"));
        close_opt(c.low, &w["low"], &format!("{name} csat low"));
        close_opt(c.high, &w["high"], &format!("{name} csat high"));
        assert_eq!(c.satisfied, u(&w["satisfied"]));

        let e = scores::ces(&te, &o);
        let w = &want["ces"];
        close_opt(e.ces, &w["ces"], &format!("{name} ces"));
        close_opt(e.low, &w["low"], &format!("{name} ces low"));
        close_opt(e.high, &w["high"], &format!("{name} ces high"));
        close_opt(e.sd, &w["sd"], &format!("{name} ces sd"));

        let s = scores::net_sentiment(&ts, &o);
        let w = &want["net_sentiment"];
        close_opt(
            s.net_sentiment,
            &w["net_sentiment"],
            &format!("{name} net sentiment"),
        );
        close_opt(s.low, &w["low"], &format!("{name} sentiment low"));
        close_opt(s.high, &w["high"], &format!("{name} sentiment high"));
        close_opt(
            s.mean_compound,
            &w["mean_compound"],
            &format!("{name} mean compound"),
        );
        assert_eq!(
            (s.positive, s.negative),
            (u(&w["positive"]), u(&w["negative"]))
        );
    }
}

#[test]
fn period_changes_match_the_reference() {
    let exp = expected();
    for case in exp["changes"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let o = opts(&case["level"]);
        let (bn, bc, be, _) = tallies(&case["before"]);
        let (an, ac, ae, _) = tallies(&case["after"]);
        for (metric, got) in [
            ("nps", scores::nps_change(&bn, &an, &o)),
            ("csat", scores::csat_change(&bc, &ac, &o)),
            ("ces", scores::ces_change(&be, &ae, &o)),
        ] {
            let w = &case["expected"][metric];
            let what = format!("{name} {metric}");
            close_opt(got.before, &w["before"], &format!("{what} before"));
            close_opt(got.after, &w["after"], &format!("{what} after"));
            close_opt(got.diff, &w["diff"], &format!("{what} diff"));
            close_opt(got.low, &w["low"], &format!("{what} low"));
            close_opt(got.high, &w["high"], &format!("{what} high"));
            close_opt(got.p_value, &w["p_value"], &format!("{what} p"));
            assert_eq!(
                got.significant,
                Some(f(&w["p_value"]) < 1.0 - f(&case["level"]))
            );
        }
    }
}

#[test]
fn group_estimates_match_pandas_groupby() {
    let exp = expected();
    let want = &exp["survey_groups"];
    let (frame, segment, segments) = surveys();
    let o = ScoreOptions::default();
    let seg = GroupKey::borrowed(&segment, &segments);
    let month = keys::period(&frame.at, Period::Month).unwrap();

    let check_nps = |rows: Vec<hearken_engine::GroupEstimate<scores::Nps>>, w: &Value| {
        assert_eq!(rows.len(), w.as_object().unwrap().len());
        for r in rows {
            let w = &w[&r.group];
            close_opt(r.estimate.nps, &w["nps"], &r.group);
            close_opt(r.estimate.low, &w["low"], &r.group);
            close_opt(r.estimate.high, &w["high"], &r.group);
            assert_eq!(r.estimate.n, u(&w["n"]));
        }
    };
    check_nps(
        scores::nps_by(&frame.nps, &seg, &o).unwrap(),
        &want["nps_by_segment"],
    );
    check_nps(
        scores::nps_by(&frame.nps, &month, &o).unwrap(),
        &want["nps_by_month"],
    );

    for r in scores::csat_by(&frame.csat, &seg, &o).unwrap() {
        let w = &want["csat_by_segment"][&r.group];
        close_opt(r.estimate.csat, &w["csat"], &r.group);
        close_opt(r.estimate.low, &w["low"], &r.group);
        close_opt(r.estimate.high, &w["high"], &r.group);
    }
    let ces = scores::ces_by(&frame.ces, &month, &o).unwrap();
    assert_eq!(ces.len(), 3);
    for r in ces {
        let w = &want["ces_by_month"][&r.group];
        close_opt(r.estimate.ces, &w["ces"], &r.group);
        close_opt(r.estimate.low, &w["low"], &r.group);
        close_opt(r.estimate.high, &w["high"], &r.group);
    }

    // The same group-by on two threads, merged, gives the same tallies.
    let whole = scores::tally_by::<11>(&frame.nps, 0, &seg, 0..frame.len()).unwrap();
    let par = split_fold(frame.len(), |r| {
        scores::tally_by::<11>(&frame.nps, 0, &seg, r).unwrap()
    });
    assert_eq!(whole, par);
    let mut total = NpsTally::default();
    total.merge(&whole.total());
    assert_eq!(total.n() + total.missing, frame.len() as u64);
}

#[test]
fn nps_json_has_the_cli_fields() {
    let t = NpsTally::from_column(&[10, 9, 3, 7, 8], 0, 0..5);
    let j = serde_json::to_value(scores::nps(&t, &ScoreOptions::default())).unwrap();
    for k in [
        "nps",
        "low",
        "high",
        "level",
        "n",
        "promoters",
        "detractors",
        "small_sample",
        "warnings",
    ] {
        assert!(j.get(k).is_some(), "missing {k} in {j}");
    }
    assert_eq!(j["level"], 0.9);
    assert_eq!(j["small_sample"], true);
}
