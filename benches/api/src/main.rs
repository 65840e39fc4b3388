//! `hearken-load`: load for Hearken's HTTP API over keep-alive HTTP/1.1 connections, one OS
//! thread per connection, each sending its next request as soon as the previous answer is read
//! (closed loop). Records every request's latency and reports rows/s, requests/s, p50/p95/p99
//! and errors (any answer but 200, or a connection failure).
//!
//! ```text
//! hearken-load post --addr 127.0.0.1:8080 --token hk_... --connections 64 --seconds 60 \
//!     --rows 1 --prefix run1
//! hearken-load get --addr 127.0.0.1:8080 --token hk_... --connections 16 --requests 20 \
//!     /api/v1/scores /api/v1/pareto?by=customer ...
//!
//! hearken-load file --requests 200000 --prefix b > rows.jsonl
//! hearken-load send --addr ... --token ... --rows 1000 --connections 4 @rows.jsonl
//! ```
//!
//! `post` sends signals to `/api/v1/signals` (`--path` to change), `--rows` per request as a
//! JSON array, each with a unique `signal_id` (`<prefix>-<connection>-<n>`) and a text from a
//! small rotating set; the ids let the caller check afterwards that every acknowledged row is
//! stored. `get` sends each path `--requests` times per connection, round robin, and reports
//! per path.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TEXTS: &[&str] = &[
    "The app keeps crashing when I open my invoices",
    "Thanks, the agent solved my problem quickly",
    "Why was I charged twice this month?",
    "Delivery was late again and nobody told me",
    "Great service, very friendly staff",
    "I cannot log in since the last update",
    "Please cancel my subscription",
    "The router light is orange and there is no internet",
];
const CHANNELS: &[&str] = &["email", "chat", "phone", "web"];
const KINDS: &[&str] = &["complaint", "question", "compliment", "request"];

struct Args {
    mode: String,
    addr: String,
    token: String,
    connections: usize,
    seconds: u64,
    requests: usize,
    rows: usize,
    prefix: String,
    path: String,
    paths: Vec<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: hearken-load post|get --addr HOST:PORT --token TOKEN [--connections N] [--seconds S] \
         [--rows N] [--prefix P] [--path P] [--requests N] [PATH...]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_else(|| usage());
    let mut a = Args {
        mode,
        addr: "127.0.0.1:8080".into(),
        token: std::env::var("HEARKEN_TOKEN").unwrap_or_default(),
        connections: 64,
        seconds: 60,
        requests: 0,
        rows: 1,
        prefix: "load".into(),
        path: "/api/v1/signals".into(),
        paths: Vec::new(),
    };
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--addr" => a.addr = value(),
            "--token" => a.token = value(),
            "--connections" => a.connections = value().parse().unwrap_or_else(|_| usage()),
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--requests" => a.requests = value().parse().unwrap_or_else(|_| usage()),
            "--rows" => a.rows = value().parse().unwrap_or_else(|_| usage()),
            "--prefix" => a.prefix = value(),
            "--path" => a.path = value(),
            p if p.starts_with('/') || p.starts_with('@') => a.paths.push(p.to_string()),
            _ => usage(),
        }
    }
    if (a.token.is_empty() && a.mode != "file") || a.connections == 0 {
        usage();
    }
    a
}

/// One keep-alive connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Conn {
            reader: BufReader::with_capacity(64 * 1024, s.try_clone()?),
            writer: s,
        })
    }

    /// Sends a request and reads its answer: (status, body).
    fn call(&mut self, head: &[u8], body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let mut req = Vec::with_capacity(head.len() + body.len());
        req.extend_from_slice(head);
        req.extend_from_slice(body);
        self.writer.write_all(&req)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse::<usize>().ok();
                } else if k == "transfer-encoding" && v.contains("chunked") {
                    chunked = true;
                }
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            out.resize(n, 0);
            self.reader.read_exact(&mut out)?;
        }
        Ok((status, out))
    }
}

fn head(method: &str, path: &str, token: &str, body_len: Option<usize>) -> Vec<u8> {
    let mut h =
        format!("{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n");
    if let Some(n) = body_len {
        h.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {n}\r\n"
        ));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

fn signal(prefix: &str, conn: usize, n: u64) -> String {
    let i = (conn as u64 * 7919 + n) as usize;
    format!(
        r#"{{"signal_id":"{prefix}-{conn}-{n}","at":"2025-03-{:02}T{:02}:{:02}:00Z","channel":"{}","kind":"{}","customer_id":"C{}","text":"{}"}}"#,
        1 + i % 28,
        i % 24,
        i % 60,
        CHANNELS[i % CHANNELS.len()],
        KINDS[i % KINDS.len()],
        i % 5000,
        TEXTS[i % TEXTS.len()],
    )
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    requests: u64,
    rows: u64,
    errors: u64,
    first_error: Option<String>,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

fn report(name: &str, mut t: Tally, elapsed: f64) {
    t.latencies_us.sort_unstable();
    println!(
        "{name}: requests {} rows {} errors {} in {:.1} s: {:.0} requests/s, {:.0} rows/s; latency ms p50 {:.2} p95 {:.2} p99 {:.2} max {:.2}",
        t.requests,
        t.rows,
        t.errors,
        elapsed,
        t.requests as f64 / elapsed,
        t.rows as f64 / elapsed,
        percentile(&t.latencies_us, 50.0),
        percentile(&t.latencies_us, 95.0),
        percentile(&t.latencies_us, 99.0),
        percentile(&t.latencies_us, 100.0),
    );
    if let Some(e) = t.first_error {
        println!("{name}: first error: {e}");
    }
}

fn post(a: &Args) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..a.connections)
        .map(|c| {
            let (addr, token, prefix, path, rows) = (
                a.addr.clone(),
                a.token.clone(),
                a.prefix.clone(),
                a.path.clone(),
                a.rows,
            );
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut t = Tally::default();
                let mut conn = match Conn::open(&addr) {
                    Ok(c) => c,
                    Err(e) => {
                        t.errors += 1;
                        t.first_error = Some(format!("connect: {e}"));
                        return t;
                    }
                };
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = if rows == 1 {
                        let s = signal(&prefix, c, n);
                        n += 1;
                        s
                    } else {
                        let list: Vec<String> = (0..rows)
                            .map(|_| {
                                let s = signal(&prefix, c, n);
                                n += 1;
                                s
                            })
                            .collect();
                        format!("[{}]", list.join(","))
                    };
                    let h = head("POST", &path, &token, Some(body.len()));
                    let t0 = Instant::now();
                    match conn.call(&h, body.as_bytes()) {
                        Ok((200, _)) => {
                            t.latencies_us.push(t0.elapsed().as_micros() as u32);
                            t.requests += 1;
                            t.rows += rows as u64;
                        }
                        Ok((status, body)) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| {
                                format!("{status}: {}", String::from_utf8_lossy(&body))
                            });
                        }
                        Err(e) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| e.to_string());
                            match Conn::open(&addr) {
                                Ok(c2) => conn = c2,
                                Err(_) => break,
                            }
                        }
                    }
                }
                t
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(a.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for th in threads {
        let t = th.join().expect("a connection thread");
        all.latencies_us.extend(t.latencies_us);
        all.requests += t.requests;
        all.rows += t.rows;
        all.errors += t.errors;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    report(
        &format!(
            "POST {} x{} rows, {} connections",
            a.path, a.rows, a.connections
        ),
        all,
        elapsed,
    );
}

fn get(a: &Args) {
    let paths = Arc::new(a.paths.clone());
    let start = Instant::now();
    let per = a.requests.max(1);
    let threads: Vec<_> = (0..a.connections)
        .map(|c| {
            let (addr, token, paths) = (a.addr.clone(), a.token.clone(), Arc::clone(&paths));
            std::thread::spawn(move || {
                let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
                let Ok(mut conn) = Conn::open(&addr) else {
                    return tallies;
                };
                for round in 0..per {
                    for k in 0..paths.len() {
                        // Each connection starts at another path, so all are asked at once.
                        let path = &paths[(k + c + round) % paths.len()];
                        let t = tallies.entry(path.clone()).or_default();
                        let h = head("GET", path, &token, None);
                        let t0 = Instant::now();
                        match conn.call(&h, b"") {
                            Ok((200, _)) => {
                                t.latencies_us.push(t0.elapsed().as_micros() as u32);
                                t.requests += 1;
                            }
                            Ok((status, body)) => {
                                t.errors += 1;
                                t.first_error.get_or_insert_with(|| {
                                    format!("{status}: {}", String::from_utf8_lossy(&body))
                                });
                            }
                            Err(e) => {
                                t.errors += 1;
                                t.first_error.get_or_insert_with(|| e.to_string());
                                match Conn::open(&addr) {
                                    Ok(c2) => conn = c2,
                                    Err(_) => return tallies,
                                }
                            }
                        }
                    }
                }
                tallies
            })
        })
        .collect();
    let mut all: BTreeMap<String, Tally> = BTreeMap::new();
    for th in threads {
        for (path, t) in th.join().expect("a connection thread") {
            let a = all.entry(path).or_default();
            a.latencies_us.extend(t.latencies_us);
            a.requests += t.requests;
            a.errors += t.errors;
            if a.first_error.is_none() {
                a.first_error = t.first_error;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "GET, {} connections, {} rounds, {:.1} s in all",
        a.connections, per, elapsed
    );
    for (path, t) in all {
        report(&format!("GET {path}"), t, elapsed);
    }
}

/// `file`: writes `--requests` signals as JSON Lines to standard output (ids `<prefix>-0-<n>`),
/// the rows `send` and `hearken import` are compared on.
fn file(a: &Args) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for n in 0..a.requests as u64 {
        writeln!(out, "{}", signal(&a.prefix, 0, n)).expect("write to stdout");
    }
    out.flush().expect("flush stdout");
}

/// `send FILE`: sends the JSON Lines file once, `--rows` lines per request (a JSON array), over
/// `--connections` connections taking the next batch as they go; reports rows/s.
fn send(a: &Args) {
    let path = a.paths.first().cloned().unwrap_or_else(|| usage());
    let text = std::fs::read_to_string(path.trim_start_matches('@')).expect("read the file");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let batches: Arc<Vec<String>> = Arc::new(
        lines
            .chunks(a.rows.max(1))
            .map(|c| format!("[{}]", c.join(",")))
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..a.connections)
        .map(|_| {
            let (addr, token, apath) = (a.addr.clone(), a.token.clone(), a.path.clone());
            let (batches, next) = (Arc::clone(&batches), Arc::clone(&next));
            let rows = a.rows.max(1);
            std::thread::spawn(move || {
                let mut t = Tally::default();
                let Ok(mut conn) = Conn::open(&addr) else {
                    t.errors += 1;
                    return t;
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(body) = batches.get(i) else { break };
                    let h = head("POST", &apath, &token, Some(body.len()));
                    let t0 = Instant::now();
                    match conn.call(&h, body.as_bytes()) {
                        Ok((200, _)) => {
                            t.latencies_us.push(t0.elapsed().as_micros() as u32);
                            t.requests += 1;
                            t.rows += rows.min(body.matches("\"signal_id\"").count()) as u64;
                        }
                        Ok((status, body)) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| {
                                format!("{status}: {}", String::from_utf8_lossy(&body))
                            });
                        }
                        Err(e) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| e.to_string());
                            break;
                        }
                    }
                }
                t
            })
        })
        .collect();
    let mut all = Tally::default();
    for th in threads {
        let t = th.join().expect("a connection thread");
        all.latencies_us.extend(t.latencies_us);
        all.requests += t.requests;
        all.rows += t.rows;
        all.errors += t.errors;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    report(
        &format!(
            "POST {} batches of {} rows, {} connections",
            a.path, a.rows, a.connections
        ),
        all,
        elapsed,
    );
}

fn main() {
    let a = parse_args();
    match a.mode.as_str() {
        "post" => post(&a),
        "get" => get(&a),
        "file" => file(&a),
        "send" => send(&a),
        _ => usage(),
    }
}
