//! Filters and groupings shared by the analytics commands: which rows (`--from --to --segment
//! --product --channel --agent --team`) and which groups (`--by`).

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use hearken_engine::keys::{self, Period};
use hearken_engine::{AgentFrame, CustomerFrame, Dict, GroupKey, NONE, SignalFrame, SurveyFrame};
use hearken_model::{Channel, DateOptions, Timestamp};
use hearken_store::{SignalColumns, SurveyColumns, Window};

#[derive(Debug, Clone, Args, Default)]
pub struct Filters {
    /// Only rows at or after this date/time (ISO 8601)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only rows before this date/time
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only customers of this segment
    #[arg(long)]
    pub segment: Option<String>,
    /// Only this product (its id)
    #[arg(long)]
    pub product: Option<String>,
    /// Only this channel
    #[arg(long)]
    pub channel: Option<String>,
    /// Only this agent (its id)
    #[arg(long)]
    pub agent: Option<String>,
    /// Only agents of this team
    #[arg(long)]
    pub team: Option<String>,
}

/// What to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Customer,
    Segment,
    Persona,
    Product,
    Channel,
    Agent,
    Team,
    Topic,
    Day,
    Week,
    Month,
    /// New (first 90 days) vs long-standing customers
    Tenure,
    /// Customer tenure at the time of the row: <90d, 90-365d, 365-730d, 730d+
    TenureBand,
    /// Signup cohort: the month the customer became a customer
    Cohort,
    /// Lifecycle stage of the signal (signals only)
    Stage,
}

impl By {
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_string())
    }
}

impl Filters {
    pub fn window(&self) -> Result<Window> {
        let parse = |flag: &str, v: &Option<String>| -> Result<Option<i64>> {
            v.as_deref()
                .map(|s| {
                    Timestamp::parse(flag, s, &DateOptions::default())
                        .map(|t| t.unix())
                        .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
                })
                .transpose()
        };
        let w = Window {
            from: parse("from", &self.from)?,
            to: parse("to", &self.to)?,
        };
        if let (Some(a), Some(b)) = (w.from, w.to)
            && a >= b
        {
            bail!("--from must be before --to");
        }
        Ok(w)
    }
}

/// The code of `name` in `dict`, or a message listing what exists.
pub fn code_of(dict: &Dict, name: &str, what: &str) -> Result<u32> {
    if let Some(i) = dict.names.iter().position(|n| n == name) {
        return Ok(i as u32);
    }
    let mut known: Vec<&str> = dict
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    known.sort_unstable();
    known.dedup();
    let shown = if known.len() > 20 {
        format!("{}, ... ({} in all)", known[..20].join(", "), known.len())
    } else {
        known.join(", ")
    };
    bail!("unknown {what} '{name}' (known: {shown})")
}

/// Rows of a frame (given its columns) that pass the filters. Only the columns an active
/// filter names need to be loaded.
pub struct RowColumns<'a> {
    pub customer: &'a [u32],
    pub product: &'a [u32],
    pub agent: &'a [u32],
    pub channel: &'a [u8],
    pub products: &'a Dict,
    pub agents: &'a Dict,
}

impl Filters {
    /// Whether any filter other than the time window is set.
    pub fn narrows_rows(&self) -> bool {
        self.segment.is_some()
            || self.product.is_some()
            || self.channel.is_some()
            || self.agent.is_some()
            || self.team.is_some()
    }
}

impl<'a> RowColumns<'a> {
    pub fn of_signals(f: &'a SignalFrame) -> RowColumns<'a> {
        RowColumns {
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            products: &f.products,
            agents: &f.agents,
        }
    }

    pub fn of_surveys(f: &'a SurveyFrame) -> RowColumns<'a> {
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

/// Customer and agent attributes from the snapshot, each only when asked for.
fn attributes(
    store: &hearken_store::Store,
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

/// The rows that pass, or `None` when no row filter is set (every row passes).
pub fn rows(
    f: &Filters,
    n: usize,
    cols: &RowColumns<'_>,
    customers: &CustomerFrame,
    agents: &AgentFrame,
) -> Result<Option<Vec<usize>>> {
    if !f.narrows_rows() {
        return Ok(None);
    }
    let segment = f
        .segment
        .as_deref()
        .map(|s| code_of(&customers.segments, s, "segment"))
        .transpose()?;
    let product = f
        .product
        .as_deref()
        .map(|s| code_of(cols.products, s, "product"))
        .transpose()?;
    let agent = f
        .agent
        .as_deref()
        .map(|s| code_of(cols.agents, s, "agent"))
        .transpose()?;
    let team = f
        .team
        .as_deref()
        .map(|s| code_of(&agents.teams, s, "team"))
        .transpose()?;
    let channel = f
        .channel
        .as_deref()
        .map(|c| {
            Channel::parse("channel", c)
                .map(Channel::code)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "--channel '{c}' {} ({})",
                        e.reason,
                        e.hint.unwrap_or_default()
                    )
                })
        })
        .transpose()?;
    let lookup = |map: &[u32], code: u32| {
        if code == NONE {
            NONE
        } else {
            map.get(code as usize).copied().unwrap_or(NONE)
        }
    };
    let at = |col: &[u32], r: usize| col.get(r).copied().unwrap_or(NONE);
    Ok(Some(
        (0..n)
            .filter(|&r| {
                segment.is_none_or(|s| lookup(&customers.segment, at(cols.customer, r)) == s)
                    && product.is_none_or(|p| at(cols.product, r) == p)
                    && agent.is_none_or(|a| at(cols.agent, r) == a)
                    && team.is_none_or(|t| lookup(&agents.team, at(cols.agent, r)) == t)
                    && channel.is_none_or(|c| cols.channel.get(r) == Some(&c))
            })
            .collect(),
    ))
}

/// The grouping key for `by` over a frame's columns.
pub struct KeyColumns<'a> {
    pub at: &'a [i64],
    pub customer: &'a [u32],
    pub product: &'a [u32],
    pub agent: &'a [u32],
    pub channel: &'a [u8],
    pub topic: Option<&'a [u32]>,
    pub stage: Option<&'a [u32]>,
    pub customers: &'a Dict,
    pub products: &'a Dict,
    pub agents: &'a Dict,
    pub topics: Option<&'a Dict>,
    pub stages: Option<&'a Dict>,
}

impl<'a> KeyColumns<'a> {
    pub fn of_signals(f: &'a SignalFrame) -> KeyColumns<'a> {
        KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: Some(&f.topic),
            stage: Some(&f.stage),
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
            topics: Some(&f.topics),
            stages: Some(&f.stages),
        }
    }

    /// Survey responses have no topic: `--by topic` on them is an error.
    pub fn of_surveys(f: &'a SurveyFrame) -> KeyColumns<'a> {
        KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: None,
            stage: None,
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
            topics: None,
            stages: None,
        }
    }
}

pub fn key<'a>(
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
        By::Topic => match (c.topic, c.topics) {
            (Some(t), Some(d)) => GroupKey::borrowed(t, d),
            _ => bail!("--by topic applies to signals, not survey responses"),
        },
        By::Day => keys::period(c.at, Period::Day)?,
        By::Week => keys::period(c.at, Period::Week)?,
        By::Month => keys::period(c.at, Period::Month)?,
        By::Tenure => keys::new_vs_long_standing(c.at, c.customer, &customers.since, 90)?,
        By::TenureBand => keys::tenure(c.at, c.customer, &customers.since, &[90, 365, 730])?,
        By::Cohort => keys::cohort(c.customer, &customers.since, Period::Month)?,
        By::Stage => match (c.stage, c.stages) {
            (Some(t), Some(d)) => GroupKey::borrowed(t, d),
            _ => {
                bail!("--by stage applies to signals (their lifecycle stage), not survey responses")
            }
        },
    })
}

/// The signals that pass the filters, with the customer and agent attributes they refer to.
pub struct Signals {
    pub frame: hearken_engine::SignalFrame,
    pub customers: CustomerFrame,
    pub agents: AgentFrame,
}

/// The survey responses that pass the filters, with the customer and agent attributes.
pub struct Surveys {
    pub frame: hearken_engine::SurveyFrame,
    pub customers: CustomerFrame,
    pub agents: AgentFrame,
}

/// What a command reads besides the columns it computes on: the columns its filters and its
/// grouping need, and whether customer or agent attributes are needed.
struct Extra {
    customer: bool,
    product: bool,
    agent: bool,
    channel: bool,
    at: bool,
    topic: bool,
    stage: bool,
    customer_names: bool,
    product_names: bool,
    agent_names: bool,
    customer_attrs: bool,
    agent_attrs: bool,
}

fn extra(f: &Filters, by: Option<By>) -> Extra {
    let by_is = |b: By| by == Some(b);
    Extra {
        customer: f.segment.is_some()
            || [
                By::Customer,
                By::Segment,
                By::Persona,
                By::Tenure,
                By::TenureBand,
                By::Cohort,
            ]
            .into_iter()
            .any(by_is),
        product: f.product.is_some() || by_is(By::Product),
        agent: f.agent.is_some() || f.team.is_some() || by_is(By::Agent) || by_is(By::Team),
        channel: f.channel.is_some() || by_is(By::Channel),
        at: [By::Day, By::Week, By::Month, By::Tenure, By::TenureBand]
            .into_iter()
            .any(by_is),
        topic: by_is(By::Topic),
        stage: by_is(By::Stage),
        customer_names: by_is(By::Customer),
        product_names: f.product.is_some() || by_is(By::Product),
        agent_names: f.agent.is_some() || by_is(By::Agent),
        customer_attrs: f.segment.is_some()
            || [
                By::Segment,
                By::Persona,
                By::Tenure,
                By::TenureBand,
                By::Cohort,
            ]
            .into_iter()
            .any(by_is),
        agent_attrs: f.team.is_some() || by_is(By::Team),
    }
}

/// Brings the store's columnar snapshot up to date (after an import), saying so on stderr when
/// it takes a while.
pub fn fresh_snapshot(store: &hearken_store::Store) -> Result<()> {
    if store.snapshot_is_fresh()? {
        return Ok(());
    }
    let bar =
        crate::output::spinner("updating the columnar snapshot (first analytics after an import)");
    let started = std::time::Instant::now();
    let report = store.refresh_snapshot(false, &mut |part, n| {
        bar.set_message(format!(
            "updating the columnar snapshot: {part} {}",
            crate::output::thousands(n)
        ));
        bar.tick();
    })?;
    bar.finish_and_clear();
    tracing::info!(
        ?report,
        seconds = started.elapsed().as_secs_f64(),
        "snapshot refreshed"
    );
    Ok(())
}

/// The signals that pass the filters, with the columns in `want` plus those the filters and
/// the grouping `by` need. Columns not asked for are empty.
pub fn signals(
    store: &hearken_store::Store,
    f: &Filters,
    by: Option<By>,
    want: SignalColumns,
    customer_attrs: bool,
) -> Result<Signals> {
    fresh_snapshot(store)?;
    let x = extra(f, by);
    let cols = SignalColumns {
        at: want.at || x.at,
        channel: want.channel || x.channel,
        customer: want.customer || x.customer,
        product: want.product || x.product,
        agent: want.agent || x.agent,
        topic: want.topic || x.topic,
        stage: want.stage || x.stage,
        customer_names: want.customer_names || x.customer_names,
        product_names: want.product_names || x.product_names,
        agent_names: want.agent_names || x.agent_names,
        ..want
    };
    let all = store.snapshot_signals(&f.window()?, &cols)?;
    let (customers, agents) = attributes(store, customer_attrs || x.customer_attrs, x.agent_attrs)?;
    let keep = rows(
        f,
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
pub fn surveys(
    store: &hearken_store::Store,
    f: &Filters,
    by: Option<By>,
    want: SurveyColumns,
) -> Result<Surveys> {
    fresh_snapshot(store)?;
    let x = extra(f, by);
    if x.topic || x.stage {
        bail!(
            "--by {} applies to signals, not survey responses",
            by.map_or_else(String::new, By::name)
        );
    }
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
    let all = store.snapshot_surveys(&f.window()?, &cols)?;
    let (customers, agents) = attributes(store, x.customer_attrs, x.agent_attrs)?;
    let keep = rows(
        f,
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
