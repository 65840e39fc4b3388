//! Inbound webhooks (`POST /hooks/NAME`): a helpdesk pushes each new ticket or event the moment it
//! happens, signed with the hook's secret.
//!
//! - [`verify`]: the signature schemes (Standard Webhooks, Zendesk), pure and tested against the
//!   published vectors; also signing, for outgoing webhooks.
//! - this module: making and checking secrets, and checking a hook's settings (name, mapping)
//!   before it is stored; used by `hearken webhooks add` and `POST /api/v1/webhooks` alike.
//! - the registry and the delivery ids live in the store (`hearken_store::webhooks`); the route is
//!   `routes/webhooks.rs`, and verification of a delivery before it reaches the store is in
//!   `auth.rs` ([`crate::auth::SignedDelivery`]).

use std::path::Path;

use hearken_model::RecordKind;
use hearken_store::{WebhookFormat, WebhookKind};

pub mod verify;

use verify::{Scheme, Secret, SecretError};

/// Key bytes of a secret Hearken makes (the spec asks for 24 to 64; 32 is HMAC-SHA256's block of
/// security).
const NEW_KEY_BYTES: usize = 32;

/// The signature scheme of a hook format.
pub fn scheme(format: WebhookFormat) -> Scheme {
    match format {
        WebhookFormat::Standard => Scheme::Standard,
        WebhookFormat::Zendesk => Scheme::Zendesk,
    }
}

/// Problems with a hook's settings, each the person's to fix.
#[derive(Debug, thiserror::Error)]
pub enum HookSettingsError {
    #[error("the secret cannot be used: {0}")]
    Secret(#[from] SecretError),
    #[error(
        "a zendesk hook verifies with the signing secret Zendesk made for the webhook: give it (Admin Center > Webhooks > the webhook > Reveal secret)"
    )]
    ZendeskNeedsSecret,
    #[error("{0}")]
    Mapping(String),
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(String),
}

/// A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
pub fn new_standard_secret() -> Result<String, HookSettingsError> {
    let mut key = [0u8; NEW_KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| HookSettingsError::Random(e.to_string()))?;
    Ok(Secret::standard_text(&key))
}

/// The secret a new hook gets: the one given (checked for its format), or for a Standard Webhooks
/// hook a new one. Returns the secret and whether it was made here (and must be shown once).
pub fn hook_secret(
    format: WebhookFormat,
    given: Option<&str>,
) -> Result<(String, bool), HookSettingsError> {
    match (given, format) {
        (Some(text), _) => {
            let text = text.trim();
            Secret::parse(scheme(format), text)?;
            Ok((text.to_string(), false))
        }
        (None, WebhookFormat::Standard) => Ok((new_standard_secret()?, true)),
        (None, WebhookFormat::Zendesk) => Err(HookSettingsError::ZendeskNeedsSecret),
    }
}

/// Checks a mapping's text for the hook's kind as `import --mapping` would (field names, values,
/// formats, rules), so that a typo fails when the hook is added, not on the first delivery.
pub fn check_mapping(kind: WebhookKind, name: &str, text: &str) -> Result<(), HookSettingsError> {
    let record = match kind {
        WebhookKind::Signals => RecordKind::Signals,
        WebhookKind::CaseEvents => RecordKind::CaseEvents,
    };
    let mapping = hearken_ingest::Mapping::parse(text, Path::new(name))
        .map_err(|e| HookSettingsError::Mapping(e.to_string()))?;
    mapping
        .validate(record)
        .map_err(|e| HookSettingsError::Mapping(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_made_for_standard_and_required_for_zendesk() {
        let (a, made) = hook_secret(WebhookFormat::Standard, None).expect("a secret");
        assert!(made && a.starts_with("whsec_"));
        let (b, _) = hook_secret(WebhookFormat::Standard, None).expect("a secret");
        assert_ne!(a, b, "each secret is new");
        assert!(Secret::parse(Scheme::Standard, &a).is_ok());
        assert!(matches!(
            hook_secret(WebhookFormat::Zendesk, None),
            Err(HookSettingsError::ZendeskNeedsSecret)
        ));
        let (z, made) = hook_secret(
            WebhookFormat::Zendesk,
            Some(" dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==\n"),
        )
        .expect("given");
        assert!(!made);
        assert_eq!(z, "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==");
        assert!(matches!(
            hook_secret(WebhookFormat::Standard, Some("whsec_short")),
            Err(HookSettingsError::Secret(_))
        ));
    }

    #[test]
    fn mappings_are_checked_for_the_hooks_kind() {
        assert!(
            check_mapping(
                WebhookKind::Signals,
                "m.toml",
                "[columns]\ntext = \"body\"\n"
            )
            .is_ok()
        );
        let e = check_mapping(WebhookKind::Signals, "m.toml", "[columns]\nnope = \"x\"\n")
            .expect_err("unknown field");
        assert!(e.to_string().contains("nope"), "{e}");
        assert!(check_mapping(WebhookKind::CaseEvents, "m.toml", "not toml [").is_err());
    }
}
