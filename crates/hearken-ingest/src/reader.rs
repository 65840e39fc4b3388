//! Streaming rows out of a file: CSV (delimiter sniffed, quoted newlines, Qualtrics' extra header
//! rows) or JSON Lines, one [`ParsedRow`] at a time, in constant memory.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hearken_model::{DateOptions, Label, NumberFormat, Record, RecordKind, Timestamp};

use crate::convert::{RowValues, convert};
use crate::fields::{aspect_name, fields, match_header, normalise, slot};
use crate::input::{self, Format, Progress, Source};
use crate::json::JsonRows;
use crate::mapping::Rule;
use crate::{IngestError, Mapping, Redactor, RowError};

/// How much of a bad row's raw text the quarantine keeps. The file and line locate the rest.
pub const MAX_RAW: usize = 64 << 10;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub kind: RecordKind,
    pub mapping: Option<Mapping>,
    /// Longest physical line accepted (default [`input::MAX_LINE`]).
    pub max_line: usize,
    /// Runs on valid records through [`RowReader::enrich`]: text understanding (sentiment,
    /// language, topic) and the redaction of free texts plug in here.
    pub enrich: Option<Enricher>,
    /// Removes personal data from everything else the reader hands on: ids, names and labels of
    /// records, and the values, reasons and raw text of rows it cannot read (see
    /// [`crate::redact`]).
    pub redact: Option<Redactor>,
}

impl ReadOptions {
    pub fn new(kind: RecordKind) -> ReadOptions {
        ReadOptions {
            kind,
            mapping: None,
            max_line: input::MAX_LINE,
            enrich: None,
            redact: None,
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
/// quarantined), or a row a mapping rule skips.
#[derive(Debug)]
pub struct ParsedRow {
    pub line: u64,
    /// Unused when `skipped` is set.
    pub record: Result<Record, RowError>,
    pub raw: Option<String>,
    pub enriched: Enriched,
    /// The reason of the mapping's `[[skip]]` rule that skips this row: it is counted under the
    /// reason and neither stored nor quarantined.
    pub skipped: Option<Arc<str>>,
    /// For a row that could not be read: its id (signal_id, customer_id, ...) when that much
    /// could be, so a later import storing the id settles its quarantine entry.
    pub key: Option<String>,
}

impl ParsedRow {
    pub(crate) fn new(
        line: u64,
        record: Result<Record, RowError>,
        raw: Option<String>,
    ) -> ParsedRow {
        ParsedRow {
            line,
            record,
            raw,
            enriched: Enriched::default(),
            skipped: None,
            key: None,
        }
    }

    pub(crate) fn skip(line: u64, reason: Arc<str>) -> ParsedRow {
        ParsedRow {
            line,
            record: Err(RowError::whole_row(line, reason.to_string())),
            raw: None,
            enriched: Enriched::default(),
            skipped: Some(reason),
            key: None,
        }
    }

    pub(crate) fn keyed(mut self, values: &RowValues<'_>) -> ParsedRow {
        if self.record.is_err() {
            self.key = values
                .slots
                .first()
                .and_then(|v| v.as_deref())
                .and_then(|v| hearken_model::ExtId::parse("id", v).ok())
                .map(|id| id.as_str().to_string());
        }
        self
    }
}

/// Fields whose values are dates, watched so that a column where every date fails is explained
/// once (what the values look like, which `date_format` would read them).
const DATE_FIELDS: &[&str] = &["at", "customer_since", "churned_at"];

/// Date samples kept per field for that explanation.
const DATE_SAMPLES: usize = 5;

#[derive(Debug, Default)]
struct DateStats {
    ok: u64,
    failed: u64,
    /// The field as errors name it (with its column), and distinct failing values.
    shown: String,
    samples: Vec<String>,
}

/// Per-field value translations and defaults from the mapping.
#[derive(Debug, Default)]
pub(crate) struct Plan {
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

    pub(crate) fn apply<'a>(&self, i: usize, v: Option<Cow<'a, str>>) -> Option<Cow<'a, str>> {
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

/// How one file's values are read: the kind, dates, numbers, the mapping's translations and
/// defaults, and its skip rules.
pub(crate) struct Rules {
    pub(crate) kind: RecordKind,
    pub(crate) date: DateOptions,
    pub(crate) numbers: NumberFormat,
    pub(crate) plan: Plan,
    pub(crate) skip: Vec<(Rule, Arc<str>)>,
}

/// Reads rows of one kind from one file.
pub struct RowReader {
    path: PathBuf,
    rules: Rules,
    inner: Inner,
    progress: Progress,
    size: u64,
    notes: Vec<String>,
    enrich: Option<Enricher>,
    redact: Option<Redactor>,
    dates: Vec<DateStats>,
    /// Rows skipped per rule, for the notes.
    skipped: Vec<u64>,
    /// Rows quarantined because they are not valid UTF-8, and the first one's line.
    not_utf8: (u64, u64),
}

enum Inner {
    Csv(Box<CsvRows>),
    Json(Box<JsonRows>),
    /// An XES log or a Zendesk ticket-event export, read as case events (crate::eventlog).
    Events(crate::eventlog::EventRows),
}

impl RowReader {
    /// Reads rows of one kind from a file (see the crate docs for the formats).
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<RowReader, IngestError> {
        RowReader::from_source(Source::File(path), opts)
    }

    /// Reads rows from bytes in memory (a request's body, a fuzzer's input) exactly as from a
    /// file holding them: `name` stands for the file in messages and its extension tells the
    /// format as a file's would (`request.json`, `upload.csv.gz`).
    pub fn from_bytes(
        name: impl AsRef<Path>,
        bytes: impl Into<Vec<u8>>,
        opts: &ReadOptions,
    ) -> Result<RowReader, IngestError> {
        RowReader::from_source(
            Source::Bytes {
                name: name.as_ref(),
                bytes: bytes.into(),
            },
            opts,
        )
    }

    fn from_source(source: Source<'_>, opts: &ReadOptions) -> Result<RowReader, IngestError> {
        let path = source.name().to_path_buf();
        let path = path.as_path();
        let in_memory = matches!(source, Source::Bytes { .. });
        let mapping = opts.mapping.as_ref();
        if let Some(m) = mapping {
            m.validate(opts.kind)?;
        }
        let skip = match mapping {
            Some(m) => m
                .rules()?
                .into_iter()
                .map(|r| {
                    let reason: Arc<str> = r.reason.as_str().into();
                    (r, reason)
                })
                .collect(),
            None => Vec::new(),
        };
        let mut rules = Rules {
            kind: opts.kind,
            date: mapping
                .map(Mapping::date_options)
                .transpose()?
                .unwrap_or_default(),
            numbers: mapping
                .map(Mapping::number_format)
                .transpose()?
                .unwrap_or_default(),
            plan: Plan::new(opts.kind, mapping),
            skip,
        };
        let encoding = mapping.map(Mapping::encoding).transpose()?.flatten();
        let mut opened = input::open_source(source, opts.max_line, encoding)?;
        let mut notes = Vec::new();
        if let Some(e) = opened.decoded {
            notes.push(format!("read as {} (decoded to UTF-8)", e.name()));
        }
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
            (Some(format), _) => {
                let input = if in_memory {
                    let mut bytes = Vec::new();
                    opened
                        .reader
                        .read_to_end(&mut bytes)
                        .map_err(|e| read_error(path, 1, e, opts.max_line))?;
                    crate::eventlog::LogInput::Memory(bytes)
                } else {
                    crate::eventlog::LogInput::File(opened.reader)
                };
                Inner::Events(crate::eventlog::EventRows::open(
                    path, format, input, &mut notes,
                )?)
            }
            (None, format) => match format {
                Format::Csv => {
                    let csv =
                        CsvRows::open(path, opened.reader, opened.tail, opts, &rules, &mut notes)?;
                    // A Qualtrics export names its time zone; the mapping's word wins.
                    if let Some(zone) = csv.zone
                        && !mapping.is_some_and(Mapping::sets_time_zone)
                    {
                        rules.date.time_zone = Some(zone);
                        notes.push(format!(
                            "Qualtrics export: times without an offset read in {zone}, the time zone its ImportId row names (set timezone in the mapping to choose another)"
                        ));
                    }
                    Inner::Csv(Box::new(csv))
                }
                Format::JsonLines => Inner::Json(Box::new(JsonRows::new(opened.reader, opts))),
            },
        };
        let skipped = vec![0; rules.skip.len()];
        Ok(RowReader {
            path: path.to_path_buf(),
            rules,
            inner,
            progress: opened.progress,
            size: opened.size,
            notes,
            enrich: opts.enrich.clone(),
            redact: opts.redact.clone(),
            dates: DATE_FIELDS.iter().map(|_| DateStats::default()).collect(),
            skipped,
            not_utf8: (0, 0),
        })
    }

    /// Bytes of the file read so far, and its size, for a progress bar.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Keys of a JSON input that name no field of the kind (and no mapping entry): read past,
    /// not stored. Empty for other formats. Live ingestion refuses a body with such keys.
    pub fn ignored_keys(&self) -> Vec<String> {
        match &self.inner {
            Inner::Json(j) => j.ignored.clone(),
            _ => Vec::new(),
        }
    }

    /// Things worth telling the person importing: ignored columns, a recognised export format,
    /// skip rules that never matched, and a date column none of whose values could be read.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.clone();
        if let Inner::Json(j) = &self.inner
            && !j.ignored.is_empty()
        {
            notes.push(format!("ignored keys: {}", j.ignored.join(", ")));
        }
        for ((rule, _), n) in self.rules.skip.iter().zip(&self.skipped) {
            if *n == 0 {
                notes.push(format!(
                    "skip rule '{}' matched no row: check its column and values",
                    rule.reason
                ));
            }
        }
        notes.extend(self.date_diagnosis());
        let (bad, first) = self.not_utf8;
        if bad > 0 {
            notes.push(format!(
                "{bad} rows hold bytes that are not UTF-8 (the first at line {first}) and were quarantined: the file is in another encoding, probably windows-1252; save it as \"CSV UTF-8\", or add encoding = \"windows-1252\" to the mapping, and import it again"
            ));
        }
        notes
    }

    /// For each date field whose every value failed: what the values look like and which
    /// `date_format` (if any) would read them.
    pub fn date_diagnosis(&self) -> Vec<String> {
        self.dates
            .iter()
            .filter(|d| d.failed > 0 && d.ok == 0)
            .map(|d| {
                let samples: Vec<&str> = d.samples.iter().map(String::as_str).collect();
                let shown: Vec<String> = samples
                    .iter()
                    .map(|s| {
                        let s = match &self.redact {
                            Some(r) => r.text(s).unwrap_or_else(|| s.to_string()),
                            None => s.to_string(),
                        };
                        format!("'{s}'")
                    })
                    .collect();
                let fix = match hearken_model::suggest_date_format(&samples) {
                    Some(f) if f.starts_with("date_order") => {
                        format!("set {f} in the mapping to read them")
                    }
                    Some(f) => format!("set date_format = \"{f}\" in the mapping to read them"),
                    None => "no date format Hearken knows reads them: set date_format in the mapping to a strftime format (e.g. \"%d-%m-%Y %H:%M\"), \"epoch\", \"epoch_ms\" or \"excel\"".to_string(),
                };
                format!(
                    "no date in {} could be read ({} rows); the values look like {}; {fix}",
                    d.shown,
                    d.failed,
                    shown.join(", ")
                )
            })
            .collect()
    }

    /// Rows skipped so far by each rule, with the rule's reason.
    pub fn skipped(&self) -> Vec<(String, u64)> {
        self.rules
            .skip
            .iter()
            .zip(&self.skipped)
            .map(|((_, reason), n)| (reason.to_string(), *n))
            .collect()
    }

    /// The next row, or None at the end of the file. An `Err` is a problem with the whole file
    /// (unreadable, a line beyond the limit); the rows before it were returned.
    pub fn next_row(&mut self) -> Result<Option<ParsedRow>, IngestError> {
        let row = match &mut self.inner {
            Inner::Csv(c) => c.next_row(&self.path, &self.rules)?,
            Inner::Json(j) => j.next_row(&self.path, &self.rules)?,
            Inner::Events(e) => e.next_row(),
        };
        let Some(mut row) = row else {
            return Ok(None);
        };
        if row.skipped.is_some() {
            if let Some(i) = self
                .rules
                .skip
                .iter()
                .position(|(_, r)| Some(r) == row.skipped.as_ref())
            {
                self.skipped[i] += 1;
            }
            return Ok(Some(row));
        }
        self.watch_dates(&row);
        if let Err(e) = &row.record
            && e.reason.contains("is not valid UTF-8")
        {
            if self.not_utf8.0 == 0 {
                self.not_utf8.1 = row.line;
            }
            self.not_utf8.0 += 1;
        }
        if let Some(r) = &self.redact {
            match row.record.as_mut() {
                Ok(record) => r.record(record, self.enrich.is_none()),
                Err(e) => {
                    if let Some(v) = e.value.as_mut() {
                        r.string(v);
                    }
                    r.string(&mut e.reason);
                }
            }
            if let Some(raw) = row.raw.as_mut() {
                r.string(raw);
            }
            if let Some(key) = row.key.as_mut()
                && let Some(p) = r.id(key)
            {
                *key = p;
            }
        }
        Ok(Some(row))
    }

    fn watch_dates(&mut self, row: &ParsedRow) {
        match &row.record {
            Ok(record) => {
                let present = match record {
                    Record::Signal(_) | Record::Survey(_) | Record::CaseEvent(_) => {
                        [true, false, false]
                    }
                    Record::Customer(c) => [false, c.since.is_some(), c.churned_at.is_some()],
                    Record::Product(_) | Record::Agent(_) => [false; 3],
                };
                for (d, p) in self.dates.iter_mut().zip(present) {
                    d.ok += u64::from(p);
                }
            }
            Err(e) => {
                let Some(field) = &e.field else { return };
                let name = field.split(" (column").next().unwrap_or(field);
                let Some(i) = DATE_FIELDS.iter().position(|f| *f == name) else {
                    return;
                };
                let d = &mut self.dates[i];
                d.failed += 1;
                if d.shown.is_empty() {
                    d.shown = field.clone();
                }
                if let Some(v) = &e.value
                    && d.samples.len() < DATE_SAMPLES
                    && !v.trim().is_empty()
                    && !d.samples.contains(v)
                {
                    d.samples.push(v.clone());
                }
            }
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

pub(crate) fn cut(s: &str) -> String {
    if s.len() <= MAX_RAW {
        return s.to_string();
    }
    let mut end = MAX_RAW;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes in all]", &s[..end], s.len())
}

pub(crate) fn read_error(path: &Path, line: u64, e: std::io::Error, limit: usize) -> IngestError {
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
    /// The column each skip rule looks at, in rule order.
    skip_cols: Vec<usize>,
    delimiter: u8,
    max_line: usize,
    /// The first physical line of the current row, and how many it spans (more than one:
    /// quoted line breaks, or an unbalanced quote that joined lines).
    start: u64,
    span: u64,
    /// The last byte of the file that is not a line break, once it has been read to its end.
    tail: input::Tail,
    /// The time zone a Qualtrics ImportId row names for its dates.
    zone: Option<hearken_model::TimeZone>,
}

/// The one time zone the cells of a Qualtrics ImportId row name (`{"ImportId":"recordedDate",
/// "timeZone":"America/Denver"}`), if they name exactly one that is a time zone.
fn import_id_zone(row: &csv::ByteRecord) -> Option<hearken_model::TimeZone> {
    let mut zones = row.iter().filter_map(|cell| {
        let v: serde_json::Value = serde_json::from_slice(cell).ok()?;
        v.get("timeZone")?.as_str().map(str::to_string)
    });
    let first = zones.next()?;
    if zones.any(|z| z != first) {
        return None;
    }
    hearken_model::parse_time_zone(&first).ok()
}

/// Reads one record. Lines end at LF only: a CR before it (CRLF) is dropped from the record's
/// last field, and a bare CR anywhere else is part of its field, never the end of a row. (Files
/// that end every line with a bare CR are translated when opened: see `input::CrLines`.)
/// Returns Some(false) for a line holding nothing but a CR, which is an empty line.
fn read_record(
    rdr: &mut csv::Reader<Box<dyn BufRead + Send>>,
    rec: &mut csv::ByteRecord,
) -> csv::Result<Option<bool>> {
    if !rdr.read_byte_record(rec)? {
        return Ok(None);
    }
    let n = rec.len();
    let Some(last) = rec.get(n - 1) else {
        return Ok(Some(true));
    };
    if last.last() != Some(&b'\r') {
        return Ok(Some(true));
    }
    if n == 1 && last.len() == 1 {
        return Ok(Some(false));
    }
    let kept = last[..last.len() - 1].to_vec();
    let position = rec.position().cloned();
    rec.truncate(n - 1);
    rec.push_field(&kept);
    rec.set_position(position);
    Ok(Some(true))
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
        tail: input::Tail,
        opts: &ReadOptions,
        rules: &Rules,
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
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 << 10)
            .from_reader(reader);
        let mut header = csv::ByteRecord::new();
        loop {
            match read_record(&mut rdr, &mut header) {
                Ok(Some(true)) => break,
                Ok(Some(false)) => continue,
                Ok(None) => {
                    return Err(IngestError::Empty {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) => return Err(csv_error(path, 1, e, opts.max_line)),
            }
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
        let mut zone = None;
        let mut pushed_back = VecDeque::new();
        let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
        let has = |n: &str| normalised.iter().any(|h| h == n);
        if kind == RecordKind::Surveys
            && has("responseid")
            && (has("recordeddate") || has("startdate"))
        {
            let mut row2 = csv::ByteRecord::new();
            let mut row3 = csv::ByteRecord::new();
            let mut next = |rec: &mut csv::ByteRecord, line| loop {
                match read_record(&mut rdr, rec) {
                    Ok(Some(false)) => continue,
                    Ok(got) => return Ok(got.is_some()),
                    Err(e) => return Err(csv_error(path, line, e, opts.max_line)),
                }
            };
            let got2 = next(&mut row2, 2)?;
            let got3 = got2 && next(&mut row3, 3)?;
            let date_col = normalised
                .iter()
                .position(|h| h == "recordeddate" || h == "enddate");
            let row2_is_data = date_col
                .and_then(|c| row2.get(c))
                .and_then(|v| std::str::from_utf8(v).ok())
                .is_some_and(|v| Timestamp::parse("at", v, &rules.date).is_ok());
            if got2 && !row2_is_data {
                questions = Some(
                    row2.iter()
                        .map(|q| String::from_utf8_lossy(q).into_owned())
                        .collect(),
                );
                if row2.len() != headers.len() {
                    notes.push(format!(
                        "the question-text row (line 2) has {} fields but the header has {}: questions are matched to columns by position, so check the delimiter and quoting",
                        row2.len(),
                        headers.len()
                    ));
                }
                let import_ids =
                    got3 && row3.get(0).is_some_and(|v| v.starts_with(b"{\"ImportId\""));
                if import_ids {
                    zone = import_id_zone(&row3);
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
            if spec.required && cols[i].is_none() && rules.plan.defaults[i].is_none() {
                return Err(IngestError::MissingColumn {
                    path: path.to_path_buf(),
                    field: spec.name.to_string(),
                    found: headers.join(", "),
                });
            }
        }
        let mut skip_cols = Vec::with_capacity(rules.skip.len());
        for (i, (rule, _)) in rules.skip.iter().enumerate() {
            let c = find_column(&headers, &rule.column).ok_or_else(|| IngestError::Mapping {
                mapping: mapping.map(|m| m.path.clone()).unwrap_or_default(),
                message: format!(
                    "[[skip]] rule {} looks at column '{}', but {} has no such column (columns: {})",
                    i + 1,
                    rule.column,
                    path.display(),
                    headers.join(", ")
                ),
            })?;
            skip_cols.push(c);
        }
        let ignored: Vec<String> = ignored
            .into_iter()
            .filter(|h| !rules.skip.iter().any(|(r, _)| &r.column == h))
            .collect();
        if !ignored.is_empty() {
            notes.push(format!("ignored columns: {}", ignored.join(", ")));
        }
        Ok(CsvRows {
            zone,
            rdr,
            rec: csv::ByteRecord::new(),
            pushed_back,
            headers,
            cols,
            aspects,
            skip_cols,
            delimiter,
            max_line: opts.max_line,
            start: 0,
            span: 1,
            tail,
        })
    }

    fn next_row(&mut self, path: &Path, rules: &Rules) -> Result<Option<ParsedRow>, IngestError> {
        if let Some(r) = self.pushed_back.pop_front() {
            self.rec = r;
            self.start = self.rec.position().map_or(0, csv::Position::line);
            self.span = 1;
        } else {
            loop {
                let line = self.rdr.position().line();
                match read_record(&mut self.rdr, &mut self.rec) {
                    Ok(Some(true)) => break,
                    // A line holding only a CR is an empty line, as an empty line is.
                    Ok(Some(false)) => continue,
                    Ok(None) => return Ok(None),
                    Err(e) => return Err(csv_error(path, line, e, self.max_line)),
                }
            }
            // The record's position is where the reader started looking for it, which is before
            // any empty lines it skipped; the line after it is exact. Count back over the line
            // breaks inside its fields (only when it is not the usual one-line row).
            let from = self.rec.position().map_or(0, csv::Position::line);
            let after = self.rdr.position().line();
            let unterminated =
                self.tail.at_end(self.rdr.position().byte()) && self.tail.last() != Some(b'\n');
            let last = if unterminated { after } else { after - 1 };
            if last == from {
                (self.start, self.span) = (from, 1);
            } else {
                let breaks = self.rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
                self.start = last.saturating_sub(breaks).max(from);
                self.span = last.saturating_sub(self.start) + 1;
            }
        }
        // An empty line yields no record at all. Anything else, even a line of spaces, is a
        // row: quarantined if it is not a valid one, never silently skipped.
        Ok(Some(self.parse_current(rules)))
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

    /// Why a row has the wrong number of fields, with what usually causes it.
    fn field_count_error(&self, line: u64) -> RowError {
        let (got, want) = (self.rec.len(), self.headers.len());
        let cause = if self.span > 1 {
            format!(
                "; this row runs over {} lines ({line} to {}): a quote opened there and not closed joins the lines after it",
                self.span,
                line + self.span - 1
            )
        } else if got > want && self.rec.iter().any(|f| f.contains(&b'\r')) {
            "; it holds a bare carriage return (CR): if a row ends there, save the file with LF or CRLF line endings".to_string()
        } else if got < want {
            "; a line break inside an unquoted field splits a row in two: quote such fields, or check the delimiter".to_string()
        } else {
            "; check quoting and the delimiter".to_string()
        };
        RowError::whole_row(
            line,
            format!(
                "has {got} fields but the header has {want} (delimiter '{}'){cause}",
                char::from(self.delimiter).escape_default()
            ),
        )
    }

    /// Whether the current row is the last of the file and its last field runs over lines to the
    /// end of the file without a closing quote: a quote opened there and never closed took in
    /// every line after it, which look like rows of their own.
    fn unclosed_at_end(&self) -> bool {
        self.span > 1
            && self.tail.at_end(self.rdr.position().byte())
            && self
                .rec
                .get(self.rec.len().saturating_sub(1))
                .is_some_and(|f| f.contains(&b'\n'))
            && self.tail.last_content() != Some(b'"')
    }

    fn parse_current(&self, rules: &Rules) -> ParsedRow {
        let line = self.start;
        let fail = |e: RowError| ParsedRow::new(line, Err(e), Some(self.raw()));
        if self.rec.len() != self.headers.len() {
            return fail(self.field_count_error(line));
        }
        if self.unclosed_at_end() {
            return fail(RowError::whole_row(
                line,
                format!(
                    "its last field opens a quote that is never closed: it runs over lines {line} to {} (the end of the file), taking in the lines after it; close the quote",
                    line + self.span - 1
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
                    "is not valid UTF-8 (bad byte 0x{:02X} at offset {}); the file is in another encoding: save it as \"CSV UTF-8\", or name its encoding in the mapping (encoding = \"windows-1252\")",
                    bytes[e.valid_up_to()],
                    e.valid_up_to()
                ),
            })
        };
        for ((rule, reason), col) in rules.skip.iter().zip(&self.skip_cols) {
            match field(*col) {
                Ok(v) if rule.skips(Some(v)) => return ParsedRow::skip(line, reason.clone()),
                Ok(_) => {}
                Err(e) => return fail(e),
            }
        }
        let kind = rules.kind;
        let mut values = RowValues {
            slots: Vec::with_capacity(self.cols.len()),
            aspects: Vec::new(),
            native: 0,
        };
        for (i, col) in self.cols.iter().enumerate() {
            let v = match col {
                Some(c) => match field(*c) {
                    Ok(s) => Some(Cow::Borrowed(s)),
                    Err(e) => return fail(e),
                },
                None => None,
            };
            values.slots.push(rules.plan.apply(i, v));
        }
        for (name, col) in &self.aspects {
            match field(*col) {
                Ok(s) => values.aspects.push((name.clone(), Cow::Borrowed(s), false)),
                Err(e) => return fail(e),
            }
        }
        match convert(kind, &values, &rules.date, &rules.numbers, line) {
            Ok(record) => ParsedRow::new(line, Ok(record), None),
            Err(mut e) => {
                // Report the file's own column name next to the canonical one.
                if let Some(f) = &e.field
                    && let Some(i) = slot(kind, f)
                    && let Some(Some(c)) = self.cols.get(i)
                    && &self.headers[*c] != f
                {
                    e.field = Some(format!("{f} (column '{}')", self.headers[*c]));
                }
                fail(e).keyed(&values)
            }
        }
    }
}

/// A column by its exact header, else by its folded name.
fn find_column(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name).or_else(|| {
        let n = normalise(name);
        headers.iter().position(|h| normalise(h) == n)
    })
}

/// A CSV reading error in words. Rows are read as bytes with any number of fields, so only a
/// read error is expected here; the rest are said in words all the same.
fn csv_error(path: &Path, line: u64, e: csv::Error, limit: usize) -> IngestError {
    let message = match e.into_kind() {
        csv::ErrorKind::Io(io) => return read_error(path, line, io, limit),
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "field {} is not valid UTF-8; save the file as \"CSV UTF-8\" or name its encoding in the mapping",
            err.field() + 1
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields where {expected_len} were expected"),
        _ => "cannot be read as CSV: check the delimiter and quoting".to_string(),
    };
    IngestError::Format {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
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
    let find = |name: &str| find_column(headers, name);
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
        } else if kind == RecordKind::Surveys
            && let Some(name) = aspect_name(h)
            && let Ok(label) = Label::parse("aspect", &name)
        {
            aspects.push((label, c));
            used[c] = true;
        }
    }
    if let Some(q) = questions {
        // The question row may have more fields than the header (a stray delimiter): a column
        // is only bound where the header has one.
        for (c, text) in q.iter().enumerate().take(headers.len()) {
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

    /// A CSV error is said in words, never as the library's Debug form.
    #[test]
    fn csv_errors_are_said_in_words() {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&b"a,b\n1\n"[..]);
        let mut rec = csv::ByteRecord::new();
        rdr.read_byte_record(&mut rec).expect("first row");
        let e = rdr.read_byte_record(&mut rec).expect_err("unequal lengths");
        let message = csv_error(Path::new("f.csv"), 2, e, 1 << 10).to_string();
        assert_eq!(message, "f.csv: line 2: has 1 fields where 2 were expected");
    }

    /// Fuzz finding (docs/fuzzing.md): a survey file that looks like a Qualtrics export whose
    /// question-text row has more fields than the header panicked binding the questions.
    #[test]
    fn a_question_row_longer_than_the_header_is_read_with_a_note() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("q.csv");
        std::fs::write(
            &path,
            b"ResponseId,RecordedDate,Q1\nResponse ID,Recorded Date,How likely are you to recommend us?,extra\nR1,2024-01-02,9\n",
        )
        .expect("write");
        let mut r = RowReader::open(&path, &ReadOptions::new(RecordKind::Surveys)).expect("open");
        let row = r.next_row().expect("read").expect("a row");
        match &row.record {
            Ok(Record::Survey(s)) => assert_eq!(s.nps.map(|n| n.get()), Some(9)),
            other => panic!("{other:?}"),
        }
        assert!(
            r.notes()
                .iter()
                .any(|n| n.contains("has 4 fields but the header has 3")),
            "{:?}",
            r.notes()
        );
    }

    /// A CRLF file reports a row's line as an LF file does, wherever the row is.
    #[test]
    fn crlf_lines_are_the_lines_of_the_same_file_with_lf() {
        let lf = "signal_id,at,channel,kind\n\nS1,2024-01-01,web,nope\nS2,2024-01-01,web,\"a\nb\"\n\nS3,2024-01-01,web,nope";
        let crlf = lf.replace('\n', "\r\n");
        let lines = |bytes: &[u8]| -> Vec<u64> {
            read_all(bytes, "s.csv", RecordKind::Signals)
                .expect("read")
                .iter()
                .map(|r| r.line)
                .collect()
        };
        assert_eq!(lines(lf.as_bytes()), vec![3, 4, 7]);
        assert_eq!(lines(crlf.as_bytes()), vec![3, 4, 7]);
        let crlf_end = format!("{crlf}\r\n");
        assert_eq!(lines(crlf_end.as_bytes()), vec![3, 4, 7]);
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
