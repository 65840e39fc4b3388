//! Analytic exports: the query layer's answer flattened into a table, one row per group or
//! entry. The values are read from the very JSON that `hearken <analytic> --json` prints (the
//! response serialised), so the table has the same numbers by construction; each column is
//! declared with its type so that every format (and docs/formats.md) has a fixed schema.
//!
//! The calls into the query layer are all in [`run`], the one place to adapt when its
//! functions change (they are about to take the caller's data scope).

use std::fmt;

use hearken_query::{
    DriversRequest, IssuesRequest, ParetoRequest, RepeatsRequest, Scope, ScoresRequest,
    ThemesRequest, TrendsRequest,
};
use hearken_store::Store;
use serde::Serialize;
use serde_json::Value as J;

use crate::error::ExportError;
use crate::table::{Column, ColumnType, Table, Value};

/// An analytic to export, with its request (the same as the analytic's own command and API
/// route take).
#[derive(Debug, Clone, PartialEq)]
pub enum AnalyticRequest {
    Scores(ScoresRequest),
    Pareto(ParetoRequest),
    Drivers(DriversRequest),
    Trends(TrendsRequest),
    Repeats(RepeatsRequest),
    Issues(IssuesRequest),
    Themes(ThemesRequest),
}

impl AnalyticRequest {
    /// The names of the analytics that export.
    pub const NAMES: &'static [&'static str] = &[
        "scores", "pareto", "drivers", "trends", "repeats", "issues", "themes",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            AnalyticRequest::Scores(_) => "scores",
            AnalyticRequest::Pareto(_) => "pareto",
            AnalyticRequest::Drivers(_) => "drivers",
            AnalyticRequest::Trends(_) => "trends",
            AnalyticRequest::Repeats(_) => "repeats",
            AnalyticRequest::Issues(_) => "issues",
            AnalyticRequest::Themes(_) => "themes",
        }
    }
}

impl fmt::Display for AnalyticRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn json(v: &impl Serialize) -> Result<J, ExportError> {
    serde_json::to_value(v).map_err(|e| ExportError::Internal(e.to_string()))
}

/// Runs the analytic and returns its response as JSON (exactly what `--json` prints).
fn run(store: &Store, scope: &Scope, req: &AnalyticRequest) -> Result<J, ExportError> {
    match req {
        AnalyticRequest::Scores(r) => json(&hearken_query::scores(store, scope, r)?),
        AnalyticRequest::Pareto(r) => json(&hearken_query::pareto(store, scope, r)?),
        AnalyticRequest::Drivers(r) => json(&hearken_query::drivers(store, scope, r)?),
        AnalyticRequest::Trends(r) => json(&hearken_query::trends(store, scope, r)?),
        AnalyticRequest::Repeats(r) => json(&hearken_query::repeats(store, scope, r)?),
        AnalyticRequest::Issues(r) => json(&hearken_query::issues(store, scope, r)?),
        AnalyticRequest::Themes(r) => json(&hearken_query::themes(store, scope, r)?),
    }
}

use ColumnType::{Bool, Float, Int, Text, Time};

/// A column and where its value is in the response: a JSON pointer into the entry (`/n`),
/// into the whole response (`^/metric`), into the entry's parent (`</topic`: a trend series
/// for its points, the dimension of a repeats row), or `#` for the entry's rank (1, 2, ...).
type Spec = (&'static str, &'static str, ColumnType);

const QUALITY: &[Spec] = &[
    ("no_data", "/no_data", Bool),
    ("small_sample", "/small_sample", Bool),
    ("degenerate", "/degenerate", Bool),
    ("warnings", "/warnings", Text),
];

/// The estimate's fields of each metric, as `hearken_engine::scores` serialises them.
fn estimate(metric: &str) -> Vec<Spec> {
    let mut s: Vec<Spec> = match metric {
        "csat" => vec![
            ("csat", "/csat", Float),
            ("low", "/low", Float),
            ("high", "/high", Float),
            ("level", "/level", Float),
            ("method", "/method", Text),
            ("n", "/n", Int),
            ("satisfied", "/satisfied", Int),
            ("unanswered", "/unanswered", Int),
        ],
        "ces" => vec![
            ("ces", "/ces", Float),
            ("low", "/low", Float),
            ("high", "/high", Float),
            ("level", "/level", Float),
            ("method", "/method", Text),
            ("sd", "/sd", Float),
            ("n", "/n", Int),
            ("unanswered", "/unanswered", Int),
        ],
        "sentiment" => vec![
            ("net_sentiment", "/net_sentiment", Float),
            ("low", "/low", Float),
            ("high", "/high", Float),
            ("level", "/level", Float),
            ("method", "/method", Text),
            ("se", "/se", Float),
            ("n", "/n", Int),
            ("positive", "/positive", Int),
            ("neutral", "/neutral", Int),
            ("negative", "/negative", Int),
            ("unscored", "/unscored", Int),
            ("mean_compound", "/mean_compound", Float),
        ],
        _ => vec![
            ("nps", "/nps", Float),
            ("low", "/low", Float),
            ("high", "/high", Float),
            ("level", "/level", Float),
            ("method", "/method", Text),
            ("se", "/se", Float),
            ("n", "/n", Int),
            ("promoters", "/promoters", Int),
            ("passives", "/passives", Int),
            ("detractors", "/detractors", Int),
            ("unanswered", "/unanswered", Int),
        ],
    };
    s.extend_from_slice(QUALITY);
    s
}

const CHANGE: &[Spec] = &[
    ("metric", "^/metric", Text),
    ("before", "/before", Float),
    ("after", "/after", Float),
    ("diff", "/diff", Float),
    ("low", "/low", Float),
    ("high", "/high", Float),
    ("level", "/level", Float),
    ("p_value", "/p_value", Float),
    ("significant", "/significant", Bool),
    ("method", "/method", Text),
    ("n_before", "/n_before", Int),
    ("n_after", "/n_after", Int),
    ("no_data", "/no_data", Bool),
    ("small_sample", "/small_sample", Bool),
    ("degenerate", "/degenerate", Bool),
    ("warnings", "/warnings", Text),
    ("baseline_low", "^/baseline/low", Float),
    ("baseline_high", "^/baseline/high", Float),
    ("selection_low", "^/selection/low", Float),
    ("selection_high", "^/selection/high", Float),
];

const PARETO: &[Spec] = &[
    ("by", "^/by", Text),
    ("rank", "#", Int),
    ("entity", "/entity", Text),
    ("name", "/name", Text),
    ("contacts", "/contacts", Int),
    ("share", "/share", Float),
    ("cumulative_share", "/cumulative_share", Float),
];

const DRIVERS: &[Spec] = &[
    ("target", "^/target", Text),
    ("aspect", "/aspect", Text),
    ("correlation", "/correlation", Float),
    ("ols_coef", "/ols/coef", Float),
    ("ols_se", "/ols/se", Float),
    ("ols_t", "/ols/t", Float),
    ("ols_p_value", "/ols/p_value", Float),
    ("ols_low", "/ols/low", Float),
    ("ols_high", "/ols/high", Float),
    ("shapley", "/shapley", Float),
    ("shapley_share", "/shapley_share", Float),
    ("relative_weight", "/relative_weight", Float),
    ("relative_weight_share", "/relative_weight_share", Float),
    ("n", "^/n", Int),
    ("r2", "^/r2", Float),
    ("adj_r2", "^/adj_r2", Float),
    ("level", "^/level", Float),
];

const TRENDS: &[Spec] = &[
    ("topic", "</topic", Text),
    ("period", "/period", Text),
    ("start", "/start", Time),
    ("count", "/count", Int),
    ("expected", "/expected", Float),
    ("low", "/low", Float),
    ("high", "/high", Float),
    ("spike", "/spike", Bool),
    ("topic_total", "</total", Int),
];

const REPEATS: &[Spec] = &[
    ("dimension", "</dimension", Text),
    ("group", "/group", Text),
    ("name", "/name", Text),
    ("eligible", "/eligible", Int),
    ("repeats", "/repeats", Int),
    ("rate", "/rate", Float),
    ("low", "/low", Float),
    ("high", "/high", Float),
    ("cost", "/cost", Float),
    ("window_days", "^/window_days", Int),
];

const ISSUES: &[Spec] = &[
    ("rank", "/rank", Int),
    ("topic", "/topic", Text),
    ("signals", "/signals", Int),
    ("negative", "/negative", Int),
    ("negative_share", "/negative_share", Float),
    ("mean_sentiment", "/mean_sentiment", Float),
    ("mean_value", "/mean_value", Float),
    ("value_factor", "/value_factor", Float),
    ("score", "/score", Float),
    ("evidence_ids", "/evidence_ids", Text),
];

const THEMES: &[Spec] = &[
    ("rank", "#", Int),
    ("size", "/size", Int),
    ("key_phrases", "/key_phrases", Text),
    ("examples", "/examples", Text),
];

/// One value of a response as a cell of type `ty`. A list or object in a text column is
/// written as JSON text (`["a","b"]`).
fn cell(v: Option<&J>, ty: ColumnType, column: &str) -> Result<Value<'static>, ExportError> {
    let bad = || ExportError::Internal(format!("column {column}: {v:?} is not {}", ty.name()));
    let Some(v) = v else { return Ok(Value::Null) };
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        Text => match v {
            J::String(s) => Value::Text(s.clone().into()),
            other => Value::Text(other.to_string().into()),
        },
        Int => Value::Int(v.as_i64().ok_or_else(bad)?),
        Float => Value::float(Some(v.as_f64().ok_or_else(bad)?)),
        Bool => Value::Bool(v.as_bool().ok_or_else(bad)?),
        Time => Value::Time(v.as_i64().ok_or_else(bad)?),
    })
}

/// Adds the rows of `entries` (each with its parent) to a table of columns `spec`.
struct Flat<'a> {
    spec: &'a [Spec],
    table: Table,
}

impl<'a> Flat<'a> {
    fn new(spec: &'a [Spec]) -> Flat<'a> {
        Flat {
            spec,
            table: Table {
                columns: spec.iter().map(|&(n, _, t)| Column::new(n, t)).collect(),
                rows: Vec::new(),
            },
        }
    }

    fn push(&mut self, root: &J, parent: &J, entry: &J, rank: usize) -> Result<(), ExportError> {
        let row = self
            .spec
            .iter()
            .map(|&(name, path, ty)| {
                if path == "#" {
                    return Ok(Value::Int(rank as i64));
                }
                let v = if let Some(p) = path.strip_prefix('^') {
                    root.pointer(p)
                } else if let Some(p) = path.strip_prefix('<') {
                    parent.pointer(p)
                } else {
                    entry.pointer(path)
                };
                cell(v, ty, name)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.table.rows.push(row);
        Ok(())
    }

    /// One row per element of the array at `pointer` in `root`.
    fn each(mut self, root: &J, pointer: &str) -> Result<Table, ExportError> {
        for (i, e) in list(root, pointer).iter().enumerate() {
            self.push(root, &J::Null, e, i + 1)?;
        }
        Ok(self.table)
    }
}

fn list<'j>(v: &'j J, pointer: &str) -> &'j [J] {
    v.pointer(pointer)
        .and_then(J::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The analytic's answer as a table, with its notes (what a reader must know about it).
pub(crate) fn table(
    store: &Store,
    scope: &Scope,
    req: &AnalyticRequest,
) -> Result<(Table, Vec<String>), ExportError> {
    let mut root = run(store, scope, req)?;
    let mut notes: Vec<String> = list(&root, "/notes")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    if let Some(p) = root.pointer("/partial/message").and_then(J::as_str) {
        notes.push(p.to_string());
    }
    let table = match req {
        AnalyticRequest::Scores(_) => {
            let metric = root["metric"].as_str().unwrap_or("nps").to_string();
            match root["kind"].as_str() {
                Some("groups") => {
                    let mut spec: Vec<Spec> = vec![
                        ("metric", "^/metric", Text),
                        ("by", "^/by", Text),
                        ("group", "/group", Text),
                        ("name", "/name", Text),
                    ];
                    spec.extend(estimate(&metric));
                    Flat::new(&spec).each(&root, "/groups")?
                }
                Some("change") => {
                    let mut f = Flat::new(CHANGE);
                    f.push(&root, &J::Null, &root["change"], 1)?;
                    f.table
                }
                _ => {
                    let mut spec: Vec<Spec> = vec![("metric", "^/metric", Text)];
                    spec.extend(estimate(&metric));
                    let mut f = Flat::new(&spec);
                    f.push(&root, &J::Null, &root, 1)?;
                    f.table
                }
            }
        }
        AnalyticRequest::Pareto(_) => Flat::new(PARETO).each(&root, "/top")?,
        AnalyticRequest::Drivers(_) => Flat::new(DRIVERS).each(&root, "/drivers")?,
        AnalyticRequest::Trends(_) => {
            let mut f = Flat::new(TRENDS);
            for series in list(&root, "/topics") {
                for (i, p) in list(series, "/points").iter().enumerate() {
                    f.push(&root, series, p, i + 1)?;
                }
            }
            f.table
        }
        AnalyticRequest::Repeats(_) => {
            let mut f = Flat::new(REPEATS);
            f.push(&root, &serde_json::json!({"dimension": "all"}), &root, 1)?;
            for (dimension, pointer) in [("topic", "/by_topic"), ("product", "/by_product")] {
                let parent = serde_json::json!({ "dimension": dimension });
                for (i, e) in list(&root, pointer).iter().enumerate() {
                    f.push(&root, &parent, e, i + 1)?;
                }
            }
            f.table
        }
        AnalyticRequest::Issues(_) => {
            if let Some(issues) = root.pointer_mut("/issues").and_then(J::as_array_mut) {
                for issue in issues {
                    let ids: Vec<J> = list(issue, "/evidence")
                        .iter()
                        .map(|e| e["id"].clone())
                        .collect();
                    issue["evidence_ids"] = J::Array(ids);
                }
            }
            Flat::new(ISSUES).each(&root, "/issues")?
        }
        AnalyticRequest::Themes(_) => Flat::new(THEMES).each(&root, "/themes")?,
    };
    Ok((table, notes))
}
