//! Change sets: which commits a deployment shipped.
//!
//! The commits a production deployment shipped are the commits reachable from its sha but not
//! from the sha the same entity and environment ran before (`git rev-list sha ^previous`),
//! over a commit graph built from push events or `git log`. Unlike Four Keys (the commits of
//! the single push whose head is the deployed sha) this finds commits pushed earlier and
//! deployed later; unlike a push payload it has no 20- or 2,048-commit cap.
//!
//! The walk goes newest first by **generation number** (1 + the largest generation of the
//! parents), not by commit date, so clock skew cannot make it stop early or late: when a
//! commit is taken from the queue, every commit above it has been taken already, so whether
//! `previous` reaches it is settled. The walk stops as soon as no commit reachable only from
//! `sha` remains in the queue, so it costs about the size of the change set, not the history.
//!
//! Edges and limits, each said in [`Shipped::reason`] (most important first when several
//! apply: unknown sha, cap, history boundary, first deployment / unknown previous):
//!
//! * **Unknown sha** (not in the graph): nothing is known to be shipped.
//! * **First deployment** (`previous` is `None`) or **unknown previous**: every ancestor would
//!   count, so one deployment would "absorb months of old PRs" (DevLake #7193). Only commits
//!   committed at most [`Limits::first_deployment_lookback_ms`] (default 30 days) before the
//!   deployed commit are taken, and the walk does not go past older ones.
//! * **Cap**: at most [`Limits::max_commits`] commits are visited (default 10,000).
//! * **History boundary**: a parent that is not in the graph (a shallow or partial history).
//!
//! `truncated` is true when the list may be incomplete (or, past a boundary of `previous`'s
//! history, include commits `previous` had in fact shipped).

use std::collections::{BinaryHeap, HashMap};

use crate::facts::Millis;

/// How far a walk may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// At most this many commits are visited (both sides of the walk).
    pub max_commits: usize,
    /// Without a (known) previous sha, commits older than the deployed commit by more than
    /// this are left out.
    pub first_deployment_lookback_ms: Millis,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_commits: 10_000,
            first_deployment_lookback_ms: 30 * 86_400_000,
        }
    }
}

/// A commit of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit<'g> {
    pub sha: &'g str,
    pub committed_at: Millis,
}

/// Why a change set is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShippedReason {
    /// The deployed sha is not in the graph.
    UnknownSha { sha: String },
    /// The walk stopped after visiting `limit` commits.
    Cap { limit: usize },
    /// The walk reached `missing` parents that are not in the graph.
    HistoryBoundary { missing: usize },
    /// No previous deployment: commits committed at or after `since` only.
    FirstDeployment { since: Millis },
    /// The previous sha is not in the graph; treated as a first deployment.
    UnknownPrevious { sha: String, since: Millis },
}

impl std::fmt::Display for ShippedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShippedReason::UnknownSha { sha } => {
                write!(f, "deployed commit {sha} is not in the commit history")
            }
            ShippedReason::Cap { limit } => {
                write!(f, "stopped after {limit} commits (the walk's cap)")
            }
            ShippedReason::HistoryBoundary { missing } => write!(
                f,
                "reached {missing} parent commit(s) missing from the history (shallow or partial)"
            ),
            ShippedReason::FirstDeployment { since } => write!(
                f,
                "first deployment: only commits since {} (lookback)",
                pave_stdx::time::iso8601_utc(since.div_euclid(1000))
            ),
            ShippedReason::UnknownPrevious { sha, since } => write!(
                f,
                "previous deployed commit {sha} is not in the commit history: only commits \
                 since {} (lookback)",
                pave_stdx::time::iso8601_utc(since.div_euclid(1000))
            ),
        }
    }
}

/// The commits a deployment shipped, newest first (children before parents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped<'g> {
    pub commits: Vec<Commit<'g>>,
    /// The list may be incomplete (see the module docs).
    pub truncated: bool,
    pub reason: Option<ShippedReason>,
}

/// Bad commit history input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangesetError {
    #[error("commit {sha} is its own ancestor: the parent links form a cycle")]
    Cycle { sha: String },
    #[error("commit {sha} was given twice with different parents or dates")]
    Conflicting { sha: String },
    #[error("line {line}, column {column}: {message}")]
    GitLog {
        line: usize,
        column: usize,
        message: String,
    },
}

/// A commit graph: sha → parents and commit time, with generation numbers.
#[derive(Debug, Clone, Default)]
pub struct CommitGraph {
    ids: HashMap<Box<str>, u32>,
    shas: Vec<Box<str>>,
    /// `None` for a sha only named as a parent (outside the known history).
    committed_at: Vec<Option<Millis>>,
    parents: Vec<Vec<u32>>,
    /// 0 for a sha outside the known history.
    generation: Vec<u32>,
}

/// Collects commits in any order; [`CommitGraphBuilder::finish`] checks and indexes them.
#[derive(Debug, Default)]
pub struct CommitGraphBuilder {
    graph: CommitGraph,
}

impl CommitGraphBuilder {
    /// Adds a commit (parents may be added before or after it). Adding the same commit again
    /// (same parents and date, as repeated push events do) is accepted; the same sha with
    /// other parents or another date is an error.
    pub fn add<'s>(
        &mut self,
        sha: &str,
        parents: impl IntoIterator<Item = &'s str>,
        committed_at: Millis,
    ) -> Result<(), ChangesetError> {
        let g = &mut self.graph;
        let ix = g.intern(sha);
        let parent_ixs: Vec<u32> = parents.into_iter().map(|p| g.intern(p)).collect();
        match g.committed_at[ix as usize] {
            None => {
                g.committed_at[ix as usize] = Some(committed_at);
                g.parents[ix as usize] = parent_ixs;
                Ok(())
            }
            Some(at) if at == committed_at && g.parents[ix as usize] == parent_ixs => Ok(()),
            Some(_) => Err(ChangesetError::Conflicting {
                sha: sha.to_owned(),
            }),
        }
    }

    /// Computes generation numbers; a parent cycle is an error.
    pub fn finish(mut self) -> Result<CommitGraph, ChangesetError> {
        self.graph.generation = vec![0; self.graph.shas.len()];
        self.graph.compute_generations(0)?;
        Ok(self.graph)
    }
}

/// What [`CommitGraph::extend`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extended {
    /// Commits new to the graph (including the next count).
    pub added: usize,
    /// Of those, shas the graph knew only as a parent: history filled in below commits already
    /// there, which can change change sets computed before (they met a history boundary).
    pub filled: usize,
}

impl CommitGraph {
    /// A builder to add commits to.
    pub fn builder() -> CommitGraphBuilder {
        CommitGraphBuilder::default()
    }

    /// Adds commits to a finished graph, as pushes and `git log` of a registered source bring
    /// them, in any order (children before parents too). A commit already in the graph with
    /// the same parents and date is skipped; with other parents or another date it is
    /// [`ChangesetError::Conflicting`]. Generation numbers are extended for new commits only,
    /// unless a sha the graph knew only as a parent is filled in: then they are recomputed
    /// once for the whole graph. On error (a conflict, or a parent cycle) the graph is left
    /// as it was.
    pub fn extend<'s, P>(
        &mut self,
        commits: impl IntoIterator<Item = (&'s str, P, Millis)>,
    ) -> Result<Extended, ChangesetError>
    where
        P: IntoIterator<Item = &'s str>,
    {
        let old_len = self.shas.len();
        let mut filled: Vec<u32> = Vec::new();
        let mut added = 0usize;
        let mut result = Ok(());
        for (sha, parents, committed_at) in commits {
            let ix = self.intern(sha);
            let parent_ixs: Vec<u32> = parents.into_iter().map(|p| self.intern(p)).collect();
            match self.committed_at[ix as usize] {
                None => {
                    self.committed_at[ix as usize] = Some(committed_at);
                    self.parents[ix as usize] = parent_ixs;
                    added += 1;
                    if (ix as usize) < old_len {
                        filled.push(ix);
                    }
                }
                Some(at) if at == committed_at && self.parents[ix as usize] == parent_ixs => {}
                Some(_) => {
                    result = Err(ChangesetError::Conflicting {
                        sha: sha.to_owned(),
                    });
                    break;
                }
            }
        }
        let saved_generation = (!filled.is_empty()).then(|| self.generation.clone());
        let result = result.and_then(|()| {
            if filled.is_empty() {
                self.compute_generations(old_len)
            } else {
                self.generation.iter_mut().for_each(|g| *g = 0);
                self.compute_generations(0)
            }
        });
        match result {
            Ok(()) => Ok(Extended {
                added,
                filled: filled.len(),
            }),
            Err(error) => {
                for &ix in &filled {
                    self.committed_at[ix as usize] = None;
                    self.parents[ix as usize].clear();
                }
                for sha in self.shas.drain(old_len..) {
                    self.ids.remove(&sha);
                }
                self.committed_at.truncate(old_len);
                self.parents.truncate(old_len);
                self.generation.truncate(old_len);
                if let Some(saved) = saved_generation {
                    self.generation = saved;
                }
                Err(error)
            }
        }
    }

    /// Generation numbers of commits `from..`, those below `from` being final (a depth-first
    /// walk without recursion); a parent cycle is an error.
    fn compute_generations(&mut self, from: usize) -> Result<(), ChangesetError> {
        let n = self.shas.len();
        self.generation.resize(n, 0);
        // Commits below `from` are done; the walk's state covers only the others, so that
        // extending a large graph by a push costs the push, not the graph.
        // 0: not seen, 1: on the current path, 2: done.
        let mut state = vec![0u8; n - from];
        let state_of = |state: &[u8], ix: u32| -> u8 {
            (ix as usize).checked_sub(from).map_or(2, |i| state[i])
        };
        let mut stack: Vec<(u32, usize)> = Vec::new();
        for start in from as u32..n as u32 {
            if state_of(&state, start) != 0 {
                continue;
            }
            stack.push((start, 0));
            state[start as usize - from] = 1;
            while let Some(top) = stack.last_mut() {
                let (c, next) = *top;
                top.1 += 1;
                let parents = &self.parents[c as usize];
                if let Some(&p) = parents.get(next) {
                    match state_of(&state, p) {
                        0 => {
                            state[p as usize - from] = 1;
                            stack.push((p, 0));
                        }
                        1 => {
                            return Err(ChangesetError::Cycle {
                                sha: self.shas[p as usize].to_string(),
                            });
                        }
                        _ => {}
                    }
                } else {
                    let generation = if self.committed_at[c as usize].is_none() {
                        0
                    } else {
                        1 + parents
                            .iter()
                            .map(|&p| self.generation[p as usize])
                            .max()
                            .unwrap_or(0)
                    };
                    self.generation[c as usize] = generation;
                    state[c as usize - from] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    /// Reads `git log --format='%H %ct %P'` output: one commit per line, sha, committer date
    /// in Unix seconds, then the parent shas. Blank lines are skipped.
    pub fn from_git_log(text: &str) -> Result<CommitGraph, ChangesetError> {
        let mut builder = CommitGraph::builder();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<(usize, &str)> = line
                .split(' ')
                .scan(0usize, |offset, field| {
                    let at = *offset;
                    *offset += field.len() + 1;
                    Some((at, field))
                })
                .filter(|(_, f)| !f.is_empty())
                .collect();
            let Some(&(_, sha)) = fields.first() else {
                continue;
            };
            let error = |column: usize, message: String| ChangesetError::GitLog {
                line: n + 1,
                column: column + 1,
                message,
            };
            let &(date_at, date) = fields
                .get(1)
                .ok_or_else(|| error(line.len(), "expected the committer date (%ct)".into()))?;
            let seconds: i64 = date
                .parse()
                .map_err(|_| error(date_at, format!("`{date}` is not a Unix time in seconds")))?;
            let committed_at = seconds
                .checked_mul(1000)
                .ok_or_else(|| error(date_at, format!("`{date}` is out of range")))?;
            builder
                .add(sha, fields[2..].iter().map(|&(_, p)| p), committed_at)
                .map_err(|e| error(0, e.to_string()))?;
        }
        builder.finish()
    }

    fn intern(&mut self, sha: &str) -> u32 {
        if let Some(&ix) = self.ids.get(sha) {
            return ix;
        }
        let ix = self.shas.len() as u32;
        self.ids.insert(sha.into(), ix);
        self.shas.push(sha.into());
        self.committed_at.push(None);
        self.parents.push(Vec::new());
        self.generation.push(0);
        ix
    }

    /// Commits in the graph (not counting shas only named as parents).
    pub fn len(&self) -> usize {
        self.committed_at.iter().filter(|c| c.is_some()).count()
    }

    /// Whether no commit was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The commit `sha`, if it is in the graph.
    pub fn commit(&self, sha: &str) -> Option<Commit<'_>> {
        let &ix = self.ids.get(sha)?;
        self.known(ix)
    }

    /// The parents of `sha`, if it is in the graph (for writing the graph out).
    pub fn parents(&self, sha: &str) -> Option<impl Iterator<Item = &str>> {
        let &ix = self.ids.get(sha)?;
        self.committed_at[ix as usize]?;
        Some(
            self.parents[ix as usize]
                .iter()
                .map(|&p| &*self.shas[p as usize]),
        )
    }

    /// Every commit in the graph, in the order its sha was first named.
    pub fn commits(&self) -> impl Iterator<Item = Commit<'_>> {
        (0..self.shas.len() as u32).filter_map(|ix| self.known(ix))
    }

    fn known(&self, ix: u32) -> Option<Commit<'_>> {
        Some(Commit {
            sha: &self.shas[ix as usize],
            committed_at: self.committed_at[ix as usize]?,
        })
    }

    fn ix_of_known(&self, sha: &str) -> Option<u32> {
        self.ids
            .get(sha)
            .copied()
            .filter(|&ix| self.committed_at[ix as usize].is_some())
    }
}

const NEW: u8 = 1;
const OLD: u8 = 2;

/// The commits reachable from `sha` but not from `previous` (see the module docs).
pub fn shipped<'g>(
    graph: &'g CommitGraph,
    previous: Option<&str>,
    sha: &str,
    limits: &Limits,
) -> Shipped<'g> {
    let Some(head) = graph.ix_of_known(sha) else {
        return Shipped {
            commits: Vec::new(),
            truncated: true,
            reason: Some(ShippedReason::UnknownSha {
                sha: sha.to_owned(),
            }),
        };
    };
    let head_at = graph.committed_at[head as usize].unwrap_or(0);
    let since = head_at.saturating_sub(limits.first_deployment_lookback_ms);
    let (old, mut reason) = match previous {
        None => (None, Some(ShippedReason::FirstDeployment { since })),
        Some(p) => match graph.ix_of_known(p) {
            Some(ix) => (Some(ix), None),
            None => (
                None,
                Some(ShippedReason::UnknownPrevious {
                    sha: p.to_owned(),
                    since,
                }),
            ),
        },
    };
    let cutoff = if old.is_none() { Some(since) } else { None };

    let mut color: HashMap<u32, u8> = HashMap::new();
    let mut queue: BinaryHeap<(u32, u32)> = BinaryHeap::new();
    // Queued commits reachable from `sha` only; the walk ends when there are none.
    let mut new_only_queued = 0usize;
    color.insert(head, NEW);
    queue.push((graph.generation[head as usize], head));
    new_only_queued += 1;
    if let Some(o) = old {
        let c = color.entry(o).or_insert(0);
        if *c == NEW {
            new_only_queued -= 1;
        } else {
            queue.push((graph.generation[o as usize], o));
        }
        *c |= OLD;
    }

    let mut commits = Vec::new();
    let mut visited = 0usize;
    let mut cut = false;
    let mut missing = 0usize;
    let mut capped = false;
    while new_only_queued > 0 {
        let Some((_, c)) = queue.pop() else { break };
        if visited == limits.max_commits {
            capped = true;
            break;
        }
        visited += 1;
        let flags = color.get(&c).copied().unwrap_or(0);
        if flags == NEW {
            new_only_queued -= 1;
            if let Some(commit) = graph.known(c) {
                commits.push(commit);
            }
        }
        for &p in &graph.parents[c as usize] {
            if graph.committed_at[p as usize].is_none() {
                // Outside the known history. On `sha`'s side commits are lost; on
                // `previous`'s side commits it reached may be listed as shipped.
                missing += 1;
                continue;
            }
            if flags == NEW
                && let Some(cutoff) = cutoff
                && graph.committed_at[p as usize].is_some_and(|at| at < cutoff)
            {
                cut = true;
                continue;
            }
            match color.get_mut(&p) {
                None => {
                    color.insert(p, flags);
                    queue.push((graph.generation[p as usize], p));
                    if flags == NEW {
                        new_only_queued += 1;
                    }
                }
                Some(existing) => {
                    let before = *existing;
                    *existing |= flags;
                    if before == NEW && *existing != NEW {
                        new_only_queued -= 1;
                    }
                }
            }
        }
    }
    if capped {
        reason = Some(ShippedReason::Cap {
            limit: limits.max_commits,
        });
    } else if missing > 0 {
        reason = Some(ShippedReason::HistoryBoundary { missing });
    }
    Shipped {
        commits,
        truncated: capped || cut || missing > 0,
        reason,
    }
}
