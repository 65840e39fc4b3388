//! Drivers: how much each survey aspect explains overall satisfaction (Shapley share of R²,
//! relative weights, correlation), with the internal KPIs of each response's case beside them
//! (`hearken_query::drivers`).

use hearken_query::{DriversRequest, Scope};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::{count, pct};
use crate::svg;
use crate::view::{Cell, Chart, Content, PageError, Section, Stat, Table};

fn f3(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.3}"))
}

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Drivers of satisfaction");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(
            400,
            "unsupported_filter",
            "survey responses have no topic: the drivers cannot be filtered by topic",
        )
        .hint("remove the topic filter");
        return Content::error("Drivers", &e);
    }
    let title = "Importance of each aspect";
    let d = match q(hearken_query::drivers(
        store,
        scope,
        &DriversRequest::default().with_filters(pq.filters()),
    )) {
        Ok(d) => d,
        Err(e) => {
            c.sections.push(Section::failed("drivers", title, &e));
            return c;
        }
    };
    let mut s = Section::new("drivers", title);
    s.intro.push(format!(
        "What explains {} across {} complete survey responses: each aspect's Shapley share of the explained variance (R² {}), its relative weight and its correlation.",
        d.target.label(),
        count(d.drivers.n),
        f3(d.drivers.r2)
    ));
    if let Some(sv) = &d.drivers.service {
        s.stats.push(Stat {
            label: format!("share of the explained variance due to {}", sv.aspect),
            value: pct(Some(sv.of_explained)),
            href: None,
            detail: format!("{} of all variance", pct(Some(sv.of_variance))),
            badge: None,
        });
    }
    let mut drivers = d.drivers.drivers.clone();
    drivers.sort_by(|a, b| {
        b.shapley_share
            .unwrap_or(0.0)
            .total_cmp(&a.shapley_share.unwrap_or(0.0))
    });
    let bars: Vec<(String, f64)> = drivers
        .iter()
        .map(|x| (x.aspect.clone(), x.shapley_share.unwrap_or(0.0) * 100.0))
        .collect();
    let mut t = Table::new(
        "Aspects by importance",
        &[
            "aspect",
            "Shapley share",
            "relative weight share",
            "correlation",
            "OLS coefficient",
        ],
    );
    for x in &drivers {
        t.rows.push(vec![
            Cell::text(x.aspect.clone()),
            Cell::num(pct(x.shapley_share)),
            Cell::num(pct(x.relative_weight_share)),
            Cell::num(f3(x.correlation)),
            Cell::num(f3(x.ols.as_ref().map(|o| o.coef))),
        ]);
    }
    s.charts.push(Chart {
        svg: svg::bar_chart("drivers-chart", "Importance of each aspect (Shapley share, %)", "Horizontal bars, one per survey aspect, most important first; the table beside it has the Shapley and relative-weight shares and correlations.", &bars, "%"),
        table: t,
    });
    s.notes.push("Performance per aspect (its mean rating) is not in the query layer's drivers answer yet, so importance is shown without it.".into());
    s.notes.extend(d.drivers.quality.warnings.iter().cloned());
    s.notes.extend(d.notes.iter().cloned());
    c.sections.push(s);

    let mut k = Section::new("kpis", "Internal KPIs beside satisfaction");
    if d.kpis.is_empty() {
        k.intro.push("No survey response in this selection is linked to a case with events, so there are no internal KPIs to set beside satisfaction.".into());
    } else {
        k.intro.push(format!(
            "How each case KPI moves with {} (Pearson correlation with its interval).",
            d.target.label()
        ));
        let mut t = Table::new(
            "Internal KPIs and satisfaction",
            &["KPI", "responses", "correlation", "interval"],
        );
        for kp in &d.kpis {
            t.rows.push(vec![
                Cell::text(kp.kpi.clone()),
                Cell::num(count(kp.n)),
                Cell::num(f3(kp.correlation)),
                Cell::num(format!("{} to {}", f3(kp.low), f3(kp.high))),
            ]);
        }
        k.tables.push(t);
    }
    c.sections.push(k);
    c
}
