//! Catalog operations besides reading sources: registering, previewing, moving and removing
//! locations, removing one entity, and the lookups that need the store (ancestry, the
//! location of an entity, what a repository holds).

use pave_catalog::{CatalogRules, ProcessContext, process_entity};
use pave_ingest::{Analysis, IngestError, IngestReport, LocationKind, Preview, Source};
use pave_store::audit::Outcome;
use pave_store::{LocationId, LocationRow, LocationUpdate, StoreError};
use serde_json::{Value, json};

use crate::{Platform, Principal};

/// Why a location could not be registered, read or moved.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// The type or target is not one pave reads, or is not allowed.
    #[error("{0}")]
    Invalid(String),
    #[error("Found no location with ID {0}")]
    NotFound(LocationId),
    #[error("Location {0} already exists")]
    Conflict(String),
    /// The source could not be read (a git host or web server that fails, a folder that is
    /// gone): the caller's request was fine.
    #[error("{0}")]
    Unreadable(#[source] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(IngestError),
}

impl From<IngestError> for LocationError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Store(e) => LocationError::Store(e),
            e @ IngestError::Unreadable { .. } => LocationError::Unreadable(e),
            e @ IngestError::Invalid { .. } => LocationError::Invalid(e.to_string()),
            e => LocationError::Ingest(e),
        }
    }
}

/// One link of an entity's ancestry: the entity and what emitted it.
#[derive(Debug, Clone)]
pub struct AncestryLink {
    pub entity: Value,
    pub parent_entity_refs: Vec<String>,
}

/// Ancestry is a short chain (entity → Location → … → generated Location); this bounds a
/// corrupt store's cycle.
const MAX_ANCESTRY: usize = 64;

impl Platform {
    /// Checks `(type, target)`, named by a caller of the API, as a location pave can read
    /// and may: inside `catalog.reading.fileRoots`, on a host `catalog.reading.allow` names,
    /// at addresses that may be connected to. Returns the source with the `(type, target)` it
    /// is stored under. Nothing is read and nothing connected to (host names are resolved).
    ///
    /// # Errors
    /// [`LocationError::Invalid`], naming what is wrong and the setting that would allow it;
    /// the same refusal whether or not a path outside the roots exists.
    pub async fn admit_location(
        &self,
        kind: &str,
        target: &str,
    ) -> Result<(Source, LocationKind, String), LocationError> {
        let config = self.ingest.clone();
        let (kind, target) = (kind.to_owned(), target.to_owned());
        // Resolving a host blocks.
        tokio::task::spawn_blocking(move || config.admit_named(&kind, &target))
            .await
            .map_err(|source| {
                LocationError::Ingest(IngestError::Worker {
                    task: "checking a location against the allow-lists",
                    source,
                })
            })?
            .map_err(|e| match e {
                IngestError::Store(e) => LocationError::Store(e),
                e => LocationError::Invalid(e.to_string()),
            })
    }

    /// What a location would contribute, read without registering or storing anything,
    /// and whether it is registered already.
    ///
    /// # Errors
    /// Invalid locations and sources that cannot be read.
    pub async fn preview_location(
        &self,
        _principal: &Principal,
        kind: &str,
        target: &str,
    ) -> Result<(LocationKind, String, Preview, bool), LocationError> {
        let (source, kind, target) = self.admit_location(kind, target).await?;
        let preview = pave_ingest::preview(&source, &self.ingest).await?;
        let exists = self
            .store
            .locations()
            .await?
            .iter()
            .any(|l| l.kind == kind && l.target == target);
        Ok((kind, target, preview, exists))
    }

    /// Registers a location and reads it. An existing one is refused, or with
    /// `refresh_existing` read again (Backstage's `onConflict`); one that was registered but
    /// never read (a crash between the two) is read again either way, so a retry succeeds.
    /// Returns the location, whether it existed, and the report.
    ///
    /// # Errors
    /// Invalid locations, conflicts, store and ingestion failures.
    pub async fn add_location(
        &self,
        principal: &Principal,
        kind: &str,
        target: &str,
        refresh_existing: bool,
    ) -> Result<(LocationRow, bool, IngestReport), LocationError> {
        let (_, kind, target) = self.admit_location(kind, target).await?;
        let event = principal.event(
            "location.create",
            &format!("{kind}:{target}"),
            Outcome::Success,
            json!({"type": kind.as_str(), "target": &target}),
        );
        let (location, created) = self
            .store
            .add_location(kind, &target, pave_ingest::now_millis(), &[event])
            .await?;
        let never_read = location.refreshed_at.is_none();
        if !created && !refresh_existing && !never_read {
            return Err(LocationError::Conflict(format!("{kind}:{target}")));
        }
        let report = self
            .refresh(principal, std::slice::from_ref(&location), None)
            .await?;
        // A new location that cannot be read is not registered: the caller's retry must not
        // find an empty location in its way.
        let failed = report.locations.iter().find_map(|l| l.failed.clone());
        if let Some(why) = failed.filter(|_| created) {
            self.remove_location(principal, &location.id).await?;
            return Err(LocationError::Unreadable(IngestError::Unreadable {
                source_text: format!("{kind}:{target}"),
                message: why,
            }));
        }
        Ok((location, !created, report))
    }

    /// Moves a location to a new type and target and reads it there: what it produced
    /// before and does not produce now is removed.
    ///
    /// # Errors
    /// Invalid locations, an unknown id, a target another location has, store and
    /// ingestion failures.
    pub async fn update_location(
        &self,
        principal: &Principal,
        id: &LocationId,
        kind: &str,
        target: &str,
    ) -> Result<LocationRow, LocationError> {
        let (_, kind, target) = self.admit_location(kind, target).await?;
        let event = principal.event(
            "location.update",
            id.as_str(),
            Outcome::Success,
            json!({"type": kind.as_str(), "target": &target}),
        );
        let updated = {
            let _source = self.sources.lock(id).await;
            self.store
                .update_location(id, kind, &target, &[event])
                .await?
        };
        let location = match updated {
            LocationUpdate::Updated(location) => location,
            LocationUpdate::NotFound => return Err(LocationError::NotFound(id.clone())),
            LocationUpdate::Conflict => {
                return Err(LocationError::Conflict(format!("{kind}:{target}")));
            }
        };
        self.refresh(principal, std::slice::from_ref(&location), None)
            .await?;
        Ok(location)
    }

    /// The stored entities a location produced, as the snapshot serves them.
    ///
    /// # Errors
    /// Store failures.
    pub async fn location_entities(
        &self,
        _principal: &Principal,
        id: &LocationId,
    ) -> Result<Vec<Value>, StoreError> {
        let catalog = std::sync::Arc::clone(&self.snapshot().catalog);
        let rows = self.store.location_entities(id).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                catalog
                    .get(&r.entity_ref)
                    .map(pave_catalog::query::Record::entity)
            })
            .collect())
    }

    /// Removes the entity with `uid` until its location is read again (Backstage's
    /// `DELETE /entities/by-uid`): its location's file state is dropped so that the next
    /// refresh reads every file and brings it back, unless the location is gone by then.
    /// Returns whether there was such an entity.
    ///
    /// # Errors
    /// Store failures, and a failed rebuild of the snapshot.
    pub async fn remove_entity(
        &self,
        principal: &Principal,
        uid: &str,
    ) -> Result<bool, IngestError> {
        let Some(key) = self
            .snapshot()
            .catalog
            .get_by_uid(uid)
            .map(|r| r.key.to_string())
        else {
            return Ok(false);
        };
        let Some(origin) = self.store.entity_origin(&key).await? else {
            return Ok(false);
        };
        {
            let _source = self.sources.lock(&origin.location_id).await;
            let files = self.store.files(&origin.location_id).await?;
            let batch = pave_store::Batch {
                audit: vec![principal.event(
                    "entity.delete",
                    &key,
                    Outcome::Success,
                    json!({"uid": uid}),
                )],
                delete_entities: vec![key],
                delete_files: files.into_iter().map(|f| (f.location_id, f.path)).collect(),
                ..pave_store::Batch::default()
            };
            self.store.apply(&batch).await?;
        }
        self.changed().await?;
        Ok(true)
    }

    /// The registered location an entity came from.
    ///
    /// # Errors
    /// Store failures.
    pub async fn location_of(
        &self,
        _principal: &Principal,
        entity_ref: &str,
    ) -> Result<Option<LocationRow>, StoreError> {
        if self.snapshot().catalog.get(entity_ref).is_none() {
            return Ok(None);
        }
        match self
            .store
            .entity_origin(&pave_catalog::EntityKey::of_full_ref(entity_ref))
            .await?
        {
            Some(origin) => self.store.location(&origin.location_id).await,
            None => Ok(None),
        }
    }

    /// The entity and, link by link, what emitted it, up to its registered location's
    /// generated `Location` (Backstage's `…/ancestry`). `None` when there is no such entity.
    ///
    /// # Errors
    /// Store failures.
    pub async fn ancestry(
        &self,
        _principal: &Principal,
        entity_ref: &str,
    ) -> Result<Option<(String, Vec<AncestryLink>)>, StoreError> {
        let snapshot = self.snapshot();
        let catalog = &snapshot.catalog;
        let Some(root) = catalog.get(entity_ref) else {
            return Ok(None);
        };
        let root_ref = root.key.to_string();
        let mut links = Vec::new();
        let mut seen = std::collections::HashSet::from([root_ref.clone()]);
        let mut current = Some(root);
        while let Some(record) = current.take() {
            if links.len() >= MAX_ANCESTRY {
                break;
            }
            let parent = self.parent_of(&record.key).await?;
            let parent_record = parent.as_deref().and_then(|p| catalog.get(p));
            links.push(AncestryLink {
                entity: record.entity(),
                parent_entity_refs: parent_record
                    .map(|p| p.key.to_string())
                    .into_iter()
                    .collect(),
            });
            current = parent_record.filter(|p| seen.insert(p.key.to_string()));
        }
        Ok(Some((root_ref, links)))
    }

    /// What emitted `entity_ref`: the stored parent, or for rows stored before parents were
    /// recorded, the generated `Location` of the entity's location.
    async fn parent_of(&self, entity_ref: &str) -> Result<Option<String>, StoreError> {
        let Some(origin) = self.store.entity_origin(entity_ref).await? else {
            return Ok(None);
        };
        if !origin.parent_ref.is_empty() {
            return Ok(Some(origin.parent_ref));
        }
        let Some(location) = self.store.location(&origin.location_id).await? else {
            return Ok(None);
        };
        let generated = pave_ingest::generated_location_ref(location.kind, &location.target);
        Ok((generated != entity_ref).then_some(generated))
    }

    /// What a repository or folder holds for the catalog (`POST /analyze-location`).
    ///
    /// # Errors
    /// Invalid locations and sources that cannot be read.
    pub async fn analyze_location(
        &self,
        _principal: &Principal,
        kind: &str,
        target: &str,
        catalog_filename: &str,
    ) -> Result<Analysis, LocationError> {
        let (source, _, _) = self.admit_location(kind, target).await?;
        Ok(pave_ingest::analyze(&source, &self.ingest, catalog_filename).await?)
    }

    /// Checks an entity as ingestion would, without storing it: `Ok` or the problems, each
    /// `(message, dotted path)`.
    pub fn validate_entity(
        &self,
        entity: Value,
        location: &str,
    ) -> Result<(), Vec<(String, String)>> {
        let rules: &CatalogRules = &self.ingest.rules;
        let context = ProcessContext {
            rules,
            location,
            origin_location: location,
            placeholders: None,
        };
        process_entity(entity, &context)
            .map(|_| ())
            .map_err(|rejected| {
                rejected
                    .problems
                    .iter()
                    .map(|p| (p.message.clone(), p.dotted_path()))
                    .collect()
            })
    }
}
