//! Guardrail reports per catalog entity: what CI published with `pave check --publish`
//! (`api/guardrails.rs` takes and serves them), read back for the portal's Guardrails tab.
//!
//! The store keeps each entity's newest reports as normalised JSON
//! (`pave_policy_output::StoredReport`); this module reads them back. Parsing a large report
//! (5,000 findings are a few MB) runs on the heavy-work pool.

use pave_policy_output::{ReportError, StoredReport};
use pave_store::{CheckReportRow, CheckReportSummary, StoreError};

use crate::AppState;
use crate::error::ApiError;
use crate::portal::PortalError;
use crate::work::WorkError;

/// Stored reports up to this size are parsed on the request's thread (well under a
/// millisecond); larger ones on the heavy-work pool.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// Why a stored report could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GuardrailsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What the store holds is not a report this pave reads (written by hand, or by a pave
    /// whose format this one does not know).
    #[error("the stored check report {id} cannot be read: {error}")]
    Unreadable { id: i64, error: ReportError },
    #[error("the check report was not read")]
    Work(WorkError),
}

impl From<GuardrailsError> for ApiError {
    fn from(e: GuardrailsError) -> Self {
        match e {
            GuardrailsError::Store(e) => e.into(),
            GuardrailsError::Work(e) => e.into(),
            e @ GuardrailsError::Unreadable { .. } => {
                ApiError::internal("reading a check report", e)
            }
        }
    }
}

impl From<GuardrailsError> for PortalError {
    fn from(e: GuardrailsError) -> Self {
        match e {
            GuardrailsError::Store(e) if e.is_unavailable() => PortalError::Busy {
                message: "the database is unavailable; try again shortly".into(),
                retry_after: 5,
            },
            GuardrailsError::Work(e) => e.into(),
            e => PortalError::internal("reading a check report", e),
        }
    }
}

/// The canonical key (`kind:namespace/name`, lower-cased) of a ref as people write it:
/// `[kind:][namespace/]name`, kind `component` and namespace `default` when left out.
///
/// # Errors
/// An empty or malformed ref, as a sentence.
pub(crate) fn entity_key(text: &str) -> Result<String, String> {
    pave_catalog::EntityRef::parse(text.trim(), Some("component"), "default")
        .map(|r| r.key().into_string())
        .map_err(|e| format!("`{text}` is not an entity ref ([kind:][namespace/]name): {e}"))
}

/// The newest check report published for `entity_ref` (a canonical key, or any ref
/// [`entity_key`] reads), with its stored metadata; `None` when none was published.
///
/// # Errors
/// The database failed, the heavy-work pool is full (a large report), or the stored text is
/// not a report (logged; an internal error).
pub(crate) async fn latest_guardrails(
    state: &AppState,
    entity_ref: &str,
) -> Result<Option<(CheckReportRow, StoredReport)>, GuardrailsError> {
    let key = entity_key(entity_ref).unwrap_or_else(|_| entity_ref.to_owned());
    let Some(mut row) = state.platform.store().latest_check_report(&key).await? else {
        return Ok(None);
    };
    let id = row.id;
    let text = std::mem::take(&mut row.report);
    let (text, parsed) = if text.len() <= PARSE_INLINE_BYTES {
        let parsed = StoredReport::parse(&text);
        (text, parsed)
    } else {
        state
            .heavy()
            .run(move || {
                let parsed = StoredReport::parse(&text);
                (text, parsed)
            })
            .await
            .map_err(GuardrailsError::Work)?
    };
    row.report = text;
    let report = parsed.map_err(|error| GuardrailsError::Unreadable { id, error })?;
    Ok(Some((row, report)))
}

/// The newest `limit` reports of `entity_ref` (as [`latest_guardrails`] reads it), newest
/// first, without the reports: the tab's trend.
///
/// # Errors
/// The database failed.
pub(crate) async fn guardrails_history(
    state: &AppState,
    entity_ref: &str,
    limit: usize,
) -> Result<Vec<CheckReportSummary>, GuardrailsError> {
    let key = entity_key(entity_ref).unwrap_or_else(|_| entity_ref.to_owned());
    Ok(state
        .platform
        .store()
        .check_report_history(&key, limit.min(pave_store::CHECK_REPORTS_KEPT))
        .await?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use pave_policy::{Policy, PolicyConfig, Severity, Status};
    use pave_policy_output::RenderOptions;
    use pave_store::{CheckCounts, NewCheckReport};

    use super::*;

    fn stored(entity: &str, report: String) -> NewCheckReport {
        NewCheckReport {
            entity_ref: entity.into(),
            received_at: 1_800_000_000,
            commit: Some("abc123".into()),
            branch: None,
            counts: CheckCounts::default(),
            report,
        }
    }

    /// A report of `findings` warnings, each with a long message (about 400 bytes).
    fn report(findings: u32) -> StoredReport {
        let mut report = Policy::new(PolicyConfig::default(), pave_policy::Exceptions::default())
            .check(&[], Vec::new(), 0);
        for i in 0..findings {
            report.findings.push(pave_policy::Finding {
                rule: "k8s-cpu-limits".into(),
                title: "CPU limit not set".into(),
                severity: Severity::Low,
                status: Status::Warning,
                message: format!("{i}: {}", "no limit ".repeat(40)),
                file: "deploy/app.yaml".into(),
                line: Some(i + 1),
                column: Some(1),
                object: None,
                input: "kubernetes".into(),
                exception: None,
            });
        }
        StoredReport::from_report(&report, &RenderOptions::default())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_latest_report_is_read_back_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let store = pave_store_sqlite::SqliteStore::open(&dir.path().join("p.db"))
            .await
            .unwrap();
        let state = AppState::new(Arc::new(store), pave_ingest::IngestConfig::default());
        let store = state.platform.store();
        assert!(
            latest_guardrails(&state, "checkout")
                .await
                .unwrap()
                .is_none()
        );

        let small = report(3);
        store
            .put_check_report(&stored("component:default/checkout", small.to_json()), &[])
            .await
            .unwrap();
        // Any ref form reaches the canonical key.
        for name in [
            "checkout",
            "Component:default/CHECKOUT",
            "component:default/checkout",
        ] {
            let (row, parsed) = latest_guardrails(&state, name).await.unwrap().unwrap();
            assert_eq!(parsed, small, "{name}");
            assert_eq!(row.commit.as_deref(), Some("abc123"));
            assert_eq!(row.report, small.to_json(), "the row keeps its text");
        }

        // A large report (over the inline size) is parsed on the heavy pool, to the same.
        let large = report(2_000);
        assert!(large.to_json().len() > PARSE_INLINE_BYTES);
        store
            .put_check_report(&stored("component:default/big", large.to_json()), &[])
            .await
            .unwrap();
        let (_, parsed) = latest_guardrails(&state, "big").await.unwrap().unwrap();
        assert_eq!(parsed.findings.len(), 2_000);
        assert_eq!(parsed, large);

        // What the store holds but is no report is an error naming the row, not a panic.
        let id = store
            .put_check_report(&stored("component:default/bad", "{\"x\":1}".into()), &[])
            .await
            .unwrap();
        match latest_guardrails(&state, "bad").await {
            Err(GuardrailsError::Unreadable { id: got, .. }) => assert_eq!(got, id),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ApiError::from(latest_guardrails(&state, "bad").await.unwrap_err()),
            ApiError::Internal(_)
        ));

        let history = guardrails_history(&state, "checkout", 100).await.unwrap();
        assert_eq!(history.len(), 1);
        assert!(
            guardrails_history(&state, "nobody", 5)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn refs_are_read_as_people_write_them() {
        assert_eq!(
            entity_key("checkout").unwrap(),
            "component:default/checkout"
        );
        assert_eq!(
            entity_key(" Resource:Data/Orders-DB ").unwrap(),
            "resource:data/orders-db"
        );
        assert!(entity_key("").is_err());
        assert!(
            entity_key("component:/x")
                .unwrap_err()
                .contains("not an entity ref")
        );
    }
}
