//! `hearken`: the command-line entry point. Argument parsing and glue only; the work is done by
//! the libraries (ingest, store, engine, ...).

use std::process::ExitCode;

use clap::Parser;

mod cmd;
mod config;
mod enrich;
mod output;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    init_tracing(cli.global.verbose);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line: the whole context chain, most general first.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

/// Quiet unless asked: `-v` for info, `-vv` for debug, or `RUST_LOG`.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
