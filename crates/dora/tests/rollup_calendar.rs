//! Who counts where (groups, systems, domains, cycles) and the calendar (ISO weeks, months,
//! leap years, bucket boundaries).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_dora::buckets::{
    BucketSize, month_start, next_month_start, previous_window, spans, week_start,
};
use pave_dora::report::RowKind;
use pave_dora::{GroupBy, Index, Query, Scope};

/// dept ─┬─ team-a (a1)          systems: sys-1 (a1, b1) in dom-1, sys-2 (c1)
///       └─ team-b (b1) ── squad-c (c1)      x: no owner, no system
/// lonely (no entities)
/// a1, b1, c1, x deploy 1, 2, 4, 8 times: a row's count names its entities.
fn landscape() -> Builder {
    let mut b = Builder::new();
    let dept = b.group("dept", None);
    let team_a = b.group("team-a", Some(dept));
    let team_b = b.group("team-b", Some(dept));
    let squad_c = b.group("squad-c", Some(team_b));
    b.group("lonely", None);
    let dom = b.domain("dom-1");
    let sys1 = b.system("sys-1", Some(dom));
    let sys2 = b.system("sys-2", None);
    let entities = [
        b.entity("a1", Some(team_a), Some(sys1)),
        b.entity("b1", Some(team_b), Some(sys1)),
        b.entity("c1", Some(squad_c), Some(sys2)),
        b.entity("x", None, None),
    ];
    for (k, &e) in entities.iter().enumerate() {
        for n in 0..(1 << k) {
            b.deploy(e, PRODUCTION, t0() + HOUR + n * MINUTE, S);
        }
    }
    b
}

/// (key, parent, depth, entities, counted deployments) of each row.
fn rows(
    b: &Builder,
    group_by: GroupBy,
    only: Option<Scope>,
) -> Vec<(String, Option<String>, u32, u32, u64)> {
    let query = Query {
        group_by,
        only,
        ..Query::new(t0(), t0() + DAY, PRODUCTION)
    };
    b.report(&query)
        .rows
        .into_iter()
        .map(|r| {
            let short = |s: &str| s.rsplit('/').next().unwrap().to_owned();
            (
                short(&r.key),
                r.parent.as_deref().map(short),
                r.depth,
                r.entities,
                r.metrics.deployments.counted,
            )
        })
        .collect()
}

fn row(
    key: &str,
    parent: Option<&str>,
    depth: u32,
    entities: u32,
    counted: u64,
) -> (String, Option<String>, u32, u32, u64) {
    (
        key.to_owned(),
        parent.map(str::to_owned),
        depth,
        entities,
        counted,
    )
}

#[test]
fn team_view_lists_each_group_with_its_subtree_in_tree_order() {
    let b = landscape();
    assert_eq!(
        rows(&b, GroupBy::Team, None),
        vec![
            row("dept", None, 0, 3, 1 + 2 + 4),
            row("team-a", Some("dept"), 1, 1, 1),
            row("team-b", Some("dept"), 1, 2, 2 + 4),
            row("squad-c", Some("team-b"), 2, 1, 4),
            // "lonely" has no entities: not listed.
        ]
    );
    // One group: itself and its subtree.
    let team_b = b.org.group_ix("group:default/team-b").unwrap();
    assert_eq!(
        rows(&b, GroupBy::Team, Some(Scope::Group(team_b))),
        vec![
            row("team-b", Some("dept"), 0, 2, 6),
            row("squad-c", Some("team-b"), 1, 1, 4)
        ]
    );
    // Narrowed to a system: team-b keeps b1 only, squad-c (c1 in sys-2) drops out.
    assert_eq!(
        rows(&b, GroupBy::Team, Some(Scope::System(0))),
        vec![
            row("dept", None, 0, 2, 3),
            row("team-a", Some("dept"), 1, 1, 1),
            row("team-b", Some("dept"), 1, 1, 2),
        ]
    );
}

#[test]
fn entity_system_domain_and_org_rows() {
    let b = landscape();
    assert_eq!(
        rows(&b, GroupBy::Entity, None),
        vec![
            row("a1", Some("team-a"), 0, 1, 1),
            row("b1", Some("team-b"), 0, 1, 2),
            row("c1", Some("squad-c"), 0, 1, 4),
            row("x", None, 0, 1, 8),
        ]
    );
    assert_eq!(
        rows(&b, GroupBy::System, None),
        vec![
            row("sys-1", Some("dom-1"), 0, 2, 3),
            row("sys-2", None, 0, 1, 4)
        ]
    );
    assert_eq!(
        rows(&b, GroupBy::Domain, None),
        vec![row("dom-1", None, 0, 2, 3)]
    );
    assert_eq!(
        rows(&b, GroupBy::Org, None),
        vec![row("org", None, 0, 4, 15)]
    );
    let dept = b.org.group_ix("group:default/dept").unwrap();
    assert_eq!(
        rows(&b, GroupBy::Org, Some(Scope::Group(dept))),
        vec![row("org", None, 0, 3, 7)]
    );
    assert_eq!(
        rows(&b, GroupBy::Org, Some(Scope::Domain(0))),
        vec![row("org", None, 0, 2, 3)]
    );
    assert_eq!(
        rows(&b, GroupBy::Entity, Some(Scope::Entity(2))),
        vec![row("c1", Some("squad-c"), 0, 1, 4)]
    );
    // The org row is there even when the slice is empty.
    let lonely = b.org.group_ix("group:default/lonely").unwrap();
    assert_eq!(
        rows(&b, GroupBy::Org, Some(Scope::Group(lonely))),
        vec![row("org", None, 0, 0, 0)]
    );
    let kinds: Vec<RowKind> = b
        .report(&Query {
            group_by: GroupBy::System,
            ..Query::new(t0(), t0() + DAY, PRODUCTION)
        })
        .rows
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds, vec![RowKind::System, RowKind::System]);
}

#[test]
fn group_parent_cycles_terminate_and_count_each_group_once() {
    let mut b = Builder::new();
    // g1 → g2 → g1 (a cycle), g3 → g1, g4 → g4 (its own parent).
    let g1 = b.group("g1", None);
    let g2 = b.group("g2", Some(g1));
    b.org.groups[g1 as usize].parent = Some(g2);
    let g3 = b.group("g3", Some(g1));
    let g4 = b.group("g4", None);
    b.org.groups[g4 as usize].parent = Some(g4);
    let e1 = b.entity("e1", Some(g1), None);
    let e3 = b.entity("e3", Some(g3), None);
    let e4 = b.entity("e4", Some(g4), None);
    for (e, n) in [(e1, 2), (e3, 1), (e4, 4)] {
        for k in 0..n {
            b.deploy(e, PRODUCTION, t0() + HOUR + k * MINUTE, S);
        }
    }
    let index = Index::build(&b.org, &b.facts).unwrap();
    assert_eq!(index.rollup().ancestors(g3), &[g1, g2]);
    assert_eq!(index.rollup().ancestors(g1), &[g2]);
    assert_eq!(index.rollup().ancestors(g4), &[] as &[u32]);
    assert_eq!(index.rollup().group_entities(g2), &[e1, e3]);
    assert_eq!(index.rollup().cycles().len(), 2);

    let mut listed = rows(&b, GroupBy::Team, None);
    listed.sort();
    assert_eq!(
        listed,
        vec![
            // g1 and g2 each count e1 and e3 once; g4 counts e4 once, not twice.
            row("g1", Some("g2"), 0, 2, 3),
            row("g2", Some("g1"), 1, 2, 3),
            row("g3", Some("g1"), 1, 1, 1),
            row("g4", Some("g4"), 0, 1, 4),
        ]
    );
    let report = b.report(&Query::new(t0(), t0() + DAY, PRODUCTION));
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("g1") && w.contains("g2"))
    );
    // One group of a cycle: its subtree, each group once.
    let only = rows(&b, GroupBy::Team, Some(Scope::Group(g2)));
    assert_eq!(only.len(), 3, "{only:?}"); // g2, g1, g3
}

#[test]
fn iso_weeks_start_on_monday_utc() {
    // (instant, Monday of its ISO week)
    let table = [
        (date(2024, 1, 1), date(2024, 1, 1)), // a Monday is its own start
        (date(2024, 1, 8) - 1, date(2024, 1, 1)), // Sunday 23:59:59.999
        (date(2024, 1, 8), date(2024, 1, 8)), // the next Monday 00:00
        (date(2024, 2, 29) + 13 * HOUR, date(2024, 2, 26)), // leap day, a Thursday
        (date(2021, 1, 1), date(2020, 12, 28)), // Friday: week starts in the old year
        (date(1970, 1, 1), date(1969, 12, 29)), // Unix day 0, a Thursday
        (date(1969, 12, 31) + 5 * HOUR, date(1969, 12, 29)), // negative times
    ];
    for (t, monday) in table {
        assert_eq!(week_start(t), monday, "{t}");
    }
}

#[test]
fn calendar_months_and_leap_years() {
    // (a day in the month, month length in days)
    let table = [
        (date(2024, 2, 10), 29), // leap year
        (date(2023, 2, 10), 28),
        (date(2000, 2, 1), 29),  // divisible by 400: leap
        (date(1900, 2, 28), 28), // divisible by 100 only: not leap
        (date(2024, 4, 30), 30),
        (date(2023, 12, 31) + DAY - 1, 31), // last millisecond of the year
    ];
    for (t, days) in table {
        let start = month_start(t);
        assert!(start <= t && t < next_month_start(t));
        assert_eq!((next_month_start(t) - start) / DAY, days, "{t}");
    }
    assert_eq!(next_month_start(date(2023, 12, 5)), date(2024, 1, 1));
    assert_eq!(
        previous_window(date(2024, 3, 1), date(2024, 3, 31)),
        (date(2024, 1, 31), date(2024, 3, 1))
    );
}

#[test]
fn spans_cover_the_window_clipped_to_it() {
    let (from, to) = (date(2024, 1, 3), date(2024, 3, 10));
    let weeks = spans(from, to, BucketSize::Week);
    // Mondays Jan 1, 8, 15, 22, 29, Feb 5, 12, 19, 26, Mar 4.
    assert_eq!(weeks.len(), 10);
    assert_eq!((weeks[0].start, weeks[0].from), (date(2024, 1, 1), from));
    assert_eq!(
        (weeks[9].start, weeks[9].end, weeks[9].to),
        (date(2024, 3, 4), date(2024, 3, 11), to)
    );
    let months = spans(from, to, BucketSize::Month);
    let bounds: Vec<_> = months
        .iter()
        .map(|s| (s.start, s.end, s.from, s.to))
        .collect();
    assert_eq!(
        bounds,
        vec![
            (date(2024, 1, 1), date(2024, 2, 1), from, date(2024, 2, 1)),
            (
                date(2024, 2, 1),
                date(2024, 3, 1),
                date(2024, 2, 1),
                date(2024, 3, 1)
            ),
            (date(2024, 3, 1), date(2024, 4, 1), date(2024, 3, 1), to),
        ]
    );
    // Contiguous and covering: each span's `from` is the previous one's `to`.
    for pair in weeks.windows(2) {
        assert_eq!(pair[0].to, pair[1].from);
    }
    assert!(spans(from, to, BucketSize::None).is_empty());
    assert!(spans(to, from, BucketSize::Week).is_empty());
}

#[test]
fn report_buckets_split_at_monday_midnight_and_use_clipped_lengths() {
    let mut b = Builder::new();
    let a = b.entity("a", None, None);
    let monday = date(2024, 1, 8);
    b.deploy(a, PRODUCTION, monday - 1, S); // Sunday 23:59:59.999: the first week
    b.deploy(a, PRODUCTION, monday, S); // Monday 00:00: the second week
    b.deploy(a, PRODUCTION, monday + 3 * DAY, S);
    let (from, to) = (date(2024, 1, 3), date(2024, 1, 17)); // Wednesday to Wednesday
    let query = Query {
        group_by: GroupBy::Org,
        buckets: BucketSize::Week,
        ..Query::new(from, to, PRODUCTION)
    };
    let report = b.report(&query);
    let buckets = &report.rows[0].buckets;
    let counted: Vec<_> = buckets
        .iter()
        .map(|b| (b.start, b.metrics.deployments.counted))
        .collect();
    assert_eq!(
        counted,
        vec![(date(2024, 1, 1), 1), (monday, 2), (date(2024, 1, 15), 0)]
    );
    // The first bucket covers Wednesday to Sunday: 5 days, so 1 deployment is 0.2 a day.
    close(
        Some(buckets[0].metrics.deployment_frequency.per_day),
        1.0 / 5.0,
    );
    // The last covers Monday and Tuesday only.
    assert_eq!(buckets[2].end - buckets[2].start, 7 * DAY);

    let query = Query {
        buckets: BucketSize::Month,
        ..query
    };
    let report = b.report(&query);
    let jan = &report.rows[0].buckets[0].metrics;
    // January 3 to 17: 14 days.
    close(Some(jan.deployment_frequency.per_day), 3.0 / 14.0);
}
