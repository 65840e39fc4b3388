//! What every response carries besides its figures: notes a reader must see (rows left out, a
//! rule applied) and whether the figures may be partial because an import was running.

use hearken_store::FrameSource;
use serde::Serialize;

use crate::error::Result;
use crate::scope::Scope;

/// Set when the figures were computed while an import was writing: they cover the rows
/// committed so far, and asking again after the import gives the complete answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PartialNote {
    pub message: String,
    /// The imports running (their ids; empty for a caller with a data scope, to whom imports
    /// are not shown).
    pub imports: Vec<i64>,
}

/// Whether an import is writing to the store now (its process is alive: `Store::
/// imports_in_progress`); a killed import is not running and does not make answers partial.
pub(crate) fn partial(store: &dyn FrameSource, scope: &Scope) -> Result<Option<PartialNote>> {
    let running = store.imports_in_progress()?;
    if running.is_empty() {
        return Ok(None);
    }
    let what = if running.len() == 1 {
        "an import is"
    } else {
        "imports are"
    };
    if scope.is_limited() {
        return Ok(Some(PartialNote {
            message: format!("{what} running now: figures count only the rows committed so far"),
            imports: Vec::new(),
        }));
    }
    let list: Vec<String> = running
        .iter()
        .map(|r| format!("import {} of {} ({})", r.id, r.file, r.kind))
        .collect();
    Ok(Some(PartialNote {
        message: format!(
            "{what} running now ({}): figures count only the rows committed so far",
            list.join(", ")
        ),
        imports: running.iter().map(|r| r.id).collect(),
    }))
}

/// 12345678 -> "12,345,678", for counts in notes and messages.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
