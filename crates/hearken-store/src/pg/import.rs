//! Importing a file into the PostgreSQL store (issue 14): the same reading, identity and rules as
//! the SQLite import (`crate::import`: the reading pipeline, `identity`, `judge_event`,
//! `judge_entity`, `readable`), written set by set instead of row by row.
//!
//! Per chunk of rows, in the open batch transaction (which holds an advisory lock, so imports
//! into one database write one at a time, as SQLite's single writer does):
//! 1. the entities the rows reference are looked up in one query, and the missing ones created
//!    as stubs in order of first appearance;
//! 2. the rows' keys are looked up in one query, and each row judged in file order against what
//!    is stored and what the rows before it (in this chunk and the batch's earlier ones) stored:
//!    stored, duplicate, repeat, quarantined, updated;
//!
//! and once per batch, before its commit:
//! 3. the rows to store go by binary `COPY` into a temporary staging table, then
//!    `INSERT ... SELECT ... ON CONFLICT (ext_id) DO NOTHING` (a conflict cannot happen under the
//!    lock; if one did, the batch is rolled back rather than miscounted); updates of reference
//!    rows go through the same staging table; survey aspects and quarantine entries by `COPY`.
//!
//! A batch's counts are added to its import in the same transaction, so a killed import (or a
//! server that goes away) leaves whole batches, and running it again stores exactly the rest.
//!
//! Ids: SQLite gives a new row the largest id plus one; so does this import (the ids are
//! computed under the lock and written explicitly, then each table's identity sequence is moved
//! past them), so the same files give the same ids in both stores, also after a batch was rolled
//! back (a sequence would have skipped the values it handed out).

use std::collections::HashSet;
use std::path::Path;

use hearken_ingest::{ReadOptions, RowError, RowReader};
use hearken_model::{Record, RecordKind};
use postgres::Client;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rustc_hash::FxHashMap as HashMap;

use super::{PgStore, pg_error};
use crate::StoreError;
use crate::identity::{Identity, identity};
use crate::import::pipeline::{self, Prepared};
use crate::import::{
    CACHE_LIMIT, EntityVerdict, EventVerdict, Existing, ImportCounts, ImportProgress, ImportReport,
    ImportSettings, SameSource, SkipCount, judge_entity, judge_event, now, readable,
};

/// The advisory lock a batch transaction holds ("hkimport" in ASCII): imports into one database
/// write one batch at a time.
pub(super) const IMPORT_LOCK: i64 = 0x686b_696d_706f_7274;

/// A value of a staged row.
enum Val {
    I(Option<i64>),
    F(Option<f64>),
    T(Option<String>),
}

impl Val {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Val::I(v) => v,
            Val::F(v) => v,
            Val::T(v) => v,
        }
    }
}

fn i(v: impl Into<i64>) -> Val {
    Val::I(Some(v.into()))
}
fn oi<T: Into<i64>>(v: Option<T>) -> Val {
    Val::I(v.map(Into::into))
}
fn of(v: Option<f64>) -> Val {
    Val::F(v)
}
fn ot(v: Option<&str>) -> Val {
    Val::T(v.map(str::to_string))
}

/// The columns a kind's rows are stored with (after `id` and `ext_id`), and their types.
fn columns(kind: RecordKind) -> &'static [(&'static str, Type)] {
    const I: Type = Type::INT8;
    const F: Type = Type::FLOAT8;
    const T: Type = Type::TEXT;
    match kind {
        RecordKind::Signals => &[
            ("at", I),
            ("channel", I),
            ("kind", I),
            ("source", I),
            ("customer_id", I),
            ("product_id", I),
            ("case_id", I),
            ("agent_id", I),
            ("stage", T),
            ("topic", T),
            ("text", T),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
            ("sentiment", F),
            ("language", T),
            ("redactions", I),
            ("predicted_topic", T),
            ("topic_probability", F),
        ],
        RecordKind::Surveys => &[
            ("at", I),
            ("customer_id", I),
            ("product_id", I),
            ("case_id", I),
            ("agent_id", I),
            ("channel", I),
            ("nps", I),
            ("csat", I),
            ("ces", I),
            ("overall", F),
            ("comment", T),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
            ("comment_sentiment", F),
            ("comment_language", T),
            ("redactions", I),
        ],
        RecordKind::CaseEvents => &[
            ("case_id", I),
            ("at", I),
            ("activity", T),
            ("agent_id", I),
            ("team", T),
            ("text", T),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
            ("sentiment", F),
            ("language", T),
            ("redactions", I),
            ("customer_id", I),
            ("product_id", I),
        ],
        RecordKind::Customers => &[
            ("name", T),
            ("segment", T),
            ("persona", T),
            ("since", I),
            ("value_per_year", F),
            ("white_glove", I),
            ("churned_at", I),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
        ],
        RecordKind::Products => &[
            ("name", T),
            ("category", T),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
        ],
        RecordKind::Agents => &[
            ("name", T),
            ("team", T),
            ("row_hash", I),
            ("import_id", I),
            ("line", I),
        ],
    }
}

fn table(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customers => "customers",
        RecordKind::Products => "products",
        RecordKind::Agents => "agents",
        RecordKind::Signals => "signals",
        RecordKind::Surveys => "surveys",
        RecordKind::CaseEvents => "case_events",
    }
}

fn is_entity(kind: RecordKind) -> bool {
    matches!(
        kind,
        RecordKind::Customers | RecordKind::Products | RecordKind::Agents
    )
}

/// The entity tables rows reference (stubs), in the order `Entity` uses.
const ENTITIES: [&str; 4] = ["customers", "products", "agents", "cases"];
const CUSTOMER: usize = 0;
const PRODUCT: usize = 1;
const AGENT: usize = 2;
const CASE: usize = 3;

/// The entities a record references, in the order the SQLite writer resolves them (which only
/// matters within a table: ids follow the first appearance).
fn references(record: &Record) -> Vec<(usize, &str)> {
    let mut out: Vec<(usize, &str)> = Vec::with_capacity(4);
    let refs: [(usize, Option<&str>); 4] = match record {
        Record::Signal(x) => [
            (CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
            (PRODUCT, x.product.as_ref().map(|v| v.as_str())),
            (CASE, x.case.as_ref().map(|v| v.as_str())),
            (AGENT, x.agent.as_ref().map(|v| v.as_str())),
        ],
        Record::Survey(x) => [
            (CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
            (PRODUCT, x.product.as_ref().map(|v| v.as_str())),
            (CASE, x.case.as_ref().map(|v| v.as_str())),
            (AGENT, x.agent.as_ref().map(|v| v.as_str())),
        ],
        Record::CaseEvent(x) => [
            (CASE, Some(x.case.as_str())),
            (AGENT, x.agent.as_ref().map(|v| v.as_str())),
            (CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
            (PRODUCT, x.product.as_ref().map(|v| v.as_str())),
        ],
        Record::Customer(_) | Record::Product(_) | Record::Agent(_) => return out,
    };
    out.extend(refs.into_iter().filter_map(|(e, id)| id.map(|id| (e, id))));
    out
}

/// A quarantine entry waiting for its chunk's COPY.
struct Entry {
    seq: i64,
    line: i64,
    field: Option<String>,
    value: Option<String>,
    reason: String,
    raw: Option<String>,
    ext_key: Option<String>,
}

/// What a batch writes.
#[derive(Default)]
struct Chunk {
    /// Rows to insert (id, ext_id, then `columns(kind)`), and reference rows to update.
    inserts: Vec<Vec<Val>>,
    updates: Vec<Vec<Val>>,
    /// (survey id, aspect, rating)
    aspects: Vec<(i64, String, f64)>,
    quarantine: Vec<Entry>,
}

impl pipeline::BatchWriter for PgWriter<'_> {
    fn write_rows(&mut self, rows: &[Prepared]) -> Result<Option<ImportCounts>, StoreError> {
        PgWriter::write_rows(self, rows)
    }
    fn commit(&mut self) -> Result<Option<ImportCounts>, StoreError> {
        PgWriter::commit(self)
    }
    fn rollback(&mut self) {
        PgWriter::rollback(self);
    }
    fn skipped_reasons(&self) -> Vec<SkipCount> {
        pipeline::sorted_skips(self.skips.iter())
    }
}

pub(super) struct PgWriter<'a> {
    client: &'a mut Client,
    location: &'a str,
    kind: RecordKind,
    import_id: i64,
    file: &'a str,
    fingerprint: &'a str,
    same: SameSource,
    /// ext id -> id per entity table (`ENTITIES` order), across batches.
    cache: [HashMap<String, i64>; 4],
    /// The next id of the kind's table, of each entity table, of the quarantine (valid while a
    /// transaction is open: read under the lock when it begins).
    next: i64,
    next_entity: [i64; 4],
    next_quarantine: i64,
    batch: u64,
    open: bool,
    pending: ImportCounts,
    pending_skips: HashMap<std::sync::Arc<str>, u64>,
    skips: HashMap<std::sync::Arc<str>, u64>,
    seq: u64,
    staging: bool,
    /// What the open transaction's rows found stored under their keys, and what they stored:
    /// the later rows of the batch are judged against it.
    view: HashMap<String, Option<Existing>>,
    /// What the open transaction's chunks judged, written once per batch (one COPY and one
    /// INSERT per batch, also when enrichment hands the rows over in small chunks).
    out: Chunk,
    /// Live ingestion: the ids (not hashed) of the rows stored, whose open quarantine entries
    /// they settle.
    stored_keys: Option<Vec<String>>,
}

impl<'a> PgWriter<'a> {
    /// A writer of `kind` rows into import `import_id`, committing every `batch` rows read (when
    /// it opens its own transactions), numbering quarantine entries after `seq`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        client: &'a mut Client,
        location: &'a str,
        kind: RecordKind,
        import_id: i64,
        file: &'a str,
        fingerprint: &'a str,
        same: SameSource,
        batch: u64,
        seq: u64,
    ) -> PgWriter<'a> {
        PgWriter {
            client,
            location,
            kind,
            import_id,
            file,
            fingerprint,
            same,
            cache: Default::default(),
            next: 0,
            next_entity: [0; 4],
            next_quarantine: 0,
            batch: batch.max(1),
            open: false,
            pending: ImportCounts::default(),
            pending_skips: HashMap::default(),
            skips: HashMap::default(),
            seq,
            staging: false,
            view: HashMap::default(),
            out: Chunk::default(),
            stored_keys: None,
        }
    }

    /// Keeps the ids of the rows stored from now on ([`PgWriter::take_stored_keys`]).
    pub(super) fn keep_stored_keys(&mut self) {
        self.stored_keys = Some(Vec::new());
    }

    pub(super) fn take_stored_keys(&mut self) -> Vec<String> {
        self.stored_keys.take().unwrap_or_default()
    }

    /// The quarantine entries judged and not yet written: (ordinal, line, field, value, reason).
    pub(super) fn judged_quarantine(
        &self,
    ) -> impl Iterator<Item = (i64, i64, Option<&str>, Option<&str>, &str)> {
        self.out.quarantine.iter().map(|q| {
            (
                q.seq,
                q.line,
                q.field.as_deref(),
                q.value.as_deref(),
                q.reason.as_str(),
            )
        })
    }
}

impl PgWriter<'_> {
    fn err(&self, what: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        let what = format!("import into {}: {what}", self.location);
        move |e| pg_error(what.clone(), e)
    }

    fn max_id(&mut self, table: &str) -> Result<i64, StoreError> {
        let row = self
            .client
            .query_one(&format!("SELECT coalesce(max(id), 0) FROM {table}"), &[])
            .map_err(|e| pg_error(format!("import: read {table}"), e))?;
        Ok(get::<i64>(&row, 0)?.saturating_add(1))
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        if self.open {
            return Ok(());
        }
        self.stage()?;
        self.client
            .batch_execute("BEGIN")
            .map_err(|e| pg_error("import: begin a batch", e))?;
        self.open = true;
        self.client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
            .map_err(|e| pg_error("import: wait for other imports", e))?;
        self.next_ids()
    }

    /// Starts writing in a transaction the caller opened and holds [`IMPORT_LOCK`] in (live
    /// ingestion's group); [`PgWriter::record`] then writes what was judged, and the caller
    /// commits.
    pub(super) fn join(&mut self) -> Result<(), StoreError> {
        self.stage()?;
        self.open = true;
        self.next_ids()
    }

    /// The next id of every table the writer writes, read under the lock.
    fn next_ids(&mut self) -> Result<(), StoreError> {
        self.next = self.max_id(table(self.kind))?;
        for (n, t) in ENTITIES.iter().enumerate() {
            self.next_entity[n] = self.max_id(t)?;
        }
        self.next_quarantine = self.max_id("quarantine")?;
        Ok(())
    }

    /// Creates the session's staging table of the kind, once.
    fn stage(&mut self) -> Result<(), StoreError> {
        if !self.staging {
            let cols = std::iter::once("id BIGINT, ext_id TEXT".to_string())
                .chain(columns(self.kind).iter().map(|(c, t)| {
                    let ty = if *t == Type::INT8 {
                        "BIGINT"
                    } else if *t == Type::FLOAT8 {
                        "DOUBLE PRECISION"
                    } else {
                        "TEXT"
                    };
                    format!("{c} {ty}")
                }))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "CREATE TEMP TABLE IF NOT EXISTS hearken_stage_{t} ({cols}) ON COMMIT DELETE ROWS",
                t = table(self.kind)
            );
            self.client
                .batch_execute(&sql)
                .map_err(|e| pg_error("import: create the staging table", e))?;
            self.staging = true;
        }
        Ok(())
    }

    pub(super) fn write_rows(
        &mut self,
        rows: &[Prepared],
    ) -> Result<Option<ImportCounts>, StoreError> {
        self.begin()?;
        let mut c = ImportCounts::default();
        self.write_chunk(rows, &mut c)?;
        self.pending.add(&c);
        if self.pending.read >= self.batch {
            return self.commit();
        }
        Ok(None)
    }

    /// Creates the stubs of the entities `rows` reference and not yet stored, in order of first
    /// appearance, and fills the caches.
    fn resolve_entities(&mut self, rows: &[Prepared]) -> Result<(), StoreError> {
        let mut wanted: [Vec<&str>; 4] = Default::default();
        let mut seen: [HashSet<&str>; 4] = Default::default();
        for p in rows {
            if p.row.skipped.is_some() {
                continue;
            }
            let Ok(record) = &p.row.record else { continue };
            for (e, id) in references(record) {
                if !self.cache[e].contains_key(id) && seen[e].insert(id) {
                    wanted[e].push(id);
                }
            }
        }
        for e in 0..4 {
            if wanted[e].is_empty() {
                continue;
            }
            if self.cache[e].len() + wanted[e].len() > CACHE_LIMIT {
                self.cache[e].clear();
            }
            let t = ENTITIES[e];
            let found = self
                .client
                .query(
                    &format!("SELECT ext_id, id FROM {t} WHERE ext_id = ANY($1)"),
                    &[&wanted[e]],
                )
                .map_err(|err| pg_error(format!("import: look up {t}"), err))?;
            for r in found {
                self.cache[e].insert(get(&r, 0)?, get(&r, 1)?);
            }
            let mut ids = Vec::new();
            let mut exts = Vec::new();
            for id in &wanted[e] {
                if !self.cache[e].contains_key(*id) {
                    let n = self.next_entity[e];
                    self.next_entity[e] += 1;
                    self.cache[e].insert((*id).to_string(), n);
                    ids.push(n);
                    exts.push(*id);
                }
            }
            if ids.is_empty() {
                continue;
            }
            let made = self
                .client
                .execute(
                    &format!(
                        "INSERT INTO {t} (id, ext_id) SELECT * FROM unnest($1::bigint[], $2::text[])
                         ON CONFLICT DO NOTHING"
                    ),
                    &[&ids, &exts],
                )
                .map_err(|err| pg_error(format!("import: create {t}"), err))?;
            if made as usize != ids.len() {
                return Err(concurrent(t));
            }
        }
        Ok(())
    }

    fn write_chunk(&mut self, rows: &[Prepared], c: &mut ImportCounts) -> Result<(), StoreError> {
        let kind = self.kind;
        let t = table(kind);
        if !is_entity(kind) {
            self.resolve_entities(rows)?;
        }
        // What is stored under the rows' keys: None when nothing is.
        let keys: Vec<&str> = rows
            .iter()
            .filter(|p| p.row.skipped.is_none())
            .filter_map(|p| p.ident.as_ref().map(|i| i.key.as_str()))
            .collect();
        let mut view = std::mem::take(&mut self.view);
        let mut out = std::mem::take(&mut self.out);
        let judged = self.judge_rows(rows, c, t, &keys, &mut view, &mut out);
        self.view = view;
        self.out = out;
        judged
    }

    fn judge_rows(
        &mut self,
        rows: &[Prepared],
        c: &mut ImportCounts,
        t: &str,
        keys: &[&str],
        view: &mut HashMap<String, Option<Existing>>,
        out: &mut Chunk,
    ) -> Result<(), StoreError> {
        self.lookup(t, keys, view)?;
        for p in rows {
            let Prepared { row, ident } = p;
            c.read += 1;
            self.seq += 1;
            if let Some(reason) = &row.skipped {
                c.skipped += 1;
                *self.pending_skips.entry(reason.clone()).or_default() += 1;
                continue;
            }
            let line = row.line as i64;
            let outcome = match (&row.record, ident) {
                (Err(e), _) => Err(e.clone()),
                (Ok(record), Some(ident)) => {
                    self.judge(record, ident, line, &row.enriched, view, out)?
                }
                (Ok(record), None) => {
                    let ident = identity(record);
                    self.judge(record, &ident, line, &row.enriched, view, out)?
                }
            };
            match outcome {
                Ok(true) => {
                    c.stored += 1;
                    if let (Some(keys), Some(ident)) = (&mut self.stored_keys, ident)
                        && !ident.hashed
                    {
                        keys.push(ident.key.clone());
                    }
                }
                Ok(false) => c.duplicates += 1,
                Err(e) => {
                    let raw = match (&row.raw, &row.record) {
                        (Some(raw), _) => Some(raw.clone()),
                        (None, Ok(record)) => Some(readable(record)),
                        (None, Err(_)) => None,
                    };
                    let ext_key = row.record.is_err().then(|| row.key.clone()).flatten();
                    out.quarantine.push(Entry {
                        seq: self.seq as i64,
                        line: e.line as i64,
                        field: e.field,
                        value: e.value,
                        reason: e.reason,
                        raw,
                        ext_key,
                    });
                    c.quarantined += 1;
                }
            }
        }
        Ok(())
    }

    /// Fills `view` with what is stored under `keys` (those not in it yet).
    fn lookup(
        &mut self,
        t: &str,
        keys: &[&str],
        view: &mut HashMap<String, Option<Existing>>,
    ) -> Result<(), StoreError> {
        let keys: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !view.contains_key(*k))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let found = self
            .client
            .query(
                &format!(
                    "SELECT t.ext_id, t.row_hash, t.import_id, t.line, coalesce(i.file, '') FROM {t} t
                     LEFT JOIN imports i ON i.id = t.import_id WHERE t.ext_id = ANY($1)"
                ),
                &[&keys],
            )
            .map_err(|e| pg_error(format!("import: look up {t}"), e))?;
        for k in keys {
            view.insert(k.to_string(), None);
        }
        for r in found {
            view.insert(
                get(&r, 0)?,
                Some((get(&r, 1)?, get(&r, 2)?, get(&r, 3)?, get::<String>(&r, 4)?)),
            );
        }
        Ok(())
    }

    /// Judges one valid record in file order: `Ok(true)` stored (or a reference row updated),
    /// `Ok(false)` a duplicate, `Err` quarantined. What it stores goes into `out`.
    fn judge(
        &mut self,
        record: &Record,
        ident: &Identity,
        line: i64,
        enriched: &hearken_ingest::Enriched,
        view: &mut HashMap<String, Option<Existing>>,
        out: &mut Chunk,
    ) -> Result<Result<bool, RowError>, StoreError> {
        let t = table(self.kind);
        let mine: Existing = (
            Some(ident.row_hash),
            Some(self.import_id),
            Some(line),
            self.file.to_string(),
        );
        if is_entity(self.kind) {
            let stored = view.get(&ident.key).cloned().flatten();
            let update = match stored {
                None => false,
                Some(existing) => match judge_entity(&existing, &self.same, self.kind, ident, line)
                {
                    EntityVerdict::Duplicate => return Ok(Ok(false)),
                    EntityVerdict::Quarantine(e) => return Ok(Err(e)),
                    EntityVerdict::Update => true,
                },
            };
            let id = if update {
                0
            } else {
                let id = self.next;
                self.next += 1;
                id
            };
            let vals = self.values(record, ident, line, enriched, id, &ident.key);
            if update {
                out.updates.push(vals);
            } else {
                out.inserts.push(vals);
            }
            self.same.stored(&ident.key);
            view.insert(ident.key.clone(), Some(mine));
            return Ok(Ok(true));
        }
        let mut key = ident.key.clone();
        let mut repeat = 0u32;
        loop {
            if !view.contains_key(&key) {
                self.lookup(t, &[key.as_str()], view)?;
            }
            match view.get(&key).cloned().flatten() {
                None => {
                    let id = self.next;
                    self.next += 1;
                    out.inserts
                        .push(self.values(record, ident, line, enriched, id, &key));
                    if let Record::Survey(x) = record {
                        for (name, rating) in &x.aspects {
                            out.aspects
                                .push((id, name.as_str().to_string(), rating.get()));
                        }
                    }
                    self.same.stored(&key);
                    view.insert(key, Some(mine));
                    return Ok(Ok(true));
                }
                Some(existing) => {
                    match judge_event(&existing, &self.same, self.kind, t, ident, &key, line) {
                        EventVerdict::Duplicate => return Ok(Ok(false)),
                        EventVerdict::Quarantine(e) => return Ok(Err(e)),
                        EventVerdict::Repeat => {
                            repeat += 1;
                            key = format!("{}.{repeat}", ident.key);
                        }
                    }
                }
            }
        }
    }

    fn entity(&self, e: usize, id: Option<&str>) -> Val {
        Val::I(id.and_then(|id| self.cache[e].get(id).copied()))
    }

    /// A row's values in the order of `columns(kind)`, after its id and key: what the SQLite
    /// import binds, with the same conversions (rusqlite stores an `f32` as its `f64`, a `bool`
    /// as 0 or 1).
    fn values(
        &self,
        record: &Record,
        ident: &Identity,
        line: i64,
        en: &hearken_ingest::Enriched,
        id: i64,
        key: &str,
    ) -> Vec<Val> {
        let import_id = self.import_id;
        let mut v = vec![i(id), Val::T(Some(key.to_string()))];
        let sentiment = of(en.sentiment.map(f64::from));
        let language = ot(en.language);
        let redactions = i(en.redactions);
        match record {
            Record::Signal(x) => v.extend([
                i(x.at.unix()),
                i(x.channel.code()),
                i(x.kind.code()),
                i(x.source.code()),
                self.entity(CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
                self.entity(PRODUCT, x.product.as_ref().map(|v| v.as_str())),
                self.entity(CASE, x.case.as_ref().map(|v| v.as_str())),
                self.entity(AGENT, x.agent.as_ref().map(|v| v.as_str())),
                ot(x.stage.as_ref().map(|l| l.as_str())),
                ot(x.topic.as_ref().map(|l| l.as_str())),
                ot(x.text.as_ref().map(|t| t.as_str())),
                i(ident.row_hash),
                i(import_id),
                i(line),
                sentiment,
                language,
                redactions,
                ot(en.topic.as_deref()),
                of(en.topic_probability.map(f64::from)),
            ]),
            Record::Survey(x) => v.extend([
                i(x.at.unix()),
                self.entity(CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
                self.entity(PRODUCT, x.product.as_ref().map(|v| v.as_str())),
                self.entity(CASE, x.case.as_ref().map(|v| v.as_str())),
                self.entity(AGENT, x.agent.as_ref().map(|v| v.as_str())),
                oi(x.channel.map(|c| c.code())),
                oi(x.nps.map(|s| s.get())),
                oi(x.csat.map(|s| s.get())),
                oi(x.ces.map(|s| s.get())),
                of(x.overall.map(|r| r.get())),
                ot(x.comment.as_ref().map(|t| t.as_str())),
                i(ident.row_hash),
                i(import_id),
                i(line),
                sentiment,
                language,
                redactions,
            ]),
            Record::CaseEvent(x) => v.extend([
                self.entity(CASE, Some(x.case.as_str())),
                i(x.at.unix()),
                ot(Some(x.activity.as_str())),
                self.entity(AGENT, x.agent.as_ref().map(|v| v.as_str())),
                ot(x.team.as_ref().map(|l| l.as_str())),
                ot(x.text.as_ref().map(|t| t.as_str())),
                i(ident.row_hash),
                i(import_id),
                i(line),
                sentiment,
                language,
                redactions,
                self.entity(CUSTOMER, x.customer.as_ref().map(|v| v.as_str())),
                self.entity(PRODUCT, x.product.as_ref().map(|v| v.as_str())),
            ]),
            Record::Customer(x) => v.extend([
                ot(x.name.as_deref()),
                ot(x.segment.as_ref().map(|l| l.as_str())),
                ot(x.persona.as_ref().map(|l| l.as_str())),
                oi(x.since.map(|t| t.unix())),
                of(x.value_per_year.map(|m| m.get())),
                i(x.white_glove),
                oi(x.churned_at.map(|t| t.unix())),
                i(ident.row_hash),
                i(import_id),
                i(line),
            ]),
            Record::Product(x) => v.extend([
                ot(x.name.as_deref()),
                ot(x.category.as_ref().map(|l| l.as_str())),
                i(ident.row_hash),
                i(import_id),
                i(line),
            ]),
            Record::Agent(x) => v.extend([
                ot(x.name.as_deref()),
                ot(x.team.as_ref().map(|l| l.as_str())),
                i(ident.row_hash),
                i(import_id),
                i(line),
            ]),
        }
        v
    }

    /// Writes a judged batch in the open transaction.
    fn flush(&mut self, out: Chunk) -> Result<(), StoreError> {
        let t = table(self.kind);
        let stage = format!("hearken_stage_{t}");
        let cols: Vec<&str> = ["id", "ext_id"]
            .into_iter()
            .chain(columns(self.kind).iter().map(|(c, _)| *c))
            .collect();
        let list = cols.join(", ");
        let types: Vec<Type> = [Type::INT8, Type::TEXT]
            .into_iter()
            .chain(columns(self.kind).iter().map(|(_, t)| t.clone()))
            .collect();
        for (rows, update) in [(&out.inserts, false), (&out.updates, true)] {
            if rows.is_empty() {
                continue;
            }
            self.copy(
                &format!("COPY {stage} ({list}) FROM STDIN BINARY"),
                &types,
                rows,
            )?;
            let n = if update {
                let set = cols[2..]
                    .iter()
                    .map(|c| format!("{c} = s.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.client
                    .execute(
                        &format!("UPDATE {t} SET {set} FROM {stage} s WHERE {t}.ext_id = s.ext_id"),
                        &[],
                    )
                    .map_err(self.err("update rows"))?
            } else {
                self.client
                    .execute(
                        &format!(
                            "INSERT INTO {t} ({list}) SELECT {list} FROM {stage} ORDER BY id
                             ON CONFLICT (ext_id) DO NOTHING"
                        ),
                        &[],
                    )
                    .map_err(self.err("insert rows"))?
            };
            if n as usize != rows.len() {
                return Err(concurrent(t));
            }
            self.client
                .batch_execute(&format!("TRUNCATE {stage}"))
                .map_err(self.err("empty the staging table"))?;
        }
        if !out.aspects.is_empty() {
            let rows: Vec<Vec<Val>> = out
                .aspects
                .into_iter()
                .map(|(id, a, r)| vec![i(id), Val::T(Some(a)), Val::F(Some(r))])
                .collect();
            self.copy(
                "COPY survey_aspects (survey_id, aspect, rating) FROM STDIN BINARY",
                &[Type::INT8, Type::TEXT, Type::FLOAT8],
                &rows,
            )?;
        }
        if !out.quarantine.is_empty() {
            let (kind, file, fp) = (self.kind.as_str(), self.file, self.fingerprint);
            let mut rows = Vec::with_capacity(out.quarantine.len());
            for q in out.quarantine {
                let id = self.next_quarantine;
                self.next_quarantine += 1;
                rows.push(vec![
                    i(id),
                    i(self.import_id),
                    i(q.seq),
                    ot(Some(kind)),
                    ot(Some(file)),
                    ot(Some(fp)),
                    i(q.line),
                    Val::T(q.field),
                    Val::T(q.value),
                    Val::T(Some(q.reason)),
                    Val::T(q.raw),
                    Val::T(q.ext_key),
                ]);
            }
            self.copy(
                "COPY quarantine (id, import_id, seq, kind, file, fingerprint, line, field, value, reason, raw, ext_key) FROM STDIN BINARY",
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                ],
                &rows,
            )?;
        }
        Ok(())
    }

    fn copy(&mut self, sql: &str, types: &[Type], rows: &[Vec<Val>]) -> Result<(), StoreError> {
        let what = format!("import into {}: copy rows", self.location);
        let err = |e| pg_error(what.clone(), e);
        let writer = self.client.copy_in(sql).map_err(err)?;
        let mut writer = BinaryCopyInWriter::new(writer, types);
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
        for row in rows {
            refs.clear();
            refs.extend(row.iter().map(Val::sql));
            writer.write(&refs).map_err(err)?;
        }
        writer.finish().map_err(err)?;
        Ok(())
    }

    /// Adds the open transaction's counts to the import and commits.
    fn commit(&mut self) -> Result<Option<ImportCounts>, StoreError> {
        if !self.open {
            return Ok(None);
        }
        let c = self.record(None)?;
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| pg_error(format!("import into {}: commit", self.location), e))?;
        for (reason, rows) in self.pending_skips.drain() {
            *self.skips.entry(reason).or_default() += rows;
        }
        self.open = false;
        self.pending = ImportCounts::default();
        Ok(Some(c))
    }

    /// Writes what the open transaction judged, adds its counts to the import (and marks it
    /// finished at `finished`, for live ingestion's imports, which are never running) and moves
    /// the id sequences past the ids written; the transaction stays open.
    pub(super) fn record(&mut self, finished: Option<i64>) -> Result<ImportCounts, StoreError> {
        let out = std::mem::take(&mut self.out);
        self.flush(out)?;
        self.view.clear();
        let c = self.pending;
        let n = |v: u64| v as i64;
        self.client
            .execute(
                "UPDATE imports SET read = read + $1, stored = stored + $2, duplicates = duplicates + $3,
                 quarantined = quarantined + $4, skipped = skipped + $5, heartbeat_at = $6,
                 finished_at = coalesce($8, finished_at) WHERE id = $7",
                &[
                    &n(c.read),
                    &n(c.stored),
                    &n(c.duplicates),
                    &n(c.quarantined),
                    &n(c.skipped),
                    &finished.unwrap_or_else(now),
                    &self.import_id,
                    &finished,
                ],
            )
            .map_err(|e| pg_error("import: record the batch's counts", e))?;
        for (reason, rows) in &self.pending_skips {
            self.client
                .execute(
                    "INSERT INTO import_skips (import_id, reason, rows) VALUES ($1, $2, $3)
                     ON CONFLICT (import_id, reason) DO UPDATE SET rows = import_skips.rows + excluded.rows",
                    &[&self.import_id, &reason.as_ref(), &(*rows as i64)],
                )
                .map_err(|e| pg_error("import: record skipped rows", e))?;
        }
        // The identity sequences past the ids written explicitly.
        for t in std::iter::once(table(self.kind))
            .chain(ENTITIES)
            .chain(["quarantine"])
        {
            self.client
                .query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', 'id'), max(id)) FROM {t}
                         HAVING max(id) IS NOT NULL"
                    ),
                    &[],
                )
                .map_err(|e| pg_error("import: move the id sequences", e))?;
        }
        Ok(c)
    }

    fn rollback(&mut self) {
        if self.open {
            // Best effort: a connection that is gone has rolled back already.
            let _ = self.client.batch_execute("ROLLBACK");
            self.open = false;
            self.pending = ImportCounts::default();
            self.pending_skips.clear();
            self.view.clear();
            self.out = Chunk::default();
        }
    }
}

/// A column of a row the import reads, as its type (a database whose columns were changed by
/// hand is an error, not a panic).
fn get<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| pg_error("import: read the store's rows", e))
}

fn concurrent(t: &str) -> StoreError {
    StoreError::Postgres {
        what: format!("import into {t}"),
        message: "rows with these ids were written by another process meanwhile; nothing of this batch was stored: import the file again".into(),
    }
}

impl PgStore {
    /// Imports one file of one kind, as [`crate::Store::import_file_with`] does into SQLite:
    /// the same reading, identity, duplicates, quarantine and counts, committed per batch.
    pub fn import_file_with(
        &mut self,
        path: &Path,
        opts: &ReadOptions,
        settings: &ImportSettings,
        on_progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport, StoreError> {
        let span = tracing::info_span!("import", file = %path.display(), kind = %opts.kind);
        let _enter = span.enter();
        let location = self.location.clone();
        let fingerprint = hearken_ingest::fingerprint(path)?;
        let reader = RowReader::open(path, opts)?;
        let mut early_notes = Vec::new();
        if !settings.demo && self.holds_demo_data()? {
            early_notes.push(format!(
                "{location} holds the synthetic data of `hearken demo`: these rows are mixed with it; import real data into its own store with --db PATH"
            ));
        }
        let bytes = reader.progress();
        let size = reader.size();
        let file = path.display().to_string();
        let source =
            std::fs::canonicalize(path).map_or_else(|_| file.clone(), |p| p.display().to_string());
        let client = self.client.get_mut().unwrap_or_else(|p| p.into_inner());
        let kind = opts.kind;
        let (import_id, same_file) =
            start_import(client, kind, &file, &fingerprint, &source, settings.demo)?;
        let mut writer = PgWriter::new(
            client,
            &location,
            kind,
            import_id,
            &file,
            &fingerprint,
            SameSource::Imports(same_file),
            settings.batch.max(1) as u64,
            0,
        );
        let (finished, total) = pipeline::import_rows(
            reader,
            opts.enrich.clone(),
            settings.batch.max(1),
            &mut writer,
            &mut |total| {
                on_progress(&ImportProgress {
                    bytes: bytes.bytes(),
                    size,
                    counts: *total,
                });
            },
        )?;
        let (mut notes, file_error) = (finished.notes, finished.error);
        let skipped_reasons = pipeline::BatchWriter::skipped_reasons(&writer);
        drop(writer);
        let resolved =
            resolve_quarantine(client, kind, import_id, &fingerprint, file_error.is_none())?;
        client
            .execute(
                "UPDATE imports SET finished_at = $1 WHERE id = $2",
                &[&now(), &import_id],
            )
            .map_err(|e| pg_error("import: record its end", e))?;
        tracing::info!(
            import_id,
            read = total.read,
            stored = total.stored,
            duplicates = total.duplicates,
            quarantined = total.quarantined,
            skipped = total.skipped,
            resolved,
            "import finished"
        );
        early_notes.append(&mut notes);
        Ok(ImportReport {
            import_id,
            file,
            kind,
            counts: total,
            skipped_reasons,
            resolved,
            notes: early_notes,
            error: file_error.map(|e| e.to_string()),
        })
    }

    /// Whether the store holds the rows of `hearken demo`.
    pub fn holds_demo_data(&self) -> Result<bool, StoreError> {
        let row = self
            .client()
            .query_one("SELECT EXISTS (SELECT 1 FROM imports WHERE demo = 1)", &[])
            .map_err(|e| pg_error("read imports", e))?;
        get(&row, 0)
    }

    /// The key pseudonyms are made with (`--redact-pii`), created on first use: the SQLite
    /// store's `pseudonym_key`.
    pub fn pseudonym_key(&self) -> Result<String, StoreError> {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now() as u64);
        h.write_u32(std::process::id());
        let mut h2 = std::collections::hash_map::RandomState::new().build_hasher();
        h2.write_u64(h.finish());
        let fresh = format!("{:016x}{:016x}", h.finish(), h2.finish());
        let mut c = self.client();
        c.execute(
            "INSERT INTO store_meta (key, value) VALUES ('pseudonym_key', $1) ON CONFLICT (key) DO NOTHING",
            &[&fresh],
        )
        .map_err(|e| pg_error("create a pseudonym key", e))?;
        let row = c
            .query_one(
                "SELECT value FROM store_meta WHERE key = 'pseudonym_key'",
                &[],
            )
            .map_err(|e| pg_error("read the pseudonym key", e))?;
        get(&row, 0)
    }

    /// The newest version of a stored topic model and its bytes: the SQLite store's
    /// `load_model`.
    pub fn load_model(
        &self,
        name: &str,
    ) -> Result<Option<(crate::ModelInfo, Vec<u8>)>, StoreError> {
        let row = self
            .client()
            .query_opt(
                "SELECT name, version, created_at, labels, examples, bytes FROM topic_models
                 WHERE name = $1 ORDER BY version DESC LIMIT 1",
                &[&name],
            )
            .map_err(|e| pg_error("read the topic model", e))?;
        row.map(|r| {
            Ok((
                crate::ModelInfo {
                    name: get(&r, 0)?,
                    version: get(&r, 1)?,
                    created_at: get(&r, 2)?,
                    labels: get(&r, 3)?,
                    examples: get(&r, 4)?,
                },
                get(&r, 5)?,
            ))
        })
        .transpose()
    }
}

/// Records a new import (its id the largest plus one, as in SQLite) and finds the earlier
/// imports of the same bytes.
fn start_import(
    client: &mut Client,
    kind: RecordKind,
    file: &str,
    fingerprint: &str,
    source: &str,
    demo: bool,
) -> Result<(i64, HashSet<i64>), StoreError> {
    let err = |e| pg_error("import: record the import", e);
    let mut tx = client.transaction().map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
        .map_err(err)?;
    let started = now();
    let row = tx
        .query_one(
            "INSERT INTO imports (id, kind, file, fingerprint, started_at, pid, host, heartbeat_at, source, demo)
             SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6, $4, $7, $8 FROM imports
             RETURNING id",
            &[
                &kind.as_str(),
                &file,
                &fingerprint,
                &started,
                &i64::from(std::process::id()),
                &crate::store::host_name(),
                &source,
                &i64::from(demo),
            ],
        )
        .map_err(err)?;
    let import_id: i64 = get(&row, 0)?;
    tx.query(
        "SELECT setval(pg_get_serial_sequence('imports', 'id'), $1)",
        &[&import_id],
    )
    .map_err(err)?;
    let same: HashSet<i64> = tx
        .query(
            "SELECT id FROM imports WHERE fingerprint = $1 AND kind = $2",
            &[&fingerprint, &kind.as_str()],
        )
        .map_err(err)?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_, _>>()?;
    tx.commit().map_err(err)?;
    Ok((import_id, same))
}

/// `Store::resolve_quarantine` in PostgreSQL: the same two statements.
fn resolve_quarantine(
    client: &mut Client,
    kind: RecordKind,
    import_id: i64,
    fingerprint: &str,
    read_to_end: bool,
) -> Result<u64, StoreError> {
    let (t, real) = match kind {
        RecordKind::Customers => ("customers", " AND t.row_hash IS NOT NULL"),
        RecordKind::Products => ("products", " AND t.row_hash IS NOT NULL"),
        RecordKind::Agents => ("agents", " AND t.row_hash IS NOT NULL"),
        RecordKind::Signals => ("signals", ""),
        RecordKind::Surveys => ("surveys", ""),
        RecordKind::CaseEvents => ("case_events", ""),
    };
    let at = now();
    let err = |e| pg_error("import: close quarantine entries", e);
    let mut tx = client.transaction().map_err(err)?;
    let mut n = tx
        .execute(
            &format!(
                "UPDATE quarantine SET resolved_at = $1, resolution = 'stored', resolved_by = $2
                 WHERE resolved_at IS NULL AND kind = $3 AND import_id <> $2 AND ext_key IS NOT NULL
                 AND EXISTS (SELECT 1 FROM {t} t WHERE t.ext_id = quarantine.ext_key{real})"
            ),
            &[&at, &import_id, &kind.as_str()],
        )
        .map_err(err)?;
    if read_to_end {
        n += tx
            .execute(
                "UPDATE quarantine SET resolved_at = $1, resolution = 'superseded', resolved_by = $2
                 WHERE resolved_at IS NULL AND kind = $3 AND fingerprint = $4 AND import_id <> $2",
                &[&at, &import_id, &kind.as_str(), &fingerprint],
            )
            .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(n)
}
