//! API tokens: who may call the HTTP API, with which role, limited to which slice of the data.
//!
//! A token is `hk_` followed by 64 hex digits (256 random bits from the operating system). It is
//! shown once, when created; the store keeps only its SHA-256 and its first 8 hex digits (the
//! `prefix`, which finds the candidate rows and tells tokens apart in `tokens list`). Checking a
//! presented token compares SHA-256 digests in constant time. A plain hash (no salt, no slow KDF)
//! is enough because the secret is random and 256 bits long: there is nothing to guess.
//!
//! Revoking keeps the row (so `tokens list` shows what existed and when it was last used) and
//! frees the name for a new token.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Store, StoreError};

/// Every token starts with this, so a leaked one is recognisable (and secret scanners can match it).
pub const TOKEN_PREFIX: &str = "hk_";
/// Hex digits after [`TOKEN_PREFIX`].
const SECRET_HEX: usize = 64;
/// Hex digits of the secret kept in clear to find the token's row.
const LOOKUP_HEX: usize = 8;
/// Longest token name, and longest segment or team name in a scope (in characters).
const MAX_NAME: usize = 64;
const MAX_SCOPE_VALUE: usize = 200;

/// What a token may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads analytics, signals and status.
    Viewer,
    /// Also imports, ingests, exports and trains.
    Analyst,
    /// Also manages tokens and webhooks.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Role, TokenError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| TokenError::Invalid {
                field: "role",
                value: s.to_string(),
                reason: "use viewer, analyst or admin".into(),
            })
    }
}

/// The slice of the data a token sees: customers of these segments, work of these teams. Empty
/// lists mean no limit on that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub segments: Vec<String>,
    pub teams: Vec<String>,
}

impl Scope {
    pub fn is_unrestricted(&self) -> bool {
        self.segments.is_empty() && self.teams.is_empty()
    }
}

/// What is asked to create a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first hex digits of the secret, to tell tokens apart.
    pub prefix: String,
    pub scope: Scope,
    /// Seconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A token just created: its secret is in `token`, and nowhere else from now on.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub token: String,
    pub info: TokenInfo,
}

/// What checking a presented token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(TokenInfo),
    /// A well-formed token of ours that was revoked.
    Revoked(TokenInfo),
    /// Not a token this store issued (or not shaped like one).
    Unknown,
}

/// Errors of token management. `Invalid`, `NameTaken` and `NotFound` are the person's to fix.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{field} '{value}' is invalid: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("a token named '{0}' already exists: revoke it first or choose another name")]
    NameTaken(String),
    #[error("no active token has the name or id '{0}': `hearken tokens list` shows them")]
    NotFound(String),
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TokenError {
    fn from(e: rusqlite::Error) -> TokenError {
        TokenError::Store(StoreError::Sql(e))
    }
}

/// A token name: a letter, then letters, digits, `.`, `_` or `-`; at most 64 characters. Starting
/// with a letter keeps names apart from numeric ids in `tokens revoke NAME|ID`.
pub fn validate_name(name: &str) -> Result<(), TokenError> {
    let bad = |reason: &str| TokenError::Invalid {
        field: "name",
        value: name.to_string(),
        reason: reason.to_string(),
    };
    let mut chars = name.chars();
    match chars.next() {
        None => {
            return Err(bad(
                "it is empty: give the token a name, e.g. --name grafana",
            ));
        }
        Some(c) if !c.is_ascii_alphabetic() => {
            return Err(bad("it must start with a letter"));
        }
        _ => {}
    }
    if name.len() > MAX_NAME {
        return Err(bad("it is longer than 64 characters"));
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(bad("use only letters, digits, '.', '_' and '-'"));
    }
    Ok(())
}

fn validate_scope_value(field: &'static str, value: &str) -> Result<(), TokenError> {
    let bad = |reason: &str| TokenError::Invalid {
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let n = value.chars().count();
    if n == 0 {
        return Err(bad("it is empty"));
    }
    if n > MAX_SCOPE_VALUE {
        return Err(bad("it is longer than 200 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("it contains control characters"));
    }
    let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if edge(value.chars().next()) || edge(value.chars().next_back()) {
        return Err(bad("it starts or ends with a space"));
    }
    Ok(())
}

/// Checks what is asked for a new token and makes its secret: the token, its lookup prefix and
/// the digest a store keeps (either store).
pub(crate) fn new_token(new: &NewToken) -> Result<(String, String, [u8; 32]), TokenError> {
    validate_name(&new.name)?;
    for s in &new.scope.segments {
        validate_scope_value("segment", s)?;
    }
    for t in &new.scope.teams {
        validate_scope_value("team", t)?;
    }
    let token = new_secret()?;
    let lookup = lookup_of(&token)
        .expect("new_secret makes a well-formed token")
        .to_string();
    let hash = digest(&token);
    Ok((token, lookup, hash))
}

/// SHA-256 of the whole token text.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The lookup prefix of a well-formed token, or `None` when it is not shaped like one of ours.
pub(crate) fn lookup_of(token: &str) -> Option<&str> {
    let secret = token.strip_prefix(TOKEN_PREFIX)?;
    let well_formed = secret.len() == SECRET_HEX
        && secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| &secret[..LOOKUP_HEX])
}

/// Whether `text` has the shape of a Hearken token (used to refuse tokens sent in a URL).
pub fn looks_like_token(text: &str) -> bool {
    text.starts_with(TOKEN_PREFIX)
}

fn new_secret() -> Result<String, TokenError> {
    let mut bytes = [0u8; SECRET_HEX / 2];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let mut s = String::with_capacity(TOKEN_PREFIX.len() + SECRET_HEX);
    s.push_str(TOKEN_PREFIX);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Creates a token and returns it with its secret, which is not stored.
    pub fn create_token(&mut self, new: &NewToken) -> Result<CreatedToken, TokenError> {
        let (token, lookup, hash) = new_token(new)?;
        let created_at = now();
        let tx = self.conn.transaction()?;
        let taken: Option<i64> = tx
            .query_row(
                "SELECT id FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL",
                [&new.name],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(TokenError::NameTaken(new.name.clone()));
        }
        tx.execute(
            "INSERT INTO api_tokens (name, role, lookup, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![new.name, new.role.as_str(), lookup, &hash[..], created_at],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut ins = tx.prepare(
                "INSERT OR IGNORE INTO api_token_scopes (token_id, kind, value) VALUES (?1, ?2, ?3)",
            )?;
            for s in &new.scope.segments {
                ins.execute(params![id, "segment", s])?;
            }
            for t in &new.scope.teams {
                ins.execute(params![id, "team", t])?;
            }
        }
        tx.commit()?;
        let info = self
            .token_by_id(id)?
            .expect("the token was inserted in the transaction just committed");
        Ok(CreatedToken { token, info })
    }

    /// Every token, active and revoked, oldest first.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, role, lookup, created_at, last_used_at, revoked_at
             FROM api_tokens ORDER BY id",
        )?;
        let rows = stmt.query_map([], row_to_info)?;
        let mut out = Vec::new();
        for r in rows {
            let mut info = r??;
            info.scope = self.scope_of(info.id)?;
            out.push(info);
        }
        Ok(out)
    }

    fn token_by_id(&self, id: i64) -> Result<Option<TokenInfo>, TokenError> {
        let info = self
            .conn
            .prepare_cached(
                "SELECT id, name, role, lookup, created_at, last_used_at, revoked_at
                 FROM api_tokens WHERE id = ?1",
            )?
            .query_row([id], row_to_info)
            .optional()?;
        match info {
            None => Ok(None),
            Some(info) => {
                let mut info = info?;
                info.scope = self.scope_of(id)?;
                Ok(Some(info))
            }
        }
    }

    fn scope_of(&self, id: i64) -> Result<Scope, TokenError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, value FROM api_token_scopes WHERE token_id = ?1 ORDER BY kind, value",
        )?;
        let mut scope = Scope::default();
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        for r in rows {
            let (kind, value) = r?;
            match kind.as_str() {
                "segment" => scope.segments.push(value),
                _ => scope.teams.push(value),
            }
        }
        Ok(scope)
    }

    /// Revokes the active token with this name, or the token with this numeric id. Returns it as
    /// it is now (revoked). Revoking a token that is already revoked is refused as not found.
    pub fn revoke_token(&mut self, name_or_id: &str) -> Result<TokenInfo, TokenError> {
        let id = self.find_active(name_or_id)?;
        self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now()],
        )?;
        self.token_by_id(id)?
            .ok_or_else(|| TokenError::NotFound(name_or_id.to_string()))
    }

    /// The id of the active token named `name_or_id`, or with that numeric id.
    pub fn find_active(&self, name_or_id: &str) -> Result<i64, TokenError> {
        let id: Option<i64> = if let Ok(id) = name_or_id.parse::<i64>() {
            self.conn
                .query_row(
                    "SELECT id FROM api_tokens WHERE id = ?1 AND revoked_at IS NULL",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
        } else {
            self.conn
                .query_row(
                    "SELECT id FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL",
                    [name_or_id],
                    |r| r.get(0),
                )
                .optional()?
        };
        id.ok_or_else(|| TokenError::NotFound(name_or_id.to_string()))
    }

    /// Checks a presented token: the rows sharing its lookup prefix are compared by SHA-256 digest
    /// in constant time.
    pub fn check_token(&self, token: &str) -> Result<TokenCheck, TokenError> {
        let Some(lookup) = lookup_of(token) else {
            return Ok(TokenCheck::Unknown);
        };
        let presented = digest(token);
        // The token's row comes with its candidates' hashes: one statement (this runs for every
        // API request).
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, role, lookup, created_at, last_used_at, revoked_at, hash
             FROM api_tokens WHERE lookup = ?1",
        )?;
        let mut rows = stmt.query([lookup])?;
        let mut found = None;
        while let Some(r) = rows.next()? {
            let hash = r.get_ref(7)?.as_blob().map_err(rusqlite::Error::from)?;
            if bool::from(hash.ct_eq(&presented[..])) {
                found = Some(row_to_info(r)?);
            }
        }
        drop(rows);
        let Some(info) = found else {
            return Ok(TokenCheck::Unknown);
        };
        let mut info = info?;
        info.scope = self.scope_of(info.id)?;
        Ok(if info.is_revoked() {
            TokenCheck::Revoked(info)
        } else {
            TokenCheck::Valid(info)
        })
    }

    /// Records that the token was used at `at` (seconds since the epoch).
    pub fn touch_token(&self, id: i64, at: i64) -> Result<(), TokenError> {
        self.conn.execute(
            "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            params![id, at],
        )?;
        Ok(())
    }

    /// Distinct customer segments and agent teams in the store (to warn about a scope that matches
    /// nothing yet).
    pub fn known_segments_and_teams(&self) -> Result<(Vec<String>, Vec<String>), TokenError> {
        let list = |sql: &str| -> Result<Vec<String>, TokenError> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok((
            list("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL ORDER BY 1")?,
            list("SELECT DISTINCT team FROM agents WHERE team IS NOT NULL ORDER BY 1")?,
        ))
    }
}

/// Reads a token row (scope filled in by the caller). The role column is checked by the schema,
/// but a value this build does not know is reported, not assumed.
fn row_to_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TokenInfo, TokenError>> {
    let role: String = r.get(2)?;
    let info = TokenInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::Viewer,
        prefix: r.get(3)?,
        scope: Scope::default(),
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
        revoked_at: r.get(6)?,
    };
    Ok(role.parse::<Role>().map(|role| TokenInfo { role, ..info }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        (dir, store)
    }

    fn new(name: &str, role: Role) -> NewToken {
        NewToken {
            name: name.into(),
            role,
            scope: Scope::default(),
        }
    }

    #[test]
    fn created_token_checks_and_only_its_hash_is_stored() {
        let (_d, mut s) = store();
        let c = s
            .create_token(&new("grafana", Role::Viewer))
            .expect("create");
        assert!(c.token.starts_with("hk_") && c.token.len() == 3 + 64);
        assert_eq!(
            s.check_token(&c.token).expect("check"),
            TokenCheck::Valid(c.info.clone())
        );
        let stored: Vec<u8> = s
            .conn
            .query_row("SELECT hash FROM api_tokens", [], |r| r.get(0))
            .expect("hash");
        assert_eq!(stored, digest(&c.token).to_vec());
        let secret_in_db: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM api_tokens WHERE instr(CAST(hash AS TEXT), ?1) > 0 OR lookup = ?1",
                [&c.token[3..]],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(secret_in_db, 0, "the secret itself is never stored");
    }

    #[test]
    fn wrong_tokens_are_unknown_even_with_the_same_prefix() {
        let (_d, mut s) = store();
        let c = s.create_token(&new("a", Role::Admin)).expect("create");
        let mut other = c.token.clone();
        let last = other.pop().expect("non-empty");
        other.push(if last == '0' { '1' } else { '0' });
        assert_eq!(s.check_token(&other).expect("check"), TokenCheck::Unknown);
        for bad in [
            "",
            "hk_",
            "Bearer x",
            &c.token.to_uppercase(),
            &c.token[..20],
        ] {
            assert_eq!(
                s.check_token(bad).expect("check"),
                TokenCheck::Unknown,
                "{bad}"
            );
        }
    }

    #[test]
    fn revoke_by_name_or_id_frees_the_name() {
        let (_d, mut s) = store();
        let a = s.create_token(&new("ci", Role::Analyst)).expect("create");
        assert!(matches!(
            s.create_token(&new("ci", Role::Viewer)),
            Err(TokenError::NameTaken(_))
        ));
        let r = s.revoke_token("ci").expect("revoke");
        assert!(r.is_revoked());
        assert!(matches!(
            s.check_token(&a.token).expect("check"),
            TokenCheck::Revoked(_)
        ));
        assert!(matches!(s.revoke_token("ci"), Err(TokenError::NotFound(_))));
        let b = s
            .create_token(&new("ci", Role::Viewer))
            .expect("name free again");
        s.revoke_token(&b.info.id.to_string())
            .expect("revoke by id");
        let all = s.list_tokens().expect("list");
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(TokenInfo::is_revoked));
    }

    #[test]
    fn scope_round_trips_and_bad_values_are_refused() {
        let (_d, mut s) = store();
        let c = s
            .create_token(&NewToken {
                name: "eu".into(),
                role: Role::Viewer,
                scope: Scope {
                    segments: vec!["smb".into(), "enterprise".into()],
                    teams: vec!["billing".into()],
                },
            })
            .expect("create");
        assert_eq!(c.info.scope.segments, vec!["enterprise", "smb"]);
        assert_eq!(c.info.scope.teams, vec!["billing"]);
        for name in ["", "1abc", "a b", "a/../b", &"x".repeat(65)] {
            assert!(
                matches!(
                    s.create_token(&new(name, Role::Viewer)),
                    Err(TokenError::Invalid { .. })
                ),
                "{name:?}"
            );
        }
        let bad_scope = NewToken {
            name: "x".into(),
            role: Role::Viewer,
            scope: Scope {
                segments: vec!["a\u{7}".into(), " smb".into()],
                teams: vec![],
            },
        };
        assert!(matches!(
            s.create_token(&bad_scope),
            Err(TokenError::Invalid { .. })
        ));
    }

    #[test]
    fn touch_records_last_use_and_roles_parse() {
        let (_d, mut s) = store();
        let c = s.create_token(&new("t", Role::Viewer)).expect("create");
        s.touch_token(c.info.id, 1_700_000_000).expect("touch");
        s.touch_token(c.info.id, 1_600_000_000)
            .expect("older use does not go back");
        assert_eq!(
            s.list_tokens().expect("list")[0].last_used_at,
            Some(1_700_000_000)
        );
        assert_eq!("analyst".parse::<Role>().expect("role"), Role::Analyst);
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Viewer < Role::Analyst && Role::Analyst < Role::Admin);
    }
}
