//! Tokens (admin only): who can sign in, with which role and scope, and when each was last
//! used. Read-only here: tokens are created and revoked with `hearken tokens` or the API.

use hearken_query::Scope;
use hearken_store::TeamStore;

use crate::filters::PageQuery;
use crate::html::when;
use crate::view::{Cell, Content, PageError, Section, Table};

pub fn build(store: &dyn TeamStore, _scope: &Scope, _pq: &PageQuery) -> Content {
    let mut c = Content::new("Tokens");
    let tokens = match store.tokens() {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list tokens");
            return Content::error(
                "Tokens",
                &PageError::new(
                    500,
                    "store_error",
                    "the tokens cannot be read; the cause is in the server's log",
                ),
            );
        }
    };
    let mut s = Section::new("tokens", "Tokens");
    s.intro.push("Create and revoke tokens with `hearken tokens create|revoke` or the API (POST/DELETE /api/v1/tokens).".into());
    let mut t = Table::new(
        "Tokens, with role and data scope",
        &[
            "name",
            "prefix",
            "role",
            "segments",
            "teams",
            "created",
            "last used",
            "revoked",
        ],
    );
    for k in &tokens {
        t.rows.push(vec![
            Cell::text(k.name.clone()),
            Cell::text(k.prefix.clone()),
            Cell::text(k.role.as_str()),
            Cell::text(k.scope.segments.join(", ")),
            Cell::text(k.scope.teams.join(", ")),
            Cell::text(when(k.created_at)),
            Cell::text(k.last_used_at.map_or(String::new(), when)),
            Cell::text(k.revoked_at.map_or(String::new(), when)),
        ]);
    }
    s.tables.push(t);
    c.sections.push(s);
    c
}
