//! `pave serve` with SLOs attached to catalog entities (`pave.dev/slo`): the entity page lists
//! them, shows spec problems with their position, and (with `--prometheus-url`) live budget
//! and burn rates from a real Prometheus.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::Server;
use pave_testkit::prometheus::{TestPrometheus, sloth};

fn component(name: &str, slo: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  annotations:\n    pave.dev/slo: {slo}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

/// A folder with `checkout` (a good Sloth spec next to it) and `broken` (an SLO without SLI).
fn write_catalog(dir: &Path, spec: &str) -> PathBuf {
    let root = dir.join("catalog");
    std::fs::create_dir_all(root.join("svc")).unwrap();
    std::fs::write(
        root.join("svc/catalog-info.yaml"),
        format!(
            "{}---\n{}",
            component("checkout", "./slo.yaml"),
            component("broken", "./bad-slo.yaml, ../../escape.yaml")
        ),
    )
    .unwrap();
    std::fs::write(root.join("svc/slo.yaml"), spec).unwrap();
    std::fs::write(
        root.join("svc/bad-slo.yaml"),
        "version: prometheus/v1\nservice: broken\nslos:\n  - name: half-written\n    objective: 99\n",
    )
    .unwrap();
    root
}

fn page(server: &pave_testkit::Server, name: &str) -> String {
    let r = server.wait_for(&format!("/catalog/default/component/{name}/slos"), |r| {
        r.status == 200 && r.body.contains("Service level objectives")
    });
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[test]
fn entity_page_lists_slos_and_spec_problems() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let spec = sloth::spec_for(&[sloth::target_json(
        "checkout",
        "requests-availability",
        99.9,
    )]);
    let root = write_catalog(dir.path(), &spec);
    // Nothing listens on port 1: live values are missing, the page still works.
    let server = Server::start(
        &[
            "--source",
            root.to_str().unwrap(),
            "--prometheus-url",
            "http://127.0.0.1:1",
        ],
        &db,
    );

    let html = page(&server, "checkout");
    assert!(html.contains("requests-availability"), "{html}");
    assert!(html.contains("99.9%"), "{html}");
    assert!(html.contains(">30d<"), "{html}");
    assert!(html.contains("slo.yaml"), "{html}");
    assert!(html.contains("Prometheus unavailable:"), "{html}");
    assert!(!html.contains("Budget remaining"), "{html}");

    let html = page(&server, "broken");
    assert!(
        html.contains("bad-slo.yaml:4:5: error:"),
        "the problem with its position: {html}"
    );
    assert!(html.contains("outside the source root"), "{html}");
    assert!(html.contains("No SLOs could be read."), "{html}");
    // Spec files and their problems are named inside the source, never by server folders.
    let here = dir.path().display().to_string();
    for name in ["checkout", "broken"] {
        let html = page(&server, name);
        assert!(!html.contains(&here), "{name}: {html}");
    }
}

#[test]
fn entity_page_shows_live_budget_from_prometheus() {
    let rules = sloth::fixture_rules();
    let history = sloth::history(&sloth::fixture_slos(), 180);
    let Some(prometheus) = TestPrometheus::start(&[rules.as_path()], &history.text()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let spec = sloth::spec_for(&[sloth::target_json(
        "checkout",
        "requests-availability",
        99.9,
    )]);
    let root = write_catalog(dir.path(), &spec);
    let server = Server::start(
        &[
            "--source",
            root.to_str().unwrap(),
            "--prometheus-url",
            prometheus.url(),
        ],
        &db,
    );
    let html = page(&server, "checkout");
    assert!(!html.contains("Prometheus unavailable"), "{html}");
    assert!(html.contains("Budget remaining"), "{html}");
    // The fixture's checkout SLO has half its budget left and burns at 0.5×.
    assert!(html.contains("50.0%"), "{html}");
    assert!(html.contains("0.50×"), "{html}");
    assert!(html.contains("<svg class=\"slo-chart\""), "{html}");
    assert!(html.contains(">5m</text>"), "{html}");
}
