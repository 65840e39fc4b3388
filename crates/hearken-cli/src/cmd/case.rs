//! `hearken case ID`: a case with its events in order and what case flow says of it.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_model::Timestamp;
use hearken_query::{CaseResponse, Scope};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct CaseArgs {
    /// The case's id as imported (case_id)
    #[arg(value_name = "CASE_ID")]
    pub id: String,
    /// Print JSON (the case, its events, duration, transfers, first-owner resolution)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: CaseArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    let c = hearken_query::case(store.as_ref(), &Scope::all(), &args.id).map_err(cli_error)?;
    if args.json {
        output::json(&c)?;
    } else {
        print!("{}", render(&c));
    }
    Ok(ExitCode::SUCCESS)
}

fn named(id: &Option<String>, name: &Option<String>) -> String {
    match (id, name) {
        (Some(id), Some(name)) => format!("{id} ({name})"),
        (Some(id), None) => id.clone(),
        _ => String::new(),
    }
}

/// A duration in hours as a person reads it.
fn hours(h: Option<f64>) -> String {
    match h {
        Some(h) if h >= 48.0 => format!("{:.1} days", h / 24.0),
        Some(h) if h >= 1.0 => format!("{h:.1} hours"),
        Some(h) => format!("{:.0} minutes", h * 60.0),
        None => String::new(),
    }
}

/// The case's facts, then its events as a table.
pub fn render(c: &CaseResponse) -> String {
    let mut out = String::new();
    let yes_no = |b: Option<bool>| b.map_or(String::new(), |b| if b { "yes" } else { "no" }.into());
    let fields = [
        ("case", c.id.clone()),
        ("customer", named(&c.customer_id, &c.customer)),
        ("segment", c.segment.clone().unwrap_or_default()),
        ("product", named(&c.product_id, &c.product)),
        (
            "channel",
            c.channel.map_or("", |ch| ch.as_str()).to_string(),
        ),
        ("team", c.team.clone().unwrap_or_default()),
        (
            "started",
            c.started_at
                .map_or_else(String::new, |t| Timestamp::from_unix(t).to_string()),
        ),
        ("duration", hours(c.duration_hours)),
        ("events", output::thousands(c.events.len() as u64)),
        ("transfers", output::thousands(c.transfers)),
        ("loops", output::thousands(c.loops)),
        ("escalations", output::thousands(c.escalations)),
        ("first owner", named(&c.first_owner_id, &c.first_owner)),
        ("last owner", named(&c.last_owner_id, &c.last_owner)),
        ("resolved by first owner", yes_no(c.resolved_by_first_owner)),
        ("open", yes_no(c.open)),
        ("signals", c.signals.join(", ")),
        ("surveys", c.surveys.join(", ")),
    ];
    for (k, v) in fields {
        if !v.is_empty() {
            let _ = writeln!(out, "{k:<25}{v}");
        }
    }
    if !c.events.is_empty() {
        let rows: Vec<Vec<String>> = c
            .events
            .iter()
            .map(|e| {
                vec![
                    Timestamp::from_unix(e.at).to_string(),
                    e.stage.clone(),
                    named(&e.agent_id, &e.agent),
                    e.team.clone().unwrap_or_default(),
                    output::num(e.sentiment, 2),
                    e.text
                        .as_deref()
                        .map_or(String::new(), |t| output::one_line(t, 60)),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&output::table(
            &["at", "stage", "agent", "team", "sentiment", "text"],
            &rows,
        ));
    }
    output::notes(&mut out, &c.notes, c.partial.as_ref());
    out
}
