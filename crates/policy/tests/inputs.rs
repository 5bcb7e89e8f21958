//! The built-in rules over realistic inputs of each non-Kubernetes kind: a `terraform show
//! -json` plan with nested modules, multi-stage Dockerfiles, workflows and catalog files.
//! Good fixtures have no findings; bad ones exactly the expected rule ids, each with a
//! position.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::Path;

use pave_policy::{DocKind, Document, Exceptions, Finding, Policy, PolicyConfig};

fn load(fixture: &str) -> Vec<Document> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let text = std::fs::read_to_string(&path).unwrap();
    pave_policy::load(fixture, text, None, &pave_yaml::Limits::default()).unwrap()
}

fn findings(fixture: &str, kind: DocKind) -> Vec<Finding> {
    let docs = load(fixture);
    assert!(!docs.is_empty(), "{fixture}: no documents");
    assert!(
        docs.iter().all(|d| d.kind == kind),
        "{fixture}: detected as {:?}",
        docs.iter().map(|d| d.kind).collect::<Vec<_>>()
    );
    let report =
        Policy::new(PolicyConfig::default(), Exceptions::default()).check(&docs, Vec::new(), 0);
    assert!(report.errors.is_empty(), "{fixture}: {:?}", report.errors);
    for f in &report.findings {
        assert!(
            f.line.is_some() && f.column.is_some(),
            "{fixture}: {} has no position",
            f.rule
        );
    }
    report.findings
}

fn assert_ids(fixture: &str, kind: DocKind, expected: &[&str]) {
    let found = findings(fixture, kind);
    let ids: BTreeSet<&str> = found.iter().map(|f| &*f.rule).collect();
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(
        ids,
        expected,
        "{fixture}:\n{}",
        found
            .iter()
            .map(|f| format!(
                "  {}:{} {} {}",
                f.line.unwrap_or(0),
                f.column.unwrap_or(0),
                f.rule,
                f.message
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// (rule, line) pairs, for spot checks of positions.
fn lines(fixture: &str, kind: DocKind) -> Vec<(String, u32)> {
    findings(fixture, kind)
        .into_iter()
        .map(|f| (f.rule.into_owned(), f.line.unwrap()))
        .collect()
}

#[test]
fn terraform_plans() {
    assert_ids("terraform/good.json", DocKind::TerraformPlan, &[]);
    assert_ids(
        "terraform/bad.json",
        DocKind::TerraformPlan,
        &[
            "tf-db-public",
            "tf-iam-admin-policy",
            "tf-required-tags",
            "tf-s3-encryption",
            "tf-s3-public-access-block",
            "tf-s3-public-access-block-missing",
            "tf-s3-public-acl",
            "tf-sg-open-admin-port",
            "tf-storage-unencrypted",
        ],
    );
    // Findings in a nested module point into it.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/bad.json"),
    )
    .unwrap();
    let public = lines("terraform/bad.json", DocKind::TerraformPlan)
        .into_iter()
        .find(|(rule, _)| rule == "tf-db-public")
        .unwrap()
        .1;
    let expected = text
        .lines()
        .position(|l| l.contains("\"publicly_accessible\": true"))
        .unwrap();
    assert_eq!(public as usize, expected + 1);
}

#[test]
fn dockerfiles() {
    assert_ids("docker/Dockerfile.good", DocKind::Dockerfile, &[]);
    assert_ids(
        "docker/Dockerfile.bad",
        DocKind::Dockerfile,
        &[
            "docker-add-local",
            "docker-add-url",
            "docker-apt-cleanup",
            "docker-apt-no-recommends",
            "docker-base-unpinned",
            "docker-healthcheck",
            "docker-root-user",
            "docker-secret-arg",
            "docker-secret-env",
            "docker-sudo",
        ],
    );
    let got = lines("docker/Dockerfile.bad", DocKind::Dockerfile);
    assert!(got.contains(&("docker-base-unpinned".into(), 2)), "{got:?}");
    assert!(got.contains(&("docker-root-user".into(), 20)), "{got:?}");
}

#[test]
fn workflows() {
    assert_ids("gha/good.yml", DocKind::GithubWorkflow, &[]);
    assert_ids(
        "gha/bad.yml",
        DocKind::GithubWorkflow,
        &[
            "gha-action-unpinned",
            "gha-permissions-missing",
            "gha-permissions-write-all",
            "gha-pr-target-checkout",
            "gha-script-injection",
        ],
    );
    let got = lines("gha/bad.yml", DocKind::GithubWorkflow);
    assert!(
        got.contains(&("gha-pr-target-checkout".into(), 13)),
        "{got:?}"
    );
    assert!(
        got.contains(&("gha-script-injection".into(), 19)),
        "{got:?}"
    );
}

#[test]
fn catalog_entities() {
    assert_ids("catalog/good.yaml", DocKind::Catalog, &[]);
    assert_ids(
        "catalog/bad.yaml",
        DocKind::Catalog,
        &[
            "catalog-description-missing",
            "catalog-lifecycle-missing",
            "catalog-owner-missing",
            "catalog-owner-user",
            "catalog-system-missing",
            "catalog-techdocs-missing",
        ],
    );
    let got = lines("catalog/bad.yaml", DocKind::Catalog);
    assert!(got.contains(&("catalog-owner-user".into(), 9)), "{got:?}");
    assert!(
        got.contains(&("catalog-owner-missing".into(), 16)),
        "{got:?}"
    );
}

/// 10,000 documents through every built-in rule. A budget check, run in release builds:
/// `cargo test -p pave-policy --release --test inputs -- --ignored --nocapture`
/// (`PAVE_RULE_TIMES=1` prints each rule's time).
#[test]
#[ignore = "timing; run in release"]
fn ten_thousand_documents() {
    // 2,500 documents of each kind (copies share their source text, as documents of one
    // file do).
    let mut docs = Vec::new();
    for fixture in [
        "terraform/bad.json",
        "docker/Dockerfile.bad",
        "gha/bad.yml",
        "catalog/bad.yaml",
    ] {
        let once = load(fixture);
        docs.extend(once.iter().cycle().take(2_500).cloned());
    }
    let rules = pave_policy::rules::builtin();
    let settings = pave_policy::RuleSettings::default();
    let ctx = pave_policy::rule::Context {
        docs: &docs,
        settings: &settings,
    };
    let start = std::time::Instant::now();
    let mut raw = Vec::new();
    for rule in &rules {
        let t = std::time::Instant::now();
        rule.check(&ctx, &mut raw);
        if std::env::var("PAVE_RULE_TIMES").is_ok() {
            eprintln!("{:40} {:?}", rule.meta().id, t.elapsed());
        }
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{} documents, {} findings, {elapsed:?}",
        docs.len(),
        raw.len()
    );
    assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
}

#[test]
fn the_exceptions_process_rules_are_listed_and_configurable() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations: {pave.dev/exempt: pss-privileged}\nspec:\n  containers: [{name: web, image: nginx:1.27}]\n";
    let docs = pave_policy::load(
        "pod.yaml",
        pod.to_owned(),
        None,
        &pave_yaml::Limits::default(),
    )
    .unwrap();
    let run = |config: &str| {
        let config = PolicyConfig::parse("pave-policy.yaml", config).unwrap();
        let policy = Policy::new(config, Exceptions::default());
        let unknown = policy.unknown_rule_ids();
        (policy.check(&docs, Vec::new(), 0), unknown)
    };
    let listed = |report: &pave_policy::Report, id: &str| report.rules.iter().any(|r| r.id == id);
    // Listed by default (what --list-rules shows), and reported.
    let (report, _) = run("profile: recommended\n");
    assert!(listed(&report, "pave-exception-expired"));
    assert!(listed(&report, "pave-exemption-unregistered"));
    let unregistered: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "pave-exemption-unregistered")
        .collect();
    assert_eq!(unregistered.len(), 1);
    assert_eq!(unregistered[0].severity, pave_policy::Severity::High);
    // The configuration knows them: a severity, or off.
    let (report, unknown) = run("rules:\n  pave-exemption-unregistered: {severity: low}\n");
    assert!(unknown.is_empty(), "{unknown:?}");
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "pave-exemption-unregistered")
        .unwrap();
    assert_eq!(f.severity, pave_policy::Severity::Low);
    let (report, unknown) = run("disable: [pave-exemption-unregistered, pave-exception-expired]\n");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert!(!report.findings.iter().any(|f| f.rule.starts_with("pave-")));
    assert!(!listed(&report, "pave-exemption-unregistered"));
}

#[test]
fn streaming_gives_the_same_report_as_checking_everything_at_once() {
    // Workloads, the objects that relate to them, and a violation of each kind of rule, split
    // into batches as `pave check` reads a large file.
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{i}, namespace: shop, labels: {{app: web-{i}}}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web-{i}}}}}\n  template:\n    metadata: {{labels: {{app: web-{i}}}}}\n    spec:\n      serviceAccountName: sa-{i}\n      volumes: [{{name: data, emptyDir: {{}}}}]\n      containers:\n      - name: app\n        image: nginx:latest\n        securityContext: {{privileged: {privileged}}}\n",
            replicas = 1 + i % 3,
            privileged = i % 2 == 0,
        ));
        if i % 3 == 0 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: web-{i}, namespace: shop}}\nspec:\n  selector: {{app: web-{}}}\n  ports: [{{port: 80}}]\n",
                if i % 2 == 0 { i } else { 1000 + i }
            ));
        }
        if i % 5 == 0 {
            text.push_str(&format!(
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web-{i}, namespace: shop}}\nspec:\n  maxUnavailable: 0\n  selector: {{matchLabels: {{app: web-{i}}}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: shop}}\ndata: {{password: hunter2}}\n"
            ));
        }
    }
    let docs = pave_policy::load(
        "all.yaml",
        text.clone(),
        None,
        &pave_yaml::Limits::default(),
    )
    .unwrap();
    let policy = Policy::new(PolicyConfig::default(), Exceptions::default());
    let whole = policy.check(&docs, Vec::new(), 0);

    // The same text in three parts, each loaded with its first line, as the reader does.
    let starts: Vec<usize> = text.match_indices("---\n").map(|(i, _)| i).collect();
    let cuts = [
        0,
        starts[starts.len() / 3],
        starts[2 * starts.len() / 3],
        text.len(),
    ];
    let mut streaming = policy.streaming(0);
    for part in cuts.windows(2) {
        let first_line = text[..part[0]].matches('\n').count() as u32 + 1;
        let chunk = text[part[0]..part[1]].to_owned();
        streaming.add(
            pave_policy::load_at(
                "all.yaml",
                chunk,
                first_line,
                None,
                &pave_yaml::Limits::default(),
            )
            .unwrap(),
        );
    }
    let streamed = streaming.finish();
    let view = |r: &pave_policy::Report| -> Vec<(String, String, Option<u32>, Option<u32>)> {
        r.findings
            .iter()
            .map(|f| (f.rule.to_string(), f.message.clone(), f.line, f.column))
            .collect()
    };
    let rules: BTreeSet<String> = whole.findings.iter().map(|f| f.rule.to_string()).collect();
    for cross in [
        "k8s-pdb",
        "k8s-pdb-zero-disruptions",
        "k8s-service-selector",
        "k8s-automount-token",
        "k8s-replicas",
        "k8s-topology-spread",
    ] {
        assert!(rules.contains(cross), "{cross} in {rules:?}");
    }
    assert_eq!(view(&streamed), view(&whole));
    assert_eq!(streamed.checked.len(), whole.checked.len());
}
