//! Parquet read back: by the `parquet` crate's reader cell by cell against JSON Lines, and by
//! DuckDB and pandas through the committed fixture tests/data/parquet_check.json (row counts,
//! sums, lengths and null counts per column, made by tools/reference/exports/check_parquet.py
//! from the files `hearken export` wrote of this same store).

use bytes::Bytes;
use hearken_export::{AnalyticRequest, Dataset, ExportRequest, Format};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Map, Value};

use crate::helpers::*;

/// Rows as JSON objects.
type Rows = Vec<Map<String, Value>>;
/// Each column's name and its Parquet type (physical and logical).
type Types = Vec<(String, String)>;

/// The rows of a Parquet file as JSON objects, times as ISO 8601 text, and the type of each
/// column as the schema says it.
fn read(bytes: Vec<u8>) -> (Rows, Types) {
    let reader = SerializedFileReader::new(Bytes::from(bytes)).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let types = schema
        .columns()
        .iter()
        .map(|c| {
            let t = c.self_type();
            (
                c.name().to_string(),
                format!(
                    "{:?} {:?}",
                    t.get_physical_type(),
                    t.get_basic_info().logical_type_ref()
                ),
            )
        })
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| {
                    let v = match field {
                        Field::Null => Value::Null,
                        Field::Bool(b) => Value::Bool(*b),
                        Field::Long(n) => Value::from(*n),
                        Field::Double(x) => Value::from(*x),
                        Field::Str(s) => Value::from(s.as_str()),
                        Field::TimestampMicros(us) => {
                            assert_eq!(us % 1_000_000, 0, "{name}: whole seconds");
                            Value::from(hearken_export::iso8601_string(us / 1_000_000))
                        }
                        other => panic!("{name}: unexpected {other:?}"),
                    };
                    (name.clone(), v)
                })
                .collect()
        })
        .collect();
    (rows, types)
}

/// The exports the fixture covers: the four datasets and two analytics.
fn exports() -> Vec<(&'static str, ExportRequest)> {
    let mut v: Vec<(&'static str, ExportRequest)> =
        Dataset::ALL.iter().map(|&d| (d.as_str(), all(d))).collect();
    v.push((
        "scores-by-segment",
        analytic(AnalyticRequest::Scores(hearken_query::ScoresRequest {
            by: Some(hearken_query::By::Segment),
            ..Default::default()
        })),
    ));
    v.push((
        "trends",
        analytic(AnalyticRequest::Trends(Default::default())),
    ));
    v
}

#[test]
fn parquet_reads_back_cell_for_cell_as_jsonl() {
    let f = fixture();
    for (name, req) in exports() {
        // Prepared once, written twice.
        let [parquet, jsonl] =
            <[Vec<u8>; 2]>::try_from(f.formats(&req, &[Format::Parquet, Format::Jsonl])).unwrap();
        let (rows, types) = read(parquet);
        let json = parse_jsonl(&jsonl);
        assert_eq!(rows.len(), json.len(), "{name}");
        for (r, j) in rows.iter().zip(&json) {
            assert_eq!(&Value::Object(r.clone()), j, "{name}");
        }
        for (col, ty) in &types {
            let want = match json[0][col.as_str()] {
                _ if col == "at" || col == "start" || col == "customer_since" => {
                    "INT64 Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: true, unit: MICROS }))"
                }
                _ => continue,
            };
            assert_eq!(ty, want, "{name}.{col}");
        }
    }
}

/// Column statistics of rows, as the Python check computes them: per column the non-null
/// count, and the sum of numbers, the count of `true`, the total length of texts (in
/// characters) or the sum of Unix seconds of times.
fn stats(rows: &[Map<String, Value>], columns: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for (col, ty) in columns {
        let vals: Vec<&Value> = rows
            .iter()
            .map(|r| &r[col.as_str()])
            .filter(|v| !v.is_null())
            .collect();
        let mut s = Map::new();
        s.insert("non_null".into(), Value::from(vals.len()));
        let agg = if ty.contains("Timestamp") {
            Value::from(
                vals.iter()
                    .map(|v| parse_iso(v.as_str().unwrap()))
                    .sum::<i64>(),
            )
        } else if ty.starts_with("BYTE_ARRAY") {
            Value::from(
                vals.iter()
                    .map(|v| v.as_str().unwrap().chars().count())
                    .sum::<usize>(),
            )
        } else if ty.starts_with("BOOLEAN") {
            Value::from(vals.iter().filter(|v| v.as_bool() == Some(true)).count())
        } else {
            Value::from(vals.iter().map(|v| v.as_f64().unwrap()).sum::<f64>())
        };
        s.insert("agg".into(), agg);
        out.insert(col.clone(), Value::Object(s));
    }
    Value::Object(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` to Unix seconds (what the Rust side wrote, read back).
fn parse_iso(s: &str) -> i64 {
    hearken_model::Timestamp::parse("t", s, &Default::default())
        .unwrap()
        .unix()
}

#[test]
fn parquet_reads_in_duckdb_and_pandas_as_the_fixture_says() {
    let path = data_dir().join("parquet_check.json");
    let fixture_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        fixture_json["result"], "ok",
        "the Python check found a difference: {}",
        fixture_json["result"]
    );
    let f = fixture();
    for (name, req) in exports() {
        let want = &fixture_json["files"][name];
        assert!(want.is_object(), "{name} is not in {}", path.display());
        let (rows, types) = read(f.export(&req, Format::Parquet));
        assert_eq!(want["rows"].as_u64(), Some(rows.len() as u64), "{name}");
        let got = stats(&rows, &types);
        for (col, w) in want["columns"].as_object().unwrap() {
            let g = &got[col.as_str()];
            assert_eq!(g["non_null"], w["non_null"], "{name}.{col}");
            match (g["agg"].as_f64(), w["agg"].as_f64()) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{name}.{col}: {a} vs {b}"
                ),
                _ => assert_eq!(g["agg"], w["agg"], "{name}.{col}"),
            }
        }
        assert_eq!(
            want["columns"].as_object().unwrap().len(),
            types.len(),
            "{name}: the same columns"
        );
    }
}

/// A `Write` whose bytes stay readable after the writer is dropped.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_month_partitioned_export_holds_every_row_once_each_in_its_month() {
    use hearken_export::{CsvOptions, Partition};
    use std::collections::BTreeMap;
    let f = fixture();
    for (dataset, table) in [
        (Dataset::Signals, "signals"),
        (Dataset::Surveys, "surveys"),
        (Dataset::CaseEvents, "case_events"),
    ] {
        let req = all(dataset);
        let prepared =
            hearken_export::prepare(&f.store, &hearken_query::Scope::all(), &req).unwrap();
        let mut files: BTreeMap<Option<String>, Shared> = BTreeMap::new();
        let summary = prepared
            .write_partitioned(
                &f.store,
                Format::Parquet,
                Partition::Month,
                CsvOptions::default(),
                |month| {
                    assert!(
                        !files.contains_key(&month.map(str::to_string)),
                        "{month:?} opened twice"
                    );
                    let w = Shared::default();
                    files.insert(month.map(str::to_string), w.clone());
                    Ok(w)
                },
            )
            .unwrap();
        // The months are those of the rows, by SQL on the store.
        let months = f.strings(&format!(
            "SELECT DISTINCT strftime('%Y-%m', at, 'unixepoch') FROM {table} ORDER BY 1"
        ));
        let keys: Vec<String> = files.keys().map(|k| k.clone().unwrap()).collect();
        assert_eq!(keys, months, "{dataset}");
        if dataset == Dataset::Signals {
            assert!(months.len() > 1, "the fixture's signals span months");
        }
        // Every row of the whole export is in exactly one part, and in its own month.
        let mut parted: Vec<String> = Vec::new();
        for (month, w) in &files {
            let (rows, _) = read(w.0.lock().unwrap().clone());
            assert_eq!(
                rows.len() as u64,
                summary.parts[month],
                "{dataset} {month:?}"
            );
            for r in rows {
                let at = r["at"].as_str().unwrap();
                assert_eq!(Some(&at[..7]), month.as_deref(), "{dataset}");
                parted.push(Value::Object(r).to_string());
            }
        }
        let mut whole: Vec<String> = parse_jsonl(&f.export(&req, Format::Jsonl))
            .into_iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(summary.rows(), whole.len() as u64, "{dataset}");
        // DuckDB read the CLI's partitioned directory with Hive partitioning to the same counts
        // (tools/reference/exports/check_parquet.py).
        let reference: Value = serde_json::from_str(
            &std::fs::read_to_string(data_dir().join("parquet_check.json")).unwrap(),
        )
        .unwrap();
        let by_duckdb: BTreeMap<Option<String>, u64> = reference["partitioned"][dataset.as_str()]
            .as_object()
            .unwrap_or_else(|| panic!("{dataset} is not in parquet_check.json's partitioned"))
            .iter()
            .map(|(m, n)| (Some(m.clone()), n.as_u64().unwrap()))
            .collect();
        assert_eq!(summary.parts, by_duckdb, "{dataset}");
        parted.sort();
        whole.sort();
        assert_eq!(parted, whole, "{dataset}");
    }
}

#[test]
fn customers_and_analytics_cannot_be_partitioned_and_nothing_is_opened() {
    use hearken_export::{CsvOptions, Partition};
    let f = fixture();
    for req in [
        all(Dataset::Customers),
        analytic(AnalyticRequest::Trends(Default::default())),
    ] {
        let prepared =
            hearken_export::prepare(&f.store, &hearken_query::Scope::all(), &req).unwrap();
        let e = prepared
            .write_partitioned(
                &f.store,
                Format::Parquet,
                Partition::Month,
                CsvOptions::default(),
                |_| -> std::io::Result<Shared> { panic!("nothing may be opened") },
            )
            .unwrap_err();
        assert_eq!((e.code(), e.status()), ("unsupported_partition", 400));
        assert!(
            e.to_string()
                .contains("only signals, surveys and case-events"),
            "{e}"
        );
    }
}
