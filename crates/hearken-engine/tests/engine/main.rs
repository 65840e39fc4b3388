//! hearken-engine against independent reference implementations (fixtures written by
//! tools/reference/stats/make_reference.py) and by simulation.

mod coverage;
mod drivers;
mod effect;
mod effect_null;
mod helpers;
mod props;
mod scores;
mod signals;
