//! Export errors. A request that cannot be valid is refused with the query layer's codes (an
//! unknown filter value lists the known ones); writing can fail on the way out.

use hearken_query::{ErrorBody, QueryError};
use hearken_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A refusal or failure with the query layer's code (`unknown_filter_value`,
    /// `invalid_date`, `empty_window`, `unsupported_filter`, `no_topics`, `store_error` ...).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A filter names a segment or team outside the caller's data scope.
    #[error("`{field}` '{value}' is outside your data scope (your {field}s: {})", .allowed.join(", "))]
    OutOfScope {
        field: &'static str,
        value: String,
        allowed: Vec<String>,
    },
    /// This build was made without the format (a cargo feature).
    #[error("this hearken was built without {0} support")]
    FormatUnavailable(crate::Format),
    /// A partitioned export of rows without a time, or of an analytic's table.
    #[error(
        "{what} cannot be split by {partition}: only signals, surveys and case-events have a time to partition by"
    )]
    Unpartitionable {
        what: String,
        partition: crate::Partition,
    },
    /// Writing the output failed (a full disk, a closed pipe or connection).
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// The Parquet writer refused.
    #[error("cannot write Parquet: {0}")]
    Parquet(String),
    /// A value that does not fit its column: a bug, never the caller's input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> ExportError {
        ExportError::Query(QueryError::Store(e))
    }
}

impl ExportError {
    /// The stable machine code (the query layer's for its errors).
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Query(e) => e.code(),
            ExportError::OutOfScope { .. } => "out_of_scope",
            ExportError::FormatUnavailable(_) => "unsupported_format",
            ExportError::Unpartitionable { .. } => "unsupported_partition",
            ExportError::Io(_) => "write_error",
            ExportError::Parquet(_) | ExportError::Internal(_) => "export_error",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ExportError::Query(e) => e.hint(),
            ExportError::OutOfScope { field, .. } => Some(format!(
                "leave out `{field}`, or give one inside your data scope"
            )),
            ExportError::FormatUnavailable(_) => {
                Some("export as csv or jsonl, or build hearken with its default features".into())
            }
            ExportError::Unpartitionable { .. } => {
                Some("leave out the partition, or export signals, surveys or case-events".into())
            }
            ExportError::Io(_) => Some("check the output's disk space and permissions".into()),
            ExportError::Parquet(_) | ExportError::Internal(_) => None,
        }
    }

    /// The HTTP status: the query layer's, 403 outside the scope, 400 for a format this build
    /// lacks, 500 for failures on the way out.
    pub fn status(&self) -> u16 {
        match self {
            ExportError::Query(e) => e.status(),
            ExportError::OutOfScope { .. } => 403,
            ExportError::FormatUnavailable(_) | ExportError::Unpartitionable { .. } => 400,
            ExportError::Io(_) | ExportError::Parquet(_) | ExportError::Internal(_) => 500,
        }
    }

    /// Whether the person asking can fix it.
    pub fn is_user_error(&self) -> bool {
        self.status() < 500
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            hint: self.hint(),
        }
    }
}
