//! The outbox sender: tells the customers and employees whose signals motivated an action that
//! it is done, by an outgoing webhook signed the Standard Webhooks way and by e-mail over SMTP.
//!
//! The store holds the notifications (written when an action reaches `done`) and their
//! deliveries, one per notification and channel, and hands them out under a lease
//! (crates/hearken-store/src/outbox.rs). This crate plans the deliveries for the configured
//! channels, claims the due ones, sends each and records how it went:
//!
//! - **webhook**: `POST` of the notification's JSON with `webhook-id` (the notification's
//!   `message_id`, the receiver's idempotency key), `webhook-timestamp` and `webhook-signature`
//!   (`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body` with the key after `whsec_`). A 2xx
//!   answer is sent; 408, 425, 429, 5xx, a timeout or a connection failure are retried with
//!   exponential backoff (`retry_base_secs` doubled per attempt, at most `retry_max_secs`, and
//!   never sooner than a `Retry-After` header says); 410 Gone disables the endpoint (every
//!   delivery waiting for it stops until `hearken outbox enable URL`); a redirect is not followed
//!   and fails the delivery (the URL in hearken.toml must be the final one); any other 4xx fails it.
//! - **e-mail**: one message per notification to the person's address, `Message-ID` the
//!   notification's id; a notification with an HTML body (the weekly report) is sent as
//!   `multipart/alternative`, its text and its page. A transient SMTP answer (4xx) or a connection failure is retried as
//!   above; a permanent one (5xx: a refused recipient or sender) fails the delivery; a person
//!   without an address waits as `no_address` until one is set.
//!
//! After `max_attempts` attempts a delivery is `failed`. Exactly once: a delivery whose success
//! was recorded is never sent again; one whose sender stopped between sending and recording
//! (killed, or the machine lost) is sent again after its lease runs out, with the same
//! `webhook-id` / `Message-ID`, so the receiver can drop the repeat. docs/actions.md says more.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hearken_store::{Channels, ClaimedDelivery, OutboxStore, Outcome};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The `[outbox]` section of hearken.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where every notification is posted (http or https); none: no webhook deliveries.
    pub webhook_url: Option<String>,
    /// The Standard Webhooks secret: `whsec_` + base64 of 24 to 64 random bytes.
    pub webhook_secret: Option<String>,
    /// Seconds a webhook call or an SMTP conversation may take.
    pub timeout_secs: u64,
    /// Attempts per delivery before it is `failed`.
    pub max_attempts: u32,
    /// The first retry's delay; doubled for each further attempt.
    pub retry_base_secs: u64,
    /// The longest delay between two attempts.
    pub retry_max_secs: u64,
    /// How long a claimed delivery is this sender's; a sender that stops is replaced after it.
    /// Must be longer than `timeout_secs`.
    pub lease_secs: u64,
    /// E-mail over SMTP; none: no e-mail deliveries.
    pub smtp: Option<Smtp>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            webhook_url: None,
            webhook_secret: None,
            timeout_secs: 10,
            max_attempts: 8,
            retry_base_secs: 30,
            retry_max_secs: 6 * 3600,
            lease_secs: 120,
            smtp: None,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text upgraded with STARTTLS, which must succeed (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// No TLS: only for a relay on the same machine or a trusted network (port 25 by default).
    None,
}

/// The `[outbox.smtp]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    /// Default: 587 (starttls), 465 (tls), 25 (none).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender's address, e.g. `Hearken <feedback@example.com>`.
    pub from: String,
    /// PEM file of certificate authorities to trust besides the built-in Mozilla roots (a mail
    /// server with a certificate from a company's own CA); its name must still match `host`.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

impl Smtp {
    /// The certificates of `ca_file` (none when it is not set).
    fn extra_roots(
        &self,
    ) -> Result<Vec<lettre::transport::smtp::client::Certificate>, OutboxError> {
        let Some(path) = &self.ca_file else {
            return Ok(Vec::new());
        };
        let text = std::fs::read(path).map_err(|e| {
            setting(
                "smtp.ca_file",
                format!("cannot read '{}': {e}", path.display()),
            )
        })?;
        let blocks: Vec<&[u8]> = split_pem_certificates(&text);
        if blocks.is_empty() {
            return Err(setting(
                "smtp.ca_file",
                format!(
                    "'{}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                ),
            ));
        }
        blocks
            .into_iter()
            .enumerate()
            .map(|(i, pem)| {
                lettre::transport::smtp::client::Certificate::from_pem(pem).map_err(|e| {
                    setting(
                        "smtp.ca_file",
                        format!("certificate {} of '{}': {e}", i + 1, path.display()),
                    )
                })
            })
            .collect()
    }
}

/// Each `-----BEGIN CERTIFICATE-----` ... `-----END CERTIFICATE-----` block of a PEM file.
fn split_pem_certificates(text: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(b) = find(text, BEGIN, at) {
        let Some(e) = find(text, END, b) else { break };
        blocks.push(&text[b..e + END.len()]);
        at = e + END.len();
    }
    blocks
}

/// A setting that cannot work, or a failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("[outbox] {field}: {reason}")]
    Setting { field: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] hearken_store::OutboxError),
}

fn setting(field: &'static str, reason: impl Into<String>) -> OutboxError {
    OutboxError::Setting {
        field,
        reason: reason.into(),
    }
}

/// The key of a Standard Webhooks secret.
fn secret_key(text: &str) -> Result<Vec<u8>, OutboxError> {
    let b64 = text.strip_prefix("whsec_").unwrap_or(text);
    let key = B64.decode(b64).map_err(|e| {
        setting(
            "webhook_secret",
            format!("is not base64 after 'whsec_' ({e}); make one with `hearken webhooks` style: whsec_ + base64 of 32 random bytes"),
        )
    })?;
    if !(24..=64).contains(&key.len()) {
        return Err(setting(
            "webhook_secret",
            format!("is {} bytes after decoding; use 24 to 64", key.len()),
        ));
    }
    Ok(key)
}

impl Settings {
    /// Refuses settings that cannot work, naming the field.
    pub fn validate(&self) -> Result<(), OutboxError> {
        if let Some(url) = &self.webhook_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(setting(
                    "webhook_url",
                    format!("'{url}' is not an http:// or https:// URL"),
                ));
            }
            match &self.webhook_secret {
                None => {
                    return Err(setting(
                        "webhook_secret",
                        "is missing: a webhook_url needs the secret its receiver verifies signatures with",
                    ));
                }
                Some(s) => {
                    secret_key(s)?;
                }
            }
        }
        if self.timeout_secs == 0 || self.timeout_secs > 600 {
            return Err(setting("timeout_secs", "use 1 to 600"));
        }
        if self.lease_secs <= self.timeout_secs {
            return Err(setting(
                "lease_secs",
                "must be longer than timeout_secs, or a slow delivery could be claimed twice",
            ));
        }
        if self.max_attempts == 0 || self.max_attempts > 100 {
            return Err(setting("max_attempts", "use 1 to 100"));
        }
        if self.retry_base_secs == 0 || self.retry_max_secs < self.retry_base_secs {
            return Err(setting(
                "retry_base_secs",
                "must be at least 1 and at most retry_max_secs",
            ));
        }
        if let Some(s) = &self.smtp {
            if s.host.trim().is_empty() {
                return Err(setting("smtp.host", "is empty"));
            }
            s.from.parse::<lettre::message::Mailbox>().map_err(|e| {
                setting("smtp.from", format!("'{}' is not an address: {e}", s.from))
            })?;
            if s.ca_file.is_some() && s.tls == TlsMode::None {
                return Err(setting(
                    "smtp.ca_file",
                    "is set but tls = \"none\": use tls = \"starttls\" or \"tls\", or remove ca_file",
                ));
            }
            s.extra_roots()?;
        }
        Ok(())
    }

    /// The channels deliveries are planned on.
    pub fn channels(&self) -> Channels {
        Channels {
            webhook_url: self.webhook_url.clone(),
            email: self.smtp.is_some(),
        }
    }

    /// The delay before attempt `attempts + 1`, after `attempts` attempts.
    pub fn backoff(&self, attempts: i64) -> i64 {
        let exp = attempts.clamp(1, 40) - 1;
        let d = (self.retry_base_secs as i64).saturating_mul(1i64 << exp.min(30));
        d.min(self.retry_max_secs as i64)
    }
}

/// What one pass of the sender did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Deliveries created for notifications that lacked one on a configured channel.
    pub planned: u64,
    pub attempted: u64,
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    pub disabled: u64,
    /// Outcomes not recorded because the lease had passed to another sender.
    pub lost_lease: u64,
    /// Deliveries still to make (pending or being sent) when the pass ended.
    pub open: i64,
    /// When the next of them is due (Unix seconds).
    pub next_due: Option<i64>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Sends deliveries with the settings' channels.
pub struct Sender {
    settings: Settings,
    owner: String,
    agent: ureq::Agent,
    key: Option<Vec<u8>>,
    smtp: Option<lettre::SmtpTransport>,
    from: Option<lettre::message::Mailbox>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender named `owner` (its leases carry the name: a host and process id).
    pub fn new(settings: Settings, owner: String) -> Result<Sender, OutboxError> {
        settings.validate()?;
        let timeout = Duration::from_secs(settings.timeout_secs);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent("hearken-outbox")
            .build()
            .into();
        let key = settings
            .webhook_secret
            .as_deref()
            .map(secret_key)
            .transpose()?;
        let (smtp, from) = match &settings.smtp {
            None => (None, None),
            Some(s) => {
                let tls =
                    |required: bool| -> Result<lettre::transport::smtp::client::Tls, OutboxError> {
                        let mut params =
                            lettre::transport::smtp::client::TlsParameters::builder(s.host.clone());
                        for root in s.extra_roots()? {
                            params = params.add_root_certificate(root);
                        }
                        let params = params
                            .build_rustls()
                            .map_err(|e| setting("smtp.host", e.to_string()))?;
                        Ok(if required {
                            lettre::transport::smtp::client::Tls::Required(params)
                        } else {
                            lettre::transport::smtp::client::Tls::Wrapper(params)
                        })
                    };
                let builder = lettre::SmtpTransport::builder_dangerous(&s.host);
                let builder = match s.tls {
                    TlsMode::None => builder.port(s.port.unwrap_or(25)),
                    TlsMode::Starttls => builder.port(s.port.unwrap_or(587)).tls(tls(true)?),
                    TlsMode::Tls => builder.port(s.port.unwrap_or(465)).tls(tls(false)?),
                };
                let mut builder = builder.timeout(Some(timeout));
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder.credentials(
                        lettre::transport::smtp::authentication::Credentials::new(
                            u.clone(),
                            p.clone(),
                        ),
                    );
                }
                let from = s
                    .from
                    .parse()
                    .map_err(|e| setting("smtp.from", format!("{e}")))?;
                (Some(builder.build()), Some(from))
            }
        };
        Ok(Sender {
            settings,
            owner,
            agent,
            key,
            smtp,
            from,
        })
    }

    /// One pass: plans missing deliveries, then claims and sends every delivery that is due,
    /// until none is due now. Returns what it did and what is left.
    pub fn drain(&self, store: &mut dyn OutboxStore) -> Result<DrainReport, OutboxError> {
        let mut report = DrainReport {
            planned: store.plan_deliveries(&self.settings.channels())?,
            ..DrainReport::default()
        };
        loop {
            let claimed =
                store.claim_deliveries(&self.owner, self.settings.lease_secs as i64, 16)?;
            if claimed.is_empty() {
                break;
            }
            for c in claimed {
                // An endpoint that answered 410 to a delivery of this same batch gets no more.
                let disabled = if c.channel == "webhook" {
                    store.endpoint_disabled(&c.target)?
                } else {
                    None
                };
                let outcome = match disabled {
                    Some(reason) => Outcome::Disabled {
                        code: None,
                        error: format!("not sent: the endpoint is disabled ({reason})"),
                    },
                    None => {
                        report.attempted += 1;
                        self.send(&c)
                    }
                };
                match &outcome {
                    Outcome::Sent { .. } => report.sent += 1,
                    Outcome::Retry { .. } => report.retried += 1,
                    Outcome::Failed { .. } => report.failed += 1,
                    Outcome::Disabled { .. } => report.disabled += 1,
                }
                tracing::info!(delivery = c.delivery, channel = %c.channel, attempt = c.attempts, ?outcome, "outbox delivery");
                if !store.finish_delivery(&c, &self.owner, &outcome)? {
                    report.lost_lease += 1;
                }
            }
        }
        let (open, next) = store.outbox_open()?;
        report.open = open;
        report.next_due = next;
        Ok(report)
    }

    /// Sends one claimed delivery and says how it went.
    pub fn send(&self, c: &ClaimedDelivery) -> Outcome {
        match c.channel.as_str() {
            "webhook" => self.webhook(c),
            "email" => self.email(c),
            other => Outcome::Failed {
                code: None,
                error: format!("unknown channel '{other}'"),
            },
        }
    }

    /// A retry, or `failed` when the attempts are used up.
    fn retry(
        &self,
        c: &ClaimedDelivery,
        code: Option<i64>,
        error: String,
        after: Option<i64>,
    ) -> Outcome {
        if c.attempts >= self.settings.max_attempts as i64 {
            return Outcome::Failed {
                code,
                error: format!("{error} (gave up after {} attempts)", c.attempts),
            };
        }
        let delay = self.settings.backoff(c.attempts).max(after.unwrap_or(0));
        Outcome::Retry {
            next_at: now() + delay,
            code,
            error,
        }
    }

    fn webhook(&self, c: &ClaimedDelivery) -> Outcome {
        let Some(key) = &self.key else {
            return Outcome::Failed {
                code: None,
                error: "no webhook_secret configured".into(),
            };
        };
        let ts = now().to_string();
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
            Ok(m) => m,
            Err(e) => {
                return Outcome::Failed {
                    code: None,
                    error: format!("cannot sign: {e}"),
                };
            }
        };
        mac.update(c.message_id.as_bytes());
        mac.update(b".");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(c.payload.as_bytes());
        let signature = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
        let result = self
            .agent
            .post(&c.target)
            .header("content-type", "application/json")
            .header("webhook-id", &c.message_id)
            .header("webhook-timestamp", &ts)
            .header("webhook-signature", &signature)
            .send(c.payload.as_bytes());
        let resp = match result {
            Ok(r) => r,
            Err(e) => return self.retry(c, None, format!("webhook call failed: {e}"), None),
        };
        let code = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after_secs);
        let c64 = Some(i64::from(code));
        match code {
            200..=299 => Outcome::Sent { code: c64 },
            410 => Outcome::Disabled {
                code: c64,
                error: "the endpoint answered 410 Gone".into(),
            },
            300..=399 => Outcome::Failed {
                code: c64,
                error: format!(
                    "the endpoint redirected ({code}{}); redirects are not followed: set webhook_url to the final URL",
                    resp.headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .map(|l| format!(" to {l}"))
                        .unwrap_or_default()
                ),
            },
            408 | 425 | 429 | 500..=599 => {
                self.retry(c, c64, format!("the endpoint answered {code}"), retry_after)
            }
            _ => Outcome::Failed {
                code: c64,
                error: format!("the endpoint answered {code}"),
            },
        }
    }

    fn email(&self, c: &ClaimedDelivery) -> Outcome {
        use lettre::Transport as _;
        let (Some(smtp), Some(from)) = (&self.smtp, &self.from) else {
            return Outcome::Failed {
                code: None,
                error: "no [outbox.smtp] configured".into(),
            };
        };
        let to: lettre::message::Mailbox = match c.target.parse() {
            Ok(t) => t,
            Err(e) => {
                return Outcome::Failed {
                    code: None,
                    error: format!("'{}' is not an address: {e}", c.target),
                };
            }
        };
        let builder = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(c.subject.clone())
            .message_id(Some(format!("<{}@hearken>", c.message_id)));
        // The weekly report: its page as the HTML part, the text as the alternative.
        let msg = match &c.html {
            Some(html) => builder.multipart(lettre::message::MultiPart::alternative_plain_html(
                c.body.clone(),
                html.clone(),
            )),
            None => builder
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(c.body.clone()),
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                return Outcome::Failed {
                    code: None,
                    error: format!("cannot build the message: {e}"),
                };
            }
        };
        match smtp.send(&msg) {
            Ok(r) => Outcome::Sent {
                code: Some(i64::from(u16::from(r.code()))),
            },
            Err(e) => {
                let code = e.status().map(|c| i64::from(u16::from(c)));
                if e.is_permanent() {
                    Outcome::Failed {
                        code,
                        error: format!("the SMTP server refused: {e}"),
                    }
                } else {
                    self.retry(c, code, format!("SMTP failed: {e}"), None)
                }
            }
        }
    }
}

/// `Retry-After` as seconds from now: a number of seconds, or an HTTP date.
pub fn retry_after_secs(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(s) = v.parse::<i64>() {
        return Some(s.clamp(0, 7 * 86_400));
    }
    let t = httpdate::parse_http_date(v).ok()?;
    let at = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some((at - now()).clamp(0, 7 * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Settings {
            retry_base_secs: 10,
            retry_max_secs: 100,
            ..Settings::default()
        };
        let d: Vec<i64> = (1..=6).map(|a| s.backoff(a)).collect();
        assert_eq!(d, [10, 20, 40, 80, 100, 100]);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after_secs("120"), Some(120));
        assert_eq!(retry_after_secs(" 0 "), Some(0));
        assert_eq!(retry_after_secs("soon"), None);
        let later = std::time::SystemTime::now() + Duration::from_secs(3600);
        let s = retry_after_secs(&httpdate::fmt_http_date(later)).unwrap();
        assert!((3590..=3600).contains(&s), "{s}");
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let url = Settings {
            webhook_url: Some("ftp://x".into()),
            ..Settings::default()
        };
        assert!(
            url.validate()
                .unwrap_err()
                .to_string()
                .contains("webhook_url")
        );
        let no_secret = Settings {
            webhook_url: Some("http://x".into()),
            ..Settings::default()
        };
        assert!(
            no_secret
                .validate()
                .unwrap_err()
                .to_string()
                .contains("webhook_secret")
        );
        let lease = Settings {
            lease_secs: 5,
            timeout_secs: 10,
            ..Settings::default()
        };
        assert!(
            lease
                .validate()
                .unwrap_err()
                .to_string()
                .contains("lease_secs")
        );
        let from = Settings {
            smtp: Some(Smtp {
                host: "localhost".into(),
                port: None,
                tls: TlsMode::None,
                username: None,
                password: None,
                from: "not an address".into(),
                ca_file: None,
            }),
            ..Settings::default()
        };
        assert!(
            from.validate()
                .unwrap_err()
                .to_string()
                .contains("smtp.from")
        );
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        for (ca_file, tls, want) in [
            (
                dir.path().join("missing.pem"),
                TlsMode::Starttls,
                "cannot read",
            ),
            (not_pem, TlsMode::Starttls, "holds no PEM certificate"),
            (dir.path().join("x.pem"), TlsMode::None, "tls = \"none\""),
        ] {
            let s = Settings {
                smtp: Some(Smtp {
                    host: "localhost".into(),
                    port: None,
                    tls,
                    username: None,
                    password: None,
                    from: "a@example.com".into(),
                    ca_file: Some(ca_file),
                }),
                ..Settings::default()
            };
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains("smtp.ca_file") && e.contains(want), "{e}");
        }
    }

    #[test]
    fn pem_blocks_are_split_at_their_markers() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let text = format!("comment\n{one}\n\n{one}\ntrailing -----BEGIN CERTIFICATE----- cut");
        let blocks = split_pem_certificates(text.as_bytes());
        assert_eq!(blocks, [one.as_bytes(), one.as_bytes()]);
        assert!(split_pem_certificates(b"").is_empty());
    }
}
