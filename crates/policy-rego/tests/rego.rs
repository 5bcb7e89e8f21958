//! conftest compatibility, errors and limits. Expected results follow conftest v0.69's
//! `policy/engine.go`, `output/result.go`, `runner/test.go` and `acceptance.bats` (conftest
//! itself cannot run here).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pave_policy::{
    CustomPolicies, Document, EvaluationError, Exceptions, Policy, PolicyConfig, Severity, Status,
    load,
};
use pave_policy_rego::{RegoError, RegoOptions, RegoPolicies, RegoVersion};
use serde_json::{Map, Value, json};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn docs(path: &str) -> Vec<Document> {
    let file = fixture(path);
    let text = std::fs::read_to_string(&file).unwrap();
    load(
        &file.to_string_lossy(),
        text,
        None,
        &pave_yaml::Limits::default(),
    )
    .unwrap()
}

fn policies(policy: &str, data: &[&str], options: RegoOptions) -> RegoPolicies {
    let data: Vec<PathBuf> = data.iter().map(|d| fixture(d)).collect();
    RegoPolicies::load(&[fixture(policy)], &data, options).unwrap()
}

fn from_source(source: &str, options: RegoOptions) -> Result<RegoPolicies, RegoError> {
    RegoPolicies::from_sources(
        [("policy.rego".to_owned(), source.to_owned())],
        Map::new(),
        options,
    )
}

/// `(rule, severity, message)` of every finding over `docs`, sorted (conftest's order
/// follows Go map iteration, so only the set is comparable).
fn findings(p: &RegoPolicies, docs: &[Document]) -> Vec<(String, Severity, String)> {
    let mut out: Vec<_> = docs
        .iter()
        .flat_map(|d| p.evaluate(d).unwrap())
        .map(|f| (f.rule, f.severity, f.message))
        .collect();
    out.sort();
    out
}

fn namespaces(list: &[&str]) -> RegoOptions {
    RegoOptions {
        namespaces: list.iter().map(|s| s.to_string()).collect(),
        ..RegoOptions::default()
    }
}

const HIGH: Severity = Severity::High;
const LOW: Severity = Severity::Low;

fn f(rule: &str, severity: Severity, message: &str) -> (String, Severity, String) {
    (rule.to_owned(), severity, message.to_owned())
}

#[test]
fn kubernetes_deployment_fails_like_conftest() {
    let p = policies("kubernetes/policy", &[], RegoOptions::default());
    assert_eq!(
        findings(&p, &docs("kubernetes/deployment.yaml")),
        [
            f(
                "main.deny",
                HIGH,
                "Containers must not run as root in Deployment hello-kubernetes"
            ),
            f(
                "main.deny",
                HIGH,
                "Deployment hello-kubernetes must provide app/release labels for pod selectors"
            ),
            f(
                "main.deny_labels",
                HIGH,
                r#"hello-kubernetes must include Kubernetes recommended labels, missing: ["app.kubernetes.io/instance"]"#
            ),
            f(
                "main.violation",
                HIGH,
                "Container sidecar uses the latest tag"
            ),
        ]
    );
    assert!(findings(&p, &docs("kubernetes/good-deployment.yaml")).is_empty());
}

#[test]
fn warnings_do_not_fail() {
    let p = policies("kubernetes/policy", &[], RegoOptions::default());
    assert_eq!(
        findings(&p, &docs("kubernetes/service.yaml")),
        [f(
            "main.warn",
            LOW,
            "Service hello-kubernetes is of type NodePort; prefer a LoadBalancer or an Ingress"
        )]
    );
    // Through pave's engine: `deny` fails at the default threshold, `warn` does not.
    let policy = Policy::with_rules(vec![], PolicyConfig::default(), Exceptions::default())
        .with_custom(Box::new(p));
    let mut all = docs("kubernetes/service.yaml");
    all.extend(docs("kubernetes/deployment.yaml"));
    let report = policy.check(&all, vec![], 0);
    let summary = report.summary();
    assert_eq!((summary.failed, summary.warnings), (4, 1));
    assert_eq!(report.exit_code(), 1);
    let warn = report
        .findings
        .iter()
        .find(|f| f.rule == "main.warn")
        .unwrap();
    assert_eq!(warn.status, Status::Warning);
    assert_eq!(warn.line, Some(1), "findings point at their document");
}

#[test]
fn violation_objects_keep_metadata() {
    let p = policies("kubernetes/policy", &[], RegoOptions::default());
    let doc = &docs("kubernetes/deployment.yaml")[0];
    let outcome = p.check(&doc.value, "deployment.yaml").unwrap();
    let violation = outcome
        .findings
        .iter()
        .find(|f| f.name == "violation")
        .unwrap();
    assert_eq!(violation.message, "Container sidecar uses the latest tag");
    assert_eq!(
        Value::Object(violation.metadata.clone()),
        json!({"details": {"container": "sidecar", "image": "envoyproxy/envoy:latest"}})
    );
}

#[test]
fn rules_are_described_from_metadata_or_their_files() {
    let p = policies("kubernetes/policy", &[], RegoOptions::default());
    let rules = p.rules();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "main.deny",
            "main.deny_labels",
            "main.violation",
            "main.warn"
        ]
    );
    let deny = &rules[0];
    assert_eq!(deny.title, "Containers must not run as root");
    assert_eq!(
        deny.rationale,
        "A container running as root can take over its node if it escapes."
    );
    assert_eq!(
        deny.remediation,
        "Set spec.template.spec.securityContext.runAsNonRoot to true."
    );
    assert_eq!((deny.source, deny.severity), ("rego", HIGH));
    let warn = &rules[3];
    assert_eq!((warn.title.as_str(), warn.severity), ("warn", LOW));
    assert!(warn.rationale.ends_with("kubernetes/policy/warn.rego)"));
}

#[test]
fn exceptions_set_results_aside_and_are_counted() {
    // conftest: "2 tests, 0 passed, 0 warnings, 1 failure, 1 exception".
    let p = policies("exceptions/policy", &[], RegoOptions::default());
    let all = docs("exceptions/deployments.yaml");
    assert_eq!(
        findings(&p, &all),
        [f(
            "main.deny_run_as_root",
            HIGH,
            "Containers must not run as root in Deployment cannot-run-as-root"
        )]
    );
    assert_eq!(p.excepted(), 1);
    let outcome = p.check(&all[1].value, "deployments.yaml").unwrap();
    assert!(outcome.findings.is_empty());
    assert_eq!(outcome.exceptions.len(), 1);
    assert_eq!(outcome.exceptions[0].rule, "main.deny_run_as_root");
    assert_eq!(outcome.exceptions[0].count, 1);
    let set_aside: Vec<&str> = outcome.exceptions[0]
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        set_aside,
        ["Containers must not run as root in Deployment can-run-as-root"]
    );
}

#[test]
fn empty_exception_name_covers_unsuffixed_rules() {
    let p = from_source(
        r#"package main
deny contains "plain deny" if true
violation contains {"msg": "plain violation"} if true
warn contains "plain warn" if true
deny_named contains "named deny" if true
exception contains [""] if input.exempt
"#,
        RegoOptions::default(),
    )
    .unwrap();
    let out = p.check(&json!({"exempt": true}), "x.json").unwrap();
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    // conftest's removeRulePrefix maps `warn` to "" too.
    assert_eq!(messages, ["named deny"]);
    let excepted: Vec<&str> = out.exceptions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(excepted, ["deny", "violation", "warn"]);
    let out = p.check(&json!({"exempt": false}), "x.json").unwrap();
    assert_eq!(out.findings.len(), 4);
}

#[test]
fn data_documents_load_like_opa() {
    let p = policies("data/policy", &["data/exclusions"], RegoOptions::default());
    assert_eq!(
        findings(&p, &docs("data/service.yaml")),
        [
            f(
                "main.deny",
                HIGH,
                "Cannot expose port 22 on LoadBalancer. Denied ports: [22, 21]"
            ),
            f(
                "main.deny",
                HIGH,
                "Image docker.io/library/nginx:1.27 comes from docker.io, which is not an allowed registry"
            ),
        ]
    );
}

#[test]
fn data_files_named_directly_or_with_a_prefix() {
    let source = r#"package main
deny contains sprintf("%v %v", [data.services.ports, data.extra.hosts]) if true
"#;
    let p = RegoPolicies::from_sources(
        [("p.rego".to_owned(), source.to_owned())],
        Map::new(),
        RegoOptions::default(),
    )
    .unwrap();
    // No data: the references are undefined, so nothing fails.
    assert!(p.check(&json!({}), "x").unwrap().findings.is_empty());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.rego"), source).unwrap();
    let prefixed = format!(
        "extra:{}",
        fixture("data/exclusions/registries/allowed.yaml").display()
    );
    let p = RegoPolicies::load(
        &[dir.path().to_owned()],
        &[
            fixture("data/exclusions/services.yaml"),
            PathBuf::from(prefixed),
        ],
        RegoOptions::default(),
    )
    .unwrap();
    let out = p.check(&json!({}), "x").unwrap();
    assert_eq!(
        out.findings[0].message,
        r#"[22, 21] ["registry.example.com", "ghcr.io"]"#
    );
}

#[test]
fn conflicting_or_malformed_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "services: {ports: [1]}\n").unwrap();
    let policy = [fixture("data/policy")];
    let err = RegoPolicies::load(
        &policy,
        &[
            dir.path().join("a.yaml"),
            fixture("data/exclusions/services.yaml"),
        ],
        RegoOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("data.services.ports is already set by another data file"),
        "{err}"
    );
    std::fs::write(dir.path().join("list.json"), "[1, 2]").unwrap();
    let err = RegoPolicies::load(
        &policy,
        &[dir.path().join("list.json")],
        RegoOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("must be an object"), "{err}");
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let err = RegoPolicies::load(
        &policy,
        &[dir.path().join("bad.json")],
        RegoOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, RegoError::Data { .. }), "{err}");
}

#[test]
fn dockerfiles_are_instruction_arrays() {
    let dockerfile = docs("docker/Dockerfile");
    let image = f(
        "main.deny",
        HIGH,
        r#"unallowed image found ["openjdk:8-jdk-alpine"]"#,
    );
    let commands = f(
        "commands.deny",
        HIGH,
        r#"unallowed commands found ["apk add --no-cache python3 && pip3 install awscli==1.18.1"]"#,
    );
    // acceptance.bats: "Can parse docker files", "matches a single namespace literally".
    let p = policies("docker/policy", &[], RegoOptions::default());
    assert_eq!(findings(&p, &dockerfile), std::slice::from_ref(&image));
    // "Test command with all namespaces flag".
    let all = RegoOptions {
        all_namespaces: true,
        ..RegoOptions::default()
    };
    let p = policies("docker/policy", &[], all);
    assert_eq!(p.namespaces(), ["commands", "main"]);
    assert_eq!(findings(&p, &dockerfile), [commands.clone(), image.clone()]);
    // "matches every namespace with a wildcard", "… with a wildcard prefix".
    let p = policies("docker/policy", &[], namespaces(&["*"]));
    assert_eq!(findings(&p, &dockerfile).len(), 2);
    let p = policies("docker/policy", &[], namespaces(&["c*"]));
    assert_eq!(findings(&p, &dockerfile), std::slice::from_ref(&commands));
    // Several literal namespaces.
    let p = policies("docker/policy", &[], namespaces(&["commands", "main"]));
    assert_eq!(findings(&p, &dockerfile), [commands, image]);
}

#[test]
fn namespaces_without_rules_pass() {
    // acceptance.bats: "Pass when testing a blank namespace".
    let p = policies("kubernetes/policy", &[], namespaces(&["notpresent"]));
    assert!(findings(&p, &docs("kubernetes/deployment.yaml")).is_empty());
    assert!(p.rules().is_empty());
    // A package with no conftest rules.
    let p = policies("kubernetes/policy", &[], namespaces(&["kubernetes"]));
    assert!(findings(&p, &docs("kubernetes/deployment.yaml")).is_empty());
    let err = RegoPolicies::load(&[fixture("kubernetes/policy")], &[], namespaces(&["[main"]))
        .unwrap_err();
    assert!(matches!(err, RegoError::NamespacePattern { .. }), "{err}");
}

#[test]
fn nested_namespaces_and_bracketed_packages() {
    let p = RegoPolicies::from_sources(
        [
            (
                "gke.rego".to_owned(),
                "package main.gke\ndeny contains \"gke\" if true\n".to_owned(),
            ),
            (
                "odd.rego".to_owned(),
                "package team[\"a-b\"]\ndeny contains \"odd\" if true\n".to_owned(),
            ),
        ],
        Map::new(),
        namespaces(&["main.*", "team.a-b"]),
    )
    .unwrap();
    assert_eq!(p.namespaces(), ["main.gke", "team.a-b"]);
    let out = p.check(&json!({}), "x").unwrap();
    let rules: Vec<&str> = out.findings.iter().map(|f| &*f.rule).collect();
    assert_eq!(rules, ["main.gke.deny", "team.a-b.deny"]);
}

#[test]
fn rego_v0_policies_need_the_option() {
    let err = RegoPolicies::load(&[fixture("v0/policy")], &[], RegoOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("v0/policy/v0.rego:4:11: "), "{err}");
    assert!(err.contains("`if` keyword is required"), "{err}");
    assert!(err.contains("--rego-version v0"), "{err}");

    let v0 = RegoOptions {
        rego_version: RegoVersion::V0,
        ..RegoOptions::default()
    };
    let p = policies("v0/policy", &[], v0);
    assert_eq!(
        findings(&p, &docs("kubernetes/deployment.yaml")),
        [f(
            "main.deny",
            HIGH,
            "Containers must not run as root in Deployment hello-kubernetes"
        )]
    );
    assert_eq!(
        findings(&p, &docs("exceptions/deployments.yaml"))
            .iter()
            .filter(|f| f.0 == "main.warn")
            .count(),
        2
    );
    // And the other way round: a v1 policy read as v0.
    let v0 = RegoOptions {
        rego_version: RegoVersion::V0,
        ..RegoOptions::default()
    };
    let err = RegoPolicies::load(&[fixture("exceptions/policy")], &[], v0).unwrap_err();
    assert!(err.to_string().contains("--rego-version v1"), "{err}");
    assert_eq!("v0".parse(), Ok(RegoVersion::V0));
    assert!("1".parse::<RegoVersion>().is_err());
}

#[test]
fn bracket_rules_with_if_are_refused_like_conftest() {
    // conftest tests/problematic-if: `deny[msg] if` makes an object, which never fails.
    let err = from_source(
        "package main\n\ndeny[msg] if {\n    msg := \"foo\"\n}\n",
        RegoOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy.rego:3: rule `deny` is using 'if' keyword without 'contains' keyword; write `deny contains msg if { … }`"
    );
    // A bare boolean rule loads, and passes (conftest: "1 test, 1 passed").
    let p = from_source(
        "package main\n\ndeny if {\n    true\n}\n",
        RegoOptions::default(),
    )
    .unwrap();
    assert!(p.check(&json!({}), "x").unwrap().findings.is_empty());
}

#[test]
fn only_sets_and_arrays_of_messages_fail() {
    let p = from_source(
        r#"package main
deny_str := "a string is not a result"
deny_obj := {"msg": "nor is an object"}
deny_list := ["from an array", 42, ""]
warn_set contains {"msg": "object", "severity": "x"} if true
warn_set contains "" if true
"#,
        RegoOptions::default(),
    )
    .unwrap();
    let out = p.check(&json!({}), "x").unwrap();
    let got: Vec<(&str, &str)> = out
        .findings
        .iter()
        .map(|f| (&*f.rule, f.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("main.deny_list", "from an array"),
            ("main.warn_set", "object")
        ]
    );
    let p = from_source(
        "package main\ndeny contains {\"message\": \"no msg\"} if true\n",
        RegoOptions::default(),
    )
    .unwrap();
    let err = p.check(&json!({}), "x").unwrap_err();
    assert!(matches!(err, EvaluationError::Failed(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("without a string \"msg\" field"), "{err}");
}

#[test]
fn conftest_file_data_names_the_document() {
    let p = from_source(
        "package main\ndeny contains data.conftest.file.name if true\nwarn contains \"absolute\" if startswith(data.conftest.file.dir, \"/\")\n",
        RegoOptions::default(),
    )
    .unwrap();
    let out = p.check(&json!({}), "k8s/deploy.yaml").unwrap();
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["deploy.yaml", "absolute"]);
}

#[test]
fn print_output_is_collected() {
    let p = from_source(
        "package main\ndeny contains \"x\" if {\n  print(\"checking\", input.kind)\n}\n",
        RegoOptions::default(),
    )
    .unwrap();
    let out = p.check(&json!({"kind": "Pod"}), "x").unwrap();
    assert_eq!(out.prints.len(), 1);
    assert!(out.prints[0].contains("checking Pod"), "{:?}", out.prints);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let err = from_source(
        "package main\n\ndeny contains msg if {\n  input.kind ==\n}\n",
        RegoOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "policy.rego:5:1: expecting expression");
    let err = from_source(
        "package main\ndeny contains msg if { x == 1; msg := \"a\" }\n",
        RegoOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("policy.rego:2:24: use of undefined variable `x` is unsafe"),
        "{err}"
    );
}

#[test]
fn runtime_errors_name_the_rule_and_document() {
    let p = from_source(
        "package main\nname = input.a if true\nname = input.b if true\ndeny contains name if true\n",
        RegoOptions::default(),
    )
    .unwrap();
    assert!(p.check(&json!({"a": 1, "b": 1}), "same.json").is_ok());
    let err = p.check(&json!({"a": 1, "b": 2}), "doc.json").unwrap_err();
    assert!(matches!(err, EvaluationError::Failed(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.starts_with(
            "evaluation of data.main.deny (policy.rego) failed on doc.json: policy.rego:3:1: "
        ),
        "{err}"
    );

    // Builtin errors: undefined by default (conftest), errors when strict.
    let source = "package main\ndeny contains \"x\" if contains(input.n, \"a\")\n";
    let lenient = from_source(source, RegoOptions::default()).unwrap();
    assert!(
        lenient
            .check(&json!({"n": 1}), "n.json")
            .unwrap()
            .findings
            .is_empty()
    );
    let strict = from_source(
        source,
        RegoOptions {
            strict_builtin_errors: true,
            ..RegoOptions::default()
        },
    )
    .unwrap();
    let err = strict.check(&json!({"n": 1}), "n.json").unwrap_err();
    assert!(matches!(err, EvaluationError::Failed(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("policy.rego:2:"), "{err}");
    assert!(err.contains("`contains` expects string argument"), "{err}");
}

fn quick(timeout_ms: u64) -> RegoOptions {
    RegoOptions {
        timeout: Duration::from_millis(timeout_ms),
        ..RegoOptions::default()
    }
}

#[test]
fn endless_policies_stop_at_the_time_limit() {
    let p = from_source(
        r#"package main
deny contains msg if {
	some i in numbers.range(1, 1000000)
	some j in numbers.range(1, 1000000)
	i + j < 0
	msg := "never"
}
"#,
        quick(300),
    )
    .unwrap();
    let start = Instant::now();
    let err = p.check(&json!({}), "deploy.yaml").unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // A slow policy is told apart from a broken one.
    assert_eq!(
        err,
        EvaluationError::TimedOut(
            "evaluation of data.main.deny (policy.rego) exceeded the time limit of 300ms on deploy.yaml".into()
        )
    );
}

#[test]
fn the_time_limit_covers_all_rules_of_a_document() {
    // Each rule alone fits in the limit; together they do not.
    let rule = |n: u32| {
        format!(
            "deny_{n} contains \"x\" if {{\n  some i in numbers.range(1, 100)\n  some j in numbers.range(1, 100)\n  i + j < 0\n}}\n"
        )
    };
    let one = from_source(&format!("package main\n{}", rule(0)), quick(200)).unwrap();
    assert!(one.check(&json!({}), "d").is_ok());
    let source = format!("package main\n{}", (0..2000).map(rule).collect::<String>());
    let p = from_source(&source, quick(200)).unwrap();
    let start = Instant::now();
    let err = p.check(&json!({}), "d").unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, EvaluationError::TimedOut(_)), "{err:?}");
    assert!(
        err.to_string().contains("exceeded the time limit of 200ms"),
        "{err}"
    );
}

#[test]
fn huge_ranges_are_refused_not_allocated() {
    // regorus would allocate the whole range up front and abort the process.
    let p = from_source(
        "package main\ndeny contains i if {\n  some i in numbers.range(1, 1000000000000)\n  i < 0\n}\n",
        quick(2000),
    )
    .unwrap();
    let err = p.check(&json!({}), "d").unwrap_err().to_string();
    assert!(
        err.contains("numbers.range(1, 1000000000000) would make 1000000000000 numbers; pave allows at most 1000000"),
        "{err}"
    );
    // Ordinary ranges still work, both ways and with steps.
    let p = from_source(
        "package main\ndeny contains sprintf(\"%v %v %v\", [numbers.range(3, 1), numbers.range_step(0, 10, 5), numbers.range_step(10, 1, 4)]) if true\n",
        quick(2000),
    )
    .unwrap();
    let out = p.check(&json!({}), "d").unwrap();
    assert_eq!(out.findings[0].message, "[3, 2, 1] [0, 5, 10] [10, 6, 2]");
}

#[test]
fn recursion_is_refused_when_policies_load() {
    // Rules (regorus alone found these only when evaluation reached them) and functions
    // (regorus alone overflowed the stack: exit 134).
    for (policy, cycle) in [
        (
            "package main\nxs := {x | some x in ys}\nys := {y | some y in xs}\ndeny contains \"x\" if count(xs) > 0\n",
            "policy.rego:2:1: rego_recursion_error: rule data.main.xs is recursive: data.main.xs -> data.main.ys -> data.main.xs",
        ),
        (
            "package main\nf(x) := f(x)\ndeny contains \"x\" if f(1)\n",
            "policy.rego:2:1: rego_recursion_error: rule data.main.f is recursive: data.main.f -> data.main.f",
        ),
        (
            "package main\nfact(n) := 1 if n <= 1\nfact(n) := n * fact(n - 1) if n > 1\ndeny contains \"x\" if fact(5) == 120\n",
            "rule data.main.fact is recursive: data.main.fact -> data.main.fact",
        ),
    ] {
        let err = from_source(policy, quick(2000)).unwrap_err().to_string();
        assert!(err.contains(cycle), "{err}");
    }
}

#[test]
fn the_deepest_accepted_rule_chain_evaluates() {
    // A chain of functions as deep as pave accepts evaluates on the evaluation thread's
    // stack (in a debug build, which uses the most stack) and the process stays up.
    let n = pave_policy_rego::MAX_RULE_DEPTH - 2; // with `deny`: MAX_RULE_DEPTH rules
    let mut policy = String::from("package main\n");
    for i in 0..n {
        policy.push_str(&format!("f{i}(x) := f{}(x) + 1\n", i + 1));
    }
    policy.push_str(&format!(
        "f{n}(x) := x\ndeny contains sprintf(\"%d\", [f0(0)]) if true\n"
    ));
    let p = from_source(&policy, quick(60_000)).unwrap();
    let out = p.check(&json!({}), "d").unwrap();
    assert_eq!(out.findings[0].message, n.to_string());
    // One rule more is refused at load.
    let longer = policy.replace(
        "package main\n",
        "package main\ng(x) := f0(x)\ng2(x) := g(x)\n",
    );
    let err = from_source(&longer, quick(2000)).unwrap_err().to_string();
    assert!(err.contains("starts a chain of"), "{err}");
}

#[test]
fn empty_or_unreadable_policy_directories() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        RegoPolicies::load(&[dir.path().to_owned()], &[], RegoOptions::default()).unwrap_err();
    assert!(matches!(err, RegoError::NoPolicies { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("no Rego policies (*.rego) found in ")
    );

    // Only tests and other files: still nothing to run.
    std::fs::write(dir.path().join("a_test.rego"), "package main\n").unwrap();
    std::fs::write(dir.path().join("notes.md"), "deny").unwrap();
    let err =
        RegoPolicies::load(&[dir.path().to_owned()], &[], RegoOptions::default()).unwrap_err();
    assert!(matches!(err, RegoError::NoPolicies { .. }), "{err}");

    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/bad.rego"),
        b"package main\n# \xff\xfe\n",
    )
    .unwrap();
    let err =
        RegoPolicies::load(&[dir.path().to_owned()], &[], RegoOptions::default()).unwrap_err();
    assert!(matches!(err, RegoError::NotUtf8 { .. }), "{err}");
    assert!(
        err.to_string().ends_with("sub/bad.rego: not UTF-8 text"),
        "{err}"
    );

    let err =
        RegoPolicies::load(&[dir.path().join("missing")], &[], RegoOptions::default()).unwrap_err();
    assert!(matches!(err, RegoError::Io { .. }), "{err}");

    // An empty file is not a policy (no package).
    std::fs::remove_file(dir.path().join("sub/bad.rego")).unwrap();
    std::fs::write(dir.path().join("sub/empty.rego"), "").unwrap();
    let err =
        RegoPolicies::load(&[dir.path().to_owned()], &[], RegoOptions::default()).unwrap_err();
    assert!(matches!(err, RegoError::Syntax { .. }), "{err}");
}

#[test]
fn long_lines_load() {
    let list: Vec<String> = (0..500)
        .map(|i| format!("\"registry-{i}.example.com\""))
        .collect();
    let source = format!(
        "package main\nallowed := [{}]\ndeny contains \"x\" if not input.registry in allowed\n",
        list.join(", ")
    );
    assert!(source.lines().nth(1).unwrap().len() > 10_000);
    let p = from_source(&source, RegoOptions::default()).unwrap();
    let out = p.check(&json!({"registry": "registry-499.example.com"}), "x");
    assert!(out.unwrap().findings.is_empty());
}

#[test]
fn no_panics_on_odd_sources() {
    let long = format!("package main\nx := \"{}\"\n", "a".repeat(5000));
    let sources = [
        "",
        "package",
        "package main\ndeny contains",
        "package main\ndeny contains msg if {",
        "package main\n\"unterminated",
        "package main\nx := `raw",
        "package main\ndeny[",
        "package main\n}}}]]]",
        "package main\nimport data.x as\n",
        &long,
        "package main\ndeny contains x if { x := [y | y := [z | z := [w | w := 1]]] }",
    ];
    for source in sources {
        // Either loads or explains; never panics.
        let _ = from_source(source, RegoOptions::default()).map(|p| p.check(&json!({}), "x"));
    }
}

#[test]
fn evaluation_is_shared_across_threads() {
    let p = policies("kubernetes/policy", &[], RegoOptions::default());
    let deployment = docs("kubernetes/deployment.yaml");
    let expected = findings(&p, &deployment);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(findings(&p, &deployment), expected);
                }
            });
        }
    });
}
