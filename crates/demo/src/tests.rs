//! File-level checks of both generators. There is no YAML parser here, so `Doc` reads back
//! the block layout this crate writes (two-space indents, one key or item per line).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{BenchSummary, DemoSummary, write_bench_catalog, write_demo_org};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "pave-demo-test-{label}-{}-{unique}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Every file under `root`, keyed by `/`-separated relative path.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(key, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// One YAML document, flattened to `(path, value)` pairs: `kind`, `metadata.name`,
/// `spec.owner`, one `spec.providesApis` pair per item, `spec.definition.$text`, ….
#[derive(Debug, Default)]
struct Doc {
    fields: Vec<(String, String)>,
}

impl Doc {
    fn parse_stream(text: &str) -> Vec<Doc> {
        let mut docs = vec![Doc::default()];
        let (mut top, mut second) = (String::new(), String::new());
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            if line == "---" {
                docs.push(Doc::default());
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let content = line.trim_start();
            let doc = docs.last_mut().unwrap();
            if let Some(item) = content.strip_prefix("- ") {
                // Items of `spec.x` lists; mapping items such as links are skipped.
                if indent == 4 && !item.contains(": ") {
                    doc.push(format!("{top}.{second}"), item);
                }
                continue;
            }
            let (key, value) = match content.split_once(": ") {
                Some((key, value)) => (key, value),
                None => (content.trim_end_matches(':'), ""),
            };
            match indent {
                0 => top = key.to_owned(),
                2 => second = key.to_owned(),
                _ => {}
            }
            if value.is_empty() {
                continue;
            }
            match indent {
                0 => doc.push(key.to_owned(), value),
                2 => doc.push(format!("{top}.{key}"), value),
                4 => doc.push(format!("{top}.{second}.{key}"), value),
                _ => {}
            }
        }
        docs.retain(|doc| !doc.fields.is_empty());
        docs
    }

    fn push(&mut self, path: String, value: &str) {
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .map_or_else(
                || value.to_owned(),
                |v| v.replace("\\\"", "\"").replace("\\\\", "\\"),
            );
        self.fields.push((path, value));
    }

    fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
    }

    /// The items of a list (or the value of a scalar); `[]` is an empty list, not an item.
    fn all(&self, path: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(p, v)| p == path && v != "[]")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn kind(&self) -> &str {
        self.get("kind").unwrap_or("")
    }

    fn name(&self) -> &str {
        self.get("metadata.name").unwrap_or("")
    }

    /// `kind:name`, lower-cased the way Backstage compares refs.
    fn key(&self) -> String {
        format!("{}:{}", self.kind(), self.name()).to_lowercase()
    }
}

/// Resolves a ref the way Backstage does: `kind:name`, or a bare name of `default_kind`.
fn ref_key(target: &str, default_kind: Option<&str>) -> String {
    match (target.split_once(':'), default_kind) {
        (Some((kind, name)), _) => format!("{kind}:{name}").to_lowercase(),
        (None, Some(kind)) => format!("{kind}:{target}").to_lowercase(),
        (None, None) => panic!("`{target}` needs a kind"),
    }
}

/// Spec fields holding refs, per kind, with the kind a bare name defaults to.
fn ref_fields(kind: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match kind {
        "Component" => &[
            ("spec.owner", Some("group")),
            ("spec.system", Some("system")),
            ("spec.providesApis", Some("api")),
            ("spec.consumesApis", Some("api")),
            ("spec.dependsOn", None),
        ],
        "API" | "Resource" => &[
            ("spec.owner", Some("group")),
            ("spec.system", Some("system")),
            ("spec.dependsOn", None),
        ],
        "System" => &[
            ("spec.owner", Some("group")),
            ("spec.domain", Some("domain")),
        ],
        "Domain" => &[("spec.owner", Some("group"))],
        "Group" => &[
            ("spec.parent", Some("group")),
            ("spec.children", Some("group")),
            ("spec.members", Some("user")),
        ],
        "User" => &[("spec.memberOf", Some("group"))],
        "Template" => &[("spec.owner", Some("group"))],
        _ => &[],
    }
}

/// Backstage's `metadata.name` rule.
fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Backstage's tag rule: `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`, at most 63 characters.
fn is_valid_tag(tag: &str) -> bool {
    tag.len() <= 63
        && tag.split('-').all(|word| {
            !word.is_empty()
                && word.bytes().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
                })
        })
}

/// Spec fields each kind requires.
fn required_spec_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Component" => &["type", "lifecycle", "owner"],
        "API" => &["type", "lifecycle", "owner", "definition"],
        "Resource" => &["type", "owner"],
        "System" | "Domain" => &["owner"],
        "Group" => &["type", "children"],
        "User" => &["memberOf"],
        "Location" => &["targets"],
        "Template" => &["type", "steps"],
        _ => &["unknown kind"],
    }
}

fn has_spec_field(doc: &Doc, field: &str) -> bool {
    let path = format!("spec.{field}");
    let nested = format!("{path}.");
    doc.fields
        .iter()
        .any(|(p, _)| *p == path || p.starts_with(&nested))
}

/// A file of a registered template's folder (`templates/<name>/template/…`): the
/// template's own `template.yaml` and skeleton, not catalog descriptors.
fn in_template_folder(path: &str) -> bool {
    path.strip_prefix("templates/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, inner)| inner.starts_with("template/"))
}

/// The entity documents of every descriptor file (API definitions excluded).
fn entity_docs(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, Doc)> {
    files
        .iter()
        .filter(|(path, _)| {
            path.ends_with(".yaml")
                && !path.contains("/definitions/")
                && !path.starts_with("slos/")
                && !in_template_folder(path)
        })
        .flat_map(|(path, bytes)| {
            Doc::parse_stream(text(bytes))
                .into_iter()
                .map(move |doc| (path.clone(), doc))
        })
        .collect()
}

fn root_targets(files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let docs = Doc::parse_stream(text(&files["catalog-info.yaml"]));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].kind(), "Location");
    docs[0]
        .all("spec.targets")
        .into_iter()
        .map(|target| target.strip_prefix("./").unwrap().to_owned())
        .collect()
}

/// Every entity is well-formed, unique, and every ref in it names an entity that exists.
fn assert_valid_and_resolved(docs: &[(String, Doc)]) {
    let mut keys = HashSet::new();
    for (path, doc) in docs {
        let api_version = match doc.kind() {
            "Template" => "scaffolder.backstage.io/v1beta3",
            _ => "backstage.io/v1alpha1",
        };
        assert_eq!(doc.get("apiVersion"), Some(api_version), "{path}");
        assert!(is_valid_name(doc.name()), "{path}: name {:?}", doc.name());
        assert!(keys.insert(doc.key()), "{path}: duplicate {}", doc.key());
        for tag in doc.all("metadata.tags") {
            assert!(is_valid_tag(tag), "{path}: tag {tag:?}");
        }
        for field in required_spec_fields(doc.kind()) {
            assert!(
                has_spec_field(doc, field),
                "{path}: {} lacks {field}",
                doc.key()
            );
        }
    }
    for (path, doc) in docs {
        for (field, default_kind) in ref_fields(doc.kind()) {
            for target in doc.all(field) {
                let key = ref_key(target, *default_kind);
                assert!(
                    keys.contains(&key),
                    "{path}: {} {field} -> {key}",
                    doc.key()
                );
                assert_ne!(key, doc.key(), "{path}: self reference");
            }
        }
    }
}

fn count_kind(docs: &[(String, Doc)], kind: &str) -> usize {
    docs.iter().filter(|(_, doc)| doc.kind() == kind).count()
}

// ---- demo organisation ----

fn demo_files() -> (DemoSummary, BTreeMap<String, Vec<u8>>) {
    let dir = TempDir::new("demo");
    let summary = write_demo_org(dir.path()).unwrap();
    (summary, read_tree(dir.path()))
}

#[test]
fn demo_summary_meets_the_minimums_and_matches_the_files() {
    let (summary, files) = demo_files();
    let docs = entity_docs(&files);

    let teams = docs
        .iter()
        .filter(|(_, d)| d.kind() == "Group" && d.get("spec.type") == Some("team"))
        .count();
    assert!(teams >= 8, "{teams} teams");
    assert!(summary.groups >= teams + 3, "{summary:?}");
    assert!(summary.users >= teams * 3 && summary.users <= teams * 6);
    assert_eq!(summary.domains, 4);
    assert_eq!(summary.systems, 10);
    assert_eq!(summary.components, 60);
    assert_eq!(summary.apis, 32);
    assert_eq!(summary.resources, 10);
    assert_eq!(summary.templates, 1);
    assert_eq!(summary.locations, 1);
    assert_eq!(summary.files, files.len());

    for (kind, expected) in [
        ("Group", summary.groups),
        ("User", summary.users),
        ("Domain", summary.domains),
        ("System", summary.systems),
        ("Component", summary.components),
        ("API", summary.apis),
        ("Resource", summary.resources),
        ("Template", summary.templates),
        ("Location", summary.locations),
    ] {
        assert_eq!(count_kind(&docs, kind), expected, "{kind}");
        let lines = files
            .iter()
            .filter(|(path, _)| !in_template_folder(path))
            .flat_map(|(_, bytes)| text(bytes).lines())
            .filter(|line| *line == format!("kind: {kind}"))
            .count();
        assert_eq!(lines, expected, "`kind: {kind}` lines");
    }
}

#[test]
fn demo_root_location_lists_exactly_the_entity_files() {
    let (_, files) = demo_files();
    let targets = root_targets(&files);
    let listed: HashSet<&str> = targets.iter().map(String::as_str).collect();
    assert_eq!(listed.len(), targets.len(), "duplicate targets");
    let entity_files: HashSet<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|path| {
            *path != "catalog-info.yaml"
                && !path.starts_with("apis/definitions/")
                && !path.starts_with("slos/")
                && !path.starts_with("services/")
                && !in_template_folder(path)
        })
        .collect();
    assert_eq!(listed, entity_files);
    for expected in ["org/groups.yaml", "org/users.yaml", "domains.yaml"] {
        assert!(listed.contains(expected), "{expected}");
    }
}

#[test]
fn demo_entities_are_valid_and_every_ref_resolves() {
    let (_, files) = demo_files();
    assert_valid_and_resolved(&entity_docs(&files));
}

/// The registered golden path: its entity names the folder beside it, which holds a pave
/// template (manifest and skeleton), and the demo's root lists the entity file only.
#[test]
fn demo_registers_a_golden_path_template() {
    let (_, files) = demo_files();
    let docs = entity_docs(&files);
    let templates: Vec<&(String, Doc)> = docs
        .iter()
        .filter(|(_, d)| d.kind() == "Template")
        .collect();
    let [(path, template)] = templates.as_slice() else {
        panic!("{} templates", templates.len());
    };
    assert_eq!(path, "templates/python-library/catalog-info.yaml");
    assert_eq!(
        template.get("metadata.annotations.pave.dev/template-ref"),
        Some("dir:./template")
    );
    assert_eq!(template.get("spec.owner"), Some("developer-experience"));
    let manifest = text(&files["templates/python-library/template/template.yaml"]);
    assert!(manifest.contains("\napiVersion: pave.dev/v1alpha1\nkind: Template\n"));
    assert!(manifest.contains("\n  name: python-library\n"));
    let skeleton: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("templates/python-library/template/skeleton/"))
        .collect();
    assert!(skeleton.len() >= 5, "{skeleton:?}");
    assert!(root_targets(&files).contains(&path.clone()));
}

#[test]
fn demo_components_look_realistic() {
    let (_, files) = demo_files();
    let docs = entity_docs(&files);
    let components: Vec<&Doc> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.kind() == "Component")
        .collect();
    let of_type = |t: &str| {
        components
            .iter()
            .filter(|d| d.get("spec.type") == Some(t))
            .count()
    };
    assert!(of_type("service") * 2 > components.len());
    assert!(of_type("website") > 0 && of_type("library") > 0 && of_type("worker") > 0);
    assert_eq!(
        of_type("service") + of_type("website") + of_type("library") + of_type("worker"),
        components.len()
    );
    let production = components
        .iter()
        .filter(|d| d.get("spec.lifecycle") == Some("production"))
        .count();
    assert!(production * 4 > components.len() * 3);
    for doc in &components {
        let name = doc.name();
        assert!(doc.get("metadata.description").is_some(), "{name}");
        assert!(!doc.all("metadata.tags").is_empty(), "{name}");
        assert_eq!(
            doc.get("metadata.annotations.github.com/project-slug"),
            Some(format!("northwind/{name}").as_str())
        );
        // Each component's docs folder, with its mkdocs.yml and pages.
        let techdocs = doc.get("metadata.annotations.backstage.io/techdocs-ref");
        assert_eq!(techdocs, Some(format!("dir:../services/{name}").as_str()));
        for page in ["mkdocs.yml", "docs/index.md", "docs/runbook.md"] {
            let path = format!("services/{name}/{page}");
            assert!(files.contains_key(&path), "{path} not written");
        }
        assert!(doc.get("spec.system").is_some(), "{name}");
    }
    let links = files
        .values()
        .flat_map(|bytes| text(bytes).lines())
        .filter(|line| line.trim_start().starts_with("- url: https://"))
        .count();
    assert!(links >= components.len(), "{links} links");
    assert!(components.iter().any(|d| d.get("metadata.title").is_some()));
    assert!(components.iter().any(|d| {
        d.all("spec.dependsOn")
            .iter()
            .any(|r| r.starts_with("resource:"))
    }));
}

#[test]
fn demo_groups_and_users_agree_on_membership() {
    let (_, files) = demo_files();
    let docs = entity_docs(&files);
    let groups: HashMap<&str, &Doc> = docs
        .iter()
        .filter(|(_, d)| d.kind() == "Group")
        .map(|(_, d)| (d.name(), d))
        .collect();
    let organizations: Vec<_> = groups
        .values()
        .filter(|g| g.get("spec.type") == Some("organization"))
        .collect();
    assert_eq!(organizations.len(), 1);
    let departments = groups
        .values()
        .filter(|g| g.get("spec.type") == Some("department"))
        .count();
    assert!((2..=3).contains(&departments));

    for group in groups.values() {
        for child in group.all("spec.children") {
            assert_eq!(groups[child].get("spec.parent"), Some(group.name()));
        }
        if let Some(parent) = group.get("spec.parent") {
            assert!(groups[parent].all("spec.children").contains(&group.name()));
        }
        assert!(group.get("metadata.description").is_some());
        assert!(group.get("spec.profile.displayName").is_some());
        assert!(group.get("spec.profile.email").is_some());
        if group.get("spec.type") == Some("team") {
            let members = group.all("spec.members").len();
            assert!((3..=6).contains(&members), "{}: {members}", group.name());
        }
    }
    for (_, user) in docs.iter().filter(|(_, d)| d.kind() == "User") {
        let name = user.name();
        assert!(name.contains('.'), "{name}");
        assert!(user.get("spec.profile.displayName").is_some());
        assert!(user.get("spec.profile.email").is_some());
        let teams = user.all("spec.memberOf");
        assert!(!teams.is_empty());
        for team in teams {
            assert!(groups[team].all("spec.members").contains(&name), "{name}");
        }
    }
}

#[test]
fn demo_api_definitions_are_written_and_referenced() {
    let (_, files) = demo_files();
    let mut referenced = HashSet::new();
    let mut types = HashMap::new();
    for (path, doc) in entity_docs(&files) {
        if doc.kind() != "API" {
            continue;
        }
        *types
            .entry(doc.get("spec.type").unwrap().to_owned())
            .or_insert(0) += 1;
        let target = doc.get("spec.definition.$text").unwrap();
        let relative = target.strip_prefix("./").unwrap();
        let base = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let resolved = format!("{base}/{relative}");
        let definition = text(files.get(&resolved).unwrap_or_else(|| panic!("{resolved}")));
        match doc.get("spec.type").unwrap() {
            "openapi" => {
                assert!(definition.contains("\nopenapi: \"3.0.3\"\n"), "{resolved}");
                assert!(definition.contains("\npaths:\n"), "{resolved}");
                assert!(definition.contains("requestBody:") || definition.contains("in: query"));
            }
            "asyncapi" => {
                assert!(definition.contains("\nasyncapi: \"2.6.0\"\n"), "{resolved}");
                assert!(definition.contains("\nchannels:\n"), "{resolved}");
                assert!(definition.contains("payload:"), "{resolved}");
            }
            "graphql" => {
                assert!(resolved.ends_with(".graphql"));
                assert!(definition.contains("\ntype Query {\n"), "{resolved}");
            }
            "grpc" => {
                assert!(resolved.ends_with(".proto"));
                assert!(definition.contains("syntax = \"proto3\";"), "{resolved}");
                assert!(definition.contains("service "), "{resolved}");
            }
            other => panic!("unexpected API type {other}"),
        }
        let lines = definition.lines().count();
        assert!((20..=200).contains(&lines), "{resolved}: {lines} lines");
        referenced.insert(resolved);
    }
    let written: HashSet<String> = files
        .keys()
        .filter(|path| path.starts_with("apis/definitions/"))
        .cloned()
        .collect();
    assert_eq!(
        referenced, written,
        "definitions without an API, or the reverse"
    );
    // Mostly OpenAPI and AsyncAPI, and every kind the portal lays out: gRPC and GraphQL too.
    assert!(
        types["openapi"] + types["asyncapi"] >= 29,
        "{types:?}: fewer than 29 OpenAPI/AsyncAPI APIs"
    );
    assert!(types["openapi"] > types["asyncapi"] + types["grpc"] + types["graphql"]);
    assert!(types["asyncapi"] >= 1);
    assert_eq!(types["grpc"], 2);
    assert_eq!(types["graphql"], 1);
    assert_eq!(types.values().sum::<usize>(), 32, "{types:?}");
}

#[test]
fn demo_orders_api_has_the_expected_operations() {
    let (_, files) = demo_files();
    let orders = text(&files["apis/definitions/orders-api.yaml"]);
    for expected in [
        "  /orders:\n    get:\n",
        "    post:\n      operationId: createOrder\n",
        "  \"/orders/{orderId}\":\n",
        "      operationId: getOrder\n",
        "  \"/orders/{orderId}/cancel\":\n",
        "$ref: \"#/components/schemas/NewOrder\"",
    ] {
        assert!(orders.contains(expected), "missing {expected:?}\n{orders}");
    }
}

#[test]
fn demo_output_is_deterministic_and_overwrites() {
    let first = TempDir::new("demo-a");
    let second = TempDir::new("demo-b");
    write_demo_org(first.path()).unwrap();
    // A second run into the same directory replaces the files in place.
    let again = write_demo_org(first.path()).unwrap();
    let other = write_demo_org(second.path()).unwrap();
    assert_eq!(again, other);
    assert_eq!(read_tree(first.path()), read_tree(second.path()));
}

// ---- benchmark catalog ----

fn bench_files(components: usize) -> (BenchSummary, BTreeMap<String, Vec<u8>>) {
    let dir = TempDir::new("bench");
    let summary = write_bench_catalog(dir.path(), components).unwrap();
    (summary, read_tree(dir.path()))
}

#[test]
fn bench_1000_has_the_documented_counts() {
    let (summary, files) = bench_files(1000);
    assert_eq!(summary.entities, 1000 + 50 + 20 + 100);
    assert_eq!(summary.files, files.len());
    let bytes: usize = files.values().map(Vec::len).sum();
    assert_eq!(summary.bytes, bytes as u64);

    let docs = entity_docs(&files);
    for (kind, expected) in [
        ("Component", 1000),
        ("Group", 50),
        ("System", 20),
        ("API", 100),
        ("Location", 1),
    ] {
        assert_eq!(count_kind(&docs, kind), expected, "{kind}");
    }
}

#[test]
fn bench_files_hold_at_most_1000_entities_and_are_all_listed() {
    let (summary, files) = bench_files(2500);
    assert_eq!(summary.entities, 2500 + 125 + 50 + 250);
    let targets = root_targets(&files);
    let listed: HashSet<&str> = targets.iter().map(String::as_str).collect();
    let entity_files: HashSet<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|path| *path != "catalog-info.yaml")
        .collect();
    assert_eq!(listed, entity_files);
    assert!(listed.contains("components-0003.yaml"));
    let mut total = 0;
    for target in &targets {
        let body = text(&files[target]);
        let entities = body
            .lines()
            .filter(|line| line.starts_with("apiVersion: "))
            .count();
        let separators = body.lines().filter(|line| *line == "---").count();
        assert!(entities <= 1000, "{target}: {entities}");
        assert_eq!(separators + 1, entities, "{target}");
        total += entities;
    }
    assert_eq!(total, summary.entities);
}

#[test]
fn bench_components_have_about_six_resolvable_relations() {
    let (_, files) = bench_files(1000);
    let docs = entity_docs(&files);
    assert_valid_and_resolved(&docs);
    let mut relations = 0;
    let mut components = 0;
    for (_, doc) in docs.iter().filter(|(_, d)| d.kind() == "Component") {
        assert_eq!(doc.all("spec.providesApis").len(), 1);
        assert!((1..=2).contains(&doc.all("spec.consumesApis").len()));
        let depends = doc.all("spec.dependsOn");
        assert_eq!(depends.len(), 1);
        assert!(depends[0].starts_with("component:"));
        relations += ref_fields("Component")
            .iter()
            .map(|(field, _)| doc.all(field).len())
            .sum::<usize>();
        components += 1;
    }
    let average = relations as f64 / components as f64;
    assert!(
        (5.0..=6.5).contains(&average),
        "{average} relations per component"
    );
    for (_, api) in docs.iter().filter(|(_, d)| d.kind() == "API") {
        assert_eq!(api.get("spec.type"), Some("openapi"));
        assert_eq!(api.get("spec.lifecycle"), Some("production"));
        // An inline literal block, not a placeholder.
        assert_eq!(api.get("spec.definition"), Some("|"));
    }
}

#[test]
fn bench_output_is_deterministic() {
    let first = TempDir::new("bench-a");
    let second = TempDir::new("bench-b");
    let a = write_bench_catalog(first.path(), 700).unwrap();
    let b = write_bench_catalog(second.path(), 700).unwrap();
    assert_eq!(a, b);
    assert_eq!(read_tree(first.path()), read_tree(second.path()));
}

#[test]
fn bench_tiny_catalogs_still_have_one_of_each() {
    for (components, expected) in [(0, 3), (1, 4), (19, 22)] {
        let (summary, files) = bench_files(components);
        assert_eq!(summary.entities, expected, "N={components}");
        let docs = entity_docs(&files);
        assert_valid_and_resolved(&docs);
        for kind in ["Group", "System", "API"] {
            assert_eq!(count_kind(&docs, kind), 1, "N={components} {kind}");
        }
    }
}

#[test]
fn production_services_have_valid_slo_specs_their_entities_point_at() {
    let (_, files) = demo_files();
    let specs: Vec<(String, String)> = files
        .iter()
        .filter(|(path, _)| path.starts_with("slos/"))
        .map(|(path, bytes)| (path.clone(), String::from_utf8(bytes.clone()).unwrap()))
        .collect();
    assert!(specs.len() >= 3, "{} SLO specs", specs.len());
    let inputs: Vec<(&str, &str)> = specs
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (set, problems) = pave_slo::SloSet::load(&inputs, &pave_slo::LoadOptions::default());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(set.slos().count(), specs.len() * 2);
    // Every spec is named by exactly one component, relative to its entity file.
    let annotated: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.starts_with("systems/"))
        .flat_map(|(_, bytes)| text(bytes).lines().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|line| {
            let value = line.trim().strip_prefix("pave.dev/slo: ")?;
            value
                .trim_matches('"')
                .strip_prefix("../")
                .map(str::to_owned)
        })
        .collect();
    let mut named: Vec<&str> = specs.iter().map(|(p, _)| p.as_str()).collect();
    named.sort_unstable();
    let mut annotated_sorted: Vec<&str> = annotated.iter().map(String::as_str).collect();
    annotated_sorted.sort_unstable();
    assert_eq!(named, annotated_sorted);
}
