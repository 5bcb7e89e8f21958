//! Outside linters on what the templates generate.

use super::*;

#[test]
fn generated_repositories_pass_outside_linters() {
    if !have_tools(&["hadolint", "shellcheck", "check-jsonschema", "zizmor"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 9] = [
        ("api-service", &["language=python", "ci=gitlab"]),
        ("async-worker", &["language=python"]),
        (
            "api-service",
            &["database=true", "cache=true", "public=true"],
        ),
        ("api-service", &["ci=gitlab"]),
        ("api-service", &["language=typescript"]),
        ("async-worker", &["language=typescript", "ci=gitlab"]),
        ("async-worker", &["queue_tls=true"]),
        (
            "async-worker",
            &["ci=gitlab", "database=true", "bucket=true"],
        ),
        (
            "batch-job",
            &["concurrency=Replace", "time_zone=America/New_York"],
        ),
    ];
    for (i, (template, extra)) in cases.iter().enumerate() {
        let name = format!("{template}-{i}");
        let repo = tmp.path().join(&name);
        new_repo(template, &repo, &name, extra);
        let lint = |program: &str, args: &[&str]| {
            let out = Command::new(program)
                .current_dir(&repo)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {program} {args:?} exited {:?}\n{}{}",
                out.status.code(),
                stdout(&out),
                stderr(&out)
            );
        };
        lint("hadolint", &["Dockerfile"]);
        lint("shellcheck", &["ci/promote.sh"]);
        lint(
            "check-jsonschema",
            &["--builtin-schema", "vendor.renovate", "renovate.json"],
        );
        if repo.join(".gitlab-ci.yml").exists() {
            lint(
                "check-jsonschema",
                &["--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"],
            );
        }
        let workflow = ".github/workflows/ci.yaml";
        assert_eq!(repo.join(workflow).exists(), !extra.contains(&"ci=gitlab"));
        if repo.join(workflow).exists() {
            lint(
                "check-jsonschema",
                &["--builtin-schema", "vendor.github-workflows", workflow],
            );
            // zizmor exits non-zero on any finding (template injection, unpinned actions,
            // credential persistence, excessive permissions…).
            lint("zizmor", &["--offline", "--no-progress", workflow]);
        }
    }
}
