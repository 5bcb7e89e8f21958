//! The admission webhook in `pave serve`, over real HTTP and HTTPS: certificates made with the
//! `openssl` CLI (with a SAN, as the API server requires) and requests sent with `curl`.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::process::Command;

use common::{Server, pave, stderr, stdout};
use pave_testkit::have;
use pave_testkit::http;
use serde_json::{Value, json};

fn review(uid: &str, object: &Value) -> String {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "operation": "CREATE",
            "namespace": "shop",
            "name": object["metadata"]["name"],
            "userInfo": {"username": "alice"},
            "object": object,
        }
    })
    .to_string()
}

fn deployment(name: &str, privileged: bool, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"owner": "team-a", "cost-center": "cc-1"}, "annotations": annotations},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "app",
                        "image": "registry.example.com/app:1.4.2",
                        "securityContext": {
                            "privileged": privileged,
                            "allowPrivilegeEscalation": false,
                            "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": true
                        },
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}}
                    }]
                }
            }
        }
    })
}

#[test]
fn webhook_denies_warns_and_honours_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let exceptions = dir.path().join("pave-exceptions.yaml");
    std::fs::write(
        &exceptions,
        "exceptions:\n- id: legacy-agent\n  rules: [pss-privileged]\n  match: {kind: Deployment, namespace: shop, name: node-agent}\n  owner: team-infra\n  reason: needs raw sockets until v2\n  expires: 2099-01-01T00:00:00Z\n",
    )
    .unwrap();
    let server = Server::start(&["--exceptions", exceptions.to_str().unwrap()], &db);
    let post = |body: &str| http(server.addr, "POST", "/api/admission/validate", Some(body));

    let r = post(&review("u-1", &deployment("web", true, json!({}))));
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("Deployment/shop/web") && message.contains("[pss-privileged]"),
        "{message}"
    );

    let r = post(&review("u-2", &deployment("web", false, json!({}))));
    assert_eq!(r.json()["response"]["allowed"], true, "{}", r.body);
    for warning in r.json()["response"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert!(
            warning.as_str().unwrap().chars().count() <= 120,
            "{warning}"
        );
    }

    // The same privileged pod under an active exception: allowed, with a warning naming it.
    let agent = deployment(
        "node-agent",
        true,
        json!({"pave.dev/exempt": "pss-privileged"}),
    );
    let r = post(&review("u-3", &agent));
    let response = &r.json()["response"];
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = response["warnings"].to_string();
    assert!(
        warnings.contains("pss-privileged excepted by legacy-agent"),
        "{warnings}"
    );

    // An annotation that no exception backs is itself a finding.
    let r = post(&review(
        "u-4",
        &deployment("api", false, json!({"pave.dev/exempt": "pss-privileged"})),
    ));
    let response = &r.json()["response"];
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("pave-exemption-unregistered")
    );

    // Broken requests: a clear 400, and the server keeps serving.
    let r = post(
        "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", \"request\": {\"uid\": \"u-5\", \"operation\": \"CREATE\"}}",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["response"]["status"]["code"], 400, "{}", r.body);
    let r = post("{\"not\": \"a review\"");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not JSON"), "{}", r.body);
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("pave_admission_reviews_total{verdict=\"denied\"}"),
        "{metrics}"
    );
}

#[test]
fn webhook_serves_https_with_a_san_certificate() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs = pave_testkit::tls_certificates(dir.path(), "pave.pave-system.svc");
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let (cert, key) = (certs.cert, certs.key);
    let server = Server::start(
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &db,
    );
    let url = format!("https://{}/api/admission/validate", server.addr);
    let body = review("tls-1", &deployment("web", true, json!({})));
    let curl = |extra: &[&str]| {
        Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body,
            ])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };
    let ca = certs.ca;
    let out = curl(&["--cacert", ca.to_str().unwrap()]);
    assert!(out.status.success(), "curl: {}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["response"]["uid"], "tls-1");
    assert_eq!(answer["response"]["allowed"], false);

    // Without the CA the certificate is not trusted: TLS is real.
    let out = curl(&[]);
    assert!(
        !out.status.success(),
        "curl trusted an unknown CA: {}",
        stdout(&out)
    );

    // The manifest carries that CA.
    let out = pave()
        .args([
            "admission",
            "manifest",
            "--ca-file",
            ca.to_str().unwrap(),
            "--namespace",
            "pave-system",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest =
        pave_yaml::parse_documents(&stdout(&out), &pave_yaml::Limits::default()).unwrap();
    let hook = &manifest[0].value["webhooks"][0];
    assert_eq!(manifest[0].value["kind"], "ValidatingWebhookConfiguration");
    assert_eq!(hook["clientConfig"]["service"]["name"], "pave");
    let encoded = hook["clientConfig"]["caBundle"].as_str().unwrap();
    let decoded = Command::new("openssl")
        .args(["base64", "-d", "-A"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(encoded.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&decoded.stdout).trim(),
        std::fs::read_to_string(&ca).unwrap().trim()
    );
}

#[test]
fn the_admission_listener_can_require_the_api_servers_client_certificate() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs = pave_testkit::tls_certificates(dir.path(), "pave.pave-system.svc");
    let (client_cert, client_key) =
        pave_testkit::client_certificate(dir.path(), &certs, "kube-apiserver");
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other_ca = pave_testkit::tls_certificates(&other_dir, "other");
    let (stranger_cert, stranger_key) =
        pave_testkit::client_certificate(&other_dir, &other_ca, "stranger");

    let db = format!("sqlite://{}", dir.path().join("pave.db").display());
    let server = Server::start(
        &[
            "--tls-cert",
            certs.cert.to_str().unwrap(),
            "--tls-key",
            certs.key.to_str().unwrap(),
            "--admission-addr",
            "127.0.0.1:0",
            "--admission-client-ca",
            certs.ca.to_str().unwrap(),
        ],
        &db,
    );
    assert_ne!(server.admission, server.addr);
    let body = review("mtls-1", &deployment("web", true, json!({})));
    let curl = |addr: std::net::SocketAddr,
                client: Option<(&std::path::Path, &std::path::Path)>| {
        let mut command = Command::new("curl");
        command.args([
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            certs.ca.to_str().unwrap(),
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
        ]);
        if let Some((cert, key)) = client {
            command.args([
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ]);
        }
        command
            .arg(format!("https://{addr}/api/admission/validate"))
            .output()
            .unwrap()
    };

    // The API server's certificate: reviewed.
    let out = curl(server.admission, Some((&client_cert, &client_key)));
    assert!(out.status.success(), "curl: {}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["response"]["uid"], "mtls-1");
    assert_eq!(answer["response"]["allowed"], false);

    // No certificate, or one from another CA: the handshake fails, nothing is reviewed.
    for (what, client) in [
        ("no client certificate", None),
        (
            "a certificate of another CA",
            Some((stranger_cert.as_path(), stranger_key.as_path())),
        ),
    ] {
        let out = curl(server.admission, client);
        assert!(
            !out.status.success() && out.stdout.is_empty(),
            "{what} was admitted: {}",
            stdout(&out)
        );
    }

    // The main listener asks browsers for no certificate.
    let out = curl(server.addr, None);
    assert!(out.status.success(), "main listener: {}", stderr(&out));

    // A client CA without a certificate to serve is refused at start.
    let out = pave()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--admission-addr",
            "127.0.0.1:0",
            "--admission-client-ca",
            certs.ca.to_str().unwrap(),
        ])
        .env("PAVE_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--admission-client-ca"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unusable_tls_files_stop_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("tls.crt");
    std::fs::write(&cert, "not a certificate").unwrap();
    let out = pave()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            "/no/such.key",
        ])
        .env(
            "PAVE_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("pave.db").display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("/no/such.key") || err.contains("tls.crt"),
        "{err}"
    );
    let out = pave()
        .args(["serve", "--tls-cert", cert.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--tls-cert needs --tls-key");
}

/// Waits up to 30 s for `child` to exit; kills it (and fails) if it does not.
fn exits(mut child: std::process::Child) -> std::process::Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("pave serve kept running");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn rego_that_fails_never_takes_the_webhook_down() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("pave.db").display());

    // A recursive function used to overflow the stack on the first review (exit 134): it is
    // refused at start, with the cycle named as OPA names it.
    let recursive = dir.path().join("recursive");
    std::fs::create_dir(&recursive).unwrap();
    std::fs::write(
        recursive.join("policy.rego"),
        "package main\n\nnested(x) := nested(x)\n\ndeny contains \"deep\" if nested(input)\n",
    )
    .unwrap();
    let child = pave()
        .args(["serve", "--addr", "127.0.0.1:0", "--policy"])
        .arg(&recursive)
        .env("PAVE_DATABASE_URL", &db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = exits(child);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("policy.rego:3:1: rego_recursion_error: rule data.main.nested is recursive: data.main.nested -> data.main.nested"),
        "{err}"
    );

    // A policy that fails for some objects (two values for one complete rule): the review
    // of such an object is answered by the failure policy, and the next one normally.
    let failing = dir.path().join("failing");
    std::fs::create_dir(&failing).unwrap();
    std::fs::write(
        failing.join("policy.rego"),
        "package main\n\ntier := \"a\" if input.metadata.annotations.a\ntier := \"b\" if input.metadata.annotations.b\n\ndeny contains \"tier x is retired\" if tier == \"x\"\n",
    )
    .unwrap();
    let both = deployment("web", false, json!({"a": "1", "b": "1"}));
    let normal = deployment("web", false, json!({}));
    let privileged = deployment("web", true, json!({}));
    for (failure, allowed) in [("fail", false), ("ignore", true)] {
        let server = Server::start(
            &[
                "--policy",
                failing.to_str().unwrap(),
                "--admission-failure-policy",
                failure,
            ],
            &db,
        );
        let post = |body: &str| http(server.addr, "POST", "/api/admission/validate", Some(body));
        let r = post(&review("u-1", &both));
        assert_eq!(r.status, 200, "{}", r.body);
        let response = &r.json()["response"];
        assert_eq!(response["allowed"], allowed, "{failure}: {response}");
        if allowed {
            let warnings = response["warnings"].to_string();
            assert!(
                warnings.contains("pave could not evaluate the policy (failure policy Ignore)"),
                "{warnings}"
            );
        } else {
            let message = response["status"]["message"].as_str().unwrap();
            assert!(
                message.contains("pave could not evaluate the policy for Deployment/shop/web (failure policy Fail)")
                    && message.contains("data.main"),
                "{message}"
            );
        }
        let r = post(&review("u-2", &normal));
        assert_eq!(r.json()["response"]["uid"], "u-2");
        assert_eq!(r.json()["response"]["allowed"], true, "{}", r.body);
        let r = post(&review("u-3", &privileged));
        assert_eq!(r.json()["response"]["allowed"], false, "{}", r.body);
    }
}
