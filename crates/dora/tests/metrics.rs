//! Each metric on small hand-made facts, where the expected value is worked out by hand in
//! the comments; tier readings; errors; JSON.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_dora::facts::{Exclusion, Incident, Outcome};
use pave_dora::tiers::{Level, TierVersion, tiers};
use pave_dora::{DoraError, GroupBy, Index, Query, Report, Scope, report};

#[test]
fn deployments_counted_success_rate_and_frequency() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0(); // Monday
    b.deploy(a, PRODUCTION, t + 10 * HOUR, S); // week 1, Monday
    b.deploy(a, PRODUCTION, t + 15 * HOUR, S); // week 1, Monday again: same deploy-day
    b.deploy(a, PRODUCTION, t + DAY + 10 * HOUR, F); // week 1, Tuesday: failed, no deploy-day
    b.deploy(a, PRODUCTION, t + 2 * DAY + 10 * HOUR, S); // week 1, Wednesday
    b.deploy(a, PRODUCTION, t + 7 * DAY + 10 * HOUR, S); // week 2, Monday
    let running = b.deploy(a, PRODUCTION, t + 8 * DAY, S);
    b.deployment(running).finished_at = None;
    b.deployment(running).outcome = Outcome::Running;
    let excluded = b.deploy(a, PRODUCTION, t + 9 * DAY, S);
    b.deployment(excluded).excluded = Some(Exclusion::FinishesBeforeStart);
    b.deploy(a, STAGING, t + 3 * DAY, S); // another environment
    b.deploy(a, PRODUCTION, t - 1, S); // just before the window
    b.deploy(a, PRODUCTION, t + 14 * DAY, S); // at `to`: excluded bound

    let m = b.org_metrics(t, t + 14 * DAY);
    // Counted: the five finished production deployments inside the window.
    assert_eq!(m.deployments.counted, 5);
    assert_eq!(m.deployments.succeeded, 4);
    assert_eq!(m.deployments.failed, 1);
    close(m.deployments.success_rate, 0.8); // 4 / 5
    let df = m.deployment_frequency;
    close(Some(df.per_day), 4.0 / 14.0); // 4 successful over 14 days
    close(Some(df.per_week), 2.0); // 4 over 2 weeks
    assert_eq!(df.weeks, 2);
    // Deploy-days: week 1 Monday + Wednesday = 2, week 2 Monday = 1; median (2 + 1) / 2.
    assert_eq!(df.median_deploy_days_per_week, 1.5);
    assert_eq!(df.level, Some(Level::High)); // ≥ 1 deploy-day per week, < 5
    assert_eq!(m.excluded.deployments_finishing_before_start, 1);
    assert_eq!(m.excluded.deployments_in_the_future, 0);
}

#[test]
fn deployment_frequency_levels() {
    let t = t0();
    // (deployments as day offsets, window days, expected median deploy-days, level)
    let table: &[(&[i64], i64, f64, Level)] = &[
        // Every weekday for two weeks: 5 deploy-days in each week.
        (&[0, 1, 2, 3, 4, 7, 8, 9, 10, 11], 14, 5.0, Level::Elite),
        // Weekly: 1 deploy-day in each of 2 weeks.
        (&[2, 9], 14, 1.0, Level::High),
        // Once in 4 weeks: weeks [1, 0, 0, 0], median 0; 1 per 28 days × 30.44 = 1.09 per month.
        (&[3], 28, 0.0, Level::Medium),
        // Once in 5 weeks: 1 per 35 days × 30.44 = 0.87 per month.
        (&[3], 35, 0.0, Level::Low),
    ];
    for &(days, window, median, level) in table {
        let mut b = Builder::new();
        let a = b.entity("a", None, None);
        for &d in days {
            b.deploy(a, PRODUCTION, t + d * DAY + 12 * HOUR, S);
        }
        let m = b.org_metrics(t, t + window * DAY);
        assert_eq!(
            m.deployment_frequency.median_deploy_days_per_week, median,
            "{days:?}"
        );
        assert_eq!(m.deployment_frequency.level, Some(level), "{days:?}");
    }
    // No deployments: no level (not "low").
    let mut b = Builder::new();
    b.entity("a", None, None);
    assert_eq!(
        b.org_metrics(t, t + 7 * DAY).deployment_frequency.level,
        None
    );
}

#[test]
fn lead_time_median_p90_and_negative_leads() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0();
    let d1 = b.deploy(a, PRODUCTION, t + DAY + 12 * HOUR, S);
    let d1_at = t + DAY + 12 * HOUR;
    for hours in [1, 2, 3, 10] {
        b.change(a, d1_at - hours * HOUR, Some(d1));
    }
    let d2_at = t + 2 * DAY + 12 * HOUR;
    let d2 = b.deploy(a, PRODUCTION, d2_at, S);
    b.change(a, d2_at - 5 * HOUR, Some(d2));
    b.change(a, d2_at + HOUR, Some(d2)); // committed after the deployment: excluded
    let d3 = b.deploy(a, PRODUCTION, t + 3 * DAY, F);
    b.change(a, t + 3 * DAY - HOUR, Some(d3)); // failed deployment ships nothing
    b.change(a, t + 3 * DAY, None); // not deployed
    let d4 = b.deploy(a, PRODUCTION, t + 8 * DAY, S); // after the window
    b.change(a, t + 8 * DAY - HOUR, Some(d4));

    let m = b.org_metrics(t, t + 7 * DAY);
    // Sample, hours: [1, 2, 3, 5, 10].
    assert_eq!(m.lead_time.changes, 5);
    // Median: rn = 4 × 0.5 = 2, rank 2 = 3 h.
    assert_eq!(m.lead_time.median_ms, Some((3 * HOUR) as f64));
    // p90: rn = 4 × 0.9 = 3.6, 5 h × 0.4 + 10 h × 0.6 = 8 h.
    close(m.lead_time.p90_ms, (8 * HOUR) as f64);
    assert_eq!(m.excluded.changes_committed_after_deployment, 1);
    assert_eq!(m.lead_time.level, Some(Level::Elite)); // median < 1 day
}

#[test]
fn change_failure_rate_counts_distinct_failed_deployments() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let other = b.entity("other", None, None);
    let t = t0();
    let d1 = b.deploy(a, PRODUCTION, t + HOUR, S); // caused three incidents
    for k in 0..3 {
        let mut i = incident(t + HOUR + k * MINUTE, Some(t + 2 * HOUR));
        i.caused_by = Some(d1);
        b.incident(i);
    }
    b.deploy(a, PRODUCTION, t + 2 * HOUR, F); // d2: outcome failed
    b.deploy(a, PRODUCTION, t + 3 * HOUR, S); // d3: rolled back by d4
    let d4 = b.deploy(a, PRODUCTION, t + 4 * HOUR, S);
    b.deployment(d4).rollback = true;
    b.deploy(a, PRODUCTION, t + 5 * HOUR, S); // d5: fine
    // Rollbacks elsewhere do not touch d5: another environment, another entity.
    let staging = b.deploy(a, STAGING, t + 5 * HOUR + 30 * MINUTE, S);
    b.deployment(staging).rollback = true;
    let e1 = b.deploy(other, PRODUCTION, t + 5 * HOUR + 10 * MINUTE, S);
    b.deployment(e1).rollback = true;
    let d6 = b.deploy(a, PRODUCTION, t + 6 * HOUR, F); // failed and caused an incident
    let mut i = incident(t + 6 * HOUR, None);
    i.caused_by = Some(d6);
    b.incident(i);

    let m = b.metrics(t, t + 7 * DAY, Some(Scope::Entity(a)));
    let cfr = m.change_failure_rate;
    // Failed: d1, d2, d3, d6 of d1..d6 (not 3 + 1 + 1 + 1 incident rows).
    assert_eq!(m.deployments.counted, 6);
    assert_eq!(cfr.failed, 4);
    close(cfr.rate, 4.0 / 6.0);
    assert_eq!(cfr.outcome_failed, 2); // d2, d6
    assert_eq!(cfr.caused_incident, 2); // d1, d6
    assert_eq!(cfr.rolled_back, 1); // d3
    assert_eq!(cfr.level, Some(Level::Low));

    // The organisation adds `other`'s rollback, which did not fail: 4 of 7.
    let m = b.org_metrics(t, t + 7 * DAY);
    assert_eq!(
        (m.change_failure_rate.failed, m.deployments.counted),
        (4, 7)
    );
}

#[test]
fn rollback_after_the_window_still_fails_the_deployment() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0();
    b.deploy(a, PRODUCTION, t + 23 * HOUR, S);
    let rollback = b.deploy(a, PRODUCTION, t + 25 * HOUR, S); // the next day
    b.deployment(rollback).rollback = true;
    let m = b.org_metrics(t, t + DAY);
    assert_eq!(m.change_failure_rate.failed, 1);
    close(m.change_failure_rate.rate, 1.0);
    // It recovered when the rollback finished, 2 h later.
    assert_eq!(m.recovery_time.median_ms, Some((2 * HOUR) as f64));
}

#[test]
fn failed_deployment_recovery_time() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let other = b.entity("other", None, None);
    let base = t0() + HOUR;
    b.deploy(a, PRODUCTION, base, F); // d1: recovers at d3, 3 h later (d2 failed too)
    b.deploy(a, PRODUCTION, base + HOUR, F); // d2: recovers at d3, 2 h later
    b.deploy(a, PRODUCTION, base + 3 * HOUR, S); // d3: good
    let d4 = b.deploy(a, PRODUCTION, base + 10 * HOUR, S); // caused two incidents
    for (opened, resolved) in [(10 * HOUR + 30 * MINUTE, 12 * HOUR), (11 * HOUR, 15 * HOUR)] {
        let mut i = incident(base + opened, Some(base + resolved));
        i.caused_by = Some(d4);
        i.entity = Some(a);
        b.incident(i);
    }
    let d5 = b.deploy(a, PRODUCTION, base + 20 * HOUR, S); // caused an unresolved incident
    let mut i = incident(base + 21 * HOUR, None);
    i.caused_by = Some(d5);
    b.incident(i);
    b.deploy(a, PRODUCTION, base + 30 * HOUR, F); // d6: nothing good after it
    // `other`: its incident was resolved before the deployment finished (bad clocks).
    let e1 = b.deploy(other, PRODUCTION, base + 40 * HOUR, S);
    let mut i = incident(base + 39 * HOUR, Some(base + 39 * HOUR + 30 * MINUTE));
    i.caused_by = Some(e1);
    b.incident(i);

    let m = b.metrics(t0(), t0() + 3 * DAY, Some(Scope::Entity(a)));
    let r = m.recovery_time;
    // Failed: d1, d2, d4 (incidents), d5 (incident), d6.
    assert_eq!(r.failed, 5);
    // Recovered: d1 3 h, d2 2 h, d4 15 h - 10 h = 5 h (the latest resolution).
    assert_eq!((r.recovered, r.unrecovered), (3, 2));
    // Median of [2, 3, 5] h = 3 h; p90: rn = 1.8, 3 h × 0.2 + 5 h × 0.8 = 4.6 h.
    assert_eq!(r.median_ms, Some((3 * HOUR) as f64));
    close(r.p90_ms, 4.6 * HOUR as f64);
    assert_eq!(r.level, Some(Level::High)); // 2023: < 1 day, not < 1 hour

    let m = b.org_metrics(t0(), t0() + 3 * DAY);
    assert_eq!(m.recovery_time.failed, 6);
    assert_eq!(m.excluded.recoveries_before_failure, 1);
    assert_eq!(
        (m.recovery_time.recovered, m.recovery_time.unrecovered),
        (3, 2)
    );
}

#[test]
fn rework_rate() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0();
    let d: Vec<_> = (1..=6)
        .map(|h| b.deploy(a, PRODUCTION, t + h * HOUR, S))
        .collect();
    b.deployment(d[0]).hotfix = true;
    b.deployment(d[1]).rollback = true;
    let mut fixed = incident(t, Some(t + 3 * HOUR));
    fixed.fixed_by = Some(d[2]);
    b.incident(fixed);
    b.deployment(d[3]).hotfix = true;
    fixed.fixed_by = Some(d[3]); // hotfix and fix: one unplanned deployment
    b.incident(fixed);

    let m = b.org_metrics(t, t + DAY);
    let r = m.rework_rate;
    // Unplanned: d1 (hotfix), d2 (rollback), d3 (fixed an incident), d4 (both) = 4 of 6.
    assert_eq!(r.unplanned, 4);
    close(r.rate, 4.0 / 6.0);
    assert_eq!((r.hotfix, r.rollback, r.fixed_incident), (2, 1, 2));
}

#[test]
fn incidents_time_to_restore_by_severity() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0();
    let da = b.deploy(a, PRODUCTION, t + HOUR, S);
    let with = |opened: i64, lasted: Option<i64>, severity: Option<u8>| Incident {
        entity: Some(a),
        severity,
        ..incident(t + opened, lasted.map(|l| t + opened + l))
    };
    b.incident(with(2 * HOUR, Some(HOUR), Some(1))); // sev 1: 1 h
    b.incident(with(3 * HOUR, Some(3 * HOUR), Some(1))); // sev 1: 3 h
    b.incident(with(4 * HOUR, Some(30 * MINUTE), Some(2))); // sev 2: 30 min
    b.incident(with(5 * HOUR, None, Some(2))); // sev 2: unresolved
    b.incident(with(6 * HOUR, Some(-MINUTE), Some(3))); // sev 3: resolved before opened
    b.incident(with(7 * HOUR, Some(4 * HOUR), None)); // unknown severity: 4 h
    b.incident(with(-HOUR, Some(HOUR), Some(1))); // opened before the window
    // No entity, but caused by a's deployment: a's (sev 1: 2 h).
    let mut linked = incident(t + 8 * HOUR, Some(t + 10 * HOUR));
    linked.severity = Some(1);
    linked.caused_by = Some(da);
    b.incident(linked);
    // No entity, no deployment: the organisation's only (sev 4: 6 h).
    let mut orphan = incident(t + 9 * HOUR, Some(t + 15 * HOUR));
    orphan.severity = Some(4);
    b.incident(orphan);

    let m = b.metrics(t, t + DAY, Some(Scope::Entity(a)));
    let i = &m.incidents;
    assert_eq!((i.opened, i.resolved, i.unresolved), (7, 5, 1));
    assert_eq!(m.excluded.incidents_resolved_before_opened, 1);
    // Resolved, hours: [0.5, 1, 2, 3, 4]: median 2 h; p90 rn = 3.6: 3 h × 0.4 + 4 h × 0.6.
    assert_eq!(i.median_ms, Some((2 * HOUR) as f64));
    close(i.p90_ms, 3.6 * HOUR as f64);
    let by: Vec<_> = i
        .by_severity
        .iter()
        .map(|s| (s.severity, s.opened, s.resolved, s.median_ms))
        .collect();
    assert_eq!(
        by,
        vec![
            (Some(1), 3, 3, Some((2 * HOUR) as f64)), // [1, 2, 3] h
            (Some(2), 2, 1, Some((30 * MINUTE) as f64)),
            (Some(3), 1, 0, None),
            (None, 1, 1, Some((4 * HOUR) as f64)),
        ]
    );

    // The organisation row adds the orphan incident.
    let m = b.org_metrics(t, t + DAY);
    assert_eq!(m.incidents.opened, 8);
    let sev4 = m
        .incidents
        .by_severity
        .iter()
        .find(|s| s.severity == Some(4))
        .unwrap();
    assert_eq!(sev4.median_ms, Some((6 * HOUR) as f64));
    // …but a group_by: org report narrowed to the entity does not (checked above), and
    // neither does a team row.
}

#[test]
fn previous_period_is_the_same_length_just_before() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let t = t0();
    for d in 0..20 {
        b.deploy(
            a,
            PRODUCTION,
            t + d * DAY + 12 * HOUR,
            if d % 4 == 0 { F } else { S },
        );
    }
    let query = Query {
        group_by: GroupBy::Org,
        compare_previous: true,
        ..Query::new(t + 10 * DAY, t + 20 * DAY, PRODUCTION)
    };
    let r = b.report(&query);
    assert_eq!(r.previous, Some((t, t + 10 * DAY)));
    let previous = r.rows[0].previous.clone().unwrap();
    assert_eq!(previous, b.org_metrics(t, t + 10 * DAY));
    // Days 0..10: 10 deployments, days 0, 4, 8 failed.
    assert_eq!(
        (previous.deployments.counted, previous.deployments.failed),
        (10, 3)
    );
}

#[test]
fn tier_readings() {
    let t23 = tiers(TierVersion::Dora2023);
    let t24 = tiers(TierVersion::Dora2024);
    let h = HOUR as f64;
    let d = DAY as f64;
    // (table, lead time median, level): bounds are exclusive.
    for (table, value, level) in [
        (t23, 0.0, Level::Elite),
        (t23, d - 1.0, Level::Elite),
        (t23, d, Level::High),
        (t23, 7.0 * d, Level::Medium),
        (t23, 30.0 * d - 1.0, Level::Medium),
        (t23, 30.0 * d, Level::Low),
        (t24, 30.0 * d, Level::Low),
    ] {
        assert_eq!(table.lead_time_level(value), level, "lead {value}");
    }
    // Change failure rate: bounds are inclusive cluster values.
    for (table, value, level) in [
        (t23, 0.05, Level::Elite),
        (t23, 0.06, Level::High),
        (t23, 0.10, Level::High),
        (t23, 0.15, Level::Medium),
        (t23, 0.16, Level::Low),
        // 2024 is not monotonic: ≤ 20% is high, medium (10%) is unreachable.
        (t24, 0.10, Level::High),
        (t24, 0.20, Level::High),
        (t24, 0.30, Level::Low),
    ] {
        assert_eq!(table.change_failure_level(value), level, "cfr {value}");
    }
    for (table, value, level) in [
        (t23, 59.0 * 60_000.0, Level::Elite),
        (t23, h, Level::High),
        (t23, d, Level::Medium),
        (t23, 7.0 * d, Level::Low),
        (t24, d, Level::Low), // medium's "< 1 day" equals high's
    ] {
        assert_eq!(table.recovery_level(value), level, "recovery {value}");
    }
    // Deployment frequency: (median deploy-days/week, per day).
    for (days, per_day, level) in [
        (5.0, 5.0, Level::Elite),
        (1.0, 0.2, Level::High),
        (0.0, 1.0 / 30.0, Level::Medium), // 1.01 per average month
        (0.0, 1.0 / 31.0, Level::Low),    // 0.98 per average month
    ] {
        assert_eq!(t23.deployment_frequency_level(days, per_day), level);
    }
    let md = t23.to_markdown();
    assert!(md.contains("DORA 2023") && md.contains("[M]"), "{md}");
    assert!(
        !md.contains("less than one hour [M]"),
        "the elite row is verified: {md}"
    );
    assert!(t24.to_markdown().contains("less than one hour [M]"));
}

#[test]
fn invalid_facts_are_errors_with_their_path() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let d = b.deploy(a, PRODUCTION, t0(), S);

    let mut bad = b.clone();
    bad.deployment(d).entity = 7;
    assert_eq!(
        Index::build(&bad.org, &bad.facts).unwrap_err().to_string(),
        "deployments[0].entity: 7 is out of range (entity indices are 0..1)",
    );
    let mut bad = b.clone();
    bad.change(a, t0(), Some(3));
    assert!(matches!(
        Index::build(&bad.org, &bad.facts),
        Err(DoraError::IndexOutOfRange { ref path, value: 3, .. }) if path == "changes[0].deployment"
    ));
    let mut bad = b.clone();
    bad.deployment(d).environment = 2;
    assert!(matches!(
        Index::build(&bad.org, &bad.facts),
        Err(DoraError::IndexOutOfRange { ref path, .. }) if path == "deployments[0].environment"
    ));
    let mut bad = b.clone();
    let mut i = incident(t0(), None);
    i.severity = Some(9);
    bad.incident(i);
    assert!(matches!(
        Index::build(&bad.org, &bad.facts),
        Err(DoraError::SeverityOutOfRange { ref path, value: 9 }) if path == "incidents[0].severity"
    ));
    let mut bad = b.clone();
    bad.system("s", None);
    bad.org.system_domains.clear();
    assert!(matches!(
        Index::build(&bad.org, &bad.facts),
        Err(DoraError::SystemDomainsLength { got: 0, want: 1 })
    ));
    let mut bad = b.clone();
    bad.group("g", Some(5));
    assert!(matches!(
        Index::build(&bad.org, &bad.facts),
        Err(DoraError::IndexOutOfRange { ref path, .. }) if path == "org.groups[0].parent"
    ));
}

#[test]
fn invalid_queries_are_errors() {
    let mut b = Builder::new();
    b.entity("a", None, None);
    let index = Index::build(&b.org, &b.facts).unwrap();
    let q = Query::new(t0(), t0() + DAY, PRODUCTION);
    let run = |q: Query| report(&index, &q).unwrap_err();
    assert!(matches!(
        run(Query { to: q.from, ..q }),
        DoraError::EmptyWindow { .. }
    ));
    assert!(matches!(
        run(Query {
            from: q.to - 200 * 365 * DAY,
            ..q
        }),
        DoraError::WindowOutOfRange { .. }
    ));
    assert!(matches!(
        run(Query { environment: 2, ..q }),
        DoraError::IndexOutOfRange { ref path, .. } if path == "query.environment"
    ));
    for (only, expected) in [
        (Scope::Entity(1), "query.only.entity"),
        (Scope::Group(0), "query.only.group"),
        (Scope::System(0), "query.only.system"),
        (Scope::Domain(0), "query.only.domain"),
    ] {
        let e = run(Query {
            only: Some(only),
            ..q
        });
        assert!(
            matches!(e, DoraError::IndexOutOfRange { ref path, .. } if path == expected),
            "{e}"
        );
    }
}

#[test]
fn reports_serialise_to_json_and_back() {
    let mut b = Builder::new();
    let g = b.group("team", None);
    let a = b.entity("a", Some(g), None);
    let t = t0();
    for d in 0..10 {
        let ix = b.deploy(a, PRODUCTION, t + d * DAY + HOUR, S);
        b.change(a, t + d * DAY, Some(ix));
    }
    let query = Query {
        buckets: pave_dora::BucketSize::Week,
        compare_previous: true,
        ..Query::new(t, t + 14 * DAY, PRODUCTION)
    };
    let r = b.report(&query);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["group_by"], "team");
    assert_eq!(json["tiers"], "2023");
    assert_eq!(json["environment"], "production");
    let row = &json["rows"][0];
    assert_eq!(row["key"], "group:default/team");
    assert_eq!(row["kind"], "group");
    assert_eq!(row["metrics"]["lead_time"]["median_ms"], (HOUR as f64));
    assert_eq!(row["metrics"]["lead_time"]["level"], "elite");
    assert_eq!(row["buckets"].as_array().unwrap().len(), 2);
    // Undefined figures are null, not 0.
    assert!(row["previous"]["lead_time"]["median_ms"].is_null());
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn csv_has_one_line_per_row_and_empty_cells_for_undefined_figures() {
    let mut b = Builder::new();
    let g = b.group("team, with a comma", None);
    let a = b.entity("a", Some(g), None);
    let d = b.deploy(a, PRODUCTION, t0() + 2 * HOUR, S);
    b.change(a, t0(), Some(d));
    let r = b.report(&Query::new(t0(), t0() + DAY, PRODUCTION));
    let text = pave_dora::csv(&r);
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}"); // header, one row, final empty
    assert_eq!(lines[0], pave_dora::export::CSV_HEADER);
    let header: Vec<&str> = lines[0].split(',').collect();
    let cell = |name: &str| {
        let i = header.iter().position(|h| *h == name).unwrap();
        // The key is quoted: split after it.
        let rest = lines[1].split_once("\",").unwrap().1;
        rest.split(',').nth(i - 2).unwrap().to_owned()
    };
    assert!(lines[1].starts_with("group,\"group:default/team, with a comma\","));
    assert_eq!(cell("lead_time_median_hours"), "2"); // 2 h
    assert_eq!(cell("lead_time_level"), "elite");
    assert_eq!(cell("recovery_median_hours"), ""); // nothing failed
    assert_eq!(cell("change_failure_rate"), "0");
    assert_eq!(r.rows[0].summary().lead_time_median_hours, Some(2.0));
}
