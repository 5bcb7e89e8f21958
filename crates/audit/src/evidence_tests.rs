#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;

use zip::ZipArchive;

use serde_json::json;

use super::*;
use crate::record::{ActorKind, Chain, ChainHead, Outcome};
use crate::testutil::{event, parse_csv};

fn inputs() -> EvidenceInputs {
    // A window in the middle of the log: records 11..=40.
    let mut c = Chain::new(ChainHead::GENESIS);
    let all: Vec<AuditRecord> = (1..=40)
        .map(|i| {
            let mut e = event(i);
            if i == 12 {
                e.action = "auth.failed".into();
                e.actor.kind = ActorKind::Anonymous;
                e.actor.id = String::new();
                e.outcome = Outcome::Denied;
            }
            if i == 13 {
                e.target = "loc,with \"quotes\"\nand a newline".into();
            }
            c.append(e)
        })
        .collect();
    EvidenceInputs {
        from_ms: all[10].event.time_ms,
        to_ms: all[39].event.time_ms + 1,
        generated_ms: 1_767_312_000_000,
        records: all[10..].to_vec(),
        access: vec![
            AccessRow {
                subject: "group:default/sre".into(),
                role: "admin".into(),
                why: "pave.yaml auth.roles[0]".into(),
            },
            AccessRow {
                subject: "user:default/ann".into(),
                role: "member".into(),
                why: "member of group:default/payments, owner".into(),
            },
        ],
        tokens: vec![TokenRow {
            id: "tok_01".into(),
            name: "ci-deploy".into(),
            owner: "group:default/payments".into(),
            role: "deployer".into(),
            created_ms: 1_767_225_600_000,
            last_used_ms: None,
            expires_ms: 1_775_001_600_000,
        }],
        exceptions: vec![ExceptionRow {
            rule: "no-latest-tag".into(),
            target: "component:default/legacy".into(),
            owner: "group:default/legacy".into(),
            reason: "vendor image, \"pinned\" upstream".into(),
            expires_ms: None,
        }],
        ownerless: vec![OwnerlessRow {
            entity_ref: "component:default/orphan".into(),
            owner: "group:default/gone".into(),
            problem: "owner group:default/gone does not exist".into(),
        }],
    }
}

fn key() -> SigningKey {
    // A fixed key keeps packs byte-for-byte reproducible across test runs.
    SigningKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n",
    )
    .unwrap()
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

fn rezip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in files {
        zip.start_file(name.as_str(), entry_options(0)).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

/// What a signer (a buggy pave, or someone holding the key) would produce after changing
/// `files`: hashes, SHA256SUMS and manifest recomputed and signed again.
fn resign(files: &mut [(String, Vec<u8>)], key: &SigningKey, edit: impl Fn(&mut Manifest)) {
    let mut manifest: Manifest = serde_json::from_slice(file(files, MANIFEST)).unwrap();
    let hashes: BTreeMap<String, Hash> = files
        .iter()
        .map(|(n, d)| (n.clone(), Hash::sha256(d)))
        .collect();
    for name in DATA_FILES {
        manifest.files.insert(name.to_owned(), hashes[name]);
    }
    let sums = sha256sums(&manifest.files);
    manifest
        .files
        .insert(SHA256SUMS.to_owned(), Hash::sha256(sums.as_bytes()));
    manifest.public_key = key.public();
    manifest.key_id = key.key_id().to_owned();
    edit(&mut manifest);
    let mut bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    bytes.push(b'\n');
    let sig = format!("{}\n", B64.encode(key.sign(&bytes)));
    for (name, data) in files.iter_mut() {
        match name.as_str() {
            SHA256SUMS => *data = sums.clone().into_bytes(),
            MANIFEST => *data = bytes.clone(),
            MANIFEST_SIG => *data = sig.clone().into_bytes(),
            _ => {}
        }
    }
}

#[test]
fn a_pack_round_trips() {
    let key = key();
    let pack = build_pack(&inputs(), &key).unwrap();
    let report = verify_pack(&pack, Some(&key.public())).unwrap();
    assert_eq!(report.signer, Signer::ExpectedKey);
    assert_eq!(report.chain.records, 30);
    let m = &report.manifest;
    assert_eq!(
        (m.audit.first_seq, m.audit.last_seq, m.audit.records),
        (Some(11), Some(40), 30)
    );
    assert_eq!(m.window.from, "2026-01-01T00:00:11.000Z");
    assert_eq!(m.generated, "2026-01-02T00:00:00.000Z");
    let names: Vec<&str> = report.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            README,
            AUDIT_JSONL,
            AUDIT_CSV,
            ACCESS_CSV,
            TOKENS_CSV,
            SIGN_INS_CSV,
            EXCEPTIONS_CSV,
            OWNERLESS_CSV,
            SHA256SUMS,
            MANIFEST,
            MANIFEST_SIG
        ]
    );
    assert!(
        report.to_string().contains("signed by the expected key"),
        "{report}"
    );

    let self_signed = verify_pack(&pack, None).unwrap();
    assert_eq!(self_signed.signer, Signer::EmbeddedKey);
    assert!(
        self_signed
            .to_string()
            .contains("this proves the pack is intact, not who made it")
    );
}

#[test]
fn packs_are_deterministic() {
    let key = key();
    let a = build_pack(&inputs(), &key).unwrap();
    assert_eq!(a, build_pack(&inputs(), &key).unwrap());
    let mut later = inputs();
    later.generated_ms += 2000;
    assert_ne!(a, build_pack(&later, &key).unwrap());
}

#[test]
fn the_files_say_what_the_readme_says() {
    let key = key();
    let files = unzip(&build_pack(&inputs(), &key).unwrap());
    let text = |n| String::from_utf8(file(&files, n).to_vec()).unwrap();

    // SHA256SUMS in sha256sum's format, for every data file.
    let sums = text(SHA256SUMS);
    assert_eq!(sums.lines().count(), DATA_FILES.len());
    for (line, name) in sums.lines().zip(DATA_FILES) {
        assert_eq!(
            line,
            format!("{}  {name}", Hash::sha256(file(&files, name)))
        );
    }
    // The manifest lists them and SHA256SUMS; the signature covers its exact bytes.
    let manifest: serde_json::Value = serde_json::from_str(&text(MANIFEST)).unwrap();
    assert_eq!(manifest["format"], "pave-evidence-v1");
    assert_eq!(manifest["public_key"], json!(key.public().to_string()));
    assert_eq!(
        manifest["files"].as_object().unwrap().len(),
        DATA_FILES.len() + 1
    );
    assert_eq!(
        manifest["files"]["SHA256SUMS"],
        json!(Hash::sha256(sums.as_bytes()).to_hex())
    );
    let sig = B64.decode(text(MANIFEST_SIG).trim()).unwrap();
    assert!(key.public().verify(file(&files, MANIFEST), &sig));

    let readme = text(README);
    for needle in [
        "2026-01-01T00:00:11.000Z",
        "sha256sum -c SHA256SUMS",
        "openssl pkeyutl -verify",
        "print(\"chain OK\")",
        key.key_id(),
        &key.public().to_pem()[..40],
    ] {
        assert!(readme.contains(needle), "README lacks {needle:?}");
    }
    for name in DATA_FILES
        .iter()
        .chain(&[SHA256SUMS, MANIFEST, MANIFEST_SIG])
    {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README does not describe {name}"
        );
    }

    // Reports.
    let access = parse_csv(&text(ACCESS_CSV));
    assert_eq!(access[0], ["subject", "role", "why"]);
    assert_eq!(
        access[2],
        [
            "user:default/ann",
            "member",
            "member of group:default/payments, owner"
        ]
    );
    let tokens = parse_csv(&text(TOKENS_CSV));
    assert_eq!(
        tokens[1],
        [
            "tok_01",
            "ci-deploy",
            "group:default/payments",
            "deployer",
            "2026-01-01T00:00:00.000Z",
            "",
            "2026-04-01T00:00:00.000Z"
        ]
    );
    let exceptions = parse_csv(&text(EXCEPTIONS_CSV));
    assert_eq!(exceptions[1][3], "vendor image, \"pinned\" upstream");
    assert_eq!(exceptions[1][4], "");
    assert_eq!(
        parse_csv(&text(OWNERLESS_CSV))[1][0],
        "component:default/orphan"
    );
    // Sign-ins: auth.* records of the window only (event(n) signs in when n % 4 == 1).
    let sign_ins = parse_csv(&text(SIGN_INS_CSV));
    let seqs: Vec<&str> = sign_ins[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(seqs, ["12", "13", "17", "21", "25", "29", "33", "37"]);
    assert_eq!(
        sign_ins[1][2..6],
        ["auth.failed", "denied", "anonymous", ""]
    );
    // Audit CSV: one row per record after the header.
    let audit = parse_csv(&text(AUDIT_CSV));
    assert_eq!(audit.len(), 31);
    assert_eq!(audit[3][6], "loc,with \"quotes\"\nand a newline");
}

#[test]
fn one_changed_byte_in_any_file_is_named() {
    let key = key();
    let files = unzip(&build_pack(&inputs(), &key).unwrap());
    for (i, (name, data)) in files.iter().enumerate() {
        // A byte in the middle (in a signature, inside the base64 text).
        for at in [0, data.len() / 2, data.len() - 2] {
            let mut forged = files.clone();
            forged[i].1[at] ^= if name == MANIFEST_SIG { 0x01 } else { 0x20 };
            let pack = rezip(&forged);
            for expected_key in [Some(key.public()), None] {
                let err = verify_pack(&pack, expected_key.as_ref()).unwrap_err();
                assert!(
                    err.to_string().contains(name.as_str()),
                    "{name} byte {at}: {err}"
                );
                assert!(err.file().is_some(), "{err}");
            }
        }
    }
}

#[test]
fn a_changed_byte_in_the_compressed_archive_is_named_too() {
    let key = key();
    let pack = build_pack(&inputs(), &key).unwrap();
    let mut zip = ZipArchive::new(Cursor::new(&pack[..])).unwrap();
    let entries: Vec<(String, u64, u64)> = (0..zip.len())
        .map(|i| {
            let f = zip.by_index_raw(i).unwrap();
            (
                f.name().unwrap().into_owned(),
                f.data_start().unwrap(),
                f.compressed_size(),
            )
        })
        .collect();
    for (name, start, size) in entries {
        let mut forged = pack.clone();
        forged[(start + size / 2) as usize] ^= 0x10;
        let err = verify_pack(&forged, Some(&key.public())).unwrap_err();
        assert_eq!(err.file(), Some(name.as_str()), "{name}: {err}");
    }
}

#[test]
fn no_single_byte_flip_changes_the_content_unnoticed() {
    let key = key();
    let mut small = inputs();
    small.records.truncate(3);
    let pack = build_pack(&small, &key).unwrap();
    let original = unzip(&pack);
    for at in 0..pack.len() {
        let mut forged = pack.clone();
        forged[at] ^= 0x04;
        // Bytes that do not change any content (a local header's time, which readers take
        // from the central directory) may verify; anything else must fail, never panic.
        if verify_pack(&forged, Some(&key.public())).is_ok() {
            assert_eq!(
                unzip(&forged),
                original,
                "byte {at} changed content unnoticed"
            );
        }
    }
}

#[test]
fn missing_extra_and_duplicate_files_are_refused() {
    let key = key();
    let files = unzip(&build_pack(&inputs(), &key).unwrap());
    let mut extra = files.clone();
    extra.push(("notes.txt".into(), b"hi".to_vec()));
    let err = verify_pack(&rezip(&extra), Some(&key.public())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "notes.txt is not part of an evidence pack (not listed in manifest.json)"
    );

    for gone in [OWNERLESS_CSV, MANIFEST, MANIFEST_SIG, SHA256SUMS] {
        let fewer: Vec<_> = files.iter().filter(|(n, _)| n != gone).cloned().collect();
        let err = verify_pack(&rezip(&fewer), Some(&key.public())).unwrap_err();
        assert_eq!(err.to_string(), format!("{gone} is missing from the pack"));
    }

    // A second entry with the same name, appended raw (the writer refuses duplicates).
    let mut twice = files.clone();
    twice.push((AUDIT_CSV.into(), b"forged".to_vec()));
    let twice = {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (i, (name, data)) in twice.iter().enumerate() {
            let name = if i == twice.len() - 1 {
                "audit.csx"
            } else {
                name.as_str()
            };
            zip.start_file(name, entry_options(0)).unwrap();
            zip.write_all(data).unwrap();
        }
        let mut bytes = zip.finish().unwrap().into_inner();
        // Rename "audit.csx" to "audit.csv" in both headers.
        for i in 0..bytes.len() - 9 {
            if &bytes[i..i + 9] == b"audit.csx" {
                bytes[i + 8] = b'v';
            }
        }
        bytes
    };
    let err = verify_pack(&twice, Some(&key.public())).unwrap_err();
    assert!(matches!(err, EvidenceError::DuplicateName), "{err}");
}

#[test]
fn keys_and_signers_are_told_apart() {
    let key = key();
    let pack = build_pack(&inputs(), &key).unwrap();
    let other = SigningKey::generate().unwrap();
    let err = verify_pack(&pack, Some(&other.public())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "manifest.json is signed by key {}, not by the expected key {}",
            key.key_id(),
            other.key_id()
        )
    );
    // Someone re-signs a changed pack with their own key: intact as far as the embedded key
    // can tell, refused against the organisation's key.
    let mut files = unzip(&pack);
    let i = files.iter().position(|(n, _)| n == ACCESS_CSV).unwrap();
    files[i]
        .1
        .extend_from_slice(b"user:default/mallory,admin,\"trust me\"\r\n");
    resign(&mut files, &other, |_| {});
    let forged = rezip(&files);
    assert_eq!(
        verify_pack(&forged, None).unwrap().signer,
        Signer::EmbeddedKey
    );
    assert!(matches!(
        verify_pack(&forged, Some(&key.public())),
        Err(EvidenceError::WrongKey { .. })
    ));
}

#[test]
fn the_audit_chain_inside_is_verified_again() {
    let key = key();
    let files = unzip(&build_pack(&inputs(), &key).unwrap());
    let jsonl = String::from_utf8(file(&files, AUDIT_JSONL).to_vec()).unwrap();

    // A record deleted by someone who then re-signed (with the right key): hashes fine,
    // chain broken.
    let mut deleted = files.clone();
    let lines: Vec<&str> = jsonl.lines().collect();
    let without: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 5)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    deleted[1].1 = without.into_bytes();
    resign(&mut deleted, &key, |m| m.audit.records = 29);
    let err = verify_pack(&rezip(&deleted), Some(&key.public())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "audit.jsonl: record 16 was deleted: record 17 follows record 15"
    );

    // The summary must match what the file holds.
    let mut summary = files.clone();
    resign(&mut summary, &key, |m| m.audit.last_seq = Some(41));
    let err = verify_pack(&rezip(&summary), Some(&key.public())).unwrap_err();
    assert!(matches!(err, EvidenceError::Summary(_)), "{err}");

    // Unknown manifest versions are refused (after the signature is known to be good).
    let mut future = files.clone();
    resign(&mut future, &key, |m| m.format = "pave-evidence-v2".into());
    let err = verify_pack(&rezip(&future), Some(&key.public())).unwrap_err();
    assert!(
        err.to_string()
            .contains("this pave reads \"pave-evidence-v1\""),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_refused_before_signing() {
    let key = key();
    let mut broken = inputs();
    broken.records[4].event.details = json!({"edited": true});
    match build_pack(&broken, &key) {
        Err(EvidenceError::BrokenInput(p)) => assert_eq!(p, Problem::Edited { seq: 15 }),
        other => panic!("{other:?}"),
    }
    let mut gap = inputs();
    gap.records.remove(3);
    assert!(matches!(
        build_pack(&gap, &key),
        Err(EvidenceError::BrokenInput(Problem::Deleted { .. }))
    ));
    let mut backwards = inputs();
    backwards.to_ms = backwards.from_ms - 1;
    assert!(
        build_pack(&backwards, &key)
            .unwrap_err()
            .to_string()
            .starts_with("the window ends")
    );
    // An empty window is a valid (small) pack.
    let empty = EvidenceInputs {
        from_ms: 0,
        to_ms: 1,
        generated_ms: 2,
        ..EvidenceInputs::default()
    };
    let report = verify_pack(&build_pack(&empty, &key).unwrap(), Some(&key.public())).unwrap();
    assert_eq!(
        (report.chain.records, report.manifest.audit.first_seq),
        (0, None)
    );
}

#[test]
fn garbage_is_not_a_pack() {
    for bytes in [&b""[..], b"PK\x03\x04 not really", &[0u8; 100]] {
        assert!(matches!(
            verify_pack(bytes, None),
            Err(EvidenceError::Archive(_))
        ));
    }
}
