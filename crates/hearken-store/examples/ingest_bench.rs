//! Rows per second of live ingestion (`IngestBatch::parse` + `Store::ingest_many`) beside a file
//! import of the same rows (`Store::import_file`, what `hearken import --no-enrich` runs), each
//! into a fresh store, without enrichment (the same work on both paths; enrichment costs the
//! same per row on either).
//!
//!   cargo run --release -p hearken-store --example ingest_bench -- [ROWS] [DIR]
//!
//! ROWS (default 200000) signals as JSON objects; DIR (default a temporary directory) holds the
//! stores and the JSON Lines file, which it leaves for `hearken import` to be timed beside.
//! Single-row batches are written in groups of 64 (64 requests in flight sharing each commit,
//! as the server's group commit does) and, for comparison, one per commit. Every commit is
//! synced to disk (`IngestSettings::durable`), as the API acknowledges only durable rows; the
//! file import syncs per 20,000-row batch the store's way.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_store::{BatchLimits, BatchMeta, IngestBatch, IngestSettings, Store};

fn row(i: usize) -> String {
    let channels = ["phone", "email", "chat", "web"];
    format!(
        r#"{{"signal_id": "S{i}", "at": "2024-0{}-{:02}T{:02}:00:00Z", "channel": "{}", "kind": "complaint", "source": "customer", "customer_id": "C{}", "product_id": "P{}", "case_id": "K{}", "agent_id": "A{}", "stage": "purchased", "topic": "billing", "text": "the invoice, number {i}, was wrong and nobody called me back"}}"#,
        1 + i % 9,
        1 + i % 28,
        i % 24,
        channels[i % 4],
        i % 9_973,
        i % 13,
        i % 50_021,
        i % 57
    )
}

struct Run {
    name: String,
    rows: usize,
    parse_s: f64,
    write_s: f64,
}

impl Run {
    fn print(&self) {
        let total = self.parse_s + self.write_s;
        println!(
            "{:<44} {:>8} rows  parse {:>6.2} s  write {:>6.2} s  {:>9.0} rows/s",
            self.name,
            self.rows,
            self.parse_s,
            self.write_s,
            self.rows as f64 / total
        );
    }
}

fn ingest(
    dir: &Path,
    name: &str,
    rows: &[String],
    per_batch: usize,
    per_group: usize,
    durable: bool,
) -> Run {
    let only = std::env::var("ONLY").ok();
    if only.as_deref().is_some_and(|o| o != name) {
        return Run {
            name: format!("{name} (skipped: ONLY={})", only.unwrap_or_default()),
            rows: 0,
            parse_s: 0.0,
            write_s: 1.0,
        };
    }
    let db = dir.join(format!("{name}.db"));
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(&db).expect("store");
    let opts = ReadOptions::new(RecordKind::Signals);
    let settings = IngestSettings {
        durable,
        ..IngestSettings::default()
    };
    let (mut parse_s, mut write_s) = (0.0, 0.0);
    let mut stored = 0;
    for group in rows.chunks(per_batch * per_group) {
        let t = Instant::now();
        let batches: Vec<IngestBatch> = group
            .chunks(per_batch)
            .map(|b| {
                IngestBatch::parse(
                    b.join("\n").as_bytes(),
                    &opts,
                    BatchMeta::new("bench"),
                    BatchLimits::default(),
                )
                .expect("parse")
            })
            .collect();
        parse_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for r in store.ingest_many(batches, &settings) {
            stored += r.expect("ingest").counts.stored;
        }
        write_s += t.elapsed().as_secs_f64();
    }
    assert_eq!(stored as usize, rows.len());
    Run {
        name: format!(
            "ingest: {per_batch}-row batches, {per_group} per commit{}",
            if durable { "" } else { ", not synced" }
        ),
        rows: rows.len(),
        parse_s,
        write_s,
    }
}

fn import(dir: &Path, file: &Path) -> Run {
    let db = dir.join("import.db");
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(&db).expect("store");
    let t = Instant::now();
    let r = store
        .import_file(
            file,
            &ReadOptions::new(RecordKind::Signals),
            hearken_store::DEFAULT_BATCH,
            &mut |_| {},
        )
        .expect("import");
    Run {
        name: "import_file of the same rows (JSON Lines)".into(),
        rows: r.counts.stored as usize,
        parse_s: 0.0,
        write_s: t.elapsed().as_secs_f64(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let temp;
    let dir: PathBuf = match args.next() {
        Some(d) => PathBuf::from(d),
        None => {
            temp = tempfile::tempdir().expect("temp dir");
            temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).expect("dir");
    let rows: Vec<String> = (0..n).map(row).collect();
    let file = dir.join("signals.jsonl");
    std::fs::write(&file, rows.join("\n") + "\n").expect("write");
    println!("{n} signals; stores in {}", dir.display());
    import(&dir, &file).print();
    ingest(&dir, "batch1000", &rows, 1000, 1, true).print();
    ingest(&dir, "batch1000x4", &rows, 1000, 4, true).print();
    ingest(&dir, "batch1000-nosync", &rows, 1000, 1, false).print();
    let single = &rows[..n.min(50_000)];
    ingest(&dir, "single64", single, 1, 64, true).print();
    ingest(&dir, "single64-nosync", single, 1, 64, false).print();
    ingest(
        &dir,
        "single1",
        &single[..single.len().min(5_000)],
        1,
        1,
        true,
    )
    .print();
}
