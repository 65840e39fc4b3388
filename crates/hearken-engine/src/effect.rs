//! The measured effect of an improvement action: how a metric moved from the window before the
//! action's date to the window after it, with its interval and p-value, and the same change net
//! of what comparable groups the action did not touch did over the same days
//! (difference-in-differences), so a season that moves everything is not credited to the action.
//!
//! One entry point, [`effect`], for every metric. The caller hands over observations as plain
//! columns ([`Observations`]): a time, a group (topic, segment, stage, ...) and, except for
//! volume, a value per observation, optionally a cluster (the customer or case the observation
//! belongs to). The metric decides the estimator family:
//!
//! - **Volume** ([`Family::Count`]): events per whole week (7-day blocks counted from the
//!   action's date, so every weekday counts once per block and the weekly cycle cancels). The
//!   change is the rate ratio minus one from a quasi-Poisson model (Poisson mean, variance `phi`
//!   times the mean, `phi` from the Pearson statistic of the weeks), with Student t on
//!   `weeks - 2` degrees of freedom: counts are overdispersed and days are serially correlated, and
//!   collapsing days into weeks is what keeps the p-values honest (see docs/effects.md). Shocks
//!   that cross the week boundaries make adjacent weeks correlated; that correlation is
//!   estimated pooled over the groups and allowed for ([`WeekCorrelation`]). The
//!   difference-in-differences pools the controls into one series and asks whether the treated
//!   share of the weekly events moved: a quasi-binomial model of that share, whose log odds ratio
//!   is `ln((T_after / C_after) / (T_before / C_before))` — a season that scales every topic
//!   leaves the share where it was.
//! - **Shares** ([`Family::Share`]: NPS, CSAT, net sentiment, repeat-contact rate): each
//!   observation carries its score (`-100`, `0`, `100` for NPS and net sentiment; `0`/`100` for a
//!   CSAT top-two box or a repeat flag), so a share is a mean and its variance is the trinomial
//!   (or binomial) one. The change is the difference of means, in points; the DiD is the treated
//!   change minus the weighted mean of the controls' changes (weights: the controls' observations
//!   before). Variances are cluster-robust (CR2 by default, CR1 or CR3 on request; by customer
//!   when clusters are given: one customer's repeated contacts are not independent), Student t
//!   with `clusters - 1` degrees of freedom. The repeat rate's variance is two-way by default,
//!   by customer and by week ([`TimeClusters`]): a busy week raises every customer's repeats.
//! - **Means** ([`Family::Mean`]: time in a stage, transfers per case): as shares, but on the log
//!   scale (the change is the ratio of means minus one, the DiD a ratio of ratios), which is what
//!   a GLM with log link and cluster-robust errors on the observations gives.
//!
//! Every figure is checked against statsmodels (tools/reference/effect/make_reference.py); the
//! methods, with references and what the interval means, are in docs/effects.md.
//!
//! Thin data is a result, never an error or a silent zero: an empty window, a window with no
//! observation or one, a zero mean where a ratio is asked, no usable control — each is a typed
//! [`Status`] with the sample sizes beside it. Errors ([`EngineError`]) are for asking wrongly:
//! columns of different lengths, an unknown treated group, a window of zero days.

use serde::Serialize;

use crate::error::{EngineError, Result, same_len};
use crate::frame::{Dict, NONE};
use crate::stats::{Level, Quality, normal_p_two_sided, t_p_two_sided};

/// Seconds in a day; windows are whole days counted from the action's date.
pub const DAY: i64 = 86_400;

/// The metric an action should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Signals per day of the action's topics.
    Volume,
    /// Share of contacts that repeat the same customer's contact on the same topic (points).
    RepeatRate,
    /// Share positive minus share negative of the signals (points).
    NetSentiment,
    /// Promoters minus detractors (points).
    Nps,
    /// Share of 4 and 5 on the 1-5 scale (points).
    Csat,
    /// Mean time cases spend in a stage (seconds; the change is relative).
    StageTime,
    /// Mean transfers per case (the change is relative).
    TransfersPerCase,
}

/// How a metric's observations are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Events per day: Poisson quasi-likelihood GLM, rate ratio.
    Count,
    /// A mean of per-observation scores, difference in points.
    Share,
    /// A mean of non-negative per-observation values, ratio of means.
    Mean,
}

/// The unit of `change`, `low` and `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// `after / before - 1`: -0.25 is a fall of a quarter.
    Relative,
    /// `after - before` in points of the score (NPS points, percentage points).
    Points,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Volume => "volume",
            Metric::RepeatRate => "repeat_rate",
            Metric::NetSentiment => "net_sentiment",
            Metric::Nps => "nps",
            Metric::Csat => "csat",
            Metric::StageTime => "stage_time",
            Metric::TransfersPerCase => "transfers_per_case",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Metric::Volume => Family::Count,
            Metric::RepeatRate | Metric::NetSentiment | Metric::Nps | Metric::Csat => Family::Share,
            Metric::StageTime | Metric::TransfersPerCase => Family::Mean,
        }
    }

    pub fn scale(self) -> Scale {
        match self.family() {
            Family::Share => Scale::Points,
            Family::Count | Family::Mean => Scale::Relative,
        }
    }

    /// All metrics, in a stable order.
    pub const ALL: [Metric; 7] = [
        Metric::Volume,
        Metric::RepeatRate,
        Metric::NetSentiment,
        Metric::Nps,
        Metric::Csat,
        Metric::StageTime,
        Metric::TransfersPerCase,
    ];
}

/// The score of an NPS answer 0..=10 as an observation: detractor -100, passive 0, promoter
/// 100; NaN for a missing or off-scale answer.
pub fn nps_value(score: u8) -> f64 {
    match score {
        0..=6 => -100.0,
        7 | 8 => 0.0,
        9 | 10 => 100.0,
        _ => f64::NAN,
    }
}

/// The score of a CSAT answer 1..=5: 100 for 4 and 5 (satisfied), else 0; NaN when missing.
pub fn csat_value(score: u8) -> f64 {
    match score {
        1..=3 => 0.0,
        4 | 5 => 100.0,
        _ => f64::NAN,
    }
}

/// The score of a VADER compound: 100 positive, -100 negative, 0 neutral (the thresholds of
/// [`crate::scores::POSITIVE_AT`] and [`crate::scores::NEGATIVE_AT`]); NaN when not scored.
pub fn sentiment_value(compound: f32) -> f64 {
    if compound.is_nan() {
        f64::NAN
    } else if compound >= crate::scores::POSITIVE_AT {
        100.0
    } else if compound <= crate::scores::NEGATIVE_AT {
        -100.0
    } else {
        0.0
    }
}

/// The score of a repeat flag ([`crate::repeats::repeat_flags`]): 100 for a repeat, 0 for a
/// first contact, NaN when the contact cannot be judged.
pub fn repeat_value(flag: Option<bool>) -> f64 {
    match flag {
        Some(true) => 100.0,
        Some(false) => 0.0,
        None => f64::NAN,
    }
}

/// The observations of a metric, as columns of equal length.
#[derive(Debug, Clone, Copy)]
pub struct Observations<'a> {
    /// When each observation happened (UTC seconds): a signal's time, a response's time, the
    /// time a case entered the stage, a case's start.
    pub at: &'a [i64],
    /// The group of each observation (topic, segment, product, stage, ...): codes into
    /// `groups`; [`NONE`] for none (not counted anywhere).
    pub group: &'a [u32],
    /// The value of each observation (see [`nps_value`], ...); NaN when missing. Not read for
    /// volume, where it may be empty.
    pub value: &'a [f64],
    /// The cluster of each observation (the customer, the case) for cluster-robust variances;
    /// [`NONE`] for an observation of its own. Empty: every observation is its own cluster.
    pub cluster: &'a [u32],
    pub groups: &'a Dict,
}

/// Which groups the action is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scope {
    /// The action's own groups (its topics, its segment): together they form the treated
    /// series.
    pub treated: Vec<u32>,
    /// Groups the action is linked to otherwise (a parent topic, a topic it may also move):
    /// never used as controls.
    pub linked: Vec<u32>,
}

/// How the controls of the difference-in-differences are chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ControlRule {
    /// The `max` eligible groups most similar to the treated series before the action (see
    /// [`effect`]).
    Similar { max: usize },
    /// Exactly these groups (each still has to have data).
    Given { groups: Vec<u32> },
    /// No difference-in-differences.
    Off,
}

impl Default for ControlRule {
    fn default() -> ControlRule {
        ControlRule::Similar { max: 5 }
    }
}

/// The windows and the inference settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectOptions {
    /// The action's date (UTC seconds, normally midnight): the after window starts here.
    pub at: i64,
    pub before_days: u32,
    pub after_days: u32,
    /// The span the data cover, `[data_from, data_to)`: days outside it are not in the windows
    /// (an action done last week has a short after window, not one padded with empty days).
    pub data_from: i64,
    pub data_to: i64,
    pub level: Level,
    /// Below this many observations (events, for volume) in a window a result is flagged
    /// `small_sample`, and a group with fewer before the action is not used as a control.
    pub min_n: u64,
    pub controls: ControlRule,
    /// The small-sample form of the cluster-robust variance of shares and means.
    pub variance: ClusterVariance,
    /// The time clusters of the two-way cluster-robust variance of shares and means
    /// (docs/effects.md): shocks common to every customer on a day are not in a
    /// customer-clustered variance.
    pub time_clusters: TimeClusters,
    /// Whether a volume's weekly variance allows for correlation between adjacent weeks
    /// (day-to-day shocks that last a few days cross the week boundaries).
    pub week_correlation: WeekCorrelation,
}

/// How a volume's weekly quasi-likelihood variance treats adjacent weeks (docs/effects.md,
/// "Correlated weeks"). Shocks that last a few days make adjacent weekly totals correlated;
/// with 4 weeks a window the Pearson dispersion of the weeks then underestimates the variance of
/// a window's mean. One series' 8 weeks cannot estimate that correlation, so it is estimated by
/// the method of moments pooled over every group with `min_n` events in each window, as a
/// working correlation shared by the clusters of a generalised estimating equation (Liang and
/// Zeger 1986), here the groups. With correlated weeks the observations' customers are not
/// used: a heavy contacter's contacts over several weeks are a correlation between weeks, which
/// the weekly variance then carries; with independent weeks the variance is the larger of the
/// weekly and the customer-clustered one, as before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekCorrelation {
    /// Adjacent weeks correlated (1-dependent), the correlation pooled over the groups.
    #[default]
    Pooled,
    /// Weeks independent (the method until 2026-12-05).
    Off,
}

/// The small-sample form of the cluster-robust variance of shares and means (docs/effects.md).
/// CR1 scales the residual products by `G/(G-1) (N-1)/(N-K)`; CR2 and CR3 correct each
/// cluster by its leverage, which matters when a few clusters (heavy contacters) hold a large
/// share of a group's observations (Cameron and Miller 2015, sect. VI.B; MacKinnon, Nielsen and
/// Webb 2023).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterVariance {
    Cr1,
    /// Bell and McCaffrey's bias-reduced linearisation.
    #[default]
    Cr2,
    /// The leave-one-cluster-out jackknife.
    Cr3,
}

/// Whether the variance of shares and means is also clustered in time (Cameron, Gelbach and
/// Miller 2011): `V = V_cluster + V_time - V_cluster-and-time`, each in the chosen small-sample
/// form, the time part only when positive, Student t on Satterthwaite's degrees of freedom
/// (docs/effects.md). Shocks common to
/// many customers on the same days (a busy week raises everyone's repeat contacts) are
/// correlations across customers that a customer-clustered variance treats as independent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeClusters {
    /// By metric: weeks for the repeat-contact rate (a contact's repeat flag depends on the
    /// customer's contacts of the week before it, so day-to-day shocks to the volume persist in
    /// it for a week and more), none for the others (docs/effects.md).
    #[default]
    Auto,
    /// One-way: by the observations' clusters only.
    Off,
    /// Two-way: by cluster and by day (days counted from the action's date).
    Day,
    /// Two-way: by cluster and by 7-day block counted outward from the action's date.
    Week,
}

impl TimeClusters {
    /// The length of a time cluster in days for `metric`, if the variance is two-way.
    fn days(self, metric: Metric) -> Option<usize> {
        match self {
            TimeClusters::Auto if metric == Metric::RepeatRate => Some(7),
            TimeClusters::Auto | TimeClusters::Off => None,
            TimeClusters::Day => Some(1),
            TimeClusters::Week => Some(7),
        }
    }
}

impl EffectOptions {
    /// 28 days either side of `at`, all data in range, 90%, up to 5 similar controls.
    pub fn around(at: i64) -> EffectOptions {
        EffectOptions {
            at,
            before_days: 28,
            after_days: 28,
            data_from: i64::MIN,
            data_to: i64::MAX,
            level: Level::NINETY,
            min_n: 30,
            controls: ControlRule::default(),
            variance: ClusterVariance::default(),
            time_clusters: TimeClusters::default(),
            week_correlation: WeekCorrelation::default(),
        }
    }
}

/// Before or after the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Before,
    After,
}

/// Whether an estimate could be made, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    Estimated,
    /// The window has no day inside the data (e.g. the action was done today).
    EmptyWindow {
        window: Window,
    },
    /// The window has days but no observation (for volume: no event).
    NoData {
        window: Window,
    },
    /// Too few observations (or clusters) in a window for a variance.
    TooFew {
        window: Window,
        n: u64,
        needed: u64,
    },
    /// The data are there but the quantity is not defined (a ratio with a zero mean before).
    Undefined {
        reason: String,
    },
    /// No control group could be used (difference-in-differences only).
    NoControls {
        reason: String,
    },
}

/// One side of the comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Side {
    /// The metric over the window (events per day for volume); `None` without data.
    pub value: Option<f64>,
    /// Observations (days, for volume).
    pub n: u64,
    /// Events in the window (volume only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// Distinct clusters among the observations, when clusters were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u64>,
    /// Observations in the window with no value (NaN), not counted in `n`.
    pub missing: u64,
}

/// An estimated change with its interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub status: Status,
    pub change: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Two-sided p-value of "no change".
    pub p_value: Option<f64>,
    /// `p_value < 1 - level`.
    pub significant: Option<bool>,
    /// Standard error on the estimator's own scale (log for relative changes, points for
    /// shares).
    pub se: Option<f64>,
    /// Degrees of freedom of the Student t reference; `None` for the normal one.
    pub df: Option<f64>,
    pub method: &'static str,
}

impl Estimate {
    fn not(status: Status, method: &'static str) -> Estimate {
        Estimate {
            status,
            change: None,
            low: None,
            high: None,
            p_value: None,
            significant: None,
            se: None,
            df: None,
            method,
        }
    }
}

/// The difference-in-differences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Did {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Names of the control groups used.
    pub controls: Vec<String>,
    pub rule: ControlRule,
}

/// A group considered as a control, with the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub group: u32,
    pub name: String,
    pub chosen: bool,
    pub reason: String,
    /// The metric before the action (events per day for volume).
    pub before_value: Option<f64>,
    pub before_n: u64,
    pub after_n: u64,
}

/// The windows actually used (whole days inside the data), UTC seconds, ends exclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Windows {
    pub before_from: i64,
    pub before_to: i64,
    pub after_from: i64,
    pub after_to: i64,
    pub days_before: u32,
    pub days_after: u32,
    /// The window the controls were chosen on, when it is not the before window: the
    /// `before_days` just before it (see [`effect`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controls_from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controls_to: Option<i64>,
}

/// The measured effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub metric: Metric,
    pub scale: Scale,
    pub windows: Windows,
    pub before: Side,
    pub after: Side,
    /// The naive before/after change of the treated series.
    #[serde(flatten)]
    pub estimate: Estimate,
    pub level: f64,
    pub did: Did,
    /// Every group considered as a control, chosen or not, and why.
    pub candidates: Vec<Candidate>,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Measures the effect of an action on `metric`.
///
/// Control selection (rule [`ControlRule::Similar`]): every group that is neither treated nor
/// linked and has at least `min_n` observations (events, for volume) in the before window and,
/// except for volume, at least one after, is eligible; eligible groups are ranked by how close
/// their level is to the treated series' (volume and means: `|ln(level_c / level_t)|`; shares:
/// the difference in points), ties to the larger group, and the first `max` are used. The
/// levels are those of the `before_days` just before the before window when the data cover
/// them and the treated series has `min_n` observations there (then a group with none there is
/// not eligible, and `windows.controls_from/to` say so), else the before window's. Only data
/// before the action and the sample sizes decide, never the outcome after.
pub fn effect(
    metric: Metric,
    obs: &Observations<'_>,
    scope: &Scope,
    opts: &EffectOptions,
) -> Result<Effect> {
    let rows = obs.at.len();
    same_len("group", obs.group.len(), "at", rows)?;
    if metric.family() != Family::Count {
        same_len("value", obs.value.len(), "at", rows)?;
    }
    if !obs.cluster.is_empty() {
        same_len("cluster", obs.cluster.len(), "at", rows)?;
    }
    let n_groups = obs.groups.len();
    if scope.treated.is_empty() {
        return Err(bad("treated", "is empty; name the action's own groups"));
    }
    for &g in scope.treated.iter().chain(&scope.linked) {
        if g as usize >= n_groups {
            return Err(bad(
                "treated",
                format!("names group code {g}, but there are only {n_groups} groups"),
            ));
        }
    }
    for (name, days) in [
        ("before_days", opts.before_days),
        ("after_days", opts.after_days),
    ] {
        if days == 0 || days > 3660 {
            return Err(bad(name, format!("is {days}; give 1 to 3660 days")));
        }
    }
    if let ControlRule::Given { groups } = &opts.controls {
        for &g in groups {
            if g as usize >= n_groups || scope.treated.contains(&g) || scope.linked.contains(&g) {
                return Err(bad(
                    "controls",
                    format!(
                        "names group {} which is unknown, treated or linked; controls must be other groups",
                        obs.groups
                            .name(g)
                            .map_or_else(|| g.to_string(), str::to_string)
                    ),
                ));
            }
        }
    }

    let bins = Bins::new(opts);
    let windows = bins.windows();
    let mut slots = vec![usize::MAX; n_groups];
    // Slot 0 is the treated series; every other group has its own slot.
    for (code, slot) in slots.iter_mut().enumerate() {
        *slot = if scope.treated.contains(&(code as u32)) {
            0
        } else {
            code + 1
        };
    }
    let method = match metric.family() {
        Family::Count => "quasi_likelihood_weekly",
        Family::Share => "difference_of_means_cluster_robust",
        Family::Mean => "ratio_of_means_cluster_robust",
    };
    let did_method = match metric.family() {
        Family::Count => "quasi_likelihood_weekly",
        Family::Share => "difference_in_differences_cluster_robust",
        Family::Mean => "ratio_of_ratios_cluster_robust",
    };
    let empty = if bins.days_before == 0 {
        Some(Window::Before)
    } else if bins.days_after == 0 {
        Some(Window::After)
    } else {
        None
    };

    let mut out = match metric.family() {
        Family::Count => volume(metric, obs, scope, opts, &bins, &slots, empty)?,
        Family::Share | Family::Mean => means(metric, obs, scope, opts, &bins, &slots, empty)?,
    };
    let chosen_on = (out.windows.controls_from, out.windows.controls_to);
    out.windows = Windows {
        controls_from: chosen_on.0,
        controls_to: chosen_on.1,
        ..windows
    };
    if out.estimate.method.is_empty() {
        out.estimate.method = method;
    }
    if out.did.estimate.method.is_empty() {
        out.did.estimate.method = did_method;
    }
    Ok(out)
}

fn bad(name: &'static str, reason: impl Into<String>) -> EngineError {
    EngineError::BadOption {
        name,
        reason: reason.into(),
    }
}

/// The day bins of the two windows: bin `k` starts at `at + (k - before_days) * DAY`; a bin is
/// valid when the whole day lies inside the data.
#[derive(Debug, Clone)]
struct Bins {
    start: i64,
    before: u32,
    total: usize,
    valid: Vec<bool>,
    days_before: u32,
    days_after: u32,
}

impl Bins {
    fn new(o: &EffectOptions) -> Bins {
        let total = (o.before_days + o.after_days) as usize;
        let start = o.at.saturating_sub(i64::from(o.before_days) * DAY);
        let valid: Vec<bool> = (0..total)
            .map(|k| {
                let s = start.saturating_add(k as i64 * DAY);
                s >= o.data_from && s.saturating_add(DAY) <= o.data_to
            })
            .collect();
        let b = o.before_days as usize;
        Bins {
            start,
            before: o.before_days,
            total,
            days_before: valid[..b].iter().filter(|v| **v).count() as u32,
            days_after: valid[b..].iter().filter(|v| **v).count() as u32,
            valid,
        }
    }

    /// The valid bin of time `t`, if any.
    fn bin(&self, t: i64) -> Option<usize> {
        if t < self.start {
            return None;
        }
        let k = ((t - self.start) / DAY) as usize;
        (k < self.total && self.valid[k]).then_some(k)
    }

    /// The block of `days` days of time `t` (in a valid bin), counted outward from the
    /// action's date: blocks before it and after it never share a code.
    fn block(&self, t: i64, days: usize) -> u64 {
        let k = ((t - self.start) / DAY) as usize;
        let b = self.before as usize;
        if k < b {
            ((b - 1 - k) / days) as u64
        } else {
            (1 << 21) + ((k - b) / days) as u64
        }
    }

    fn after(&self, k: usize) -> bool {
        k >= self.before as usize
    }

    fn bin_start(&self, k: usize) -> i64 {
        self.start + k as i64 * DAY
    }

    /// The window the controls are chosen on: the `before_days` just before the before
    /// window, when the data cover all of it. Choosing them on the before window itself would
    /// pick groups whose before level is close to the treated one's partly by chance, so their
    /// before levels share the treated series' sampling error, and the difference-in-differences
    /// would vary less than its variance says (docs/effects.md, "Choosing the controls").
    fn selection(&self, o: &EffectOptions) -> Option<(i64, i64)> {
        let to = self.windows().before_from;
        let from = to.saturating_sub(i64::from(o.before_days) * DAY);
        (self.days_before > 0 && from >= o.data_from).then_some((from, to))
    }

    fn windows(&self) -> Windows {
        let b = self.before as usize;
        let first = |range: std::ops::Range<usize>| range.clone().find(|&k| self.valid[k]);
        let last = |range: std::ops::Range<usize>| range.rev().find(|&k| self.valid[k]);
        let span = |range: std::ops::Range<usize>| match (first(range.clone()), last(range)) {
            (Some(f), Some(l)) => (self.bin_start(f), self.bin_start(l) + DAY),
            _ => (self.bin_start(b), self.bin_start(b)),
        };
        let (before_from, before_to) = span(0..b);
        let (after_from, after_to) = span(b..self.total);
        Windows {
            before_from,
            before_to,
            after_from,
            after_to,
            days_before: self.days_before,
            days_after: self.days_after,
            controls_from: None,
            controls_to: None,
        }
    }
}

/// Two-sided inference for an estimate `d` with standard error `se` on the estimator's scale.
/// `df = None` uses the normal reference. `relative` maps `d` and its bounds through
/// `exp(.) - 1`.
fn infer(
    d: f64,
    se: f64,
    df: Option<f64>,
    level: Level,
    relative: bool,
    method: &'static str,
    quality: &mut Quality,
) -> Estimate {
    let map = |v: f64| if relative { v.exp() - 1.0 } else { v };
    if !(se.is_finite() && se > 0.0) {
        quality.degenerate(
            "no spread in the data: the change has no standard error, so no interval or p-value",
        );
        return Estimate {
            status: Status::Estimated,
            change: Some(map(d)),
            low: Some(map(d)),
            high: Some(map(d)),
            p_value: None,
            significant: None,
            se: Some(0.0),
            df,
            method,
        };
    }
    let (crit, p) = match df {
        Some(df) => (level.t(df), t_p_two_sided(d / se, df)),
        None => (level.z(), normal_p_two_sided(d / se)),
    };
    Estimate {
        status: Status::Estimated,
        change: Some(map(d)),
        low: Some(map(d - crit * se)),
        high: Some(map(d + crit * se)),
        p_value: Some(p),
        significant: Some(p < 1.0 - level.get()),
        se: Some(se),
        df,
        method,
    }
}

// ---------------------------------------------------------------- shares and means

/// Per group and window: observations, their sum, missing values.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    n: u64,
    sum: f64,
    missing: u64,
}

impl Cell {
    fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// A contrast of cell means: `cells[i] = (slot, window, coefficient)`. The estimate is
/// `sum coef * m` (identity scale) or `sum coef * ln m` (log scale).
struct Contrast {
    terms: Vec<(usize, usize, f64)>,
    log: bool,
}

/// The cluster-robust variance of a contrast of cell means, as an OLS (identity scale) or a
/// Poisson GLM (log scale) on cell indicators with clustered errors gives it. With `a_c` the
/// contrast's coefficient of cell `c` (`a_c / m_c` on the log scale), `s_gc` the sum of the
/// residuals `y_i - m_c` of cluster `g` in cell `c` and `h_gc = n_gc / n_c` the cluster's share
/// of the cell (its leverage: the hat matrix of a cell-indicator regression is `1 / n_c` within
/// a cell), the per-cluster score is `u_g = sum_c a_c s_gc / n_c * f(h_gc)` and
///
/// - CR1: `f = 1`, variance `G/(G-1) * (N-1)/(N-K) * sum_g u_g^2` (statsmodels'
///   `cov_type="cluster"`; Liang and Zeger 1986);
/// - CR2: `f = (1 - h)^(-1/2)`, variance `sum_g u_g^2` (Bell and McCaffrey 2002): the residuals
///   premultiplied by `(I - H_gg)^(-1/2)`, which for cell indicators scales each cluster-cell
///   residual sum by `(1 - h_gc)^(-1/2)` (a cluster that is a whole cell, `h = 1`, has a zero
///   residual sum and contributes nothing, the pseudo-inverse's convention);
/// - CR3: `f = 1 / (1 - h)`, variance `(G-1)/G * sum_g u_g^2`: the leave-one-cluster-out
///   jackknife around the estimate (MacKinnon, Nielsen and Webb 2023), `u_g` being exactly how
///   far the cell means' contrast moves when cluster `g` is left out.
///
/// `by` says what a cluster is: the observations' clusters, blocks of days (time clusters),
/// or their intersection (see [`TimeClusters`]). Returns `(variance, clusters, N)`.
fn contrast_variance(
    obs: &Observations<'_>,
    bins: &Bins,
    slots: &[usize],
    cells: &[[Cell; 2]],
    c: &Contrast,
    kind: ClusterVariance,
    by: By,
) -> (f64, u64, u64) {
    // Coefficient per (slot, window) on the observation scale.
    let mut coef = vec![[0.0f64; 2]; cells.len()];
    let mut used = vec![[false; 2]; cells.len()];
    for &(slot, w, a) in &c.terms {
        let m = cells[slot][w].mean().unwrap_or(0.0);
        coef[slot][w] = if c.log { a / m } else { a };
        used[slot][w] = true;
    }
    // (cluster, cell index, residual); observations without a cluster get a fresh id each.
    let mut rows: Vec<(u64, usize, f64)> = Vec::new();
    let mut own = 0u64;
    for r in 0..obs.at.len() {
        let Some((slot, w)) = locate(obs, bins, slots, r) else {
            continue;
        };
        if !used[slot][w] {
            continue;
        }
        let y = obs.value[r];
        if y.is_nan() {
            continue;
        }
        let m = cells[slot][w].mean().unwrap_or(0.0);
        let mut cluster = || match obs.cluster.get(r).copied() {
            Some(g) if g != NONE => u64::from(g),
            _ => {
                own += 1;
                (1u64 << 32) + own
            }
        };
        let id = match by {
            By::Cluster => cluster(),
            By::Time(days) => bins.block(obs.at[r], days),
            By::Both(days) => (cluster() << 22) | bins.block(obs.at[r], days),
        };
        rows.push((id, 2 * slot + w, y - m));
    }
    let n_total = rows.len() as u64;
    rows.sort_unstable_by_key(|r| (r.0, r.1));
    let mut s = 0.0;
    let mut clusters = 0u64;
    let mut i = 0;
    while i < rows.len() {
        let g = rows[i].0;
        let mut u = 0.0;
        while i < rows.len() && rows[i].0 == g {
            let cell = rows[i].1;
            let (mut sum, mut n_gc) = (0.0, 0u64);
            while i < rows.len() && rows[i].0 == g && rows[i].1 == cell {
                sum += rows[i].2;
                n_gc += 1;
                i += 1;
            }
            let (slot, w) = (cell / 2, cell % 2);
            let n_c = cells[slot][w].n as f64;
            let h = n_gc as f64 / n_c;
            let f = match kind {
                ClusterVariance::Cr1 => 1.0,
                // A cluster that is the whole cell has a zero residual sum: no contribution.
                ClusterVariance::Cr2 if h < 1.0 => (1.0 - h).sqrt().recip(),
                ClusterVariance::Cr3 if h < 1.0 => (1.0 - h).recip(),
                _ => 0.0,
            };
            u += coef[slot][w] * sum / n_c * f;
        }
        s += u * u;
        clusters += 1;
    }
    let k = used.iter().flatten().filter(|u| **u).count() as f64;
    let (g, n) = (clusters as f64, n_total as f64);
    let corr = if clusters < 2 {
        f64::NAN
    } else {
        match kind {
            ClusterVariance::Cr1 if n > k => g / (g - 1.0) * (n - 1.0) / (n - k),
            ClusterVariance::Cr1 => f64::NAN,
            ClusterVariance::Cr2 => 1.0,
            ClusterVariance::Cr3 => (g - 1.0) / g,
        }
    };
    (corr * s, clusters, n_total)
}

/// What a cluster is in [`contrast_variance`].
#[derive(Debug, Clone, Copy)]
enum By {
    /// The observations' clusters (customers, cases; none: each its own).
    Cluster,
    /// Blocks of this many days counted outward from the action's date.
    Time(usize),
    /// A cluster within a block.
    Both(usize),
}

/// The variance of a contrast of cell means, one-way by cluster or two-way by cluster and
/// time (Cameron, Gelbach and Miller 2011): `V_cluster + (V_time - V_both)`, each in the small-
/// sample form `kind` (for CR1 what statsmodels' `cov_type="cluster"` with two group columns
/// gives). The time part estimates the covariance of different clusters within a time block, a
/// variance component: when it is not positive the one-way variance is used, as a method of
/// moments estimate of a variance component is truncated at zero. The reference Student t has
/// Satterthwaite's degrees of freedom, `V^2 / (V_cluster^2 / (G - 1) + time part^2 / (T - 1))`
/// for `G` clusters and `T` time blocks: near `G - 1` when the time part is small, near `T - 1`
/// (few blocks, a noisy estimate) when it dominates. Returns `(variance, degrees of freedom,
/// clusters, whether two-way)`; fewer than 2 clusters give `df < 1`.
fn share_variance(
    metric: Metric,
    obs: &Observations<'_>,
    bins: &Bins,
    slots: &[usize],
    cells: &[[Cell; 2]],
    c: &Contrast,
    opts: &EffectOptions,
) -> (f64, f64, u64, bool) {
    let kind = opts.variance;
    let (vc, g, _) = contrast_variance(obs, bins, slots, cells, c, kind, By::Cluster);
    let one_way = (vc, g as f64 - 1.0, g, false);
    let Some(days) = opts.time_clusters.days(metric) else {
        return one_way;
    };
    let (vt, t, _) = contrast_variance(obs, bins, slots, cells, c, kind, By::Time(days));
    let (vb, _, _) = contrast_variance(obs, bins, slots, cells, c, kind, By::Both(days));
    let excess = vt - vb;
    if g < 2 || t < 2 || !(excess.is_finite() && excess > 0.0) {
        return one_way;
    }
    let v = vc + excess;
    let df = v * v / (vc * vc / (g as f64 - 1.0) + excess * excess / (t as f64 - 1.0));
    (v, df, g, true)
}

/// The (slot, window) of row `r`, when it is in a group and a valid day.
fn locate(
    obs: &Observations<'_>,
    bins: &Bins,
    slots: &[usize],
    r: usize,
) -> Option<(usize, usize)> {
    let code = obs.group[r];
    if code == NONE {
        return None;
    }
    let slot = *slots.get(code as usize)?;
    let k = bins.bin(obs.at[r])?;
    Some((slot, usize::from(bins.after(k))))
}

fn clusters_of(
    obs: &Observations<'_>,
    bins: &Bins,
    slots: &[usize],
    slot: usize,
    w: usize,
) -> Option<u64> {
    if obs.cluster.is_empty() {
        return None;
    }
    let mut ids: Vec<u32> = Vec::new();
    let mut own = 0u64;
    for r in 0..obs.at.len() {
        if locate(obs, bins, slots, r) == Some((slot, w)) && !obs.value[r].is_nan() {
            match obs.cluster[r] {
                NONE => own += 1,
                g => ids.push(g),
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids.len() as u64 + own)
}

fn means(
    metric: Metric,
    obs: &Observations<'_>,
    scope: &Scope,
    opts: &EffectOptions,
    bins: &Bins,
    slots: &[usize],
    empty: Option<Window>,
) -> Result<Effect> {
    let selection = bins.selection(opts);
    let log = metric.family() == Family::Mean;
    let n_slots = obs.groups.len() + 1;
    let mut cells = vec![[Cell::default(); 2]; n_slots];
    for r in 0..obs.at.len() {
        let Some((slot, w)) = locate(obs, bins, slots, r) else {
            continue;
        };
        let y = obs.value[r];
        let c = &mut cells[slot][w];
        if y.is_nan() {
            c.missing += 1;
        } else {
            c.n += 1;
            c.sum += y;
        }
    }
    let side = |slot: usize, w: usize| Side {
        value: cells[slot][w].mean(),
        n: cells[slot][w].n,
        events: None,
        clusters: clusters_of(obs, bins, slots, slot, w),
        missing: cells[slot][w].missing,
    };
    let before = side(0, 0);
    let after = side(0, 1);
    let mut quality = Quality::for_n(before.n.min(after.n), opts.min_n);
    let level = opts.level;

    // Why a ratio or a difference cannot be formed from these cells, if it cannot.
    let blocked = |slot: usize| -> Option<Status> {
        for (w, win) in [(0, Window::Before), (1, Window::After)] {
            let c = &cells[slot][w];
            if c.n == 0 {
                return Some(Status::NoData { window: win });
            }
            if c.n < 2 {
                return Some(Status::TooFew {
                    window: win,
                    n: c.n,
                    needed: 2,
                });
            }
            if log && c.sum <= 0.0 {
                return Some(Status::Undefined {
                    reason: format!(
                        "the mean is zero {}: a relative change is not defined",
                        if w == 0 { "before" } else { "after" }
                    ),
                });
            }
        }
        None
    };

    let estimate = match empty
        .map(|w| Status::EmptyWindow { window: w })
        .or_else(|| blocked(0))
    {
        Some(status) => Estimate::not(status, ""),
        None => {
            let c = Contrast {
                terms: vec![(0, 0, -1.0), (0, 1, 1.0)],
                log,
            };
            let d = contrast_value(&cells, &c);
            let (var, df, g, two_way) = share_variance(metric, obs, bins, slots, &cells, &c, opts);
            if g < 2 {
                Estimate::not(
                    Status::TooFew {
                        window: Window::Before,
                        n: g,
                        needed: 2,
                    },
                    "",
                )
            } else {
                let method = match (two_way, log) {
                    (false, _) => "",
                    (true, false) => "difference_of_means_two_way_clustered",
                    (true, true) => "ratio_of_means_two_way_clustered",
                };
                infer(d, var.sqrt(), Some(df), level, log, method, &mut quality)
            }
        }
    };

    // Candidates and controls.
    // The levels the controls are chosen on: the selection window's when the treated series
    // has data there, else the before window's.
    let pre: Option<Vec<Cell>> = selection
        .map(|(from, to)| {
            let mut v = vec![Cell::default(); n_slots];
            for r in 0..obs.at.len() {
                let (code, y) = (obs.group[r], obs.value[r]);
                if obs.at[r] < from || obs.at[r] >= to || code == NONE || y.is_nan() {
                    continue;
                }
                if let Some(&slot) = slots.get(code as usize) {
                    v[slot].n += 1;
                    v[slot].sum += y;
                }
            }
            v
        })
        .filter(|v| v[0].n >= opts.min_n.max(2));
    let level_of = |slot: usize| match &pre {
        Some(p) => p[slot].mean(),
        None => cells[slot][0].mean(),
    };
    let treated_before = level_of(0);
    let distance = |slot: usize| -> Option<f64> {
        let (t, c) = (treated_before?, level_of(slot)?);
        if log {
            (t > 0.0 && c > 0.0).then(|| (c / t).ln().abs())
        } else {
            Some((c - t).abs())
        }
    };
    let mut candidates = Vec::new();
    for (code, &slot) in slots.iter().enumerate() {
        if slot == 0 {
            continue;
        }
        let (b, a) = (&cells[slot][0], &cells[slot][1]);
        let linked = scope.linked.contains(&(code as u32));
        if b.n == 0 && a.n == 0 && !linked {
            continue;
        }
        let reason = if linked {
            Some("linked to the action, so it may move with it".to_string())
        } else if b.n < opts.min_n {
            Some(format!("too little data before: {} < {}", b.n, opts.min_n))
        } else if a.n == 0 {
            Some("no observation after".to_string())
        } else if blocked(slot).is_some() {
            Some("its change is not defined (a zero mean)".to_string())
        } else if pre.as_ref().is_some_and(|p| p[slot].n == 0) {
            Some(format!(
                "no observation in the {} days the controls are chosen on",
                opts.before_days
            ))
        } else {
            None
        };
        candidates.push((code as u32, slot, reason, distance(slot)));
    }
    let unit = if log { "" } else { " points" };
    let on = chosen_on_text(pre.is_some(), opts.before_days);
    let chosen = choose(
        &mut candidates,
        &opts.controls,
        |c| c.3,
        |code| cells[slots[code as usize]][0].n,
    );
    let cand_out = describe(
        obs,
        &candidates,
        &chosen,
        &opts.controls,
        |slot| (cells[slot][0].mean(), cells[slot][0].n, cells[slot][1].n),
        |d| {
            if log {
                format!("{:.3} apart on the log scale{on}", d)
            } else {
                format!("{d:.1}{unit} apart{on}")
            }
        },
    );

    let did_est = if let ControlRule::Off = opts.controls {
        Estimate::not(
            Status::NoControls {
                reason: "controls are off".into(),
            },
            "",
        )
    } else if let Some(status) = empty
        .map(|w| Status::EmptyWindow { window: w })
        .or_else(|| blocked(0))
    {
        Estimate::not(status, "")
    } else if chosen.is_empty() {
        Estimate::not(
            Status::NoControls {
                reason: no_control_reason(&candidates),
            },
            "",
        )
    } else {
        let total: f64 = chosen.iter().map(|&s| cells[s][0].n as f64).sum();
        let mut terms = vec![(0, 0, -1.0), (0, 1, 1.0)];
        for &s in &chosen {
            let w = cells[s][0].n as f64 / total;
            terms.push((s, 0, w));
            terms.push((s, 1, -w));
        }
        let c = Contrast { terms, log };
        let d = contrast_value(&cells, &c);
        let (var, df, g, two_way) = share_variance(metric, obs, bins, slots, &cells, &c, opts);
        if g < 2 {
            Estimate::not(
                Status::TooFew {
                    window: Window::Before,
                    n: g,
                    needed: 2,
                },
                "",
            )
        } else {
            let method = match (two_way, log) {
                (false, _) => "",
                (true, false) => "difference_in_differences_two_way_clustered",
                (true, true) => "ratio_of_ratios_two_way_clustered",
            };
            infer(d, var.sqrt(), Some(df), level, log, method, &mut quality)
        }
    };
    note_status(&mut quality, &estimate.status, "before/after");
    note_status(&mut quality, &did_est.status, "difference-in-differences");
    Ok(Effect {
        metric,
        scale: metric.scale(),
        windows: Windows {
            controls_from: pre.as_ref().and(selection.map(|w| w.0)),
            controls_to: pre.as_ref().and(selection.map(|w| w.1)),
            ..Windows::default()
        },
        before,
        after,
        estimate,
        level: level.get(),
        did: Did {
            estimate: did_est,
            controls: chosen_names(obs, &candidates, &chosen),
            rule: opts.controls.clone(),
        },
        candidates: cand_out,
        quality,
    })
}

fn contrast_value(cells: &[[Cell; 2]], c: &Contrast) -> f64 {
    c.terms
        .iter()
        .map(|&(slot, w, a)| {
            let m = cells[slot][w].mean().unwrap_or(f64::NAN);
            a * if c.log { m.ln() } else { m }
        })
        .sum()
}

type CandidateRow = (u32, usize, Option<String>, Option<f64>);

/// What a chosen control's reason adds when the controls were chosen on the window before the
/// before window.
fn chosen_on_text(pre: bool, days: u32) -> String {
    if pre {
        format!(" in the {days} days before the before window")
    } else {
        String::new()
    }
}

/// Picks the control slots from the candidates (code, slot, reason-if-ineligible, distance).
fn choose(
    candidates: &mut [CandidateRow],
    rule: &ControlRule,
    distance: impl Fn(&CandidateRow) -> Option<f64>,
    size: impl Fn(u32) -> u64,
) -> Vec<usize> {
    match rule {
        ControlRule::Off => Vec::new(),
        ControlRule::Given { groups } => candidates
            .iter()
            .filter(|c| c.2.is_none() && groups.contains(&c.0))
            .map(|c| c.1)
            .collect(),
        ControlRule::Similar { max } => {
            let mut eligible: Vec<&CandidateRow> = candidates
                .iter()
                .filter(|c| c.2.is_none() && distance(c).is_some())
                .collect();
            eligible.sort_by(|a, b| {
                let (da, db) = (
                    distance(a).unwrap_or(f64::INFINITY),
                    distance(b).unwrap_or(f64::INFINITY),
                );
                da.total_cmp(&db)
                    .then(size(b.0).cmp(&size(a.0)))
                    .then(a.0.cmp(&b.0))
            });
            eligible.iter().take(*max).map(|c| c.1).collect()
        }
    }
}

fn describe(
    obs: &Observations<'_>,
    candidates: &[CandidateRow],
    chosen: &[usize],
    rule: &ControlRule,
    stats: impl Fn(usize) -> (Option<f64>, u64, u64),
    apart: impl Fn(f64) -> String,
) -> Vec<Candidate> {
    let mut ranked: Vec<&CandidateRow> = candidates
        .iter()
        .filter(|c| c.2.is_none() && c.3.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        a.3.unwrap_or(f64::INFINITY)
            .total_cmp(&b.3.unwrap_or(f64::INFINITY))
            .then(a.0.cmp(&b.0))
    });
    let eligible = ranked.len();
    candidates
        .iter()
        .map(|c| {
            let (before_value, before_n, after_n) = stats(c.1);
            let is_chosen = chosen.contains(&c.1);
            let rank = ranked.iter().position(|r| r.0 == c.0).map(|p| p + 1);
            let reason = match (&c.2, rule) {
                (Some(why), _) => why.clone(),
                (None, ControlRule::Given { groups }) if groups.contains(&c.0) => {
                    "given as a control".into()
                }
                (None, ControlRule::Given { .. }) => "not among the given controls".into(),
                (None, ControlRule::Off) => "controls are off".into(),
                (None, ControlRule::Similar { max }) => match (rank, c.3) {
                    (Some(r), Some(d)) if is_chosen => format!(
                        "similar before the action: {}, closest {r} of {eligible} eligible",
                        apart(d)
                    ),
                    (Some(r), Some(d)) => format!(
                        "less similar: {}, rank {r} of {eligible}; only the closest {max} are used",
                        apart(d)
                    ),
                    _ => "no level before to compare".into(),
                },
            };
            Candidate {
                group: c.0,
                name: obs.groups.name(c.0).unwrap_or("?").to_string(),
                chosen: is_chosen,
                reason,
                before_value,
                before_n,
                after_n,
            }
        })
        .collect()
}

fn chosen_names(
    obs: &Observations<'_>,
    candidates: &[CandidateRow],
    chosen: &[usize],
) -> Vec<String> {
    chosen
        .iter()
        .filter_map(|s| candidates.iter().find(|c| c.1 == *s))
        .map(|c| obs.groups.name(c.0).unwrap_or("?").to_string())
        .collect()
}

fn no_control_reason(candidates: &[CandidateRow]) -> String {
    if candidates.is_empty() {
        "no other group has data in the windows".into()
    } else {
        format!(
            "none of the {} other groups is eligible (linked, or too little data before)",
            candidates.len()
        )
    }
}

fn note_status(q: &mut Quality, s: &Status, what: &str) {
    let text = match s {
        Status::Estimated => return,
        Status::EmptyWindow { window } => format!(
            "{what}: the {} window has no day inside the data",
            window_name(*window)
        ),
        Status::NoData { window } => format!(
            "{what}: no observation in the {} window",
            window_name(*window)
        ),
        Status::TooFew { window, n, needed } => format!(
            "{what}: {n} observations (or clusters) in the {} window, {needed} needed for an interval",
            window_name(*window)
        ),
        Status::Undefined { reason } => format!("{what}: {reason}"),
        Status::NoControls { reason } => format!("{what}: no control: {reason}"),
    };
    q.warnings.push(text);
}

fn window_name(w: Window) -> &'static str {
    match w {
        Window::Before => "before",
        Window::After => "after",
    }
}

// ---------------------------------------------------------------- volume

/// Whole weeks (7-day blocks counted from the action's date) inside the data, each side.
fn whole_weeks(bins: &Bins) -> [Vec<[usize; 7]>; 2] {
    let b = bins.before as usize;
    let mut before = Vec::new();
    let mut k = b;
    while k >= 7 && (k - 7..k).all(|d| bins.valid[d]) {
        before.push(std::array::from_fn(|i| k - 7 + i));
        k -= 7;
    }
    before.reverse();
    let mut after = Vec::new();
    let mut k = b;
    while k + 7 <= bins.total && (k..k + 7).all(|d| bins.valid[d]) {
        after.push(std::array::from_fn(|i| k + i));
        k += 7;
    }
    [before, after]
}

/// Small square matrices, row-major.
struct Square {
    n: usize,
    v: Vec<f64>,
}

impl Square {
    fn zero(n: usize) -> Square {
        Square {
            n,
            v: vec![0.0; n * n],
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.v[i * self.n + j]
    }

    fn mul(&self, o: &Square) -> Square {
        let n = self.n;
        let mut out = Square::zero(n);
        for i in 0..n {
            for k in 0..n {
                let a = self.at(i, k);
                if a != 0.0 {
                    for j in 0..n {
                        out.v[i * n + j] += a * o.at(k, j);
                    }
                }
            }
        }
        out
    }

    /// `tr(self * o)`.
    fn trace_of(&self, o: &Square) -> f64 {
        let n = self.n;
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| self.at(i, j) * o.at(j, i))
            .sum()
    }
}

/// The weeks of one weekly model: which window each is in (0 before, 1 after), its position in
/// time (week index: adjacent weeks differ by 1) and its weight (the Poisson mean or the
/// binomial variance `N p (1 - p)`, constant within a window for the Poisson model).
struct WeekDesign {
    window: Vec<usize>,
    index: Vec<usize>,
    weight: Vec<f64>,
}

impl WeekDesign {
    fn n(&self) -> usize {
        self.window.len()
    }

    /// `I - H`: the residual projection of the weighted regression on the window indicators,
    /// on the standardised (Pearson) scale, `H_st = sqrt(w_s w_t) / sum_window w`.
    fn residual_projection(&self) -> Square {
        let n = self.n();
        let mut total = [0.0f64; 2];
        for t in 0..n {
            total[self.window[t]] += self.weight[t];
        }
        let mut q = Square::zero(n);
        for s in 0..n {
            for t in 0..n {
                let h = if self.window[s] == self.window[t] {
                    (self.weight[s] * self.weight[t]).sqrt() / total[self.window[s]]
                } else {
                    0.0
                };
                q.v[s * n + t] = f64::from(u8::from(s == t)) - h;
            }
        }
        q
    }

    /// The adjacency of the weeks: 1 for weeks next to each other in time.
    fn adjacency(&self) -> Square {
        let n = self.n();
        let mut a = Square::zero(n);
        for s in 0..n {
            for t in 0..n {
                if self.index[s].abs_diff(self.index[t]) == 1 {
                    a.v[s * n + t] = 1.0;
                }
            }
        }
        a
    }

    /// The working correlation `R = I + rho A` (1-dependent weeks).
    fn correlation(&self, rho: f64) -> Square {
        let mut r = self.adjacency();
        for (k, x) in r.v.iter_mut().enumerate() {
            *x = if k % (self.n() + 1) == 0 {
                1.0
            } else {
                rho * *x
            };
        }
        r
    }
}

/// The weekly quasi-likelihood variance of a contrast `sum_t g_t z_t` of standardised weekly
/// counts (`z_t = y_t / sqrt(w_t)`, variance `phi`, correlation `R` between adjacent weeks):
/// `phi g' R g` with `phi = X2 / tr((I - H) R)`, the Pearson statistic over its expectation
/// per unit of `phi` (with `R = I` that is `X2 / (weeks - 2)`), and Satterthwaite's degrees of
/// freedom for `X2`, a quadratic form in correlated normals, `tr((I - H) R)^2 / tr(((I - H)
/// R)^2)` (`weeks - 2` when `R = I`). Returns `(variance, df)`.
fn weekly_variance(design: &WeekDesign, g: &[f64], pearson: f64, rho: f64) -> (f64, f64) {
    let q = design.residual_projection();
    let r = design.correlation(rho);
    let qr = q.mul(&r);
    let tr = (0..design.n()).map(|i| qr.at(i, i)).sum::<f64>();
    let df = tr * tr / qr.trace_of(&qr);
    let n = design.n();
    let grg: f64 = (0..n)
        .flat_map(|s| (0..n).map(move |t| (s, t)))
        .map(|(s, t)| g[s] * r.at(s, t) * g[t])
        .sum();
    (pearson / tr * grg, df)
}

/// The correlation of adjacent weeks' counts, pooled over groups: the method-of-moments
/// estimate that equates the ratio of the lag-1 to the lag-0 sums of the Pearson residuals
/// `e_t = (y_t - mean) / sqrt(mean)` (means per window), summed over `series`, to its
/// expectation under `R = I + rho A`, `tr(Q J Q R) / tr(Q R)` (`Q` the residual projection, `J`
/// half the adjacency), which corrects for the residuals being centred within 4-week windows
/// (their lag-1 products have a negative mean when weeks are independent). Clamped to `[0,
/// 0.5]` (`R` stays positive definite; a negative correlation is not used to narrow an
/// interval). `None` without a series.
fn pooled_week_correlation(series: &[&[u64]], wb: usize) -> Option<f64> {
    let n = series.first()?.len();
    let design = WeekDesign {
        window: (0..n).map(|t| usize::from(t >= wb)).collect(),
        index: (0..n).collect(),
        weight: vec![1.0; n],
    };
    let (mut s0, mut s1) = (0.0, 0.0);
    for y in series {
        let mean = |w: usize| {
            let range = if w == 0 { 0..wb } else { wb..n };
            let len = range.len() as f64;
            range.map(|t| y[t] as f64).sum::<f64>() / len
        };
        let m = [mean(0), mean(1)];
        let e: Vec<f64> = (0..n)
            .map(|t| {
                let mt = m[usize::from(t >= wb)];
                (y[t] as f64 - mt) / mt.sqrt()
            })
            .collect();
        s0 += e.iter().map(|x| x * x).sum::<f64>();
        s1 += e.windows(2).map(|p| p[0] * p[1]).sum::<f64>();
    }
    if s0.is_nan() || s0 <= 0.0 {
        return None;
    }
    let q = design.residual_projection();
    let a = design.adjacency();
    let mut j = design.adjacency();
    j.v.iter_mut().for_each(|x| *x *= 0.5);
    let qjq = q.mul(&j).mul(&q);
    let (a0, b0) = ((0..n).map(|i| q.at(i, i)).sum::<f64>(), q.trace_of(&a));
    let (a1, b1) = ((0..n).map(|i| qjq.at(i, i)).sum::<f64>(), qjq.trace_of(&a));
    let ratio = |rho: f64| (a1 + rho * b1) / (a0 + rho * b0);
    let target = s1 / s0;
    Some(if target <= ratio(0.0) {
        0.0
    } else if target >= ratio(0.5) {
        0.5
    } else {
        (target * a0 - a1) / (b1 - target * b0)
    })
}

/// Quasi-likelihood inference for a log rate ratio (or log odds ratio) from weekly data: the
/// weekly variance and its degrees of freedom ([`weekly_variance`]), or, with customers given,
/// the larger of it and the customer-clustered one.
fn quasi(
    d: f64,
    (weekly, df): (f64, f64),
    clustered: Option<(f64, u64)>,
    level: Level,
    quality: &mut Quality,
) -> Estimate {
    // With customers given, the variance is the larger of the weekly one (Student t on its
    // degrees of freedom) and the customer-clustered one (t on clusters - 1): either source of
    // noise alone can dominate. (Two-way clustering by customer and week, the customer-clustered
    // variance plus what the weekly one shows beyond the customer-week one, was tried on
    // 2026-12-04 and 2026-12-05 and called more null changes significant when days carry shocks:
    // docs/validation.md.)
    let (var, method, df) = match clustered {
        Some((c, g)) if c > weekly => (c, "customer_clustered", g as f64 - 1.0),
        _ => (weekly, "quasi_likelihood_weekly", df),
    };
    let mut e = infer(d, var.sqrt(), Some(df), level, true, "", quality);
    e.method = method;
    e
}

/// The customer-clustered (CR1) variance of a contrast of log totals, `sum_r a_r ln T_r` over
/// the roles `r` (treated before, treated after, control before, control after), by the delta
/// method: `G/(G-1) * (N-1)/(N-K) * sum_g (sum_r a_r y_gr / T_r)^2` with `y_gr` the events of
/// cluster `g` in role `r`, `K` the roles used and `N = K G` (one row per cluster and role, as in
/// a Poisson GLM on per-customer counts with `cov_type="cluster"`). `rows` holds the cluster and
/// role of every event; events without a cluster are clusters of their own. Returns the
/// variance and the number of clusters.
fn clustered_log_var(
    rows: &mut [(u32, usize)],
    totals: [f64; 4],
    a: [f64; 4],
) -> Option<(f64, u64)> {
    let k = a.iter().filter(|x| **x != 0.0).count() as f64;
    rows.sort_by_key(|r| r.0);
    let mut sum = 0.0;
    let mut g = 0u64;
    let mut i = 0;
    while i < rows.len() {
        let id = rows[i].0;
        let mut u = 0.0;
        loop {
            let role = rows[i].1;
            u += a[role] / totals[role];
            i += 1;
            if id == NONE || i >= rows.len() || rows[i].0 != id {
                break;
            }
        }
        sum += u * u;
        g += 1;
    }
    let (gf, n) = (g as f64, g as f64 * k);
    (g > 1).then(|| (gf / (gf - 1.0) * (n - 1.0) / (n - k) * sum, g))
}

fn volume(
    metric: Metric,
    obs: &Observations<'_>,
    scope: &Scope,
    opts: &EffectOptions,
    bins: &Bins,
    slots: &[usize],
    empty: Option<Window>,
) -> Result<Effect> {
    let selection = bins.selection(opts);
    let n_slots = obs.groups.len() + 1;
    let weeks = whole_weeks(bins);
    let mut week_of = vec![usize::MAX; bins.total];
    for (i, w) in weeks[0].iter().chain(&weeks[1]).enumerate() {
        for &k in w {
            week_of[k] = i;
        }
    }
    let n_weeks = weeks[0].len() + weeks[1].len();
    let wb = weeks[0].len();
    // Events per slot per week (before weeks first).
    let mut counts = vec![vec![0u64; n_weeks]; n_slots];
    for r in 0..obs.at.len() {
        let code = obs.group[r];
        if code == NONE {
            continue;
        }
        let (Some(&slot), Some(k)) = (slots.get(code as usize), bins.bin(obs.at[r])) else {
            continue;
        };
        if week_of[k] != usize::MAX {
            counts[slot][week_of[k]] += 1;
        }
    }
    let total = |slot: usize, w: usize| -> u64 {
        let range = if w == 0 { 0..wb } else { wb..n_weeks };
        range.map(|i| counts[slot][i]).sum()
    };
    // The cluster, slot and window of every event in a whole week, when clusters are given.
    // With correlated weeks the weekly variance carries what a customer-clustered one would
    // add (a heavy contacter's contacts over several weeks are a correlation between weeks), so
    // customers are used only when weeks are taken as independent (docs/effects.md).
    let use_customers = !obs.cluster.is_empty() && opts.week_correlation == WeekCorrelation::Off;
    let clustered_rows: Vec<(u32, usize, usize)> = if !use_customers {
        Vec::new()
    } else {
        (0..obs.at.len())
            .filter_map(|r| {
                let code = obs.group[r];
                let slot = *slots.get(code as usize)?;
                let k = bins.bin(obs.at[r])?;
                let week = week_of[k];
                (week != usize::MAX).then(|| (obs.cluster[r], slot, usize::from(week >= wb)))
            })
            .collect()
    };
    let days = [7 * weeks[0].len() as u64, 7 * weeks[1].len() as u64];
    let rate =
        |slot: usize, w: usize| (days[w] > 0).then(|| total(slot, w) as f64 / days[w] as f64);
    let side = |w: usize| Side {
        value: rate(0, w),
        n: days[w],
        events: Some(total(0, w)),
        clusters: None,
        missing: 0,
    };
    let (before, after) = (side(0), side(1));
    let mut quality = Quality::for_n(total(0, 0).min(total(0, 1)), opts.min_n);
    let unused = u64::from(bins.days_before + bins.days_after) - days[0] - days[1];
    if unused > 0 {
        quality.warnings.push(format!(
            "volume compares whole weeks (so every weekday counts equally): {unused} days outside whole weeks are not used"
        ));
    }
    // Why no estimate can be made for a treated series against (optionally) a pooled control.
    let blocked = |slots_: &[usize]| -> Option<Status> {
        if let Some(w) = empty {
            return Some(Status::EmptyWindow { window: w });
        }
        for (w, win) in [(0, Window::Before), (1, Window::After)] {
            if weeks[w].is_empty() {
                return Some(Status::TooFew {
                    window: win,
                    n: 0,
                    needed: 1,
                });
            }
        }
        if n_weeks < 3 {
            return Some(Status::TooFew {
                window: Window::Before,
                n: weeks[0].len() as u64,
                needed: 2,
            });
        }
        for (w, win) in [(0, Window::Before), (1, Window::After)] {
            if slots_.iter().any(|&s| total(s, w) == 0) {
                return Some(Status::NoData { window: win });
            }
        }
        None
    };

    // The correlation of adjacent weeks, pooled over every series (the treated one and each
    // other group) with `min_n` events in each window.
    let rho = match opts.week_correlation {
        WeekCorrelation::Off => 0.0,
        WeekCorrelation::Pooled if n_weeks >= 3 && wb > 0 && wb < n_weeks => {
            let series: Vec<&[u64]> = (0..n_slots)
                .filter(|&s| total(s, 0) >= opts.min_n.max(1) && total(s, 1) >= opts.min_n.max(1))
                .map(|s| counts[s].as_slice())
                .collect();
            pooled_week_correlation(&series, wb).unwrap_or(0.0)
        }
        WeekCorrelation::Pooled => 0.0,
    };
    let estimate = match blocked(&[0]) {
        Some(s) => Estimate::not(s, ""),
        None => {
            let (tb, ta) = (total(0, 0) as f64, total(0, 1) as f64);
            let means = [tb / wb as f64, ta / (n_weeks - wb) as f64];
            let pearson: f64 = (0..n_weeks)
                .map(|i| {
                    let m = means[usize::from(i >= wb)];
                    (counts[0][i] as f64 - m).powi(2) / m
                })
                .sum();
            let d = (means[1] / means[0]).ln();
            let mut rows: Vec<(u32, usize)> = clustered_rows
                .iter()
                .filter(|r| r.1 == 0)
                .map(|r| (r.0, r.2))
                .collect();
            let clustered = if !use_customers {
                None
            } else {
                clustered_log_var(&mut rows, [tb, ta, 1.0, 1.0], [-1.0, 1.0, 0.0, 0.0])
            };
            let design = WeekDesign {
                window: (0..n_weeks).map(|i| usize::from(i >= wb)).collect(),
                index: (0..n_weeks).collect(),
                weight: (0..n_weeks).map(|i| means[usize::from(i >= wb)]).collect(),
            };
            // d ln T_r = (y_t - mean) / T_r: the contrast on the standardised scale.
            let g: Vec<f64> = (0..n_weeks)
                .map(|i| {
                    let (w, t) = if i >= wb { (1.0, ta) } else { (-1.0, tb) };
                    w * design.weight[i].sqrt() / t
                })
                .collect();
            quasi(
                d,
                weekly_variance(&design, &g, pearson, rho),
                clustered,
                opts.level,
                &mut quality,
            )
        }
    };

    // The events the controls are chosen on: the selection window's when the treated series
    // has `min_n` there, else the before window's (see `means`).
    let pre: Option<Vec<u64>> = selection
        .map(|(from, to)| {
            let mut v = vec![0u64; n_slots];
            for r in 0..obs.at.len() {
                let code = obs.group[r];
                if obs.at[r] < from || obs.at[r] >= to || code == NONE {
                    continue;
                }
                if let Some(&slot) = slots.get(code as usize) {
                    v[slot] += 1;
                }
            }
            v
        })
        .filter(|v| v[0] >= opts.min_n.max(1));
    let level = |slot: usize| match &pre {
        Some(p) => Some(p[slot] as f64),
        None => rate(slot, 0),
    };
    let treated_rate = level(0);
    let mut candidates = Vec::new();
    for (code, &slot) in slots.iter().enumerate() {
        if slot == 0 {
            continue;
        }
        let (nb, na) = (total(slot, 0), total(slot, 1));
        let linked = scope.linked.contains(&(code as u32));
        if nb == 0 && na == 0 && !linked {
            continue;
        }
        let reason = if linked {
            Some("linked to the action, so it may move with it".to_string())
        } else if nb < opts.min_n {
            Some(format!("too few events before: {nb} < {}", opts.min_n))
        } else if pre.as_ref().is_some_and(|p| p[slot] == 0) {
            Some(format!(
                "no event in the {} days the controls are chosen on",
                opts.before_days
            ))
        } else {
            None
        };
        let dist = match (treated_rate, level(slot)) {
            (Some(t), Some(c)) if t > 0.0 && c > 0.0 => Some((c / t).ln().abs()),
            _ => None,
        };
        candidates.push((code as u32, slot, reason, dist));
    }
    let on = chosen_on_text(pre.is_some(), opts.before_days);
    let chosen = choose(
        &mut candidates,
        &opts.controls,
        |c| c.3,
        |code| total(slots[code as usize], 0),
    );
    let cand_out = describe(
        obs,
        &candidates,
        &chosen,
        &opts.controls,
        |slot| (rate(slot, 0), total(slot, 0), total(slot, 1)),
        |d| format!("volume {:.0}% apart{on}", (d.exp() - 1.0) * 100.0),
    );

    let did_est = if let ControlRule::Off = opts.controls {
        Estimate::not(
            Status::NoControls {
                reason: "controls are off".into(),
            },
            "",
        )
    } else if let Some(s) = blocked(&[0]) {
        Estimate::not(s, "")
    } else if chosen.is_empty() {
        Estimate::not(
            Status::NoControls {
                reason: no_control_reason(&candidates),
            },
            "",
        )
    } else {
        // The controls pooled into one series; the treated share of treated + control events
        // per week is binomial given the week's total, and the log odds ratio of that share
        // after vs before is the log of (T_a / C_a) / (T_b / C_b).
        let control: Vec<u64> = (0..n_weeks)
            .map(|i| chosen.iter().map(|&s| counts[s][i]).sum())
            .collect();
        let (tb, ta) = (total(0, 0) as f64, total(0, 1) as f64);
        let cb: f64 = control[..wb].iter().sum::<u64>() as f64;
        let ca: f64 = control[wb..].iter().sum::<u64>() as f64;
        if cb == 0.0 || ca == 0.0 {
            Estimate::not(
                Status::NoData {
                    window: if cb == 0.0 {
                        Window::Before
                    } else {
                        Window::After
                    },
                },
                "",
            )
        } else {
            let p = [tb / (tb + cb), ta / (ta + ca)];
            let total = [tb + cb, ta + ca];
            let mut pearson = 0.0;
            let mut used = 0;
            let mut design = WeekDesign {
                window: Vec::new(),
                index: Vec::new(),
                weight: Vec::new(),
            };
            let mut g = Vec::new();
            for i in 0..n_weeks {
                let n = (counts[0][i] + control[i]) as f64;
                if n == 0.0 {
                    continue;
                }
                let w = usize::from(i >= wb);
                let pi = p[w];
                pearson += (counts[0][i] as f64 - n * pi).powi(2) / (n * pi * (1.0 - pi));
                used += 1;
                let v = n * pi * (1.0 - pi);
                design.window.push(w);
                design.index.push(i);
                design.weight.push(v);
                // d logit(p_r) = (T_t - N_t p_r) / (N_r p_r (1 - p_r)).
                let sign = if w == 1 { 1.0 } else { -1.0 };
                g.push(sign * v.sqrt() / (total[w] * pi * (1.0 - pi)));
            }
            let d = (ta / ca).ln() - (tb / cb).ln();
            if used < 3 {
                Estimate::not(
                    Status::TooFew {
                        window: Window::Before,
                        n: used as u64,
                        needed: 3,
                    },
                    "",
                )
            } else {
                let mut rows: Vec<(u32, usize)> = clustered_rows
                    .iter()
                    .filter_map(|r| {
                        if r.1 == 0 {
                            Some((r.0, r.2))
                        } else if chosen.contains(&r.1) {
                            Some((r.0, 2 + r.2))
                        } else {
                            None
                        }
                    })
                    .collect();
                let clustered = if !use_customers {
                    None
                } else {
                    clustered_log_var(&mut rows, [tb, ta, cb, ca], [-1.0, 1.0, 1.0, -1.0])
                };
                quasi(
                    d,
                    weekly_variance(&design, &g, pearson, rho),
                    clustered,
                    opts.level,
                    &mut quality,
                )
            }
        }
    };
    note_status(&mut quality, &estimate.status, "before/after");
    note_status(&mut quality, &did_est.status, "difference-in-differences");
    Ok(Effect {
        metric,
        scale: metric.scale(),
        windows: Windows {
            controls_from: pre.as_ref().and(selection.map(|w| w.0)),
            controls_to: pre.as_ref().and(selection.map(|w| w.1)),
            ..Windows::default()
        },
        before,
        after,
        estimate,
        level: opts.level.get(),
        did: Did {
            estimate: did_est,
            controls: chosen_names(obs, &candidates, &chosen),
            rule: opts.controls.clone(),
        },
        candidates: cand_out,
        quality,
    })
}

#[cfg(test)]
mod tests;
