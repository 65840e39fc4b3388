//! Streaming reads for exports (crates/hearken-export): every signal, survey response, case
//! event or customer that passes a [`ExportFilter`], one row at a time in the order of the store's
//! row ids, with the names of what it refers to beside the ids. Rows are handed to a callback
//! as they are read, borrowed from SQLite's row buffer, so an export of any size holds one row
//! in memory (case events add one small entry per case, see [`Store::export_case_events`]).
//!
//! Each export runs in one read transaction: a concurrent import is either wholly in it or not
//! at all (SQLite's WAL snapshot), and the column list given to `head` matches every row.

use std::collections::HashMap;

use rusqlite::types::{Type, ValueRef};
use rusqlite::{OptionalExtension, Row, ToSql};

use crate::{Store, StoreError, Window};

/// Which rows an export takes: every set field is a condition and all of them hold. Names are
/// as stored (external ids for products and agents, attribute values for segments and teams)
/// and are not checked here: the caller refuses unknown ones before asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// The row's own time (`at`), `from` inclusive, `to` exclusive.
    pub window: Window,
    /// The customer's segment is one of these (empty: no limit). A row without a customer, or
    /// whose customer has no segment, is outside a non-empty list.
    pub segments: Vec<String>,
    /// The agent's team is one of these (empty: no limit); for case events the event's own team,
    /// else its agent's. A row without one is outside a non-empty list.
    pub teams: Vec<String>,
    /// External id of the product.
    pub product: Option<String>,
    /// The model's channel code.
    pub channel: Option<u8>,
    /// External id of the agent.
    pub agent: Option<String>,
    /// The model's signal kind code (signals only).
    pub kind: Option<u8>,
    /// The source's topic, else the predicted one (signals only).
    pub topic: Option<String>,
}

/// One signal as stored, borrowed from the row being read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalExportRow<'r> {
    pub id: &'r str,
    /// Unix seconds, UTC.
    pub at: i64,
    /// The model's codes.
    pub channel: u8,
    pub kind: u8,
    pub source: u8,
    pub customer_id: Option<&'r str>,
    pub customer_name: Option<&'r str>,
    pub segment: Option<&'r str>,
    pub product_id: Option<&'r str>,
    pub product_name: Option<&'r str>,
    pub agent_id: Option<&'r str>,
    pub agent_name: Option<&'r str>,
    pub team: Option<&'r str>,
    pub case_id: Option<&'r str>,
    pub stage: Option<&'r str>,
    /// The source's topic.
    pub topic: Option<&'r str>,
    /// The classifier's topic and its probability.
    pub predicted_topic: Option<&'r str>,
    pub topic_probability: Option<f64>,
    pub sentiment: Option<f64>,
    pub language: Option<&'r str>,
    pub redactions: i64,
    pub text: Option<&'r str>,
}

/// One survey response as stored, with its aspect ratings in the order of the aspect list the
/// export announced (`None`: not rated).
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyExportRow<'r> {
    pub id: &'r str,
    pub at: i64,
    pub customer_id: Option<&'r str>,
    pub customer_name: Option<&'r str>,
    pub segment: Option<&'r str>,
    pub product_id: Option<&'r str>,
    pub product_name: Option<&'r str>,
    pub agent_id: Option<&'r str>,
    pub agent_name: Option<&'r str>,
    pub team: Option<&'r str>,
    pub case_id: Option<&'r str>,
    pub channel: Option<u8>,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub overall: Option<f64>,
    pub comment: Option<&'r str>,
    pub comment_sentiment: Option<f64>,
    pub comment_language: Option<&'r str>,
    pub redactions: i64,
    pub aspects: &'r [Option<f64>],
}

/// One case event as stored. Customer, product and channel are the case's, as case flow takes
/// them (see [`crate::CaseAttributeRows`]): from the case's own events when the case-event file
/// names them, else its earliest signal, else its earliest survey response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseEventExportRow<'r> {
    pub id: &'r str,
    pub case_id: &'r str,
    pub at: i64,
    pub activity: &'r str,
    pub agent_id: Option<&'r str>,
    pub agent_name: Option<&'r str>,
    /// The event's own team, else its agent's.
    pub team: Option<&'r str>,
    pub customer_id: Option<&'r str>,
    pub customer_name: Option<&'r str>,
    pub segment: Option<&'r str>,
    pub product_id: Option<&'r str>,
    pub product_name: Option<&'r str>,
    pub channel: Option<u8>,
    pub text: Option<&'r str>,
    pub sentiment: Option<f64>,
    pub language: Option<&'r str>,
    pub redactions: i64,
}

/// One customer as stored (a customer only referenced by other rows, never imported itself, has
/// its id and nothing else).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerExportRow<'r> {
    pub id: &'r str,
    pub name: Option<&'r str>,
    pub segment: Option<&'r str>,
    pub persona: Option<&'r str>,
    pub since: Option<i64>,
    pub value_per_year: Option<f64>,
    pub white_glove: bool,
    pub churned_at: Option<i64>,
}

/// A WHERE clause under construction, with its parameters in order.
#[derive(Default)]
struct Clause {
    cond: Vec<String>,
    params: Vec<Box<dyn ToSql>>,
}

impl Clause {
    fn push(&mut self, cond: impl Into<String>, param: impl ToSql + 'static) {
        self.cond.push(cond.into());
        self.params.push(Box::new(param));
    }

    /// `col IN (?, ...)` over `list`, nothing when it is empty.
    fn within(&mut self, col: &str, list: &[String]) {
        if list.is_empty() {
            return;
        }
        let marks = vec!["?"; list.len()].join(", ");
        self.cond.push(format!("{col} IN ({marks})"));
        self.params
            .extend(list.iter().map(|v| Box::new(v.clone()) as Box<dyn ToSql>));
    }

    fn window(&mut self, col: &str, w: &Window) {
        if let Some(from) = w.from {
            self.push(format!("{col} >= ?"), from);
        }
        if let Some(to) = w.to {
            self.push(format!("{col} < ?"), to);
        }
    }

    fn sql(&self) -> String {
        if self.cond.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.cond.join(" AND "))
        }
    }

    fn refs(&self) -> Vec<&dyn ToSql> {
        self.params.iter().map(|p| p.as_ref()).collect()
    }
}

fn conversion(i: usize, t: Type, e: rusqlite::types::FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, t, Box::new(e))
}

/// A text column (NULL as `None`), borrowed from the row.
fn text<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?
        .as_str_or_null()
        .map_err(|e| conversion(i, Type::Text, e))
}

/// A text column that is NOT NULL in the schema.
fn text1<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| conversion(i, Type::Text, e))
}

fn real(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<f64>> {
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => Ok(Some(v as f64)),
        ValueRef::Real(v) => Ok(Some(v)),
        other => Err(conversion(
            i,
            other.data_type(),
            rusqlite::types::FromSqlError::InvalidType,
        )),
    }
}

const SIGNALS: &str = "SELECT s.ext_id, s.at, s.channel, s.kind, s.source,
        c.ext_id, c.name, c.segment, p.ext_id, p.name, a.ext_id, a.name, a.team, k.ext_id,
        s.stage, s.topic, s.predicted_topic, s.topic_probability, s.sentiment, s.language,
        s.redactions, s.text
    FROM signals s
    LEFT JOIN customers c ON c.id = s.customer_id
    LEFT JOIN products p ON p.id = s.product_id
    LEFT JOIN agents a ON a.id = s.agent_id
    LEFT JOIN cases k ON k.id = s.case_id";

const SURVEYS: &str = "SELECT v.id, v.ext_id, v.at, c.ext_id, c.name, c.segment, p.ext_id,
        p.name, a.ext_id, a.name, a.team, k.ext_id, v.channel, v.nps, v.csat, v.ces, v.overall,
        v.comment, v.comment_sentiment, v.comment_language, v.redactions
    FROM surveys v
    LEFT JOIN customers c ON c.id = v.customer_id
    LEFT JOIN products p ON p.id = v.product_id
    LEFT JOIN agents a ON a.id = v.agent_id
    LEFT JOIN cases k ON k.id = v.case_id";

const CASE_EVENTS: &str = "SELECT e.ext_id, k.ext_id, e.at, e.activity, a.ext_id, a.name,
        coalesce(e.team, a.team), e.case_id, e.text, e.sentiment, e.language, e.redactions
    FROM case_events e
    JOIN cases k ON k.id = e.case_id
    LEFT JOIN agents a ON a.id = e.agent_id";

/// The customer, product and channel of a case, each with the precedence key of the row it
/// came from (source, time, row id): the smallest key wins.
#[derive(Default, Clone, Copy)]
struct CaseAttrs {
    customer: Option<((u8, i64, i64), i64)>,
    product: Option<((u8, i64, i64), i64)>,
    channel: Option<((u8, i64, i64), u8)>,
}

fn keep_first<T: Copy>(slot: &mut Option<((u8, i64, i64), T)>, key: (u8, i64, i64), v: Option<T>) {
    if let Some(v) = v
        && slot.is_none_or(|(k, _)| key < k)
    {
        *slot = Some((key, v));
    }
}

/// A customer's id, name and segment, or a product's id and name, looked up by row id.
type Named = (String, Option<String>, Option<String>);

impl Store {
    /// Runs `body` in one read transaction (a consistent view while it streams).
    fn in_read<T, E: From<StoreError>>(&self, body: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(StoreError::from)?;
        let out = body()?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Every signal that passes `f`, in row-id order (the order of import), handed to `each`.
    /// Returns how many.
    pub fn export_signals<E: From<StoreError>>(
        &self,
        f: &ExportFilter,
        mut each: impl FnMut(&SignalExportRow<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut w = Clause::default();
        w.window("s.at", &f.window);
        w.within("c.segment", &f.segments);
        w.within("a.team", &f.teams);
        if let Some(p) = &f.product {
            w.push("p.ext_id = ?", p.clone());
        }
        if let Some(a) = &f.agent {
            w.push("a.ext_id = ?", a.clone());
        }
        if let Some(c) = f.channel {
            w.push("s.channel = ?", c);
        }
        if let Some(k) = f.kind {
            w.push("s.kind = ?", k);
        }
        if let Some(t) = &f.topic {
            w.push("coalesce(s.topic, s.predicted_topic) = ?", t.clone());
        }
        self.in_read(|| {
            let sql = format!("{SIGNALS}{} ORDER BY s.id", w.sql());
            let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let mut rows = stmt.query(w.refs().as_slice()).map_err(StoreError::from)?;
            let mut n = 0u64;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let row = signal_row(r).map_err(StoreError::from)?;
                each(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// The names of the survey aspects rated in the store, sorted.
    pub fn survey_aspect_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT aspect FROM survey_aspects ORDER BY 1")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every survey response that passes `f` (`kind` and `topic` must be unset: responses have
    /// neither), in row-id order. `head` is told the aspect names first; each row's `aspects`
    /// are in that order. Returns how many rows.
    pub fn export_surveys<E: From<StoreError>>(
        &self,
        f: &ExportFilter,
        head: impl FnOnce(&[String]) -> Result<(), E>,
        mut each: impl FnMut(&SurveyExportRow<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut w = Clause::default();
        w.window("v.at", &f.window);
        w.within("c.segment", &f.segments);
        w.within("a.team", &f.teams);
        if let Some(p) = &f.product {
            w.push("p.ext_id = ?", p.clone());
        }
        if let Some(a) = &f.agent {
            w.push("a.ext_id = ?", a.clone());
        }
        if let Some(c) = f.channel {
            w.push("v.channel = ?", c);
        }
        self.in_read(|| {
            let names = self.survey_aspect_names()?;
            head(&names)?;
            let index: HashMap<&str, usize> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i))
                .collect();
            let mut ratings: Vec<Option<f64>> = vec![None; names.len()];
            let mut aspects = self
                .conn
                .prepare("SELECT aspect, rating FROM survey_aspects WHERE survey_id = ?1")
                .map_err(StoreError::from)?;
            let sql = format!("{SURVEYS}{} ORDER BY v.id", w.sql());
            let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let mut rows = stmt.query(w.refs().as_slice()).map_err(StoreError::from)?;
            let mut n = 0u64;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let rowid: i64 = r.get(0).map_err(StoreError::from)?;
                ratings.iter_mut().for_each(|v| *v = None);
                if !names.is_empty() {
                    let mut ar = aspects.query([rowid]).map_err(StoreError::from)?;
                    while let Some(a) = ar.next().map_err(StoreError::from)? {
                        let name = text1(a, 0).map_err(StoreError::from)?;
                        // Every aspect of the table is in `names`, read in this transaction.
                        if let Some(&i) = index.get(name) {
                            ratings[i] = real(a, 1).map_err(StoreError::from)?;
                        }
                    }
                }
                let row = survey_row(r, &ratings).map_err(StoreError::from)?;
                each(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Every case event that passes `f` (`kind` and `topic` must be unset), in row-id order.
    /// The window is on the event's own time. Segment, product and channel are those of the
    /// event's case (see [`CaseEventExportRow`]); to know them the export first reads, per case, which
    /// rows name a customer, product or channel (one small entry per case in memory).
    pub fn export_case_events<E: From<StoreError>>(
        &self,
        f: &ExportFilter,
        mut each: impl FnMut(&CaseEventExportRow<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut w = Clause::default();
        w.window("e.at", &f.window);
        w.within("coalesce(e.team, a.team)", &f.teams);
        if let Some(a) = &f.agent {
            w.push("a.ext_id = ?", a.clone());
        }
        self.in_read(|| {
            let cases = self.case_attrs()?;
            let product_id: Option<i64> = match &f.product {
                Some(p) => {
                    let id = self
                        .conn
                        .query_row("SELECT id FROM products WHERE ext_id = ?1", [p], |r| {
                            r.get(0)
                        })
                        .optional()
                        .map_err(StoreError::from)?;
                    // An unknown product matches no row.
                    Some(id.unwrap_or(0))
                }
                None => None,
            };
            let mut customers = self
                .conn
                .prepare("SELECT ext_id, name, segment FROM customers WHERE id = ?1")
                .map_err(StoreError::from)?;
            let mut products = self
                .conn
                .prepare("SELECT ext_id, name, NULL FROM products WHERE id = ?1")
                .map_err(StoreError::from)?;
            // Events of a case often follow one another: the last lookups are kept.
            let mut last_customer: Option<(i64, Named)> = None;
            let mut last_product: Option<(i64, Named)> = None;
            let sql = format!("{CASE_EVENTS}{} ORDER BY e.id", w.sql());
            let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let mut rows = stmt.query(w.refs().as_slice()).map_err(StoreError::from)?;
            let mut n = 0u64;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let case: i64 = r.get(7).map_err(StoreError::from)?;
                let attrs = cases.get(&case).copied().unwrap_or_default();
                let customer = attrs.customer.map(|(_, id)| id);
                let product = attrs.product.map(|(_, id)| id);
                let channel = attrs.channel.map(|(_, c)| c);
                if product_id.is_some() && product != product_id {
                    continue;
                }
                if f.channel.is_some() && channel != f.channel {
                    continue;
                }
                let cust = lookup(&mut customers, &mut last_customer, customer)?;
                if !f.segments.is_empty()
                    && !cust
                        .and_then(|c| c.2.as_deref())
                        .is_some_and(|s| f.segments.iter().any(|x| x == s))
                {
                    continue;
                }
                let prod = lookup(&mut products, &mut last_product, product)?;
                let row = CaseEventExportRow {
                    id: text1(r, 0).map_err(StoreError::from)?,
                    case_id: text1(r, 1).map_err(StoreError::from)?,
                    at: r.get(2).map_err(StoreError::from)?,
                    activity: text1(r, 3).map_err(StoreError::from)?,
                    agent_id: text(r, 4).map_err(StoreError::from)?,
                    agent_name: text(r, 5).map_err(StoreError::from)?,
                    team: text(r, 6).map_err(StoreError::from)?,
                    customer_id: cust.map(|c| c.0.as_str()),
                    customer_name: cust.and_then(|c| c.1.as_deref()),
                    segment: cust.and_then(|c| c.2.as_deref()),
                    product_id: prod.map(|p| p.0.as_str()),
                    product_name: prod.and_then(|p| p.1.as_deref()),
                    channel,
                    text: text(r, 8).map_err(StoreError::from)?,
                    sentiment: real(r, 9).map_err(StoreError::from)?,
                    language: text(r, 10).map_err(StoreError::from)?,
                    redactions: r.get(11).map_err(StoreError::from)?,
                };
                each(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Each case's customer, product and channel row ids by the precedence of
    /// [`crate::CaseAttributeRows`], in one streaming pass over each source.
    fn case_attrs(&self) -> Result<HashMap<i64, CaseAttrs>, StoreError> {
        let sources = [
            "SELECT case_id, at, id, customer_id, product_id, NULL FROM case_events
             WHERE customer_id IS NOT NULL OR product_id IS NOT NULL",
            "SELECT case_id, at, id, customer_id, product_id, channel FROM signals
             WHERE case_id IS NOT NULL",
            "SELECT case_id, at, id, customer_id, product_id, channel FROM surveys
             WHERE case_id IS NOT NULL",
        ];
        let mut out: HashMap<i64, CaseAttrs> = HashMap::new();
        for (rank, sql) in sources.iter().enumerate() {
            let mut stmt = self.conn.prepare(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let key = (rank as u8, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?);
                let a = out.entry(r.get(0)?).or_default();
                keep_first(&mut a.customer, key, r.get(3)?);
                keep_first(&mut a.product, key, r.get(4)?);
                keep_first(&mut a.channel, key, r.get(5)?);
            }
        }
        Ok(out)
    }

    /// Every customer whose segment is in `segments` (all when empty), in row-id order.
    pub fn export_customers<E: From<StoreError>>(
        &self,
        segments: &[String],
        mut each: impl FnMut(&CustomerExportRow<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut w = Clause::default();
        w.within("segment", segments);
        self.in_read(|| {
            let sql = format!(
                "SELECT ext_id, name, segment, persona, since, value_per_year, white_glove,
                        churned_at FROM customers{} ORDER BY id",
                w.sql()
            );
            let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
            let mut rows = stmt.query(w.refs().as_slice()).map_err(StoreError::from)?;
            let mut n = 0u64;
            while let Some(r) = rows.next().map_err(StoreError::from)? {
                let row = customer_row(r).map_err(StoreError::from)?;
                each(&row)?;
                n += 1;
            }
            Ok(n)
        })
    }
}

/// The named row with row id `id`, looked up once per change of id.
fn lookup<'c>(
    stmt: &mut rusqlite::Statement<'_>,
    last: &'c mut Option<(i64, Named)>,
    id: Option<i64>,
) -> Result<Option<&'c Named>, StoreError> {
    let Some(id) = id else { return Ok(None) };
    if last.as_ref().is_none_or(|(k, _)| *k != id) {
        let found: Option<Named> = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match found {
            Some(v) => *last = Some((id, v)),
            None => return Ok(None),
        }
    }
    Ok(last.as_ref().map(|(_, v)| v))
}

fn signal_row<'r>(r: &'r Row<'_>) -> rusqlite::Result<SignalExportRow<'r>> {
    Ok(SignalExportRow {
        id: text1(r, 0)?,
        at: r.get(1)?,
        channel: r.get(2)?,
        kind: r.get(3)?,
        source: r.get(4)?,
        customer_id: text(r, 5)?,
        customer_name: text(r, 6)?,
        segment: text(r, 7)?,
        product_id: text(r, 8)?,
        product_name: text(r, 9)?,
        agent_id: text(r, 10)?,
        agent_name: text(r, 11)?,
        team: text(r, 12)?,
        case_id: text(r, 13)?,
        stage: text(r, 14)?,
        topic: text(r, 15)?,
        predicted_topic: text(r, 16)?,
        topic_probability: real(r, 17)?,
        sentiment: real(r, 18)?,
        language: text(r, 19)?,
        redactions: r.get(20)?,
        text: text(r, 21)?,
    })
}

fn survey_row<'r>(
    r: &'r Row<'_>,
    aspects: &'r [Option<f64>],
) -> rusqlite::Result<SurveyExportRow<'r>> {
    Ok(SurveyExportRow {
        id: text1(r, 1)?,
        at: r.get(2)?,
        customer_id: text(r, 3)?,
        customer_name: text(r, 4)?,
        segment: text(r, 5)?,
        product_id: text(r, 6)?,
        product_name: text(r, 7)?,
        agent_id: text(r, 8)?,
        agent_name: text(r, 9)?,
        team: text(r, 10)?,
        case_id: text(r, 11)?,
        channel: r.get(12)?,
        nps: r.get(13)?,
        csat: r.get(14)?,
        ces: r.get(15)?,
        overall: real(r, 16)?,
        comment: text(r, 17)?,
        comment_sentiment: real(r, 18)?,
        comment_language: text(r, 19)?,
        redactions: r.get(20)?,
        aspects,
    })
}

fn customer_row<'r>(r: &'r Row<'_>) -> rusqlite::Result<CustomerExportRow<'r>> {
    Ok(CustomerExportRow {
        id: text1(r, 0)?,
        name: text(r, 1)?,
        segment: text(r, 2)?,
        persona: text(r, 3)?,
        since: r.get(4)?,
        value_per_year: real(r, 5)?,
        white_glove: r.get::<_, i64>(6)? != 0,
        churned_at: r.get(7)?,
    })
}

impl Store {
    /// The team of the agent with this external id: `None` when there is no such agent,
    /// `Some(None)` when it has no team.
    pub fn agent_team_of(&self, id: &str) -> Result<Option<Option<String>>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT team FROM agents WHERE ext_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The external ids of the agents of these teams, sorted, at most `limit`, and how many
    /// there are.
    pub fn agent_ids_of_teams(
        &self,
        teams: &[String],
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let mut w = Clause::default();
        w.within("team", teams);
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM agents{}", w.sql()),
            w.refs().as_slice(),
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT ext_id FROM agents{} ORDER BY ext_id LIMIT {}",
            w.sql(),
            limit.min(i64::MAX as usize)
        ))?;
        let ids = stmt
            .query_map(w.refs().as_slice(), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok((ids, total.max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plans of the exports' reads with every filter: rows come in row-id order straight
    /// from the table scan, never through a temporary sort (which would hold every row).
    #[test]
    fn exports_stream_without_sorting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("plan.db")).expect("store");
        let plan = |sql: &str, w: &Clause| -> String {
            let mut stmt = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let rows = stmt
                .query_map(w.refs().as_slice(), |r| r.get::<_, String>(3))
                .expect("plan rows");
            rows.map(|r| r.expect("plan row"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut w = Clause::default();
        w.window(
            "s.at",
            &Window {
                from: Some(0),
                to: Some(10),
            },
        );
        w.within("c.segment", &["a".into(), "b".into()]);
        w.within("a.team", &["t".into()]);
        w.push("p.ext_id = ?", "P1".to_string());
        w.push("a.ext_id = ?", "A1".to_string());
        w.push("s.channel = ?", 1);
        w.push("s.kind = ?", 2);
        w.push("coalesce(s.topic, s.predicted_topic) = ?", "x".to_string());
        let p = plan(&format!("{SIGNALS}{} ORDER BY s.id", w.sql()), &w);
        // The agent and product named by a unique id are looked up first (one row each).
        assert!(p.contains("SCAN s;") && !p.contains("SCAN c"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");

        let mut w = Clause::default();
        w.window(
            "v.at",
            &Window {
                from: Some(0),
                to: None,
            },
        );
        w.within("c.segment", &["a".into()]);
        let p = plan(&format!("{SURVEYS}{} ORDER BY v.id", w.sql()), &w);
        assert!(
            p.starts_with("SCAN v;") && !p.contains("TEMP B-TREE"),
            "{p}"
        );

        let mut w = Clause::default();
        w.within("coalesce(e.team, a.team)", &["t".into()]);
        let p = plan(&format!("{CASE_EVENTS}{} ORDER BY e.id", w.sql()), &w);
        assert!(
            p.starts_with("SCAN e;") && !p.contains("TEMP B-TREE"),
            "{p}"
        );
    }
}
