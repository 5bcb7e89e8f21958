//! Every sender but GitHub (`events.rs` has that one) against `pave serve`, posting the way
//! the sender itself posts: GitLab (`X-Gitlab-Token`, `Idempotency-Key`, `X-Gitlab-Event`,
//! `X-Gitlab-Event-UUID`), PagerDuty v3 (`X-PagerDuty-Signature: v1=…[,v1=…]`, an HMAC over
//! the raw body, one per active secret while it rotates), Opsgenie (a custom secret header),
//! Argo CD notifications (the documented template and header), Flux (`generic-hmac`:
//! `X-Signature: sha256=…`), Alertmanager (`Authorization: Bearer`) and CDEvents in
//! CloudEvents structured and binary modes. Bodies are the real payloads of
//! `crates/events/tests/fixtures` with their names and times moved to now. For each sender:
//! 202 first, 200 "duplicate" for its retry, 401 for a wrong secret (before the genuine
//! delivery, which must still be new: nothing was stored), then the facts through
//! `/api/dora`, `/api/incidents`, `pave events` and the ledger's rows in the database.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Server, run, stderr, stdout};
use ring::hmac;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What pave answered.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Posts `body` to `/api/events/{source}` with exactly `headers` (and Host, Content-Length).
fn post(addr: SocketAddr, source: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "POST /api/events/{source} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    Answer { status, body }
}

/// A sender's delivery: the same headers and body every time it is (re)sent.
struct Delivery {
    source: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Delivery {
    fn send(&self, addr: SocketAddr) -> Answer {
        post(addr, self.source, &self.headers, &self.body)
    }

    /// Sent for the first time: 202, not a duplicate, `events` normalised events.
    fn accepted(&self, addr: SocketAddr, events: u64) -> Value {
        let answer = self.send(addr);
        assert_eq!(answer.status, 202, "{}: {}", self.source, answer.body);
        let receipt = answer.json();
        assert_eq!(receipt["duplicate"], false, "{receipt}");
        assert_eq!(receipt["events"], events, "{}: {receipt}", self.source);
        receipt
    }

    /// Sent again (the sender's retry): 200, a duplicate of the first.
    fn duplicate(&self, addr: SocketAddr, first: &Value) {
        let answer = self.send(addr);
        assert_eq!(answer.status, 200, "{}: {}", self.source, answer.body);
        let receipt = answer.json();
        assert_eq!(receipt["duplicate"], true, "{receipt}");
        assert_eq!(receipt["seq"], first["seq"], "{receipt}");
        assert_eq!(receipt["id"], first["id"], "{receipt}");
    }

    /// The same delivery with one header changed.
    fn with(&self, header: &'static str, value: String) -> Delivery {
        let mut headers = self.headers.clone();
        match headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case(header))
        {
            Some(slot) => slot.1 = value,
            None => headers.push((header, value)),
        }
        Delivery {
            source: self.source,
            headers,
            body: self.body.clone(),
        }
    }

    /// The same delivery with a wrong credential in `header`: 401, naming no secret.
    fn refused(&self, addr: SocketAddr, header: &'static str, value: String) {
        let answer = self.with(header, value).send(addr);
        assert_eq!(answer.status, 401, "{}: {}", self.source, answer.body);
        assert!(answer.body.contains("not authentic"), "{}", answer.body);
    }
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the fixture")) = new;
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap()
}

fn now_ms() -> i64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    ms - ms % 1000
}

/// The civil date and time of Unix milliseconds shifted by `offset_minutes`.
fn civil(millis: i64, offset_minutes: i64) -> (i64, i64, i64, i64, i64, i64) {
    let secs = millis.div_euclid(1000) + offset_minutes * 60;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// RFC 3339 in UTC: `2026-12-06T10:00:00Z`.
fn rfc3339(millis: i64) -> String {
    let (y, m, d, h, min, s) = civil(millis, 0);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
}

/// RFC 3339 at UTC+02:00, as GitLab writes commit times: `2026-12-06T12:00:00+02:00`.
fn rfc3339_plus2(millis: i64) -> String {
    let (y, m, d, h, min, s) = civil(millis, 120);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}+02:00")
}

/// GitLab's own format at UTC+02:00: `2026-12-06 12:00:00 +0200`.
fn gitlab_time(millis: i64) -> String {
    let (y, m, d, h, min, s) = civil(millis, 120);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02} +0200")
}

const CATALOG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: shop
  annotations:
    gitlab.com/project-slug: acme/shop
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    pagerduty.com/service-id: PA2P440
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search
  annotations:
    opsgenie.com/component-selector: 'tag:"service:search"'
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    opsgenie.com/team: Ledger Team
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: mail
  annotations:
    opsgenie.com/component-selector: detailsPair(component:mail)
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    argocd/app-name: checkout
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: podinfo
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
spec: {type: service, lifecycle: production, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: inventory
spec: {type: service, lifecycle: production, owner: platform}
"#;

/// Every sender's secrets; PagerDuty and CDEvents have two (a rotation in progress).
const CONFIG: &str = r#"events:
  sources:
    gitlab: {secrets: ["gitlab-token"]}
    pagerduty: {secrets: ["pd-current", "pd-previous"]}
    opsgenie: {secrets: ["opsgenie-secret"]}
    argocd: {secrets: ["argocd-secret"]}
    flux: {secrets: ["flux-secret"]}
    alertmanager: {secrets: ["alertmanager-secret"]}
    cdevents: {secrets: ["ce-current", "ce-previous"]}
  attribution:
    mappings:
      - {subject: "flux:Kustomization/flux-system/podinfo", entity: podinfo}
      - {subject: "cdevents:/clusters/prod", entity: inventory}
"#;

struct Setup {
    _dir: tempfile::TempDir,
    db: String,
    config: String,
    catalog: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog-info.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let config = dir.path().join("pave.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    Setup {
        db: format!("sqlite://{}", dir.path().join("pave.db").display()),
        config: config.display().to_string(),
        catalog,
        _dir: dir,
    }
}

fn start(setup: &Setup) -> pave_testkit::Server {
    let server = Server::start(
        &[
            "--config",
            &setup.config,
            "--source",
            setup.catalog.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &setup.db,
    );
    server.wait_for(
        "/api/catalog/entities/by-name/component/default/inventory",
        |r| r.status == 200,
    );
    server
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---- GitLab ----------------------------------------------------------------------------

const GITLAB_SHA: &str = "58793660b22d6ceacbdc23b28a0562bca339702c";

/// Headers as GitLab 17.4+ sends them (`WebHookService#build_headers`).
fn gitlab(event: &str, idempotency_key: &str, event_uuid: &str, body: Value) -> Delivery {
    Delivery {
        source: "gitlab",
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("User-Agent", "GitLab/17.11.1".into()),
            ("Idempotency-Key", idempotency_key.into()),
            ("X-Gitlab-Event", event.into()),
            (
                "X-Gitlab-Webhook-UUID",
                "9b62d7ef-fddd-4cac-8b89-65c29acdf561".into(),
            ),
            ("X-Gitlab-Instance", "https://gitlab.com".into()),
            ("X-Gitlab-Event-UUID", event_uuid.into()),
            ("X-Gitlab-Token", "gitlab-token".into()),
        ],
        body: bytes(&body),
    }
}

fn gitlab_project(payload: &mut Value) {
    let project = payload.get_mut("project").unwrap();
    project["path_with_namespace"] = json!("acme/shop");
    project["web_url"] = json!("https://gitlab.com/acme/shop");
    project["default_branch"] = json!("main");
}

fn gitlab_push(committed: i64) -> Value {
    let mut push = fixture("gitlab/push_hook.json");
    gitlab_project(&mut push);
    set(&mut push, "/ref", json!("refs/heads/main"));
    set(&mut push, "/before", json!("0".repeat(40)));
    set(&mut push, "/after", json!(GITLAB_SHA));
    set(&mut push, "/checkout_sha", json!(GITLAB_SHA));
    set(&mut push, "/total_commits_count", json!(1));
    let mut commit = push["commits"][0].clone();
    commit["id"] = json!(GITLAB_SHA);
    commit["timestamp"] = json!(rfc3339_plus2(committed));
    commit["message"] = json!("Update .gitlab-ci.yml file\n");
    push["commits"] = json!([commit]);
    push
}

fn gitlab_deployment(at: i64) -> Value {
    let mut deployment = fixture("gitlab/deployment_hook__succeeded.json");
    gitlab_project(&mut deployment);
    set(
        &mut deployment,
        "/status_changed_at",
        json!(gitlab_time(at)),
    );
    set(
        &mut deployment,
        "/commit_url",
        json!(format!(
            "https://gitlab.com/acme/shop/-/commit/{GITLAB_SHA}"
        )),
    );
    set(&mut deployment, "/ref", json!("main"));
    deployment
}

fn gitlab_merge(at: i64) -> Value {
    let mut merge = fixture("gitlab/merge_request.json");
    gitlab_project(&mut merge);
    let attributes = merge.get_mut("object_attributes").unwrap();
    attributes["action"] = json!("merge");
    attributes["state"] = json!("merged");
    attributes["iid"] = json!(7);
    attributes["merge_commit_sha"] = json!("b".repeat(40));
    attributes["target_branch"] = json!("main");
    attributes["created_at"] = json!(gitlab_time(at - HOUR));
    attributes["updated_at"] = json!(gitlab_time(at));
    merge
}

// ---- PagerDuty -------------------------------------------------------------------------

/// A v3 webhook, signed with each of `secrets` (`v1=…,v1=…`), as PagerDuty signs while a
/// subscription's secret rotates.
fn pagerduty(
    fixture_name: &str,
    event_id: &str,
    at: i64,
    opened: i64,
    secrets: &[&str],
) -> Delivery {
    let mut event = fixture(fixture_name);
    set(&mut event, "/event/id", json!(event_id));
    set(&mut event, "/event/occurred_at", json!(rfc3339(at)));
    set(&mut event, "/event/data/id", json!("PFQZPSY"));
    set(
        &mut event,
        "/event/data/html_url",
        json!("https://pig208.pagerduty.com/incidents/PFQZPSY"),
    );
    set(&mut event, "/event/data/service/id", json!("PA2P440"));
    event["event"]["data"]["created_at"] = json!(rfc3339(opened));
    let body = bytes(&event);
    Delivery {
        source: "pagerduty",
        headers: vec![
            ("Content-Type", "application/json; charset=utf-8".into()),
            ("User-Agent", "PagerDuty-Webhook/V3.0".into()),
            ("X-Webhook-Id", format!("wh-{event_id}")),
            ("X-Webhook-Subscription", "PY1OQ2L".into()),
            ("X-PagerDuty-Signature", pagerduty_signature(secrets, &body)),
        ],
        body,
    }
}

fn pagerduty_signature(secrets: &[&str], body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| format!("v1={}", hmac_hex(secret, body)))
        .collect::<Vec<_>>()
        .join(",")
}

// ---- Opsgenie --------------------------------------------------------------------------

fn opsgenie(action_fixture: &str, alert_id: &str, edit: impl FnOnce(&mut Value)) -> Delivery {
    let mut payload = fixture(action_fixture);
    set(&mut payload, "/alert/alertId", json!(alert_id));
    edit(payload.get_mut("alert").unwrap());
    Delivery {
        source: "opsgenie",
        headers: vec![
            ("Content-Type", "application/json; charset=UTF-8".into()),
            ("X-Pave-Secret", "opsgenie-secret".into()),
        ],
        body: bytes(&payload),
    }
}

// ---- Argo CD, Flux, Alertmanager ------------------------------------------------------

/// What the documented `template.pave` renders, posted by the `service.webhook.pave` it
/// documents (`Content-Type` and `X-Pave-Secret: $pave-events-secret`).
fn argocd(phase: &str, health: &str, started: i64, finished: Option<i64>) -> Delivery {
    let mut body = fixture("argocd/deployed.json");
    let started = rfc3339(started);
    set(
        &mut body,
        "/id",
        json!(format!(
            "1f0b8a3e-6a43-4e5c-9d5f-0c1c2b7e9a11/{started}/{phase}/{health}"
        )),
    );
    set(&mut body, "/phase", json!(phase));
    set(&mut body, "/health", json!(health));
    set(&mut body, "/startedAt", json!(started));
    // An operation still running has no finish: the template prints Go's `<no value>`.
    set(
        &mut body,
        "/finishedAt",
        json!(finished.map_or_else(|| "<no value>".to_owned(), rfc3339)),
    );
    Delivery {
        source: "argocd",
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("X-Pave-Secret", "argocd-secret".into()),
        ],
        body: bytes(&body),
    }
}

const FLUX_SHA: &str = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1";

/// notification-controller's `generic-hmac` provider: `X-Signature: sha256=<hex>`.
fn flux(reason: &str, severity: &str, at: i64) -> Delivery {
    let mut event = fixture("flux/kustomization-validation-failed.json");
    set(&mut event, "/involvedObject/name", json!("podinfo"));
    set(
        &mut event,
        "/involvedObject/namespace",
        json!("flux-system"),
    );
    set(&mut event, "/reason", json!(reason));
    set(&mut event, "/severity", json!(severity));
    set(&mut event, "/message", json!("Applied revision"));
    set(&mut event, "/timestamp", json!(rfc3339(at)));
    set(
        &mut event,
        "/metadata",
        json!({
            "kustomize.toolkit.fluxcd.io/revision": format!("main@sha1:{FLUX_SHA}"),
            "env": "production",
        }),
    );
    let body = bytes(&event);
    Delivery {
        source: "flux",
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("User-Agent", "Go-http-client/1.1".into()),
            (
                "X-Signature",
                format!("sha256={}", hmac_hex("flux-secret", &body)),
            ),
        ],
        body,
    }
}

/// A webhook receiver with `http_config.authorization.credentials`: `Bearer <secret>`.
fn alertmanager(resolved: bool, starts: i64, ends: i64) -> Delivery {
    let mut group = fixture("alertmanager/firing.json");
    let status = if resolved { "resolved" } else { "firing" };
    set(&mut group, "/status", json!(status));
    for alert in group["alerts"].as_array_mut().unwrap() {
        alert["status"] = json!(status);
        alert["labels"]["service"] = json!("billing");
        alert["startsAt"] = json!(rfc3339(starts));
        if resolved {
            alert["endsAt"] = json!(rfc3339(ends));
        }
    }
    Delivery {
        source: "alertmanager",
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("User-Agent", "Alertmanager/0.28.1".into()),
            ("Authorization", "Bearer alertmanager-secret".into()),
        ],
        body: bytes(&group),
    }
}

// ---- CDEvents --------------------------------------------------------------------------

/// A CDEvents v0.5 event of `ty` (`service.deployed.0.3.0`), from the v0.4.1 fixture of the
/// same subject moved to the v0.5 context (`specversion`), about `/clusters/prod`.
fn cdevent(fixture_name: &str, ty: &str, id: &str, at: i64) -> Value {
    let mut event = fixture(fixture_name);
    let context = event["context"].as_object_mut().unwrap();
    context.remove("version");
    context.insert("specversion".into(), json!("0.5.1"));
    context.insert("id".into(), json!(id));
    context.insert("source".into(), json!("/clusters/prod"));
    context.insert("type".into(), json!(format!("dev.cdevents.{ty}")));
    context.insert("timestamp".into(), json!(rfc3339(at)));
    event
}

/// Structured mode: the CloudEvent in the body, `application/cloudevents+json`.
fn cloudevent_structured(event: &Value, secret: &str) -> Delivery {
    let context = &event["context"];
    let envelope = json!({
        "specversion": "1.0",
        "id": context["id"],
        "source": context["source"],
        "type": context["type"],
        "time": context["timestamp"],
        "datacontenttype": "application/json",
        "data": event,
    });
    Delivery {
        source: "cdevents",
        headers: vec![
            (
                "Content-Type",
                "application/cloudevents+json; charset=utf-8".into(),
            ),
            ("Authorization", format!("Bearer {secret}")),
        ],
        body: bytes(&envelope),
    }
}

/// Binary mode: the attributes in `ce-*` headers, the CDEvent alone in the body.
fn cloudevent_binary(event: &Value, secret: &str) -> Delivery {
    let context = &event["context"];
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    Delivery {
        source: "cdevents",
        headers: vec![
            ("ce-specversion", "1.0".into()),
            ("ce-id", text(&context["id"])),
            ("ce-source", text(&context["source"])),
            ("ce-type", text(&context["type"])),
            ("ce-time", text(&context["timestamp"])),
            ("Content-Type", "application/json".into()),
            ("Authorization", format!("Bearer {secret}")),
        ],
        body: bytes(event),
    }
}

#[test]
fn every_sender_is_authenticated_deduplicated_and_attributed() {
    let setup = setup();
    let server = start(&setup);
    let addr = server.addr;
    let now = now_ms();
    let mut accepted = 0;

    // GitLab: a push, then its deployment to production; a forged token first.
    let push = gitlab(
        "Push Hook",
        "0b8e1d52-4b5c-4e1f-9c55-3f1c0f1a0001",
        "13792a34-cac6-4fda-95a8-c58e00a30001",
        gitlab_push(now - 3 * HOUR),
    );
    push.refused(addr, "X-Gitlab-Token", "not-the-token".into());
    push.accepted(addr, 1);
    let deploy = gitlab(
        "Deployment Hook",
        "0b8e1d52-4b5c-4e1f-9c55-3f1c0f1a0002",
        "13792a34-cac6-4fda-95a8-c58e00a30002",
        gitlab_deployment(now - HOUR),
    );
    let first = deploy.accepted(addr, 1);
    // GitLab retries with the same Idempotency-Key and body, and a new X-Gitlab-Event-UUID.
    deploy
        .with(
            "X-Gitlab-Event-UUID",
            "5c0ffee0-0000-4000-8000-000000000001".into(),
        )
        .duplicate(addr, &first);
    // A bot that merged a merge request when the deployment hook reached it: GitLab recycles
    // the triggering delivery's X-Gitlab-Event-UUID into the hooks that request fires. A
    // different delivery (its own Idempotency-Key), not a duplicate.
    let merge = gitlab(
        "Merge Request Hook",
        "0b8e1d52-4b5c-4e1f-9c55-3f1c0f1a0003",
        "13792a34-cac6-4fda-95a8-c58e00a30002",
        gitlab_merge(now - 50 * MINUTE),
    );
    merge.accepted(addr, 1);
    accepted += 3;

    // PagerDuty: a forged signature, then triggered signed by a retired secret and the
    // current one (one matching is enough), its retry, acknowledged, resolved signed by the
    // previous secret only (still active during the rotation).
    let triggered = pagerduty(
        "pagerduty/incident.triggered.json",
        "01BZYIL05THJDFF2Y08X9SVMTU",
        now - 50 * MINUTE,
        now - 50 * MINUTE,
        &["pd-retired", "pd-current"],
    );
    triggered.refused(
        addr,
        "X-PagerDuty-Signature",
        pagerduty_signature(&["pd-retired", "pd-wrong"], &triggered.body),
    );
    let first = triggered.accepted(addr, 1);
    triggered.duplicate(addr, &first);
    pagerduty(
        "pagerduty/incident.acknowledged.json",
        "01BZYIL05THJDFF2Y08X9SVMTW",
        now - 40 * MINUTE,
        now - 50 * MINUTE,
        &["pd-current"],
    )
    .accepted(addr, 1);
    let resolved = pagerduty(
        "pagerduty/incident.resolved.json",
        "01BZYIL05THJDFF2Y08X9SVMTV",
        now - 20 * MINUTE,
        now - 50 * MINUTE,
        &["pd-previous"],
    );
    resolved.accepted(addr, 1);
    accepted += 3;

    // Opsgenie: an alert tagged for `search` (the Backstage plugin's selector), one for the
    // Ledger team, one whose extra properties name `mail`, created; the first closed, the
    // last acknowledged.
    let tagged = opsgenie(
        "opsgenie/Create.json",
        "ec03dad6-62c8-4c94-b38b-d88f398e9001",
        |alert| {
            alert["tags"] = json!(["vip", "service:search"]);
            alert["entity"] = json!("");
            alert["message"] = json!("Search latency above 2 s");
            alert["createdAt"] = json!(now - 45 * MINUTE);
            alert["updatedAt"] = json!((now - 45 * MINUTE) * 1_000_000 + 110);
        },
    );
    tagged.refused(addr, "X-Pave-Secret", "opsgenie-secre".into());
    let first = tagged.accepted(addr, 1);
    tagged.duplicate(addr, &first);
    opsgenie(
        "opsgenie/Create.json",
        "ec03dad6-62c8-4c94-b38b-d88f398e9002",
        |alert| {
            // As Opsgenie sends them: ids under `teams`, names among the responders.
            alert["teams"] = json!(["a6da4929-aa71-41bc-ac30-ac7ae9519034"]);
            alert["responders"] = json!([
                {"id": "a6da4929-aa71-41bc-ac30-ac7ae9519034", "type": "team", "name": "Ledger Team"},
                {"id": "8d43133c-a002-4e95-bf2b-2d6f95e47c96", "type": "user", "name": "test@example.com"}
            ]);
            alert["entity"] = json!("");
            alert["tags"] = json!([]);
            alert["createdAt"] = json!(now - 44 * MINUTE);
            alert["updatedAt"] = json!((now - 44 * MINUTE) * 1_000_000);
        },
    )
    .accepted(addr, 1);
    opsgenie(
        "opsgenie/Close.json",
        "ec03dad6-62c8-4c94-b38b-d88f398e9001",
        |alert| {
            alert["tags"] = json!(["vip", "service:search"]);
            alert["createdAt"] = json!(now - 45 * MINUTE);
            alert["updatedAt"] = json!((now - 15 * MINUTE) * 1_000_000 + 603);
        },
    )
    .accepted(addr, 1);
    opsgenie(
        "opsgenie/Create.json",
        "ec03dad6-62c8-4c94-b38b-d88f398e9003",
        |alert| {
            alert["entity"] = json!("");
            alert["tags"] = json!([]);
            alert["details"] = json!({"component": "mail", "region": "eu-west-1", "replicas": 3});
            alert["createdAt"] = json!(now - 36 * MINUTE);
            alert["updatedAt"] = json!((now - 36 * MINUTE) * 1_000_000);
        },
    )
    .accepted(addr, 1);
    opsgenie(
        "opsgenie/Acknowledge.json",
        "ec03dad6-62c8-4c94-b38b-d88f398e9003",
        |alert| {
            alert["entity"] = json!("");
            alert["tags"] = json!([]);
            alert["details"] = json!({"component": "mail", "region": "eu-west-1", "replicas": 3});
            alert["createdAt"] = json!(now - 36 * MINUTE);
            alert["updatedAt"] = json!((now - 35 * MINUTE) * 1_000_000 + 77);
        },
    )
    .accepted(addr, 1);
    accepted += 5;

    // Argo CD: the sync running, then synced and healthy.
    let started = now - 40 * MINUTE;
    let running = argocd("Running", "Progressing", started, None);
    running.refused(addr, "X-Pave-Secret", "argocd".into());
    running.accepted(addr, 1);
    let deployed = argocd("Succeeded", "Healthy", started, Some(started + 2 * MINUTE));
    let first = deployed.accepted(addr, 1);
    deployed.duplicate(addr, &first);
    accepted += 2;

    // Flux: a Kustomization reconciled; the signature over other bytes is refused.
    let reconciled = flux("ReconciliationSucceeded", "info", now - 30 * MINUTE);
    reconciled.refused(
        addr,
        "X-Signature",
        format!("sha256={}", hmac_hex("flux-secret", b"{}")),
    );
    let first = reconciled.accepted(addr, 1);
    reconciled.duplicate(addr, &first);
    accepted += 1;

    // Alertmanager: a group of two alerts firing (and notified again unchanged), resolved.
    let firing = alertmanager(false, now - 30 * MINUTE, 0);
    firing.refused(addr, "Authorization", "Bearer alertmanager".into());
    let first = firing.accepted(addr, 2);
    firing.duplicate(addr, &first);
    alertmanager(true, now - 30 * MINUTE, now - 10 * MINUTE).accepted(addr, 2);
    accepted += 2;

    // CDEvents: a deployment in structured mode (current secret), an incident detected and
    // resolved in binary mode (the previous secret: either is accepted while rotating).
    let mut service = cdevent(
        "cdevents/v0.4.1-service_deployed.json",
        "service.deployed.0.3.0",
        "7c7e1b1e-0001-4000-8000-000000000001",
        now - 25 * MINUTE,
    );
    service["subject"] = json!({
        "id": "inventory",
        "source": "/clusters/prod",
        "content": {
            "environment": {"id": "production"},
            "artifactId": "pkg:oci/inventory@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"
        }
    });
    let structured = cloudevent_structured(&service, "ce-current");
    structured.refused(addr, "Authorization", "Bearer ce-retired".into());
    let first = structured.accepted(addr, 1);
    structured.duplicate(addr, &first);
    let mut incident = cdevent(
        "cdevents/v0.4.1-incident_detected.json",
        "incident.detected.0.3.0",
        "7c7e1b1e-0001-4000-8000-000000000002",
        now - 24 * MINUTE,
    );
    incident["subject"]["source"] = json!("/clusters/prod");
    incident["subject"]["content"]["service"] =
        json!({"id": "inventory", "source": "/clusters/prod"});
    let detected = cloudevent_binary(&incident, "ce-previous");
    let first = detected.accepted(addr, 1);
    detected.duplicate(addr, &first);
    let mut incident = cdevent(
        "cdevents/v0.4.1-incident_resolved.json",
        "incident.resolved.0.3.0",
        "7c7e1b1e-0001-4000-8000-000000000003",
        now - 5 * MINUTE,
    );
    incident["subject"]["source"] = json!("/clusters/prod");
    incident["subject"]["content"]["service"] =
        json!({"id": "inventory", "source": "/clusters/prod"});
    cloudevent_binary(&incident, "ce-previous").accepted(addr, 1);
    accepted += 3;

    // Each forgery was audited once, per source.
    let audit = server.get("/api/audit?action=events.refused").json();
    let mut refused: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["target"].as_str())
        .collect();
    refused.sort_unstable();
    assert_eq!(
        refused,
        [
            "events/alertmanager",
            "events/argocd",
            "events/cdevents",
            "events/flux",
            "events/gitlab",
            "events/opsgenie",
            "events/pagerduty"
        ],
        "{audit}"
    );
    // Receipts record which secret matched: the rotation's previous one is still in use.
    let receipts = server
        .get("/api/audit?action=events.receive&limit=100")
        .json();
    let secret_of = |target: &str| -> Vec<String> {
        receipts["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["target"].as_str().is_some_and(|t| t.starts_with(target)))
            .map(|r| {
                r["details"]["secret"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let mut pagerduty_secrets = secret_of("events/pagerduty/");
    pagerduty_secrets.sort();
    assert_eq!(
        pagerduty_secrets,
        ["current", "current", "current", "previous"],
        "{receipts}"
    );

    // Deployments through /api/dora, each on its annotated (or mapped) entity.
    let path = "/api/dora?group_by=entity&since=1d";
    let deployments = |report: &Value| -> BTreeMap<String, Value> {
        report["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| row["metrics"]["deployments"]["counted"].as_u64() > Some(0))
            .map(|row| (row["key"].as_str().unwrap().to_owned(), row.clone()))
            .collect()
    };
    wait_until("four deployments in /api/dora", || {
        let r = server.get(path);
        r.status == 200 && deployments(&r.json()).len() == 4
    });
    let rows = deployments(&server.get(path).json());
    assert_eq!(
        rows.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "component:default/checkout",
            "component:default/inventory",
            "component:default/podinfo",
            "component:default/shop",
        ]
    );
    for (key, row) in &rows {
        assert_eq!(row["metrics"]["deployments"]["counted"], 1, "{key}: {row}");
    }
    // GitLab's times carry offsets (+02:00, +0200): committed 3 h ago, deployed 1 h ago.
    assert_eq!(
        rows["component:default/shop"]["metrics"]["lead_time"]["median_ms"].as_f64(),
        Some((2 * HOUR) as f64),
        "{}",
        rows["component:default/shop"]
    );

    // Incidents through /api/incidents, on the entities their services name.
    wait_until("five incidents", || {
        let r = server.get("/api/incidents");
        r.status == 200 && r.json()["items"].as_array().map(Vec::len) == Some(5)
    });
    let incidents = server.get("/api/incidents").json();
    let by_entity: BTreeMap<&str, &Value> = incidents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["entity"].as_str().unwrap_or("(none)"), i))
        .collect();
    assert_eq!(
        by_entity.keys().copied().collect::<Vec<_>>(),
        [
            "component:default/inventory",
            "component:default/ledger",
            "component:default/mail",
            "component:default/payments",
            "component:default/search",
        ],
        "{incidents}"
    );
    let paged = by_entity["component:default/payments"];
    assert_eq!(paged["id"], "PFQZPSY");
    assert_eq!(paged["source"], "pagerduty");
    assert_eq!(paged["state"], "resolved");
    assert_eq!(paged["opened_at"], now - 50 * MINUTE);
    assert_eq!(paged["acknowledged_at"], now - 40 * MINUTE);
    assert_eq!(paged["resolved_at"], now - 20 * MINUTE);
    assert_eq!(
        paged["url"],
        "https://pig208.pagerduty.com/incidents/PFQZPSY"
    );
    let tagged = by_entity["component:default/search"];
    assert_eq!(tagged["source"], "opsgenie");
    assert_eq!(tagged["state"], "resolved");
    assert_eq!(tagged["opened_at"], now - 45 * MINUTE);
    assert_eq!(tagged["resolved_at"], now - 15 * MINUTE);
    assert_eq!(by_entity["component:default/ledger"]["state"], "open");
    let detailed = by_entity["component:default/mail"];
    assert_eq!(detailed["state"], "open");
    assert_eq!(detailed["opened_at"], now - 36 * MINUTE);
    assert_eq!(detailed["acknowledged_at"], now - 35 * MINUTE);
    let reported = by_entity["component:default/inventory"];
    assert_eq!(reported["source"], "cdevents");
    assert_eq!(reported["opened_at"], now - 24 * MINUTE);
    assert_eq!(reported["resolved_at"], now - 5 * MINUTE);

    // Alert quality through /api/alerts: billing's two alerts, resolved after 20 minutes,
    // with no incident of billing: neither short-lived nor actionable.
    wait_until("two alert firings", || {
        let r = server.get("/api/alerts?since=1d");
        r.status == 200 && r.json()["firings"] == 2
    });
    let quality = server.get("/api/alerts?since=1d").json();
    assert_eq!(quality["firingNow"], 0, "{quality}");
    assert_eq!(quality["shortLived"], 0, "{quality}");
    assert_eq!(quality["actionable"], 0, "{quality}");
    assert_eq!(quality["unattributed"], 0, "{quality}");
    assert_eq!(quality["medianResolveMs"], 20 * MINUTE, "{quality}");
    let per_alert = quality["alerts"].as_array().unwrap();
    assert_eq!(
        per_alert.len(),
        1,
        "one alert name on one entity: {quality}"
    );
    assert_eq!(per_alert[0]["name"], "High CPU Temperature");
    assert_eq!(per_alert[0]["entity"], "component:default/billing");
    assert_eq!(per_alert[0]["firings"], 2);
    let other = server.get("/api/alerts?since=1d&entity=payments").json();
    assert_eq!(other["firings"], 0, "{other}");
    // And on the organisation's DORA page.
    let page = server.get("/dora?since=7d");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Alert quality")
            && page.body.contains("High CPU Temperature")
            && page.body.contains("2 firings"),
        "{}",
        page.body
    );
    let bad = server.get("/api/alerts?since=soon");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("since"), "{}", bad.body);
    drop(server);

    // The same through the command.
    let out = run(
        &[
            "alerts",
            "--since",
            "1d",
            "--config",
            &setup.config,
            "-o",
            "json",
        ],
        &setup.db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cli: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(cli["firings"], 2, "{cli}");
    assert_eq!(cli["alerts"][0]["name"], "High CPU Temperature", "{cli}");
    let out = run(&["alerts", "--config", &setup.config], &setup.db);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("High CPU Temperature") && table.contains("2 firings since"),
        "{table}"
    );

    // Nothing forged was stored; everything was processed and attributed.
    let out = run(
        &["events", "status", "--config", &setup.config, "-o", "json"],
        &setup.db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["deliveries"], accepted, "{status}");
    assert_eq!(status["pending"], 0, "{status}");
    let out = run(
        &[
            "events",
            "unattributed",
            "--config",
            &setup.config,
            "-o",
            "json",
        ],
        &setup.db,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[]", "every subject has its entity");

    // The alerts, as the ledger stored them: two, on billing, both resolved.
    let alerts = stored_alerts(&setup.db);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    for alert in &alerts {
        assert_eq!(alert.entity.as_deref(), Some("component:default/billing"));
        assert_eq!(alert.starts_at, now - 30 * MINUTE);
        assert_eq!(alert.ends_at, Some(now - 10 * MINUTE));
    }
}

/// The ledger's alert rows, read from the database and decoded with the ledger's codec.
fn stored_alerts(db: &str) -> Vec<pave_delivery::AlertRow> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows: Vec<(i16, String, Vec<u8>)> = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(db).await.unwrap();
        sqlx::query_as("SELECT kind, key, body FROM delivery_ledger ORDER BY kind, key")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    let mut codec = pave_delivery::codec::Codec::new();
    rows.iter()
        .filter_map(|(kind, key, body)| codec.decode(*kind, key, body).unwrap())
        .filter_map(|row| match row {
            pave_delivery::Row::Alert(alert) => Some(alert),
            _ => None,
        })
        .collect()
}

/// Every CDEvents v0.5.1 conformance example, in both CloudEvents modes, through the route:
/// accepted, and either read or ignored by type.
#[test]
fn every_cdevents_conformance_example_is_taken_in_both_modes() {
    let Some(root) = pave_testkit::corpus("cdevents", "conformance") else {
        return;
    };
    let setup = setup();
    let server = start(&setup);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("conformance"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} examples", files.len());
    let mapped = [
        "change.merged",
        "service.deployed",
        "service.upgraded",
        "service.rolledback",
        "service.removed",
        "pipelinerun.finished",
        "artifact.published",
        "incident.detected",
        "incident.reported",
        "incident.resolved",
    ];
    for file in &files {
        let mut event: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        // The examples share ids (incident.detected and incident.resolved are both
        // F4BD2B55… from /monitoring/prod1), and a CloudEvent is identified by its source and
        // id: give each its own, or the later ones would be duplicates.
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let id = format!("{}-{stem}", event["context"]["id"].as_str().unwrap());
        event["context"]["id"] = json!(id);
        let ty = event["context"]["type"].as_str().unwrap().to_owned();
        let ty = ty.as_str();
        let is_mapped = mapped
            .iter()
            .any(|m| ty.starts_with(&format!("dev.cdevents.{m}.")));
        for (mode, delivery) in [
            ("structured", cloudevent_structured(&event, "ce-current")),
            ("binary", cloudevent_binary(&event, "ce-current")),
        ] {
            let answer = delivery.send(server.addr);
            let receipt = answer.json();
            assert!(
                matches!(answer.status, 200 | 202),
                "{} ({mode}): {} {}",
                file.display(),
                answer.status,
                answer.body
            );
            if is_mapped {
                assert_eq!(
                    receipt["events"],
                    1,
                    "{} ({mode}): {receipt}",
                    file.display()
                );
            } else {
                assert_eq!(
                    receipt["events"],
                    0,
                    "{} ({mode}): {receipt}",
                    file.display()
                );
                assert!(
                    receipt["ignored"].as_str().is_some_and(|r| r.contains(ty)),
                    "{} ({mode}): {receipt}",
                    file.display()
                );
            }
            // The second mode is the same CloudEvent (source and id): a duplicate.
            assert_eq!(
                receipt["duplicate"],
                mode == "binary",
                "{} ({mode}): {receipt}",
                file.display()
            );
        }
    }
}
