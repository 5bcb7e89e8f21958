//! End-to-end: the fixtures render for every environment into layouts that `kubectl kustomize`
//! builds, whose output passes pave's own guardrails and the Kubernetes JSON schemas.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;

use pave_testkit::k8s::{kubectl, kustomize, schema_dir, validate_schemas};

use pave_policy::{Exceptions, Policy, PolicyConfig, Profile, RuleSettings};
use pave_workload::{
    Environment, Layout, NoFiles, Provisioners, RenderOptions, Rendered, Workload, render,
};
use serde_json::Value;

const FIXTURES: [(&str, Option<&str>); 3] = [
    ("api.score.yaml", None),
    (
        "worker.score.yaml",
        Some("ghcr.io/northwind/invoice-worker:2.0.1"),
    ),
    ("batch.score.yaml", None),
];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn render_fixture(name: &str, image: Option<&str>) -> Rendered {
    let w = Workload::parse(name, &fixture(name)).unwrap();
    let options = RenderOptions {
        image: image.map(str::to_owned),
        ..RenderOptions::default()
    };
    render(&w, &Provisioners::builtin(), &NoFiles, &options).unwrap()
}

fn write(layout: &Layout, dir: &Path) {
    for (path, text) in &layout.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The objects of one environment: what `kubectl kustomize overlays/<env>` prints, or (without
/// kubectl) the rendered objects with the namespace set.
fn built(rendered: &Rendered, dir: &Path, env: Environment) -> (String, Vec<Value>) {
    if let Some(kubectl) = kubectl() {
        let text = kustomize(&kubectl, &dir.join("overlays").join(env.as_str()));
        let docs = pave_yaml::parse_documents(&text, &pave_yaml::Limits::default())
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .filter(|v| !v.is_null())
            .collect();
        return (text, docs);
    }
    let e = rendered
        .environments
        .iter()
        .find(|e| e.environment == env)
        .unwrap();
    let objects: Vec<Value> = e
        .objects
        .iter()
        .cloned()
        .map(|mut o| {
            o["metadata"]["namespace"] = Value::String(e.namespace.clone());
            o
        })
        .collect();
    let text = objects
        .iter()
        .map(pave_yaml::to_yaml_string)
        .collect::<Vec<_>>()
        .join("---\n");
    (text, objects)
}

fn findings(text: &str, profile: Profile, settings: RuleSettings) -> Vec<String> {
    let policy = Policy::new(
        PolicyConfig {
            profile,
            settings,
            ..PolicyConfig::default()
        },
        Exceptions::default(),
    );
    let docs =
        pave_policy::load("rendered.yaml", text.to_owned(), None, &Default::default()).unwrap();
    assert!(!docs.is_empty());
    let report = policy.check(&docs, Vec::new(), 0);
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}: {}",
                f.rule,
                f.severity.as_str(),
                f.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
                f.message
            )
        })
        .collect()
}

#[test]
fn fixtures_are_compliant_in_every_environment() {
    let schemas = schema_dir();
    if schemas.is_none() {
        eprintln!(
            "note: ../shared/corpus/kubernetes-schemas not found; skipping schema validation"
        );
    }
    let mut validated = 0;
    let mut recommended = Vec::new();
    for (name, image) in FIXTURES {
        let rendered = render_fixture(name, image);
        assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
        let tmp = tempfile::tempdir().unwrap();
        write(&rendered.layout(), tmp.path());
        for env in Environment::ALL {
            let (text, objects) = built(&rendered, tmp.path(), env);
            let restricted = findings(&text, Profile::Restricted, RuleSettings::default());
            assert!(
                restricted.is_empty(),
                "{name} {env}: restricted findings:\n{}",
                restricted.join("\n")
            );
            // The recommended profile, with dev not counted as production.
            let settings = RuleSettings {
                production_namespaces: vec!["staging".into(), "prod".into()],
                ..RuleSettings::default()
            };
            for f in findings(&text, Profile::Recommended, settings) {
                recommended.push(format!("{name} {env}: {f}"));
            }
            if let Some(dir) = &schemas {
                validated += validate_schemas(dir, &objects);
            }
        }
    }
    assert!(
        recommended.is_empty(),
        "recommended findings:\n{}",
        recommended.join("\n")
    );
    if schemas.is_some() {
        assert!(validated > 0);
        eprintln!("validated {validated} objects against the Kubernetes v1.32.2 schemas");
    }
}

#[test]
fn output_is_deterministic_and_dev_layout_snapshot() {
    let a = render_fixture("api.score.yaml", None).layout();
    let b = render_fixture("api.score.yaml", None).layout();
    assert_eq!(a, b);
    // One layout in full: the HTTP API in dev only (everything in base).
    let w = Workload::parse("api.score.yaml", &fixture("api.score.yaml")).unwrap();
    let options = RenderOptions {
        environments: vec![Environment::Dev],
        ..RenderOptions::default()
    };
    let layout = render(&w, &Provisioners::builtin(), &NoFiles, &options)
        .unwrap()
        .layout();
    let text: String = layout
        .files
        .iter()
        .map(|(path, text)| format!("=== {path}\n{text}"))
        .collect();
    insta::assert_snapshot!(text);
}

#[test]
fn secrets_reach_containers_only_as_secret_key_refs() {
    let rendered = render_fixture("api.score.yaml", None);
    let deployment = rendered.environments[0]
        .objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let by_name = |n: &str| env.iter().find(|e| e["name"] == n).unwrap();
    assert_eq!(
        by_name("DB_PASSWORD")["valueFrom"]["secretKeyRef"],
        serde_json::json!({"name": "payments-api-db-postgres", "key": "password"})
    );
    assert_eq!(by_name("PRICE_FORMAT")["value"], "$0.00");
    assert_eq!(by_name("APP_NAME")["value"], "payments-api");
    let url = by_name("DATABASE_URL")["value"].as_str().unwrap();
    assert!(url.starts_with("postgresql://$(PAVE_SECRET_"), "{url}");
    assert!(url.ends_with(":5432/payments"), "{url}");
    // Helpers come before the variables that use them.
    let first_helper = env
        .iter()
        .position(|e| e["name"].as_str().unwrap().starts_with("PAVE_SECRET_"))
        .unwrap();
    let url_at = env
        .iter()
        .position(|e| e["name"] == "DATABASE_URL")
        .unwrap();
    assert!(first_helper < url_at);
    for e in env {
        if let Some(v) = e["value"].as_str() {
            assert!(!v.contains('\u{E000}'), "{e}");
        }
    }
}

/// Conformance with the Score specification's own schema and sample (when the research
/// corpus is present, as in CI).
#[test]
fn score_schema_conformance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/score");
    let Ok(schema) = std::fs::read_to_string(dir.join("score-v1b1.json")) else {
        eprintln!(
            "note: ../shared/corpus/score not found; skipping the Score schema conformance test"
        );
        return;
    };
    let schema: Value = serde_json::from_str(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut cases: Vec<(String, String)> = FIXTURES
        .iter()
        .map(|(n, _)| ((*n).to_owned(), fixture(n)))
        .collect();
    for sample in ["score-full.yaml", "score-deprecated-files-and-volumes.yaml"] {
        cases.push((
            sample.to_owned(),
            std::fs::read_to_string(dir.join(sample)).unwrap(),
        ));
    }
    // Invalid documents: both validators must refuse them.
    let head = "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\n";
    let invalid = [
        format!("{head}containers: {{}}\n"),
        format!("{head}containers:\n  main: {{image: x, extra: 1}}\n"),
        format!(
            "{head}containers:\n  main:\n    image: x\n    resources: {{limits: {{cpu: 1core}}}}\n"
        ),
        format!(
            "{head}containers:\n  main: {{image: x}}\nresources:\n  db: {{type: postgres, id: Bad_Id}}\n"
        ),
        format!(
            "{head}containers:\n  main: {{image: x}}\nservice:\n  ports:\n    web: {{port: 80, protocol: SCTP}}\n"
        ),
        "apiVersion: score.dev/v1b1\nmetadata: {name: x}\ncontainers:\n  main: {image: x}\n"
            .to_owned(),
    ];
    for (name, text) in &cases {
        let value = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()).unwrap()[0]
            .value
            .clone();
        assert!(
            validator.is_valid(&value),
            "{name}: the Score schema refuses it"
        );
        Workload::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for text in &invalid {
        let value = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()).unwrap()[0]
            .value
            .clone();
        assert!(!validator.is_valid(&value), "schema accepts:\n{text}");
        assert!(
            Workload::parse("x.yaml", text).is_err(),
            "pave accepts:\n{text}"
        );
    }
}

fn render_one(text: &str, env: Environment) -> Vec<Value> {
    let w = Workload::parse("score.yaml", text).unwrap();
    let options = RenderOptions {
        environments: vec![env],
        image: None,
        namespace: None,
    };
    render(&w, &Provisioners::builtin(), &NoFiles, &options)
        .unwrap()
        .environments
        .remove(0)
        .objects
}

#[test]
fn metrics_annotations_make_a_pod_monitor_on_a_named_port() {
    let objects = render_one(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: queue-worker\n  annotations:\n    pave.dev/metrics-port: metrics\n    pave.dev/metrics-path: /stats\nservice:\n  ports:\n    metrics: {port: 9090}\ncontainers:\n  main: {image: ghcr.io/x/w:1.0.0}\n",
        Environment::Prod,
    );
    let monitor = objects.iter().find(|o| o["kind"] == "PodMonitor").unwrap();
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["spec"]["jobLabel"], "app.kubernetes.io/name");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "queue-worker"
    );
    assert_eq!(
        monitor["spec"]["podMetricsEndpoints"],
        serde_json::json!([{"port": "metrics", "path": "/stats", "interval": "30s"}])
    );
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["app.kubernetes.io/name"], "queue-worker");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"],
        serde_json::json!([{"containerPort": 9090, "protocol": "TCP", "name": "metrics"}])
    );
    // The scrape gets through the network policy and the Service exists.
    let allow = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "queue-worker-allow")
        .unwrap();
    assert_eq!(
        allow["spec"]["ingress"][0]["ports"],
        serde_json::json!([{"port": 9090, "protocol": "TCP"}])
    );
    assert!(objects.iter().any(|o| o["kind"] == "Service"));
    // Without the annotation there is no monitor.
    let plain = render_one(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\nservice:\n  ports:\n    http: {port: 80, targetPort: 8080}\ncontainers:\n  main: {image: ghcr.io/x/w:1.0.0}\n",
        Environment::Dev,
    );
    assert!(!plain.iter().any(|o| o["kind"] == "PodMonitor"));
}

#[test]
fn cron_jobs_get_a_deadline_time_zone_and_concurrency_policy() {
    let objects = render_one(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: nightly\n  annotations:\n    pave.dev/workload-kind: CronJob\n    pave.dev/schedule: \"0 3 * * *\"\n    pave.dev/time-zone: Europe/Berlin\n    pave.dev/active-deadline-seconds: \"1800\"\n    pave.dev/concurrency-policy: Replace\ncontainers:\n  main: {image: ghcr.io/x/j:1.0.0}\n",
        Environment::Prod,
    );
    let cron = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(cron["spec"]["timeZone"], "Europe/Berlin");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Replace");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
        1800
    );
    let default = render_one(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: nightly\n  annotations:\n    pave.dev/workload-kind: CronJob\n    pave.dev/schedule: \"@daily\"\ncontainers:\n  main: {image: ghcr.io/x/j:1.0.0}\n",
        Environment::Prod,
    );
    let cron = default.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert!(cron["spec"].get("timeZone").is_none());
}
