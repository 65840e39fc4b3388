//! Quarantine and imports: what was rejected and why (file, line, field, value, reason, the raw
//! row), and every import with its counts (`hearken_query::quarantine`, `imports`). Store-wide
//! records: a token with a data scope is refused (`out_of_scope`), as by the API.

use hearken_query::{ImportsRequest, QuarantineRequest, Scope};
use hearken_store::TeamStore;

use super::parts::q;
use crate::filters::PageQuery;
use crate::html::{clip, count, when};
use crate::view::{Cell, Content, Section, Table};

pub fn build(store: &dyn TeamStore, scope: &Scope, pq: &PageQuery) -> Content {
    let mut c = Content::new("Quarantine and imports");
    let all = pq.all.is_some();
    let title = if all {
        "Quarantined rows, closed ones too"
    } else {
        "Open quarantined rows"
    };
    match q(hearken_query::quarantine(
        store,
        scope,
        &QuarantineRequest {
            import: None,
            all,
            limit: 500,
        },
    )) {
        Ok(list) => {
            let mut s = Section::new("quarantine", title);
            if list.entries.is_empty() {
                s.intro.push("No row is quarantined: every row read was stored, a duplicate, or skipped by a mapping rule.".into());
            } else {
                let mut t = Table::new(
                    "Rows that could not be imported, oldest first",
                    &[
                        "import", "file", "line", "field", "value", "reason", "state", "raw row",
                    ],
                );
                for e in &list.entries {
                    t.rows.push(vec![
                        Cell::num(e.import_id.to_string()),
                        Cell::text(e.file.clone()),
                        Cell::num(e.line.to_string()),
                        Cell::text(e.field.clone().unwrap_or_default()),
                        Cell::text(clip(e.value.as_deref().unwrap_or(""), 80)),
                        Cell::text(e.reason.clone()),
                        Cell::text(e.state.clone()),
                        Cell::text(clip(e.raw.as_deref().unwrap_or(""), 160)),
                    ]);
                }
                s.tables.push(t);
                if list.entries.len() == 500 {
                    s.notes.push(
                        "The first 500 are listed; `hearken quarantine --limit 0` lists all."
                            .into(),
                    );
                }
            }
            if !all {
                s.links
                    .push(("Show closed entries too".into(), "/quarantine?all=1".into()));
            }
            s.notes.extend(list.notes);
            c.sections.push(s);
        }
        Err(e) => c.sections.push(Section::failed("quarantine", title, &e)),
    }
    let title = "Imports, newest first";
    match q(hearken_query::imports(
        store,
        scope,
        &ImportsRequest {
            limit: 100,
            cursor: None,
        },
    )) {
        Ok(page) => {
            let mut s = Section::new("imports", title);
            let mut t = Table::new(
                "Imports: read = stored + duplicates + quarantined + skipped",
                &[
                    "import",
                    "when",
                    "kind",
                    "file",
                    "state",
                    "read",
                    "stored",
                    "duplicates",
                    "quarantined",
                    "skipped",
                    "still open",
                ],
            );
            for i in &page.imports {
                t.rows.push(vec![
                    Cell::num(i.id.to_string()),
                    Cell::text(when(i.started_at)),
                    Cell::text(i.kind.clone()),
                    Cell::text(i.file.clone()),
                    Cell::text(i.state.clone()),
                    Cell::num(count(i.read.max(0) as u64)),
                    Cell::num(count(i.stored.max(0) as u64)),
                    Cell::num(count(i.duplicates.max(0) as u64)),
                    Cell::num(count(i.quarantined.max(0) as u64)),
                    Cell::num(count(i.skipped.max(0) as u64)),
                    Cell::num(count(i.open_quarantine.max(0) as u64)),
                ]);
            }
            s.tables.push(t);
            s.notes.extend(page.notes);
            c.sections.push(s);
        }
        Err(e) => c.sections.push(Section::failed("imports", title, &e)),
    }
    c
}
