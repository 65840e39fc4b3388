//! Mapping files: how an organisation's own export maps onto the canonical fields.
//!
//! ```toml
//! encoding = "windows-1252"  # optional; UTF-8 otherwise (UTF-16 told by its byte order mark)
//! delimiter = ";"            # optional; sniffed from the header otherwise
//! date_order = "dmy"         # for numeric dates such as 03/04/2024
//! date_format = "%d-%m-%Y %H:%M"   # or "epoch", "epoch_ms", "excel"
//! timezone = "Europe/Amsterdam"    # for times written without an offset (daylight saving
//! # utc_offset_minutes = 60        #  time included), or a fixed offset instead
//! decimal = ","              # how numbers are written: 1.234,56
//! thousands = "."
//!
//! [columns]                  # canonical field = column in the file (JSON: a key, or a path
//! at = "Aangemaakt op"       # into nested objects and lists: "via.channel",
//! text = "Omschrijving"      # "custom_fields[id=360012001].value", "tags[0]")
//!
//! [aspects]                  # surveys: aspect name = column
//! service = "Q5_1"
//!
//! [values.channel]           # value translations, per field
//! Telefoon = "phone"
//!
//! [defaults]                 # a constant for a field the file does not have
//! channel = "email"
//!
//! [[skip]]                   # rows that are not signals: counted under the reason, not stored
//! column = "inbound"
//! equals = "False"
//! reason = "reply by our own account"
//! ```
//!
//! Everything in a mapping is checked before the first row is read: field names against the
//! kind, defaults and translated values against the field's type and closed set (a typo'd
//! `kind = "complain"` is one error, not one quarantined row per row), formats, rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hearken_model::{
    Channel, DateOptions, DateOrder, ExtId, Label, NumberFormat, RecordKind, SignalKind, Source,
    Timestamp, parse_bool, parse_number,
};
use serde::Deserialize;

use crate::IngestError;
use crate::fields::{fields, slot};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The file's character encoding (a WHATWG label: `windows-1252`, `iso-8859-15`,
    /// `utf-16le`, ...); UTF-8 when absent.
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub date_order: Option<DateOrder>,
    pub date_format: Option<String>,
    /// A fixed offset for times written without one.
    pub utc_offset_minutes: Option<i32>,
    /// The time zone (IANA name) of times written without an offset, daylight saving time
    /// included. Exclusive with `utc_offset_minutes`.
    pub timezone: Option<String>,
    /// The decimal separator of numbers (`.` or `,`).
    pub decimal: Option<String>,
    /// The thousands separator of numbers (`.`, `,`, `" "`, `'`, or `""` for none).
    pub thousands: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub aspects: BTreeMap<String, String>,
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// Rules for rows that are not records of this kind: a row matching one is skipped, counted
    /// under the rule's reason, and not stored.
    #[serde(default)]
    pub skip: Vec<SkipRule>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One `[[skip]]` rule: a column and exactly one condition on its value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRule {
    /// The column (CSV header, or JSON key) the condition looks at.
    pub column: String,
    /// The value equals this (ignoring case and surrounding spaces).
    pub equals: Option<String>,
    /// The value is one of these (ignoring case and surrounding spaces).
    #[serde(rename = "in")]
    pub one_of: Option<Vec<String>>,
    /// The value is none of these (ignoring case and surrounding spaces).
    pub not_in: Option<Vec<String>>,
    /// The value matches this regular expression (anywhere; anchor with ^...$).
    pub matches: Option<String>,
    /// `true`: the value is empty (or the column absent from a JSON row); `false`: it is not.
    pub empty: Option<bool>,
    /// Why such rows are skipped: what the import's counts and `hearken status` say.
    pub reason: Option<String>,
}

/// A compiled skip rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub column: String,
    pub reason: String,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    OneOf(Vec<String>),
    NoneOf(Vec<String>),
    Matches(regex::Regex),
    Empty(bool),
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Rule {
    /// Whether the rule skips a row whose column holds `value` (None: a JSON row without the key).
    pub fn skips(&self, value: Option<&str>) -> bool {
        let v = value.unwrap_or("").trim();
        match &self.test {
            Test::Empty(want) => v.is_empty() == *want,
            Test::OneOf(set) => set.iter().any(|s| fold(v) == *s),
            Test::NoneOf(set) => !set.iter().any(|s| fold(v) == *s),
            Test::Matches(re) => re.is_match(v),
        }
    }
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping, IngestError> {
        let mut m: Mapping = toml::from_str(text).map_err(|e| IngestError::Mapping {
            mapping: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        m.path = path.to_path_buf();
        Ok(m)
    }

    fn err(&self, message: String) -> IngestError {
        IngestError::Mapping {
            mapping: self.path.clone(),
            message,
        }
    }

    /// Checks everything that does not need the file, so a typo fails before any row is read:
    /// field names against the kind, defaults and translated values against their field's type
    /// and closed set, the delimiter, number and date formats, and the skip rules.
    pub fn validate(&self, kind: RecordKind) -> Result<(), IngestError> {
        let known = || {
            fields(kind)
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (section, names) in [("columns", &self.columns), ("defaults", &self.defaults)] {
            for name in names.keys() {
                if slot(kind, name).is_none() {
                    return Err(self.err(format!(
                        "[{section}] '{name}' is not a field of {kind} (fields: {})",
                        known()
                    )));
                }
            }
        }
        for name in self.values.keys() {
            if slot(kind, name).is_none() {
                return Err(self.err(format!(
                    "[values.{name}]: '{name}' is not a field of {kind} (fields: {})",
                    known()
                )));
            }
        }
        if !self.aspects.is_empty() && kind != RecordKind::Surveys {
            return Err(self.err(format!("[aspects] applies to surveys, not {kind}")));
        }
        if let Some(d) = &self.delimiter {
            self.delimiter_byte().ok_or_else(|| {
                self.err(format!("delimiter '{d}' must be a single ASCII character"))
            })?;
        }
        self.encoding()?;
        let numbers = self.number_format()?;
        let dates = self.date_options()?;
        dates.check().map_err(|m| self.err(m))?;
        for (field, value) in &self.defaults {
            check_value(kind, field, value, &dates, &numbers)
                .map_err(|why| self.err(format!("[defaults] {field} = \"{value}\" {why}")))?;
        }
        for (field, table) in &self.values {
            for (from, to) in table {
                check_value(kind, field, to, &dates, &numbers).map_err(|why| {
                    self.err(format!(
                        "[values.{field}] \"{from}\" = \"{to}\": \"{to}\" {why}"
                    ))
                })?;
            }
        }
        self.rules()?;
        Ok(())
    }

    pub fn delimiter_byte(&self) -> Option<u8> {
        let d = self.delimiter.as_deref()?;
        let d = if d == "\\t" || d.eq_ignore_ascii_case("tab") {
            "\t"
        } else {
            d
        };
        match d.as_bytes() {
            [b] if b.is_ascii() => Some(*b),
            _ => None,
        }
    }

    /// How the mapping says dates are written; an error for a time zone that is not one, or
    /// for a time zone and a fixed offset together.
    pub fn date_options(&self) -> Result<DateOptions, IngestError> {
        let time_zone = match &self.timezone {
            Some(name) => {
                if self.utc_offset_minutes.is_some() {
                    return Err(self.err(format!(
                        "timezone = \"{name}\" and utc_offset_minutes both say how to read times without an offset: keep one (timezone follows daylight saving time)"
                    )));
                }
                Some(
                    hearken_model::parse_time_zone(name)
                        .map_err(|m| self.err(format!("timezone = {m}")))?,
                )
            }
            None => None,
        };
        Ok(DateOptions {
            order: self.date_order,
            format: self.date_format.clone(),
            utc_offset_minutes: self.utc_offset_minutes.unwrap_or(0),
            time_zone,
        })
    }

    /// Whether the mapping says how to read times written without an offset.
    pub fn sets_time_zone(&self) -> bool {
        self.timezone.is_some() || self.utc_offset_minutes.is_some()
    }

    /// The file's encoding when the mapping names one; an error for a name that is none.
    pub fn encoding(&self) -> Result<Option<&'static encoding_rs::Encoding>, IngestError> {
        let Some(label) = &self.encoding else {
            return Ok(None);
        };
        crate::input::encoding_for(label).map(Some).ok_or_else(|| {
            self.err(format!(
                "encoding = \"{label}\" is not an encoding Hearken knows: use a name such as \"utf-8\", \"windows-1252\", \"iso-8859-15\", \"utf-16le\" or \"shift_jis\" (the WHATWG Encoding Standard's labels)"
            ))
        })
    }

    /// The stated decimal and thousands separators.
    pub fn number_format(&self) -> Result<NumberFormat, IngestError> {
        let one = |key: &str, v: &str| -> Result<Option<char>, IngestError> {
            let mut chars = v.chars();
            match (chars.next(), chars.next()) {
                (None, _) => Ok(None),
                (Some(c), None) => Ok(Some(c)),
                _ => Err(self.err(format!(
                    "{key} = \"{v}\" must be a single character, such as \",\" or \".\""
                ))),
            }
        };
        let decimal = match &self.decimal {
            Some(d) => match one("decimal", d)? {
                Some(c) => Some(c),
                None => {
                    return Err(self
                        .err("decimal = \"\": name the decimal separator, \".\" or \",\"".into()));
                }
            },
            None => None,
        };
        let thousands = match &self.thousands {
            Some(t) => one("thousands", t)?,
            None => None,
        };
        if decimal.is_none() && self.thousands.as_deref() == Some("") {
            return Err(self.err(
                "thousands = \"\" (no grouping) leaves the decimal separator open: add decimal = \".\" or \",\"".into(),
            ));
        }
        let f = NumberFormat { decimal, thousands };
        f.check().map_err(|m| self.err(m))?;
        Ok(f)
    }

    /// The skip rules, compiled; an error names the rule.
    pub(crate) fn rules(&self) -> Result<Vec<Rule>, IngestError> {
        self.skip
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = || format!("[[skip]] rule {} (column '{}')", i + 1, r.column);
                if r.column.trim().is_empty() {
                    return Err(self.err(format!(
                        "[[skip]] rule {}: name the column it looks at (column = \"...\")",
                        i + 1
                    )));
                }
                let set = |v: &[String]| v.iter().map(|s| fold(s)).collect::<Vec<_>>();
                let mut tests = Vec::new();
                if let Some(v) = &r.equals {
                    tests.push(("equals", Test::OneOf(vec![fold(v)])));
                }
                if let Some(v) = &r.one_of {
                    tests.push(("in", Test::OneOf(set(v))));
                }
                if let Some(v) = &r.not_in {
                    tests.push(("not_in", Test::NoneOf(set(v))));
                }
                if let Some(p) = &r.matches {
                    let re = regex::Regex::new(p).map_err(|e| {
                        self.err(format!(
                            "{}: matches = \"{p}\" is not a valid regular expression: {}",
                            at(),
                            e.to_string().lines().last().unwrap_or_default().trim()
                        ))
                    })?;
                    tests.push(("matches", Test::Matches(re)));
                }
                if let Some(e) = r.empty {
                    tests.push(("empty", Test::Empty(e)));
                }
                if tests.len() != 1 {
                    let named: Vec<&str> = tests.iter().map(|(k, _)| *k).collect();
                    return Err(self.err(format!(
                        "{}: give exactly one condition of equals, in, not_in, matches or empty (found {})",
                        at(),
                        if named.is_empty() {
                            "none".to_string()
                        } else {
                            named.join(", ")
                        }
                    )));
                }
                let (key, test) = tests.remove(0);
                let reason = match &r.reason {
                    Some(s) if !s.trim().is_empty() => s.trim().to_string(),
                    _ => {
                        let what = match (&test, key) {
                            (Test::Empty(true), _) => "is empty".to_string(),
                            (Test::Empty(false), _) => "is not empty".to_string(),
                            (_, "equals") => format!("is {}", r.equals.as_deref().unwrap_or("")),
                            (_, "in") => format!("is one of {}", r.one_of.as_ref().map(|v| v.join(", ")).unwrap_or_default()),
                            (_, "not_in") => format!("is none of {}", r.not_in.as_ref().map(|v| v.join(", ")).unwrap_or_default()),
                            _ => format!("matches {}", r.matches.as_deref().unwrap_or("")),
                        };
                        format!("{} {what}", r.column)
                    }
                };
                Ok(Rule {
                    column: r.column.clone(),
                    reason,
                    test,
                })
            })
            .collect()
    }
}

/// Checks one value a mapping supplies for `field` (a default, or the target of a translation)
/// the way the row's own value would be: the message says why it would fail on every row.
fn check_value(
    kind: RecordKind,
    field: &str,
    value: &str,
    dates: &DateOptions,
    numbers: &NumberFormat,
) -> Result<(), String> {
    let why = |e: hearken_model::FieldError| match e.hint {
        Some(h) => format!("{}; {h}", e.reason),
        None => e.reason,
    };
    let number = |lo: f64, hi: f64, whole: bool| -> Result<(), String> {
        let x = parse_number(field, value, numbers).map_err(why)?;
        if whole && x.fract() != 0.0 {
            return Err("is not a whole number".into());
        }
        if x < lo || x > hi {
            return Err(format!("is outside {lo}..{hi}"));
        }
        Ok(())
    };
    match (kind, field) {
        (_, "channel") => Channel::parse(field, value).map(drop).map_err(why),
        (RecordKind::Signals, "kind") => SignalKind::parse(field, value).map(drop).map_err(why),
        (RecordKind::Signals, "source") => Source::parse(field, value).map(drop).map_err(why),
        (_, "at" | "customer_since" | "churned_at") => {
            Timestamp::parse(field, value, dates).map(drop).map_err(why)
        }
        (_, "nps") => number(0.0, 10.0, true),
        (_, "csat") => number(1.0, 5.0, true),
        (_, "ces") => number(1.0, 7.0, true),
        (_, "overall") => number(0.0, 10.0, false),
        (_, "value_per_year") => number(0.0, f64::MAX, false),
        (_, "white_glove") => parse_bool(field, value).map(drop).map_err(why),
        (_, "segment" | "persona" | "category" | "team" | "stage" | "topic" | "activity") => {
            Label::parse(field, value).map(drop).map_err(why)
        }
        (_, f) if f.ends_with("_id") => ExtId::parse(field, value).map(drop).map_err(why),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(toml: &str) -> Mapping {
        Mapping::parse(toml, Path::new("m.toml")).expect("parses")
    }

    fn error(toml: &str, kind: RecordKind) -> String {
        match mapping(toml).validate(kind) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("expected an error for {toml}"),
        }
    }

    #[test]
    fn a_typo_in_a_closed_set_is_one_error_naming_file_key_value_and_choices() {
        let e = error("[defaults]\nkind = \"complain\"\n", RecordKind::Signals);
        assert!(
            e.starts_with("mapping m.toml: [defaults] kind = \"complain\""),
            "{e}"
        );
        assert!(e.contains("complaint") && e.contains("question"), "{e}");
        let e = error(
            "[values.channel]\nTelefoon = \"fone\"\n",
            RecordKind::Signals,
        );
        assert!(
            e.contains("[values.channel] \"Telefoon\" = \"fone\""),
            "{e}"
        );
        assert!(e.contains("phone, email"), "{e}");
        let e = error("[defaults]\nsource = \"bot\"\n", RecordKind::Signals);
        assert!(e.contains("customer, employee"), "{e}");
        let e = error("[defaults]\nnps = \"11\"\n", RecordKind::Surveys);
        assert!(e.contains("outside"), "{e}");
        let e = error("[defaults]\nat = \"yesterday\"\n", RecordKind::Signals);
        assert!(e.contains("[defaults] at"), "{e}");
        // Good values pass, in any spelling the row parser accepts.
        mapping("[defaults]\nkind = \"Complaint\"\nchannel = \"e-mail\"\n[values.source]\nstaff = \"employee\"\n")
            .validate(RecordKind::Signals)
            .expect("valid");
    }

    #[test]
    fn formats_are_checked() {
        let e = error("decimal = \";\"\n", RecordKind::Customers);
        assert!(e.contains("decimal"), "{e}");
        let e = error(
            "decimal = \",\"\nthousands = \",\"\n",
            RecordKind::Customers,
        );
        assert!(e.contains("must differ"), "{e}");
        let e = error("date_format = \"dd/mm/yyyy\"\n", RecordKind::Signals);
        assert!(e.contains("strftime"), "{e}");
        let f = mapping("decimal = \",\"\nthousands = \".\"\n")
            .number_format()
            .expect("valid");
        assert_eq!((f.decimal, f.thousands), (Some(','), Some('.')));
        let f = mapping("decimal = \",\"\nthousands = \"\"\n")
            .number_format()
            .expect("valid");
        assert_eq!((f.decimal, f.thousands), (Some(','), None));
        let e = error("thousands = \"\"\n", RecordKind::Customers);
        assert!(e.contains("add decimal"), "{e}");
        let e = Mapping::parse("deciml = \",\"\n", Path::new("m.toml"))
            .expect_err("unknown key")
            .to_string();
        assert!(
            e.starts_with("mapping m.toml: ") && e.contains("deciml"),
            "{e}"
        );
    }

    #[test]
    fn skip_rules_need_one_condition_and_match_ignoring_case() {
        let e = error("[[skip]]\ncolumn = \"inbound\"\n", RecordKind::Signals);
        assert!(
            e.contains("exactly one condition") && e.contains("none"),
            "{e}"
        );
        let e = error(
            "[[skip]]\ncolumn = \"a\"\nequals = \"x\"\nempty = true\n",
            RecordKind::Signals,
        );
        assert!(e.contains("equals, empty"), "{e}");
        let e = error(
            "[[skip]]\ncolumn = \"a\"\nmatches = \"(\"\n",
            RecordKind::Signals,
        );
        assert!(e.contains("regular expression"), "{e}");
        let m = mapping(
            "[[skip]]\ncolumn = \"inbound\"\nequals = \"false\"\nreason = \"our replies\"\n\
             [[skip]]\ncolumn = \"author\"\nmatches = \"^bot_\"\n\
             [[skip]]\ncolumn = \"lang\"\nnot_in = [\"en\", \"EN-gb\"]\n\
             [[skip]]\ncolumn = \"text\"\nempty = true\n",
        );
        let rules = m.rules().expect("valid");
        assert_eq!(rules[0].reason, "our replies");
        assert!(rules[0].skips(Some(" False ")) && !rules[0].skips(Some("True")));
        assert!(rules[1].skips(Some("bot_7")) && !rules[1].skips(Some("a_bot_7")));
        assert_eq!(rules[1].reason, "author matches ^bot_");
        assert!(rules[2].skips(Some("fr")) && !rules[2].skips(Some("en-GB")));
        assert!(rules[3].skips(None) && rules[3].skips(Some("  ")) && !rules[3].skips(Some("x")));
    }
}
