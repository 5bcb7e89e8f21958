//! The metrics and their exact definitions (DORA 2024: five metrics, plus deployment success
//! rate and time to restore by severity). This text is the docs page.
//!
//! Every figure is computed for a **window** `[from, to)` (Unix milliseconds, UTC, `from`
//! inclusive, `to` exclusive), one **environment** (usually `production`), and a **set of
//! entities** (one entity, a group with its subtree, a system, a domain, or the whole
//! organisation; see [`crate::rollup`]).
//!
//! # Deployments counted
//!
//! A deployment is **counted** when it is to the environment, its `finished_at` is in the
//! window, its outcome is not `running`, and it is not excluded (`excluded` is empty).
//! Every rate below divides by the number of counted deployments, `N`. Excluded
//! deployments whose `finished_at` (or `started_at` when they never finished) is in the
//! window are counted by reason in [`Excluded`]; running ones are not counted at all.
//!
//! A deployment's **next deployment** is the next counted deployment of the same entity and
//! environment in `(finished_at, index in Facts::deployments)` order, at any time (also
//! after the window: a deployment rolled back the day after the window closed was still
//! rolled back).
//!
//! # Deployment frequency (throughput)
//!
//! * `per_day` = successful counted deployments ÷ window length in days
//!   (`(to - from) / 86,400,000`, fractional); `per_week` = `per_day × 7`.
//! * `median_deploy_days_per_week`: for every ISO week (Monday 00:00 UTC) that overlaps the
//!   window, the number of distinct UTC days with at least one successful counted deployment
//!   of any entity in the set (a partial first or last week counts only days inside the
//!   window's span); the median over those weeks, weeks without deployments included, with
//!   `PERCENTILE_CONT` (below).
//! * Level: see [`crate::tiers`] (median deploy-days per week ≥ 5 elite, ≥ 1 high, at least
//!   one successful deployment per average month medium, else low); none when `N = 0`.
//!
//! # Change lead time (throughput)
//!
//! For every change whose shipping deployment (`Change::deployment`) is counted, succeeded,
//! is of an entity in the set, and finished in the window: `lead = deployment.finished_at −
//! change.committed_at` in milliseconds. Negative leads (a commit dated after the deployment
//! that shipped it: clock skew, rebased or amended commits) are left out and counted in
//! [`Excluded::changes_committed_after_deployment`]; zero is kept (Four Keys drops it, which
//! hides same-commit deployments). The change is attributed to its deployment's entity.
//! `median_ms` and `p90_ms` use `PERCENTILE_CONT`.
//!
//! # Change failure rate (instability)
//!
//! A counted deployment **failed** when at least one holds: its outcome is `failed`; an
//! incident names it in `caused_by` (at any time); its next deployment is a rollback
//! (`rollback = true`). `rate = failed ÷ N`, counting each failed deployment once however
//! many reasons and incidents it has (Four Keys' 3-month panel counts incident rows instead,
//! fourkeys#213). The reasons are also counted separately (`outcome_failed`,
//! `caused_incident`, `rolled_back`; they overlap).
//!
//! # Failed deployment recovery time (throughput since 2024)
//!
//! For every failed counted deployment `d` (as above):
//!
//! * if incidents name `d` in `caused_by`: recovered when all of them are resolved, at the
//!   latest `resolved_at`; recovery = that − `d.finished_at`;
//! * otherwise: recovered at the first later deployment of the same entity and environment
//!   (in the next-deployment order) that succeeded and did not itself fail; recovery = its
//!   `finished_at` − `d.finished_at`.
//!
//! Failed deployments not recovered (yet) are counted in `unrecovered`; negative recoveries
//! (an incident resolved before the deployment finished) in
//! [`Excluded::recoveries_before_failure`]. `median_ms` and `p90_ms` over the recovered ones,
//! with `PERCENTILE_CONT`.
//!
//! # Rework rate (instability, new in 2024)
//!
//! A counted deployment is **unplanned** when it is a `hotfix`, a `rollback`, or named by an
//! incident in `fixed_by`. `rate = unplanned ÷ N`. No tier table has levels for it.
//!
//! # Deployment success rate, incidents
//!
//! * `success_rate` = successful counted deployments ÷ `N`.
//! * Incidents: those attributed to an entity in the set (its `entity`, or else the entity of
//!   its `caused_by` deployment; incidents with neither count for the whole organisation
//!   only) and **opened** in the window, whatever the environment. For resolved ones,
//!   `resolved_at − opened_at`: median and p90 overall and per severity (1-5, and unknown);
//!   negative durations are counted in [`Excluded::incidents_resolved_before_opened`].
//!
//! # Percentiles
//!
//! `PERCENTILE_CONT` as DuckDB's `quantile_cont` over `BIGINT` milliseconds: linear
//! interpolation between the closest ranks, see [`crate::quantile`]. Empty samples give
//! `null`, never 0.

use serde::{Deserialize, Serialize};

use crate::buckets::{DAY_MS, WEEK_MS, day_start, week_start};
use crate::facts::{EntityIx, EnvIx, Millis};
use crate::index::{DeployRow, IncidentRow, Index, UNRECOVERED, UNRESOLVED, flag};
use crate::quantile::{median_and_p90, percentile_cont};
use crate::tiers::{Level, TierTable};

/// Every figure for one set of entities and one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub deployments: DeploymentCounts,
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub recovery_time: RecoveryTime,
    pub rework_rate: ReworkRate,
    pub incidents: IncidentTimes,
    pub excluded: Excluded,
}

/// Counted deployments (`N`) and how they ended.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentCounts {
    pub counted: u64,
    pub succeeded: u64,
    /// Outcome `failed` (only one of the change-failure reasons).
    pub failed: u64,
    /// `succeeded ÷ counted`.
    pub success_rate: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentFrequency {
    pub per_day: f64,
    pub per_week: f64,
    pub median_deploy_days_per_week: f64,
    /// ISO weeks overlapping the window (the median's sample size).
    pub weeks: u32,
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadTime {
    /// Changes in the sample.
    pub changes: u64,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ChangeFailureRate {
    /// Distinct failed deployments.
    pub failed: u64,
    pub outcome_failed: u64,
    pub caused_incident: u64,
    pub rolled_back: u64,
    pub rate: Option<f64>,
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RecoveryTime {
    /// Failed deployments (= `change_failure_rate.failed`).
    pub failed: u64,
    pub recovered: u64,
    pub unrecovered: u64,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReworkRate {
    /// Distinct unplanned deployments.
    pub unplanned: u64,
    pub hotfix: u64,
    pub rollback: u64,
    pub fixed_incident: u64,
    pub rate: Option<f64>,
}

/// Time to restore incidents opened in the window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IncidentTimes {
    pub opened: u64,
    pub resolved: u64,
    pub unresolved: u64,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    /// Severities 1-5 with at least one incident, then unknown (`severity: null`).
    pub by_severity: Vec<SeverityTimes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeverityTimes {
    pub severity: Option<u8>,
    pub opened: u64,
    pub resolved: u64,
    pub median_ms: Option<f64>,
}

/// Facts kept but left out of the figures, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Excluded {
    pub deployments_finishing_before_start: u64,
    pub deployments_in_the_future: u64,
    pub deployments_committed_after_deployment: u64,
    /// Negative lead times.
    pub changes_committed_after_deployment: u64,
    /// Negative recovery times.
    pub recoveries_before_failure: u64,
    /// Negative incident durations.
    pub incidents_resolved_before_opened: u64,
}

/// Buffers reused across rows and buckets, so a report allocates per row only its output.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    leads: Vec<Millis>,
    recoveries: Vec<Millis>,
    /// Index 0: unknown severity; 1-5: severities.
    durations: [Vec<Millis>; 6],
    all_durations: Vec<Millis>,
    /// One bit per UTC day of the window: a successful deployment that day.
    deploy_days: Vec<u64>,
    weeks: Vec<Millis>,
}

/// The set of entities and the window a [`compute`] call covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slice<'a> {
    pub(crate) entities: &'a [EntityIx],
    /// Include incidents attributed to no entity (the whole-organisation row).
    pub(crate) unattributed: bool,
    pub(crate) environment: EnvIx,
    pub(crate) from: Millis,
    pub(crate) to: Millis,
}

#[derive(Default)]
struct Tally {
    counted: u64,
    succeeded: u64,
    outcome_failed: u64,
    failed: u64,
    caused_incident: u64,
    rolled_back: u64,
    recovered: u64,
    unrecovered: u64,
    unplanned: u64,
    hotfix: u64,
    rollback: u64,
    fixed_incident: u64,
    excluded: Excluded,
    opened: [u64; 6],
    unresolved: u64,
}

/// Computes every figure for `slice` (window non-empty, validated by the caller).
pub(crate) fn compute(
    index: &Index,
    slice: Slice<'_>,
    table: &TierTable,
    scratch: &mut Scratch,
) -> Metrics {
    let Slice {
        entities,
        unattributed,
        environment,
        from,
        to,
    } = slice;
    let first_day = day_start(from);
    let days = ((to - 1 - first_day) / DAY_MS + 1) as usize;
    scratch.leads.clear();
    scratch.recoveries.clear();
    scratch.all_durations.clear();
    for d in &mut scratch.durations {
        d.clear();
    }
    scratch.deploy_days.clear();
    scratch.deploy_days.resize(days.div_ceil(64), 0);

    let mut t = Tally::default();
    for &entity in entities {
        for row in index.deployments_in(entity, environment, from, to) {
            tally_deployment(index, row, first_day, &mut t, scratch);
        }
        for incident in index.incidents_in(entity, from, to) {
            tally_incident(incident, &mut t, scratch);
        }
    }
    if unattributed {
        for incident in index.unattributed_in(from, to) {
            tally_incident(incident, &mut t, scratch);
        }
    }

    // Deploy-days per ISO week overlapping the window.
    scratch.weeks.clear();
    let mut week = week_start(from);
    while week < to {
        let lo = ((week - first_day).max(0) / DAY_MS) as usize;
        let hi = (((week + WEEK_MS - first_day) / DAY_MS) as usize).min(days);
        let count = (lo..hi)
            .filter(|&d| scratch.deploy_days[d / 64] & (1 << (d % 64)) != 0)
            .count();
        scratch.weeks.push(count as Millis);
        week += WEEK_MS;
    }
    let weeks = scratch.weeks.len() as u32;
    let median_deploy_days_per_week = percentile_cont(&mut scratch.weeks, 0.5).unwrap_or(0.0);

    let window_days = (to - from) as f64 / DAY_MS as f64;
    let per_day = t.succeeded as f64 / window_days;
    let ratio = |part: u64| (t.counted > 0).then(|| part as f64 / t.counted as f64);

    let (lead_median, lead_p90) = median_and_p90(&mut scratch.leads);
    let (recovery_median, recovery_p90) = median_and_p90(&mut scratch.recoveries);
    let (incident_median, incident_p90) = median_and_p90(&mut scratch.all_durations);

    let mut by_severity = Vec::new();
    for severity in [1u8, 2, 3, 4, 5, 0] {
        let s = usize::from(severity);
        if t.opened[s] == 0 {
            continue;
        }
        let durations = &mut scratch.durations[s];
        by_severity.push(SeverityTimes {
            severity: (severity != 0).then_some(severity),
            opened: t.opened[s],
            resolved: durations.len() as u64,
            median_ms: percentile_cont(durations, 0.5),
        });
    }
    let change_failure = ratio(t.failed);
    Metrics {
        deployments: DeploymentCounts {
            counted: t.counted,
            succeeded: t.succeeded,
            failed: t.outcome_failed,
            success_rate: ratio(t.succeeded),
        },
        deployment_frequency: DeploymentFrequency {
            per_day,
            per_week: per_day * 7.0,
            median_deploy_days_per_week,
            weeks,
            level: (t.counted > 0)
                .then(|| table.deployment_frequency_level(median_deploy_days_per_week, per_day)),
        },
        lead_time: LeadTime {
            changes: scratch.leads.len() as u64,
            median_ms: lead_median,
            p90_ms: lead_p90,
            level: lead_median.map(|m| table.lead_time_level(m)),
        },
        change_failure_rate: ChangeFailureRate {
            failed: t.failed,
            outcome_failed: t.outcome_failed,
            caused_incident: t.caused_incident,
            rolled_back: t.rolled_back,
            rate: change_failure,
            level: change_failure.map(|r| table.change_failure_level(r)),
        },
        recovery_time: RecoveryTime {
            failed: t.failed,
            recovered: t.recovered,
            unrecovered: t.unrecovered,
            median_ms: recovery_median,
            p90_ms: recovery_p90,
            level: recovery_median.map(|m| table.recovery_level(m)),
        },
        rework_rate: ReworkRate {
            unplanned: t.unplanned,
            hotfix: t.hotfix,
            rollback: t.rollback,
            fixed_incident: t.fixed_incident,
            rate: ratio(t.unplanned),
        },
        incidents: IncidentTimes {
            opened: t.opened.iter().sum(),
            resolved: scratch.all_durations.len() as u64,
            unresolved: t.unresolved,
            median_ms: incident_median,
            p90_ms: incident_p90,
            by_severity,
        },
        excluded: t.excluded,
    }
}

fn tally_deployment(
    index: &Index,
    row: &DeployRow,
    first_day: Millis,
    t: &mut Tally,
    scratch: &mut Scratch,
) {
    let f = row.flags;
    let has = |bit: u16| f & bit != 0;
    if !has(flag::COUNTED) {
        let excluded = &mut t.excluded;
        excluded.deployments_finishing_before_start +=
            u64::from(has(flag::EXCLUDED_FINISHES_BEFORE_START));
        excluded.deployments_in_the_future += u64::from(has(flag::EXCLUDED_IN_THE_FUTURE));
        excluded.deployments_committed_after_deployment +=
            u64::from(has(flag::EXCLUDED_COMMITTED_AFTER_DEPLOYMENT));
        return;
    }
    t.counted += 1;
    if has(flag::SUCCEEDED) {
        t.succeeded += 1;
        let day = ((row.at - first_day) / DAY_MS) as usize;
        scratch.deploy_days[day / 64] |= 1 << (day % 64);
        scratch.leads.extend_from_slice(index.leads_of(row));
        t.excluded.changes_committed_after_deployment += u64::from(row.negative_leads);
    } else {
        t.outcome_failed += 1;
    }
    if has(flag::CHANGE_FAILED) {
        t.failed += 1;
        t.caused_incident += u64::from(has(flag::CAUSED_INCIDENT));
        t.rolled_back += u64::from(has(flag::ROLLED_BACK));
        if row.recovery == UNRECOVERED {
            t.unrecovered += 1;
        } else if row.recovery < 0 {
            t.excluded.recoveries_before_failure += 1;
        } else {
            t.recovered += 1;
            scratch.recoveries.push(row.recovery);
        }
    }
    if has(flag::UNPLANNED) {
        t.unplanned += 1;
        t.hotfix += u64::from(has(flag::HOTFIX));
        t.rollback += u64::from(has(flag::ROLLBACK));
        t.fixed_incident += u64::from(has(flag::FIXED_INCIDENT));
    }
}

fn tally_incident(incident: &IncidentRow, t: &mut Tally, scratch: &mut Scratch) {
    let s = usize::from(incident.severity).min(5);
    t.opened[s] += 1;
    if incident.duration == UNRESOLVED {
        t.unresolved += 1;
    } else if incident.duration < 0 {
        t.excluded.incidents_resolved_before_opened += 1;
    } else {
        scratch.durations[s].push(incident.duration);
        scratch.all_durations.push(incident.duration);
    }
}
