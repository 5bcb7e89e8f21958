//! A realistic recent history for pave's demo catalog.
//!
//! Every entity deploys to staging, then production, on working days (rarely at weekends),
//! at its team's pace. Failed deployments are rolled back within minutes or fixed by a hotfix
//! later; some successful deployments cause incidents that a hotfix fixes; some incidents
//! have nothing to do with deployments. A few facts are odd on purpose, as real ones are: a
//! deployment that finishes before it starts, one dated in the future, a commit dated after
//! the deployment that shipped it, a deployment still running, an incident still open.

use super::{DAY_MS, HOUR, Habits, MINUTE, Profile, SplitMix64};
use crate::facts::{
    Change, Deployment, DeploymentIx, EntityIx, EntityNode, EnvIx, Exclusion, Facts, GroupIx,
    GroupNode, Incident, Millis, Named, Org, Outcome, SystemIx,
};

/// One catalog entity of the demo: its reference, its owner group, its system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoEntity<'a> {
    pub entity_ref: &'a str,
    pub owner: &'a str,
    pub system: Option<&'a str>,
}

/// Team profiles in the order groups first appear (rotated by the seed): a mix of elite,
/// steady and struggling teams whatever the catalog.
const ROTATION: [Profile; 6] = [
    Profile::Elite,
    Profile::High,
    Profile::Low,
    Profile::Medium,
    Profile::High,
    Profile::Elite,
];

const PRODUCTION: EnvIx = 0;
const STAGING: EnvIx = 1;

/// A `days`-day history ending at `now` for `entities`. The [`Org`] has one group per owner
/// and one system per system named, in order of first appearance, without parents or
/// domains (callers with a catalog fill those in: `Org` is plain data). Environments:
/// `production` (0) and `staging` (1).
pub fn demo(seed: u64, entities: &[DemoEntity<'_>], days: u32, now: Millis) -> (Org, Facts) {
    let rng = SplitMix64::new(seed);
    let mut org = Org::default();
    let mut profiles: Vec<Profile> = Vec::new();
    for entity in entities {
        let owner = match org.group_ix(entity.owner) {
            Some(g) => g,
            None => {
                let g = org.groups.len() as GroupIx;
                org.groups.push(GroupNode {
                    entity_ref: entity.owner.to_owned(),
                    parent: None,
                });
                profiles
                    .push(ROTATION[(g as usize + seed as usize % ROTATION.len()) % ROTATION.len()]);
                g
            }
        };
        let system = entity.system.map(|s| match org.system_ix(s) {
            Some(ix) => ix,
            None => {
                org.systems.push(Named {
                    entity_ref: s.to_owned(),
                });
                org.system_domains.push(None);
                (org.systems.len() - 1) as SystemIx
            }
        });
        org.entities.push(EntityNode {
            entity_ref: entity.entity_ref.to_owned(),
            owner: Some(owner),
            system,
        });
    }

    let mut history = History {
        rng,
        facts: Facts {
            environments: vec!["production".to_owned(), "staging".to_owned()],
            ..Facts::default()
        },
        now,
    };
    let first_day = now.div_euclid(DAY_MS) * DAY_MS - i64::from(days) * DAY_MS;
    for (e, node) in org.entities.iter().enumerate() {
        let profile = node.owner.map_or(Profile::Medium, |g| profiles[g as usize]);
        let habits = profile.habits();
        // Services of one team differ: busy ones deploy more.
        let pace = 0.6 + 0.8 * history.rng.unit();
        history.entity(e as EntityIx, &habits, pace, first_day, days);
    }
    history.odd_facts(first_day);
    (org, history.facts)
}

struct History {
    rng: SplitMix64,
    facts: Facts,
    now: Millis,
}

impl History {
    fn deploy(
        &mut self,
        entity: EntityIx,
        environment: EnvIx,
        finished: Millis,
        failed: bool,
    ) -> DeploymentIx {
        let ix = self.facts.deployments.len() as DeploymentIx;
        self.facts.deployments.push(Deployment {
            entity,
            environment,
            started_at: finished - self.rng.spread_ms(6 * MINUTE, 1),
            finished_at: Some(finished),
            outcome: if failed {
                Outcome::Failed
            } else {
                Outcome::Succeeded
            },
            rollback: false,
            hotfix: false,
            excluded: None,
        });
        ix
    }

    fn ship(
        &mut self,
        entity: EntityIx,
        deployment: DeploymentIx,
        commits: u64,
        lead_median: Millis,
    ) {
        let finished = self.facts.deployments[deployment as usize]
            .finished_at
            .unwrap_or(self.now);
        for _ in 0..commits {
            let committed_at = finished - self.rng.spread_ms(lead_median, 2);
            self.facts.changes.push(Change {
                entity,
                committed_at,
                deployment: Some(deployment),
            });
        }
    }

    fn severity(&mut self) -> Option<u8> {
        match self.rng.below(20) {
            0 => Some(1),
            1..=4 => Some(2),
            5..=12 => Some(3),
            13..=18 => Some(4),
            _ => None,
        }
    }

    fn entity(
        &mut self,
        entity: EntityIx,
        habits: &Habits,
        pace: f64,
        first_day: Millis,
        days: u32,
    ) {
        for day in 0..=i64::from(days) {
            let day_start = first_day + day * DAY_MS;
            if day_start >= self.now {
                break;
            }
            let weekday = (day_start.div_euclid(DAY_MS) + 3).rem_euclid(7);
            let factor = if weekday >= 5 { 0.08 } else { 1.0 };
            let expected = habits.deploy_rate * 1.2 * pace * factor;
            let mut count = expected.floor() as u32;
            if self.rng.chance(expected - expected.floor()) {
                count += 1;
            }
            for _ in 0..count {
                // Working hours, 08:00-18:00 UTC.
                let finished = day_start + 8 * HOUR + self.rng.below(10 * HOUR as u64) as Millis;
                if finished >= self.now {
                    continue;
                }
                self.release(entity, habits, finished);
            }
            // Incidents unrelated to deployments: a dependency, a certificate, a traffic spike.
            if self.rng.chance(0.015 * habits.incident_weight) {
                let opened_at = day_start + self.rng.below(DAY_MS as u64) as Millis;
                if opened_at < self.now {
                    let resolved = opened_at + self.rng.spread_ms(habits.restore_median, 1);
                    let severity = self.severity();
                    self.facts.incidents.push(Incident {
                        entity: Some(entity),
                        severity,
                        opened_at,
                        acknowledged_at: Some(opened_at + self.rng.spread_ms(6 * MINUTE, 1)),
                        resolved_at: (resolved < self.now).then_some(resolved),
                        caused_by: None,
                        fixed_by: None,
                    });
                }
            }
        }
    }

    /// Staging, then production; and what follows a failure.
    fn release(&mut self, entity: EntityIx, habits: &Habits, finished: Millis) {
        let staging_failed = self.rng.chance(habits.fail / 2.0);
        self.deploy(entity, STAGING, finished - 40 * MINUTE, staging_failed);
        if staging_failed {
            return;
        }
        let failed = self.rng.chance(habits.fail);
        let d = self.deploy(entity, PRODUCTION, finished, failed);
        let commits = 1 + self.rng.below(5);
        if !failed {
            self.ship(entity, d, commits, habits.lead_median);
            // A silent bug: an incident some time later, fixed by a hotfix.
            if self.rng.chance(0.05 * habits.incident_weight) {
                let opened_at = finished + self.rng.spread_ms(40 * MINUTE, 2);
                self.incident_fixed_by_hotfix(entity, habits, d, opened_at);
            }
            return;
        }
        if self.rng.chance(habits.rollback_after_failure) {
            let at = finished + self.rng.spread_ms(15 * MINUTE, 1);
            if at < self.now {
                let rollback = self.deploy(entity, PRODUCTION, at, false);
                self.facts.deployments[rollback as usize].rollback = true;
                if self.rng.chance(0.3) {
                    // Users noticed before the rollback: an incident, fixed by it.
                    let opened_at = finished + 3 * MINUTE;
                    let resolved = at + self.rng.spread_ms(10 * MINUTE, 1);
                    let severity = self.severity();
                    self.facts.incidents.push(Incident {
                        entity: Some(entity),
                        severity,
                        opened_at,
                        acknowledged_at: Some(opened_at + 2 * MINUTE),
                        resolved_at: (resolved < self.now).then_some(resolved),
                        caused_by: Some(d),
                        fixed_by: Some(rollback),
                    });
                }
            }
        } else {
            let at = finished + self.rng.spread_ms(habits.restore_median, 1);
            if at < self.now {
                let fix = self.deploy(entity, PRODUCTION, at, false);
                self.facts.deployments[fix as usize].hotfix = true;
                let commits = 1 + self.rng.below(2);
                self.ship(entity, fix, commits, habits.lead_median / 4);
            }
        }
    }

    fn incident_fixed_by_hotfix(
        &mut self,
        entity: EntityIx,
        habits: &Habits,
        cause: DeploymentIx,
        opened_at: Millis,
    ) {
        if opened_at >= self.now {
            return;
        }
        let fix_at = opened_at + self.rng.spread_ms(habits.restore_median, 1);
        let fixed_by = (fix_at < self.now).then(|| {
            let fix = self.deploy(entity, PRODUCTION, fix_at, false);
            self.facts.deployments[fix as usize].hotfix = true;
            fix
        });
        if let Some(fix) = fixed_by {
            self.ship(entity, fix, 1, habits.lead_median / 4);
        }
        let resolved = fix_at + self.rng.spread_ms(15 * MINUTE, 1);
        let severity = self.severity();
        self.facts.incidents.push(Incident {
            entity: Some(entity),
            severity,
            opened_at,
            acknowledged_at: Some(opened_at + self.rng.spread_ms(5 * MINUTE, 1)),
            resolved_at: (fixed_by.is_some() && resolved < self.now).then_some(resolved),
            caused_by: Some(cause),
            fixed_by,
        });
    }

    /// The odd facts real intakes see, on the first entities (when there are any).
    fn odd_facts(&mut self, first_day: Millis) {
        let entities: Vec<EntityIx> = {
            let mut seen: Vec<EntityIx> = self.facts.deployments.iter().map(|d| d.entity).collect();
            seen.sort_unstable();
            seen.dedup();
            seen
        };
        let Some(&first) = entities.first() else {
            return;
        };
        let pick = |n: usize| entities.get(n).copied().unwrap_or(first);
        let now = self.now;
        // A deployment whose clocks disagree: finishes before it starts.
        let at = first_day + 20 * DAY_MS + 11 * HOUR;
        if at < now {
            let d = self.deploy(pick(1), PRODUCTION, at, false);
            let deployment = &mut self.facts.deployments[d as usize];
            deployment.started_at = at + 4 * MINUTE;
            deployment.excluded = Some(Exclusion::FinishesBeforeStart);
        }
        // A deployment dated in the future (a sender with a wrong clock).
        let d = self.deploy(pick(2), PRODUCTION, now + 3 * HOUR, false);
        self.facts.deployments[d as usize].excluded = Some(Exclusion::InTheFuture);
        // A commit dated after the deployment that shipped it (an amended commit).
        if let Some(ix) = self.facts.deployments.iter().rposition(|d| {
            d.entity == first
                && d.environment == PRODUCTION
                && d.outcome == Outcome::Succeeded
                && d.excluded.is_none()
        }) {
            let finished = self.facts.deployments[ix].finished_at.unwrap_or(now);
            self.facts.changes.push(Change {
                entity: first,
                committed_at: finished + 7 * MINUTE,
                deployment: Some(ix as DeploymentIx),
            });
        }
        // A deployment in progress and a commit waiting for the next deployment.
        self.facts.deployments.push(Deployment {
            entity: first,
            environment: PRODUCTION,
            started_at: now - 4 * MINUTE,
            finished_at: None,
            outcome: Outcome::Running,
            rollback: false,
            hotfix: false,
            excluded: None,
        });
        self.facts.changes.push(Change {
            entity: first,
            committed_at: now - 30 * MINUTE,
            deployment: None,
        });
        // An incident still open, caused by the entity's latest production deployment: a
        // failed deployment not recovered yet.
        let troubled = pick(3);
        let latest = self
            .facts
            .deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.entity == troubled
                    && d.environment == PRODUCTION
                    && d.excluded.is_none()
                    && d.finished_at.is_some_and(|f| f < now - 50 * MINUTE)
            })
            .max_by_key(|(_, d)| d.finished_at)
            .map(|(ix, _)| ix as DeploymentIx);
        self.facts.incidents.push(Incident {
            entity: Some(troubled),
            severity: Some(2),
            opened_at: now - 50 * MINUTE,
            acknowledged_at: Some(now - 45 * MINUTE),
            resolved_at: None,
            caused_by: latest,
            fixed_by: None,
        });
    }
}
