//! 1.1.0 repositories updated to 1.2.0 still build and pass their tests.

use super::*;

#[test]
fn repositories_made_with_1_1_0_update_to_1_2_0_and_still_build() {
    if !have_tools(&["go"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for template in ["api-service", "async-worker", "batch-job"] {
        let repo = tmp.path().join(template);
        let out = pave()
            .args(["new", template, repo.to_str().unwrap(), "--ref", "1.1.0"])
            .args(["--set", "name=legacy-app", "--set", "owner=team-a"])
            .args(["--set", "system=shop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // The team wrote a section of its own in the runbook.
        let runbook = repo.join("docs/runbook.md");
        let edited = format!(
            "{}\n## Known issues\n\nThe nightly export is slow at 02:00.\n",
            std::fs::read_to_string(&runbook).unwrap()
        );
        std::fs::write(&runbook, &edited).unwrap();

        let out = pave()
            .args(["update", repo.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{template}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let runbook_now = std::fs::read_to_string(&runbook).unwrap();
        assert!(runbook_now.contains("## Known issues"), "{runbook_now}");
        assert!(!runbook_now.contains("<<<<<<<"), "{runbook_now}");
        let answers = std::fs::read_to_string(repo.join(".pave/answers.yaml")).unwrap();
        assert!(answers.contains("version: \"1.2.0\""), "{answers}");
        assert!(repo.join("CODEOWNERS").is_file(), "{template}");
        assert!(!repo.join(".github/CODEOWNERS").exists(), "{template}");
        assert!(repo.join("renovate.json").is_file(), "{template}");
        assert!(
            std::fs::read_to_string(repo.join("Dockerfile"))
                .unwrap()
                .contains("golang:1.27"),
            "{template}"
        );
        build(&repo);
        // Still compliant after the update.
        let out = pave()
            .args(["check", "--format", "json"])
            .arg(&repo)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{template}");
    }

    // An edit to code the template rewrote is a conflict, marked and listed (exit 1).
    let repo = tmp.path().join("edited");
    run_ok(
        pave()
            .args([
                "new",
                "api-service",
                repo.to_str().unwrap(),
                "--ref",
                "1.1.0",
            ])
            .args(["--set", "name=orders", "--set", "owner=team-a"])
            .args(["--set", "system=shop"]),
    );
    let main_go = repo.join("main.go");
    let edited = std::fs::read_to_string(&main_go).unwrap().replace(
        r#"`{"service":"orders"}`"#,
        r#"`{"service":"orders","v":2}`"#,
    );
    std::fs::write(&main_go, edited).unwrap();
    let out = pave()
        .args(["update", repo.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("main.go"), "{}", stderr(&out));
    let merged = std::fs::read_to_string(&main_go).unwrap();
    assert!(
        merged.contains("<<<<<<< ours") && merged.contains(r#""v":2"#),
        "{merged}"
    );
}
