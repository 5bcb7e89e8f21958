#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::testutil::event;

fn fixed_event() -> AuditEvent {
    AuditEvent {
        time_ms: 1_767_225_600_123,
        actor: Actor {
            kind: ActorKind::Token,
            id: "tok_01".into(),
            role: Some("deployer".into()),
        },
        action: "gate.override".into(),
        target: "component:default/payments".into(),
        outcome: Outcome::Denied,
        source: None,
        request_id: Some("r-1".into()),
        details: json!({"reason": "hotfix \"now\"\n", "b": [1, 2.5, null, true], "a": {"z": 1, "y": "é"}}),
    }
}

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
fn every_field_is_covered_by_the_hash() {
    let base = fixed_event();
    let h = record_hash(42, &Hash::ZERO, &base);
    type Mutation = fn(&mut AuditEvent);
    let mutations: Vec<(&str, Mutation)> = vec![
        ("time", |e| e.time_ms += 1),
        ("actor kind", |e| e.actor.kind = ActorKind::User),
        ("actor id", |e| e.actor.id.push('x')),
        ("actor role", |e| e.actor.role = None),
        ("action", |e| e.action = "gate.overrides".into()),
        ("target", |e| e.target.push('/')),
        ("outcome", |e| e.outcome = Outcome::Success),
        ("source", |e| e.source = Some(String::new())),
        ("request id", |e| e.request_id = None),
        ("details", |e| e.details["a"]["z"] = json!(2)),
        // A null option and the string "null" must differ.
        ("role null vs \"null\"", |e| {
            e.actor.role = Some("null".into())
        }),
    ];
    for (what, mutate) in mutations {
        let mut e = base.clone();
        mutate(&mut e);
        assert_ne!(record_hash(42, &Hash::ZERO, &e), h, "{what}");
    }
    assert_ne!(record_hash(43, &Hash::ZERO, &base), h, "seq");
    assert_ne!(record_hash(42, &Hash([1; 32]), &base), h, "prev hash");
}

#[test]
fn chain_links_records() {
    let mut chain = Chain::new(ChainHead::GENESIS);
    let r1 = chain.append(event(1));
    let r2 = chain.append(event(2));
    assert_eq!((r1.seq, r1.prev_hash), (1, Hash::ZERO));
    assert_eq!((r2.seq, r2.prev_hash), (2, r1.hash));
    assert_eq!(r2.hash, r2.computed_hash());
    assert_eq!(chain.head(), r2.head());
    // chain_next gives the same record as the reusable chain.
    assert_eq!(chain_next(&r1.head(), event(2)), r2);
}

#[test]
fn hash_hex_round_trip_and_errors() {
    let h = Hash::sha256(b"x");
    assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
    assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()).unwrap(), h);
    for (text, why) in [
        ("", "expected 64 hex digits"),
        ("ab", "expected 64 hex digits"),
        (&"g".repeat(64), "not a hex digit"),
        (&format!("{}é", "a".repeat(62)), "not a hex digit"),
    ] {
        let err = Hash::from_hex(text).unwrap_err().to_string();
        assert!(err.contains(why), "{text:?}: {err}");
    }
}

#[test]
fn records_serialize_flat_and_read_back() {
    let r = chain_next(&ChainHead::GENESIS, fixed_event());
    let text = serde_json::to_string(&r).unwrap();
    assert!(
        text.starts_with(r#"{"seq":1,"time_ms":1767225600123,"actor":{"kind":"token","#),
        "{text}"
    );
    assert!(text.ends_with(&format!(
        r#""prev_hash":"{}","hash":"{}"}}"#,
        Hash::ZERO,
        r.hash
    )));
    let back: AuditRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.computed_hash(), r.hash);
    let extra = text.replacen("{\"seq\"", "{\"extra\":1,\"seq\"", 1);
    assert!(
        serde_json::from_str::<AuditRecord>(&extra)
            .unwrap_err()
            .to_string()
            .contains("unknown field")
    );
}

#[test]
fn enum_names_round_trip() {
    for k in ActorKind::ALL {
        assert_eq!(k.as_str().parse::<ActorKind>().unwrap(), k);
        assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
    }
    for o in Outcome::ALL {
        assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
        assert_eq!(serde_json::to_value(o).unwrap(), json!(o.as_str()));
    }
    assert!(
        "robot"
            .parse::<ActorKind>()
            .unwrap_err()
            .to_string()
            .contains("unknown actor kind \"robot\"")
    );
    assert!("ok".parse::<Outcome>().is_err());
}
