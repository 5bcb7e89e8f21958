#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::record::{HASH_TAG, Hash, RecordHasher, record_hash};
use crate::testutil::{event, fixed_event};

#[test]
fn canonical_bytes_are_sorted_compact_json() {
    let bytes = canonical_bytes(42, &fixed_event());
    let text = std::str::from_utf8(&bytes).unwrap();
    assert_eq!(
        text,
        r#"{"action":"gate.override","actor":{"id":"tok_01","kind":"token","role":"deployer"},"details":{"a":{"y":"é","z":1},"b":[1,2.5,null,true],"reason":"hotfix \"now\"\n"},"outcome":"denied","request_id":"r-1","seq":42,"source":null,"target":"component:default/payments","time_ms":1767225600123}"#
    );
}

/// The encoding must never change: this hash was computed once and pinned. If this fails,
/// every stored chain would stop verifying; introduce `pave-audit-v2` instead.
#[test]
fn pinned_hash_of_a_fixed_event() {
    let prev = Hash::sha256(b"previous");
    let h = record_hash(42, &prev, &fixed_event());
    // Also reproduced outside Rust: Python's hashlib over the same three parts gives it.
    assert_eq!(
        h.to_hex(),
        "3495263cbe73a85bafa872fea9ea36517b7cb5bece97494cb688ae36df2d4745"
    );
    // The definition, spelled out with ring directly.
    let mut input = HASH_TAG.to_vec();
    input.extend_from_slice(prev.as_bytes());
    input.extend_from_slice(&canonical_bytes(42, &fixed_event()));
    assert_eq!(Hash::sha256(&input), h);
}

#[test]
fn hand_written_key_order_matches_the_generic_sorted_encoding() {
    for n in 0..20 {
        let mut e = event(n);
        if n % 3 == 0 {
            e.actor.role = None;
            e.source = None;
        }
        if n % 5 == 0 {
            e.request_id = None;
            e.details = json!(null);
        }
        // Insertion order deliberately not sorted: the generic path must sort it.
        let as_object = json!({
            "time_ms": e.time_ms, "target": e.target, "source": e.source, "seq": n,
            "request_id": e.request_id, "outcome": e.outcome, "details": e.details,
            "actor": {"role": e.actor.role, "kind": e.actor.kind, "id": e.actor.id},
            "action": e.action,
        });
        let mut generic = Vec::new();
        write_canonical_value(&mut generic, &as_object);
        assert_eq!(
            String::from_utf8(canonical_bytes(n, &e)).unwrap(),
            String::from_utf8(generic).unwrap()
        );
        // And it is valid JSON with the same content.
        let parsed: Value = serde_json::from_slice(&canonical_bytes(n, &e)).unwrap();
        assert_eq!(parsed, as_object);
    }
}

#[test]
fn details_key_order_does_not_change_the_hash() {
    let mut a = fixed_event();
    let mut b = fixed_event();
    a.details =
        serde_json::from_str(r#"{"x":1,"a":{"q":[{"m":1,"c":2}],"b":null},"m":"s"}"#).unwrap();
    b.details =
        serde_json::from_str(r#"{"m":"s","a":{"b":null,"q":[{"c":2,"m":1}]},"x":1}"#).unwrap();
    // preserve_order is on: the two values really do iterate differently.
    assert_ne!(
        serde_json::to_string(&a.details).unwrap(),
        serde_json::to_string(&b.details).unwrap()
    );
    assert_eq!(canonical_bytes(1, &a), canonical_bytes(1, &b));
    assert_eq!(
        record_hash(1, &Hash::ZERO, &a),
        record_hash(1, &Hash::ZERO, &b)
    );
    // Array order does matter.
    b.details = json!({"m":"s","a":{"b":null,"q":[{"c":2,"m":1}]},"x":1, "arr": [2, 1]});
    a.details = json!({"m":"s","a":{"b":null,"q":[{"c":2,"m":1}]},"x":1, "arr": [1, 2]});
    assert_ne!(
        record_hash(1, &Hash::ZERO, &a),
        record_hash(1, &Hash::ZERO, &b)
    );
}

#[test]
fn string_escaping_matches_serde_json_for_every_ascii_byte_and_some_unicode() {
    let mut cases: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
    cases.extend(
        [
            "é",
            "ünïcødé ✓",
            "😀",
            "\u{2028}\u{2029}",
            "a\"b\\c/d",
            "\u{7f}",
            "",
            "tab\tnl\n",
        ]
        .map(String::from),
    );
    for s in cases {
        let mut ours = Vec::new();
        write_str(&mut ours, &s);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&s).unwrap(),
            "{s:?}"
        );
    }
}

#[test]
fn numbers_are_written_as_serde_json_writes_them() {
    for text in [
        "0",
        "-7",
        "18446744073709551615",
        "-9223372036854775808",
        "2.5",
        "1e21",
        "0.1",
        "1.0",
        "-0.0",
        "1.5e-7",
    ] {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut ours = Vec::new();
        write_canonical_value(&mut ours, &v);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&v).unwrap(),
            "{text}"
        );
    }
}

#[test]
fn canonical_json_text_hashes_like_the_value_and_reads_back_to_itself() {
    let values = [
        json!(null),
        json!({}),
        json!({"z": [1, {"b": 2, "a": "x\ny"}], "a": -0.5, "m": 1e21, "é": "😀", "": false}),
        fixed_event().details,
    ];
    let mut hasher = RecordHasher::new();
    for v in values {
        let text = canonical_json(&v);
        // Idempotent: what the store reads back and writes again does not change.
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&reparsed), text);
        assert_eq!(reparsed, v);
        // Hashing the stored text verbatim equals hashing the value.
        let mut e = fixed_event();
        e.details = v;
        let mut parts = e.parts();
        parts.details = Details::Canonical(&text);
        assert_eq!(
            hasher.hash_parts(9, &Hash::ZERO, &parts),
            record_hash(9, &Hash::ZERO, &e)
        );
        // Any other text of the same value is another hash: the bytes are what is signed.
        let spaced = format!(" {text}");
        parts.details = Details::Canonical(&spaced);
        assert_ne!(
            hasher.hash_parts(9, &Hash::ZERO, &parts),
            record_hash(9, &Hash::ZERO, &e)
        );
    }
}

#[test]
fn parts_borrow_every_field_of_the_event() {
    let e = fixed_event();
    let p = e.parts();
    assert_eq!(
        (
            p.time_ms,
            p.actor_kind,
            p.actor_id,
            p.actor_role,
            p.action,
            p.target
        ),
        (
            e.time_ms,
            e.actor.kind,
            "tok_01",
            Some("deployer"),
            "gate.override",
            "component:default/payments"
        )
    );
    assert_eq!(
        (p.outcome, p.source, p.request_id),
        (e.outcome, None, Some("r-1"))
    );
    assert_eq!(p.details, Details::Value(&e.details));
    let mut h = RecordHasher::new();
    assert_eq!(h.canonical(3, &e).to_vec(), canonical_bytes(3, &e));
}
