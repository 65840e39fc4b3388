//! The Spark Connect session (the `spark` feature): the Apache project's Rust client.

use spark_connect::row::Value;
use spark_connect::{SparkSession, SparkSessionBuilder};

use crate::Cell;
use crate::error::{Result, SparkError};

pub(crate) struct Session {
    session: SparkSession,
    url: String,
}

fn one_line(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    let first = s.lines().next().unwrap_or("").trim();
    // Spark's errors carry a JVM stack trace after the message; the first line says it.
    first.chars().take(400).collect()
}

impl Session {
    pub(crate) fn connect(url: &str) -> Result<Session> {
        let unreachable = |e: spark_connect::SparkError| SparkError::Unreachable {
            url: url.to_string(),
            detail: one_line(e),
        };
        reachable(url)?;
        let session = SparkSessionBuilder::new()
            .remote(url)
            .get_or_create()
            .map_err(unreachable)?;
        let s = Session {
            session,
            url: url.to_string(),
        };
        // The client connects lazily: ask for the version so a server that is down is reported
        // here, once, not as a failed query.
        s.session.version().map_err(unreachable)?;
        // Period keys are computed on UTC days whatever the server's zone (the SQL uses
        // `unix_seconds`, which does not depend on it); set it anyway for readable plans.
        s.session
            .conf()
            .set("spark.sql.session.timeZone", "UTC")
            .map_err(unreachable)?;
        Ok(s)
    }

    pub(crate) fn version(&self) -> Result<String> {
        self.session.version().map_err(|e| SparkError::Unreachable {
            url: self.url.clone(),
            detail: one_line(e),
        })
    }

    pub(crate) fn rows(&self, query: &str) -> Result<Vec<Vec<Cell>>> {
        let failed = |e: spark_connect::SparkError| SparkError::Query(one_line(e));
        let rows = self
            .session
            .sql(query)
            .map_err(failed)?
            .collect()
            .map_err(failed)?;
        rows.into_iter()
            .map(|r| {
                r.into_values()
                    .into_iter()
                    .map(cell)
                    .collect::<Result<Vec<Cell>>>()
            })
            .collect()
    }
}

fn cell(v: Value) -> Result<Cell> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::Byte(x) => Cell::Int(x.into()),
        Value::Short(x) => Cell::Int(x.into()),
        Value::Integer(x) => Cell::Int(x.into()),
        Value::Long(x) => Cell::Int(x),
        Value::Float(x) => Cell::Float(x.into()),
        Value::Double(x) => Cell::Float(x),
        Value::String(s) => Cell::Text(s),
        other => {
            return Err(SparkError::Query(format!(
                "a value of an unexpected type in a partial: {other:?}"
            )));
        }
    })
}

/// A TCP connection to the server within 5 s: the client retries an unreachable server with
/// backoff for minutes, so a server that is down is reported here at once instead.
fn reachable(url: &str) -> Result<()> {
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let down = |detail: String| SparkError::Unreachable {
        url: url.to_string(),
        detail,
    };
    let authority = url.trim_start_matches("sc://");
    let addrs: Vec<_> = authority
        .to_socket_addrs()
        .map_err(|e| down(format!("cannot resolve {authority}: {e}")))?
        .collect();
    let mut last = String::from("no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(down(last))
}
