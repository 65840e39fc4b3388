//! A data scope: the slice of the organisation a caller may see (an API token's segments and
//! teams). It is never part of a request a caller writes: the server puts the token's scope
//! here, the CLI uses [`Scope::all`]. Every function of the query layer takes it as an argument
//! (`scores(store, &scope, &request)`), so none can forget it, and a scoped caller's numbers are
//! the numbers of its slice.
//!
//! What is in a scope (docs/adr/0005-query-layer.md, "Data scopes"):
//! - a signal or survey response: its customer's segment is one of `segments` AND its agent's
//!   team is one of `teams` (an empty list: no limit on that dimension); a row without a customer
//!   is outside any segment scope, one without an agent outside any team scope;
//! - a case event listed on its own (a customer's timeline): its team (the event's team, else its
//!   agent's) is one of `teams`;
//! - a case (case flow, `case`): its team as flow defines it (the team it ended with) is one of
//!   `teams`, and the segment of its customer is one of `segments`; all events of a case in scope
//!   count;
//! - a customer: its segment is one of `segments`; under a team scope only the customer's rows
//!   in scope are shown;
//! - store-wide records that belong to no segment or team (imports, quarantined rows) are not
//!   shown to a limited scope (`out_of_scope`).

use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::request::Filters;

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

    /// Whether a row whose customer has segment `segment` is inside the segment limit.
    pub fn allows_segment(&self, segment: Option<&str>) -> bool {
        self.segments.is_empty() || segment.is_some_and(|s| self.segments.iter().any(|x| x == s))
    }

    /// Whether a row whose agent (or event) has team `team` is inside the team limit.
    pub fn allows_team(&self, team: Option<&str>) -> bool {
        self.teams.is_empty() || team.is_some_and(|t| self.teams.iter().any(|x| x == t))
    }

    /// Refuses a request filter that names a segment or team outside the scope (rather than
    /// answering with nothing).
    pub(crate) fn check(&self, f: &Filters) -> Result<()> {
        if let Some(s) = &f.segment
            && !self.allows_segment(Some(s))
        {
            return Err(self.outside("segment", s));
        }
        if let Some(t) = &f.team
            && !self.allows_team(Some(t))
        {
            return Err(self.outside("team", t));
        }
        Ok(())
    }

    /// The error for `value` of `field` (`segment` or `team`) outside the scope.
    pub(crate) fn outside(&self, field: &'static str, value: &str) -> QueryError {
        let allowed = if field == "segment" {
            &self.segments
        } else {
            &self.teams
        };
        QueryError::OutOfScope {
            field,
            value: value.to_string(),
            allowed: allowed.clone(),
        }
    }

    /// Refuses what a limited scope cannot see at all (store-wide records of no segment or team).
    pub(crate) fn store_wide(&self, what: &'static str) -> Result<()> {
        if self.is_limited() {
            return Err(QueryError::StoreWide { what });
        }
        Ok(())
    }

    /// The known values of a segment or team list that are inside the scope (for messages).
    pub(crate) fn visible<'a>(
        &'a self,
        field: &'static str,
        known: impl IntoIterator<Item = &'a str> + 'a,
    ) -> impl Iterator<Item = &'a str> + 'a {
        known.into_iter().filter(move |v| match field {
            "segment" => self.allows_segment(Some(v)),
            "team" => self.allows_team(Some(v)),
            _ => true,
        })
    }
}

/// A token's scope as the store records it.
impl From<hearken_store::Scope> for Scope {
    fn from(s: hearken_store::Scope) -> Scope {
        Scope {
            segments: s.segments,
            teams: s.teams,
        }
    }
}

impl From<&hearken_store::Scope> for Scope {
    fn from(s: &hearken_store::Scope) -> Scope {
        Scope::from(s.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_limit_nothing_and_missing_values_are_outside() {
        let all = Scope::all();
        assert!(!all.is_limited());
        assert!(all.allows_segment(None) && all.allows_team(None));
        let s = Scope {
            segments: vec!["smb".into()],
            teams: Vec::new(),
        };
        assert!(s.is_limited());
        assert!(s.allows_segment(Some("smb")));
        assert!(!s.allows_segment(Some("enterprise")));
        assert!(
            !s.allows_segment(None),
            "a row without a customer is outside"
        );
        assert!(s.allows_team(None), "no team limit");
        let f = Filters {
            segment: Some("enterprise".into()),
            ..Filters::default()
        };
        let e = s.check(&f).unwrap_err();
        assert_eq!((e.code(), e.status()), ("out_of_scope", 403));
        assert!(e.to_string().contains("enterprise"), "{e}");
        assert!(s.check(&Filters::default()).is_ok());
    }
}
