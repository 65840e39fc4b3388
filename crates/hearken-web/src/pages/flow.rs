//! Case flow: stage times, loops, the handover matrix, escalations, and first-owner resolution
//! by team and agent (`hearken_query::flow`, hearken-flow's figures).

use hearken_query::{FlowRequest, Scope};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::{PageQuery, encode};
use crate::html::{count, hours, pct};
use crate::svg;
use crate::view::{Cell, Chart, Content, PageError, Section, Stat, Table};

fn pct100(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.1}%"))
}

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Case flow");
    if pq.refuse(&["topic"]).is_some() {
        let e = PageError::new(400, "unsupported_filter", "cases are not filtered by topic")
            .hint("remove the topic filter; filter cases by team, agent, segment, product, channel or dates");
        return Content::error("Case flow", &e);
    }
    let title = "Health of the case flow";
    let req = FlowRequest {
        customer: pq.customer.clone(),
        ..FlowRequest::default()
    }
    .with_filters(pq.filters());
    let f = match q(hearken_query::flow(store, scope, &req)) {
        Ok(f) => f.report,
        Err(e) => {
            c.sections.push(Section::failed("health", title, &e));
            return c;
        }
    };
    let mut s = Section::new("health", title);
    if let Some(sel) = &f.selection
        && let Some(w) = &sel.window
    {
        s.intro.push(w.meaning.clone());
    }
    s.stats = vec![
        Stat {
            label: "cases".into(),
            value: count(f.cases),
            href: None,
            detail: format!("{} events", count(f.events)),
            badge: None,
        },
        Stat {
            label: "median case duration".into(),
            value: hours(f.median_case_duration_hours),
            href: None,
            detail: format!("90th percentile {}", hours(f.p90_case_duration_hours)),
            badge: None,
        },
        Stat {
            label: "resolved by the first owner".into(),
            value: pct100(f.first_owner_resolution_pct),
            href: None,
            detail: format!(
                "{} of {} cases with an owner",
                count(f.first_owner_resolved),
                count(f.first_owner_cases)
            ),
            badge: None,
        },
        Stat {
            label: "escalated".into(),
            value: pct100(f.escalation.escalation_rate_pct),
            href: None,
            detail: format!(
                "{} cases; {} escalations",
                count(f.escalation.escalated_cases),
                count(f.escalation.escalations_total)
            ),
            badge: None,
        },
        Stat {
            label: "cases with loops".into(),
            value: count(f.cases_with_loops),
            href: None,
            detail: format!("{} re-entries of a stage", count(f.loops_total)),
            badge: None,
        },
        Stat {
            label: "transfers per case".into(),
            value: format!("{:.2}", f.transfers_per_case),
            href: None,
            detail: format!("{} cases transferred", count(f.cases_with_transfers)),
            badge: None,
        },
        Stat {
            label: "open cases".into(),
            value: f.open_cases.map_or("n/a".into(), count),
            href: None,
            detail: "last activity not a closing one".into(),
            badge: None,
        },
    ];
    s.notes.push("Cases have no list page yet: open escalated cases below link to their case page; agents' and teams' figures are of the cases they owned first.".into());
    s.notes.extend(f.notes.iter().cloned());
    c.sections.push(s);

    let mut st = Section::new("stages", "Time in each stage");
    let mut stages = f.stages.clone();
    stages.sort_by(|a, b| b.total_hours.total_cmp(&a.total_hours));
    let bars: Vec<(String, f64)> = stages
        .iter()
        .map(|x| (x.stage.clone(), x.median_hours.unwrap_or(0.0)))
        .collect();
    let mut t = Table::new(
        "Stages: time to the next event and loops",
        &[
            "stage",
            "cases",
            "events",
            "median",
            "90th percentile",
            "total hours",
            "loops",
            "cases reworked",
        ],
    );
    for x in &stages {
        t.rows.push(vec![
            Cell::text(x.stage.clone()),
            Cell::num(count(x.cases)),
            Cell::num(count(x.events)),
            Cell::num(hours(x.median_hours)),
            Cell::num(hours(x.p90_hours)),
            Cell::num(format!("{:.0}", x.total_hours)),
            Cell::num(count(x.loops)),
            Cell::num(count(x.rework_cases)),
        ]);
    }
    st.charts.push(Chart {
        svg: svg::bar_chart("stage-chart", "Median hours in each stage", "Horizontal bars: the median time from an event of each stage to the case's next event, stages with the most total time first; the table beside it has every figure.", &bars, " h"),
        table: t,
    });
    c.sections.push(st);

    let mut fo = Section::new("owners", "First-owner resolution by team and agent");
    let mut tt = Table::new(
        "Teams: cases resolved by their first owner",
        &["team", "cases", "resolved by first owner", "%"],
    );
    for x in &f.teams {
        tt.rows.push(vec![
            Cell::text(x.team.clone()),
            Cell::num(count(x.first_owner_cases)),
            Cell::num(count(x.first_owner_resolved)),
            Cell::num(pct100(x.first_owner_resolution_pct)),
        ]);
    }
    fo.tables.push(tt);
    let mut agents = f.agents.clone();
    agents.sort_by_key(|a| std::cmp::Reverse(a.first_owner_cases));
    let mut ta = Table::new(
        "Agents: cases they owned first, transfers",
        &[
            "agent",
            "team",
            "cases owned first",
            "resolved",
            "%",
            "transfers out",
            "transfers in",
            "signals",
        ],
    );
    for a in agents.iter().take(50) {
        ta.rows.push(vec![
            Cell::text(
                a.name
                    .as_ref()
                    .map_or_else(|| a.agent.clone(), |n| format!("{n} ({})", a.agent)),
            ),
            Cell::text(a.team.clone().unwrap_or_default()),
            Cell::num(count(a.first_owner_cases)),
            Cell::num(count(a.first_owner_resolved)),
            Cell::num(pct100(a.first_owner_resolution_pct)),
            Cell::num(count(a.transfers_out)),
            Cell::num(count(a.transfers_in)),
            Cell::link("signals", pq.signals_link(&[("agent", &a.agent)])),
        ]);
    }
    fo.tables.push(ta);
    if agents.len() > 50 {
        fo.notes.push(format!(
            "The 50 agents with the most cases of {} are listed.",
            agents.len()
        ));
    }
    c.sections.push(fo);

    let mut h = Section::new("handovers", "Handover matrix");
    let mut pairs = f.handovers.clone();
    pairs.sort_by_key(|x| std::cmp::Reverse(x.transfers));
    // The agents of the 40 largest handovers, as a matrix.
    let mut names: Vec<(String, String)> = Vec::new();
    for x in pairs.iter().take(40) {
        for (id, name) in [(&x.from, &x.from_name), (&x.to, &x.to_name)] {
            if !names.iter().any(|n| &n.0 == id) {
                names.push((id.clone(), name.clone().unwrap_or_else(|| id.clone())));
            }
        }
    }
    names.truncate(12);
    let mut m = Table::new(
        "Transfers from the agent of the row to the agent of the column (the busiest agents)",
        &["from \\ to"],
    );
    m.head.extend(names.iter().map(|n| n.1.clone()));
    for (fid, fname) in &names {
        let mut row = vec![Cell::text(fname.clone())];
        for (tid, _) in &names {
            let n = f
                .handovers
                .iter()
                .find(|x| &x.from == fid && &x.to == tid)
                .map_or(0, |x| x.transfers);
            row.push(Cell::num(if n == 0 { String::new() } else { count(n) }));
        }
        m.rows.push(row);
    }
    h.intro.push(format!(
        "{} transfers between {} pairs of agents; {} cases were transferred ({} per case).",
        count(f.transfers_total),
        count(f.handover_pairs),
        count(f.cases_with_transfers),
        format_args!("{:.2}", f.transfers_per_case)
    ));
    if !names.is_empty() {
        h.tables.push(m);
    }
    c.sections.push(h);

    let mut e = Section::new("escalations", "Escalations");
    if !f.escalation.recognised {
        e.intro
            .push("No activity of these cases is an escalation under the rule in force.".into());
    } else {
        e.intro.push(format!(
            "{} of {} cases escalated ({}); {} escalated cases are still open.",
            count(f.escalation.escalated_cases),
            count(f.cases),
            pct100(f.escalation.escalation_rate_pct),
            f.escalation
                .open_escalated_cases
                .map_or("n/a".into(), count)
        ));
        let mut t = Table::new("Open escalated cases", &["case"]);
        for id in f.escalation.open_escalated_case_ids.iter().take(30) {
            t.rows.push(vec![Cell::link(
                id.clone(),
                format!("/cases/{}", encode(id)),
            )]);
        }
        if !t.rows.is_empty() {
            e.tables.push(t);
        }
    }
    let _ = pct;
    c.sections.push(e);
    c
}
