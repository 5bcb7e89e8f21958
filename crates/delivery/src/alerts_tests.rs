use pave_events::Source;

use super::*;

const MIN: Millis = 60_000;

fn firing(name: &str, entity: Option<&str>, starts: Millis, ends: Option<Millis>) -> AlertRow {
    AlertRow {
        id: (starts as u64) ^ name.len() as u64,
        source: Source::Alertmanager,
        fingerprint: format!("fp-{name}"),
        subject_key: format!("alertmanager:{}", entity.unwrap_or("nobody")),
        entity: entity.map(str::to_owned),
        name: Some(name.to_owned()),
        severity: Some("critical".into()),
        summary: None,
        url: None,
        starts_at: starts,
        ends_at: ends,
        first_seq: 1,
        last_seq: 1,
    }
}

const CHECKOUT: &str = "component:default/checkout";
const SEARCH: &str = "component:default/search";

#[test]
fn short_lived_actionable_and_noisy_are_counted_per_alert_and_in_all() {
    let now = 1_000 * MIN;
    let mut alerts = Vec::new();
    // HighLatency on checkout flaps: six firings of 2 minutes each.
    for i in 0..6 {
        let start = 100 * MIN + i * 30 * MIN;
        alerts.push(firing(
            "HighLatency",
            Some(CHECKOUT),
            start,
            Some(start + 2 * MIN),
        ));
    }
    // ErrorBudgetBurn on checkout fires once for 40 minutes, with an incident 10 minutes in.
    alerts.push(firing(
        "ErrorBudgetBurn",
        Some(CHECKOUT),
        500 * MIN,
        Some(540 * MIN),
    ));
    // DiskFull on search is still firing; an incident was already open when it fired.
    alerts.push(firing("DiskFull", Some(SEARCH), 900 * MIN, None));
    // An alert no entity claims.
    alerts.push(firing("Orphan", None, 950 * MIN, Some(960 * MIN)));
    // Before the window: left out.
    alerts.push(firing("Old", Some(SEARCH), 10 * MIN, Some(11 * MIN)));

    let incidents = [
        IncidentSpan {
            entity: CHECKOUT,
            opened_at: 510 * MIN,
            resolved_at: Some(530 * MIN),
        },
        IncidentSpan {
            entity: SEARCH,
            opened_at: 800 * MIN,
            resolved_at: None,
        },
    ];
    let report = alert_report(
        &alerts,
        &incidents,
        50 * MIN,
        now,
        &AlertQualityOptions::default(),
    );

    let all = &report.quality;
    assert_eq!(all.firings, 9);
    assert_eq!(all.firing_now, 1);
    assert_eq!(all.unattributed, 1);
    assert_eq!(all.short_lived, 6, "the six 2-minute flaps");
    assert_eq!(all.short_lived_ratio, Some(6.0 / 8.0));
    assert_eq!(all.actionable, 2, "ErrorBudgetBurn and DiskFull");
    assert_eq!(all.actionable_ratio, Some(2.0 / 8.0));
    // Resolved durations: 2,2,2,2,2,2,10,40 minutes.
    assert_eq!(all.median_resolve_ms, Some(2 * MIN));
    assert_eq!(all.p90_resolve_ms, Some(40 * MIN));
    assert_eq!(report.noisy_alerts, 1);

    let first = &report.alerts[0];
    assert_eq!(
        (first.name.as_str(), first.entity.as_deref()),
        ("HighLatency", Some(CHECKOUT))
    );
    assert!(first.noisy);
    assert_eq!(first.quality.firings, 6);
    assert_eq!(first.quality.actionable, 0);
    assert_eq!(first.last_fired_at, 250 * MIN);
    let disk = report.alerts.iter().find(|a| a.name == "DiskFull").unwrap();
    assert_eq!(disk.quality.firing_now, 1);
    assert_eq!(disk.quality.actionable_ratio, Some(1.0));
    assert_eq!(disk.quality.median_resolve_ms, None);
    assert!(report.alerts.iter().all(|a| a.name != "Old"));
}

#[test]
fn an_incident_long_after_the_alert_does_not_make_it_actionable() {
    let alerts = [firing("Late", Some(CHECKOUT), 100 * MIN, Some(200 * MIN))];
    let options = AlertQualityOptions::default();
    let late = [IncidentSpan {
        entity: CHECKOUT,
        opened_at: 100 * MIN + options.incident_within_ms + 1,
        resolved_at: None,
    }];
    let report = alert_report(&alerts, &late, 0, 1_000 * MIN, &options);
    assert_eq!(report.quality.actionable, 0);
    let in_time = [IncidentSpan {
        opened_at: 100 * MIN + options.incident_within_ms,
        ..late[0]
    }];
    let report = alert_report(&alerts, &in_time, 0, 1_000 * MIN, &options);
    assert_eq!(report.quality.actionable, 1);
    // Another entity's incident does not count.
    let elsewhere = [IncidentSpan {
        entity: SEARCH,
        ..in_time[0]
    }];
    let report = alert_report(&alerts, &elsewhere, 0, 1_000 * MIN, &options);
    assert_eq!(report.quality.actionable, 0);
}

#[test]
fn no_firings_gives_no_ratios() {
    let report = alert_report(&[], &[], 0, MIN, &AlertQualityOptions::default());
    assert_eq!(report.quality, AlertQuality::default());
    assert!(report.alerts.is_empty());
}
