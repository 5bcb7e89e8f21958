//! The SLO model and the spec formats that produce it.
//!
//! | format | detected by | output |
//! |---|---|---|
//! | Sloth `prometheus/v1` | `version: prometheus/v1` | Prometheus rule file |
//! | Sloth Kubernetes CRD | `apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel` | `PrometheusRule` |
//! | OpenSLO `openslo/v1alpha` (as Sloth reads it) | `apiVersion: openslo/v1alpha`, `kind: SLO` | Prometheus rule file |
//! | OpenSLO `openslo/v1` | `apiVersion: openslo/v1`, `kind: SLO` (+ `SLI` documents) | Prometheus rule file |
//!
//! Each input document becomes one [`SloGroup`] (and later one output document). Problems are
//! collected, not returned at the first one, and carry file, line and column.

use std::collections::{BTreeMap, HashMap};

use pave_yaml::{Limits, PathSegment, Position};
use serde_json::{Map, Value};

use crate::Diagnostic;
use crate::duration::Duration;
use crate::validate::{self, Field};

/// One SLO, whatever format it came from (Sloth's `PromSLO`).
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// `<service>-<name>`: the `sloth_id` label.
    pub id: String,
    /// The `sloth_slo` label.
    pub name: String,
    /// The `sloth_service` label.
    pub service: String,
    pub description: String,
    /// The objective in percent, in (0, 100].
    pub objective_percent: f64,
    /// Spec-level labels merged with the SLO's own (the SLO's win); extra labels from the
    /// command line are added at generation.
    pub labels: BTreeMap<String, String>,
    pub sli: Sli,
    pub alerting: Alerting,
    /// The SLO period (the default period, or the spec's own for OpenSLO).
    pub period: Duration,
    /// Where the SLO is defined.
    pub source: Source,
}

impl Slo {
    /// The error budget as a ratio, computed as Sloth does for alerts: `(100 - objective) / 100`.
    pub fn error_budget_ratio(&self) -> f64 {
        (100.0 - self.objective_percent) / 100.0
    }

    /// The objective as a ratio (`objective / 100`, e.g. 0.9990000000000001 for 99.9).
    pub fn objective_ratio(&self) -> f64 {
        self.objective_percent / 100.0
    }

    /// The identifying labels every generated series carries.
    pub fn id_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("sloth_id".to_owned(), self.id.clone()),
            ("sloth_service".to_owned(), self.service.clone()),
            ("sloth_slo".to_owned(), self.name.clone()),
        ])
    }

    /// The PromQL selector of this SLO's series:
    /// `{sloth_id="…", sloth_service="…", sloth_slo="…"}`.
    pub fn selector(&self) -> String {
        crate::generate::label_filter(&self.id_labels())
    }
}

/// How the error ratio of an SLO is measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sli {
    /// Bad events over all events; both queries contain `{{.window}}`.
    Events {
        error_query: String,
        total_query: String,
    },
    /// A query that already gives the error ratio; contains `{{.window}}`.
    Raw { error_ratio_query: String },
}

/// The page and ticket alerts of an SLO; `None` when disabled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alerting {
    pub page: Option<AlertMeta>,
    pub ticket: Option<AlertMeta>,
}

/// One enabled alert: its name, labels and annotations (common ones merged with the
/// alert's own, the alert's win).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertMeta {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Where something is defined: file, document (0-based), path and position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub file: String,
    pub doc_index: usize,
    pub path: Vec<PathSegment>,
    pub position: Position,
}

/// The metadata of a `PrometheusServiceLevel`, carried over to its `PrometheusRule`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct K8sMeta {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// The format of an input document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecKind {
    /// Sloth `version: prometheus/v1`.
    Prometheus,
    /// Sloth `sloth.slok.dev/v1` `PrometheusServiceLevel`.
    Kubernetes(K8sMeta),
    /// OpenSLO `openslo/v1alpha` `SLO`.
    OpenSloV1Alpha,
    /// OpenSLO `openslo/v1` `SLO`.
    OpenSloV1,
}

impl SpecKind {
    /// The `sloth_spec` label value.
    pub fn spec_name(&self) -> &'static str {
        match self {
            SpecKind::Prometheus => "prometheus/v1",
            SpecKind::Kubernetes(_) => "sloth.slok.dev/v1",
            SpecKind::OpenSloV1Alpha => "openslo/v1alpha",
            SpecKind::OpenSloV1 => "openslo/v1",
        }
    }

    /// The `sloth_mode` label value of a command-line generation.
    pub fn cli_mode(&self) -> &'static str {
        match self {
            SpecKind::Prometheus => "cli-gen-prom",
            SpecKind::Kubernetes(_) => "cli-gen-k8s",
            SpecKind::OpenSloV1Alpha | SpecKind::OpenSloV1 => "cli-gen-openslo",
        }
    }
}

/// The SLOs of one input document.
#[derive(Debug, Clone, PartialEq)]
pub struct SloGroup {
    pub kind: SpecKind,
    pub doc_index: usize,
    pub slos: Vec<Slo>,
}

/// The SLO documents of one input file, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpecFile {
    pub name: String,
    pub groups: Vec<SloGroup>,
}

/// Every SLO of a set of inputs (files, or the texts of a folder).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SloSet {
    pub files: Vec<SpecFile>,
}

/// How specs are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadOptions {
    /// The period of SLOs whose spec does not set one (all but OpenSLO).
    pub default_period: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_period: Duration::from_days(30),
        }
    }
}

impl SloSet {
    /// Reads the `(name, text)` inputs. Invalid documents are left out and reported; the
    /// valid ones are kept, so `validate` can report every problem at once.
    pub fn load(inputs: &[(&str, &str)], options: &LoadOptions) -> (SloSet, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        // First pass: parse, and index OpenSLO v1 SLI documents by name for `indicatorRef`.
        let mut parsed: Vec<Option<Vec<pave_yaml::Document>>> = Vec::with_capacity(inputs.len());
        for (name, text) in inputs {
            match pave_yaml::parse_documents(text, &Limits::default()) {
                Ok(docs) => parsed.push(Some(docs)),
                Err(e) => {
                    diagnostics.push(Diagnostic::new(name, Some(e.position()), e.to_string()));
                    parsed.push(None);
                }
            }
        }
        let mut slis: HashMap<String, SliDoc> = HashMap::new();
        for ((name, text), docs) in inputs.iter().zip(&parsed) {
            for (index, doc) in docs.iter().flatten().enumerate() {
                if doc.value.get("apiVersion").and_then(Value::as_str) == Some("openslo/v1")
                    && doc.value.get("kind").and_then(Value::as_str) == Some("SLI")
                    && let Some(sli_name) = doc
                        .value
                        .get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str)
                {
                    slis.insert(
                        sli_name.to_owned(),
                        SliDoc {
                            file: (*name).to_owned(),
                            text,
                            doc_index: index,
                            spec: doc.value.get("spec").cloned().unwrap_or(Value::Null),
                        },
                    );
                }
            }
        }
        let mut set = SloSet::default();
        for ((name, text), docs) in inputs.iter().zip(parsed) {
            let Some(docs) = docs else { continue };
            let mut file = SpecFile {
                name: (*name).to_owned(),
                groups: Vec::new(),
            };
            for (index, doc) in docs.iter().enumerate() {
                let mut reader = Reader {
                    file: name,
                    text,
                    doc_index: index,
                    doc_start: doc.start,
                    problems: Vec::new(),
                    options,
                    slis: &slis,
                };
                let group = reader.document(&doc.value);
                let failed = !reader.problems.is_empty();
                diagnostics.append(&mut reader.problems);
                if let Some(mut group) = group.filter(|_| !failed) {
                    locate_positions(doc, &mut group);
                    file.groups.push(group);
                }
            }
            set.files.push(file);
        }
        (set, diagnostics)
    }

    /// Every SLO of the set, in input order.
    pub fn slos(&self) -> impl Iterator<Item = &Slo> {
        self.files
            .iter()
            .flat_map(|f| f.groups.iter())
            .flat_map(|g| g.slos.iter())
    }

    /// SLOs whose id appears more than once in the whole set (Sloth's `validate` check across
    /// files), one diagnostic per repeat.
    pub fn duplicates(&self) -> Vec<Diagnostic> {
        let mut seen: HashMap<&str, &Source> = HashMap::new();
        let mut out = Vec::new();
        for slo in self.slos() {
            if let Some(first) = seen.get(slo.id.as_str()) {
                out.push(Diagnostic::new(
                    &slo.source.file,
                    Some(slo.source.position),
                    format!(
                        "SLO `{}` (service `{}`, name `{}`) is already defined at {}:{}",
                        slo.id, slo.service, slo.name, first.file, first.position
                    ),
                ));
            } else {
                seen.insert(&slo.id, &slo.source);
            }
        }
        out
    }
}

/// An OpenSLO v1 `SLI` document, for `indicatorRef`.
struct SliDoc<'a> {
    file: String,
    text: &'a str,
    doc_index: usize,
    spec: Value,
}

/// Sets the position of every SLO of `group` from the spans recorded while parsing (reading
/// the text again would cost quadratic time in a file of many documents).
fn locate_positions(doc: &pave_yaml::Document, group: &mut SloGroup) {
    for slo in &mut group.slos {
        if let Some(position) = doc.spans.locate(&doc.value, 0, &slo.source.path) {
            slo.source.position = position;
        }
    }
}

/// The position of `path` in document `doc_index`, or of its deepest existing ancestor.
pub(crate) fn position_of(
    text: &str,
    doc_index: usize,
    path: &[PathSegment],
    fallback: Position,
) -> Position {
    pave_yaml::locate(text, doc_index, path).unwrap_or(fallback)
}

fn key(k: &str) -> PathSegment {
    PathSegment::Key(k.to_owned())
}

fn join(path: &[PathSegment], more: &[PathSegment]) -> Vec<PathSegment> {
    let mut out = Vec::with_capacity(path.len() + more.len());
    out.extend_from_slice(path);
    out.extend_from_slice(more);
    out
}

/// Field names of the two Sloth formats (snake case in `prometheus/v1`, camel case in the CRD).
struct SlothKeys {
    error_query: &'static str,
    total_query: &'static str,
    error_ratio_query: &'static str,
    page_alert: &'static str,
    ticket_alert: &'static str,
    slo_plugins: &'static str,
}

const PROMETHEUS_KEYS: SlothKeys = SlothKeys {
    error_query: "error_query",
    total_query: "total_query",
    error_ratio_query: "error_ratio_query",
    page_alert: "page_alert",
    ticket_alert: "ticket_alert",
    slo_plugins: "slo_plugins",
};

const K8S_KEYS: SlothKeys = SlothKeys {
    error_query: "errorQuery",
    total_query: "totalQuery",
    error_ratio_query: "errorRatioQuery",
    page_alert: "pageAlert",
    ticket_alert: "ticketAlert",
    slo_plugins: "sloPlugins",
};

const SUPPORTED: &str = "supported: `version: prometheus/v1`, `apiVersion: sloth.slok.dev/v1` `kind: PrometheusServiceLevel`, `apiVersion: openslo/v1alpha` `kind: SLO`, `apiVersion: openslo/v1` `kind: SLO`";

/// Reads one document, collecting problems with positions.
struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    doc_index: usize,
    doc_start: Position,
    problems: Vec<Diagnostic>,
    options: &'a LoadOptions,
    slis: &'a HashMap<String, SliDoc<'a>>,
}

impl Reader<'_> {
    fn error(&mut self, path: &[PathSegment], message: impl Into<String>) {
        let position = position_of(self.text, self.doc_index, path, self.doc_start);
        self.problems
            .push(Diagnostic::new(self.file, Some(position), message));
    }

    fn source(&self, path: &[PathSegment]) -> Source {
        Source {
            file: self.file.to_owned(),
            doc_index: self.doc_index,
            path: path.to_vec(),
            // Filled for all SLOs of the document at once (`locate_positions`).
            position: self.doc_start,
        }
    }

    /// The mapping at `node[k]`; `None` when absent or null, a problem when not a mapping.
    fn object<'v>(
        &mut self,
        node: &'v Value,
        path: &[PathSegment],
        k: &str,
    ) -> Option<&'v Map<String, Value>> {
        match node.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.error(&join(path, &[key(k)]), format!("`{k}` must be a mapping"));
                None
            }
        }
    }

    fn array<'v>(&mut self, node: &'v Value, path: &[PathSegment], k: &str) -> &'v [Value] {
        match node.get(k) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.error(&join(path, &[key(k)]), format!("`{k}` must be a list"));
                &[]
            }
        }
    }

    fn string(&mut self, node: &Value, path: &[PathSegment], k: &str) -> Option<String> {
        match node.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(&join(path, &[key(k)]), format!("`{k}` must be a string"));
                None
            }
        }
    }

    fn number(&mut self, node: &Value, path: &[PathSegment], k: &str) -> Option<f64> {
        match node.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                self.error(&join(path, &[key(k)]), format!("`{k}` must be a number"));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Value, path: &[PathSegment], k: &str) -> bool {
        match node.get(k) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.error(
                    &join(path, &[key(k)]),
                    format!("`{k}` must be true or false"),
                );
                false
            }
        }
    }

    /// A `map[string]string` (labels, annotations).
    fn string_map(
        &mut self,
        node: &Value,
        path: &[PathSegment],
        k: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(map) = self.object(node, path, k) else {
            return out;
        };
        for (name, value) in map {
            match value {
                Value::String(s) => {
                    out.insert(name.clone(), s.clone());
                }
                other => self.error(
                    &join(path, &[key(k), key(name)]),
                    format!("`{k}.{name}` must be a string (quote it: \"{other}\")"),
                ),
            }
        }
        out
    }

    fn document(&mut self, value: &Value) -> Option<SloGroup> {
        if value.is_null() {
            return None; // an empty document (comments only, trailing `---`)
        }
        if !value.is_object() {
            self.error(
                &[],
                format!("not an SLO spec: expected a mapping ({SUPPORTED})"),
            );
            return None;
        }
        let api_version = value.get("apiVersion").and_then(Value::as_str);
        let kind = value.get("kind").and_then(Value::as_str);
        if let Some(version) = value.get("version") {
            if version.as_str() == Some("prometheus/v1") {
                return self.sloth(value, &[], &PROMETHEUS_KEYS, SpecKind::Prometheus);
            }
            self.error(
                &[key("version")],
                format!("unknown spec version {version} ({SUPPORTED})"),
            );
            return None;
        }
        match (api_version, kind) {
            (Some("sloth.slok.dev/v1"), Some("PrometheusServiceLevel")) => {
                let meta = self.k8s_meta(value);
                let Some(spec) = value.get("spec") else {
                    self.error(&[], "`spec` is required");
                    return None;
                };
                let spec = spec.clone();
                self.sloth(&spec, &[key("spec")], &K8S_KEYS, SpecKind::Kubernetes(meta))
            }
            (Some("openslo/v1alpha"), Some("SLO")) => self.openslo_v1alpha(value),
            (Some("openslo/v1"), Some("SLO")) => self.openslo_v1(value),
            // Other OpenSLO kinds (SLI, Service, DataSource, AlertPolicy…) generate nothing
            // by themselves; SLIs are used through `indicatorRef`.
            (Some("openslo/v1"), Some(_)) => None,
            (Some("sloth.slok.dev/v1"), Some("AlertWindows")) => None,
            (Some(api), kind) => {
                self.error(
                    &[key("apiVersion")],
                    format!(
                        "unknown spec `apiVersion: {api}`{} ({SUPPORTED})",
                        kind.map(|k| format!(", `kind: {k}`")).unwrap_or_default()
                    ),
                );
                None
            }
            (None, _) => {
                self.error(
                    &[],
                    format!("not an SLO spec: no `version` or `apiVersion` ({SUPPORTED})"),
                );
                None
            }
        }
    }

    fn k8s_meta(&mut self, value: &Value) -> K8sMeta {
        let path = [key("metadata")];
        let Some(meta) = value.get("metadata") else {
            self.error(&[], "`metadata.name` is required");
            return K8sMeta::default();
        };
        let name = self.string(meta, &path, "name").unwrap_or_default();
        if name.is_empty() {
            self.error(&path, "`metadata.name` is required");
        }
        K8sMeta {
            name,
            namespace: self
                .string(meta, &path, "namespace")
                .filter(|n| !n.is_empty()),
            labels: self.string_map(meta, &path, "labels"),
            annotations: self.string_map(meta, &path, "annotations"),
        }
    }

    /// Sloth's `prometheus/v1` spec, or the CRD's `spec` (same shape, camel-case keys).
    fn sloth(
        &mut self,
        spec: &Value,
        base: &[PathSegment],
        keys: &SlothKeys,
        kind: SpecKind,
    ) -> Option<SloGroup> {
        if let Some(plugins) = spec.get(keys.slo_plugins)
            && has_plugin_chain(plugins)
        {
            self.error(
                &join(base, &[key(keys.slo_plugins)]),
                "SLO plugins are not supported by pave (remove `slo_plugins`/`sloPlugins`; the core rules are always generated)",
            );
        }
        let service = self.string(spec, base, "service").unwrap_or_default();
        let spec_labels = self.string_map(spec, base, "labels");
        let items = self.array(spec, base, "slos");
        if items.is_empty() {
            self.error(&join(base, &[key("slos")]), "at least one SLO is required");
            return None;
        }
        let mut slos = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = join(base, &[key("slos"), PathSegment::Index(i)]);
            if !item.is_object() {
                self.error(&path, "an SLO must be a mapping");
                continue;
            }
            let before = self.problems.len();
            let name = self.string(item, &path, "name").unwrap_or_default();
            let description = self.string(item, &path, "description").unwrap_or_default();
            let objective = self.number(item, &path, "objective").unwrap_or(0.0);
            let mut labels = spec_labels.clone();
            labels.extend(self.string_map(item, &path, "labels"));
            if let Some(plugins) = item.get("plugins")
                && has_plugin_chain(plugins)
            {
                self.error(
                    &join(&path, &[key("plugins")]),
                    "SLO plugins are not supported by pave",
                );
            }
            let sli = self.sloth_sli(item, &path, keys);
            let alerting = self.sloth_alerting(item, &path, keys);
            let Some(sli) = sli else { continue };
            if self.problems.len() > before {
                continue;
            }
            let slo = Slo {
                id: format!("{service}-{name}"),
                name,
                service: service.clone(),
                description,
                objective_percent: objective,
                labels,
                sli,
                alerting,
                period: self.options.default_period,
                source: self.source(&path),
            };
            self.check(&slo, |field| sloth_field_path(base, &path, keys, field));
            slos.push(slo);
        }
        self.check_unique(&slos);
        Some(SloGroup {
            kind,
            doc_index: self.doc_index,
            slos,
        })
    }

    fn sloth_sli(&mut self, item: &Value, path: &[PathSegment], keys: &SlothKeys) -> Option<Sli> {
        let sli_path = join(path, &[key("sli")]);
        let Some(sli) = item.get("sli").filter(|v| !v.is_null()) else {
            self.error(
                path,
                "invalid SLI: at least one SLI type is required (`events` or `raw`)",
            );
            return None;
        };
        if sli.get("plugin").is_some_and(|p| !p.is_null()) {
            self.error(
                &join(&sli_path, &[key("plugin")]),
                "SLI plugins are not supported by pave (write the query as an `events` or `raw` SLI)",
            );
            return None;
        }
        let events = self.object(sli, &sli_path, "events").cloned();
        let raw = self.object(sli, &sli_path, "raw").cloned();
        match (events, raw) {
            (Some(_), Some(_)) => {
                self.error(&sli_path, "invalid SLI: only one SLI type is allowed");
                None
            }
            (Some(events), None) => {
                let events = Value::Object(events);
                let epath = join(&sli_path, &[key("events")]);
                let error_query = self
                    .string(&events, &epath, keys.error_query)
                    .unwrap_or_default();
                let total_query = self
                    .string(&events, &epath, keys.total_query)
                    .unwrap_or_default();
                Some(Sli::Events {
                    error_query,
                    total_query,
                })
            }
            (None, Some(raw)) => {
                let raw = Value::Object(raw);
                let rpath = join(&sli_path, &[key("raw")]);
                let error_ratio_query = self
                    .string(&raw, &rpath, keys.error_ratio_query)
                    .unwrap_or_default();
                Some(Sli::Raw { error_ratio_query })
            }
            (None, None) => {
                self.error(
                    &sli_path,
                    "invalid SLI: at least one SLI type is required (`events` or `raw`)",
                );
                None
            }
        }
    }

    fn sloth_alerting(&mut self, item: &Value, path: &[PathSegment], keys: &SlothKeys) -> Alerting {
        let apath = join(path, &[key("alerting")]);
        let empty = Value::Object(Map::new());
        let alerting = match item.get("alerting") {
            Some(v @ Value::Object(_)) => v,
            None | Some(Value::Null) => &empty,
            Some(_) => {
                self.error(&apath, "`alerting` must be a mapping");
                &empty
            }
        };
        let name = self.string(alerting, &apath, "name").unwrap_or_default();
        let labels = self.string_map(alerting, &apath, "labels");
        let annotations = self.string_map(alerting, &apath, "annotations");
        let mut alert = |k: &str| -> Option<AlertMeta> {
            let node = alerting.get(k).cloned().unwrap_or(Value::Null);
            let p = join(&apath, &[key(k)]);
            if self.boolean(&node, &p, "disable") {
                return None;
            }
            let mut l = labels.clone();
            l.extend(self.string_map(&node, &p, "labels"));
            let mut a = annotations.clone();
            a.extend(self.string_map(&node, &p, "annotations"));
            Some(AlertMeta {
                name: name.clone(),
                labels: l,
                annotations: a,
            })
        };
        Alerting {
            page: alert(keys.page_alert),
            ticket: alert(keys.ticket_alert),
        }
    }

    /// Runs Sloth's validation on a mapped SLO; `path_of` says where each field lives.
    fn check(&mut self, slo: &Slo, path_of: impl Fn(&Field) -> Vec<PathSegment>) {
        for problem in validate::validate_slo(slo) {
            let path = path_of(&problem.field);
            self.error(
                &path,
                format!("invalid SLO `{}`: {}", slo.id, problem.message),
            );
        }
    }

    fn check_unique(&mut self, slos: &[Slo]) {
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for slo in slos {
            if seen.insert(&slo.id, ()).is_some() {
                let path = slo.source.path.clone();
                self.error(
                    &join(&path, &[key("name")]),
                    format!("SLO ID `{}` is repeated", slo.id),
                );
            }
        }
    }

    /// `spec.objectives`, or a problem when there are none.
    fn objectives<'v>(&mut self, spec: &'v Value, message: &str) -> Option<&'v [Value]> {
        let spec_path = [key("spec")];
        let objectives = self.array(spec, &spec_path, "objectives");
        if objectives.is_empty() {
            self.error(&join(&spec_path, &[key("objectives")]), message);
            return None;
        }
        Some(objectives)
    }

    /// OpenSLO `openslo/v1alpha`, mapped the way Sloth maps it: one SLO per objective, named
    /// `<name>-<index>`, `1 - good/total` as a raw SLI, alerts disabled.
    fn openslo_v1alpha(&mut self, value: &Value) -> Option<SloGroup> {
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let spec_path = [key("spec")];
        let Some(spec) = value.get("spec").filter(|s| s.is_object()) else {
            self.error(&[], "`spec` is required");
            return None;
        };
        let service = self.string(spec, &spec_path, "service").unwrap_or_default();
        let description = self
            .string(spec, &spec_path, "description")
            .unwrap_or_default();
        let windows = self.array(spec, &spec_path, "timeWindows");
        let mut period = self.options.default_period;
        if windows.len() > 1 {
            self.error(
                &join(&spec_path, &[key("timeWindows")]),
                "invalid SLO time windows: only 1 time window is supported",
            );
        } else if let Some(window) = windows.first() {
            let wpath = join(&spec_path, &[key("timeWindows"), PathSegment::Index(0)]);
            let unit = self.string(window, &wpath, "unit").unwrap_or_default();
            if !unit.eq_ignore_ascii_case("day") {
                self.error(
                    &join(&wpath, &[key("unit")]),
                    "invalid SLO time windows: only days based time windows are supported",
                );
            }
            let count = self.number(window, &wpath, "count").unwrap_or(0.0);
            if count < 0.0 || count.fract() != 0.0 {
                self.error(
                    &join(&wpath, &[key("count")]),
                    "`count` must be a whole number of days",
                );
            }
            // A whole, non-negative number checked above; saturating conversion.
            period = Duration::from_days(count.max(0.0) as u64);
        }
        let objectives = self.objectives(spec, "at least one SLO is required")?;
        let mut slos = Vec::new();
        for (i, objective) in objectives.iter().enumerate() {
            let opath = join(&spec_path, &[key("objectives"), PathSegment::Index(i)]);
            let before = self.problems.len();
            let target = self.number(objective, &opath, "target");
            let Some(ratio) = objective.get("ratioMetrics").filter(|r| r.is_object()) else {
                self.error(&opath, "could not map SLI: missing ratioMetrics");
                continue;
            };
            let rpath = join(&opath, &[key("ratioMetrics")]);
            let mut query = |which: &str| -> String {
                let qpath = join(&rpath, &[key(which)]);
                let node = ratio.get(which).cloned().unwrap_or(Value::Null);
                let source = self.string(&node, &qpath, "source").unwrap_or_default();
                if source != "prometheus" && source != "sloth" {
                    self.error(
                        &qpath,
                        format!("prometheus or sloth query ratio '{which}' source is required"),
                    );
                }
                let query_type = self.string(&node, &qpath, "queryType").unwrap_or_default();
                if query_type != "promql" {
                    self.error(
                        &join(&qpath, &[key("queryType")]),
                        format!("unsupported '{which}' indicator query type: {query_type}"),
                    );
                }
                self.string(&node, &qpath, "query").unwrap_or_default()
            };
            let good = query("good");
            let total = query("total");
            let Some(target) = target else {
                self.error(&opath, "`target` is required");
                continue;
            };
            if self.problems.len() > before {
                continue;
            }
            let slo = openslo_slo(
                [&service, &name, &description],
                i,
                target * 100.0,
                BTreeMap::new(),
                Sli::Raw {
                    error_ratio_query: good_total_ratio(&good, &total),
                },
                period,
                self.source(&opath),
            );
            let rp = rpath.clone();
            self.check(&slo, |field| match field {
                Field::Name | Field::Id => vec![key("metadata"), key("name")],
                Field::Service => vec![key("spec"), key("service")],
                Field::Objective => join(&opath, &[key("target")]),
                Field::Period => vec![key("spec"), key("timeWindows")],
                _ => join(&rp, &[key("good"), key("query")]),
            });
            slos.push(slo);
        }
        self.check_unique(&slos);
        Some(SloGroup {
            kind: SpecKind::OpenSloV1Alpha,
            doc_index: self.doc_index,
            slos,
        })
    }

    /// OpenSLO `openslo/v1`: ratio SLIs (inline `indicator` or `indicatorRef` to an `SLI`
    /// document of the same input set), a rolling `timeWindow`, `Occurrences` budgeting.
    fn openslo_v1(&mut self, value: &Value) -> Option<SloGroup> {
        let mpath = [key("metadata")];
        let metadata = value.get("metadata").cloned().unwrap_or(Value::Null);
        let name = self.string(&metadata, &mpath, "name").unwrap_or_default();
        let labels = self.openslo_labels(&metadata);
        let spec_path = [key("spec")];
        let Some(spec) = value.get("spec").filter(|s| s.is_object()) else {
            self.error(&[], "`spec` is required");
            return None;
        };
        let service = self.string(spec, &spec_path, "service").unwrap_or_default();
        let description = self
            .string(spec, &spec_path, "description")
            .unwrap_or_default();
        if let Some(method) = self.string(spec, &spec_path, "budgetingMethod")
            && method != "Occurrences"
        {
            self.error(
                &join(&spec_path, &[key("budgetingMethod")]),
                format!("budgeting method `{method}` is not supported (only `Occurrences`)"),
            );
        }
        let period = self.openslo_time_window(spec);
        let slo_sli = self.openslo_indicator(spec, &spec_path);
        let objectives = self.objectives(spec, "at least one objective is required")?;
        let mut slos = Vec::new();
        for (i, objective) in objectives.iter().enumerate() {
            let opath = join(&spec_path, &[key("objectives"), PathSegment::Index(i)]);
            let before = self.problems.len();
            let objective_percent = match (
                self.number(objective, &opath, "target"),
                self.number(objective, &opath, "targetPercent"),
            ) {
                (Some(t), None) => t * 100.0,
                (None, Some(p)) => p,
                (Some(_), Some(_)) => {
                    self.error(&opath, "set `target` or `targetPercent`, not both");
                    continue;
                }
                (None, None) => {
                    self.error(&opath, "`target` (a ratio) or `targetPercent` is required");
                    continue;
                }
            };
            let own = if objective.get("indicator").is_some()
                || objective.get("indicatorRef").is_some()
            {
                self.openslo_indicator(objective, &opath)
            } else {
                None
            };
            let Some((sli, sli_path)) = own.or_else(|| slo_sli.clone()) else {
                if self.problems.len() == before {
                    self.error(&spec_path, "`indicator` or `indicatorRef` is required");
                }
                continue;
            };
            if self.problems.len() > before {
                continue;
            }
            let slo = openslo_slo(
                [&service, &name, &description],
                i,
                objective_percent,
                labels.clone(),
                sli,
                period.unwrap_or(self.options.default_period),
                self.source(&opath),
            );
            let o = opath.clone();
            self.check(&slo, |field| match field {
                Field::Name | Field::Id => vec![key("metadata"), key("name")],
                Field::Service => vec![key("spec"), key("service")],
                Field::Objective => o.clone(),
                Field::Period => vec![key("spec"), key("timeWindow")],
                Field::Label(k) => vec![key("metadata"), key("labels"), key(k)],
                _ => sli_path.clone(),
            });
            slos.push(slo);
        }
        self.check_unique(&slos);
        Some(SloGroup {
            kind: SpecKind::OpenSloV1,
            doc_index: self.doc_index,
            slos,
        })
    }

    /// `metadata.labels`: strings as they are, lists joined with commas.
    fn openslo_labels(&mut self, metadata: &Value) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(labels) = metadata.get("labels").and_then(Value::as_object) else {
            return out;
        };
        for (k, v) in labels {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            out.insert(k.clone(), value);
        }
        out
    }

    fn openslo_time_window(&mut self, spec: &Value) -> Option<Duration> {
        let path = [key("spec"), key("timeWindow")];
        let windows = self.array(spec, &path[..1], "timeWindow");
        if windows.len() > 1 {
            self.error(&path, "only one time window is supported");
            return None;
        }
        let window = windows.first()?;
        let wpath = join(&path, &[PathSegment::Index(0)]);
        if window.get("calendar").is_some_and(|c| !c.is_null())
            || window.get("isRolling") == Some(&Value::Bool(false))
        {
            self.error(
                &wpath,
                "calendar-aligned time windows are not supported (Sloth SLOs use rolling windows: `isRolling: true`)",
            );
            return None;
        }
        let text = self.string(window, &wpath, "duration")?;
        match Duration::parse(&text) {
            Ok(d) if d.as_millis() > 0 => Some(d),
            _ => {
                self.error(
                    &join(&wpath, &[key("duration")]),
                    format!("invalid duration `{text}` (use m, h, d or w units, e.g. 28d or 4w)"),
                );
                None
            }
        }
    }

    /// The SLI of `node.indicator` or `node.indicatorRef`, with the path to point errors at.
    fn openslo_indicator(
        &mut self,
        node: &Value,
        path: &[PathSegment],
    ) -> Option<(Sli, Vec<PathSegment>)> {
        if let Some(reference) = node.get("indicatorRef") {
            let rpath = join(path, &[key("indicatorRef")]);
            let Some(name) = reference.as_str() else {
                self.error(&rpath, "`indicatorRef` must be the name of an SLI");
                return None;
            };
            let Some(doc) = self.slis.get(name) else {
                self.error(
                    &rpath,
                    format!("no `kind: SLI` document named `{name}` in the inputs"),
                );
                return None;
            };
            let mut inner = Reader {
                file: &doc.file,
                text: doc.text,
                doc_index: doc.doc_index,
                doc_start: Position::default(),
                problems: Vec::new(),
                options: self.options,
                slis: self.slis,
            };
            let sli = inner.openslo_ratio(&doc.spec, &[key("spec")]);
            self.problems.append(&mut inner.problems);
            return sli.map(|s| (s, rpath));
        }
        let indicator = node.get("indicator")?;
        let ipath = join(path, &[key("indicator"), key("spec")]);
        let spec = indicator.get("spec").cloned().unwrap_or(Value::Null);
        self.openslo_ratio(&spec, &ipath).map(|s| (s, ipath))
    }

    /// An SLI `spec`: `ratioMetric` with `good`/`total`, `bad`/`total` or `raw`.
    fn openslo_ratio(&mut self, spec: &Value, path: &[PathSegment]) -> Option<Sli> {
        if spec.get("thresholdMetric").is_some() {
            self.error(
                &join(path, &[key("thresholdMetric")]),
                "threshold SLIs are not supported (use `ratioMetric`)",
            );
            return None;
        }
        let rpath = join(path, &[key("ratioMetric")]);
        let Some(ratio) = spec.get("ratioMetric").filter(|r| r.is_object()) else {
            self.error(path, "`ratioMetric` is required");
            return None;
        };
        let mut query = |which: &str| -> Option<String> {
            let node = ratio.get(which)?;
            let qpath = join(&rpath, &[key(which), key("metricSource")]);
            let Some(source) = node.get("metricSource") else {
                self.error(
                    &join(&rpath, &[key(which)]),
                    format!("`{which}.metricSource` is required"),
                );
                return Some(String::new());
            };
            if let Some(kind) = source.get("type").and_then(Value::as_str)
                && !kind.eq_ignore_ascii_case("prometheus")
            {
                self.error(
                    &join(&qpath, &[key("type")]),
                    format!("metric source type `{kind}` is not supported (only Prometheus)"),
                );
            }
            let spec = source.get("spec").cloned().unwrap_or(Value::Null);
            let q = self.string(&spec, &join(&qpath, &[key("spec")]), "query");
            if q.is_none() {
                self.error(
                    &qpath,
                    format!("`{which}.metricSource.spec.query` is required"),
                );
            }
            Some(q.unwrap_or_default())
        };
        let good = query("good");
        let bad = query("bad");
        let total = query("total");
        let raw = query("raw");
        match (good, bad, total, raw) {
            (Some(good), None, Some(total), None) => Some(Sli::Raw {
                error_ratio_query: good_total_ratio(&good, &total),
            }),
            (None, Some(bad), Some(total), None) => Some(Sli::Events {
                error_query: bad,
                total_query: total,
            }),
            (None, None, None, Some(raw)) => {
                let raw_type = ratio
                    .get("rawType")
                    .and_then(Value::as_str)
                    .unwrap_or("failure");
                match raw_type {
                    "failure" => Some(Sli::Raw {
                        error_ratio_query: raw,
                    }),
                    "success" => Some(Sli::Raw {
                        error_ratio_query: format!("\n  1 - (\n    {raw}\n  )\n"),
                    }),
                    other => {
                        self.error(
                            &join(&rpath, &[key("rawType")]),
                            format!("`rawType` must be `success` or `failure`, not `{other}`"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.error(
                    &rpath,
                    "`ratioMetric` needs `good` and `total`, `bad` and `total`, or `raw`",
                );
                None
            }
        }
    }
}

/// Whether a `slo_plugins`/`plugins` value declares any plugin.
fn has_plugin_chain(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => {
            map.get("chain")
                .is_some_and(|c| c.as_array().is_none_or(|a| !a.is_empty()))
                || map.get("overridePrevious") == Some(&Value::Bool(true))
        }
        _ => true,
    }
}

/// An SLO of OpenSLO objective `index`: `<service>-<name>-<index>`, alerts disabled (as
/// Sloth maps OpenSLO).
fn openslo_slo(
    [service, name, description]: [&str; 3],
    index: usize,
    objective_percent: f64,
    labels: BTreeMap<String, String>,
    sli: Sli,
    period: Duration,
    source: Source,
) -> Slo {
    Slo {
        id: format!("{service}-{name}-{index}"),
        name: format!("{name}-{index}"),
        service: service.to_owned(),
        description: description.to_owned(),
        objective_percent,
        labels,
        sli,
        alerting: Alerting::default(),
        period,
        source,
    }
}

/// Sloth's mapping of OpenSLO good/total queries to an error-ratio query.
fn good_total_ratio(good: &str, total: &str) -> String {
    format!("\n  1 - (\n    (\n      {good}\n    )\n    /\n    (\n      {total}\n    )\n  )\n")
}

fn sloth_field_path(
    base: &[PathSegment],
    slo: &[PathSegment],
    keys: &SlothKeys,
    field: &Field,
) -> Vec<PathSegment> {
    let alert_key = |s: &validate::Severity| match s {
        validate::Severity::Page => keys.page_alert,
        validate::Severity::Ticket => keys.ticket_alert,
    };
    match field {
        Field::Id | Field::Name => join(slo, &[key("name")]),
        Field::Service => join(base, &[key("service")]),
        Field::Objective => join(slo, &[key("objective")]),
        Field::Period => slo.to_vec(),
        Field::Label(k) => join(slo, &[key("labels"), key(k)]),
        Field::Sli => join(slo, &[key("sli")]),
        Field::ErrorQuery => join(slo, &[key("sli"), key("events"), key(keys.error_query)]),
        Field::TotalQuery => join(slo, &[key("sli"), key("events"), key(keys.total_query)]),
        Field::RawQuery => join(slo, &[key("sli"), key("raw"), key(keys.error_ratio_query)]),
        Field::AlertName(_) => join(slo, &[key("alerting"), key("name")]),
        Field::AlertLabel(s, k) => join(
            slo,
            &[key("alerting"), key(alert_key(s)), key("labels"), key(k)],
        ),
        Field::AlertAnnotation(s, k) => join(
            slo,
            &[
                key("alerting"),
                key(alert_key(s)),
                key("annotations"),
                key(k),
            ],
        ),
    }
}
