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

mod availability;
mod containers;
mod index;
mod labels;
mod network;
mod rbac;
mod references;
mod service_accounts;
#[cfg(test)]
mod tests;

use availability::*;
use containers::*;
use index::*;
use labels::*;
use network::*;
use rbac::*;
use references::*;
use service_accounts::*;

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
    /// Whether its verdict on an object depends on other objects (a PodDisruptionBudget, an
    /// autoscaler, a ServiceAccount, what a selector matches): the admission webhook, which
    /// sees one object alone, skips such rules rather than guess. The other cross rules only
    /// index the input once per run, and judge a lone object correctly.
    needs_other_objects: bool,
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

    fn cross_document(&self) -> bool {
        self.needs_other_objects
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

/// A rule that indexes the whole input once but judges each object on its own.
fn cross_rule(meta: RuleMeta, check: fn(&Context<'_>, &mut Out<'_>)) -> Box<dyn Rule> {
    Box::new(CrossRule {
        meta,
        check,
        needs_other_objects: false,
    })
}

/// A rule whose verdict on an object depends on other objects in the input.
fn needs_others(meta: RuleMeta, check: fn(&Context<'_>, &mut Out<'_>)) -> Box<dyn Rule> {
    Box::new(CrossRule {
        meta,
        check,
        needs_other_objects: true,
    })
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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
        needs_others(
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

#[cfg(test)]
mod cross_tests {
    /// The rules the webhook skips: exactly those that judge an object by others.
    #[test]
    fn rules_that_need_other_objects_say_so() {
        let mut ids: Vec<&str> = super::rules()
            .iter()
            .filter(|r| r.cross_document())
            .map(|r| r.meta().id)
            .collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            [
                "k8s-automount-token",
                "k8s-default-service-account",
                "k8s-hpa-target",
                "k8s-ingress-backend",
                "k8s-network-policy",
                "k8s-pdb",
                "k8s-pdb-selector",
                "k8s-pdb-zero-disruptions",
                "k8s-replicas",
                "k8s-service-selector",
            ]
        );
    }
}
