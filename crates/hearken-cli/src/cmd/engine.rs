//! `--engine` and `--lake`: where an analytic computes (ADR 0014). The embedded engine reads the
//! store's snapshot; `spark://HOST:PORT` has a Spark Connect server compute the partial
//! aggregates over the Parquet lake (the store still gives the dimensions and display names).

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use hearken_spark::{Lake, Spark, SparkError, Table};

use super::Ctx;
use super::select::cli_error;

#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Compute on a Spark cluster: spark://HOST:PORT (or sc://), its Spark Connect server (a
    /// build with the `spark` feature) [default: `engine` in hearken.toml, else embedded]
    #[arg(long, env = "HEARKEN_ENGINE", value_name = "URL")]
    pub engine: Option<String>,
    /// The Parquet lake the Spark engine reads: DIR/signals and DIR/surveys as `hearken export
    /// signals|surveys --partition month --out DIR/...` writes them [default: `lake` in
    /// hearken.toml]
    #[arg(long, env = "HEARKEN_LAKE", value_name = "DIR")]
    pub lake: Option<PathBuf>,
}

impl EngineArgs {
    /// The engine asked for (the option, else hearken.toml's `engine`), unless it is the
    /// embedded one.
    fn chosen(&self, ctx: &Ctx) -> Option<String> {
        self.engine
            .clone()
            .or_else(|| ctx.config.engine.clone())
            .filter(|e| !e.is_empty() && e.as_str() != "embedded")
    }

    /// For an analytic only the embedded engine computes: a Spark engine asked for (by the
    /// option, HEARKEN_ENGINE or hearken.toml) is refused rather than ignored.
    pub fn embedded_only(&self, ctx: &Ctx, analytic: &str) -> Result<()> {
        if let Some(engine) = self.chosen(ctx) {
            return Err(anyhow!(
                "{analytic} does not run on the engine '{engine}' yet (ADR 0014: scores, pareto, trends and repeats do); give --engine embedded to compute it on this machine"
            ));
        }
        if self.lake.is_some() {
            return Err(anyhow!(
                "--lake is read by the Spark engine only, and {analytic} runs on the embedded engine: leave out --lake"
            ));
        }
        Ok(())
    }

    /// The Spark session and the checked lake when the engine is Spark, `None` for the embedded
    /// engine.
    pub fn spark(&self, ctx: &Ctx) -> Result<Option<(Spark, Lake)>> {
        let Some(engine) = self.chosen(ctx) else {
            if self.lake.is_some() {
                return Err(anyhow!(
                    "--lake is read by the Spark engine only: give --engine spark://HOST:PORT too, or leave out --lake"
                ));
            }
            return Ok(None);
        };
        if !hearken_spark::is_spark(&engine) {
            return Err(anyhow!(
                "unknown engine '{engine}': give spark://HOST:PORT (a Spark Connect server) or embedded"
            ));
        }
        let lake = self.lake.clone().or_else(|| ctx.config.lake.clone()).ok_or_else(|| {
            anyhow!(
                "the Spark engine reads the Parquet lake: give --lake DIR (`hearken export signals --partition month --out DIR/signals`, and surveys)"
            )
        })?;
        let lake = Lake::open(&lake).map_err(spark_error)?;
        // Both tables are checked before the cluster is asked anything: a lake with a missing or
        // foreign partition is refused whether or not the cluster is up.
        for table in [Table::Signals, Table::Surveys] {
            lake.table(table).map_err(spark_error)?;
        }
        let spark = hearken_spark::connect(&engine).map_err(spark_error)?;
        Ok(Some((spark, lake)))
    }
}

/// The Spark path's error as one line; the query layer's errors as the embedded path gives them.
pub fn spark_error(e: SparkError) -> anyhow::Error {
    match e {
        SparkError::Request(q) => cli_error(q),
        other => anyhow!("{other}"),
    }
}
