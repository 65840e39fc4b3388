//! Filters and groupings shared by the analytics commands: which rows (`--from --to --segment
//! --product --channel --agent --team`) and which groups (`--by`).

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use hearken_engine::keys::{self, Period};
use hearken_engine::{AgentFrame, CustomerFrame, Dict, GroupKey, NONE};
use hearken_model::{Channel, DateOptions, Timestamp};
use hearken_store::Window;

#[derive(Debug, Args, Default)]
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

/// Rows of a frame (given its columns) that pass the filters.
pub struct RowColumns<'a> {
    pub customer: &'a [u32],
    pub product: &'a [u32],
    pub agent: &'a [u32],
    pub channel: &'a [u8],
    pub products: &'a Dict,
    pub agents: &'a Dict,
}

pub fn rows(
    f: &Filters,
    cols: &RowColumns<'_>,
    customers: &CustomerFrame,
    agents: &AgentFrame,
) -> Result<Vec<usize>> {
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
    let n = cols.customer.len();
    let lookup = |map: &[u32], code: u32| {
        if code == NONE {
            NONE
        } else {
            map.get(code as usize).copied().unwrap_or(NONE)
        }
    };
    Ok((0..n)
        .filter(|&r| {
            segment.is_none_or(|s| lookup(&customers.segment, cols.customer[r]) == s)
                && product.is_none_or(|p| cols.product[r] == p)
                && agent.is_none_or(|a| cols.agent[r] == a)
                && team.is_none_or(|t| lookup(&agents.team, cols.agent[r]) == t)
                && channel.is_none_or(|c| cols.channel[r] == c)
        })
        .collect())
}

/// The grouping key for `by` over a frame's columns.
pub struct KeyColumns<'a> {
    pub at: &'a [i64],
    pub customer: &'a [u32],
    pub product: &'a [u32],
    pub agent: &'a [u32],
    pub channel: &'a [u8],
    pub topic: Option<&'a [u32]>,
    pub customers: &'a Dict,
    pub products: &'a Dict,
    pub agents: &'a Dict,
    pub topics: Option<&'a Dict>,
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

pub fn signals(store: &hearken_store::Store, f: &Filters) -> Result<Signals> {
    let all = store.signal_frame(&f.window()?)?;
    let customers = store.customer_frame()?;
    let agents = store.agent_frame()?;
    let keep = rows(
        f,
        &RowColumns {
            customer: &all.customer,
            product: &all.product,
            agent: &all.agent,
            channel: &all.channel,
            products: &all.products,
            agents: &all.agents,
        },
        &customers,
        &agents,
    )?;
    let frame = if keep.len() == all.len() {
        all
    } else {
        all.select(&keep)
    };
    Ok(Signals {
        frame,
        customers,
        agents,
    })
}

pub fn surveys(store: &hearken_store::Store, f: &Filters) -> Result<Surveys> {
    let all = store.survey_frame(&f.window()?)?;
    let customers = store.customer_frame()?;
    let agents = store.agent_frame()?;
    let keep = rows(
        f,
        &RowColumns {
            customer: &all.customer,
            product: &all.product,
            agent: &all.agent,
            channel: &all.channel,
            products: &all.products,
            agents: &all.agents,
        },
        &customers,
        &agents,
    )?;
    let frame = if keep.len() == all.len() {
        all
    } else {
        all.select(&keep)
    };
    Ok(Surveys {
        frame,
        customers,
        agents,
    })
}
