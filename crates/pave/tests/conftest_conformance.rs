//! conftest conformance: conftest's own acceptance tests (`acceptance.bats` and
//! `tests/*/test.bats`, copied with its examples into `tests/conftest-conformance/`) run
//! against `pave check --conftest`. Each `@test` block that runs `conftest test` is executed
//! as bats would execute it (bash, `set -e`, a `run` that sets `status`, `output` and
//! `lines`), with `conftest` replaced by a shim that calls pave. conftest's assertions (exit
//! code, messages, summary counts) decide agreement.
//!
//! `known-differences.tsv` lists the cases that do not agree, each with its reason: the test
//! fails when a case outside the list disagrees (a regression) and when a listed case agrees
//! (the list, and the README's figure, must be updated).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conftest-conformance")
}

/// One `@test` block.
struct Case {
    /// `acceptance.bats: Can parse toml files`.
    id: String,
    body: String,
    /// Where bats runs it.
    dir: PathBuf,
}

fn cases_of(bats: &Path, dir: &Path, label: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(bats).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("@test \"") else {
            continue;
        };
        let title = rest.rsplit_once("\" {").map_or(rest, |(t, _)| t);
        let mut body = String::new();
        for l in lines.by_ref() {
            if l == "}" {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        out.push(Case {
            id: format!("{label}: {title}"),
            body,
            dir: dir.to_path_buf(),
        });
    }
    out
}

/// Whether a case runs `conftest test` (the command pave implements).
fn runs_test(body: &str) -> bool {
    body.contains("conftest test") || body.contains("$CONFTEST test")
}

/// `conftest test --update URL` downloads policies first: pave makes no network calls and
/// has no policy download, so these cases are out of scope (listed in the README).
fn downloads(body: &str) -> bool {
    body.contains("--update")
}

fn all_cases() -> Vec<Case> {
    let root = fixtures();
    let mut cases = cases_of(&root.join("acceptance.bats"), &root, "acceptance.bats");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("test.bats").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        cases.extend(cases_of(
            &dir.join("test.bats"),
            &dir,
            &format!("tests/{name}/test.bats"),
        ));
    }
    cases
        .into_iter()
        .filter(|c| runs_test(&c.body) && !downloads(&c.body))
        .collect()
}

const SHIM: &str = r#"#!/usr/bin/env bash
# conftest → pave: `conftest [-c FILE] test ARGS…` is `pave check --conftest [--config-file FILE] ARGS…`.
pre=()
if [ "$1" = "-c" ]; then pre=(--config-file "$2"); shift 2; fi
cmd="$1"; shift
if [ "$cmd" != "test" ]; then echo "shim: conftest $cmd is not part of this suite" >&2; exit 64; fi
exec "$PAVE_BIN" check --conftest "${pre[@]}" "$@"
"#;

/// bats' `run`: status, output (stdout and stderr) and the non-empty lines.
const PRELUDE: &str = r#"set -e
run() {
  set +e
  output="$("$@" 2>&1)"
  status=$?
  set -e
  IFS=$'\n' read -r -d '' -a lines <<< "$output" || true
}
"#;

/// Runs one case; `Ok(())` when conftest's assertions hold.
fn run_case(case: &Case, shim: &Path) -> Result<(), String> {
    let body = case
        .body
        .replace("../../conftest", "\"$CONFTEST\"")
        .replace("./conftest", "\"$CONFTEST\"");
    let script = format!("{PRELUDE}\n{body}\n");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&case.dir)
        .env("CONFTEST", shim)
        .env("PAVE_BIN", env!("CARGO_BIN_EXE_pave"))
        .env("NO_COLOR", "1")
        .env_remove("PAVE_CONFIG")
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        // Show what pave printed: re-run the command lines with their output.
        let trace = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{PRELUDE}\nrun() {{ \"$@\" 2>&1; echo \"[exit $?]\"; }}\n{}\n",
                body.lines()
                    .filter(
                        |l| l.trim_start().starts_with("run ") || l.trim_start().starts_with("cd ")
                    )
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
            .current_dir(&case.dir)
            .env("CONFTEST", shim)
            .env("PAVE_BIN", env!("CARGO_BIN_EXE_pave"))
            .env("NO_COLOR", "1")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        Err(trace)
    }
}

fn known_differences() -> BTreeMap<String, String> {
    std::fs::read_to_string(fixtures().join("known-differences.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once('\t').unwrap_or((l, ""));
            (id.to_owned(), reason.to_owned())
        })
        .collect()
}

#[test]
fn conftest_acceptance_tests_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let shim = tmp.path().join("conftest");
    std::fs::write(&shim, SHIM).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let known = known_differences();
    let cases = all_cases();
    assert!(cases.len() >= 70, "only {} cases found", cases.len());
    let mut agree = 0;
    let mut problems = Vec::new();
    for case in &cases {
        let result = run_case(case, &shim);
        match (result, known.get(&case.id)) {
            (Ok(()), None) => agree += 1,
            (Ok(()), Some(_)) => {
                agree += 1;
                problems.push(format!(
                    "now agrees, remove it from known-differences.tsv and update the README: {}",
                    case.id
                ));
            }
            (Err(_), Some(_)) => {}
            (Err(trace), None) => problems.push(format!("disagrees: {}\n{trace}", case.id)),
        }
    }
    for id in known.keys() {
        if !cases.iter().any(|c| &c.id == id) {
            problems.push(format!("known-differences.tsv names no case: {id}"));
        }
    }
    println!(
        "conftest conformance: {agree} of {} cases agree",
        cases.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
