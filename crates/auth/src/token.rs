//! API tokens in GitHub's format: `pave_` + 36 base62 characters of randomness + 6 base62
//! characters of CRC32 checksum, so secret scanners can match `pave_[A-Za-z0-9]{42}` and
//! tell a real token from a typo without asking the server. Only the SHA-256 of a secret is
//! stored.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use crate::duration::{format_duration, parse_duration};

/// The prefix every secret starts with.
pub const PREFIX: &str = "pave_";
const RANDOM_LEN: usize = 36;
const CHECKSUM_LEN: usize = 6;
/// The length of a whole secret, prefix included.
pub const SECRET_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a token text or an expiry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a pave token: it does not start with \"pave_\"")]
    WrongPrefix,
    #[error("not a pave token: {0} characters, a token has {SECRET_LEN}")]
    WrongLength(usize),
    #[error("not a pave token: it has characters other than letters and digits")]
    BadCharacters,
    #[error("not a pave token: its checksum does not match (mistyped or truncated?)")]
    BadChecksum,
    #[error("the system random generator failed")]
    Random,
    #[error("an expiry is required (e.g. --expires 30d); the maximum is {max}")]
    ExpiryRequired { max: String },
    #[error("\"{0}\" is not an expiry such as 90d, 8h, 30m or 45s")]
    BadExpiry(String),
    #[error("expiry {requested} is beyond the maximum of {max} (auth.tokens.maxExpiry)")]
    ExpiryOverMax { requested: String, max: String },
}

/// The SHA-256 of a secret, lower-case hex: what the database keeps and looks tokens up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash(String);

impl TokenHash {
    /// Checks a presented secret's form and checksum, then hashes it. Malformed texts are
    /// refused before hashing or touching the database: the cheap refusal.
    pub fn of(secret: &str) -> Result<TokenHash, TokenError> {
        Ok(TokenHash::from_digest(&TokenHash::digest_of(secret)?))
    }

    /// [`TokenHash::of`] as the digest's bytes: what the server's token cache is keyed by,
    /// so a request whose token is cached formats no hex.
    pub fn digest_of(secret: &str) -> Result<TokenDigest, TokenError> {
        let body = secret.strip_prefix(PREFIX).ok_or(TokenError::WrongPrefix)?;
        if secret.len() != SECRET_LEN {
            return Err(TokenError::WrongLength(secret.chars().count()));
        }
        if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(TokenError::BadCharacters);
        }
        let (random, checksum) = body.split_at(RANDOM_LEN);
        if checksum != checksum_of(random) {
            return Err(TokenError::BadChecksum);
        }
        Ok(digest(secret))
    }

    /// The digest of any text, its form unchecked: for looking up a cache of tokens already
    /// found in the database (a malformed text cannot be among them), without the form
    /// and checksum checks [`TokenHash::digest_of`] makes before a database lookup.
    pub fn cache_key(secret: &str) -> TokenDigest {
        digest(secret)
    }

    /// The hash of a digest from [`TokenHash::digest_of`].
    pub fn from_digest(digest: &TokenDigest) -> TokenHash {
        TokenHash(pave_stdx::hex(digest))
    }

    fn unchecked(secret: &str) -> TokenHash {
        TokenHash::from_digest(&digest(secret))
    }

    /// A hash read back from the database.
    pub fn from_hex(hex: &str) -> Option<TokenHash> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| TokenHash(hex.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 of a secret, as bytes.
pub type TokenDigest = [u8; 32];

fn digest(secret: &str) -> TokenDigest {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    bytes
}

/// A new secret.
pub struct TokenSecret;

impl TokenSecret {
    /// A fresh secret (shown once) and its hash (stored).
    pub fn generate() -> Result<(String, TokenHash), TokenError> {
        let random = random_base62(RANDOM_LEN, &SystemRandom::new())?;
        let secret = format!("{PREFIX}{random}{}", checksum_of(&random));
        let hash = TokenHash::unchecked(&secret);
        Ok((secret, hash))
    }
}

/// `len` base62 characters from `rng`, without modulo bias: bytes ≥ 248 (= 4 × 62) are
/// dropped so every character is equally likely.
fn random_base62(len: usize, rng: &dyn SecureRandom) -> Result<String, TokenError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf).map_err(|_| TokenError::Random)?;
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() < len {
                out.push(char::from(BASE62[usize::from(*b % 62)]));
            }
        }
    }
    Ok(out)
}

/// CRC32 of the prefix and the random part, as 6 base62 digits (62⁶ > 2³²), zero-padded.
fn checksum_of(random: &str) -> String {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(PREFIX.as_bytes());
    hasher.update(random.as_bytes());
    let mut crc = hasher.finalize();
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    digits.iter().map(|b| char::from(*b)).collect()
}

/// The expiry of a new token: `requested` (`30d`) after `now_secs`, at most `max` (the
/// policy's `token_max_expiry`). Returns the expiry time in Unix seconds.
pub fn expiry(requested: Option<&str>, max: Duration, now_secs: i64) -> Result<i64, TokenError> {
    let max_text = format_duration(max);
    let requested = requested.ok_or_else(|| TokenError::ExpiryRequired {
        max: max_text.clone(),
    })?;
    let duration =
        parse_duration(requested).ok_or_else(|| TokenError::BadExpiry(requested.to_owned()))?;
    if duration > max {
        return Err(TokenError::ExpiryOverMax {
            requested: requested.to_owned(),
            max: max_text,
        });
    }
    let secs = i64::try_from(duration.as_secs())
        .map_err(|_| TokenError::BadExpiry(requested.to_owned()))?;
    Ok(now_secs.saturating_add(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn generated_secrets_match_the_scanner_pattern_and_verify() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let (secret, hash) = TokenSecret::generate().unwrap();
            assert_eq!(secret.len(), 47);
            assert!(secret.starts_with("pave_"));
            assert!(
                secret[5..].bytes().all(|b| b.is_ascii_alphanumeric()),
                "{secret}"
            );
            assert_eq!(TokenHash::of(&secret).unwrap(), hash);
            assert_eq!(hash.as_str().len(), 64);
            assert_eq!(TokenHash::from_hex(hash.as_str()), Some(hash.clone()));
            // The cache's key is the same digest, without the checks.
            let digest = TokenHash::digest_of(&secret).unwrap();
            assert_eq!(TokenHash::cache_key(&secret), digest);
            assert_eq!(TokenHash::from_digest(&digest), hash);
            assert!(seen.insert(secret));
        }
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_secret() {
        let random = "0".repeat(36);
        let secret = format!("pave_{random}{}", checksum_of(&random));
        let hash = TokenHash::of(&secret).unwrap();
        let want = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
        let want: String = want.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash.as_str(), want);
    }

    #[test]
    fn malformed_secrets_are_refused_before_hashing() {
        let (good, _) = TokenSecret::generate().unwrap();
        let mut flipped = good.clone().into_bytes();
        flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        let cases = [
            ("ghp_".to_owned() + &good[5..], TokenError::WrongPrefix),
            ("PAVE_".to_owned() + &good[5..], TokenError::WrongPrefix),
            (good[..46].to_owned(), TokenError::WrongLength(46)),
            (good.clone() + "x", TokenError::WrongLength(48)),
            (
                "pave_".to_owned() + &"-".repeat(42),
                TokenError::BadCharacters,
            ),
            (flipped, TokenError::BadChecksum),
            (
                format!("pave_{}{}", "1".repeat(36), "000000"),
                TokenError::BadChecksum,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(TokenHash::of(&text), Err(want), "{text}");
        }
        assert_eq!(TokenHash::from_hex("ABC"), None);
    }

    #[test]
    fn checksum_is_six_base62_digits() {
        // Known value: CRC32("pave_" + 36 zeros), cross-checked with crc32fast's one-shot hash.
        let random = "0".repeat(36);
        let crc = crc32fast::hash(format!("pave_{random}").as_bytes());
        let text = checksum_of(&random);
        let decoded = text.bytes().fold(0u64, |acc, b| {
            acc * 62 + BASE62.iter().position(|c| *c == b).unwrap() as u64
        });
        assert_eq!(decoded, u64::from(crc));
        assert_eq!(text.len(), 6);
    }

    #[test]
    #[rustfmt::skip]
    fn expiry_is_mandatory_and_bounded() {
        let max = Duration::from_secs(90 * 86_400);
        let now = 1_700_000_000;
        assert_eq!(expiry(Some("30d"), max, now), Ok(now + 30 * 86_400));
        assert_eq!(expiry(Some("90d"), max, now), Ok(now + 90 * 86_400));
        let over = expiry(Some("91d"), max, now).unwrap_err();
        assert_eq!(over.to_string(), "expiry 91d is beyond the maximum of 90d (auth.tokens.maxExpiry)");
        let none = expiry(None, max, now).unwrap_err();
        assert_eq!(none.to_string(), "an expiry is required (e.g. --expires 30d); the maximum is 90d");
        assert_eq!(expiry(Some("never"), max, now), Err(TokenError::BadExpiry("never".into())));
        assert_eq!(expiry(Some("0s"), max, now), Err(TokenError::BadExpiry("0s".into())));
    }
}
