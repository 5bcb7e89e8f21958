//! Walking a chain: recompute every hash, follow every link, check every checkpoint, and
//! name the first thing that is wrong.
//!
//! Streaming: records come from an iterator (a database cursor, a JSONL reader) and are
//! dropped once checked; memory is O(1) in the number of records (checkpoints are a slice,
//! one per N records, sorted once).

use std::fmt;

use crate::checkpoint::{Checkpoint, VerifyingKey};
use crate::record::{AuditRecord, ChainHead, Hash, RecordHasher};

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The record's contents do not give its hash: it was changed after it was written.
    Edited { seq: i64 },
    /// Records after `after_seq` are missing: the next one present is `next_seq`.
    Deleted { after_seq: i64, next_seq: i64 },
    /// Record `seq` appears twice in a row.
    Duplicated { seq: i64 },
    /// Record `seq` comes after record `after_seq` although it belongs before it.
    Reordered { seq: i64, after_seq: i64 },
    /// The record's `prev_hash` is not the previous record's hash (the previous record was
    /// replaced, or this one was re-hashed after an edit).
    BrokenLink { seq: i64 },
    /// A checkpoint says record `seq` had another hash: history was rewritten.
    CheckpointMismatch { seq: i64 },
    /// A checkpoint's signature does not verify with the key (forged or altered).
    BadSignature { checkpoint_seq: i64 },
    /// A checkpoint was signed by another key than the one given.
    WrongKey {
        checkpoint_seq: i64,
        key_id: String,
        expected: String,
    },
    /// A checkpoint names a record beyond the last one: the tail was cut off.
    Truncated {
        last_record: i64,
        checkpoint_seq: i64,
    },
    /// The record source failed (a database error, a bad line in an export).
    Unreadable { after_seq: i64, message: String },
}

impl Problem {
    /// The record (or checkpoint) seq the problem is about, for pointing at it.
    pub fn seq(&self) -> i64 {
        match *self {
            Problem::Edited { seq }
            | Problem::Duplicated { seq }
            | Problem::BrokenLink { seq }
            | Problem::CheckpointMismatch { seq }
            | Problem::Reordered { seq, .. } => seq,
            Problem::Deleted { after_seq, .. } | Problem::Unreadable { after_seq, .. } => {
                after_seq + 1
            }
            Problem::BadSignature { checkpoint_seq }
            | Problem::WrongKey { checkpoint_seq, .. }
            | Problem::Truncated { checkpoint_seq, .. } => checkpoint_seq,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Edited { seq } => write!(
                f,
                "record {seq} was edited: its contents do not match its hash"
            ),
            Problem::Deleted {
                after_seq: 0,
                next_seq,
            } => write!(
                f,
                "records before {next_seq} are missing: the log starts at record {next_seq} \
                 (if they expired, verify from the retention checkpoint)"
            ),
            Problem::Deleted {
                after_seq,
                next_seq,
            } if next_seq - after_seq == 2 => write!(
                f,
                "record {} was deleted: record {next_seq} follows record {after_seq}",
                after_seq + 1
            ),
            Problem::Deleted {
                after_seq,
                next_seq,
            } => write!(
                f,
                "records {}..{} were deleted: record {next_seq} follows record {after_seq}",
                after_seq + 1,
                next_seq - 1
            ),
            Problem::Duplicated { seq } => write!(f, "record {seq} appears twice"),
            Problem::Reordered { seq, after_seq } => write!(
                f,
                "records were reordered: record {seq} comes after record {after_seq}"
            ),
            Problem::BrokenLink { seq } => write!(
                f,
                "record {seq} does not link to record {}: its prev_hash is not that record's \
                 hash (a record was replaced or re-hashed)",
                seq - 1
            ),
            Problem::CheckpointMismatch { seq } => write!(
                f,
                "record {seq} does not match the signed checkpoint at {seq}: the log was \
                 rewritten up to there"
            ),
            Problem::BadSignature { checkpoint_seq } => write!(
                f,
                "the checkpoint at record {checkpoint_seq} has a bad signature (forged or altered)"
            ),
            Problem::WrongKey {
                checkpoint_seq,
                key_id,
                expected,
            } => write!(
                f,
                "the checkpoint at record {checkpoint_seq} was signed by key {key_id}, not by \
                 the given key {expected}"
            ),
            Problem::Truncated {
                last_record,
                checkpoint_seq,
            } => write!(
                f,
                "the log was truncated: the last record is {last_record} but a checkpoint \
                 vouches for record {checkpoint_seq}"
            ),
            Problem::Unreadable { after_seq, message } => {
                write!(f, "could not read the record after {after_seq}: {message}")
            }
        }
    }
}

/// What a walk needs from a record. [`AuditRecord`] (and any reference to one) has it; a
/// store can implement it for its row type, hashing with [`RecordHasher::hash_parts`] and
/// [`crate::Details::Canonical`] so that verification parses no JSON.
pub trait ChainLink {
    fn seq(&self) -> i64;
    fn prev_hash(&self) -> Hash;
    fn hash(&self) -> Hash;
    /// The hash the record's contents give (with the walk's reused buffer).
    fn recompute(&self, hasher: &mut RecordHasher) -> Hash;
}

impl ChainLink for AuditRecord {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn prev_hash(&self) -> Hash {
        self.prev_hash
    }
    fn hash(&self) -> Hash {
        self.hash
    }
    fn recompute(&self, hasher: &mut RecordHasher) -> Hash {
        hasher.hash(self.seq, &self.prev_hash, &self.event)
    }
}

impl<T: ChainLink + ?Sized> ChainLink for &T {
    fn seq(&self) -> i64 {
        (**self).seq()
    }
    fn prev_hash(&self) -> Hash {
        (**self).prev_hash()
    }
    fn hash(&self) -> Hash {
        (**self).hash()
    }
    fn recompute(&self, hasher: &mut RecordHasher) -> Hash {
        (**self).recompute(hasher)
    }
}

/// A record whose hash was recomputed ahead of the walk. A record's hash depends only on
/// its own columns and its stored `prev_hash`, so a long walk can hash chunks on several
/// threads ([`prehash`]) and keep only the comparisons in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Prehashed<R> {
    pub record: R,
    pub computed: Hash,
}

impl<R: ChainLink> ChainLink for Prehashed<R> {
    fn seq(&self) -> i64 {
        self.record.seq()
    }
    fn prev_hash(&self) -> Hash {
        self.record.prev_hash()
    }
    fn hash(&self) -> Hash {
        self.record.hash()
    }
    fn recompute(&self, _: &mut RecordHasher) -> Hash {
        self.computed
    }
}

/// Recomputes the hashes of `records` on up to `threads` threads, in order.
pub fn prehash<R: ChainLink + Send>(records: Vec<R>, threads: usize) -> Vec<Prehashed<R>> {
    let threads = threads.max(1);
    let per_part = records.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<R>> = Vec::with_capacity(threads);
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        parts.push(records.by_ref().take(per_part).collect());
    }
    pave_stdx::par_map(parts, threads, |part| {
        let mut hasher = RecordHasher::new();
        part.into_iter()
            .map(|record| {
                let computed = record.recompute(&mut hasher);
                Prehashed { record, computed }
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Where a walk begins.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Record 1 after the zero hash: the whole log.
    Genesis,
    /// After a retention checkpoint: older records have expired. Records older than the
    /// anchor, if still there, are checked too, and must reach the anchor's hash.
    Anchor(&'a Checkpoint),
    /// Wherever the first record is, trusting its `prev_hash`: a window of the log (an
    /// export `--since`, an evidence pack). Checkpoints inside the window still count.
    FirstRecord,
}

/// What a walk started from, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedFrom {
    Genesis,
    Anchor,
    FirstRecord,
}

/// The result of a walk: what was checked and the first problem, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub started_from: StartedFrom,
    /// The chain position before the first record checked.
    pub start: ChainHead,
    /// Records checked (up to the problem).
    pub records: u64,
    /// The last good position (`start` if no record was good).
    pub last: ChainHead,
    /// Checkpoints compared with a record's hash.
    pub checkpoints_matched: usize,
    /// The highest checkpoint that matched (records after it are protected by the chain
    /// alone until the next checkpoint).
    pub last_checkpoint: Option<i64>,
    /// Checkpoint signatures verified; 0 when no key was given.
    pub signatures_verified: usize,
    /// The key signatures were checked with, if one was given.
    pub key_id: Option<String>,
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.problem {
            return write!(f, "FAILED: {p} ({} records good before it)", self.records);
        }
        write!(f, "OK: {} records", self.records)?;
        if self.records > 0 {
            write!(f, " ({}..{})", self.start.seq + 1, self.last.seq)?;
        }
        match self.started_from {
            StartedFrom::Genesis => {}
            StartedFrom::Anchor => write!(f, ", from the anchor at {}", self.start.seq)?,
            StartedFrom::FirstRecord => write!(f, ", a window trusted from its first record")?,
        }
        write!(f, ", {} checkpoints matched", self.checkpoints_matched)?;
        match &self.key_id {
            Some(id) => write!(
                f,
                ", {} signatures verified with key {id}",
                self.signatures_verified
            ),
            None => write!(f, ", signatures not checked (no key given)"),
        }
    }
}

/// Walks the whole log (from genesis, or from `anchor` after retention expired older
/// records). `checkpoints` are the stored ones plus any exported earlier; with `key`, every
/// checkpoint's signature is verified too.
pub fn verify<I, R, E>(
    records: I,
    checkpoints: &[Checkpoint],
    key: Option<&VerifyingKey>,
    anchor: Option<&Checkpoint>,
) -> VerifyReport
where
    I: IntoIterator<Item = Result<R, E>>,
    R: ChainLink,
    E: fmt::Display,
{
    let start = match anchor {
        Some(a) => Start::Anchor(a),
        None => Start::Genesis,
    };
    verify_from(records, checkpoints, key, start)
}

/// Walks a window of the log, trusting the first record's `prev_hash` ([`Start::FirstRecord`]).
pub fn verify_segment<I, R, E>(
    records: I,
    checkpoints: &[Checkpoint],
    key: Option<&VerifyingKey>,
) -> VerifyReport
where
    I: IntoIterator<Item = Result<R, E>>,
    R: ChainLink,
    E: fmt::Display,
{
    verify_from(records, checkpoints, key, Start::FirstRecord)
}

/// The walk behind [`verify`] and [`verify_segment`].
pub fn verify_from<I, R, E>(
    records: I,
    checkpoints: &[Checkpoint],
    key: Option<&VerifyingKey>,
    start: Start<'_>,
) -> VerifyReport
where
    I: IntoIterator<Item = Result<R, E>>,
    R: ChainLink,
    E: fmt::Display,
{
    let mut records = records.into_iter().peekable();
    let first = match records.peek() {
        Some(Ok(r)) => Some((r.seq(), r.prev_hash())),
        _ => None,
    };
    let trusted_first = first.map(|(seq, prev)| ChainHead {
        seq: seq.saturating_sub(1),
        hash: prev,
    });
    let mut cps: Vec<&Checkpoint> = checkpoints.iter().collect();
    let (started_from, head) = match start {
        Start::Genesis => (StartedFrom::Genesis, ChainHead::GENESIS),
        Start::Anchor(anchor) => {
            cps.push(anchor);
            let head = match first {
                Some((1, _)) => ChainHead::GENESIS,
                // Older records still present: they must chain up to the anchor's hash,
                // which is checked like any checkpoint when the walk reaches it.
                Some((seq, _)) if seq > 1 && seq <= anchor.seq => {
                    trusted_first.unwrap_or(ChainHead::GENESIS)
                }
                _ => anchor.head(),
            };
            (StartedFrom::Anchor, head)
        }
        Start::FirstRecord => (
            StartedFrom::FirstRecord,
            trusted_first.unwrap_or(ChainHead::GENESIS),
        ),
    };
    // Stable, so with several checkpoints at one seq the first given is checked first.
    cps.sort_by_key(|c| c.seq);

    let mut report = VerifyReport {
        started_from,
        start: head,
        records: 0,
        last: head,
        checkpoints_matched: 0,
        last_checkpoint: None,
        signatures_verified: 0,
        key_id: key.map(|k| k.key_id().to_owned()),
        problem: None,
    };
    let mut walk = Walk {
        cps,
        next_cp: 0,
        key,
        report: &mut report,
    };
    // Checkpoints before the start vouch for expired records: only their signatures can be
    // checked. One at the start itself must match it.
    if let Err(p) = walk.checkpoints_up_to(head) {
        report.problem = Some(p);
        return report;
    }
    if let Err(p) = walk.records(&mut records, head) {
        report.problem = Some(p);
    }
    report
}

struct Walk<'a, 'r> {
    cps: Vec<&'a Checkpoint>,
    next_cp: usize,
    key: Option<&'a VerifyingKey>,
    report: &'r mut VerifyReport,
}

impl Walk<'_, '_> {
    fn records<I, R, E>(
        &mut self,
        records: &mut std::iter::Peekable<I>,
        mut head: ChainHead,
    ) -> Result<(), Problem>
    where
        I: Iterator<Item = Result<R, E>>,
        R: ChainLink,
        E: fmt::Display,
    {
        let mut hasher = RecordHasher::new();
        while let Some(item) = records.next() {
            let r = item.map_err(|e| Problem::Unreadable {
                after_seq: head.seq,
                message: e.to_string(),
            })?;
            let seq = r.seq();
            let expected = head.seq.saturating_add(1);
            if seq == head.seq && self.report.records > 0 {
                return Err(Problem::Duplicated { seq });
            }
            if seq < expected {
                return Err(Problem::Reordered {
                    seq,
                    after_seq: head.seq,
                });
            }
            if seq > expected {
                // A gap: records were deleted, unless a missing one comes right after this
                // one (two records swapped). One record of look-ahead keeps memory O(1).
                return Err(match records.peek() {
                    Some(Ok(next)) if next.seq() >= expected && next.seq() < seq => {
                        Problem::Reordered {
                            seq: next.seq(),
                            after_seq: seq,
                        }
                    }
                    _ => Problem::Deleted {
                        after_seq: head.seq,
                        next_seq: seq,
                    },
                });
            }
            let hash = r.hash();
            if r.recompute(&mut hasher) != hash {
                return Err(Problem::Edited { seq });
            }
            if r.prev_hash() != head.hash {
                return Err(Problem::BrokenLink { seq });
            }
            head = ChainHead { seq, hash };
            self.report.records += 1;
            self.report.last = head;
            self.checkpoints_up_to(head)?;
        }
        // Whatever checkpoints remain name records past the end: the tail is gone — unless
        // the checkpoint itself is forged, which is the thing to report then.
        for i in self.next_cp..self.cps.len() {
            let cp = self.cps[i];
            self.signature(cp)?;
        }
        match self.cps.get(self.next_cp..).and_then(<[_]>::last) {
            Some(cp) => Err(Problem::Truncated {
                last_record: head.seq,
                checkpoint_seq: cp.seq,
            }),
            None => Ok(()),
        }
    }

    /// Checks the checkpoints at or before `head`: signatures, and the hash of those at it.
    fn checkpoints_up_to(&mut self, head: ChainHead) -> Result<(), Problem> {
        while let Some(&cp) = self.cps.get(self.next_cp) {
            if cp.seq > head.seq {
                break;
            }
            self.next_cp += 1;
            self.signature(cp)?;
            if cp.seq == head.seq {
                if cp.hash != head.hash {
                    return Err(Problem::CheckpointMismatch { seq: cp.seq });
                }
                self.report.checkpoints_matched += 1;
                self.report.last_checkpoint = Some(cp.seq);
            }
        }
        Ok(())
    }

    fn signature(&mut self, cp: &Checkpoint) -> Result<(), Problem> {
        let Some(key) = self.key else {
            return Ok(());
        };
        if cp.key_id != key.key_id() {
            return Err(Problem::WrongKey {
                checkpoint_seq: cp.seq,
                key_id: cp.key_id.clone(),
                expected: key.key_id().to_owned(),
            });
        }
        if !key.verify_checkpoint(cp) {
            return Err(Problem::BadSignature {
                checkpoint_seq: cp.seq,
            });
        }
        self.report.signatures_verified += 1;
        Ok(())
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
