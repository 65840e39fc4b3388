//! The simulation of one chunk of customers: their attributes, contacts, cases, surveys and
//! churn, written straight into per-file CSV buffers, plus the statistics the truth is built from.
//!
//! A chunk depends only on the shared [`World`] and its own random stream `(seed, chunk index)`,
//! so chunks can be generated on any thread in any order and concatenated in chunk order.

use std::collections::BTreeMap;

use hearken_model::{Channel, SignalKind, Source};

use crate::catalog::{Catalog, Class, ESCALATIONS, FRONTLINE, STAGES, TEAMS, Template};
use crate::config::{DAY, GenConfig, Resolved};
use crate::out::{Dates, close_quote, open_quote, push_padded, push_u64};
use crate::rng::{Categorical, Rng};

/// Customers per chunk. Part of the output's definition: changing it changes the bytes.
pub(crate) const CHUNK: u64 = 2048;

const HOUR: i64 = 3600;
const MONTH_SECS: f64 = 30.436_875 * 86_400.0;

/// Kinds in the order of the class tables below.
pub(crate) const KINDS: [SignalKind; 7] = [
    SignalKind::Question,
    SignalKind::Complaint,
    SignalKind::Compliment,
    SignalKind::Suggestion,
    SignalKind::Request,
    SignalKind::SurveyResponse,
    SignalKind::Other,
];
const K_QUESTION: usize = 0;
const K_COMPLAINT: usize = 1;
const K_COMPLIMENT: usize = 2;
const K_SUGGESTION: usize = 3;
const K_REQUEST: usize = 4;
const K_SURVEY: usize = 5;

/// Channels a contact can come in by (survey comes only from surveys).
pub(crate) const CHANNELS: [Channel; 9] = [
    Channel::Phone,
    Channel::Email,
    Channel::Chat,
    Channel::Social,
    Channel::Web,
    Channel::Review,
    Channel::InPerson,
    Channel::Other,
    Channel::Survey,
];
const C_EMAIL: usize = 1;
const C_WEB: usize = 4;
const C_OTHER: usize = 7;
const C_SURVEY: usize = 8;

/// Kind mix per topic class, over KINDS (survey_response never comes from a contact).
const CLASS_KINDS: [[f64; 7]; 5] = [
    [30.0, 45.0, 0.0, 2.0, 18.0, 0.0, 5.0], // problem
    [75.0, 5.0, 2.0, 3.0, 10.0, 0.0, 5.0],  // info
    [20.0, 10.0, 0.0, 0.0, 65.0, 0.0, 5.0], // request
    [0.0, 0.0, 95.0, 5.0, 0.0, 0.0, 0.0],   // praise
    [15.0, 5.0, 0.0, 80.0, 0.0, 0.0, 0.0],  // idea
];

/// Channel mix per kind, over CHANNELS.
const KIND_CHANNELS: [[f64; 9]; 7] = [
    [30.0, 20.0, 25.0, 5.0, 15.0, 0.0, 4.0, 1.0, 0.0], // question
    [35.0, 25.0, 15.0, 10.0, 5.0, 5.0, 4.0, 1.0, 0.0], // complaint
    [15.0, 15.0, 10.0, 15.0, 5.0, 35.0, 5.0, 0.0, 0.0], // compliment
    [5.0, 25.0, 10.0, 15.0, 35.0, 5.0, 5.0, 0.0, 0.0], // suggestion
    [25.0, 25.0, 20.0, 2.0, 25.0, 0.0, 3.0, 0.0, 0.0], // request
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],     // survey_response
    [20.0, 20.0, 20.0, 10.0, 10.0, 5.0, 5.0, 10.0, 0.0], // other
];

/// Contacts by hour of day (UTC, the organisation's local time).
const HOURS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 4.0, 6.0, 6.0, 5.5, 5.0, 5.5, 5.5, 5.0, 4.5, 4.0, 3.5,
    3.0, 2.5, 1.8, 1.0, 0.5,
];

pub(crate) const SEGMENTS: [&str; 3] = ["consumer", "smb", "enterprise"];
const SEGMENT_SHARE: [f64; 3] = [0.80, 0.15, 0.05];
/// Contacts per customer scale with the size of the account.
const SEGMENT_ACTIVITY: [f64; 3] = [1.0, 2.0, 5.0];
const SEGMENT_VALUE: [f64; 3] = [600.0, 6_000.0, 60_000.0];
const PERSONAS: [&str; 5] = [
    "price_seeker",
    "digital_native",
    "busy_parent",
    "senior",
    "tech_enthusiast",
];
const FIRST_NAMES: [&str; 40] = [
    "Anna", "Bram", "Chloe", "Daan", "Emma", "Finn", "Grace", "Hugo", "Ines", "Jonas", "Kim",
    "Lars", "Maya", "Noah", "Olivia", "Pim", "Quinn", "Rosa", "Sam", "Tess", "Umar", "Vera", "Wim",
    "Xena", "Yara", "Zoe", "Amir", "Bo", "Carmen", "Dirk", "Eva", "Farah", "Gijs", "Hana", "Ivan",
    "Julia", "Koen", "Lotte", "Mohamed", "Nina",
];
const LAST_NAMES: [&str; 40] = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Garcia",
    "Martin",
    "Rossi",
    "Nowak",
    "Kowalski",
    "Yilmaz",
    "Ahmed",
    "Khan",
    "Nguyen",
    "Silva",
    "Santos",
    "Okafor",
];
pub(crate) const PRODUCT_CATEGORIES: [(&str, &str); 6] = [
    ("broadband", "Fibre"),
    ("mobile", "Mobile"),
    ("tv", "TV"),
    ("energy", "Energy"),
    ("smart_home", "Smart Home"),
    ("devices", "Router"),
];
const TIERS: [&str; 8] = [
    "Basic", "Plus", "Premium", "Max", "Family", "Business", "Lite", "Pro",
];

/// Churn warnings fall 7..=49 days before churn, then 7..=21 silent days.
pub(crate) const WARNING_DAYS: [u32; 2] = [7, 49];
pub(crate) const SILENT_DAYS: [u32; 2] = [7, 21];
/// Noise on overall before rounding.
pub(crate) const OVERALL_NOISE_SD: f64 = 0.5;
/// Probability mass of contacts that continue an open case rather than raising something new.
const FOLLOW_UP_SHARE: f64 = 0.3;
/// First random stream of the improvement's draws (one stream per chunk from there).
const THIN_STREAM: u64 = 1 << 62;
/// New customers contact this many times more often during their journey (before 45 days after
/// purchase) than afterwards.
const JOURNEY_BOOST: f64 = 3.0;
const NEW_CUSTOMER_SHARE: f64 = 0.2;
/// Relational surveys per customer per active month.
const SURVEY_RATE: f64 = 0.05;
/// Employee suggestions per customer per month.
const EMPLOYEE_RATE: f64 = 0.01;
/// Share of the configured volume that comes from contacts; the rest comes from survey comments,
/// employee suggestions and the spike, less what the improvement removes. Fitted once; the truth
/// reports the realised ratio.
const VOLUME_CALIBRATION: f64 = 0.95;

/// The read-only state shared by every chunk.
#[derive(Debug)]
pub(crate) struct World {
    pub cat: Catalog,
    pub start: i64,
    pub end: i64,
    pub customers: u64,
    pub months: u32,
    pub seed: u64,
    pub id_width: usize,
    rate_per_sec: f64,
    wbar: f64,
    wcap: f64,
    customer_sigma: f64,
    labelled_share: f64,
    monthly_churn: f64,
    /// Share of customers who join during the window (0 for a stationary organisation).
    new_share: f64,
    stage_topics: Vec<Categorical>,
    /// Share of each subtopic within each stage.
    stage_shares: Vec<Vec<f64>>,
    class_kinds: Vec<Categorical>,
    kind_channels: Vec<Categorical>,
    hours: Categorical,
    segments: Categorical,
    products: Categorical,
    pub product_count: u32,
    /// First agent index and count per team.
    pub teams: [(u32, u32); 5],
    pub agents: u32,
    pub aspects: Vec<AspectModel>,
    pub spike: Option<(usize, i64, f64)>,
    pub improvement: Option<(usize, i64, f64)>,
    /// (topic, at, share of would-be negative signals written neutral).
    pub sentiment: Option<(usize, i64, f64)>,
    /// (topic, at, probability a follow-up on an open case of the topic is made).
    pub repeat: Option<(usize, i64, f64)>,
    /// (segment, at, shift of the 0-10 answer).
    pub nps: Option<(usize, i64, f64)>,
    /// (activity, at, factor on the time until the next event).
    pub stage_shift: Option<(&'static str, i64, f64)>,
    /// (at, factor on every topic's volume).
    pub season: Option<(i64, f64)>,
    /// Probability of keeping a contact per topic and day (topic-major), under the volume noise.
    pub noise_keep: Option<Vec<f64>>,
    /// Contacts are planned this many times more often when noise thins them (1 without).
    pub noise_boost: f64,
    pub days: usize,
    pub dates: Dates,
}

#[derive(Debug, Clone)]
pub(crate) struct AspectModel {
    pub name: String,
    pub weight: f64,
    /// Mean offset from the customer's latent satisfaction (price rates lower than service).
    offset: f64,
    word: String,
    /// How much a transfer / escalation / reopen in the rated case lowers this aspect.
    case_sensitivity: f64,
}

impl World {
    /// Fails with (setting, reason) when an effect names a topic the taxonomy does not have.
    pub(crate) fn new(
        cfg: &GenConfig,
        r: &Resolved,
        cat: Catalog,
    ) -> Result<World, (&'static str, String)> {
        let mut stage_topics = Vec::new();
        let mut stage_shares = Vec::new();
        for stage in 0..STAGES.len() {
            let w: Vec<f64> = cat.subtopics.iter().map(|s| s.stages[stage]).collect();
            let total: f64 = w.iter().sum();
            stage_shares.push(w.iter().map(|x| x / total.max(f64::MIN_POSITIVE)).collect());
            stage_topics.push(Categorical::new(&w));
        }
        let topic = |name: &str, field: &'static str| {
            cat.subtopic_index(name).ok_or_else(|| {
                let names: Vec<&str> = cat.subtopics.iter().map(|s| s.name).collect();
                (
                    field,
                    format!("unknown topic '{name}', use one of: {}", names.join(", ")),
                )
            })
        };
        let spike = match (&cfg.spike, r.spike_week) {
            (Some(s), Some(week)) => Some((topic(&s.topic, "spike.topic")?, week, s.multiplier)),
            _ => None,
        };
        let improvement = match (&cfg.improvement, r.improvement_at) {
            (Some(i), Some(at)) => Some((topic(&i.topic, "improvement.topic")?, at, i.factor)),
            _ => None,
        };
        let sentiment = match (&cfg.sentiment_shift, r.sentiment_at) {
            (Some(x), Some(at)) => Some((topic(&x.topic, "sentiment_shift.topic")?, at, x.share)),
            _ => None,
        };
        let repeat = match (&cfg.repeat_shift, r.repeat_at) {
            (Some(x), Some(at)) => Some((topic(&x.topic, "repeat_shift.topic")?, at, x.factor)),
            _ => None,
        };
        let nps = match (&cfg.nps_shift, r.nps_at) {
            (Some(x), Some(at)) => {
                let seg = SEGMENTS
                    .iter()
                    .position(|s| *s == x.segment)
                    .ok_or_else(|| {
                        (
                            "nps_shift.segment",
                            format!(
                                "unknown segment '{}', use one of: {}",
                                x.segment,
                                SEGMENTS.join(", ")
                            ),
                        )
                    })?;
                Some((seg, at, x.shift))
            }
            _ => None,
        };
        let stage_shift = match (&cfg.stage_time_shift, r.stage_at) {
            (Some(x), Some(at)) => {
                let a = ACTIVITIES.iter().find(|a| **a == x.stage).ok_or_else(|| {
                    (
                        "stage_time_shift.stage",
                        format!(
                            "unknown stage '{}', use one of: {}",
                            x.stage,
                            ACTIVITIES.join(", ")
                        ),
                    )
                })?;
                Some((*a, at, x.factor))
            }
            _ => None,
        };
        let season = match (&cfg.season, r.season_at) {
            (Some(x), Some(at)) => Some((at, x.factor)),
            _ => None,
        };
        let days = ((r.end - r.start) / DAY) as usize;
        let (noise_keep, noise_boost) = match &cfg.noise {
            None => (None, 1.0),
            Some(n) => {
                let (keep, boost) = noise_table(cfg.seed, cat.subtopics.len(), days, n);
                (Some(keep), boost)
            }
        };
        // Product weights come from their own stream so they do not depend on the chunking.
        let mut rng = Rng::new(cfg.seed, u64::MAX);
        let pw: Vec<f64> = (0..cfg.products)
            .map(|_| (cfg.product_sigma * rng.normal()).exp())
            .collect();
        let teams = team_sizes(r.agents);
        let segment_mean: f64 = SEGMENT_SHARE
            .iter()
            .zip(SEGMENT_ACTIVITY)
            .map(|(s, a)| s * a)
            .sum();
        let wbar = segment_mean * (cfg.customer_sigma * cfg.customer_sigma / 2.0).exp();
        let aspects = cfg
            .aspects
            .iter()
            .map(|a| {
                let (offset, sens) = match a.name.as_str() {
                    "service" => (0.3, 1.0),
                    "price" => (-0.8, 0.0),
                    "ease" => (0.2, 0.6),
                    _ => (0.0, 0.0),
                };
                let word = cat
                    .phrases
                    .aspect_words
                    .get(a.name.as_str())
                    .map_or_else(|| a.name.replace('_', " "), |w| (*w).to_string());
                AspectModel {
                    name: a.name.clone(),
                    weight: a.weight,
                    offset,
                    word,
                    case_sensitivity: sens,
                }
            })
            .collect();
        // Mean boosted active time of a customer, by simulation from a stream of its own, so the
        // base rate gives the configured volume whatever the window length: short windows hold
        // relatively more onboarding journeys, long ones more churned silence.
        let mut life_rng = Rng::new(cfg.seed, u64::MAX - 1);
        // A stationary organisation: nobody joins or churns during the window.
        let (churn, new_share) = if cfg.stationary {
            (0.0, 0.0)
        } else {
            (cfg.monthly_churn, NEW_CUSTOMER_SHARE)
        };
        let samples = 8192;
        let mean_active = (0..samples)
            .map(|_| {
                let s = draw_satisfaction(&mut life_rng);
                Life::draw(r.start, r.end, churn, new_share, s, &mut life_rng).weighted_active()
            })
            .sum::<f64>()
            / f64::from(samples);
        let target = cfg.signals_per_customer_month * f64::from(cfg.months) * VOLUME_CALIBRATION;
        let digits = cfg.customers.to_string().len();
        Ok(World {
            start: r.start,
            end: r.end,
            customers: cfg.customers,
            months: cfg.months,
            seed: cfg.seed,
            id_width: digits.max(7),
            rate_per_sec: target / mean_active.max(1.0),
            wbar,
            wcap: 100.0 * wbar,
            customer_sigma: cfg.customer_sigma,
            labelled_share: cfg.labelled_topic_share,
            monthly_churn: churn,
            new_share,
            stage_topics,
            stage_shares,
            class_kinds: CLASS_KINDS.iter().map(|w| Categorical::new(w)).collect(),
            kind_channels: KIND_CHANNELS.iter().map(|w| Categorical::new(w)).collect(),
            hours: Categorical::new(&HOURS),
            segments: Categorical::new(&SEGMENT_SHARE),
            products: Categorical::new(&pw),
            product_count: cfg.products,
            teams,
            agents: r.agents,
            aspects,
            spike,
            improvement,
            sentiment,
            repeat,
            nps,
            stage_shift,
            season,
            noise_keep,
            noise_boost,
            days,
            // Customers joined up to 8 years before the window; nothing is written after it.
            dates: Dates::new(r.start - 9 * 366 * DAY, r.end),
            cat,
        })
    }

    pub(crate) fn chunks(&self) -> u64 {
        self.customers.div_ceil(CHUNK)
    }

    fn agent(&self, rng: &mut Rng, team: usize) -> u32 {
        let (first, count) = self.teams[team];
        first + rng.below(count)
    }
}

/// Agents per team: frontline 55%, billing 12%, technical 18%, retention 7%, escalations 8%,
/// at least one each.
pub(crate) fn team_sizes(agents: u32) -> [(u32, u32); 5] {
    let shares = [0.55, 0.12, 0.18, 0.07, 0.08];
    let mut counts = [0u32; 5];
    for i in 1..5 {
        counts[i] = ((f64::from(agents) * shares[i]) as u32).max(1);
    }
    counts[0] = agents
        .saturating_sub(counts[1..].iter().sum::<u32>())
        .max(1);
    let mut out = [(0, 0); 5];
    let mut next = 0;
    for i in 0..5 {
        out[i] = (next, counts[i]);
        next += counts[i];
    }
    out
}

/// The team of an agent index.
pub(crate) fn team_of(teams: &[(u32, u32); 5], agent: u32) -> usize {
    teams
        .iter()
        .position(|(first, count)| agent >= *first && agent < first + count)
        .unwrap_or(FRONTLINE)
}

/// Mergeable statistics of a chunk.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    /// contacts -> customers with that many customer signals.
    pub customer_hist: BTreeMap<u64, u64>,
    pub product_counts: Vec<u64>,
    pub kinds: [u64; 7],
    pub channels: [u64; 9],
    pub sources: [u64; 2],
    pub stages: [u64; 5],
    pub topics: Vec<u64>,
    pub labelled: u64,
    pub spike_daily: Vec<u64>,
    pub improvement_daily: Vec<u64>,
    /// Signals of the improved topic per day that the improvement removed: its removed contacts
    /// and employees' suggestions, and the follow-ups on the cases those contacts would have
    /// opened (simulated, not written). Written + removed is the topic without the improvement.
    pub improvement_removed_daily: Vec<u64>,
    /// Sentiment shift: signals of the topic from its date on, those written neutral instead of
    /// negative, and the sum of (class written - class without the shift), classes -1/0/1.
    pub sentiment_after: u64,
    pub sentiment_converted: u64,
    pub sentiment_diff: i64,
    /// Repeat shift, from its date on: written contacts of the topic and their repeats, the same
    /// with the dropped follow-ups made, and the dropped ones.
    pub repeat_written: [u64; 2],
    pub repeat_counterfactual: [u64; 2],
    pub repeat_dropped: u64,
    /// NPS shift: responses of the segment from its date on and the sum of class changes.
    pub nps_after: u64,
    pub nps_diff: i64,
    /// Stage time shift: visits from its date on, their seconds, and the seconds unshifted.
    pub stage_visits: u64,
    pub stage_secs: i64,
    pub stage_secs_unshifted: i64,
    pub cases: u64,
    pub open_at_end: u64,
    pub transfers: u64,
    pub escalated: u64,
    pub reopened: u64,
    pub resolved_by_owner: u64,
    pub closed: u64,
    /// (customer number, churned_at).
    pub churned: Vec<(u64, i64)>,
    /// Normal equations of overall on [1, aspects...].
    pub xtx: Vec<f64>,
    pub xty: Vec<f64>,
    pub responses: u64,
}

impl Stats {
    pub(crate) fn new(w: &World) -> Stats {
        let k = w.aspects.len() + 1;
        Stats {
            product_counts: vec![0; w.product_count as usize],
            topics: vec![0; w.cat.subtopics.len()],
            spike_daily: vec![0; w.days],
            improvement_daily: vec![0; w.days],
            improvement_removed_daily: vec![0; w.days],
            xtx: vec![0.0; k * k],
            xty: vec![0.0; k],
            ..Stats::default()
        }
    }

    pub(crate) fn merge(&mut self, o: &Stats) {
        for (c, n) in &o.customer_hist {
            *self.customer_hist.entry(*c).or_insert(0) += n;
        }
        let add = |a: &mut [u64], b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.product_counts, &o.product_counts);
        add(&mut self.kinds, &o.kinds);
        add(&mut self.channels, &o.channels);
        add(&mut self.sources, &o.sources);
        add(&mut self.stages, &o.stages);
        add(&mut self.topics, &o.topics);
        add(&mut self.spike_daily, &o.spike_daily);
        add(&mut self.improvement_daily, &o.improvement_daily);
        add(
            &mut self.improvement_removed_daily,
            &o.improvement_removed_daily,
        );
        self.sentiment_after += o.sentiment_after;
        self.sentiment_converted += o.sentiment_converted;
        self.sentiment_diff += o.sentiment_diff;
        add(&mut self.repeat_written, &o.repeat_written);
        add(&mut self.repeat_counterfactual, &o.repeat_counterfactual);
        self.repeat_dropped += o.repeat_dropped;
        self.nps_after += o.nps_after;
        self.nps_diff += o.nps_diff;
        self.stage_visits += o.stage_visits;
        self.stage_secs += o.stage_secs;
        self.stage_secs_unshifted += o.stage_secs_unshifted;
        self.labelled += o.labelled;
        self.cases += o.cases;
        self.open_at_end += o.open_at_end;
        self.transfers += o.transfers;
        self.escalated += o.escalated;
        self.reopened += o.reopened;
        self.resolved_by_owner += o.resolved_by_owner;
        self.closed += o.closed;
        self.churned.extend_from_slice(&o.churned);
        self.xtx.iter_mut().zip(&o.xtx).for_each(|(x, y)| *x += y);
        self.xty.iter_mut().zip(&o.xty).for_each(|(x, y)| *x += y);
        self.responses += o.responses;
    }
}

/// One chunk's output: CSV bytes per file (no header) and row counts.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    pub customers: Vec<u8>,
    pub signals: Vec<u8>,
    pub surveys: Vec<u8>,
    pub events: Vec<u8>,
    pub customer_rows: u64,
    pub signal_rows: u64,
    pub survey_rows: u64,
    pub event_rows: u64,
    pub stats: Stats,
}

/// How a signal id is made: per customer, or per chunk for employee suggestions.
#[derive(Debug, Clone, Copy)]
enum SigId {
    Customer(u64, u32),
    Employee(u64, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Neutral,
    Positive,
    Negative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Plan {
    Contact,
    Spike,
    Warning,
    Survey,
    LowSurvey,
}

/// A customer while its chunk is being generated.
#[derive(Debug)]
struct Cust {
    no: u64,
    /// Index into SEGMENTS.
    seg: usize,
    first: usize,
    last: usize,
    satisfaction: f64,
    weight: f64,
    since: i64,
    journey: Option<i64>,
    products: [u32; 3],
    n_products: u32,
    a0: i64,
    a1: i64,
    churn: Option<i64>,
    white_glove: bool,
    signals: u32,
    cases: u32,
    responses: u32,
    contacts: u64,
}

#[derive(Debug, Clone, Copy)]
struct OpenCase {
    k: u32,
    /// Opened by a contact the improvement removed: its follow-ups are removed with it.
    removed: bool,
    topic: usize,
    product: Option<u32>,
    opened: i64,
    closes: i64,
}

/// What a simulated case did, for the survey that may follow it.
#[derive(Debug, Clone, Copy)]
struct CaseInfo {
    k: u32,
    channel: usize,
    product: Option<u32>,
    last_agent: u32,
    first_agent: u32,
    transfers: u32,
    escalated: bool,
    reopened: bool,
}

impl ChunkOut {
    /// Empties the buffers, keeping their memory for the next chunk.
    fn reset(mut self, w: &World) -> ChunkOut {
        self.customers.clear();
        self.signals.clear();
        self.surveys.clear();
        self.events.clear();
        ChunkOut {
            customers: self.customers,
            signals: self.signals,
            surveys: self.surveys,
            events: self.events,
            stats: Stats::new(w),
            ..ChunkOut::default()
        }
    }
}

/// Generates chunk `index` of the world, reusing the buffers of a written chunk when given one.
pub(crate) fn chunk(w: &World, index: u64, recycled: Option<ChunkOut>) -> ChunkOut {
    let out = match recycled {
        Some(o) => o.reset(w),
        None => ChunkOut {
            stats: Stats::new(w),
            ..ChunkOut::default()
        },
    };
    let mut g = Gen {
        w,
        rng: Rng::new(w.seed, index),
        thin: Rng::new(w.seed, THIN_STREAM + index),
        out,
        text: Vec::with_capacity(512),
        plans: Vec::new(),
        open: Vec::new(),
        repeat_last: (None, None),
    };
    let first = index * CHUNK + 1;
    let last = ((index + 1) * CHUNK).min(w.customers);
    let n = last + 1 - first;
    let est = (n as f64 * f64::from(w.months) * 240.0) as usize;
    g.out.signals.reserve(est);
    g.out.events.reserve(est / 2);
    g.out.customers.reserve(n as usize * 80);
    for no in first..=last {
        g.customer(no);
    }
    g.employee_suggestions(index, n);
    g.out
}

struct Gen<'w> {
    /// The customer's last contact on the repeat-shift topic: as written, and as it would have
    /// been with the dropped follow-ups made.
    repeat_last: (Option<i64>, Option<i64>),
    w: &'w World,
    rng: Rng,
    /// The improvement's draws, apart from `rng` so that what it removes does not change what
    /// else is generated: the run without removals is the same run with every removed contact
    /// written, which makes the truth's counterfactual exact.
    thin: Rng,
    out: ChunkOut,
    text: Vec<u8>,
    plans: Vec<(i64, Plan)>,
    open: Vec<OpenCase>,
}

/// When a customer lives through the window: joined (`since`), journey start for a new customer,
/// active span [a0, a1) and churn date. Drawn the same way for the volume calibration in
/// [`World::new`] and for every customer.
#[derive(Debug, Clone, Copy)]
struct Life {
    since: i64,
    journey: Option<i64>,
    a0: i64,
    a1: i64,
    churn: Option<i64>,
}

impl Life {
    fn draw(
        start: i64,
        end: i64,
        monthly_churn: f64,
        new_share: f64,
        satisfaction: f64,
        rng: &mut Rng,
    ) -> Life {
        let (since, journey) = if rng.chance(new_share) {
            let since = rng.range_i64(start - 30 * DAY, end - 7 * DAY);
            let journey = since - rng.range_i64(7 * DAY, 35 * DAY);
            (since, Some(journey))
        } else {
            (start - rng.range_i64(30 * DAY, 8 * 365 * DAY), None)
        };
        let a0 = journey.map_or(start, |j| j.max(start));
        // Churn: a hazard that rises as satisfaction falls, over the months the customer is
        // active; the date leaves room for the warnings before it.
        let active_months = (end - a0) as f64 / MONTH_SECS;
        let hazard = (monthly_churn * (-0.55 * (satisfaction - 7.0)).exp()).min(0.3);
        let p_churn = 1.0 - (1.0 - hazard).powf(active_months);
        let earliest = a0 + 56 * DAY;
        let churn = if earliest < end && rng.chance(p_churn) {
            Some(rng.range_i64(earliest, end) / DAY * DAY)
        } else {
            None
        };
        let silence = rng.range_i64(i64::from(SILENT_DAYS[0]), i64::from(SILENT_DAYS[1]) + 1) * DAY;
        let a1 = churn.map_or(end, |c| c - silence);
        Life {
            since,
            journey,
            a0,
            a1,
            churn,
        }
    }

    /// Active seconds, journey seconds counted `JOURNEY_BOOST` times.
    fn weighted_active(&self) -> f64 {
        let (j0, j1) = journey_span(self.journey, self.since, self.a0);
        JOURNEY_BOOST * overlap(self.a0, self.a1, j0, j1) as f64
            + overlap(self.a0, self.a1, j1, i64::MAX) as f64
    }
}

fn draw_satisfaction(rng: &mut Rng) -> f64 {
    (7.0 + 1.4 * rng.normal()).clamp(0.5, 9.8)
}

/// The boosted journey [journey start, 45 days after joining); empty (at `a0`) for customers who
/// joined before the window.
fn journey_span(journey: Option<i64>, since: i64, a0: i64) -> (i64, i64) {
    match journey {
        Some(j) => (j, since + 45 * DAY),
        None => (a0, a0),
    }
}

fn overlap(a0: i64, a1: i64, b0: i64, b1: i64) -> i64 {
    a1.min(b1).saturating_sub(a0.max(b0)).max(0)
}

impl Gen<'_> {
    fn customer(&mut self, no: u64) {
        let w = self.w;
        let rng = &mut self.rng;
        let seg = w.segments.sample(rng);
        let persona = rng.below(PERSONAS.len() as u32) as usize;
        let first = rng.below(FIRST_NAMES.len() as u32) as usize;
        let last = rng.below(LAST_NAMES.len() as u32) as usize;
        let weight = ((w.customer_sigma * rng.normal()).exp() * SEGMENT_ACTIVITY[seg]).min(w.wcap);
        let satisfaction = draw_satisfaction(rng);
        let value = SEGMENT_VALUE[seg] * (0.5 * rng.normal()).exp();
        let white_glove = (seg == 2 && rng.chance(0.3)) || rng.chance(0.003);
        let life = Life::draw(
            w.start,
            w.end,
            w.monthly_churn,
            w.new_share,
            satisfaction,
            rng,
        );
        let mut products = [0u32; 3];
        let n_products = 1 + u32::from(rng.chance(0.4)) + u32::from(rng.chance(0.15));
        for p in products.iter_mut().take(n_products as usize) {
            *p = w.products.sample(rng) as u32;
        }
        let Life {
            since,
            journey,
            a0,
            a1,
            churn,
        } = life;
        let mut c = Cust {
            no,
            seg,
            first,
            last,
            satisfaction,
            weight,
            since,
            journey,
            products,
            n_products,
            a0,
            a1,
            churn,
            white_glove,
            signals: 0,
            cases: 0,
            responses: 0,
            contacts: 0,
        };
        self.write_customer(&c, seg, persona, value);
        self.plan(&c);
        self.open.clear();
        self.repeat_last = (None, None);
        let plans = std::mem::take(&mut self.plans);
        for &(t, plan) in &plans {
            match plan {
                Plan::Contact => self.contact(&mut c, t, None),
                Plan::Spike => {
                    let topic = self.w.spike.map(|s| s.0);
                    self.contact(&mut c, t, topic);
                }
                Plan::Warning => self.warning(&mut c, t),
                Plan::Survey => self.survey(&mut c, t, None, false),
                Plan::LowSurvey => self.survey(&mut c, t, None, true),
            }
        }
        self.plans = plans;
        self.plans.clear();
        *self.out.stats.customer_hist.entry(c.contacts).or_insert(0) += 1;
        if let Some(ch) = c.churn {
            self.out.stats.churned.push((c.no, ch));
        }
    }

    /// Lays out the customer's contacts, spike contacts, warnings and surveys in time order.
    fn plan(&mut self, c: &Cust) {
        let w = self.w;
        let base = w.rate_per_sec * c.weight / w.wbar * w.noise_boost;
        let (j0, j1) = journey_span(c.journey, c.since, c.a0);
        let journey_end = j1;
        let in_journey = overlap(c.a0, c.a1, j0, j1);
        let after = overlap(c.a0, c.a1, j1, i64::MAX);
        let n_j = self.rng.poisson(base * JOURNEY_BOOST * in_journey as f64);
        let n_a = self.rng.poisson(base * after as f64);
        for _ in 0..n_j {
            let t = self.time_in(c.a0.max(j0), c.a1.min(j1));
            self.plans.push((t, Plan::Contact));
        }
        for _ in 0..n_a {
            let t = self.time_in(c.a0.max(j1), c.a1);
            self.plans.push((t, Plan::Contact));
        }
        if let Some((topic, week, mult)) = w.spike {
            let lo = c.a0.max(week);
            let hi = c.a1.min(week + 7 * DAY);
            if hi > lo {
                let mid = lo + (hi - lo) / 2;
                let stage = stage_at(c, mid);
                let boost = if mid < journey_end {
                    JOURNEY_BOOST
                } else {
                    1.0
                };
                let share = w.stage_shares[stage][topic];
                let mean = base * boost * (hi - lo) as f64 * share * (mult - 1.0);
                for _ in 0..self.rng.poisson(mean) {
                    let t = self.rng.range_i64(lo, hi);
                    self.plans.push((t, Plan::Spike));
                }
            }
        }
        if let Some(churn) = c.churn {
            let lo = (churn - i64::from(WARNING_DAYS[1]) * DAY).max(c.a0);
            let hi = c.a1;
            if hi > lo {
                for _ in 0..1 + self.rng.below(2) {
                    let t = self.rng.range_i64(lo, hi);
                    self.plans.push((t, Plan::Warning));
                }
                if self.rng.chance(0.4) {
                    let t = self.rng.range_i64(lo, hi);
                    self.plans.push((t, Plan::LowSurvey));
                }
            }
        }
        let active = (c.a1 - c.a0).max(0) as f64;
        for _ in 0..self.rng.poisson(SURVEY_RATE * active / MONTH_SECS) {
            let t = self.time_in(c.a0, c.a1);
            self.plans.push((t, Plan::Survey));
        }
        self.plans.sort_unstable();
    }

    /// A time in [lo, hi) shaped like real contact: fewer at weekends and at night.
    fn time_in(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        for _ in 0..3 {
            let day = self.rng.range_i64(lo, hi).div_euclid(DAY) * DAY;
            // 1970-01-01 was a Thursday: day index + 3 mod 7 gives Monday = 0.
            let weekday = (day / DAY + 3).rem_euclid(7);
            if weekday >= 5 && !self.rng.chance(0.45) {
                continue;
            }
            let hour = self.w.hours.sample(&mut self.rng) as i64;
            let t = day + hour * HOUR + self.rng.range_i64(0, HOUR);
            if t >= lo && t < hi {
                return t;
            }
        }
        self.rng.range_i64(lo, hi)
    }

    /// Whether the improvement thins this signal away.
    fn thinned(&mut self, topic: usize, t: i64) -> bool {
        match self.w.improvement {
            Some((it, at, factor)) if it == topic && t >= at => !self.thin.chance(factor),
            _ => false,
        }
    }

    /// Whether the season or the day's noise removes this contact (no random draw when neither
    /// is configured, so the output without them is unchanged).
    fn volume_dropped(&mut self, topic: usize, t: i64) -> bool {
        let w = self.w;
        if w.season.is_none() && w.noise_keep.is_none() {
            return false;
        }
        let mut keep = 1.0;
        if let Some((at, factor)) = w.season
            && t >= at
        {
            keep *= factor;
        }
        if let Some(table) = &w.noise_keep {
            let day = ((t - w.start) / DAY).clamp(0, w.days as i64 - 1) as usize;
            keep *= table[topic * w.days + day];
        }
        !self.rng.chance(keep)
    }

    /// Tracks the repeat-shift topic's contacts of the current customer: `written` or dropped
    /// by the shift, for the truth's repeat rates with and without it.
    fn track_repeat(&mut self, t: i64, written: bool) {
        let Some((_, at, _)) = self.w.repeat else {
            return;
        };
        let window = i64::from(REPEAT_WINDOW_DAYS) * DAY;
        let (last_w, last_c) = self.repeat_last;
        let is_repeat = |last: Option<i64>| last.is_some_and(|p| t - p <= window);
        let st = &mut self.out.stats;
        if t >= at {
            st.repeat_counterfactual[0] += 1;
            st.repeat_counterfactual[1] += u64::from(is_repeat(last_c));
            if written {
                st.repeat_written[0] += 1;
                st.repeat_written[1] += u64::from(is_repeat(last_w));
            } else {
                st.repeat_dropped += 1;
            }
        }
        self.repeat_last = if written {
            (Some(t), Some(t))
        } else {
            (last_w, Some(t))
        };
    }

    fn contact(&mut self, c: &mut Cust, t: i64, forced_topic: Option<usize>) {
        let w = self.w;
        let stage = stage_at(c, t);
        let follow = if forced_topic.is_none() && self.rng.chance(FOLLOW_UP_SHARE) {
            self.open
                .iter()
                .rev()
                .find(|o| o.opened < t && o.closes > t)
                .copied()
        } else {
            None
        };
        let (topic, kind) = match follow {
            Some(o) => {
                let kind = if self.rng.chance(0.6) {
                    K_COMPLAINT
                } else {
                    K_QUESTION
                };
                (o.topic, kind)
            }
            None => {
                let topic =
                    forced_topic.unwrap_or_else(|| w.stage_topics[stage].sample(&mut self.rng));
                let class = w.cat.subtopics[topic].class as usize;
                (topic, w.class_kinds[class].sample(&mut self.rng))
            }
        };
        if self.volume_dropped(topic, t) {
            return;
        }
        if follow.is_some_and(|o| o.removed) || self.thinned(topic, t) {
            self.removed(c, |g, c| g.contact_made(c, t, stage, topic, kind, follow));
        } else {
            self.contact_made(c, t, stage, topic, kind, follow);
        }
    }

    /// A contact the improvement removed: `make` simulates it as if it were made, so that the
    /// random numbers drawn are those of the run without the improvement, then it is taken back
    /// (rows, statistics, the customer's counters) and counted as removed. A case it opened
    /// stays among the open cases, marked removed, so that the follow-ups on it are removed too.
    fn removed(&mut self, c: &mut Cust, make: impl FnOnce(&mut Self, &mut Cust)) {
        let counters = (c.signals, c.responses, c.contacts, c.cases);
        self.taken_back(|g| make(g, c));
        (c.signals, c.responses, c.contacts) = (counters.0, counters.1, counters.2);
        if c.cases != counters.3
            && let Some(o) = self.open.last_mut()
        {
            o.removed = true;
        }
    }

    /// Runs `make` and takes back what it wrote (rows and statistics), counting the improved
    /// topic's signals among them as removed.
    fn taken_back(&mut self, make: impl FnOnce(&mut Self)) {
        let out = &mut self.out;
        let lens = (out.signals.len(), out.surveys.len(), out.events.len());
        let rows = (out.signal_rows, out.survey_rows, out.event_rows);
        let hist = std::mem::take(&mut out.stats.customer_hist);
        let churned = std::mem::take(&mut out.stats.churned);
        let stats = out.stats.clone();
        let repeat_last = self.repeat_last;
        make(self);
        let removed: Vec<u64> = self
            .out
            .stats
            .improvement_daily
            .iter()
            .zip(&stats.improvement_daily)
            .map(|(a, b)| a - b)
            .collect();
        let out = &mut self.out;
        out.signals.truncate(lens.0);
        out.surveys.truncate(lens.1);
        out.events.truncate(lens.2);
        (out.signal_rows, out.survey_rows, out.event_rows) = rows;
        out.stats = stats;
        out.stats.customer_hist = hist;
        out.stats.churned = churned;
        for (r, n) in out.stats.improvement_removed_daily.iter_mut().zip(removed) {
            *r += n;
        }
        self.repeat_last = repeat_last;
    }

    /// A contact that happens (written, unless its follow-up is dropped by the repeat shift).
    fn contact_made(
        &mut self,
        c: &mut Cust,
        t: i64,
        stage: usize,
        topic: usize,
        kind: usize,
        follow: Option<OpenCase>,
    ) {
        let w = self.w;
        if let (Some(o), Some((rt, at, factor))) = (follow, w.repeat)
            && o.topic == rt
            && t >= at
            && !self.rng.chance(factor)
        {
            self.track_repeat(t, false);
            return;
        }
        let shift = match w.sentiment {
            Some((st, at, share)) if st == topic && t >= at => share,
            _ => 0.0,
        };
        let (tone, converted) = self.tone(c, kind, follow.is_some(), shift);
        self.emit_contact(c, t, stage, topic, kind, tone, follow, false, converted);
    }

    fn warning(&mut self, c: &mut Cust, t: i64) {
        let w = self.w;
        let stage = stage_at(c, t);
        let mut topic = w.stage_topics[stage].sample(&mut self.rng);
        for _ in 0..6 {
            if w.cat.subtopics[topic].class == Class::Problem {
                break;
            }
            topic = w.stage_topics[stage].sample(&mut self.rng);
        }
        // The improvement does not remove churn warnings: every churner complains before
        // leaving (a warning on the improved topic stays there, so that the run without the
        // improvement is the same run).
        self.emit_contact(
            c,
            t,
            stage,
            topic,
            K_COMPLAINT,
            Tone::Negative,
            None,
            true,
            false,
        );
    }

    /// The tone of a contact, and whether a sentiment shift of `shift` turned it from negative to
    /// neutral (the same draw decides both, so with `shift = 0` nothing changes).
    fn tone(&mut self, c: &Cust, kind: usize, follow_up: bool, shift: f64) -> (Tone, bool) {
        let adj = (0.06 * (7.0 - c.satisfaction)).clamp(-0.05, 0.3);
        let (neg, pos) = match kind {
            K_COMPLAINT => (0.7 + adj, 0.0),
            K_COMPLIMENT => (0.0, 0.95),
            K_QUESTION => (0.08 + adj, 0.12),
            K_REQUEST => (0.1 + adj, 0.12),
            K_SUGGESTION => (0.08 + adj, 0.3),
            _ => (0.1 + adj, 0.05),
        };
        let neg = if follow_up { neg + 0.25 } else { neg };
        let u = self.rng.f64();
        if u < neg * (1.0 - shift) {
            (Tone::Negative, false)
        } else if u < neg {
            (Tone::Neutral, true)
        } else if u < neg + pos {
            (Tone::Positive, false)
        } else {
            (Tone::Neutral, false)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_contact(
        &mut self,
        c: &mut Cust,
        t: i64,
        stage: usize,
        topic: usize,
        kind: usize,
        tone: Tone,
        follow: Option<OpenCase>,
        warning: bool,
        converted: bool,
    ) {
        let w = self.w;
        let channel = w.kind_channels[kind].sample(&mut self.rng);
        let product = match follow {
            Some(o) => o.product,
            None if self.rng.chance(0.9) => Some(c.products[self.rng.below(c.n_products) as usize]),
            None => None,
        };
        let (case, first_agent) = match follow {
            Some(o) => (Some(o.k), None),
            None => {
                let p_case = match kind {
                    K_COMPLAINT => 0.5,
                    K_REQUEST => 0.35,
                    K_QUESTION => 0.05,
                    _ => 0.0,
                };
                if self.rng.chance(p_case) {
                    let info = self.case(c, t, topic, channel, product, tone == Tone::Negative);
                    (Some(info.k), Some(info.first_agent))
                } else {
                    (None, None)
                }
            }
        };
        let staffed = matches!(
            CHANNELS[channel],
            Channel::Phone | Channel::Chat | Channel::Email | Channel::InPerson
        );
        // The contact that opened a case was taken by the agent first assigned to it.
        let agent =
            staffed.then(|| first_agent.unwrap_or_else(|| w.agent(&mut self.rng, FRONTLINE)));
        let email = channel == C_EMAIL;
        if converted {
            // The text this contact would have had without the shift, from the same random
            // numbers, scored as the import scores it; then the text it gets.
            let saved = self.rng.clone();
            self.compose(
                c,
                topic,
                kind,
                Tone::Negative,
                email,
                follow.is_some(),
                warning,
            );
            let without = sentiment_class(&self.text);
            self.rng = saved;
            self.compose(c, topic, kind, tone, email, follow.is_some(), warning);
            let with = sentiment_class(&self.text);
            let st = &mut self.out.stats;
            st.sentiment_converted += 1;
            st.sentiment_diff += with - without;
        } else {
            self.compose(c, topic, kind, tone, email, follow.is_some(), warning);
        }
        if w.repeat.is_some_and(|r| r.0 == topic) {
            self.track_repeat(t, true);
        }
        c.signals += 1;
        let sid = c.signals;
        self.write_signal(
            SigId::Customer(c.no, sid),
            t,
            channel,
            kind,
            Source::Customer,
            Some(c.no),
            product,
            case.map(|k| (c.no, k)),
            agent,
            Some(stage),
            Some(topic),
        );
        c.contacts += 1;
    }

    /// Writes the signal row whose text is in `self.text`, and counts it.
    #[allow(clippy::too_many_arguments)]
    fn write_signal(
        &mut self,
        id: SigId,
        t: i64,
        channel: usize,
        kind: usize,
        source: Source,
        customer: Option<u64>,
        product: Option<u32>,
        case: Option<(u64, u32)>,
        agent: Option<u32>,
        stage: Option<usize>,
        topic: Option<usize>,
    ) {
        let w = self.w;
        let labelled = topic.is_some() && self.rng.chance(w.labelled_share);
        let b = &mut self.out.signals;
        match id {
            SigId::Customer(no, k) => {
                b.push(b'S');
                push_padded(b, no, w.id_width);
                b.push(b'-');
                push_u64(b, u64::from(k));
            }
            SigId::Employee(chunk, k) => {
                b.extend_from_slice(b"SX");
                push_padded(b, chunk, 6);
                b.push(b'-');
                push_u64(b, u64::from(k));
            }
        }
        b.push(b',');
        w.dates.push_ts(b, t);
        b.push(b',');
        b.extend_from_slice(CHANNELS[channel].as_str().as_bytes());
        b.push(b',');
        b.extend_from_slice(KINDS[kind].as_str().as_bytes());
        b.push(b',');
        b.extend_from_slice(source.as_str().as_bytes());
        b.push(b',');
        if let Some(no) = customer {
            b.push(b'C');
            push_padded(b, no, w.id_width);
        }
        b.push(b',');
        if let Some(p) = product {
            push_product_id(b, p);
        }
        b.push(b',');
        if let Some((no, k)) = case {
            push_case_id(b, no, k, w.id_width);
        }
        b.push(b',');
        if let Some(a) = agent {
            push_agent_id(b, a);
        }
        b.push(b',');
        if let Some(s) = stage {
            b.extend_from_slice(STAGES[s].as_bytes());
        }
        b.push(b',');
        if let (Some(tp), true) = (topic, labelled) {
            b.extend_from_slice(w.cat.subtopics[tp].name.as_bytes());
        }
        b.push(b',');
        open_quote(b);
        b.extend_from_slice(&self.text);
        close_quote(b);
        b.push(b'\n');
        let st = &mut self.out.stats;
        self.out.signal_rows += 1;
        st.kinds[kind] += 1;
        st.channels[channel] += 1;
        st.sources[usize::from(source == Source::Employee)] += 1;
        if let Some(s) = stage {
            st.stages[s] += 1;
        }
        if let Some(p) = product {
            st.product_counts[p as usize] += 1;
        }
        if let Some(tp) = topic {
            st.topics[tp] += 1;
            st.labelled += u64::from(labelled);
            let day = ((t - w.start) / DAY) as usize;
            if w.spike.is_some_and(|s| s.0 == tp) && day < st.spike_daily.len() {
                st.spike_daily[day] += 1;
            }
            if w.improvement.is_some_and(|s| s.0 == tp) && day < st.improvement_daily.len() {
                st.improvement_daily[day] += 1;
            }
            if w.sentiment.is_some_and(|s| s.0 == tp && t >= s.1) {
                st.sentiment_after += 1;
            }
        }
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.rng.below(v.len() as u32) as usize]
    }

    /// Writes a contact's text into `self.text`.
    #[allow(clippy::too_many_arguments)]
    fn compose(
        &mut self,
        c: &Cust,
        topic: usize,
        kind: usize,
        tone: Tone,
        email: bool,
        follow_up: bool,
        warning: bool,
    ) {
        let w = self.w;
        let ph = &w.cat.phrases;
        let st = &w.cat.subtopics[topic];
        self.text.clear();
        if email {
            let g = self.pick(&ph.email_greeting);
            self.text.extend_from_slice(g.as_bytes());
            self.text.extend_from_slice(b"\n\n");
        }
        if follow_up {
            let f = self.pick(&ph.followup);
            self.text.extend_from_slice(f.as_bytes());
            self.text.push(b' ');
        }
        let fact = self.pick(&st.facts);
        push_capitalised(&mut self.text, fact);
        self.text.push(b'.');
        match kind {
            K_QUESTION => {
                let q = self.pick(&ph.question);
                self.text.push(b' ');
                self.text.extend_from_slice(q.as_bytes());
            }
            K_REQUEST => {
                let r = self.pick(&ph.request);
                let a = self.pick(&st.asks);
                self.text.push(b' ');
                push_template(&mut self.text, r, a);
            }
            K_SUGGESTION => {
                let s = self.pick(&ph.suggestion);
                let i = self.pick(&st.ideas);
                self.text.push(b' ');
                push_template(&mut self.text, s, i);
            }
            _ => {}
        }
        match tone {
            Tone::Positive => {
                let p = self.pick(&ph.positive);
                self.text.push(b' ');
                self.text.extend_from_slice(p.as_bytes());
            }
            Tone::Negative => {
                let n = self.pick(&ph.negative);
                self.text.push(b' ');
                self.text.extend_from_slice(n.as_bytes());
            }
            Tone::Neutral => {}
        }
        if warning {
            let ch = self.pick(&ph.churn);
            self.text.push(b' ');
            self.text.extend_from_slice(ch.as_bytes());
        }
        // A little personal data, so redaction has something to find.
        if self.rng.chance(0.02) {
            if self.rng.chance(0.5) {
                self.text.extend_from_slice(b" You can reach me at ");
                push_email_name(&mut self.text, FIRST_NAMES[c.first], LAST_NAMES[c.last]);
                self.text.extend_from_slice(b"@example.com.");
            } else {
                self.text.extend_from_slice(b" My number is +31 6 ");
                push_padded(&mut self.text, c.no % 100_000_000, 8);
                self.text.push(b'.');
            }
        }
        if email {
            let cl = self.pick(&ph.email_closing);
            self.text.extend_from_slice(b"\n\n");
            self.text.extend_from_slice(cl.as_bytes());
            self.text.push(b'\n');
            self.text.extend_from_slice(FIRST_NAMES[c.first].as_bytes());
        }
    }
}

/// Which lifecycle stage a customer is in at `t`.
fn stage_at(c: &Cust, t: i64) -> usize {
    match c.journey {
        None => 4,
        Some(j) => {
            let since = c.since;
            if t < j + (since - j) * 6 / 10 {
                0
            } else if t < since {
                1
            } else if t < since + 14 * DAY {
                2
            } else if t < since + 45 * DAY {
                3
            } else {
                4
            }
        }
    }
}

fn push_capitalised(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if let Some((first, rest)) = b.split_first() {
        buf.push(first.to_ascii_uppercase());
        buf.extend_from_slice(rest);
    }
}

fn push_template(buf: &mut Vec<u8>, t: Template, fill: &str) {
    buf.extend_from_slice(t.before.as_bytes());
    buf.extend_from_slice(fill.as_bytes());
    buf.extend_from_slice(t.after.as_bytes());
}

fn push_email_name(buf: &mut Vec<u8>, first: &str, last: &str) {
    for b in first.bytes() {
        buf.push(b.to_ascii_lowercase());
    }
    buf.push(b'.');
    for b in last.bytes().filter(|b| *b != b' ') {
        buf.push(b.to_ascii_lowercase());
    }
}

pub(crate) fn push_product_id(b: &mut Vec<u8>, p: u32) {
    b.push(b'P');
    push_padded(b, u64::from(p) + 1, 4);
}

pub(crate) fn push_agent_id(b: &mut Vec<u8>, a: u32) {
    b.push(b'A');
    push_padded(b, u64::from(a) + 1, 4);
}

fn push_case_id(b: &mut Vec<u8>, no: u64, k: u32, width: usize) {
    b.push(b'K');
    push_padded(b, no, width);
    b.push(b'-');
    push_u64(b, u64::from(k));
}

pub(crate) fn customer_name(i: u64) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[(i % 40) as usize],
        LAST_NAMES[(i / 40 % 40) as usize],
    )
}

pub(crate) fn product_name(p: u32) -> (String, &'static str) {
    let (category, title) = PRODUCT_CATEGORIES[(p as usize) % PRODUCT_CATEGORIES.len()];
    let round = p as usize / PRODUCT_CATEGORIES.len();
    let tier = TIERS[round % TIERS.len()];
    let generation = round / TIERS.len();
    let name = if generation == 0 {
        format!("{title} {tier}")
    } else {
        format!("{title} {tier} {}", generation + 1)
    };
    (name, category)
}

/// A case being simulated: its id, clock and whether it is still inside the window.
struct CaseRun {
    k: u32,
    /// `<customer digits>-<k>`, formatted once: the case id is `K` + this and each event id
    /// `E` + this + `-<seq>`.
    digits: [u8; 32],
    len: usize,
    t: i64,
    seq: u32,
    alive: bool,
    /// The last event written: its activity and time (the stage the case is in).
    prev: Option<(&'static str, i64)>,
}

impl Gen<'_> {
    fn write_customer(&mut self, c: &Cust, seg: usize, persona: usize, value: f64) {
        let w = self.w;
        let b = &mut self.out.customers;
        b.push(b'C');
        push_padded(b, c.no, w.id_width);
        b.push(b',');
        b.extend_from_slice(FIRST_NAMES[c.first].as_bytes());
        b.push(b' ');
        b.extend_from_slice(LAST_NAMES[c.last].as_bytes());
        b.push(b',');
        b.extend_from_slice(SEGMENTS[seg].as_bytes());
        b.push(b',');
        b.extend_from_slice(PERSONAS[persona].as_bytes());
        b.push(b',');
        w.dates.push_date(b, c.since);
        b.push(b',');
        push_u64(b, value.round().max(0.0) as u64);
        b.push(b',');
        b.extend_from_slice(if c.white_glove { b"true" } else { b"false" });
        b.push(b',');
        if let Some(ch) = c.churn {
            w.dates.push_date(b, ch);
        }
        b.push(b'\n');
        self.out.customer_rows += 1;
    }

    /// Advances the case clock by an exponential gap and writes the event, unless that falls
    /// past the window (then the case stays open and later steps are skipped). Returns whether
    /// the event was written.
    fn step(
        &mut self,
        run: &mut CaseRun,
        gap_mean_secs: f64,
        activity: &'static str,
        agent: Option<(u32, usize)>,
        note: Option<&str>,
    ) -> bool {
        if !run.alive {
            return false;
        }
        let w = self.w;
        let draw = self.rng.exp(gap_mean_secs);
        let fixed = i64::from(gap_mean_secs > 0.0) * 60;
        // The time until this event is the time the case spent in the previous event's stage.
        let shifted = match (w.stage_shift, run.prev) {
            (Some((stage, at, factor)), Some((prev, entered)))
                if prev == stage && entered >= at =>
            {
                Some(factor)
            }
            _ => None,
        };
        let gap = shifted.map_or(draw, |f| draw * f) as i64 + fixed;
        run.t += gap;
        if run.t >= w.end {
            run.alive = false;
            return false;
        }
        if shifted.is_some() {
            let st = &mut self.out.stats;
            st.stage_visits += 1;
            st.stage_secs += gap;
            st.stage_secs_unshifted += draw as i64 + fixed;
        }
        run.prev = Some((activity, run.t));
        run.seq += 1;
        let b = &mut self.out.events;
        let digits = &run.digits[..run.len];
        b.push(b'E');
        b.extend_from_slice(digits);
        b.push(b'-');
        push_u64(b, u64::from(run.seq));
        b.extend_from_slice(b",K");
        b.extend_from_slice(digits);
        b.push(b',');
        w.dates.push_ts(b, run.t);
        b.push(b',');
        b.extend_from_slice(activity.as_bytes());
        b.push(b',');
        if let Some((a, _)) = agent {
            push_agent_id(b, a);
        }
        b.push(b',');
        if let Some((_, team)) = agent {
            b.extend_from_slice(TEAMS[team].as_bytes());
        }
        b.push(b',');
        if let Some(n) = note {
            open_quote(b);
            b.extend_from_slice(n.as_bytes());
            close_quote(b);
        }
        b.push(b'\n');
        self.out.event_rows += 1;
        true
    }

    fn note(&mut self, p: f64, tone: Tone) -> Option<&'static str> {
        if !self.rng.chance(p) {
            return None;
        }
        let ph = &self.w.cat.phrases;
        Some(match tone {
            Tone::Positive => self.pick(&ph.case_positive),
            Tone::Negative => self.pick(&ph.case_negative),
            Tone::Neutral => self.pick(&ph.case_neutral),
        })
    }

    /// Simulates a case opened by a contact at `opened`: assignment, transfers between teams,
    /// waiting loops, escalation, resolution, reopening and closing, cut at the window end.
    fn case(
        &mut self,
        c: &mut Cust,
        opened: i64,
        topic: usize,
        channel: usize,
        product: Option<u32>,
        negative: bool,
    ) -> CaseInfo {
        let w = self.w;
        c.cases += 1;
        let mut id = Vec::with_capacity(32);
        push_case_id(&mut id, c.no, c.cases, w.id_width);
        let mut digits = [0u8; 32];
        // The id is K + at most 10 + 1 + 10 digits, so it fits (the K is skipped).
        let len = (id.len() - 1).min(digits.len());
        digits[..len].copy_from_slice(&id[1..=len]);
        let mut run = CaseRun {
            k: c.cases,
            digits,
            len,
            t: opened,
            seq: 0,
            alive: true,
            prev: None,
        };
        let h = HOUR as f64;
        let upset = if negative {
            Tone::Negative
        } else {
            Tone::Neutral
        };
        self.step(&mut run, 0.0, "new", None, None);
        let first = w.agent(&mut self.rng, FRONTLINE);
        let mut cur = (first, FRONTLINE);
        let wait = if c.white_glove { 0.5 * h } else { 2.0 * h };
        self.step(&mut run, wait, "assigned", Some(cur), None);
        let n = self.note(0.25, upset);
        self.step(&mut run, h, "in_progress", Some(cur), n);
        let mut transfers = 0u32;
        let owner_team = w.cat.subtopics[topic].team;
        let p_transfer = if owner_team == FRONTLINE { 0.15 } else { 0.45 };
        if self.rng.chance(p_transfer) {
            let team = if owner_team == FRONTLINE {
                1 + self.rng.below(3) as usize
            } else {
                owner_team
            };
            cur = (w.agent(&mut self.rng, team), team);
            if self.step(&mut run, 3.0 * h, "assigned", Some(cur), None) {
                transfers += 1;
            }
            self.step(&mut run, h, "in_progress", Some(cur), None);
            if self.rng.chance(0.2) {
                // Passed on again: back to the front line or to another specialist team.
                let team = self.rng.below(4) as usize;
                cur = (w.agent(&mut self.rng, team), team);
                if self.step(&mut run, 4.0 * h, "assigned", Some(cur), None) {
                    transfers += 1;
                }
                self.step(&mut run, h, "in_progress", Some(cur), None);
            }
        }
        if self.rng.chance(0.3) {
            let n = self.note(0.3, Tone::Neutral);
            self.step(&mut run, 5.0 * h, "waiting_on_customer", Some(cur), n);
            self.step(&mut run, 36.0 * h, "in_progress", Some(cur), None);
        }
        let p_escalate = 0.05 + if negative { 0.12 } else { 0.0 } + 0.05 * f64::from(transfers);
        let mut escalated = false;
        if self.rng.chance(p_escalate) {
            let n = self.note(0.6, Tone::Negative);
            if self.step(&mut run, 6.0 * h, "escalated", Some(cur), n) {
                escalated = true;
                self.out.stats.escalated += 1;
            }
            cur = (w.agent(&mut self.rng, ESCALATIONS), ESCALATIONS);
            if self.step(&mut run, 2.0 * h, "assigned", Some(cur), None) {
                transfers += 1;
            }
            self.step(&mut run, h, "in_progress", Some(cur), None);
        }
        let fix = if c.white_glove { 6.0 * h } else { 20.0 * h };
        let n = self.note(0.35, Tone::Positive);
        self.step(&mut run, fix, "resolved", Some(cur), n);
        let p_reopen = 0.08 + if escalated { 0.1 } else { 0.0 } + if negative { 0.05 } else { 0.0 };
        let mut reopened = false;
        if self.rng.chance(p_reopen) {
            let n = self.note(0.6, Tone::Negative);
            if self.step(&mut run, 72.0 * h, "reopened", Some(cur), n) {
                reopened = true;
                self.out.stats.reopened += 1;
            }
            self.step(&mut run, 4.0 * h, "in_progress", Some(cur), None);
            let n = self.note(0.3, Tone::Positive);
            self.step(&mut run, 24.0 * h, "resolved", Some(cur), n);
        }
        let closed = self
            .step(&mut run, 48.0 * h, "closed", Some(cur), None)
            .then_some(run.t);
        let st = &mut self.out.stats;
        st.cases += 1;
        st.transfers += u64::from(transfers);
        match closed {
            Some(_) => {
                st.closed += 1;
                if transfers == 0 && !escalated {
                    st.resolved_by_owner += 1;
                }
            }
            None => st.open_at_end += 1,
        }
        self.open.retain(|o| o.closes > opened);
        self.open.push(OpenCase {
            k: run.k,
            removed: false,
            topic,
            product,
            opened,
            closes: closed.unwrap_or(i64::MAX),
        });
        let info = CaseInfo {
            k: run.k,
            channel,
            product,
            last_agent: cur.0,
            first_agent: first,
            transfers,
            escalated,
            reopened,
        };
        if let Some(done) = closed
            && self.rng.chance(0.15)
        {
            let t = done + self.rng.exp(24.0 * h) as i64;
            if t < c.a1 {
                self.survey(c, t, Some(&info), false);
            }
        }
        info
    }

    /// Writes one survey response (and, when it has a comment, its survey_response signal).
    fn survey(&mut self, c: &mut Cust, t: i64, case: Option<&CaseInfo>, low: bool) {
        let w = self.w;
        let s = c.satisfaction - if low { 3.5 } else { 0.0 };
        let penalty = case.map_or(0.0, |ci| {
            0.9 * f64::from(ci.transfers)
                + if ci.escalated { 1.5 } else { 0.0 }
                + if ci.reopened { 1.2 } else { 0.0 }
        });
        let k = w.aspects.len();
        let mut ratings = [0.0f64; 12];
        let mut linear = 0.0;
        for (i, a) in w.aspects.iter().enumerate() {
            let r = (s + a.offset - a.case_sensitivity * penalty + 1.1 * self.rng.normal())
                .round()
                .clamp(0.0, 10.0);
            ratings[i] = r;
            linear += a.weight * r;
        }
        let overall = (linear + OVERALL_NOISE_SD * self.rng.normal())
            .round()
            .clamp(0.0, 10.0);
        let z = self.rng.normal();
        let nps = (overall + 0.3 + z).round().clamp(0.0, 10.0);
        let nps = match w.nps {
            Some((seg, at, shift)) if c.seg == seg && t >= at => {
                let shifted = (overall + 0.3 + shift + z).round().clamp(0.0, 10.0);
                let st = &mut self.out.stats;
                st.nps_after += 1;
                st.nps_diff += nps_class(shifted) - nps_class(nps);
                shifted
            }
            _ => nps,
        };
        let named = |name: &str| {
            w.aspects
                .iter()
                .position(|a| a.name == name)
                .map_or(overall, |i| ratings[i])
        };
        let (service, ease) = (named("service"), named("ease"));
        let transactional = case.map(|ci| {
            let csat = (1.0 + 0.4 * service + 0.4 * self.rng.normal())
                .round()
                .clamp(1.0, 5.0);
            let ces = (1.0 + 0.6 * ease + 0.5 * self.rng.normal())
                .round()
                .clamp(1.0, 7.0);
            (ci, csat, ces)
        });
        // Normal equations for the realised OLS in the truth.
        let st = &mut self.out.stats;
        let dim = k + 1;
        let x = |i: usize| if i == 0 { 1.0 } else { ratings[i - 1] };
        for i in 0..dim {
            for j in 0..dim {
                st.xtx[i * dim + j] += x(i) * x(j);
            }
            st.xty[i] += x(i) * overall;
        }
        st.responses += 1;
        let comment = self.rng.chance(0.45);
        if comment {
            let ph = &w.cat.phrases;
            let by = |better: bool| {
                (0..k)
                    .reduce(|a, b| {
                        let pick_b = if better {
                            ratings[b] > ratings[a]
                        } else {
                            ratings[b] < ratings[a]
                        };
                        if pick_b { b } else { a }
                    })
                    .unwrap_or(0)
            };
            let (tpl, aspect) = if overall >= 8.0 {
                (self.pick(&ph.survey_positive), by(true))
            } else if overall <= 5.0 {
                (self.pick(&ph.survey_negative), by(false))
            } else {
                let a = self.rng.below(k as u32) as usize;
                (self.pick(&ph.survey_neutral), a)
            };
            self.text.clear();
            push_template(&mut self.text, tpl, &w.aspects[aspect].word);
            if let Some(first) = self.text.first_mut() {
                *first = first.to_ascii_uppercase();
            }
        }
        c.responses += 1;
        let product = match case {
            Some(ci) => ci.product,
            None => Some(c.products[0]),
        };
        let b = &mut self.out.surveys;
        b.push(b'R');
        push_padded(b, c.no, w.id_width);
        b.push(b'-');
        push_u64(b, u64::from(c.responses));
        b.push(b',');
        w.dates.push_ts(b, t);
        b.push(b',');
        b.push(b'C');
        push_padded(b, c.no, w.id_width);
        b.push(b',');
        if let Some(p) = product {
            push_product_id(b, p);
        }
        b.push(b',');
        if let Some(ci) = case {
            push_case_id(b, c.no, ci.k, w.id_width);
        }
        b.push(b',');
        if let Some(ci) = case {
            push_agent_id(b, ci.last_agent);
        }
        b.push(b',');
        if let Some(ci) = case {
            b.extend_from_slice(CHANNELS[ci.channel].as_str().as_bytes());
        }
        b.push(b',');
        push_u64(b, nps as u64);
        b.push(b',');
        if let Some((_, csat, _)) = transactional {
            push_u64(b, csat as u64);
        }
        b.push(b',');
        if let Some((_, _, ces)) = transactional {
            push_u64(b, ces as u64);
        }
        b.push(b',');
        push_u64(b, overall as u64);
        for r in &ratings[..k] {
            b.push(b',');
            push_u64(b, *r as u64);
        }
        b.push(b',');
        if comment {
            open_quote(b);
            b.extend_from_slice(&self.text);
            close_quote(b);
        }
        b.push(b'\n');
        self.out.survey_rows += 1;
        if comment {
            c.signals += 1;
            let stage = stage_at(c, t);
            self.write_signal(
                SigId::Customer(c.no, c.signals),
                t,
                C_SURVEY,
                K_SURVEY,
                Source::Customer,
                Some(c.no),
                product,
                case.map(|ci| (c.no, ci.k)),
                None,
                Some(stage),
                None,
            );
            c.contacts += 1;
        }
    }

    /// Improvement ideas from employees, spread over the window, about one per hundred customer
    /// months.
    fn employee_suggestions(&mut self, index: u64, n_customers: u64) {
        let w = self.w;
        let months = (w.end - w.start) as f64 / MONTH_SECS;
        let n = self
            .rng
            .poisson(EMPLOYEE_RATE * n_customers as f64 * months * w.noise_boost);
        let mut times: Vec<i64> = (0..n).map(|_| self.time_in(w.start, w.end)).collect();
        times.sort_unstable();
        let mut k = 0u32;
        for t in times {
            let agent = self.rng.below(w.agents.max(1));
            let team = team_of(&w.teams, agent);
            let topic = w.stage_topics[4].sample(&mut self.rng);
            if self.volume_dropped(topic, t) {
                continue;
            }
            let removed = self.thinned(topic, t);
            let (tt, it) = self.pick(&w.cat.phrases.employee_suggestion);
            let idea = self.pick(&w.cat.subtopics[topic].ideas);
            self.text.clear();
            self.text.extend_from_slice(tt.before.as_bytes());
            if !tt.before.is_empty() {
                self.text.extend_from_slice(TEAMS[team].as_bytes());
            }
            push_template(&mut self.text, it, idea);
            let channel = match self.rng.below(10) {
                0..=5 => C_WEB,
                6..=8 => C_EMAIL,
                _ => C_OTHER,
            };
            k += 1;
            let write = move |g: &mut Self| {
                g.write_signal(
                    SigId::Employee(index, k),
                    t,
                    channel,
                    K_SUGGESTION,
                    Source::Employee,
                    None,
                    None,
                    None,
                    Some(agent),
                    None,
                    Some(topic),
                );
            };
            if removed {
                // Made and taken back, like a removed contact (its id is not used again).
                self.taken_back(write);
            } else {
                write(self);
            }
        }
    }
}

/// The activities a case goes through, in the order the simulation uses them.
pub(crate) const ACTIVITIES: [&str; 8] = [
    "new",
    "assigned",
    "in_progress",
    "waiting_on_customer",
    "escalated",
    "resolved",
    "reopened",
    "closed",
];

/// Repeat contacts are counted within this many days (Hearken's default).
pub(crate) const REPEAT_WINDOW_DAYS: u32 = 7;

/// The sentiment class of a text as Hearken's import scores it: VADER compound >= 0.05 is 1,
/// <= -0.05 is -1, else (or not scored) 0.
fn sentiment_class(text: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(text);
    match hearken_text::score(&text).sentiment() {
        Some(s) if (s.compound as f32) >= 0.05 => 1,
        Some(s) if (s.compound as f32) <= -0.05 => -1,
        _ => 0,
    }
}

/// Promoter 1, passive 0, detractor -1.
fn nps_class(score: f64) -> i64 {
    if score >= 9.0 {
        1
    } else if score <= 6.0 {
        -1
    } else {
        0
    }
}

/// The probability of keeping a contact of each topic on each day under the volume noise, and
/// the factor contacts are planned more often by so that the volume stays about the same: the
/// day's multiplier `m = exp(sd z - sd^2/2)` (mean 1) is kept as `min(1, m / boost)` with
/// `boost = exp(2 sd)`, which caps only the top ~2% of days.
fn noise_table(
    seed: u64,
    topics: usize,
    days: usize,
    n: &crate::config::VolumeNoise,
) -> (Vec<f64>, f64) {
    let mut rng = Rng::new(seed, u64::MAX - 2);
    let boost = (2.0 * n.sd).exp();
    let step = |z: f64, e: f64| n.rho * z + (1.0 - n.rho * n.rho).sqrt() * e;
    let mut common = Vec::with_capacity(days);
    let mut z = rng.normal();
    for _ in 0..days {
        common.push(z);
        z = step(z, rng.normal());
    }
    let mut keep = Vec::with_capacity(topics * days);
    for _ in 0..topics {
        let mut z = rng.normal();
        for c in &common {
            let mixed = (1.0 - n.common).sqrt() * z + n.common.sqrt() * c;
            let m = (n.sd * mixed - n.sd * n.sd / 2.0).exp();
            keep.push((m / boost).min(1.0));
            z = step(z, rng.normal());
        }
    }
    (keep, boost)
}
