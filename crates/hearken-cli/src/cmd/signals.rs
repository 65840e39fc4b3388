use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_model::Timestamp;
use hearken_query::{SignalView, SignalsPage, SignalsRequest};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error};
use crate::output;

#[derive(Debug, Args)]
pub struct SignalsArgs {
    /// Show this one signal (its id as imported) with everything known about it
    #[arg(long, value_name = "SIGNAL_ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub filters: Filters,
    /// Only this kind: question, complaint, compliment, suggestion, request, survey_response, other
    #[arg(long)]
    pub kind: Option<String>,
    /// Only signals from customer or employee
    #[arg(long)]
    pub source: Option<String>,
    /// Only this customer (its id)
    #[arg(long)]
    pub customer: Option<String>,
    /// Only this topic (the source's, else the classifier's)
    #[arg(long)]
    pub topic: Option<String>,
    /// Only texts containing this (ignoring the case of ASCII letters)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Signals per page (the API's default too)
    #[arg(long, default_value_t = hearken_query::SignalsRequest::default().limit)]
    pub limit: usize,
    /// Continue after the previous page (the cursor it printed)
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print JSON (the page of signals and the cursor of the next one)
    #[arg(long)]
    pub json: bool,
}

impl SignalsArgs {
    pub fn request(&self) -> SignalsRequest {
        SignalsRequest {
            kind: self.kind.clone(),
            source: self.source.clone(),
            customer: self.customer.clone(),
            topic: self.topic.clone(),
            search: self.search.clone(),
            limit: self.limit,
            cursor: self.cursor.clone(),
            ..SignalsRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: SignalsArgs) -> Result<ExitCode> {
    let frames = ctx.open_frames()?;
    let store = frames.as_ref();
    if let Some(id) = &args.id {
        let s = hearken_query::signal(store, &Scope::all(), id).map_err(cli_error)?;
        if args.json {
            output::json(&s)?;
        } else {
            print!("{}", render_one(&s));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let page = hearken_query::signals(store, &Scope::all(), &args.request()).map_err(cli_error)?;
    if args.json {
        output::json(&page)?;
    } else {
        print!("{}", render(&page));
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

pub fn render(p: &SignalsPage) -> String {
    let mut out = String::new();
    if p.signals.is_empty() {
        let _ = writeln!(out, "no signals match");
    } else {
        let rows: Vec<Vec<String>> = p
            .signals
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    Timestamp::from_unix(s.at).to_string(),
                    s.channel.map_or("", |c| c.as_str()).to_string(),
                    s.kind.map_or("", |k| k.as_str()).to_string(),
                    named(&s.customer_id, &s.customer),
                    s.topic.clone().unwrap_or_default(),
                    output::num(s.sentiment, 2),
                    s.text
                        .as_deref()
                        .map_or(String::new(), |t| output::one_line(t, 60)),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &[
                "id",
                "at",
                "channel",
                "kind",
                "customer",
                "topic",
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

pub fn render_one(s: &SignalView) -> String {
    let mut out = String::new();
    let topic = match (&s.topic, s.topic_predicted, s.topic_probability) {
        (Some(t), true, Some(p)) => format!("{t} (classified, probability {p:.2})"),
        (Some(t), true, None) => format!("{t} (classified)"),
        (Some(t), false, _) => t.clone(),
        (None, ..) => String::new(),
    };
    let fields = [
        ("id", s.id.clone()),
        ("at", Timestamp::from_unix(s.at).to_string()),
        ("channel", s.channel.map_or("", |c| c.as_str()).to_string()),
        ("kind", s.kind.map_or("", |k| k.as_str()).to_string()),
        ("source", s.source.map_or("", |k| k.as_str()).to_string()),
        ("customer", named(&s.customer_id, &s.customer)),
        ("segment", s.segment.clone().unwrap_or_default()),
        ("product", named(&s.product_id, &s.product)),
        ("agent", named(&s.agent_id, &s.agent)),
        ("team", s.team.clone().unwrap_or_default()),
        ("case", s.case_id.clone().unwrap_or_default()),
        ("stage", s.stage.clone().unwrap_or_default()),
        ("topic", topic),
        ("sentiment", output::num(s.sentiment, 4)),
        ("language", s.language.clone().unwrap_or_default()),
    ];
    for (k, v) in fields {
        if !v.is_empty() && v != "-" {
            let _ = writeln!(out, "{k:<10} {v}");
        }
    }
    if let Some(t) = &s.text {
        let _ = writeln!(out, "\n{t}");
    }
    out
}
