//! Zendesk incremental ticket-event exports (`GET /api/v2/incremental/ticket_events`, optionally
//! with the `comment_events` sideload).
//!
//! Each ticket event is one update (audit) of a ticket; its `child_events` hold the fields it
//! changed (`status`, `assignee_id`, `group_id`, …) and, with the sideload, its `Comment`. The
//! reader replays the updates per ticket and turns every update that changes the status, the
//! assignee or the group, or adds a comment, into one case event:
//! - case = `ticket_id`; time = `created_at` (else the Unix `timestamp`);
//! - activity = the ticket's status after the update (the status is the stage a ticket is in;
//!   `(no status)` before the first status is seen);
//! - resource = the assignee after the update, team = the group after the update (ids as text);
//! - text = the comment body, when the export has it;
//! - attributes: `channel` = the ticket's first `via` (how it came in: `Web form`, `Mail` ...,
//!   or `via.channel` when `via` is an object), `customer` = the ticket's `requester_id` when a
//!   child event sets it.
//!
//! So an assignee change is a transfer, and a status change is a stage change. Updates that
//! change none of these (SLA measures, tags) are not events.
//!
//! Streamed: the export is read value by value and each ticket event is replayed as soon as it
//! is parsed (a serde visitor over the `ticket_events` array), so memory is the log being built
//! plus one ticket event and the current state of each ticket, whatever the file size.

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use hearken_flow::{Event, EventLog, EventLogBuilder};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::time::parse_time_ms;
use crate::{EventLogError, Position, Quarantined, ReadOptions};

#[derive(Deserialize, Default)]
struct TicketEvent {
    ticket_id: Option<Value>,
    created_at: Option<String>,
    timestamp: Option<i64>,
    via: Option<Value>,
    #[serde(default)]
    child_events: Vec<serde_json::Map<String, Value>>,
}

#[derive(Default, Clone)]
struct TicketState {
    status: Option<String>,
    assignee: Option<String>,
    group: Option<String>,
    channel: Option<String>,
    customer: Option<String>,
}

/// The channel a `via` names: the text itself, or `channel` of a via object.
fn via_channel(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Object(o) => o.get("channel").and_then(id_text),
        _ => None,
    }
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn read(
    name: &str,
    mut input: impl BufRead,
    opts: &ReadOptions,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let mut b = EventLogBuilder::new();
    let columns = [
        b.attribute_column("channel"),
        b.attribute_column("customer"),
    ];
    let mut replay = Replay {
        opts,
        b,
        columns,
        quarantined: Vec::new(),
        state: HashMap::new(),
        items: 0,
        error: None,
    };
    let json_error = |message: String| EventLogError::Json {
        path: name.to_string(),
        message,
    };
    let mut values = 0u64;
    loop {
        // Between top-level values (JSON Lines, or concatenated pages) only whitespace.
        let more = skip_whitespace(&mut input).map_err(|e| EventLogError::Io {
            path: name.to_string(),
            source: e,
        })?;
        if !more {
            break;
        }
        values += 1;
        let mut de = serde_json::Deserializer::from_reader(&mut input);
        let parsed = TopLevel {
            replay: &mut replay,
        }
        .deserialize(&mut de);
        if let Some(source) = replay.error.take() {
            return Err(EventLogError::Log {
                path: name.to_string(),
                source,
            });
        }
        parsed.map_err(|e| json_error(format!("JSON value {values}: {e}")))?;
    }
    if values == 0 {
        return Err(json_error("there is no JSON value".to_string()));
    }
    Ok((replay.b.finish(), replay.quarantined))
}

/// Consumes whitespace; false at the end of the input.
fn skip_whitespace(input: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let n = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let found = n < buf.len();
        input.consume(n);
        if found {
            return Ok(true);
        }
    }
}

/// The replay of ticket events into case events, fed one ticket event at a time.
struct Replay<'o> {
    opts: &'o ReadOptions,
    b: EventLogBuilder,
    /// The builder columns of `channel` and `customer`.
    columns: [usize; 2],
    quarantined: Vec<Quarantined>,
    state: HashMap<String, TicketState>,
    /// Ticket events seen so far (the position of the next one).
    items: u64,
    /// A log error (too many events) that stopped the parse.
    error: Option<hearken_flow::LogError>,
}

impl Replay<'_> {
    fn push(&mut self, ev: TicketEvent) -> Result<(), hearken_flow::LogError> {
        let position = Position::Item(self.items);
        self.items += 1;
        let Some(ticket) = ev.ticket_id.as_ref().and_then(id_text) else {
            self.quarantined.push(Quarantined {
                position,
                case: None,
                reason: "ticket event has no ticket_id".to_string(),
            });
            return Ok(());
        };
        let st = self.state.entry(ticket.clone()).or_default();
        if st.channel.is_none() {
            st.channel = ev.via.as_ref().and_then(via_channel);
        }
        let mut changed = false;
        let mut comment: Option<String> = None;
        for child in &ev.child_events {
            if let Some(s) = child.get("status").and_then(Value::as_str) {
                st.status = Some(s.to_string());
                changed = true;
            }
            if let Some(a) = child.get("assignee_id") {
                st.assignee = id_text(a);
                changed = true;
            }
            if let Some(g) = child.get("group_id") {
                st.group = id_text(g);
                changed = true;
            }
            if let Some(r) = child.get("requester_id").and_then(id_text) {
                st.customer = Some(r);
            }
            let is_comment = child.get("event_type").and_then(Value::as_str) == Some("Comment")
                || child.get("type").and_then(Value::as_str) == Some("Comment");
            if is_comment {
                changed = true;
                if let Some(body) = child.get("body").and_then(Value::as_str) {
                    comment = Some(body.to_string());
                }
            }
        }
        if !changed {
            return Ok(());
        }
        let time = match (&ev.created_at, ev.timestamp) {
            (Some(t), _) => {
                parse_time_ms("created_at", t, &self.opts.dates).map_err(|e| e.to_string())
            }
            // Up to the year 9999, like every other time Hearken reads.
            (None, Some(secs)) if secs.abs() < 253_402_300_800 => Ok(secs * 1000),
            (None, Some(secs)) => Err(format!("timestamp {secs} is out of range")),
            (None, None) => Err("ticket event has neither created_at nor timestamp".to_string()),
        };
        let time_ms = match time {
            Ok(t) => t,
            Err(reason) => {
                self.quarantined.push(Quarantined {
                    position,
                    case: Some(ticket),
                    reason,
                });
                return Ok(());
            }
        };
        let [channel, customer] = self.columns;
        let mut attrs: Vec<(usize, &str)> = Vec::with_capacity(2);
        if let Some(c) = st.channel.as_deref() {
            attrs.push((channel, c));
        }
        if let Some(c) = st.customer.as_deref() {
            attrs.push((customer, c));
        }
        self.b.push(&Event {
            case: &ticket,
            activity: st.status.as_deref().unwrap_or("(no status)"),
            time_ms,
            resource: st.assignee.as_deref(),
            team: st.group.as_deref(),
            text: comment.as_deref(),
            attributes: &attrs,
        })?;
        if self.opts.keep_positions {
            self.b.record_position(self.items - 1);
        }
        Ok(())
    }

    /// Replays one event inside a serde visitor: a log error stops the parse (kept for the
    /// caller, which reports it instead of the parse error).
    fn push_in_visitor<E: de::Error>(&mut self, ev: TicketEvent) -> Result<(), E> {
        self.push(ev).map_err(|e| {
            let message = e.to_string();
            self.error = Some(e);
            E::custom(message)
        })
    }
}

/// One top-level JSON value: a page object (`ticket_events` streamed), a single ticket event
/// (JSON Lines), or an array of ticket events.
struct TopLevel<'r, 'o> {
    replay: &'r mut Replay<'o>,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with ticket_events, a ticket event or an array of ticket events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Events {
            replay: self.replay,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Either a page (stream its ticket_events, ignore the rest) or one ticket event, told
        // apart by the keys seen; a ticket event's fields are kept until the object ends.
        let mut page = false;
        let mut single = TicketEvent::default();
        let mut is_event = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "ticket_events" => {
                    page = true;
                    map.next_value_seed(Events {
                        replay: &mut *self.replay,
                    })?;
                }
                "ticket_id" => {
                    is_event = true;
                    single.ticket_id = map.next_value()?;
                }
                "created_at" => single.created_at = map.next_value()?,
                "timestamp" => single.timestamp = map.next_value()?,
                "via" => single.via = map.next_value()?,
                "child_events" => {
                    single.child_events = map
                        .next_value::<Option<Vec<serde_json::Map<String, Value>>>>()?
                        .unwrap_or_default();
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (page, is_event) {
            (true, _) => Ok(()),
            (false, true) => self.replay.push_in_visitor(single),
            (false, false) => Err(de::Error::custom(
                "this value has neither ticket_events nor ticket_id",
            )),
        }
    }
}

/// The `ticket_events` array, replayed element by element.
struct Events<'r, 'o> {
    replay: &'r mut Replay<'o>,
}

impl<'de> DeserializeSeed<'de> for Events<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Events<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ticket events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(ev) = seq.next_element::<TicketEvent>()? {
            self.replay.push_in_visitor(ev)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_bytes;

    #[test]
    fn rejects_other_json() {
        let e = read_bytes("x.json", br#"{"tickets": []}"#, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("ticket_events"), "{e}");
        let e =
            read_bytes("x.json", b"{\"ticket_events\": [", &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, EventLogError::Json { .. }));
    }

    #[test]
    fn lines_and_arrays_of_events() {
        let one = r#"{"ticket_id": 7, "timestamp": 1700000000, "child_events": [{"status": "open", "event_type": "Create"}]}"#;
        let (log, _) = read_bytes(
            "x.json",
            format!("{one}\n{one}\n").as_bytes(),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(log.len(), 2);
        let (log, _) = read_bytes(
            "x.json",
            format!("[{one}]").as_bytes(),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(log.times_ms(), &[1_700_000_000_000]);
    }

    /// Pages, arrays and single events may follow one another; the replay (ticket state)
    /// carries across them, and item positions count every ticket event.
    #[test]
    fn streams_values_one_after_another() {
        let ev = |t: i64, child: &str| {
            format!(r#"{{"ticket_id": 1, "timestamp": {t}, "child_events": [{child}]}}"#)
        };
        let page = format!(
            r#"{{"next_page": null, "ticket_events": [{}, {}], "end_of_stream": true, "count": 2}}"#,
            ev(1_700_000_000, r#"{"status": "new"}"#),
            ev(1_700_000_060, r#"{"assignee_id": 42}"#)
        );
        let input = format!(
            "{page}\n[{}]\n{}\n{{\"ticket_events\": [{{\"timestamp\": 5}}]}}",
            ev(1_700_000_120, r#"{"status": "solved"}"#),
            ev(1_700_000_180, r#"{"tags": ["x"]}"#),
        );
        let (log, q) = read_bytes("x.json", input.as_bytes(), &ReadOptions::default()).unwrap();
        let acts: Vec<&str> = log
            .activity_codes()
            .iter()
            .map(|&c| log.activity_dict().name(c).unwrap())
            .collect();
        assert_eq!(acts, ["new", "new", "solved"]);
        assert_eq!(
            log.resource_dict().name(log.resource_codes()[2]),
            Some("42")
        );
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].position, Position::Item(4));
        // A broken value after good ones: the error names the value.
        let e = read_bytes(
            "x.json",
            format!("{page}\n{{\"ticket_events\": [1").as_bytes(),
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("JSON value 2"), "{e}");
    }
}
