//! Hearken's query layer: one function per analytic, a typed request in, a typed serialisable
//! answer out. The CLI turns flags into a request and renders the answer as a table or prints
//! it as JSON; the HTTP server will deserialise the request from a query string and return the
//! same JSON. A figure is computed here and nowhere else.
//!
//! Each function takes the [`Store`](hearken_store::Store), the caller's [`Scope`] (the slice of
//! the data it may see: an API token's segments and teams, [`Scope::all`] for the CLI) and its
//! request: `scores(&store, &scope, &request)`. The scope is an argument, not an option, so no
//! function can forget it. Each validates the request (unknown names, bad dates, values out of
//! range, options that cannot be honoured, filters outside the scope are refused with a
//! [`QueryError`] that has a stable code and a hint), selects the rows and columns (module
//! `select`) within the scope, runs the engine, and puts display names beside ids.
//!
//! Every response carries `notes` (what a reader must know: rows left out, a rule applied) and
//! `partial` (set when an import was running while it was computed).
//!
//! Architecture invariant: no SQL (that is the store's), no printing, no CLI or HTTP types.
//! Requests refuse unknown fields; defaults are the CLI's defaults.

mod cache;
mod error;
mod meta;
mod names;
mod request;
mod scope;
mod select;

pub mod actions;
pub mod assess;
pub mod case;
pub mod cost;
pub mod customer;
pub mod drivers;
pub mod flow;
pub mod issues;
pub mod outbox;
pub mod overview;
pub mod pareto;
pub mod repeats;
pub mod risk;
pub mod scores;
pub mod signals;
pub mod status;
pub mod suggestions;
pub mod themes;
pub mod topics;
pub mod trends;

pub use cache::{AnswerCache, CacheLimits, CacheStats, Refresh, WarmReport, warm_defaults};
pub use error::{ErrorBody, FlowRefusal, NO_TOPICS_HINT, QueryError, Result};
pub use meta::{PartialNote, thousands};
pub use request::{By, DriverTarget, Filters, Metric, Period};
pub use scope::Scope;
pub use select::{ensure_fresh, window_between};

pub use actions::{
    ActionDetail, ActionView, ActionsList, ActionsRequest, CreateActionRequest, EffectRequest,
    EffectResponse, HistoryView, LinkView, Links, UpdateActionRequest, action, action_effect,
    actions, create_action, link_action, update_action,
};
pub use assess::{
    AssessImportRequest, AssessImportResponse, AssessReportRequest, AssessReportResponse,
    AssessSettings, assess_import, assess_report,
};
pub use case::{CaseResponse, case};
pub use cost::{CostBy, CostRequest, CostResponse, cost};
pub use customer::{CustomerResponse, TimelinePage, TimelineRequest, customer, customer_timeline};
pub use drivers::{DriversRequest, DriversResponse, drivers};
pub use flow::{FlowBy, FlowRequest, FlowResponse, flow, flow_of_log};
pub use issues::{IssuesRequest, IssuesResponse, issues};
pub use outbox::{OutboxList, OutboxRequest, outbox};
pub use overview::{OverviewResponse, overview};
pub use pareto::{ParetoRequest, ParetoResponse, pareto};
pub use repeats::{RepeatsRequest, RepeatsResponse, repeats};
pub use risk::{
    RiskMethod, RiskRequest, RiskResponse, RiskTrainRequest, RiskTrainResponse, ValueBase,
    ValueRequest, ValueResponse, risk, risk_train, value,
};
pub use scores::{ScoresRequest, ScoresResponse, scores};
pub use signals::{SignalView, SignalsPage, SignalsRequest, signal, signals};
pub use status::{
    ImportsPage, ImportsRequest, QuarantineList, QuarantineRequest, StatusResponse, imports,
    quarantine, status,
};
pub use suggestions::{
    ReviewRequest, SuggestionActionRequest, SuggestionView, SuggestionsList, SuggestionsRequest,
    review_suggestion, suggestion, suggestion_to_action, suggestions,
};
pub use themes::{ThemesRequest, ThemesResponse, themes};
pub use trends::{TrendsRequest, TrendsResponse, trends};
