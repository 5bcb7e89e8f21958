//! Ingestion: reads registered locations (files, folders, git repositories) into validated
//! entities and writes the changes to the store in one transaction.
//!
//! A run, per location: resolve the source (cloning or fetching git repositories with the git
//! CLI), walk its files breadth-first following `Location` targets, reuse the previous output
//! of files whose content (and placeholder inputs) did not change, then diff against what the
//! store holds. Conflicting claims on one entity ref keep the first claimant. Nothing is
//! written until every location is done, and then all at once.

mod analyze;
mod diagnostics;
mod files;
pub mod http;
pub mod postmortems;
pub mod reach;
mod shown;
mod snapshot;
mod source;
mod stored;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use pave_catalog::CatalogRules;
use pave_store::audit::AuditEvent;
use pave_store::{Batch, EntityHead, EntityRow, LocationId, LocationRow, Store, StoreError};
use serde::Serialize;

pub use analyze::{Analysis, FoundFile, SourceName, analyze};
pub use diagnostics::{Diagnostic, DiagnosticSeverity};
pub use files::resolve_lexically;
pub use pave_store::LocationKind;
pub use shown::ClientPaths;
pub use snapshot::{Index, build_catalog, build_index, load_catalog, load_index, update_index};
pub use source::{Source, git_checkout_dir, remove_checkout, store_cache_dir};
pub use stored::{STORED_DIAGNOSTICS, StoredStatus};

use walk::{Content, KeyPrefix, Previous, Produced, WalkInput, WalkOutput};

/// How ingestion reads sources.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Which kinds may enter the catalog.
    pub rules: CatalogRules,
    /// Globs (relative to a folder source) that name catalog files.
    pub discovery: Vec<String>,
    /// Files larger than this are refused.
    pub max_file_bytes: u64,
    pub yaml_limits: pave_yaml::Limits,
    /// Where git sources are checked out.
    pub git_cache: PathBuf,
    /// Files parsed in parallel.
    pub workers: usize,
    /// Hosts git and `url` locations may be read from (`catalog.reading.allow`).
    pub reading_allow: Vec<http::ReadingAllow>,
    /// Canonical folders `file` locations may be registered under through the API
    /// (`catalog.reading.fileRoots`; none by default).
    pub file_roots: Vec<std::path::PathBuf>,
    /// Non-public networks pave may connect to (`catalog.reading.privateNetworks`).
    pub private_networks: Vec<ipnet::IpNet>,
    /// `host[:port]`s the command line named (see [`IngestConfig::trust`]): allowed, at any
    /// address.
    pub operator_hosts: Vec<String>,
    /// How long one git command may run (`catalog.reading.gitTimeout`).
    pub git_timeout: std::time::Duration,
}

/// How long one git command may run by default: long enough for a large shallow fetch,
/// short enough that a hanging host does not hold its source for minutes.
pub const DEFAULT_GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            rules: CatalogRules::default(),
            discovery: vec!["**/catalog-info.yaml".into(), "**/catalog-info.yml".into()],
            max_file_bytes: 8 * 1024 * 1024,
            yaml_limits: pave_yaml::Limits::default(),
            git_cache: std::env::temp_dir().join("pave-git-cache"),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            reading_allow: Vec::new(),
            file_roots: Vec::new(),
            private_networks: Vec::new(),
            operator_hosts: Vec::new(),
            git_timeout: DEFAULT_GIT_TIMEOUT,
        }
    }
}

/// Told about each file as it is done (drives a progress bar).
pub trait Progress: Send + Sync {
    fn file_done(&self, entities: usize);
}

/// Ingestion failed as a whole (one location failing is a report, not an error).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The source cannot be read now (a folder that is gone, a git host or web server that
    /// fails): the request naming it may be fine.
    #[error("source {source_text}: {message}")]
    Unreadable {
        source_text: String,
        message: String,
    },
    /// The source is not one pave reads, or not allowed: the request naming it is wrong.
    #[error("source {source_text}: {message}")]
    Invalid {
        source_text: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker thread panicked or was cancelled: a bug, reported instead of its work being
    /// taken as empty.
    #[error("{task} failed: {source}")]
    Worker {
        /// What the worker was doing ("reading a location", "building the index").
        task: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// What happened to one location.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationReport {
    pub location_id: LocationId,
    #[serde(rename = "type")]
    pub kind: LocationKind,
    pub target: String,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub rejected: usize,
    pub conflicts: usize,
    pub files_read: usize,
    pub files_unchanged: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Set when the location could not be read at all (its entities are kept as they were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// The postmortems read beside its catalog files (`docs/postmortems/*.md`, see
    /// [`postmortems`]); `None` when the location was not read (they are as they were).
    #[serde(skip)]
    pub postmortems: Option<Vec<pave_dora::postmortem::Postmortem>>,
}

impl LocationReport {
    /// An empty report for `location`.
    pub fn new(location: &LocationRow) -> Self {
        LocationReport {
            location_id: location.id.clone(),
            kind: location.kind,
            target: location.target.clone(),
            added: 0,
            updated: 0,
            unchanged: 0,
            removed: 0,
            rejected: 0,
            conflicts: 0,
            files_read: 0,
            files_unchanged: 0,
            commit: None,
            failed: None,
            diagnostics: Vec::new(),
            postmortems: None,
        }
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
            + usize::from(self.failed.is_some())
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    pub locations: Vec<LocationReport>,
    pub duration_ms: u64,
    /// The rows the run wrote, for a server to update its index from (taken by
    /// `pave_platform`; not part of the report's JSON).
    #[serde(skip)]
    pub written: Option<Written>,
}

/// What one ingestion run wrote: enough to update an index without reading the store.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The change version the write moved the store to; `None` when it changed nothing
    /// readers see, or the store cannot tell.
    pub version: Option<i64>,
    /// Whether the store holds exactly what `upserts` says (no row was kept by another
    /// location or kept its uid).
    pub exact: bool,
    pub upserts: Vec<pave_store::EntityRow>,
    pub deletes: Vec<String>,
}

/// Totals over all locations of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub rejected: usize,
    pub conflicts: usize,
    pub errors: usize,
    pub warnings: usize,
    pub files_read: usize,
    pub files_unchanged: usize,
}

impl IngestReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for l in &self.locations {
            t.added += l.added;
            t.updated += l.updated;
            t.unchanged += l.unchanged;
            t.removed += l.removed;
            t.rejected += l.rejected;
            t.conflicts += l.conflicts;
            t.errors += l.errors();
            t.warnings += l.diagnostics.iter().filter(|d| !d.is_error()).count();
            t.files_read += l.files_read;
            t.files_unchanged += l.files_unchanged;
        }
        t
    }

    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.locations.iter().flat_map(|l| l.diagnostics.iter())
    }

    /// True when anything was rejected or could not be read.
    pub fn has_failures(&self) -> bool {
        let t = self.totals();
        t.errors > 0 || t.rejected > 0 || t.conflicts > 0
    }
}

/// The ref of the `Location` entity standing for a registered location
/// (`location:default/generated-<sha1 of type:target>`): Backstage's `Location.entityRef`.
pub fn generated_location_ref(kind: LocationKind, target: &str) -> String {
    format!(
        "location:default/{}",
        walk::generated_location_name(kind.as_str(), target)
    )
}

pub fn now_millis() -> i64 {
    pave_stdx::time::unix_millis()
}

/// Registers `sources` (if new) and returns their locations, in the order given.
pub async fn register(
    store: &dyn Store,
    sources: &[Source],
) -> Result<Vec<LocationRow>, IngestError> {
    register_audited(store, sources, &|_, _| Vec::new()).await
}

/// [`register`], each new location written with the audit events `audit(kind, target)`.
pub async fn register_audited(
    store: &dyn Store,
    sources: &[Source],
    audit: &(dyn Fn(LocationKind, &str) -> Vec<AuditEvent> + Sync),
) -> Result<Vec<LocationRow>, IngestError> {
    let mut locations = Vec::new();
    for source in sources {
        let (kind, target) = source.location()?;
        let events = audit(kind, &target);
        let (location, _) = store
            .add_location(kind, &target, now_millis(), &events)
            .await?;
        locations.push(location);
    }
    Ok(locations)
}

/// Ingests `locations` and applies all changes in one transaction.
pub async fn ingest(
    store: &dyn Store,
    config: &IngestConfig,
    locations: &[LocationRow],
    progress: Option<Arc<dyn Progress>>,
) -> Result<IngestReport, IngestError> {
    ingest_audited(store, config, locations, progress, Vec::new()).await
}

/// [`ingest`], with `audit` appended in the same transaction as the changes.
pub async fn ingest_audited(
    store: &dyn Store,
    config: &IngestConfig,
    locations: &[LocationRow],
    progress: Option<Arc<dyn Progress>>,
    audit: Vec<AuditEvent>,
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    let now = now_millis();
    // Who owns each ref this run produces: the store's rows, as this run changes them.
    let mut claims: HashMap<String, LocationId> = HashMap::new();
    let mut batch = Batch {
        audit,
        ..Batch::default()
    };
    let mut reports = Vec::new();
    for location in locations {
        let previous_rows = store.location_entity_heads(&location.id).await?;
        let previous_files = store.files(&location.id).await?;
        let mut report = LocationReport::new(location);
        let walked = {
            let config = config.clone();
            let location = location.clone();
            let progress = progress.clone();
            let previous_files = previous_files.clone();
            let previous_rows = previous_rows.clone();
            tokio::task::spawn_blocking(move || {
                walk_location(&config, &location, previous_rows, previous_files, progress)
            })
            .await
            .map_err(|source| IngestError::Worker {
                task: "reading a location",
                source,
            })?
        };
        match walked {
            Err(e) => {
                tracing::warn!(location = %location.target, error = %e, "location could not be read");
                report.failed = Some(e.to_string());
                report.unchanged = previous_rows.len();
            }
            Ok((output, commit)) => {
                report.commit = commit;
                let unknown: Vec<String> = output
                    .entities
                    .iter()
                    .map(|e| e.entity_ref.clone())
                    .filter(|r| !claims.contains_key(r))
                    .collect();
                claims.extend(store.entity_owners_of(&unknown).await?);
                plan_location(
                    location,
                    output,
                    previous_rows,
                    previous_files,
                    &mut claims,
                    now,
                    &mut batch,
                    &mut report,
                );
            }
        }
        let status = StoredStatus::from(&report).to_text();
        batch.location_status.push(pave_store::LocationStatus {
            location_id: location.id.clone(),
            refreshed_at: now,
            status,
        });
        reports.push(report);
    }
    let planned_ms = started.elapsed().as_millis() as u64;
    let applied = store.apply_versioned(&batch).await?;
    tracing::debug!(
        planned_ms,
        written_ms = started.elapsed().as_millis() as u64 - planned_ms,
        rows = batch.upsert_entities.len(),
        "ingestion planned and written"
    );
    Ok(IngestReport {
        locations: reports,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        written: Some(Written {
            version: applied.version,
            exact: applied.skipped.is_empty(),
            upserts: batch.upsert_entities,
            deletes: batch.delete_entities,
        }),
    })
}

fn walk_location(
    config: &IngestConfig,
    location: &LocationRow,
    previous_rows: Vec<EntityHead>,
    previous_files: Vec<pave_store::FileRow>,
    progress: Option<Arc<dyn Progress>>,
) -> Result<(WalkOutput, Option<String>), IngestError> {
    let source = Source::from_location(location.kind, &location.target)?;
    // The lists may have changed since it was registered: checked before every reading.
    config.check_source_host(&source)?;
    let location_ref = format!("{}:{}", location.kind, location.target);
    // A git checkout stays locked until the walk is done (`_checkout`).
    let (root, boundary, key_prefix, commit, _checkout) = match &source {
        Source::Path(path) => {
            let root = std::fs::canonicalize(path).map_err(|e| IngestError::Unreadable {
                source_text: path.display().to_string(),
                message: format!("cannot read it: {e}"),
            })?;
            let boundary = file_boundary(&root);
            (root, boundary, KeyPrefix::File, None, None)
        }
        Source::Git { url, reference } => {
            let checkout = source::sync_git(url, reference.as_deref(), config)?;
            let prefix = git_key_prefix(url, reference.as_deref().unwrap_or("HEAD"));
            let dir = std::fs::canonicalize(&checkout.dir).unwrap_or(checkout.dir);
            (
                dir.clone(),
                dir.clone(),
                KeyPrefix::Git {
                    checkout: dir,
                    prefix,
                },
                Some(checkout.commit),
                Some(checkout.lock),
            )
        }
        Source::Url {
            repository,
            reference,
            path,
            ..
        } => {
            let (dir, root, commit, lock) =
                source::checkout_path(repository, reference, path, config)?;
            (
                root,
                // Targets may reach anywhere in the repository, as in Backstage.
                dir.clone(),
                KeyPrefix::Git {
                    checkout: dir,
                    prefix: git_key_prefix(repository, reference),
                },
                Some(commit),
                Some(lock),
            )
        }
        Source::Http { url } => {
            let mirror = http::mirror(url, config)?;
            (
                mirror.root,
                mirror.dir.clone(),
                KeyPrefix::Http {
                    dir: mirror.dir,
                    failures: mirror.failures,
                },
                None,
                None,
            )
        }
    };
    let generated = walk::generated_location(location.kind.as_str(), &location.target);
    let mut previous = Previous::default();
    // The generated Location shares its root file's key but is not read from it.
    for row in previous_rows
        .into_iter()
        .filter(|r| r.entity_ref != generated.entity_ref)
    {
        previous
            .entities
            .entry(row.location_key.clone())
            .or_default()
            .push(row);
    }
    for file in previous_files {
        previous.files.insert(file.path.clone(), file);
    }
    let fingerprint = walk::fingerprint(&config.rules, &location_ref);
    let input = WalkInput {
        config,
        root,
        boundary,
        key_prefix,
        origin: location_ref.clone(),
        previous,
        progress: progress.as_deref(),
        root_parent: generated.entity_ref.clone(),
    };
    let mut output = walk::walk(&input, &location.id, &fingerprint);
    // Postmortems beside the catalog files, read while the checkout is still held. A mirror
    // of an HTTP location holds only the catalog files it fetched: nothing to look for.
    if !matches!(input.key_prefix, KeyPrefix::Http { .. }) {
        let read = postmortems_of(&input, &output);
        output.diagnostics.extend(read.diagnostics);
        output.postmortems = Some(read.postmortems);
    }
    output.entities.insert(0, generated);
    Ok((output, commit))
}

/// The postmortems beside the catalog files a walk read.
fn postmortems_of(input: &WalkInput<'_>, output: &WalkOutput) -> postmortems::Read {
    let files: Vec<(PathBuf, String)> = output
        .entities
        .iter()
        .map(|e| (PathBuf::from(&e.path), e.entity_ref.clone()))
        .collect();
    postmortems::read_beside(&files, &input.boundary, &|path: &Path| {
        input.key_prefix.display(path)
    })
}

fn entity_hash(body: &str, relations: &str) -> String {
    files::hash_bytes(format!("{body}\n{relations}").as_bytes())
}

/// Diffs a walk against the stored state and adds the changes to `batch`.
#[allow(clippy::too_many_arguments)]
fn plan_location(
    location: &LocationRow,
    output: WalkOutput,
    previous_rows: Vec<EntityHead>,
    previous_files: Vec<pave_store::FileRow>,
    claims: &mut HashMap<String, LocationId>,
    now: i64,
    batch: &mut Batch,
    report: &mut LocationReport,
) {
    let mut output = output;
    let entities = std::mem::take(&mut output.entities);
    report.files_read = output.files_read;
    report.files_unchanged = output.files_unchanged;
    report.rejected = output.rejected;
    report.diagnostics = std::mem::take(&mut output.diagnostics);
    report.postmortems = output.postmortems.take();
    let previous: HashMap<&str, &EntityHead> = previous_rows
        .iter()
        .map(|r| (r.entity_ref.as_str(), r))
        .collect();
    let mut produced: HashSet<String> = HashSet::new();
    for Produced {
        entity_ref,
        location_key,
        content,
        file,
        path,
        position,
        parent_ref,
    } in entities
    {
        if let Some(owner) = claims
            .get(&entity_ref)
            .filter(|owner| **owner != location.id)
        {
            report.conflicts += 1;
            output.retry(&path);
            report.diagnostics.push(
                Diagnostic::error(
                    file,
                    position,
                    format!(
                        "conflict: {entity_ref} is already provided by another location ({owner}); the first claimant keeps it"
                    ),
                )
                .with_entity(entity_ref),
            );
            continue;
        }
        let old = previous.get(entity_ref.as_str());
        if let Some(old) = old.filter(|o| o.parent_ref != parent_ref) {
            batch
                .set_parents
                .push((old.entity_ref.clone(), parent_ref.clone()));
        }
        let (body, relations) = match content {
            // Kept entities are the stored ones: nothing to write.
            Content::Kept => {
                report.unchanged += 1;
                claims.insert(entity_ref.clone(), location.id.clone());
                produced.insert(entity_ref);
                continue;
            }
            Content::Read { body, relations } => (body, relations),
        };
        let hash = entity_hash(&body, &relations);
        match old {
            Some(old) if old.hash == hash => report.unchanged += 1,
            old => {
                if old.is_some() {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
                batch.upsert_entities.push(EntityRow {
                    uid: old.map_or_else(|| uuid::Uuid::new_v4().to_string(), |o| o.uid.clone()),
                    entity_ref: entity_ref.clone(),
                    location_id: location.id.clone(),
                    location_key,
                    body,
                    relations,
                    hash,
                    updated_at: now,
                    parent_ref,
                });
            }
        }
        claims.insert(entity_ref.clone(), location.id.clone());
        produced.insert(entity_ref);
    }
    for old in &previous_rows {
        if !produced.contains(&old.entity_ref) {
            report.removed += 1;
            batch.delete_entities.push(old.entity_ref.clone());
            claims.remove(&old.entity_ref);
        }
    }
    let files = output.files;
    let current: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for old in &previous_files {
        if !current.contains(old.path.as_str()) {
            batch
                .delete_files
                .push((location.id.clone(), old.path.clone()));
        }
    }
    let previous_files: HashMap<&str, &pave_store::FileRow> = previous_files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for file in files {
        if previous_files.get(file.path.as_str()) != Some(&&file) {
            batch.upsert_files.push(file);
        }
    }
}

/// What a source would contribute, read without registering or storing anything.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    /// Processed entities (without relations), as they would be stored.
    pub entities: Vec<serde_json::Value>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads `source` as ingestion would, but stores nothing (the API's `dryRun`).
pub async fn preview(source: &Source, config: &IngestConfig) -> Result<Preview, IngestError> {
    let (kind, target) = source.location()?;
    let location = LocationRow {
        id: "preview".into(),
        kind,
        target,
        created_at: now_millis(),
        refreshed_at: None,
        status: None,
    };
    let config = config.clone();
    let (output, _) = tokio::task::spawn_blocking(move || {
        walk_location(&config, &location, Vec::new(), Vec::new(), None)
    })
    .await
    .map_err(|source| IngestError::Worker {
        task: "previewing a location",
        source,
    })??;
    Ok(Preview {
        entities: output
            .entities
            .iter()
            .filter_map(|e| match &e.content {
                Content::Read { body, .. } => serde_json::from_str(body).ok(),
                Content::Kept => None,
            })
            .collect(),
        diagnostics: output.diagnostics,
    })
}

/// What `pave catalog validate` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ValidationReport {
    pub files: usize,
    pub entities: usize,
    pub rejected: usize,
    pub diagnostics: Vec<Diagnostic>,
    /// Postmortems read beside the catalog files (`docs/postmortems/*.md`) without problems.
    pub postmortems: usize,
}

impl ValidationReport {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// What a file source may read: its folder (a folder source: itself). Location targets and
/// placeholders that leave it are errors, so a catalog file cannot pull in `/etc/passwd`.
/// How the files of a git checkout are keyed: `git:<url>#<ref>/<path in the checkout>`.
fn git_key_prefix(url: &str, reference: &str) -> String {
    format!("git:{url}#{reference}")
}

/// Where an entity's catalog file is on this machine, found from what ingestion stored with
/// it (its location and the file's key), never parsed back from its annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// The catalog file.
    pub file: PathBuf,
    /// The folder paths relative to it must stay in: the registered folder (a registered
    /// file's folder), or the repository's checkout.
    pub boundary: PathBuf,
}

impl SourceFile {
    /// The catalog file's folder.
    pub fn dir(&self) -> &Path {
        self.file.parent().unwrap_or(&self.boundary)
    }
}

/// The catalog file that `location_key` names inside `location` (the pair ingestion stored
/// with each entity). Git files are found in this machine's checkout under `git_cache`.
///
/// # Errors
/// For sources read over HTTP (no local copy), and for a key that does not belong to the
/// location.
pub fn source_file(
    location: &LocationRow,
    location_key: &str,
    git_cache: &Path,
) -> Result<SourceFile, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        source_text: location_key.to_owned(),
        message,
    };
    let in_checkout = |url: &str, reference: &str| {
        let prefix = git_key_prefix(url, reference);
        let path = location_key
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| {
                fail(format!(
                    "not a file of {}:{}",
                    location.kind, location.target
                ))
            })?;
        source::check_repository_path(path).map_err(&fail)?;
        let checkout = git_checkout_dir(url, reference, git_cache);
        let checkout = std::fs::canonicalize(&checkout).unwrap_or(checkout);
        Ok(SourceFile {
            file: checkout.join(path),
            boundary: checkout,
        })
    };
    match Source::from_location(location.kind, &location.target)? {
        Source::Path(root) => {
            let file = location_key
                .strip_prefix("file:")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    fail(format!(
                        "not a file of {}:{}",
                        location.kind, location.target
                    ))
                })?;
            let root = std::fs::canonicalize(&root)
                .map_err(|e| fail(format!("cannot read {}: {e}", root.display())))?;
            let boundary = file_boundary(&root);
            if !file.starts_with(&boundary) {
                return Err(fail(format!(
                    "outside the source root {}",
                    boundary.display()
                )));
            }
            Ok(SourceFile { file, boundary })
        }
        Source::Git { url, reference } => in_checkout(&url, reference.as_deref().unwrap_or("HEAD")),
        Source::Url {
            repository,
            reference,
            ..
        } => in_checkout(&repository, &reference),
        Source::Http { .. } => Err(fail(
            "read over HTTP: there is no local copy to resolve paths in".to_owned(),
        )),
    }
}

fn file_boundary(root: &Path) -> PathBuf {
    if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Validates files or folders exactly as ingestion would read them, without a store: Location
/// targets are followed and may not leave the source, as in [`ingest`].
pub fn validate(paths: &[PathBuf], config: &IngestConfig) -> ValidationReport {
    let mut report = ValidationReport::default();
    for path in paths {
        let root = match std::fs::canonicalize(path) {
            Ok(root) => root,
            Err(e) => {
                report.diagnostics.push(Diagnostic::error(
                    path.display().to_string(),
                    None,
                    format!("cannot read it: {e}"),
                ));
                continue;
            }
        };
        let origin = format!("file:{}", root.display());
        let input = WalkInput {
            config,
            root: root.clone(),
            boundary: file_boundary(&root),
            key_prefix: KeyPrefix::File,
            origin: origin.clone(),
            previous: Previous::default(),
            progress: None,
            root_parent: String::new(),
        };
        let output = walk::walk(
            &input,
            &LocationId::from("validate"),
            &walk::fingerprint(&config.rules, &origin),
        );
        let read = postmortems_of(&input, &output);
        report.files += output.files_read;
        report.entities += output.entities.len();
        report.rejected += output.rejected;
        report.diagnostics.extend(output.diagnostics);
        report.postmortems += read.postmortems.len();
        report.diagnostics.extend(read.diagnostics);
    }
    report
}

#[cfg(test)]
mod tests;

/// The postmortems beside the catalog files of every registered location, read from this
/// machine's copies (folders and files, git checkouts made earlier; nothing is fetched), by
/// location, with the problems met: for a server before its first reading of the sources,
/// and for commands that do not read them (`pave dora`). Sources read over HTTP have no
/// copy and are skipped.
///
/// # Errors
/// Store failures and a failed worker.
pub async fn stored_postmortems(
    store: &dyn Store,
    config: &IngestConfig,
) -> Result<
    Vec<(
        LocationId,
        Vec<pave_dora::postmortem::Postmortem>,
        Vec<Diagnostic>,
    )>,
    IngestError,
> {
    let mut work = Vec::new();
    for location in store.locations().await? {
        let heads = store.location_entity_heads(&location.id).await?;
        work.push((location, heads));
    }
    let git_cache = config.git_cache.clone();
    tokio::task::spawn_blocking(move || {
        work.into_iter()
            .filter_map(|(location, heads)| {
                let source = Source::from_location(location.kind, &location.target).ok()?;
                let git_prefix = match &source {
                    Source::Path(_) => None,
                    Source::Git { url, reference } => {
                        Some(git_key_prefix(url, reference.as_deref().unwrap_or("HEAD")))
                    }
                    Source::Url {
                        repository,
                        reference,
                        ..
                    } => Some(git_key_prefix(repository, reference)),
                    Source::Http { .. } => return None,
                };
                let mut boundary = None;
                let files: Vec<(PathBuf, String)> = heads
                    .iter()
                    .filter_map(|head| {
                        let found = source_file(&location, &head.location_key, &git_cache).ok()?;
                        boundary.get_or_insert(found.boundary);
                        Some((found.file, head.entity_ref.clone()))
                    })
                    .collect();
                let boundary = boundary?;
                let shown = |path: &Path| match (&git_prefix, path.strip_prefix(&boundary)) {
                    (Some(prefix), Ok(rel)) => format!("{prefix}/{}", rel.display()),
                    _ => path.display().to_string(),
                };
                let read = postmortems::read_beside(&files, &boundary, &shown);
                Some((location.id, read.postmortems, read.diagnostics))
            })
            .collect()
    })
    .await
    .map_err(|source| IngestError::Worker {
        task: "reading postmortems",
        source,
    })
}
