//! What the dashboard needs from the server that mounts it: the server's token check and its
//! read pool. The dashboard does not open the store itself and does not check tokens itself: the
//! server implements [`Backend`] on its state (crates/hearken-server/src/web.rs) with the same
//! check the API's `Authorization: Bearer` header goes through, and its pool of read
//! connections on blocking threads.
//!
//! A store handle ([`Backend::Db`]) comes only with a signed-in principal ([`Signed`]), as the
//! server's `Auth` extractor hands out its store only with a token: a page cannot read data
//! without a session.

use std::future::Future;

use hearken_store::{Role, Scope, TeamStore};

/// Who is signed in: the token's name, role and data scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The slice of the data this token may see; every query of every page applies it.
    pub scope: Scope,
}

/// A principal and the store handle that comes with it.
#[derive(Debug, Clone)]
pub struct Signed<D> {
    pub principal: Principal,
    pub db: D,
}

/// Why a token or a store read was refused: the server's stable code (`revoked_token`,
/// `invalid_token`, `unavailable`, ...), its HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub status: u16,
    pub message: String,
}

/// The server the dashboard is mounted in.
pub trait Backend: Clone + Send + Sync + 'static {
    /// A handle on the store's read connections.
    type Db: Clone + Send + Sync + 'static;

    /// Checks `token` as the API checks a bearer token (same store lookup, same refusals:
    /// `invalid_token`, `revoked_token`) and records its use.
    fn authenticate(
        &self,
        token: String,
    ) -> impl Future<Output = Result<Signed<Self::Db>, Refusal>> + Send;

    /// Runs `f` with a read connection on a blocking thread (never on the async runtime): the
    /// SQLite file or a PostgreSQL database, each behind [`TeamStore`].
    fn read<T, F>(db: &Self::Db, f: F) -> impl Future<Output = Result<T, Refusal>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&dyn TeamStore) -> T + Send + 'static;
}
