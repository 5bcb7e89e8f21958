//! Conformance with Polaris's own check fixtures (`FairwindsOps/polaris` `test/checks`): for
//! every Polaris check that some built-in rule names in `references.polaris`, each
//! `success*` file must give no finding of those rules and each `failure*` file at least one.
//! The mapping comes from the rules themselves, so a rule that claims a Polaris equivalent is
//! held to it. Reads `../shared/corpus/polaris/checks`; skipped where it is absent (a
//! developer laptop), a failure in CI.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pave_policy::{Exceptions, Policy, PolicyConfig, Profile, Severity};

fn corpus() -> Option<PathBuf> {
    pave_testkit::corpus("polaris/checks", ".")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn polaris_fixtures() {
    let Some(root) = corpus() else { return };

    // Polaris check → the pave rules that claim to be it.
    let mut mapping: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for rule in pave_policy::rules::builtin() {
        if let Some(check) = rule.meta().references.polaris {
            mapping.entry(check).or_default().push(rule.meta().id);
        }
    }

    // Built-in checks only: folders with a check.yaml are custom-check examples.
    let checks: Vec<PathBuf> = sorted_entries(&root)
        .into_iter()
        .filter(|d| d.is_dir() && !d.join("check.yaml").exists())
        .collect();
    let names: Vec<String> = checks
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for check in mapping.keys() {
        assert!(
            names.iter().any(|n| n == check),
            "a rule references Polaris check {check}, which has no fixtures (typo?)"
        );
    }

    let mut covered = 0;
    let mut files = 0;
    let mut wrong = Vec::new();
    let mut uncovered = Vec::new();
    for (dir, check) in checks.iter().zip(&names) {
        let Some(ids) = mapping.get(check.as_str()) else {
            uncovered.push(check.clone());
            continue;
        };
        covered += 1;
        let policy = Policy::with_rules(
            pave_policy::rules::builtin()
                .into_iter()
                .filter(|r| ids.contains(&r.meta().id))
                .collect(),
            PolicyConfig {
                profile: Profile::Recommended,
                fail_on: Severity::Info,
                ..PolicyConfig::default()
            },
            Exceptions::default(),
        );
        for path in sorted_entries(dir) {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            // `mutated*` files are Polaris's auto-fix outputs, not verdicts.
            let want_findings = if file.starts_with("failure") {
                true
            } else if file.starts_with("success") {
                false
            } else {
                continue;
            };
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let docs = pave_policy::load(&file, text, None, &pave_yaml::Limits::default()).unwrap();
            let report = policy.check(&docs, Vec::new(), 0);
            let found: Vec<String> = report
                .findings
                .iter()
                .filter(|f| ids.contains(&&*f.rule))
                .map(|f| format!("{}: {}", f.rule, f.message))
                .collect();
            if found.is_empty() == want_findings {
                wrong.push(format!("{check}/{file} ({}): {found:?}", ids.join(", ")));
            }
        }
    }
    println!(
        "polaris: covered {covered} of {} checks, agreement {}/{files} files",
        checks.len(),
        files - wrong.len()
    );
    println!("polaris: not covered: {}", uncovered.join(", "));
    assert!(
        covered > 0 && files > 0,
        "nothing compared under {}",
        root.display()
    );
    assert!(
        wrong.is_empty(),
        "{} of {files} files disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
