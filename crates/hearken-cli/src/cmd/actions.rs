//! `hearken actions`: improvement actions (create, list, show, update, link) and their measured
//! effect. The query layer does the work (crates/hearken-query/src/actions.rs); changes are
//! recorded with the operating-system user as who made them.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use hearken_query::{
    ActionDetail, ActionView, ActionsList, ActionsRequest, CreateActionRequest, EffectRequest,
    EffectResponse, Links, Scope, UpdateActionRequest,
};

use super::Ctx;
use super::select::{cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Create an action (status proposed), linked to the topics, signals, customers ... it is about
    Create(CreateArgs),
    /// Actions, newest first, optionally of one status, owner or topic
    List(ListArgs),
    /// One action with its links and the full history of its changes
    Show(ShowArgs),
    /// Move an action to another status (only the allowed moves) or change its fields
    Update(UpdateArgs),
    /// Link an action to more topics, signals, customers, products, segments, stages or suggestions
    Link(LinkArgs),
    /// The measured effect of a done action: before/after its done date, and against comparable groups (DiD)
    Effect(EffectArgs),
}

/// What an action is linked to (each repeatable).
#[derive(Debug, Args, Default)]
pub struct LinkFlags {
    /// A topic it is about (repeatable)
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// A signal that motivated it, by id (repeatable)
    #[arg(long = "signal", value_name = "ID")]
    pub signals: Vec<String>,
    /// A customer it concerns, by id (repeatable)
    #[arg(long = "customer", value_name = "ID")]
    pub customers: Vec<String>,
    /// A product it concerns, by id (repeatable)
    #[arg(long = "product", value_name = "ID")]
    pub products: Vec<String>,
    /// A customer segment it concerns (repeatable)
    #[arg(long = "segment", value_name = "SEGMENT")]
    pub segments: Vec<String>,
    /// A case stage (activity) it concerns (repeatable)
    #[arg(long = "stage", value_name = "STAGE")]
    pub stages: Vec<String>,
    /// An employee's suggestion it takes up, by signal id (repeatable)
    #[arg(long = "suggestion", value_name = "ID")]
    pub suggestions: Vec<String>,
}

impl LinkFlags {
    fn links(self) -> Links {
        Links {
            topics: self.topics,
            signals: self.signals,
            customers: self.customers,
            products: self.products,
            segments: self.segments,
            stages: self.stages,
            suggestions: self.suggestions,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What will be done (one line)
    #[arg(long)]
    pub title: String,
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
    #[arg(long = "created-at", value_name = "DATE")]
    pub created_at: Option<String>,
    #[command(flatten)]
    pub links: LinkFlags,
    /// Print the action as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only actions in this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only actions owned by this department
    #[arg(long)]
    pub owner: Option<String>,
    /// Only actions linked to this topic
    #[arg(long)]
    pub topic: Option<String>,
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The action's id
    pub id: i64,
    /// Print the action and its history as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The action's id
    pub id: i64,
    /// The status to move to (proposed -> planned -> in_progress -> done -> verified, or dropped before verified)
    #[arg(long)]
    pub status: Option<String>,
    /// The date the status was reached [default: now]
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// A new title
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
    /// Print the action as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The action's id
    pub id: i64,
    #[command(flatten)]
    pub links: LinkFlags,
    /// Print the action as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EffectArgs {
    /// The action's id
    pub id: i64,
    /// Days before the done date
    #[arg(long, value_name = "DAYS", default_value_t = 28)]
    pub before: u32,
    /// Days from the done date on
    #[arg(long, value_name = "DAYS", default_value_t = 28)]
    pub after: u32,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// Print the effect as JSON
    #[arg(long)]
    pub json: bool,
}

/// Who makes a change on the command line: the operating-system user (`$USER`, `$LOGNAME`,
/// else the name of the process's user id in /etc/passwd, else `uid N`).
pub fn os_user() -> String {
    if let Some(v) = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
    {
        return v;
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next().map(str::to_string))
        });
    let Some(uid) = uid else {
        return "unknown".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid && !f[0].is_empty()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

pub fn run(ctx: &Ctx, args: ActionsArgs) -> Result<ExitCode> {
    let scope = Scope::all();
    match args.command {
        ActionsCommand::Create(a) => {
            let mut store = ctx.open_actions()?;
            let l = a.links.links();
            let req = CreateActionRequest {
                title: a.title,
                description: a.description,
                owner: a.owner,
                metric: a.metric,
                planned_for: a.planned_for,
                created_at: a.created_at,
                topics: l.topics,
                signals: l.signals,
                customers: l.customers,
                products: l.products,
                segments: l.segments,
                stages: l.stages,
                suggestions: l.suggestions,
            };
            let d = hearken_query::create_action(store.as_mut(), &scope, &req, &os_user())
                .map_err(cli_error)?;
            print_detail(&d, a.json, "created")?;
        }
        ActionsCommand::List(a) => {
            let store = ctx.open_actions()?;
            let req = ActionsRequest {
                status: a.status,
                owner: a.owner,
                topic: a.topic,
            };
            let r = hearken_query::actions(store.as_ref(), &scope, &req).map_err(cli_error)?;
            if a.json {
                output::json(&r)?;
            } else {
                print!("{}", render_list(&r));
            }
        }
        ActionsCommand::Show(a) => {
            let store = ctx.open_actions()?;
            let d = hearken_query::action(store.as_ref(), &scope, a.id).map_err(cli_error)?;
            print_detail(&d, a.json, "")?;
        }
        ActionsCommand::Update(a) => {
            let mut store = ctx.open_actions()?;
            let req = UpdateActionRequest {
                status: a.status,
                at: a.at,
                title: a.title,
                description: a.description,
                owner: a.owner,
                metric: a.metric,
                planned_for: a.planned_for,
            };
            let d = hearken_query::update_action(store.as_mut(), &scope, a.id, &req, &os_user())
                .map_err(cli_error)?;
            print_detail(&d, a.json, "updated")?;
        }
        ActionsCommand::Link(a) => {
            let mut store = ctx.open_actions()?;
            let d = hearken_query::link_action(
                store.as_mut(),
                &scope,
                a.id,
                &a.links.links(),
                &os_user(),
            )
            .map_err(cli_error)?;
            print_detail(&d, a.json, "linked")?;
        }
        ActionsCommand::Effect(a) => {
            let store = ctx.open_actions()?;
            fresh_snapshot(store.frames())?;
            let req = EffectRequest {
                before: a.before,
                after: a.after,
                level: a.level,
            };
            let r = hearken_query::action_effect(store.as_ref(), &scope, a.id, &req)
                .map_err(cli_error)?;
            if a.json {
                output::json(&r)?;
            } else {
                print!("{}", render_effect(&r));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_detail(d: &ActionDetail, json: bool, verb: &str) -> Result<()> {
    if json {
        return output::json(d);
    }
    if !verb.is_empty() {
        println!("action {} {verb}", d.action.id);
    }
    print!("{}", render_detail(d));
    Ok(())
}

fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

fn row(a: &ActionView) -> Vec<String> {
    let topics: Vec<&str> = a
        .links
        .iter()
        .filter(|l| l.kind == "topic")
        .map(|l| l.value.as_str())
        .collect();
    vec![
        a.id.to_string(),
        a.status.clone(),
        day(&a.status_at).to_string(),
        a.owner.clone().unwrap_or_else(|| "-".into()),
        a.metric.clone().unwrap_or_else(|| "-".into()),
        if topics.is_empty() {
            "-".into()
        } else {
            topics.join(", ")
        },
        output::one_line(&a.title, 60),
    ]
}

pub fn render_list(r: &ActionsList) -> String {
    let mut out = String::new();
    if !r.actions.is_empty() {
        let rows: Vec<Vec<String>> = r.actions.iter().map(row).collect();
        out.push_str(&output::table(
            &[
                "id", "status", "since", "owner", "metric", "topics", "title",
            ],
            &rows,
        ));
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}

pub fn render_detail(d: &ActionDetail) -> String {
    let a = &d.action;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", a.id, a.title);
    let _ = writeln!(
        out,
        "status {} since {}; next: {}",
        a.status,
        day(&a.status_at),
        if a.allowed_next.is_empty() {
            "none (final)".to_string()
        } else {
            a.allowed_next.join(", ")
        }
    );
    if let Some(o) = &a.owner {
        let _ = writeln!(out, "owner {o}");
    }
    if let Some(m) = &a.metric {
        let _ = writeln!(out, "metric {m}");
    }
    if let Some(p) = &a.planned_for {
        let _ = writeln!(out, "planned for {}", day(p));
    }
    if let Some(p) = &a.done_at {
        let _ = writeln!(out, "done on {}", day(p));
    }
    if let Some(d) = &a.description {
        let _ = writeln!(out, "{d}");
    }
    if !a.links.is_empty() {
        let _ = writeln!(out, "\nlinks:");
        let rows: Vec<Vec<String>> = a
            .links
            .iter()
            .map(|l| {
                vec![
                    l.kind.clone(),
                    l.value.clone(),
                    day(&l.added_at).to_string(),
                    l.added_by.clone(),
                ]
            })
            .collect();
        out.push_str(&output::table(&["kind", "value", "added", "by"], &rows));
    }
    if !d.history.is_empty() {
        let _ = writeln!(out, "\nhistory:");
        let rows: Vec<Vec<String>> = d
            .history
            .iter()
            .map(|h| {
                vec![
                    h.at.clone(),
                    h.who.clone(),
                    h.change.clone(),
                    h.from.clone().unwrap_or_else(|| "-".into()),
                    h.to.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["at", "who", "change", "from", "to"],
            &rows,
        ));
    }
    if d.notifications_written > 0 {
        let _ = writeln!(
            out,
            "\n{} notification(s) written for the people whose signals motivated it",
            d.notifications_written
        );
    }
    out
}

fn change_text(scale_relative: bool, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if scale_relative => format!("{:+.1}%", x * 100.0),
        Some(x) => format!("{x:+.2} points"),
    }
}

pub fn render_effect(r: &EffectResponse) -> String {
    let e = &r.effect;
    let rel = matches!(e.scale, hearken_engine::effect::Scale::Relative);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "action {} ({}), done {}: {} of {}",
        r.action,
        r.title,
        day(&r.done_at),
        e.metric.name(),
        r.treated.join(", ")
    );
    let side = |name: &str, s: &hearken_engine::effect::Side, from: i64, to: i64| {
        format!(
            "{name} ({} to {}): {} (n = {})",
            day(&hearken_model::Timestamp::from_unix(from).to_rfc3339()),
            day(&hearken_model::Timestamp::from_unix(to).to_rfc3339()),
            output::num(s.value, 3),
            s.n
        )
    };
    let _ = writeln!(
        out,
        "{}",
        side(
            "before",
            &e.before,
            e.windows.before_from,
            e.windows.before_to
        )
    );
    let _ = writeln!(
        out,
        "{}",
        side("after", &e.after, e.windows.after_from, e.windows.after_to)
    );
    let est = &e.estimate;
    let _ = writeln!(
        out,
        "change {} ({:.0}% interval {} to {}), p = {}{}",
        change_text(rel, est.change),
        e.level * 100.0,
        change_text(rel, est.low),
        change_text(rel, est.high),
        output::num(est.p_value, 4),
        match est.significant {
            Some(true) => ", significant",
            Some(false) => ", not significant",
            None => "",
        }
    );
    let d = &e.did.estimate;
    let _ = writeln!(
        out,
        "against controls (difference-in-differences): {} ({} to {}), p = {}; controls: {}",
        change_text(rel, d.change),
        change_text(rel, d.low),
        change_text(rel, d.high),
        output::num(d.p_value, 4),
        if e.did.controls.is_empty() {
            "none".to_string()
        } else {
            e.did.controls.join(", ")
        }
    );
    let mut notes = r.notes.clone();
    notes.extend(e.quality.warnings.iter().cloned());
    output::notes(&mut out, &notes, r.partial.as_ref());
    out
}
