//! The frames of the query layer's analytics, built from the PostgreSQL store's tables with
//! binary `COPY ... TO STDOUT`, by the conventions of the SQLite store's columnar snapshot
//! (`crate::snapshot`), so that the same rows give the same frames and so the same figures.
//!
//! What must match, and why it does: rows in id order (both scan by id); entity codes `id - 1`
//! over ids that are dense up to the largest; string dictionaries in order of first appearance
//! over the whole table in id order (the snapshot interns while scanning by id, and an append
//! continues its stored dictionary); the window `[from, to)` applied to rows after coding; the
//! missing values of `snapshot.rs` (`NONE`, `u8::MAX`, `0` for a survey's channel, `NaN`,
//! `i64::MIN`); columns not asked for left empty. `crates/hearken-query/tests/query/pg.rs`
//! compares every analytic's JSON on both stores.
//!
//! The tables are read on every call (there is no snapshot in PostgreSQL yet): correct at any
//! moment, and as fast as the server streams the columns asked for.

use std::collections::HashMap;

use hearken_engine::{AgentFrame, CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
use postgres::binary_copy::{BinaryCopyOutIter, BinaryCopyOutRow};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Type};
use postgres::{Client, Row};

use super::{PgStore, pg_error};
use crate::StoreError;
use crate::frames::{
    CASE_SOURCES, CaseAttributeRows, CaseEventRows, CaseSourceRow, SignalBrief, Window,
    fold_case_attributes,
};
use crate::read::Entity;
use crate::snapshot::{CaseKpis, SignalColumns, SnapshotRefresh, SurveyColumns};
use crate::source::FrameSource;
use crate::store::{RunningImport, import_alive};

/// Streams the rows of `select` (typed `types`) through binary COPY into `each`.
fn copy_rows(
    client: &mut Client,
    what: &str,
    select: &str,
    types: &[Type],
    each: &mut dyn FnMut(&BinaryCopyOutRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let err = |e| pg_error(format!("reading {what}"), e);
    let reader = client
        .copy_out(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .map_err(err)?;
    let mut rows = BinaryCopyOutIter::new(reader, types);
    while let Some(row) = rows.next().map_err(err)? {
        each(&row)?;
    }
    Ok(())
}

/// Column `i` of a copied row; a type that does not match is an error, never a panic.
fn get<'a, T: FromSql<'a>>(
    row: &'a BinaryCopyOutRow,
    what: &str,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| pg_error(format!("reading {what}"), e))
}

/// Column `i` of a queried row; a type that does not match is an error, never a panic.
fn col<'a, T: FromSql<'a>>(row: &'a Row, what: &str, i: usize) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| pg_error(format!("reading {what}"), e))
}

/// A small integer column (a code or a score) as the frame's byte; out of range is an error
/// (the schema's checks keep these in range).
fn byte(v: i64, what: &str) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| StoreError::Postgres {
        what: format!("reading {what}"),
        message: format!("value {v} does not fit a byte"),
    })
}

fn code(id: Option<i64>) -> u32 {
    match id {
        Some(id) if id >= 1 && id <= i64::from(u32::MAX - 1) => (id - 1) as u32,
        _ => NONE,
    }
}

/// Dictionary coding in order of first appearance, as the snapshot's.
#[derive(Default)]
struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
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

/// Whether a row at `at` is in the window, as the snapshot decides it.
/// The columns a COPY reads, in order, with their types.
#[derive(Default)]
struct Select {
    exprs: Vec<&'static str>,
    types: Vec<Type>,
}

impl Select {
    /// Adds a column; its position in the copied rows.
    fn col(&mut self, expr: &'static str, ty: Type) -> usize {
        self.exprs.push(expr);
        self.types.push(ty);
        self.exprs.len() - 1
    }

    fn list(&self) -> String {
        self.exprs.join(", ")
    }
}

/// ` WHERE` the window's bounds on `at` (empty for the whole log); the bounds are integers.
fn window_clause(w: &Window) -> String {
    match (w.from, w.to) {
        (None, None) => String::new(),
        (Some(from), None) => format!(" WHERE at >= {from}"),
        (None, Some(to)) => format!(" WHERE at < {to}"),
        (Some(from), Some(to)) => format!(" WHERE at >= {from} AND at < {to}"),
    }
}

fn in_window(w: &Window, at: i64) -> bool {
    if w.from.is_none() && w.to.is_none() {
        return true;
    }
    at >= w.from.unwrap_or(i64::MIN) && at < w.to.unwrap_or(i64::MAX)
}

/// Every entity's external id, by `id - 1`, padded with empty names where an id has no row.
fn entity_names(client: &mut Client, table: &str) -> Result<Dict, StoreError> {
    let mut names: Vec<String> = Vec::new();
    copy_rows(
        client,
        table,
        &format!("SELECT id, ext_id FROM {table} ORDER BY id"),
        &[Type::INT8, Type::TEXT],
        &mut |r| {
            let id: i64 = get(r, table, 0)?;
            let idx = (id - 1).max(0) as usize;
            names.resize(idx.max(names.len()), String::new());
            names.push(get(r, table, 1)?);
            Ok(())
        },
    )?;
    Ok(Dict { names })
}

fn names_if(client: &mut Client, on: bool, table: &str) -> Result<Dict, StoreError> {
    if on {
        entity_names(client, table)
    } else {
        Ok(Dict::default())
    }
}

/// Pads the dense columns of entity rows up to index `n` (ids without a row).
fn pad_to<T: Clone>(v: &mut Vec<T>, n: usize, missing: T) {
    if v.len() < n {
        v.resize(n, missing);
    }
}

impl FrameSource for PgStore {
    crate::read_entities::entity_reads!();
    fn snapshot_is_fresh(&self) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn refresh_snapshot(
        &self,
        _rebuild: bool,
        _on_rows: &mut dyn FnMut(&str, u64),
    ) -> Result<SnapshotRefresh, StoreError> {
        Ok(SnapshotRefresh::default())
    }

    fn snapshot_signals(
        &self,
        window: &Window,
        want: &SignalColumns,
    ) -> Result<SignalFrame, StoreError> {
        let client = &mut *self.client();
        let mut f = SignalFrame {
            customers: names_if(client, want.customer_names, "customers")?,
            products: names_if(client, want.product_names, "products")?,
            agents: names_if(client, want.agent_names, "agents")?,
            cases: names_if(client, want.case_names, "cases")?,
            ..SignalFrame::default()
        };
        let (mut stages, mut topics) = (Interner::default(), Interner::default());
        let w = "signals";
        // Only the columns asked for travel (measured at 1M signals: all twelve 2.0 s of the
        // server's COPY, two of them 1.1 s).
        let mut sel = Select::default();
        let at_col = sel.col("at", Type::INT8);
        let id_col = want.id.then(|| sel.col("id", Type::INT8));
        let channel_col = want.channel.then(|| sel.col("channel", Type::INT8));
        let kind_col = want.kind.then(|| sel.col("kind", Type::INT8));
        let source_col = want.source.then(|| sel.col("source", Type::INT8));
        let customer_col = want.customer.then(|| sel.col("customer_id", Type::INT8));
        let product_col = want.product.then(|| sel.col("product_id", Type::INT8));
        let agent_col = want.agent.then(|| sel.col("agent_id", Type::INT8));
        let case_col = want.case.then(|| sel.col("case_id", Type::INT8));
        let stage_col = want.stage.then(|| sel.col("stage", Type::TEXT));
        // The source's own topic wins; otherwise the topic model's prediction, if any.
        let topic_col = want
            .topic
            .then(|| sel.col("coalesce(topic, predicted_topic)", Type::TEXT));
        let sentiment_col = want.sentiment.then(|| sel.col("sentiment", Type::FLOAT8));
        // Strings are coded over every row, in the window or not, as in the snapshot: with
        // none asked for, only the window's rows travel.
        let only = if want.stage || want.topic {
            String::new()
        } else {
            window_clause(window)
        };
        copy_rows(
            client,
            w,
            &format!("SELECT {} FROM signals{only} ORDER BY id", sel.list()),
            &sel.types,
            &mut |r| {
                let at: i64 = get(r, w, at_col)?;
                let stage = match stage_col {
                    Some(i) => stages.code(get(r, w, i)?),
                    None => NONE,
                };
                let topic = match topic_col {
                    Some(i) => topics.code(get(r, w, i)?),
                    None => NONE,
                };
                if !in_window(window, at) {
                    return Ok(());
                }
                if let Some(i) = id_col {
                    f.id.push(get(r, w, i)?);
                }
                if want.at {
                    f.at.push(at);
                }
                if let Some(i) = channel_col {
                    f.channel.push(byte(get(r, w, i)?, w)?);
                }
                if let Some(i) = kind_col {
                    f.kind.push(byte(get(r, w, i)?, w)?);
                }
                if let Some(i) = source_col {
                    f.source.push(byte(get(r, w, i)?, w)?);
                }
                if let Some(i) = customer_col {
                    f.customer.push(code(get(r, w, i)?));
                }
                if let Some(i) = product_col {
                    f.product.push(code(get(r, w, i)?));
                }
                if let Some(i) = agent_col {
                    f.agent.push(code(get(r, w, i)?));
                }
                if let Some(i) = case_col {
                    f.case.push(code(get(r, w, i)?));
                }
                if want.stage {
                    f.stage.push(stage);
                }
                if want.topic {
                    f.topic.push(topic);
                }
                if let Some(i) = sentiment_col {
                    let s: Option<f64> = get(r, w, i)?;
                    f.sentiment.push(s.map_or(f32::NAN, |v| v as f32));
                }
                Ok(())
            },
        )?;
        f.stages = Dict {
            names: stages.names,
        };
        f.topics = Dict {
            names: topics.names,
        };
        Ok(f)
    }

    fn snapshot_surveys(
        &self,
        window: &Window,
        want: &SurveyColumns,
    ) -> Result<SurveyFrame, StoreError> {
        let client = &mut *self.client();
        let mut f = SurveyFrame {
            customers: names_if(client, want.customer_names, "customers")?,
            products: names_if(client, want.product_names, "products")?,
            agents: names_if(client, want.agent_names, "agents")?,
            ..SurveyFrame::default()
        };
        // Aspect ratings by survey id, and every aspect's name.
        let mut ratings: HashMap<i64, Vec<(String, f32)>> = HashMap::new();
        if want.aspects {
            let w = "survey_aspects";
            copy_rows(
                client,
                w,
                "SELECT survey_id, aspect, rating FROM survey_aspects",
                &[Type::INT8, Type::TEXT, Type::FLOAT8],
                &mut |r| {
                    let rating: f64 = get(r, w, 2)?;
                    ratings
                        .entry(get(r, w, 0)?)
                        .or_default()
                        .push((get(r, w, 1)?, rating as f32));
                    Ok(())
                },
            )?;
        }
        let mut names: Vec<String> = ratings.values().flatten().map(|(n, _)| n.clone()).collect();
        names.sort();
        names.dedup();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut aspects: Vec<Vec<f32>> = vec![Vec::new(); names.len()];
        let w = "surveys";
        // Only the columns asked for, and only the window's rows (nothing is coded over all).
        let mut sel = Select::default();
        let at_col = sel.col("at", Type::INT8);
        let id_col = want.aspects.then(|| sel.col("id", Type::INT8));
        let customer_col = want.customer.then(|| sel.col("customer_id", Type::INT8));
        let product_col = want.product.then(|| sel.col("product_id", Type::INT8));
        let agent_col = want.agent.then(|| sel.col("agent_id", Type::INT8));
        let case_col = want.case.then(|| sel.col("case_id", Type::INT8));
        let channel_col = want.channel.then(|| sel.col("channel", Type::INT8));
        let nps_col = want.nps.then(|| sel.col("nps", Type::INT8));
        let csat_col = want.csat.then(|| sel.col("csat", Type::INT8));
        let ces_col = want.ces.then(|| sel.col("ces", Type::INT8));
        let overall_col = want.overall.then(|| sel.col("overall", Type::FLOAT8));
        copy_rows(
            client,
            w,
            &format!(
                "SELECT {} FROM surveys{} ORDER BY id",
                sel.list(),
                window_clause(window)
            ),
            &sel.types,
            &mut |r| {
                let at: i64 = get(r, w, at_col)?;
                if !in_window(window, at) {
                    return Ok(());
                }
                let small = |i: usize, missing: u8| -> Result<u8, StoreError> {
                    get::<Option<i64>>(r, w, i)?.map_or(Ok(missing), |v| byte(v, w))
                };
                if want.at {
                    f.at.push(at);
                }
                if let Some(i) = customer_col {
                    f.customer.push(code(get(r, w, i)?));
                }
                if let Some(i) = product_col {
                    f.product.push(code(get(r, w, i)?));
                }
                if let Some(i) = agent_col {
                    f.agent.push(code(get(r, w, i)?));
                }
                if let Some(i) = case_col {
                    f.case.push(code(get(r, w, i)?));
                }
                if let Some(i) = channel_col {
                    f.channel.push(small(i, 0)?);
                }
                if let Some(i) = nps_col {
                    f.nps.push(small(i, u8::MAX)?);
                }
                if let Some(i) = csat_col {
                    f.csat.push(small(i, u8::MAX)?);
                }
                if let Some(i) = ces_col {
                    f.ces.push(small(i, u8::MAX)?);
                }
                if let Some(i) = overall_col {
                    let o: Option<f64> = get(r, w, i)?;
                    f.overall.push(o.map_or(f32::NAN, |v| v as f32));
                }
                if let Some(i) = id_col {
                    let id: i64 = get(r, w, i)?;
                    for col in aspects.iter_mut() {
                        col.push(f32::NAN);
                    }
                    for (name, rating) in ratings.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
                        if let Some(&i) = index.get(name.as_str())
                            && let Some(slot) = aspects[i].last_mut()
                        {
                            *slot = *rating;
                        }
                    }
                }
                Ok(())
            },
        )?;
        // Aspects nobody rated in the window are not columns of it.
        f.aspects = names
            .into_iter()
            .zip(aspects)
            .filter(|(_, v)| v.iter().any(|x| !x.is_nan()))
            .collect();
        Ok(f)
    }

    fn snapshot_customers(&self) -> Result<CustomerFrame, StoreError> {
        let client = &mut *self.client();
        let mut f = CustomerFrame::default();
        let (mut segments, mut personas) = (Interner::default(), Interner::default());
        let mut white_glove: Vec<u8> = Vec::new();
        let w = "customers";
        copy_rows(
            client,
            w,
            "SELECT id, segment, persona, since, value_per_year, white_glove, churned_at
             FROM customers ORDER BY id",
            &[
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::FLOAT8,
                Type::INT8,
                Type::INT8,
            ],
            &mut |r| {
                let id: i64 = get(r, w, 0)?;
                let idx = (id - 1).max(0) as usize;
                pad_to(&mut f.segment, idx, NONE);
                pad_to(&mut f.persona, idx, NONE);
                pad_to(&mut f.since, idx, i64::MIN);
                pad_to(&mut f.value_per_year, idx, f64::NAN);
                pad_to(&mut white_glove, idx, u8::MAX);
                pad_to(&mut f.churned_at, idx, i64::MIN);
                f.segment.push(segments.code(get(r, w, 1)?));
                f.persona.push(personas.code(get(r, w, 2)?));
                f.since
                    .push(get::<Option<i64>>(r, w, 3)?.unwrap_or(i64::MIN));
                f.value_per_year
                    .push(get::<Option<f64>>(r, w, 4)?.unwrap_or(f64::NAN));
                white_glove.push(u8::from(get::<i64>(r, w, 5)? != 0));
                f.churned_at
                    .push(get::<Option<i64>>(r, w, 6)?.unwrap_or(i64::MIN));
                Ok(())
            },
        )?;
        f.white_glove = white_glove.into_iter().map(|b| b == 1).collect();
        f.segments = Dict {
            names: segments.names,
        };
        f.personas = Dict {
            names: personas.names,
        };
        Ok(f)
    }

    fn snapshot_agents(&self) -> Result<AgentFrame, StoreError> {
        let client = &mut *self.client();
        let mut f = AgentFrame::default();
        let mut teams = Interner::default();
        let w = "agents";
        copy_rows(
            client,
            w,
            "SELECT id, team FROM agents ORDER BY id",
            &[Type::INT8, Type::TEXT],
            &mut |r| {
                let id: i64 = get(r, w, 0)?;
                pad_to(&mut f.team, (id - 1).max(0) as usize, NONE);
                f.team.push(teams.code(get(r, w, 1)?));
                Ok(())
            },
        )?;
        f.teams = Dict { names: teams.names };
        Ok(f)
    }

    fn snapshot_case_kpis(&self) -> Result<CaseKpis, StoreError> {
        let client = &mut *self.client();
        let mut k = CaseKpis::default();
        let w = "case events";
        copy_rows(
            client,
            w,
            "SELECT case_id, min(at), max(at), min(CASE WHEN agent_id IS NOT NULL THEN at END),
             count(*) FROM case_events GROUP BY case_id ORDER BY case_id",
            &[Type::INT8, Type::INT8, Type::INT8, Type::INT8, Type::INT8],
            &mut |r| {
                let idx = (get::<i64>(r, w, 0)? - 1).max(0) as usize;
                pad_to(&mut k.first_at, idx, i64::MIN);
                pad_to(&mut k.last_at, idx, i64::MIN);
                pad_to(&mut k.first_agent_at, idx, i64::MIN);
                pad_to(&mut k.events, idx, 0);
                k.first_at.push(get(r, w, 1)?);
                k.last_at.push(get(r, w, 2)?);
                k.first_agent_at
                    .push(get::<Option<i64>>(r, w, 3)?.unwrap_or(i64::MIN));
                let n: i64 = get(r, w, 4)?;
                k.events.push(n.clamp(0, i64::from(u32::MAX - 1)) as u32);
                Ok(())
            },
        )?;
        // As in the snapshot, every case has a row (cases without events: missing values),
        // unless no case has an event at all.
        if !k.events.is_empty() {
            let cases: i64 = client
                .query_one("SELECT coalesce(max(id), 0) FROM cases", &[])
                .map_err(|e| pg_error("reading cases", e))?
                .get(0);
            let n = cases.max(0) as usize;
            pad_to(&mut k.first_at, n, i64::MIN);
            pad_to(&mut k.last_at, n, i64::MIN);
            pad_to(&mut k.first_agent_at, n, i64::MIN);
            pad_to(&mut k.events, n, 0);
        }
        Ok(k)
    }

    fn display_names(
        &self,
        entity: Entity,
        ids: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let sql = format!(
            "SELECT ext_id, name FROM {} WHERE ext_id = ANY($1) AND name IS NOT NULL",
            entity.table()
        );
        let rows = self
            .client()
            .query(&sql, &[&ids])
            .map_err(|e| pg_error("reading display names", e))?;
        let w = "display names";
        let found: HashMap<String, String> = rows
            .iter()
            .map(|r| Ok((col(r, w, 0)?, col(r, w, 1)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(ids.iter().map(|id| found.get(*id).cloned()).collect())
    }

    fn imports_in_progress(&self) -> Result<Vec<RunningImport>, StoreError> {
        let rows = self
            .client()
            .query(
                "SELECT id, kind, file, started_at, read, pid, host,
                 coalesce(heartbeat_at, started_at)
                 FROM imports WHERE finished_at IS NULL ORDER BY id",
                &[],
            )
            .map_err(|e| pg_error("reading the imports", e))?;
        let mut running = Vec::new();
        let w = "the imports";
        for r in rows {
            let import = RunningImport {
                id: col(&r, w, 0)?,
                kind: col(&r, w, 1)?,
                file: col(&r, w, 2)?,
                started_at: col(&r, w, 3)?,
                read: col(&r, w, 4)?,
            };
            let host: Option<String> = col(&r, w, 6)?;
            if import_alive(
                col(&r, w, 5)?,
                host.as_deref(),
                import.started_at,
                col(&r, w, 7)?,
            ) {
                running.push(import);
            }
        }
        Ok(running)
    }

    fn import_history(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<crate::ImportHistoryRow>, StoreError> {
        // The SQLite store's `import_history`, statement for statement.
        let running: Vec<i64> = self.imports_in_progress()?.iter().map(|r| r.id).collect();
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut client = self.client();
        let rows = client
            .query(
                "SELECT i.id, i.kind, i.file, i.source, i.started_at, i.finished_at, i.read, i.stored,
                        i.duplicates, i.quarantined, i.skipped, i.host, i.pid, i.demo,
                        (SELECT min(j.id) FROM imports j WHERE j.fingerprint = i.fingerprint
                           AND j.kind = i.kind AND j.id > i.id AND j.finished_at IS NOT NULL),
                        (SELECT count(*) FROM quarantine q WHERE q.import_id = i.id
                           AND q.resolved_at IS NULL)
                 FROM imports i WHERE ($1::bigint IS NULL OR i.id < $1) ORDER BY i.id DESC LIMIT $2",
                &[&before, &limit],
            )
            .map_err(|e| pg_error("reading the imports", e))?;
        let w = "the imports";
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = col(r, w, 0)?;
            let finished_at: Option<i64> = col(r, w, 5)?;
            let completed_by: Option<i64> = col(r, w, 14)?;
            let state = match finished_at {
                Some(_) => "finished",
                None if running.contains(&id) => "running",
                None => "interrupted",
            };
            let reasons = client
                .query(
                    "SELECT reason, rows FROM import_skips WHERE import_id = $1
                     ORDER BY rows DESC, reason",
                    &[&id],
                )
                .map_err(|e| pg_error("reading the imports", e))?;
            out.push(crate::ImportHistoryRow {
                id,
                kind: col(r, w, 1)?,
                file: col(r, w, 2)?,
                source: col(r, w, 3)?,
                started_at: col(r, w, 4)?,
                finished_at,
                state: state.into(),
                completed_by: if state == "interrupted" {
                    completed_by
                } else {
                    None
                },
                read: col(r, w, 6)?,
                stored: col(r, w, 7)?,
                duplicates: col(r, w, 8)?,
                quarantined: col(r, w, 9)?,
                skipped: col(r, w, 10)?,
                skipped_reasons: reasons
                    .iter()
                    .map(|q| Ok((col(q, w, 0)?, col(q, w, 1)?)))
                    .collect::<Result<_, StoreError>>()?,
                open_quarantine: col(r, w, 15)?,
                host: col(r, w, 11)?,
                pid: col(r, w, 12)?,
                demo: col::<i64>(r, w, 13)? == 1,
            });
        }
        Ok(out)
    }

    fn case_event_rows(&self, window: &Window) -> Result<CaseEventRows, StoreError> {
        // The SQLite store's `case_event_rows`, statement for statement (the bounds are
        // integers, written into the statement: COPY takes no parameters).
        const SELECT: &str =
            "SELECT c.ext_id, e.at, e.activity, a.ext_id, coalesce(e.team, a.team),
             e.text, e.sentiment FROM case_events e JOIN cases c ON c.id = e.case_id
             LEFT JOIN agents a ON a.id = e.agent_id";
        let sql = if window.from.is_none() && window.to.is_none() {
            format!("{SELECT} ORDER BY e.id")
        } else {
            let (from, to) = window.bounds();
            format!(
                "{SELECT} WHERE e.case_id IN (SELECT case_id FROM case_events GROUP BY case_id
                 HAVING min(at) >= {from} AND min(at) < {to}) ORDER BY e.id"
            )
        };
        let w = "the case events";
        let mut out = CaseEventRows::default();
        let types = [
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::FLOAT8,
        ];
        copy_rows(&mut self.client(), w, &sql, &types, &mut |r| {
            out.case.push(get(r, w, 0)?);
            out.at.push(get(r, w, 1)?);
            out.activity.push(get(r, w, 2)?);
            out.agent.push(get(r, w, 3)?);
            out.team.push(get(r, w, 4)?);
            out.text.push(get(r, w, 5)?);
            out.sentiment
                .push(get::<Option<f64>>(r, w, 6)?.map(|v| v as f32));
            Ok(())
        })?;
        Ok(out)
    }
    fn case_attributes(&self) -> Result<CaseAttributeRows, StoreError> {
        // The SQLite store's statements, folded by the same function.
        let w = "the cases' attributes";
        let mut client = self.client();
        let mut sources: [Vec<CaseSourceRow>; 3] = Default::default();
        for (sql, rows) in CASE_SOURCES.iter().zip(&mut sources) {
            copy_rows(&mut client, w, sql, &[Type::INT8; 6], &mut |r| {
                let channel: Option<i64> = get(r, w, 5)?;
                rows.push((
                    get(r, w, 0)?,
                    get(r, w, 1)?,
                    get(r, w, 2)?,
                    get(r, w, 3)?,
                    get(r, w, 4)?,
                    channel.map(|c| byte(c, w)).transpose()?,
                ));
                Ok(())
            })?;
        }
        let cases = entity_names(&mut client, "cases")?;
        let products = entity_names(&mut client, "products")?;
        let mut customers: HashMap<i64, (String, Option<String>)> = HashMap::new();
        copy_rows(
            &mut client,
            w,
            "SELECT id, ext_id, segment FROM customers",
            &[Type::INT8, Type::TEXT, Type::TEXT],
            &mut |r| {
                customers.insert(get(r, w, 0)?, (get(r, w, 1)?, get(r, w, 2)?));
                Ok(())
            },
        )?;
        Ok(fold_case_attributes(sources, &cases, &products, &customers))
    }
    fn entity_group(&self, entity: Entity, id: &str) -> Result<Option<Option<String>>, StoreError> {
        let column = match entity {
            Entity::Customer => "segment",
            Entity::Agent => "team",
            Entity::Product => "NULL::text",
        };
        let w = "an entity's group";
        let row = self
            .client()
            .query_opt(
                &format!("SELECT {column} FROM {} WHERE ext_id = $1", entity.table()),
                &[&id],
            )
            .map_err(|e| pg_error(w, e))?;
        row.map(|r| col(&r, w, 0)).transpose()
    }
    fn segments(&self) -> Result<Vec<String>, StoreError> {
        PgStore::segments(self)
    }
    fn teams(&self) -> Result<Vec<String>, StoreError> {
        PgStore::teams(self)
    }
    fn entity_ids(&self, entity: Entity, limit: usize) -> Result<Vec<String>, StoreError> {
        PgStore::entity_ids(self, entity, limit)
    }
    fn entity_ids_in(
        &self,
        entity: Entity,
        groups: &[String],
        limit: usize,
    ) -> Result<(Vec<String>, u64), StoreError> {
        PgStore::entity_ids_in(self, entity, groups, limit)
    }
    fn signal_texts_where(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        PgStore::signal_texts_where(self, q, limit)
    }
    fn signal_records(
        &self,
        q: &crate::SignalQuery,
        limit: usize,
    ) -> Result<Vec<crate::SignalRecord>, StoreError> {
        PgStore::signal_records(self, q, limit)
    }
    fn signal_record(&self, id: &str) -> Result<Option<crate::SignalRecord>, StoreError> {
        PgStore::signal_record(self, id)
    }
    fn signal_topics_where(&self, q: &crate::SignalQuery) -> Result<Vec<String>, StoreError> {
        PgStore::signal_topics_where(self, q)
    }
    fn status(&self) -> Result<crate::Status, StoreError> {
        PgStore::status(self)
    }
    fn scope_counts(
        &self,
        segments: &[String],
        teams: &[String],
    ) -> Result<crate::ScopeCounts, StoreError> {
        PgStore::scope_counts(self, segments, teams)
    }
    fn quarantine_entries(
        &self,
        filter: &crate::QuarantineFilter,
    ) -> Result<Vec<crate::QuarantineEntry>, StoreError> {
        // The SQLite store's `quarantine_entries`, statement for statement.
        let w = "the quarantine";
        let mut client = self.client();
        if let Some(id) = filter.import {
            import_exists(&mut *client, id)?;
        }
        let limit = if filter.limit == 0 {
            i64::MAX
        } else {
            i64::try_from(filter.limit).unwrap_or(i64::MAX)
        };
        let rows = client
            .query(
                "SELECT id, import_id, kind, file, line, field, value, reason, raw,
                        coalesce(resolution, 'open'), resolved_at
                 FROM quarantine
                 WHERE ($1::bigint IS NULL OR import_id = $1)
                   AND ($2 OR $1::bigint IS NOT NULL OR resolved_at IS NULL)
                 ORDER BY id LIMIT $3",
                &[&filter.import, &filter.all, &limit],
            )
            .map_err(|e| pg_error("reading the quarantine", e))?;
        rows.iter()
            .map(|r| {
                Ok(crate::QuarantineEntry {
                    id: col(r, w, 0)?,
                    import_id: col(r, w, 1)?,
                    kind: col(r, w, 2)?,
                    file: col(r, w, 3)?,
                    line: col(r, w, 4)?,
                    field: col(r, w, 5)?,
                    value: col(r, w, 6)?,
                    reason: col(r, w, 7)?,
                    raw: col(r, w, 8)?,
                    state: col(r, w, 9)?,
                    resolved_at: col(r, w, 10)?,
                })
            })
            .collect()
    }

    fn signal_briefs(&self, ids: &[i64]) -> Result<Vec<SignalBrief>, StoreError> {
        let rows = self
            .client()
            .query(
                "SELECT s.id, s.ext_id, s.at, c.ext_id, s.text, s.sentiment FROM signals s
                 LEFT JOIN customers c ON c.id = s.customer_id WHERE s.id = ANY($1)",
                &[&ids],
            )
            .map_err(|e| pg_error("reading signals", e))?;
        let w = "signals";
        let by_id: HashMap<i64, SignalBrief> = rows
            .iter()
            .map(|r| {
                Ok((
                    col(r, w, 0)?,
                    SignalBrief {
                        id: col(r, w, 1)?,
                        at: col(r, w, 2)?,
                        customer: col(r, w, 3)?,
                        text: col(r, w, 4)?,
                        sentiment: col(r, w, 5)?,
                    },
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        // In the order asked for; an id twice is listed twice, as the SQLite store does.
        Ok(ids.iter().filter_map(|id| by_id.get(id).cloned()).collect())
    }
}

/// An error naming the imports there are when import `id` is not one of them (the SQLite
/// store's `import_exists`).
pub(crate) fn import_exists(
    client: &mut impl postgres::GenericClient,
    id: i64,
) -> Result<(), StoreError> {
    let w = "the imports";
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM imports WHERE id = $1), (SELECT max(id) FROM imports)",
            &[&id],
        )
        .map_err(|e| pg_error("reading the imports", e))?;
    if col::<bool>(&row, w, 0)? {
        return Ok(());
    }
    let last: Option<i64> = col(&row, w, 1)?;
    Err(StoreError::NoSuchImport {
        id,
        known: match last {
            Some(l) => format!("imports are numbered 1 to {l}"),
            None => "the store has no imports yet".into(),
        },
    })
}
