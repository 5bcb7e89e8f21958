//! Invalid specs: every problem is reported with file, line and column, nothing panics.
#![allow(clippy::unwrap_used)]

use pave_slo::{LoadOptions, SloSet};

fn problems(text: &str) -> Vec<String> {
    let (_, problems) = SloSet::load(&[("slo.yaml", text)], &LoadOptions::default());
    problems.iter().map(ToString::to_string).collect()
}

const BASE: &str = "version: prometheus/v1
service: svc
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors[{{.window}}]))
        total_query: sum(rate(total[{{.window}}]))
    alerting:
      name: Alert
";

#[test]
fn a_valid_spec_has_no_problems() {
    assert_eq!(problems(BASE), Vec::<String>::new());
}

fn one(text: &str, position: &str, needle: &str) {
    let found = problems(text);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with(&format!("slo.yaml:{position}: ")) && p.contains(needle)),
        "want `{needle}` at {position}, got {found:#?}"
    );
}

#[test]
fn sloth_rules_are_enforced_with_positions() {
    one(
        &BASE.replace("availability", "-bad name"),
        "4:5",
        "name must start and end",
    );
    one(
        &BASE.replace("99.9", "100.5"),
        "5:5",
        "objective must be >0 and <=100",
    );
    one(&BASE.replace("99.9", "0"), "5:5", "objective");
    one(
        &BASE.replace("99.9", "\"99.9\""),
        "5:5",
        "`objective` must be a number",
    );
    one(
        &BASE.replace("errors[{{.window}}]", "errors[5m]"),
        "8:9",
        "{{.window}}",
    );
    one(
        &BASE.replace("total[{{.window}}]", "errors[{{.window}}]"),
        "9:9",
        "can't be the same",
    );
    one(
        &BASE.replace("      name: Alert\n", "      labels: {a: b}\n"),
        "10:5",
        "`alerting.name` is required",
    );
    one(
        &BASE.replace("service: svc", "service: \"svc/x\""),
        "2:1",
        "invalid SLO service",
    );
    one(
        &format!("{BASE}    labels:\n      tier: 2\n"),
        "13:7",
        "must be a string",
    );
    one(
        &BASE.replace(
            "      events:",
            "      raw:\n        error_ratio_query: x[{{.window}}]\n      events:",
        ),
        "6:5",
        "only one SLI type",
    );
    one(
        &BASE.replace("slos:", "slo_plugins:\n  chain:\n    - id: x\nslos:"),
        "3:1",
        "plugins are not supported",
    );
    one(
        &BASE.replace(
            "      events:\n",
            "      plugin:\n        id: x\n      events:\n",
        ),
        "7:7",
        "SLI plugins are not supported",
    );
    one(
        &BASE.replace("prometheus/v1", "prometheus/v2"),
        "1:1",
        "unknown spec version",
    );
    one(
        "apiVersion: example.com/v1\nkind: Thing\n",
        "1:1",
        "unknown spec `apiVersion: example.com/v1`",
    );
    one(
        &format!("{BASE}{}", &BASE[BASE.find("  - name").unwrap()..]),
        "12:5",
        "is repeated",
    );
    one(
        "version: prometheus/v1\nservice: svc\nslos: []\n",
        "3:1",
        "at least one SLO",
    );
    one("a: [b\n", "2:1", "invalid YAML");
}

#[test]
fn disabled_alerts_need_no_name() {
    let text = BASE.replace(
        "      name: Alert\n",
        "      page_alert: {disable: true}\n      ticket_alert: {disable: true}\n",
    );
    assert_eq!(problems(&text), Vec::<String>::new());
    let text = BASE.replace("      name: Alert\n", "      page_alert: {disable: true}\n");
    one(&text, "10:5", "invalid ticket alert");
}

#[test]
fn openslo_problems() {
    let slo = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders
spec:
  service: orders
  indicatorRef: missing
  budgetingMethod: Timeslices
  timeWindow:
    - duration: 1M
      calendar: {startTime: 2024-01-01, timeZone: UTC}
  objectives:
    - target: 0.99
";
    let found = problems(slo);
    for needle in [
        "no `kind: SLI` document named `missing`",
        "Timeslices",
        "calendar-aligned",
    ] {
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "{needle}: {found:#?}"
        );
    }
    one(slo, "7:3", "missing");
    one(
        "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: x1}\nspec:\n  service: s1\n  objectives:\n    - target: 0.9\n",
        "7:7",
        "missing ratioMetrics",
    );
}

#[test]
fn references_resolve_across_files() {
    let slo = "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: orders}\nspec:\n  service: orders\n  indicatorRef: ratio\n  objectives: [{target: 0.99}]\n";
    let sli = "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: ratio}\nspec:\n  ratioMetric:\n    good: {metricSource: {type: Prometheus, spec: {query: 'good[{{.window}}]'}}}\n    total: {metricSource: {type: Datadog, spec: {query: 'total[{{.window}}]'}}}\n";
    let (set, found) = SloSet::load(
        &[("slo.yaml", slo), ("sli.yaml", sli)],
        &LoadOptions::default(),
    );
    // The SLI's own problem points into its file.
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].to_string().starts_with("sli.yaml:7:"),
        "{}",
        found[0]
    );
    assert_eq!(set.slos().count(), 0);
    let fixed = sli.replace("Datadog", "Prometheus");
    let (set, found) = SloSet::load(
        &[("slo.yaml", slo), ("sli.yaml", &fixed)],
        &LoadOptions::default(),
    );
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(
        set.slos().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["orders-orders-0"]
    );
}

#[test]
fn duplicates_across_files_are_found() {
    let (set, found) = SloSet::load(
        &[("a.yaml", BASE), ("b.yaml", BASE)],
        &LoadOptions::default(),
    );
    assert!(found.is_empty());
    let dups = set.duplicates();
    assert_eq!(dups.len(), 1);
    assert!(
        dups[0]
            .to_string()
            .starts_with("b.yaml:4:5: error: SLO `svc-availability`"),
        "{}",
        dups[0]
    );
}
