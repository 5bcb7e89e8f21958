//! Pod specs inside workloads, and their containers, with the paths to them.

use pave_yaml::PathSegment;
use serde_json::Value;

use crate::doc::Document;

/// A pod spec and the metadata beside it (annotations live there).
pub(crate) struct PodView<'a> {
    pub(crate) spec: &'a Value,
    pub(crate) spec_path: Vec<PathSegment>,
    pub(crate) metadata: Option<&'a Value>,
    pub(crate) metadata_path: Vec<PathSegment>,
}

impl PodView<'_> {
    /// `spec_path` + `rest`.
    pub(crate) fn at(&self, rest: &[&str]) -> Vec<PathSegment> {
        let mut p = self.spec_path.clone();
        p.extend(rest.iter().map(|s| PathSegment::Key((*s).to_owned())));
        p
    }

    /// A value inside the pod spec.
    pub(crate) fn get(&self, rest: &[&str]) -> Option<&Value> {
        rest.iter().try_fold(self.spec, |v, k| v.get(k))
    }

    /// Windows pods are exempt from some restricted controls.
    pub(crate) fn is_windows(&self) -> bool {
        self.get(&["os", "name"]).and_then(Value::as_str) == Some("windows")
    }

    /// `spec.hostUsers: false` (user namespaces) relaxes some controls from Kubernetes 1.35.
    pub(crate) fn user_namespaced(&self) -> bool {
        self.get(&["hostUsers"]) == Some(&Value::Bool(false))
    }

    /// Every container, init container and ephemeral container.
    pub(crate) fn containers(&self) -> Vec<ContainerView<'_>> {
        let mut out = Vec::new();
        for field in ["containers", "initContainers", "ephemeralContainers"] {
            if let Some(Value::Array(items)) = self.spec.get(field) {
                for (i, c) in items.iter().enumerate() {
                    let mut path = self.spec_path.clone();
                    path.push(PathSegment::Key(field.into()));
                    path.push(PathSegment::Index(i));
                    out.push(ContainerView {
                        value: c,
                        path,
                        field,
                    });
                }
            }
        }
        out
    }
}

/// One container and where it is.
pub(crate) struct ContainerView<'a> {
    pub(crate) value: &'a Value,
    pub(crate) path: Vec<PathSegment>,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub(crate) field: &'static str,
}

impl ContainerView<'_> {
    pub(crate) fn name(&self) -> &str {
        self.value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    }

    /// "container web", "init container migrate".
    pub(crate) fn label(&self) -> String {
        container_label(self.field, self.name())
    }

    pub(crate) fn get(&self, rest: &[&str]) -> Option<&Value> {
        rest.iter().try_fold(self.value, |v, k| v.get(k))
    }

    pub(crate) fn at(&self, rest: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path.clone();
        p.extend(rest.iter().map(|s| PathSegment::Key((*s).to_owned())));
        p
    }
}

/// The keys from a pod-bearing object to its pod template (none for a Pod itself).
pub(crate) fn template_keys(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// The pod spec of a workload document, if it has one.
pub(crate) fn pod_of(doc: &Document) -> Option<PodView<'_>> {
    let kind = doc.value.get("kind")?.as_str()?;
    let keys = template_keys(kind)?;
    let template = keys.iter().try_fold(&doc.value, |v, k| v.get(k))?;
    let spec = template.get("spec")?;
    if !spec.is_object() {
        return None;
    }
    let base: Vec<PathSegment> = keys
        .iter()
        .map(|k| PathSegment::Key((*k).to_owned()))
        .collect();
    let mut spec_path = base.clone();
    spec_path.push(PathSegment::Key("spec".into()));
    let mut metadata_path = base;
    metadata_path.push(PathSegment::Key("metadata".into()));
    Some(PodView {
        spec,
        spec_path,
        metadata: template.get("metadata"),
        metadata_path,
    })
}

fn container_label(field: &str, name: &str) -> String {
    let what = match field {
        "initContainers" => "init container",
        "ephemeralContainers" => "ephemeral container",
        _ => "container",
    };
    format!("{what} {name}")
}

fn keys_path(keys: &[&str], rest: &[&str]) -> Vec<PathSegment> {
    keys.iter()
        .chain(rest)
        .map(|k| PathSegment::Key((*k).to_owned()))
        .collect()
}

/// A pod template found without allocating: paths are built only when there is a finding,
/// which matters when every rule walks every document.
#[derive(Clone, Copy)]
pub(crate) struct PodRef<'a> {
    pub(crate) kind: &'a str,
    /// From the document to the template (see [`template_keys`]).
    pub(crate) keys: &'static [&'static str],
    /// The template (for a Pod, the Pod itself): holds `metadata` and `spec`.
    pub(crate) template: &'a Value,
    pub(crate) spec: &'a Value,
}

/// The pod template of a pod-bearing document.
pub(crate) fn pod_ref(doc: &Document) -> Option<PodRef<'_>> {
    let kind = doc.value.get("kind")?.as_str()?;
    let keys = template_keys(kind)?;
    let template = keys.iter().try_fold(&doc.value, |v, k| v.get(k))?;
    let spec = template.get("spec").filter(|s| s.is_object())?;
    Some(PodRef {
        kind,
        keys,
        template,
        spec,
    })
}

impl<'a> PodRef<'a> {
    /// A value inside the pod spec.
    pub(crate) fn get(&self, rest: &[&str]) -> Option<&'a Value> {
        rest.iter().try_fold(self.spec, |v, k| v.get(k))
    }

    /// The pod template's labels.
    pub(crate) fn labels(&self) -> Option<&'a serde_json::Map<String, Value>> {
        self.template.get("metadata")?.get("labels")?.as_object()
    }

    /// Path to `spec` + `rest` inside the pod template.
    pub(crate) fn path(&self, rest: &[&str]) -> Vec<PathSegment> {
        let mut p = keys_path(self.keys, &["spec"]);
        p.extend(rest.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }

    /// Path to `rest` inside the pod template (e.g. `["metadata", "labels"]`).
    pub(crate) fn template_path(&self, rest: &[&str]) -> Vec<PathSegment> {
        keys_path(self.keys, rest)
    }

    pub(crate) fn is_windows(&self) -> bool {
        self.get(&["os", "name"]).and_then(Value::as_str) == Some("windows")
    }

    /// The regular containers, then (with `init`) the init containers. Never ephemeral
    /// containers: they are debugging sessions added to running pods, not part of the spec
    /// a team ships.
    pub(crate) fn containers(&self, init: bool) -> impl Iterator<Item = ContainerRef<'a>> + 'a {
        let fields: &'static [&'static str] = if init {
            &["containers", "initContainers"]
        } else {
            &["containers"]
        };
        let spec = self.spec;
        fields.iter().flat_map(move |field| {
            spec.get(*field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(index, value)| ContainerRef {
                    field,
                    index,
                    value,
                })
        })
    }
}

/// One container of a [`PodRef`].
#[derive(Clone, Copy)]
pub(crate) struct ContainerRef<'a> {
    /// `containers` or `initContainers`.
    pub(crate) field: &'static str,
    pub(crate) index: usize,
    pub(crate) value: &'a Value,
}

impl<'a> ContainerRef<'a> {
    pub(crate) fn name(&self) -> &'a str {
        self.value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    }

    /// "container web", "init container migrate".
    pub(crate) fn label(&self) -> String {
        container_label(self.field, self.name())
    }

    pub(crate) fn get(&self, rest: &[&str]) -> Option<&'a Value> {
        rest.iter().try_fold(self.value, |v, k| v.get(k))
    }

    /// Path to `rest` inside this container.
    pub(crate) fn path(&self, pod: &PodRef<'_>, rest: &[&str]) -> Vec<PathSegment> {
        let mut p = pod.path(&[self.field]);
        p.push(PathSegment::Index(self.index));
        p.extend(rest.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }
}
