//! `events:` in pave.yaml: per-source secrets, the intake's limits, retention, and the
//! ledger's and attribution's rules. Read with field paths, so every mistake names its field
//! (`events.sources.github.secrets[1]: …`), like `auth:`.
//!
//! ```yaml
//! events:
//!   sources:
//!     github:
//!       secrets: [{env: GITHUB_WEBHOOK_SECRET}, {env: GITHUB_WEBHOOK_SECRET_OLD}]
//!     pagerduty:
//!       secrets: [{file: /run/secrets/pagerduty}]
//!   bodyLimit: 5MiB          # 413 above it
//!   queueCapacity: 4096      # 429 when this many deliveries wait for the writer
//!   maxBatch: 512            # deliveries per transaction at most
//!   retentionDays: 90        # raw payloads kept for replay (the rows stay, for dedup)
//!   keepAtLeast: 10000       # however old, the newest payloads stay
//!   incidentLabel: incident  # GitHub/GitLab issues with it are incidents
//!   ledger:
//!     productionEnvironments: [production, prod]
//!     hotfixPatterns: [hotfix]
//!     rollbackPatterns: [rollback]
//!     futureSkew: 5m
//!     linkByTime: false
//!     linkByTimeWindow: 24h
//!   attribution:
//!     mappings: [{subject: "cdevents:/clusterA#myApp", entity: checkout}]
//!     alertLabels: [service, component]
//! ```
//!
//! A secret is a literal string, `{env: NAME}` or `{file: PATH}` (trailing newline dropped):
//! secrets in pave.yaml itself end up in backups and diffs, so the indirect forms are the
//! ones to use. One or two per source: the current one, and the previous one while senders
//! are moved over.

use std::collections::BTreeMap;
use std::time::Duration;

use pave_delivery::{Attribution, AttributionConfig, Ledger, LedgerConfig, SubjectMapping};
use pave_events::{ReadOptions, Secrets, Source};
use pave_store::DeliveryRetention;
use serde::Deserialize;
use serde_json::Value;

use crate::error::IntakeError;

const DAY_MS: i64 = 86_400_000;

/// How long raw payloads are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: u32,
    /// The newest payloads kept whatever their age (a quiet intake keeps its history).
    pub keep_at_least: u64,
}

impl Retention {
    /// What the store may release at `now`.
    pub fn at(&self, now: i64) -> DeliveryRetention {
        DeliveryRetention {
            received_before: now.saturating_sub(i64::from(self.days) * DAY_MS),
            keep_at_least: self.keep_at_least,
            // Posted postmortems are served from their payloads.
            kept_sources: &[crate::postmortem::POSTMORTEM_SOURCE],
        }
    }
}

/// The intake's configuration (see the module docs for the YAML form).
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Active secrets per source; a source without any is not served (404).
    pub secrets: Secrets,
    pub read: ReadOptions,
    /// Bodies over this many bytes are refused (413). The server should stop reading there.
    pub body_limit: usize,
    /// Deliveries waiting for the writer; past it, 429.
    pub queue_capacity: usize,
    /// Deliveries committed in one transaction at most.
    pub max_batch: usize,
    /// What a 429 tells the sender to wait.
    pub retry_after: Duration,
    pub retention: Retention,
    pub ledger: LedgerConfig,
    pub attribution: AttributionConfig,
    /// Deliveries the processor reads and applies per transaction.
    pub page_size: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            secrets: Secrets::new(),
            read: ReadOptions::default(),
            body_limit: 5 << 20,
            queue_capacity: 4096,
            max_batch: 512,
            retry_after: Duration::from_secs(1),
            retention: Retention {
                days: 90,
                keep_at_least: 10_000,
            },
            ledger: LedgerConfig::default(),
            attribution: AttributionConfig::default(),
            page_size: 1000,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Section {
    #[serde(default)]
    sources: BTreeMap<String, SourceSection>,
    body_limit: Option<ByteSize>,
    queue_capacity: Option<usize>,
    max_batch: Option<usize>,
    retry_after: Option<String>,
    retention_days: Option<u32>,
    keep_at_least: Option<u64>,
    incident_label: Option<String>,
    #[serde(default)]
    ledger: LedgerSection,
    #[serde(default)]
    attribution: AttributionSection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SourceSection {
    secrets: Vec<SecretValue>,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a secret: a string, {env: NAME} or {file: PATH}"
)]
enum SecretValue {
    Literal(String),
    Env { env: String },
    File { file: String },
}

/// A size: bytes, or a number with `KiB`, `MiB`, `GiB` (or `KB`, `MB`, `GB`, as 1000s).
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a size: bytes, or like 5MiB")]
enum ByteSize {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LedgerSection {
    production_environments: Option<Vec<String>>,
    hotfix_patterns: Option<Vec<String>>,
    rollback_patterns: Option<Vec<String>>,
    future_skew: Option<String>,
    link_by_time: Option<bool>,
    link_by_time_window: Option<String>,
    changeset_max_commits: Option<usize>,
    first_deployment_lookback: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AttributionSection {
    #[serde(default)]
    mappings: Vec<MappingSection>,
    alert_labels: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingSection {
    subject: String,
    entity: String,
}

/// `90s`, `5m`, `24h`, `30d`, `250ms`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS as u64,
        _ => return None,
    };
    n.checked_mul(ms).map(Duration::from_millis)
}

fn duration_ms(field: &str, text: &str) -> Result<i64, IntakeError> {
    parse_duration(text)
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| {
            IntakeError::config(
                field,
                format!("`{text}` is not a duration such as 90s, 5m, 24h or 30d"),
            )
        })
}

fn byte_size(field: &str, size: &ByteSize) -> Result<usize, IntakeError> {
    let bad = || IntakeError::config(field, "not a size such as 5242880 or 5MiB");
    let bytes = match size {
        ByteSize::Bytes(n) => *n,
        ByteSize::Text(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(split);
            let n: u64 = number.parse().map_err(|_| bad())?;
            let scale: u64 = match unit.trim() {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                "KB" => 1_000,
                "MB" => 1_000_000,
                "GB" => 1_000_000_000,
                _ => return Err(bad()),
            };
            n.checked_mul(scale).ok_or_else(bad)?
        }
    };
    usize::try_from(bytes)
        .ok()
        .filter(|&b| b > 0)
        .ok_or_else(|| IntakeError::config(field, "must be at least 1 byte"))
}

/// `hotfix_patterns[1]` (as pave-delivery names its fields) → `hotfixPatterns[1]`.
fn camel(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl IntakeConfig {
    /// Reads the `events:` section (a JSON value as pave.yaml's loader gives it), reading
    /// `{env: …}` secrets from the process environment and `{file: …}` ones from disk.
    pub fn from_section(section: &Value) -> Result<IntakeConfig, IntakeError> {
        Self::from_section_with(section, &|name| std::env::var(name).ok())
    }

    /// [`IntakeConfig::from_section`] with another environment (tests).
    pub fn from_section_with(
        section: &Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<IntakeConfig, IntakeError> {
        let section: Section = if section.is_null() {
            Section::default()
        } else {
            serde_path_to_error::deserialize(section).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "events".to_owned()
                } else {
                    format!("events.{path}")
                };
                IntakeError::config(field, e.into_inner().to_string())
            })?
        };
        let mut config = IntakeConfig::default();
        for (name, source) in &section.sources {
            let field = format!("events.sources.{name}");
            let parsed: Source = name.parse().map_err(|e: pave_events::UnknownSource| {
                IntakeError::config(&field, e.to_string())
            })?;
            let values: Vec<Vec<u8>> = source
                .secrets
                .iter()
                .enumerate()
                .map(|(i, value)| secret(&format!("{field}.secrets[{i}]"), value, env))
                .collect::<Result<_, _>>()?;
            let (current, previous) = match values.as_slice() {
                [current] => (current, None),
                [current, previous] => (current, Some(previous.as_slice())),
                _ => {
                    return Err(IntakeError::config(
                        format!("{field}.secrets"),
                        format!(
                            "{} secrets given; give the current one and at most one previous one",
                            values.len()
                        ),
                    ));
                }
            };
            config
                .secrets
                .set(parsed, current, previous)
                .map_err(|e| IntakeError::config(format!("{field}.secrets"), e.to_string()))?;
        }
        if let Some(size) = &section.body_limit {
            config.body_limit = byte_size("events.bodyLimit", size)?;
        }
        for (field, value, target) in [
            (
                "events.queueCapacity",
                section.queue_capacity,
                &mut config.queue_capacity,
            ),
            ("events.maxBatch", section.max_batch, &mut config.max_batch),
        ] {
            if let Some(value) = value {
                if value == 0 {
                    return Err(IntakeError::config(field, "must be at least 1"));
                }
                *target = value;
            }
        }
        if let Some(text) = &section.retry_after {
            let ms = duration_ms("events.retryAfter", text)?;
            config.retry_after = Duration::from_millis(ms.max(1000) as u64);
        }
        if let Some(days) = section.retention_days {
            config.retention.days = days;
        }
        if let Some(keep) = section.keep_at_least {
            config.retention.keep_at_least = keep;
        }
        if let Some(label) = &section.incident_label {
            if label.trim().is_empty() {
                return Err(IntakeError::config(
                    "events.incidentLabel",
                    "must not be empty",
                ));
            }
            config.read.incident_label = label.trim().to_owned();
        }
        config.ledger = ledger_config(&section.ledger)?;
        config.attribution = AttributionConfig {
            mappings: section
                .attribution
                .mappings
                .iter()
                .map(|m| SubjectMapping {
                    subject: m.subject.clone(),
                    entity: m.entity.clone(),
                })
                .collect(),
            alert_labels: section
                .attribution
                .alert_labels
                .clone()
                .unwrap_or_else(|| AttributionConfig::default().alert_labels),
        };
        // Checked now, so a bad mapping stops `pave serve` at start and names its field.
        if let Err(e) = Attribution::with_config(std::iter::empty::<&Value>(), &config.attribution)
        {
            let message = e.to_string();
            return Err(match message.split_once(": ") {
                Some((path, rest)) => {
                    IntakeError::config(format!("events.attribution.{path}"), rest)
                }
                None => IntakeError::config("events.attribution", message),
            });
        }
        Ok(config)
    }
}

fn secret(
    field: &str,
    value: &SecretValue,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, IntakeError> {
    let text = match value {
        SecretValue::Literal(text) => text.clone(),
        SecretValue::Env { env: name } => env(name).ok_or_else(|| {
            IntakeError::config(field, format!("the environment variable {name} is not set"))
        })?,
        SecretValue::File { file } => std::fs::read_to_string(file)
            .map_err(|e| IntakeError::config(field, format!("cannot read {file}: {e}")))?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
    };
    if text.is_empty() {
        return Err(IntakeError::config(
            field,
            "the secret is empty; an empty secret would accept anyone",
        ));
    }
    Ok(text.into_bytes())
}

fn ledger_config(section: &LedgerSection) -> Result<LedgerConfig, IntakeError> {
    let mut config = LedgerConfig::default();
    if let Some(v) = &section.production_environments {
        config.production_environments = v.clone();
    }
    if let Some(v) = &section.hotfix_patterns {
        config.hotfix_patterns = v.clone();
    }
    if let Some(v) = &section.rollback_patterns {
        config.rollback_patterns = v.clone();
    }
    if let Some(v) = &section.future_skew {
        config.future_skew_ms = duration_ms("events.ledger.futureSkew", v)?;
    }
    if let Some(v) = section.link_by_time {
        config.link_by_time = v;
    }
    if let Some(v) = &section.link_by_time_window {
        config.link_by_time_window_ms = duration_ms("events.ledger.linkByTimeWindow", v)?;
    }
    if let Some(v) = section.changeset_max_commits {
        config.changeset_max_commits = v;
    }
    if let Some(v) = &section.first_deployment_lookback {
        config.first_deployment_lookback_ms =
            duration_ms("events.ledger.firstDeploymentLookback", v)?;
    }
    // The rules compile here (regular expressions), so mistakes stop the start.
    Ledger::new(config.clone()).map_err(|e| match e {
        pave_delivery::LedgerError::Config { field, message } => {
            IntakeError::config(format!("events.ledger.{}", camel(&field)), message)
        }
        other => IntakeError::Ledger(other),
    })?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        (name == "GH").then(|| "from-env".to_owned())
    }

    fn err(value: Value) -> String {
        IntakeConfig::from_section_with(&value, &env)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_full_section_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pd");
        std::fs::write(&file, "from-file\n").unwrap();
        let config = IntakeConfig::from_section_with(
            &json!({
                "sources": {
                    "github": {"secrets": ["current", {"env": "GH"}]},
                    "pagerduty": {"secrets": [{"file": file}]},
                },
                "bodyLimit": "1MiB",
                "queueCapacity": 8,
                "maxBatch": 4,
                "retryAfter": "3s",
                "retentionDays": 30,
                "incidentLabel": "outage",
                "ledger": {"productionEnvironments": ["live"], "futureSkew": "1m", "linkByTime": true},
                "attribution": {"mappings": [{"subject": "cdevents:/x", "entity": "checkout"}]},
            }),
            &env,
        )
        .unwrap();
        assert!(config.secrets.is_configured(Source::Github));
        assert!(config.secrets.is_configured(Source::Pagerduty));
        assert!(!config.secrets.is_configured(Source::Gitlab));
        assert_eq!(config.body_limit, 1 << 20);
        assert_eq!((config.queue_capacity, config.max_batch), (8, 4));
        assert_eq!(config.retry_after, Duration::from_secs(3));
        assert_eq!(config.retention.days, 30);
        assert_eq!(config.read.incident_label, "outage");
        assert_eq!(config.ledger.production_environments, vec!["live"]);
        assert_eq!(config.ledger.future_skew_ms, 60_000);
        assert!(config.ledger.link_by_time);
        assert_eq!(config.attribution.mappings.len(), 1);
        // Defaults without the section.
        let config = IntakeConfig::from_section_with(&Value::Null, &env).unwrap();
        assert_eq!(config.body_limit, 5 << 20);
        assert!(!config.secrets.is_configured(Source::Github));
    }

    #[test]
    fn mistakes_name_their_field() {
        for (value, expected) in [
            (
                json!({"sources": {"jenkins": {"secrets": ["x"]}}}),
                "events.sources.jenkins: unknown event source",
            ),
            (
                json!({"sources": {"github": {"secrets": []}}}),
                "events.sources.github.secrets: 0 secrets",
            ),
            (
                json!({"sources": {"github": {"secrets": ["a", "b", "c"]}}}),
                "events.sources.github.secrets: 3 secrets",
            ),
            (
                json!({"sources": {"github": {"secrets": [""]}}}),
                "events.sources.github.secrets[0]: the secret is empty",
            ),
            (
                json!({"sources": {"github": {"secrets": ["a", {"env": "NOPE"}]}}}),
                "events.sources.github.secrets[1]: the environment variable NOPE",
            ),
            (
                json!({"sources": {"github": {"secrets": [{"file": "/no/such"}]}}}),
                "events.sources.github.secrets[0]: cannot read /no/such",
            ),
            (
                json!({"sources": {"github": {"secret": "x"}}}),
                "events.sources.github.secret: unknown field `secret`",
            ),
            (
                json!({"sources": {"github": {"secrets": [7]}}}),
                "events.sources.github.secrets[0]: a secret",
            ),
            (
                json!({"bodyLimit": "5 parsecs"}),
                "events.bodyLimit: not a size",
            ),
            (
                json!({"queueCapacity": 0}),
                "events.queueCapacity: must be at least 1",
            ),
            (
                json!({"retentionDays": "long"}),
                "events.retentionDays: invalid type",
            ),
            (
                json!({"ledger": {"hotfixPatterns": ["ok", "("]}}),
                "events.ledger.hotfixPatterns[1]:",
            ),
            (
                json!({"ledger": {"futureSkew": "soon"}}),
                "events.ledger.futureSkew: `soon` is not a duration",
            ),
            (
                json!({"ledger": {"future_skew_ms": 1}}),
                "events.ledger.future_skew_ms: unknown field `future_skew_ms`",
            ),
            (
                json!({"attribution": {"mappings": [{"subject": "", "entity": "x"}]}}),
                "events.attribution.mappings[0].subject",
            ),
            (
                json!({"attribution": {"mappings": [{"subject": "a", "entity": ""}]}}),
                "events.attribution.mappings[0].entity",
            ),
            (
                json!({"surprise": 1}),
                "events.surprise: unknown field `surprise`",
            ),
        ] {
            let message = err(value.clone());
            assert!(message.starts_with(expected), "{value}: {message}");
            // Secret values never appear in messages.
            assert!(!message.contains("from-env"), "{message}");
        }
    }

    #[test]
    fn durations_and_names() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_duration("30d"),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_duration("5w"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(
            camel("first_deployment_lookback_ms"),
            "firstDeploymentLookbackMs"
        );
        assert_eq!(camel("hotfix_patterns[1]"), "hotfixPatterns[1]");
        let retention = Retention {
            days: 2,
            keep_at_least: 5,
        };
        assert_eq!(retention.at(10 * DAY_MS).received_before, 8 * DAY_MS);
    }
}
