//! API tests: the real `hearken serve` on port 0 with a real store file in a temporary directory
//! (helpers.rs), plus in-process tests of `hearken_server::app` where a test needs a route the
//! served binary must not have (a panicking handler).

mod helpers;

mod actions;
mod entities;
mod errors;
mod files;
mod in_process;
mod ingest;
mod lifecycle;
mod parity;
mod postgres;
mod risk;
mod roles;
mod tokens;
mod webhooks;
