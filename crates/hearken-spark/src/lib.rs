//! Hearken's analytics on an Apache Spark cluster (ADR 0014).
//!
//! The facts (signals, survey responses) are read by Spark from the Parquet lake that
//! `hearken export ... --partition month` writes; Spark computes only **exact partial
//! aggregates** (counts per group and scale point, class counts, repeat contacts per topic and
//! product by a window function) with Spark SQL; the store
//! gives the dimensions' dictionaries and display names; the query layer turns the partials into
//! the answer with the same function the embedded path uses
//! (`hearken_query::scores::scores_from_partials`), so the JSON of both is byte-equal by
//! construction. An option the Spark path cannot honour is refused, never ignored.
//!
//! The Spark Connect client (`apache-spark-connect`) is behind the `spark` feature; without it
//! this crate builds the lake check and the query text only, and [`connect`] says to rebuild.

pub mod counts;
mod error;
pub mod lake;
pub mod repeats;
pub mod scores;

#[cfg(feature = "spark")]
mod cluster;

pub use error::{Result, SparkError};
pub use lake::{Lake, Table};

use hearken_query::{
    ParetoRequest, ParetoResponse, RepeatsRequest, RepeatsResponse, Scope, ScoresRequest,
    ScoresResponse, TrendsRequest, TrendsResponse,
};
use hearken_store::FrameSource;

/// Whether this build has the Spark Connect client (the `spark` feature).
pub const SPARK_BUILT: bool = cfg!(feature = "spark");

/// One value of a result row, as the partials read them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// Something that runs Spark SQL and returns its rows: a Spark Connect session, or a stub in
/// tests of the query text.
pub trait Sql {
    fn rows(&self, query: &str) -> Result<Vec<Vec<Cell>>>;
}

/// The Spark Connect URL of an engine given as `spark://HOST:PORT` (or `sc://HOST:PORT`).
pub fn connect_url(engine: &str) -> Result<String> {
    let bad = |reason: &str| SparkError::BadUrl {
        url: engine.to_string(),
        reason: reason.to_string(),
    };
    let rest = engine
        .strip_prefix("spark://")
        .or_else(|| engine.strip_prefix("sc://"))
        .ok_or_else(|| bad("it does not start with spark://"))?;
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| bad("it has no port"))?;
    if host.is_empty() || host.contains(['/', '?', '#', ';', ' ']) {
        return Err(bad("the host is empty or holds / ? # ; or a space"));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
    Ok(format!("sc://{host}:{port}"))
}

/// Whether `engine` names the Spark engine (`spark://...`), not the embedded one.
pub fn is_spark(engine: &str) -> bool {
    engine.starts_with("spark://") || engine.starts_with("sc://")
}

/// A session on a Spark Connect server.
pub struct Spark {
    #[cfg(feature = "spark")]
    inner: cluster::Session,
}

impl std::fmt::Debug for Spark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spark")
    }
}

/// Connects to the Spark Connect server of `engine` (`spark://HOST:PORT`) and checks that it
/// answers.
pub fn connect(engine: &str) -> Result<Spark> {
    let url = connect_url(engine)?;
    #[cfg(feature = "spark")]
    {
        Ok(Spark {
            inner: cluster::Session::connect(&url)?,
        })
    }
    #[cfg(not(feature = "spark"))]
    {
        let _ = url;
        Err(SparkError::NotBuilt)
    }
}

impl Spark {
    /// The Spark version the server runs.
    pub fn version(&self) -> Result<String> {
        #[cfg(feature = "spark")]
        {
            self.inner.version()
        }
        #[cfg(not(feature = "spark"))]
        {
            Err(SparkError::NotBuilt)
        }
    }
}

impl Sql for Spark {
    fn rows(&self, query: &str) -> Result<Vec<Vec<Cell>>> {
        #[cfg(feature = "spark")]
        {
            self.inner.rows(query)
        }
        #[cfg(not(feature = "spark"))]
        {
            let _ = query;
            Err(SparkError::NotBuilt)
        }
    }
}

/// `hearken scores` on Spark: the partials from the cluster, the answer from the query layer.
pub fn scores(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ScoresRequest,
) -> Result<ScoresResponse> {
    let partials = scores::score_partials(sql, lake, store, scope, req)?;
    Ok(hearken_query::scores::scores_from_partials(
        store, scope, req, partials,
    )?)
}

/// `hearken pareto` on Spark.
pub fn pareto(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ParetoRequest,
) -> Result<ParetoResponse> {
    let (dict, counts) = counts::pareto_partials(sql, lake, store, scope, req)?;
    Ok(hearken_query::pareto::pareto_from_partials(
        store, scope, req, &dict, &counts,
    )?)
}

/// `hearken trends` on Spark.
pub fn trends(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &TrendsRequest,
) -> Result<TrendsResponse> {
    let partials = counts::trends_partials(sql, lake, store, scope, req)?;
    Ok(hearken_query::trends::trends_from_partials(
        store, scope, req, partials,
    )?)
}

/// `hearken repeats` on Spark: the repeat-contact pairs found by a window function on the
/// cluster, the answer from the query layer.
pub fn repeats(
    sql: &dyn Sql,
    lake: &Lake,
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
) -> Result<RepeatsResponse> {
    let partials = repeats::repeats_partials(sql, lake, store, scope, req)?;
    Ok(hearken_query::repeats::repeats_from_partials(
        store, scope, req, partials,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_urls() {
        assert_eq!(
            connect_url("spark://127.0.0.1:15002").expect("ok"),
            "sc://127.0.0.1:15002"
        );
        assert_eq!(
            connect_url("sc://spark.example:15002/").expect("ok"),
            "sc://spark.example:15002"
        );
        for bad in [
            "http://x:1",
            "spark://x",
            "spark://:15002",
            "spark://x:0",
            "spark://x:99999",
        ] {
            let e = connect_url(bad).expect_err(bad).to_string();
            assert!(e.contains("spark://HOST:PORT"), "{e}");
        }
    }
}
