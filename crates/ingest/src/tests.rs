//! Ingestion against a real SQLite store and real files.

use super::*;
use pave_store_sqlite::SqliteStore;
use std::fs;

struct Fixture {
    dir: tempfile::TempDir,
    store: SqliteStore,
    config: IngestConfig,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db/pave.db"))
            .await
            .unwrap();
        let config = IngestConfig {
            git_cache: dir.path().join("git-cache"),
            ..IngestConfig::default()
        };
        Fixture { dir, store, config }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join("src").join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    async fn ingest(&self, sources: &[&str]) -> IngestReport {
        let sources: Vec<Source> = sources.iter().map(|s| Source::parse(s)).collect();
        let locations = register(&self.store, &sources).await.unwrap();
        ingest(&self.store, &self.config, &locations, None)
            .await
            .unwrap()
    }

    async fn refs(&self) -> Vec<String> {
        self.store
            .entities()
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.entity_ref)
            .collect()
    }

    async fn body(&self, entity_ref: &str) -> serde_json::Value {
        let row = self
            .store
            .entities()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.entity_ref == entity_ref)
            .unwrap();
        serde_json::from_str(&row.body).unwrap()
    }
}

fn component(name: &str, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

fn messages(report: &IngestReport) -> Vec<String> {
    report.diagnostics().map(ToString::to_string).collect()
}

#[tokio::test]
async fn folders_are_discovered_and_locations_followed() {
    let f = Fixture::new().await;
    f.write("a/catalog-info.yaml", &component("svc-a", "team-a"));
    f.write(
        "b/catalog-info.yml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: b\nspec:\n  targets:\n    - ./more/api.yaml\n    - ./missing.yaml\n",
    );
    f.write(
        "b/more/api.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-b\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-b\n  definition:\n    $text: ./openapi.yaml\n",
    );
    f.write("b/more/openapi.yaml", "openapi: 3.0.0\n");
    f.write("ignored.yaml", &component("not-discovered", "x"));
    let root = f.path("").display().to_string();
    let report = f.ingest(&[&root]).await;
    let t = report.totals();
    assert_eq!(
        (t.added, t.rejected, t.errors),
        (4, 0, 1),
        "{:#?}",
        messages(&report)
    );
    let refs = f.refs().await;
    assert!(refs.contains(&"component:default/svc-a".to_owned()));
    assert!(refs.contains(&"api:default/api-b".to_owned()));
    assert!(refs.contains(&"location:default/b".to_owned()));
    assert!(
        refs.iter()
            .any(|r| r.starts_with("location:default/generated-"))
    );
    assert!(!refs.contains(&"component:default/not-discovered".to_owned()));
    assert_eq!(
        f.body("api:default/api-b").await["spec"]["definition"],
        "openapi: 3.0.0\n"
    );
    let api = f.body("api:default/api-b").await;
    let annotations = &api["metadata"]["annotations"];
    assert!(
        annotations["backstage.io/managed-by-location"]
            .as_str()
            .unwrap()
            .ends_with("/b/more/api.yaml")
    );
    assert!(
        annotations["backstage.io/managed-by-origin-location"]
            .as_str()
            .unwrap()
            .starts_with("file:")
    );
    // The missing target is an error at its own line, and the other target was still read.
    let missing = messages(&report)
        .into_iter()
        .find(|m| m.contains("missing.yaml"))
        .unwrap();
    assert!(
        missing.contains(
            "b/catalog-info.yml:8:7: error: location target ./missing.yaml does not exist"
        ),
        "{missing}"
    );
}

#[tokio::test]
async fn each_entity_records_the_location_that_read_it() {
    let f = Fixture::new().await;
    f.write(
        "all.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  targets: [./svc.yaml]\n",
    );
    f.write("svc.yaml", &component("svc", "team"));
    let root = f.path("all.yaml").display().to_string();
    f.ingest(&[&root]).await;
    let parents = |store: &SqliteStore| {
        let store = store.clone();
        async move {
            let rows = store.entities().await.unwrap();
            rows.into_iter()
                .map(|r| (r.entity_ref, r.parent_ref))
                .collect::<HashMap<_, _>>()
        }
    };
    let first = parents(&f.store).await;
    let generated = first
        .keys()
        .find(|r| r.starts_with("location:default/generated-"))
        .unwrap()
        .clone();
    assert_eq!(first[&generated], "", "the generated location is the root");
    assert_eq!(first["location:default/all"], generated);
    assert_eq!(first["component:default/svc"], "location:default/all");
    // Unchanged files keep their rows, and a moved include updates only the parent.
    f.write(
        "all.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  targets: [./more.yaml]\n",
    );
    f.write(
        "more.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./svc.yaml]\n",
    );
    let report = f.ingest(&[&root]).await;
    assert_eq!(report.totals().added, 1, "{:#?}", messages(&report));
    let second = parents(&f.store).await;
    assert_eq!(second["location:default/more"], "location:default/all");
    assert_eq!(second["component:default/svc"], "location:default/more");
    assert_eq!(
        f.store
            .entity_origin("component:default/svc")
            .await
            .unwrap()
            .unwrap()
            .parent_ref,
        "location:default/more"
    );
}

#[tokio::test]
async fn unchanged_files_are_not_reparsed_and_changes_are_diffed() {
    let f = Fixture::new().await;
    f.write(
        "catalog-info.yaml",
        &format!(
            "{}---\n{}",
            component("one", "team-a"),
            component("two", "team-a")
        ),
    );
    f.write(
        "api/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition:\n    $text: ./def.yaml\n",
    );
    f.write("api/def.yaml", "v1\n");
    let root = f.path("").display().to_string();
    let first = f.ingest(&[&root]).await;
    assert_eq!(first.totals().added, 4);
    let uid_before = f.store.entities().await.unwrap()[0].uid.clone();

    let second = f.ingest(&[&root]).await;
    let t = second.totals();
    assert_eq!(
        (
            t.files_read,
            t.files_unchanged,
            t.unchanged,
            t.added,
            t.updated
        ),
        (0, 2, 4, 0, 0)
    );

    // A change to a placeholder's file re-reads its descriptor.
    f.write("api/def.yaml", "v2\n");
    let third = f.ingest(&[&root]).await;
    assert_eq!((third.totals().files_read, third.totals().updated), (1, 1));
    assert_eq!(
        f.body("api:default/api").await["spec"]["definition"],
        "v2\n"
    );

    // Edit one entity, drop another.
    f.write("catalog-info.yaml", &component("one", "team-b"));
    let fourth = f.ingest(&[&root]).await;
    let t = fourth.totals();
    assert_eq!((t.updated, t.removed, t.unchanged), (1, 1, 2), "{t:?}");
    assert_eq!(
        f.store.entities().await.unwrap()[0].uid,
        uid_before,
        "uids survive updates"
    );
    assert!(!f.refs().await.contains(&"component:default/two".to_owned()));

    // Removing the file removes what it produced.
    fs::remove_file(f.path("catalog-info.yaml")).unwrap();
    let fifth = f.ingest(&[&root]).await;
    assert_eq!(fifth.totals().removed, 1);
}

#[tokio::test]
async fn the_first_claimant_keeps_a_conflicting_ref() {
    let f = Fixture::new().await;
    f.write("first/catalog-info.yaml", &component("dup", "team-a"));
    f.write("second/catalog-info.yaml", &component("dup", "team-b"));
    f.write(
        "second/other/catalog-info.yaml",
        &component("dup", "team-c"),
    );
    let first = f.path("first").display().to_string();
    let second = f.path("second").display().to_string();
    let report = f.ingest(&[&first, &second]).await;
    let t = report.totals();
    assert_eq!(t.conflicts, 1, "{:#?} {:#?}", messages(&report), report);
    assert_eq!(t.rejected, 1, "the in-source duplicate");
    assert_eq!(
        f.body("component:default/dup").await["spec"]["owner"],
        "team-a"
    );
    // Both conflicts name the document's line and column.
    let all = messages(&report);
    assert!(
        all.iter()
            .any(|m| m.contains("catalog-info.yaml:1:1: error: conflict")
                && m.contains("already provided by another location")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|m| m.contains("catalog-info.yaml:1:1: error: conflict")
                && m.contains("defined more than once in this source")),
        "{all:#?}"
    );
    // Still true on the next run.
    let again = f.ingest(&[&first, &second]).await;
    assert_eq!(again.totals().conflicts, 1);
    assert_eq!(
        f.body("component:default/dup").await["spec"]["owner"],
        "team-a"
    );
}

#[tokio::test]
async fn json_and_yaml_placeholders_read_files_beside_the_descriptor() {
    let f = Fixture::new().await;
    f.write(
        "apis/spec/orders.json",
        r#"{"openapi": "3.0.0", "info": {"title": "Orders", "version": "1"}}"#,
    );
    f.write(
        "apis/spec/events.yaml",
        "asyncapi: 2.6.0\ninfo:\n  title: Events\n  version: '2'\n",
    );
    f.write(
        "apis/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: orders\nspec:\n  type: openapi\n  lifecycle: production\n  owner: t\n  definition:\n    $text: ./spec/orders.json\n  parsed:\n    $json: ./spec/orders.json\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: events\nspec:\n  type: asyncapi\n  lifecycle: production\n  owner: t\n  definition:\n    $text: spec/events.yaml\n  extra:\n    $yaml: spec/events.yaml\n",
    );
    let report = f.ingest(&[&f.path("apis").display().to_string()]).await;
    assert_eq!(report.totals().errors, 0, "{:#?}", messages(&report));
    let orders = f.body("api:default/orders").await;
    assert!(
        orders["spec"]["definition"]
            .as_str()
            .unwrap()
            .contains("\"title\": \"Orders\"")
    );
    // `$json` and `$yaml` substitute the parsed structure, not the text.
    assert_eq!(orders["spec"]["parsed"]["info"]["title"], "Orders");
    let events = f.body("api:default/events").await;
    assert_eq!(events["spec"]["extra"]["info"]["version"], "2");
    assert_eq!(events["spec"]["extra"]["asyncapi"], "2.6.0");
}

#[tokio::test]
async fn relative_url_targets_are_files_beside_the_location() {
    let f = Fixture::new().await;
    f.write("svc/catalog-info.yaml", &component("by-url", "team-a"));
    f.write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  type: url\n  targets:\n    - ./svc/catalog-info.yaml\n    - https://example.com/org/repo/blob/main/x.yaml\n",
    );
    let report = f
        .ingest(&[&f.path("catalog-info.yaml").display().to_string()])
        .await;
    assert!(
        f.refs()
            .await
            .contains(&"component:default/by-url".to_owned())
    );
    let all = messages(&report);
    assert_eq!(report.totals().errors, 1, "{all:#?}");
    assert!(
        all.iter()
            .any(|m| m.contains("remote targets are not fetched")),
        "{all:#?}"
    );
}

#[tokio::test]
async fn location_cycles_are_detected() {
    let f = Fixture::new().await;
    let location = |name: &str, target: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  target: {target}\n"
        )
    };
    f.write("a.yaml", &location("a", "./b.yaml"));
    f.write(
        "b.yaml",
        &format!("{}---\n{}", location("b", "./a.yaml"), component("c", "t")),
    );
    let report = f.ingest(&[&f.path("a.yaml").display().to_string()]).await;
    assert!(
        messages(&report)
            .iter()
            .any(|m| m.contains("location cycle")),
        "{:#?}",
        messages(&report)
    );
    assert!(f.refs().await.contains(&"component:default/c".to_owned()));
}

#[tokio::test]
async fn bad_files_are_clear_errors_and_keep_what_was_there() {
    let f = Fixture::new().await;
    f.write("catalog-info.yaml", &component("stable", "team-a"));
    f.write("x/catalog-info.yaml", &component("other", "team-a"));
    let root = f.path("").display().to_string();
    f.ingest(&[&root]).await;
    let before = f.store.entities().await.unwrap();

    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let mut deep = String::new();
    for level in 0..300 {
        deep.push_str(&" ".repeat(level));
        deep.push_str("a:\n");
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed", b"apiVersion: v1\nkind: [Component\nmetadata: {}\n".to_vec(), "catalog-info.yaml:3:9: error: invalid YAML"),
        ("bomb", bomb.into_bytes(), "billion laughs"),
        ("deep", deep.into_bytes(), "nests deeper than 128 levels"),
        ("binary", b"apiVersion: v1\n\x00\x01\x02".to_vec(), "catalog-info.yaml:2:1: error: file is binary"),
        ("latin1", b"apiVersion: v1\nkind: Component\nmetadata:\n  name: caf\xe9\n".to_vec(), "catalog-info.yaml:4:12: error: file is not valid UTF-8"),
        ("huge", vec![b'#'; 9 * 1024 * 1024], "over the limit"),
        (
            "types",
            b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: stable\nspec:\n  type: service\n  lifecycle: [1]\n  owner: 42\n".to_vec(),
            "catalog-info.yaml:7:3: error: `spec.lifecycle` must be a string, found a list",
        ),
    ];
    for (name, content, expected) in cases {
        fs::write(f.path("catalog-info.yaml"), &content).unwrap();
        let report = f.ingest(&[&root]).await;
        let all = messages(&report);
        assert!(all.iter().any(|m| m.contains(expected)), "{name}: {all:#?}");
        assert!(report.has_failures(), "{name}");
        let after = f.store.entities().await.unwrap();
        assert_eq!(
            after
                .iter()
                .map(|e| (&e.entity_ref, &e.body))
                .collect::<Vec<_>>(),
            before
                .iter()
                .map(|e| (&e.entity_ref, &e.body))
                .collect::<Vec<_>>(),
            "{name}: nothing lost"
        );
    }
}

#[tokio::test]
async fn targets_and_placeholders_may_not_leave_the_source() {
    let f = Fixture::new().await;
    fs::write(f.dir.path().join("secret.yaml"), component("secret", "x")).unwrap();
    f.write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: escape\nspec:\n  targets: [../secret.yaml, https://example.com/x.yaml]\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: leaky\nspec:\n  type: openapi\n  lifecycle: production\n  owner: t\n  definition:\n    $text: ../secret.yaml\n",
    );
    let report = f.ingest(&[&f.path("").display().to_string()]).await;
    let all = messages(&report);
    assert!(
        all.iter().any(|m| m.contains("outside the source root")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|m| m.contains("placeholder $text could not read \"../secret.yaml\"")),
        "{all:#?}"
    );
    assert!(
        !f.refs()
            .await
            .contains(&"component:default/secret".to_owned())
    );
    assert!(!f.refs().await.contains(&"api:default/leaky".to_owned()));

    // `pave catalog validate` applies the same boundary, with the same messages.
    let validated = crate::validate(&[f.path("")], &f.config);
    let validated: Vec<String> = validated
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    for expected in [
        "outside the source root",
        "placeholder $text could not read",
    ] {
        assert!(
            validated.iter().any(|m| m.contains(expected)),
            "{expected}: {validated:#?}"
        );
    }
}

use pave_testkit::git;

fn git_available() -> bool {
    pave_testkit::have("git")
}

#[tokio::test]
async fn git_sources_are_cloned_and_updated() {
    if !git_available() {
        return;
    }
    let mut f = Fixture::new().await;
    let repo = f.dir.path().join("repo");
    fs::create_dir_all(repo.join("svc")).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    fs::write(
        repo.join("svc/catalog-info.yaml"),
        component("from-git", "team-a"),
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    let url = format!("file://{}#main", repo.display());
    let report = f.ingest(&[&url]).await;
    assert_eq!(report.totals().added, 2, "{:#?}", messages(&report));
    assert_eq!(
        report.locations[0].commit.as_deref().map(str::len),
        Some(40)
    );
    let body = f.body("component:default/from-git").await;
    let key = body["metadata"]["annotations"]["backstage.io/managed-by-location"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        key,
        format!("git:file://{}#main/svc/catalog-info.yaml", repo.display())
    );

    fs::write(
        repo.join("svc/catalog-info.yaml"),
        component("from-git", "team-b"),
    )
    .unwrap();
    git(&repo, &["commit", "--quiet", "-am", "two"]);
    let report = f.ingest(&[&url]).await;
    assert_eq!(report.totals().updated, 1);
    assert_eq!(
        f.body("component:default/from-git").await["spec"]["owner"],
        "team-b"
    );

    // Two refs of one repository have checkouts of their own.
    git(&repo, &["tag", "old", "HEAD~1"]);
    let plain = format!("file://{}", repo.display());
    let old = format!("{plain}#old");
    let report = f.ingest(&[&url, &old]).await;
    assert_eq!(report.totals().conflicts, 1, "from-git stays with main");
    let main_dir = crate::git_checkout_dir(&plain, "main", &f.config.git_cache);
    let old_dir = crate::git_checkout_dir(&plain, "old", &f.config.git_cache);
    assert_ne!(main_dir, old_dir);
    let owner = |dir: &Path| fs::read_to_string(dir.join("svc/catalog-info.yaml")).unwrap();
    assert!(owner(&main_dir).contains("team-b"));
    assert!(owner(&old_dir).contains("team-a"));

    // A repository on a host that is not allowed is not read.
    let bad = f.ingest(&["https://git.invalid/nope.git"]).await;
    let failed = bad.locations[0].failed.clone().unwrap();
    assert!(
        failed.contains("not allowed by catalog.reading.allow"),
        "{failed}"
    );
    // An unreachable one fails that location only, keeping its entities.
    f.config.reading_allow = vec![crate::reach::allow_host("git.invalid")];
    let bad = f.ingest(&["https://git.invalid/nope.git"]).await;
    let failed = bad.locations[0].failed.clone().unwrap();
    assert!(
        failed.contains("https://git.invalid/nope.git")
            && failed.contains("cannot resolve git.invalid"),
        "{failed}"
    );
    assert!(
        f.refs()
            .await
            .contains(&"component:default/from-git".to_owned())
    );
}

/// A store whose writes always fail, as if the process died mid-transaction.
struct FailingWrites(SqliteStore);

pave_store::forward_identity_store!(FailingWrites, 0);
pave_store::forward_delivery_store!(FailingWrites, 0);
pave_store::forward_guardrail_store!(FailingWrites, 0);

#[async_trait::async_trait]
impl Store for FailingWrites {
    fn backend(&self) -> &'static str {
        "failing"
    }
    async fn schema_status(&self) -> pave_store::Result<pave_store::schema::SchemaStatus> {
        self.0.schema_status().await
    }
    async fn add_location(
        &self,
        k: LocationKind,
        t: &str,
        n: i64,
        audit: &[pave_store::audit::AuditEvent],
    ) -> pave_store::Result<(LocationRow, bool)> {
        self.0.add_location(k, t, n, audit).await
    }
    async fn locations(&self) -> pave_store::Result<Vec<LocationRow>> {
        self.0.locations().await
    }
    async fn location(
        &self,
        id: &pave_store::LocationId,
    ) -> pave_store::Result<Option<LocationRow>> {
        self.0.location(id).await
    }
    async fn update_location(
        &self,
        id: &pave_store::LocationId,
        k: LocationKind,
        t: &str,
        audit: &[pave_store::audit::AuditEvent],
    ) -> pave_store::Result<pave_store::LocationUpdate> {
        self.0.update_location(id, k, t, audit).await
    }
    async fn delete_location(
        &self,
        id: &pave_store::LocationId,
        audit: &[pave_store::audit::AuditEvent],
    ) -> pave_store::Result<bool> {
        self.0.delete_location(id, audit).await
    }
    async fn entities(&self) -> pave_store::Result<Vec<EntityRow>> {
        self.0.entities().await
    }
    async fn recently_updated(&self, limit: usize) -> pave_store::Result<Vec<(String, i64)>> {
        self.0.recently_updated(limit).await
    }
    async fn entity_relations(&self) -> pave_store::Result<Vec<(String, String)>> {
        self.0.entity_relations().await
    }
    async fn visit_entities(
        &self,
        visit: &mut (dyn FnMut(EntityRow) + Send),
    ) -> pave_store::Result<()> {
        self.0.visit_entities(visit).await
    }
    async fn location_entities(
        &self,
        id: &pave_store::LocationId,
    ) -> pave_store::Result<Vec<EntityRow>> {
        self.0.location_entities(id).await
    }
    async fn location_entity_heads(
        &self,
        id: &pave_store::LocationId,
    ) -> pave_store::Result<Vec<pave_store::EntityHead>> {
        self.0.location_entity_heads(id).await
    }
    async fn entity_owners_of(
        &self,
        refs: &[String],
    ) -> pave_store::Result<Vec<(String, pave_store::LocationId)>> {
        self.0.entity_owners_of(refs).await
    }
    async fn entity_origin(
        &self,
        entity_ref: &str,
    ) -> pave_store::Result<Option<pave_store::EntityOrigin>> {
        self.0.entity_origin(entity_ref).await
    }
    async fn entity_origins(
        &self,
        refs: &[String],
    ) -> pave_store::Result<Vec<(String, pave_store::EntityOrigin)>> {
        self.0.entity_origins(refs).await
    }
    async fn files(
        &self,
        id: &pave_store::LocationId,
    ) -> pave_store::Result<Vec<pave_store::FileRow>> {
        self.0.files(id).await
    }
    async fn change_version(&self) -> pave_store::Result<i64> {
        self.0.change_version().await
    }
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> pave_store::Result<bool> {
        self.0.acquire_lease(name, holder, now, ttl_ms).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> pave_store::Result<()> {
        self.0.release_lease(name, holder).await
    }
    async fn apply(&self, batch: &Batch) -> pave_store::Result<()> {
        // Write half of the batch, then fail: the real store must roll it back.
        let mut half = batch.clone();
        half.upsert_entities
            .truncate(batch.upsert_entities.len() / 2);
        half.upsert_entities.push(EntityRow {
            entity_ref: String::new(),
            ..batch.upsert_entities[0].clone()
        });
        self.0.apply(&half).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn url_locations_are_fetched_over_http_from_allowed_hosts_only() {
    let mut f = Fixture::new().await;
    let base = pave_testkit::serve_files(vec![
        (
            "/catalog/all.yaml".into(),
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  targets:\n    - ./svc.yaml\n    - /shared/api.yaml\n    - ./missing.yaml\n    - http://elsewhere.invalid/x.yaml\n    - ./*.yaml\n".into(),
        ),
        ("/catalog/svc.yaml".into(), component("svc", "team")),
        (
            "/shared/api.yaml".into(),
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: shared\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team\n  definition: 'openapi: 3.0.0'\n".into(),
        ),
    ]);
    let root = format!("{base}/catalog/all.yaml");
    assert_eq!(
        Source::parse(&root).location().unwrap(),
        (LocationKind::Url, root.clone())
    );
    // Not allowed: the location cannot be read, and the message names the setting.
    let report = f.ingest(&[&root]).await;
    let failed = report.locations[0].failed.clone().unwrap();
    assert!(
        failed.contains("not allowed by catalog.reading.allow"),
        "{failed}"
    );

    f.config.reading_allow = vec![http::ReadingAllow {
        host: base.trim_start_matches("http://").to_owned(),
        paths: None,
    }];
    let report = f.ingest(&[&root]).await;
    let all = messages(&report);
    assert_eq!(report.totals().added, 4, "{all:#?}");
    let refs = f.refs().await;
    assert!(
        refs.contains(&"component:default/svc".to_owned()),
        "{refs:?}"
    );
    assert!(refs.contains(&"api:default/shared".to_owned()), "{refs:?}");
    let svc = f.body("component:default/svc").await;
    assert_eq!(
        svc["metadata"]["annotations"]["backstage.io/managed-by-location"],
        format!("url:{base}/catalog/svc.yaml")
    );
    assert_eq!(
        svc["metadata"]["annotations"]["backstage.io/managed-by-origin-location"],
        format!("url:{root}")
    );
    let find = |needle: &str| all.iter().find(|m| m.contains(needle)).cloned();
    let missing = find("./missing.yaml").unwrap();
    assert!(
        missing.starts_with(&format!("url:{root}:9:7: error:")),
        "{missing}"
    );
    assert!(missing.contains("answered HTTP 404"), "{missing}");
    assert!(
        find("elsewhere.invalid/x.yaml is not allowed by catalog.reading.allow").is_some(),
        "{all:#?}"
    );
    assert!(
        find("files served over HTTP cannot be listed").is_some(),
        "{all:#?}"
    );
}

/// Panics in the walk's worker threads, as a bug reading one file would.
struct PanickingProgress;

impl Progress for PanickingProgress {
    fn file_done(&self, _entities: usize) {
        panic!("injected: a worker failed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_worker_fails_the_run_and_keeps_the_previous_state() {
    let f = Fixture::new().await;
    for i in 0..8 {
        f.write(
            &format!("s{i}/catalog-info.yaml"),
            &component(&format!("svc-{i}"), "t"),
        );
    }
    let root = f.path("").display().to_string();
    f.ingest(&[&root]).await;
    let before = f.refs().await;
    assert_eq!(before.len(), 9);
    // Files change, so every one is read again, and the workers panic while reading them.
    for i in 0..8 {
        f.write(
            &format!("s{i}/catalog-info.yaml"),
            &component(&format!("new-{i}"), "t"),
        );
    }
    let locations = f.store.locations().await.unwrap();
    let progress: Arc<dyn Progress> = Arc::new(PanickingProgress);
    let err = ingest(&f.store, &f.config, &locations, Some(progress))
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::Worker { .. }), "{err}");
    assert_eq!(
        f.refs().await,
        before,
        "nothing was written, nothing deleted"
    );
}

#[tokio::test]
async fn a_failed_write_leaves_the_previous_state() {
    let f = Fixture::new().await;
    f.write(
        "catalog-info.yaml",
        &format!("{}---\n{}", component("a", "t"), component("b", "t")),
    );
    let root = f.path("").display().to_string();
    f.ingest(&[&root]).await;
    let before = f.store.entities().await.unwrap();
    f.write(
        "catalog-info.yaml",
        &format!(
            "{}---\n{}---\n{}",
            component("a", "u"),
            component("c", "u"),
            component("d", "u")
        ),
    );
    let failing = FailingWrites(f.store.clone());
    let locations = failing.locations().await.unwrap();
    let result = ingest(&failing, &f.config, &locations, None).await;
    assert!(matches!(result, Err(IngestError::Store(_))), "{result:?}");
    assert_eq!(f.store.entities().await.unwrap(), before);
}

#[test]
fn validate_reports_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog-info.yaml");
    fs::write(&path, format!("{}---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name\nspec: {{}}\n", component("ok", "t"))).unwrap();
    let report = validate(
        &[path, dir.path().join("nope.yaml")],
        &IngestConfig::default(),
    );
    assert_eq!((report.entities, report.rejected), (1, 1));
    let all: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        all.iter().any(|m| m
            .contains("catalog-info.yaml:13:3: error: metadata.name \"bad name\" is not valid")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|m| m.contains("nope.yaml: error: cannot read it")),
        "{all:#?}"
    );
}

#[tokio::test]
async fn postmortems_are_read_from_git_checkouts_with_their_keys() {
    if !git_available() {
        return;
    }
    let f = Fixture::new().await;
    let repo = f.dir.path().join("pm-repo");
    fs::create_dir_all(repo.join("svc/docs/postmortems")).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    fs::write(
        repo.join("svc/catalog-info.yaml"),
        component("pay", "team-a"),
    )
    .unwrap();
    fs::write(
        repo.join("svc/docs/postmortems/a-broken.md"),
        "---\ntitle: x\nincidents: []\ndate: 2026-01-01\nactions:\n  - title: y\n    owner: group:default/team-a\n    due: tomorrow\n    status: open\n---\n",
    )
    .unwrap();
    fs::write(
        repo.join("svc/docs/postmortems/b-good.md"),
        "---\ntitle: Pay down\nincidents: [INC-1]\ndate: 2026-01-01\nactions: []\n---\nBody.\n",
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "one"]);
    let url = format!("file://{}#main", repo.display());
    let report = f.ingest(&[&url]).await;
    let prefix = format!("git:file://{}#main/svc/docs/postmortems", repo.display());
    let read = report.locations[0].postmortems.clone().unwrap();
    assert_eq!(read.len(), 1, "{:#?}", messages(&report));
    assert_eq!(read[0].file, format!("{prefix}/b-good.md"));
    assert_eq!(read[0].entity.as_deref(), Some("component:default/pay"));
    let all = messages(&report);
    assert!(
        all.iter().any(|m| m.starts_with(&format!(
            "{prefix}/a-broken.md:8:10: error: postmortem: `due`: \"tomorrow\" is not a date"
        ))),
        "{all:#?}"
    );
    // `pave catalog validate` checks them too.
    let validated = crate::validate(&[repo.join("svc")], &f.config);
    assert_eq!(validated.postmortems, 1);
    assert!(
        validated
            .diagnostics
            .iter()
            .any(|d| d.file.ends_with("a-broken.md") && d.line == Some(8)),
        "{:?}",
        validated.diagnostics
    );
    // The stored location's copy gives the same, without reading the repository again.
    let stored = crate::stored_postmortems(&f.store, &f.config)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, read);
    assert_eq!(stored[0].2.len(), 1, "{:?}", stored[0].2);
}
