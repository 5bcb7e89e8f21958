//! Evidence packs: a signed zip of the audit records of a window plus access, token,
//! sign-in, exception and ownership reports, readable and checkable without pave.
//!
//! The layout is in the crate documentation. Building is deterministic (fixed entry times and
//! permissions, fixed order, sorted manifest), so the same inputs give the same bytes.
//! Verification streams every entry (hashing `audit.jsonl` while re-verifying its chain), so
//! a large or hostile pack costs time, not memory.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::io::{self, Cursor, Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::digest;
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::checkpoint::{SigningKey, VerifyingKey};
use crate::export::{CsvWriter, Exporter, Format, format_time_ms};
use crate::record::{AuditRecord, Hash};
use crate::verify::{Problem, VerifyReport, verify_segment};

pub const README: &str = "README.md";
pub const AUDIT_JSONL: &str = "audit.jsonl";
pub const AUDIT_CSV: &str = "audit.csv";
pub const ACCESS_CSV: &str = "access.csv";
pub const TOKENS_CSV: &str = "tokens.csv";
pub const SIGN_INS_CSV: &str = "sign-ins.csv";
pub const EXCEPTIONS_CSV: &str = "exceptions.csv";
pub const OWNERLESS_CSV: &str = "ownerless.csv";
pub const SHA256SUMS: &str = "SHA256SUMS";
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SIG: &str = "manifest.sig";

/// The files `SHA256SUMS` lists, in pack order.
pub const DATA_FILES: [&str; 8] = [
    README,
    AUDIT_JSONL,
    AUDIT_CSV,
    ACCESS_CSV,
    TOKENS_CSV,
    SIGN_INS_CSV,
    EXCEPTIONS_CSV,
    OWNERLESS_CSV,
];

/// The manifest's format tag.
pub const PACK_FORMAT: &str = "pave-evidence-v1";

/// Actions copied into `sign-ins.csv`.
pub const SIGN_IN_ACTIONS: [&str; 3] = ["auth.sign_in", "auth.sign_out", "auth.failed"];

/// Deflate level 1: on 100,000 records (~100 MB of JSONL and CSV) it takes a third of
/// level 6's time (about 0.5 s against 2.3 s) for a zip a fifth larger (18 MB against 15).
const DEFLATE_LEVEL: i64 = 1;
/// Caps on what is read into memory from an untrusted pack.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
const MAX_SIG_BYTES: u64 = 1 << 10;

/// One role binding: who holds which role and why (`group:default/sre` via `pave.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub subject: String,
    pub role: String,
    pub why: String,
}

/// One active API token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub role: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
    pub expires_ms: i64,
}

/// One entry of the guardrail exceptions register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRow {
    pub rule: String,
    pub target: String,
    pub owner: String,
    pub reason: String,
    /// `None`: no expiry (itself a finding an auditor wants to see).
    pub expires_ms: Option<i64>,
}

/// An entity without a valid owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerlessRow {
    pub entity_ref: String,
    /// What `spec.owner` says (empty if nothing).
    pub owner: String,
    pub problem: String,
}

/// Everything a pack holds, gathered by the caller from the store.
#[derive(Debug, Clone, Default)]
pub struct EvidenceInputs {
    /// The window, Unix ms, `from` inclusive, `to` exclusive.
    pub from_ms: i64,
    pub to_ms: i64,
    pub generated_ms: i64,
    /// The window's records: one contiguous run of the chain in seq order (select by seq
    /// range, from the first record at or after `from` to the last before `to`, so a clock
    /// skew between replicas cannot leave gaps). `sign-ins.csv` is derived from them.
    pub records: Vec<AuditRecord>,
    pub access: Vec<AccessRow>,
    pub tokens: Vec<TokenRow>,
    pub exceptions: Vec<ExceptionRow>,
    pub ownerless: Vec<OwnerlessRow>,
}

/// The window in both forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: String,
    pub to: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Where the pack's records sit in the log, so they can be matched with the live chain or
/// an exported checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSummary {
    pub records: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The hash of the record before the first one (what the window chains from).
    pub prev_hash: Option<Hash>,
    pub last_hash: Option<Hash>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub window: Window,
    pub generated: String,
    pub generated_ms: i64,
    pub key_id: String,
    pub public_key: VerifyingKey,
    pub audit: AuditSummary,
    /// File name → SHA-256 hex, every file but the manifest and its signature.
    pub files: BTreeMap<String, Hash>,
}

/// Which key vouched for a verified pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The key the caller expected (the organisation's): integrity and origin.
    ExpectedKey,
    /// Only the key inside the pack: integrity, not origin (anyone can sign with their own).
    EmbeddedKey,
}

/// A verified pack.
#[derive(Debug, Clone)]
pub struct PackReport {
    pub manifest: Manifest,
    pub signer: Signer,
    /// Every file with its size in bytes, in archive order.
    pub files: Vec<(String, u64)>,
    pub chain: VerifyReport,
}

impl fmt::Display for PackReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.manifest;
        write!(
            f,
            "evidence pack OK: {} .. {}, generated {}, {} files, {} audit records",
            m.window.from,
            m.window.to,
            m.generated,
            self.files.len(),
            m.audit.records
        )?;
        if let (Some(a), Some(b)) = (m.audit.first_seq, m.audit.last_seq) {
            write!(f, " (seq {a}..{b})")?;
        }
        match self.signer {
            Signer::ExpectedKey => write!(f, "; signed by the expected key {}", m.key_id),
            Signer::EmbeddedKey => write!(
                f,
                "; signed by the key inside the pack ({}): this proves the pack is intact, not \
                 who made it; check it against the organisation's public key to prove origin",
                m.key_id
            ),
        }
    }
}

/// Why a pack could not be built or does not verify. Every variant about a file names it.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("the window ends ({to}) before it starts ({from})")]
    Window { from: String, to: String },
    #[error("the audit records do not form one chain, refusing to sign them: {0}")]
    BrokenInput(Problem),
    #[error("not a readable zip archive: {0}")]
    Archive(String),
    #[error("{file}: cannot be read from the archive: {message}")]
    Unreadable { file: String, message: String },
    #[error("the archive lists a file name twice (a second copy could hide behind the first)")]
    DuplicateName,
    #[error("{0} is missing from the pack")]
    Missing(String),
    #[error("{0} is not part of an evidence pack (not listed in manifest.json)")]
    Unexpected(String),
    #[error("manifest.json: {0}")]
    Manifest(String),
    #[error("manifest.sig: {0}")]
    SignatureFormat(String),
    #[error(
        "manifest.sig does not verify manifest.json with key {key_id}: one of them was changed"
    )]
    BadSignature { key_id: String },
    #[error("manifest.json is signed by key {found}, not by the expected key {expected}")]
    WrongKey { found: String, expected: String },
    #[error("{file} was changed: its SHA-256 is {actual}, manifest.json says {expected}")]
    Tampered {
        file: String,
        expected: Hash,
        actual: Hash,
    },
    #[error("audit.jsonl: {0}")]
    Chain(Problem),
    #[error("audit.jsonl does not match manifest.json's audit summary: {0}")]
    Summary(String),
    #[error("writing the pack: {0}")]
    Write(String),
}

impl EvidenceError {
    /// The file of the pack the error is about, if one.
    pub fn file(&self) -> Option<&str> {
        match self {
            EvidenceError::Unreadable { file, .. }
            | EvidenceError::Missing(file)
            | EvidenceError::Unexpected(file)
            | EvidenceError::Tampered { file, .. } => Some(file),
            EvidenceError::Manifest(_) | EvidenceError::WrongKey { .. } => Some(MANIFEST),
            EvidenceError::SignatureFormat(_) | EvidenceError::BadSignature { .. } => {
                Some(MANIFEST_SIG)
            }
            EvidenceError::Chain(_) | EvidenceError::Summary(_) => Some(AUDIT_JSONL),
            EvidenceError::Window { .. }
            | EvidenceError::BrokenInput(_)
            | EvidenceError::Archive(_)
            | EvidenceError::DuplicateName
            | EvidenceError::Write(_) => None,
        }
    }
}

fn write_err(e: impl fmt::Display) -> EvidenceError {
    EvidenceError::Write(e.to_string())
}

/// Hashes what passes through, on its way to a writer or from a reader.
struct Hashing<T> {
    inner: T,
    ctx: digest::Context,
    bytes: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            inner,
            ctx: digest::Context::new(&digest::SHA256),
            bytes: 0,
        }
    }

    fn finish(self) -> (T, Hash, u64) {
        (
            self.inner,
            Hash::from_digest(&self.ctx.finish()),
            self.bytes,
        )
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.ctx.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ctx.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

type Zip = ZipWriter<Cursor<Vec<u8>>>;

/// Builds the pack, signed with `key`. Refuses records that are not one clean chain: a pack
/// must not vouch for a log that has already been tampered with.
pub fn build_pack(inputs: &EvidenceInputs, key: &SigningKey) -> Result<Vec<u8>, EvidenceError> {
    if inputs.to_ms < inputs.from_ms {
        return Err(EvidenceError::Window {
            from: format_time_ms(inputs.from_ms),
            to: format_time_ms(inputs.to_ms),
        });
    }
    let chain = verify_segment(inputs.records.iter().map(Ok::<_, Infallible>), &[], None);
    if let Some(p) = chain.problem {
        return Err(EvidenceError::BrokenInput(p));
    }
    let public = key.public();
    let window = Window {
        from: format_time_ms(inputs.from_ms),
        to: format_time_ms(inputs.to_ms),
        from_ms: inputs.from_ms,
        to_ms: inputs.to_ms,
    };
    let generated = format_time_ms(inputs.generated_ms);
    let options = entry_options(inputs.generated_ms);
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(
        inputs.records.len() * 256 + 16 * 1024,
    )));
    let mut files = BTreeMap::new();
    let readme = readme(&window, &generated, &public);
    for name in DATA_FILES {
        let hash = put(&mut zip, options, name, |w| {
            data_file(name, w, inputs, &readme)
        })?;
        files.insert(name.to_owned(), hash);
    }
    let sums = sha256sums(&files);
    let sums_hash = put(&mut zip, options, SHA256SUMS, |w| {
        w.write_all(sums.as_bytes())
    })?;
    files.insert(SHA256SUMS.to_owned(), sums_hash);

    let manifest = Manifest {
        format: PACK_FORMAT.to_owned(),
        window,
        generated,
        generated_ms: inputs.generated_ms,
        key_id: public.key_id().to_owned(),
        public_key: public,
        audit: summary(&inputs.records),
        files,
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(write_err)?;
    manifest_bytes.push(b'\n');
    let signature = format!("{}\n", B64.encode(key.sign(&manifest_bytes)));
    put(&mut zip, options, MANIFEST, |w| {
        w.write_all(&manifest_bytes)
    })?;
    put(&mut zip, options, MANIFEST_SIG, |w| {
        w.write_all(signature.as_bytes())
    })?;
    Ok(zip.finish().map_err(write_err)?.into_inner())
}

fn entry_options(generated_ms: i64) -> SimpleFileOptions {
    // The generation time (deterministic: it is an input) rather than "now"; the DOS date
    // range is 1980..2107, outside it the format's default.
    let secs = generated_ms.div_euclid(1000);
    let (y, mo, d) = pave_stdx::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let time = (|| {
        DateTime::from_date_and_time(
            u16::try_from(y).ok()?,
            u8::try_from(mo).ok()?,
            u8::try_from(d).ok()?,
            u8::try_from(rem / 3600).ok()?,
            u8::try_from(rem % 3600 / 60).ok()?,
            u8::try_from(rem % 60).ok()?,
        )
        .ok()
    })()
    .unwrap_or(DateTime::DEFAULT);
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(DEFLATE_LEVEL))
        .last_modified_time(time)
        .unix_permissions(0o644)
}

/// Adds one entry written by `fill` and returns its SHA-256.
fn put(
    zip: &mut Zip,
    options: SimpleFileOptions,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Hash, EvidenceError> {
    zip.start_file(name, options).map_err(write_err)?;
    let mut w = Hashing::new(io::BufWriter::with_capacity(1 << 16, &mut *zip));
    fill(&mut w).map_err(|e| EvidenceError::Write(format!("{name}: {e}")))?;
    let (buffered, hash, _) = w.finish();
    buffered
        .into_inner()
        .map_err(|e| EvidenceError::Write(format!("{name}: {}", e.error())))?;
    Ok(hash)
}

/// The content of data file `name`.
fn data_file(
    name: &str,
    w: &mut dyn Write,
    inputs: &EvidenceInputs,
    readme: &str,
) -> io::Result<()> {
    match name {
        README => w.write_all(readme.as_bytes()),
        AUDIT_JSONL => audit_file(w, &inputs.records, Format::Jsonl),
        AUDIT_CSV => audit_file(w, &inputs.records, Format::Csv),
        SIGN_INS_CSV => sign_ins(w, &inputs.records),
        ACCESS_CSV => {
            let mut csv = CsvWriter::new(w, &["subject", "role", "why"])?;
            for r in &inputs.access {
                csv.row(&[&r.subject, &r.role, &r.why])?;
            }
            Ok(())
        }
        TOKENS_CSV => {
            let header = [
                "id",
                "name",
                "owner",
                "role",
                "created",
                "last_used",
                "expires",
            ];
            let mut csv = CsvWriter::new(w, &header)?;
            for t in &inputs.tokens {
                let last_used = t.last_used_ms.map(format_time_ms).unwrap_or_default();
                let (created, expires) =
                    (format_time_ms(t.created_ms), format_time_ms(t.expires_ms));
                csv.row(&[
                    &t.id, &t.name, &t.owner, &t.role, &created, &last_used, &expires,
                ])?;
            }
            Ok(())
        }
        EXCEPTIONS_CSV => {
            let mut csv = CsvWriter::new(w, &["rule", "target", "owner", "reason", "expires"])?;
            for x in &inputs.exceptions {
                let expires = x.expires_ms.map(format_time_ms).unwrap_or_default();
                csv.row(&[&x.rule, &x.target, &x.owner, &x.reason, &expires])?;
            }
            Ok(())
        }
        OWNERLESS_CSV => {
            let mut csv = CsvWriter::new(w, &["entity_ref", "owner", "problem"])?;
            for o in &inputs.ownerless {
                csv.row(&[&o.entity_ref, &o.owner, &o.problem])?;
            }
            Ok(())
        }
        _ => Err(io::Error::other(format!("{name} is not a data file"))),
    }
}

fn audit_file(w: &mut dyn Write, records: &[AuditRecord], format: Format) -> io::Result<()> {
    let mut exporter = Exporter::new(w, format).map_err(io::Error::other)?;
    for r in records {
        exporter.write(r).map_err(io::Error::other)?;
    }
    exporter.finish().map_err(io::Error::other)?;
    Ok(())
}

fn sign_ins(w: &mut dyn Write, records: &[AuditRecord]) -> io::Result<()> {
    let mut csv = CsvWriter::new(
        w,
        &[
            "seq",
            "time",
            "action",
            "outcome",
            "actor_kind",
            "actor_id",
            "role",
            "source",
            "request_id",
        ],
    )?;
    for r in records {
        let e = &r.event;
        if !SIGN_IN_ACTIONS.contains(&e.action.as_str()) {
            continue;
        }
        csv.row(&[
            &r.seq.to_string(),
            &format_time_ms(e.time_ms),
            &e.action,
            e.outcome.as_str(),
            e.actor.kind.as_str(),
            &e.actor.id,
            e.actor.role.as_deref().unwrap_or(""),
            e.source.as_deref().unwrap_or(""),
            e.request_id.as_deref().unwrap_or(""),
        ])?;
    }
    Ok(())
}

/// `sha256sum` format: `<hex>  <name>` per line, in pack order.
fn sha256sums(files: &BTreeMap<String, Hash>) -> String {
    DATA_FILES
        .iter()
        .filter_map(|name| files.get(*name).map(|h| format!("{h}  {name}\n")))
        .collect()
}

fn summary(records: &[AuditRecord]) -> AuditSummary {
    AuditSummary {
        records: records.len() as u64,
        first_seq: records.first().map(|r| r.seq),
        last_seq: records.last().map(|r| r.seq),
        prev_hash: records.first().map(|r| r.prev_hash),
        last_hash: records.last().map(|r| r.hash),
    }
}

fn readme(window: &Window, generated: &str, key: &VerifyingKey) -> String {
    format!(
        include_str!("evidence_readme.md"),
        from = window.from,
        to = window.to,
        generated = generated,
        key_id = key.key_id(),
        public_key = key,
        public_pem = key.to_pem().trim_end(),
    )
}

#[path = "evidence_check.rs"]
mod check;
pub use check::verify_pack;

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
