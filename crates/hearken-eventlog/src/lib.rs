//! Hearken's event-log readers.
//!
//! Owns turning event-log files into a columnar [`EventLog`]: XES (IEEE 1849, plain or gzip,
//! streamed), CSV event logs (PM4Py's `case:concept:name`/`concept:name`/`time:timestamp`/
//! `org:resource` and Hearken's canonical `case_events` columns, no mapping needed) and Zendesk
//! incremental ticket-event exports. Bad events are quarantined with their position and reason,
//! never silently dropped; a file that cannot be read at all is an [`EventLogError`] that says
//! where and what to do.
//!
//! Architecture invariant: this crate reads; it computes no figure (that is hearken-flow) and
//! keeps no state between calls. Memory is bounded by the columnar log, not by the file: inputs
//! are streamed (XES, CSV), gzip is decompressed beside the parsing, and XES is cut into chunks
//! before `<trace` tags that are parsed on all cores and joined in input order (a few chunks in
//! flight).

mod csvlog;
mod error;
mod scan;
mod source;
mod time;
mod xes;
mod zendesk;

use std::fmt;
use std::io::BufRead;
use std::path::Path;

pub use error::EventLogError;
pub use hearken_flow::EventLog;
use hearken_model::DateOptions;
pub use time::parse_time_ms;

/// The kinds of file Hearken reads event logs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// XES, `.xes` or `.xes.gz`.
    Xes,
    /// A CSV (or TSV / semicolon-separated) event log, plain or gzip.
    Csv,
    /// A Zendesk incremental ticket-event export (`/api/v2/incremental/ticket_events`): one page
    /// object with `ticket_events`, an array of ticket events, or JSON Lines of either.
    ZendeskTicketEvents,
}

/// Which attribute (XES key or CSV column) holds each field. `None` takes the standard keys:
/// `case:concept:name`/`case_id`, `concept:name`/`activity`, `time:timestamp`/`at`,
/// `org:resource`/`agent_id`, `org:group`/`team` (else `org:role`), `text`/`comment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub case: Option<String>,
    pub activity: Option<String>,
    pub time: Option<String>,
    pub resource: Option<String>,
    pub team: Option<String>,
    pub text: Option<String>,
}

/// How to read a log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// `None`: told from the file name, then from the content.
    pub format: Option<Format>,
    pub keys: Keys,
    /// Extra event attributes (XES event attributes, CSV columns; `case:` prefixes are matched
    /// too) kept as label columns. Always kept without asking: every XES trace attribute and
    /// CSV `case:` column (under its name without `case:`), and the case properties Hearken
    /// knows under their synonyms ([`canonical_attribute`]: customer, product, segment,
    /// channel). The names of the attributes not kept are listed in
    /// [`EventLog::unkept_attributes`].
    pub attributes: Vec<String>,
    pub dates: DateOptions,
    /// When an XES file is truncated or malformed part-way, return the complete traces read so
    /// far (and quarantine the unfinished one) instead of failing.
    pub keep_partial: bool,
    /// Keep each event's position in the file ([`EventLog::positions`]): the byte offset of
    /// its `<event` tag in the (decompressed) XML, its CSV line, or its item number (0-based)
    /// in a Zendesk export. For importing a log row by row.
    pub keep_positions: bool,
}

/// The case properties Hearken groups and filters by, and the attribute names (compared
/// ignoring case, `case:` prefixes and everything but letters and digits) it takes for them.
pub const CANONICAL_ATTRIBUTES: &[(&str, &[&str])] = &[
    (
        "customer",
        &[
            "customer",
            "customerid",
            "client",
            "clientid",
            "requester",
            "requesterid",
        ],
    ),
    ("product", &["product", "productid", "productcode"]),
    ("segment", &["segment", "customersegment"]),
    ("channel", &["channel", "contactchannel"]),
];

/// The canonical name (`customer`, `product`, `segment`, `channel`) an attribute key stands
/// for, if any.
pub fn canonical_attribute(key: &str) -> Option<&'static str> {
    let k = key.strip_prefix("case:").unwrap_or(key);
    let folded: String = k
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    CANONICAL_ATTRIBUTES
        .iter()
        .find(|(_, syn)| syn.contains(&folded.as_str()))
        .map(|(name, _)| *name)
}

/// Where in the input a quarantined event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A CSV line (1-based, of the record's start).
    Line(u64),
    /// A byte offset into the (decompressed) XML, at the event's `<event>` tag (or the
    /// whitespace just before it).
    Byte(u64),
    /// The index of an item (ticket event) in a JSON export, 0-based.
    Item(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Byte(n) => write!(f, "byte {n}"),
            Position::Item(n) => write!(f, "item {n}"),
        }
    }
}

/// An event that was not loaded, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub position: Position,
    /// The case it belonged to, when known.
    pub case: Option<String>,
    pub reason: String,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.position)?;
        if let Some(c) = &self.case {
            write!(f, " (case {c})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Reads an event log from a file; the format is told from the extension, else the content.
/// Gzip is recognised by its magic bytes whatever the name.
pub fn read_path(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let name = path.display().to_string();
    let input = source::open(path).map_err(|e| EventLogError::Io {
        path: name.clone(),
        source: e,
    })?;
    // The size of a plain file lets the XES reader size its columns once.
    let size_hint = match &input {
        source::Input::File(_) => std::fs::metadata(path).ok().map(|m| m.len()),
        _ => None,
    };
    let span = tracing::info_span!("read_event_log", path = %name);
    let _enter = span.enter();
    let format = opts.format.or_else(|| format_from_name(&name));
    read_input(&name, input, format, opts, size_hint)
}

/// Reads an event log held in memory (plain or gzip); `name` is used in messages and to tell the
/// format when `opts.format` is not set.
pub fn read_bytes(
    name: &str,
    data: &[u8],
    opts: &ReadOptions,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let input = source::from_bytes(data.to_vec()).map_err(|e| EventLogError::Io {
        path: name.to_string(),
        source: e,
    })?;
    let format = opts.format.or_else(|| format_from_name(name));
    read_input(name, input, format, opts, Some(data.len() as u64))
}

fn read_input(
    name: &str,
    mut input: source::Input,
    format: Option<Format>,
    opts: &ReadOptions,
    size_hint: Option<u64>,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let format = match format {
        Some(f) => f,
        None => sniff(name, &mut input)?,
    };
    let out = match format {
        Format::Xes => xes::read(name, input, opts, size_hint),
        Format::Csv => csvlog::read(name, input.pipelined(), opts),
        Format::ZendeskTicketEvents => zendesk::read(name, input.pipelined(), opts),
    }?;
    tracing::info!(
        events = out.0.len(),
        cases = out.0.case_dict().len(),
        quarantined = out.1.len(),
        "event log read"
    );
    Ok(out)
}

fn format_from_name(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    let ext = base.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "xes" | "xml" => Some(Format::Xes),
        "csv" | "tsv" | "txt" => Some(Format::Csv),
        "json" | "jsonl" | "ndjson" => Some(Format::ZendeskTicketEvents),
        _ => None,
    }
}

/// Tells the format from the first non-blank byte: `<` XES, `{` or `[` JSON, anything else CSV.
fn sniff(name: &str, input: &mut source::Input) -> Result<Format, EventLogError> {
    let buf = input.fill_buf().map_err(|e| EventLogError::Io {
        path: name.to_string(),
        source: e,
    })?;
    let first = buf
        .iter()
        .copied()
        .find(|b| !(b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF)));
    Ok(match first {
        Some(b'<') => Format::Xes,
        Some(b'{' | b'[') => Format::ZendeskTicketEvents,
        Some(_) => Format::Csv,
        None => {
            return Err(EventLogError::Empty {
                path: name.to_string(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        assert_eq!(format_from_name("a/b.xes.gz"), Some(Format::Xes));
        assert_eq!(format_from_name("LOG.CSV"), Some(Format::Csv));
        assert_eq!(
            format_from_name("events.json"),
            Some(Format::ZendeskTicketEvents)
        );
        assert_eq!(format_from_name("noext"), None);
    }

    #[test]
    fn canonical_attributes_by_synonym() {
        assert_eq!(canonical_attribute("case:customer_id"), Some("customer"));
        assert_eq!(canonical_attribute("Product"), Some("product"));
        assert_eq!(canonical_attribute("customer-segment"), Some("segment"));
        assert_eq!(canonical_attribute("case:channel"), Some("channel"));
        assert_eq!(canonical_attribute("department"), None);
    }

    #[test]
    fn sniffs_content() {
        let opts = ReadOptions::default();
        let csv = b"case_id,at,activity\nc1,2024-01-01T00:00:00Z,open\n";
        let (log, q) = read_bytes("stdin", csv, &opts).unwrap();
        assert_eq!((log.len(), q.len()), (1, 0));
        let e = read_bytes("stdin", b"   ", &opts).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }
}
