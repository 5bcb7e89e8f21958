//! The stored encoding of ledger rows (`pave_delivery::codec`): every row of the demo's 90
//! days goes through it and back, in the order a store hands rows back; a ledger rebuilt
//! from the decoded rows is the same ledger; a deployment fits the 200-byte budget; and no
//! corrupt body panics. (Every other ledger test round-trips its rows too, in `Feed`.)

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use pave_delivery::codec::{self, Codec, Encoded};
use pave_delivery::demo::{demo_deliveries, received_at};
use pave_delivery::{Attribution, Ledger, LedgerConfig, Row, Rows};
use proptest::prelude::*;
use serde_json::Value;

const DAY: i64 = 86_400_000;
const NOW: i64 = 20_514 * DAY + 12 * 3_600_000;

fn demo_catalog() -> Vec<Value> {
    pave_demo::demo_org_entities()
}

/// The demo through the ledger, every applied row encoded into a map keyed like the store's
/// table (an upsert by `(kind, key)`, the last body wins).
fn demo_store() -> (Ledger, Attribution, BTreeMap<(i16, String), Vec<u8>>) {
    let entities = demo_catalog();
    let attribution = Attribution::from_entities(&entities);
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    let mut codec = Codec::new();
    let mut table = BTreeMap::new();
    let mut out = Vec::new();
    for (seq, delivery) in demo_deliveries(&entities, NOW, 7).iter().enumerate() {
        let applied = ledger.apply(
            seq as u64 + 1,
            received_at(delivery, NOW),
            delivery,
            &attribution,
        );
        for row in &applied.rows {
            codec.encode(row, &mut out);
        }
        for Encoded { kind, key, body } in out.drain(..) {
            table.insert((kind, key), body);
        }
    }
    (ledger, attribution, table)
}

#[test]
fn the_demo_round_trips_through_the_stored_form() {
    let (ledger, attribution, table) = demo_store();
    let mut codec = Codec::new();
    let mut rows = Rows::default();
    for ((kind, key), body) in &table {
        if let Some(row) = codec.decode(*kind, key, body).unwrap() {
            rows.push(row);
        }
    }
    assert!(codec.names() > 50, "{} names", codec.names());
    let mut expected = ledger.rows();
    // The store hands rows back by key; compare as sets.
    let sort = |rows: &mut Rows| {
        rows.subjects.sort_by(|a, b| a.key.cmp(&b.key));
        rows.commits
            .sort_by(|a, b| (&a.repo, &a.sha).cmp(&(&b.repo, &b.sha)));
        rows.changes
            .sort_by(|a, b| (&a.repo, &a.sha).cmp(&(&b.repo, &b.sha)));
        rows.deployments.sort_by_key(|d| d.id);
        rows.incidents.sort_by_key(|i| i.id);
        rows.alerts.sort_by_key(|a| a.id);
    };
    sort(&mut rows);
    sort(&mut expected);
    assert!(expected.deployments.len() > 2_000);
    assert_eq!(rows, expected);
    let (rebuilt, applied) =
        Ledger::from_rows(LedgerConfig::default(), &rows, &attribution).unwrap();
    assert!(applied.rows.is_empty());
    assert_eq!(rebuilt.stats(), ledger.stats());

    // A name row stands for its text whichever codec reads it: encoding the decoded rows
    // again with the loaded codec adds no names.
    let before = codec.names();
    let mut out = Vec::new();
    for d in &rows.deployments {
        codec.encode(&Row::Deployment(d.clone()), &mut out);
    }
    assert_eq!(codec.names(), before);
    assert!(out.iter().all(|e| e.kind == codec::DEPLOYMENT));
}

#[test]
fn a_deployment_fits_the_budget() {
    let (_, _, table) = demo_store();
    let deployments: Vec<usize> = table
        .iter()
        .filter(|((kind, _), _)| *kind == codec::DEPLOYMENT)
        .map(|((_, key), body)| key.len() + body.len())
        .collect();
    let average = deployments.iter().sum::<usize>() / deployments.len();
    // The row's own bytes; SQLite adds a few bytes of record header and the primary key's
    // index entry (the key again): the intake's benchmark measures the file.
    assert!(average <= 100, "{average} bytes per deployment row");
}

#[test]
fn corrupt_bodies_are_errors_not_panics() {
    let (_, _, table) = demo_store();
    let mut codec = Codec::new();
    for ((kind, key), body) in table.iter().filter(|((kind, _), _)| *kind == codec::NAME) {
        codec.decode(*kind, key, body).unwrap();
    }
    let mut errors = 0;
    for ((kind, key), body) in table
        .iter()
        .filter(|((kind, _), _)| *kind != codec::NAME)
        .step_by(29)
    {
        // Every truncation is an error (a row never ends early and still decodes).
        for cut in 0..body.len() {
            assert!(codec.decode(*kind, key, &body[..cut]).is_err());
            errors += 1;
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(codec.decode(*kind, key, &longer).is_err());
        // Flipped bytes decode to something or fail; they never panic.
        for at in 0..body.len() {
            let mut flipped = body.clone();
            flipped[at] ^= 0xa5;
            let _ = codec.decode(*kind, key, &flipped);
        }
    }
    assert!(errors > 1_000, "{errors}");
    let err = codec
        .decode(codec::DEPLOYMENT, "zz", &[9])
        .unwrap_err()
        .to_string();
    assert!(err.contains("format 9"), "{err}");
    let err = codec
        .decode(42, "x", &[codec::FORMAT])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown row kind 42"), "{err}");
    let err = codec
        .decode(codec::NAME, "ZZ", &[codec::FORMAT])
        .unwrap_err()
        .to_string();
    assert!(err.contains("base-36"), "{err}");
}

proptest! {
    #[test]
    fn random_bodies_never_panic(kind in 0i16..9, key in "[a-z0-9:~_-]{0,40}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut codec = Codec::new();
        codec.decode(codec::NAME, "0", b"\x01github.com/x/y").unwrap();
        codec.decode(codec::NAME, "1", b"\x01production").unwrap();
        let mut body = body;
        if !body.is_empty() {
            body[0] = codec::FORMAT;
        }
        let _ = codec.decode(kind, &key, &body);
    }
}

#[test]
fn opsgenie_subjects_keep_their_tags_and_details_and_old_rows_still_read() {
    use pave_delivery::rows::SubjectRow;
    use pave_events::Subject;
    let row = |tags: Vec<String>, details: BTreeMap<String, String>| {
        Row::Subject(SubjectRow {
            key: "opsgenie-tag:service:search".into(),
            subject: Subject::Opsgenie {
                teams: vec!["Search Team".into()],
                entity: None,
                tags,
                details,
            },
            entity: Some("component:default/search".into()),
            how: Some("annotation opsgenie.com/component-selector".into()),
            events: 2,
            last_seen: NOW,
        })
    };
    let plain = row(vec![], BTreeMap::new());
    let tagged = row(
        vec!["vip".into(), "service:search".into()],
        BTreeMap::from([("component".to_owned(), "search".to_owned())]),
    );
    for original in [plain, tagged] {
        let mut out = Vec::new();
        Codec::new().encode(&original, &mut out);
        let mut codec = Codec::new();
        let decoded: Vec<Row> = out
            .iter()
            .filter_map(|e| codec.decode(e.kind, &e.key, &e.body).unwrap())
            .collect();
        assert_eq!(decoded, [original]);
    }
}
