//! Scheduled delivery of the weekly report (issue 12): the `[report]` section of hearken.toml,
//! the scheduler's tick, and what each recipient is sent.
//!
//! - **When**: `hearken_engine::schedule` decides, with no clock: at the configured local day
//!   and hour, the report of the last complete ISO week is due ([`tick`] is given `now`).
//! - **What**: for each `[[report.recipients]]` entry, the report of that week for the
//!   recipient's data scope (segments and teams, the same [`Scope`] as an API token's), built by
//!   [`crate::report::build`] and rendered by [`crate::report::render`]: no figure is computed
//!   here. The e-mail's HTML part is the page itself, its text part the headline figures; the
//!   webhook's JSON carries the week, the scope, the headline figures as the page prints them and
//!   the page's URL when `public_url` is set. No PDF is attached (printing needs Chromium on the
//!   server; the HTML is the page and prints to one A4 page from any mail reader).
//! - **How**: handed to the outbox (`Store::enqueue_report`): one notification per recipient and
//!   week, never twice (a unique key in the store), delivered by the outbox's sender with
//!   retries, leases and signatures like every other notification.

use hearken_engine::schedule::{self, Slot};
use hearken_query::Scope;
use hearken_store::{NewReportSend, ReportHow, Store};
use serde::{Deserialize, Serialize};

use crate::report::{self, Week, WeeklyReport};
use crate::view::PageError;

/// The `[report]` section of hearken.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// When the report goes out; none: no scheduled delivery (`hearken report send` still works).
    pub schedule: Option<ScheduleSettings>,
    /// Who gets it.
    pub recipients: Vec<RecipientSettings>,
    /// The dashboard's address as readers reach it (e.g. `https://hearken.example.com`): the
    /// webhook's `url` and the e-mail's link point to `/report?week=` under it.
    pub public_url: Option<String>,
}

/// `[report.schedule]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// `mon` .. `sun`.
    pub day: String,
    /// 0 to 23, on the zone's clock.
    pub hour: i64,
    /// An IANA zone name, e.g. `Europe/Brussels`.
    pub timezone: String,
}

/// One `[[report.recipients]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientSettings {
    /// Unique; the key of "never twice" with the week.
    pub name: String,
    pub email: Option<String>,
    /// Posted to, signed with `[outbox] webhook_secret` (Standard Webhooks).
    pub webhook: Option<String>,
    /// The recipient's data scope, as a token's: customers of these segments ...
    #[serde(default)]
    pub segments: Vec<String>,
    /// ... and agents of these teams (empty: no limit).
    #[serde(default)]
    pub teams: Vec<String>,
}

/// A recipient as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    pub email: Option<String>,
    pub webhook: Option<String>,
    pub scope: Scope,
}

/// The validated `[report]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub slot: Option<Slot>,
    pub recipients: Vec<Recipient>,
    pub public_url: Option<String>,
}

/// A setting that cannot work, or a failure while enqueueing.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Setting(String),
    #[error(transparent)]
    Slot(#[from] schedule::SlotError),
    #[error("cannot record the report for the outbox: {0}")]
    Outbox(#[from] hearken_store::OutboxError),
    #[error("cannot read the store: {0}")]
    Store(String),
}

/// What the outbox can deliver, as configured in `[outbox]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels {
    /// `[outbox.smtp]` is set.
    pub email: bool,
    /// `[outbox] webhook_secret` is set (report webhooks are signed with it).
    pub webhook_secret: bool,
}

impl ReportSettings {
    /// Refuses what cannot work, naming the key and the value.
    pub fn validate(&self, channels: Channels) -> Result<Plan, DeliveryError> {
        let slot = self
            .schedule
            .as_ref()
            .map(|s| Slot::parse(&s.day, s.hour, &s.timezone))
            .transpose()?;
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(DeliveryError::Setting(format!(
                "[report] public_url '{u}' is not an http:// or https:// URL"
            )));
        }
        let mut recipients: Vec<Recipient> = Vec::new();
        for (i, r) in self.recipients.iter().enumerate() {
            let at = format!("[[report.recipients]] #{} ", i + 1);
            let name = r.name.trim();
            if name.is_empty() {
                return Err(DeliveryError::Setting(format!(
                    "{at}name is empty: give each recipient a name"
                )));
            }
            let at = format!("[[report.recipients]] '{name}'");
            if recipients.iter().any(|x| x.name == name) {
                return Err(DeliveryError::Setting(format!(
                    "{at}: the name is used twice; names must be unique (a week is sent once per name)"
                )));
            }
            if r.email.is_none() && r.webhook.is_none() {
                return Err(DeliveryError::Setting(format!(
                    "{at} has neither email nor webhook: give one or both"
                )));
            }
            if let Some(e) = &r.email {
                hearken_store::check_email(e).map_err(|_| {
                    DeliveryError::Setting(format!("{at} email '{e}' is not an e-mail address"))
                })?;
                if !channels.email {
                    return Err(DeliveryError::Setting(format!(
                        "{at} email '{e}': no [outbox.smtp] is configured to send it with"
                    )));
                }
            }
            if let Some(u) = &r.webhook {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(DeliveryError::Setting(format!(
                        "{at} webhook '{u}' is not an http:// or https:// URL"
                    )));
                }
                if !channels.webhook_secret {
                    return Err(DeliveryError::Setting(format!(
                        "{at} webhook '{u}': set [outbox] webhook_secret, which signs it"
                    )));
                }
            }
            for (key, list) in [("segments", &r.segments), ("teams", &r.teams)] {
                if let Some(v) = list.iter().find(|v| v.trim().is_empty()) {
                    return Err(DeliveryError::Setting(format!(
                        "{at} {key} has an empty value '{v}'"
                    )));
                }
            }
            recipients.push(Recipient {
                name: name.to_string(),
                email: r.email.as_ref().map(|e| e.trim().to_string()),
                webhook: r.webhook.clone(),
                scope: Scope {
                    segments: r.segments.clone(),
                    teams: r.teams.clone(),
                },
            });
        }
        if slot.is_some() && recipients.is_empty() {
            return Err(DeliveryError::Setting(
                "[report.schedule] is set but there is no [[report.recipients]]: add one, or remove the schedule".into(),
            ));
        }
        Ok(Plan {
            slot,
            recipients,
            public_url: self
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
        })
    }
}

impl Plan {
    /// Refuses a recipient's segment or team that no customer or agent in the store has.
    pub fn check_against(&self, store: &Store) -> Result<(), DeliveryError> {
        let (segments, teams) = store
            .known_segments_and_teams()
            .map_err(|e| DeliveryError::Store(e.to_string()))?;
        for r in &self.recipients {
            for (key, list, known) in [
                ("segments", &r.scope.segments, &segments),
                ("teams", &r.scope.teams, &teams),
            ] {
                if let Some(v) = list.iter().find(|v| !known.contains(v)) {
                    return Err(DeliveryError::Setting(format!(
                        "[[report.recipients]] '{}' {key} '{v}': no {} in the store has it; known: {}",
                        r.name,
                        if key == "segments" {
                            "customer"
                        } else {
                            "agent"
                        },
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            }
        }
        Ok(())
    }

    /// The recipients named `only` (all when none); an unknown name is refused with the names.
    pub fn recipients(&self, only: Option<&str>) -> Result<Vec<&Recipient>, DeliveryError> {
        match only {
            None => Ok(self.recipients.iter().collect()),
            Some(n) => match self.recipients.iter().find(|r| r.name == n) {
                Some(r) => Ok(vec![r]),
                None => Err(DeliveryError::Setting(format!(
                    "there is no recipient '{n}' in [[report.recipients]]; known: {}",
                    if self.recipients.is_empty() {
                        "none".to_string()
                    } else {
                        self.recipients
                            .iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))),
            },
        }
    }
}

/// What happened to one recipient's report of one week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    pub recipient: String,
    pub week: String,
    /// `enqueued` (round given), `already_sent` (nothing done), or `failed` (error given).
    pub outcome: String,
    pub round: Option<i64>,
    /// The week had no data in the recipient's scope (the report says so).
    pub empty: bool,
    pub error: Option<String>,
}

/// What a tick did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// The week due at `now`, if any.
    pub due: Option<String>,
    pub results: Vec<Enqueued>,
    /// The next week to become due, and when (Unix seconds).
    pub next_week: Option<String>,
    pub next_at: Option<i64>,
}

/// The scheduler's tick at `now` (Unix seconds): enqueues the due week's report for every
/// recipient that does not have it yet. Cheap when nothing is due or all is sent (no report is
/// built then).
pub fn tick(store: &mut Store, plan: &Plan, now: i64) -> Result<TickReport, DeliveryError> {
    let Some(slot) = &plan.slot else {
        return Ok(TickReport {
            due: None,
            results: Vec::new(),
            next_week: None,
            next_at: None,
        });
    };
    let (next, next_at) = schedule::next_due(slot, now);
    let mut out = TickReport {
        due: None,
        results: Vec::new(),
        next_week: Some(next.label()),
        next_at: Some(next_at),
    };
    if let Some(w) = schedule::due_week(slot, now) {
        let week = Week::of(w.monday);
        out.due = Some(week.label());
        out.results = enqueue(store, plan, &week, None, ReportHow::Schedule, "schedule")?;
    }
    Ok(out)
}

/// Enqueues the report of `week` for the recipients (all, or the one named `only`): round 0
/// unless `how` is [`ReportHow::Again`]. One recipient's failure (its report cannot be built)
/// does not stop the others; it is in its result.
pub fn enqueue(
    store: &mut Store,
    plan: &Plan,
    week: &Week,
    only: Option<&str>,
    how: ReportHow,
    who: &str,
) -> Result<Vec<Enqueued>, DeliveryError> {
    let label = week.label();
    let mut results = Vec::new();
    let recipients: Vec<Recipient> = plan.recipients(only)?.into_iter().cloned().collect();
    for r in &recipients {
        let done = |outcome: &str, round, empty, error| Enqueued {
            recipient: r.name.clone(),
            week: label.clone(),
            outcome: outcome.to_string(),
            round,
            empty,
            error,
        };
        if how != ReportHow::Again && store.report_sent(&r.name, &label)? {
            results.push(done("already_sent", None, false, None));
            continue;
        }
        let built = report::build(store, &r.scope, week).and_then(|rep| {
            let html = report::render(&rep, false)?;
            Ok((rep, html))
        });
        let (rep, html) = match built {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(recipient = %r.name, week = %label, error = %e.message, "the report cannot be built");
                results.push(done("failed", None, false, Some(page_error_text(&e))));
                continue;
            }
        };
        let url = plan
            .public_url
            .as_ref()
            .map(|u| format!("{u}/report?week={label}"));
        let subject = subject(&rep);
        let body = text(&rep, url.as_deref());
        let payload = payload(&rep, &r.name, &r.scope, url.as_deref());
        let round = store.enqueue_report(&NewReportSend {
            recipient: &r.name,
            week: &label,
            scope: &rep.scope,
            empty: rep.empty,
            email: r.email.as_deref(),
            webhook: r.webhook.as_deref(),
            subject: &subject,
            body: &body,
            html: &html,
            payload: &payload,
            how,
            who,
        })?;
        results.push(match round {
            Some(n) => done("enqueued", Some(n), rep.empty, None),
            // Another process enqueued it between the check and now.
            None => done("already_sent", None, rep.empty, None),
        });
    }
    Ok(results)
}

fn page_error_text(e: &PageError) -> String {
    match &e.hint {
        Some(h) => format!("{} ({h})", e.message),
        None => e.message.clone(),
    }
}

/// `Hearken weekly report 2026-W47 — segments smb`.
pub fn subject(r: &WeeklyReport) -> String {
    format!("Hearken weekly report {} \u{2014} {}", r.week, r.scope)
}

/// The e-mail's text part: the headline figures as the page prints them, or that the week has
/// no data.
pub fn text(r: &WeeklyReport, url: Option<&str>) -> String {
    let mut t = format!(
        "Hearken weekly report {}, {}\n{}\n\n",
        r.week, r.span, r.scope
    );
    if r.empty {
        t.push_str(&format!(
            "No data for {} in {}: no signal, survey response or case in the week, so there is nothing to compare.\n",
            r.week, r.scope
        ));
    } else {
        t.push_str(&format!(
            "Signals: {}. Survey responses: {}.\n\n",
            r.signals, r.responses
        ));
        for s in &r.scores {
            t.push_str(&format!(
                "{}: {} (last week {}, change {}): {}, {}; n {}\n",
                s.label, s.now, s.before, s.diff, s.verdict, s.significance, s.n
            ));
        }
        if !r.issues.is_empty() {
            t.push_str("\nTop issues:\n");
            for i in &r.issues {
                t.push_str(&format!(
                    "{}. {}: {}, {} negative\n",
                    i.rank, i.topic, i.signals, i.negative
                ));
            }
        }
        if !r.flow.is_empty() {
            t.push_str("\nCases (this week / last week):\n");
            for f in &r.flow {
                t.push_str(&format!("{}: {} / {}\n", f.label, f.now, f.before));
            }
        }
        if !r.good_news.is_empty() {
            t.push_str("\nGood news:\n");
            for g in &r.good_news {
                t.push_str(&format!("- {g}\n"));
            }
        }
    }
    if let Some(u) = url {
        t.push_str(&format!("\nThe page: {u}\n"));
    }
    t
}

/// The webhook's JSON: the week, the scope, the headline figures as the page prints them, and
/// the page's URL when `public_url` is set.
pub fn payload(r: &WeeklyReport, recipient: &str, scope: &Scope, url: Option<&str>) -> String {
    // An empty week has no figures at all (the page's rule: no zeros).
    let scores: Vec<serde_json::Value> = r
        .scores
        .iter()
        .filter(|_| !r.empty)
        .map(|s| {
            serde_json::json!({
                "metric": s.label,
                "value": s.now,
                "last_week": s.before,
                "change": s.diff,
                "verdict": s.verdict,
                "significance": s.significance,
                "n": s.n,
            })
        })
        .collect();
    let issues: Vec<serde_json::Value> = r
        .issues
        .iter()
        .map(|i| {
            serde_json::json!({
                "rank": i.rank,
                "topic": i.topic,
                "signals": i.signals,
                "negative": i.negative,
            })
        })
        .collect();
    let flow: Vec<serde_json::Value> = r
        .flow
        .iter()
        .map(|f| serde_json::json!({ "figure": f.label, "value": f.now, "last_week": f.before }))
        .collect();
    serde_json::json!({
        "type": "report.weekly",
        "week": r.week,
        "span": r.span,
        "recipient": recipient,
        "scope": {
            "label": r.scope,
            "segments": scope.segments,
            "teams": scope.teams,
        },
        "no_data": r.empty,
        "signals": if r.empty { None } else { Some(&r.signals) },
        "responses": if r.empty { None } else { Some(&r.responses) },
        "scores": scores,
        "top_issues": issues,
        "cases": flow,
        "url": url,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> ReportSettings {
        toml::from_str(toml_text).unwrap()
    }

    const BOTH: Channels = Channels {
        email: true,
        webhook_secret: true,
    };

    #[test]
    fn bad_settings_name_the_key_and_the_value() {
        let check = |t: &str, channels: Channels, want: &[&str]| {
            let e = settings(t).validate(channels).unwrap_err().to_string();
            for w in want {
                assert!(e.contains(w), "{e} should contain {w}");
            }
        };
        check(
            "[schedule]\nday = \"mon\"\nhour = 25\ntimezone = \"UTC\"\n[[recipients]]\nname = \"a\"\nemail = \"a@x.org\"\n",
            BOTH,
            &["hour 25", "0 to 23"],
        );
        check(
            "[schedule]\nday = \"mon\"\nhour = 8\ntimezone = \"Europe/Bruxelles\"\n",
            BOTH,
            &["timezone 'Europe/Bruxelles'", "IANA"],
        );
        check(
            "[[recipients]]\nname = \"ops\"\n",
            BOTH,
            &["'ops'", "neither email nor webhook"],
        );
        check(
            "[[recipients]]\nname = \"ops\"\nemail = \"ops\"\n",
            BOTH,
            &["'ops'", "email 'ops'", "not an e-mail address"],
        );
        check(
            "[[recipients]]\nname = \"ops\"\nemail = \"ops@x.org\"\n",
            Channels::default(),
            &["'ops'", "[outbox.smtp]"],
        );
        check(
            "[[recipients]]\nname = \"ops\"\nwebhook = \"http://x/h\"\n",
            Channels::default(),
            &["webhook 'http://x/h'", "webhook_secret"],
        );
        check(
            "[[recipients]]\nname = \"ops\"\nwebhook = \"ftp://x/h\"\n",
            BOTH,
            &["webhook 'ftp://x/h'", "http"],
        );
        check(
            "[[recipients]]\nname = \"a\"\nemail = \"a@x.org\"\n[[recipients]]\nname = \"a\"\nemail = \"b@x.org\"\n",
            BOTH,
            &["'a'", "twice"],
        );
        check(
            "[schedule]\nday = \"mon\"\nhour = 8\ntimezone = \"UTC\"\n",
            BOTH,
            &["no [[report.recipients]]"],
        );
        let e = toml::from_str::<ReportSettings>("[[recipients]]\nname = \"a\"\nmail = \"a@x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mail"), "{e}");
        let ok = settings(
            "public_url = \"https://h.example.com/\"\n[schedule]\nday = \"mon\"\nhour = 8\ntimezone = \"Europe/Brussels\"\n[[recipients]]\nname = \"smb desk\"\nemail = \"a@x.org\"\nsegments = [\"smb\"]\n",
        )
        .validate(BOTH)
        .unwrap();
        assert_eq!(ok.public_url.as_deref(), Some("https://h.example.com"));
        assert_eq!(ok.recipients[0].scope.segments, ["smb"]);
        assert!(ok.recipients(Some("nobody")).is_err());
    }

    fn report(empty: bool) -> WeeklyReport {
        WeeklyReport {
            week: "2026-W47".into(),
            span: "Mon 16 Nov to Sun 22 Nov 2026".into(),
            scope: "segments smb".into(),
            empty,
            signals: "1,204".into(),
            responses: "88".into(),
            scores: vec![report::ScoreLine {
                label: "NPS",
                now: "31.0".into(),
                before: "25.5".into(),
                diff: "+5.5".into(),
                verdict: "same".into(),
                class: "same",
                significance: "not significant (p = 0.31)".into(),
                n: "88 / 90".into(),
            }],
            issues: Vec::new(),
            issues_note: None,
            flow: Vec::new(),
            flow_note: None,
            actions: Vec::new(),
            good_news: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_mail_and_the_webhook_carry_the_pages_figures_or_say_there_is_no_data() {
        let r = report(false);
        assert_eq!(
            subject(&r),
            "Hearken weekly report 2026-W47 \u{2014} segments smb"
        );
        let t = text(&r, Some("https://h/report?week=2026-W47"));
        assert!(t.contains("Signals: 1,204. Survey responses: 88."), "{t}");
        assert!(t.contains("NPS: 31.0 (last week 25.5, change +5.5)"), "{t}");
        assert!(t.contains("https://h/report?week=2026-W47"), "{t}");
        let scope = Scope {
            segments: vec!["smb".into()],
            teams: Vec::new(),
        };
        let p: serde_json::Value =
            serde_json::from_str(&payload(&r, "smb desk", &scope, None)).unwrap();
        assert_eq!(p["week"], "2026-W47");
        assert_eq!(p["scope"]["segments"][0], "smb");
        assert_eq!(p["scores"][0]["value"], "31.0");
        assert_eq!(p["no_data"], false);
        assert!(p["url"].is_null());

        let e = report(true);
        let t = text(&e, None);
        assert!(t.contains("No data for 2026-W47 in segments smb"), "{t}");
        assert!(!t.contains("Signals:") && !t.contains("NPS"), "{t}");
        let p: serde_json::Value =
            serde_json::from_str(&payload(&e, "smb desk", &scope, None)).unwrap();
        assert_eq!(p["no_data"], true);
        assert!(p["signals"].is_null());
    }
}
