//! Verifying an evidence pack: the other half of [`super`].

use std::collections::BTreeSet;
use std::io::{self, BufReader, Cursor, Read};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zip::ZipArchive;

use super::*;
use crate::export::read_jsonl;
use crate::verify::verify_segment;

/// Verifies a pack offline: the signature (with `expected_key` if given, else the key in
/// the pack, see [`Signer`]), every file's hash, no file missing or extra, the audit chain.
pub fn verify_pack(
    bytes: &[u8],
    expected_key: Option<&VerifyingKey>,
) -> Result<PackReport, EvidenceError> {
    let mut zip =
        ZipArchive::new(Cursor::new(bytes)).map_err(|e| EvidenceError::Archive(e.to_string()))?;
    if zip.has_duplicate_names() {
        return Err(EvidenceError::DuplicateName);
    }
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| EvidenceError::Archive(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| EvidenceError::Archive(e.to_string()))?
            .into_owned();
        names.push(name);
    }
    let present: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    for required in [MANIFEST, MANIFEST_SIG] {
        if !present.contains(required) {
            return Err(EvidenceError::Missing(required.to_owned()));
        }
    }

    let manifest_bytes = read_small(&mut zip, MANIFEST, MAX_MANIFEST_BYTES)?;
    let sig_text = read_small(&mut zip, MANIFEST_SIG, MAX_SIG_BYTES)?;
    let signature = std::str::from_utf8(&sig_text)
        .ok()
        .and_then(|t| B64.decode(t.trim().as_bytes()).ok())
        .ok_or_else(|| EvidenceError::SignatureFormat("not a base64 signature".into()))?;
    // With an expected key the signature is checked before the manifest is even parsed.
    if let Some(key) = expected_key
        && !key.verify(&manifest_bytes, &signature)
    {
        // Signed by someone else, or changed? Only the key inside can tell them apart.
        let signed_by_other = serde_json::from_slice::<Manifest>(&manifest_bytes)
            .ok()
            .filter(|m| m.public_key.verify(&manifest_bytes, &signature));
        return Err(match signed_by_other {
            Some(m) => EvidenceError::WrongKey {
                found: m.public_key.key_id().to_owned(),
                expected: key.key_id().to_owned(),
            },
            None => EvidenceError::BadSignature {
                key_id: key.key_id().to_owned(),
            },
        });
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| EvidenceError::Manifest(e.to_string()))?;
    let signer = match expected_key {
        Some(_) => Signer::ExpectedKey,
        None => {
            if !manifest.public_key.verify(&manifest_bytes, &signature) {
                return Err(EvidenceError::BadSignature {
                    key_id: manifest.public_key.key_id().to_owned(),
                });
            }
            Signer::EmbeddedKey
        }
    };
    // From here on the manifest is authentic.
    if manifest.format != PACK_FORMAT {
        return Err(EvidenceError::Manifest(format!(
            "format {:?}, this pave reads {PACK_FORMAT:?}",
            manifest.format
        )));
    }
    if manifest.key_id != manifest.public_key.key_id() {
        return Err(EvidenceError::Manifest(format!(
            "key id {} is not the public key's ({})",
            manifest.key_id,
            manifest.public_key.key_id()
        )));
    }
    for name in &names {
        if name != MANIFEST && name != MANIFEST_SIG && !manifest.files.contains_key(name) {
            return Err(EvidenceError::Unexpected(name.clone()));
        }
    }
    for name in manifest.files.keys() {
        if !present.contains(name.as_str()) {
            return Err(EvidenceError::Missing(name.clone()));
        }
    }

    let mut files = Vec::with_capacity(names.len());
    let mut chain = None;
    for name in &names {
        let size = match manifest.files.get(name) {
            Some(expected) if name == AUDIT_JSONL => {
                let (report, size) = check_audit(&mut zip, &manifest, *expected)?;
                chain = Some(report);
                size
            }
            Some(expected) => check_file(&mut zip, name, *expected)?,
            None if name == MANIFEST => manifest_bytes.len() as u64,
            None => sig_text.len() as u64,
        };
        files.push((name.clone(), size));
    }
    let chain = chain.ok_or_else(|| EvidenceError::Missing(AUDIT_JSONL.to_owned()))?;
    Ok(PackReport {
        manifest,
        signer,
        files,
        chain,
    })
}

fn entry<'z, 'b>(
    zip: &'z mut ZipArchive<Cursor<&'b [u8]>>,
    name: &str,
) -> Result<zip::read::ZipFile<'z, Cursor<&'b [u8]>>, EvidenceError> {
    zip.by_name(name).map_err(|e| EvidenceError::Unreadable {
        file: name.to_owned(),
        message: e.to_string(),
    })
}

fn unreadable(name: &str, e: impl fmt::Display) -> EvidenceError {
    EvidenceError::Unreadable {
        file: name.to_owned(),
        message: e.to_string(),
    }
}

fn read_small(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::new();
    entry(zip, name)?
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| unreadable(name, e))?;
    if out.len() as u64 > limit {
        return Err(unreadable(name, format!("larger than {limit} bytes")));
    }
    Ok(out)
}

fn tampered(name: &str, expected: Hash, actual: Hash) -> Result<(), EvidenceError> {
    if expected == actual {
        return Ok(());
    }
    Err(EvidenceError::Tampered {
        file: name.to_owned(),
        expected,
        actual,
    })
}

fn check_file(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    expected: Hash,
) -> Result<u64, EvidenceError> {
    let mut r = Hashing::new(entry(zip, name)?);
    io::copy(&mut r, &mut io::sink()).map_err(|e| unreadable(name, e))?;
    let (_, actual, size) = r.finish();
    tampered(name, expected, actual)?;
    Ok(size)
}

/// Hashes `audit.jsonl` and re-verifies its chain in one streaming pass.
fn check_audit(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    manifest: &Manifest,
    expected: Hash,
) -> Result<(VerifyReport, u64), EvidenceError> {
    let mut reader = BufReader::with_capacity(1 << 16, Hashing::new(entry(zip, AUDIT_JSONL)?));
    let report = verify_segment(read_jsonl(&mut reader), &[], None);
    // The walk stops at the first problem; hash the rest so a changed byte is reported as
    // such rather than as whatever the chain made of it.
    io::copy(&mut reader, &mut io::sink()).map_err(|e| unreadable(AUDIT_JSONL, e))?;
    let (_, actual, size) = reader.into_inner().finish();
    tampered(AUDIT_JSONL, expected, actual)?;
    if let Some(p) = report.problem {
        return Err(EvidenceError::Chain(p));
    }
    let s = &manifest.audit;
    let (first, last) = (report.start.seq + 1, report.last);
    let seen = AuditSummary {
        records: report.records,
        first_seq: (report.records > 0).then_some(first),
        last_seq: (report.records > 0).then_some(last.seq),
        prev_hash: (report.records > 0).then_some(report.start.hash),
        last_hash: (report.records > 0).then_some(last.hash),
    };
    if &seen != s {
        return Err(EvidenceError::Summary(format!(
            "the manifest says {} records (seq {:?}..{:?}), the file holds {} (seq {:?}..{:?})",
            s.records, s.first_seq, s.last_seq, seen.records, seen.first_seq, seen.last_seq
        )));
    }
    Ok((report, size))
}
