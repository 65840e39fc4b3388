//! `truth.json`: what the generator put into the data on purpose (driver weights, churners,
//! injected effects, the intended Pareto shape) and what it realised, so later analytics can be
//! checked against known answers. This is a versioned file format (`format`), separate from the
//! generator's internal state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole of `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Version of this file's layout.
    pub format: u32,
    pub generator: String,
    pub config: TruthConfig,
    /// Data rows per file name (headers not counted).
    pub rows: BTreeMap<String, u64>,
    /// Signal rows / (customers x months): the realised volume ratio.
    pub signals_per_customer_month: f64,
    /// The true weight of each aspect in `overall` (keys are aspect names without `aspect_`).
    pub driver_weights: BTreeMap<String, f64>,
    pub drivers: Drivers,
    /// Every churned customer, in customer order.
    pub churned: Vec<Churned>,
    pub churn: ChurnTruth,
    pub effects: Vec<Effect>,
    pub pareto: Pareto,
    /// The topic taxonomy, `topic/subtopic`, in catalogue order.
    pub taxonomy: Vec<String>,
    pub mix: Mix,
    pub cases: CaseTruth,
}

/// The config the data was generated from (the seed and every knob that changes the bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthConfig {
    pub customers: u64,
    pub months: u32,
    pub seed: u64,
    /// First day of the window (`YYYY-MM-DD`).
    pub start: String,
    /// First day after the window.
    pub end: String,
    pub signals_per_customer_month: f64,
    pub products: u32,
    pub agents: u32,
    pub customer_sigma: f64,
    pub product_sigma: f64,
    pub labelled_topic_share: f64,
    pub monthly_churn: f64,
    /// No customer joins or churns during the window (`GenConfig::stationary`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stationary: bool,
    /// Day-to-day volume noise, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseTruth>,
}

/// The volume noise settings (see `VolumeNoise`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseTruth {
    pub sd: f64,
    pub rho: f64,
    pub common: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drivers {
    /// How `overall` was made from the aspects.
    pub model: String,
    /// Standard deviation of the normal noise added before rounding.
    pub noise_sd: f64,
    /// Survey responses written.
    pub responses: u64,
    /// Ordinary least squares of overall on the aspects over all responses written (an
    /// `intercept` key plus one per aspect): what an analysis of the files should find.
    pub realised_ols: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Churned {
    pub customer_id: String,
    /// `YYYY-MM-DD`; the same value as customers.csv `churned_at`.
    pub churned_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnTruth {
    pub customers: u64,
    /// Warning signals (negative complaints, sometimes a low survey) fall this many days before
    /// `churned_at` (min, max).
    pub warning_days_before: [u32; 2],
    /// Then the customer is silent: no signal or survey in this many days before `churned_at`
    /// (min, max), nor after it.
    pub silent_days_before: [u32; 2],
}

/// An effect injected on purpose, with its date and its true size. `true_change` is on the scale
/// Hearken measures the metric on: relative (`after / before - 1`) for volumes and stage times,
/// points for net sentiment, repeat rate and NPS. For the shifts it is the average effect on the
/// units after the date, from each unit's two outcomes (with and without the shift, drawn from the
/// same random numbers), so it is the change an analysis of the files should find.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// One week with `multiplier` times the usual volume.
    Spike {
        topic: String,
        /// First day of the week (`YYYY-MM-DD`), a Monday by default.
        week_start: String,
        /// First day after the week.
        week_end: String,
        multiplier: f64,
        /// Signals of the topic (labelled or not) in the week.
        realised_count_in_week: u64,
        /// Mean signals of the topic per full week over the other full weeks of the window.
        realised_mean_weekly_count_elsewhere: f64,
    },
    /// From `at` on, the topic's volume is `factor` times what it was.
    Improvement {
        topic: String,
        /// `YYYY-MM-DD`.
        at: String,
        factor: f64,
        /// Signals of the topic per week (7 x per day) before and after `at`.
        realised_weekly_rate_before: f64,
        realised_weekly_rate_after: f64,
        /// The topic's signals from `at` on, over what they would have been without the
        /// improvement, minus 1. Without it the removed contacts and the follow-ups on the cases
        /// they would have opened are made (the generator simulates them from the same random
        /// numbers and does not write them), so this is a little below `factor - 1`.
        #[serde(default)]
        true_change: f64,
        /// Signals of the topic from `at` on: written, and removed by the improvement.
        #[serde(default)]
        signals_after: u64,
        #[serde(default)]
        removed_after: u64,
    },
    /// From `at` on, a share of the topic's would-be negative signals are neutral.
    SentimentShift {
        topic: String,
        at: String,
        share: f64,
        /// Net sentiment (VADER compound >= 0.05 positive, <= -0.05 negative, in points) of the
        /// topic's signals from `at` on, minus what it would have been without the shift.
        true_change: f64,
        /// Signals of the topic from `at` on (the denominator).
        signals_after: u64,
        /// Of which written neutral instead of negative.
        converted: u64,
    },
    /// From `at` on, follow-up contacts on the topic's open cases happen with probability
    /// `factor`.
    RepeatShift {
        topic: String,
        at: String,
        factor: f64,
        /// A contact is a repeat when the same customer contacted about the same topic at most
        /// this many days earlier.
        window_days: u32,
        /// Repeat rate (points) of the topic's customer contacts from `at` on, minus the rate the
        /// same customers would have had with the dropped follow-ups made.
        true_change: f64,
        contacts_after: u64,
        dropped: u64,
    },
    /// From `at` on, the segment's NPS answers are drawn `shift` points higher.
    NpsShift {
        segment: String,
        at: String,
        shift: f64,
        /// NPS points: the mean over the segment's responses from `at` on of the change in
        /// category (detractor -100, passive 0, promoter 100) the shift made.
        true_change: f64,
        responses_after: u64,
    },
    /// Visits to `stage` from `at` on last `factor` times as long.
    StageTimeShift {
        stage: String,
        at: String,
        factor: f64,
        /// Relative change of the mean time in the stage over the visits from `at` on (the
        /// next event's fixed minute is not scaled, so this is a hair from `factor - 1`).
        true_change: f64,
        visits_after: u64,
    },
    /// From `at` on, every topic's volume is `factor` times what it was.
    Season { at: String, factor: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pareto {
    pub customers: ParetoShape,
    pub products: ParetoShape,
}

/// The heavy tail of contacts per entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoShape {
    /// Distribution of the activity weight (`lognormal`).
    pub distribution: String,
    pub sigma: f64,
    /// Share of total weight held by the top 20% of entities under that distribution
    /// (1 - Phi(z_0.8 - sigma)); counts add Poisson noise and partial activity on top.
    pub intended_top20_share: f64,
    /// Share of signals from the 20% of entities (all of them, including those with no signal)
    /// with the most signals.
    pub realised_top20_share: f64,
    pub entities: u64,
    /// Signals counted (customer signals for customers, signals with a product for products).
    pub contacts: u64,
}

/// Signal counts by value, over the whole signals file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mix {
    pub kinds: BTreeMap<String, u64>,
    pub channels: BTreeMap<String, u64>,
    pub sources: BTreeMap<String, u64>,
    pub stages: BTreeMap<String, u64>,
    /// True topic of every signal that has one, labelled or not.
    pub topics: BTreeMap<String, u64>,
    /// Signals whose `topic` column is filled.
    pub labelled: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTruth {
    pub cases: u64,
    /// Cases with no `closed` event by the end of the window.
    pub open_at_end: u64,
    /// Reassignments from one agent to another (the first assignment not counted).
    pub transfers: u64,
    pub escalated: u64,
    pub reopened: u64,
    /// Closed cases resolved by the agent first assigned (no transfer, no escalation).
    pub resolved_by_original_owner: u64,
    pub closed: u64,
}

impl Truth {
    pub fn to_json(&self) -> String {
        // Serialising plain structs, maps with string keys and finite floats cannot fail; the
        // fallback keeps the signature infallible without a panic path.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn from_json(text: &str) -> Result<Truth, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Share of the total held by the top 20% of entities, from a histogram count -> entities.
pub(crate) fn top20_share(hist: &BTreeMap<u64, u64>, entities: u64) -> f64 {
    let total: u64 = hist.iter().map(|(c, n)| c * n).sum();
    if total == 0 || entities == 0 {
        return 0.0;
    }
    let mut left = entities.div_ceil(5);
    let mut top = 0u64;
    for (count, n) in hist.iter().rev() {
        let take = left.min(*n);
        top += take * count;
        left -= take;
        if left == 0 {
            break;
        }
    }
    top as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top20_share_from_histogram_matches_sorting() {
        let counts: Vec<u64> = vec![0, 0, 1, 1, 2, 3, 5, 8, 13, 40];
        let mut hist = BTreeMap::new();
        for c in &counts {
            *hist.entry(*c).or_insert(0) += 1;
        }
        let mut sorted = counts.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let total: u64 = counts.iter().sum();
        let expected = sorted[..2].iter().sum::<u64>() as f64 / total as f64;
        assert!((top20_share(&hist, counts.len() as u64) - expected).abs() < 1e-12);
        assert_eq!(top20_share(&BTreeMap::new(), 0), 0.0);
    }
}
