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
//! - text = the comment body, when the export has it.
//!
//! So an assignee change is a transfer, and a status change is a stage change. Updates that
//! change none of these (SLA measures, tags) are not events.

use std::collections::HashMap;
use std::io::BufRead;

use hearken_flow::{Event, EventLog, EventLogBuilder};
use serde::Deserialize;
use serde_json::Value;

use crate::time::parse_time_ms;
use crate::{EventLogError, Position, Quarantined, ReadOptions};

#[derive(Deserialize)]
struct Page {
    ticket_events: Vec<TicketEvent>,
}

#[derive(Deserialize)]
struct TicketEvent {
    ticket_id: Option<Value>,
    created_at: Option<String>,
    timestamp: Option<i64>,
    #[serde(default)]
    child_events: Vec<serde_json::Map<String, Value>>,
}

#[derive(Default, Clone)]
struct TicketState {
    status: Option<String>,
    assignee: Option<String>,
    group: Option<String>,
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
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|e| EventLogError::Io {
            path: name.to_string(),
            source: e,
        })?;
    let events = parse_events(&text).map_err(|message| EventLogError::Json {
        path: name.to_string(),
        message,
    })?;
    let mut b = EventLogBuilder::new();
    let mut quarantined = Vec::new();
    let mut state: HashMap<String, TicketState> = HashMap::new();
    for (i, ev) in events.iter().enumerate() {
        let position = Position::Item(i as u64);
        let Some(ticket) = ev.ticket_id.as_ref().and_then(id_text) else {
            quarantined.push(Quarantined {
                position,
                case: None,
                reason: "ticket event has no ticket_id".to_string(),
            });
            continue;
        };
        let st = state.entry(ticket.clone()).or_default();
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
            continue;
        }
        let time = match (&ev.created_at, ev.timestamp) {
            (Some(t), _) => parse_time_ms("created_at", t, &opts.dates).map_err(|e| e.to_string()),
            // Up to the year 9999, like every other time Hearken reads.
            (None, Some(secs)) if secs.abs() < 253_402_300_800 => Ok(secs * 1000),
            (None, Some(secs)) => Err(format!("timestamp {secs} is out of range")),
            (None, None) => Err("ticket event has neither created_at nor timestamp".to_string()),
        };
        let time_ms = match time {
            Ok(t) => t,
            Err(reason) => {
                quarantined.push(Quarantined {
                    position,
                    case: Some(ticket),
                    reason,
                });
                continue;
            }
        };
        let st = st.clone();
        b.push(&Event {
            case: &ticket,
            activity: st.status.as_deref().unwrap_or("(no status)"),
            time_ms,
            resource: st.assignee.as_deref(),
            team: st.group.as_deref(),
            text: comment.as_deref(),
            attributes: &[],
        })
        .map_err(|source| EventLogError::Log {
            path: name.to_string(),
            source,
        })?;
    }
    Ok((b.finish(), quarantined))
}

/// A page object, an array of ticket events, or JSON Lines of either.
fn parse_events(text: &str) -> Result<Vec<TicketEvent>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).map_err(|e| e.to_string());
    }
    let mut out = Vec::new();
    for (n, value) in serde_json::Deserializer::from_str(trimmed)
        .into_iter::<Value>()
        .enumerate()
    {
        let value = value.map_err(|e| format!("JSON value {}: {e}", n + 1))?;
        if value.get("ticket_events").is_some() {
            let page: Page =
                serde_json::from_value(value).map_err(|e| format!("JSON value {}: {e}", n + 1))?;
            out.extend(page.ticket_events);
        } else if value.get("ticket_id").is_some() {
            out.push(
                serde_json::from_value(value).map_err(|e| format!("JSON value {}: {e}", n + 1))?,
            );
        } else {
            return Err(format!(
                "JSON value {} has neither ticket_events nor ticket_id",
                n + 1
            ));
        }
    }
    Ok(out)
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
}
