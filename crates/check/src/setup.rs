//! Assembling the policy from flags and files: `pave-policy.yaml` (profile, thresholds, rule
//! switches, settings) and `pave-exceptions.yaml` (waivers with owners and expiry dates).

use std::path::{Path, PathBuf};

use pave_policy::{ConfigError, Exceptions, Policy, PolicyConfig, Profile, Severity};

/// The configuration file looked for in the working directory when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "pave-policy.yaml";
/// The exceptions file looked for in the working directory when none is named.
pub const DEFAULT_EXCEPTIONS_FILE: &str = "pave-exceptions.yaml";

/// What flags say about the policy; files fill in the rest.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// `--config`; default `./pave-policy.yaml` when it exists.
    pub config_file: Option<PathBuf>,
    /// `--exceptions`; default `./pave-exceptions.yaml` when it exists.
    pub exceptions_file: Option<PathBuf>,
    /// `--profile` (overrides the file).
    pub profile: Option<Profile>,
    /// `--fail-on` (overrides the file).
    pub fail_on: Option<Severity>,
    /// Custom Rego policies (`--policy`), when given.
    pub rego: Option<RegoSetup>,
}

/// Where custom Rego policies come from, and how they run (conftest's flags).
#[derive(Debug, Clone, Default)]
pub struct RegoSetup {
    /// `--policy`: `.rego` files or folders.
    pub policies: Vec<PathBuf>,
    /// `--data`: JSON/YAML files or folders, readable as `data.*`.
    pub data: Vec<PathBuf>,
    pub options: pave_policy_rego::RegoOptions,
}

/// Why the policy could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Rego(#[from] pave_policy_rego::RegoError),
}

/// The assembled policy and what is worth telling the user about it.
pub struct Assembled {
    pub policy: Policy,
    /// The files that were used, for logs.
    pub config_file: Option<PathBuf>,
    pub exceptions_file: Option<PathBuf>,
}

/// Reads the configuration and exceptions files (named, or the defaults in `dir` when they
/// exist) and builds the built-in policy.
pub fn build_policy(options: &PolicyOptions, dir: &Path) -> Result<Assembled, SetupError> {
    let config_file = pick(options.config_file.as_deref(), dir, DEFAULT_CONFIG_FILE);
    let exceptions_file = pick(
        options.exceptions_file.as_deref(),
        dir,
        DEFAULT_EXCEPTIONS_FILE,
    );
    let mut config = match &config_file {
        Some(path) => PolicyConfig::parse(&shown(path), &read(path)?)?,
        None => PolicyConfig::default(),
    };
    if let Some(profile) = options.profile {
        config.profile = profile;
    }
    if let Some(fail_on) = options.fail_on {
        config.fail_on = fail_on;
    }
    let exceptions = match &exceptions_file {
        Some(path) => Exceptions::parse(&shown(path), &read(path)?)?,
        None => Exceptions::default(),
    };
    let mut policy = Policy::new(config, exceptions);
    if let Some(rego) = &options.rego {
        let custom =
            pave_policy_rego::RegoPolicies::load(&rego.policies, &rego.data, rego.options.clone())?;
        policy = policy.with_custom(Box::new(custom));
    }
    Ok(Assembled {
        policy,
        config_file,
        exceptions_file,
    })
}

/// A named file must exist; a default one is used only when it does.
fn pick(named: Option<&Path>, dir: &Path, default: &str) -> Option<PathBuf> {
    match named {
        Some(p) => Some(p.to_path_buf()),
        None => Some(dir.join(default)).filter(|p| p.is_file()),
    }
}

fn shown(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn read(path: &Path) -> Result<String, SetupError> {
    std::fs::read_to_string(path).map_err(|source| SetupError::Read {
        path: shown(path),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_are_found_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DEFAULT_CONFIG_FILE),
            "profile: baseline\nfailOn: high\n",
        )
        .unwrap();
        let options = PolicyOptions {
            fail_on: Some(Severity::Low),
            ..PolicyOptions::default()
        };
        let assembled = build_policy(&options, dir.path()).unwrap();
        assert_eq!(assembled.policy.config().profile, Profile::Baseline);
        assert_eq!(assembled.policy.config().fail_on, Severity::Low);
        assert!(assembled.exceptions_file.is_none());
    }

    #[test]
    fn named_files_must_exist_and_parse() {
        let dir = tempfile::tempdir().unwrap();
        let missing = PolicyOptions {
            exceptions_file: Some(dir.path().join("nope.yaml")),
            ..PolicyOptions::default()
        };
        assert!(matches!(
            build_policy(&missing, dir.path()),
            Err(SetupError::Read { .. })
        ));
        let bad = dir.path().join("ex.yaml");
        std::fs::write(
            &bad,
            "exceptions:\n- rules: [pss-privileged]\n  owner: team-a\n  reason: legacy\n",
        )
        .unwrap();
        let options = PolicyOptions {
            exceptions_file: Some(bad),
            ..PolicyOptions::default()
        };
        let err = build_policy(&options, dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("ex.yaml:2:") && err.contains("expires"),
            "{err}"
        );
    }
}
