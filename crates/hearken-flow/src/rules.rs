//! Which activities are escalations and which close a case: the default rule (common names,
//! recognised without configuration) and configured names.
//!
//! Names are compared after folding: lowercase, and `_`, `-`, `/`, `.`, `:` and runs of spaces
//! read as one space. So `Escalated`, `ESCALATED` and `escalated` are the same name, and
//! `in_progress` is `in progress`.
//!
//! The default escalation rule: a name with a word that starts with `escalat` (escalate,
//! escalated, escalation, escalating), or that contains one of [`ESCALATION_PHRASES`]
//! (`transferred to 2nd line`, `second level support`, ...).
//!
//! The default closing rule: a name that is one of [`CLOSING_NAMES`] (`closed`, `resolved`,
//! `solved`, `done`, `completed` ...), or whose first or last word is one of
//! [`CLOSING_EDGE_WORDS`] (`Ticket closed`, `Close case`, `Request cancelled`). `Resolve ticket`
//! is not a closing name: it says work is being done, not that the case ended.
//!
//! Configured names replace the default rule (see [`crate::FlowConfig`]).

use serde::Serialize;

/// Phrases that mark an escalation anywhere in a (folded) activity name.
pub const ESCALATION_PHRASES: &[&str] = &[
    "2nd line",
    "second line",
    "3rd line",
    "third line",
    "2nd level",
    "second level",
    "tier 2",
    "level 2",
];

/// Whole (folded) names that close a case.
pub const CLOSING_NAMES: &[&str] = &[
    "closed",
    "close",
    "closure",
    "resolved",
    "solved",
    "done",
    "completed",
    "complete",
    "finished",
    "cancelled",
    "canceled",
];

/// A first or last word that makes a (folded) name a closing one.
pub const CLOSING_EDGE_WORDS: &[&str] = &[
    "closed",
    "close",
    "resolved",
    "solved",
    "completed",
    "finished",
    "cancelled",
    "canceled",
];

/// A name folded for comparison (see the module docs).
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if matches!(c, '_' | '-' | '/' | '.' | ':') || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.extend(c.to_lowercase());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether the default rule takes `name` for an escalation.
pub fn is_default_escalation(name: &str) -> bool {
    let f = fold(name);
    f.split(' ').any(|w| w.starts_with("escalat"))
        || ESCALATION_PHRASES.iter().any(|p| contains_words(&f, p))
}

/// Whether the default rule takes `name` for a closing activity.
pub fn is_default_closing(name: &str) -> bool {
    let f = fold(name);
    if CLOSING_NAMES.contains(&f.as_str()) {
        return true;
    }
    let first = f.split(' ').next().unwrap_or("");
    let last = f.rsplit(' ').next().unwrap_or("");
    CLOSING_EDGE_WORDS.contains(&first) || CLOSING_EDGE_WORDS.contains(&last)
}

/// Whether `phrase` occurs in `folded` on word boundaries.
fn contains_words(folded: &str, phrase: &str) -> bool {
    folded.match_indices(phrase).any(|(i, _)| {
        let before = i == 0 || folded.as_bytes()[i - 1] == b' ';
        let end = i + phrase.len();
        let after = end == folded.len() || folded.as_bytes()[end] == b' ';
        before && after
    })
}

/// How the escalation (or closing) activities of a report were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// The default rule (common names).
    Default,
    /// Names from the flow configuration or the command line.
    Configured,
}

/// One rule in force and what it matched in this log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInForce {
    pub source: RuleSource,
    /// The rule in words: the default rule, or the configured names.
    pub rule: String,
    /// The activities (or lifecycle stages) of this log the rule matched, in name order.
    pub matched: Vec<String>,
}

/// The escalation and closing rules of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesInForce {
    pub escalation: RuleInForce,
    pub closing: RuleInForce,
}

pub(crate) fn describe_default_escalation() -> String {
    format!(
        "default rule: a word starting with escalat, or {} (any case)",
        list(ESCALATION_PHRASES)
    )
}

pub(crate) fn describe_default_closing() -> String {
    format!(
        "default rule: {}, or a name starting or ending with {} (any case)",
        list(CLOSING_NAMES),
        list(CLOSING_EDGE_WORDS)
    )
}

fn list(words: &[&str]) -> String {
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

/// Matches a name against a rule: the default one, or configured names (folded).
pub(crate) enum Matcher {
    DefaultEscalation,
    DefaultClosing,
    Names(Vec<String>),
}

impl Matcher {
    pub(crate) fn escalation(configured: Option<&[String]>) -> Matcher {
        match configured {
            Some(names) => Matcher::Names(names.iter().map(|n| fold(n)).collect()),
            None => Matcher::DefaultEscalation,
        }
    }

    pub(crate) fn closing(configured: Option<&[String]>) -> Matcher {
        match configured {
            Some(names) => Matcher::Names(names.iter().map(|n| fold(n)).collect()),
            None => Matcher::DefaultClosing,
        }
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        match self {
            Matcher::DefaultEscalation => is_default_escalation(name),
            Matcher::DefaultClosing => is_default_closing(name),
            Matcher::Names(names) => {
                let f = fold(name);
                names.contains(&f)
            }
        }
    }

    pub(crate) fn source(&self) -> RuleSource {
        match self {
            Matcher::Names(_) => RuleSource::Configured,
            _ => RuleSource::Default,
        }
    }
}

pub(crate) fn describe_configured(names: &[String]) -> String {
    if names.is_empty() {
        "configured: none".to_string()
    } else {
        format!("configured: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("  In_Progress -- 2nd/Line "), "in progress 2nd line");
        assert_eq!(fold("ESCALATED"), "escalated");
    }

    #[test]
    fn default_escalations() {
        for yes in [
            "escalated",
            "Escalate",
            "ESCALATION",
            "Escalate to L2",
            "ticket escalated",
            "Transferred to 2nd line",
            "second-level support",
            "Tier 2",
        ] {
            assert!(is_default_escalation(yes), "{yes}");
        }
        for no in [
            "assigned",
            "in_progress",
            "Resolve ticket",
            "level 21",
            "2nd lines",
            "Wait",
            "T02 Check confirmation of receipt",
        ] {
            assert!(!is_default_escalation(no), "{no}");
        }
    }

    #[test]
    fn default_closings() {
        for yes in [
            "closed",
            "Closed",
            "RESOLVED",
            "solved",
            "done",
            "Completed",
            "Ticket closed",
            "Close case",
            "request cancelled",
        ] {
            assert!(is_default_closing(yes), "{yes}");
        }
        for no in [
            "Resolve ticket",
            "Resolve SW anomaly",
            "reopened",
            "open",
            "Complete application form",
            "waiting_on_customer",
            "pay compensation",
        ] {
            assert!(!is_default_closing(no), "{no}");
        }
    }

    #[test]
    fn configured_names_are_folded() {
        let m = Matcher::escalation(Some(&["Escalated To_L2".to_string()]));
        assert!(m.matches("escalated to l2"));
        assert!(!m.matches("escalated"));
        assert_eq!(m.source(), RuleSource::Configured);
        let none = Matcher::closing(Some(&[]));
        assert!(!none.matches("closed"));
    }

    #[test]
    fn descriptions_name_the_words() {
        assert!(describe_default_escalation().contains("2nd line"));
        assert!(describe_default_closing().contains("resolved"));
        assert_eq!(list(&["a", "b", "c"]), "a, b or c");
    }
}
