//! `hearken report schedule | send | tick`: the weekly report's scheduled delivery
//! (crates/hearken-web/src/delivery.rs, docs/report.md "Scheduled delivery"). The server runs
//! the same tick every minute ([`spawn_for_server`]); the outbox delivers what is enqueued
//! (`hearken outbox run`, or the server).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hearken_engine::schedule;
use hearken_model::Timestamp;
use hearken_store::{ReportHow, Store};
use hearken_web::delivery::{self, Enqueued, Plan};
use hearken_web::report::Week;
use serde::Serialize;

use super::Ctx;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The delivery schedule, the next due time (in the configured zone and in UTC), each
    /// recipient with its scope, and what was sent for which weeks
    Schedule {
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Hand a week's report to the outbox for every recipient (or one): once per week and
    /// recipient, also with the schedule, unless --again
    Send {
        /// The ISO week, e.g. 2026-W47
        #[arg(long, value_name = "YYYY-Www")]
        week: String,
        /// Only this recipient (its name in [[report.recipients]])
        #[arg(long, value_name = "NAME")]
        recipient: Option<String>,
        /// Send it even if it was sent for this week already (a new round, recorded as such)
        #[arg(long)]
        again: bool,
        /// Print what was done as JSON
        #[arg(long)]
        json: bool,
    },
    /// Enqueue the report due now by [report.schedule], as the server does every minute (for a
    /// cron job without a server); nothing when nothing is due or it was sent
    Tick {
        /// Tests only: the instant to take as now (RFC 3339, e.g. 2026-11-23T08:00:00Z)
        #[arg(long, hide = true, value_name = "TIME")]
        now: Option<String>,
        /// Print what was done as JSON
        #[arg(long)]
        json: bool,
    },
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The store with its snapshot brought up to date, and the recipients' scopes checked against it.
fn open_checked(ctx: &Ctx, plan: &Plan) -> Result<Store> {
    let store = ctx.open_store()?;
    plan.check_against(&store)?;
    super::select::fresh_snapshot(&store)?;
    Ok(store)
}

fn print_results(results: &[Enqueued], again_hint: bool) {
    for r in results {
        let what = match r.outcome.as_str() {
            "enqueued" => format!(
                "enqueued{}{}",
                match r.round {
                    Some(0) | None => String::new(),
                    Some(n) => format!(" again (round {n})"),
                },
                if r.empty {
                    "; the week has no data in its scope, and the report says so"
                } else {
                    ""
                }
            ),
            "already_sent" => format!(
                "already sent for {}: not sent again{}",
                r.week,
                if again_hint {
                    " (add --again to send it once more)"
                } else {
                    ""
                }
            ),
            _ => format!(
                "not sent: {}",
                r.error
                    .as_deref()
                    .unwrap_or("the report could not be built")
            ),
        };
        println!("{} {}: {what}", r.week, r.recipient);
    }
}

#[derive(Serialize)]
struct RecipientView<'a> {
    name: &'a str,
    email: Option<&'a str>,
    webhook: Option<&'a str>,
    segments: &'a [String],
    teams: &'a [String],
}

#[derive(Serialize)]
struct ScheduleView<'a> {
    schedule: Option<String>,
    next_week: Option<String>,
    next_due_utc: Option<String>,
    next_due_local: Option<String>,
    recipients: Vec<RecipientView<'a>>,
    sends: Vec<hearken_store::ReportSendRow>,
}

fn scope_text(segments: &[String], teams: &[String]) -> String {
    let mut parts = Vec::new();
    if !segments.is_empty() {
        parts.push(format!("segments {}", segments.join(", ")));
    }
    if !teams.is_empty() {
        parts.push(format!("teams {}", teams.join(", ")));
    }
    if parts.is_empty() {
        "the whole organisation".into()
    } else {
        parts.join("; ")
    }
}

pub fn run(ctx: &Ctx, command: ReportCommand) -> Result<ExitCode> {
    let plan = ctx.config.report_plan()?;
    match command {
        ReportCommand::Schedule { json } => {
            let store = ctx.open_store()?;
            let now = unix_now();
            let next = plan.slot.as_ref().map(|s| {
                let (w, at) = schedule::next_due(s, now);
                (w.label(), at, s.local_text(at))
            });
            let view = ScheduleView {
                schedule: plan.slot.as_ref().map(|s| s.describe()),
                next_week: next.as_ref().map(|n| n.0.clone()),
                next_due_utc: next
                    .as_ref()
                    .map(|n| Timestamp::from_unix(n.1).to_rfc3339()),
                next_due_local: next.as_ref().map(|n| n.2.clone()),
                recipients: plan
                    .recipients
                    .iter()
                    .map(|r| RecipientView {
                        name: &r.name,
                        email: r.email.as_deref(),
                        webhook: r.webhook.as_deref(),
                        segments: &r.scope.segments,
                        teams: &r.scope.teams,
                    })
                    .collect(),
                sends: store.report_sends()?,
            };
            if json {
                output::json(&view)?;
                return Ok(ExitCode::SUCCESS);
            }
            match (&view.schedule, &next) {
                (Some(s), Some((w, at, local))) => {
                    println!(
                        "schedule: {s}: the report of the last complete ISO week (weeks run Monday to Monday, UTC)"
                    );
                    println!(
                        "next: {w}, due {local} ({})",
                        Timestamp::from_unix(*at).to_rfc3339()
                    );
                }
                _ => println!(
                    "schedule: none ([report.schedule] is not set in hearken.toml; `hearken report send --week W` still sends)"
                ),
            }
            if plan.recipients.is_empty() {
                println!("recipients: none ([[report.recipients]] in hearken.toml)");
            } else {
                let rows: Vec<Vec<String>> = plan
                    .recipients
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            r.email.clone().unwrap_or_else(|| "-".into()),
                            r.webhook.clone().unwrap_or_else(|| "-".into()),
                            scope_text(&r.scope.segments, &r.scope.teams),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    output::table(&["recipient", "email", "webhook", "scope"], &rows)
                );
            }
            if view.sends.is_empty() {
                println!("sent: nothing yet");
            } else {
                let rows: Vec<Vec<String>> = view
                    .sends
                    .iter()
                    .map(|s| {
                        vec![
                            s.week.clone(),
                            s.recipient.clone(),
                            if s.round == 0 {
                                s.how.clone()
                            } else {
                                format!("{} (round {})", s.how, s.round)
                            },
                            if s.empty { "none".into() } else { "yes".into() },
                            s.deliveries
                                .iter()
                                .map(|d| {
                                    format!(
                                        "{} {}{}",
                                        d.channel,
                                        d.state,
                                        d.last_error
                                            .as_deref()
                                            .map(|e| format!(" ({e})"))
                                            .unwrap_or_default()
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("; "),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    output::table(&["week", "recipient", "how", "data", "deliveries"], &rows)
                );
            }
        }
        ReportCommand::Send {
            week,
            recipient,
            again,
            json,
        } => {
            if plan.recipients.is_empty() {
                bail!(
                    "there is no recipient to send to: add [[report.recipients]] to hearken.toml (docs/report.md, \"Scheduled delivery\")"
                );
            }
            let week = Week::parse(&week).map_err(super::report::page_error)?;
            let mut store = open_checked(ctx, &plan)?;
            let how = if again {
                ReportHow::Again
            } else {
                ReportHow::Send
            };
            let results = delivery::enqueue(
                &mut store,
                &plan,
                &week,
                recipient.as_deref(),
                how,
                &super::actions::os_user(),
            )?;
            if json {
                output::json(&results)?;
            } else {
                print_results(&results, true);
                eprintln!(
                    "the outbox delivers them: `hearken outbox run`, or the server; `hearken outbox list` shows each delivery"
                );
            }
            if results.iter().any(|r| r.outcome == "failed") {
                return Ok(ExitCode::FAILURE);
            }
        }
        ReportCommand::Tick { now, json } => {
            let Some(slot) = &plan.slot else {
                bail!(
                    "there is no schedule: set [report.schedule] day, hour and timezone in hearken.toml"
                );
            };
            let now = match &now {
                None => unix_now(),
                Some(t) => Timestamp::parse("--now", t, &hearken_model::DateOptions::default())
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .unix(),
            };
            let mut store = open_checked(ctx, &plan)?;
            let r = delivery::tick(&mut store, &plan, now)?;
            if json {
                output::json(&r)?;
            } else {
                match &r.due {
                    None => println!(
                        "nothing is due at {} ({})",
                        Timestamp::from_unix(now).to_rfc3339(),
                        slot.local_text(now)
                    ),
                    Some(_) => print_results(&r.results, false),
                }
                if let (Some(w), Some(at)) = (&r.next_week, r.next_at) {
                    println!(
                        "next: {w}, due {} ({})",
                        slot.local_text(at),
                        Timestamp::from_unix(at).to_rfc3339()
                    );
                }
            }
            if r.results.iter().any(|x| x.outcome == "failed") {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How often the server's scheduler looks whether a report is due.
const TICK_SECS: u64 = 60;

/// The server's scheduler: when `[report.schedule]` is set, checks the recipients' scopes
/// against the store (a typo'd segment stops the start with a message), then a thread ticks at
/// start (so a server that was down at the due hour catches up for the latest week) and every
/// minute. What it enqueues, the outbox thread delivers. Nothing is started without a schedule.
pub fn spawn_for_server(ctx: &Ctx) -> Result<bool> {
    let plan = ctx.config.report_plan()?;
    if plan.slot.is_none() {
        return Ok(false);
    }
    {
        let store = ctx.open_store()?;
        plan.check_against(&store)?;
    }
    let db = ctx.config.db.clone();
    std::thread::Builder::new()
        .name("report-schedule".into())
        .spawn(move || {
            loop {
                let r = Store::open(&db)
                    .map_err(anyhow::Error::from)
                    .and_then(|mut store| {
                        if !store.snapshot_is_fresh()? {
                            store.refresh_snapshot(false, &mut |_, _| {})?;
                        }
                        Ok(delivery::tick(&mut store, &plan, unix_now())?)
                    });
                match r {
                    Ok(t) => {
                        for e in &t.results {
                            if e.outcome == "failed" {
                                tracing::warn!(?e, "the weekly report was not enqueued");
                            } else if e.outcome == "enqueued" {
                                tracing::info!(?e, "weekly report enqueued");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "the report scheduler's tick failed; trying again"),
                }
                std::thread::sleep(std::time::Duration::from_secs(TICK_SECS));
            }
        })
        .context("cannot start the report scheduler")?;
    Ok(true)
}
