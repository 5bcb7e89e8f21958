//! Is a delivery authentic? Each sender proves it knows a secret shared with pave, either by
//! signing the raw body (HMAC-SHA256) or by presenting the secret in a header.
//!
//! | source | what pave checks |
//! |---|---|
//! | `github` | `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (the legacy SHA-1 `X-Hub-Signature` is not accepted) |
//! | `gitlab` | `X-Gitlab-Token: <secret>` |
//! | `pagerduty` | `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` (PagerDuty sends one per active secret while it rotates) |
//! | `flux` | `X-Signature: sha256=<hex>` (notification-controller's `generic-hmac` provider), or a shared secret header as below (the `generic` provider with a `headers` secret) |
//! | `argocd`, `opsgenie`, `alertmanager`, `cdevents` | `Authorization: Bearer <secret>` or `X-Pave-Secret: <secret>` |
//!
//! Each source has one or two active secrets: the current one and, while senders are being
//! moved to it, the previous one. A delivery is authentic when it matches either; the
//! [`Authenticated`] answer says which, so the server can tell when the previous secret is no
//! longer used and can be dropped.
//!
//! Comparisons take constant time, both through `ring::hmac::verify`: a signature is verified
//! against the body; a presented secret is compared by its HMAC of a fixed message, which
//! equals the configured secret's only when the secrets are equal (comparing MACs rather than
//! the values also hides the secret's length; ring deprecated its bare slice comparison).
//! No error ever contains an expected value.

use std::collections::BTreeMap;
use std::fmt;

use ring::hmac;

use crate::headers::Headers;
use crate::source::Source;

/// The header GitHub signs with.
pub const GITHUB_SIGNATURE: &str = "X-Hub-Signature-256";
/// The header GitLab presents its secret token in.
pub const GITLAB_TOKEN: &str = "X-Gitlab-Token";
/// The header PagerDuty signs with.
pub const PAGERDUTY_SIGNATURE: &str = "X-PagerDuty-Signature";
/// The header Flux's `generic-hmac` provider signs with.
pub const FLUX_SIGNATURE: &str = "X-Signature";
/// The standard header a shared secret may be presented in, as `Bearer <secret>`.
pub const AUTHORIZATION: &str = "Authorization";
/// pave's own header for a shared secret, for senders that cannot set `Authorization`.
pub const PAVE_SECRET: &str = "X-Pave-Secret";

/// Which of a source's active secrets a delivery matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSlot {
    Current,
    /// The secret being rotated out: the sender has not been given the new one yet.
    Previous,
}

/// How a delivery proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An HMAC-SHA256 of the raw body, in this header.
    Signature { header: &'static str },
    /// The shared secret itself, in this header.
    SharedSecret { header: &'static str },
}

/// A delivery that passed [`authenticate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    pub source: Source,
    pub credential: Credential,
    pub secret: SecretSlot,
}

/// Why a delivery is not authentic (or cannot be checked). Messages name headers, never
/// secret or signature values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no secret is configured for {sender} deliveries, so none can be accepted")]
    NoSecret { sender: Source },
    #[error("header {header} is missing{hint}")]
    MissingHeader {
        header: &'static str,
        hint: &'static str,
    },
    #[error("header {header} is malformed: {reason}")]
    MalformedHeader {
        header: &'static str,
        reason: &'static str,
    },
    #[error("the signature in {header} matches none of the active {sender} secrets")]
    SignatureMismatch {
        sender: Source,
        header: &'static str,
    },
    #[error("the secret in {header} matches none of the active {sender} secrets")]
    SecretMismatch {
        sender: Source,
        header: &'static str,
    },
}

/// A secret value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the {slot} {sender} secret is empty; an empty secret would accept anyone")]
    Empty { sender: Source, slot: &'static str },
}

/// The message a presented shared secret and a configured one are both MACed over.
const SHARED_SECRET_PROBE: &[u8] = b"pave-events shared secret";

/// One active secret, as the HMAC key both ways of checking use.
#[derive(Clone)]
struct ActiveSecret {
    hmac: hmac::Key,
}

impl ActiveSecret {
    fn new(value: &[u8]) -> Self {
        ActiveSecret {
            hmac: hmac::Key::new(hmac::HMAC_SHA256, value),
        }
    }
}

/// The active secrets of every source: one or two each (current and previous, for rotation).
/// `Debug` shows only which sources are configured.
#[derive(Clone, Default)]
pub struct Secrets {
    by_source: BTreeMap<Source, Vec<ActiveSecret>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (source, secrets) in &self.by_source {
            map.entry(&source.as_str(), &format_args!("{} active", secrets.len()));
        }
        map.finish()
    }
}

impl Secrets {
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Sets `source`'s active secrets: `current`, and `previous` while senders still use it.
    /// Replaces whatever was set before for that source.
    pub fn set(
        &mut self,
        source: Source,
        current: &[u8],
        previous: Option<&[u8]>,
    ) -> Result<(), SecretError> {
        if current.is_empty() {
            return Err(SecretError::Empty {
                sender: source,
                slot: "current",
            });
        }
        let mut active = vec![ActiveSecret::new(current)];
        if let Some(previous) = previous {
            if previous.is_empty() {
                return Err(SecretError::Empty {
                    sender: source,
                    slot: "previous",
                });
            }
            active.push(ActiveSecret::new(previous));
        }
        self.by_source.insert(source, active);
        Ok(())
    }

    /// [`Secrets::set`], builder style.
    pub fn with(
        mut self,
        source: Source,
        current: &[u8],
        previous: Option<&[u8]>,
    ) -> Result<Self, SecretError> {
        self.set(source, current, previous)?;
        Ok(self)
    }

    /// Whether `source` has a secret (deliveries from a source without one are refused).
    pub fn is_configured(&self, source: Source) -> bool {
        self.by_source.contains_key(&source)
    }

    fn active(&self, source: Source) -> Result<&[ActiveSecret], AuthError> {
        self.by_source
            .get(&source)
            .map(Vec::as_slice)
            .ok_or(AuthError::NoSecret { sender: source })
    }
}

fn slot(index: usize) -> SecretSlot {
    if index == 0 {
        SecretSlot::Current
    } else {
        SecretSlot::Previous
    }
}

/// Checks that `body` came from `source`, given the request's headers and the configured
/// secrets. `body` must be the raw bytes as received: signatures are over them, not over a
/// re-serialisation.
pub fn authenticate(
    source: Source,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    secrets: &Secrets,
) -> Result<Authenticated, AuthError> {
    let active = secrets.active(source)?;
    let (credential, secret) = match source {
        Source::Github => {
            let header = required(headers, GITHUB_SIGNATURE, "")?;
            let signature = prefixed_hex(header, "sha256=", GITHUB_SIGNATURE)?;
            verify_signatures(source, GITHUB_SIGNATURE, active, body, &[signature])?
        }
        Source::Pagerduty => {
            let header = required(headers, PAGERDUTY_SIGNATURE, "")?;
            let signatures = pagerduty_signatures(header)?;
            verify_signatures(source, PAGERDUTY_SIGNATURE, active, body, &signatures)?
        }
        Source::Gitlab => {
            let token = required(headers, GITLAB_TOKEN, "")?;
            verify_shared_secret(source, GITLAB_TOKEN, active, token)?
        }
        Source::Flux => match headers.get(FLUX_SIGNATURE) {
            Some(header) => {
                let signature = prefixed_hex(header, "sha256=", FLUX_SIGNATURE)?;
                verify_signatures(source, FLUX_SIGNATURE, active, body, &[signature])?
            }
            None => shared_secret_header(source, headers, active, " (nor X-Signature)")?,
        },
        Source::Argocd | Source::Opsgenie | Source::Alertmanager | Source::Cdevents => {
            shared_secret_header(source, headers, active, "")?
        }
    };
    Ok(Authenticated {
        source,
        credential,
        secret,
    })
}

fn required<'h>(
    headers: &'h (impl Headers + ?Sized),
    header: &'static str,
    hint: &'static str,
) -> Result<&'h str, AuthError> {
    headers
        .get(header)
        .ok_or(AuthError::MissingHeader { header, hint })
}

/// `sha256=<64 hex digits>` → the 32 bytes.
fn prefixed_hex(value: &str, prefix: &str, header: &'static str) -> Result<Vec<u8>, AuthError> {
    let hex = value
        .trim()
        .strip_prefix(prefix)
        .ok_or(AuthError::MalformedHeader {
            header,
            reason: "expected sha256=<hex HMAC-SHA256>",
        })?;
    decode_sha256_hex(hex).ok_or(AuthError::MalformedHeader {
        header,
        reason: "the signature is not 64 hexadecimal digits",
    })
}

/// `v1=<hex>,v1=<hex>` → every v1 signature. Other versions are skipped (PagerDuty may add
/// them); none at all is malformed.
fn pagerduty_signatures(value: &str) -> Result<Vec<Vec<u8>>, AuthError> {
    let mut signatures = Vec::new();
    for part in value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        if let Some(hex) = part.strip_prefix("v1=") {
            signatures.push(decode_sha256_hex(hex).ok_or(AuthError::MalformedHeader {
                header: PAGERDUTY_SIGNATURE,
                reason: "a v1 signature is not 64 hexadecimal digits",
            })?);
        }
    }
    if signatures.is_empty() {
        return Err(AuthError::MalformedHeader {
            header: PAGERDUTY_SIGNATURE,
            reason: "expected v1=<hex HMAC-SHA256>[,v1=<hex>…]",
        });
    }
    Ok(signatures)
}

fn decode_sha256_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    let digit = |byte: u8| (byte as char).to_digit(16);
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

fn verify_signatures(
    source: Source,
    header: &'static str,
    active: &[ActiveSecret],
    body: &[u8],
    signatures: &[Vec<u8>],
) -> Result<(Credential, SecretSlot), AuthError> {
    for (index, secret) in active.iter().enumerate() {
        if signatures
            .iter()
            .any(|signature| hmac::verify(&secret.hmac, body, signature).is_ok())
        {
            return Ok((Credential::Signature { header }, slot(index)));
        }
    }
    Err(AuthError::SignatureMismatch {
        sender: source,
        header,
    })
}

fn verify_shared_secret(
    source: Source,
    header: &'static str,
    active: &[ActiveSecret],
    presented: &str,
) -> Result<(Credential, SecretSlot), AuthError> {
    let presented_key = hmac::Key::new(hmac::HMAC_SHA256, presented.as_bytes());
    let presented = hmac::sign(&presented_key, SHARED_SECRET_PROBE);
    for (index, secret) in active.iter().enumerate() {
        if hmac::verify(&secret.hmac, SHARED_SECRET_PROBE, presented.as_ref()).is_ok() {
            return Ok((Credential::SharedSecret { header }, slot(index)));
        }
    }
    Err(AuthError::SecretMismatch {
        sender: source,
        header,
    })
}

/// `Authorization: Bearer <secret>`, else `X-Pave-Secret: <secret>`.
fn shared_secret_header(
    source: Source,
    headers: &(impl Headers + ?Sized),
    active: &[ActiveSecret],
    extra_hint: &'static str,
) -> Result<(Credential, SecretSlot), AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or(AuthError::MalformedHeader {
                header: AUTHORIZATION,
                reason: "expected Bearer <secret>",
            })?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::MalformedHeader {
                header: AUTHORIZATION,
                reason: "expected the Bearer scheme",
            });
        }
        return verify_shared_secret(source, AUTHORIZATION, active, token.trim());
    }
    if let Some(value) = headers.get(PAVE_SECRET) {
        return verify_shared_secret(source, PAVE_SECRET, active, value.trim());
    }
    Err(AuthError::MissingHeader {
        header: AUTHORIZATION,
        hint: if extra_hint.is_empty() {
            " (send Authorization: Bearer <secret> or X-Pave-Secret: <secret>)"
        } else {
            " (send X-Signature: sha256=<hex>, Authorization: Bearer <secret> or X-Pave-Secret: <secret>)"
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let tag = hmac::sign(&key, body);
        tag.as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    #[test]
    fn hex_decoding_accepts_both_cases_and_rejects_anything_else() {
        let upper = "AB".repeat(32);
        assert_eq!(decode_sha256_hex(&upper), Some(vec![0xab; 32]));
        assert_eq!(decode_sha256_hex(&"ab".repeat(31)), None);
        assert_eq!(decode_sha256_hex(&format!("{}zz", "ab".repeat(31))), None);
        // Non-ASCII must not panic on a char boundary.
        assert_eq!(decode_sha256_hex(&format!("{}é", "a".repeat(62))), None);
    }

    #[test]
    fn the_empty_secret_is_refused() {
        let err = Secrets::new().with(Source::Gitlab, b"", None).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        assert!(
            Secrets::new()
                .with(Source::Gitlab, b"s", Some(b""))
                .is_err()
        );
    }

    #[test]
    fn debug_never_shows_secret_material() {
        let secrets = Secrets::new()
            .with(Source::Github, b"hunter2", Some(b"older"))
            .unwrap();
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("github") && shown.contains("2 active"),
            "{shown}"
        );
        assert!(
            !shown.contains("hunter2") && !shown.contains("older"),
            "{shown}"
        );
    }

    #[test]
    fn flux_accepts_its_hmac_header_or_a_shared_secret() {
        let secrets = Secrets::new()
            .with(Source::Flux, b"flux-secret", None)
            .unwrap();
        let body = br#"{"reason":"ReconciliationSucceeded"}"#;
        let signature = format!("sha256={}", sign(b"flux-secret", body));
        let signed = [("X-Signature", signature.as_str())];
        let auth = authenticate(Source::Flux, &signed, body, &secrets).unwrap();
        assert_eq!(
            auth.credential,
            Credential::Signature {
                header: FLUX_SIGNATURE
            }
        );
        let bearer = [("Authorization", "Bearer flux-secret")];
        let auth = authenticate(Source::Flux, &bearer, body, &secrets).unwrap();
        assert_eq!(
            auth.credential,
            Credential::SharedSecret {
                header: AUTHORIZATION
            }
        );
        let err = authenticate(Source::Flux, &[("X-Other", "1")], body, &secrets).unwrap_err();
        assert!(err.to_string().contains("X-Signature"), "{err}");
    }

    #[test]
    fn shared_secrets_compare_exactly() {
        let secrets = Secrets::new()
            .with(Source::Opsgenie, b"s3cret", None)
            .unwrap();
        for (header, value, ok) in [
            ("X-Pave-Secret", "s3cret", true),
            ("X-Pave-Secret", " s3cret ", true),
            ("X-Pave-Secret", "s3cre", false),
            ("X-Pave-Secret", "s3cret!", false),
            ("Authorization", "bearer s3cret", true),
            ("Authorization", "Bearer S3CRET", false),
        ] {
            let result = authenticate(Source::Opsgenie, &[(header, value)], b"{}", &secrets);
            assert_eq!(result.is_ok(), ok, "{header}: {value} → {result:?}");
        }
        let err = authenticate(
            Source::Opsgenie,
            &[("Authorization", "Basic abc")],
            b"{}",
            &secrets,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                AuthError::MalformedHeader {
                    header: AUTHORIZATION,
                    ..
                }
            ),
            "{err}"
        );
    }
}
