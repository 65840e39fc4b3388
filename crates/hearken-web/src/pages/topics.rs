//! Topics (volume, net sentiment, weekly trend, spikes) and themes (clusters of texts nobody
//! labelled, with their weekly counts: a theme whose counts start in the last weeks is new).

use hearken_query::{
    By, Metric, Scope, ScoresRequest, ScoresResponse, ThemesRequest, TrendsRequest,
};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::{clip, count, one, signed};
use crate::svg;
use crate::view::{Cell, Chart, Content, PageError, Section, Table};

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Topics");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "this page compares topics: it cannot be filtered to one topic",
        )
        .hint("remove the topic filter; the signals of one topic are a click away in the table");
        return Content::error("Topics", &e);
    }
    let title = "Volume and sentiment per topic";
    let tr = match q(hearken_query::trends(
        store,
        scope,
        &TrendsRequest::default().with_filters(pq.filters()),
    )) {
        Ok(t) => t,
        Err(e) => {
            c.sections.push(Section::failed("topics", title, &e));
            return c;
        }
    };
    let sentiment = match q(hearken_query::scores(
        store,
        scope,
        &ScoresRequest {
            metric: Metric::Sentiment,
            by: Some(By::Topic),
            ..ScoresRequest::default()
        }
        .with_filters(pq.filters()),
    )) {
        Ok(ScoresResponse::Groups(g)) => g.groups,
        _ => Vec::new(),
    };
    let mut s = Section::new("topics", title);
    s.intro.push(format!(
        "{} signals; weekly volume per topic with its spikes. Net sentiment is % positive minus % negative signals, with its 90% interval.",
        count(tr.signals)
    ));
    let mut topics = tr.topics.clone();
    topics.sort_by_key(|t| std::cmp::Reverse(t.total));
    let bars: Vec<(String, f64)> = topics
        .iter()
        .take(25)
        .map(|t| (t.topic.clone(), t.total as f64))
        .collect();
    let mut t = Table::new(
        "Signals and net sentiment per topic",
        &[
            "topic",
            "signals",
            "net sentiment",
            "interval",
            "spike weeks",
            "last weeks (oldest first)",
        ],
    );
    for tp in &topics {
        let sent = sentiment.iter().find(|g| g.group == tp.topic);
        let link = pq.signals_link(&[("topic", &tp.topic)]);
        let recent: Vec<String> = tp
            .points
            .iter()
            .rev()
            .take(6)
            .rev()
            .map(|p| p.count.to_string())
            .collect();
        t.rows.push(vec![
            Cell::link(tp.topic.clone(), link.clone()),
            Cell::num_link(count(tp.total), link),
            Cell::num(signed(sent.and_then(|g| g.estimate.value()))),
            Cell::num(sent.map_or(String::new(), |g| {
                let (a, b) = g.estimate.interval();
                format!("{} to {}", one(a), one(b))
            })),
            Cell::num(tp.spikes.to_string()),
            Cell::text(recent.join(" · ")),
        ]);
    }
    s.charts.push(Chart {
        svg: svg::bar_chart(
            "topics-chart",
            "Signals per topic",
            "Horizontal bars: the 25 topics with the most signals, most first; the table beside it lists every topic with its net sentiment and recent weekly counts.",
            &bars,
            "",
        ),
        table: t,
    });
    // The weekly series of the five largest topics.
    let top: Vec<_> = topics
        .iter()
        .filter(|t| t.topic != "(none)")
        .take(4)
        .collect();
    if !top.is_empty() {
        let lines: Vec<svg::Line> = top
            .iter()
            .map(|t| svg::Line {
                name: clip(&t.topic, 18),
                values: t.points.iter().map(|p| Some(f64::from(p.count))).collect(),
                band: t.points.iter().map(|p| p.low.zip(p.high)).collect(),
            })
            .collect();
        let mut wt = Table::new("Weekly signals of the largest topics", &["week"]);
        wt.head.extend(top.iter().map(|t| t.topic.clone()));
        for (i, period) in tr.periods.iter().enumerate() {
            let mut row = vec![Cell::text(period.clone())];
            for tp in &top {
                row.push(Cell::num(
                    tp.points
                        .get(i)
                        .map_or(String::new(), |p| count(u64::from(p.count))),
                ));
            }
            wt.rows.push(row);
        }
        s.charts.push(Chart {
            svg: svg::line_chart(
                "topic-trend",
                "Weekly signals of the largest topics",
                "One line per topic, with the expected range as a band where there is enough history; the table beside it has the weekly counts.",
                &tr.periods,
                &lines,
            ),
            table: wt,
        });
    }
    s.notes.extend(tr.notes);
    c.sections.push(s);
    c.sections.push(Section {
        intro: vec!["Themes (clusters of texts nobody labelled, new ones among them) are on their own page, because clustering takes a few seconds.".into()],
        links: vec![("Open the themes".into(), pq.filters_only().url("/themes"))],
        ..Section::new("themes-link", "Themes")
    });
    c
}

pub fn build_themes(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Themes");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "themes are found in texts of every topic: this page cannot be filtered to one topic",
        )
        .hint("remove the topic filter");
        return Content::error("Themes", &e);
    }
    let title = "Themes in the newest texts";
    let th = match q(hearken_query::themes(
        store,
        scope,
        &ThemesRequest::default().with_filters(pq.filters()),
    )) {
        Ok(t) => t,
        Err(e) => {
            c.sections.push(Section::failed("themes", title, &e));
            return c;
        }
    };
    let mut s = Section::new("themes", title);
    s.intro.push(format!(
        "{} texts clustered into {} themes (TF-IDF, LSA and k-means; a theme is named by its key phrases). A theme is marked new when it was first seen in the last four weeks of the texts.",
        count(th.texts),
        th.themes.len()
    ));
    // The last week any theme was seen in; a theme first seen in the four weeks up to it is new.
    let latest = th
        .themes
        .iter()
        .flat_map(|t| t.weekly.iter().map(|w| w.week_start.unix()))
        .max();
    let mut t = Table::new(
        "Themes, largest first",
        &["key phrases", "texts", "weeks seen", "new", "example"],
    );
    for theme in &th.themes {
        let weeks = theme.weekly.len();
        let first = theme.weekly.iter().map(|w| w.week_start.unix()).min();
        let new = matches!((first, latest), (Some(f), Some(l)) if l - f < 4 * 7 * 86_400);
        let phrase = theme.key_phrases.join(", ");
        t.rows.push(vec![
            Cell::link(
                phrase.clone(),
                pq.signals_link(&[(
                    "search",
                    theme.key_phrases.first().map_or("", String::as_str),
                )]),
            ),
            Cell::num(count(theme.size as u64)),
            Cell::num(weeks.to_string()),
            Cell::text(if new { "new" } else { "" }),
            Cell::text(clip(theme.examples.first().map_or("", String::as_str), 160)),
        ]);
    }
    s.tables.push(t);
    s.notes.push("A theme's count is of the sample clustered; its link searches the signals for its first key phrase, which lists more texts than the theme holds.".into());
    s.notes.extend(th.notes);
    c.sections.push(s);
    c
}
