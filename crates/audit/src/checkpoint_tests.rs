#![allow(clippy::unwrap_used, clippy::expect_used)]

use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use super::*;

/// RFC 8410 section 10.3's example (PKCS#8 v1, as `openssl genpkey` writes) and its public
/// key from section 10.1, as `openssl pkey -pubout` prints it.
const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

#[test]
fn key_file_round_trip_keeps_the_key() {
    let key = SigningKey::generate().unwrap();
    let pem = key.to_pem();
    assert!(pem.starts_with(&format!(
        "pave audit signing key (Ed25519); key id {}; public key ed25519:",
        key.key_id()
    )));
    assert!(
        pem.contains("\n-----BEGIN PRIVATE KEY-----\n")
            && pem.ends_with("-----END PRIVATE KEY-----\n")
    );
    // PKCS#8 v1, as OpenSSL writes (and, 3.0 at least, only reads).
    let der = pem_block(&pem, "PRIVATE KEY").unwrap();
    assert_eq!((der.len(), &der[..16]), (48, &PKCS8_V1_PREFIX[..]));
    let back = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(back.public(), key.public());
    // Ed25519 is deterministic: same key, same signature.
    assert_eq!(back.sign(b"m"), key.sign(b"m"));
    assert!(
        !format!("{key:?}").contains("PRIVATE"),
        "Debug must not leak the key"
    );
}

#[test]
fn openssl_keys_are_read_and_public_keys_match_openssl() {
    let key = SigningKey::from_pem(RFC8410_PRIVATE).unwrap();
    assert_eq!(key.public().to_pem(), RFC8410_PUBLIC);
    assert!(
        key.to_pem().ends_with(RFC8410_PRIVATE),
        "the key file keeps OpenSSL's bytes"
    );
    let public: VerifyingKey = RFC8410_PUBLIC.parse().unwrap();
    assert_eq!(public, key.public());
    // CRLF line ends and text around the block are fine.
    let crlf = format!(
        "comment\r\n{}\r\ntrailer",
        RFC8410_PRIVATE.replace('\n', "\r\n")
    );
    assert_eq!(SigningKey::from_pem(&crlf).unwrap().public(), public);
}

#[test]
fn public_key_text_forms_round_trip() {
    let key = SigningKey::generate().unwrap().public();
    let line = key.to_string();
    assert!(
        line.starts_with("ed25519:") && line.len() == 8 + 44,
        "{line}"
    );
    assert_eq!(line.parse::<VerifyingKey>().unwrap(), key);
    assert_eq!(format!("  {line}\n").parse::<VerifyingKey>().unwrap(), key);
    assert_eq!(key.to_pem().parse::<VerifyingKey>().unwrap(), key);
    assert_eq!(
        serde_json::from_value::<VerifyingKey>(serde_json::to_value(&key).unwrap()).unwrap(),
        key
    );
    assert_eq!(key.key_id().len(), 16);
    assert_eq!(key.key_id(), &Hash::sha256(key.as_bytes()).to_hex()[..16]);
}

#[test]
fn bad_key_files_say_what_is_wrong() {
    let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap();
    let ec_pem = pem_encode("PRIVATE KEY", ec.as_ref());
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "the key file is empty"),
        ("blank", " \n\n".into(), "the key file is empty"),
        ("public key", RFC8410_PUBLIC.into(), "this is a public key"),
        (
            "random text",
            "hello".into(),
            "no `-----BEGIN PRIVATE KEY-----` line",
        ),
        (
            "rsa",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n".into(),
            "found a PEM block `RSA PRIVATE KEY`",
        ),
        (
            "encrypted",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .into(),
            "encrypted",
        ),
        (
            "no end",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n".into(),
            "no `-----END PRIVATE KEY-----` line",
        ),
        (
            "wrong end",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into(),
            "line 3: expected `-----END PRIVATE KEY-----`",
        ),
        (
            "bad base64",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".into(),
            "not valid base64",
        ),
        (
            "not pkcs8",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
            "not an Ed25519 private key in PKCS#8",
        ),
        ("ec key", ec_pem, "not an Ed25519 private key in PKCS#8"),
        (
            "truncated",
            RFC8410_PRIVATE.replace("dVhC", ""),
            "not an Ed25519 private key",
        ),
    ];
    for (what, text, expected) in cases {
        let err = SigningKey::from_pem(&text).unwrap_err().to_string();
        assert!(err.starts_with("audit signing key: "), "{what}: {err}");
        assert!(err.contains(expected), "{what}: {err}");
    }
}

#[test]
fn bad_public_keys_say_what_is_wrong() {
    for (text, expected) in [
        ("", "expected `ed25519:<base64>`"),
        ("rsa:AAAA", "expected `ed25519:<base64>`"),
        ("ed25519:!!", "is not base64"),
        ("ed25519:AAAA", "32 bytes, not 3"),
        (
            "-----BEGIN PUBLIC KEY-----\nMBMGByqGSM49AgEGCCqGSM49AwEHAwIA\n-----END PUBLIC KEY-----",
            "not an Ed25519 public key",
        ),
        (RFC8410_PRIVATE, "found a PEM block `PRIVATE KEY`"),
    ] {
        let err = text.parse::<VerifyingKey>().unwrap_err().to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn checkpoints_verify_and_every_field_is_signed() {
    let key = SigningKey::generate().unwrap();
    let head = ChainHead {
        seq: 1000,
        hash: Hash::sha256(b"head"),
    };
    let cp = key.checkpoint(&head, 1_767_225_600_000);
    assert_eq!(
        checkpoint_message(cp.seq, &cp.hash, cp.time_ms),
        format!(
            "pave-audit-checkpoint-v1\n1000\n{}\n1767225600000\n",
            head.hash
        )
    );
    let public = key.public();
    assert!(public.verify_checkpoint(&cp));
    assert_eq!(cp.head(), head);
    assert_eq!(cp.signature.len(), 64);
    type Tamper = fn(&mut Checkpoint);
    let tampered: Vec<(&str, Tamper)> = vec![
        ("seq", |c| c.seq += 1),
        ("hash", |c| c.hash.0[0] ^= 1),
        ("time", |c| c.time_ms -= 1),
        ("signature", |c| c.signature[10] ^= 1),
        ("short signature", |c| c.signature.truncate(63)),
        ("key id", |c| c.key_id = "0000000000000000".into()),
    ];
    for (what, change) in tampered {
        let mut c = cp.clone();
        change(&mut c);
        assert!(!public.verify_checkpoint(&c), "{what}");
    }
    let other = SigningKey::generate().unwrap().public();
    assert!(!other.verify_checkpoint(&cp));
}

#[test]
fn checkpoint_json_round_trip_and_errors() {
    let key = SigningKey::from_pem(RFC8410_PRIVATE).unwrap();
    let cp = key.checkpoint(
        &ChainHead {
            seq: 7,
            hash: Hash::ZERO,
        },
        5,
    );
    let json = cp.to_json();
    assert!(
        json.starts_with(&format!(
            r#"{{"seq":7,"hash":"{}","time_ms":5,"key_id":"{}","signature":""#,
            Hash::ZERO,
            key.key_id()
        )),
        "{json}"
    );
    assert_eq!(Checkpoint::from_json(&format!("{json}\n")).unwrap(), cp);
    for (text, expected) in [
        ("{}", "missing field"),
        (&json.replace(r#""seq":7"#, r#""seq":"7""#), "invalid type"),
        (
            &json.replace(r#""signature":""#, r#""signature":"*"#),
            "signature is not base64",
        ),
        (
            &json.replace(r#""seq":7"#, r#""seq":7,"extra":1"#),
            "unknown field",
        ),
    ] {
        let err = Checkpoint::from_json(text).unwrap_err().to_string();
        assert!(
            err.starts_with("checkpoint: ") && err.contains(expected),
            "{text}: {err}"
        );
    }
}
