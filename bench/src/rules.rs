//! Built-in rule cost, rule by rule: loading, every built-in rule, the three slowest, and
//! `Policy::check` with positions, on 10,000 Deployments in 100 namespaces and on 2,000 apps of
//! five related objects. In-process figures for finding a slow rule; `bench/check.sh` has the
//! end-to-end ones against Checkov.
//!
//! Usage: `cargo run --release -p pave-bench --bin rules-bench [N]` (default 10000).

#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use pave_policy::rule::Context;
use pave_policy::{Document, Exceptions, Policy, PolicyConfig, RuleSettings};

fn load(text: &str) -> Vec<Document> {
    match pave_policy::load(
        "bench.yaml",
        text.to_owned(),
        None,
        &pave_yaml::Limits::default(),
    ) {
        Ok(docs) => docs,
        Err(e) => panic!("generated input does not load: {e}"),
    }
}

fn best_of_3(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let n = f();
            (t.elapsed(), n)
        })
        .min()
        .unwrap_or_default()
}

fn measure(what: &str, text: &str) {
    let (loaded, n) = best_of_3(|| load(text).len());
    let docs = load(text);
    let settings = RuleSettings::default();
    let ctx = Context {
        docs: &docs,
        settings: &settings,
    };
    let rules = pave_policy::rules::builtin();
    let (all, found) = best_of_3(|| {
        let mut out = Vec::new();
        for r in &rules {
            r.check(&ctx, &mut out);
        }
        out.len()
    });
    let mut slowest: Vec<(Duration, &str)> = rules
        .iter()
        .map(|r| {
            let (t, _) = best_of_3(|| {
                let mut out = Vec::new();
                r.check(&ctx, &mut out);
                out.len()
            });
            (t, r.meta().id)
        })
        .collect();
    slowest.sort_by(|a, b| b.cmp(a));
    let policy = Policy::new(PolicyConfig::default(), Exceptions::default());
    let (checked, reported) = best_of_3(|| policy.check(&docs, Vec::new(), 0).findings.len());
    println!("{what} ({n} documents)");
    println!("  load                      {loaded:>10.1?}");
    println!("  all built-in rules        {all:>10.1?}  ({found} findings)");
    println!("  Policy::check (positions) {checked:>10.1?}  ({reported} reported)");
    for (t, id) in slowest.iter().take(3) {
        println!("  slowest: {id:<30} {t:.1?}");
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);

    // Deployments in 100 namespaces, each with several findings.
    let mut text = String::new();
    for i in 0..n {
        let ns = i % 100;
        let _ = write!(
            text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\n  labels: {{owner: team-{ns}}}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}, team: team-{ns}}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/app-{i}:1.{i}\n        resources:\n          requests: {{cpu: 100m, memory: 128Mi}}\n        readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}\n",
            r = 1 + i % 3,
        );
    }
    measure(&format!("{n} Deployments"), &text);

    // Apps of five related objects (the rules that relate documents index them).
    let mut text = String::new();
    for i in 0..n / 5 {
        let ns = i % 100;
        let _ = write!(
            text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{i}, namespace: ns-{ns}}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: web-{i}}}}}\n  template:\n    metadata: {{labels: {{app: web-{i}}}}}\n    spec:\n      serviceAccountName: web-{i}\n      containers: [{{name: web, image: \"registry.example.com/web@sha256:{digest}\"}}]\n\
---\napiVersion: v1\nkind: Service\nmetadata: {{name: web-{i}, namespace: ns-{ns}}}\nspec: {{selector: {{app: web-{i}}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web-{i}, namespace: ns-{ns}}}\nspec: {{minAvailable: 1, selector: {{matchLabels: {{app: web-{i}}}}}}}\n\
---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: web-{i}, namespace: ns-{ns}}}\nautomountServiceAccountToken: false\n\
---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-{i}, namespace: ns-{ns}}}\nspec: {{podSelector: {{matchLabels: {{app: web-{i}}}}}, policyTypes: [Ingress]}}\n",
            digest = "a".repeat(64),
        );
    }
    measure(&format!("{} apps × 5 related objects", n / 5), &text);
}
