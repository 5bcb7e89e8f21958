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
        let what = match self.field {
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            _ => "container",
        };
        format!("{what} {}", self.name())
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

/// The pod spec of a workload document, if it has one.
pub(crate) fn pod_of(doc: &Document) -> Option<PodView<'_>> {
    let kind = doc.value.get("kind")?.as_str()?;
    let keys: &[&str] = match kind {
        "Pod" => &[],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => return None,
    };
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
