//! Every PromQL expression of generated dashboards, checked by the real parser: each becomes
//! a recording rule (`pave:dashboard_check_<n>`) in a rule file for `promtool check rules`.
//! Skipped (with a note) without promtool; a failure when `CI=true`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;

use pave_slo::dashboard::expressions;
use pave_slo::{
    DashboardOptions, Duration, LoadOptions, SloSet, WindowsCatalog, dashboard, dashboards,
};
use serde_json::{Value, json};

fn promtool() -> bool {
    let ok = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but `promtool` is not installed"
        );
        eprintln!("skipping: `promtool` is not installed");
    }
    ok
}

const SPEC: &str = r#"version: prometheus/v1
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: ShopAvailability
  - name: latency
    objective: 99.95
    sli:
      raw:
        error_ratio_query: 1 - sum(rate(http_request_duration_seconds_bucket{le="0.3"}[{{.window}}])) / sum(rate(http_request_duration_seconds_count[{{.window}}]))
    alerting:
      name: ShopLatency
      page_alert:
        disable: true
---
version: prometheus/v1
service: cart.eu
slos:
  - name: checkout
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(errors[{{.window}}])) / sum(rate(requests[{{.window}}]))
    alerting:
      name: CartCheckout
"#;

fn check(label: &str, exprs: &[String]) {
    let rules: Vec<Value> = exprs
        .iter()
        .enumerate()
        .map(|(n, e)| json!({"record": format!("pave:dashboard_check_{n}"), "expr": e}))
        .collect();
    let file = json!({"groups": [{"name": "pave-dashboard-check", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard.yaml");
    std::fs::write(&path, pave_yaml::to_yaml_string(&file)).unwrap();
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{label}: promtool: {said}");
    assert!(
        said.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{label}: {said}"
    );
    println!(
        "{label}: promtool check rules: {} expressions parse",
        exprs.len()
    );
}

#[test]
fn promtool_parses_every_dashboard_expression() {
    if !promtool() {
        return;
    }
    for period in ["30d", "28d"] {
        let (set, problems) = SloSet::load(
            &[("shop.yaml", SPEC)],
            &LoadOptions {
                default_period: Duration::parse(period).unwrap(),
            },
        );
        assert!(problems.is_empty(), "{problems:?}");
        let all = dashboards(
            &set,
            &WindowsCatalog::builtin(),
            &DashboardOptions::default(),
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        for d in &all {
            let exprs = expressions(&d.dashboard);
            // 3 SLOs in 2 dashboards; 12 queries per SLO.
            assert_eq!(exprs.len() % 12, 0);
            check(&format!("{period}/{}", d.service), &exprs);
        }
    }
}

#[test]
fn promtool_parses_escaped_label_values() {
    if !promtool() {
        return;
    }
    let (set, _) = SloSet::load(
        &[("shop.yaml", SPEC)],
        &LoadOptions {
            default_period: Duration::parse("30d").unwrap(),
        },
    );
    // Validation keeps these names out of specs; quoting must hold anyway.
    let mut slo = set.slos().next().cloned().unwrap();
    slo.service = "we\"ird\\shop\nnew".to_owned();
    slo.name = "a\"b".to_owned();
    slo.id = format!("{}-{}", slo.service, slo.name);
    let catalog = WindowsCatalog::builtin();
    let windows = catalog.get(slo.period).unwrap();
    let d = dashboard(
        &slo.service,
        &[(&slo, windows)],
        &DashboardOptions::default(),
    );
    let exprs = expressions(&d);
    assert!(
        exprs[0].contains(r#"sloth_service="we\"ird\\shop\nnew""#),
        "{}",
        exprs[0]
    );
    check("escaped", &exprs);
}
