//! Demo history: 90 days of webhook deliveries for pave's demo organisation.
//!
//! The demo goes through the real path: these are the normalised deliveries GitHub (or
//! GitLab) and PagerDuty would have sent (pushes, pull request merges, deployments and
//! their statuses, incident issues or PagerDuty incidents), and the ledger turns them into
//! facts exactly as it does in production.
//!
//! Every Component whose annotations name a repository (`github.com/project-slug`,
//! `gitlab.com/project-slug` or `backstage.io/source-location`) gets a history; others get
//! none. Teams follow profiles, loosely after DORA's clusters and `pave_dora`'s generator
//! (elite, high, medium and low, rotated over owner groups in order of first appearance, so
//! every demo has leaders and strugglers): how often they release, how long their commits
//! wait, how often deployments fail and how they recover (a rollback within minutes, or a
//! hotfix later), how often production breaks. Incidents go to PagerDuty when the entity
//! has `pagerduty.com/service-id`, else they are GitHub issues labelled as incidents; most
//! name the commit that caused them.
//!
//! Alertmanager notifications come with it, named as the demo's SLO specs name their alerts
//! and labelled `service=<component>`: an error-rate alert a few minutes before each
//! incident, resolved with it (the actionable kind), and flapping latency alerts of a few
//! minutes on the services of struggling teams (the short-lived, noisy kind `pave alerts`
//! points at).
//!
//! A few deliveries are odd on purpose, as real ones are: a deployment whose clocks
//! disagree (it finishes before it starts), one dated three hours ahead (apply the
//! deliveries with [`received_at`], which keeps arrival no later than `now`), a deployment
//! still running and an incident still open at `now`, a status update that arrives before its
//! deployment, redeliveries of the same delivery, and pushes to a repository no entity
//! claims (it shows in the unattributed list).
//!
//! The same seed gives the same deliveries in every version and on every platform (splitmix64
//! and integer arithmetic, as `pave_dora::generate`).

use pave_dora::generate::SplitMix64;
use pave_events::{
    Alert, AlertStatus, ChangeMerged, Commit, Delivery, Deployment, DeploymentStatus, Event,
    Incident, IncidentStatus, Millis, Push, Severity, Source, Subject,
};
use serde_json::Value;

use crate::attribution::{GITHUB_SLUG, GITLAB_INSTANCE, GITLAB_SLUG, SOURCE_LOCATION, repo_of_url};

/// Days of history.
pub const DEMO_DAYS: i64 = 90;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// A team's habits, after `pave_dora::generate`'s profiles.
#[derive(Debug, Clone, Copy)]
struct Habits {
    /// Releases per working day and service.
    releases: f64,
    fail: f64,
    /// A failed deployment is rolled back (else fixed by a hotfix later).
    rollback_after_failure: f64,
    /// An unplanned hotfix release now and then.
    hotfix: f64,
    /// Relative likelihood a release breaks production later.
    incident_weight: f64,
    lead_median: Millis,
    restore_median: Millis,
}

const ELITE: Habits = Habits {
    releases: 3.0,
    fail: 0.03,
    rollback_after_failure: 0.8,
    hotfix: 0.02,
    incident_weight: 0.15,
    lead_median: 3 * HOUR,
    restore_median: 25 * MINUTE,
};
const HIGH: Habits = Habits {
    releases: 1.0,
    fail: 0.07,
    rollback_after_failure: 0.5,
    hotfix: 0.04,
    incident_weight: 0.3,
    lead_median: 36 * HOUR,
    restore_median: 5 * HOUR,
};
const MEDIUM: Habits = Habits {
    releases: 0.15,
    fail: 0.12,
    rollback_after_failure: 0.4,
    hotfix: 0.07,
    incident_weight: 0.6,
    lead_median: 8 * DAY,
    restore_median: 60 * HOUR,
};
const LOW: Habits = Habits {
    releases: 0.04,
    fail: 0.25,
    rollback_after_failure: 0.25,
    hotfix: 0.12,
    incident_weight: 1.0,
    lead_median: 25 * DAY,
    restore_median: 6 * DAY,
};

/// Profiles of owner groups in order of first appearance, rotated by the seed.
const ROTATION: [Habits; 6] = [ELITE, HIGH, LOW, MEDIUM, HIGH, ELITE];

/// The repository no entity claims.
const STRAY_REPO: &str = "legacy-scripts";

/// What a demo entity deploys from.
struct Target {
    /// The entity's name, which its alerts are labelled with (`service`).
    service: Option<String>,
    subject: Subject,
    source: Source,
    pagerduty: Option<String>,
    habits: Habits,
}

/// The arrival time to apply a demo delivery with: when it happened, but not after `now`
/// (so the delivery dated in the future is excluded as such).
pub fn received_at(delivery: &Delivery, now: Millis) -> Millis {
    delivery.occurred_at.unwrap_or(now).min(now)
}

/// Deliveries of a [`DEMO_DAYS`]-day history ending at `now`, for the catalog `entities`
/// (Backstage JSON), in the order to apply them.
pub fn demo_deliveries(entities: &[Value], now: Millis, seed: u64) -> Vec<Delivery> {
    let mut rng = SplitMix64::new(seed);
    let mut owners: Vec<String> = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut stray_org = None;
    for entity in entities {
        if !entity
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("component"))
        {
            continue;
        }
        let Some((subject, source)) = repository(entity) else {
            continue;
        };
        if let Subject::Repository { host, slug, .. } = &subject
            && stray_org.is_none()
        {
            stray_org = Some((
                host.clone(),
                slug.split('/').next().unwrap_or("org").to_owned(),
            ));
        }
        let owner = entity
            .pointer("/spec/owner")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let group = match owners.iter().position(|o| *o == owner) {
            Some(g) => g,
            None => {
                owners.push(owner);
                owners.len() - 1
            }
        };
        targets.push(Target {
            service: entity
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            subject,
            source,
            pagerduty: entity
                .pointer("/metadata/annotations")
                .and_then(|a| a.get("pagerduty.com/service-id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            habits: ROTATION[(group + seed as usize % ROTATION.len()) % ROTATION.len()],
        });
    }

    let first_day = now.div_euclid(DAY) * DAY - DEMO_DAYS * DAY;
    let mut history = History {
        rng: SplitMix64::new(rng.next_u64()),
        seed,
        now,
        out: Vec::new(),
        counter: 0,
        // Alerts draw from their own stream, so the rest of the history is the same with
        // or without them.
        alert_rng: SplitMix64::new(seed ^ 0xA1E7),
        alerts: Vec::new(),
    };
    for target in &targets {
        // Busy services of a team release more than quiet ones.
        let pace = 0.6 + 0.8 * rng.unit();
        history.entity(target, pace, first_day);
    }
    if let Some((host, org)) = stray_org {
        let subject = Subject::Repository {
            url: format!("https://{host}/{org}/{STRAY_REPO}"),
            slug: format!("{org}/{STRAY_REPO}"),
            host,
        };
        let mut head = None;
        for week in 0..DEMO_DAYS / 7 {
            let at = first_day + week * 7 * DAY + 10 * HOUR;
            history.push(&subject, Source::Github, &mut head, at, 1, HOUR);
        }
    }
    history.odd_deliveries(first_day);
    history.emit_alerts();

    let mut out = history.out;
    // The order a store receives them in (stable: equal times keep generation order).
    out.sort_by_key(|(at, _)| *at);
    let mut deliveries: Vec<Delivery> = out.into_iter().map(|(_, d)| d).collect();
    // Redeliveries: senders retry when an answer is slow.
    let mut rng = SplitMix64::new(seed ^ 0x5EED);
    let mut i = 0;
    while i < deliveries.len() {
        if rng.chance(0.01) {
            let copy = deliveries[i].clone();
            deliveries.insert(i + 1, copy);
            i += 1;
        }
        i += 1;
    }
    deliveries
}

/// The repository subject (and sender) an entity's annotations name.
fn repository(entity: &Value) -> Option<(Subject, Source)> {
    let annotations = entity.pointer("/metadata/annotations")?;
    let text = |name: &str| annotations.get(name).and_then(Value::as_str).map(str::trim);
    let (host, slug) = if let Some(slug) = text(GITHUB_SLUG) {
        ("github.com".to_owned(), slug.to_owned())
    } else if let Some(slug) = text(GITLAB_SLUG) {
        (
            text(GITLAB_INSTANCE).unwrap_or("gitlab.com").to_owned(),
            slug.to_owned(),
        )
    } else {
        let key = repo_of_url(text(SOURCE_LOCATION)?)?;
        let (host, slug) = key.split_once('/')?;
        (host.to_owned(), slug.to_owned())
    };
    let source = if host.contains("gitlab") {
        Source::Gitlab
    } else {
        Source::Github
    };
    Some((
        Subject::Repository {
            url: format!("https://{host}/{slug}"),
            host,
            slug,
        },
        source,
    ))
}

struct History {
    rng: SplitMix64,
    seed: u64,
    now: Millis,
    /// `(arrival, delivery)`.
    out: Vec<(Millis, Delivery)>,
    counter: u64,
    alert_rng: SplitMix64,
    /// Alerts to send once the rest is generated (emitted last, so they take the last
    /// delivery numbers and every other delivery keeps its id).
    alerts: Vec<Alert>,
}

impl History {
    fn emit(&mut self, source: Source, kind: &str, at: Millis, events: Vec<Event>) {
        self.counter += 1;
        let id = format!("demo-{:x}-{:06}", self.seed, self.counter);
        self.out.push((
            at,
            Delivery {
                source,
                id,
                kind: kind.to_owned(),
                occurred_at: Some(at),
                events,
                ignored: None,
            },
        ));
    }

    fn sha(&mut self) -> String {
        format!(
            "{:016x}{:016x}{:08x}",
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64() as u32
        )
    }

    /// Pushes `count` commits to the default branch at `at`, committed around `lead` before
    /// the deployment that will follow; returns the new head.
    fn push(
        &mut self,
        subject: &Subject,
        source: Source,
        head: &mut Option<String>,
        at: Millis,
        count: u64,
        lead: Millis,
    ) -> String {
        let mut times: Vec<Millis> = (0..count)
            .map(|_| (at - self.rng.spread_ms(lead, 2)).min(at - MINUTE))
            .collect();
        times.sort_unstable();
        let commits: Vec<Commit> = times
            .into_iter()
            .map(|committed_at| Commit {
                sha: self.sha(),
                committed_at: Some(committed_at),
                author: Some("demo".to_owned()),
                message: "Change".to_owned(),
            })
            .collect();
        let before = head.clone().unwrap_or_else(|| "0".repeat(40));
        let after = commits.last().map_or(before.clone(), |c| c.sha.clone());
        self.emit(
            source,
            "push",
            at,
            vec![Event::Push(Push {
                subject: subject.clone(),
                branch: "main".to_owned(),
                before,
                after: after.clone(),
                forced: false,
                commits,
                truncated: false,
                total_commits: None,
                default_branch: Some("main".to_owned()),
                pushed_at: Some(at),
            })],
        );
        *head = Some(after.clone());
        after
    }

    /// A deployment's updates: created (queued), in progress, and its outcome at `finished`.
    fn deploy(
        &mut self,
        target: &Target,
        environment: &str,
        sha: &str,
        finished: Millis,
        failed: bool,
        task: &str,
    ) -> String {
        let id = (100_000_000 + self.counter).to_string();
        let updates = [
            (DeploymentStatus::Queued, finished - 8 * MINUTE),
            (DeploymentStatus::Started, finished - 6 * MINUTE),
            (
                if failed {
                    DeploymentStatus::Failed
                } else {
                    DeploymentStatus::Succeeded
                },
                finished,
            ),
        ];
        for (status, at) in updates {
            if at >= self.now {
                break;
            }
            let event = self.deployment_event(target, &id, environment, sha, status, at, task);
            let kind = if status == DeploymentStatus::Queued {
                "deployment"
            } else {
                "deployment_status"
            };
            self.emit(target.source, kind, at, vec![event]);
        }
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn deployment_event(
        &self,
        target: &Target,
        id: &str,
        environment: &str,
        sha: &str,
        status: DeploymentStatus,
        at: Millis,
        task: &str,
    ) -> Event {
        Event::Deployment(Deployment {
            subject: target.subject.clone(),
            source_id: id.to_owned(),
            environment: environment.to_owned(),
            sha: Some(sha.to_owned()),
            version: None,
            status,
            at,
            started_at: (status == DeploymentStatus::Started).then_some(at),
            finished_at: status.is_final().then_some(at),
            rollback: false,
            labels: vec![task.to_owned()],
            git_ref: Some("main".to_owned()),
            production: Some(environment == "production"),
            url: None,
        })
    }

    fn merge(&mut self, target: &Target, sha: &str, at: Millis, hotfix: bool) {
        let number = 1 + self.counter;
        let event = Event::ChangeMerged(ChangeMerged {
            subject: target.subject.clone(),
            id: number.to_string(),
            number: Some(number),
            title: Some(if hotfix { "Hotfix" } else { "Change" }.to_owned()),
            merge_sha: Some(sha.to_owned()),
            merged_at: at,
            created_at: Some(at - HOUR),
            labels: if hotfix {
                vec!["hotfix".to_owned()]
            } else {
                vec![]
            },
            head_branch: Some(
                if hotfix {
                    "hotfix/fix"
                } else {
                    "feature/change"
                }
                .to_owned(),
            ),
            base_branch: Some("main".to_owned()),
            url: None,
        });
        self.emit(target.source, "pull_request", at, vec![event]);
    }

    /// An incident's lifecycle: opened, acknowledged, resolved (unless still open at `now`).
    fn incident(
        &mut self,
        target: &Target,
        opened: Millis,
        resolved: Option<Millis>,
        cause: Option<&str>,
    ) {
        if opened >= self.now {
            return;
        }
        let level = match self.rng.below(20) {
            0 => 1,
            1..=4 => 2,
            5..=12 => 3,
            _ => 4,
        };
        let (source, subject, id, kind) = match (&target.pagerduty, &target.subject) {
            (Some(service), _) => (
                Source::Pagerduty,
                Subject::PagerDutyService {
                    id: service.clone(),
                    name: None,
                },
                format!("Q{:012X}", self.rng.next_u64() >> 16),
                "incident",
            ),
            (None, Subject::Repository { slug, .. }) => (
                target.source,
                target.subject.clone(),
                format!("{slug}#{}", 1000 + self.counter),
                "issues",
            ),
            (None, _) => return,
        };
        let acknowledged = opened + self.rng.spread_ms(6 * MINUTE, 1);
        let fired = opened - self.alert_rng.spread_ms(4 * MINUTE, 1);
        let severity = if level <= 2 { "page" } else { "ticket" };
        self.alert(target, SloAlert::ErrorRate, severity, fired, resolved);
        let mut updates = vec![
            (IncidentStatus::Opened, opened),
            (IncidentStatus::Acknowledged, acknowledged),
        ];
        if let Some(resolved) = resolved.filter(|&r| r < self.now) {
            updates.push((IncidentStatus::Resolved, resolved.max(acknowledged)));
        }
        for (status, at) in updates {
            if at >= self.now {
                break;
            }
            let event = Event::Incident(Incident {
                subject: subject.clone(),
                id: id.clone(),
                number: None,
                title: Some("Errors in production".to_owned()),
                severity: Some(Severity {
                    level,
                    raw: format!("P{level}"),
                }),
                status,
                at,
                opened_at: Some(opened),
                url: None,
                caused_by: cause.map(|c| c[..12].to_owned()),
                environment: Some("production".to_owned()),
            });
            self.emit(source, kind, at, vec![event]);
        }
    }

    fn entity(&mut self, target: &Target, pace: f64, first_day: Millis) {
        let h = target.habits;
        let mut head: Option<String> = None;
        // Before the window: a baseline release, so the first change set has a previous.
        let base = first_day - 2 * DAY + 10 * HOUR;
        let sha = self.push(
            &target.subject,
            target.source,
            &mut head,
            base - HOUR,
            3,
            h.lead_median,
        );
        self.deploy(target, "production", &sha, base, false, "deploy");
        let mut good = sha;
        let mut pr = false;
        for day in 0..=DEMO_DAYS {
            let day_start = first_day + day * DAY;
            if day_start >= self.now {
                break;
            }
            let weekday = (day_start.div_euclid(DAY) + 3).rem_euclid(7);
            let factor = if weekday >= 5 { 0.08 } else { 1.0 };
            let expected = h.releases * pace * factor;
            let mut count = expected.floor() as u64;
            if self.rng.chance(expected - expected.floor()) {
                count += 1;
            }
            let mut times: Vec<Millis> = (0..count)
                .map(|_| day_start + 9 * HOUR + self.rng.below(9 * HOUR as u64) as Millis)
                .collect();
            times.sort_unstable();
            for finished in times {
                if finished + HOUR >= self.now {
                    continue;
                }
                pr = !pr;
                good = self.release(target, &mut head, good, finished, pr);
            }
            // Flapping latency alerts, gone in minutes, mostly where teams struggle.
            if self.alert_rng.chance(0.16 * h.incident_weight) {
                let fired = day_start + self.alert_rng.below(DAY as u64) as Millis;
                let lasted = self.alert_rng.spread_ms(3 * MINUTE, 1);
                self.alert(
                    target,
                    SloAlert::Latency,
                    "ticket",
                    fired,
                    Some(fired + lasted),
                );
            }
            // Incidents unrelated to deployments: a dependency, a certificate, a spike.
            if self.rng.chance(0.012 * h.incident_weight) {
                let opened = day_start + self.rng.below(DAY as u64) as Millis;
                let resolved = opened + self.rng.spread_ms(h.restore_median, 1);
                self.incident(target, opened, Some(resolved), None);
            }
        }
    }

    /// One release at `finished`: push, staging, production; and what follows a failure or a
    /// silent bug. Returns the last good production sha.
    fn release(
        &mut self,
        target: &Target,
        head: &mut Option<String>,
        good: String,
        finished: Millis,
        with_pr: bool,
    ) -> String {
        let h = target.habits;
        let hotfix = self.rng.chance(h.hotfix);
        let commits = if hotfix { 1 } else { 1 + self.rng.below(4) };
        let pushed = finished - 50 * MINUTE;
        let lead = if hotfix {
            h.lead_median / 8
        } else {
            h.lead_median
        };
        let sha = self.push(&target.subject, target.source, head, pushed, commits, lead);
        if with_pr || hotfix {
            self.merge(target, &sha, pushed - 2 * MINUTE, hotfix);
        }
        let staging_failed = self.rng.chance(h.fail / 3.0);
        self.deploy(
            target,
            "staging",
            &sha,
            finished - 30 * MINUTE,
            staging_failed,
            "deploy",
        );
        if staging_failed {
            return good;
        }
        let failed = self.rng.chance(h.fail);
        let task = if hotfix { "deploy:hotfix" } else { "deploy" };
        self.deploy(target, "production", &sha, finished, failed, task);
        if !failed {
            // A silent bug: production breaks a while later, the commit is named, a hotfix
            // fixes it.
            if self.rng.chance(0.05 * h.incident_weight) {
                let opened = finished + self.rng.spread_ms(40 * MINUTE, 2);
                let fixed_at = opened + self.rng.spread_ms(h.restore_median, 1);
                let mut fixed = None;
                if fixed_at + HOUR < self.now {
                    let fix = self.push(
                        &target.subject,
                        target.source,
                        head,
                        fixed_at - 40 * MINUTE,
                        1,
                        2 * HOUR,
                    );
                    self.merge(target, &fix, fixed_at - 45 * MINUTE, true);
                    self.deploy(target, "production", &fix, fixed_at, false, "deploy:hotfix");
                    fixed = Some(fixed_at + self.rng.spread_ms(15 * MINUTE, 1));
                }
                self.incident(target, opened, fixed, Some(&sha));
            }
            return sha;
        }
        if self.rng.chance(h.rollback_after_failure) {
            let at = finished + self.rng.spread_ms(12 * MINUTE, 1);
            if at < self.now {
                self.deploy(target, "production", &good, at, false, "deploy:rollback");
                if self.rng.chance(0.3) {
                    // Users noticed before the rollback.
                    let resolved = at + self.rng.spread_ms(10 * MINUTE, 1);
                    self.incident(target, finished + 3 * MINUTE, Some(resolved), Some(&sha));
                }
            }
            good
        } else {
            let at = finished + self.rng.spread_ms(h.restore_median, 1);
            if at + HOUR >= self.now {
                return good;
            }
            let fix = self.push(
                &target.subject,
                target.source,
                head,
                at - 40 * MINUTE,
                1,
                3 * HOUR,
            );
            self.deploy(target, "production", &fix, at, false, "deploy:hotfix");
            fix
        }
    }

    /// An alert of `target`'s service that fired at `fired` and resolved at `resolved`
    /// (firing still when that is not before `now`).
    fn alert(
        &mut self,
        target: &Target,
        slo: SloAlert,
        severity: &str,
        fired: Millis,
        resolved: Option<Millis>,
    ) {
        let Some(service) = &target.service else {
            return;
        };
        if fired >= self.now {
            return;
        }
        let (suffix, slo_name) = match slo {
            SloAlert::ErrorRate => ("HighErrorRate", "requests-availability"),
            SloAlert::Latency => ("HighLatency", "requests-latency"),
        };
        let name = format!("{}{suffix}", pascal_case(service));
        let labels = std::collections::BTreeMap::from([
            ("alertname".to_owned(), name.clone()),
            ("service".to_owned(), service.clone()),
            ("severity".to_owned(), severity.to_owned()),
            ("sloth_service".to_owned(), service.clone()),
            ("sloth_slo".to_owned(), slo_name.to_owned()),
        ]);
        // Alertmanager's fingerprint is a hash of the label set: the same for every firing.
        let fingerprint = format!("{:016x}", fnv1a(&format!("{labels:?}")));
        let summary = match slo {
            SloAlert::ErrorRate => format!("{service} is burning its error budget"),
            SloAlert::Latency => format!("{service} answers too slowly for its objective"),
        };
        self.alerts.push(Alert {
            subject: Subject::Labels(labels),
            fingerprint,
            name: Some(name),
            status: AlertStatus::Firing,
            severity: Some(severity.to_owned()),
            summary: Some(summary),
            starts_at: fired,
            ends_at: resolved.filter(|&at| at < self.now),
            url: None,
        });
    }

    /// Each alert as Alertmanager sends it: one notification when it fires, one when it
    /// resolves.
    fn emit_alerts(&mut self) {
        for alert in std::mem::take(&mut self.alerts) {
            let fired = alert.starts_at;
            self.emit(
                Source::Alertmanager,
                "firing",
                fired,
                vec![Event::Alert(Alert {
                    ends_at: None,
                    ..alert.clone()
                })],
            );
            if let Some(ended) = alert.ends_at {
                let resolved = Alert {
                    status: AlertStatus::Resolved,
                    ..alert
                };
                self.emit(
                    Source::Alertmanager,
                    "resolved",
                    ended,
                    vec![Event::Alert(resolved)],
                );
            }
        }
    }

    /// The odd deliveries real intakes see, on the first entities' repositories.
    fn odd_deliveries(&mut self, first_day: Millis) {
        let deployments: Vec<(Millis, Delivery)> = self
            .out
            .iter()
            .filter(|(_, d)| d.kind == "deployment_status")
            .cloned()
            .collect();
        let find = |n: usize| {
            deployments
                .iter()
                .filter_map(|(_, d)| match &d.events[0] {
                    Event::Deployment(dep) if dep.environment == "production" => Some(dep.clone()),
                    _ => None,
                })
                .nth(n)
        };
        let source = deployments
            .first()
            .map_or(Source::Github, |(_, d)| d.source);
        let now = self.now;
        // Finishes before it starts: the success is dated before the in-progress update.
        if let Some(template) = find(10) {
            let at = first_day + 20 * DAY + 11 * HOUR;
            for (status, time) in [
                (DeploymentStatus::Started, at + 4 * MINUTE),
                (DeploymentStatus::Succeeded, at),
            ] {
                let event = clock_skewed(&template, "odd-clock", status, time);
                self.emit(source, "deployment_status", at + 4 * MINUTE, vec![event]);
            }
        }
        // Dated three hours ahead (a sender with a wrong clock), received now.
        if let Some(template) = find(20) {
            let event = clock_skewed(
                &template,
                "odd-future",
                DeploymentStatus::Succeeded,
                now + 3 * HOUR,
            );
            self.emit(source, "deployment_status", now - MINUTE, vec![event]);
        }
        // Still running.
        if let Some(template) = find(30) {
            let event = clock_skewed(
                &template,
                "odd-running",
                DeploymentStatus::Started,
                now - 4 * MINUTE,
            );
            self.emit(source, "deployment_status", now - 4 * MINUTE, vec![event]);
        }
        // A status update that arrives before its deployment's creation.
        if let Some(template) = find(40) {
            let at = first_day + 40 * DAY + 14 * HOUR;
            let done = clock_skewed(&template, "odd-order", DeploymentStatus::Succeeded, at);
            let created = clock_skewed(
                &template,
                "odd-order",
                DeploymentStatus::Queued,
                at - 6 * MINUTE,
            );
            self.emit(source, "deployment_status", at, vec![done]);
            self.emit(source, "deployment", at + MINUTE, vec![created]);
        }
        // An incident still open, on the fourth entity with deployments.
        if let Some(template) = find(3) {
            let target = Target {
                service: None,
                subject: template.subject.clone(),
                source,
                pagerduty: None,
                habits: MEDIUM,
            };
            self.incident(&target, now - 50 * MINUTE, None, template.sha.as_deref());
        }
    }
}

/// A copy of a deployment update with another id, status and time.
fn clock_skewed(template: &Deployment, id: &str, status: DeploymentStatus, at: Millis) -> Event {
    Event::Deployment(Deployment {
        source_id: id.to_owned(),
        status,
        at,
        started_at: (status == DeploymentStatus::Started).then_some(at),
        finished_at: status.is_final().then_some(at),
        labels: vec!["deploy".to_owned()],
        ..template.clone()
    })
}

/// The two alerts the demo's SLO specs define for a service (`pave_demo`'s `slos/*.yaml`).
#[derive(Debug, Clone, Copy)]
enum SloAlert {
    ErrorRate,
    Latency,
}

/// `cart-service` → `CartService`, as the demo's SLO specs name their alerts.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// 64-bit FNV-1a: a stable hash for the demo's alert fingerprints.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
