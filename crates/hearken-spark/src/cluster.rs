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

    /// Runs `query` and returns its rows. The client retries a server it cannot reach with
    /// backoff for about ten minutes; so the query runs on a thread of its own while this one
    /// checks every [`WATCH`] that the server still accepts connections, and a server that is
    /// down (before the query, or gone during it) is reported at once as unreachable. The
    /// abandoned call ends when the client gives up.
    pub(crate) fn rows(&self, query: &str) -> Result<Vec<Vec<Cell>>> {
        reachable(&self.url)?;
        let session = self.session.clone();
        let q = query.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("spark-query".into())
            .spawn(move || {
                let out = match session.sql(&q) {
                    Ok(df) => df.collect().map_err(one_line),
                    Err(e) => Err(one_line(e)),
                };
                // The receiver is gone only when the server was found down: nothing to tell.
                let _ = tx.send(out);
            })
            .map_err(|e| SparkError::Query(format!("cannot start the query's thread: {e}")))?;
        let mut down = 0;
        let rows = loop {
            match rx.recv_timeout(WATCH) {
                Ok(Ok(rows)) => break rows,
                // A transport error from a server that has gone is said as such.
                Ok(Err(e)) => {
                    return Err(match reachable(&self.url) {
                        Err(SparkError::Unreachable { url, detail }) => SparkError::Unreachable {
                            url,
                            detail: format!("it went away during the query ({detail})"),
                        },
                        _ => SparkError::Query(e),
                    });
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(SparkError::Query("the query's thread stopped".into()));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => match reachable(&self.url) {
                    Ok(()) => down = 0,
                    // Twice in a row, so a server busy accepting is not taken for a lost one.
                    Err(e) if down >= 1 => {
                        return Err(match e {
                            SparkError::Unreachable { url, detail } => SparkError::Unreachable {
                                url,
                                detail: format!("it went away during the query ({detail})"),
                            },
                            other => other,
                        });
                    }
                    Err(_) => down += 1,
                },
            }
        };
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

/// How often a running query checks that the server is still there.
const WATCH: std::time::Duration = std::time::Duration::from_secs(2);

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
