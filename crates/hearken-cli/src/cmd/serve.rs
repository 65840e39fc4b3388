//! `hearken serve`: the HTTP API over the store.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, IP:PORT; port 0 picks a free one [default: [server] bind in
    /// hearken.toml, else 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

/// The server's configuration from hearken.toml and the command line: `hearken serve` and
/// `hearken demo --serve` serve the same way.
pub fn server_config(ctx: &Ctx, bind: Option<String>) -> Result<hearken_server::ServerConfig> {
    let mut settings = ctx.config.server.clone();
    if let Some(bind) = bind {
        settings.bind = bind;
    }
    settings.org = hearken_server::routes::risk::OrgSettings {
        cost: ctx.config.cost.clone(),
        assess: super::assess::settings(ctx)?,
    };
    Ok(hearken_server::ServerConfig {
        db: ctx.config.db.clone(),
        settings,
        text: hearken_enrich::TextOptions {
            enrich: ctx.config.enrich,
            redact: ctx.config.redact_pii,
        },
    })
}

pub fn run(ctx: &Ctx, args: ServeArgs) -> Result<ExitCode> {
    let config = server_config(ctx, args.bind)?;
    let postgres = ctx.postgres_url().is_some();
    // The outbox is delivered by the server while it runs ([outbox] in hearken.toml), on
    // either store; the weekly report's schedule ([report.schedule]) is enqueued for it when
    // due, on the embedded store only so far.
    let outbox = super::outbox::spawn_for_server(ctx)?;
    let schedule = if postgres {
        eprintln!(
            "note: on a PostgreSQL store the weekly report's schedule, exports and topic models need an SQLite store for now (501 not_implemented); the analytics, risk, actions, suggestions, the outbox, inbound webhooks and the dashboard run"
        );
        false
    } else {
        super::report_delivery::spawn_for_server(ctx)?
    };
    let shown = ctx.db_shown();
    hearken_server::run(config, |addr| {
        // The first line of stdout is the address, so scripts and tests can read the port.
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        eprintln!(
            "serving the store {shown} (stop with Ctrl-C or SIGTERM; requests in flight finish)"
        );
        if outbox {
            eprintln!("delivering the outbox's notifications ([outbox] in hearken.toml)");
        }
        if schedule {
            eprintln!(
                "sending the weekly report on schedule ([report.schedule] in hearken.toml; `hearken report schedule` shows it)"
            );
        }
    })
    .context("hearken serve stopped")?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}
