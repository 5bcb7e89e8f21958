//! Deliveries that are not what they claim, one test each: the error says what and where;
//! nothing panics. And authentication's refusals.

// Test helpers outside #[test] functions panic on bad fixtures on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pave_events::{
    AuthError, Credential, ReadError, ReadOptions, SecretSlot, Secrets, Source, authenticate, read,
};
use proptest::prelude::*;

const ROTATED: &[u8] = b"the-previous-secret";

fn github(event: &str) -> Vec<(String, String)> {
    vec![
        ("X-GitHub-Event".to_owned(), event.to_owned()),
        ("X-GitHub-Delivery".to_owned(), "d-1".to_owned()),
    ]
}

fn read_err(source: Source, headers: &[(String, String)], body: &[u8]) -> ReadError {
    match read(source, headers, body, &ReadOptions::default()) {
        Ok(delivery) => panic!("read, but should not have: {delivery:#?}"),
        Err(err) => err,
    }
}

fn github_secrets() -> Secrets {
    Secrets::new()
        .with(Source::Github, SECRET, Some(ROTATED))
        .expect("valid secrets")
}

#[test]
fn a_missing_signature_header_is_named() {
    let err = authenticate(Source::Github, &github("push"), b"{}", &github_secrets()).unwrap_err();
    assert_eq!(
        err,
        AuthError::MissingHeader {
            header: "X-Hub-Signature-256",
            hint: ""
        }
    );
    assert!(err.to_string().contains("X-Hub-Signature-256"));
    for source in [
        Source::Gitlab,
        Source::Pagerduty,
        Source::Argocd,
        Source::Cdevents,
    ] {
        let secrets = Secrets::new().with(source, SECRET, None).unwrap();
        let err = authenticate(
            source,
            &[("Content-Type", "application/json")],
            b"{}",
            &secrets,
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::MissingHeader { .. }),
            "{source}: {err}"
        );
    }
}

#[test]
fn a_wrong_signature_is_refused_without_revealing_the_expected_one() {
    let body = fixture("pagerduty/incident.triggered.json");
    let wrong = sign(b"not-the-secret", &body);
    let headers = [("X-Hub-Signature-256".to_owned(), format!("sha256={wrong}"))];
    let err = authenticate(Source::Github, &headers, &body, &github_secrets()).unwrap_err();
    assert!(matches!(err, AuthError::SignatureMismatch { .. }), "{err}");
    let message = err.to_string();
    for secret in [SECRET, ROTATED] {
        let expected = sign(secret, &body);
        assert!(
            !message.contains(&expected) && !message.contains(&expected[..16]),
            "{message}"
        );
    }
    // A signature over other bytes than the body is just as wrong.
    let headers = [(
        "X-Hub-Signature-256".to_owned(),
        format!("sha256={}", sign(SECRET, b"{}")),
    )];
    assert!(authenticate(Source::Github, &headers, &body, &github_secrets()).is_err());
    // A wrong shared secret too.
    let secrets = Secrets::new().with(Source::Gitlab, SECRET, None).unwrap();
    let err = authenticate(
        Source::Gitlab,
        &[("X-Gitlab-Token", "guess")],
        &body,
        &secrets,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::SecretMismatch {
                header: "X-Gitlab-Token",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !err.to_string()
            .contains(std::str::from_utf8(SECRET).unwrap())
    );
}

#[test]
fn a_signature_made_with_the_rotated_secret_is_accepted_and_reported() {
    let body = b"{\"zen\":\"Keep it logically awesome.\"}";
    let with = |secret: &[u8]| {
        [(
            "X-Hub-Signature-256".to_owned(),
            format!("sha256={}", sign(secret, body)),
        )]
    };
    let current = authenticate(Source::Github, &with(SECRET), body, &github_secrets()).unwrap();
    assert_eq!(current.secret, SecretSlot::Current);
    assert_eq!(
        current.credential,
        Credential::Signature {
            header: "X-Hub-Signature-256"
        }
    );
    let previous = authenticate(Source::Github, &with(ROTATED), body, &github_secrets()).unwrap();
    assert_eq!(previous.secret, SecretSlot::Previous);
    // Once rotation ends, the old secret no longer works.
    let after = Secrets::new().with(Source::Github, SECRET, None).unwrap();
    assert!(authenticate(Source::Github, &with(ROTATED), body, &after).is_err());
    // Shared secrets rotate the same way.
    let secrets = Secrets::new()
        .with(Source::Opsgenie, SECRET, Some(ROTATED))
        .unwrap();
    let rotated = [("X-Pave-Secret", std::str::from_utf8(ROTATED).unwrap())];
    assert_eq!(
        authenticate(Source::Opsgenie, &rotated, body, &secrets)
            .unwrap()
            .secret,
        SecretSlot::Previous
    );
}

#[test]
fn a_pagerduty_header_with_several_signatures_matches_any() {
    let body = fixture("pagerduty/incident.resolved.json");
    let secrets = Secrets::new()
        .with(Source::Pagerduty, SECRET, None)
        .unwrap();
    // PagerDuty rotating its secret sends one signature per secret it holds.
    let header = format!(
        "v1={}, v1={}",
        sign(b"pagerduty-new", &body),
        sign(SECRET, &body)
    );
    let auth = authenticate(
        Source::Pagerduty,
        &[("X-PagerDuty-Signature", header.as_str())],
        &body,
        &secrets,
    )
    .unwrap();
    assert_eq!(auth.secret, SecretSlot::Current);
    let header = format!("v1={},v1={}", sign(b"a", &body), sign(b"b", &body));
    let err = authenticate(
        Source::Pagerduty,
        &[("X-PagerDuty-Signature", header.as_str())],
        &body,
        &secrets,
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::SignatureMismatch { .. }), "{err}");
    // Unknown versions are skipped; no v1 at all is malformed; so is a short signature.
    let header = format!("v2=abc,v1={}", sign(SECRET, &body));
    assert!(
        authenticate(
            Source::Pagerduty,
            &[("X-PagerDuty-Signature", header.as_str())],
            &body,
            &secrets
        )
        .is_ok()
    );
    for bad in ["v2=abc", "", "v1=abcd", "sha256=00"] {
        let err = authenticate(
            Source::Pagerduty,
            &[("X-PagerDuty-Signature", bad)],
            &body,
            &secrets,
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::MalformedHeader { .. }),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_source_without_a_secret_accepts_nothing() {
    let err = authenticate(
        Source::Flux,
        &[("X-Pave-Secret", "anything")],
        b"{}",
        &github_secrets(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AuthError::NoSecret {
            sender: Source::Flux
        }
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    let body = b"{\n  \"ref\": \"refs/heads/main\",\n  \"before\": oops\n}";
    let err = read_err(Source::Github, &github("push"), body);
    assert!(
        matches!(
            err,
            ReadError::Json {
                line: 3,
                column: 13,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 3, column 13"), "{err}");
    // Truncated bodies too.
    let body = fixture("pagerduty/incident.triggered.json");
    let err = read_err(Source::Pagerduty, &[], &body[..body.len() / 2]);
    assert!(matches!(err, ReadError::Json { .. }), "{err:?}");
}

#[test]
fn a_wrong_field_type_names_its_json_path() {
    let mut payload = json(&fixture("gitlab/deployment_hook__succeeded.json"));
    payload["deployment_id"] = serde_json::Value::String("nine".into());
    let headers = vec![("X-Gitlab-Event".to_owned(), "Deployment Hook".to_owned())];
    let err = read_err(
        Source::Gitlab,
        &headers,
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(
        matches!(&err, ReadError::Field { path, .. } if path == "deployment_id"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("deployment_id: invalid type: string \"nine\""),
        "{err}"
    );

    let mut payload = json(&fixture("gitlab/push_hook.json"));
    payload["commits"][1]["id"] = serde_json::json!(7);
    let headers = vec![("X-Gitlab-Event".to_owned(), "Push Hook".to_owned())];
    let err = read_err(
        Source::Gitlab,
        &headers,
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(
        err.to_string().starts_with("commits[1].id: invalid type"),
        "{err}"
    );

    // A missing required field: the path names the field itself.
    let mut payload = json(&fixture("pagerduty/incident.triggered.json"));
    payload["event"]
        .as_object_mut()
        .unwrap()
        .remove("occurred_at");
    let err = read_err(
        Source::Pagerduty,
        &[],
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(
        err.to_string()
            .starts_with("event.occurred_at: required field is missing"),
        "{err}"
    );
}

#[test]
fn a_bad_timestamp_names_the_field_and_the_value() {
    let mut payload = json(&fixture("gitlab/deployment.json"));
    payload["status_changed_at"] = serde_json::Value::String("2021-04-31 21:50:00 +0200".into());
    let headers = vec![("X-Gitlab-Event".to_owned(), "Deployment Hook".to_owned())];
    let err = read_err(
        Source::Gitlab,
        &headers,
        &serde_json::to_vec(&payload).unwrap(),
    );
    let ReadError::Timestamp { path, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "status_changed_at");
    assert!(
        message.contains("\"2021-04-31 21:50:00 +0200\""),
        "{message}"
    );

    let mut payload = json(&fixture("alertmanager/firing.json"));
    payload["alerts"][1]["startsAt"] = serde_json::Value::String("soon".into());
    let err = read_err(
        Source::Alertmanager,
        &[],
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(
        matches!(&err, ReadError::Timestamp { path, .. } if path == "alerts[1].startsAt"),
        "{err:?}"
    );
}

#[test]
fn an_unknown_event_type_is_ignored_not_an_error() {
    let delivery = read_ok(Source::Github, &github("star"), br#"{"action":"created"}"#);
    assert!(delivery.events.is_empty());
    assert!(delivery.ignored.unwrap().contains("star"));
    let headers = [("X-Gitlab-Event", "Wiki Page Hook")];
    let delivery = read_ok(Source::Gitlab, &headers, br#"{"object_kind":"wiki_page"}"#);
    assert!(delivery.ignored.unwrap().contains("Wiki Page Hook"));
    let mut payload = json(&fixture("pagerduty/incident.triggered.json"));
    payload["event"]["event_type"] = serde_json::Value::String("incident.annotated".into());
    let delivery = read_ok(
        Source::Pagerduty,
        &[] as &[(&str, &str)],
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(delivery.events.is_empty());
    assert_eq!(delivery.kind, "incident.annotated");
    assert!(delivery.ignored.unwrap().contains("incident.annotated"));
    // A note's data is no incident; it must not fail the delivery.
    payload["event"]["data"] = serde_json::json!({"type": "incident_note", "content": "x"});
    let delivery = read_ok(
        Source::Pagerduty,
        &[] as &[(&str, &str)],
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(delivery.events.is_empty() && delivery.ignored.is_some());
    let mut payload = json(&fixture("opsgenie/Close.json"));
    payload["action"] = serde_json::Value::String("AddNote".into());
    let delivery = read_ok(
        Source::Opsgenie,
        &[] as &[(&str, &str)],
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert!(delivery.ignored.unwrap().contains("AddNote"));
}

#[test]
fn an_empty_body_is_refused_by_every_source() {
    for source in Source::ALL {
        let headers = [
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d"),
            ("X-Gitlab-Event", "Push Hook"),
            ("ce-specversion", "1.0"),
            ("ce-id", "1"),
            ("ce-source", "/s"),
            ("ce-type", "dev.cdevents.service.deployed.0.2.0"),
        ];
        for body in [&b""[..], b"  \n"] {
            let err = read(source, &headers, body, &ReadOptions::default()).unwrap_err();
            assert_eq!(err, ReadError::EmptyBody { sender: source }, "{source}");
        }
    }
}

#[test]
fn json_that_is_not_an_object_is_refused() {
    for (body, found) in [
        (&b"[1, 2]"[..], "an array"),
        (b"\"push\"", "a string"),
        (b"null", "null"),
        (b"42", "a number"),
    ] {
        let err = read_err(Source::Github, &github("push"), body);
        assert_eq!(
            err,
            ReadError::NotAnObject { found },
            "{}",
            String::from_utf8_lossy(body)
        );
        let err = read_err(Source::Alertmanager, &[], body);
        assert_eq!(err, ReadError::NotAnObject { found });
    }
    // Even for events pave ignores.
    let err = read_err(Source::Github, &github("star"), b"[]");
    assert_eq!(err, ReadError::NotAnObject { found: "an array" });
}

#[test]
fn required_headers_are_named() {
    let err = read_err(
        Source::Github,
        &[("X-GitHub-Delivery".to_owned(), "d".to_owned())],
        b"{}",
    );
    assert_eq!(
        err,
        ReadError::MissingHeader {
            header: "X-GitHub-Event",
            hint: ""
        }
    );
    let err = read_err(
        Source::Github,
        &[("X-GitHub-Event".to_owned(), "push".to_owned())],
        b"{}",
    );
    assert_eq!(
        err,
        ReadError::MissingHeader {
            header: "X-GitHub-Delivery",
            hint: ""
        }
    );
    let err = read_err(Source::Gitlab, &[], b"{}");
    assert_eq!(
        err,
        ReadError::MissingHeader {
            header: "X-Gitlab-Event",
            hint: ""
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever arrives, reading and authenticating answer; they never panic.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256), pick in 0usize..8) {
        let source = Source::ALL[pick];
        let headers = [
            ("X-GitHub-Event", "deployment_status"),
            ("X-GitHub-Delivery", "d"),
            ("X-Gitlab-Event", "Deployment Hook"),
            ("Content-Type", "application/cloudevents+json"),
            ("X-Hub-Signature-256", "sha256=zz"),
            ("X-PagerDuty-Signature", "v1=00"),
            ("X-Pave-Secret", "x"),
        ];
        let _ = read(source, &headers, &body, &ReadOptions::default());
        let secrets = Secrets::new().with(source, SECRET, None).unwrap();
        let _ = authenticate(source, &headers, &body, &secrets);
    }

    /// Fixture-shaped JSON with a value swapped for junk: an answer, never a panic.
    #[test]
    fn mangled_fixtures_never_panic(index in 0usize..64, junk in prop_oneof![
        Just(serde_json::Value::Null),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!("<no value>")),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!("0001-01-01T00:00:00Z")),
        Just(serde_json::json!(u64::MAX)),
    ]) {
        let cases = [
            (Source::Gitlab, "gitlab/deployment.json", "Deployment Hook"),
            (Source::Gitlab, "gitlab/push.json", "Push Hook"),
            (Source::Gitlab, "gitlab/pipeline.json", "Pipeline Hook"),
            (Source::Pagerduty, "pagerduty/incident.reopened.json", ""),
            (Source::Opsgenie, "opsgenie/Create.json", ""),
            (Source::Alertmanager, "alertmanager/firing.json", ""),
            (Source::Flux, "flux/kustomization-validation-failed.json", ""),
            (Source::Argocd, "argocd/deployed.json", ""),
        ];
        let (source, file, event) = cases[index % cases.len()];
        let mut payload = json(&fixture(file));
        replace_nth_leaf(&mut payload, index / cases.len(), junk);
        let headers = [("X-Gitlab-Event", event)];
        let _ = read(source, &headers, &serde_json::to_vec(&payload).unwrap(), &ReadOptions::default());
    }
}

/// Replaces the `n`-th leaf value (depth first, wrapping around) with `junk`.
fn replace_nth_leaf(value: &mut serde_json::Value, n: usize, junk: serde_json::Value) {
    fn leaves(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => map.iter().for_each(|(key, v)| {
                leaves(
                    v,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                )
            }),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
            _ => out.push(at),
        }
    }
    let mut pointers = Vec::new();
    leaves(value, String::new(), &mut pointers);
    if let Some(pointer) = pointers.get(n % pointers.len().max(1))
        && let Some(leaf) = value.pointer_mut(pointer)
    {
        *leaf = junk;
    }
}
