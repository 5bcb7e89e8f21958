//! Catalog writes the API asks for besides ingestion itself: registering (or re-reading)
//! locations, moving them, removing one entity, and the lookups that need the store
//! (ancestry, a location by entity). Each write holds the refresh lock, as ingestion does.

use pave_ingest::{IngestError, IngestReport, Source};
use pave_store::{LocationRow, LocationUpdate, StoreError};
use serde_json::Value;

use crate::AppState;

/// Why a location could not be registered or moved.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// The type or target is not one pave reads, or is not allowed.
    #[error("{0}")]
    Invalid(String),
    #[error("Found no location with ID {0}")]
    NotFound(String),
    #[error("Location {0} already exists")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
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

impl AppState {
    /// Checks `(type, target)` as a location pave can read (and, for HTTP, may fetch) and
    /// returns the source with the `(type, target)` it is stored under.
    ///
    /// # Errors
    /// [`LocationError::Invalid`], naming what is wrong.
    pub fn resolve_location(
        &self,
        kind: &str,
        target: &str,
    ) -> Result<(Source, String, String), LocationError> {
        let (source, kind, target) =
            Source::resolve(kind, target).map_err(|e| LocationError::Invalid(e.to_string()))?;
        if let Source::Http { url } = &source {
            pave_ingest::http::check_allowed(&self.ingest.reading_allow, url)
                .map_err(LocationError::Invalid)?;
        }
        Ok((source, kind, target))
    }

    /// Registers a location and reads it. An existing one is refused, or with `refresh`
    /// read again (Backstage's `onConflict`). Returns the location, whether it existed, and
    /// the ingestion report.
    ///
    /// # Errors
    /// Invalid locations, conflicts, store and ingestion failures.
    pub async fn add_location(
        &self,
        kind: &str,
        target: &str,
        refresh_existing: bool,
    ) -> Result<(LocationRow, bool, IngestReport), LocationError> {
        let (_, kind, target) = self.resolve_location(kind, target)?;
        let (location, created) = self
            .store
            .add_location(&kind, &target, pave_ingest::now_millis())
            .await?;
        if !created && !refresh_existing {
            return Err(LocationError::Conflict(format!("{kind}:{target}")));
        }
        let report = self.refresh(std::slice::from_ref(&location)).await?;
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
        id: &str,
        kind: &str,
        target: &str,
    ) -> Result<LocationRow, LocationError> {
        let (_, kind, target) = self.resolve_location(kind, target)?;
        let updated = {
            let _guard = self.refresh_lock.lock().await;
            self.store.update_location(id, &kind, &target).await?
        };
        let location = match updated {
            LocationUpdate::Updated(location) => location,
            LocationUpdate::NotFound => return Err(LocationError::NotFound(id.to_owned())),
            LocationUpdate::Conflict => {
                return Err(LocationError::Conflict(format!("{kind}:{target}")));
            }
        };
        self.refresh(std::slice::from_ref(&location)).await?;
        Ok(location)
    }

    /// Removes the entity with `uid` until its location is read again (Backstage's
    /// `DELETE /entities/by-uid`): its location's file state is dropped so that the next
    /// refresh reads every file and brings it back, unless the location is gone by then.
    /// Returns whether there was such an entity.
    ///
    /// # Errors
    /// Store failures, and a failed rebuild of the index.
    pub async fn remove_entity(&self, uid: &str) -> Result<bool, IngestError> {
        let Some(key) = self.catalog().get_by_uid(uid).map(|r| r.key.to_string()) else {
            return Ok(false);
        };
        let _guard = self.refresh_lock.lock().await;
        let Some(origin) = self.store.entity_origin(&key).await? else {
            return Ok(false);
        };
        let files = self.store.files(&origin.location_id).await?;
        let batch = pave_store::Batch {
            delete_entities: vec![key],
            delete_files: files.into_iter().map(|f| (f.location_id, f.path)).collect(),
            ..pave_store::Batch::default()
        };
        self.store.apply(&batch).await?;
        self.reload().await?;
        Ok(true)
    }

    /// The registered location an entity came from.
    ///
    /// # Errors
    /// Store failures.
    pub async fn location_of(&self, entity_ref: &str) -> Result<Option<LocationRow>, StoreError> {
        if self.catalog().get(entity_ref).is_none() {
            return Ok(None);
        }
        match self.store.entity_origin(&entity_ref.to_lowercase()).await? {
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
        entity_ref: &str,
    ) -> Result<Option<(String, Vec<AncestryLink>)>, StoreError> {
        let catalog = self.catalog();
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
        let generated = pave_ingest::generated_location_ref(&location.kind, &location.target);
        Ok((generated != entity_ref).then_some(generated))
    }
}
