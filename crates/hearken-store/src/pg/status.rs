//! `hearken status` and `hearken quarantine clear` on a PostgreSQL store: the SQLite store's
//! `status`, `scope_counts` and `clear_quarantine`, statement for statement, so both stores
//! print the same counts for the same rows and close the same entries.

use postgres::Client;

use super::{PgStore, pg_error};
use crate::StoreError;
use crate::import::now;
use crate::read::Entity;
use crate::read_imports::ScopeCounts;
use crate::source::FrameSource;
use crate::store::{Clearing, ImportRecord, RunningImport, Status};

fn count(client: &mut Client, sql: &str) -> Result<i64, StoreError> {
    let row = client
        .query_one(sql, &[])
        .map_err(|e| pg_error("counting the rows", e))?;
    row.try_get(0).map_err(|e| pg_error("counting the rows", e))
}

impl PgStore {
    /// Closes the open quarantine entries (of one import, or all) deliberately, and records who
    /// did it, when and how many, in one transaction. The entries stay, marked `cleared`.
    pub fn clear_quarantine(&self, import: Option<i64>, by: &str) -> Result<Clearing, StoreError> {
        let w = "clearing the quarantine";
        let at = now();
        let mut c = self.client();
        let mut tx = c.transaction().map_err(|e| pg_error(w, e))?;
        if let Some(id) = import {
            super::frames::import_exists(&mut tx, id)?;
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO quarantine_clearings (at, \"by\", import_id, entries)
                 VALUES ($1, $2, $3, 0) RETURNING id",
                &[&at, &by, &import],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| pg_error(w, e))?;
        let entries = tx
            .execute(
                "UPDATE quarantine SET resolved_at = $1, resolution = 'cleared', resolved_by = $2
                 WHERE resolved_at IS NULL AND ($3::bigint IS NULL OR import_id = $3)",
                &[&at, &id, &import],
            )
            .map_err(|e| pg_error(w, e))? as i64;
        tx.execute(
            "UPDATE quarantine_clearings SET entries = $1 WHERE id = $2",
            &[&entries, &id],
        )
        .map_err(|e| pg_error(w, e))?;
        tx.commit().map_err(|e| pg_error(w, e))?;
        Ok(Clearing {
            id,
            at,
            by: by.to_string(),
            import_id: import,
            entries,
        })
    }

    /// Row counts per kind, the schema version and the recent imports; the snapshot is always
    /// fresh (the frames are read from the tables).
    pub fn status(&self) -> Result<Status, StoreError> {
        let running = self.imports_in_progress()?;
        let recent_imports = self.recent_imports(10, &running)?;
        let schema_version = self.schema_version()?;
        let mut c = self.client();
        let interrupted = interrupted_imports(&mut c, &running)?;
        Ok(Status {
            path: self.location().to_string(),
            schema_version,
            read_only: false,
            customers: count(&mut c, "SELECT count(*) FROM customers")?,
            products: count(&mut c, "SELECT count(*) FROM products")?,
            agents: count(&mut c, "SELECT count(*) FROM agents")?,
            signals: count(&mut c, "SELECT count(*) FROM signals")?,
            surveys: count(&mut c, "SELECT count(*) FROM surveys")?,
            cases: count(&mut c, "SELECT count(*) FROM cases")?,
            case_events: count(&mut c, "SELECT count(*) FROM case_events")?,
            quarantined: count(
                &mut c,
                "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL",
            )?,
            // sum of a bigint is a numeric in PostgreSQL.
            skipped: count(
                &mut c,
                "SELECT coalesce(sum(skipped), 0)::bigint FROM imports",
            )?,
            imports: count(&mut c, "SELECT count(*) FROM imports")?,
            running_imports: running.len() as i64,
            interrupted_imports: interrupted,
            demo_data: count(
                &mut c,
                "SELECT count(*) FROM (SELECT 1 FROM imports WHERE demo = 1 LIMIT 1) d",
            )? > 0,
            snapshot_fresh: true,
            recent_imports,
        })
    }

    /// The newest `limit` imports with their skipped rows per reason (the SQLite store's
    /// `imports`).
    fn recent_imports(
        &self,
        limit: i64,
        running: &[RunningImport],
    ) -> Result<Vec<ImportRecord>, StoreError> {
        let w = "reading the imports";
        let mut c = self.client();
        let rows = c
            .query(
                "SELECT id, kind, file, started_at, finished_at, read, stored, duplicates,
                        quarantined, skipped, demo
                 FROM imports ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .map_err(|e| pg_error(w, e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let get =
                |i: usize| -> Result<i64, StoreError> { r.try_get(i).map_err(|e| pg_error(w, e)) };
            let id = get(0)?;
            let finished_at: Option<i64> = r.try_get(4).map_err(|e| pg_error(w, e))?;
            let state = match finished_at {
                Some(_) => "finished",
                None if running.iter().any(|x| x.id == id) => "running",
                None => "interrupted",
            };
            let skipped_reasons = c
                .query(
                    "SELECT reason, rows FROM import_skips WHERE import_id = $1
                     ORDER BY rows DESC, reason",
                    &[&id],
                )
                .map_err(|e| pg_error(w, e))?
                .iter()
                .map(|s| Ok((s.try_get(0)?, s.try_get(1)?)))
                .collect::<Result<Vec<(String, i64)>, postgres::Error>>()
                .map_err(|e| pg_error(w, e))?;
            out.push(ImportRecord {
                id,
                kind: r.try_get(1).map_err(|e| pg_error(w, e))?,
                file: r.try_get(2).map_err(|e| pg_error(w, e))?,
                started_at: get(3)?,
                finished_at,
                state: state.into(),
                read: get(5)?,
                stored: get(6)?,
                duplicates: get(7)?,
                quarantined: get(8)?,
                skipped: get(9)?,
                skipped_reasons,
                demo: get(10)? == 1,
            });
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
        let w = "counting the rows of a scope";
        let mut c = self.client();
        let mut n = |sql: &str,
                     params: &[&(dyn postgres::types::ToSql + Sync)]|
         -> Result<u64, StoreError> {
            let row = c.query_one(sql, params).map_err(|e| pg_error(w, e))?;
            let v: i64 = row.try_get(0).map_err(|e| pg_error(w, e))?;
            Ok(v.max(0) as u64)
        };
        // An empty list is no limit.
        let rows = |table: &str| {
            format!(
                "SELECT count(*) FROM {table} x
                 WHERE (cardinality($1::text[]) = 0
                        OR x.customer_id IN (SELECT id FROM customers WHERE segment = ANY($1)))
                   AND (cardinality($2::text[]) = 0
                        OR x.agent_id IN (SELECT id FROM agents WHERE team = ANY($2)))"
            )
        };
        Ok(ScopeCounts {
            customers: n(
                "SELECT count(*) FROM customers
                 WHERE cardinality($1::text[]) = 0 OR segment = ANY($1)",
                &[&segments],
            )?,
            agents: n(
                "SELECT count(*) FROM agents WHERE cardinality($1::text[]) = 0 OR team = ANY($1)",
                &[&teams],
            )?,
            signals: n(&rows("signals"), &[&segments, &teams])?,
            surveys: n(&rows("surveys"), &[&segments, &teams])?,
        })
    }
}

/// Unfinished imports that are not running and were not completed by a later import of the
/// same file.
fn interrupted_imports(c: &mut Client, running: &[RunningImport]) -> Result<i64, StoreError> {
    let w = "reading the imports";
    let rows = c
        .query(
            "SELECT i.id FROM imports i WHERE finished_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM imports j WHERE j.fingerprint = i.fingerprint
                             AND j.kind = i.kind AND j.id > i.id AND j.finished_at IS NOT NULL)",
            &[],
        )
        .map_err(|e| pg_error(w, e))?;
    let mut n = 0;
    for r in &rows {
        let id: i64 = r.try_get(0).map_err(|e| pg_error(w, e))?;
        if !running.iter().any(|x| x.id == id) {
            n += 1;
        }
    }
    Ok(n)
}

/// The lists and the signal texts `themes` and the filters' checks read, in the SQLite store's
/// order: strings sort by their bytes (`COLLATE "C"`), as SQLite sorts them.
impl PgStore {
    fn strings(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<String>, StoreError> {
        let w = "reading a list";
        self.client()
            .query(sql, params)
            .map_err(|e| pg_error(w, e))?
            .iter()
            .map(|r| r.try_get(0).map_err(|e| pg_error(w, e)))
            .collect()
    }

    pub fn segments(&self) -> Result<Vec<String>, StoreError> {
        self.strings(
            "SELECT DISTINCT segment COLLATE \"C\" FROM customers WHERE segment IS NOT NULL ORDER BY 1",
            &[],
        )
    }

    pub fn teams(&self) -> Result<Vec<String>, StoreError> {
        self.strings(
            "SELECT DISTINCT team COLLATE \"C\" FROM agents WHERE team IS NOT NULL ORDER BY 1",
            &[],
        )
    }

    pub fn entity_ids(&self, entity: Entity, limit: usize) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.strings(
            &format!(
                "SELECT ext_id FROM {} ORDER BY ext_id COLLATE \"C\" LIMIT $1",
                entity.table()
            ),
            &[&limit],
        )
    }

    pub fn entity_ids_in(
        &self,
        entity: Entity,
        groups: &[String],
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let column = match entity {
            Entity::Customer => "segment",
            Entity::Agent => "team",
            Entity::Product => return Ok((Vec::new(), 0)),
        };
        let w = "reading a list";
        let cond = format!("FROM {} WHERE {column} = ANY($1)", entity.table());
        let total: i64 = self
            .client()
            .query_one(&format!("SELECT count(*) {cond}"), &[&groups])
            .and_then(|r| r.try_get(0))
            .map_err(|e| pg_error(w, e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let ids = self.strings(
            &format!("SELECT ext_id {cond} ORDER BY ext_id COLLATE \"C\" LIMIT $2"),
            &[&groups, &limit],
        )?;
        Ok((ids, total.max(0) as u64))
    }
}
