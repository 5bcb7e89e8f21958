//! What pave ships to run itself (issue 17): the Dockerfile, the Kustomize base and its example
//! overlay, and the Helm chart, checked with the real tools. The Dockerfile passes pave's own
//! Dockerfile rules (and hadolint); each rendered manifest set (`kubectl kustomize`, `helm
//! template` for several value sets, after `helm lint --strict`) has zero findings under
//! `pave check --profile restricted`, validates against the Kubernetes JSON schemas, carries
//! the probes and security context the docs promise, sends the webhook what `pave admission
//! manifest` sends, and its pave.yaml starts `pave serve`.
//!
//! kubectl, hadolint and helm are skipped locally when missing and required under `CI=true`.
//! helm is the `helm` binary when installed, else Helm's own engine through
//! `deploy/helm/helm.py` (PyPI's helm-python-sdk; Debian and PyPI ship no helm binary). The
//! schemas come from `../shared/corpus`; without it (and without CI) only that part is skipped.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Server, pave, stderr, stdout};
use pave_testkit::k8s::{kubectl, kustomize, validate_schemas};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> Option<PathBuf> {
    pave_testkit::corpus("kubernetes-schemas", "v1.32.2-standalone-strict")
        .map(|d| d.join("v1.32.2-standalone-strict"))
}

fn objects(text: &str) -> Vec<Value> {
    pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect()
}

fn kinds(objects: &[Value]) -> Vec<&str> {
    objects.iter().filter_map(|o| o["kind"].as_str()).collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", kinds(objects)))
}

/// `pave check --format json --profile <profile>` on one file: the findings, and how many
/// objects it checked.
fn check(profile: &str, file: &Path, extra: &[&str]) -> (Vec<String>, usize) {
    let out = pave()
        .args(["check", "--format", "json", "--profile", profile])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("pave check {}: {e}\n{}", file.display(), stderr(&out)));
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.is_empty(),
        "{}: input errors {errors:?}",
        file.display()
    );
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}:{} {}", f["rule"], f["file"], f["line"], f["message"]))
        .collect();
    (findings, report["checked"].as_array().unwrap().len())
}

/// Every check a rendered manifest set must pass; returns its objects.
fn rendered_set_passes(
    name: &str,
    text: &str,
    dir: &Path,
    schemas: Option<&Path>,
    ca: &Path,
) -> Vec<Value> {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, text).unwrap();
    let objects = objects(text);
    let (findings, checked) = check("restricted", &file, &[]);
    assert!(findings.is_empty(), "{name}: {findings:#?}");
    assert_eq!(checked, objects.len(), "{name}: pave check skipped objects");

    let deployment = find(&objects, "Deployment");
    pod_is_as_documented(name, deployment);
    if let Some(webhook) = objects
        .iter()
        .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
    {
        webhook_is_pave_s(name, webhook, ca);
        // The webhook's Service port reaches the container's webhook port.
        let service = find(&objects, "Service");
        let port = &webhook["webhooks"][0]["clientConfig"]["service"]["port"];
        assert!(
            service["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| &p["port"] == port && p["targetPort"] == "webhook"),
            "{name}: no Service port {port} to the webhook"
        );
    }
    if let Some(dir) = schemas {
        let validated = validate_schemas(dir, &objects);
        // The core kinds all have schemas (cert-manager's, Gateway API's and the webhook
        // configuration's are not in the corpus).
        let core = kinds(&objects)
            .iter()
            .filter(|k| {
                [
                    "Deployment",
                    "Service",
                    "ConfigMap",
                    "ServiceAccount",
                    "NetworkPolicy",
                    "PodDisruptionBudget",
                    "HorizontalPodAutoscaler",
                    "Ingress",
                    "ServiceMonitor",
                ]
                .contains(k)
            })
            .count();
        assert!(
            validated >= core,
            "{name}: {validated} of {core} core objects validated"
        );
        eprintln!(
            "{name}: {} objects, {validated} validated against the Kubernetes schemas",
            objects.len()
        );
    }
    objects
}

/// The pod: probes on /healthz and /readyz, the restricted security context spelled out
/// (not only what the Pod Security Standard requires), resources, the data volume and the
/// secrets by reference.
fn pod_is_as_documented(name: &str, deployment: &Value) {
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
        "{name}"
    );
    let c = &pod["containers"][0];
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{name}");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{name}");
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
    assert_eq!(sc["runAsNonRoot"], true, "{name}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{name}"
    );
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
    for r in ["requests", "limits"] {
        assert!(c["resources"][r]["memory"].is_string(), "{name}: {r}");
    }
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    for path in ["/var/lib/pave", "/tmp", "/etc/pave/pave.yaml"] {
        assert!(
            mounts.contains(&path),
            "{name}: {path} not mounted: {mounts:?}"
        );
    }
    // No secret value in the manifests: every variable whose name says secret or database
    // comes from a Secret.
    for env in c["env"].as_array().unwrap() {
        let var = env["name"].as_str().unwrap();
        if var.contains("SECRET") || var.contains("DATABASE") {
            assert!(
                env["valueFrom"]["secretKeyRef"]["name"].is_string(),
                "{name}: {var} is not from a Secret"
            );
        }
    }
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args[0], "serve", "{name}: {args:?}");
    // The arguments are this binary's: `--help` after them parses every one first.
    let out = pave()
        .args(&args)
        .arg("--help")
        .env_remove("PAVE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {args:?}: {}", stderr(&out));
}

/// The rules, the path and the review versions are `pave admission manifest`'s, so the chart
/// and the base follow the binary when its webhook covers more.
fn webhook_is_pave_s(name: &str, webhook: &Value, ca: &Path) {
    let out = pave()
        .args(["admission", "manifest", "--ca-file"])
        .arg(ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = objects(&stdout(&out)).remove(0);
    let (want, got) = (&expected["webhooks"][0], &webhook["webhooks"][0]);
    for field in ["rules", "admissionReviewVersions", "sideEffects", "name"] {
        assert_eq!(got[field], want[field], "{name}: webhooks[0].{field}");
    }
    assert_eq!(
        got["clientConfig"]["service"]["path"], want["clientConfig"]["service"]["path"],
        "{name}"
    );
    assert!(
        ["Fail", "Ignore"].contains(&got["failurePolicy"].as_str().unwrap()),
        "{name}"
    );
    // The webhook never sees pave's own namespace: pave can always be repaired.
    let own = got["clientConfig"]["service"]["namespace"]
        .as_str()
        .unwrap();
    let excluded = &got["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn", "{name}");
    assert!(
        excluded["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == own),
        "{name}: {own} is not excluded"
    );
    let ca_from_cert_manager = webhook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        .as_str()
        .is_some();
    assert!(
        ca_from_cert_manager || got["clientConfig"]["caBundle"].is_string(),
        "{name}: no CA for the webhook"
    );
}

/// A self-signed certificate for `pave admission manifest --ca-file`.
fn test_ca(dir: &Path) -> PathBuf {
    let ca = dir.join("ca.pem");
    // Any PEM certificate will do: the manifest only base64-encodes it.
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ2Z3\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    ca
}

/// pave.yaml from a ConfigMap starts `pave serve` (unknown keys would stop it), with the
/// environment variables its secrets name set.
fn config_starts_pave(name: &str, objects: &[Value], secret_env: &[&str], dir: &Path) {
    let text = find(objects, "ConfigMap")["data"]["pave.yaml"]
        .as_str()
        .unwrap();
    let config = dir.join(format!("{name}-pave.yaml"));
    std::fs::write(&config, text).unwrap();
    let db = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
    let mut cmd_env: Vec<(&str, &Path)> = vec![("XDG_CACHE_HOME", dir)];
    let value = Path::new("a-test-secret");
    for var in secret_env {
        cmd_env.push((var, value));
    }
    // The Deployment's plain variables (allowed hosts, per-client caps) must parse too.
    let plain: Vec<(String, PathBuf)> =
        find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| Some((e["name"].as_str()?.to_owned(), e["value"].as_str()?.into())))
            .collect();
    assert!(
        plain.iter().any(|(name, _)| name == "PAVE_ALLOWED_HOSTS"),
        "{name}: {plain:?}"
    );
    for (var, value) in &plain {
        cmd_env.push((var, value));
    }
    let server = Server::start_with_env(
        &[
            "--config",
            config.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
        &cmd_env,
    );
    let ready = server.wait_for("/readyz", |r| r.status == 200);
    assert_eq!(ready.status, 200, "{name}: {}", ready.body);
    let status = server.terminate();
    assert!(status.success(), "{name}: pave serve exited {status:?}");
}

#[test]
fn the_image_passes_pave_s_dockerfile_rules() {
    let dockerfile = repo().join("Dockerfile");
    // Every rule, at every severity: an `info` finding fails too.
    let (findings, checked) = check("recommended", &dockerfile, &["--fail-on", "info"]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(checked, 1, "pave check did not read the Dockerfile");

    let text = std::fs::read_to_string(&dockerfile).unwrap();
    // The image carries the `dist` build (release without debug info), as a numeric non-root
    // user, from a distroless base in its last (default) stage.
    assert!(text.contains("cargo build --locked --profile dist -p pave"));
    let last = text.rsplit("\nFROM ").next().unwrap();
    assert!(last.starts_with("gcr.io/distroless/"), "{last}");
    assert!(last.contains("\nUSER 65532:65532\n"), "{last}");
    assert!(last.contains("\nEXPOSE 7007 8443\n"), "{last}");
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let dist = cargo.split("[profile.dist]").nth(1).unwrap();
    let dist = dist.split("\n[").next().unwrap();
    for line in ["inherits = \"release\"", "debug = false", "strip = true"] {
        assert!(dist.contains(line), "[profile.dist] lacks {line}");
    }

    if pave_testkit::have("hadolint") {
        let out = Command::new("hadolint").arg(&dockerfile).output().unwrap();
        assert!(out.status.success(), "hadolint: {}", stdout(&out));
    }
}

#[test]
fn the_kustomize_base_and_overlay_render_compliant_objects() {
    let Some(kubectl) = kubectl() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let ca = test_ca(tmp.path());
    let schemas = schemas();
    let root = repo().join("deploy/kustomize");
    for (name, dir) in [
        ("base", root.join("base")),
        ("overlay-example", root.join("overlays/example")),
    ] {
        let text = kustomize(&kubectl, &dir);
        let objects = rendered_set_passes(name, &text, tmp.path(), schemas.as_deref(), &ca);
        let kinds = kinds(&objects);
        for kind in [
            "Deployment",
            "Service",
            "ConfigMap",
            "ServiceAccount",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
            "ValidatingWebhookConfiguration",
            "Certificate",
        ] {
            assert!(kinds.contains(&kind), "{name}: no {kind} in {kinds:?}");
        }
        for o in &objects {
            let namespaced =
                !["ValidatingWebhookConfiguration"].contains(&o["kind"].as_str().unwrap());
            if namespaced {
                assert_eq!(
                    o["metadata"]["namespace"], "pave-system",
                    "{name}: {}",
                    o["kind"]
                );
            }
        }
        if name == "overlay-example" {
            assert!(kinds.contains(&"Ingress"), "{kinds:?}");
            let image =
                find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap();
            assert!(
                image.contains("@sha256:"),
                "the overlay pins by digest: {image}"
            );
        }
    }
    let base = objects(&kustomize(&kubectl, &root.join("base")));
    config_starts_pave(
        "kustomize",
        &base,
        &["PAVE_OIDC_CLIENT_SECRET", "PAVE_EVENTS_GITHUB_SECRET"],
        tmp.path(),
    );
}

/// How to run helm here: the binary, or Helm's engine through `deploy/helm/helm.py`.
fn helm() -> Option<Command> {
    let runs = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
    if runs(Command::new("helm").arg("version")) {
        return Some(Command::new("helm"));
    }
    let script = repo().join("deploy/helm/helm.py");
    if runs(Command::new("python3").args(["-c", "import helm_python"])) {
        let mut cmd = Command::new("python3");
        cmd.arg(script);
        return Some(cmd);
    }
    pave_testkit::skip(
        "neither helm nor Python's helm-python-sdk is installed (pip install helm-python-sdk==0.2.2)",
    );
    None
}

fn run_helm(args: &[&str], values: Option<&Path>) -> Output {
    let mut cmd = helm().unwrap();
    cmd.args(args);
    if let Some(values) = values {
        cmd.arg("-f").arg(values);
    }
    cmd.output().unwrap()
}

/// Value sets the chart is rendered with: the defaults, everything optional switched on, a
/// webhook certificate without cert-manager, one replica on SQLite, no webhook.
const HELM_CASES: [(&str, &str); 5] = [
    ("defaults", ""),
    (
        "everything",
        "replicaCount: 3
image: {digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}
publicUrl: https://pave.example.com
allowedHosts: [pave.internal]
ingress:
  enabled: true
  className: nginx
  tls: [{secretName: pave-tls, hosts: [pave.example.com]}]
httpRoute: {enabled: true, parentRefs: [{name: public, namespace: gateway-system}]}
serviceMonitor: {enabled: true, labels: {release: prometheus}}
admission:
  failurePolicy: Ignore
  certManager: {issuerRef: {kind: ClusterIssuer, name: internal-ca}}
networkPolicy:
  ingressFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
secretEnv:
  - {name: PAVE_OIDC_CLIENT_SECRET, secretName: pave-oidc, key: client-secret}
  - {name: PAVE_EVENTS_GITHUB_SECRET, secretName: pave-events, key: github}
config:
  events:
    sources:
      github: {secrets: [{env: PAVE_EVENTS_GITHUB_SECRET}]}
priorityClassName: platform-critical
",
    ),
    (
        "own-certificate",
        "admission:
  certManager: {enabled: false}
  existingTlsSecret: pave-webhook-tls
  caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
",
    ),
    (
        "sqlite",
        "replicaCount: 1
autoscaling: {enabled: false}
podDisruptionBudget: {enabled: false}
database: {existingSecret: ''}
persistence: {enabled: true, size: 5Gi}
",
    ),
    ("no-webhook", "admission: {enabled: false}\n"),
];

#[test]
fn the_helm_chart_lints_and_renders_compliant_objects() {
    if helm().is_none() {
        return;
    }
    let chart = repo().join("deploy/helm/pave");
    let chart = chart.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ca = test_ca(tmp.path());
    let schemas = schemas();
    for (name, values) in HELM_CASES {
        let file = tmp.path().join(format!("{name}-values.yaml"));
        std::fs::write(&file, values).unwrap();
        let lint = run_helm(&["lint", chart, "--strict"], Some(&file));
        assert!(
            lint.status.success(),
            "helm lint {name}: {}{}",
            stdout(&lint),
            stderr(&lint)
        );
        let out = run_helm(
            &["template", "pave", chart, "--namespace", "pave-system"],
            Some(&file),
        );
        assert!(
            out.status.success(),
            "helm template {name}: {}",
            stderr(&out)
        );
        let objects = rendered_set_passes(
            &format!("helm-{name}"),
            &stdout(&out),
            tmp.path(),
            schemas.as_deref(),
            &ca,
        );
        let kinds = kinds(&objects);
        let has = |kind: &str| kinds.contains(&kind);
        let deployment = find(&objects, "Deployment");
        let pod = &deployment["spec"]["template"]["spec"];
        match name {
            "defaults" => {
                for kind in [
                    "PodDisruptionBudget",
                    "HorizontalPodAutoscaler",
                    "NetworkPolicy",
                    "ValidatingWebhookConfiguration",
                    "Certificate",
                    "Issuer",
                ] {
                    assert!(has(kind), "{name}: no {kind} in {kinds:?}");
                }
                for kind in [
                    "Ingress",
                    "HTTPRoute",
                    "ServiceMonitor",
                    "PersistentVolumeClaim",
                ] {
                    assert!(!has(kind), "{name}: {kind} is optional, off by default");
                }
                config_starts_pave(
                    "helm-defaults",
                    &objects,
                    &["PAVE_OIDC_CLIENT_SECRET"],
                    tmp.path(),
                );
            }
            "everything" => {
                for kind in ["Ingress", "HTTPRoute", "ServiceMonitor"] {
                    assert!(has(kind), "{name}: no {kind} in {kinds:?}");
                }
                // An existing issuer: no self-signed one.
                assert!(!has("Issuer"), "{kinds:?}");
                let webhook = find(&objects, "ValidatingWebhookConfiguration");
                assert_eq!(webhook["webhooks"][0]["failurePolicy"], "Ignore");
                assert_eq!(pod["priorityClassName"], "platform-critical");
                config_starts_pave(
                    "helm-everything",
                    &objects,
                    &["PAVE_OIDC_CLIENT_SECRET", "PAVE_EVENTS_GITHUB_SECRET"],
                    tmp.path(),
                );
            }
            "own-certificate" => {
                assert!(!has("Certificate") && !has("Issuer"), "{kinds:?}");
                let webhook = find(&objects, "ValidatingWebhookConfiguration");
                assert!(webhook["webhooks"][0]["clientConfig"]["caBundle"].is_string());
            }
            "sqlite" => {
                assert!(has("PersistentVolumeClaim"), "{kinds:?}");
                assert!(!has("HorizontalPodAutoscaler"), "{kinds:?}");
                assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
                assert_eq!(deployment["spec"]["replicas"], 1);
                let env = pod["containers"][0]["env"].as_array().unwrap();
                assert!(!env.iter().any(|e| e["name"] == "PAVE_DATABASE_URL"));
            }
            "no-webhook" => {
                assert!(!has("ValidatingWebhookConfiguration") && !has("Certificate"));
                let args = pod["containers"][0]["args"].to_string();
                assert!(!args.contains("--admission-addr"), "{args}");
            }
            _ => unreachable!(),
        }
    }

    // Values that cannot work are refused with a reason, not rendered.
    for (values, reason) in [
        (
            "database: {existingSecret: ''}\n",
            "several replicas (replicaCount > 1 or autoscaling.enabled) need PostgreSQL",
        ),
        (
            "admission: {certManager: {enabled: false}}\n",
            "is required without cert-manager",
        ),
        (
            "admission: {failurePolicy: Sometimes}\n",
            "must be Fail or Ignore",
        ),
    ] {
        let file = tmp.path().join("bad-values.yaml");
        std::fs::write(&file, values).unwrap();
        let out = run_helm(
            &["template", "pave", chart, "--namespace", "pave-system"],
            Some(&file),
        );
        assert!(!out.status.success(), "{values} rendered");
        assert!(stderr(&out).contains(reason), "{values}: {}", stderr(&out));
    }
}
