use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

pub const ONE_SECOND_H: f64 = 1.0 / 3600.0;

pub fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// The PM4Py fixture, kept with the flow crate whose figures it pins.
pub fn reference() -> &'static Value {
    static R: OnceLock<Value> = OnceLock::new();
    R.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../hearken-flow/tests/data/pm4py_reference.json");
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
    })
}

/// Durations agree within one second (None on both sides when there is no data).
pub fn close(ours: Option<f64>, theirs: &Value, what: &str) {
    match (ours, theirs.as_f64()) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= ONE_SECOND_H,
            "{what}: ours {a} h, PM4Py {b} h ({} s apart)",
            (a - b).abs() * 3600.0
        ),
        (None, None) => {}
        (a, b) => panic!("{what}: ours {a:?}, PM4Py {b:?}"),
    }
}
