//! The query layer's errors. Each variant has a stable machine code (what an API client matches
//! on; listed in docs/adr/0005-query-layer.md), a message naming the request field in backticks
//! (`from`, `segment`, ...; the CLI shows them as `--from`, `--segment`), a hint saying what to do,
//! and the HTTP status the server answers with.

use hearken_engine::EngineError;
use hearken_store::StoreError;
use hearken_topics::TopicsError;
use serde::Serialize;

use crate::request::By;

/// At most this many known values are listed in a message.
const SHOWN: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A filter names a segment, product, agent, team, channel, topic or aspect that does not
    /// exist.
    #[error("unknown {what} '{value}' (known: {})", shown(.known, *.total))]
    UnknownValue {
        field: &'static str,
        what: &'static str,
        value: String,
        /// The known values (at most the first [`SHOWN`] are printed).
        known: Vec<String>,
        /// How many known values there are in all.
        total: usize,
    },
    /// A date that does not parse.
    #[error("`{field}` '{value}' {reason}")]
    InvalidDate {
        field: &'static str,
        value: String,
        reason: String,
        hint: Option<String>,
    },
    /// A window whose start is not before its end.
    #[error("`{from}` must be before `{to}`")]
    EmptyWindow {
        from: &'static str,
        to: &'static str,
    },
    /// A number outside what the option allows.
    #[error("`{field}` {value} is out of range: {allowed}")]
    OutOfRange {
        field: &'static str,
        value: String,
        allowed: String,
    },
    /// A grouping the analytic cannot use.
    #[error("`by` {by} {reason}")]
    UnsupportedGroup {
        by: By,
        reason: String,
        accepted: Vec<By>,
    },
    /// A filter the analytic cannot honour (refused rather than ignored).
    #[error("`{field}` cannot be used with {analytic}: {reason}")]
    UnsupportedFilter {
        field: &'static str,
        analytic: &'static str,
        reason: String,
    },
    /// Options that contradict each other.
    #[error("{message}")]
    Conflict { message: String, hint: String },
    /// The selection holds nothing the analytic can compute on.
    #[error("{message}")]
    NoData { message: String, hint: String },
    /// The selection has signals but none of them has a topic.
    #[error(
        "none of the {signals} signals in this selection has a topic, so {analytic} has nothing to group"
    )]
    NoTopics {
        signals: u64,
        analytic: &'static str,
    },
    /// A filter names a segment or team outside the caller's data scope.
    #[error("`{field}` '{value}' is outside your data scope (your {field}s: {})", .allowed.join(", "))]
    OutOfScope {
        field: &'static str,
        value: String,
        /// The scope's values of that dimension.
        allowed: Vec<String>,
    },
    /// A case-flow question the cases cannot answer: a property they do not have, a value no case
    /// has (the message names the request field, the value and what there is).
    #[error("`{field}` {value}: {reason}")]
    Flow {
        field: &'static str,
        value: String,
        reason: String,
        kind: FlowRefusal,
        hint: String,
    },
    /// Store-wide records that belong to no segment or team, asked for under a limited scope.
    #[error("{what} belong to no segment or team, so a caller with a data scope cannot see them")]
    StoreWide { what: &'static str },
    /// A signal, model or other thing asked for by id that does not exist.
    #[error("no {what} {}", quoted(.id))]
    NotFound {
        what: &'static str,
        id: String,
        hint: String,
    },
    /// The engine cannot compute this on this data as asked (a window of more periods than it
    /// keeps, more aspects than the exact decomposition handles); the message says what to do.
    #[error("{0}")]
    Refused(String),
    /// A request that does not parse (unknown field, wrong type); for the HTTP layer.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A change of an improvement action the store refuses (actions.rs): a field's value
    /// (`invalid_value`, 422), or a move the action's state does not allow (`conflict`, 409: an
    /// illegal status change, the effect of an action not done).
    #[error("{message}")]
    Action {
        code: &'static str,
        status: u16,
        message: String,
        hint: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the analytics engine refused the request: {0}")]
    Engine(EngineError),
    #[error(transparent)]
    Topics(#[from] TopicsError),
}

/// An id as messages show it: quoted, except a number (`import 42`).
fn quoted(id: &str) -> String {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        id.to_string()
    } else {
        format!("'{id}'")
    }
}

/// Why a case-flow question was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowRefusal {
    /// A filter on a case property the cases do not have.
    Filter,
    /// A grouping by a case property the cases do not have.
    Group,
    /// A value no case has.
    Value,
}

fn shown(known: &[String], total: usize) -> String {
    if known.is_empty() {
        return "none".into();
    }
    let head: Vec<&str> = known.iter().take(SHOWN).map(String::as_str).collect();
    if total > head.len() {
        format!("{}, ... ({total} in all)", head.join(", "))
    } else {
        head.join(", ")
    }
}

impl From<EngineError> for QueryError {
    fn from(e: EngineError) -> QueryError {
        match e {
            EngineError::BadLevel(v) => QueryError::OutOfRange {
                field: "level",
                value: v.to_string(),
                allowed: "give a fraction between 0 and 1, e.g. 0.9 for 90%".into(),
            },
            EngineError::BadOption { name, reason } => {
                QueryError::Refused(format!("{name} {reason}"))
            }
            e @ EngineError::TooManyAspects { .. } => QueryError::Refused(e.to_string()),
            other => QueryError::Engine(other),
        }
    }
}

/// An error as the API returns it: `{code, message, hint}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl QueryError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::UnknownValue { .. } => "unknown_filter_value",
            QueryError::InvalidDate { .. } => "invalid_date",
            QueryError::EmptyWindow { .. } => "empty_window",
            QueryError::OutOfRange { .. } => "out_of_range",
            QueryError::UnsupportedGroup { .. } => "unsupported_group",
            QueryError::UnsupportedFilter { .. } => "unsupported_filter",
            QueryError::Conflict { .. } => "conflicting_options",
            QueryError::NoData { .. } => "no_data",
            QueryError::NoTopics { .. } => "no_topics",
            QueryError::OutOfScope { .. } | QueryError::StoreWide { .. } => "out_of_scope",
            QueryError::Flow { kind, .. } => match kind {
                FlowRefusal::Filter => "unsupported_filter",
                FlowRefusal::Group => "unsupported_group",
                FlowRefusal::Value => "unknown_filter_value",
            },
            QueryError::NotFound { .. } => "not_found",
            QueryError::Refused(_) => "refused",
            QueryError::InvalidRequest(_) => "invalid_request",
            QueryError::Action { code, .. } => code,
            QueryError::Store(StoreError::Snapshot(_)) => "snapshot_unreadable",
            QueryError::Store(_) => "store_error",
            QueryError::Engine(_) => "engine_error",
            QueryError::Topics(_) => "topic_model_error",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            QueryError::UnknownValue { what, field, .. } => {
                format!("use one of the known {what} values, or leave out `{field}`")
            }
            QueryError::InvalidDate { hint, .. } => hint
                .clone()
                .unwrap_or_else(|| "write dates as ISO 8601, e.g. 2024-03-05".into()),
            QueryError::EmptyWindow { from, to } => {
                format!("give a `{from}` earlier than `{to}` (`{to}` is exclusive)")
            }
            QueryError::OutOfRange { .. } | QueryError::Refused(_) => return None,
            QueryError::UnsupportedGroup { accepted, .. } => format!(
                "use one of: {}",
                accepted
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            QueryError::UnsupportedFilter { field, .. } => format!("leave out `{field}`"),
            QueryError::Conflict { hint, .. } | QueryError::NoData { hint, .. } => hint.clone(),
            QueryError::NoTopics { .. } => NO_TOPICS_HINT.into(),
            QueryError::OutOfScope { field, .. } => {
                format!("leave out `{field}`, or give one inside your data scope")
            }
            QueryError::Flow { hint, .. } | QueryError::Action { hint, .. } => hint.clone(),
            QueryError::StoreWide { .. } => {
                "ask an administrator, or use a token without a data scope".into()
            }
            QueryError::NotFound { hint, .. } => hint.clone(),
            QueryError::InvalidRequest(_) => {
                "check the parameter names and values against the API reference".into()
            }
            QueryError::Store(StoreError::Snapshot(_)) => "run `hearken snapshot --rebuild`".into(),
            QueryError::Store(_) | QueryError::Engine(_) | QueryError::Topics(_) => return None,
        })
    }

    /// The HTTP status the server answers with: 400 for a request that cannot be valid, 403 for
    /// what is outside the caller's data scope, 404 for something that does not exist, 422 for a valid request the data cannot answer, 500 for
    /// internal failures.
    pub fn status(&self) -> u16 {
        match self {
            QueryError::UnknownValue { .. }
            | QueryError::InvalidDate { .. }
            | QueryError::EmptyWindow { .. }
            | QueryError::OutOfRange { .. }
            | QueryError::UnsupportedGroup { .. }
            | QueryError::UnsupportedFilter { .. }
            | QueryError::Conflict { .. }
            | QueryError::Flow { .. }
            | QueryError::InvalidRequest(_) => 400,
            QueryError::OutOfScope { .. } | QueryError::StoreWide { .. } => 403,
            QueryError::NotFound { .. } => 404,
            QueryError::Action { status, .. } => *status,
            QueryError::NoData { .. } | QueryError::NoTopics { .. } | QueryError::Refused(_) => 422,
            QueryError::Store(_) | QueryError::Engine(_) | QueryError::Topics(_) => 500,
        }
    }

    /// Whether the person asking can fix it (as opposed to an internal failure).
    pub fn is_user_error(&self) -> bool {
        self.status() < 500
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            hint: self.hint(),
        }
    }
}

/// What to do when signals have no topic: the same advice wherever topics are missing.
pub const NO_TOPICS_HINT: &str = "give signals topics: import them with a topic column (or a \
    mapping that names it), or train a classifier (`hearken topics train --data labelled.csv`, \
    then `hearken topics classify`); to see what the texts are about without labels, run \
    `hearken themes`";

pub type Result<T, E = QueryError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_snake_case() {
        let errors = [
            QueryError::UnknownValue {
                field: "segment",
                what: "segment",
                value: "x".into(),
                known: vec!["a".into()],
                total: 1,
            },
            QueryError::InvalidDate {
                field: "from",
                value: "x".into(),
                reason: "is not a date".into(),
                hint: None,
            },
            QueryError::EmptyWindow {
                from: "from",
                to: "to",
            },
            QueryError::OutOfRange {
                field: "level",
                value: "2".into(),
                allowed: "0 < level < 1".into(),
            },
            QueryError::UnsupportedGroup {
                by: By::Month,
                reason: "is not an entity".into(),
                accepted: vec![By::Customer],
            },
            QueryError::UnsupportedFilter {
                field: "segment",
                analytic: "x",
                reason: "y".into(),
            },
            QueryError::Conflict {
                message: "a".into(),
                hint: "b".into(),
            },
            QueryError::NoData {
                message: "a".into(),
                hint: "b".into(),
            },
            QueryError::NoTopics {
                signals: 3,
                analytic: "trends",
            },
            QueryError::NotFound {
                what: "signal",
                id: "S1".into(),
                hint: "h".into(),
            },
            QueryError::InvalidRequest("x".into()),
            QueryError::OutOfScope {
                field: "segment",
                value: "smb".into(),
                allowed: vec!["enterprise".into()],
            },
            QueryError::Refused("period range spans 9 days; narrow the window".into()),
        ];
        let mut codes: Vec<&str> = errors.iter().map(QueryError::code).collect();
        for e in &errors {
            assert!(e.is_user_error(), "{e}");
            assert!(
                e.hint().is_some() || matches!(e.code(), "out_of_range" | "refused"),
                "{e}"
            );
            let m = e.to_string();
            assert!(!m.ends_with('.'), "{m}");
            assert!(m.chars().next().is_some_and(|c| !c.is_uppercase()), "{m}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
    }

    #[test]
    fn long_lists_of_known_values_are_cut() {
        let known: Vec<String> = (0..30).map(|i| format!("v{i}")).collect();
        let e = QueryError::UnknownValue {
            field: "product",
            what: "product",
            value: "nope".into(),
            known,
            total: 30,
        };
        let m = e.to_string();
        assert!(
            m.starts_with("unknown product 'nope' (known: v0, v1"),
            "{m}"
        );
        assert!(m.ends_with("... (30 in all))"), "{m}");
        assert_eq!(e.body().code, "unknown_filter_value");
    }
}
