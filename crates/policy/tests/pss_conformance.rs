//! Conformance with the upstream pod-security-admission fixtures (Kubernetes v1.35):
//! every `<level>/fail/*` object is denied and every `<level>/pass/*` object admitted under
//! that level's profile. Reads `../shared/corpus/pod-security`; skipped where it is absent
//! (a developer laptop), a failure in CI.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use pave_policy::{Exceptions, Policy, PolicyConfig, Profile, Status};

fn corpus() -> Option<PathBuf> {
    pave_testkit::corpus("pod-security", ".")
}

/// (file, denied, messages) for every fixture in `dir`.
fn verdicts(dir: &Path, profile: Profile) -> Vec<(String, bool, Vec<String>)> {
    let config = PolicyConfig {
        profile,
        // Any Pod Security finding denies, whatever its severity.
        fail_on: pave_policy::Severity::Info,
        ..PolicyConfig::default()
    };
    // Only the Pod Security rules: the profile decides which of them.
    let policy = Policy::with_rules(
        pave_policy::rules::builtin()
            .into_iter()
            .filter(|r| r.meta().id.starts_with("pss-"))
            .collect(),
        config,
        Exceptions::default(),
    );
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let docs = pave_policy::load(&name, text, None, &pave_yaml::Limits::default()).unwrap();
            assert_eq!(docs.len(), 1, "{name}");
            let report = policy.check(&docs, Vec::new(), 0);
            let messages: Vec<String> = report
                .findings
                .iter()
                .map(|f| format!("{}: {}", f.rule, f.message))
                .collect();
            let denied = report.findings.iter().any(|f| f.status == Status::Failed);
            (name, denied, messages)
        })
        .collect()
}

fn level(level: &str, profile: Profile) {
    let Some(root) = corpus() else { return };
    let mut wrong = Vec::new();
    let mut total = 0;
    for (outcome, want_denied) in [("fail", true), ("pass", false)] {
        for (name, denied, messages) in verdicts(&root.join(level).join(outcome), profile) {
            total += 1;
            if denied != want_denied {
                wrong.push(format!(
                    "{level}/{outcome}/{name}: denied={denied} {messages:?}"
                ));
            }
        }
    }
    println!(
        "pod-security {level}: {}/{total} fixtures agree",
        total - wrong.len()
    );
    assert!(
        total > 0,
        "no fixtures under {}",
        root.join(level).display()
    );
    assert!(
        wrong.is_empty(),
        "{} of {total} disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn baseline_fixtures() {
    level("baseline", Profile::Baseline);
}

#[test]
fn restricted_fixtures() {
    level("restricted", Profile::Restricted);
}
