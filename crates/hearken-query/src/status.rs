//! The store's state: row counts, schema version, snapshot freshness, the quarantine and the
//! history of imports.
//!
//! Imports and quarantined rows belong to no segment or team (a quarantined row could not be
//! read, so whose it is is unknown): a caller with a data scope is refused them
//! (`out_of_scope`), and its `status` counts only the rows of its slice.

use hearken_store::{FrameSource, StoreError};
use hearken_store::{ImportHistoryRow, ImportRecord, QuarantineEntry, QuarantineFilter};
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::scope::Scope;

/// Row counts per kind, the schema version, whether the snapshot is behind, and the recent
/// imports. Without a data scope every field is set and they are the store's (`hearken
/// status`); with one, the counts are the slice's and what is store-wide is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusResponse {
    /// The store file (`null` for a caller with a data scope).
    pub path: Option<String>,
    pub schema_version: i64,
    /// Opened read-only: analytics work, imports and clearing do not.
    pub read_only: bool,
    /// Customers (of the scope's segments).
    pub customers: i64,
    pub products: i64,
    /// Agents (of the scope's teams).
    pub agents: i64,
    /// Signals (whose customer and agent are in the scope).
    pub signals: i64,
    /// Survey responses (whose customer and agent are in the scope).
    pub surveys: i64,
    /// Cases and case events (`null` with a data scope: a case is in a scope by the team it
    /// ended with, which `flow` computes).
    pub cases: Option<i64>,
    pub case_events: Option<i64>,
    /// Open quarantine entries (`null` with a data scope).
    pub quarantined: Option<i64>,
    /// Rows skipped by mapping rules, over all imports (`null` with a data scope).
    pub skipped: Option<i64>,
    pub imports: Option<i64>,
    /// Imports whose process is running now: counts read now may be partial.
    pub running_imports: i64,
    /// Imports that started but never finished and are not running; rerunning the same import
    /// completes them (`null` with a data scope).
    pub interrupted_imports: Option<i64>,
    /// Whether the store holds data from `hearken demo` (synthetic).
    pub demo_data: bool,
    /// Whether the columnar snapshot the analytics read is up to date with the tables.
    pub snapshot_fresh: bool,
    /// The most recent imports, newest first (empty with a data scope).
    pub recent_imports: Vec<ImportRecord>,
    /// The data scope these counts are of (`null`: the whole store).
    pub scope: Option<Scope>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// Row counts per kind, the schema version and whether the snapshot is behind.
pub fn status(store: &dyn FrameSource, scope: &Scope) -> Result<StatusResponse> {
    let s = store.status()?;
    let partial = partial(store, scope)?;
    if !scope.is_limited() {
        return Ok(StatusResponse {
            path: Some(s.path),
            schema_version: s.schema_version,
            read_only: s.read_only,
            customers: s.customers,
            products: s.products,
            agents: s.agents,
            signals: s.signals,
            surveys: s.surveys,
            cases: Some(s.cases),
            case_events: Some(s.case_events),
            quarantined: Some(s.quarantined),
            skipped: Some(s.skipped),
            imports: Some(s.imports),
            running_imports: s.running_imports,
            interrupted_imports: Some(s.interrupted_imports),
            demo_data: s.demo_data,
            snapshot_fresh: s.snapshot_fresh,
            recent_imports: s.recent_imports,
            scope: None,
            notes: Vec::new(),
            partial,
        });
    }
    let c = store.scope_counts(&scope.segments, &scope.teams)?;
    Ok(StatusResponse {
        path: None,
        schema_version: s.schema_version,
        read_only: s.read_only,
        customers: c.customers as i64,
        products: s.products,
        agents: c.agents as i64,
        signals: c.signals as i64,
        surveys: c.surveys as i64,
        cases: None,
        case_events: None,
        quarantined: None,
        skipped: None,
        imports: None,
        running_imports: s.running_imports,
        interrupted_imports: None,
        demo_data: s.demo_data,
        snapshot_fresh: s.snapshot_fresh,
        recent_imports: Vec::new(),
        scope: Some(scope.clone()),
        notes: vec![
            "counts are of your data scope; imports, quarantine and cases are not counted here (cases: see flow)"
                .into(),
        ],
        partial,
    })
}

/// Which quarantined rows to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct QuarantineRequest {
    /// Every row this import quarantined, open or since closed.
    pub import: Option<i64>,
    /// Closed entries too (rows stored since, superseded by a later import of the same file, or
    /// cleared).
    pub all: bool,
    /// At most this many entries, oldest first (0: all).
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuarantineList {
    /// Oldest first: file, line, field, value, reason, the raw row, and whether it is still open.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub entries: Vec<QuarantineEntry>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// Quarantined rows with file, line, field, value, reason and the raw row: the open ones, all of
/// them, or every one of an import.
pub fn quarantine(
    store: &dyn hearken_store::FrameSource,
    scope: &Scope,
    req: &QuarantineRequest,
) -> Result<QuarantineList> {
    scope.store_wide("quarantined rows")?;
    let entries = store
        .quarantine_entries(&QuarantineFilter {
            import: req.import,
            all: req.all,
            limit: req.limit,
        })
        .map_err(no_such_import)?;
    Ok(QuarantineList {
        entries,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })
}

fn no_such_import(e: StoreError) -> QueryError {
    match e {
        StoreError::NoSuchImport { id, known } => QueryError::NotFound {
            what: "import",
            id: id.to_string(),
            hint: format!("{known}; `hearken imports` lists them"),
        },
        other => QueryError::Store(other),
    }
}

/// Which past imports to list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportsRequest {
    /// Imports per page, newest first (1 to 1,000).
    pub limit: usize,
    /// Where the page starts: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Default for ImportsRequest {
    fn default() -> ImportsRequest {
        ImportsRequest {
            limit: 50,
            cursor: None,
        }
    }
}

pub const MAX_IMPORTS_PAGE: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportsPage {
    /// Newest first, with their counts (`read = stored + duplicates + quarantined + skipped`),
    /// state, when, which file and which machine and process ran them.
    pub imports: Vec<ImportHistoryRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// The past imports, newest first, page by page.
pub fn imports(
    store: &dyn hearken_store::FrameSource,
    scope: &Scope,
    req: &ImportsRequest,
) -> Result<ImportsPage> {
    scope.store_wide("imports")?;
    if !(1..=MAX_IMPORTS_PAGE).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: format!("give 1 to {MAX_IMPORTS_PAGE} imports per page"),
        });
    }
    let before = req
        .cursor
        .as_deref()
        .map(|s| {
            s.parse::<i64>().ok().filter(|&v| v > 0).ok_or_else(|| {
                QueryError::InvalidRequest(format!(
                    "`cursor` '{s}' is not a cursor this server gave"
                ))
            })
        })
        .transpose()?;
    let mut rows = store.import_history(req.limit + 1, before)?;
    let more = rows.len() > req.limit;
    rows.truncate(req.limit);
    let next_cursor = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let mut notes = Vec::new();
    let interrupted = rows
        .iter()
        .filter(|r| r.state == "interrupted" && r.completed_by.is_none())
        .count();
    if interrupted > 0 {
        notes.push(format!(
            "{interrupted} import(s) on this page were interrupted: run the same import again to complete them"
        ));
    }
    Ok(ImportsPage {
        imports: rows,
        next_cursor,
        notes,
        partial: partial(store, scope)?,
    })
}
