//! Topics defined by keywords and phrases, for taxonomies that have no labelled examples yet.
//!
//! A rule names a topic and the words or phrases that signal it; `refund*` matches any word that
//! starts with `refund`. Text is tokenised exactly as for the trained classifier (lowercase,
//! apostrophes joined), so "Don't" matches the keyword `dont` and `don't` alike.

use serde::{Deserialize, Serialize};

use crate::classifier::Prediction;
use crate::error::{Result, TopicsError};
use crate::text::{self, Scratch};

/// One topic and the keywords or phrases that signal it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRule {
    /// The topic, `topic` or `topic/subtopic`.
    pub topic: String,
    /// Words or phrases; any one of them signals the topic. A trailing `*` is a prefix match.
    pub keywords: Vec<String>,
    /// Words or phrases that veto the topic even when a keyword matched.
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone)]
struct Term {
    text: String,
    prefix: bool,
}

#[derive(Debug, Clone)]
struct Phrase {
    source: String,
    terms: Vec<Term>,
}

#[derive(Debug, Clone)]
struct Compiled {
    topic: String,
    keywords: Vec<Phrase>,
    exclude: Vec<Phrase>,
}

/// How one rule matched a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub topic: String,
    /// The keywords that matched, as written in the rule.
    pub matched: Vec<String>,
}

/// A compiled set of keyword rules.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Compiled>,
}

fn compile(topic: &str, phrase: &str, scratch: &mut Scratch) -> Result<Phrase> {
    let trimmed = phrase.trim();
    let prefix_last = trimmed.ends_with('*');
    text::tokenize(trimmed.trim_end_matches('*'), scratch);
    let mut terms: Vec<Term> = text::tokens(scratch)
        .map(|t| Term {
            text: t.to_string(),
            prefix: false,
        })
        .collect();
    if terms.is_empty() {
        return Err(TopicsError::BadRule {
            topic: topic.to_string(),
            reason: format!("has keyword '{phrase}' with no letters or digits; remove it"),
        });
    }
    if let Some(last) = terms.last_mut() {
        last.prefix = prefix_last;
    }
    Ok(Phrase {
        source: trimmed.to_string(),
        terms,
    })
}

fn occurs(phrase: &Phrase, tokens: &[&str]) -> bool {
    let n = phrase.terms.len();
    tokens.windows(n).any(|w| {
        w.iter().zip(&phrase.terms).all(|(tok, term)| {
            if term.prefix {
                tok.starts_with(term.text.as_str())
            } else {
                *tok == term.text
            }
        })
    })
}

impl Rules {
    /// Compiles rules; fails on an empty topic, a rule without keywords, or a keyword with no
    /// word in it.
    pub fn new(rules: &[TopicRule]) -> Result<Rules> {
        let mut scratch = Scratch::default();
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            let topic = r.topic.trim();
            if topic.is_empty() {
                return Err(TopicsError::BadRule {
                    topic: String::new(),
                    reason: "has an empty topic name; name the topic".into(),
                });
            }
            if r.keywords.is_empty() {
                return Err(TopicsError::BadRule {
                    topic: topic.to_string(),
                    reason: "has no keywords; give at least one word or phrase".into(),
                });
            }
            let keywords = r
                .keywords
                .iter()
                .map(|k| compile(topic, k, &mut scratch))
                .collect::<Result<_>>()?;
            let exclude = r
                .exclude
                .iter()
                .map(|k| compile(topic, k, &mut scratch))
                .collect::<Result<_>>()?;
            out.push(Compiled {
                topic: topic.to_string(),
                keywords,
                exclude,
            });
        }
        Ok(Rules { rules: out })
    }

    /// Every rule that matches `text`, most matched keywords first (ties in rule order).
    pub fn matches(&self, text: &str) -> Vec<RuleMatch> {
        let mut scratch = Scratch::default();
        text::tokenize(text, &mut scratch);
        let tokens: Vec<&str> = text::tokens(&scratch).collect();
        let mut out: Vec<RuleMatch> = self
            .rules
            .iter()
            .filter(|r| !r.exclude.iter().any(|p| occurs(p, &tokens)))
            .filter_map(|r| {
                let matched: Vec<String> = r
                    .keywords
                    .iter()
                    .filter(|p| occurs(p, &tokens))
                    .map(|p| p.source.clone())
                    .collect();
                (!matched.is_empty()).then(|| RuleMatch {
                    topic: r.topic.clone(),
                    matched,
                })
            })
            .collect();
        // Stable sort keeps rule order among equals, so the first-listed rule wins a tie.
        out.sort_by_key(|m| std::cmp::Reverse(m.matched.len()));
        out
    }

    /// The rule topic of `text` as a [`Prediction`]: the topic with the most matched keywords;
    /// probability is its share of all matched keywords (1 when only one topic matched). No
    /// match gives an unclassified prediction.
    pub fn predict(&self, text: &str) -> Prediction {
        let m = self.matches(text);
        let total: usize = m.iter().map(|r| r.matched.len()).sum();
        if total == 0 {
            return Prediction::unclassified();
        }
        let top: Vec<(String, f32)> = m
            .iter()
            .map(|r| (r.topic.clone(), r.matched.len() as f32 / total as f32))
            .collect();
        Prediction {
            label: Some(top[0].0.clone()),
            probability: top[0].1,
            top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(topic: &str, keywords: &[&str], exclude: &[&str]) -> TopicRule {
        TopicRule {
            topic: topic.into(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn rules() -> Rules {
        Rules::new(&[
            rule(
                "delivery/late",
                &["not arrived", "still waiting", "late*"],
                &[],
            ),
            rule(
                "billing/refund",
                &["refund*", "money back"],
                &["no refund needed"],
            ),
            rule("cards", &["card"], &[]),
        ])
        .unwrap()
    }

    #[test]
    fn phrases_match_as_word_sequences_and_prefixes_as_word_starts() {
        let r = rules();
        let p = r.predict("My card has NOT arrived, I'm still waiting!");
        assert_eq!(p.label.as_deref(), Some("delivery/late"));
        assert!((p.probability - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(p.top[1].0, "cards");
        assert_eq!(
            r.predict("Can I get a refund?").label.as_deref(),
            Some("billing/refund")
        );
        assert_eq!(r.predict("it arrived not").label, None);
        assert_eq!(r.predict("").label, None);
    }

    #[test]
    fn exclusions_veto_and_ties_go_to_the_first_rule() {
        let r = rules();
        assert!(
            r.matches("no refund needed, card works")
                .iter()
                .all(|m| m.topic == "cards")
        );
        let m = r.matches("my card is late");
        assert_eq!(m[0].topic, "delivery/late");
    }

    #[test]
    fn bad_rules_are_rejected_with_the_topic_named() {
        let e = Rules::new(&[rule("x", &[], &[])]).unwrap_err();
        assert!(e.to_string().contains("'x'"), "{e}");
        assert!(Rules::new(&[rule("x", &["..."], &[])]).is_err());
        assert!(Rules::new(&[rule(" ", &["a"], &[])]).is_err());
    }
}
