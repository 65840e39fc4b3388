//! Themes: clusters of signal texts nobody labelled, with key phrases, size, examples and a
//! weekly count.

use hearken_model::Timestamp;
use hearken_store::{FrameSource, SignalQuery};
use hearken_topics::{ThemeConfig, WeekCount, discover_themes};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial, thousands};
use crate::request::request;
use crate::scope::Scope;
use crate::signals::signal_query;

request! {
    /// Themes in the newest signal texts of the selection.
    pub struct ThemesRequest {
        /// How many themes (1 to 100).
        #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 100))]
        pub k: usize = 20,
        /// Use the newest this many signal texts (1 to 100,000).
        #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 100_000))]
        pub sample: usize = 20_000,
    }
}

pub const MAX_K: usize = 100;
pub const MAX_SAMPLE: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ThemesResponse {
    /// Texts clustered (the newest `sample` of the selection).
    pub texts: u64,
    /// Largest first.
    pub themes: Vec<ThemeView>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ThemeView {
    /// Content words and phrases most characteristic of the theme, most characteristic first.
    pub key_phrases: Vec<String>,
    /// Texts in the theme.
    pub size: usize,
    /// The most typical texts, most typical first.
    pub examples: Vec<String>,
    /// Texts per week (`week_start`: the Monday, Unix seconds), weeks without texts as 0.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub weekly: Vec<WeekCount>,
}

pub fn themes(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ThemesRequest,
) -> Result<ThemesResponse> {
    crate::cache::answer(
        store,
        scope,
        "themes",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| themes(s, sc, r)),
    )
}

/// [`themes`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &ThemesRequest) -> Result<ThemesResponse> {
    if !(1..=MAX_K).contains(&req.k) {
        return Err(QueryError::OutOfRange {
            field: "k",
            value: req.k.to_string(),
            allowed: format!("ask for 1 to {MAX_K} themes"),
        });
    }
    if !(1..=MAX_SAMPLE).contains(&req.sample) {
        return Err(QueryError::OutOfRange {
            field: "sample",
            value: req.sample.to_string(),
            allowed: format!("use 1 to {MAX_SAMPLE} texts"),
        });
    }
    let q = signal_query(store, scope, &req.filters())?;
    let rows = newest_texts(store, &q, req.sample)?;
    let partial = partial(store, scope)?;
    if rows.is_empty() {
        return Ok(ThemesResponse {
            texts: 0,
            themes: Vec::new(),
            notes: vec!["no signal texts in this selection".into()],
            partial,
        });
    }
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    let times: Vec<Timestamp> = rows
        .iter()
        .map(|(at, _)| Timestamp::from_unix(*at))
        .collect();
    let found = discover_themes(
        &texts,
        Some(&times),
        &ThemeConfig {
            k: req.k,
            ..ThemeConfig::default()
        },
    )?;
    let mut notes = Vec::new();
    let clustered: usize = found.iter().map(|t| t.size).sum();
    if clustered < texts.len() {
        notes.push(format!(
            "{} texts share no word with the others and belong to no theme",
            thousands((texts.len() - clustered) as u64)
        ));
    }
    if rows.len() == req.sample {
        notes.push(format!(
            "the newest {} texts of the selection were clustered; raise `sample` for more",
            thousands(req.sample as u64)
        ));
    }
    let themes = found
        .into_iter()
        .map(|t| ThemeView {
            key_phrases: t.key_phrases,
            size: t.size,
            examples: t
                .examples
                .iter()
                .filter_map(|&i| texts.get(i).map(|s| s.to_string()))
                .collect(),
            weekly: t.weekly,
        })
        .collect();
    Ok(ThemesResponse {
        texts: texts.len() as u64,
        themes,
        notes,
        partial,
    })
}

/// The newest `limit` texts of the selection, newest first. A selection that is only a window
/// reads them through the snapshot (`Store::newest_signal_texts`: two columns and about `limit`
/// rows, instead of sorting the signals table by time in SQL); the same rows either way.
fn newest_texts(
    store: &dyn FrameSource,
    q: &SignalQuery,
    limit: usize,
) -> Result<Vec<(i64, String)>> {
    let only_window = SignalQuery {
        window: q.window,
        with_text: q.with_text,
        ..SignalQuery::default()
    } == *q;
    if only_window
        && let Some(store) = store.embedded()
        && (store.snapshot_is_fresh()? || crate::select::ensure_fresh(store).is_ok())
    {
        return Ok(store.newest_signal_texts(&q.window, limit)?);
    }
    Ok(store.signal_texts_where(q, limit)?)
}
