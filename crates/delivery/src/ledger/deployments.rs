//! Deployments: status updates merged into one row.
//!
//! A deployment is identified by `(source, subject, source_id)` (the sender's deployment id:
//! GitHub deployment id, GitLab `deployment_id`, Argo CD application and operation, Flux
//! object and revision, CDEvents event). Its updates merge so that any order gives the same
//! row:
//!
//! * `queued_at` is the earliest `queued` time; `started_at` the earliest start (an update's
//!   `started_at`, or the time of a `started` update).
//! * The **final status** is the final update (succeeded, failed, canceled, rolled back,
//!   removed) with the latest time; at equal times the more pessimistic one (failed over
//!   canceled over removed over rolled back over succeeded). Its `finished_at` is the
//!   deployment's. Before any final update the status is `started` (or `queued`).
//! * `rollback` is set by any update that says so (a `rolled_back` status, the sender's
//!   flag, or a label matching `rollback_patterns`); `hotfix` by a label or the deployed ref
//!   matching `hotfix_patterns` (and, when rows are written, by a shipped change whose merge
//!   was marked hotfix).
//! * Conflicting values senders do not normally send for one deployment (two shas, two
//!   environments) resolve to the smallest, so the result does not depend on order. The
//!   sender's `production` flag is "yes" if any update says yes.
//! * **Production**: the environment's name is one of `production_environments` (case-
//!   insensitive) or the sender marks it as production.
//! * **Exclusions**, kept and shown but left out of metrics and change sets: a time of any
//!   update later than its delivery's `received_at` plus `future_skew_ms` (*in the future*);
//!   a `finished_at` before the start (`started_at`, else `queued_at`: *finishes before
//!   start*). Nothing is dropped.
//!
//! A successful (succeeded or rolled back), not excluded production deployment joins its
//! line, `(entity, environment)` in `(finished_at, id)` order, whose change sets follow one
//! another (see [`super::changes`]).

use std::collections::HashMap;

use pave_dora::facts::Exclusion;
use pave_events::{Deployment, DeploymentStatus, Millis, Source, Subject};

use super::{Dep, Ledger, Line, line_of};
use crate::attribution::{Attribution, repo_key, repo_of_url};
use crate::keys::{NONE, Sha, stable_id};
use crate::rows::{ChangesetRow, DeploymentRow, HotfixReason};

/// The winning final update of a deployment. Ordered by time, then pessimism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FinalStatus {
    pub(crate) at: Millis,
    pub(crate) rank: u8,
    pub(crate) finished_at: Millis,
}

/// Final statuses by pessimism: equal times resolve to the larger.
fn rank(status: DeploymentStatus) -> u8 {
    match status {
        DeploymentStatus::Queued | DeploymentStatus::Started => 0,
        DeploymentStatus::Succeeded => 1,
        DeploymentStatus::RolledBack => 2,
        DeploymentStatus::Removed => 3,
        DeploymentStatus::Canceled => 4,
        DeploymentStatus::Failed => 5,
    }
}

pub(crate) fn status_of_rank(rank: u8) -> DeploymentStatus {
    match rank {
        1 => DeploymentStatus::Succeeded,
        2 => DeploymentStatus::RolledBack,
        3 => DeploymentStatus::Removed,
        4 => DeploymentStatus::Canceled,
        5 => DeploymentStatus::Failed,
        _ => DeploymentStatus::Started,
    }
}

/// Where a deployment sits in the lines: its line and environment, and its order key.
pub(crate) type Place = ((Line, u16), (Millis, u64));

impl Dep {
    pub(crate) fn status(&self) -> DeploymentStatus {
        match self.last {
            Some(last) => status_of_rank(last.rank),
            None if self.started_at.is_some() => DeploymentStatus::Started,
            None => DeploymentStatus::Queued,
        }
    }

    pub(crate) fn finished_at(&self) -> Option<Millis> {
        self.last.map(|l| l.finished_at)
    }

    /// When it started: `started_at`, else `queued_at`, else when it finished.
    pub(crate) fn start(&self) -> Option<Millis> {
        self.started_at
            .or(self.queued_at)
            .or_else(|| self.finished_at())
    }

    pub(crate) fn excluded(&self) -> Option<Exclusion> {
        if self.future {
            return Some(Exclusion::InTheFuture);
        }
        match (self.started_at.or(self.queued_at), self.finished_at()) {
            (Some(start), Some(finish)) if finish < start => Some(Exclusion::FinishesBeforeStart),
            _ => None,
        }
    }

    pub(crate) fn succeeded(&self) -> bool {
        matches!(
            self.status(),
            DeploymentStatus::Succeeded | DeploymentStatus::RolledBack
        )
    }

    /// A successful, counted production deployment: one of its line's.
    pub(crate) fn in_line(&self) -> bool {
        self.production && self.succeeded() && self.excluded().is_none()
    }

    /// The order within a line.
    pub(crate) fn order(&self) -> (Millis, u64) {
        (self.finished_at().unwrap_or(Millis::MIN), self.id)
    }

    pub(crate) fn line(&self) -> Line {
        line_of(self.entity, self.subject)
    }

    pub(crate) fn place(&self) -> Option<Place> {
        self.in_line()
            .then(|| ((self.line(), self.environment), self.order()))
    }
}

impl Ledger {
    pub(crate) fn environment(&mut self, name: &str) -> u16 {
        let ix = self.environments.intern(name);
        // More than 65,535 environment names is not a deployment history; fold the rest.
        u16::try_from(ix).unwrap_or(u16::MAX)
    }

    /// The deployment's index for `(source, subject, source_id)`, if it exists, and its id
    /// (or the id a new one gets: the key's digest, probing past the rare collision).
    fn find_deployment(&self, source: Source, subject: u32, source_id: &str) -> (Option<u32>, u64) {
        let key = self.subjects.name(subject);
        let mut id = stable_id("deployment", &[source.as_str(), key, source_id]);
        loop {
            match self.deployment_ix.get(&id) {
                None => return (None, id),
                Some(&ix) => {
                    let d = &self.deployments[ix as usize];
                    if d.source == source && d.subject == subject && &*d.source_id == source_id {
                        return (Some(ix), id);
                    }
                    id = (id + 1) & (u64::MAX >> 1);
                }
            }
        }
    }

    pub(crate) fn apply_deployment(
        &mut self,
        seq: u64,
        received_at: Millis,
        source: Source,
        event: &Deployment,
        subject: u32,
        attribution: &Attribution,
    ) {
        let env_name = event.environment.trim();
        let env = self.environment(env_name);
        let (found, id) = self.find_deployment(source, subject, &event.source_id);
        let ix = match found {
            Some(ix) => ix,
            None => {
                let entity = self.subject_state[subject as usize].entity;
                let repo = self.deployment_repo(attribution, subject, entity);
                let ix = self.deployments.len() as u32;
                self.deployments.push(Dep {
                    id,
                    source,
                    subject,
                    entity,
                    repo,
                    environment: env,
                    sender_production: None,
                    production: false,
                    source_id: event.source_id.as_str().into(),
                    sha: None,
                    version: None,
                    url: None,
                    last: None,
                    queued_at: None,
                    started_at: None,
                    rollback: false,
                    hotfix: None,
                    future: false,
                    changeset: None,
                    claimed: Vec::new(),
                    first_seq: seq,
                    last_seq: seq,
                });
                self.deployment_ix.insert(id, ix);
                self.line_all
                    .entry(line_of(entity, subject))
                    .or_default()
                    .push(ix);
                ix
            }
        };
        let before = self.deployments[ix as usize].place();
        let before_sha = self.deployments[ix as usize].sha.clone();
        let before_flags = {
            let d = &self.deployments[ix as usize];
            (d.rollback, d.hotfix)
        };

        let rollback_label = event.labels.iter().any(|l| self.rules.is_rollback(l));
        let hotfix = if event.labels.iter().any(|l| self.rules.is_hotfix(l)) {
            Some(HotfixReason::Label)
        } else if event
            .git_ref
            .as_deref()
            .is_some_and(|r| self.rules.is_hotfix(r))
        {
            Some(HotfixReason::Ref)
        } else {
            None
        };
        let skew_limit = received_at.saturating_add(self.rules.config.future_skew_ms);
        let future = [Some(event.at), event.started_at, event.finished_at]
            .into_iter()
            .flatten()
            .any(|t| t > skew_limit);
        let current_env_name = self
            .environments
            .name(u32::from(self.deployments[ix as usize].environment))
            .to_owned();

        let d = &mut self.deployments[ix as usize];
        if env_name < current_env_name.as_str() {
            d.environment = env;
        }
        d.sender_production = d.sender_production.max(event.production);
        min_some(&mut d.sha, event.sha.as_deref().map(Sha::new));
        min_some(&mut d.version, event.version.as_deref().map(Box::from));
        min_some(&mut d.url, event.url.as_deref().map(Box::from));
        match event.status {
            DeploymentStatus::Queued => min_some(&mut d.queued_at, Some(event.at)),
            DeploymentStatus::Started => min_some(&mut d.started_at, Some(event.at)),
            status => {
                let candidate = FinalStatus {
                    at: event.at,
                    rank: rank(status),
                    finished_at: event.finished_at.unwrap_or(event.at),
                };
                if d.last.is_none_or(|last| candidate > last) {
                    d.last = Some(candidate);
                }
            }
        }
        min_some(&mut d.started_at, event.started_at);
        d.rollback |=
            event.rollback || event.status == DeploymentStatus::RolledBack || rollback_label;
        min_some(&mut d.hotfix, hotfix);
        d.future |= future;
        d.first_seq = d.first_seq.min(seq);
        d.last_seq = d.last_seq.max(seq);
        let env_now = self
            .environments
            .name(u32::from(self.deployments[ix as usize].environment))
            .to_owned();
        let d = &mut self.deployments[ix as usize];
        d.production = self.rules.is_production(&env_now, d.sender_production);

        let after = d.place();
        let sha_changed = d.sha != before_sha;
        let flags_changed = (d.rollback, d.hotfix) != before_flags;
        self.dirty.deployments.push(ix);
        if before != after {
            self.reposition(&[(ix, before)]);
        } else if let Some((key, _)) = after {
            if sha_changed {
                self.reposition(&[(ix, before)]);
            } else if flags_changed {
                self.relink_line(key.0);
            }
        }
        self.check_references(ix);
    }

    /// The repository a deployment's commit belongs to: its subject's, else the first its
    /// entity's annotations name, else the repository an Argo CD application deploys from.
    pub(crate) fn deployment_repo(
        &mut self,
        attribution: &Attribution,
        subject: u32,
        entity: u32,
    ) -> u32 {
        let key = match &self.subject_state[subject as usize].subject {
            Subject::Repository { host, slug, .. } => Some(repo_key(host, slug)),
            other => {
                let from_entity = (entity != NONE)
                    .then(|| {
                        attribution
                            .repositories_of(self.entities.name(entity))
                            .first()
                    })
                    .flatten()
                    .cloned();
                from_entity.or_else(|| match other {
                    Subject::ArgoApp {
                        repo_url: Some(url),
                        ..
                    } => repo_of_url(url),
                    _ => None,
                })
            }
        };
        match key {
            Some(key) => {
                let known = self.repos.get(&key).is_some();
                let ix = self.repo(&key, None);
                if !known {
                    let entity = super::repo_entity(attribution, &key)
                        .map_or(NONE, |e| self.entities.intern(&e));
                    self.set_repo_entity(ix, entity);
                }
                ix
            }
            None => NONE,
        }
    }

    /// Moves deployments whose place changed (their state already updated; `before` is the
    /// place they had) and recomputes the change sets of the lines they left or joined,
    /// from the earliest place touched.
    pub(crate) fn reposition(&mut self, moves: &[(u32, Option<Place>)]) {
        let mut starts: std::collections::BTreeMap<(Line, u16), (Millis, u64)> =
            std::collections::BTreeMap::new();
        let mut touch = |key: (Line, u16), order: (Millis, u64)| {
            let start = starts.entry(key).or_insert(order);
            *start = (*start).min(order);
        };
        let mut released: Vec<(u32, (Line, u16))> = Vec::new();
        for &(d, before) in moves {
            let after = self.deployments[d as usize].place();
            if let Some((key, order)) = before {
                if let Some(list) = self.lines.get_mut(&key)
                    && let Some(p) = list.iter().position(|&x| x == d)
                {
                    list.remove(p);
                }
                touch(key, order);
                if after.map(|a| a.0) != Some(key) {
                    for c in self.release_claims(d, key.1) {
                        released.push((c, key));
                    }
                }
            }
            if let Some((key, order)) = after {
                let deployments = &self.deployments;
                let list = self.lines.entry(key).or_default();
                let p = list.partition_point(|&x| deployments[x as usize].order() < order);
                list.insert(p, d);
                touch(key, order);
                let repo = self.deployments[d as usize].repo;
                if repo != NONE {
                    self.repo_state[repo as usize].lines.insert(key);
                }
            } else {
                self.clear_changeset(d);
            }
        }
        for (key, order) in starts {
            let deployments = &self.deployments;
            let from = self.lines.get(&key).map_or(0, |list| {
                list.partition_point(|&x| deployments[x as usize].order() < order)
            });
            self.recompute_line(key, from, true);
        }
        // Changes of deployments that left a line, not shipped again by it: other lines of
        // their repository may have shipped them too.
        let mut by_line: std::collections::BTreeMap<(Line, u16), Vec<u32>> =
            std::collections::BTreeMap::new();
        for (c, key) in released {
            by_line.entry(key).or_default().push(c);
        }
        for (key, orphans) in by_line {
            self.chase(orphans, key.1, key);
        }
    }

    /// Re-attributes deployments: new entities (their subjects'), new repositories; lines
    /// rebuilt and the change sets of every line that changed recomputed.
    pub(crate) fn reattribute_deployments(&mut self, attribution: &Attribution) {
        let mut moves = Vec::new();
        // One repository lookup per subject and entity, not per deployment.
        let mut repos: HashMap<(u32, u32), u32> = HashMap::new();
        for d in 0..self.deployments.len() {
            let dep = &self.deployments[d];
            let entity = self.subject_state[dep.subject as usize].entity;
            let subject = dep.subject;
            let repo = match repos.get(&(subject, entity)) {
                Some(&repo) => repo,
                None => {
                    let repo = self.deployment_repo(attribution, subject, entity);
                    repos.insert((subject, entity), repo);
                    repo
                }
            };
            let dep = &self.deployments[d];
            if dep.entity != entity || dep.repo != repo {
                let before = dep.place();
                let dep = &mut self.deployments[d];
                dep.entity = entity;
                dep.repo = repo;
                moves.push((d as u32, before));
                self.dirty.deployments.push(d as u32);
            }
        }
        if moves.is_empty() {
            return;
        }
        self.line_all.clear();
        for (d, dep) in self.deployments.iter().enumerate() {
            self.line_all.entry(dep.line()).or_default().push(d as u32);
        }
        self.reposition(&moves);
    }

    pub(crate) fn deployment_row(&self, d: u32) -> DeploymentRow {
        let dep = &self.deployments[d as usize];
        let hotfix = dep
            .hotfix
            .or_else(|| self.ships_hotfix_change(d).then_some(HotfixReason::Change));
        DeploymentRow {
            id: dep.id,
            source: dep.source,
            subject_key: self.subjects.name(dep.subject).to_owned(),
            source_id: dep.source_id.to_string(),
            entity: self.entity_name(dep.entity),
            environment: self
                .environments
                .name(u32::from(dep.environment))
                .to_owned(),
            production: dep.production,
            sender_production: dep.sender_production,
            repo: (dep.repo != NONE).then(|| self.repos.name(dep.repo).to_owned()),
            sha: dep.sha.as_ref().map(Sha::to_string),
            version: dep.version.as_deref().map(str::to_owned),
            url: dep.url.as_deref().map(str::to_owned),
            status: dep.status(),
            status_at: dep.last.map(|l| l.at),
            queued_at: dep.queued_at,
            started_at: dep.started_at,
            finished_at: dep.finished_at(),
            rollback: dep.rollback,
            hotfix,
            excluded: dep.excluded(),
            changeset: dep.changeset.as_ref().map(|c| ChangesetRow {
                previous: (c.previous != NONE).then(|| self.deployments[c.previous as usize].id),
                commits: c.commits,
                truncated: c.truncated,
                reason: c.reason.clone(),
                sources: c.sources(),
            }),
            first_seq: dep.first_seq,
            last_seq: dep.last_seq,
        }
    }

    /// A hotfix by its own labels or ref, or by a hotfix change it shipped first.
    pub(crate) fn is_hotfix(&self, d: u32) -> bool {
        self.deployments[d as usize].hotfix.is_some() || self.ships_hotfix_change(d)
    }

    fn ships_hotfix_change(&self, d: u32) -> bool {
        self.deployments[d as usize]
            .claimed
            .iter()
            .any(|&c| self.changes[c as usize].hotfix)
    }
}

/// Keeps the smaller of two values, a value over none.
pub(crate) fn min_some<T: Ord>(slot: &mut Option<T>, value: Option<T>) {
    if let Some(value) = value
        && slot.as_ref().is_none_or(|current| value < *current)
    {
        *slot = Some(value);
    }
}
