//! Display names beside external ids: a product `P12` is shown with its name `Router X` when the
//! store has one.

use hearken_store::{Entity, FrameSource};

use crate::error::Result;
use crate::request::By;

/// The entity table a grouping names, if it is one with display names.
pub(crate) fn entity_of(by: By) -> Option<Entity> {
    match by {
        By::Customer => Some(Entity::Customer),
        By::Product => Some(Entity::Product),
        By::Agent => Some(Entity::Agent),
        _ => None,
    }
}

/// The display names of `ids` (`None` where there is none, or when `by` is not an entity with
/// names).
pub(crate) fn names(store: &dyn FrameSource, by: By, ids: &[&str]) -> Result<Vec<Option<String>>> {
    match entity_of(by) {
        Some(entity) => Ok(store.display_names(entity, ids)?),
        None => Ok(vec![None; ids.len()]),
    }
}
