//! `hearken outbox`: the notifications telling people what was done about what they said, and
//! their deliveries. `run` drains the outbox without a server (`--wait` until nothing is left to
//! try); `list` shows each notification's delivery status; `address` sets a customer's or an
//! employee's e-mail address, `addresses` many of them from a CSV file; `enable` turns a webhook endpoint that answered 410 back on.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hearken_model::Timestamp;
use hearken_store::OutboxFilter;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Deliver what is due now on the channels of hearken.toml's [outbox] (webhook, SMTP)
    Run {
        /// Keep going, sleeping until the next retry is due, until nothing is left to try
        #[arg(long)]
        wait: bool,
        /// Print what was done as JSON
        #[arg(long)]
        json: bool,
    },
    /// Notifications with the status of each delivery, newest first
    List {
        /// Only the notifications of this action
        #[arg(long, value_name = "ID")]
        action: Option<i64>,
        /// Only those with a delivery in this state: pending, sending, sent, failed, no_address, disabled
        #[arg(long)]
        state: Option<String>,
        /// At most this many (0: all)
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Set the e-mail address of a customer or an employee (their waiting e-mails go out to it)
    Address {
        /// The customer's id
        #[arg(
            long,
            conflicts_with = "employee",
            required_unless_present = "employee"
        )]
        customer: Option<String>,
        /// The employee's (agent's) id
        #[arg(long)]
        employee: Option<String>,
        /// Their e-mail address
        #[arg(long)]
        email: String,
    },
    /// Set many e-mail addresses from a CSV file with the columns kind (customer or employee),
    /// id and email: the good rows in one transaction, every bad row listed with its line
    Addresses {
        /// The CSV file (UTF-8, a header line; comma or semicolon separated)
        file: std::path::PathBuf,
        /// Print the counts and the rejected rows as JSON
        #[arg(long)]
        json: bool,
    },
    /// Turn a webhook endpoint that answered 410 back on; its deliveries are tried again
    Enable {
        /// The endpoint's URL
        url: String,
    },
}

const STATES: [&str; 6] = [
    "pending",
    "sending",
    "sent",
    "failed",
    "no_address",
    "disabled",
];

/// Whether anything can be delivered: the action notifications' webhook or SMTP, or a weekly
/// report recipient's own webhook (signed with `[outbox] webhook_secret`).
fn has_channel(ctx: &Ctx) -> bool {
    let o = &ctx.config.outbox;
    o.webhook_url.is_some()
        || o.smtp.is_some()
        || ctx
            .config
            .report
            .recipients
            .iter()
            .any(|r| r.webhook.is_some())
}

/// This sender's name on its leases: the host and the process.
fn owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}:{}", std::process::id())
}

pub fn run(ctx: &Ctx, args: OutboxArgs) -> Result<ExitCode> {
    match args.command {
        OutboxCommand::Run { wait, json } => {
            let settings = ctx.config.outbox.clone();
            if !has_channel(ctx) {
                bail!(
                    "no channel to deliver on: set [outbox] webhook_url and webhook_secret, or [outbox.smtp], in hearken.toml"
                );
            }
            let sender = hearken_outbox::Sender::new(settings, owner())?;
            let mut store = ctx.open_outbox()?;
            let mut total = hearken_outbox::DrainReport::default();
            loop {
                let r = sender
                    .drain(store.as_mut())
                    .context("cannot deliver the outbox")?;
                total.planned += r.planned;
                total.attempted += r.attempted;
                total.sent += r.sent;
                total.retried += r.retried;
                total.failed += r.failed;
                total.disabled += r.disabled;
                total.lost_lease += r.lost_lease;
                total.open = r.open;
                total.next_due = r.next_due;
                if !wait || r.open == 0 {
                    break;
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let secs = r.next_due.map_or(1, |t| (t - now).clamp(1, 60));
                std::thread::sleep(std::time::Duration::from_secs(secs as u64));
            }
            if json {
                output::json(&total)?;
            } else {
                println!(
                    "{} delivered, {} to retry, {} failed, {} disabled ({} attempts); {} still open{}",
                    total.sent,
                    total.retried,
                    total.failed,
                    total.disabled,
                    total.attempted,
                    total.open,
                    total
                        .next_due
                        .map(|t| format!(", next due {}", Timestamp::from_unix(t).to_rfc3339()))
                        .unwrap_or_default()
                );
            }
        }
        OutboxCommand::List {
            action,
            state,
            limit,
            json,
        } => {
            if let Some(s) = &state
                && !STATES.contains(&s.as_str())
            {
                bail!(
                    "--state '{s}' is not a delivery state; use one of: {}",
                    STATES.join(", ")
                );
            }
            let store = ctx.open_outbox()?;
            let rows = store.notifications(&OutboxFilter {
                action,
                state,
                limit,
            })?;
            if json {
                output::json(&rows)?;
            } else if rows.is_empty() {
                println!(
                    "no notifications: they are written when an action linked to people's signals reaches done"
                );
            } else {
                let table: Vec<Vec<String>> = rows
                    .iter()
                    .flat_map(|n| {
                        let head = [
                            n.id.to_string(),
                            match (&n.action_id, &n.week) {
                                (Some(a), _) => a.to_string(),
                                (None, Some(w)) => format!("report {w}"),
                                (None, None) => "-".into(),
                            },
                            format!(
                                "{} {}",
                                n.recipient,
                                n.recipient_id.as_deref().unwrap_or("-")
                            ),
                        ];
                        let deliveries: Vec<Vec<String>> = if n.deliveries.is_empty() {
                            vec![vec!["-".into(), "unplanned".into(), "0".into(), "-".into()]]
                        } else {
                            n.deliveries
                                .iter()
                                .map(|d| {
                                    vec![
                                        d.channel.clone(),
                                        d.state.clone(),
                                        d.attempts.to_string(),
                                        d.last_error.clone().unwrap_or_else(|| "-".into()),
                                    ]
                                })
                                .collect()
                        };
                        deliveries
                            .into_iter()
                            .map(move |d| head.iter().cloned().chain(d).collect())
                            .collect::<Vec<_>>()
                    })
                    .collect();
                print!(
                    "{}",
                    output::table(
                        &[
                            "id",
                            "about",
                            "to",
                            "channel",
                            "state",
                            "attempts",
                            "last error"
                        ],
                        &table
                    )
                );
            }
        }
        OutboxCommand::Address {
            customer,
            employee,
            email,
        } => {
            let mut store = ctx.open_outbox()?;
            let (kind, id) = match (customer, employee) {
                (Some(c), _) => ("customer", c),
                (None, Some(e)) => ("employee", e),
                (None, None) => bail!("give --customer ID or --employee ID"),
            };
            store
                .set_address(kind, &id, &email)
                .context("cannot set the address")?;
            println!("{kind} {id}: {email}");
        }
        OutboxCommand::Addresses { file, json } => return addresses(ctx, &file, json),
        OutboxCommand::Enable { url } => {
            let mut store = ctx.open_outbox()?;
            let n = store.enable_endpoint(&url)?;
            println!("{url} enabled; {n} deliveries will be tried again");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A row of an address file that cannot be used.
#[derive(Debug, serde::Serialize)]
struct RejectedAddress {
    line: u64,
    field: String,
    value: String,
    reason: String,
}

/// Reads an address file: the checked rows, and every row that cannot be used with its line
/// (1 is the header). A person given twice with the same address counts once; with two
/// different addresses the later row is rejected, naming the earlier line.
fn read_addresses(
    path: &std::path::Path,
) -> Result<(Vec<hearken_store::AddressRow>, Vec<RejectedAddress>, u64)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // CRLF as LF: the reader counts lines at LF, and a record that starts after a CR would be
    // reported on the line before its own.
    let bytes: Vec<u8> = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
        .map(|(_, &b)| b)
        .collect();
    let bytes = bytes.as_slice();
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if first.contains(&b';') && !first.contains(&b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .with_context(|| format!("{}: line 1: cannot read the header", path.display()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(kind_at), Some(id_at), Some(email_at)) =
        (column("kind"), column("id"), column("email"))
    else {
        bail!(
            "{}: line 1: the header must name the columns kind, id and email; it has: {}",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: std::collections::HashMap<(&'static str, String), (String, u64)> =
        std::collections::HashMap::new();
    let mut read = 0u64;
    for record in reader.records() {
        read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(read + 1, |p| p.line());
                rejected.push(RejectedAddress {
                    line,
                    field: String::new(),
                    value: String::new(),
                    reason: format!("cannot be read: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(read + 1, |p| p.line());
        let get = |i: usize| record.get(i).unwrap_or("");
        match hearken_store::AddressRow::checked(get(kind_at), get(id_at), get(email_at)) {
            Ok(row) => match seen.get(&(row.kind, row.id.clone())) {
                Some((email, _)) if *email == row.email => {}
                Some((email, earlier)) => rejected.push(RejectedAddress {
                    line,
                    field: "email".into(),
                    value: row.email.clone(),
                    reason: format!(
                        "{} {} was given {email} on line {earlier}; give one address per person",
                        row.kind, row.id
                    ),
                }),
                None => {
                    seen.insert((row.kind, row.id.clone()), (row.email.clone(), line));
                    rows.push(row);
                }
            },
            Err(hearken_store::OutboxError::Invalid {
                field,
                value,
                reason,
            }) => rejected.push(RejectedAddress {
                line,
                field: field.into(),
                value,
                reason,
            }),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((rows, rejected, read))
}

/// `hearken outbox addresses FILE`: the good rows are set, the bad ones listed; exits 1 when
/// any row was rejected, so a script notices.
fn addresses(ctx: &Ctx, path: &std::path::Path, json: bool) -> Result<ExitCode> {
    let (rows, rejected, read) = read_addresses(path)?;
    let mut store = ctx.open_outbox()?;
    let counts = store
        .set_addresses(&rows)
        .context("cannot set the addresses")?;
    let repeated = read as usize - rows.len() - rejected.len();
    if json {
        output::json(&serde_json::json!({
            "file": path.display().to_string(),
            "read": read,
            "added": counts.added,
            "changed": counts.changed,
            "unchanged": counts.unchanged,
            "repeated": repeated,
            "rejected": rejected.len(),
            "released": counts.released,
            "rejected_rows": rejected,
        }))?;
    } else {
        println!(
            "{}: {read} rows read: {} added, {} changed, {} unchanged, {repeated} repeated in the file, {} rejected; {} waiting e-mails released",
            path.display(),
            counts.added,
            counts.changed,
            counts.unchanged,
            rejected.len(),
            counts.released
        );
        for r in &rejected {
            if r.field.is_empty() {
                eprintln!("{}: line {}: {}", path.display(), r.line, r.reason);
            } else {
                eprintln!(
                    "{}: line {}: {} '{}' {}",
                    path.display(),
                    r.line,
                    r.field,
                    r.value,
                    r.reason
                );
            }
        }
    }
    Ok(if rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// How often the server's outbox thread looks for new notifications when nothing is due.
const SERVER_POLL_SECS: i64 = 5;

/// The server's outbox: a thread with its own connection to the store that delivers what is
/// due, then sleeps until the next retry (at most [`SERVER_POLL_SECS`], so notifications written
/// through the API go out within seconds). Nothing is started when no channel is configured. A
/// server stopped in the middle of a delivery leaves it leased; the next sender sends it again
/// with the same id once the lease has run out.
pub fn spawn_for_server(ctx: &Ctx) -> Result<bool> {
    let settings = ctx.config.outbox.clone();
    if !has_channel(ctx) {
        return Ok(false);
    }
    let sender = hearken_outbox::Sender::new(settings, format!("serve {}", owner()))?;
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("outbox".into())
        .spawn(move || {
            loop {
                let next = match ctx
                    .open_outbox()
                    .and_then(|mut store| Ok(sender.drain(store.as_mut())?))
                {
                    Ok(r) => {
                        if r.attempted > 0 {
                            tracing::info!(?r, "outbox pass");
                        }
                        r.next_due
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the outbox pass failed; trying again");
                        None
                    }
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let secs = next.map_or(SERVER_POLL_SECS, |t| (t - now).clamp(1, SERVER_POLL_SECS));
                std::thread::sleep(std::time::Duration::from_secs(secs as u64));
            }
        })
        .context("cannot start the outbox thread")?;
    Ok(true)
}
