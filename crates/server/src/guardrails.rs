//! Guardrail reports per catalog entity: what CI published with `pave check --publish`
//! (`api/guardrails.rs` takes and serves them), read back for the portal's Guardrails tab.
//!
//! The store keeps each entity's newest reports as normalised JSON
//! (`pave_policy_output::StoredReport`); this module reads them back. Parsing a large report
//! (5,000 findings are a few MB) runs on the heavy-work pool.

use pave_policy_output::{ReportError, StoredReport};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use pave_store::{CheckReportSummary, StoreError};

use crate::AppState;
use crate::error::ApiError;
use crate::portal::PortalError;
use crate::work::WorkError;

/// The kinds check reports are kept for, and whose pages have a Guardrails tab: what is
/// built and deployed from a repository.
pub(crate) const GUARDRAIL_KINDS: &[&str] = &["component", "resource", "system"];

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
) -> Result<Option<(CheckReportSummary, Arc<StoredReport>)>, GuardrailsError> {
    let key = entity_key(entity_ref).unwrap_or_else(|_| entity_ref.to_owned());
    // The newest report's number first: a report read and parsed already (its number is
    // never given to another) is not read or parsed again. A tab of 5,000 findings parses
    // 3 MB of JSON otherwise, on every view.
    let store = state.platform.store();
    let Some(newest) = store
        .check_report_history(&key, 1)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    if let Some(report) = state.parsed_reports.get(newest.id) {
        return Ok(Some((newest, report)));
    }
    let Some(mut row) = store.latest_check_report(&key).await? else {
        return Ok(None);
    };
    let id = row.id;
    let text = std::mem::take(&mut row.report);
    let parsed = if text.len() <= PARSE_INLINE_BYTES {
        StoredReport::parse(&text)
    } else {
        state
            .heavy()
            .run(move || StoredReport::parse(&text))
            .await
            .map_err(GuardrailsError::Work)?
    };
    let report = Arc::new(parsed.map_err(|error| GuardrailsError::Unreadable { id, error })?);
    state.parsed_reports.put(id, Arc::clone(&report));
    Ok(Some((row.summary(), report)))
}

/// Reports parsed lately, by their number (the tabs viewed last), one set per server: a
/// report's number is never given to another in its store.
#[derive(Default)]
pub(crate) struct ParsedReports {
    kept: Mutex<VecDeque<(i64, Arc<StoredReport>)>>,
}

impl ParsedReports {
    /// Reports kept parsed: a few MB at most each (5,000 findings).
    const KEPT: usize = 16;

    fn get(&self, id: i64) -> Option<Arc<StoredReport>> {
        let kept = self.kept.lock().ok()?;
        kept.iter()
            .find(|(n, _)| *n == id)
            .map(|(_, r)| Arc::clone(r))
    }

    fn put(&self, id: i64, report: Arc<StoredReport>) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|(n, _)| *n != id);
            if kept.len() >= Self::KEPT {
                kept.pop_front();
            }
            kept.push_back((id, report));
        }
    }
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
            assert_eq!(*parsed, small, "{name}");
            assert_eq!(row.commit.as_deref(), Some("abc123"));
        }
        // Read again, the parsed report is the one kept: not parsed a second time.
        let (_, first) = latest_guardrails(&state, "checkout")
            .await
            .unwrap()
            .unwrap();
        let (_, again) = latest_guardrails(&state, "checkout")
            .await
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // A newer report is read, not the kept one.
        let newer = report(4);
        store
            .put_check_report(&stored("component:default/checkout", newer.to_json()), &[])
            .await
            .unwrap();
        let (_, latest) = latest_guardrails(&state, "checkout")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*latest, newer);

        // A large report (over the inline size) is parsed on the heavy pool, to the same.
        let large = report(2_000);
        assert!(large.to_json().len() > PARSE_INLINE_BYTES);
        store
            .put_check_report(&stored("component:default/big", large.to_json()), &[])
            .await
            .unwrap();
        let (_, parsed) = latest_guardrails(&state, "big").await.unwrap().unwrap();
        assert_eq!(parsed.findings.len(), 2_000);
        assert_eq!(*parsed, large);

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
        assert_eq!(history.len(), 2);
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
