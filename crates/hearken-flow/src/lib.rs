//! Hearken's case-flow analytics.
//!
//! Owns the columnar event log ([`EventLog`]) and every case-flow figure computed from it:
//! directly-follows pairs, rework, case and stage durations, loops, transfers and the handover
//! matrix, first-owner resolution, escalations and comment sentiment per stage — overall, per
//! group of cases and under a lifecycle mapping of activities to stages ([`analyze`]).
//!
//! Definitions (the contract the tests check against PM4Py):
//! - Events of a case are ordered by timestamp; events at the same time keep their input order.
//! - Directly-follows pairs are consecutive events of a case; `dfg_total` counts them,
//!   `dfg_edges` counts the distinct (stage, next stage) pairs.
//! - Rework: per stage, the cases in which it occurs more than once.
//! - Case duration: last event time minus first. Medians and p90s interpolate linearly between
//!   ranks (numpy's default).
//! - Stage time: from an event to the next event of the same case, for the first event's stage.
//!   A loop is an event whose stage the case visited before but not at the event before.
//! - Transfer: consecutive events of a case whose resources are both known and differ.
//! - First-owner resolution: the share of cases whose first event's resource is the resource of
//!   their last event. Events without a resource are passed over (the first owner is the first
//!   known resource, the last owner the last known one); cases with no resource at all are
//!   counted apart (`first_owner_unknown`). Per team: the team at the first owner's event.
//! - Escalations and closing activities: by default recognised from common names
//!   ([`rules`]: `escalated`, `Escalate to L2`, `transferred to 2nd line`; `closed`, `resolved`,
//!   `solved`, `done` ...); configured names replace the rule. Every report says the rules in
//!   force and what they matched ([`FlowReport::rules`]).
//! - Selection and grouping ([`run_query`]): a time window selects the cases that started in
//!   it (with all their events); a case's team is the team it ended with, its agent its first
//!   owner, an attribute its value at the first event that has one ([`Dimension`]).
//!
//! Architecture invariant: no IO, no clock, no globals. Readers (hearken-eventlog) and the store
//! build an [`EventLog`]; sentiment comes in as a column, so this crate knows nothing about text
//! scoring.

mod analyze;
mod config;
mod hash;
mod log;
mod query;
mod report;
pub mod rules;

pub use analyze::{CaseStageComments, analyze, comments_by_case_stage};
pub use config::{FlowConfig, GroupBy, Period};
pub use log::{
    AttrColumn, CaseEventColumns, CodedEvent, Dict, Event, EventLog, EventLogBuilder, LogError,
    MAX_EVENTS, NONE,
};
pub use query::{CaseFilter, Dimension, FlowQuery, QueryError, run_query, run_query_on_window};
pub use report::{
    AgentRow, CommentSummary, EscalationSummary, FilterSummary, FlowGroup, FlowGroups, FlowReport,
    HandoverMatrix, HandoverRow, SelectionSummary, StageRow, TeamRow, TransitionRow, WindowSummary,
    render_text,
};
pub use rules::{RuleInForce, RuleSource, RulesInForce};
