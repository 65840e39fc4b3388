//! The columnar event log: one `Vec` per column, strings dictionary-coded to `u32`.
//!
//! Owns the in-memory shape every reader fills and every figure is computed from. Events are kept
//! in input order (the order they were pushed); ordering by case and time is the analysis' job, so
//! that "ties kept in input order" has a meaning.

use std::fmt;
use std::hash::Hasher;

use crate::hash::FxHasher;

/// The code of a missing value (no resource, no team, no attribute).
pub const NONE: u32 = u32::MAX;

/// Most events one log may hold: codes and positions are `u32`, and `NONE` is reserved.
pub const MAX_EVENTS: usize = (u32::MAX - 1) as usize;

/// Why a log could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error(
        "the log has more than {MAX_EVENTS} events, more than one log can hold; split it by period"
    )]
    TooManyEvents,
    #[error("column '{column}' has {got} values but the log has {want} events; pass one per event")]
    ColumnLength {
        column: &'static str,
        want: usize,
        got: usize,
    },
    #[error("code {code} is not in the {what} dictionary; take codes from this builder")]
    BadCode { what: &'static str, code: u32 },
}

/// A string dictionary: code -> name and name -> code.
///
/// Each name is stored once; the index holds codes and compares through `names`. Lookups by raw
/// bytes ([`Dict::intern_bytes`]) let readers skip UTF-8 checks for names already known, which
/// are nearly all of them.
#[derive(Clone, Default)]
pub struct Dict {
    names: Vec<Box<str>>,
    index: hashbrown::HashTable<u32>,
}

impl fmt::Debug for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names.iter()).finish()
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.finish()
}

impl Dict {
    /// The code of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> u32 {
        let hash = hash_bytes(name.as_bytes());
        if let Some(&code) = self.find(hash, name.as_bytes()) {
            return code;
        }
        self.insert(hash, name)
    }

    /// The code of the UTF-8 text `raw`, adding it when new; an error when `raw` is not UTF-8
    /// (checked only for names not yet in the dictionary).
    pub fn intern_bytes(&mut self, raw: &[u8]) -> Result<u32, std::str::Utf8Error> {
        let hash = hash_bytes(raw);
        if let Some(&code) = self.find(hash, raw) {
            return Ok(code);
        }
        let name = std::str::from_utf8(raw)?;
        Ok(self.insert(hash, name))
    }

    #[inline]
    fn find(&self, hash: u64, raw: &[u8]) -> Option<&u32> {
        let names = &self.names;
        self.index.find(hash, |&c| {
            names.get(c as usize).is_some_and(|n| n.as_bytes() == raw)
        })
    }

    /// [`Dict::intern`] of a name already boxed (kept as is when new).
    fn intern_boxed(&mut self, name: Box<str>) -> u32 {
        let hash = hash_bytes(name.as_bytes());
        if let Some(&code) = self.find(hash, name.as_bytes()) {
            return code;
        }
        self.insert_boxed(hash, name)
    }

    fn insert(&mut self, hash: u64, name: &str) -> u32 {
        self.insert_boxed(hash, name.into())
    }

    fn insert_boxed(&mut self, hash: u64, name: Box<str>) -> u32 {
        // A dictionary never holds more entries than the log has events (at most MAX_EVENTS,
        // checked on push), so the code fits in u32 and stays below NONE.
        let code = self.names.len() as u32;
        self.names.push(name);
        let names = &self.names;
        self.index.insert_unique(hash, code, |&c| {
            names
                .get(c as usize)
                .map_or(0, |n| hash_bytes(n.as_bytes()))
        });
        code
    }

    /// The code of the raw bytes of a name, if it is in the dictionary (no UTF-8 check needed:
    /// only valid names are ever added).
    pub fn code_bytes(&self, raw: &[u8]) -> Option<u32> {
        self.find(hash_bytes(raw), raw).copied()
    }

    /// Room for `additional` more names without growing the index.
    pub fn reserve(&mut self, additional: usize) {
        self.names.reserve(additional);
        let names = &self.names;
        self.index.reserve(additional, |&c| {
            names
                .get(c as usize)
                .map_or(0, |n| hash_bytes(n.as_bytes()))
        });
    }

    pub fn code(&self, name: &str) -> Option<u32> {
        self.find(hash_bytes(name.as_bytes()), name.as_bytes())
            .copied()
    }

    /// The name of a code; `None` for `NONE` or a code not in the dictionary.
    pub fn name(&self, code: u32) -> Option<&str> {
        self.names.get(code as usize).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }
}

/// An extra per-event label column kept for grouping (product, segment, channel…).
#[derive(Debug, Clone)]
pub struct AttrColumn {
    pub name: String,
    pub dict: Dict,
    /// One code per event, `NONE` where the event has no value.
    pub codes: Vec<u32>,
}

/// A case-event log in columns. Build it with [`EventLogBuilder`] or [`EventLog::from_columns`].
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    pub(crate) cases: Dict,
    pub(crate) activities: Dict,
    pub(crate) resources: Dict,
    pub(crate) teams: Dict,
    pub(crate) case: Vec<u32>,
    pub(crate) activity: Vec<u32>,
    pub(crate) time_ms: Vec<i64>,
    pub(crate) resource: Vec<u32>,
    pub(crate) team: Vec<u32>,
    pub(crate) attributes: Vec<AttrColumn>,
    /// Comments, sparse: (event index, text), event indices increasing.
    pub(crate) texts: Vec<(u32, Box<str>)>,
    pub(crate) sentiment: Option<Vec<Option<f32>>>,
    /// Names of attributes the reader saw but did not keep as columns, in first-seen order.
    pub(crate) unkept: Vec<String>,
    /// Where each event was in its file (reader-defined: a byte offset, a line, an item
    /// number), when the reader was asked to keep positions; empty otherwise.
    pub(crate) positions: Vec<u64>,
}

impl EventLog {
    pub fn len(&self) -> usize {
        self.case.len()
    }

    pub fn is_empty(&self) -> bool {
        self.case.is_empty()
    }

    /// Case ids, activities, resources and teams as dictionaries.
    pub fn case_dict(&self) -> &Dict {
        &self.cases
    }
    pub fn activity_dict(&self) -> &Dict {
        &self.activities
    }
    pub fn resource_dict(&self) -> &Dict {
        &self.resources
    }
    pub fn team_dict(&self) -> &Dict {
        &self.teams
    }

    /// Per-event columns, in input order.
    pub fn case_codes(&self) -> &[u32] {
        &self.case
    }
    pub fn activity_codes(&self) -> &[u32] {
        &self.activity
    }
    /// Milliseconds since the Unix epoch, UTC.
    pub fn times_ms(&self) -> &[i64] {
        &self.time_ms
    }
    pub fn resource_codes(&self) -> &[u32] {
        &self.resource
    }
    pub fn team_codes(&self) -> &[u32] {
        &self.team
    }

    pub fn attributes(&self) -> &[AttrColumn] {
        &self.attributes
    }

    pub fn attribute(&self, name: &str) -> Option<&AttrColumn> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Attributes the reader saw in the file but did not keep as columns (to say what a log
    /// has when a grouping or filter asks for something it lacks).
    pub fn unkept_attributes(&self) -> &[String] {
        &self.unkept
    }

    /// Each event's position in its file, when the reader kept them (else empty).
    pub fn positions(&self) -> &[u64] {
        &self.positions
    }

    /// Comments as (event index, text), in event order; feed these to the sentiment scorer.
    pub fn texts(&self) -> impl Iterator<Item = (usize, &str)> {
        self.texts.iter().map(|(i, t)| (*i as usize, &**t))
    }

    pub fn text(&self, event: usize) -> Option<&str> {
        let i = u32::try_from(event).ok()?;
        let at = self.texts.binary_search_by_key(&i, |(e, _)| *e).ok()?;
        Some(&self.texts[at].1)
    }

    /// Compound sentiment per event (VADER-style, -1..1), `None` where not scored.
    pub fn sentiment(&self) -> Option<&[Option<f32>]> {
        self.sentiment.as_deref()
    }

    /// Attaches sentiment scores, one per event (from hearken-text or any other scorer).
    /// Adds activity names that no event of this log has, so a log built from some cases of a
    /// larger one applies the escalation and closing rules as the larger one does (the rules
    /// in force list the matching activities of the whole log; see
    /// [`crate::run_query_on_window`]). Names already known are left as they are.
    pub fn declare_activities<S: AsRef<str>>(&mut self, names: &[S]) {
        for n in names {
            self.activities.intern(n.as_ref());
        }
    }

    pub fn set_sentiment(&mut self, scores: Vec<Option<f32>>) -> Result<(), LogError> {
        if scores.len() != self.len() {
            return Err(LogError::ColumnLength {
                column: "sentiment",
                want: self.len(),
                got: scores.len(),
            });
        }
        self.sentiment = Some(scores);
        Ok(())
    }

    /// Builds a log from columns handed over by the store, one value per event.
    ///
    /// `agent`, `team` and `text` may be empty slices when the store has no such column;
    /// otherwise they must have one entry per event, like `sentiment` when given. Times are
    /// milliseconds since the Unix epoch (`Timestamp::unix() * 1000`).
    pub fn from_columns<S: AsRef<str>>(
        cols: CaseEventColumns<'_, S>,
    ) -> Result<EventLog, LogError> {
        let n = cols.case.len();
        check_len("at_ms", n, cols.at_ms.len(), false)?;
        check_len("activity", n, cols.activity.len(), false)?;
        check_len("agent", n, cols.agent.len(), true)?;
        check_len("team", n, cols.team.len(), true)?;
        check_len("text", n, cols.text.len(), true)?;
        if let Some(s) = cols.sentiment {
            check_len("sentiment", n, s.len(), false)?;
        }
        for (_, col) in cols.attributes {
            check_len("attribute", n, col.len(), false)?;
        }
        let mut b = EventLogBuilder::with_capacity(n);
        let attr_cols: Vec<usize> = cols
            .attributes
            .iter()
            .map(|(name, _)| b.attribute_column(name))
            .collect();
        let mut attrs: Vec<(usize, &str)> = Vec::with_capacity(attr_cols.len());
        for i in 0..n {
            attrs.clear();
            for (&col, (_, values)) in attr_cols.iter().zip(cols.attributes) {
                if let Some(v) = values[i].as_ref() {
                    attrs.push((col, v.as_ref()));
                }
            }
            b.push(&Event {
                case: cols.case[i].as_ref(),
                activity: cols.activity[i].as_ref(),
                time_ms: cols.at_ms[i],
                resource: opt_at(cols.agent, i),
                team: opt_at(cols.team, i),
                text: opt_at(cols.text, i),
                attributes: &attrs,
            })?;
        }
        let mut log = b.finish();
        if let Some(s) = cols.sentiment {
            log.sentiment = Some(s.to_vec());
        }
        Ok(log)
    }
}

fn opt_at<S: AsRef<str>>(col: &[Option<S>], i: usize) -> Option<&str> {
    col.get(i).and_then(|v| v.as_ref().map(AsRef::as_ref))
}

fn check_len(
    column: &'static str,
    want: usize,
    got: usize,
    may_be_empty: bool,
) -> Result<(), LogError> {
    if got == want || (may_be_empty && got == 0) {
        Ok(())
    } else {
        Err(LogError::ColumnLength { column, want, got })
    }
}

/// Case events as columns, the way the store hands them over.
#[derive(Debug, Clone, Copy)]
pub struct CaseEventColumns<'a, S: AsRef<str>> {
    pub case: &'a [S],
    /// Milliseconds since the Unix epoch, UTC.
    pub at_ms: &'a [i64],
    pub activity: &'a [S],
    pub agent: &'a [Option<S>],
    pub team: &'a [Option<S>],
    pub text: &'a [Option<S>],
    pub sentiment: Option<&'a [Option<f32>]>,
    /// Attribute columns (name, one value per event), e.g. a case's product or segment.
    pub attributes: &'a [(&'a str, &'a [Option<S>])],
}

/// One event by name, for [`EventLogBuilder::push`].
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub case: &'a str,
    pub activity: &'a str,
    pub time_ms: i64,
    /// Empty or all-space counts as no resource.
    pub resource: Option<&'a str>,
    pub team: Option<&'a str>,
    pub text: Option<&'a str>,
    /// (attribute column from [`EventLogBuilder::attribute_column`], value).
    pub attributes: &'a [(usize, &'a str)],
}

/// One event by code, for readers that intern as they go ([`EventLogBuilder::push_coded`]).
#[derive(Debug, Clone, Copy)]
pub struct CodedEvent<'a> {
    pub case: u32,
    pub activity: u32,
    pub time_ms: i64,
    /// `NONE` when missing.
    pub resource: u32,
    /// `NONE` when missing.
    pub team: u32,
    pub text: Option<&'a str>,
    /// (attribute column, code in that column's dictionary).
    pub attributes: &'a [(usize, u32)],
}

/// Builds an [`EventLog`] one event at a time, interning strings as it goes.
#[derive(Debug, Default)]
pub struct EventLogBuilder {
    log: EventLog,
}

impl EventLogBuilder {
    pub fn new() -> EventLogBuilder {
        EventLogBuilder::default()
    }

    pub fn with_capacity(events: usize) -> EventLogBuilder {
        let mut b = EventLogBuilder::default();
        let l = &mut b.log;
        l.case.reserve(events);
        l.activity.reserve(events);
        l.time_ms.reserve(events);
        l.resource.reserve(events);
        l.team.reserve(events);
        b
    }

    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Makes room for `additional` more events, so a reader that can estimate the total (from
    /// the file size) grows the columns once instead of doubling them (and copying) many times.
    pub fn reserve(&mut self, additional: usize) {
        let l = &mut self.log;
        l.case.reserve(additional);
        l.activity.reserve(additional);
        l.time_ms.reserve(additional);
        l.resource.reserve(additional);
        l.team.reserve(additional);
        for col in &mut l.attributes {
            col.codes.reserve(additional);
        }
    }

    /// Notes that the file has an attribute `name` that is not kept as a column.
    pub fn note_unkept_attribute(&mut self, name: &str) {
        if !self.log.unkept.iter().any(|n| n == name) {
            self.log.unkept.push(name.to_string());
        }
    }

    /// Records the position in the file of the event pushed last (see
    /// [`EventLog::positions`]); call it after every push or never.
    pub fn record_position(&mut self, position: u64) {
        let l = &mut self.log;
        // Events pushed before the first call have no position: keep the columns aligned.
        if l.positions.len() + 1 < l.len() {
            l.positions.resize(l.len() - 1, 0);
        }
        if l.positions.len() < l.len() {
            l.positions.push(position);
        }
    }

    /// Makes room for `additional` more case ids.
    pub fn reserve_cases(&mut self, additional: usize) {
        self.log.cases.reserve(additional);
    }

    /// The index of the attribute column `name`, created (all `NONE` so far) when new.
    pub fn attribute_column(&mut self, name: &str) -> usize {
        if let Some(i) = self.log.attributes.iter().position(|a| a.name == name) {
            return i;
        }
        self.log.attributes.push(AttrColumn {
            name: name.to_string(),
            dict: Dict::default(),
            codes: vec![NONE; self.log.len()],
        });
        self.log.attributes.len() - 1
    }

    pub fn case_code(&mut self, name: &str) -> u32 {
        self.log.cases.intern(name)
    }

    pub fn activity_code(&mut self, name: &str) -> u32 {
        self.log.activities.intern(name)
    }

    /// `NONE` for an empty or all-space name.
    pub fn resource_code(&mut self, name: &str) -> u32 {
        if name.trim().is_empty() {
            NONE
        } else {
            self.log.resources.intern(name)
        }
    }

    /// `NONE` for an empty or all-space name.
    pub fn team_code(&mut self, name: &str) -> u32 {
        if name.trim().is_empty() {
            NONE
        } else {
            self.log.teams.intern(name)
        }
    }

    /// [`EventLogBuilder::activity_code`] from raw bytes, which must be UTF-8 (checked only
    /// for names not yet seen).
    pub fn activity_code_bytes(&mut self, raw: &[u8]) -> Result<u32, std::str::Utf8Error> {
        self.log.activities.intern_bytes(raw)
    }

    /// [`EventLogBuilder::resource_code`] from raw bytes, which must be UTF-8.
    pub fn resource_code_bytes(&mut self, raw: &[u8]) -> Result<u32, std::str::Utf8Error> {
        match self.log.resources.code_bytes(raw) {
            Some(code) => Ok(code),
            None => Ok(self.resource_code(std::str::from_utf8(raw)?)),
        }
    }

    /// [`EventLogBuilder::team_code`] from raw bytes, which must be UTF-8.
    pub fn team_code_bytes(&mut self, raw: &[u8]) -> Result<u32, std::str::Utf8Error> {
        match self.log.teams.code_bytes(raw) {
            Some(code) => Ok(code),
            None => Ok(self.team_code(std::str::from_utf8(raw)?)),
        }
    }

    /// [`EventLogBuilder::attribute_code`] from raw bytes, which must be UTF-8.
    pub fn attribute_code_bytes(
        &mut self,
        column: usize,
        raw: &[u8],
    ) -> Result<u32, std::str::Utf8Error> {
        let known = self
            .log
            .attributes
            .get(column)
            .and_then(|c| c.dict.code_bytes(raw));
        match known {
            Some(code) => Ok(code),
            None => Ok(self.attribute_code(column, std::str::from_utf8(raw)?)),
        }
    }

    /// `NONE` for an empty value or a column that does not exist.
    pub fn attribute_code(&mut self, column: usize, value: &str) -> u32 {
        match self.log.attributes.get_mut(column) {
            Some(col) if !value.trim().is_empty() => col.dict.intern(value),
            _ => NONE,
        }
    }

    pub fn push(&mut self, ev: &Event<'_>) -> Result<(), LogError> {
        if self.log.len() >= MAX_EVENTS {
            return Err(LogError::TooManyEvents);
        }
        let case = self.case_code(ev.case);
        let activity = self.activity_code(ev.activity);
        let resource = ev.resource.map_or(NONE, |r| self.resource_code(r));
        let team = ev.team.map_or(NONE, |t| self.team_code(t));
        // Vec::new does not allocate, so events without attributes cost nothing here.
        let attrs: Vec<(usize, u32)> = ev
            .attributes
            .iter()
            .map(|&(col, value)| (col, self.attribute_code(col, value)))
            .collect();
        self.push_coded(&CodedEvent {
            case,
            activity,
            time_ms: ev.time_ms,
            resource,
            team,
            text: ev.text,
            attributes: &attrs,
        })
    }

    pub fn push_coded(&mut self, ev: &CodedEvent<'_>) -> Result<(), LogError> {
        let l = &mut self.log;
        if l.len() >= MAX_EVENTS {
            return Err(LogError::TooManyEvents);
        }
        check_code("case", ev.case, l.cases.len(), false)?;
        check_code("activity", ev.activity, l.activities.len(), false)?;
        check_code("resource", ev.resource, l.resources.len(), true)?;
        check_code("team", ev.team, l.teams.len(), true)?;
        let i = l.len();
        l.case.push(ev.case);
        l.activity.push(ev.activity);
        l.time_ms.push(ev.time_ms);
        l.resource.push(ev.resource);
        l.team.push(ev.team);
        for col in &mut l.attributes {
            col.codes.push(NONE);
        }
        for &(c, code) in ev.attributes {
            if let Some(col) = l.attributes.get_mut(c)
                && code != NONE
                && (code as usize) < col.dict.len()
            {
                col.codes[i] = code;
            }
        }
        if let Some(t) = ev.text.filter(|t| !t.trim().is_empty()) {
            // i < MAX_EVENTS, checked above.
            l.texts.push((i as u32, t.into()));
        }
        Ok(())
    }

    /// Appends another log's events after this one's, merging the dictionaries (a case, activity
    /// or resource of the same name gets the same code). Readers that parse parts of a file in
    /// parallel join the parts with this, in input order.
    pub fn append(&mut self, part: EventLog) -> Result<(), LogError> {
        // New attribute columns first, while they can be back-filled to this log's length.
        for col in &part.attributes {
            self.attribute_column(&col.name);
        }
        let l = &mut self.log;
        let base = l.len();
        let n = part.len();
        if base + n > MAX_EVENTS {
            return Err(LogError::TooManyEvents);
        }
        // The part's names move into this log's dictionaries (no copy of a name that is new).
        fn remap(dst: &mut Dict, src: Dict) -> Vec<u32> {
            src.names.into_iter().map(|n| dst.intern_boxed(n)).collect()
        }
        fn map(codes: &[u32], to: &[u32]) -> impl Iterator<Item = u32> {
            codes
                .iter()
                .map(move |&c| to.get(c as usize).copied().unwrap_or(NONE))
        }
        let cases = remap(&mut l.cases, part.cases);
        let activities = remap(&mut l.activities, part.activities);
        let resources = remap(&mut l.resources, part.resources);
        let teams = remap(&mut l.teams, part.teams);
        l.case.extend(map(&part.case, &cases));
        l.activity.extend(map(&part.activity, &activities));
        l.time_ms.extend_from_slice(&part.time_ms);
        l.resource.extend(map(&part.resource, &resources));
        l.team.extend(map(&part.team, &teams));
        let l = &mut self.log;
        let mut part_attributes = part.attributes;
        for dst in &mut l.attributes {
            match part_attributes.iter_mut().find(|c| c.name == dst.name) {
                Some(src) => {
                    let to = remap(&mut dst.dict, std::mem::take(&mut src.dict));
                    dst.codes.extend(map(&src.codes, &to));
                }
                None => dst.codes.resize(base + n, NONE),
            }
        }
        // base + i < MAX_EVENTS, checked above.
        l.texts
            .extend(part.texts.into_iter().map(|(i, t)| (i + base as u32, t)));
        for name in part.unkept {
            if !l.unkept.contains(&name) {
                l.unkept.push(name);
            }
        }
        if !part.positions.is_empty() {
            l.positions.resize(base, 0);
            l.positions.extend_from_slice(&part.positions);
        }
        if l.sentiment.is_some() || part.sentiment.is_some() {
            let mut s = l.sentiment.take().unwrap_or_else(|| vec![None; base]);
            match part.sentiment {
                Some(p) => s.extend(p),
                None => s.resize(base + n, None),
            }
            l.sentiment = Some(s);
        }
        Ok(())
    }

    pub fn finish(self) -> EventLog {
        self.log
    }
}

fn check_code(what: &'static str, code: u32, len: usize, none_ok: bool) -> Result<(), LogError> {
    if (code as usize) < len || (none_ok && code == NONE) {
        Ok(())
    } else {
        Err(LogError::BadCode { what, code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_interns_and_keeps_input_order() {
        let mut b = EventLogBuilder::new();
        let product = b.attribute_column("product");
        for (case, act, t, res) in [
            ("c1", "a", 5, Some("x")),
            ("c2", "b", 1, Some(" ")),
            ("c1", "b", 2, None),
        ] {
            b.push(&Event {
                case,
                activity: act,
                time_ms: t,
                resource: res,
                team: None,
                text: if case == "c2" { Some("hello") } else { None },
                attributes: &[(product, "p1")],
            })
            .unwrap();
        }
        let log = b.finish();
        assert_eq!(log.case_codes(), &[0, 1, 0]);
        assert_eq!(log.activity_codes(), &[0, 1, 1]);
        assert_eq!(log.resource_codes(), &[0, NONE, NONE]);
        assert_eq!(log.times_ms(), &[5, 1, 2]);
        assert_eq!(log.text(1), Some("hello"));
        assert_eq!(log.text(0), None);
        assert_eq!(log.attribute("product").unwrap().codes, vec![0, 0, 0]);
    }

    #[test]
    fn from_columns_checks_lengths() {
        let case = ["a", "a"];
        let cols = CaseEventColumns {
            case: &case,
            at_ms: &[1, 2],
            activity: &["x", "y"],
            agent: &[Some("p"), None],
            team: &[],
            text: &[],
            sentiment: Some(&[Some(0.5), None]),
            attributes: &[("product", &[Some("p1"), None])],
        };
        let log = EventLog::from_columns(cols).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log.sentiment().unwrap()[0], Some(0.5));
        assert_eq!(log.attribute("product").unwrap().codes, vec![0, NONE]);
        let bad = CaseEventColumns {
            at_ms: &[1],
            ..cols
        };
        assert!(matches!(
            EventLog::from_columns(bad),
            Err(LogError::ColumnLength {
                column: "at_ms",
                ..
            })
        ));
        let mut log = log;
        assert!(log.set_sentiment(vec![None]).is_err());
    }

    #[test]
    fn append_merges_dictionaries_in_order() {
        let part = |rows: &[(&str, &str, Option<&str>, Option<&str>)]| {
            let mut b = EventLogBuilder::new();
            let col = b.attribute_column("product");
            for (i, &(case, act, res, product)) in rows.iter().enumerate() {
                let attrs: Vec<(usize, &str)> = product.map(|p| (col, p)).into_iter().collect();
                b.push(&Event {
                    case,
                    activity: act,
                    time_ms: i as i64,
                    resource: res,
                    team: None,
                    text: (act == "b").then_some("note"),
                    attributes: &attrs,
                })
                .unwrap();
            }
            b.finish()
        };
        let mut b = EventLogBuilder::new();
        b.append(part(&[("c1", "a", Some("x"), Some("p"))]))
            .unwrap();
        b.append(part(&[
            ("c2", "b", None, None),
            ("c1", "a", Some("y"), Some("q")),
        ]))
        .unwrap();
        let log = b.finish();
        assert_eq!(log.case_codes(), &[0, 1, 0]);
        assert_eq!(log.activity_codes(), &[0, 1, 0]);
        assert_eq!(log.resource_codes(), &[0, NONE, 1]);
        assert_eq!(log.times_ms(), &[0, 0, 1]);
        assert_eq!(log.text(1), Some("note"));
        assert_eq!(log.attribute("product").unwrap().codes, vec![0, NONE, 1]);
    }

    #[test]
    fn coded_push_rejects_foreign_codes() {
        let mut b = EventLogBuilder::new();
        let c = b.case_code("c");
        let e = b.push_coded(&CodedEvent {
            case: c,
            activity: 7,
            time_ms: 0,
            resource: NONE,
            team: NONE,
            text: None,
            attributes: &[],
        });
        assert!(matches!(
            e,
            Err(LogError::BadCode {
                what: "activity",
                ..
            })
        ));
    }
}
