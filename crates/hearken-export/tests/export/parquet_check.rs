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
