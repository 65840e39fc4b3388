//! Token management over HTTP (admin): list, create, revoke. The same store functions as
//! `hearken tokens`.

use axum::http::StatusCode;
use hearken_model::Timestamp;
use hearken_store::{NewToken, Role, Scope, TokenInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Auth};
use crate::error::{AppError, ErrorCode};
use crate::extract::{Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// A role: each includes the ones before it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Reads analytics, signals and status.
    Viewer,
    /// Also imports, ingests, exports and trains.
    Analyst,
    /// Also manages tokens and webhooks.
    Admin,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Role {
        match r {
            RoleName::Viewer => Role::Viewer,
            RoleName::Analyst => Role::Analyst,
            RoleName::Admin => Role::Admin,
        }
    }
}

impl From<Role> for RoleName {
    fn from(r: Role) -> RoleName {
        match r {
            Role::Viewer => RoleName::Viewer,
            Role::Analyst => RoleName::Analyst,
            Role::Admin => RoleName::Admin,
        }
    }
}

/// A token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: RoleName,
    /// The first 8 hex digits of the secret, to tell tokens apart.
    pub prefix: String,
    /// Customer segments this token is limited to (empty: all).
    pub segments: Vec<String>,
    /// Agent teams this token is limited to (empty: all).
    pub teams: Vec<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; recorded at most once a minute.
    pub last_used_at: Option<String>,
    /// RFC 3339, UTC; absent while the token is active.
    pub revoked_at: Option<String>,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> TokenView {
        let time = |s: i64| Timestamp::from_unix(s).to_rfc3339();
        TokenView {
            id: t.id,
            name: t.name,
            role: t.role.into(),
            prefix: t.prefix,
            segments: t.scope.segments,
            teams: t.scope.teams,
            created_at: time(t.created_at),
            last_used_at: t.last_used_at.map(time),
            revoked_at: t.revoked_at.map(time),
        }
    }
}

/// What a new token is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A letter, then letters, digits, `.`, `_` or `-`; at most 64 characters; unique among active tokens.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    pub role: RoleName,
    /// Limit the token to customers of these segments.
    #[serde(default)]
    #[schema(schema_with = scope_values)]
    pub segments: Vec<String>,
    /// Limit the token to the work of these agent teams.
    #[serde(default)]
    #[schema(schema_with = scope_values)]
    pub teams: Vec<String>,
}

/// Characters a scope value may not start or end with: controls and what Rust's
/// `char::is_whitespace` calls white space (listed, not `\s`, so every regex engine agrees).
const EDGE: &str = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// 1 to 200 characters, no control characters, no space at either end (as the store checks).
fn scope_values() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let pattern = format!(r"^[^{EDGE}]([^\u0000-\u001f\u007f-\u009f]{{0,198}}[^{EDGE}])?$");
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200))
                .pattern(Some(pattern)),
        )
        .build()
}

/// A token just created. The secret is in `token` and will not be shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenView {
    /// The secret: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub info: TokenView,
}

/// Every token, active and revoked (admin)
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", operation_id = "list_tokens",
    responses((status = 200, description = "The tokens, oldest first", body = Vec<TokenView>)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn list_tokens(auth: Auth<Admin>) -> Result<Json<Vec<TokenView>>, AppError> {
    let tokens = auth.db().read.run(|s| Ok(s.list_tokens()?)).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// Create a token (admin)
///
/// The answer holds the token's secret, shown this once; only its hash is stored.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", operation_id = "create_token",
    request_body = CreateToken,
    responses(
        (status = 201, description = "The token, with its secret", body = CreatedTokenView),
        (status = 409, description = "A token with this name exists (`conflict`)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(name = %body.name))]
async fn create_token(
    auth: Auth<Admin>,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, Json<CreatedTokenView>), AppError> {
    let new = NewToken {
        name: body.name,
        role: body.role.into(),
        scope: Scope {
            segments: body.segments,
            teams: body.teams,
        },
    };
    let created = auth
        .db()
        .write
        .run(move |s| Ok(s.create_token(&new)?))
        .await?;
    tracing::info!(by = %auth.principal.name, token = %created.info.name, role = %created.info.role, "token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenView {
            token: created.token,
            info: created.info.into(),
        }),
    ))
}

/// Revoke a token by name or id (admin)
///
/// The token stays listed, marked revoked, and its name is free again. A token cannot revoke
/// itself over HTTP (so an admin cannot lock the last admin out by mistake): use another admin
/// token or `hearken tokens revoke`.
#[utoipa::path(delete, path = "/api/v1/tokens/{name_or_id}", tag = "tokens", operation_id = "revoke_token",
    params(("name_or_id" = String, Path, description = "The active token's name, or its numeric id")),
    responses(
        (status = 200, description = "The token, now revoked", body = TokenView),
        (status = 409, description = "The token is the one this request is made with (`conflict`)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(target = %name_or_id))]
async fn revoke_token(
    auth: Auth<Admin>,
    Path(name_or_id): Path<String>,
) -> Result<Json<TokenView>, AppError> {
    let me = auth.principal.token_id;
    let revoked = auth
        .db()
        .write
        .run(move |s| {
            let id = s.find_active(&name_or_id)?;
            if id == me {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "a token cannot revoke itself over HTTP",
                )
                .with_hint("revoke it with another admin token, or with `hearken tokens revoke`"));
            }
            Ok(s.revoke_token(&id.to_string())?)
        })
        .await?;
    tracing::info!(by = %auth.principal.name, token = %revoked.name, "token revoked");
    Ok(Json(revoked.into()))
}
