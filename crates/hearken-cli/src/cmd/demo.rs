use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use anyhow::{Context, Result};
use clap::Args;
use hearken_gen::GenConfig;
use hearken_model::RecordKind;
use hearken_query::{OverviewResponse, Scope};
use hearken_store::{ImportCounts, ImportSettings, Store};

use super::Ctx;
use super::generate;
use super::import::{TextOptions, import_one, print_report};
use crate::output;

/// The demo writes into the store named by --db (default ./hearken.db), creating it, and marks
/// its imports as synthetic; it refuses a store that holds any other imported data.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the generated organisation's files
    #[arg(long, default_value = "hearken-demo", value_name = "DIR")]
    pub out: PathBuf,
    /// Customers in the demo organisation
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    /// Months of history
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Seed of the generator: the same seed gives the same organisation
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the overview as JSON
    #[arg(long)]
    pub json: bool,
    /// Then serve the dashboard on the store (loading the demo only when the store holds no
    /// signals yet), printing its URL and a new admin sign-in token
    #[arg(long, conflicts_with = "json")]
    pub serve: bool,
    /// With --serve: the address to listen on [default: [server] bind, else 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR", requires = "serve")]
    pub bind: Option<String>,
}

pub fn run(ctx: &Ctx, args: DemoArgs) -> Result<ExitCode> {
    // `demo --serve` on a store that already holds signals serves it as it is.
    if args.serve && ctx.config.db.exists() {
        let store = ctx.open_store()?;
        let signals = hearken_query::status(&store, &Scope::all())
            .map_err(super::select::cli_error)?
            .signals;
        if signals > 0 {
            println!(
                "{} already holds {} signals: serving it as it is (remove it, or use --db, for a fresh demo)",
                ctx.config.db.display(),
                output::thousands(signals.max(0) as u64)
            );
            drop(store);
            return serve(ctx, &args);
        }
    }
    // Synthetic rows never go into a store that holds real data: checked before anything is
    // generated.
    if ctx.config.db.exists() {
        let store = ctx.open_store()?;
        if store.holds_non_demo_data()? {
            anyhow::bail!(
                "{} holds imported data that is not the demo's: `hearken demo` does not mix synthetic rows into it; run the demo into its own store, e.g. `hearken --db demo.db demo`",
                ctx.config.db.display()
            );
        }
    }
    let cfg = GenConfig {
        customers: args.customers,
        months: args.months,
        seed: args.seed,
        ..GenConfig::default()
    };
    let quiet = args.json;
    if !quiet {
        println!(
            "1/3 generating a mid-size organisation ({} customers, {} months) into {}",
            args.customers,
            args.months,
            args.out.display()
        );
    }
    let summary = generate::generate(&cfg, &args.out, !quiet)?;
    if !quiet {
        generate::print_summary(&args.out, &summary);
        println!("\n2/3 importing into {}", ctx.config.db.display());
    }
    let mut store = ctx.create_store()?;
    let mut totals = ImportCounts::default();
    for kind in [
        RecordKind::Customers,
        RecordKind::Products,
        RecordKind::Agents,
        RecordKind::Signals,
        RecordKind::Surveys,
        RecordKind::CaseEvents,
    ] {
        let file = args.out.join(kind.file_name());
        // The demo redacts personal data, as a production setup should.
        let text = TextOptions {
            enrich: ctx.config.enrich,
            redact: true,
        };
        let report = import_one(
            &mut store,
            &file,
            kind,
            None,
            text,
            ImportSettings {
                batch: ctx.config.batch_size,
                demo: true,
            },
            !quiet,
        )?;
        if let Some(e) = &report.error {
            anyhow::bail!("importing {} stopped: {e}", file.display());
        }
        totals.add(&report.counts);
        if !quiet {
            print_report(&report);
        }
    }
    let ov = overview(&store)?;
    if quiet {
        output::json(&ov)?;
    } else {
        println!("\n3/3 overview");
        print_overview(&ov);
        if args.serve {
            drop(store);
            return serve(ctx, &args);
        }
        println!(
            "\nnext: `hearken status`, `hearken quarantine`, or import your own exports into a store of their own with `hearken --db mine.db import FILE --kind signals`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Serves the dashboard on the store with a new admin token, printing the URL and the token.
fn serve(ctx: &Ctx, args: &DemoArgs) -> Result<ExitCode> {
    let mut store = ctx.create_store()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let created = store
        .create_token(&hearken_store::NewToken {
            name: format!("demo-{now}"),
            role: hearken_store::Role::Admin,
            scope: hearken_store::Scope::default(),
        })
        .context("cannot create the demo's sign-in token")?;
    drop(store);
    let config = super::serve::server_config(ctx, args.bind.clone())?;
    let token = created.token;
    let name = created.info.name;
    hearken_server::run(config, |addr| {
        // The first line is the address, as `hearken serve` prints it, for scripts and tests.
        println!("listening on http://{addr}");
        println!("\nthe dashboard: http://{addr}/");
        println!("sign in with this token (admin '{name}'; shown once, revoke it with `hearken tokens revoke {name}`):\n{token}");
        println!("\nstop with Ctrl-C");
        let _ = std::io::stdout().flush();
    })
    .context("the dashboard's server stopped")?;
    Ok(ExitCode::SUCCESS)
}

/// The overview of the store, from the query layer (`hearken_query::overview`).
pub fn overview(store: &Store) -> Result<OverviewResponse> {
    super::select::fresh_snapshot(store)?;
    hearken_query::overview(store, &Scope::all()).map_err(super::select::cli_error)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |v| format!("{:.1}%", v * 100.0))
}

pub fn print_overview(ov: &OverviewResponse) {
    let total = ov.signals.max(1) as f64;
    let rows = |v: &[(String, u64)]| -> Vec<Vec<String>> {
        v.iter()
            .map(|(k, n)| {
                vec![
                    k.clone(),
                    output::thousands(*n),
                    format!("{:.1}%", *n as f64 / total * 100.0),
                ]
            })
            .collect()
    };
    println!("signals: {}", output::thousands(ov.signals));
    print!(
        "{}",
        output::table(&["channel", "signals", "share"], &rows(&ov.by_channel))
    );
    println!();
    print!(
        "{}",
        output::table(&["kind", "signals", "share"], &rows(&ov.by_kind))
    );
    println!();
    println!(
        "the top 20% of customers send {} of contacts ({} customers cover 80%)",
        pct(ov.customers_top20_share),
        ov.customers_k80.map_or("n/a".into(), output::thousands)
    );
    println!(
        "the top 20% of products draw {} of contacts ({} products cover 80%)",
        pct(ov.products_top20_share),
        ov.products_k80.map_or("n/a".into(), output::thousands)
    );
    let n = &ov.nps;
    match (n.nps, n.low, n.high) {
        (Some(v), Some(lo), Some(hi)) => println!(
            "NPS {v:+.1} (90% interval {lo:+.1} to {hi:+.1}; n = {}, {} promoters, {} detractors)",
            output::thousands(n.n),
            output::thousands(n.promoters),
            output::thousands(n.detractors)
        ),
        _ => println!("NPS: no responses"),
    }
    if let Some(q) = ov.quarantined {
        println!("quarantined rows: {}", output::thousands(q.max(0) as u64));
    }
    let mut notes = String::new();
    output::notes(&mut notes, &ov.notes, ov.partial.as_ref());
    print!("{notes}");
}
