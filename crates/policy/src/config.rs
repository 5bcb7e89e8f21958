//! `pave-policy.yaml`: profile, failing threshold, rule switches and rule settings.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::rule::{Severity, Tier};

/// A set of built-in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Pod Security Standards baseline.
    Baseline,
    /// Pod Security Standards restricted (includes baseline).
    Restricted,
    /// Restricted plus every other built-in rule (best practices, Terraform, Dockerfiles,
    /// workflows, catalog).
    #[default]
    Recommended,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "baseline" => Some(Profile::Baseline),
            "restricted" => Some(Profile::Restricted),
            "recommended" | "default" | "all" => Some(Profile::Recommended),
            _ => None,
        }
    }

    pub fn includes(self, tier: Tier) -> bool {
        match self {
            Profile::Baseline => tier == Tier::Baseline,
            Profile::Restricted => matches!(tier, Tier::Baseline | Tier::Restricted),
            Profile::Recommended => true,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
            Profile::Recommended => "recommended",
        }
    }
}

/// Values some rules read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Labels every Kubernetes workload must carry.
    pub required_labels: Vec<String>,
    /// Tags every taggable Terraform resource must carry.
    pub required_tags: Vec<String>,
    /// Namespaces (globs) whose workloads count as production (replicas, disruption budgets).
    /// Empty: every namespace.
    pub production_namespaces: Vec<String>,
    /// Ports that must not be open to the whole internet.
    pub admin_ports: Vec<u16>,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            required_labels: vec!["owner".into(), "cost-center".into()],
            required_tags: vec!["owner".into(), "cost-center".into()],
            production_namespaces: Vec::new(),
            admin_ports: vec![22, 3389, 3306, 5432, 1433, 6379, 9200, 27017, 2379, 5900],
        }
    }
}

/// One rule's switch and severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOverride {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
}

/// [`RuleOverride`] as written in the file; the severity is checked (with its position) when
/// the file is read, never per finding.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleOverrideFile {
    enabled: Option<bool>,
    severity: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigFile {
    profile: Option<String>,
    fail_on: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, RuleOverrideFile>,
    #[serde(default)]
    enable: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    settings: Option<RuleSettings>,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    pub profile: Profile,
    /// Findings at or above this severity fail the check.
    pub fail_on: Severity,
    pub overrides: BTreeMap<String, RuleOverride>,
    pub settings: RuleSettings,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            profile: Profile::default(),
            fail_on: Severity::Medium,
            overrides: BTreeMap::new(),
            settings: RuleSettings::default(),
        }
    }
}

/// A problem in `pave-policy.yaml` or `pave-exceptions.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", .position.map(|p| format!(":{p}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub position: Option<pave_yaml::Position>,
    pub message: String,
}

impl PolicyConfig {
    /// Parses `pave-policy.yaml` text (`file` names it in errors).
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let error = |position, message: String| ConfigError {
            file: file.to_owned(),
            position,
            message,
        };
        let doc = pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
            .map_err(|e| error(Some(e.position()), e.to_string()))?
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(serde_json::Value::Null);
        if doc.is_null() {
            return Ok(PolicyConfig::default());
        }
        let raw: ConfigFile =
            serde_json::from_value(doc).map_err(|e| error(None, e.to_string()))?;
        let locate = |path: &[&str]| {
            let segments: Vec<pave_yaml::PathSegment> = path.iter().map(|p| (*p).into()).collect();
            pave_yaml::locate(text, 0, &segments)
        };
        let mut config = PolicyConfig::default();
        if let Some(p) = raw.profile {
            config.profile = Profile::parse(&p).ok_or_else(|| {
                error(
                    locate(&["profile"]),
                    format!("unknown profile `{p}` (use baseline, restricted or recommended)"),
                )
            })?;
        }
        if let Some(f) = raw.fail_on {
            config.fail_on = Severity::parse(&f).ok_or_else(|| {
                error(
                    locate(&["failOn"]),
                    format!("unknown severity `{f}` (use info, low, medium, high or critical)"),
                )
            })?;
        }
        for (id, o) in raw.rules {
            let severity = match &o.severity {
                None => None,
                Some(s) => Some(Severity::parse(s).ok_or_else(|| {
                    error(
                        locate(&["rules", &id, "severity"]),
                        format!("rule {id}: unknown severity `{s}`"),
                    )
                })?),
            };
            config.overrides.insert(
                id,
                RuleOverride {
                    enabled: o.enabled,
                    severity,
                },
            );
        }
        for id in raw.enable {
            config.overrides.entry(id).or_default().enabled = Some(true);
        }
        for id in raw.disable {
            config.overrides.entry(id).or_default().enabled = Some(false);
        }
        if let Some(settings) = raw.settings {
            config.settings = settings;
        }
        Ok(config)
    }

    /// Whether a rule of `tier` runs, and at what severity.
    pub fn effective(&self, id: &str, tier: Tier, default: Severity) -> Option<Severity> {
        let o = self.overrides.get(id);
        let enabled = o
            .and_then(|o| o.enabled)
            .unwrap_or_else(|| self.profile.includes(tier));
        if !enabled {
            return None;
        }
        Some(o.and_then(|o| o.severity).unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        let c = PolicyConfig::parse(
            "pave-policy.yaml",
            "profile: restricted\nfailOn: high\nrules:\n  k8s-latest-tag: {severity: critical}\ndisable: [pss-privileged]\nenable: [docker-root-user]\nsettings:\n  requiredLabels: [team]\n",
        )
        .unwrap();
        assert_eq!(c.profile, Profile::Restricted);
        assert_eq!(c.fail_on, Severity::High);
        assert_eq!(
            c.effective("pss-privileged", Tier::Baseline, Severity::High),
            None
        );
        assert_eq!(
            c.effective("docker-root-user", Tier::Recommended, Severity::High),
            Some(Severity::High)
        );
        assert_eq!(
            c.effective("k8s-latest-tag", Tier::Recommended, Severity::Medium),
            None,
            "not in the profile"
        );
        assert_eq!(c.settings.required_labels, vec!["team".to_owned()]);
    }

    #[test]
    fn errors_name_the_place() {
        let e = PolicyConfig::parse("p.yaml", "profile: strict\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.yaml:1:1: unknown profile `strict` (use baseline, restricted or recommended)"
        );
        let e = PolicyConfig::parse("p.yaml", "rules:\n  x:\n    severity: huge\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("p.yaml:3:5: rule x: unknown severity"),
            "{e}"
        );
        assert!(
            PolicyConfig::parse("p.yaml", "colour: red\n")
                .unwrap_err()
                .message
                .contains("unknown field")
        );
    }
}
