//! The validating admission webhook: answering `AdmissionReview` (admission.k8s.io/v1)
//! requests with the same engine, profile and exceptions as `pave check`, and writing the
//! `ValidatingWebhookConfiguration` that registers it.

use std::fmt::Write as _;
use std::sync::Arc;

use std::borrow::Cow;

use base64::Engine as _;
use pave_policy::{DocKind, Document, Policy, Report, Source, Status};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// Where `pave serve` answers admission requests.
pub const WEBHOOK_PATH: &str = "/api/admission/validate";

/// Kubernetes shows warnings of up to this many characters in full ("Limit warnings to 120
/// characters if possible. Warnings over 256 characters and large numbers of warnings may be
/// truncated": `AdmissionResponse.warnings`, k8s.io/api/admission/v1).
pub const MAX_WARNING_CHARS: usize = 120;
/// More warnings than this are summarised (large numbers may be dropped by the API server).
const MAX_WARNINGS: usize = 20;
/// Denials named in the status message; the rest are counted ("and 41 more").
pub const MAX_DENIALS_LISTED: usize = 10;
/// The status message, at most (characters): what `kubectl` prints, not a report.
pub const MAX_MESSAGE_CHARS: usize = 2048;
/// The largest object reviewed (bytes of its JSON). The API server refuses request bodies
/// over 3 MiB (and etcd stores at most 1.5 MiB), so no real object is larger; a review that
/// says otherwise is denied without being checked.
pub const MAX_OBJECT_BYTES: usize = 3 * 1024 * 1024;
/// The longest `request.uid` answered (Kubernetes sends 36-character UUIDs).
const MAX_UID_CHARS: usize = 128;

/// What the webhook answers when the policy cannot be evaluated for an object (a Rego policy
/// that failed or ran out of time), named as Kubernetes names a webhook's `failurePolicy`.
/// Either way the webhook stays up and answers the next review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// Deny, saying which policy could not be evaluated and why (fail closed).
    #[default]
    Fail,
    /// Allow, with the reason as a warning (fail open). Findings of the rules that did run
    /// still deny.
    Ignore,
}

impl std::str::FromStr for FailurePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "fail" => Ok(FailurePolicy::Fail),
            "ignore" => Ok(FailurePolicy::Ignore),
            _ => Err(format!("unknown failure policy `{s}` (use fail or ignore)")),
        }
    }
}

/// A request that cannot be answered with an `AdmissionResponse` (no uid to answer to).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AdmissionReview: {0}")]
pub struct BadReview(pub String);

/// The verdict, for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The `AdmissionReview` to send back (HTTP 200).
    pub review: Value,
    pub allowed: bool,
    /// The object, `Kind namespace/name`.
    pub object: String,
}

/// The parts of an `AdmissionReview` the webhook reads. `oldObject` and the rest are skipped
/// while parsing (never held), and the object stays JSON text until its size is checked.
#[derive(serde::Deserialize)]
struct ReviewIn<'a> {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    request: Option<RequestIn<'a>>,
}

#[derive(serde::Deserialize)]
struct RequestIn<'a> {
    #[serde(default)]
    uid: Option<Cow<'a, str>>,
    #[serde(default)]
    operation: Option<Cow<'a, str>>,
    #[serde(default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<Cow<'a, str>>,
    /// `{group, version, kind}` of the object.
    #[serde(default)]
    kind: Option<KindIn<'a>>,
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
}

#[derive(serde::Deserialize)]
struct KindIn<'a> {
    #[serde(default)]
    kind: Option<Cow<'a, str>>,
}

/// Answers an `AdmissionReview` request body; `failure` decides when the policy cannot be
/// evaluated for the object. The answer carries what the API server reads — uid, verdict,
/// a status message and warnings, each bounded — never the object.
pub fn review(
    policy: &Policy,
    failure: FailurePolicy,
    body: &[u8],
    now: i64,
) -> Result<Answer, BadReview> {
    let request: ReviewIn<'_> = serde_json::from_slice(body)
        .map_err(|e| BadReview(format!("the body is not JSON of an AdmissionReview: {e}")))?;
    let api_version = request.api_version.as_deref().unwrap_or("");
    if request.kind.as_deref() != Some("AdmissionReview") {
        return Err(BadReview("`kind` must be AdmissionReview".into()));
    }
    if api_version != "admission.k8s.io/v1" && api_version != "admission.k8s.io/v1beta1" {
        return Err(BadReview(format!(
            "unsupported apiVersion `{}` (use admission.k8s.io/v1)",
            truncate(api_version, 64)
        )));
    }
    let api_version = api_version.to_owned();
    let req = request
        .request
        .ok_or_else(|| BadReview("`request` is missing".into()))?;
    let uid = req
        .uid
        .as_deref()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| BadReview("`request.uid` is missing".into()))?;
    if uid.chars().count() > MAX_UID_CHARS {
        return Err(BadReview(format!(
            "`request.uid` is longer than {MAX_UID_CHARS} characters"
        )));
    }
    let operation = req.operation.as_deref().unwrap_or("CREATE");
    let respond = |response: Value| json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": response});

    // Nothing to judge when an object goes away.
    if operation == "DELETE" || operation == "CONNECT" {
        return Ok(Answer {
            review: respond(json!({"uid": uid, "allowed": true})),
            allowed: true,
            object: String::new(),
        });
    }
    let object = match prepare_object(&req) {
        Ok(object) => object,
        Err((code, reason, message)) => {
            return Ok(Answer {
                review: respond(json!({
                    "uid": uid,
                    "allowed": false,
                    "status": {"code": code, "reason": reason, "message": format!("pave: {message}")},
                })),
                allowed: false,
                object: String::new(),
            });
        }
    };
    // Findings grow with containers (a dozen rules each): past the limit, the policy is not
    // evaluated and the failure policy answers.
    let containers = count_containers(&object);
    if containers > MAX_CONTAINERS {
        let described = describe(&object);
        let reason = format!(
            "the object has {containers} containers; pave reviews at most {MAX_CONTAINERS}"
        );
        let (allowed, response) = failure_answer(uid, &described, &reason, failure);
        return Ok(Answer {
            review: respond(response),
            allowed,
            object: described,
        });
    }
    let doc = Document {
        source: Arc::new(Source {
            path: "admission".into(),
            text: String::new(),
        }),
        index: 0,
        base: Vec::new(),
        kind: DocKind::Kubernetes,
        value: object,
        dockerfile: None,
        start: pave_policy::doc::TextOffset::default(),
        spans: None,
    };
    let described = doc
        .object()
        .map(|o| truncate(&o.to_string(), MAX_OBJECT_NAME_CHARS))
        .unwrap_or_default();
    let report = policy.check_object(doc, now);
    let (allowed, response) = response_for(uid, &described, &report, failure);
    Ok(Answer {
        review: respond(response),
        allowed,
        object: described,
    })
}

/// `Kind/namespace/name` in messages, at most (a name is at most 253 characters).
const MAX_OBJECT_NAME_CHARS: usize = 300;

/// Containers (of every kind, in every pod template of the object) reviewed at most. The
/// built-in rules find a dozen things per bad container, each a finding in memory: a Pod of
/// 40,000 containers (3 MB) cost 1.3 s and 400 MB; 1,000 cost 30 ms and 10 MB.
pub const MAX_CONTAINERS: usize = 1_000;

/// The containers, init containers and ephemeral containers anywhere in `value`.
fn count_containers(value: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if let (
                        "containers" | "initContainers" | "ephemeralContainers",
                        Value::Array(items),
                    ) = (key.as_str(), child)
                    {
                        count += items.len();
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    count
}

/// `Kind/namespace/name` of a prepared object, bounded.
fn describe(object: &Value) -> String {
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(object, |v, k| v.get(*k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let namespace = field(&["metadata", "namespace"]);
    let name = field(&["metadata", "name"]);
    let text = if namespace.is_empty() {
        format!("{}/{name}", field(&["kind"]))
    } else {
        format!("{}/{namespace}/{name}", field(&["kind"]))
    };
    truncate(&text, MAX_OBJECT_NAME_CHARS)
}

/// The answer when the policy was not evaluated for `reason`: the failure policy decides.
fn failure_answer(uid: &str, object: &str, reason: &str, failure: FailurePolicy) -> (bool, Value) {
    match failure {
        FailurePolicy::Fail => {
            let message = format!(
                "pave could not evaluate the policy for {object} (failure policy Fail): {reason}"
            );
            (
                false,
                json!({"uid": uid, "allowed": false, "status": {"code": 500, "reason": "InternalError", "message": truncate(&message, MAX_MESSAGE_CHARS)}}),
            )
        }
        FailurePolicy::Ignore => {
            let warning =
                format!("pave could not evaluate the policy (failure policy Ignore): {reason}");
            (
                true,
                json!({"uid": uid, "allowed": true, "warnings": [truncate(&warning, MAX_WARNING_CHARS)]}),
            )
        }
    }
}

/// Why an object is not checked: (HTTP code, reason, message) of the denial.
type Refusal = (u16, &'static str, String);

/// The object to check: `request.object` with the request's namespace filled in (clients
/// often leave `metadata.namespace` out and let the API server default it).
fn prepare_object(req: &RequestIn<'_>) -> Result<Value, Refusal> {
    let bad = |message: &str| (400, "BadRequest", message.to_owned());
    let raw = match req.object {
        None => return Err(bad("`request.object` is missing")),
        Some(raw) if raw.get() == "null" => return Err(bad("`request.object` is missing")),
        Some(raw) => raw,
    };
    if raw.get().len() > MAX_OBJECT_BYTES {
        return Err((
            413,
            "RequestEntityTooLarge",
            format!(
                "the object is {} bytes; objects over {MAX_OBJECT_BYTES} bytes (3 MiB, more than the API server stores) are not reviewed",
                raw.get().len()
            ),
        ));
    }
    let mut object = match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(bad("`request.object` is not an object")),
        Err(e) => return Err(bad(&format!("`request.object` is not JSON: {e}"))),
    };
    if !object.contains_key("kind") {
        let kind = req
            .kind
            .as_ref()
            .and_then(|k| k.kind.as_deref())
            .ok_or_else(|| bad("`request.object` has no `kind`"))?;
        object.insert("kind".into(), Value::String(kind.to_owned()));
    }
    if !object.get("kind").is_some_and(Value::is_string) {
        return Err(bad("`request.object.kind` is not a string"));
    }
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(metadata) = metadata else {
        return Err(bad("`request.object.metadata` is not an object"));
    };
    if !metadata.contains_key("namespace")
        && let Some(ns) = req.namespace.as_deref().filter(|n| !n.is_empty())
    {
        metadata.insert("namespace".into(), Value::String(ns.to_owned()));
    }
    if !metadata.contains_key("name")
        && let Some(name) = req.name.as_deref()
    {
        metadata.insert("name".into(), Value::String(name.to_owned()));
    }
    Ok(Value::Object(object))
}

fn response_for(uid: &str, object: &str, report: &Report, failure: FailurePolicy) -> (bool, Value) {
    // Only what is shown is formatted: a Pod of 70,000 bad containers has 100,000s of
    // findings, and the answer stays a few kilobytes.
    let failed = || {
        report
            .findings
            .iter()
            .filter(|f| f.status == Status::Failed)
    };
    let denial_count = failed().count();
    let denials: Vec<String> = failed()
        .take(MAX_DENIALS_LISTED)
        .map(|f| truncate(&format!("[{}] {}", f.rule, f.message), MAX_DENIAL_CHARS))
        .collect();
    let warned = || {
        report.findings.iter().filter(|f| {
            f.status == Status::Warning || (f.status == Status::Excepted && f.exception.is_some())
        })
    };
    let warning_count = warned().count();
    let shown = if warning_count > MAX_WARNINGS {
        MAX_WARNINGS - 1
    } else {
        warning_count
    };
    let mut warnings: Vec<String> = warned()
        .take(shown)
        .map(|f| {
            let text = match &f.exception {
                Some(e) if f.status == Status::Excepted => {
                    format!("{} excepted by {} until {}", f.rule, e.id, e.expires)
                }
                _ => format!("{}: {}", f.rule, f.message),
            };
            truncate(&text, MAX_WARNING_CHARS)
        })
        .collect();
    if warning_count > shown {
        warnings.push(format!(
            "and {} more warnings (run pave check for all)",
            warning_count - shown
        ));
    }
    let errors: Vec<String> = report
        .errors
        .iter()
        .take(MAX_DENIALS_LISTED)
        .map(|e| truncate(&e.message, MAX_DENIAL_CHARS))
        .collect();
    let mut response = Map::new();
    response.insert("uid".into(), Value::String(uid.to_owned()));
    let fail_closed = !errors.is_empty() && failure == FailurePolicy::Fail;
    let allowed = denials.is_empty() && !fail_closed;
    response.insert("allowed".into(), Value::Bool(allowed));
    if !errors.is_empty() && failure == FailurePolicy::Ignore {
        warnings.insert(
            0,
            truncate(
                &format!(
                    "pave could not evaluate the policy (failure policy Ignore): {}",
                    errors.join("; ")
                ),
                MAX_WARNING_CHARS,
            ),
        );
    }
    if fail_closed {
        let message = format!(
            "pave could not evaluate the policy for {object} (failure policy Fail): {}",
            errors.join("; ")
        );
        response.insert(
            "status".into(),
            json!({"code": 500, "reason": "InternalError", "message": truncate(&message, MAX_MESSAGE_CHARS)}),
        );
    } else if !allowed {
        let mut message = format!("pave denied {object}: ");
        for (i, d) in denials.iter().enumerate() {
            if i > 0 {
                message.push_str("; ");
            }
            let _ = write!(message, "{d}");
        }
        if denial_count > denials.len() {
            let _ = write!(
                message,
                "; and {} more (run pave check for all)",
                denial_count - denials.len()
            );
        }
        response.insert(
            "status".into(),
            json!({"code": 403, "reason": "Forbidden", "message": truncate(&message, MAX_MESSAGE_CHARS)}),
        );
    }
    if !warnings.is_empty() {
        response.insert("warnings".into(), json!(warnings));
    }
    (allowed, Value::Object(response))
}

/// One denial in the status message, at most (characters).
const MAX_DENIAL_CHARS: usize = 200;

/// At most `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// How the webhook is registered.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// `metadata.name` of the configuration.
    pub name: String,
    /// The in-cluster Service in front of `pave serve` (ignored when `url` is set).
    pub service: String,
    pub namespace: String,
    pub port: u16,
    /// An `https://` URL instead of a Service (pave running outside the cluster).
    pub url: Option<String>,
    /// PEM of the CA that signed the server certificate.
    pub ca_pem: String,
    /// `Fail` (deny when pave is unreachable) or `Ignore`.
    pub failure_policy: String,
    pub timeout_seconds: u8,
}

/// Why no manifest could be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ManifestError(pub String);

/// The `ValidatingWebhookConfiguration` for the webhook, as YAML.
pub fn manifest(options: &ManifestOptions) -> Result<String, ManifestError> {
    if !options.ca_pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ManifestError(
            "the CA file holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".into(),
        ));
    }
    if !matches!(options.failure_policy.as_str(), "Fail" | "Ignore") {
        return Err(ManifestError(format!(
            "failure policy `{}`: use Fail or Ignore",
            options.failure_policy
        )));
    }
    if !(1..=30).contains(&options.timeout_seconds) {
        return Err(ManifestError("the timeout must be 1 to 30 seconds".into()));
    }
    let ca_bundle =
        base64::engine::general_purpose::STANDARD.encode(options.ca_pem.trim().as_bytes());
    let mut client_config = Map::new();
    match &options.url {
        Some(url) => {
            let rest = url.strip_prefix("https://").ok_or_else(|| {
                ManifestError(format!("webhook URL `{url}` must start with https://"))
            })?;
            if rest.contains(['?', '#', '@']) {
                return Err(ManifestError(format!(
                    "webhook URL `{url}` must have no user, query or fragment"
                )));
            }
            let base = url.trim_end_matches('/');
            client_config.insert("url".into(), Value::String(format!("{base}{WEBHOOK_PATH}")));
        }
        None => {
            client_config.insert(
                "service".into(),
                json!({"namespace": options.namespace, "name": options.service, "path": WEBHOOK_PATH, "port": options.port}),
            );
        }
    }
    client_config.insert("caBundle".into(), Value::String(ca_bundle));
    let rule = |groups: &[&str], versions: &[&str], resources: &[&str]| json!({"apiGroups": groups, "apiVersions": versions, "operations": ["CREATE", "UPDATE"], "resources": resources, "scope": "*"});
    let config = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {
            "name": options.name,
            "labels": {"app.kubernetes.io/name": "pave", "app.kubernetes.io/component": "admission-webhook"},
        },
        "webhooks": [{
            "name": "guardrails.pave.dev",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": options.failure_policy,
            "timeoutSeconds": options.timeout_seconds,
            "clientConfig": client_config,
            "rules": [
                rule(&[""], &["v1"], &["pods", "replicationcontrollers", "services"]),
                rule(&["apps"], &["v1"], &["deployments", "statefulsets", "daemonsets", "replicasets"]),
                rule(&["batch"], &["v1"], &["jobs", "cronjobs"]),
                rule(&["rbac.authorization.k8s.io"], &["v1"], &["roles", "rolebindings", "clusterroles", "clusterrolebindings"]),
                rule(&["networking.k8s.io"], &["v1"], &["ingresses", "networkpolicies"]),
                rule(&["policy"], &["v1"], &["poddisruptionbudgets"]),
                rule(&["autoscaling"], &["v2"], &["horizontalpodautoscalers"]),
            ],
            // Never lock out the control plane or pave itself.
            "namespaceSelector": {"matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", "kube-node-lease", options.namespace],
            }]},
        }],
    });
    Ok(pave_yaml::to_yaml_string(&config))
}

/// Answers a review whose policy evaluation could not finish (the webhook's time budget ran
/// out, or its workers were all busy), by `failure`: denied with code 500 (`Fail`) or
/// allowed with the reason as a warning (`Ignore`). Reads only `apiVersion`, `kind` and
/// `request.uid`; `reason` says what happened.
pub fn unevaluated(failure: FailurePolicy, body: &[u8], reason: &str) -> Result<Answer, BadReview> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "apiVersion", default)]
        api_version: String,
        #[serde(default)]
        kind: String,
        request: Option<Request>,
    }
    #[derive(serde::Deserialize)]
    struct Request {
        #[serde(default)]
        uid: String,
    }
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| BadReview(format!("the body is not an AdmissionReview: {e}")))?;
    if envelope.kind != "AdmissionReview" {
        return Err(BadReview("`kind` must be AdmissionReview".into()));
    }
    let api_version = envelope.api_version;
    if api_version != "admission.k8s.io/v1" && api_version != "admission.k8s.io/v1beta1" {
        return Err(BadReview(format!(
            "unsupported apiVersion `{api_version}` (use admission.k8s.io/v1)"
        )));
    }
    let uid = envelope
        .request
        .map(|r| r.uid)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| BadReview("`request.uid` is missing".into()))?;
    let (allowed, response) = match failure {
        FailurePolicy::Fail => (
            false,
            json!({"uid": uid, "allowed": false, "status": {"code": 500, "reason": "InternalError", "message": format!("pave could not evaluate the policy (failure policy Fail): {reason}")}}),
        ),
        FailurePolicy::Ignore => (
            true,
            json!({"uid": uid, "allowed": true, "warnings": [truncate(&format!("pave could not evaluate the policy (failure policy Ignore): {reason}"), MAX_WARNING_CHARS)]}),
        ),
    };
    Ok(Answer {
        review: json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": response}),
        allowed,
        object: String::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pave_policy::{Exceptions, PolicyConfig};

    use super::*;

    fn policy() -> Policy {
        Policy::new(PolicyConfig::default(), Exceptions::default())
    }

    fn request(object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "operation": "CREATE",
                "namespace": "shop",
                "object": object,
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_privileged_pod_is_denied_with_the_rule_named() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}});
        let answer = review(&policy(), FailurePolicy::Fail, &request(pod), 0).unwrap();
        assert!(!answer.allowed);
        let response = &answer.review["response"];
        assert_eq!(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(response["allowed"], false);
        assert_eq!(response["status"]["code"], 403);
        let message = response["status"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("pave denied Pod/shop/web: "),
            "{message}"
        );
        assert!(
            message.contains("[pss-privileged] container web"),
            "{message}"
        );
        assert_eq!(answer.review["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer.review["kind"], "AdmissionReview");
    }

    /// Custom rules that always fail to evaluate.
    struct Broken;

    impl pave_policy::CustomPolicies for Broken {
        fn rules(&self) -> Vec<pave_policy::RuleInfo> {
            Vec::new()
        }

        fn evaluate(
            &self,
            _: &Document,
        ) -> Result<Vec<pave_policy::CustomFinding>, pave_policy::EvaluationError> {
            Err(pave_policy::EvaluationError::Failed(
                "evaluation of data.main.deny failed".into(),
            ))
        }
    }

    #[test]
    fn the_failure_policy_decides_when_the_policy_cannot_be_evaluated() {
        let broken = policy().with_custom(Box::new(Broken));
        let only_broken =
            Policy::with_rules(Vec::new(), PolicyConfig::default(), Exceptions::default())
                .with_custom(Box::new(Broken));
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}});
        let fail = review(&broken, FailurePolicy::Fail, &request(pod.clone()), 0).unwrap();
        assert!(!fail.allowed);
        let status = &fail.review["response"]["status"];
        assert_eq!(status["code"], 500);
        let message = status["message"].as_str().unwrap();
        assert!(
            message.contains(
                "pave could not evaluate the policy for Pod/shop/web (failure policy Fail): "
            ),
            "{message}"
        );
        assert!(message.contains("data.main.deny failed"), "{message}");

        let ignore = review(&only_broken, FailurePolicy::Ignore, &request(pod), 0).unwrap();
        assert!(ignore.allowed);
        assert!(ignore.review["response"].get("status").is_none());
        let warning = ignore.review["response"]["warnings"][0].as_str().unwrap();
        assert!(
            warning.starts_with("pave could not evaluate the policy (failure policy Ignore)"),
            "{warning}"
        );

        // Built-in rules still deny under Ignore.
        let privileged = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}});
        let denied = review(&broken, FailurePolicy::Ignore, &request(privileged), 0).unwrap();
        assert!(!denied.allowed);
        assert_eq!("ignore".parse::<FailurePolicy>(), Ok(FailurePolicy::Ignore));
        assert!("sometimes".parse::<FailurePolicy>().is_err());
    }

    #[test]
    fn a_large_bad_pod_gets_a_small_answer() {
        let containers: Vec<Value> = (0..MAX_CONTAINERS)
            .map(|i| json!({"name": format!("c{i:05}"), "image": "nginx", "securityContext": {"privileged": true}}))
            .collect();
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
            "spec": {"containers": containers}});
        let body = request(pod);
        let answer = review(&policy(), FailurePolicy::Fail, &body, 0).unwrap();
        assert!(!answer.allowed);
        let text = answer.review.to_string();
        assert!(text.len() < 8 * 1024, "{} bytes: {text}", text.len());
        let response = answer.review["response"].as_object().unwrap();
        let keys: Vec<&String> = response.keys().collect();
        for key in &keys {
            assert!(
                ["uid", "allowed", "status", "warnings"].contains(&key.as_str()),
                "only what the API server reads: {keys:?}"
            );
        }
        let message = response["status"]["message"].as_str().unwrap();
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(
            message.contains("more (run pave check for all)"),
            "{message}"
        );
        let listed = message.matches("; [").count() + 1;
        assert!(
            (2..=MAX_DENIALS_LISTED).contains(&listed),
            "{listed}: {message}"
        );
        if let Some(warnings) = response.get("warnings").and_then(Value::as_array) {
            assert!(warnings.len() <= MAX_WARNINGS);
            assert!(
                warnings
                    .iter()
                    .all(|w| w.as_str().unwrap().chars().count() <= MAX_WARNING_CHARS)
            );
        }
    }

    #[test]
    fn pods_of_too_many_containers_are_answered_by_the_failure_policy() {
        let containers: Vec<Value> = (0..=MAX_CONTAINERS)
            .map(|i| json!({"name": format!("c{i}"), "image": "nginx:1.27"}))
            .collect();
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "wide"},
            "spec": {"template": {"spec": {"initContainers": [{"name": "i", "image": "busybox:1"}], "containers": containers}}}});
        assert_eq!(count_containers(&deployment), MAX_CONTAINERS + 2);
        let body = request(deployment);
        let fail = review(&policy(), FailurePolicy::Fail, &body, 0).unwrap();
        assert!(!fail.allowed);
        let message = fail.review["response"]["status"]["message"]
            .as_str()
            .unwrap();
        assert_eq!(
            message,
            "pave could not evaluate the policy for Deployment/shop/wide (failure policy Fail): the object has 1002 containers; pave reviews at most 1000"
        );
        let ignore = review(&policy(), FailurePolicy::Ignore, &body, 0).unwrap();
        assert!(ignore.allowed);
        let warning = ignore.review["response"]["warnings"][0].as_str().unwrap();
        assert!(warning.starts_with("pave could not evaluate the policy (failure policy Ignore)"));
        assert!(warning.chars().count() <= MAX_WARNING_CHARS);
    }

    #[test]
    fn oversized_objects_and_uids_are_refused_clearly() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fat",
            "annotations": {"a": "x".repeat(MAX_OBJECT_BYTES)}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
        let answer = review(&policy(), FailurePolicy::Ignore, &request(pod), 0).unwrap();
        assert!(!answer.allowed, "too large to be a real object: denied");
        let status = &answer.review["response"]["status"];
        assert_eq!(status["code"], 413);
        assert!(
            status["message"].as_str().unwrap().contains("3 MiB"),
            "{status}"
        );
        assert!(answer.review.to_string().len() < 1024);

        let long_uid = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u".repeat(1000), "operation": "CREATE", "object": {"kind": "Pod"}}}))
        .unwrap();
        let err = review(&policy(), FailurePolicy::Fail, &long_uid, 0).unwrap_err();
        assert!(err.to_string().contains("longer than 128"), "{err}");
        // `oldObject` is never looked at (nor kept).
        let update = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u2", "operation": "UPDATE", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}},
                "oldObject": {"anything": ["at", {"all": 1}]}}}))
        .unwrap();
        let answer = review(&policy(), FailurePolicy::Fail, &update, 0).unwrap();
        assert_eq!(answer.review["response"]["uid"], "u2");
    }

    #[test]
    fn warnings_are_short() {
        let long = "x".repeat(300);
        assert_eq!(
            truncate(&long, MAX_WARNING_CHARS).chars().count(),
            MAX_WARNING_CHARS
        );
        assert_eq!(truncate("short", MAX_WARNING_CHARS), "short");
    }

    #[test]
    fn deletes_are_allowed_and_broken_reviews_are_explained() {
        let delete = serde_json::to_vec(
            &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u1", "operation": "DELETE", "object": null}}),
        )
        .unwrap();
        assert!(
            review(&policy(), FailurePolicy::Fail, &delete, 0)
                .unwrap()
                .allowed
        );

        let missing = review(&policy(), FailurePolicy::Fail, &request(Value::Null), 0).unwrap();
        assert!(!missing.allowed);
        assert_eq!(missing.review["response"]["status"]["code"], 400);
        assert!(
            missing.review["response"]["status"]["message"]
                .as_str()
                .unwrap()
                .contains("request.object` is missing")
        );

        let not_object = review(&policy(), FailurePolicy::Fail, &request(json!(["a"])), 0).unwrap();
        assert!(
            not_object.review["response"]["status"]["message"]
                .as_str()
                .unwrap()
                .contains("not an object")
        );

        for (body, want) in [
            (&b"{not json"[..], "not JSON"),
            (br#"{"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}"#, "AdmissionReview"),
            (br#"{"apiVersion": "v2", "kind": "AdmissionReview", "request": {}}"#, "apiVersion"),
            (br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#, "`request` is missing"),
            (br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"object": {}}}"#, "uid"),
        ] {
            let err = review(&policy(), FailurePolicy::Fail, body, 0).unwrap_err();
            assert!(err.to_string().contains(want), "{err} should mention {want}");
        }
    }

    #[test]
    fn the_manifest_registers_the_service_with_its_ca() {
        let options = ManifestOptions {
            name: "pave-guardrails".into(),
            service: "pave".into(),
            namespace: "platform".into(),
            port: 443,
            url: None,
            ca_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            failure_policy: "Fail".into(),
            timeout_seconds: 5,
        };
        let yaml = manifest(&options).unwrap();
        let doc =
            &pave_yaml::parse_documents(&yaml, &pave_yaml::Limits::default()).unwrap()[0].value;
        let hook = &doc["webhooks"][0];
        assert_eq!(hook["clientConfig"]["service"]["path"], WEBHOOK_PATH);
        assert_eq!(hook["clientConfig"]["service"]["namespace"], "platform");
        let ca = base64::engine::general_purpose::STANDARD
            .decode(hook["clientConfig"]["caBundle"].as_str().unwrap())
            .unwrap();
        assert!(
            String::from_utf8(ca)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(hook["admissionReviewVersions"][0], "v1");
        assert_eq!(hook["sideEffects"], "None");

        let bad = ManifestOptions {
            url: Some("http://pave.example.com".into()),
            ..options.clone()
        };
        assert!(manifest(&bad).unwrap_err().to_string().contains("https://"));
        let bad = ManifestOptions {
            ca_pem: "hello".into(),
            ..options
        };
        assert!(manifest(&bad).is_err());
    }

    #[test]
    fn an_unevaluated_review_is_answered_by_the_failure_policy() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","object":{"kind":"Pod"}}}"#;
        let fail = unevaluated(FailurePolicy::Fail, body, "no answer within 3 s").unwrap();
        assert!(!fail.allowed);
        assert_eq!(fail.review["response"]["uid"], "u-1");
        assert_eq!(fail.review["response"]["status"]["code"], 500);
        let message = fail.review["response"]["status"]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains("no answer within 3 s"), "{message}");
        let ignore = unevaluated(FailurePolicy::Ignore, body, "no answer within 3 s").unwrap();
        assert!(ignore.allowed);
        assert_eq!(ignore.review["response"]["allowed"], true);
        assert!(
            ignore.review["response"]["warnings"][0]
                .as_str()
                .unwrap()
                .contains("Ignore")
        );
        assert!(unevaluated(FailurePolicy::Fail, b"{}", "x").is_err());
        assert!(
            unevaluated(
                FailurePolicy::Fail,
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}"#,
                "x"
            )
            .is_err()
        );
    }
}
