//! Kubernetes best practices beyond the Pod Security Standards: resources, probes, images,
//! availability (replicas, disruption budgets, spreading, autoscalers), network policies,
//! service accounts, secrets in plain sight, RBAC, required labels, and references between
//! objects that point at nothing.
//!
//! Rules that relate documents index them first (by namespace, kind, name and pod labels),
//! so a run stays linear in the number of documents. An object without `metadata.namespace`
//! lands wherever it is applied (`kubectl apply -n`, Helm's release namespace), so it is taken
//! to share a namespace with anything, as Polaris does; objects with different explicit
//! namespaces never meet.
//!
//! Pod-bearing objects that a controller owns (`ownerReferences` with `controller: true`, as
//! in `kubectl get -o yaml` dumps) are not checked on their own: their findings belong on the
//! controller. They still count as pods when a selector is matched.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use pave_yaml::PathSegment;
use serde_json::{Map, Value};

use super::pods::{PodRef, pod_ref};
use crate::config::RuleSettings;
use crate::doc::{DocKind, Document};
use crate::path;
use crate::rule::{Context, DocRule, RawFinding, References, Rule, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

const fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    references: References,
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::Kubernetes,
        tier: Tier::Recommended,
        rationale,
        remediation,
        references,
    }
}

const fn refs(
    polaris: Option<&'static str>,
    kube_linter: Option<&'static str>,
    kube_score: Option<&'static str>,
    checkov: &'static [&'static str],
) -> References {
    References {
        pss: None,
        polaris,
        kube_linter,
        kube_score,
        checkov,
    }
}

/// A rule over the whole input: it relates documents, or needs setup once per run.
struct CrossRule {
    meta: RuleMeta,
    check: fn(&Context<'_>, &mut Out<'_>),
}

/// Where a [`CrossRule`] reports.
struct Out<'o> {
    rule: &'static str,
    found: &'o mut Vec<RawFinding>,
}

impl Out<'_> {
    fn emit(&mut self, doc: usize, path: Vec<PathSegment>, message: String) {
        self.found.push(RawFinding {
            rule: self.rule,
            doc,
            path,
            message,
        });
    }
}

/// Rules whose verdict on an object depends on other objects (a PodDisruptionBudget, an
/// autoscaler, a ServiceAccount, what a selector matches): the admission webhook, which sees
/// one object alone, skips them rather than guess. The other cross rules only index the
/// input once per run, and judge a lone object correctly.
const NEEDS_OTHER_OBJECTS: &[&str] = &[
    "k8s-automount-token",
    "k8s-default-service-account",
    "k8s-replicas",
    "k8s-pdb",
    "k8s-pdb-zero-disruptions",
    "k8s-network-policy",
    "k8s-service-selector",
    "k8s-ingress-backend",
    "k8s-hpa-target",
    "k8s-pdb-selector",
];

impl Rule for CrossRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn cross_document(&self) -> bool {
        NEEDS_OTHER_OBJECTS.contains(&self.meta.id)
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<RawFinding>) {
        (self.check)(
            ctx,
            &mut Out {
                rule: self.meta.id,
                found: out,
            },
        );
    }
}

fn doc_rule(meta: RuleMeta, check: fn(&Context<'_>, &Document, Emit<'_>)) -> Box<dyn Rule> {
    Box::new(DocRule { meta, check })
}

fn cross_rule(meta: RuleMeta, check: fn(&Context<'_>, &mut Out<'_>)) -> Box<dyn Rule> {
    Box::new(CrossRule { meta, check })
}

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        // Resources.
        doc_rule(
            meta(
                "k8s-cpu-requests",
                "CPU request not set",
                Severity::Medium,
                "The scheduler places pods by their requests: without a CPU request a container can land on a node with no CPU to spare, and it is the first to starve under contention.",
                "Set `resources.requests.cpu` on every container and init container.",
                refs(
                    Some("cpuRequestsMissing"),
                    Some("unset-cpu-requirements"),
                    Some("container-resources"),
                    &["CKV_K8S_10"],
                ),
            ),
            |_, doc, emit| resources(doc, emit, "requests", "cpu", "CPU request"),
        ),
        doc_rule(
            meta(
                "k8s-cpu-limits",
                "CPU limit not set",
                Severity::Low,
                "Without a CPU limit one busy container can take every spare core on its node. (Limits also cause throttling: some teams leave them off on purpose and rely on requests.)",
                "Set `resources.limits.cpu` on every container and init container, or disable this rule if your platform deliberately runs without CPU limits.",
                refs(
                    Some("cpuLimitsMissing"),
                    Some("unset-cpu-requirements"),
                    Some("container-resources"),
                    &["CKV_K8S_11"],
                ),
            ),
            |_, doc, emit| resources(doc, emit, "limits", "cpu", "CPU limit"),
        ),
        doc_rule(
            meta(
                "k8s-memory-requests",
                "Memory request not set",
                Severity::Medium,
                "Without a memory request the scheduler cannot tell whether a node has room for the pod, and the pod is among the first evicted under memory pressure.",
                "Set `resources.requests.memory` on every container and init container.",
                refs(
                    Some("memoryRequestsMissing"),
                    Some("unset-memory-requirements"),
                    Some("container-resources"),
                    &["CKV_K8S_12"],
                ),
            ),
            |_, doc, emit| resources(doc, emit, "requests", "memory", "memory request"),
        ),
        doc_rule(
            meta(
                "k8s-memory-limits",
                "Memory limit not set",
                Severity::Medium,
                "A container without a memory limit can use all of its node's memory; the kernel then kills processes of other pods too.",
                "Set `resources.limits.memory` on every container and init container (usually equal to the request).",
                refs(
                    Some("memoryLimitsMissing"),
                    Some("unset-memory-requirements"),
                    Some("container-resources"),
                    &["CKV_K8S_13"],
                ),
            ),
            |_, doc, emit| resources(doc, emit, "limits", "memory", "memory limit"),
        ),
        // Probes.
        doc_rule(
            meta(
                "k8s-readiness-probe",
                "Readiness probe not set",
                Severity::Medium,
                "Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it when it cannot. Pods that run to completion (Jobs, CronJobs, Pods with restartPolicy Never or OnFailure) are not checked.",
                "Add a `readinessProbe` to every long-running container.",
                refs(
                    Some("readinessProbeMissing"),
                    Some("no-readiness-probe"),
                    Some("pod-probes"),
                    &["CKV_K8S_9"],
                ),
            ),
            |_, doc, emit| probe(doc, emit, "readinessProbe", "readiness probe"),
        ),
        doc_rule(
            meta(
                "k8s-liveness-probe",
                "Liveness probe not set",
                Severity::Low,
                "Without a liveness probe a process that hangs without exiting is never restarted. Pods that run to completion (Jobs, CronJobs, Pods with restartPolicy Never or OnFailure) are not checked.",
                "Add a `livenessProbe` to every long-running container; make it cheaper and more tolerant than the readiness probe so a slow dependency does not cause restarts.",
                refs(
                    Some("livenessProbeMissing"),
                    Some("no-liveness-probe"),
                    Some("pod-probes"),
                    &["CKV_K8S_8"],
                ),
            ),
            |_, doc, emit| probe(doc, emit, "livenessProbe", "liveness probe"),
        ),
        // Images.
        doc_rule(
            meta(
                "k8s-image-tag",
                "Image tag not pinned",
                Severity::Medium,
                "An image without a tag, or tagged `latest`, can change under a running workload: two pods of one Deployment may run different code, and a rollback does not roll back. A digest (`@sha256:…`) pins the image.",
                "Use an explicit version tag, or better a digest (`image: repo@sha256:…`).",
                refs(
                    Some("tagNotSpecified"),
                    Some("latest-tag"),
                    Some("container-image-tag"),
                    &["CKV_K8S_14"],
                ),
            ),
            check_image_tag,
        ),
        doc_rule(
            meta(
                "k8s-image-pull-policy",
                "Image pull policy not Always",
                Severity::Low,
                "With IfNotPresent a pod can start from an image another pod already pulled onto the node without its own imagePullSecrets being checked, and a moved tag is not picked up. Setting Always explicitly also avoids depending on a default that changes with the tag.",
                "Set `imagePullPolicy: Always` on every container and init container.",
                refs(
                    Some("pullPolicyNotAlways"),
                    None,
                    Some("container-image-pull-policy"),
                    &["CKV_K8S_15"],
                ),
            ),
            check_pull_policy,
        ),
        // Hardening beyond the Pod Security Standards.
        doc_rule(
            meta(
                "k8s-read-only-root-fs",
                "Root filesystem writable",
                Severity::Low,
                "A writable root filesystem lets an attacker who gets into the container drop tools and modify binaries. Windows pods are not checked (they do not support it).",
                "Set `securityContext.readOnlyRootFilesystem: true` on every container and init container; mount an emptyDir where the process needs to write (e.g. /tmp).",
                refs(
                    Some("notReadOnlyRootFilesystem"),
                    Some("no-read-only-root-fs"),
                    Some("container-security-context-readonlyrootfilesystem"),
                    &["CKV_K8S_22"],
                ),
            ),
            check_read_only_root_fs,
        ),
        doc_rule(
            meta(
                "k8s-docker-socket",
                "Container runtime socket mounted",
                Severity::Critical,
                "Whoever can talk to the node's container runtime socket (docker.sock, containerd.sock, crio.sock) can start a privileged container on the node: mounting it is root on the node.",
                "Do not mount the runtime socket; build images with a rootless builder (BuildKit rootless, kaniko) and read container data through the Kubernetes API.",
                refs(None, Some("docker-sock"), None, &["CKV_K8S_27"]),
            ),
            check_docker_socket,
        ),
        doc_rule(
            meta(
                "k8s-sensitive-host-mount",
                "Sensitive host directory mounted",
                Severity::High,
                "Mounting node directories such as /, /etc, /proc, /sys, /root or the kubelet's state exposes node credentials and configuration to the pod (the Pod Security rule pss-host-path flags every hostPath; this one singles out those that hand over the node).",
                "Do not mount these directories; if an agent truly needs one, mount the narrowest subdirectory read-only and register an exception.",
                refs(None, Some("sensitive-host-mounts"), None, &[]),
            ),
            check_sensitive_host_mount,
        ),
        doc_rule(
            meta(
                "k8s-env-secret",
                "Secret in a plain environment variable",
                Severity::High,
                "A password, token or key written as a literal `value` sits in the manifest, in Git, and in every `kubectl get -o yaml`. Names are matched like Polaris does (password, token, secret, bearer, and known cloud keys); names that point at a secret (`*_FILE`, `*_PATH`, `*_NAME`, `*_URL`, …), empty values and `$(VAR)` references are not secrets.",
                "Store the value in a Secret and use `valueFrom.secretKeyRef` (or mount the Secret as a file).",
                refs(
                    Some("sensitiveContainerEnvVar"),
                    Some("env-var-secret"),
                    None,
                    &[],
                ),
            ),
            check_env_secret,
        ),
        doc_rule(
            meta(
                "k8s-configmap-secret",
                "Secret in a ConfigMap",
                Severity::High,
                "ConfigMaps are not meant for secrets: they are readable by anyone who can read configuration, are not encrypted at rest, and end up in Git. Keys are matched as for environment variables; values are checked for private keys.",
                "Move the value to a Secret (or an external secret store) and reference it from there.",
                refs(Some("sensitiveConfigmapContent"), None, None, &[]),
            ),
            check_configmap_secret,
        ),
        // Service accounts.
        cross_rule(
            meta(
                "k8s-automount-token",
                "Service account token mounted",
                Severity::Low,
                "Most workloads never call the Kubernetes API, yet by default every pod gets its service account's token mounted, ready for whoever breaks into it. The ServiceAccount is looked up in the input (same namespace): if neither it nor the pod sets `automountServiceAccountToken: false`, the token is mounted.",
                "Set `automountServiceAccountToken: false` on the pod, or on its ServiceAccount, unless the workload needs the API.",
                refs(
                    Some("automountServiceAccountToken"),
                    None,
                    None,
                    &["CKV_K8S_38"],
                ),
            ),
            check_automount_token,
        ),
        cross_rule(
            meta(
                "k8s-default-service-account",
                "Default service account used",
                Severity::Low,
                "A pod that runs as its namespace's `default` service account, token mounted, carries whatever any binding grants `default`: every workload in the namespace shares that identity, so grants and audit logs cannot be told apart.",
                "Create a ServiceAccount per workload and set `serviceAccountName`, or turn the token off with `automountServiceAccountToken: false`.",
                refs(None, Some("default-service-account"), None, &[]),
            ),
            check_default_service_account,
        ),
        // Availability.
        cross_rule(
            meta(
                "k8s-replicas",
                "Single replica in production",
                Severity::Medium,
                "One replica means every rollout, node drain or crash is an outage. Checked for Deployments and StatefulSets in production namespaces (settings.productionNamespaces; empty means all, and objects without a namespace count as `default`). Workloads an autoscaler in the input scales are left to k8s-hpa-min-replicas; `replicas: 0` is taken as deliberately switched off.",
                "Set `spec.replicas` to 2 or more (or let a HorizontalPodAutoscaler with minReplicas ≥ 2 manage it).",
                refs(
                    Some("deploymentMissingReplicas"),
                    Some("minimum-three-replicas"),
                    Some("deployment-replicas"),
                    &[],
                ),
            ),
            check_replicas,
        ),
        cross_rule(
            meta(
                "k8s-pdb",
                "No PodDisruptionBudget",
                Severity::Medium,
                "Without a PodDisruptionBudget a node drain or cluster upgrade may evict every replica at once. Checked for Deployments and StatefulSets in production namespaces: a PodDisruptionBudget in the input, in the same namespace, must select the pod template's labels.",
                "Add a PodDisruptionBudget whose selector matches the pod template labels, e.g. `maxUnavailable: 1`.",
                refs(
                    Some("missingPodDisruptionBudget"),
                    None,
                    Some("deployment-has-poddisruptionbudget"),
                    &[],
                ),
            ),
            check_pdb,
        ),
        cross_rule(
            meta(
                "k8s-pdb-zero-disruptions",
                "PodDisruptionBudget allows no eviction",
                Severity::Medium,
                "A PodDisruptionBudget with `minAvailable: 100%`, `maxUnavailable: 0`, or a minAvailable at least as large as the replicas it selects (from the input: spec.replicas, or the autoscaler's minReplicas) blocks every voluntary eviction, so node drains and cluster upgrades hang.",
                "Use `maxUnavailable: 1` (or a minAvailable below the replica count) and run at least two replicas.",
                refs(
                    Some("pdbDisruptionsIsZero"),
                    Some("pdb-max-unavailable"),
                    None,
                    &[],
                ),
            ),
            check_pdb_zero_disruptions,
        ),
        cross_rule(
            meta(
                "k8s-topology-spread",
                "Replicas not spread",
                Severity::Low,
                "Without topology spread constraints (or pod anti-affinity) the scheduler may put every replica on one node or in one zone, which then takes them all down. Checked for Deployments, StatefulSets, ReplicaSets and ReplicationControllers in production namespaces.",
                "Add `topologySpreadConstraints` over `kubernetes.io/hostname` and `topology.kubernetes.io/zone` (or a podAntiAffinity).",
                refs(
                    Some("topologySpreadConstraint"),
                    Some("no-anti-affinity"),
                    Some("pod-topology-spread-constraints"),
                    &[],
                ),
            ),
            check_topology_spread,
        ),
        cross_rule(
            meta(
                "k8s-hpa-min-replicas",
                "Autoscaler scales down to one replica",
                Severity::Medium,
                "An autoscaler with minReplicas 1 (the default when unset) takes the workload down to a single replica whenever load is low: the next eviction is an outage. Checked in production namespaces. (Polaris's hpaMinAvailability passes an unset minReplicas; pave does not, since Kubernetes defaults it to 1.)",
                "Set `spec.minReplicas` to 2 or more.",
                refs(
                    None,
                    Some("hpa-minimum-three-replicas"),
                    Some("horizontalpodautoscaler-replicas"),
                    &[],
                ),
            ),
            check_hpa_min_replicas,
        ),
        doc_rule(
            meta(
                "k8s-hpa-max-replicas",
                "Autoscaler cannot scale",
                Severity::Low,
                "An autoscaler whose maxReplicas is not above its minReplicas (1 when unset) can never add a pod: it is a fixed replica count in disguise.",
                "Set `spec.maxReplicas` above `spec.minReplicas`, or drop the autoscaler and set `spec.replicas`.",
                refs(Some("hpaMaxAvailability"), None, None, &[]),
            ),
            check_hpa_max_replicas,
        ),
        doc_rule(
            meta(
                "k8s-priority-class",
                "Priority class not set",
                Severity::Info,
                "Without a priorityClassName every pod has the same priority: under pressure the scheduler cannot tell which workloads to keep and which to preempt.",
                "Set `priorityClassName` to one of your cluster's PriorityClasses.",
                refs(
                    Some("priorityClassNotSet"),
                    Some("priority-class-name"),
                    None,
                    &[],
                ),
            ),
            check_priority_class,
        ),
        // Network.
        cross_rule(
            meta(
                "k8s-network-policy",
                "Pods not covered by a NetworkPolicy",
                Severity::Medium,
                "Pods that no NetworkPolicy selects accept traffic from, and send it to, anything in the cluster. Checked only when the input contains NetworkPolicies (a namespace's policies are often managed elsewhere); then every pod-bearing workload must be selected, in its namespace, by policies that restrict both ingress and egress. (Polaris's missingNetworkPolicy also demands non-empty rules, which fails a deny-all policy; pave accepts it.)",
                "Add a NetworkPolicy (a namespace-wide default deny with `podSelector: {}` and both policy types, plus allow rules) that selects the pods.",
                refs(
                    None,
                    Some("non-isolated-pod"),
                    Some("pod-networkpolicy"),
                    &["CKV2_K8S_6"],
                ),
            ),
            check_network_policy,
        ),
        doc_rule(
            meta(
                "k8s-ingress-tls",
                "Ingress without TLS",
                Severity::Medium,
                "An Ingress without `spec.tls` serves plain HTTP: credentials and cookies cross the network unencrypted. Certificates attached by cloud load balancer annotations (AWS `alb.ingress.kubernetes.io/certificate-arn`, GKE `networking.gke.io/managed-certificates` or `ingress.gcp.kubernetes.io/pre-shared-cert`) count as TLS.",
                "Add `spec.tls` with the hosts and a certificate Secret (cert-manager can issue it).",
                refs(Some("tlsSettingsMissing"), None, None, &[]),
            ),
            check_ingress_tls,
        ),
        // References that point at nothing.
        cross_rule(
            meta(
                "k8s-service-selector",
                "Service selects no pods",
                Severity::Medium,
                "A Service whose selector matches no pod template has no endpoints: every request fails. Only reported when the input contains pod-bearing workloads, as when checking `kubectl kustomize | pave check -`; a Service checked on its own cannot be judged. Services without a selector (manual endpoints) and ExternalName Services are skipped.",
                "Make `spec.selector` match the labels of the pod template (not the workload's own labels).",
                refs(
                    None,
                    Some("dangling-service"),
                    Some("service-targets-pod"),
                    &[],
                ),
            ),
            check_service_selector,
        ),
        cross_rule(
            meta(
                "k8s-ingress-backend",
                "Ingress backend does not exist",
                Severity::Medium,
                "An Ingress backend that names a missing Service, or a port the Service does not have, answers 503. Only reported when the input contains Services (same namespace).",
                "Point the backend at an existing Service and one of its ports.",
                refs(
                    None,
                    Some("dangling-ingress"),
                    Some("ingress-targets-service"),
                    &[],
                ),
            ),
            check_ingress_backend,
        ),
        cross_rule(
            meta(
                "k8s-hpa-target",
                "Autoscaler target does not exist",
                Severity::Medium,
                "An autoscaler whose scaleTargetRef names no object scales nothing. Only reported when the input contains objects of the target's kind (same namespace).",
                "Fix `spec.scaleTargetRef` (kind and name) to name the workload.",
                refs(
                    None,
                    Some("dangling-horizontalpodautoscaler"),
                    Some("horizontalpodautoscaler-has-target"),
                    &[],
                ),
            ),
            check_hpa_target,
        ),
        cross_rule(
            meta(
                "k8s-pdb-selector",
                "PodDisruptionBudget selects no pods",
                Severity::Medium,
                "A PodDisruptionBudget that selects no pods protects nothing, usually because its selector drifted from the pod labels. Only reported when the input contains pod-bearing workloads (same namespace).",
                "Make `spec.selector` match the pod template labels of the workload it protects.",
                refs(None, None, None, &[]),
            ),
            check_pdb_selector,
        ),
        // Ownership.
        doc_rule(
            meta(
                "k8s-required-labels",
                "Required labels missing",
                Severity::Medium,
                "Ownership and cost labels (settings.requiredLabels, by default owner and cost-center) tell on-call who to page and finance who pays. Checked on every pod-bearing workload's `metadata.labels`; empty values count as missing.",
                "Add the labels to `metadata.labels` (a kustomize `labels:` entry or Helm's common labels sets them everywhere).",
                refs(None, Some("required-label-owner"), None, &[]),
            ),
            check_required_labels,
        ),
        // RBAC.
        doc_rule(
            meta(
                "k8s-rbac-wildcard",
                "Wildcard in RBAC rules",
                Severity::Medium,
                "`*` in apiGroups, resources, verbs or nonResourceURLs grants everything that exists now and everything added later, including Secrets and custom resources nobody reviewed. Roles named `system:…` belong to Kubernetes and are skipped.",
                "List the API groups, resources and verbs the subject needs.",
                refs(None, Some("wildcard-in-rules"), None, &["CKV_K8S_49"]),
            ),
            check_rbac_wildcard,
        ),
        doc_rule(
            meta(
                "k8s-rbac-clusterrole-pod-exec",
                "ClusterRole allows exec into pods",
                Severity::High,
                "`pods/exec` and `pods/attach` (with create, or get for the websocket) let a subject run commands in any pod it can reach, in every namespace it is bound in: a path to every Secret those pods hold. Kubernetes's own ClusterRoles (admin, edit, cluster-admin, `system:…`) are skipped.",
                "Remove pods/exec and pods/attach from the ClusterRole, or grant them per namespace with a Role to the few who need them.",
                refs(Some("clusterrolePodExecAttach"), None, None, &[]),
            ),
            |_, doc, emit| pod_exec(doc, emit, "ClusterRole"),
        ),
        doc_rule(
            meta(
                "k8s-rbac-role-pod-exec",
                "Role allows exec into pods",
                Severity::Medium,
                "`pods/exec` and `pods/attach` (with create, or get for the websocket) let a subject run commands in any pod of the namespace, and so read every Secret those pods hold. Roles named `system:…` are skipped.",
                "Remove pods/exec and pods/attach from the Role unless the subjects need interactive access.",
                refs(Some("rolePodExecAttach"), None, None, &[]),
            ),
            |_, doc, emit| pod_exec(doc, emit, "Role"),
        ),
        cross_rule(
            meta(
                "k8s-rbac-cluster-admin-binding",
                "ClusterRoleBinding grants cluster admin",
                Severity::Critical,
                "Binding `cluster-admin`, or a ClusterRole in the input that grants every verb on every resource, hands the subjects the whole cluster. Bindings named `cluster-admin` or `system:…` belong to Kubernetes and are skipped.",
                "Bind a ClusterRole (or per-namespace Roles) with only the permissions the subjects need.",
                refs(
                    Some("clusterrolebindingClusterAdmin"),
                    Some("cluster-admin-role-binding"),
                    None,
                    &[],
                ),
            ),
            check_cluster_admin_binding,
        ),
        cross_rule(
            meta(
                "k8s-rbac-rolebinding-cluster-admin",
                "RoleBinding grants cluster admin in a namespace",
                Severity::High,
                "A RoleBinding to `cluster-admin`, or to a ClusterRole in the input that grants every verb on every resource, makes the subjects owners of the namespace, its Secrets and its RBAC. Bindings named `system:…` are skipped.",
                "Bind the built-in `edit` or `view` ClusterRole, or a Role with only what is needed.",
                refs(
                    Some("rolebindingClusterAdminClusterRole"),
                    Some("cluster-admin-role-binding"),
                    None,
                    &[],
                ),
            ),
            check_rolebinding_cluster_admin,
        ),
        cross_rule(
            meta(
                "k8s-rbac-rolebinding-admin-role",
                "RoleBinding grants a wildcard Role",
                Severity::Medium,
                "A RoleBinding to a Role in the input that grants every verb on every resource makes the subjects owners of the namespace. Bindings named `system:…` are skipped.",
                "Narrow the Role to the resources and verbs the subjects need.",
                refs(Some("rolebindingClusterAdminRole"), None, None, &[]),
            ),
            check_rolebinding_admin_role,
        ),
    ]
}

// Document helpers.

fn kind_of(doc: &Document) -> &str {
    doc.value.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn metadata_str<'a>(doc: &'a Document, field: &str) -> Option<&'a str> {
    doc.value
        .get("metadata")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
}

fn name_of(doc: &Document) -> &str {
    metadata_str(doc, "name").unwrap_or("")
}

fn namespace_of(doc: &Document) -> Option<&str> {
    metadata_str(doc, "namespace")
}

/// Whether a controller owns this object: its findings belong on the controller.
fn owned(doc: &Document) -> bool {
    doc.value
        .get("metadata")
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller") == Some(&Value::Bool(true)))
        })
}

/// The pod template of a pod-bearing document a team ships (not one a controller owns).
fn shipped_pod(doc: &Document) -> Option<PodRef<'_>> {
    // The kind first: most documents stop there.
    pod_ref(doc).filter(|_| !owned(doc))
}

/// Every Kubernetes document, with its index.
fn k8s_docs<'a>(ctx: &Context<'a>) -> impl Iterator<Item = (usize, &'a Document)> {
    ctx.docs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == DocKind::Kubernetes)
}

/// The Kubernetes documents of one `kind`.
fn objects<'a>(
    ctx: &Context<'a>,
    kind: &'static str,
) -> impl Iterator<Item = (usize, &'a Document)> {
    k8s_docs(ctx).filter(move |(_, d)| kind_of(d) == kind)
}

fn spec_get<'a>(doc: &'a Document, rest: &[&str]) -> Option<&'a Value> {
    rest.iter()
        .try_fold(doc.value.get("spec")?, |v, k| v.get(k))
}

/// `spec.<rest>` as a path.
fn spec_path(rest: &[&str]) -> Vec<PathSegment> {
    std::iter::once("spec")
        .chain(rest.iter().copied())
        .map(|k| PathSegment::Key(k.to_owned()))
        .collect()
}

/// Whether a string array field contains an item matching `pred`.
fn any_str(v: &Value, field: &str, pred: impl Fn(&str) -> bool) -> bool {
    v.get(field)
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().filter_map(Value::as_str).any(pred))
}

/// Which namespaces count as production (settings.productionNamespaces, globs).
struct Production<'s> {
    all: bool,
    literals: Vec<&'s str>,
    globs: Vec<globset::GlobMatcher>,
}

impl<'s> Production<'s> {
    fn new(settings: &'s RuleSettings) -> Self {
        let mut literals = Vec::new();
        let mut globs = Vec::new();
        for pattern in &settings.production_namespaces {
            match globset::Glob::new(pattern) {
                Ok(g) => globs.push(g.compile_matcher()),
                Err(_) => literals.push(pattern.as_str()),
            }
        }
        Production {
            all: settings.production_namespaces.is_empty(),
            literals,
            globs,
        }
    }

    /// An object without a namespace goes to the namespace it is applied in; pave assumes
    /// `default`, so it is production only when the list is empty or matches `default`.
    fn matches(&self, namespace: Option<&str>) -> bool {
        if self.all {
            return true;
        }
        let ns = namespace.unwrap_or("default");
        self.literals.contains(&ns) || self.globs.iter().any(|g| g.is_match(ns))
    }
}

// Indexes for rules that relate documents.

/// Objects by (namespace, kind, name); see the module docs for namespaces.
struct Names<'a> {
    by_ns: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    any_ns: HashMap<(&'a str, &'a str), Vec<usize>>,
    kinds: HashSet<&'a str>,
}

impl<'a> Names<'a> {
    /// From `(namespace, kind, name, value)` entries.
    fn new(entries: impl Iterator<Item = (Option<&'a str>, &'a str, &'a str, usize)>) -> Self {
        let mut names = Names {
            by_ns: HashMap::new(),
            any_ns: HashMap::new(),
            kinds: HashSet::new(),
        };
        for (ns, kind, name, value) in entries {
            names.by_ns.entry((ns, kind, name)).or_default().push(value);
            names.any_ns.entry((kind, name)).or_default().push(value);
            names.kinds.insert(kind);
        }
        names
    }

    /// The documents of one kind, by their own namespace and name.
    fn of_kind(ctx: &Context<'a>, kind: &'static str) -> Self {
        Names::new(objects(ctx, kind).map(|(i, d)| (namespace_of(d), kind, name_of(d), i)))
    }

    /// What may share namespace `ns` and has this kind and name.
    fn find<'s>(
        &'s self,
        ns: Option<&'a str>,
        kind: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = usize> + 's {
        let (a, b): (&'s [usize], &'s [usize]) = match ns {
            Some(_) => (
                self.by_ns.get(&(ns, kind, name)).map_or(&[], Vec::as_slice),
                self.by_ns
                    .get(&(None, kind, name))
                    .map_or(&[], Vec::as_slice),
            ),
            None => (
                self.any_ns.get(&(kind, name)).map_or(&[], Vec::as_slice),
                &[],
            ),
        };
        a.iter().chain(b).copied()
    }
}

/// Autoscalers by the workload they scale: (autoscaler namespace, target kind, target name).
fn autoscalers<'a>(ctx: &Context<'a>) -> Names<'a> {
    Names::new(
        objects(ctx, "HorizontalPodAutoscaler").filter_map(|(i, d)| {
            let target = spec_get(d, &["scaleTargetRef"])?;
            Some((
                namespace_of(d),
                target.get("kind")?.as_str()?,
                target.get("name")?.as_str()?,
                i,
            ))
        }),
    )
}

/// A label selector, parsed once.
enum Selector<'a> {
    /// Selects nothing: a null PodDisruptionBudget selector, or an invalid one.
    Nothing,
    /// Every `matchLabels` pair and every expression must hold; empty selects everything.
    Match {
        labels: Vec<(&'a str, &'a str)>,
        exprs: Vec<Expr<'a>>,
    },
}

struct Expr<'a> {
    key: &'a str,
    op: Op,
    values: Vec<&'a str>,
}

#[derive(Clone, Copy)]
enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl<'a> Selector<'a> {
    /// A `LabelSelector` (`matchLabels`, `matchExpressions`); absent or null selects nothing.
    fn label_selector(v: Option<&'a Value>) -> Self {
        let Some(Value::Object(v)) = v else {
            return Selector::Nothing;
        };
        let mut labels = Vec::new();
        if let Some(Value::Object(m)) = v.get("matchLabels") {
            for (k, val) in m {
                let Some(val) = val.as_str() else {
                    return Selector::Nothing;
                };
                labels.push((k.as_str(), val));
            }
        }
        let mut exprs = Vec::new();
        if let Some(Value::Array(items)) = v.get("matchExpressions") {
            for e in items {
                let op = match e.get("operator").and_then(Value::as_str) {
                    Some("In") => Op::In,
                    Some("NotIn") => Op::NotIn,
                    Some("Exists") => Op::Exists,
                    Some("DoesNotExist") => Op::DoesNotExist,
                    _ => return Selector::Nothing,
                };
                let Some(key) = e.get("key").and_then(Value::as_str) else {
                    return Selector::Nothing;
                };
                let values = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                exprs.push(Expr { key, op, values });
            }
        }
        Selector::Match { labels, exprs }
    }

    fn everything() -> Self {
        Selector::Match {
            labels: Vec::new(),
            exprs: Vec::new(),
        }
    }

    fn is_everything(&self) -> bool {
        matches!(self, Selector::Match { labels, exprs } if labels.is_empty() && exprs.is_empty())
    }

    /// A Service's plain map selector; `None` when absent, empty or invalid.
    fn map(v: Option<&'a Value>) -> Option<Self> {
        let m = v?.as_object().filter(|m| !m.is_empty())?;
        let labels = m
            .iter()
            .map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Selector::Match {
            labels,
            exprs: Vec::new(),
        })
    }

    fn matches(&self, pod_labels: Option<&Map<String, Value>>) -> bool {
        let Selector::Match { labels, exprs } = self else {
            return false;
        };
        let get = |k: &str| pod_labels.and_then(|m| m.get(k)).and_then(Value::as_str);
        labels.iter().all(|(k, v)| get(k) == Some(*v))
            && exprs.iter().all(|e| match e.op {
                Op::In => get(e.key).is_some_and(|x| e.values.contains(&x)),
                Op::NotIn => get(e.key).is_none_or(|x| !e.values.contains(&x)),
                Op::Exists => get(e.key).is_some(),
                Op::DoesNotExist => get(e.key).is_none(),
            })
    }

    /// `app=web, tier in (a, b)`, for messages.
    fn describe(&self) -> String {
        let Selector::Match { labels, exprs } = self else {
            return "(none)".into();
        };
        let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for e in exprs {
            parts.push(match e.op {
                Op::In => format!("{} in ({})", e.key, e.values.join(", ")),
                Op::NotIn => format!("{} notin ({})", e.key, e.values.join(", ")),
                Op::Exists => e.key.to_owned(),
                Op::DoesNotExist => format!("!{}", e.key),
            });
        }
        if parts.is_empty() {
            "{} (everything)".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A pod-bearing object, for selector matching.
struct Workload<'a> {
    doc: usize,
    doc_ref: &'a Document,
    kind: &'a str,
    name: &'a str,
    ns: Option<&'a str>,
    pod: PodRef<'a>,
    owned: bool,
}

/// Pod templates indexed by namespace and label, so that matching a selector costs about as
/// much as the pods it could match rather than every pod in the input.
struct PodIndex<'a> {
    items: Vec<Workload<'a>>,
    all: Vec<usize>,
    by_ns: HashMap<Option<&'a str>, Vec<usize>>,
    by_label: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    any_ns: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> PodIndex<'a> {
    fn new(ctx: &Context<'a>) -> Self {
        let mut index = PodIndex {
            items: Vec::new(),
            all: Vec::new(),
            by_ns: HashMap::new(),
            by_label: HashMap::new(),
            any_ns: HashMap::new(),
        };
        for (doc, d) in k8s_docs(ctx) {
            let Some(pod) = pod_ref(d) else { continue };
            let i = index.items.len();
            let ns = namespace_of(d);
            index.all.push(i);
            index.by_ns.entry(ns).or_default().push(i);
            for (k, v) in pod.labels().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    index
                        .by_label
                        .entry((ns, k.as_str(), v))
                        .or_default()
                        .push(i);
                    index.any_ns.entry((k.as_str(), v)).or_default().push(i);
                }
            }
            index.items.push(Workload {
                doc,
                doc_ref: d,
                kind: pod.kind,
                name: name_of(d),
                ns,
                pod,
                owned: owned(d),
            });
        }
        index
    }

    fn bucket(&self, ns: Option<&'a str>) -> [&[usize]; 2] {
        match ns {
            Some(_) => [
                self.by_ns.get(&ns).map_or(&[], Vec::as_slice),
                self.by_ns.get(&None).map_or(&[], Vec::as_slice),
            ],
            None => [&self.all, &[]],
        }
    }

    fn postings(&self, ns: Option<&'a str>, k: &'a str, v: &'a str) -> [&[usize]; 2] {
        match ns {
            Some(_) => [
                self.by_label.get(&(ns, k, v)).map_or(&[], Vec::as_slice),
                self.by_label.get(&(None, k, v)).map_or(&[], Vec::as_slice),
            ],
            None => [self.any_ns.get(&(k, v)).map_or(&[], Vec::as_slice), &[]],
        }
    }

    /// Calls `f` with each workload that may share namespace `ns` and whose pod template
    /// `sel` selects, until `f` breaks.
    fn for_each_match(
        &self,
        ns: Option<&'a str>,
        sel: &Selector<'a>,
        mut f: impl FnMut(usize) -> ControlFlow<()>,
    ) {
        let Selector::Match { labels, exprs } = sel else {
            return;
        };
        // Candidates: the shortest posting lists among the selector's pairs and `In`
        // expressions (each must hold anyway), or every pod in reach. A pod has one value
        // per key, so the lists of one `In` expression never overlap.
        let pairs = labels.iter().map(|(k, v)| self.postings(ns, k, v).to_vec());
        let ins = exprs.iter().filter(|e| matches!(e.op, Op::In)).map(|e| {
            e.values
                .iter()
                .flat_map(|v| self.postings(ns, e.key, v))
                .collect::<Vec<_>>()
        });
        let lists = pairs
            .chain(ins)
            .min_by_key(|lists| lists.iter().map(|l| l.len()).sum::<usize>())
            .unwrap_or_else(|| self.bucket(ns).to_vec());
        for &i in lists.iter().copied().flatten() {
            if sel.matches(self.items[i].pod.labels()) && f(i).is_break() {
                return;
            }
        }
    }

    fn any_match(&self, ns: Option<&'a str>, sel: &Selector<'a>) -> bool {
        let mut found = false;
        self.for_each_match(ns, sel, |_| {
            found = true;
            ControlFlow::Break(())
        });
        found
    }
}

/// A PodDisruptionBudget's selector: in policy/v1beta1 an empty selector selected nothing.
fn pdb_selector(doc: &Document) -> Selector<'_> {
    let raw = spec_get(doc, &["selector"]);
    let sel = Selector::label_selector(raw);
    if sel.is_everything()
        && doc.value.get("apiVersion").and_then(Value::as_str) == Some("policy/v1beta1")
    {
        return Selector::Nothing;
    }
    sel
}

// Containers.

fn resources(doc: &Document, emit: Emit<'_>, section: &str, resource: &str, what: &str) {
    let Some(pod) = shipped_pod(doc) else { return };
    for c in pod.containers(true) {
        let set = match c.get(&["resources", section, resource]) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(_)) => true,
            _ => false,
        };
        if !set {
            emit(
                c.path(&pod, &["resources", section, resource]),
                format!("{} has no {what}", c.label()),
            );
        }
    }
}

/// Pods that run to completion: probes mean nothing there.
fn runs_to_completion(pod: &PodRef<'_>) -> bool {
    matches!(pod.kind, "Job" | "CronJob")
        || matches!(
            pod.get(&["restartPolicy"]).and_then(Value::as_str),
            Some("Never" | "OnFailure")
        )
}

fn probe(doc: &Document, emit: Emit<'_>, field: &str, what: &str) {
    let Some(pod) = shipped_pod(doc) else { return };
    if runs_to_completion(&pod) {
        return;
    }
    for c in pod.containers(false) {
        if c.get(&[field]).is_none_or(Value::is_null) {
            emit(
                c.path(&pod, &[field]),
                format!("{} has no {what}", c.label()),
            );
        }
    }
}

/// Why an image reference is not pinned, if it is not.
fn image_tag_problem(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    // The tag follows the last `:` of the last path component (a registry may have a port).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) => Some("uses the mutable latest tag"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
        None => Some("has no tag, which means latest"),
    }
}

fn check_image_tag(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    for c in pod.containers(true) {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        if let Some(problem) = image_tag_problem(image) {
            emit(
                c.path(&pod, &["image"]),
                format!("{} image {image} {problem}", c.label()),
            );
        }
    }
}

fn check_pull_policy(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    for c in pod.containers(true) {
        let message = match c.get(&["imagePullPolicy"]).and_then(Value::as_str) {
            Some("Always") => continue,
            Some(p) => format!("{} has imagePullPolicy {p}; use Always", c.label()),
            None => format!("{} does not set imagePullPolicy: Always", c.label()),
        };
        emit(c.path(&pod, &["imagePullPolicy"]), message);
    }
}

fn check_read_only_root_fs(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    if pod.is_windows() {
        return;
    }
    for c in pod.containers(true) {
        let message = match c.get(&["securityContext", "readOnlyRootFilesystem"]) {
            Some(Value::Bool(true)) => continue,
            Some(Value::Bool(false)) => {
                format!("{} sets readOnlyRootFilesystem: false", c.label())
            }
            _ => format!(
                "{} does not set securityContext.readOnlyRootFilesystem: true",
                c.label()
            ),
        };
        emit(
            c.path(&pod, &["securityContext", "readOnlyRootFilesystem"]),
            message,
        );
    }
}

/// The pod's hostPath volumes: (index, volume name, normalised path).
fn host_paths<'a>(pod: &PodRef<'a>) -> impl Iterator<Item = (usize, &'a str, &'a str)> + 'a {
    pod.get(&["volumes"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| {
            let path = v.get("hostPath")?.get("path")?.as_str()?;
            let trimmed = path.trim_end_matches('/');
            let path = if trimmed.is_empty() { "/" } else { trimmed };
            Some((
                i,
                v.get("name").and_then(Value::as_str).unwrap_or("?"),
                path,
            ))
        })
}

fn host_path_path(pod: &PodRef<'_>, i: usize) -> Vec<PathSegment> {
    let mut p = pod.path(&["volumes"]);
    p.extend([
        PathSegment::Index(i),
        PathSegment::Key("hostPath".into()),
        PathSegment::Key("path".into()),
    ]);
    p
}

/// The container runtime's socket, or a directory holding it.
fn is_runtime_socket(path: &str) -> bool {
    const SOCKETS: &[&str] = &[
        "/docker.sock",
        "/containerd.sock",
        "/crio.sock",
        "/cri-dockerd.sock",
        "/podman.sock",
    ];
    const DIRS: &[&str] = &[
        "/var/run",
        "/run",
        "/var/run/docker",
        "/run/docker",
        "/var/run/containerd",
        "/run/containerd",
        "/var/run/crio",
        "/run/crio",
    ];
    SOCKETS.iter().any(|s| path.ends_with(s)) || DIRS.contains(&path)
}

fn check_docker_socket(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    for (i, name, path) in host_paths(&pod) {
        if is_runtime_socket(path) {
            emit(
                host_path_path(&pod, i),
                format!("volume {name} mounts the node's container runtime socket ({path})"),
            );
        }
    }
}

/// Node directories that hand over the node: credentials, configuration, kernel interfaces.
fn is_sensitive_host_dir(path: &str) -> bool {
    const EXACT: &[&str] = &[
        "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr",
    ];
    const TREES: &[&str] = &[
        "/root",
        "/etc/kubernetes",
        "/var/lib/kubelet",
        "/var/lib/etcd",
        "/var/lib/docker",
        "/var/lib/containerd",
    ];
    EXACT.contains(&path)
        || TREES.iter().any(|t| {
            path.strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

fn check_sensitive_host_mount(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    for (i, name, path) in host_paths(&pod) {
        if is_sensitive_host_dir(path) && !is_runtime_socket(path) {
            emit(
                host_path_path(&pod, i),
                format!("volume {name} mounts the node's {path}"),
            );
        }
    }
}

/// Whether a variable or key name says it holds a secret (Polaris's list, plus a few).
fn sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // Names that point at a secret rather than hold one.
    const POINTERS: &[&str] = &["_file", "_path", "_dir", "_name", "_url", "_uri"];
    if POINTERS.iter().any(|s| lower.ends_with(s)) || lower.contains("tokeniz") {
        return false;
    }
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "token",
        "bearer",
        "secret",
        "api_key",
        "apikey",
        "private_key",
    ];
    matches!(
        lower.as_str(),
        "aws_secret_access_key" | "google_application_credentials" | "oci_cli_key_content"
    ) || (lower.starts_with("azure_") && lower.ends_with("key") && lower.len() > "azure_key".len())
        || WORDS.iter().any(|w| lower.contains(w))
}

/// A PEM private key block (`-----BEGIN … PRIVATE KEY-----`) on some line.
fn holds_private_key(value: &str) -> bool {
    value.lines().any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.match_indices("-begin").any(|(i, _)| {
            let rest = &lower[i + "-begin".len()..];
            rest.starts_with(char::is_whitespace) && rest.contains("private key-")
        })
    })
}

/// Why a literal `name: value` is a secret in plain sight, if it is one.
fn literal_secret(name: &str, value: &str) -> Option<&'static str> {
    let value_trimmed = value.trim();
    // `$(OTHER_VAR)` expands another variable; an absolute path names a mounted file.
    let reference = (value_trimmed.starts_with("$(")
        && value_trimmed.ends_with(')')
        && !value_trimmed[2..].contains("$("))
        || value_trimmed.starts_with('/');
    if value_trimmed.is_empty() {
        None
    } else if holds_private_key(value) {
        Some("holds a private key")
    } else if !reference && sensitive_name(name) {
        Some("holds a literal secret")
    } else {
        None
    }
}

fn check_env_secret(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    for c in pod.containers(true) {
        let Some(Value::Array(env)) = c.get(&["env"]) else {
            continue;
        };
        for (i, var) in env.iter().enumerate() {
            let (Some(name), Some(value)) = (
                var.get("name").and_then(Value::as_str),
                var.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Some(why) = literal_secret(name, value) {
                let mut path = c.path(&pod, &["env"]);
                path.extend([PathSegment::Index(i), PathSegment::Key("value".into())]);
                emit(
                    path,
                    format!("{} env {name} {why}; use valueFrom.secretKeyRef", c.label()),
                );
            }
        }
    }
}

fn check_configmap_secret(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    if kind_of(doc) != "ConfigMap" {
        return;
    }
    let Some(Value::Object(data)) = doc.value.get("data") else {
        return;
    };
    for (key, value) in data {
        let Some(value) = value.as_str() else {
            continue;
        };
        if let Some(why) = literal_secret(key, value) {
            emit(
                path!["data", key],
                format!("key {key} {why}; move it to a Secret"),
            );
        }
    }
}

// Service accounts.

/// The service account a pod runs as, and whether its token is mounted.
struct Account<'a> {
    name: &'a str,
    /// The pod itself sets `automountServiceAccountToken: true`.
    pod_true: bool,
    mounted: bool,
    /// The ServiceAccount is in the input.
    known: bool,
}

fn account<'a>(
    pod: &PodRef<'a>,
    ns: Option<&'a str>,
    docs: &'a [Document],
    accounts: &Names<'a>,
) -> Account<'a> {
    let name = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|f| {
            pod.get(&[*f])
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("default");
    let mut known = false;
    let mounted = match pod.get(&["automountServiceAccountToken"]) {
        Some(Value::Bool(b)) => *b,
        _ => !accounts.find(ns, "ServiceAccount", name).any(|i| {
            known = true;
            docs[i].value.get("automountServiceAccountToken") == Some(&Value::Bool(false))
        }),
    };
    Account {
        name,
        pod_true: pod.get(&["automountServiceAccountToken"]) == Some(&Value::Bool(true)),
        mounted,
        known,
    }
}

fn check_automount_token(ctx: &Context<'_>, out: &mut Out<'_>) {
    let accounts = Names::of_kind(ctx, "ServiceAccount");
    for (i, doc) in k8s_docs(ctx) {
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let acc = account(&pod, namespace_of(doc), ctx.docs, &accounts);
        if !acc.mounted {
            continue;
        }
        let message = if acc.pod_true {
            "pod sets automountServiceAccountToken: true".to_owned()
        } else if acc.known {
            format!(
                "the token of service account {} is mounted: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false",
                acc.name
            )
        } else {
            format!(
                "the token of service account {} is mounted: set automountServiceAccountToken: false on the pod (or its ServiceAccount)",
                acc.name
            )
        };
        out.emit(i, pod.path(&["automountServiceAccountToken"]), message);
    }
}

fn check_default_service_account(ctx: &Context<'_>, out: &mut Out<'_>) {
    let accounts = Names::of_kind(ctx, "ServiceAccount");
    for (i, doc) in k8s_docs(ctx) {
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let acc = account(&pod, namespace_of(doc), ctx.docs, &accounts);
        if acc.name == "default" && acc.mounted {
            out.emit(
                i,
                pod.path(&["serviceAccountName"]),
                "pod runs as the namespace's default service account, with its token mounted"
                    .into(),
            );
        }
    }
}

// Availability.

/// How many pods a workload runs, when the input tells: an autoscaler's minReplicas, or
/// spec.replicas (1 when unset). `None` for DaemonSets and Jobs.
fn replicas_of<'a>(w: &Workload<'a>, hpas: &Names<'a>, docs: &[Document]) -> Option<i64> {
    match w.kind {
        "Pod" => Some(1),
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            if let Some(h) = hpas.find(w.ns, w.kind, w.name).next() {
                return Some(
                    spec_get(&docs[h], &["minReplicas"])
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                );
            }
            Some(
                spec_get(w.doc_ref, &["replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1),
            )
        }
        _ => None,
    }
}

fn check_replicas(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    let hpas = autoscalers(ctx);
    for (i, doc) in k8s_docs(ctx) {
        let kind = kind_of(doc);
        if !matches!(kind, "Deployment" | "StatefulSet") || owned(doc) {
            continue;
        }
        let ns = namespace_of(doc);
        if !production.matches(ns) || hpas.find(ns, kind, name_of(doc)).next().is_some() {
            continue;
        }
        let message = match spec_get(doc, &["replicas"]) {
            None | Some(Value::Null) => "does not set spec.replicas, so it runs 1 replica".into(),
            Some(v) => match v.as_i64() {
                Some(n @ 1) => format!("runs {n} replica; use 2 or more in production"),
                _ => continue,
            },
        };
        out.emit(i, spec_path(&["replicas"]), message);
    }
}

fn check_pdb(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    let budgets: Vec<&Document> = objects(ctx, "PodDisruptionBudget")
        .map(|(_, d)| d)
        .collect();
    // Covered, by document index; namespace-wide budgets by namespace (any of them for
    // workloads without one).
    let mut covered = vec![false; ctx.docs.len()];
    let mut namespace_wide: HashSet<Option<&str>> = HashSet::new();
    if !budgets.is_empty() {
        let pods = PodIndex::new(ctx);
        for pdb in budgets {
            let sel = pdb_selector(pdb);
            if sel.is_everything() {
                namespace_wide.insert(namespace_of(pdb));
                continue;
            }
            pods.for_each_match(namespace_of(pdb), &sel, |w| {
                covered[pods.items[w].doc] = true;
                ControlFlow::Continue(())
            });
        }
    }
    let wide = |ns: Option<&str>| match ns {
        Some(_) => namespace_wide.contains(&ns) || namespace_wide.contains(&None),
        None => !namespace_wide.is_empty(),
    };
    for (doc, d) in k8s_docs(ctx) {
        let Some(pod) = pod_ref(d) else { continue };
        if covered[doc]
            || wide(namespace_of(d))
            || !matches!(pod.kind, "Deployment" | "StatefulSet")
            || owned(d)
            || !production.matches(namespace_of(d))
            || spec_get(d, &["replicas"]).and_then(Value::as_i64) == Some(0)
        {
            continue;
        }
        out.emit(
            doc,
            pod.template_path(&["metadata", "labels"]),
            format!(
                "no PodDisruptionBudget selects the pods of {} {}",
                pod.kind,
                name_of(d)
            ),
        );
    }
}

/// A value as written: `50%`, `0`.
fn shown(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A percentage such as `50%`.
fn percent(v: &Value) -> Option<i64> {
    v.as_str()?.strip_suffix('%')?.trim().parse().ok()
}

fn check_pdb_zero_disruptions(ctx: &Context<'_>, out: &mut Out<'_>) {
    const HANGS: &str = "allows no voluntary eviction, so node drains hang";
    let mut pods = None;
    let mut hpas = None;
    for (i, pdb) in objects(ctx, "PodDisruptionBudget") {
        let min = spec_get(pdb, &["minAvailable"]);
        let max = spec_get(pdb, &["maxUnavailable"]);
        if let Some(max) = max
            && (max.as_i64() == Some(0) || percent(max) == Some(0) || max.as_str() == Some("0"))
        {
            out.emit(
                i,
                spec_path(&["maxUnavailable"]),
                format!("maxUnavailable {} {HANGS}", shown(max)),
            );
            continue;
        }
        let Some(min) = min else { continue };
        if percent(min).is_some_and(|p| p >= 100) {
            out.emit(
                i,
                spec_path(&["minAvailable"]),
                format!("minAvailable {} {HANGS}", shown(min)),
            );
            continue;
        }
        // Compare with what it selects, when the input tells how many pods that is.
        let pods: &PodIndex<'_> = pods.get_or_insert_with(|| PodIndex::new(ctx));
        let hpas: &Names<'_> = hpas.get_or_insert_with(|| autoscalers(ctx));
        let mut total = Some(0);
        let mut what = Vec::new();
        pods.for_each_match(namespace_of(pdb), &pdb_selector(pdb), |w| {
            let item = &pods.items[w];
            if item.owned {
                return ControlFlow::Continue(());
            }
            match (replicas_of(item, hpas, ctx.docs), total.as_mut()) {
                (Some(n), Some(t)) => {
                    *t += n;
                    what.push(format!("{} {}", item.kind, item.name));
                    ControlFlow::Continue(())
                }
                _ => {
                    total = None;
                    ControlFlow::Break(())
                }
            }
        });
        let Some(total) = total.filter(|t| *t > 0) else {
            continue;
        };
        let required = match (min.as_i64(), percent(min)) {
            (Some(n), _) => n,
            // Kubernetes rounds a percentage of minAvailable up.
            (None, Some(p)) => (p * total + 99) / 100,
            _ => continue,
        };
        if required >= total {
            if what.len() > 3 {
                let more = what.len() - 3;
                what.truncate(3);
                what.push(format!("{more} more"));
            }
            out.emit(
                i,
                spec_path(&["minAvailable"]),
                format!(
                    "minAvailable {} with {total} pod{} selected ({}) {HANGS}",
                    shown(min),
                    if total == 1 { "" } else { "s" },
                    what.join(", ")
                ),
            );
        }
    }
}

fn check_topology_spread(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    for (i, doc) in k8s_docs(ctx) {
        if !matches!(
            kind_of(doc),
            "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController"
        ) || !production.matches(namespace_of(doc))
        {
            continue;
        }
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let spread = pod
            .get(&["topologySpreadConstraints"])
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        let anti_affinity = pod
            .get(&["affinity", "podAntiAffinity"])
            .and_then(Value::as_object)
            .is_some_and(|a| !a.is_empty());
        if !spread && !anti_affinity {
            out.emit(
                i,
                pod.path(&["topologySpreadConstraints"]),
                "pods set no topologySpreadConstraints (or pod anti-affinity): replicas may share one node or zone".into(),
            );
        }
    }
}

fn check_hpa_min_replicas(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    for (i, hpa) in objects(ctx, "HorizontalPodAutoscaler") {
        if !production.matches(namespace_of(hpa)) {
            continue;
        }
        let message = match spec_get(hpa, &["minReplicas"]) {
            None | Some(Value::Null) => {
                "does not set minReplicas, so it scales down to 1 replica".to_owned()
            }
            // 0 is scale-to-zero, a deliberate choice.
            Some(v) => match v.as_i64() {
                Some(n @ 1) => format!("minReplicas {n} scales down to a single replica"),
                _ => continue,
            },
        };
        out.emit(i, spec_path(&["minReplicas"]), message);
    }
}

fn check_hpa_max_replicas(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    if kind_of(doc) != "HorizontalPodAutoscaler" {
        return;
    }
    let Some(max) = spec_get(doc, &["maxReplicas"]).and_then(Value::as_i64) else {
        return;
    };
    let min = spec_get(doc, &["minReplicas"])
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if max <= min {
        emit(
            spec_path(&["maxReplicas"]),
            format!("maxReplicas {max} is not above minReplicas {min}: it can never scale up"),
        );
    }
}

fn check_priority_class(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    if pod
        .get(&["priorityClassName"])
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        emit(
            pod.path(&["priorityClassName"]),
            "pod sets no priorityClassName".into(),
        );
    }
}

// Network.

const INGRESS: u8 = 1;
const EGRESS: u8 = 2;

/// The directions a NetworkPolicy restricts for the pods it selects.
fn policy_directions(spec: Option<&Value>) -> u8 {
    let Some(spec) = spec else { return INGRESS };
    match spec.get("policyTypes").and_then(Value::as_array) {
        Some(types) => types.iter().fold(0, |acc, t| match t.as_str() {
            Some("Ingress") => acc | INGRESS,
            Some("Egress") => acc | EGRESS,
            _ => acc,
        }),
        // Unset: Ingress, plus Egress when there are egress rules.
        None => {
            let egress = spec
                .get("egress")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            INGRESS | if egress { EGRESS } else { 0 }
        }
    }
}

fn check_network_policy(ctx: &Context<'_>, out: &mut Out<'_>) {
    let policies: Vec<&Document> = objects(ctx, "NetworkPolicy").map(|(_, d)| d).collect();
    if policies.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    let mut directions = vec![0u8; pods.items.len()];
    // Namespace-wide policies (`podSelector: {}`), by namespace; `any` for pods without one,
    // which may land next to any of them.
    let mut namespace_wide: HashMap<Option<&str>, u8> = HashMap::new();
    let mut any = 0u8;
    for policy in policies {
        let spec = policy.value.get("spec");
        let flags = policy_directions(spec);
        // podSelector is required; the API reads a missing one as empty (every pod).
        let sel = match spec.and_then(|s| s.get("podSelector")) {
            None | Some(Value::Null) => Selector::everything(),
            some => Selector::label_selector(some),
        };
        let ns = namespace_of(policy);
        if sel.is_everything() {
            *namespace_wide.entry(ns).or_default() |= flags;
            any |= flags;
            continue;
        }
        pods.for_each_match(ns, &sel, |w| {
            directions[w] |= flags;
            ControlFlow::Continue(())
        });
    }
    let unnamespaced = namespace_wide.get(&None).copied().unwrap_or(0);
    for (w, item) in pods.items.iter().enumerate() {
        // NetworkPolicies do not apply to pods on the host network.
        if item.owned || item.pod.get(&["hostNetwork"]) == Some(&Value::Bool(true)) {
            continue;
        }
        let wide = match item.ns {
            Some(_) => namespace_wide.get(&item.ns).copied().unwrap_or(0) | unnamespaced,
            None => any,
        };
        let what = match directions[w] | wide {
            d if d == INGRESS | EGRESS => continue,
            INGRESS => "restricts egress from",
            EGRESS => "restricts ingress to",
            _ => "selects",
        };
        out.emit(
            item.doc,
            item.pod.template_path(&["metadata", "labels"]),
            format!(
                "no NetworkPolicy {what} the pods of {} {}",
                item.kind, item.name
            ),
        );
    }
}

fn check_ingress_tls(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    const CERT_ANNOTATIONS: &[&str] = &[
        "alb.ingress.kubernetes.io/certificate-arn",
        "networking.gke.io/managed-certificates",
        "ingress.gcp.kubernetes.io/pre-shared-cert",
    ];
    if kind_of(doc) != "Ingress" {
        return;
    }
    let tls = spec_get(doc, &["tls"])
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    let annotated = doc
        .value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .is_some_and(|a| CERT_ANNOTATIONS.iter().any(|k| a.contains_key(*k)));
    if !tls && !annotated {
        emit(
            spec_path(&["tls"]),
            "Ingress has no spec.tls: it serves plain HTTP".into(),
        );
    }
}

// References that point at nothing.

fn check_service_selector(ctx: &Context<'_>, out: &mut Out<'_>) {
    let services: Vec<(usize, &Document, Selector<'_>)> = objects(ctx, "Service")
        .filter(|(_, svc)| spec_get(svc, &["type"]).and_then(Value::as_str) != Some("ExternalName"))
        .filter_map(|(i, svc)| Some((i, svc, Selector::map(spec_get(svc, &["selector"]))?)))
        .collect();
    if services.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, svc, sel) in services {
        if !pods.any_match(namespace_of(svc), &sel) {
            out.emit(
                i,
                spec_path(&["selector"]),
                format!("selector {} matches no pods in the input", sel.describe()),
            );
        }
    }
}

/// A Service port an Ingress backend names.
enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

/// A Service an Ingress sends traffic to.
struct Backend<'a> {
    /// Path to the backend.
    path: Vec<PathSegment>,
    service: &'a str,
    /// Where the name and port sit under `path` (networking.k8s.io/v1 or v1beta1 layout).
    name_at: &'static [&'static str],
    port_at: &'static [&'static str],
    port: Option<PortRef<'a>>,
}

impl Backend<'_> {
    fn at(&self, field: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path.clone();
        p.extend(field.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }
}

fn backend<'a>(b: &'a Value, path: Vec<PathSegment>) -> Option<Backend<'a>> {
    let port = |v: Option<&'a Value>| match v {
        Some(Value::Number(n)) => n.as_i64().map(PortRef::Number),
        Some(Value::String(s)) => Some(PortRef::Name(s.as_str())),
        _ => None,
    };
    if let Some(service) = b.get("service") {
        // networking.k8s.io/v1
        let name = service.get("name")?.as_str()?;
        let p = service.get("port");
        let p =
            port(p.and_then(|p| p.get("number"))).or_else(|| port(p.and_then(|p| p.get("name"))));
        return Some(Backend {
            path,
            service: name,
            name_at: &["service", "name"],
            port_at: &["service", "port"],
            port: p,
        });
    }
    // extensions/v1beta1 and networking.k8s.io/v1beta1
    Some(Backend {
        path,
        service: b.get("serviceName")?.as_str()?,
        name_at: &["serviceName"],
        port_at: &["servicePort"],
        port: port(b.get("servicePort")),
    })
}

fn backends(ingress: &Document) -> Vec<Backend<'_>> {
    let mut out = Vec::new();
    for field in ["defaultBackend", "backend"] {
        if let Some(b) = spec_get(ingress, &[field]) {
            out.extend(backend(b, spec_path(&[field])));
        }
    }
    let rules = spec_get(ingress, &["rules"]).and_then(Value::as_array);
    for (r, rule) in rules.into_iter().flatten().enumerate() {
        let paths = rule
            .get("http")
            .and_then(|h| h.get("paths"))
            .and_then(Value::as_array);
        for (p, entry) in paths.into_iter().flatten().enumerate() {
            if let Some(b) = entry.get("backend") {
                let path = path!["spec", "rules", r, "http", "paths", p, "backend"];
                out.extend(backend(b, path));
            }
        }
    }
    out
}

fn has_port(svc: &Document, port: &PortRef<'_>) -> bool {
    spec_get(svc, &["ports"])
        .and_then(Value::as_array)
        .is_some_and(|ports| {
            ports.iter().any(|p| match port {
                PortRef::Number(n) => p.get("port").and_then(Value::as_i64) == Some(*n),
                PortRef::Name(name) => p.get("name").and_then(Value::as_str) == Some(*name),
            })
        })
}

fn check_ingress_backend(ctx: &Context<'_>, out: &mut Out<'_>) {
    if objects(ctx, "Ingress").next().is_none() {
        return;
    }
    let services = Names::of_kind(ctx, "Service");
    if services.kinds.is_empty() {
        return;
    }
    for (i, ingress) in objects(ctx, "Ingress") {
        let ns = namespace_of(ingress);
        for b in backends(ingress) {
            let name = b.service;
            let mut found = services.find(ns, "Service", name).peekable();
            if found.peek().is_none() {
                out.emit(
                    i,
                    b.at(b.name_at),
                    format!("backend service {name} is not in the input"),
                );
                continue;
            }
            if let Some(port) = &b.port
                && !found.any(|s| has_port(&ctx.docs[s], port))
            {
                let shown = match port {
                    PortRef::Number(n) => n.to_string(),
                    PortRef::Name(p) => (*p).to_owned(),
                };
                out.emit(
                    i,
                    b.at(b.port_at),
                    format!("backend service {name} has no port {shown}"),
                );
            }
        }
    }
}

fn check_hpa_target(ctx: &Context<'_>, out: &mut Out<'_>) {
    let mut hpas = objects(ctx, "HorizontalPodAutoscaler").peekable();
    if hpas.peek().is_none() {
        return;
    }
    let names =
        Names::new(k8s_docs(ctx).map(|(i, d)| (namespace_of(d), kind_of(d), name_of(d), i)));
    for (i, hpa) in hpas {
        let Some(target) = spec_get(hpa, &["scaleTargetRef"]) else {
            continue;
        };
        let (Some(kind), Some(name)) = (
            target.get("kind").and_then(Value::as_str),
            target.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        if names.kinds.contains(kind) && names.find(namespace_of(hpa), kind, name).next().is_none()
        {
            out.emit(
                i,
                spec_path(&["scaleTargetRef", "name"]),
                format!("scale target {kind} {name} is not in the input"),
            );
        }
    }
}

fn check_pdb_selector(ctx: &Context<'_>, out: &mut Out<'_>) {
    let budgets: Vec<(usize, &Document)> = objects(ctx, "PodDisruptionBudget").collect();
    if budgets.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, pdb) in budgets {
        let sel = pdb_selector(pdb);
        if matches!(sel, Selector::Nothing) {
            out.emit(
                i,
                spec_path(&["selector"]),
                "PodDisruptionBudget has no usable selector, so it protects no pods".into(),
            );
        } else if !pods.any_match(namespace_of(pdb), &sel) {
            out.emit(
                i,
                spec_path(&["selector"]),
                format!("selector {} matches no pods in the input", sel.describe()),
            );
        }
    }
}

// Ownership.

fn check_required_labels(ctx: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let required = &ctx.settings.required_labels;
    if required.is_empty() || super::pods::template_keys(kind_of(doc)).is_none() || owned(doc) {
        return;
    }
    let labels = doc
        .value
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    let missing: Vec<&str> = required
        .iter()
        .filter(|l| {
            labels
                .and_then(|m| m.get(l.as_str()))
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        emit(
            path!["metadata", "labels"],
            format!(
                "missing required label{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        );
    }
}

// RBAC.

/// Names Kubernetes (or GKE) manages: not the team's to fix.
fn platform_name(name: &str) -> bool {
    name.starts_with("system:") || name == "gce:podsecuritypolicy:calico-sa"
}

fn rbac_rules(doc: &Document) -> impl Iterator<Item = (usize, &Value)> {
    doc.value
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Every verb on every resource of every API group: cluster-admin by another name.
fn grants_everything(rule: &Value) -> bool {
    const VERBS: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    any_str(rule, "apiGroups", |g| g == "*")
        && any_str(rule, "resources", |r| r == "*")
        && (any_str(rule, "verbs", |v| v == "*")
            || VERBS
                .iter()
                .all(|verb| any_str(rule, "verbs", |v| v == *verb)))
}

/// `pods/exec` or `pods/attach`, with create (or get, which opens the websocket).
fn grants_pod_exec(rule: &Value) -> bool {
    any_str(rule, "apiGroups", |g| g.is_empty() || g == "*")
        && any_str(rule, "resources", |r| {
            matches!(r, "*" | "pods/exec" | "pods/attach" | "*/exec" | "*/attach")
        })
        && any_str(rule, "verbs", |v| matches!(v, "*" | "get" | "create"))
}

fn check_rbac_wildcard(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    if !matches!(kind_of(doc), "Role" | "ClusterRole") || platform_name(name_of(doc)) {
        return;
    }
    for (i, rule) in rbac_rules(doc) {
        let fields: Vec<&str> = ["apiGroups", "resources", "verbs", "nonResourceURLs"]
            .into_iter()
            .filter(|f| any_str(rule, f, |x| x == "*"))
            .collect();
        if let Some(first) = fields.first() {
            emit(
                path!["rules", i, *first],
                format!("rules[{i}] uses * in {}", fields.join(", ")),
            );
        }
    }
}

fn pod_exec(doc: &Document, emit: Emit<'_>, kind: &str) {
    if kind_of(doc) != kind {
        return;
    }
    let name = name_of(doc);
    let builtin = kind == "ClusterRole" && matches!(name, "admin" | "edit" | "cluster-admin");
    if builtin || platform_name(name) {
        return;
    }
    for (i, rule) in rbac_rules(doc) {
        if grants_pod_exec(rule) {
            emit(
                path!["rules", i, "resources"],
                format!("rules[{i}] allows exec or attach into pods"),
            );
        }
    }
}

/// The role a binding references, if it is of `kind`.
fn role_ref<'a>(binding: &'a Document, kind: &str) -> Option<&'a str> {
    let r = binding.value.get("roleRef")?;
    (r.get("kind")?.as_str()? == kind)
        .then(|| r.get("name")?.as_str())
        .flatten()
}

/// Why binding a ClusterRole hands over the cluster, if it does.
fn cluster_admin_role<'a>(
    name: &'a str,
    cluster_roles: &Names<'a>,
    docs: &[Document],
) -> Option<String> {
    if name == "cluster-admin" {
        return Some("binds the cluster-admin ClusterRole".into());
    }
    cluster_roles
        .find(None, "ClusterRole", name)
        .any(|r| rbac_rules(&docs[r]).any(|(_, rule)| grants_everything(rule)))
        .then(|| format!("binds ClusterRole {name}, which grants every verb on every resource"))
}

/// ClusterRoles are cluster-scoped: indexed without a namespace.
fn cluster_roles<'a>(ctx: &Context<'a>) -> Names<'a> {
    Names::new(objects(ctx, "ClusterRole").map(|(i, d)| (None, "ClusterRole", name_of(d), i)))
}

fn check_cluster_admin_binding(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = cluster_roles(ctx);
    for (i, binding) in objects(ctx, "ClusterRoleBinding") {
        let name = name_of(binding);
        if name == "cluster-admin" || platform_name(name) {
            continue;
        }
        if let Some(role) = role_ref(binding, "ClusterRole")
            && let Some(message) = cluster_admin_role(role, &roles, ctx.docs)
        {
            out.emit(i, path!["roleRef", "name"], message);
        }
    }
}

fn check_rolebinding_cluster_admin(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = cluster_roles(ctx);
    for (i, binding) in objects(ctx, "RoleBinding") {
        if platform_name(name_of(binding)) {
            continue;
        }
        if let Some(role) = role_ref(binding, "ClusterRole")
            && let Some(message) = cluster_admin_role(role, &roles, ctx.docs)
        {
            out.emit(i, path!["roleRef", "name"], message);
        }
    }
}

fn check_rolebinding_admin_role(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = Names::of_kind(ctx, "Role");
    for (i, binding) in objects(ctx, "RoleBinding") {
        if platform_name(name_of(binding)) {
            continue;
        }
        let Some(role) = role_ref(binding, "Role") else {
            continue;
        };
        if roles
            .find(namespace_of(binding), "Role", role)
            .any(|r| rbac_rules(&ctx.docs[r]).any(|(_, rule)| grants_everything(rule)))
        {
            out.emit(
                i,
                path!["roleRef", "name"],
                format!("binds Role {role}, which grants every verb on every resource"),
            );
        }
    }
}

#[cfg(test)]
mod cross_tests {
    #[test]
    fn every_rule_that_needs_other_objects_exists() {
        let ids: Vec<&str> = super::rules().iter().map(|r| r.meta().id).collect();
        for id in super::NEEDS_OTHER_OBJECTS {
            assert!(ids.contains(id), "{id}");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::print_stdout)]

    use super::*;

    /// A finding as a reader sees it.
    #[derive(Debug)]
    struct Found {
        doc: usize,
        message: String,
        line: u32,
        column: u32,
    }

    fn load(yaml: &str) -> Vec<Document> {
        crate::doc::load(
            "t.yaml",
            yaml.to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap()
    }

    fn rule(id: &str) -> Box<dyn Rule> {
        rules()
            .into_iter()
            .find(|r| r.meta().id == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    }

    fn run_with(id: &str, yaml: &str, settings: &RuleSettings) -> Vec<Found> {
        let docs = load(yaml);
        let ctx = Context {
            docs: &docs,
            settings,
        };
        let mut out = Vec::new();
        rule(id).check(&ctx, &mut out);
        out.into_iter()
            .map(|f| {
                assert_eq!(f.rule, id);
                let pos = docs[f.doc].locate(&f.path).unwrap();
                Found {
                    doc: f.doc,
                    message: f.message,
                    line: pos.line,
                    column: pos.column,
                }
            })
            .collect()
    }

    fn run(id: &str, yaml: &str) -> Vec<Found> {
        run_with(id, yaml, &RuleSettings::default())
    }

    fn messages(id: &str, yaml: &str) -> Vec<String> {
        run(id, yaml).into_iter().map(|f| f.message).collect()
    }

    #[track_caller]
    fn quiet(id: &str, yaml: &str) {
        let found = messages(id, yaml);
        assert!(found.is_empty(), "{id} fired: {found:?}");
    }

    #[track_caller]
    fn fires(id: &str, yaml: &str) -> Vec<String> {
        let found = messages(id, yaml);
        assert!(!found.is_empty(), "{id} did not fire");
        found
    }

    /// A Pod whose spec is given in YAML flow style (without braces).
    fn pod(spec: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{{spec}}}\n")
    }

    /// A Deployment `name` in `ns` (`-` for none) with pod labels `app: name`.
    fn deployment(name: &str, ns: &str, spec: &str, pod_spec: &str) -> String {
        let ns = if ns == "-" {
            String::new()
        } else {
            format!(", namespace: {ns}")
        };
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}{ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n{spec}  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: {name}, image: 'r/{name}:1'}}]{pod_spec}}}\n"
        )
    }

    /// Everything done right: no k8s rule may fire on it.
    const GOOD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {owner: team-a, cost-center: cc-1}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      priorityClassName: standard
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: web}}
      initContainers:
      - name: migrate
        image: registry.example.com:5000/web@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
        imagePullPolicy: Always
        securityContext: {readOnlyRootFilesystem: true}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {cpu: 100m, memory: 64Mi}
      containers:
      - name: web
        image: registry.example.com:5000/web:1.4.2
        imagePullPolicy: Always
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        - {name: GREETING, value: hello}
        - {name: TOKEN_FILE, value: /var/run/secrets/token}
        - {name: API_TOKEN, value: ""}
        ports:
        - {name: http, containerPort: 8080}
        securityContext: {readOnlyRootFilesystem: true}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 1, memory: 128Mi}
        readinessProbe: {httpGet: {path: /ready, port: http}}
        livenessProbe: {httpGet: {path: /live, port: http}}
      volumes:
      - {name: tmp, emptyDir: {}}
      - {name: certs, hostPath: {path: /etc/ssl/certs}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 2
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [web, api]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: ExternalName
  externalName: db.example.com
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  tls:
  - hosts: [shop.example.com]
    secretName: web-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
      - path: /api
        pathType: Prefix
        backend:
          service: {name: web, port: {name: http}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 10
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: shop}
data:
  LOG_LEVEL: info
  SECRET_NAME: web-credentials
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
- apiGroups: [""]
  resources: [configmaps, pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: web-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
"#;

    #[test]
    fn catalog_is_consistent() {
        let mut seen = HashSet::new();
        for r in rules() {
            let m = r.meta();
            assert!(m.id.starts_with("k8s-"), "{}", m.id);
            assert!(seen.insert(m.id), "duplicate {}", m.id);
            assert_eq!(m.tier, Tier::Recommended, "{}", m.id);
            assert_eq!(m.kind, DocKind::Kubernetes, "{}", m.id);
            assert!(!m.title.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty());
        }
        assert!(seen.len() >= 30);
    }

    #[test]
    fn a_good_bundle_passes_every_rule() {
        for r in rules() {
            quiet(r.meta().id, GOOD);
        }
    }

    #[test]
    fn resources_per_container_and_kind() {
        let yaml = pod(
            "initContainers: [{name: migrate, image: 'm:1'}], containers: [{name: web, image: 'w:1', resources: {requests: {memory: 1Mi, cpu: ''}, limits: {cpu: 1}}}]",
        );
        assert_eq!(
            fires("k8s-cpu-requests", &yaml),
            [
                "container web has no CPU request",
                "init container migrate has no CPU request"
            ]
        );
        assert_eq!(
            fires("k8s-memory-requests", &yaml),
            ["init container migrate has no memory request"]
        );
        assert_eq!(
            fires("k8s-cpu-limits", &yaml),
            ["init container migrate has no CPU limit"]
        );
        assert_eq!(
            fires("k8s-memory-limits", &yaml),
            [
                "container web has no memory limit",
                "init container migrate has no memory limit"
            ]
        );
        // Ephemeral containers cannot have resources: never asked for.
        let ephemeral = pod(
            "containers: [{name: web, image: 'w:1', resources: {requests: {cpu: 1, memory: 1Mi}, limits: {cpu: 1, memory: 1Mi}}}], ephemeralContainers: [{name: debug, image: 'busybox:1'}]",
        );
        for id in [
            "k8s-cpu-requests",
            "k8s-cpu-limits",
            "k8s-memory-requests",
            "k8s-memory-limits",
        ] {
            quiet(id, &ephemeral);
        }
    }

    #[test]
    fn positions_point_at_the_field_or_its_nearest_parent() {
        let yaml = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:latest
        resources:
          limits:
            cpu: 100m
";
        let f = run("k8s-memory-limits", yaml);
        assert_eq!(f[0].message, "container web has no memory limit");
        // resources.limits.memory is missing: the finding sits on `limits`.
        assert_eq!((f[0].line, f[0].column), (12, 11));
        let f = run("k8s-image-tag", yaml);
        assert_eq!(
            f[0].message,
            "container web image nginx:latest uses the mutable latest tag"
        );
        assert_eq!((f[0].line, f[0].column), (10, 9));
        // A container without probes: the container itself.
        let f = run("k8s-readiness-probe", yaml);
        assert_eq!((f[0].line, f[0].column), (9, 9));
    }

    #[test]
    fn probes_skip_run_to_completion_pods_and_init_containers() {
        let deploy = deployment(
            "web",
            "-",
            "",
            ", initContainers: [{name: init, image: 'i:1'}]",
        );
        assert_eq!(
            fires("k8s-readiness-probe", &deploy),
            ["container web has no readiness probe"]
        );
        assert_eq!(
            fires("k8s-liveness-probe", &deploy),
            ["container web has no liveness probe"]
        );
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: j, image: 'j:1'}]}\n";
        let one_off = pod("restartPolicy: Never, containers: [{name: p, image: 'p:1'}]");
        for id in ["k8s-readiness-probe", "k8s-liveness-probe"] {
            quiet(id, job);
            quiet(id, &one_off);
        }
        quiet(
            "k8s-liveness-probe",
            &pod("containers: [{name: p, image: 'p:1', livenessProbe: {tcpSocket: {port: 80}}}]"),
        );
    }

    #[test]
    fn image_tags() {
        for (image, problem) in [
            ("nginx", Some("has no tag, which means latest")),
            ("nginx:latest", Some("uses the mutable latest tag")),
            (
                "registry:5000/team/nginx",
                Some("has no tag, which means latest"),
            ),
            ("nginx:", Some("has an empty tag")),
            ("registry:5000/team/nginx:1.25", None),
            ("nginx@sha256:abcd", None),
            ("nginx:latest@sha256:abcd", None),
        ] {
            assert_eq!(image_tag_problem(image), problem, "{image}");
        }
        assert_eq!(
            fires(
                "k8s-image-tag",
                &pod(
                    "containers: [{name: web, image: nginx}], initContainers: [{name: i, image: 'i:2'}]"
                )
            ),
            ["container web image nginx has no tag, which means latest"]
        );
    }

    #[test]
    fn pull_policy_must_be_always() {
        let yaml = pod(
            "containers: [{name: a, image: 'a:1'}, {name: b, image: 'b:1', imagePullPolicy: IfNotPresent}, {name: c, image: 'c:1', imagePullPolicy: Always}]",
        );
        assert_eq!(
            fires("k8s-image-pull-policy", &yaml),
            [
                "container a does not set imagePullPolicy: Always",
                "container b has imagePullPolicy IfNotPresent; use Always"
            ]
        );
    }

    #[test]
    fn read_only_root_filesystem() {
        let yaml = pod(
            "containers: [{name: a, image: 'a:1'}, {name: b, image: 'b:1', securityContext: {readOnlyRootFilesystem: false}}, {name: c, image: 'c:1', securityContext: {readOnlyRootFilesystem: true}}]",
        );
        assert_eq!(
            fires("k8s-read-only-root-fs", &yaml),
            [
                "container a does not set securityContext.readOnlyRootFilesystem: true",
                "container b sets readOnlyRootFilesystem: false"
            ]
        );
        quiet(
            "k8s-read-only-root-fs",
            &pod("os: {name: windows}, containers: [{name: a, image: 'a:1'}]"),
        );
    }

    #[test]
    fn host_mounts() {
        let yaml = pod(
            "containers: [{name: a, image: 'a:1'}], volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}, {name: run, hostPath: {path: /run/containerd/}}, {name: etc, hostPath: {path: /etc}}, {name: kubelet, hostPath: {path: /var/lib/kubelet/pods}}, {name: root, hostPath: {path: /}}, {name: logs, hostPath: {path: /var/log}}, {name: certs, hostPath: {path: /etc/ssl/certs}}, {name: rootish, hostPath: {path: /rootfs}}]",
        );
        assert_eq!(
            fires("k8s-docker-socket", &yaml),
            [
                "volume sock mounts the node's container runtime socket (/var/run/docker.sock)",
                "volume run mounts the node's container runtime socket (/run/containerd)"
            ]
        );
        assert_eq!(
            fires("k8s-sensitive-host-mount", &yaml),
            [
                "volume etc mounts the node's /etc",
                "volume kubelet mounts the node's /var/lib/kubelet/pods",
                "volume root mounts the node's /"
            ]
        );
    }

    #[test]
    fn secrets_in_env() {
        for (name, value, why) in [
            ("DB_PASSWORD", "hunter2", Some("holds a literal secret")),
            ("AWS_SECRET_ACCESS_KEY", "x", Some("holds a literal secret")),
            ("AZURE_STORAGE_KEY", "x", Some("holds a literal secret")),
            ("github_token", "ghp_x", Some("holds a literal secret")),
            (
                "SSH",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
                Some("holds a private key"),
            ),
            ("GREETING", "hello", None),
            ("API_TOKEN", "", None),
            ("TOKEN_FILE", "/run/secrets/token", None),
            ("SECRET_NAME", "db-credentials", None),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/var/secrets/key.json",
                None,
            ),
            ("PASSWORD", "$(DB_PASSWORD)", None),
            ("TOKENIZERS_PARALLELISM", "false", None),
            ("AZURE_KEY", "x", None),
        ] {
            assert_eq!(literal_secret(name, value), why, "{name}");
        }
        let yaml = pod(
            "containers: [{name: web, image: 'w:1', env: [{name: my_password, value: abc123}, {name: token, valueFrom: {secretKeyRef: {name: s, key: t}}}]}]",
        );
        let f = run("k8s-env-secret", &yaml);
        assert_eq!(
            f[0].message,
            "container web env my_password holds a literal secret; use valueFrom.secretKeyRef"
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn secrets_in_configmaps() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  db_user: app\n  db_password: abc\n  key.pem: |\n    -----BEGIN RSA PRIVATE KEY-----\n    xyz\n";
        assert_eq!(
            fires("k8s-configmap-secret", yaml),
            [
                "key db_password holds a literal secret; move it to a Secret",
                "key key.pem holds a private key; move it to a Secret"
            ]
        );
        quiet(
            "k8s-configmap-secret",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {db_user: app}\n",
        );
    }

    const SA_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {serviceAccountName: app, containers: [{name: c, image: 'c:1'}]}\n";

    #[test]
    fn token_automount_follows_pod_then_service_account() {
        assert_eq!(
            fires("k8s-automount-token", SA_POD),
            [
                "the token of service account app is mounted: set automountServiceAccountToken: false on the pod (or its ServiceAccount)"
            ]
        );
        let sa = |ns: &str, auto: &str| {
            format!(
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app, namespace: {ns}}}\n{auto}\n"
            )
        };
        quiet(
            "k8s-automount-token",
            &format!("{SA_POD}{}", sa("a", "automountServiceAccountToken: false")),
        );
        assert_eq!(
            fires("k8s-automount-token", &format!("{SA_POD}{}", sa("a", ""))),
            [
                "the token of service account app is mounted: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false"
            ]
        );
        // The account that disables the token lives in another namespace.
        fires(
            "k8s-automount-token",
            &format!("{SA_POD}{}", sa("b", "automountServiceAccountToken: false")),
        );
        // The pod's own setting wins.
        let pod_true = SA_POD.replace(
            "serviceAccountName: app,",
            "serviceAccountName: app, automountServiceAccountToken: true,",
        );
        assert_eq!(
            fires(
                "k8s-automount-token",
                &format!(
                    "{pod_true}{}",
                    sa("a", "automountServiceAccountToken: false")
                )
            ),
            ["pod sets automountServiceAccountToken: true"]
        );
        quiet(
            "k8s-automount-token",
            &pod("automountServiceAccountToken: false, containers: [{name: c, image: 'c:1'}]"),
        );
    }

    #[test]
    fn default_service_account() {
        assert_eq!(
            fires(
                "k8s-default-service-account",
                &pod("containers: [{name: c, image: 'c:1'}]")
            ),
            ["pod runs as the namespace's default service account, with its token mounted"]
        );
        fires(
            "k8s-default-service-account",
            &pod("serviceAccountName: default, containers: [{name: c, image: 'c:1'}]"),
        );
        quiet(
            "k8s-default-service-account",
            &pod("automountServiceAccountToken: false, containers: [{name: c, image: 'c:1'}]"),
        );
        quiet("k8s-default-service-account", SA_POD);
        quiet(
            "k8s-default-service-account",
            &format!(
                "{}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default}}\nautomountServiceAccountToken: false\n",
                pod("containers: [{name: c, image: 'c:1'}]")
            ),
        );
    }

    #[test]
    fn replicas_in_production() {
        assert_eq!(
            fires(
                "k8s-replicas",
                &deployment("web", "-", "  replicas: 1\n", "")
            ),
            ["runs 1 replica; use 2 or more in production"]
        );
        assert_eq!(
            fires("k8s-replicas", &deployment("web", "-", "", "")),
            ["does not set spec.replicas, so it runs 1 replica"]
        );
        quiet(
            "k8s-replicas",
            &deployment("web", "-", "  replicas: 2\n", ""),
        );
        quiet(
            "k8s-replicas",
            &deployment("web", "-", "  replicas: 0\n", ""),
        );
        // An autoscaler manages it.
        let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n";
        quiet(
            "k8s-replicas",
            &format!("{}{hpa}", deployment("web", "-", "", "")),
        );

        let prod = RuleSettings {
            production_namespaces: vec!["prod-*".into(), "payments".into()],
            ..RuleSettings::default()
        };
        let count =
            |ns: &str| run_with("k8s-replicas", &deployment("web", ns, "", ""), &prod).len();
        assert_eq!(count("prod-eu"), 1);
        assert_eq!(count("payments"), 1);
        assert_eq!(count("dev"), 0);
        assert_eq!(count("-"), 0, "no namespace is `default`, not listed");
        let with_default = RuleSettings {
            production_namespaces: vec!["default".into()],
            ..RuleSettings::default()
        };
        assert_eq!(
            run_with(
                "k8s-replicas",
                &deployment("web", "-", "", ""),
                &with_default
            )
            .len(),
            1
        );
    }

    fn pdb(name: &str, ns: &str, spec: &str) -> String {
        let ns = if ns == "-" {
            String::new()
        } else {
            format!(", namespace: {ns}")
        };
        format!(
            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}{ns}}}\nspec: {{{spec}}}\n"
        )
    }

    #[test]
    fn disruption_budgets_across_namespaces() {
        let yaml = format!(
            "{}---\n{}{}",
            deployment("web", "a", "  replicas: 2\n", ""),
            deployment("web", "b", "  replicas: 2\n", ""),
            pdb(
                "web",
                "a",
                "maxUnavailable: 1, selector: {matchLabels: {app: web}}"
            ),
        );
        let f = run("k8s-pdb", &yaml);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].doc, 1, "the Deployment in namespace b");
        assert_eq!(
            f[0].message,
            "no PodDisruptionBudget selects the pods of Deployment web"
        );
        // Points at the pod template's labels.
        assert_eq!((f[0].line, f[0].column), (18, 16));
        // A budget without a namespace may be applied next to either.
        quiet(
            "k8s-pdb",
            &format!(
                "{}{}",
                deployment("web", "a", "  replicas: 2\n", ""),
                pdb(
                    "web",
                    "-",
                    "maxUnavailable: 1, selector: {matchLabels: {app: web}}"
                )
            ),
        );
        fires(
            "k8s-pdb",
            &format!(
                "{}{}",
                deployment("web", "a", "  replicas: 2\n", ""),
                pdb(
                    "web",
                    "a",
                    "maxUnavailable: 1, selector: {matchLabels: {app: web, tier: x}}"
                )
            ),
        );
        quiet(
            "k8s-pdb",
            &format!(
                "{}{}",
                deployment("web", "a", "  replicas: 2\n", ""),
                pdb("all", "a", "maxUnavailable: 1, selector: {}")
            ),
        );
        // policy/v1beta1: an empty selector selected nothing.
        fires(
            "k8s-pdb",
            &format!(
                "{}{}",
                deployment("web", "a", "  replicas: 2\n", ""),
                pdb("all", "a", "maxUnavailable: 1, selector: {}")
                    .replace("policy/v1", "policy/v1beta1")
            ),
        );
        // DaemonSets are not asked for a budget.
        quiet(
            "k8s-pdb",
            &deployment("agent", "a", "", "").replace("Deployment", "DaemonSet"),
        );
    }

    #[test]
    fn budgets_that_block_eviction() {
        assert_eq!(
            fires(
                "k8s-pdb-zero-disruptions",
                &pdb("p", "-", "maxUnavailable: 0")
            ),
            ["maxUnavailable 0 allows no voluntary eviction, so node drains hang"]
        );
        assert_eq!(
            fires(
                "k8s-pdb-zero-disruptions",
                &pdb("p", "-", "minAvailable: 100%")
            ),
            ["minAvailable 100% allows no voluntary eviction, so node drains hang"]
        );
        quiet(
            "k8s-pdb-zero-disruptions",
            &pdb("p", "-", "minAvailable: 1"),
        );
        let with = |replicas: &str, spec: &str| {
            format!(
                "{}{}",
                deployment("web", "-", replicas, ""),
                pdb(
                    "p",
                    "-",
                    &format!("{spec}, selector: {{matchLabels: {{app: web}}}}")
                )
            )
        };
        assert_eq!(
            fires(
                "k8s-pdb-zero-disruptions",
                &with("  replicas: 2\n", "minAvailable: 2")
            ),
            [
                "minAvailable 2 with 2 pods selected (Deployment web) allows no voluntary eviction, so node drains hang"
            ]
        );
        fires("k8s-pdb-zero-disruptions", &with("", "minAvailable: 1"));
        fires("k8s-pdb-zero-disruptions", &with("", "minAvailable: 50%"));
        quiet(
            "k8s-pdb-zero-disruptions",
            &with("  replicas: 3\n", "minAvailable: 2"),
        );
        quiet(
            "k8s-pdb-zero-disruptions",
            &with("  replicas: 4\n", "minAvailable: 50%"),
        );
        // The autoscaler's minimum counts, not spec.replicas.
        let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 6}\n";
        quiet(
            "k8s-pdb-zero-disruptions",
            &format!("{}{hpa}", with("  replicas: 1\n", "minAvailable: 2")),
        );
        // A DaemonSet's size is unknown here.
        quiet(
            "k8s-pdb-zero-disruptions",
            &with("", "minAvailable: 1").replace("kind: Deployment", "kind: DaemonSet"),
        );
    }

    #[test]
    fn topology_spread() {
        assert_eq!(
            fires("k8s-topology-spread", &deployment("web", "-", "", "")),
            [
                "pods set no topologySpreadConstraints (or pod anti-affinity): replicas may share one node or zone"
            ]
        );
        quiet(
            "k8s-topology-spread",
            &deployment(
                "web",
                "-",
                "",
                ", affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]}}",
            ),
        );
        quiet(
            "k8s-topology-spread",
            &deployment("web", "-", "", "").replace("Deployment", "DaemonSet"),
        );
        quiet("k8s-topology-spread", &pod("containers: []"));
    }

    fn hpa(ns: &str, spec: &str) -> String {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h, namespace: {ns}}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}{spec}}}\n"
        )
    }

    #[test]
    fn autoscaler_bounds() {
        assert_eq!(
            fires(
                "k8s-hpa-min-replicas",
                &hpa("a", ", minReplicas: 1, maxReplicas: 5")
            ),
            ["minReplicas 1 scales down to a single replica"]
        );
        assert_eq!(
            fires("k8s-hpa-min-replicas", &hpa("a", ", maxReplicas: 5")),
            ["does not set minReplicas, so it scales down to 1 replica"]
        );
        quiet(
            "k8s-hpa-min-replicas",
            &hpa("a", ", minReplicas: 2, maxReplicas: 5"),
        );
        let prod = RuleSettings {
            production_namespaces: vec!["prod".into()],
            ..RuleSettings::default()
        };
        assert!(
            run_with(
                "k8s-hpa-min-replicas",
                &hpa("dev", ", maxReplicas: 5"),
                &prod
            )
            .is_empty()
        );

        assert_eq!(
            fires(
                "k8s-hpa-max-replicas",
                &hpa("a", ", minReplicas: 5, maxReplicas: 5")
            ),
            ["maxReplicas 5 is not above minReplicas 5: it can never scale up"]
        );
        fires("k8s-hpa-max-replicas", &hpa("a", ", maxReplicas: 1"));
        quiet("k8s-hpa-max-replicas", &hpa("a", ", maxReplicas: 2"));
    }

    #[test]
    fn priority_class() {
        assert_eq!(
            fires("k8s-priority-class", &pod("containers: []")),
            ["pod sets no priorityClassName"]
        );
        quiet(
            "k8s-priority-class",
            &pod("priorityClassName: high, containers: []"),
        );
    }

    fn netpol(ns: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: {ns}}}\nspec: {{{spec}}}\n"
        )
    }

    #[test]
    fn network_policies() {
        let web = deployment("web", "a", "", "");
        // Without any NetworkPolicy in the input, coverage is someone else's business.
        quiet("k8s-network-policy", &web);
        assert_eq!(
            fires(
                "k8s-network-policy",
                &format!(
                    "{web}{}",
                    netpol(
                        "a",
                        "podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]"
                    )
                )
            ),
            ["no NetworkPolicy restricts egress from the pods of Deployment web"]
        );
        // Without policyTypes: ingress, plus egress when there are egress rules.
        quiet(
            "k8s-network-policy",
            &format!(
                "{web}{}",
                netpol(
                    "a",
                    "podSelector: {matchLabels: {app: web}}, egress: [{to: [{podSelector: {}}]}]"
                )
            ),
        );
        assert_eq!(
            fires(
                "k8s-network-policy",
                &format!(
                    "{web}{}",
                    netpol("a", "podSelector: {}, policyTypes: [Egress]")
                )
            ),
            ["no NetworkPolicy restricts ingress to the pods of Deployment web"]
        );
        // A default deny in another namespace does not cover it.
        assert_eq!(
            fires(
                "k8s-network-policy",
                &format!(
                    "{web}{}",
                    netpol("b", "podSelector: {}, policyTypes: [Ingress, Egress]")
                )
            ),
            ["no NetworkPolicy selects the pods of Deployment web"]
        );
        quiet(
            "k8s-network-policy",
            &format!(
                "{}{}",
                deployment("web", "a", "", ", hostNetwork: true"),
                netpol("b", "podSelector: {}")
            ),
        );
        // Objects without a namespace may land next to anything, both ways round.
        let wide = "podSelector: {}, policyTypes: [Ingress, Egress]";
        quiet(
            "k8s-network-policy",
            &format!("{web}{}", netpol("b", wide).replace(", namespace: b", "")),
        );
        quiet(
            "k8s-network-policy",
            &format!("{}{}", deployment("web", "-", "", ""), netpol("b", wide)),
        );
        // Two partial policies add up.
        quiet(
            "k8s-network-policy",
            &format!(
                "{web}{}{}",
                netpol("a", "podSelector: {}, policyTypes: [Ingress]"),
                netpol(
                    "a",
                    "podSelector: {matchExpressions: [{key: app, operator: In, values: [api, web]}]}, policyTypes: [Egress]"
                )
            ),
        );
    }

    #[test]
    fn ingress_tls() {
        let ingress = |extra: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i{extra}}}\nspec: {{rules: []}}\n"
            )
        };
        assert_eq!(
            fires("k8s-ingress-tls", &ingress("")),
            ["Ingress has no spec.tls: it serves plain HTTP"]
        );
        quiet(
            "k8s-ingress-tls",
            &ingress(", annotations: {alb.ingress.kubernetes.io/certificate-arn: 'arn:aws:acm:x'}"),
        );
    }

    fn service(ns: &str, selector: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\nspec: {{selector: {{{selector}}}, ports: [{{name: http, port: 80}}]}}\n"
        )
    }

    #[test]
    fn services_that_select_nothing() {
        // Alone, a Service cannot be judged.
        quiet("k8s-service-selector", &service("a", "app: api"));
        let f = run(
            "k8s-service-selector",
            &format!(
                "{}{}",
                deployment("web", "a", "", ""),
                service("a", "app: api")
            ),
        );
        assert_eq!(
            f[0].message,
            "selector app=api matches no pods in the input"
        );
        quiet(
            "k8s-service-selector",
            &format!(
                "{}{}",
                deployment("web", "a", "", ""),
                service("a", "app: web")
            ),
        );
        // The matching pods are in another namespace.
        fires(
            "k8s-service-selector",
            &format!(
                "{}{}",
                deployment("web", "b", "", ""),
                service("a", "app: web")
            ),
        );
    }

    #[test]
    fn ingress_backends() {
        let ingress = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: a}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 8080}}}\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}\n      - {path: /ok, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}\n";
        // No Services in the input: nothing to compare with.
        quiet("k8s-ingress-backend", ingress);
        let f = run(
            "k8s-ingress-backend",
            &format!("{}{ingress}", service("a", "app: web")),
        );
        let messages: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "backend service web has no port 8080",
                "backend service api is not in the input"
            ]
        );
        // On the backend's service name.
        assert_eq!((f[1].line, f[1].column), (15, 57), "{f:?}");
        // The Service is in another namespace.
        fires(
            "k8s-ingress-backend",
            &format!("{}{ingress}", service("b", "app: web")),
        );
        let beta = "---\napiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: i, namespace: a}\nspec: {backend: {serviceName: web, servicePort: 80}}\n";
        quiet(
            "k8s-ingress-backend",
            &format!("{}{beta}", service("a", "app: web")),
        );
    }

    #[test]
    fn autoscaler_targets() {
        let target = hpa("a", ", maxReplicas: 3");
        quiet("k8s-hpa-target", &target);
        assert_eq!(
            fires(
                "k8s-hpa-target",
                &format!("{}---\n{target}", deployment("api", "a", "", ""))
            ),
            ["scale target Deployment web is not in the input"]
        );
        quiet(
            "k8s-hpa-target",
            &format!("{}---\n{target}", deployment("web", "a", "", "")),
        );
        fires(
            "k8s-hpa-target",
            &format!("{}---\n{target}", deployment("web", "b", "", "")),
        );
    }

    #[test]
    fn budgets_that_select_nothing() {
        let web = deployment("web", "a", "", "");
        quiet(
            "k8s-pdb-selector",
            &pdb(
                "p",
                "a",
                "maxUnavailable: 1, selector: {matchLabels: {app: api}}",
            ),
        );
        assert_eq!(
            fires(
                "k8s-pdb-selector",
                &format!(
                    "{web}{}",
                    pdb(
                        "p",
                        "a",
                        "maxUnavailable: 1, selector: {matchLabels: {app: api}}"
                    )
                )
            ),
            ["selector app=api matches no pods in the input"]
        );
        assert_eq!(
            fires(
                "k8s-pdb-selector",
                &format!("{web}{}", pdb("p", "a", "maxUnavailable: 1"))
            ),
            ["PodDisruptionBudget has no usable selector, so it protects no pods"]
        );
        quiet(
            "k8s-pdb-selector",
            &format!(
                "{web}{}",
                pdb(
                    "p",
                    "a",
                    "maxUnavailable: 1, selector: {matchExpressions: [{key: app, operator: NotIn, values: [api]}]}"
                )
            ),
        );
    }

    #[test]
    fn required_labels() {
        assert_eq!(
            fires("k8s-required-labels", &deployment("web", "-", "", "")),
            ["missing required labels owner, cost-center"]
        );
        let labelled = deployment("web", "-", "", "").replace(
            "metadata: {name: web}",
            "metadata: {name: web, labels: {owner: a, cost-center: ''}}",
        );
        assert_eq!(
            fires("k8s-required-labels", &labelled),
            ["missing required label cost-center"]
        );
        let team = RuleSettings {
            required_labels: vec!["owner".into()],
            ..RuleSettings::default()
        };
        assert!(run_with("k8s-required-labels", &labelled, &team).is_empty());
        let none = RuleSettings {
            required_labels: Vec::new(),
            ..RuleSettings::default()
        };
        assert!(
            run_with(
                "k8s-required-labels",
                &deployment("web", "-", "", ""),
                &none
            )
            .is_empty()
        );
        // Only workloads are asked.
        quiet("k8s-required-labels", &service("a", "app: web"));
    }

    fn role(kind: &str, name: &str, rules: &str) -> String {
        format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: a}}\nrules: [{rules}]\n"
        )
    }

    fn binding(kind: &str, name: &str, ns: &str, role_kind: &str, role: &str) -> String {
        format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: {role}}}\nsubjects: [{{kind: User, name: u}}]\n"
        )
    }

    const ALL: &str = "{apiGroups: ['*'], resources: ['*'], verbs: ['*']}";

    #[test]
    fn rbac_wildcards() {
        assert_eq!(
            fires(
                "k8s-rbac-wildcard",
                &role(
                    "ClusterRole",
                    "ops",
                    "{apiGroups: [''], resources: [pods], verbs: [get]}, {apiGroups: [apps], resources: ['*'], verbs: ['*']}"
                )
            ),
            ["rules[1] uses * in resources, verbs"]
        );
        quiet("k8s-rbac-wildcard", &role("ClusterRole", "system:ops", ALL));
        quiet(
            "k8s-rbac-wildcard",
            &role(
                "Role",
                "r",
                "{apiGroups: [''], resources: [pods], verbs: [get]}",
            ),
        );
    }

    #[test]
    fn rbac_pod_exec() {
        let exec = "{apiGroups: [''], resources: [pods, pods/exec], verbs: [create]}";
        assert_eq!(
            fires(
                "k8s-rbac-clusterrole-pod-exec",
                &role("ClusterRole", "debug", exec)
            ),
            ["rules[0] allows exec or attach into pods"]
        );
        quiet(
            "k8s-rbac-clusterrole-pod-exec",
            &role("ClusterRole", "edit", exec),
        );
        quiet(
            "k8s-rbac-clusterrole-pod-exec",
            &role("Role", "debug", exec),
        );
        fires("k8s-rbac-role-pod-exec", &role("Role", "debug", exec));
        quiet(
            "k8s-rbac-role-pod-exec",
            &role(
                "Role",
                "debug",
                "{apiGroups: [''], resources: [pods/exec], verbs: [list]}",
            ),
        );
    }

    #[test]
    fn rbac_admin_bindings() {
        assert_eq!(
            fires(
                "k8s-rbac-cluster-admin-binding",
                &binding(
                    "ClusterRoleBinding",
                    "ops",
                    "a",
                    "ClusterRole",
                    "cluster-admin"
                )
            ),
            ["binds the cluster-admin ClusterRole"]
        );
        assert_eq!(
            fires(
                "k8s-rbac-cluster-admin-binding",
                &format!(
                    "{}{}",
                    role(
                        "ClusterRole",
                        "god",
                        "{apiGroups: ['*'], resources: ['*'], verbs: [get, list, watch, create, update, patch, delete]}"
                    ),
                    binding("ClusterRoleBinding", "ops", "a", "ClusterRole", "god")
                )
            ),
            ["binds ClusterRole god, which grants every verb on every resource"]
        );
        quiet(
            "k8s-rbac-cluster-admin-binding",
            &binding(
                "ClusterRoleBinding",
                "system:ops",
                "a",
                "ClusterRole",
                "cluster-admin",
            ),
        );
        quiet(
            "k8s-rbac-cluster-admin-binding",
            &format!(
                "{}{}",
                role(
                    "ClusterRole",
                    "god",
                    "{apiGroups: [''], resources: ['*'], verbs: ['*']}"
                ),
                binding("ClusterRoleBinding", "ops", "a", "ClusterRole", "god")
            ),
        );

        fires(
            "k8s-rbac-rolebinding-cluster-admin",
            &binding("RoleBinding", "ops", "a", "ClusterRole", "cluster-admin"),
        );
        quiet(
            "k8s-rbac-rolebinding-cluster-admin",
            &binding("RoleBinding", "ops", "a", "ClusterRole", "edit"),
        );
        quiet(
            "k8s-rbac-rolebinding-cluster-admin",
            &format!(
                "{}{}",
                role("Role", "all", ALL),
                binding("RoleBinding", "ops", "a", "Role", "all")
            ),
        );

        assert_eq!(
            fires(
                "k8s-rbac-rolebinding-admin-role",
                &format!(
                    "{}{}",
                    role("Role", "all", ALL),
                    binding("RoleBinding", "ops", "a", "Role", "all")
                )
            ),
            ["binds Role all, which grants every verb on every resource"]
        );
        // The Role of that name lives in another namespace.
        quiet(
            "k8s-rbac-rolebinding-admin-role",
            &format!(
                "{}{}",
                role("Role", "all", ALL),
                binding("RoleBinding", "ops", "b", "Role", "all")
            ),
        );
    }

    #[test]
    fn owned_pods_are_left_to_their_controller() {
        let owned = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, controller: true}]\nspec: {containers: [{name: web, image: nginx}]}\n";
        for id in [
            "k8s-image-tag",
            "k8s-cpu-requests",
            "k8s-readiness-probe",
            "k8s-automount-token",
        ] {
            quiet(id, owned);
        }
        // …but they are pods a Service can select.
        quiet(
            "k8s-service-selector",
            &format!(
                "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{selector: {{app: web}}}}\n",
                owned.replace("  name: web-1\n", "  name: web-1\n  labels: {app: web}\n")
            ),
        );
    }

    /// Not a timed assertion: run with
    /// `cargo test --release -p pave-policy ten_thousand -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement, run by hand"]
    fn ten_thousand_documents() {
        use std::fmt::Write as _;
        use std::time::{Duration, Instant};

        let n: usize = std::env::var("PAVE_BENCH_N")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);

        fn best_of_3(mut f: impl FnMut() -> usize) -> (Duration, usize) {
            (0..3)
                .map(|_| {
                    let t = Instant::now();
                    let n = f();
                    (t.elapsed(), n)
                })
                .min()
                .unwrap()
        }

        fn measure(what: &str, text: &str, n: usize) {
            let (loaded, _) = best_of_3(|| load(text).len());
            let docs = load(text);
            assert_eq!(docs.len(), n);
            let settings = RuleSettings::default();
            let ctx = Context {
                docs: &docs,
                settings: &settings,
            };
            let (k8s, k8s_found) = best_of_3(|| {
                let mut out = Vec::new();
                for r in rules() {
                    r.check(&ctx, &mut out);
                }
                out.len()
            });
            let (builtin, all_found) = best_of_3(|| {
                let mut out = Vec::new();
                for r in crate::rules::builtin() {
                    r.check(&ctx, &mut out);
                }
                out.len()
            });
            let policy =
                crate::Policy::new(crate::PolicyConfig::default(), crate::Exceptions::default());
            // Policy::check also locates every finding in its file; set PAVE_BENCH_ENGINE to
            // include it (slow on large single files: each position re-reads the file).
            if std::env::var_os("PAVE_BENCH_ENGINE").is_some() {
                let t = Instant::now();
                let reported = policy.check(&docs, Vec::new(), 0).findings.len();
                println!(
                    "{what}: Policy::check, with positions: {:?} ({reported} findings)",
                    t.elapsed()
                );
            }
            let mut slowest: Vec<(Duration, &str)> = rules()
                .iter()
                .map(|r| {
                    let (t, _) = best_of_3(|| {
                        let mut out = Vec::new();
                        r.check(&ctx, &mut out);
                        out.len()
                    });
                    (t, r.meta().id)
                })
                .collect();
            slowest.sort_by(|a, b| b.cmp(a));
            println!(
                "{what}: load {loaded:?}; k8s rules {k8s:?} ({k8s_found} findings); all built-in rules {builtin:?} ({all_found} findings); slowest {:?}",
                &slowest[..3]
            );
        }

        // 10,000 Deployments in 100 namespaces, each with several findings.
        let mut text = String::new();
        for i in 0..n {
            let ns = i % 100;
            write!(
                text,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\n  labels: {{owner: team-{ns}}}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}, team: team-{ns}}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/app-{i}:1.{i}\n        resources:\n          requests: {{cpu: 100m, memory: 128Mi}}\n        readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}\n",
                r = 1 + i % 3,
            )
            .unwrap();
        }
        measure(&format!("{n} Deployments"), &text, n);

        // 2,000 apps in 100 namespaces, five related objects each, nearly clean.
        let mut text = String::new();
        for i in 0..n / 5 {
            let ns = i % 100;
            for doc in GOOD.split("\n---\n").take(5) {
                let doc = doc
                    .replace("name: web", &format!("name: web-{i}"))
                    .replace("app: web", &format!("app: web-{i}"))
                    .replace("namespace: shop", &format!("namespace: ns-{ns}"));
                write!(text, "---\n{}\n", doc.trim()).unwrap();
            }
        }
        measure(&format!("{} apps × 5 related objects", n / 5), &text, n);
    }
}
