#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use pave_policy::Status;

use super::*;

const NOW: i64 = 1_800_000_000;

fn latest_of(reports: &[DemoCheckReport]) -> BTreeMap<&str, &DemoCheckReport> {
    let mut latest = BTreeMap::new();
    for r in reports {
        latest.insert(r.entity_ref.as_str(), r);
    }
    latest
}

#[test]
fn every_service_and_worker_has_reports_oldest_first() {
    let reports = demo_check_reports(NOW).unwrap();
    let components: BTreeSet<String> = crate::demo_org_entities()
        .iter()
        .filter(|e| e["kind"] == "Component")
        .filter(|e| {
            let t = e["spec"]["type"].as_str().unwrap();
            t == "service" || t == "worker"
        })
        .map(|e| {
            format!(
                "component:default/{}",
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    let reported: BTreeSet<String> = reports.iter().map(|r| r.entity_ref.clone()).collect();
    assert_eq!(reported, components);
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for r in &reports {
        if let Some(before) = last.insert(&r.entity_ref, r.received_at) {
            assert!(before < r.received_at, "{} out of order", r.entity_ref);
        }
        assert!(r.received_at < NOW && r.received_at > NOW - 10 * 86_400);
        assert_eq!(r.commit.len(), 40);
        assert!(r.commit.bytes().all(|b| b.is_ascii_hexdigit()));
        // Every report is one the server takes as it is.
        assert_eq!(StoredReport::parse(&r.report.to_json()).unwrap(), r.report);
        assert!(r.report.summary.documents > 10, "{}", r.entity_ref);
        assert_eq!(
            r.report.summary.errors, 0,
            "{}: {:?}",
            r.entity_ref, r.report.errors
        );
    }
    assert!(reports.len() > components.len(), "some have a history");
}

#[test]
fn the_same_moment_makes_the_same_reports() {
    let (a, b) = (
        demo_check_reports(NOW).unwrap(),
        demo_check_reports(NOW).unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x.entity_ref, x.received_at, &x.commit, x.report.to_json()),
            (&y.entity_ref, y.received_at, &y.commit, y.report.to_json())
        );
    }
}

/// Each drift shows as its rule's finding, in the file it changed; services without drift
/// have only what their golden path gives under the recommended profile (low and info).
#[test]
fn drift_is_what_the_reports_find() {
    let reports = demo_check_reports(NOW).unwrap();
    let latest = latest_of(&reports);
    let names: BTreeSet<&str> = latest
        .keys()
        .map(|k| k.trim_start_matches("component:default/"))
        .collect();
    for (name, now, older) in DRIFT {
        assert!(names.contains(name), "{name} is no service of the demo");
        let report = &latest[format!("component:default/{name}").as_str()].report;
        for drift in *now {
            assert!(
                report.findings.iter().any(|f| f.rule == drift.rule()),
                "{name}: {drift:?} not found: {:?}",
                report.findings
            );
        }
        assert!(!older.iter().any(|d| d.is_empty()), "{name}");
    }
    for (entity, r) in &latest {
        let name = entity.trim_start_matches("component:default/");
        if drift_of(name).0.is_empty() {
            assert!(r.report.passed(), "{entity}");
            assert!(
                r.report
                    .findings
                    .iter()
                    .all(|f| f.severity <= pave_policy::Severity::Low),
                "{entity}: {:?}",
                r.report.findings
            );
        }
    }
    let legacy = &latest["component:default/legacy-basket"].report;
    let root = legacy
        .findings
        .iter()
        .find(|f| f.rule == "docker-root-user")
        .unwrap();
    assert_eq!(root.file, "Dockerfile");
    assert!(root.line.is_some());
    let secret = &latest["component:default/legacy-sso-bridge"].report;
    let env = secret
        .findings
        .iter()
        .find(|f| f.rule == "k8s-env-secret")
        .unwrap();
    assert!(env.file.starts_with("deploy/base/"), "{}", env.file);
    assert_eq!(env.object.as_ref().unwrap().kind, "Deployment");
}

/// Most services pass, a few fail; one waiver is active and one expired.
#[test]
fn the_mix_is_believable() {
    let reports = demo_check_reports(NOW).unwrap();
    let latest = latest_of(&reports);
    let failing: Vec<&str> = latest
        .iter()
        .filter(|(_, r)| !r.report.passed())
        .map(|(e, _)| *e)
        .collect();
    assert!(
        (3..=8).contains(&failing.len()) && failing.len() * 5 < latest.len(),
        "{failing:?} of {}",
        latest.len()
    );
    let fraud = &latest["component:default/fraud-scoring"].report;
    assert!(fraud.passed());
    let excepted = fraud
        .findings
        .iter()
        .find(|f| f.status == Status::Excepted)
        .unwrap();
    assert_eq!(excepted.exception.as_ref().unwrap().owner, "payments-core");
    let courier = &latest["component:default/courier-app-backend"].report;
    assert!(
        courier
            .findings
            .iter()
            .any(|f| f.rule == "pave-exception-expired" && f.status == Status::Failed)
    );
    // A fixed service's history shows the fix.
    let cart: Vec<&DemoCheckReport> = reports
        .iter()
        .filter(|r| r.entity_ref == "component:default/cart-service")
        .collect();
    let failed: Vec<u64> = cart.iter().map(|r| r.report.summary.failed).collect();
    assert_eq!(failed, [2, 1, 0]);
}
