//! The index a report reads: built once from [`Facts`] and an [`Org`], then queried for any
//! window, environment and slice of the organisation.
//!
//! Building it does every window-independent step once:
//!
//! * validates every cross-reference (an index out of range is an error with its JSON path);
//! * sorts deployments by `(entity, environment, time, index)`, where time is `finished_at`
//!   (or `started_at` for a deployment that never finished), so a window is two binary
//!   searches per entity and environment;
//! * decides each deployment's failure (outcome, caused incident, followed by a rollback),
//!   its recovery time, and its unplanned (rework) reasons, which depend on its neighbours
//!   and on incidents but not on the window;
//! * lays out the lead times of the changes each successful deployment shipped next to each
//!   other, in deployment order, so a window's lead times are a few slice copies;
//! * sorts incidents by `(entity, opened_at)`; an incident without an entity is attributed to
//!   the entity of the deployment that caused it, or else only to the whole organisation.

use crate::error::DoraError;
use crate::facts::{
    DeploymentIx, EntityIx, EnvIx, Exclusion, Facts, GroupIx, Millis, Org, Outcome, SystemIx,
};
use crate::rollup::Rollup;

/// Flags of a deployment row (see [`DeployRow::flags`]).
pub(crate) mod flag {
    /// Finished, not running, not excluded: counted in the metrics.
    pub(crate) const COUNTED: u16 = 1;
    pub(crate) const SUCCEEDED: u16 = 1 << 1;
    pub(crate) const OUTCOME_FAILED: u16 = 1 << 2;
    /// Some incident names it in `caused_by`.
    pub(crate) const CAUSED_INCIDENT: u16 = 1 << 3;
    /// The next counted deployment of the same entity and environment is a rollback.
    pub(crate) const ROLLED_BACK: u16 = 1 << 4;
    /// Any of the three above: a failed deployment for change failure rate.
    pub(crate) const CHANGE_FAILED: u16 = 1 << 5;
    pub(crate) const HOTFIX: u16 = 1 << 6;
    pub(crate) const ROLLBACK: u16 = 1 << 7;
    /// Some incident names it in `fixed_by`.
    pub(crate) const FIXED_INCIDENT: u16 = 1 << 8;
    /// Any of the three above: unplanned, for rework rate.
    pub(crate) const UNPLANNED: u16 = 1 << 9;
    pub(crate) const EXCLUDED_FINISHES_BEFORE_START: u16 = 1 << 10;
    pub(crate) const EXCLUDED_IN_THE_FUTURE: u16 = 1 << 11;
    pub(crate) const EXCLUDED_COMMITTED_AFTER_DEPLOYMENT: u16 = 1 << 12;
}

/// `recovery` of a failed deployment that has not recovered (yet).
pub(crate) const UNRECOVERED: Millis = Millis::MIN;
/// `duration` of an incident that is not resolved.
pub(crate) const UNRESOLVED: Millis = Millis::MIN;

/// One deployment, in `(entity, environment, time)` order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeployRow {
    /// `finished_at`, or `started_at` when it has not finished.
    pub(crate) at: Millis,
    /// Failed deployments only: milliseconds to recovery, or [`UNRECOVERED`].
    pub(crate) recovery: Millis,
    /// Lead times of the changes it shipped: `Index::leads[lead_start..lead_start+lead_len]`.
    pub(crate) lead_start: u32,
    pub(crate) lead_len: u32,
    /// Changes it shipped that were committed after it finished (left out of lead time).
    pub(crate) negative_leads: u32,
    pub(crate) environment: EnvIx,
    pub(crate) flags: u16,
}

/// One incident, in `(entity, opened_at)` order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncidentRow {
    pub(crate) opened_at: Millis,
    /// `resolved_at - opened_at`, or [`UNRESOLVED`].
    pub(crate) duration: Millis,
    /// 0 when unknown, else 1-5.
    pub(crate) severity: u8,
}

/// Facts arranged for reports. Borrowing the [`Org`] for names only, or owning it
/// ([`Index::build_owned`]) when the index is kept beside the data it came from (a server's
/// cache, rebuilt after changes).
#[derive(Debug)]
pub struct Index<'o> {
    pub(crate) org: std::borrow::Cow<'o, Org>,
    pub(crate) environments: Vec<String>,
    pub(crate) rollup: Rollup,
    /// `deployments[entity_deployments[e]..entity_deployments[e + 1]]` are entity `e`'s.
    entity_deployments: Vec<u32>,
    pub(crate) deployments: Vec<DeployRow>,
    pub(crate) leads: Vec<Millis>,
    entity_incidents: Vec<u32>,
    pub(crate) incidents: Vec<IncidentRow>,
    /// Incidents attributed to no entity (counted for the whole organisation only).
    pub(crate) unattributed: Vec<IncidentRow>,
}

impl<'o> Index<'o> {
    /// Validates `facts` against `org` and builds the index.
    pub fn build(org: &'o Org, facts: &Facts) -> Result<Index<'o>, DoraError> {
        validate(org, facts)?;
        let deployments = &facts.deployments;
        let entity_count = org.entities.len();

        // Incidents' effects on the deployments they name.
        let mut caused_resolution = vec![NOT_CAUSED; deployments.len()];
        let mut fixed = vec![false; deployments.len()];
        for incident in &facts.incidents {
            if let Some(d) = incident.caused_by {
                let slot = &mut caused_resolution[d as usize];
                *slot = match (incident.resolved_at, *slot) {
                    (None, _) | (_, CAUSED_UNRESOLVED) => CAUSED_UNRESOLVED,
                    (Some(resolved), NOT_CAUSED) => resolved,
                    (Some(resolved), latest) => latest.max(resolved),
                };
            }
            if let Some(d) = incident.fixed_by {
                fixed[d as usize] = true;
            }
        }

        // Rows by entity (a counting sort that reads the facts once, in order, and places
        // each finished row), then by (environment, time) within each entity, where sorting
        // stays in cache. Both steps are stable: equal times keep index order.
        let mut entity_deployments = vec![0u32; entity_count + 1];
        for d in deployments {
            entity_deployments[d.entity as usize + 1] += 1;
        }
        for e in 0..entity_count {
            entity_deployments[e + 1] += entity_deployments[e];
        }
        let mut placed: Vec<(DeployRow, DeploymentIx)> = {
            let empty = DeployRow {
                at: 0,
                recovery: UNRECOVERED,
                lead_start: 0,
                lead_len: 0,
                negative_leads: 0,
                environment: 0,
                flags: 0,
            };
            vec![(empty, 0); deployments.len()]
        };
        let mut next = entity_deployments[..entity_count].to_vec();
        for (ix, d) in deployments.iter().enumerate() {
            let slot = &mut next[d.entity as usize];
            placed[*slot as usize] = (
                DeployRow {
                    at: d.finished_at.unwrap_or(d.started_at),
                    recovery: UNRECOVERED,
                    lead_start: 0,
                    lead_len: 0,
                    negative_leads: 0,
                    environment: d.environment,
                    flags: row_flags(d, caused_resolution[ix] != NOT_CAUSED, fixed[ix]),
                },
                ix as DeploymentIx,
            );
            *slot += 1;
        }
        drop(next);
        for e in 0..entity_count {
            placed[entity_deployments[e] as usize..entity_deployments[e + 1] as usize]
                .sort_by_key(|(row, _)| (row.environment, row.at));
        }
        let (mut rows, order): (Vec<DeployRow>, Vec<DeploymentIx>) = placed.into_iter().unzip();

        // Per (entity, environment) run: rollbacks, failures, recoveries.
        for e in 0..entity_count {
            let entity_rows = entity_deployments[e] as usize..entity_deployments[e + 1] as usize;
            let mut start = entity_rows.start;
            while start < entity_rows.end {
                let env = rows[start].environment;
                let end =
                    start + rows[start..entity_rows.end].partition_point(|r| r.environment == env);
                settle_run(
                    &mut rows[start..end],
                    &order[start..end],
                    &caused_resolution,
                );
                start = end;
            }
        }

        // Lead times, laid out in row order: count per row, place each change's commit time
        // in its row's slot, then turn each row's slots into lead times (sequentially).
        // Changes come in any order, so the two passes over them touch only two small
        // arrays at random (rows and counters), never the row table itself.
        const NOT_SHIPPING: u32 = u32::MAX;
        let shipping_row: Vec<u32> = {
            let mut of = vec![NOT_SHIPPING; deployments.len()];
            for (r, &ix) in order.iter().enumerate() {
                let shipping = flag::COUNTED | flag::SUCCEEDED;
                if rows[r].flags & shipping == shipping {
                    of[ix as usize] = r as u32;
                }
            }
            of
        };
        let mut starts = vec![0u64; rows.len() + 1];
        for change in &facts.changes {
            if let Some(d) = change.deployment {
                let r = shipping_row[d as usize];
                if r != NOT_SHIPPING {
                    starts[r as usize + 1] += 1;
                }
            }
        }
        for r in 0..rows.len() {
            starts[r + 1] += starts[r];
        }
        let total = starts[rows.len()];
        if total > u64::from(u32::MAX) {
            return Err(DoraError::TooMany {
                what: "changes",
                len: total as usize,
            });
        }
        let mut leads = vec![0 as Millis; total as usize];
        {
            let mut next: Vec<u32> = starts[..rows.len()].iter().map(|&s| s as u32).collect();
            for change in &facts.changes {
                if let Some(d) = change.deployment {
                    let r = shipping_row[d as usize];
                    if r != NOT_SHIPPING {
                        let slot = &mut next[r as usize];
                        leads[*slot as usize] = change.committed_at;
                        *slot += 1;
                    }
                }
            }
        }
        for (r, row) in rows.iter_mut().enumerate() {
            let (start, end) = (starts[r] as usize, starts[r + 1] as usize);
            // Keep the non-negative lead times at the front of the row's slots.
            let mut kept = start;
            for i in start..end {
                let lead = row.at.saturating_sub(leads[i]);
                if lead >= 0 {
                    leads[kept] = lead;
                    kept += 1;
                }
            }
            row.lead_start = start as u32;
            row.lead_len = (kept - start) as u32;
            row.negative_leads = (end - kept) as u32;
        }

        // Incidents by attributed entity, then opened_at.
        let attributed = |i: &crate::facts::Incident| {
            i.entity
                .or_else(|| i.caused_by.map(|d| facts.deployments[d as usize].entity))
        };
        let incident_row = |i: &crate::facts::Incident| IncidentRow {
            opened_at: i.opened_at,
            duration: i.resolved_at.map_or(UNRESOLVED, |r| {
                r.saturating_sub(i.opened_at).max(UNRESOLVED + 1)
            }),
            severity: i.severity.unwrap_or(0),
        };
        let mut entity_incidents = vec![0u32; entity_count + 1];
        let mut unattributed = Vec::new();
        for i in &facts.incidents {
            match attributed(i) {
                Some(e) => entity_incidents[e as usize + 1] += 1,
                None => unattributed.push(incident_row(i)),
            }
        }
        for e in 0..entity_count {
            entity_incidents[e + 1] += entity_incidents[e];
        }
        let mut next = entity_incidents[..entity_count].to_vec();
        let mut incidents = vec![
            IncidentRow {
                opened_at: 0,
                duration: 0,
                severity: 0
            };
            entity_incidents[entity_count] as usize
        ];
        for i in &facts.incidents {
            if let Some(e) = attributed(i) {
                incidents[next[e as usize] as usize] = incident_row(i);
                next[e as usize] += 1;
            }
        }
        for e in 0..entity_count {
            incidents[entity_incidents[e] as usize..entity_incidents[e + 1] as usize]
                .sort_by_key(|r| r.opened_at);
        }
        unattributed.sort_by_key(|r| r.opened_at);

        Ok(Index {
            org: std::borrow::Cow::Borrowed(org),
            environments: facts.environments.clone(),
            rollup: Rollup::new(org),
            entity_deployments,
            deployments: rows,
            leads,
            entity_incidents,
            incidents,
            unattributed,
        })
    }

    /// [`Index::build`] for an index that owns its organisation, so it can be cached and
    /// shared (`Arc<Index<'static>>`) without a borrow to keep alive.
    pub fn build_owned(org: Org, facts: &Facts) -> Result<Index<'static>, DoraError> {
        let Index {
            org: _,
            environments,
            rollup,
            entity_deployments,
            deployments,
            leads,
            entity_incidents,
            incidents,
            unattributed,
        } = Index::build(&org, facts)?;
        Ok(Index {
            org: std::borrow::Cow::Owned(org),
            environments,
            rollup,
            entity_deployments,
            deployments,
            leads,
            entity_incidents,
            incidents,
            unattributed,
        })
    }

    /// The organisation the index was built for.
    pub fn org(&self) -> &Org {
        &self.org
    }

    /// Group, system and domain membership.
    pub fn rollup(&self) -> &Rollup {
        &self.rollup
    }

    /// The environment names of the facts.
    pub fn environments(&self) -> &[String] {
        &self.environments
    }

    /// Entity `e`'s deployments to `env` whose time (`finished_at`, or `started_at` when
    /// unfinished) is in `[from, to)`.
    pub(crate) fn deployments_in(
        &self,
        entity: EntityIx,
        env: EnvIx,
        from: Millis,
        to: Millis,
    ) -> &[DeployRow] {
        let e = entity as usize;
        let (Some(&start), Some(&end)) = (
            self.entity_deployments.get(e),
            self.entity_deployments.get(e + 1),
        ) else {
            return &[];
        };
        let rows = &self.deployments[start as usize..end as usize];
        let env_start = rows.partition_point(|r| r.environment < env);
        let env_end = rows.partition_point(|r| r.environment <= env);
        let rows = &rows[env_start..env_end];
        let lo = rows.partition_point(|r| r.at < from);
        let hi = rows.partition_point(|r| r.at < to);
        &rows[lo..hi]
    }

    /// Entity `e`'s incidents opened in `[from, to)`.
    pub(crate) fn incidents_in(
        &self,
        entity: EntityIx,
        from: Millis,
        to: Millis,
    ) -> &[IncidentRow] {
        let e = entity as usize;
        let (Some(&start), Some(&end)) = (
            self.entity_incidents.get(e),
            self.entity_incidents.get(e + 1),
        ) else {
            return &[];
        };
        let rows = &self.incidents[start as usize..end as usize];
        opened_in(rows, from, to)
    }

    /// Incidents attributed to no entity, opened in `[from, to)`.
    pub(crate) fn unattributed_in(&self, from: Millis, to: Millis) -> &[IncidentRow] {
        opened_in(&self.unattributed, from, to)
    }

    /// Lead times of `row`'s changes.
    pub(crate) fn leads_of(&self, row: &DeployRow) -> &[Millis] {
        let start = row.lead_start as usize;
        self.leads
            .get(start..start + row.lead_len as usize)
            .unwrap_or(&[])
    }

    /// Resolves an environment name.
    pub fn environment(&self, name: &str) -> Option<EnvIx> {
        self.environments
            .iter()
            .position(|e| e == name)
            .map(|i| i as EnvIx)
    }

    /// Resolves a group reference.
    pub fn group(&self, entity_ref: &str) -> Option<GroupIx> {
        self.org.group_ix(entity_ref)
    }

    /// Resolves a system reference.
    pub fn system(&self, entity_ref: &str) -> Option<SystemIx> {
        self.org.system_ix(entity_ref)
    }

    /// Bytes held by the index's own tables (not the borrowed org), for sizing.
    pub fn heap_bytes(&self) -> usize {
        self.deployments.capacity() * std::mem::size_of::<DeployRow>()
            + self.leads.capacity() * std::mem::size_of::<Millis>()
            + (self.incidents.capacity() + self.unattributed.capacity())
                * std::mem::size_of::<IncidentRow>()
            + (self.entity_deployments.capacity() + self.entity_incidents.capacity()) * 4
    }
}

fn opened_in(rows: &[IncidentRow], from: Millis, to: Millis) -> &[IncidentRow] {
    let lo = rows.partition_point(|r| r.opened_at < from);
    let hi = rows.partition_point(|r| r.opened_at < to);
    &rows[lo..hi]
}

/// A deployment's own flags (its neighbours' come later, in [`settle_run`]).
fn row_flags(d: &crate::facts::Deployment, caused_incident: bool, fixed_incident: bool) -> u16 {
    match d.excluded {
        Some(Exclusion::FinishesBeforeStart) => flag::EXCLUDED_FINISHES_BEFORE_START,
        Some(Exclusion::InTheFuture) => flag::EXCLUDED_IN_THE_FUTURE,
        Some(Exclusion::CommittedAfterDeployment) => flag::EXCLUDED_COMMITTED_AFTER_DEPLOYMENT,
        // Still running (or a sender's inconsistency: finished but "running"): not counted.
        None if d.finished_at.is_none() || d.outcome == Outcome::Running => 0,
        None => {
            let mut flags = flag::COUNTED;
            flags |= if d.outcome == Outcome::Succeeded {
                flag::SUCCEEDED
            } else {
                flag::OUTCOME_FAILED
            };
            for (set, bit) in [
                (caused_incident, flag::CAUSED_INCIDENT),
                (d.hotfix, flag::HOTFIX),
                (d.rollback, flag::ROLLBACK),
                (fixed_incident, flag::FIXED_INCIDENT),
            ] {
                if set {
                    flags |= bit;
                }
            }
            flags
        }
    }
}

/// `caused_resolution` of a deployment no incident names.
const NOT_CAUSED: Millis = Millis::MIN;
/// `caused_resolution` of a deployment with an unresolved incident.
const CAUSED_UNRESOLVED: Millis = Millis::MAX;

/// Settles one `(entity, environment)` run, in time order: which counted deployments were
/// followed by a rollback, which failed, and when each failed one recovered.
fn settle_run(rows: &mut [DeployRow], order: &[DeploymentIx], caused_resolution: &[Millis]) {
    // Forward: the counted deployment before a counted rollback was rolled back.
    let mut previous: Option<usize> = None;
    for r in 0..rows.len() {
        if rows[r].flags & flag::COUNTED == 0 {
            continue;
        }
        if rows[r].flags & flag::ROLLBACK != 0
            && let Some(p) = previous
        {
            rows[p].flags |= flag::ROLLED_BACK;
        }
        previous = Some(r);
    }
    for row in rows.iter_mut() {
        if row.flags & (flag::OUTCOME_FAILED | flag::CAUSED_INCIDENT | flag::ROLLED_BACK) != 0 {
            row.flags |= flag::CHANGE_FAILED;
        }
        if row.flags & (flag::HOTFIX | flag::ROLLBACK | flag::FIXED_INCIDENT) != 0 {
            row.flags |= flag::UNPLANNED;
        }
    }
    // Backward: the next good deployment (succeeded, not failed) after each failed one.
    let mut next_good: Option<Millis> = None;
    for r in (0..rows.len()).rev() {
        let row = &mut rows[r];
        if row.flags & flag::COUNTED == 0 {
            continue;
        }
        if row.flags & flag::CHANGE_FAILED != 0 {
            row.recovery = match caused_resolution[order[r] as usize] {
                CAUSED_UNRESOLVED => UNRECOVERED,
                NOT_CAUSED => match next_good {
                    Some(at) => at.saturating_sub(row.at).max(UNRECOVERED + 1),
                    None => UNRECOVERED,
                },
                latest_resolved => latest_resolved.saturating_sub(row.at).max(UNRECOVERED + 1),
            };
        } else if row.flags & flag::SUCCEEDED != 0 {
            next_good = Some(row.at);
        }
    }
}

/// Every cross-reference in range, every severity 1-5, every count addressable.
fn validate(org: &Org, facts: &Facts) -> Result<(), DoraError> {
    let out_of_range = |path: String, value: u64, what: &'static str, len: usize| {
        Err(DoraError::IndexOutOfRange {
            path,
            value,
            what,
            len,
        })
    };
    for (what, len) in [
        ("deployments", facts.deployments.len()),
        ("changes", facts.changes.len()),
        ("incidents", facts.incidents.len()),
        ("org.entities", org.entities.len()),
    ] {
        if len > u32::MAX as usize {
            return Err(DoraError::TooMany { what, len });
        }
    }
    if org.system_domains.len() != org.systems.len() {
        return Err(DoraError::SystemDomainsLength {
            got: org.system_domains.len(),
            want: org.systems.len(),
        });
    }
    for (i, e) in org.entities.iter().enumerate() {
        if let Some(g) = e.owner.filter(|&g| g as usize >= org.groups.len()) {
            return out_of_range(
                format!("org.entities[{i}].owner"),
                g.into(),
                "group",
                org.groups.len(),
            );
        }
        if let Some(s) = e.system.filter(|&s| s as usize >= org.systems.len()) {
            return out_of_range(
                format!("org.entities[{i}].system"),
                s.into(),
                "system",
                org.systems.len(),
            );
        }
    }
    for (i, g) in org.groups.iter().enumerate() {
        if let Some(p) = g.parent.filter(|&p| p as usize >= org.groups.len()) {
            return out_of_range(
                format!("org.groups[{i}].parent"),
                p.into(),
                "group",
                org.groups.len(),
            );
        }
    }
    for (i, d) in org.system_domains.iter().enumerate() {
        if let Some(d) = d.filter(|&d| d as usize >= org.domains.len()) {
            return out_of_range(
                format!("org.system_domains[{i}]"),
                d.into(),
                "domain",
                org.domains.len(),
            );
        }
    }
    let entities = org.entities.len();
    let envs = facts.environments.len();
    for (i, d) in facts.deployments.iter().enumerate() {
        if d.entity as usize >= entities {
            return out_of_range(
                format!("deployments[{i}].entity"),
                d.entity.into(),
                "entity",
                entities,
            );
        }
        if d.environment as usize >= envs {
            return out_of_range(
                format!("deployments[{i}].environment"),
                d.environment.into(),
                "environment",
                envs,
            );
        }
    }
    let deployments = facts.deployments.len();
    for (i, c) in facts.changes.iter().enumerate() {
        if c.entity as usize >= entities {
            return out_of_range(
                format!("changes[{i}].entity"),
                c.entity.into(),
                "entity",
                entities,
            );
        }
        if let Some(d) = c.deployment.filter(|&d| d as usize >= deployments) {
            return out_of_range(
                format!("changes[{i}].deployment"),
                d.into(),
                "deployment",
                deployments,
            );
        }
    }
    for (i, inc) in facts.incidents.iter().enumerate() {
        if let Some(e) = inc.entity.filter(|&e| e as usize >= entities) {
            return out_of_range(
                format!("incidents[{i}].entity"),
                e.into(),
                "entity",
                entities,
            );
        }
        if let Some(d) = inc.caused_by.filter(|&d| d as usize >= deployments) {
            return out_of_range(
                format!("incidents[{i}].caused_by"),
                d.into(),
                "deployment",
                deployments,
            );
        }
        if let Some(d) = inc.fixed_by.filter(|&d| d as usize >= deployments) {
            return out_of_range(
                format!("incidents[{i}].fixed_by"),
                d.into(),
                "deployment",
                deployments,
            );
        }
        if let Some(s) = inc.severity.filter(|s| !(1..=5).contains(s)) {
            return Err(DoraError::SeverityOutOfRange {
                path: format!("incidents[{i}].severity"),
                value: s,
            });
        }
    }
    Ok(())
}
