//! Signatures of webhook deliveries: verifying inbound ones and signing outbound ones. Pure: no
//! IO and no clock (the caller passes `now`), so every rule is tested against published vectors.
//!
//! **Standard Webhooks** (<https://www.standardwebhooks.com>, spec v1.0.0):
//! - headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
//!   space-separated list of `v<N>,<base64>` signatures (several during a secret rotation; only
//!   `v1` is HMAC-SHA256, others such as `v1a` are skipped);
//! - `v1` = base64(HMAC-SHA256(key, `{id}.{timestamp}.{body}`)) over the raw body bytes, where the
//!   key is the base64 text after `whsec_` in the secret (the prefix is optional, as in the
//!   reference libraries);
//! - the timestamp must be within 5 minutes of now, before or after; the comparison of MACs is
//!   constant-time.
//!
//! **Zendesk** (developer.zendesk.com, "Verifying webhook authenticity"):
//! `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)), with
//! `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601, e.g. `2021-03-25T05:09:27Z`) as sent and the
//! secret's text as the key (Zendesk makes the secret; it is not base64-decoded). The same 5-minute
//! tolerance applies. `X-Zendesk-Webhook-Invocation-Id`, when present, is the delivery's id for
//! replay detection.
//!
//! The signature is checked before the timestamp: an expired answer means a genuine delivery that
//! came too late (or a replay of one), not a forgery.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a delivery's timestamp may be from the server's clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest and longest key a secret may hold, in bytes (the spec: at least 24, at most 512; for
/// a Zendesk secret, the length of its text).
pub const MIN_KEY: usize = 24;
pub const MAX_KEY: usize = 512;
/// Longest delivery id kept for replay detection.
pub const MAX_ID: usize = 256;

pub const STANDARD_ID: &str = "webhook-id";
pub const STANDARD_TIMESTAMP: &str = "webhook-timestamp";
pub const STANDARD_SIGNATURE: &str = "webhook-signature";
pub const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
pub const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
pub const ZENDESK_INVOCATION: &str = "x-zendesk-webhook-invocation-id";

/// How a sender signs its deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Standard,
    Zendesk,
}

/// A signing key, read from a secret's text.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.key.len())
    }
}

/// A secret that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is not base64 after 'whsec_' ({0})")]
    NotBase64(String),
    #[error("the secret holds {0} bytes; use {MIN_KEY} to {MAX_KEY}")]
    Length(usize),
    #[error("the secret contains spaces or control characters")]
    Characters,
}

impl Secret {
    /// The key of a secret in the given scheme: for Standard Webhooks the base64 after `whsec_`,
    /// for Zendesk the text itself.
    pub fn parse(scheme: Scheme, text: &str) -> Result<Secret, SecretError> {
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SecretError::Characters);
        }
        let key = match scheme {
            Scheme::Standard => {
                let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
                B64.decode(b64)
                    .map_err(|e| SecretError::NotBase64(e.to_string()))?
            }
            Scheme::Zendesk => text.as_bytes().to_vec(),
        };
        if !(MIN_KEY..=MAX_KEY).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Secret { key })
    }

    /// A Standard Webhooks secret (`whsec_` + base64) for these key bytes.
    pub fn standard_text(key: &[u8]) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(key))
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC-SHA256 accepts keys of every length");
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

/// Why a delivery is refused. `Missing` is 401 `missing_signature`, `Malformed` and `Mismatch`
/// 401 `invalid_signature`, `Expired` 401 `expired_signature`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the delivery has no {0} header")]
    Missing(&'static str),
    #[error("the {header} header {reason}")]
    Malformed {
        header: &'static str,
        reason: String,
    },
    #[error("no signature in the {0} header matches the body with this hook's secret")]
    Mismatch(&'static str),
    #[error(
        "the delivery's timestamp is {} s {} the server's clock (at most {TOLERANCE_SECS} s either way)",
        .skew.unsigned_abs(),
        if *.skew > 0 { "behind" } else { "ahead of" }
    )]
    Expired {
        /// `now - timestamp`: positive when the delivery is old, negative when it is from the future.
        skew: i64,
    },
}

/// A delivery whose signature and timestamp hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The sender's id of the delivery (same on every retry), for replay detection.
    pub id: Option<String>,
    /// The delivery's timestamp, Unix seconds.
    pub timestamp: i64,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, VerifyError> {
    let value = headers.get(name).ok_or(VerifyError::Missing(name))?;
    let text = value.to_str().map_err(|_| VerifyError::Malformed {
        header: name,
        reason: "is not visible ASCII".into(),
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(VerifyError::Missing(name));
    }
    Ok(text)
}

fn within_tolerance(timestamp: i64, now: i64) -> Result<(), VerifyError> {
    let skew = now.saturating_sub(timestamp);
    if skew.unsigned_abs() > TOLERANCE_SECS.unsigned_abs() {
        return Err(VerifyError::Expired { skew });
    }
    Ok(())
}

fn delivery_id(name: &'static str, id: &str) -> Result<String, VerifyError> {
    if id.len() > MAX_ID {
        return Err(VerifyError::Malformed {
            header: name,
            reason: format!("is longer than {MAX_ID} characters"),
        });
    }
    Ok(id.to_string())
}

/// The `v1` signature of a delivery, as sent in `webhook-signature`: `v1,<base64>`.
pub fn sign_standard(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = secret.mac(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", B64.encode(mac))
}

/// Verifies a Standard Webhooks delivery at time `now` (Unix seconds).
pub fn verify_standard(
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    let id = header(headers, STANDARD_ID)?;
    let ts_text = header(headers, STANDARD_TIMESTAMP)?;
    let signatures = header(headers, STANDARD_SIGNATURE)?;
    let id = delivery_id(STANDARD_ID, id)?;
    let timestamp: i64 = ts_text
        .parse()
        .ok()
        .filter(|_| ts_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| VerifyError::Malformed {
            header: STANDARD_TIMESTAMP,
            reason: format!("'{}' is not a Unix time in seconds", clip(ts_text)),
        })?;
    let expected = secret.mac(&[id.as_bytes(), b".", ts_text.as_bytes(), b".", body]);
    let mut matched = false;
    for candidate in signatures.split(' ').filter(|s| !s.is_empty()) {
        let Some(("v1", b64)) = candidate.split_once(',') else {
            continue;
        };
        if let Ok(sig) = B64.decode(b64) {
            // Every candidate is compared, in constant time, whatever an earlier one gave.
            matched |= bool::from(sig.as_slice().ct_eq(&expected[..]));
        }
    }
    if !matched {
        return Err(VerifyError::Mismatch(STANDARD_SIGNATURE));
    }
    within_tolerance(timestamp, now)?;
    Ok(Verified {
        id: Some(id),
        timestamp,
    })
}

/// The value of `X-Zendesk-Webhook-Signature` for `timestamp` (as sent in the timestamp header)
/// and `body`.
pub fn sign_zendesk(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    B64.encode(secret.mac(&[timestamp.as_bytes(), body]))
}

/// Verifies a Zendesk delivery at time `now` (Unix seconds).
pub fn verify_zendesk(
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    let signature = header(headers, ZENDESK_SIGNATURE)?;
    let ts_text = header(headers, ZENDESK_TIMESTAMP)?;
    let id = match headers.get(ZENDESK_INVOCATION) {
        None => None,
        Some(_) => Some(delivery_id(
            ZENDESK_INVOCATION,
            header(headers, ZENDESK_INVOCATION)?,
        )?),
    };
    let expected = secret.mac(&[ts_text.as_bytes(), body]);
    let matched = B64
        .decode(signature)
        .is_ok_and(|sig| bool::from(sig.as_slice().ct_eq(&expected[..])));
    if !matched {
        return Err(VerifyError::Mismatch(ZENDESK_SIGNATURE));
    }
    let timestamp = hearken_model::Timestamp::parse(
        ZENDESK_TIMESTAMP,
        ts_text,
        &hearken_model::DateOptions::default(),
    )
    .map_err(|_| VerifyError::Malformed {
        header: ZENDESK_TIMESTAMP,
        reason: format!("'{}' is not an ISO 8601 time", clip(ts_text)),
    })?
    .unix();
    within_tolerance(timestamp, now)?;
    Ok(Verified { id, timestamp })
}

/// Verifies a delivery signed with `scheme`.
pub fn verify(
    scheme: Scheme,
    secret: &Secret,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    match scheme {
        Scheme::Standard => verify_standard(secret, headers, body, now),
        Scheme::Zendesk => verify_zendesk(secret, headers, body, now),
    }
}

/// At most 40 characters of a value, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::Value;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/data/webhooks/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn s<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("a header value"));
        }
        h
    }

    fn standard(id: &str, ts: i64, sig: &str) -> HeaderMap {
        headers(&[
            (STANDARD_ID, id),
            (STANDARD_TIMESTAMP, &ts.to_string()),
            (STANDARD_SIGNATURE, sig),
        ])
    }

    /// The Standard Webhooks project's own vectors (tests/data/webhooks/PROVENANCE.md): signing
    /// gives the published signature, and verifying accepts it with and without `whsec_`.
    #[test]
    fn standard_webhooks_published_vectors_sign_and_verify() {
        let f = fixture("standard-webhooks-vectors.json");
        let vectors = f["sign"].as_array().expect("sign vectors");
        assert!(vectors.len() >= 2);
        for v in vectors {
            let ts = v["timestamp"].as_i64().expect("timestamp");
            let body = s(v, "payload").as_bytes();
            for secret in [s(v, "secret"), s(v, "secret").trim_start_matches("whsec_")] {
                let key = Secret::parse(Scheme::Standard, secret).expect("the secret");
                assert_eq!(
                    sign_standard(&key, s(v, "msg_id"), ts, body),
                    s(v, "signature")
                );
                let h = standard(s(v, "msg_id"), ts, s(v, "signature"));
                let ok = verify_standard(&key, &h, body, ts).expect("the vector verifies");
                assert_eq!(ok.id.as_deref(), Some(s(v, "msg_id")));
                assert_eq!(ok.timestamp, ts);
                // The published near miss (one base64 digit off) is refused.
                if let Some(near) = v["near_miss"].as_str() {
                    assert_eq!(
                        verify_standard(&key, &standard(s(v, "msg_id"), ts, near), body, ts),
                        Err(VerifyError::Mismatch(STANDARD_SIGNATURE))
                    );
                }
                // One byte of the body changed: refused.
                let mut other = body.to_vec();
                other[0] ^= 1;
                assert_eq!(
                    verify_standard(&key, &h, &other, ts),
                    Err(VerifyError::Mismatch(STANDARD_SIGNATURE))
                );
            }
        }
    }

    /// The published refusals: a wrong, cut or empty signature, missing headers, a timestamp that
    /// is not a number, one outside the tolerance either way; and the accepted multi-signature
    /// header with unknown versions in it.
    #[test]
    fn standard_webhooks_published_refusals_and_multi_signatures() {
        let f = fixture("standard-webhooks-vectors.json");
        let v = &f["verify"];
        let key = Secret::parse(Scheme::Standard, s(v, "secret")).expect("secret");
        let body = s(v, "payload").as_bytes();
        let id = s(v, "msg_id");
        let now = 1_700_000_000;
        let good = sign_standard(&key, id, now, body);

        for bad in v["invalid_signatures"]
            .as_array()
            .expect("invalid signatures")
        {
            let bad = bad.as_str().expect("a signature");
            assert_eq!(
                verify_standard(&key, &standard(id, now, bad), body, now),
                Err(VerifyError::Mismatch(STANDARD_SIGNATURE)),
                "{bad}"
            );
        }
        // Cut short, as the reference tests do.
        for cut in [&good[..8], "v1,"] {
            assert!(verify_standard(&key, &standard(id, now, cut), body, now).is_err());
        }
        // The valid one among wrong ones and other versions is found.
        let others: Vec<String> = v["multi_signature_others"]
            .as_array()
            .expect("others")
            .iter()
            .map(|x| x.as_str().expect("a signature").to_string())
            .collect();
        let mut list = others.clone();
        list.insert(2, good.clone());
        assert!(verify_standard(&key, &standard(id, now, &list.join(" ")), body, now).is_ok());
        assert_eq!(
            verify_standard(&key, &standard(id, now, &others.join(" ")), body, now),
            Err(VerifyError::Mismatch(STANDARD_SIGNATURE))
        );

        for (missing, name) in [
            (0, STANDARD_ID),
            (1, STANDARD_TIMESTAMP),
            (2, STANDARD_SIGNATURE),
        ] {
            let mut pairs = vec![
                (STANDARD_ID, id.to_string()),
                (STANDARD_TIMESTAMP, now.to_string()),
                (STANDARD_SIGNATURE, good.clone()),
            ];
            pairs.remove(missing);
            let h = headers(
                &pairs
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            );
            assert_eq!(
                verify_standard(&key, &h, body, now),
                Err(VerifyError::Missing(name))
            );
        }
        let h = headers(&[
            (STANDARD_ID, id),
            (STANDARD_TIMESTAMP, "hello"),
            (STANDARD_SIGNATURE, &good),
        ]);
        assert!(matches!(
            verify_standard(&key, &h, body, now),
            Err(VerifyError::Malformed {
                header: STANDARD_TIMESTAMP,
                ..
            })
        ));

        // The tolerance: 5 minutes either way, inclusive; a second more is refused.
        for skew in [-TOLERANCE_SECS, 0, TOLERANCE_SECS] {
            let ts = now - skew;
            let sig = sign_standard(&key, id, ts, body);
            assert!(
                verify_standard(&key, &standard(id, ts, &sig), body, now).is_ok(),
                "{skew}"
            );
        }
        for skew in [TOLERANCE_SECS + 1, -(TOLERANCE_SECS + 1), 86_400 * 365] {
            let ts = now - skew;
            let sig = sign_standard(&key, id, ts, body);
            assert_eq!(
                verify_standard(&key, &standard(id, ts, &sig), body, now),
                Err(VerifyError::Expired { skew }),
                "{skew}"
            );
        }
        // A signature for another timestamp does not verify under this one.
        let other_ts = sign_standard(&key, id, now - 1, body);
        assert!(verify_standard(&key, &standard(id, now, &other_ts), body, now).is_err());
    }

    /// Signatures computed by Python's `hmac` (tools/reference/webhooks/vectors.py), for both
    /// schemes, with bodies that are not ASCII and secrets of several lengths.
    #[test]
    fn signatures_match_an_independent_implementation() {
        let f = fixture("reference-vectors.json");
        for v in f["standard"].as_array().expect("standard") {
            let key = Secret::parse(Scheme::Standard, s(v, "secret")).expect("secret");
            let ts = v["timestamp"].as_i64().expect("timestamp");
            let body = s(v, "body").as_bytes();
            assert_eq!(sign_standard(&key, s(v, "id"), ts, body), s(v, "signature"));
            let h = standard(s(v, "id"), ts, s(v, "signature"));
            assert!(verify_standard(&key, &h, body, ts).is_ok());
        }
        for v in f["zendesk"].as_array().expect("zendesk") {
            let key = Secret::parse(Scheme::Zendesk, s(v, "secret")).expect("secret");
            let body = s(v, "body").as_bytes();
            assert_eq!(
                sign_zendesk(&key, s(v, "timestamp"), body),
                s(v, "signature")
            );
            let now = v["unix"].as_i64().expect("unix");
            let h = headers(&[
                (ZENDESK_SIGNATURE, s(v, "signature")),
                (ZENDESK_TIMESTAMP, s(v, "timestamp")),
                (ZENDESK_INVOCATION, "8350205582"),
            ]);
            let ok = verify_zendesk(&key, &h, body, now).expect("verifies");
            assert_eq!(ok.id.as_deref(), Some("8350205582"));
            assert_eq!(ok.timestamp, now);
            // Zendesk signs timestamp + body; body + timestamp is another signature.
            let swapped = B64.encode(key.mac(&[body, s(v, "timestamp").as_bytes()]));
            let h = headers(&[
                (ZENDESK_SIGNATURE, &swapped),
                (ZENDESK_TIMESTAMP, s(v, "timestamp")),
            ]);
            assert_eq!(
                verify_zendesk(&key, &h, body, now),
                Err(VerifyError::Mismatch(ZENDESK_SIGNATURE))
            );
            let h = headers(&[
                (ZENDESK_SIGNATURE, s(v, "signature")),
                (ZENDESK_TIMESTAMP, s(v, "timestamp")),
            ]);
            assert!(matches!(
                verify_zendesk(&key, &h, body, now + TOLERANCE_SECS + 1),
                Err(VerifyError::Expired { .. })
            ));
            assert_eq!(
                verify_zendesk(&key, &headers(&[(ZENDESK_TIMESTAMP, "x")]), body, now),
                Err(VerifyError::Missing(ZENDESK_SIGNATURE))
            );
        }
    }

    #[test]
    fn secrets_are_checked() {
        assert!(matches!(
            Secret::parse(Scheme::Standard, "whsec_c2hvcnQ="),
            Err(SecretError::Length(5))
        ));
        assert!(matches!(
            Secret::parse(Scheme::Standard, "whsec_not base64"),
            Err(SecretError::Characters)
        ));
        assert!(matches!(
            Secret::parse(Scheme::Standard, "whsec_!!!!"),
            Err(SecretError::NotBase64(_))
        ));
        assert!(
            Secret::parse(
                Scheme::Zendesk,
                "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
            )
            .is_ok()
        );
        let text = Secret::standard_text(&[7u8; 32]);
        assert!(text.starts_with("whsec_"));
        assert!(Secret::parse(Scheme::Standard, &text).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                Secret::parse(Scheme::Standard, &text).expect("secret")
            ),
            "Secret(32 bytes)",
            "the key is never printed"
        );
    }
}
