//! The flags every analytics command shares (`--from --to --segment --product --channel --agent
//! --team`), the `--by` values each command accepts, and the glue to the query layer: the
//! selection itself is computed in crates/hearken-query.

use std::str::FromStr;

use anyhow::Result;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use hearken_query::{By, QueryError};

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

impl Filters {
    /// The filters as the query layer takes them.
    pub fn query(&self) -> hearken_query::Filters {
        hearken_query::Filters {
            from: self.from.clone(),
            to: self.to.clone(),
            segment: self.segment.clone(),
            product: self.product.clone(),
            channel: self.channel.clone(),
            agent: self.agent.clone(),
            team: self.team.clone(),
        }
    }
}

/// A value parser offering exactly `names` (so `--help` lists what the command accepts) and
/// parsing them into `T`.
pub fn one_of<T>(names: Vec<&'static str>) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).try_map(|s: String| {
        // The parser above lets through only names of `T`, so this parse succeeds.
        s.parse::<T>()
            .map_err(|_| format!("'{s}' is not accepted here"))
    })
}

/// The `--by` values a command accepts.
pub fn by_parser(accepted: &'static [By]) -> impl TypedValueParser<Value = By> {
    one_of(accepted.iter().map(|b| b.as_str()).collect())
}

/// A query error as the CLI says it: request fields named as flags (`segment` -> `--segment`),
/// then what to do.
pub fn cli_error(e: QueryError) -> anyhow::Error {
    if !e.is_user_error() {
        return anyhow::Error::new(e);
    }
    let mut line = flagify(&e.to_string());
    if let Some(hint) = e.hint() {
        line.push_str("; ");
        line.push_str(&flagify(&hint));
    }
    anyhow::anyhow!(line)
}

/// Turns each backticked request field (one word of `a-z` and `_`) into its flag.
pub fn flagify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let word = &after[..end];
        out.push_str(&rest[..start]);
        if !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push_str("--");
            out.push_str(&word.replace('_', "-"));
        } else {
            out.push('`');
            out.push_str(word);
            out.push('`');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Brings the store's columnar snapshot up to date (after an import), saying so on stderr when
/// it takes a while.
pub fn fresh_snapshot(store: &dyn hearken_store::FrameSource) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_flags_and_commands_stay() {
        assert_eq!(
            flagify("`from` must be before `to`; give a `against_from`"),
            "--from must be before --to; give a --against-from"
        );
        assert_eq!(
            flagify("run `hearken themes` or `Topic`"),
            "run `hearken themes` or `Topic`"
        );
        assert_eq!(flagify("a ` lone tick"), "a ` lone tick");
    }
}
