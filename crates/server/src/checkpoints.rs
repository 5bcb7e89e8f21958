//! Signed checkpoints of the audit chain, written by `pave serve` itself (`auth.audit`):
//! whenever the chain has grown by `checkpointEvery` records since the last checkpoint, and on
//! demand (`POST /api/audit/checkpoints`). With `auth.audit.retention`, the same upkeep expires
//! records older than that, after a checkpoint vouching for the last one to go (as `pave audit
//! expire` does), so `pave audit verify` still verifies what remains. One replica does the
//! upkeep: the one holding the scheduler's lease.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pave_platform::Principal;
use pave_store::audit::{Checkpoint, Outcome};
use pave_store::{AuditQuery, StoreError};
use serde_json::json;

use crate::AppState;

/// How often the upkeep runs (`ServeOptions::audit_upkeep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditUpkeep {
    /// How often the chain's growth is compared with the last checkpoint.
    pub interval: Duration,
    /// How often retention expires records (each run writes one checkpoint).
    pub retention_every: Duration,
}

impl Default for AuditUpkeep {
    fn default() -> Self {
        AuditUpkeep {
            interval: Duration::from_secs(5),
            retention_every: Duration::from_secs(3600),
        }
    }
}

/// What one upkeep run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpkeepReport {
    /// The checkpoint written because the chain grew by `checkpointEvery`.
    pub checkpoint: Option<Checkpoint>,
    /// The checkpoint retention wrote, and how many records it expired.
    pub expired: Option<(Checkpoint, u64)>,
}

/// One upkeep run at `now_ms`: a checkpoint if the chain grew by `auth.audit.checkpointEvery`
/// since the last one, and, when `expire`, retention. Nothing without a signing key.
///
/// # Errors
/// Store failures.
pub async fn audit_upkeep(
    state: &AppState,
    now_ms: i64,
    expire: bool,
) -> Result<UpkeepReport, StoreError> {
    let mut report = UpkeepReport::default();
    let (Some(key), Some(policy)) = (state.audit_signing_key(), state.access_policy()) else {
        return Ok(report);
    };
    let store = state.platform.store();
    let head = store.audit_head().await?;
    let last = store.checkpoints().await?.last().map_or(0, |c| c.seq);
    let every = i64::try_from(policy.audit.checkpoint_every).unwrap_or(i64::MAX);
    if head.seq > 0 && head.seq - last >= every {
        let checkpoint = key.checkpoint(&head, now_ms);
        store.add_checkpoint(&checkpoint).await?;
        report.checkpoint = Some(checkpoint);
    }
    if let Some(retention) = policy.audit.retention.filter(|_| expire) {
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        // The newest record older than the retention: it and everything before it go.
        let query = AuditQuery {
            until: Some(now_ms.saturating_sub(retention_ms)),
            limit: 1,
            ..AuditQuery::default()
        };
        if let Some(last_to_go) = store.audit_records(&query).await?.first() {
            let checkpoint = key.checkpoint(&last_to_go.head(), now_ms);
            let removed = store.expire_audit(&checkpoint).await?;
            let details = json!({"through": checkpoint.seq, "removed": removed,
                                 "retention": pave_auth::duration::format_duration(retention)});
            let event =
                Principal::Scheduler.event("audit.expire", "audit", Outcome::Success, details);
            store.append_audit(&[event]).await?;
            report.expired = Some((checkpoint, removed));
        }
    }
    Ok(report)
}

/// Runs [`audit_upkeep`] every `options.interval` while this replica leads the scheduled
/// work ([`pave_platform::Platform::is_leading`]); retention at most every
/// `options.retention_every`.
pub async fn run_audit_upkeep(state: Arc<AppState>, options: AuditUpkeep) {
    let mut ticker = tokio::time::interval(options.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_expiry: Option<Instant> = None;
    loop {
        ticker.tick().await;
        if state.audit_signing_key().is_none() {
            continue;
        }
        if !state.platform.is_leading() {
            continue;
        }
        let expire = last_expiry.is_none_or(|t| t.elapsed() >= options.retention_every);
        match audit_upkeep(&state, pave_ingest::now_millis(), expire).await {
            Ok(report) => {
                if expire {
                    last_expiry = Some(Instant::now());
                }
                if let Some(c) = &report.checkpoint {
                    tracing::info!(seq = c.seq, "audit checkpoint written");
                }
                if let Some((c, removed)) = &report.expired {
                    tracing::info!(through = c.seq, removed, "audit records expired");
                }
            }
            Err(e) => tracing::error!(error = %e, "audit upkeep failed"),
        }
    }
}
