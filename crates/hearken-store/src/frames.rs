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
    pub(crate) fn bounds(&self) -> (i64, i64) {
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
    /// The event's team, else the team of its agent (agents.csv).
    pub team: Vec<Option<String>>,
    pub text: Vec<Option<String>>,
    pub sentiment: Vec<Option<f32>>,
}

/// What the store knows of each case beyond its events, one row per case that has any: the
/// customer and product (from the case's own events when the case-event file names them, else
/// from the first signal, else the first survey response, linked to the case), the channel (of
/// the first linked signal, else survey response) and the customer's segment.
#[derive(Debug, Clone, Default)]
pub struct CaseAttributeRows {
    /// The case's id (as in [`CaseEventRows::case`]).
    pub case: Vec<String>,
    pub customer: Vec<Option<String>>,
    pub product: Vec<Option<String>>,
    pub segment: Vec<Option<String>>,
    /// The channel's name (`phone`, `email` ...).
    pub channel: Vec<Option<String>>,
}

impl Store {
    /// The case events of the cases that started in the window (their first event is in it),
    /// with all their events, also those after the window: flow selects cases, not events.
    pub fn case_event_rows(&self, window: &Window) -> Result<CaseEventRows, StoreError> {
        const SELECT: &str =
            "SELECT c.ext_id, e.at, e.activity, a.ext_id, coalesce(e.team, a.team),
             e.text, e.sentiment FROM case_events e JOIN cases c ON c.id = e.case_id
             LEFT JOIN agents a ON a.id = e.agent_id";
        let mut out = CaseEventRows::default();
        let mut stmt;
        let mut rows = if window.from.is_none() && window.to.is_none() {
            stmt = self.conn.prepare(&format!("{SELECT} ORDER BY e.id"))?;
            stmt.query([])?
        } else {
            stmt = self.conn.prepare(&format!(
                "{SELECT} WHERE e.case_id IN (SELECT case_id FROM case_events GROUP BY case_id
                 HAVING min(at) >= ?1 AND min(at) < ?2) ORDER BY e.id"
            ))?;
            let (from, to) = window.bounds();
            stmt.query([from, to])?
        };
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

    /// The case events of the cases with these store ids (as the snapshot's case parts index
    /// them: `id - 1`), in the order they were imported, as [`Store::case_event_rows`] gives
    /// them. One indexed read per case: for the cases of a week rather than all of them.
    pub fn case_event_rows_of(&self, case_ids: &[i64]) -> Result<CaseEventRows, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, c.ext_id, e.at, e.activity, a.ext_id, coalesce(e.team, a.team),
             e.text, e.sentiment FROM case_events e JOIN cases c ON c.id = e.case_id
             LEFT JOIN agents a ON a.id = e.agent_id WHERE e.case_id = ?1",
        )?;
        type Row = (
            i64,
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<f64>,
        );
        let mut rows: Vec<Row> = Vec::new();
        for id in case_ids {
            let mut q = stmt.query([id])?;
            while let Some(r) = q.next()? {
                rows.push((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ));
            }
        }
        rows.sort_unstable_by_key(|r| r.0);
        let mut out = CaseEventRows::default();
        for (_, case, at, activity, agent, team, text, sentiment) in rows {
            out.case.push(case);
            out.at.push(at);
            out.activity.push(activity);
            out.agent.push(agent);
            out.team.push(team);
            out.text.push(text);
            out.sentiment.push(sentiment.map(|v| v as f32));
        }
        Ok(out)
    }

    /// Every activity name the case events have, sorted: from the snapshot when it is up to
    /// date (its case part keeps them), else a scan of the events' table.
    pub fn case_activities(&self) -> Result<Vec<String>, StoreError> {
        if let Some(mut names) = self.snapshot_case_activities()? {
            names.sort_unstable();
            return Ok(names);
        }
        self.case_activities_scanned()
    }

    /// [`Store::case_activities`] by a scan of the events' table.
    pub fn case_activities_scanned(&self) -> Result<Vec<String>, StoreError> {
        // Sorted here: with `ORDER BY` SQLite sorts every event before removing duplicates.
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT activity FROM case_events")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        let mut out: Vec<String> = rows.collect::<Result<_, _>>()?;
        out.sort_unstable();
        Ok(out)
    }

    /// Each case's customer, product, segment and channel (see [`CaseAttributeRows`]).
    pub fn case_attributes(&self) -> Result<CaseAttributeRows, StoreError> {
        let mut sources: [Vec<CaseSourceRow>; 3] = Default::default();
        for (sql, rows) in CASE_SOURCES.iter().zip(&mut sources) {
            let mut stmt = self.conn.prepare(sql)?;
            *rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
        }
        let cases = entity_dict(&self.conn, "cases")?;
        let products = entity_dict(&self.conn, "products")?;
        let mut customers: HashMap<i64, (String, Option<String>)> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT id, ext_id, segment FROM customers")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                customers.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
            }
        }
        Ok(fold_case_attributes(sources, &cases, &products, &customers))
    }
}

/// Where a case's customer, product and channel come from, in order of precedence: the case's
/// own events, its signals, its survey responses (`case_id, at, id, customer_id, product_id,
/// channel`). The same statements on both stores.
pub(crate) const CASE_SOURCES: [&str; 3] = [
    "SELECT case_id, at, id, customer_id, product_id, NULL FROM case_events
     WHERE customer_id IS NOT NULL OR product_id IS NOT NULL",
    "SELECT case_id, at, id, customer_id, product_id, channel FROM signals
     WHERE case_id IS NOT NULL",
    "SELECT case_id, at, id, customer_id, product_id, channel FROM surveys
     WHERE case_id IS NOT NULL",
];

/// A row of one of [`CASE_SOURCES`].
pub(crate) type CaseSourceRow = (i64, i64, i64, Option<i64>, Option<i64>, Option<u8>);

/// Each case's attributes from the rows of [`CASE_SOURCES`] (in that order), the cases' and
/// products' external ids by code (`id - 1`) and the customers' external ids and segments by id.
pub(crate) fn fold_case_attributes(
    sources: [Vec<CaseSourceRow>; 3],
    cases: &Dict,
    products: &Dict,
    customers: &HashMap<i64, (String, Option<String>)>,
) -> CaseAttributeRows {
    #[derive(Default)]
    struct Found {
        customer: Option<i64>,
        product: Option<i64>,
        channel: Option<u8>,
    }
    // Within each source, the earliest row first (time, then row id). A field is taken from the
    // first row that has it. Rows are sorted here: SQLite would sort them in a temporary b-tree,
    // several times slower.
    let mut found: HashMap<i64, Found> = HashMap::new();
    for mut rows in sources {
        rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
        for (case, _, _, customer, product, channel) in rows {
            let f = found.entry(case).or_default();
            f.customer = f.customer.or(customer);
            f.product = f.product.or(product);
            f.channel = f.channel.or(channel);
        }
    }
    let name = |d: &Dict, id: i64| d.names.get((id - 1).max(0) as usize).cloned();
    let mut ids: Vec<i64> = found.keys().copied().collect();
    ids.sort_unstable();
    let mut out = CaseAttributeRows::default();
    for id in ids {
        let (Some(case), Some(f)) = (name(cases, id), found.get(&id)) else {
            continue;
        };
        let customer = f.customer.and_then(|c| customers.get(&c));
        out.case.push(case);
        out.customer.push(customer.map(|(ext, _)| ext.clone()));
        out.segment.push(customer.and_then(|(_, seg)| seg.clone()));
        out.product.push(f.product.and_then(|p| name(products, p)));
        out.channel.push(
            f.channel
                .and_then(hearken_model::Channel::from_code)
                .map(|c| c.as_str().to_string()),
        );
    }
    out
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
