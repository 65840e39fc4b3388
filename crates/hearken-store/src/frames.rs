//! Loading columnar frames for the engine: one pass over the rows of a time window into typed
//! vectors, entity references dictionary-coded by their row id (dense, so a group-by in the engine
//! is an array index).

use std::collections::HashMap;

use hearken_engine::{CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
use rusqlite::{Connection, OptionalExtension};

use crate::{Store, StoreError};

/// A half-open time window `[from, to)` in Unix seconds; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Window {
    fn bounds(&self) -> (i64, i64) {
        (self.from.unwrap_or(i64::MIN), self.to.unwrap_or(i64::MAX))
    }
}

/// Every row of an entity table, by `id - 1`.
fn entity_dict(conn: &Connection, table: &str) -> Result<Dict, StoreError> {
    let mut names = Vec::new();
    let mut stmt = conn.prepare(&format!("SELECT id, ext_id FROM {table} ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let idx = (id - 1).max(0) as usize;
        if names.len() < idx {
            names.resize(idx, String::new());
        }
        names.push(r.get(1)?);
    }
    Ok(Dict { names })
}

fn code(id: Option<i64>) -> u32 {
    match id {
        Some(id) if id >= 1 && id <= i64::from(u32::MAX - 1) => (id - 1) as u32,
        _ => NONE,
    }
}

#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
    dict: Dict,
}

impl Interner {
    fn code(&mut self, v: Option<&str>) -> u32 {
        let Some(v) = v else { return NONE };
        if let Some(c) = self.map.get(v) {
            return *c;
        }
        let c = self.dict.names.len() as u32;
        self.dict.names.push(v.to_string());
        self.map.insert(v.to_string(), c);
        c
    }
}

impl Store {
    pub fn signal_frame(&self, window: &Window) -> Result<SignalFrame, StoreError> {
        let (from, to) = window.bounds();
        let mut f = SignalFrame {
            customers: entity_dict(&self.conn, "customers")?,
            products: entity_dict(&self.conn, "products")?,
            agents: entity_dict(&self.conn, "agents")?,
            cases: entity_dict(&self.conn, "cases")?,
            ..SignalFrame::default()
        };
        let (mut stages, mut topics) = (Interner::default(), Interner::default());
        let mut stmt = self.conn.prepare(
            // The source's own topic wins; otherwise the topic model's prediction, if any.
            "SELECT at, channel, kind, source, customer_id, product_id, agent_id, case_id, stage,
             coalesce(topic, predicted_topic), sentiment, id FROM signals WHERE at >= ?1 AND at < ?2",
        )?;
        let mut rows = stmt.query([from, to])?;
        while let Some(r) = rows.next()? {
            f.at.push(r.get(0)?);
            f.id.push(r.get(11)?);
            f.channel.push(r.get(1)?);
            f.kind.push(r.get(2)?);
            f.source.push(r.get(3)?);
            f.customer.push(code(r.get(4)?));
            f.product.push(code(r.get(5)?));
            f.agent.push(code(r.get(6)?));
            f.case.push(code(r.get(7)?));
            f.stage
                .push(stages.code(r.get::<_, Option<String>>(8)?.as_deref()));
            f.topic
                .push(topics.code(r.get::<_, Option<String>>(9)?.as_deref()));
            f.sentiment
                .push(r.get::<_, Option<f64>>(10)?.map_or(f32::NAN, |v| v as f32));
        }
        f.stages = stages.dict;
        f.topics = topics.dict;
        Ok(f)
    }

    pub fn survey_frame(&self, window: &Window) -> Result<SurveyFrame, StoreError> {
        let (from, to) = window.bounds();
        let mut f = SurveyFrame {
            customers: entity_dict(&self.conn, "customers")?,
            products: entity_dict(&self.conn, "products")?,
            agents: entity_dict(&self.conn, "agents")?,
            ..SurveyFrame::default()
        };
        let mut ids: Vec<i64> = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT id, at, customer_id, product_id, agent_id, channel, nps, csat, ces, overall,
                 case_id FROM surveys WHERE at >= ?1 AND at < ?2 ORDER BY id",
            )?;
            let mut rows = stmt.query([from, to])?;
            while let Some(r) = rows.next()? {
                ids.push(r.get(0)?);
                f.at.push(r.get(1)?);
                f.customer.push(code(r.get(2)?));
                f.product.push(code(r.get(3)?));
                f.agent.push(code(r.get(4)?));
                f.case.push(code(r.get(10)?));
                f.channel.push(r.get::<_, Option<u8>>(5)?.unwrap_or(0));
                f.nps.push(r.get::<_, Option<u8>>(6)?.unwrap_or(u8::MAX));
                f.csat.push(r.get::<_, Option<u8>>(7)?.unwrap_or(u8::MAX));
                f.ces.push(r.get::<_, Option<u8>>(8)?.unwrap_or(u8::MAX));
                f.overall
                    .push(r.get::<_, Option<f64>>(9)?.map_or(f32::NAN, |v| v as f32));
            }
        }
        // Aspects: one column per name, aligned with the rows above (ids ascending).
        let mut columns: Vec<(String, Vec<f32>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT a.survey_id, a.aspect, a.rating FROM survey_aspects a JOIN surveys s ON s.id = a.survey_id
             WHERE s.at >= ?1 AND s.at < ?2 ORDER BY a.survey_id",
        )?;
        let mut rows = stmt.query([from, to])?;
        let mut pos = 0usize;
        while let Some(r) = rows.next()? {
            let sid: i64 = r.get(0)?;
            while pos < ids.len() && ids[pos] < sid {
                pos += 1;
            }
            if pos >= ids.len() || ids[pos] != sid {
                continue;
            }
            let name: String = r.get(1)?;
            let col = match index.get(&name) {
                Some(c) => *c,
                None => {
                    columns.push((name.clone(), vec![f32::NAN; ids.len()]));
                    index.insert(name, columns.len() - 1);
                    columns.len() - 1
                }
            };
            columns[col].1[pos] = r.get::<_, f64>(2)? as f32;
        }
        columns.sort_by(|a, b| a.0.cmp(&b.0));
        f.aspects = columns;
        Ok(f)
    }

    /// Customer attributes by the same codes as the frames' `customers` dictionary.
    pub fn customer_frame(&self) -> Result<CustomerFrame, StoreError> {
        let mut f = CustomerFrame::default();
        let (mut segments, mut personas) = (Interner::default(), Interner::default());
        let mut stmt = self.conn.prepare(
            "SELECT id, segment, persona, since, value_per_year, white_glove, churned_at FROM customers ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let idx = (r.get::<_, i64>(0)? - 1).max(0) as usize;
            while f.segment.len() < idx {
                f.segment.push(NONE);
                f.persona.push(NONE);
                f.since.push(i64::MIN);
                f.value_per_year.push(f64::NAN);
                f.white_glove.push(false);
                f.churned_at.push(i64::MIN);
            }
            f.segment
                .push(segments.code(r.get::<_, Option<String>>(1)?.as_deref()));
            f.persona
                .push(personas.code(r.get::<_, Option<String>>(2)?.as_deref()));
            f.since
                .push(r.get::<_, Option<i64>>(3)?.unwrap_or(i64::MIN));
            f.value_per_year
                .push(r.get::<_, Option<f64>>(4)?.unwrap_or(f64::NAN));
            f.white_glove.push(r.get(5)?);
            f.churned_at
                .push(r.get::<_, Option<i64>>(6)?.unwrap_or(i64::MIN));
        }
        f.segments = segments.dict;
        f.personas = personas.dict;
        Ok(f)
    }
}

impl Store {
    /// Agents' teams by the same codes as the frames' `agents` dictionary.
    pub fn agent_frame(&self) -> Result<hearken_engine::AgentFrame, StoreError> {
        let mut f = hearken_engine::AgentFrame::default();
        let mut teams = Interner::default();
        let mut stmt = self
            .conn
            .prepare("SELECT id, team FROM agents ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let idx = (r.get::<_, i64>(0)? - 1).max(0) as usize;
            while f.team.len() < idx {
                f.team.push(NONE);
            }
            f.team
                .push(teams.code(r.get::<_, Option<String>>(1)?.as_deref()));
        }
        f.teams = teams.dict;
        Ok(f)
    }
}

/// One signal as evidence behind a figure: its source id, time, customer, text and sentiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SignalBrief {
    pub id: String,
    pub at: i64,
    pub customer: Option<String>,
    pub text: Option<String>,
    pub sentiment: Option<f64>,
}

/// Case events as plain columns, in the order they were imported (the order ties keep), for
/// case-flow analysis.
#[derive(Debug, Clone, Default)]
pub struct CaseEventRows {
    pub case: Vec<String>,
    pub at: Vec<i64>,
    pub activity: Vec<String>,
    pub agent: Vec<Option<String>>,
    pub team: Vec<Option<String>>,
    pub text: Vec<Option<String>>,
    pub sentiment: Vec<Option<f32>>,
}

impl Store {
    pub fn case_event_rows(&self, window: &Window) -> Result<CaseEventRows, StoreError> {
        let (from, to) = window.bounds();
        let mut out = CaseEventRows::default();
        let mut stmt = self.conn.prepare(
            "SELECT c.ext_id, e.at, e.activity, a.ext_id, e.team, e.text, e.sentiment
             FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN agents a ON a.id = e.agent_id
             WHERE e.at >= ?1 AND e.at < ?2 ORDER BY e.id",
        )?;
        let mut rows = stmt.query([from, to])?;
        while let Some(r) = rows.next()? {
            out.case.push(r.get(0)?);
            out.at.push(r.get(1)?);
            out.activity.push(r.get(2)?);
            out.agent.push(r.get(3)?);
            out.team.push(r.get(4)?);
            out.text.push(r.get(5)?);
            out.sentiment
                .push(r.get::<_, Option<f64>>(6)?.map(|v| v as f32));
        }
        Ok(out)
    }
}

impl Store {
    /// The signals with these store ids (as in `SignalFrame::id`), in the order given; ids
    /// that do not exist are left out.
    pub fn signal_briefs(&self, ids: &[i64]) -> Result<Vec<SignalBrief>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.ext_id, s.at, c.ext_id, s.text, s.sentiment FROM signals s
             LEFT JOIN customers c ON c.id = s.customer_id WHERE s.id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = stmt
                .query_row([id], |r| {
                    Ok(SignalBrief {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        customer: r.get(2)?,
                        text: r.get(3)?,
                        sentiment: r.get(4)?,
                    })
                })
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    /// The texts of the newest `limit` signals in the window (with their times), newest first.
    pub fn signal_texts(
        &self,
        window: &Window,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let (from, to) = window.bounds();
        let mut stmt = self.conn.prepare(
            "SELECT at, text FROM signals WHERE text IS NOT NULL AND at >= ?1 AND at < ?2 ORDER BY at DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(rusqlite::params![from, to, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
