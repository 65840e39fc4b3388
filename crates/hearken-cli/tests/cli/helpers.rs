//! Running the real `hearken` binary against a fresh store in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("hearken").expect("binary");
        c.current_dir(self.dir.path())
            .env("HEARKEN_DB", self.db())
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run hearken")
    }

    /// Imports and returns the `--json` summary; fails the test on a non-zero exit.
    pub fn import(&self, file: &Path, kind: &str, extra: &[&str]) -> Value {
        let out = self
            .cmd()
            .arg("import")
            .arg(file)
            .args(["--kind", kind, "--json"])
            .args(extra)
            .output()
            .expect("run import");
        assert!(
            out.status.success(),
            "import failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("import --json prints JSON");
        assert_reconciles(&v);
        v
    }

    pub fn status(&self) -> Value {
        let out = self.run(&["status", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    pub fn quarantine(&self) -> Vec<Value> {
        let out = self.run(&["quarantine", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("quarantine JSON");
        v["entries"].as_array().expect("quarantine entries").clone()
    }
}

pub fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no integer '{key}' in {v}"))
}

pub fn assert_reconciles(v: &Value) {
    assert_eq!(
        n(v, "read"),
        n(v, "stored")
            + n(v, "duplicates")
            + n(v, "quarantined")
            + v["skipped"].as_u64().unwrap_or(0),
        "counts do not reconcile: {v}"
    );
}

/// A failed run: non-zero, not a panic (101), one line on stderr.
pub fn assert_clean_failure(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert_ne!(out.status.code(), Some(101), "panicked: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert!(
        err.starts_with("error: "),
        "stderr should start with 'error: ': {err}"
    );
    err
}

pub const SIGNALS_HEADER: &str =
    "signal_id,at,channel,kind,source,customer_id,product_id,case_id,agent_id,stage,topic,text\n";

/// `n` valid canonical signal rows.
pub fn signals_csv(n: usize) -> String {
    let mut s = String::from(SIGNALS_HEADER);
    let channels = ["phone", "email", "chat", "web"];
    for i in 0..n {
        s.push_str(&format!(
            "S{i},2024-0{}-{:02}T{:02}:00:00Z,{},complaint,customer,C{},P{},K{},A{},purchased,billing,\"the invoice, number {i}, was wrong\"\n",
            1 + i % 9,
            1 + i % 28,
            i % 24,
            channels[i % 4],
            i % 97,
            i % 13,
            i % 501,
            i % 7
        ));
    }
    s
}
