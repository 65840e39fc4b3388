//! The cost of quality: what the organisation spends preventing, finding and suffering failures,
//! in money, from its signals and case activities, and the cost of avoidable (repeat) contacts.
//!
//! A [`CostConfig`] (the `[cost]` section of `hearken.toml`) maps topics, signal kinds and case
//! activities to one of the four categories of the cost of quality (prevention, appraisal,
//! internal failure, external failure; Feigenbaum's PAF model) with a unit cost, and adds fixed
//! costs per month (training, audits: prevention and appraisal rarely show up as signals):
//!
//! ```toml
//! [cost]
//! currency = "EUR"
//! avoidable_contact = 6.5          # handling one contact; prices the repeat contacts
//! [cost.topics]
//! "billing/double_charge" = { category = "external_failure", unit_cost = 12 }
//! "billing" = { category = "external_failure", unit_cost = 8 }   # every billing/* subtopic
//! [cost.kinds]
//! complaint = { category = "external_failure", unit_cost = 5 }
//! [cost.activities]
//! escalated = { category = "internal_failure", unit_cost = 25 }
//! reopened = { category = "internal_failure", unit_cost = 30 }
//! [cost.fixed]
//! "quality training" = { category = "prevention", per_month = 2000 }
//! ```
//!
//! Each signal is costed once, by the most specific rule: its exact topic, else its parent topic
//! (the part before `/`), else its kind; unmatched signals are counted apart. Each case event is
//! costed by its activity (names compared case-insensitively, `_` and `-` read as spaces) and
//! attributed to the topic and product of its case (from the case's first signal). Fixed costs
//! are prorated to the window's days (a month is 365.25 / 12 days). A contact is avoidable when
//! it repeats the same customer's contact on the same topic within `repeat_window_days`
//! (`repeats.rs`; contacts before the window count as the first contact).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::frame::{Dict, NONE, SignalFrame};
use crate::repeats::repeat_flags;

const DAY: i64 = 86_400;

/// A mistake in a cost mapping, naming the key and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CostError {
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("the [cost] section is not valid TOML or has an unknown key: {0}")]
    Parse(String),
    #[error("the window's end {to} is not after its start {from}; give a later end")]
    Window { from: i64, to: i64 },
}

/// The four categories of the cost of quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Prevention,
    Appraisal,
    InternalFailure,
    ExternalFailure,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Prevention,
        Category::Appraisal,
        Category::InternalFailure,
        Category::ExternalFailure,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Prevention => "prevention",
            Category::Appraisal => "appraisal",
            Category::InternalFailure => "internal_failure",
            Category::ExternalFailure => "external_failure",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// A unit cost in a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRule {
    pub category: Category,
    pub unit_cost: f64,
}

/// A fixed cost per month in a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedCost {
    pub category: Category,
    pub per_month: f64,
}

fn seven() -> u32 {
    7
}

/// The `[cost]` section of `hearken.toml` (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    #[serde(default)]
    pub currency: Option<String>,
    /// The cost of handling one contact, for the cost of avoidable contacts.
    #[serde(default)]
    pub avoidable_contact: Option<f64>,
    #[serde(default = "seven")]
    pub repeat_window_days: u32,
    #[serde(default)]
    pub topics: BTreeMap<String, CostRule>,
    #[serde(default)]
    pub kinds: BTreeMap<String, CostRule>,
    #[serde(default)]
    pub activities: BTreeMap<String, CostRule>,
    #[serde(default)]
    pub fixed: BTreeMap<String, FixedCost>,
}

impl Default for CostConfig {
    fn default() -> CostConfig {
        CostConfig {
            currency: None,
            avoidable_contact: None,
            repeat_window_days: 7,
            topics: BTreeMap::new(),
            kinds: BTreeMap::new(),
            activities: BTreeMap::new(),
            fixed: BTreeMap::new(),
        }
    }
}

/// Activity names compared: lowercase, `_`, `-` and runs of spaces read as one space.
fn fold(name: &str) -> String {
    name.split(|c: char| c == '_' || c == '-' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn invalid(key: String, reason: String) -> CostError {
    CostError::Invalid { key, reason }
}

/// The known name closest to `name` (by edit distance), for a hint.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    fn dist(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, &cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }
    known
        .map(|k| (dist(name, k), k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

impl CostConfig {
    /// Reads a TOML document whose top level is the `[cost]` table's content.
    pub fn from_toml(text: &str) -> Result<CostConfig, CostError> {
        toml::from_str(text).map_err(|e| CostError::Parse(e.to_string()))
    }

    /// Checks the amounts: every unit cost and fixed cost finite and not negative, the repeat
    /// window 1 to 365 days.
    pub fn check_amounts(&self) -> Result<(), CostError> {
        let amount = |key: String, v: f64| -> Result<(), CostError> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(invalid(key, format!("is {v}; give a cost of 0 or more")))
            }
        };
        if let Some(v) = self.avoidable_contact {
            amount("cost.avoidable_contact".into(), v)?;
        }
        if !(1..=365).contains(&self.repeat_window_days) {
            return Err(invalid(
                "cost.repeat_window_days".into(),
                format!("is {}; give 1 to 365 days", self.repeat_window_days),
            ));
        }
        for (table, rules) in [
            ("topics", &self.topics),
            ("kinds", &self.kinds),
            ("activities", &self.activities),
        ] {
            for (name, rule) in rules {
                amount(format!("cost.{table}.\"{name}\".unit_cost"), rule.unit_cost)?;
            }
        }
        for (name, fixed) in &self.fixed {
            amount(format!("cost.fixed.\"{name}\".per_month"), fixed.per_month)?;
        }
        Ok(())
    }

    /// Checks the mapping against the data: the amounts ([`CostConfig::check_amounts`]), every
    /// topic a topic (or parent topic) the signals have, every kind a signal kind, every
    /// activity one the case events have (when `known_activities` is given).
    pub fn validate(
        &self,
        known_topics: &[String],
        known_activities: Option<&[String]>,
    ) -> Result<(), CostError> {
        self.check_amounts()?;
        let parents: Vec<&str> = known_topics
            .iter()
            .filter_map(|t| t.split_once('/').map(|(p, _)| p))
            .collect();
        for topic in self.topics.keys() {
            if !known_topics.iter().any(|t| t == topic) && !parents.contains(&topic.as_str()) {
                let hint = closest(
                    topic,
                    known_topics
                        .iter()
                        .map(String::as_str)
                        .chain(parents.iter().copied()),
                )
                .map_or(String::new(), |c| format!(" (did you mean `{c}`?)"));
                return Err(invalid(
                    format!("cost.topics.\"{topic}\""),
                    format!(
                        "no signal has the topic `{topic}`{hint}; name a topic or parent topic of the taxonomy ({} known)",
                        known_topics.len()
                    ),
                ));
            }
        }
        for kind in self.kinds.keys() {
            if hearken_model::SignalKind::parse("kind", kind).is_err() {
                let names: Vec<&str> = hearken_model::SignalKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect();
                return Err(invalid(
                    format!("cost.kinds.\"{kind}\""),
                    format!(
                        "`{kind}` is not a signal kind; use one of: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        if let Some(known) = known_activities {
            for activity in self.activities.keys() {
                let f = fold(activity);
                if !known.iter().any(|k| fold(k) == f) {
                    let hint = closest(activity, known.iter().map(String::as_str))
                        .map_or(String::new(), |c| format!(" (did you mean `{c}`?)"));
                    return Err(invalid(
                        format!("cost.activities.\"{activity}\""),
                        format!("no case event has the activity `{activity}`{hint}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Case events by the signal frame's case codes, with their activity names dictionary-coded.
#[derive(Debug, Clone, Default)]
pub struct CaseActivities {
    pub case: Vec<u32>,
    pub at: Vec<i64>,
    pub activity: Vec<u32>,
    pub activities: Dict,
}

/// Money in each category, in the order of [`Category::ALL`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Amounts(pub [f64; 4]);

impl Amounts {
    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }
    fn add(&mut self, c: Category, v: f64) {
        self.0[c.index()] += v;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCost {
    pub category: Category,
    pub amount: f64,
    /// Signals and case events costed in the category.
    pub items: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupCost {
    /// The topic or product (`(none)` for items without one).
    pub group: String,
    pub amount: f64,
    /// Per category, in the order of [`Category::ALL`].
    pub by_category: Amounts,
    pub signals: u64,
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedLine {
    pub name: String,
    pub category: Category,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvoidableTopic {
    pub topic: String,
    pub repeats: u64,
    pub amount: Option<f64>,
}

/// The cost of avoidable (repeat) contacts in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Avoidable {
    pub window_days: u32,
    /// Contacts in the window with a customer and a topic.
    pub eligible: u64,
    pub repeats: u64,
    pub unit_cost: Option<f64>,
    /// `repeats x unit_cost`; `None` without `avoidable_contact`.
    pub amount: Option<f64>,
    /// Most repeats first.
    pub by_topic: Vec<AvoidableTopic>,
}

/// The cost of quality in a window `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub from: i64,
    pub to: i64,
    pub days: f64,
    pub currency: Option<String>,
    pub total: f64,
    pub by_category: Vec<CategoryCost>,
    /// Largest amount first.
    pub by_topic: Vec<GroupCost>,
    pub by_product: Vec<GroupCost>,
    pub fixed: Vec<FixedLine>,
    pub avoidable: Avoidable,
    /// Signals and case events in the window no rule prices.
    pub unpriced_signals: u64,
    pub unpriced_events: u64,
    pub notes: Vec<String>,
}

const NONE_GROUP: &str = "(none)";

/// Costs the signals and case events of `[from, to)` by the mapping. The configuration should
/// have been checked with [`CostConfig::validate`]; a negative or NaN cost is refused here too.
pub fn cost_of_quality(
    cfg: &CostConfig,
    signals: &SignalFrame,
    events: &CaseActivities,
    from: i64,
    to: i64,
) -> Result<CostReport, CostError> {
    if to <= from {
        return Err(CostError::Window { from, to });
    }
    // Names are checked against the data by the caller ([`CostConfig::validate`]).
    cfg.check_amounts()?;
    let s = signals;
    let n = s.at.len();
    let topic_of = |r: usize| s.topic.get(r).copied().unwrap_or(NONE);
    let product_of = |r: usize| s.product.get(r).copied().unwrap_or(NONE);

    // Rules resolved per topic code and per kind code.
    let topic_rule: Vec<Option<&CostRule>> = s
        .topics
        .names
        .iter()
        .map(|t| {
            cfg.topics.get(t).or_else(|| {
                t.split_once('/')
                    .and_then(|(parent, _)| cfg.topics.get(parent))
            })
        })
        .collect();
    let kind_rule: BTreeMap<u8, &CostRule> = cfg
        .kinds
        .iter()
        .filter_map(|(k, r)| {
            hearken_model::SignalKind::parse("kind", k)
                .ok()
                .map(|k| (k.code(), r))
        })
        .collect();
    let activity_rule: Vec<Option<&CostRule>> = events
        .activities
        .names
        .iter()
        .map(|a| {
            let f = fold(a);
            cfg.activities
                .iter()
                .find(|(k, _)| fold(k) == f)
                .map(|(_, r)| r)
        })
        .collect();

    let n_topics = s.topics.len();
    let n_products = s.products.len();
    // Slot `len` of each table is "(none)".
    let mut by_topic = vec![(Amounts::default(), 0u64, 0u64); n_topics + 1];
    let mut by_product = vec![(Amounts::default(), 0u64, 0u64); n_products + 1];
    let mut by_category = [(0.0f64, 0u64); 4];
    let slot = |code: u32, len: usize| {
        if (code as usize) < len {
            code as usize
        } else {
            len
        }
    };
    let mut unpriced_signals = 0;
    for r in 0..n {
        if s.at[r] < from || s.at[r] >= to {
            continue;
        }
        let t = topic_of(r);
        let rule = topic_rule
            .get(t as usize)
            .copied()
            .flatten()
            .or_else(|| s.kind.get(r).and_then(|k| kind_rule.get(k).copied()));
        let Some(rule) = rule else {
            unpriced_signals += 1;
            continue;
        };
        let c = rule.category;
        by_category[c.index()].0 += rule.unit_cost;
        by_category[c.index()].1 += 1;
        let tt = &mut by_topic[slot(t, n_topics)];
        tt.0.add(c, rule.unit_cost);
        tt.1 += 1;
        let pp = &mut by_product[slot(product_of(r), n_products)];
        pp.0.add(c, rule.unit_cost);
        pp.1 += 1;
    }

    // Each case's topic and product: those of its first signal that has one.
    let n_cases = s
        .case
        .iter()
        .chain(&events.case)
        .filter(|&&c| c != NONE)
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut case_first = vec![(i64::MAX, NONE, i64::MAX, NONE); n_cases];
    for r in 0..s.case.len() {
        let k = s.case[r];
        if k == NONE {
            continue;
        }
        let e = &mut case_first[k as usize];
        let (t, p) = (topic_of(r), product_of(r));
        if t != NONE && s.at[r] < e.0 {
            e.0 = s.at[r];
            e.1 = t;
        }
        if p != NONE && s.at[r] < e.2 {
            e.2 = s.at[r];
            e.3 = p;
        }
    }
    let mut unpriced_events = 0;
    for i in 0..events.at.len() {
        if events.at[i] < from || events.at[i] >= to {
            continue;
        }
        let Some(rule) = activity_rule
            .get(events.activity[i] as usize)
            .copied()
            .flatten()
        else {
            unpriced_events += 1;
            continue;
        };
        let c = rule.category;
        by_category[c.index()].0 += rule.unit_cost;
        by_category[c.index()].1 += 1;
        let (t, p) = case_first
            .get(events.case[i] as usize)
            .map_or((NONE, NONE), |e| (e.1, e.3));
        let tt = &mut by_topic[slot(t, n_topics)];
        tt.0.add(c, rule.unit_cost);
        tt.2 += 1;
        let pp = &mut by_product[slot(p, n_products)];
        pp.0.add(c, rule.unit_cost);
        pp.2 += 1;
    }

    let days = (to - from) as f64 / DAY as f64;
    let month_days = 365.25 / 12.0;
    let fixed: Vec<FixedLine> = cfg
        .fixed
        .iter()
        .map(|(name, f)| FixedLine {
            name: name.clone(),
            category: f.category,
            amount: f.per_month * days / month_days,
        })
        .collect();
    for f in &fixed {
        by_category[f.category.index()].0 += f.amount;
    }

    // Avoidable contacts: repeat flags over every signal (earlier ones count as the first
    // contact), counted in the window.
    let customer_len = s.customers.len().max(
        s.customer
            .iter()
            .filter(|&&c| c != NONE)
            .map(|&c| c as usize + 1)
            .max()
            .unwrap_or(0),
    );
    let topic_len = n_topics.max(
        s.topic
            .iter()
            .filter(|&&c| c != NONE)
            .map(|&c| c as usize + 1)
            .max()
            .unwrap_or(0),
    );
    let flags = if s.topic.len() == n && s.customer.len() == n {
        repeat_flags(
            &s.at,
            &s.customer,
            &s.topic,
            customer_len,
            topic_len,
            cfg.repeat_window_days,
        )
        .map_err(|e| invalid("signals".into(), e.to_string()))?
    } else {
        vec![None; n]
    };
    let mut eligible = 0u64;
    let mut repeats = 0u64;
    let mut topic_repeats = vec![0u64; topic_len];
    for r in 0..n {
        if s.at[r] < from || s.at[r] >= to {
            continue;
        }
        if let Some(rep) = flags[r] {
            eligible += 1;
            if rep {
                repeats += 1;
                topic_repeats[topic_of(r) as usize] += 1;
            }
        }
    }
    let unit = cfg.avoidable_contact;
    let mut avoidable_topics: Vec<AvoidableTopic> = topic_repeats
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(t, &n)| AvoidableTopic {
            topic: s
                .topics
                .name(t as u32)
                .map_or_else(|| format!("#{t}"), str::to_string),
            repeats: n,
            amount: unit.map(|u| u * n as f64),
        })
        .collect();
    avoidable_topics.sort_by(|a, b| {
        b.repeats
            .cmp(&a.repeats)
            .then_with(|| a.topic.cmp(&b.topic))
    });

    let groups = |table: Vec<(Amounts, u64, u64)>, dict: &Dict| -> Vec<GroupCost> {
        let len = table.len() - 1;
        let mut out: Vec<GroupCost> = table
            .into_iter()
            .enumerate()
            .filter(|(_, (_, sg, ev))| sg + ev > 0)
            .map(|(i, (a, sg, ev))| GroupCost {
                group: if i == len {
                    NONE_GROUP.to_string()
                } else {
                    dict.name(i as u32)
                        .map_or_else(|| format!("#{i}"), str::to_string)
                },
                amount: a.total(),
                by_category: a,
                signals: sg,
                events: ev,
            })
            .collect();
        out.sort_by(|a, b| {
            b.amount
                .total_cmp(&a.amount)
                .then_with(|| a.group.cmp(&b.group))
        });
        out
    };
    let by_category: Vec<CategoryCost> = Category::ALL
        .iter()
        .map(|&c| CategoryCost {
            category: c,
            amount: by_category[c.index()].0,
            items: by_category[c.index()].1,
        })
        .collect();
    let mut notes = Vec::new();
    if cfg.topics.is_empty()
        && cfg.kinds.is_empty()
        && cfg.activities.is_empty()
        && cfg.fixed.is_empty()
    {
        notes.push("no cost mapping: add a [cost] section to hearken.toml to price topics, kinds and activities".into());
    }
    if unit.is_none() {
        notes.push(
            "no cost per contact: set cost.avoidable_contact to price the avoidable contacts"
                .into(),
        );
    }
    Ok(CostReport {
        from,
        to,
        days,
        currency: cfg.currency.clone(),
        total: by_category.iter().map(|c| c.amount).sum(),
        by_category,
        by_topic: groups(by_topic, &s.topics),
        by_product: groups(by_product, &s.products),
        fixed,
        avoidable: Avoidable {
            window_days: cfg.repeat_window_days,
            eligible,
            repeats,
            unit_cost: unit,
            amount: unit.map(|u| u * repeats as f64),
            by_topic: avoidable_topics,
        },
        unpriced_signals,
        unpriced_events,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"
currency = "EUR"
avoidable_contact = 5
[topics]
"billing/double_charge" = { category = "external_failure", unit_cost = 12 }
"network" = { category = "external_failure", unit_cost = 3 }
[kinds]
complaint = { category = "internal_failure", unit_cost = 2 }
[activities]
escalated = { category = "internal_failure", unit_cost = 25 }
[fixed]
training = { category = "prevention", per_month = 100 }
"#;

    fn topics() -> Vec<String> {
        vec!["billing/double_charge".into(), "network/outage".into()]
    }

    #[test]
    fn mapping_errors_name_the_key() {
        let cfg = CostConfig::from_toml(CFG).unwrap();
        cfg.validate(&topics(), Some(&["Escalated".into()]))
            .unwrap();
        let err = |text: &str| {
            CostConfig::from_toml(text)
                .and_then(|c| c.validate(&topics(), Some(&["escalated".into()])))
                .unwrap_err()
                .to_string()
        };
        let e =
            err("[topics]\n\"biling/double_charge\" = { category = \"appraisal\", unit_cost = 1 }");
        assert!(
            e.contains("cost.topics.\"biling/double_charge\"")
                && e.contains("did you mean `billing/double_charge`"),
            "{e}"
        );
        let e = err("[kinds]\ncomplaint = { category = \"appraisal\", unit_cost = -1 }");
        assert!(
            e.contains("cost.kinds.\"complaint\".unit_cost: is -1"),
            "{e}"
        );
        let e = err("[kinds]\nmoan = { category = \"appraisal\", unit_cost = 1 }");
        assert!(e.contains("not a signal kind"), "{e}");
        let e = err("[activities]\nescalation = { category = \"appraisal\", unit_cost = 1 }");
        assert!(e.contains("did you mean `escalated`"), "{e}");
        let e = err("[topics]\nnetwork = { category = \"failure\", unit_cost = 1 }");
        assert!(e.contains("unknown variant"), "{e}");
        let e = err("avoidable_contact = -2");
        assert!(e.contains("cost.avoidable_contact: is -2"), "{e}");
        let e = err("colour = 1");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn empty_window_is_refused_and_no_data_is_zero_with_notes() {
        let cfg = CostConfig::default();
        let s = SignalFrame::default();
        let e = CaseActivities::default();
        assert!(cost_of_quality(&cfg, &s, &e, 10, 10).is_err());
        let r = cost_of_quality(&cfg, &s, &e, 0, 30 * DAY).unwrap();
        assert_eq!(r.total, 0.0);
        assert_eq!(r.avoidable.amount, None);
        assert_eq!(r.notes.len(), 2);
    }
}
