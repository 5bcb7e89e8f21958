//! Grafana dashboards for SLOs: one dashboard per service, built on the series
//! [`generate`](crate::generate) records, that imports into Grafana as-is.
//!
//! Every panel and query uses the `${datasource}` variable (a `datasource` variable of type
//! `prometheus`), so the JSON works on any Grafana without editing data source uids. Per SLO
//! the dashboard has a row, then:
//!
//! | panel | query |
//! |-------|-------|
//! | stat "SLI over period" | `1 - slo:sli_error:ratio_rate<period>{…}` (green at the objective) |
//! | gauge "Error budget remaining" | `slo:period_error_budget_remaining:ratio{…}` (red ≤ 0) |
//! | stat "Alerts firing" | `count(ALERTS{sloth_id=…, sloth_severity=…, alertstate="firing"}) or vector(0)` per severity |
//! | timeseries "Burn rate per window" | `slo:sli_error:ratio_rate<W>{…} / on(…) group_left slo:error_budget:ratio{…}` per alert window, dashed page/ticket factors |
//! | timeseries "Remaining error budget over time" | `slo:period_error_budget_remaining:ratio{…}` |

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::duration::Duration;
use crate::generate::{
    ERROR_BUDGET_RATIO, PERIOD_ERROR_BUDGET_REMAINING, label_filter, sli_error_metric,
};
use crate::gofmt::{format_f, format_g};
use crate::spec::{Slo, SloSet};
use crate::windows::{AlertWindows, WindowsCatalog};
use crate::{Diagnostic, Error};

/// The Grafana dashboard schema version written.
pub const SCHEMA_VERSION: u64 = 39;
/// The longest uid Grafana accepts.
pub const MAX_UID_LEN: usize = 40;
/// The name of the data source variable every panel uses.
pub const DATASOURCE_VARIABLE: &str = "datasource";

const WIDTH: u64 = 24;
const STAT_HEIGHT: u64 = 6;
const GRAPH_HEIGHT: u64 = 8;

/// Dashboard switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardOptions {
    /// The auto-refresh interval, e.g. `1m` (empty: off).
    pub refresh: String,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            refresh: "1m".to_owned(),
        }
    }
}

/// One service's dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDashboard {
    pub service: String,
    /// The Grafana dashboard JSON model.
    pub dashboard: Value,
}

/// The dashboard uid of a service: `slo-<service>` when the service is made of
/// `[A-Za-z0-9_-]` and short enough; otherwise the sanitised service cut short plus a
/// 64-bit FNV-1a hash of the real name, so it stays unique, stable and at most 40 characters.
pub fn dashboard_uid(service: &str) -> String {
    let sanitised: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let plain = format!("slo-{sanitised}");
    if sanitised == service && !service.is_empty() && plain.len() <= MAX_UID_LEN {
        return plain;
    }
    let hash = format!("{:016x}", fnv1a(service.as_bytes()));
    // "slo-" + prefix + "-" + 16 hex digits
    let room = MAX_UID_LEN - 4 - 1 - hash.len();
    let prefix: String = sanitised.chars().take(room).collect();
    format!("slo-{prefix}-{hash}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A Grafana relative time for a duration: whole days (`30d`), else hours, minutes, seconds.
fn grafana_relative(d: Duration) -> String {
    let ms = d.as_millis();
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (size, unit) in units {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{}s", ms.div_ceil(1_000).max(1))
}

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": format!("${{{DATASOURCE_VARIABLE}}}")})
}

fn target(ref_id: usize, expr: String, legend: &str, instant: bool) -> Value {
    // Ref ids A..Z, then A1, B1, … (a panel has at most a handful of targets).
    let letter = char::from(b'A' + (ref_id % 26) as u8);
    let ref_id = match ref_id / 26 {
        0 => letter.to_string(),
        n => format!("{letter}{n}"),
    };
    json!({
        "datasource": datasource(),
        "refId": ref_id,
        "expr": expr,
        "legendFormat": legend,
        "instant": instant,
        "range": !instant,
        "editorMode": "code",
    })
}

fn steps(steps: &[(&str, Option<f64>)]) -> Value {
    json!({
        "mode": "absolute",
        "steps": steps
            .iter()
            .map(|(color, value)| json!({"color": color, "value": value}))
            .collect::<Vec<_>>(),
    })
}

fn grid(x: u64, y: u64, w: u64, h: u64) -> Value {
    json!({"x": x, "y": y, "w": w, "h": h})
}

/// Decimals that show the objective exactly as a percentage (99.95 → 3).
fn decimals(objective_percent: f64) -> u64 {
    let text = format_f(objective_percent);
    let frac = text.split_once('.').map_or(0, |(_, f)| f.len()) as u64;
    (frac + 1).clamp(2, 6)
}

fn stat_options(graph: bool) -> Value {
    json!({
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
        "colorMode": "value",
        "graphMode": if graph { "area" } else { "none" },
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
        "wideLayout": true,
        "showPercentChange": false,
    })
}

fn timeseries_options() -> Value {
    json!({
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
        "tooltip": {"mode": "multi", "sort": "desc"},
    })
}

fn timeseries_custom(thresholds_style: &str) -> Value {
    json!({
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 0,
        "showPoints": "never",
        "spanNulls": false,
        "axisPlacement": "auto",
        "thresholdsStyle": {"mode": thresholds_style},
    })
}

/// The burn-rate thresholds of the SLO's configured alerts: `(factor, severity, color)`,
/// ascending; factors shared by two windows appear once (the more severe color wins).
fn burn_thresholds(slo: &Slo, windows: &AlertWindows) -> Vec<(f64, &'static str)> {
    let mut out: Vec<(f64, &'static str)> = Vec::new();
    if slo.alerting.ticket.is_some() {
        out.push((windows.burn_rate_factor(&windows.ticket_slow), "yellow"));
        out.push((windows.burn_rate_factor(&windows.ticket_quick), "orange"));
    }
    if slo.alerting.page.is_some() {
        out.push((windows.burn_rate_factor(&windows.page_slow), "red"));
        out.push((windows.burn_rate_factor(&windows.page_quick), "dark-red"));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut dedup: Vec<(f64, &'static str)> = Vec::new();
    for (factor, color) in out {
        match dedup.last_mut() {
            Some(last) if last.0 == factor => last.1 = color,
            _ => dedup.push((factor, color)),
        }
    }
    dedup
}

/// Every PromQL expression a dashboard's panels query, in panel order (for checks).
pub fn expressions(dashboard: &Value) -> Vec<String> {
    dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect()
}

/// The dashboard of one service's SLOs (each with its period's alert windows): per SLO a
/// row, three stats (SLI, budget remaining, alerts) and two graphs (burn rate per window,
/// budget over time).
pub fn dashboard(
    service: &str,
    slos: &[(&Slo, &AlertWindows)],
    options: &DashboardOptions,
) -> Value {
    let mut panels = Vec::new();
    let mut id: u64 = 0;
    let mut next_id = || {
        id += 1;
        id
    };
    let mut y: u64 = 0;
    for (slo, windows) in slos {
        panels.push(row_panel(slo, next_id(), y));
        y += 1;
        panels.push(sli_stat(slo, next_id(), y));
        panels.push(budget_gauge(slo, next_id(), y));
        panels.push(alerts_stat(slo, next_id(), y));
        y += STAT_HEIGHT;
        panels.push(burn_rate_graph(slo, windows, next_id(), y));
        panels.push(budget_graph(slo, next_id(), y));
        y += GRAPH_HEIGHT;
    }

    let longest = slos.iter().map(|(s, _)| s.period).max();
    let from = longest.map_or_else(|| "30d".to_owned(), grafana_relative);
    json!({
        "id": null,
        "uid": dashboard_uid(service),
        "title": format!("SLOs / {service}"),
        "description": format!("SLOs of {service}: SLI, error budget, burn rates and alerts from the rules `pave slo generate` writes."),
        "tags": ["pave", "slo"],
        "timezone": "browser",
        "editable": true,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": false,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": options.refresh,
        "time": {"from": format!("now-{from}"), "to": "now"},
        "timepicker": {},
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "templating": {"list": [{
            "name": DATASOURCE_VARIABLE,
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "includeAll": false,
            "multi": false,
            "options": [],
            "refresh": 1,
            "regex": "",
            "skipUrlSync": false,
        }]},
        "panels": panels,
    })
}

/// The row that heads an SLO's panels.
fn row_panel(slo: &Slo, id: u64, y: u64) -> Value {
    let period = slo.period;
    let title = format!(
        "{} — {}% over {period}",
        slo.name,
        format_f(slo.objective_percent)
    );
    json!({
        "id": id,
        "type": "row",
        "title": title,
        "collapsed": false,
        "gridPos": grid(0, y, WIDTH, 1),
        "panels": [],
    })
}

/// The SLI over the period, green from the objective.
fn sli_stat(slo: &Slo, id: u64, y: u64) -> Value {
    let sel = slo.selector();
    let period = slo.period;
    let objective = slo.objective_ratio();
    let decimals = decimals(slo.objective_percent);
    json!({
        "id": id,
        "type": "stat",
        "title": "SLI over period",
        "description": format!(
            "Share of good events over the last {period} (objective {}%); from `{}`.",
            format_f(slo.objective_percent),
            sli_error_metric(period)
        ),
        "datasource": datasource(),
        "gridPos": grid(0, y, 8, STAT_HEIGHT),
        "targets": [target(0, format!("1 - {}{sel}", sli_error_metric(period)), "SLI", true)],
        "fieldConfig": {
            "defaults": {
                "unit": "percentunit",
                "decimals": decimals,
                "color": {"mode": "thresholds"},
                "thresholds": steps(&[("red", None), ("green", Some(objective))]),
                "mappings": [],
            },
            "overrides": [],
        },
        "options": stat_options(false),
    })
}

/// The share of the period's error budget left.
fn budget_gauge(slo: &Slo, id: u64, y: u64) -> Value {
    let sel = slo.selector();
    let period = slo.period;
    json!({
        "id": id,
        "type": "gauge",
        "title": "Error budget remaining",
        "description": format!(
            "Share of the {period} error budget left (1 − period burn rate); below 0 the budget is spent."
        ),
        "datasource": datasource(),
        "gridPos": grid(8, y, 8, STAT_HEIGHT),
        "targets": [target(0, format!("{PERIOD_ERROR_BUDGET_REMAINING}{sel}"), "remaining", true)],
        "fieldConfig": {
            "defaults": {
                "unit": "percentunit",
                "decimals": 1,
                "min": 0,
                "max": 1,
                "color": {"mode": "thresholds"},
                "thresholds": steps(&[("red", None), ("orange", Some(0.000_001)), ("yellow", Some(0.25)), ("green", Some(0.5))]),
                "mappings": [],
            },
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "orientation": "auto",
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
            "sizing": "auto",
            "minVizHeight": 75,
            "minVizWidth": 75,
        },
    })
}

/// The SLO's firing alerts by severity.
fn alerts_stat(slo: &Slo, id: u64, y: u64) -> Value {
    let alert_targets: Vec<Value> = ["page", "ticket"]
        .iter()
        .enumerate()
        .map(|(i, severity)| {
            let filter = label_filter(&BTreeMap::from([
                ("alertstate".to_owned(), "firing".to_owned()),
                ("sloth_id".to_owned(), slo.id.clone()),
                ("sloth_severity".to_owned(), (*severity).to_owned()),
            ]));
            target(
                i,
                format!("count(ALERTS{filter}) or vector(0)"),
                severity,
                true,
            )
        })
        .collect();
    let alert_names: Vec<String> = [
        ("page", &slo.alerting.page),
        ("ticket", &slo.alerting.ticket),
    ]
    .iter()
    .filter_map(|(s, m)| m.as_ref().map(|m| format!("{s}: {}", m.name)))
    .collect();
    json!({
        "id": id,
        "type": "stat",
        "title": "Alerts firing",
        "description": if alert_names.is_empty() {
            "Firing SLO alerts by severity (this SLO has no alerts configured).".to_owned()
        } else {
            format!("Firing SLO alerts by severity ({}).", alert_names.join(", "))
        },
        "datasource": datasource(),
        "gridPos": grid(16, y, 8, STAT_HEIGHT),
        "targets": alert_targets,
        "fieldConfig": {
            "defaults": {
                "unit": "none",
                "decimals": 0,
                "color": {"mode": "thresholds"},
                "thresholds": steps(&[("green", None), ("red", Some(1.0))]),
                "mappings": [],
            },
            "overrides": [],
        },
        "options": stat_options(false),
    })
}

/// Burn rate per alert window, the alerts' factors as thresholds.
fn burn_rate_graph(slo: &Slo, windows: &AlertWindows, id: u64, y: u64) -> Value {
    let sel = slo.selector();
    let period = slo.period;
    let burn_targets: Vec<Value> = windows
        .alert_windows()
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let expr = format!(
                "{}{sel} / on(sloth_id, sloth_slo, sloth_service) group_left {ERROR_BUDGET_RATIO}{sel}",
                sli_error_metric(w)
            );
            target(i, expr, &w.to_string(), false)
        })
        .collect();
    let thresholds = burn_thresholds(slo, windows);
    let mut burn_steps: Vec<(&str, Option<f64>)> = vec![("green", None)];
    burn_steps.extend(thresholds.iter().map(|(f, c)| (*c, Some(*f))));
    let factors: Vec<String> = thresholds.iter().map(|(f, _)| format_g(*f)).collect();
    json!({
        "id": id,
        "type": "timeseries",
        "title": "Burn rate per window",
        "description": format!(
            "Error ratio over the error budget per alert window (1 = spending exactly the budget over {period}). Dashed lines: alert burn-rate factors ({}).",
            if factors.is_empty() { "no alerts".to_owned() } else { factors.join(", ") }
        ),
        "datasource": datasource(),
        "gridPos": grid(0, y, 12, GRAPH_HEIGHT),
        "targets": burn_targets,
        "fieldConfig": {
            "defaults": {
                "unit": "x",
                "min": 0,
                "color": {"mode": "palette-classic"},
                "custom": timeseries_custom("dashed"),
                "thresholds": steps(&burn_steps),
                "mappings": [],
            },
            "overrides": [],
        },
        "options": timeseries_options(),
    })
}

/// The remaining error budget over time.
fn budget_graph(slo: &Slo, id: u64, y: u64) -> Value {
    let sel = slo.selector();
    let period = slo.period;
    json!({
        "id": id,
        "type": "timeseries",
        "title": "Remaining error budget over time",
        "description": format!("Share of the {period} error budget left; the budget is spent below 0."),
        "datasource": datasource(),
        "gridPos": grid(12, y, 12, GRAPH_HEIGHT),
        "targets": [target(0, format!("{PERIOD_ERROR_BUDGET_REMAINING}{sel}"), "remaining", false)],
        "fieldConfig": {
            "defaults": {
                "unit": "percentunit",
                "color": {"mode": "thresholds"},
                "custom": timeseries_custom("line"),
                "thresholds": steps(&[("red", None), ("green", Some(0.0))]),
                "mappings": [],
            },
            "overrides": [],
        },
        "options": timeseries_options(),
    })
}

/// One dashboard per service of the set, services sorted by name, SLOs in spec order.
/// Fails with the SLOs whose period has no alert windows in `catalog`.
pub fn dashboards(
    set: &SloSet,
    catalog: &WindowsCatalog,
    options: &DashboardOptions,
) -> Result<Vec<ServiceDashboard>, Error> {
    let mut by_service: BTreeMap<&str, Vec<(&Slo, &AlertWindows)>> = BTreeMap::new();
    let mut problems = Vec::new();
    for slo in set.slos() {
        match catalog.require(slo.period) {
            Ok(windows) => by_service
                .entry(slo.service.as_str())
                .or_default()
                .push((slo, windows)),
            Err(e) => problems.push(Diagnostic::new(
                &slo.source.file,
                Some(slo.source.position),
                format!("SLO `{}`: {e}", slo.id),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(by_service
        .into_iter()
        .map(|(service, slos)| ServiceDashboard {
            service: service.to_owned(),
            dashboard: dashboard(service, &slos, options),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LoadOptions;

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
"#;

    fn load(text: &str, period: &str) -> SloSet {
        let (set, problems) = SloSet::load(
            &[("shop.yaml", text)],
            &LoadOptions {
                default_period: Duration::parse(period).unwrap_or_else(|e| panic!("{e}")),
            },
        );
        assert!(problems.is_empty(), "{problems:?}");
        set
    }

    fn shop(period: &str) -> Value {
        let set = load(SPEC, period);
        let all = dashboards(
            &set,
            &WindowsCatalog::builtin(),
            &DashboardOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].service, "shop");
        all[0].dashboard.clone()
    }

    fn panels(d: &Value) -> &Vec<Value> {
        d["panels"].as_array().unwrap_or_else(|| panic!("panels"))
    }

    #[test]
    fn uids_are_stable_sanitised_and_short() {
        assert_eq!(dashboard_uid("shop"), "slo-shop");
        assert_eq!(dashboard_uid("my_svc-2"), "slo-my_svc-2");
        let dotted = dashboard_uid("shop.eu");
        assert!(dotted.starts_with("slo-shop-eu-"), "{dotted}");
        assert_ne!(dotted, dashboard_uid("shop-eu"));
        assert_ne!(dotted, dashboard_uid("shop/eu"));
        let long = "a".repeat(100);
        for s in [long.as_str(), "", "ünïcødé service with spaces", "x\"y\\z"] {
            let uid = dashboard_uid(s);
            assert!(uid.len() <= MAX_UID_LEN, "{uid}");
            assert!(
                uid.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{uid}"
            );
            assert_eq!(uid, dashboard_uid(s));
        }
        assert_ne!(dashboard_uid(&long), dashboard_uid(&"a".repeat(99)));
        assert_eq!(
            dashboard_uid(&"b".repeat(36)),
            format!("slo-{}", "b".repeat(36))
        );
        assert_eq!(dashboard_uid(&"b".repeat(37)).len(), MAX_UID_LEN);
    }

    #[test]
    fn panel_ids_are_unique_and_grid_positions_do_not_overlap() {
        let d = shop("30d");
        let panels = panels(&d);
        assert_eq!(panels.len(), 12);
        let mut ids: Vec<u64> = panels.iter().filter_map(|p| p["id"].as_u64()).collect();
        assert_eq!(ids.len(), panels.len());
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), panels.len(), "duplicate panel ids");
        let rects: Vec<[u64; 4]> = panels
            .iter()
            .map(|p| {
                let g = &p["gridPos"];
                let n = |k: &str| g[k].as_u64().unwrap_or_else(|| panic!("gridPos.{k}"));
                [n("x"), n("y"), n("w"), n("h")]
            })
            .collect();
        for (i, a) in rects.iter().enumerate() {
            assert!(a[2] > 0 && a[3] > 0 && a[0] + a[2] <= WIDTH, "{a:?}");
            for b in &rects[i + 1..] {
                let apart = a[0] + a[2] <= b[0]
                    || b[0] + b[2] <= a[0]
                    || a[1] + a[3] <= b[1]
                    || b[1] + b[3] <= a[1];
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        // Rows start each SLO at full width.
        let rows: Vec<&Value> = panels.iter().filter(|p| p["type"] == "row").collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["gridPos"]["y"], 15);
    }

    #[test]
    fn every_panel_and_target_uses_the_datasource_variable() {
        let d = shop("30d");
        let vars = d["templating"]["list"]
            .as_array()
            .unwrap_or_else(|| panic!("templating"));
        assert_eq!(vars.len(), 1);
        assert_eq!(vars[0]["name"], "datasource");
        assert_eq!(vars[0]["type"], "datasource");
        assert_eq!(vars[0]["query"], "prometheus");
        let ds = json!({"type": "prometheus", "uid": "${datasource}"});
        let mut targets = 0;
        for p in panels(&d).iter().filter(|p| p["type"] != "row") {
            assert_eq!(p["datasource"], ds, "{}", p["title"]);
            let ts = p["targets"].as_array().unwrap_or_else(|| panic!("targets"));
            assert!(!ts.is_empty());
            let mut refs: Vec<&str> = ts.iter().filter_map(|t| t["refId"].as_str()).collect();
            refs.sort_unstable();
            refs.dedup();
            assert_eq!(refs.len(), ts.len(), "refIds unique per panel");
            for t in ts {
                assert_eq!(t["datasource"], ds);
                assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()));
                targets += 1;
            }
        }
        // Per SLO: 1 SLI + 1 budget + 2 alerts + 7 burn windows + 1 budget graph.
        assert_eq!(targets, 2 * 12);
        assert_eq!(expressions(&d).len(), targets);
    }

    #[test]
    fn dashboard_metadata() {
        let d = shop("28d");
        assert_eq!(d["uid"], "slo-shop");
        assert_eq!(d["title"], "SLOs / shop");
        assert_eq!(d["tags"], json!(["pave", "slo"]));
        assert_eq!(d["schemaVersion"], SCHEMA_VERSION);
        assert_eq!(d["time"], json!({"from": "now-28d", "to": "now"}));
        // The 28-day period is `4w` in series names, as generate writes them.
        let exprs = expressions(&d);
        assert_eq!(
            exprs[0],
            "1 - slo:sli_error:ratio_rate4w{sloth_id=\"shop-availability\", sloth_service=\"shop\", sloth_slo=\"availability\"}"
        );
        assert_eq!(
            grafana_relative(Duration::parse("90m").unwrap_or_default()),
            "90m"
        );
        assert_eq!(
            grafana_relative(Duration::parse("7d").unwrap_or_default()),
            "7d"
        );
    }

    #[test]
    fn thresholds_follow_objective_and_alerts() {
        let d = shop("30d");
        let p = panels(&d);
        assert_eq!(p[1]["title"], "SLI over period");
        assert_eq!(p[1]["fieldConfig"]["defaults"]["unit"], "percentunit");
        let steps = &p[1]["fieldConfig"]["defaults"]["thresholds"]["steps"];
        assert_eq!(
            steps[1],
            json!({"color": "green", "value": 0.9990000000000001})
        );
        assert_eq!(p[7]["fieldConfig"]["defaults"]["decimals"], 3); // 99.95
        assert_eq!(p[2]["title"], "Error budget remaining");
        let steps = &p[2]["fieldConfig"]["defaults"]["thresholds"]["steps"];
        assert_eq!(steps[0]["color"], "red");
        assert!(steps[1]["value"].as_f64().is_some_and(|v| v > 0.0));
        // Availability: page and ticket factors; latency: tickets only (page disabled).
        let values = |panel: &Value| -> Vec<Value> {
            panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
                .as_array()
                .unwrap_or_else(|| panic!("steps"))
                .iter()
                .map(|s| s["value"].clone())
                .collect()
        };
        assert_eq!(p[4]["title"], "Burn rate per window");
        assert_eq!(
            values(&p[4]),
            [json!(null), json!(1.0), json!(3.0), json!(6.0), json!(14.4)]
        );
        assert_eq!(values(&p[10]), [json!(null), json!(1.0), json!(3.0)]);
        let legends: Vec<&str> = p[4]["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("targets"))
            .iter()
            .filter_map(|t| t["legendFormat"].as_str())
            .collect();
        assert_eq!(legends, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }

    #[test]
    fn selectors_escape_quotes_and_backslashes() {
        // Validation keeps such names out of specs; the dashboard must still quote exactly.
        let set = load(SPEC, "30d");
        let mut slo = set.slos().next().cloned().unwrap_or_else(|| panic!("slo"));
        slo.service = "we\"ird\\shop".to_owned();
        slo.id = format!("{}-availability", slo.service);
        let windows = WindowsCatalog::builtin();
        let windows = windows.get(slo.period).unwrap_or_else(|| panic!("30d"));
        let d = dashboard(
            &slo.service,
            &[(&slo, windows)],
            &DashboardOptions::default(),
        );
        assert_eq!(d["title"], "SLOs / we\"ird\\shop");
        let exprs = expressions(&d);
        assert!(
            exprs[0].contains(r#"sloth_service="we\"ird\\shop""#),
            "{}",
            exprs[0]
        );
        assert!(
            exprs[2].contains(r#"sloth_id="we\"ird\\shop-availability""#),
            "{}",
            exprs[2]
        );
    }

    #[test]
    fn one_dashboard_per_service_and_unknown_periods_fail() {
        let two = format!(
            "{SPEC}---\n{}",
            SPEC.replace("service: shop", "service: cart")
        );
        let set = load(&two, "30d");
        let all = dashboards(
            &set,
            &WindowsCatalog::builtin(),
            &DashboardOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let services: Vec<&str> = all.iter().map(|d| d.service.as_str()).collect();
        assert_eq!(services, ["cart", "shop"]);
        let set = load(SPEC, "5d");
        let err = dashboards(
            &set,
            &WindowsCatalog::builtin(),
            &DashboardOptions::default(),
        );
        assert!(
            matches!(&err, Err(Error::Invalid(p)) if p.len() == 2 && p[0].message.contains("5d")),
            "{err:?}"
        );
    }

    #[test]
    fn small_dashboard_snapshot() {
        let text = "version: prometheus/v1
service: api
slos:
  - name: requests
    objective: 99.5
    sli:
      raw:
        error_ratio_query: sum(rate(errors[{{.window}}])) / sum(rate(requests[{{.window}}]))
    alerting:
      name: ApiRequests
";
        let set = load(text, "30d");
        let all = dashboards(
            &set,
            &WindowsCatalog::builtin(),
            &DashboardOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        insta::assert_json_snapshot!(all[0].dashboard);
    }
}
