//! Deterministic, seeded delivery histories: a large one for speed measurements and tests
//! ([`large`]), and a realistic 90-day one for pave's demo ([`demo`]).
//!
//! The random numbers come from a hand-written splitmix64 ([`SplitMix64`]) rather than the
//! `rand` crate: a few lines, no dependency to build, and the same seed gives the same
//! history in every version and on every platform, which a demo and its screenshots need
//! (`rand` documents that its generators' output may change between releases). For the same
//! reason the samplers use only `+`, `*` and `/`, never `ln` or `exp`, whose last bits differ
//! between platforms' maths libraries.
//!
//! Teams follow four profiles, loosely after DORA's clusters: elite (several deployments a
//! day, hours of lead time, rare failures recovered in minutes), high, medium, and low
//! (a few deployments a month, weeks of lead time, one in four failing).

mod demo;

pub use demo::{DemoEntity, demo};

use crate::buckets::DAY_MS;
use crate::facts::{
    Change, Deployment, DeploymentIx, DomainIx, EntityIx, EntityNode, Exclusion, Facts, GroupIx,
    GroupNode, Incident, Millis, Named, Org, Outcome,
};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// splitmix64 (Steele, Lea and Flood, 2014): a 64-bit state advanced by a constant, mixed by
/// two multiply-xorshift rounds. Fast, statistically fine for test data, and stable forever.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0). Multiply-shift: no modulo bias worth a test's
    /// attention at these sizes.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A positive amount around `median`, spread log-symmetrically over up to `octaves`
    /// doublings either way (a binomial exponent, a uniform mantissa within the octave): a
    /// long-tailed, lognormal-like shape from multiplications only.
    pub fn spread(&mut self, median: f64, octaves: u32) -> f64 {
        let octaves = octaves.min(16);
        let bits = self.next_u64() & ((1u64 << (2 * octaves)) - 1);
        let k = bits.count_ones() as i32 - octaves as i32;
        let scale = if k >= 0 {
            (1u64 << k) as f64
        } else {
            1.0 / (1u64 << -k) as f64
        };
        median * scale * (0.75 + 0.5 * self.unit())
    }

    /// [`SplitMix64::spread`] in whole milliseconds, at least 1.
    pub fn spread_ms(&mut self, median: Millis, octaves: u32) -> Millis {
        (self.spread(median as f64, octaves) as Millis).max(1)
    }
}

/// Fisher-Yates: `items` in a seeded random order.
pub fn shuffle<T>(seed: u64, items: &mut [T]) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A team's delivery habits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Elite,
    High,
    Medium,
    Low,
}

/// What a profile means in numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Habits {
    /// Production deployments per working day and service (demo).
    pub(crate) deploy_rate: f64,
    /// Relative share of deployments per service (large: a fixed total is shared out, so
    /// the spread is wide enough that low teams deploy less than weekly even with ten
    /// services).
    pub(crate) large_weight: f64,
    pub(crate) fail: f64,
    /// Probability a failed deployment is followed by a rollback.
    pub(crate) rollback_after_failure: f64,
    pub(crate) hotfix: f64,
    /// Relative likelihood a deployment causes an incident.
    pub(crate) incident_weight: f64,
    pub(crate) lead_median: Millis,
    pub(crate) restore_median: Millis,
}

impl Profile {
    pub(crate) fn habits(self) -> Habits {
        match self {
            Profile::Elite => Habits {
                deploy_rate: 4.0,
                large_weight: 10.0,
                fail: 0.03,
                rollback_after_failure: 0.7,
                hotfix: 0.02,
                incident_weight: 0.15,
                lead_median: 3 * HOUR,
                restore_median: 25 * MINUTE,
            },
            Profile::High => Habits {
                deploy_rate: 1.2,
                large_weight: 2.0,
                fail: 0.07,
                rollback_after_failure: 0.5,
                hotfix: 0.04,
                incident_weight: 0.3,
                lead_median: 36 * HOUR,
                restore_median: 5 * HOUR,
            },
            Profile::Medium => Habits {
                deploy_rate: 0.3,
                large_weight: 0.25,
                fail: 0.12,
                rollback_after_failure: 0.4,
                hotfix: 0.07,
                incident_weight: 0.6,
                lead_median: 8 * DAY_MS,
                restore_median: 60 * HOUR,
            },
            Profile::Low => Habits {
                deploy_rate: 0.08,
                large_weight: 0.02,
                fail: 0.25,
                rollback_after_failure: 0.25,
                hotfix: 0.12,
                incident_weight: 1.0,
                lead_median: 40 * DAY_MS,
                restore_median: 12 * DAY_MS,
            },
        }
    }
}

/// Sizes of a [`large`] history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LargeParams {
    pub services: u32,
    pub deployments: u32,
    pub changes: u32,
    pub incidents: u32,
    pub days: u32,
    pub departments: u32,
    pub teams: u32,
    pub systems: u32,
    pub domains: u32,
    /// The history ends here (exclusive).
    pub end: Millis,
}

impl Default for LargeParams {
    /// 2,000 services, 1,000,000 deployments, 5,000,000 changes, 50,000 incidents over 365
    /// days ending 2026-01-05 (a Monday); 4 departments of 200 teams, 200 systems in 20
    /// domains.
    fn default() -> LargeParams {
        LargeParams {
            services: 2000,
            deployments: 1_000_000,
            changes: 5_000_000,
            incidents: 50_000,
            days: 365,
            departments: 4,
            teams: 200,
            systems: 200,
            domains: 20,
            end: 20_458 * DAY_MS,
        }
    }
}

/// The profile of team `t`: 20% elite, 30% high, 30% medium, 20% low.
fn team_profile(t: u32) -> Profile {
    match t % 10 {
        0 | 1 => Profile::Elite,
        2..=4 => Profile::High,
        5..=7 => Profile::Medium,
        _ => Profile::Low,
    }
}

/// A large seeded history (see [`LargeParams`]). Environments: `production` (index 0, three
/// quarters of deployments) and `staging`. Exactly the requested numbers of deployments,
/// changes and incidents; a few of each kind of excluded and odd fact. Deployments are in
/// time order and changes grouped by the deployment that shipped them, in that order (the
/// order a store records them); [`shuffle`] mixes a vector for order-independence checks.
pub fn large(seed: u64, params: &LargeParams) -> (Org, Facts) {
    let mut rng = SplitMix64::new(seed);
    let services = params.services.max(1);
    let departments = params.departments.max(1);
    let teams = params.teams.max(1);
    let systems = params.systems.max(1);
    let domains = params.domains.max(1);

    let mut org = Org::default();
    for d in 0..departments {
        org.groups.push(GroupNode {
            entity_ref: format!("group:default/department-{d}"),
            parent: None,
        });
    }
    for t in 0..teams {
        org.groups.push(GroupNode {
            entity_ref: format!("group:default/team-{t:03}"),
            parent: Some(t % departments),
        });
    }
    for d in 0..domains {
        org.domains.push(Named {
            entity_ref: format!("domain:default/domain-{d:02}"),
        });
    }
    for s in 0..systems {
        org.systems.push(Named {
            entity_ref: format!("system:default/system-{s:03}"),
        });
        org.system_domains.push(Some((s % domains) as DomainIx));
    }
    let mut habits = Vec::with_capacity(services as usize);
    for e in 0..services {
        let team = e % teams;
        org.entities.push(EntityNode {
            entity_ref: format!("component:default/service-{e:04}"),
            owner: Some(departments + team as GroupIx),
            // One service in 50 is in no system.
            system: (e % 50 != 49).then(|| (e / 10) % systems),
        });
        habits.push(team_profile(team).habits());
    }

    let end = params.end;
    let span = i64::from(params.days.max(1)) * DAY_MS;
    let start = end - span;

    // Deployments per service, proportional to its habits with some jitter, summing exactly.
    let weights: Vec<f64> = habits
        .iter()
        .map(|h| h.large_weight * (0.5 + rng.unit()))
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| (f64::from(params.deployments) * w / total_weight) as u64)
        .collect();
    let mut short = u64::from(params.deployments).saturating_sub(counts.iter().sum());
    // Flooring loses less than one deployment per service: one pass hands the rest out.
    for c in counts.iter_mut() {
        if short == 0 {
            break;
        }
        *c += 1;
        short -= 1;
    }

    let mut deployments: Vec<Deployment> = Vec::with_capacity(params.deployments as usize);
    let mut times: Vec<Millis> = Vec::new();
    for (e, &count) in counts.iter().enumerate() {
        let h = &habits[e];
        times.clear();
        times.extend((0..count).map(|_| start + rng.below(span as u64) as Millis));
        times.sort_unstable();
        let mut previous_failed = [false; 2];
        for &finished in &times {
            let environment = u16::from(!rng.chance(0.75));
            let failed = rng.chance(h.fail);
            let rollback =
                previous_failed[environment as usize] && rng.chance(h.rollback_after_failure);
            previous_failed[environment as usize] = failed;
            let mut d = Deployment {
                entity: e as EntityIx,
                environment,
                started_at: finished - rng.spread_ms(6 * MINUTE, 2),
                finished_at: Some(finished),
                outcome: if failed {
                    Outcome::Failed
                } else {
                    Outcome::Succeeded
                },
                rollback,
                hotfix: !rollback && rng.chance(h.hotfix),
                excluded: None,
            };
            let odd = rng.unit();
            if odd < 0.003 {
                d.started_at = finished + MINUTE;
                d.excluded = Some(Exclusion::FinishesBeforeStart);
            } else if odd < 0.0035 {
                d.finished_at = Some(end + DAY_MS + finished - start);
                d.excluded = Some(Exclusion::InTheFuture);
            } else if odd < 0.004 {
                d.finished_at = None;
                d.outcome = Outcome::Running;
            }
            deployments.push(d);
        }
    }
    // Stores keep facts in arrival order; a stable sort keeps each service's order.
    deployments.sort_by_key(|d| d.finished_at.unwrap_or(d.started_at));

    let good_production: Vec<DeploymentIx> = deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.environment == 0
                && d.outcome == Outcome::Succeeded
                && d.excluded.is_none()
                && d.finished_at.is_some()
        })
        .map(|(i, _)| i as DeploymentIx)
        .collect();

    // Which deployment ships each change: uniform over successful production deployments
    // (1% not deployed yet). Changes are then listed deployment by deployment, as a store
    // records them when it settles each deployment's change set.
    let mut shipped_by = vec![0u32; good_production.len()];
    let mut undeployed = 0u32;
    for _ in 0..params.changes {
        if good_production.is_empty() || rng.chance(0.01) {
            undeployed += 1;
        } else {
            shipped_by[rng.below(good_production.len() as u64) as usize] += 1;
        }
    }
    let mut changes = Vec::with_capacity(params.changes as usize);
    for (&ix, &count) in good_production.iter().zip(&shipped_by) {
        let d = &deployments[ix as usize];
        let finished = d.finished_at.unwrap_or(d.started_at);
        let lead_median = habits[d.entity as usize].lead_median;
        for _ in 0..count {
            let committed_at = if rng.chance(0.002) {
                // Clock skew or an amended commit: dated after the deployment.
                finished + rng.spread_ms(10 * MINUTE, 2)
            } else {
                finished - rng.spread_ms(lead_median, 3)
            };
            changes.push(Change {
                entity: d.entity,
                committed_at,
                deployment: Some(ix),
            });
        }
    }
    for _ in 0..undeployed {
        changes.push(Change {
            entity: rng.below(u64::from(services)) as EntityIx,
            committed_at: start + rng.below(span as u64) as Millis,
            deployment: None,
        });
    }

    let production: Vec<DeploymentIx> = deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| d.environment == 0 && d.finished_at.is_some() && d.excluded.is_none())
        .map(|(i, _)| i as DeploymentIx)
        .collect();
    let mut production_by_entity: Vec<Vec<DeploymentIx>> = vec![Vec::new(); services as usize];
    for &ix in &production {
        production_by_entity[deployments[ix as usize].entity as usize].push(ix);
    }
    let finished = |ix: DeploymentIx| {
        let d = &deployments[ix as usize];
        d.finished_at.unwrap_or(d.started_at)
    };

    let mut incidents = Vec::with_capacity(params.incidents as usize);
    for _ in 0..params.incidents {
        let severity = match rng.below(20) {
            0 => Some(1),
            1..=3 => Some(2),
            4..=11 => Some(3),
            12..=17 => Some(4),
            18 => Some(5),
            _ => None,
        };
        let kind = rng.unit();
        let (entity, caused_by, opened_at) = if kind < 0.7 && !production.is_empty() {
            // Caused by a production deployment, more likely from a struggling team.
            let mut ix = production[rng.below(production.len() as u64) as usize];
            for _ in 0..64 {
                if rng.chance(habits[deployments[ix as usize].entity as usize].incident_weight) {
                    break;
                }
                ix = production[rng.below(production.len() as u64) as usize];
            }
            let e = deployments[ix as usize].entity;
            (
                Some(e),
                Some(ix),
                finished(ix) + rng.spread_ms(20 * MINUTE, 2),
            )
        } else if kind < 0.98 {
            // Not caused by a deployment (an outage elsewhere, a latent bug).
            let e = rng.below(u64::from(services)) as EntityIx;
            (Some(e), None, start + rng.below(span as u64) as Millis)
        } else {
            (None, None, start + rng.below(span as u64) as Millis)
        };
        let restore = entity.map_or(4 * HOUR, |e| habits[e as usize].restore_median);
        let resolved_at = (!rng.chance(0.02)).then(|| opened_at + rng.spread_ms(restore, 2));
        // Half are fixed by the next production deployment of the entity (a fix forward).
        let fixed_by = match entity {
            Some(e) if rng.chance(0.5) => {
                let list = &production_by_entity[e as usize];
                let next = list.partition_point(|&ix| finished(ix) <= opened_at);
                list.get(next).copied()
            }
            _ => None,
        };
        incidents.push(Incident {
            entity: if kind < 0.7 && rng.chance(0.1) {
                // Linked by deployment only: the engine attributes it through `caused_by`.
                None
            } else {
                entity
            },
            severity,
            opened_at,
            acknowledged_at: Some(opened_at + rng.spread_ms(5 * MINUTE, 2)),
            resolved_at,
            caused_by,
            fixed_by,
        });
    }

    let facts = Facts {
        environments: vec!["production".to_owned(), "staging".to_owned()],
        deployments,
        changes,
        incidents,
    };
    (org, facts)
}
