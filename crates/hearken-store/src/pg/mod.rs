//! The PostgreSQL store (feature `postgres`, ADR 0012): the same migrations as the SQLite store,
//! translated once (`schema.rs`), and the frames the analytics read built from its tables
//! (`frames.rs`), so every figure equals the SQLite store's on the same rows.
//!
//! Rows arrive by `hearken import` (`import.rs`: the SQLite import's reading and rules, written
//! by binary COPY), live ingestion (`ingest.rs`: `hearken serve`'s groups, the same writer under
//! the same lock) or `hearken store copy` (`crate::copy`). API tokens are in `tokens.rs`;
//! actions, suggestion reviews and the outbox run the SQLite store's statements (`crate::sql`)
//! in transactions under advisory locks (`actions.rs`, `outbox.rs`). The other writes
//! (webhooks, risk and topic models, report sends) are the SQLite store's only (ADR 0012 lists
//! what is left).

mod actions;
mod frames;
mod import;
mod ingest;
mod outbox;
mod risk;
pub(crate) mod schema;
mod signals;
mod status;
mod tokens;
mod webhooks;

use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, NoTls};

use crate::StoreError;

/// A connection to a Hearken store in a PostgreSQL database.
pub struct PgStore {
    client: Mutex<Client>,
    /// Inside [`PgStore::read_consistent`]: reads then run in its transaction rather than
    /// opening their own (which would end it).
    in_read: std::sync::atomic::AtomicBool,
    /// The URL without its password, for messages.
    location: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

pub use crate::source::is_postgres_url;

/// `url` with the password of its user part replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _password)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A PostgreSQL error as the store's: what was being done and the server's message (with its
/// detail and hint when it gave them), or the connection's error with its causes.
pub(crate) fn pg_error(what: impl Into<String>, e: postgres::Error) -> StoreError {
    let message = match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                m.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            m
        }
        None => {
            let mut m = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                let text = c.to_string();
                if !m.contains(&text) {
                    m.push_str(&format!(": {text}"));
                }
                cause = c.source();
            }
            m
        }
    };
    StoreError::Postgres {
        what: what.into(),
        message,
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) and brings
    /// its Hearken schema up to date, creating it in an empty database.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let location = redact(url);
        let client = connect_client(url)?;
        let store = PgStore {
            client: Mutex::new(client),
            in_read: std::sync::atomic::AtomicBool::new(false),
            location,
        };
        schema::migrate(&mut store.client(), &store.location)?;
        Ok(store)
    }

    /// The URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&mut self.client())?.ok_or_else(|| StoreError::Postgres {
            what: "schema".into(),
            message: "no schema version recorded".into(),
        })
    }

    /// Runs `f` with every read it makes in one consistent snapshot of the database (a
    /// read-only `REPEATABLE READ` transaction): the frames an analytic reads one after the
    /// other describe the same rows while other processes write.
    pub fn read_consistent<T>(&self, f: impl FnOnce(&PgStore) -> T) -> Result<T, StoreError> {
        self.client()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| pg_error("begin a consistent read", e))?;
        self.in_read
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let out = f(self);
        self.in_read
            .store(false, std::sync::atomic::Ordering::Relaxed);
        // A read-only transaction has nothing to commit; ending it cannot lose anything.
        self.client()
            .batch_execute("ROLLBACK")
            .map_err(|e| pg_error("end a consistent read", e))?;
        Ok(out)
    }

    /// Runs `f` in one transaction that first takes the transaction-scoped advisory lock
    /// `lock`, so the writes that take it happen one at a time across every process on the
    /// database (actions.rs, outbox.rs); committed when `f` succeeds.
    pub(crate) fn locked_write<T, E: From<StoreError>>(
        &self,
        lock: i64,
        what: &str,
        f: impl FnOnce(&mut dyn crate::sql::Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut client = self.client();
        let mut tx = client
            .transaction()
            .map_err(|e| pg_error(format!("begin {what}"), e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
            .map_err(|e| pg_error(format!("take the lock of {what}"), e))?;
        let out = f(&mut crate::sql::Pg(&mut tx))?;
        tx.commit()
            .map_err(|e| pg_error(format!("commit {what}"), e))?;
        Ok(out)
    }

    /// Runs `f`'s reads in one snapshot: a read-only `REPEATABLE READ` transaction of its own,
    /// or the consistent read already open on this connection ([`PgStore::read_consistent`]).
    pub(crate) fn snapshot_read<T, E: From<StoreError>>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn crate::sql::Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut client = self.client();
        if self.in_consistent_read() {
            return f(&mut crate::sql::Pg(&mut *client));
        }
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_error(format!("begin reading {what}"), e))?;
        let out = f(&mut crate::sql::Pg(&mut tx))?;
        // Read only: nothing to keep.
        tx.rollback()
            .map_err(|e| pg_error(format!("end reading {what}"), e))?;
        Ok(out)
    }

    /// Whether a consistent read is open on this connection.
    pub(crate) fn in_consistent_read(&self) -> bool {
        self.in_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the connection to the server is gone (a new one is needed).
    pub fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    /// The connection, for one statement or transaction at a time.
    pub(crate) fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while holding the lock cannot leave the client in a state worse than a
        // dropped statement: the next use either works or reports the connection's error.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A client for `url`, with a connection timeout unless the URL sets one.
pub(crate) fn connect_client(url: &str) -> Result<Client, StoreError> {
    let location = redact(url);
    if !is_postgres_url(url) {
        return Err(StoreError::BadLocation {
            location,
            reason: "a PostgreSQL store is named by a postgres:// URL".into(),
        });
    }
    let mut config = postgres::Config::from_str(url).map_err(|e| StoreError::BadLocation {
        location: location.clone(),
        reason: format!(
            "{e}; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters)"
        ),
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("hearken");
    config
        .connect(NoTls)
        .map_err(|e| pg_error(format!("cannot connect to {location}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> StoreError {
        match connect_client(url) {
            Ok(_) => panic!("{url} connected"),
            Err(e) => e,
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://ann:s3cret@db:5432/hearken"),
            "postgres://ann:***@db:5432/hearken"
        );
        assert_eq!(
            redact("postgresql://ann:p@ss@db/hearken?sslmode=disable"),
            "postgresql://ann:***@db/hearken?sslmode=disable"
        );
        assert_eq!(
            redact("postgres://ann@db/hearken"),
            "postgres://ann@db/hearken"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn a_bad_url_is_a_clear_error() {
        let e = refusal("postgres://ann:pw@db:notaport/x");
        let text = e.to_string();
        assert!(text.contains("is not a store location"), "{text}");
        assert!(!text.contains(":pw@"), "{text}");
        let e = refusal("mysql://db/x");
        assert!(e.to_string().contains("postgres:// URL"), "{e}");
    }

    #[test]
    fn a_server_that_refuses_is_a_clear_error() {
        // Port 1 on loopback: nothing listens there.
        let e = refusal("postgres://ann:pw@127.0.0.1:1/x?connect_timeout=5");
        let text = e.to_string();
        assert!(
            text.contains("cannot connect to postgres://ann:***@127.0.0.1:1/x"),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}
