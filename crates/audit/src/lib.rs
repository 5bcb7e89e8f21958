//! The tamper-evident audit trail's pure core: hash-chained records, signed checkpoints,
//! verification, JSONL/CSV export and signed evidence packs.
//!
//! No database and no HTTP: the store calls [`Chain`]/[`chain_next`] and
//! [`SigningKey::checkpoint`] inside the transaction that makes a change, the CLI calls
//! [`verify()`], [`export()`] and [`build_pack`]/[`verify_pack`]. The model is AWS CloudTrail's
//! digest chain and Sigstore Rekor's append-only log, reduced to what one binary needs.
//!
//! # The chain
//!
//! Every state change becomes an [`AuditEvent`] (time, actor with the role used, dotted action,
//! target, outcome, source address, request id, free JSON details). Appending it gives an
//! [`AuditRecord`] with a gapless 1-based `seq`, the previous record's hash and its own:
//!
//! ```text
//! hash(n) = SHA-256( "pave-audit-v1\n" || hash(n-1) || canonical(seq n, event n) )
//! hash(0) = 32 zero bytes (ChainHead::GENESIS)
//! ```
//!
//! `canonical` is a JSON object with sorted keys and no whitespace (RFC 8785 JCS-like; the exact
//! rules are on [`canonical_bytes`]); it never depends on serde_json's map order, and the
//! `v1` tag makes any future change a new version rather than a silent break. Editing a
//! record changes its hash ([`Problem::Edited`]); re-hashing it breaks the next record's
//! link ([`Problem::BrokenLink`]); deleting or reordering records shows in `seq`
//! ([`Problem::Deleted`], [`Problem::Reordered`]).
//!
//! A store that keeps `details` as [`canonical_json`] text (a text column, not PostgreSQL
//! `jsonb`, which rewrites it) can verify its rows without parsing any JSON: it implements
//! [`ChainLink`] for its row type and hashes [`EventParts`] with [`Details::Canonical`].
//!
//! # Checkpoints
//!
//! A chain alone cannot show that its tail was cut off, nor that someone with database
//! access re-hashed everything after an edit. So every N records (and on demand) the store
//! writes a [`Checkpoint`]: `(seq, hash, time)` signed with Ed25519 by the audit key from the
//! configuration. The signed bytes are
//! `"pave-audit-checkpoint-v1\n{seq}\n{hash hex}\n{time_ms}\n"`. A checkpoint whose record no
//! longer matches gives [`Problem::CheckpointMismatch`]; one beyond the last record, stored
//! or exported earlier and handed back to [`verify()`], gives [`Problem::Truncated`]. Keys are
//! PKCS#8 PEM files ([`SigningKey`]); auditors get the public half as one line
//! `ed25519:<base64>` or as an SPKI PEM that OpenSSL reads ([`VerifyingKey`]), and its
//! `key_id` (first 8 bytes of the SHA-256 of the raw public key, hex).
//!
//! # Retention
//!
//! Expiring old records first writes a checkpoint at the newest record to expire; that
//! checkpoint becomes the *anchor*: [`verify()`] then starts from the anchor's `(seq, hash)`
//! instead of genesis, and the anchor's signature vouches for the part that is gone.
//! [`verify_segment`] checks a window (an export `--since`, an evidence pack) from its first
//! record's `prev_hash`: the records are consistent among themselves, and checkpoints inside
//! the window (or the pack's signature) say they are the real ones.
//!
//! # Evidence packs
//!
//! [`build_pack`] writes a deterministic zip (same inputs, same bytes) that needs no pave to
//! read:
//!
//! ```text
//! README.md        what each file is; how to check the pack with sha256sum and openssl
//! audit.jsonl      the window's audit records, one JSON object per line, re-verifiable
//! audit.csv        the same records as CSV (details as compact JSON in one column)
//! access.csv       who holds which role and why
//! tokens.csv       active API tokens: owner, role, created, last use, expiry
//! sign-ins.csv     sign-ins, sign-outs and failed authentications (from the records)
//! exceptions.csv   the guardrail exceptions register: rule, target, owner, reason, expiry
//! ownerless.csv    entities without a valid owner
//! SHA256SUMS       `sha256sum -c SHA256SUMS` checks every file above
//! manifest.json    SHA-256 of every file above and of SHA256SUMS, window, generation time,
//!                  key id, public key, first/last record of the chain
//! manifest.sig     Ed25519 signature over manifest.json's exact bytes, base64
//! ```
//!
//! [`verify_pack`] checks all of it offline: the signature (against the organisation's key
//! if given, else against the key in the pack, which proves integrity but not origin), every
//! file's hash, no file missing or added, and the audit chain re-verified. One byte changed
//! anywhere gives an error naming the file.

pub mod canonical;
pub mod checkpoint;
pub mod evidence;
pub mod export;
pub mod record;
pub mod stored;
pub mod verify;

#[cfg(test)]
mod testutil;

pub use canonical::{Details, EventParts, canonical_bytes, canonical_json};
pub use checkpoint::{Checkpoint, SigningKey, VerifyingKey, checkpoint_message};
pub use evidence::{
    AccessRow, AuditSummary, EvidenceError, EvidenceInputs, ExceptionRow, Manifest, OwnerlessRow,
    PackReport, Signer, TokenRow, Window, build_pack, verify_pack,
};
pub use export::{
    CsvWriter, Exporter, Filter, Format, JsonlReader, export, format_time_ms, read_jsonl,
};
pub use record::{
    Actor, ActorKind, AuditEvent, AuditRecord, Chain, ChainHead, Hash, Outcome, RecordHasher,
    chain_next, record_hash,
};
pub use stored::StoredRecord;
pub use verify::{
    ChainLink, Prehashed, Problem, Start, StartedFrom, VerifyReport, prehash, verify, verify_from,
    verify_segment,
};

/// Why an audit operation failed (bad text forms, key files, export I/O).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A hash in text form is not 64 hex digits.
    #[error("bad hash {text:?}: {why}")]
    BadHash { text: String, why: &'static str },
    /// The signing key file cannot be used.
    #[error("audit signing key: {0}")]
    KeyFile(String),
    /// A public key in text form cannot be used.
    #[error("audit public key: {0}")]
    PublicKey(String),
    /// A checkpoint's text form or signature encoding is wrong.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The system's random source failed while generating a key.
    #[error("could not generate a key: the system random source failed")]
    Random,
    /// A stored record's column does not read back.
    #[error("audit record {seq}: {what}: {message}")]
    Stored {
        seq: i64,
        what: &'static str,
        message: String,
    },
    /// A line of a JSON Lines export cannot be read back.
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    /// An unknown value for an enumerated field (actor kind, outcome, export format).
    #[error("unknown {what} {value:?} (expected one of: {expected})")]
    Unknown {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A record could not be read from the source the caller gave to [`export()`].
    #[error("reading the audit records: {0}")]
    Source(String),
}
