//! Streaming rows out of a file: CSV (delimiter sniffed, quoted newlines, Qualtrics' extra header
//! rows) or JSON Lines, one [`ParsedRow`] at a time, in constant memory.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use hearken_model::{DateOptions, Label, Record, RecordKind, Timestamp};

use crate::convert::{RowValues, convert};
use crate::fields::{ASPECT_PREFIX, fields, match_header, normalise, slot};
use crate::input::{self, Format, Progress};
use crate::{IngestError, Mapping, RowError};

/// How much of a bad row's raw text the quarantine keeps. The file and line locate the rest.
pub const MAX_RAW: usize = 64 << 10;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub kind: RecordKind,
    pub mapping: Option<Mapping>,
    /// Longest physical line accepted (default [`input::MAX_LINE`]).
    pub max_line: usize,
    /// Runs on valid records through [`RowReader::enrich`]: text understanding (sentiment,
    /// language, topic) and PII redaction plug in here.
    pub enrich: Option<Enricher>,
}

impl ReadOptions {
    pub fn new(kind: RecordKind) -> ReadOptions {
        ReadOptions {
            kind,
            mapping: None,
            max_line: input::MAX_LINE,
            enrich: None,
        }
    }
}

/// What enrichment adds to a record's text (a signal's text, a survey comment, a case-event
/// comment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enriched {
    /// VADER compound score; None when there is no text or it is not scored (not English).
    pub sentiment: Option<f32>,
    /// ISO 639-1 code of the detected language, None when there is no text.
    pub language: Option<&'static str>,
    /// Personal data replaced by placeholders before storing.
    pub redactions: u32,
    /// The topic model's label for the text (None: no model, no text, or below its threshold).
    pub topic: Option<String>,
    /// The model's probability for its top label.
    pub topic_probability: Option<f32>,
}

/// A function that may rewrite a record's text (redaction) and scores it.
#[derive(Clone)]
pub struct Enricher(pub std::sync::Arc<dyn Fn(&mut Record) -> Enriched + Send + Sync>);

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enricher")
    }
}

/// One row read from a file: a validated record, or why it is not one (with its raw text, to be
/// quarantined).
#[derive(Debug)]
pub struct ParsedRow {
    pub line: u64,
    pub record: Result<Record, RowError>,
    pub raw: Option<String>,
    pub enriched: Enriched,
}

/// Per-field value translations and defaults from the mapping.
#[derive(Debug, Default)]
struct Plan {
    defaults: Vec<Option<String>>,
    values: Vec<Option<HashMap<String, String>>>,
}

impl Plan {
    fn new(kind: RecordKind, mapping: Option<&Mapping>) -> Plan {
        let n = fields(kind).len();
        let mut plan = Plan {
            defaults: vec![None; n],
            values: vec![None; n],
        };
        if let Some(m) = mapping {
            for (field, value) in &m.defaults {
                if let Some(i) = slot(kind, field) {
                    plan.defaults[i] = Some(value.clone());
                }
            }
            for (field, table) in &m.values {
                if let Some(i) = slot(kind, field) {
                    plan.values[i] = Some(
                        table
                            .iter()
                            .map(|(k, v)| (k.trim().to_string(), v.clone()))
                            .collect(),
                    );
                }
            }
        }
        plan
    }

    fn apply<'a>(&self, i: usize, v: Option<Cow<'a, str>>) -> Option<Cow<'a, str>> {
        let v = match v {
            Some(v) if !v.trim().is_empty() => v,
            _ => return self.defaults[i].clone().map(Cow::Owned),
        };
        match self.values[i].as_ref().and_then(|t| t.get(v.trim())) {
            Some(mapped) => Some(Cow::Owned(mapped.clone())),
            None => Some(v),
        }
    }
}

/// Reads rows of one kind from one file.
pub struct RowReader {
    path: PathBuf,
    kind: RecordKind,
    date: DateOptions,
    plan: Plan,
    inner: Inner,
    progress: Progress,
    size: u64,
    notes: Vec<String>,
    enrich: Option<Enricher>,
}

enum Inner {
    Csv(CsvRows),
    Json(JsonRows),
    /// An XES log or a Zendesk ticket-event export, read as case events (crate::eventlog).
    Events(crate::eventlog::EventRows),
}

impl RowReader {
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<RowReader, IngestError> {
        if let Some(m) = &opts.mapping {
            m.validate(opts.kind)?;
        }
        let mut opened = input::open(path, opts.max_line)?;
        let date = opts
            .mapping
            .as_ref()
            .map(Mapping::date_options)
            .unwrap_or_default();
        let plan = Plan::new(opts.kind, opts.mapping.as_ref());
        let mut notes = Vec::new();
        // Event logs are told by their content, whatever the file is called.
        let log_format = if opts.kind == RecordKind::CaseEvents {
            let head = opened.reader.fill_buf().map_err(|e| IngestError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            crate::eventlog::sniff(head)
        } else {
            None
        };
        if let (Some(_), Some(_)) = (log_format, &opts.mapping) {
            return Err(IngestError::Format {
                path: path.to_path_buf(),
                message: "is an event log (XES or Zendesk ticket events), read by its standard \
                          keys; a mapping applies to CSV and JSON Lines files: import it without \
                          --mapping"
                    .to_string(),
            });
        }
        let inner = match (log_format, opened.format) {
            (Some(format), _) => Inner::Events(crate::eventlog::EventRows::open(
                path,
                format,
                opened.reader,
                &mut notes,
            )?),
            (None, format) => match format {
                Format::Csv => Inner::Csv(CsvRows::open(
                    path,
                    opened.reader,
                    opts,
                    &plan,
                    &date,
                    &mut notes,
                )?),
                Format::JsonLines => Inner::Json(JsonRows::new(opened.reader, opts)),
            },
        };
        Ok(RowReader {
            path: path.to_path_buf(),
            kind: opts.kind,
            date,
            plan,
            inner,
            progress: opened.progress,
            size: opened.size,
            notes,
            enrich: opts.enrich.clone(),
        })
    }

    /// Bytes of the file read so far, and its size, for a progress bar.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Things worth telling the person importing: ignored columns, a recognised export format.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        if let Inner::Json(j) = &self.inner
            && !j.ignored.is_empty()
        {
            notes.push(format!("ignored keys: {}", j.ignored.join(", ")));
        }
        notes
    }

    /// The next row, or None at the end of the file. An `Err` is a problem with the whole file
    /// (unreadable, a line beyond the limit); the rows before it were returned.
    pub fn next_row(&mut self) -> Result<Option<ParsedRow>, IngestError> {
        match &mut self.inner {
            Inner::Csv(c) => c.next_row(&self.path, self.kind, &self.plan, &self.date),
            Inner::Json(j) => j.next_row(
                &self.path,
                self.kind,
                &self.plan,
                &self.date,
                &mut self.notes,
            ),
            Inner::Events(e) => Ok(e.next_row()),
        }
    }

    /// Runs the configured [`Enricher`] on a valid row. Separate from [`RowReader::next_row`] so
    /// the caller can take the row's identity from its source content first: redaction rewrites
    /// text, and the same source row must stay the same row whatever the enrichment settings.
    pub fn enrich(&self, row: &mut ParsedRow) {
        if let (Some(enrich), Ok(record)) = (&self.enrich, row.record.as_mut()) {
            row.enriched = (enrich.0)(record);
        }
    }
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_RAW {
        return s.to_string();
    }
    let mut end = MAX_RAW;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes in all]", &s[..end], s.len())
}

fn read_error(path: &Path, line: u64, e: std::io::Error, limit: usize) -> IngestError {
    if input::is_line_too_long(&e) {
        IngestError::LineTooLong {
            path: path.to_path_buf(),
            line,
            limit,
        }
    } else {
        IngestError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

struct CsvRows {
    rdr: csv::Reader<Box<dyn BufRead + Send>>,
    rec: csv::ByteRecord,
    pushed_back: VecDeque<csv::ByteRecord>,
    headers: Vec<String>,
    cols: Vec<Option<usize>>,
    aspects: Vec<(Label, usize)>,
    delimiter: u8,
    max_line: usize,
}

/// Picks the delimiter that occurs most often outside quotes in the header line.
fn sniff_delimiter(path: &Path, head: &[u8]) -> u8 {
    if path
        .to_string_lossy()
        .to_ascii_lowercase()
        .trim_end_matches(".gz")
        .ends_with(".tsv")
    {
        return b'\t';
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..candidates.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

impl CsvRows {
    fn open(
        path: &Path,
        mut reader: Box<dyn BufRead + Send>,
        opts: &ReadOptions,
        plan: &Plan,
        date: &DateOptions,
        notes: &mut Vec<String>,
    ) -> Result<CsvRows, IngestError> {
        let kind = opts.kind;
        let mapping = opts.mapping.as_ref();
        let delimiter = match mapping.and_then(Mapping::delimiter_byte) {
            Some(d) => d,
            None => {
                let head = reader
                    .fill_buf()
                    .map_err(|e| read_error(path, 1, e, opts.max_line))?;
                sniff_delimiter(path, head)
            }
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 << 10)
            .from_reader(reader);
        let mut header = csv::ByteRecord::new();
        match rdr.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => {
                return Err(IngestError::Empty {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(csv_error(path, 1, e, opts.max_line)),
        }
        let mut headers = Vec::with_capacity(header.len());
        for h in header.iter() {
            match std::str::from_utf8(h) {
                Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => {
                    headers.push(s.trim().to_string())
                }
                _ => {
                    return Err(IngestError::BinaryHeader {
                        path: path.to_path_buf(),
                    });
                }
            }
        }
        if headers.iter().all(String::is_empty) {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
            });
        }

        // Qualtrics exports carry the question text in row 2 and import ids in row 3.
        let mut questions: Option<Vec<String>> = None;
        let mut pushed_back = VecDeque::new();
        let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let has = |n: &str| normalised.iter().any(|h| h == n);
        if kind == RecordKind::Surveys
            && has("responseid")
            && (has("recordeddate") || has("startdate"))
        {
            let mut row2 = csv::ByteRecord::new();
            let mut row3 = csv::ByteRecord::new();
            let got2 = rdr
                .read_byte_record(&mut row2)
                .map_err(|e| csv_error(path, 2, e, opts.max_line))?;
            let got3 = got2
                && rdr
                    .read_byte_record(&mut row3)
                    .map_err(|e| csv_error(path, 3, e, opts.max_line))?;
            let date_col = normalised
                .iter()
                .position(|h| h == "recordeddate" || h == "enddate");
            let row2_is_data = date_col
                .and_then(|c| row2.get(c))
                .and_then(|v| std::str::from_utf8(v).ok())
                .is_some_and(|v| Timestamp::parse("at", v, date).is_ok());
            if got2 && !row2_is_data {
                questions = Some(
                    row2.iter()
                        .map(|q| String::from_utf8_lossy(q).into_owned())
                        .collect(),
                );
                let import_ids =
                    got3 && row3.get(0).is_some_and(|v| v.starts_with(b"{\"ImportId\""));
                if import_ids {
                    notes.push("Qualtrics export: skipped question-text and import-id header rows (lines 2-3)".into());
                } else {
                    notes.push("survey export with a question-text row: skipped line 2".into());
                    if got3 {
                        pushed_back.push_back(row3);
                    }
                }
            } else if got2 {
                // No extra header rows after all: give both rows back, in order.
                pushed_back.push_back(row2);
                if got3 {
                    pushed_back.push_back(row3);
                }
            }
        }

        let (cols, aspects, ignored) = bind(path, kind, &headers, questions.as_deref(), mapping)?;
        for (i, spec) in fields(kind).iter().enumerate() {
            if spec.required && cols[i].is_none() && plan.defaults[i].is_none() {
                return Err(IngestError::MissingColumn {
                    path: path.to_path_buf(),
                    field: spec.name.to_string(),
                    found: headers.join(", "),
                });
            }
        }
        if !ignored.is_empty() {
            notes.push(format!("ignored columns: {}", ignored.join(", ")));
        }
        Ok(CsvRows {
            rdr,
            rec: csv::ByteRecord::new(),
            pushed_back,
            headers,
            cols,
            aspects,
            delimiter,
            max_line: opts.max_line,
        })
    }

    fn next_row(
        &mut self,
        path: &Path,
        kind: RecordKind,
        plan: &Plan,
        date: &DateOptions,
    ) -> Result<Option<ParsedRow>, IngestError> {
        if let Some(r) = self.pushed_back.pop_front() {
            self.rec = r;
        } else {
            let line = self.rdr.position().line();
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return Err(csv_error(path, line, e, self.max_line)),
            }
        }
        // An empty line yields no record at all. Anything else, even a line of spaces, is a
        // row: quarantined if it is not a valid one, never silently skipped.
        Ok(Some(self.parse_current(kind, plan, date)))
    }

    fn raw(&self) -> String {
        let sep = char::from(self.delimiter).to_string();
        let joined = self
            .rec
            .iter()
            .map(String::from_utf8_lossy)
            .collect::<Vec<_>>()
            .join(&sep);
        cut(&joined)
    }

    fn parse_current(&self, kind: RecordKind, plan: &Plan, date: &DateOptions) -> ParsedRow {
        let line = self.rec.position().map_or(0, csv::Position::line);
        let fail = |e: RowError| ParsedRow {
            line,
            record: Err(e),
            raw: Some(self.raw()),
            enriched: Enriched::default(),
        };
        if self.rec.len() != self.headers.len() {
            return fail(RowError::whole_row(
                line,
                format!(
                    "has {} fields but the header has {}; check quoting and the delimiter ('{}')",
                    self.rec.len(),
                    self.headers.len(),
                    char::from(self.delimiter).escape_default()
                ),
            ));
        }
        let field = |col: usize| -> Result<&str, RowError> {
            let bytes = self.rec.get(col).unwrap_or_default();
            std::str::from_utf8(bytes).map_err(|e| RowError {
                line,
                field: Some(self.headers[col].clone()),
                value: Some(String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned()),
                reason: format!(
                    "is not valid UTF-8 (bad byte at offset {}); save the file as UTF-8",
                    e.valid_up_to()
                ),
            })
        };
        let mut values = RowValues {
            slots: Vec::with_capacity(self.cols.len()),
            aspects: Vec::new(),
        };
        for (i, col) in self.cols.iter().enumerate() {
            let v = match col {
                Some(c) => match field(*c) {
                    Ok(s) => Some(Cow::Borrowed(s)),
                    Err(e) => return fail(e),
                },
                None => None,
            };
            values.slots.push(plan.apply(i, v));
        }
        for (name, col) in &self.aspects {
            match field(*col) {
                Ok(s) => values.aspects.push((name.clone(), Cow::Borrowed(s))),
                Err(e) => return fail(e),
            }
        }
        match convert(kind, &values, date, line) {
            Ok(record) => ParsedRow {
                line,
                record: Ok(record),
                raw: None,
                enriched: Enriched::default(),
            },
            Err(mut e) => {
                // Report the file's own column name next to the canonical one.
                if let Some(f) = &e.field
                    && let Some(i) = slot(kind, f)
                    && let Some(Some(c)) = self.cols.get(i)
                    && &self.headers[*c] != f
                {
                    e.field = Some(format!("{f} (column '{}')", self.headers[*c]));
                }
                fail(e)
            }
        }
    }
}

fn csv_error(path: &Path, line: u64, e: csv::Error, limit: usize) -> IngestError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => read_error(path, line, io, limit),
        other => IngestError::Format {
            path: path.to_path_buf(),
            message: format!("line {line}: {other:?}"),
        },
    }
}

type Bound = (Vec<Option<usize>>, Vec<(Label, usize)>, Vec<String>);

/// Binds header columns to canonical fields: the mapping first, then names and synonyms, then
/// (for survey-tool exports) the question text.
fn bind(
    path: &Path,
    kind: RecordKind,
    headers: &[String],
    questions: Option<&[String]>,
    mapping: Option<&Mapping>,
) -> Result<Bound, IngestError> {
    let specs = fields(kind);
    let mut cols: Vec<Option<usize>> = vec![None; specs.len()];
    let mut used = vec![false; headers.len()];
    let mut aspects = Vec::new();
    let find = |name: &str| -> Option<usize> {
        headers.iter().position(|h| h == name).or_else(|| {
            let n = normalise(name);
            headers.iter().position(|h| normalise(h) == n)
        })
    };
    if let Some(m) = mapping {
        let missing = |field: &str, column: &str| IngestError::Mapping {
            mapping: m.path.clone(),
            message: format!(
                "names column '{column}' for field '{field}', but {} has no such column (columns: {})",
                path.display(),
                headers.join(", ")
            ),
        };
        for (field, column) in &m.columns {
            let i = slot(kind, field).unwrap_or(usize::MAX);
            let c = find(column).ok_or_else(|| missing(field, column))?;
            if let Some(s) = cols.get_mut(i) {
                *s = Some(c);
                used[c] = true;
            }
        }
        for (aspect, column) in &m.aspects {
            let c = find(column).ok_or_else(|| missing(&format!("aspect {aspect}"), column))?;
            let label = Label::parse("aspect", aspect).map_err(|e| IngestError::Mapping {
                mapping: m.path.clone(),
                message: format!("[aspects] {e}"),
            })?;
            aspects.push((label, c));
            used[c] = true;
        }
    }
    for (c, h) in headers.iter().enumerate() {
        if used[c] {
            continue;
        }
        if let Some(i) = match_header(kind, h) {
            if cols[i].is_none() {
                cols[i] = Some(c);
                used[c] = true;
            }
        } else if kind == RecordKind::Surveys {
            let n = normalise(h);
            if let Some(rest) = n.strip_prefix(ASPECT_PREFIX).filter(|r| !r.is_empty()) {
                let name = h
                    .trim()
                    .get(ASPECT_PREFIX.len()..)
                    .map(|s| s.trim_start_matches(['_', '-', ' ', ':']))
                    .filter(|s| !s.is_empty())
                    .unwrap_or(rest);
                if let Ok(label) = Label::parse("aspect", name) {
                    aspects.push((label, c));
                    used[c] = true;
                }
            }
        }
    }
    if let Some(q) = questions {
        for (c, text) in q.iter().enumerate() {
            if used[c] || normalise(&headers[c]).ends_with("npsgroup") {
                continue;
            }
            let t = text.to_lowercase();
            let field = if t.contains("recommend") {
                "nps"
            } else if t.contains("effort") || t.contains("easy") {
                "ces"
            } else if t.contains("satisf") {
                "csat"
            } else if t.contains("comment")
                || t.contains("why")
                || t.contains("anything else")
                || t.contains("tell us")
            {
                "comment"
            } else {
                continue;
            };
            if let Some(i) = slot(kind, field)
                && cols[i].is_none()
            {
                cols[i] = Some(c);
                used[c] = true;
            }
        }
    }
    let ignored = headers
        .iter()
        .enumerate()
        .filter(|(c, h)| !used[*c] && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    Ok((cols, aspects, ignored))
}

// ---------------------------------------------------------------------------------------------
// JSON Lines

#[derive(Debug, Clone)]
enum Target {
    Slot(usize),
    Aspect(Label),
    Aspects,
    Ignore,
}

struct JsonRows {
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line: u64,
    targets: HashMap<String, Target>,
    ignored: Vec<String>,
    max_line: usize,
}

impl JsonRows {
    fn new(reader: Box<dyn BufRead + Send>, opts: &ReadOptions) -> JsonRows {
        let mut targets = HashMap::new();
        if let Some(m) = &opts.mapping {
            for (field, key) in &m.columns {
                if let Some(i) = slot(opts.kind, field) {
                    targets.insert(key.clone(), Target::Slot(i));
                }
            }
            for (aspect, key) in &m.aspects {
                if let Ok(label) = Label::parse("aspect", aspect) {
                    targets.insert(key.clone(), Target::Aspect(label));
                }
            }
        }
        JsonRows {
            reader,
            buf: Vec::new(),
            line: 0,
            targets,
            ignored: Vec::new(),
            max_line: opts.max_line,
        }
    }

    fn target(&mut self, kind: RecordKind, key: &str) -> Target {
        if let Some(t) = self.targets.get(key) {
            return t.clone();
        }
        let t = if let Some(i) = match_header(kind, key) {
            Target::Slot(i)
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

    fn next_row(
        &mut self,
        path: &Path,
        kind: RecordKind,
        plan: &Plan,
        date: &DateOptions,
        _notes: &mut Vec<String>,
    ) -> Result<Option<ParsedRow>, IngestError> {
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
            let row = self.parse(&buf, line, kind, plan, date);
            self.buf = buf;
            return Ok(Some(row));
        }
    }

    fn parse(
        &mut self,
        buf: &[u8],
        line: u64,
        kind: RecordKind,
        plan: &Plan,
        date: &DateOptions,
    ) -> ParsedRow {
        let raw = || Some(cut(String::from_utf8_lossy(buf).trim_end()));
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(buf) {
            Ok(o) => o,
            Err(e) => {
                let reason = if std::str::from_utf8(buf).is_err() {
                    "is not valid UTF-8; save the file as UTF-8".to_string()
                } else {
                    format!("is not a JSON object: {e}")
                };
                return ParsedRow {
                    line,
                    record: Err(RowError::whole_row(line, reason)),
                    raw: raw(),
                    enriched: Enriched::default(),
                };
            }
        };
        let n = fields(kind).len();
        let mut slots: Vec<Option<Cow<'_, str>>> = vec![None; n];
        let mut aspects = Vec::new();
        for (key, value) in &obj {
            let target = self.target(kind, key);
            let scalar = |v: &serde_json::Value| -> Result<Option<String>, RowError> {
                match v {
                    serde_json::Value::Null => Ok(None),
                    serde_json::Value::String(s) => Ok(Some(s.clone())),
                    serde_json::Value::Number(x) => Ok(Some(x.to_string())),
                    serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
                    other => Err(RowError {
                        line,
                        field: Some(key.clone()),
                        value: Some(cut(&other.to_string()).chars().take(120).collect()),
                        reason: "is a list or object, expected a single value".into(),
                    }),
                }
            };
            let result = match target {
                Target::Ignore => Ok(()),
                Target::Slot(i) => scalar(value).map(|v| slots[i] = v.map(Cow::Owned)),
                Target::Aspect(label) => scalar(value).map(|v| {
                    if let Some(v) = v {
                        aspects.push((label, Cow::Owned(v)));
                    }
                }),
                Target::Aspects => match value.as_object() {
                    Some(map) => map.iter().try_for_each(|(name, v)| {
                        let label = Label::parse("aspect", name)
                            .map_err(|e| RowError::from_field(line, e))?;
                        if let Some(v) = scalar(v)? {
                            aspects.push((label, Cow::Owned(v)));
                        }
                        Ok(())
                    }),
                    None => Err(RowError::whole_row(
                        line,
                        "'aspects' must be an object of name: rating",
                    )),
                },
            };
            if let Err(e) = result {
                return ParsedRow {
                    line,
                    record: Err(e),
                    raw: raw(),
                    enriched: Enriched::default(),
                };
            }
        }
        let slots = slots
            .into_iter()
            .enumerate()
            .map(|(i, v)| plan.apply(i, v))
            .collect();
        let values = RowValues { slots, aspects };
        match convert(kind, &values, date, line) {
            Ok(record) => ParsedRow {
                line,
                record: Ok(record),
                raw: None,
                enriched: Enriched::default(),
            },
            Err(e) => ParsedRow {
                line,
                record: Err(e),
                raw: raw(),
                enriched: Enriched::default(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], name: &str, kind: RecordKind) -> Result<Vec<ParsedRow>, IngestError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let mut r = RowReader::open(
            &path,
            &ReadOptions {
                max_line: 1 << 16,
                ..ReadOptions::new(kind)
            },
        )?;
        let mut rows = Vec::new();
        while let Some(row) = r.next_row()? {
            rows.push(row);
        }
        Ok(rows)
    }

    #[test]
    fn delimiter_is_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter(Path::new("a.csv"), b"a;b;c\n1;2;3"), b';');
        assert_eq!(
            sniff_delimiter(Path::new("a.csv"), b"\"x,y,z\";b;c\n"),
            b';'
        );
        assert_eq!(sniff_delimiter(Path::new("a.csv"), b"a\tb\tc,d\n"), b'\t');
        assert_eq!(sniff_delimiter(Path::new("a.tsv.gz"), b"a,b,c"), b'\t');
        assert_eq!(sniff_delimiter(Path::new("a.csv"), b"abc"), b',');
    }

    #[test]
    fn a_line_beyond_the_limit_stops_the_file_with_its_line() {
        let mut body =
            b"id,at,channel,kind\nS1,2024-01-01,web,request\nS2,2024-01-01,web,".to_vec();
        body.extend(std::iter::repeat_n(b'x', 1 << 17));
        body.extend_from_slice(b"\nS3,2024-01-01,web,request\n");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("long.csv");
        std::fs::write(&path, &body).expect("write");
        let mut r = RowReader::open(
            &path,
            &ReadOptions {
                max_line: 1 << 16,
                ..ReadOptions::new(RecordKind::Signals)
            },
        )
        .expect("open");
        assert!(r.next_row().expect("first row").is_some());
        match r.next_row() {
            Err(IngestError::LineTooLong { .. }) => {}
            Err(other) => panic!("expected LineTooLong, got {other}"),
            Ok(row) => panic!(
                "expected LineTooLong, got a row at line {:?}",
                row.map(|r| r.line)
            ),
        }
    }

    #[test]
    fn empty_lines_are_not_rows_but_blank_ones_are_quarantined() {
        let rows = read_all(
            b"id,at,channel,kind\n\nS1,2024-01-01,web,request\n   \n\"\"\n",
            "b.csv",
            RecordKind::Signals,
        )
        .expect("read");
        assert_eq!(rows.len(), 3);
        assert!(rows[0].record.is_ok());
        assert_eq!((rows[1].line, rows[2].line), (4, 5));
        assert!(rows[1].record.is_err() && rows[2].record.is_err());
    }

    #[test]
    fn header_synonyms_bind_pm4py_columns() {
        let rows = read_all(
            b"case:concept:name,concept:name,time:timestamp,org:resource\nC1,Register,2012-10-09T14:50:17+00:00,Value 1\n",
            "log.csv",
            RecordKind::CaseEvents,
        )
        .expect("read");
        match &rows[0].record {
            Ok(Record::CaseEvent(e)) => {
                assert_eq!(e.case.as_str(), "C1");
                assert_eq!(e.activity.as_str(), "Register");
                assert_eq!(e.agent.as_ref().map(|a| a.as_str()), Some("Value 1"));
            }
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Whatever the bytes, reading returns rows or a file error: never a panic, and every
        /// data row is accounted for as a record or a row error with a line.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
                                       kind in 0usize..6, json in proptest::prelude::any::<bool>()) {
            let kind = RecordKind::ALL[kind];
            let name = if json { "x.jsonl" } else { "x.csv" };
            if let Ok(rows) = read_all(&bytes, name, kind) {
                for r in rows {
                    proptest::prop_assert!(r.line >= 1);
                    if let Err(e) = &r.record {
                        proptest::prop_assert!(!e.reason.is_empty());
                    }
                }
            }
        }

        /// Valid-looking CSV with random cells: never a panic, each row a record or a row error.
        #[test]
        fn random_cells_never_panic(cells in proptest::collection::vec("[ -~]{0,12}", 12..48)) {
            let mut body = String::from("signal_id,at,channel,kind,source,customer_id,product_id,case_id,agent_id,stage,topic,text\n");
            for row in cells.chunks(12) {
                let quoted: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                body.push_str(&quoted.join(","));
                body.push('\n');
            }
            let rows = read_all(body.as_bytes(), "cells.csv", RecordKind::Signals).expect("readable");
            proptest::prop_assert_eq!(rows.len(), cells.len().div_ceil(12));
        }
    }
}
