//! `hearken store copy --from A --to B`: a whole store between SQLite files and PostgreSQL
//! databases (ADR 0012). The work and its reconcile are `hearken_store::copy_store`'s.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every table of a store, row for row, into a new file or an empty PostgreSQL database;
    /// each table's rows are counted and checksummed at both ends before the target commits
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The store to copy: an SQLite file or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL
    #[arg(long, value_name = "FILE|URL")]
    pub from: String,
    /// Where to copy it: a new SQLite file, or an empty PostgreSQL database (the schema is
    /// created); a target that holds rows is refused
    #[arg(long, value_name = "FILE|URL")]
    pub to: String,
    /// Print the tables with their rows and checksums as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: StoreArgs) -> Result<ExitCode> {
    match args.command {
        StoreCommand::Copy(a) => copy(a),
    }
}

#[cfg(feature = "postgres")]
fn copy(args: CopyArgs) -> Result<ExitCode> {
    use hearken_store::{Location, copy_store};

    use crate::output;

    let (from, to) = (Location::parse(&args.from), Location::parse(&args.to));
    let started = std::time::Instant::now();
    let bar = output::spinner(&format!("copying {from} to {to}"));
    let report = copy_store(&from, &to, &mut |table, done, total| {
        bar.set_message(format!(
            "copying {table}: {} of {} rows",
            output::thousands(done),
            output::thousands(total)
        ));
        bar.tick();
    });
    bar.finish_and_clear();
    let report = report?;
    if args.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    for t in report.tables.iter().filter(|t| t.rows > 0) {
        println!(
            "{:<22} {:>12} rows  checksum {}",
            t.table,
            output::thousands(t.rows),
            t.checksum
        );
    }
    let empty = report.tables.iter().filter(|t| t.rows == 0).count();
    println!(
        "copied {} rows in {} tables ({empty} empty) from {} to {} in {:.1} s; every table's rows and checksum reconcile (schema version {})",
        output::thousands(report.rows),
        report.tables.len(),
        report.from,
        report.to,
        started.elapsed().as_secs_f64(),
        report.schema_version
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "postgres"))]
fn copy(_args: CopyArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "this hearken was built without PostgreSQL support, which `store copy` needs: build it with `cargo build --release --features postgres`"
    )
}
