//! The engine against an independent, naive implementation of the same definitions: plain
//! loops over the facts for every row and bucket (no index, no sorting tricks, no
//! `select_nth_unstable`, group membership by walking parents), on several seeded histories,
//! for every metric and every rollup.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::DAY;
use pave_dora::buckets::{BucketSize, week_start};
use pave_dora::facts::{Deployment, EntityIx, Facts, GroupIx, Millis, Org, Outcome};
use pave_dora::generate::{DemoEntity, LargeParams, demo, large, shuffle};
use pave_dora::metrics::{
    ChangeFailureRate, DeploymentCounts, DeploymentFrequency, Excluded, IncidentTimes, LeadTime,
    Metrics, RecoveryTime, ReworkRate, SeverityTimes,
};
use pave_dora::tiers::{TierTable, TierVersion, tiers};
use pave_dora::{GroupBy, Index, Query, Scope, report};

/// The definition of `PERCENTILE_CONT`, by sorting.
fn percentile(values: &[Millis], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rn = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (
        sorted[rn.floor() as usize] as f64,
        sorted[rn.ceil() as usize] as f64,
    );
    if rn.floor() == rn.ceil() {
        Some(lo)
    } else {
        let d = rn - rn.floor();
        Some(lo * (1.0 - d) + hi * d)
    }
}

/// Per-deployment facts that do not depend on the window, by brute force.
struct Naive<'a> {
    org: &'a Org,
    facts: &'a Facts,
    next: Vec<Option<usize>>,
    failed: Vec<bool>,
    /// `Some(ms)` recovered (possibly negative), `None` not recovered.
    recovery: Vec<Option<Millis>>,
}

fn counted_anywhere(d: &Deployment) -> bool {
    d.finished_at.is_some() && d.outcome != Outcome::Running && d.excluded.is_none()
}

impl<'a> Naive<'a> {
    fn new(org: &'a Org, facts: &'a Facts) -> Naive<'a> {
        let deps = &facts.deployments;
        let next: Vec<Option<usize>> = (0..deps.len())
            .map(|i| {
                let d = &deps[i];
                if !counted_anywhere(d) {
                    return None;
                }
                let me = (d.finished_at.unwrap(), i);
                let mut best: Option<(Millis, usize)> = None;
                for (j, x) in deps.iter().enumerate() {
                    if x.entity == d.entity && x.environment == d.environment && counted_anywhere(x)
                    {
                        let key = (x.finished_at.unwrap(), j);
                        if key > me && best.is_none_or(|b| key < b) {
                            best = Some(key);
                        }
                    }
                }
                best.map(|(_, j)| j)
            })
            .collect();
        let caused = |i: usize| {
            facts
                .incidents
                .iter()
                .any(|inc| inc.caused_by == Some(i as u32))
        };
        let failed: Vec<bool> = (0..deps.len())
            .map(|i| {
                counted_anywhere(&deps[i])
                    && (deps[i].outcome == Outcome::Failed
                        || caused(i)
                        || next[i].is_some_and(|n| deps[n].rollback))
            })
            .collect();
        let recovery = (0..deps.len())
            .map(|i| {
                if !failed[i] {
                    return None;
                }
                let at = deps[i].finished_at.unwrap();
                let causes: Vec<_> = facts
                    .incidents
                    .iter()
                    .filter(|inc| inc.caused_by == Some(i as u32))
                    .collect();
                if !causes.is_empty() {
                    if causes.iter().any(|c| c.resolved_at.is_none()) {
                        return None;
                    }
                    return Some(causes.iter().map(|c| c.resolved_at.unwrap()).max().unwrap() - at);
                }
                let mut n = next[i];
                while let Some(j) = n {
                    if deps[j].outcome == Outcome::Succeeded && !failed[j] {
                        return Some(deps[j].finished_at.unwrap() - at);
                    }
                    n = next[j];
                }
                None
            })
            .collect();
        Naive {
            org,
            facts,
            next,
            failed,
            recovery,
        }
    }

    fn in_group_subtree(&self, entity: usize, group: GroupIx) -> bool {
        let mut seen = HashSet::new();
        let mut g = self.org.entities[entity].owner;
        while let Some(current) = g {
            if current == group {
                return true;
            }
            if !seen.insert(current) {
                return false;
            }
            g = self.org.groups[current as usize].parent;
        }
        false
    }

    fn in_scope(&self, entity: usize, scope: Scope) -> bool {
        let node = &self.org.entities[entity];
        match scope {
            Scope::Entity(e) => entity == e as usize,
            Scope::Group(g) => self.in_group_subtree(entity, g),
            Scope::System(s) => node.system == Some(s),
            Scope::Domain(d) => node
                .system
                .is_some_and(|s| self.org.system_domains[s as usize] == Some(d)),
        }
    }

    /// Every row of `query` as key → entity set (empty rows dropped, org row kept).
    fn rows(&self, query: &Query) -> BTreeMap<String, Vec<bool>> {
        let n = self.org.entities.len();
        let scoped = |e: usize| query.only.is_none_or(|s| self.in_scope(e, s));
        let mut rows = BTreeMap::new();
        let mut add = |key: &str, member: Vec<bool>| {
            if member.iter().any(|&m| m) {
                rows.insert(key.to_owned(), member);
            }
        };
        match query.group_by {
            GroupBy::Entity => {
                for e in 0..n {
                    add(
                        &self.org.entities[e].entity_ref,
                        (0..n).map(|x| x == e && scoped(x)).collect(),
                    );
                }
            }
            GroupBy::Team => {
                for (g, node) in self.org.groups.iter().enumerate() {
                    if let Some(Scope::Group(root)) = query.only {
                        // Listed groups: the root and the groups below it.
                        let mut seen = HashSet::new();
                        let mut up = Some(g as GroupIx);
                        let mut below = false;
                        while let Some(c) = up {
                            if c == root {
                                below = true;
                                break;
                            }
                            if !seen.insert(c) {
                                break;
                            }
                            up = self.org.groups[c as usize].parent;
                        }
                        if !below {
                            continue;
                        }
                    }
                    let member = (0..n)
                        .map(|x| self.in_group_subtree(x, g as GroupIx) && scoped(x))
                        .collect();
                    add(&node.entity_ref, member);
                }
            }
            GroupBy::System => {
                for (s, node) in self.org.systems.iter().enumerate() {
                    let member = (0..n)
                        .map(|x| self.org.entities[x].system == Some(s as u32) && scoped(x))
                        .collect();
                    add(&node.entity_ref, member);
                }
            }
            GroupBy::Domain => {
                for (d, node) in self.org.domains.iter().enumerate() {
                    let member = (0..n)
                        .map(|x| self.in_scope(x, Scope::Domain(d as u32)) && scoped(x))
                        .collect();
                    add(&node.entity_ref, member);
                }
            }
            GroupBy::Org => {
                rows.insert("org".to_owned(), (0..n).map(scoped).collect());
            }
        }
        rows
    }

    fn metrics(
        &self,
        member: &[bool],
        unattributed: bool,
        env: u16,
        from: Millis,
        to: Millis,
        table: &TierTable,
    ) -> Metrics {
        let deps = &self.facts.deployments;
        let in_window = |t: Millis| from <= t && t < to;
        let mut counted = vec![false; deps.len()];
        let mut excluded = Excluded::default();
        for (i, d) in deps.iter().enumerate() {
            if d.environment != env || !member[d.entity as usize] {
                continue;
            }
            if let Some(reason) = d.excluded {
                if in_window(d.finished_at.unwrap_or(d.started_at)) {
                    use pave_dora::facts::Exclusion::*;
                    match reason {
                        FinishesBeforeStart => excluded.deployments_finishing_before_start += 1,
                        InTheFuture => excluded.deployments_in_the_future += 1,
                        CommittedAfterDeployment => {
                            excluded.deployments_committed_after_deployment += 1
                        }
                    }
                }
                continue;
            }
            counted[i] = counted_anywhere(d) && in_window(d.finished_at.unwrap());
        }
        let all: Vec<usize> = (0..deps.len()).filter(|&i| counted[i]).collect();
        let n = all.len() as u64;
        let succeeded: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| deps[i].outcome == Outcome::Succeeded)
            .collect();
        let ratio = |k: u64| {
            if n == 0 {
                None
            } else {
                Some(k as f64 / n as f64)
            }
        };

        // Deployment frequency.
        let days: HashSet<i64> = succeeded
            .iter()
            .map(|&i| deps[i].finished_at.unwrap().div_euclid(DAY))
            .collect();
        let mut weeks = Vec::new();
        let mut w = week_start(from);
        while w < to {
            weeks.push(
                days.iter()
                    .filter(|&&d| w <= d * DAY && d * DAY < w + 7 * DAY)
                    .count() as Millis,
            );
            w += 7 * DAY;
        }
        let median_days = percentile(&weeks, 0.5).unwrap_or(0.0);
        let per_day = succeeded.len() as f64 / ((to - from) as f64 / DAY as f64);

        // Lead time.
        let mut leads = Vec::new();
        for c in &self.facts.changes {
            if let Some(d) = c.deployment {
                let d = d as usize;
                if counted[d] && deps[d].outcome == Outcome::Succeeded {
                    let lead = deps[d].finished_at.unwrap() - c.committed_at;
                    if lead < 0 {
                        excluded.changes_committed_after_deployment += 1;
                    } else {
                        leads.push(lead);
                    }
                }
            }
        }

        // Change failure, recovery, rework.
        let caused = |i: usize| {
            self.facts
                .incidents
                .iter()
                .any(|inc| inc.caused_by == Some(i as u32))
        };
        let fixed = |i: usize| {
            self.facts
                .incidents
                .iter()
                .any(|inc| inc.fixed_by == Some(i as u32))
        };
        let failed: Vec<usize> = all.iter().copied().filter(|&i| self.failed[i]).collect();
        let mut recoveries = Vec::new();
        let mut unrecovered = 0;
        for &i in &failed {
            match self.recovery[i] {
                None => unrecovered += 1,
                Some(r) if r < 0 => excluded.recoveries_before_failure += 1,
                Some(r) => recoveries.push(r),
            }
        }
        let unplanned = all
            .iter()
            .filter(|&&i| deps[i].hotfix || deps[i].rollback || fixed(i))
            .count() as u64;

        // Incidents.
        let mut opened = [0u64; 6];
        let mut durations: [Vec<Millis>; 6] = Default::default();
        let mut all_durations = Vec::new();
        let mut unresolved = 0;
        for inc in &self.facts.incidents {
            let entity: Option<EntityIx> = inc
                .entity
                .or(inc.caused_by.map(|d| deps[d as usize].entity));
            let counts = match entity {
                Some(e) => member[e as usize],
                None => unattributed,
            };
            if !counts || !in_window(inc.opened_at) {
                continue;
            }
            let s = inc.severity.unwrap_or(0) as usize;
            opened[s] += 1;
            match inc.resolved_at {
                None => unresolved += 1,
                Some(r) if r < inc.opened_at => excluded.incidents_resolved_before_opened += 1,
                Some(r) => {
                    durations[s].push(r - inc.opened_at);
                    all_durations.push(r - inc.opened_at);
                }
            }
        }
        let by_severity = [1usize, 2, 3, 4, 5, 0]
            .into_iter()
            .filter(|&s| opened[s] > 0)
            .map(|s| SeverityTimes {
                severity: (s != 0).then_some(s as u8),
                opened: opened[s],
                resolved: durations[s].len() as u64,
                median_ms: percentile(&durations[s], 0.5),
            })
            .collect();

        let cfr = ratio(failed.len() as u64);
        let lead_median = percentile(&leads, 0.5);
        let recovery_median = percentile(&recoveries, 0.5);
        Metrics {
            deployments: DeploymentCounts {
                counted: n,
                succeeded: succeeded.len() as u64,
                failed: all
                    .iter()
                    .filter(|&&i| deps[i].outcome == Outcome::Failed)
                    .count() as u64,
                success_rate: ratio(succeeded.len() as u64),
            },
            deployment_frequency: DeploymentFrequency {
                per_day,
                per_week: per_day * 7.0,
                median_deploy_days_per_week: median_days,
                weeks: weeks.len() as u32,
                level: (n > 0).then(|| table.deployment_frequency_level(median_days, per_day)),
            },
            lead_time: LeadTime {
                changes: leads.len() as u64,
                median_ms: lead_median,
                p90_ms: percentile(&leads, 0.9),
                level: lead_median.map(|m| table.lead_time_level(m)),
            },
            change_failure_rate: ChangeFailureRate {
                failed: failed.len() as u64,
                outcome_failed: failed
                    .iter()
                    .filter(|&&i| deps[i].outcome == Outcome::Failed)
                    .count() as u64,
                caused_incident: failed.iter().filter(|&&i| caused(i)).count() as u64,
                rolled_back: failed
                    .iter()
                    .filter(|&&i| self.next[i].is_some_and(|j| deps[j].rollback))
                    .count() as u64,
                rate: cfr,
                level: cfr.map(|r| table.change_failure_level(r)),
            },
            recovery_time: RecoveryTime {
                failed: failed.len() as u64,
                recovered: recoveries.len() as u64,
                unrecovered,
                median_ms: recovery_median,
                p90_ms: percentile(&recoveries, 0.9),
                level: recovery_median.map(|m| table.recovery_level(m)),
            },
            rework_rate: ReworkRate {
                unplanned,
                hotfix: all.iter().filter(|&&i| deps[i].hotfix).count() as u64,
                rollback: all.iter().filter(|&&i| deps[i].rollback).count() as u64,
                fixed_incident: all.iter().filter(|&&i| fixed(i)).count() as u64,
                rate: ratio(unplanned),
            },
            incidents: IncidentTimes {
                opened: opened.iter().sum(),
                resolved: all_durations.len() as u64,
                unresolved,
                median_ms: percentile(&all_durations, 0.5),
                p90_ms: percentile(&all_durations, 0.9),
                by_severity,
            },
            excluded,
        }
    }
}

/// Every row, its previous period and every bucket of `query`, engine vs naive.
fn agree(org: &Org, facts: &Facts, naive: &Naive<'_>, query: &Query) {
    let index = Index::build(org, facts).unwrap();
    let report = report(&index, query).unwrap();
    let table = tiers(query.tiers);
    let expected = naive.rows(query);
    let got: Vec<&str> = report.rows.iter().map(|r| r.key.as_str()).collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(
        got_sorted,
        expected.keys().map(String::as_str).collect::<Vec<_>>(),
        "rows of {query:?}"
    );
    for row in &report.rows {
        let member = &expected[&row.key];
        let unattributed = query.group_by == GroupBy::Org && query.only.is_none();
        let context = format!("row {} of {query:?}", row.key);
        assert_eq!(
            row.entities as usize,
            member.iter().filter(|&&m| m).count(),
            "{context}"
        );
        let m = |from, to| naive.metrics(member, unattributed, query.environment, from, to, table);
        assert_eq!(row.metrics, m(query.from, query.to), "{context}");
        if query.compare_previous {
            let len = query.to - query.from;
            assert_eq!(
                row.previous.as_ref(),
                Some(&m(query.from - len, query.from)),
                "previous, {context}"
            );
        }
        for bucket in &row.buckets {
            let (from, to) = (bucket.start.max(query.from), bucket.end.min(query.to));
            assert_eq!(
                bucket.metrics,
                m(from, to),
                "bucket {}, {context}",
                bucket.start
            );
        }
    }
}

/// The comparison means something only if the history has every kind of fact in the window.
fn assert_exercised(org: &Org, facts: &Facts, from: Millis, to: Millis) {
    let index = Index::build(org, facts).unwrap();
    let query = Query {
        group_by: GroupBy::Org,
        ..Query::new(from, to, 0)
    };
    let m = &report(&index, &query).unwrap().rows[0].metrics;
    let c = &m.change_failure_rate;
    let covered = [
        ("succeeded", m.deployments.succeeded),
        ("outcome failed", c.outcome_failed),
        ("caused incident", c.caused_incident),
        ("rolled back", c.rolled_back),
        ("recovered", m.recovery_time.recovered),
        ("unrecovered", m.recovery_time.unrecovered),
        ("hotfix", m.rework_rate.hotfix),
        ("rollback", m.rework_rate.rollback),
        ("fixed incident", m.rework_rate.fixed_incident),
        ("lead times", m.lead_time.changes),
        (
            "negative leads",
            m.excluded.changes_committed_after_deployment,
        ),
        ("incidents resolved", m.incidents.resolved),
        ("incidents unresolved", m.incidents.unresolved),
        (
            "excluded",
            m.excluded.deployments_finishing_before_start + m.excluded.deployments_in_the_future,
        ),
    ];
    for (what, count) in covered {
        assert!(
            count > 0,
            "no {what} in the window: the comparison would not test it"
        );
    }
}

fn queries(from: Millis, to: Millis, org: &Org) -> Vec<Query> {
    let base = Query {
        buckets: BucketSize::Week,
        compare_previous: true,
        ..Query::new(from, to, 0)
    };
    let mut out: Vec<Query> = [
        GroupBy::Entity,
        GroupBy::Team,
        GroupBy::System,
        GroupBy::Domain,
        GroupBy::Org,
    ]
    .into_iter()
    .map(|group_by| Query { group_by, ..base })
    .collect();
    let month = Query {
        buckets: BucketSize::Month,
        ..base
    };
    if !org.groups.is_empty() {
        out.push(Query {
            only: Some(Scope::Group(0)),
            ..month
        });
        out.push(Query {
            only: Some(Scope::Group(0)),
            group_by: GroupBy::Org,
            tiers: TierVersion::Dora2024,
            ..month
        });
    }
    if !org.systems.is_empty() {
        out.push(Query {
            only: Some(Scope::System(org.systems.len() as u32 - 1)),
            group_by: GroupBy::Entity,
            ..month
        });
    }
    if !org.domains.is_empty() {
        out.push(Query {
            only: Some(Scope::Domain(0)),
            group_by: GroupBy::Team,
            ..month
        });
    }
    out.push(Query {
        only: Some(Scope::Entity(3)),
        group_by: GroupBy::Org,
        ..month
    });
    // Staging, no series.
    out.push(Query {
        environment: 1,
        buckets: BucketSize::None,
        ..base
    });
    out
}

fn small() -> LargeParams {
    LargeParams {
        services: 30,
        deployments: 3000,
        changes: 9000,
        incidents: 300,
        days: 100,
        departments: 2,
        teams: 10,
        systems: 5,
        domains: 2,
        end: common::date(2025, 3, 1),
    }
}

#[test]
fn engine_agrees_with_naive_on_large_style_histories() {
    for seed in [1u64, 2, 3] {
        let params = small();
        let (org, facts) = large(seed, &params);
        let naive = Naive::new(&org, &facts);
        let start = params.end - i64::from(params.days) * DAY;
        // A window that starts mid-day and mid-week, so edges and the previous period matter.
        let (from, to) = (start + 31 * DAY + 7 * 3_600_000, params.end - 4 * DAY);
        assert_exercised(&org, &facts, from, to);
        for query in queries(from, to, &org) {
            agree(&org, &facts, &naive, &query);
        }
    }
}

#[test]
fn engine_agrees_with_naive_with_a_group_cycle() {
    let params = small();
    let (mut org, facts) = large(4, &params);
    // department-0 under team-000, which is under department-0.
    let team0 = org.group_ix("group:default/team-000").unwrap();
    org.groups[0].parent = Some(team0);
    let naive = Naive::new(&org, &facts);
    let (from, to) = (params.end - 60 * DAY, params.end);
    for query in queries(from, to, &org) {
        agree(&org, &facts, &naive, &query);
    }
}

#[test]
fn engine_agrees_with_naive_on_demo_histories() {
    let entities = [
        (
            "component:default/storefront",
            "group:default/web",
            Some("system:default/shop"),
        ),
        (
            "component:default/basket",
            "group:default/checkout",
            Some("system:default/shop"),
        ),
        (
            "component:default/payments",
            "group:default/payments",
            Some("system:default/pay"),
        ),
        (
            "component:default/refunds",
            "group:default/payments",
            Some("system:default/pay"),
        ),
        ("component:default/search", "group:default/discovery", None),
        (
            "component:default/catalog",
            "group:default/discovery",
            Some("system:default/shop"),
        ),
        ("component:default/stock", "group:default/fulfilment", None),
    ];
    let entities: Vec<DemoEntity<'_>> = entities
        .iter()
        .map(|&(entity_ref, owner, system)| DemoEntity {
            entity_ref,
            owner,
            system,
        })
        .collect();
    let now = common::date(2025, 6, 18) + 15 * 3_600_000;
    for seed in [7u64, 8] {
        let (org, facts) = demo(seed, &entities, 60, now);
        let naive = Naive::new(&org, &facts);
        assert_exercised(&org, &facts, now - 45 * DAY, now + DAY);
        for query in queries(now - 45 * DAY, now + DAY, &org) {
            agree(&org, &facts, &naive, &query);
        }
    }
}

#[test]
fn the_order_of_changes_and_incidents_does_not_matter() {
    let params = small();
    let (org, facts) = large(5, &params);
    let mut shuffled = facts.clone();
    shuffle(11, &mut shuffled.changes);
    shuffle(12, &mut shuffled.incidents);
    let query = Query {
        buckets: BucketSize::Week,
        compare_previous: true,
        ..Query::new(params.end - 50 * DAY, params.end, 0)
    };
    let a = report(&Index::build(&org, &facts).unwrap(), &query).unwrap();
    let b = report(&Index::build(&org, &shuffled).unwrap(), &query).unwrap();
    assert_eq!(a, b);
}
