//! Fixture loading shared by the integration tests.

use std::io::Read;
use std::path::PathBuf;

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fixture file as text, gunzipped when its name ends in `.gz`.
pub fn read_fixture(name: &str) -> String {
    let path = data_path(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if name.ends_with(".gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// One text of the VADER reference fixture with Python's output for it.
pub struct VaderCase {
    pub set: String,
    pub id: String,
    pub text: String,
    /// `json.dumps(polarity_scores(text), separators=(",", ":"))`.
    pub json: String,
    /// neg, neu, pos, compound before rounding, as Python reprs.
    pub raw: [f64; 4],
}

/// The fixture, parsed once per test binary.
pub fn vader_cases() -> &'static [VaderCase] {
    static CASES: std::sync::OnceLock<Vec<VaderCase>> = std::sync::OnceLock::new();
    CASES.get_or_init(load_vader_cases)
}

fn load_vader_cases() -> Vec<VaderCase> {
    read_fixture("vader_reference.jsonl.gz")
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let s = |key: &str| v[key].as_str().unwrap().to_owned();
            let raw: Vec<f64> = v["raw"]
                .as_array()
                .unwrap()
                .iter()
                // str::parse is correctly rounded, so the repr reads back as the exact double.
                .map(|x| x.as_str().unwrap().parse().unwrap())
                .collect();
            VaderCase {
                set: s("set"),
                id: s("id"),
                text: s("text"),
                json: s("json"),
                raw: raw.try_into().unwrap(),
            }
        })
        .collect()
}
