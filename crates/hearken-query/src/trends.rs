//! Trends: volume per topic per period with its expected range, and the spikes above it.

use hearken_engine::trends::{
    PeriodCounts, SeriesPoint, SpikeOptions, period_counts, trends as engine_trends,
};
use hearken_engine::{Dict, NONE, Quality};
use hearken_store::{FrameSource, SignalColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial, thousands};
use crate::request::{Period, request};
use crate::scope::Scope;
use crate::select;

request! {
    /// Volume per topic per period, and the spikes.
    pub struct TrendsRequest {
        /// Period of the volume series.
        pub period: Period = Period::Week,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TrendsResponse {
    pub period: Period,
    /// The periods' names (`2024-03-04` for the week starting that Monday, `2024-03` a month).
    pub periods: Vec<String>,
    /// One series per topic with signals, and the signals without a topic as `(none)` (never
    /// tested for spikes: they are not a topic).
    pub topics: Vec<TopicSeries>,
    /// Every period above its topic's expected range, largest excess first.
    pub spikes: Vec<Spike>,
    /// Signals in the selection.
    pub signals: u64,
    /// Of them, without a topic.
    pub without_topic: u64,
    /// Signals outside the periods counted.
    pub outside: u64,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub quality: Quality,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TopicSeries {
    pub topic: String,
    pub total: u64,
    /// Periods flagged as spikes.
    pub spikes: usize,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub points: Vec<SeriesPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Spike {
    pub topic: String,
    pub period: String,
    /// Start of the period, Unix seconds.
    pub start: i64,
    pub count: u32,
    pub expected: f64,
    /// Upper bound of the expected range.
    pub high: f64,
    /// `count - expected`.
    pub excess: f64,
}

pub fn trends(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &TrendsRequest,
) -> Result<TrendsResponse> {
    crate::cache::answer(
        store,
        scope,
        "trends",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| trends(s, sc, r)),
    )
}

/// [`trends`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &TrendsRequest) -> Result<TrendsResponse> {
    let partials = trends_partials(store, scope, req)?;
    trends_from_partials(store, scope, req, partials)
}

/// The partial aggregates of a trends request: signals per topic code and period over the run
/// of periods from the first to the last signal's (empty without signals), with the topics'
/// dictionary, the signals counted and those without a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendsPartials {
    pub topics: Dict,
    pub counts: PeriodCounts,
    pub signals: u64,
    pub without_topic: u64,
}

/// [`TrendsPartials`] from the store's snapshot.
pub fn trends_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &TrendsRequest,
) -> Result<TrendsPartials> {
    let period = req.period.engine();
    let select::Signals { frame: f, .. } = select::signals(
        store,
        scope,
        &req.filters(),
        None,
        SignalColumns {
            at: true,
            topic: true,
            ..SignalColumns::default()
        },
        false,
    )?;
    let signals = f.len() as u64;
    let without_topic = without_topic(&f.topic, f.topics.len());
    let counts = match (f.at.iter().min(), f.at.iter().max()) {
        (Some(&lo), Some(&hi)) => period_counts(
            &f.at,
            &f.topic,
            f.topics.len(),
            period,
            period.index(lo),
            period.index(hi),
            0..f.len(),
        )?,
        _ => PeriodCounts::default(),
    };
    Ok(TrendsPartials {
        topics: f.topics,
        counts,
        signals,
        without_topic,
    })
}

/// The answer to a trends request built from its partial aggregates, wherever they were
/// computed (the embedded path and the Spark engine both come here).
pub fn trends_from_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &TrendsRequest,
    p: TrendsPartials,
) -> Result<TrendsResponse> {
    let period = req.period.engine();
    let partial = partial(store, scope)?;
    let TrendsPartials {
        topics: dict,
        counts,
        signals,
        without_topic,
    } = p;
    if signals == 0 {
        return Ok(TrendsResponse {
            period: req.period,
            periods: Vec::new(),
            topics: Vec::new(),
            spikes: Vec::new(),
            signals: 0,
            without_topic: 0,
            outside: 0,
            quality: Quality {
                no_data: true,
                warnings: vec!["no data: no signals in this selection".into()],
                ..Quality::default()
            },
            notes: Vec::new(),
            partial,
        });
    }
    if without_topic == signals {
        return Err(QueryError::NoTopics {
            signals,
            analytic: "trends",
        });
    }
    // Many topics x many periods are tested at once: a 99.9% bound keeps false alarms to about one
    // per thousand topic-periods.
    let opts = SpikeOptions {
        level: 0.999,
        ..SpikeOptions::for_period(period)
    };
    let t = engine_trends(&counts, &dict, &opts);
    let topics = t
        .topics
        .into_iter()
        .map(|mut s| {
            // Signals without a topic are not a topic that can spike.
            if s.code.is_none() {
                s.points.iter_mut().for_each(|p| p.spike = false);
                s.spikes = 0;
            }
            TopicSeries {
                topic: s.topic,
                total: s.total,
                spikes: s.spikes,
                points: s.points,
            }
        })
        .collect();
    let spikes = t
        .spikes
        .into_iter()
        .filter(|s| s.code.is_some())
        .map(|s| Spike {
            topic: s.topic,
            period: s.period,
            start: s.start,
            count: s.count,
            expected: s.expected,
            high: s.high,
            excess: s.excess,
        })
        .collect();
    Ok(TrendsResponse {
        period: req.period,
        periods: t.periods,
        topics,
        spikes,
        signals,
        without_topic,
        outside: t.outside,
        quality: t.quality,
        notes: without_topic_note(without_topic, signals),
        partial,
    })
}

/// Rows whose topic code is missing or outside the dictionary.
pub(crate) fn without_topic(topic: &[u32], n_topics: usize) -> u64 {
    topic
        .iter()
        .filter(|&&t| t == NONE || t as usize >= n_topics)
        .count() as u64
}

/// The note saying how many signals have no topic, when some do.
pub(crate) fn without_topic_note(without: u64, signals: u64) -> Vec<String> {
    if without == 0 || signals == 0 {
        return Vec::new();
    }
    vec![format!(
        "{} of {} signals ({:.1}%) have no topic and are left out of the topics",
        thousands(without),
        thousands(signals),
        100.0 * without as f64 / signals as f64
    )]
}
