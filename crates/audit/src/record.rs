//! Audit events, chained records and the canonical encoding their hashes cover.

use std::fmt;
use std::str::FromStr;

use ring::digest;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::AuditError;
use crate::canonical::{Details, EventParts, write_canonical_record};

/// The version tag every record hash starts with. Changing the encoding means a new tag.
pub const HASH_TAG: &[u8] = b"pave-audit-v1\n";

/// A SHA-256 hash; hex (lowercase) in every text form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash: the `prev_hash` of record 1.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The SHA-256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Hash {
        Hash::from_digest(&digest::digest(&digest::SHA256, bytes))
    }

    pub(crate) fn from_digest(d: &digest::Digest) -> Hash {
        let mut out = [0; 32];
        out.copy_from_slice(d.as_ref());
        Hash(out)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Hash, AuditError> {
        let bad = |why| AuditError::BadHash {
            text: text.chars().take(80).collect(),
            why,
        };
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(bad("expected 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let (Some(hi), Some(lo)) = (hex_value(pair[0]), hex_value(pair[1])) else {
                return Err(bad("not a hex digit"));
            };
            out[i] = hi << 4 | lo;
        }
        Ok(Hash(out))
    }
}

/// Hex digit values by byte, 0xff for anything else: a million records carry two million
/// hashes, and a table lookup is several times cheaper than a match per digit.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn hex_value(c: u8) -> Option<u8> {
    let value = HEX_VALUES[usize::from(c)];
    (value != 0xff).then_some(value)
}

pub(crate) use pave_stdx::hex;

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Who acted: a signed-in user, an API token, a CI workload, the operator at the console,
/// the scheduler, or nobody known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Token,
    Workload,
    Operator,
    Scheduler,
    Anonymous,
    Guest,
}

impl ActorKind {
    pub const ALL: [ActorKind; 7] = [
        ActorKind::User,
        ActorKind::Token,
        ActorKind::Workload,
        ActorKind::Operator,
        ActorKind::Scheduler,
        ActorKind::Anonymous,
        ActorKind::Guest,
    ];

    /// The name used in JSON, CSV and the canonical encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Token => "token",
            ActorKind::Workload => "workload",
            ActorKind::Operator => "operator",
            ActorKind::Scheduler => "scheduler",
            ActorKind::Anonymous => "anonymous",
            ActorKind::Guest => "guest",
        }
    }
}

impl FromStr for ActorKind {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| AuditError::Unknown {
                what: "actor kind",
                value: s.to_owned(),
                expected: "user, token, workload, operator, scheduler, anonymous, guest",
            })
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The actor of an event and the role it acted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub kind: ActorKind,
    /// A user entity ref, a token id, a workload's subject; empty for anonymous.
    pub id: String,
    pub role: Option<String>,
}

/// How the attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused by authorization (or authentication).
    Denied,
    /// Allowed but failed.
    Failure,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Denied, Outcome::Failure];

    /// The name used in JSON, CSV and the canonical encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

impl FromStr for Outcome {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| AuditError::Unknown {
                what: "outcome",
                value: s.to_owned(),
                expected: "success, denied, failure",
            })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, before it is chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// Unix milliseconds.
    pub time_ms: i64,
    pub actor: Actor,
    /// Dotted: `location.create`, `auth.sign_in`, `auth.failed`, `token.create`, `gate.override`.
    pub action: String,
    /// What was acted on: an entity ref, a location id, a token id.
    pub target: String,
    pub outcome: Outcome,
    /// The client address.
    pub source: Option<String>,
    pub request_id: Option<String>,
    /// Anything else worth keeping (a gate override's reason, a location's URL).
    pub details: Value,
}

impl AuditEvent {
    /// The event as borrowed parts (what the hash covers).
    pub fn parts(&self) -> EventParts<'_> {
        EventParts {
            time_ms: self.time_ms,
            actor_kind: self.actor.kind,
            actor_id: &self.actor.id,
            actor_role: self.actor.role.as_deref(),
            action: &self.action,
            target: &self.target,
            outcome: self.outcome,
            source: self.source.as_deref(),
            request_id: self.request_id.as_deref(),
            details: Details::Value(&self.details),
        }
    }
}

/// A chained event: its place in the log and the hashes that tie it to the records before.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// 1-based, gapless.
    pub seq: i64,
    pub event: AuditEvent,
    /// The previous record's hash ([`Hash::ZERO`] for record 1).
    pub prev_hash: Hash,
    /// [`record_hash`]`(seq, prev_hash, event)`.
    pub hash: Hash,
}

impl AuditRecord {
    /// Where the chain stands after this record.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// The hash this record's contents give (compare with `hash` to detect an edit).
    pub fn computed_hash(&self) -> Hash {
        record_hash(self.seq, &self.prev_hash, &self.event)
    }
}

/// The JSON Lines form: one flat object, fields in this order. `deny_unknown_fields` on
/// reading because an export is checked against exactly what was hashed.
#[derive(Serialize)]
struct WireRef<'a> {
    seq: i64,
    time_ms: i64,
    actor: &'a Actor,
    action: &'a str,
    target: &'a str,
    outcome: Outcome,
    source: &'a Option<String>,
    request_id: &'a Option<String>,
    details: &'a Value,
    prev_hash: Hash,
    hash: Hash,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an audit record (a JSON object)")]
struct Wire {
    seq: i64,
    time_ms: i64,
    actor: Actor,
    action: String,
    target: String,
    outcome: Outcome,
    source: Option<String>,
    request_id: Option<String>,
    details: Value,
    prev_hash: Hash,
    hash: Hash,
}

impl Serialize for AuditRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.event;
        WireRef {
            seq: self.seq,
            time_ms: e.time_ms,
            actor: &e.actor,
            action: &e.action,
            target: &e.target,
            outcome: e.outcome,
            source: &e.source,
            request_id: &e.request_id,
            details: &e.details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AuditRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(AuditRecord {
            seq: w.seq,
            event: AuditEvent {
                time_ms: w.time_ms,
                actor: w.actor,
                action: w.action,
                target: w.target,
                outcome: w.outcome,
                source: w.source,
                request_id: w.request_id,
                details: w.details,
            },
            prev_hash: w.prev_hash,
            hash: w.hash,
        })
    }
}

/// Where a chain stands: the last record's seq and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: Hash,
}

impl ChainHead {
    /// Before record 1.
    pub const GENESIS: ChainHead = ChainHead {
        seq: 0,
        hash: Hash::ZERO,
    };
}

/// Hashes records with one reused buffer for the canonical bytes, so walking a long chain
/// allocates nothing per record (besides key sorting in unsorted `details` objects).
#[derive(Debug, Default)]
pub struct RecordHasher {
    buf: Vec<u8>,
}

impl RecordHasher {
    pub fn new() -> Self {
        RecordHasher {
            buf: Vec::with_capacity(512),
        }
    }

    /// [`canonical_bytes`](crate::canonical_bytes) into the reused buffer.
    pub fn canonical(&mut self, seq: i64, event: &AuditEvent) -> &[u8] {
        self.buf.clear();
        write_canonical_record(&mut self.buf, seq, &event.parts());
        &self.buf
    }

    /// [`record_hash`] without allocating.
    pub fn hash(&mut self, seq: i64, prev_hash: &Hash, event: &AuditEvent) -> Hash {
        self.hash_parts(seq, prev_hash, &event.parts())
    }

    /// The same from borrowed parts, e.g. a database row whose `details` column holds
    /// [`canonical_json`](crate::canonical_json) text ([`Details::Canonical`]): nothing parsed, nothing allocated.
    pub fn hash_parts(&mut self, seq: i64, prev_hash: &Hash, parts: &EventParts<'_>) -> Hash {
        self.buf.clear();
        write_canonical_record(&mut self.buf, seq, parts);
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(HASH_TAG);
        ctx.update(&prev_hash.0);
        ctx.update(&self.buf);
        Hash::from_digest(&ctx.finish())
    }
}

/// `SHA-256("pave-audit-v1\n" || prev_hash (32 raw bytes) || canonical_bytes(seq, event))`.
pub fn record_hash(seq: i64, prev_hash: &Hash, event: &AuditEvent) -> Hash {
    RecordHasher::new().hash(seq, prev_hash, event)
}

/// Appends `event` after `prev`: the next seq, `prev`'s hash as `prev_hash`, and the new hash.
pub fn chain_next(prev: &ChainHead, event: AuditEvent) -> AuditRecord {
    RecordHasher::new().chain(prev, event)
}

impl RecordHasher {
    /// [`chain_next`] with this hasher's buffer.
    pub fn chain(&mut self, prev: &ChainHead, event: AuditEvent) -> AuditRecord {
        // 2^63 records never happen; saturating keeps this total, and verify would flag it.
        let seq = prev.seq.saturating_add(1);
        let hash = self.hash(seq, &prev.hash, &event);
        AuditRecord {
            seq,
            event,
            prev_hash: prev.hash,
            hash,
        }
    }
}

/// An in-memory chain head that appends events (the store keeps the head in its table and
/// uses [`chain_next`]; this is for batches, tests and benchmarks).
#[derive(Debug)]
pub struct Chain {
    head: ChainHead,
    hasher: RecordHasher,
}

impl Chain {
    /// A chain continuing after `head` ([`ChainHead::GENESIS`] for a new log).
    pub fn new(head: ChainHead) -> Self {
        Chain {
            head,
            hasher: RecordHasher::new(),
        }
    }

    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Chains `event` and moves the head to it.
    pub fn append(&mut self, event: AuditEvent) -> AuditRecord {
        let record = self.hasher.chain(&self.head, event);
        self.head = record.head();
        record
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
