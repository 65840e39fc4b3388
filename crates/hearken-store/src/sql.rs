//! SQL both stores run: the few statements of the record-keeping writes (actions, their links
//! and history, suggestion reviews, notifications) are written once, in the SQL SQLite and
//! PostgreSQL both read, and run through [`Db`] on either store. Placeholders are SQLite's
//! `?N` (PostgreSQL's `$N` is made from them), inserts that may meet a row already there say
//! `ON CONFLICT DO NOTHING`, and a new row's id comes back by `RETURNING id`; both databases
//! accept those.
//!
//! The analytics do not go through here: they read frames (`source.rs`), which each store
//! builds its own fast way.

use crate::StoreError;

/// One value as both databases hold it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u8> for Value {
    fn from(v: u8) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// The values of a statement's placeholders, in order.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*][..] };
}
pub(crate) use vals;

/// One row of a result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(Vec<Value>);

/// A column value read as a Rust type.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
    const WANTED: &'static str;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    const WANTED: &'static str = "an integer";
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    const WANTED: &'static str = "text";
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<f64> {
        match v {
            Value::Real(f) => Some(*f),
            // SQLite keeps a whole number in a REAL column as REAL, but an expression may give
            // an integer; rusqlite reads either as a double, and so does this.
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    const WANTED: &'static str = "a number";
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Option<Vec<u8>> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
    const WANTED: &'static str = "bytes";
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<bool> {
        match v {
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
    const WANTED: &'static str = "a truth value";
}

impl FromValue for u8 {
    fn from_value(v: &Value) -> Option<u8> {
        match v {
            Value::Int(i) => u8::try_from(*i).ok(),
            _ => None,
        }
    }
    const WANTED: &'static str = "a code from 0 to 255";
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
    const WANTED: &'static str = T::WANTED;
}

impl Row {
    /// Column `i` as `T`; a value of another type (or a missing column) is the store's error,
    /// naming both, never a panic.
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| {
            StoreError::Snapshot(format!(
                "column {i} of a result holds {v:?} where {} was expected",
                T::WANTED
            ))
        })
    }
}

/// A connection (inside a transaction when writing) that runs SQL written for both stores.
pub(crate) trait Db {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs a query; its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// What follows a text column in `ORDER BY` so that strings sort by their bytes, as SQLite
    /// sorts them: nothing on SQLite, `COLLATE "C"` on PostgreSQL (whose default follows the
    /// database's locale).
    fn bytewise(&self) -> &'static str {
        ""
    }
    /// The first row of a query, if any.
    fn first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

/// The SQLite store's connection (or a transaction on it).
pub(crate) struct Lite<'c>(pub &'c rusqlite::Connection);

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Db for Lite<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }
}

impl crate::Store {
    /// Runs `f` in one write transaction taken at once (`BEGIN IMMEDIATE`), so the checks `f`
    /// makes hold until it commits; `what` names the write for a read-only store's refusal.
    pub(crate) fn immediate_write<T, E: From<StoreError>>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut dyn Db) -> Result<T, E>,
    ) -> Result<T, E> {
        self.writable(what)?;
        let tx =
            rusqlite::Transaction::new(&mut self.conn, rusqlite::TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
        let out = f(&mut Lite(&tx))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted strings and names).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

#[cfg(feature = "postgres")]
pub(crate) use pg::Pg;

#[cfg(feature = "postgres")]
mod pg {
    use postgres::GenericClient;
    use postgres::types::{ToSql, Type};

    use super::{Db, Row, Value, dollar_placeholders};
    use crate::StoreError;
    use crate::pg::pg_error;

    /// A PostgreSQL connection or transaction.
    pub(crate) struct Pg<'a, C: GenericClient>(pub &'a mut C);

    /// A placeholder's value typed as the server declared the placeholder: PostgreSQL checks
    /// types where SQLite converts, so a null or a number must arrive as the column's type.
    fn typed(v: &Value, ty: &Type) -> Result<Box<dyn ToSql + Sync>, String> {
        let bad = || format!("{v:?} cannot be sent as {ty}");
        Ok(match (v, ty) {
            (Value::Null, t) if *t == Type::INT8 => Box::new(None::<i64>),
            (Value::Null, t) if *t == Type::INT4 => Box::new(None::<i32>),
            (Value::Null, t) if *t == Type::FLOAT8 => Box::new(None::<f64>),
            (Value::Null, t) if *t == Type::BYTEA => Box::new(None::<Vec<u8>>),
            (Value::Null, t) if *t == Type::BOOL => Box::new(None::<bool>),
            (Value::Null, _) => Box::new(None::<String>),
            (Value::Int(i), t) if *t == Type::INT8 => Box::new(*i),
            (Value::Int(i), t) if *t == Type::INT4 => {
                Box::new(i32::try_from(*i).map_err(|_| bad())?)
            }
            (Value::Int(i), t) if *t == Type::FLOAT8 => Box::new(*i as f64),
            (Value::Int(i), t) if *t == Type::BOOL => Box::new(*i != 0),
            (Value::Real(f), t) if *t == Type::FLOAT8 => Box::new(*f),
            (Value::Text(s), t) if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME => {
                Box::new(s.clone())
            }
            (Value::Blob(b), t) if *t == Type::BYTEA => Box::new(b.clone()),
            _ => return Err(bad()),
        })
    }

    fn value(row: &postgres::Row, i: usize) -> Result<Value, postgres::Error> {
        let ty = row.columns()[i].type_();
        Ok(if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?
                .map_or(Value::Null, Value::Real)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob)
        } else {
            row.try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text)
        })
    }

    impl<C: GenericClient> Pg<'_, C> {
        fn bound(
            &mut self,
            sql: &str,
            params: &[Value],
        ) -> Result<(postgres::Statement, Vec<Box<dyn ToSql + Sync>>), StoreError> {
            let stmt = self
                .0
                .prepare(&dollar_placeholders(sql))
                .map_err(|e| pg_error("prepare a statement", e))?;
            let typed = params
                .iter()
                .zip(stmt.params())
                .map(|(v, ty)| typed(v, ty))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|message| StoreError::Postgres {
                    what: "bind a statement's values".into(),
                    message,
                })?;
            Ok((stmt, typed))
        }
    }

    impl<C: GenericClient> Db for Pg<'_, C> {
        fn bytewise(&self) -> &'static str {
            " COLLATE \"C\""
        }

        fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
            let (stmt, typed) = self.bound(sql, params)?;
            let refs: Vec<&(dyn ToSql + Sync)> = typed.iter().map(|b| b.as_ref()).collect();
            self.0
                .execute(&stmt, &refs)
                .map_err(|e| pg_error("write", e))
        }

        fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
            let (stmt, typed) = self.bound(sql, params)?;
            let refs: Vec<&(dyn ToSql + Sync)> = typed.iter().map(|b| b.as_ref()).collect();
            let rows = self
                .0
                .query(&stmt, &refs)
                .map_err(|e| pg_error("read", e))?;
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| value(r, i))
                        .collect::<Result<Vec<_>, _>>()
                        .map(Row)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| pg_error("read a result", e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_quotes_become_dollars() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn sqlite_runs_the_common_sql() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INTEGER)")
            .unwrap();
        let mut db = Lite(&conn);
        let id = db
            .first(
                "INSERT INTO t (a, b) VALUES (?1, ?2) RETURNING id",
                vals!["x", None::<i64>],
            )
            .unwrap()
            .unwrap();
        assert_eq!(id.get::<i64>(0).unwrap(), 1);
        let n = db
            .execute(
                "INSERT INTO t (a, b) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                vals!["x", 3_i64],
            )
            .unwrap();
        assert_eq!(n, 0);
        let r = db
            .first("SELECT a, b FROM t WHERE id = ?1", vals![1_i64])
            .unwrap()
            .unwrap();
        assert_eq!(r.get::<String>(0).unwrap(), "x");
        assert_eq!(r.get::<Option<i64>>(1).unwrap(), None);
        assert!(r.get::<i64>(1).is_err(), "a null is no integer");
        assert!(r.get::<i64>(0).is_err(), "text is no integer");
    }
}
