//! What the intake tests share: stores (SQLite in a temporary folder, PostgreSQL when
//! `PAVE_TEST_DATABASE_URL` answers), GitHub deliveries signed the way GitHub signs them,
//! and the demo catalog.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use pave_events::{Secrets, Source};
use pave_intake::IntakeConfig;
use pave_store::Store;
use pave_store_postgres::PostgresStore;
use pave_store_postgres::testing::TestDatabase;
use pave_store_sqlite::SqliteStore;
use ring::hmac;
use serde_json::{Value, json};

pub const SECRET: &[u8] = b"github-webhook-secret";
pub const OLD_SECRET: &[u8] = b"github-webhook-secret-before-rotation";
pub const MINUTE: i64 = 60_000;
pub const DAY: i64 = 86_400_000;
/// 2026-03-02 12:00 UTC.
pub const NOW: i64 = 20_514 * DAY + 12 * 3_600_000;

/// A store to run a case against, and how to open it again (a restart).
pub enum TestStore {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        db: TestDatabase,
    },
}

impl TestStore {
    pub async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pave.db");
        TestStore::Sqlite { _dir: dir, path }
    }

    /// `None` (skipped) when no PostgreSQL server answers outside CI.
    pub async fn postgres() -> Option<TestStore> {
        TestDatabase::create()
            .await
            .map(|db| TestStore::Postgres { db })
    }

    /// A connection to the store, as a fresh process would open it.
    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            TestStore::Sqlite { path, .. } => Arc::new(SqliteStore::open(path).await.unwrap()),
            TestStore::Postgres { db } => Arc::new(PostgresStore::connect(&db.url).await.unwrap()),
        }
    }

    pub async fn finish(self) {
        if let TestStore::Postgres { db } = self {
            db.drop_database().await;
        }
    }
}

/// Runs `$case(store: &TestStore)` against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let store = $crate::common::TestStore::sqlite().await;
                super::$name(&store).await;
                store.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(store) = $crate::common::TestStore::postgres().await else {
                    return;
                };
                super::$name(&store).await;
                store.finish().await;
            }
        }
    };
}

/// Alertmanager's bearer token in the tests.
pub const ALERTMANAGER_SECRET: &str = "alertmanager-secret";

/// The intake configuration of the tests: a GitHub secret (and the previous one), and
/// shared secrets for CDEvents and Alertmanager.
pub fn config() -> IntakeConfig {
    let secrets = Secrets::new()
        .with(Source::Github, SECRET, Some(OLD_SECRET))
        .unwrap()
        .with(Source::Cdevents, b"cdevents-secret", None)
        .unwrap()
        .with(Source::Alertmanager, ALERTMANAGER_SECRET.as_bytes(), None)
        .unwrap();
    IntakeConfig {
        secrets,
        ..IntakeConfig::default()
    }
}

/// `sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub computes `X-Hub-Signature-256`.
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The headers GitHub sends with a delivery, signed with `secret`.
pub fn github_headers(event: &str, id: &str, secret: &[u8], body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("X-GitHub-Event".into(), event.into()),
        ("X-GitHub-Delivery".into(), id.into()),
        ("X-Hub-Signature-256".into(), github_signature(secret, body)),
        ("Content-Type".into(), "application/json".into()),
        ("User-Agent".into(), "GitHub-Hookshot/044aadd".into()),
    ]
}

pub fn repository(slug: &str) -> Value {
    json!({
        "full_name": slug,
        "html_url": format!("https://github.com/{slug}"),
        "default_branch": "main",
        "pushed_at": NOW / 1000,
    })
}

/// A push of one commit to `main` of `slug`.
pub fn push_body(slug: &str, n: u64) -> Vec<u8> {
    let sha = format!("{n:040x}");
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "before": format!("{:040x}", n.wrapping_sub(1)),
        "after": sha,
        "commits": [{
            "id": sha,
            "timestamp": "2026-03-01T10:00:00Z",
            "message": format!("Change {n}"),
            "author": {"name": "Jane", "email": "jane@example.com"},
        }],
        "repository": repository(slug),
    }))
    .unwrap()
}

/// A successful production `deployment_status` of `slug` at `sha`.
pub fn deployment_status_body(slug: &str, deployment: u64, sha: &str, at: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "created",
        "deployment_status": {"state": "success", "environment": "production", "created_at": at},
        "deployment": {
            "id": deployment,
            "sha": sha,
            "ref": "main",
            "task": "deploy",
            "environment": "production",
            "production_environment": true,
            "created_at": at,
        },
        "repository": repository(slug),
    }))
    .unwrap()
}

/// A catalog of one team owning `shop/checkout` (GitHub) and `search`.
pub fn catalog() -> Vec<Value> {
    vec![
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "checkout", "annotations": {"github.com/project-slug": "shop/checkout"}}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}),
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "search"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}),
    ]
}

/// pave's demo catalog (Northwind Labs), as the catalog hands entities over.
pub fn demo_catalog() -> Vec<Value> {
    pave_demo::demo_org_entities()
}
