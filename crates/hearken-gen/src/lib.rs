//! Hearken's synthetic organisation: `hearken generate`.
//!
//! [`generate`] writes the six canonical files of `docs/formats.md` (`customers.csv`,
//! `products.csv`, `agents.csv`, `signals.csv`, `surveys.csv`, `case_events.csv`) for a
//! realistic organisation, plus `truth.json` ([`Truth`]): what was put into the data on purpose,
//! so analytics can be checked against known answers.
//!
//! What the data holds: heavy-tailed contacts per customer and per product (lognormal activity
//! weights), a 34-subtopic taxonomy with topic-specific wording, lifecycle stages, every signal
//! kind and channel, employee suggestions, cases with transfers, loops and escalations (some still
//! open at the end), surveys whose `overall` is a known weighted sum of the aspects, churners who
//! complain and then go silent, and a one-week spike and a lasting improvement in two topics.
//! Optional injected effects, each with its date and true size in the truth's `effects`: a
//! sentiment shift of a topic, fewer repeat contacts on a topic, an NPS shift of a segment, a
//! longer or shorter stage, a season on every topic's volume, and day-to-day volume noise
//! (overdispersed, serially correlated counts). When they are off the output is byte for byte
//! what it was without them (no random number is drawn for them).
//!
//! Determinism: customers are simulated in fixed chunks, each with its own random stream seeded
//! from `(seed, chunk index)`, and written in chunk order, so the same config gives the same
//! bytes whatever the number of threads. Nothing reads the clock except the elapsed time in the
//! returned [`GenSummary`]. Memory is bounded by a few chunks in flight plus per-entity counters.
//!
//! Architecture invariant: this crate writes files and nothing else; it knows nothing about the
//! store, the engine or the CLI.

mod catalog;
mod config;
mod out;
mod rng;
mod sim;
mod truth;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use hearken_model::RecordKind;

pub use catalog::{STAGES, TEAMS};
pub use config::{
    Aspect, GenConfig, Improvement, NpsShift, RepeatShift, Season, SentimentShift, Spike,
    StageTimeShift, VolumeNoise,
};
pub use truth::{
    CaseTruth, ChurnTruth, Churned, Drivers, Effect, Mix, NoiseTruth, Pareto, ParetoShape, Truth,
    TruthConfig,
};

use crate::config::{DAY, date_of};
use crate::sim::{CHANNELS, CHUNK, KINDS, Stats, World};

/// The file `truth.json` is written to, beside the CSV files.
pub const TRUTH_FILE: &str = "truth.json";

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A setting is out of range; the message names it and what is allowed.
    #[error("invalid generator setting {field}: {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    #[error(
        "cannot write {}: {source}; check that the directory is writable and has space",
        path.display()
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A bug in the generator, not in its input.
    #[error("internal error in the generator: {0}; please report it")]
    Internal(String),
}

/// Where a run is, for a progress bar. Reported after each chunk of customers is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub customers_done: u64,
    pub customers_total: u64,
    /// Data rows written so far, all files.
    pub rows_written: u64,
    /// Rows of signals.csv written so far.
    pub signals_written: u64,
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct GenSummary {
    /// Data rows per file name (headers not counted).
    pub rows: BTreeMap<&'static str, u64>,
    /// Bytes written, all files including truth.json.
    pub bytes: u64,
    pub truth: Truth,
    pub elapsed: Duration,
}

/// The canonical header of a file, as written (surveys get one `aspect_<name>` per aspect).
pub fn header(kind: RecordKind, cfg: &GenConfig) -> Vec<String> {
    let fixed: &[&str] = match kind {
        RecordKind::Customers => &[
            "customer_id",
            "name",
            "segment",
            "persona",
            "customer_since",
            "value_per_year",
            "white_glove",
            "churned_at",
        ],
        RecordKind::Products => &["product_id", "name", "category"],
        RecordKind::Agents => &["agent_id", "name", "team"],
        RecordKind::Signals => &[
            "signal_id",
            "at",
            "channel",
            "kind",
            "source",
            "customer_id",
            "product_id",
            "case_id",
            "agent_id",
            "stage",
            "topic",
            "text",
        ],
        RecordKind::Surveys => &[
            "response_id",
            "at",
            "customer_id",
            "product_id",
            "case_id",
            "agent_id",
            "channel",
            "nps",
            "csat",
            "ces",
            "overall",
        ],
        RecordKind::CaseEvents => &[
            "event_id", "case_id", "at", "activity", "agent_id", "team", "text",
        ],
    };
    let mut h: Vec<String> = fixed.iter().map(|s| (*s).to_string()).collect();
    if kind == RecordKind::Surveys {
        h.extend(cfg.aspects.iter().map(|a| format!("aspect_{}", a.name)));
        h.push("comment".into());
    }
    h
}

/// Writes the canonical files and `truth.json` into `out_dir` (created if missing), replacing
/// files of the same names. `progress` is called from the calling thread after each chunk.
pub fn generate(
    cfg: &GenConfig,
    out_dir: &Path,
    progress: &dyn Fn(Progress),
) -> Result<GenSummary, GenError> {
    let started = Instant::now();
    let resolved = cfg.resolve()?;
    let catalog = catalog::Catalog::load().map_err(GenError::Internal)?;
    let world = World::new(cfg, &resolved, catalog)
        .map_err(|(field, reason)| GenError::InvalidConfig { field, reason })?;
    std::fs::create_dir_all(out_dir).map_err(|source| GenError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut files = Files::create(out_dir, cfg)?;
    files.write_products(&world)?;
    files.write_agents(&world)?;

    let threads = match cfg.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .clamp(1, 64);
    let stats = run_chunks(&world, threads, &mut files, progress)?;
    let rows = files.rows.clone();
    let truth = build_truth(cfg, &world, &stats, &rows);
    let json = truth.to_json();
    let truth_path = out_dir.join(TRUTH_FILE);
    std::fs::write(&truth_path, json.as_bytes()).map_err(|source| GenError::Io {
        path: truth_path,
        source,
    })?;
    let bytes = files.finish() + json.len() as u64;
    Ok(GenSummary {
        rows,
        bytes,
        truth,
        elapsed: started.elapsed(),
    })
}

/// Chunk buffers each worker keeps in circulation (being filled, queued, being written).
const BUFFERS_PER_WORKER: usize = 3;

/// Generates chunks on `threads` workers (worker `w` takes chunks `w, w + threads, ...`) and
/// writes them in chunk order. Each worker's queue holds at most two finished chunks, so memory
/// stays bounded however many customers there are.
fn run_chunks(
    world: &World,
    threads: usize,
    files: &mut Files,
    progress: &dyn Fn(Progress),
) -> Result<Stats, GenError> {
    let n_chunks = world.chunks();
    let mut stats = Stats::new(world);
    std::thread::scope(|scope| {
        let mut queues = Vec::with_capacity(threads);
        let mut returns = Vec::with_capacity(threads);
        for worker in 0..threads {
            let (tx, rx) = sync_channel(2);
            // Written chunks go back to their worker so buffers are reused, not reallocated.
            let (back_tx, back_rx) = sync_channel::<sim::ChunkOut>(BUFFERS_PER_WORKER);
            queues.push(rx);
            returns.push(back_tx);
            scope.spawn(move || {
                let mut index = worker as u64;
                let mut made = 0;
                while index < n_chunks {
                    // The first few chunks get new buffers; after that the worker waits for one
                    // of its own written chunks to come back (the writer takes chunks in order,
                    // so one always does), which keeps memory flat and pages warm.
                    let recycled = if made < BUFFERS_PER_WORKER {
                        made += 1;
                        None
                    } else {
                        match back_rx.recv() {
                            Ok(b) => Some(b),
                            Err(_) => return,
                        }
                    };
                    // A send fails only when the writer has stopped (an IO error): stop too.
                    if tx.send(sim::chunk(world, index, recycled)).is_err() {
                        return;
                    }
                    index += threads as u64;
                }
            });
        }
        for index in 0..n_chunks {
            let worker = (index % threads as u64) as usize;
            let out = queues[worker]
                .recv()
                .map_err(|_| GenError::Internal(format!("worker for chunk {index} stopped")))?;
            files.write_chunk(&out)?;
            stats.merge(&out.stats);
            progress(Progress {
                customers_done: ((index + 1) * CHUNK).min(world.customers),
                customers_total: world.customers,
                rows_written: files.rows.values().sum(),
                signals_written: files.rows[RecordKind::Signals.file_name()],
            });
            // Never blocks: a worker has at most BUFFERS_PER_WORKER buffers in circulation. When
            // the worker has finished, the buffers are simply dropped.
            let _ = returns[worker].try_send(out);
        }
        Ok(stats)
    })
}

/// The six output files, with their row and byte counts.
struct Files {
    dir: PathBuf,
    handles: Vec<(RecordKind, File)>,
    rows: BTreeMap<&'static str, u64>,
    bytes: u64,
}

impl Files {
    fn create(dir: &Path, cfg: &GenConfig) -> Result<Files, GenError> {
        let mut f = Files {
            dir: dir.to_path_buf(),
            handles: Vec::new(),
            rows: BTreeMap::new(),
            bytes: 0,
        };
        for kind in [
            RecordKind::Customers,
            RecordKind::Products,
            RecordKind::Agents,
            RecordKind::Signals,
            RecordKind::Surveys,
            RecordKind::CaseEvents,
        ] {
            let path = dir.join(kind.file_name());
            let file = File::create(&path).map_err(|source| GenError::Io { path, source })?;
            f.handles.push((kind, file));
            f.rows.insert(kind.file_name(), 0);
            let mut line = header(kind, cfg).join(",");
            line.push('\n');
            f.write(kind, line.as_bytes(), 0)?;
        }
        Ok(f)
    }

    fn write(&mut self, kind: RecordKind, bytes: &[u8], rows: u64) -> Result<(), GenError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let Some((_, file)) = self.handles.iter_mut().find(|(k, _)| *k == kind) else {
            return Err(GenError::Internal(format!("no open file for {kind}")));
        };
        file.write_all(bytes).map_err(|source| GenError::Io {
            path: self.dir.join(kind.file_name()),
            source,
        })?;
        self.bytes += bytes.len() as u64;
        *self.rows.entry(kind.file_name()).or_insert(0) += rows;
        Ok(())
    }

    fn write_chunk(&mut self, c: &sim::ChunkOut) -> Result<(), GenError> {
        self.write(RecordKind::Customers, &c.customers, c.customer_rows)?;
        self.write(RecordKind::Signals, &c.signals, c.signal_rows)?;
        self.write(RecordKind::Surveys, &c.surveys, c.survey_rows)?;
        self.write(RecordKind::CaseEvents, &c.events, c.event_rows)
    }

    fn write_products(&mut self, w: &World) -> Result<(), GenError> {
        let mut b = Vec::new();
        for p in 0..w.product_count {
            let (name, category) = sim::product_name(p);
            sim::push_product_id(&mut b, p);
            b.push(b',');
            b.extend_from_slice(name.as_bytes());
            b.push(b',');
            b.extend_from_slice(category.as_bytes());
            b.push(b'\n');
        }
        self.write(RecordKind::Products, &b, u64::from(w.product_count))
    }

    fn write_agents(&mut self, w: &World) -> Result<(), GenError> {
        let mut b = Vec::new();
        for a in 0..w.agents {
            let (first, last) = sim::customer_name(u64::from(a) * 7 + 3);
            sim::push_agent_id(&mut b, a);
            b.push(b',');
            b.extend_from_slice(first.as_bytes());
            b.push(b' ');
            b.extend_from_slice(last.as_bytes());
            b.push(b',');
            b.extend_from_slice(TEAMS[sim::team_of(&w.teams, a)].as_bytes());
            b.push(b'\n');
        }
        self.write(RecordKind::Agents, &b, u64::from(w.agents))
    }

    /// Closes the files (unbuffered, so nothing is pending) and returns the bytes written. No
    /// fsync: the files are as durable as any other output of a command-line tool.
    fn finish(self) -> u64 {
        self.bytes
    }
}

/// Least squares from the normal equations (Gaussian elimination with partial pivoting);
/// None when they are singular (too few or constant responses).
fn solve(xtx: &[f64], xty: &[f64]) -> Option<Vec<f64>> {
    let n = xty.len();
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut row = xtx[i * n..(i + 1) * n].to_vec();
            row.push(xty[i]);
            row
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 * (1.0 + a[col][col].abs()) {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let x: Vec<f64> = (0..n).map(|i| a[i][n] / a[i][i]).collect();
    x.iter().all(|v| v.is_finite()).then_some(x)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn build_truth(
    cfg: &GenConfig,
    w: &World,
    st: &Stats,
    rows: &BTreeMap<&'static str, u64>,
) -> Truth {
    let signals = rows
        .get(RecordKind::Signals.file_name())
        .copied()
        .unwrap_or(0);
    let id = |no: u64| format!("C{no:0width$}", width = w.id_width);
    // Phi^-1(0.8): the top 20% of a lognormal(sigma) hold 1 - Phi(z - sigma) of its mass.
    let z80 = 0.841_621_233_572_914_3;
    let intended = |sigma: f64| round6(1.0 - rng::normal_cdf(z80 - sigma));
    let mut product_hist = BTreeMap::new();
    for c in &st.product_counts {
        *product_hist.entry(*c).or_insert(0) += 1;
    }
    let customer_contacts: u64 = st.customer_hist.iter().map(|(c, n)| c * n).sum();
    let pareto = Pareto {
        customers: ParetoShape {
            distribution: "lognormal".into(),
            sigma: cfg.customer_sigma,
            intended_top20_share: intended(cfg.customer_sigma),
            realised_top20_share: round6(truth::top20_share(&st.customer_hist, w.customers)),
            entities: w.customers,
            contacts: customer_contacts,
        },
        products: ParetoShape {
            distribution: "lognormal".into(),
            sigma: cfg.product_sigma,
            intended_top20_share: intended(cfg.product_sigma),
            realised_top20_share: round6(truth::top20_share(
                &product_hist,
                u64::from(w.product_count),
            )),
            entities: u64::from(w.product_count),
            contacts: st.product_counts.iter().sum(),
        },
    };
    let mut effects = Vec::new();
    if let Some((topic, week, mult)) = w.spike {
        let d0 = ((week - w.start) / DAY) as usize;
        let in_week: u64 = st.spike_daily[d0..d0 + 7].iter().sum();
        // Other full weeks, aligned with the spike week.
        let mut other = Vec::new();
        let mut d = d0 % 7;
        while d + 7 <= w.days {
            if d != d0 {
                other.push(st.spike_daily[d..d + 7].iter().sum::<u64>());
            }
            d += 7;
        }
        let mean = if other.is_empty() {
            0.0
        } else {
            other.iter().sum::<u64>() as f64 / other.len() as f64
        };
        effects.push(Effect::Spike {
            topic: w.cat.subtopics[topic].name.to_string(),
            week_start: date_of(week),
            week_end: date_of(week + 7 * DAY),
            multiplier: mult,
            realised_count_in_week: in_week,
            realised_mean_weekly_count_elsewhere: round6(mean),
        });
    }
    if let Some((topic, at, factor)) = w.improvement {
        let d = ((at - w.start) / DAY) as usize;
        let before: u64 = st.improvement_daily[..d].iter().sum();
        let after: u64 = st.improvement_daily[d..].iter().sum();
        let rate = |n: u64, days: usize| {
            if days == 0 {
                0.0
            } else {
                round6(7.0 * n as f64 / days as f64)
            }
        };
        let removed: u64 = st.improvement_removed_daily[d..].iter().sum();
        let true_change = if after + removed == 0 {
            0.0
        } else {
            round6(after as f64 / (after + removed) as f64 - 1.0)
        };
        effects.push(Effect::Improvement {
            topic: w.cat.subtopics[topic].name.to_string(),
            at: date_of(at),
            factor,
            realised_weekly_rate_before: rate(before, d),
            realised_weekly_rate_after: rate(after, w.days - d),
            true_change,
            signals_after: after,
            removed_after: removed,
        });
    }
    let share = |num: f64, den: u64| if den == 0 { 0.0 } else { num / den as f64 };
    if let Some((topic, at, share_)) = w.sentiment {
        effects.push(Effect::SentimentShift {
            topic: w.cat.subtopics[topic].name.to_string(),
            at: date_of(at),
            share: share_,
            true_change: round6(100.0 * share(st.sentiment_diff as f64, st.sentiment_after)),
            signals_after: st.sentiment_after,
            converted: st.sentiment_converted,
        });
    }
    if let Some((topic, at, factor)) = w.repeat {
        let rate = |c: [u64; 2]| share(c[1] as f64, c[0]);
        effects.push(Effect::RepeatShift {
            topic: w.cat.subtopics[topic].name.to_string(),
            at: date_of(at),
            factor,
            window_days: sim::REPEAT_WINDOW_DAYS,
            true_change: round6(100.0 * (rate(st.repeat_written) - rate(st.repeat_counterfactual))),
            contacts_after: st.repeat_written[0],
            dropped: st.repeat_dropped,
        });
    }
    if let Some((seg, at, shift)) = w.nps {
        effects.push(Effect::NpsShift {
            segment: sim::SEGMENTS[seg].to_string(),
            at: date_of(at),
            shift,
            true_change: round6(100.0 * share(st.nps_diff as f64, st.nps_after)),
            responses_after: st.nps_after,
        });
    }
    if let Some((stage, at, factor)) = w.stage_shift {
        let ratio = if st.stage_secs_unshifted > 0 {
            st.stage_secs as f64 / st.stage_secs_unshifted as f64 - 1.0
        } else {
            0.0
        };
        effects.push(Effect::StageTimeShift {
            stage: stage.to_string(),
            at: date_of(at),
            factor,
            true_change: round6(ratio),
            visits_after: st.stage_visits,
        });
    }
    if let Some((at, factor)) = w.season {
        effects.push(Effect::Season {
            at: date_of(at),
            factor,
        });
    }
    let mut realised_ols = BTreeMap::new();
    if let Some(beta) = solve(&st.xtx, &st.xty) {
        realised_ols.insert("intercept".to_string(), round6(beta[0]));
        for (a, b) in w.aspects.iter().zip(&beta[1..]) {
            realised_ols.insert(a.name.clone(), round6(*b));
        }
    }
    let named = |names: &[&str], counts: &[u64]| -> BTreeMap<String, u64> {
        names
            .iter()
            .zip(counts)
            .map(|(n, c)| ((*n).to_string(), *c))
            .collect()
    };
    let kinds: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
    let channels: Vec<&str> = CHANNELS.iter().map(|c| c.as_str()).collect();
    let sources = [
        hearken_model::Source::Customer.as_str(),
        hearken_model::Source::Employee.as_str(),
    ];
    let topics: Vec<&str> = w.cat.subtopics.iter().map(|s| s.name).collect();
    Truth {
        format: 1,
        generator: format!("hearken-gen {}", env!("CARGO_PKG_VERSION")),
        config: TruthConfig {
            customers: cfg.customers,
            months: cfg.months,
            seed: cfg.seed,
            start: date_of(w.start),
            end: date_of(w.end),
            signals_per_customer_month: cfg.signals_per_customer_month,
            products: cfg.products,
            agents: w.agents,
            customer_sigma: cfg.customer_sigma,
            product_sigma: cfg.product_sigma,
            labelled_topic_share: cfg.labelled_topic_share,
            monthly_churn: cfg.monthly_churn,
            stationary: cfg.stationary,
            noise: cfg.noise.as_ref().map(|n| NoiseTruth {
                sd: n.sd,
                rho: n.rho,
                common: n.common,
            }),
        },
        rows: rows.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
        signals_per_customer_month: round6(
            signals as f64 / (cfg.customers as f64 * f64::from(cfg.months)),
        ),
        driver_weights: w
            .aspects
            .iter()
            .map(|a| (a.name.clone(), a.weight))
            .collect(),
        drivers: Drivers {
            model: "overall = clamp(round(sum(weight * aspect) + normal(0, noise_sd)), 0, 10)"
                .into(),
            noise_sd: sim::OVERALL_NOISE_SD,
            responses: st.responses,
            realised_ols,
        },
        churned: st
            .churned
            .iter()
            .map(|(no, at)| Churned {
                customer_id: id(*no),
                churned_at: date_of(*at),
            })
            .collect(),
        churn: ChurnTruth {
            customers: st.churned.len() as u64,
            warning_days_before: sim::WARNING_DAYS,
            silent_days_before: sim::SILENT_DAYS,
        },
        effects,
        pareto,
        taxonomy: topics.iter().map(|s| (*s).to_string()).collect(),
        mix: Mix {
            kinds: named(&kinds, &st.kinds),
            channels: named(&channels, &st.channels),
            sources: named(&sources, &st.sources),
            stages: named(&STAGES, &st.stages),
            topics: named(&topics, &st.topics),
            labelled: st.labelled,
        },
        cases: CaseTruth {
            cases: st.cases,
            open_at_end: st.open_at_end,
            transfers: st.transfers,
            escalated: st.escalated,
            reopened: st.reopened,
            resolved_by_original_owner: st.resolved_by_owner,
            closed: st.closed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_recovers_a_known_system() {
        // x = [1, 2, 3] for A = [[2,1,0],[1,3,1],[0,1,4]].
        let a = [2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0];
        let x = [1.0, 2.0, 3.0];
        let b: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| a[i * 3 + j] * x[j]).sum())
            .collect();
        let got = solve(&a, &b).unwrap();
        for (g, e) in got.iter().zip(x) {
            assert!((g - e).abs() < 1e-9);
        }
        assert!(solve(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0]).is_none());
    }
}
