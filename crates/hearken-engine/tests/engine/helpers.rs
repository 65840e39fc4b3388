//! Fixture loading and comparison for the engine's integration tests. The fixtures under
//! `tests/data/` are written by `tools/reference/stats/make_reference.py` (scipy, statsmodels,
//! numpy, pandas); nothing here computes an expected value.

use std::path::PathBuf;

use hearken_engine::scores::MISSING_SCORE;
use hearken_engine::{Dict, NONE, SignalFrame, SurveyFrame};
use serde_json::Value;

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn expected() -> Value {
    let text = std::fs::read_to_string(data("expected.json")).expect("fixture expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// `a` equals the reference `b` to ~1e-9 relative (plus 1e-12 absolute for values near zero).
#[track_caller]
pub fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs() + 1e-12,
        "{what}: engine {a} vs reference {b} (diff {:e})",
        (a - b).abs()
    );
}

/// Compares an optional engine value with a JSON number or null.
#[track_caller]
pub fn close_opt(a: Option<f64>, b: &Value, what: &str) {
    match (a, b.as_f64()) {
        (Some(a), Some(b)) => close(a, b, what),
        (None, None) => {}
        (a, _) => panic!("{what}: engine {a:?} vs reference {b}"),
    }
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number in the fixture")
}

pub fn u(v: &Value) -> u64 {
    v.as_u64().expect("a count in the fixture")
}

pub fn u8s(v: &Value) -> Vec<u8> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_u64().expect("an integer score") as u8)
        .collect()
}

pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().map_or(f32::NAN, |x| x as f32))
        .collect()
}

fn rows(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(data(name)).expect("fixture csv");
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let body = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, body)
}

fn col<'a>(h: &[String], body: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = h.iter().position(|c| c == name).expect("column");
    body.iter().map(|r| r[i].as_str()).collect()
}

fn score(s: &str) -> u8 {
    if s.is_empty() {
        MISSING_SCORE
    } else {
        s.parse::<f64>().expect("score") as u8
    }
}

fn rating(s: &str) -> f32 {
    if s.is_empty() {
        f32::NAN
    } else {
        s.parse().expect("rating")
    }
}

fn code(s: &str) -> u32 {
    if s.is_empty() {
        NONE
    } else {
        s.parse::<f64>().expect("code") as u32
    }
}

/// Survey fixture as a frame, plus the segment of each response as codes into a dictionary
/// (segment is a customer attribute in the product; here it is carried per response).
pub fn surveys() -> (SurveyFrame, Vec<u32>, Dict) {
    let (h, b) = rows("surveys.csv");
    let mut seg_dict = Dict::default();
    let segment = col(&h, &b, "segment")
        .into_iter()
        .map(|s| {
            if s.is_empty() {
                return NONE;
            }
            match seg_dict.names.iter().position(|n| n == s) {
                Some(i) => i as u32,
                None => {
                    seg_dict.names.push(s.to_string());
                    (seg_dict.names.len() - 1) as u32
                }
            }
        })
        .collect();
    let n = b.len();
    let frame = SurveyFrame {
        case: Vec::new(),
        at: col(&h, &b, "at")
            .iter()
            .map(|s| s.parse().expect("at"))
            .collect(),
        customer: vec![NONE; n],
        product: vec![NONE; n],
        agent: vec![NONE; n],
        channel: vec![0; n],
        nps: col(&h, &b, "nps").into_iter().map(score).collect(),
        csat: col(&h, &b, "csat").into_iter().map(score).collect(),
        ces: col(&h, &b, "ces").into_iter().map(score).collect(),
        overall: col(&h, &b, "overall").into_iter().map(rating).collect(),
        aspects: [
            "aspect_service",
            "aspect_product",
            "aspect_price",
            "aspect_ease",
        ]
        .iter()
        .map(|a| {
            (
                a.to_string(),
                col(&h, &b, a).into_iter().map(rating).collect(),
            )
        })
        .collect(),
        ..SurveyFrame::default()
    };
    (frame, segment, seg_dict)
}

fn dict(v: &Value) -> Dict {
    Dict {
        names: v
            .as_array()
            .expect("names")
            .iter()
            .map(|s| s.as_str().expect("a name").to_string())
            .collect(),
    }
}

/// Signal fixture as a frame, and yearly value per customer code (NaN when unknown).
pub fn signals(expected: &Value) -> (SignalFrame, Vec<f64>) {
    let (h, b) = rows("signals.csv");
    let n = b.len();
    let frame = SignalFrame {
        id: Vec::new(),
        at: col(&h, &b, "at")
            .iter()
            .map(|s| s.parse().expect("at"))
            .collect(),
        channel: vec![0; n],
        kind: vec![0; n],
        source: vec![1; n],
        customer: col(&h, &b, "customer").into_iter().map(code).collect(),
        product: col(&h, &b, "product").into_iter().map(code).collect(),
        agent: vec![NONE; n],
        case: vec![NONE; n],
        stage: vec![NONE; n],
        topic: col(&h, &b, "topic").into_iter().map(code).collect(),
        sentiment: col(&h, &b, "sentiment").into_iter().map(rating).collect(),
        customers: dict(&expected["dicts"]["customers"]),
        products: dict(&expected["dicts"]["products"]),
        topics: dict(&expected["dicts"]["topics"]),
        ..SignalFrame::default()
    };
    let (ch, cb) = rows("customers.csv");
    let value = col(&ch, &cb, "value_per_year")
        .into_iter()
        .map(|s| {
            if s.is_empty() {
                f64::NAN
            } else {
                s.parse().expect("value")
            }
        })
        .collect();
    (frame, value)
}

/// Folds `0..len` as three uneven chunks and merges them, the way the CLI splits work across
/// threads (the real thread pool, `par_fold`, runs inline below 64k rows).
pub fn split_fold<S: hearken_engine::Partial>(
    len: usize,
    fold: impl Fn(std::ops::Range<usize>) -> S,
) -> S {
    let (a, b) = (len / 5, len / 2);
    let mut s = fold(0..a);
    s.merge(&fold(a..b));
    s.merge(&fold(b..len));
    s
}
