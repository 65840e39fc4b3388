//! Prometheus text exposition (format 0.0.4), written by hand: a few counters and one histogram
//! do not justify a metrics framework and its dependencies (ADR 0006).
//!
//! Route labels are the matched route templates (`/api/v1/tokens/{id}`), never raw paths, so the
//! number of series stays bounded whatever clients send; requests that match no route share the
//! label `unmatched`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Count per bucket (not cumulative; made cumulative when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Requests {
    /// (method, route, status) -> count
    total: BTreeMap<(String, String, u16), u64>,
    /// (method, route) -> latency histogram
    latency: BTreeMap<(String, String), Histogram>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    in_flight: AtomicI64,
    rows_ingested: AtomicU64,
    rows_quarantined: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn finished(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let mut r = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *r.total
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = r
            .latency
            .entry((method.to_string(), route.to_string()))
            .or_default();
        h.count += 1;
        h.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            h.buckets[i] += 1;
        }
    }

    /// Rows stored and quarantined by live ingestion and webhook deliveries.
    pub fn add_ingested(&self, rows: u64, quarantined: u64) {
        self.rows_ingested.fetch_add(rows, Ordering::Relaxed);
        self.rows_quarantined
            .fetch_add(quarantined, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let r = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str("# HELP hearken_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE hearken_http_requests_total counter\n");
        for ((method, route, status), n) in &r.total {
            let _ = writeln!(
                out,
                "hearken_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP hearken_http_request_duration_seconds Time from the request's arrival to its answer.\n");
        out.push_str("# TYPE hearken_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &r.latency {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (b, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "hearken_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "hearken_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "hearken_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "hearken_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        drop(r);
        let _ = write!(
            out,
            "# HELP hearken_http_requests_in_flight Requests being served now.\n\
             # TYPE hearken_http_requests_in_flight gauge\n\
             hearken_http_requests_in_flight {}\n\
             # HELP hearken_ingest_rows_total Rows stored through live ingestion.\n\
             # TYPE hearken_ingest_rows_total counter\n\
             hearken_ingest_rows_total {}\n\
             # HELP hearken_ingest_rows_quarantined_total Rows of live ingestion put in quarantine.\n\
             # TYPE hearken_ingest_rows_quarantined_total counter\n\
             hearken_ingest_rows_quarantined_total {}\n",
            self.in_flight.load(Ordering::Relaxed),
            self.rows_ingested.load(Ordering::Relaxed),
            self.rows_quarantined.load(Ordering::Relaxed),
        );
        out
    }
}

/// Label values escape backslash, double quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        for ms in [0, 3, 3, 70, 20_000] {
            m.started();
            m.finished("GET", "/x", 200, Duration::from_millis(ms));
        }
        m.started();
        m.finished("GET", "/x", 404, Duration::from_millis(1));
        let text = m.render();
        assert!(
            text.contains(
                "hearken_http_requests_total{method=\"GET\",route=\"/x\",status=\"200\"} 5"
            )
        );
        assert!(
            text.contains(
                "hearken_http_requests_total{method=\"GET\",route=\"/x\",status=\"404\"} 1"
            )
        );
        // 0 ms and 1 ms fall in le=0.001; 3 ms twice in le=0.005; 70 ms in le=0.1; 20 s only in +Inf.
        for (le, n) in [
            ("0.001", 2),
            ("0.005", 4),
            ("0.1", 5),
            ("10", 5),
            ("+Inf", 6),
        ] {
            let line = format!(
                "hearken_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/x\",le=\"{le}\"}} {n}\n"
            );
            assert!(text.contains(&line), "{line} in\n{text}");
        }
        assert!(text.contains("hearken_http_requests_in_flight 0\n"));
        assert!(text.contains("hearken_ingest_rows_total 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
