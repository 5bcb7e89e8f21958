//! Status and gate against a real Prometheus (2.42, Debian's package) loaded with the
//! hand-written Sloth-style fixture and synthetic history. Skips with a note when prometheus
//! or promtool is missing, fails under `CI=true`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pave_prometheus::{Client, ClientOptions};
use pave_slo_status::{
    Exhaustion, GatePolicy, SloState, SloTarget, StatusOptions, decide, fetch_status,
};
use pave_testkit::prometheus::{TestPrometheus, check_rules, sloth};

const DAY: Duration = Duration::from_secs(86_400);

fn targets() -> Vec<SloTarget> {
    vec![
        SloTarget::sloth("checkout", "requests-availability", 99.9, 30 * DAY),
        SloTarget::sloth("search", "requests-availability", 99.5, 30 * DAY),
        SloTarget::sloth("ghost", "latency", 99.0, 30 * DAY),
    ]
}

#[test]
fn fixture_and_generated_rules_pass_promtool() {
    let Some(out) = check_rules(&sloth::fixture_rules()) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("34 rules found"), "{text}");

    // The generator the benchmark uses writes rules promtool accepts too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("generated.yml");
    std::fs::write(&file, sloth::rule_file(&sloth::fixture_slos())).unwrap();
    let out = check_rules(&file).unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_gate_from_a_live_prometheus() {
    let rules = sloth::fixture_rules();
    let history = sloth::history(&sloth::fixture_slos(), 180);
    let Some(prometheus) = tokio::task::spawn_blocking(move || {
        TestPrometheus::start(&[rules.as_path()], &history.text())
    })
    .await
    .unwrap() else {
        return;
    };

    // The harness: the backfilled period history (8 clusters of 12 samples, some older than
    // Prometheus' default 15-day retention) is there.
    let count = prometheus.query(
        r#"count_over_time(slo:sli_error:ratio_rate5m{sloth_id="checkout-requests-availability"}[30d] offset 1d)"#,
    );
    assert_eq!(count[0]["value"][1], "96", "{count}");

    let client = Client::new(prometheus.url(), ClientOptions::default()).unwrap();
    let report = fetch_status(&client, &targets(), &StatusOptions::default())
        .await
        .unwrap();
    // 8 windows + objective + ALERTS, all SLOs in one batch.
    assert_eq!(report.queries, 10);
    let [checkout, search, ghost] = &report.slos[..] else {
        panic!("{report:?}")
    };

    // Healthy: 0.05% errors now and on average (0.02% older than 15 days, 0.08% newer).
    assert_eq!(checkout.state, SloState::Ok, "{checkout:#?}");
    assert!(
        checkout.errors.is_empty() && checkout.warnings.is_empty(),
        "{checkout:#?}"
    );
    let remaining = checkout.budget_remaining.unwrap();
    assert!((remaining - 0.5).abs() < 0.01, "{remaining}");
    assert!((checkout.sli.unwrap() - 0.9995).abs() < 1e-5);
    let burn = checkout.current_burn_rate.unwrap();
    assert!((burn - 0.5).abs() < 0.01, "{burn}");
    assert_eq!(checkout.exhaustion, Exhaustion::Burning);
    let days = checkout.time_to_exhaustion_seconds.unwrap() / 86_400.0;
    assert!((days - 30.0).abs() < 1.0, "{days}");
    assert_eq!(checkout.windows.len(), 8);
    assert!(checkout.windows.iter().all(|w| w.burn_rate.is_some()));
    assert!(checkout.alerts.is_empty(), "{:?}", checkout.alerts);

    // Exhausted: 10% errors against a 0.5% budget.
    assert_eq!(search.state, SloState::Exhausted, "{search:#?}");
    let remaining = search.budget_remaining.unwrap();
    assert!((remaining + 19.0).abs() < 0.2, "{remaining}");
    assert!((search.current_burn_rate.unwrap() - 20.0).abs() < 0.2);
    assert_eq!(search.exhaustion, Exhaustion::Exhausted);
    let firing: Vec<_> = search
        .firing()
        .map(|a| (a.name.as_str(), a.severity.as_deref()))
        .collect();
    assert!(
        firing.contains(&("SearchHighErrorRate", Some("page"))),
        "{:?}",
        search.alerts
    );

    // Not in this Prometheus: an error naming the series.
    assert_eq!(ghost.state, SloState::Error);
    assert!(
        ghost.errors.iter().any(|e| e
            .contains(r#"slo:sli_error:ratio_rate30d{sloth_id="ghost-latency"}"#)
            && e.contains("pave slo generate")),
        "{:?}",
        ghost.errors
    );

    // The gate over the same statuses.
    let policy = GatePolicy::default();
    assert!(decide(&report.slos[..1], &policy, None).allowed);
    let frozen = decide(&report.slos[..2], &policy, None);
    assert!(frozen.freeze && !frozen.allowed);
    assert!(frozen.reasons[0].starts_with("search-requests-availability: error budget remaining"));
    let unknown = decide(&report.slos[2..], &policy, None);
    assert!(!unknown.allowed && unknown.reasons[0].contains("failing closed"));
    // A stricter threshold freezes the healthy one too.
    let strict = GatePolicy {
        min_budget_remaining: 0.6,
        ..policy
    };
    assert!(decide(&report.slos[..1], &strict, None).freeze);

    // The Sloth-recorded figure agrees with ours.
    let recorded = prometheus.query(
        r#"slo:period_error_budget_remaining:ratio{sloth_id="checkout-requests-availability"}"#,
    );
    let recorded: f64 = recorded[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((recorded - checkout.budget_remaining.unwrap()).abs() < 0.01);
}
