//! Case-flow figures of real event logs, read by hearken-eventlog and computed by hearken-flow,
//! against PM4Py's (fixture written by tools/reference/flow/make_reference.py): every count
//! identical, every duration within one second.

// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod attributes;
mod groups;
mod helpers;

use std::collections::BTreeMap;

use hearken_eventlog::{ReadOptions, read_path};
use hearken_flow::{FlowConfig, FlowReport, analyze};
use serde_json::Value;

use helpers::{close, data, reference};

fn report_of(file: &str) -> FlowReport {
    let (log, quarantined) = read_path(&data(file), &ReadOptions::default()).unwrap();
    assert!(quarantined.is_empty(), "{file}: {quarantined:?}");
    analyze(&log, &FlowConfig::default())
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn check(reference: &Value) {
    let file = reference["file"].as_str().unwrap();
    let r = report_of(file);
    let ctx = |what: &str| format!("{file}: {what}");
    assert_eq!(r.events, u(&reference["events"]), "{}", ctx("events"));
    assert_eq!(r.cases, u(&reference["cases"]), "{}", ctx("cases"));
    assert_eq!(
        r.dfg_edges,
        u(&reference["dfg_edges"]),
        "{}",
        ctx("dfg_edges")
    );
    assert_eq!(
        r.dfg_total,
        u(&reference["dfg_total"]),
        "{}",
        ctx("dfg_total")
    );
    let mut ours: Vec<(String, String, u64)> = r
        .transitions
        .iter()
        .map(|t| (t.from.clone(), t.to.clone(), t.count))
        .collect();
    ours.sort();
    let theirs: Vec<(String, String, u64)> = reference["dfg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().into(),
                e[1].as_str().unwrap().into(),
                u(&e[2]),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "{}", ctx("every directly-follows edge"));
    let rework: BTreeMap<String, u64> = reference["rework_cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect();
    assert_eq!(r.rework_cases, rework, "{}", ctx("rework_cases"));
    close(
        r.median_case_duration_hours,
        &reference["median_case_duration_hours"],
        &ctx("median"),
    );
    close(
        r.p90_case_duration_hours,
        &reference["p90_case_duration_hours"],
        &ctx("p90"),
    );
    assert_eq!(
        r.transfers_total,
        u(&reference["transfers_total"]),
        "{}",
        ctx("transfers_total")
    );
    assert_eq!(
        r.handover_pairs,
        u(&reference["handover_pairs"]),
        "{}",
        ctx("handover_pairs")
    );
    assert_eq!(
        r.handover_pairs,
        u(&reference["handover_pairs_from_pm4py"]),
        "{}",
        ctx("PM4Py's handover network without self pairs")
    );
    let mut ours: Vec<(String, String, u64)> = r
        .handovers
        .iter()
        .map(|h| (h.from.clone(), h.to.clone(), h.transfers))
        .collect();
    ours.sort();
    let theirs: Vec<(String, String, u64)> = reference["handovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().into(),
                e[1].as_str().unwrap().into(),
                u(&e[2]),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "{}", ctx("handover matrix"));
    assert_eq!(
        r.first_owner_cases,
        u(&reference["first_owner_cases"]),
        "{}",
        ctx("first owner cases")
    );
    assert_eq!(
        r.first_owner_resolved,
        u(&reference["first_owner_resolved"]),
        "{}",
        ctx("resolved")
    );
    assert_eq!(
        r.first_owner_unknown,
        u(&reference["first_owner_unknown"]),
        "{}",
        ctx("unknown")
    );
    let pct = reference["first_owner_resolution_pct"].as_f64().unwrap();
    assert!(
        (r.first_owner_resolution_pct.unwrap() - pct).abs() < 1e-9,
        "{}",
        ctx("pct")
    );
    assert_eq!(
        r.loops_total,
        u(&reference["loops_total"]),
        "{}",
        ctx("loops_total")
    );

    let stages = reference["stages"].as_object().unwrap();
    assert_eq!(r.stages.len(), stages.len(), "{}", ctx("stage count"));
    for s in &r.stages {
        let want = &stages[&s.stage];
        let c = |what: &str| ctx(&format!("stage {} {what}", s.stage));
        assert_eq!(s.events, u(&want["events"]), "{}", c("events"));
        assert_eq!(s.intervals, u(&want["intervals"]), "{}", c("intervals"));
        assert_eq!(s.loops, u(&want["loops"]), "{}", c("loops"));
        close(s.median_hours, &want["median_hours"], &c("median"));
        close(s.p90_hours, &want["p90_hours"], &c("p90"));
    }
    let agents = reference["agents"].as_object().unwrap();
    assert_eq!(r.agents.len(), agents.len(), "{}", ctx("agent count"));
    for a in &r.agents {
        let want = &agents[&a.agent];
        let c = |what: &str| ctx(&format!("agent {} {what}", a.agent));
        assert_eq!(a.events, u(&want["events"]), "{}", c("events"));
        assert_eq!(a.transfers_out, u(&want["transfers_out"]), "{}", c("out"));
        assert_eq!(a.transfers_in, u(&want["transfers_in"]), "{}", c("in"));
        assert_eq!(
            a.first_owner_cases,
            u(&want["first_owner_cases"]),
            "{}",
            c("first-owned")
        );
        assert_eq!(
            a.first_owner_resolved,
            u(&want["first_owner_resolved"]),
            "{}",
            c("resolved")
        );
    }
}

fn reference_for(file: &str) -> Value {
    reference()["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"] == file)
        .unwrap_or_else(|| panic!("{file} not in the fixture; rerun make_reference.py"))
        .clone()
}

#[test]
fn running_example_xes_matches_pm4py() {
    check(&reference_for("running-example.xes"));
}

#[test]
fn running_example_csv_matches_pm4py() {
    check(&reference_for("running-example.csv"));
}

#[test]
fn helpdesk_xes_matches_pm4py() {
    check(&reference_for("helpdesk.xes.gz"));
}

#[test]
fn helpdesk_csv_matches_pm4py() {
    check(&reference_for("helpdesk.events.csv.gz"));
}

#[test]
fn receipt_xes_matches_pm4py() {
    check(&reference_for("receipt.xes.gz"));
}

#[test]
fn receipt_csv_matches_pm4py() {
    check(&reference_for("receipt.csv.gz"));
}

#[test]
fn fixture_covers_every_vendored_log() {
    let files: Vec<String> = reference()["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["file"].as_str().unwrap().to_string())
        .collect();
    let mut vendored: Vec<String> = std::fs::read_dir(data(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".xes")
                || n.ends_with(".xes.gz")
                || n.ends_with(".csv")
                || n.ends_with(".csv.gz")
        })
        .collect();
    vendored.sort();
    let mut files = files;
    files.sort();
    assert_eq!(
        files, vendored,
        "rerun tools/reference/flow/make_reference.py"
    );
}

#[test]
fn zendesk_ticket_events_become_case_events() {
    let (log, quarantined) =
        read_path(&data("zendesk_ticket_events.json"), &ReadOptions::default()).unwrap();
    assert!(quarantined.is_empty(), "{quarantined:?}");
    // Ticket 155: created (new), tagged (not an event), assigned + opened, transferred to
    // another agent and group with a comment, solved. Ticket 156: new, pending, solved, closed.
    assert_eq!(log.len(), 8);
    let acts: Vec<&str> = log
        .activity_codes()
        .iter()
        .map(|&a| log.activity_dict().name(a).unwrap())
        .collect();
    assert_eq!(
        acts,
        [
            "new", "open", "open", "solved", "new", "pending", "solved", "closed"
        ]
    );
    let texts: Vec<&str> = log.texts().map(|(_, t)| t).collect();
    assert_eq!(texts.len(), 3);
    assert!(texts[1].starts_with("Escalating"));
    let cfg = FlowConfig {
        closing: Some(vec!["closed".into()]),
        escalation: Some(vec!["pending".into()]),
        ..FlowConfig::default()
    };
    let r = analyze(&log, &cfg);
    assert_eq!((r.cases, r.transfers_total, r.handover_pairs), (2, 1, 1));
    assert_eq!(r.handovers[0].from, "361001");
    assert_eq!(r.handovers[0].to, "361002");
    assert_eq!((r.first_owner_cases, r.first_owner_resolved), (2, 1));
    assert_eq!(r.open_cases, Some(1));
    assert_eq!(r.escalation.escalated_cases, 1);
    assert_eq!(r.escalation.open_escalated_cases, Some(0));
    let teams: Vec<&str> = r.teams.iter().map(|t| t.team.as_str()).collect();
    assert_eq!(teams, ["360001"]);
}

/// Re-reading the running example with its events shuffled inside traces, one timestamp
/// removed and unknown extensions added gives the same figures, minus the quarantined event.
#[test]
fn out_of_order_events_missing_timestamps_and_unknown_extensions() {
    let xml = std::fs::read_to_string(data("running-example.xes")).unwrap();
    let (base_log, _) = read_path(&data("running-example.xes"), &ReadOptions::default()).unwrap();
    let base = analyze(&base_log, &FlowConfig::default());
    // Reverse the events of every trace.
    let mut out = String::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find("<event>") {
        let end = rest
            .rfind("</event>")
            .map(|e| e + "</event>".len())
            .unwrap();
        let trace_end = rest[start..].find("</trace>").map(|e| start + e).unwrap();
        let block_end = rest[..trace_end].rfind("</event>").unwrap() + "</event>".len();
        assert!(block_end <= end);
        out.push_str(&rest[..start]);
        let mut events: Vec<&str> = rest[start..block_end]
            .split("</event>")
            .filter(|s| s.contains("<event>"))
            .collect();
        events.reverse();
        for e in events {
            out.push_str(e.trim_start());
            out.push_str("</event>\n");
        }
        rest = &rest[block_end..];
    }
    out.push_str(rest);
    let out = out.replacen(
        "<log>",
        "<log><extension name=\"X\" prefix=\"x\" uri=\"http://example.invalid/x.xesext\"/>",
        1,
    );
    let (log, q) =
        hearken_eventlog::read_bytes("shuffled.xes", out.as_bytes(), &ReadOptions::default())
            .unwrap();
    assert!(q.is_empty());
    let shuffled = analyze(&log, &FlowConfig::default());
    assert_eq!(shuffled.dfg_total, base.dfg_total);
    assert_eq!(shuffled.dfg_edges, base.dfg_edges);
    assert_eq!(shuffled.rework_cases, base.rework_cases);
    assert_eq!(
        shuffled.median_case_duration_hours,
        base.median_case_duration_hours
    );
    assert_eq!(shuffled.transfers_total, base.transfers_total);

    // The first event's timestamp (the <global> block before the traces has one too).
    let first_trace = out.find("<trace>").unwrap();
    let first_ts = first_trace + out[first_trace..].find("key=\"time:timestamp\"").unwrap();
    let line_start = out[..first_ts].rfind('<').unwrap();
    let line_end = first_ts + out[first_ts..].find("/>").unwrap() + 2;
    let missing = format!("{}{}", &out[..line_start], &out[line_end..]);
    let (log, q) =
        hearken_eventlog::read_bytes("missing.xes", missing.as_bytes(), &ReadOptions::default())
            .unwrap();
    assert_eq!(log.len(), base_log.len() - 1);
    assert_eq!(q.len(), 1);
    assert!(q[0].reason.contains("time:timestamp"), "{}", q[0]);
    assert!(q[0].case.is_some());
}

#[test]
fn truncated_gzip_log_is_an_error_with_the_events_read_so_far() {
    use std::io::{Read, Write};
    let mut xml = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(data("helpdesk.xes.gz")).unwrap())
        .read_to_end(&mut xml)
        .unwrap();
    let cut = &xml[..xml.len() / 2];
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(cut).unwrap();
    let gz = enc.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.xes.gz");
    std::fs::write(&p, gz).unwrap();
    let e = read_path(&p, &ReadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("truncated") && msg.contains("events"), "{msg}");
    let opts = ReadOptions {
        keep_partial: true,
        ..ReadOptions::default()
    };
    let (log, q) = read_path(&p, &opts).unwrap();
    assert!(log.len() > 5_000 && log.len() < 21_348, "{}", log.len());
    assert_eq!(q.len(), 1);
    // A gzip stream cut short (not re-compressed) is an IO error, not a panic.
    let raw = std::fs::read(data("helpdesk.xes.gz")).unwrap();
    let p2 = dir.path().join("short.xes.gz");
    std::fs::write(&p2, &raw[..raw.len() / 3]).unwrap();
    assert!(read_path(&p2, &ReadOptions::default()).is_err());
}
