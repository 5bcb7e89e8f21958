//! SLOs attached to catalog entities: the `pave.dev/slo` annotation names SLO spec files
//! (comma-separated, relative to the entity's catalog file), read into the snapshot each time
//! the index is rebuilt (the specs may change when the entities do not).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use pave_catalog::Catalog;
use pave_ingest::SourceFile;
use pave_slo::{LoadOptions, SloSet, WindowsCatalog};
use pave_slo_status::SloTarget;
use pave_store::LocationRow;
use serde_json::Value;

/// The annotation naming an entity's SLO spec files.
pub const ANNOTATION: &str = "pave.dev/slo";

/// Largest SLO spec file read.
const MAX_SPEC_BYTES: u64 = 4 * 1024 * 1024;

/// One SLO attached to an entity.
#[derive(Debug, Clone)]
pub struct SloSummary {
    pub id: String,
    pub name: String,
    pub service: String,
    pub description: String,
    pub objective_percent: f64,
    /// The period, e.g. `30d`.
    pub window: String,
    /// The spec file, as shown.
    pub file: String,
    /// What to read from Prometheus (`None` when the period has no alert windows).
    pub target: Option<SloTarget>,
}

/// The SLOs of one entity and the problems found reading them.
#[derive(Debug, Clone, Default)]
pub struct EntitySlos {
    pub slos: Vec<SloSummary>,
    pub problems: Vec<String>,
}

/// Entity key (`kind:namespace/name`, lower case) → its SLOs.
#[derive(Debug, Default)]
pub struct SloIndex {
    entities: HashMap<String, EntitySlos>,
}

impl SloIndex {
    /// The SLOs of the entity with index key `key`.
    pub fn get(&self, key: &str) -> Option<&EntitySlos> {
        self.entities.get(key)
    }

    /// Entities with the annotation.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The keys of the entities of `catalog` that carry the annotation.
    pub fn annotated(catalog: &Catalog) -> Vec<String> {
        catalog
            .records()
            .iter()
            .filter(|record| record.json.contains(ANNOTATION))
            .filter(|record| annotation(&record.entity(), ANNOTATION).is_some())
            .map(|record| record.key.to_string())
            .collect()
    }

    /// Reads the specs of every entity of `catalog` that carries the annotation, relative to
    /// its catalog file in `sources` (by entity key). Problems are kept per entity (and
    /// logged); nothing here fails.
    pub fn build(
        catalog: &Catalog,
        sources: &HashMap<String, Result<SourceFile, String>>,
    ) -> SloIndex {
        let windows = WindowsCatalog::builtin();
        let mut entities = HashMap::new();
        for record in catalog.records() {
            if !record.json.contains(ANNOTATION) {
                continue;
            }
            let entity = record.entity();
            let Some(value) = annotation(&entity, ANNOTATION) else {
                continue;
            };
            let slos = match sources.get(&*record.key) {
                Some(Ok(source)) => entity_slos(source, value, &windows),
                Some(Err(problem)) => EntitySlos {
                    problems: vec![problem.clone()],
                    ..EntitySlos::default()
                },
                None => EntitySlos {
                    problems: vec![
                        "the entity's catalog file is not known (it is no longer stored)"
                            .to_owned(),
                    ],
                    ..EntitySlos::default()
                },
            };
            for problem in &slos.problems {
                tracing::warn!(entity = %record.key, "{problem}");
            }
            entities.insert(record.key.to_string(), slos);
        }
        SloIndex { entities }
    }
}

fn annotation<'a>(entity: &'a Value, key: &str) -> Option<&'a str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

/// The catalog file an entity's SLO spec paths are relative to, from what ingestion stored
/// with the entity: its location and the file's key there.
pub fn spec_source(
    location: &LocationRow,
    location_key: &str,
    git_cache: &Path,
) -> Result<SourceFile, String> {
    pave_ingest::source_file(location, location_key, git_cache).map_err(|e| {
        format!("SLO specs are read only from file and git sources checked out locally: {e}")
    })
}

/// Resolves one annotation entry against the catalog file's folder, refusing absolute
/// paths, URLs and paths that leave the source root.
pub fn resolve(source: &SourceFile, target: &str) -> Result<PathBuf, String> {
    if target.contains("://") {
        return Err(format!(
            "{ANNOTATION}: {target}: remote specs are not fetched (name a file inside the source)"
        ));
    }
    if Path::new(target).is_absolute() {
        return Err(format!(
            "{ANNOTATION}: {target}: absolute paths are not allowed (name a file relative to the catalog file)"
        ));
    }
    let path = pave_fs::resolve_lexically(source.dir(), target);
    if !path.starts_with(&source.boundary) {
        // Where it leads is not named: the message reaches the portal.
        return Err(format!(
            "{ANNOTATION}: {target}: is outside the source root"
        ));
    }
    Ok(path)
}

/// How a spec file is named to users (the portal, problems): relative to the source root,
/// never the server's own folders.
fn shown(path: &Path, boundary: &Path) -> String {
    match path.strip_prefix(boundary) {
        Ok(relative) => relative.display().to_string(),
        Err(_) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Reads `path` (bounded, UTF-8), refusing symbolic links that lead out of `boundary`.
fn read_spec(path: &Path, boundary: &Path) -> Result<String, String> {
    use pave_fs::ReadError;
    let name = shown(path, boundary);
    pave_fs::read_inside(path, boundary, MAX_SPEC_BYTES)
        .and_then(pave_fs::into_text)
        .map_err(|e| match e {
            ReadError::NotFound => format!("{name}: the SLO spec does not exist"),
            ReadError::OutsideRoot { .. } => format!("{name}: leads outside the source root"),
            e => match e.position() {
                Some(at) => format!("{name}:{}:{}: {e}", at.line, at.column),
                None => format!("{name}: {e}"),
            },
        })
}

fn entity_slos(source: &SourceFile, value: &str, windows: &WindowsCatalog) -> EntitySlos {
    let mut out = EntitySlos::default();
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for target in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let text = resolve(source, target).and_then(|path| {
            let text = read_spec(&path, &source.boundary)?;
            Ok((path, text))
        });
        match text {
            Ok((path, text)) => {
                let name = shown(&path, &source.boundary);
                if seen.insert(name.clone()) {
                    inputs.push((name, text));
                }
            }
            Err(problem) => out.problems.push(problem),
        }
    }
    if value.split(',').all(|t| t.trim().is_empty()) {
        out.problems.push(format!(
            "{ANNOTATION} is empty (name SLO spec files, comma-separated)"
        ));
    }
    let refs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (set, mut problems) = SloSet::load(&refs, &LoadOptions::default());
    problems.extend(set.duplicates());
    out.problems
        .extend(problems.iter().map(ToString::to_string));
    let mut ids = HashSet::new();
    for slo in set.slos() {
        if !ids.insert(slo.id.clone()) {
            continue;
        }
        let target = match windows.require(slo.period) {
            Ok(w) => Some(SloTarget::from_slo(slo, w)),
            Err(e) => {
                out.problems.push(
                    pave_slo::Diagnostic::new(
                        &slo.source.file,
                        Some(slo.source.position),
                        e.to_string(),
                    )
                    .to_string(),
                );
                None
            }
        };
        out.slos.push(SloSummary {
            id: slo.id.clone(),
            name: slo.name.clone(),
            service: slo.service.clone(),
            description: slo.description.clone(),
            objective_percent: slo.objective_percent,
            window: slo.period.to_string(),
            file: slo.source.file.clone(),
            target,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pave_store::LocationKind;

    fn source(root: &Path) -> SourceFile {
        SourceFile {
            file: root.join("services/api/catalog-info.yaml"),
            boundary: root.to_path_buf(),
        }
    }

    fn location(kind: LocationKind, target: &str) -> LocationRow {
        LocationRow {
            id: "l1".into(),
            kind,
            target: target.into(),
            created_at: 0,
            refreshed_at: None,
            status: None,
        }
    }

    #[test]
    fn git_entities_resolve_in_their_refs_checkout() {
        let cache = tempfile::tempdir().unwrap();
        let url = "https://git.example.com/org/repo.git";
        // Refs may contain slashes; each ref has a checkout of its own.
        for (reference, owner) in [("release/1.0", "old"), ("main", "new")] {
            let checkout = pave_ingest::git_checkout_dir(url, reference, cache.path());
            std::fs::create_dir_all(checkout.join("svc")).unwrap();
            std::fs::write(checkout.join("svc/catalog-info.yaml"), owner).unwrap();
        }
        for reference in ["release/1.0", "main"] {
            let row = location(LocationKind::Git, &format!("{url}#{reference}"));
            let key = format!("git:{url}#{reference}/svc/catalog-info.yaml");
            let found = spec_source(&row, &key, cache.path()).unwrap();
            let checkout =
                std::fs::canonicalize(pave_ingest::git_checkout_dir(url, reference, cache.path()))
                    .unwrap();
            assert_eq!(found.boundary, checkout, "{reference}");
            assert_eq!(found.dir(), checkout.join("svc"), "{reference}");
        }
        // A key of another ref, or one leaving the checkout, is not this location's.
        let row = location(LocationKind::Git, &format!("{url}#main"));
        let other = format!("git:{url}#release/1.0/svc/catalog-info.yaml");
        assert!(spec_source(&row, &other, cache.path()).is_err());
        let escape = format!("git:{url}#main/../../etc/passwd");
        assert!(spec_source(&row, &escape, cache.path()).is_err());
    }

    #[test]
    fn resolves_relative_paths_inside_the_source() {
        let root = Path::new("/repo");
        let s = source(root);
        assert_eq!(
            resolve(&s, "./slo.yaml"),
            Ok(PathBuf::from("/repo/services/api/slo.yaml"))
        );
        assert_eq!(
            resolve(&s, "../shared/slo.yaml"),
            Ok(PathBuf::from("/repo/services/shared/slo.yaml"))
        );
    }

    #[test]
    fn refuses_escapes_absolute_paths_and_urls() {
        let s = source(Path::new("/repo"));
        let escape = resolve(&s, "../../../etc/passwd").unwrap_err();
        assert!(escape.contains("outside the source root"), "{escape}");
        let absolute = resolve(&s, "/etc/passwd").unwrap_err();
        assert!(absolute.contains("absolute paths"), "{absolute}");
        let url = resolve(&s, "https://example.com/slo.yaml").unwrap_err();
        assert!(url.contains("remote specs"), "{url}");
    }

    #[test]
    fn file_locations_use_the_registered_folder_as_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/catalog-info.yaml"), "").unwrap();
        let key = format!("file:{}", root.join("a/b/catalog-info.yaml").display());
        let folder = location(LocationKind::File, &root.display().to_string());
        let s = spec_source(&folder, &key, Path::new("/nonexistent")).unwrap();
        assert_eq!(s.dir(), root.join("a/b"));
        assert_eq!(s.boundary, root);
        // A registered file: its folder is the root.
        let file = location(
            LocationKind::File,
            &root.join("a/b/catalog-info.yaml").display().to_string(),
        );
        let s = spec_source(&file, &key, Path::new("/nonexistent")).unwrap();
        assert_eq!(s.boundary, root.join("a/b"));
        // A file of a folder registered elsewhere is not this location's.
        let elsewhere = location(LocationKind::File, &root.join("a/b").display().to_string());
        let outside = format!("file:{}", root.join("x.yaml").display());
        assert!(spec_source(&elsewhere, &outside, Path::new("/nonexistent")).is_err());
        let url = location(LocationKind::Url, "https://x/y.yaml");
        let url = spec_source(&url, "url:https://x/y.yaml", Path::new("/x")).unwrap_err();
        assert!(url.contains("only from file and git sources"), "{url}");
    }

    const SPEC: &str = "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    description: Requests succeed.\n    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n        total_query: sum(rate(t[{{.window}}]))\n    alerting:\n      page_alert:\n        disable: true\n      ticket_alert:\n        disable: true\n";

    #[test]
    fn reads_specs_and_reports_missing_and_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("slo.yaml"), SPEC).unwrap();
        std::fs::write(
            root.join("bad.yaml"),
            "version: prometheus/v1\nservice: api\nslos:\n  - name: broken\n    objective: 140\n",
        )
        .unwrap();
        let source = SourceFile {
            file: root.join("catalog-info.yaml"),
            boundary: root.clone(),
        };
        let slos = entity_slos(
            &source,
            "./slo.yaml, missing.yaml, bad.yaml, ../outside.yaml",
            &WindowsCatalog::builtin(),
        );
        assert_eq!(slos.slos.len(), 1, "{slos:?}");
        let slo = &slos.slos[0];
        assert_eq!(slo.name, "availability");
        assert_eq!(slo.objective_percent, 99.9);
        assert_eq!(slo.window, "30d");
        assert_eq!(slo.description, "Requests succeed.");
        assert_eq!(slo.target.as_ref().unwrap().id, "api-availability");
        let problems = slos.problems.join("\n");
        assert!(
            problems.contains("missing.yaml: the SLO spec does not exist"),
            "{problems}"
        );
        assert!(problems.contains("outside the source root"), "{problems}");
        assert!(problems.contains("bad.yaml:4:5: error:"), "{problems}");
    }
}
