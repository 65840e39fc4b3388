//! The columnar snapshot: the rows the engine reads, kept inside the database file as typed
//! column chunks, so an analytics command reads only the columns it needs (a few megabytes per
//! million rows) instead of scanning whole rows through SQL.
//!
//! Layout. A *part* is one frame's worth of data (`signals`, `surveys`, `customers`, `agents`,
//! `products`, `cases`). Its rows are kept in id order and cut into chunks of [`CHUNK`] rows; each
//! chunk of each column is one BLOB of little-endian values (strings: length-prefixed UTF-8).
//! Chunks of timed parts carry the smallest and largest `at` they hold, so a window skips whole
//! chunks without reading them. Entity parts are indexed by `id - 1`, the same dense codes the
//! frames use; ids that do not exist read as missing.
//!
//! Freshness. Each part records the largest source id it holds and a *key* naming everything
//! else that would change its content: the last customers import for `customers` (an import
//! may update attributes), the topic generation for `signals` (`topics classify` rewrites
//! predicted topics). Events are never overwritten, so new rows are appended to the last chunk;
//! a changed key rebuilds the part. [`Store::refresh_snapshot`] brings every stale part up to
//! date in one transaction, so a process killed mid-refresh leaves the previous snapshot, and
//! the frames read from a fresh snapshot equal the ones read row by row from the tables
//! (`tests/store/main.rs` checks this).

use std::collections::HashMap;

use hearken_engine::{AgentFrame, CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
use rusqlite::{Connection, OptionalExtension, params};

use crate::frames::Window;
use crate::{Store, StoreError};

/// Rows per chunk: 4 MB for a column of `u32`.
pub const CHUNK: usize = 1 << 20;

/// The layout of the parts' columns; bumped whenever a part gains or changes a column, so
/// snapshots written by an older build are rebuilt rather than read without it.
const LAYOUT: i64 = 2;

/// Written into every part; a snapshot written with another layout (or on a machine of the
/// other byte order) is rebuilt rather than misread.
const FORMAT: i64 = LAYOUT * 2 + if cfg!(target_endian = "little") { 1 } else { 0 };

/// One column of a chunk, decoded.
#[derive(Debug, Clone)]
enum Column {
    I64(Vec<i64>),
    F64(Vec<f64>),
    F32(Vec<f32>),
    U32(Vec<u32>),
    U8(Vec<u8>),
    Str(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::I64(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::F32(v) => v.len(),
            Column::U32(v) => v.len(),
            Column::U8(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }

    fn empty_like(&self) -> Column {
        match self {
            Column::I64(_) => Column::I64(Vec::new()),
            Column::F64(_) => Column::F64(Vec::new()),
            Column::F32(_) => Column::F32(Vec::new()),
            Column::U32(_) => Column::U32(Vec::new()),
            Column::U8(_) => Column::U8(Vec::new()),
            Column::Str(_) => Column::Str(Vec::new()),
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Column::I64(_) => 1,
            Column::F64(_) => 2,
            Column::F32(_) => 3,
            Column::U32(_) => 4,
            Column::U8(_) => 5,
            Column::Str(_) => 6,
        }
    }

    /// A tag byte, then the values.
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.tag()];
        match self {
            Column::I64(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
            Column::F64(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
            Column::F32(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
            Column::U32(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
            Column::U8(v) => out.extend_from_slice(v),
            Column::Str(v) => {
                for s in v {
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Column, String> {
        let (&tag, body) = bytes.split_first().ok_or("empty column blob")?;
        let pod = |width: usize| {
            if body.len() % width == 0 {
                Ok(())
            } else {
                Err(format!(
                    "column blob of {} bytes is not a whole number of values",
                    body.len()
                ))
            }
        };
        Ok(match tag {
            1 => pod(8).map(|()| Column::I64(bytemuck::pod_collect_to_vec(body)))?,
            2 => pod(8).map(|()| Column::F64(bytemuck::pod_collect_to_vec(body)))?,
            3 => pod(4).map(|()| Column::F32(bytemuck::pod_collect_to_vec(body)))?,
            4 => pod(4).map(|()| Column::U32(bytemuck::pod_collect_to_vec(body)))?,
            5 => Column::U8(body.to_vec()),
            6 => {
                let mut v = Vec::new();
                let mut rest = body;
                while !rest.is_empty() {
                    let (len, tail) = rest
                        .split_first_chunk::<4>()
                        .ok_or("truncated string column")?;
                    let len = u32::from_le_bytes(*len) as usize;
                    let s = tail.get(..len).ok_or("truncated string column")?;
                    v.push(String::from_utf8(s.to_vec()).map_err(|e| e.to_string())?);
                    rest = &tail[len..];
                }
                Column::Str(v)
            }
            t => return Err(format!("unknown column type {t}")),
        })
    }

    fn reserve(&mut self, n: usize) {
        match self {
            Column::I64(v) => v.reserve(n),
            Column::F64(v) => v.reserve(n),
            Column::F32(v) => v.reserve(n),
            Column::U32(v) => v.reserve(n),
            Column::U8(v) => v.reserve(n),
            Column::Str(v) => v.reserve(n),
        }
    }

    fn extend(&mut self, other: Column) {
        match (self, other) {
            (Column::I64(a), Column::I64(b)) => a.extend(b),
            (Column::F64(a), Column::F64(b)) => a.extend(b),
            (Column::F32(a), Column::F32(b)) => a.extend(b),
            (Column::U32(a), Column::U32(b)) => a.extend(b),
            (Column::U8(a), Column::U8(b)) => a.extend(b),
            (Column::Str(a), Column::Str(b)) => a.extend(b),
            // Columns of one name always have one type (the writer below is the only writer).
            _ => {}
        }
    }

    fn keep(&self, mask: &[bool]) -> Column {
        fn k<T: Clone>(v: &[T], mask: &[bool]) -> Vec<T> {
            v.iter()
                .zip(mask)
                .filter(|(_, m)| **m)
                .map(|(x, _)| x.clone())
                .collect()
        }
        match self {
            Column::I64(v) => Column::I64(k(v, mask)),
            Column::F64(v) => Column::F64(k(v, mask)),
            Column::F32(v) => Column::F32(k(v, mask)),
            Column::U32(v) => Column::U32(k(v, mask)),
            Column::U8(v) => Column::U8(k(v, mask)),
            Column::Str(v) => Column::Str(k(v, mask)),
        }
    }
}

/// Appends the `n` values of the chunk BLOB at `rowid` to `col`, read straight from the
/// database into the column's memory. `Ok(false)` when the column is not fixed-width (strings),
/// so the caller decodes it instead; an error when the BLOB does not hold `n` values of the
/// column's type.
fn read_into(conn: &Connection, rowid: i64, col: &mut Column, n: usize) -> Result<bool, String> {
    let blob = conn
        .blob_open(rusqlite::MAIN_DB, "snapshot_chunks", "data", rowid, true)
        .map_err(|e| e.to_string())?;
    let (tag, width) = match col {
        Column::I64(_) | Column::F64(_) => (col.tag(), 8),
        Column::F32(_) | Column::U32(_) => (col.tag(), 4),
        Column::U8(_) => (col.tag(), 1),
        Column::Str(_) => return Ok(false),
    };
    let mut head = [0u8; 1];
    blob.read_at_exact(&mut head, 0)
        .map_err(|e| e.to_string())?;
    if head[0] != tag || blob.len() != 1 + n * width {
        return Err(format!(
            "chunk of {} bytes with type {} is not {n} values of type {tag}",
            blob.len(),
            head[0]
        ));
    }
    fn fill<T: bytemuck::Pod + Default>(
        v: &mut Vec<T>,
        n: usize,
        blob: &rusqlite::blob::Blob<'_>,
    ) -> Result<(), String> {
        let old = v.len();
        v.resize(old + n, T::default());
        blob.read_at_exact(bytemuck::cast_slice_mut(&mut v[old..]), 1)
            .map_err(|e| e.to_string())
    }
    match col {
        Column::I64(v) => fill(v, n, &blob)?,
        Column::F64(v) => fill(v, n, &blob)?,
        Column::F32(v) => fill(v, n, &blob)?,
        Column::U32(v) => fill(v, n, &blob)?,
        Column::U8(v) => fill(v, n, &blob)?,
        Column::Str(_) => return Ok(false),
    }
    Ok(true)
}

fn corrupt(part: &str, col: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Snapshot(format!(
        "column {col} of the {part} snapshot is unreadable ({why}); run `hearken snapshot --rebuild`"
    ))
}

/// Which columns of the signals to load; the rest stay empty in the frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalColumns {
    /// The store's row ids (to look signals up again).
    pub id: bool,
    pub at: bool,
    pub channel: bool,
    pub kind: bool,
    pub source: bool,
    pub customer: bool,
    pub product: bool,
    pub agent: bool,
    pub case: bool,
    pub stage: bool,
    pub topic: bool,
    pub sentiment: bool,
    /// The customers' external ids (the `customers` dictionary), needed to name customers.
    pub customer_names: bool,
    pub product_names: bool,
    pub agent_names: bool,
    pub case_names: bool,
}

impl SignalColumns {
    pub const ALL: SignalColumns = SignalColumns {
        id: true,
        at: true,
        channel: true,
        kind: true,
        source: true,
        customer: true,
        product: true,
        agent: true,
        case: true,
        stage: true,
        topic: true,
        sentiment: true,
        customer_names: true,
        product_names: true,
        agent_names: true,
        case_names: true,
    };
}

/// Which columns of the survey responses to load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyColumns {
    pub at: bool,
    pub customer: bool,
    pub product: bool,
    pub agent: bool,
    pub case: bool,
    pub channel: bool,
    pub nps: bool,
    pub csat: bool,
    pub ces: bool,
    pub overall: bool,
    pub aspects: bool,
    pub customer_names: bool,
    pub product_names: bool,
    pub agent_names: bool,
}

impl SurveyColumns {
    pub const ALL: SurveyColumns = SurveyColumns {
        at: true,
        customer: true,
        product: true,
        agent: true,
        case: true,
        channel: true,
        nps: true,
        csat: true,
        ces: true,
        overall: true,
        aspects: true,
        customer_names: true,
        product_names: true,
        agent_names: true,
    };
}

/// What a refresh did, per part.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SnapshotRefresh {
    /// Parts rebuilt from scratch, with their rows.
    pub rebuilt: Vec<(String, u64)>,
    /// Parts extended with new rows, with how many were added.
    pub appended: Vec<(String, u64)>,
}

impl SnapshotRefresh {
    pub fn is_empty(&self) -> bool {
        self.rebuilt.is_empty() && self.appended.is_empty()
    }
}

/// One part's source: how to read its rows after an id, and how to name its freshness key.
struct PartDef {
    name: &'static str,
    table: &'static str,
    /// Whether rows are dense by `id - 1` (entities) rather than one per row (events).
    dense: bool,
    /// Whether the part has an `at` column whose chunk ranges a window can use.
    timed: bool,
    key_sql: &'static str,
}

const PARTS: &[PartDef] = &[
    PartDef {
        name: "signals",
        table: "signals",
        dense: false,
        timed: true,
        key_sql: "SELECT coalesce((SELECT value FROM store_generations WHERE name = 'topics'), 0)",
    },
    PartDef {
        name: "surveys",
        table: "surveys",
        dense: false,
        timed: true,
        key_sql: "SELECT 0",
    },
    PartDef {
        name: "customers",
        table: "customers",
        dense: true,
        timed: false,
        key_sql: "SELECT coalesce((SELECT id || '/' || coalesce(finished_at, 'open') FROM imports
                  WHERE kind = 'customers' ORDER BY id DESC LIMIT 1), '')",
    },
    PartDef {
        name: "agents",
        table: "agents",
        dense: true,
        timed: false,
        key_sql: "SELECT coalesce((SELECT id || '/' || coalesce(finished_at, 'open') FROM imports
                  WHERE kind = 'agents' ORDER BY id DESC LIMIT 1), '')",
    },
    PartDef {
        name: "products",
        table: "products",
        dense: true,
        timed: false,
        key_sql: "SELECT 0",
    },
    PartDef {
        name: "cases",
        table: "cases",
        dense: true,
        timed: false,
        key_sql: "SELECT 0",
    },
    // Per case, from its events: any new event can change an old case, so the key is the
    // newest event and a change rebuilds the part. The part also keeps the log's activity
    // names (`dict:activity`); the `a` marks keys of parts that do, so a part built before is
    // built again once.
    PartDef {
        name: "case_kpis",
        table: "cases",
        dense: true,
        timed: false,
        key_sql: "SELECT 'a' || coalesce(max(id), 0) FROM case_events",
    },
];

fn part_def(name: &str) -> Option<&'static PartDef> {
    PARTS.iter().find(|p| p.name == name)
}

/// What the snapshot holds for a part.
#[derive(Debug, Clone)]
struct PartState {
    key: String,
    last_id: i64,
    rows: i64,
    format: i64,
}

fn part_state(conn: &Connection, part: &str) -> Result<Option<PartState>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT key, last_id, rows, format FROM snapshot_parts WHERE part = ?1",
            [part],
            |r| {
                Ok(PartState {
                    key: r.get(0)?,
                    last_id: r.get(1)?,
                    rows: r.get(2)?,
                    format: r.get(3)?,
                })
            },
        )
        .optional()?)
}

fn current_key(conn: &Connection, def: &PartDef) -> Result<String, StoreError> {
    Ok(key_text(conn.query_row(def.key_sql, [], |r| r.get(0))?))
}

/// A part's key as stored: integers and text as themselves.
fn key_text(v: rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(s) => s,
        other => format!("{other:?}"),
    }
}

fn max_id(conn: &Connection, table: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        &format!("SELECT coalesce(max(id), 0) FROM {table}"),
        [],
        |r| r.get(0),
    )?)
}

/// What a part needs: nothing, new rows after its last id, or a rebuild.
enum Need {
    Fresh,
    Append { after: i64 },
    Rebuild,
}

/// The format stamp of a part: layout, byte order and chunk size, any of which changing means
/// a rebuild.
fn format_of(chunk_rows: usize) -> i64 {
    FORMAT + ((chunk_rows as i64) << 16)
}

fn need(conn: &Connection, def: &PartDef, format: i64) -> Result<(Need, String, i64), StoreError> {
    let key = current_key(conn, def)?;
    let last = max_id(conn, def.table)?;
    let need = match part_state(conn, def.name)? {
        Some(s) if s.format == format && s.key == key && s.last_id == last => Need::Fresh,
        Some(s) if s.format == format && s.key == key && s.last_id < last => {
            Need::Append { after: s.last_id }
        }
        _ => Need::Rebuild,
    };
    Ok((need, key, last))
}

/// Rows being assembled for a part: named columns of equal length, plus the `at` range.
#[derive(Default)]
struct Builder {
    cols: Vec<(String, Column)>,
    rows: usize,
}

impl Builder {
    fn col(&mut self, name: &str, empty: Column) -> &mut Column {
        let i = match self.cols.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                // A column first seen now (a new survey aspect) is missing for the earlier rows.
                let mut c = empty;
                pad(&mut c, self.rows);
                self.cols.push((name.to_string(), c));
                self.cols.len() - 1
            }
        };
        &mut self.cols[i].1
    }

    /// Brings every column to `rows` values, padding with the column's missing value.
    fn finish_row(&mut self) {
        self.rows += 1;
        for (_, c) in &mut self.cols {
            pad(c, self.rows);
        }
    }
}

/// Pads a column to `n` values with its missing value (NaN, `NONE`, 0, empty).
fn pad(c: &mut Column, n: usize) {
    match c {
        Column::I64(v) => v.resize(n, i64::MIN),
        Column::F64(v) => v.resize(n, f64::NAN),
        Column::F32(v) => v.resize(n, f32::NAN),
        Column::U32(v) => v.resize(n, NONE),
        Column::U8(v) => v.resize(n, u8::MAX),
        Column::Str(v) => v.resize(n, String::new()),
    }
}

/// Dictionary coding of strings, seeded from a stored dictionary when appending.
#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn from_names(names: Vec<String>) -> Interner {
        let map = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        Interner { map, names }
    }

    /// [`Interner::code`] of a borrowed name: allocates only for a new one.
    fn code_str(&mut self, v: &str) -> u32 {
        if let Some(c) = self.map.get(v) {
            return *c;
        }
        self.code(Some(v.to_string()))
    }

    fn code(&mut self, v: Option<String>) -> u32 {
        let Some(v) = v else { return NONE };
        if let Some(c) = self.map.get(&v) {
            return *c;
        }
        let c = self.names.len() as u32;
        self.names.push(v.clone());
        self.map.insert(v, c);
        c
    }
}

/// One case's events folded as they come in case order: the `case_kpis` figures.
struct CaseFold {
    id: i64,
    first_at: i64,
    last_at: i64,
    first_agent_at: Option<i64>,
    events: u64,
}

impl CaseFold {
    fn new(id: i64, at: i64, by_agent: bool) -> CaseFold {
        CaseFold {
            id,
            first_at: at,
            last_at: at,
            first_agent_at: by_agent.then_some(at),
            events: 1,
        }
    }

    fn add(&mut self, at: i64, by_agent: bool) {
        self.first_at = self.first_at.min(at);
        self.last_at = self.last_at.max(at);
        if by_agent {
            self.first_agent_at = Some(self.first_agent_at.map_or(at, |t| t.min(at)));
        }
        self.events += 1;
    }
}

fn code(id: Option<i64>) -> u32 {
    match id {
        Some(id) if id >= 1 && id <= i64::from(u32::MAX - 1) => (id - 1) as u32,
        _ => NONE,
    }
}

fn push_u32(b: &mut Builder, name: &str, v: u32) {
    if let Column::U32(c) = b.col(name, Column::U32(Vec::new())) {
        c.push(v);
    }
}
fn push_u8(b: &mut Builder, name: &str, v: u8) {
    if let Column::U8(c) = b.col(name, Column::U8(Vec::new())) {
        c.push(v);
    }
}
fn push_i64(b: &mut Builder, name: &str, v: i64) {
    if let Column::I64(c) = b.col(name, Column::I64(Vec::new())) {
        c.push(v);
    }
}
fn push_f32(b: &mut Builder, name: &str, v: f32) {
    if let Column::F32(c) = b.col(name, Column::F32(Vec::new())) {
        c.push(v);
    }
}
fn push_f64(b: &mut Builder, name: &str, v: f64) {
    if let Column::F64(c) = b.col(name, Column::F64(Vec::new())) {
        c.push(v);
    }
}
fn push_str(b: &mut Builder, name: &str, v: String) {
    if let Column::Str(c) = b.col(name, Column::Str(Vec::new())) {
        c.push(v);
    }
}

/// Writes a part: chunks from `first_chunk` on, then its state. Runs inside the caller's
/// transaction.
struct PartWriter<'c> {
    conn: &'c Connection,
    part: &'static PartDef,
    chunk: i64,
    rows_written: i64,
    chunk_rows: usize,
}

impl PartWriter<'_> {
    /// Writes `b` out and starts the next chunk when `b` is full; whether it did.
    fn rotate_if_full(&mut self, b: &mut Builder) -> Result<bool, StoreError> {
        if b.rows < self.chunk_rows {
            return Ok(false);
        }
        self.write_chunk(b)?;
        self.chunk += 1;
        *b = Builder::default();
        Ok(true)
    }

    /// Adds missing-entity rows until `*next` reaches `end` (dense parts: ids without a row).
    fn pad_ids(&mut self, b: &mut Builder, next: &mut i64, end: i64) -> Result<(), StoreError> {
        while *next < end {
            b.finish_row();
            *next += 1;
            self.rotate_if_full(b)?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, b: &Builder) -> Result<(), StoreError> {
        if b.rows == 0 {
            return Ok(());
        }
        let (min_at, max_at) = if self.part.timed {
            match b.cols.iter().find(|(n, _)| n == "at") {
                Some((_, Column::I64(at))) => (at.iter().min().copied(), at.iter().max().copied()),
                _ => (None, None),
            }
        } else {
            (None, None)
        };
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO snapshot_chunks (part, col, chunk, rows, min_at, max_at, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (name, col) in &b.cols {
            stmt.execute(params![
                self.part.name,
                name,
                self.chunk,
                b.rows as i64,
                min_at,
                max_at,
                col.encode()
            ])?;
        }
        self.rows_written += b.rows as i64;
        Ok(())
    }
}

/// Chunk `chunk` of a part with every column it has.
fn read_chunk(conn: &Connection, part: &str, chunk: i64) -> Result<Builder, StoreError> {
    let mut b = Builder::default();
    let mut stmt = conn.prepare_cached(
        "SELECT col, rows, data FROM snapshot_chunks WHERE part = ?1 AND chunk = ?2",
    )?;
    let mut rows = stmt.query(params![part, chunk])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let n: i64 = r.get(1)?;
        let bytes = r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        let col = Column::decode(bytes).map_err(|e| corrupt(part, &name, e))?;
        if col.len() as i64 != n {
            return Err(corrupt(part, &name, "wrong length"));
        }
        b.rows = n as usize;
        b.cols.push((name, col));
    }
    Ok(b)
}

fn read_dict(conn: &Connection, part: &str, col: &str) -> Result<Vec<String>, StoreError> {
    let blob: Option<Vec<u8>> = conn
        .query_row(
            "SELECT data FROM snapshot_chunks WHERE part = ?1 AND col = ?2 AND chunk = -1",
            params![part, col],
            |r| r.get(0),
        )
        .optional()?;
    match blob {
        None => Ok(Vec::new()),
        Some(b) => match Column::decode(&b).map_err(|e| corrupt(part, col, e))? {
            Column::Str(v) => Ok(v),
            _ => Err(corrupt(part, col, "not a dictionary")),
        },
    }
}

fn write_dict(
    conn: &Connection,
    part: &str,
    col: &str,
    names: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO snapshot_chunks (part, col, chunk, rows, data) VALUES (?1, ?2, -1, ?3, ?4)",
        params![part, col, names.len() as i64, Column::Str(names.to_vec()).encode()],
    )?;
    Ok(())
}

/// The SQL and row decoding of each part. `dicts` are the part's dictionary-coded string
/// columns, seeded from the snapshot when appending.
fn scan_part(
    conn: &Connection,
    def: &'static PartDef,
    // Source ids after the first, up to the second (dense parts end at it).
    (after, upto): (i64, i64),
    mut start: Builder,
    dicts: &mut HashMap<&'static str, Interner>,
    w: &mut PartWriter<'_>,
    on_rows: &mut dyn FnMut(u64),
) -> Result<u64, StoreError> {
    let sql = match def.name {
        "signals" => {
            "SELECT id, at, channel, kind, source, customer_id, product_id, agent_id, case_id, stage,
             coalesce(topic, predicted_topic), sentiment FROM signals WHERE id > ?1 ORDER BY id"
        }
        "surveys" => {
            "SELECT id, at, customer_id, product_id, agent_id, channel, nps, csat, ces, overall,
             case_id FROM surveys WHERE id > ?1 ORDER BY id"
        }
        "customers" => {
            "SELECT id, ext_id, segment, persona, since, value_per_year, white_glove, churned_at
             FROM customers WHERE id > ?1 ORDER BY id"
        }
        "agents" => "SELECT id, ext_id, team FROM agents WHERE id > ?1 ORDER BY id",
        // One row per event, in case order, folded per case below (the aggregates of a
        // `GROUP BY case_id`), and every activity name into the part's `activity` dictionary:
        // the log's activities, without a scan of its own ([`Store::case_activities`]).
        "case_kpis" => {
            "SELECT case_id, at, agent_id IS NOT NULL, activity FROM case_events
             WHERE case_id > ?1 ORDER BY case_id"
        }
        "products" => "SELECT id, ext_id FROM products WHERE id > ?1 ORDER BY id",
        _ => "SELECT id, ext_id FROM cases WHERE id > ?1 ORDER BY id",
    };
    // Survey aspects of the new rows, merged by survey id with the rows below (both in id
    // order), so memory stays at one chunk.
    let mut aspect_stmt = conn.prepare(
        "SELECT survey_id, aspect, rating FROM survey_aspects WHERE survey_id > ?1 ORDER BY survey_id",
    )?;
    let mut aspect_rows = if def.name == "surveys" {
        Some(aspect_stmt.query([after])?)
    } else {
        None
    };
    let mut pending: Option<(i64, String, f32)> = None;
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([after])?;
    let mut added = 0u64;
    let mut next_dense = after + 1;
    let b = &mut start;
    if def.name == "case_kpis" {
        let activities = dicts.entry("activity").or_default();
        let mut case: Option<CaseFold> = None;
        loop {
            let row = rows.next()?;
            let next = match row {
                Some(r) => {
                    let id: i64 = r.get(0)?;
                    let at: i64 = r.get(1)?;
                    let by_agent: bool = r.get(2)?;
                    activities.code_str(r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?);
                    match case.as_mut() {
                        Some(c) if c.id == id => {
                            c.add(at, by_agent);
                            continue;
                        }
                        _ => Some(CaseFold::new(id, at, by_agent)),
                    }
                }
                None => None,
            };
            if let Some(c) = std::mem::replace(&mut case, next) {
                w.pad_ids(b, &mut next_dense, c.id)?;
                next_dense = c.id + 1;
                push_i64(b, "first_at", c.first_at);
                push_i64(b, "last_at", c.last_at);
                push_i64(b, "first_agent_at", c.first_agent_at.unwrap_or(i64::MIN));
                push_u32(b, "events", c.events.min(u64::from(u32::MAX - 1)) as u32);
                b.finish_row();
                added += 1;
                if w.rotate_if_full(b)? {
                    on_rows(added);
                }
            }
            if case.is_none() {
                break;
            }
        }
        w.pad_ids(b, &mut next_dense, upto + 1)?;
        w.write_chunk(b)?;
        on_rows(added);
        return Ok(added);
    }
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if def.dense {
            // Ids without a row (none today: ids are dense) read as missing entities.
            w.pad_ids(b, &mut next_dense, id)?;
            next_dense = id + 1;
        }
        match def.name {
            "signals" => {
                push_i64(b, "id", id);
                push_i64(b, "at", r.get(1)?);
                push_u8(b, "channel", r.get(2)?);
                push_u8(b, "kind", r.get(3)?);
                push_u8(b, "source", r.get(4)?);
                push_u32(b, "customer", code(r.get(5)?));
                push_u32(b, "product", code(r.get(6)?));
                push_u32(b, "agent", code(r.get(7)?));
                push_u32(b, "case", code(r.get(8)?));
                let stage = dicts.entry("stage").or_default().code(r.get(9)?);
                push_u32(b, "stage", stage);
                let topic = dicts.entry("topic").or_default().code(r.get(10)?);
                push_u32(b, "topic", topic);
                let s = r.get::<_, Option<f64>>(11)?.map_or(f32::NAN, |v| v as f32);
                push_f32(b, "sentiment", s);
            }
            "surveys" => {
                push_i64(b, "at", r.get(1)?);
                push_u32(b, "customer", code(r.get(2)?));
                push_u32(b, "product", code(r.get(3)?));
                push_u32(b, "agent", code(r.get(4)?));
                push_u32(b, "case", code(r.get(10)?));
                push_u8(b, "channel", r.get::<_, Option<u8>>(5)?.unwrap_or(0));
                push_u8(b, "nps", r.get::<_, Option<u8>>(6)?.unwrap_or(u8::MAX));
                push_u8(b, "csat", r.get::<_, Option<u8>>(7)?.unwrap_or(u8::MAX));
                push_u8(b, "ces", r.get::<_, Option<u8>>(8)?.unwrap_or(u8::MAX));
                let o = r.get::<_, Option<f64>>(9)?.map_or(f32::NAN, |v| v as f32);
                push_f32(b, "overall", o);
                loop {
                    if pending.is_none()
                        && let Some(rows) = aspect_rows.as_mut()
                        && let Some(r) = rows.next()?
                    {
                        pending = Some((r.get(0)?, r.get(1)?, r.get::<_, f64>(2)? as f32));
                    }
                    match pending.take() {
                        Some((sid, _, _)) if sid < id => {} // an aspect of no survey: skipped
                        Some((sid, name, rating)) if sid == id => {
                            push_f32(b, &format!("aspect:{name}"), rating);
                        }
                        other => {
                            pending = other;
                            break;
                        }
                    }
                }
            }
            "customers" => {
                push_str(b, "ext_id", r.get(1)?);
                let seg = dicts.entry("segment").or_default().code(r.get(2)?);
                push_u32(b, "segment", seg);
                let per = dicts.entry("persona").or_default().code(r.get(3)?);
                push_u32(b, "persona", per);
                push_i64(b, "since", r.get::<_, Option<i64>>(4)?.unwrap_or(i64::MIN));
                push_f64(
                    b,
                    "value_per_year",
                    r.get::<_, Option<f64>>(5)?.unwrap_or(f64::NAN),
                );
                push_u8(b, "white_glove", r.get::<_, bool>(6)? as u8);
                push_i64(
                    b,
                    "churned_at",
                    r.get::<_, Option<i64>>(7)?.unwrap_or(i64::MIN),
                );
            }
            "agents" => {
                push_str(b, "ext_id", r.get(1)?);
                let team = dicts.entry("team").or_default().code(r.get(2)?);
                push_u32(b, "team", team);
            }
            _ => push_str(b, "ext_id", r.get(1)?),
        }
        b.finish_row();
        added += 1;
        if w.rotate_if_full(b)? {
            on_rows(added);
        }
    }
    if def.dense {
        // Entities after the last one with rows (cases without events) read as missing too, so
        // the part always ends at the table's last id and appends continue from there.
        w.pad_ids(b, &mut next_dense, upto + 1)?;
    }
    w.write_chunk(b)?;
    on_rows(added);
    Ok(added)
}

impl Store {
    /// Sets the rows per snapshot chunk (default [`CHUNK`]); a snapshot written with another
    /// size is rebuilt on the next refresh. Small chunks exercise chunk boundaries in tests.
    pub fn set_snapshot_chunk_rows(&mut self, rows: usize) {
        self.chunk_rows = rows.max(1);
    }

    /// Whether any part of the snapshot is behind the tables. Two statements in all (every
    /// analytics command asks this first, so it is kept cheap).
    pub fn snapshot_is_fresh(&self) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT {}",
            PARTS
                .iter()
                .map(|d| format!(
                    "({}), (SELECT coalesce(max(id), 0) FROM {})",
                    d.key_sql, d.table
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let current: Vec<(String, i64)> = self.conn.query_row(&sql, [], |r| {
            (0..PARTS.len())
                .map(|i| Ok((key_text(r.get(2 * i)?), r.get(2 * i + 1)?)))
                .collect()
        })?;
        let mut stored: HashMap<String, PartState> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT part, key, last_id, rows, format FROM snapshot_parts")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            stored.insert(
                r.get(0)?,
                PartState {
                    key: r.get(1)?,
                    last_id: r.get(2)?,
                    rows: r.get(3)?,
                    format: r.get(4)?,
                },
            );
        }
        let format = format_of(self.chunk_rows);
        Ok(PARTS.iter().zip(&current).all(|(def, (key, last))| {
            stored
                .get(def.name)
                .is_some_and(|s| s.format == format && &s.key == key && s.last_id == *last)
        }))
    }

    /// Brings the columnar snapshot up to date with the tables, in one transaction: new rows
    /// are appended, parts whose key changed are rebuilt (all of them with `rebuild`).
    /// `on_rows(part, rows_done)` reports progress.
    pub fn refresh_snapshot(
        &self,
        rebuild: bool,
        on_rows: &mut dyn FnMut(&str, u64),
    ) -> Result<SnapshotRefresh, StoreError> {
        let mut report = SnapshotRefresh::default();
        let chunk = self.chunk_rows as i64;
        if !rebuild && self.snapshot_is_fresh()? {
            return Ok(report);
        }
        // IMMEDIATE: take the write lock first, so two commands refreshing at once do the work
        // once (the second finds the snapshot fresh below).
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        for def in PARTS {
            let (need, key, last) = need(&tx, def, format_of(self.chunk_rows))?;
            let (after, first_chunk, start, mut dicts) = match need {
                Need::Fresh if !rebuild => continue,
                Need::Append { after } if !rebuild => {
                    let state = part_state(&tx, def.name)?;
                    let rows = state.map_or(0, |s| s.rows);
                    // The last chunk is partial unless the rows fill whole chunks.
                    let last_chunk = if rows == 0 { 0 } else { (rows - 1) / chunk };
                    let start = if rows > 0 && rows % chunk != 0 {
                        read_chunk(&tx, def.name, last_chunk)?
                    } else {
                        Builder::default()
                    };
                    if rows % chunk != 0 && start.rows as i64 != rows - last_chunk * chunk {
                        // The last chunk holds padding only (an entity part with no stored
                        // columns yet): nothing to extend, so build the part again.
                        tx.execute("DELETE FROM snapshot_chunks WHERE part = ?1", [def.name])?;
                        (0, 0, Builder::default(), HashMap::new())
                    } else {
                        let first_chunk = if start.rows > 0 {
                            last_chunk
                        } else {
                            rows / chunk
                        };
                        let mut dicts = HashMap::new();
                        for d in ["stage", "topic", "segment", "persona", "team", "activity"] {
                            let names = read_dict(&tx, def.name, &format!("dict:{d}"))?;
                            if !names.is_empty() {
                                dicts.insert(d, Interner::from_names(names));
                            }
                        }
                        (after, first_chunk, start, dicts)
                    }
                }
                _ => {
                    tx.execute("DELETE FROM snapshot_chunks WHERE part = ?1", [def.name])?;
                    (0, 0, Builder::default(), HashMap::new())
                }
            };
            let mut w = PartWriter {
                conn: &tx,
                part: def,
                chunk: first_chunk,
                rows_written: first_chunk * chunk,
                chunk_rows: self.chunk_rows,
            };
            let added = scan_part(
                &tx,
                def,
                (after, last),
                start,
                &mut dicts,
                &mut w,
                &mut |n| on_rows(def.name, n),
            )?;
            for (name, interner) in &dicts {
                write_dict(&tx, def.name, &format!("dict:{name}"), &interner.names)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO snapshot_parts (part, key, last_id, rows, format)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    def.name,
                    key,
                    last,
                    w.rows_written,
                    format_of(self.chunk_rows)
                ],
            )?;
            if after == 0 {
                report
                    .rebuilt
                    .push((def.name.to_string(), w.rows_written as u64));
            } else {
                report.appended.push((def.name.to_string(), added));
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// The named columns of a part, for the rows in `window` (timed parts only).
    fn read_columns(
        &self,
        part: &str,
        cols: &[&str],
        window: &Window,
    ) -> Result<(usize, HashMap<String, Column>), StoreError> {
        let def = part_def(part).ok_or_else(|| StoreError::Snapshot(format!("no part {part}")))?;
        let (from, to) = (
            window.from.unwrap_or(i64::MIN),
            window.to.unwrap_or(i64::MAX),
        );
        let bounded = def.timed && (window.from.is_some() || window.to.is_some());
        // Chunks and how much of each the window takes.
        let mut chunks: Vec<(i64, usize, bool)> = Vec::new(); // (chunk, rows, needs a row filter)
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT chunk, max(rows), min(min_at), max(max_at) FROM snapshot_chunks
                 WHERE part = ?1 AND chunk >= 0 GROUP BY chunk ORDER BY chunk",
            )?;
            let mut rows = stmt.query([part])?;
            while let Some(r) = rows.next()? {
                let (chunk, n): (i64, i64) = (r.get(0)?, r.get(1)?);
                let (lo, hi): (Option<i64>, Option<i64>) = (r.get(2)?, r.get(3)?);
                if !bounded {
                    chunks.push((chunk, n as usize, false));
                    continue;
                }
                let (lo, hi) = (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
                if hi < from || lo >= to {
                    continue;
                }
                chunks.push((chunk, n as usize, !(lo >= from && hi < to)));
            }
        }
        let mut out: HashMap<String, Column> = HashMap::new();
        let mut n_out = 0usize;
        let mut blob = self.conn.prepare_cached(
            "SELECT data FROM snapshot_chunks WHERE part = ?1 AND col = ?2 AND chunk = ?3",
        )?;
        let mut rowid = self.conn.prepare_cached(
            "SELECT rowid FROM snapshot_chunks WHERE part = ?1 AND col = ?2 AND chunk = ?3",
        )?;
        // Rows the selected chunks hold at most: output columns are sized once.
        let capacity: usize = chunks.iter().map(|c| c.1).sum();
        for &(chunk, n, filter) in &chunks {
            let mask = if filter {
                let at = blob
                    .query_row(params![part, "at", chunk], |r| {
                        Ok(Column::decode(r.get_ref(0)?.as_blob()?))
                    })
                    .optional()?
                    .transpose()
                    .map_err(|e| corrupt(part, "at", e))?;
                match at {
                    Some(Column::I64(at)) => Some(
                        at.iter()
                            .map(|&t| t >= from && t < to)
                            .collect::<Vec<bool>>(),
                    ),
                    _ => return Err(corrupt(part, "at", "missing")),
                }
            } else {
                None
            };
            let kept = mask
                .as_ref()
                .map_or(n, |m| m.iter().filter(|x| **x).count());
            for &name in cols {
                // Fast path: a whole chunk of a fixed-width column is read from the database
                // straight into the output column, one copy.
                if mask.is_none()
                    && let Some(entry) = out.get_mut(name)
                    && entry.len() == n_out
                    && let Some(id) = rowid
                        .query_row(params![part, name, chunk], |r| r.get::<_, i64>(0))
                        .optional()?
                    && read_into(&self.conn, id, entry, n).map_err(|e| corrupt(part, name, e))?
                {
                    continue;
                }
                let col = blob
                    .query_row(params![part, name, chunk], |r| {
                        Ok(Column::decode(r.get_ref(0)?.as_blob()?))
                    })
                    .optional()?
                    .transpose()
                    .map_err(|e| corrupt(part, name, e))?;
                let Some(col) = col else {
                    continue; // an aspect no row of this chunk has: padded below
                };
                if col.len() != n {
                    return Err(corrupt(part, name, "wrong length"));
                }
                let col = match &mask {
                    Some(m) => col.keep(m),
                    None => col,
                };
                let entry = out.entry(name.to_string()).or_insert_with(|| {
                    let mut e = col.empty_like();
                    e.reserve(capacity);
                    e
                });
                pad(entry, n_out);
                entry.extend(col);
            }
            n_out += kept;
        }
        for c in out.values_mut() {
            pad(c, n_out);
        }
        Ok((n_out, out))
    }

    fn names(&self, part: &str) -> Result<Dict, StoreError> {
        let (_, mut cols) = self.read_columns(part, &["ext_id"], &Window::default())?;
        Ok(Dict {
            names: match cols.remove("ext_id") {
                Some(Column::Str(v)) => v,
                _ => Vec::new(),
            },
        })
    }

    /// The signals of `window` with the chosen columns, read from the snapshot (which must be
    /// fresh: see [`Store::refresh_snapshot`]). Columns not chosen are left empty.
    pub fn snapshot_signals(
        &self,
        window: &Window,
        want: &SignalColumns,
    ) -> Result<SignalFrame, StoreError> {
        let mut names = Vec::new();
        for (on, name) in [
            (want.id, "id"),
            (want.at, "at"),
            (want.channel, "channel"),
            (want.kind, "kind"),
            (want.source, "source"),
            (want.customer, "customer"),
            (want.product, "product"),
            (want.agent, "agent"),
            (want.case, "case"),
            (want.stage, "stage"),
            (want.topic, "topic"),
            (want.sentiment, "sentiment"),
        ] {
            if on {
                names.push(name);
            }
        }
        let (_, mut c) = self.read_columns("signals", &names, window)?;
        let dict = |on: bool, part: &str| -> Result<Dict, StoreError> {
            if on {
                self.names(part)
            } else {
                Ok(Dict::default())
            }
        };
        Ok(SignalFrame {
            id: take_i64(&mut c, "id"),
            at: take_i64(&mut c, "at"),
            channel: take_u8(&mut c, "channel"),
            kind: take_u8(&mut c, "kind"),
            source: take_u8(&mut c, "source"),
            customer: take_u32(&mut c, "customer"),
            product: take_u32(&mut c, "product"),
            agent: take_u32(&mut c, "agent"),
            case: take_u32(&mut c, "case"),
            stage: take_u32(&mut c, "stage"),
            topic: take_u32(&mut c, "topic"),
            sentiment: take_f32(&mut c, "sentiment"),
            customers: dict(want.customer_names, "customers")?,
            products: dict(want.product_names, "products")?,
            agents: dict(want.agent_names, "agents")?,
            cases: dict(want.case_names, "cases")?,
            stages: Dict {
                names: if want.stage {
                    read_dict(&self.conn, "signals", "dict:stage")?
                } else {
                    Vec::new()
                },
            },
            topics: Dict {
                names: if want.topic {
                    read_dict(&self.conn, "signals", "dict:topic")?
                } else {
                    Vec::new()
                },
            },
        })
    }

    /// The survey responses of `window` with the chosen columns, from the snapshot.
    pub fn snapshot_surveys(
        &self,
        window: &Window,
        want: &SurveyColumns,
    ) -> Result<SurveyFrame, StoreError> {
        let mut names: Vec<String> = Vec::new();
        for (on, name) in [
            (want.at, "at"),
            (want.customer, "customer"),
            (want.product, "product"),
            (want.agent, "agent"),
            (want.case, "case"),
            (want.channel, "channel"),
            (want.nps, "nps"),
            (want.csat, "csat"),
            (want.ces, "ces"),
            (want.overall, "overall"),
        ] {
            if on {
                names.push(name.to_string());
            }
        }
        let mut aspect_cols: Vec<String> = Vec::new();
        if want.aspects {
            let mut stmt = self.conn.prepare_cached(
                "SELECT DISTINCT col FROM snapshot_chunks WHERE part = 'surveys' AND col LIKE 'aspect:%' ORDER BY col",
            )?;
            aspect_cols = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            names.extend(aspect_cols.iter().cloned());
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (n, mut c) = self.read_columns("surveys", &refs, window)?;
        let dict = |on: bool, part: &str| -> Result<Dict, StoreError> {
            if on {
                self.names(part)
            } else {
                Ok(Dict::default())
            }
        };
        let mut aspects: Vec<(String, Vec<f32>)> = aspect_cols
            .iter()
            .map(|col| {
                let mut v = take_f32(&mut c, col);
                v.resize(n, f32::NAN);
                (col.trim_start_matches("aspect:").to_string(), v)
            })
            .collect();
        // Aspects nobody rated in the window are not columns of it.
        aspects.retain(|(_, v)| v.iter().any(|x| !x.is_nan()));
        aspects.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(SurveyFrame {
            at: take_i64(&mut c, "at"),
            customer: take_u32(&mut c, "customer"),
            product: take_u32(&mut c, "product"),
            agent: take_u32(&mut c, "agent"),
            case: take_u32(&mut c, "case"),
            channel: take_u8(&mut c, "channel"),
            nps: take_u8(&mut c, "nps"),
            csat: take_u8(&mut c, "csat"),
            ces: take_u8(&mut c, "ces"),
            overall: take_f32(&mut c, "overall"),
            aspects,
            customers: dict(want.customer_names, "customers")?,
            products: dict(want.product_names, "products")?,
            agents: dict(want.agent_names, "agents")?,
        })
    }

    /// Customer attributes from the snapshot, by the frames' customer codes.
    pub fn snapshot_customers(&self) -> Result<CustomerFrame, StoreError> {
        let cols = [
            "segment",
            "persona",
            "since",
            "value_per_year",
            "white_glove",
            "churned_at",
        ];
        let (_, mut c) = self.read_columns("customers", &cols, &Window::default())?;
        Ok(CustomerFrame {
            segment: take_u32(&mut c, "segment"),
            persona: take_u32(&mut c, "persona"),
            since: take_i64(&mut c, "since"),
            value_per_year: match c.remove("value_per_year") {
                Some(Column::F64(v)) => v,
                _ => Vec::new(),
            },
            white_glove: take_u8(&mut c, "white_glove")
                .into_iter()
                .map(|b| b == 1)
                .collect(),
            churned_at: take_i64(&mut c, "churned_at"),
            segments: Dict {
                names: read_dict(&self.conn, "customers", "dict:segment")?,
            },
            personas: Dict {
                names: read_dict(&self.conn, "customers", "dict:persona")?,
            },
        })
    }

    /// Agents' teams from the snapshot, by the frames' agent codes.
    pub fn snapshot_agents(&self) -> Result<AgentFrame, StoreError> {
        let (_, mut c) = self.read_columns("agents", &["team"], &Window::default())?;
        Ok(AgentFrame {
            team: take_u32(&mut c, "team"),
            teams: Dict {
                names: read_dict(&self.conn, "agents", "dict:team")?,
            },
        })
    }
}

/// What the case events say about each case, by the frames' case codes: first and last event
/// time, the first event with an agent (`i64::MIN` when none, as for cases without events) and
/// the number of events (0 for cases without events).
#[derive(Debug, Clone, Default)]
pub struct CaseKpis {
    pub first_at: Vec<i64>,
    pub last_at: Vec<i64>,
    pub first_agent_at: Vec<i64>,
    pub events: Vec<u32>,
}

impl Store {
    /// The case events' activity names as the snapshot's `case_kpis` part recorded them (in
    /// order of first appearance), when that part covers every event; `None` otherwise.
    pub(crate) fn snapshot_case_activities(&self) -> Result<Option<Vec<String>>, StoreError> {
        let Some(def) = part_def("case_kpis") else {
            return Ok(None);
        };
        // Appending to the part means new cases without events: every event is still in it.
        match need(&self.conn, def, format_of(self.chunk_rows))?.0 {
            Need::Fresh | Need::Append { .. } => {}
            Need::Rebuild => return Ok(None),
        }
        // Empty: a part built before it kept the dictionary (or a log without events).
        let names = read_dict(&self.conn, "case_kpis", "dict:activity")?;
        Ok((!names.is_empty()).then_some(names))
    }

    /// Per-case figures from the case events, from the snapshot.
    pub fn snapshot_case_kpis(&self) -> Result<CaseKpis, StoreError> {
        let (_, mut c) = self.read_columns(
            "case_kpis",
            &["first_at", "last_at", "first_agent_at", "events"],
            &Window::default(),
        )?;
        Ok(CaseKpis {
            first_at: take_i64(&mut c, "first_at"),
            last_at: take_i64(&mut c, "last_at"),
            first_agent_at: take_i64(&mut c, "first_agent_at"),
            events: take_u32(&mut c, "events")
                .into_iter()
                .map(|e| if e == NONE { 0 } else { e })
                .collect(),
        })
    }
}

fn take_i64(c: &mut HashMap<String, Column>, name: &str) -> Vec<i64> {
    match c.remove(name) {
        Some(Column::I64(v)) => v,
        _ => Vec::new(),
    }
}
fn take_u32(c: &mut HashMap<String, Column>, name: &str) -> Vec<u32> {
    match c.remove(name) {
        Some(Column::U32(v)) => v,
        _ => Vec::new(),
    }
}
fn take_u8(c: &mut HashMap<String, Column>, name: &str) -> Vec<u8> {
    match c.remove(name) {
        Some(Column::U8(v)) => v,
        _ => Vec::new(),
    }
}
fn take_f32(c: &mut HashMap<String, Column>, name: &str) -> Vec<f32> {
    match c.remove(name) {
        Some(Column::F32(v)) => v,
        _ => Vec::new(),
    }
}
