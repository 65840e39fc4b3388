//! The tiny fixed store, and exports of it into memory.

use std::path::{Path, PathBuf};

use hearken_export::{
    AnalyticRequest, CsvOptions, Dataset, ExportError, ExportRequest, Format, RowsRequest,
};
use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::Scope;
use hearken_store::Store;
use rusqlite::Connection;
use serde_json::Value;

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Signal sentiment for the fixture store: a deterministic spread over [-1, 1] (imports here
/// run without text enrichment; tools/reference/exports/check_parquet.py sets the same).
pub const SENTIMENT_SQL: &str =
    "UPDATE signals SET sentiment = ((id * 7919) % 2001 - 1000) / 1000.0 WHERE text IS NOT NULL";

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub sql: Connection,
}

/// Imports tests/data/store/*.csv (customers, products, agents, signals, surveys, case events)
/// into a fresh store, without text enrichment, and sets signal sentiments.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fixture.db");
    let mut store = Store::open(&db).unwrap();
    for kind in [
        RecordKind::Customers,
        RecordKind::Products,
        RecordKind::Agents,
        RecordKind::Signals,
        RecordKind::Surveys,
        RecordKind::CaseEvents,
    ] {
        let report = store
            .import_file(
                &data_dir().join("store").join(kind.file_name()),
                &ReadOptions::new(kind),
                1_000,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(report.counts.quarantined, 0, "{kind:?}: {report:?}");
    }
    let sql = Connection::open(&db).unwrap();
    sql.execute_batch(SENTIMENT_SQL).unwrap();
    Fixture {
        _dir: dir,
        store,
        sql,
    }
}

impl Fixture {
    pub fn try_export(
        &self,
        req: &ExportRequest,
        format: Format,
        scope: &Scope,
    ) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::new();
        hearken_export::export(
            &self.store,
            scope,
            req,
            format,
            &mut out,
            CsvOptions::default(),
        )?;
        Ok(out)
    }

    /// One export prepared once (an analytic computed once) and written in each format.
    pub fn formats(&self, req: &ExportRequest, formats: &[Format]) -> Vec<Vec<u8>> {
        let prepared = hearken_export::prepare(&self.store, &Scope::all(), req)
            .unwrap_or_else(|e| panic!("{}: {e}", req.name()));
        formats
            .iter()
            .map(|&f| {
                let mut out = Vec::new();
                prepared
                    .write(&self.store, f, &mut out, CsvOptions::default())
                    .unwrap();
                out
            })
            .collect()
    }

    pub fn export(&self, req: &ExportRequest, format: Format) -> Vec<u8> {
        self.try_export(req, format, &Scope::all())
            .unwrap_or_else(|e| panic!("{}: {e}", req.name()))
    }

    pub fn text(&self, req: &ExportRequest, format: Format) -> String {
        String::from_utf8(self.export(req, format)).unwrap()
    }

    /// The JSON Lines export as one JSON object per row.
    pub fn jsonl(&self, req: &ExportRequest) -> Vec<Value> {
        self.text(req, Format::Jsonl)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn strings(&self, sql: &str) -> Vec<String> {
        let mut stmt = self.sql.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// JSON Lines text as one JSON object per row.
pub fn parse_jsonl(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn rows(dataset: Dataset, filters: RowsRequest) -> ExportRequest {
    ExportRequest::Rows { dataset, filters }
}

pub fn all(dataset: Dataset) -> ExportRequest {
    rows(dataset, RowsRequest::default())
}

pub fn analytic(a: AnalyticRequest) -> ExportRequest {
    ExportRequest::Analytic(a)
}

/// The ids (first column) of a JSON Lines export.
pub fn ids(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}
