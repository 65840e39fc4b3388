//! Read-only lookups of one customer or one case for the query layer: a customer's record, the
//! rows behind its profile, its timeline (signals, survey responses and the events of its cases
//! in time order, page by page), and one case with its events in order.
//!
//! A data scope's team limit is applied here to the rows (`teams`: a signal's or survey
//! response's agent's team, a case event's own team else its agent's); which customers and cases
//! a scope sees is decided by the query layer.

use serde::Serialize;

use crate::sql::{Db, Lite, Value, vals};
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

/// `col IN (?6, ?7, ...)`: a team limit with numbered parameters from `first` on, so that it can
/// be repeated in one statement with the same values; `1 = 1` when there is none.
fn team_limit_numbered(col: &str, teams: &[String], first: usize) -> String {
    if teams.is_empty() {
        return "1 = 1".into();
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

/// The lookups, written once for both stores (`crate::sql`).
pub(crate) mod ops {
    use super::*;

    fn customer_row_id(db: &mut dyn Db, ext_id: &str) -> Result<Option<i64>, StoreError> {
        db.first("SELECT id FROM customers WHERE ext_id = ?1", vals![ext_id])?
            .map(|r| r.get(0))
            .transpose()
    }

    pub(crate) fn customer_profile(
        db: &mut dyn Db,
        id: &str,
    ) -> Result<Option<CustomerProfile>, StoreError> {
        let Some(r) = db.first(
            "SELECT ext_id, name, segment, persona, since, value_per_year, white_glove,
                    churned_at, row_hash IS NULL FROM customers WHERE ext_id = ?1",
            vals![id],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(CustomerProfile {
            id: r.get(0)?,
            name: r.get(1)?,
            segment: r.get(2)?,
            persona: r.get(3)?,
            since: r.get(4)?,
            value_per_year: r.get(5)?,
            white_glove: r.get(6)?,
            churned_at: r.get(7)?,
            stub: r.get(8)?,
        }))
    }

    pub(crate) fn customer_cases(db: &mut dyn Db, id: &str) -> Result<Vec<String>, StoreError> {
        let Some(row) = customer_row_id(db, id)? else {
            return Ok(Vec::new());
        };
        let order = db.bytewise();
        db.query(
            &format!(
                "SELECT ext_id FROM cases WHERE id IN ({CUSTOMER_CASES}) ORDER BY ext_id{order}"
            ),
            vals![row],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    }

    pub(crate) fn customer_timeline(
        db: &mut dyn Db,
        id: &str,
        teams: &[String],
        after: Option<TimelineCursor>,
        limit: usize,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        let Some(row) = customer_row_id(db, id)? else {
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
               WHERE e.case_id IN ({CUSTOMER_CASES}) AND {evt}) AS t
             WHERE ({after})
             ORDER BY at, k, rid LIMIT ?2",
            sig = team_limit_numbered("a.team", teams, 3),
            sur = team_limit_numbered("a.team", teams, 3),
            evt = team_limit_numbered("coalesce(e.team, a.team)", teams, 3),
            after = if after.is_some() {
                format!(
                    "(at, k, rid) > (?{0}, ?{1}, ?{2})",
                    3 + teams.len(),
                    4 + teams.len(),
                    5 + teams.len()
                )
            } else {
                "1 = 1".into()
            },
        );
        // Parameters: ?1 the customer, ?2 the limit, the teams from ?3 on (the same numbers in
        // all three parts), then the cursor.
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut params: Vec<Value> = vec![row.into(), limit.into()];
        params.extend(teams.iter().map(Value::from));
        if let Some(c) = after {
            params.extend([c.at.into(), c.kind.code().into(), c.row.into()]);
        }
        db.query(&sql, &params)?
            .iter()
            .map(|r| {
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
            })
            .collect()
    }

    pub(crate) fn case_header(db: &mut dyn Db, id: &str) -> Result<Option<CaseHeader>, StoreError> {
        let Some(r) = db.first("SELECT id FROM cases WHERE ext_id = ?1", vals![id])? else {
            return Ok(None);
        };
        let row: i64 = r.get(0)?;
        // In order of precedence, as `case_attributes`: the case's own events, its signals, its
        // survey responses; within each the earliest row first. A field comes from the first
        // row that has it.
        let rows = db.query(
            "SELECT 0, at, id, customer_id, product_id, NULL FROM case_events
               WHERE case_id = ?1 AND (customer_id IS NOT NULL OR product_id IS NOT NULL)
             UNION ALL SELECT 1, at, id, customer_id, product_id, channel FROM signals WHERE case_id = ?1
             UNION ALL SELECT 2, at, id, customer_id, product_id, channel FROM surveys WHERE case_id = ?1
             ORDER BY 1, 2, 3",
            vals![row],
        )?;
        type Found = (Option<i64>, Option<i64>, Option<u8>);
        let mut found: Found = (None, None, None);
        for r in rows {
            let (c, p, ch): Found = (r.get(3)?, r.get(4)?, r.get(5)?);
            found = (found.0.or(c), found.1.or(p), found.2.or(ch));
        }
        let (customer_id, customer_name, segment) = match found.0 {
            Some(c) => match db.first(
                "SELECT ext_id, name, segment FROM customers WHERE id = ?1",
                vals![c],
            )? {
                Some(r) => (Some(r.get(0)?), r.get(1)?, r.get(2)?),
                None => (None, None, None),
            },
            None => (None, None, None),
        };
        let (product_id, product_name) = match found.1 {
            Some(p) => {
                match db.first("SELECT ext_id, name FROM products WHERE id = ?1", vals![p])? {
                    Some(r) => (Some(r.get(0)?), r.get(1)?),
                    None => (None, None),
                }
            }
            None => (None, None),
        };
        let mut ids = |table: &str| -> Result<Vec<String>, StoreError> {
            db.query(
                &format!("SELECT ext_id FROM {table} WHERE case_id = ?1 ORDER BY at, id"),
                vals![row],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
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

    pub(crate) fn case_events_of(
        db: &mut dyn Db,
        cases: &[String],
    ) -> Result<Vec<CaseEventRow>, StoreError> {
        let mut out = Vec::new();
        for case in cases {
            for r in db.query(
                "SELECT c.ext_id, e.ext_id, e.at, e.activity, a.ext_id, a.name,
                        coalesce(e.team, a.team), e.text, e.sentiment
                 FROM case_events e JOIN cases c ON c.id = e.case_id
                 LEFT JOIN agents a ON a.id = e.agent_id
                 WHERE c.ext_id = ?1 ORDER BY e.at, e.id",
                vals![case],
            )? {
                out.push(CaseEventRow {
                    case_id: r.get(0)?,
                    id: r.get(1)?,
                    at: r.get(2)?,
                    activity: r.get(3)?,
                    agent_id: r.get(4)?,
                    agent_name: r.get(5)?,
                    team: r.get(6)?,
                    text: r.get(7)?,
                    sentiment: r.get(8)?,
                });
            }
        }
        Ok(out)
    }

    /// The rows of `sql` (the customer's store id as ?1, the teams from ?2 on) for a customer.
    fn customer_rows(
        db: &mut dyn Db,
        sql: &str,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<crate::sql::Row>, StoreError> {
        let Some(row) = customer_row_id(db, id)? else {
            return Ok(Vec::new());
        };
        let mut params: Vec<Value> = vec![row.into()];
        params.extend(teams.iter().map(Value::from));
        db.query(sql, &params)
    }

    pub(crate) fn customer_signal_sentiments(
        db: &mut dyn Db,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(i64, Option<f64>)>, StoreError> {
        customer_rows(
            db,
            &format!(
                "SELECT s.at, s.sentiment FROM signals s LEFT JOIN agents a ON a.id = s.agent_id
                 WHERE s.customer_id = ?1 AND {} ORDER BY s.at, s.id",
                team_limit_numbered("a.team", teams, 2)
            ),
            id,
            teams,
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
    }

    pub(crate) fn customer_nps_answers(
        db: &mut dyn Db,
        id: &str,
        teams: &[String],
    ) -> Result<Vec<(String, i64, Option<u8>)>, StoreError> {
        customer_rows(
            db,
            &format!(
                "SELECT v.ext_id, v.at, v.nps FROM surveys v LEFT JOIN agents a ON a.id = v.agent_id
                 WHERE v.customer_id = ?1 AND {} ORDER BY v.at, v.id",
                team_limit_numbered("a.team", teams, 2)
            ),
            id,
            teams,
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
    }
}

/// The entity lookups of a store with `entity_read`, as inherent methods (the SQLite store's
/// callers) and as `FrameSource`'s.
macro_rules! entity_reads {
    () => {
        fn customer_profile(
            &self,
            id: &str,
        ) -> Result<Option<$crate::CustomerProfile>, $crate::StoreError> {
            self.entity_read(|db| $crate::read_entities::ops::customer_profile(db, id))
        }
        fn customer_cases(&self, id: &str) -> Result<Vec<String>, $crate::StoreError> {
            self.entity_read(|db| $crate::read_entities::ops::customer_cases(db, id))
        }
        fn customer_timeline(
            &self,
            id: &str,
            teams: &[String],
            after: Option<$crate::TimelineCursor>,
            limit: usize,
        ) -> Result<Vec<$crate::TimelineItem>, $crate::StoreError> {
            self.entity_read(|db| {
                $crate::read_entities::ops::customer_timeline(db, id, teams, after, limit)
            })
        }
        fn case_header(&self, id: &str) -> Result<Option<$crate::CaseHeader>, $crate::StoreError> {
            self.entity_read(|db| $crate::read_entities::ops::case_header(db, id))
        }
        fn case_events_of(
            &self,
            cases: &[String],
        ) -> Result<Vec<$crate::CaseEventRow>, $crate::StoreError> {
            self.entity_read(|db| $crate::read_entities::ops::case_events_of(db, cases))
        }
        fn customer_signal_sentiments(
            &self,
            id: &str,
            teams: &[String],
        ) -> Result<Vec<(i64, Option<f64>)>, $crate::StoreError> {
            self.entity_read(|db| {
                $crate::read_entities::ops::customer_signal_sentiments(db, id, teams)
            })
        }
        fn customer_nps_answers(
            &self,
            id: &str,
            teams: &[String],
        ) -> Result<Vec<(String, i64, Option<u8>)>, $crate::StoreError> {
            self.entity_read(|db| $crate::read_entities::ops::customer_nps_answers(db, id, teams))
        }
    };
}
pub(crate) use entity_reads;

impl Store {
    /// Runs the lookups of `f` on the file's connection.
    pub(crate) fn entity_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut Lite(&self.conn))
    }
}
