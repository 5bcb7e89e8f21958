//! The delivery part of the store suite: deliveries recorded once by `(source, id)` with
//! their audit records (and rolled back with them), read back in order and by pages; the
//! ledger upserted with its cursor in one transaction, visited in key order and reset; and
//! retention, which releases payloads only behind the cursor and keeps the rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pave_audit::Outcome;

use crate::testsuite_identity::event;
use crate::{
    Accepted, DeliveryRetention, DeliveryStats, LedgerRow, NewDelivery, Store, StoredDelivery,
};

fn delivery(source: &str, id: &str, received_at: i64, body: &[u8]) -> NewDelivery {
    NewDelivery {
        source: source.into(),
        delivery_id: id.into(),
        received_at,
        headers: format!("{{\"x-id\":\"{id}\",\"x-name\":\"déploiement ✓\"}}"),
        body: body.to_vec(),
    }
}

/// A body that is not UTF-8 (a lone continuation byte, an invalid lead byte, NUL).
const BINARY: &[u8] = b"\x00\xff\xfe{\"a\":\x80\xc3(}\x00";

fn stored(seq: i64, d: &NewDelivery) -> StoredDelivery {
    StoredDelivery {
        seq,
        source: d.source.clone(),
        delivery_id: d.delivery_id.clone(),
        received_at: d.received_at,
        headers: d.headers.clone(),
        body: d.body.clone(),
        expired: false,
    }
}

fn payload(d: &NewDelivery) -> u64 {
    (d.headers.len() + d.body.len()) as u64
}

/// The actions of the audit records after `from` (a head's seq), oldest first.
async fn actions_after(store: &dyn Store, from: i64) -> Vec<String> {
    let mut actions = Vec::new();
    store
        .visit_audit_range(from + 1, i64::MAX, &mut |r| actions.push(r.event.action))
        .await
        .unwrap();
    actions
}

fn received(n: i64) -> pave_audit::AuditEvent {
    event(n, "delivery.received", "github", Outcome::Success)
}

pub(crate) async fn deliveries_are_recorded_once(store: &dyn Store) {
    assert_eq!(
        store.delivery_stats().await.unwrap(),
        DeliveryStats::default(),
        "store must start without deliveries"
    );
    assert_eq!(store.ledger_cursor().await.unwrap(), 0);
    assert!(store.deliveries_after(0, 10).await.unwrap().is_empty());

    let head = store.audit_head().await.unwrap();
    let first = vec![
        delivery("github", "a", 100, b"{\"push\":1}"),
        delivery("github", "b", 101, BINARY),
        // The same id from another sender is another delivery.
        delivery("gitlab", "a", 102, b""),
    ];
    let accepted = store
        .accept_deliveries(&first, &[received(1), received(2), received(3)])
        .await
        .unwrap();
    assert!(
        accepted.iter().all(|a| matches!(a, Accepted::New { .. })),
        "{accepted:?}"
    );
    let seqs: Vec<i64> = accepted.iter().map(|a| a.seq()).collect();
    assert!(
        seqs[0] > 0 && seqs.windows(2).all(|w| w[0] < w[1]),
        "numbered in batch order: {seqs:?}"
    );
    assert_eq!(
        store.audit_head().await.unwrap().seq,
        head.seq + 3,
        "the batch's records are appended with it"
    );
    assert_eq!(
        actions_after(store, head.seq).await,
        vec!["delivery.received"; 3]
    );
    let all = store.deliveries_after(0, 10).await.unwrap();
    let expected: Vec<StoredDelivery> = seqs
        .iter()
        .zip(&first)
        .map(|(&seq, d)| stored(seq, d))
        .collect();
    assert_eq!(all, expected, "bodies and headers round-trip byte for byte");
    assert_eq!(
        store.delivery("github", "b").await.unwrap(),
        Some(expected[1].clone())
    );
    assert_eq!(store.delivery("github", "nope").await.unwrap(), None);
    assert_eq!(store.delivery("bitbucket", "a").await.unwrap(), None);

    // Duplicates of earlier deliveries and of earlier ones in the same batch.
    let head = store.audit_head().await.unwrap();
    let mut retry = delivery("github", "a", 200, b"{\"push\":\"changed\"}");
    retry.headers = "{}".into();
    let second = vec![
        delivery("github", "c", 201, b"c"),
        retry,
        delivery("github", "c", 202, b"c again"),
        delivery("gitlab", "b", 203, b"d"),
        delivery("gitlab", "b", 204, b"d again"),
    ];
    let accepted = store
        .accept_deliveries(&second, &[received(4)])
        .await
        .unwrap();
    let Accepted::New { seq: c } = accepted[0] else {
        panic!("{accepted:?}")
    };
    let Accepted::New { seq: d } = accepted[3] else {
        panic!("{accepted:?}")
    };
    assert_eq!(
        accepted,
        vec![
            Accepted::New { seq: c },
            Accepted::Duplicate { seq: seqs[0] },
            Accepted::Duplicate { seq: c },
            Accepted::New { seq: d },
            Accepted::Duplicate { seq: d },
        ]
    );
    assert!(seqs[2] < c && c < d, "numbers grow across batches");
    assert_eq!(
        store.delivery("github", "a").await.unwrap(),
        Some(expected[0].clone()),
        "a duplicate changes nothing"
    );
    assert_eq!(
        store.delivery("github", "c").await.unwrap().unwrap().body,
        b"c"
    );
    assert_eq!(
        actions_after(store, head.seq).await,
        vec!["delivery.received"]
    );

    // A batch of duplicates only records nothing but its audit records.
    let head = store.audit_head().await.unwrap();
    let again = store
        .accept_deliveries(&first, &[received(5)])
        .await
        .unwrap();
    assert_eq!(
        again,
        seqs.iter()
            .map(|&seq| Accepted::Duplicate { seq })
            .collect::<Vec<_>>()
    );
    assert_eq!(store.audit_head().await.unwrap().seq, head.seq + 1);
    assert_eq!(store.accept_deliveries(&[], &[]).await.unwrap(), Vec::new());

    // Pages of deliveries_after.
    let every = store.deliveries_after(0, 100).await.unwrap();
    let numbers: Vec<i64> = every.iter().map(|d| d.seq).collect();
    assert_eq!(numbers, vec![seqs[0], seqs[1], seqs[2], c, d]);
    let page = store.deliveries_after(0, 2).await.unwrap();
    assert_eq!(page, every[..2].to_vec());
    let page = store.deliveries_after(page[1].seq, 2).await.unwrap();
    assert_eq!(page, every[2..4].to_vec());
    let page = store.deliveries_after(page[1].seq, 2).await.unwrap();
    assert_eq!(page, every[4..].to_vec());
    assert!(store.deliveries_after(d, 2).await.unwrap().is_empty());
    assert!(store.deliveries_after(0, 0).await.unwrap().is_empty());

    let payload_bytes =
        first.iter().map(payload).sum::<u64>() + payload(&second[0]) + payload(&second[3]);
    assert_eq!(
        store.delivery_stats().await.unwrap(),
        DeliveryStats {
            deliveries: 5,
            expired: 0,
            payload_bytes,
            last_seq: d,
            cursor: 0,
            ledger_rows: 0,
        },
        "payload bytes count bytes, not characters"
    );
}

/// A batch that fails part-way (a delivery breaking the schema's CHECK, after a full
/// statement of good ones) records none of it and none of its audit records.
pub(crate) async fn failed_acceptance_records_nothing(store: &dyn Store) {
    let before = store.delivery_stats().await.unwrap();
    let head = store.audit_head().await.unwrap();
    let mut batch: Vec<NewDelivery> = (0..600)
        .map(|i| delivery("cdevents", &format!("bulk-{i}"), 300 + i, &[i as u8; 40]))
        .collect();
    // A repeat across the statements' boundary.
    batch[550] = batch[10].clone();
    let mut failing = batch.clone();
    failing.push(delivery("", "no-source", 999, b"x"));
    let audit: Vec<_> = (0..failing.len() as i64).map(received).collect();
    assert!(
        store.accept_deliveries(&failing, &audit).await.is_err(),
        "an empty source must fail the batch"
    );
    assert_eq!(
        store.delivery_stats().await.unwrap(),
        before,
        "a failed batch leaves no trace"
    );
    assert_eq!(
        store.audit_head().await.unwrap(),
        head,
        "nor any audit record"
    );
    assert_eq!(store.delivery("cdevents", "bulk-0").await.unwrap(), None);

    let accepted = store
        .accept_deliveries(&batch, &audit[..batch.len()])
        .await
        .unwrap();
    assert_eq!(accepted.len(), 600);
    assert_eq!(
        accepted[550],
        Accepted::Duplicate {
            seq: accepted[10].seq()
        }
    );
    let new: Vec<i64> = accepted
        .iter()
        .filter(|a| matches!(a, Accepted::New { .. }))
        .map(|a| a.seq())
        .collect();
    assert_eq!(new.len(), 599);
    assert!(new[0] > before.last_seq && new.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(store.audit_head().await.unwrap().seq, head.seq + 600);
    let after = store.delivery_stats().await.unwrap();
    assert_eq!(after.deliveries, before.deliveries + 599);
    assert_eq!(after.last_seq, *new.last().unwrap());
    let listed = store
        .deliveries_after(before.last_seq, 1_000)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|d| d.seq).collect::<Vec<_>>(), new);
}

/// Concurrent batches with overlapping ids: each id is recorded once, and every duplicate
/// names that one.
pub(crate) async fn concurrent_acceptance_records_each_id_once(store: &dyn Store) {
    let before = store.delivery_stats().await.unwrap();
    let batches: Vec<Vec<NewDelivery>> = (0..8)
        .map(|b| {
            (b..b + 12)
                .map(|i| delivery("concurrent", &format!("id-{i}"), 500 + i, b"{}"))
                .collect()
        })
        .collect();
    let audit = [received(1)];
    let results = futures_util::future::join_all(
        batches
            .iter()
            .map(|batch| store.accept_deliveries(batch, &audit)),
    )
    .await;
    let mut seq_of = std::collections::HashMap::new();
    let mut new = 0;
    for (batch, result) in batches.iter().zip(results) {
        for (d, accepted) in batch.iter().zip(result.unwrap()) {
            if matches!(accepted, Accepted::New { .. }) {
                new += 1;
            }
            let first = *seq_of
                .entry(d.delivery_id.clone())
                .or_insert(accepted.seq());
            assert_eq!(first, accepted.seq(), "{} has two numbers", d.delivery_id);
        }
    }
    assert_eq!(new, 19, "ids 0..19 are each new exactly once");
    let listed = store.deliveries_after(before.last_seq, 100).await.unwrap();
    assert_eq!(listed.len(), 19);
    for d in &listed {
        assert_eq!(seq_of[&d.delivery_id], d.seq);
    }
}

fn row(kind: i16, key: &str, body: &[u8]) -> LedgerRow {
    LedgerRow {
        kind,
        key: key.into(),
        body: body.to_vec(),
    }
}

async fn ledger(store: &dyn Store) -> Vec<LedgerRow> {
    let mut rows = Vec::new();
    store.visit_ledger(&mut |r| rows.push(r)).await.unwrap();
    rows
}

pub(crate) async fn the_ledger_commits_with_its_cursor(store: &dyn Store) {
    assert!(ledger(store).await.is_empty());
    let head = store.audit_head().await.unwrap();
    store
        .commit_ledger(
            &[
                row(1, "b", b"b1"),
                row(1, "a", BINARY),
                row(2, "a", b"2a"),
                row(0, "z", b"0z"),
                // Byte order, whatever the database's collation: "Z" < "z" < "é".
                row(1, "é", b"e-acute"),
                row(1, "Z", b"upper"),
                row(-1, "neg", b"negative kind"),
            ],
            3,
            &[event(1, "ledger.commit", "3", Outcome::Success)],
        )
        .await
        .unwrap();
    assert_eq!(store.ledger_cursor().await.unwrap(), 3);
    assert_eq!(store.audit_head().await.unwrap().seq, head.seq + 1);
    let rows = ledger(store).await;
    let keys: Vec<(i16, &str)> = rows.iter().map(|r| (r.kind, r.key.as_str())).collect();
    assert_eq!(
        keys,
        vec![
            (-1, "neg"),
            (0, "z"),
            (1, "Z"),
            (1, "a"),
            (1, "b"),
            (1, "é"),
            (2, "a")
        ],
        "visited in (kind, key) order, keys by bytes"
    );
    assert_eq!(rows[3].body, BINARY, "bodies round-trip byte for byte");

    // Upserts replace bodies; a key repeated in one commit keeps its last body.
    store
        .commit_ledger(
            &[
                row(1, "a", b"first"),
                row(1, "c", b"new"),
                row(1, "a", b"replaced"),
            ],
            5,
            &[],
        )
        .await
        .unwrap();
    let rows = ledger(store).await;
    assert_eq!(rows.len(), 8);
    assert_eq!(
        rows.iter()
            .find(|r| (r.kind, r.key.as_str()) == (1, "a"))
            .unwrap()
            .body,
        b"replaced"
    );
    assert_eq!(
        rows.iter()
            .find(|r| (r.kind, r.key.as_str()) == (1, "c"))
            .unwrap()
            .body,
        b"new"
    );
    assert_eq!(store.ledger_cursor().await.unwrap(), 5);

    // Rows and cursor go together: a cursor the schema refuses undoes the rows and the record.
    let head = store.audit_head().await.unwrap();
    let before = ledger(store).await;
    assert!(
        store
            .commit_ledger(
                &[row(1, "a", b"lost"), row(9, "lost", b"lost")],
                -1,
                &[event(2, "ledger.commit", "-1", Outcome::Success)],
            )
            .await
            .is_err(),
        "a negative cursor must fail the commit"
    );
    assert_eq!(
        ledger(store).await,
        before,
        "a failed commit leaves no trace"
    );
    assert_eq!(store.ledger_cursor().await.unwrap(), 5);
    assert_eq!(store.audit_head().await.unwrap(), head);

    // More rows than one statement takes, upserting some of the existing ones.
    let many: Vec<LedgerRow> = (0..1_234)
        .map(|i| row(3, &format!("k{i:05}"), format!("v{i}").as_bytes()))
        .chain([row(1, "b", b"b2")])
        .collect();
    store.commit_ledger(&many, 7, &[]).await.unwrap();
    let rows = ledger(store).await;
    assert_eq!(rows.len(), 8 + 1_234);
    let mut sorted = rows.clone();
    sorted.sort_by(|x, y| (x.kind, x.key.as_bytes()).cmp(&(y.kind, y.key.as_bytes())));
    assert_eq!(rows, sorted);
    assert_eq!(
        rows.iter()
            .find(|r| (r.kind, r.key.as_str()) == (1, "b"))
            .unwrap()
            .body,
        b"b2"
    );
    let stats = store.delivery_stats().await.unwrap();
    assert_eq!((stats.ledger_rows, stats.cursor), (8 + 1_234, 7));

    // A reset empties the ledger and rewinds the cursor, with its record.
    let head = store.audit_head().await.unwrap();
    let deleted = store
        .reset_ledger(&[event(3, "ledger.reset", "", Outcome::Success)])
        .await
        .unwrap();
    assert_eq!(deleted, 8 + 1_234);
    assert!(ledger(store).await.is_empty());
    assert_eq!(store.ledger_cursor().await.unwrap(), 0);
    assert_eq!(actions_after(store, head.seq).await, vec!["ledger.reset"]);
    assert_eq!(store.reset_ledger(&[]).await.unwrap(), 0);
    let stats = store.delivery_stats().await.unwrap();
    assert_eq!((stats.ledger_rows, stats.cursor), (0, 0));
}

/// Retention releases payloads only at or behind the cursor, received before the limit, and
/// beyond the newest `keep_at_least`; the rows stay and redeliveries are still duplicates.
pub(crate) async fn retention_releases_applied_payloads(store: &dyn Store) {
    let earlier = store.delivery_stats().await.unwrap();
    // Every earlier delivery was received before 10,000.
    let recent: Vec<NewDelivery> = (0..6)
        .map(|i| {
            delivery(
                "retention",
                &format!("r{i}"),
                10_000 + i,
                &[0xff, i as u8, 0x80],
            )
        })
        .collect();
    let seqs: Vec<i64> = store
        .accept_deliveries(&recent, &[])
        .await
        .unwrap()
        .iter()
        .map(|a| a.seq())
        .collect();
    store.commit_ledger(&[], seqs[3], &[]).await.unwrap();
    let expire = |received_before: i64, keep_at_least: u64| async move {
        store
            .expire_deliveries(&DeliveryRetention {
                received_before,
                keep_at_least,
                kept_sources: &[],
            })
            .await
            .unwrap()
    };
    let total = earlier.deliveries + 6;
    assert_eq!(
        expire(i64::MAX, total).await,
        0,
        "all are among the newest kept"
    );
    // Received before 10,002: every earlier one and r0, r1 (r2 is not strictly before).
    assert_eq!(
        expire(10_002, 0).await,
        earlier.deliveries - earlier.expired + 2
    );
    // The newest three are r3..r5: of what the cursor allows, r2 may go.
    assert_eq!(expire(i64::MAX, 3).await, 1);
    // Without a floor the cursor stops it: r3 goes, r4 and r5 are not applied yet.
    assert_eq!(expire(i64::MAX, 0).await, 1);
    assert_eq!(expire(i64::MAX, 0).await, 0, "released once");

    let r0 = store.delivery("retention", "r0").await.unwrap().unwrap();
    assert_eq!(
        r0,
        StoredDelivery {
            seq: seqs[0],
            source: "retention".into(),
            delivery_id: "r0".into(),
            received_at: 10_000,
            headers: String::new(),
            body: Vec::new(),
            expired: true,
        }
    );
    let r4 = store.delivery("retention", "r4").await.unwrap().unwrap();
    assert_eq!(r4, stored(seqs[4], &recent[4]));
    let listed = store.deliveries_after(earlier.last_seq, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|d| d.expired).collect::<Vec<_>>(),
        vec![true, true, true, true, false, false],
        "expired rows stay listed"
    );
    assert_eq!(
        store.delivery("github", "b").await.unwrap().unwrap().body,
        Vec::<u8>::new()
    );

    // A redelivery of a released one is still a duplicate, and stays released.
    let accepted = store
        .accept_deliveries(&[recent[0].clone(), recent[5].clone()], &[])
        .await
        .unwrap();
    assert_eq!(
        accepted,
        vec![
            Accepted::Duplicate { seq: seqs[0] },
            Accepted::Duplicate { seq: seqs[5] }
        ]
    );
    assert!(
        store
            .delivery("retention", "r0")
            .await
            .unwrap()
            .unwrap()
            .expired
    );

    assert_eq!(
        store.delivery_stats().await.unwrap(),
        DeliveryStats {
            deliveries: total,
            expired: total - 2,
            payload_bytes: payload(&recent[4]) + payload(&recent[5]),
            last_seq: seqs[5],
            cursor: seqs[3],
            ledger_rows: 0,
        }
    );
    // Moving the cursor on lets the rest go, except what keep_at_least holds.
    store.commit_ledger(&[], seqs[5], &[]).await.unwrap();
    assert_eq!(expire(i64::MAX, 1).await, 1);
    assert!(
        store
            .delivery("retention", "r4")
            .await
            .unwrap()
            .unwrap()
            .expired
    );
    assert!(
        !store
            .delivery("retention", "r5")
            .await
            .unwrap()
            .unwrap()
            .expired
    );
}

/// Deliveries are read back by source, in order and by pages; retention never releases
/// the payloads of a kept source (posted documents), whatever their age.
pub(crate) async fn deliveries_are_read_by_source_and_kept_sources_stay(store: &dyn Store) {
    let docs: Vec<NewDelivery> = (0..3)
        .map(|i| {
            delivery(
                "document",
                &format!("d{i}"),
                i,
                format!("doc {i}").as_bytes(),
            )
        })
        .collect();
    let other = delivery("webhook", "w0", 0, b"payload");
    let mut all = docs.clone();
    all.insert(1, other.clone());
    let seqs: Vec<i64> = store
        .accept_deliveries(&all, &[])
        .await
        .unwrap()
        .iter()
        .map(|a| a.seq())
        .collect();
    let want: Vec<StoredDelivery> = [0usize, 2, 3]
        .iter()
        .zip(&docs)
        .map(|(&i, d)| stored(seqs[i], d))
        .collect();
    assert_eq!(store.deliveries_of("document", 0, 10).await.unwrap(), want);
    assert_eq!(
        store.deliveries_of("document", 0, 2).await.unwrap(),
        want[..2]
    );
    assert_eq!(
        store
            .deliveries_of("document", want[1].seq, 10)
            .await
            .unwrap(),
        want[2..]
    );
    assert!(
        store
            .deliveries_of("document", 0, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .deliveries_of("nothing", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Everything is applied and old: only the kept source stays.
    let last = *seqs.iter().max().unwrap();
    store.commit_ledger(&[], last, &[]).await.unwrap();
    store
        .expire_deliveries(&DeliveryRetention {
            received_before: i64::MAX,
            keep_at_least: 0,
            kept_sources: &["document", "unused"],
        })
        .await
        .unwrap();
    assert_eq!(store.deliveries_of("document", 0, 10).await.unwrap(), want);
    let webhook = store.delivery("webhook", "w0").await.unwrap().unwrap();
    assert!(webhook.expired && webhook.body.is_empty(), "{webhook:?}");
}
