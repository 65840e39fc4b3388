//! The Spark path over the Parquet lake, for benches/spark/run.sh: the Spark SQL of the
//! partials `hearken_spark` sends for three analytics (`scores::query`, `counts::pareto_query`,
//! `counts::trends_query`), run through Spark Connect and timed, each result folded into the
//! same sorted TSV as bench_embedded writes (compared by compare.py):
//!
//! - `sentiment_by_segment`: `scores --metric sentiment --by segment`,
//! - `pareto_by_product`: `pareto --by product`,
//! - `trends_week_topic`: `trends --period week`.
//!
//! ```sh
//! cargo run -p hearken-spark --features spark --example bench_spark -- --engine sc://HOST:PORT --lake DIR --out DIR2
//! ```
//!
//! The answers are a few hundred rows, so the client's work is negligible beside the cluster's
//! and a debug build of this program times the same thing as a release one. Prints one JSON line
//! with each query's wall seconds.

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hearken_query::{By, Filters, Metric, Period};
use hearken_spark::{Cell, Sql};

type Res<T> = Result<T, Box<dyn Error>>;

fn text(c: Option<&Cell>) -> String {
    match c {
        Some(Cell::Text(s)) => s.clone(),
        _ => "(none)".into(),
    }
}

fn int(c: Option<&Cell>) -> Res<i64> {
    match c {
        Some(Cell::Int(v)) => Ok(*v),
        Some(Cell::Null) => Ok(0),
        other => Err(format!("expected an integer, got {other:?}").into()),
    }
}

fn main() -> Res<()> {
    let mut engine = String::new();
    let mut lake = PathBuf::new();
    let mut out = PathBuf::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--engine" => engine = v,
            "--lake" => lake = v.into(),
            "--out" => out = v.into(),
            _ => return Err(format!("unknown option {k}").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let spark = hearken_spark::connect(&engine)?;
    let lake = hearken_spark::Lake::open(&lake)?;
    let (dir, _) = lake.table(hearken_spark::Table::Signals)?;
    let all = Filters::default();

    let t = Instant::now();
    let rows = spark.rows(&hearken_spark::scores::query(
        &dir,
        Metric::Sentiment,
        Some(By::Segment),
        &all,
    )?)?;
    let t_sent = t.elapsed().as_secs_f64();
    let mut lines = Vec::new();
    for r in &rows {
        let (pos, neg, unscored, n) = (
            int(r.get(1))?,
            int(r.get(2))?,
            int(r.get(3))?,
            int(r.get(4))?,
        );
        let sum = match r.get(5) {
            Some(Cell::Float(x)) => *x,
            _ => 0.0,
        };
        lines.push(format!(
            "{}\t{pos}\t{}\t{neg}\t{unscored}\t{sum:.9e}",
            text(r.first()),
            n - pos - neg - unscored
        ));
    }
    write_sorted(&out.join("sentiment_by_segment.tsv"), lines)?;

    let t = Instant::now();
    let rows = spark.rows(&hearken_spark::counts::pareto_query(
        &dir,
        By::Product,
        &all,
    )?)?;
    let t_pareto = t.elapsed().as_secs_f64();
    let lines = rows
        .iter()
        .map(|r| Ok(format!("{}\t{}", text(r.first()), int(r.get(1))?)))
        .collect::<Res<Vec<_>>>()?;
    write_sorted(&out.join("pareto_by_product.tsv"), lines)?;

    let t = Instant::now();
    let rows = spark.rows(&hearken_spark::counts::trends_query(
        &dir,
        Period::Week,
        &all,
    )?)?;
    let t_trends = t.elapsed().as_secs_f64();
    let lines = rows
        .iter()
        .map(|r| {
            Ok(format!(
                "{}\t{}\t{}",
                text(r.first()),
                text(r.get(1)),
                int(r.get(2))?
            ))
        })
        .collect::<Res<Vec<_>>>()?;
    write_sorted(&out.join("trends_week_topic.tsv"), lines)?;
    println!(
        "{{\"sentiment_by_segment_s\":{t_sent:.3},\"pareto_by_product_s\":{t_pareto:.3},\"trends_week_topic_s\":{t_trends:.3},\"total_s\":{:.3}}}",
        t_sent + t_pareto + t_trends
    );
    Ok(())
}

fn write_sorted(path: &Path, mut lines: Vec<String>) -> Res<()> {
    lines.sort();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for l in lines {
        writeln!(f, "{l}")?;
    }
    f.flush()?;
    Ok(())
}
