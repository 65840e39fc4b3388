//! `hearken tokens`: create, list and revoke API tokens. The secret is printed once, at creation;
//! the store keeps only its hash.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use hearken_model::Timestamp;
use hearken_store::{CreatedToken, NewToken, Role, Scope, TokenError, TokenInfo};

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it (once: only its hash is stored)
    Create(CreateArgs),
    /// Every token: name, role, scope, created, last used, revoked
    List(ListArgs),
    /// Revoke a token by name or id (it stays listed; the name is free again)
    Revoke(RevokeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Reads analytics, signals and status
    Viewer,
    /// Also imports, ingests, exports and trains
    Analyst,
    /// Also manages tokens and webhooks
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name to know the token by (a letter, then letters, digits, '.', '_', '-')
    #[arg(long)]
    pub name: String,
    /// What the token may do
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Limit the token to customers of this segment (repeatable)
    #[arg(long = "segment", value_name = "S")]
    pub segments: Vec<String>,
    /// Limit the token to the work of this agent team (repeatable)
    #[arg(long = "team", value_name = "T")]
    pub teams: Vec<String>,
    /// Print the token and its details as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the tokens as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The active token's name, or its numeric id
    #[arg(value_name = "NAME|ID")]
    pub token: String,
}

/// What `tokens` needs of a store: the embedded one or a PostgreSQL one.
trait TokenStore {
    fn known_segments_and_teams(&self) -> Result<(Vec<String>, Vec<String>), TokenError>;
    fn create_token(&mut self, new: &NewToken) -> Result<CreatedToken, TokenError>;
    fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError>;
    fn revoke_token(&mut self, name_or_id: &str) -> Result<TokenInfo, TokenError>;
}

macro_rules! token_store {
    ($t:ty) => {
        impl TokenStore for $t {
            fn known_segments_and_teams(&self) -> Result<(Vec<String>, Vec<String>), TokenError> {
                <$t>::known_segments_and_teams(self)
            }
            fn create_token(&mut self, new: &NewToken) -> Result<CreatedToken, TokenError> {
                <$t>::create_token(self, new)
            }
            fn list_tokens(&self) -> Result<Vec<TokenInfo>, TokenError> {
                <$t>::list_tokens(self)
            }
            fn revoke_token(&mut self, name_or_id: &str) -> Result<TokenInfo, TokenError> {
                <$t>::revoke_token(self, name_or_id)
            }
        }
    };
}

token_store!(hearken_store::Store);
#[cfg(feature = "postgres")]
token_store!(hearken_store::pg::PgStore);

/// The store the tokens are in: a PostgreSQL database's for a `postgres://` `--db` (every
/// server on it accepts them), else the SQLite file's.
fn token_store(ctx: &Ctx) -> Result<Box<dyn TokenStore>> {
    #[cfg(feature = "postgres")]
    if let Some(url) = ctx.postgres_url() {
        return Ok(Box::new(hearken_store::pg::PgStore::connect(&url)?));
    }
    Ok(Box::new(ctx.open_store()?))
}

pub fn run(ctx: &Ctx, args: TokensArgs) -> Result<ExitCode> {
    let mut store = token_store(ctx)?;
    match args.command {
        TokensCommand::Create(a) => {
            let new = NewToken {
                name: a.name,
                role: a.role.into(),
                scope: Scope {
                    segments: a.segments,
                    teams: a.teams,
                },
            };
            let (segments, teams) = store.known_segments_and_teams()?;
            let created = store
                .create_token(&new)
                .context("cannot create the token")?;
            if a.json {
                output::json(&created)?;
            } else {
                println!("{}", created.token);
                eprintln!(
                    "token '{}' ({}{}) created: copy it now, it will not be shown again",
                    created.info.name,
                    created.info.role,
                    scope_text(&created.info.scope)
                        .map(|s| format!(", scope {s}"))
                        .unwrap_or_default()
                );
            }
            for s in new.scope.segments.iter().filter(|s| !segments.contains(s)) {
                eprintln!(
                    "note: no customer in the store has the segment '{s}' yet; known: {}",
                    known(&segments)
                );
            }
            for t in new.scope.teams.iter().filter(|t| !teams.contains(t)) {
                eprintln!(
                    "note: no agent in the store is in the team '{t}' yet; known: {}",
                    known(&teams)
                );
            }
        }
        TokensCommand::List(a) => {
            let tokens = store.list_tokens()?;
            if a.json {
                output::json(&tokens)?;
            } else if tokens.is_empty() {
                println!(
                    "no tokens: create one with `hearken tokens create --name N --role viewer`"
                );
            } else {
                let rows: Vec<Vec<String>> = tokens.iter().map(row).collect();
                print!(
                    "{}",
                    output::table(
                        &[
                            "id",
                            "name",
                            "role",
                            "prefix",
                            "scope",
                            "created",
                            "last used",
                            "revoked"
                        ],
                        &rows
                    )
                );
            }
        }
        TokensCommand::Revoke(a) => {
            let t = store
                .revoke_token(&a.token)
                .context("cannot revoke the token")?;
            println!("token '{}' (id {}) revoked", t.name, t.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn known(values: &[String]) -> String {
    if values.is_empty() {
        "none".into()
    } else {
        values.join(", ")
    }
}

fn scope_text(s: &Scope) -> Option<String> {
    let mut parts = Vec::new();
    if !s.segments.is_empty() {
        parts.push(format!("segments {}", s.segments.join(",")));
    }
    if !s.teams.is_empty() {
        parts.push(format!("teams {}", s.teams.join(",")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn row(t: &TokenInfo) -> Vec<String> {
    let time = |s: Option<i64>| s.map_or("-".into(), |s| Timestamp::from_unix(s).to_rfc3339());
    vec![
        t.id.to_string(),
        t.name.clone(),
        t.role.to_string(),
        t.prefix.clone(),
        scope_text(&t.scope).unwrap_or_else(|| "all".into()),
        time(Some(t.created_at)),
        time(t.last_used_at),
        time(t.revoked_at),
    ]
}
