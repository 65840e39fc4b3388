//! CSV event logs: PM4Py's column names and Hearken's canonical `case_events` columns (and their
//! synonyms, docs/formats.md) are recognised without a mapping. Comma, semicolon, tab or pipe
//! separated, told from the header line. Rows are streamed.

use std::io::BufRead;

use hearken_flow::{CodedEvent, EventLog, EventLogBuilder, NONE};

use crate::time::{fast_time_ms, parse_time_ms};
use crate::{EventLogError, Position, Quarantined, ReadOptions, canonical_attribute};

const CASE: &[&str] = &["case:concept:name", "caseid", "case", "ticketid", "ticket"];
const ACTIVITY: &[&str] = &["concept:name", "activity", "stage", "status"];
const TIME: &[&str] = &[
    "time:timestamp",
    "at",
    "timestamp",
    "time",
    "createdat",
    "date",
];
const RESOURCE: &[&str] = &[
    "org:resource",
    "agentid",
    "agent",
    "resource",
    "assignee",
    "assigneeid",
];
const TEAM: &[&str] = &["org:group", "team", "group", "org:role"];
const TEXT: &[&str] = &["text", "comment", "body", "message", "description"];

/// Header names compared case-insensitively, ignoring spaces, `-` and `_` (docs/formats.md).
fn norm(s: &str) -> String {
    s.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn find(headers: &[String], wanted: &[&str]) -> Option<usize> {
    wanted
        .iter()
        .find_map(|w| headers.iter().position(|h| *h == norm(w)))
}

fn delimiter(first_line: &[u8]) -> u8 {
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

pub fn read(
    name: &str,
    mut input: impl BufRead,
    opts: &ReadOptions,
) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
    let io_err = |e| EventLogError::Io {
        path: name.to_string(),
        source: e,
    };
    let head = input.fill_buf().map_err(io_err)?;
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let delim = delimiter(&head[..line_end]);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .from_reader(input);
    let raw_headers: Vec<String> = rdr
        .headers()
        .map_err(|e| EventLogError::Csv {
            path: name.to_string(),
            line: 1,
            message: format!("cannot read the header: {e}"),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let headers: Vec<String> = raw_headers.iter().map(|h| norm(h)).collect();
    let k = &opts.keys;
    let column = |field: &'static str, key: &Option<String>, defaults: &[&str], required: bool| {
        let wanted: Vec<&str> = match key {
            Some(k) => vec![k.as_str()],
            None => defaults.to_vec(),
        };
        match find(&headers, &wanted) {
            Some(i) => Ok(Some(i)),
            None if !required => Ok(None),
            None => Err(EventLogError::MissingColumn {
                path: name.to_string(),
                field,
                looked_for: wanted.join(", "),
                found: raw_headers.join(", "),
            }),
        }
    };
    let case_col = column("case id", &k.case, CASE, true)?.unwrap_or(0);
    let act_col = column("activity", &k.activity, ACTIVITY, true)?.unwrap_or(0);
    let time_col = column("timestamp", &k.time, TIME, true)?.unwrap_or(0);
    let res_col = column("resource", &k.resource, RESOURCE, false)?;
    let team_col = column("team", &k.team, TEAM, false)?;
    let text_col = column("text", &k.text, TEXT, false)?;
    let mut b = EventLogBuilder::new();
    // Every other column: a case property Hearken knows (by its synonyms), a `case:` column or
    // an asked-for one is kept as an attribute; the rest are named in the log as not kept.
    let core = [
        Some(case_col),
        Some(act_col),
        Some(time_col),
        res_col,
        team_col,
        text_col,
    ];
    let mut attr_cols: Vec<(usize, usize)> = Vec::new();
    for (i, raw) in raw_headers.iter().enumerate() {
        let h = raw.trim().trim_start_matches('\u{feff}');
        if core.contains(&Some(i)) || h.is_empty() {
            continue;
        }
        let asked = opts
            .attributes
            .iter()
            .any(|a| norm(a) == headers[i] || norm(&format!("case:{a}")) == headers[i]);
        let name = match (canonical_attribute(h), h.strip_prefix("case:")) {
            (Some(c), _) => c,
            (None, Some(stripped)) => stripped,
            (None, None) if asked => h,
            (None, None) => {
                b.note_unkept_attribute(h);
                continue;
            }
        };
        attr_cols.push((i, b.attribute_column(name)));
    }
    let time_field = raw_headers.get(time_col).cloned().unwrap_or_default();
    let mut quarantined = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut attrs: Vec<(usize, u32)> = Vec::with_capacity(attr_cols.len());
    let mut last_case: Option<(String, u32)> = None;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(EventLogError::Csv {
                    path: name.to_string(),
                    line,
                    message: e.to_string(),
                });
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| -> Result<&str, String> {
            let raw = record.get(i).unwrap_or(b"");
            std::str::from_utf8(raw).map_err(|_| format!("column {} is not UTF-8", i + 1))
        };
        let mut quarantine = |case: Option<&str>, reason: String| {
            quarantined.push(Quarantined {
                position: Position::Line(line),
                case: case.map(str::to_string),
                reason,
            });
        };
        let (case, activity, time) = match (field(case_col), field(act_col), field(time_col)) {
            (Ok(c), Ok(a), Ok(t)) => (c.trim(), a.trim(), t.trim()),
            (Err(m), ..) | (_, Err(m), _) | (.., Err(m)) => {
                quarantine(None, m);
                continue;
            }
        };
        if case.is_empty() {
            quarantine(None, "the case id is empty".to_string());
            continue;
        }
        if activity.is_empty() {
            quarantine(Some(case), "the activity is empty".to_string());
            continue;
        }
        if time.is_empty() {
            quarantine(Some(case), "the timestamp is empty".to_string());
            continue;
        }
        let parsed = match fast_time_ms(time.as_bytes(), &opts.dates) {
            Some(ms) => Ok(ms),
            None => parse_time_ms(&time_field, time, &opts.dates),
        };
        let time_ms = match parsed {
            Ok(t) => t,
            Err(e) => {
                quarantine(Some(case), e.to_string());
                continue;
            }
        };
        let opt = |col: Option<usize>| col.and_then(|i| field(i).ok());
        let resource = opt(res_col).map_or(NONE, |r| b.resource_code(r.trim()));
        let team = opt(team_col).map_or(NONE, |t| b.team_code(t.trim()));
        let text = opt(text_col);
        attrs.clear();
        for &(i, col) in &attr_cols {
            if let Ok(v) = field(i) {
                attrs.push((col, b.attribute_code(col, v.trim())));
            }
        }
        // Rows of a case are usually together: skip the dictionary for a repeated case id.
        let case = match &last_case {
            Some((name, code)) if name == case => *code,
            _ => {
                let code = b.case_code(case);
                last_case = Some((case.to_string(), code));
                code
            }
        };
        let activity = b.activity_code(activity);
        b.push_coded(&CodedEvent {
            case,
            activity,
            time_ms,
            resource,
            team,
            text,
            attributes: &attrs,
        })
        .map_err(|source| EventLogError::Log {
            path: name.to_string(),
            source,
        })?;
        if opts.keep_positions {
            b.record_position(line);
        }
    }
    Ok((b.finish(), quarantined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_bytes;

    fn read_str(s: &str) -> Result<(EventLog, Vec<Quarantined>), EventLogError> {
        read_bytes("t.csv", s.as_bytes(), &ReadOptions::default())
    }

    #[test]
    fn pm4py_columns_without_mapping() {
        let (log, q) = read_str(
            ",concept:name,org:resource,time:timestamp,case:concept:name\n\
             0,register,Pete,2010-12-30 14:32:00+01:00,3\n\
             1,check,,2010-12-30 15:06:00.5+01:00,3\n",
        )
        .unwrap();
        assert!(q.is_empty());
        assert_eq!(log.len(), 2);
        assert_eq!(log.resource_codes()[1], NONE);
        assert_eq!(log.times_ms()[1] - log.times_ms()[0], 34 * 60_000 + 500);
    }

    #[test]
    fn canonical_columns_semicolons_and_quarantine() {
        let (log, q) = read_str(
            "\u{feff}Case ID;At;Activity;Agent_ID;Team;Text;Product\n\
             c1;2024-03-05T10:00:00Z;open;a1;L1;\"hello;\nthere\";p1\n\
             c1;;close;a1;L1;;p1\n\
             c2;yesterday;open;a2;L1;;p2\n\
             ;2024-03-05;open;a2;L1;;p2\n",
        )
        .unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log.text(0), Some("hello;\nthere"));
        assert_eq!(log.team_dict().name(0), Some("L1"));
        assert_eq!(log.attribute("product").unwrap().codes, vec![0]);
        let lines: Vec<String> = q.iter().map(|x| x.position.to_string()).collect();
        assert_eq!(lines, ["line 4", "line 5", "line 6"]);
        assert!(q[0].reason.contains("timestamp is empty"));
        assert!(q[1].reason.contains("yesterday"), "{}", q[1]);
    }

    #[test]
    fn missing_column_lists_what_was_found() {
        let e = read_str("case_id,activity\nc,a\n").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("timestamp") && m.contains("case_id, activity"),
            "{m}"
        );
    }
}
