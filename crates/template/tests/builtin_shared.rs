//! The built-in golden paths repeat some files on purpose: each generated repository stands
//! alone, so the telemetry, runtime metrics, CI helper and toolchain files of one release are
//! copies. This keeps the copies of the newest release identical, so a fix lands in all of them.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn skeleton(template: &str, version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("builtin")
        .join(template)
        .join(version)
        .join("skeleton")
}

#[test]
fn files_shared_by_the_built_in_templates_stay_identical() {
    const VERSION: &str = "1.2.0";
    let groups: &[(&str, &[&str])] = &[
        (
            "telemetry.go",
            &["api-service", "async-worker", "batch-job"],
        ),
        ("runtime_metrics.go", &["api-service", "async-worker"]),
        (
            "ci/promote.sh",
            &["api-service", "async-worker", "batch-job"],
        ),
        ("CODEOWNERS", &["api-service", "async-worker", "batch-job"]),
        (
            ".golangci.yml",
            &["api-service", "async-worker", "batch-job"],
        ),
        ("go.mod", &["api-service", "async-worker", "batch-job"]),
        (".gitlab-ci.yml", &["api-service", "async-worker"]),
        (
            ".github/workflows/ci.yaml",
            &["api-service", "async-worker"],
        ),
        ("renovate.json", &["api-service", "async-worker"]),
        (".gitignore", &["api-service", "async-worker"]),
        ("tsconfig.json", &["api-service", "async-worker"]),
        ("eslint.config.mjs", &["api-service", "async-worker"]),
    ];
    for (file, templates) in groups {
        let first = std::fs::read_to_string(skeleton(templates[0], VERSION).join(file))
            .unwrap_or_else(|e| panic!("{}/{file}: {e}", templates[0]));
        for t in &templates[1..] {
            let other = std::fs::read_to_string(skeleton(t, VERSION).join(file))
                .unwrap_or_else(|e| panic!("{t}/{file}: {e}"));
            assert_eq!(
                first, other,
                "{file} differs between {} and {t}",
                templates[0]
            );
        }
    }
    // The worker's telemetry differs from the API's only where it says so (no HTTP
    // instrumentation, a span per message).
    for (file, api, worker) in [
        ("src/telemetry.ts", "api-service", "async-worker"),
        ("app/telemetry.py", "api-service", "async-worker"),
    ] {
        let a = std::fs::read_to_string(skeleton(api, VERSION).join(file)).unwrap();
        let w = std::fs::read_to_string(skeleton(worker, VERSION).join(file)).unwrap();
        assert!(
            a.contains("export function traceFields") || a.contains("def setup_logging"),
            "{file}"
        );
        for needle in [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "grpc",
            "OTEL_SDK_DISABLED",
        ] {
            assert!(a.contains(needle) && w.contains(needle), "{file}: {needle}");
        }
    }
}
