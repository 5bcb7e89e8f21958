//! Conformance with Sloth: every `in/X` of `../shared/corpus/sloth` (Sloth's examples)
//! generates what Sloth generated in `out/X` (`sloth generate --extra-labels
//! cmd=examplesgen.sh`, version `dev`, period 30d), compared as parsed YAML. Skipped where the
//! corpus is absent (a developer laptop), a failure in CI.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::PathBuf;

use common::{Case, compare, generate_text};

fn corpus() -> Option<PathBuf> {
    pave_testkit::corpus("sloth", ".")
}

#[test]
fn sloth_examples_generate_what_sloth_generated() {
    let Some(root) = corpus() else { return };
    let mut inputs: Vec<_> = std::fs::read_dir(root.join("in"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let case = Case {
        extra_labels: vec![("cmd".to_owned(), "examplesgen.sh".to_owned())],
        ..Case::default()
    };
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(input).unwrap();
        let want = std::fs::read_to_string(root.join("out").join(&name)).unwrap();
        match generate_text(&name, &text, &case) {
            Ok(got) => {
                if let Err(e) = compare(&want, &got) {
                    failures.push(format!("{name}: {e}"));
                }
            }
            Err(e) => failures.push(format!("{name}: generation failed: {e}")),
        }
    }
    let passed = inputs.len() - failures.len();
    println!(
        "sloth conformance: {passed}/{} files identical",
        inputs.len()
    );
    assert!(!inputs.is_empty(), "no inputs in {}", root.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_comparison_sees_differences() {
    let Some(root) = corpus() else { return };
    let want = std::fs::read_to_string(root.join("out/getting-started.yml")).unwrap();
    assert!(compare(&want, &want).is_ok());
    // Whitespace in expressions does not matter; numbers, labels and documents do.
    assert!(compare(&want, &want.replace("/\n  ", "/   \n  ")).is_ok());
    assert!(compare(&want, &want.replace("14.4", "14.5")).is_err());
    assert!(compare(&want, &want.replace("tier: \"2\"", "tier: \"3\"")).is_err());
    assert!(compare(&want, &format!("{want}\n---\ngroups: []\n")).is_err());
}
