//! One behavioural test suite for every [`Store`] implementation. Each backend's tests call
//! [`run_all`] on a fresh, empty store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{
    Batch, EntityOrigin, EntityRow, FileRow, LocationId, LocationKind, LocationStatus,
    LocationUpdate, Store,
};

fn entity(location_id: &LocationId, name: &str, body: &str) -> EntityRow {
    EntityRow {
        entity_ref: format!("component:default/{name}"),
        uid: format!("uid-{location_id}-{name}"),
        location_id: location_id.clone(),
        location_key: format!("file:/catalog/{name}.yaml"),
        body: body.into(),
        relations: "[]".into(),
        hash: format!("h-{body}"),
        updated_at: 1,
        parent_ref: format!("location:default/generated-{location_id}"),
    }
}

pub use crate::testsuite_identity::two_writers_keep_one_chain;

/// Runs every check in order on an empty store.
pub async fn run_all(store: &dyn Store) {
    locations_are_registered_once(store).await;
    batches_upsert_and_delete(store).await;
    failed_batches_change_nothing(store).await;
    large_batches_are_chunked(store).await;
    files_round_trip(store).await;
    heads_carry_location_bodies(store).await;
    deleting_a_location_removes_what_it_produced(store).await;
    locations_are_updated_unless_taken(store).await;
    origins_and_parents(store).await;
    uids_and_owners_do_not_change_on_upsert(store).await;
    the_version_moves_with_what_readers_see(store).await;
    leases_have_one_holder_until_they_expire(store).await;
    concurrent_writes_wait_for_each_other(store).await;
    crate::testsuite_identity::audit_chain(store).await;
    crate::testsuite_identity::audit_walk_in_chunks(store).await;
    crate::testsuite_identity::concurrent_appends_each_get_their_records(store).await;
    crate::testsuite_identity::sessions_and_logins(store).await;
    crate::testsuite_identity::tokens(store).await;
    // After the audit chain's checks, which start from an empty log.
    crate::testsuite_delivery::deliveries_are_recorded_once(store).await;
    crate::testsuite_delivery::failed_acceptance_records_nothing(store).await;
    crate::testsuite_delivery::concurrent_acceptance_records_each_id_once(store).await;
    crate::testsuite_delivery::the_ledger_commits_with_its_cursor(store).await;
    crate::testsuite_delivery::retention_releases_applied_payloads(store).await;
    crate::testsuite_delivery::deliveries_are_read_by_source_and_kept_sources_stay(store).await;
    crate::testsuite_guardrails::check_reports_keep_the_newest(store).await;
    crate::testsuite_guardrails::failed_check_reports_write_nothing(store).await;
    crate::testsuite_guardrails::concurrent_check_reports_keep_exactly_the_newest(store).await;
    registrations_and_ingestions_meet_without_deadlock(store).await;
}

async fn locations_are_registered_once(store: &dyn Store) {
    assert!(
        store.locations().await.unwrap().is_empty(),
        "store must start empty"
    );
    let (a, created) = store
        .add_location(LocationKind::File, "/catalog/a", 10, &[])
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (a.kind, a.target.as_str(), a.created_at),
        (LocationKind::File, "/catalog/a", 10)
    );
    let (again, created) = store
        .add_location(LocationKind::File, "/catalog/a", 20, &[])
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, a);
    let (b, _) = store
        .add_location(LocationKind::Git, "https://example.com/r.git#main", 30, &[])
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
    let all = store.locations().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(store.location(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.location(&"no-such-id".into()).await.unwrap(), None);
    assert!(store.delete_location(&b.id, &[]).await.unwrap());
    assert!(!store.delete_location(&b.id, &[]).await.unwrap());
}

async fn batches_upsert_and_delete(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/b", 1, &[])
        .await
        .unwrap();
    let batch = Batch {
        upsert_entities: vec![
            entity(&loc.id, "one", "{\"n\":1}"),
            entity(&loc.id, "two", "{\"n\":\"ünïcødé ✓\"}"),
        ],
        location_status: vec![LocationStatus {
            location_id: loc.id.clone(),
            refreshed_at: 99,
            status: "{\"added\":2}".into(),
        }],
        ..Batch::default()
    };
    store.apply(&batch).await.unwrap();
    let rows = store.location_entities(&loc.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.contains(&batch.upsert_entities[1]),
        "bodies round-trip exactly"
    );
    let loc_now = store.location(&loc.id).await.unwrap().unwrap();
    assert_eq!(loc_now.refreshed_at, Some(99));
    assert_eq!(loc_now.status.as_deref(), Some("{\"added\":2}"));

    // Update one, delete the other.
    let mut updated = entity(&loc.id, "one", "{\"n\":2}");
    updated.updated_at = 2;
    store
        .apply(&Batch {
            upsert_entities: vec![updated.clone()],
            delete_entities: vec!["component:default/two".into()],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.location_entities(&loc.id).await.unwrap(),
        vec![updated]
    );
    let heads = store.location_entity_heads(&loc.id).await.unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].hash, "h-{\"n\":2}");
    assert_eq!(heads[0].body, None, "bodies only for Location entities");
    let relations = store.entity_relations().await.unwrap();
    assert!(relations.contains(&("component:default/one".into(), "[]".into())));
    // The one written last comes first; rows keep the time they were written at.
    assert_eq!(
        store.recently_updated(1).await.unwrap(),
        vec![("component:default/one".to_owned(), 2)]
    );
    assert!(store.recently_updated(0).await.unwrap().is_empty());
    let mut visited = Vec::new();
    store
        .visit_entities(&mut |row| visited.push(row))
        .await
        .unwrap();
    let mut expected = store.entities().await.unwrap();
    for row in &mut expected {
        row.relations = String::new();
    }
    assert_eq!(
        visited, expected,
        "visit streams every row in entity_ref order"
    );
    let owners = store
        .entity_owners_of(&[
            "component:default/one".into(),
            "component:default/none".into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        owners,
        vec![("component:default/one".into(), loc.id.clone())]
    );
    store.apply(&Batch::default()).await.unwrap();
}

async fn failed_batches_change_nothing(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/c", 1, &[])
        .await
        .unwrap();
    let before = store.entities().await.unwrap();
    let mut bad = entity(&loc.id, "x", "{}");
    bad.entity_ref = String::new(); // violates the schema's CHECK constraint
    let batch = Batch {
        upsert_entities: vec![
            entity(&loc.id, "good-1", "{}"),
            entity(&loc.id, "good-2", "{}"),
            bad,
        ],
        delete_entities: vec!["component:default/one".into()],
        location_status: vec![LocationStatus {
            location_id: loc.id.clone(),
            refreshed_at: 5,
            status: "{}".into(),
        }],
        ..Batch::default()
    };
    assert!(
        store.apply(&batch).await.is_err(),
        "a constraint violation must fail the batch"
    );
    assert_eq!(
        store.entities().await.unwrap(),
        before,
        "a failed batch leaves no trace"
    );
    assert_eq!(
        store.location(&loc.id).await.unwrap().unwrap().refreshed_at,
        None
    );
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
}

async fn large_batches_are_chunked(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/big", 1, &[])
        .await
        .unwrap();
    let rows: Vec<EntityRow> = (0..2_345)
        .map(|i| entity(&loc.id, &format!("big-{i}"), "{}"))
        .collect();
    store
        .apply(&Batch {
            upsert_entities: rows.clone(),
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.location_entities(&loc.id).await.unwrap().len(), 2_345);
    store
        .apply(&Batch {
            delete_entities: rows.iter().map(|r| r.entity_ref.clone()).collect(),
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(store.location_entities(&loc.id).await.unwrap().is_empty());
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
}

async fn files_round_trip(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/f", 1, &[])
        .await
        .unwrap();
    let file = FileRow {
        location_id: loc.id.clone(),
        path: "/catalog/f/catalog-info.yaml".into(),
        hash: "abc".into(),
        deps: "[[\"/catalog/f/api.yaml\",\"def\"]]".into(),
        problems: "[]".into(),
        reread: false,
    };
    store
        .apply(&Batch {
            upsert_files: vec![file.clone()],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.files(&loc.id).await.unwrap(), vec![file.clone()]);
    let changed = FileRow {
        hash: "xyz".into(),
        reread: true,
        ..file.clone()
    };
    store
        .apply(&Batch {
            upsert_files: vec![changed.clone()],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.files(&loc.id).await.unwrap(), vec![changed]);
    store
        .apply(&Batch {
            delete_files: vec![(loc.id.clone(), file.path.clone())],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(store.files(&loc.id).await.unwrap().is_empty());
}

async fn heads_carry_location_bodies(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/h", 1, &[])
        .await
        .unwrap();
    let mut location = entity(&loc.id, "x", "{\"kind\":\"Location\"}");
    location.entity_ref = "location:default/x".into();
    store
        .apply(&Batch {
            upsert_entities: vec![location, entity(&loc.id, "y", "{}")],
            ..Batch::default()
        })
        .await
        .unwrap();
    let heads = store.location_entity_heads(&loc.id).await.unwrap();
    assert_eq!(heads[0].entity_ref, "component:default/y");
    assert_eq!(heads[0].body, None);
    assert_eq!(heads[1].body.as_deref(), Some("{\"kind\":\"Location\"}"));
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
}

async fn deleting_a_location_removes_what_it_produced(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/d", 1, &[])
        .await
        .unwrap();
    store
        .apply(&Batch {
            upsert_entities: vec![entity(&loc.id, "d1", "{}")],
            upsert_files: vec![FileRow {
                location_id: loc.id.clone(),
                path: "/catalog/d/x.yaml".into(),
                hash: "h".into(),
                deps: "[]".into(),
                problems: "[]".into(),
                reread: false,
            }],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
    assert!(store.location_entities(&loc.id).await.unwrap().is_empty());
    assert!(store.files(&loc.id).await.unwrap().is_empty());
    assert!(
        !store
            .entities()
            .await
            .unwrap()
            .iter()
            .any(|e| e.entity_ref == "component:default/d1")
    );
}

async fn locations_are_updated_unless_taken(store: &dyn Store) {
    let (a, _) = store
        .add_location(LocationKind::Url, "https://a.example/x.yaml", 1, &[])
        .await
        .unwrap();
    let (b, _) = store
        .add_location(LocationKind::Url, "https://b.example/y.yaml", 2, &[])
        .await
        .unwrap();
    assert_eq!(
        store
            .update_location(&a.id, LocationKind::Url, &b.target, &[])
            .await
            .unwrap(),
        LocationUpdate::Conflict
    );
    assert_eq!(
        store
            .update_location(
                &"no-such-id".into(),
                LocationKind::Url,
                "https://c.example/",
                &[]
            )
            .await
            .unwrap(),
        LocationUpdate::NotFound
    );
    let LocationUpdate::Updated(moved) = store
        .update_location(&a.id, LocationKind::File, "/catalog/moved", &[])
        .await
        .unwrap()
    else {
        panic!("not updated");
    };
    assert_eq!(
        (
            moved.id.as_str(),
            moved.kind,
            moved.target.as_str(),
            moved.created_at
        ),
        (a.id.as_str(), LocationKind::File, "/catalog/moved", 1)
    );
    assert_eq!(store.location(&a.id).await.unwrap(), Some(moved));
    // Updating a location to what it already is is not a conflict with itself.
    assert!(matches!(
        store
            .update_location(&b.id, LocationKind::Url, &b.target, &[])
            .await
            .unwrap(),
        LocationUpdate::Updated(_)
    ));
    assert!(store.delete_location(&a.id, &[]).await.unwrap());
    assert!(store.delete_location(&b.id, &[]).await.unwrap());
}

async fn origins_and_parents(store: &dyn Store) {
    let (loc, _) = store
        .add_location(LocationKind::File, "/catalog/o", 1, &[])
        .await
        .unwrap();
    let row = entity(&loc.id, "o1", "{}");
    store
        .apply(&Batch {
            upsert_entities: vec![row.clone()],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.entity_origin("component:default/o1").await.unwrap(),
        Some(EntityOrigin {
            location_id: loc.id.clone(),
            location_key: row.location_key.clone(),
            parent_ref: row.parent_ref.clone()
        })
    );
    assert_eq!(
        store.entity_origin("component:default/none").await.unwrap(),
        None
    );
    // Several at once: unknown refs are left out.
    let origins = store
        .entity_origins(&[
            "component:default/o1".into(),
            "component:default/none".into(),
        ])
        .await
        .unwrap();
    assert_eq!(origins.len(), 1, "{origins:?}");
    assert_eq!(origins[0].0, "component:default/o1");
    assert_eq!(origins[0].1.location_key, row.location_key);
    store
        .apply(&Batch {
            set_parents: vec![(
                "component:default/o1".into(),
                "location:default/other".into(),
            )],
            ..Batch::default()
        })
        .await
        .unwrap();
    let heads = store.location_entity_heads(&loc.id).await.unwrap();
    assert_eq!(heads[0].parent_ref, "location:default/other");
    assert_eq!(
        heads[0].hash, row.hash,
        "a new parent leaves the entity as it was"
    );
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
}

async fn uids_and_owners_do_not_change_on_upsert(store: &dyn Store) {
    let (a, _) = store
        .add_location(LocationKind::File, "/catalog/ua", 1, &[])
        .await
        .unwrap();
    let (b, _) = store
        .add_location(LocationKind::File, "/catalog/ub", 1, &[])
        .await
        .unwrap();
    let first = entity(&a.id, "u1", "{\"v\":1}");
    store
        .apply(&Batch {
            upsert_entities: vec![first.clone()],
            ..Batch::default()
        })
        .await
        .unwrap();
    // The same location writes it again with another uid (a second replica's reading):
    // the body changes, the uid does not.
    let mut again = entity(&a.id, "u1", "{\"v\":2}");
    again.uid = "another-uid".into();
    let applied = store
        .apply_versioned(&Batch {
            upsert_entities: vec![again, entity(&a.id, "u2", "{}")],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        applied.skipped,
        vec!["component:default/u1".to_owned()],
        "the row kept its uid: the batch is not what the store holds"
    );
    assert_eq!(applied.version, Some(store.change_version().await.unwrap()));
    let rows = store.location_entities(&a.id).await.unwrap();
    assert_eq!(
        (rows[0].uid.as_str(), rows[0].body.as_str()),
        (first.uid.as_str(), "{\"v\":2}")
    );
    // Another location cannot take a row over by writing the same ref.
    let mut taker = entity(&b.id, "u1", "{\"v\":3}");
    taker.uid = "taker".into();
    let applied = store
        .apply_versioned(&Batch {
            upsert_entities: vec![taker],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(applied.skipped, vec!["component:default/u1".to_owned()]);
    let owners = store
        .entity_owners_of(&["component:default/u1".into()])
        .await
        .unwrap();
    assert_eq!(owners, vec![("component:default/u1".into(), a.id.clone())]);
    assert_eq!(
        store.location_entities(&a.id).await.unwrap()[0].body,
        "{\"v\":2}"
    );
    assert!(store.delete_location(&a.id, &[]).await.unwrap());
    assert!(store.delete_location(&b.id, &[]).await.unwrap());
}

async fn the_version_moves_with_what_readers_see(store: &dyn Store) {
    let v0 = store.change_version().await.unwrap();
    let (loc, created) = store
        .add_location(LocationKind::File, "/catalog/v", 1, &[])
        .await
        .unwrap();
    assert!(created);
    let v1 = store.change_version().await.unwrap();
    assert!(v1 > v0, "a new location moves the version");
    store
        .add_location(LocationKind::File, "/catalog/v", 2, &[])
        .await
        .unwrap();
    assert_eq!(
        store.change_version().await.unwrap(),
        v1,
        "an existing one does not"
    );
    // A batch that only records status does not change what readers see.
    let applied = store
        .apply_versioned(&Batch {
            location_status: vec![LocationStatus {
                location_id: loc.id.clone(),
                refreshed_at: 3,
                status: "{}".into(),
            }],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(applied.version, None);
    assert_eq!(store.change_version().await.unwrap(), v1);
    let applied = store
        .apply_versioned(&Batch {
            upsert_entities: vec![entity(&loc.id, "v1", "{}")],
            ..Batch::default()
        })
        .await
        .unwrap();
    let v2 = store.change_version().await.unwrap();
    assert!(v2 > v1, "entities move it");
    assert_eq!(applied.version, Some(v2), "and the batch says where to");
    assert!(applied.skipped.is_empty());
    assert!(store.delete_location(&loc.id, &[]).await.unwrap());
    assert!(
        store.change_version().await.unwrap() > v2,
        "removal moves it"
    );
}

async fn leases_have_one_holder_until_they_expire(store: &dyn Store) {
    assert!(
        store
            .acquire_lease("scheduler", "a", 1_000, 500)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acquire_lease("scheduler", "b", 1_200, 500)
            .await
            .unwrap(),
        "a holds it"
    );
    assert!(
        store
            .acquire_lease("scheduler", "a", 1_400, 500)
            .await
            .unwrap(),
        "a renews"
    );
    assert!(
        !store
            .acquire_lease("scheduler", "b", 1_800, 500)
            .await
            .unwrap(),
        "renewed until 1,900"
    );
    assert!(
        store
            .acquire_lease("scheduler", "b", 2_000, 500)
            .await
            .unwrap(),
        "expired: b takes over"
    );
    assert!(
        !store
            .acquire_lease("scheduler", "a", 2_100, 500)
            .await
            .unwrap()
    );
    store.release_lease("scheduler", "a").await.unwrap();
    assert!(
        !store
            .acquire_lease("scheduler", "a", 2_100, 500)
            .await
            .unwrap(),
        "only the holder releases"
    );
    store.release_lease("scheduler", "b").await.unwrap();
    assert!(
        store
            .acquire_lease("scheduler", "a", 2_100, 500)
            .await
            .unwrap(),
        "released: free"
    );
    assert!(
        store
            .acquire_lease("source:x", "b", 2_100, 500)
            .await
            .unwrap(),
        "leases are independent"
    );
}

/// Writes that meet wait for each other instead of failing: an update reads before it
/// writes, which on SQLite fails at once ("database is locked") unless the transaction took
/// the write lock when it began.
async fn concurrent_writes_wait_for_each_other(store: &dyn Store) {
    let (moving, _) = store
        .add_location(LocationKind::Url, "https://w.example/0", 1, &[])
        .await
        .unwrap();
    let updates = futures_util::future::join_all((0..16).map(|i| {
        let target = format!("https://w.example/{i}");
        let id = moving.id.clone();
        async move {
            store
                .update_location(&id, LocationKind::Url, &target, &[])
                .await
        }
    }));
    let adds = futures_util::future::join_all((0..16).map(|i| async move {
        store
            .add_location(
                LocationKind::File,
                &format!("/catalog/concurrent/{i}"),
                1,
                &[],
            )
            .await
    }));
    let (updates, adds) = futures_util::future::join(updates, adds).await;
    for update in updates {
        assert!(
            matches!(update, Ok(LocationUpdate::Updated(_))),
            "{update:?}"
        );
    }
    let mut added = Vec::new();
    for add in adds {
        let (row, created) = add.unwrap();
        assert!(created);
        added.push(row.id);
    }
    for id in added.iter().chain([&moving.id]) {
        assert!(store.delete_location(id, &[]).await.unwrap());
    }
}

/// Registrations and ingestions at once, each with its audit record: both take the two rows
/// every write shares (the catalog version and the audit head), and must take them in one
/// order, or PostgreSQL finds a deadlock and fails one of them. (After the audit chain's
/// checks, which start from an empty log.)
async fn registrations_and_ingestions_meet_without_deadlock(store: &dyn Store) {
    let (reading, _) = store
        .add_location(LocationKind::File, "/catalog/concurrent/read", 1, &[])
        .await
        .unwrap();
    let applies = futures_util::future::join_all((0..16).map(|i| {
        let batch = Batch {
            upsert_entities: vec![entity(&reading.id, &format!("c{i}"), "{}")],
            audit: vec![sample_event(i)],
            ..Batch::default()
        };
        async move { store.apply_versioned(&batch).await }
    }));
    let adds_audited = futures_util::future::join_all((0..16).map(|i| async move {
        store
            .add_location(
                LocationKind::File,
                &format!("/catalog/concurrent/audited/{i}"),
                1,
                &[sample_event(100 + i)],
            )
            .await
    }));
    let (applies, adds_audited) = futures_util::future::join(applies, adds_audited).await;
    for applied in applies {
        assert!(applied.unwrap().version.is_some());
    }
    for add in adds_audited {
        let (row, created) = add.unwrap();
        assert!(created);
        assert!(store.delete_location(&row.id, &[]).await.unwrap());
    }
    assert!(store.delete_location(&reading.id, &[]).await.unwrap());
}

/// An audit event for backend-specific tests.
pub fn sample_event(n: i64) -> pave_audit::AuditEvent {
    crate::testsuite_identity::event(
        n,
        "location.create",
        "url:https://example.com/x",
        pave_audit::Outcome::Success,
    )
}
