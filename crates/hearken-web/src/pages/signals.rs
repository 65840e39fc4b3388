//! The signals behind a figure: `hearken_query::signals` with the URL's filters (and `kind`,
//! `customer`, `search`), a page of up to 500 at a time with a link to the next, and the same list
//! as CSV (`/signals.csv`).
//!
//! The CSV download holds at most [`CSV_MAX`] rows and is refused, never cut, above that: the
//! streaming export (`hearken export signals`, `GET /api/v1/export/signals`) has no cap.

use hearken_query::{Scope, SignalsRequest};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::{clip, count, when};
use crate::view::{Cell, Content, PageError, Section, Table};

/// Rows per page of the list.
pub const PAGE: usize = 500;
/// Rows at most in one CSV download of the dashboard; more is refused with a pointer to the
/// streaming export.
pub const CSV_MAX: usize = 100_000;

fn request(pq: &PageQuery, limit: usize, cursor: Option<String>) -> SignalsRequest {
    SignalsRequest {
        kind: pq.kind.clone(),
        customer: pq.customer.clone(),
        topic: pq.topic.clone(),
        search: pq.search.clone(),
        limit,
        cursor,
        ..SignalsRequest::default()
    }
    .with_filters(pq.filters())
}

fn describe(pq: &PageQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("from", &pq.from),
        ("before", &pq.to),
        ("segment", &pq.segment),
        ("product", &pq.product),
        ("channel", &pq.channel),
        ("team", &pq.team),
        ("agent", &pq.agent),
        ("topic", &pq.topic),
        ("kind", &pq.kind),
        ("customer", &pq.customer),
        ("text contains", &pq.search),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k} {v}"));
        }
    }
    if parts.is_empty() {
        "all signals".into()
    } else {
        parts.join(", ")
    }
}

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Signals");
    c.lead = Some(format!(
        "Signals: {}. Most recently imported first.",
        describe(pq)
    ));
    let page = match q(hearken_query::signals(
        store,
        scope,
        &request(pq, PAGE, pq.cursor.clone()),
    )) {
        Ok(p) => p,
        Err(e) => return Content::error("Signals", &e),
    };
    let mut s = Section::new("list", "The signals");
    let mut t = Table::new(
        format!("{} signals on this page", count(page.signals.len() as u64)),
        &[
            "id",
            "when",
            "channel",
            "kind",
            "customer",
            "segment",
            "product",
            "team",
            "topic",
            "sentiment",
            "text",
        ],
    );
    for v in &page.signals {
        t.rows.push(vec![
            Cell::text(v.id.clone()),
            Cell::text(when(v.at)),
            Cell::text(v.channel.map_or("", |c| c.as_str())),
            Cell::text(v.kind.map_or("", |k| k.as_str())),
            match &v.customer_id {
                Some(id) => Cell::link(
                    v.customer
                        .clone()
                        .map_or_else(|| id.clone(), |n| format!("{n} ({id})")),
                    format!("/customers/{}", crate::filters::encode(id)),
                ),
                None => Cell::text(""),
            },
            Cell::text(v.segment.clone().unwrap_or_default()),
            Cell::text(
                v.product
                    .clone()
                    .or(v.product_id.clone())
                    .unwrap_or_default(),
            ),
            Cell::text(v.team.clone().unwrap_or_default()),
            Cell::text(v.topic.clone().map_or_else(String::new, |t| {
                if v.topic_predicted {
                    format!("{t} (predicted)")
                } else {
                    t
                }
            })),
            Cell::num(v.sentiment.map_or_else(String::new, |x| format!("{x:+.2}"))),
            Cell::text(clip(v.text.as_deref().unwrap_or(""), 280)),
        ]);
    }
    s.tables.push(t);
    if page.signals.is_empty() {
        s.intro.push("No signal matches these filters.".into());
    }
    if let Some(next) = &page.next_cursor {
        let nq = PageQuery {
            cursor: Some(next.clone()),
            ..pq.clone()
        };
        s.links.push(("Next page".into(), nq.url("/signals")));
    }
    let first = PageQuery {
        cursor: None,
        ..pq.clone()
    };
    if pq.cursor.is_some() {
        s.links.push(("First page".into(), first.url("/signals")));
    }
    s.links.push((
        format!(
            "Download these signals as CSV (up to {})",
            count(CSV_MAX as u64)
        ),
        first.url("/signals.csv"),
    ));
    s.notes.extend(page.notes);
    c.sections.push(s);
    c
}

fn csv_field(s: &str) -> String {
    // A leading = + - @ would be a formula in a spreadsheet: quoted and prefixed with '.
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The signals of the URL's filters as CSV, all of them, or a refusal when more than [`CSV_MAX`]
/// match.
pub fn csv(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Result<String, PageError> {
    csv_at_most(store, scope, pq, CSV_MAX)
}

/// [`csv`] with its cap given.
pub fn csv_at_most(
    store: &dyn TeamStore,
    scope: &Scope,
    pq: &PageQuery,
    max: usize,
) -> Result<String, PageError> {
    let mut out = String::from(
        "id,at,channel,kind,customer_id,customer,segment,product_id,product,agent_id,agent,team,case_id,topic,topic_predicted,sentiment,text\n",
    );
    let mut cursor = None;
    let mut rows = 0;
    loop {
        let page = q(hearken_query::signals(
            store,
            scope,
            &request(pq, hearken_query::signals::MAX_PAGE, cursor),
        ))?;
        for v in &page.signals {
            let f = |o: &Option<String>| csv_field(o.as_deref().unwrap_or(""));
            out.push_str(
                &[
                    csv_field(&v.id),
                    crate::html::when(v.at),
                    v.channel.map_or("", |c| c.as_str()).to_string(),
                    v.kind.map_or("", |k| k.as_str()).to_string(),
                    f(&v.customer_id),
                    f(&v.customer),
                    f(&v.segment),
                    f(&v.product_id),
                    f(&v.product),
                    f(&v.agent_id),
                    f(&v.agent),
                    f(&v.team),
                    f(&v.case_id),
                    f(&v.topic),
                    v.topic_predicted.to_string(),
                    v.sentiment.map_or_else(String::new, |x| x.to_string()),
                    f(&v.text),
                ]
                .join(","),
            );
            out.push('\n');
            rows += 1;
        }
        if rows > max {
            return Err(PageError::new(
                413,
                "too_many_rows",
                format!(
                    "more than {} signals match these filters: a download holds at most {}",
                    count(max as u64),
                    count(max as u64)
                ),
            )
            .hint(
                "narrow the filters, or export every row with `hearken export signals` or \
                 GET /api/v1/export/signals?format=csv (it streams, with no cap)",
            ));
        }
        match page.next_cursor {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-0.5"), "-0.5");
    }
}
