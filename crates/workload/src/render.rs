//! Building each environment's Kubernetes objects from a workload and its provisioned
//! resources.

use std::collections::{BTreeMap, BTreeSet};

use pave_yaml::PathSegment;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::env::{Environment, EnvironmentSettings};
use crate::placeholder::{Reference, lookup, substitute};
use crate::provision::{Piece, Provisioned, Provisioners, ResourceContext, split_secrets};
use crate::score::{Container, FileContent, Workload, WorkloadKind, is_port_name, path};
use crate::{Error, Problem};

/// Reads the files a Score workload names with `files.<target>.source` (paths relative to the
/// Score file, as written).
pub trait FileSource {
    fn read(&self, path: &str) -> Result<Vec<u8>, pave_fs::SeamReadError>;
}

/// A [`FileSource`] with no files (every `source` fails).
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, pave_fs::SeamReadError> {
        Err(pave_fs::SeamReadError::Refused(format!(
            "cannot read `{path}`: no files are available"
        )))
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The environments, in output order (duplicates are ignored).
    pub environments: Vec<Environment>,
    /// The image for containers whose Score image is `.` (built from this repository).
    pub image: Option<String>,
    /// The namespace of every environment; by default the environment's name.
    pub namespace: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            environments: Environment::ALL.to_vec(),
            image: None,
            namespace: None,
        }
    }
}

/// One environment's objects.
#[derive(Debug, Clone)]
pub struct RenderedEnvironment {
    pub environment: Environment,
    pub namespace: String,
    /// Every object, without namespace (the overlay sets it), in output order.
    pub objects: Vec<Value>,
}

/// A rendered workload: the objects of each environment, and warnings (missing ownership
/// annotations, say) that do not stop the render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub workload: String,
    pub source: String,
    pub environments: Vec<RenderedEnvironment>,
    pub warnings: Vec<String>,
}

pub(crate) const OWNER_ANNOTATION: &str = "pave.dev/owner";
pub(crate) const COST_CENTER_ANNOTATION: &str = "pave.dev/cost-center";
pub(crate) const SYSTEM_ANNOTATION: &str = "pave.dev/system";
pub(crate) const PRIORITY_CLASS_ANNOTATION: &str = "pave.dev/priority-class";

const DEFAULT_REQUESTS: (&str, &str) = ("100m", "128Mi");
const DEFAULT_LIMITS: (&str, &str) = ("500m", "256Mi");
/// The UID and GID pods run as (the distroless `nonroot` user).
const RUN_AS: u32 = 65532;

/// Renders `workload` for every environment of `options`.
pub fn render(
    workload: &Workload,
    provisioners: &Provisioners,
    files: &dyn FileSource,
    options: &RenderOptions,
) -> Result<Rendered, Error> {
    let mut warnings = Vec::new();
    for (annotation, label) in [
        (OWNER_ANNOTATION, "owner"),
        (COST_CENTER_ANNOTATION, "cost-center"),
    ] {
        if workload.annotation(annotation).is_none_or(str::is_empty) {
            warnings.push(format!(
                "{}: metadata.annotations.{annotation} is not set: the objects get no `{label}` label and fail the k8s-required-labels guardrail",
                workload.file
            ));
        }
    }
    for c in &workload.containers {
        if let Some(v) = c.volumes.first() {
            return Err(workload.error_at(
                &path(&["containers", &c.name, "volumes", v]),
                "volumes are not supported by pave render yet (use files, or a resource whose provisioner mounts storage)".into(),
            ));
        }
    }
    let mut environments = Vec::new();
    let mut seen = BTreeSet::new();
    for &env in &options.environments {
        if !seen.insert(env) {
            continue;
        }
        let namespace = options
            .namespace
            .clone()
            .unwrap_or_else(|| env.as_str().to_owned());
        let objects = render_env(workload, provisioners, files, options, env, &namespace)?;
        environments.push(RenderedEnvironment {
            environment: env,
            namespace,
            objects,
        });
    }
    Ok(Rendered {
        workload: workload.name.clone(),
        source: workload.file.clone(),
        environments,
        warnings,
    })
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The resource's UID as score-go builds it: `type.class#workload.name`, or `type.class#id`.
fn resource_uid(workload: &str, kind: &str, class: &str, name: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{kind}.{class}#{id}"),
        None => format!("{kind}.{class}#{workload}.{name}"),
    }
}

struct Resolver<'a> {
    workload: &'a Workload,
    provisioned: &'a BTreeMap<String, Provisioned>,
    uids: &'a BTreeMap<String, String>,
}

impl Resolver<'_> {
    fn resolve(&self, r: &Reference) -> Result<String, String> {
        match r.parts.first().map(String::as_str) {
            Some("metadata") => lookup(&self.workload.metadata, &r.parts[1..], &r.text),
            Some("resources") => {
                let Some(name) = r.parts.get(1) else {
                    return Err(format!(
                        "invalid ref `{}`: requires at least a resource name to lookup",
                        r.text
                    ));
                };
                if !self.workload.resources.iter().any(|x| &x.name == name) {
                    return Err(format!(
                        "invalid ref `{}`: no resource named `{name}` in `resources`",
                        r.text
                    ));
                }
                let Some(p) = self.provisioned.get(name) else {
                    return Err(format!(
                        "invalid ref `{}`: resource `{name}` is not provisioned yet (resource params may only refer to resources listed before it without a cycle)",
                        r.text
                    ));
                };
                if r.parts.len() == 2 {
                    return Ok(self.uids.get(name).cloned().unwrap_or_default());
                }
                lookup(&Value::Object(p.outputs.clone()), &r.parts[2..], &r.text).map_err(|e| {
                    let known: Vec<&str> = p.outputs.keys().map(String::as_str).collect();
                    format!(
                        "{e} (resource `{name}` has outputs: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )
                })
            }
            _ => Err(format!(
                "invalid ref `{}`: unknown reference root, use $$ to escape the substitution",
                r.text
            )),
        }
    }

    fn substitute(&self, text: &str, at: &[PathSegment]) -> Result<String, Error> {
        substitute(text, |r| self.resolve(r)).map_err(|e| self.workload.error_at(at, e))
    }

    /// Substitutes and refuses secret outputs (they may only reach variables).
    fn plain(&self, text: &str, at: &[PathSegment], what: &str) -> Result<String, Error> {
        let s = self.substitute(text, at)?;
        if split_secrets(&s)
            .iter()
            .any(|p| matches!(p, Piece::Secret { .. }))
        {
            return Err(self.workload.error_at(
                at,
                format!("a secret output cannot be used in {what}: use it in a container variable (it becomes a secretKeyRef)"),
            ));
        }
        Ok(s)
    }

    /// Substitutes placeholders in every string of `value` (resource params).
    fn value(&self, value: &Value, at: &[PathSegment]) -> Result<Value, Error> {
        Ok(match value {
            Value::String(s) => Value::String(self.substitute(s, at)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut p = at.to_vec();
                        p.push(PathSegment::Index(i));
                        self.value(v, &p)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let mut p = at.to_vec();
                    p.push(PathSegment::Key(k.clone()));
                    out.insert(k.clone(), self.value(v, &p)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

/// Names of the resources a value refers to with `${resources.<name>…}`.
fn referenced_resources(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            let _ = substitute(s, |r| {
                if r.parts.first().map(String::as_str) == Some("resources")
                    && let Some(n) = r.parts.get(1)
                {
                    out.insert(n.clone());
                }
                Ok(String::new())
            });
        }
        Value::Array(items) => items.iter().for_each(|v| referenced_resources(v, out)),
        Value::Object(map) => map.values().for_each(|v| referenced_resources(v, out)),
        _ => {}
    }
}

fn labels(workload: &Workload) -> Map<String, Value> {
    let mut l = Map::new();
    l.insert("app.kubernetes.io/name".into(), json!(workload.name));
    l.insert("app.kubernetes.io/instance".into(), json!(workload.name));
    l.insert(
        "app.kubernetes.io/part-of".into(),
        json!(
            workload
                .annotation(SYSTEM_ANNOTATION)
                .filter(|s| !s.is_empty())
                .unwrap_or(&workload.name)
        ),
    );
    l.insert("app.kubernetes.io/managed-by".into(), json!("pave"));
    for (annotation, label) in [
        (OWNER_ANNOTATION, "owner"),
        (COST_CENTER_ANNOTATION, "cost-center"),
    ] {
        if let Some(v) = workload.annotation(annotation).filter(|s| !s.is_empty()) {
            l.insert(label.into(), json!(v));
        }
    }
    l
}

fn selector(workload: &Workload) -> Value {
    json!({
        "app.kubernetes.io/name": workload.name,
        "app.kubernetes.io/instance": workload.name,
    })
}

fn metadata(name: &str, labels: &Map<String, Value>) -> Value {
    json!({"name": name, "labels": labels})
}

fn render_env(
    workload: &Workload,
    provisioners: &Provisioners,
    files: &dyn FileSource,
    options: &RenderOptions,
    env: Environment,
    namespace: &str,
) -> Result<Vec<Value>, Error> {
    let settings = env.settings();
    let labels = labels(workload);
    let provisioned = provision_resources(workload, provisioners, &labels, env, namespace)?;
    let resolver = Resolver {
        workload,
        provisioned: &provisioned.by_name,
        uids: &provisioned.uids,
    };
    let multi = workload.kind == WorkloadKind::Deployment && settings.multi_replica();
    let pod = pod_template(workload, &resolver, files, options, &labels, multi)?;
    let template = |restart: Option<&str>| {
        let mut spec = pod.spec.clone();
        if let Some(r) = restart {
            spec.insert("restartPolicy".into(), json!(r));
        }
        json!({"metadata": pod.metadata, "spec": spec})
    };

    // 3. The objects.
    let mut objects = Vec::new();
    objects.push(json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(&workload.name, &labels),
        "automountServiceAccountToken": false,
    }));
    objects.extend(pod.config_maps);
    if !workload.service_ports.is_empty() {
        let ports: Vec<Value> = workload
            .service_ports
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "port": p.port,
                    "targetPort": p.target_port,
                    "protocol": p.protocol,
                })
            })
            .collect();
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(&workload.name, &labels),
            "spec": {"type": "ClusterIP", "selector": selector(workload), "ports": ports},
        }));
    }
    if let Some(m) = &workload.metrics {
        // Prometheus Operator: scrape every pod on the named port; `job` is the workload's
        // name (its app.kubernetes.io/name label), which the SLO queries select on.
        objects.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": metadata(&workload.name, &labels),
            "spec": {
                "jobLabel": "app.kubernetes.io/name",
                "selector": {"matchLabels": selector(workload)},
                "podMetricsEndpoints": [{"port": m.port, "path": m.path, "interval": "30s"}],
            },
        }));
    }
    objects.extend(controller_objects(
        workload, &settings, multi, &template, &labels,
    ));
    objects.extend(network_policies(workload, &labels, &provisioned.egress));
    objects.extend(provisioned.manifests);
    Ok(objects)
}

/// What provisioning a workload's resources produced.
struct ProvisionedResources {
    /// By resource name (resources sharing a uid share one entry's outputs).
    by_name: BTreeMap<String, Provisioned>,
    uids: BTreeMap<String, String>,
    /// The provisioners' own manifests, labelled, without namespaces.
    manifests: Vec<Value>,
    /// Ports the workload must reach.
    egress: BTreeSet<(u16, String)>,
}

/// Provisions the resources, each after the resources its params refer to.
fn provision_resources(
    workload: &Workload,
    provisioners: &Provisioners,
    labels: &Map<String, Value>,
    env: Environment,
    namespace: &str,
) -> Result<ProvisionedResources, Error> {
    let mut provisioned: BTreeMap<String, Provisioned> = BTreeMap::new();
    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    let mut by_uid: BTreeMap<String, String> = BTreeMap::new();
    let mut manifests: Vec<Value> = Vec::new();
    let mut egress: BTreeSet<(u16, String)> = BTreeSet::new();
    let mut pending: Vec<usize> = (0..workload.resources.len()).collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still = Vec::new();
        for i in pending {
            let r = &workload.resources[i];
            let mut refs = BTreeSet::new();
            referenced_resources(&r.params, &mut refs);
            if refs.iter().any(|n| {
                n != &r.name
                    && !provisioned.contains_key(n)
                    && workload.resources.iter().any(|x| &x.name == n)
            }) {
                still.push(i);
                continue;
            }
            let class = r.class.as_deref().unwrap_or("default");
            let uid = resource_uid(&workload.name, &r.kind, class, &r.name, r.id.as_deref());
            uids.insert(r.name.clone(), uid.clone());
            if let Some(first) = by_uid.get(&uid)
                && let Some(p) = provisioned.get(first).cloned()
            {
                provisioned.insert(r.name.clone(), p);
                continue;
            }
            let at = path(&["resources", &r.name]);
            let resolver = Resolver {
                workload,
                provisioned: &provisioned,
                uids: &uids,
            };
            let mut params_at = at.clone();
            params_at.push(PathSegment::Key("params".into()));
            let params = resolver.value(&r.params, &params_at)?;
            let Some(p) = provisioners.find(&r.kind, class, r.id.as_deref()) else {
                let mut type_at = at.clone();
                type_at.push(PathSegment::Key("type".into()));
                let message = if provisioners.knows_type(&r.kind) {
                    format!(
                        "resource `{}`: no provisioner for type `{}` with class `{class}`{}",
                        r.name,
                        r.kind,
                        r.id.as_deref()
                            .map(|i| format!(" and id `{i}`"))
                            .unwrap_or_default()
                    )
                } else {
                    let known: BTreeSet<&str> =
                        provisioners.all().map(|p| p.kind.as_str()).collect();
                    format!(
                        "resource `{}`: unknown resource type `{}` (no provisioner serves it; known types: {})",
                        r.name,
                        r.kind,
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(workload.error_at(&type_at, message));
            };
            let slug = match &r.id {
                Some(id) => id.replace('.', "-"),
                None => format!("{}-{}", workload.name, r.name),
            };
            let done = p.provision(&ResourceContext {
                name: &r.name,
                kind: &r.kind,
                class,
                id: r.id.as_deref(),
                uid: &uid,
                slug: &slug,
                params: &params,
                annotations: &r.annotations,
                workload: &workload.name,
                namespace,
                env: env.as_str(),
            })?;
            for m in &done.manifests {
                let mut m = m.clone();
                add_labels(&mut m, labels);
                if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("namespace");
                }
                manifests.push(m);
            }
            egress.extend(done.egress.iter().cloned());
            by_uid.insert(uid, r.name.clone());
            provisioned.insert(r.name.clone(), done);
        }
        if still.len() == before {
            let names: Vec<&str> = still
                .iter()
                .map(|i| workload.resources[*i].name.as_str())
                .collect();
            let first = &workload.resources[still[0]];
            return Err(workload.error_at(
                &path(&["resources", &first.name, "params"]),
                format!(
                    "resources {} refer to each other in their params (a cycle)",
                    names.join(", ")
                ),
            ));
        }
        pending = still;
    }
    Ok(ProvisionedResources {
        by_name: provisioned,
        uids,
        manifests,
        egress,
    })
}

/// The pod every controller runs, and the ConfigMaps its files need.
struct PodTemplate {
    metadata: Map<String, Value>,
    spec: Map<String, Value>,
    config_maps: Vec<Value>,
}

/// Containers, their file ConfigMaps and volumes, and the pod's security and placement.
fn pod_template(
    workload: &Workload,
    resolver: &Resolver<'_>,
    files: &dyn FileSource,
    options: &RenderOptions,
    labels: &Map<String, Value>,
    multi: bool,
) -> Result<PodTemplate, Error> {
    let mut config_maps = Vec::new();
    let mut pod_volumes = vec![json!({"name": "tmp", "emptyDir": {}})];
    let mut containers = Vec::new();
    for (ci, c) in workload.containers.iter().enumerate() {
        let (container, maps, volumes) =
            container(workload, resolver, files, options, c, ci == 0, labels)?;
        containers.push(container);
        config_maps.extend(maps);
        pod_volumes.extend(volumes);
    }

    let mut pod_spec = Map::new();
    pod_spec.insert("serviceAccountName".into(), json!(workload.name));
    pod_spec.insert("automountServiceAccountToken".into(), json!(false));
    pod_spec.insert(
        "securityContext".into(),
        json!({
            "runAsNonRoot": true,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        }),
    );
    if let Some(p) = workload
        .annotation(PRIORITY_CLASS_ANNOTATION)
        .filter(|s| !s.is_empty())
    {
        pod_spec.insert("priorityClassName".into(), json!(p));
    }
    pod_spec.insert("containers".into(), Value::Array(containers));
    pod_spec.insert("volumes".into(), Value::Array(pod_volumes));
    if multi {
        let spread = |key: &str| {
            json!({
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(workload)},
            })
        };
        pod_spec.insert(
            "topologySpreadConstraints".into(),
            json!([
                spread("kubernetes.io/hostname"),
                spread("topology.kubernetes.io/zone")
            ]),
        );
    }
    let pod_annotations: Map<String, Value> = workload
        .annotations
        .iter()
        // pave's own annotations become labels and fields, not pod annotations.
        .filter(|(k, _)| !k.starts_with("pave.dev/"))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut pod_meta = Map::new();
    pod_meta.insert("labels".into(), Value::Object(labels.clone()));
    if !pod_annotations.is_empty() {
        pod_meta.insert("annotations".into(), Value::Object(pod_annotations));
    }
    Ok(PodTemplate {
        metadata: pod_meta,
        spec: pod_spec,
        config_maps,
    })
}

/// The Deployment (with its autoscaler and disruption budget when it runs several replicas),
/// Job or CronJob.
fn controller_objects(
    workload: &Workload,
    settings: &EnvironmentSettings,
    multi: bool,
    template: &dyn Fn(Option<&str>) -> Value,
    labels: &Map<String, Value>,
) -> Vec<Value> {
    let mut objects = Vec::new();
    match workload.kind {
        WorkloadKind::Deployment => {
            let mut spec = Map::new();
            if !multi {
                spec.insert("replicas".into(), json!(settings.replicas));
            }
            spec.insert("revisionHistoryLimit".into(), json!(5));
            spec.insert(
                "selector".into(),
                json!({"matchLabels": selector(workload)}),
            );
            spec.insert(
                "strategy".into(),
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}),
            );
            spec.insert("template".into(), template(None));
            objects.push(json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": metadata(&workload.name, labels),
                "spec": spec,
            }));
            if multi {
                objects.push(json!({
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": metadata(&workload.name, labels),
                    "spec": {
                        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name},
                        "minReplicas": settings.replicas,
                        "maxReplicas": settings.max_replicas.max(settings.replicas + 1),
                        "metrics": [{
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": settings.cpu_utilization}},
                        }],
                    },
                }));
                objects.push(json!({
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": metadata(&workload.name, labels),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(workload)}},
                }));
            }
        }
        WorkloadKind::Job | WorkloadKind::CronJob => {
            let mut job_spec = json!({
                "backoffLimit": 2,
                "ttlSecondsAfterFinished": 86400,
                "template": template(Some("Never")),
            });
            if let Some(seconds) = workload.run.active_deadline_seconds {
                // Counted over all retries: a stuck run is stopped, and a CronJob that forbids
                // concurrent runs is free for its next schedule.
                job_spec["activeDeadlineSeconds"] = json!(seconds);
            }
            if workload.kind == WorkloadKind::CronJob {
                let mut spec = Map::new();
                spec.insert(
                    "schedule".into(),
                    json!(workload.schedule.clone().unwrap_or_default()),
                );
                if let Some(tz) = &workload.run.time_zone {
                    spec.insert("timeZone".into(), json!(tz));
                }
                spec.insert(
                    "concurrencyPolicy".into(),
                    json!(
                        workload
                            .run
                            .concurrency_policy
                            .as_deref()
                            .unwrap_or("Forbid")
                    ),
                );
                spec.insert("successfulJobsHistoryLimit".into(), json!(3));
                spec.insert("failedJobsHistoryLimit".into(), json!(3));
                spec.insert(
                    "jobTemplate".into(),
                    json!({"metadata": {"labels": labels}, "spec": job_spec}),
                );
                objects.push(json!({
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "metadata": metadata(&workload.name, labels),
                    "spec": spec,
                }));
            } else {
                objects.push(json!({
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": metadata(&workload.name, labels),
                    "spec": job_spec,
                }));
            }
        }
    }

    objects
}

/// Network policies: deny everything, then allow what the workload needs.
fn network_policies(
    workload: &Workload,
    labels: &Map<String, Value>,
    egress: &BTreeSet<(u16, String)>,
) -> [Value; 2] {
    let pod_selector = json!({"matchLabels": selector(workload)});
    let deny = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(&format!("{}-default-deny", workload.name), labels),
        "spec": {"podSelector": pod_selector, "policyTypes": ["Ingress", "Egress"]},
    });
    let mut allow = Map::new();
    allow.insert("podSelector".into(), pod_selector.clone());
    allow.insert("policyTypes".into(), json!(["Ingress", "Egress"]));
    if !workload.service_ports.is_empty() {
        let ports: Vec<Value> = target_ports(workload)
            .iter()
            .map(|(p, proto)| json!({"port": p, "protocol": proto}))
            .collect();
        allow.insert("ingress".into(), json!([{"ports": ports}]));
    }
    let mut egress_rules = vec![json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    })];
    if !egress.is_empty() {
        let ports: Vec<Value> = egress
            .iter()
            .map(|(p, proto)| json!({"port": p, "protocol": proto}))
            .collect();
        egress_rules.push(json!({"ports": ports}));
    }
    allow.insert("egress".into(), Value::Array(egress_rules));
    let allow_policy = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(&format!("{}-allow", workload.name), labels),
        "spec": allow,
    });
    [deny, allow_policy]
}

/// The distinct (target port, protocol) pairs of the service ports.
fn target_ports(workload: &Workload) -> Vec<(u16, String)> {
    let mut ports: Vec<(u16, String)> = workload
        .service_ports
        .iter()
        .map(|p| (p.target_port, p.protocol.clone()))
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

fn add_labels(object: &mut Value, labels: &Map<String, Value>) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let existing = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(existing) = existing.as_object_mut() {
        for (k, v) in labels {
            existing.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

fn container(
    workload: &Workload,
    resolver: &Resolver<'_>,
    files: &dyn FileSource,
    options: &RenderOptions,
    c: &Container,
    first: bool,
    labels: &Map<String, Value>,
) -> Result<(Value, Vec<Value>, Vec<Value>), Error> {
    let at = |parts: &[&str]| {
        let mut p = path(&["containers", &c.name]);
        p.extend(parts.iter().map(|s| PathSegment::Key((*s).to_owned())));
        p
    };
    let image = if c.image == "." {
        options.image.clone().ok_or_else(|| {
            workload.error_at(
                &at(&["image"]),
                format!(
                    "container `{}` has image `.` (built from this repository): pass the built image with --image",
                    c.name
                ),
            )
        })?
    } else {
        resolver.plain(&c.image, &at(&["image"]), "an image")?
    };
    let mut out = Map::new();
    out.insert("name".into(), json!(c.name));
    out.insert("image".into(), json!(image));
    out.insert("imagePullPolicy".into(), json!("Always"));
    for (key, list) in [("command", &c.command), ("args", &c.args)] {
        if let Some(list) = list {
            let mut items = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let mut p = at(&[key]);
                p.push(PathSegment::Index(i));
                items.push(json!(resolver.plain(s, &p, key)?));
            }
            out.insert(key.into(), Value::Array(items));
        }
    }

    // Variables; secret outputs become secretKeyRefs.
    let mut helpers: BTreeMap<String, Value> = BTreeMap::new();
    let mut env = Vec::new();
    for (name, value) in &c.variables {
        let resolved = resolver.substitute(value, &at(&["variables", name]))?;
        let pieces = split_secrets(&resolved);
        let secret_ref =
            |secret: &str, key: &str| json!({"secretKeyRef": {"name": secret, "key": key}});
        match pieces.as_slice() {
            [Piece::Secret { name: s, key }] => {
                env.push(json!({"name": name, "valueFrom": secret_ref(s, key)}));
            }
            _ if pieces.iter().all(|p| matches!(p, Piece::Text(_))) => {
                env.push(json!({"name": name, "value": resolved}));
            }
            _ => {
                let mut text = String::new();
                for p in &pieces {
                    match p {
                        Piece::Text(t) => text.push_str(t),
                        Piece::Secret { name: s, key } => {
                            let var = format!(
                                "PAVE_SECRET_{}",
                                short_hash(&[s, key]).to_ascii_uppercase()
                            );
                            text.push_str(&format!("$({var})"));
                            helpers.insert(
                                var.clone(),
                                json!({"name": var, "valueFrom": secret_ref(s, key)}),
                            );
                        }
                    }
                }
                env.push(json!({"name": name, "value": text}));
            }
        }
    }
    // `$(VAR)` only expands variables defined earlier: the secret helpers come first.
    let mut all_env: Vec<Value> = helpers.into_values().collect();
    all_env.extend(env);
    if !all_env.is_empty() {
        out.insert("env".into(), Value::Array(all_env));
    }

    if first && !workload.service_ports.is_empty() {
        out.insert(
            "ports".into(),
            Value::Array(
                target_ports(workload)
                    .iter()
                    .map(|(p, proto)| {
                        let mut port = json!({"containerPort": p, "protocol": proto});
                        // Named after the first service port that targets it, when the name
                        // is a valid port name (a PodMonitor selects the port by name).
                        if let Some(name) = workload
                            .service_ports
                            .iter()
                            .find(|s| s.target_port == *p && &s.protocol == proto)
                            .map(|s| s.name.as_str())
                            .filter(|n| is_port_name(n))
                        {
                            port["name"] = json!(name);
                        }
                        port
                    })
                    .collect(),
            ),
        );
    }

    let pick = |score: &Option<String>, other: &Option<String>, default: &str| {
        score
            .clone()
            .or_else(|| other.clone())
            .unwrap_or_else(|| default.to_owned())
    };
    out.insert(
        "resources".into(),
        json!({
            "requests": {
                "cpu": pick(&c.requests.0, &c.limits.0, DEFAULT_REQUESTS.0),
                "memory": pick(&c.requests.1, &c.limits.1, DEFAULT_REQUESTS.1),
            },
            "limits": {
                "cpu": pick(&c.limits.0, &c.requests.0, DEFAULT_LIMITS.0),
                "memory": pick(&c.limits.1, &c.requests.1, DEFAULT_LIMITS.1),
            },
        }),
    );

    let long_running = workload.kind == WorkloadKind::Deployment;
    for (score_key, key, probe) in [
        ("livenessProbe", "livenessProbe", &c.liveness),
        ("readinessProbe", "readinessProbe", &c.readiness),
    ] {
        if let Some(p) = probe {
            out.insert(key.into(), convert_probe(workload, p, &at(&[score_key]))?);
        } else if long_running
            && first
            && let Some(port) = workload.service_ports.first()
            && port.protocol == "TCP"
        {
            out.insert(
                key.into(),
                json!({"tcpSocket": {"port": port.target_port}, "periodSeconds": 10}),
            );
        }
    }

    out.insert(
        "securityContext".into(),
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
        }),
    );

    // Files: one ConfigMap each, mounted read-only at the target path.
    let mut mounts = vec![json!({"name": "tmp", "mountPath": "/tmp"})];
    let mut maps = Vec::new();
    let mut volumes = Vec::new();
    for (fi, f) in c.files.iter().enumerate() {
        let mut data = Map::new();
        let mut binary = Map::new();
        match &f.content {
            FileContent::Text(t) => {
                let t = if f.no_expand {
                    t.clone()
                } else {
                    resolver.plain(t, &f.path, "files")?
                };
                data.insert("content".into(), json!(t));
            }
            FileContent::Binary(b) => {
                binary.insert("content".into(), json!(b));
            }
            FileContent::Source(src) => {
                let bytes = files
                    .read(src)
                    .map_err(|e| workload.error_at(&f.path, format!("file `{}`: {e}", f.target)))?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    workload.error_at(
                        &f.path,
                        format!(
                            "file `{}`: source `{src}` is not UTF-8 text (use binaryContent)",
                            f.target
                        ),
                    )
                })?;
                let t = if f.no_expand {
                    text
                } else {
                    resolver.plain(&text, &f.path, "files")?
                };
                data.insert("content".into(), json!(t));
            }
        }
        let hash = short_hash(&[
            &f.target,
            &serde_json::to_string(&data).unwrap_or_default(),
            &serde_json::to_string(&binary).unwrap_or_default(),
        ]);
        let name = format!("{}-{}-file-{hash}", workload.name, c.name);
        let mut cm = Map::new();
        cm.insert("apiVersion".into(), json!("v1"));
        cm.insert("kind".into(), json!("ConfigMap"));
        cm.insert("metadata".into(), metadata(&name, labels));
        if !data.is_empty() {
            cm.insert("data".into(), Value::Object(data));
        }
        if !binary.is_empty() {
            cm.insert("binaryData".into(), Value::Object(binary));
        }
        maps.push(Value::Object(cm));
        let volume = format!("{}-file-{fi}", c.name);
        let mut item = json!({"key": "content", "path": "content"});
        if let Some(mode) = f.mode {
            item["mode"] = json!(mode);
        }
        volumes.push(json!({"name": volume, "configMap": {"name": name, "items": [item]}}));
        mounts.push(
            json!({"name": volume, "mountPath": f.target, "subPath": "content", "readOnly": true}),
        );
    }
    out.insert("volumeMounts".into(), Value::Array(mounts));
    Ok((Value::Object(out), maps, volumes))
}

fn convert_probe(workload: &Workload, probe: &Value, at: &[PathSegment]) -> Result<Value, Error> {
    let mut out = Map::new();
    if let Some(h) = probe.get("httpGet") {
        if h.get("host").is_some() {
            let mut p = at.to_vec();
            p.extend([
                PathSegment::Key("httpGet".into()),
                PathSegment::Key("host".into()),
            ]);
            return Err(Error::Invalid {
                file: workload.file.clone(),
                problems: vec![Problem {
                    position: workload.position(&p),
                    message: "a probe `host` makes the kubelet connect to another address; the restricted Pod Security Standard forbids it (remove it)".into(),
                }],
            });
        }
        let mut get = Map::new();
        for key in ["path", "port", "scheme", "httpHeaders"] {
            if let Some(v) = h.get(key) {
                get.insert(key.into(), v.clone());
            }
        }
        out.insert("httpGet".into(), Value::Object(get));
    } else if let Some(e) = probe.get("exec") {
        out.insert(
            "exec".into(),
            json!({"command": e.get("command").cloned().unwrap_or(json!([]))}),
        );
    }
    out.insert("periodSeconds".into(), json!(10));
    Ok(Value::Object(out))
}
