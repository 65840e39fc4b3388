//! The organisation's topic tree: topics with optional subtopics, written `topic/subtopic`.
//!
//! Owns label parsing and roll-up of subtopic probabilities to their topic, so that a text whose
//! subtopic is uncertain can still be counted under a confident topic.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TopicsError};

/// Splits `topic/subtopic` (or a bare `topic`) into its parts; whitespace around parts is
/// trimmed. Fails on empty parts and deeper paths.
pub fn split_label(label: &str) -> Result<(&str, Option<&str>)> {
    let bad = || TopicsError::BadLabel(label.to_string());
    let mut parts = label.split('/');
    let topic = parts
        .next()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(bad)?;
    let sub = match parts.next() {
        None => None,
        Some(s) if !s.trim().is_empty() => Some(s.trim()),
        Some(_) => return Err(bad()),
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((topic, sub))
}

/// Topics and their subtopics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    topics: BTreeMap<String, BTreeSet<String>>,
}

/// A prediction at both levels of the taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyPrediction {
    /// The most probable topic (its probability summed over its subtopics), or `None` below the
    /// threshold.
    pub topic: Option<String>,
    pub topic_probability: f32,
    /// The most probable subtopic of that topic when it too reaches the threshold.
    pub subtopic: Option<String>,
    pub subtopic_probability: f32,
}

impl Taxonomy {
    /// Builds the tree from labels such as `billing/refund`, `billing` and `delivery/late`.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Result<Taxonomy> {
        let mut t = Taxonomy::default();
        for l in labels {
            let (topic, sub) = split_label(l)?;
            let subs = t.topics.entry(topic.to_string()).or_default();
            if let Some(s) = sub {
                subs.insert(s.to_string());
            }
        }
        Ok(t)
    }

    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// Subtopics of `topic` (none for an unknown topic).
    pub fn subtopics(&self, topic: &str) -> impl Iterator<Item = &str> {
        self.topics
            .get(topic)
            .into_iter()
            .flat_map(|s| s.iter().map(String::as_str))
    }

    /// Whether `label` (`topic` or `topic/subtopic`) is in the tree.
    pub fn contains(&self, label: &str) -> bool {
        match split_label(label) {
            Ok((t, None)) => self.topics.contains_key(t),
            Ok((t, Some(s))) => self.topics.get(t).is_some_and(|subs| subs.contains(s)),
            Err(_) => false,
        }
    }

    /// Rolls label probabilities (labels as in this taxonomy) up to topics and picks the best
    /// topic, then its best subtopic; each is reported only when it reaches `threshold`.
    /// Labels that are not valid paths are ignored.
    pub fn roll_up(&self, probabilities: &[(&str, f32)], threshold: f32) -> TaxonomyPrediction {
        // Per topic: summed probability and its best subtopic.
        type Rolled<'a> = (f32, Option<(&'a str, f32)>);
        let mut by_topic: BTreeMap<&str, Rolled> = BTreeMap::new();
        for &(label, p) in probabilities {
            let Ok((topic, sub)) = split_label(label) else {
                continue;
            };
            let e = by_topic.entry(topic).or_insert((0.0, None));
            e.0 += p;
            if let Some(s) = sub
                && e.1.is_none_or(|(_, best)| p > best)
            {
                e.1 = Some((s, p));
            }
        }
        let best = by_topic.iter().fold(
            None::<(&str, f32, Option<(&str, f32)>)>,
            |acc, (&t, &(p, s))| match acc {
                Some((_, bp, _)) if bp >= p => acc,
                _ => Some((t, p, s)),
            },
        );
        let Some((topic, tp, sub)) = best else {
            return TaxonomyPrediction {
                topic: None,
                topic_probability: 0.0,
                subtopic: None,
                subtopic_probability: 0.0,
            };
        };
        let (sub_name, sp) = sub.unwrap_or(("", 0.0));
        let topic_ok = tp >= threshold && tp > 0.0;
        TaxonomyPrediction {
            topic: topic_ok.then(|| topic.to_string()),
            topic_probability: tp,
            subtopic: (topic_ok && sp >= threshold && sp > 0.0).then(|| sub_name.to_string()),
            subtopic_probability: sp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_into_topic_and_subtopic() {
        assert_eq!(
            split_label("billing/refund").unwrap(),
            ("billing", Some("refund"))
        );
        assert_eq!(split_label(" billing ").unwrap(), ("billing", None));
        for bad in ["", "/x", "a/", "a/b/c", " / "] {
            assert!(split_label(bad).is_err(), "{bad:?}");
        }
        let t = Taxonomy::from_labels(["billing/refund", "billing/fee", "delivery"]).unwrap();
        assert_eq!(t.topics().collect::<Vec<_>>(), ["billing", "delivery"]);
        assert_eq!(
            t.subtopics("billing").collect::<Vec<_>>(),
            ["fee", "refund"]
        );
        assert!(t.contains("billing") && t.contains("billing/fee") && !t.contains("billing/x"));
    }

    #[test]
    fn an_uncertain_subtopic_rolls_up_to_a_confident_topic() {
        let t = Taxonomy::from_labels(["billing/refund", "billing/fee", "delivery"]).unwrap();
        let p = t.roll_up(
            &[
                ("billing/refund", 0.35),
                ("billing/fee", 0.30),
                ("delivery", 0.35),
            ],
            0.5,
        );
        assert_eq!(p.topic.as_deref(), Some("billing"));
        assert!((p.topic_probability - 0.65).abs() < 1e-6);
        assert_eq!(p.subtopic, None);
        assert!((p.subtopic_probability - 0.35).abs() < 1e-6);
        let none = t.roll_up(&[], 0.5);
        assert_eq!(none.topic, None);
    }
}
