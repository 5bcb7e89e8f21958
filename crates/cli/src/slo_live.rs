//! `pave slo status` and `pave slo gate`: the live status of SLOs read from Prometheus, and the
//! deploy gate over their error budgets.
//!
//! `run_status` and `run_gate` take the SLOs as [`SloTarget`]s, so any spec loader can feed
//! them. Until spec loading is wired here, the hidden `--targets-json FILE` (a JSON array of
//! targets) is the TEMPORARY way to pass them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use clap::Args;
use pave_prometheus::{Client, ClientOptions};
use pave_slo_status::render::{STATUS_COLUMNS, gate_text, status_notes, status_rows};
use pave_slo_status::{GatePolicy, SloTarget, StatusOptions, StatusReport, fetch_status};
use serde_json::{Value, json};

use crate::args::OutputFormat;
use crate::output::{print_data, table};
use crate::{Outcome, wants_json};

/// Where Prometheus is and how to ask it.
#[derive(Debug, Args)]
#[command(next_help_heading = "Prometheus")]
pub(crate) struct PrometheusArgs {
    /// Prometheus base URL: `http://host:9090` (a path prefix, `https://`, and `user:password@` for basic auth work too)
    #[arg(long, env = "PAVE_PROMETHEUS_URL", value_name = "URL")]
    pub(crate) prometheus_url: String,

    /// Bearer token sent to Prometheus
    #[arg(
        long,
        env = "PAVE_PROMETHEUS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) prometheus_token: Option<String>,

    /// Time limit of each query (`10s`, `500ms`)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::config::parse_duration)]
    pub(crate) query_timeout: Duration,

    /// Queries in flight at once
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub(crate) concurrency: usize,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) prometheus: PrometheusArgs,
}

#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    #[command(flatten)]
    pub(crate) prometheus: PrometheusArgs,

    /// Freeze when an SLO's remaining error budget over its period is at or below this percentage
    #[arg(
        long,
        value_name = "PERCENT",
        default_value = "0",
        allow_negative_numbers = true,
        value_parser = parse_percent
    )]
    pub(crate) min_budget_remaining: f64,

    /// Also freeze when an SLO had no traffic over its period (default: no traffic passes)
    #[arg(long)]
    pub(crate) freeze_on_no_data: bool,

    /// Let the change through even when the policy says freeze; the reason is recorded in the output
    #[arg(long, value_name = "REASON")]
    pub(crate) override_reason: Option<String>,

    /// A pave server to record an override in its audit log (with `PAVE_TOKEN`, a token whose
    /// role holds `slo.gate.override`); when it refuses, the gate stays closed
    #[arg(long, value_name = "URL", env = "PAVE_URL")]
    pub(crate) pave_url: Option<String>,

    /// What is being deployed, for the override's record (an entity ref, a service)
    #[arg(long, value_name = "TARGET")]
    pub(crate) target: Option<String>,
}

/// `10`, `10%`, `-5` → a ratio (0.1, −0.05).
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v / 100.0)
        .ok_or_else(|| format!("`{text}` is not a percentage (e.g. 0, 10, 25%)"))
}

fn client(args: &PrometheusArgs) -> anyhow::Result<Client> {
    let options = ClientOptions {
        timeout: args.query_timeout,
        bearer_token: args.prometheus_token.clone(),
        ..ClientOptions::default()
    };
    Ok(Client::new(&args.prometheus_url, options)?)
}

async fn fetch(
    args: &PrometheusArgs,
    targets: &[SloTarget],
) -> anyhow::Result<(StatusReport, Duration)> {
    if targets.is_empty() {
        return Err(anyhow!("no SLOs to look up"));
    }
    let client = client(args)?;
    let options = StatusOptions {
        concurrency: args.concurrency,
        ..StatusOptions::default()
    };
    let started = Instant::now();
    let report = fetch_status(&client, targets, &options).await?;
    Ok((report, started.elapsed()))
}

/// `pave slo status`: prints every SLO's status; exit 2 when Prometheus cannot be read or a
/// series is missing for some SLO (the others are still printed).
pub(crate) async fn run_status(
    args: &StatusArgs,
    targets: Vec<SloTarget>,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let (report, elapsed) = fetch(&args.prometheus, &targets).await?;
    if wants_json(format) {
        print_data(format, &serde_json::to_value(&report)?, &[])?;
    } else {
        let rows = status_rows(&report);
        let rows: Vec<&Value> = rows.iter().collect();
        print!("{}", table(&rows, STATUS_COLUMNS));
        for note in status_notes(&report) {
            eprintln!("{note}");
        }
        eprintln!(
            "{} SLOs from {} ({} queries, {} ms)",
            report.slos.len(),
            report.prometheus_url,
            report.queries,
            elapsed.as_millis()
        );
    }
    Ok(if report.has_errors() {
        Outcome::InputErrors
    } else {
        Outcome::Success
    })
}

/// `pave slo gate`: exit 0 when changes may go ahead (or an override lets them), 1 when the
/// policy freezes (an SLO that cannot be read freezes: fail closed), 2 when Prometheus cannot
/// be read at all and there is no override.
pub(crate) async fn run_gate(
    args: &GateArgs,
    targets: Vec<SloTarget>,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let policy = GatePolicy {
        min_budget_remaining: args.min_budget_remaining,
        freeze_on_no_data: args.freeze_on_no_data,
    };
    let reason = args.override_reason.as_deref();
    if reason.is_some_and(|r| r.trim().is_empty()) {
        return Err(anyhow!(
            "--override-reason must say why the change cannot wait"
        ));
    }
    let (decision, failure, url) = match fetch(&args.prometheus, &targets).await {
        Ok((report, _)) => (
            pave_slo_status::decide(&report.slos, &policy, reason),
            None,
            report.prometheus_url,
        ),
        Err(e) if targets.is_empty() => return Err(e),
        Err(e) => {
            let message = format!("{e:#}");
            (
                pave_slo_status::decide_unavailable(&targets, &message, &policy, reason),
                Some(e),
                args.prometheus.prometheus_url.clone(),
            )
        }
    };
    if decision.overridden {
        tracing::warn!(
            reason = decision.override_reason.as_deref().unwrap_or_default(),
            "deploy gate overridden: the error-budget policy said freeze"
        );
        match &args.pave_url {
            Some(url) => {
                let slos: Vec<String> = decision
                    .slos
                    .iter()
                    .filter(|s| s.verdict != pave_slo_status::gate::Verdict::Pass)
                    .map(|s| s.id.clone())
                    .collect();
                record_override(url, args, &serde_json::to_value(&decision)?, &slos)
                    .await
                    .context("the override was not recorded, so the gate stays closed")?;
            }
            None => tracing::warn!(
                "the override is in this output only: pass --pave-url (and PAVE_TOKEN) to record it in pave's audit log"
            ),
        }
    }
    if wants_json(format) {
        let mut value = serde_json::to_value(&decision)?;
        if let Value::Object(map) = &mut value {
            map.insert("prometheus_url".to_owned(), json!(strip_credentials(&url)));
        }
        print_data(format, &value, &[])?;
    } else {
        print!("{}", gate_text(&decision));
    }
    match failure {
        Some(e) if !decision.allowed => {
            Err(e.context("the deploy gate cannot decide (failing closed)"))
        }
        _ if decision.allowed => Ok(Outcome::Success),
        _ => Ok(Outcome::Failures),
    }
}

/// `http://user:pw@host/x` → `http://host/x`.
fn strip_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Records an override with a pave server (`POST /api/slo/gate/overrides`): authorized and
/// audited there, or an error.
async fn record_override(
    base: &str,
    args: &GateArgs,
    decision: &Value,
    slos: &[String],
) -> anyhow::Result<()> {
    let url = url::Url::parse(base)
        .and_then(|u| u.join("/api/slo/gate/overrides"))
        .map_err(|e| anyhow!("--pave-url `{}`: {e}", strip_credentials(base)))?;
    let body = json!({
        "reason": args.override_reason.clone().unwrap_or_default(),
        "target": args.target.clone().unwrap_or_default(),
        "slos": slos,
        "decision": decision,
    });
    let token = std::env::var("PAVE_TOKEN").unwrap_or_default();
    let authorization = format!("Bearer {token}");
    let mut headers = vec![("content-type", "application/json")];
    if !token.is_empty() {
        headers.push(("authorization", authorization.as_str()));
    }
    let request = pave_http::Request {
        method: hyper::Method::POST,
        url: &url,
        headers: &headers,
        body: serde_json::to_vec(&body)?.into(),
        max_bytes: 64 * 1024,
    };
    let answer = tokio::time::timeout(Duration::from_secs(30), pave_http::exchange(request))
        .await
        .map_err(|_| {
            anyhow!(
                "{} did not answer within 30 s",
                strip_credentials(url.as_str())
            )
        })??;
    if answer.status == 201 {
        let record: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        tracing::info!(seq = %record["seq"], "override recorded in pave's audit log");
        return Ok(());
    }
    let message = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(300)
                .collect()
        });
    Err(anyhow!("pave answered {}: {message}", answer.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("10"), Ok(0.1));
        assert_eq!(parse_percent("25%"), Ok(0.25));
        assert_eq!(parse_percent("-5"), Ok(-0.05));
        assert!(parse_percent("lots").is_err());
        assert!(parse_percent("NaN").is_err());
    }

    #[test]
    fn credentials_are_not_echoed() {
        assert_eq!(strip_credentials("http://u:p@h:9090/x"), "http://h:9090/x");
        assert_eq!(strip_credentials("http://h:9090"), "http://h:9090");
        assert_eq!(strip_credentials("http://h/a@b"), "http://h/a@b");
    }
}
