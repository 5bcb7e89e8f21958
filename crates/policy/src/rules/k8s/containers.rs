//! Containers: resources, probes, images, read-only root filesystems, host paths, secrets in plain sight.

use super::*;

pub(super) fn resources(doc: &Document, emit: Emit<'_>, section: &str, resource: &str, what: &str) {
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
pub(super) fn runs_to_completion(pod: &PodRef<'_>) -> bool {
    matches!(pod.kind, "Job" | "CronJob")
        || matches!(
            pod.get(&["restartPolicy"]).and_then(Value::as_str),
            Some("Never" | "OnFailure")
        )
}

pub(super) fn probe(doc: &Document, emit: Emit<'_>, field: &str, what: &str) {
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
pub(super) fn image_tag_problem(image: &str) -> Option<&'static str> {
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

pub(super) fn check_image_tag(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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

pub(super) fn check_pull_policy(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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

pub(super) fn check_read_only_root_fs(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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
pub(super) fn host_paths<'a>(
    pod: &PodRef<'a>,
) -> impl Iterator<Item = (usize, &'a str, &'a str)> + 'a {
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

pub(super) fn host_path_path(pod: &PodRef<'_>, i: usize) -> Vec<PathSegment> {
    let mut p = pod.path(&["volumes"]);
    p.extend([
        PathSegment::Index(i),
        PathSegment::Key("hostPath".into()),
        PathSegment::Key("path".into()),
    ]);
    p
}

/// The container runtime's socket, or a directory holding it.
pub(super) fn is_runtime_socket(path: &str) -> bool {
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

pub(super) fn check_docker_socket(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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
pub(super) fn is_sensitive_host_dir(path: &str) -> bool {
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

pub(super) fn check_sensitive_host_mount(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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
pub(super) fn sensitive_name(name: &str) -> bool {
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
pub(super) fn holds_private_key(value: &str) -> bool {
    value.lines().any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.match_indices("-begin").any(|(i, _)| {
            let rest = &lower[i + "-begin".len()..];
            rest.starts_with(char::is_whitespace) && rest.contains("private key-")
        })
    })
}

/// Why a literal `name: value` is a secret in plain sight, if it is one.
pub(super) fn literal_secret(name: &str, value: &str) -> Option<&'static str> {
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

pub(super) fn check_env_secret(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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

pub(super) fn check_configmap_secret(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
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
