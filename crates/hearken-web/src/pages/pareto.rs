//! Pareto: how concentrated contacts are on a few customers, products, topics and channels, each
//! with its Lorenz curve and the largest entities (`hearken_query::pareto`).

use hearken_query::{By, ParetoRequest, Scope};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::{count, pct};
use crate::svg;
use crate::view::{Cell, Chart, Content, PageError, Section, Stat, Table};

const DIMENSIONS: [(By, &str, &str); 4] = [
    (By::Customer, "customer", "Customers"),
    (By::Product, "product", "Products"),
    (By::Topic, "topic", "Topics"),
    (By::Channel, "channel", "Channels"),
];

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Pareto: where contacts concentrate");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "Pareto counts the contacts of every topic: it cannot be filtered to one topic",
        )
        .hint("remove the topic filter");
        return Content::error("Pareto", &e);
    }
    let only = pq.by.as_deref();
    if let Some(b) = only
        && !DIMENSIONS.iter().any(|d| d.1 == b)
    {
        let e = PageError::new(
            400,
            "unsupported_group",
            format!("'by' {b} is not one of customer, product, topic, channel"),
        );
        return Content::error("Pareto", &e);
    }
    for (by, key, title) in DIMENSIONS {
        if only.is_some_and(|o| o != key) {
            continue;
        }
        c.sections.push(section(store, scope, pq, by, key, title));
    }
    c
}

fn section(
    store: &dyn TeamStore,
    scope: &Scope,
    pq: &PageQuery,
    by: By,
    key: &str,
    title: &str,
) -> Section {
    let p = match q(hearken_query::pareto(
        store,
        scope,
        &ParetoRequest {
            by,
            top: 15,
            ..ParetoRequest::default()
        }
        .with_filters(pq.filters()),
    )) {
        Ok(p) => p,
        Err(e) => return Section::failed(key, title, &e),
    };
    let mut s = Section::new(key, title);
    s.stats.push(Stat {
        label: format!(
            "share of contacts from the top 20% of {}",
            title.to_lowercase()
        ),
        value: pct(p.top20_share),
        href: None,
        detail: format!(
            "{} of {} {}",
            count(p.top20_entities),
            count(p.entities),
            title.to_lowercase()
        ),
        badge: None,
    });
    s.stats.push(Stat {
        label: "cover 80% of contacts".into(),
        value: p.k80.map_or("n/a".into(), count),
        href: None,
        detail: format!("{} of the {}", pct(p.k80_fraction), title.to_lowercase()),
        badge: None,
    });
    s.stats.push(Stat {
        label: "contacts".into(),
        value: count(p.contacts),
        href: Some(pq.signals_link(&[])),
        detail: format!(
            "Gini {}",
            p.gini.map_or("n/a".into(), |g| format!("{g:.3}"))
        ),
        badge: None,
    });
    let mut t = Table::new(
        format!("The largest {} by contacts", title.to_lowercase()),
        &[key, "contacts", "share", "cumulative"],
    );
    for e in &p.top {
        let label = e
            .name
            .as_ref()
            .map_or_else(|| e.entity.clone(), |n| format!("{n} ({})", e.entity));
        let link = pq.signals_link(&[(key, &e.entity)]);
        let first = if by == By::Customer {
            Cell::link(
                label,
                format!("/customers/{}", crate::filters::encode(&e.entity)),
            )
        } else {
            Cell::link(label, link.clone())
        };
        t.rows.push(vec![
            first,
            Cell::num_link(count(e.contacts), link),
            Cell::num(format!("{:.1}%", e.share * 100.0)),
            Cell::num(format!("{:.1}%", e.cumulative_share * 100.0)),
        ]);
    }
    let desc = format!(
        "Lorenz curve of contacts over {}: the further it bows below the diagonal, the more the contacts concentrate on a few; Gini {}.",
        title.to_lowercase(),
        p.gini.map_or("n/a".into(), |g| format!("{g:.3}"))
    );
    s.charts.push(Chart {
        svg: svg::lorenz(
            &format!("lorenz-{key}"),
            &format!("Lorenz curve: {}", title.to_lowercase()),
            &desc,
            &p.lorenz,
        ),
        table: t,
    });
    if p.unattributed > 0 {
        s.notes.push(format!(
            "{} contacts have no {key} and are not counted here.",
            count(p.unattributed)
        ));
    }
    s.notes.extend(p.quality.warnings.iter().cloned());
    s.notes.extend(p.notes);
    s
}
