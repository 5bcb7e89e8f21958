#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use serde_json::json;

use super::*;
use crate::checkpoint::SigningKey;
use crate::record::{Chain, Hash, Outcome};
use crate::testutil::{chain, event};

fn ok(records: &[AuditRecord]) -> impl Iterator<Item = Result<AuditRecord, Infallible>> + '_ {
    records.iter().cloned().map(Ok)
}

/// Stored checkpoints every 20 records of `records`.
fn checkpoints(key: &SigningKey, records: &[AuditRecord]) -> Vec<Checkpoint> {
    records
        .iter()
        .filter(|r| r.seq % 20 == 0)
        .map(|r| key.checkpoint(&r.head(), r.event.time_ms))
        .collect()
}

/// Re-chains `records` from index `from` on, as an attacker with database access would after
/// editing one: every hash and link consistent again.
fn rechain(records: &mut [AuditRecord], from: usize) {
    let mut c = Chain::new(ChainHead {
        seq: records[from].seq - 1,
        hash: records[from].prev_hash,
    });
    for r in &mut records[from..] {
        *r = c.append(r.event.clone());
    }
}

fn pos(records: &[AuditRecord], seq: i64) -> usize {
    records.iter().position(|r| r.seq == seq).unwrap()
}

#[test]
fn a_clean_chain_verifies_with_checkpoints_and_signatures() {
    let key = SigningKey::generate().unwrap();
    let records = chain(100);
    let cps = checkpoints(&key, &records);
    let report = verify(ok(&records), &cps, Some(&key.public()), None);
    assert_eq!(report.problem, None, "{report}");
    assert_eq!((report.records, report.last), (100, records[99].head()));
    assert_eq!(
        (report.checkpoints_matched, report.signatures_verified),
        (5, 5)
    );
    assert_eq!(report.last_checkpoint, Some(100));
    assert_eq!(report.started_from, StartedFrom::Genesis);
    assert_eq!(
        report.to_string(),
        format!(
            "OK: 100 records (1..100), 5 checkpoints matched, 5 signatures verified with key {}",
            key.key_id()
        )
    );
    // Without a key the hashes are still checked, the signatures are not.
    let report = verify(ok(&records), &cps, None, None);
    assert!(report.is_ok());
    assert_eq!(
        (report.checkpoints_matched, report.signatures_verified),
        (5, 0)
    );
    assert!(
        report
            .to_string()
            .ends_with("signatures not checked (no key given)")
    );
    // An empty log is fine.
    assert!(verify(ok(&[]), &[], None, None).is_ok());
}

#[test]
fn each_kind_of_tampering_is_named() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let clean = chain(100);
    let stored = checkpoints(&key, &clean);
    let exported_tail = key.checkpoint(&clean[99].head(), 0);

    type Tamper = Box<dyn Fn(&mut Vec<AuditRecord>, &mut Vec<Checkpoint>)>;
    let cases: Vec<(&str, Tamper, Problem)> = vec![
        (
            "edit a byte of details",
            Box::new(|r, _| r[36].event.details["url"] = json!("https://git.example/r38")),
            Problem::Edited { seq: 37 },
        ),
        (
            "edit the actor",
            Box::new(|r, _| r[0].event.actor.id = "user:default/admin".into()),
            Problem::Edited { seq: 1 },
        ),
        (
            "edit and re-hash one record",
            Box::new(|r, _| {
                r[36].event.outcome = Outcome::Failure;
                r[36].event.details = json!({});
                r[36].hash = r[36].computed_hash();
            }),
            Problem::BrokenLink { seq: 38 },
        ),
        (
            "delete a middle record",
            Box::new(|r, _| {
                r.remove(49);
            }),
            Problem::Deleted {
                after_seq: 49,
                next_seq: 51,
            },
        ),
        (
            "delete three middle records",
            Box::new(|r, _| {
                r.drain(49..52);
            }),
            Problem::Deleted {
                after_seq: 49,
                next_seq: 53,
            },
        ),
        (
            "delete the first record",
            Box::new(|r, _| {
                r.remove(0);
            }),
            Problem::Deleted {
                after_seq: 0,
                next_seq: 2,
            },
        ),
        (
            "swap two records (export line order)",
            Box::new(|r, _| r.swap(29, 30)),
            Problem::Reordered {
                seq: 30,
                after_seq: 31,
            },
        ),
        (
            "swap two records' contents (database rows keep their seq)",
            Box::new(|r, _| {
                r.swap(29, 30);
                (r[29].seq, r[30].seq) = (30, 31);
            }),
            Problem::Edited { seq: 30 },
        ),
        (
            "move a record back",
            Box::new(|r, _| {
                let moved = r.remove(10);
                r.insert(40, moved);
            }),
            Problem::Deleted {
                after_seq: 10,
                next_seq: 12,
            },
        ),
        (
            "duplicate a record",
            Box::new(|r, _| {
                let copy = r[29].clone();
                r.insert(30, copy);
            }),
            Problem::Duplicated { seq: 30 },
        ),
        (
            "truncate below a stored checkpoint",
            Box::new(|r, c| {
                r.truncate(69);
                c.retain(|c| c.seq <= 80);
            }),
            Problem::Truncated {
                last_record: 69,
                checkpoint_seq: 80,
            },
        ),
        (
            "truncate the tail, checkpoints deleted too, an exported one passed in",
            Box::new({
                let exported = exported_tail.clone();
                move |r, c| {
                    r.truncate(90);
                    c.retain(|c| c.seq <= 80);
                    c.push(exported.clone());
                }
            }),
            Problem::Truncated {
                last_record: 90,
                checkpoint_seq: 100,
            },
        ),
        (
            "rewrite history and re-hash the rest",
            Box::new(|r, _| {
                r[44].event.details = json!({"n": 0});
                rechain(r, 44);
            }),
            Problem::CheckpointMismatch { seq: 60 },
        ),
        (
            "rewrite history and forge the checkpoints with another key",
            Box::new({
                let other = SigningKey::from_pem(&other.to_pem()).unwrap();
                move |r, c| {
                    r[44].event.details = json!({"n": 0});
                    rechain(r, 44);
                    for cp in c.iter_mut().filter(|c| c.seq >= 60) {
                        let mut forged = other.checkpoint(&r[pos(r, cp.seq)].head(), cp.time_ms);
                        forged.key_id = cp.key_id.clone();
                        *cp = forged;
                    }
                }
            }),
            Problem::BadSignature { checkpoint_seq: 60 },
        ),
        (
            "alter a checkpoint's time",
            Box::new(|_, c| c[1].time_ms += 1),
            Problem::BadSignature { checkpoint_seq: 40 },
        ),
        (
            "a checkpoint from another key",
            Box::new({
                let other = SigningKey::from_pem(&other.to_pem()).unwrap();
                move |r, c| c[2] = other.checkpoint(&r[59].head(), 0)
            }),
            Problem::WrongKey {
                checkpoint_seq: 60,
                key_id: other.key_id().to_owned(),
                expected: key.key_id().to_owned(),
            },
        ),
        (
            "a forged checkpoint beyond the end is a forgery, not a truncation",
            Box::new({
                let other = SigningKey::from_pem(&other.to_pem()).unwrap();
                let key_id = key.key_id().to_owned();
                move |_, c| {
                    let mut forged = other.checkpoint(
                        &ChainHead {
                            seq: 500,
                            hash: Hash::ZERO,
                        },
                        0,
                    );
                    forged.key_id = key_id.clone();
                    c.push(forged);
                }
            }),
            Problem::BadSignature {
                checkpoint_seq: 500,
            },
        ),
    ];
    for (what, tamper, expected) in cases {
        let (mut records, mut cps) = (clean.clone(), stored.clone());
        tamper(&mut records, &mut cps);
        let report = verify(ok(&records), &cps, Some(&key.public()), None);
        assert_eq!(report.problem.as_ref(), Some(&expected), "{what}: {report}");
        assert!(report.to_string().starts_with("FAILED: "), "{what}");
    }
}

#[test]
fn cutting_the_unprotected_tail_needs_an_exported_checkpoint() {
    let key = SigningKey::generate().unwrap();
    let records = chain(95);
    let cps = checkpoints(&key, &records);
    // Records after the last stored checkpoint (80) can be cut without trace in the log itself…
    assert!(verify(ok(&records[..85]), &cps, Some(&key.public()), None).is_ok());
    // …which is why auditors keep an exported checkpoint.
    let exported = key.checkpoint(&records[94].head(), 0);
    let mut with_export = cps.clone();
    with_export.push(exported);
    let report = verify(ok(&records[..85]), &with_export, Some(&key.public()), None);
    assert_eq!(
        report.problem,
        Some(Problem::Truncated {
            last_record: 85,
            checkpoint_seq: 95
        })
    );
    assert_eq!(
        report.problem.unwrap().to_string(),
        "the log was truncated: the last record is 85 but a checkpoint vouches for record 95"
    );
    // Everything deleted: still caught.
    let report = verify(ok(&[]), &with_export, Some(&key.public()), None);
    assert_eq!(
        report.problem,
        Some(Problem::Truncated {
            last_record: 0,
            checkpoint_seq: 95
        })
    );
}

#[test]
fn checkpoint_mismatch_is_caught_without_a_key() {
    let key = SigningKey::generate().unwrap();
    let mut records = chain(60);
    let cps = checkpoints(&key, &records);
    records[10].event.target = "x".into();
    rechain(&mut records, 10);
    let report = verify(ok(&records), &cps, None, None);
    assert_eq!(
        report.problem,
        Some(Problem::CheckpointMismatch { seq: 20 })
    );
    assert_eq!(
        report.records, 20,
        "records up to the mismatching one were walked"
    );
}

#[test]
fn a_failing_source_is_reported_with_its_position() {
    let records = chain(10);
    let items = records.iter().cloned().enumerate().map(|(i, r)| {
        if i == 4 {
            Err("database went away")
        } else {
            Ok(r)
        }
    });
    let report = verify(items, &[], None, None);
    assert_eq!(
        report.problem,
        Some(Problem::Unreadable {
            after_seq: 4,
            message: "database went away".into()
        })
    );
    assert_eq!(report.last.seq, 4);
}

#[test]
fn retention_anchor_replaces_genesis() {
    let key = SigningKey::generate().unwrap();
    let public = key.public();
    let records = chain(100);
    let cps = checkpoints(&key, &records);
    let anchor = key.checkpoint(&records[49].head(), 0);
    let kept = &records[50..];
    let later: Vec<Checkpoint> = cps.iter().filter(|c| c.seq > 50).cloned().collect();

    let report = verify(ok(kept), &later, Some(&public), Some(&anchor));
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.started_from, report.start.seq, report.records),
        (StartedFrom::Anchor, 50, 50)
    );
    assert!(report.to_string().contains("from the anchor at 50"));
    // Stored checkpoints of expired records only have their signatures checked.
    assert!(verify(ok(kept), &cps, Some(&public), Some(&anchor)).is_ok());
    // Without the anchor the kept records look like a deleted head.
    assert_eq!(
        verify(ok(kept), &later, Some(&public), None).problem,
        Some(Problem::Deleted {
            after_seq: 0,
            next_seq: 51
        })
    );
    // Older records still present: they must chain up to the anchor.
    assert!(verify(ok(&records[40..]), &later, Some(&public), Some(&anchor)).is_ok());
    assert!(verify(ok(&records), &later, Some(&public), Some(&anchor)).is_ok());
    let mut rewritten = records[40..].to_vec();
    rewritten[2].event.action = "x".into();
    rechain(&mut rewritten, 2);
    assert_eq!(
        verify(ok(&rewritten), &[], None, Some(&anchor)).problem,
        Some(Problem::CheckpointMismatch { seq: 50 })
    );
    // A gap right after the anchor.
    assert_eq!(
        verify(ok(&records[51..]), &[], None, Some(&anchor)).problem,
        Some(Problem::Deleted {
            after_seq: 50,
            next_seq: 52
        })
    );
    // A forged anchor.
    let mut forged = anchor.clone();
    forged.hash = Hash::ZERO;
    assert_eq!(
        verify(ok(kept), &[], Some(&public), Some(&forged)).problem,
        Some(Problem::BadSignature { checkpoint_seq: 50 })
    );
    // An anchor not matching the kept records' first link.
    assert_eq!(
        verify(ok(kept), &[], None, Some(&forged)).problem,
        Some(Problem::BrokenLink { seq: 51 })
    );
    // Everything expired.
    assert!(verify(ok(&[]), &[], Some(&public), Some(&anchor)).is_ok());
}

#[test]
fn a_window_verifies_from_its_first_record() {
    let key = SigningKey::generate().unwrap();
    let records = chain(100);
    let cps = checkpoints(&key, &records);
    let window = &records[30..70];
    let report = verify_segment(ok(window), &cps[..3], Some(&key.public()));
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.start.seq, report.last.seq), (30, 70));
    assert_eq!(
        (report.checkpoints_matched, report.signatures_verified),
        (2, 3)
    );
    let mut edited = window.to_vec();
    edited[5].event.time_ms += 1;
    assert_eq!(
        verify_segment(ok(&edited), &[], None).problem,
        Some(Problem::Edited { seq: 36 })
    );
}

#[test]
fn verification_streams_a_long_chain_without_holding_it() {
    // Records are generated on the fly and dropped after the check.
    let mut c = Chain::new(ChainHead::GENESIS);
    let mut last = ChainHead::GENESIS;
    let records = (1..=20_000).map(move |i| {
        let r = c.append(event(i));
        Ok::<_, Infallible>(r)
    });
    let report = verify(
        records.inspect(|r| last = r.as_ref().unwrap().head()),
        &[],
        None,
        None,
    );
    assert_eq!(report.records, 20_000);
    assert_eq!(report.last, last);
}

#[test]
fn problem_messages_name_the_record() {
    for (p, text) in [
        (
            Problem::Edited { seq: 7 },
            "record 7 was edited: its contents do not match its hash",
        ),
        (
            Problem::Deleted {
                after_seq: 4,
                next_seq: 6,
            },
            "record 5 was deleted: record 6 follows record 4",
        ),
        (
            Problem::Deleted {
                after_seq: 4,
                next_seq: 9,
            },
            "records 5..8 were deleted: record 9 follows record 4",
        ),
        (
            Problem::Deleted {
                after_seq: 0,
                next_seq: 51,
            },
            "records before 51 are missing: the log starts at record 51 (if they expired, verify \
             from the retention checkpoint)",
        ),
        (
            Problem::Reordered {
                seq: 3,
                after_seq: 4,
            },
            "records were reordered: record 3 comes after record 4",
        ),
        (
            Problem::BrokenLink { seq: 9 },
            "record 9 does not link to record 8: its prev_hash is not that record's hash (a record was replaced or re-hashed)",
        ),
        (
            Problem::BadSignature { checkpoint_seq: 20 },
            "the checkpoint at record 20 has a bad signature (forged or altered)",
        ),
    ] {
        assert_eq!(p.to_string(), text);
        assert!(text.contains(&p.seq().to_string()));
    }
}

/// A store's row: strings as the columns hold them, `details` as canonical JSON text.
struct Row {
    seq: i64,
    time_ms: i64,
    actor_kind: &'static str,
    actor_id: String,
    action: String,
    target: String,
    details: String,
    prev_hash: Hash,
    hash: Hash,
}

impl ChainLink for Row {
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
        let parts = crate::EventParts {
            time_ms: self.time_ms,
            actor_kind: self.actor_kind.parse().unwrap(),
            actor_id: &self.actor_id,
            actor_role: Some("member"),
            action: &self.action,
            target: &self.target,
            outcome: Outcome::Success,
            source: Some("10.0.0.1"),
            request_id: None,
            details: crate::Details::Canonical(&self.details),
        };
        hasher.hash_parts(self.seq, &self.prev_hash, &parts)
    }
}

#[test]
fn a_store_row_type_verifies_without_parsing_details() {
    let mut c = Chain::new(ChainHead::GENESIS);
    let records: Vec<AuditRecord> = (1..=30)
        .map(|i| {
            let mut e = event(i);
            (e.outcome, e.request_id) = (Outcome::Success, None);
            c.append(e)
        })
        .collect();
    let rows: Vec<Row> = records
        .iter()
        .map(|r| Row {
            seq: r.seq,
            time_ms: r.event.time_ms,
            actor_kind: r.event.actor.kind.as_str(),
            actor_id: r.event.actor.id.clone(),
            action: r.event.action.clone(),
            target: r.event.target.clone(),
            details: crate::canonical_json(&r.event.details),
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect();
    assert!(verify(rows.iter().map(Ok::<_, Infallible>), &[], None, None).is_ok());
    // The same JSON value written another way (as PostgreSQL's jsonb would) is an edit of
    // the stored bytes.
    let mut rows = rows;
    rows[7].details = rows[7].details.replace(",", ", ");
    assert_eq!(
        verify(rows.iter().map(Ok::<_, Infallible>), &[], None, None).problem,
        Some(Problem::Edited { seq: 8 })
    );
}
