//! Key drivers: how much of overall satisfaction (or likelihood to recommend) each survey aspect
//! explains, and beside them the internal KPIs of the responses' cases.

use hearken_engine::drivers::{
    DriverOptions, Drivers, KpiLink, Target, key_drivers, kpi_links, moments,
};
use hearken_engine::{Level, SurveyFrame};
use hearken_store::{FrameSource, SurveyColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::request::{DriverTarget, request};
use crate::scope::Scope;
use crate::select::{self, unknown};

request! {
    /// What drives satisfaction, from the survey responses' aspect ratings.
    pub struct DriversRequest {
        /// What the aspects should explain.
        pub target: DriverTarget = DriverTarget::Overall,
        /// The aspect that stands for customer service (default: the one named like "service").
        pub service: Option<String> = None,
        /// Confidence level of the intervals, a fraction in (0, 1).
        #[cfg_attr(feature = "utoipa", param(exclusive_minimum = 0, exclusive_maximum = 1))]
        pub level: f64 = 0.9,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct DriversResponse {
    pub target: DriverTarget,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub drivers: Drivers,
    /// Time to first answer, handle time and events of each response's case against the
    /// target; empty when no response has a case with events.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub kpis: Vec<KpiLink>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

pub fn drivers(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &DriversRequest,
) -> Result<DriversResponse> {
    crate::cache::answer(
        store,
        scope,
        "drivers",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| drivers(s, sc, r)),
    )
}

/// [`drivers`] computed (not from the answer cache).
fn compute(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &DriversRequest,
) -> Result<DriversResponse> {
    let level = Level::new(req.level)?;
    let select::Surveys { frame: f, .. } = select::surveys(
        store,
        scope,
        &req.filters(),
        None,
        SurveyColumns {
            overall: true,
            nps: true,
            aspects: true,
            case: true,
            ..SurveyColumns::default()
        },
    )?;
    if f.aspects.is_empty() {
        return Err(QueryError::NoData {
            message: format!(
                "none of the {} survey responses in this selection has aspect ratings",
                f.len()
            ),
            hint: "import surveys with aspect_* columns (one rating per aspect), or widen the selection"
                .into(),
        });
    }
    let names: Vec<&str> = f.aspects.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(s) = &req.service
        && !names.contains(&s.as_str())
    {
        return Err(unknown("service", "aspect", s, names.iter().copied()));
    }
    let columns: Vec<&[f32]> = f.aspects.iter().map(|(_, v)| v.as_slice()).collect();
    let target = match req.target {
        DriverTarget::Overall => Target::Rating(&f.overall),
        DriverTarget::Nps => Target::Score(&f.nps),
    };
    let m = moments(target, &columns, 0..f.len())?;
    let opts = DriverOptions {
        level,
        service: req.service.clone(),
        ..DriverOptions::default()
    };
    let d = key_drivers(&m, &names, &opts)?;
    let kpis = internal_kpis(store, &f, target, level)?;
    Ok(DriversResponse {
        target: req.target,
        drivers: d,
        kpis,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })
}

/// Time to first answer, handle time and events of each response's case (from the case events
/// in the store) against the target; empty when no response has a case with events.
fn internal_kpis(
    store: &dyn FrameSource,
    f: &SurveyFrame,
    target: Target<'_>,
    level: Level,
) -> Result<Vec<KpiLink>> {
    if f.case.len() != f.len() {
        return Ok(Vec::new());
    }
    let k = store.snapshot_case_kpis()?;
    if k.events.iter().all(|&e| e == 0) {
        return Ok(Vec::new());
    }
    let hours = |a: i64, b: i64| {
        if a == i64::MIN || b == i64::MIN {
            f32::NAN
        } else {
            (b - a) as f32 / 3600.0
        }
    };
    let n = f.case.len();
    let (mut first_answer, mut handle, mut events) =
        (vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n]);
    for (row, &c) in f.case.iter().enumerate() {
        let c = c as usize;
        if k.events.get(c).is_none_or(|&e| e == 0) {
            continue;
        }
        first_answer[row] = hours(k.first_at[c], k.first_agent_at[c]);
        handle[row] = hours(k.first_at[c], k.last_at[c]);
        events[row] = k.events[c] as f32;
    }
    Ok(kpi_links(
        target,
        &[
            ("hours to first answer", &first_answer),
            ("handle hours", &handle),
            ("case events", &events),
        ],
        level,
    )?)
}
