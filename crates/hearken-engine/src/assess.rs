//! The customer-focus self-assessment: an organisation's honest view of itself.
//!
//! A [`Questionnaire`] (Hearken's default is `data/assessment.toml`, embedded; any TOML file of
//! the same shape replaces it) groups statements into areas. A unit of the organisation answers
//! every item twice on the questionnaire's scale: *say* (how strongly it states the intention)
//! and *do* (how far it practises it). [`report`] gives the mean say and do and the say-do gap
//! (`say - do`, positive when intention runs ahead of practice) per area, per external
//! performance level (help with what you have; anticipate what the customer needs next; shape the
//! customer's value proposition) and overall (the mean over all items), the highest level
//! reached, and the unit's quartile against the organisation's own earlier assessments and its
//! other units.
//!
//! **Quartile.** The unit's overall *do* score is placed among the overall *do* scores of every
//! other assessment dated on or before it (other units, and the unit's own earlier ones): above
//! the third quartile is `top`, above the median `second`, above the first quartile `third`, else
//! `bottom` (quartiles by linear interpolation, as pandas' `quantile`). At least four other
//! assessments are needed; with fewer the quartile is absent and a note says why.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::stats::quantile_sorted;

/// The questionnaire Hearken ships with.
pub const DEFAULT_QUESTIONNAIRE: &str = include_str!("../data/assessment.toml");

/// What is wrong with a questionnaire or an assessment, naming the unit, item and value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssessError {
    #[error("{what} is not valid TOML or has an unknown key: {message}")]
    Parse { what: String, message: String },
    #[error("questionnaire: {0}")]
    Questionnaire(String),
    #[error("unit `{unit}` ({date}): {} item(s) not answered: {}; answer every item with say and do", missing.len(), missing.join(", "))]
    MissingItems {
        unit: String,
        date: String,
        missing: Vec<String>,
    },
    #[error(
        "unit `{unit}` ({date}): the questionnaire has no item `{item}`; check its key against the questionnaire"
    )]
    UnknownItem {
        unit: String,
        date: String,
        item: String,
    },
    #[error(
        "unit `{unit}` ({date}), item `{item}`: {field} = {value} is outside the scale {min} to {max}"
    )]
    OutOfRange {
        unit: String,
        date: String,
        item: String,
        field: &'static str,
        value: i64,
        min: u8,
        max: u8,
    },
    #[error("unit `{unit}` is not one of the organisation's units ({}); add it to the list of units or fix the name", known.join(", "))]
    UnknownUnit { unit: String, known: Vec<String> },
    #[error("unit `{unit}`: date `{date}` is not a date; give YYYY-MM-DD")]
    BadDate { unit: String, date: String },
}

type Result<T, E = AssessError> = std::result::Result<T, E>;

/// An external performance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Help customers with what you have; gather information and listen to feedback.
    Help,
    /// Anticipate what the customer will need next.
    Anticipate,
    /// Shape the customer's value proposition, as a trusted adviser.
    Shape,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Help, Level::Anticipate, Level::Shape];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub min: u8,
    pub max: u8,
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub key: String,
    pub text: String,
    #[serde(default)]
    pub level: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub key: String,
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub name: String,
    pub version: u32,
    pub scale: Scale,
    pub areas: Vec<Area>,
}

impl Questionnaire {
    /// Hearken's default questionnaire.
    pub fn default_questionnaire() -> Questionnaire {
        // The embedded file is valid: `default_questionnaire_is_valid` parses it in every test
        // run, so the fallback (an empty questionnaire) is unreachable.
        Questionnaire::from_toml(DEFAULT_QUESTIONNAIRE).unwrap_or(Questionnaire {
            name: String::new(),
            version: 0,
            scale: Scale {
                min: 1,
                max: 5,
                labels: Vec::new(),
            },
            areas: Vec::new(),
        })
    }

    /// Reads and checks a questionnaire: a scale with `min < max` (and one label per point when
    /// labels are given), at least one area, no area without items, unique keys.
    pub fn from_toml(text: &str) -> Result<Questionnaire> {
        let q: Questionnaire = toml::from_str(text).map_err(|e| AssessError::Parse {
            what: "the questionnaire".into(),
            message: e.to_string(),
        })?;
        let bad = |m: String| Err(AssessError::Questionnaire(m));
        if q.scale.min >= q.scale.max {
            return bad(format!(
                "scale.min {} must be below scale.max {}",
                q.scale.min, q.scale.max
            ));
        }
        let points = usize::from(q.scale.max - q.scale.min) + 1;
        if !q.scale.labels.is_empty() && q.scale.labels.len() != points {
            return bad(format!(
                "scale.labels has {} labels for {points} points; give one per point or none",
                q.scale.labels.len()
            ));
        }
        if q.areas.is_empty() {
            return bad("no [[areas]]; give at least one area with items".into());
        }
        let mut keys = BTreeSet::new();
        for a in &q.areas {
            if !keys.insert(a.key.as_str()) {
                return bad(format!("area key `{}` is used twice", a.key));
            }
            if a.items.is_empty() {
                return bad(format!("area `{}` has no items", a.key));
            }
        }
        for i in q.areas.iter().flat_map(|a| &a.items) {
            if !keys.insert(i.key.as_str()) {
                return bad(format!("item key `{}` is used twice", i.key));
            }
        }
        Ok(q)
    }

    fn items(&self) -> impl Iterator<Item = &Item> {
        self.areas.iter().flat_map(|a| &a.items)
    }
}

/// One item's answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub say: i64,
    #[serde(rename = "do")]
    pub practice: i64,
}

/// One unit's answers on one date.
///
/// ```toml
/// unit = "customer service"
/// date = "2025-06-30"
/// [answers]
/// "leadership.value_scorecard" = { say = 4, do = 2 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub unit: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub answers: BTreeMap<String, Answer>,
}

fn valid_date(d: &str) -> bool {
    let p: Vec<&str> = d.split('-').collect();
    p.len() == 3
        && p[0].len() == 4
        && p[1].len() == 2
        && p[2].len() == 2
        && match (
            p[0].parse::<i32>(),
            p[1].parse::<u32>(),
            p[2].parse::<u32>(),
        ) {
            (Ok(y), Ok(m), Ok(day)) => hearken_model::Timestamp::from_ymd(y, m, day).is_some(),
            _ => false,
        }
}

impl Assessment {
    pub fn from_toml(text: &str) -> Result<Assessment> {
        toml::from_str(text).map_err(|e| AssessError::Parse {
            what: "the assessment".into(),
            message: e.to_string(),
        })
    }

    /// Checks the answers against the questionnaire and the organisation's units (`known_units`
    /// empty: any unit): a known unit, a date, every item answered, no unknown item, every score
    /// on the scale.
    pub fn check(&self, q: &Questionnaire, known_units: &[String]) -> Result<()> {
        if !known_units.is_empty() && !known_units.iter().any(|u| u == &self.unit) {
            return Err(AssessError::UnknownUnit {
                unit: self.unit.clone(),
                known: known_units.to_vec(),
            });
        }
        if !valid_date(&self.date) {
            return Err(AssessError::BadDate {
                unit: self.unit.clone(),
                date: self.date.clone(),
            });
        }
        let items: BTreeSet<&str> = q.items().map(|i| i.key.as_str()).collect();
        if let Some(item) = self.answers.keys().find(|k| !items.contains(k.as_str())) {
            return Err(AssessError::UnknownItem {
                unit: self.unit.clone(),
                date: self.date.clone(),
                item: item.clone(),
            });
        }
        let missing: Vec<String> = q
            .items()
            .filter(|i| !self.answers.contains_key(&i.key))
            .map(|i| i.key.clone())
            .collect();
        if !missing.is_empty() {
            return Err(AssessError::MissingItems {
                unit: self.unit.clone(),
                date: self.date.clone(),
                missing,
            });
        }
        let (min, max) = (q.scale.min, q.scale.max);
        for (item, a) in &self.answers {
            for (field, value) in [("say", a.say), ("do", a.practice)] {
                if value < i64::from(min) || value > i64::from(max) {
                    return Err(AssessError::OutOfRange {
                        unit: self.unit.clone(),
                        date: self.date.clone(),
                        item: item.clone(),
                        field,
                        value,
                        min,
                        max,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Mean say, mean do and their gap over some items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SayDo {
    pub say: f64,
    #[serde(rename = "do")]
    pub practice: f64,
    /// `say - do`.
    pub gap: f64,
}

fn say_do<'a>(answers: impl Iterator<Item = &'a Answer>) -> Option<SayDo> {
    let (mut s, mut d, mut n) = (0.0, 0.0, 0usize);
    for a in answers {
        s += a.say as f64;
        d += a.practice as f64;
        n += 1;
    }
    (n > 0).then(|| {
        let (say, practice) = (s / n as f64, d / n as f64);
        SayDo {
            say,
            practice,
            gap: say - practice,
        }
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaScore {
    pub key: String,
    pub title: String,
    pub items: usize,
    #[serde(flatten)]
    pub scores: SayDo,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelScore {
    pub level: Level,
    pub items: usize,
    #[serde(flatten)]
    pub scores: SayDo,
    /// Mean do at least 75% of the way up the scale, and every lower level reached.
    pub reached: bool,
}

/// Where the unit stands against the organisation's other and earlier assessments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// What is compared: the overall mean do score.
    pub compared_on: &'static str,
    /// Other assessments dated on or before this one.
    pub references: usize,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
    /// `top`, `second`, `third` or `bottom`.
    pub quartile: Option<&'static str>,
    /// Mean say-do gap of the assessments (references and this one) in the top quartile and
    /// of the rest: the articles found the gap wider below the top quartile.
    pub gap_top_quartile: Option<f64>,
    pub gap_below_top: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessmentReport {
    pub unit: String,
    pub date: String,
    pub questionnaire: String,
    pub scale: (u8, u8),
    pub overall: SayDo,
    pub areas: Vec<AreaScore>,
    /// The external performance levels the questionnaire has items for.
    pub levels: Vec<LevelScore>,
    /// The highest level reached, if any.
    pub level_reached: Option<Level>,
    pub standing: Standing,
}

/// Minimum number of other assessments for a quartile.
pub const MIN_REFERENCES: usize = 4;

/// The report of `this` unit's assessment, placed among `history` (any other assessments of the
/// organisation; those dated after `this` are left out). Every assessment is checked first.
pub fn report(
    q: &Questionnaire,
    this: &Assessment,
    history: &[Assessment],
    known_units: &[String],
) -> Result<AssessmentReport> {
    this.check(q, known_units)?;
    for h in history {
        h.check(q, known_units)?;
    }
    // `check` proved every item answered, so the lookups below find their answer.
    let answers = |a: &'_ Assessment, keys: Vec<&str>| -> Vec<Answer> {
        keys.iter()
            .filter_map(|k| a.answers.get(*k).copied())
            .collect()
    };
    let all_keys: Vec<&str> = q.items().map(|i| i.key.as_str()).collect();
    let overall_of = |a: &Assessment| say_do(answers(a, all_keys.clone()).iter());
    let overall = overall_of(this).unwrap_or(SayDo {
        say: f64::NAN,
        practice: f64::NAN,
        gap: f64::NAN,
    });
    let areas: Vec<AreaScore> = q
        .areas
        .iter()
        .filter_map(|area| {
            let keys = area.items.iter().map(|i| i.key.as_str()).collect();
            say_do(answers(this, keys).iter()).map(|scores| AreaScore {
                key: area.key.clone(),
                title: area.title.clone(),
                items: area.items.len(),
                scores,
            })
        })
        .collect();
    let bar = f64::from(q.scale.min) + 0.75 * f64::from(q.scale.max - q.scale.min);
    let mut levels: Vec<LevelScore> = Vec::new();
    let mut chain = true;
    for level in Level::ALL {
        let keys: Vec<&str> = q
            .items()
            .filter(|i| i.level == Some(level))
            .map(|i| i.key.as_str())
            .collect();
        let n = keys.len();
        if let Some(scores) = say_do(answers(this, keys).iter()) {
            chain = chain && scores.practice >= bar;
            levels.push(LevelScore {
                level,
                items: n,
                scores,
                reached: chain,
            });
        }
    }
    let level_reached = levels.iter().rev().find(|l| l.reached).map(|l| l.level);

    let references: Vec<&Assessment> = history
        .iter()
        .filter(|h| h.date <= this.date && !(h.unit == this.unit && h.date == this.date))
        .collect();
    let mut ref_do: Vec<f64> = references
        .iter()
        .filter_map(|h| overall_of(h).map(|s| s.practice))
        .collect();
    ref_do.sort_by(f64::total_cmp);
    let mut standing = Standing {
        compared_on: "overall do",
        references: references.len(),
        q1: None,
        median: None,
        q3: None,
        quartile: None,
        gap_top_quartile: None,
        gap_below_top: None,
        note: None,
    };
    if ref_do.len() >= MIN_REFERENCES {
        let (q1, q2, q3) = (
            quantile_sorted(&ref_do, 0.25),
            quantile_sorted(&ref_do, 0.5),
            quantile_sorted(&ref_do, 0.75),
        );
        let v = overall.practice;
        standing.quartile = Some(if v > q3 {
            "top"
        } else if v > q2 {
            "second"
        } else if v > q1 {
            "third"
        } else {
            "bottom"
        });
        let (mut top, mut rest) = (Vec::new(), Vec::new());
        for a in references.iter().copied().chain([this]) {
            if let Some(s) = overall_of(a) {
                if s.practice > q3 { &mut top } else { &mut rest }.push(s.gap);
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        standing.gap_top_quartile = mean(&top);
        standing.gap_below_top = mean(&rest);
        standing.q1 = Some(q1);
        standing.median = Some(q2);
        standing.q3 = Some(q3);
    } else {
        standing.note = Some(format!(
            "{} other assessment(s) on or before {}; a quartile needs {MIN_REFERENCES}: import earlier assessments or other units' answers",
            references.len(),
            this.date
        ));
    }
    Ok(AssessmentReport {
        unit: this.unit.clone(),
        date: this.date.clone(),
        questionnaire: q.name.clone(),
        scale: (q.scale.min, q.scale.max),
        overall,
        areas,
        levels,
        level_reached,
        standing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(q: &Questionnaire, unit: &str, date: &str, say: i64, practice: i64) -> Assessment {
        Assessment {
            unit: unit.into(),
            date: date.into(),
            answers: q
                .items()
                .map(|i| (i.key.clone(), Answer { say, practice }))
                .collect(),
        }
    }

    #[test]
    fn default_questionnaire_is_valid() {
        let q = Questionnaire::from_toml(DEFAULT_QUESTIONNAIRE).unwrap();
        assert_eq!(q, Questionnaire::default_questionnaire());
        for level in Level::ALL {
            assert!(q.items().filter(|i| i.level == Some(level)).count() >= 2);
        }
        assert!(q.areas.len() >= 5);
    }

    #[test]
    fn bad_answers_are_named() {
        let q = Questionnaire::default_questionnaire();
        let units = vec!["service".to_string(), "billing".to_string()];
        let ok = answered(&q, "service", "2025-03-31", 4, 3);
        ok.check(&q, &units).unwrap();

        let mut a = ok.clone();
        a.answers.remove("people.know_their_role");
        let e = a.check(&q, &units).unwrap_err().to_string();
        assert!(
            e.contains("1 item(s) not answered: people.know_their_role"),
            "{e}"
        );

        let mut a = ok.clone();
        a.answers.insert(
            "people.know_their_rol".into(),
            Answer {
                say: 3,
                practice: 3,
            },
        );
        assert!(matches!(
            a.check(&q, &units),
            Err(AssessError::UnknownItem { .. })
        ));

        let mut a = ok.clone();
        a.answers.insert(
            "insight.all_signals".into(),
            Answer {
                say: 3,
                practice: 9,
            },
        );
        let e = a.check(&q, &units).unwrap_err().to_string();
        assert!(
            e.contains("item `insight.all_signals`: do = 9 is outside the scale 1 to 5"),
            "{e}"
        );

        let e = answered(&q, "sales", "2025-03-31", 3, 3)
            .check(&q, &units)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unit `sales` is not one of the organisation's units (service, billing)"),
            "{e}"
        );
        assert!(matches!(
            answered(&q, "service", "2025-13-01", 3, 3).check(&q, &units),
            Err(AssessError::BadDate { .. })
        ));
        let e = Assessment::from_toml("unit = \"service\"\ndate = \"2025-01-01\"\n[answers]\nx = { say = 3, do = 3, why = 1 }")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn levels_chain_and_quartile_needs_history() {
        let q = Questionnaire::default_questionnaire();
        let mut a = answered(&q, "service", "2025-03-31", 5, 4);
        for i in q.items().filter(|i| i.level == Some(Level::Anticipate)) {
            a.answers.insert(
                i.key.clone(),
                Answer {
                    say: 5,
                    practice: 2,
                },
            );
        }
        let r = report(&q, &a, &[], &[]).unwrap();
        assert_eq!(r.level_reached, Some(Level::Help));
        assert!(
            r.levels
                .iter()
                .all(|l| l.reached == (l.level == Level::Help))
        );
        assert_eq!(r.standing.quartile, None);
        assert!(r.standing.note.as_deref().unwrap_or("").contains("needs 4"));
        // Later assessments are not references.
        let later = answered(&q, "billing", "2025-06-30", 3, 3);
        let r = report(
            &q,
            &a,
            &[later.clone(), later.clone(), later.clone(), later],
            &[],
        )
        .unwrap();
        assert_eq!(r.standing.references, 0);
    }

    #[test]
    fn bad_questionnaires_are_refused() {
        let e = Questionnaire::from_toml(
            "name = \"x\"\nversion = 1\nareas = []\n[scale]\nmin = 3\nmax = 3",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("scale.min 3 must be below scale.max 3"), "{e}");
        let twice = "name = \"x\"\nversion = 1\n[scale]\nmin = 1\nmax = 5\n[[areas]]\nkey = \"a\"\ntitle = \"A\"\n[[areas.items]]\nkey = \"i\"\ntext = \"t\"\n[[areas.items]]\nkey = \"i\"\ntext = \"u\"\n";
        assert!(
            Questionnaire::from_toml(twice)
                .unwrap_err()
                .to_string()
                .contains("`i` is used twice")
        );
    }
}
