//! `hearken risk`: customers at risk as of a date, `hearken risk train`: learn the risk model
//! from the churn history, `hearken risk matrix`: the value x vulnerability matrix.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use hearken_query::{
    RiskMethod, RiskRequest, RiskResponse, RiskTrainRequest, RiskTrainResponse, Scope, ValueBase,
    ValueRequest, ValueResponse,
};

use super::Ctx;
use super::select::{cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RiskArgs {
    #[command(subcommand)]
    pub command: Option<RiskCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Learn a risk model from the churn history in the store (customers' churned_at) and store
    /// it as a new version; `hearken risk` then uses it
    Train(TrainArgs),
    /// The value x vulnerability matrix: quadrants with counts and customers, white-glove
    /// customers marked, new against long-standing customers
    Matrix(MatrixArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Method {
    /// The newest stored model when there is one, else the rules
    Auto,
    /// The transparent rule score (points per warning sign)
    Rules,
    /// The newest stored model
    Model,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Score with data strictly before this date [default: the day after the last data]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Only the N customers most at risk
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Only customers of this segment
    #[arg(long)]
    pub segment: Option<String>,
    /// Which score
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    pub method: Method,
    /// Print a JSON array, one object per customer: customer_id, name, score, reasons, method, ...
    #[arg(long)]
    pub json: bool,
}

impl ListArgs {
    pub fn request(&self) -> RiskRequest {
        RiskRequest {
            as_of: self.as_of.clone(),
            top: self.top,
            segment: self.segment.clone(),
            method: match self.method {
                Method::Auto => RiskMethod::Auto,
                Method::Rules => RiskMethod::Rules,
                Method::Model => RiskMethod::Model,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Learner {
    /// Gradient-boosted trees
    Boosted,
    /// L2-regularised logistic regression
    Logistic,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Learn from churn dates before this date [default: the day after the last data]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// The model predicts churn within this many days
    #[arg(long, default_value_t = 30)]
    pub horizon_days: u32,
    /// Which learner
    #[arg(long, value_enum, default_value_t = Learner::Boosted)]
    pub learner: Learner,
    /// Print JSON (the stored version, its held-out quality and weights)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Value {
    /// value_per_year as imported
    ValuePerYear,
    /// Customer lifetime value m r / (1 + d - r)
    Clv,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Score with data strictly before this date [default: the day after the last data]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Only customers of this segment
    #[arg(long)]
    pub segment: Option<String>,
    /// How value is measured
    #[arg(long, value_enum, default_value_t = Value::ValuePerYear)]
    pub value: Value,
    /// CLV: the share of value_per_year that is margin
    #[arg(long, default_value_t = 1.0)]
    pub margin: f64,
    /// CLV: yearly retention [default: observed over the year before the as-of date]
    #[arg(long)]
    pub retention: Option<f64>,
    /// CLV: yearly discount rate
    #[arg(long, default_value_t = 0.1)]
    pub discount: f64,
    /// High value above this [default: the median]
    #[arg(long)]
    pub value_threshold: Option<f64>,
    /// At risk above this score [default: the median]
    #[arg(long)]
    pub risk_threshold: Option<f64>,
    /// Customers who joined fewer than this many days before the as-of date are new
    #[arg(long, default_value_t = 365)]
    pub new_days: u32,
    /// Customers listed per quadrant (counts are of all)
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

impl MatrixArgs {
    pub fn request(&self) -> ValueRequest {
        ValueRequest {
            as_of: self.as_of.clone(),
            segment: self.segment.clone(),
            value: match self.value {
                Value::ValuePerYear => ValueBase::ValuePerYear,
                Value::Clv => ValueBase::Clv,
            },
            margin: self.margin,
            retention: self.retention,
            discount: self.discount,
            value_threshold: self.value_threshold,
            risk_threshold: self.risk_threshold,
            new_days: self.new_days,
            limit: self.limit,
        }
    }
}

pub fn run(ctx: &Ctx, args: RiskArgs) -> Result<ExitCode> {
    let store = ctx.open_risk()?;
    fresh_snapshot(store.as_ref())?;
    let store = store.as_ref();
    match args.command {
        None => {
            let r = hearken_query::risk(store, &Scope::all(), &args.list.request())
                .map_err(cli_error)?;
            if args.list.json {
                // The contract: an array of customers. The rest (method, model, lead
                // time, notes) is in the table and in GET /api/v1/risk.
                output::json(&r.customers)?;
            } else {
                print!("{}", render(&r));
            }
        }
        Some(RiskCommand::Train(a)) => {
            let req = RiskTrainRequest {
                as_of: a.as_of,
                horizon_days: a.horizon_days,
                learner: Some(
                    match a.learner {
                        Learner::Boosted => "boosted",
                        Learner::Logistic => "logistic",
                    }
                    .into(),
                ),
            };
            let r = hearken_query::risk_train(store, &Scope::all(), &req).map_err(cli_error)?;
            if a.json {
                output::json(&r)?;
            } else {
                print!("{}", render_train(&r));
            }
        }
        Some(RiskCommand::Matrix(a)) => {
            let r = hearken_query::value(store, &Scope::all(), &a.request()).map_err(cli_error)?;
            if a.json {
                output::json(&r)?;
            } else {
                print!("{}", render_matrix(&r));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows shown in the table.
const SHOWN: usize = 25;

fn score(method: &str, s: f64) -> String {
    if method == "model" {
        format!("{s:.3}")
    } else {
        format!("{s:.1}")
    }
}

pub fn render(r: &RiskResponse) -> String {
    let mut out = String::new();
    let how = match &r.model {
        Some(m) => format!(
            "model v{} ({}, churn within {} days; held-out ROC AUC {})",
            m.version,
            m.learner,
            m.horizon_days,
            output::num(m.held_out_auc, 3)
        ),
        None => "rule score (points per warning sign)".into(),
    };
    let _ = writeln!(
        out,
        "{} customers scored as of {} with the {how}",
        output::thousands(r.scored),
        r.as_of
    );
    let rows: Vec<Vec<String>> = r
        .customers
        .iter()
        .take(SHOWN)
        .map(|c| {
            vec![
                c.customer_id.clone(),
                c.name.clone().unwrap_or_default(),
                score(c.method, c.score),
                c.segment.clone().unwrap_or_default(),
                if c.white_glove { "yes" } else { "" }.into(),
                output::one_line(&c.reasons.join("; "), 90),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &[
            "customer",
            "name",
            "score",
            "segment",
            "white glove",
            "reasons",
        ],
        &rows,
    ));
    if r.customers.len() > SHOWN {
        let _ = writeln!(
            out,
            "... and {} more (`--json` lists all)",
            r.customers.len() - SHOWN
        );
    }
    let _ = writeln!(
        out,
        "not scored: {} already churned, {} without a signal or answer before the as-of date",
        output::thousands(r.already_churned),
        output::thousands(r.not_yet_seen)
    );
    if let Some(l) = &r.lead_time {
        let _ = writeln!(
            out,
            "lead time ({} to {}, top {:.0}% warned weekly): {} of {} churners warned in the {} days before they left; median {} days from the first warning to the churn",
            l.from,
            l.to,
            l.alert_share * 100.0,
            output::thousands(l.warned),
            output::thousands(l.churners),
            l.lookback_days,
            output::num(l.median_days, 0)
        );
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}

pub fn render_train(r: &RiskTrainResponse) -> String {
    let mut out = String::new();
    let m = &r.model;
    let _ = writeln!(
        out,
        "stored risk model version {} ({}, churn within {} days, learned from churn before {}): {} examples, {} churners",
        m.version,
        m.learner,
        m.horizon_days,
        m.trained_until,
        output::thousands(m.examples),
        output::thousands(m.churners)
    );
    let _ = writeln!(
        out,
        "held-out ROC AUC {} (the rule score on the same customers: {})",
        output::num(m.held_out_auc, 3),
        output::num(m.held_out_rules_auc, 3)
    );
    let rows: Vec<Vec<String>> = r
        .weights
        .iter()
        .take(12)
        .map(|(c, w)| vec![c.clone(), format!("{w:.3}")])
        .collect();
    out.push_str(&output::table(&["column", "weight"], &rows));
    output::notes(&mut out, &r.notes, None);
    out
}

pub fn render_matrix(r: &ValueResponse) -> String {
    let mut out = String::new();
    let m = &r.matrix;
    let _ = writeln!(
        out,
        "value x vulnerability as of {} ({}; risk by {}): high value above {}, at risk above {} ({} / {})",
        r.as_of,
        m.formula,
        r.method,
        output::num(m.value_threshold, 2),
        output::num(m.risk_threshold, 3),
        m.thresholds_from[0],
        m.thresholds_from[1]
    );
    let rows: Vec<Vec<String>> = m
        .quadrants
        .iter()
        .map(|q| {
            vec![
                q.key.to_string(),
                output::thousands(q.count),
                output::thousands(q.white_glove),
                format!("{:.0}", q.value),
                q.customers
                    .iter()
                    .take(5)
                    .map(|c| {
                        if c.white_glove {
                            format!("{}*", c.customer_id)
                        } else {
                            c.customer_id.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &[
            "quadrant",
            "customers",
            "white glove",
            "value",
            "first customers",
        ],
        &rows,
    ));
    let _ = writeln!(out, "(* white-glove customer)");
    let rows: Vec<Vec<String>> = m
        .tenure
        .iter()
        .map(|t| {
            vec![
                t.group.to_string(),
                output::thousands(t.customers),
                output::num(t.mean_score, 3),
                output::pct(t.at_risk_share),
                output::num(t.mean_value, 0),
                t.quadrants
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&output::table(
        &[
            "tenure",
            "customers",
            "mean score",
            "at risk",
            "mean value",
            "quadrants",
        ],
        &rows,
    ));
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
