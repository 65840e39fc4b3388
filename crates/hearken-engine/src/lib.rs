//! Hearken's analytics engine.
//!
//! Takes columnar frames (loaded by the store for the window asked for) or plain slices and
//! returns numbers with their uncertainty. Aggregates are kept as mergeable partial states so they
//! can run per chunk, in parallel, and be combined.
//!
//! Architecture invariant: no IO, no clock, no globals. Nothing here reads a file, a database or
//! the current time; callers pass everything in.

pub mod assess;
pub mod clv;
pub mod cost;
pub mod drivers;
pub mod effect;
pub mod error;
pub mod frame;
pub mod group;
pub mod issues;
pub mod keys;
mod linalg;
pub mod pareto;
pub mod repeats;
pub mod risk;
pub mod schedule;
pub mod scores;
pub mod stats;
pub mod trends;

pub use error::{EngineError, Result};
pub use frame::{AgentFrame, CustomerFrame, Dict, NONE, SignalFrame, SurveyFrame};
pub use group::{GroupEstimate, Grouped, Partial, estimates, fold_grouped, par_fold};
pub use keys::{GroupKey, Period};
pub use stats::{IntervalMethod, Level, Quality};
