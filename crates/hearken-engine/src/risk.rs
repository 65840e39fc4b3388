//! Customers at risk: an early warning per customer, computed **as of a date** from data
//! strictly before it, so that every score can be judged against what happened after.
//!
//! - [`RiskIndex::build`] sorts what the frames say about each customer once: contacts
//!   (signals), survey answers, cases and their steps, and the customer's attributes.
//! - [`RiskIndex::features`] reads a customer's [`Features`] as of a date: recent negative
//!   signals, detractor answers, open and escalated cases, repeat contacts on one topic, silence
//!   after a complaint, activity against the customer's own rhythm, tenure, segment. Only rows
//!   with `at < as_of` are read, and only churn dates before `as_of` (to leave out customers
//!   already gone): what happens on or after the as-of date cannot change a feature.
//! - Two scorers, both with reasons in words: the transparent [`rules`] (points per warning sign)
//!   and a [`model`] learned from the organisation's own churn history (L2-regularised logistic
//!   regression, trained on earlier as-of dates only, versioned bytes, held-out ROC AUC with its
//!   split). [`assess`] scores every customer with signals; [`eval`] has the ROC AUC and the lead
//!   time between the first warning and the churn.
//!
//! Times are UTC seconds. A customer is *in scope* at `as_of` when it has a signal or a survey
//! answer before `as_of` and no churn date before `as_of`.

pub mod boost;
pub mod eval;
pub mod features;
pub mod model;
pub mod rules;

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result, same_len};
use crate::frame::{CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
use crate::scores::{MISSING_SCORE, NEGATIVE_AT};

pub use boost::BoostOptions;
pub use eval::{LeadTimeOptions, LeadTimes, auc, labels, lead_times};
pub use features::Features;
pub use model::{
    Learner, LearnerKind, ModelQuality, RiskModel, Split, TrainOptions, Trained, train,
};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// What one case event means for risk. Callers map their activity names (e.g. with
/// hearken-flow's closing and escalation rules); the engine knows no names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStep {
    /// Any other step: the case is (again) being worked on.
    Other,
    Escalated,
    /// The case is resolved or closed (until a later step reopens it).
    Closed,
}

/// Case events, by the signal frame's case codes.
#[derive(Debug, Clone, Default)]
pub struct CaseSteps {
    pub case: Vec<u32>,
    pub at: Vec<i64>,
    pub step: Vec<CaseStep>,
}

impl CaseSteps {
    /// The steps of case events whose activities are names: `classify` says what each name
    /// means (called once per distinct activity).
    pub fn from_activities(
        events: &crate::cost::CaseActivities,
        classify: impl Fn(&str) -> CaseStep,
    ) -> CaseSteps {
        let meaning: Vec<CaseStep> = events
            .activities
            .names
            .iter()
            .map(|a| classify(a))
            .collect();
        CaseSteps {
            case: events.case.clone(),
            at: events.at.clone(),
            step: events
                .activity
                .iter()
                .map(|&a| meaning.get(a as usize).copied().unwrap_or(CaseStep::Other))
                .collect(),
        }
    }
}

/// The frames a risk analysis reads. The signal and survey frames must code customers the same
/// way as the customer frame (the store's snapshot does: codes are customer row ids - 1).
/// Signal columns read: `at`, `customer`, `kind`, `topic`, `case`, `sentiment`; survey columns:
/// `at`, `customer`, `nps`, `overall` (an empty column counts as all missing).
#[derive(Debug, Clone, Copy)]
pub struct RiskData<'a> {
    pub signals: &'a SignalFrame,
    pub surveys: &'a SurveyFrame,
    pub customers: &'a CustomerFrame,
    pub cases: &'a CaseSteps,
}

/// One contact as the risk features read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Contact {
    pub at: i64,
    pub sentiment: f32,
    pub kind: u8,
    pub topic: u32,
    pub repeat: bool,
}

impl Contact {
    pub fn negative(&self) -> bool {
        self.sentiment <= NEGATIVE_AT
    }
}

/// A case as the features read it: when it opened (its first event or signal), when it was
/// first tied to the customer (its first signal naming the customer: before that, the data did
/// not say whose case it was), and its steps.
#[derive(Debug, Clone)]
pub(crate) struct CaseSpan {
    pub opened: i64,
    pub linked: i64,
    pub steps: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer {
    pub at: i64,
    pub nps: u8,
    pub overall: f32,
}

/// Every customer's contacts, answers and cases in time order, and its attributes.
#[derive(Debug, Clone)]
pub struct RiskIndex {
    pub(crate) n: usize,
    pub(crate) contact_start: Vec<usize>,
    pub(crate) contacts: Vec<Contact>,
    /// Prefix sums over `contacts`: negative contacts, scored contacts, sum of sentiment.
    pub(crate) neg_prefix: Vec<u32>,
    pub(crate) scored_prefix: Vec<u32>,
    pub(crate) sent_prefix: Vec<f64>,
    pub(crate) answer_start: Vec<usize>,
    pub(crate) answers: Vec<Answer>,
    pub(crate) case_start: Vec<usize>,
    /// Per customer, its cases in order of opening.
    pub(crate) cases: Vec<CaseSpan>,
    pub(crate) steps: Vec<(i64, CaseStep)>,
    pub(crate) segment: Vec<u32>,
    pub(crate) since: Vec<i64>,
    pub(crate) value: Vec<f64>,
    pub(crate) white_glove: Vec<bool>,
    pub(crate) churned_at: Vec<i64>,
    pub(crate) names: Vec<String>,
    pub(crate) segments: Dict,
    pub(crate) topics: Dict,
    pub(crate) first_data: Option<i64>,
    pub(crate) last_data: Option<i64>,
}

/// Window within which a contact on the same topic counts as a repeat (as `hearken repeats`).
pub const REPEAT_WINDOW_DAYS: u32 = 7;

fn len_or(v: usize, n: usize, column: &'static str) -> Result<()> {
    if v == 0 {
        Ok(())
    } else {
        same_len(column, v, "at", n)
    }
}

impl RiskIndex {
    /// Sorts the frames by customer and time. Errors only on columns of different lengths.
    pub fn build(data: &RiskData<'_>) -> Result<RiskIndex> {
        let s = data.signals;
        let ns = s.at.len();
        same_len("signals.customer", s.customer.len(), "signals.at", ns)?;
        len_or(s.kind.len(), ns, "signals.kind")?;
        len_or(s.topic.len(), ns, "signals.topic")?;
        len_or(s.case.len(), ns, "signals.case")?;
        len_or(s.sentiment.len(), ns, "signals.sentiment")?;
        let q = data.surveys;
        let nq = q.at.len();
        same_len("surveys.customer", q.customer.len(), "surveys.at", nq)?;
        len_or(q.nps.len(), nq, "surveys.nps")?;
        len_or(q.overall.len(), nq, "surveys.overall")?;
        let c = data.cases;
        same_len("cases.step", c.step.len(), "cases.at", c.at.len())?;
        same_len("cases.case", c.case.len(), "cases.at", c.at.len())?;
        let cf = data.customers;
        for (name, len) in [
            ("customers.persona", cf.persona.len()),
            ("customers.since", cf.since.len()),
            ("customers.value_per_year", cf.value_per_year.len()),
            ("customers.white_glove", cf.white_glove.len()),
            ("customers.churned_at", cf.churned_at.len()),
        ] {
            if len != 0 {
                same_len(name, len, "customers.segment", cf.segment.len())?;
            }
        }

        let max_code = |v: &[u32]| {
            v.iter()
                .filter(|&&c| c != NONE)
                .max()
                .map_or(0, |&c| c as usize + 1)
        };
        let n = [
            cf.segment.len(),
            s.customers.len(),
            q.customers.len(),
            max_code(&s.customer),
            max_code(&q.customer),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);

        let topic = |r: usize| s.topic.get(r).copied().unwrap_or(NONE);
        let repeats = if s.topic.is_empty() {
            vec![None; ns]
        } else {
            crate::repeats::repeat_flags(
                &s.at,
                &s.customer,
                &s.topic,
                n,
                s.topics.len().max(max_code(&s.topic)),
                REPEAT_WINDOW_DAYS,
            )?
        };

        // Contacts by customer, in time order (row order for ties).
        let (contact_start, order) = bucket(&s.customer, n, &s.at);
        let contacts: Vec<Contact> = order
            .iter()
            .map(|&r| Contact {
                at: s.at[r],
                sentiment: s.sentiment.get(r).copied().unwrap_or(f32::NAN),
                kind: s.kind.get(r).copied().unwrap_or(0),
                topic: topic(r),
                repeat: repeats[r] == Some(true),
            })
            .collect();
        let mut neg_prefix = Vec::with_capacity(contacts.len() + 1);
        let mut scored_prefix = Vec::with_capacity(contacts.len() + 1);
        let mut sent_prefix = Vec::with_capacity(contacts.len() + 1);
        let (mut a, mut b, mut t) = (0u32, 0u32, 0f64);
        neg_prefix.push(0);
        scored_prefix.push(0);
        sent_prefix.push(0.0);
        for ct in &contacts {
            if !ct.sentiment.is_nan() {
                b += 1;
                t += f64::from(ct.sentiment);
                a += u32::from(ct.negative());
            }
            neg_prefix.push(a);
            scored_prefix.push(b);
            sent_prefix.push(t);
        }

        let (answer_start, order) = bucket(&q.customer, n, &q.at);
        let answers: Vec<Answer> = order
            .iter()
            .map(|&r| Answer {
                at: q.at[r],
                nps: q.nps.get(r).copied().unwrap_or(MISSING_SCORE),
                overall: q.overall.get(r).copied().unwrap_or(f32::NAN),
            })
            .collect();

        // Cases: each belongs to the customer of its earliest signal that names one, and is
        // known to be that customer's from that signal's time on; its steps in time order.
        let n_cases = max_code(&s.case).max(max_code(&c.case)).max(s.cases.len());
        let mut case_customer = vec![NONE; n_cases];
        let mut case_link = vec![i64::MAX; n_cases];
        let mut case_first_signal = vec![i64::MAX; n_cases];
        for r in 0..s.case.len() {
            let k = s.case[r];
            if k == NONE {
                continue;
            }
            let k = k as usize;
            case_first_signal[k] = case_first_signal[k].min(s.at[r]);
            if s.customer[r] != NONE && s.at[r] < case_link[k] {
                case_link[k] = s.at[r];
                case_customer[k] = s.customer[r];
            }
        }
        let (step_start, step_order) = bucket(&c.case, n_cases, &c.at);
        let steps: Vec<(i64, CaseStep)> =
            step_order.iter().map(|&r| (c.at[r], c.step[r])).collect();
        let opened: Vec<i64> = (0..n_cases)
            .map(|k| {
                let (lo, hi) = (step_start[k], step_start[k + 1]);
                let first_event = if lo < hi { steps[lo].0 } else { i64::MAX };
                first_event.min(case_first_signal[k])
            })
            .collect();
        let (case_start, case_order) = bucket(&case_customer, n, &opened);
        let cases: Vec<CaseSpan> = case_order
            .iter()
            .map(|&k| CaseSpan {
                opened: opened[k],
                linked: case_link[k],
                steps: step_start[k]..step_start[k + 1],
            })
            .collect();

        let attr = |v: &Vec<i64>, i: usize| v.get(i).copied().unwrap_or(i64::MIN);
        let names: Vec<String> = (0..n)
            .map(|i| {
                s.customers
                    .name(i as u32)
                    .or_else(|| q.customers.name(i as u32))
                    .map_or_else(|| format!("#{i}"), str::to_string)
            })
            .collect();
        let times =
            s.at.iter()
                .zip(&s.customer)
                .chain(q.at.iter().zip(&q.customer));
        let (mut first_data, mut last_data) = (None::<i64>, None::<i64>);
        for (&at, &cu) in times {
            if cu != NONE {
                first_data = Some(first_data.map_or(at, |f| f.min(at)));
                last_data = Some(last_data.map_or(at, |l| l.max(at)));
            }
        }
        Ok(RiskIndex {
            n,
            contact_start,
            contacts,
            neg_prefix,
            scored_prefix,
            sent_prefix,
            answer_start,
            answers,
            case_start,
            cases,
            steps,
            segment: (0..n)
                .map(|i| cf.segment.get(i).copied().unwrap_or(NONE))
                .collect(),
            since: (0..n).map(|i| attr(&cf.since, i)).collect(),
            value: (0..n)
                .map(|i| cf.value_per_year.get(i).copied().unwrap_or(f64::NAN))
                .collect(),
            white_glove: (0..n)
                .map(|i| cf.white_glove.get(i).copied().unwrap_or(false))
                .collect(),
            churned_at: (0..n).map(|i| attr(&cf.churned_at, i)).collect(),
            names,
            segments: cf.segments.clone(),
            topics: s.topics.clone(),
            first_data,
            last_data,
        })
    }

    /// Customer codes (`0..customers()`).
    pub fn customers(&self) -> usize {
        self.n
    }

    /// The customer's external id (`#code` when the frames carried no names).
    pub fn name(&self, customer: u32) -> &str {
        self.names.get(customer as usize).map_or("", String::as_str)
    }

    /// The earliest and latest time of a customer's signal or answer.
    pub fn data_span(&self) -> Option<(i64, i64)> {
        self.first_data.zip(self.last_data)
    }

    /// The churn date the customer frame gives (`None` when not churned or unknown).
    pub fn churned_at(&self, customer: u32) -> Option<i64> {
        self.churned_at
            .get(customer as usize)
            .copied()
            .filter(|&c| c != i64::MIN)
    }

    /// Whether the customer is scored at `as_of`: it has a signal or an answer before `as_of`
    /// and no churn date before `as_of`.
    pub fn in_scope(&self, customer: u32, as_of: i64) -> bool {
        let k = customer as usize;
        if k >= self.n || self.churned_at(customer).is_some_and(|c| c < as_of) {
            return false;
        }
        let seen = |start: &[usize], at: &dyn Fn(usize) -> i64| {
            start[k] < start[k + 1] && at(start[k]) < as_of
        };
        seen(&self.contact_start, &|i| self.contacts[i].at)
            || seen(&self.answer_start, &|i| self.answers[i].at)
    }

    /// Customers with a churn date before `as_of`, and customers with no signal or answer
    /// before it.
    pub fn out_of_scope(&self, as_of: i64) -> (u64, u64) {
        let mut churned = 0;
        let mut unseen = 0;
        for k in 0..self.n as u32 {
            if self.churned_at(k).is_some_and(|c| c < as_of) {
                churned += 1;
            } else if !self.in_scope(k, as_of) {
                unseen += 1;
            }
        }
        (churned, unseen)
    }
}

/// A counting sort of rows by `key` (rows with [`NONE`] or out-of-range keys left out), each
/// bucket in `(at, row)` order. Returns bucket starts (`n + 1`) and the rows.
fn bucket(key: &[u32], n: usize, at: &[i64]) -> (Vec<usize>, Vec<usize>) {
    let mut start = vec![0usize; n + 1];
    for &k in key {
        if (k as usize) < n {
            start[k as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut rows = vec![0usize; start[n]];
    for (r, &k) in key.iter().enumerate() {
        if (k as usize) < n {
            rows[fill[k as usize]] = r;
            fill[k as usize] += 1;
        }
    }
    for i in 0..n {
        let b = &mut rows[start[i]..start[i + 1]];
        if !b.is_sorted_by_key(|&r| at[r]) {
            b.sort_by_key(|&r| (at[r], r));
        }
    }
    (start, rows)
}

/// Which scorer to use.
#[derive(Debug, Clone, Copy)]
pub enum Scorer<'m> {
    Rules,
    Model(&'m RiskModel),
}

/// One customer's risk as of the date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRisk {
    pub customer_id: String,
    /// The customer's code in the frames.
    pub code: u32,
    /// Higher is more at risk: rule points (rules) or the probability of churn within the
    /// horizon (model).
    pub score: f64,
    /// Why, in words, most important first; empty when nothing points to a risk.
    pub reasons: Vec<String>,
    pub segment: Option<String>,
    pub white_glove: bool,
    /// Days since the customer joined, when known.
    pub tenure_days: Option<f64>,
    pub value_per_year: Option<f64>,
}

/// What [`assess`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskReport {
    /// The as-of date (UTC seconds): every figure reads data strictly before it.
    pub as_of: i64,
    /// `rules` or `model`.
    pub method: &'static str,
    /// The model's horizon in days (the rules have none).
    pub horizon_days: Option<u32>,
    /// Every customer in scope, highest score first (ties by customer id).
    pub customers: Vec<CustomerRisk>,
    /// Customers with a churn date before the as-of date (not scored).
    pub already_churned: u64,
    /// Customers with no signal or answer before the as-of date (not scored).
    pub not_yet_seen: u64,
    pub notes: Vec<String>,
}

/// Scores every customer in scope at `as_of` with reasons, highest first.
pub fn assess(index: &RiskIndex, as_of: i64, scorer: Scorer<'_>) -> Result<RiskReport> {
    let mut notes = Vec::new();
    let (method, horizon) = match scorer {
        Scorer::Rules => ("rules", None),
        Scorer::Model(m) => ("model", Some(m.horizon_days)),
    };
    let mut customers = Vec::new();
    for k in 0..index.n as u32 {
        if !index.in_scope(k, as_of) {
            continue;
        }
        let f = index.features(k, as_of);
        let (score, reasons) = match scorer {
            Scorer::Rules => {
                let r = rules::score(&f);
                (r.points, r.reasons(&f, index))
            }
            Scorer::Model(m) => m.explain(&f, index),
        };
        customers.push(CustomerRisk {
            customer_id: index.name(k).to_string(),
            code: k,
            score,
            reasons,
            segment: index.segments.name(f.segment).map(str::to_string),
            white_glove: f.white_glove,
            tenure_days: (!f.tenure_days.is_nan()).then_some(f.tenure_days),
            value_per_year: (!f.value_per_year.is_nan()).then_some(f.value_per_year),
        });
    }
    customers.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    let (already_churned, not_yet_seen) = index.out_of_scope(as_of);
    match index.data_span() {
        None => notes.push("no data: no signal or survey answer names a customer".into()),
        Some((first, _)) if as_of <= first => notes.push(format!(
            "no data before the as-of date {}: the first signal or answer is on {}; choose a later date",
            date(as_of),
            date(first)
        )),
        Some((_, last)) if as_of > last + DAY => notes.push(format!(
            "the as-of date {} is {} days after the last data ({}): every customer looks silent, so silence says less",
            date(as_of),
            (as_of - last) / DAY,
            date(last)
        )),
        _ => {}
    }
    if let Scorer::Model(m) = scorer
        && as_of < m.trained_until
    {
        notes.push(format!(
            "the model learned from churn up to {}, after the as-of date {}: judge these scores against later churn only with a model trained before the as-of date",
            date(m.trained_until),
            date(as_of)
        ));
    }
    Ok(RiskReport {
        as_of,
        method,
        horizon_days: horizon,
        customers,
        already_churned,
        not_yet_seen,
        notes,
    })
}

/// `YYYY-MM-DD` of a UTC time.
pub(crate) fn date(t: i64) -> String {
    hearken_model::Timestamp::from_unix(t).date_string()
}

/// The error of an option outside its range.
pub(crate) fn bad_option(name: &'static str, reason: impl Into<String>) -> EngineError {
    EngineError::BadOption {
        name,
        reason: reason.into(),
    }
}
