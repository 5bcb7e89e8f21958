//! Cost of evaluating conftest-style Kubernetes policies: load once, then check 1,000
//! Deployments. Run with `cargo run -p pave-policy-rego --example measure [--release] [N]`.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use pave_policy::CustomPolicies;
use pave_policy_rego::{RegoOptions, RegoPolicies};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let mut yaml = String::new();
    for i in 0..n {
        // Alternate compliant and failing Deployments.
        let (labels, non_root, tag) = if i % 2 == 0 {
            (
                "app.kubernetes.io/instance: i\n    app.kubernetes.io/version: \"1\"\n    ",
                "true",
                "1.0",
            )
        } else {
            ("", "false", "latest")
        };
        yaml.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels:\n    {labels}app.kubernetes.io/name: app-{i}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{i}, release: stable}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      securityContext: {{runAsNonRoot: {non_root}}}\n      containers:\n      - name: web\n        image: example/web:{tag}\n        ports: [{{containerPort: 8080}}]\n      - name: sidecar\n        image: example/proxy:2.1\n"
        ));
    }
    let docs = pave_policy::load("deployments.yaml", yaml, None, &Default::default()).unwrap();

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubernetes/policy");
    let start = Instant::now();
    let policies = RegoPolicies::load(&[dir], &[], RegoOptions::default()).unwrap();
    println!("load and compile: {:?}", start.elapsed());

    // Warm up, then measure.
    for d in docs.iter().take(10) {
        policies.evaluate(d).unwrap();
    }
    let start = Instant::now();
    let mut findings = 0;
    for d in &docs {
        findings += policies.evaluate(d).unwrap().len();
    }
    let elapsed = start.elapsed();
    println!(
        "{} documents, {findings} findings: {elapsed:?}, {:.1} µs per document ({} rules)",
        docs.len(),
        elapsed.as_secs_f64() * 1e6 / docs.len() as f64,
        policies.rules().len()
    );

    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in docs.chunks(docs.len().div_ceil(2)) {
            let policies = &policies;
            s.spawn(move || {
                for d in chunk {
                    policies.evaluate(d).unwrap();
                }
            });
        }
    });
    println!("on 2 threads: {:?}", start.elapsed());
}
