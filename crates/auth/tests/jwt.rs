//! ID-token and workload-token verification with tokens minted here: an RSA key from
//! `fixtures/` (test-only, generated with `openssl genrsa 2048`) and a P-256 key that ring
//! generates per run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use pave_auth::jwt::{JwtError, KeyAlg, Lookup, peek_header, unverified_issuer, verify_with_key};
use pave_auth::{Expected, Jwks, JwksCache};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

const RSA_DER: &[u8] = include_bytes!("fixtures/rsa-2048.der");
const RSA_PUBLIC_DER: &[u8] = include_bytes!("fixtures/rsa-2048.pub.der");
const RSA_JWK: &str = include_str!("fixtures/rsa-2048.jwk.json");
const ISSUER: &str = "https://id.example.com";
const CLIENT: &str = "pave";
const NOW: i64 = 1_750_000_000;

struct Keys {
    ec_pkcs8: Vec<u8>,
    jwks: Jwks,
}

#[rustfmt::skip]
fn keys() -> Keys {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    let ec = json!({"kty": "EC", "crv": "P-256", "kid": "ec-1", "use": "sig",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
    let rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
    let jwks = Jwks::parse(&json!({"keys": [rsa, ec]}).to_string()).unwrap();
    assert_eq!(jwks.len(), 2);
    Keys { ec_pkcs8: pkcs8.as_ref().to_vec(), jwks }
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "u1", "email": "jane@example.com",
           "iat": NOW - 10, "exp": NOW + 300, "nonce": "n-1"})
}

fn with(changes: Value) -> Value {
    let mut c = claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn rs256(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_rsa_der(RSA_DER)).unwrap()
}

fn es256(keys: &Keys, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ec-1".into());
    encode(&header, claims, &EncodingKey::from_ec_der(&keys.ec_pkcs8)).unwrap()
}

fn expected() -> Expected {
    Expected::new(ISSUER, CLIENT).with_nonce("n-1")
}

#[test]
#[rustfmt::skip]
fn good_rs256_and_es256_tokens_verify() {
    let keys = keys();
    let got = keys.jwks.verify(&rs256(&claims(), "rsa-test-1"), &expected(), NOW).unwrap();
    assert_eq!(got.sub(), Some("u1"));
    assert_eq!(got.str("email"), Some("jane@example.com"));
    let got = keys.jwks.verify(&es256(&keys, &with(json!({"aud": ["other", CLIENT]}))), &expected(), NOW).unwrap();
    assert_eq!(got.sub(), Some("u1"));
    // Within the skew on both sides.
    let edge = with(json!({"exp": NOW - 59, "iat": NOW + 59, "nbf": NOW + 59}));
    assert!(keys.jwks.verify(&rs256(&edge, "rsa-test-1"), &expected(), NOW).is_ok());
    // No nonce expected (workload tokens): none needed.
    let no_nonce = with(json!({"nonce": null}));
    assert!(keys.jwks.verify(&rs256(&no_nonce, "rsa-test-1"), &Expected::new(ISSUER, CLIENT), NOW).is_ok());
    assert_eq!(unverified_issuer(&rs256(&claims(), "rsa-test-1")).unwrap(), ISSUER);
}

#[test]
#[rustfmt::skip]
fn attacks_and_bad_tokens_are_refused_with_clear_errors() {
    let keys = keys();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let good = rs256(&claims(), "rsa-test-1");
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();

    let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "rsa-test-1"})), b64(&claims()));
    // The classic confusion: HS256 with the RSA public key as the HMAC secret.
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("rsa-test-1".into());
    let hs256 = encode(&hs_header, &claims(), &EncodingKey::from_secret(RSA_PUBLIC_DER)).unwrap();
    let hs256_jwk = encode(&hs_header, &claims(), &EncodingKey::from_secret(RSA_JWK.as_bytes())).unwrap();
    let mut forged = URL_SAFE_NO_PAD.decode(signature).unwrap();
    forged[10] ^= 1;
    let bad_signature = format!("{head}.{payload}.{}", URL_SAFE_NO_PAD.encode(forged));
    let swapped_payload = format!("{head}.{}.{signature}", b64(&with(json!({"sub": "admin"}))));
    // An RS256 header pointing at the EC key: the key's type decides, not the header.
    let mismatch = rs256(&claims(), "ec-1");

    let expired_at = format!("expired at {} (now {NOW}, allowed skew 60s)", NOW - 61);
    let cases: Vec<(&str, String, Expected, &str)> = vec![
        ("alg none", alg_none, expected(), "algorithm \"none\" is not accepted (only RS256 and ES256)"),
        ("HS256 with the public key", hs256, expected(), "algorithm \"HS256\" is not accepted"),
        ("HS256 with the JWK text", hs256_jwk, expected(), "algorithm \"HS256\" is not accepted"),
        ("bad signature", bad_signature, expected(), "bad signature"),
        ("payload swapped", swapped_payload, expected(), "bad signature"),
        ("key type mismatch", mismatch, expected(), "the token says RS256 but key \"ec-1\" is not an RS256 key"),
        ("wrong issuer", rs256(&with(json!({"iss": "https://evil.example"})), "rsa-test-1"), expected(),
         "wrong issuer: expected \"https://id.example.com\", got \"https://evil.example\""),
        ("issuer trailing slash", rs256(&with(json!({"iss": "https://id.example.com/"})), "rsa-test-1"), expected(), "wrong issuer"),
        ("wrong audience", rs256(&with(json!({"aud": "someone-else"})), "rsa-test-1"), expected(),
         "wrong audience: expected \"pave\", got [\"someone-else\"]"),
        ("wrong audience list", rs256(&with(json!({"aud": ["a", "b"]})), "rsa-test-1"), expected(), "wrong audience"),
        ("foreign azp", rs256(&with(json!({"aud": ["pave", "b"], "azp": "b"})), "rsa-test-1"), expected(),
         "wrong authorized party (azp): expected \"pave\", got \"b\""),
        ("no audience", rs256(&with(json!({"aud": null})), "rsa-test-1"), expected(), "the token has no aud claim"),
        ("expired", rs256(&with(json!({"exp": NOW - 61})), "rsa-test-1"), expected(),
         &expired_at),
        ("no exp", rs256(&with(json!({"exp": null})), "rsa-test-1"), expected(), "the token has no exp claim"),
        ("nbf in the future", rs256(&with(json!({"nbf": NOW + 61})), "rsa-test-1"), expected(), "not valid yet: nbf is"),
        ("iat in the future", rs256(&with(json!({"iat": NOW + 3600})), "rsa-test-1"), expected(), "not valid yet: iat is"),
        ("wrong nonce", rs256(&with(json!({"nonce": "n-2"})), "rsa-test-1"), expected(), "wrong nonce"),
        ("missing nonce", rs256(&with(json!({"nonce": null})), "rsa-test-1"), expected(), "wrong nonce"),
        ("unknown kid", rs256(&claims(), "rotated-away"), expected(), "no signing key with kid \"rotated-away\""),
        ("three dots", format!("{good}.x"), expected(), "not a JWT: not three dot-separated parts"),
        ("tight skew", rs256(&with(json!({"exp": NOW - 5})), "rsa-test-1"),
         Expected { skew_secs: 0, ..expected() }, "expired at"),
    ];
    let count = cases.len();
    for (name, token, expected, want) in cases {
        let err = keys.jwks.verify(&token, &expected, NOW).expect_err(name).to_string();
        assert!(err.contains(want), "{name}: {err}");
    }
    assert!(count >= 20);
}

#[test]
#[rustfmt::skip]
fn an_unknown_kid_refreshes_once_then_is_refused() {
    let keys = keys();
    let rsa_only: Value = serde_json::from_str(RSA_JWK).unwrap();
    let mut cache = JwksCache::new();
    cache.update(Jwks::parse(&json!({"keys": [rsa_only]}).to_string()).unwrap(), NOW - 3600);

    // The provider rotated to the EC key: the first token with its kid asks for a refresh...
    let token = es256(&keys, &claims());
    let header = peek_header(&token).unwrap();
    assert_eq!((header.alg, header.kid.as_deref()), (KeyAlg::Es256, Some("ec-1")));
    assert!(matches!(cache.lookup(header.kid.as_deref(), header.alg, NOW), Lookup::Refresh));
    cache.update(keys.jwks.clone(), NOW);
    // ...after which it verifies.
    let Lookup::Found(key) = cache.lookup(Some("ec-1"), KeyAlg::Es256, NOW) else { panic!("not found") };
    assert!(verify_with_key(&token, key, &expected(), NOW).is_ok());

    // A made-up kid: one refresh (the last was over a minute ago), then refusal for a minute.
    assert!(matches!(cache.lookup(Some("made-up"), KeyAlg::Rs256, NOW + 61), Lookup::Refresh));
    cache.update(keys.jwks.clone(), NOW + 61);
    for t in [NOW + 61, NOW + 62, NOW + 120] {
        assert!(matches!(cache.lookup(Some("made-up"), KeyAlg::Rs256, t), Lookup::Unknown), "{t}");
    }
    assert!(matches!(cache.lookup(Some("made-up"), KeyAlg::Rs256, NOW + 121), Lookup::Refresh));
}

#[test]
#[rustfmt::skip]
fn error_variants_carry_their_fields() {
    let keys = keys();
    let err = keys.jwks.verify(&rs256(&with(json!({"iss": "x"})), "rsa-test-1"), &expected(), NOW).unwrap_err();
    assert_eq!(err, JwtError::WrongIssuer { expected: ISSUER.into(), got: "x".into() });
    let err = keys.jwks.verify(&rs256(&with(json!({"exp": NOW - 100})), "rsa-test-1"), &expected(), NOW).unwrap_err();
    assert_eq!(err, JwtError::Expired { exp: NOW - 100, now: NOW, skew: 60 });
}
