//! A record as a database row holds it: every column as text, `details` as the stored
//! [`canonical_json`](crate::canonical_json) text. Walking a million of these hashes each
//! row's columns as they are, with no JSON parsed and no value rebuilt, which is what keeps
//! `pave audit verify` within its budget.

use std::str::FromStr as _;

use serde::Deserialize;

use crate::canonical::{Details, EventParts};
use crate::record::{ActorKind, AuditEvent, AuditRecord, Hash, Outcome, RecordHasher};
use crate::verify::ChainLink;
use crate::{Actor, AuditError};

/// The columns of one stored record, in the order stores select them (so a row reads from a
/// JSON array as well as from a tuple).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredRecord {
    pub seq: i64,
    pub time_ms: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_role: Option<String>,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub source: Option<String>,
    pub request_id: Option<String>,
    /// The stored text: canonical JSON when pave wrote it.
    pub details: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl StoredRecord {
    /// The record with its details parsed (for exports and evidence packs). A column that
    /// does not read back (an unknown actor kind, details that are not JSON) is an error
    /// naming the record.
    pub fn into_record(self) -> Result<AuditRecord, AuditError> {
        let seq = self.seq;
        let bad = |what: &'static str, e: &dyn std::fmt::Display| AuditError::Stored {
            seq,
            what,
            message: e.to_string(),
        };
        Ok(AuditRecord {
            seq,
            event: AuditEvent {
                time_ms: self.time_ms,
                actor: Actor {
                    kind: ActorKind::from_str(&self.actor_kind)
                        .map_err(|e| bad("actor kind", &e))?,
                    id: self.actor_id,
                    role: self.actor_role,
                },
                action: self.action,
                target: self.target,
                outcome: Outcome::from_str(&self.outcome).map_err(|e| bad("outcome", &e))?,
                source: self.source,
                request_id: self.request_id,
                details: serde_json::from_str(&self.details).map_err(|e| bad("details", &e))?,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }

    fn parts<'a>(
        &'a self,
        actor_kind: ActorKind,
        outcome: Outcome,
        details: Details<'a>,
    ) -> EventParts<'a> {
        EventParts {
            time_ms: self.time_ms,
            actor_kind,
            actor_id: &self.actor_id,
            actor_role: self.actor_role.as_deref(),
            action: &self.action,
            target: &self.target,
            outcome,
            source: self.source.as_deref(),
            request_id: self.request_id.as_deref(),
            details,
        }
    }
}

impl ChainLink for StoredRecord {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn prev_hash(&self) -> Hash {
        self.prev_hash
    }
    fn hash(&self) -> Hash {
        self.hash
    }

    /// The hash of the columns as stored. Details are hashed as their text; text that is not
    /// canonical (written by an older pave, or by hand) is parsed and canonicalized, so the
    /// same value gives the same hash either way and only a changed value shows as an edit.
    fn recompute(&self, hasher: &mut RecordHasher) -> Hash {
        let (Ok(kind), Ok(outcome)) = (
            ActorKind::from_str(&self.actor_kind),
            Outcome::from_str(&self.outcome),
        ) else {
            // A column no writer produces: the record was edited. Whatever its stored hash,
            // this one differs from it.
            return not(self.hash);
        };
        let verbatim = hasher.hash_parts(
            self.seq,
            &self.prev_hash,
            &self.parts(kind, outcome, Details::Canonical(&self.details)),
        );
        if verbatim == self.hash {
            return verbatim;
        }
        match serde_json::from_str::<serde_json::Value>(&self.details) {
            Ok(value) => hasher.hash_parts(
                self.seq,
                &self.prev_hash,
                &self.parts(kind, outcome, Details::Value(&value)),
            ),
            Err(_) => not(self.hash),
        }
    }
}

/// A hash guaranteed to differ from `hash`.
fn not(hash: Hash) -> Hash {
    Hash(hash.0.map(|b| !b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::event;
    use crate::{ChainHead, canonical_json, chain_next, verify};

    fn stored(record: &AuditRecord, details: String) -> StoredRecord {
        StoredRecord {
            seq: record.seq,
            time_ms: record.event.time_ms,
            actor_kind: record.event.actor.kind.as_str().to_owned(),
            actor_id: record.event.actor.id.clone(),
            actor_role: record.event.actor.role.clone(),
            action: record.event.action.clone(),
            target: record.event.target.clone(),
            outcome: record.event.outcome.as_str().to_owned(),
            source: record.event.source.clone(),
            request_id: record.event.request_id.clone(),
            details,
            prev_hash: record.prev_hash,
            hash: record.hash,
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut head = ChainHead::GENESIS;
        (1..=n)
            .map(|i| {
                let r = chain_next(&head, event(i));
                head = r.head();
                r
            })
            .collect()
    }

    #[test]
    fn stored_rows_verify_like_records_and_read_back() {
        let records = chain(50);
        let rows: Vec<StoredRecord> = records
            .iter()
            .map(|r| stored(r, canonical_json(&r.event.details)))
            .collect();
        let report = verify(rows.iter().map(Ok::<_, String>), &[], None, None);
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.records, 50);
        for (row, record) in rows.into_iter().zip(&records) {
            assert_eq!(&row.into_record().unwrap(), record);
        }
    }

    #[test]
    fn prehashed_walks_find_the_same_problems() {
        let records = chain(40);
        let mut rows: Vec<StoredRecord> = records
            .iter()
            .map(|r| stored(r, canonical_json(&r.event.details)))
            .collect();
        rows[23].target.push('!');
        let plain = verify(rows.iter().map(Ok::<_, String>), &[], None, None);
        for threads in [1, 2, 3, 7, 64] {
            let hashed = crate::prehash(rows.clone(), threads);
            assert_eq!(hashed.len(), rows.len());
            let report = verify(hashed.iter().map(Ok::<_, String>), &[], None, None);
            assert_eq!(report, plain, "{threads} threads");
        }
        assert_eq!(plain.problem.map(|p| p.seq()), Some(24));
    }

    #[test]
    fn non_canonical_details_of_the_same_value_still_verify() {
        let records = chain(3);
        let rows: Vec<StoredRecord> = records
            .iter()
            .map(|r| {
                // serde_json's own text: insertion order and pretty-printed, not canonical.
                let text = serde_json::to_string_pretty(&r.event.details).unwrap();
                stored(r, text)
            })
            .collect();
        assert!(
            rows.iter()
                .any(|r| r.details != canonical_json(&serde_json::from_str(&r.details).unwrap())),
            "the fixture must hold non-canonical text"
        );
        let report = verify(rows.iter().map(Ok::<_, String>), &[], None, None);
        assert!(report.is_ok(), "{report}");
    }

    #[test]
    fn edited_columns_are_caught_and_named() {
        let records = chain(10);
        let good: Vec<StoredRecord> = records
            .iter()
            .map(|r| stored(r, canonical_json(&r.event.details)))
            .collect();
        type Edit = fn(&mut StoredRecord);
        let edits: [(&str, Edit); 5] = [
            ("details value", |r| {
                r.details = r.details.replacen('"', "\"x", 2)
            }),
            ("details not JSON", |r| r.details = "{".to_owned()),
            ("actor kind unknown", |r| r.actor_kind = "hacker".to_owned()),
            ("outcome flipped", |r| r.outcome = "denied".to_owned()),
            ("target", |r| r.target.push('!')),
        ];
        for (what, edit) in edits {
            let mut rows = good.clone();
            edit(&mut rows[6]);
            let report = verify(rows.iter().map(Ok::<_, String>), &[], None, None);
            let problem = report
                .problem
                .unwrap_or_else(|| panic!("{what}: not caught"));
            assert_eq!(problem.seq(), 7, "{what}: {problem}");
        }
    }
}
