//! Shared test data: banking77, vendored in tests/data/banking77 (CC-BY-4.0, see its README),
//! and the scikit-learn reference figures written by tools/reference/topics/sklearn_baseline.py.

use std::path::PathBuf;

/// `tests/data/banking77` of this crate. Fails loudly when it is missing: a skipped accuracy
/// test would look like a passing one.
pub fn banking77_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/banking77");
    assert!(
        dir.join("train.csv").is_file() && dir.join("test.csv").is_file(),
        "banking77 not found at {}; it is vendored in the repository \
         (crates/hearken-topics/tests/data/banking77/{{train,test}}.csv): restore it with git",
        dir.display()
    );
    dir
}

/// `(text, category)` rows of a banking77 CSV file.
pub fn load(name: &str) -> Vec<(String, String)> {
    let path = banking77_dir().join(name);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (rec[0].to_string(), rec[1].to_string())
        })
        .collect()
}

pub fn pairs(rows: &[(String, String)]) -> Vec<(&str, &str)> {
    rows.iter().map(|(t, l)| (t.as_str(), l.as_str())).collect()
}

/// The fixture written by the scikit-learn reference script.
pub fn reference() -> serde_json::Value {
    let text = include_str!("../data/sklearn_reference.json");
    serde_json::from_str(text).expect("tests/data/sklearn_reference.json is valid JSON")
}

pub fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn labels(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .expect("an array of labels")
        .iter()
        .map(|x| x.as_u64().expect("a label") as usize)
        .collect()
}
