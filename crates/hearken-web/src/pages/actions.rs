//! Actions and suggestions: every improvement action with its status, owner, metric and links,
//! and, once done, its measured effect (`hearken_query::actions`, `action_effect`, as `hearken
//! actions effect` prints it); employees' suggestions with the status they see
//! (`hearken_query::suggestions`). Organisation-wide records: a token with a data scope is
//! refused (`out_of_scope`), as by the API.

use hearken_query::{ActionsRequest, EffectRequest, Scope, SuggestionsRequest};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::clip;
use crate::view::{Cell, Content, Section, Table};

/// Done actions whose effect is measured on the page (newest first); the rest say how to ask.
pub const EFFECTS_MAX: usize = 20;
/// Suggestions listed, newest first.
const SUGGESTIONS_MAX: usize = 200;

fn day(t: &str) -> String {
    t.get(..10).unwrap_or(t).to_string()
}

pub fn build(store: &dyn TeamStore, scope: &Scope, _pq: &PageQuery) -> Content {
    let mut c = Content::new("Actions and suggestions");
    let title = "Improvement actions";
    match q(hearken_query::actions(
        store,
        scope,
        &ActionsRequest::default(),
    )) {
        Ok(list) => {
            let mut s = Section::new("actions", title);
            if list.actions.is_empty() {
                s.intro.push(
                    "No improvement action yet: create one with `hearken actions create --title T \
                     --topic X --metric volume` or POST /api/v1/actions."
                        .into(),
                );
            } else {
                let req = EffectRequest::default();
                s.intro.push(format!(
                    "The effect of a done action compares the {} days before its done date with \
                     the {} days from it, against similar groups where there are some ({:.0}% \
                     intervals).",
                    req.before,
                    req.after,
                    req.level * 100.0
                ));
                let mut t = Table::new(
                    "Improvement actions, newest first",
                    &[
                        "id", "title", "status", "since", "owner", "metric", "about", "effect",
                    ],
                );
                let mut done: Vec<&hearken_query::ActionView> = list
                    .actions
                    .iter()
                    .filter(|a| a.done_at.is_some())
                    .collect();
                done.sort_by(|a, b| b.done_at.cmp(&a.done_at).then(b.id.cmp(&a.id)));
                let measured: Vec<i64> = done.iter().take(EFFECTS_MAX).map(|a| a.id).collect();
                let mut actions: Vec<&hearken_query::ActionView> = list.actions.iter().collect();
                actions.sort_by_key(|a| std::cmp::Reverse(a.id));
                for a in actions {
                    let effect = if a.done_at.is_none() {
                        "-".to_string()
                    } else if a.metric.is_none() {
                        "no metric to measure".to_string()
                    } else if measured.contains(&a.id) {
                        match hearken_query::action_effect(store, scope, a.id, &req) {
                            Ok(e) => crate::report::effect_text(&e),
                            Err(e) => format!("not measured: {e}"),
                        }
                    } else {
                        format!("`hearken actions effect {}`", a.id)
                    };
                    let about: Vec<String> = a
                        .links
                        .iter()
                        .map(|l| format!("{} {}", l.kind, l.value))
                        .collect();
                    t.rows.push(vec![
                        Cell::num(a.id.to_string()),
                        Cell::text(clip(&a.title, 100)),
                        Cell::text(a.status.replace('_', " ")),
                        Cell::text(day(&a.status_at)),
                        Cell::text(a.owner.clone().unwrap_or_default()),
                        Cell::text(a.metric.clone().unwrap_or_default()),
                        Cell::text(clip(&about.join(", "), 120)),
                        Cell::text(effect),
                    ]);
                }
                s.tables.push(t);
                if done.len() > EFFECTS_MAX {
                    s.notes.push(format!(
                        "The effect is measured here for the {EFFECTS_MAX} most recently done \
                         actions; `hearken actions effect ID` measures any."
                    ));
                }
            }
            s.notes.extend(list.notes);
            c.sections.push(s);
        }
        Err(e) => c.sections.push(Section::failed("actions", title, &e)),
    }
    let title = "Employees' suggestions";
    match q(hearken_query::suggestions(
        store,
        scope,
        &SuggestionsRequest {
            limit: SUGGESTIONS_MAX,
            ..SuggestionsRequest::default()
        },
    )) {
        Ok(list) => {
            let mut s = Section::new("suggestions", title);
            if list.suggestions.is_empty() {
                s.intro.push(
                    "No suggestion: signals of kind `suggestion` from employees are listed here."
                        .into(),
                );
            } else {
                let mut t = Table::new(
                    "Suggestions, newest first, with the status the employee sees",
                    &[
                        "signal", "date", "employee", "team", "topic", "status", "text",
                    ],
                );
                for v in &list.suggestions {
                    t.rows.push(vec![
                        Cell::text(v.id.clone()),
                        Cell::text(day(&v.at)),
                        Cell::text(
                            v.employee_name
                                .clone()
                                .or_else(|| v.employee.clone())
                                .unwrap_or_default(),
                        ),
                        Cell::text(v.team.clone().unwrap_or_default()),
                        Cell::text(v.topic.clone().unwrap_or_default()),
                        Cell::text(v.status_text.clone()),
                        Cell::text(clip(v.text.as_deref().unwrap_or(""), 160)),
                    ]);
                }
                s.tables.push(t);
                if list.total > list.suggestions.len() as u64 {
                    s.notes.push(format!(
                        "The newest {} of {} are listed; `hearken suggestions --limit N` lists more.",
                        list.suggestions.len(),
                        list.total
                    ));
                }
            }
            s.notes.extend(list.notes);
            c.sections.push(s);
        }
        Err(e) => c.sections.push(Section::failed("suggestions", title, &e)),
    }
    c
}
