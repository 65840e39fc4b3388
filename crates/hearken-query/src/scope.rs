//! A data scope: the slice of the organisation a caller may see (an API token's segments and
//! teams). It is never part of a request a caller writes: the server puts the token's scope
//! here, the CLI uses [`Scope::all`]. Every function of the query layer and every export applies
//! it, so a scoped caller's numbers are the numbers of its slice.

use serde::Serialize;

/// Which rows a caller may see. Empty lists mean no limit on that dimension; both set means
/// both hold (a row's customer is in one of the segments AND its agent in one of the teams).
/// A row without a customer (or an agent) is outside a segment (or team) scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Customer segments (the values of `customers.segment`).
    pub segments: Vec<String>,
    /// Agent teams (the values of `agents.team`; for case events, the event's team).
    pub teams: Vec<String>,
}

impl Scope {
    /// No limit: everything in the store (the CLI, an unscoped token).
    pub fn all() -> Scope {
        Scope::default()
    }

    /// Whether this scope limits anything.
    pub fn is_limited(&self) -> bool {
        !self.segments.is_empty() || !self.teams.is_empty()
    }
}
