//! Throw-away PostgreSQL databases for tests (feature `testing`).
//!
//! `PAVE_TEST_DATABASE_URL` names a server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each [`TestDatabase`] is a fresh database on
//! it. When no server answers, tests skip on a developer machine but fail under `CI=true`.

#![allow(clippy::print_stderr)]

use sqlx::{AssertSqlSafe, Connection, PgConnection};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// Creates a fresh database, or returns `None` (after saying why) when no server is
    /// reachable outside CI.
    ///
    /// # Panics
    /// Under `CI=true` when the server is unreachable: CI must exercise PostgreSQL.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var("PAVE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let mut conn = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(e) => {
                pave_testkit::skip(&format!("PostgreSQL is not reachable at {admin_url}: {e}"));
                return None;
            }
        };
        let name = format!("pave_test_{}", uuid::Uuid::new_v4().simple());
        if let Err(e) = sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
        {
            panic!("cannot create test database {name}: {e}");
        }
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("bad PAVE_TEST_DATABASE_URL: {e}"));
        url.set_path(&name);
        Some(TestDatabase {
            url: url.to_string(),
            admin_url,
            name,
        })
    }

    /// Drops the database (after the store using it is closed).
    pub async fn drop_database(self) {
        if let Ok(mut conn) = PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await;
        }
    }
}
