//! Commits, changes and change sets.
//!
//! **The commit graph** of each repository (a `pave_dora::changeset::CommitGraph`) is built
//! from pushes and, when a git source is registered, from `git log`
//! ([`Ledger::add_commits`]). A push lists the commits `before..after`, oldest first, without
//! their parents; the ledger infers them:
//!
//! * each commit new to the graph gets the commit listed before it as its parent, and the
//!   first listed commit gets `before` (unless the push created the branch: `before` is all
//!   zeros);
//! * commits the graph already has keep the parents they were given first (`git log`'s are
//!   exact; a push's are the best guess);
//! * when the first listed commit was already known (a merge whose branch was pushed
//!   before) or the push is truncated (GitLab lists the newest 20), `after` also gets
//!   `before` as a parent: a non-forced push moves the branch forward, so `before` is an
//!   ancestor of `after`, and what was reachable stays reachable;
//! * a **force push** starts a new line: its first new commit gets no parent (the old head
//!   is not an ancestor).
//!
//! A truncated push is noted: only `git log` can bring the commits it left out. Inferred
//! parents are a guess: when a commit reaches the ledger first in a merge push and later
//! in its feature branch's push (or the other way round), it keeps the parents of the first,
//! so what a feature branch's head reaches may depend on arrival order; what the default
//! branch's heads reach (what deployments ship) does not.
//!
//! **Changes** are commits that matter for lead time: the commits of pushes to the default
//! branch (`main` or `master` when the sender does not say), the commits merged pull or merge
//! requests name (`merge_sha`; with only the merge, `committed_at` is the merge time until a
//! push or `git log` brings the commit), and every commit a production deployment shipped.
//! A change's entity is its repository's, else that of the first deployment that shipped it.
//!
//! **Change sets.** The successful, not excluded production deployments of one entity (or,
//! unattributed, one subject) to one environment form a line in `(finished_at, id)` order.
//! A deployment shipped the commits reachable from its sha and not from the sha of the
//! deployment before it in the line (`pave_dora::changeset::shipped`: first deployments
//! look back 30 days, walks stop at 10,000 commits). Each shipped change gets, for that
//! environment, the **first** deployment that shipped it: the earliest by `(finished_at,
//! id)` when several did (a rollback and a redeploy ship the same commits again). The
//! deployment records how many commits it shipped, the previous deployment, whether the list
//! may be incomplete and why, and which sources (pushes, `git log`) its commits came from.
//!
//! A deployment whose sha is not in the graph gets no changes and the reason `unknown_sha`.
//! Change sets are recomputed when what they depend on changes, so the result does not
//! depend on arrival order: from a deployment's place onwards when it joins, leaves or moves
//! in its line (a late status update, a deployment that finished earlier arriving later),
//! and for deployments whose change set was incomplete when commits arrive that complete it
//! (its sha or the previous sha becomes known, or history is filled in below a boundary).
//! A change that loses its first deployment goes to the earliest other deployment (of any
//! line of the same repository and environment) that shipped it, or to none.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use pave_dora::changeset::{Extended, ShippedReason, shipped};
use pave_events::{ChangeMerged, Millis, Push, Subject};

use super::{Chg, ExternalCommit, Ledger, Line};
use crate::attribution::repo_key;
use crate::keys::{NONE, Sha};
use crate::rows::{
    ChangeRow, ChangeSource, ChangesetReason, CommitRow, CommitSource, Row, ShippedIn,
};

/// What a deployment shipped (see [`crate::rows::ChangesetRow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Changeset {
    /// The previous deployment of the line, or [`NONE`].
    pub(crate) previous: u32,
    pub(crate) commits: u32,
    pub(crate) truncated: bool,
    pub(crate) reason: Option<ChangesetReason>,
    pub(crate) from_push: bool,
    pub(crate) from_git: bool,
}

impl Changeset {
    pub(crate) fn sources(&self) -> Vec<CommitSource> {
        let mut sources = Vec::new();
        if self.from_push {
            sources.push(CommitSource::Push);
        }
        if self.from_git {
            sources.push(CommitSource::Git);
        }
        sources
    }
}

fn is_null_sha(sha: &str) -> bool {
    sha.trim().is_empty() || sha.trim().bytes().all(|b| b == b'0')
}

impl Ledger {
    pub(crate) fn apply_push(&mut self, received_at: Millis, push: &Push) {
        let Subject::Repository { host, slug, .. } = &push.subject else {
            return;
        };
        let repo_name = repo_key(host, slug);
        let repo = self.repo(&repo_name, None);
        let before = push.before.trim().to_ascii_lowercase();
        let after = push.after.trim().to_ascii_lowercase();
        let fresh_branch = is_null_sha(&before);
        let mut previous: Option<String> =
            (!push.forced && !fresh_branch && !push.truncated).then(|| before.clone());
        let mut chained_to_before = false;
        let mut seen = HashSet::new();
        let mut batch: Vec<(String, Vec<String>, Millis)> = Vec::new();
        {
            let graph = &self.repo_state[repo as usize].graph;
            for (i, commit) in push.commits.iter().enumerate() {
                let sha = commit.sha.trim().to_ascii_lowercase();
                if sha.is_empty() || !seen.insert(sha.clone()) {
                    continue;
                }
                if graph.commit(&sha).is_some() {
                    previous = Some(sha);
                    continue;
                }
                if i == 0 && previous.is_some() {
                    chained_to_before = true;
                }
                let committed_at = commit
                    .committed_at
                    .or(push.pushed_at)
                    .unwrap_or(received_at);
                batch.push((
                    sha.clone(),
                    previous.take().into_iter().collect(),
                    committed_at,
                ));
                previous = Some(sha);
            }
        }
        if !push.forced
            && !fresh_branch
            && !chained_to_before
            && let Some(head) = batch.iter_mut().find(|(sha, _, _)| *sha == after)
            && !head.1.contains(&before)
        {
            head.1.push(before.clone());
        }
        if push.truncated {
            self.dirty.notes.push(format!(
                "push to {repo_name} {}: the sender listed {} of {} commits; the rest need \
                 `git log` (add_commits)",
                push.branch,
                push.commits.len(),
                push.total_commits
                    .map_or_else(|| "more".to_owned(), |n| n.to_string()),
            ));
        }
        let default_branch = push
            .default_branch
            .as_deref()
            .map_or(matches!(push.branch.as_str(), "main" | "master"), |d| {
                d == push.branch
            });
        let added: Vec<(Sha, Millis)> = batch
            .iter()
            .map(|(sha, _, at)| (Sha::new(sha), *at))
            .collect();
        let Some(extended) = self.extend_graph(repo, batch, CommitSource::Push) else {
            return;
        };
        for (sha, at) in added {
            if default_branch || self.change_ix.contains_key(&(repo, sha.clone())) {
                self.change_for(repo, sha, at, ChangeSource::Push);
            }
        }
        self.settle(repo, extended.filled > 0);
    }

    pub(crate) fn apply_merge(&mut self, merge: &ChangeMerged) {
        let (Subject::Repository { host, slug, .. }, Some(merge_sha)) =
            (&merge.subject, merge.merge_sha.as_deref())
        else {
            return;
        };
        let repo = self.repo(&repo_key(host, slug), None);
        let sha = Sha::new(merge_sha);
        let state = &self.repo_state[repo as usize];
        let known = state.graph.commit(&sha.to_string()).map(|c| c.committed_at);
        let source = match known {
            Some(_) if state.git.contains(&sha) => ChangeSource::Git,
            Some(_) => ChangeSource::Push,
            None => ChangeSource::Merge,
        };
        let c = self.change_for(repo, sha, known.unwrap_or(merge.merged_at), source);
        let hotfix = merge.labels.iter().any(|l| self.rules.is_hotfix(l))
            || merge
                .head_branch
                .as_deref()
                .is_some_and(|b| self.rules.is_hotfix(b));
        let change = &mut self.changes[c as usize];
        let before = (change.merged_at, change.number, change.hotfix);
        super::deployments::min_some(&mut change.merged_at, Some(merge.merged_at));
        super::deployments::min_some(
            &mut change.number,
            merge.number.and_then(|n| u32::try_from(n).ok()),
        );
        change.hotfix |= hotfix;
        let hotfix_changed = change.hotfix != before.2;
        if (change.merged_at, change.number, change.hotfix) != before {
            self.dirty.changes.push(c);
        }
        if hotfix_changed {
            // Deployments that shipped it first are hotfixes now: their rows, and the
            // incidents they may have fixed.
            for (_, d) in self.claims_of(c) {
                self.dirty.deployments.push(d);
                let line = self.deployments[d as usize].line();
                self.relink_line(line);
            }
        }
    }

    pub(crate) fn add_external_commits(&mut self, repo: u32, commits: &[ExternalCommit]) {
        let mut batch = Vec::new();
        let mut kept = 0usize;
        {
            let graph = &self.repo_state[repo as usize].graph;
            for commit in commits {
                let sha = commit.sha.trim().to_ascii_lowercase();
                if graph.commit(&sha).is_some() {
                    kept += 1;
                    continue;
                }
                let parents = commit
                    .parents
                    .iter()
                    .map(|p| p.trim().to_ascii_lowercase())
                    .collect();
                batch.push((sha, parents, commit.committed_at));
            }
        }
        if kept > 0 {
            self.dirty.notes.push(format!(
                "{}: {kept} commit(s) already in the graph were kept as they were",
                self.repos.name(repo)
            ));
        }
        let added: Vec<(Sha, Millis)> = batch
            .iter()
            .map(|(sha, _, at)| (Sha::new(sha), *at))
            .collect();
        let Some(extended) = self.extend_graph(repo, batch, CommitSource::Git) else {
            return;
        };
        for (sha, at) in added {
            if self.change_ix.contains_key(&(repo, sha.clone())) {
                self.change_for(repo, sha, at, ChangeSource::Git);
            }
        }
        self.settle(repo, extended.filled > 0);
    }

    /// Adds new commits to a repository's graph and writes their rows; a history that
    /// contradicts itself (a parent cycle) is noted and nothing is added.
    fn extend_graph(
        &mut self,
        repo: u32,
        batch: Vec<(String, Vec<String>, Millis)>,
        source: CommitSource,
    ) -> Option<Extended> {
        let state = &mut self.repo_state[repo as usize];
        let result = state.graph.extend(
            batch
                .iter()
                .map(|(sha, parents, at)| (sha.as_str(), parents.iter().map(String::as_str), *at)),
        );
        match result {
            Ok(extended) => {
                let repo_name = self.repos.name(repo).to_owned();
                for (sha, parents, committed_at) in batch {
                    if source == CommitSource::Git {
                        state.git.insert(Sha::new(&sha));
                    }
                    self.dirty.rows.push(Row::Commit(CommitRow {
                        repo: repo_name.clone(),
                        sha,
                        parents,
                        committed_at,
                        source,
                    }));
                }
                Some(extended)
            }
            Err(error) => {
                self.dirty.notes.push(format!(
                    "{}: commits not added: {error}",
                    self.repos.name(repo)
                ));
                None
            }
        }
    }

    /// Recomputes the change sets of `repo`'s deployments that the new commits may complete.
    fn settle(&mut self, repo: u32, filled: bool) {
        let waiting: Vec<u32> = self.repo_state[repo as usize]
            .incomplete
            .iter()
            .copied()
            .collect();
        let mut starts: BTreeMap<(Line, u16), usize> = BTreeMap::new();
        for d in waiting {
            let dep = &self.deployments[d as usize];
            let graph = &self.repo_state[repo as usize].graph;
            let completes = match dep.changeset.as_ref().and_then(|c| c.reason.as_ref()) {
                Some(ChangesetReason::UnknownSha) => dep
                    .sha
                    .as_ref()
                    .is_some_and(|sha| graph.commit(&sha.to_string()).is_some()),
                Some(ChangesetReason::UnknownPrevious { sha }) => graph.commit(sha).is_some(),
                Some(ChangesetReason::HistoryBoundary { .. }) => filled,
                _ => false,
            };
            if completes && let Some((key, _)) = dep.place() {
                let position = self
                    .lines
                    .get(&key)
                    .and_then(|list| list.iter().position(|&x| x == d))
                    .unwrap_or(0);
                let start = starts.entry(key).or_insert(position);
                *start = (*start).min(position);
            }
        }
        for (key, from) in starts {
            self.recompute_line(key, from, true);
        }
    }

    /// Recomputes the change sets of a line from position `from` on (see the module docs);
    /// `chase_orphans`: changes left without a first deployment are offered to the other
    /// lines of their repository.
    pub(crate) fn recompute_line(&mut self, key: (Line, u16), from: usize, chase_orphans: bool) {
        let Some(list) = self.lines.get(&key) else {
            return;
        };
        let from = from.min(list.len());
        let window: Vec<u32> = list[from.saturating_sub(1)..].to_vec();
        let first = usize::from(from > 0);
        let env = key.1;
        let mut orphans = Vec::new();
        for &d in &window[first..] {
            for c in std::mem::take(&mut self.deployments[d as usize].claimed) {
                if self.claim(c, env) == d {
                    self.set_claim(c, env, NONE);
                    orphans.push(c);
                }
            }
        }
        for i in first..window.len() {
            let previous = if i > 0 { window[i - 1] } else { NONE };
            self.compute_changeset(window[i], previous, env);
        }
        if chase_orphans {
            self.chase(orphans, env, key);
        }
        self.relink_line(key.0);
    }

    /// Offers changes left without a first deployment to the other lines of their
    /// repositories in `env` (recomputed whole: a rare path, for repositories several
    /// entities deploy from).
    pub(crate) fn chase(&mut self, mut orphans: Vec<u32>, env: u16, except: (Line, u16)) {
        orphans.retain(|&c| self.claim(c, env) == NONE);
        if orphans.is_empty() {
            return;
        }
        let repos: BTreeSet<u32> = orphans
            .iter()
            .map(|&c| self.changes[c as usize].repo)
            .collect();
        let mut others = BTreeSet::new();
        for repo in repos {
            for &line in &self.repo_state[repo as usize].lines {
                if line.1 == env && line != except {
                    others.insert(line);
                }
            }
        }
        for other in others {
            self.recompute_line(other, 0, false);
        }
    }

    fn compute_changeset(&mut self, d: u32, previous: u32, env: u16) {
        let dep = &self.deployments[d as usize];
        let repo = dep.repo;
        let previous_sha = (previous != NONE)
            .then(|| self.deployments[previous as usize].sha.as_ref())
            .flatten()
            .map(Sha::to_string);
        let mut changeset = Changeset {
            previous,
            commits: 0,
            truncated: true,
            reason: None,
            from_push: false,
            from_git: false,
        };
        let walked: Vec<(Sha, Millis)> = match (&dep.sha, repo) {
            (_, NONE) => {
                changeset.reason = Some(ChangesetReason::NoRepository);
                Vec::new()
            }
            (None, _) => {
                changeset.reason = Some(ChangesetReason::NoSha);
                Vec::new()
            }
            (Some(sha), _) => {
                let graph = &self.repo_state[repo as usize].graph;
                let result = shipped(
                    graph,
                    previous_sha.as_deref(),
                    &sha.to_string(),
                    &self.rules.limits,
                );
                changeset.truncated = result.truncated;
                changeset.reason = result.reason.map(|reason| match reason {
                    ShippedReason::UnknownSha { .. } => ChangesetReason::UnknownSha,
                    ShippedReason::Cap { limit } => ChangesetReason::Cap { limit },
                    ShippedReason::HistoryBoundary { missing } => {
                        ChangesetReason::HistoryBoundary { missing }
                    }
                    ShippedReason::FirstDeployment { since } => {
                        ChangesetReason::FirstDeployment { since }
                    }
                    ShippedReason::UnknownPrevious { sha, .. } => {
                        ChangesetReason::UnknownPrevious { sha }
                    }
                });
                result
                    .commits
                    .iter()
                    .map(|c| (Sha::new(c.sha), c.committed_at))
                    .collect()
            }
        };
        changeset.commits = u32::try_from(walked.len()).unwrap_or(u32::MAX);
        for (sha, committed_at) in walked {
            let source = if self.repo_state[repo as usize].git.contains(&sha) {
                changeset.from_git = true;
                ChangeSource::Git
            } else {
                changeset.from_push = true;
                ChangeSource::Push
            };
            let c = self.change_for(repo, sha, committed_at, source);
            self.offer(c, env, d);
        }
        if repo != NONE {
            let incomplete = &mut self.repo_state[repo as usize].incomplete;
            if changeset
                .reason
                .as_ref()
                .is_some_and(ChangesetReason::is_incomplete)
            {
                incomplete.insert(d);
            } else {
                incomplete.remove(&d);
            }
        }
        let dep = &mut self.deployments[d as usize];
        if dep.changeset.as_ref() != Some(&changeset) {
            dep.changeset = Some(changeset);
            self.dirty.deployments.push(d);
        }
    }

    /// The change `(repo, sha)`, created when new; a change known only from its merge takes
    /// the commit's date once a push or `git log` brings it.
    fn change_for(
        &mut self,
        repo: u32,
        sha: Sha,
        committed_at: Millis,
        source: ChangeSource,
    ) -> u32 {
        if let Some(&c) = self.change_ix.get(&(repo, sha.clone())) {
            let change = &mut self.changes[c as usize];
            if change.source == ChangeSource::Merge && source != ChangeSource::Merge {
                change.committed_at = committed_at;
                change.source = source;
                self.dirty.changes.push(c);
            }
            return c;
        }
        let c = self.changes.len() as u32;
        self.changes.push(Chg {
            sha: sha.clone(),
            committed_at,
            merged_at: None,
            repo,
            number: None,
            claim: NONE,
            claim_env: 0,
            source,
            hotfix: false,
        });
        self.change_ix.insert((repo, sha), c);
        self.dirty.changes.push(c);
        c
    }

    /// The first deployment that shipped change `c` in `env`, or [`NONE`].
    pub(crate) fn claim(&self, c: u32, env: u16) -> u32 {
        let change = &self.changes[c as usize];
        if change.claim != NONE && change.claim_env == env {
            return change.claim;
        }
        self.extra_claims
            .get(&c)
            .and_then(|list| list.iter().find(|(e, _)| *e == env))
            .map_or(NONE, |&(_, d)| d)
    }

    /// Every `(environment, deployment)` that shipped `c` first.
    pub(crate) fn claims_of(&self, c: u32) -> Vec<(u16, u32)> {
        let change = &self.changes[c as usize];
        let mut claims: Vec<(u16, u32)> = Vec::new();
        if change.claim != NONE {
            claims.push((change.claim_env, change.claim));
        }
        if let Some(extra) = self.extra_claims.get(&c) {
            claims.extend(extra.iter().copied());
        }
        claims
    }

    pub(crate) fn set_claim(&mut self, c: u32, env: u16, d: u32) {
        self.dirty.changes.push(c);
        let change = &mut self.changes[c as usize];
        if change.claim != NONE && change.claim_env == env {
            if d != NONE {
                change.claim = d;
                return;
            }
            // Promote another environment's claim into the inline slot.
            match self.extra_claims.get_mut(&c).and_then(Vec::pop) {
                Some((e, x)) => {
                    change.claim = x;
                    change.claim_env = e;
                }
                None => change.claim = NONE,
            }
            if self.extra_claims.get(&c).is_some_and(Vec::is_empty) {
                self.extra_claims.remove(&c);
            }
            return;
        }
        if d == NONE {
            if let Some(list) = self.extra_claims.get_mut(&c) {
                list.retain(|(e, _)| *e != env);
                if list.is_empty() {
                    self.extra_claims.remove(&c);
                }
            }
            return;
        }
        if change.claim == NONE {
            change.claim = d;
            change.claim_env = env;
            return;
        }
        let list = self.extra_claims.entry(c).or_default();
        match list.iter_mut().find(|(e, _)| *e == env) {
            Some(slot) => slot.1 = d,
            None => list.push((env, d)),
        }
    }

    /// `d` shipped `c` to `env`: it becomes the first deployment if it is earlier than the
    /// current one (or there is none).
    fn offer(&mut self, c: u32, env: u16, d: u32) {
        let current = self.claim(c, env);
        if current == d {
            if !self.deployments[d as usize].claimed.contains(&c) {
                self.deployments[d as usize].claimed.push(c);
            }
            return;
        }
        if current != NONE
            && self.deployments[current as usize].order() <= self.deployments[d as usize].order()
        {
            return;
        }
        if current != NONE {
            let claimed = &mut self.deployments[current as usize].claimed;
            if let Some(p) = claimed.iter().position(|&x| x == c) {
                claimed.swap_remove(p);
            }
            self.dirty.deployments.push(current);
        }
        self.set_claim(c, env, d);
        self.deployments[d as usize].claimed.push(c);
    }

    /// Deployment `d` no longer ships anything to `env` (it left its line); returns the
    /// changes left without a first deployment.
    pub(crate) fn release_claims(&mut self, d: u32, env: u16) -> Vec<u32> {
        let mut released = Vec::new();
        for c in std::mem::take(&mut self.deployments[d as usize].claimed) {
            if self.claim(c, env) == d {
                self.set_claim(c, env, NONE);
                released.push(c);
            }
        }
        released
    }

    pub(crate) fn clear_changeset(&mut self, d: u32) {
        let dep = &mut self.deployments[d as usize];
        if dep.changeset.take().is_some() {
            self.dirty.deployments.push(d);
        }
        let repo = dep.repo;
        if repo != NONE {
            self.repo_state[repo as usize].incomplete.remove(&d);
        }
    }

    /// A change's entity: its repository's, else its first deployment's.
    pub(crate) fn change_entity(&self, c: u32) -> u32 {
        let change = &self.changes[c as usize];
        let repo_entity = self.repo_state[change.repo as usize].entity;
        if repo_entity != NONE {
            return repo_entity;
        }
        self.claims_of(c)
            .into_iter()
            .map(|(_, d)| &self.deployments[d as usize])
            .min_by_key(|d| d.order())
            .map_or(NONE, |d| d.entity)
    }

    pub(crate) fn change_row(&self, c: u32) -> ChangeRow {
        let change = &self.changes[c as usize];
        let mut shipped: Vec<ShippedIn> = self
            .claims_of(c)
            .into_iter()
            .map(|(env, d)| ShippedIn {
                environment: self.environments.name(u32::from(env)).to_owned(),
                deployment: self.deployments[d as usize].id,
            })
            .collect();
        shipped.sort_by(|a, b| a.environment.cmp(&b.environment));
        ChangeRow {
            repo: self.repos.name(change.repo).to_owned(),
            sha: change.sha.to_string(),
            entity: self.entity_name(self.change_entity(c)),
            committed_at: change.committed_at,
            source: change.source,
            merged_at: change.merged_at,
            number: change.number.map(u64::from),
            hotfix: change.hotfix,
            shipped,
        }
    }
}
