//! The built-in golden paths, end to end, as a developer and CI would use them: `pave new`
//! for every template (defaults, and with every optional resource), then the repository must
//! pass pave's own guardrails (Dockerfile, GitHub workflow, catalog entry), the catalog
//! validator, `pave slo generate` + `promtool check rules`, and `pave render` must give, for
//! every environment, a layout that `kubectl kustomize` builds into objects with zero findings
//! under the restricted profile that validate against the Kubernetes JSON schemas. Then a
//! day-2 upgrade of a built-in from 1.0.0 to 1.1.0 with local edits (1.1.0 to 1.2.0, whose
//! code changed, is in `golden_e2e/update.rs`: the upgraded repository is built and tested).
//!
//! promtool and kubectl are skipped locally when missing and required under `CI=true`; the
//! schemas are read from `../shared/corpus` when it exists.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::Path;

use common::{pave, stderr, stdout};
use pave_testkit::k8s::{kubectl, kustomize, schema_dir, validate_schemas};
use serde_json::Value;

const IMAGE: &str =
    "ghcr.io/northwind/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Every template with its default answers, and with every optional resource switched on.
const CASES: [(&str, &[&str]); 10] = [
    ("api-service", &[]),
    ("api-service", &["language=python", "database=true"]),
    ("async-worker", &["language=python", "ci=gitlab"]),
    ("api-service", &["language=typescript", "ci=gitlab"]),
    ("async-worker", &["language=typescript", "queue_tls=true"]),
    (
        "api-service",
        &["database=true", "cache=true", "public=true", "ci=github"],
    ),
    ("async-worker", &[]),
    (
        "async-worker",
        &["database=true", "bucket=true", "ci=gitlab"],
    ),
    ("batch-job", &[]),
    ("batch-job", &["database=true", "bucket=true"]),
];

fn run_ok(args: &[&str]) -> String {
    let out = pave().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pave {args:?} exited {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn new_repo(template: &str, dest: &Path, name: &str, extra: &[&str]) {
    let mut args = vec![
        "new".to_owned(),
        template.to_owned(),
        dest.display().to_string(),
        "--set".into(),
        format!("name={name}"),
        "--set".into(),
        "owner=team-checkout".into(),
        "--set".into(),
        "system=webshop".into(),
    ];
    for kv in extra {
        args.extend(["--set".to_owned(), (*kv).to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&args);
}

/// `pave check --format json` on `paths`: (findings, the input type of every checked file).
fn check(profile: &str, paths: &[&Path]) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = vec!["check", "--format", "json", "--profile", profile];
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = pave().args(&args).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("pave {args:?}: {e}\n{}{}", stdout(&out), stderr(&out)));
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}:{} {}", f["rule"], f["file"], f["line"], f["message"]))
        .collect();
    let errors = report["errors"].as_array().unwrap();
    assert!(errors.is_empty(), "input errors: {errors:?}");
    let checked = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["file"].as_str().unwrap().to_owned(),
                c["input"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (findings, checked)
}

#[test]
fn every_golden_path_is_born_compliant() {
    let tmp = tempfile::tempdir().unwrap();
    let kubectl = kubectl();
    let schemas = schema_dir();
    let mut validated = 0;
    for (i, (template, extra)) in CASES.iter().enumerate() {
        let name = format!("{template}-{i}");
        let repo = tmp.path().join(&name);
        new_repo(template, &repo, &name, extra);

        // The repository: Dockerfile, workflow and catalog entry pass every built-in rule.
        let (findings, checked) = check("recommended", &[&repo]);
        assert!(findings.is_empty(), "{name}: {findings:#?}");
        let inputs: Vec<&str> = checked.iter().map(|(_, input)| input.as_str()).collect();
        assert!(inputs.contains(&"dockerfile"), "{name}: {checked:?}");
        assert!(inputs.contains(&"catalog"), "{name}: {checked:?}");
        let github = !extra.contains(&"ci=gitlab");
        assert_eq!(
            inputs.contains(&"github-actions"),
            github,
            "{name}: {checked:?}"
        );
        assert_eq!(
            repo.join(".gitlab-ci.yml").exists(),
            !extra.contains(&"ci=github")
        );

        // The catalog entry is valid and says which template made it.
        let catalog = repo.join("catalog-info.yaml");
        run_ok(&["catalog", "validate", catalog.to_str().unwrap()]);
        let entity = std::fs::read_to_string(&catalog).unwrap();
        assert!(
            entity.contains(&format!("pave.dev/template: {template}")),
            "{entity}"
        );

        // The api-service registers its API; GitLab repositories point at GitLab only.
        if *template == "api-service" {
            assert!(
                entity.contains("providesApis: [") && entity.contains("kind: API"),
                "{entity}"
            );
            assert!(repo.join("openapi.yaml").is_file(), "{name}");
        }
        assert!(entity.contains("backstage.io/kubernetes-id:"), "{entity}");
        if extra.contains(&"ci=gitlab") {
            for file in ["catalog-info.yaml", "slo.yaml", "go.mod", "README.md"] {
                let Ok(text) = std::fs::read_to_string(repo.join(file)) else {
                    continue; // go.mod: Go only
                };
                assert!(!text.contains("github.com"), "{name} {file}:\n{text}");
            }
            assert!(entity.contains("gitlab.com/project-slug:"), "{entity}");
        }
        assert!(repo.join("CODEOWNERS").is_file() && repo.join("renovate.json").is_file());

        // SLOs: Sloth-compatible rules that promtool accepts.
        let slo = repo.join("slo.yaml");
        let rules = run_ok(&["slo", "generate", "--input", slo.to_str().unwrap()]);
        assert!(
            rules.contains("sloth_slo"),
            "{name}: no SLO rules:\n{rules}"
        );
        let rules_file = tmp.path().join(format!("{name}.rules.yaml"));
        std::fs::write(&rules_file, &rules).unwrap();
        if let Some(out) = pave_testkit::prometheus::check_rules(&rules_file) {
            assert!(
                out.status.success(),
                "promtool check rules {name}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }

        // Manifests for every environment.
        let deploy = repo.join("deploy");
        let score = repo.join("score.yaml");
        run_ok(&[
            "render",
            score.to_str().unwrap(),
            "--image",
            IMAGE,
            "-o",
            deploy.to_str().unwrap(),
        ]);
        for env in ["dev", "staging", "prod"] {
            let overlay = deploy.join("overlays").join(env);
            assert!(overlay.join("kustomization.yaml").is_file(), "{name} {env}");
            let Some(kubectl) = &kubectl else { continue };
            let built = kustomize(kubectl, &overlay);
            let file = tmp.path().join(format!("{name}-{env}.yaml"));
            std::fs::write(&file, &built).unwrap();
            let (findings, checked) = check("restricted", &[&file]);
            assert!(findings.is_empty(), "{name} {env}: {findings:#?}");
            let objects: Vec<Value> =
                pave_yaml::parse_documents(&built, &pave_yaml::Limits::default())
                    .unwrap()
                    .into_iter()
                    .map(|d| d.value)
                    .filter(|v| !v.is_null())
                    .collect();
            assert_eq!(checked.len(), objects.len(), "{name} {env}");
            let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
            let workload = if *template == "batch-job" {
                "CronJob"
            } else {
                "Deployment"
            };
            for kind in [workload, "ServiceAccount", "NetworkPolicy"] {
                assert!(
                    kinds.contains(&kind),
                    "{name} {env}: no {kind} in {kinds:?}"
                );
            }
            // Scraped: a PodMonitor for the service and the worker; the job's CronJob has a
            // time limit and a time zone.
            assert_eq!(
                kinds.contains(&"PodMonitor"),
                *template != "batch-job",
                "{name} {env}: {kinds:?}"
            );
            if let Some(cron) = objects.iter().find(|o| o["kind"] == "CronJob") {
                assert!(
                    cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"].is_u64(),
                    "{name} {env}: {cron}"
                );
                assert_eq!(cron["spec"]["timeZone"], "Etc/UTC", "{name} {env}");
            }
            if env == "prod" && *template != "batch-job" {
                for kind in ["HorizontalPodAutoscaler", "PodDisruptionBudget"] {
                    assert!(kinds.contains(&kind), "{name} prod: no {kind} in {kinds:?}");
                }
            }
            if let Some(dir) = &schemas {
                validated += validate_schemas(dir, &objects);
            }
        }
    }
    if schemas.is_some() && kubectl.is_some() {
        assert!(validated > 50, "only {validated} objects had a schema");
        eprintln!("validated {validated} objects against the Kubernetes schemas");
    }
}

#[test]
fn builtin_upgrade_keeps_local_edits() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("orders");
    let out = pave()
        .args([
            "new",
            "api-service",
            repo.to_str().unwrap(),
            "--ref",
            "1.0.0",
        ])
        .args([
            "--set",
            "name=orders",
            "--set",
            "owner=team-a",
            "--set",
            "system=shop",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !repo.join(".github/CODEOWNERS").exists(),
        "1.0.0 has no CODEOWNERS"
    );

    // The team edits a file the template does not change, and one it does (elsewhere).
    let main_go = repo.join("main.go");
    let edited_main = std::fs::read_to_string(&main_go).unwrap().replace(
        r#"`{"service":"orders"}`"#,
        r#"`{"service":"orders","v":2}`"#,
    );
    std::fs::write(&main_go, &edited_main).unwrap();
    let runbook = repo.join("docs/runbook.md");
    let edited_runbook = format!(
        "{}\n## Known issues\n\nThe nightly export slows requests down at 02:00.\n",
        std::fs::read_to_string(&runbook).unwrap()
    );
    std::fs::write(&runbook, &edited_runbook).unwrap();

    // Behind: drift says so (exit 1) with both versions.
    let out = pave()
        .args(["--output", "json", "drift", repo.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let drift: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(drift[0]["version"], "1.0.0", "{drift}");
    assert_eq!(drift[0]["latest"], "1.2.0", "{drift}");

    let out = pave()
        .args(["update", repo.to_str().unwrap(), "--to", "1.1.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // Untouched files took the new version, edited files kept the edits and gained the
    // template's changes, new files arrived, and the answers record the new version.
    assert_eq!(std::fs::read_to_string(&main_go).unwrap(), edited_main);
    let runbook_now = std::fs::read_to_string(&runbook).unwrap();
    assert!(runbook_now.contains("## Known issues"), "{runbook_now}");
    assert!(
        runbook_now.contains("## Pods crash-looping"),
        "{runbook_now}"
    );
    assert!(!runbook_now.contains("<<<<<<<"), "{runbook_now}");
    assert!(
        std::fs::read_to_string(repo.join("Dockerfile"))
            .unwrap()
            .contains("golang:1.23"),
    );
    assert!(repo.join(".github/CODEOWNERS").is_file());
    let answers = std::fs::read_to_string(repo.join(".pave/answers.yaml")).unwrap();
    assert!(answers.contains("version: \"1.1.0\""), "{answers}");
    let catalog = std::fs::read_to_string(repo.join("catalog-info.yaml")).unwrap();
    assert!(
        catalog.contains("pave.dev/template-version: \"1.1.0\""),
        "{catalog}"
    );
}
