//! Conformance with Backstage's own catalog backend, on the corpus in `../shared/corpus/backstage`
//! (see its README): same entities, relations and facets as Backstage computed from its example
//! catalog, except two deliberate improvements, and the same verdicts on invalid descriptors.
//!
//! The corpus is not part of the repository. Without it these tests skip, except under
//! `CI=true`, where they fail.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pave_ingest::{IngestConfig, Source, build_catalog, ingest, register, validate};
use pave_store::Store;
use pave_store_sqlite::SqliteStore;
use serde_json::Value;

/// The two entities pave has and Backstage did not: relative `$text` is resolved.
const IMPROVED: &[&str] = &["api:default/petstore", "api:default/petstore-webhook"];

fn corpus() -> Option<PathBuf> {
    pave_testkit::corpus("backstage", "expected/split/entities.json")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn entity_key(e: &Value) -> String {
    format!(
        "{}:{}/{}",
        e["kind"].as_str().unwrap().to_lowercase(),
        e["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_lowercase(),
        e["metadata"]["name"].as_str().unwrap().to_lowercase()
    )
}

/// Replaces machine-specific parts as the corpus does: the examples path, uids, etags and the
/// SHA-1 in generated Location names.
fn normalise(mut e: Value, root: &str) -> Value {
    let text = e.to_string().replace(root, "EXAMPLES_ROOT");
    e = serde_json::from_str(&text).unwrap();
    let metadata = e["metadata"].as_object_mut().unwrap();
    metadata.insert("uid".into(), "UID".into());
    metadata.insert("etag".into(), "ETAG".into());
    if metadata["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("generated-"))
    {
        let target = e["spec"]["target"].as_str().unwrap().to_owned();
        e["metadata"]["name"] = Value::String(format!("generated-SHA1(file:{target})"));
    }
    e
}

fn relations(e: &Value) -> BTreeSet<(String, String)> {
    e["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_owned(),
                r["targetRef"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn ingest_split(corpus: &Path, store: &SqliteStore) -> pave_ingest::IngestReport {
    let examples = corpus.join("examples");
    let roots = [
        "all-apis",
        "all-components",
        "all-domains",
        "all-resources",
        "all-systems",
        "acme-corp",
    ];
    let sources: Vec<Source> = roots
        .iter()
        .map(|r| Source::Path(examples.join(format!("{r}.yaml"))))
        .collect();
    let locations = register(store, &sources).await.unwrap();
    ingest(store, &IngestConfig::default(), &locations, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn split_catalog_matches_backstage() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let report = ingest_split(&corpus, &store).await;
    for d in report.diagnostics() {
        println!("{d}");
    }
    let root = std::fs::canonicalize(corpus.join("examples"))
        .unwrap()
        .display()
        .to_string();
    let catalog = build_catalog(store.entities().await.unwrap());
    let ours: BTreeMap<String, Value> = catalog
        .records()
        .iter()
        .map(|r| {
            let e = normalise(r.entity(), &root);
            (entity_key(&e), e)
        })
        .collect();
    let expected: BTreeMap<String, Value> = read_json(&corpus.join("expected/split/entities.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (entity_key(e), e.clone()))
        .collect();

    // The improvements exist, with their definitions read from the relative files.
    for key in IMPROVED {
        let api = ours.get(*key).unwrap_or_else(|| panic!("{key} missing"));
        assert!(
            api["spec"]["definition"]
                .as_str()
                .is_some_and(|d| d.contains("openapi")),
            "{key}"
        );
    }
    let extra: Vec<&String> = ours
        .keys()
        .filter(|k| !expected.contains_key(*k) && !IMPROVED.contains(&k.as_str()))
        .collect();
    let missing: Vec<&String> = expected.keys().filter(|k| !ours.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "entities Backstage does not have: {extra:?}"
    );
    assert!(
        missing.is_empty(),
        "entities Backstage has and pave lacks: {missing:?}"
    );

    let (mut entities_matched, mut relations_matched, mut relations_expected) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for (key, want) in &expected {
        let got = &ours[key];
        for field in ["apiVersion", "kind", "metadata", "spec"] {
            if got[field] != want[field] {
                mismatches.push(format!(
                    "{key} {field}:\n  pave:      {}\n  backstage: {}",
                    got[field], want[field]
                ));
            }
        }
        let want_rel = relations(want);
        // Relations that exist only because pave has the improved entities are set aside.
        let got_rel: BTreeSet<_> = relations(got)
            .into_iter()
            .filter(|(t, target)| {
                !IMPROVED.contains(&target.as_str())
                    || want_rel.contains(&(t.clone(), target.clone()))
            })
            .collect();
        relations_expected += want_rel.len();
        relations_matched += want_rel.intersection(&got_rel).count();
        if got_rel != want_rel {
            mismatches.push(format!(
                "{key} relations:\n  pave:      {got_rel:?}\n  backstage: {want_rel:?}"
            ));
        } else if got["metadata"] == want["metadata"] && got["spec"] == want["spec"] {
            entities_matched += 1;
        }
    }
    println!(
        "conformance: {entities_matched}/{} entities and {relations_matched}/{relations_expected} relations match Backstage; {} improved entities added",
        expected.len(),
        IMPROVED.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Facets, computed without the improvements, equal Backstage's.
    let without: Vec<_> = store
        .entities()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !IMPROVED.contains(&r.entity_ref.as_str()))
        .collect();
    let facet_names: Vec<String> = ["kind", "spec.type", "metadata.tags"]
        .map(String::from)
        .to_vec();
    let facets = build_catalog(without).facets(None, None, &facet_names);
    let expected_facets = read_json(&corpus.join("expected/split/facets.json"));
    for (name, values) in facets {
        let want: Vec<(String, u64)> = expected_facets["facets"][&name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap().to_owned(),
                    v["count"].as_u64().unwrap(),
                )
            })
            .collect();
        let got: Vec<(String, u64)> = values.into_iter().map(|(v, c)| (v, c as u64)).collect();
        assert_eq!(got, want, "facet {name}");
    }
}

#[tokio::test]
async fn a_missing_location_target_does_not_drop_its_siblings() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let examples = corpus.join("examples");
    let sources = [
        Source::Path(examples.join("all.yaml")),
        Source::Path(examples.join("acme-corp.yaml")),
    ];
    let locations = register(&store, &sources).await.unwrap();
    let report = ingest(&store, &IngestConfig::default(), &locations, None)
        .await
        .unwrap();
    let missing: Vec<String> = report
        .diagnostics()
        .filter(|d| d.message.contains("all-ai-resources.yaml"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].contains(
            "all.yaml:8:7: error: location target ./all-ai-resources.yaml does not exist"
        ),
        "{}",
        missing[0]
    );
    let refs: Vec<String> = store
        .entities()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entity_ref)
        .collect();
    let components = refs.iter().filter(|r| r.starts_with("component:")).count();
    assert_eq!(components, 13, "every component still ingested");
    assert!(refs.contains(&"location:default/example-all".to_owned()));
}

#[test]
fn invalid_descriptors_get_backstage_verdicts() {
    let Some(corpus) = corpus() else { return };
    let expected = read_json(&corpus.join("expected/invalid.json"));
    let config = IngestConfig::default();
    let mut agree = 0;
    let files = expected.as_object().unwrap();
    for (file, verdict) in files {
        let report = validate(&[corpus.join("invalid").join(file)], &config);
        let valid = report.errors() == 0;
        let want = verdict["valid"].as_bool().unwrap();
        println!(
            "{file}: backstage {} | pave {}",
            if want { "valid" } else { "invalid" },
            if valid { "valid" } else { "invalid" }
        );
        println!(
            "  backstage: {}",
            verdict["error"]
                .as_str()
                .unwrap_or("-")
                .lines()
                .next()
                .unwrap_or("")
        );
        for d in &report.diagnostics {
            println!("  pave:      {d}");
            // Every problem pave reports about a document points at a line.
            assert!(d.line.is_some(), "{file}: no position in {d}");
        }
        assert_eq!(valid, want, "{file}");
        agree += 1;
    }
    println!("verdicts: {agree}/{} agree with Backstage", files.len());
}

#[tokio::test]
async fn duplicate_refs_keep_the_first_claimant() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("pave.db"))
        .await
        .unwrap();
    let invalid = corpus.join("invalid");
    let sources = [
        Source::Path(invalid.join("19-duplicate-a.yaml")),
        Source::Path(invalid.join("20-duplicate-b.yaml")),
    ];
    let locations = register(&store, &sources).await.unwrap();
    let report = ingest(&store, &IngestConfig::default(), &locations, None)
        .await
        .unwrap();
    assert_eq!(report.totals().conflicts, 1);
    let row = store
        .entities()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.entity_ref == "component:default/dup-service")
        .unwrap();
    let body: Value = serde_json::from_str(&row.body).unwrap();
    assert_eq!(body["metadata"]["description"], "first copy");
}

#[test]
fn example_files_get_backstage_verdicts_except_resolved_placeholders() {
    let Some(corpus) = corpus() else { return };
    let expected = read_json(&corpus.join("expected/examples-validation.json"));
    let config = IngestConfig::default();
    let mut agree = 0;
    let files = expected["files"].as_object().unwrap();
    for (file, verdict) in files {
        // Validate the file alone: its Location targets are checked by the ingest tests.
        let dir = tempfile::tempdir().unwrap();
        let source = corpus.join("examples").join(file);
        let copy = dir.path().join(source.file_name().unwrap());
        std::fs::copy(&source, &copy).unwrap();
        for sibling in ["petstore.oas.yaml", "petstore-webhook.oas.yaml"] {
            let s = source.parent().unwrap().join(sibling);
            if s.exists() {
                std::fs::copy(&s, dir.path().join(sibling)).unwrap();
            }
        }
        let text = std::fs::read_to_string(&copy).unwrap();
        if text.contains("kind: Location") {
            continue;
        }
        let report = validate(&[copy], &config);
        let valid = report.errors() == 0;
        let mut want = verdict["valid"].as_bool().unwrap();
        if file.ends_with("petstore-api.yaml") || file.ends_with("petstore-webhook-api.yaml") {
            want = true; // the deliberate improvement
        }
        assert_eq!(valid, want, "{file}: {:?}", report.diagnostics);
        agree += 1;
    }
    println!("example verdicts: {agree} files agree");
}
