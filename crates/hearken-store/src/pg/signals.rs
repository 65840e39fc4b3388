//! Signals as rows (`hearken signals`, `GET /api/v1/signals`, the evidence behind a figure) from
//! the PostgreSQL store: the SQLite store's statements (`read.rs`) with the same clause in
//! PostgreSQL's dialect (`SignalQuery::clause_in`), so a page, a search and a lookup give the same
//! rows in the same order.

use postgres::Row;
use postgres::types::ToSql;

use super::{PgStore, pg_error};
use crate::read::{Dialect, Param, SIGNAL_SELECT};
use crate::{SignalQuery, SignalRecord, StoreError};

type Value = Box<dyn ToSql + Sync>;

/// A clause's parameters as PostgreSQL binds them.
pub(super) fn bind(params: Vec<Param>) -> Vec<Value> {
    params
        .into_iter()
        .map(|p| match p {
            Param::Int(v) => Box::new(v) as Value,
            Param::Text(v) => Box::new(v) as Value,
        })
        .collect()
}

fn limit(n: usize) -> Value {
    Box::new(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A code column (channel, kind, source) as the model's `u8`: a value out of range is an error,
/// not a wrap.
fn code(r: &Row, i: usize) -> Result<u8, StoreError> {
    let v: i64 = r.try_get(i).map_err(|e| pg_error("reading a signal", e))?;
    u8::try_from(v).map_err(|_| StoreError::Postgres {
        what: "reading a signal".into(),
        message: format!("column {i} holds {v}, not a code of the model"),
    })
}

fn record(r: &Row) -> Result<SignalRecord, StoreError> {
    let get = |e| pg_error("reading a signal", e);
    Ok(SignalRecord {
        row: r.try_get(0).map_err(get)?,
        id: r.try_get(1).map_err(get)?,
        at: r.try_get(2).map_err(get)?,
        channel: code(r, 3)?,
        kind: code(r, 4)?,
        source: code(r, 5)?,
        customer_id: r.try_get(6).map_err(get)?,
        customer_name: r.try_get(7).map_err(get)?,
        segment: r.try_get(8).map_err(get)?,
        product_id: r.try_get(9).map_err(get)?,
        product_name: r.try_get(10).map_err(get)?,
        agent_id: r.try_get(11).map_err(get)?,
        agent_name: r.try_get(12).map_err(get)?,
        team: r.try_get(13).map_err(get)?,
        case_id: r.try_get(14).map_err(get)?,
        stage: r.try_get(15).map_err(get)?,
        topic: r.try_get(16).map_err(get)?,
        predicted_topic: r.try_get(17).map_err(get)?,
        topic_probability: r.try_get(18).map_err(get)?,
        sentiment: r.try_get(19).map_err(get)?,
        language: r.try_get(20).map_err(get)?,
        text: r.try_get(21).map_err(get)?,
    })
}

impl PgStore {
    fn rows(&self, what: &str, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        self.client()
            .query(sql, &refs)
            .map_err(|e| pg_error(what, e))
    }

    /// The newest `limit` signals matching `q`, newest import first (`Store::signal_records`).
    pub fn signal_records(
        &self,
        q: &SignalQuery,
        limit_rows: usize,
    ) -> Result<Vec<SignalRecord>, StoreError> {
        let (clause, params) = q.clause_in(Dialect::Postgres);
        let n = params.len() + 1;
        let mut values = bind(params);
        values.push(limit(limit_rows));
        let sql = format!("{SIGNAL_SELECT}{clause} ORDER BY s.id DESC LIMIT ${n}");
        self.rows("reading signals", &sql, &values)?
            .iter()
            .map(record)
            .collect()
    }

    /// The signal with this external id (`Store::signal_record`).
    pub fn signal_record(&self, id: &str) -> Result<Option<SignalRecord>, StoreError> {
        let sql = format!("{SIGNAL_SELECT} WHERE s.ext_id = $1");
        let values: Vec<Value> = vec![Box::new(id.to_string())];
        self.rows("reading a signal", &sql, &values)?
            .first()
            .map(record)
            .transpose()
    }

    /// The topics of the signals matching `q` (the source's, else the predicted one), in byte
    /// order (`Store::signal_topics_where`).
    pub fn signal_topics_where(&self, q: &SignalQuery) -> Result<Vec<String>, StoreError> {
        let (clause, params) = q.clause_in(Dialect::Postgres);
        let cond = if clause.is_empty() {
            " WHERE".to_string()
        } else {
            format!("{clause} AND")
        };
        let sql = format!(
            "SELECT DISTINCT coalesce(s.topic, s.predicted_topic) COLLATE \"C\" FROM signals s{cond}
             coalesce(s.topic, s.predicted_topic) IS NOT NULL ORDER BY 1"
        );
        self.rows("reading signal topics", &sql, &bind(params))?
            .iter()
            .map(|r| {
                r.try_get(0)
                    .map_err(|e| pg_error("reading signal topics", e))
            })
            .collect()
    }

    /// The texts of the newest `limit` signals matching `q` (with their times), newest first
    /// (`Store::signal_texts_where`).
    pub fn signal_texts_where(
        &self,
        q: &SignalQuery,
        limit_rows: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let q = SignalQuery {
            with_text: true,
            ..q.clone()
        };
        let (clause, params) = q.clause_in(Dialect::Postgres);
        let n = params.len() + 1;
        let mut values = bind(params);
        values.push(limit(limit_rows));
        let sql = format!(
            "SELECT s.at, s.text FROM signals s{clause} ORDER BY s.at DESC, s.id DESC LIMIT ${n}"
        );
        let w = "reading signal texts";
        self.rows(w, &sql, &values)?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| pg_error(w, e))?,
                    r.try_get(1).map_err(|e| pg_error(w, e))?,
                ))
            })
            .collect()
    }
}
