//! Kubernetes validators for tests: `kubectl kustomize` and the Kubernetes JSON schemas in
//! `../shared/corpus/kubernetes-schemas` (present in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `kubectl`, or `None` with a note; panics under `CI=true`, where it must be installed.
pub fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        crate::skip("kubectl (1.27 or later, for kustomize v5) is not installed");
    }
    found
}

/// What `kubectl kustomize <dir>` prints; panics when it fails.
pub fn kustomize(kubectl: &Path, dir: &Path) -> String {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The Kubernetes v1.32.2 strict standalone schemas, when the shared corpus is there.
pub fn schema_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/kubernetes-schemas/v1.32.2-standalone-strict");
    dir.is_dir().then_some(dir)
}

/// Validates each object against the schema of its kind; returns how many had one (custom
/// resources have none). Panics with every violation of the first object that fails.
pub fn validate_schemas(dir: &Path, objects: &[Value]) -> usize {
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
