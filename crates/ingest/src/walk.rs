//! Walking one location: reading its files (in parallel), following Location entities'
//! targets breadth-first, and reusing what the last run produced for unchanged files.
//!
//! This is synchronous, CPU-bound work; the async driver in `lib.rs` runs it on a blocking
//! thread and writes the outcome in one transaction.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use pave_catalog::stitch::relations_to_text;
use pave_catalog::{
    CatalogRules, PlaceholderReader, ProcessContext, Processed, Rejected, process_entity,
};
use pave_store::{EntityHead, FileRow, LocationId};
use pave_yaml::{PathSegment, Position};
use serde_json::{Value, json};
use sha2::Digest;

use crate::diagnostics::Diagnostic;
use crate::files::{hash_bytes, read_text, resolve_lexically};
use crate::{IngestConfig, Progress};
use pave_fs::SeamReadError;

/// An entity the walk produced (or kept from last time).
#[derive(Debug, Clone)]
pub(crate) struct Produced {
    pub(crate) entity_ref: String,
    pub(crate) location_key: String,
    pub(crate) content: Content,
    /// How the file is shown in diagnostics.
    pub(crate) file: String,
    /// The file's path as its `FileRow` names it.
    pub(crate) path: String,
    /// Where its document starts, when it was read now (for conflict messages).
    pub(crate) position: Option<pave_yaml::Position>,
    /// The entity that made the walk read its file (see `EntityRow::parent_ref`).
    pub(crate) parent_ref: String,
}

/// What an entity is now.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Read now: the processed body and the relations it emits.
    Read { body: String, relations: String },
    /// Kept as stored: its file did not change, or could not be read.
    Kept,
}

/// What the previous run stored for this location.
#[derive(Default)]
pub(crate) struct Previous {
    pub(crate) files: HashMap<String, FileRow>,
    /// By `location_key`.
    pub(crate) entities: HashMap<String, Vec<EntityHead>>,
}

pub(crate) struct WalkInput<'a> {
    pub(crate) config: &'a IngestConfig,
    /// The file or folder to start from.
    pub(crate) root: PathBuf,
    /// Targets must stay inside this folder.
    pub(crate) boundary: PathBuf,
    /// How files are named in `managed-by-location` (`file:` + path, or a git form).
    pub(crate) key_prefix: KeyPrefix,
    /// `managed-by-origin-location` for everything found.
    pub(crate) origin: String,
    pub(crate) previous: Previous,
    pub(crate) progress: Option<&'a dyn Progress>,
    /// The parent of what the root files hold: the registered location's generated `Location`.
    pub(crate) root_parent: String,
}

/// Turns a path into a `managed-by-location` value.
pub(crate) enum KeyPrefix {
    /// `file:/abs/path`
    File,
    /// `git:<url>#<ref>/<path relative to the checkout>`
    Git { checkout: PathBuf, prefix: String },
    /// `url:<the URL the file was fetched from>`, for files mirrored from an HTTP location;
    /// `failures` says why files that targets named are missing.
    Http {
        dir: PathBuf,
        failures: HashMap<PathBuf, String>,
    },
}

impl KeyPrefix {
    fn key(&self, path: &Path) -> String {
        match self {
            KeyPrefix::File => format!("file:{}", path.display()),
            KeyPrefix::Git { checkout, prefix } => {
                let rel = path.strip_prefix(checkout).unwrap_or(path);
                format!("{prefix}/{}", rel.display())
            }
            KeyPrefix::Http { dir, .. } => match crate::http::url_of(dir, path) {
                Some(url) => format!("url:{url}"),
                None => format!("file:{}", path.display()),
            },
        }
    }

    /// How a path is shown in diagnostics.
    pub(crate) fn display(&self, path: &Path) -> String {
        match self {
            KeyPrefix::File => path.display().to_string(),
            KeyPrefix::Git { .. } | KeyPrefix::Http { .. } => self.key(path),
        }
    }
}

#[derive(Default)]
pub(crate) struct WalkOutput {
    /// Entities in discovery order; duplicates already removed.
    pub(crate) entities: Vec<Produced>,
    pub(crate) files: Vec<FileRow>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) files_read: usize,
    pub(crate) files_unchanged: usize,
    pub(crate) rejected: usize,
    /// Postmortems read beside the catalog files (`crate::postmortems`), once looked for.
    pub(crate) postmortems: Option<Vec<pave_dora::postmortem::Postmortem>>,
}

impl WalkOutput {
    /// Makes sure `path` is read again next time, even if unchanged: what it produced was
    /// not all accepted (a duplicate or a conflict), and that verdict may change.
    pub(crate) fn retry(&mut self, path: &str) {
        for file in self.files.iter_mut().filter(|f| f.path == path) {
            file.reread = true;
        }
    }
}

/// A Location entity's request to read more files.
struct TargetRequest {
    from_file: PathBuf,
    target: String,
    kind: Option<String>,
    required: bool,
    position: Option<Position>,
    entity_ref: String,
}

/// What a file's last read found, kept to report again while the file is unchanged.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredProblems {
    rejected: usize,
    diagnostics: Vec<Diagnostic>,
}

struct FileOutcome {
    path: PathBuf,
    state: Option<FileRow>,
    entities: Vec<Produced>,
    diagnostics: Vec<Diagnostic>,
    targets: Vec<TargetRequest>,
    rejected: usize,
    reused: bool,
}

/// Walks a location.
pub(crate) fn walk(
    input: &WalkInput<'_>,
    location_id: &LocationId,
    fingerprint: &str,
) -> WalkOutput {
    let mut out = WalkOutput::default();
    let mut level: Vec<PathBuf> = if input.root.is_dir() {
        discover(&input.root, &input.config.discovery, &mut out.diagnostics)
    } else {
        vec![input.root.clone()]
    };
    if input.root.is_dir() && level.is_empty() {
        out.diagnostics.push(Diagnostic::warning(
            input.key_prefix.display(&input.root),
            None,
            format!(
                "no catalog files found (looked for {})",
                input.config.discovery.join(", ")
            ),
        ));
    }
    // The first file to include another is its parent; cycles are includes of an ancestor.
    let mut parent: HashMap<PathBuf, Option<PathBuf>> =
        level.iter().map(|p| (p.clone(), None)).collect();
    // The entity whose request read each file: Backstage's ancestry.
    let mut emitter: HashMap<PathBuf, String> = level
        .iter()
        .map(|p| (p.clone(), input.root_parent.clone()))
        .collect();
    let mut seen_refs: HashSet<String> = HashSet::new();
    while !level.is_empty() {
        let outcomes = process_level(input, location_id, fingerprint, &level);
        let mut next = Vec::new();
        for outcome in outcomes {
            if outcome.reused {
                out.files_unchanged += 1;
            } else {
                out.files_read += 1;
            }
            out.rejected += outcome.rejected;
            out.diagnostics.extend(outcome.diagnostics);
            out.files.extend(outcome.state);
            let parent_ref = emitter.get(&outcome.path).cloned().unwrap_or_default();
            for mut entity in outcome.entities {
                entity.parent_ref.clone_from(&parent_ref);
                if seen_refs.insert(entity.entity_ref.clone()) {
                    out.entities.push(entity);
                } else {
                    out.rejected += 1;
                    out.retry(&entity.path);
                    out.diagnostics.push(
                        Diagnostic::error(
                            entity.file.clone(),
                            entity.position,
                            format!(
                                "conflict: {} is defined more than once in this source; the first definition is kept",
                                entity.entity_ref
                            ),
                        )
                        .with_entity(entity.entity_ref),
                    );
                }
            }
            for request in outcome.targets {
                for path in resolve_target(input, &request, &mut out.diagnostics) {
                    if parent.contains_key(&path) {
                        if is_ancestor(&parent, &path, &outcome.path) {
                            out.diagnostics.push(
                                Diagnostic::warning(
                                    input.key_prefix.display(&request.from_file),
                                    request.position,
                                    format!(
                                        "location cycle: target {} includes {} again, which is already being read; skipped",
                                        request.target,
                                        input.key_prefix.display(&path)
                                    ),
                                )
                                .with_entity(request.entity_ref.clone()),
                            );
                        }
                        continue;
                    }
                    parent.insert(path.clone(), Some(outcome.path.clone()));
                    emitter.insert(path.clone(), request.entity_ref.clone());
                    next.push(path);
                }
            }
        }
        level = next;
    }
    out
}

fn is_ancestor(parent: &HashMap<PathBuf, Option<PathBuf>>, candidate: &Path, of: &Path) -> bool {
    let mut current = Some(of.to_path_buf());
    let mut steps = 0;
    while let Some(path) = current {
        if path == candidate {
            return true;
        }
        steps += 1;
        if steps > parent.len() {
            return false;
        }
        current = parent.get(&path).cloned().flatten();
    }
    false
}

/// Files under `dir` matching the discovery patterns, sorted, skipping hidden folders.
fn discover(dir: &Path, patterns: &[String], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        match globset::Glob::new(pattern) {
            Ok(glob) => {
                builder.add(glob);
            }
            Err(e) => diagnostics.push(Diagnostic::error(
                "pave.yaml",
                None,
                format!("catalog.discovery pattern `{pattern}` is not a valid glob: {e}"),
            )),
        }
    }
    let Ok(set) = builder.build() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .strip_prefix(dir)
                .is_ok_and(|rel| set.is_match(rel))
        })
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn process_level(
    input: &WalkInput<'_>,
    location_id: &LocationId,
    fingerprint: &str,
    files: &[PathBuf],
) -> Vec<FileOutcome> {
    // A worker's panic is re-raised: its files must not vanish from the plan, which would
    // delete what they produced.
    pave_stdx::par_map(files.to_vec(), input.config.workers, |path| {
        let outcome = process_file(input, location_id, fingerprint, &path);
        if let Some(progress) = input.progress {
            progress.file_done(outcome.entities.len());
        }
        outcome
    })
}

/// Records the files placeholders read, to know when a descriptor must be re-read.
struct FileReader<'a> {
    dir: PathBuf,
    boundary: &'a Path,
    limit: u64,
    deps: RefCell<Vec<(String, String)>>,
}

impl PlaceholderReader for FileReader<'_> {
    fn read(&self, target: &str) -> Result<String, SeamReadError> {
        if target.contains("://") {
            return Err(SeamReadError::Refused(
                "remote placeholders are not fetched (pave reads only files inside the source, no network at run time)"
                    .into(),
            ));
        }
        let path = resolve_lexically(&self.dir, target);
        if !path.starts_with(self.boundary) {
            // What lies outside is not named: messages reach API clients.
            return Err(SeamReadError::Refused(format!(
                "{target} is outside the source root"
            )));
        }
        let file = read_text(&path, self.limit).map_err(|e| SeamReadError::Read {
            path: path.display().to_string(),
            source: e.into_fs(),
        })?;
        self.deps
            .borrow_mut()
            .push((path.display().to_string(), file.hash));
        Ok(file.text)
    }
}

fn state_hash(fingerprint: &str, content_hash: &str) -> String {
    hash_bytes(format!("{fingerprint}\n{content_hash}").as_bytes())
}

fn deps_unchanged(deps_json: &str, limit: u64) -> bool {
    let Ok(deps) = serde_json::from_str::<Vec<(String, String)>>(deps_json) else {
        return false;
    };
    deps.iter()
        .all(|(path, hash)| read_text(Path::new(path), limit).is_ok_and(|f| &f.hash == hash))
}

fn process_file(
    input: &WalkInput<'_>,
    location_id: &LocationId,
    fingerprint: &str,
    path: &Path,
) -> FileOutcome {
    let shown = input.key_prefix.display(path);
    let location_key = input.key_prefix.key(path);
    let previous_entities = input.previous.entities.get(&location_key);
    let previous_state = input.previous.files.get(&path.display().to_string());
    let mut outcome = FileOutcome {
        path: path.to_path_buf(),
        state: None,
        entities: Vec::new(),
        diagnostics: Vec::new(),
        targets: Vec::new(),
        rejected: 0,
        reused: false,
    };

    let file = match read_text(path, input.config.max_file_bytes) {
        Ok(file) => file,
        Err(e) => {
            outcome
                .diagnostics
                .push(Diagnostic::error(&shown, e.position(), e.to_string()));
            keep_previous(&mut outcome, previous_entities, previous_state, &shown);
            return outcome;
        }
    };
    let hash = state_hash(fingerprint, &file.hash);

    // Unchanged since last time: reuse what it produced, re-report its problems.
    if let Some(state) = previous_state
        && !state.reread
        && state.hash == hash
        && deps_unchanged(&state.deps, input.config.max_file_bytes)
    {
        reuse_unchanged(&mut outcome, state, previous_entities, &file.text, &shown);
        return outcome;
    }

    let docs = match pave_yaml::parse_documents(&file.text, &input.config.yaml_limits) {
        Ok(docs) => docs,
        Err(e) => {
            outcome
                .diagnostics
                .push(Diagnostic::error(&shown, Some(e.position()), e.to_string()));
            keep_previous(&mut outcome, previous_entities, previous_state, &shown);
            return outcome;
        }
    };
    let reader = FileReader {
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        boundary: &input.boundary,
        limit: input.config.max_file_bytes,
        deps: RefCell::new(Vec::new()),
    };
    let context = ProcessContext {
        rules: &input.config.rules,
        location: &location_key,
        origin_location: &input.origin,
        placeholders: Some(&reader),
    };
    for (index, doc) in docs.into_iter().enumerate() {
        if doc.value.is_null() {
            continue;
        }
        let locate = |segments: &[PathSegment]| {
            pave_yaml::locate(&file.text, index, segments).or(Some(doc.start))
        };
        let produced_by = FileContext {
            shown: &shown,
            location_key: &location_key,
            text: &file.text,
            previous_entities,
            start: doc.start,
        };
        match process_entity(doc.value, &context) {
            Ok(processed) => accept(&mut outcome, processed, &produced_by, &locate),
            Err(rejected) => reject(&mut outcome, &rejected, &produced_by, &locate),
        }
    }
    let problems = serde_json::to_string(&StoredProblems {
        rejected: outcome.rejected,
        diagnostics: outcome.diagnostics.clone(),
    })
    .unwrap_or_else(|_| "{}".into());
    let deps = serde_json::to_string(&reader.deps.into_inner()).unwrap_or_else(|_| "[]".into());
    outcome.state = Some(FileRow {
        location_id: location_id.clone(),
        path: path.display().to_string(),
        hash,
        deps,
        problems,
        reread: false,
    });
    outcome
}

/// What one document's outcome is recorded against.
struct FileContext<'a> {
    /// The file as shown in diagnostics.
    shown: &'a str,
    location_key: &'a str,
    text: &'a str,
    previous_entities: Option<&'a Vec<EntityHead>>,
    /// Where the document starts.
    start: Position,
}

/// An unchanged file: what it produced last time, its problems re-reported.
fn reuse_unchanged(
    outcome: &mut FileOutcome,
    state: &FileRow,
    previous_entities: Option<&Vec<EntityHead>>,
    text: &str,
    shown: &str,
) {
    outcome.reused = true;
    outcome.state = Some(state.clone());
    if let Ok(stored) = serde_json::from_str::<StoredProblems>(&state.problems) {
        outcome.diagnostics.extend(stored.diagnostics);
        outcome.rejected = stored.rejected;
    }
    for row in previous_entities.into_iter().flatten() {
        outcome
            .targets
            .extend(location_targets_of(row, &outcome.path, Some(text)));
        let produced = produced_from_row(row, shown, &outcome.path);
        outcome.entities.push(produced);
    }
}

/// An accepted entity: its warnings, the targets it asks to read, and the entity.
fn accept(
    outcome: &mut FileOutcome,
    processed: Processed,
    file: &FileContext<'_>,
    locate: &dyn Fn(&[PathSegment]) -> Option<Position>,
) {
    let entity_ref = processed.entity_ref.key().into_string();
    for warning in &processed.warnings {
        outcome.diagnostics.push(Diagnostic::from_problem(
            file.shown,
            locate(&warning.path),
            warning,
            Some(entity_ref.clone()),
        ));
    }
    let targets = location_targets(&processed.entity, &entity_ref, &outcome.path, locate);
    outcome.targets.extend(targets);
    let relations = relations_to_text(&entity_ref, &processed.relations);
    outcome.entities.push(Produced {
        entity_ref,
        location_key: file.location_key.to_owned(),
        content: Content::Read {
            body: processed.entity.to_string(),
            relations,
        },
        file: file.shown.to_owned(),
        path: outcome.path.display().to_string(),
        position: Some(file.start),
        parent_ref: String::new(),
    });
}

/// A rejected entity: its problems, and the last accepted version of it kept rather than
/// dropping the entity over a typo.
fn reject(
    outcome: &mut FileOutcome,
    rejected: &Rejected,
    file: &FileContext<'_>,
    locate: &dyn Fn(&[PathSegment]) -> Option<Position>,
) {
    outcome.rejected += 1;
    let entity_ref = rejected.entity_ref.as_ref().map(|r| r.key().into_string());
    for problem in &rejected.problems {
        outcome.diagnostics.push(Diagnostic::from_problem(
            file.shown,
            locate(&problem.path),
            problem,
            entity_ref.clone(),
        ));
    }
    if let Some(old) = entity_ref
        .as_ref()
        .and_then(|r| file.previous_entities?.iter().find(|e| &e.entity_ref == r))
    {
        outcome.diagnostics.push(
            Diagnostic::warning(
                file.shown,
                locate(&[]),
                "keeping the last accepted version of this entity",
            )
            .with_entity(old.entity_ref.clone()),
        );
        outcome
            .targets
            .extend(location_targets_of(old, &outcome.path, Some(file.text)));
        let produced = produced_from_row(old, file.shown, &outcome.path);
        outcome.entities.push(produced);
    }
}

/// A file that cannot be read now keeps what it produced before (and its targets are still
/// followed), so a bad edit never empties the catalog.
fn keep_previous(
    outcome: &mut FileOutcome,
    previous_entities: Option<&Vec<EntityHead>>,
    previous_state: Option<&FileRow>,
    shown: &str,
) {
    let Some(rows) = previous_entities.filter(|rows| !rows.is_empty()) else {
        return;
    };
    outcome.diagnostics.push(Diagnostic::warning(
        shown,
        None,
        format!(
            "keeping what this file produced before ({} entities)",
            rows.len()
        ),
    ));
    for row in rows {
        outcome
            .targets
            .extend(location_targets_of(row, &outcome.path, None));
        outcome
            .entities
            .push(produced_from_row(row, shown, &outcome.path.clone()));
    }
    // Keep the old state too, but never let it match: the file must be read again next time.
    outcome.state = previous_state.map(|s| FileRow {
        reread: true,
        ..s.clone()
    });
}

fn produced_from_row(row: &EntityHead, shown: &str, path: &Path) -> Produced {
    Produced {
        entity_ref: row.entity_ref.clone(),
        location_key: row.location_key.clone(),
        content: Content::Kept,
        file: shown.to_owned(),
        path: path.display().to_string(),
        position: None,
        parent_ref: String::new(),
    }
}

fn location_targets_of(row: &EntityHead, path: &Path, text: Option<&str>) -> Vec<TargetRequest> {
    let Some(body) = row
        .body
        .as_deref()
        .filter(|_| row.entity_ref.starts_with("location:"))
    else {
        return Vec::new();
    };
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    // Reused entities do not carry their document index; find it again for positions.
    let name = &body["metadata"]["name"];
    let index = text
        .and_then(|t| pave_yaml::parse_documents(t, &pave_yaml::Limits::default()).ok())
        .and_then(|docs| {
            docs.iter()
                .position(|d| d.value["kind"] == "Location" && &d.value["metadata"]["name"] == name)
        });
    location_targets(&body, &row.entity_ref, path, |segments| {
        pave_yaml::locate(text?, index?, segments)
    })
}

/// The targets of a Location entity.
fn location_targets(
    entity: &Value,
    entity_ref: &str,
    path: &Path,
    locate: impl Fn(&[PathSegment]) -> Option<Position>,
) -> Vec<TargetRequest> {
    if entity["kind"] != "Location" {
        return Vec::new();
    }
    let spec = &entity["spec"];
    let kind = spec["type"].as_str().map(str::to_owned);
    let required = spec["presence"].as_str() != Some("optional");
    let mut requests = Vec::new();
    let mut push = |target: &str, at: Vec<PathSegment>| {
        requests.push(TargetRequest {
            from_file: path.to_path_buf(),
            target: target.to_owned(),
            kind: kind.clone(),
            required,
            position: locate(&at),
            entity_ref: entity_ref.to_owned(),
        });
    };
    if let Some(target) = spec["target"].as_str() {
        push(target, vec!["spec".into(), "target".into()]);
    }
    if let Some(targets) = spec["targets"].as_array() {
        for (i, target) in targets.iter().enumerate() {
            if let Some(target) = target.as_str() {
                push(
                    target,
                    vec!["spec".into(), "targets".into(), PathSegment::Index(i)],
                );
            }
        }
    }
    requests
}

fn is_glob(target: &str) -> bool {
    target.contains(['*', '?', '[', '{'])
}

/// Resolves a Location target to the files it names, reporting what cannot be followed.
fn resolve_target(
    input: &WalkInput<'_>,
    request: &TargetRequest,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PathBuf> {
    let shown = input.key_prefix.display(&request.from_file);
    let mut error = |message: String| {
        diagnostics.push(
            Diagnostic::error(&shown, request.position, message)
                .with_entity(request.entity_ref.clone()),
        );
    };
    if let KeyPrefix::Http { dir, failures } = &input.key_prefix {
        return resolve_http_target(dir, failures, request, error);
    }
    match request.kind.as_deref() {
        None | Some("file") => {}
        // Backstage resolves a relative `url` target against its file's URL: in a checkout
        // that is the file next to it.
        Some("url") if !request.target.contains("://") => {}
        Some("url") => {
            error(format!(
                "location target {} has type `url`: remote targets are not fetched; register it as a source of its own (`pave catalog ingest <url>`) instead",
                request.target
            ));
            return Vec::new();
        }
        Some(other) => {
            error(format!(
                "location target {} has unsupported type `{other}` (pave follows `file` targets)",
                request.target
            ));
            return Vec::new();
        }
    }
    let base = request.from_file.parent().unwrap_or(Path::new("/"));
    let resolved = resolve_lexically(base, request.target.trim_start_matches("file:"));
    if !resolved.starts_with(&input.boundary) {
        // Where it leads is not named: messages reach API clients.
        error(format!(
            "location target {} is outside the source root; targets must stay inside the source",
            request.target,
        ));
        return Vec::new();
    }
    if is_glob(&request.target) {
        let Ok(glob) =
            globset::Glob::new(&resolved.display().to_string()).map(|g| g.compile_matcher())
        else {
            error(format!(
                "location target {} is not a valid glob pattern",
                request.target
            ));
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&input.boundary)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && glob.is_match(e.path()))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        if files.is_empty() && request.required {
            error(format!(
                "location target {} matches no files",
                request.target
            ));
        }
        return files;
    }
    match std::fs::canonicalize(&resolved) {
        Ok(real) if !real.starts_with(&input.boundary) => {
            error(format!(
                "location target {} is a link that leads outside the source root",
                request.target,
            ));
            Vec::new()
        }
        Ok(real) if real.is_dir() => {
            error(format!(
                "location target {} is a folder; name a file or a glob such as {}/**/catalog-info.yaml",
                request.target,
                request.target.trim_end_matches('/')
            ));
            Vec::new()
        }
        Ok(real) => vec![real],
        Err(_) if request.required => {
            error(format!(
                "location target {} does not exist (resolved to {}); the location's other targets are still read",
                request.target,
                input.key_prefix.display(&resolved)
            ));
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

/// Resolves a target of a file fetched over HTTP as Backstage does: against the file's URL
/// (relative paths, absolute paths and URLs alike), to the mirrored copy the crawl fetched.
fn resolve_http_target(
    dir: &Path,
    failures: &HashMap<PathBuf, String>,
    request: &TargetRequest,
    mut error: impl FnMut(String),
) -> Vec<PathBuf> {
    if !matches!(request.kind.as_deref(), None | Some("url" | "file")) {
        error(format!(
            "location target {} has unsupported type `{}` (pave follows `url` and `file` targets)",
            request.target,
            request.kind.as_deref().unwrap_or_default()
        ));
        return Vec::new();
    }
    if is_glob(&request.target) {
        error(format!(
            "location target {} is a glob: files served over HTTP cannot be listed; name each file",
            request.target
        ));
        return Vec::new();
    }
    let joined = crate::http::url_of(dir, &request.from_file)
        .and_then(|base| url::Url::parse(&base).ok())
        .and_then(|base| base.join(request.target.trim_start_matches("file:")).ok());
    let Some(url) = joined else {
        error(format!(
            "location target {} is not a URL or a path",
            request.target
        ));
        return Vec::new();
    };
    let path = dir.join(crate::http::mirror_path(&url));
    if path.is_file() {
        return vec![path];
    }
    match failures.get(&path) {
        Some(why) => error(format!(
            "location target {} could not be read: {why}; the location's other targets are still read",
            request.target
        )),
        None if request.required => error(format!(
            "location target {} ({url}) could not be read; the location's other targets are still read",
            request.target
        )),
        None => {}
    }
    Vec::new()
}

/// The `Location` entity standing for a registered location, named as Backstage names
/// generated locations: `generated-` + SHA-1 of `type:target`.
pub(crate) fn generated_location(kind: &str, target: &str) -> Produced {
    let location_ref = format!("{kind}:{target}");
    let name = generated_location_name(kind, target);
    let body = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {
                pave_catalog::process::ANNOTATION_LOCATION: location_ref,
                pave_catalog::process::ANNOTATION_ORIGIN_LOCATION: location_ref,
            }
        },
        "spec": {"type": kind, "target": target}
    });
    Produced {
        entity_ref: format!("location:default/{name}"),
        location_key: location_ref.clone(),
        content: Content::Read {
            body: body.to_string(),
            relations: "[]".into(),
        },
        file: location_ref.clone(),
        path: location_ref,
        position: None,
        parent_ref: String::new(),
    }
}

/// `generated-` + SHA-1 of `type:target`, Backstage's name for a registered location's entity.
pub(crate) fn generated_location_name(kind: &str, target: &str) -> String {
    let location_ref = format!("{kind}:{target}");
    format!(
        "generated-{}",
        crate::files::hex(&sha1::Sha1::digest(location_ref.as_bytes()))
    )
}

/// What a run's outcome depends on besides file contents: a change here re-reads every file.
pub(crate) fn fingerprint(rules: &CatalogRules, origin: &str) -> String {
    format!(
        "pave {} | rules {} | origin {origin}",
        env!("CARGO_PKG_VERSION"),
        rules.allowed().join(",")
    )
}
