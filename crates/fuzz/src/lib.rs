//! Fuzz targets: one function per parser of untrusted input, taking raw bytes. Each must
//! return, whatever the bytes: an error is fine, a panic, an abort or a hang is a bug.
//!
//! The targets are plain functions so that two drivers share them: `cargo test` replays the
//! kept corpora (`corpus/<target>/`, the seeds and every input a fuzzer found that once
//! crashed), and `bench/fuzz.sh` runs each under AFL++ (`afl/`, built with `cargo afl` on the
//! stable toolchain) for coverage-guided search.
//!
//! Inputs that carry more than a body say so in their first bytes (documented per target),
//! so the fuzzer mutates file names, headers and sources too.

use pave_catalog::query::{EntityFilter, FieldSelection, Predicate};
use pave_catalog::{CatalogRules, ProcessContext, process_entity};
use pave_policy::{Exceptions, Policy, PolicyConfig};

/// A fuzz target: any bytes, and it returns.
pub type Target = fn(&[u8]);

/// Every target, by name (the corpus folder and `PAVE_FUZZ_TARGET`).
pub const TARGETS: &[(&str, Target)] = &[
    ("yaml", yaml),
    ("catalog_file", catalog_file),
    ("catalog_query", catalog_query),
    ("guardrails", guardrails),
    ("admission_review", admission_review),
    ("policy_config", policy_config),
    ("slo_spec", slo_spec),
    ("score", score),
    ("template_manifest", template_manifest),
    ("webhook", webhook),
    ("search", search),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Fuzzers produce bytes; the parsers read text as pave does (lossy for non-UTF-8, which
/// the readers before them report).
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The first line, and the rest.
fn first_line(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (text(&data[..i]), &data[i + 1..]),
        None => (String::new(), data),
    }
}

const NOW: i64 = 1_780_000_000;

/// A YAML stream, with pave's limits (nesting, aliases, size).
pub fn yaml(data: &[u8]) {
    let _ = pave_yaml::parse_documents(&text(data), &pave_yaml::Limits::default());
}

/// A catalog file: every document through entity validation and relation building, as a
/// registered location's files are.
pub fn catalog_file(data: &[u8]) {
    let Ok(docs) = pave_yaml::parse_documents(&text(data), &pave_yaml::Limits::default()) else {
        return;
    };
    let rules = CatalogRules::default();
    let context = ProcessContext {
        rules: &rules,
        location: "file:/fuzz/catalog-info.yaml",
        origin_location: "file:/fuzz/catalog-info.yaml",
        placeholders: None,
    };
    for doc in docs {
        let _ = process_entity(doc.value, &context);
    }
}

/// The catalog API's query strings: each line a `filter` value, a `fields` value, and the
/// whole input as a `by-query` JSON predicate.
pub fn catalog_query(data: &[u8]) {
    let all = text(data);
    let lines: Vec<&str> = all.lines().collect();
    let _ = EntityFilter::parse(&lines);
    let _ = FieldSelection::parse(&lines);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = Predicate::parse(&value);
    }
}

/// `pave check` on one file: manifests, Terraform plans, Dockerfiles, GitHub workflows and
/// catalog files, told apart by name and content, then every built-in rule. The first line
/// is the file name (`deploy.yaml`, `plan.json`, `Dockerfile`, `.github/workflows/ci.yml`).
pub fn guardrails(data: &[u8]) {
    let (name, body) = first_line(data);
    let name = if name.trim().is_empty() {
        "input.yaml".to_owned()
    } else {
        name
    };
    let docs = match pave_policy::load(&name, text(body), None, &pave_yaml::Limits::default()) {
        Ok(docs) => docs,
        Err(_) => return,
    };
    let policy = Policy::new(PolicyConfig::default(), Exceptions::default());
    let _ = policy.check(&docs, Vec::new(), NOW);
}

/// An AdmissionReview request body, as the webhook receives it.
pub fn admission_review(data: &[u8]) {
    let policy = Policy::new(PolicyConfig::default(), Exceptions::default());
    let _ = pave_check::admission::review(
        &policy,
        pave_check::admission::FailurePolicy::default(),
        data,
        NOW,
    );
}

/// `pave-policy.yaml` and an exceptions file (the same bytes read as both).
pub fn policy_config(data: &[u8]) {
    let text = text(data);
    let _ = PolicyConfig::parse("pave-policy.yaml", &text);
    let _ = Exceptions::parse("exceptions.yaml", &text);
}

/// SLO specs (Sloth, Sloth Kubernetes, OpenSLO), and the rules generated from what loads.
pub fn slo_spec(data: &[u8]) {
    let text = text(data);
    let (set, _) =
        pave_slo::SloSet::load(&[("slo.yaml", &text)], &pave_slo::LoadOptions::default());
    let _ = pave_slo::generate(
        &set,
        &pave_slo::WindowsCatalog::builtin(),
        &pave_slo::GenerateOptions::default(),
    );
}

/// A Score workload file.
pub fn score(data: &[u8]) {
    let _ = pave_workload::Workload::parse("score.yaml", &text(data));
}

/// A golden-path template's `template.yaml`.
pub fn template_manifest(data: &[u8]) {
    let _ = pave_template::Manifest::parse(&text(data));
}

/// A webhook delivery. The first byte picks the source (GitHub, GitLab, CDEvents, Argo CD,
/// Flux, PagerDuty, Opsgenie, Alertmanager, in that order, modulo 8); then `Name: value`
/// header lines up to an empty line; then the body.
pub fn webhook(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let sources = pave_events::Source::ALL;
    let source = sources[usize::from(selector) % sources.len()];
    let mut headers = Vec::new();
    let mut body = rest;
    loop {
        let (line, after) = first_line(body);
        if line.is_empty() {
            body = after;
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        if after.len() == body.len() {
            break;
        }
        body = after;
    }
    let _ = pave_events::read(source, &headers, body, &pave_events::ReadOptions::default());
}

/// Search: the first line is what someone typed (searched as a full query, filtered by
/// itself as a kind and a tag, and as type-ahead), the rest a docs page's Markdown, indexed
/// first. Both come from users: neither may make the index fail.
pub fn search(data: &[u8]) {
    let (typed, page) = first_line(data);
    let index = search_index();
    let (title, headings, body) = pave_search::page_text(&text(page));
    let site = pave_search::Site {
        entity_key: "component:default/fuzz".to_owned(),
        fingerprint: data.len() as u64,
        pages: vec![pave_search::PageDoc {
            entity_key: "component:default/fuzz".to_owned(),
            entity_name: "fuzz".to_owned(),
            entity_kind: "Component".to_owned(),
            title: title.unwrap_or_default(),
            headings,
            body,
            ..pave_search::PageDoc::default()
        }],
    };
    // An error here would be tantivy's own, not this input's; a panic is what is looked for.
    let _ = index.sync_pages([site], false);
    for typeahead in [false, true] {
        let mut request = pave_search::SearchRequest::new(&typed);
        request.typeahead = typeahead;
        let _ = index.search(&request);
        request.filter(pave_search::Dimension::Kind, &typed);
        request.filter(pave_search::Dimension::Tag, &typed);
        let _ = index.search(&request);
    }
}

/// A small index, built once per process (building one per input would hide the search
/// path's cost under the writer's).
fn search_index() -> &'static pave_search::SearchIndex {
    static INDEX: std::sync::OnceLock<pave_search::SearchIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let index = pave_search::SearchIndex::new(1).unwrap_or_else(|e| panic!("{e}"));
        let entities: Vec<(String, String)> = ["payments", "payments-api", "ledger", "café-ü"]
            .iter()
            .map(|name| {
                (
                    format!("component:default/{name}"),
                    serde_json::json!({"kind": "Component",
                        "metadata": {"name": name, "tags": ["go", "kafka"], "description": "Takes card payments"},
                        "spec": {"type": "service", "owner": "group:default/payments"}})
                    .to_string(),
                )
            })
            .collect();
        let _ = index.sync_entities(entities.iter().map(|(k, j)| (k.as_str(), "1", j.as_str())));
        index
    })
}
