//! Benchmark driver for benches/flow/bench.py (not a test).
//!
//! `flow_bench run LOG [--repeat N]` reads LOG and computes every flow figure (N times), then
//! prints one JSON line with the mean wall and CPU times per run and the peak resident memory.
//! `flow_bench from-case-events CASE_EVENTS.csv OUT.xes` converts the `case_events.csv` written
//! by `hearken generate` into an XES log (the large benchmark logs).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use hearken_eventlog::{ReadOptions, read_path};
use hearken_flow::{FlowConfig, analyze};

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
        // XML parsers turn these into spaces in attribute values unless they are references.
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// Converts Hearken's `case_events.csv` (from `hearken generate`: event_id, case_id, at,
/// activity, agent_id, team, text) into XES: one trace per case (the generator writes a case's
/// events together), `concept:name`, `time:timestamp`, `org:resource` (when there is an agent),
/// `org:group` (team) and `comment` (text). Streamed: memory is one row.
fn from_case_events(csv_path: &Path, out: &Path) -> anyhow::Result<()> {
    let mut rdr = csv::Reader::from_path(csv_path).context("open case_events.csv")?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name} column in {}", csv_path.display()))
    };
    let (case, at, activity) = (col("case_id")?, col("at")?, col("activity")?);
    let (agent, team, text) = (col("agent_id")?, col("team")?, col("text")?);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out).context("create output")?);
    w.write_all(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n",
            "<log xes.version=\"1849-2016\" xmlns=\"http://www.xes-standard.org/\">\n",
            "\t<extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n",
            "\t<extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n",
            "\t<extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n",
            "\t<string key=\"source\" value=\"hearken generate\"/>\n"
        )
        .as_bytes(),
    )?;
    let (mut events, mut cases, mut split) = (0u64, 0u64, 0u64);
    let mut open: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    let mut row = csv::StringRecord::new();
    while rdr.read_record(&mut row)? {
        let c = &row[case];
        if open.as_deref() != Some(c) {
            if open.is_some() {
                writeln!(w, "\t</trace>")?;
            }
            if !seen.insert(c.to_string()) {
                split += 1;
            }
            writeln!(
                w,
                "\t<trace>\n\t\t<string key=\"concept:name\" value=\"{}\"/>",
                esc(c)
            )?;
            open = Some(c.to_string());
            cases += 1;
        }
        let t = chrono::DateTime::parse_from_rfc3339(&row[at])
            .with_context(|| format!("bad time {:?}", &row[at]))?;
        write!(
            w,
            "\t\t<event>\n\t\t\t<string key=\"concept:name\" value=\"{}\"/>\n\t\t\t<date key=\"time:timestamp\" value=\"{}\"/>\n",
            esc(&row[activity]),
            t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        )?;
        for (key, v) in [
            ("org:resource", &row[agent]),
            ("org:group", &row[team]),
            ("comment", &row[text]),
        ] {
            if !v.is_empty() {
                writeln!(w, "\t\t\t<string key=\"{key}\" value=\"{}\"/>", esc(v))?;
            }
        }
        writeln!(w, "\t\t</event>")?;
        events += 1;
    }
    if open.is_some() {
        writeln!(w, "\t</trace>")?;
    }
    writeln!(w, "</log>")?;
    w.flush()?;
    if split > 0 {
        bail!("{split} cases are not written together; their traces would be split");
    }
    eprintln!(
        "wrote {events} events in {cases} traces to {}",
        out.display()
    );
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
        ["from-case-events", csv, out] => from_case_events(Path::new(csv), Path::new(out)),
        _ => bail!(
            "usage: flow_bench run LOG [--repeat N] | flow_bench from-case-events CASE_EVENTS.csv OUT.xes"
        ),
    }
}
