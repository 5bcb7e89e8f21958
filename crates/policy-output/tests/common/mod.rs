//! A hand-built report with the awkward cases every format must survive: paths with spaces
//! and non-ASCII, stdin, messages with newlines and markup, a finding without position, an
//! excepted finding, repeated findings, a rule the report does not describe, input errors.

#![allow(dead_code)]

use pave_policy::report::ExceptionRef;
use pave_policy::rule::References;
use pave_policy::{Checked, Finding, InputError, ObjectRef, Report, RuleInfo, Severity, Status};
use pave_policy_output::RenderOptions;

pub(crate) const TRICKY_FILE: &str = "my dir/café ñ.yaml";
pub(crate) const TRICKY_MESSAGE: &str =
    "image \"evil:latest\" uses 100% of <limits> & more, see ]]>\nsecond line: a,b:c";

pub(crate) fn object(kind: &str, namespace: Option<&str>, name: &str) -> Option<ObjectRef> {
    Some(ObjectRef {
        kind: kind.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn finding(
    rule: &str,
    title: &str,
    severity: Severity,
    status: Status,
    message: &str,
    file: &str,
    position: Option<(u32, u32)>,
    object: Option<ObjectRef>,
    input: &str,
) -> Finding {
    Finding {
        rule: rule.to_owned().into(),
        title: title.to_owned().into(),
        severity,
        status,
        message: message.into(),
        file: file.into(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        object: object.map(std::sync::Arc::new),
        input: input.to_owned().into(),
        exception: None,
    }
}

fn rule(
    id: &str,
    title: &str,
    severity: Severity,
    input: &str,
    rationale: &str,
    remediation: &str,
    references: References,
) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: title.into(),
        severity,
        source: "builtin",
        input: Some(input.into()),
        rationale: rationale.into(),
        remediation: remediation.into(),
        references,
    }
}

pub(crate) fn rules() -> Vec<RuleInfo> {
    vec![
        rule(
            "pss-privileged",
            "Privileged containers",
            Severity::High,
            "kubernetes",
            "A privileged container has every capability of the host: escaping it is trivial.",
            "Set securityContext.privileged to false, or remove it.",
            References {
                pss: Some("privileged"),
                polaris: Some("privilegeEscalationAllowed"),
                kube_linter: Some("privileged-container"),
                kube_score: None,
                checkov: &["CKV_K8S_16"],
            },
        ),
        rule(
            "pss-capabilities",
            "Added capabilities",
            Severity::Medium,
            "kubernetes",
            "Capabilities beyond the default set widen what a compromised process can do.",
            "Drop the capability from securityContext.capabilities.add.",
            References {
                pss: Some("capabilities_baseline"),
                ..References::default()
            },
        ),
        rule(
            "pss-host-path",
            "HostPath volumes",
            Severity::High,
            "kubernetes",
            "HostPath volumes expose the node's file system.",
            "Use a persistentVolumeClaim, configMap or emptyDir instead.",
            References {
                pss: Some("hostPathVolumes"),
                ..References::default()
            },
        ),
        rule(
            "k8s-cpu-requests",
            "CPU requests",
            Severity::Low,
            "kubernetes",
            "Without a CPU request the scheduler cannot place the pod sensibly.",
            "Set resources.requests.cpu on every container.",
            References {
                polaris: Some("cpuRequestsMissing"),
                kube_score: Some("container-resources"),
                ..References::default()
            },
        ),
        rule(
            "docker-root-user",
            "Image runs as root",
            Severity::Medium,
            "dockerfile",
            "A process running as root in the container is root on the host once it escapes.",
            "Add a USER instruction with a non-root user after the last RUN.",
            References {
                checkov: &["CKV_DOCKER_3", "CKV_DOCKER_8"],
                ..References::default()
            },
        ),
    ]
}

pub(crate) fn report() -> Report {
    let web = || object("Deployment", Some("prod"), "web");
    let api = || object("Deployment", Some("pay"), "api");
    let mut excepted = finding(
        "pss-capabilities",
        "Added capabilities",
        Severity::Medium,
        Status::Excepted,
        "container \"api\" adds NET_ADMIN",
        TRICKY_FILE,
        Some((40, 11)),
        api(),
        "kubernetes",
    );
    excepted.exception = Some(Box::new(ExceptionRef {
        id: "EXC-7".into(),
        owner: "team-pay".into(),
        reason: "legacy CNI sidecar,\nremoved in Q2: see <JIRA-12> & co".into(),
        expires: "2026-03-31".into(),
    }));
    let findings = vec![
        finding(
            "docker-root-user",
            "Image runs as root",
            Severity::Medium,
            Status::Failed,
            "the image runs as root: no USER instruction",
            "Dockerfile",
            None,
            None,
            "dockerfile",
        ),
        finding(
            "deny_latest_tag",
            "deny_latest_tag",
            Severity::High,
            Status::Failed,
            "image nginx:latest uses the latest tag",
            "deploy/app.yaml",
            Some((1, 1)),
            web(),
            "kubernetes",
        ),
        finding(
            "pss-privileged",
            "Privileged containers",
            Severity::High,
            Status::Failed,
            "container \"web\" is privileged",
            "deploy/app.yaml",
            Some((12, 7)),
            web(),
            "kubernetes",
        ),
        finding(
            "pss-capabilities",
            "Added capabilities",
            Severity::Medium,
            Status::Failed,
            "a container adds SYS_ADMIN",
            "deploy/app.yaml",
            Some((15, 13)),
            web(),
            "kubernetes",
        ),
        // The same problem twice in one object (two containers, one message).
        finding(
            "pss-capabilities",
            "Added capabilities",
            Severity::Medium,
            Status::Failed,
            "a container adds SYS_ADMIN",
            "deploy/app.yaml",
            Some((24, 13)),
            web(),
            "kubernetes",
        ),
        finding(
            "k8s-cpu-requests",
            "CPU requests",
            Severity::Low,
            Status::Warning,
            "container \"web\" has no CPU request",
            "deploy/app.yaml",
            Some((18, 9)),
            web(),
            "kubernetes",
        ),
        finding(
            "pss-privileged",
            "Privileged containers",
            Severity::High,
            Status::Failed,
            TRICKY_MESSAGE,
            TRICKY_FILE,
            Some((9, 5)),
            api(),
            "kubernetes",
        ),
        excepted,
        finding(
            "k8s-cpu-requests",
            "CPU requests",
            Severity::Low,
            Status::Warning,
            "container \"debug\" has no CPU request",
            "-",
            Some((7, 9)),
            object("Pod", None, "debug"),
            "kubernetes",
        ),
    ];
    // As the engine orders them.
    let mut findings = findings;
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.rule).cmp(&(&b.file, b.line, b.column, &b.rule))
    });
    let checked = |file: &str, input: &str, object: Option<ObjectRef>| Checked {
        file: file.into(),
        input: input.into(),
        object,
    };
    Report {
        profile: "recommended".into(),
        fail_on: Severity::Medium,
        findings,
        rules: rules(),
        errors: vec![
            InputError {
                file: "broken.yaml".into(),
                line: Some(3),
                column: Some(5),
                message: "mapping values are not allowed in this context".into(),
            },
            InputError {
                file: "odd, name: 50%.yaml".into(),
                line: None,
                column: None,
                message: "cannot tell what kind of file this is; use --type\n(bell \u{7} here)"
                    .into(),
            },
        ],
        checked: vec![
            checked("Dockerfile", "dockerfile", None),
            checked("build/Dockerfile", "dockerfile", None),
            checked("deploy/app.yaml", "kubernetes", web()),
            checked(
                "deploy/app.yaml",
                "kubernetes",
                object("Service", Some("prod"), "web"),
            ),
            checked(TRICKY_FILE, "kubernetes", api()),
            checked("-", "kubernetes", object("Pod", None, "debug")),
            checked(
                "clean.yaml",
                "kubernetes",
                object("ConfigMap", Some("default"), "settings"),
            ),
        ],
    }
}

/// A report where everything passed.
pub(crate) fn clean_report() -> Report {
    let mut r = report();
    r.findings.clear();
    r.errors.clear();
    r
}

pub(crate) fn options() -> RenderOptions {
    let mut o = RenderOptions::default();
    o.tool_version = "0.1.0-test".into();
    o.working_dir = Some("/home/dev/repo".into());
    o.repo_root = Some("/home/dev/repo".into());
    o
}
