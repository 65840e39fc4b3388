//! Issue 13's engine figures: the early warning (features as of a date, rules, the learned
//! model, lead times) on synthetic organisations, and CLV, quadrants, cost of quality and
//! self-assessment quartiles against pandas / scikit-learn (`tests/data/risk/reference.json`,
//! written by `tools/reference/risk/make_reference.py`).

mod early_warning;
mod helpers;
mod reference;
