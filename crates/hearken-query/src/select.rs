//! Selection: which rows (the window and the entity filters), which groups (`by`), and which
//! columns of the columnar snapshot to load for them. Every analytic reads its rows through here.

use hearken_engine::keys::{self, Period};
use hearken_engine::{AgentFrame, CustomerFrame, Dict, GroupKey, NONE, SignalFrame, SurveyFrame};
use hearken_model::{Channel, DateOptions, SignalKind, Timestamp};
use hearken_store::{FrameSource, SignalColumns, SurveyColumns, Window};

use crate::error::{QueryError, Result};
use crate::request::{By, Filters};
use crate::scope::Scope;

/// Parses a window from two optional dates; `names` are the request fields they came from.
pub fn window_between(
    from: Option<&str>,
    to: Option<&str>,
    names: (&'static str, &'static str),
) -> Result<Window> {
    let parse = |field: &'static str, v: Option<&str>| -> Result<Option<i64>> {
        v.map(|s| {
            Timestamp::parse(field, s, &DateOptions::default())
                .map(|t| t.unix())
                .map_err(|e| QueryError::InvalidDate {
                    field,
                    value: e.value,
                    reason: e.reason,
                    hint: e.hint,
                })
        })
        .transpose()
    };
    let w = Window {
        from: parse(names.0, from)?,
        to: parse(names.1, to)?,
    };
    if let (Some(a), Some(b)) = (w.from, w.to)
        && a >= b
    {
        return Err(QueryError::EmptyWindow {
            from: names.0,
            to: names.1,
        });
    }
    Ok(w)
}

impl Filters {
    /// The time window of the filters (`from` inclusive, `to` exclusive).
    pub fn window(&self) -> Result<Window> {
        window_between(self.from.as_deref(), self.to.as_deref(), ("from", "to"))
    }

    /// The channel filter as the model's code.
    pub(crate) fn channel_code(&self) -> Result<Option<u8>> {
        self.channel.as_deref().map(channel_code).transpose()
    }
}

pub(crate) fn channel_code(c: &str) -> Result<u8> {
    Channel::parse("channel", c)
        .map(Channel::code)
        .map_err(|_| {
            unknown(
                "channel",
                "channel",
                c,
                Channel::ALL.iter().map(|c| c.as_str()),
            )
        })
}

/// An unknown-value error listing `known` (sorted, deduplicated, empty names left out).
pub(crate) fn unknown<'a>(
    field: &'static str,
    what: &'static str,
    value: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> QueryError {
    let mut known: Vec<String> = known
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    known.sort_unstable();
    known.dedup();
    let total = known.len();
    QueryError::UnknownValue {
        field,
        what,
        value: value.to_string(),
        known,
        total,
    }
}

/// The code of `name` in `dict`, or an error listing what exists.
pub(crate) fn code_of(dict: &Dict, name: &str, field: &'static str) -> Result<u32> {
    if let Some(i) = dict.names.iter().position(|n| n == name) {
        return Ok(i as u32);
    }
    Err(unknown(
        field,
        field,
        name,
        dict.names.iter().map(String::as_str),
    ))
}

/// Brings the columnar snapshot up to date if an import added rows since it was written.
/// (The CLI does this first with a progress spinner; here it is then a quick check.)
pub fn ensure_fresh(store: &dyn FrameSource) -> Result<()> {
    if !store.snapshot_is_fresh()? {
        let report = store.refresh_snapshot(false, &mut |_, _| {})?;
        tracing::info!(?report, "snapshot refreshed");
    }
    Ok(())
}

/// The columns row filters need, borrowed from a frame.
struct RowColumns<'a> {
    customer: &'a [u32],
    product: &'a [u32],
    agent: &'a [u32],
    channel: &'a [u8],
    products: &'a Dict,
    agents: &'a Dict,
}

impl<'a> RowColumns<'a> {
    fn of_signals(f: &'a SignalFrame) -> RowColumns<'a> {
        RowColumns {
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            products: &f.products,
            agents: &f.agents,
        }
    }

    fn of_surveys(f: &'a SurveyFrame) -> RowColumns<'a> {
        RowColumns {
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            products: &f.products,
            agents: &f.agents,
        }
    }
}

/// The codes of a dictionary that a scope list allows (`None`: no limit on that dimension).
fn allowed_codes(dict: &Dict, list: &[String]) -> Option<Vec<bool>> {
    if list.is_empty() {
        return None;
    }
    Some(dict.names.iter().map(|n| list.contains(n)).collect())
}

/// The rows that pass the filters and the scope, or `None` when neither narrows anything
/// (every row passes).
fn rows(
    f: &Filters,
    scope: &Scope,
    n: usize,
    cols: &RowColumns<'_>,
    customers: &CustomerFrame,
    agents: &AgentFrame,
) -> Result<Option<Vec<usize>>> {
    if !f.narrows_rows() && !scope.is_limited() {
        return Ok(None);
    }
    let lookup = |map: &[u32], code: u32| {
        if code == NONE {
            NONE
        } else {
            map.get(code as usize).copied().unwrap_or(NONE)
        }
    };
    let at = |col: &[u32], r: usize| col.get(r).copied().unwrap_or(NONE);
    let segment = f
        .segment
        .as_deref()
        .map(|s| {
            code_of(&customers.segments, s, "segment").map_err(|e| in_scope(e, scope, "segment"))
        })
        .transpose()?;
    let product = f
        .product
        .as_deref()
        .map(|s| code_of(cols.products, s, "product"))
        .transpose()?;
    let team_allowed = allowed_codes(&agents.teams, &scope.teams);
    let agent_in_scope = |a: u32| {
        team_allowed.as_ref().is_none_or(|ok| {
            let t = lookup(&agents.team, a);
            t != NONE && ok.get(t as usize).copied().unwrap_or(false)
        })
    };
    let agent = f
        .agent
        .as_deref()
        .map(|s| match code_of(cols.agents, s, "agent") {
            // An agent outside the scope's teams is not one the caller knows of.
            Ok(a) if agent_in_scope(a) => Ok(a),
            _ => Err(unknown(
                "agent",
                "agent",
                s,
                cols.agents
                    .names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| agent_in_scope(*i as u32))
                    .map(|(_, n)| n.as_str()),
            )),
        })
        .transpose()?;
    let team = f
        .team
        .as_deref()
        .map(|s| code_of(&agents.teams, s, "team").map_err(|e| in_scope(e, scope, "team")))
        .transpose()?;
    let channel = f.channel_code()?;
    let segment_allowed = allowed_codes(&customers.segments, &scope.segments);
    let in_set = |set: &Option<Vec<bool>>, code: u32| {
        set.as_ref()
            .is_none_or(|ok| code != NONE && ok.get(code as usize).copied().unwrap_or(false))
    };
    Ok(Some(
        (0..n)
            .filter(|&r| {
                let seg = || lookup(&customers.segment, at(cols.customer, r));
                let tm = || lookup(&agents.team, at(cols.agent, r));
                segment.is_none_or(|s| seg() == s)
                    && product.is_none_or(|p| at(cols.product, r) == p)
                    && agent.is_none_or(|a| at(cols.agent, r) == a)
                    && team.is_none_or(|t| tm() == t)
                    && channel.is_none_or(|c| cols.channel.get(r) == Some(&c))
                    && in_set(&segment_allowed, seg())
                    && in_set(&team_allowed, tm())
            })
            .collect(),
    ))
}

/// An unknown segment or team error that lists only the values inside the scope.
pub(crate) fn in_scope(e: QueryError, scope: &Scope, field: &'static str) -> QueryError {
    match e {
        QueryError::UnknownValue {
            field: f,
            what,
            value,
            known,
            ..
        } => {
            let known: Vec<String> = scope
                .visible(field, known.iter().map(String::as_str))
                .map(str::to_string)
                .collect();
            QueryError::UnknownValue {
                field: f,
                what,
                value,
                total: known.len(),
                known,
            }
        }
        other => other,
    }
}

/// The columns a grouping key is built from, borrowed from a frame.
pub(crate) struct KeyColumns<'a> {
    at: &'a [i64],
    customer: &'a [u32],
    product: &'a [u32],
    agent: &'a [u32],
    channel: &'a [u8],
    topic: Option<(&'a [u32], &'a Dict)>,
    stage: Option<(&'a [u32], &'a Dict)>,
    kind: Option<&'a [u8]>,
    customers: &'a Dict,
    products: &'a Dict,
    agents: &'a Dict,
}

impl<'a> KeyColumns<'a> {
    pub(crate) fn of_signals(f: &'a SignalFrame) -> KeyColumns<'a> {
        KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: Some((&f.topic, &f.topics)),
            stage: Some((&f.stage, &f.stages)),
            kind: Some(&f.kind),
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
        }
    }

    /// Survey responses have no topic and no lifecycle stage.
    pub(crate) fn of_surveys(f: &'a SurveyFrame) -> KeyColumns<'a> {
        KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: None,
            stage: None,
            kind: None,
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
        }
    }
}

fn signals_only(by: By, accepted: &[By]) -> QueryError {
    QueryError::UnsupportedGroup {
        by,
        reason: "applies to signals, not survey responses: use it with the sentiment metric".into(),
        accepted: accepted
            .iter()
            .copied()
            .filter(|b| !b.signals_only())
            .collect(),
    }
}

/// The grouping key for `by` over a frame's columns.
pub(crate) fn key<'a>(
    by: By,
    c: &KeyColumns<'a>,
    customers: &'a CustomerFrame,
    agents: &'a AgentFrame,
) -> Result<GroupKey<'a>> {
    Ok(match by {
        By::Customer => GroupKey::borrowed(c.customer, c.customers),
        By::Segment => keys::via(c.customer, &customers.segment, &customers.segments),
        By::Persona => keys::via(c.customer, &customers.persona, &customers.personas),
        By::Product => GroupKey::borrowed(c.product, c.products),
        By::Channel => keys::channel(c.channel),
        By::Agent => GroupKey::borrowed(c.agent, c.agents),
        By::Team => keys::via(c.agent, &agents.team, &agents.teams),
        By::Topic => match c.topic {
            Some((t, d)) => GroupKey::borrowed(t, d),
            None => return Err(signals_only(by, By::ALL)),
        },
        By::Day => keys::period(c.at, Period::Day)?,
        By::Week => keys::period(c.at, Period::Week)?,
        By::Month => keys::period(c.at, Period::Month)?,
        By::Tenure => keys::new_vs_long_standing(c.at, c.customer, &customers.since, 90)?,
        By::TenureBand => keys::tenure(c.at, c.customer, &customers.since, &[90, 365, 730])?,
        By::Cohort => keys::cohort(c.customer, &customers.since, Period::Month)?,
        By::Stage => match c.stage {
            Some((t, d)) => GroupKey::borrowed(t, d),
            None => return Err(signals_only(by, By::ALL)),
        },
        By::Kind => match c.kind {
            Some(k) => kind_key(k),
            None => return Err(signals_only(by, By::ALL)),
        },
    })
}

/// Signal kinds as a grouping key, in the model's order.
fn kind_key(kinds: &[u8]) -> GroupKey<'static> {
    let names: Vec<String> = SignalKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let codes = kinds
        .iter()
        .map(|&c| {
            SignalKind::from_code(c)
                .and_then(|k| SignalKind::ALL.iter().position(|x| *x == k))
                .map_or(NONE, |i| i as u32)
        })
        .collect::<Vec<u32>>();
    GroupKey {
        codes: std::borrow::Cow::Owned(codes),
        dict: std::borrow::Cow::Owned(Dict { names }),
    }
}

/// The signals that pass the filters, with the customer and agent attributes they refer to.
pub(crate) struct Signals {
    pub frame: SignalFrame,
    pub customers: CustomerFrame,
    pub agents: AgentFrame,
}

/// The survey responses that pass the filters, with the customer and agent attributes.
pub(crate) struct Surveys {
    pub frame: SurveyFrame,
    pub customers: CustomerFrame,
    pub agents: AgentFrame,
}

/// What a request reads besides the columns it computes on: the columns its filters and its
/// grouping need, and whether customer or agent attributes are needed.
struct Extra {
    customer: bool,
    product: bool,
    agent: bool,
    channel: bool,
    at: bool,
    topic: bool,
    stage: bool,
    kind: bool,
    customer_names: bool,
    product_names: bool,
    agent_names: bool,
    customer_attrs: bool,
    agent_attrs: bool,
}

fn extra(f: &Filters, scope: &Scope, by: Option<By>) -> Extra {
    let by_is = |b: By| by == Some(b);
    let (seg, team) = (!scope.segments.is_empty(), !scope.teams.is_empty());
    let any = |set: &[By]| set.iter().copied().any(by_is);
    Extra {
        customer: f.segment.is_some()
            || seg
            || any(&[
                By::Customer,
                By::Segment,
                By::Persona,
                By::Tenure,
                By::TenureBand,
                By::Cohort,
            ]),
        product: f.product.is_some() || by_is(By::Product),
        agent: f.agent.is_some() || f.team.is_some() || team || any(&[By::Agent, By::Team]),
        channel: f.channel.is_some() || by_is(By::Channel),
        at: any(&[By::Day, By::Week, By::Month, By::Tenure, By::TenureBand]),
        topic: by_is(By::Topic),
        stage: by_is(By::Stage),
        kind: by_is(By::Kind),
        customer_names: by_is(By::Customer),
        product_names: f.product.is_some() || by_is(By::Product),
        agent_names: f.agent.is_some() || by_is(By::Agent),
        customer_attrs: f.segment.is_some()
            || seg
            || any(&[
                By::Segment,
                By::Persona,
                By::Tenure,
                By::TenureBand,
                By::Cohort,
            ]),
        // An agent filter under a team scope checks the agent's team.
        agent_attrs: f.team.is_some() || team || by_is(By::Team),
    }
}

/// Customer and agent attributes from the snapshot, each only when asked for.
fn attributes(
    store: &dyn FrameSource,
    customers: bool,
    agents: bool,
) -> Result<(CustomerFrame, AgentFrame)> {
    Ok((
        if customers {
            store.snapshot_customers()?
        } else {
            CustomerFrame::default()
        },
        if agents {
            store.snapshot_agents()?
        } else {
            AgentFrame::default()
        },
    ))
}

/// The signals that pass the filters, with the columns in `want` plus those the filters and
/// the grouping `by` need. Columns not asked for are empty.
pub(crate) fn signals(
    store: &dyn FrameSource,
    scope: &Scope,
    f: &Filters,
    by: Option<By>,
    want: SignalColumns,
    customer_attrs: bool,
) -> Result<Signals> {
    let window = f.window()?;
    f.channel_code()?;
    scope.check(f)?;
    ensure_fresh(store)?;
    let x = extra(f, scope, by);
    let cols = SignalColumns {
        at: want.at || x.at,
        channel: want.channel || x.channel,
        customer: want.customer || x.customer,
        product: want.product || x.product,
        agent: want.agent || x.agent,
        topic: want.topic || x.topic,
        stage: want.stage || x.stage,
        kind: want.kind || x.kind,
        customer_names: want.customer_names || x.customer_names,
        product_names: want.product_names || x.product_names,
        agent_names: want.agent_names || x.agent_names,
        ..want
    };
    let all = store.snapshot_signals(&window, &cols)?;
    let (customers, agents) = attributes(store, customer_attrs || x.customer_attrs, x.agent_attrs)?;
    let keep = rows(
        f,
        scope,
        all.len(),
        &RowColumns::of_signals(&all),
        &customers,
        &agents,
    )?;
    let frame = match keep {
        Some(keep) => all.select(&keep),
        None => all,
    };
    Ok(Signals {
        frame,
        customers,
        agents,
    })
}

/// The survey responses that pass the filters, with the columns in `want` plus those the
/// filters and the grouping `by` need.
pub(crate) fn surveys(
    store: &dyn FrameSource,
    scope: &Scope,
    f: &Filters,
    by: Option<By>,
    want: SurveyColumns,
) -> Result<Surveys> {
    let window = f.window()?;
    f.channel_code()?;
    if let Some(by) = by
        && by.signals_only()
    {
        return Err(signals_only(by, By::ALL));
    }
    scope.check(f)?;
    ensure_fresh(store)?;
    let x = extra(f, scope, by);
    let cols = SurveyColumns {
        at: want.at || x.at,
        channel: want.channel || x.channel,
        customer: want.customer || x.customer,
        product: want.product || x.product,
        agent: want.agent || x.agent,
        customer_names: want.customer_names || x.customer_names,
        product_names: want.product_names || x.product_names,
        agent_names: want.agent_names || x.agent_names,
        ..want
    };
    let all = store.snapshot_surveys(&window, &cols)?;
    let (customers, agents) = attributes(store, x.customer_attrs, x.agent_attrs)?;
    let keep = rows(
        f,
        scope,
        all.len(),
        &RowColumns::of_surveys(&all),
        &customers,
        &agents,
    )?;
    let frame = match keep {
        Some(keep) => all.select(&keep),
        None => all,
    };
    Ok(Surveys {
        frame,
        customers,
        agents,
    })
}
