//! The stored form of ledger rows: each [`Row`] as `(kind, key, body)`, the shape of the
//! store's `ledger` table (`pave_store::LedgerRow`), in a compact binary encoding.
//!
//! Why not JSON: a deployment row is ~700 bytes as JSON, and pave keeps one per deployment
//! for as long as the history is kept (1,000,000 deployments in the benchmark). The issue's
//! budget is 200 bytes on disk per deployment fact. What makes the difference:
//!
//! * **Names once.** Entity references, environments, repositories and subject keys repeat
//!   in every deployment, change and incident; they are stored once as *name rows*
//!   ([`NAME`]: key the id in base 36, body the text) and rows refer to them by a varint id.
//!   The [`Codec`] keeps the table: it hands out ids while encoding and returns the name rows
//!   to store in the same commit; loading reads the name rows first (kind 0 sorts first).
//!   A name row is never rewritten with another text, so a row that refers to an id always
//!   decodes to the name it was written with.
//! * **Varints** (LEB128) for counts, ids and sequence numbers; times as zigzag deltas from
//!   the row's previous time, so a deployment's queued/started/finished times cost 2-3 bytes
//!   each after the first; 40-digit lower-case hex shas as their 20 bytes.
//! * **Identity in the key only**: a deployment's id, a commit's repository and sha are
//!   decoded from the key, not repeated in the body.
//!
//! Every body starts with a format byte ([`FORMAT`]), so a later encoding can be read beside
//! this one. Decoding checks every length and tag: a truncated, extended or corrupt body, an
//! unknown kind or name id, is a [`LedgerError::Decode`] naming the row, never a panic.

use std::collections::{BTreeMap, HashMap};

use pave_dora::facts::Exclusion;
use pave_events::{DeploymentStatus, Millis, Source, Subject};
use pave_stdx::hex;

use crate::error::LedgerError;
use crate::rows::{
    AlertRow, ChangeRow, ChangeSource, ChangesetReason, ChangesetRow, CommitRow, CommitSource,
    DeliveryRow, DeploymentRow, HotfixReason, IncidentRow, LinkKind, Row, ShippedIn, SubjectRow,
};

/// Row kinds, the store's `kind` column. Names first: loading must see them before the rows
/// that refer to them, and the store visits rows in `(kind, key)` order.
pub const NAME: i16 = 0;
pub const SUBJECT: i16 = 1;
pub const DELIVERY: i16 = 2;
pub const COMMIT: i16 = 3;
pub const CHANGE: i16 = 4;
pub const DEPLOYMENT: i16 = 5;
pub const INCIDENT: i16 = 6;
pub const ALERT: i16 = 7;

/// The first byte of every body.
pub const FORMAT: u8 = 1;

/// One row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub kind: i16,
    pub key: String,
    pub body: Vec<u8>,
}

/// The name table shared by encoding and decoding (see the module docs). One per ledger:
/// build it with [`Codec::new`] and feed it every stored row on load ([`Codec::decode`]),
/// then encode new rows with it.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    ids: HashMap<String, u32>,
    names: HashMap<u32, String>,
    next: u32,
}

impl Codec {
    pub fn new() -> Codec {
        Codec::default()
    }

    /// How many names the table holds.
    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// Encodes `row`, appending to `out` the name rows it introduces (before it) and the row.
    pub fn encode(&mut self, row: &Row, out: &mut Vec<Encoded>) {
        let mut w = Writer {
            codec: self,
            body: vec![FORMAT],
            new_names: Vec::new(),
            time: 0,
        };
        let (kind, key) = match row {
            Row::Subject(r) => (SUBJECT, w.subject_row(r)),
            Row::Delivery(r) => (DELIVERY, w.delivery_row(r)),
            Row::Commit(r) => (COMMIT, w.commit_row(r)),
            Row::Change(r) => (CHANGE, w.change_row(r)),
            Row::Deployment(r) => (DEPLOYMENT, w.deployment_row(r)),
            Row::Incident(r) => (INCIDENT, w.incident_row(r)),
            Row::Alert(r) => (ALERT, w.alert_row(r)),
        };
        let Writer {
            body, new_names, ..
        } = w;
        for id in new_names {
            let name = self.names.get(&id).cloned().unwrap_or_default();
            let mut name_body = Vec::with_capacity(name.len() + 1);
            name_body.push(FORMAT);
            name_body.extend_from_slice(name.as_bytes());
            out.push(Encoded {
                kind: NAME,
                key: base36(u64::from(id)),
                body: name_body,
            });
        }
        out.push(Encoded { kind, key, body });
    }

    /// Decodes a stored row. Name rows teach the table and return `None`; every other row
    /// returns itself. Rows must come after the name rows they refer to (the store's
    /// `(kind, key)` order does that).
    pub fn decode(
        &mut self,
        kind: i16,
        key: &str,
        body: &[u8],
    ) -> Result<Option<Row>, LedgerError> {
        let fail = |message: String| LedgerError::Decode {
            kind,
            key: key.chars().take(120).collect(),
            message,
        };
        let Some((&format, rest)) = body.split_first() else {
            return Err(fail("empty body".to_owned()));
        };
        if format != FORMAT {
            return Err(fail(format!(
                "body format {format}, this pave reads format {FORMAT}"
            )));
        }
        if kind == NAME {
            let id = parse_base36(key)
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| fail("a name row's key is not a base-36 id".to_owned()))?;
            let name = std::str::from_utf8(rest)
                .map_err(|_| fail("a name is not UTF-8".to_owned()))?
                .to_owned();
            self.ids.entry(name.clone()).or_insert(id);
            self.names.insert(id, name);
            self.next = self.next.max(id.saturating_add(1));
            return Ok(None);
        }
        let mut r = Reader {
            codec: self,
            body: rest,
            time: 0,
        };
        let row = match kind {
            SUBJECT => r.subject_row(key).map(Row::Subject),
            DELIVERY => r.delivery_row(key).map(Row::Delivery),
            COMMIT => r.commit_row(key).map(Row::Commit),
            CHANGE => r.change_row(key).map(Row::Change),
            DEPLOYMENT => r.deployment_row(key).map(Row::Deployment),
            INCIDENT => r.incident_row(key).map(Row::Incident),
            ALERT => r.alert_row(key).map(Row::Alert),
            other => Err(format!("unknown row kind {other}")),
        }
        .map_err(fail)?;
        if !r.body.is_empty() {
            return Err(fail(format!("{} bytes left after the row", r.body.len())));
        }
        Ok(Some(row))
    }
}

/// Lower-case base 36: short keys for ids (a 63-bit id in at most 13 characters).
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

fn parse_base36(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 13 {
        return None;
    }
    let mut n: u64 = 0;
    for c in text.chars() {
        let digit = c.to_digit(36)?;
        if c.is_ascii_uppercase() {
            return None;
        }
        n = n.checked_mul(36)?.checked_add(u64::from(digit))?;
    }
    // One spelling per id: no leading zeros.
    (base36(n) == text).then_some(n)
}

/// A 40-digit lower-case hexadecimal sha's 20 bytes; `None` for anything else.
fn sha1_bytes(text: &str) -> Option<[u8; 20]> {
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A key's sha part: base64url of the 20 bytes (27 characters) for a lower-case SHA-1, else
/// `~` and the text (`~` is outside the base64url alphabet).
fn sha_key(sha: &str) -> String {
    match sha1_bytes(sha) {
        Some(bytes) => base64url(&bytes),
        None => format!("~{sha}"),
    }
}

fn parse_sha_key(text: &str) -> Result<String, String> {
    if let Some(raw) = text.strip_prefix('~') {
        return Ok(raw.to_owned());
    }
    let bytes = parse_base64url(text).ok_or("a sha in the key is not base64url")?;
    if bytes.len() != 20 {
        return Err(format!(
            "a sha in the key has {} bytes, not 20",
            bytes.len()
        ));
    }
    Ok(hex(&bytes))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn parse_base64url(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| B64.iter().position(|&b| b == c).map(|p| p as u32);
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    // One spelling per byte string (no stray low bits).
    (base64url(&out) == text).then_some(out)
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    (n >> 1) as i64 ^ -((n & 1) as i64)
}

fn source_code(source: Source) -> u8 {
    Source::ALL.iter().position(|&s| s == source).unwrap_or(0) as u8
}

const DEPLOYMENT_STATUSES: [DeploymentStatus; 7] = [
    DeploymentStatus::Queued,
    DeploymentStatus::Started,
    DeploymentStatus::Succeeded,
    DeploymentStatus::Failed,
    DeploymentStatus::Canceled,
    DeploymentStatus::RolledBack,
    DeploymentStatus::Removed,
];
const EXCLUSIONS: [Exclusion; 3] = [
    Exclusion::FinishesBeforeStart,
    Exclusion::InTheFuture,
    Exclusion::CommittedAfterDeployment,
];
const HOTFIX_REASONS: [HotfixReason; 3] =
    [HotfixReason::Label, HotfixReason::Ref, HotfixReason::Change];
const COMMIT_SOURCES: [CommitSource; 2] = [CommitSource::Push, CommitSource::Git];
const CHANGE_SOURCES: [ChangeSource; 3] =
    [ChangeSource::Push, ChangeSource::Git, ChangeSource::Merge];
const LINK_KINDS: [LinkKind; 4] = [
    LinkKind::DeploymentId,
    LinkKind::Sha,
    LinkKind::Commit,
    LinkKind::Time,
];

fn code<T: PartialEq>(all: &[T], value: &T) -> u8 {
    all.iter().position(|v| v == value).unwrap_or(0) as u8
}

struct Writer<'c> {
    codec: &'c mut Codec,
    body: Vec<u8>,
    /// Ids handed out while encoding this row: their name rows go before it.
    new_names: Vec<u32>,
    /// The previous time written (times are deltas from it).
    time: Millis,
}

impl Writer<'_> {
    fn u8(&mut self, v: u8) {
        self.body.push(v);
    }

    fn varint(&mut self, mut v: u128) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.body.push(byte);
                return;
            }
            self.body.push(byte | 0x80);
        }
    }

    fn uint(&mut self, v: u64) {
        self.varint(u128::from(v));
    }

    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.body.extend_from_slice(s.as_bytes());
    }

    /// `None` as 0, else length + 1.
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.uint(0),
            Some(s) => {
                self.varint(s.len() as u128 + 1);
                self.body.extend_from_slice(s.as_bytes());
            }
        }
    }

    fn opt_uint(&mut self, v: Option<u64>) {
        match v {
            None => self.uint(0),
            Some(v) => self.varint(u128::from(v) + 1),
        }
    }

    /// A row id: 8 bytes (they are uniformly spread 63-bit digests, a varint would take 9).
    fn id(&mut self, id: u64) {
        self.body.extend_from_slice(&id.to_le_bytes());
    }

    fn opt_id(&mut self, id: Option<u64>) {
        match id {
            None => self.u8(0),
            Some(id) => {
                self.u8(1);
                self.id(id);
            }
        }
    }

    fn time(&mut self, t: Millis) {
        let delta = t.wrapping_sub(self.time);
        self.time = t;
        self.uint(zigzag(delta));
    }

    fn opt_time(&mut self, t: Option<Millis>) {
        match t {
            None => self.uint(0),
            Some(t) => {
                let delta = t.wrapping_sub(self.time);
                self.time = t;
                self.varint(u128::from(zigzag(delta)) + 1);
            }
        }
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.codec.ids.get(name) {
            return id;
        }
        let id = self.codec.next;
        self.codec.next += 1;
        self.codec.ids.insert(name.to_owned(), id);
        self.codec.names.insert(id, name.to_owned());
        self.new_names.push(id);
        id
    }

    fn name(&mut self, name: &str) {
        let id = self.name_id(name);
        self.uint(u64::from(id));
    }

    fn opt_name(&mut self, name: Option<&str>) {
        match name {
            None => self.uint(0),
            Some(name) => {
                let id = self.name_id(name);
                self.uint(u64::from(id) + 1);
            }
        }
    }

    /// A sha: tag 1 and 20 bytes for a lower-case SHA-1, else tag 2 and the text; tag 0 for
    /// none.
    fn opt_sha(&mut self, sha: Option<&str>) {
        match sha {
            None => self.u8(0),
            Some(sha) => match sha1_bytes(sha) {
                Some(bytes) => {
                    self.u8(1);
                    self.body.extend_from_slice(&bytes);
                }
                None => {
                    self.u8(2);
                    self.str(sha);
                }
            },
        }
    }

    fn opt_code<T: PartialEq>(&mut self, all: &[T], value: Option<&T>) {
        self.u8(value.map_or(0, |v| code(all, v) + 1));
    }

    fn strs(&mut self, items: &[String]) {
        self.uint(items.len() as u64);
        for item in items {
            self.str(item);
        }
    }

    fn subject(&mut self, subject: &Subject) {
        match subject {
            Subject::Repository { host, slug, url } => {
                self.u8(0);
                self.str(host);
                self.str(slug);
                self.str(url);
            }
            Subject::PagerDutyService { id, name } => {
                self.u8(1);
                self.str(id);
                self.opt_str(name.as_deref());
            }
            // Tag 2 is an alert without tags or details (all that was stored before pave read
            // them); 7 adds them.
            Subject::Opsgenie {
                teams,
                entity,
                tags,
                details,
            } => {
                let plain = tags.is_empty() && details.is_empty();
                self.u8(if plain { 2 } else { 7 });
                self.strs(teams);
                self.opt_str(entity.as_deref());
                if !plain {
                    self.strs(tags);
                    self.uint(details.len() as u64);
                    for (k, v) in details {
                        self.str(k);
                        self.str(v);
                    }
                }
            }
            Subject::ArgoApp { name, repo_url } => {
                self.u8(3);
                self.str(name);
                self.opt_str(repo_url.as_deref());
            }
            Subject::Flux {
                kind,
                namespace,
                name,
            } => {
                self.u8(4);
                self.str(kind);
                self.str(namespace);
                self.str(name);
            }
            Subject::Cdevents { source, id } => {
                self.u8(5);
                self.str(source);
                self.str(id);
            }
            Subject::Labels(labels) => {
                self.u8(6);
                self.uint(labels.len() as u64);
                for (k, v) in labels {
                    self.str(k);
                    self.str(v);
                }
            }
        }
    }

    fn seqs(&mut self, first: u64, last: u64) {
        self.uint(first);
        self.uint(zigzag(last.wrapping_sub(first) as i64));
    }

    fn subject_row(&mut self, r: &SubjectRow) -> String {
        self.subject(&r.subject);
        self.opt_name(r.entity.as_deref());
        self.opt_str(r.how.as_deref());
        self.uint(r.events);
        self.time(r.last_seen);
        r.key.clone()
    }

    fn delivery_row(&mut self, r: &DeliveryRow) -> String {
        self.uint(r.seq);
        self.time(r.received_at);
        self.uint(u64::from(r.events));
        format!("{}:{}", source_code(r.source), r.id)
    }

    fn commit_row(&mut self, r: &CommitRow) -> String {
        self.uint(r.parents.len() as u64);
        for parent in &r.parents {
            self.opt_sha(Some(parent));
        }
        self.time(r.committed_at);
        self.u8(code(&COMMIT_SOURCES, &r.source));
        let repo = self.name_id(&r.repo);
        format!("{}:{}", base36(u64::from(repo)), sha_key(&r.sha))
    }

    fn change_row(&mut self, r: &ChangeRow) -> String {
        self.opt_name(r.entity.as_deref());
        self.time(r.committed_at);
        self.u8(code(&CHANGE_SOURCES, &r.source));
        self.opt_time(r.merged_at);
        self.opt_uint(r.number);
        self.bool(r.hotfix);
        self.uint(r.shipped.len() as u64);
        for shipped in &r.shipped {
            self.name(&shipped.environment);
            self.id(shipped.deployment);
        }
        let repo = self.name_id(&r.repo);
        format!("{}:{}", base36(u64::from(repo)), sha_key(&r.sha))
    }

    fn deployment_row(&mut self, d: &DeploymentRow) -> String {
        self.u8(source_code(d.source));
        self.name(&d.subject_key);
        self.str(&d.source_id);
        self.opt_name(d.entity.as_deref());
        self.name(&d.environment);
        // production, sender_production (none, false, true) and rollback in one byte.
        let sender = match d.sender_production {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        self.u8(u8::from(d.production) | sender << 1 | u8::from(d.rollback) << 3);
        self.opt_name(d.repo.as_deref());
        self.opt_sha(d.sha.as_deref());
        self.opt_str(d.version.as_deref());
        self.opt_str(d.url.as_deref());
        self.u8(code(&DEPLOYMENT_STATUSES, &d.status));
        self.opt_time(d.status_at);
        self.opt_time(d.queued_at);
        self.opt_time(d.started_at);
        self.opt_time(d.finished_at);
        self.opt_code(&HOTFIX_REASONS, d.hotfix.as_ref());
        self.opt_code(&EXCLUSIONS, d.excluded.as_ref());
        match &d.changeset {
            None => self.u8(0),
            Some(c) => {
                self.u8(1);
                self.opt_id(c.previous);
                self.uint(u64::from(c.commits));
                self.bool(c.truncated);
                self.changeset_reason(c.reason.as_ref());
                self.uint(c.sources.len() as u64);
                for source in &c.sources {
                    self.u8(code(&COMMIT_SOURCES, source));
                }
            }
        }
        self.seqs(d.first_seq, d.last_seq);
        base36(d.id)
    }

    fn changeset_reason(&mut self, reason: Option<&ChangesetReason>) {
        match reason {
            None => self.u8(0),
            Some(ChangesetReason::NoRepository) => self.u8(1),
            Some(ChangesetReason::NoSha) => self.u8(2),
            Some(ChangesetReason::UnknownSha) => self.u8(3),
            Some(ChangesetReason::UnknownPrevious { sha }) => {
                self.u8(4);
                self.str(sha);
            }
            Some(ChangesetReason::HistoryBoundary { missing }) => {
                self.u8(5);
                self.uint(*missing as u64);
            }
            Some(ChangesetReason::Cap { limit }) => {
                self.u8(6);
                self.uint(*limit as u64);
            }
            Some(ChangesetReason::FirstDeployment { since }) => {
                self.u8(7);
                self.time(*since);
            }
        }
    }

    fn incident_row(&mut self, r: &IncidentRow) -> String {
        self.u8(source_code(r.source));
        self.str(&r.incident);
        self.name(&r.subject_key);
        self.opt_name(r.entity.as_deref());
        self.opt_uint(r.number);
        self.opt_str(r.title.as_deref());
        self.opt_uint(r.severity.map(u64::from));
        self.opt_str(r.severity_raw.as_deref());
        self.opt_str(r.url.as_deref());
        self.opt_name(r.environment.as_deref());
        self.time(r.opened_at);
        self.opt_time(r.reported_opened_at);
        self.time(r.first_event_at);
        self.opt_time(r.acknowledged_at);
        self.opt_time(r.resolved_at);
        self.opt_time(r.last_resolved_at);
        self.uint(r.reopened_at.len() as u64);
        for &t in &r.reopened_at {
            self.time(t);
        }
        self.opt_str(r.caused_by_reference.as_deref());
        self.opt_id(r.caused_by);
        self.opt_code(&LINK_KINDS, r.link.as_ref());
        self.opt_id(r.fixed_by);
        self.seqs(r.first_seq, r.last_seq);
        base36(r.id)
    }

    fn alert_row(&mut self, r: &AlertRow) -> String {
        self.u8(source_code(r.source));
        self.str(&r.fingerprint);
        self.name(&r.subject_key);
        self.opt_name(r.entity.as_deref());
        self.opt_str(r.name.as_deref());
        self.opt_str(r.severity.as_deref());
        self.opt_str(r.summary.as_deref());
        self.opt_str(r.url.as_deref());
        self.time(r.starts_at);
        self.opt_time(r.ends_at);
        self.seqs(r.first_seq, r.last_seq);
        base36(r.id)
    }
}

struct Reader<'c, 'b> {
    codec: &'c Codec,
    body: &'b [u8],
    time: Millis,
}

type Read<T> = Result<T, String>;

impl Reader<'_, '_> {
    fn u8(&mut self) -> Read<u8> {
        let (&b, rest) = self.body.split_first().ok_or("the body ends early")?;
        self.body = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Read<&[u8]> {
        if self.body.len() < n {
            return Err(format!(
                "the body ends early ({n} bytes wanted, {} left)",
                self.body.len()
            ));
        }
        let (head, rest) = self.body.split_at(n);
        self.body = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Read<u128> {
        let mut v: u128 = 0;
        for shift in (0..19 * 7).step_by(7) {
            let byte = self.u8()?;
            let bits = u128::from(byte & 0x7f);
            if shift == 126 && bits > 3 {
                return Err("a number is too large".to_owned());
            }
            v |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number is too long".to_owned())
    }

    fn uint(&mut self) -> Read<u64> {
        u64::try_from(self.varint()?).map_err(|_| "a number is too large".to_owned())
    }

    fn small(&mut self) -> Read<u32> {
        u32::try_from(self.uint()?).map_err(|_| "a count is too large".to_owned())
    }

    fn len(&mut self) -> Read<usize> {
        let n = self.uint()?;
        // Nothing can be longer than what is left of the body: a corrupt length fails here
        // instead of asking for a huge allocation.
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.body.len())
            .ok_or_else(|| format!("a length of {n} exceeds the body"))
    }

    fn bool(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("{other} is not a boolean")),
        }
    }

    fn text(&mut self, n: usize) -> Read<String> {
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| "a text is not UTF-8".to_owned())
    }

    fn str(&mut self) -> Read<String> {
        let n = self.len()?;
        self.text(n)
    }

    fn opt_str(&mut self) -> Read<Option<String>> {
        match self.uint()? {
            0 => Ok(None),
            n => {
                let n = usize::try_from(n - 1)
                    .ok()
                    .filter(|&n| n <= self.body.len())
                    .ok_or("a length exceeds the body")?;
                self.text(n).map(Some)
            }
        }
    }

    fn opt_uint(&mut self) -> Read<Option<u64>> {
        match self.varint()? {
            0 => Ok(None),
            n => u64::try_from(n - 1)
                .map(Some)
                .map_err(|_| "a number is too large".to_owned()),
        }
    }

    fn id(&mut self) -> Read<u64> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    fn opt_id(&mut self) -> Read<Option<u64>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.id().map(Some),
            other => Err(format!("{other} is not an optional id's tag")),
        }
    }

    fn time(&mut self) -> Read<Millis> {
        let delta = unzigzag(self.uint()?);
        self.time = self.time.wrapping_add(delta);
        Ok(self.time)
    }

    fn opt_time(&mut self) -> Read<Option<Millis>> {
        match self.varint()? {
            0 => Ok(None),
            n => {
                let z = u64::try_from(n - 1).map_err(|_| "a time is too large".to_owned())?;
                self.time = self.time.wrapping_add(unzigzag(z));
                Ok(Some(self.time))
            }
        }
    }

    fn lookup(&self, id: u64) -> Read<String> {
        u32::try_from(id)
            .ok()
            .and_then(|id| self.codec.names.get(&id))
            .cloned()
            .ok_or_else(|| format!("name {} is not in the name rows", base36(id)))
    }

    fn name(&mut self) -> Read<String> {
        let id = self.uint()?;
        self.lookup(id)
    }

    fn opt_name(&mut self) -> Read<Option<String>> {
        match self.uint()? {
            0 => Ok(None),
            id => self.lookup(id - 1).map(Some),
        }
    }

    fn opt_sha(&mut self) -> Read<Option<String>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(hex(self.take(20)?))),
            2 => self.str().map(Some),
            other => Err(format!("{other} is not a sha's tag")),
        }
    }

    fn sha(&mut self) -> Read<String> {
        self.opt_sha()?.ok_or_else(|| "a sha is missing".to_owned())
    }

    fn code<T: Copy>(&mut self, all: &[T], what: &str) -> Read<T> {
        let c = self.u8()?;
        all.get(usize::from(c))
            .copied()
            .ok_or_else(|| format!("{c} is not a {what}"))
    }

    fn opt_code<T: Copy>(&mut self, all: &[T], what: &str) -> Read<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            c => all
                .get(usize::from(c - 1))
                .copied()
                .map(Some)
                .ok_or_else(|| format!("{c} is not a {what}")),
        }
    }

    fn source(&mut self) -> Read<Source> {
        self.code(&Source::ALL, "source")
    }

    fn strs(&mut self) -> Read<Vec<String>> {
        let n = self.len()?;
        (0..n).map(|_| self.str()).collect()
    }

    fn subject(&mut self) -> Read<Subject> {
        Ok(match self.u8()? {
            0 => Subject::Repository {
                host: self.str()?,
                slug: self.str()?,
                url: self.str()?,
            },
            1 => Subject::PagerDutyService {
                id: self.str()?,
                name: self.opt_str()?,
            },
            2 => Subject::Opsgenie {
                teams: self.strs()?,
                entity: self.opt_str()?,
                tags: Vec::new(),
                details: BTreeMap::new(),
            },
            7 => {
                let teams = self.strs()?;
                let entity = self.opt_str()?;
                let tags = self.strs()?;
                let n = self.len()?;
                let mut details = BTreeMap::new();
                for _ in 0..n {
                    let key = self.str()?;
                    let value = self.str()?;
                    details.insert(key, value);
                }
                Subject::Opsgenie {
                    teams,
                    entity,
                    tags,
                    details,
                }
            }
            3 => Subject::ArgoApp {
                name: self.str()?,
                repo_url: self.opt_str()?,
            },
            4 => Subject::Flux {
                kind: self.str()?,
                namespace: self.str()?,
                name: self.str()?,
            },
            5 => Subject::Cdevents {
                source: self.str()?,
                id: self.str()?,
            },
            6 => {
                let n = self.len()?;
                let mut labels = BTreeMap::new();
                for _ in 0..n {
                    let key = self.str()?;
                    let value = self.str()?;
                    labels.insert(key, value);
                }
                Subject::Labels(labels)
            }
            other => return Err(format!("{other} is not a subject's tag")),
        })
    }

    fn seqs(&mut self) -> Read<(u64, u64)> {
        let first = self.uint()?;
        let delta = unzigzag(self.uint()?);
        Ok((first, first.wrapping_add(delta as u64)))
    }

    fn key_id(key: &str) -> Read<u64> {
        parse_base36(key).ok_or_else(|| "the key is not a base-36 id".to_owned())
    }

    /// `<repo id>:<sha>` of commits and changes.
    fn repo_sha(&self, key: &str) -> Read<(String, String)> {
        let (repo, sha) = key
            .split_once(':')
            .ok_or("the key is not <repository>:<sha>")?;
        let repo = parse_base36(repo).ok_or("the key's repository is not a base-36 id")?;
        Ok((self.lookup(repo)?, parse_sha_key(sha)?))
    }

    fn subject_row(&mut self, key: &str) -> Read<SubjectRow> {
        Ok(SubjectRow {
            key: key.to_owned(),
            subject: self.subject()?,
            entity: self.opt_name()?,
            how: self.opt_str()?,
            events: self.uint()?,
            last_seen: self.time()?,
        })
    }

    fn delivery_row(&mut self, key: &str) -> Read<DeliveryRow> {
        let (source, id) = key.split_once(':').ok_or("the key is not <source>:<id>")?;
        let source = source
            .parse::<usize>()
            .ok()
            .and_then(|s| Source::ALL.get(s).copied())
            .ok_or("the key's source is not a source")?;
        Ok(DeliveryRow {
            source,
            id: id.to_owned(),
            seq: self.uint()?,
            received_at: self.time()?,
            events: self.small()?,
        })
    }

    fn commit_row(&mut self, key: &str) -> Read<CommitRow> {
        let (repo, sha) = self.repo_sha(key)?;
        let n = self.len()?;
        let parents = (0..n).map(|_| self.sha()).collect::<Read<Vec<_>>>()?;
        Ok(CommitRow {
            repo,
            sha,
            parents,
            committed_at: self.time()?,
            source: self.code(&COMMIT_SOURCES, "commit source")?,
        })
    }

    fn change_row(&mut self, key: &str) -> Read<ChangeRow> {
        let (repo, sha) = self.repo_sha(key)?;
        let entity = self.opt_name()?;
        let committed_at = self.time()?;
        let source = self.code(&CHANGE_SOURCES, "change source")?;
        let merged_at = self.opt_time()?;
        let number = self.opt_uint()?;
        let hotfix = self.bool()?;
        let n = self.len()?;
        let mut shipped = Vec::with_capacity(n);
        for _ in 0..n {
            shipped.push(ShippedIn {
                environment: self.name()?,
                deployment: self.id()?,
            });
        }
        Ok(ChangeRow {
            repo,
            sha,
            entity,
            committed_at,
            source,
            merged_at,
            number,
            hotfix,
            shipped,
        })
    }

    fn deployment_row(&mut self, key: &str) -> Read<DeploymentRow> {
        let id = Self::key_id(key)?;
        let source = self.source()?;
        let subject_key = self.name()?;
        let source_id = self.str()?;
        let entity = self.opt_name()?;
        let environment = self.name()?;
        let flags = self.u8()?;
        if flags >> 4 != 0 || (flags >> 1) & 3 == 3 {
            return Err(format!("{flags:#x} are not a deployment's flags"));
        }
        let sender_production = match (flags >> 1) & 3 {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        };
        let repo = self.opt_name()?;
        let sha = self.opt_sha()?;
        let version = self.opt_str()?;
        let url = self.opt_str()?;
        let status = self.code(&DEPLOYMENT_STATUSES, "deployment status")?;
        let status_at = self.opt_time()?;
        let queued_at = self.opt_time()?;
        let started_at = self.opt_time()?;
        let finished_at = self.opt_time()?;
        let hotfix = self.opt_code(&HOTFIX_REASONS, "hotfix reason")?;
        let excluded = self.opt_code(&EXCLUSIONS, "exclusion")?;
        let changeset = match self.u8()? {
            0 => None,
            1 => Some(ChangesetRow {
                previous: self.opt_id()?,
                commits: self.small()?,
                truncated: self.bool()?,
                reason: self.changeset_reason()?,
                sources: {
                    let n = self.len()?;
                    (0..n)
                        .map(|_| self.code(&COMMIT_SOURCES, "commit source"))
                        .collect::<Read<Vec<_>>>()?
                },
            }),
            other => return Err(format!("{other} is not a change set's tag")),
        };
        let (first_seq, last_seq) = self.seqs()?;
        Ok(DeploymentRow {
            id,
            source,
            subject_key,
            source_id,
            entity,
            environment,
            production: flags & 1 == 1,
            sender_production,
            repo,
            sha,
            version,
            url,
            status,
            status_at,
            queued_at,
            started_at,
            finished_at,
            rollback: flags & 8 == 8,
            hotfix,
            excluded,
            changeset,
            first_seq,
            last_seq,
        })
    }

    fn changeset_reason(&mut self) -> Read<Option<ChangesetReason>> {
        Ok(Some(match self.u8()? {
            0 => return Ok(None),
            1 => ChangesetReason::NoRepository,
            2 => ChangesetReason::NoSha,
            3 => ChangesetReason::UnknownSha,
            4 => ChangesetReason::UnknownPrevious { sha: self.str()? },
            5 => ChangesetReason::HistoryBoundary {
                missing: self.uint()? as usize,
            },
            6 => ChangesetReason::Cap {
                limit: self.uint()? as usize,
            },
            7 => ChangesetReason::FirstDeployment {
                since: self.time()?,
            },
            other => return Err(format!("{other} is not a change set reason")),
        }))
    }

    fn incident_row(&mut self, key: &str) -> Read<IncidentRow> {
        let id = Self::key_id(key)?;
        let source = self.source()?;
        let incident = self.str()?;
        let subject_key = self.name()?;
        let entity = self.opt_name()?;
        let number = self.opt_uint()?;
        let title = self.opt_str()?;
        let severity = match self.opt_uint()? {
            None => None,
            Some(level) => {
                Some(u8::try_from(level).map_err(|_| format!("{level} is not a severity"))?)
            }
        };
        let severity_raw = self.opt_str()?;
        let url = self.opt_str()?;
        let environment = self.opt_name()?;
        let opened_at = self.time()?;
        let reported_opened_at = self.opt_time()?;
        let first_event_at = self.time()?;
        let acknowledged_at = self.opt_time()?;
        let resolved_at = self.opt_time()?;
        let last_resolved_at = self.opt_time()?;
        let n = self.len()?;
        let reopened_at = (0..n).map(|_| self.time()).collect::<Read<Vec<_>>>()?;
        let caused_by_reference = self.opt_str()?;
        let caused_by = self.opt_id()?;
        let link = self.opt_code(&LINK_KINDS, "link kind")?;
        let fixed_by = self.opt_id()?;
        let (first_seq, last_seq) = self.seqs()?;
        Ok(IncidentRow {
            id,
            source,
            incident,
            subject_key,
            entity,
            number,
            title,
            severity,
            severity_raw,
            url,
            environment,
            opened_at,
            reported_opened_at,
            first_event_at,
            acknowledged_at,
            resolved_at,
            last_resolved_at,
            reopened_at,
            caused_by_reference,
            caused_by,
            link,
            fixed_by,
            first_seq,
            last_seq,
        })
    }

    fn alert_row(&mut self, key: &str) -> Read<AlertRow> {
        let id = Self::key_id(key)?;
        let source = self.source()?;
        let fingerprint = self.str()?;
        let subject_key = self.name()?;
        let entity = self.opt_name()?;
        let name = self.opt_str()?;
        let severity = self.opt_str()?;
        let summary = self.opt_str()?;
        let url = self.opt_str()?;
        let starts_at = self.time()?;
        let ends_at = self.opt_time()?;
        let (first_seq, last_seq) = self.seqs()?;
        Ok(AlertRow {
            id,
            source,
            fingerprint,
            subject_key,
            entity,
            name,
            severity,
            summary,
            url,
            starts_at,
            ends_at,
            first_seq,
            last_seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_spelling() {
        for n in [0, 1, 35, 36, 1 << 40, u64::MAX >> 1, u64::MAX] {
            assert_eq!(parse_base36(&base36(n)), Some(n));
        }
        assert_eq!(parse_base36("00"), None);
        assert_eq!(parse_base36("A"), None);
        assert_eq!(parse_base36(""), None);
        assert_eq!(parse_base36("zzzzzzzzzzzzzz"), None);
        for bytes in [&[][..], &[0], &[1, 2], &[255, 254, 253], &[7; 20]] {
            assert_eq!(parse_base64url(&base64url(bytes)).as_deref(), Some(bytes));
        }
        // Low bits set where the length says there are none: not a spelling we write.
        assert_eq!(parse_base64url("AB"), None);
        let sha = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
        assert_eq!(sha_key(sha).len(), 27);
        assert_eq!(parse_sha_key(&sha_key(sha)).unwrap(), sha);
        // Upper case and other ids keep their text.
        for other in ["F95F852BD8FCA8FCC58A9A2D6C842781E32A215E", "c1", "~x"] {
            assert_eq!(parse_sha_key(&sha_key(other)).unwrap(), other);
        }
    }

    #[test]
    fn numbers_round_trip_at_their_limits() {
        for n in [0, 1, -1, i64::MIN, i64::MAX, 1_700_000_000_000] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
        let mut codec = Codec::new();
        let mut w = Writer {
            codec: &mut codec,
            body: Vec::new(),
            new_names: Vec::new(),
            time: 0,
        };
        let times = [Some(i64::MIN), None, Some(i64::MAX), Some(0), Some(-5)];
        for t in times {
            w.opt_time(t);
        }
        w.varint(u128::MAX);
        w.opt_uint(Some(u64::MAX));
        let body = w.body;
        let mut r = Reader {
            codec: &codec,
            body: &body,
            time: 0,
        };
        for t in times {
            assert_eq!(r.opt_time().unwrap(), t);
        }
        assert_eq!(r.varint().unwrap(), u128::MAX);
        assert_eq!(r.opt_uint().unwrap(), Some(u64::MAX));
        assert!(r.body.is_empty());
    }
}
