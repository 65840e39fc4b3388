//! What every response carries besides its figures: notes a reader must see (rows left out, a
//! rule applied) and whether the figures may be partial because an import was running.

use hearken_store::Store;
use serde::Serialize;

use crate::error::Result;

/// Set when the figures were computed while an import was writing: they cover the rows
/// committed so far, and asking again after the import gives the complete answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PartialNote {
    pub message: String,
}

/// Whether an import is writing to the store now.
///
/// Hook: the store cannot tell a running import from one that was killed (both leave an
/// unfinished `imports` row) until it records that an import holds the store; when
/// `Store` gains that method, call it here and every response says so through `partial`.
pub(crate) fn partial(store: &Store) -> Result<Option<PartialNote>> {
    let _ = store;
    Ok(None)
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
