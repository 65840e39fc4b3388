//! The filters of a page, which live in its URL so that a view can be bookmarked and shared:
//! `from`, `to`, `segment`, `product`, `channel`, `team`, `agent`, `topic`, and the few options
//! some pages take (`by`, `kind`, `customer`, `search`, `cursor`, `week`, ...).
//!
//! Unknown parameters are refused (a typo'd filter must not be ignored); empty ones (what a form
//! sends for a field left blank) are dropped by a redirect to the clean URL.

use hearken_query::Filters;
use serde::Deserialize;

/// Everything a dashboard URL may carry. One struct for every page: a parameter a page cannot
/// honour is refused by that page ([`PageQuery::refuse`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub segment: Option<String>,
    pub product: Option<String>,
    pub channel: Option<String>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub topic: Option<String>,
    /// Signals list: kind (complaint, question ...), customer, text search, page cursor.
    pub kind: Option<String>,
    pub customer: Option<String>,
    pub search: Option<String>,
    pub cursor: Option<String>,
    /// Pareto: the dimension (customer, product, topic, channel).
    pub by: Option<String>,
    /// The weekly report: `2026-W47`.
    pub week: Option<String>,
    /// Quarantine: every entry, closed ones too.
    pub all: Option<String>,
}

/// The names of [`PageQuery`]'s fields, in URL order.
pub const FILTER_NAMES: [&str; 8] = [
    "from", "to", "segment", "product", "channel", "team", "agent", "topic",
];

impl PageQuery {
    fn pairs(&self) -> Vec<(&'static str, &Option<String>)> {
        vec![
            ("from", &self.from),
            ("to", &self.to),
            ("segment", &self.segment),
            ("product", &self.product),
            ("channel", &self.channel),
            ("team", &self.team),
            ("agent", &self.agent),
            ("topic", &self.topic),
            ("kind", &self.kind),
            ("customer", &self.customer),
            ("search", &self.search),
            ("cursor", &self.cursor),
            ("by", &self.by),
            ("week", &self.week),
            ("all", &self.all),
        ]
    }

    /// Whether a parameter was sent empty (a blank form field).
    pub fn has_blank(&self) -> bool {
        self.pairs()
            .iter()
            .any(|(_, v)| v.as_deref().is_some_and(|s| s.trim().is_empty()))
    }

    /// The same query without blank parameters, values trimmed.
    pub fn cleaned(&self) -> PageQuery {
        let c = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        PageQuery {
            from: c(&self.from),
            to: c(&self.to),
            segment: c(&self.segment),
            product: c(&self.product),
            channel: c(&self.channel),
            team: c(&self.team),
            agent: c(&self.agent),
            topic: c(&self.topic),
            kind: c(&self.kind),
            customer: c(&self.customer),
            search: c(&self.search),
            cursor: c(&self.cursor),
            by: c(&self.by),
            week: c(&self.week),
            all: c(&self.all),
        }
    }

    /// The query string (without `?`), parameters in a fixed order, values percent-encoded.
    pub fn query_string(&self) -> String {
        self.pairs()
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k}={}", encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Only the row filters (dates, segment, product, channel, team, agent, topic).
    pub fn filters_only(&self) -> PageQuery {
        PageQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            segment: self.segment.clone(),
            product: self.product.clone(),
            channel: self.channel.clone(),
            team: self.team.clone(),
            agent: self.agent.clone(),
            topic: self.topic.clone(),
            ..PageQuery::default()
        }
    }

    /// The query layer's row filters (everything but `topic`, which only signal lists take).
    pub fn filters(&self) -> Filters {
        Filters {
            from: self.from.clone(),
            to: self.to.clone(),
            segment: self.segment.clone(),
            product: self.product.clone(),
            channel: self.channel.clone(),
            agent: self.agent.clone(),
            team: self.team.clone(),
        }
    }

    /// `path?query` for these parameters.
    pub fn url(&self, path: &str) -> String {
        let q = self.query_string();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }

    /// The first parameter among `names` that is set, to refuse it on a page that cannot honour it.
    pub fn refuse(&self, names: &[&str]) -> Option<&'static str> {
        self.pairs()
            .into_iter()
            .find(|(k, v)| v.is_some() && names.contains(k))
            .map(|(k, _)| k)
    }

    /// The link to the signals behind a figure: these filters plus `extra` (name, value) pairs,
    /// which replace a filter of the same name.
    pub fn signals_link(&self, extra: &[(&str, &str)]) -> String {
        let mut q = self.filters_only();
        for (k, v) in extra {
            let v = Some((*v).to_string());
            match *k {
                "from" => q.from = v,
                "to" => q.to = v,
                "segment" => q.segment = v,
                "product" => q.product = v,
                "channel" => q.channel = v,
                "team" => q.team = v,
                "agent" => q.agent = v,
                "topic" => q.topic = v,
                "kind" => q.kind = v,
                "customer" => q.customer = v,
                "search" => q.search = v,
                _ => {}
            }
        }
        q.url("/signals")
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_parameters_are_dropped_and_the_rest_kept_in_order() {
        let q = PageQuery {
            to: Some("2026-02-01".into()),
            from: Some(" 2026-01-01 ".into()),
            segment: Some(String::new()),
            topic: Some("a&b <c>".into()),
            ..PageQuery::default()
        };
        assert!(q.has_blank());
        let c = q.cleaned();
        assert!(!c.has_blank());
        assert_eq!(
            c.query_string(),
            "from=2026-01-01&to=2026-02-01&topic=a%26b%20%3Cc%3E"
        );
        assert_eq!(c.refuse(&["topic"]), Some("topic"));
        assert_eq!(c.refuse(&["kind"]), None);
        assert_eq!(
            c.signals_link(&[("channel", "email")]),
            "/signals?from=2026-01-01&to=2026-02-01&channel=email&topic=a%26b%20%3Cc%3E"
        );
    }
}
