//! The embedded path over the Parquet lake, for benches/spark/run.sh: the lake's signals read
//! into the columns the snapshot's frames hold (a `u32` code per row for segment, product and
//! topic with their dictionaries, the time in Unix seconds, the compound as `f32`, NaN when
//! missing), then the partials of three analytics computed by Hearken's engine
//! (`hearken_engine`) as the embedded path does:
//!
//! - `sentiment_by_segment`: `scores --metric sentiment --by segment` (`sentiment_by`),
//! - `pareto_by_product`: `pareto --by product` (`EntityCounts::from_codes`),
//! - `trends_week_topic`: `trends --period week` (`period_counts`).
//!
//! ```sh
//! cargo run --release -p hearken-spark --example bench_embedded -- --lake DIR --out DIR2 [--threads 2]
//! ```
//!
//! Reading runs one thread per file on `--threads` threads (each file's own dictionaries,
//! merged after); the engine's folds run on one thread, as the CLI's do. Writes the partials
//! as sorted TSV files into `--out` (compared with Spark's and DuckDB's by compare.py) and
//! prints one JSON line with the read and compute seconds.

use std::collections::HashMap;
use std::error::Error;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use hearken_engine::keys::{GroupKey, Period};
use hearken_engine::pareto::EntityCounts;
use hearken_engine::{Dict, NONE};
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A text column as codes and the dictionary of the codes (first seen, first code).
#[derive(Default)]
struct Coded {
    codes: Vec<u32>,
    names: Vec<String>,
    index: HashMap<Vec<u8>, u32>,
}

impl Coded {
    fn push(&mut self, v: Option<&[u8]>) {
        let code = match v {
            None => NONE,
            Some(b) => match self.index.get(b) {
                Some(&c) => c,
                None => {
                    let c = self.names.len() as u32;
                    self.names.push(String::from_utf8_lossy(b).into_owned());
                    self.index.insert(b.to_vec(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }

    /// Appends `other`'s rows, recoded into this dictionary.
    fn append(&mut self, other: Coded) {
        let map: Vec<u32> = other
            .names
            .iter()
            .map(|n| {
                let key = n.as_bytes();
                match self.index.get(key) {
                    Some(&c) => c,
                    None => {
                        let c = self.names.len() as u32;
                        self.names.push(n.clone());
                        self.index.insert(key.to_vec(), c);
                        c
                    }
                }
            })
            .collect();
        self.codes.extend(
            other
                .codes
                .iter()
                .map(|&c| if c == NONE { NONE } else { map[c as usize] }),
        );
    }

    fn dict(&self) -> Dict {
        Dict {
            names: self.names.clone(),
        }
    }
}

/// The columns of the three analytics.
#[derive(Default)]
struct Frame {
    at: Vec<i64>,
    compound: Vec<f32>,
    segment: Coded,
    product: Coded,
    topic: Coded,
}

const BATCH: usize = 65_536;

fn read_file(path: &Path) -> Res<Frame> {
    let reader = SerializedFileReader::new(File::open(path)?)?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let col = |name: &str| -> Res<usize> {
        schema
            .columns()
            .iter()
            .position(|c| c.name() == name)
            .ok_or_else(|| format!("{}: no column {name}", path.display()).into())
    };
    let (i_at, i_seg, i_prod, i_topic, i_sent) = (
        col("at")?,
        col("segment")?,
        col("product_id")?,
        col("topic")?,
        col("sentiment")?,
    );
    let mut f = Frame::default();
    let mut defs: Vec<i16> = Vec::new();
    for rg in 0..meta.num_row_groups() {
        let group = reader.get_row_group(rg)?;
        let n = meta.row_group(rg).num_rows() as usize;
        // at: INT64 micros, never null in a Hearken lake of signals.
        if let ColumnReader::Int64ColumnReader(mut r) = group.get_column_reader(i_at)? {
            let mut vals = Vec::with_capacity(n);
            let mut read = 0;
            while read < n {
                defs.clear();
                let (recs, _, _) = r.read_records(BATCH, Some(&mut defs), None, &mut vals)?;
                if recs == 0 {
                    break;
                }
                read += recs;
            }
            if vals.len() != n {
                return Err(format!("{}: a signal without a time", path.display()).into());
            }
            f.at.extend(vals.iter().map(|us| us.div_euclid(1_000_000)));
        }
        if let ColumnReader::DoubleColumnReader(mut r) = group.get_column_reader(i_sent)? {
            let mut read = 0;
            let mut vals = Vec::new();
            while read < n {
                defs.clear();
                vals.clear();
                let (recs, _, _) = r.read_records(BATCH, Some(&mut defs), None, &mut vals)?;
                if recs == 0 {
                    break;
                }
                let mut v = vals.iter();
                for &d in &defs {
                    f.compound.push(if d == 1 {
                        v.next().map_or(f32::NAN, |&x| x as f32)
                    } else {
                        f32::NAN
                    });
                }
                read += recs;
            }
        }
        for (i, coded) in [
            (i_seg, &mut f.segment),
            (i_prod, &mut f.product),
            (i_topic, &mut f.topic),
        ] {
            if let ColumnReader::ByteArrayColumnReader(mut r) = group.get_column_reader(i)? {
                let mut read = 0;
                let mut vals = Vec::new();
                while read < n {
                    defs.clear();
                    vals.clear();
                    let (recs, _, _) = r.read_records(BATCH, Some(&mut defs), None, &mut vals)?;
                    if recs == 0 {
                        break;
                    }
                    let mut v = vals.iter();
                    for &d in &defs {
                        coded.push(if d == 1 {
                            v.next().map(|b| b.data())
                        } else {
                            None
                        });
                    }
                    read += recs;
                }
            }
        }
    }
    let n = f.at.len();
    if [
        f.compound.len(),
        f.segment.codes.len(),
        f.product.codes.len(),
        f.topic.codes.len(),
    ]
    .iter()
    .any(|&l| l != n)
    {
        return Err(format!("{}: columns of different lengths", path.display()).into());
    }
    Ok(f)
}

fn files(lake: &Path) -> Res<Vec<PathBuf>> {
    let mut out = Vec::new();
    let signals = lake.join("signals");
    for month in std::fs::read_dir(&signals)? {
        let month = month?.path();
        for part in std::fs::read_dir(&month)? {
            out.push(part?.path());
        }
    }
    out.sort();
    Ok(out)
}

fn main() -> Res<()> {
    let mut lake = PathBuf::new();
    let mut out = PathBuf::new();
    let mut threads = 2usize;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--lake" => lake = v.into(),
            "--out" => out = v.into(),
            "--threads" => threads = v.parse()?,
            _ => return Err(format!("unknown option {k}").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let started = Instant::now();
    let paths = files(&lake)?;
    // Read: files taken in turn by `threads` threads, merged in file order.
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<(usize, Frame)>> = Mutex::new(Vec::new());
    let failed: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(p) = paths.get(i) else { break };
                    match read_file(p) {
                        Ok(f) => done.lock().unwrap_or_else(|e| e.into_inner()).push((i, f)),
                        Err(e) => {
                            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e.into());
    }
    let mut parts = done.into_inner().unwrap_or_else(|e| e.into_inner());
    parts.sort_by_key(|(i, _)| *i);
    let mut f = Frame::default();
    for (_, p) in parts {
        f.at.extend_from_slice(&p.at);
        f.compound.extend_from_slice(&p.compound);
        f.segment.append(p.segment);
        f.product.append(p.product);
        f.topic.append(p.topic);
    }
    let read_s = started.elapsed().as_secs_f64();
    let n = f.at.len();

    // Compute: the engine's folds, as the embedded analytics call them.
    let t0 = Instant::now();
    let seg_dict = f.segment.dict();
    let sentiment = hearken_engine::scores::sentiment_by(
        &f.compound,
        &GroupKey::borrowed(&f.segment.codes, &seg_dict),
        0..n,
    )?;
    let t_sent = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let pareto = EntityCounts::from_codes(&f.product.codes, f.product.names.len(), 0..n);
    let t_pareto = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let (lo, hi) =
        f.at.iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    let (first, last) = (Period::Week.index(lo), Period::Week.index(hi));
    let trends = hearken_engine::trends::period_counts(
        &f.at,
        &f.topic.codes,
        f.topic.names.len(),
        Period::Week,
        first,
        last,
        0..n,
    )?;
    let t_trends = t2.elapsed().as_secs_f64();

    // The partials as sorted TSV.
    let mut lines = Vec::new();
    let none = "(none)".to_string();
    for (code, t) in sentiment
        .groups
        .iter()
        .enumerate()
        .map(|(i, t)| (Some(i), t))
        .chain([(None, &sentiment.none)])
    {
        let name = code.map_or(&none, |i| &seg_dict.names[i]);
        if t.n() + t.unscored > 0 {
            lines.push(format!(
                "{name}\t{}\t{}\t{}\t{}\t{:.9e}",
                t.positive, t.neutral, t.negative, t.unscored, t.sum
            ));
        }
    }
    write_sorted(&out.join("sentiment_by_segment.tsv"), lines)?;
    let mut lines: Vec<String> = pareto
        .counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| format!("{}\t{c}", f.product.names[i]))
        .collect();
    if pareto.none > 0 {
        lines.push(format!("(none)\t{}", pareto.none));
    }
    write_sorted(&out.join("pareto_by_product.tsv"), lines)?;
    let mut lines = Vec::new();
    for t in 0..=trends.topics {
        let name = f.topic.names.get(t).unwrap_or(&none);
        for p in 0..trends.periods {
            let c = trends.get(t, p);
            if c > 0 {
                lines.push(format!("{}\t{name}\t{c}", first + p as i64));
            }
        }
    }
    write_sorted(&out.join("trends_week_topic.tsv"), lines)?;
    println!(
        "{{\"rows\":{n},\"files\":{},\"read_s\":{read_s:.3},\"sentiment_by_segment_s\":{t_sent:.3},\"pareto_by_product_s\":{t_pareto:.3},\"trends_week_topic_s\":{t_trends:.3},\"total_s\":{:.3}}}",
        paths.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn write_sorted(path: &Path, mut lines: Vec<String>) -> Res<()> {
    lines.sort();
    let mut f = std::io::BufWriter::new(File::create(path)?);
    for l in lines {
        writeln!(f, "{l}")?;
    }
    f.flush()?;
    Ok(())
}
