//! `hearken webhooks`: add, list and remove inbound webhooks (`POST /hooks/NAME` of `hearken
//! serve`). A Standard Webhooks hook gets a new secret, printed once; a Zendesk hook verifies with
//! the secret Zendesk made, read from standard input.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use hearken_model::Timestamp;
use hearken_store::{NewWebhook, WebhookFormat, WebhookInfo, WebhookKind};

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    pub command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add a hook: deliveries go to POST /hooks/NAME, signed with its secret (printed once)
    Add(AddArgs),
    /// Every hook: name, format, kind, mapping, created, removed (never the secrets)
    List(ListArgs),
    /// Remove a hook: its secret is erased and its deliveries refused (it stays listed)
    Remove(RemoveArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature (v1,<base64>)
    Standard,
    /// Zendesk: X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp
    Zendesk,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Each delivery holds signals (a Zendesk ticket becomes a signal)
    Signals,
    /// Each delivery holds case events (a Zendesk ticket event becomes a case event)
    CaseEvents,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The hook's name, its path is /hooks/NAME (a letter, then letters, digits, '.', '_', '-')
    pub name: String,
    /// How the sender signs its deliveries
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// What the deliveries hold
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// A mapping for deliveries whose fields are named otherwise (as `import --mapping`)
    #[arg(long, value_name = "M.toml")]
    pub mapping: Option<PathBuf>,
    /// Read the signing secret from standard input (required for zendesk: the secret Zendesk
    /// made; for standard, a secret the sender made instead of a new one)
    #[arg(long)]
    pub secret_stdin: bool,
    /// Print the hook (and its new secret) as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the hooks as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The hook's name
    pub name: String,
}

pub fn run(ctx: &Ctx, args: WebhooksArgs) -> Result<ExitCode> {
    match args.command {
        WebhooksCommand::Add(a) => add(ctx, a),
        WebhooksCommand::List(a) => {
            let store = ctx.open_webhooks()?;
            let hooks = store.list_webhooks()?;
            if a.json {
                output::json(&hooks)?;
            } else if hooks.is_empty() {
                println!(
                    "no webhooks: add one with `hearken webhooks add NAME --format standard --kind signals`"
                );
            } else {
                let rows: Vec<Vec<String>> = hooks.iter().map(row).collect();
                print!(
                    "{}",
                    output::table(
                        &[
                            "id", "name", "path", "format", "kind", "mapping", "created", "removed"
                        ],
                        &rows
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Remove(a) => {
            let mut store = ctx.open_webhooks()?;
            let w = store
                .remove_webhook(&a.name)
                .context("cannot remove the webhook")?;
            println!(
                "webhook '{}' removed: its secret is erased and /hooks/{} refuses deliveries",
                w.name, w.name
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(ctx: &Ctx, a: AddArgs) -> Result<ExitCode> {
    let format = match a.format {
        FormatArg::Standard => WebhookFormat::Standard,
        FormatArg::Zendesk => WebhookFormat::Zendesk,
    };
    let kind = match a.kind {
        KindArg::Signals => WebhookKind::Signals,
        KindArg::CaseEvents => WebhookKind::CaseEvents,
    };
    hearken_store::validate_webhook_name(&a.name).context("cannot add the webhook")?;
    let mapping = match &a.mapping {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the mapping {}", path.display()))?;
            hearken_server::webhooks::check_mapping(kind, &path.display().to_string(), &text)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Some((name, text))
        }
    };
    let given = if a.secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .context("cannot read the secret from standard input")?;
        let text = text.trim().to_string();
        if text.is_empty() {
            bail!(
                "--secret-stdin: standard input held no secret; pipe it in, e.g. `hearken webhooks add ... --secret-stdin < secret.txt`"
            );
        }
        Some(text)
    } else {
        None
    };
    let (secret, made) =
        hearken_server::webhooks::hook_secret(format, given.as_deref()).map_err(|e| {
            let hint = if matches!(
                e,
                hearken_server::webhooks::HookSettingsError::ZendeskNeedsSecret
            ) {
                "; pass it with --secret-stdin"
            } else {
                ""
            };
            anyhow::anyhow!("cannot add the webhook: {e}{hint}")
        })?;
    let mut store = ctx.open_webhooks()?;
    let info = store
        .create_webhook(&NewWebhook {
            name: a.name,
            format,
            kind,
            secret: secret.clone(),
            mapping,
        })
        .context("cannot add the webhook")?;
    if a.json {
        output::json(&serde_json::json!({
            "secret": made.then_some(&secret),
            "webhook": info,
            "path": format!("/hooks/{}", info.name),
        }))?;
    } else {
        if made {
            println!("{secret}");
        }
        eprintln!(
            "webhook '{}' added: deliveries go to POST /hooks/{} ({}, {}){}",
            info.name,
            info.name,
            info.format,
            info.kind,
            if made {
                "; give the sender the secret above now, it will not be shown again"
            } else {
                "; it verifies with the secret given"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn row(w: &WebhookInfo) -> Vec<String> {
    let time = |s: Option<i64>| s.map_or("-".into(), |s| Timestamp::from_unix(s).to_rfc3339());
    vec![
        w.id.to_string(),
        w.name.clone(),
        format!("/hooks/{}", w.name),
        w.format.to_string(),
        w.kind.to_string(),
        w.mapping.clone().unwrap_or_else(|| "-".into()),
        time(Some(w.created_at)),
        time(w.removed_at),
    ]
}
