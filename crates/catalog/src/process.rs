//! The processing pipeline for one entity document, in the order Backstage's orchestrator
//! runs it: envelope → catalog rules → placeholders → pre-processing → policies → kind
//! schema → relations.

use pave_yaml::PathSegment;
use serde_json::{Map, Value};

use crate::entity_ref::{DEFAULT_NAMESPACE, EntityRef};
use crate::format;
use crate::kinds::{self, describe};
use crate::placeholders::{PlaceholderReader, resolve_placeholders};
use crate::problem::{Problem, Stage, path};
use crate::relations::{Relation, derive_relations};

/// The annotation naming the file an entity was read from (`file:/abs/path`).
pub const ANNOTATION_LOCATION: &str = "backstage.io/managed-by-location";
/// The annotation naming the registered location whose walk found the entity.
pub const ANNOTATION_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";

/// Spec arrays Backstage stores sorted, so that relation order is stable.
const SORTED_SPEC_ARRAYS: &[&str] = &[
    "providesApis",
    "consumesApis",
    "dependsOn",
    "dependencyOf",
    "memberOf",
    "children",
    "members",
];

const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

/// Which kinds may enter the catalog (Backstage's `catalog.rules`), compared without case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRules {
    allowed: Vec<String>,
}

impl Default for CatalogRules {
    /// The built-in kinds.
    fn default() -> Self {
        CatalogRules {
            allowed: kinds::builtin_kind_names().map(str::to_owned).collect(),
        }
    }
}

impl CatalogRules {
    pub fn allowing<I: IntoIterator<Item = S>, S: Into<String>>(kinds: I) -> Self {
        CatalogRules {
            allowed: kinds.into_iter().map(Into::into).collect(),
        }
    }

    pub fn allows(&self, kind: &str) -> bool {
        self.allowed
            .iter()
            .any(|k| k == "*" || k.eq_ignore_ascii_case(kind))
    }

    pub fn allowed(&self) -> &[String] {
        &self.allowed
    }
}

/// What processing needs to know about where a document came from.
pub struct ProcessContext<'a> {
    pub rules: &'a CatalogRules,
    /// `backstage.io/managed-by-location`, e.g. `file:/srv/catalog/team-a.yaml`.
    pub location: &'a str,
    /// `backstage.io/managed-by-origin-location`.
    pub origin_location: &'a str,
    /// Resolves placeholders; without one they are left as they are.
    pub placeholders: Option<&'a dyn PlaceholderReader>,
}

/// An accepted entity, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub entity: Value,
    pub entity_ref: EntityRef,
    /// The relations this entity emits (both directions), before stitching.
    pub relations: Vec<Relation>,
    pub warnings: Vec<Problem>,
}

/// A refused document and everything found wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Known when the document got far enough to name itself.
    pub entity_ref: Option<EntityRef>,
    pub problems: Vec<Problem>,
}

/// Runs the pipeline on one parsed document.
pub fn process_entity(raw: Value, ctx: &ProcessContext<'_>) -> Result<Processed, Rejected> {
    let mut entity = raw;
    let mut problems = Vec::new();

    // Envelope.
    let entity_ref = check_envelope(&entity, &mut problems);
    let entity_ref = match entity_ref {
        Some(r) if problems.is_empty() => r,
        other => {
            return Err(Rejected {
                entity_ref: other,
                problems,
            });
        }
    };
    let reject = |problems: Vec<Problem>| Rejected {
        entity_ref: Some(entity_ref.clone()),
        problems,
    };

    // Catalog rules.
    if !ctx.rules.allows(&entity_ref.kind) {
        let allowed = ctx.rules.allowed().join(", ");
        return Err(reject(vec![Problem::error(
            Stage::Rules,
            path(&["kind"]),
            format!(
                "kind `{}` is not allowed by catalog.rules (allowed: {allowed}); add it to `catalog.rules` in pave.yaml to accept it",
                entity_ref.kind
            ),
        )]));
    }

    // Placeholders.
    if let Some(reader) = ctx.placeholders {
        resolve_placeholders(&mut entity, reader, &mut problems);
        if !problems.is_empty() {
            return Err(reject(problems));
        }
    }

    // Pre-processing: stable array order, location annotations, default namespace.
    let Some(root) = entity.as_object_mut() else {
        return Err(reject(problems));
    };
    if let Some(Value::Object(spec)) = root.get_mut("spec") {
        for field in SORTED_SPEC_ARRAYS {
            if let Some(Value::Array(items)) = spec.get_mut(*field)
                && items.iter().all(Value::is_string)
            {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
    }
    if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
        if !metadata.contains_key("namespace") {
            metadata.insert("namespace".into(), Value::String(DEFAULT_NAMESPACE.into()));
        }
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(annotations) = annotations {
            annotations.insert(
                ANNOTATION_LOCATION.into(),
                Value::String(ctx.location.into()),
            );
            annotations.insert(
                ANNOTATION_ORIGIN_LOCATION.into(),
                Value::String(ctx.origin_location.into()),
            );
        }
    }

    // Policies.
    check_root_fields(root, &mut problems);
    check_metadata(root.get("metadata"), &mut problems);
    if let Some(api_version) = root.get("apiVersion").and_then(Value::as_str)
        && !format::is_valid_api_version(api_version)
    {
        problems.push(Problem::error(
                Stage::Policy,
                path(&["apiVersion"]),
                format!("apiVersion \"{api_version}\" is not valid: expected [<dns-subdomain>/]<version>, e.g. backstage.io/v1alpha1"),
            ));
    }
    if !format::is_valid_kind(&entity_ref.kind) {
        problems.push(Problem::error(
            Stage::Policy,
            path(&["kind"]),
            format!(
                "kind \"{}\" is not valid: expected a letter followed by letters and digits, at most 63 characters",
                entity_ref.kind
            ),
        ));
    }

    // Kind schema.
    let api_version = root
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut warnings = Vec::new();
    match kinds::builtin_kind(&entity_ref.kind) {
        Some(spec) if spec.api_versions.contains(&api_version) => {
            spec.check_spec(root.get("spec"), &mut problems);
        }
        Some(spec) => problems.push(Problem::error(
            Stage::Kind,
            path(&["apiVersion"]),
            format!(
                "apiVersion \"{api_version}\" is not supported for kind {}; use {}",
                spec.kind,
                spec.api_versions.join(" or ")
            ),
        )),
        None => match kinds::builtin_kind_ignoring_case(&entity_ref.kind) {
            Some(spec) => problems.push(Problem::error(
                Stage::Kind,
                path(&["kind"]),
                format!(
                    "kind \"{}\" is not recognised: kinds are case-sensitive, did you mean \"{}\"?",
                    entity_ref.kind, spec.kind
                ),
            )),
            None => warnings.push(Problem::warning(
                Stage::Kind,
                path(&["kind"]),
                format!(
                    "kind \"{}\" has no built-in schema; the entity is kept without spec validation or relations",
                    entity_ref.kind
                ),
            )),
        },
    }
    if !problems.is_empty() {
        return Err(reject(problems));
    }

    // Relations.
    let relations = derive_relations(&entity, &entity_ref).map_err(reject)?;
    Ok(Processed {
        entity,
        entity_ref,
        relations,
        warnings,
    })
}

/// Checks the envelope and returns the entity's reference when it can be formed.
fn check_envelope(entity: &Value, problems: &mut Vec<Problem>) -> Option<EntityRef> {
    let Value::Object(root) = entity else {
        problems.push(Problem::error(
            Stage::Envelope,
            vec![],
            format!(
                "a catalog document must be a mapping with apiVersion, kind and metadata, found {}",
                describe(entity)
            ),
        ));
        return None;
    };
    let mut string_field = |map: &Map<String, Value>, at: &[&str]| -> Option<String> {
        let key = at.last().copied().unwrap_or_default();
        let shown = at.join(".");
        match map.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                problems.push(Problem::error(
                    Stage::Envelope,
                    path(at),
                    format!("`{shown}` must not be empty"),
                ));
                None
            }
            Some(other) => {
                problems.push(Problem::error(
                    Stage::Envelope,
                    path(at),
                    format!("`{shown}` must be a string, found {}", describe(other)),
                ));
                None
            }
            None => {
                problems.push(Problem::error(
                    Stage::Envelope,
                    path(at),
                    format!("`{shown}` is required"),
                ));
                None
            }
        }
    };
    let _api_version = string_field(root, &["apiVersion"]);
    let kind = string_field(root, &["kind"]);
    let name = match root.get("metadata") {
        Some(Value::Object(metadata)) => string_field(metadata, &["metadata", "name"]),
        Some(other) => {
            problems.push(Problem::error(
                Stage::Envelope,
                path(&["metadata"]),
                format!("`metadata` must be a mapping, found {}", describe(other)),
            ));
            None
        }
        None => {
            problems.push(Problem::error(
                Stage::Envelope,
                path(&["metadata"]),
                "`metadata` is required",
            ));
            None
        }
    };
    if let Some(spec) = root.get("spec")
        && !spec.is_object()
    {
        problems.push(Problem::error(
            Stage::Envelope,
            path(&["spec"]),
            format!("`spec` must be a mapping, found {}", describe(spec)),
        ));
    }
    let namespace = root
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_NAMESPACE);
    Some(EntityRef::new(&kind?, namespace, &name?))
}

fn check_root_fields(root: &Map<String, Value>, problems: &mut Vec<Problem>) {
    for key in root.keys() {
        if !ROOT_FIELDS.contains(&key.as_str()) {
            problems.push(Problem::error(
                Stage::Policy,
                vec![PathSegment::Key(key.clone())],
                format!(
                    "unknown top-level field `{key}`: only apiVersion, kind, metadata and spec are allowed (relations and status are computed by the catalog)"
                ),
            ));
        }
    }
}

const NAME_RULE: &str = "1-63 characters of [a-zA-Z0-9] separated by -, _ or .";

fn check_metadata(metadata: Option<&Value>, problems: &mut Vec<Problem>) {
    let Some(Value::Object(metadata)) = metadata else {
        return;
    };
    let at = |keys: &[&str]| -> Vec<PathSegment> {
        let mut p = vec![PathSegment::Key("metadata".into())];
        p.extend(keys.iter().map(|k| PathSegment::Key((*k).into())));
        p
    };
    let mut err = |path: Vec<PathSegment>, message: String| {
        problems.push(Problem::error(Stage::Policy, path, message));
    };

    if let Some(Value::String(name)) = metadata.get("name")
        && !format::is_valid_object_name(name)
    {
        err(
            at(&["name"]),
            format!("metadata.name \"{name}\" is not valid: expected {NAME_RULE}"),
        );
    }
    match metadata.get("namespace") {
        Some(Value::String(ns)) if !format::is_valid_namespace(ns) => err(
            at(&["namespace"]),
            format!(
                "metadata.namespace \"{ns}\" is not valid: expected 1-63 characters of lower-case [a-z0-9] separated by -"
            ),
        ),
        Some(Value::String(_)) | None => {}
        Some(other) => err(
            at(&["namespace"]),
            format!(
                "metadata.namespace must be a string, found {}",
                describe(other)
            ),
        ),
    }
    for field in ["title", "description"] {
        if let Some(value) = metadata.get(field)
            && !value.is_string()
        {
            err(
                at(&[field]),
                format!(
                    "metadata.{field} must be a string, found {}",
                    describe(value)
                ),
            );
        }
    }
    for field in ["labels", "annotations"] {
        match metadata.get(field) {
            None => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let path = || at(&[field, key]);
                    if !format::is_valid_label_key(key) {
                        err(
                            path(),
                            format!(
                                "metadata.{field} key \"{key}\" is not valid: expected [<prefix>/]<name> where the prefix is a DNS subdomain and the name is {NAME_RULE}"
                            ),
                        );
                    }
                    match value {
                        Value::String(v)
                            if field == "labels" && !format::is_valid_label_value(v) =>
                        {
                            err(
                                path(),
                                format!(
                                    "metadata.labels.{key} value \"{v}\" is not valid: expected an empty string or {NAME_RULE}"
                                ),
                            )
                        }
                        Value::String(_) => {}
                        other => err(
                            path(),
                            format!(
                                "metadata.{field}.{key} must be a string, found {}",
                                describe(other)
                            ),
                        ),
                    }
                }
            }
            Some(other) => err(
                at(&[field]),
                format!(
                    "metadata.{field} must be a mapping of strings, found {}",
                    describe(other)
                ),
            ),
        }
    }
    match metadata.get("tags") {
        None => {}
        Some(Value::Array(tags)) => {
            for (i, tag) in tags.iter().enumerate() {
                let mut path = at(&["tags"]);
                path.push(PathSegment::Index(i));
                match tag {
                    Value::String(t) if format::is_valid_tag(t) => {}
                    Value::String(t) => err(
                        path,
                        format!(
                            "metadata.tags.{i} \"{t}\" is not valid: expected 1-63 lower-case characters of [a-z0-9:+#] separated by -"
                        ),
                    ),
                    other => err(
                        path,
                        format!(
                            "metadata.tags.{i} must be a string, found {}",
                            describe(other)
                        ),
                    ),
                }
            }
        }
        Some(other) => err(
            at(&["tags"]),
            format!("metadata.tags must be a list, found {}", describe(other)),
        ),
    }
    match metadata.get("links") {
        None => {}
        Some(Value::Array(links)) => {
            for (i, link) in links.iter().enumerate() {
                let mut base = at(&["links"]);
                base.push(PathSegment::Index(i));
                let Value::Object(link) = link else {
                    err(
                        base,
                        format!(
                            "metadata.links.{i} must be a mapping with a url, found {}",
                            describe(link)
                        ),
                    );
                    continue;
                };
                let mut url_path = base.clone();
                url_path.push(PathSegment::Key("url".into()));
                match link.get("url") {
                    Some(Value::String(u)) if format::is_valid_url(u) => {}
                    Some(Value::String(u)) => err(
                        url_path,
                        format!("metadata.links.{i}.url \"{u}\" is not a valid absolute URL"),
                    ),
                    Some(other) => err(
                        url_path,
                        format!(
                            "metadata.links.{i}.url must be a string, found {}",
                            describe(other)
                        ),
                    ),
                    None => err(url_path, format!("metadata.links.{i}.url is required")),
                }
                for field in ["title", "icon", "type"] {
                    let mut p = base.clone();
                    p.push(PathSegment::Key(field.into()));
                    match link.get(field) {
                        None => {}
                        Some(Value::String(s)) if !s.trim().is_empty() => {}
                        Some(other) => err(
                            p,
                            format!(
                                "metadata.links.{i}.{field} must be a non-empty string, found {}",
                                describe(other)
                            ),
                        ),
                    }
                }
            }
        }
        Some(other) => err(
            at(&["links"]),
            format!("metadata.links must be a list, found {}", describe(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(rules: &CatalogRules) -> ProcessContext<'_> {
        ProcessContext {
            rules,
            location: "file:/cat/a.yaml",
            origin_location: "file:/cat/root.yaml",
            placeholders: None,
        }
    }

    fn errors(raw: Value) -> Vec<String> {
        let rules = CatalogRules::default();
        match process_entity(raw, &ctx(&rules)) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(r) => r
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.dotted_path(), p.message))
                .collect(),
        }
    }

    fn component(spec: Value) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "svc"}, "spec": spec})
    }

    #[test]
    fn accepts_and_completes_a_valid_component() {
        let rules = CatalogRules::default();
        let raw = component(
            json!({"type": "service", "lifecycle": "production", "owner": "team-a",
            "dependsOn": ["resource:b", "resource:a"]}),
        );
        let p = process_entity(raw, &ctx(&rules)).unwrap();
        assert_eq!(p.entity_ref.key(), "component:default/svc");
        assert_eq!(p.entity["metadata"]["namespace"], "default");
        assert_eq!(
            p.entity["metadata"]["annotations"][ANNOTATION_LOCATION],
            "file:/cat/a.yaml"
        );
        assert_eq!(
            p.entity["spec"]["dependsOn"],
            json!(["resource:a", "resource:b"])
        );
        assert_eq!(p.relations.len(), 6);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn envelope_problems_are_all_reported() {
        assert_eq!(
            errors(json!({"kind": 3, "metadata": {"name": ""}})),
            vec![
                "apiVersion: `apiVersion` is required",
                "kind: `kind` must be a string, found a number (3)",
                "metadata.name: `metadata.name` must not be empty",
            ]
        );
        assert_eq!(
            errors(json!(["a"])),
            vec![
                ": a catalog document must be a mapping with apiVersion, kind and metadata, found a list"
            ]
        );
    }

    #[test]
    fn kind_schema_problems_name_the_field() {
        assert_eq!(
            errors(component(json!({"type": "", "owner": 42}))),
            vec![
                "spec.type: `spec.type` must not be empty",
                "spec.lifecycle: `spec.lifecycle` is required",
                "spec.owner: `spec.owner` must be a string, found a number (42)",
            ]
        );
    }

    #[test]
    fn kinds_are_case_sensitive_and_versions_checked() {
        let mut raw = component(json!({"type": "s", "lifecycle": "l", "owner": "o"}));
        raw["kind"] = json!("component");
        assert_eq!(
            errors(raw.clone()),
            vec![
                "kind: kind \"component\" is not recognised: kinds are case-sensitive, did you mean \"Component\"?"
            ]
        );
        raw["kind"] = json!("Component");
        raw["apiVersion"] = json!("backstage.io/v2");
        assert!(errors(raw)[0].contains("not supported for kind Component"));
    }

    #[test]
    fn templates_are_scaffolder_v1beta3_with_steps() {
        let template = |api_version: &str, spec: Value| {
            json!({"apiVersion": api_version, "kind": "Template",
                "metadata": {"name": "react-ssr-template", "title": "React SSR"}, "spec": spec})
        };
        let spec = json!({"owner": "web@example.com", "type": "website",
            "parameters": [{"title": "Name", "required": ["name"], "properties": {"name": {"type": "string"}}}],
            "steps": [{"id": "fetch", "name": "Fetch", "action": "fetch:template", "input": {"url": "./skeleton"}},
                      {"id": "publish", "action": "publish:github", "if": "${{ parameters.publish }}"}],
            "output": {"links": [{"title": "Repository", "url": "${{ steps.publish.output.remoteUrl }}"}]}});
        let rules = CatalogRules::default();
        let accepted = process_entity(
            template("scaffolder.backstage.io/v1beta3", spec.clone()),
            &ctx(&rules),
        )
        .unwrap();
        assert_eq!(
            accepted.entity_ref.key(),
            "template:default/react-ssr-template"
        );
        assert!(
            accepted
                .relations
                .iter()
                .any(|r| r.relation == crate::RelationType::OwnedBy
                    && r.target == "group:default/web@example.com"),
            "{:?}",
            accepted.relations
        );

        assert!(
            errors(template("backstage.io/v1alpha1", spec.clone()))[0]
                .contains("not supported for kind Template")
        );
        let mut without_steps = spec.clone();
        without_steps.as_object_mut().unwrap().remove("steps");
        assert!(
            errors(template("scaffolder.backstage.io/v1beta3", without_steps))
                .iter()
                .any(|e| e.starts_with("spec.steps")),
        );
        let mut bad_step = spec;
        bad_step["steps"][1] = json!({"id": "publish", "action": 3});
        assert!(
            errors(template("scaffolder.backstage.io/v1beta3", bad_step))
                .iter()
                .any(|e| e.starts_with("spec.steps.1.action")),
        );
    }

    #[test]
    fn unknown_kinds_follow_the_rules() {
        let raw = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "gizmo"}, "spec": {"owner": "x"}});
        assert!(errors(raw.clone())[0].contains("not allowed by catalog.rules"));
        let rules = CatalogRules::allowing(["Component", "Widget"]);
        let p = process_entity(raw, &ctx(&rules)).unwrap();
        assert_eq!(p.entity_ref.key(), "widget:default/gizmo");
        assert_eq!(p.warnings.len(), 1);
        assert!(p.relations.is_empty());
    }

    #[test]
    fn policy_problems() {
        let raw = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "payments@v2", "namespace": "Team_A", "labels": {"a/b/c": "x", "tier": "gold tier"},
                         "tags": ["go", "Java"], "links": [{"url": "not a url", "title": ""}]},
            "spec": {"type": "s", "lifecycle": "l", "owner": "o"}, "extra": 1});
        let got = errors(raw);
        assert_eq!(got.len(), 8, "{got:#?}");
        assert!(got[0].starts_with("extra: unknown top-level field"));
        assert!(
            got.iter()
                .any(|e| e.starts_with("metadata.tags.1: metadata.tags.1 \"Java\""))
        );
        assert!(got.iter().any(|e| e.starts_with("metadata.links.0.url:")));
    }
}
