//! ID-token and workload-token verification: RS256 and ES256 only, checked against a JWKS.
//!
//! The algorithm comes from the *key* (its `kty`/`crv`), never from the token: a token whose
//! header says anything but RS256 or ES256 — `none`, HS256 signed with the public key as an
//! HMAC secret — is refused before any key is touched, and a header `alg` that disagrees with
//! the key's type is refused too. Time is a parameter (`now`), so every check is testable.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

/// Tokens longer than this are refused unread (ID tokens are a few KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// How often an unknown `kid` may trigger a JWKS refresh.
pub const MIN_REFRESH_INTERVAL_SECS: i64 = 60;
/// The default allowance for clock skew.
pub const DEFAULT_SKEW_SECS: i64 = 60;

/// Why a token was refused. Messages are shown to operators and in audit records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a JWT: {0}")]
    Malformed(String),
    #[error("algorithm \"{0}\" is not accepted (only RS256 and ES256)")]
    AlgorithmNotAllowed(String),
    #[error("no signing key {} in the issuer's JWKS", kid.as_deref().map_or("without kid".to_owned(), |k| format!("with kid \"{k}\"")))]
    UnknownKey { kid: Option<String> },
    #[error("the token says {alg} but key \"{kid}\" is not an {alg} key")]
    KeyMismatch { alg: &'static str, kid: String },
    #[error("bad signature")]
    BadSignature,
    #[error("wrong issuer: expected \"{expected}\", got \"{got}\"")]
    WrongIssuer { expected: String, got: String },
    #[error("wrong audience: expected \"{expected}\", got {got:?}")]
    WrongAudience { expected: String, got: Vec<String> },
    #[error("wrong authorized party (azp): expected \"{expected}\", got \"{got}\"")]
    WrongAuthorizedParty { expected: String, got: String },
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    #[error("expired at {exp} (now {now}, allowed skew {skew}s)")]
    Expired { exp: i64, now: i64, skew: i64 },
    #[error("not valid yet: {claim} is {at} (now {now}, allowed skew {skew}s)")]
    NotYetValid {
        claim: &'static str,
        at: i64,
        now: i64,
        skew: i64,
    },
    #[error("wrong nonce (a replayed or foreign ID token)")]
    WrongNonce,
    #[error("JWKS: {0}")]
    Jwks(String),
}

/// The two algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    Rs256,
    Es256,
}

impl KeyAlg {
    fn from_header(alg: &str) -> Option<KeyAlg> {
        match alg {
            "RS256" => Some(KeyAlg::Rs256),
            "ES256" => Some(KeyAlg::Es256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Es256 => "ES256",
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            KeyAlg::Rs256 => Algorithm::RS256,
            KeyAlg::Es256 => Algorithm::ES256,
        }
    }
}

/// A usable signing key from a JWKS.
#[derive(Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    pub alg: KeyAlg,
    key: DecodingKey,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

/// A JSON Web Key Set, keeping only RSA and P-256 signing keys.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses `{"keys": [...]}`. Keys pave cannot use (encryption keys, other curves and
    /// algorithms) are skipped, as providers publish those next to signing keys.
    pub fn parse(json: &str) -> Result<Jwks, JwtError> {
        let doc: Value = serde_json::from_str(json).map_err(|e| JwtError::Jwks(e.to_string()))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwtError::Jwks("no \"keys\" array".into()))?;
        Ok(Jwks {
            keys: keys.iter().filter_map(parse_jwk).collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for `kid`; a token without `kid` may use the only key of its algorithm.
    pub fn find(&self, kid: Option<&str>, alg: KeyAlg) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None => {
                let mut of_alg = self.keys.iter().filter(|k| k.alg == alg);
                of_alg.next().filter(|_| of_alg.next().is_none())
            }
        }
    }

    /// Verifies `token` with the key its header names.
    pub fn verify(&self, token: &str, expected: &Expected, now: i64) -> Result<Claims, JwtError> {
        let header = peek_header(token)?;
        let key = self
            .find(header.kid.as_deref(), header.alg)
            .ok_or(JwtError::UnknownKey { kid: header.kid })?;
        verify_with_key(token, key, expected, now)
    }
}

fn parse_jwk(value: &Value) -> Option<Jwk> {
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    if field("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let (alg, key) = match (field("kty")?, field("crv")) {
        ("RSA", _) => (
            KeyAlg::Rs256,
            DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?,
        ),
        ("EC", Some("P-256")) => (
            KeyAlg::Es256,
            DecodingKey::from_ec_components(field("x")?, field("y")?).ok()?,
        ),
        _ => return None,
    };
    // A key restricted to another algorithm (RS384, PS256) is not ours to use.
    if field("alg").is_some_and(|a| a != alg.name()) {
        return None;
    }
    Some(Jwk {
        kid: field("kid").map(str::to_owned),
        alg,
        key,
    })
}

/// What a token's header says, before any verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtHeader {
    pub alg: KeyAlg,
    pub kid: Option<String>,
}

fn split(token: &str) -> Result<[&str; 3], JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed(format!(
            "longer than {MAX_TOKEN_LEN} bytes"
        )));
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(JwtError::Malformed("not three dot-separated parts".into())),
    }
}

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(format!("the {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

/// Reads the header and refuses any algorithm but RS256 and ES256.
pub fn peek_header(token: &str) -> Result<JwtHeader, JwtError> {
    let header = decode_part(split(token)?[0], "header")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("(missing)");
    let alg =
        KeyAlg::from_header(alg).ok_or_else(|| JwtError::AlgorithmNotAllowed(alg.to_owned()))?;
    if header.contains_key("crit") {
        // RFC 7515: extensions a verifier does not understand must be refused.
        return Err(JwtError::Malformed(
            "critical header extensions are not supported".into(),
        ));
    }
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok(JwtHeader { alg, kid })
}

/// The `iss` of a token *before* verification, only to choose which issuer's keys and rules
/// to verify it with.
pub fn unverified_issuer(token: &str) -> Result<String, JwtError> {
    let claims = decode_part(split(token)?[1], "payload")?;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(JwtError::MissingClaim("iss"))
}

/// What a token must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub issuer: String,
    /// The client id (ID tokens) or the configured audience (workload tokens).
    pub audience: String,
    /// The nonce sent with the authorization request (ID tokens).
    pub nonce: Option<String>,
    pub skew_secs: i64,
}

impl Expected {
    pub fn new(issuer: &str, audience: &str) -> Self {
        Expected {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            nonce: None,
            skew_secs: DEFAULT_SKEW_SECS,
        }
    }

    pub fn with_nonce(mut self, nonce: &str) -> Self {
        self.nonce = Some(nonce.to_owned());
        self
    }
}

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// A string claim.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn sub(&self) -> Option<&str> {
        self.str("sub")
    }
}

/// Verifies the signature with `key`, then `iss`, `aud` (and `azp`), `exp`, `nbf`, `iat`
/// and `nonce` against `expected` at time `now` (Unix seconds).
pub fn verify_with_key(
    token: &str,
    key: &Jwk,
    expected: &Expected,
    now: i64,
) -> Result<Claims, JwtError> {
    let header = peek_header(token)?;
    if header.alg != key.alg {
        let kid = key.kid.clone().unwrap_or_default();
        return Err(JwtError::KeyMismatch {
            alg: header.alg.name(),
            kid,
        });
    }
    let [h, p, s] = split(token)?;
    let message_len = h.len() + 1 + p.len();
    let signed = jsonwebtoken::crypto::verify(
        s,
        &token.as_bytes()[..message_len],
        &key.key,
        key.alg.algorithm(),
    );
    if !matches!(signed, Ok(true)) {
        return Err(JwtError::BadSignature);
    }
    let claims = Claims(decode_part(p, "payload")?);
    check_claims(&claims, expected, now)?;
    Ok(claims)
}

fn check_claims(claims: &Claims, expected: &Expected, now: i64) -> Result<(), JwtError> {
    let iss = claims.str("iss").ok_or(JwtError::MissingClaim("iss"))?;
    if iss != expected.issuer {
        return Err(JwtError::WrongIssuer {
            expected: expected.issuer.clone(),
            got: iss.to_owned(),
        });
    }
    let audiences: Vec<String> = match claims.0.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => return Err(JwtError::MissingClaim("aud")),
    };
    if !audiences.contains(&expected.audience) {
        return Err(JwtError::WrongAudience {
            expected: expected.audience.clone(),
            got: audiences,
        });
    }
    if let Some(azp) = claims.str("azp").filter(|_| audiences.len() > 1)
        && azp != expected.audience
    {
        let expected = expected.audience.clone();
        return Err(JwtError::WrongAuthorizedParty {
            expected,
            got: azp.to_owned(),
        });
    }
    let time = |name: &'static str| claims.0.get(name).and_then(Value::as_f64).map(|t| t as i64);
    let skew = expected.skew_secs;
    let exp = time("exp").ok_or(JwtError::MissingClaim("exp"))?;
    if now > exp.saturating_add(skew) {
        return Err(JwtError::Expired { exp, now, skew });
    }
    for claim in ["nbf", "iat"] {
        if let Some(at) = time(claim).filter(|at| *at > now.saturating_add(skew)) {
            return Err(JwtError::NotYetValid {
                claim,
                at,
                now,
                skew,
            });
        }
    }
    if let Some(nonce) = &expected.nonce
        && claims.str("nonce") != Some(nonce.as_str())
    {
        return Err(JwtError::WrongNonce);
    }
    Ok(())
}

/// What [`JwksCache::lookup`] found.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a Jwk),
    /// Fetch the JWKS now and call [`JwksCache::update`], then look up again.
    Refresh,
    /// Refreshed less than a minute ago and still unknown: refuse the token.
    Unknown,
}

/// A JWKS and when it was last refreshed. A pure state machine: the server fetches when told
/// to, so a flood of tokens with made-up `kid`s costs one fetch a minute, not one each.
#[derive(Debug, Clone, Default)]
pub struct JwksCache {
    jwks: Jwks,
    last_refresh: Option<i64>,
}

impl JwksCache {
    pub fn new() -> Self {
        JwksCache::default()
    }

    /// The key for `kid` (see [`Jwks::find`]), else whether a refresh is allowed now. A
    /// `Refresh` answer counts as the refresh: the next minute's unknown kids get `Unknown`.
    pub fn lookup(&mut self, kid: Option<&str>, alg: KeyAlg, now: i64) -> Lookup<'_> {
        if let Some(key) = self.jwks.find(kid, alg) {
            return Lookup::Found(key);
        }
        if self
            .last_refresh
            .is_none_or(|t| now - t >= MIN_REFRESH_INTERVAL_SECS)
        {
            self.last_refresh = Some(now);
            Lookup::Refresh
        } else {
            Lookup::Unknown
        }
    }

    /// Stores a freshly fetched JWKS.
    pub fn update(&mut self, jwks: Jwks, now: i64) {
        self.jwks = jwks;
        self.last_refresh = Some(now);
    }

    pub fn last_refresh(&self) -> Option<i64> {
        self.last_refresh
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn headers_outside_the_allowlist_are_refused_before_any_key() {
        let payload = b64(r#"{"iss":"x"}"#);
        let cases = [
            (r#"{"alg":"none"}"#, "algorithm \"none\" is not accepted"),
            (
                r#"{"alg":"HS256","kid":"k"}"#,
                "algorithm \"HS256\" is not accepted",
            ),
            (r#"{"alg":"RS384"}"#, "algorithm \"RS384\""),
            (r#"{"alg":"PS256"}"#, "algorithm \"PS256\""),
            (r#"{"typ":"JWT"}"#, "algorithm \"(missing)\""),
            (r#"{"alg":"RS256","crit":["b64"]}"#, "critical header"),
            (r#"["alg"]"#, "header is not a JSON object"),
        ];
        for (header, want) in cases {
            let token = format!("{}.{payload}.sig", b64(header));
            let err = peek_header(&token).unwrap_err().to_string();
            assert!(err.contains(want), "{header}: {err}");
        }
        for token in ["a.b", "a.b.c.d", "", "!!.e30.x"] {
            assert!(
                matches!(peek_header(token), Err(JwtError::Malformed(_))),
                "{token}"
            );
        }
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(
            peek_header(&long)
                .unwrap_err()
                .to_string()
                .contains("longer than")
        );
    }

    #[test]
    fn jwks_keeps_only_usable_signing_keys() {
        let jwks = Jwks::parse(
            r#"{"keys": [
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AQAB", "y": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AQAB"},
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AQAB", "y": "AQAB"},
            {"kty": "RSA", "kid": "broken"}
        ]}"#,
        )
        .unwrap();
        let kids: Vec<_> = jwks
            .keys
            .iter()
            .map(|k| k.kid.as_deref().unwrap())
            .collect();
        assert_eq!(kids, ["rsa", "ec"]);
        assert_eq!(
            jwks.find(None, KeyAlg::Rs256).unwrap().kid.as_deref(),
            Some("rsa")
        );
        assert!(jwks.find(Some("hmac"), KeyAlg::Rs256).is_none());
        assert!(Jwks::parse("{}").is_err());
        assert!(Jwks::parse("not json").is_err());
    }

    #[test]
    #[rustfmt::skip]
    fn cache_refreshes_an_unknown_kid_at_most_once_a_minute() {
        let mut cache = JwksCache::new();
        let t = 1_000;
        // Empty cache: the first lookup asks for a fetch, the next ones within a minute don't.
        assert!(matches!(cache.lookup(Some("a"), KeyAlg::Rs256, t), Lookup::Refresh));
        assert!(matches!(cache.lookup(Some("a"), KeyAlg::Rs256, t + 1), Lookup::Unknown));
        let jwks = Jwks::parse(r#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#).unwrap();
        cache.update(jwks, t + 2);
        assert!(matches!(cache.lookup(Some("a"), KeyAlg::Rs256, t + 3), Lookup::Found(_)));
        assert!(matches!(cache.lookup(Some("b"), KeyAlg::Rs256, t + 30), Lookup::Unknown));
        assert!(matches!(cache.lookup(Some("b"), KeyAlg::Rs256, t + 62), Lookup::Refresh));
        assert!(matches!(cache.lookup(Some("c"), KeyAlg::Rs256, t + 63), Lookup::Unknown));
        assert_eq!(cache.last_refresh(), Some(t + 62));
    }
}
