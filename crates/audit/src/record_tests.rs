#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::testutil::{event, fixed_event};

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
