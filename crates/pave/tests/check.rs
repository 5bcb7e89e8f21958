//! `pave check`: inputs, exit codes, formats, configuration and exceptions, run as a user would.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use common::{pave, stderr, stdout};
use serde_json::Value;

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n";

fn check_in(dir: &Path, args: &[&str]) -> Output {
    pave()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

fn check_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = pave()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn exit_codes_follow_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let out = check_in(dir.path(), &["--profile", "baseline"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("pod.yaml") && text.contains("11:7") && text.contains("pss-privileged"),
        "{text}"
    );

    // The same finding below the threshold is reported but does not fail.
    std::fs::write(
        dir.path().join("pave-policy.yaml"),
        "profile: baseline\nrules:\n  pss-privileged: {severity: low}\n",
    )
    .unwrap();
    let out = check_in(dir.path(), &["-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["findings"][0]["status"], "warning");
    assert_eq!(report["findings"][0]["severity"], "low");
    // Flags win over the file.
    let out = check_in(dir.path(), &["--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1));
}

/// The whole human report, pinned: columns, order, the "how to fix" block and the summary
/// (a `contains` check would miss a dropped line or a broken alignment).
#[test]
fn the_human_report_reads_as_pinned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let out = check_in(dir.path(), &["--profile", "restricted"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out), @r"
pod.yaml
  10:5  FAIL  medium    pss-capabilities-restricted  container web must drop ALL capabilities  (Pod/shop/web)
  10:5  FAIL  high      pss-privilege-escalation     container web must set securityContext.allowPrivilegeEscalation: false  (Pod/shop/web)
  10:5  FAIL  high      pss-run-as-non-root          container web must set runAsNonRoot: true (or the pod must)  (Pod/shop/web)
  10:5  FAIL  medium    pss-seccomp-restricted       container web has no seccompProfile, and the pod sets none  (Pod/shop/web)
  11:7  FAIL  critical  pss-privileged               container web is privileged  (Pod/shop/web)

how to fix
  pss-capabilities-restricted  Set `capabilities.drop: [ALL]` and add back only NET_BIND_SERVICE if needed.
  pss-privilege-escalation     Set `securityContext.allowPrivilegeEscalation: false` on every container.
  pss-run-as-non-root          Set `securityContext.runAsNonRoot: true` on the pod (or on every container) and use a non-root image user.
  pss-seccomp-restricted       Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.
  pss-privileged               Remove `securityContext.privileged: true`; grant specific capabilities only if truly needed.

1 file, 1 object checked: 5 failed (profile restricted, failing at medium and above)
    ");
}

#[test]
fn stdin_streams_are_checked_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let stream = format!(
        "---\n{PRIVILEGED}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{port: 80}}]}}\n"
    );
    let out = check_stdin(
        dir.path(),
        &["-", "-f", "json", "--profile", "baseline"],
        &stream,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["documents"], 2);
    let finding = &report["findings"][0];
    assert_eq!(finding["file"], "-");
    assert_eq!(
        finding["line"], 12,
        "positions count from the start of the stream"
    );
    assert_eq!(finding["object"]["name"], "web");
}

#[test]
fn unreadable_inputs_exit_2_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("deep.json"),
        format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {}{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM alpine:3.20\nRUN <<EOF\necho never closed\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("binary.yaml"),
        b"apiVersion: v1\nkind: Pod\n\xff\xfe\x00\x01",
    )
    .unwrap();
    let out = check_in(dir.path(), &["-f", "json", "--profile", "baseline"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let report = json(&out);
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}: {}", e["file"], e["line"], e["message"]))
        .collect();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    for file in ["broken.yaml", "deep.json", "Dockerfile", "binary.yaml"] {
        assert!(
            errors.iter().any(|e| e.contains(file)),
            "{file} missing from {errors:#?}"
        );
    }
    assert!(
        errors.iter().all(|e| !e.contains(":null:")),
        "every error has a line: {errors:#?}"
    );
    assert_eq!(
        rules(&report),
        ["pss-privileged"],
        "the good file is still checked"
    );

    let out = check_in(dir.path(), &["no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("no-such-dir"), "{}", stdout(&out));
}

#[test]
fn every_format_renders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let sarif = json(&check_in(
        dir.path(),
        &["-f", "sarif", "--profile", "baseline"],
    ));
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "pss-privileged");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "pod.yaml"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );

    let junit = stdout(&check_in(
        dir.path(),
        &["-f", "junit", "--profile", "baseline"],
    ));
    assert!(
        junit.starts_with("<?xml") && junit.contains("<failure"),
        "{junit}"
    );

    let github = stdout(&check_in(
        dir.path(),
        &["-f", "github", "--profile", "baseline"],
    ));
    assert!(
        github.contains("::error file=pod.yaml,line=11,col=7"),
        "{github}"
    );

    let out = check_in(
        dir.path(),
        &[
            "-f",
            "sarif",
            "--output-file",
            "out.sarif",
            "--profile",
            "baseline",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("1 failed"), "{}", stderr(&out));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap())
            .unwrap();
    assert_eq!(written["version"], "2.1.0");

    let out = check_in(dir.path(), &["-f", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown format `xml`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exceptions_waive_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let exceptions = |expires: &str| {
        std::fs::write(
            dir.path().join("pave-exceptions.yaml"),
            format!("exceptions:\n- id: web-legacy\n  rules: [pss-privileged]\n  match: {{kind: Pod, namespace: shop, name: web}}\n  owner: team-shop\n  reason: vendor image needs it\n  expires: {expires}\n"),
        )
        .unwrap();
    };
    exceptions("2099-12-31T00:00:00Z");
    let out = check_in(dir.path(), &["-f", "json", "--profile", "baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["findings"][0]["status"], "excepted");
    assert_eq!(report["findings"][0]["exception"]["owner"], "team-shop");

    exceptions("2020-01-01T00:00:00Z");
    let out = check_in(dir.path(), &["-f", "json", "--profile", "baseline"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let mut found = rules(&report);
    found.sort();
    assert_eq!(found, ["pave-exception-expired", "pss-privileged"]);

    // No expiry, no exception.
    std::fs::write(
        dir.path().join("pave-exceptions.yaml"),
        "exceptions:\n- id: forever\n  rules: [pss-privileged]\n  owner: team-shop\n  reason: because\n",
    )
    .unwrap();
    let out = check_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pave-exceptions.yaml:2:") && stderr(&out).contains("expires"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn type_override_and_rule_listing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("build.txt"), "FROM ubuntu\nRUN echo hi\n").unwrap();
    let out = check_in(dir.path(), &["build.txt"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a named file that is not checkable is an error"
    );
    assert!(stdout(&out).contains("--type"), "{}", stdout(&out));
    let out = check_in(
        dir.path(),
        &["--type", "dockerfile", "build.txt", "-f", "json"],
    );
    assert_ne!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(json(&out)["checked"][0]["input"], "dockerfile");

    let out = check_in(dir.path(), &["--list-rules", "-o", "json"]);
    assert!(out.status.success());
    let listed = json(&out);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"pss-privileged") && ids.contains(&"pss-run-as-non-root"),
        "{ids:?}"
    );
    let out = check_in(dir.path(), &["--profile", "strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown profile"), "{}", stderr(&out));
}

#[test]
fn rego_policies_run_like_conftest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("policy")).unwrap();
    std::fs::write(root.join("pod.yaml"), PRIVILEGED).unwrap();
    std::fs::write(
        root.join("policy/images.rego"),
        "package main\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  some c in input.spec.containers\n  not startswith(c.image, data.registry)\n  msg := sprintf(\"image %s is not from %s\", [c.image, data.registry])\n}\n\nwarn_labels contains msg if {\n  not input.metadata.labels.team\n  msg := \"add a team label\"\n}\n",
    )
    .unwrap();
    std::fs::write(root.join("data.yaml"), "registry: registry.example.com/\n").unwrap();
    let out = check_in(
        root,
        &[
            "pod.yaml",
            "--profile",
            "baseline",
            "--policy",
            "policy",
            "--data",
            "data.yaml",
            "-f",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let mut found = rules(&report);
    found.sort();
    assert_eq!(found, ["main.deny", "main.warn_labels", "pss-privileged"]);
    let deny = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "main.deny")
        .unwrap();
    assert_eq!(
        deny["message"],
        "image nginx:1.27 is not from registry.example.com/"
    );
    assert_eq!(deny["status"], "failed");

    // Another namespace: main's rules do not run.
    let out = check_in(
        root,
        &[
            "pod.yaml",
            "--profile",
            "baseline",
            "--policy",
            "policy",
            "--namespace",
            "other",
            "-f",
            "json",
        ],
    );
    assert_eq!(rules(&json(&out)), ["pss-privileged"]);

    // A syntax error names the file and line; nothing is checked with a broken policy.
    std::fs::write(
        root.join("policy/broken.rego"),
        "package main\n\ndeny contains msg if {\n  input.kind ==\n}\n",
    )
    .unwrap();
    let out = check_in(root, &["pod.yaml", "--policy", "policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.rego:"), "{}", stderr(&out));
}

/// `(rule, line)` of every finding on `file`.
fn found_at(report: &Value) -> Vec<(String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn manifests_are_read_as_kubernetes_reads_them() {
    // YAML 1.1 as sigs.k8s.io/yaml reads it: `on`/`yes` are true, `<<` merges.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pods.yaml"),
        "\
x-privileged: &privileged
  privileged: true
---
apiVersion: v1
kind: Pod
metadata: {name: on-flag, namespace: shop}
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext:
      privileged: on
---
apiVersion: v1
kind: Pod
metadata: {name: host-net, namespace: shop}
spec:
  hostNetwork: yes
  containers:
  - {name: app, image: nginx:1.27}
---
apiVersion: v1
kind: Pod
metadata: {name: merged, namespace: shop}
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext: &base
      allowPrivilegeEscalation: false
  - name: sidecar
    image: nginx:1.27
    securityContext:
      <<: [{privileged: true}, *base]
---
apiVersion: v1
kind: Pod
metadata: {name: non-root, namespace: shop}
spec:
  securityContext:
    runAsNonRoot: yes
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: nginx:1.27
    securityContext:
      allowPrivilegeEscalation: no
      capabilities: {drop: [ALL]}
",
    )
    .unwrap();
    let out = check_in(
        dir.path(),
        &["--profile", "restricted", "-f", "json", "pods.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let by_object = |name: &str| -> Vec<(String, u64)> {
        let one = Value::Array(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["object"]["name"] == name)
                .cloned()
                .collect(),
        );
        found_at(&serde_json::json!({"findings": one}))
    };
    assert!(
        by_object("on-flag").contains(&("pss-privileged".into(), 12)),
        "{report}"
    );
    assert!(
        by_object("host-net").contains(&("pss-host-namespaces".into(), 18)),
        "{report}"
    );
    // Through the merge key: reported at the merge.
    assert!(
        by_object("merged").contains(&("pss-privileged".into(), 34)),
        "{report}"
    );
    // `runAsNonRoot: yes` is true: credited, nothing else is wrong with that pod.
    assert_eq!(
        by_object("non-root"),
        Vec::<(String, u64)>::new(),
        "{report}"
    );
}

#[test]
fn catalog_files_keep_the_yaml_1_2_reading() {
    // `yes` stays a string for Backstage: a catalog entity's tag `on` is not `true`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  tags: [on]\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    )
    .unwrap();
    let policy = dir.path().join("policy");
    std::fs::create_dir(&policy).unwrap();
    std::fs::write(
        policy.join("p.rego"),
        "package main\n\ndeny contains sprintf(\"tag %v\", [t]) if { some t in input.metadata.tags; t != \"on\" }\n",
    )
    .unwrap();
    let out = check_in(
        dir.path(),
        &["--policy", "policy", "-f", "json", "catalog-info.yaml"],
    );
    let report = json(&out);
    assert!(
        !rules(&report).contains(&"main.deny".to_owned()),
        "{report}"
    );
}

#[test]
fn nul_bytes_and_empty_inputs_are_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nul.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\0b\n",
    )
    .unwrap();
    let out = check_in(dir.path(), &["nul.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("nul.yaml:4:10") && stdout(&out).contains("control character U+0000"),
        "{}",
        stdout(&out)
    );

    // Empty standard input, or an empty file: exit 0, but a warning says nothing was checked.
    let out = check_stdin(dir.path(), &["-"], "");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("nothing was checked"),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.path().join("empty.yaml"), "").unwrap();
    let out = check_in(dir.path(), &["empty.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("nothing was checked"),
        "{}",
        stderr(&out)
    );
}
