//! Live ingestion into the PostgreSQL store: [`crate::Store::ingest_many`]'s rules, written the
//! way a PostgreSQL import writes (`import.rs`'s `PgWriter`: set by set, binary `COPY`).
//!
//! A group of batches is ONE transaction holding the import lock (`IMPORT_LOCK`), the lock every
//! import and every server's ingestion into the database takes: several `hearken serve`
//! processes on one database write one group at a time, as SQLite's single writer does, so rows
//! sent to two servers at once are stored once (the second is a duplicate), an idempotency key
//! used at two servers at once stores its rows once, and the ids are those SQLite would give.
//!
//! As in SQLite: one import per sender, kind and UTC day (`api (<who>)`) whose counts grow with
//! every batch; a rejected row is a quarantine entry of it; an idempotency key stores the batch's
//! result with its rows; a refused batch (a reused key) fails alone, a database error fails the
//! group and nothing of it is stored. A commit returns once PostgreSQL has made it durable
//! (its `synchronous_commit`).

use postgres::Client;

use super::import::{IMPORT_LOCK, PgWriter};
use super::{PgStore, pg_error};
use crate::import::ingest::not_committed;
use crate::import::{ImportCounts, SameSource, now};
use crate::{IngestBatch, IngestFailure, IngestReport, IngestSettings, RejectedRow, StoreError};

impl PgStore {
    /// Writes a group of batches in one transaction and returns each batch's result, in order,
    /// once it is committed: [`crate::Store::ingest_many`] for PostgreSQL.
    pub fn ingest_many(
        &mut self,
        batches: Vec<IngestBatch>,
        settings: &IngestSettings,
    ) -> Vec<Result<IngestReport, IngestFailure>> {
        let n = batches.len();
        if n == 0 {
            return Vec::new();
        }
        let span = tracing::info_span!("ingest", batches = n, store = "postgres");
        let _enter = span.enter();
        let location = self.location.clone();
        let client = self.client.get_mut().unwrap_or_else(|p| p.into_inner());
        match group(client, &location, batches, settings) {
            Ok(results) => results,
            Err(e) => {
                // Best effort: a connection that is gone has rolled back already.
                let _ = client.batch_execute("ROLLBACK");
                not_committed(n, &e)
            }
        }
    }

    /// Writes one batch: [`PgStore::ingest_many`] with a group of one.
    pub fn ingest(
        &mut self,
        batch: IngestBatch,
        settings: &IngestSettings,
    ) -> Result<IngestReport, IngestFailure> {
        self.ingest_many(vec![batch], settings)
            .pop()
            .unwrap_or_else(|| Err(IngestFailure::Commit("no result".into())))
    }
}

fn group(
    client: &mut Client,
    location: &str,
    batches: Vec<IngestBatch>,
    settings: &IngestSettings,
) -> Result<Vec<Result<IngestReport, IngestFailure>>, IngestFailure> {
    let at = now();
    let expired = at - i64::from(settings.key_ttl_days) * 86_400;
    let err = |what: &'static str| move |e| IngestFailure::from(pg_error(what, e));
    client
        .batch_execute("BEGIN")
        .map_err(err("ingest: begin"))?;
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
        .map_err(err("ingest: wait for other writers"))?;
    client
        .execute("DELETE FROM ingest_keys WHERE created_at < $1", &[&expired])
        .map_err(err("ingest: forget expired idempotency keys"))?;
    let mut results = Vec::with_capacity(batches.len());
    for batch in &batches {
        match write(client, location, batch, at, expired) {
            Ok(report) => results.push(Ok(report)),
            Err(e @ (IngestFailure::KeyReused { .. } | IngestFailure::Kind { .. })) => {
                results.push(Err(e));
            }
            Err(e) => return Err(e),
        }
    }
    client
        .batch_execute("COMMIT")
        .map_err(err("ingest: commit"))?;
    Ok(results)
}

/// Writes one batch in the group's transaction.
fn write(
    client: &mut Client,
    location: &str,
    batch: &IngestBatch,
    at: i64,
    expired: i64,
) -> Result<IngestReport, IngestFailure> {
    let err = |what: &'static str| move |e| IngestFailure::from(pg_error(what, e));
    let who = batch.meta.who.as_str();
    if let Some(key) = &batch.meta.idempotency_key {
        let first = client
            .query_opt(
                "SELECT request, result FROM ingest_keys WHERE who = $1 AND key = $2
                 AND created_at >= $3",
                &[&who, key, &expired],
            )
            .map_err(err("ingest: look up the idempotency key"))?;
        if let Some(row) = first {
            let request: String = row.try_get(0).map_err(err("ingest: read the key"))?;
            let result: String = row.try_get(1).map_err(err("ingest: read the key"))?;
            return batch.replay(key, &request, &result);
        }
    }
    if !crate::INGEST_KINDS.contains(&batch.kind) {
        return Err(IngestFailure::Kind { kind: batch.kind });
    }
    let origin = if batch.meta.origin.is_empty() {
        "api"
    } else {
        batch.meta.origin.as_str()
    };
    let fingerprint = batch.rolling_fingerprint(at);
    let (import_id, read_before) = rolling(client, batch, &fingerprint, who, at)?;
    let mut writer = PgWriter::new(
        client,
        location,
        batch.kind,
        import_id,
        origin,
        &fingerprint,
        SameSource::Keys(Default::default()),
        u64::MAX,
        read_before,
    );
    writer.keep_stored_keys();
    writer.join()?;
    writer.write_rows(&batch.rows)?;
    let rejected: Vec<RejectedRow> = writer
        .judged_quarantine()
        .map(|(seq, line, field, value, reason)| RejectedRow {
            // Ordinals count every row read, from the import's earlier rows on.
            index: (seq as u64).saturating_sub(read_before + 1),
            line: line.max(0) as u64,
            field: field.map(str::to_string),
            value: value.map(str::to_string),
            reason: reason.to_string(),
        })
        .collect();
    let stored_keys = writer.take_stored_keys();
    let counts: ImportCounts = writer.record(Some(at))?;
    drop(writer);
    debug_assert!(counts.reconciles());
    let resolved = if stored_keys.is_empty() {
        0
    } else {
        client
            .execute(
                "UPDATE quarantine SET resolved_at = $1, resolution = 'stored', resolved_by = $2
                 WHERE resolved_at IS NULL AND kind = $3 AND ext_key = ANY($4)
                 AND (import_id <> $2 OR seq <= $5)",
                &[
                    &at,
                    &import_id,
                    &batch.kind.as_str(),
                    &stored_keys,
                    &(read_before as i64),
                ],
            )
            .map_err(err("ingest: settle quarantine entries"))?
    };
    let report = batch.report(import_id, counts, rejected, resolved);
    if let Some((key, json)) = batch.key_result(&report)? {
        client
            .execute(
                "INSERT INTO ingest_keys (who, key, request, created_at, import_id, result)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (who, key) DO UPDATE SET request = excluded.request,
                 created_at = excluded.created_at, import_id = excluded.import_id,
                 result = excluded.result",
                &[&who, &key, &batch.request, &at, &import_id, &json],
            )
            .map_err(err("ingest: record the idempotency key"))?;
    }
    Ok(report)
}

/// The import that records `who`'s rows of the batch's kind on the day of `at` (created when
/// needed, its id the largest plus one as in SQLite), and the rows it has read so far.
fn rolling(
    client: &mut Client,
    batch: &IngestBatch,
    fingerprint: &str,
    who: &str,
    at: i64,
) -> Result<(i64, u64), StoreError> {
    let err = |e| pg_error("ingest: record the import", e);
    let kind = batch.kind.as_str();
    let found = client
        .query_opt(
            "SELECT id, read FROM imports WHERE fingerprint = $1 AND kind = $2
             AND source = 'api' ORDER BY id DESC LIMIT 1",
            &[&fingerprint, &kind],
        )
        .map_err(err)?;
    if let Some(row) = found {
        let id: i64 = row.try_get(0).map_err(err)?;
        let read: i64 = row.try_get(1).map_err(err)?;
        return Ok((id, read.max(0) as u64));
    }
    let row = client
        .query_one(
            "INSERT INTO imports (id, kind, file, fingerprint, started_at, finished_at, pid, host,
                                  heartbeat_at, source, who)
             SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $4, $5, $6, $4, 'api', $7
             FROM imports RETURNING id",
            &[
                &kind,
                &format!("api ({who})"),
                &fingerprint,
                &at,
                &i64::from(std::process::id()),
                &crate::store::host_name(),
                &who,
            ],
        )
        .map_err(err)?;
    let id: i64 = row.try_get(0).map_err(err)?;
    client
        .query(
            "SELECT setval(pg_get_serial_sequence('imports', 'id'), $1)",
            &[&id],
        )
        .map_err(err)?;
    Ok((id, 0))
}
