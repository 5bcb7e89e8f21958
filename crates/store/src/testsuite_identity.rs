//! The identity and audit part of the store suite: the audit chain written with the changes
//! it records (and rolled back with them), its queries, checkpoints and retention; sessions,
//! sign-ins in flight and API tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pave_audit::{
    Actor, ActorKind, AuditEvent, AuditRecord, ChainHead, Outcome, SigningKey, VerifyingKey,
};
use serde_json::json;

use crate::{AuditQuery, Batch, EntityRow, LocationKind, LoginRow, SessionRow, Store, TokenRow};

pub(crate) fn event(n: i64, action: &str, target: &str, outcome: Outcome) -> AuditEvent {
    AuditEvent {
        time_ms: 1_000 + n,
        actor: Actor {
            kind: ActorKind::User,
            id: format!("user:default/u{}", n % 2),
            role: Some("editor".into()),
        },
        action: action.into(),
        target: target.into(),
        outcome,
        source: Some("127.0.0.1".into()),
        request_id: Some(format!("req-{n}")),
        details: json!({"n": n, "b": {"z": 1, "a": [true, null]}}),
    }
}

/// Every record from the start, verified against the stored checkpoints.
async fn verified(store: &dyn Store, key: &VerifyingKey) -> pave_audit::VerifyReport {
    let mut records = Vec::new();
    store
        .visit_audit(0, &mut |r| records.push(r))
        .await
        .unwrap();
    let checkpoints = store.checkpoints().await.unwrap();
    // After retention the chain starts at the checkpoint of the last record that went.
    let anchor = records
        .first()
        .and_then(|first| checkpoints.iter().find(|c| c.seq == first.seq - 1))
        .cloned();
    // The same walk over the rows as stored (details unparsed) must say the same.
    let mut stored = Vec::new();
    if let (Some(first), Some(last)) = (records.first(), records.last()) {
        store
            .visit_stored_audit(first.seq, last.seq, &mut |chunk| {
                stored.extend(chunk);
                true
            })
            .await
            .unwrap();
    }
    let by_rows = pave_audit::verify(
        stored.into_iter().map(Ok::<_, std::convert::Infallible>),
        &checkpoints,
        Some(key),
        anchor.as_ref(),
    );
    let by_records = pave_audit::verify(
        records.into_iter().map(Ok::<_, std::convert::Infallible>),
        &checkpoints,
        Some(key),
        anchor.as_ref(),
    );
    assert_eq!(by_rows, by_records);
    by_records
}

/// A long walk goes by chunks, oldest first, and stops when asked; details are stored as
/// canonical text, so rows hash as they are.
pub(crate) async fn audit_walk_in_chunks(store: &dyn Store) {
    let start = store.audit_head().await.unwrap();
    for batch in 0..9 {
        let events: Vec<AuditEvent> = (0..1_000)
            .map(|i| {
                event(
                    batch * 1_000 + i,
                    "location.refresh",
                    "location-x",
                    Outcome::Success,
                )
            })
            .collect();
        store.append_audit(&events).await.unwrap();
    }
    let head = store.audit_head().await.unwrap();
    assert_eq!(head.seq, start.seq + 9_000);
    let mut chunks = Vec::new();
    let mut rows = Vec::new();
    store
        .visit_stored_audit(start.seq + 1, head.seq, &mut |chunk| {
            chunks.push(chunk.len());
            rows.extend(chunk);
            true
        })
        .await
        .unwrap();
    assert!(chunks.len() >= 3, "9,000 records in one piece: {chunks:?}");
    assert_eq!(chunks.iter().sum::<usize>(), 9_000);
    assert!(
        rows.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "not in seq order"
    );
    assert_eq!(rows.first().map(|r| r.prev_hash), Some(start.hash));
    for row in rows.iter().take(50) {
        let value: serde_json::Value = serde_json::from_str(&row.details).unwrap();
        assert_eq!(row.details, pave_audit::canonical_json(&value));
    }
    let report = pave_audit::verify_segment(rows.iter().map(Ok::<_, String>), &[], None);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.last, head);

    let mut visits = 0;
    store
        .visit_stored_audit(start.seq + 1, head.seq, &mut |_| {
            visits += 1;
            false
        })
        .await
        .unwrap();
    assert_eq!(visits, 1, "the walk goes on after being told to stop");
}

/// Appends from many callers at once go in together (group commit), yet each caller gets
/// exactly its own records, consecutive and in its order, and the chain stays whole.
pub(crate) async fn concurrent_appends_each_get_their_records(store: &dyn Store) {
    let start = store.audit_head().await.unwrap();
    let caller = |c: i64| async move {
        let mut mine = Vec::new();
        for n in 0..15 {
            let events: Vec<AuditEvent> = (0..1 + (c + n) % 3)
                .map(|i| event(n, "auth.failed", &format!("c{c}-{n}-{i}"), Outcome::Denied))
                .collect();
            let records = store.append_audit(&events).await.unwrap();
            let targets: Vec<&str> = records.iter().map(|r| r.event.target.as_str()).collect();
            let wanted: Vec<&str> = events.iter().map(|e| e.target.as_str()).collect();
            assert_eq!(
                targets, wanted,
                "caller {c} got records that are not its own"
            );
            assert!(
                records
                    .windows(2)
                    .all(|w| w[1].seq == w[0].seq + 1 && w[1].prev_hash == w[0].hash),
                "one call's records are consecutive"
            );
            mine.extend(records);
        }
        mine
    };
    let written: Vec<AuditRecord> = futures_util::future::join_all((0..12).map(caller))
        .await
        .into_iter()
        .flatten()
        .collect();
    let head = store.audit_head().await.unwrap();
    assert_eq!(
        usize::try_from(head.seq - start.seq).unwrap(),
        written.len(),
        "records lost or doubled"
    );
    let mut stored = Vec::new();
    store
        .visit_audit_range(start.seq + 1, head.seq, &mut |r| stored.push(r))
        .await
        .unwrap();
    let mut by_seq = written.clone();
    by_seq.sort_by_key(|r| r.seq);
    assert_eq!(stored, by_seq, "what callers were given is what is stored");
    let report = pave_audit::verify_segment(stored.iter().map(Ok::<_, String>), &[], None);
    assert!(report.is_ok(), "{report}");
}

pub(crate) async fn audit_chain(store: &dyn Store) {
    assert_eq!(store.audit_head().await.unwrap(), ChainHead::GENESIS);
    let key = SigningKey::generate().unwrap();

    // A change and its record go together.
    let (loc, created) = store
        .add_location(
            LocationKind::Url,
            "https://audit.example/c.yaml",
            1,
            &[event(
                1,
                "location.create",
                "url:https://audit.example/c.yaml",
                Outcome::Success,
            )],
        )
        .await
        .unwrap();
    assert!(created);
    let first = store
        .append_audit(&[
            event(2, "auth.sign_in", "user:default/u0", Outcome::Success),
            event(3, "auth.failed", "", Outcome::Denied),
        ])
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![2, 3],
        "records are numbered on from the location's"
    );
    let head = store.audit_head().await.unwrap();
    assert_eq!(head, first[1].head());

    // A batch that fails writes no record either.
    let mut bad = EntityRow {
        entity_ref: String::new(),
        uid: "u".into(),
        location_id: loc.id.clone(),
        location_key: "file:/x".into(),
        body: "{}".into(),
        relations: "[]".into(),
        hash: "h".into(),
        updated_at: 1,
        parent_ref: String::new(),
    };
    bad.entity_ref = String::new();
    let failing = Batch {
        audit: vec![event(
            4,
            "location.refresh",
            loc.id.as_str(),
            Outcome::Success,
        )],
        upsert_entities: vec![bad],
        ..Batch::default()
    };
    assert!(store.apply(&failing).await.is_err());
    assert_eq!(
        store.audit_head().await.unwrap(),
        head,
        "rolled back with the change"
    );
    // A batch of records only is a change of its own.
    let only = Batch {
        audit: vec![event(
            4,
            "location.refresh",
            loc.id.as_str(),
            Outcome::Success,
        )],
        ..Batch::default()
    };
    store.apply(&only).await.unwrap();
    // Writes that change nothing record nothing: deleting an unknown location.
    assert!(
        !store
            .delete_location(
                &"no-such".into(),
                &[event(9, "location.delete", "no-such", Outcome::Success)]
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_location(
                &loc.id,
                &[event(
                    5,
                    "location.delete",
                    loc.id.as_str(),
                    Outcome::Success
                )]
            )
            .await
            .unwrap()
    );
    assert_eq!(store.audit_head().await.unwrap().seq, 5);
    // The details read back as written (key order and all), so the hashes verify.
    let report = verified(store, &key.public()).await;
    assert!(report.is_ok(), "{report:?}");

    // Queries: newest first, filtered, paged.
    let all = store
        .audit_records(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![5, 4, 3, 2, 1]
    );
    let query = |q: AuditQuery| async move {
        store
            .audit_records(&AuditQuery { limit: 100, ..q })
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        query(AuditQuery {
            actor: Some("user:default/u0".into()),
            ..AuditQuery::default()
        })
        .await,
        vec![4, 2]
    );
    assert_eq!(
        query(AuditQuery {
            action: Some("auth.failed".into()),
            ..AuditQuery::default()
        })
        .await,
        vec![3]
    );
    // An action ending in `*` is a prefix (as pave_audit::Filter reads it).
    let prefix = query(AuditQuery {
        action: Some("location.*".into()),
        ..AuditQuery::default()
    })
    .await;
    let want: Vec<i64> = all
        .iter()
        .filter(|r| r.event.action.starts_with("location."))
        .map(|r| r.seq)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(prefix, want);
    assert_eq!(
        query(AuditQuery {
            action: Some("location".into()),
            ..AuditQuery::default()
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        query(AuditQuery {
            outcome: Some(Outcome::Denied),
            ..AuditQuery::default()
        })
        .await,
        vec![3]
    );
    assert_eq!(
        query(AuditQuery {
            target_prefix: Some("url:https://audit.".into()),
            ..AuditQuery::default()
        })
        .await,
        vec![1]
    );
    // `%` and `_` are not wildcards.
    assert_eq!(
        query(AuditQuery {
            target_prefix: Some("url:%".into()),
            ..AuditQuery::default()
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        query(AuditQuery {
            since: Some(1_002),
            until: Some(1_004),
            ..AuditQuery::default()
        })
        .await,
        vec![3, 2]
    );
    assert_eq!(
        query(AuditQuery {
            before_seq: Some(3),
            ..AuditQuery::default()
        })
        .await,
        vec![2, 1]
    );
    assert_eq!(
        store
            .audit_records(&AuditQuery {
                limit: 2,
                ..AuditQuery::default()
            })
            .await
            .unwrap()
            .len(),
        2
    );

    // Windows by time, read by seq.
    assert_eq!(
        store.audit_window(1_002, 1_004).await.unwrap(),
        Some((2, 3))
    );
    assert_eq!(store.audit_window(5_000, 6_000).await.unwrap(), None);
    assert_eq!(
        store.audit_window(i64::MIN, i64::MAX).await.unwrap(),
        Some((1, 5))
    );
    let mut window = Vec::new();
    store
        .visit_audit_range(2, 4, &mut |r| window.push(r.seq))
        .await
        .unwrap();
    assert_eq!(window, vec![2, 3, 4]);

    // Checkpoints and retention: records up to a checkpoint go, the chain verifies from it.
    let at_two = store
        .audit_records(&AuditQuery {
            before_seq: Some(3),
            limit: 1,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let checkpoint = key.checkpoint(&at_two[0].head(), 2_000);
    assert_eq!(store.expire_audit(&checkpoint).await.unwrap(), 2);
    let tail = key.checkpoint(&store.audit_head().await.unwrap(), 2_001);
    store.add_checkpoint(&tail).await.unwrap();
    store.add_checkpoint(&tail).await.unwrap(); // once is enough: not an error
    assert_eq!(store.checkpoints().await.unwrap(), vec![checkpoint, tail]);
    let mut left = Vec::new();
    store
        .visit_audit(0, &mut |r| left.push(r.seq))
        .await
        .unwrap();
    assert_eq!(left, vec![3, 4, 5]);
    let report = verified(store, &key.public()).await;
    assert!(report.is_ok(), "{report:?}");
    // Appending goes on from the head, not from what is left.
    let next = store
        .append_audit(&[event(6, "token.create", "t1", Outcome::Success)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, 6);
}

pub(crate) async fn sessions_and_logins(store: &dyn Store) {
    let session = SessionRow {
        id_hash: "h1".into(),
        subject: r#"{"user":"user:default/jane"}"#.into(),
        csrf: "c1".into(),
        created_at: 100,
        last_seen_at: 100,
        expires_at: 10_000,
    };
    let before = store.audit_head().await.unwrap().seq;
    store
        .put_session(
            &session,
            &[event(
                1,
                "auth.sign_in",
                "user:default/jane",
                Outcome::Success,
            )],
        )
        .await
        .unwrap();
    assert_eq!(store.audit_head().await.unwrap().seq, before + 1);
    assert!(
        store.put_session(&session, &[]).await.is_err(),
        "ids are unique"
    );
    assert_eq!(store.session("h1").await.unwrap(), Some(session.clone()));
    assert_eq!(store.session("nope").await.unwrap(), None);
    store.touch_session("h1", 500).await.unwrap();
    store.touch_session("h1", 400).await.unwrap(); // never backwards
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().last_seen_at,
        500
    );

    let idle = SessionRow {
        id_hash: "h2".into(),
        last_seen_at: 50,
        ..session.clone()
    };
    let old = SessionRow {
        id_hash: "h3".into(),
        expires_at: 900,
        last_seen_at: 800,
        ..session.clone()
    };
    store.put_session(&idle, &[]).await.unwrap();
    store.put_session(&old, &[]).await.unwrap();
    assert_eq!(store.delete_expired_sessions(1_000, 100).await.unwrap(), 2);
    assert!(store.session("h1").await.unwrap().is_some());

    assert!(
        store
            .delete_session(
                "h1",
                &[event(
                    2,
                    "auth.sign_out",
                    "user:default/jane",
                    Outcome::Success
                )]
            )
            .await
            .unwrap()
    );
    assert!(!store.delete_session("h1", &[]).await.unwrap());
    assert_eq!(store.audit_head().await.unwrap().seq, before + 2);

    let login = LoginRow {
        state_hash: "s1".into(),
        nonce: "n".into(),
        verifier: "v".into(),
        return_to: "/catalog".into(),
        created_at: 1_000,
    };
    let stale = LoginRow {
        state_hash: "s0".into(),
        created_at: 10,
        ..login.clone()
    };
    store.put_login(&stale, 0).await.unwrap();
    store.put_login(&login, 500).await.unwrap();
    assert_eq!(
        store.take_login("s0").await.unwrap(),
        None,
        "stale logins are dropped"
    );
    assert_eq!(store.take_login("s1").await.unwrap(), Some(login));
    assert_eq!(
        store.take_login("s1").await.unwrap(),
        None,
        "a state is good once"
    );
}

pub(crate) async fn tokens(store: &dyn Store) {
    let token = |id: &str, created_at: i64| TokenRow {
        id: id.into(),
        name: format!("name-{id}"),
        owner: "user:default/jane".into(),
        role: "viewer".into(),
        hash: format!("hash-{id}"),
        created_at,
        expires_at: 99_999,
        last_used_at: None,
        revoked_at: None,
    };
    let before = store.audit_head().await.unwrap().seq;
    store
        .create_token(
            &token("t1", 1),
            &[event(1, "token.create", "t1", Outcome::Success)],
        )
        .await
        .unwrap();
    store.create_token(&token("t2", 2), &[]).await.unwrap();
    let mut duplicate = token("t3", 3);
    duplicate.hash = "hash-t1".into();
    assert!(
        store
            .create_token(
                &duplicate,
                &[event(1, "token.create", "t3", Outcome::Success)]
            )
            .await
            .is_err()
    );
    assert_eq!(
        store.audit_head().await.unwrap().seq,
        before + 1,
        "the failed one recorded nothing"
    );
    assert_eq!(
        store.token_by_hash("hash-t1").await.unwrap(),
        Some(token("t1", 1))
    );
    assert_eq!(store.token("t2").await.unwrap(), Some(token("t2", 2)));
    assert_eq!(
        store
            .tokens()
            .await
            .unwrap()
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        vec!["t2", "t1"]
    );
    store.touch_token("t1", 50).await.unwrap();
    assert!(
        store
            .revoke_token(
                "t1",
                60,
                &[event(2, "token.revoke", "t1", Outcome::Success)]
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_token(
                "t1",
                70,
                &[event(3, "token.revoke", "t1", Outcome::Success)]
            )
            .await
            .unwrap()
    );
    let revoked = store.token("t1").await.unwrap().unwrap();
    assert_eq!(
        (revoked.last_used_at, revoked.revoked_at),
        (Some(50), Some(60))
    );
    assert_eq!(store.audit_head().await.unwrap().seq, before + 2);
}

/// Two stores on one database (two replicas, or the CLI beside the server) append on their
/// own, concurrently and between transactions that append with a change: each remembers the
/// head it last wrote, which the other keeps moving, and still the records form one chain
/// without gaps, each record once. Run on two handles of the same empty database.
pub async fn two_writers_keep_one_chain(first: &dyn Store, second: &dyn Store) {
    let start = first.audit_head().await.unwrap();
    assert_eq!(second.audit_head().await.unwrap(), start);
    let (a, b) =
        futures_util::future::join(audit_writer("a", first), audit_writer("b", second)).await;
    let mut records = Vec::new();
    first
        .visit_audit(start.seq + 1, &mut |r| records.push(r))
        .await
        .unwrap();
    assert_eq!(records.len(), a.len() + b.len(), "a record lost or doubled");
    let mut targets: Vec<&str> = records.iter().map(|r| r.event.target.as_str()).collect();
    targets.sort_unstable();
    let mut expected: Vec<&str> = a.iter().chain(&b).map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(targets, expected);
    let report = pave_audit::verify_segment(
        records.iter().map(|r| Ok::<_, String>(r.clone())),
        &[],
        None,
    );
    assert!(report.is_ok(), "{report}");
    assert_eq!(records.first().map(|r| r.prev_hash), Some(start.hash));
    let head = second.audit_head().await.unwrap();
    assert_eq!(
        Some(head),
        records.last().map(pave_audit::AuditRecord::head)
    );

    // Whichever wrote last, the other's next record still extends the chain.
    let next = first
        .append_audit(&[event(99, "token.use", "after", Outcome::Success)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, head.seq + 1);
    assert_eq!(next[0].prev_hash, head.hash);
}

/// One of [`two_writers_keep_one_chain`]'s writers: the targets of the records it wrote.
async fn audit_writer(name: &str, store: &dyn Store) -> Vec<String> {
    let mut written = Vec::new();
    for n in 0..60 {
        let target = format!("{name}-{n}");
        if n % 10 == 9 {
            // A change and its record in one transaction, which moves the head behind the
            // other writer's back.
            let record = event(n, "location.create", &target, Outcome::Success);
            let url = format!("https://x/{target}");
            let (_, created) = store
                .add_location(LocationKind::Url, &url, n, &[record])
                .await
                .unwrap();
            assert!(created);
            written.push(target);
        } else {
            let events: Vec<AuditEvent> = (0..1 + n % 3)
                .map(|i| event(n, "token.use", &format!("{target}.{i}"), Outcome::Success))
                .collect();
            let records = store.append_audit(&events).await.unwrap();
            assert_eq!(records.len(), events.len());
            assert!(
                records.windows(2).all(|w| w[1].seq == w[0].seq + 1),
                "one call's records are consecutive"
            );
            written.extend(events.into_iter().map(|e| e.target));
        }
    }
    written
}
