//! Case events from event-log files: XES (plain or gzip) and Zendesk ticket-event exports,
//! recognised by their content whatever their name, read by hearken-eventlog and handed out as
//! case-event rows like any CSV row.
//!
//! Each event becomes a [`CaseEvent`]: case = the trace's (ticket's) id, at = its time (to the
//! second), activity, agent = `org:resource` (the assignee), team = `org:group` (else
//! `org:role`; the ticket's group), text = `text`/`comment` (the comment body), customer and
//! product = the trace's or event's `customer`/`product` attribute (and their synonyms, see
//! `hearken_eventlog::CANONICAL_ATTRIBUTES`). Its id is `<case>#<n>`, the n-th event of the case
//! in file order, so importing the same file again stores nothing new.
//!
//! Positions: the line of an XES event is the line of its `<event>` tag; when a file has
//! several events on one line (written without line breaks) events are numbered instead (1st,
//! 2nd ... in the file). The line of a Zendesk event is its ticket event's number (1-based).
//! Events the reader could not use (no timestamp, ...) come out as row errors at their place.

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::path::Path;

use hearken_eventlog::{EventLog, Format, Position, Quarantined, ReadOptions as LogOptions};
use hearken_model::{
    AgentId, CaseEvent, CaseId, CustomerId, EventId, FieldError, Label, ProductId, Record, Text,
    Timestamp,
};

use crate::reader::{Enriched, ParsedRow};
use crate::{IngestError, RowError};

/// Which event-log format the head of a (decompressed) file is, if any: XML is XES; JSON with
/// `ticket_events` or `child_events` is a Zendesk ticket-event export.
pub(crate) fn sniff(head: &[u8]) -> Option<Format> {
    let start = head
        .iter()
        .position(|b| !(b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF)))?;
    let body = &head[start..];
    match body.first() {
        Some(b'<') => Some(Format::Xes),
        Some(b'{' | b'[') => {
            let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
            (has(b"\"ticket_events\"") || has(b"\"child_events\""))
                .then_some(Format::ZendeskTicketEvents)
        }
        _ => None,
    }
}

/// Where an event log is read from: a file (read again by its path, streaming; the opened,
/// decompressed reader counts XES lines), or its decompressed bytes in memory.
pub(crate) enum LogInput {
    File(Box<dyn BufRead + Send>),
    Memory(Vec<u8>),
}

/// The rows of an event-log file, in file order.
pub(crate) struct EventRows {
    rows: VecDeque<ParsedRow>,
}

impl EventRows {
    /// Reads the whole log (its columns are compact) and orders its events and quarantined
    /// events by position. `decompressed` is the file's content, read once more to count lines
    /// (XES).
    pub(crate) fn open(
        path: &Path,
        format: Format,
        input: LogInput,
        notes: &mut Vec<String>,
    ) -> Result<EventRows, IngestError> {
        let opts = LogOptions {
            format: Some(format),
            keep_partial: true,
            keep_positions: true,
            ..LogOptions::default()
        };
        let name = path.display().to_string();
        let read = match &input {
            LogInput::File(_) => hearken_eventlog::read_path(path, &opts),
            LogInput::Memory(bytes) => hearken_eventlog::read_bytes(&name, bytes, &opts),
        };
        let (log, quarantined) = read.map_err(|e| IngestError::Format {
            path: path.to_path_buf(),
            message: e
                .to_string()
                .strip_prefix(&format!("{name}: "))
                .map_or_else(|| e.to_string(), str::to_string),
        })?;
        let mut places: Vec<(u64, Place)> = log
            .positions()
            .iter()
            .enumerate()
            .map(|(i, &p)| (p, Place::Event(i)))
            .collect();
        places.extend(quarantined.iter().enumerate().map(|(i, q)| {
            let p = match q.position {
                Position::Byte(b) => b,
                Position::Item(n) | Position::Line(n) => n,
            };
            (p, Place::Quarantined(i))
        }));
        // Stable: events and entries at the same place keep the reader's order.
        places.sort_by_key(|&(p, _)| p);
        let lines = match format {
            Format::Xes => {
                let lines: Box<dyn BufRead + Send> = match input {
                    LogInput::File(reader) => reader,
                    LogInput::Memory(bytes) => Box::new(std::io::Cursor::new(bytes)),
                };
                xes_lines(lines, &places, notes)
            }
            // Ticket events, 1-based.
            _ => places.iter().map(|&(p, _)| p + 1).collect(),
        };
        let mut ordinal: HashMap<u32, u32> = HashMap::new();
        let mut rows = VecDeque::with_capacity(places.len());
        for (&(_, place), line) in places.iter().zip(lines) {
            let record = match place {
                Place::Event(i) => {
                    let case = log.case_codes()[i];
                    let n = ordinal.entry(case).or_insert(0);
                    *n += 1;
                    event_record(&log, i, *n).map_err(|e| RowError::from_field(line, e))
                }
                Place::Quarantined(i) => Err(quarantined_row(line, &quarantined[i])),
            };
            rows.push_back(ParsedRow {
                line,
                record,
                raw: None,
                enriched: Enriched::default(),
                skipped: None,
                key: None,
            });
        }
        if format == Format::ZendeskTicketEvents {
            notes.push(
                "Zendesk ticket events: one case event per update that changes the status, \
                 assignee or group or adds a comment; line numbers are ticket-event numbers"
                    .to_string(),
            );
        }
        Ok(EventRows { rows })
    }

    pub(crate) fn next_row(&mut self) -> Option<ParsedRow> {
        self.rows.pop_front()
    }
}

#[derive(Debug, Clone, Copy)]
enum Place {
    Event(usize),
    Quarantined(usize),
}

/// The line of each place (byte offsets into the XML, sorted): the line of the first byte at or
/// after it that is not white space (a position may point at the white space before a tag).
/// Places past the end are on the last line. 1-based ordinals instead when two places share a
/// line or the file cannot be read again.
fn xes_lines(
    mut input: Box<dyn BufRead + Send>,
    places: &[(u64, Place)],
    notes: &mut Vec<String>,
) -> Vec<u64> {
    let mut lines = Vec::with_capacity(places.len());
    let mut offset = 0u64;
    let mut line = 1u64;
    let mut next = places.iter().map(|&(p, _)| p);
    let mut target = next.next();
    let ok = loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(_) => break false,
        };
        if buf.is_empty() {
            break true;
        }
        for &b in buf {
            while let Some(t) = target {
                if offset < t || b.is_ascii_whitespace() {
                    break;
                }
                lines.push(line);
                target = next.next();
            }
            line += u64::from(b == b'\n');
            offset += 1;
        }
        let n = buf.len();
        input.consume(n);
    };
    while target.is_some() {
        lines.push(line);
        target = next.next();
    }
    let distinct = lines.windows(2).all(|w| w[0] < w[1]);
    if ok && distinct {
        return lines;
    }
    let why = if ok {
        "the XES file has several events on a line"
    } else {
        "the XES file could not be read again to count its lines"
    };
    notes.push(format!(
        "{why}: rows are numbered by event (1st, 2nd ... in the file) instead of by line"
    ));
    (1..=places.len() as u64).collect()
}

fn event_record(log: &EventLog, i: usize, nth: u32) -> Result<Record, FieldError> {
    let case_name = log.case_dict().name(log.case_codes()[i]).unwrap_or("");
    let attr = |col: &str| {
        log.attribute(col)
            .and_then(|c| c.dict.name(c.codes.get(i).copied()?))
    };
    let activity = log
        .activity_dict()
        .name(log.activity_codes()[i])
        .unwrap_or("");
    Ok(Record::CaseEvent(CaseEvent {
        id: Some(EventId::parse("event_id", &format!("{case_name}#{nth}"))?),
        case: CaseId::parse("case_id", case_name)?,
        at: Timestamp::from_unix(log.times_ms()[i].div_euclid(1000)),
        activity: Label::parse("activity", activity)?,
        agent: log
            .resource_dict()
            .name(log.resource_codes()[i])
            .map(|a| AgentId::parse("agent_id", a))
            .transpose()?,
        team: log
            .team_dict()
            .name(log.team_codes()[i])
            .map(|t| Label::parse("team", t))
            .transpose()?,
        text: match log.text(i) {
            Some(t) => Text::parse("text", t)?,
            None => None,
        },
        customer: attr("customer")
            .map(|c| CustomerId::parse("customer_id", c))
            .transpose()?,
        product: attr("product")
            .map(|p| ProductId::parse("product_id", p))
            .transpose()?,
    }))
}

fn quarantined_row(line: u64, q: &Quarantined) -> RowError {
    let mut e = RowError::whole_row(line, format!("{}: {}", q.position, q.reason));
    if let Some(case) = &q.case {
        e.field = Some("case_id".to_string());
        e.value = Some(case.clone());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_xes_and_zendesk_by_content() {
        assert_eq!(sniff(b"\xEF\xBB\xBF  <?xml version"), Some(Format::Xes));
        assert_eq!(
            sniff(br#"{"ticket_events": [{"ticket_id": 1}]}"#),
            Some(Format::ZendeskTicketEvents)
        );
        assert_eq!(
            sniff(br#"{"ticket_id": 1, "child_events": []}"#),
            Some(Format::ZendeskTicketEvents)
        );
        assert_eq!(sniff(br#"{"case_id": "c1", "at": "2024-01-01"}"#), None);
        assert_eq!(sniff(b"case_id,at,activity\n"), None);
    }
}
