//! Benchmark driver for benches/flow/bench.py (not a test).
//!
//! `flow_bench run LOG [--repeat N]` reads LOG and computes every flow figure (N times), then
//! prints one JSON line with the mean wall and CPU times per run and the peak resident memory. `flow_bench generate SOURCE EVENTS OUT.xes` writes a
//! synthetic XES log of about EVENTS events by repeating SOURCE's cases under new case ids (each
//! copy shifted by a day), so large logs keep a real log's activity and resource mix.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use hearken_eventlog::{ReadOptions, read_path};
use hearken_flow::{FlowConfig, NONE, analyze};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of this process (all threads, including finished ones) from /proc/self/stat, in
/// seconds. Clock ticks are 1/100 s on Linux (USER_HZ); small inputs are run repeatedly so the
/// tick size does not matter.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn run(path: &Path, repeat: usize) -> anyhow::Result<()> {
    let repeat = repeat.max(1);
    let c0 = cpu_s();
    let (mut read_s, mut analyze_s) = (0.0, 0.0);
    let mut last = None;
    for _ in 0..repeat {
        let t0 = Instant::now();
        let (log, quarantined) = read_path(path, &ReadOptions::default())?;
        read_s += t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let report = analyze(&log, &FlowConfig::default());
        analyze_s += t1.elapsed().as_secs_f64();
        last = Some((report, quarantined.len()));
    }
    let cpu = (cpu_s() - c0) / repeat as f64;
    let (read_s, analyze_s) = (read_s / repeat as f64, analyze_s / repeat as f64);
    let Some((report, quarantined)) = last else {
        bail!("nothing was run");
    };
    println!(
        "{}",
        serde_json::json!({
            "events": report.events,
            "cases": report.cases,
            "quarantined": quarantined,
            "dfg_edges": report.dfg_edges,
            "dfg_total": report.dfg_total,
            "handover_pairs": report.handover_pairs,
            "read_s": read_s,
            "analyze_s": analyze_s,
            "total_s": read_s + analyze_s,
            "cpu_s": cpu,
            "repeat": repeat,
            "peak_rss_mb": peak_rss_mb(),
        })
    );
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn generate(source: &Path, events: usize, out: &Path) -> anyhow::Result<()> {
    let (log, _) = read_path(source, &ReadOptions::default())?;
    if log.is_empty() {
        bail!("{} has no events", source.display());
    }
    // Events of each case, in input order (XES keeps a trace's events together).
    let mut by_case: Vec<Vec<usize>> = vec![Vec::new(); log.case_dict().len()];
    for (i, &c) in log.case_codes().iter().enumerate() {
        by_case[c as usize].push(i);
    }
    let acts: Vec<String> = log.activity_dict().names().map(esc).collect();
    let res: Vec<String> = log.resource_dict().names().map(esc).collect();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out).context("create output")?);
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>")?;
    writeln!(
        w,
        "<log xes.version=\"1849-2016\" xmlns=\"http://www.xes-standard.org/\">"
    )?;
    writeln!(
        w,
        "\t<extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>"
    )?;
    writeln!(
        w,
        "\t<extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>"
    )?;
    writeln!(
        w,
        "\t<extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>"
    )?;
    let mut written = 0usize;
    let mut copy = 0i64;
    while written < events {
        for (c, evs) in by_case.iter().enumerate() {
            if written >= events {
                break;
            }
            if evs.is_empty() {
                continue;
            }
            writeln!(
                w,
                "\t<trace>\n\t\t<string key=\"concept:name\" value=\"g{copy}-{c}\"/>"
            )?;
            for &e in evs {
                let ms = log.times_ms()[e] + copy * 86_400_000;
                let t = chrono::DateTime::from_timestamp_millis(ms).context("time out of range")?;
                write!(
                    w,
                    "\t\t<event>\n\t\t\t<string key=\"concept:name\" value=\"{}\"/>\n",
                    acts[log.activity_codes()[e] as usize]
                )?;
                let r = log.resource_codes()[e];
                if r != NONE {
                    writeln!(
                        w,
                        "\t\t\t<string key=\"org:resource\" value=\"{}\"/>",
                        res[r as usize]
                    )?;
                }
                writeln!(
                    w,
                    "\t\t\t<date key=\"time:timestamp\" value=\"{}\"/>\n\t\t\t<string key=\"lifecycle:transition\" value=\"complete\"/>\n\t\t</event>",
                    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
                )?;
                written += 1;
            }
            writeln!(w, "\t</trace>")?;
        }
        copy += 1;
    }
    writeln!(w, "</log>")?;
    w.flush()?;
    eprintln!("wrote {written} events to {}", out.display());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["run", log] => run(Path::new(log), 1),
        ["text", log] => {
            let (log, q) = read_path(Path::new(log), &ReadOptions::default())?;
            print!(
                "{}",
                hearken_flow::render_text(&analyze(&log, &FlowConfig::default()))
            );
            println!("{} events quarantined", q.len());
            Ok(())
        }
        ["run", log, "--repeat", n] => run(Path::new(log), n.parse().context("--repeat N")?),
        ["generate", source, events, out] => generate(
            Path::new(source),
            events.parse().context("EVENTS is a number")?,
            Path::new(out),
        ),
        _ => bail!(
            "usage: flow_bench run LOG [--repeat N] | flow_bench generate SOURCE EVENTS OUT.xes"
        ),
    }
}
