//! `hearken assess import FILE` / `hearken assess report`: the customer-focus self-assessment.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hearken_engine::assess::Questionnaire;
use hearken_query::{
    AssessImportRequest, AssessReportRequest, AssessReportResponse, AssessSettings, Scope,
};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct AssessArgs {
    #[command(subcommand)]
    pub command: AssessCommand,
}

#[derive(Debug, Subcommand)]
pub enum AssessCommand {
    /// Check one unit's answers (a TOML file: unit, date, [answers]) against the questionnaire
    /// and store them (the same unit and date again replaces them)
    Import {
        /// The unit's answers: a TOML file with unit, date and [answers]
        file: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Say-do gap per area and overall, the external performance levels and each unit's
    /// quartile against the organisation's other and earlier assessments
    Report {
        /// Only this unit
        #[arg(long)]
        unit: Option<String>,
        /// Every assessment, not only each unit's latest
        #[arg(long)]
        all: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The questionnaire of `[assess] questionnaire` in hearken.toml (else Hearken's default) and
/// the units of `[assess] units`.
pub fn settings(ctx: &Ctx) -> Result<AssessSettings> {
    let a = &ctx.config.assess;
    let questionnaire = match &a.questionnaire {
        None => Questionnaire::default_questionnaire(),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!(
                    "cannot read the questionnaire {} ([assess] questionnaire in hearken.toml)",
                    p.display()
                )
            })?;
            Questionnaire::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
    };
    Ok(AssessSettings {
        questionnaire,
        units: a.units.clone(),
    })
}

pub fn run(ctx: &Ctx, args: AssessArgs) -> Result<ExitCode> {
    let settings = settings(ctx)?;
    match args.command {
        AssessCommand::Import { file, json } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            // An assessment may come before any data: the file is created as by an import.
            let store: Box<dyn hearken_store::RiskStore> = if ctx.postgres_url().is_some() {
                ctx.open_risk()?
            } else {
                Box::new(ctx.create_store()?)
            };
            let req = AssessImportRequest {
                text,
                source: file.display().to_string(),
                settings,
            };
            let r = hearken_query::assess_import(store.as_ref(), &Scope::all(), &req)
                .map_err(cli_error)?;
            if json {
                output::json(&r)?;
            } else {
                println!(
                    "stored the assessment of `{}` on {} ({} items of \"{}\" v{}){}",
                    r.unit,
                    r.date,
                    r.items,
                    r.questionnaire,
                    r.questionnaire_version,
                    if r.replaced {
                        "; it replaces the one imported before for that unit and date"
                    } else {
                        ""
                    }
                );
            }
        }
        AssessCommand::Report { unit, all, json } => {
            let store = ctx.open_risk()?;
            let req = AssessReportRequest {
                unit,
                all,
                settings,
            };
            let r = hearken_query::assess_report(store.as_ref(), &Scope::all(), &req)
                .map_err(cli_error)?;
            if json {
                output::json(&r)?;
            } else {
                print!("{}", render(&r));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(r: &AssessReportResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"{}\" v{}: {} assessment(s) stored",
        r.questionnaire, r.questionnaire_version, r.assessments
    );
    let rows: Vec<Vec<String>> = r
        .reports
        .iter()
        .map(|a| {
            vec![
                a.unit.clone(),
                a.date.clone(),
                format!("{:.2}", a.overall.say),
                format!("{:.2}", a.overall.practice),
                format!("{:+.2}", a.overall.gap),
                a.level_reached
                    .map_or("-".into(), |l| format!("{l:?}").to_lowercase()),
                a.standing.quartile.unwrap_or("-").to_string(),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &["unit", "date", "say", "do", "gap", "level", "quartile"],
        &rows,
    ));
    for a in &r.reports {
        let _ = writeln!(out, "\n{} ({}): say-do gap per area", a.unit, a.date);
        let rows: Vec<Vec<String>> = a
            .areas
            .iter()
            .map(|x| {
                vec![
                    x.title.clone(),
                    format!("{:.2}", x.scores.say),
                    format!("{:.2}", x.scores.practice),
                    format!("{:+.2}", x.scores.gap),
                ]
            })
            .collect();
        out.push_str(&output::table(&["area", "say", "do", "gap"], &rows));
        if let Some(n) = &a.standing.note {
            let _ = writeln!(out, "note: {n}");
        }
    }
    output::notes(&mut out, &r.notes, None);
    out
}
