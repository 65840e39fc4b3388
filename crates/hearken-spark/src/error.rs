use hearken_query::QueryError;

/// What can go wrong on the Spark path.
#[derive(Debug, thiserror::Error)]
pub enum SparkError {
    /// The engine URL does not parse.
    #[error("invalid engine '{url}': {reason}; give spark://HOST:PORT (a Spark Connect server)")]
    BadUrl { url: String, reason: String },
    /// The cluster could not be reached or refused the session.
    #[error(
        "cannot reach the Spark Connect server at {url}: {detail}; start it (tools/spark/cluster.sh start DIR) or check --engine"
    )]
    Unreachable { url: String, detail: String },
    /// The lake's layout (see [`crate::lake`]).
    #[error("{0}")]
    Lake(String),
    /// A query failed on the cluster.
    #[error("the Spark query failed: {0}")]
    Query(String),
    /// The cluster's answer holds something the store does not know (a lake from another store).
    #[error("{0}")]
    Foreign(String),
    /// The request: refused options, unknown values, and the query layer's errors.
    #[error(transparent)]
    Request(#[from] QueryError),
    /// The store's dictionaries could not be read.
    #[error(transparent)]
    Store(#[from] hearken_store::StoreError),
    /// Built without the `spark` feature.
    #[error("this hearken was built without the Spark engine: rebuild with `--features spark`")]
    NotBuilt,
}

pub type Result<T, E = SparkError> = std::result::Result<T, E>;
