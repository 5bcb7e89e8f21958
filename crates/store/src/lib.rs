//! The catalog storage trait and its data types.
//!
//! The store persists registered locations, the processed entities each location produced,
//! and per-file state for incremental ingestion. It knows nothing about catalog semantics:
//! entity bodies and relation lists are opaque JSON text. Stitching and querying happen in
//! memory (`pave-catalog`), so the store only needs bulk reads and transactional batch writes,
//! which SQLite and PostgreSQL both do well.
//!
//! Implementations: `pave-store-sqlite` and `pave-store-postgres`. Both run the same test
//! suite, [`testsuite`] (feature `testsuite`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use delivery::{
    Accepted, DeliveryRetention, DeliveryStats, LedgerRow, NewDelivery, StoredDelivery,
};
pub use guardrails::{
    CHECK_REPORTS_KEPT, CheckCounts, CheckReportRow, CheckReportSummary, NewCheckReport,
};
pub use identity::{AUDIT_PAGE_MAX, AuditQuery, AuditTip, LoginRow, SessionRow, TokenRow};
/// The audit chain's types, for the SQL both backends share.
pub use pave_audit as audit;
use pave_audit::{AuditEvent, AuditRecord, ChainHead, Checkpoint};

mod delivery;
mod guardrails;
mod identity;
pub mod schema;
pub mod sql;
mod sql_delivery;
mod sql_guardrails;
mod sql_identity;
#[cfg(feature = "testsuite")]
pub mod testsuite;
#[cfg(feature = "testsuite")]
mod testsuite_delivery;
#[cfg(feature = "testsuite")]
mod testsuite_guardrails;
#[cfg(feature = "testsuite")]
mod testsuite_identity;

/// What a registered location's target is, which decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationKind {
    /// A file or folder on the machine pave runs on.
    File,
    /// A git repository URL, optionally `#<ref>`.
    Git,
    /// Backstage's `url`: a forge's web URL of a file or folder (read from a checkout of its
    /// repository) or any other http(s) URL of a file (fetched).
    Url,
}

impl LocationKind {
    pub const ALL: [LocationKind; 3] = [LocationKind::Url, LocationKind::File, LocationKind::Git];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::File => "file",
            LocationKind::Git => "git",
            LocationKind::Url => "url",
        }
    }

    /// The kind named `text` (exactly as Backstage spells them), if pave reads it.
    pub fn parse(text: &str) -> Option<LocationKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for LocationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered location's id: a UUID the store assigns, which API clients name locations
/// by. A type of its own so that a target, an entity ref or a path cannot be passed where
/// an id is meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocationId(String);

impl LocationId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<String> for LocationId {
    fn from(id: String) -> Self {
        LocationId(id)
    }
}

impl From<&str> for LocationId {
    fn from(id: &str) -> Self {
        LocationId(id.to_owned())
    }
}

impl std::fmt::Display for LocationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LocationId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for LocationId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for LocationId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for LocationId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A registered location: a root the catalog is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRow {
    pub id: LocationId,
    #[serde(rename = "type")]
    pub kind: LocationKind,
    pub target: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When the location was last ingested (Unix milliseconds).
    pub refreshed_at: Option<i64>,
    /// The last ingestion's outcome, as JSON written by the ingester.
    pub status: Option<String>,
}

/// A processed entity, as one location last produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRow {
    /// Canonical, lower-cased `kind:namespace/name`.
    pub entity_ref: String,
    pub uid: String,
    pub location_id: LocationId,
    /// The file it was read from (`file:/abs/path`), its `managed-by-location`.
    pub location_key: String,
    /// The processed entity (JSON), without relations.
    pub body: String,
    /// The relations it emitted (JSON `[[source, type, target], …]`).
    pub relations: String,
    /// Hash of body and relations, to skip writing unchanged rows.
    pub hash: String,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// The entity that emitted this one (Backstage's ancestry): the `Location` that read its
    /// file, or its registered location's generated `Location`; empty for that root.
    pub parent_ref: String,
}

/// What ingestion needs of a stored entity to diff against: everything but the body, which
/// is kept only for `Location` entities (their targets are followed again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityHead {
    pub entity_ref: String,
    pub uid: String,
    pub location_key: String,
    pub hash: String,
    /// The body, for `location:` refs only.
    pub body: Option<String>,
    pub parent_ref: String,
}

/// Where a stored entity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityOrigin {
    pub location_id: LocationId,
    /// The file inside the location it was read from (see [`EntityRow::location_key`]).
    pub location_key: String,
    /// See [`EntityRow::parent_ref`].
    pub parent_ref: String,
}

/// What [`Store::update_location`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationUpdate {
    Updated(LocationRow),
    /// No location has that id.
    NotFound,
    /// Another location already has that type and target.
    Conflict,
}

/// What the last ingestion knew about one file, so unchanged files need not be re-read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub location_id: LocationId,
    /// Absolute path.
    pub path: String,
    /// Content hash of the file.
    pub hash: String,
    /// JSON `[[path, hash], …]` of files its placeholders read.
    pub deps: String,
    /// JSON list of the problems found in it last time (re-reported while it is unchanged).
    pub problems: String,
    /// Read it again next time even if unchanged: what it produced was not all accepted (a
    /// duplicate or a conflict, a verdict that may change), or it could not be read.
    pub reread: bool,
}

/// A location's outcome of one reading, written with the rows it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationStatus {
    pub location_id: LocationId,
    /// When it was read (Unix seconds).
    pub refreshed_at: i64,
    /// The reading's report as stored (JSON), shown by `GET /locations/{id}`.
    pub status: String,
}

/// Everything one ingestion changes, applied in a single transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Appended to the audit log in the same transaction.
    pub audit: Vec<AuditEvent>,
    pub upsert_entities: Vec<EntityRow>,
    pub delete_entities: Vec<String>,
    pub upsert_files: Vec<FileRow>,
    /// (location id, path)
    pub delete_files: Vec<(LocationId, String)>,
    pub location_status: Vec<LocationStatus>,
    /// (entity ref, parent ref) for rows kept as they are whose parent changed.
    pub set_parents: Vec<(String, String)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.upsert_entities.is_empty()
            && self.delete_entities.is_empty()
            && self.upsert_files.is_empty()
            && self.delete_files.is_empty()
            && self.location_status.is_empty()
            && self.set_parents.is_empty()
            && self.audit.is_empty()
    }
}

/// What [`Store::apply_versioned`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The change version after the batch, when it moved it (known to the store).
    pub version: Option<i64>,
    /// Entities of `upsert_entities` the store holds otherwise than the batch says:
    /// another location owns them, or the row kept its earlier uid.
    pub skipped: Vec<String>,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("database migration failed")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database holds a migration this pave does not know: a newer pave wrote it.
    #[error(
        "the database was upgraded by a newer pave (it holds schema migration {0}, which this \
         pave does not know): run that version or a newer one, or restore a backup taken before the upgrade"
    )]
    SchemaNewer(i64),
    /// Another process serves this SQLite database.
    #[error(
        "{path} is served by another pave process ({holder}): SQLite is served by one process \
         at a time. Stop that one first, or run several replicas on PostgreSQL"
    )]
    InUse { path: String, holder: String },
    /// What this backend leaves to its own tools (a PostgreSQL backup is `pg_dump`'s job).
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file offered as a backup that is not one this pave can restore.
    #[error("{path} cannot be restored: {reason}")]
    BadBackup { path: String, reason: String },
    #[error("the database holds a location of type `{0}`, which this pave does not read")]
    UnknownLocationKind(String),
    /// The database could not be reached or cannot take writes for now (see
    /// [`StoreError::is_unavailable`]); a server answers 503.
    #[error("the database is unavailable while {context}: {source}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("database error while {context}: {source}")]
    Query {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// A failed query; [`StoreError::Unavailable`] when the database could not be reached.
    pub fn query(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let source: Box<dyn std::error::Error + Send + Sync> = Box::new(source);
        if unreachable_database(&*source) {
            StoreError::Unavailable { context, source }
        } else {
            StoreError::Query { context, source }
        }
    }

    /// Whether trying again later may succeed: the database is down, restarting, full or busy.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Whether `error` says the database is out of reach for now rather than that the query was
/// wrong: no connection (refused, reset, timed out, closed pool), PostgreSQL shutting down
/// or starting (SQLSTATE classes 08 and 57P, too many connections, disk full), SQLite busy,
/// locked, read-only, out of disk or failing I/O.
fn unreachable_database(error: &(dyn std::error::Error + 'static)) -> bool {
    let Some(error) = error.downcast_ref::<sqlx::Error>() else {
        return false;
    };
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("57P")
                || code == "53300"
                || code == "53100"
                // SQLite's result codes, primary or extended: BUSY, LOCKED, READONLY,
                // IOERR, FULL, CANTOPEN.
                || code
                    .parse::<i64>()
                    .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
        }),
        _ => false,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Persistent catalog state. Every method is one round of I/O; [`Store::apply`] is atomic.
#[async_trait]
pub trait Store: IdentityStore + DeliveryStore + GuardrailStore + Send + Sync {
    /// A short name for logs and errors: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Registers a location; returns it and whether it was new (an existing `(kind, target)`
    /// is returned as it is).
    /// `audit` is appended in the same transaction when the location is new.
    async fn add_location(
        &self,
        kind: LocationKind,
        target: &str,
        now: i64,
        audit: &[AuditEvent],
    ) -> Result<(LocationRow, bool)>;

    async fn locations(&self) -> Result<Vec<LocationRow>>;

    async fn location(&self, id: &LocationId) -> Result<Option<LocationRow>>;

    /// Changes a location's type and target (Backstage's `PUT /locations/{id}`); its entities
    /// stay until it is read again.
    async fn update_location(
        &self,
        id: &LocationId,
        kind: LocationKind,
        target: &str,
        audit: &[AuditEvent],
    ) -> Result<LocationUpdate>;

    /// Removes a location with its entities and file state; false when there was none.
    async fn delete_location(&self, id: &LocationId, audit: &[AuditEvent]) -> Result<bool>;

    /// Every stored entity.
    async fn entities(&self) -> Result<Vec<EntityRow>>;

    /// `(entity_ref, relations)` for every entity: what stitching needs before any body.
    async fn entity_relations(&self) -> Result<Vec<(String, String)>>;

    /// The `limit` entities whose stored form changed last, newest first, as
    /// `(entity_ref, updated_at in Unix ms)` (rows written unchanged keep their time).
    async fn recently_updated(&self, limit: usize) -> Result<Vec<(String, i64)>>;

    /// Streams every entity, ordered by `entity_ref`, to `visit`, so that a caller can index
    /// a large catalog without holding every row at once. `relations` is left empty.
    async fn visit_entities(&self, visit: &mut (dyn FnMut(EntityRow) + Send)) -> Result<()>;

    /// The entities one location produced.
    async fn location_entities(&self, location_id: &LocationId) -> Result<Vec<EntityRow>>;

    /// The heads of the entities one location produced (bodies only for Locations).
    async fn location_entity_heads(&self, location_id: &LocationId) -> Result<Vec<EntityHead>>;

    /// `(entity_ref, location_id)` for those of `refs` that are stored, to detect
    /// conflicting claims.
    async fn entity_owners_of(&self, refs: &[String]) -> Result<Vec<(String, LocationId)>>;

    /// The location and parent of one entity (`entity_ref` canonical, lower-cased).
    async fn entity_origin(&self, entity_ref: &str) -> Result<Option<EntityOrigin>>;

    /// [`Store::entity_origin`] of each of `refs` that exists, as `(entity_ref, origin)`.
    async fn entity_origins(&self, refs: &[String]) -> Result<Vec<(String, EntityOrigin)>>;

    async fn files(&self, location_id: &LocationId) -> Result<Vec<FileRow>>;

    /// Applies a batch atomically: all of it or none of it.
    async fn apply(&self, batch: &Batch) -> Result<()>;

    /// [`Store::apply`], saying what it did: the change version the batch moved
    /// [`Store::change_version`] to, and the entities it did not write because another
    /// location owns them. A server updates its index from the batch itself when the
    /// version follows the one its index was built at. Stores that cannot tell answer
    /// `version: None` (the index is then read again).
    async fn apply_versioned(&self, batch: &Batch) -> Result<Applied> {
        self.apply(batch).await?;
        Ok(Applied::default())
    }

    /// A number that grows with every write that changes what readers see (entities and
    /// locations); replicas rebuild their snapshot when it moves.
    async fn change_version(&self) -> Result<i64>;

    /// Waits until another process may have moved [`Store::change_version`] (a database
    /// notification) or `timeout` passed, and says whether it waited. Stores without
    /// notifications return `false` at once and the caller polls. Either way the caller
    /// compares versions afterwards, so a missed notification costs at most one poll.
    async fn wait_for_change(&self, timeout: std::time::Duration) -> bool {
        let _ = timeout;
        false
    }

    /// Takes or renews lease `name` for `holder` until `now + ttl_ms`, unless another holder
    /// has it and it has not expired. Returns whether `holder` holds it now.
    async fn acquire_lease(&self, name: &str, holder: &str, now: i64, ttl_ms: i64) -> Result<bool>;

    /// Gives lease `name` up, if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// Where the database's schema stands against this pave's migrations.
    async fn schema_status(&self) -> Result<schema::SchemaStatus>;

    /// Copies the database into the new file `to`, consistent while it is served. Backends
    /// with tools of their own for it say which instead (PostgreSQL: `pg_dump`).
    async fn backup(&self, to: &std::path::Path) -> Result<Backup> {
        let _ = to;
        Err(StoreError::Unsupported(format!(
            "pave backs up SQLite databases; back this {} database up with its own tools",
            self.backend()
        )))
    }

    /// Claims the database for this process as its one server, where the backend is served
    /// by one process at a time (SQLite: each server runs the schedule and keeps its own
    /// index). Refused while another process holds the claim; held until dropped.
    fn claim_serving(&self) -> Result<ServingClaim> {
        Ok(ServingClaim::shared())
    }
}

/// What [`Store::backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub bytes: u64,
    pub entities: i64,
    pub audit_records: i64,
    /// The newest migration the copy holds.
    pub schema: i64,
}

/// A process's claim to serve a database ([`Store::claim_serving`]), released when dropped.
pub struct ServingClaim {
    held: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl ServingClaim {
    /// No claim needed: the backend serves many processes.
    pub fn shared() -> Self {
        ServingClaim { held: None }
    }

    /// A claim that lasts as long as `held` (an open, locked file).
    pub fn holding(held: impl std::any::Any + Send + Sync) -> Self {
        ServingClaim {
            held: Some(Box::new(held)),
        }
    }

    /// Whether this claim excludes other servers.
    pub fn is_exclusive(&self) -> bool {
        self.held.is_some()
    }
}

impl std::fmt::Debug for ServingClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingClaim")
            .field("exclusive", &self.is_exclusive())
            .finish()
    }
}

/// Identity and audit rows: sessions, sign-ins in flight, API tokens and the hash-chained
/// audit log. A part of every [`Store`] (its supertrait), kept apart because it is a
/// concern of its own.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Appends `events` to the audit log (a change of its own: sign-in, a refusal).
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<Vec<AuditRecord>>;

    /// Where the audit chain stands.
    async fn audit_head(&self) -> Result<ChainHead>;

    /// Audit records matching `query`, newest first.
    async fn audit_records(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;

    /// Every audit record from `from_seq` on, oldest first, streamed (for verifying and
    /// exporting millions of records).
    async fn visit_audit(
        &self,
        from_seq: i64,
        visit: &mut (dyn FnMut(AuditRecord) + Send),
    ) -> Result<()>;

    /// The seqs of the first record at or after `since_ms` and of the last one before
    /// `until_ms`: a window of the chain chosen by seq, so that replicas' clocks cannot leave
    /// gaps in it. `None` when no record falls inside.
    async fn audit_window(&self, since_ms: i64, until_ms: i64) -> Result<Option<(i64, i64)>>;

    /// The records `from_seq..=through_seq`, oldest first, streamed.
    async fn visit_audit_range(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut(AuditRecord) + Send),
    ) -> Result<()>;

    /// The records `from_seq..=through_seq` as stored (details as their text), oldest
    /// first, a chunk at a time until `visit` returns false: for walks that hash the rows
    /// without parsing them (`pave audit verify`).
    async fn visit_stored_audit(
        &self,
        from_seq: i64,
        through_seq: i64,
        visit: &mut (dyn FnMut(Vec<pave_audit::StoredRecord>) -> bool + Send),
    ) -> Result<()>;

    /// Stores a signed checkpoint of the chain (its seq and hash must be a record's).
    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()>;

    /// Every stored checkpoint, by seq.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>>;

    /// Retention: stores `checkpoint` (which vouches for the last record to go) and deletes
    /// the records up to its seq, in one transaction. Returns how many went.
    async fn expire_audit(&self, checkpoint: &Checkpoint) -> Result<u64>;

    /// Stores a new session, with its audit record (the sign-in).
    async fn put_session(&self, session: &SessionRow, audit: &[AuditEvent]) -> Result<()>;

    /// The session whose secret hashes to `id_hash`, expired or not.
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>>;

    /// Records activity on a session (for the idle limit).
    async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()>;

    /// Ends a session, with its audit record (the sign-out); false when there was none.
    async fn delete_session(&self, id_hash: &str, audit: &[AuditEvent]) -> Result<bool>;

    /// Removes sessions past their absolute limit or idle since before `idle_before`.
    async fn delete_expired_sessions(&self, now: i64, idle_before: i64) -> Result<u64>;

    /// Stores a sign-in in flight; a login older than `stale_before` is dropped meanwhile.
    async fn put_login(&self, login: &LoginRow, stale_before: i64) -> Result<()>;

    /// Takes (and deletes) the sign-in in flight for a `state`: each is good once.
    async fn take_login(&self, state_hash: &str) -> Result<Option<LoginRow>>;

    /// Stores a new API token, with its audit record.
    async fn create_token(&self, token: &TokenRow, audit: &[AuditEvent]) -> Result<()>;

    /// The token whose secret hashes to `hash`, revoked or expired or not.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>>;

    /// One token by id.
    async fn token(&self, id: &str) -> Result<Option<TokenRow>>;

    /// Every token, newest first.
    async fn tokens(&self) -> Result<Vec<TokenRow>>;

    /// Revokes a token, with its audit record; false when there was none or it already was.
    async fn revoke_token(&self, id: &str, now: i64, audit: &[AuditEvent]) -> Result<bool>;

    /// Records a token's use (at most a write per token a minute is the caller's concern).
    async fn touch_token(&self, id: &str, now: i64) -> Result<()>;
}

/// Delivery events: raw webhook deliveries and the ledger derived from them (see
/// [`delivery`](crate::NewDelivery)'s module notes). Every write is one transaction. A part of
/// every [`Store`] (its supertrait); SQL in `sql_delivery.rs`.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records `deliveries` and appends `audit` in one transaction. Each is [`Accepted::New`]
    /// unless a delivery with the same `(source, delivery_id)` was recorded before (or earlier
    /// in the same batch): then [`Accepted::Duplicate`] with the first one's number, and
    /// nothing of it is written. Results are in the order of `deliveries`.
    async fn accept_deliveries(
        &self,
        deliveries: &[NewDelivery],
        audit: &[AuditEvent],
    ) -> Result<Vec<Accepted>>;

    /// Deliveries numbered above `after`, in order, at most `limit`.
    async fn deliveries_after(&self, after: i64, limit: usize) -> Result<Vec<StoredDelivery>>;

    /// One delivery by its source and id.
    async fn delivery(&self, source: &str, delivery_id: &str) -> Result<Option<StoredDelivery>>;

    /// Deliveries of one source numbered above `after`, in order, at most `limit`: documents
    /// posted to pave (postmortems) read back without a pass over every webhook delivery.
    async fn deliveries_of(
        &self,
        source: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredDelivery>>;

    /// The highest delivery number the ledger has applied (0 when none).
    async fn ledger_cursor(&self) -> Result<i64>;

    /// Upserts `rows` by `(kind, key)`, sets the cursor to `cursor` and appends `audit`, in one
    /// transaction: the rows derived from deliveries and the mark that they were derived
    /// commit together or not at all.
    async fn commit_ledger(
        &self,
        rows: &[LedgerRow],
        cursor: i64,
        audit: &[AuditEvent],
    ) -> Result<()>;

    /// Every ledger row, in `(kind, key)` order.
    async fn visit_ledger(&self, visit: &mut (dyn FnMut(LedgerRow) + Send)) -> Result<()>;

    /// Deletes every ledger row and sets the cursor to 0 (before a replay), with `audit`, in
    /// one transaction. Returns how many rows went.
    async fn reset_ledger(&self, audit: &[AuditEvent]) -> Result<u64>;

    async fn delivery_stats(&self) -> Result<DeliveryStats>;

    /// Releases the payloads retention allows (only of deliveries at or below the cursor, so
    /// nothing unapplied is lost); the rows stay, marked expired, so redeliveries are still
    /// recognised. Returns how many were released.
    async fn expire_deliveries(&self, retention: &DeliveryRetention) -> Result<u64>;
}

/// Guardrail reports: the newest `pave check` reports published for each catalog entity
/// (see [`NewCheckReport`]'s module notes). A part of every [`Store`] (its supertrait); SQL in
/// `sql_guardrails.rs`.
#[async_trait]
pub trait GuardrailStore: Send + Sync {
    /// Stores `report` and appends `audit` in one transaction, dropping the entity's reports
    /// beyond the newest [`CHECK_REPORTS_KEPT`]. Returns the new report's id.
    async fn put_check_report(&self, report: &NewCheckReport, audit: &[AuditEvent]) -> Result<i64>;

    /// The newest report of `entity_ref` (canonical, lower-cased), if any.
    async fn latest_check_report(&self, entity_ref: &str) -> Result<Option<CheckReportRow>>;

    /// The newest `limit` reports of `entity_ref` without the reports themselves, newest
    /// first.
    async fn check_report_history(
        &self,
        entity_ref: &str,
        limit: usize,
    ) -> Result<Vec<CheckReportSummary>>;

    /// The newest report of each of `entity_refs` that has one, without the reports
    /// themselves, in no particular order (the home page's failing checks of what a team
    /// owns: one statement per [`ROWS_PER_STATEMENT`] refs, not one per entity).
    async fn latest_check_summaries(
        &self,
        entity_refs: &[String],
    ) -> Result<Vec<CheckReportSummary>>;
}

/// Bind parameters per statement stay under SQLite's limit (32,766) and PostgreSQL's (65,535).
pub const ROWS_PER_STATEMENT: usize = 500;

/// Builds `INSERT INTO table (cols) VALUES (…), (…) …` for `rows` rows, numbering
/// placeholders with `placeholder(n)` (`?` for SQLite, `$n` for PostgreSQL).
pub fn multi_row_insert(
    table: &str,
    columns: &[&str],
    rows: usize,
    placeholder: impl Fn(usize) -> String,
) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..columns.len() {
            if col > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&placeholder(n));
        }
        sql.push(')');
    }
    sql
}

/// `(p1, p2, …)` for an `IN` list of `count` values starting at parameter `first`.
pub fn in_list(first: usize, count: usize, placeholder: impl Fn(usize) -> String) -> String {
    let items: Vec<String> = (first..first + count).map(placeholder).collect();
    format!("({})", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_numbered_multi_row_inserts() {
        assert_eq!(
            multi_row_insert("t", &["a", "b"], 2, |n| format!("${n}")),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(in_list(3, 2, |_| "?".into()), "(?, ?)");
    }

    #[test]
    fn an_unreachable_database_is_told_from_a_failed_query() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let cases: Vec<(sqlx::Error, bool)> = vec![
            (sqlx::Error::Io(refused), true),
            (sqlx::Error::PoolTimedOut, true),
            (sqlx::Error::PoolClosed, true),
            (sqlx::Error::RowNotFound, false),
            (sqlx::Error::Protocol("bad".into()), false),
        ];
        for (error, unavailable) in cases {
            let text = error.to_string();
            let e = StoreError::query("reading", error);
            assert_eq!(e.is_unavailable(), unavailable, "{text}");
            assert!(e.to_string().contains(&text), "{e}");
        }
        // Not a database error at all.
        assert!(!StoreError::query("reading", std::fmt::Error).is_unavailable());
    }
}
