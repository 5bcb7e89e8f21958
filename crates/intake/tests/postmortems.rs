//! Posted postmortems against real stores: a processor that was running when one was posted
//! picks it up from the deliveries (another replica's post), the latest revision of a name
//! wins, nothing counts as unreadable, retention keeps their payloads, and the KPIs see the
//! ledger's incidents by the ids postmortems name.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_audit::{Actor, ActorKind};
use pave_delivery::Attribution;
use pave_dora::postmortem::{KpiOptions, Window, kpis};
use pave_intake::incident::Declaration;
use pave_intake::{Intake, Origin, POSTMORTEM_SOURCE, Processor};

fn operator() -> Actor {
    Actor {
        kind: ActorKind::Operator,
        id: String::new(),
        role: None,
    }
}

fn postmortem(incident: &str, status: &str) -> String {
    let closed = if status == "done" {
        "\n    closed: 2026-02-28"
    } else {
        ""
    };
    format!(
        "---\ntitle: Payments fail\nincidents: [\"{incident}\"]\ndate: 2026-02-28\nactions:\n  - title: Alert earlier\n    owner: group:default/team-a\n    due: 2026-03-01\n    status: {status}{closed}\n---\n"
    )
}

async fn posted_postmortems_follow_the_processor(test: &TestStore) {
    let store = test.open().await;
    let intake = Intake::start(store.clone(), config());
    let (id, _) = intake
        .declare_incident(
            &Declaration {
                entity: "checkout".into(),
                id: Some("inc-1".into()),
                title: "Payments fail".into(),
                severity: Some("sev1".into()),
                environment: Some("production".into()),
                at: NOW - 3 * DAY,
            },
            operator(),
            NOW - 3 * DAY,
        )
        .await
        .unwrap();
    intake
        .resolve_incident(
            "checkout",
            &id,
            NOW - 3 * DAY + 40 * MINUTE,
            operator(),
            NOW,
        )
        .await
        .unwrap();
    // Loaded before anything was posted: it learns of postings as it applies deliveries.
    let running = Processor::load(
        store.clone(),
        Attribution::from_entities(&catalog()),
        &config(),
    )
    .await
    .unwrap();
    assert!(running.posted_postmortems().is_empty());
    let incident_id = "pave:catalog#inc-1";
    let first = intake
        .post_postmortem(
            &Origin::default(),
            Some("payments"),
            &postmortem(incident_id, "open"),
            operator(),
            NOW,
        )
        .await
        .unwrap();
    assert!(!first.duplicate);
    let revised = intake
        .post_postmortem(
            &Origin::default(),
            Some("payments.md"),
            &postmortem(incident_id, "done"),
            operator(),
            NOW,
        )
        .await
        .unwrap();
    assert!(revised.seq > first.seq);
    let progress = running.catch_up().await.unwrap();
    assert_eq!(progress.unreadable, 0, "{progress:?}");
    let posted = running.posted_postmortems();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].file, "payments.md");
    assert!(
        posted[0].actions[0].status.unwrap().is_closed(),
        "the later revision"
    );

    // The KPIs match the ledger's incident by the id the postmortem names.
    let window = Window {
        from: NOW - 10 * DAY,
        to: NOW,
    };
    let k = kpis(
        &posted,
        &running.incident_records(),
        window,
        NOW,
        &KpiOptions::default(),
    );
    assert_eq!(
        (k.completion.counted, k.completion.on_time),
        (1, 1),
        "{:?}",
        k.completion
    );
    assert_eq!(k.closure.closed_on_time, 1);

    // Retention releases webhook payloads but never a posted postmortem's.
    let retention = pave_intake::Retention {
        days: 1,
        keep_at_least: 0,
    };
    let released = store
        .expire_deliveries(&retention.at(NOW + 1000 * DAY))
        .await
        .unwrap();
    assert!(released >= 2, "the incident events go: {released}");
    let kept = store.deliveries_of(POSTMORTEM_SOURCE, 0, 10).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|d| !d.expired && !d.body.is_empty()));
    let reloaded = Processor::load(
        store.clone(),
        Attribution::from_entities(&catalog()),
        &config(),
    )
    .await
    .unwrap();
    assert_eq!(reloaded.posted_postmortems(), posted);
}
on_both_stores!(posted_postmortems_follow_the_processor);
