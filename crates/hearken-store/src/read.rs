//! Read-only views for the query layer (crates/hearken-query): display names beside external
//! ids, the distinct values a filter can take, signals listed and searched page by page, one
//! signal by id, the texts of a filtered selection, and the stored topic models.
//!
//! Nothing here writes. The analytics proper read the columnar snapshot (snapshot.rs); these are
//! the row-level lookups around them.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, ToSql};

use crate::{ModelInfo, Store, StoreError, Window};

/// An entity table with external ids and display names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Customer,
    Product,
    Agent,
}

impl Entity {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Entity::Customer => "customers",
            Entity::Product => "products",
            Entity::Agent => "agents",
        }
    }
}

/// Above this many ids one pass over the whole table beats one lookup per id.
const LOOKUP_LIMIT: usize = 256;

/// Which signals to list: every field is an optional condition, all of them must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalQuery {
    pub window: Window,
    /// Customers of this segment.
    pub segment: Option<String>,
    /// External id of the product.
    pub product: Option<String>,
    /// External id of the agent.
    pub agent: Option<String>,
    /// Agents of this team.
    pub team: Option<String>,
    /// External id of the customer.
    pub customer: Option<String>,
    /// The model's channel code.
    pub channel: Option<u8>,
    /// The model's signal kind code.
    pub kind: Option<u8>,
    /// The model's source code.
    pub source: Option<u8>,
    /// The source's topic, else the predicted one (as the analytics group them).
    pub topic: Option<String>,
    /// Texts containing this, ignoring ASCII case.
    pub text: Option<String>,
    /// Only signals with a text.
    pub with_text: bool,
    /// Only rows with a store id below this (the cursor of the previous page).
    pub before: Option<i64>,
    /// A data scope: only customers of one of these segments (empty: no limit).
    pub segments: Vec<String>,
    /// A data scope: only agents of one of these teams (empty: no limit).
    pub teams: Vec<String>,
}

/// One signal as stored, with the external ids and display names of what it refers to. Channel,
/// kind and source are the model's codes.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// The store's row id (the order of import; pages are cut on it).
    pub row: i64,
    pub id: String,
    pub at: i64,
    pub channel: u8,
    pub kind: u8,
    pub source: u8,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub segment: Option<String>,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub team: Option<String>,
    pub case_id: Option<String>,
    pub stage: Option<String>,
    pub topic: Option<String>,
    pub predicted_topic: Option<String>,
    pub topic_probability: Option<f64>,
    pub sentiment: Option<f64>,
    pub language: Option<String>,
    pub text: Option<String>,
}

pub(crate) const SIGNAL_SELECT: &str = "SELECT s.id, s.ext_id, s.at, s.channel, s.kind, s.source,
        c.ext_id, c.name, c.segment, p.ext_id, p.name, a.ext_id, a.name, a.team, k.ext_id,
        s.stage, s.topic, s.predicted_topic, s.topic_probability, s.sentiment, s.language, s.text
    FROM signals s
    LEFT JOIN customers c ON c.id = s.customer_id
    LEFT JOIN products p ON p.id = s.product_id
    LEFT JOIN agents a ON a.id = s.agent_id
    LEFT JOIN cases k ON k.id = s.case_id";

pub(crate) fn signal_record_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<SignalRecord> {
    Ok(SignalRecord {
        row: r.get(0)?,
        id: r.get(1)?,
        at: r.get(2)?,
        channel: r.get(3)?,
        kind: r.get(4)?,
        source: r.get(5)?,
        customer_id: r.get(6)?,
        customer_name: r.get(7)?,
        segment: r.get(8)?,
        product_id: r.get(9)?,
        product_name: r.get(10)?,
        agent_id: r.get(11)?,
        agent_name: r.get(12)?,
        team: r.get(13)?,
        case_id: r.get(14)?,
        stage: r.get(15)?,
        topic: r.get(16)?,
        predicted_topic: r.get(17)?,
        topic_probability: r.get(18)?,
        sentiment: r.get(19)?,
        language: r.get(20)?,
        text: r.get(21)?,
    })
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// `LIKE` pattern matching `needle` anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// A parameter of a [`SignalQuery`]'s clause, whichever database binds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// How a clause writes its placeholders: SQLite's `?` in order, PostgreSQL's `$1`, `$2` ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl SignalQuery {
    /// The WHERE clause (on `signals s`) and its parameters.
    fn clause(&self) -> (String, Vec<Box<dyn ToSql>>) {
        let (clause, params) = self.clause_in(Dialect::Sqlite);
        let params = params
            .into_iter()
            .map(|p| match p {
                Param::Int(v) => Box::new(v) as Box<dyn ToSql>,
                Param::Text(v) => Box::new(v) as Box<dyn ToSql>,
            })
            .collect();
        (clause, params)
    }

    /// The WHERE clause (on `signals s`) in `dialect` and its parameters, numbered from 1. The
    /// text condition matches as SQLite's `LIKE` does in both (ASCII letters' case ignored).
    pub(crate) fn clause_in(&self, dialect: Dialect) -> (String, Vec<Param>) {
        let mut cond: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        // `?` placeholders, numbered for PostgreSQL once the clause is complete.
        if let Some(from) = self.window.from {
            cond.push("s.at >= ?".into());
            params.push(Param::Int(from));
        }
        if let Some(to) = self.window.to {
            cond.push("s.at < ?".into());
            params.push(Param::Int(to));
        }
        let mut text = |c: &str, v: &Option<String>| {
            if let Some(v) = v {
                cond.push(c.into());
                params.push(Param::Text(v.clone()));
            }
        };
        text(
            "s.customer_id IN (SELECT id FROM customers WHERE segment = ?)",
            &self.segment,
        );
        text(
            "s.product_id = (SELECT id FROM products WHERE ext_id = ?)",
            &self.product,
        );
        text(
            "s.agent_id = (SELECT id FROM agents WHERE ext_id = ?)",
            &self.agent,
        );
        text(
            "s.agent_id IN (SELECT id FROM agents WHERE team = ?)",
            &self.team,
        );
        text(
            "s.customer_id = (SELECT id FROM customers WHERE ext_id = ?)",
            &self.customer,
        );
        text("coalesce(s.topic, s.predicted_topic) = ?", &self.topic);
        for (c, v) in [
            ("s.channel = ?", self.channel),
            ("s.kind = ?", self.kind),
            ("s.source = ?", self.source),
        ] {
            if let Some(v) = v {
                cond.push(c.into());
                params.push(Param::Int(i64::from(v)));
            }
        }
        if let Some(t) = &self.text {
            match dialect {
                Dialect::Sqlite => {
                    cond.push("s.text LIKE ? ESCAPE '\\'".into());
                    params.push(Param::Text(contains_pattern(t)));
                }
                // SQLite's `LIKE` ignores the case of ASCII letters only; PostgreSQL's ignores
                // none: both sides folded A-Z to a-z, and nothing else, match the same rows.
                Dialect::Postgres => {
                    cond.push(format!(
                        "translate(s.text, '{UPPER}', '{LOWER}') LIKE ? ESCAPE '\\'"
                    ));
                    params.push(Param::Text(contains_pattern(&t.to_ascii_lowercase())));
                }
            }
        }
        if self.with_text {
            cond.push("s.text IS NOT NULL".into());
        }
        for (sql, list) in [
            (
                "s.customer_id IN (SELECT id FROM customers WHERE segment IN ({}))",
                &self.segments,
            ),
            (
                "s.agent_id IN (SELECT id FROM agents WHERE team IN ({}))",
                &self.teams,
            ),
        ] {
            if !list.is_empty() {
                cond.push(sql.replace("{}", &placeholders(list.len())));
                params.extend(list.iter().map(|v| Param::Text(v.clone())));
            }
        }
        if let Some(before) = self.before {
            cond.push("s.id < ?".into());
            params.push(Param::Int(before));
        }
        let mut clause = if cond.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", cond.join(" AND "))
        };
        if dialect == Dialect::Postgres {
            clause = numbered(&clause);
        }
        (clause, params)
    }
}

/// `?` placeholders as `$1`, `$2` ... (none of the clause's literals holds a `?`).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Store {
    /// Display names of the entities with these external ids, in the order given; `None` where
    /// the entity has no name or does not exist.
    pub fn display_names(
        &self,
        entity: Entity,
        ids: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        if ids.len() > LOOKUP_LIMIT {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT ext_id, name FROM {} WHERE name IS NOT NULL",
                entity.table()
            ))?;
            let all: HashMap<String, String> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            return Ok(ids.iter().map(|id| all.get(*id).cloned()).collect());
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT name FROM {} WHERE ext_id = ?1",
            entity.table()
        ))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let name: Option<Option<String>> = stmt.query_row([id], |r| r.get(0)).optional()?;
            out.push(name.flatten());
        }
        Ok(out)
    }

    /// Whether an entity with this external id exists.
    pub fn entity_exists(&self, entity: Entity, id: &str) -> Result<bool, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT 1 FROM {} WHERE ext_id = ?1",
            entity.table()
        ))?;
        Ok(stmt.exists([id])?)
    }

    /// The distinct segments of customers, sorted.
    pub fn segments(&self) -> Result<Vec<String>, StoreError> {
        self.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL ORDER BY 1")
    }

    /// The distinct teams of agents, sorted.
    pub fn teams(&self) -> Result<Vec<String>, StoreError> {
        self.strings("SELECT DISTINCT team FROM agents WHERE team IS NOT NULL ORDER BY 1")
    }

    /// The external ids of an entity table, sorted, at most `limit`.
    pub fn entity_ids(&self, entity: Entity, limit: usize) -> Result<Vec<String>, StoreError> {
        self.strings(&format!(
            "SELECT ext_id FROM {} ORDER BY ext_id LIMIT {}",
            entity.table(),
            limit.min(i64::MAX as usize)
        ))
    }

    /// The segment of a customer or the team of an agent with this external id: `None` when
    /// there is no such entity, `Some(None)` when it has none (products have neither).
    pub fn entity_group(
        &self,
        entity: Entity,
        id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let column = match entity {
            Entity::Customer => "segment",
            Entity::Agent => "team",
            Entity::Product => "NULL",
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {column} FROM {} WHERE ext_id = ?1",
            entity.table()
        ))?;
        Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
    }

    /// The external ids of customers of these segments (or agents of these teams), sorted, at
    /// most `limit`, and how many there are.
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
        let cond = format!(
            "FROM {} WHERE {column} IN ({})",
            entity.table(),
            placeholders(groups.len())
        );
        let params = rusqlite::params_from_iter(groups.iter());
        let total: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) {cond}"), params, |r| r.get(0))?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT ext_id {cond} ORDER BY ext_id LIMIT {}",
            limit.min(i64::MAX as usize)
        ))?;
        let ids = stmt
            .query_map(rusqlite::params_from_iter(groups.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok((ids, total.max(0) as u64))
    }

    /// The topics of the signals matching `q` (the source's, else the predicted one), sorted.
    pub fn signal_topics_where(&self, q: &SignalQuery) -> Result<Vec<String>, StoreError> {
        let (clause, params) = q.clause();
        let cond = if clause.is_empty() {
            " WHERE".to_string()
        } else {
            format!("{clause} AND")
        };
        let sql = format!(
            "SELECT DISTINCT coalesce(s.topic, s.predicted_topic) FROM signals s{cond}
             coalesce(s.topic, s.predicted_topic) IS NOT NULL ORDER BY 1"
        );
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(refs.as_slice(), |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The topics signals carry (the source's, else the predicted one), sorted.
    pub fn signal_topics(&self) -> Result<Vec<String>, StoreError> {
        self.strings(
            "SELECT DISTINCT coalesce(topic, predicted_topic) FROM signals
             WHERE coalesce(topic, predicted_topic) IS NOT NULL ORDER BY 1",
        )
    }

    fn strings(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Up to `limit` signals matching `q`, most recently imported first (descending row id, so
    /// a page continues with `before` = the last row's id).
    pub fn signal_records(
        &self,
        q: &SignalQuery,
        limit: usize,
    ) -> Result<Vec<SignalRecord>, StoreError> {
        let (clause, mut params) = q.clause();
        params.push(Box::new(limit.min(i64::MAX as usize) as i64));
        let sql = format!("{SIGNAL_SELECT}{clause} ORDER BY s.id DESC LIMIT ?");
        let mut stmt = self.conn.prepare(&sql)?;
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let rows = stmt.query_map(refs.as_slice(), signal_record_sqlite)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many signals match `q` (its `before` included).
    pub fn count_signals(&self, q: &SignalQuery) -> Result<u64, StoreError> {
        let (clause, params) = q.clause();
        let sql = format!("SELECT count(*) FROM signals s{clause}");
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let n: i64 = self.conn.query_row(&sql, refs.as_slice(), |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// The signal with this external id.
    pub fn signal_record(&self, id: &str) -> Result<Option<SignalRecord>, StoreError> {
        let sql = format!("{SIGNAL_SELECT} WHERE s.ext_id = ?1");
        Ok(self
            .conn
            .query_row(&sql, [id], signal_record_sqlite)
            .optional()?)
    }

    /// The texts of the newest `limit` signals matching `q` (with their times), newest first.
    pub fn signal_texts_where(
        &self,
        q: &SignalQuery,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let q = SignalQuery {
            with_text: true,
            ..q.clone()
        };
        let (clause, mut params) = q.clause();
        params.push(Box::new(limit.min(i64::MAX as usize) as i64));
        let sql = format!(
            "SELECT s.at, s.text FROM signals s{clause} ORDER BY s.at DESC, s.id DESC LIMIT ?"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let rows = stmt.query_map(refs.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What [`Store::signal_texts_where`] gives for a query that is only a window, read
    /// through the columnar snapshot (which must be fresh): the signals' times and ids from the
    /// snapshot, newest first, then their texts by id until `limit` have one. Without an index
    /// on `signals.at` the SQL sorts the whole table; this reads two columns and looks up about
    /// `limit` rows.
    pub fn newest_signal_texts(
        &self,
        window: &Window,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let frame = self.snapshot_signals(
            window,
            &crate::SignalColumns {
                id: true,
                at: true,
                ..crate::SignalColumns::default()
            },
        )?;
        let key = |i: usize| (frame.at[i], frame.id[i]);
        let mut order: Vec<usize> = (0..frame.id.len().min(frame.at.len())).collect();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT text FROM signals WHERE id = ?1")?;
        let mut out = Vec::with_capacity(limit.min(order.len()));
        let mut done = 0;
        // The newest `take` rows, sorted; more when too few of them have a text.
        let mut take = limit.saturating_mul(2).max(1024);
        while out.len() < limit && done < order.len() {
            let rest = &mut order[done..];
            let take_now = take.min(rest.len());
            if take_now < rest.len() {
                rest.select_nth_unstable_by(take_now, |&a, &b| key(b).cmp(&key(a)));
            }
            let head = &mut rest[..take_now];
            head.sort_unstable_by_key(|&i| std::cmp::Reverse(key(i)));
            for &i in head.iter() {
                if out.len() == limit {
                    break;
                }
                let text: Option<String> = stmt
                    .query_row([frame.id[i]], |r| r.get(0))
                    .optional()?
                    .flatten();
                if let Some(t) = text {
                    out.push((frame.at[i], t));
                }
            }
            done += take_now;
            take = take.saturating_mul(2);
        }
        Ok(out)
    }

    /// Every stored topic model version, by name then newest version first.
    pub fn topic_models(&self) -> Result<Vec<ModelInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT name, version, created_at, labels, examples FROM topic_models
             ORDER BY name, version DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ModelInfo {
                name: r.get(0)?,
                version: r.get(1)?,
                created_at: r.get(2)?,
                labels: r.get(3)?,
                examples: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
