//! End-to-end: the fixtures render for every environment into layouts that `kubectl kustomize`
//! builds, whose output passes pave's own guardrails and the Kubernetes JSON schemas.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// `kubectl`, or `None` with a note; panics under `CI=true`.
fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl is required under CI=true (apt-get install kubernetes-client)"
        );
        eprintln!("note: kubectl not found; checking the in-memory objects instead");
    }
    found
}

/// The objects of one environment: what `kubectl kustomize overlays/<env>` prints, or (without
/// kubectl) the rendered objects with the namespace set.
fn built(rendered: &Rendered, dir: &Path, env: Environment) -> (String, Vec<Value>) {
    if let Some(kubectl) = kubectl() {
        let out = Command::new(kubectl)
            .arg("kustomize")
            .arg(dir.join("overlays").join(env.as_str()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize overlays/{env} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
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

fn schema_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/kubernetes-schemas/v1.32.2-standalone-strict");
    dir.is_dir().then_some(dir)
}

/// Validates each object against its schema; returns how many had one.
fn validate_schemas(dir: &Path, objects: &[Value]) -> usize {
    let mut validated = 0;
    for o in objects {
        let api = o["apiVersion"].as_str().unwrap();
        let kind = o["kind"].as_str().unwrap().to_ascii_lowercase();
        let file = match api.split_once('/') {
            Some((group, version)) => {
                format!("{kind}-{}-{version}.json", group.split('.').next().unwrap())
            }
            None => format!("{kind}-{api}.json"),
        };
        let path = dir.join(&file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // a custom resource: no schema
        };
        let schema: Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(o)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} {} fails {file}:\n{}",
            o["kind"],
            o["metadata"]["name"],
            errors.join("\n")
        );
        validated += 1;
    }
    validated
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
