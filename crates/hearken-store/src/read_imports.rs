//! Read-only views of the store's bookkeeping for the query layer: the history of imports (with
//! who ran them, on which machine, and what became of their quarantined rows) and the row counts
//! of a data scope.

use rusqlite::ToSql;
use serde::Serialize;

use crate::read::placeholders;
use crate::{Store, StoreError};

/// One import as recorded, for the list of past imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportHistoryRow {
    pub id: i64,
    pub kind: String,
    /// The file as it was named to the import.
    pub file: String,
    /// Its absolute path when the import started (recorded since schema 6).
    pub source: Option<String>,
    /// Unix seconds.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `finished`, `running` or `interrupted`.
    pub state: String,
    /// For an interrupted import: the later import of the same file that completed it.
    pub completed_by: Option<i64>,
    pub read: i64,
    pub stored: i64,
    pub duplicates: i64,
    pub quarantined: i64,
    pub skipped: i64,
    /// Skipped rows per mapping rule reason, most first.
    pub skipped_reasons: Vec<(String, i64)>,
    /// Of its quarantined rows, those still open (not stored since, superseded or cleared).
    pub open_quarantine: i64,
    /// The machine and process that ran it (recorded since schema 6).
    pub host: Option<String>,
    pub pid: Option<i64>,
    /// Whether it came from `hearken demo` (synthetic data).
    pub demo: bool,
}

/// Row counts of a data scope (see `hearken_query::Scope`): customers of its segments, agents of
/// its teams, and the signals and survey responses whose customer and agent are in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScopeCounts {
    pub customers: u64,
    pub agents: u64,
    pub signals: u64,
    pub surveys: u64,
}

impl Store {
    /// Imports, newest first, at most `limit`, only those with an id below `before` when given.
    pub fn import_history(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<ImportHistoryRow>, StoreError> {
        let running: Vec<i64> = self.imports_in_progress()?.iter().map(|r| r.id).collect();
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.kind, i.file, i.source, i.started_at, i.finished_at, i.read, i.stored,
                    i.duplicates, i.quarantined, i.skipped, i.host, i.pid, i.demo,
                    (SELECT min(j.id) FROM imports j WHERE j.fingerprint = i.fingerprint
                       AND j.kind = i.kind AND j.id > i.id AND j.finished_at IS NOT NULL),
                    (SELECT count(*) FROM quarantine q WHERE q.import_id = i.id
                       AND q.resolved_at IS NULL)
             FROM imports i WHERE (?1 IS NULL OR i.id < ?1) ORDER BY i.id DESC LIMIT ?2",
        )?;
        let mut reasons = self.conn.prepare_cached(
            "SELECT reason, rows FROM import_skips WHERE import_id = ?1 ORDER BY rows DESC, reason",
        )?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = stmt.query_map(rusqlite::params![before, limit], |r| {
            let id: i64 = r.get(0)?;
            let finished_at: Option<i64> = r.get(5)?;
            let completed_by: Option<i64> = r.get(14)?;
            let state = match finished_at {
                Some(_) => "finished",
                None if running.contains(&id) => "running",
                None => "interrupted",
            };
            Ok(ImportHistoryRow {
                id,
                kind: r.get(1)?,
                file: r.get(2)?,
                source: r.get(3)?,
                started_at: r.get(4)?,
                finished_at,
                state: state.into(),
                completed_by: if state == "interrupted" {
                    completed_by
                } else {
                    None
                },
                read: r.get(6)?,
                stored: r.get(7)?,
                duplicates: r.get(8)?,
                quarantined: r.get(9)?,
                skipped: r.get(10)?,
                skipped_reasons: Vec::new(),
                open_quarantine: r.get(15)?,
                host: r.get(11)?,
                pid: r.get(12)?,
                demo: r.get::<_, i64>(13)? == 1,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let mut rec = row?;
            rec.skipped_reasons = reasons
                .query_map([rec.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            out.push(rec);
        }
        Ok(out)
    }

    /// The row counts of the scope of `segments` and `teams` (empty: no limit on that
    /// dimension; a row without a customer or agent is outside a limit on it).
    pub fn scope_counts(
        &self,
        segments: &[String],
        teams: &[String],
    ) -> Result<ScopeCounts, StoreError> {
        let count = |sql: &str, params: &[&String]| -> Result<u64, StoreError> {
            let refs: Vec<&dyn ToSql> = params.iter().map(|p| *p as &dyn ToSql).collect();
            let n: i64 = self.conn.query_row(sql, refs.as_slice(), |r| r.get(0))?;
            Ok(n.max(0) as u64)
        };
        let within = |column: &str, list: &[String]| {
            if list.is_empty() {
                "1".to_string()
            } else {
                format!("{column} IN ({})", placeholders(list.len()))
            }
        };
        let seg: Vec<&String> = segments.iter().collect();
        let team: Vec<&String> = teams.iter().collect();
        let both: Vec<&String> = segments.iter().chain(teams).collect();
        let rows = |table: &str| {
            format!(
                "SELECT count(*) FROM {table} x WHERE ({}) AND ({})",
                if segments.is_empty() {
                    "1".to_string()
                } else {
                    format!(
                        "x.customer_id IN (SELECT id FROM customers WHERE {})",
                        within("segment", segments)
                    )
                },
                if teams.is_empty() {
                    "1".to_string()
                } else {
                    format!(
                        "x.agent_id IN (SELECT id FROM agents WHERE {})",
                        within("team", teams)
                    )
                },
            )
        };
        Ok(ScopeCounts {
            customers: count(
                &format!(
                    "SELECT count(*) FROM customers WHERE {}",
                    within("segment", segments)
                ),
                &seg,
            )?,
            agents: count(
                &format!(
                    "SELECT count(*) FROM agents WHERE {}",
                    within("team", teams)
                ),
                &team,
            )?,
            signals: count(&rows("signals"), &both)?,
            surveys: count(&rows("surveys"), &both)?,
        })
    }
}
