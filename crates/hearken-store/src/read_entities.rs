//! Read-only lookups of one customer or one case for the query layer: a customer's record, the
//! rows behind its profile, its timeline (signals, survey responses and the events of its cases
//! in time order, page by page), and one case with its events in order.
//!
//! A data scope's team limit is applied here to the rows (`teams`: a signal's or survey
//! response's agent's team, a case event's own team else its agent's); which customers and cases
//! a scope sees is decided by the query layer.

use rusqlite::{OptionalExtension, ToSql};
use serde::Serialize;

use crate::read::placeholders;
use crate::{Store, StoreError};

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerProfile {
    pub id: String,
    pub name: Option<String>,
    pub segment: Option<String>,
    pub persona: Option<String>,
    /// Unix seconds.
    pub since: Option<i64>,
    pub value_per_year: Option<f64>,
    pub white_glove: bool,
    pub churned_at: Option<i64>,
    /// Only referenced by other rows, never imported from a customers file.
    pub stub: bool,
}

/// What a timeline row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Signal,
    Survey,
    CaseEvent,
}

impl TimelineKind {
    fn code(self) -> i64 {
        match self {
            TimelineKind::Signal => 0,
            TimelineKind::Survey => 1,
            TimelineKind::CaseEvent => 2,
        }
    }

    fn of(code: i64) -> TimelineKind {
        match code {
            0 => TimelineKind::Signal,
            1 => TimelineKind::Survey,
            _ => TimelineKind::CaseEvent,
        }
    }
}

/// Where a timeline page starts: after this row (time, kind, store id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: i64,
    pub kind: TimelineKind,
    pub row: i64,
}

/// One row of a customer's timeline: a signal, a survey response or a case event. Fields a kind
/// does not have are `None`; channel and signal kind are the model's codes.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineItem {
    pub kind: TimelineKind,
    /// The store's row id in its table.
    pub row: i64,
    pub id: String,
    pub at: i64,
    pub channel: Option<u8>,
    pub signal_kind: Option<u8>,
    /// The source's topic, else the classifier's (signals).
    pub topic: Option<String>,
    /// The activity (case events).
    pub activity: Option<String>,
    pub case_id: Option<String>,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub team: Option<String>,
    /// The signal's text, the response's comment, the event's text.
    pub text: Option<String>,
    pub sentiment: Option<f64>,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub overall: Option<f64>,
}

/// A case as stored: its id, and its customer, product and channel as flow sees them (from the
/// case's own events when they name them, else from its first signal, else its first survey
/// response), with the signals and survey responses linked to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseHeader {
    pub id: String,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub segment: Option<String>,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    /// The model's channel code.
    pub channel: Option<u8>,
    pub signals: Vec<String>,
    pub surveys: Vec<String>,
}

/// One event of a case, with its agent's name and its team (the event's own, else its
/// agent's).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEventRow {
    pub case_id: String,
    pub id: String,
    pub at: i64,
    pub activity: String,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub team: Option<String>,
    pub text: Option<String>,
    pub sentiment: Option<f64>,
}

/// `col IN (?, ...)` for a team limit, or `1` when there is none.
fn team_limit(col: &str, teams: &[String]) -> String {
    if teams.is_empty() {
        "1".into()
    } else {
        format!("{col} IN ({})", placeholders(teams.len()))
    }
}

/// `col IN (?6, ?7, ...)`: a team limit with numbered parameters from `first` on, so that it can
/// be repeated in one statement with the same values.
fn team_limit_numbered(col: &str, teams: &[String], first: usize) -> String {
    if teams.is_empty() {
        return "1".into();
    }
    let list: Vec<String> = (0..teams.len())
        .map(|i| format!("?{}", first + i))
        .collect();
    format!("{col} IN ({})", list.join(", "))
}

/// The store ids of the cases linked to a customer (its case events name it, or its signals or
/// survey responses carry the case).
const CUSTOMER_CASES: &str = "SELECT case_id FROM case_events WHERE customer_id = ?1
     UNION SELECT case_id FROM signals WHERE customer_id = ?1 AND case_id IS NOT NULL
     UNION SELECT case_id FROM surveys WHERE customer_id = ?1 AND case_id IS NOT NULL";

impl Store {
    fn customer_row_id(&self, ext_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM customers WHERE ext_id = ?1")?
            .query_row([ext_id], |r| r.get(0))
            .optional()?)
    }

    /// The customer with this external id.
    pub fn customer_profile(&self, id: &str) -> Result<Option<CustomerProfile>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT ext_id, name, segment, persona, since, value_per_year, white_glove,
                        churned_at, row_hash IS NULL FROM customers WHERE ext_id = ?1",
                [id],
                |r| {
                    Ok(CustomerProfile {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        segment: r.get(2)?,
                        persona: r.get(3)?,
                        since: r.get(4)?,
                        value_per_year: r.get(5)?,
                        white_glove: r.get(6)?,
                        churned_at: r.get(7)?,
                        stub: r.get(8)?,
                    })
                },
            )
            .optional()?)
    }

    /// The external ids of the cases linked to a customer, sorted.
    pub fn customer_cases(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let Some(row) = self.customer_row_id(id)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT ext_id FROM cases WHERE id IN ({CUSTOMER_CASES}) ORDER BY ext_id"
        ))?;
        let rows = stmt.query_map([row], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A customer's timeline: its signals and survey responses (those whose agent is of one of
    /// `teams`, when given) and the events of its cases (those whose team is one of `teams`), in
    /// time order (then signals, responses, events; then import order), at most `limit` after
    /// `after`.
    pub fn customer_timeline(
        &self,
        id: &str,
        teams: &[String],
        after: Option<TimelineCursor>,
        limit: usize,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        let Some(row) = self.customer_row_id(id)? else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT * FROM (
               SELECT 0 AS k, s.id AS rid, s.ext_id, s.at AS at, s.channel, s.kind,
                      coalesce(s.topic, s.predicted_topic), NULL, c.ext_id, p.ext_id, p.name,
                      a.ext_id, a.name, a.team, s.text, s.sentiment, NULL, NULL, NULL, NULL
               FROM signals s LEFT JOIN cases c ON c.id = s.case_id
               LEFT JOIN products p ON p.id = s.product_id LEFT JOIN agents a ON a.id = s.agent_id
               WHERE s.customer_id = ?1 AND {sig}
               UNION ALL
               SELECT 1, v.id, v.ext_id, v.at, v.channel, NULL, NULL, NULL, c.ext_id, p.ext_id,
                      p.name, a.ext_id, a.name, a.team, v.comment, v.comment_sentiment, v.nps,
                      v.csat, v.ces, v.overall
               FROM surveys v LEFT JOIN cases c ON c.id = v.case_id
               LEFT JOIN products p ON p.id = v.product_id LEFT JOIN agents a ON a.id = v.agent_id
               WHERE v.customer_id = ?1 AND {sur}
               UNION ALL
               SELECT 2, e.id, e.ext_id, e.at, NULL, NULL, NULL, e.activity, c.ext_id, p.ext_id,
                      p.name, a.ext_id, a.name, coalesce(e.team, a.team), e.text, e.sentiment,
                      NULL, NULL, NULL, NULL
               FROM case_events e JOIN cases c ON c.id = e.case_id
               LEFT JOIN products p ON p.id = e.product_id LEFT JOIN agents a ON a.id = e.agent_id
               WHERE e.case_id IN ({CUSTOMER_CASES}) AND {evt})
             WHERE (?2 IS NULL OR (at, k, rid) > (?2, ?3, ?4))
             ORDER BY at, k, rid LIMIT ?5",
            sig = team_limit_numbered("a.team", teams, 6),
            sur = team_limit_numbered("a.team", teams, 6),
            evt = team_limit_numbered("coalesce(e.team, a.team)", teams, 6),
        );
        // Parameters: ?1..?5, then the teams as ?6.. (the same numbers in all three parts).
        let (at, kind, rid) = match after {
            Some(c) => (Some(c.at), Some(c.kind.code()), Some(c.row)),
            None => (None, None, None),
        };
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut params: Vec<Box<dyn ToSql>> = vec![
            Box::new(row),
            Box::new(at),
            Box::new(kind),
            Box::new(rid),
            Box::new(limit),
        ];
        params.extend(teams.iter().map(|t| Box::new(t.clone()) as Box<dyn ToSql>));
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(refs.as_slice(), |r| {
            Ok(TimelineItem {
                kind: TimelineKind::of(r.get(0)?),
                row: r.get(1)?,
                id: r.get(2)?,
                at: r.get(3)?,
                channel: r.get(4)?,
                signal_kind: r.get(5)?,
                topic: r.get(6)?,
                activity: r.get(7)?,
                case_id: r.get(8)?,
                product_id: r.get(9)?,
                product_name: r.get(10)?,
                agent_id: r.get(11)?,
                agent_name: r.get(12)?,
                team: r.get(13)?,
                text: r.get(14)?,
                sentiment: r.get(15)?,
                nps: r.get(16)?,
                csat: r.get(17)?,
                ces: r.get(18)?,
                overall: r.get(19)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The case with this external id, or `None`.
    pub fn case_header(&self, id: &str) -> Result<Option<CaseHeader>, StoreError> {
        let Some(row): Option<i64> = self
            .conn
            .query_row("SELECT id FROM cases WHERE ext_id = ?1", [id], |r| r.get(0))
            .optional()?
        else {
            return Ok(None);
        };
        // In order of precedence, as `case_attributes`: the case's own events, its signals, its
        // survey responses; within each the earliest row first. A field comes from the first
        // row that has it.
        let mut stmt = self.conn.prepare_cached(
            "SELECT 0, at, id, customer_id, product_id, NULL FROM case_events
               WHERE case_id = ?1 AND (customer_id IS NOT NULL OR product_id IS NOT NULL)
             UNION ALL SELECT 1, at, id, customer_id, product_id, channel FROM signals WHERE case_id = ?1
             UNION ALL SELECT 2, at, id, customer_id, product_id, channel FROM surveys WHERE case_id = ?1
             ORDER BY 1, 2, 3",
        )?;
        type Found = (Option<i64>, Option<i64>, Option<u8>);
        let rows = stmt.query_map([row], |r| Ok((r.get(3)?, r.get(4)?, r.get(5)?)))?;
        let mut found: Found = (None, None, None);
        for r in rows {
            let (c, p, ch): Found = r?;
            found = (found.0.or(c), found.1.or(p), found.2.or(ch));
        }
        let (customer_id, customer_name, segment) = match found.0 {
            Some(c) => self
                .conn
                .query_row(
                    "SELECT ext_id, name, segment FROM customers WHERE id = ?1",
                    [c],
                    |r| Ok((Some(r.get(0)?), r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .unwrap_or((None, None, None)),
            None => (None, None, None),
        };
        let (product_id, product_name) = match found.1 {
            Some(p) => self
                .conn
                .query_row(
                    "SELECT ext_id, name FROM products WHERE id = ?1",
                    [p],
                    |r| Ok((Some(r.get(0)?), r.get(1)?)),
                )
                .optional()?
                .unwrap_or((None, None)),
            None => (None, None),
        };
        let ids = |table: &str| -> Result<Vec<String>, StoreError> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT ext_id FROM {table} WHERE case_id = ?1 ORDER BY at, id"
            ))?;
            let rows = stmt.query_map([row], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(Some(CaseHeader {
            id: id.to_string(),
            customer_id,
            customer_name,
            segment,
            product_id,
            product_name,
            channel: found.2,
            signals: ids("signals")?,
            surveys: ids("surveys")?,
        }))
    }

    /// The events of these cases, each case's in time order (ties in import order), cases in
    /// the order given.
    pub fn case_events_of(&self, cases: &[String]) -> Result<Vec<CaseEventRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.ext_id, e.ext_id, e.at, e.activity, a.ext_id, a.name,
                    coalesce(e.team, a.team), e.text, e.sentiment
             FROM case_events e JOIN cases c ON c.id = e.case_id
             LEFT JOIN agents a ON a.id = e.agent_id
             WHERE c.ext_id = ?1 ORDER BY e.at, e.id",
        )?;
        let mut out = Vec::new();
        for case in cases {
            let rows = stmt.query_map([case], |r| {
                Ok(CaseEventRow {
                    case_id: r.get(0)?,
                    id: r.get(1)?,
                    at: r.get(2)?,
                    activity: r.get(3)?,
                    agent_id: r.get(4)?,
                    agent_name: r.get(5)?,
                    team: r.get(6)?,
                    text: r.get(7)?,
                    sentiment: r.get(8)?,
                })
            })?;
            for r in rows {
                out.push(r?);
            }
        }
        Ok(out)
    }

    /// A customer's signals (time and sentiment) whose agent is of one of `teams` (all when
    /// empty).
    pub fn customer_signal_sentiments(
        &self,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError> {
        self.customer_rows(
            &format!(
                "SELECT s.at, s.sentiment FROM signals s LEFT JOIN agents a ON a.id = s.agent_id
                 WHERE s.customer_id = ?1 AND {} ORDER BY s.at, s.id",
                team_limit("a.team", teams)
            ),
            id,
            teams,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// A customer's survey responses (id, time, likelihood to recommend) whose agent is of one
    /// of `teams` (all when empty), in time order.
    pub fn customer_nps_answers(
        &self,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(String, i64, Option<u8>)>, StoreError> {
        self.customer_rows(
            &format!(
                "SELECT v.ext_id, v.at, v.nps FROM surveys v LEFT JOIN agents a ON a.id = v.agent_id
                 WHERE v.customer_id = ?1 AND {} ORDER BY v.at, v.id",
                team_limit("a.team", teams)
            ),
            id,
            teams,
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    fn customer_rows<T>(
        &self,
        sql: &str,
        id: &str,
        teams: &[String],
        map: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let Some(row) = self.customer_row_id(id)? else {
            return Ok(Vec::new());
        };
        let mut params: Vec<&dyn ToSql> = vec![&row];
        params.extend(teams.iter().map(|t| t as &dyn ToSql));
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params.as_slice(), map)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
