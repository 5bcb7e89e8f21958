//! pave's own fixtures (`tests/fixtures/<case>/`): `in.yaml`, optional `args` (Sloth-style
//! flags, one per line) and the expected `out.yaml`, compared as parsed YAML. They reproduce
//! the cases of Sloth's integration tests (periods, custom windows, extra labels, disabled
//! alerts/recordings, CRD and OpenSLO inputs) without needing the shared corpus.
//! `PAVE_UPDATE_FIXTURES=1` rewrites the expected outputs (review the diff!).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::path::Path;

use common::{Case, compare, generate_text};

fn case_of(dir: &Path) -> Case {
    let mut case = Case::default();
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let mut args = args.lines().map(str::to_owned);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--default-slo-period" => case.period = args.next(),
            "-l" | "--extra-labels" => {
                let kv = args.next().unwrap();
                let (k, v) = kv.split_once('=').unwrap();
                case.extra_labels.push((k.to_owned(), v.to_owned()));
            }
            "--slo-period-windows" => {
                let name = args.next().unwrap();
                let text = std::fs::read_to_string(dir.join(&name)).unwrap();
                case.windows.push((name, text));
            }
            "--disable-alerts" => case.disable_alerts = true,
            "--disable-recordings" => case.disable_recordings = true,
            "--disable-optimized-rules" => case.disable_optimized = true,
            other => panic!("{}: unknown argument {other}", dir.display()),
        }
    }
    case
}

#[test]
fn fixtures_generate_their_expected_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let update = std::env::var("PAVE_UPDATE_FIXTURES").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read_to_string(dir.join("in.yaml")).unwrap();
        let got = generate_text("in.yaml", &input, &case_of(dir))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = dir.join("out.yaml");
        if update {
            std::fs::write(&out, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&out).unwrap_or_default();
        if let Err(e) = compare(&want, &got) {
            failures.push(format!("{name}: {e}"));
        }
    }
    println!(
        "fixtures: {}/{} identical",
        dirs.len() - failures.len(),
        dirs.len()
    );
    assert!(dirs.len() >= 10);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
