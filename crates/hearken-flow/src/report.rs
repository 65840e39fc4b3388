//! The flow report: what [`crate::analyze`] returns, how it serialises (one JSON object), the
//! plain-text tables the CLI prints, and the handover-matrix export.
//!
//! Times are in hours (f64); a figure with no data (a median over no cases) is `None` / `null`,
//! never NaN.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::rules::{RuleInForce, RulesInForce};

/// Every case-flow figure of one log (or one group of its cases).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowReport {
    pub events: u64,
    pub cases: u64,
    /// Distinct (stage, next stage) pairs among consecutive events of a case.
    pub dfg_edges: u64,
    /// Consecutive event pairs (events - cases).
    pub dfg_total: u64,
    /// Per stage, the cases in which it occurs more than once (stages with none are left out).
    pub rework_cases: BTreeMap<String, u64>,
    pub median_case_duration_hours: Option<f64>,
    pub p90_case_duration_hours: Option<f64>,
    pub mean_case_duration_hours: Option<f64>,
    /// Consecutive events of a case whose (known) resources differ.
    pub transfers_total: u64,
    pub transfers_per_case: f64,
    pub cases_with_transfers: u64,
    /// Distinct ordered (from, to) resource pairs among transfers.
    pub handover_pairs: u64,
    /// % of cases whose first known resource is their last known resource (events without a
    /// resource are passed over), among cases with any resource.
    pub first_owner_resolution_pct: Option<f64>,
    pub first_owner_cases: u64,
    pub first_owner_resolved: u64,
    /// Cases left out of the first-owner figure because none of their events has a resource.
    pub first_owner_unknown: u64,
    /// Times a case re-entered a stage it had left.
    pub loops_total: u64,
    pub cases_with_loops: u64,
    /// Cases whose last activity is not a closing one; `None` when no activity of the log is a
    /// closing one under the rule in force.
    pub open_cases: Option<u64>,
    pub stages: Vec<StageRow>,
    pub agents: Vec<AgentRow>,
    pub teams: Vec<TeamRow>,
    pub transitions: Vec<TransitionRow>,
    pub handovers: Vec<HandoverRow>,
    pub escalation: EscalationSummary,
    pub comments: CommentSummary,
    pub groups: Option<FlowGroups>,
    /// Which cases these are and how they were chosen ([`crate::run_query`]); only on the
    /// top-level report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionSummary>,
    /// The escalation and closing rules in force and what they matched; only on the top-level
    /// report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesInForce>,
    /// Diagnostics: what the analysis could not do as asked, and why.
    pub notes: Vec<String>,
}

/// The cases a report covers and how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectionSummary {
    pub cases_in_log: u64,
    pub cases_selected: u64,
    pub window: Option<WindowSummary>,
    pub filters: Vec<FilterSummary>,
}

/// A time window on cases (UTC, ISO 8601).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowSummary {
    pub from: Option<String>,
    pub before: Option<String>,
    /// What the window selects, in words.
    pub meaning: String,
}

/// One case filter: the cases whose `dimension` is `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterSummary {
    pub dimension: String,
    pub value: String,
    /// How a case's value is chosen, in words.
    pub meaning: String,
}

/// Per stage (activity, or lifecycle stage under a mapping). Stage time runs from an event to
/// the next event of the same case and is counted for the first event's stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRow {
    pub stage: String,
    pub events: u64,
    /// Cases that visit the stage.
    pub cases: u64,
    pub rework_cases: u64,
    /// Times a case re-entered the stage after leaving it.
    pub loops: u64,
    /// Stage-time intervals (events of the stage that have a next event).
    pub intervals: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub mean_hours: Option<f64>,
    pub total_hours: f64,
    pub comments: u64,
    pub positive_comments: u64,
    pub negative_comments: u64,
    pub cases_with_comments: u64,
    pub cases_with_positive: u64,
    pub cases_with_negative: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    pub agent: String,
    /// The agent's display name, when the caller knows it (the store does; a log file does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The agent's team as the caller knows it (the store's agents file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub events: u64,
    pub transfers_out: u64,
    pub transfers_in: u64,
    /// Cases this agent owned first (first event), with a known last resource.
    pub first_owner_cases: u64,
    pub first_owner_resolved: u64,
    pub first_owner_resolution_pct: Option<f64>,
}

/// First-owner resolution by the team of the case's first event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamRow {
    pub team: String,
    pub first_owner_cases: u64,
    pub first_owner_resolved: u64,
    pub first_owner_resolution_pct: Option<f64>,
}

/// A directly-follows edge with its count and mean time between the two events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionRow {
    pub from: String,
    pub to: String,
    pub count: u64,
    pub mean_hours: f64,
}

/// One cell of the handover matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoverRow {
    pub from: String,
    pub to: String,
    pub transfers: u64,
    /// The display names of `from` and `to`, when the caller knows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationSummary {
    /// False when no activity or stage of the log is an escalation under the rule in force (see
    /// [`FlowReport::rules`]); all figures are then 0.
    pub recognised: bool,
    /// Entries into an escalation activity/stage (consecutive escalation events count once).
    pub escalations_total: u64,
    pub escalations_per_case: f64,
    pub escalated_cases: u64,
    pub escalation_rate_pct: Option<f64>,
    /// Escalated cases still open; `None` when no activity of the log is a closing one.
    pub open_escalated_cases: Option<u64>,
    /// The first `max_listed_cases` open escalated cases, in case order.
    pub open_escalated_case_ids: Vec<String>,
}

/// Comments (events with text or a sentiment score). Positive: compound >= 0.05; negative:
/// compound <= -0.05.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommentSummary {
    pub comments: u64,
    pub scored: u64,
    pub positive: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowGroups {
    pub by: String,
    pub groups: Vec<FlowGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowGroup {
    pub key: String,
    /// The display name of `key` (an agent, customer or product), when the caller knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub report: FlowReport,
}

/// The handover matrix: `counts[i][j]` = transfers from `agents[i]` to `agents[j]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoverMatrix {
    pub agents: Vec<String>,
    pub counts: Vec<Vec<u64>>,
}

impl HandoverMatrix {
    /// The matrix of a report, agents in name order.
    pub fn from_report(report: &FlowReport) -> HandoverMatrix {
        let mut agents: Vec<String> = report
            .handovers
            .iter()
            .flat_map(|h| [h.from.clone(), h.to.clone()])
            .collect();
        agents.sort();
        agents.dedup();
        let at = |a: &str| agents.binary_search_by(|x| x.as_str().cmp(a)).ok();
        let mut counts = vec![vec![0u64; agents.len()]; agents.len()];
        for h in &report.handovers {
            if let (Some(i), Some(j)) = (at(&h.from), at(&h.to)) {
                counts[i][j] += h.transfers;
            }
        }
        HandoverMatrix { agents, counts }
    }

    /// CSV: a header `from\to,<agent>…`, then one row per sending agent.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("from\\to");
        for a in &self.agents {
            out.push(',');
            out.push_str(&csv_field(a));
        }
        out.push('\n');
        for (a, row) in self.agents.iter().zip(&self.counts) {
            out.push_str(&csv_field(a));
            for c in row {
                let _ = write!(out, ",{c}");
            }
            out.push('\n');
        }
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A duration in the unit a person reads best: seconds, minutes, hours, or days past two days.
fn hours(v: Option<f64>) -> String {
    match v {
        Some(h) if h >= 48.0 => format!("{:.1}d", h / 24.0),
        Some(h) if h >= 1.0 => format!("{h:.1}h"),
        Some(h) if h * 60.0 >= 1.0 => format!("{:.0}m", h * 60.0),
        Some(h) => format!("{:.0}s", h * 3600.0),
        None => "-".to_string(),
    }
}

/// 12345678 -> "12,345,678".
fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An id with its display name beside it, when there is one: `A7 (Ann Lee)`.
fn named(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{id} ({n})"),
        None => id.to_string(),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"))
}

/// A plain-text table: columns padded to their widest cell, numbers right-aligned.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        for (i, c) in cells.iter().enumerate() {
            let width = w.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(c.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            // First column is a name: left-aligned; the rest are figures.
            if i == 0 {
                out.push_str(c);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            }
        }
        out.push('\n');
    };
    let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    line(out, &head);
    let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
    line(out, &rule);
    for r in rows {
        line(out, r);
    }
}

/// How many rows of the long tables (agents, transitions, handovers) the text shows.
const TOP: usize = 15;

/// The report as plain-text tables, for a terminal.
pub fn render_text(report: &FlowReport) -> String {
    let mut out = String::new();
    render_into(&mut out, report, true);
    out
}

/// The selection line: which cases, chosen how. Empty when every case of the log is in.
fn render_selection(out: &mut String, s: &SelectionSummary) {
    if s.window.is_none() && s.filters.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "selection: {} of {} cases",
        count(s.cases_selected),
        count(s.cases_in_log)
    );
    if let Some(w) = &s.window {
        let _ = write!(
            out,
            "; started {}{}{} (all their events count, also those after the window)",
            w.from
                .as_deref()
                .map_or_else(String::new, |f| format!("from {f}")),
            if w.from.is_some() && w.before.is_some() {
                " "
            } else {
                ""
            },
            w.before
                .as_deref()
                .map_or_else(String::new, |b| format!("before {b}")),
        );
    }
    for f in &s.filters {
        let _ = write!(out, "; {} = {} ({})", f.dimension, f.value, f.meaning);
    }
    out.push('\n');
}

fn render_rule(out: &mut String, what: &str, r: &RuleInForce) {
    let matched = if r.matched.is_empty() {
        "none in this log".to_string()
    } else {
        r.matched.join(", ")
    };
    let _ = writeln!(out, "{what} activities: {matched} ({})", r.rule);
}

fn render_into(out: &mut String, r: &FlowReport, with_groups: bool) {
    if let Some(s) = &r.selection {
        render_selection(out, s);
    }
    let _ = writeln!(
        out,
        "{} events in {} cases; {} directly-follows pairs over {} distinct edges",
        count(r.events),
        count(r.cases),
        count(r.dfg_total),
        count(r.dfg_edges)
    );
    let _ = writeln!(
        out,
        "case duration: median {}, p90 {}, mean {}",
        hours(r.median_case_duration_hours),
        hours(r.p90_case_duration_hours),
        hours(r.mean_case_duration_hours)
    );
    let _ = writeln!(
        out,
        "transfers: {} ({:.2} per case, {} cases with at least one), {} distinct handover pairs",
        count(r.transfers_total),
        r.transfers_per_case,
        count(r.cases_with_transfers),
        count(r.handover_pairs)
    );
    let _ = writeln!(
        out,
        "resolved by first owner: {} ({} of {} cases; {} with no known owner)",
        pct(r.first_owner_resolution_pct),
        count(r.first_owner_resolved),
        count(r.first_owner_cases),
        count(r.first_owner_unknown)
    );
    let _ = writeln!(
        out,
        "loops: {} re-entries into a stage already left, in {} cases",
        count(r.loops_total),
        count(r.cases_with_loops)
    );
    if let Some(open) = r.open_cases {
        let _ = writeln!(out, "open cases: {}", count(open));
    }
    if let Some(rules) = &r.rules {
        render_rule(out, "escalation", &rules.escalation);
        render_rule(out, "closing", &rules.closing);
    }
    let e = &r.escalation;
    if e.recognised {
        let _ = write!(
            out,
            "escalations: {} ({:.2} per case) in {} cases ({})",
            count(e.escalations_total),
            e.escalations_per_case,
            count(e.escalated_cases),
            pct(e.escalation_rate_pct)
        );
        if let Some(o) = e.open_escalated_cases {
            let _ = write!(out, ", {} still open", count(o));
        }
        out.push('\n');
    }
    if r.comments.comments > 0 {
        let c = &r.comments;
        let _ = writeln!(
            out,
            "comments: {} ({} scored: {} positive, {} negative)",
            count(c.comments),
            count(c.scored),
            count(c.positive),
            count(c.negative)
        );
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .stages
        .iter()
        .map(|s| {
            vec![
                s.stage.clone(),
                count(s.events),
                count(s.cases),
                hours(s.median_hours),
                hours(s.p90_hours),
                count(s.loops),
                count(s.rework_cases),
                format!(
                    "{}/{}",
                    count(s.positive_comments),
                    count(s.negative_comments)
                ),
            ]
        })
        .collect();
    table(
        out,
        &[
            "stage",
            "events",
            "cases",
            "median",
            "p90",
            "loops",
            "rework",
            "comments +/-",
        ],
        &rows,
    );
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .agents
        .iter()
        .take(TOP)
        .map(|a| {
            vec![
                named(&a.agent, a.name.as_deref()),
                count(a.events),
                count(a.transfers_out),
                count(a.transfers_in),
                count(a.first_owner_cases),
                pct(a.first_owner_resolution_pct),
            ]
        })
        .collect();
    table(
        out,
        &[
            "agent",
            "events",
            "transfers out",
            "in",
            "first-owned",
            "resolved",
        ],
        &rows,
    );
    if r.agents.len() > TOP {
        let _ = writeln!(
            out,
            "… {} more agents in the JSON output",
            count((r.agents.len() - TOP) as u64)
        );
    }
    if r.teams.len() > 1 || r.teams.first().is_some_and(|t| t.team != "(none)") {
        out.push('\n');
        let rows: Vec<Vec<String>> = r
            .teams
            .iter()
            .map(|t| {
                vec![
                    t.team.clone(),
                    count(t.first_owner_cases),
                    pct(t.first_owner_resolution_pct),
                ]
            })
            .collect();
        table(out, &["team", "first-owned", "resolved"], &rows);
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .handovers
        .iter()
        .take(TOP)
        .map(|h| {
            vec![
                named(&h.from, h.from_name.as_deref()),
                named(&h.to, h.to_name.as_deref()),
                count(h.transfers),
            ]
        })
        .collect();
    table(out, &["from", "to", "transfers"], &rows);
    if !e.open_escalated_case_ids.is_empty() {
        let _ = writeln!(
            out,
            "\nopen escalated cases: {}",
            e.open_escalated_case_ids.join(", ")
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let (true, Some(g)) = (with_groups, &r.groups) {
        out.push('\n');
        let rows: Vec<Vec<String>> = g
            .groups
            .iter()
            .map(|x| {
                let r = &x.report;
                vec![
                    named(&x.key, x.name.as_deref()),
                    count(r.cases),
                    count(r.events),
                    hours(r.median_case_duration_hours),
                    hours(r.p90_case_duration_hours),
                    format!("{:.2}", r.transfers_per_case),
                    pct(r.first_owner_resolution_pct),
                    count(r.loops_total),
                    count(r.escalation.escalated_cases),
                ]
            })
            .collect();
        table(
            out,
            &[
                &g.by,
                "cases",
                "events",
                "median",
                "p90",
                "transfers/case",
                "first owner",
                "loops",
                "escalated",
            ],
            &rows,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventLogBuilder, FlowConfig, GroupBy, Period, analyze};

    fn sample() -> FlowReport {
        let mut b = EventLogBuilder::new();
        let h = 3_600_000;
        let rows = [
            (
                "T-1",
                "new",
                0,
                Some("ann"),
                "L1",
                Some("my router is broken, awful"),
            ),
            ("T-1", "open", h, Some("ann"), "L1", None),
            (
                "T-1",
                "escalated",
                5 * h,
                Some("bob, jr"),
                "L2",
                Some("moved to L2"),
            ),
            ("T-1", "open", 30 * h, Some("bob, jr"), "L2", None),
            (
                "T-1",
                "closed",
                50 * h,
                Some("bob, jr"),
                "L2",
                Some("thanks, great help"),
            ),
            ("T-2", "new", 10 * h, None, "L1", None),
            ("T-2", "open", 11 * h, Some("ann"), "L1", None),
            ("T-2", "escalated", 12 * h, Some("cy"), "L2", None),
        ];
        for (case, activity, t, resource, team, text) in rows {
            b.push(&Event {
                case,
                activity,
                time_ms: t,
                resource,
                team: Some(team),
                text,
                attributes: &[],
            })
            .unwrap();
        }
        let mut log = b.finish();
        let scores = vec![
            Some(-0.7),
            None,
            Some(0.0),
            None,
            Some(0.8),
            None,
            None,
            None,
        ];
        log.set_sentiment(scores).unwrap();
        let cfg = FlowConfig {
            escalation: Some(vec!["escalated".into()]),
            closing: Some(vec!["closed".into()]),
            group_by: Some(GroupBy::Period(Period::Day)),
            ..FlowConfig::default()
        };
        analyze(&log, &cfg)
    }

    #[test]
    fn counts_get_separators_and_names_stand_beside_ids() {
        assert_eq!(count(382_396), "382,396");
        assert_eq!(count(999), "999");
        let mut r = sample();
        r.events = 382_396;
        r.agents[0].name = Some("Ann Lee".into());
        let first = r.agents[0].agent.clone();
        let text = render_text(&r);
        assert!(text.contains("382,396 events in"), "{text}");
        assert!(text.contains(&format!("{first} (Ann Lee)")), "{text}");
    }

    #[test]
    fn durations_read_in_a_sensible_unit() {
        let shown: Vec<String> = [Some(0.001), Some(0.5), Some(5.25), Some(72.0), None]
            .into_iter()
            .map(hours)
            .collect();
        assert_eq!(shown, ["4s", "30m", "5.2h", "3.0d", "-"]);
    }

    #[test]
    fn text_rendering() {
        insta::assert_snapshot!(render_text(&sample()));
    }

    #[test]
    fn json_and_handover_exports() {
        let r = sample();
        insta::assert_snapshot!(HandoverMatrix::from_report(&r).to_csv());
        insta::assert_json_snapshot!(serde_json::to_value(&r.escalation).unwrap());
        let m = serde_json::to_value(HandoverMatrix::from_report(&r)).unwrap();
        assert_eq!(m["agents"].as_array().unwrap().len(), 3);
    }
}
