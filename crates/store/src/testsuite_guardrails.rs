//! The guardrail part of the store suite: check reports stored with their audit records (and
//! rolled back with them), the newest of an entity read back exactly, histories newest first
//! and bounded, only the newest `CHECK_REPORTS_KEPT` of an entity kept (other entities
//! untouched), also when writers meet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pave_audit::Outcome;

use crate::testsuite_identity::event;
use crate::{CHECK_REPORTS_KEPT, CheckCounts, NewCheckReport, Store};

fn report(entity: &str, n: u64) -> NewCheckReport {
    NewCheckReport {
        entity_ref: entity.into(),
        received_at: 1_800_000_000 + i64::try_from(n).unwrap(),
        commit: Some(format!("{n:040x}")),
        branch: n.is_multiple_of(2).then(|| "main".to_owned()),
        counts: CheckCounts {
            failed: n,
            warnings: n * 2,
            excepted: n % 3,
            errors: n % 2,
            files: 10 + n,
        },
        // Non-ASCII, escapes and quotes survive as they are.
        report: format!(r#"{{"n":{n},"message":"café \"ü\" \\ \u{{2713}} ✓"}}"#),
    }
}

fn published(n: i64, entity: &str) -> pave_audit::AuditEvent {
    event(n, "guardrails.report", entity, Outcome::Success)
}

pub(crate) async fn check_reports_keep_the_newest(store: &dyn Store) {
    let a = "component:default/checkout";
    let b = "component:default/basket";
    assert_eq!(store.latest_check_report(a).await.unwrap(), None);
    assert!(store.check_report_history(a, 10).await.unwrap().is_empty());
    let head = store.audit_head().await.unwrap();
    let b_id = store
        .put_check_report(&report(b, 7), &[published(0, b)])
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 1..=25u64 {
        let id = store
            .put_check_report(&report(a, n), &[published(n as i64, a)])
            .await
            .unwrap();
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(store.audit_head().await.unwrap().seq, head.seq + 26);

    let latest = store.latest_check_report(a).await.unwrap().unwrap();
    let want = report(a, 25);
    assert_eq!(latest.id, ids[24]);
    assert_eq!(latest.entity_ref, a);
    assert_eq!(latest.received_at, want.received_at);
    assert_eq!((latest.commit, latest.branch), (want.commit, want.branch));
    assert_eq!(
        (
            latest.failed,
            latest.warnings,
            latest.excepted,
            latest.errors,
            latest.files
        ),
        (25, 50, 1, 1, 35)
    );
    assert_eq!(latest.report, want.report);

    let history = store.check_report_history(a, 100).await.unwrap();
    assert_eq!(history.len(), CHECK_REPORTS_KEPT);
    let listed: Vec<i64> = history.iter().map(|h| h.id).collect();
    let newest: Vec<i64> = ids.iter().rev().take(CHECK_REPORTS_KEPT).copied().collect();
    assert_eq!(listed, newest, "newest first, the oldest five gone");
    assert_eq!(history[0], {
        let mut row = store.latest_check_report(a).await.unwrap().unwrap();
        row.report.clear();
        row.summary()
    });
    // Report 25 was published without a branch, 24 with one.
    assert_eq!(history[0].branch, None);
    assert_eq!(history[1].branch.as_deref(), Some("main"));
    let three = store.check_report_history(a, 3).await.unwrap();
    assert_eq!(three, history[..3]);
    assert!(store.check_report_history(a, 0).await.unwrap().is_empty());
    // Another entity's reports are not touched by the trimming.
    let other = store.latest_check_report(b).await.unwrap().unwrap();
    assert_eq!((other.id, other.failed), (b_id, 7));
    assert_eq!(store.check_report_history(b, 100).await.unwrap().len(), 1);
    // The newest of each entity asked for, in one read; entities without reports are
    // left out, and more refs than one statement takes are read in several.
    let mut asked: Vec<String> = (0..1_200)
        .map(|i| format!("component:default/none-{i}"))
        .collect();
    asked.push(a.to_owned());
    asked.push(b.to_owned());
    let mut latest = store.latest_check_summaries(&asked).await.unwrap();
    latest.sort_by_key(|s| s.id);
    let got: Vec<(String, i64)> = latest
        .iter()
        .map(|s| (s.entity_ref.clone(), s.id))
        .collect();
    assert_eq!(got, [(b.to_owned(), b_id), (a.to_owned(), ids[24])]);
    assert_eq!(latest[1], history[0]);
    assert!(store.latest_check_summaries(&[]).await.unwrap().is_empty());
    // Refs are keys: no case folding or prefix matching here (the server canonicalises).
    assert_eq!(
        store
            .latest_check_report("Component:default/checkout")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .check_report_history("component:default/check", 5)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn failed_check_reports_write_nothing(store: &dyn Store) {
    let head = store.audit_head().await.unwrap();
    let empty = report("", 1);
    assert!(
        store
            .put_check_report(&empty, &[published(1, "")])
            .await
            .is_err(),
        "an empty ref must fail the write"
    );
    assert_eq!(store.audit_head().await.unwrap(), head, "no audit record");
    assert!(store.check_report_history("", 10).await.unwrap().is_empty());

    // A large report (2 MB) and no commit or branch round-trip as they are.
    let entity = "resource:platform/big";
    let mut big = report(entity, 3);
    big.commit = None;
    big.branch = None;
    big.report = format!(
        "[{}\"end\"]",
        "\"ünïcode ✓ \\\"quoted\\\"\",".repeat(80_000)
    );
    let id = store.put_check_report(&big, &[]).await.unwrap();
    let got = store.latest_check_report(entity).await.unwrap().unwrap();
    assert_eq!((got.id, got.commit, got.branch), (id, None, None));
    assert_eq!(got.report, big.report);
}

/// Writers that meet keep exactly the newest of an entity, and the newest is the last to
/// have been stored.
pub(crate) async fn concurrent_check_reports_keep_exactly_the_newest(store: &dyn Store) {
    let entity = "component:default/concurrent";
    for n in 0..15 {
        store
            .put_check_report(&report(entity, n), &[])
            .await
            .unwrap();
    }
    let audit = [published(99, entity)];
    let reports: Vec<NewCheckReport> = (100..112).map(|n| report(entity, n)).collect();
    let results =
        futures_util::future::join_all(reports.iter().map(|r| store.put_check_report(r, &audit)))
            .await;
    let ids: Vec<i64> = results.into_iter().map(|r| r.unwrap()).collect();
    let history = store.check_report_history(entity, 100).await.unwrap();
    assert_eq!(history.len(), CHECK_REPORTS_KEPT);
    let max = *ids.iter().max().unwrap();
    assert_eq!(history[0].id, max);
    assert!(ids.iter().all(|id| history.iter().any(|h| h.id == *id)));
}
