//! Customers: the customers with the most contacts (`pareto --by customer`), one customer's
//! profile and timeline (`customer`, `customer_timeline`), and one case (`case`).

use hearken_query::customer::EntryKind;
use hearken_query::{By, ParetoRequest, Scope, TimelineRequest};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::{PageQuery, encode};
use crate::html::{clip, count, day, hours, signed, when};
use crate::view::{Cell, Content, PageError, Section, Stat, Table};

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    if let Some(id) = pq.customer.clone() {
        return build_one(
            store,
            scope,
            &PageQuery {
                customer: None,
                ..pq.clone()
            },
            &id,
        );
    }
    let mut c = Content::new("Customers");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "the customer list counts contacts of every topic",
        )
        .hint("remove the topic filter");
        return Content::error("Customers", &e);
    }
    let title = "The customers with the most contacts";
    let p = match q(hearken_query::pareto(
        store,
        scope,
        &ParetoRequest {
            by: By::Customer,
            top: 50,
            ..ParetoRequest::default()
        }
        .with_filters(pq.filters()),
    )) {
        Ok(p) => p,
        Err(e) => {
            c.sections.push(Section::failed("customers", title, &e));
            return c;
        }
    };
    let mut s = Section::new("customers", title);
    s.intro.push("Open a customer for its profile and timeline, or type its id in the filters' customer field of the Signals page.".into());
    let mut t = Table::new(
        "Customers by contacts",
        &["customer", "contacts", "share", "signals"],
    );
    for e in &p.top {
        t.rows.push(vec![
            Cell::link(
                e.name
                    .as_ref()
                    .map_or_else(|| e.entity.clone(), |n| format!("{n} ({})", e.entity)),
                format!("/customers/{}", encode(&e.entity)),
            ),
            Cell::num_link(
                count(e.contacts),
                pq.signals_link(&[("customer", &e.entity)]),
            ),
            Cell::num(format!("{:.1}%", e.share * 100.0)),
            Cell::link("list", pq.signals_link(&[("customer", &e.entity)])),
        ]);
    }
    s.tables.push(t);
    s.notes.extend(p.notes);
    c.sections.push(s);
    c
}

/// One customer: profile, then its timeline (a page at a time, oldest first).
pub fn build_one(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery, id: &str) -> Content {
    let cu = match q(hearken_query::customer(store, scope, id)) {
        Ok(c) => c,
        Err(e) => return Content::error("Customer", &e),
    };
    let name = cu.name.clone().unwrap_or_else(|| cu.id.clone());
    let mut c = Content::new(format!("Customer {name}"));
    c.lead = Some(format!(
        "{} · segment {} · persona {} · customer since {}{}{}",
        cu.id,
        cu.segment.as_deref().unwrap_or("unknown"),
        cu.persona.as_deref().unwrap_or("unknown"),
        cu.since.map_or("unknown".into(), day),
        if cu.white_glove {
            " · white glove"
        } else {
            ""
        },
        if cu.churned { " · churned" } else { "" },
    ));
    let mut s = Section::new("profile", "Profile");
    let all = PageQuery {
        customer: Some(cu.id.clone()),
        ..PageQuery::default()
    };
    s.stats = vec![
        Stat {
            label: "signals".into(),
            value: count(cu.signals),
            href: Some(all.signals_link(&[])),
            detail: format!(
                "first contact {}, last {}",
                cu.first_contact.map_or("n/a".into(), day),
                cu.last_contact.map_or("n/a".into(), day)
            ),
            badge: None,
        },
        Stat {
            label: "survey responses".into(),
            value: count(cu.surveys),
            href: Some(format!("/customers/{}#timeline", encode(&cu.id))),
            detail: "in the timeline below".into(),
            badge: None,
        },
        Stat {
            label: "cases".into(),
            value: count(cu.cases),
            href: Some(format!("/customers/{}#timeline", encode(&cu.id))),
            detail: "their events are in the timeline".into(),
            badge: None,
        },
        Stat {
            label: "NPS".into(),
            value: signed(cu.nps.nps),
            href: None,
            detail: format!("{} answers", count(cu.nps.n)),
            badge: None,
        },
        Stat {
            label: "net sentiment".into(),
            value: signed(cu.net_sentiment.net_sentiment),
            href: Some(all.signals_link(&[])),
            detail: format!("{} scored signals", count(cu.net_sentiment.n)),
            badge: None,
        },
        Stat {
            label: "value per year".into(),
            value: cu
                .value_per_year
                .map_or("n/a".into(), |v| format!("{v:.0}")),
            href: None,
            detail: String::new(),
            badge: None,
        },
    ];
    s.notes.extend(cu.notes.iter().cloned());
    c.sections.push(s);

    let title = "Timeline";
    let page = match q(hearken_query::customer_timeline(
        store,
        scope,
        &cu.id,
        &TimelineRequest {
            limit: 200,
            cursor: pq.cursor.clone(),
        },
    )) {
        Ok(p) => p,
        Err(e) => {
            c.sections.push(Section::failed("timeline", title, &e));
            return c;
        }
    };
    let mut t = Table::new(
        "Signals, survey responses and case events, oldest first",
        &[
            "when",
            "what",
            "channel",
            "case",
            "agent",
            "topic",
            "text",
            "sentiment",
            "scores",
        ],
    );
    for it in &page.items {
        let what = match it.kind {
            EntryKind::Signal => format!(
                "signal{}",
                it.signal_kind
                    .map_or(String::new(), |k| format!(" ({})", k.as_str()))
            ),
            EntryKind::Survey => "survey response".into(),
            EntryKind::CaseEvent => format!(
                "case event{}",
                it.stage
                    .as_ref()
                    .map_or(String::new(), |s| format!(" ({s})"))
            ),
        };
        let mut scores = Vec::new();
        for (k, v) in [("NPS", it.nps), ("CSAT", it.csat), ("CES", it.ces)] {
            if let Some(v) = v {
                scores.push(format!("{k} {v}"));
            }
        }
        t.rows.push(vec![
            Cell::text(when(it.at)),
            Cell::text(what),
            Cell::text(it.channel.map_or("", |c| c.as_str())),
            match &it.case_id {
                Some(id) => Cell::link(id.clone(), format!("/cases/{}", encode(id))),
                None => Cell::text(""),
            },
            Cell::text(it.agent.clone().or(it.agent_id.clone()).unwrap_or_default()),
            Cell::text(it.topic.clone().unwrap_or_default()),
            Cell::text(clip(it.text.as_deref().unwrap_or(""), 240)),
            Cell::num(it.sentiment.map_or(String::new(), |x| format!("{x:+.2}"))),
            Cell::text(scores.join(", ")),
        ]);
    }
    let mut s = Section::new("timeline", title);
    s.tables.push(t);
    if let Some(next) = &page.next_cursor {
        s.links.push((
            "Next page of the timeline".into(),
            format!(
                "/customers/{}?cursor={}#timeline",
                encode(&cu.id),
                encode(next)
            ),
        ));
    }
    s.notes.extend(page.notes.iter().cloned());
    c.sections.push(s);
    c
}

/// One case with its events.
pub fn build_case(store: &dyn TeamStore, scope: &Scope, _pq: &PageQuery, id: &str) -> Content {
    let cs = match q(hearken_query::case(store, scope, id)) {
        Ok(c) => c,
        Err(e) => return Content::error("Case", &e),
    };
    let mut c = Content::new(format!("Case {}", cs.id));
    let mut s = Section::new("case", "The case");
    s.stats = vec![
        Stat {
            label: "duration".into(),
            value: hours(cs.duration_hours),
            href: None,
            detail: format!(
                "{} to {}",
                cs.started_at.map_or("n/a".into(), when),
                cs.ended_at.map_or("n/a".into(), when)
            ),
            badge: None,
        },
        Stat {
            label: "transfers".into(),
            value: count(cs.transfers),
            href: None,
            detail: format!(
                "first owner {}, last {}",
                cs.first_owner
                    .clone()
                    .or(cs.first_owner_id.clone())
                    .unwrap_or_default(),
                cs.last_owner
                    .clone()
                    .or(cs.last_owner_id.clone())
                    .unwrap_or_default()
            ),
            badge: None,
        },
        Stat {
            label: "loops".into(),
            value: count(cs.loops),
            href: None,
            detail: format!("{} escalations", count(cs.escalations)),
            badge: None,
        },
        Stat {
            label: "resolved by first owner".into(),
            value: cs
                .resolved_by_first_owner
                .map_or("n/a".into(), |b| if b { "yes".into() } else { "no".into() }),
            href: None,
            detail: match cs.open {
                Some(true) => "open".into(),
                Some(false) => "closed".into(),
                None => "no closing rule matched".into(),
            },
            badge: None,
        },
    ];
    if let Some(cid) = &cs.customer_id {
        s.links.push((
            format!(
                "Customer {}",
                cs.customer.clone().unwrap_or_else(|| cid.clone())
            ),
            format!("/customers/{}", encode(cid)),
        ));
    }
    s.intro.push(format!(
        "Product {} · channel {} · team {}",
        cs.product
            .clone()
            .or(cs.product_id.clone())
            .unwrap_or_else(|| "unknown".into()),
        cs.channel.map_or("unknown", |c| c.as_str()),
        cs.team.clone().unwrap_or_else(|| "unknown".into())
    ));
    let mut t = Table::new(
        "Events in order",
        &["when", "stage", "agent", "team", "text", "sentiment"],
    );
    for ev in &cs.events {
        t.rows.push(vec![
            Cell::text(when(ev.at)),
            Cell::text(ev.stage.clone()),
            Cell::text(ev.agent.clone().or(ev.agent_id.clone()).unwrap_or_default()),
            Cell::text(ev.team.clone().unwrap_or_default()),
            Cell::text(clip(ev.text.as_deref().unwrap_or(""), 300)),
            Cell::num(ev.sentiment.map_or(String::new(), |x| format!("{x:+.2}"))),
        ]);
    }
    s.tables.push(t);
    if !cs.signals.is_empty() {
        s.notes
            .push(format!("Signals of this case: {}", cs.signals.join(", ")));
    }
    s.notes.extend(cs.notes.iter().cloned());
    c.sections.push(s);
    c
}
