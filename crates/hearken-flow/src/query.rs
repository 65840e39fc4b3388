//! Asking the flow analysis a question: which cases (a time window and case properties), grouped
//! how, under which configuration. One function, [`run_query`]: filters and configuration in,
//! report out. What it cannot honour (a property the log does not have, a value no case has, an
//! empty window) is a [`QueryError`], never ignored.
//!
//! Semantics (printed with every report that selects cases, see [`crate::SelectionSummary`]):
//! - A time window selects the cases that *started* in it: their first event is at or after
//!   `from` and before `to`. All their events count, also those after the window, so a case's
//!   duration, loops and transfers are never cut off at the window's edge.
//! - A case has one value per [`Dimension`]: its team is the team it ended with (the team of its
//!   last event, in time order, that names one: the team that resolved it, or holds it while
//!   open); its agent is its first owner (the resource of its first event that has one, as in
//!   first-owner resolution); an attribute (product, segment, customer, channel, any XES trace
//!   attribute) is the value at its first event that has one. Filters keep the cases whose value is the one asked for; a
//!   grouping puts each case in the group of its value (`(none)` when it has none).
//! - A data scope ([`CaseFilter::within`]) keeps the cases whose value of each dimension is one
//!   of a list, before anything else: for the question the log is those cases (the selection's
//!   `cases_in_log` counts them, refusals list their values only).

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use crate::analyze::{CaseValues, Context};
use crate::config::FlowConfig;
use crate::log::EventLog;
use crate::report::{FilterSummary, FlowReport, SelectionSummary, WindowSummary};

/// A property of a case, one value per case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The team the case ended with: the team of its last event that names a team.
    Team,
    /// The case's first owner: the resource of its first event that has one.
    Agent,
    /// An attribute column of the log (`product`, `segment`, `customer`, `channel`, or any XES
    /// trace attribute): the value at the case's first event that has one.
    Attribute(String),
}

impl Dimension {
    /// The name used in messages and headings: `team`, `agent`, `product` ...
    pub fn label(&self) -> &str {
        match self {
            Dimension::Team => "team",
            Dimension::Agent => "agent",
            Dimension::Attribute(a) => a,
        }
    }

    /// How a case's value is chosen, in words.
    pub fn meaning(&self) -> String {
        match self {
            Dimension::Team => {
                "the team the case ended with: of its last event that names a team".to_string()
            }
            Dimension::Agent => {
                "the case's first owner: the agent of its first event that names one".to_string()
            }
            Dimension::Attribute(a) => {
                format!("the case's {a}: at its first event that has one")
            }
        }
    }
}

/// Which cases to analyse. Empty: every case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Cases whose first event is at or after this time (ms since the Unix epoch, UTC).
    pub started_from_ms: Option<i64>,
    /// Cases whose first event is before this time.
    pub started_before_ms: Option<i64>,
    /// Cases whose value of each dimension is the given one (all must hold).
    pub equals: Vec<(Dimension, String)>,
    /// A data scope: only cases whose value of each dimension is one of the listed ones (all
    /// must hold; a case without a value, or a log without the dimension, is outside). Applied
    /// first: the log is then these cases, for the other filters, `cases_in_log` and the values
    /// errors list. Values no case has are not an error.
    pub within: Vec<(Dimension, Vec<String>)>,
}

impl CaseFilter {
    pub fn is_empty(&self) -> bool {
        self.started_from_ms.is_none()
            && self.started_before_ms.is_none()
            && self.equals.is_empty()
            && self.within.is_empty()
    }
}

/// A case-flow question: the configuration (lifecycle, escalation and closing rules, grouping)
/// and the cases to look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowQuery {
    pub config: FlowConfig,
    pub filter: CaseFilter,
}

/// Why a question cannot be answered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("cannot {action} by {dimension}: {reason}")]
    MissingDimension {
        /// `select cases` or `group cases`.
        action: &'static str,
        dimension: String,
        reason: String,
    },
    #[error(
        "no case has {dimension} '{value}'{hint}; the {dimension} values of the cases: {known}"
    )]
    UnknownValue {
        dimension: String,
        value: String,
        /// ` (did you mean 'X'?)` or empty.
        hint: String,
        known: String,
    },
    #[error("the time window is empty: its start ({from}) is not before its end ({to})")]
    EmptyWindow { from: String, to: String },
}

/// Runs a case-flow question on a log: selects the cases, computes every figure (per group too)
/// and says in the report which cases were selected and how ([`FlowReport::selection`]) and
/// which escalation and closing rules were in force ([`FlowReport::rules`]).
pub fn run_query(log: &EventLog, q: &FlowQuery) -> Result<FlowReport, QueryError> {
    run(log, q, None)
}

/// [`run_query`] over an excerpt of a larger log: `log` holds every case of the larger log that
/// started in the window of `q` (with all their events) and declares every activity of the
/// larger log ([`EventLog::declare_activities`]), and `cases_in_log` is how many cases the
/// larger log has. The report is then the one [`run_query`] gives on the larger log, provided
/// the question needs nothing else of it: no scope (`within`), no `equals` filter (their known
/// values come from every case) and no grouping but by period; such a question is refused
/// here with [`QueryError::MissingDimension`] rather than answered differently.
pub fn run_query_on_window(
    log: &EventLog,
    q: &FlowQuery,
    cases_in_log: u64,
) -> Result<FlowReport, QueryError> {
    let f = &q.filter;
    let windowed = f.started_from_ms.is_some() || f.started_before_ms.is_some();
    let by_period = matches!(q.config.group_by, None | Some(crate::GroupBy::Period(_)));
    if !windowed || !f.within.is_empty() || !f.equals.is_empty() || !by_period {
        return Err(QueryError::MissingDimension {
            action: "select cases",
            dimension: "window".to_string(),
            reason: "an excerpt of a log answers only a window, without scope, filters or a \
                     grouping other than by period"
                .to_string(),
        });
    }
    run(log, q, Some(cases_in_log))
}

fn run(log: &EventLog, q: &FlowQuery, cases_in_log: Option<u64>) -> Result<FlowReport, QueryError> {
    let f = &q.filter;
    if let (Some(a), Some(b)) = (f.started_from_ms, f.started_before_ms)
        && a >= b
    {
        return Err(QueryError::EmptyWindow {
            from: iso(a),
            to: iso(b),
        });
    }
    let ctx = Context::new(log, &q.config);
    let mut all = ctx.all_cases();
    for (dim, list) in &f.within {
        match ctx.dimension_values(dim) {
            Ok(values) => {
                let allowed: Vec<bool> = values.names.iter().map(|n| list.contains(n)).collect();
                all.retain(|&c| {
                    allowed
                        .get(values.of_case[c as usize] as usize)
                        .copied()
                        .unwrap_or(false)
                });
            }
            // No case has a value: none is inside.
            Err(_) => all.clear(),
        }
    }
    // The grouping is checked before any case is selected: a grouping the log cannot give is
    // refused whatever the selection.
    let groups = match &q.config.group_by {
        Some(by) => {
            let values = ctx
                .group_values(by)
                .map_err(|m| QueryError::MissingDimension {
                    action: "group cases",
                    dimension: by.label(),
                    reason: m.to_string(),
                })?;
            Some((by.label(), values))
        }
        None => None,
    };
    let mut keep = all.clone();
    if f.started_from_ms.is_some() || f.started_before_ms.is_some() {
        let times = log.times_ms();
        keep.retain(|&c| {
            let Some(&e) = ctx.case_events(c).first() else {
                return false;
            };
            let t = times[e as usize];
            f.started_from_ms.is_none_or(|a| t >= a) && f.started_before_ms.is_none_or(|b| t < b)
        });
    }
    let mut filters = Vec::new();
    for (dim, value) in &f.equals {
        let values = ctx
            .dimension_values(dim)
            .map_err(|m| QueryError::MissingDimension {
                action: "select cases",
                dimension: dim.label().to_string(),
                reason: m.to_string(),
            })?;
        let code = value_code(&values, &all, dim, value)?;
        keep.retain(|&c| values.of_case[c as usize] == code);
        filters.push(FilterSummary {
            dimension: dim.label().to_string(),
            value: value.clone(),
            meaning: dim.meaning(),
        });
    }
    let cases_in_log = cases_in_log.unwrap_or(all.len() as u64);
    let mut notes = Vec::new();
    if keep.is_empty() && cases_in_log > 0 {
        notes.push("no case matches the selection".to_string());
    }
    let mut report = ctx.full_report(&keep, groups, notes);
    let window =
        (f.started_from_ms.is_some() || f.started_before_ms.is_some()).then(|| WindowSummary {
            from: f.started_from_ms.map(iso),
            before: f.started_before_ms.map(iso),
            meaning: "cases that started in the window (first event at or after `from` and \
                      before `before`), with all their events, also those after the window"
                .to_string(),
        });
    report.selection = Some(SelectionSummary {
        cases_in_log,
        cases_selected: keep.len() as u64,
        window,
        filters,
    });
    Ok(report)
}

/// The code of `value` among the values cases have, or an error listing them.
fn value_code(
    values: &CaseValues,
    all: &[u32],
    dim: &Dimension,
    value: &str,
) -> Result<u32, QueryError> {
    let mut used = vec![false; values.names.len()];
    for &c in all {
        if let Some(u) = used.get_mut(values.of_case[c as usize] as usize) {
            *u = true;
        }
    }
    let found = values
        .names
        .iter()
        .enumerate()
        .find(|(i, n)| used[*i] && *n == value)
        .map(|(i, _)| i as u32);
    if let Some(code) = found {
        return Ok(code);
    }
    let mut known: Vec<&str> = values
        .names
        .iter()
        .enumerate()
        .filter(|(i, _)| used[*i])
        .map(|(_, n)| n.as_str())
        .collect();
    known.sort_unstable();
    let hint = known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(value.trim()))
        .map_or_else(String::new, |k| format!(" (did you mean '{k}'?)"));
    let shown = if known.len() > 20 {
        format!("{}, ... ({} in all)", known[..20].join(", "), known.len())
    } else if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    Err(QueryError::UnknownValue {
        dimension: dim.label().to_string(),
        value: value.to_string(),
        hint,
        known: shown,
    })
}

fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("{ms} ms"),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventLogBuilder};

    fn log() -> EventLog {
        let h = 3_600_000;
        let mut b = EventLogBuilder::new();
        for (case, activity, t, resource, team) in [
            ("A", "new", 0, "ann", "t1"),
            ("A", "closed", h, "bob", "t2"),
            ("B", "new", 0, "cy", "t2"),
            ("B", "closed", 2 * h, "cy", "t1"),
            ("C", "new", h, "ann", "t1"),
            ("C", "closed", 3 * h, "ann", "t1"),
        ] {
            b.push(&Event {
                case,
                activity,
                time_ms: t,
                resource: Some(resource),
                team: Some(team),
                text: None,
                attributes: &[],
            })
            .unwrap();
        }
        b.finish()
    }

    fn ask(filter: CaseFilter) -> Result<FlowReport, QueryError> {
        run_query(
            &log(),
            &FlowQuery {
                filter,
                ..FlowQuery::default()
            },
        )
    }

    #[test]
    fn within_keeps_the_cases_of_the_listed_values_and_is_their_whole_log() {
        // Teams the cases ended with: A t2, B t1, C t1.
        let within = ask(CaseFilter {
            within: vec![(Dimension::Team, vec!["t1".into()])],
            ..CaseFilter::default()
        })
        .unwrap();
        let equals = ask(CaseFilter {
            equals: vec![(Dimension::Team, "t1".into())],
            ..CaseFilter::default()
        })
        .unwrap();
        assert_eq!(within.cases, 2);
        assert_eq!(
            (
                within.events,
                within.transfers_total,
                within.first_owner_resolved
            ),
            (
                equals.events,
                equals.transfers_total,
                equals.first_owner_resolved
            )
        );
        let s = within.selection.unwrap();
        assert_eq!((s.cases_in_log, s.cases_selected), (2, 2));
        assert_eq!(equals.selection.unwrap().cases_in_log, 3);
        // Values no case has select nothing, without an error; so does a missing dimension.
        let none = ask(CaseFilter {
            within: vec![(Dimension::Team, vec!["t9".into()])],
            ..CaseFilter::default()
        })
        .unwrap();
        assert_eq!(none.cases, 0);
        let missing = ask(CaseFilter {
            within: vec![(Dimension::Attribute("segment".into()), vec!["smb".into()])],
            ..CaseFilter::default()
        })
        .unwrap();
        assert_eq!(missing.cases, 0);
        // A filter's known values are those of the cases within.
        let e = ask(CaseFilter {
            within: vec![(Dimension::Team, vec!["t1".into()])],
            equals: vec![(Dimension::Agent, "nobody".into())],
            ..CaseFilter::default()
        })
        .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("ann") && m.contains("cy") && !m.contains("bob"),
            "{m}"
        );
    }
}
