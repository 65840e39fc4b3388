//! The text catalogue: the topic taxonomy (`data/topics.txt`) and the phrases signals, case notes
//! and survey comments are written from (`data/phrases.txt`), compiled into the binary.
//!
//! Both files are plain text so that the Python VADER check (`tools/vader_phrases.py`) reads the
//! very fragments the generator writes.

use std::collections::BTreeMap;

const TOPICS: &str = include_str!("../data/topics.txt");
const PHRASES: &str = include_str!("../data/phrases.txt");

/// The lifecycle stages, in journey order, as written in the `stage` column.
pub const STAGES: [&str; 5] = [
    "searching",
    "ready_to_buy",
    "purchased",
    "implemented",
    "post_installation",
];

/// The teams of the organisation; `frontline` takes every new case first and `escalations` takes
/// escalated ones.
pub const TEAMS: [&str; 5] = [
    "frontline",
    "billing",
    "technical",
    "retention",
    "escalations",
];
pub(crate) const FRONTLINE: usize = 0;
pub(crate) const ESCALATIONS: usize = 4;

/// What kind of signals a subtopic produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Problem,
    Info,
    Request,
    Praise,
    Idea,
}

#[derive(Debug, Clone)]
pub(crate) struct Subtopic {
    /// `topic/subtopic`.
    pub name: &'static str,
    /// Index into [`TEAMS`].
    pub team: usize,
    pub class: Class,
    /// Relative weight in each lifecycle stage (see [`STAGES`]).
    pub stages: [f64; 5],
    pub facts: Vec<&'static str>,
    pub asks: Vec<&'static str>,
    pub ideas: Vec<&'static str>,
}

/// A phrase with one placeholder, split around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Template {
    pub before: &'static str,
    pub after: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Phrases {
    pub positive: Vec<&'static str>,
    pub negative: Vec<&'static str>,
    pub churn: Vec<&'static str>,
    pub question: Vec<&'static str>,
    pub request: Vec<Template>,
    pub suggestion: Vec<Template>,
    pub employee_suggestion: Vec<(Template, Template)>,
    pub followup: Vec<&'static str>,
    pub email_greeting: Vec<&'static str>,
    pub email_closing: Vec<&'static str>,
    pub case_positive: Vec<&'static str>,
    pub case_negative: Vec<&'static str>,
    pub case_neutral: Vec<&'static str>,
    pub survey_positive: Vec<Template>,
    pub survey_negative: Vec<Template>,
    pub survey_neutral: Vec<Template>,
    /// aspect name -> how a comment says it ("service" -> "customer service").
    pub aspect_words: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub subtopics: Vec<Subtopic>,
    pub phrases: Phrases,
}

impl Catalog {
    /// Parses the compiled-in files. They are fixed at build time and a unit test parses them, so
    /// an error here means the data files were edited badly.
    pub(crate) fn load() -> Result<Catalog, String> {
        Ok(Catalog {
            subtopics: parse_topics(TOPICS)?,
            phrases: parse_phrases(PHRASES)?,
        })
    }

    pub(crate) fn subtopic_index(&self, name: &str) -> Option<usize> {
        self.subtopics.iter().position(|s| s.name == name)
    }
}

fn lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end()))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

fn check_fragment(line: usize, s: &str) -> Result<(), String> {
    if s.contains('"') || s.is_empty() {
        return Err(format!(
            "line {line}: fragment is empty or contains a double quote"
        ));
    }
    Ok(())
}

fn parse_topics(text: &'static str) -> Result<Vec<Subtopic>, String> {
    let mut out: Vec<Subtopic> = Vec::new();
    for (no, line) in lines(text) {
        let (key, value) = line
            .split_once(' ')
            .ok_or_else(|| format!("topics.txt line {no}: expected `key value`"))?;
        if key == "topic" {
            if !value.contains('/') {
                return Err(format!(
                    "topics.txt line {no}: topic must be topic/subtopic"
                ));
            }
            out.push(Subtopic {
                name: value,
                team: FRONTLINE,
                class: Class::Problem,
                stages: [0.0; 5],
                facts: Vec::new(),
                asks: Vec::new(),
                ideas: Vec::new(),
            });
            continue;
        }
        let cur = out
            .last_mut()
            .ok_or_else(|| format!("topics.txt line {no}: `{key}` before the first topic"))?;
        match key {
            "team" => {
                cur.team = TEAMS
                    .iter()
                    .position(|t| *t == value)
                    .ok_or_else(|| format!("topics.txt line {no}: unknown team {value}"))?;
            }
            "class" => {
                cur.class = match value {
                    "problem" => Class::Problem,
                    "info" => Class::Info,
                    "request" => Class::Request,
                    "praise" => Class::Praise,
                    "idea" => Class::Idea,
                    _ => return Err(format!("topics.txt line {no}: unknown class {value}")),
                };
            }
            "stages" => {
                let w: Vec<f64> = value
                    .split_whitespace()
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("topics.txt line {no}: {e}"))?;
                cur.stages = w
                    .try_into()
                    .map_err(|_| format!("topics.txt line {no}: expected 5 stage weights"))?;
            }
            "fact" | "ask" | "idea" => {
                check_fragment(no, value)?;
                match key {
                    "fact" => cur.facts.push(value),
                    "ask" => cur.asks.push(value),
                    _ => cur.ideas.push(value),
                }
            }
            _ => return Err(format!("topics.txt line {no}: unknown key {key}")),
        }
    }
    for s in &out {
        if s.facts.is_empty() || s.asks.is_empty() || s.ideas.is_empty() {
            return Err(format!(
                "topic {} needs at least one fact, ask and idea",
                s.name
            ));
        }
    }
    if out.is_empty() {
        return Err("topics.txt defines no topic".into());
    }
    Ok(out)
}

fn template(line: usize, s: &'static str, placeholder: &str) -> Result<Template, String> {
    let (before, after) = s
        .split_once(placeholder)
        .ok_or_else(|| format!("phrases.txt line {line}: expected {placeholder}"))?;
    Ok(Template { before, after })
}

fn parse_phrases(text: &'static str) -> Result<Phrases, String> {
    let mut sections: BTreeMap<&'static str, Vec<(usize, &'static str)>> = BTreeMap::new();
    let mut cur: Option<&'static str> = None;
    for (no, line) in lines(text) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            cur = Some(name);
            sections.entry(name).or_default();
            continue;
        }
        let name = cur.ok_or_else(|| format!("phrases.txt line {no}: phrase before a section"))?;
        check_fragment(no, line)?;
        sections.entry(name).or_default().push((no, line));
    }
    let mut take = |name: &str| -> Result<Vec<(usize, &'static str)>, String> {
        match sections.remove(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(format!("phrases.txt needs a non-empty [{name}] section")),
        }
    };
    let plain = |v: Vec<(usize, &'static str)>| v.into_iter().map(|(_, s)| s).collect::<Vec<_>>();
    let templ = |v: Vec<(usize, &'static str)>, ph: &str| {
        v.into_iter()
            .map(|(no, s)| template(no, s, ph))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut aspect_words = BTreeMap::new();
    for (no, s) in take("aspect_words")? {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("phrases.txt line {no}: expected aspect=words"))?;
        aspect_words.insert(k, v);
    }
    let employee_suggestion = take("employee_suggestion")?
        .into_iter()
        .map(|(no, s)| {
            // Either "...{team}...{idea}..." or just "...{idea}...".
            match s.split_once("{team}") {
                Some((a, rest)) => Ok((
                    Template {
                        before: a,
                        after: "",
                    },
                    template(no, rest, "{idea}")?,
                )),
                None => Ok((
                    Template {
                        before: "",
                        after: "",
                    },
                    template(no, s, "{idea}")?,
                )),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Phrases {
        positive: plain(take("positive")?),
        negative: plain(take("negative")?),
        churn: plain(take("churn")?),
        question: plain(take("question")?),
        request: templ(take("request")?, "{ask}")?,
        suggestion: templ(take("suggestion")?, "{idea}")?,
        employee_suggestion,
        followup: plain(take("followup")?),
        email_greeting: plain(take("email_greeting")?),
        email_closing: plain(take("email_closing")?),
        case_positive: plain(take("case_positive")?),
        case_negative: plain(take("case_negative")?),
        case_neutral: plain(take("case_neutral")?),
        survey_positive: templ(take("survey_positive")?, "{aspect}")?,
        survey_negative: templ(take("survey_negative")?, "{aspect}")?,
        survey_neutral: templ(take("survey_neutral")?, "{aspect}")?,
        aspect_words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_has_a_real_taxonomy() {
        let c = Catalog::load().unwrap();
        let n = c.subtopics.len();
        assert!((20..=40).contains(&n), "{n} subtopics");
        let mut names: Vec<&str> = c.subtopics.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "subtopic names are unique");
        for s in &c.subtopics {
            assert!(
                s.stages.iter().sum::<f64>() > 0.0,
                "{} occurs in no stage",
                s.name
            );
        }
        for stage in 0..STAGES.len() {
            assert!(c.subtopics.iter().any(|s| s.stages[stage] > 0.0));
        }
        for class in [
            Class::Problem,
            Class::Info,
            Class::Request,
            Class::Praise,
            Class::Idea,
        ] {
            assert!(c.subtopics.iter().any(|s| s.class == class), "{class:?}");
        }
        assert!(c.phrases.aspect_words.contains_key("service"));
    }

    /// Every phrase's polarity as scored by the Python VADER (fixture written by
    /// tools/vader_phrases.py): positive phrases clearly positive, negative ones clearly negative,
    /// everything else (topic facts, frames, neutral notes) short of either.
    #[test]
    fn phrases_have_the_polarity_vader_gives_them() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/vader_phrases.json")).unwrap();
        let scores = fixture["compound"].as_object().unwrap();
        let c = Catalog::load().unwrap();
        let ph = &c.phrases;
        let score = |s: &str| {
            scores
                .get(s)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or_else(|| panic!("'{s}' not scored: rerun tools/vader_phrases.py"))
        };
        let fill = |t: &[Template]| -> Vec<String> {
            t.iter()
                .flat_map(|t| {
                    ph.aspect_words
                        .values()
                        .map(move |w| format!("{}{w}{}", t.before, t.after))
                })
                .collect()
        };
        let positive: Vec<String> = [&ph.positive, &ph.case_positive]
            .iter()
            .flat_map(|v| v.iter().map(|s| s.to_string()))
            .chain(fill(&ph.survey_positive))
            .collect();
        let negative: Vec<String> = [&ph.negative, &ph.case_negative]
            .iter()
            .flat_map(|v| v.iter().map(|s| s.to_string()))
            .chain(fill(&ph.survey_negative))
            .collect();
        for p in &positive {
            assert!(score(p) >= 0.5, "'{p}' scores {}", score(p));
        }
        for n in &negative {
            assert!(score(n) <= -0.5, "'{n}' scores {}", score(n));
        }
        let framing = [
            &ph.question,
            &ph.followup,
            &ph.case_neutral,
            &ph.churn,
            &ph.email_greeting,
        ];
        let neutral = c
            .subtopics
            .iter()
            .flat_map(|s| s.facts.iter().chain(&s.asks).chain(&s.ideas))
            .map(|s| s.to_string())
            .chain(framing.iter().flat_map(|v| v.iter().map(|s| s.to_string())))
            .chain(fill(&ph.survey_neutral));
        for s in neutral {
            assert!(score(&s).abs() < 0.55, "'{s}' scores {}", score(&s));
        }
    }

    #[test]
    fn bad_files_are_rejected() {
        assert!(parse_topics("fact orphan").is_err());
        assert!(parse_topics("topic nosubtopic").is_err());
        assert!(parse_topics("topic a/b\nteam nowhere").is_err());
        assert!(parse_topics("topic a/b\nfact say \"hi\"").is_err());
        assert!(
            parse_topics("topic a/b\nfact x").is_err(),
            "needs an ask and an idea"
        );
        assert!(
            parse_phrases("[positive]\nGood.").is_err(),
            "sections missing"
        );
    }
}
