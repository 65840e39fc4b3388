//! XES (IEEE 1849), streamed: `<log>` / `<trace>` / `<event>` and their typed attributes, read
//! with Hearken's own tag scanner ([`crate::scan`]; quick-xml only unescapes the values that
//! hold `&`). Only the top-level attributes of a trace or event count; nested attributes,
//! lists, `<global>` defaults (PM4Py ignores them too), `<extension>` and `<classifier>`
//! declarations and unknown elements are skipped.
//!
//! A trace's events are held until `</trace>` because its `concept:name` may come after them;
//! everything else goes straight into the columnar builder, so memory is the columns plus one
//! trace per parser.
//!
//! Parallel reading: the input is cut into ~8 MiB chunks just before a `<trace` tag (never
//! inside a comment or CDATA section); worker threads parse chunks into partial logs, which are
//! appended in input order, so the result is identical to one streaming parse (a test checks
//! this). A file with no `<trace` tag near its start, or a trace longer than 64 MiB, is read by
//! one streaming parser from there on. Unnamed traces are named `#trace@<byte offset>` (the
//! offset of the `<trace` tag in the decompressed XML).

use std::borrow::Cow;
use std::io::{BufRead, Read};

use hearken_flow::{CodedEvent, EventLog, EventLogBuilder, NONE};

use crate::scan::{BadAttr, Kind, Scan, Tag, next_tag};
use crate::time::{fast_time_ms, parse_time_ms};
use crate::{EventLogError, Position, Quarantined, ReadOptions, canonical_attribute};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Outside,
    Log,
    Trace,
    Event,
    Done,
}

/// An event of the open trace, waiting for the trace's case id.
struct Pending {
    position: u64,
    activity: u32,
    time_ms: i64,
    resource: u32,
    team: u32,
    text: Option<Box<str>>,
    attrs: (usize, usize),
}

/// The event being read.
#[derive(Default)]
struct Current {
    position: u64,
    activity: Option<u32>,
    time: Option<Result<i64, String>>,
    resource: u32,
    team: u32,
    /// The team was taken from `org:role` (an `org:group` replaces it).
    team_is_role: bool,
    text: Option<Box<str>>,
    attrs_start: usize,
}

/// What the parser does with an event attribute key that is not one of the core keys.
enum KeyUse {
    /// Kept as the attribute column of this name (the builder column once a value was seen).
    Keep(String, Option<usize>),
    /// Not kept; its name is noted in the log.
    Unkept,
}

struct Parser<'o> {
    opts: &'o ReadOptions,
    b: EventLogBuilder,
    level: Level,
    /// Byte offset of this parser's input in the whole (decompressed) file.
    base: u64,
    /// Names of the open elements whose content is ignored (nested attributes, globals, …).
    skip: Vec<Box<[u8]>>,
    trace_key: String,
    activity_key: String,
    time_key: String,
    resource_key: String,
    team_key: String,
    text_keys: Vec<String>,
    /// `org:role` names the team when an event has no `org:group` (the team key is the
    /// default one).
    role_is_team: bool,
    /// Event attribute keys seen so far (other than the core ones) and what is done with
    /// them. Events of a log mostly carry the same keys in the same order, so `key_hint` (the
    /// entry after the last one found) nearly always finds the next key at once.
    keys: Vec<(Box<[u8]>, KeyUse)>,
    key_hint: usize,
    /// Trace attribute keys and their builder columns (every trace attribute is kept).
    trace_keys: Vec<(Box<[u8]>, usize)>,
    trace_at: u64,
    traces_done: u64,
    /// The open trace's case id; reused from trace to trace (no allocation per trace).
    trace_name: String,
    trace_named: bool,
    trace_attrs: Vec<(usize, u32)>,
    pending: Vec<Pending>,
    pending_attrs: Vec<(usize, u32)>,
    pending_quarantine: Vec<(u64, String)>,
    cur: Current,
    quarantined: Vec<Quarantined>,
    merged: Vec<(usize, u32)>,
}

/// Bytes of XML handed to one parser at a time. Large enough that merging the parts costs
/// nothing, small enough that memory stays a few chunks per thread.
const CHUNK: usize = 8 << 20;
/// A chunk that finds no `<trace` boundary within this many bytes (one huge trace, or traces
/// written with a namespace prefix) is read to the end by one streaming parser instead.
const MAX_CHUNK: usize = 64 << 20;

/// `size_hint`: the XML's size in bytes when known (a plain file), to size the columns once.
pub fn read(
    name: &str,
    mut input: impl BufRead,
    opts: &ReadOptions,
    size_hint: Option<u64>,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let head = input.fill_buf().map_err(|e| EventLogError::Io {
        path: name.to_string(),
        source: e,
    })?;
    // Parallel parsing cuts the file before `<trace`; without such a tag near the start (an
    // empty log, or prefixed element names) the file is streamed through one parser.
    if threads > 1 && next_boundary(head, 0).is_some() {
        read_parallel(name, input, opts, threads, CHUNK, size_hint)
    } else {
        let out = parse_stream(input, opts, 0, true);
        let mut acc = Merged {
            size_hint,
            ..Merged::default()
        };
        acc.add(name, opts, out);
        acc.finish()
    }
}

/// The position of the next `<trace` tag at or after `from` that is not inside a comment or
/// CDATA section, if any.
fn next_boundary(buf: &[u8], from: usize) -> Option<usize> {
    let finder = memchr::memmem::Finder::new(b"<trace");
    let mut at = from;
    while let Some(i) = finder.find(&buf[at.min(buf.len())..]) {
        let pos = at + i;
        let after = buf.get(pos + 6).copied();
        let is_tag = matches!(after, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'));
        if is_tag && !in_comment_or_cdata(&buf[..pos]) {
            return Some(pos);
        }
        at = pos + 6;
    }
    None
}

/// Whether `head` ends inside a comment or CDATA section. XES bodies almost never have either,
/// so one fast scan for `<!` settles it; only a chunk that has one is looked at closely.
fn in_comment_or_cdata(head: &[u8]) -> bool {
    if memchr::memmem::find(head, b"<!").is_none() {
        return false;
    }
    let open = |o: &[u8], c: &[u8]| {
        let last_open = memchr::memmem::rfind(head, o);
        let last_close = memchr::memmem::rfind(head, c);
        matches!((last_open, last_close), (Some(a), b) if b.is_none_or(|b| b < a))
    };
    open(b"<!--", b"-->") || open(b"<![CDATA[", b"]]>")
}

/// Reads `input` in chunks cut before `<trace` tags, parses the chunks on `threads` threads and
/// joins their logs in input order.
fn read_parallel(
    name: &str,
    mut input: impl BufRead,
    opts: &ReadOptions,
    threads: usize,
    chunk_size: usize,
    size_hint: Option<u64>,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, sync_channel};
    use std::sync::{Arc, Mutex};

    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (work_tx, work_rx) = sync_channel::<(usize, u64, Vec<u8>, bool)>(threads);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = channel::<(usize, ChunkOut)>();
        // Parsed chunks' buffers come back for reuse (fresh 8 MiB buffers cost page faults).
        let (spare_tx, spare_rx) = channel::<Vec<u8>>();
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let spare_tx = spare_tx.clone();
            s.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked; the scope re-raises it.
                    let job = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((i, offset, chunk, last)) = job else {
                        return;
                    };
                    let out = parse_chunk(&chunk, opts, offset, i == 0, last);
                    let _ = spare_tx.send(chunk);
                    if done_tx.send((i, out)).is_err() {
                        return;
                    }
                }
            });
        }
        let stop = &stop;
        let merger = s.spawn(move || {
            let mut acc = Merged {
                size_hint,
                ..Merged::default()
            };
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0;
            for (i, out) in done_rx {
                waiting.insert(i, out);
                while let Some(out) = waiting.remove(&next) {
                    if !acc.add(name, opts, out) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    next += 1;
                }
            }
            acc
        });

        let mut buf: Vec<u8> = Vec::with_capacity(chunk_size + (1 << 20));
        let mut offset = 0u64;
        let mut index = 0usize;
        let mut eof = false;
        let mut io_error = None;
        while !stop.load(Ordering::Relaxed) {
            // Fill to at least CHUNK bytes (or the end of the input).
            let want = chunk_size.saturating_sub(buf.len());
            fill(&mut input, &mut buf, want, &mut eof, &mut io_error);
            if eof {
                // Always send a last part, even empty: it is what checks that </log> was seen.
                let _ = work_tx.send((index, offset, std::mem::take(&mut buf), true));
                break;
            }
            // Cut before a `<trace` near the end of the buffer (little to carry over), else
            // past its middle.
            let near_end = buf.len().saturating_sub(256 << 10).max(chunk_size / 2);
            let cut = next_boundary(&buf, near_end)
                .or_else(|| next_boundary(&buf, chunk_size / 2))
                .filter(|&b| b > 0);
            match cut {
                Some(cut) => {
                    let mut next = spare_rx.try_recv().unwrap_or_default();
                    next.clear();
                    next.reserve(chunk_size + (1 << 20));
                    next.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    let chunk = std::mem::replace(&mut buf, next);
                    if work_tx.send((index, offset, chunk, false)).is_err() {
                        break;
                    }
                    offset += cut as u64;
                    index += 1;
                }
                None if buf.len() < chunk_size * (MAX_CHUNK / CHUNK) => {
                    // Read on: the trace is longer than a chunk.
                    fill(&mut input, &mut buf, chunk_size, &mut eof, &mut io_error);
                    if eof {
                        let _ = work_tx.send((index, offset, std::mem::take(&mut buf), true));
                        break;
                    }
                }
                None => {
                    // No boundary in sight: stream the rest through one parser, here.
                    drop(work_tx);
                    let tail = std::io::Cursor::new(std::mem::take(&mut buf)).chain(input);
                    let out = parse_stream(tail, opts, offset, index == 0);
                    let _ = done_tx.send((index, out));
                    drop(done_tx);
                    return finish_parallel(name, merger, io_error);
                }
            }
        }
        drop(work_tx);
        drop(done_tx);
        finish_parallel(name, merger, io_error)
    })
}

/// Appends up to `want` bytes of `input` to `buf`. `read_to_end` writes into the spare capacity
/// directly (no zeroing), and a large read passes a `BufReader` by, so file data is copied once.
fn fill(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    want: usize,
    eof: &mut bool,
    io_error: &mut Option<std::io::Error>,
) {
    if want == 0 || *eof {
        return;
    }
    match input.take(want as u64).read_to_end(buf) {
        Ok(n) if n < want => *eof = true,
        Ok(_) => {}
        Err(e) => {
            *io_error = Some(e);
            *eof = true;
        }
    }
}

fn finish_parallel(
    name: &str,
    merger: std::thread::ScopedJoinHandle<'_, Merged>,
    io_error: Option<std::io::Error>,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let acc = merger
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    if let (Some(e), None) = (io_error, &acc.error) {
        return Err(EventLogError::Io {
            path: name.to_string(),
            source: e,
        });
    }
    acc.finish()
}

/// What one parser made of its part of the file.
struct ChunkOut {
    log: EventLog,
    /// Bytes of XML this part covered.
    bytes: u64,
    quarantined: Vec<Quarantined>,
    traces: u64,
    /// Why the part ended early, and where.
    stop: Option<(Stop, u64)>,
}

/// The parts joined so far, in input order.
#[derive(Default)]
struct Merged {
    b: EventLogBuilder,
    quarantined: Vec<Quarantined>,
    traces: u64,
    error: Option<EventLogError>,
    /// Reading stopped (an error, or the partial log kept): later parts are dropped.
    stopped: bool,
    /// Bytes of XML in the whole input, when known.
    size_hint: Option<u64>,
}

impl Merged {
    /// Adds the next part; false once reading should stop.
    fn add(&mut self, name: &str, opts: &ReadOptions, out: ChunkOut) -> bool {
        if self.stopped {
            return false;
        }
        let events = (self.b.len() + out.log.len()) as u64;
        let traces = self.traces + out.traces;
        if let (true, Some(total), false) = (self.b.is_empty(), self.size_hint, out.log.is_empty())
        {
            // Events per byte of the first part, times the file size, plus 5%.
            let per_byte = total as f64 / out.bytes.max(1) as f64 * 1.05;
            let estimate =
                |n: usize| ((n as f64 * per_byte) as usize).min(hearken_flow::MAX_EVENTS);
            self.b.reserve(estimate(out.log.len()));
            // The case dictionary too: growing a table of millions of ids rehashes them all.
            self.b.reserve_cases(estimate(out.log.case_dict().len()));
        }
        if let Err(source) = self.b.append(out.log) {
            self.error = Some(EventLogError::Log {
                path: name.to_string(),
                source,
            });
            self.stopped = true;
            return false;
        }
        self.quarantined.extend(out.quarantined);
        self.traces = traces;
        let Some((stop, position)) = out.stop else {
            return true;
        };
        self.stopped = true;
        let err = match stop {
            Stop::Xml(at, message) => EventLogError::Xml {
                path: name.to_string(),
                position: at,
                events,
                traces,
                message,
            },
            Stop::Truncated(open) => EventLogError::Truncated {
                path: name.to_string(),
                position,
                open: open.to_string(),
                events,
                traces,
            },
            Stop::NotXes(message) => EventLogError::NotXes {
                path: name.to_string(),
                message,
            },
            Stop::Log(source) => EventLogError::Log {
                path: name.to_string(),
                source,
            },
        };
        let partial_ok = matches!(
            err,
            EventLogError::Xml { .. } | EventLogError::Truncated { .. }
        );
        if opts.keep_partial && partial_ok {
            self.quarantined.push(Quarantined {
                position: Position::Byte(position),
                case: None,
                reason: format!("{err}; the unfinished trace is not loaded"),
            });
        } else {
            self.error = Some(err);
        }
        false
    }

    fn finish(self) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.b.finish(), self.quarantined)),
        }
    }
}

/// Parses one chunk (a slice cut before a `<trace`, or the whole file) without copying events.
fn parse_chunk(chunk: &[u8], opts: &ReadOptions, offset: u64, first: bool, last: bool) -> ChunkOut {
    let mut p = Parser::new(opts, offset, first);
    let mut i = 0;
    loop {
        match next_tag(chunk, i) {
            Scan::Tag(tag, next) => {
                if let Err(stop) = p.tag(chunk, &tag, tag.at as u64) {
                    return p.into_out(Some((stop, offset + next as u64)), next as u64);
                }
                i = next;
            }
            Scan::End => return p.end_of_input(chunk.len() as u64, last),
            Scan::Incomplete(at) => {
                let stop = if last {
                    Stop::Truncated(p.open_element())
                } else {
                    Stop::Xml(
                        offset + at as u64,
                        "a tag is not closed before the next <trace>".to_string(),
                    )
                };
                let end = chunk.len() as u64;
                return p.into_out(Some((stop, offset + end)), end);
            }
            Scan::Malformed(at, what) => {
                let at = at as u64;
                return p.into_out(
                    Some((Stop::Xml(offset + at, what.to_string()), offset + at)),
                    at,
                );
            }
        }
    }
}

/// Bytes read at a time by the streaming parser.
const STREAM_BLOCK: usize = 1 << 20;

/// Parses a stream with one parser (no boundary to cut at, or a single core): blocks are read
/// into a buffer, whole tags are parsed, and the unfinished tag at the end is kept for the next
/// block, so memory is a block plus the longest tag.
fn parse_stream(mut input: impl BufRead, opts: &ReadOptions, offset: u64, first: bool) -> ChunkOut {
    let mut p = Parser::new(opts, offset, first);
    let mut buf: Vec<u8> = Vec::with_capacity(STREAM_BLOCK + (64 << 10));
    // Bytes of the stream dropped from the front of `buf`.
    let mut shift = 0u64;
    let mut i = 0;
    let mut eof = false;
    let mut io_error = None;
    loop {
        let scan = next_tag(&buf, i);
        let keep_from = match scan {
            Scan::Tag(tag, next) => {
                if let Err(stop) = p.tag(&buf, &tag, shift + tag.at as u64) {
                    let pos = shift + next as u64;
                    return p.into_out(Some((stop, offset + pos)), pos);
                }
                i = next;
                continue;
            }
            Scan::Malformed(at, what) => {
                let at = shift + at as u64;
                return p.into_out(
                    Some((Stop::Xml(offset + at, what.to_string()), offset + at)),
                    at,
                );
            }
            _ if eof => {
                let end = shift + buf.len() as u64;
                if let Some(e) = io_error {
                    let stop = Stop::Xml(offset + end, format!("cannot read the input: {e}"));
                    return p.into_out(Some((stop, offset + end)), end);
                }
                if matches!(scan, Scan::Incomplete(_)) {
                    let stop = Stop::Truncated(p.open_element());
                    return p.into_out(Some((stop, offset + end)), end);
                }
                return p.end_of_input(end, true);
            }
            Scan::Incomplete(at) => at,
            Scan::End => buf.len(),
        };
        // Keep the unfinished tag, read the next block after it.
        buf.drain(..keep_from);
        shift += keep_from as u64;
        i = 0;
        let want = STREAM_BLOCK.max(buf.len());
        fill(&mut input, &mut buf, want, &mut eof, &mut io_error);
    }
}

/// Why reading stopped early.
#[derive(Debug)]
enum Stop {
    Xml(u64, String),
    Truncated(&'static str),
    NotXes(String),
    Log(hearken_flow::LogError),
}

fn is_attribute(name: &[u8]) -> bool {
    matches!(
        name,
        b"string" | b"date" | b"int" | b"float" | b"boolean" | b"id" | b"list" | b"container"
    )
}

/// An attribute element's raw `key` and `value`.
type KeyValue<'a> = (&'a [u8], &'a [u8]);

/// The raw `key` and `value` of an attribute element, found by the scanner; an error when the
/// tag's attributes are malformed.
fn key_value<'a>(buf: &[u8], tag: &Tag<'a>) -> Result<Option<KeyValue<'a>>, String> {
    if let Some(bad) = tag.bad {
        let text =
            |a: usize, b: usize| String::from_utf8_lossy(&buf[a..b.min(buf.len())]).into_owned();
        return Err(match bad {
            BadAttr::Unquoted(a, b) => {
                format!("the value of attribute '{}' is not quoted", text(a, b))
            }
            BadAttr::Stray(a, b) => format!("stray text '{}' in a tag", text(a, b)),
        });
    }
    Ok(tag.key.zip(tag.value))
}

/// An attribute value as text: checked UTF-8, unescaped only when it holds a `&`. Called only
/// for the attributes that are kept, so the others cost nothing past the scan.
fn text_of(raw: &[u8]) -> Result<Cow<'_, str>, String> {
    let v = std::str::from_utf8(raw).map_err(|_| {
        format!(
            "invalid UTF-8 in the value '{}'; XES files are UTF-8",
            String::from_utf8_lossy(raw)
        )
    })?;
    if memchr::memchr(b'&', raw).is_some() {
        quick_xml::escape::unescape(v).map_err(|e| e.to_string())
    } else {
        Ok(Cow::Borrowed(v))
    }
}

impl<'o> Parser<'o> {
    fn new(opts: &'o ReadOptions, base: u64, first: bool) -> Parser<'o> {
        let k = &opts.keys;
        let strip = |s: &str| s.strip_prefix("case:").unwrap_or(s).to_string();
        let b = EventLogBuilder::new();
        Parser {
            opts,
            b,
            level: if first { Level::Outside } else { Level::Log },
            base,
            skip: Vec::new(),
            trace_key: k.case.as_deref().map_or("concept:name".to_string(), strip),
            activity_key: k.activity.clone().unwrap_or_else(|| "concept:name".into()),
            time_key: k.time.clone().unwrap_or_else(|| "time:timestamp".into()),
            resource_key: k.resource.clone().unwrap_or_else(|| "org:resource".into()),
            team_key: k.team.clone().unwrap_or_else(|| "org:group".into()),
            text_keys: match &k.text {
                Some(t) => vec![t.clone()],
                None => vec!["text".into(), "comment".into()],
            },
            role_is_team: k.team.is_none(),
            keys: Vec::new(),
            key_hint: 0,
            trace_keys: Vec::new(),
            trace_at: 0,
            traces_done: 0,
            trace_name: String::new(),
            trace_named: false,
            trace_attrs: Vec::new(),
            pending: Vec::new(),
            pending_attrs: Vec::new(),
            pending_quarantine: Vec::new(),
            cur: Current::default(),
            quarantined: Vec::new(),
            merged: Vec::new(),
        }
    }

    /// Handles one tag; `at` is the offset of its `<` in this parser's input.
    fn tag(&mut self, buf: &[u8], tag: &Tag<'_>, at: u64) -> Result<(), Stop> {
        match tag.kind {
            Kind::Start => self.start(buf, tag, at, false),
            Kind::Empty => self.start(buf, tag, at, true),
            Kind::End => self.end(tag.name, at),
        }
    }

    /// The end of this parser's input: the end of the file when `last`, else a cut before the
    /// next `<trace`.
    fn end_of_input(self, at: u64, last: bool) -> ChunkOut {
        let pos = self.base + at;
        let stop = match (self.level, last) {
            (Level::Done, _) | (Level::Log, false) => None,
            (Level::Outside, _) => Some(Stop::NotXes("there is no <log> element".to_string())),
            (Level::Trace | Level::Event, false) => Some(Stop::Xml(
                pos,
                "a <trace> is not closed before the next <trace>".to_string(),
            )),
            (_, true) => Some(Stop::Truncated(self.open_element())),
        };
        self.into_out(stop.map(|s| (s, pos)), at)
    }

    fn into_out(self, stop: Option<(Stop, u64)>, bytes: u64) -> ChunkOut {
        ChunkOut {
            bytes,
            log: self.b.finish(),
            quarantined: self.quarantined,
            traces: self.traces_done,
            stop,
        }
    }

    fn open_element(&self) -> &'static str {
        match self.level {
            Level::Event => "an <event>",
            Level::Trace => "a <trace>",
            Level::Log => "the <log>",
            Level::Outside | Level::Done => "the document",
        }
    }

    fn start(&mut self, buf: &[u8], e: &Tag<'_>, at: u64, empty: bool) -> Result<(), Stop> {
        let at = self.base + at;
        let name = e.name;
        if !self.skip.is_empty() {
            if !empty {
                self.skip.push(name.into());
            }
            return Ok(());
        }
        match (self.level, name) {
            // By far the most frequent element: an event's attribute.
            (Level::Event, n) if is_attribute(n) => {
                self.event_attribute(buf, e).map_err(|m| Stop::Xml(at, m))?;
                if !empty {
                    self.skip.push(name.into());
                }
            }
            (Level::Outside, b"log") => {
                self.level = if empty { Level::Done } else { Level::Log };
            }
            (Level::Outside, other) => {
                let other = String::from_utf8_lossy(other);
                return Err(Stop::NotXes(format!("the first element is <{other}>")));
            }
            (Level::Log, b"trace") => {
                self.trace_at = at;
                self.trace_named = false;
                self.trace_attrs.clear();
                self.pending.clear();
                self.pending_attrs.clear();
                self.pending_quarantine.clear();
                self.level = Level::Trace;
                if empty {
                    self.end_trace()?;
                }
            }
            (Level::Trace, b"event") => {
                self.cur = Current {
                    position: at,
                    resource: NONE,
                    team: NONE,
                    attrs_start: self.pending_attrs.len(),
                    ..Current::default()
                };
                self.level = Level::Event;
                if empty {
                    self.end_event();
                }
            }
            (Level::Trace, n) if is_attribute(n) => {
                self.trace_attribute(buf, e).map_err(|m| Stop::Xml(at, m))?;
                if !empty {
                    self.skip.push(name.into());
                }
            }
            (Level::Log, b"event") => {
                self.quarantined.push(Quarantined {
                    position: Position::Byte(at),
                    case: None,
                    reason: "event outside any trace (XES puts events in traces)".to_string(),
                });
                if !empty {
                    self.skip.push(name.into());
                }
            }
            // <global>, <extension>, <classifier>, log attributes, unknown elements.
            _ => {
                if !empty {
                    self.skip.push(name.into());
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], at: u64) -> Result<(), Stop> {
        let at = self.base + at;
        if let Some(open) = self.skip.pop() {
            if *open != *name {
                let (name, open) = (
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&open),
                );
                return Err(Stop::Xml(at, format!("</{name}> closes <{open}>")));
            }
            return Ok(());
        }
        match (self.level, name) {
            (Level::Event, b"event") => self.end_event(),
            (Level::Trace, b"trace") => self.end_trace()?,
            (Level::Log, b"log") => self.level = Level::Done,
            (Level::Done | Level::Outside, _) => {}
            (_, other) => {
                let other = String::from_utf8_lossy(other);
                return Err(Stop::Xml(
                    at,
                    format!("</{other}> closes {}", self.open_element()),
                ));
            }
        }
        Ok(())
    }

    fn trace_attribute(&mut self, buf: &[u8], e: &Tag<'_>) -> Result<(), String> {
        let Some((key, raw)) = key_value(buf, e)? else {
            return Ok(());
        };
        if key == self.trace_key.as_bytes() {
            let name = text_of(raw)?;
            self.trace_name.clear();
            self.trace_name.push_str(&name);
            self.trace_named = true;
            return Ok(());
        }
        // Dates (deadlines, start and end dates) and floats are one value per case: nothing to
        // group or select cases by, and a dictionary as large as the log. Named, not kept.
        if !matches!(e.name, b"string" | b"int" | b"boolean" | b"id") {
            if let Ok(name) = std::str::from_utf8(key) {
                self.b.note_unkept_attribute(name);
            }
            return Ok(());
        }
        let col = match self.trace_keys.iter().find(|(k, _)| **k == *key) {
            Some(&(_, col)) => col,
            None => {
                let name = std::str::from_utf8(key)
                    .map_err(|_| "a trace attribute key is not UTF-8".to_string())?;
                let column = canonical_attribute(name)
                    .unwrap_or_else(|| name.strip_prefix("case:").unwrap_or(name));
                let col = self.b.attribute_column(column);
                self.trace_keys.push((key.into(), col));
                col
            }
        };
        let code = if memchr::memchr(b'&', raw).is_none() {
            let bad_utf8 = |_| text_of(raw).err().unwrap_or_default();
            self.b.attribute_code_bytes(col, raw).map_err(bad_utf8)?
        } else {
            self.b.attribute_code(col, &text_of(raw)?)
        };
        self.trace_attrs.push((col, code));
        Ok(())
    }

    /// The entry of `keys` for an event attribute key, made (and the key classified) when new.
    fn key_entry(&mut self, key: &[u8]) -> Result<usize, String> {
        if let Some((k, _)) = self.keys.get(self.key_hint)
            && **k == *key
        {
            self.key_hint += 1;
            return Ok(self.key_hint - 1);
        }
        if let Some(i) = self.keys.iter().position(|(k, _)| **k == *key) {
            self.key_hint = i + 1;
            return Ok(i);
        }
        let name = std::str::from_utf8(key)
            .map_err(|_| "an event attribute key is not UTF-8".to_string())?;
        let asked = self
            .opts
            .attributes
            .iter()
            .any(|a| a == name || a.strip_prefix("case:") == Some(name));
        let usage = match canonical_attribute(name) {
            Some(c) => KeyUse::Keep(c.to_string(), None),
            None if asked => KeyUse::Keep(name.to_string(), None),
            None => {
                self.b.note_unkept_attribute(name);
                KeyUse::Unkept
            }
        };
        self.keys.push((key.into(), usage));
        self.key_hint = self.keys.len();
        Ok(self.keys.len() - 1)
    }

    fn event_attribute(&mut self, buf: &[u8], e: &Tag<'_>) -> Result<(), String> {
        let Some((key, raw)) = key_value(buf, e)? else {
            return Ok(());
        };
        // Values without '&' need no unescaping: look them up by their bytes (nearly all are
        // known names, so no UTF-8 check and no copy).
        let plain = memchr::memchr(b'&', raw).is_none();
        let bad_utf8 = |_| text_of(raw).err().unwrap_or_default();
        if key == self.activity_key.as_bytes() {
            let code = if plain {
                self.b.activity_code_bytes(raw).map_err(bad_utf8)?
            } else {
                self.b.activity_code(&text_of(raw)?)
            };
            self.cur.activity = Some(code);
        } else if key == self.time_key.as_bytes() {
            let time = match fast_time_ms(raw, &self.opts.dates) {
                Some(ms) => Ok(ms),
                None => parse_time_ms(&self.time_key, &text_of(raw)?, &self.opts.dates)
                    .map_err(|e| e.to_string()),
            };
            self.cur.time = Some(time);
        } else if key == self.resource_key.as_bytes() {
            self.cur.resource = if plain {
                self.b.resource_code_bytes(raw).map_err(bad_utf8)?
            } else {
                self.b.resource_code(&text_of(raw)?)
            };
        } else if key == self.team_key.as_bytes()
            || (key == b"org:role"
                && self.role_is_team
                && (self.cur.team == NONE || self.cur.team_is_role))
        {
            self.cur.team_is_role = key == b"org:role";
            self.cur.team = if plain {
                self.b.team_code_bytes(raw).map_err(bad_utf8)?
            } else {
                self.b.team_code(&text_of(raw)?)
            };
        } else if self.text_keys.iter().any(|k| k.as_bytes() == key) {
            let value = text_of(raw)?;
            if !value.trim().is_empty() {
                self.cur.text = Some(value.into());
            }
        } else {
            let at = self.key_entry(key)?;
            if let (_, KeyUse::Keep(name, col)) = &mut self.keys[at] {
                let col = *col.get_or_insert_with(|| self.b.attribute_column(name));
                let code = if plain {
                    self.b.attribute_code_bytes(col, raw).map_err(bad_utf8)?
                } else {
                    self.b.attribute_code(col, &text_of(raw)?)
                };
                self.pending_attrs.push((col, code));
            }
        }
        Ok(())
    }

    fn end_event(&mut self) {
        self.level = Level::Trace;
        let cur = std::mem::take(&mut self.cur);
        let problem = match (cur.activity, &cur.time) {
            (Some(activity), Some(Ok(time_ms))) => {
                self.pending.push(Pending {
                    position: cur.position,
                    activity,
                    time_ms: *time_ms,
                    resource: cur.resource,
                    team: cur.team,
                    text: cur.text,
                    attrs: (cur.attrs_start, self.pending_attrs.len()),
                });
                return;
            }
            (None, _) => format!("event has no {} (activity)", self.activity_key),
            (Some(_), None) => format!("event has no {} (timestamp)", self.time_key),
            (Some(_), Some(Err(msg))) => msg.clone(),
        };
        self.pending_attrs.truncate(cur.attrs_start);
        self.pending_quarantine.push((cur.position, problem));
    }

    fn end_trace(&mut self) -> Result<(), Stop> {
        self.level = Level::Log;
        if !self.trace_named {
            self.trace_name.clear();
            self.trace_name
                .push_str(&format!("#trace@{}", self.trace_at));
        }
        for (pos, reason) in self.pending_quarantine.drain(..) {
            self.quarantined.push(Quarantined {
                position: Position::Byte(pos),
                case: Some(self.trace_name.clone()),
                reason,
            });
        }
        if self.pending.is_empty() {
            self.traces_done += 1;
            return Ok(());
        }
        let case = self.b.case_code(&self.trace_name);
        for p in &self.pending {
            self.merged.clear();
            let own = &self.pending_attrs[p.attrs.0..p.attrs.1];
            self.merged.extend_from_slice(own);
            for &(col, code) in &self.trace_attrs {
                if own.is_empty() || !own.iter().any(|(c, _)| *c == col) {
                    self.merged.push((col, code));
                }
            }
            self.b
                .push_coded(&CodedEvent {
                    case,
                    activity: p.activity,
                    time_ms: p.time_ms,
                    resource: p.resource,
                    team: p.team,
                    text: p.text.as_deref(),
                    attributes: &self.merged,
                })
                .map_err(Stop::Log)?;
            if self.opts.keep_positions {
                self.b.record_position(p.position);
            }
        }
        self.pending.clear();
        self.pending_attrs.clear();
        self.traces_done += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_bytes;

    fn read_str(xml: &str) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
        read_bytes("t.xes", xml.as_bytes(), &ReadOptions::default())
    }

    const LOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Weird" prefix="weird" uri="http://example.invalid/weird.xesext"/>
  <global scope="event"><string key="org:resource" value="DEFAULT"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="origin" value="test"/>
  <trace>
    <event>
      <string key="concept:name" value="Open &amp; triage"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00.250+01:00"/>
      <string key="org:resource" value="ann"/>
      <string key="weird:thing" value="x"><string key="nested" value="y"/></string>
      <list key="tags"><values><string key="t" value="a"/></values></list>
    </event>
    <event>
      <string key="concept:name" value="Close"/>
      <date key="time:timestamp" value="2024-01-01T10:00:01Z"/>
      <string key="comment" value="thanks, solved"/>
    </event>
    <event><string key="concept:name" value="Lost"/></event>
    <string key="concept:name" value="case-1"/>
    <string key="product" value="router"/>
  </trace>
  <trace><event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-01-02"/></event></trace>
</log>"#;

    #[test]
    fn reads_traces_events_and_skips_what_it_does_not_know() {
        let (log, q) = read_str(LOG).unwrap();
        assert_eq!(log.len(), 3);
        // Unnamed traces are named by the byte offset where they start (at or just before the tag:
        // the whitespace before it belongs to no element).
        let tag = LOG.find("<trace><event>").unwrap() as u64;
        let cases: Vec<&str> = log.case_dict().names().collect();
        assert_eq!(cases[0], "case-1");
        let at: u64 = cases[1].strip_prefix("#trace@").unwrap().parse().unwrap();
        assert!(at <= tag && at + 3 >= tag, "{at} vs {tag}");
        assert_eq!(log.activity_dict().name(0), Some("Open & triage"));
        // 10:00:00.250+01:00 is 09:00:00.250Z.
        assert_eq!(log.times_ms()[1] - log.times_ms()[0], 3_600_000 + 750);
        assert_eq!(log.resource_codes()[1], NONE, "globals are not defaults");
        assert_eq!(log.text(1), Some("thanks, solved"));
        let product = log.attribute("product").unwrap();
        assert_eq!(product.codes[..2], [0, 0]);
        assert_eq!(product.codes[2], NONE);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].case.as_deref(), Some("case-1"));
        assert!(q[0].reason.contains("time:timestamp"), "{}", q[0]);
        assert!(matches!(q[0].position, Position::Byte(n) if n > 0));
    }

    #[test]
    fn truncated_file_is_a_clear_error_or_partial_log() {
        let cut = &LOG[..LOG.find("<trace><event>").unwrap() + 20];
        let e = read_str(cut).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("truncated")
                && msg.contains("2 events")
                && msg.contains("1 complete traces"),
            "{msg}"
        );
        let opts = ReadOptions {
            keep_partial: true,
            ..ReadOptions::default()
        };
        let (log, q) = read_bytes("t.xes", cut.as_bytes(), &opts).unwrap();
        assert_eq!(log.len(), 2);
        assert!(q.last().unwrap().reason.contains("truncated"));
    }

    #[test]
    fn malformed_xml_names_the_byte() {
        let bad = LOG.replace("</event>\n    <event>", "</evnt>\n    <event>");
        let e = read_str(&bad).unwrap_err();
        match e {
            EventLogError::Xml { position, .. } => assert!(position > 100),
            other => panic!("{other}"),
        }
        assert!(matches!(
            read_str("<html></html>"),
            Err(EventLogError::NotXes { .. })
        ));
    }

    fn columns(log: &EventLog) -> Vec<(String, String, i64, Option<String>)> {
        (0..log.len())
            .map(|i| {
                (
                    log.case_dict()
                        .name(log.case_codes()[i])
                        .unwrap()
                        .to_string(),
                    log.activity_dict()
                        .name(log.activity_codes()[i])
                        .unwrap()
                        .to_string(),
                    log.times_ms()[i],
                    log.resource_dict()
                        .name(log.resource_codes()[i])
                        .map(str::to_string),
                )
            })
            .collect()
    }

    #[test]
    fn parallel_chunks_read_exactly_what_one_stream_reads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/receipt.xes.gz");
        let opts = ReadOptions::default();
        let stream = parse_stream(crate::source::open(path.as_ref()).unwrap(), &opts, 0, true).log;
        for chunk in [512, 4096, 100_000] {
            let input = crate::source::open(path.as_ref()).unwrap();
            let (log, q) = read_parallel("r.xes.gz", input, &opts, 3, chunk, None).unwrap();
            assert!(q.is_empty());
            assert_eq!(columns(&log), columns(&stream), "chunk {chunk}");
        }
        // Cut inside the file: the error counts the complete traces of the parts before it.
        let mut xml = Vec::new();
        crate::source::open(path.as_ref())
            .unwrap()
            .read_to_end(&mut xml)
            .unwrap();
        let cut = &xml[..xml.len() * 2 / 3];
        let e = read_parallel("r.xes", cut, &opts, 2, 4096, Some(cut.len() as u64)).unwrap_err();
        let EventLogError::Truncated { events, traces, .. } = e else {
            panic!("{e}")
        };
        assert!(events > 4000 && traces > 900, "{events} {traces}");
        let partial = ReadOptions {
            keep_partial: true,
            ..ReadOptions::default()
        };
        let (log, q) = read_parallel("r.xes", cut, &partial, 2, 4096, None).unwrap();
        assert_eq!(log.len() as u64, events);
        assert_eq!(q.len(), 1);
    }

    /// One trace of 100k events (about 10 MB of XML): longer than a chunk, and, with small
    /// chunks, longer than the longest chunk, which hands the rest to one streaming parser.
    /// Every path reads the same log.
    #[test]
    fn a_case_with_100k_events_reads_the_same_on_every_path() {
        let mut xml = String::from("<log><trace><string key=\"concept:name\" value=\"big\"/>");
        for i in 0..100_000u32 {
            xml.push_str(&format!(
                "<event><string key=\"concept:name\" value=\"s{}\"/><string key=\"org:resource\" value=\"r{}\"/>\
                 <date key=\"time:timestamp\" value=\"2024-01-01T00:00:00.{:03}Z\"/></event>\n",
                i % 3,
                i % 7,
                i % 1000
            ));
        }
        xml.push_str(
            "</trace><trace><event><string key=\"concept:name\" value=\"a\"/>\
                      <date key=\"time:timestamp\" value=\"2024-01-02\"/></event></trace></log>",
        );
        let b = xml.as_bytes();
        let opts = ReadOptions::default();
        let stream = parse_stream(b, &opts, 0, true);
        assert!(stream.stop.is_none());
        assert_eq!(
            (stream.log.len(), stream.log.case_dict().len()),
            (100_001, 2)
        );
        let (whole, q) = read_str(&xml).unwrap();
        assert!(q.is_empty());
        assert_eq!(columns(&whole), columns(&stream.log));
        for chunk in [4096, 1 << 20] {
            let (log, q) = read_parallel("big.xes", b, &opts, 2, chunk, None).unwrap();
            assert!(q.is_empty());
            assert_eq!(columns(&log), columns(&stream.log), "chunk {chunk}");
        }
    }

    #[test]
    fn events_outside_traces_and_bad_utf8_are_reported() {
        let stray = LOG.replacen(
            "<trace>",
            "<event><string key=\"concept:name\" value=\"loose\"/></event><trace>",
            1,
        );
        let (log, q) = read_str(&stray).unwrap();
        assert_eq!(log.len(), 3);
        assert!(
            q.iter().any(|q| q.reason.contains("outside any trace")),
            "{q:?}"
        );
        let mut bad = LOG.as_bytes().to_vec();
        let at = LOG.find("value=\"Close\"").unwrap() + 7;
        bad[at] = 0xff;
        let e = read_bytes("t.xes", &bad, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn chunked_reading_never_panics(cut in 0usize..1500, flip in 0usize..1500, byte in 0u8..255, chunk in 16usize..600) {
            let mut b = LOG.as_bytes().to_vec();
            if flip < b.len() { b[flip] = byte; }
            b.truncate(cut.min(b.len()));
            let _ = read_parallel("t.xes", b.as_slice(), &ReadOptions::default(), 2, chunk, Some(7));
        }

        #[test]
        fn never_panics_on_cut_or_mangled_input(cut in 0usize..1500, flip in 0usize..1500, byte in 0u8..255) {
            let mut b = LOG.as_bytes().to_vec();
            if flip < b.len() { b[flip] = byte; }
            b.truncate(cut.min(b.len()));
            let _ = read_bytes("t.xes", &b, &ReadOptions::default());
        }
    }
}
