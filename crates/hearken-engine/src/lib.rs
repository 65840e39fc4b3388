//! Hearken's analytics engine.
//!
//! Takes columnar frames (loaded by the store for the window asked for) and returns numbers with
//! their uncertainty. Aggregates are kept as mergeable partial states so they can run per chunk,
//! in parallel, and be combined.
//!
//! Architecture invariant: no IO, no clock, no globals. Nothing here reads a file, a database or
//! the current time; callers pass everything in.

pub mod frame;

pub use frame::{CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
