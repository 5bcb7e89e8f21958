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

impl Rule for CrossRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
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
    if owned(doc) {
        return None;
    }
    pod_ref(doc)
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
        let Selector::Match { labels, .. } = sel else {
            return;
        };
        // Candidates: the shortest posting list among the selector's pairs (every pair must
        // hold anyway), or every pod in reach.
        let lists = labels
            .iter()
            .map(|(k, v)| self.postings(ns, k, v))
            .min_by_key(|[a, b]| a.len() + b.len())
            .unwrap_or_else(|| self.bucket(ns));
        for &i in lists[0].iter().chain(lists[1]) {
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
    let empty =
        matches!(&sel, Selector::Match { labels, exprs } if labels.is_empty() && exprs.is_empty());
    if empty && doc.value.get("apiVersion").and_then(Value::as_str) == Some("policy/v1beta1") {
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
    let pods = PodIndex::new(ctx);
    let mut covered = vec![false; pods.items.len()];
    for (_, pdb) in objects(ctx, "PodDisruptionBudget") {
        pods.for_each_match(namespace_of(pdb), &pdb_selector(pdb), |w| {
            covered[w] = true;
            ControlFlow::Continue(())
        });
    }
    for (w, item) in pods.items.iter().enumerate() {
        if covered[w]
            || item.owned
            || !matches!(item.kind, "Deployment" | "StatefulSet")
            || !production.matches(item.ns)
            || spec_get(item.doc_ref, &["replicas"]).and_then(Value::as_i64) == Some(0)
        {
            continue;
        }
        out.emit(
            item.doc,
            item.pod.template_path(&["metadata", "labels"]),
            format!(
                "no PodDisruptionBudget selects the pods of {} {}",
                item.kind, item.name
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
    let everything = Selector::Match {
        labels: Vec::new(),
        exprs: Vec::new(),
    };
    for policy in policies {
        let spec = policy.value.get("spec");
        let flags = policy_directions(spec);
        // podSelector is required; the API reads a missing one as empty (every pod).
        let sel = match spec.and_then(|s| s.get("podSelector")) {
            None | Some(Value::Null) => None,
            some => Some(Selector::label_selector(some)),
        };
        pods.for_each_match(
            namespace_of(policy),
            sel.as_ref().unwrap_or(&everything),
            |w| {
                directions[w] |= flags;
                ControlFlow::Continue(())
            },
        );
    }
    for (w, item) in pods.items.iter().enumerate() {
        // NetworkPolicies do not apply to pods on the host network.
        if item.owned || item.pod.get(&["hostNetwork"]) == Some(&Value::Bool(true)) {
            continue;
        }
        let what = match directions[w] {
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
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, svc) in objects(ctx, "Service") {
        if spec_get(svc, &["type"]).and_then(Value::as_str) == Some("ExternalName") {
            continue;
        }
        let Some(sel) = Selector::map(spec_get(svc, &["selector"])) else {
            continue;
        };
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

/// An Ingress backend: (path to the backend, service name, name field, port field, port).
type Backend<'a> = (
    Vec<PathSegment>,
    &'a str,
    &'static str,
    &'static str,
    Option<PortRef<'a>>,
);

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
        return Some((path, name, "service.name", "service.port", p));
    }
    // extensions/v1beta1 and networking.k8s.io/v1beta1
    let name = b.get("serviceName")?.as_str()?;
    Some((
        path,
        name,
        "serviceName",
        "servicePort",
        port(b.get("servicePort")),
    ))
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

fn with_dotted(mut base: Vec<PathSegment>, dotted: &str) -> Vec<PathSegment> {
    base.extend(dotted.split('.').map(|k| PathSegment::Key(k.to_owned())));
    base
}

fn check_ingress_backend(ctx: &Context<'_>, out: &mut Out<'_>) {
    let services = Names::of_kind(ctx, "Service");
    if services.kinds.is_empty() {
        return;
    }
    for (i, ingress) in objects(ctx, "Ingress") {
        let ns = namespace_of(ingress);
        for (path, name, name_field, port_field, port) in backends(ingress) {
            let mut found = services.find(ns, "Service", name).peekable();
            if found.peek().is_none() {
                out.emit(
                    i,
                    with_dotted(path, name_field),
                    format!("backend service {name} is not in the input"),
                );
                continue;
            }
            if let Some(port) = port
                && !found.any(|s| has_port(&ctx.docs[s], &port))
            {
                let shown = match port {
                    PortRef::Number(n) => n.to_string(),
                    PortRef::Name(p) => p.to_owned(),
                };
                out.emit(
                    i,
                    with_dotted(path, port_field),
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
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, pdb) in objects(ctx, "PodDisruptionBudget") {
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
    if required.is_empty() || owned(doc) || super::pods::template_keys(kind_of(doc)).is_none() {
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
