//! The platform against a real SQLite store and real files.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use pave_ingest::{IngestConfig, Source};
use pave_platform::{LocationError, Platform, Principal};
use pave_store_sqlite::SqliteStore;

const OPERATOR: Principal = Principal::Operator;

async fn platform(dir: &std::path::Path) -> Arc<Platform> {
    let store = SqliteStore::open(&dir.join("pave.db")).await.unwrap();
    let config = IngestConfig {
        git_cache: dir.join("git"),
        // What `add_location` (the API's registration) may read.
        file_roots: vec![std::fs::canonicalize(dir).unwrap()],
        ..IngestConfig::default()
    };
    Platform::new(Arc::new(store), config)
}

fn component(name: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n"
    )
}

#[tokio::test]
async fn a_new_location_that_cannot_be_read_is_not_registered() {
    if !pave_testkit::have("git") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path()).await;
    let missing = format!("file://{}/no-such-repo", dir.path().display());
    let err = platform
        .add_location(&OPERATOR, "git", &missing, false)
        .await
        .unwrap_err();
    assert!(matches!(err, LocationError::Unreadable(_)), "{err}");
    assert!(platform.store().locations().await.unwrap().is_empty());
    // Once the repository exists, the same request succeeds (no 409 from a half-done try).
    let repo = pave_testkit::git_repo(
        &dir.path().join("no-such-repo"),
        &[("catalog-info.yaml", &component("svc"))],
    );
    assert_eq!(repo, missing);
    let (location, existed, report) = platform
        .add_location(&OPERATOR, "git", &missing, false)
        .await
        .unwrap();
    assert!(!existed);
    assert_eq!(
        report.totals().added,
        2,
        "the component and the generated location"
    );
    assert!(
        platform
            .snapshot()
            .catalog
            .get("component:default/svc")
            .is_some()
    );
    // Now it is registered and read: adding it again is a conflict.
    let again = platform
        .add_location(&OPERATOR, "git", &missing, false)
        .await;
    assert!(
        matches!(again, Err(LocationError::Conflict(_))),
        "{again:?}"
    );
    assert!(
        platform
            .remove_location(&OPERATOR, &location.id)
            .await
            .unwrap()
    );
    assert!(
        platform
            .snapshot()
            .catalog
            .get("component:default/svc")
            .is_none()
    );
}

#[tokio::test]
async fn writes_rebuild_one_snapshot_and_uids_stay() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path()).await;
    assert!(!platform.is_loaded());
    let root = dir.path().join("catalog");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("catalog-info.yaml"), component("a")).unwrap();
    let locations = platform
        .register(&OPERATOR, &[Source::Path(root.clone())])
        .await
        .unwrap();
    platform.refresh(&OPERATOR, &locations, None).await.unwrap();
    assert!(platform.is_loaded());
    let snapshot = platform.snapshot();
    let uid = snapshot
        .catalog
        .get("component:default/a")
        .unwrap()
        .uid
        .to_string();
    // An edit is served after the refresh, with the same uid.
    std::fs::write(
        root.join("catalog-info.yaml"),
        component("a").replace("production", "experimental"),
    )
    .unwrap();
    platform.refresh_all(&Principal::Scheduler).await.unwrap();
    let after = platform.snapshot();
    let record = after.catalog.get("component:default/a").unwrap();
    assert_eq!(&*record.uid, uid.as_str());
    assert!(record.json.contains("experimental"));
    // The old snapshot is untouched: readers holding it see one consistent catalog.
    assert!(
        snapshot
            .catalog
            .get("component:default/a")
            .unwrap()
            .json
            .contains("production")
    );
    // Refreshing an unknown entity is `None`, not an error.
    assert!(
        platform
            .refresh_entity(&OPERATOR, "component:default/none")
            .await
            .unwrap()
            .is_none()
    );
}

/// A crash between registering a location and its first reading leaves a row that was never
/// read: the client's retry reads it (no 409), and only then is it a conflict.
#[tokio::test]
async fn a_location_registered_but_never_read_is_read_on_retry() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("catalog");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("catalog-info.yaml"), component("half")).unwrap();
    let target = std::fs::canonicalize(&source)
        .unwrap()
        .display()
        .to_string();
    let platform = platform(dir.path()).await;
    // The crash: the row is written, the reading never happens.
    let (row, created) = platform
        .store()
        .add_location(pave_ingest::LocationKind::File, &target, 1, &[])
        .await
        .unwrap();
    assert!(created && row.refreshed_at.is_none());

    let (location, existed, report) = platform
        .add_location(&OPERATOR, "file", &target, false)
        .await
        .unwrap();
    assert_eq!(location.id, row.id);
    assert!(existed);
    assert_eq!(
        report.totals().added,
        2,
        "the component and the generated location"
    );
    assert!(
        platform
            .snapshot()
            .catalog
            .get("component:default/half")
            .is_some()
    );
    let again = platform
        .add_location(&OPERATOR, "file", &target, false)
        .await;
    assert!(
        matches!(again, Err(LocationError::Conflict(_))),
        "{again:?}"
    );
}

/// A refresh of everything lists the locations, then reads each under its lock: one removed
/// in between (`DELETE /locations/{id}` racing the refresh) is skipped, and the others are
/// read and written as usual.
#[tokio::test]
async fn a_location_removed_before_its_reading_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(dir.path()).await;
    let mut sources = Vec::new();
    for name in ["gone", "kept"] {
        let root = dir.path().join(name);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("catalog-info.yaml"), component(name)).unwrap();
        sources.push(Source::Path(root));
    }
    let locations = platform.register(&OPERATOR, &sources).await.unwrap();
    platform.refresh(&OPERATOR, &locations, None).await.unwrap();
    let listed = platform.store().locations().await.unwrap();
    assert!(
        platform
            .remove_location(&OPERATOR, &locations[0].id)
            .await
            .unwrap()
    );
    std::fs::write(
        dir.path().join("kept/catalog-info.yaml"),
        component("kept").replace("production", "experimental"),
    )
    .unwrap();
    let report = platform
        .refresh(&Principal::Scheduler, &listed, None)
        .await
        .unwrap();
    assert_eq!(report.locations.len(), 1, "{report:?}");
    assert_eq!(report.locations[0].location_id, locations[1].id);
    let catalog = platform.snapshot().catalog.clone();
    assert!(catalog.get("component:default/gone").is_none());
    assert!(
        catalog
            .get("component:default/kept")
            .unwrap()
            .json
            .contains("experimental")
    );
}

/// Registration through the API (`add_location`) reads only under the file roots, and says
/// the same whether what lies outside exists.
#[tokio::test]
async fn the_api_registers_paths_only_under_the_file_roots() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("inside")).unwrap();
    let platform = platform(&dir.path().join("inside")).await;
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("catalog-info.yaml"), component("secret")).unwrap();
    let refusal = |e: LocationError, target: &str| e.to_string().replace(target, "<t>");
    let exists = outside.display().to_string();
    let missing = dir.path().join("missing").display().to_string();
    let a = platform
        .add_location(&OPERATOR, "file", &exists, false)
        .await
        .unwrap_err();
    let b = platform
        .add_location(&OPERATOR, "file", &missing, false)
        .await
        .unwrap_err();
    assert!(matches!(a, LocationError::Invalid(_)), "{a}");
    assert_eq!(refusal(a, &exists), refusal(b, &missing));
    assert!(platform.store().locations().await.unwrap().is_empty());
}
