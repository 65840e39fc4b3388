use std::fmt;

/// A value that could not be parsed into its domain type.
///
/// Carries everything a person needs to fix the input: which field, what value, why, and (when we
/// can tell) what to write instead. The file and line are added by the ingest layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub reason: String,
    pub hint: Option<String>,
}

/// Values are shown in messages, so very long ones (a 100 MB line) are cut.
const MAX_SHOWN: usize = 120;

impl FieldError {
    pub fn new(field: &str, value: &str, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            value: shorten(value),
            reason: reason.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> FieldError {
        self.hint = Some(hint.into());
        self
    }

    /// The same error reported under another field name (e.g. a mapped source column).
    pub fn in_field(mut self, field: &str) -> FieldError {
        self.field = field.to_string();
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "field '{}': value '{}' {}",
            self.field, self.value, self.reason
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Cuts a value for display on a char boundary, saying how long it really was.
pub(crate) fn shorten(value: &str) -> String {
    if value.len() <= MAX_SHOWN {
        return value.to_string();
    }
    let mut end = MAX_SHOWN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &value[..end], value.len())
}
