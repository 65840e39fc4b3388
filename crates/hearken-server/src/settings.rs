//! The `[server]` section of `hearken.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ServerError;

/// Server settings: read from `[server]` in `hearken.toml`, then `--bind` on the command line.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free port (printed at start).
    pub bind: String,
    /// Largest request body accepted, in bytes (413 above).
    pub body_limit_bytes: usize,
    /// Longest a request may take, reading its body included (408 when the body is late, 503
    /// when the answer is).
    pub request_timeout_secs: u64,
    /// Most rows one live-ingestion request may carry (413 `too_many_rows` above).
    pub max_rows_per_request: usize,
    /// Store connections for reads (requests beyond this wait for one to free up).
    pub read_connections: usize,
    /// Analytic answers kept per store data generation and shared by every read connection
    /// (ADR 0013); 0 turns the cache off.
    pub answer_cache_entries: usize,
    /// The most the kept answers may take, in MiB (counted as their JSON length).
    pub answer_cache_mib: usize,
    /// Once the data has not changed for this many seconds, the views asked on the previous
    /// data (and the dashboard's default pages) are computed again in the background, so they
    /// are ready before anyone asks (ADR 0013, "Warming"); 0 turns warming off.
    pub answer_cache_warm_secs: u64,
    /// Serve `/api/openapi.json` and `/api/docs` without a token (off: everything but `/health`
    /// needs one).
    pub public_docs: bool,
    /// The `[cost]` and `[assess]` sections of hearken.toml (not part of `[server]`; set by
    /// `hearken serve`).
    #[serde(skip)]
    pub org: crate::routes::risk::OrgSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            bind: "127.0.0.1:8080".into(),
            body_limit_bytes: 16 * 1024 * 1024,
            request_timeout_secs: 30,
            max_rows_per_request: 10_000,
            read_connections: 4,
            answer_cache_entries: 1024,
            answer_cache_mib: 64,
            answer_cache_warm_secs: 5,
            public_docs: false,
            org: crate::routes::risk::OrgSettings::default(),
        }
    }
}

impl Settings {
    /// The answer cache these settings ask for, if any.
    pub fn answer_cache(&self) -> Option<hearken_query::AnswerCache> {
        (self.answer_cache_entries > 0).then(|| {
            hearken_query::AnswerCache::new(hearken_query::CacheLimits {
                max_entries: self.answer_cache_entries,
                max_bytes: self.answer_cache_mib.saturating_mul(1 << 20),
                ..hearken_query::CacheLimits::default()
            })
        })
    }

    /// Checks every value; the message names the setting and the accepted range.
    pub fn validate(&self) -> Result<(), ServerError> {
        let bad = |setting: &str, value: String, reason: &str| ServerError::Setting {
            setting: setting.to_string(),
            value,
            reason: reason.to_string(),
        };
        self.bind_addr()?;
        if !(1024..=1024 * 1024 * 1024).contains(&self.body_limit_bytes) {
            return Err(bad(
                "body_limit_bytes",
                self.body_limit_bytes.to_string(),
                "use 1024..=1073741824",
            ));
        }
        if !(1..=3600).contains(&self.request_timeout_secs) {
            return Err(bad(
                "request_timeout_secs",
                self.request_timeout_secs.to_string(),
                "use 1..=3600",
            ));
        }
        if !(1..=1_000_000).contains(&self.max_rows_per_request) {
            return Err(bad(
                "max_rows_per_request",
                self.max_rows_per_request.to_string(),
                "use 1..=1000000",
            ));
        }
        if self.answer_cache_entries > 1_000_000 {
            return Err(bad(
                "answer_cache_entries",
                self.answer_cache_entries.to_string(),
                "use 0..=1000000 (0: no cache)",
            ));
        }
        if self.answer_cache_warm_secs > 86_400 {
            return Err(bad(
                "answer_cache_warm_secs",
                self.answer_cache_warm_secs.to_string(),
                "must be 0 (no warming) to 86400 seconds",
            ));
        }
        if !(1..=65_536).contains(&self.answer_cache_mib) {
            return Err(bad(
                "answer_cache_mib",
                self.answer_cache_mib.to_string(),
                "use 1..=65536",
            ));
        }
        if !(1..=64).contains(&self.read_connections) {
            return Err(bad(
                "read_connections",
                self.read_connections.to_string(),
                "use 1..=64",
            ));
        }
        Ok(())
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ServerError> {
        self.bind.parse().map_err(|_| ServerError::Setting {
            setting: "bind".into(),
            value: self.bind.clone(),
            reason: "use IP:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)"
                .into(),
        })
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// Everything `serve` needs: the settings, the store file, and what happens to the texts of
/// live rows (the import's `enrich` and `redact_pii`).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: PathBuf,
    pub settings: Settings,
    pub text: hearken_enrich::TextOptions,
}
