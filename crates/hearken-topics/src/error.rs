//! The crate's error type. Errors here are about how a model was asked for: training data that
//! cannot make a classifier, options out of range, bytes that are not a model this version reads.
//! Odd texts (empty, unknown labels at evaluation) are never errors: they have defined results.

/// What went wrong when training, configuring or loading a topic model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopicsError {
    #[error("training data has no examples; give at least two labelled texts per topic")]
    NoExamples,
    #[error(
        "training data has only one topic ('{0}'); a classifier needs at least two, or define the topic by keywords instead"
    )]
    OneClass(String),
    #[error("example {row} has an empty label; give every training text a topic")]
    EmptyLabel { row: usize },
    #[error(
        "no features could be learnt from the training texts; check that the texts are not empty"
    )]
    NoFeatures,
    #[error("option `{name}` {reason}")]
    BadOption { name: &'static str, reason: String },
    #[error("not a hearken topic model: {0}; retrain the model or load a file written by hearken")]
    BadModel(String),
    #[error(
        "topic model format version {found} is not supported (this build reads version {supported}); retrain the model with this version"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("rule for topic '{topic}' {reason}")]
    BadRule { topic: String, reason: String },
    #[error("label '{0}' is not a valid taxonomy path; write `topic` or `topic/subtopic`")]
    BadLabel(String),
    #[error("{texts} texts but {timestamps} timestamps; give one timestamp per text or none")]
    TimestampCount { texts: usize, timestamps: usize },
}

pub type Result<T, E = TopicsError> = std::result::Result<T, E>;

pub(crate) fn bad_option(name: &'static str, reason: impl Into<String>) -> TopicsError {
    TopicsError::BadOption {
        name,
        reason: reason.into(),
    }
}
