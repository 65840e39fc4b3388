//! `hearken suggestions`: employees' suggestions with the status each employee sees; review one
//! (`review`), show one (`show`), or turn one into an action in one step (`act`).

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use hearken_query::{
    ReviewRequest, Scope, SuggestionActionRequest, SuggestionView, SuggestionsList,
    SuggestionsRequest,
};

use super::Ctx;
use super::actions::os_user;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SuggestionsArgs {
    #[command(subcommand)]
    pub command: Option<SuggestionsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this employee's suggestions (the agent id their signals name)
    #[arg(long, value_name = "ID")]
    pub employee: Option<String>,
    /// Only suggestions in this status: received, under_review, action, done, declined
    #[arg(long)]
    pub status: Option<String>,
    /// At most this many, newest first
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SuggestionsCommand {
    /// One suggestion with its status and actions
    Show {
        /// The suggestion's signal id
        id: String,
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Record a review: received, under_review, or declined (with --reason)
    Review {
        /// The suggestion's signal id
        id: String,
        /// received, under_review or declined
        #[arg(long)]
        status: String,
        /// Why it is declined (required to decline)
        #[arg(long)]
        reason: Option<String>,
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Turn a suggestion into an action, linked to it (the employee is told when it is done)
    Act(ActArgs),
}

#[derive(Debug, Args)]
pub struct ActArgs {
    /// The suggestion's signal id
    pub id: String,
    /// The action's title [default: the suggestion's text]
    #[arg(long)]
    pub title: Option<String>,
    /// What changes, in words (told to the people who raised it when it is done)
    #[arg(long)]
    pub description: Option<String>,
    /// The department that owns it
    #[arg(long)]
    pub owner: Option<String>,
    /// The metric it should move: volume, repeat_rate, net_sentiment, nps, csat, stage_time, transfers_per_case
    #[arg(long)]
    pub metric: Option<String>,
    /// The date it is planned to be done by
    #[arg(long, value_name = "DATE")]
    pub planned_for: Option<String>,
    /// When it was created, for an action recorded after the fact [default: now]
    #[arg(long, value_name = "DATE")]
    pub created_at: Option<String>,
    /// A topic it is about (repeatable) [default: the suggestion's topic]
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// Print the answer as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: SuggestionsArgs) -> Result<ExitCode> {
    let scope = Scope::all();
    match args.command {
        None => {
            let store = ctx.open_actions()?;
            let a = args.list;
            let req = SuggestionsRequest {
                employee: a.employee,
                status: a.status,
                limit: a.limit,
            };
            let r = hearken_query::suggestions(store.as_ref(), &scope, &req).map_err(cli_error)?;
            if a.json {
                output::json(&r)?;
            } else {
                print!("{}", render_list(&r));
            }
        }
        Some(SuggestionsCommand::Show { id, json }) => {
            let store = ctx.open_actions()?;
            let v = hearken_query::suggestion(store.as_ref(), &scope, &id).map_err(cli_error)?;
            print_one(&v, json)?;
        }
        Some(SuggestionsCommand::Review {
            id,
            status,
            reason,
            json,
        }) => {
            let mut store = ctx.open_actions()?;
            let req = ReviewRequest { status, reason };
            let v = hearken_query::review_suggestion(store.as_mut(), &scope, &id, &req, &os_user())
                .map_err(cli_error)?;
            print_one(&v, json)?;
        }
        Some(SuggestionsCommand::Act(a)) => {
            let mut store = ctx.open_actions()?;
            let req = SuggestionActionRequest {
                title: a.title,
                description: a.description,
                owner: a.owner,
                metric: a.metric,
                planned_for: a.planned_for,
                created_at: a.created_at,
                topics: a.topics,
            };
            let d = hearken_query::suggestion_to_action(
                store.as_mut(),
                &scope,
                &a.id,
                &req,
                &os_user(),
            )
            .map_err(cli_error)?;
            if a.json {
                output::json(&d)?;
            } else {
                println!("suggestion {} turned into action {}", a.id, d.action.id);
                print!("{}", super::actions::render_detail(&d));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_one(v: &SuggestionView, json: bool) -> Result<()> {
    if json {
        return output::json(v);
    }
    println!(
        "{} ({}, {}): {}",
        v.id,
        v.employee.as_deref().unwrap_or("-"),
        v.at.get(..10).unwrap_or(&v.at),
        v.status_text
    );
    if let Some(t) = &v.text {
        println!("{t}");
    }
    Ok(())
}

pub fn render_list(r: &SuggestionsList) -> String {
    let mut out = String::new();
    if !r.suggestions.is_empty() {
        let rows: Vec<Vec<String>> = r
            .suggestions
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.at.get(..10).unwrap_or(&s.at).to_string(),
                    s.employee.clone().unwrap_or_else(|| "-".into()),
                    s.status.clone(),
                    output::one_line(&s.status_text, 40),
                    output::one_line(s.text.as_deref().unwrap_or(""), 50),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["id", "at", "employee", "status", "what happened", "text"],
            &rows,
        ));
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
