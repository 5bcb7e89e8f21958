//! What is checked: documents of known kinds, read from text, with where they came from.

use std::sync::Arc;

use pave_yaml::{PathSegment, Position};
use serde_json::Value;

use crate::dockerfile::Dockerfile;

/// The kind of input a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// A Kubernetes object (anything with `apiVersion` and `kind`, except catalog entities).
    Kubernetes,
    /// `terraform show -json` output.
    TerraformPlan,
    Dockerfile,
    /// A GitHub Actions workflow.
    GithubWorkflow,
    /// A Backstage `catalog-info.yaml` entity.
    Catalog,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Kubernetes => "kubernetes",
            DocKind::TerraformPlan => "terraform",
            DocKind::Dockerfile => "dockerfile",
            DocKind::GithubWorkflow => "github-actions",
            DocKind::Catalog => "catalog",
        }
    }

    /// Parses a `--type` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "kubernetes" | "k8s" => Some(DocKind::Kubernetes),
            "terraform" | "terraform-plan" | "tfplan" => Some(DocKind::TerraformPlan),
            "dockerfile" | "docker" => Some(DocKind::Dockerfile),
            "github-actions" | "github" | "gha" | "workflow" => Some(DocKind::GithubWorkflow),
            "catalog" | "backstage" => Some(DocKind::Catalog),
            _ => None,
        }
    }

    pub const ALL: [DocKind; 5] = [
        DocKind::Kubernetes,
        DocKind::TerraformPlan,
        DocKind::Dockerfile,
        DocKind::GithubWorkflow,
        DocKind::Catalog,
    ];
}

/// A file (or stdin) that documents were read from. Text is kept to compute positions
/// lazily, only for documents that have findings.
#[derive(Debug)]
pub struct Source {
    /// As shown in reports: relative to the working directory when possible, `-` for stdin.
    pub path: Arc<str>,
    pub text: String,
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One checkable document.
#[derive(Debug, Clone)]
pub struct Document {
    pub source: Arc<Source>,
    /// Index of the YAML document in its file (for positions).
    pub index: usize,
    /// Where this document sits inside the YAML document (e.g. `items.3` for a `List` item).
    pub base: Vec<PathSegment>,
    pub kind: DocKind,
    /// The parsed content (for Dockerfiles, the instructions as JSON, as conftest gives them).
    pub value: Value,
    pub dockerfile: Option<Arc<Dockerfile>>,
    /// Where the YAML document begins in the text, so that positions are found by reading this
    /// document alone rather than the whole stream before it (a 10,000-document
    /// `helm template` output would otherwise cost quadratic time). Used when `spans` is
    /// absent.
    pub start: TextOffset,
    /// Node positions recorded while parsing (shared by the items of a `List`), and the node
    /// that is this document's root: positions without reading the text again.
    pub spans: Option<(Arc<pave_yaml::Spans>, usize)>,
}

/// The pod spec fields that rules relating documents read ([`Document::slim`] keeps them).
pub const KEPT_POD_FIELDS: &[&str] = &[
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "topologySpreadConstraints",
    "affinity",
    "hostNetwork",
    "priorityClassName",
];

/// A line start in a source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOffset {
    pub byte: usize,
    /// Lines before it (0 for the first line).
    pub lines_before: u32,
}

impl Document {
    /// The Kubernetes-style identity: `kind`, `metadata.namespace`, `metadata.name`.
    pub fn object(&self) -> Option<ObjectRef> {
        match self.kind {
            DocKind::Kubernetes | DocKind::Catalog => {
                let kind = self.value.get("kind")?.as_str()?.to_owned();
                let metadata = self.value.get("metadata");
                Some(ObjectRef {
                    kind,
                    namespace: metadata
                        .and_then(|m| m.get("namespace"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    name: metadata
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                })
            }
            _ => None,
        }
    }

    /// The line and column of `path` (relative to this document). Exact for YAML and JSON;
    /// Dockerfile paths are `[instruction index]`.
    pub fn locate(&self, path: &[PathSegment]) -> Option<Position> {
        if let Some(dockerfile) = &self.dockerfile {
            let index = match path.first() {
                Some(PathSegment::Index(i)) => *i,
                _ => return Some(Position { line: 1, column: 1 }),
            };
            return dockerfile.instructions.get(index).map(|i| Position {
                line: i.line,
                column: 1,
            });
        }
        if let Some((spans, node)) = &self.spans {
            return spans.locate(&self.value, *node, path);
        }
        let mut full = self.base.clone();
        full.extend_from_slice(path);
        let (text, index) = match self.source.text.get(self.start.byte..) {
            Some(rest) if self.start.byte > 0 => (rest, 0),
            _ => (self.source.text.as_str(), self.index),
        };
        let mut position = pave_yaml::locate(text, index, &full)?;
        if self.start.byte > 0 {
            position.line += self.start.lines_before;
        }
        Some(position)
    }

    /// [`Document::locate`] for several paths, reading the document once.
    pub fn locate_many(&self, paths: &[&[PathSegment]]) -> Vec<Option<Position>> {
        if self.dockerfile.is_some() || self.spans.is_some() || paths.len() == 1 {
            return paths.iter().map(|p| self.locate(p)).collect();
        }
        let full: Vec<Vec<PathSegment>> = paths
            .iter()
            .map(|p| {
                let mut f = self.base.clone();
                f.extend_from_slice(p);
                f
            })
            .collect();
        let refs: Vec<&[PathSegment]> = full.iter().map(Vec::as_slice).collect();
        let (text, index) = match self.source.text.get(self.start.byte..) {
            Some(rest) if self.start.byte > 0 => (rest, 0),
            _ => (self.source.text.as_str(), self.index),
        };
        let mut positions = pave_yaml::locate_many(text, index, &refs);
        if self.start.byte > 0 {
            for p in positions.iter_mut().flatten() {
                p.line += self.start.lines_before;
            }
        }
        positions
    }

    /// Drops what only per-document rules read (of a pod spec, all but
    /// [`KEPT_POD_FIELDS`]; ConfigMap and Secret data), keeping what rules that relate
    /// documents read (metadata, selectors, replicas, service accounts, policies, the other
    /// kinds whole) with exact positions: `pave check` keeps every document until those rules
    /// have run, and containers are most of a workload's tree. A rule that relates documents
    /// and reads another pod field must add it to [`KEPT_POD_FIELDS`]
    /// (`tests/inputs.rs::streaming_gives_the_same_report_as_checking_everything_at_once`).
    /// Documents that share their spans (`List` items) are left whole.
    pub fn slim(&mut self) {
        if self.kind != DocKind::Kubernetes {
            return;
        }
        let Some((spans, root)) = &mut self.spans else {
            return;
        };
        let Some(spans) = Arc::get_mut(spans) else {
            return;
        };
        let kind = self.value.get("kind").and_then(Value::as_str).unwrap_or("");
        let mut drop: Vec<Vec<PathSegment>> = Vec::new();
        if let Some(keys) = crate::rules::pods::template_keys(kind) {
            let spec: Vec<PathSegment> = keys
                .iter()
                .map(|&k| k.into())
                .chain(std::iter::once("spec".into()))
                .collect();
            let pod_spec = keys
                .iter()
                .try_fold(&self.value, |v, k| v.get(k))
                .and_then(|t| t.get("spec"))
                .and_then(Value::as_object);
            for field in pod_spec.into_iter().flat_map(|s| s.keys()) {
                if !KEPT_POD_FIELDS.contains(&field.as_str()) {
                    let mut path = spec.clone();
                    path.push(field.as_str().into());
                    drop.push(path);
                }
            }
        }
        if matches!(kind, "ConfigMap" | "Secret") {
            for field in ["data", "stringData", "binaryData"] {
                drop.push(vec![field.into()]);
            }
        }
        drop.push(vec!["metadata".into(), "managedFields".into()]);
        drop.push(vec!["status".into()]);
        for path in drop {
            spans.remove(&mut self.value, *root, &path);
        }
    }

    /// A string at `path` (dotted keys), e.g. `doc.str_at(&["metadata", "name"])`.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        path.iter().try_fold(&self.value, |v, k| v.get(k))?.as_str()
    }
}

/// Why a file could not be read as documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Yaml(#[from] pave_yaml::YamlError),
    #[error("invalid Dockerfile at line {line}: {message}")]
    Dockerfile { line: u32, message: String },
    #[error("cannot tell what kind of file this is; use --type")]
    Unknown,
}

impl LoadError {
    pub fn position(&self) -> Option<Position> {
        match self {
            LoadError::Yaml(e) => Some(e.position()),
            LoadError::Dockerfile { line, .. } => Some(Position {
                line: *line,
                column: 1,
            }),
            LoadError::Unknown => None,
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Whether a path names a Dockerfile (`Dockerfile`, `Dockerfile.prod`, `app.dockerfile`, `Containerfile`).
pub fn is_dockerfile_name(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    name == "dockerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
        || name == "containerfile"
}

/// Whether a path is a GitHub Actions workflow.
pub fn is_workflow_path(path: &str) -> bool {
    let p = path.replace('\\', "/");
    p.contains(".github/workflows/") && (p.ends_with(".yml") || p.ends_with(".yaml"))
}

/// Reads the documents in `text`. The kind is detected from the file name and content unless
/// `forced`; documents whose kind cannot be told are skipped (a YAML file of something else
/// is not an error), except when nothing at all is recognised in a file named on purpose.
pub fn load(
    path: &str,
    text: String,
    forced: Option<DocKind>,
    limits: &pave_yaml::Limits,
) -> Result<Vec<Document>, LoadError> {
    load_at(path, text, 1, forced, limits)
}

/// [`load`] for a part of a YAML stream that starts at line `first_line` of the file `path`
/// (a large file is read a few thousand documents at a time): positions are the file's.
pub fn load_at(
    path: &str,
    text: String,
    first_line: u32,
    forced: Option<DocKind>,
    limits: &pave_yaml::Limits,
) -> Result<Vec<Document>, LoadError> {
    let is_dockerfile =
        forced == Some(DocKind::Dockerfile) || (forced.is_none() && is_dockerfile_name(path));
    let source = Arc::new(Source {
        path: path.into(),
        text,
    });
    if is_dockerfile {
        let dockerfile = crate::dockerfile::parse(&source.text)
            .map_err(|(line, message)| LoadError::Dockerfile { line, message })?;
        let value = dockerfile.to_json();
        return Ok(vec![Document {
            source,
            index: 0,
            base: Vec::new(),
            kind: DocKind::Dockerfile,
            value,
            dockerfile: Some(Arc::new(dockerfile)),
            start: TextOffset::default(),
            spans: None,
        }]);
    }
    let workflow = is_workflow_path(path);
    let parsed = parse(&source.text, first_line, forced, workflow, limits)?;
    let line_starts = if parsed.len() > 1 {
        std::iter::once(0)
            .chain(source.text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    } else {
        Vec::new()
    };
    let offset = |line: u32| -> TextOffset {
        let lines_before = line.saturating_sub(1);
        match line_starts.get(lines_before as usize) {
            Some(&byte) => TextOffset { byte, lines_before },
            None => TextOffset::default(),
        }
    };
    let mut docs = Vec::new();
    for (index, doc) in parsed.into_iter().enumerate() {
        let start = offset(doc.start.line.saturating_sub(first_line.saturating_sub(1)));
        let kind = match forced {
            Some(k) => Some(k),
            None => detect(&doc.value, workflow),
        };
        let Some(kind) = kind else { continue };
        let spans = Arc::new(doc.spans);
        // A Kubernetes `List` (what `kubectl get -o yaml` prints) holds the objects.
        if kind == DocKind::Kubernetes && is_list(&doc.value) {
            if let Some(Value::Array(items)) = doc.value.get("items") {
                for (i, item) in items.iter().enumerate() {
                    let base = vec![PathSegment::Key("items".into()), PathSegment::Index(i)];
                    let node = spans.node(&doc.value, 0, &base);
                    docs.push(Document {
                        source: Arc::clone(&source),
                        index,
                        base,
                        kind,
                        value: item.clone(),
                        dockerfile: None,
                        start,
                        spans: node.map(|node| (Arc::clone(&spans), node)),
                    });
                }
            }
            continue;
        }
        docs.push(Document {
            source: Arc::clone(&source),
            index,
            base: Vec::new(),
            kind,
            value: doc.value,
            dockerfile: None,
            start,
            spans: Some((spans, 0)),
        });
    }
    Ok(docs)
}

/// Parses a YAML stream the way its consumer reads it: Kubernetes objects (and anything
/// else pave evaluates conftest-style) as the API server does (`Schema::Kubernetes`: YAML 1.1
/// booleans, merge keys, Go integer forms), catalog entities as Backstage does and workflows
/// as GitHub does (`Schema::Core`, YAML 1.2). Kinds are detected on the Kubernetes reading;
/// a stream holding anything but Kubernetes objects is read again with the core schema for
/// those documents (rare: catalog files and workflows are files of their own).
fn parse(
    text: &str,
    first_line: u32,
    forced: Option<DocKind>,
    workflow: bool,
    limits: &pave_yaml::Limits,
) -> Result<Vec<pave_yaml::Document>, LoadError> {
    use pave_yaml::Schema;
    let core_only = workflow
        || matches!(
            forced,
            Some(DocKind::Catalog | DocKind::GithubWorkflow | DocKind::TerraformPlan)
        );
    if core_only {
        return Ok(pave_yaml::parse_documents_at(
            text,
            limits,
            Schema::Core,
            first_line,
        )?);
    }
    let kubernetes = pave_yaml::parse_documents_at(text, limits, Schema::Kubernetes, first_line);
    if forced.is_some() {
        return Ok(kubernetes?);
    }
    let needs_core = |docs: &[pave_yaml::Document]| {
        docs.iter()
            .any(|d| detect(&d.value, false).is_some_and(|k| k != DocKind::Kubernetes))
    };
    match kubernetes {
        Ok(docs) if !needs_core(&docs) => Ok(docs),
        Ok(mut docs) => {
            let core = pave_yaml::parse_documents_at(text, limits, Schema::Core, first_line)?;
            if core.len() == docs.len() {
                for (doc, core) in docs.iter_mut().zip(core) {
                    if detect(&core.value, false).is_some_and(|k| k != DocKind::Kubernetes) {
                        *doc = core;
                    }
                }
            }
            Ok(docs)
        }
        // What the Kubernetes reading refuses (`.inf`, a bad merge key) may be fine in a
        // catalog file; a Kubernetes object keeps the error.
        Err(e) => match pave_yaml::parse_documents_at(text, limits, Schema::Core, first_line) {
            Ok(core)
                if !core.is_empty()
                    && core.iter().all(|d| {
                        detect(&d.value, false).is_some_and(|k| k != DocKind::Kubernetes)
                    }) =>
            {
                Ok(core)
            }
            _ => Err(e.into()),
        },
    }
}

fn is_list(value: &Value) -> bool {
    value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array)
}

/// Tells a document's kind from its content.
pub fn detect(value: &Value, workflow_path: bool) -> Option<DocKind> {
    let obj = value.as_object()?;
    if obj.contains_key("format_version")
        && (obj.contains_key("planned_values")
            || obj.contains_key("resource_changes")
            || obj.contains_key("terraform_version"))
    {
        return Some(DocKind::TerraformPlan);
    }
    if obj.contains_key("jobs")
        && (workflow_path || obj.contains_key("on") || obj.contains_key("true"))
    {
        return Some(DocKind::GithubWorkflow);
    }
    let api_version = obj.get("apiVersion").and_then(Value::as_str)?;
    obj.get("kind").and_then(Value::as_str)?;
    if api_version.starts_with("backstage.io/")
        || api_version.starts_with("scaffolder.backstage.io/")
    {
        return Some(DocKind::Catalog);
    }
    Some(DocKind::Kubernetes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(path: &str, text: &str) -> Vec<(DocKind, Vec<PathSegment>)> {
        load(path, text.to_owned(), None, &pave_yaml::Limits::default())
            .unwrap()
            .into_iter()
            .map(|d| (d.kind, d.base))
            .collect()
    }

    #[test]
    fn detects_kinds_from_names_and_content() {
        assert_eq!(
            kinds("k.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")[0].0,
            DocKind::Kubernetes
        );
        assert_eq!(
            kinds(
                "c.yaml",
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\n"
            )[0]
            .0,
            DocKind::Catalog
        );
        assert_eq!(
            kinds(".github/workflows/ci.yml", "on: push\njobs: {}\n")[0].0,
            DocKind::GithubWorkflow
        );
        assert_eq!(
            kinds(
                "plan.json",
                r#"{"format_version": "1.2", "planned_values": {}}"#
            )[0]
            .0,
            DocKind::TerraformPlan
        );
        assert_eq!(
            kinds("Dockerfile", "FROM alpine:3.20\n")[0].0,
            DocKind::Dockerfile
        );
        assert!(
            kinds("values.yaml", "replicas: 3\n").is_empty(),
            "unrecognised YAML is skipped"
        );
    }

    #[test]
    fn positions_in_long_streams_count_from_the_start_of_the_file() {
        let mut text = String::from("# header\n");
        for i in 0..50 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n"
            ));
        }
        text.push_str("--- # last\napiVersion: v1\nkind: Pod\nmetadata: {name: last}\n");
        let docs = load("s.yaml", text.clone(), None, &pave_yaml::Limits::default()).unwrap();
        assert_eq!(docs.len(), 51);
        for (i, doc) in docs.iter().enumerate() {
            let slow = pave_yaml::locate(&text, doc.index, &["metadata".into(), "name".into()]);
            assert_eq!(
                doc.locate(&["metadata".into(), "name".into()]),
                slow,
                "document {i}"
            );
        }
        assert_eq!(docs[1].locate(&["kind".into()]).unwrap().line, 9);
    }

    #[test]
    fn lists_are_expanded_with_positions() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n";
        let docs = load(
            "l.yaml",
            text.to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].object().unwrap().name, "b");
        let pos = docs[1].locate(&["metadata".into(), "name".into()]).unwrap();
        assert_eq!((pos.line, pos.column), (10, 5));
    }
}
