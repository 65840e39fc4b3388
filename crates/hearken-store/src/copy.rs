//! `hearken store copy --from A --to B`: every table of a store, row for row, between SQLite
//! files and PostgreSQL databases (either way, or like to like), into an empty target.
//!
//! The tables and their columns come from the migrations themselves (applied to an in-memory
//! SQLite database), so a table added by a migration is copied without a change here. Tables
//! are copied parents first (by their foreign keys), each streamed from a read transaction of
//! the source into one write transaction of the target: binary `COPY ... FROM STDIN` into
//! PostgreSQL, prepared inserts into SQLite. Before the target commits, every table is read
//! back and reconciled: the same number of rows and the same checksum (an order-independent
//! sum of a 128-bit hash of each row's values), else the copy rolls back and the target stays
//! empty. Values keep their types exactly: 64-bit integers, doubles (bit for bit), text, bytes.

use std::path::PathBuf;

use postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutIter};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::pg::{self, PgStore, pg_error};
use crate::schema::MIGRATIONS;
use crate::{Store, StoreError};

/// Where a store is: an SQLite file or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// A `postgres://` (or `postgresql://`) URL names a database; anything else a file.
    pub fn parse(s: &str) -> Location {
        if pg::is_postgres_url(s) {
            Location::Postgres(s.to_string())
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => write!(f, "{}", pg::redact(url)),
        }
    }
}

/// One table copied: its rows and checksum, equal at both ends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
    /// 32 hex digits: the sum of the rows' xxh3-128 hashes, the same at both ends.
    pub checksum: String,
}

/// What `copy_store` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub schema_version: i64,
    pub tables: Vec<TableCopy>,
    pub rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

impl Kind {
    fn pg_type(self) -> Type {
        match self {
            Kind::Int => Type::INT8,
            Kind::Real => Type::FLOAT8,
            Kind::Text => Type::TEXT,
            Kind::Blob => Type::BYTEA,
        }
    }
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
}

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One value as both databases hold it.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// The order-independent checksum of a table's rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sum {
    rows: u64,
    hash: u128,
}

impl Sum {
    fn add(&mut self, row: &[Val]) {
        let mut bytes = Vec::with_capacity(64);
        for v in row {
            match v {
                Val::Null => bytes.push(0),
                Val::Int(i) => {
                    bytes.push(1);
                    bytes.extend_from_slice(&i.to_le_bytes());
                }
                Val::Real(f) => {
                    bytes.push(2);
                    bytes.extend_from_slice(&f.to_bits().to_le_bytes());
                }
                Val::Text(s) => {
                    bytes.push(3);
                    bytes.extend_from_slice(&(s.len() as u64).to_le_bytes());
                    bytes.extend_from_slice(s.as_bytes());
                }
                Val::Blob(b) => {
                    bytes.push(4);
                    bytes.extend_from_slice(&(b.len() as u64).to_le_bytes());
                    bytes.extend_from_slice(b);
                }
            }
        }
        self.rows += 1;
        self.hash = self.hash.wrapping_add(xxhash_rust::xxh3::xxh3_128(&bytes));
    }
}

/// The tables of this build's schema, parents before the tables that reference them.
fn tables() -> Result<Vec<Table>, StoreError> {
    let conn = Connection::open_in_memory()?;
    for m in MIGRATIONS {
        conn.execute_batch(m)?;
    }
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut all = Vec::new();
    for name in &names {
        let mut columns = Vec::new();
        let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        for row in rows {
            let (col, decl) = row?;
            let d = decl.to_ascii_uppercase();
            let kind = if d.contains("INT") {
                Kind::Int
            } else if d.contains("REAL") {
                Kind::Real
            } else if d.contains("TEXT") {
                Kind::Text
            } else if d.contains("BLOB") {
                Kind::Blob
            } else {
                return Err(StoreError::Copy(format!(
                    "column {name}.{col} has type {decl:?}, which the copy does not know"
                )));
            };
            columns.push((col, kind));
        }
        let parents: Vec<String> = conn
            .prepare(&format!("PRAGMA foreign_key_list(\"{name}\")"))?
            .query_map([], |r| r.get(2))?
            .collect::<Result<_, _>>()?;
        all.push((
            Table {
                name: name.clone(),
                columns,
            },
            parents,
        ));
    }
    // Parents first: repeatedly take the tables whose parents are all placed.
    let mut ordered: Vec<Table> = Vec::new();
    while !all.is_empty() {
        let placed: Vec<String> = ordered.iter().map(|t| t.name.clone()).collect();
        let ready = all
            .iter()
            .position(|(t, parents)| parents.iter().all(|p| p == &t.name || placed.contains(p)));
        match ready {
            Some(i) => ordered.push(all.remove(i).0),
            None => {
                return Err(StoreError::Copy(
                    "the schema's foreign keys form a cycle; the copy cannot order its tables"
                        .into(),
                ));
            }
        }
    }
    Ok(ordered)
}

/// An open end of the copy.
enum End {
    Sqlite(Store),
    Postgres(PgStore),
}

impl End {
    fn open(at: &Location, create: bool) -> Result<End, StoreError> {
        match at {
            Location::Sqlite(path) => {
                let store = if create {
                    Store::open(path)?
                } else {
                    Store::open_existing(path)?
                };
                if create {
                    store.writable("copy a store into it")?;
                }
                Ok(End::Sqlite(store))
            }
            Location::Postgres(url) => Ok(End::Postgres(PgStore::connect(url)?)),
        }
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            End::Sqlite(s) => Ok(s.conn.execute_batch(sql)?),
            End::Postgres(p) => p
                .client()
                .batch_execute(sql)
                .map_err(|e| pg_error(sql.to_string(), e)),
        }
    }

    fn count(&self, table: &Table) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM \"{}\"", table.name);
        let n: i64 = match self {
            End::Sqlite(s) => s.conn.query_row(&sql, [], |r| r.get(0))?,
            End::Postgres(p) => p
                .client()
                .query_one(&sql, &[])
                .map_err(|e| pg_error(format!("counting {}", table.name), e))?
                .get(0),
        };
        Ok(n.max(0) as u64)
    }

    /// Streams every row of `table` into `each`.
    fn read(
        &self,
        table: &Table,
        each: &mut dyn FnMut(&[Val]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT {} FROM \"{}\"", table.column_list(), table.name);
        match self {
            End::Sqlite(s) => {
                let mut stmt = s.conn.prepare(&sql)?;
                let mut rows = stmt.query([])?;
                let mut row = Vec::with_capacity(table.columns.len());
                let mut n = 0u64;
                while let Some(r) = rows.next()? {
                    n += 1;
                    row.clear();
                    for (i, (col, kind)) in table.columns.iter().enumerate() {
                        row.push(from_sqlite(r.get_ref(i)?, *kind).map_err(|got| {
                            StoreError::Copy(format!(
                                "row {n} of {}: column {col} holds {got} where the schema says {kind:?}; \
                                 the source store was changed outside Hearken",
                                table.name
                            ))
                        })?);
                    }
                    each(&row)?;
                }
                Ok(())
            }
            End::Postgres(p) => {
                let mut client = p.client();
                let err = |e| pg_error(format!("reading {}", table.name), e);
                let types: Vec<Type> = table.columns.iter().map(|(_, k)| k.pg_type()).collect();
                let reader = client
                    .copy_out(&format!("COPY ({sql}) TO STDOUT (FORMAT binary)"))
                    .map_err(err)?;
                let mut rows = BinaryCopyOutIter::new(reader, &types);
                let mut row = Vec::with_capacity(table.columns.len());
                while let Some(r) = rows.next().map_err(err)? {
                    row.clear();
                    for (i, (_, kind)) in table.columns.iter().enumerate() {
                        let v = match kind {
                            Kind::Int => r.try_get::<Option<i64>>(i).map(|v| v.map(Val::Int)),
                            Kind::Real => r.try_get::<Option<f64>>(i).map(|v| v.map(Val::Real)),
                            Kind::Text => r.try_get::<Option<String>>(i).map(|v| v.map(Val::Text)),
                            Kind::Blob => r.try_get::<Option<Vec<u8>>>(i).map(|v| v.map(Val::Blob)),
                        }
                        .map_err(err)?;
                        row.push(v.unwrap_or(Val::Null));
                    }
                    each(&row)?;
                }
                Ok(())
            }
        }
    }

    /// Writes every row `source` reads of `table`; returns the checksum of what was written.
    fn write_from(
        &self,
        table: &Table,
        source: &End,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Sum, StoreError> {
        let mut sum = Sum::default();
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
        match self {
            End::Sqlite(s) => {
                let mut stmt = s.conn.prepare(&format!(
                    "INSERT INTO \"{}\" ({}) VALUES ({})",
                    table.name,
                    table.column_list(),
                    placeholders.join(", ")
                ))?;
                source.read(table, &mut |row| {
                    let params: Vec<rusqlite::types::Value> = row.iter().map(to_sqlite).collect();
                    stmt.execute(rusqlite::params_from_iter(params))?;
                    sum.add(row);
                    if sum.rows.is_multiple_of(10_000) {
                        progress(sum.rows);
                    }
                    Ok(())
                })?;
            }
            End::Postgres(p) => {
                let mut client = p.client();
                let err = |e| pg_error(format!("writing {}", table.name), e);
                let types: Vec<Type> = table.columns.iter().map(|(_, k)| k.pg_type()).collect();
                let writer = client
                    .copy_in(&format!(
                        "COPY \"{}\" ({}) FROM STDIN (FORMAT binary)",
                        table.name,
                        table.column_list()
                    ))
                    .map_err(err)?;
                let mut writer = BinaryCopyInWriter::new(writer, &types);
                source.read(table, &mut |row| {
                    let values: Vec<Box<dyn ToSql + Sync>> = row
                        .iter()
                        .zip(&table.columns)
                        .map(|(v, (_, kind))| to_pg(v, *kind))
                        .collect();
                    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| &**b).collect();
                    writer.write(&refs).map_err(err)?;
                    sum.add(row);
                    if sum.rows.is_multiple_of(10_000) {
                        progress(sum.rows);
                    }
                    Ok(())
                })?;
                writer.finish().map_err(err)?;
            }
        }
        progress(sum.rows);
        Ok(sum)
    }

    /// After rows were written with their ids, PostgreSQL's identity sequences continue after
    /// the largest id (SQLite's row ids do so by themselves).
    fn continue_ids(&self) -> Result<(), StoreError> {
        let End::Postgres(p) = self else {
            return Ok(());
        };
        let mut client = p.client();
        let err = |e| pg_error("setting the id sequences", e);
        let identities = client
            .query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND is_identity = 'YES'",
                &[],
            )
            .map_err(err)?;
        for r in identities {
            let (t, c): (String, String) = (r.try_get(0).map_err(err)?, r.try_get(1).map_err(err)?);
            client
                .query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('\"{t}\"', '{c}'), max(\"{c}\"))
                         FROM \"{t}\" HAVING max(\"{c}\") IS NOT NULL"
                    ),
                    &[],
                )
                .map_err(err)?;
        }
        Ok(())
    }
}

/// An SQLite value as the column's kind; what it holds instead, when it does not fit.
fn from_sqlite(v: ValueRef<'_>, kind: Kind) -> Result<Val, &'static str> {
    Ok(match (v, kind) {
        (ValueRef::Null, _) => Val::Null,
        (ValueRef::Integer(i), Kind::Int) => Val::Int(i),
        (ValueRef::Real(f), Kind::Real) => Val::Real(f),
        // A REAL column keeps integral values as integers on disk in some SQLite versions.
        (ValueRef::Integer(i), Kind::Real) => Val::Real(i as f64),
        (ValueRef::Text(t), Kind::Text) => {
            Val::Text(String::from_utf8(t.to_vec()).map_err(|_| "text that is not UTF-8")?)
        }
        (ValueRef::Blob(b), Kind::Blob) => Val::Blob(b.to_vec()),
        (ValueRef::Integer(_), _) => return Err("an integer"),
        (ValueRef::Real(_), _) => return Err("a real number"),
        (ValueRef::Text(_), _) => return Err("text"),
        (ValueRef::Blob(_), _) => return Err("bytes"),
    })
}

fn to_sqlite(v: &Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => Value::Integer(*i),
        Val::Real(f) => Value::Real(*f),
        Val::Text(s) => Value::Text(s.clone()),
        Val::Blob(b) => Value::Blob(b.clone()),
    }
}

fn to_pg(v: &Val, kind: Kind) -> Box<dyn ToSql + Sync> {
    match (v, kind) {
        (Val::Int(i), _) => Box::new(*i),
        (Val::Real(f), _) => Box::new(*f),
        (Val::Text(s), _) => Box::new(s.clone()),
        (Val::Blob(b), _) => Box::new(b.clone()),
        (Val::Null, Kind::Int) => Box::new(None::<i64>),
        (Val::Null, Kind::Real) => Box::new(None::<f64>),
        (Val::Null, Kind::Text) => Box::new(None::<String>),
        (Val::Null, Kind::Blob) => Box::new(None::<Vec<u8>>),
    }
}

/// Copies every table of the store at `from` into the empty store at `to` (created when it
/// does not exist: an SQLite file, or the schema in an empty PostgreSQL database).
/// `progress(table, rows_done, rows_of_table)` reports as it goes. Refuses a target that
/// holds any row; a failure leaves the target without rows.
pub fn copy_store(
    from: &Location,
    to: &Location,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<CopyReport, StoreError> {
    if from == to {
        return Err(StoreError::Copy(format!(
            "--from and --to both name {from}"
        )));
    }
    if let Location::Sqlite(p) = from
        && !p.exists()
    {
        return Err(StoreError::Missing { path: p.clone() });
    }
    let tables = tables()?;
    let source = End::open(from, false)?;
    let target = End::open(to, true)?;
    let mut held = Vec::new();
    for t in &tables {
        let n = target.count(t)?;
        if n > 0 {
            held.push(format!("{} ({n} rows)", t.name));
        }
    }
    if !held.is_empty() {
        return Err(StoreError::Copy(format!(
            "the target {to} is not empty: {}; copy into a new file or an empty database",
            held.join(", ")
        )));
    }
    // One consistent view of the source, one transaction in the target.
    source.batch(match source {
        End::Sqlite(_) => "BEGIN",
        End::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    })?;
    target.batch(match target {
        End::Sqlite(_) => "BEGIN IMMEDIATE",
        End::Postgres(_) => "BEGIN",
    })?;
    let result = copy_tables(&tables, &source, &target, progress);
    let _ = source.batch("ROLLBACK");
    let copied = match result {
        Ok(copied) => copied,
        Err(e) => {
            let _ = target.batch("ROLLBACK");
            return Err(e);
        }
    };
    target.batch("COMMIT")?;
    let schema_version = match &target {
        End::Sqlite(s) => s.schema_version()?,
        End::Postgres(p) => p.schema_version()?,
    };
    Ok(CopyReport {
        from: from.to_string(),
        to: to.to_string(),
        schema_version,
        rows: copied.iter().map(|t| t.rows).sum(),
        tables: copied,
    })
}

fn copy_tables(
    tables: &[Table],
    source: &End,
    target: &End,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Vec<TableCopy>, StoreError> {
    let mut copied = Vec::new();
    for t in tables {
        let expected = source.count(t)?;
        progress(&t.name, 0, expected);
        let written = target.write_from(t, source, &mut |n| progress(&t.name, n, expected))?;
        // Reconcile: the target's rows, read back, against what the source gave.
        let mut back = Sum::default();
        target.read(t, &mut |row| {
            back.add(row);
            Ok(())
        })?;
        if written.rows != expected || back != written {
            return Err(StoreError::Copy(format!(
                "table {} did not reconcile: the source counts {expected} rows, {} were written \
                 and {} read back (checksums {:032x} and {:032x}); nothing was committed",
                t.name, written.rows, back.rows, written.hash, back.hash
            )));
        }
        copied.push(TableCopy {
            table: t.name.clone(),
            rows: written.rows,
            checksum: format!("{:032x}", written.hash),
        });
    }
    target.continue_ids()?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_parents_first() {
        let t = tables().expect("tables");
        let pos = |n: &str| t.iter().position(|x| x.name == n).expect(n);
        assert!(pos("imports") < pos("signals"));
        assert!(pos("customers") < pos("signals"));
        assert!(pos("signals") < pos("action_links") || pos("actions") < pos("action_links"));
        assert!(pos("notifications") < pos("outbox"));
        assert!(pos("outbox") < pos("outbox_attempts"));
        // Every table of the schema is copied.
        assert!(t.len() >= 30, "{}", t.len());
    }

    #[test]
    fn checksums_see_every_value_and_not_the_order() {
        let a = [Val::Int(1), Val::Text("x".into()), Val::Null];
        let b = [Val::Int(1), Val::Text("x".into()), Val::Real(0.0)];
        let (mut s1, mut s2, mut s3) = (Sum::default(), Sum::default(), Sum::default());
        s1.add(&a);
        s1.add(&b);
        s2.add(&b);
        s2.add(&a);
        s3.add(&a);
        s3.add(&a);
        assert_eq!(s1, s2);
        assert_ne!(s1, s3);
        assert_eq!(
            Location::parse("postgres://u:pw@h/db").to_string(),
            "postgres://u:***@h/db"
        );
        assert_eq!(Location::parse("x.db"), Location::Sqlite("x.db".into()));
    }
}
