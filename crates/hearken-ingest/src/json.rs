//! JSON rows, in three shapes: JSON Lines (one object per line, read as a stream in constant
//! memory), a JSON array of objects, and one or more objects written over several lines (a
//! pretty-printed object). The shape is told by the content: a `[` first is an array; an object
//! whose first line does not close is read as a sequence of objects when the whole input is one;
//! anything else is JSON Lines. An array or a multi-line sequence is read whole into memory
//! (JSON Lines is the shape for large files).
//!
//! Each object's keys are bound to canonical fields by the mapping, then by name and synonym. A
//! mapping may name a path into nested values instead of a top-level key: `via.channel` (a key
//! of an object), `tags[0]` (an element of a list), `custom_fields[id=360012001].value` (the
//! first element of a list whose `id` is 360012001). A top-level key spelled like the path wins.
//! A field the mapping binds is never overridden by another key's name or synonym.
//!
//! Rows of an array or sequence carry the line their object starts on.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::Path;

use hearken_model::{Label, RecordKind};
use serde_json::{Map, Value};

use crate::convert::{RowValues, convert};
use crate::fields::{ASPECT_PREFIX, fields, match_header, normalise, slot};
use crate::reader::{ParsedRow, ReadOptions, Rules, cut, read_error};
use crate::{IngestError, RowError};

/// How much of an input starting with a multi-line object is read to decide whether it is a
/// sequence of objects; a larger input is read as JSON Lines.
const DOCUMENT_PROBE: u64 = 64 << 20;

#[derive(Debug, Clone)]
enum Target {
    Slot(usize),
    Aspect(Label),
    Aspects,
    Ignore,
}

/// One step of a path into nested values.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// The first element of a list that is an object whose `key` holds `value`.
    Find {
        key: String,
        value: String,
    },
}

/// A path into nested values (`via.channel`, `tags[0]`, `custom_fields[id=7].value`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses a path; None when `spec` is a plain key (no `.` or `[`) or not a valid path.
    pub(crate) fn parse(spec: &str) -> Option<JsonPath> {
        if !spec.contains(['.', '[']) {
            return None;
        }
        let mut steps = Vec::new();
        let mut rest = spec;
        let mut expect_name = true;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                let inner = &r[..end];
                let step = match inner.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => Step::Find {
                        key: k.trim().to_string(),
                        value: v.trim().trim_matches(['"', '\'']).to_string(),
                    },
                    Some(_) => return None,
                    None => Step::Index(inner.trim().parse().ok()?),
                };
                steps.push(step);
                rest = &r[end + 1..];
                expect_name = false;
            } else if let Some(r) = rest.strip_prefix('.') {
                if steps.is_empty() {
                    return None;
                }
                rest = r;
                expect_name = true;
            } else {
                if !expect_name {
                    return None;
                }
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let name = &rest[..end];
                if name.is_empty() {
                    return None;
                }
                steps.push(Step::Key(name.to_string()));
                rest = &rest[end..];
                expect_name = false;
            }
        }
        if expect_name || steps.is_empty() {
            return None;
        }
        matches!(steps[0], Step::Key(_)).then_some(JsonPath { steps })
    }

    fn root(&self) -> &str {
        match &self.steps[0] {
            Step::Key(k) => k,
            // parse() only returns paths that start with a key.
            _ => "",
        }
    }

    /// The value at the path, if every step finds one.
    fn resolve<'v>(&self, obj: &'v Map<String, Value>) -> Option<&'v Value> {
        let mut steps = self.steps.iter();
        let mut at = match steps.next()? {
            Step::Key(k) => obj.get(k)?,
            _ => return None,
        };
        for step in steps {
            at = match step {
                Step::Key(k) => at.as_object()?.get(k)?,
                Step::Index(i) => at.as_array()?.get(*i)?,
                Step::Find { key, value } => at.as_array()?.iter().find(|e| {
                    e.as_object()
                        .and_then(|o| o.get(key))
                        .is_some_and(|v| match v {
                            Value::String(s) => s == value,
                            Value::Number(n) => n.to_string() == *value,
                            Value::Bool(b) => b.to_string() == *value,
                            _ => false,
                        })
                })?,
            };
        }
        Some(at)
    }
}

/// A key as written, else the path it spells.
fn lookup<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key)
        .or_else(|| JsonPath::parse(key).and_then(|p| p.resolve(obj)))
}

enum Mode {
    /// Nothing read yet: the first bytes tell the shape.
    Undecided,
    Lines,
    /// An array or a sequence of objects, in memory.
    Document(Document),
    Done,
}

/// The next value of a document: its line, the range of its bytes and the value; or a syntax
/// error at a line.
type Next = Result<Option<(u64, std::ops::Range<usize>, Value)>, (u64, String)>;

struct Document {
    data: Vec<u8>,
    pos: usize,
    /// The line of the byte at `counted`.
    line: u64,
    counted: usize,
    array: bool,
    /// In an array: no element read yet.
    first: bool,
}

impl Document {
    fn line_at(&mut self, pos: usize) -> u64 {
        self.line += self.data[self.counted..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.counted = pos;
        self.line
    }

    fn skip_ws(&mut self) {
        while self.pos < self.data.len() && self.data[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// The next value: its line, its bytes' range and the value. None at the end. An error is
    /// a problem with the document's syntax, at a line.
    fn next_value(&mut self) -> Next {
        self.skip_ws();
        if self.array {
            match self.peek() {
                Some(b']') if self.first => {
                    self.pos += 1;
                    return self.end();
                }
                Some(b']') => {
                    let line = self.line_at(self.pos);
                    return Err((
                        line,
                        "a ',' before the array's ']' with no element after it".into(),
                    ));
                }
                None => {
                    let line = self.line_at(self.pos);
                    return Err((line, "the array is not closed with ']'".into()));
                }
                _ => {}
            }
        } else if self.peek().is_none() {
            return Ok(None);
        }
        let start = self.pos;
        let line = self.line_at(start);
        let mut values =
            serde_json::Deserializer::from_slice(&self.data[start..]).into_iter::<Value>();
        let value = match values.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                return Err((
                    line + e.line() as u64 - 1,
                    format!("is not valid JSON: {e}"),
                ));
            }
            None => return Ok(None),
        };
        let end = start + values.byte_offset();
        self.pos = end;
        self.first = false;
        if self.array {
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.end().map(drop)?;
                }
                None => {
                    let line = self.line_at(self.pos);
                    return Err((line, "the array is not closed with ']'".into()));
                }
                _ => {
                    let line = self.line_at(self.pos);
                    return Err((
                        line,
                        "expected ',' or ']' after an element of the array".into(),
                    ));
                }
            }
        }
        Ok(Some((line, start..end, value)))
    }

    /// After the array's `]`: only white space may follow.
    fn end(&mut self) -> Next {
        self.skip_ws();
        if self.pos < self.data.len() {
            let line = self.line_at(self.pos);
            return Err((line, "text after the end of the array".into()));
        }
        self.array = false;
        Ok(None)
    }
}

pub(crate) struct JsonRows {
    reader: Box<dyn BufRead + Send>,
    mode: Mode,
    buf: Vec<u8>,
    line: u64,
    targets: HashMap<String, Target>,
    /// Mapping entries that are paths into nested values, with the spelling they were given.
    paths: Vec<(String, JsonPath, Target)>,
    /// Top-level keys the paths go into: read through the paths, not reported as ignored.
    roots: HashSet<String>,
    /// Slots the mapping binds: names and synonyms of other keys do not override them.
    mapped: Vec<bool>,
    pub(crate) ignored: Vec<String>,
    max_line: usize,
    /// No row returned yet.
    first: bool,
}

impl JsonRows {
    pub(crate) fn new(reader: Box<dyn BufRead + Send>, opts: &ReadOptions) -> JsonRows {
        let kind = opts.kind;
        let mut targets = HashMap::new();
        let mut paths = Vec::new();
        let mut roots = HashSet::new();
        let mut mapped = vec![false; fields(kind).len()];
        let mut bind = |key: &String, target: Target| {
            if let Some(p) = JsonPath::parse(key) {
                roots.insert(p.root().to_string());
                paths.push((key.clone(), p, target.clone()));
            }
            targets.insert(key.clone(), target);
        };
        if let Some(m) = &opts.mapping {
            for (field, key) in &m.columns {
                if let Some(i) = slot(kind, field) {
                    mapped[i] = true;
                    bind(key, Target::Slot(i));
                }
            }
            for (aspect, key) in &m.aspects {
                if let Ok(label) = Label::parse("aspect", aspect) {
                    bind(key, Target::Aspect(label));
                }
            }
        }
        JsonRows {
            reader,
            mode: Mode::Undecided,
            buf: Vec::new(),
            line: 0,
            targets,
            paths,
            roots,
            mapped,
            ignored: Vec::new(),
            max_line: opts.max_line,
            first: true,
        }
    }

    fn target(&mut self, kind: RecordKind, key: &str) -> Target {
        if let Some(t) = self.targets.get(key) {
            return t.clone();
        }
        let t = if let Some(i) = match_header(kind, key) {
            if self.mapped.get(i).copied().unwrap_or(false) {
                Target::Ignore
            } else {
                Target::Slot(i)
            }
        } else if kind == RecordKind::Surveys && normalise(key) == "aspects" {
            Target::Aspects
        } else if kind == RecordKind::Surveys
            && normalise(key).starts_with(ASPECT_PREFIX)
            && key.len() > ASPECT_PREFIX.len()
        {
            let name = key[ASPECT_PREFIX.len()..].trim_start_matches(['_', '-', ' ', ':']);
            Label::parse("aspect", name).map_or(Target::Ignore, Target::Aspect)
        } else {
            Target::Ignore
        };
        if matches!(t, Target::Ignore) {
            self.ignored.push(key.to_string());
        }
        self.targets.insert(key.to_string(), t.clone());
        t
    }

    pub(crate) fn next_row(
        &mut self,
        path: &Path,
        rules: &Rules,
    ) -> Result<Option<ParsedRow>, IngestError> {
        loop {
            match std::mem::replace(&mut self.mode, Mode::Done) {
                Mode::Done => return Ok(None),
                Mode::Undecided => self.decide(path)?,
                Mode::Lines => {
                    self.mode = Mode::Lines;
                    return self.next_line(path, rules);
                }
                Mode::Document(mut doc) => {
                    let row = match doc.next_value() {
                        Ok(Some((line, range, value))) => {
                            let raw = &doc.data[range];
                            let raw = || Some(cut(String::from_utf8_lossy(raw).trim_end()));
                            let row = match value {
                                Value::Object(obj) => self.parse_object(&obj, line, rules, raw),
                                _ => not_an_object(line, raw),
                            };
                            self.first = false;
                            row
                        }
                        Ok(None) => return Ok(None),
                        Err((line, message)) => {
                            return Err(IngestError::Format {
                                path: path.to_path_buf(),
                                message: format!("line {line}: {message}"),
                            });
                        }
                    };
                    self.mode = Mode::Document(doc);
                    return Ok(Some(row));
                }
            }
        }
    }

    /// Looks at the first bytes that are not white space: `[` is an array, read whole.
    fn decide(&mut self, path: &Path) -> Result<(), IngestError> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| read_error(path, self.line + 1, e, self.max_line))?;
            if buf.is_empty() {
                self.mode = Mode::Lines;
                return Ok(());
            }
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) if buf[i] == b'[' => {
                    let mut data = Vec::new();
                    self.reader
                        .read_to_end(&mut data)
                        .map_err(|e| read_error(path, self.line + 1, e, self.max_line))?;
                    let pos = data.iter().position(|&b| b == b'[').unwrap_or(0) + 1;
                    let mut doc = Document {
                        data,
                        pos,
                        line: self.line + 1,
                        counted: 0,
                        array: true,
                        first: true,
                    };
                    doc.line_at(pos);
                    self.mode = Mode::Document(doc);
                    return Ok(());
                }
                Some(_) => {
                    self.mode = Mode::Lines;
                    return Ok(());
                }
                None => {
                    // Leading blank lines: counted, as JSON Lines would count them.
                    let n = buf.len();
                    self.line += buf.iter().filter(|&&b| b == b'\n').count() as u64;
                    self.reader.consume(n);
                }
            }
        }
    }

    fn next_line(&mut self, path: &Path, rules: &Rules) -> Result<Option<ParsedRow>, IngestError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| read_error(path, self.line + 1, e, self.max_line))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line;
            let buf = std::mem::take(&mut self.buf);
            if self.first && self.starts_a_document(&buf, path)? {
                self.buf = buf;
                return self.next_row(path, rules);
            }
            self.first = false;
            let row = self.parse_line(&buf, line, rules);
            self.buf = buf;
            return Ok(Some(row));
        }
    }

    /// The first line holds an object that does not close there: when the whole input (up to
    /// [`DOCUMENT_PROBE`]) is a sequence of JSON values, it is read as one; otherwise the lines
    /// are read as JSON Lines, from memory.
    fn starts_a_document(&mut self, first: &[u8], path: &Path) -> Result<bool, IngestError> {
        let opens = first.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !opens {
            return Ok(false);
        }
        match serde_json::from_slice::<serde::de::IgnoredAny>(first) {
            Err(e) if e.is_eof() => {}
            _ => return Ok(false),
        }
        let mut data = first.to_vec();
        let mut reader = std::mem::replace(&mut self.reader, Box::new(std::io::empty()));
        (&mut reader)
            .take(DOCUMENT_PROBE)
            .read_to_end(&mut data)
            .map_err(|e| read_error(path, self.line + 1, e, self.max_line))?;
        let whole = data.len() < first.len() + DOCUMENT_PROBE as usize;
        let sequence = whole
            && serde_json::Deserializer::from_slice(&data)
                .into_iter::<serde::de::IgnoredAny>()
                .all(|v| v.is_ok());
        if sequence {
            // `data` starts at the start of this line.
            self.mode = Mode::Document(Document {
                data,
                pos: 0,
                line: self.line,
                counted: 0,
                array: false,
                first: true,
            });
            return Ok(true);
        }
        // Not one document: the rest is read as lines again (this line is read as a row).
        let rest = data.split_off(first.len());
        self.reader = Box::new(std::io::Cursor::new(rest).chain(reader));
        Ok(false)
    }

    fn parse_line(&mut self, buf: &[u8], line: u64, rules: &Rules) -> ParsedRow {
        let raw = || Some(cut(String::from_utf8_lossy(buf).trim_end()));
        match serde_json::from_slice::<Value>(buf) {
            Ok(Value::Object(obj)) => self.parse_object(&obj, line, rules, raw),
            Ok(_) => not_an_object(line, raw),
            Err(e) => {
                let reason = if std::str::from_utf8(buf).is_err() {
                    "is not valid UTF-8; save the file as UTF-8".to_string()
                } else {
                    format!("is not a JSON object: {e}")
                };
                ParsedRow::new(line, Err(RowError::whole_row(line, reason)), raw())
            }
        }
    }

    fn parse_object(
        &mut self,
        obj: &Map<String, Value>,
        line: u64,
        rules: &Rules,
        raw: impl Fn() -> Option<String>,
    ) -> ParsedRow {
        let kind = rules.kind;
        for (rule, reason) in &rules.skip {
            let value = match lookup(obj, &rule.column) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
                Some(other) => Some(Cow::Owned(other.to_string())),
            };
            if rule.skips(value.as_deref()) {
                return ParsedRow::skip(line, reason.clone());
            }
        }
        let n = fields(kind).len();
        let mut slots: Vec<Option<Cow<'_, str>>> = vec![None; n];
        let mut native = 0u64;
        let mut aspects = Vec::new();
        let scalar = |key: &str, v: &Value| -> Result<Option<(String, bool)>, RowError> {
            match v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some((s.clone(), false))),
                Value::Number(x) => Ok(Some((x.to_string(), true))),
                Value::Bool(b) => Ok(Some((b.to_string(), false))),
                other => Err(RowError {
                    line,
                    field: Some(key.to_string()),
                    value: Some(cut(&other.to_string()).chars().take(120).collect()),
                    reason: "is a list or object, expected a single value (a mapping can name a value inside it by its path, e.g. \"via.channel\")".into(),
                }),
            }
        };
        let mut apply = |key: &str,
                         target: Target,
                         value: &Value,
                         slots: &mut Vec<Option<Cow<'_, str>>>|
         -> Result<(), RowError> {
            match target {
                Target::Ignore => Ok(()),
                Target::Slot(i) => scalar(key, value).map(|v| {
                    if let Some((v, is_number)) = v {
                        if is_number && i < 64 {
                            native |= 1 << i;
                        }
                        slots[i] = Some(Cow::Owned(v));
                    }
                }),
                Target::Aspect(label) => scalar(key, value).map(|v| {
                    if let Some((v, is_number)) = v {
                        aspects.push((label, Cow::Owned(v), is_number));
                    }
                }),
                Target::Aspects => match value.as_object() {
                    Some(map) => map.iter().try_for_each(|(name, v)| {
                        let label = Label::parse("aspect", name)
                            .map_err(|e| RowError::from_field(line, e))?;
                        if let Some((v, is_number)) = scalar(name, v)? {
                            aspects.push((label, Cow::Owned(v), is_number));
                        }
                        Ok(())
                    }),
                    None => Err(RowError::whole_row(
                        line,
                        "'aspects' must be an object of name: rating",
                    )),
                },
            }
        };
        for (key, value) in obj {
            if self.roots.contains(key) && !self.targets.contains_key(key) {
                continue;
            }
            let target = self.target(kind, key);
            if let Err(e) = apply(key, target, value, &mut slots) {
                return ParsedRow::new(line, Err(e), raw());
            }
        }
        for (spec, path, target) in &self.paths {
            if obj.contains_key(spec) {
                continue;
            }
            if let Some(value) = path.resolve(obj)
                && let Err(e) = apply(spec, target.clone(), value, &mut slots)
            {
                return ParsedRow::new(line, Err(e), raw());
            }
        }
        // A translated or defaulted value is the mapping's text, not the file's number.
        let slots: Vec<Option<Cow<'_, str>>> = slots
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                if i >= 64 || native & (1 << i) == 0 {
                    return rules.plan.apply(i, v);
                }
                let number = v.clone();
                let out = rules.plan.apply(i, v);
                if out != number {
                    native &= !(1u64 << i);
                }
                out
            })
            .collect();
        let values = RowValues {
            slots,
            aspects,
            native,
        };
        match convert(kind, &values, &rules.date, &rules.numbers, line) {
            Ok(record) => ParsedRow::new(line, Ok(record), None),
            Err(e) => ParsedRow::new(line, Err(e), raw()).keyed(&values),
        }
    }
}

fn not_an_object(line: u64, raw: impl Fn() -> Option<String>) -> ParsedRow {
    ParsedRow::new(
        line,
        Err(RowError::whole_row(
            line,
            "is not a JSON object: each row must be an object of field: value",
        )),
        raw(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_resolve() {
        assert_eq!(JsonPath::parse("channel"), None);
        assert_eq!(JsonPath::parse(".a"), None);
        assert_eq!(JsonPath::parse("a."), None);
        assert_eq!(JsonPath::parse("a[x"), None);
        assert_eq!(JsonPath::parse("a[=1]"), None);
        let obj: Map<String, Value> = serde_json::from_str(
            r#"{"via": {"channel": "web", "source": {"from": {"address": "a@b"}}},
                "tags": ["billing", "vip"],
                "custom_fields": [{"id": 1, "value": "x"}, {"id": 360012001, "value": "outage"}],
                "a.b": "literal"}"#,
        )
        .unwrap();
        let at = |p: &str| JsonPath::parse(p).unwrap().resolve(&obj).cloned();
        assert_eq!(at("via.channel"), Some(Value::from("web")));
        assert_eq!(at("via.source.from.address"), Some(Value::from("a@b")));
        assert_eq!(at("tags[1]"), Some(Value::from("vip")));
        assert_eq!(at("tags[2]"), None);
        assert_eq!(
            at("custom_fields[id=360012001].value"),
            Some(Value::from("outage"))
        );
        assert_eq!(at("custom_fields[id=\"1\"].value"), Some(Value::from("x")));
        assert_eq!(at("via.nothing"), None);
        assert_eq!(lookup(&obj, "a.b"), Some(&Value::from("literal")));
    }
}
