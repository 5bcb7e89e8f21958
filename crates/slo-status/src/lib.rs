//! Live SLO status and the deploy gate, read from the series Sloth-style rules record in
//! Prometheus (`slo:sli_error:ratio_rate<window>`, `slo:objective:ratio`, `ALERTS`).
//!
//! [`fetch_status`] sends a few queries for all SLOs at once (one per metric name and batch
//! of `sloth_id`s, concurrently, all evaluated at the same instant), joins the answers by
//! `sloth_id` and computes per SLO: the SLI over the period, the error budget remaining
//! (`1 − period_error_ratio / (1 − objective)`), the current burn rate (5-minute error ratio
//! over the budget), the time to exhaustion and the active alerts. [`gate::decide`] turns
//! statuses into a freeze/pass decision. Everything except [`fetch_status`] is pure.

pub mod duration;
pub mod gate;
pub mod render;
pub mod status;
pub mod target;

use pave_prometheus::Client;
use serde::Serialize;

pub use gate::{GateDecision, GatePolicy, GateSlo, Verdict, decide};
pub use status::{
    ActiveAlert, Exhaustion, Fetched, PlannedQuery, SloState, SloStatus, WindowStatus, plan,
    status_of,
};
pub use target::{AlertWindow, Severity, SloTarget};

/// Why no status could be produced at all (per-SLO problems are in [`SloStatus::errors`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Prometheus(#[from] pave_prometheus::Error),
    #[error("SLO `{0}` is listed twice")]
    DuplicateId(String),
}

/// How [`fetch_status`] queries.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    /// Queries in flight at once.
    pub concurrency: usize,
    /// Longest `sloth_id=~"…"` regex in one query; more SLOs are split into batches.
    pub max_selector_bytes: usize,
    /// Evaluation time (Unix seconds); default now.
    pub time: Option<f64>,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            concurrency: 8,
            max_selector_bytes: 8 * 1024,
            time: None,
        }
    }
}

/// The status of every SLO asked for, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// The Prometheus that was asked (without credentials).
    pub prometheus_url: String,
    /// When every query was evaluated (Unix seconds).
    pub evaluated_at: f64,
    /// How many queries were sent.
    pub queries: usize,
    pub slos: Vec<SloStatus>,
    /// Prometheus' own warnings (e.g. partial answers).
    pub warnings: Vec<String>,
}

impl StatusReport {
    /// Whether any SLO could not be read (missing series, unusable target).
    pub fn has_errors(&self) -> bool {
        self.slos.iter().any(|s| !s.errors.is_empty())
    }
}

fn now() -> f64 {
    pave_stdx::time::unix_seconds_f64()
}

/// Reads the status of `targets` from the Prometheus behind `client`.
///
/// # Errors
/// When an id is listed twice, or any query fails (unreachable, timeout, an error or garbage
/// from Prometheus): then no SLO can be trusted. A series missing for one SLO is not an
/// error here but an entry in that SLO's [`SloStatus::errors`].
pub async fn fetch_status(
    client: &Client,
    targets: &[SloTarget],
    options: &StatusOptions,
) -> Result<StatusReport, Error> {
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = targets.iter().find(|t| !seen.insert(t.id.as_str())) {
        return Err(Error::DuplicateId(dup.id.clone()));
    }
    let time = options.time.unwrap_or_else(now);
    let readable: Vec<SloTarget> = targets
        .iter()
        .filter(|t| t.problem().is_none())
        .cloned()
        .collect();
    let queries = plan(&readable, options.max_selector_bytes);
    let promql: Vec<String> = queries.iter().map(|q| q.promql.clone()).collect();
    let answers = client
        .query_vectors(&promql, Some(time), options.concurrency)
        .await;
    let mut fetched = Fetched::default();
    let mut warnings = Vec::new();
    for (query, answer) in queries.iter().zip(answers) {
        let (samples, query_warnings) = answer?;
        warnings.extend(query_warnings);
        fetched.add(&query.metric, samples);
    }
    warnings.sort();
    warnings.dedup();
    Ok(StatusReport {
        prometheus_url: client.url().to_owned(),
        evaluated_at: time,
        queries: queries.len(),
        slos: targets.iter().map(|t| status_of(t, &fetched)).collect(),
        warnings,
    })
}

/// The gate's view when Prometheus could not be read at all: every SLO unknown (so the gate
/// freezes, failing closed, unless overridden), with `error` as the reason.
pub fn decide_unavailable(
    targets: &[SloTarget],
    error: &str,
    policy: &GatePolicy,
    override_reason: Option<&str>,
) -> GateDecision {
    let statuses: Vec<SloStatus> = targets
        .iter()
        .map(|t| SloStatus::unreadable(t, error.to_owned()))
        .collect();
    decide(&statuses, policy, override_reason)
}
