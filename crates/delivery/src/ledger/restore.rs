//! Writing the whole ledger out as rows, and rebuilding it from them.

use std::collections::HashMap;

use pave_dora::facts::Exclusion;
use pave_events::DeploymentStatus;

use super::deployments::{FinalStatus, min_some};
use super::{AlertState, Chg, Dep, Dirty, Inc, Ledger, SubjectState, line_of};
use crate::attribution::Attribution;
use crate::config::LedgerConfig;
use crate::error::LedgerError;
use crate::keys::{NONE, Sha};
use crate::rows::{Applied, CommitRow, CommitSource, HotfixReason, Rows};

fn rows_error(path: String, message: impl Into<String>) -> LedgerError {
    LedgerError::Rows {
        path,
        message: message.into(),
    }
}

fn final_rank(status: DeploymentStatus) -> Option<u8> {
    match status {
        DeploymentStatus::Queued | DeploymentStatus::Started => None,
        DeploymentStatus::Succeeded => Some(1),
        DeploymentStatus::RolledBack => Some(2),
        DeploymentStatus::Removed => Some(3),
        DeploymentStatus::Canceled => Some(4),
        DeploymentStatus::Failed => Some(5),
    }
}

impl Ledger {
    /// Every row, sorted by key: what a store holds after persisting every [`Applied`].
    pub fn rows(&self) -> Rows {
        let mut rows = Rows::default();
        let mut subjects: Vec<u32> = (0..self.subject_state.len() as u32).collect();
        subjects.sort_by(|&a, &b| self.subjects.name(a).cmp(self.subjects.name(b)));
        rows.subjects = subjects.into_iter().map(|s| self.subject_row(s)).collect();
        for (r, state) in self.repo_state.iter().enumerate() {
            let repo = self.repos.name(r as u32);
            for commit in state.graph.commits() {
                rows.commits.push(CommitRow {
                    repo: repo.to_owned(),
                    sha: commit.sha.to_owned(),
                    parents: state
                        .graph
                        .parents(commit.sha)
                        .into_iter()
                        .flatten()
                        .map(str::to_owned)
                        .collect(),
                    committed_at: commit.committed_at,
                    source: if state.git.contains(&Sha::new(commit.sha)) {
                        CommitSource::Git
                    } else {
                        CommitSource::Push
                    },
                });
            }
        }
        rows.commits
            .sort_by(|a, b| (&a.repo, &a.sha).cmp(&(&b.repo, &b.sha)));
        rows.changes = (0..self.changes.len() as u32)
            .map(|c| self.change_row(c))
            .collect();
        rows.changes
            .sort_by(|a, b| (&a.repo, &a.sha).cmp(&(&b.repo, &b.sha)));
        rows.deployments = (0..self.deployments.len() as u32)
            .map(|d| self.deployment_row(d))
            .collect();
        rows.deployments.sort_by_key(|d| d.id);
        rows.incidents = (0..self.incidents.len() as u32)
            .map(|i| self.incident_row(i))
            .collect();
        rows.incidents.sort_by_key(|i| i.id);
        rows.alerts = (0..self.alerts.len() as u32)
            .map(|a| self.alert_row(a))
            .collect();
        rows.alerts.sort_by_key(|a| a.id);
        rows
    }

    /// Rebuilds a ledger from persisted rows (no deliveries needed), then re-attributes it
    /// with the current catalog: the [`Applied`] holds the rows that changes (none when the
    /// catalog is the one the rows were written with). Rows that do not fit together (a
    /// deployment of a subject with no subject row, a change shipped by a deployment that
    /// is not there) are errors naming the row.
    pub fn from_rows(
        config: LedgerConfig,
        rows: &Rows,
        attribution: &Attribution,
    ) -> Result<(Ledger, Applied), LedgerError> {
        let mut ledger = Ledger::new(config)?;
        for (i, row) in rows.subjects.iter().enumerate() {
            if ledger.subjects.get(&row.key).is_some() {
                return Err(rows_error(
                    format!("subjects[{i}].key"),
                    format!("{} twice", row.key),
                ));
            }
            ledger.subjects.intern(&row.key);
            let entity = row
                .entity
                .as_deref()
                .map_or(NONE, |e| ledger.entities.intern(e));
            ledger.subject_state.push(SubjectState {
                subject: row.subject.clone(),
                entity,
                how: row.how.clone(),
                events: row.events,
                last_seen: row.last_seen,
            });
        }
        let repo = |ledger: &mut Ledger, key: &str| -> u32 {
            let known = ledger.repos.get(key).is_some();
            let ix = ledger.repo(key, None);
            if !known {
                let entity = super::repo_entity(attribution, key)
                    .map_or(NONE, |e| ledger.entities.intern(&e));
                ledger.set_repo_entity(ix, entity);
            }
            ix
        };

        let mut by_repo: HashMap<&str, Vec<&CommitRow>> = HashMap::new();
        for row in &rows.commits {
            by_repo.entry(row.repo.as_str()).or_default().push(row);
        }
        let mut repo_names: Vec<&str> = by_repo.keys().copied().collect();
        repo_names.sort_unstable();
        for name in repo_names {
            let r = repo(&mut ledger, name);
            let commits = &by_repo[name];
            let state = &mut ledger.repo_state[r as usize];
            state
                .graph
                .extend(commits.iter().map(|c| {
                    (
                        c.sha.as_str(),
                        c.parents.iter().map(String::as_str),
                        c.committed_at,
                    )
                }))
                .map_err(|e| rows_error(format!("commits (repository {name})"), e.to_string()))?;
            for c in commits.iter().filter(|c| c.source == CommitSource::Git) {
                state.git.insert(Sha::new(&c.sha));
            }
        }

        let mut previous_ids = Vec::with_capacity(rows.deployments.len());
        for (i, row) in rows.deployments.iter().enumerate() {
            let path = |field: &str| format!("deployments[{i}].{field}");
            let subject = ledger.subjects.get(&row.subject_key).ok_or_else(|| {
                rows_error(
                    path("subject_key"),
                    format!("no subject row {}", row.subject_key),
                )
            })?;
            if ledger.deployment_ix.contains_key(&row.id) {
                return Err(rows_error(path("id"), format!("{} twice", row.id)));
            }
            let entity = row
                .entity
                .as_deref()
                .map_or(NONE, |e| ledger.entities.intern(e));
            let environment = ledger.environment(&row.environment);
            let repo_ix = match &row.repo {
                Some(key) => repo(&mut ledger, key),
                None => NONE,
            };
            let last = match (final_rank(row.status), row.status_at, row.finished_at) {
                (None, _, _) => None,
                (Some(rank), Some(at), Some(finished_at)) => Some(FinalStatus {
                    at,
                    rank,
                    finished_at,
                }),
                (Some(_), _, _) => {
                    return Err(rows_error(
                        path("status_at"),
                        "a final status needs status_at and finished_at",
                    ));
                }
            };
            let changeset = row.changeset.as_ref().map(|c| super::Changeset {
                previous: NONE,
                commits: c.commits,
                truncated: c.truncated,
                reason: c.reason.clone(),
                from_push: c.sources.contains(&CommitSource::Push),
                from_git: c.sources.contains(&CommitSource::Git),
            });
            previous_ids.push(row.changeset.as_ref().and_then(|c| c.previous));
            let d = ledger.deployments.len() as u32;
            ledger.deployments.push(Dep {
                id: row.id,
                source: row.source,
                subject,
                entity,
                repo: repo_ix,
                environment,
                sender_production: row.sender_production,
                production: ledger
                    .rules
                    .is_production(&row.environment, row.sender_production),
                source_id: row.source_id.as_str().into(),
                sha: row.sha.as_deref().map(Sha::new),
                version: row.version.as_deref().map(Box::from),
                url: row.url.as_deref().map(Box::from),
                last,
                queued_at: row.queued_at,
                started_at: row.started_at,
                rollback: row.rollback,
                hotfix: row.hotfix.filter(|h| *h != HotfixReason::Change),
                future: row.excluded == Some(Exclusion::InTheFuture),
                changeset,
                claimed: Vec::new(),
                first_seq: row.first_seq,
                last_seq: row.last_seq,
            });
            ledger.deployment_ix.insert(row.id, d);
            ledger
                .line_all
                .entry(line_of(entity, subject))
                .or_default()
                .push(d);
        }
        for (d, previous) in previous_ids.into_iter().enumerate() {
            if let Some(id) = previous {
                let &p = ledger.deployment_ix.get(&id).ok_or_else(|| {
                    rows_error(
                        format!("deployments[{d}].changeset.previous"),
                        format!("no deployment {id}"),
                    )
                })?;
                if let Some(changeset) = &mut ledger.deployments[d].changeset {
                    changeset.previous = p;
                }
            }
        }
        for d in 0..ledger.deployments.len() as u32 {
            let dep = &ledger.deployments[d as usize];
            if let Some((key, _)) = dep.place() {
                ledger.lines.entry(key).or_default().push(d);
                if dep.repo != NONE {
                    let repo = dep.repo as usize;
                    ledger.repo_state[repo].lines.insert(key);
                    if dep
                        .changeset
                        .as_ref()
                        .and_then(|c| c.reason.as_ref())
                        .is_some_and(|r| r.is_incomplete())
                    {
                        ledger.repo_state[repo].incomplete.insert(d);
                    }
                }
            }
        }
        let deployments = &ledger.deployments;
        for list in ledger.lines.values_mut() {
            list.sort_by_key(|&d| deployments[d as usize].order());
        }

        for (i, row) in rows.changes.iter().enumerate() {
            let r = repo(&mut ledger, &row.repo);
            let sha = Sha::new(&row.sha);
            let c = ledger.changes.len() as u32;
            if ledger.change_ix.insert((r, sha.clone()), c).is_some() {
                return Err(rows_error(
                    format!("changes[{i}]"),
                    format!("{}@{} twice", row.repo, row.sha),
                ));
            }
            ledger.changes.push(Chg {
                sha,
                committed_at: row.committed_at,
                merged_at: row.merged_at,
                repo: r,
                number: row.number.and_then(|n| u32::try_from(n).ok()),
                claim: NONE,
                claim_env: 0,
                source: row.source,
                hotfix: row.hotfix,
            });
            for (j, shipped) in row.shipped.iter().enumerate() {
                let &d = ledger
                    .deployment_ix
                    .get(&shipped.deployment)
                    .ok_or_else(|| {
                        rows_error(
                            format!("changes[{i}].shipped[{j}].deployment"),
                            format!("no deployment {}", shipped.deployment),
                        )
                    })?;
                let env = ledger.environment(&shipped.environment);
                ledger.set_claim(c, env, d);
                ledger.deployments[d as usize].claimed.push(c);
            }
        }

        for (i, row) in rows.incidents.iter().enumerate() {
            let path = |field: &str| format!("incidents[{i}].{field}");
            let subject = ledger.subjects.get(&row.subject_key).ok_or_else(|| {
                rows_error(
                    path("subject_key"),
                    format!("no subject row {}", row.subject_key),
                )
            })?;
            let deployment = |id: Option<u64>, field: &str| -> Result<u32, LedgerError> {
                match id {
                    None => Ok(NONE),
                    Some(id) => ledger
                        .deployment_ix
                        .get(&id)
                        .copied()
                        .ok_or_else(|| rows_error(path(field), format!("no deployment {id}"))),
                }
            };
            let caused_by = deployment(row.caused_by, "caused_by")?;
            let fixed_by = deployment(row.fixed_by, "fixed_by")?;
            let entity = row
                .entity
                .as_deref()
                .map_or(NONE, |e| ledger.entities.intern(e));
            let ix = ledger.incidents.len() as u32;
            if ledger.incident_ix.insert(row.id, ix).is_some() {
                return Err(rows_error(path("id"), format!("{} twice", row.id)));
            }
            let mut severity = None;
            min_some(
                &mut severity,
                row.severity
                    .map(|level| (level, row.severity_raw.clone().unwrap_or_default())),
            );
            let reference: Option<Box<str>> = row.caused_by_reference.as_deref().map(Box::from);
            if let Some(reference) = &reference {
                ledger
                    .references
                    .entry(reference.clone())
                    .or_default()
                    .push(ix);
            }
            ledger.incidents.push(Inc {
                id: row.id,
                source: row.source,
                incident: row.incident.as_str().into(),
                subject,
                entity,
                number: row.number,
                title: row.title.clone(),
                severity,
                url: row.url.clone(),
                environment: row.environment.clone(),
                reported_opened_at: row.reported_opened_at,
                first_event_at: row.first_event_at,
                acknowledged_at: row.acknowledged_at,
                last_resolved_at: row.last_resolved_at,
                reopened_at: row.reopened_at.clone(),
                reference,
                caused_by,
                link: row.link,
                fixed_by,
                first_seq: row.first_seq,
                last_seq: row.last_seq,
            });
            ledger
                .line_incidents
                .entry(line_of(entity, subject))
                .or_default()
                .push(ix);
        }

        for (i, row) in rows.alerts.iter().enumerate() {
            let subject = ledger.subjects.get(&row.subject_key).ok_or_else(|| {
                rows_error(
                    format!("alerts[{i}].subject_key"),
                    format!("no subject row {}", row.subject_key),
                )
            })?;
            let entity = row
                .entity
                .as_deref()
                .map_or(NONE, |e| ledger.entities.intern(e));
            let ix = ledger.alerts.len() as u32;
            if ledger.alert_ix.insert(row.id, ix).is_some() {
                return Err(rows_error(
                    format!("alerts[{i}].id"),
                    format!("{} twice", row.id),
                ));
            }
            ledger.alerts.push(AlertState {
                id: row.id,
                source: row.source,
                fingerprint: row.fingerprint.as_str().into(),
                subject,
                entity,
                name: row.name.clone(),
                severity: row.severity.clone(),
                summary: row.summary.clone(),
                url: row.url.clone(),
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                first_seq: row.first_seq,
                last_seq: row.last_seq,
            });
        }

        ledger.dirty = Dirty::default();
        let applied = ledger.reattribute(attribution);
        Ok((ledger, applied))
    }
}
