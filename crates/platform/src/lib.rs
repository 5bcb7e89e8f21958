//! The application layer of the catalog: one [`Platform`] owns the store, the snapshot that
//! readers see, and every operation the server, the CLI and the scheduler perform. Front
//! ends translate HTTP requests and arguments into calls here; nothing else writes.
//!
//! - **Every operation names its [`Principal`]**, so that authorization and audit have one
//!   place to hook (today everyone is the local operator or the scheduler).
//! - **Writes are serialized per source**: reading a location holds that location's lock
//!   only, so a slow git host delays refreshes of its own source, not registrations of
//!   others. Each location's reading is one transaction.
//! - **Reads go through one immutable [`Snapshot`]** (the catalog index and the SLOs of its
//!   entities), rebuilt after changes and swapped atomically; rebuilds are coalesced.

mod dir_ref;
pub mod docs;
mod locks;
mod operations;
mod rebuild;
pub mod slo;
pub mod templates;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use pave_auth::{Subject, SubjectKind};
use pave_catalog::Catalog;
use pave_dora::postmortem::Postmortem;
use pave_ingest::{IngestConfig, IngestError, IngestReport, Progress, Source};
use pave_store::audit::{Actor, ActorKind, AuditEvent, Outcome};
use pave_store::{LocationId, LocationRow, Store, StoreError};

pub use operations::{AncestryLink, LocationError};
pub use slo::SloIndex;

/// Who asks for an operation: what authorization decides on and what the audit log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person at the controls of the database itself: the CLI, and every caller of a
    /// server run without an `auth` section (on loopback only, unless told otherwise).
    Operator,
    /// The platform itself: the scheduled refreshes and the reading of sources at start.
    Scheduler,
    /// Someone the server authenticated, with where the request came from.
    Request(Arc<RequestPrincipal>),
}

/// An authenticated caller of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPrincipal {
    /// Shared with the server's token cache, which builds it once per lookup.
    pub subject: Arc<Subject>,
    /// The client's address.
    pub source: Option<String>,
    pub request_id: Option<String>,
}

impl Principal {
    /// A caller the server authenticated.
    pub fn request(
        subject: impl Into<Arc<Subject>>,
        source: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        Principal::Request(Arc::new(RequestPrincipal {
            subject: subject.into(),
            source,
            request_id,
        }))
    }

    /// Who this is, as authorization sees them.
    pub fn subject(&self) -> std::borrow::Cow<'_, Subject> {
        match self {
            Principal::Operator => std::borrow::Cow::Owned(Subject::operator()),
            Principal::Scheduler => std::borrow::Cow::Owned(Subject::scheduler()),
            Principal::Request(request) => std::borrow::Cow::Borrowed(request.subject.as_ref()),
        }
    }

    /// The actor of this principal's audit records.
    pub fn actor(&self) -> Actor {
        let subject = self.subject();
        let (kind, id) = match &subject.kind {
            SubjectKind::User { entity_ref } => (ActorKind::User, entity_ref.clone()),
            SubjectKind::Token { id, .. } => (ActorKind::Token, id.clone()),
            SubjectKind::Workload {
                issuer, subject, ..
            } => (ActorKind::Workload, format!("{issuer}#{subject}")),
            SubjectKind::Guest => (ActorKind::Guest, subject.display_name.clone()),
            SubjectKind::Operator => (ActorKind::Operator, String::new()),
            SubjectKind::Scheduler => (ActorKind::Scheduler, String::new()),
            SubjectKind::Anonymous => (ActorKind::Anonymous, String::new()),
        };
        Actor {
            kind,
            id,
            role: (!subject.roles.is_empty()).then(|| subject.roles.join(",")),
        }
    }

    /// An audit event of this principal's, now.
    pub fn event(
        &self,
        action: &str,
        target: &str,
        outcome: Outcome,
        mut details: serde_json::Value,
    ) -> AuditEvent {
        // A workload's actor id is its token's subject; the entity its claims mapped to is
        // what a reader of the log asks about ("which pipeline of which service").
        if let SubjectKind::Workload {
            entity: Some(entity),
            ..
        } = &self.subject().kind
            && let Some(map) = details.as_object_mut()
        {
            map.insert(
                "workloadEntity".into(),
                serde_json::Value::from(entity.as_str()),
            );
        }
        let (source, request_id) = match self {
            Principal::Request(request) => (request.source.clone(), request.request_id.clone()),
            _ => (None, None),
        };
        AuditEvent {
            time_ms: pave_ingest::now_millis(),
            actor: self.actor(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome,
            source,
            request_id,
            details,
        }
    }
}

/// What readers see, built together and swapped as one.
#[derive(Default)]
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub slos: Arc<SloIndex>,
}

/// The catalog's application layer. Cheap to share (`Arc`); every method may be called
/// from any task.
pub struct Platform {
    store: Arc<dyn Store>,
    ingest: IngestConfig,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Whether a snapshot has been loaded from the store since start.
    loaded: AtomicBool,
    /// One lock per location: reading a source, moving or removing it.
    sources: locks::SourceLocks,
    /// Index rebuilds, one at a time; holds the relations the index was stitched from.
    rebuild: tokio::sync::Mutex<rebuild::Relations>,
    /// What ingestions wrote since the index was built, to update it from (`rebuild.rs`).
    pending: std::sync::Mutex<Vec<pave_ingest::Written>>,
    /// The store's change version the snapshot was built from: a rebuild is needed when the
    /// store's has moved (a write here or on another replica), and several writes that
    /// finish together rebuild once.
    built: AtomicI64,
    /// This process, as a lease holder among replicas.
    holder: String,
    /// Whether this replica held the scheduler's lease at its last renewal
    /// ([`Platform::keep_the_lead`]).
    leading: AtomicBool,
    /// Whether writes rebuild the snapshot (a server) or leave it to an explicit
    /// [`Platform::reload`] (a one-shot CLI command that never reads it).
    keeps_snapshot: bool,
    /// The postmortems read beside each location's catalog files at its last reading by
    /// this process (`pave_ingest::postmortems`); a location that could not be read keeps
    /// the previous ones.
    postmortems: RwLock<HashMap<LocationId, Arc<Vec<Postmortem>>>>,
}

impl Platform {
    /// A platform that serves: every change rebuilds the snapshot.
    pub fn new(store: Arc<dyn Store>, ingest: IngestConfig) -> Arc<Platform> {
        Self::build(store, ingest, true)
    }

    /// A platform for one command that writes and exits: changes are not followed by a
    /// snapshot rebuild (call [`Platform::reload`] to read one).
    pub fn without_snapshot(store: Arc<dyn Store>, ingest: IngestConfig) -> Arc<Platform> {
        Self::build(store, ingest, false)
    }

    fn build(store: Arc<dyn Store>, ingest: IngestConfig, keeps_snapshot: bool) -> Arc<Platform> {
        Arc::new(Platform {
            store,
            ingest,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            loaded: AtomicBool::new(false),
            sources: locks::SourceLocks::default(),
            rebuild: tokio::sync::Mutex::new(None),
            pending: std::sync::Mutex::new(Vec::new()),
            built: AtomicI64::new(-1),
            holder: format!("{}-{}", std::process::id(), pave_ingest::now_millis()),
            leading: AtomicBool::new(false),
            keeps_snapshot,
            postmortems: RwLock::new(HashMap::new()),
        })
    }

    /// The store (for reads the platform has no operation for yet, and for health checks).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// How sources are read.
    pub fn ingest_config(&self) -> &IngestConfig {
        &self.ingest
    }

    /// What readers see now (cheap: an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Whether a snapshot has been loaded from the store (readiness).
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    fn swap(&self, snapshot: Snapshot) {
        let snapshot = Arc::new(snapshot);
        match self.snapshot.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }

    /// Rebuilds the snapshot from the store unless it already holds every change written so
    /// far, and swaps it in; after a small write of this process, updates the index from
    /// what it wrote instead (`rebuild.rs`).
    ///
    /// # Errors
    /// When the store cannot be read or building the index failed; the old snapshot stays.
    pub async fn reload(&self) -> Result<(), IngestError> {
        self.refresh_snapshot().await
    }

    /// Re-reads the SLO specs entities name (the specs may change when the entities do
    /// not) and swaps in a snapshot with them.
    async fn reread_slos(&self) -> Result<(), IngestError> {
        let _guard = self.rebuild.lock().await;
        let catalog = Arc::clone(&self.snapshot().catalog);
        let slos = self.read_slos(&catalog).await?;
        self.swap(Snapshot { catalog, slos });
        Ok(())
    }

    async fn read_slos(&self, catalog: &Arc<Catalog>) -> Result<Arc<SloIndex>, IngestError> {
        // Spec paths are relative to each entity's catalog file: found from the origin stored
        // with the entity (its location and file), not from its annotations.
        // A scan of every entity's text: on the blocking pool, like the rest of a rebuild.
        let annotated = {
            let catalog = Arc::clone(catalog);
            tokio::task::spawn_blocking(move || SloIndex::annotated(&catalog))
                .await
                .map_err(|source| IngestError::Worker {
                    task: "reading SLO annotations",
                    source,
                })?
        };
        if annotated.is_empty() {
            return Ok(Arc::new(SloIndex::default()));
        }
        let (origins, locations) = (
            self.store.entity_origins(&annotated).await?,
            self.store.locations().await?,
        );
        let catalog = Arc::clone(catalog);
        let git_cache = self.ingest.git_cache.clone();
        let index = tokio::task::spawn_blocking(move || {
            let locations: HashMap<&str, &LocationRow> =
                locations.iter().map(|l| (l.id.as_str(), l)).collect();
            let sources = origins
                .into_iter()
                .map(|(key, origin)| {
                    let source = match locations.get(origin.location_id.as_str()) {
                        Some(location) => {
                            slo::spec_source(location, &origin.location_key, &git_cache)
                        }
                        None => Err("the entity's location is no longer registered".to_owned()),
                    };
                    (key, source)
                })
                .collect();
            SloIndex::build(&catalog, &sources)
        })
        .await
        .map_err(|source| IngestError::Worker {
            task: "reading SLO specs",
            source,
        })?;
        if !index.is_empty() {
            tracing::info!(entities = index.len(), "SLO specs read");
        }
        Ok(Arc::new(index))
    }

    /// Rebuilds the snapshot after a write (the store's version moved with it).
    async fn changed(&self) -> Result<(), IngestError> {
        if !self.keeps_snapshot {
            return Ok(());
        }
        self.reload().await
    }

    /// Follows changes other replicas write: when the store announces one (PostgreSQL's
    /// LISTEN/NOTIFY) and at least every `every`, compares the store's change version with
    /// the snapshot's and rebuilds when it moved. Runs until the task is
    /// dropped; a failed check is logged and tried again.
    pub async fn follow_changes(self: Arc<Self>, every: Duration) {
        loop {
            // PostgreSQL wakes us when another replica commits a change (LISTEN/NOTIFY);
            // otherwise, and as a safety net, the version is compared every `every`.
            if !self.store.wait_for_change(every).await {
                tokio::time::sleep(every).await;
            }
            let moved = match self.store.change_version().await {
                Ok(version) => version != self.built.load(Ordering::Acquire),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the catalog version");
                    false
                }
            };
            if moved && let Err(e) = self.reload().await {
                tracing::error!(error = %e, "rebuilding the catalog after a change failed");
            }
        }
    }

    /// Takes or renews the lead of the scheduled refreshes for `term`: one replica reads the
    /// sources on schedule; when it dies, another takes over once its term ran out.
    ///
    /// # Errors
    /// Store failures.
    pub async fn lead(&self, term: Duration) -> Result<bool, StoreError> {
        let term = i64::try_from(term.as_millis()).unwrap_or(i64::MAX);
        self.store
            .acquire_lease(
                SCHEDULER_LEASE,
                &self.holder,
                pave_ingest::now_millis(),
                term,
            )
            .await
    }

    /// Takes or renews the lead every [`LEAD_RENEW`] for [`LEAD_TERM`], forever: the
    /// leader runs the singleton jobs (scheduled refreshes, audit upkeep) while
    /// [`Platform::is_leading`]. A leader that dies is replaced within `LEAD_TERM +
    /// LEAD_RENEW` whatever the refresh interval; one that stops gives the lead up at once
    /// ([`Platform::resign`]).
    pub async fn keep_the_lead(self: Arc<Self>) {
        loop {
            let leading = match self.lead(LEAD_TERM).await {
                Ok(leading) => leading,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot renew the scheduler lease");
                    false
                }
            };
            if self.leading.swap(leading, Ordering::AcqRel) != leading {
                if leading {
                    tracing::info!("this replica leads the scheduled work");
                } else {
                    tracing::info!("another replica leads the scheduled work");
                }
            }
            tokio::time::sleep(LEAD_RENEW).await;
        }
    }

    /// Whether this replica leads the scheduled work ([`Platform::keep_the_lead`]).
    pub fn is_leading(&self) -> bool {
        self.leading.load(Ordering::Acquire)
    }

    /// Gives the lead up (on shutdown), so another replica takes it at its next renewal.
    pub async fn resign(&self) {
        if self.leading.swap(false, Ordering::AcqRel)
            && let Err(e) = self
                .store
                .release_lease(SCHEDULER_LEASE, &self.holder)
                .await
        {
            tracing::warn!(error = %e, "cannot give the scheduler lease up");
        }
    }

    /// Waits (up to [`SOURCE_WAIT`], or with [`Busy::Skip`] not at all) until no other
    /// replica is reading `location` and takes the lease; `false` when another still holds it.
    async fn lease_source(&self, location: &LocationId, busy: Busy) -> Result<bool, StoreError> {
        let name = format!("source:{location}");
        let started = Instant::now();
        loop {
            let now = pave_ingest::now_millis();
            if self
                .store
                .acquire_lease(&name, &self.holder, now, SOURCE_LEASE_MS)
                .await?
            {
                return Ok(true);
            }
            if busy == Busy::Skip || started.elapsed() > SOURCE_WAIT {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Registers `sources` (those not registered yet) and returns their locations in order.
    ///
    /// # Errors
    /// Sources that cannot be registered (a missing path, a refused URL) and store failures.
    pub async fn register(
        &self,
        principal: &Principal,
        sources: &[Source],
    ) -> Result<Vec<LocationRow>, IngestError> {
        let audit = |kind: pave_store::LocationKind, target: &str| {
            vec![principal.event(
                "location.create",
                &format!("{kind}:{target}"),
                Outcome::Success,
                serde_json::json!({"type": kind.as_str(), "target": target}),
            )]
        };
        pave_ingest::register_audited(self.store.as_ref(), sources, &audit).await
    }

    /// The registered locations.
    ///
    /// # Errors
    /// Store failures.
    pub async fn locations(&self, _principal: &Principal) -> Result<Vec<LocationRow>, StoreError> {
        self.store.locations().await
    }

    /// One registered location.
    ///
    /// # Errors
    /// Store failures.
    pub async fn location(
        &self,
        _principal: &Principal,
        id: &LocationId,
    ) -> Result<Option<LocationRow>, StoreError> {
        self.store.location(id).await
    }

    /// Reads `locations`, each under its own lock and in its own transaction, in order (the
    /// first claimant of an entity keeps it), then rebuilds the snapshot once if anything
    /// changed. A location removed meanwhile is skipped: each is looked up again once its
    /// lock is held, and read as it is then.
    ///
    /// # Errors
    /// Store failures and failed workers; a location that cannot be read is a report, not
    /// an error.
    pub async fn refresh(
        &self,
        principal: &Principal,
        locations: &[LocationRow],
        progress: Option<Arc<dyn Progress>>,
    ) -> Result<IngestReport, IngestError> {
        self.refresh_each(principal, locations, progress, Busy::Wait)
            .await
    }

    async fn refresh_each(
        &self,
        principal: &Principal,
        locations: &[LocationRow],
        progress: Option<Arc<dyn Progress>>,
        busy: Busy,
    ) -> Result<IngestReport, IngestError> {
        let started = Instant::now();
        let mut report = IngestReport::default();
        let mut changed = false;
        for location in locations {
            let _source = match busy {
                Busy::Wait => self.sources.lock(&location.id).await,
                Busy::Skip => match self.sources.try_lock(&location.id) {
                    Some(guard) => guard,
                    None => {
                        // Someone is reading it now (a registration, a refresh of it): that
                        // reading is as fresh as this one would be, and waiting for a slow
                        // source would hold up every location after it.
                        tracing::debug!(location = %location.target, "being read elsewhere; skipped");
                        continue;
                    }
                },
            };
            // Removed (or moved) while this waited: read what is registered now.
            let Some(location) = self.store.location(&location.id).await? else {
                tracing::debug!(location = %location.target, "removed before its reading; skipped");
                continue;
            };
            if !self.lease_source(&location.id, busy).await? {
                if busy == Busy::Skip {
                    // Another replica reads it now: as with a reading here, left to it.
                    tracing::debug!(location = %location.target, "being read by another replica; skipped");
                    continue;
                }
                let mut busy = pave_ingest::LocationReport::new(&location);
                busy.failed = Some(format!(
                    "another replica has been reading it for over {} s",
                    SOURCE_WAIT.as_secs()
                ));
                report.locations.push(busy);
                continue;
            }
            // Readings someone asked for are recorded; the scheduler's are routine.
            let audit = match principal {
                Principal::Scheduler => Vec::new(),
                _ => vec![principal.event(
                    "location.refresh",
                    location.id.as_str(),
                    Outcome::Success,
                    serde_json::json!({"type": location.kind.as_str(), "target": &location.target}),
                )],
            };
            let result = pave_ingest::ingest_audited(
                self.store.as_ref(),
                &self.ingest,
                std::slice::from_ref(&location),
                progress.clone(),
                audit,
            )
            .await;
            let _ = self
                .store
                .release_lease(&format!("source:{}", location.id), &self.holder)
                .await;
            let one = match result {
                Ok(mut one) => {
                    self.note_written(one.written.take());
                    self.keep_postmortems(&one);
                    one
                }
                // Removed by another replica while it was read (its rows would name a
                // location that is gone): nothing to write, and the others go on.
                Err(IngestError::Store(_))
                    if matches!(self.store.location(&location.id).await, Ok(None)) =>
                {
                    tracing::info!(location = %location.target, "removed while it was read; skipped");
                    continue;
                }
                Err(e) => {
                    ::metrics::counter!("pave_ingest_runs_total", "outcome" => "error")
                        .increment(1);
                    if changed {
                        self.changed().await?;
                    }
                    return Err(e);
                }
            };
            let totals = one.totals();
            changed |= totals.added + totals.updated + totals.removed > 0;
            report.locations.extend(one.locations);
        }
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        ::metrics::histogram!("pave_ingest_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        let totals = report.totals();
        let outcome = if report.has_failures() {
            "partial"
        } else {
            "ok"
        };
        ::metrics::counter!("pave_ingest_runs_total", "outcome" => outcome).increment(1);
        ::metrics::counter!("pave_ingest_rejected_total").increment(totals.rejected as u64);
        for d in report.diagnostics().filter(|d| d.is_error()).take(20) {
            tracing::warn!("{d}");
        }
        tracing::info!(
            added = totals.added,
            updated = totals.updated,
            removed = totals.removed,
            rejected = totals.rejected,
            errors = totals.errors,
            elapsed_ms = report.duration_ms,
            rss_mb = resident_mb(),
            "ingestion finished"
        );
        if changed || !self.is_loaded() {
            self.changed().await?;
        } else if self.keeps_snapshot {
            self.reread_slos().await?;
        }
        Ok(report)
    }

    /// Reads every registered location (the scheduled refresh and `POST /refresh` without an
    /// entity). A location another request or replica is reading right now is left to that
    /// reading, so a hanging source holds up only its own reading.
    ///
    /// # Errors
    /// As [`Platform::refresh`].
    pub async fn refresh_all(&self, principal: &Principal) -> Result<IngestReport, IngestError> {
        let locations = self.store.locations().await?;
        self.refresh_each(principal, &locations, None, Busy::Skip)
            .await
    }

    /// Reads the location `entity_ref` (canonical, lower case) came from. `None` when there
    /// is no such entity.
    ///
    /// # Errors
    /// As [`Platform::refresh`].
    pub async fn refresh_entity(
        &self,
        principal: &Principal,
        entity_ref: &str,
    ) -> Result<Option<IngestReport>, IngestError> {
        let Some(origin) = self.store.entity_origin(entity_ref).await? else {
            return Ok(None);
        };
        let Some(location) = self.store.location(&origin.location_id).await? else {
            return Ok(None);
        };
        self.refresh(principal, &[location], None).await.map(Some)
    }

    /// Unregisters a location and drops its entities. Holds the location's lock, so that a
    /// reading of it running now does not write entities for a location that is gone.
    ///
    /// # Errors
    /// Store failures and a failed rebuild.
    pub async fn remove_location(
        &self,
        principal: &Principal,
        id: &LocationId,
    ) -> Result<bool, IngestError> {
        let removed = {
            let _source = self.sources.lock(id).await;
            let row = self.store.location(id).await?;
            let details = row.as_ref().map_or(
                serde_json::Value::Null,
                |row| serde_json::json!({"type": row.kind.as_str(), "target": &row.target}),
            );
            let event = principal.event("location.delete", id.as_str(), Outcome::Success, details);
            let deleted = self.store.delete_location(id, &[event]).await?;
            row.filter(|_| deleted)
        };
        let Some(row) = removed else {
            return Ok(false);
        };
        self.sources.forget(id);
        match self.postmortems.write() {
            Ok(mut map) => map.remove(id),
            Err(poisoned) => poisoned.into_inner().remove(id),
        };
        self.remove_cache(row).await;
        self.changed().await?;
        Ok(true)
    }

    /// Reads the postmortems of the locations this process has not read yet from this
    /// machine's copies of them (`pave_ingest::stored_postmortems`): what a server shows
    /// before its first reading of the sources, and on replicas that leave the readings to
    /// the one leading the schedule. Problems are logged (a reading reports them).
    ///
    /// # Errors
    /// Store failures.
    pub async fn read_stored_postmortems(&self) -> Result<usize, IngestError> {
        let read = pave_ingest::stored_postmortems(self.store.as_ref(), &self.ingest).await?;
        let mut map = match self.postmortems.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut count = 0;
        for (location, postmortems, diagnostics) in read {
            for d in diagnostics.iter().take(20) {
                tracing::warn!("{d}");
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(location) {
                count += postmortems.len();
                slot.insert(Arc::new(
                    postmortems.into_iter().map(without_body).collect(),
                ));
            }
        }
        Ok(count)
    }

    /// Keeps the postmortems each location of `report` was read with.
    fn keep_postmortems(&self, report: &IngestReport) {
        let mut map = match self.postmortems.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        for location in &report.locations {
            if let Some(postmortems) = &location.postmortems {
                let kept = postmortems.iter().cloned().map(without_body).collect();
                map.insert(location.location_id.clone(), Arc::new(kept));
            }
        }
    }

    /// Every postmortem read from the registered sources, once each (a file two locations
    /// reach is taken from the first location by id), in file order, without their
    /// Markdown bodies.
    pub fn source_postmortems(&self) -> Vec<Postmortem> {
        let map = match self.postmortems.read() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut ids: Vec<&LocationId> = map.keys().collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut seen = std::collections::HashSet::new();
        let mut all: Vec<Postmortem> = ids
            .into_iter()
            .flat_map(|id| map[id].iter())
            .filter(|p| seen.insert(p.file.clone()))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.file.cmp(&b.file));
        all
    }

    /// [`Platform::entity_source`] for many entities, with two store reads in all.
    pub async fn entity_sources(
        &self,
        keys: &[String],
    ) -> Result<Vec<(String, Result<pave_ingest::SourceFile, String>)>, String> {
        let origins = self
            .store
            .entity_origins(keys)
            .await
            .map_err(|e| e.to_string())?;
        let locations = self.store.locations().await.map_err(|e| e.to_string())?;
        Ok(origins
            .into_iter()
            .map(|(key, origin)| {
                let source = match locations.iter().find(|l| l.id == origin.location_id) {
                    Some(location) => pave_ingest::source_file(
                        location,
                        &origin.location_key,
                        &self.ingest.git_cache,
                    )
                    .map_err(|e| e.to_string()),
                    None => Err("the entity's location is no longer registered".to_owned()),
                };
                (key, source)
            })
            .collect())
    }

    /// The catalog file the entity `key` was read from, inside its registered source (a
    /// registered folder or a git checkout): what relative annotations (`pave.dev/slo`,
    /// `backstage.io/techdocs-ref`) resolve against.
    pub async fn entity_source(&self, key: &str) -> Result<pave_ingest::SourceFile, String> {
        let unknown =
            || "the entity's catalog file is not known (it is no longer stored)".to_owned();
        let origins = self
            .store
            .entity_origins(&[key.to_owned()])
            .await
            .map_err(|e| e.to_string())?;
        let (_, origin) = origins.into_iter().next().ok_or_else(unknown)?;
        let locations = self.store.locations().await.map_err(|e| e.to_string())?;
        let location = locations
            .iter()
            .find(|l| l.id == origin.location_id)
            .ok_or_else(|| "the entity's location is no longer registered".to_owned())?;
        pave_ingest::source_file(location, &origin.location_key, &self.ingest.git_cache).map_err(
            |e| format!("docs are read only from file and git sources checked out locally: {e}"),
        )
    }

    /// Removes an unregistered location's git checkout or HTTP mirror unless another
    /// location reads the same one (under the checkout's lock, so a reading in progress
    /// finishes first). A failure is logged: the registration is gone either way.
    async fn remove_cache(&self, removed: LocationRow) {
        let remaining = match self.store.locations().await {
            Ok(remaining) => remaining,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list locations; the git cache is kept");
                return;
            }
        };
        let cache = self.ingest.git_cache.clone();
        let target = removed.target.clone();
        let done = tokio::task::spawn_blocking(move || {
            pave_ingest::remove_checkout(&removed, &remaining, &cache)
        })
        .await;
        match done {
            Ok(Ok(gone)) => {
                for dir in gone {
                    tracing::info!(location = %target, dir = %dir.display(), "removed its cached copy");
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(location = %target, error = %e, "cannot remove its cached copy")
            }
            Err(e) => {
                tracing::warn!(location = %target, error = %e, "cannot remove its cached copy")
            }
        }
    }
}

/// A postmortem as the platform keeps it: without its Markdown (up to a megabyte each, and
/// in the repository), which nothing served from memory shows; lists show the excerpt.
fn without_body(mut postmortem: Postmortem) -> Postmortem {
    postmortem.body = String::new();
    postmortem
}

/// What a refresh does about a location whose lock another task holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    /// Wait for it (a reading that was asked for by name).
    Wait,
    /// Leave it to the reading in progress (a refresh of everything).
    Skip,
}

/// The lease of the replica that runs the scheduled refreshes.
const SCHEDULER_LEASE: &str = "scheduler";

/// How long the scheduler's lease lasts unless renewed.
pub const LEAD_TERM: Duration = Duration::from_secs(8);

/// How often the lead is renewed, or tried by the others.
pub const LEAD_RENEW: Duration = Duration::from_secs(2);
/// How long a replica may read one source before others may take it over (a reading that
/// outlives this was stopped: each git command is stopped after `catalog.reading.gitTimeout`,
/// 60 s by default).
const SOURCE_LEASE_MS: i64 = 15 * 60 * 1000;
/// How long a refresh waits for another replica reading the same source.
const SOURCE_WAIT: Duration = Duration::from_secs(60);

/// Resident memory in MiB (Linux; 0 elsewhere), for logs.
pub(crate) fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}

pub(crate) fn record_catalog_metrics(catalog: &Catalog) {
    ::metrics::gauge!("pave_catalog_entities_total").set(catalog.len() as f64);
    let kinds = catalog.facets(None, None, &["kind".to_owned()]);
    for (kind, count) in kinds.into_iter().flat_map(|(_, values)| values) {
        ::metrics::gauge!("pave_catalog_entities", "kind" => kind).set(count as f64);
    }
}
