//! Subcommands. Each module holds one command's arguments and its glue.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use hearken_store::Store;

use crate::config::Config;

mod actions;
mod assess;
mod case;
mod cost;
mod customer;
mod demo;
mod drivers;
mod engine;
mod export;
mod flow;
mod generate;
mod import;
mod imports;
mod issues_rank;
mod outbox;
mod pareto;
mod quarantine;
#[cfg(test)]
mod render_tests;
mod repeats;
mod report;
mod report_delivery;
mod risk;
mod scores;
mod select;
mod sentiment;
mod serve;
mod signals;
mod snapshot;
mod status;
mod store;
mod suggestions;
mod themes;
mod tokens;
mod topics;
mod trends;
mod webhooks;

/// Hearken: customer signals management. Capture every signal, understand it, quantify it, act on
/// it and measure the effect.
#[derive(Debug, Parser)]
#[command(
    name = "hearken",
    version,
    about = "Hearken: customer signals management. Capture every signal, understand it, quantify it, act on it and measure the effect.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The store file [default: ./hearken.db; env: HEARKEN_DB]; a postgres:// URL for import
    /// and the analytics on a PostgreSQL store (build feature `postgres`)
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// A config file [default: ./hearken.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import files of one kind into the store (CSV, JSON Lines, gzip of either)
    Import(import::ImportArgs),
    /// List the rows that could not be imported, with file, line, field, value and reason
    Quarantine(quarantine::QuarantineArgs),
    /// Row counts per kind and the store's schema version
    Status(status::StatusArgs),
    /// Past imports with their counts (read, stored, duplicates, quarantined, skipped), state, when, file and host
    Imports(imports::ImportsArgs),
    /// Write a realistic organisation's files (with truth.json) from a seed
    Generate(generate::GenerateArgs),
    /// Generate a mid-size organisation, import it into the store and print an overview
    Demo(demo::DemoArgs),
    /// Score the sentiment of one text per line (VADER, identical to vaderSentiment 3.3.2)
    Sentiment(sentiment::SentimentArgs),
    /// NPS, CSAT or CES with confidence intervals, overall or by segment, product, channel, period ...
    Scores(scores::ScoresArgs),
    /// Which 20% of customers, products, topics or channels cause 80% of the contacts
    Pareto(pareto::ParetoArgs),
    /// How much of overall satisfaction (or NPS) each survey aspect explains (Shapley, relative weights)
    Drivers(drivers::DriversArgs),
    /// Topics stack-ranked by frequency x negative sentiment x customer value
    IssuesRank(issues_rank::IssuesRankArgs),
    /// Volume per topic per week (or day, month) with its expected range, and the spikes
    Trends(trends::TrendsArgs),
    /// Repeat (avoidable) contacts: same customer, same topic within N days, by topic and product
    Repeats(repeats::RepeatsArgs),
    /// Customers at risk as of a date, with reasons (`risk train`: learn from the churn history; `risk matrix`: value x vulnerability)
    Risk(risk::RiskArgs),
    /// The cost of quality per category, topic and product, and of avoidable contacts ([cost] in hearken.toml)
    Cost(cost::CostArgs),
    /// The customer-focus self-assessment: import a unit's answers, report the say-do gap and quartiles
    Assess(assess::AssessArgs),
    /// Case flow: stage times, loops, transfers, first-owner resolution, escalations, comments per stage
    Flow(flow::FlowArgs),
    /// Train, evaluate and apply a topic classifier (models are versioned in the store)
    Topics(topics::TopicsArgs),
    /// Bring the columnar snapshot the analytics read up to date now (they do it themselves when needed)
    Snapshot(snapshot::SnapshotArgs),
    /// Discover themes in signal texts nobody labelled: clusters with key phrases, size and trend
    Themes(themes::ThemesArgs),
    /// List and search signals with every filter, page by page, or show one by id
    Signals(signals::SignalsArgs),
    /// A customer's profile (segment, value, counts, NPS answers, net sentiment, last contact) or timeline
    Customer(customer::CustomerArgs),
    /// A case with its events in order, its customer and product, duration, transfers and first-owner resolution
    Case(case::CaseArgs),
    /// The weekly one-page report (HTML, and A4 PDF through headless Chromium) of an ISO week
    Report(report::ReportArgs),
    /// Serve the HTTP API (tokens, status, OpenAPI at /api/openapi.json) until SIGTERM or Ctrl-C
    Serve(serve::ServeArgs),
    /// Create, list and revoke the API's tokens (roles viewer, analyst, admin; optional data scope)
    Tokens(tokens::TokensArgs),
    /// Add, list and remove inbound webhooks (POST /hooks/NAME, Standard Webhooks or Zendesk signatures)
    Webhooks(webhooks::WebhooksArgs),
    /// Improvement actions: create, list, show, update (status moves), link, and their measured effect
    Actions(actions::ActionsArgs),
    /// Employees' suggestions with the status each employee sees; review one, or turn it into an action
    Suggestions(suggestions::SuggestionsArgs),
    /// The notifications telling people what was done: deliver them (webhook, SMTP), list their status, set addresses
    Outbox(outbox::OutboxArgs),
    /// Export rows (signals, surveys, case events, customers) or an analytic's table as CSV, JSON Lines or Parquet
    Export(export::ExportArgs),
    /// Move a whole store between SQLite files and PostgreSQL databases (`store copy --from A --to B`)
    Store(store::StoreArgs),
}

#[derive(Clone)]
pub struct Ctx {
    pub config: Config,
    /// The command stores something of its own in a store that may not exist yet (`topics
    /// train`: a model is trained before any data is imported; `tokens create`, `webhooks add`: a
    /// server's first token or hook), so `open_store` creates it.
    pub creates_store: bool,
}

impl Ctx {
    /// Opens the existing store for a command that reads it: a missing store is an error naming
    /// the path (never an empty store created by a typo'd `--db`); a read-only one opens
    /// read-only.
    pub fn open_store(&self) -> Result<Store> {
        self.refuse_postgres()?;
        if self.creates_store {
            return self.create_store();
        }
        Ok(Store::open_existing(&self.config.db)?)
    }

    /// Opens the store for a command that writes data into it (import, demo), creating it when
    /// missing.
    pub fn create_store(&self) -> Result<Store> {
        self.refuse_postgres()?;
        Store::open(&self.config.db)
            .with_context(|| format!("cannot open the store at {}", self.config.db.display()))
    }
}

/// A store of either kind, as `--db` names it.
enum Either {
    Sqlite(Store),
    #[cfg(feature = "postgres")]
    Postgres(hearken_store::pg::PgStore),
}

/// An [`Either`] as a boxed trait object both stores implement.
macro_rules! boxed {
    ($either:expr, $t:ty) => {{
        let b: Box<$t> = match $either {
            Either::Sqlite(s) => Box::new(s),
            #[cfg(feature = "postgres")]
            Either::Postgres(p) => Box::new(p),
        };
        b
    }};
}

impl Ctx {
    /// Opens the store for the analytics that read through `hearken_store::FrameSource`
    /// (scores, pareto, drivers, trends, repeats, issues-rank): the SQLite file, or the
    /// PostgreSQL database a `postgres://` URL names (ADR 0012).
    pub fn open_frames(&self) -> Result<Box<dyn hearken_store::FrameSource>> {
        let db = self.config.db.to_string_lossy();
        if hearken_store::is_postgres_url(&db) {
            return open_postgres(&db);
        }
        Ok(Box::new(Store::open_existing(&self.config.db)?))
    }

    /// The store `--db` names for the commands that run on either store: the SQLite file
    /// (`open_store`'s rules), or the PostgreSQL database a `postgres://` URL names.
    fn open_either(&self) -> Result<Either> {
        let db = self.config.db.to_string_lossy();
        if hearken_store::is_postgres_url(&db) {
            #[cfg(feature = "postgres")]
            return Ok(Either::Postgres(hearken_store::pg::PgStore::connect(&db)?));
            #[cfg(not(feature = "postgres"))]
            anyhow::bail!(NO_POSTGRES);
        }
        Ok(Either::Sqlite(self.open_store()?))
    }

    /// Actions and suggestions (`hearken actions`, `hearken suggestions`): both stores run the
    /// same statements (hearken-store `sql.rs`).
    pub fn open_actions(&self) -> Result<Box<dyn hearken_store::ActionStore>> {
        Ok(boxed!(self.open_either()?, dyn hearken_store::ActionStore))
    }

    /// The outbox (`hearken outbox`, the server's sender).
    pub fn open_outbox(&self) -> Result<Box<dyn hearken_store::OutboxStore + Send>> {
        Ok(boxed!(
            self.open_either()?,
            dyn hearken_store::OutboxStore + Send
        ))
    }

    /// What the weekly report reads (`hearken report`).
    pub fn open_team(&self) -> Result<Box<dyn hearken_store::TeamStore>> {
        Ok(boxed!(self.open_either()?, dyn hearken_store::TeamStore))
    }

    /// Risk, customer value and assessments.
    pub fn open_risk(&self) -> Result<Box<dyn hearken_store::RiskStore>> {
        Ok(boxed!(self.open_either()?, dyn hearken_store::RiskStore))
    }

    /// The inbound webhooks (`hearken webhooks`).
    pub fn open_webhooks(&self) -> Result<Box<dyn hearken_store::WebhookStore>> {
        Ok(boxed!(self.open_either()?, dyn hearken_store::WebhookStore))
    }

    /// The store's location for messages: the file's path, or the URL without its password.
    pub fn db_shown(&self) -> String {
        let db = self.config.db.to_string_lossy();
        if !hearken_store::is_postgres_url(&db) {
            return self.config.db.display().to_string();
        }
        #[cfg(feature = "postgres")]
        return hearken_store::pg::redact(&db);
        #[cfg(not(feature = "postgres"))]
        return "a PostgreSQL database".into();
    }

    /// The `postgres://` URL `--db` (or HEARKEN_DB) names, if it names one.
    pub fn postgres_url(&self) -> Option<String> {
        let db = self.config.db.to_string_lossy();
        hearken_store::is_postgres_url(&db).then(|| db.into_owned())
    }

    /// Commands other than the analytics above do not run on PostgreSQL yet: say so rather than
    /// look for a file named like the URL.
    fn refuse_postgres(&self) -> Result<()> {
        let db = self.config.db.to_string_lossy();
        if hearken_store::is_postgres_url(&db) {
            anyhow::bail!(
                "this command does not run on a PostgreSQL store yet: import, status, imports, quarantine (and its clear), scores, pareto, drivers, trends, repeats, issues-rank, flow, themes, signals, customer, case, cost, risk (and value), assess, actions, suggestions, outbox, webhooks, report (the page; not its schedule), tokens and serve (its analytics, signals, customers, cases, the overview, actions, suggestions, the outbox, the dashboard, webhooks and live ingestion) do; use an SQLite store (`hearken store copy --from URL --to FILE` makes one)"
            );
        }
        Ok(())
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str) -> Result<Box<dyn hearken_store::FrameSource>> {
    Ok(Box::new(hearken_store::pg::PgStore::connect(url)?))
}

#[cfg(not(feature = "postgres"))]
const NO_POSTGRES: &str = "this hearken was built without PostgreSQL support: build it with `cargo build --release --features postgres`";

#[cfg(not(feature = "postgres"))]
fn open_postgres(_url: &str) -> Result<Box<dyn hearken_store::FrameSource>> {
    anyhow::bail!(NO_POSTGRES)
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.global.config.as_deref(), cli.global.db.as_deref())?;
    // A model, a first token or a first webhook may come before any data; `serve` creates its store too, so a
    // server can start empty and receive live signals.
    let creates_store = matches!(&cli.command, Command::Topics(t)
        if matches!(t.command, topics::TopicsCommand::Train { .. }))
        || matches!(&cli.command, Command::Tokens(t)
        if matches!(t.command, tokens::TokensCommand::Create(_)))
        || matches!(&cli.command, Command::Webhooks(w)
        if matches!(w.command, webhooks::WebhooksCommand::Add(_)));
    let ctx = Ctx {
        config,
        creates_store,
    };
    match cli.command {
        Command::Import(a) => import::run(&ctx, a),
        Command::Quarantine(a) => quarantine::run(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::Imports(a) => imports::run(&ctx, a),
        Command::Generate(a) => generate::run(&ctx, a),
        Command::Demo(a) => demo::run(&ctx, a),
        Command::Sentiment(a) => sentiment::run(&ctx, a),
        Command::Scores(a) => scores::run(&ctx, a),
        Command::Pareto(a) => pareto::run(&ctx, a),
        Command::Drivers(a) => drivers::run(&ctx, a),
        Command::IssuesRank(a) => issues_rank::run(&ctx, a),
        Command::Trends(a) => trends::run(&ctx, a),
        Command::Repeats(a) => repeats::run(&ctx, a),
        Command::Risk(a) => risk::run(&ctx, a),
        Command::Cost(a) => cost::run(&ctx, a),
        Command::Assess(a) => assess::run(&ctx, a),
        Command::Flow(a) => flow::run(&ctx, a),
        Command::Topics(a) => topics::run(&ctx, a),
        Command::Themes(a) => themes::run(&ctx, a),
        Command::Snapshot(a) => snapshot::run(&ctx, a),
        Command::Signals(a) => signals::run(&ctx, a),
        Command::Customer(a) => customer::run(&ctx, a),
        Command::Case(a) => case::run(&ctx, a),
        Command::Report(a) => report::run(&ctx, a),
        Command::Serve(a) => serve::run(&ctx, a),
        Command::Tokens(a) => tokens::run(&ctx, a),
        Command::Webhooks(a) => webhooks::run(&ctx, a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Actions(a) => actions::run(&ctx, a),
        Command::Suggestions(a) => suggestions::run(&ctx, a),
        Command::Outbox(a) => outbox::run(&ctx, a),
        Command::Store(a) => store::run(a),
    }
}
