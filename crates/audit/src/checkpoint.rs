//! Signed checkpoints and the Ed25519 keys that sign them.
//!
//! Key file (what `pave audit keygen` writes, what the configuration points to): a PKCS#8
//! private key in PEM, optionally preceded by explanatory text (RFC 7468 allows it):
//!
//! ```text
//! pave audit signing key (Ed25519); key id 1a2b3c4d5e6f7081; public key ed25519:…
//! -----BEGIN PRIVATE KEY-----
//! MFMCAQEwBQYDK2VwBCIEI…
//! -----END PRIVATE KEY-----
//! ```
//!
//! OpenSSL reads and writes the same format (`openssl genpkey -algorithm ed25519` makes a
//! key pave accepts). The public half has two text forms: one line `ed25519:<base64 of the
//! 32 raw bytes>` for configuration and manifests, and an SPKI PEM
//! (`-----BEGIN PUBLIC KEY-----`) that `openssl pkeyutl -verify` takes.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::AuditError;
use crate::record::{ChainHead, Hash, hex};

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier
/// 1.3.101.112, BIT STRING of 32 bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const TEXT_PREFIX: &str = "ed25519:";
/// PKCS#8 v1 of an Ed25519 key (RFC 8410) up to the 32-byte private key: SEQUENCE, version 0,
/// AlgorithmIdentifier 1.3.101.112, OCTET STRING { OCTET STRING of 32 bytes }.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The same in ring's v2 documents (version 1, the public key after the private one).
const PKCS8_V2_PREFIX: [u8; 16] = [
    0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A signed statement "the audit log had this hash at this seq at this time".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Hash,
    pub time_ms: i64,
    /// The signing key's id ([`VerifyingKey::key_id`]).
    pub key_id: String,
    /// Ed25519 over [`checkpoint_message`]; base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub signature: Vec<u8>,
}

impl Checkpoint {
    /// The chain position this checkpoint vouches for.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// One line of JSON, the form an auditor keeps from `pave audit checkpoint`.
    pub fn to_json(&self) -> String {
        // A struct of plain fields always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads [`Checkpoint::to_json`]'s form.
    pub fn from_json(text: &str) -> Result<Checkpoint, AuditError> {
        serde_json::from_str(text.trim()).map_err(|e| AuditError::Checkpoint(e.to_string()))
    }
}

/// The exact bytes a checkpoint's signature covers:
/// `"pave-audit-checkpoint-v1\n{seq}\n{hash hex}\n{time_ms}\n"`.
pub fn checkpoint_message(seq: i64, hash: &Hash, time_ms: i64) -> String {
    format!("pave-audit-checkpoint-v1\n{seq}\n{hash}\n{time_ms}\n")
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        B64.decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("signature is not base64: {e}")))
    }
}

/// The private audit key: signs checkpoints and evidence manifests.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
    public: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private bytes.
        write!(f, "SigningKey({})", self.public.key_id)
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, AuditError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| AuditError::Random)?;
        // ring writes PKCS#8 v2 (with the public key), which OpenSSL 3.0 refuses to load;
        // key files are v1, as `openssl genpkey` writes them, so both tools read them.
        let v2 = doc.as_ref();
        let der = match v2.strip_prefix(&PKCS8_V2_PREFIX[..]) {
            Some(rest) if rest.len() >= 32 => {
                let mut v1 = PKCS8_V1_PREFIX.to_vec();
                v1.extend_from_slice(&rest[..32]);
                v1
            }
            _ => v2.to_vec(),
        };
        SigningKey::from_pkcs8(&der)
    }

    /// From PKCS#8 DER, v1 (OpenSSL's) or v2 (ring's, with the public key, which is then
    /// checked against the private key).
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, AuditError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|e| {
            AuditError::KeyFile(format!(
                "not an Ed25519 private key in PKCS#8 ({e}); generate one with `pave audit keygen` \
                 or `openssl genpkey -algorithm ed25519`"
            ))
        })?;
        let public = VerifyingKey::from_raw(pair.public_key().as_ref())?;
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
            public,
        })
    }

    /// Reads the key file's text (see the module documentation).
    pub fn from_pem(text: &str) -> Result<SigningKey, AuditError> {
        let der = pem_block(text, "PRIVATE KEY").map_err(AuditError::KeyFile)?;
        SigningKey::from_pkcs8(&der)
    }

    /// The key file's text: an explanatory first line, then the PKCS#8 PEM block. It holds
    /// the private key: write it readable by its owner only (mode 0600).
    pub fn to_pem(&self) -> String {
        format!(
            "pave audit signing key (Ed25519); key id {}; public key {}\n{}",
            self.public.key_id,
            self.public,
            pem_encode("PRIVATE KEY", &self.pkcs8)
        )
    }

    /// The public half, for verifiers.
    pub fn public(&self) -> VerifyingKey {
        self.public.clone()
    }

    pub fn key_id(&self) -> &str {
        &self.public.key_id
    }

    /// An Ed25519 signature (64 bytes) over `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// A checkpoint for the chain at `head`, made at `time_ms`.
    pub fn checkpoint(&self, head: &ChainHead, time_ms: i64) -> Checkpoint {
        let message = checkpoint_message(head.seq, &head.hash, time_ms);
        Checkpoint {
            seq: head.seq,
            hash: head.hash,
            time_ms,
            key_id: self.public.key_id.clone(),
            signature: self.sign(message.as_bytes()),
        }
    }
}

/// The public audit key: verifies checkpoints and evidence manifests.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    raw: [u8; 32],
    key_id: String,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({} {})", self.key_id, self)
    }
}

impl VerifyingKey {
    /// From the 32 raw bytes of an Ed25519 public key.
    pub fn from_raw(bytes: &[u8]) -> Result<VerifyingKey, AuditError> {
        let raw: [u8; 32] = bytes.try_into().map_err(|_| {
            AuditError::PublicKey(format!(
                "an Ed25519 public key has 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        let key_id = hex(&Hash::sha256(&raw).0[..8]);
        Ok(VerifyingKey { raw, key_id })
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.raw
    }

    /// The first 8 bytes of the SHA-256 of the raw public key, hex (16 digits).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), for OpenSSL.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        pem_encode("PUBLIC KEY", &der)
    }

    /// Whether `signature` is this key's Ed25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.raw)
            .verify(message, signature)
            .is_ok()
    }

    /// Whether `cp` names this key and its signature is good.
    pub fn verify_checkpoint(&self, cp: &Checkpoint) -> bool {
        cp.key_id == self.key_id
            && self.verify(
                checkpoint_message(cp.seq, &cp.hash, cp.time_ms).as_bytes(),
                &cp.signature,
            )
    }
}

/// `ed25519:<base64>`.
impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TEXT_PREFIX}{}", B64.encode(self.raw))
    }
}

/// Either text form: `ed25519:<base64>` or an SPKI PEM block (surrounding text ignored).
impl FromStr for VerifyingKey {
    type Err = AuditError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if let Some(b64) = trimmed.strip_prefix(TEXT_PREFIX) {
            let raw = B64
                .decode(b64.trim().as_bytes())
                .map_err(|e| AuditError::PublicKey(format!("{TEXT_PREFIX}… is not base64: {e}")))?;
            return VerifyingKey::from_raw(&raw);
        }
        if !trimmed.contains("-----BEGIN") {
            return Err(AuditError::PublicKey(format!(
                "expected `{TEXT_PREFIX}<base64>` or a PEM block `-----BEGIN PUBLIC KEY-----`"
            )));
        }
        let der = pem_block(trimmed, "PUBLIC KEY").map_err(AuditError::PublicKey)?;
        match der.strip_prefix(&SPKI_PREFIX[..]) {
            Some(raw) if raw.len() == 32 => VerifyingKey::from_raw(raw),
            _ => Err(AuditError::PublicKey(
                "the PEM block is not an Ed25519 public key (SPKI, OID 1.3.101.112)".into(),
            )),
        }
    }
}

impl Serialize for VerifyingKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VerifyingKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// PEM with 64-column base64 lines.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside the `label` PEM block of `text`, with errors that say what was found.
fn pem_block(text: &str, label: &str) -> Result<Vec<u8>, String> {
    if text.trim().is_empty() {
        return Err("the key file is empty".into());
    }
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let Some(_) = lines.by_ref().find(|(_, l)| *l == begin) else {
        let found = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("-----BEGIN "))
            .map(|l| l.trim_start_matches("-----BEGIN ").trim_end_matches('-'));
        return Err(match (found, label) {
            (Some("PUBLIC KEY"), "PRIVATE KEY") => {
                "this is a public key; the signing key file holds the private key".into()
            }
            (Some("ENCRYPTED PRIVATE KEY"), _) => {
                "the private key is encrypted; pave needs it unencrypted (protect the file \
                 with permissions or a secret store)"
                    .into()
            }
            (Some(other), _) => format!(
                "found a PEM block `{other}`, expected `{label}` (an Ed25519 key in PKCS#8)"
            ),
            (None, _) => format!("no `{begin}` line"),
        });
    };
    let mut b64 = String::new();
    for (n, line) in lines {
        if line == end {
            return B64
                .decode(b64.as_bytes())
                .map_err(|e| format!("the {label} block is not valid base64: {e}"));
        }
        if line.starts_with("-----") {
            return Err(format!("line {n}: expected `{end}`, found `{line}`"));
        }
        b64.push_str(line);
    }
    Err(format!("no `{end}` line"))
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
