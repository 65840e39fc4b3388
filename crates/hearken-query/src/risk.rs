//! Customers at risk (issue 13): the early warning per customer as of a date, the risk model
//! learned from the organisation's churn history (stored, versioned), and the value x
//! vulnerability matrix.
//!
//! - [`risk`] scores every customer with a signal or answer before the as-of date, highest
//!   first, with reasons in words. It uses the newest stored risk model (`risk_train`) when there
//!   is one and the rule score otherwise (`method` says which); it never trains on a read. With
//!   churn in the store it reports the lead time between the first warning and the churn over
//!   the half year before the as-of date.
//! - [`risk_train`] learns a model from the churn dates in the store (customers' `churned_at`)
//!   before the as-of date and stores it as a new version, with its held-out ROC AUC.
//! - [`value`] places the scored customers in the value x vulnerability matrix.
//!
//! The rows are those of the caller's scope (and the `segment` filter): a scoped caller's
//! customers are scored on the signals and answers it may see. Training reads the whole store and
//! is refused to a scoped caller.

use std::collections::HashMap;

use hearken_engine::CustomerFrame;
use hearken_engine::clv::{self, Matrix, MatrixCustomer, MatrixOptions, ValueBasis};
use hearken_engine::risk::{
    self, CaseStep, CaseSteps, LeadTimeOptions, RiskData, RiskIndex, RiskModel, Scorer,
    TrainOptions, Trained,
};
use hearken_model::Timestamp;
use hearken_store::{NewRiskModel, RiskModelInfo, RiskStore, SignalColumns, SurveyColumns, Window};
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::names::names;
use crate::request::{By, Filters};
use crate::scope::Scope;
use crate::select::{self, window_between};

const DAY: i64 = 86_400;

/// Days before the as-of date over which the lead time is measured.
pub const LEAD_WINDOW_DAYS: i64 = 182;
/// A warning counts for a churn at most this many days before it.
pub const LEAD_LOOKBACK_DAYS: u32 = 60;
/// On each scoring day of the lead-time measurement, this share of the customers (the highest
/// scores) is warned.
pub const ALERT_SHARE: f64 = 0.05;

/// Which scorer `risk` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RiskMethod {
    /// The newest stored model when there is one, else the rules.
    #[default]
    Auto,
    /// The transparent rule score.
    Rules,
    /// The newest stored model (refused when there is none).
    Model,
}

/// Customers at risk as of a date.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct RiskRequest {
    /// Score with data strictly before this date (default: the day after the last signal or
    /// answer).
    pub as_of: Option<String>,
    /// Only the N highest scores (default: every customer with a signal or answer).
    #[cfg_attr(feature = "utoipa", param(minimum = 1))]
    pub top: Option<usize>,
    /// Only customers of this segment.
    pub segment: Option<String>,
    /// `auto` (the stored model if any, else the rules), `rules` or `model`.
    pub method: RiskMethod,
}

/// Learn a risk model from the churn history in the store.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RiskTrainRequest {
    /// Learn from churn dates before this date (default: the day after the last data).
    pub as_of: Option<String>,
    /// The model predicts churn within this many days (1 to 730).
    pub horizon_days: u32,
    /// `boosted` (default) or `logistic`.
    pub learner: Option<String>,
}

impl Default for RiskTrainRequest {
    fn default() -> RiskTrainRequest {
        RiskTrainRequest {
            as_of: None,
            horizon_days: 30,
            learner: None,
        }
    }
}

/// One customer's risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RiskRow {
    pub customer_id: String,
    /// The customer's display name, when the store has one.
    pub name: Option<String>,
    /// Higher is more at risk: rule points (`rules`) or the probability of churn within the
    /// model's horizon (`model`).
    pub score: f64,
    /// Why, in words, most important first.
    pub reasons: Vec<String>,
    /// `rules` or `model`.
    pub method: &'static str,
    pub segment: Option<String>,
    pub white_glove: bool,
    pub tenure_days: Option<f64>,
    pub value_per_year: Option<f64>,
}

/// The lead time between the first warning and the churn, measured on the churn in the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LeadTime {
    /// Scoring days from this date (weekly) to the as-of date.
    pub from: String,
    pub to: String,
    pub alert_share: f64,
    pub lookback_days: u32,
    /// Churners watched for the whole lookback, and of them those warned before they left.
    pub churners: u64,
    pub warned: u64,
    pub median_days: Option<f64>,
    pub quartile_days: Option<(f64, f64)>,
}

/// The stored model a response used or a training stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ModelView {
    pub version: i64,
    pub horizon_days: u32,
    /// Churn before this date was what it learned from.
    pub trained_until: String,
    pub learner: String,
    pub examples: u64,
    pub churners: u64,
    /// ROC AUC on the held-out as-of date (trained on the dates before it).
    pub held_out_auc: Option<f64>,
    /// ROC AUC of the rule score on the same held-out customers.
    pub held_out_rules_auc: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RiskResponse {
    /// Every figure reads data strictly before this date.
    pub as_of: String,
    /// `rules` or `model`.
    pub method: &'static str,
    pub model: Option<ModelView>,
    /// Customers scored (before `top`), highest score first in `customers`.
    pub scored: u64,
    pub customers: Vec<RiskRow>,
    /// Customers with a churn date before the as-of date (not scored).
    pub already_churned: u64,
    /// Customers with no signal or answer before the as-of date (not scored).
    pub not_yet_seen: u64,
    /// Customers whose churn date in the store is before the as-of date: the history a model
    /// learns from.
    pub churn_history: u64,
    pub lead_time: Option<LeadTime>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RiskTrainResponse {
    pub model: ModelView,
    /// How the held-out quality was measured (the training and test as-of dates).
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub quality: risk::ModelQuality,
    /// The columns the model reads and their overall weight.
    pub weights: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

/// The frames of the caller's rows, indexed for risk.
pub(crate) struct Loaded {
    pub index: RiskIndex,
    pub customers: CustomerFrame,
    pub last_data: Option<i64>,
}

fn step_of(activity: &str) -> CaseStep {
    if hearken_flow::rules::is_default_closing(activity) {
        CaseStep::Closed
    } else if hearken_flow::rules::is_default_escalation(activity) {
        CaseStep::Escalated
    } else {
        CaseStep::Other
    }
}

pub(crate) fn load(store: &dyn RiskStore, scope: &Scope, segment: Option<&str>) -> Result<Loaded> {
    let filters = Filters {
        segment: segment.map(str::to_string),
        ..Filters::default()
    };
    let s = select::signals(
        store,
        scope,
        &filters,
        None,
        SignalColumns {
            at: true,
            customer: true,
            kind: true,
            topic: true,
            case: true,
            sentiment: true,
            customer_names: true,
            case_names: true,
            ..SignalColumns::default()
        },
        true,
    )?;
    let q = select::surveys(
        store,
        scope,
        &filters,
        None,
        SurveyColumns {
            at: true,
            customer: true,
            nps: true,
            overall: true,
            customer_names: true,
            ..SurveyColumns::default()
        },
    )?;
    let customers = s.customers;
    let events = store.case_event_rows(&Window::default())?;
    let case_code: HashMap<&str, u32> = s
        .frame
        .cases
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let mut meaning: HashMap<&str, CaseStep> = HashMap::new();
    let mut cases = CaseSteps::default();
    for i in 0..events.case.len() {
        let Some(&code) = case_code.get(events.case[i].as_str()) else {
            continue;
        };
        let activity = events.activity[i].as_str();
        let step = *meaning.entry(activity).or_insert_with(|| step_of(activity));
        cases.case.push(code);
        cases.at.push(events.at[i]);
        cases.step.push(step);
    }
    let index = RiskIndex::build(&RiskData {
        signals: &s.frame,
        surveys: &q.frame,
        customers: &customers,
        cases: &cases,
    })?;
    let last_data = index.data_span().map(|(_, last)| last);
    Ok(Loaded {
        index,
        customers,
        last_data,
    })
}

/// The as-of date asked for, else the start of the day after the last data (else today's).
fn as_of(field: &'static str, value: Option<&str>, last_data: Option<i64>) -> Result<i64> {
    if let Some(v) = value {
        let w = window_between(Some(v), None, (field, "to"))?;
        // `window_between` parsed `from`; it is set.
        return Ok(w.from.unwrap_or_default());
    }
    // The day after the last signal or answer of a customer; with none, today (not 1970).
    let t = last_data.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64 - DAY)
    });
    Ok(t.div_euclid(DAY) * DAY + DAY)
}

fn date(t: i64) -> String {
    Timestamp::from_unix(t).date_string()
}

fn view(info: &RiskModelInfo, m: &RiskModel) -> ModelView {
    ModelView {
        version: info.version,
        horizon_days: info.horizon_days,
        trained_until: date(info.trained_until),
        learner: info.learner.clone(),
        examples: info.examples,
        churners: info.churners,
        held_out_auc: info.held_out_auc,
        held_out_rules_auc: m.quality.rules_auc,
    }
}

/// The newest stored model, read back.
fn stored_model(store: &dyn RiskStore) -> Result<Option<(RiskModelInfo, RiskModel)>> {
    match store.load_risk_model()? {
        None => Ok(None),
        Some((info, bytes)) => {
            let m = RiskModel::from_bytes(&bytes).map_err(|e| {
                QueryError::Refused(format!(
                    "risk model version {} cannot be read ({e}); train a new one with `hearken risk train`",
                    info.version
                ))
            })?;
            Ok(Some((info, m)))
        }
    }
}

/// Customers who churned before `as_of` and have a signal or answer (of the caller's rows)
/// before their churn: the history a model learns from and the lead time is measured on.
fn churn_before(index: &RiskIndex, as_of: i64) -> u64 {
    (0..index.customers() as u32)
        .filter(|&k| {
            index
                .churned_at(k)
                .is_some_and(|c| c < as_of && index.in_scope(k, c))
        })
        .count() as u64
}

fn check_top(top: Option<usize>) -> Result<()> {
    if top == Some(0) {
        return Err(QueryError::OutOfRange {
            field: "top",
            value: "0".into(),
            allowed: "give 1 or more customers".into(),
        });
    }
    Ok(())
}

/// What [`risk`] computes before it is cut to `top` and named.
pub(crate) struct Scored {
    pub as_of: i64,
    pub report: risk::RiskReport,
    pub model: Option<ModelView>,
    pub churn_history: u64,
    pub lead_time: Option<LeadTime>,
    pub customers: CustomerFrame,
    pub notes: Vec<String>,
}

pub(crate) fn score(
    store: &dyn RiskStore,
    scope: &Scope,
    as_of_value: Option<&str>,
    segment: Option<&str>,
    method: RiskMethod,
    lead: bool,
) -> Result<Scored> {
    let loaded = load(store, scope, segment)?;
    let as_of = as_of("as_of", as_of_value, loaded.last_data)?;
    let stored = match method {
        RiskMethod::Rules => None,
        RiskMethod::Auto | RiskMethod::Model => stored_model(store)?,
    };
    if method == RiskMethod::Model && stored.is_none() {
        return Err(QueryError::NotFound {
            what: "risk model",
            id: "newest".into(),
            hint:
                "train one from the churn history with `hearken risk train`, or use `method` rules"
                    .into(),
        });
    }
    let churn_history = churn_before(&loaded.index, as_of);
    let mut notes = Vec::new();
    let scorer = match &stored {
        Some((_, m)) => Scorer::Model(m),
        None => Scorer::Rules,
    };
    if stored.is_none() && method == RiskMethod::Auto {
        if churn_history > 0 {
            notes.push(format!(
                "{churn_history} customer(s) churned before the as-of date but no risk model is stored: these are rule scores; `hearken risk train` learns a model from that history"
            ));
        } else {
            notes.push(
                "no churn history in the store (customers' churned_at): these are rule scores (points per warning sign)".into(),
            );
        }
    }
    let report = risk::assess(&loaded.index, as_of, scorer)?;
    notes.extend(report.notes.iter().cloned());
    let lead_time = if lead && churn_history > 0 {
        let from = as_of - LEAD_WINDOW_DAYS * DAY;
        let opts = LeadTimeOptions {
            from,
            to: as_of,
            step_days: 7,
            alert_share: ALERT_SHARE,
            lookback_days: LEAD_LOOKBACK_DAYS,
        };
        let l = risk::lead_times(&loaded.index, scorer, &opts)?;
        if let Some((info, _)) = &stored
            && info.trained_until > from
        {
            notes.push(format!(
                "the lead time is measured on churn the model learned from (up to {}): it flatters the model; judge it with a model trained before {}",
                date(info.trained_until),
                date(from)
            ));
        }
        if l.churners == 0 {
            notes.push(format!(
                "no churn between {} and {} to measure the lead time on",
                date(from + i64::from(LEAD_LOOKBACK_DAYS) * DAY),
                date(as_of)
            ));
        }
        Some(LeadTime {
            from: date(from),
            to: date(as_of),
            alert_share: ALERT_SHARE,
            lookback_days: LEAD_LOOKBACK_DAYS,
            churners: l.churners,
            warned: l.warned,
            median_days: l.median_days,
            quartile_days: l.quartile_days,
        })
    } else {
        None
    };
    Ok(Scored {
        as_of,
        model: stored.as_ref().map(|(i, m)| view(i, m)),
        report,
        churn_history,
        lead_time,
        customers: loaded.customers,
        notes,
    })
}

/// Every customer with a signal or answer before the as-of date, highest risk first.
pub fn risk(store: &dyn RiskStore, scope: &Scope, req: &RiskRequest) -> Result<RiskResponse> {
    check_top(req.top)?;
    let s = score(
        store,
        scope,
        req.as_of.as_deref(),
        req.segment.as_deref(),
        req.method,
        true,
    )?;
    let method = s.report.method;
    let scored = s.report.customers.len() as u64;
    let mut rows = s.report.customers;
    if let Some(top) = req.top {
        rows.truncate(top);
    }
    let ids: Vec<&str> = rows.iter().map(|c| c.customer_id.as_str()).collect();
    let display = names(store, By::Customer, &ids)?;
    let customers = rows
        .into_iter()
        .zip(display)
        .map(|(c, name)| RiskRow {
            customer_id: c.customer_id,
            name,
            score: c.score,
            reasons: c.reasons,
            method,
            segment: c.segment,
            white_glove: c.white_glove,
            tenure_days: c.tenure_days,
            value_per_year: c.value_per_year,
        })
        .collect();
    Ok(RiskResponse {
        as_of: date(s.as_of),
        method,
        model: s.model,
        scored,
        customers,
        already_churned: s.report.already_churned,
        not_yet_seen: s.report.not_yet_seen,
        churn_history: s.churn_history,
        lead_time: s.lead_time,
        notes: s.notes,
        partial: partial(store, scope)?,
    })
}

/// Learns a risk model from the churn dates in the store before the as-of date and stores it
/// as a new version.
pub fn risk_train(
    store: &dyn RiskStore,
    scope: &Scope,
    req: &RiskTrainRequest,
) -> Result<RiskTrainResponse> {
    if scope.is_limited() {
        return Err(QueryError::StoreWide {
            what: "risk models (trained on every customer)",
        });
    }
    let learner = match req.learner.as_deref() {
        None | Some("boosted") => risk::LearnerKind::Boosted,
        Some("logistic") => risk::LearnerKind::Logistic,
        Some(other) => {
            return Err(QueryError::UnknownValue {
                field: "learner",
                what: "learner",
                value: other.to_string(),
                known: vec!["boosted".into(), "logistic".into()],
                total: 2,
            });
        }
    };
    if !(1..=730).contains(&req.horizon_days) {
        return Err(QueryError::OutOfRange {
            field: "horizon_days",
            value: req.horizon_days.to_string(),
            allowed: "give 1 to 730 days".into(),
        });
    }
    let loaded = load(store, scope, None)?;
    let as_of = as_of("as_of", req.as_of.as_deref(), loaded.last_data)?;
    let opts = TrainOptions {
        horizon_days: req.horizon_days,
        learner,
        ..TrainOptions::default()
    };
    let model = match risk::train(&loaded.index, as_of, &opts)? {
        Trained::Model(m) => m,
        Trained::NoHistory {
            churners,
            needed,
            note,
        } => {
            return Err(QueryError::NoData {
                message: format!(
                    "too little churn history to learn from: {churners} churner(s) before {}, {needed} needed ({note})",
                    date(as_of)
                ),
                hint: "import customers with their churned_at dates, or keep using the rule score (`hearken risk`)".into(),
            });
        }
    };
    let learner_name = match model.learner {
        risk::Learner::Boosted(_) => "boosted",
        risk::Learner::Logistic(_) => "logistic",
    };
    let bytes = model.to_bytes();
    let version = store.save_risk_model(&NewRiskModel {
        horizon_days: model.horizon_days,
        trained_until: model.trained_until,
        learner: learner_name,
        examples: model.quality.examples,
        churners: model.quality.churners,
        held_out_auc: model.quality.auc,
        bytes: &bytes,
    })?;
    let info = RiskModelInfo {
        version,
        created_at: 0,
        horizon_days: model.horizon_days,
        trained_until: model.trained_until,
        learner: learner_name.into(),
        examples: model.quality.examples,
        churners: model.quality.churners,
        held_out_auc: model.quality.auc,
    };
    Ok(RiskTrainResponse {
        model: view(&info, &model),
        weights: model.weights_by_column(),
        notes: model.quality.notes.clone(),
        quality: model.quality.clone(),
    })
}

/// How value is measured in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ValueBase {
    /// `value_per_year` as imported.
    #[default]
    ValuePerYear,
    /// Customer lifetime value `m r / (1 + d - r)`.
    Clv,
}

/// The value x vulnerability matrix.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct ValueRequest {
    /// Score with data strictly before this date (default: the day after the last data).
    pub as_of: Option<String>,
    /// Only customers of this segment.
    pub segment: Option<String>,
    /// `value_per_year` (default) or `clv`.
    pub value: ValueBase,
    /// CLV: share of value_per_year that is margin, in (0, 1].
    pub margin: f64,
    /// CLV: yearly retention in [0, 1) (default: observed over the year before the as-of date).
    pub retention: Option<f64>,
    /// CLV: yearly discount rate.
    pub discount: f64,
    /// High value above this (default: the median of the customers placed).
    pub value_threshold: Option<f64>,
    /// At risk above this score (default: the median).
    pub risk_threshold: Option<f64>,
    /// Customers who joined fewer than this many days before the as-of date are new.
    #[cfg_attr(feature = "utoipa", param(minimum = 1))]
    pub new_days: u32,
    /// Customers listed per quadrant (highest risk first; counts are of all).
    #[cfg_attr(feature = "utoipa", param(minimum = 1))]
    pub limit: usize,
}

impl Default for ValueRequest {
    fn default() -> ValueRequest {
        ValueRequest {
            as_of: None,
            segment: None,
            value: ValueBase::ValuePerYear,
            margin: 1.0,
            retention: None,
            discount: 0.1,
            value_threshold: None,
            risk_threshold: None,
            new_days: 365,
            limit: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ValueResponse {
    pub as_of: String,
    /// The risk score's method: `rules` or `model`.
    pub method: &'static str,
    /// The yearly retention used for CLV and where it came from.
    pub retention: Option<f64>,
    pub retention_from: Option<&'static str>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub matrix: Matrix,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// The value x vulnerability matrix of the customers scored as of the date.
pub fn value(store: &dyn RiskStore, scope: &Scope, req: &ValueRequest) -> Result<ValueResponse> {
    if req.new_days == 0 {
        return Err(QueryError::OutOfRange {
            field: "new_days",
            value: "0".into(),
            allowed: "give 1 or more days".into(),
        });
    }
    if req.limit == 0 {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: "0".into(),
            allowed: "give 1 or more customers".into(),
        });
    }
    if req.value == ValueBase::ValuePerYear && req.retention.is_some() {
        return Err(QueryError::Conflict {
            message: "`retention` is used only with `value` clv".into(),
            hint: "add `value` clv, or leave `retention` out".into(),
        });
    }
    let s = score(
        store,
        scope,
        req.as_of.as_deref(),
        req.segment.as_deref(),
        RiskMethod::Auto,
        false,
    )?;
    let mut notes = s.notes;
    let (basis, retention, retention_from) = match req.value {
        ValueBase::ValuePerYear => (ValueBasis::ValuePerYear, None, None),
        ValueBase::Clv => {
            let (r, from) = match req.retention {
                Some(r) => (r, "given"),
                None => {
                    let observed =
                        clv::observed_retention(&s.customers, s.as_of - 365 * DAY, s.as_of)
                            .filter(|r| r.churned > 0 || r.customers > 0);
                    match observed {
                        Some(r) if r.yearly < 1.0 => (r.yearly, "observed"),
                        _ => {
                            return Err(QueryError::NoData {
                                message: "no churn observed in the year before the as-of date, so the retention for CLV is unknown".into(),
                                hint: "give `retention` (e.g. 0.85), or import customers with their churned_at dates".into(),
                            });
                        }
                    }
                }
            };
            (
                ValueBasis::Clv {
                    margin: req.margin,
                    retention: r,
                    discount: req.discount,
                },
                Some(r),
                Some(from),
            )
        }
    };
    let opts = MatrixOptions {
        value: basis,
        value_threshold: req.value_threshold,
        risk_threshold: req.risk_threshold,
        new_days: req.new_days,
    };
    let rows = MatrixCustomer::from_report(&s.report);
    let mut matrix = clv::matrix(&rows, &opts)?;
    for q in &mut matrix.quadrants {
        if q.customers.len() > req.limit {
            notes.push(format!(
                "{}: {} customers, the {} at highest risk listed",
                q.key, q.count, req.limit
            ));
            q.customers.truncate(req.limit);
        }
    }
    if matrix.no_value.len() > req.limit {
        notes.push(format!(
            "{} customers without a value, the first {} listed",
            matrix.no_value.len(),
            req.limit
        ));
        matrix.no_value.truncate(req.limit);
    }
    notes.append(&mut matrix.notes);
    Ok(ValueResponse {
        as_of: date(s.as_of),
        method: s.report.method,
        retention,
        retention_from,
        matrix,
        notes,
        partial: partial(store, scope)?,
    })
}
