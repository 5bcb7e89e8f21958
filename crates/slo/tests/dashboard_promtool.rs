//! Every PromQL expression of generated dashboards, checked by the real parser: each becomes
//! a recording rule (`pave:dashboard_check_<n>`) in a rule file for `promtool check rules`.
//! A `promtool test rules` suite then runs the queries against the generated rules with
//! synthetic traffic and checks what the panels would show.
//! Skipped (with a note) without promtool; a failure when `CI=true`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::process::Command;

use common::promtool;

use pave_slo::dashboard::expressions;
use pave_slo::{
    DashboardOptions, Duration, GenerateOptions, LoadOptions, SloSet, WindowsCatalog, dashboard,
    dashboards, generate, render_file,
};
use serde_json::{Value, json};

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

const SHOP: &str = r#"version: prometheus/v1
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
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
"#;

/// The targets of the panel titled `title`: (legend, expr).
fn targets(board: &Value, title: &str) -> Vec<(String, String)> {
    let panel = board["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title}"));
    panel["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["legendFormat"].as_str().unwrap().to_owned(),
                t["expr"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `round(sum(<expr>), <step>)` at 2h equals `value` (labels summed away).
fn expect(expr: &str, step: f64, value: f64) -> Value {
    json!({
        "expr": format!("round(sum({expr}), {step})"),
        "eval_time": "2h",
        "exp_samples": [{"labels": "{}", "value": value}],
    })
}

#[test]
fn promtool_dashboard_queries_show_the_expected_values() {
    if !promtool() {
        return;
    }
    let (set, problems) = SloSet::load(
        &[("shop.yaml", SHOP)],
        &LoadOptions {
            default_period: Duration::parse("30d").unwrap(),
        },
    );
    assert!(problems.is_empty(), "{problems:?}");
    let catalog = WindowsCatalog::builtin();
    let options = GenerateOptions {
        version: "dev".to_owned(),
        ..GenerateOptions::default()
    };
    let generated = generate(&set, &catalog, &options).unwrap();
    let text = render_file(&generated[0], "dev");
    let doc = pave_yaml::parse_documents(&text, &pave_yaml::Limits::default())
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .find(|v| !v.is_null())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        pave_yaml::to_yaml_string(&json!({"groups": doc["groups"]})),
    )
    .unwrap();

    let board = &dashboards(&set, &catalog, &DashboardOptions::default()).unwrap()[0].dashboard;
    let sli = &targets(board, "SLI over period")[0].1;
    let remaining = &targets(board, "Error budget remaining")[0].1;
    let remaining_graph = &targets(board, "Remaining error budget over time")[0].1;
    let alerts = targets(board, "Alerts firing");
    let burn = targets(board, "Burn rate per window");
    assert_eq!(burn.len(), 7);
    assert_eq!(alerts.len(), 2);

    // (name, errors/min, ok/min, SLI, burn rate, page alerts, ticket alerts)
    let cases = [
        ("page", "100", "900", 0.9, 100.0, 1.0, 1.0),
        ("ticket", "4", "996", 0.996, 4.0, 0.0, 1.0),
        ("quiet", "0.5", "999.5", 0.9995, 0.5, 0.0, 0.0),
    ];
    let tests: Vec<Value> = cases
        .iter()
        .map(|(name, errors, ok, sli_value, burn_rate, page, ticket)| {
            let mut checks = vec![
                expect(sli, 0.0001, *sli_value),
                expect(remaining, 0.01, 1.0 - burn_rate),
                expect(remaining_graph, 0.01, 1.0 - burn_rate),
                expect(&alerts[0].1, 1.0, *page),
                expect(&alerts[1].1, 1.0, *ticket),
            ];
            // Constant traffic: every window burns at the same rate.
            checks.extend(burn.iter().map(|(_, e)| expect(e, 0.01, *burn_rate)));
            json!({
                "name": name,
                "interval": "1m",
                "input_series": [
                    {"series": "http_requests_total{code=\"500\"}", "values": format!("0+{errors}x180")},
                    {"series": "http_requests_total{code=\"200\"}", "values": format!("0+{ok}x180")},
                ],
                "promql_expr_test": checks,
            })
        })
        .collect();
    assert_eq!(alerts[0].0, "page");
    let suite = json!({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests});
    std::fs::write(
        dir.path().join("tests.yaml"),
        pave_yaml::to_yaml_string(&suite),
    )
    .unwrap();
    let run = |file: &str| {
        let out = Command::new("promtool")
            .current_dir(dir.path())
            .args(["test", "rules", file])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), said)
    };
    let (ok, said) = run("tests.yaml");
    println!("{said}");
    assert!(ok, "{said}");

    // The suite can fail: a wrong expectation (no page alert while paging) is reported.
    let mut wrong = suite.clone();
    wrong["tests"][0]["promql_expr_test"][3]["exp_samples"][0]["value"] = json!(0.0);
    std::fs::write(
        dir.path().join("wrong.yaml"),
        pave_yaml::to_yaml_string(&wrong),
    )
    .unwrap();
    let (ok, said) = run("wrong.yaml");
    assert!(!ok, "{said}");
}
