//! Shared fixtures: one generated data set per test binary, read back with the csv crate, and
//! the canonical column lists parsed from docs/formats.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hearken_gen::{GenConfig, Truth, generate};

/// The config every test reads: small enough for a debug build, big enough for the statistics.
pub fn config() -> GenConfig {
    GenConfig {
        customers: 4_000,
        months: 6,
        seed: 7,
        ..GenConfig::default()
    }
}

pub struct Data {
    pub dir: PathBuf,
    pub truth: Truth,
    pub cfg: GenConfig,
    _keep: tempfile::TempDir,
}

/// The shared data set, generated once.
pub fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("out");
        let cfg = config();
        let summary = generate(&cfg, &dir, &|_| {}).expect("generate");
        let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
        let truth = Truth::from_json(&text).expect("truth parses");
        assert_eq!(truth, summary.truth, "truth.json is the returned truth");
        Data {
            dir,
            truth,
            cfg,
            _keep: tmp,
        }
    })
}

/// A CSV file as its header and rows of strings.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }
}

pub fn read(dir: &Path, file: &str) -> Table {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(dir.join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.unwrap_or_else(|e| panic!("{file}: {e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    Table { header, rows }
}

/// Column names per file from the tables of docs/formats.md, in order. An `aspect_*NAME*` row
/// is returned as `aspect_*` for the caller to expand.
pub fn canonical_columns() -> BTreeMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats.md");
    let text = std::fs::read_to_string(&path).expect("docs/formats.md");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = h
                .split_whitespace()
                .next()
                .filter(|f| f.ends_with(".csv"))
                .map(str::to_string);
            continue;
        }
        let Some(file) = &current else { continue };
        let Some(cell) = line.strip_prefix('|').and_then(|l| l.split('|').next()) else {
            continue;
        };
        let cell = cell.trim();
        if cell == "column" || cell.starts_with("---") {
            continue;
        }
        for name in cell.split(',') {
            let name = name.trim();
            let name = if name.starts_with("aspect_") {
                "aspect_*".to_string()
            } else {
                name.trim_end_matches('*').to_string()
            };
            out.entry(file.clone()).or_default().push(name);
        }
    }
    out
}

/// Ordinary least squares by Householder QR, independent of the generator's own normal-equation
/// solver: returns [intercept, b1, ...].
// Matrix code reads closer to the textbook with explicit indices.
#[allow(clippy::needless_range_loop)]
pub fn ols(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let p = x[0].len() + 1;
    let mut a: Vec<Vec<f64>> = x
        .iter()
        .map(|row| std::iter::once(1.0).chain(row.iter().copied()).collect())
        .collect();
    let mut b = y.to_vec();
    for k in 0..p {
        let norm = (k..n).map(|i| a[i][k] * a[i][k]).sum::<f64>().sqrt();
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (k..n).map(|i| a[i][k]).collect();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        for j in k..p {
            let dot: f64 = (k..n).map(|i| v[i - k] * a[i][j]).sum();
            for i in k..n {
                a[i][j] -= 2.0 * dot / vnorm2 * v[i - k];
            }
        }
        let dot: f64 = (k..n).map(|i| v[i - k] * b[i]).sum();
        for i in k..n {
            b[i] -= 2.0 * dot / vnorm2 * v[i - k];
        }
    }
    let mut beta = vec![0.0; p];
    for k in (0..p).rev() {
        let s: f64 = (k + 1..p).map(|j| a[k][j] * beta[j]).sum();
        beta[k] = (b[k] - s) / a[k][k];
    }
    beta
}

pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let vy: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    cov / (vx * vy).sqrt()
}

/// Share of the total held by the top 20% of the values (ties broken arbitrarily).
pub fn top20(mut counts: Vec<u64>) -> f64 {
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let k = counts.len().div_ceil(5);
    let total: u64 = counts.iter().sum();
    counts[..k].iter().sum::<u64>() as f64 / total as f64
}
