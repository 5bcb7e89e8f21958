//! Pod Security Standards, as the pod-security-admission checks define them for Kubernetes
//! v1.35: baseline and restricted, for every pod-bearing kind, over containers, init
//! containers and ephemeral containers.

use pave_yaml::PathSegment;
use serde_json::Value;

use super::pods::{PodView, pod_of};
use crate::doc::{DocKind, Document};
use crate::rule::{DocRule, References, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

const fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    tier: Tier,
    rationale: &'static str,
    remediation: &'static str,
    references: References,
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::Kubernetes,
        tier,
        rationale,
        remediation,
        references,
    }
}

const fn refs(
    pss: &'static str,
    polaris: Option<&'static str>,
    kube_linter: Option<&'static str>,
    checkov: &'static [&'static str],
) -> References {
    References {
        pss: Some(pss),
        polaris,
        kube_linter,
        kube_score: None,
        checkov,
    }
}

/// Runs `check` on the pod spec of every pod-bearing document.
fn on_pods(doc: &Document, emit: Emit<'_>, check: impl Fn(&PodView<'_>, Emit<'_>)) {
    if let Some(pod) = pod_of(doc) {
        check(&pod, emit);
    }
}

fn is_true(v: Option<&Value>) -> bool {
    v == Some(&Value::Bool(true))
}

pub(crate) fn rules() -> Vec<DocRule> {
    vec![
        DocRule {
            meta: meta(
                "pss-host-process",
                "Windows HostProcess containers",
                Severity::Critical,
                Tier::Baseline,
                "A HostProcess container runs directly on the Windows node with full access to it.",
                "Remove `windowsOptions.hostProcess: true` from the pod and its containers.",
                refs("windowsHostProcess", Some("hostProcess"), None, &[]),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if is_true(pod.get(&["securityContext", "windowsOptions", "hostProcess"])) {
                        emit(
                            pod.at(&["securityContext", "windowsOptions", "hostProcess"]),
                            "pod sets windowsOptions.hostProcess: true".into(),
                        );
                    }
                    for c in pod.containers() {
                        if is_true(c.get(&["securityContext", "windowsOptions", "hostProcess"])) {
                            emit(
                                c.at(&["securityContext", "windowsOptions", "hostProcess"]),
                                format!("{} sets windowsOptions.hostProcess: true", c.label()),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-host-namespaces",
                "Host namespaces",
                Severity::High,
                Tier::Baseline,
                "Sharing the node's network, PID or IPC namespace lets a pod see and reach the node's processes and traffic.",
                "Remove `hostNetwork`, `hostPID` and `hostIPC`, or set them to false.",
                refs(
                    "hostNamespaces",
                    Some("hostNetworkSet"),
                    Some("host-network"),
                    &["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    for field in ["hostNetwork", "hostPID", "hostIPC"] {
                        if is_true(pod.get(&[field])) {
                            emit(pod.at(&[field]), format!("pod sets {field}: true"));
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-privileged",
                "Privileged containers",
                Severity::Critical,
                Tier::Baseline,
                "A privileged container has every capability and the node's devices: it is root on the node.",
                "Remove `securityContext.privileged: true`; grant specific capabilities only if truly needed.",
                refs(
                    "privileged",
                    Some("runAsPrivileged"),
                    Some("privileged-container"),
                    &["CKV_K8S_16"],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    for c in pod.containers() {
                        if is_true(c.get(&["securityContext", "privileged"])) {
                            emit(
                                c.at(&["securityContext", "privileged"]),
                                format!("{} is privileged", c.label()),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-capabilities",
                "Capabilities beyond the default set",
                Severity::High,
                Tier::Baseline,
                "Capabilities such as SYS_ADMIN or NET_ADMIN give a container powers over the node.",
                "Add only capabilities from the default set (e.g. NET_BIND_SERVICE); drop the rest.",
                refs(
                    "capabilities_baseline",
                    Some("dangerousCapabilities"),
                    None,
                    &["CKV_K8S_39"],
                ),
            ),
            check: |_, doc, emit| {
                const ALLOWED: &[&str] = &[
                    "AUDIT_WRITE",
                    "CHOWN",
                    "DAC_OVERRIDE",
                    "FOWNER",
                    "FSETID",
                    "KILL",
                    "MKNOD",
                    "NET_BIND_SERVICE",
                    "SETFCAP",
                    "SETGID",
                    "SETPCAP",
                    "SETUID",
                    "SYS_CHROOT",
                ];
                on_pods(doc, emit, |pod, emit| {
                    for c in pod.containers() {
                        if let Some(Value::Array(add)) =
                            c.get(&["securityContext", "capabilities", "add"])
                        {
                            for (i, cap) in add.iter().enumerate() {
                                let name = cap.as_str().unwrap_or("");
                                if !ALLOWED.contains(&name) {
                                    let mut path =
                                        c.at(&["securityContext", "capabilities", "add"]);
                                    path.push(PathSegment::Index(i));
                                    emit(path, format!("{} adds capability {name}", c.label()));
                                }
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-host-path",
                "HostPath volumes",
                Severity::High,
                Tier::Baseline,
                "A hostPath volume exposes the node's file system to the pod.",
                "Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of hostPath.",
                refs(
                    "hostPathVolumes",
                    Some("hostPathSet"),
                    Some("sensitive-host-mounts"),
                    &[],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if let Some(Value::Array(volumes)) = pod.get(&["volumes"]) {
                        for (i, v) in volumes.iter().enumerate() {
                            if v.get("hostPath").is_some_and(|h| !h.is_null()) {
                                let mut path = pod.at(&["volumes"]);
                                path.extend([
                                    PathSegment::Index(i),
                                    PathSegment::Key("hostPath".into()),
                                ]);
                                let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
                                emit(path, format!("volume {name} is a hostPath"));
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-host-ports",
                "Host ports",
                Severity::Medium,
                Tier::Baseline,
                "A hostPort binds the node's network interface, bypassing network policies and limiting scheduling.",
                "Remove `hostPort`; expose the pod through a Service.",
                refs("hostPorts", Some("hostPortSet"), None, &[]),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    for c in pod.containers() {
                        if let Some(Value::Array(ports)) = c.get(&["ports"]) {
                            for (i, p) in ports.iter().enumerate() {
                                if let Some(host) = p
                                    .get("hostPort")
                                    .and_then(Value::as_i64)
                                    .filter(|h| *h != 0)
                                {
                                    let mut path = c.at(&["ports"]);
                                    path.extend([
                                        PathSegment::Index(i),
                                        PathSegment::Key("hostPort".into()),
                                    ]);
                                    emit(path, format!("{} uses hostPort {host}", c.label()));
                                }
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-apparmor",
                "AppArmor profile overridden",
                Severity::High,
                Tier::Baseline,
                "Running Unconfined (or any non-default profile) removes AppArmor's confinement.",
                "Use the runtime default AppArmor profile or a profile loaded on the node (Localhost).",
                refs("appArmorProfile", None, None, &["CKV_K8S_29"]),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if let Some(Value::Object(annotations)) =
                        pod.metadata.and_then(|m| m.get("annotations"))
                    {
                        for (key, value) in annotations {
                            if key.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                                let v = value.as_str().unwrap_or("");
                                if !(v.is_empty()
                                    || v == "runtime/default"
                                    || v.starts_with("localhost/"))
                                {
                                    let mut path = pod.metadata_path.clone();
                                    path.extend([
                                        PathSegment::Key("annotations".into()),
                                        PathSegment::Key(key.clone()),
                                    ]);
                                    emit(path, format!("annotation {key} is {v}"));
                                }
                            }
                        }
                    }
                    let bad = |v: Option<&Value>| {
                        v.and_then(Value::as_str)
                            .is_some_and(|t| t != "RuntimeDefault" && t != "Localhost")
                    };
                    if bad(pod.get(&["securityContext", "appArmorProfile", "type"])) {
                        emit(
                            pod.at(&["securityContext", "appArmorProfile", "type"]),
                            "pod sets an AppArmor profile other than RuntimeDefault or Localhost"
                                .into(),
                        );
                    }
                    for c in pod.containers() {
                        if bad(c.get(&["securityContext", "appArmorProfile", "type"])) {
                            emit(
                                c.at(&["securityContext", "appArmorProfile", "type"]),
                                format!(
                                    "{} sets an AppArmor profile other than RuntimeDefault or Localhost",
                                    c.label()
                                ),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-selinux",
                "Custom SELinux options",
                Severity::High,
                Tier::Baseline,
                "Setting the SELinux user or role, or an unusual type, can escape the container's SELinux confinement.",
                "Leave seLinuxOptions.user and .role unset and use a container type (container_t, container_init_t, container_kvm_t, container_engine_t).",
                refs("seLinuxOptions", None, None, &[]),
            ),
            check: |_, doc, emit| {
                const TYPES: &[&str] = &[
                    "",
                    "container_t",
                    "container_init_t",
                    "container_kvm_t",
                    "container_engine_t",
                ];
                let check =
                    |options: Option<&Value>, path: Vec<PathSegment>, who: &str, emit: Emit<'_>| {
                        let Some(options) = options else { return };
                        if let Some(t) = options.get("type").and_then(Value::as_str)
                            && !TYPES.contains(&t)
                        {
                            let mut p = path.clone();
                            p.push(PathSegment::Key("type".into()));
                            emit(p, format!("{who} sets seLinuxOptions.type {t}"));
                        }
                        for field in ["user", "role"] {
                            if options
                                .get(field)
                                .and_then(Value::as_str)
                                .is_some_and(|v| !v.is_empty())
                            {
                                let mut p = path.clone();
                                p.push(PathSegment::Key(field.into()));
                                emit(p, format!("{who} sets seLinuxOptions.{field}"));
                            }
                        }
                    };
                on_pods(doc, emit, |pod, emit| {
                    check(
                        pod.get(&["securityContext", "seLinuxOptions"]),
                        pod.at(&["securityContext", "seLinuxOptions"]),
                        "pod",
                        emit,
                    );
                    for c in pod.containers() {
                        check(
                            c.get(&["securityContext", "seLinuxOptions"]),
                            c.at(&["securityContext", "seLinuxOptions"]),
                            &c.label(),
                            emit,
                        );
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-proc-mount",
                "Unmasked /proc",
                Severity::High,
                Tier::Baseline,
                "An Unmasked /proc exposes kernel interfaces that are normally hidden from containers.",
                "Remove `procMount` or set it to Default (pods with `hostUsers: false` may unmask).",
                refs(
                    "procMount",
                    Some("procMount"),
                    Some("unsafe-proc-mount"),
                    &[],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if pod.user_namespaced() {
                        return;
                    }
                    for c in pod.containers() {
                        if let Some(m) = c
                            .get(&["securityContext", "procMount"])
                            .and_then(Value::as_str)
                            .filter(|m| *m != "Default")
                        {
                            emit(
                                c.at(&["securityContext", "procMount"]),
                                format!("{} sets procMount: {m}", c.label()),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-seccomp",
                "Seccomp disabled",
                Severity::High,
                Tier::Baseline,
                "An Unconfined seccomp profile lets the container make every system call.",
                "Use seccompProfile type RuntimeDefault (or Localhost).",
                refs("seccompProfile_baseline", None, None, &["CKV_K8S_31"]),
            ),
            check: |_, doc, emit| {
                let bad = |v: Option<&Value>| {
                    v.and_then(Value::as_str)
                        .is_some_and(|t| t != "RuntimeDefault" && t != "Localhost")
                };
                on_pods(doc, emit, |pod, emit| {
                    if bad(pod.get(&["securityContext", "seccompProfile", "type"])) {
                        emit(
                            pod.at(&["securityContext", "seccompProfile", "type"]),
                            "pod sets seccompProfile type Unconfined".into(),
                        );
                    }
                    for c in pod.containers() {
                        if bad(c.get(&["securityContext", "seccompProfile", "type"])) {
                            emit(
                                c.at(&["securityContext", "seccompProfile", "type"]),
                                format!("{} sets seccompProfile type Unconfined", c.label()),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-sysctls",
                "Unsafe sysctls",
                Severity::High,
                Tier::Baseline,
                "Sysctls outside the safe set change kernel behaviour for the whole node.",
                "Use only the safe sysctls (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, …).",
                refs("sysctls", None, Some("unsafe-sysctls"), &[]),
            ),
            check: |_, doc, emit| {
                const SAFE: &[&str] = &[
                    "kernel.shm_rmid_forced",
                    "net.ipv4.ip_local_port_range",
                    "net.ipv4.ip_unprivileged_port_start",
                    "net.ipv4.tcp_syncookies",
                    "net.ipv4.ping_group_range",
                    "net.ipv4.ip_local_reserved_ports",
                    "net.ipv4.tcp_keepalive_time",
                    "net.ipv4.tcp_fin_timeout",
                    "net.ipv4.tcp_keepalive_intvl",
                    "net.ipv4.tcp_keepalive_probes",
                    "net.ipv4.tcp_rmem",
                    "net.ipv4.tcp_wmem",
                ];
                on_pods(doc, emit, |pod, emit| {
                    if let Some(Value::Array(sysctls)) = pod.get(&["securityContext", "sysctls"]) {
                        for (i, s) in sysctls.iter().enumerate() {
                            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                            if !SAFE.contains(&name) {
                                let mut path = pod.at(&["securityContext", "sysctls"]);
                                path.extend([
                                    PathSegment::Index(i),
                                    PathSegment::Key("name".into()),
                                ]);
                                emit(path, format!("pod sets unsafe sysctl {name}"));
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-host-probes",
                "Probes and lifecycle hooks aimed at other hosts",
                Severity::Medium,
                Tier::Baseline,
                "A probe or hook with a `host` makes the kubelet connect to any address, from the node.",
                "Leave `host` unset in httpGet and tcpSocket probes and lifecycle handlers.",
                refs("hostProbesAndHostLifecycle", None, None, &[]),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    for c in pod.containers() {
                        for handler in [
                            &["livenessProbe"][..],
                            &["readinessProbe"],
                            &["startupProbe"],
                            &["lifecycle", "postStart"],
                            &["lifecycle", "preStop"],
                        ] {
                            for action in ["httpGet", "tcpSocket"] {
                                let mut at: Vec<&str> = handler.to_vec();
                                at.extend([action, "host"]);
                                if let Some(host) =
                                    c.get(&at).and_then(Value::as_str).filter(|h| !h.is_empty())
                                {
                                    emit(
                                        c.at(&at),
                                        format!(
                                            "{} {} targets host {host}",
                                            c.label(),
                                            handler.join(".")
                                        ),
                                    );
                                }
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-restricted-volumes",
                "Volume types outside the restricted set",
                Severity::Medium,
                Tier::Restricted,
                "Only ephemeral and projected volume types are known to be safe from node access.",
                "Use configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.",
                refs("restrictedVolumes", None, None, &[]),
            ),
            check: |_, doc, emit| {
                const DISALLOWED: &[&str] = &[
                    "hostPath",
                    "gcePersistentDisk",
                    "awsElasticBlockStore",
                    "gitRepo",
                    "nfs",
                    "iscsi",
                    "glusterfs",
                    "rbd",
                    "flexVolume",
                    "cinder",
                    "cephfs",
                    "flocker",
                    "fc",
                    "azureFile",
                    "vsphereVolume",
                    "quobyte",
                    "azureDisk",
                    "portworxVolume",
                    "photonPersistentDisk",
                    "scaleIO",
                    "storageos",
                ];
                on_pods(doc, emit, |pod, emit| {
                    if let Some(Value::Array(volumes)) = pod.get(&["volumes"]) {
                        for (i, v) in volumes.iter().enumerate() {
                            for t in DISALLOWED {
                                if v.get(*t).is_some_and(|x| !x.is_null()) {
                                    let mut path = pod.at(&["volumes"]);
                                    path.extend([
                                        PathSegment::Index(i),
                                        PathSegment::Key((*t).into()),
                                    ]);
                                    let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
                                    emit(path, format!("volume {name} uses the {t} volume type"));
                                }
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-privilege-escalation",
                "Privilege escalation allowed",
                Severity::High,
                Tier::Restricted,
                "Without allowPrivilegeEscalation: false a process can gain more privileges than its parent (setuid binaries).",
                "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
                refs(
                    "allowPrivilegeEscalation",
                    Some("privilegeEscalationAllowed"),
                    Some("privilege-escalation-container"),
                    &["CKV_K8S_20"],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if pod.is_windows() {
                        return;
                    }
                    for c in pod.containers() {
                        if c.get(&["securityContext", "allowPrivilegeEscalation"])
                            != Some(&Value::Bool(false))
                        {
                            emit(
                                c.at(&["securityContext", "allowPrivilegeEscalation"]),
                                format!(
                                    "{} must set securityContext.allowPrivilegeEscalation: false",
                                    c.label()
                                ),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-run-as-non-root",
                "Containers may run as root",
                Severity::High,
                Tier::Restricted,
                "A container running as root is one kernel bug away from root on the node.",
                "Set `securityContext.runAsNonRoot: true` on the pod (or on every container) and use a non-root image user.",
                refs(
                    "runAsNonRoot",
                    Some("runAsRootAllowed"),
                    Some("run-as-non-root"),
                    &["CKV_K8S_23"],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    let pod_value = pod.get(&["securityContext", "runAsNonRoot"]);
                    if pod_value == Some(&Value::Bool(false)) {
                        emit(
                            pod.at(&["securityContext", "runAsNonRoot"]),
                            "pod sets runAsNonRoot: false".into(),
                        );
                    }
                    if pod.user_namespaced() {
                        return;
                    }
                    let pod_true = is_true(pod_value);
                    for c in pod.containers() {
                        match c.get(&["securityContext", "runAsNonRoot"]) {
                            Some(Value::Bool(false)) => emit(
                                c.at(&["securityContext", "runAsNonRoot"]),
                                format!("{} sets runAsNonRoot: false", c.label()),
                            ),
                            Some(Value::Bool(true)) => {}
                            _ if pod_true => {}
                            _ => emit(
                                c.at(&["securityContext", "runAsNonRoot"]),
                                format!(
                                    "{} must set runAsNonRoot: true (or the pod must)",
                                    c.label()
                                ),
                            ),
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-run-as-user",
                "Runs as user 0",
                Severity::High,
                Tier::Restricted,
                "runAsUser: 0 is root, whatever runAsNonRoot says.",
                "Set runAsUser to a non-zero UID, or leave it to the image.",
                refs("runAsUser", Some("runAsRootAllowed"), None, &["CKV_K8S_40"]),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if pod.user_namespaced() {
                        return;
                    }
                    if pod
                        .get(&["securityContext", "runAsUser"])
                        .and_then(Value::as_i64)
                        == Some(0)
                    {
                        emit(
                            pod.at(&["securityContext", "runAsUser"]),
                            "pod sets runAsUser: 0".into(),
                        );
                    }
                    for c in pod.containers() {
                        if c.get(&["securityContext", "runAsUser"])
                            .and_then(Value::as_i64)
                            == Some(0)
                        {
                            emit(
                                c.at(&["securityContext", "runAsUser"]),
                                format!("{} sets runAsUser: 0", c.label()),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-seccomp-restricted",
                "Seccomp profile not set",
                Severity::Medium,
                Tier::Restricted,
                "The restricted level requires an explicit seccomp profile on the pod or every container.",
                "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
                refs("seccompProfile_restricted", None, None, &["CKV_K8S_31"]),
            ),
            check: |_, doc, emit| {
                let allowed = |v: Option<&Value>| {
                    v.and_then(Value::as_str)
                        .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
                };
                on_pods(doc, emit, |pod, emit| {
                    if pod.is_windows() {
                        return;
                    }
                    let pod_type = pod.get(&["securityContext", "seccompProfile", "type"]);
                    if pod_type.is_some() && !allowed(pod_type) {
                        emit(
                            pod.at(&["securityContext", "seccompProfile", "type"]),
                            "pod seccompProfile type must be RuntimeDefault or Localhost".into(),
                        );
                    }
                    for c in pod.containers() {
                        let t = c.get(&["securityContext", "seccompProfile", "type"]);
                        if t.is_some() {
                            if !allowed(t) {
                                emit(
                                    c.at(&["securityContext", "seccompProfile", "type"]),
                                    format!(
                                        "{} seccompProfile type must be RuntimeDefault or Localhost",
                                        c.label()
                                    ),
                                );
                            }
                        } else if !allowed(pod_type) {
                            emit(
                                c.at(&["securityContext", "seccompProfile"]),
                                format!(
                                    "{} has no seccompProfile, and the pod sets none",
                                    c.label()
                                ),
                            );
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-capabilities-restricted",
                "Capabilities not dropped",
                Severity::Medium,
                Tier::Restricted,
                "Containers keep the runtime's default capabilities unless they drop them.",
                "Set `capabilities.drop: [ALL]` and add back only NET_BIND_SERVICE if needed.",
                refs(
                    "capabilities_restricted",
                    None,
                    Some("drop-net-raw-capability"),
                    &["CKV_K8S_28", "CKV_K8S_37"],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    if pod.is_windows() {
                        return;
                    }
                    for c in pod.containers() {
                        let drops_all = matches!(c.get(&["securityContext", "capabilities", "drop"]), Some(Value::Array(d)) if d.iter().any(|x| x.as_str() == Some("ALL")));
                        if !drops_all {
                            emit(
                                c.at(&["securityContext", "capabilities", "drop"]),
                                format!("{} must drop ALL capabilities", c.label()),
                            );
                        }
                        if let Some(Value::Array(add)) =
                            c.get(&["securityContext", "capabilities", "add"])
                        {
                            for (i, cap) in add.iter().enumerate() {
                                let name = cap.as_str().unwrap_or("");
                                if name != "NET_BIND_SERVICE" {
                                    let mut path =
                                        c.at(&["securityContext", "capabilities", "add"]);
                                    path.push(PathSegment::Index(i));
                                    emit(
                                        path,
                                        format!(
                                            "{} adds capability {name} (only NET_BIND_SERVICE is allowed)",
                                            c.label()
                                        ),
                                    );
                                }
                            }
                        }
                    }
                });
            },
        },
        DocRule {
            meta: meta(
                "pss-proc-mount-restricted",
                "Unmasked /proc (restricted)",
                Severity::High,
                Tier::Restricted,
                "The restricted level never allows an Unmasked /proc, even with user namespaces.",
                "Remove `procMount` or set it to Default.",
                refs(
                    "procMount_restricted",
                    Some("procMount"),
                    Some("unsafe-proc-mount"),
                    &[],
                ),
            ),
            check: |_, doc, emit| {
                on_pods(doc, emit, |pod, emit| {
                    for c in pod.containers() {
                        if let Some(m) = c
                            .get(&["securityContext", "procMount"])
                            .and_then(Value::as_str)
                            .filter(|m| *m != "Default")
                        {
                            emit(
                                c.at(&["securityContext", "procMount"]),
                                format!("{} sets procMount: {m}", c.label()),
                            );
                        }
                    }
                });
            },
        },
    ]
}
