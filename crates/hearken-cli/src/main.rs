//! `hearken`: the command-line entry point. Argument parsing and glue only; the work is done by
//! the libraries (ingest, store, engine, ...).

use std::process::ExitCode;

use clap::Parser;

mod cmd;
mod config;
mod enrich;
mod output;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = cmd::Cli::parse();
    init_tracing(
        cli.global.verbose,
        matches!(cli.command, cmd::Command::Serve(_)),
    );
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The whole context chain on one line, most general first, each cause said once: a cause whose
/// text its context already contains (errors that print their source) is not repeated, nor one
/// that only prefixes a code to what was said (SQLite's `Error code 14: unable to open ...`).
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let said = |prev: &String| {
            let tail = text.split_once(": ").map_or("", |(_, t)| t);
            prev.contains(&text) || (tail.len() >= 12 && prev.contains(tail))
        };
        if parts.last().is_some_and(said) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// `hearken ... | head` closes our stdout early; like other Unix tools we then stop quietly (exit
/// status 141, as if killed by SIGPIPE) instead of reporting a panic. Rust ignores SIGPIPE, so
/// the failed write surfaces as a panic in `println!`; every other panic keeps the default report.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Quiet unless asked: `-v` for info, `-vv` for debug, or `RUST_LOG`. `serve` logs one line per
/// request (and its start and stop) without `-v`, as an operator expects of a server; its other
/// crates stay at warnings.
fn init_tracing(verbose: u8, serving: bool) {
    let default = match (verbose, serving) {
        (0, true) => "warn,hearken_server=info",
        (0, false) => "warn",
        (1, _) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: a server's log usually goes to a file or a journal.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
