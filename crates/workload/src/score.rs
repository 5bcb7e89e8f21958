//! Reading and validating a Score v1b1 workload (the checks of `score-v1b1.json`, in Rust).

use std::sync::LazyLock;

use pave_yaml::{Document, Limits, PathSegment, Position};
use regex::Regex;
use serde_json::{Map, Value};

use crate::{Error, Problem};

static RFC1123_LABEL: LazyLock<Regex> = LazyLock::new(|| re("^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$"));
static ANNOTATION_KEY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(([a-z0-9][a-z0-9-]{0,61}[a-z0-9])(\.[a-z0-9][a-z0-9-]{0,61}[a-z0-9])*/)?[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$",
    )
});
static RESOURCE_TYPE: LazyLock<Regex> =
    LazyLock::new(|| re("^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$"));
static RESOURCE_ID: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$"));
static MEMORY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(0\.\d+|[1-9]\d*(\.\d+)?)(K|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"));
static CPU: LazyLock<Regex> = LazyLock::new(|| re(r"^\d+(?:m|\.\d+)?$"));
static FILE_MODE: LazyLock<Regex> = LazyLock::new(|| re("^0?[0-7]{3}$"));
static HEADER_NAME: LazyLock<Regex> = LazyLock::new(|| re("^[A-Za-z0-9_-]+$"));
/// An IANA time zone name (`Etc/UTC`, `America/Argentina/Buenos_Aires`, `UTC`).
static TIME_ZONE: LazyLock<Regex> =
    LazyLock::new(|| re("^[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9_+-]{1,30}){0,3}$"));

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file; a typo is caught by the unit tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in pattern {pattern}: {e}"))
}

/// What the workload runs as (annotation `pave.dev/workload-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    CronJob,
    Job,
}

/// A parsed, valid Score workload. Maps keep the order of the file.
#[derive(Debug, Clone)]
pub struct Workload {
    pub file: String,
    pub name: String,
    /// The whole `metadata` mapping (for `${metadata.*}`).
    pub metadata: Value,
    pub annotations: Vec<(String, String)>,
    pub kind: WorkloadKind,
    pub schedule: Option<String>,
    /// How Prometheus scrapes it (annotations `pave.dev/metrics-port`, `pave.dev/metrics-path`).
    pub metrics: Option<Metrics>,
    /// Time limit, time zone and concurrency of Jobs and CronJobs.
    pub run: RunSettings,
    pub service_ports: Vec<ServicePort>,
    pub containers: Vec<Container>,
    pub resources: Vec<Resource>,
    doc: Document,
}

/// Where the workload serves Prometheus metrics: a named service port and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// The service port's name (also the container port's name).
    pub port: String,
    pub path: String,
}

/// Settings of a Job or CronJob run, from `pave.dev/` annotations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSettings {
    /// `pave.dev/active-deadline-seconds`: a run is stopped after this long.
    pub active_deadline_seconds: Option<u64>,
    /// `pave.dev/time-zone`: the CronJob schedule's time zone (IANA name).
    pub time_zone: Option<String>,
    /// `pave.dev/concurrency-policy`: `Forbid` (default), `Allow` or `Replace`.
    pub concurrency_policy: Option<String>,
}

/// Whether `name` can name a container port (an IANA service name: at most 15 characters,
/// lowercase letters, digits and single inner dashes, at least one letter).
pub fn is_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
    pub target_port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub variables: Vec<(String, String)>,
    pub files: Vec<ContainerFile>,
    /// Mount path of each volume (rendering volumes is not supported yet).
    pub volumes: Vec<String>,
    pub requests: (Option<String>, Option<String>),
    pub limits: (Option<String>, Option<String>),
    pub liveness: Option<Value>,
    pub readiness: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct ContainerFile {
    pub target: String,
    pub mode: Option<u32>,
    pub content: FileContent,
    pub no_expand: bool,
    /// JSON path of the file's entry in the Score document.
    pub path: Vec<PathSegment>,
}

#[derive(Debug, Clone)]
pub enum FileContent {
    Text(String),
    Binary(String),
    Source(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub kind: String,
    pub class: Option<String>,
    pub id: Option<String>,
    pub params: Value,
    pub annotations: Map<String, Value>,
}

impl Workload {
    /// Parses and validates the Score workload in `text` (`file` names it in errors).
    pub fn parse(file: &str, text: &str) -> Result<Workload, Error> {
        let invalid = |position: Option<Position>, message: String| Error::Invalid {
            file: file.to_owned(),
            problems: vec![Problem { position, message }],
        };
        let mut docs = pave_yaml::parse_documents(text, &Limits::default())
            .map_err(|e| invalid(Some(e.position()), e.to_string()))?;
        docs.retain(|d| !d.value.is_null());
        if docs.len() != 1 {
            return Err(invalid(
                docs.get(1).map(|d| d.start),
                format!("expected one Score workload document, found {}", docs.len()),
            ));
        }
        let doc = docs.remove(0);
        let mut v = Validator::default();
        v.root(&doc.value);
        if !v.problems.is_empty() {
            let problems = v
                .problems
                .into_iter()
                .map(|(path, message)| Problem {
                    position: doc.spans.locate(&doc.value, 0, &path),
                    message,
                })
                .collect();
            return Err(Error::Invalid {
                file: file.to_owned(),
                problems,
            });
        }
        build(file, doc)
    }

    /// Where the node at `path` starts in the Score file.
    pub fn position(&self, path: &[PathSegment]) -> Option<Position> {
        self.doc.spans.locate(&self.doc.value, 0, path)
    }

    /// The error for a problem at `path` of the Score file.
    pub(crate) fn error_at(&self, path: &[PathSegment], message: String) -> Error {
        Error::Invalid {
            file: self.file.clone(),
            problems: vec![Problem {
                position: self.position(path),
                message,
            }],
        }
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn path(parts: &[&str]) -> Vec<PathSegment> {
    parts
        .iter()
        .map(|p| PathSegment::Key((*p).to_owned()))
        .collect()
}

#[derive(Default)]
struct Validator {
    problems: Vec<(Vec<PathSegment>, String)>,
    at: Vec<PathSegment>,
}

impl Validator {
    fn problem(&mut self, extra: &[&str], message: String) {
        let mut p = self.at.clone();
        p.extend(extra.iter().map(|s| PathSegment::Key((*s).to_owned())));
        let field = p
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".");
        let message = if field.is_empty() {
            message
        } else {
            format!("{field}: {message}")
        };
        self.problems.push((p, message));
    }

    fn enter<R>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.at.push(PathSegment::Key(key.to_owned()));
        let r = f(self);
        self.at.pop();
        r
    }

    fn enter_index<R>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        self.at.push(PathSegment::Index(i));
        let r = f(self);
        self.at.pop();
        r
    }

    /// The mapping at the current path, or a problem; `allowed` (when given) lists its keys.
    fn object<'v>(
        &mut self,
        value: &'v Value,
        allowed: Option<&[&str]>,
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.problem(&[], format!("must be a mapping, not {}", type_name(value)));
            return None;
        };
        if let Some(allowed) = allowed {
            for key in map.keys() {
                if !allowed.contains(&key.as_str()) {
                    self.problem(
                        &[key],
                        format!("unknown field (allowed: {})", allowed.join(", ")),
                    );
                }
            }
        }
        Some(map)
    }

    fn string<'v>(&mut self, value: &'v Value) -> Option<&'v str> {
        match value.as_str() {
            Some(s) => Some(s),
            None => {
                self.problem(&[], format!("must be a string, not {}", type_name(value)));
                None
            }
        }
    }

    fn pattern(&mut self, value: &Value, re: &Regex, what: &str) {
        if let Some(s) = self.string(value)
            && !re.is_match(s)
        {
            self.problem(&[], format!("`{s}` is not {what}"));
        }
    }

    fn key_pattern(&mut self, key: &str, re: &Regex, what: &str) {
        if !re.is_match(key) {
            self.problem(&[key], format!("name `{key}` is not {what}"));
        }
    }

    fn string_array(&mut self, value: &Value) {
        match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.enter_index(i, |v| {
                        v.string(item);
                    });
                }
            }
            None => self.problem(
                &[],
                format!("must be a list of strings, not {}", type_name(value)),
            ),
        }
    }

    fn integer(&mut self, value: &Value, min: i64, max: i64) {
        match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => {}
            Some(n) => self.problem(&[], format!("{n} is outside {min}..{max}")),
            None => self.problem(&[], format!("must be an integer, not {}", type_name(value))),
        }
    }

    fn required(&mut self, map: &Map<String, Value>, keys: &[&str]) {
        for key in keys {
            if !map.contains_key(*key) {
                self.problem(&[], format!("`{key}` is required"));
            }
        }
    }

    fn annotations(&mut self, value: &Value) {
        let Some(map) = self.object(value, None) else {
            return;
        };
        for (k, v) in map {
            if !(2..=316).contains(&k.len()) || !ANNOTATION_KEY.is_match(k) {
                self.problem(&[k], format!("`{k}` is not a valid annotation key"));
            }
            self.enter(k, |s| {
                s.string(v);
            });
        }
    }

    fn root(&mut self, value: &Value) {
        let Some(root) = self.object(
            value,
            Some(&[
                "apiVersion",
                "metadata",
                "service",
                "containers",
                "resources",
            ]),
        ) else {
            return;
        };
        self.required(root, &["apiVersion", "metadata", "containers"]);
        if let Some(api) = root.get("apiVersion") {
            self.enter("apiVersion", |v| {
                if let Some(s) = v.string(api)
                    && s != "score.dev/v1b1"
                {
                    v.problem(&[], format!("`{s}` is not supported (use score.dev/v1b1)"));
                }
            });
        }
        if let Some(meta) = root.get("metadata") {
            self.enter("metadata", |v| v.metadata(meta));
        }
        if let Some(service) = root.get("service") {
            self.enter("service", |v| v.service(service));
        }
        if let Some(containers) = root.get("containers") {
            self.enter("containers", |v| {
                let Some(map) = v.object(containers, None) else {
                    return;
                };
                if map.is_empty() {
                    v.problem(&[], "must name at least one container".into());
                }
                for (name, c) in map {
                    v.key_pattern(name, &RFC1123_LABEL, "an RFC 1123 label");
                    v.enter(name, |v| v.container(c));
                }
            });
        }
        if let Some(resources) = root.get("resources") {
            self.enter("resources", |v| {
                let Some(map) = v.object(resources, None) else {
                    return;
                };
                for (name, r) in map {
                    v.key_pattern(name, &RFC1123_LABEL, "an RFC 1123 label");
                    v.enter(name, |v| v.resource(r));
                }
            });
        }
    }

    fn metadata(&mut self, value: &Value) {
        let Some(map) = self.object(value, None) else {
            return;
        };
        self.required(map, &["name"]);
        if let Some(name) = map.get("name") {
            self.enter("name", |v| {
                v.pattern(name, &RFC1123_LABEL, "an RFC 1123 label (2-63 characters)");
            });
        }
        if let Some(a) = map.get("annotations") {
            self.enter("annotations", |v| v.annotations(a));
        }
    }

    fn service(&mut self, value: &Value) {
        let Some(map) = self.object(value, Some(&["ports"])) else {
            return;
        };
        let Some(ports) = map.get("ports") else {
            return;
        };
        self.enter("ports", |v| {
            let Some(ports) = v.object(ports, None) else {
                return;
            };
            for (name, p) in ports {
                v.key_pattern(name, &RFC1123_LABEL, "an RFC 1123 label");
                v.enter(name, |v| {
                    let Some(p) = v.object(p, Some(&["port", "protocol", "targetPort"])) else {
                        return;
                    };
                    v.required(p, &["port"]);
                    for key in ["port", "targetPort"] {
                        if let Some(n) = p.get(key) {
                            v.enter(key, |v| v.integer(n, 1, 65535));
                        }
                    }
                    if let Some(proto) = p.get("protocol") {
                        v.enter("protocol", |v| {
                            if let Some(s) = v.string(proto)
                                && s != "TCP"
                                && s != "UDP"
                            {
                                v.problem(&[], format!("`{s}` is not TCP or UDP"));
                            }
                        });
                    }
                });
            }
        });
    }

    fn container(&mut self, value: &Value) {
        let Some(c) = self.object(
            value,
            Some(&[
                "image",
                "command",
                "args",
                "variables",
                "files",
                "volumes",
                "before",
                "resources",
                "livenessProbe",
                "readinessProbe",
            ]),
        ) else {
            return;
        };
        self.required(c, &["image"]);
        if let Some(image) = c.get("image") {
            self.enter("image", |v| {
                if v.string(image) == Some("") {
                    v.problem(&[], "must not be empty".into());
                }
            });
        }
        for key in ["command", "args"] {
            if let Some(a) = c.get(key) {
                self.enter(key, |v| v.string_array(a));
            }
        }
        if let Some(vars) = c.get("variables") {
            self.enter("variables", |v| {
                let Some(map) = v.object(vars, None) else {
                    return;
                };
                for (k, val) in map {
                    if k.is_empty() || k.contains('=') {
                        v.problem(&[k], format!("`{k}` is not a valid variable name"));
                    }
                    v.enter(k, |v| {
                        v.string(val);
                    });
                }
            });
        }
        if let Some(files) = c.get("files") {
            self.enter("files", |v| v.map_or_list(files, Self::file));
        }
        if let Some(volumes) = c.get("volumes") {
            self.enter("volumes", |v| v.map_or_list(volumes, Self::volume));
        }
        if let Some(before) = c.get("before") {
            self.enter("before", |v| {
                let Some(map) = v.object(before, None) else {
                    return;
                };
                for (name, b) in map {
                    v.key_pattern(name, &RFC1123_LABEL, "an RFC 1123 label");
                    v.enter(name, |v| {
                        let Some(b) = v.object(b, Some(&["ready"])) else {
                            return;
                        };
                        v.required(b, &["ready"]);
                        if let Some(r) = b.get("ready") {
                            v.enter("ready", |v| {
                                if let Some(s) = v.string(r)
                                    && !["started", "healthy", "complete"].contains(&s)
                                {
                                    v.problem(
                                        &[],
                                        format!("`{s}` is not started, healthy or complete"),
                                    );
                                }
                            });
                        }
                    });
                }
            });
        }
        if let Some(res) = c.get("resources") {
            self.enter("resources", |v| {
                let Some(map) = v.object(res, Some(&["limits", "requests"])) else {
                    return;
                };
                for (k, l) in map {
                    v.enter(k, |v| {
                        let Some(l) = v.object(l, Some(&["memory", "cpu"])) else {
                            return;
                        };
                        if let Some(m) = l.get("memory") {
                            v.enter("memory", |v| v.pattern(m, &MEMORY, "a memory quantity"));
                        }
                        if let Some(c) = l.get("cpu") {
                            v.enter("cpu", |v| v.pattern(c, &CPU, "a CPU quantity"));
                        }
                    });
                }
            });
        }
        for key in ["livenessProbe", "readinessProbe"] {
            if let Some(p) = c.get(key) {
                self.enter(key, |v| v.probe(p));
            }
        }
    }

    fn probe(&mut self, value: &Value) {
        let Some(p) = self.object(value, Some(&["httpGet", "exec"])) else {
            return;
        };
        if !p.contains_key("httpGet") && !p.contains_key("exec") {
            self.problem(&[], "needs `httpGet` or `exec`".into());
        }
        if let Some(h) = p.get("httpGet") {
            self.enter("httpGet", |v| {
                let Some(h) = v.object(h, Some(&["host", "scheme", "path", "port", "httpHeaders"]))
                else {
                    return;
                };
                v.required(h, &["port", "path"]);
                if let Some(port) = h.get("port") {
                    v.enter("port", |v| v.integer(port, 1, 65535));
                }
                if let Some(path) = h.get("path") {
                    v.enter("path", |v| {
                        v.string(path);
                    });
                }
                if let Some(host) = h.get("host") {
                    v.enter("host", |v| {
                        if v.string(host) == Some("") {
                            v.problem(&[], "must not be empty".into());
                        }
                    });
                }
                if let Some(s) = h.get("scheme") {
                    v.enter("scheme", |v| {
                        if let Some(s) = v.string(s)
                            && s != "HTTP"
                            && s != "HTTPS"
                        {
                            v.problem(&[], format!("`{s}` is not HTTP or HTTPS"));
                        }
                    });
                }
                if let Some(headers) = h.get("httpHeaders") {
                    v.enter("httpHeaders", |v| {
                        let Some(items) = headers.as_array() else {
                            v.problem(&[], "must be a list".into());
                            return;
                        };
                        for (i, item) in items.iter().enumerate() {
                            v.enter_index(i, |v| {
                                let Some(h) = v.object(item, Some(&["name", "value"])) else {
                                    return;
                                };
                                v.required(h, &["name", "value"]);
                                if let Some(n) = h.get("name") {
                                    v.enter("name", |v| {
                                        v.pattern(n, &HEADER_NAME, "a header name");
                                    });
                                }
                                if let Some(val) = h.get("value") {
                                    v.enter("value", |v| {
                                        if v.string(val) == Some("") {
                                            v.problem(&[], "must not be empty".into());
                                        }
                                    });
                                }
                            });
                        }
                    });
                }
            });
        }
        if let Some(e) = p.get("exec") {
            self.enter("exec", |v| {
                let Some(e) = v.object(e, Some(&["command"])) else {
                    return;
                };
                v.required(e, &["command"]);
                if let Some(c) = e.get("command") {
                    v.enter("command", |v| v.string_array(c));
                }
            });
        }
    }

    fn file(&mut self, value: &Value, deprecated: bool) {
        let allowed: &[&str] = if deprecated {
            &[
                "target",
                "mode",
                "source",
                "content",
                "binaryContent",
                "noExpand",
            ]
        } else {
            &["mode", "source", "content", "binaryContent", "noExpand"]
        };
        let Some(f) = self.object(value, Some(allowed)) else {
            return;
        };
        let sources = ["content", "binaryContent", "source"]
            .iter()
            .filter(|k| f.contains_key(**k))
            .count();
        if sources != 1 {
            self.problem(
                &[],
                "needs exactly one of `content`, `binaryContent` or `source`".into(),
            );
        }
        for key in ["target", "source", "content", "binaryContent"] {
            if let Some(s) = f.get(key) {
                self.enter(key, |v| {
                    let s = v.string(s);
                    if matches!(key, "target" | "source") && s == Some("") {
                        v.problem(&[], "must not be empty".into());
                    }
                });
            }
        }
        if deprecated && !f.contains_key("target") {
            self.problem(&[], "`target` is required".into());
        }
        if let Some(m) = f.get("mode") {
            self.enter("mode", |v| v.pattern(m, &FILE_MODE, "an octal file mode"));
        }
        if let Some(n) = f.get("noExpand")
            && !n.is_boolean()
        {
            self.problem(&["noExpand"], "must be true or false".into());
        }
    }

    /// `files` and `volumes`: a mapping keyed by target path, or the deprecated list form
    /// (whose items name their `target`).
    fn map_or_list(&mut self, value: &Value, item: fn(&mut Self, &Value, bool)) {
        match value {
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    self.enter_index(i, |v| item(v, x, true));
                }
            }
            Value::Object(map) => {
                for (target, x) in map {
                    self.enter(target, |v| item(v, x, false));
                }
            }
            other => self.problem(&[], format!("must be a mapping, not {}", type_name(other))),
        }
    }

    fn volume(&mut self, value: &Value, deprecated: bool) {
        let allowed: &[&str] = if deprecated {
            &["source", "path", "target", "readOnly"]
        } else {
            &["source", "path", "readOnly"]
        };
        let Some(m) = self.object(value, Some(allowed)) else {
            return;
        };
        self.required(m, &["source"]);
        for key in ["source", "path", "target"] {
            if let Some(s) = m.get(key) {
                self.enter(key, |v| {
                    v.string(s);
                });
            }
        }
        if let Some(r) = m.get("readOnly")
            && !r.is_boolean()
        {
            self.problem(&["readOnly"], "must be true or false".into());
        }
    }

    fn resource(&mut self, value: &Value) {
        let Some(r) = self.object(value, Some(&["type", "class", "id", "metadata", "params"]))
        else {
            return;
        };
        self.required(r, &["type"]);
        if let Some(t) = r.get("type") {
            self.enter("type", |v| {
                v.pattern(
                    t,
                    &RESOURCE_TYPE,
                    "a resource type ([A-Za-z0-9-], 2-63 characters)",
                );
            });
        }
        if let Some(c) = r.get("class") {
            self.enter("class", |v| {
                v.pattern(
                    c,
                    &RESOURCE_TYPE,
                    "a resource class ([A-Za-z0-9-], 2-63 characters)",
                );
            });
        }
        if let Some(id) = r.get("id") {
            self.enter("id", |v| {
                let ok = id.as_str().is_some_and(|s| (2..=63).contains(&s.len()));
                v.pattern(
                    id,
                    &RESOURCE_ID,
                    "a resource id (dot-separated lowercase labels)",
                );
                if !ok && id.is_string() {
                    v.problem(&[], "must be 2-63 characters".into());
                }
            });
        }
        if let Some(m) = r.get("metadata") {
            self.enter("metadata", |v| {
                let Some(m) = v.object(m, None) else { return };
                if let Some(a) = m.get("annotations") {
                    v.enter("annotations", |v| v.annotations(a));
                }
            });
        }
        if let Some(p) = r.get("params") {
            self.enter("params", |v| {
                v.object(p, None);
            });
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// Builds the typed workload from a document the validator accepted.
fn build(file: &str, doc: Document) -> Result<Workload, Error> {
    let root = &doc.value;
    let metadata = root.get("metadata").cloned().unwrap_or(Value::Null);
    let name = str_of(metadata.get("name")).unwrap_or_default();
    let annotations: Vec<(String, String)> = metadata
        .get("annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let annotation = |key: &str| {
        annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let kind_path = path(&["metadata", "annotations", "pave.dev/workload-kind"]);
    let fail = |p: &[PathSegment], message: String| Error::Invalid {
        file: file.to_owned(),
        problems: vec![Problem {
            position: doc.spans.locate(&doc.value, 0, p),
            message,
        }],
    };
    let kind = match annotation("pave.dev/workload-kind").as_deref() {
        None | Some("Deployment") => WorkloadKind::Deployment,
        Some("CronJob") => WorkloadKind::CronJob,
        Some("Job") => WorkloadKind::Job,
        Some(other) => {
            return Err(fail(
                &kind_path,
                format!(
                    "annotation pave.dev/workload-kind: `{other}` is not Deployment, CronJob or Job"
                ),
            ));
        }
    };
    let schedule = annotation("pave.dev/schedule");
    if kind == WorkloadKind::CronJob {
        match &schedule {
            None => {
                return Err(fail(
                    &kind_path,
                    "a CronJob workload needs the annotation pave.dev/schedule (a cron expression)"
                        .into(),
                ));
            }
            Some(s) if s.split_whitespace().count() != 5 && !s.starts_with('@') => {
                return Err(fail(
                    &path(&["metadata", "annotations", "pave.dev/schedule"]),
                    format!(
                        "annotation pave.dev/schedule: `{s}` is not a five-field cron expression"
                    ),
                ));
            }
            Some(_) => {}
        }
    }

    let mut service_ports = Vec::new();
    if let Some(ports) = root.pointer("/service/ports").and_then(Value::as_object) {
        for (name, p) in ports {
            let port = p.get("port").and_then(Value::as_u64).unwrap_or(0) as u16;
            let target_port = p
                .get("targetPort")
                .and_then(Value::as_u64)
                .map_or(port, |t| t as u16);
            service_ports.push(ServicePort {
                name: name.clone(),
                port,
                target_port,
                protocol: str_of(p.get("protocol")).unwrap_or_else(|| "TCP".into()),
            });
        }
    }
    if kind != WorkloadKind::Deployment && !service_ports.is_empty() {
        return Err(fail(
            &path(&["service"]),
            "a CronJob or Job workload cannot have service ports".into(),
        ));
    }
    let at = |key: &str| path(&["metadata", "annotations", key]);
    let metrics = match annotation("pave.dev/metrics-port") {
        None => {
            if annotation("pave.dev/metrics-path").is_some() {
                return Err(fail(
                    &at("pave.dev/metrics-path"),
                    "annotation pave.dev/metrics-path needs pave.dev/metrics-port (the service port Prometheus scrapes)".into(),
                ));
            }
            None
        }
        Some(port) => {
            let names: Vec<&str> = service_ports.iter().map(|p| p.name.as_str()).collect();
            if !names.contains(&port.as_str()) {
                return Err(fail(
                    &at("pave.dev/metrics-port"),
                    if names.is_empty() {
                        format!(
                            "annotation pave.dev/metrics-port: `{port}` names no service port (this workload has none; add one under service.ports)"
                        )
                    } else {
                        format!(
                            "annotation pave.dev/metrics-port: `{port}` is not a service port (ports: {})",
                            names.join(", ")
                        )
                    },
                ));
            }
            if !is_port_name(&port) {
                return Err(fail(
                    &at("pave.dev/metrics-port"),
                    format!(
                        "annotation pave.dev/metrics-port: `{port}` cannot name a container port (at most 15 lowercase letters, digits and dashes); rename the service port"
                    ),
                ));
            }
            let metrics_path =
                annotation("pave.dev/metrics-path").unwrap_or_else(|| "/metrics".into());
            if !metrics_path.starts_with('/') || metrics_path.chars().any(char::is_whitespace) {
                return Err(fail(
                    &at("pave.dev/metrics-path"),
                    format!(
                        "annotation pave.dev/metrics-path: `{metrics_path}` is not a URL path (it starts with /)"
                    ),
                ));
            }
            Some(Metrics {
                port,
                path: metrics_path,
            })
        }
    };
    let mut run = RunSettings::default();
    if let Some(v) = annotation("pave.dev/active-deadline-seconds") {
        if kind == WorkloadKind::Deployment {
            return Err(fail(
                &at("pave.dev/active-deadline-seconds"),
                "annotation pave.dev/active-deadline-seconds applies to Job and CronJob workloads only".into(),
            ));
        }
        match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => run.active_deadline_seconds = Some(n),
            _ => {
                return Err(fail(
                    &at("pave.dev/active-deadline-seconds"),
                    format!(
                        "annotation pave.dev/active-deadline-seconds: `{v}` is not a positive number of seconds"
                    ),
                ));
            }
        }
    }
    for key in ["pave.dev/time-zone", "pave.dev/concurrency-policy"] {
        if annotation(key).is_some() && kind != WorkloadKind::CronJob {
            return Err(fail(
                &at(key),
                format!("annotation {key} applies to CronJob workloads only"),
            ));
        }
    }
    if let Some(tz) = annotation("pave.dev/time-zone") {
        if !TIME_ZONE.is_match(&tz) {
            return Err(fail(
                &at("pave.dev/time-zone"),
                format!(
                    "annotation pave.dev/time-zone: `{tz}` is not a time zone name (e.g. Etc/UTC, Europe/Berlin)"
                ),
            ));
        }
        run.time_zone = Some(tz);
    }
    if let Some(policy) = annotation("pave.dev/concurrency-policy") {
        if !["Allow", "Forbid", "Replace"].contains(&policy.as_str()) {
            return Err(fail(
                &at("pave.dev/concurrency-policy"),
                format!(
                    "annotation pave.dev/concurrency-policy: `{policy}` is not Allow, Forbid or Replace"
                ),
            ));
        }
        run.concurrency_policy = Some(policy);
    }

    let mut containers = Vec::new();
    if let Some(map) = root.get("containers").and_then(Value::as_object) {
        for (cname, c) in map {
            let strings = |key: &str| {
                c.get(key).and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                })
            };
            let variables = c
                .get("variables")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let mut files = Vec::new();
            let file_entry = |target: String, f: &Value, p: Vec<PathSegment>| ContainerFile {
                target,
                mode: f
                    .get("mode")
                    .and_then(Value::as_str)
                    .and_then(|m| u32::from_str_radix(m, 8).ok()),
                content: if let Some(s) = str_of(f.get("content")) {
                    FileContent::Text(s)
                } else if let Some(s) = str_of(f.get("binaryContent")) {
                    FileContent::Binary(s)
                } else {
                    FileContent::Source(str_of(f.get("source")).unwrap_or_default())
                },
                no_expand: f.get("noExpand").and_then(Value::as_bool).unwrap_or(false),
                path: p,
            };
            match c.get("files") {
                Some(Value::Object(m)) => {
                    for (target, f) in m {
                        let p = path(&["containers", cname, "files", target]);
                        files.push(file_entry(target.clone(), f, p));
                    }
                }
                Some(Value::Array(items)) => {
                    for (i, f) in items.iter().enumerate() {
                        let mut p = path(&["containers", cname, "files"]);
                        p.push(PathSegment::Index(i));
                        files.push(file_entry(
                            str_of(f.get("target")).unwrap_or_default(),
                            f,
                            p,
                        ));
                    }
                }
                _ => {}
            }
            let volumes = match c.get("volumes") {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| str_of(v.get("target")))
                    .collect(),
                _ => Vec::new(),
            };
            let quantity = |kind: &str, what: &str| {
                c.get("resources")
                    .and_then(|r| r.get(kind))
                    .and_then(|r| r.get(what))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            containers.push(Container {
                name: cname.clone(),
                image: str_of(c.get("image")).unwrap_or_default(),
                command: strings("command"),
                args: strings("args"),
                variables,
                files,
                volumes,
                requests: (quantity("requests", "cpu"), quantity("requests", "memory")),
                limits: (quantity("limits", "cpu"), quantity("limits", "memory")),
                liveness: c.get("livenessProbe").cloned(),
                readiness: c.get("readinessProbe").cloned(),
            });
        }
    }

    let mut resources = Vec::new();
    if let Some(map) = root.get("resources").and_then(Value::as_object) {
        for (rname, r) in map {
            resources.push(Resource {
                name: rname.clone(),
                kind: str_of(r.get("type")).unwrap_or_default(),
                class: str_of(r.get("class")),
                id: str_of(r.get("id")),
                params: r
                    .get("params")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new())),
                annotations: r
                    .pointer("/metadata/annotations")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }

    Ok(Workload {
        file: file.to_owned(),
        name,
        metadata,
        annotations,
        kind,
        schedule,
        metrics,
        run,
        service_ports,
        containers,
        resources,
        doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> String {
        match Workload::parse("score.yaml", text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn patterns_compile() {
        for r in [
            &*RFC1123_LABEL,
            &*ANNOTATION_KEY,
            &*RESOURCE_TYPE,
            &*RESOURCE_ID,
            &*MEMORY,
            &*CPU,
            &*FILE_MODE,
            &*HEADER_NAME,
        ] {
            assert!(!r.as_str().is_empty());
        }
    }

    #[test]
    fn minimal_workload_parses() {
        let w = Workload::parse(
            "score.yaml",
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: hello\ncontainers:\n  main:\n    image: nginx:1.27\n",
        )
        .unwrap();
        assert_eq!(w.name, "hello");
        assert_eq!(w.kind, WorkloadKind::Deployment);
        assert_eq!(w.containers[0].image, "nginx:1.27");
    }

    #[test]
    fn invalid_fields_are_reported_with_positions() {
        let m = messages(
            "apiVersion: score.dev/v1b2\nmetadata:\n  name: Hello_World\ncontainers:\n  main:\n    image: x\n    imagePullPolicy: Always\n    resources:\n      limits:\n        cpu: lots\nservice:\n  ports:\n    web:\n      port: 70000\n",
        );
        assert!(
            m.contains("score.yaml:1:1: apiVersion: `score.dev/v1b2` is not supported"),
            "{m}"
        );
        assert!(
            m.contains("score.yaml:3:3: metadata.name: `Hello_World` is not an RFC 1123 label"),
            "{m}"
        );
        assert!(
            m.contains("score.yaml:7:5: containers.main.imagePullPolicy: unknown field"),
            "{m}"
        );
        assert!(m.contains("score.yaml:10:9: containers.main.resources.limits.cpu: `lots` is not a CPU quantity"), "{m}");
        assert!(
            m.contains("score.yaml:14:7: service.ports.web.port: 70000 is outside 1..65535"),
            "{m}"
        );
    }

    #[test]
    fn missing_required_fields() {
        let m = messages("apiVersion: score.dev/v1b1\nmetadata: {}\n");
        assert!(m.contains("`containers` is required"), "{m}");
        assert!(m.contains("metadata: `name` is required"), "{m}");
        let m = messages(
            "apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers:\n  main:\n    image: x\n    files:\n      /etc/x:\n        content: a\n        source: b\n    livenessProbe: {}\n",
        );
        assert!(
            m.contains("needs exactly one of `content`, `binaryContent` or `source`"),
            "{m}"
        );
        assert!(
            m.contains("livenessProbe: needs `httpGet` or `exec`"),
            "{m}"
        );
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        let m = messages("apiVersion: score.dev/v1b1\nmetadata:\n  name: [unclosed\n");
        assert!(m.starts_with("score.yaml:"), "{m}");
        assert!(m.contains("invalid YAML"), "{m}");
    }

    #[test]
    fn workload_kind_annotations() {
        let m = messages(
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: nightly\n  annotations:\n    pave.dev/workload-kind: CronJob\ncontainers:\n  main: {image: x}\n",
        );
        assert!(m.contains("needs the annotation pave.dev/schedule"), "{m}");
        let w = Workload::parse(
            "s.yaml",
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: nightly\n  annotations:\n    pave.dev/workload-kind: CronJob\n    pave.dev/schedule: \"0 3 * * *\"\ncontainers:\n  main: {image: x}\n",
        )
        .unwrap();
        assert_eq!(w.kind, WorkloadKind::CronJob);
        assert_eq!(w.schedule.as_deref(), Some("0 3 * * *"));
    }
}
