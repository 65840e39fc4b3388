//! Authentication and roles as extractors: a handler states the role it needs in its signature
//! (`Auth<Viewer>`, `Auth<Analyst>`, `Auth<Admin>`), and the store is reachable only through an
//! `Auth` value ([`Auth::db`]): the state's store handle sits in [`Guarded`], whose field only this
//! module can read. A handler that touches data without declaring a role does not compile.
//!
//! Tokens come only from `Authorization: Bearer`. Answers: 401 `missing_token` (no header),
//! 401 `invalid_token` (not a token of this store, or another scheme), 401 `revoked_token`,
//! 403 `forbidden` (role too low). The token's scope (segments, teams) travels in the extractor
//! for the query layer to apply.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use hearken_store::{Role, Scope, TokenCheck};

use crate::error::{AppError, ErrorCode};
use crate::state::{AppState, Db};

/// A token's last use is written at most this often (a write per request would serialise reads
/// behind the writer).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The store handle, readable only here: routes get it from an [`Auth`].
#[derive(Debug)]
pub struct Guarded {
    db: Db,
    last_touch: Mutex<HashMap<i64, Instant>>,
}

impl Guarded {
    pub(crate) fn new(db: Db) -> Guarded {
        Guarded {
            db,
            last_touch: Mutex::new(HashMap::new()),
        }
    }

    /// The store for the server's own background work (warming the answer cache), which no
    /// request or token asks for.
    pub(crate) fn background_db(&self) -> &Db {
        &self.db
    }
}

/// The least role a route needs.
pub trait Permission: Send + Sync + 'static {
    const ROLE: Role;
}

/// Reads analytics, signals and status.
#[derive(Debug)]
pub struct Viewer;
/// Also imports, ingests, exports and trains.
#[derive(Debug)]
pub struct Analyst;
/// Also manages tokens and webhooks.
#[derive(Debug)]
pub struct Admin;

impl Permission for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Permission for Analyst {
    const ROLE: Role = Role::Analyst;
}
impl Permission for Admin {
    const ROLE: Role = Role::Admin;
}

/// Who is calling: the token's id, name, role and data scope.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
    /// The slice of the data this token may see; every query must apply it.
    pub scope: Scope,
}

/// A request authenticated with a token of at least `P::ROLE`.
#[derive(Debug)]
pub struct Auth<P: Permission> {
    pub principal: Principal,
    db: Db,
    _permission: PhantomData<P>,
}

impl<P: Permission> Auth<P> {
    /// The store, for a request that has shown it may use it.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

impl<P: Permission> FromRequestParts<AppState> for Auth<P> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let principal = authenticate(parts, state, P::ROLE).await?;
        Ok(Auth {
            principal,
            db: state.guarded().db.clone(),
            _permission: PhantomData,
        })
    }
}

/// Access to the API's description (`/api/openapi.json`, `/api/docs`): open when `[server]
/// public_docs` is on, else a viewer token.
#[derive(Debug)]
pub struct DocsAccess;

impl FromRequestParts<AppState> for DocsAccess {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if !state.settings().public_docs {
            authenticate(parts, state, Role::Viewer).await?;
        }
        Ok(DocsAccess)
    }
}

/// The token of the `Authorization: Bearer` header.
fn bearer(parts: &Parts) -> Result<String, AppError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Err(AppError::new(
            ErrorCode::MissingToken,
            "this route needs a token in the Authorization header",
        ));
    };
    let text = value.to_str().map_err(|_| {
        AppError::new(
            ErrorCode::InvalidToken,
            "the Authorization header is not plain ASCII",
        )
    })?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AppError::new(
            ErrorCode::InvalidToken,
            "the Authorization header must use the Bearer scheme",
        )
        .with_hint("send `Authorization: Bearer <token>`"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AppError::new(
            ErrorCode::MissingToken,
            "the Authorization header has no token after Bearer",
        ));
    }
    Ok(token.to_string())
}

async fn authenticate(parts: &Parts, state: &AppState, needs: Role) -> Result<Principal, AppError> {
    let token = bearer(parts)?;
    check(state, token, needs).await
}

/// The dashboard's sign-in (`crate::web`): the check above for a token from the dashboard's
/// cookie instead of the header, with the store handle a signed-in page reads through.
pub(crate) async fn authenticate_token(
    state: &AppState,
    token: String,
) -> Result<(Principal, Db), AppError> {
    let principal = check(state, token, Role::Viewer).await?;
    Ok((principal, state.guarded().db.clone()))
}

/// Checks a presented token: valid, of at least `needs`; its use recorded.
async fn check(state: &AppState, token: String, needs: Role) -> Result<Principal, AppError> {
    let guarded = state.guarded();
    let check = guarded
        .db
        .read
        .read_with(move |conn| conn.check_token(&token))
        .await?;
    let info = match check {
        TokenCheck::Valid(info) => info,
        TokenCheck::Revoked(info) => {
            tracing::info!(token = %info.name, "revoked token presented");
            return Err(AppError::new(
                ErrorCode::RevokedToken,
                format!("the token '{}' was revoked", info.name),
            ));
        }
        TokenCheck::Unknown => {
            return Err(AppError::new(
                ErrorCode::InvalidToken,
                "the bearer token is not valid for this server",
            ));
        }
    };
    tracing::Span::current().record("token", info.name.as_str());
    touch(state, info.id);
    if info.role < needs {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!(
                "this route needs the {needs} role; the token '{}' is {}",
                info.name, info.role
            ),
        ));
    }
    Ok(Principal {
        token_id: info.id,
        name: info.name,
        role: info.role,
        scope: info.scope,
    })
}

/// Records the token's use, at most once a minute per token, without making the request wait.
fn touch(state: &AppState, id: i64) {
    let guarded = state.guarded();
    {
        let mut seen = guarded
            .last_touch
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        match seen.get(&id) {
            Some(t) if now.duration_since(*t) < TOUCH_EVERY => return,
            _ => {
                seen.insert(id, now);
            }
        }
    }
    let write = Arc::clone(&guarded.db.write);
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    tokio::spawn(async move {
        if let Err(e) = write.with(move |c| c.touch_token(id, at)).await {
            tracing::warn!(error = %e, "cannot record the token's last use");
        }
    });
}

/// A webhook delivery whose signature verified with its hook's secret: the only way the hooks
/// route (`POST /hooks/NAME`, which takes no bearer token) reaches the store. It exists only
/// after [`verify_delivery`] has checked the signature and the timestamp.
#[derive(Debug)]
pub struct SignedDelivery {
    pub hook: hearken_store::WebhookInfo,
    /// The hook's mapping (TOML text), if it was added with one.
    pub mapping_text: Option<String>,
    pub verified: crate::webhooks::verify::Verified,
    db: Db,
}

impl SignedDelivery {
    /// The store, for a delivery that has shown it comes from the hook's sender.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Finds the hook `name` and verifies the delivery's signature with its secret at `now` (Unix
/// seconds). 404 `not_found` for no such hook; 401 `missing_signature`, `invalid_signature` or
/// `expired_signature` for a delivery that does not verify.
pub async fn verify_delivery(
    state: &AppState,
    name: String,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<SignedDelivery, AppError> {
    use crate::webhooks::verify::{self, Secret, VerifyError};

    let db = state.guarded().db.clone();
    let wanted = name.clone();
    let config = db
        .read
        .webhooks(move |store| Ok(store.webhook_config(&wanted)?))
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("no webhook is named '{name}'")).with_hint(
                "an admin adds hooks with `hearken webhooks add` (GET /api/v1/webhooks lists them)",
            )
        })?;
    let scheme = crate::webhooks::scheme(config.info.format);
    // The secret was checked when the hook was added; one that no longer parses is a store fault.
    let secret = Secret::parse(scheme, &config.secret).map_err(|e| {
        AppError::internal(format!(
            "the stored secret of webhook '{}' cannot be used: {e}",
            config.info.name
        ))
    })?;
    match verify::verify(scheme, &secret, headers, body, now) {
        Ok(verified) => Ok(SignedDelivery {
            hook: config.info,
            mapping_text: config.mapping_text,
            verified,
            db,
        }),
        Err(e) => {
            let code = match e {
                VerifyError::Missing(_) => ErrorCode::MissingSignature,
                VerifyError::Malformed { .. } | VerifyError::Mismatch(_) => {
                    ErrorCode::InvalidSignature
                }
                VerifyError::Expired { .. } => ErrorCode::ExpiredSignature,
            };
            tracing::info!(hook = %config.info.name, error = %e, "webhook delivery refused");
            Err(AppError::new(code, e.to_string()))
        }
    }
}
