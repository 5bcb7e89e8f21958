//! Builders the integration tests share: catalog entities, deliveries, a ledger driver.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use pave_delivery::codec::Codec;
use pave_delivery::{Applied, Attribution, Ledger, LedgerConfig, Row, Rows};
use pave_events::{
    Commit, Delivery, Deployment, DeploymentStatus, Event, Incident, IncidentStatus, Millis, Push,
    Severity, Source, Subject,
};
use serde_json::{Value, json};

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;
/// 2026-01-05 00:00 UTC, a Monday.
pub const T0: Millis = 20_458 * DAY;

/// A Component with annotations, owned by `owner`, part of `system`.
pub fn component(name: &str, owner: &str, system: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": owner, "system": system},
    })
}

pub fn group(name: &str, parent: Option<&str>) -> Value {
    let mut spec = json!({"type": "team", "children": []});
    if let Some(parent) = parent {
        spec["parent"] = json!(parent);
    }
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": name}, "spec": spec})
}

pub fn system(name: &str, domain: &str) -> Value {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": name}, "spec": {"owner": "platform", "domain": domain}})
}

pub fn domain(name: &str) -> Value {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": name}, "spec": {"owner": "platform"}})
}

/// A small catalog: `shop/checkout` and `shop/search` on GitHub, owned by two teams of one
/// department.
pub fn catalog() -> Vec<Value> {
    vec![
        group("engineering", None),
        group("team-a", Some("engineering")),
        group("team-b", Some("engineering")),
        domain("commerce"),
        system("storefront", "commerce"),
        component(
            "checkout",
            "team-a",
            "storefront",
            json!({"github.com/project-slug": "shop/checkout", "pagerduty.com/service-id": "PCHK"}),
        ),
        component(
            "search",
            "team-b",
            "storefront",
            json!({"github.com/project-slug": "shop/search"}),
        ),
    ]
}

pub fn attribution() -> Attribution {
    Attribution::from_entities(&catalog())
}

pub fn repo(slug: &str) -> Subject {
    Subject::Repository {
        host: "github.com".into(),
        slug: slug.into(),
        url: format!("https://github.com/{slug}"),
    }
}

pub fn delivery(source: Source, id: &str, events: Vec<Event>) -> Delivery {
    Delivery {
        source,
        id: id.into(),
        kind: "test".into(),
        occurred_at: events.iter().find_map(Event::at),
        events,
        ignored: None,
    }
}

/// A 40-digit sha for a short name, so tests read `sha("c1")`.
pub fn sha(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    format!("{hex:0<40}")
}

/// A push of `commits` (name, committed_at) onto `before` (a name, or "" for a new branch).
pub fn push(
    slug: &str,
    id: &str,
    before: &str,
    commits: &[(&str, Millis)],
    forced: bool,
) -> Delivery {
    let before = if before.is_empty() {
        "0".repeat(40)
    } else {
        sha(before)
    };
    let after = commits
        .last()
        .map_or_else(|| before.clone(), |(name, _)| sha(name));
    let pushed_at = commits.last().map(|c| c.1);
    delivery(
        Source::Github,
        id,
        vec![Event::Push(Push {
            subject: repo(slug),
            branch: "main".into(),
            before,
            after,
            forced,
            commits: commits
                .iter()
                .map(|&(name, at)| Commit {
                    sha: sha(name),
                    committed_at: Some(at),
                    author: None,
                    message: name.into(),
                })
                .collect(),
            truncated: false,
            total_commits: None,
            default_branch: Some("main".into()),
            pushed_at,
        })],
    )
}

/// One deployment status update (GitHub-like).
pub struct Deploy<'a> {
    pub slug: &'a str,
    pub source_id: &'a str,
    pub environment: &'a str,
    pub sha: Option<&'a str>,
    pub status: DeploymentStatus,
    pub at: Millis,
    pub labels: Vec<String>,
}

impl<'a> Deploy<'a> {
    pub fn new(
        slug: &'a str,
        source_id: &'a str,
        sha: &'a str,
        status: DeploymentStatus,
        at: Millis,
    ) -> Self {
        Deploy {
            slug,
            source_id,
            environment: "production",
            sha: Some(sha),
            status,
            at,
            labels: vec![],
        }
    }

    pub fn event(&self) -> Event {
        Event::Deployment(Deployment {
            subject: repo(self.slug),
            source_id: self.source_id.into(),
            environment: self.environment.into(),
            sha: self.sha.map(sha),
            version: None,
            status: self.status,
            at: self.at,
            started_at: (self.status == DeploymentStatus::Started).then_some(self.at),
            finished_at: self.status.is_final().then_some(self.at),
            rollback: false,
            labels: self.labels.clone(),
            git_ref: Some("main".into()),
            production: None,
            url: None,
        })
    }

    pub fn delivery(&self, id: &str) -> Delivery {
        delivery(Source::Github, id, vec![self.event()])
    }
}

/// A whole successful deployment: queued, started a minute later, succeeded at `finished`.
pub fn deployed(slug: &str, source_id: &str, name: &str, finished: Millis) -> Vec<Delivery> {
    [
        (DeploymentStatus::Queued, finished - 3 * MINUTE),
        (DeploymentStatus::Started, finished - 2 * MINUTE),
        (DeploymentStatus::Succeeded, finished),
    ]
    .into_iter()
    .map(|(status, at)| {
        Deploy::new(slug, source_id, name, status, at)
            .delivery(&format!("{slug}/{source_id}/{status:?}"))
    })
    .collect()
}

pub fn incident(
    source: Source,
    subject: Subject,
    id: &str,
    status: IncidentStatus,
    at: Millis,
    caused_by: Option<&str>,
) -> Delivery {
    delivery(
        source,
        &format!("{id}/{status:?}/{at}"),
        vec![Event::Incident(Incident {
            subject,
            id: id.into(),
            number: None,
            title: Some(format!("incident {id}")),
            severity: Some(Severity {
                level: 2,
                raw: "P2".into(),
            }),
            status,
            at,
            opened_at: None,
            url: None,
            caused_by: caused_by.map(str::to_owned),
            environment: None,
        })],
    )
}

pub fn pagerduty(service: &str) -> Subject {
    Subject::PagerDutyService {
        id: service.into(),
        name: None,
    }
}

/// Feeds deliveries in order with consecutive sequence numbers; `received_at` is each
/// delivery's own time (or `T0`).
pub struct Feed {
    pub ledger: Ledger,
    pub attribution: Attribution,
    pub seq: u64,
    pub applied: Vec<Applied>,
    /// Every row applied goes through the stored encoding and back (`round_trip`).
    pub stored: Stored,
}

/// Rows as a store would hold them: encoded by one codec, decoded by another that learns
/// names only from the stored name rows.
#[derive(Default)]
pub struct Stored {
    pub encoder: Codec,
    pub decoder: Codec,
}

impl Stored {
    /// Encodes `row`, decodes what was stored, and checks that it is `row` again.
    pub fn round_trip(&mut self, row: &Row) {
        let mut out = Vec::new();
        self.encoder.encode(row, &mut out);
        let mut decoded = None;
        for encoded in &out {
            if let Some(row) = self
                .decoder
                .decode(encoded.kind, &encoded.key, &encoded.body)
                .unwrap_or_else(|e| panic!("{e}: {row:?}"))
            {
                assert!(decoded.is_none(), "two rows decoded");
                decoded = Some(row);
            }
        }
        assert_eq!(decoded.as_ref(), Some(row));
    }
}

impl Feed {
    pub fn new(config: LedgerConfig) -> Feed {
        Feed {
            ledger: Ledger::new(config).unwrap(),
            attribution: attribution(),
            seq: 0,
            applied: vec![],
            stored: Stored::default(),
        }
    }

    pub fn apply(&mut self, delivery: &Delivery) -> &Applied {
        self.seq += 1;
        let received_at = delivery.occurred_at.unwrap_or(T0) + 1000;
        let applied = self
            .ledger
            .apply(self.seq, received_at, delivery, &self.attribution);
        for row in &applied.rows {
            self.stored.round_trip(row);
        }
        self.applied.push(applied);
        self.applied.last().unwrap()
    }

    pub fn apply_all(&mut self, deliveries: &[Delivery]) {
        for d in deliveries {
            self.apply(d);
        }
    }

    pub fn rows(&self) -> Rows {
        self.ledger.rows()
    }
}

/// Rows without the sequence numbers (which depend on arrival order) and subject counters'
/// last-seen times.
pub fn without_seqs(mut rows: Rows) -> Rows {
    for d in &mut rows.deployments {
        d.first_seq = 0;
        d.last_seq = 0;
    }
    for i in &mut rows.incidents {
        i.first_seq = 0;
        i.last_seq = 0;
    }
    for a in &mut rows.alerts {
        a.first_seq = 0;
        a.last_seq = 0;
    }
    for s in &mut rows.subjects {
        s.last_seen = 0;
    }
    rows
}

/// The deployment row with this source id.
pub fn deployment_row<'r>(rows: &'r Rows, source_id: &str) -> &'r pave_delivery::DeploymentRow {
    rows.deployments
        .iter()
        .find(|d| d.source_id == source_id)
        .unwrap_or_else(|| panic!("no deployment {source_id}"))
}

/// The change row of `name` in `slug`.
pub fn change_row<'r>(rows: &'r Rows, slug: &str, name: &str) -> &'r pave_delivery::ChangeRow {
    let sha = sha(name);
    rows.changes
        .iter()
        .find(|c| c.repo == format!("github.com/{slug}") && c.sha == sha)
        .unwrap_or_else(|| panic!("no change {name}"))
}

/// The deployment id that first shipped change `name` to production, if any.
pub fn shipped_by(rows: &Rows, slug: &str, name: &str) -> Option<u64> {
    change_row(rows, slug, name)
        .shipped
        .iter()
        .find(|s| s.environment == "production")
        .map(|s| s.deployment)
}

pub fn rows_of(applied: &Applied) -> Rows {
    let mut rows = Rows::default();
    for row in &applied.rows {
        rows.push(row.clone());
    }
    rows
}

pub fn count_rows(applied: &Applied, pred: impl Fn(&Row) -> bool) -> usize {
    applied.rows.iter().filter(|r| pred(r)).count()
}
