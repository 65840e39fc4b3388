//! API tokens in the PostgreSQL store: the SQLite store's rules (`crate::tokens`: the secret's
//! shape, only its SHA-256 kept, constant-time comparison, names free again once revoked) on
//! the same tables, so every `hearken serve` on one database accepts the same tokens.

use postgres::Row;
use subtle::ConstantTimeEq;

use super::{PgStore, pg_error};
use crate::tokens::{digest, lookup_of, new_token, now};
use crate::{CreatedToken, NewToken, Role, Scope, TokenCheck, TokenError, TokenInfo};

const INFO: &str =
    "SELECT id, name, role, lookup, created_at, last_used_at, revoked_at FROM api_tokens";

fn err(what: &'static str) -> impl Fn(postgres::Error) -> TokenError {
    move |e| TokenError::Store(pg_error(what, e))
}

/// A token row (scope filled in by the caller); a role this build does not know is reported.
fn info(r: &Row) -> Result<TokenInfo, TokenError> {
    let get = err("read a token");
    let role: String = r.try_get(2).map_err(&get)?;
    Ok(TokenInfo {
        id: r.try_get(0).map_err(&get)?,
        name: r.try_get(1).map_err(&get)?,
        role: role.parse::<Role>()?,
        prefix: r.try_get(3).map_err(&get)?,
        scope: Scope::default(),
        created_at: r.try_get(4).map_err(&get)?,
        last_used_at: r.try_get(5).map_err(&get)?,
        revoked_at: r.try_get(6).map_err(&get)?,
    })
}

impl PgStore {
    /// Creates a token and returns it with its secret, which is not stored.
    pub fn create_token(&mut self, new: &NewToken) -> Result<CreatedToken, TokenError> {
        let (token, lookup, hash) = new_token(new)?;
        let hash = hash.to_vec();
        let mut client = self.client();
        let mut tx = client.transaction().map_err(err("create a token"))?;
        // Names are unique among active tokens: two creations at once take turns.
        tx.execute("LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE", &[])
            .map_err(err("create a token"))?;
        let taken = tx
            .query_opt(
                "SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL",
                &[&new.name],
            )
            .map_err(err("create a token"))?;
        if taken.is_some() {
            return Err(TokenError::NameTaken(new.name.clone()));
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO api_tokens (name, role, lookup, hash, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&new.name, &new.role.as_str(), &lookup, &hash, &now()],
            )
            .map_err(err("create a token"))?
            .get(0);
        for (kind, values) in [("segment", &new.scope.segments), ("team", &new.scope.teams)] {
            for v in values {
                tx.execute(
                    "INSERT INTO api_token_scopes (token_id, kind, value) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&id, &kind, v],
                )
                .map_err(err("create a token"))?;
            }
        }
        tx.commit().map_err(err("create a token"))?;
        drop(client);
        let info = self
            .token_by_id(id)?
            .expect("the token was inserted in the transaction just committed");
        Ok(CreatedToken { token, info })
    }

    /// Every token, active and revoked, oldest first.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let rows = self
            .client()
            .query(&format!("{INFO} ORDER BY id"), &[])
            .map_err(err("list tokens"))?;
        rows.iter()
            .map(|r| {
                let mut i = info(r)?;
                i.scope = self.scope_of(i.id)?;
                Ok(i)
            })
            .collect()
    }

    fn token_by_id(&self, id: i64) -> Result<Option<TokenInfo>, TokenError> {
        let row = self
            .client()
            .query_opt(&format!("{INFO} WHERE id = $1"), &[&id])
            .map_err(err("read a token"))?;
        row.map(|r| {
            let mut i = info(&r)?;
            i.scope = self.scope_of(id)?;
            Ok(i)
        })
        .transpose()
    }

    fn scope_of(&self, id: i64) -> Result<Scope, TokenError> {
        let rows = self
            .client()
            .query(
                "SELECT kind, value FROM api_token_scopes WHERE token_id = $1
                 ORDER BY kind COLLATE \"C\", value COLLATE \"C\"",
                &[&id],
            )
            .map_err(err("read a token's scope"))?;
        let mut scope = Scope::default();
        for r in rows {
            let kind: String = r.try_get(0).map_err(err("read a token's scope"))?;
            let value: String = r.try_get(1).map_err(err("read a token's scope"))?;
            match kind.as_str() {
                "segment" => scope.segments.push(value),
                _ => scope.teams.push(value),
            }
        }
        Ok(scope)
    }

    /// Revokes the active token with this name, or the token with this numeric id.
    pub fn revoke_token(&mut self, name_or_id: &str) -> Result<TokenInfo, TokenError> {
        let id = self.find_active(name_or_id)?;
        self.client()
            .execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &now()],
            )
            .map_err(err("revoke a token"))?;
        self.token_by_id(id)?
            .ok_or_else(|| TokenError::NotFound(name_or_id.to_string()))
    }

    /// The id of the active token named `name_or_id`, or with that numeric id.
    pub fn find_active(&self, name_or_id: &str) -> Result<i64, TokenError> {
        let row = if let Ok(id) = name_or_id.parse::<i64>() {
            self.client().query_opt(
                "SELECT id FROM api_tokens WHERE id = $1 AND revoked_at IS NULL",
                &[&id],
            )
        } else {
            self.client().query_opt(
                "SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL",
                &[&name_or_id],
            )
        }
        .map_err(err("find a token"))?;
        row.map(|r| r.get::<_, i64>(0))
            .ok_or_else(|| TokenError::NotFound(name_or_id.to_string()))
    }

    /// Checks a presented token: the rows sharing its lookup prefix are compared by SHA-256
    /// digest in constant time.
    pub fn check_token(&self, token: &str) -> Result<TokenCheck, TokenError> {
        let Some(lookup) = lookup_of(token) else {
            return Ok(TokenCheck::Unknown);
        };
        let presented = digest(token);
        let rows = self
            .client()
            .query(
                "SELECT id, name, role, lookup, created_at, last_used_at, revoked_at, hash
                 FROM api_tokens WHERE lookup = $1",
                &[&lookup],
            )
            .map_err(err("check a token"))?;
        let mut found = None;
        for r in &rows {
            let hash: Vec<u8> = r.try_get(7).map_err(err("check a token"))?;
            if bool::from(hash.ct_eq(&presented[..])) {
                found = Some(info(r)?);
            }
        }
        let Some(mut info) = found else {
            return Ok(TokenCheck::Unknown);
        };
        info.scope = self.scope_of(info.id)?;
        Ok(if info.is_revoked() {
            TokenCheck::Revoked(info)
        } else {
            TokenCheck::Valid(info)
        })
    }

    /// Records that the token was used at `at` (seconds since the epoch).
    pub fn touch_token(&self, id: i64, at: i64) -> Result<(), TokenError> {
        self.client()
            .execute(
                "UPDATE api_tokens SET last_used_at = $2
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                &[&id, &at],
            )
            .map_err(err("record a token's use"))?;
        Ok(())
    }

    /// Distinct customer segments and agent teams in the store (byte order).
    pub fn known_segments_and_teams(&self) -> Result<(Vec<String>, Vec<String>), TokenError> {
        Ok((self.segments()?, self.teams()?))
    }
}
