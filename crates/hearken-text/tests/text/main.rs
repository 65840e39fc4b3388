//! Integration tests of hearken-text against reference fixtures (see tests/data/README.md).

// Test code: a panic on a broken fixture is the failure report.
#![allow(clippy::unwrap_used)]

mod helpers;
mod lang;
mod pii;
mod round;
mod vader;
