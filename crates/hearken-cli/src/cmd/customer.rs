//! `hearken customer ID`: a customer's profile, or with `--timeline` its signals, survey responses
//! and case events in time order.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_model::Timestamp;
use hearken_query::customer::{EntryKind, TimelineEntry};
use hearken_query::{CustomerResponse, Scope, TimelinePage, TimelineRequest};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// The customer's id as imported (customer_id)
    #[arg(value_name = "CUSTOMER_ID")]
    pub id: String,
    /// Show its timeline instead: signals, survey responses and case events, oldest first
    #[arg(long)]
    pub timeline: bool,
    /// Timeline rows per page
    #[arg(long, default_value_t = 50, requires = "timeline")]
    pub limit: usize,
    /// Continue the timeline after the previous page (the cursor it printed)
    #[arg(long, requires = "timeline")]
    pub cursor: Option<String>,
    /// Print JSON (the profile, or the timeline page and the next cursor)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: CustomerArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    let scope = Scope::all();
    if args.timeline {
        let req = TimelineRequest {
            limit: args.limit,
            cursor: args.cursor.clone(),
        };
        let page = hearken_query::customer_timeline(store.as_ref(), &scope, &args.id, &req)
            .map_err(cli_error)?;
        if args.json {
            output::json(&page)?;
        } else {
            print!("{}", render_timeline(&page));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let c = hearken_query::customer(store.as_ref(), &scope, &args.id).map_err(cli_error)?;
    if args.json {
        output::json(&c)?;
    } else {
        print!("{}", render(&c, ctx.config.currency.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

fn date(t: Option<i64>) -> String {
    t.map_or_else(String::new, |t| Timestamp::from_unix(t).to_string())
}

/// The profile, one fact per line.
pub fn render(c: &CustomerResponse, currency: Option<&str>) -> String {
    let mut out = String::new();
    let nps = &c.nps;
    let nps_line = match nps.nps {
        Some(v) => format!(
            "{v:+.1} from {} answers ({} promoters, {} passives, {} detractors)",
            output::thousands(nps.n),
            output::thousands(nps.promoters),
            output::thousands(nps.passives),
            output::thousands(nps.detractors)
        ),
        None => "no answers".into(),
    };
    let s = &c.net_sentiment;
    let sentiment_line = match s.net_sentiment {
        Some(v) => format!(
            "{v:+.1} over {} scored signals ({} positive, {} negative)",
            output::thousands(s.n),
            output::thousands(s.positive),
            output::thousands(s.negative)
        ),
        None => "no scored signals".into(),
    };
    let fields = [
        ("customer", c.id.clone()),
        ("name", c.name.clone().unwrap_or_default()),
        ("segment", c.segment.clone().unwrap_or_default()),
        ("persona", c.persona.clone().unwrap_or_default()),
        ("since", date(c.since)),
        (
            "value",
            c.value_per_year.map_or_else(String::new, |v| {
                format!("{} a year", output::money(v, currency))
            }),
        ),
        (
            "white glove",
            if c.white_glove { "yes" } else { "" }.to_string(),
        ),
        (
            "churned",
            if c.churned {
                date(c.churned_at)
            } else {
                String::new()
            },
        ),
        ("signals", output::thousands(c.signals)),
        ("surveys", output::thousands(c.surveys)),
        ("cases", output::thousands(c.cases)),
        ("NPS", nps_line),
        ("sentiment", sentiment_line),
        ("first contact", date(c.first_contact)),
        ("last contact", date(c.last_contact)),
    ];
    for (k, v) in fields {
        if !v.is_empty() {
            let _ = writeln!(out, "{k:<14}{v}");
        }
    }
    if !c.nps_answers.is_empty() {
        let rows: Vec<Vec<String>> = c
            .nps_answers
            .iter()
            .map(|a| {
                vec![
                    a.response_id.clone(),
                    Timestamp::from_unix(a.at).to_string(),
                    a.score.to_string(),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&output::table(&["response", "at", "nps"], &rows));
    }
    output::notes(&mut out, &c.notes, c.partial.as_ref());
    out
}

fn named(id: &Option<String>, name: &Option<String>) -> String {
    match (id, name) {
        (Some(id), Some(name)) => format!("{id} ({name})"),
        (Some(id), None) => id.clone(),
        _ => String::new(),
    }
}

/// What a timeline row says in a few words.
fn what(e: &TimelineEntry) -> String {
    match e.kind {
        EntryKind::Signal => {
            let kind = e.signal_kind.map_or("signal", |k| k.as_str());
            match &e.topic {
                Some(t) => format!("{kind} about {t}"),
                None => kind.to_string(),
            }
        }
        EntryKind::Survey => {
            let mut parts = Vec::new();
            for (label, v) in [("nps", e.nps), ("csat", e.csat), ("ces", e.ces)] {
                if let Some(v) = v {
                    parts.push(format!("{label} {v}"));
                }
            }
            format!("survey {}", parts.join(", "))
        }
        EntryKind::CaseEvent => format!(
            "case {} {}",
            e.case_id.as_deref().unwrap_or(""),
            e.stage.as_deref().unwrap_or("")
        ),
    }
}

/// The timeline page as a table.
pub fn render_timeline(p: &TimelinePage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "timeline of {}",
        named(&Some(p.customer_id.clone()), &p.customer)
    );
    if p.items.is_empty() {
        out.push_str("nothing on this page\n");
    } else {
        let rows: Vec<Vec<String>> = p
            .items
            .iter()
            .map(|e| {
                vec![
                    Timestamp::from_unix(e.at).to_string(),
                    e.id.clone(),
                    what(e),
                    e.channel.map_or("", |c| c.as_str()).to_string(),
                    named(&e.agent_id, &e.agent),
                    e.team.clone().unwrap_or_default(),
                    output::num(e.sentiment, 2),
                    e.text
                        .as_deref()
                        .map_or(String::new(), |t| output::one_line(t, 50)),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &[
                "at",
                "id",
                "what",
                "channel",
                "agent",
                "team",
                "sentiment",
                "text",
            ],
            &rows,
        ));
    }
    if let Some(c) = &p.next_cursor {
        let _ = writeln!(out, "more: add `--cursor {c}` for the next page");
    }
    output::notes(&mut out, &p.notes, p.partial.as_ref());
    out
}
