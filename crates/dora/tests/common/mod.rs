//! Builders for hand-made facts, shared by the test files.

#![allow(dead_code, unreachable_pub, unused_imports)]

use pave_dora::facts::{
    Change, Deployment, DeploymentIx, DomainIx, EntityIx, EntityNode, EnvIx, Facts, GroupIx,
    GroupNode, Incident, Millis, Named, Org, Outcome, SystemIx,
};
use pave_dora::{GroupBy, Index, Metrics, Query, Report, Scope, report};

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;
pub const PRODUCTION: EnvIx = 0;
pub const STAGING: EnvIx = 1;

/// Monday 2024-01-01 00:00 UTC.
pub fn t0() -> Millis {
    date(2024, 1, 1)
}

/// 00:00 UTC of a civil date.
pub fn date(year: i64, month: i64, day: i64) -> Millis {
    pave_stdx::time::days_from_civil(year, month, day) * DAY
}

pub use Outcome::{Failed as F, Succeeded as S};

#[derive(Debug, Clone)]
pub struct Builder {
    pub org: Org,
    pub facts: Facts,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            org: Org::default(),
            facts: Facts {
                environments: vec!["production".into(), "staging".into()],
                ..Facts::default()
            },
        }
    }

    pub fn group(&mut self, name: &str, parent: Option<GroupIx>) -> GroupIx {
        self.org.groups.push(GroupNode {
            entity_ref: format!("group:default/{name}"),
            parent,
        });
        (self.org.groups.len() - 1) as GroupIx
    }

    pub fn domain(&mut self, name: &str) -> DomainIx {
        self.org.domains.push(Named {
            entity_ref: format!("domain:default/{name}"),
        });
        (self.org.domains.len() - 1) as DomainIx
    }

    pub fn system(&mut self, name: &str, domain: Option<DomainIx>) -> SystemIx {
        self.org.systems.push(Named {
            entity_ref: format!("system:default/{name}"),
        });
        self.org.system_domains.push(domain);
        (self.org.systems.len() - 1) as SystemIx
    }

    pub fn entity(
        &mut self,
        name: &str,
        owner: Option<GroupIx>,
        system: Option<SystemIx>,
    ) -> EntityIx {
        self.org.entities.push(EntityNode {
            entity_ref: format!("component:default/{name}"),
            owner,
            system,
        });
        (self.org.entities.len() - 1) as EntityIx
    }

    /// A deployment that started 5 minutes before it finished.
    pub fn deploy(
        &mut self,
        entity: EntityIx,
        environment: EnvIx,
        finished: Millis,
        outcome: Outcome,
    ) -> DeploymentIx {
        self.facts.deployments.push(Deployment {
            entity,
            environment,
            started_at: finished - 5 * MINUTE,
            finished_at: Some(finished),
            outcome,
            rollback: false,
            hotfix: false,
            excluded: None,
        });
        (self.facts.deployments.len() - 1) as DeploymentIx
    }

    pub fn deployment(&mut self, ix: DeploymentIx) -> &mut Deployment {
        &mut self.facts.deployments[ix as usize]
    }

    pub fn change(
        &mut self,
        entity: EntityIx,
        committed_at: Millis,
        deployment: Option<DeploymentIx>,
    ) {
        self.facts.changes.push(Change {
            entity,
            committed_at,
            deployment,
        });
    }

    pub fn incident(&mut self, incident: Incident) {
        self.facts.incidents.push(incident);
    }

    pub fn report(&self, query: &Query) -> Report {
        let index = Index::build(&self.org, &self.facts).expect("valid facts");
        report(&index, query).expect("valid query")
    }

    /// The single row of a `group_by: org` report over `[from, to)` in production.
    pub fn org_metrics(&self, from: Millis, to: Millis) -> Metrics {
        self.metrics(from, to, None)
    }

    /// The single row of a `group_by: org` report narrowed to `only`.
    pub fn metrics(&self, from: Millis, to: Millis, only: Option<Scope>) -> Metrics {
        let query = Query {
            group_by: GroupBy::Org,
            only,
            ..Query::new(from, to, PRODUCTION)
        };
        let mut rows = self.report(&query).rows;
        assert_eq!(rows.len(), 1);
        rows.remove(0).metrics
    }
}

/// An incident with only the given times (no entity, severity or links).
pub fn incident(opened_at: Millis, resolved_at: Option<Millis>) -> Incident {
    Incident {
        entity: None,
        severity: None,
        opened_at,
        acknowledged_at: None,
        resolved_at,
        caused_by: None,
        fixed_by: None,
    }
}

/// `a` and `b` within a millionth of a millisecond (hand arithmetic vs f64 interpolation).
#[track_caller]
pub fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a value");
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}
