//! The sentiment entry point for a signal's text: VADER for English (or undetermined) text, a
//! defined "not scored" result for text in another language, never a misleading number.

use std::fmt;

use crate::lang::{Language, detect_language};
use crate::sentiment::Sentiment;
use crate::vader::Vader;

/// What [`score`] made of a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scored {
    /// English, or too little text to tell: scored with the English lexicon.
    Sentiment {
        language: Language,
        sentiment: Sentiment,
    },
    /// Another language: the English lexicon would give a meaningless number, so there is none.
    NotScored { language: Language },
}

impl Scored {
    /// The sentiment, when the text was scored.
    pub fn sentiment(&self) -> Option<Sentiment> {
        match self {
            Scored::Sentiment { sentiment, .. } => Some(*sentiment),
            Scored::NotScored { .. } => None,
        }
    }

    /// The language detected.
    pub fn language(&self) -> Language {
        match self {
            Scored::Sentiment { language, .. } | Scored::NotScored { language } => *language,
        }
    }

    /// One JSON object: the VADER line of [`Sentiment::to_json`] when scored, else
    /// `{"not_scored":"language","language":"fr"}`.
    pub fn to_json(&self) -> String {
        match self {
            Scored::Sentiment { sentiment, .. } => sentiment.to_json(),
            Scored::NotScored { language } => {
                format!(
                    r#"{{"not_scored":"language","language":"{}"}}"#,
                    language.code()
                )
            }
        }
    }
}

impl fmt::Display for Scored {
    /// The JSON line when scored, `not scored: language fr` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scored::Sentiment { sentiment, .. } => sentiment.write_json(f),
            Scored::NotScored { language } => write!(f, "not scored: language {}", language.code()),
        }
    }
}

/// Detects the language of `text` and scores it with the process-wide [`Vader`] when it is
/// English or undetermined. Any string is accepted.
pub fn score(text: &str) -> Scored {
    Vader::shared().score(text)
}

impl Vader {
    /// [`score`] with this scorer.
    pub fn score(&self, text: &str) -> Scored {
        let language = detect_language(text);
        if language.is_scored_as_english() {
            Scored::Sentiment {
                language,
                sentiment: self.polarity_scores(text),
            }
        } else {
            Scored::NotScored { language }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_english_is_scored_and_french_is_not() {
        for text in ["ok thanks", "lol", "great!", "", "😁", "!!!"] {
            assert!(score(text).sentiment().is_some(), "{text:?}");
        }
        let french = score("Le colis est arrivé cassé et personne ne répond.");
        assert_eq!(
            french,
            Scored::NotScored {
                language: Language::French
            }
        );
        assert_eq!(french.to_string(), "not scored: language fr");
        assert_eq!(
            french.to_json(),
            r#"{"not_scored":"language","language":"fr"}"#
        );
    }

    #[test]
    fn scored_json_is_the_vader_line() {
        let scored = score("The agent was very helpful");
        let sentiment = Vader::shared().polarity_scores("The agent was very helpful");
        assert_eq!(scored.to_json(), sentiment.to_json());
        assert_eq!(scored.to_string(), sentiment.to_json());
        assert_eq!(scored.language(), Language::English);
    }

    proptest! {
        #[test]
        fn any_text_gets_a_defined_result(text in any::<String>()) {
            let scored = score(&text);
            prop_assert_eq!(scored.sentiment().is_some(), scored.language().is_scored_as_english());
        }
    }
}
