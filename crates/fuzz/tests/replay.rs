//! Replays every kept input through its target: the seeds, and each input a fuzzer once
//! crashed on (named `crash-*`, kept as regression tests). A panic fails the test with the
//! file's name; so does an input that takes more than a second (a hang the fuzzer found).
//! The fixture folders other tests use are replayed too, through the target that reads them.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn replay(target: &str, run: fn(&[u8]), inputs: &[(String, Vec<u8>)]) {
    for (name, data) in inputs {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| run(data));
        assert!(outcome.is_ok(), "{target} panicked on {name}");
        assert!(
            started.elapsed() < Duration::from_secs(if cfg!(debug_assertions) { 5 } else { 1 }),
            "{target} took {:?} on {name}",
            started.elapsed()
        );
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

#[test]
fn every_target_has_a_corpus_and_survives_it() {
    for (target, run) in pave_fuzz::TARGETS {
        let dir = root().join("corpus").join(target);
        let inputs: Vec<(String, Vec<u8>)> = files(&dir)
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        assert!(
            inputs.len() >= 3,
            "{target}: seed corpus/{target}/ with real inputs"
        );
        replay(target, *run, &inputs);
    }
}

/// The other crates' fixtures, each through the target that reads such files, prefixed as
/// the target expects.
#[test]
fn the_fixtures_of_other_tests_are_inputs_too() {
    let crates = root().join("..");
    let mut replayed = 0;
    for (dir, target, prefix) in [
        ("slo/tests/fixtures", "slo_spec", ""),
        ("workload/tests/fixtures", "score", ""),
        (
            "policy/tests/fixtures/terraform",
            "guardrails",
            "plan.json\n",
        ),
        ("policy/tests/fixtures/docker", "guardrails", "Dockerfile\n"),
        (
            "policy/tests/fixtures/gha",
            "guardrails",
            ".github/workflows/ci.yml\n",
        ),
        ("policy/tests/fixtures/catalog", "catalog_file", ""),
        ("template/builtin", "template_manifest", ""),
        // Webhook bodies: the source selector byte, no headers (those the sources need
        // are refused by name, which is a path worth replaying too).
        ("events/tests/fixtures/gitlab", "webhook", "\u{1}\n"),
        (
            "events/tests/fixtures/cdevents",
            "webhook",
            "\u{2}content-type: application/cloudevents+json\n\n",
        ),
        ("events/tests/fixtures/argocd", "webhook", "\u{3}\n"),
        ("events/tests/fixtures/flux", "webhook", "\u{4}\n"),
        ("events/tests/fixtures/pagerduty", "webhook", "\u{5}\n"),
        ("events/tests/fixtures/opsgenie", "webhook", "\u{6}\n"),
        ("events/tests/fixtures/alertmanager", "webhook", "\u{7}\n"),
    ] {
        let run = pave_fuzz::target(target).unwrap();
        let inputs: Vec<(String, Vec<u8>)> = files(&crates.join(dir))
            .into_iter()
            .filter(|p| target != "template_manifest" || p.ends_with("template.yaml"))
            .map(|p| {
                let mut data = prefix.as_bytes().to_vec();
                data.extend(std::fs::read(&p).unwrap());
                (p.display().to_string(), data)
            })
            .collect();
        replayed += inputs.len();
        replay(target, run, &inputs);
    }
    assert!(replayed > 50, "{replayed}");
}
