//! The overview: NPS, CSAT, CES and net sentiment with intervals, this period against the one
//! before with significance, the weekly trend, top movers among topics, spikes, and signals per
//! channel. Every figure is a query-layer answer (`scores`, `trends`, `pareto`).

use chrono::{Duration, NaiveDate};
use hearken_query::{
    By, Metric, ParetoRequest, Scope, ScoresRequest, ScoresResponse, TrendsRequest,
};
use hearken_store::TeamStore;

use super::parts::{self, Period, change_stat, date, q};
use crate::filters::PageQuery;
use crate::html::{count, one, signed};
use crate::svg;
use crate::view::{Cell, Chart, Content, PageError, Section, Table};

/// Weekly scores of `metric` (`scores --by week`).
fn weekly(
    store: &dyn TeamStore,
    scope: &Scope,
    pq: &PageQuery,
    metric: Metric,
) -> Result<Vec<hearken_query::scores::GroupScore>, PageError> {
    let req = ScoresRequest {
        metric,
        by: Some(By::Week),
        ..ScoresRequest::default()
    }
    .with_filters(pq.filters());
    match q(hearken_query::scores(store, scope, &req))? {
        ScoresResponse::Groups(g) => Ok(g.groups),
        _ => Err(PageError::new(
            500,
            "internal",
            "scores did not answer groups",
        )),
    }
}

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Overview");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "the overview's scores cannot be filtered by topic (survey responses have no topic)",
        )
        .hint("remove the topic filter, or open Topics or Signals, which take it");
        return Content::error("Overview", &e);
    }
    let sentiment_weeks = weekly(store, scope, pq, Metric::Sentiment);
    let last_week = sentiment_weeks
        .as_ref()
        .ok()
        .and_then(|g| g.iter().rev().find(|g| g.estimate.n() > 0))
        .and_then(|g| date(&g.group));
    let period = parts::period(pq, last_week);
    c.sections.push(headline(store, scope, pq, &period));
    c.sections.push(trend(store, scope, pq, sentiment_weeks));
    if let Ok(Some(p)) = &period {
        c.sections.push(movers(store, scope, pq, p));
    }
    c.sections.push(spikes(store, scope, pq));
    c.sections.push(channels(store, scope, pq));
    c
}

fn headline(
    store: &dyn TeamStore,
    scope: &Scope,
    pq: &PageQuery,
    period: &Result<Option<Period>, PageError>,
) -> Section {
    let title = "This period against the one before";
    let p = match period {
        Ok(Some(p)) => *p,
        Ok(None) => {
            let mut s = Section::new("scores", title);
            s.intro
                .push("No signals in this selection: there is no period to show.".into());
            return s;
        }
        Err(e) => return Section::failed("scores", title, e),
    };
    let mut s = Section::new("scores", format!("{title}: {}", p.label()));
    s.intro.push(format!(
        "Each score over {} against {} ({} days each). The verdict is the change's two-sided test at the interval's level: \"same\" unless the change is significant.",
        p.label(),
        p.before().label(),
        (p.to - p.from).num_days()
    ));
    if pq.from.is_none() {
        s.intro.push("With no dates in the filters, the period is the four weeks before the last week with data (which may still be running).".into());
    }
    for metric in [Metric::Nps, Metric::Csat, Metric::Ces, Metric::Sentiment] {
        match parts::change(store, scope, pq, metric, &p) {
            Ok(ch) => {
                let href = (metric == Metric::Sentiment).then(|| p.on(pq).signals_link(&[]));
                s.stats.push(change_stat(metric, &ch, href));
            }
            Err(e) => s.notes.push(format!("{}: {}", metric.label(), e.message)),
        }
    }
    s.notes.push("Net sentiment links to its signals. NPS, CSAT and CES are survey responses: they are listed per customer (Customers); a list of responses by filter is not built yet.".into());
    s
}

fn trend(
    store: &dyn TeamStore,
    scope: &Scope,
    pq: &PageQuery,
    sentiment: Result<Vec<hearken_query::scores::GroupScore>, PageError>,
) -> Section {
    let title = "Trend by week";
    let sentiment = match sentiment {
        Ok(s) => s,
        Err(e) => return Section::failed("trend", title, &e),
    };
    let nps = weekly(store, scope, pq, Metric::Nps).unwrap_or_default();
    let mut weeks: Vec<String> = sentiment
        .iter()
        .map(|g| g.group.clone())
        .chain(nps.iter().map(|g| g.group.clone()))
        .collect();
    weeks.sort();
    weeks.dedup();
    let find =
        |v: &[hearken_query::scores::GroupScore], w: &str| v.iter().find(|g| g.group == w).cloned();
    let line = |name: &str, v: &[hearken_query::scores::GroupScore]| svg::Line {
        name: name.into(),
        values: weeks
            .iter()
            .map(|w| find(v, w).and_then(|g| g.estimate.value()))
            .collect(),
        band: weeks
            .iter()
            .map(|w| {
                find(v, w).and_then(|g| match g.estimate.interval() {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                })
            })
            .collect(),
    };
    let mut s = Section::new("trend", title);
    let mut t = Table::new(
        "NPS and net sentiment by week (90% intervals)",
        &[
            "week",
            "NPS",
            "interval",
            "responses",
            "net sentiment",
            "interval",
            "signals",
        ],
    );
    for w in &weeks {
        let n = find(&nps, w);
        let m = find(&sentiment, w);
        let iv = |g: &Option<hearken_query::scores::GroupScore>| {
            g.as_ref().map_or("".into(), |g| {
                let (a, b) = g.estimate.interval();
                format!("{} to {}", one(a), one(b))
            })
        };
        let week_link = date(w).map(|d| {
            pq.signals_link(&[
                ("from", &d.format("%Y-%m-%d").to_string()),
                (
                    "to",
                    &(d + Duration::days(7)).format("%Y-%m-%d").to_string(),
                ),
            ])
        });
        t.rows.push(vec![
            Cell::text(w.clone()),
            Cell::num(signed(n.as_ref().and_then(|g| g.estimate.value()))),
            Cell::num(iv(&n)),
            Cell::num(n.as_ref().map_or("0".into(), |g| count(g.estimate.n()))),
            Cell::num(signed(m.as_ref().and_then(|g| g.estimate.value()))),
            Cell::num(iv(&m)),
            match (m.as_ref(), week_link) {
                (Some(g), Some(h)) => Cell::num_link(count(g.estimate.n()), h),
                (Some(g), None) => Cell::num(count(g.estimate.n())),
                _ => Cell::num("0"),
            },
        ]);
    }
    let lines = [line("NPS", &nps), line("net sentiment", &sentiment)];
    let desc = format!(
        "Weekly NPS and net sentiment from {} to {}, each with its 90% interval as a shaded band; the table beside the chart has every value.",
        weeks.first().map_or("", String::as_str),
        weeks.last().map_or("", String::as_str)
    );
    s.charts.push(Chart {
        svg: svg::line_chart(
            "trend-chart",
            "NPS and net sentiment by week",
            &desc,
            &weeks,
            &lines,
        ),
        table: t,
    });
    s
}

/// Topics whose signal count changed most between the period and the one before (`pareto
/// --by topic` over each period; the difference is of the two counts shown).
fn movers(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery, p: &Period) -> Section {
    let title = "Top movers: topics";
    let counts = |per: &Period| {
        q(hearken_query::pareto(
            store,
            scope,
            &ParetoRequest {
                by: By::Topic,
                top: hearken_query::pareto::MAX_TOP,
                ..ParetoRequest::default()
            }
            .with_filters(per.on(pq).filters()),
        ))
    };
    let before = p.before();
    let (now, then) = match (counts(p), counts(&before)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Section::failed("movers", title, &e),
    };
    let mut rows: Vec<(String, u64, u64)> = now
        .top
        .iter()
        .map(|t| {
            let b = then
                .top
                .iter()
                .find(|x| x.entity == t.entity)
                .map_or(0, |x| x.contacts);
            (t.entity.clone(), t.contacts, b)
        })
        .collect();
    for t in &then.top {
        if !rows.iter().any(|r| r.0 == t.entity) {
            rows.push((t.entity.clone(), 0, t.contacts));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.1 as i64 - r.2 as i64).unsigned_abs()));
    rows.truncate(10);
    let mut s = Section::new("movers", title);
    s.intro.push(format!(
        "Signals per topic over {} against {}; the ten largest changes.",
        p.label(),
        before.label()
    ));
    let mut t = Table::new(
        "Topics with the largest change in signals",
        &["topic", "this period", "the period before", "change"],
    );
    for (topic, a, b) in rows {
        t.rows.push(vec![
            Cell::link(topic.clone(), p.on(pq).signals_link(&[("topic", &topic)])),
            Cell::num_link(count(a), p.on(pq).signals_link(&[("topic", &topic)])),
            Cell::num_link(count(b), before.on(pq).signals_link(&[("topic", &topic)])),
            Cell::num(format!("{:+}", a as i64 - b as i64)),
        ]);
    }
    if t.rows.is_empty() {
        s.intro
            .push("No signal of either period has a topic.".into());
    } else {
        s.tables.push(t);
    }
    s.notes.extend(now.notes);
    s
}

fn spikes(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Section {
    let title = "Spikes";
    let tr = match q(hearken_query::trends(
        store,
        scope,
        &TrendsRequest::default().with_filters(pq.filters()),
    )) {
        Ok(t) => t,
        Err(e) => return Section::failed("spikes", title, &e),
    };
    let mut s = Section::new("spikes", title);
    if tr.spikes.is_empty() {
        s.intro.push(
            "No topic's weekly volume rose above its expected range in this selection.".into(),
        );
    } else {
        s.intro.push("Weeks in which a topic's signals rose above the range expected from its recent weeks (99.9% level).".into());
    }
    let mut t = Table::new(
        "Spikes: topic weeks above their expected range",
        &["topic", "week", "signals", "expected", "upper end of range"],
    );
    for sp in tr.spikes.iter().rev().take(20) {
        let to = NaiveDate::parse_from_str(&sp.period, "%Y-%m-%d")
            .map(|d| (d + Duration::days(7)).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let link = pq.signals_link(&[("topic", &sp.topic), ("from", &sp.period), ("to", &to)]);
        t.rows.push(vec![
            Cell::link(sp.topic.clone(), link.clone()),
            Cell::text(sp.period.clone()),
            Cell::num_link(count(u64::from(sp.count)), link),
            Cell::num(format!("{:.1}", sp.expected)),
            Cell::num(format!("{:.1}", sp.high)),
        ]);
    }
    if !t.rows.is_empty() {
        s.tables.push(t);
    }
    s.notes.extend(tr.notes);
    s
}

fn channels(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Section {
    let title = "Signals by channel";
    let p = match q(hearken_query::pareto(
        store,
        scope,
        &ParetoRequest {
            by: By::Channel,
            top: hearken_query::pareto::MAX_TOP,
            ..ParetoRequest::default()
        }
        .with_filters(pq.filters()),
    )) {
        Ok(p) => p,
        Err(e) => return Section::failed("channels", title, &e),
    };
    let mut s = Section::new("channels", title);
    s.stats.push(crate::view::Stat {
        label: "signals".into(),
        value: count(p.contacts + p.unattributed),
        href: Some(pq.signals_link(&[])),
        detail: "in this selection".into(),
        badge: None,
    });
    let mut t = Table::new("Signals per channel", &["channel", "signals", "share"]);
    let bars: Vec<(String, f64)> = p
        .top
        .iter()
        .map(|e| (e.entity.clone(), e.contacts as f64))
        .collect();
    for e in &p.top {
        t.rows.push(vec![
            Cell::link(e.entity.clone(), pq.signals_link(&[("channel", &e.entity)])),
            Cell::num_link(
                count(e.contacts),
                pq.signals_link(&[("channel", &e.entity)]),
            ),
            Cell::num(format!("{:.1}%", e.share * 100.0)),
        ]);
    }
    s.charts.push(Chart {
        svg: svg::bar_chart("channel-chart", "Signals per channel", "Horizontal bars, one per channel, longest first; the table beside it has the counts and shares.", &bars, ""),
        table: t,
    });
    s.notes.extend(p.notes);
    s
}
