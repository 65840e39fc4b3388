//! The engine's error type. The engine computes on data that was validated where it entered, so
//! its errors are about how it was asked: a confidence level outside (0, 1), columns of different
//! lengths, more aspects than an exact decomposition handles. Thin data is never an error: it is a
//! result flagged `no_data` or `small_sample`.

/// What went wrong when asking the engine for a number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("confidence level {0} is outside (0, 1); give it as a fraction, e.g. 0.9 for 90%")]
    BadLevel(f64),
    #[error(
        "column `{column}` has {got} rows but `{reference}` has {expected}; pass columns of the same frame"
    )]
    LengthMismatch {
        column: &'static str,
        reference: &'static str,
        expected: usize,
        got: usize,
    },
    #[error(
        "{got} aspects is more than the {max} the exact Shapley decomposition handles; choose at most {max} aspects"
    )]
    TooManyAspects { got: usize, max: usize },
    #[error("option `{name}` {reason}")]
    BadOption { name: &'static str, reason: String },
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Checks that `column` has as many rows as `reference`.
pub(crate) fn same_len(
    column: &'static str,
    got: usize,
    reference: &'static str,
    expected: usize,
) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(EngineError::LengthMismatch {
            column,
            reference,
            expected,
            got,
        })
    }
}
