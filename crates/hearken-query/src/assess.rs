//! The customer-focus self-assessment (issue 13): units of the organisation answer a
//! questionnaire (Hearken's default, or the TOML file named in `hearken.toml`'s `[assess]`
//! section) for intention ("say") and practice ("do"); [`assess_import`] checks one unit's
//! answers and stores them, [`assess_report`] gives the say-do gap per area and overall, the
//! external performance levels and each unit's quartile against the organisation's other and
//! earlier assessments.
//!
//! The questionnaire and the list of known units are configuration: the surface puts them in the
//! request's `settings` (never read from a query string). Assessments belong to units, not to
//! segments or teams, so a caller with a data scope cannot see them (`out_of_scope`).

use hearken_engine::assess::{self, AssessError, Assessment, AssessmentReport, Questionnaire};
use hearken_store::RiskStore;
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::scope::Scope;

/// The questionnaire and the organisation's units.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessSettings {
    pub questionnaire: Questionnaire,
    /// The units that may answer; empty: any unit.
    pub units: Vec<String>,
}

impl Default for AssessSettings {
    fn default() -> AssessSettings {
        AssessSettings {
            questionnaire: Questionnaire::default_questionnaire(),
            units: Vec::new(),
        }
    }
}

/// One unit's answers to store.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AssessImportRequest {
    /// The assessment as TOML (`unit`, `date`, `[answers]`).
    pub text: String,
    /// Where the text came from, for messages (a file name).
    pub source: String,
    #[serde(skip)]
    pub settings: AssessSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessImportResponse {
    pub unit: String,
    pub date: String,
    pub questionnaire: String,
    pub questionnaire_version: u32,
    pub items: usize,
    /// An earlier import of the same unit and date was replaced.
    pub replaced: bool,
}

/// Which assessments to report.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct AssessReportRequest {
    /// Only this unit (default: every unit's latest assessment).
    pub unit: Option<String>,
    /// Every assessment of the unit(s), not only the latest.
    pub all: bool,
    #[serde(skip)]
    pub settings: AssessSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AssessReportResponse {
    pub questionnaire: String,
    pub questionnaire_version: u32,
    /// Assessments in the store answered to this questionnaire.
    pub assessments: u64,
    /// One report per unit (its latest assessment, or every one with `all`), by unit then date.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub reports: Vec<AssessmentReport>,
    pub notes: Vec<String>,
}

fn refused(source: &str, e: AssessError) -> QueryError {
    // Backticks in a message mark request fields (the CLI shows them as flags); units and items
    // are not fields.
    let e = e.to_string().replace('`', "'");
    QueryError::Conflict {
        message: if source.is_empty() {
            e
        } else {
            format!("{source}: {e}")
        },
        hint: "fix the answers (or the questionnaire) and import them again".into(),
    }
}

pub fn assess_import(
    store: &dyn RiskStore,
    scope: &Scope,
    req: &AssessImportRequest,
) -> Result<AssessImportResponse> {
    if scope.is_limited() {
        return Err(QueryError::StoreWide {
            what: "self-assessments",
        });
    }
    let q = &req.settings.questionnaire;
    let a = Assessment::from_toml(&req.text).map_err(|e| refused(&req.source, e))?;
    a.check(q, &req.settings.units)
        .map_err(|e| refused(&req.source, e))?;
    let replaced = store.save_assessment(&a.unit, &a.date, &q.name, q.version, &req.text)?;
    Ok(AssessImportResponse {
        unit: a.unit,
        date: a.date,
        questionnaire: q.name.clone(),
        questionnaire_version: q.version,
        items: a.answers.len(),
        replaced,
    })
}

pub fn assess_report(
    store: &dyn RiskStore,
    scope: &Scope,
    req: &AssessReportRequest,
) -> Result<AssessReportResponse> {
    if scope.is_limited() {
        return Err(QueryError::StoreWide {
            what: "self-assessments",
        });
    }
    let q = &req.settings.questionnaire;
    let stored = store.assessments()?;
    let mut notes = Vec::new();
    let (same, other): (Vec<_>, Vec<_>) = stored
        .into_iter()
        .partition(|s| s.questionnaire == q.name && s.questionnaire_version == q.version);
    if !other.is_empty() {
        notes.push(format!(
            "{} assessment(s) answered another questionnaire (or version) are left out",
            other.len()
        ));
    }
    let mut history = Vec::with_capacity(same.len());
    for s in &same {
        let source = format!("stored assessment of '{}' ({})", s.unit, s.date);
        history.push(Assessment::from_toml(&s.answers).map_err(|e| refused(&source, e))?);
    }
    if let Some(unit) = &req.unit
        && !history.iter().any(|a| &a.unit == unit)
    {
        let mut known: Vec<String> = history.iter().map(|a| a.unit.clone()).collect();
        known.sort_unstable();
        known.dedup();
        let total = known.len();
        return Err(QueryError::UnknownValue {
            field: "unit",
            what: "unit",
            value: unit.clone(),
            known,
            total,
        });
    }
    if history.is_empty() {
        notes.push(
            "no assessments stored: import a unit's answers with `hearken assess import FILE`"
                .into(),
        );
    }
    // `history` is in date order (the store's), so the last of a unit is its latest.
    let mut chosen: Vec<&Assessment> = Vec::new();
    for (i, a) in history.iter().enumerate() {
        if req.unit.as_ref().is_some_and(|u| u != &a.unit) {
            continue;
        }
        let latest = !history[i + 1..].iter().any(|b| b.unit == a.unit);
        if req.all || latest {
            chosen.push(a);
        }
    }
    chosen.sort_by(|a, b| a.unit.cmp(&b.unit).then_with(|| a.date.cmp(&b.date)));
    let mut reports = Vec::with_capacity(chosen.len());
    for a in chosen {
        // Units are checked at import; a unit since removed from the list is still reported.
        reports.push(assess::report(q, a, &history, &[]).map_err(|e| refused("", e))?);
    }
    Ok(AssessReportResponse {
        questionnaire: q.name.clone(),
        questionnaire_version: q.version,
        assessments: history.len() as u64,
        reports,
        notes,
    })
}
