//! Real Prometheus tooling on generated rules: `promtool check rules` on every fixture and
//! corpus output (documents split, `PrometheusRule` objects unwrapped to their groups), and
//! `promtool test rules` with synthetic traffic proving the page, ticket and no-alert cases.
//! Skipped (with a note) without promtool; a failure when `CI=true`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Case, generate_text, promtool};
use serde_json::{Value, json};

/// Plain rule files, one per output document (promtool reads only a file's first document).
fn rule_files(text: &str) -> Vec<String> {
    pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .map(|doc| {
            let groups = if doc["kind"] == "PrometheusRule" {
                doc["spec"]["groups"].clone()
            } else {
                doc["groups"].clone()
            };
            pave_yaml::to_yaml_string(&json!({ "groups": groups }))
        })
        .collect()
}

fn check_rules(dir: &Path, label: &str, text: &str) -> Result<usize, String> {
    let mut rules = 0;
    for (i, file) in rule_files(text).iter().enumerate() {
        let path = dir.join(format!("{}-{i}.yaml", label.replace('/', "_")));
        std::fs::write(&path, file).unwrap();
        let out = Command::new("promtool")
            .args(["check", "rules"])
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("{label} document {i}: {said}"));
        }
        rules += said
            .split("SUCCESS: ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
    }
    Ok(rules)
}

#[test]
fn promtool_accepts_every_generated_rule_file() {
    if !promtool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        // Each fixture's expected output is what pave generates (the fixture test checks that).
        if let Ok(text) = std::fs::read_to_string(path.join("out.yaml")) {
            inputs.push((
                format!("fixture/{}", path.file_name().unwrap().to_string_lossy()),
                text,
            ));
        }
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/sloth/in");
    if let Ok(entries) = std::fs::read_dir(&corpus) {
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let generated = generate_text(&name, &text, &Case::default()).unwrap();
            inputs.push((format!("corpus/{name}"), generated));
        }
    }
    inputs.sort();
    let mut failures = Vec::new();
    let mut rules = 0;
    for (label, text) in &inputs {
        match check_rules(dir.path(), label, text) {
            Ok(n) => rules += n,
            Err(e) => failures.push(e),
        }
    }
    println!(
        "promtool check rules: {}/{} generated files pass, {rules} rules",
        inputs.len() - failures.len(),
        inputs.len()
    );
    assert!(inputs.len() >= 11);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const SPEC: &str = "version: prometheus/v1
service: shop
labels:
  team: web
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: ShopAvailability
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
";

/// Labels every generated alert of the SLO carries (from the recorded series).
fn alert_labels(severity: &str, sloth_severity: &str) -> Value {
    json!({
        "sloth_id": "shop-availability",
        "sloth_service": "shop",
        "sloth_slo": "availability",
        "team": "web",
        "severity": severity,
        "sloth_severity": sloth_severity,
    })
}

/// A test case: errors and successes per minute for three hours, evaluated at 2h.
fn traffic(
    name: &str,
    errors_per_min: &str,
    ok_per_min: &str,
    alerts: Vec<Value>,
    burn: f64,
) -> Value {
    json!({
        "name": name,
        "interval": "1m",
        "input_series": [
            {"series": "http_requests_total{code=\"500\"}", "values": format!("0+{errors_per_min}x180")},
            {"series": "http_requests_total{code=\"200\"}", "values": format!("0+{ok_per_min}x180")},
        ],
        "promql_expr_test": [
            {
                "expr": "round(slo:current_burn_rate:ratio, 0.01)",
                "eval_time": "2h",
                "exp_samples": [{
                    "labels": "{sloth_id=\"shop-availability\", sloth_service=\"shop\", sloth_slo=\"availability\", sloth_window=\"5m\", team=\"web\"}",
                    "value": burn,
                }],
            },
            {"expr": "slo:time_period:days", "eval_time": "2h", "exp_samples": [{
                "labels": "slo:time_period:days{sloth_id=\"shop-availability\", sloth_service=\"shop\", sloth_slo=\"availability\", team=\"web\"}",
                "value": 30,
            }]},
        ],
        "alert_rule_test": [{"eval_time": "2h", "alertname": "ShopAvailability", "exp_alerts": alerts}],
    })
}

#[test]
fn promtool_unit_tests_page_ticket_and_quiet() {
    if !promtool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let generated = generate_text("shop.yaml", SPEC, &Case::default()).unwrap();
    let rules = rule_files(&generated);
    assert_eq!(rules.len(), 1);
    std::fs::write(dir.path().join("rules.yaml"), &rules[0]).unwrap();
    let page = json!({
        "exp_labels": alert_labels("critical", "page"),
        "exp_annotations": {
            "title": "(page) shop availability SLO error budget burn rate is too fast.",
            "summary": "shop availability SLO error budget burn rate is over expected.",
        },
    });
    let ticket = json!({
        "exp_labels": alert_labels("warning", "ticket"),
        "exp_annotations": {
            "title": "(ticket) shop availability SLO error budget burn rate is too fast.",
            "summary": "shop availability SLO error budget burn rate is over expected.",
        },
    });
    let tests = json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            // 10% errors: a burn rate of 100 pages (and tickets).
            traffic("page", "100", "900", vec![page, ticket.clone()], 100.0),
            // 0.4% errors: burn rate 4 is under the page factors (14.4, 6), over the
            // ticket-quick factor 3.
            traffic("ticket", "4", "996", vec![ticket], 4.0),
            // 0.05% errors: within budget, nothing fires.
            traffic("quiet", "0.5", "999.5", vec![], 0.5),
        ],
    });
    std::fs::write(
        dir.path().join("tests.yaml"),
        pave_yaml::to_yaml_string(&tests),
    )
    .unwrap();
    let out = Command::new("promtool")
        .current_dir(dir.path())
        .args(["test", "rules", "tests.yaml"])
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{said}");
    assert!(out.status.success(), "{said}\n{}", rules[0]);

    // The suite can fail: a wrong expectation is reported.
    let mut wrong = tests.clone();
    wrong["tests"][2]["alert_rule_test"][0]["exp_alerts"] =
        json!([{"exp_labels": alert_labels("warning", "ticket")}]);
    std::fs::write(
        dir.path().join("wrong.yaml"),
        pave_yaml::to_yaml_string(&wrong),
    )
    .unwrap();
    let out = Command::new("promtool")
        .current_dir(dir.path())
        .args(["test", "rules", "wrong.yaml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
