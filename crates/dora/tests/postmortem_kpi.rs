//! The postmortem KPIs on small hand-checked tables (the arithmetic is in the comments),
//! and against a brute-force reading of the definitions on random data.

use pave_dora::postmortem::{
    Action, ActionStatus, Day, IncidentRecord, KpiOptions, Millis, Postmortem, Window,
    action_closure, completion, kpis, overdue_actions, overdue_by_owner, repeat_incidents,
};
use proptest::prelude::*;

/// `2026-11-03T10:00:00Z` (seconds optional) as Unix milliseconds.
fn at(text: &str) -> Millis {
    let (date, time) = text.split_once('T').unwrap_or((text, "00:00:00.000Z"));
    let day = Day::parse(date).expect("a valid date in the test");
    let time = time.trim_end_matches('Z');
    let (clock, millis) = time.split_once('.').unwrap_or((time, "0"));
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    day.start_millis()
        + parts[0] * 3_600_000
        + parts.get(1).copied().unwrap_or(0) * 60_000
        + parts.get(2).copied().unwrap_or(0) * 1000
        + millis.parse::<i64>().expect("milliseconds")
}

fn day(text: &str) -> Day {
    Day::parse(text).expect("a valid date in the test")
}

fn november() -> Window {
    Window {
        from: at("2026-11-01"),
        to: at("2026-12-01"),
    }
}

fn incident(
    id: &str,
    entity: Option<&str>,
    severity: Option<u8>,
    opened_at: Millis,
    resolved_at: Option<Millis>,
) -> IncidentRecord {
    IncidentRecord {
        id: id.into(),
        entity: entity.map(Into::into),
        severity,
        opened_at,
        resolved_at,
        title: format!("incident {id}"),
    }
}

fn postmortem(file: &str, date: &str, incidents: &[&str], actions: Vec<Action>) -> Postmortem {
    Postmortem {
        file: file.into(),
        title: format!("postmortem {file}"),
        incidents: incidents.iter().map(|s| (*s).to_owned()).collect(),
        date: day(date),
        severity: None,
        summary: None,
        entity: Some("component:default/checkout".into()),
        actions,
        extensions: Default::default(),
        body: String::new(),
        body_line: 1,
        excerpt: String::new(),
    }
}

fn action(
    title: &str,
    owner: &str,
    due: &str,
    status: Option<ActionStatus>,
    closed: Option<&str>,
) -> Action {
    Action {
        title: title.into(),
        owner: owner.into(),
        due: day(due),
        status,
        closed: closed.map(day),
        link: status
            .is_none()
            .then(|| "https://jira.example.com/browse/X-1".to_owned()),
        extensions: Default::default(),
    }
}

#[test]
fn completion_counts_severe_incidents_resolved_in_the_window() {
    let incidents = vec![
        // Resolved 11-03, due 11-03 + 5 = 11-08; postmortem dated 11-08: on time (the edge).
        incident(
            "A",
            None,
            Some(1),
            at("2026-11-03T09:00:00Z"),
            Some(at("2026-11-03T10:00:00Z")),
        ),
        // Resolved late on 11-03 (UTC), due 11-08; postmortem 11-09: late by 6 days.
        incident(
            "B",
            None,
            Some(2),
            at("2026-11-03T20:00:00Z"),
            Some(at("2026-11-03T23:59:00Z")),
        ),
        // Resolved 11-10, due 11-15, nothing by today (12-01): missing.
        incident(
            "C",
            None,
            Some(1),
            at("2026-11-10"),
            Some(at("2026-11-10T12:00:00Z")),
        ),
        // Severity 3: not counted (unless the threshold is 3, below).
        incident(
            "D",
            None,
            Some(3),
            at("2026-11-10"),
            Some(at("2026-11-10T13:00:00Z")),
        ),
        // Not resolved: not counted.
        incident("E", None, Some(1), at("2026-11-11"), None),
        // Resolved 11-28, due 12-03, today is 12-01: pending, not counted.
        incident(
            "F",
            None,
            Some(2),
            at("2026-11-28"),
            Some(at("2026-11-28T08:00:00Z")),
        ),
        // Resolved a millisecond before the window: not counted.
        incident(
            "G",
            None,
            Some(1),
            at("2026-10-31"),
            Some(at("2026-10-31T23:59:59.999Z")),
        ),
        // No severity: not counted.
        incident(
            "H",
            None,
            None,
            at("2026-11-12"),
            Some(at("2026-11-12T10:00:00Z")),
        ),
        // Postmortem dated the day before the resolution: on time.
        incident(
            "I",
            None,
            Some(2),
            at("2026-11-18"),
            Some(at("2026-11-20T10:00:00Z")),
        ),
        // Resolved on the window's last day, due 12-05; its postmortem (12-01) exists: on time
        // and counted although the deadline is still ahead.
        incident(
            "J",
            None,
            Some(1),
            at("2026-11-30"),
            Some(at("2026-11-30T23:00:00Z")),
        ),
        // Two postmortems name it: the earlier (11-07, due 11-10) counts, on time.
        incident(
            "K",
            None,
            Some(1),
            at("2026-11-05"),
            Some(at("2026-11-05T06:00:00Z")),
        ),
    ];
    let postmortems = vec![
        postmortem("a.md", "2026-11-08", &["A"], vec![]),
        postmortem("b.md", "2026-11-09", &["B", "unknown-id"], vec![]),
        postmortem("i.md", "2026-11-19", &["I"], vec![]),
        postmortem("j.md", "2026-12-01", &["J"], vec![]),
        postmortem("k-followup.md", "2026-11-20", &["K"], vec![]),
        postmortem("k.md", "2026-11-07", &["K"], vec![]),
    ];
    let now = at("2026-12-01T12:00:00Z");
    let result = completion(
        &postmortems,
        &incidents,
        november(),
        now,
        &KpiOptions::default(),
    );
    // Counted: A, B, C, I, J, K = 6; on time: A, I, J, K = 4.
    assert_eq!((result.counted, result.on_time), (6, 4));
    assert_eq!(result.rate, Some(4.0 / 6.0));
    let late: Vec<(&str, &str, i64)> = result
        .late
        .iter()
        .map(|l| {
            (
                l.incident.id.as_str(),
                l.postmortem_file.as_str(),
                l.days_after_resolution,
            )
        })
        .collect();
    assert_eq!(late, [("B", "b.md", 6)]);
    assert_eq!(result.late[0].incident.due, day("2026-11-08"));
    let ids = |list: &[pave_dora::postmortem::IncidentDue]| {
        list.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&result.missing), ["C"]);
    assert_eq!(result.missing[0].due, day("2026-11-15"));
    assert_eq!(ids(&result.pending), ["F"]);
    assert_eq!(result.pending[0].due, day("2026-12-03"));

    // Six days allowed: B (6 days) is on time too: 5 / 6.
    let six = KpiOptions {
        completion_days: 6,
        ..KpiOptions::default()
    };
    let result = completion(&postmortems, &incidents, november(), now, &six);
    assert_eq!((result.counted, result.on_time), (6, 5));
    // Severity 3 counted: D joins the missing: 4 / 7.
    let sev3 = KpiOptions {
        completion_max_severity: 3,
        ..KpiOptions::default()
    };
    let result = completion(&postmortems, &incidents, november(), now, &sev3);
    assert_eq!((result.counted, result.on_time), (7, 4));
    assert_eq!(ids(&result.missing), ["C", "D"]);
    // Nothing counted: no rate rather than 0 % or 100 %.
    let empty = completion(&postmortems, &[], november(), now, &KpiOptions::default());
    assert_eq!((empty.counted, empty.rate), (0, None));
}

/// The actions of the closure table; today is 2026-11-20.
fn closure_actions() -> Vec<Action> {
    use ActionStatus::{Done, InProgress, Open, Wontfix};
    let payments = "group:default/payments";
    let sre = "group:default/sre";
    vec![
        // 1. Done on its due day: on time.
        action("1", payments, "2026-11-10", Some(Done), Some("2026-11-10")),
        // 2. Done the day after: late.
        action("2", payments, "2026-11-10", Some(Done), Some("2026-11-11")),
        // 3. Dropped before its due day: on time (wontfix).
        action("3", sre, "2026-11-12", Some(Wontfix), Some("2026-11-01")),
        // 4. Open, due 11-15 < 11-20: overdue by 5 days.
        action("4", payments, "2026-11-15", Some(Open), None),
        // 5. In progress, due today: not yet due.
        action("5", sre, "2026-11-20", Some(InProgress), None),
        // 6. Done early, due later in the window: on time.
        action("6", sre, "2026-11-25", Some(Done), Some("2026-11-18")),
        // 7. Only a tracker link: tracked.
        action("7", sre, "2026-11-05", None, None),
        // 8. A link and a status: the status counts; open, due 11-05: overdue by 15 days.
        Action {
            link: Some("https://jira.example.com/browse/X-8".into()),
            ..action("8", sre, "2026-11-05", Some(Open), None)
        },
        // 9. Due 12-01: after the window (which ends before 12-01), not overdue either.
        action("9", payments, "2026-12-01", Some(Open), None),
        // 10. Due 10-31: before the window, but overdue by 20 days.
        action("10", payments, "2026-10-31", Some(InProgress), None),
    ]
}

#[test]
fn closure_by_due_date() {
    let postmortems = vec![
        postmortem(
            "a.md",
            "2026-10-20",
            &["A"],
            closure_actions()[..5].to_vec(),
        ),
        postmortem(
            "b.md",
            "2026-10-21",
            &["B"],
            closure_actions()[5..].to_vec(),
        ),
    ];
    let now = at("2026-11-20T09:00:00Z");
    let closure = action_closure(&postmortems, november(), now);
    // Due in the window: 1–8 = 8. On time 1, 3, 6 = 3 (one wontfix); late 2 = 1;
    // overdue 4, 8 = 2; not yet due 5 = 1; tracked 7 = 1. 3 + 1 + 2 + 1 + 1 = 8.
    assert_eq!(
        (
            closure.due,
            closure.closed_on_time,
            closure.wontfix_on_time,
            closure.closed_late,
            closure.overdue,
            closure.not_yet_due,
            closure.tracked
        ),
        (8, 3, 1, 1, 2, 1, 1)
    );
    // 3 / (3 + 1 + 2) = 0.5.
    assert_eq!(closure.rate, Some(0.5));

    let overdue: Vec<(String, i64)> = overdue_actions(&postmortems, now)
        .into_iter()
        .map(|a| (a.title, a.days_overdue))
        .collect();
    assert_eq!(
        overdue,
        [
            ("10".to_owned(), 20),
            ("8".to_owned(), 15),
            ("4".to_owned(), 5)
        ]
    );
    let by_owner: Vec<(String, Vec<String>)> = overdue_by_owner(&postmortems, now)
        .into_iter()
        .map(|o| (o.owner, o.actions.into_iter().map(|a| a.title).collect()))
        .collect();
    assert_eq!(
        by_owner,
        [
            (
                "group:default/payments".to_owned(),
                vec!["10".to_owned(), "4".to_owned()]
            ),
            ("group:default/sre".to_owned(), vec!["8".to_owned()]),
        ]
    );
    let first = &overdue_actions(&postmortems, now)[0];
    assert_eq!(
        (first.postmortem_file.as_str(), first.status, first.due),
        ("b.md", ActionStatus::InProgress, day("2026-10-31"))
    );
}

#[test]
fn repeats_per_entity() {
    let window = november();
    let incidents = vec![
        // checkout: c0 before the window; c1 exactly 30 × 24 h after it: a repeat;
        // c3 17 days after c1: a repeat; c2 after the window: not counted.
        incident(
            "c0",
            Some("checkout"),
            Some(2),
            at("2026-10-04T12:00:00Z"),
            None,
        ),
        incident(
            "c1",
            Some("checkout"),
            Some(2),
            at("2026-11-03T12:00:00Z"),
            None,
        ),
        incident(
            "c2",
            Some("checkout"),
            Some(2),
            at("2026-12-03T12:00:00Z"),
            None,
        ),
        incident(
            "c3",
            Some("checkout"),
            Some(4),
            at("2026-11-20T12:00:00Z"),
            None,
        ),
        // search: s1 31 days after s0: not a repeat with 30 days, a repeat with 31.
        incident("s0", Some("search"), None, at("2026-10-01"), None),
        incident("s1", Some("search"), None, at("2026-11-01"), None),
        // payments: two incidents at the same millisecond are not repeats of each other.
        incident("p1", Some("payments"), Some(1), at("2026-11-15"), None),
        incident("p2", Some("payments"), Some(1), at("2026-11-15"), None),
        // No entity: counted as unattributed when in the window.
        incident("u1", None, Some(1), at("2026-11-16"), None),
        incident("u2", None, Some(1), at("2026-10-16"), None),
    ];
    let result = repeat_incidents(&incidents, window, &KpiOptions::default());
    let rows: Vec<(&str, u32, u32, Vec<&str>)> = result
        .entities
        .iter()
        .map(|e| {
            (
                e.entity.as_str(),
                e.incidents,
                e.repeats,
                e.repeat_ids.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("checkout", 2, 2, vec!["c1", "c3"]),
            ("payments", 2, 0, vec![]),
            ("search", 1, 0, vec![]),
        ]
    );
    // 2 + 2 + 1 attributed + 1 unattributed = 6 incidents; 2 repeats.
    assert_eq!(
        (result.incidents, result.repeats, result.unattributed),
        (6, 2, 1)
    );

    let month = KpiOptions {
        repeat_days: 31,
        ..KpiOptions::default()
    };
    let result = repeat_incidents(&incidents, window, &month);
    let search = result.entities.iter().find(|e| e.entity == "search");
    assert_eq!(search.map(|e| e.repeats), Some(1));
    assert_eq!(result.repeats, 3);
}

#[test]
fn every_kpi_serialises_for_the_api() {
    let postmortems = vec![postmortem("a.md", "2026-11-08", &["A"], closure_actions())];
    let incidents = vec![incident(
        "A",
        Some("checkout"),
        Some(1),
        at("2026-11-03"),
        Some(at("2026-11-03T10:00:00Z")),
    )];
    let report = kpis(
        &postmortems,
        &incidents,
        november(),
        at("2026-11-20T09:00:00Z"),
        &KpiOptions::default(),
    );
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["completion"]["rate"], 1.0);
    assert_eq!(json["closure"]["rate"], 0.5);
    assert_eq!(json["repeats"]["entities"][0]["entity"], "checkout");
    assert_eq!(
        json["overdue_by_owner"][0]["actions"][0]["due"],
        "2026-10-31"
    );
    assert_eq!(json["options"]["completion_days"], 5);
    let back: pave_dora::postmortem::PostmortemKpis =
        serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, report);
}

#[test]
fn effective_severity_falls_back_to_the_incidents() {
    let incidents = vec![
        incident("A", None, Some(3), 0, None),
        incident("B", None, Some(2), 0, None),
        incident("C", None, Some(1), 0, None),
    ];
    let mut pm = postmortem("a.md", "2026-11-08", &["A", "B"], vec![]);
    assert_eq!(pm.effective_severity(&incidents), Some(2));
    pm.severity = Some(4);
    assert_eq!(pm.effective_severity(&incidents), Some(4));
    let none = postmortem("b.md", "2026-11-08", &["Z"], vec![]);
    assert_eq!(none.effective_severity(&incidents), None);
}

// Against the definitions read literally, on random data.

const DAY: Millis = 86_400_000;

fn incidents_strategy() -> impl Strategy<Value = Vec<IncidentRecord>> {
    let one = (
        0u8..4,
        prop::option::of(1u8..=5),
        0i64..90 * DAY,
        prop::option::of(0i64..20 * DAY),
        any::<bool>(),
    );
    prop::collection::vec(one, 0..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (entity, severity, opened, duration, rounded))| {
                // Round some openings to whole days so that ties and exact horizons occur.
                let opened = if rounded { opened / DAY * DAY } else { opened };
                IncidentRecord {
                    id: format!("I{i}"),
                    entity: (entity > 0).then(|| format!("e{entity}")),
                    severity,
                    opened_at: opened,
                    resolved_at: duration.map(|d| opened + d),
                    title: String::new(),
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn repeats_match_a_brute_force_reading(
        incidents in incidents_strategy(),
        from in 0i64..60,
        length in 0i64..60,
        repeat_days in 0u32..40,
    ) {
        let window = Window { from: from * DAY, to: (from + length) * DAY };
        let options = KpiOptions { repeat_days, ..KpiOptions::default() };
        let result = repeat_incidents(&incidents, window, &options);
        let horizon = i64::from(repeat_days) * DAY;
        let mut expected_repeats = 0;
        let mut expected_incidents = 0;
        for incident in &incidents {
            if !window.contains(incident.opened_at) {
                continue;
            }
            expected_incidents += 1;
            let Some(entity) = &incident.entity else { continue };
            let repeat = incidents.iter().any(|other| {
                other.entity.as_ref() == Some(entity)
                    && other.opened_at < incident.opened_at
                    && incident.opened_at - other.opened_at <= horizon
            });
            if repeat {
                expected_repeats += 1;
            }
        }
        prop_assert_eq!(result.incidents, expected_incidents);
        prop_assert_eq!(result.repeats, expected_repeats);
        let per_entity: u32 = result.entities.iter().map(|e| e.repeat_ids.len() as u32).sum();
        prop_assert_eq!(per_entity, expected_repeats);
    }

    #[test]
    fn completion_partitions_the_severe_incidents(
        incidents in incidents_strategy(),
        written in prop::collection::vec((0usize..40, 0i64..100), 0..30),
        now_day in 0i64..120,
        completion_days in 0u32..10,
    ) {
        let postmortems: Vec<Postmortem> = written
            .iter()
            .enumerate()
            .map(|(i, (incident, date))| Postmortem {
                incidents: vec![format!("I{incident}")],
                date: Day(*date),
                ..postmortem(&format!("{i}.md"), "2026-01-01", &[], vec![])
            })
            .collect();
        let window = Window { from: 10 * DAY, to: 80 * DAY };
        let options = KpiOptions { completion_days, ..KpiOptions::default() };
        let result = completion(&postmortems, &incidents, window, now_day * DAY, &options);
        let severe: Vec<&IncidentRecord> = incidents
            .iter()
            .filter(|i| i.severity.is_some_and(|s| s <= 2))
            .filter(|i| i.resolved_at.is_some_and(|r| window.contains(r)))
            .collect();
        prop_assert_eq!(
            severe.len(),
            (result.counted as usize) + result.pending.len()
        );
        prop_assert_eq!(
            result.counted as usize,
            result.on_time as usize + result.late.len() + result.missing.len()
        );
        let on_time = severe
            .iter()
            .filter(|i| {
                let due = Day::of_millis(i.resolved_at.unwrap_or_default()).0
                    + i64::from(completion_days);
                postmortems
                    .iter()
                    .any(|p| p.incidents.contains(&i.id) && p.date.0 <= due)
            })
            .count();
        prop_assert_eq!(result.on_time as usize, on_time);
    }

    #[test]
    fn closure_partitions_the_actions_due(
        rows in prop::collection::vec((0i64..60, 0usize..5, 0i64..60), 0..60),
        now_day in 0i64..70,
    ) {
        let statuses = [
            None,
            Some(ActionStatus::Open),
            Some(ActionStatus::InProgress),
            Some(ActionStatus::Done),
            Some(ActionStatus::Wontfix),
        ];
        let actions: Vec<Action> = rows
            .iter()
            .map(|(due, status, closed)| {
                let status = statuses[*status];
                Action {
                    due: Day(*due),
                    status,
                    closed: status.filter(|s| s.is_closed()).map(|_| Day(*closed)),
                    ..action("a", "group:default/x", "2026-01-01", status, None)
                }
            })
            .collect();
        let postmortems = vec![postmortem("a.md", "1970-01-01", &[], actions.clone())];
        let window = Window { from: 10 * DAY, to: 50 * DAY };
        let now = now_day * DAY + 1;
        let closure = action_closure(&postmortems, window, now);
        let due: Vec<&Action> = actions
            .iter()
            .filter(|a| (10..50).contains(&a.due.0))
            .collect();
        prop_assert_eq!(closure.due as usize, due.len());
        prop_assert_eq!(
            closure.due,
            closure.closed_on_time + closure.closed_late + closure.overdue
                + closure.not_yet_due + closure.tracked
        );
        let on_time = due
            .iter()
            .filter(|a| a.closed.is_some_and(|c| c <= a.due))
            .count();
        prop_assert_eq!(closure.closed_on_time as usize, on_time);
        let overdue_everywhere = actions
            .iter()
            .filter(|a| a.status.is_some_and(|s| !s.is_closed()) && a.due.0 < now_day)
            .count();
        prop_assert_eq!(overdue_actions(&postmortems, now).len(), overdue_everywhere);
    }
}
