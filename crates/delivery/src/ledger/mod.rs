//! The ledger: deliveries in, fact rows out.
//!
//! [`Ledger::apply`] takes one delivery at a time, in the store's order, and returns the
//! rows it changed ([`Applied`]). Every merge is order-independent and idempotent by
//! construction (minimums, maximums, "or", sets; ties broken by a fixed order), so a status
//! update that arrives late, a redelivery, or a replay of the whole history gives the same
//! rows. The module docs of [`deployments`], [`changes`] and [`incidents`] state each rule.
//!
//! The state in memory is compact: entity references, environments, repositories and
//! subjects are interned (`u32`), commit ids are 20 bytes, a change takes 72 bytes and a
//! deployment 248, besides their index entries and the repositories' commit graphs.

pub mod changes;
pub mod deployments;
pub mod incidents;
mod restore;
mod views;

use std::collections::{HashMap, HashSet, VecDeque};

use pave_dora::changeset::CommitGraph;
use pave_events::{Delivery, Event, Millis, Source, Subject};

use crate::attribution::Attribution;
use crate::config::{LedgerConfig, Rules};
use crate::error::LedgerError;
use crate::keys::{Interner, NONE, Sha, delivery_key};
use crate::rows::{Applied, ChangeSource, Row, SubjectRow};

pub(crate) use changes::Changeset;
pub use views::LatestDeployment;

/// How many recent deliveries the ledger remembers: a redelivery among them is skipped
/// ([`Applied::duplicate`]). Older ones are applied again, which changes no fact (merges are
/// idempotent) and only counts their events twice in [`Ledger::unattributed`].
const DEDUPE_WINDOW: usize = 1 << 20;

/// A line of deployments whose change sets follow each other: an entity, or (unattributed)
/// a subject, `(1 << 32) | subject`.
pub(crate) type Line = u64;

pub(crate) fn line_of(entity: u32, subject: u32) -> Line {
    if entity == NONE {
        1 << 32 | u64::from(subject)
    } else {
        u64::from(entity)
    }
}

/// A subject, what it is attributed to, and how often it was seen.
#[derive(Debug, Clone)]
pub(crate) struct SubjectState {
    pub(crate) subject: Subject,
    pub(crate) entity: u32,
    pub(crate) how: Option<String>,
    pub(crate) events: u64,
    pub(crate) last_seen: Millis,
}

/// A repository: its commit graph and who it belongs to.
#[derive(Debug, Default)]
pub(crate) struct RepoState {
    pub(crate) graph: CommitGraph,
    /// Commits that came from `git log` (the rest came from pushes).
    pub(crate) git: HashSet<Sha>,
    pub(crate) entity: u32,
    /// Deployments whose change set more history may change.
    pub(crate) incomplete: std::collections::BTreeSet<u32>,
    /// The `(line, environment)` runs with deployments of this repository.
    pub(crate) lines: std::collections::BTreeSet<(Line, u16)>,
}

/// One deployment in memory (see [`crate::rows::DeploymentRow`] for the fields).
#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub(crate) id: u64,
    pub(crate) source: Source,
    pub(crate) subject: u32,
    pub(crate) entity: u32,
    pub(crate) repo: u32,
    pub(crate) environment: u16,
    pub(crate) sender_production: Option<bool>,
    pub(crate) production: bool,
    pub(crate) source_id: Box<str>,
    pub(crate) sha: Option<Sha>,
    pub(crate) version: Option<Box<str>>,
    pub(crate) url: Option<Box<str>>,
    /// The winning final status: `(at, rank, status, finished_at)`.
    pub(crate) last: Option<deployments::FinalStatus>,
    pub(crate) queued_at: Option<Millis>,
    pub(crate) started_at: Option<Millis>,
    pub(crate) rollback: bool,
    pub(crate) hotfix: Option<crate::rows::HotfixReason>,
    pub(crate) future: bool,
    pub(crate) changeset: Option<Changeset>,
    /// Changes whose first deployment (in this environment) this is.
    pub(crate) claimed: Vec<u32>,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
}

/// One change in memory.
#[derive(Debug, Clone)]
pub(crate) struct Chg {
    pub(crate) sha: Sha,
    pub(crate) committed_at: Millis,
    pub(crate) merged_at: Option<Millis>,
    pub(crate) repo: u32,
    pub(crate) number: Option<u32>,
    /// The first deployment that shipped it in `claim_env`, or [`NONE`]; other
    /// environments' are in [`Ledger::extra_claims`].
    pub(crate) claim: u32,
    pub(crate) claim_env: u16,
    pub(crate) source: ChangeSource,
    pub(crate) hotfix: bool,
}

/// One incident in memory.
#[derive(Debug, Clone)]
pub(crate) struct Inc {
    pub(crate) id: u64,
    pub(crate) source: Source,
    pub(crate) incident: Box<str>,
    pub(crate) subject: u32,
    pub(crate) entity: u32,
    pub(crate) number: Option<u64>,
    pub(crate) title: Option<String>,
    pub(crate) severity: Option<(u8, String)>,
    pub(crate) url: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) reported_opened_at: Option<Millis>,
    pub(crate) first_event_at: Millis,
    pub(crate) acknowledged_at: Option<Millis>,
    pub(crate) last_resolved_at: Option<Millis>,
    pub(crate) reopened_at: Vec<Millis>,
    pub(crate) reference: Option<Box<str>>,
    pub(crate) caused_by: u32,
    pub(crate) link: Option<crate::rows::LinkKind>,
    pub(crate) fixed_by: u32,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
}

/// One alert firing in memory.
#[derive(Debug, Clone)]
pub(crate) struct AlertState {
    pub(crate) id: u64,
    pub(crate) source: Source,
    pub(crate) fingerprint: Box<str>,
    pub(crate) subject: u32,
    pub(crate) entity: u32,
    pub(crate) name: Option<String>,
    pub(crate) severity: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) starts_at: Millis,
    pub(crate) ends_at: Option<Millis>,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
}

/// What changed since the last [`Applied`]: emitted as rows, each once.
#[derive(Debug, Default)]
pub(crate) struct Dirty {
    pub(crate) subjects: Vec<u32>,
    pub(crate) changes: Vec<u32>,
    pub(crate) deployments: Vec<u32>,
    pub(crate) incidents: Vec<u32>,
    pub(crate) alerts: Vec<u32>,
    /// Commit rows are written as they are added.
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
}

/// Delivery facts derived from a stream of deliveries (see the crate documentation).
#[derive(Debug)]
pub struct Ledger {
    pub(crate) rules: Rules,
    /// The fingerprint of the attribution rows reflect; `None` before the first.
    pub(crate) fingerprint: Option<u64>,
    recent: HashSet<u128>,
    recent_order: VecDeque<u128>,
    pub(crate) subjects: Interner,
    pub(crate) subject_state: Vec<SubjectState>,
    pub(crate) entities: Interner,
    pub(crate) environments: Interner,
    pub(crate) repos: Interner,
    pub(crate) repo_state: Vec<RepoState>,
    /// The repositories each entity owns (for incidents that name a commit).
    pub(crate) entity_repos: HashMap<u32, Vec<u32>>,
    pub(crate) deployments: Vec<Dep>,
    pub(crate) deployment_ix: HashMap<u64, u32>,
    pub(crate) changes: Vec<Chg>,
    pub(crate) change_ix: HashMap<(u32, Sha), u32>,
    pub(crate) extra_claims: HashMap<u32, Vec<(u16, u32)>>,
    /// Successful, counted production deployments per `(line, environment)`, by
    /// `(finished_at, id)`: the runs change sets follow.
    pub(crate) lines: HashMap<(Line, u16), Vec<u32>>,
    /// Every deployment of a line (explicit incident links search them).
    pub(crate) line_all: HashMap<Line, Vec<u32>>,
    pub(crate) incidents: Vec<Inc>,
    pub(crate) incident_ix: HashMap<u64, u32>,
    pub(crate) line_incidents: HashMap<Line, Vec<u32>>,
    /// Incidents by the reference they name (a deployment id, a sha or its abbreviation).
    pub(crate) references: HashMap<Box<str>, Vec<u32>>,
    pub(crate) alerts: Vec<AlertState>,
    pub(crate) alert_ix: HashMap<u64, u32>,
    pub(crate) dirty: Dirty,
}

impl Ledger {
    /// An empty ledger; the configuration is checked here.
    pub fn new(config: LedgerConfig) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            rules: Rules::new(config)?,
            fingerprint: None,
            recent: HashSet::new(),
            recent_order: VecDeque::new(),
            subjects: Interner::default(),
            subject_state: Vec::new(),
            entities: Interner::default(),
            environments: Interner::default(),
            repos: Interner::default(),
            repo_state: Vec::new(),
            entity_repos: HashMap::new(),
            deployments: Vec::new(),
            deployment_ix: HashMap::new(),
            changes: Vec::new(),
            change_ix: HashMap::new(),
            extra_claims: HashMap::new(),
            lines: HashMap::new(),
            line_all: HashMap::new(),
            incidents: Vec::new(),
            incident_ix: HashMap::new(),
            line_incidents: HashMap::new(),
            references: HashMap::new(),
            alerts: Vec::new(),
            alert_ix: HashMap::new(),
            dirty: Dirty::default(),
        })
    }

    /// The configuration the ledger runs with.
    pub fn config(&self) -> &LedgerConfig {
        &self.rules.config
    }

    /// Applies one delivery. `seq` is the store's sequence number of the delivery and
    /// `received_at` when it arrived (the reference for "in the future"). When
    /// `attribution` differs from the one the rows reflect (the catalog changed), the rows
    /// are re-attributed first ([`Ledger::reattribute`]) and those rows are included.
    pub fn apply(
        &mut self,
        seq: u64,
        received_at: Millis,
        delivery: &Delivery,
        attribution: &Attribution,
    ) -> Applied {
        if self.fingerprint != Some(attribution.fingerprint()) {
            self.reattribute_into(attribution);
        }
        let mut applied = Applied::default();
        if !self.remember(delivery_key(delivery.source.as_str(), &delivery.id)) {
            applied.duplicate = true;
            self.flush_into(&mut applied);
            return applied;
        }
        for event in &delivery.events {
            let subject = self.subject(event.subject(), attribution, received_at);
            if self.subject_state[subject as usize].entity == NONE {
                applied.unattributed += 1;
            }
            let source = delivery.source;
            match event {
                Event::Push(push) => self.apply_push(received_at, push),
                Event::ChangeMerged(merge) => self.apply_merge(merge),
                Event::Deployment(deployment) => self.apply_deployment(
                    seq,
                    received_at,
                    source,
                    deployment,
                    subject,
                    attribution,
                ),
                Event::Incident(incident) => self.apply_incident(seq, source, incident, subject),
                Event::Alert(alert) => self.apply_alert(seq, received_at, source, alert, subject),
                Event::Pipeline(_) | Event::Release(_) | Event::ArtifactPublished(_) => {
                    applied.unused += 1;
                }
            }
        }
        self.flush_into(&mut applied);
        applied
    }

    /// Adds commits from `git log` of a registered source (exact parents, committer dates)
    /// to the graph of `repo` (`host/slug`, see [`crate::repo_key`]). Commits the graph
    /// already has are kept as they are. Change sets that were waiting for this history are
    /// recomputed; their rows are returned.
    pub fn add_commits(&mut self, repo: &str, commits: &[ExternalCommit]) -> Applied {
        let repo = self.repo(repo, None);
        self.add_external_commits(repo, commits);
        let mut applied = Applied::default();
        self.flush_into(&mut applied);
        applied
    }

    /// Re-attributes every row after a catalog change: subjects, deployments, incidents,
    /// alerts and changes get their new entities, and change sets of lines whose
    /// deployments moved are recomputed. Only rows that changed are returned.
    pub fn reattribute(&mut self, attribution: &Attribution) -> Applied {
        self.reattribute_into(attribution);
        let mut applied = Applied::default();
        self.flush_into(&mut applied);
        applied
    }

    /// Subjects no entity claims: `(key, events, last seen)`, most events first, so a
    /// platform team can annotate or map them ([`crate::AttributionConfig::mappings`]).
    pub fn unattributed(&self) -> Vec<(String, u64, Millis)> {
        let mut list: Vec<(String, u64, Millis)> = self
            .subject_state
            .iter()
            .enumerate()
            .filter(|(_, s)| s.entity == NONE)
            .map(|(ix, s)| {
                (
                    self.subjects.name(ix as u32).to_owned(),
                    s.events,
                    s.last_seen,
                )
            })
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list
    }

    /// Counts, for sizing and logs.
    pub fn stats(&self) -> LedgerStats {
        LedgerStats {
            subjects: self.subject_state.len(),
            repositories: self.repo_state.len(),
            commits: self.repo_state.iter().map(|r| r.graph.len()).sum(),
            changes: self.changes.len(),
            deployments: self.deployments.len(),
            incidents: self.incidents.len(),
            alerts: self.alerts.len(),
        }
    }

    /// Whether `key` is new to the recent-deliveries window (and remembers it).
    fn remember(&mut self, key: u128) -> bool {
        if !self.recent.insert(key) {
            return false;
        }
        self.recent_order.push_back(key);
        if self.recent_order.len() > DEDUPE_WINDOW
            && let Some(old) = self.recent_order.pop_front()
        {
            self.recent.remove(&old);
        }
        true
    }

    /// The subject's index, interned and attributed on first sight; counts the event.
    fn subject(
        &mut self,
        subject: &Subject,
        attribution: &Attribution,
        received_at: Millis,
    ) -> u32 {
        let key = attribution.subject_key(subject);
        let ix = match self.subjects.get(&key) {
            Some(ix) => ix,
            None => {
                let ix = self.subjects.intern(&key);
                let attributed = attribution.attribute(subject);
                let entity = attributed
                    .entity
                    .as_deref()
                    .map_or(NONE, |e| self.entities.intern(e));
                self.subject_state.push(SubjectState {
                    subject: subject.clone(),
                    entity,
                    how: attributed
                        .entity
                        .is_some()
                        .then(|| attributed.how.to_string()),
                    events: 0,
                    last_seen: received_at,
                });
                if let Subject::Repository { host, slug, .. } = subject {
                    let repo = crate::attribution::repo_key(host, slug);
                    self.repo(&repo, Some(entity));
                }
                ix
            }
        };
        let state = &mut self.subject_state[ix as usize];
        state.events += 1;
        state.last_seen = state.last_seen.max(received_at);
        self.dirty.subjects.push(ix);
        ix
    }

    /// The repository's index; `entity` (when known) is the repository subject's entity.
    pub(crate) fn repo(&mut self, key: &str, entity: Option<u32>) -> u32 {
        let ix = self.repos.intern(key);
        if ix as usize == self.repo_state.len() {
            self.repo_state.push(RepoState {
                entity: NONE,
                ..RepoState::default()
            });
        }
        if let Some(entity) = entity {
            self.set_repo_entity(ix, entity);
        }
        ix
    }

    /// Sets a repository's entity, keeping [`Ledger::entity_repos`] in step.
    pub(crate) fn set_repo_entity(&mut self, repo: u32, entity: u32) {
        let old = self.repo_state[repo as usize].entity;
        if old == entity {
            return;
        }
        if let Some(list) = self.entity_repos.get_mut(&old) {
            list.retain(|&r| r != repo);
        }
        if entity != NONE {
            self.entity_repos.entry(entity).or_default().push(repo);
        }
        self.repo_state[repo as usize].entity = entity;
    }

    /// Re-attributes subjects, repositories and everything attributed through them.
    fn reattribute_into(&mut self, attribution: &Attribution) {
        self.fingerprint = Some(attribution.fingerprint());
        let mut moved_subjects = Vec::new();
        for ix in 0..self.subject_state.len() {
            let attributed = attribution.attribute(&self.subject_state[ix].subject);
            let entity = attributed
                .entity
                .as_deref()
                .map_or(NONE, |e| self.entities.intern(e));
            let how = attributed
                .entity
                .is_some()
                .then(|| attributed.how.to_string());
            let state = &mut self.subject_state[ix];
            if state.entity != entity || state.how != how {
                if state.entity != entity {
                    moved_subjects.push(ix as u32);
                }
                state.entity = entity;
                state.how = how;
                self.dirty.subjects.push(ix as u32);
            }
        }
        let mut repos_moved = Vec::new();
        for ix in 0..self.repo_state.len() {
            let entity = repo_entity(attribution, self.repos.name(ix as u32))
                .map_or(NONE, |e| self.entities.intern(&e));
            if self.repo_state[ix].entity != entity {
                self.set_repo_entity(ix as u32, entity);
                repos_moved.push(ix as u32);
            }
        }
        self.reattribute_deployments(attribution);
        self.reattribute_incidents_and_alerts();
        if !repos_moved.is_empty() {
            // A change's entity is its repository's: those of moved repositories change.
            let moved: HashSet<u32> = repos_moved.into_iter().collect();
            for (c, change) in self.changes.iter().enumerate() {
                if moved.contains(&change.repo) {
                    self.dirty.changes.push(c as u32);
                }
            }
        }
    }

    /// Turns dirty state into rows.
    fn flush_into(&mut self, applied: &mut Applied) {
        let mut dirty = std::mem::take(&mut self.dirty);
        applied.rows.append(&mut dirty.rows);
        applied.notes.append(&mut dirty.notes);
        for list in [
            &mut dirty.subjects,
            &mut dirty.changes,
            &mut dirty.deployments,
            &mut dirty.incidents,
            &mut dirty.alerts,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        for &s in &dirty.subjects {
            applied.rows.push(Row::Subject(self.subject_row(s)));
        }
        for &c in &dirty.changes {
            applied.rows.push(Row::Change(self.change_row(c)));
        }
        for &d in &dirty.deployments {
            applied.rows.push(Row::Deployment(self.deployment_row(d)));
        }
        for &i in &dirty.incidents {
            applied.rows.push(Row::Incident(self.incident_row(i)));
        }
        for &a in &dirty.alerts {
            applied.rows.push(Row::Alert(self.alert_row(a)));
        }
    }

    pub(crate) fn subject_row(&self, s: u32) -> SubjectRow {
        let state = &self.subject_state[s as usize];
        SubjectRow {
            key: self.subjects.name(s).to_owned(),
            subject: state.subject.clone(),
            entity: self.entity_name(state.entity),
            how: state.how.clone(),
            events: state.events,
            last_seen: state.last_seen,
        }
    }

    pub(crate) fn entity_name(&self, entity: u32) -> Option<String> {
        (entity != NONE).then(|| self.entities.name(entity).to_owned())
    }
}

/// The entity of a repository key, attributed as its repository subject would be.
pub(crate) fn repo_entity(attribution: &Attribution, key: &str) -> Option<String> {
    let (host, slug) = key.split_once('/')?;
    attribution
        .attribute(&Subject::Repository {
            host: host.to_owned(),
            slug: slug.to_owned(),
            url: String::new(),
        })
        .entity
}

/// A commit from `git log` (`%H %ct %P`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExternalCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub committed_at: Millis,
}

/// How much a ledger holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LedgerStats {
    pub subjects: usize,
    pub repositories: usize,
    pub commits: usize,
    pub changes: usize,
    pub deployments: usize,
    pub incidents: usize,
    pub alerts: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_in_memory_stay_small() {
        // What one change and one deployment cost besides their index entries; the commit
        // graph (pave-dora's) is extra.
        assert!(
            std::mem::size_of::<Chg>() <= 72,
            "{}",
            std::mem::size_of::<Chg>()
        );
        assert!(
            std::mem::size_of::<Dep>() <= 248,
            "{}",
            std::mem::size_of::<Dep>()
        );
    }
}
