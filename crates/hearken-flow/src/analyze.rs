//! The flow figures: one linear pass over events ordered by (case, time, input order).
//!
//! Events are ordered with a counting sort by case code (stable, so input order survives) and a
//! stable sort by time inside each case that is out of order. The cases are then cut into chunks
//! of about equal event counts; each chunk folds into a [`Partial`] on its own thread and the
//! partials are merged. Medians and p90s are exact (selection over all values, linear
//! interpolation between the two nearest ranks, as numpy's default `percentile`).

use std::collections::BTreeMap;
use std::thread;

use chrono::{DateTime, Datelike};

use crate::config::{FlowConfig, GroupBy, Period};
use crate::hash::FxHashMap;
use crate::log::{Dict, EventLog, NONE};
use crate::query::Dimension;
use crate::report::{
    AgentRow, CommentSummary, EscalationSummary, FlowGroup, FlowGroups, FlowReport, HandoverRow,
    StageRow, TeamRow, TransitionRow,
};
use crate::rules::{
    Matcher, RuleInForce, RuleSource, RulesInForce, describe_configured, describe_default_closing,
    describe_default_escalation, fold,
};

const MS_PER_HOUR: f64 = 3_600_000.0;
/// Below this many events a second thread costs more than it saves.
const PARALLEL_MIN_EVENTS: usize = 200_000;
/// More groups than this are folded into "(other)": a report of thousands of groups is read by
/// nobody, and each group costs its own tables.
const MAX_GROUPS: usize = 1000;
const POSITIVE: f32 = 0.05;
const NEGATIVE: f32 = -0.05;

/// Every flow figure of the log, with per-group figures when `config.group_by` is set.
///
/// Pure and total: any log gives a report; what could not be done as asked is said in
/// [`FlowReport::notes`] (a grouping the log has no values for puts every case in `(none)`).
/// [`crate::run_query`] refuses such a grouping instead, and selects cases.
pub fn analyze(log: &EventLog, config: &FlowConfig) -> FlowReport {
    let ctx = Context::new(log, config);
    let all = ctx.all_cases();
    let mut notes = Vec::new();
    let groups = config.group_by.as_ref().map(|by| {
        let values = ctx.group_values(by).unwrap_or_else(|e| {
            notes.push(format!("{e}; every case is in group (none)"));
            CaseValues::all_none(ctx.n_cases)
        });
        (by.label(), values)
    });
    ctx.full_report(&all, groups, notes)
}

/// One value per case (indexed by case code; `NONE` where the case has none) and the names of
/// the values.
pub(crate) struct CaseValues {
    pub(crate) names: Vec<String>,
    pub(crate) of_case: Vec<u32>,
}

impl CaseValues {
    fn all_none(n_cases: usize) -> CaseValues {
        CaseValues {
            names: Vec::new(),
            of_case: vec![NONE; n_cases],
        }
    }

    pub(crate) fn name(&self, code: u32) -> &str {
        self.names
            .get(code as usize)
            .map_or("(none)", String::as_str)
    }
}

/// Why a case dimension has no values in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingDimension {
    pub(crate) dimension: String,
    pub(crate) attributes: Vec<String>,
    pub(crate) unkept: Vec<String>,
}

impl std::fmt::Display for MissingDimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.dimension.as_str() {
            "team" => "no event of the log names a team (org:group, org:role or a team column)",
            "agent" => "no event of the log names a resource (org:resource or an agent column)",
            _ => "",
        };
        if what.is_empty() {
            write!(f, "the log has no {} attribute", self.dimension)?;
        } else {
            f.write_str(what)?;
        }
        if self.attributes.is_empty() {
            f.write_str("; it has no case attributes")?;
        } else {
            write!(
                f,
                "; the case attributes it has: {}",
                self.attributes.join(", ")
            )?;
        }
        if !self.unkept.is_empty() {
            write!(
                f,
                " (event attributes not used for cases: {})",
                self.unkept.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Comments of one case in one stage (the per-case table behind [`StageRow`]'s comment columns).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseStageComments {
    pub case: String,
    pub stage: String,
    pub comments: u64,
    pub positive: u64,
    pub negative: u64,
}

/// Comments accumulated per stage per case, in case order then first visit of the stage; only
/// (case, stage) pairs with at least one comment. For export next to [`analyze`]'s report.
pub fn comments_by_case_stage(log: &EventLog, config: &FlowConfig) -> Vec<CaseStageComments> {
    let ctx = Context::new(log, config);
    if ctx.comment.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut row_of: FxHashMap<u32, usize> = FxHashMap::default();
    for c in 0..ctx.n_cases as u32 {
        row_of.clear();
        for &e in ctx.case_events(c) {
            let kind = ctx.comment[e as usize];
            if kind == 0 {
                continue;
            }
            let s = ctx.stage_of[log.activity[e as usize] as usize];
            let at = *row_of.entry(s).or_insert_with(|| {
                out.push(CaseStageComments {
                    case: log.cases.name(c).unwrap_or("").to_string(),
                    stage: ctx.stage_names.get(s as usize).cloned().unwrap_or_default(),
                    comments: 0,
                    positive: 0,
                    negative: 0,
                });
                out.len() - 1
            });
            let row = &mut out[at];
            row.comments += 1;
            row.positive += u64::from(kind == 2);
            row.negative += u64::from(kind == 3);
        }
    }
    out
}

/// Everything the per-case pass reads, computed once per log.
pub(crate) struct Context<'a> {
    log: &'a EventLog,
    pub(crate) n_cases: usize,
    /// Activity code -> stage code.
    stage_of: Vec<u32>,
    stage_names: Vec<String>,
    /// Per activity code.
    escalation: Vec<bool>,
    closing: Vec<bool>,
    /// Some activity of the log is an escalation / a closing one.
    escalation_recognised: bool,
    closing_recognised: bool,
    rules: RulesInForce,
    /// Configured escalation or closing names that match nothing in the log.
    rule_notes: Vec<String>,
    /// Event indices ordered by (case, time, input order).
    order: Vec<u32>,
    /// Events of case c are `order[case_off[c]..case_off[c + 1]]`.
    case_off: Vec<u32>,
    /// Per event: 0 no comment, 1 comment not scored or neutral, 2 positive, 3 negative, 4 scored
    /// neutral. Empty when the log has no comments.
    comment: Vec<u8>,
    max_listed: usize,
}

impl<'a> Context<'a> {
    pub(crate) fn new(log: &'a EventLog, config: &FlowConfig) -> Context<'a> {
        let n_cases = log.cases.len();
        let (order, case_off) = order_events(&log.case, &log.time_ms, n_cases);
        let mut stages = Dict::default();
        let stage_of: Vec<u32> = log
            .activities
            .names()
            .map(|a| stages.intern(config.lifecycle.get(a).map_or(a, String::as_str)))
            .collect();
        let stage_names: Vec<String> = stages.names().map(str::to_string).collect();
        let flag = |m: &Matcher| -> Vec<bool> {
            log.activities
                .names()
                .zip(&stage_of)
                .map(|(a, &s)| {
                    let stage = stage_names.get(s as usize).map_or("", String::as_str);
                    m.matches(a) || m.matches(stage)
                })
                .collect()
        };
        let esc_rule = Matcher::escalation(config.escalation.as_deref());
        let close_rule = Matcher::closing(config.closing.as_deref());
        let escalation = flag(&esc_rule);
        let closing = flag(&close_rule);
        let matched = |flags: &[bool]| -> Vec<String> {
            let mut v: Vec<String> = log
                .activities
                .names()
                .zip(flags)
                .filter(|(_, f)| **f)
                .map(|(a, _)| a.to_string())
                .collect();
            v.sort();
            v
        };
        let in_force =
            |m: &Matcher, configured: Option<&[String]>, flags: &[bool], default: String| {
                RuleInForce {
                    source: m.source(),
                    rule: configured.map_or(default, describe_configured),
                    matched: matched(flags),
                }
            };
        let rules = RulesInForce {
            escalation: in_force(
                &esc_rule,
                config.escalation.as_deref(),
                &escalation,
                describe_default_escalation(),
            ),
            closing: in_force(
                &close_rule,
                config.closing.as_deref(),
                &closing,
                describe_default_closing(),
            ),
        };
        let mut rule_notes = Vec::new();
        for (what, names) in [
            ("escalation", config.escalation.as_deref()),
            ("closing", config.closing.as_deref()),
        ] {
            for n in names.unwrap_or_default() {
                let m = Matcher::Names(vec![fold(n)]);
                let found = log.activities.names().any(|a| m.matches(a))
                    || stage_names.iter().any(|s| m.matches(s));
                if !found {
                    rule_notes.push(format!(
                        "{what} activity '{n}' is not an activity or stage of this log"
                    ));
                }
            }
        }
        Context {
            log,
            n_cases,
            stage_of,
            stage_names,
            escalation_recognised: escalation.iter().any(|&x| x),
            closing_recognised: closing.iter().any(|&x| x),
            escalation,
            closing,
            rules,
            rule_notes,
            order,
            case_off,
            comment: comment_kinds(log),
            max_listed: config.max_listed_cases,
        }
    }

    /// Every case that has an event, in case-code order.
    pub(crate) fn all_cases(&self) -> Vec<u32> {
        (0..self.n_cases)
            .filter(|&c| self.case_len(c) > 0)
            .map(|c| c as u32)
            .collect()
    }

    /// The report of `cases` with its groups (`groups`: the label and each case's group), the
    /// rules in force and the notes.
    pub(crate) fn full_report(
        &self,
        cases: &[u32],
        groups: Option<(String, CaseValues)>,
        mut notes: Vec<String>,
    ) -> FlowReport {
        let mut report = self.report(cases, None);
        if let Some((by, values)) = groups {
            let (names, case_group) = self.fold_groups(&by, values, cases, &mut notes);
            let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); names.len()];
            for &c in cases {
                buckets[case_group[c as usize] as usize].push(c);
            }
            let mut groups: Vec<FlowGroup> = names
                .into_iter()
                .zip(buckets)
                .filter(|(_, b)| !b.is_empty())
                .map(|(key, cases)| FlowGroup {
                    key,
                    name: None,
                    report: self.report(&cases, None),
                })
                .collect();
            groups.sort_by(|a, b| a.key.cmp(&b.key));
            report.groups = Some(FlowGroups { by, groups });
        }
        notes.extend(self.rule_notes.iter().cloned());
        if !self.escalation_recognised && self.rules.escalation.source == RuleSource::Default {
            notes.push(
                "no activity of this log is an escalation by the default rule: name the \
                 escalation activities (flow config `escalation`, or --escalation)"
                    .to_string(),
            );
        }
        if !self.closing_recognised && self.rules.closing.source == RuleSource::Default {
            notes.push(
                "no activity of this log closes a case by the default rule, so open cases are \
                 not counted: name the closing activities (flow config `closing`, or --closing)"
                    .to_string(),
            );
        }
        report.rules = Some(self.rules.clone());
        report.notes = notes;
        report
    }

    fn case_len(&self, c: usize) -> usize {
        (self.case_off[c + 1] - self.case_off[c]) as usize
    }

    pub(crate) fn case_events(&self, c: u32) -> &[u32] {
        let c = c as usize;
        &self.order[self.case_off[c] as usize..self.case_off[c + 1] as usize]
    }

    /// The figures for a set of cases (all, or one group), on as many threads as pay off
    /// (or exactly `threads`, for tests).
    fn report(&self, cases: &[u32], threads: Option<usize>) -> FlowReport {
        let events: usize = cases.iter().map(|&c| self.case_len(c as usize)).sum();
        let threads = if let Some(t) = threads {
            t
        } else if events >= PARALLEL_MIN_EVENTS {
            thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8)
        } else {
            1
        };
        let chunks = split_by_events(cases, threads, |c| self.case_len(c as usize));
        let mut partials: Vec<Partial> = if chunks.len() <= 1 {
            vec![self.fold(cases, events)]
        } else {
            thread::scope(|s| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|chunk| s.spawn(move || self.fold(chunk, events)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        let mut total = partials.remove(0);
        for p in partials {
            total.merge(p);
        }
        self.finish(total)
    }

    fn fold(&self, cases: &[u32], subset_events: usize) -> Partial {
        let log = self.log;
        let n_stages = self.stage_names.len();
        let mut p = Partial::new(
            n_stages,
            log.resources.len(),
            log.teams.len(),
            subset_events,
        );
        // Per-stage scratch, stamped with case + 1 so it never needs clearing.
        let mut seen = vec![0u32; n_stages];
        let mut count_in_case = vec![0u32; n_stages];
        let mut comment_seen = vec![0u32; n_stages];
        let mut positive_seen = vec![0u32; n_stages];
        let mut negative_seen = vec![0u32; n_stages];
        let has_comments = !self.comment.is_empty();
        for &c in cases {
            let evs = self.case_events(c);
            let (Some(&first), Some(&last)) = (evs.first(), evs.last()) else {
                continue;
            };
            let stamp = c + 1;
            p.events += evs.len() as u64;
            p.cases += 1;
            let t0 = log.time_ms[first as usize];
            p.case_durations
                .push(log.time_ms[last as usize].saturating_sub(t0));
            let mut case_loops = 0u64;
            let mut case_transfers = 0u64;
            let mut case_escalations = 0u64;
            let mut prev: Option<(u32, u32, u32, i64)> = None; // (stage, activity, resource, time)
            for &e in evs {
                let e = e as usize;
                let act = log.activity[e];
                let s = self.stage_of[act as usize];
                let su = s as usize;
                let res = log.resource[e];
                let t = log.time_ms[e];
                p.stage_events[su] += 1;
                if seen[su] != stamp {
                    seen[su] = stamp;
                    count_in_case[su] = 1;
                    p.stage_cases[su] += 1;
                } else {
                    count_in_case[su] += 1;
                    if count_in_case[su] == 2 {
                        p.rework[su] += 1;
                    }
                    if prev.is_some_and(|(ps, ..)| ps != s) {
                        p.loops[su] += 1;
                        case_loops += 1;
                    }
                }
                if res != NONE {
                    p.agent_events[res as usize] += 1;
                }
                if let Some((ps, pact, pres, pt)) = prev {
                    // Saturating: a time near the ends of i64 must not overflow.
                    let dt = t.saturating_sub(pt);
                    p.dfg.add(ps, s, dt);
                    p.stage_durations[ps as usize].push(dt);
                    if pres != NONE && res != NONE && pres != res {
                        p.handover.add(pres, res, 0);
                        p.agent_out[pres as usize] += 1;
                        p.agent_in[res as usize] += 1;
                        case_transfers += 1;
                    }
                    if self.escalation[act as usize] && !self.escalation[pact as usize] {
                        case_escalations += 1;
                    }
                } else if self.escalation[act as usize] {
                    case_escalations += 1;
                }
                if has_comments {
                    let k = self.comment[e];
                    if k != 0 {
                        p.comments[su] += 1;
                        if comment_seen[su] != stamp {
                            comment_seen[su] = stamp;
                            p.comment_cases[su] += 1;
                        }
                        if k == 2 {
                            p.positive[su] += 1;
                            if positive_seen[su] != stamp {
                                positive_seen[su] = stamp;
                                p.positive_cases[su] += 1;
                            }
                        } else if k == 3 {
                            p.negative[su] += 1;
                            if negative_seen[su] != stamp {
                                negative_seen[su] = stamp;
                                p.negative_cases[su] += 1;
                            }
                        }
                        if k >= 2 {
                            p.scored += 1;
                        }
                    }
                }
                prev = Some((s, act, res, t));
            }
            p.loops_total += case_loops;
            p.cases_with_loops += u64::from(case_loops > 0);
            p.transfers += case_transfers;
            p.cases_with_transfers += u64::from(case_transfers > 0);
            // Owners are the first and last *known* resources: an event without one (a system
            // step) neither owns the case nor hands it over.
            let known = |&&e: &&u32| log.resource[e as usize] != NONE;
            let first_owned = evs.iter().find(known);
            let last_owned = evs.iter().rev().find(known);
            if let (Some(&fe), Some(&le)) = (first_owned, last_owned) {
                let first_res = log.resource[fe as usize];
                let resolved = u64::from(first_res == log.resource[le as usize]);
                p.first_owner_cases += 1;
                p.first_owner_resolved += resolved;
                p.agent_fo_cases[first_res as usize] += 1;
                p.agent_fo_resolved[first_res as usize] += resolved;
                let team = log.team[fe as usize];
                let ti = if team == NONE {
                    p.team_fo_cases.len() - 1
                } else {
                    team as usize
                };
                p.team_fo_cases[ti] += 1;
                p.team_fo_resolved[ti] += resolved;
            } else {
                p.first_owner_unknown += 1;
            }
            let open = !self.closing[log.activity[last as usize] as usize];
            p.open_cases += u64::from(open);
            if case_escalations > 0 {
                p.escalations += case_escalations;
                p.escalated_cases += 1;
                if open {
                    p.open_escalated += 1;
                    if p.open_escalated_ids.len() < self.max_listed {
                        p.open_escalated_ids.push(c);
                    }
                }
            }
        }
        p
    }

    fn finish(&self, mut p: Partial) -> FlowReport {
        let log = self.log;
        let name = |d: &Dict, code: usize| d.name(code as u32).unwrap_or("").to_string();
        let stage = |s: usize| self.stage_names.get(s).cloned().unwrap_or_default();
        let cases = p.cases;
        let per_case = |x: u64| {
            if cases == 0 {
                0.0
            } else {
                x as f64 / cases as f64
            }
        };
        let pct = |num: u64, den: u64| (den > 0).then(|| 100.0 * num as f64 / den as f64);

        let mut transitions: Vec<TransitionRow> = Vec::new();
        let mut dfg_total = 0;
        p.dfg.for_each(|a, b, count, sum| {
            dfg_total += count;
            transitions.push(TransitionRow {
                from: stage(a as usize),
                to: stage(b as usize),
                count,
                mean_hours: sum as f64 / count as f64 / MS_PER_HOUR,
            });
        });
        transitions.sort_by(|x, y| {
            y.count
                .cmp(&x.count)
                .then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to)))
        });

        let mut handovers: Vec<HandoverRow> = Vec::new();
        p.handover.for_each(|a, b, count, _| {
            handovers.push(HandoverRow {
                from: name(&log.resources, a as usize),
                to: name(&log.resources, b as usize),
                transfers: count,
                from_name: None,
                to_name: None,
            });
        });
        handovers.sort_by(|x, y| {
            y.transfers
                .cmp(&x.transfers)
                .then_with(|| (&x.from, &x.to).cmp(&(&y.from, &y.to)))
        });

        let rework_cases: BTreeMap<String, u64> = p
            .rework
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (stage(s), *n))
            .collect();

        let mut stages: Vec<StageRow> = Vec::new();
        for (s, durations) in p.stage_durations.iter_mut().enumerate() {
            if p.stage_events[s] == 0 {
                continue;
            }
            let total_ms: f64 = durations.iter().map(|&d| d as f64).sum();
            let n = durations.len();
            stages.push(StageRow {
                stage: stage(s),
                events: p.stage_events[s],
                cases: p.stage_cases[s],
                rework_cases: p.rework[s],
                loops: p.loops[s],
                intervals: n as u64,
                median_hours: quantile(durations, 0.5).map(|v| v / MS_PER_HOUR),
                p90_hours: quantile(durations, 0.9).map(|v| v / MS_PER_HOUR),
                mean_hours: (n > 0).then(|| total_ms / n as f64 / MS_PER_HOUR),
                total_hours: total_ms / MS_PER_HOUR,
                comments: p.comments[s],
                positive_comments: p.positive[s],
                negative_comments: p.negative[s],
                cases_with_comments: p.comment_cases[s],
                cases_with_positive: p.positive_cases[s],
                cases_with_negative: p.negative_cases[s],
            });
        }
        stages.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.stage.cmp(&b.stage)));

        let mut agents: Vec<AgentRow> = (0..log.resources.len())
            .filter(|&r| p.agent_events[r] > 0)
            .map(|r| AgentRow {
                agent: name(&log.resources, r),
                name: None,
                team: None,
                events: p.agent_events[r],
                transfers_out: p.agent_out[r],
                transfers_in: p.agent_in[r],
                first_owner_cases: p.agent_fo_cases[r],
                first_owner_resolved: p.agent_fo_resolved[r],
                first_owner_resolution_pct: pct(p.agent_fo_resolved[r], p.agent_fo_cases[r]),
            })
            .collect();
        agents.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.agent.cmp(&b.agent)));

        let mut teams: Vec<TeamRow> = (0..p.team_fo_cases.len())
            .filter(|&t| p.team_fo_cases[t] > 0)
            .map(|t| TeamRow {
                team: if t == log.teams.len() {
                    "(none)".to_string()
                } else {
                    name(&log.teams, t)
                },
                first_owner_cases: p.team_fo_cases[t],
                first_owner_resolved: p.team_fo_resolved[t],
                first_owner_resolution_pct: pct(p.team_fo_resolved[t], p.team_fo_cases[t]),
            })
            .collect();
        teams.sort_by(|a, b| {
            b.first_owner_cases
                .cmp(&a.first_owner_cases)
                .then_with(|| a.team.cmp(&b.team))
        });

        let case_durations = &mut p.case_durations;
        let mean_case = (!case_durations.is_empty()).then(|| {
            case_durations.iter().map(|&d| d as f64).sum::<f64>()
                / case_durations.len() as f64
                / MS_PER_HOUR
        });
        let mut open_ids = p.open_escalated_ids;
        open_ids.sort_unstable();
        open_ids.truncate(self.max_listed);
        FlowReport {
            events: p.events,
            cases,
            dfg_edges: transitions.len() as u64,
            dfg_total,
            rework_cases,
            median_case_duration_hours: quantile(case_durations, 0.5).map(|v| v / MS_PER_HOUR),
            p90_case_duration_hours: quantile(case_durations, 0.9).map(|v| v / MS_PER_HOUR),
            mean_case_duration_hours: mean_case,
            transfers_total: p.transfers,
            transfers_per_case: per_case(p.transfers),
            cases_with_transfers: p.cases_with_transfers,
            handover_pairs: handovers.len() as u64,
            first_owner_resolution_pct: pct(p.first_owner_resolved, p.first_owner_cases),
            first_owner_cases: p.first_owner_cases,
            first_owner_resolved: p.first_owner_resolved,
            first_owner_unknown: p.first_owner_unknown,
            loops_total: p.loops_total,
            cases_with_loops: p.cases_with_loops,
            open_cases: self.closing_recognised.then_some(p.open_cases),
            stages,
            agents,
            teams,
            transitions,
            handovers,
            escalation: EscalationSummary {
                recognised: self.escalation_recognised,
                escalations_total: p.escalations,
                escalations_per_case: per_case(p.escalations),
                escalated_cases: p.escalated_cases,
                escalation_rate_pct: pct(p.escalated_cases, cases),
                open_escalated_cases: self.closing_recognised.then_some(p.open_escalated),
                open_escalated_case_ids: if self.closing_recognised {
                    open_ids
                        .iter()
                        .map(|&c| name(&log.cases, c as usize))
                        .collect()
                } else {
                    Vec::new()
                },
            },
            comments: CommentSummary {
                comments: p.comments.iter().sum(),
                scored: p.scored,
                positive: p.positive.iter().sum(),
                negative: p.negative.iter().sum(),
            },
            groups: None,
            selection: None,
            rules: None,
            notes: Vec::new(),
        }
    }

    /// The first event (time order) of case `c` for which `pick` gives a value.
    fn first_value(&self, c: u32, pick: impl Fn(usize) -> u32) -> u32 {
        self.case_events(c)
            .iter()
            .map(|&e| pick(e as usize))
            .find(|&v| v != NONE)
            .unwrap_or(NONE)
    }

    /// The last event (time order) of case `c` for which `pick` gives a value.
    fn last_value(&self, c: u32, pick: impl Fn(usize) -> u32) -> u32 {
        self.case_events(c)
            .iter()
            .rev()
            .map(|&e| pick(e as usize))
            .find(|&v| v != NONE)
            .unwrap_or(NONE)
    }

    /// Each case's value of `dim` (see [`Dimension`]), or why the log has none.
    pub(crate) fn dimension_values(&self, dim: &Dimension) -> Result<CaseValues, MissingDimension> {
        let log = self.log;
        let missing = || MissingDimension {
            dimension: dim.label().to_string(),
            attributes: log
                .attributes
                .iter()
                .filter(|a| !a.dict.is_empty())
                .map(|a| a.name.clone())
                .collect(),
            unkept: log.unkept.clone(),
        };
        let (dict, of_case): (&Dict, Vec<u32>) = match dim {
            Dimension::Team => {
                if log.teams.is_empty() {
                    return Err(missing());
                }
                let v = (0..self.n_cases as u32)
                    .map(|c| self.last_value(c, |e| log.team[e]))
                    .collect();
                (&log.teams, v)
            }
            Dimension::Agent => {
                if log.resources.is_empty() {
                    return Err(missing());
                }
                let v = (0..self.n_cases as u32)
                    .map(|c| self.first_value(c, |e| log.resource[e]))
                    .collect();
                (&log.resources, v)
            }
            Dimension::Attribute(name) => {
                let Some(col) = log.attribute(name).filter(|c| !c.dict.is_empty()) else {
                    return Err(missing());
                };
                let v = (0..self.n_cases as u32)
                    .map(|c| self.first_value(c, |e| col.codes.get(e).copied().unwrap_or(NONE)))
                    .collect();
                (&col.dict, v)
            }
        };
        Ok(CaseValues {
            names: dict.names().map(str::to_string).collect(),
            of_case,
        })
    }

    /// Each case's group under `by`.
    pub(crate) fn group_values(&self, by: &GroupBy) -> Result<CaseValues, MissingDimension> {
        let dim = match by {
            GroupBy::Period(period) => return Ok(self.period_values(*period)),
            GroupBy::Team => Dimension::Team,
            GroupBy::Agent => Dimension::Agent,
            GroupBy::Attribute(a) => Dimension::Attribute(a.clone()),
        };
        self.dimension_values(&dim)
    }

    /// The calendar period (UTC) of each case's first event.
    fn period_values(&self, period: Period) -> CaseValues {
        let log = self.log;
        let mut names = Dict::default();
        let mut by_day: FxHashMap<i64, u32> = FxHashMap::default();
        let of_case = (0..self.n_cases as u32)
            .map(|c| match self.case_events(c).first() {
                Some(&e) => {
                    let ms = log.time_ms[e as usize];
                    *by_day
                        .entry(ms.div_euclid(86_400_000))
                        .or_insert_with(|| names.intern(&period_key(period, ms)))
                }
                None => NONE,
            })
            .collect();
        CaseValues {
            names: names.names().map(str::to_string).collect(),
            of_case,
        }
    }

    /// The group names and each case's group index: cases without a value go to `(none)`, and
    /// past [`MAX_GROUPS`] the smallest groups fold into `(other)`.
    fn fold_groups(
        &self,
        by: &str,
        values: CaseValues,
        cases: &[u32],
        notes: &mut Vec<String>,
    ) -> (Vec<String>, Vec<u32>) {
        let mut names = Dict::default();
        let mut remap_value: Vec<u32> = vec![NONE; values.names.len()];
        let mut case_group = vec![0u32; self.n_cases];
        for &c in cases {
            let v = values.of_case[c as usize];
            let g = match remap_value.get_mut(v as usize) {
                Some(slot) if *slot != NONE => *slot,
                Some(slot) => {
                    *slot = names.intern(values.name(v));
                    *slot
                }
                None => names.intern("(none)"),
            };
            case_group[c as usize] = g;
        }
        let mut names: Vec<String> = names.names().map(str::to_string).collect();
        if names.len() > MAX_GROUPS {
            let mut sizes = vec![0u64; names.len()];
            for &c in cases {
                sizes[case_group[c as usize] as usize] += 1;
            }
            let mut rank: Vec<usize> = (0..names.len()).collect();
            rank.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
            let other = (MAX_GROUPS - 1) as u32;
            let mut remap = vec![other; names.len()];
            for (new, &old) in rank.iter().take(MAX_GROUPS - 1).enumerate() {
                remap[old] = new as u32;
            }
            let mut kept: Vec<String> = rank
                .iter()
                .take(MAX_GROUPS - 1)
                .map(|&g| names[g].clone())
                .collect();
            kept.push("(other)".to_string());
            notes.push(format!(
                "{} groups by {by}: the {} largest are shown, the rest are in (other)",
                names.len(),
                MAX_GROUPS - 1
            ));
            for &c in cases {
                let g = &mut case_group[c as usize];
                *g = remap[*g as usize];
            }
            names = kept;
        }
        (names, case_group)
    }
}

fn period_key(period: Period, ms: i64) -> String {
    let Some(dt) = DateTime::from_timestamp_millis(ms) else {
        return "(out of range)".to_string();
    };
    match period {
        Period::Day => dt.format("%Y-%m-%d").to_string(),
        Period::Week => {
            let w = dt.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => dt.format("%Y-%m").to_string(),
        Period::Quarter => format!("{}-Q{}", dt.year(), dt.month0() / 3 + 1),
        Period::Year => dt.format("%Y").to_string(),
    }
}

/// Per-event comment kind (see [`Context::comment`]); empty when the log has no comment at all.
fn comment_kinds(log: &EventLog) -> Vec<u8> {
    if log.texts.is_empty() && log.sentiment.is_none() {
        return Vec::new();
    }
    let mut kind = vec![0u8; log.len()];
    for (i, _) in &log.texts {
        kind[*i as usize] = 1;
    }
    if let Some(scores) = &log.sentiment {
        for (k, s) in kind.iter_mut().zip(scores) {
            if let Some(s) = s.filter(|s| s.is_finite()) {
                *k = if s >= POSITIVE {
                    2
                } else if s <= NEGATIVE {
                    3
                } else {
                    4
                };
            }
        }
    }
    kind
}

/// Event indices ordered by (case, time, input order), and the offset of each case's run.
fn order_events(case: &[u32], time: &[i64], n_cases: usize) -> (Vec<u32>, Vec<u32>) {
    let mut off = vec![0u32; n_cases + 1];
    for &c in case {
        off[c as usize + 1] += 1;
    }
    for i in 0..n_cases {
        off[i + 1] += off[i];
    }
    let mut next: Vec<u32> = off[..n_cases].to_vec();
    let mut order = vec![0u32; case.len()];
    for (i, &c) in case.iter().enumerate() {
        let slot = &mut next[c as usize];
        // The log holds at most MAX_EVENTS (< u32::MAX) events, so i fits.
        order[*slot as usize] = i as u32;
        *slot += 1;
    }
    drop(next);
    for c in 0..n_cases {
        let run = &mut order[off[c] as usize..off[c + 1] as usize];
        if !run.is_sorted_by_key(|&e| time[e as usize]) {
            // Stable: events at the same time keep their input order.
            run.sort_by_key(|&e| time[e as usize]);
        }
    }
    (order, off)
}

/// Cuts `cases` into at most `parts` runs of about equal event counts.
fn split_by_events(cases: &[u32], parts: usize, len: impl Fn(u32) -> usize) -> Vec<&[u32]> {
    if parts <= 1 || cases.len() < 2 {
        return vec![cases];
    }
    let total: usize = cases.iter().map(|&c| len(c)).sum();
    let per = total.div_ceil(parts).max(1);
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    let mut acc = 0;
    for (i, &c) in cases.iter().enumerate() {
        acc += len(c);
        if acc >= per && out.len() + 1 < parts {
            out.push(&cases[start..=i]);
            start = i + 1;
            acc = 0;
        }
    }
    if start < cases.len() {
        out.push(&cases[start..]);
    }
    out
}

/// The q-quantile of `v` with linear interpolation between ranks (numpy's default). Reorders `v`.
fn quantile(v: &mut [i64], q: f64) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, a, right) = v.select_nth_unstable(lo);
    let a = *a as f64;
    match right.iter().min() {
        Some(&b) if frac > 0.0 => Some(a + (b as f64 - a) * frac),
        _ => Some(a),
    }
}

/// Counts of (a, b) code pairs with a sum of durations: a dense matrix when the codes are few
/// compared with the events counted, a hash map otherwise (thousands of agents in a small group).
enum PairCounter {
    Dense {
        k: usize,
        count: Vec<u64>,
        sum: Vec<i64>,
    },
    Sparse(FxHashMap<u64, (u64, i64)>),
}

/// Most cells of a dense pair table (16 MiB of counts and sums).
const DENSE_MAX_CELLS: usize = 1 << 20;

impl PairCounter {
    fn new(k: usize, events: usize) -> PairCounter {
        let cells = k.saturating_mul(k);
        // Dense while the table stays small (16 bytes a cell, one table per thread): a log
        // whose agents grow with its size (thousands of agents, tens of thousands of pairs
        // used) would otherwise zero and scan hundreds of MB, growing with the square of the
        // agents, where a map holds only the pairs seen.
        if cells <= DENSE_MAX_CELLS && cells <= events.max(1024).saturating_mul(4) {
            PairCounter::Dense {
                k,
                count: vec![0; cells],
                sum: vec![0; cells],
            }
        } else {
            PairCounter::Sparse(FxHashMap::default())
        }
    }

    #[inline]
    fn add(&mut self, a: u32, b: u32, dt: i64) {
        match self {
            PairCounter::Dense { k, count, sum } => {
                let i = a as usize * *k + b as usize;
                count[i] += 1;
                sum[i] = sum[i].saturating_add(dt);
            }
            PairCounter::Sparse(m) => {
                let e = m.entry(u64::from(a) << 32 | u64::from(b)).or_insert((0, 0));
                e.0 += 1;
                e.1 = e.1.saturating_add(dt);
            }
        }
    }

    fn for_each(&self, mut f: impl FnMut(u32, u32, u64, i64)) {
        match self {
            PairCounter::Dense { k, count, sum } => {
                for (i, (&c, &s)) in count.iter().zip(sum).enumerate() {
                    if c > 0 {
                        f((i / *k) as u32, (i % *k) as u32, c, s);
                    }
                }
            }
            PairCounter::Sparse(m) => {
                for (&key, &(c, s)) in m {
                    f((key >> 32) as u32, key as u32, c, s);
                }
            }
        }
    }

    fn merge(&mut self, other: PairCounter) {
        match (self, other) {
            (
                PairCounter::Dense { count, sum, .. },
                PairCounter::Dense {
                    count: c2, sum: s2, ..
                },
            ) if count.len() == c2.len() => {
                for (a, b) in count.iter_mut().zip(c2) {
                    *a += b;
                }
                for (a, b) in sum.iter_mut().zip(s2) {
                    *a = a.saturating_add(b);
                }
            }
            (this, other) => other.for_each(|a, b, c, s| match this {
                PairCounter::Dense { k, count, sum } => {
                    let i = a as usize * *k + b as usize;
                    count[i] += c;
                    sum[i] = sum[i].saturating_add(s);
                }
                PairCounter::Sparse(m) => {
                    let e = m.entry(u64::from(a) << 32 | u64::from(b)).or_insert((0, 0));
                    e.0 += c;
                    e.1 = e.1.saturating_add(s);
                }
            }),
        }
    }
}

/// A chunk's share of every figure; partials of disjoint case sets merge by addition.
struct Partial {
    events: u64,
    cases: u64,
    dfg: PairCounter,
    handover: PairCounter,
    stage_events: Vec<u64>,
    stage_cases: Vec<u64>,
    rework: Vec<u64>,
    loops: Vec<u64>,
    stage_durations: Vec<Vec<i64>>,
    loops_total: u64,
    cases_with_loops: u64,
    case_durations: Vec<i64>,
    transfers: u64,
    cases_with_transfers: u64,
    agent_events: Vec<u64>,
    agent_out: Vec<u64>,
    agent_in: Vec<u64>,
    agent_fo_cases: Vec<u64>,
    agent_fo_resolved: Vec<u64>,
    /// Per team code, plus a last slot for "no team".
    team_fo_cases: Vec<u64>,
    team_fo_resolved: Vec<u64>,
    first_owner_cases: u64,
    first_owner_resolved: u64,
    first_owner_unknown: u64,
    open_cases: u64,
    escalations: u64,
    escalated_cases: u64,
    open_escalated: u64,
    open_escalated_ids: Vec<u32>,
    comments: Vec<u64>,
    positive: Vec<u64>,
    negative: Vec<u64>,
    comment_cases: Vec<u64>,
    positive_cases: Vec<u64>,
    negative_cases: Vec<u64>,
    scored: u64,
}

impl Partial {
    fn new(stages: usize, resources: usize, teams: usize, events: usize) -> Partial {
        Partial {
            events: 0,
            cases: 0,
            dfg: PairCounter::new(stages, events),
            handover: PairCounter::new(resources, events),
            stage_events: vec![0; stages],
            stage_cases: vec![0; stages],
            rework: vec![0; stages],
            loops: vec![0; stages],
            stage_durations: vec![Vec::new(); stages],
            loops_total: 0,
            cases_with_loops: 0,
            case_durations: Vec::new(),
            transfers: 0,
            cases_with_transfers: 0,
            agent_events: vec![0; resources],
            agent_out: vec![0; resources],
            agent_in: vec![0; resources],
            agent_fo_cases: vec![0; resources],
            agent_fo_resolved: vec![0; resources],
            team_fo_cases: vec![0; teams + 1],
            team_fo_resolved: vec![0; teams + 1],
            first_owner_cases: 0,
            first_owner_resolved: 0,
            first_owner_unknown: 0,
            open_cases: 0,
            escalations: 0,
            escalated_cases: 0,
            open_escalated: 0,
            open_escalated_ids: Vec::new(),
            comments: vec![0; stages],
            positive: vec![0; stages],
            negative: vec![0; stages],
            comment_cases: vec![0; stages],
            positive_cases: vec![0; stages],
            negative_cases: vec![0; stages],
            scored: 0,
        }
    }

    fn merge(&mut self, o: Partial) {
        fn add(a: &mut [u64], b: &[u64]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.events += o.events;
        self.cases += o.cases;
        self.dfg.merge(o.dfg);
        self.handover.merge(o.handover);
        add(&mut self.stage_events, &o.stage_events);
        add(&mut self.stage_cases, &o.stage_cases);
        add(&mut self.rework, &o.rework);
        add(&mut self.loops, &o.loops);
        for (a, b) in self.stage_durations.iter_mut().zip(o.stage_durations) {
            a.extend(b);
        }
        self.loops_total += o.loops_total;
        self.cases_with_loops += o.cases_with_loops;
        self.case_durations.extend(o.case_durations);
        self.transfers += o.transfers;
        self.cases_with_transfers += o.cases_with_transfers;
        add(&mut self.agent_events, &o.agent_events);
        add(&mut self.agent_out, &o.agent_out);
        add(&mut self.agent_in, &o.agent_in);
        add(&mut self.agent_fo_cases, &o.agent_fo_cases);
        add(&mut self.agent_fo_resolved, &o.agent_fo_resolved);
        add(&mut self.team_fo_cases, &o.team_fo_cases);
        add(&mut self.team_fo_resolved, &o.team_fo_resolved);
        self.first_owner_cases += o.first_owner_cases;
        self.first_owner_resolved += o.first_owner_resolved;
        self.first_owner_unknown += o.first_owner_unknown;
        self.open_cases += o.open_cases;
        self.escalations += o.escalations;
        self.escalated_cases += o.escalated_cases;
        self.open_escalated += o.open_escalated;
        self.open_escalated_ids.extend(o.open_escalated_ids);
        add(&mut self.comments, &o.comments);
        add(&mut self.positive, &o.positive);
        add(&mut self.negative, &o.negative);
        add(&mut self.comment_cases, &o.comment_cases);
        add(&mut self.positive_cases, &o.positive_cases);
        add(&mut self.negative_cases, &o.negative_cases);
        self.scored += o.scored;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use crate::log::{Event, EventLogBuilder};

    /// (case, activity, time, resource, team, sentiment)
    type Row = (u8, u8, i64, Option<u8>, u8, Option<f32>);

    fn build(rows: &[Row]) -> EventLog {
        let mut b = EventLogBuilder::new();
        for &(c, a, t, r, team, _) in rows {
            let (case, act, res, team) = (
                format!("c{c}"),
                format!("a{a}"),
                r.map(|r| format!("r{r}")),
                format!("t{team}"),
            );
            b.push(&Event {
                case: &case,
                activity: &act,
                time_ms: t,
                resource: res.as_deref(),
                team: Some(&team),
                text: None,
                attributes: &[],
            })
            .unwrap();
        }
        let mut log = b.finish();
        log.set_sentiment(rows.iter().map(|r| r.5).collect())
            .unwrap();
        log
    }

    /// A deliberately naive second implementation of the definitions, case by case with maps.
    #[derive(Debug, PartialEq)]
    struct Naive {
        cases: u64,
        dfg: BTreeMap<(String, String), u64>,
        rework: BTreeMap<String, u64>,
        transfers: u64,
        handovers: BTreeMap<(String, String), u64>,
        first_owner: (u64, u64, u64),
        loops: u64,
        escalated: (u64, u64, u64),
        comments: (u64, u64, u64),
        durations: Vec<i64>,
    }

    fn naive(rows: &[Row], config: &FlowConfig) -> Naive {
        let stage = |a: u8| {
            let name = format!("a{a}");
            config.lifecycle.get(&name).cloned().unwrap_or(name)
        };
        let is = |set: &Option<Vec<String>>, a: u8| {
            let set = set.as_deref().unwrap_or_default();
            set.contains(&format!("a{a}")) || set.contains(&stage(a))
        };
        // Open cases are counted only when some activity of the log closes a case.
        let closing_seen = rows.iter().any(|r| is(&config.closing, r.1));
        let mut by_case: BTreeMap<u8, Vec<(i64, usize)>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            by_case.entry(r.0).or_default().push((r.2, i));
        }
        let mut n = Naive {
            cases: by_case.len() as u64,
            dfg: BTreeMap::new(),
            rework: BTreeMap::new(),
            transfers: 0,
            handovers: BTreeMap::new(),
            first_owner: (0, 0, 0),
            loops: 0,
            escalated: (0, 0, 0),
            comments: (0, 0, 0),
            durations: Vec::new(),
        };
        for evs in by_case.values_mut() {
            evs.sort(); // by (time, input index)
            let seq: Vec<&Row> = evs.iter().map(|&(_, i)| &rows[i]).collect();
            n.durations.push(seq[seq.len() - 1].2 - seq[0].2);
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (k, e) in seq.iter().enumerate() {
                let s = stage(e.1);
                *counts.entry(s.clone()).or_default() += 1;
                if k > 0 && counts[&s] > 1 && stage(seq[k - 1].1) != s {
                    n.loops += 1;
                }
                if let Some(x) = e.5 {
                    n.comments.0 += 1;
                    n.comments.1 += u64::from(x >= 0.05);
                    n.comments.2 += u64::from(x <= -0.05);
                }
            }
            for (s, c) in counts {
                if c > 1 {
                    *n.rework.entry(s).or_default() += 1;
                }
            }
            let mut escalations = 0;
            for (k, w) in seq.windows(2).enumerate() {
                *n.dfg.entry((stage(w[0].1), stage(w[1].1))).or_default() += 1;
                if let (Some(a), Some(b)) = (w[0].3, w[1].3)
                    && a != b
                {
                    n.transfers += 1;
                    *n.handovers
                        .entry((format!("r{a}"), format!("r{b}")))
                        .or_default() += 1;
                }
                if k == 0 && is(&config.escalation, w[0].1) {
                    escalations += 1;
                }
                if is(&config.escalation, w[1].1) && !is(&config.escalation, w[0].1) {
                    escalations += 1;
                }
            }
            if seq.len() == 1 && is(&config.escalation, seq[0].1) {
                escalations += 1;
            }
            let owners: Vec<u8> = seq.iter().filter_map(|e| e.3).collect();
            match (owners.first(), owners.last()) {
                (Some(a), Some(b)) => {
                    n.first_owner.0 += 1;
                    n.first_owner.1 += u64::from(a == b);
                }
                _ => n.first_owner.2 += 1,
            }
            if escalations > 0 {
                n.escalated.0 += escalations;
                n.escalated.1 += 1;
                n.escalated.2 +=
                    u64::from(closing_seen && !is(&config.closing, seq[seq.len() - 1].1));
            }
        }
        n
    }

    fn from_report(r: &FlowReport) -> Naive {
        Naive {
            cases: r.cases,
            dfg: r
                .transitions
                .iter()
                .map(|t| ((t.from.clone(), t.to.clone()), t.count))
                .collect(),
            rework: r.rework_cases.clone(),
            transfers: r.transfers_total,
            handovers: r
                .handovers
                .iter()
                .map(|h| ((h.from.clone(), h.to.clone()), h.transfers))
                .collect(),
            first_owner: (
                r.first_owner_cases,
                r.first_owner_resolved,
                r.first_owner_unknown,
            ),
            loops: r.loops_total,
            escalated: (
                r.escalation.escalations_total,
                r.escalation.escalated_cases,
                r.escalation.open_escalated_cases.unwrap_or(0),
            ),
            comments: (
                r.comments.comments,
                r.comments.positive,
                r.comments.negative,
            ),
            durations: Vec::new(),
        }
    }

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        prop::collection::vec(
            (
                0u8..12,
                0u8..6,
                0i64..40,
                prop::option::weighted(0.8, 0u8..5),
                0u8..3,
                prop::option::of(-1.0f32..1.0),
            ),
            1..120,
        )
    }

    fn config() -> FlowConfig {
        FlowConfig {
            lifecycle: [("a1", "s1"), ("a2", "s1"), ("a3", "s3")]
                .into_iter()
                .map(|(a, s)| (a.to_string(), s.to_string()))
                .collect(),
            escalation: Some(vec!["a4".into(), "s3".into()]),
            closing: Some(vec!["a5".into()]),
            ..FlowConfig::default()
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_naive_implementation(rows in rows(), mapped in any::<bool>()) {
            let mut cfg = config();
            if !mapped {
                cfg.lifecycle.clear();
            }
            let log = build(&rows);
            let report = analyze(&log, &cfg);
            let mut want = naive(&rows, &cfg);
            let got = from_report(&report);
            let mut d = std::mem::take(&mut want.durations);
            prop_assert_eq!(got, want);
            prop_assert_eq!(report.dfg_total, report.events - report.cases);
            prop_assert_eq!(report.median_case_duration_hours, quantile(&mut d, 0.5).map(|v| v / MS_PER_HOUR));
        }

        #[test]
        fn threads_and_input_order_do_not_change_the_report(rows in rows(), threads in 2usize..5) {
            // Distinct times within a case, so any input order gives the same time order.
            let mut rows = rows;
            for (i, r) in rows.iter_mut().enumerate() {
                r.2 = r.2 * 1000 + i as i64;
            }
            let cfg = config();
            let log = build(&rows);
            let ctx = Context::new(&log, &cfg);
            let all: Vec<u32> = (0..ctx.n_cases as u32).collect();
            let one = ctx.report(&all, Some(1));
            let many = ctx.report(&all, Some(threads));
            prop_assert_eq!(&one, &many);
            let mut reversed = rows.clone();
            reversed.reverse();
            let other = analyze(&build(&reversed), &cfg);
            // Codes (and so tie-breaking of equal counts) may differ; compare the figures.
            prop_assert_eq!(from_report(&other), from_report(&one));
            prop_assert_eq!(other.median_case_duration_hours, one.median_case_duration_hours);
            prop_assert_eq!(other.stages.len(), one.stages.len());
        }

        #[test]
        fn groups_partition_the_cases(rows in rows()) {
            let log = build(&rows);
            for by in [GroupBy::Team, GroupBy::Period(Period::Day), GroupBy::Attribute("none".into())] {
                let cfg = FlowConfig { group_by: Some(by), ..config() };
                let r = analyze(&log, &cfg);
                let g = r.groups.as_ref().unwrap();
                prop_assert_eq!(g.groups.iter().map(|x| x.report.cases).sum::<u64>(), r.cases);
                prop_assert_eq!(g.groups.iter().map(|x| x.report.events).sum::<u64>(), r.events);
                prop_assert_eq!(g.groups.iter().map(|x| x.report.transfers_total).sum::<u64>(), r.transfers_total);
                let keys: BTreeSet<&str> = g.groups.iter().map(|x| x.key.as_str()).collect();
                prop_assert_eq!(keys.len(), g.groups.len());
            }
        }
    }

    #[test]
    fn ties_keep_input_order_and_out_of_order_events_are_sorted() {
        let log = build(&[
            (1, 2, 10, Some(1), 0, None),
            (1, 0, 0, Some(1), 0, None),
            (1, 1, 10, Some(2), 0, None),
        ]);
        let r = analyze(&log, &FlowConfig::default());
        let edges: Vec<(&str, &str)> = r
            .transitions
            .iter()
            .map(|t| (t.from.as_str(), t.to.as_str()))
            .collect();
        assert_eq!(edges, [("a0", "a2"), ("a2", "a1")]);
        assert_eq!(r.transfers_total, 1);
    }

    #[test]
    fn a_case_with_100k_events() {
        let rows: Vec<Row> = (0..100_000)
            .map(|i| (0, (i % 3) as u8, i64::from(i), Some((i % 7) as u8), 0, None))
            .collect();
        let r = analyze(&build(&rows), &FlowConfig::default());
        assert_eq!((r.events, r.cases, r.dfg_total), (100_000, 1, 99_999));
        assert_eq!(r.loops_total, 99_997);
        assert_eq!(r.transfers_total, 99_999);
    }

    #[test]
    fn empty_log_and_unknown_group_attribute() {
        let cfg = FlowConfig {
            group_by: Some(GroupBy::Attribute("product".into())),
            ..FlowConfig::default()
        };
        let r = analyze(&EventLog::default(), &cfg);
        assert_eq!((r.events, r.cases, r.transfers_per_case), (0, 0, 0.0));
        assert_eq!(r.median_case_duration_hours, None);
        assert_eq!(r.first_owner_resolution_pct, None);
        assert!(r.notes[0].contains("product"), "{:?}", r.notes);
        let json = serde_json::to_value(&r).unwrap();
        for key in [
            "events",
            "cases",
            "dfg_edges",
            "dfg_total",
            "rework_cases",
            "median_case_duration_hours",
            "transfers_total",
            "transfers_per_case",
            "handover_pairs",
            "first_owner_resolution_pct",
            "stages",
            "agents",
            "escalation",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn comments_per_case_and_stage_add_up_to_the_stage_table() {
        let rows: Vec<Row> = (0..60)
            .map(|i| {
                (
                    i % 7,
                    i % 4,
                    i64::from(i),
                    Some(i % 3),
                    0,
                    (i % 2 == 0).then_some(f32::from(i % 5) / 2.0 - 1.0),
                )
            })
            .collect();
        let log = build(&rows);
        let cfg = config();
        let table = comments_by_case_stage(&log, &cfg);
        let report = analyze(&log, &cfg);
        for s in &report.stages {
            let of_stage = table.iter().filter(|r| r.stage == s.stage);
            let (n, pos, neg, cases) = of_stage.fold((0, 0, 0, 0), |a, r| {
                (
                    a.0 + r.comments,
                    a.1 + r.positive,
                    a.2 + r.negative,
                    a.3 + 1,
                )
            });
            assert_eq!(
                (n, pos, neg, cases),
                (
                    s.comments,
                    s.positive_comments,
                    s.negative_comments,
                    s.cases_with_comments
                )
            );
        }
        assert!(table.iter().any(|r| r.negative > 0) && table.iter().any(|r| r.positive > 0));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let rows: Vec<Row> = vec![
            (0, 0, i64::MIN, Some(0), 0, None),
            (0, 1, i64::MAX, Some(1), 0, None),
            (0, 0, 0, Some(0), 0, None),
        ];
        let r = analyze(&build(&rows), &FlowConfig::default());
        assert_eq!(r.dfg_total, 2);
        assert!(r.median_case_duration_hours.is_some_and(f64::is_finite));
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], 90) = 3.7; median of [1, 2, 3, 4] = 2.5.
        assert_eq!(quantile(&mut [4, 1, 3, 2], 0.9), Some(3.7));
        assert_eq!(quantile(&mut [4, 1, 3, 2], 0.5), Some(2.5));
        assert_eq!(quantile(&mut [5], 0.9), Some(5.0));
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
