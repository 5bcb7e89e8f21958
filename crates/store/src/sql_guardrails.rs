//! The SQL of guardrail reports, shared by both backends like `sql.rs`. Expanded inside
//! [`impl_sql_store!`](crate::impl_sql_store), whose `sql`, `q`, `begin_write` and
//! `append_audit_in` it uses.
//!
//! Reports are numbered by the database (`AUTOINCREMENT`, `BIGSERIAL`: a number is never
//! handed out twice), and an entity's newest is its highest number. A write stores the
//! report, drops the entity's reports beyond the newest [`CHECK_REPORTS_KEPT`] and appends
//! its audit record in one transaction. On PostgreSQL report writers take the table's lock
//! first, so numbers commit in the order they are drawn and exactly the newest are kept;
//! then report rows, then the audit head, after no other shared row, so a report cannot
//! deadlock with catalog writes.
//!
//! [`CHECK_REPORTS_KEPT`]: crate::CHECK_REPORTS_KEPT

/// [`GuardrailStore`](crate::GuardrailStore) for `$store`.
#[doc(hidden)]
#[macro_export]
macro_rules! __guardrail_methods {
    ($store:ty, $db:ty) => {
type CheckTuple = (i64, String, i64, Option<String>, Option<String>, i64, i64, i64, i64, i64);

const CHECK_COLUMNS: &str =
    "id, entity_ref, received_at, commit_id, branch, failed, warnings, excepted, errors, files";

/// A count as the database holds it (never negative) and back.
fn check_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn check_column(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn check_summary_from(t: CheckTuple) -> $crate::CheckReportSummary {
    $crate::CheckReportSummary {
        id: t.0,
        entity_ref: t.1,
        received_at: t.2,
        commit: t.3,
        branch: t.4,
        failed: check_count(t.5),
        warnings: check_count(t.6),
        excepted: check_count(t.7),
        errors: check_count(t.8),
        files: check_count(t.9),
    }
}

#[::async_trait::async_trait]
impl $crate::GuardrailStore for $store {
    async fn put_check_report(
        &self,
        report: &$crate::NewCheckReport,
        audit: &[$crate::audit::AuditEvent],
    ) -> $crate::Result<i64> {
        let c = &report.counts;
        let mut tx = begin_write(&self.writer).await?;
        if <$db as ::sqlx::Database>::NAME == "PostgreSQL" {
            // Report writers one at a time (SQLite has one writer anyway): two concurrent
            // writers would each keep the newest they saw and leave one too many, and a
            // number drawn first could commit last and pass for the newest. The mode
            // conflicts with itself and lets readers on.
            ::sqlx::query("LOCK TABLE check_reports IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(q("locking the check reports"))?;
        }
        let (id,): (i64,) = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(
            "INSERT INTO check_reports \
             (entity_ref, received_at, commit_id, branch, failed, warnings, excepted, errors, files, report) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )))
        .bind(report.entity_ref.as_str())
        .bind(report.received_at)
        .bind(report.commit.as_deref())
        .bind(report.branch.as_deref())
        .bind(check_column(c.failed))
        .bind(check_column(c.warnings))
        .bind(check_column(c.excepted))
        .bind(check_column(c.errors))
        .bind(check_column(c.files))
        .bind(report.report.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(q("storing a check report"))?;
        ::sqlx::query(::sqlx::AssertSqlSafe(sql(
            "DELETE FROM check_reports WHERE entity_ref = ? AND id NOT IN \
             (SELECT id FROM check_reports WHERE entity_ref = ? ORDER BY id DESC LIMIT ?)",
        )))
        .bind(report.entity_ref.as_str())
        .bind(report.entity_ref.as_str())
        .bind(i64::try_from($crate::CHECK_REPORTS_KEPT).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(q("dropping older check reports"))?;
        append_audit_in(&mut tx, audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(id)
    }

    async fn latest_check_report(&self, entity_ref: &str) -> $crate::Result<Option<$crate::CheckReportRow>> {
        let row: Option<(i64, String, i64, Option<String>, Option<String>, i64, i64, i64, i64, i64, String)> =
            ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!(
                "SELECT {CHECK_COLUMNS}, report FROM check_reports WHERE entity_ref = ? ORDER BY id DESC LIMIT 1"
            ))))
            .bind(entity_ref)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("reading the latest check report"))?;
        Ok(row.map(|t| $crate::CheckReportRow {
            id: t.0,
            entity_ref: t.1,
            received_at: t.2,
            commit: t.3,
            branch: t.4,
            failed: check_count(t.5),
            warnings: check_count(t.6),
            excepted: check_count(t.7),
            errors: check_count(t.8),
            files: check_count(t.9),
            report: t.10,
        }))
    }

    async fn check_report_history(
        &self,
        entity_ref: &str,
        limit: usize,
    ) -> $crate::Result<Vec<$crate::CheckReportSummary>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<CheckTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!(
            "SELECT {CHECK_COLUMNS} FROM check_reports WHERE entity_ref = ? ORDER BY id DESC LIMIT ?"
        ))))
        .bind(entity_ref)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading check reports"))?;
        Ok(rows.into_iter().map(check_summary_from).collect())
    }

    async fn latest_check_summaries(
        &self,
        entity_refs: &[String],
    ) -> $crate::Result<Vec<$crate::CheckReportSummary>> {
        let mut out = Vec::new();
        for chunk in entity_refs.chunks($crate::ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let text = format!(
                "SELECT {CHECK_COLUMNS} FROM check_reports WHERE id IN \
                 (SELECT MAX(id) FROM check_reports WHERE entity_ref IN ({marks}) GROUP BY entity_ref)"
            );
            let mut query = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&text)));
            for entity_ref in chunk {
                query = query.bind(entity_ref);
            }
            let rows: Vec<CheckTuple> = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("reading check reports"))?;
            out.extend(rows.into_iter().map(check_summary_from));
        }
        Ok(out)
    }
}
    };
}

/// Implements [`GuardrailStore`](crate::GuardrailStore) for a wrapper by forwarding to the
/// store in its field `$field` (test doubles that change only catalog writes).
#[macro_export]
macro_rules! forward_guardrail_store {
    ($wrapper:ty, $field:tt) => {
        #[::async_trait::async_trait]
        impl $crate::GuardrailStore for $wrapper {
            async fn put_check_report(
                &self,
                report: &$crate::NewCheckReport,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<i64> {
                $crate::GuardrailStore::put_check_report(&self.$field, report, audit).await
            }
            async fn latest_check_report(
                &self,
                entity_ref: &str,
            ) -> $crate::Result<Option<$crate::CheckReportRow>> {
                $crate::GuardrailStore::latest_check_report(&self.$field, entity_ref).await
            }
            async fn check_report_history(
                &self,
                entity_ref: &str,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::CheckReportSummary>> {
                $crate::GuardrailStore::check_report_history(&self.$field, entity_ref, limit).await
            }
            async fn latest_check_summaries(
                &self,
                entity_refs: &[String],
            ) -> $crate::Result<Vec<$crate::CheckReportSummary>> {
                $crate::GuardrailStore::latest_check_summaries(&self.$field, entity_refs).await
            }
        }
    };
}
