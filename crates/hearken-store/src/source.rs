//! What the snapshot analytics of the query layer read, whichever database holds the rows
//! (ADR 0012): the frames of a window, the entities' attributes, display names and whether an
//! import is running. The SQLite [`Store`] answers from its columnar snapshot; the PostgreSQL
//! store (feature `postgres`) builds the same frames from its tables.
//!
//! The methods keep the names of the [`Store`]'s own, so code written against the store reads
//! the same through the trait.

use hearken_engine::{AgentFrame, CustomerFrame, SignalFrame, SurveyFrame};

use crate::frames::{SignalBrief, Window};
use crate::read::Entity;
use crate::snapshot::{CaseKpis, SignalColumns, SnapshotRefresh, SurveyColumns};
use crate::store::RunningImport;
use crate::{Store, StoreError};

/// Whether a store location (`--db`, `HEARKEN_DB`) names a PostgreSQL database (a
/// `postgres://` or `postgresql://` URL) rather than an SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The reads behind `scores`, `pareto`, `drivers`, `trends`, `repeats` and `issues`.
///
/// Frames follow the snapshot's conventions (`snapshot.rs`): rows in id order, entity codes
/// `id - 1` with dictionaries of external ids by code, strings (stage, topic, segment, persona,
/// team) coded in order of first appearance over the whole table, missing values as `NONE`,
/// `u8::MAX`, `NaN` or `i64::MIN`, and the columns not asked for left empty.
pub trait FrameSource {
    /// Whether the frames would be read from data behind the tables.
    fn snapshot_is_fresh(&self) -> Result<bool, StoreError>;
    /// Brings what the frames are read from up to date (nothing to do for a store that reads
    /// its tables directly).
    fn refresh_snapshot(
        &self,
        rebuild: bool,
        on_rows: &mut dyn FnMut(&str, u64),
    ) -> Result<SnapshotRefresh, StoreError>;
    fn snapshot_signals(
        &self,
        window: &Window,
        want: &SignalColumns,
    ) -> Result<SignalFrame, StoreError>;
    fn snapshot_surveys(
        &self,
        window: &Window,
        want: &SurveyColumns,
    ) -> Result<SurveyFrame, StoreError>;
    fn snapshot_customers(&self) -> Result<CustomerFrame, StoreError>;
    fn snapshot_agents(&self) -> Result<AgentFrame, StoreError>;
    fn snapshot_case_kpis(&self) -> Result<CaseKpis, StoreError>;
    /// The display names of external ids (`None` where there is none).
    fn display_names(
        &self,
        entity: Entity,
        ids: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError>;
    /// The imports writing now.
    fn imports_in_progress(&self) -> Result<Vec<RunningImport>, StoreError>;
    /// Signals by row id, for verbatims (ids that do not exist are left out).
    fn signal_briefs(&self, ids: &[i64]) -> Result<Vec<SignalBrief>, StoreError>;
    /// Imports, newest first, at most `limit`, only those with an id below `before` when given
    /// (`hearken imports`).
    fn import_history(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<crate::ImportHistoryRow>, StoreError>;
    /// Quarantine entries: the open ones, all of them, or every entry of one import; oldest
    /// first (`hearken quarantine`).
    fn quarantine_entries(
        &self,
        filter: &crate::QuarantineFilter,
    ) -> Result<Vec<crate::QuarantineEntry>, StoreError>;
    /// Row counts per kind, the schema version and the recent imports (`hearken status`).
    fn status(&self) -> Result<crate::Status, StoreError>;
    /// The row counts of the scope of `segments` and `teams` (empty: no limit on that
    /// dimension).
    fn scope_counts(
        &self,
        segments: &[String],
        teams: &[String],
    ) -> Result<crate::ScopeCounts, StoreError>;
    /// The case events of the cases that started in the window, with all their events, in the
    /// order they were imported (`flow`).
    fn case_event_rows(&self, window: &Window) -> Result<crate::CaseEventRows, StoreError>;
    /// Each case's customer, product, segment and channel (`flow` grouped or filtered by them).
    fn case_attributes(&self) -> Result<crate::CaseAttributeRows, StoreError>;
    /// The segment of a customer or the team of an agent: `None` when there is no such entity,
    /// `Some(None)` when it has none.
    fn entity_group(&self, entity: Entity, id: &str) -> Result<Option<Option<String>>, StoreError>;
    /// The distinct segments of customers, sorted (byte order).
    fn segments(&self) -> Result<Vec<String>, StoreError>;
    /// The distinct teams of agents, sorted (byte order).
    fn teams(&self) -> Result<Vec<String>, StoreError>;
    /// The external ids of an entity table, sorted (byte order), at most `limit`.
    fn entity_ids(&self, entity: Entity, limit: usize) -> Result<Vec<String>, StoreError>;
    /// The external ids of customers of these segments (or agents of these teams), sorted, at
    /// most `limit`, and how many there are.
    fn entity_ids_in(
        &self,
        entity: Entity,
        groups: &[String],
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError>;
    /// The newest `limit` signal texts of the query's selection (with their times), newest
    /// first (`themes`).
    fn signal_texts_where(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    /// The newest `limit` signals matching the query, newest import first (`signals`).
    fn signal_records(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<crate::SignalRecord>, StoreError>;
    /// The signal with this external id.
    fn signal_record(&self, id: &str) -> Result<Option<crate::SignalRecord>, StoreError>;
    /// The topics of the signals matching the query (the source's, else the predicted one),
    /// sorted (byte order).
    fn signal_topics_where(&self, q: &crate::SignalQuery) -> Result<Vec<String>, StoreError>;
    /// The customer with this external id (`read_entities.rs`, the same statements on both
    /// stores).
    fn customer_profile(&self, id: &str) -> Result<Option<crate::CustomerProfile>, StoreError>;
    /// The external ids of the cases linked to a customer, sorted (byte order).
    fn customer_cases(&self, id: &str) -> Result<Vec<String>, StoreError>;
    /// A customer's timeline: its signals and survey responses (those whose agent is of one of
    /// `teams`, when given) and the events of its cases (those whose team is one of `teams`),
    /// in time order (then signals, responses, events; then import order), at most `limit`
    /// after `after`.
    fn customer_timeline(
        &self,
        id: &str,
        teams: &[String],
        after: Option<crate::TimelineCursor>,
        limit: usize,
    ) -> Result<Vec<crate::TimelineItem>, StoreError>;
    /// The case with this external id, or `None`.
    fn case_header(&self, id: &str) -> Result<Option<crate::CaseHeader>, StoreError>;
    /// The events of these cases, each case's in time order (ties in import order), cases in
    /// the order given.
    fn case_events_of(&self, cases: &[String]) -> Result<Vec<crate::CaseEventRow>, StoreError>;
    /// A customer's signals (time and sentiment) whose agent is of one of `teams` (all when
    /// empty).
    fn customer_signal_sentiments(
        &self,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError>;
    /// A customer's survey responses (id, time, likelihood to recommend) whose agent is of one
    /// of `teams` (all when empty), in time order.
    fn customer_nps_answers(
        &self,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(String, i64, Option<u8>)>, StoreError>;
    /// The embedded store behind these frames, if that is what they come from: the query
    /// layer's answer cache is attached to an embedded store's connection (ADR 0013).
    fn embedded(&self) -> Option<&Store> {
        None
    }
}

impl FrameSource for Store {
    crate::read_entities::entity_reads!();
    fn embedded(&self) -> Option<&Store> {
        Some(self)
    }
    fn snapshot_is_fresh(&self) -> Result<bool, StoreError> {
        Store::snapshot_is_fresh(self)
    }
    fn refresh_snapshot(
        &self,
        rebuild: bool,
        on_rows: &mut dyn FnMut(&str, u64),
    ) -> Result<SnapshotRefresh, StoreError> {
        Store::refresh_snapshot(self, rebuild, on_rows)
    }
    fn snapshot_signals(
        &self,
        window: &Window,
        want: &SignalColumns,
    ) -> Result<SignalFrame, StoreError> {
        Store::snapshot_signals(self, window, want)
    }
    fn snapshot_surveys(
        &self,
        window: &Window,
        want: &SurveyColumns,
    ) -> Result<SurveyFrame, StoreError> {
        Store::snapshot_surveys(self, window, want)
    }
    fn snapshot_customers(&self) -> Result<CustomerFrame, StoreError> {
        Store::snapshot_customers(self)
    }
    fn snapshot_agents(&self) -> Result<AgentFrame, StoreError> {
        Store::snapshot_agents(self)
    }
    fn snapshot_case_kpis(&self) -> Result<CaseKpis, StoreError> {
        Store::snapshot_case_kpis(self)
    }
    fn display_names(
        &self,
        entity: Entity,
        ids: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        Store::display_names(self, entity, ids)
    }
    fn imports_in_progress(&self) -> Result<Vec<RunningImport>, StoreError> {
        Store::imports_in_progress(self)
    }
    fn signal_briefs(&self, ids: &[i64]) -> Result<Vec<SignalBrief>, StoreError> {
        Store::signal_briefs(self, ids)
    }
    fn import_history(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<crate::ImportHistoryRow>, StoreError> {
        Store::import_history(self, limit, before)
    }
    fn quarantine_entries(
        &self,
        filter: &crate::QuarantineFilter,
    ) -> Result<Vec<crate::QuarantineEntry>, StoreError> {
        Store::quarantine_entries(self, filter)
    }
    fn status(&self) -> Result<crate::Status, StoreError> {
        Store::status(self)
    }
    fn case_event_rows(&self, window: &Window) -> Result<crate::CaseEventRows, StoreError> {
        Store::case_event_rows(self, window)
    }
    fn case_attributes(&self) -> Result<crate::CaseAttributeRows, StoreError> {
        Store::case_attributes(self)
    }
    fn entity_group(&self, entity: Entity, id: &str) -> Result<Option<Option<String>>, StoreError> {
        Store::entity_group(self, entity, id)
    }
    fn segments(&self) -> Result<Vec<String>, StoreError> {
        Store::segments(self)
    }
    fn teams(&self) -> Result<Vec<String>, StoreError> {
        Store::teams(self)
    }
    fn entity_ids(&self, entity: Entity, limit: usize) -> Result<Vec<String>, StoreError> {
        Store::entity_ids(self, entity, limit)
    }
    fn entity_ids_in(
        &self,
        entity: Entity,
        groups: &[String],
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        Store::entity_ids_in(self, entity, groups, limit)
    }
    fn signal_texts_where(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        Store::signal_texts_where(self, q, limit)
    }
    fn signal_records(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<crate::SignalRecord>, StoreError> {
        Store::signal_records(self, q, limit)
    }
    fn signal_record(&self, id: &str) -> Result<Option<crate::SignalRecord>, StoreError> {
        Store::signal_record(self, id)
    }
    fn signal_topics_where(&self, q: &crate::SignalQuery) -> Result<Vec<String>, StoreError> {
        Store::signal_topics_where(self, q)
    }
    fn scope_counts(
        &self,
        segments: &[String],
        teams: &[String],
    ) -> Result<crate::ScopeCounts, StoreError> {
        Store::scope_counts(self, segments, teams)
    }
}
