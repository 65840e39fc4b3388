//! Writes ROWS generated signals straight into a Parquet lake, for benches/spark/run.sh.
//!
//! ```sh
//! cargo run --release -p hearken-spark --example bench_lake -- --rows 100000000 --out DIR
//! ```
//!
//! A 100M-signal CSV (about 20 GB) or store would not fit beside the lake on the benchmark's
//! machine, so nothing of the kind is written: `hearken_gen::generate` writes its `signals.csv`
//! into a named pipe this program reads, its surveys and case events go to `/dev/null`, and each
//! signal is written at once to `DIR/signals/month=YYYY-MM/part-00000.parquet` with the
//! exporter of `hearken export signals --format parquet --partition month`, in the lake's
//! documented columns (docs/formats.md): the customer's name and segment, the product's name,
//! the agent's name and team looked up from the generator's other files, the sentiment and
//! language as the import computes them (`hearken_text::score`, the compound kept as the
//! store's `f32`), no redactions, the source's topic (there is no topic model here, so a signal
//! without a labelled topic has none). The generator writes a chunk's customers before its
//! signals, so `customers.csv` is read as it grows. The rows are those of one organisation
//! whose customer count is chosen to give at least ROWS signals; the stream is cut at ROWS.
//! Prints one JSON line: rows, bytes, seconds.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use hearken_export::export::{Exporter, exporter};
use hearken_export::{Column, CsvOptions, Format, SIGNAL_COLUMNS, Value};

type Res<T> = Result<T, Box<dyn Error>>;

struct Args {
    rows: u64,
    out: PathBuf,
    months: u32,
    seed: u64,
    /// Bytes that must stay free on the lake's disk (shared with others): checked every 2M rows.
    min_free: u64,
}

fn args() -> Res<Args> {
    let mut a = Args {
        rows: 0,
        out: PathBuf::new(),
        months: 10,
        seed: 1,
        min_free: 8 << 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--rows" => a.rows = v.parse()?,
            "--out" => a.out = PathBuf::from(v),
            "--months" => a.months = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            "--min-free-gb" => a.min_free = v.parse::<u64>()? << 30,
            _ => return Err(format!("unknown option {k}").into()),
        }
    }
    if a.rows == 0 || a.out.as_os_str().is_empty() {
        return Err(
            "usage: bench_lake --rows N --out DIR [--months 10] [--seed 1] [--min-free-gb 8]"
                .into(),
        );
    }
    Ok(a)
}

/// `2025-02-13T12:21:12Z` -> Unix seconds.
fn unix(at: &str) -> Option<i64> {
    let b = at.as_bytes();
    if b.len() != 20 || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| at.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// A CSV file read as it grows: only complete lines are parsed.
struct Tail {
    file: File,
    pending: Vec<u8>,
    header: bool,
}

impl Tail {
    fn open(path: &Path) -> Res<Tail> {
        Ok(Tail {
            file: File::open(path)?,
            pending: Vec::new(),
            header: true,
        })
    }

    /// Reads what was appended and passes each complete record's fields to `f`.
    fn more(&mut self, mut f: impl FnMut(&csv::StringRecord)) -> Res<usize> {
        let before = self.pending.len();
        self.file.read_to_end(&mut self.pending)?;
        let Some(last_nl) = self.pending.iter().rposition(|&c| c == b'\n') else {
            return Ok(self.pending.len() - before);
        };
        let complete: Vec<u8> = self.pending.drain(..=last_nl).collect();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(self.header)
            .from_reader(complete.as_slice());
        self.header = false;
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec)? {
            f(&rec);
        }
        Ok(self.pending.len() + complete.len() - before)
    }
}

fn opt(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}

fn read_all(path: &Path) -> Res<HashMap<String, (String, String)>> {
    let mut out = HashMap::new();
    let mut r = csv::Reader::from_path(path)?;
    for rec in r.records() {
        let rec = rec?;
        out.insert(rec[0].to_string(), (rec[1].to_string(), rec[2].to_string()));
    }
    Ok(out)
}

fn main() -> Res<()> {
    let a = args()?;
    if a.out.exists() {
        return Err(format!("{} exists: give a new folder", a.out.display()).into());
    }
    let parent = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // About 50 bytes a signal in the lake (measured at 1M: 49,982,655 bytes).
    let free = free_bytes(parent)?;
    if free < a.min_free + a.rows * 50 {
        return Err(format!(
            "{free} bytes free on {}: not enough for a lake of {} signals (about {} bytes) with --min-free-gb left",
            parent.display(),
            a.rows,
            a.rows * 50
        )
        .into());
    }
    let started = Instant::now();
    let gen_dir = a.out.with_extension("gen");
    std::fs::create_dir_all(&gen_dir)?;
    let status = std::process::Command::new("mkfifo")
        .arg(gen_dir.join("signals.csv"))
        .status()?;
    if !status.success() {
        return Err("mkfifo failed".into());
    }
    for f in ["surveys.csv", "case_events.csv"] {
        std::os::unix::fs::symlink("/dev/null", gen_dir.join(f))?;
    }
    let mut cfg = hearken_gen::GenConfig {
        months: a.months,
        seed: a.seed,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    // About `signals_per_customer_month` signals per customer and month: 5% more customers
    // than that needs, and the stream is cut at ROWS.
    cfg.customers = ((a.rows as f64) / (f64::from(a.months) * cfg.signals_per_customer_month)
        * 1.05) as u64
        + 1000;
    let gen_cfg = cfg.clone();
    let gen_out = gen_dir.clone();
    let generator = std::thread::spawn(move || {
        hearken_gen::generate(&gen_cfg, &gen_out, &|_| {}).map_err(|e| e.to_string())
    });
    // Blocks until the generator opens the pipe (after customers.csv, products.csv, agents.csv).
    let pipe = File::open(gen_dir.join("signals.csv"))?;
    let mut signals = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, pipe));
    let mut customers_tail = Tail::open(&gen_dir.join("customers.csv"))?;
    let mut customers: HashMap<String, (String, u8)> = HashMap::new();
    let mut segments: Vec<String> = Vec::new();
    let columns: Vec<Column> = SIGNAL_COLUMNS
        .iter()
        .map(|&(n, t)| Column::new(n, t))
        .collect();
    let mut writers: BTreeMap<String, Box<dyn Exporter>> = BTreeMap::new();
    // Sentiment of a text, as the import scores it (the memo is cleared when it grows large).
    let mut memo: HashMap<String, (Option<f64>, &'static str)> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    let mut rows = 0u64;
    let mut more = signals.read_record(&mut rec)?;
    // The products and agents are complete before the first signal is written.
    let products = read_all(&gen_dir.join("products.csv"))?;
    let agents = read_all(&gen_dir.join("agents.csv"))?;
    while rows < a.rows && more {
        let customer_id = &rec[5];
        if !customer_id.is_empty() && !customers.contains_key(customer_id) {
            loop {
                let n = customers_tail.more(|c| {
                    let seg = match segments.iter().position(|s| s == &c[2]) {
                        Some(i) => i,
                        None => {
                            segments.push(c[2].to_string());
                            segments.len() - 1
                        }
                    };
                    customers.insert(c[0].to_string(), (c[1].to_string(), seg as u8));
                })?;
                if customers.contains_key(customer_id) {
                    break;
                }
                if n == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
        let at = unix(&rec[1]).ok_or_else(|| format!("a time that does not parse: {}", &rec[1]))?;
        let month = hearken_export::iso8601_string(at)[..7].to_string();
        let text = &rec[11];
        let (sentiment, language) = if text.is_empty() {
            (None, None)
        } else {
            if !memo.contains_key(text) {
                if memo.len() >= 4_000_000 {
                    memo.clear();
                }
                let scored = hearken_text::score(text);
                let s = scored.sentiment().map(|s| f64::from(s.compound as f32));
                memo.insert(text.to_string(), (s, scored.language().code()));
            }
            let (s, l) = memo[text];
            (s, Some(l))
        };
        let cust = customers.get(customer_id);
        let prod = products.get(&rec[6]);
        let agent = agents.get(&rec[8]);
        let row = [
            Value::text(opt(&rec[0])),
            Value::Time(at),
            Value::text(opt(&rec[2])),
            Value::text(opt(&rec[3])),
            Value::text(opt(&rec[4])),
            Value::text(opt(customer_id)),
            Value::text(cust.map(|c| c.0.as_str())),
            Value::text(cust.map(|c| segments[c.1 as usize].as_str())),
            Value::text(opt(&rec[6])),
            Value::text(prod.map(|p| p.0.as_str())),
            Value::text(opt(&rec[8])),
            Value::text(agent.map(|p| p.0.as_str())),
            Value::text(agent.map(|p| p.1.as_str())),
            Value::text(opt(&rec[7])),
            Value::text(opt(&rec[9])),
            Value::text(opt(&rec[10])),
            Value::Bool(false),
            Value::Null,
            Value::float(sentiment),
            Value::text(language),
            Value::Int(0),
            Value::text(opt(text)),
        ];
        let w = match writers.get_mut(&month) {
            Some(w) => w,
            None => {
                let dir = a.out.join("signals").join(format!("month={month}"));
                std::fs::create_dir_all(&dir)?;
                let file = BufWriter::with_capacity(
                    1 << 20,
                    File::create(dir.join(hearken_export::part_file(Format::Parquet)))?,
                );
                let mut w = exporter(Format::Parquet, file, CsvOptions::default())?;
                w.begin(&columns)?;
                writers.entry(month).or_insert(w)
            }
        };
        w.row(&row)?;
        rows += 1;
        if rows.is_multiple_of(2_000_000) {
            let free = free_bytes(&a.out)?;
            if free < a.min_free {
                drop(writers);
                std::fs::remove_dir_all(&a.out)?;
                let _ = std::fs::remove_dir_all(&gen_dir);
                return Err(format!(
                    "stopped after {rows} signals: {free} bytes free on the lake's disk, below --min-free-gb; the lake was removed"
                )
                .into());
            }
        }
        if rows.is_multiple_of(10_000_000) {
            eprintln!("{rows} signals in {:.0} s", started.elapsed().as_secs_f64());
        }
        more = signals.read_record(&mut rec)?;
    }
    // Stop the generator: it fails writing to the closed pipe once ROWS are in.
    drop(signals);
    let generated = generator
        .join()
        .map_err(|_| "the generator thread panicked")?;
    if rows < a.rows {
        return Err(format!(
            "the generator stopped after {rows} signals ({generated:?}); ask for more customers"
        )
        .into());
    }
    for (_, mut w) in writers {
        w.finish()?;
    }
    std::fs::remove_dir_all(&gen_dir)?;
    let bytes = dir_bytes(&a.out)?;
    println!(
        "{{\"rows\":{rows},\"bytes\":{bytes},\"customers\":{},\"seconds\":{:.1}}}",
        customers.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Free bytes on the file system of `dir` (`df`, as the crate forbids the unsafe a statvfs
/// call needs).
fn free_bytes(dir: &Path) -> Res<u64> {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("df gave no free space for {}: {text}", dir.display()))?)
}

fn dir_bytes(dir: &Path) -> Res<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        n += if e.file_type()?.is_dir() {
            dir_bytes(&e.path())?
        } else {
            e.metadata()?.len()
        };
    }
    Ok(n)
}
