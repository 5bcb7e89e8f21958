//! Deriving the ledger from committed deliveries, against real stores: facts survive a
//! crash between acknowledging and processing, a replay after a configuration change
//! re-derives them (and says what it could not), declared incidents go the same way, and
//! the demo's 90 days give real figures through receive → process → report.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use pave_audit::{Actor, ActorKind};
use pave_delivery::demo::{DEMO_DAYS, demo_deliveries, received_at};
use pave_delivery::{Attribution, AttributionConfig, Ledger, LedgerConfig, SubjectMapping};
use pave_dora::{GroupBy, Query, RowKind};
use pave_intake::incident::Declaration;
use pave_intake::{Intake, IntakeConfig, Processor};
use pave_store::DeliveryRetention;

fn operator() -> Actor {
    Actor {
        kind: ActorKind::Operator,
        id: String::new(),
        role: None,
    }
}

/// Receives a push and a successful production deployment of `shop/checkout` per `n`.
async fn receive_deployments(intake: &Intake, range: std::ops::Range<u64>) {
    for n in range {
        let push = push_body("shop/checkout", n);
        intake
            .receive(
                "github",
                &github_headers("push", &format!("p-{n}"), SECRET, &push),
                &push,
                NOW,
            )
            .await
            .unwrap();
        let at = format!("2026-03-01T{:02}:30:00Z", n % 24);
        let status = deployment_status_body("shop/checkout", 1000 + n, &format!("{n:040x}"), &at);
        let headers = github_headers("deployment_status", &format!("s-{n}"), SECRET, &status);
        intake
            .receive("github", &headers, &status, NOW)
            .await
            .unwrap();
    }
}

async fn acknowledged_deliveries_survive_a_crash(test: &TestStore) {
    let attribution = || Attribution::from_entities(&catalog());
    {
        let store = test.open().await;
        let intake = Intake::start(store.clone(), config());
        receive_deployments(&intake, 1..6).await;
        // Processing never ran: the process "dies" here.
        drop(intake);
    }
    let store = test.open().await;
    let processor = Processor::load(store.clone(), attribution(), &config())
        .await
        .unwrap();
    assert_eq!(processor.stats().cursor, 0);
    let progress = processor.catch_up().await.unwrap();
    assert_eq!(progress.deliveries, 10);
    assert!(progress.rows > 10, "{progress:?}");
    assert_eq!(store.ledger_cursor().await.unwrap(), progress.cursor);
    let latest = processor.latest_deployments(Some("component:default/checkout"));
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest[0].environment, "production");
    assert_eq!(
        latest[0].current.as_ref().unwrap().sha.as_deref(),
        Some(format!("{:040x}", 5).as_str())
    );
    let stats = processor.stats().ledger.unwrap();
    assert_eq!(stats.deployments, 5);

    // A restart after processing rebuilds the same ledger from its rows, reading no
    // delivery again.
    drop(processor);
    let store = test.open().await;
    let reloaded = Processor::load(store.clone(), attribution(), &config())
        .await
        .unwrap();
    assert_eq!(reloaded.stats().ledger.unwrap(), stats);
    assert_eq!(reloaded.run_once().await.unwrap().deliveries, 0);
    // And the report reads the derived facts.
    let report = reloaded
        .report(&Query::new(NOW - 30 * DAY, NOW, 0), "production")
        .await
        .unwrap();
    let org = report
        .rows
        .iter()
        .find(|r| r.kind == RowKind::Group)
        .unwrap();
    assert_eq!(org.metrics.deployments.counted, 5, "{org:?}");
}
on_both_stores!(acknowledged_deliveries_survive_a_crash);

/// A CDEvents `service.deployed` of `app` on `cluster` to `environment`.
fn service_deployed(n: u32, environment: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "context": {
            "version": "0.4.1",
            "id": format!("deploy-{n}"),
            "source": "/cluster/a",
            "type": "dev.cdevents.service.deployed.0.1.1",
            "timestamp": format!("2026-03-01T{:02}:00:00Z", n % 24),
        },
        "subject": {
            "id": "app",
            "source": "/cluster/a",
            "content": {"environment": {"id": environment}, "artifactId": format!("pkg:oci/app@v{n}")},
        },
    }))
    .unwrap()
}

async fn replay_applies_a_new_configuration(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer cdevents-secret"),
    ];
    for n in 0..4 {
        let body = service_deployed(n, "live");
        let receipt = intake
            .receive("cdevents", &headers, &body, NOW)
            .await
            .unwrap();
        assert_eq!(receipt.events, 1);
    }
    let processor = Processor::load(
        store.clone(),
        Attribution::from_entities(&catalog()),
        &config(),
    )
    .await
    .unwrap();
    processor.catch_up().await.unwrap();
    // Nobody claims the subject, and "live" is not production by default.
    let unattributed = processor.unattributed();
    assert_eq!(unattributed.len(), 1);
    assert_eq!(unattributed[0].key, "cdevents:/cluster/a#app");
    assert_eq!(unattributed[0].events, 4);
    assert!(processor.latest_deployments(None).is_empty());

    // The mapping and the production rule change: a replay derives everything again.
    let mut changed = config();
    changed.attribution = AttributionConfig {
        mappings: vec![SubjectMapping {
            subject: "cdevents:/cluster/a".into(),
            entity: "search".into(),
        }],
        ..AttributionConfig::default()
    };
    changed.ledger = LedgerConfig {
        production_environments: vec!["live".into()],
        ..LedgerConfig::default()
    };
    let attribution = Attribution::with_config(&catalog(), &changed.attribution).unwrap();
    let processor = Processor::load(store.clone(), attribution, &changed)
        .await
        .unwrap();
    let report = processor.replay(&[]).await.unwrap();
    assert_eq!((report.replayed, report.expired), (4, 0), "{report:?}");
    assert!(report.rows_removed > 0 && report.rows > 0, "{report:?}");
    assert!(processor.unattributed().is_empty());
    let latest = processor.latest_deployments(Some("component:default/search"));
    assert_eq!(latest.len(), 1);
    assert!(latest[0].latest.production);
    assert_eq!(
        latest[0].current.as_ref().unwrap().version.as_deref(),
        Some("pkg:oci/app@v3")
    );
    let dora = processor
        .report(&Query::new(NOW - 30 * DAY, NOW, 0), "live")
        .await
        .unwrap();
    let search = dora
        .rows
        .iter()
        .find(|r| r.key == "component:default/search");
    // Team view lists groups; the entity's deployments count in its team's row.
    let team = dora
        .rows
        .iter()
        .find(|r| r.key == "group:default/team-a")
        .unwrap();
    assert_eq!(team.metrics.deployments.counted, 4, "{search:?} {team:?}");

    // Payloads retention released cannot be replayed: the replay says how many.
    let released = store
        .expire_deliveries(&DeliveryRetention {
            received_before: NOW + DAY,
            keep_at_least: 1,
            kept_sources: &[],
        })
        .await
        .unwrap();
    assert_eq!(released, 3);
    let report = processor.replay(&[]).await.unwrap();
    assert_eq!((report.replayed, report.expired), (1, 3), "{report:?}");
    assert_eq!(processor.stats().ledger.unwrap().deployments, 1);
}
on_both_stores!(replay_applies_a_new_configuration);

async fn reattribution_without_replay(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    receive_deployments(&intake, 1..3).await;
    // A catalog where nobody claims the repository yet.
    let empty = Attribution::from_entities(&[]);
    let processor = Processor::load(store.clone(), empty, &config())
        .await
        .unwrap();
    processor.catch_up().await.unwrap();
    assert_eq!(
        processor.unattributed()[0].key,
        "repo:github.com/shop/checkout"
    );
    let written = processor
        .set_attribution(Attribution::from_entities(&catalog()))
        .await
        .unwrap();
    assert!(written > 0);
    assert!(processor.unattributed().is_empty());
    // Persisted: a restart with the same catalog changes nothing more.
    let again = Processor::load(
        store.clone(),
        Attribution::from_entities(&catalog()),
        &config(),
    )
    .await
    .unwrap();
    assert_eq!(again.latest_deployments(None).len(), 1);
}
on_both_stores!(reattribution_without_replay);

async fn declared_incidents_are_incidents(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    receive_deployments(&intake, 1..3).await;
    let (id, receipt) = intake
        .declare_incident(
            &Declaration {
                entity: "checkout".into(),
                id: None,
                title: "Payments fail".into(),
                severity: Some("sev1".into()),
                environment: Some("production".into()),
                at: NOW - 30 * MINUTE,
            },
            operator(),
            NOW - 29 * MINUTE,
        )
        .await
        .unwrap();
    assert!(id.starts_with("inc-"));
    assert_eq!(receipt.events, 1);
    let processor = Processor::load(
        store.clone(),
        Attribution::from_entities(&catalog()),
        &config(),
    )
    .await
    .unwrap();
    processor.catch_up().await.unwrap();
    let open = processor.incidents(Some("component:default/checkout"), true);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].row.severity, Some(1));
    assert_eq!(open[0].row.title.as_deref(), Some("Payments fail"));
    intake
        .resolve_incident("checkout", &id, NOW - 10 * MINUTE, operator(), NOW)
        .await
        .unwrap();
    processor.catch_up().await.unwrap();
    assert!(processor.incidents(None, true).is_empty());
    let detail = processor.incident(&format!("pave:catalog#{id}")).unwrap();
    assert!(!detail.incident.open);
    assert_eq!(detail.incident.duration_ms, Some(20 * MINUTE));
    let what: Vec<&str> = detail.timeline.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(what, ["opened", "resolved"]);
    // By row id too, and the declaration is in the audit log under its actor.
    assert!(
        processor
            .incident(&detail.incident.row.id.to_string())
            .is_some()
    );
    let records = store
        .audit_records(&pave_store::AuditQuery {
            action: Some("events.receive".into()),
            actor: None,
            limit: 100,
            ..pave_store::AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.event.actor.kind == ActorKind::Operator)
    );
}
on_both_stores!(declared_incidents_are_incidents);

/// The demo's 90 days through the whole path give the figures the ledger gives when fed
/// directly: nothing is lost or changed on the way through GitHub payloads and the store.
async fn the_demo_goes_through_receive_process_report(test: &TestStore) {
    let entities = demo_catalog();
    let deliveries = demo_deliveries(&entities, NOW, 7);
    let store = test.open().await;
    let intake = Arc::new(Intake::start(store.clone(), config()));
    let mut skipped = 0;
    let mut sent = Vec::new();
    for delivery in &deliveries {
        match pave_intake::demo::raw_delivery(delivery).unwrap() {
            Some(raw) => sent.push((raw, received_at(delivery, NOW), delivery)),
            None => skipped += 1,
        }
    }
    // In order, 32 at a time (the group commit takes each group in one transaction).
    for chunk in sent.chunks(32) {
        let mut tasks = Vec::new();
        for (raw, at, _) in chunk {
            let intake = intake.clone();
            let mut headers = raw.headers.clone();
            let sender = match raw.source {
                pave_events::Source::Alertmanager => {
                    headers.push((
                        "Authorization".into(),
                        format!("Bearer {ALERTMANAGER_SECRET}"),
                    ));
                    "alertmanager"
                }
                _ => {
                    headers.push((
                        "X-Hub-Signature-256".into(),
                        github_signature(SECRET, &raw.body),
                    ));
                    "github"
                }
            };
            let body = raw.body.clone();
            let at = *at;
            tasks.push(tokio::spawn(async move {
                intake.receive(sender, &headers, &body, at).await.unwrap()
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    assert!(skipped > 0, "acknowledgements have no GitHub form");
    let attribution = Attribution::from_entities(&entities);
    let processor = Processor::load(store.clone(), attribution.clone(), &config())
        .await
        .unwrap();
    processor.catch_up().await.unwrap();

    // The same deliveries straight into a ledger (what GitHub can carry of them).
    let mut direct = Ledger::new(LedgerConfig::default()).unwrap();
    for (seq, (_, at, delivery)) in sent.iter().enumerate() {
        direct.apply(seq as u64 + 1, *at, delivery, &attribution);
    }
    let org = attribution.org().clone();
    let index = pave_dora::Index::build(&org, &direct.facts(&org, "production")).unwrap();
    let mut query = Query::new(NOW - DEMO_DAYS * DAY, NOW, 0);
    query.group_by = GroupBy::Org;
    query.environment = index.environment("production").unwrap();
    let expected = pave_dora::report(&index, &query).unwrap();
    let report = processor.report(&query, "production").await.unwrap();
    let pick = |report: &pave_dora::Report| {
        report
            .rows
            .iter()
            .find(|r| r.key == "org")
            .cloned()
            .unwrap()
    };
    let (got, want) = (pick(&report), pick(&expected));
    assert!(got.metrics.deployments.counted > 500, "{got:?}");
    assert!(got.metrics.lead_time.median_ms.is_some(), "{got:?}");
    assert!(got.metrics.change_failure_rate.rate.is_some(), "{got:?}");
    assert_eq!(got.metrics, want.metrics);
    // Alertmanager's notifications say the same of the demo's alerts as the alerts do.
    let options = pave_delivery::alerts::AlertQualityOptions::default();
    let since = NOW - 30 * DAY;
    let alerts = processor.alert_report(None, since, NOW, &options);
    let rows = direct.alert_rows();
    let incidents = direct.incident_rows();
    let spans: Vec<_> = incidents
        .iter()
        .filter_map(pave_delivery::alerts::IncidentSpan::of)
        .collect();
    let want_alerts = pave_delivery::alerts::alert_report(&rows, &spans, since, NOW, &options);
    assert_eq!(alerts.quality, want_alerts.quality);
    assert!(alerts.quality.short_lived > 0, "{:?}", alerts.quality);
    assert!(alerts.quality.actionable > 0, "{:?}", alerts.quality);
    assert_eq!(alerts.quality.unattributed, 0, "{:?}", alerts.quality);
    assert!(alerts.noisy_alerts > 0, "{alerts:?}");
    // The cached index answers the next report (same version), and the views are filled.
    assert_eq!(
        processor.report(&query, "production").await.unwrap(),
        report
    );
    assert!(processor.latest_deployments(None).len() > 20);
    assert_eq!(processor.unattributed().len(), 1);
    assert!(!processor.incidents(None, false).is_empty());
    let linked = processor
        .incidents(None, false)
        .into_iter()
        .find(|i| i.row.caused_by.is_some())
        .unwrap();
    let detail = processor.incident(&linked.row.incident).unwrap();
    assert!(detail.caused_by.is_some());
    assert!(
        detail
            .timeline
            .iter()
            .any(|(_, w)| w.contains("(the cause)"))
    );
}
on_both_stores!(the_demo_goes_through_receive_process_report);

#[test]
fn configuration_defaults_are_the_documented_ones() {
    let config = IntakeConfig::default();
    assert_eq!(config.body_limit, 5 * 1024 * 1024);
    assert!(config.queue_capacity >= config.max_batch);
}

async fn the_run_loop_processes_as_deliveries_commit(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    let load = || async {
        Arc::new(
            Processor::load(
                test.open().await,
                Attribution::from_entities(&catalog()),
                &config(),
            )
            .await
            .unwrap(),
        )
    };
    let (leader, follower) = (load().await, load().await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let poll = std::time::Duration::from_millis(200);
    let running = tokio::spawn(leader.clone().run(intake.committed(), poll, async {
        let _ = stopped.await;
    }));
    // Give the leader the lease before the follower starts.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (stop_follower, follower_stopped) = tokio::sync::oneshot::channel::<()>();
    let following = tokio::spawn(follower.clone().run(
        Arc::new(tokio::sync::Notify::new()),
        poll,
        async {
            let _ = follower_stopped.await;
        },
    ));
    receive_deployments(&intake, 1..4).await;
    let last = store.delivery_stats().await.unwrap().last_seq;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while leader.stats().cursor < last || follower.stats().cursor < last {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?} {:?}",
            leader.stats(),
            follower.stats()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Woken by the commit, not by the poll: the leader processed; the follower reloaded
    // what the leader wrote and shows the same facts.
    assert_eq!(store.ledger_cursor().await.unwrap(), last);
    assert_eq!(
        leader.latest_deployments(None),
        follower.latest_deployments(None)
    );
    assert_eq!(follower.stats().ledger.unwrap().deployments, 3);
    stop.send(()).unwrap();
    stop_follower.send(()).unwrap();
    running.await.unwrap();
    following.await.unwrap();
    // The leader gave the lease up on the way out.
    assert!(
        store
            .acquire_lease("events:ledger", "someone-else", NOW, 1000)
            .await
            .unwrap()
    );
}
on_both_stores!(the_run_loop_processes_as_deliveries_commit);
