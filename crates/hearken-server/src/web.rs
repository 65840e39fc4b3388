//! The dashboard (crates/hearken-web) mounted in the server: its [`hearken_web::Backend`] is the
//! server's state, with the token check of the `Authorization: Bearer` header
//! ([`auth::authenticate_token`]) for the dashboard's cookie, and the read pool for its pages.
//! Its HTML answers, error pages included, are marked so that the JSON error layer leaves them
//! as they are.

use axum::Router;
use axum::middleware::map_response;
use axum::response::Response;
use hearken_store::TeamStore;
use hearken_web::{Backend, Principal, Refusal, Signed};

use crate::auth;
use crate::error::{AppError, JsonError};
use crate::state::{AppState, Db};

fn refusal(e: AppError) -> Refusal {
    Refusal {
        code: e.code.as_str().to_string(),
        status: e.code.status().as_u16(),
        message: e.message,
    }
}

impl Backend for AppState {
    type Db = Db;

    async fn authenticate(&self, token: String) -> Result<Signed<Db>, Refusal> {
        let (p, db) = auth::authenticate_token(self, token)
            .await
            .map_err(refusal)?;
        Ok(Signed {
            principal: Principal {
                name: p.name,
                role: p.role,
                scope: p.scope,
            },
            db,
        })
    }

    async fn read<T, F>(db: &Db, f: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&dyn TeamStore) -> T + Send + 'static,
    {
        db.read
            .team(move |store| Ok(f(store)))
            .await
            .map_err(refusal)
    }
}

/// An HTML page is already the answer, also when its status is an error.
async fn keep_pages(mut res: Response) -> Response {
    if hearken_web::is_page(&res) {
        res.extensions_mut().insert(JsonError);
    }
    res
}

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    hearken_web::router::<AppState>().layer(map_response(keep_pages))
}
