//! What the ledger's rules leave to configuration, and the rules compiled from it.

use pave_dora::changeset::Limits;
use pave_events::Millis;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::LedgerError;

/// The ledger's configuration. Changing it changes facts already derived: replay the
/// deliveries (`pave events replay`) rather than carry on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// Environment names that are production (compared case-insensitively), besides those
    /// the sender marks as production (GitHub `production_environment`, GitLab tier).
    pub production_environments: Vec<String>,
    /// Regular expressions (case-insensitive, unanchored) that make a deployment a hotfix
    /// when they match one of its labels (GitHub `task`), the ref it deployed, or a label or
    /// head branch of a merged change it shipped.
    pub hotfix_patterns: Vec<String>,
    /// Regular expressions that make a deployment a rollback when they match one of its
    /// labels (GitHub has no rollback flag; `task: deploy:rollback` is the convention).
    pub rollback_patterns: Vec<String>,
    /// How far past the time a delivery was received its times may be before the
    /// deployment is excluded as "in the future" (senders' clocks drift).
    pub future_skew_ms: Millis,
    /// Link an incident with no explicit cause to the latest successful production
    /// deployment of its entity that finished before it opened (off by default: a guess).
    pub link_by_time: bool,
    /// The time heuristic looks back at most this far from the incident's opening.
    pub link_by_time_window_ms: Millis,
    /// Change sets visit at most this many commits (see `pave_dora::changeset`).
    pub changeset_max_commits: usize,
    /// A first deployment's change set reaches back at most this far.
    pub first_deployment_lookback_ms: Millis,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        let limits = Limits::default();
        LedgerConfig {
            production_environments: vec!["production".to_owned(), "prod".to_owned()],
            hotfix_patterns: vec!["hotfix".to_owned()],
            rollback_patterns: vec!["rollback".to_owned()],
            future_skew_ms: 5 * 60_000,
            link_by_time: false,
            link_by_time_window_ms: 24 * 3_600_000,
            changeset_max_commits: limits.max_commits,
            first_deployment_lookback_ms: limits.first_deployment_lookback_ms,
        }
    }
}

/// The configuration, checked and compiled.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) config: LedgerConfig,
    production: Vec<String>,
    hotfix: Option<Regex>,
    rollback: Option<Regex>,
    pub(crate) limits: Limits,
}

impl Rules {
    pub(crate) fn new(config: LedgerConfig) -> Result<Rules, LedgerError> {
        let hotfix = compile("hotfix_patterns", &config.hotfix_patterns)?;
        let rollback = compile("rollback_patterns", &config.rollback_patterns)?;
        for (field, value) in [
            ("future_skew_ms", config.future_skew_ms),
            ("link_by_time_window_ms", config.link_by_time_window_ms),
            (
                "first_deployment_lookback_ms",
                config.first_deployment_lookback_ms,
            ),
        ] {
            if value < 0 {
                return Err(LedgerError::Config {
                    field: field.to_owned(),
                    message: format!("{value} is negative"),
                });
            }
        }
        Ok(Rules {
            production: config
                .production_environments
                .iter()
                .map(|e| e.trim().to_lowercase())
                .collect(),
            hotfix,
            rollback,
            limits: Limits {
                max_commits: config.changeset_max_commits,
                first_deployment_lookback_ms: config.first_deployment_lookback_ms,
            },
            config,
        })
    }

    /// Whether a deployment to `environment` is a production deployment.
    pub(crate) fn is_production(&self, environment: &str, sender_says: Option<bool>) -> bool {
        sender_says == Some(true)
            || self
                .production
                .iter()
                .any(|p| p.eq_ignore_ascii_case(environment.trim()))
    }

    pub(crate) fn is_hotfix(&self, text: &str) -> bool {
        self.hotfix.as_ref().is_some_and(|r| r.is_match(text))
    }

    pub(crate) fn is_rollback(&self, text: &str) -> bool {
        self.rollback.as_ref().is_some_and(|r| r.is_match(text))
    }
}

/// One case-insensitive alternation of `patterns`; `None` when there are none.
fn compile(field: &str, patterns: &[String]) -> Result<Option<Regex>, LedgerError> {
    for (i, pattern) in patterns.iter().enumerate() {
        Regex::new(pattern).map_err(|e| LedgerError::Config {
            field: format!("{field}[{i}]"),
            message: e.to_string(),
        })?;
    }
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&joined)
        .case_insensitive(true)
        .build()
        .map(Some)
        .map_err(|e| LedgerError::Config {
            field: field.to_owned(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_hotfix_and_rollback_rules() {
        let rules = Rules::new(LedgerConfig::default()).unwrap();
        assert!(rules.is_production("Production", None));
        assert!(rules.is_production("prod", Some(false)));
        assert!(rules.is_production("eu-live", Some(true)));
        assert!(!rules.is_production("staging", None));
        assert!(rules.is_hotfix("deploy:HOTFIX"));
        assert!(rules.is_hotfix("hotfix/login"));
        assert!(!rules.is_hotfix("deploy"));
        assert!(rules.is_rollback("deploy:rollback"));
    }

    #[test]
    fn bad_patterns_name_their_field() {
        let config = LedgerConfig {
            hotfix_patterns: vec!["ok".into(), "(".into()],
            ..LedgerConfig::default()
        };
        let err = Rules::new(config).unwrap_err().to_string();
        assert!(err.starts_with("hotfix_patterns[1]:"), "{err}");
        let config = LedgerConfig {
            future_skew_ms: -1,
            ..LedgerConfig::default()
        };
        assert!(
            Rules::new(config)
                .unwrap_err()
                .to_string()
                .starts_with("future_skew_ms:")
        );
    }
}
