//! What a page shows, as plain values the templates render (templates escape every text; only
//! the SVG of [`crate::svg`], which escapes its own text, is inserted as it is).
//!
//! Every dashboard page is a list of [`Section`]s: figures ([`Stat`], each a link to the rows
//! behind it), charts each with its data table, tables, notes; and messages (errors with their
//! hint, notes). One template (`templates/page.html`) renders them all, so that every page has
//! the same structure for a keyboard and a screen reader.

use askama::Template;
use hearken_query::QueryError;
use hearken_store::Role;

use crate::backend::{Principal, Refusal};
use crate::filters::PageQuery;

/// A link in the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The pages, in navigation order: (path, label, least role).
pub const PAGES: [(&str, &str, Role); 12] = [
    ("/", "Overview", Role::Viewer),
    ("/topics", "Topics", Role::Viewer),
    ("/themes", "Themes", Role::Viewer),
    ("/pareto", "Pareto", Role::Viewer),
    ("/drivers", "Drivers", Role::Viewer),
    ("/flow", "Case flow", Role::Viewer),
    ("/customers", "Customers", Role::Viewer),
    ("/signals", "Signals", Role::Viewer),
    ("/actions", "Actions & suggestions", Role::Viewer),
    ("/quarantine", "Quarantine & imports", Role::Viewer),
    ("/report", "Weekly report", Role::Viewer),
    ("/admin/tokens", "Tokens", Role::Admin),
];

/// The frame around every page: navigation, who is signed in, the filters form.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub nav: Vec<NavItem>,
    pub user: Option<String>,
    pub filters: PageQuery,
    /// The form's action (the page's path) and whether the page takes the row filters.
    pub action: String,
    pub show_filters: bool,
    /// Hidden fields that keep a page's own options when a filter changes.
    pub keep: Vec<(&'static str, String)>,
    /// The channel choices, the selected one marked.
    pub channels: Vec<(&'static str, bool)>,
}

impl Chrome {
    pub fn new(path: &str, principal: Option<&Principal>, q: &PageQuery) -> Chrome {
        let role = principal.map(|p| p.role);
        let nav = PAGES
            .iter()
            .filter(|(_, _, least)| role.is_some_and(|r| r >= *least))
            .map(|(href, label, _)| NavItem {
                label,
                href: if *href == "/report" || *href == "/admin/tokens" {
                    (*href).to_string()
                } else {
                    q.filters_only().url(href)
                },
                current: *href == path,
            })
            .collect();
        let user = principal.map(|p| {
            let scope = if p.scope.is_unrestricted() {
                "all data".to_string()
            } else {
                let mut parts = Vec::new();
                if !p.scope.segments.is_empty() {
                    parts.push(format!("segments {}", p.scope.segments.join(", ")));
                }
                if !p.scope.teams.is_empty() {
                    parts.push(format!("teams {}", p.scope.teams.join(", ")));
                }
                parts.join("; ")
            };
            format!("{} ({}, {scope})", p.name, p.role)
        });
        let mut keep = Vec::new();
        for (name, v) in [
            ("kind", &q.kind),
            ("customer", &q.customer),
            ("search", &q.search),
            ("by", &q.by),
        ] {
            if let Some(v) = v {
                keep.push((name, v.clone()));
            }
        }
        Chrome {
            nav,
            user,
            filters: q.clone(),
            action: path.to_string(),
            show_filters: true,
            keep,
            channels: hearken_model::Channel::ALL
                .iter()
                .map(|c| (c.as_str(), q.channel.as_deref() == Some(c.as_str())))
                .collect(),
        }
    }

    fn value(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }

    pub fn f_from(&self) -> &str {
        Self::value(&self.filters.from)
    }
    pub fn f_to(&self) -> &str {
        Self::value(&self.filters.to)
    }
    pub fn f_segment(&self) -> &str {
        Self::value(&self.filters.segment)
    }
    pub fn f_product(&self) -> &str {
        Self::value(&self.filters.product)
    }
    pub fn f_channel(&self) -> &str {
        Self::value(&self.filters.channel)
    }
    pub fn f_team(&self) -> &str {
        Self::value(&self.filters.team)
    }
    pub fn f_agent(&self) -> &str {
        Self::value(&self.filters.agent)
    }
    pub fn f_topic(&self) -> &str {
        Self::value(&self.filters.topic)
    }
}

/// A message on a page: an error (with its code and hint) or a note.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub error: bool,
    pub title: String,
    pub text: String,
    pub hint: Option<String>,
}

impl Message {
    pub fn note(text: impl Into<String>) -> Message {
        Message {
            error: false,
            title: String::new(),
            text: text.into(),
            hint: None,
        }
    }
}

/// An error a page shows instead of (part of) its figures, with the HTTP status of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

impl PageError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> PageError {
        PageError {
            status,
            code: code.to_string(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> PageError {
        self.hint = Some(hint.into());
        self
    }

    pub fn message(&self) -> Message {
        Message {
            error: true,
            title: format!("{} ({})", title_of(self.status), self.code),
            // The query layer names request fields in backticks; on a page they are URL filters.
            text: self.message.replace('`', "'"),
            hint: self.hint.clone().map(|h| h.replace('`', "'")),
        }
    }
}

fn title_of(status: u16) -> &'static str {
    match status {
        400 => "This view cannot be shown as asked",
        401 => "Not signed in",
        403 => "Not allowed",
        404 => "Not found",
        422 => "The data cannot answer this",
        503 => "Unavailable",
        _ => "Something failed",
    }
}

impl From<QueryError> for PageError {
    fn from(e: QueryError) -> PageError {
        let internal = e.status() >= 500;
        if internal {
            tracing::warn!(error = %e, "a page's query failed");
        }
        PageError {
            status: e.status(),
            code: e.code().to_string(),
            // Internal causes are logged, not shown.
            message: if internal {
                "the store failed while computing this; the cause is in the server's log".into()
            } else {
                e.to_string()
            },
            hint: e.hint(),
        }
    }
}

impl From<Refusal> for PageError {
    fn from(r: Refusal) -> PageError {
        PageError::new(r.status, &r.code, r.message)
    }
}

/// A table cell: text, a link, and whether it is a number (right-aligned).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: None,
            num: false,
        }
    }
    pub fn num(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: None,
            num: true,
        }
    }
    pub fn link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: Some(href.into()),
            num: false,
        }
    }
    pub fn num_link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: Some(href.into()),
            num: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(caption: impl Into<String>, head: &[&str]) -> Table {
        Table {
            caption: caption.into(),
            head: head.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// A headline figure: its value, what it is, a detail line (interval, n), a link to the rows
/// behind it, and a verdict badge (better, worse, same).
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
    pub detail: String,
    pub badge: Option<(String, &'static str)>,
}

/// A chart (SVG drawn by [`crate::svg`]) and its data table.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub svg: String,
    pub table: Table,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: Vec<String>,
    pub stats: Vec<Stat>,
    pub charts: Vec<Chart>,
    pub tables: Vec<Table>,
    pub notes: Vec<String>,
    /// Links below the section (next page, export).
    pub links: Vec<(String, String)>,
    pub error: Option<Message>,
    /// The HTTP status of `error`.
    pub error_status: u16,
}

impl Section {
    pub fn new(id: &str, title: impl Into<String>) -> Section {
        Section {
            id: id.to_string(),
            title: title.into(),
            ..Section::default()
        }
    }

    /// A section that could not be computed: its error instead of its figures.
    pub fn failed(id: &str, title: impl Into<String>, e: &PageError) -> Section {
        Section {
            error: Some(e.message()),
            error_status: e.status,
            ..Section::new(id, title)
        }
    }
}

/// A page's content, before the frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Content {
    pub title: String,
    pub lead: Option<String>,
    pub messages: Vec<Message>,
    pub sections: Vec<Section>,
    /// The HTTP status (200 unless the page failed as a whole).
    pub status: u16,
}

impl Content {
    pub fn new(title: impl Into<String>) -> Content {
        Content {
            title: title.into(),
            status: 200,
            ..Content::default()
        }
    }

    /// The page of one error.
    pub fn error(title: impl Into<String>, e: &PageError) -> Content {
        Content {
            messages: vec![e.message()],
            status: e.status,
            ..Content::new(title)
        }
    }
}

#[derive(Template)]
#[template(path = "page.html")]
pub struct PageTemplate<'a> {
    pub chrome: &'a Chrome,
    pub content: &'a Content,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInTemplate<'a> {
    pub message: Option<&'a str>,
    pub next: &'a str,
}
