//! Deriving the ledger from committed deliveries, durably: rows and the cursor that says how
//! far they go are committed together, so whatever was acknowledged and not yet derived when
//! pave stopped is derived after it starts again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pave_audit::AuditEvent;
use pave_delivery::codec::{Codec, Encoded};
use pave_delivery::{Applied, Attribution, Ledger, LedgerConfig, Rows};
use pave_dora::Index;
use pave_events::{ReadOptions, Source};
use pave_store::{LedgerRow, Store, StoredDelivery};
use serde::Serialize;
use tokio::sync::Notify;

use crate::config::{IntakeConfig, Retention};
use crate::error::IntakeError;
use crate::postmortem::{POSTMORTEM_SOURCE, PostedBook};

/// The lease the processing replica holds (`leases` table).
pub const LEDGER_LEASE: &str = "events:ledger";

/// How long a processor that found only part of a page waits for more before its next step.
const GATHER: Duration = Duration::from_millis(25);

/// What one [`Processor::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Deliveries read (applied, expired or unreadable).
    pub deliveries: usize,
    /// Rows committed (names included).
    pub rows: usize,
    /// Deliveries whose payload retention had released: nothing to apply.
    pub expired: usize,
    /// Deliveries the reader refuses now (read when they arrived; a newer pave or another
    /// configuration disagrees): skipped and logged.
    pub unreadable: usize,
    /// The cursor after this step.
    pub cursor: i64,
}

/// What [`Processor::replay`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Ledger rows thrown away before replaying.
    pub rows_removed: u64,
    /// Deliveries applied again.
    pub replayed: usize,
    /// Deliveries whose payloads had expired: their facts are gone from the rebuilt ledger.
    pub expired: usize,
    pub unreadable: usize,
    /// Rows written by the replay.
    pub rows: usize,
}

/// Counts for status pages and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcessorStats {
    pub cursor: i64,
    pub ledger: Option<pave_delivery::LedgerStats>,
    /// Changes applied since start (the report cache follows it).
    pub version: u64,
}

/// The ledger in memory and what it needs to go on.
struct State {
    ledger: Ledger,
    codec: Codec,
    attribution: Arc<Attribution>,
    cursor: i64,
    /// Bumped whenever the ledger changes; cached indexes of older versions are stale.
    version: u64,
    /// A commit failed after the ledger in memory moved on: reload before going on.
    broken: bool,
    /// Posted postmortems, the latest revision of each (`crate::postmortem`).
    posted: PostedBook,
}

/// Reports built from one version of the ledger, by environment.
#[derive(Default)]
struct IndexCache {
    version: u64,
    by_environment: HashMap<String, Arc<Index>>,
}

/// The derived side: the ledger, kept in memory and in step with the store.
pub struct Processor {
    store: Arc<dyn Store>,
    ledger_config: LedgerConfig,
    read: ReadOptions,
    page_size: usize,
    retention: Retention,
    /// One operation at a time (processing, replay, re-attribution).
    op: tokio::sync::Mutex<()>,
    state: Arc<Mutex<State>>,
    cache: Arc<Mutex<IndexCache>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Processor {
    /// Rebuilds the ledger from the rows the store holds (no delivery is read again) and
    /// re-attributes it with `attribution` (the catalog now), committing what that changes.
    pub async fn load(
        store: Arc<dyn Store>,
        attribution: Attribution,
        config: &IntakeConfig,
    ) -> Result<Processor, IntakeError> {
        let attribution = Arc::new(attribution);
        let state = load_state(&store, &config.ledger, attribution).await?;
        Ok(Processor {
            store,
            ledger_config: config.ledger.clone(),
            read: config.read.clone(),
            page_size: config.page_size.max(1),
            retention: config.retention,
            op: tokio::sync::Mutex::new(()),
            state: Arc::new(Mutex::new(state)),
            cache: Arc::new(Mutex::new(IndexCache::default())),
        })
    }

    pub fn stats(&self) -> ProcessorStats {
        let state = lock(&self.state);
        ProcessorStats {
            cursor: state.cursor,
            ledger: Some(state.ledger.stats()),
            version: state.version,
        }
    }

    /// Applies the next page of deliveries after the cursor and commits the rows with the
    /// new cursor. `deliveries == 0` means caught up.
    pub async fn run_once(&self) -> Result<Progress, IntakeError> {
        let _op = self.op.lock().await;
        self.step().await
    }

    /// Applies everything committed so far.
    pub async fn catch_up(&self) -> Result<Progress, IntakeError> {
        let _op = self.op.lock().await;
        let mut total = Progress::default();
        loop {
            let progress = self.step().await?;
            total.deliveries += progress.deliveries;
            total.rows += progress.rows;
            total.expired += progress.expired;
            total.unreadable += progress.unreadable;
            total.cursor = progress.cursor;
            if progress.deliveries == 0 {
                return Ok(total);
            }
        }
    }

    /// Reloads the ledger when the store's cursor is not the one in memory: another
    /// process (a replica that held the lease, `pave events replay`) wrote the ledger, and
    /// the name ids this codec hands out would no longer be the stored ones.
    async fn follow(&self) -> Result<(), IntakeError> {
        let stored = self.store.ledger_cursor().await?;
        {
            let mut state = lock(&self.state);
            if stored != state.cursor {
                state.broken = true;
            }
        }
        self.reload_if_broken().await
    }

    /// For replicas that do not hold the lease: reload when the holder moved the ledger on,
    /// so their pages and reports follow it.
    pub async fn refresh(&self) -> Result<(), IntakeError> {
        let _op = self.op.lock().await;
        self.follow().await
    }

    async fn reload_if_broken(&self) -> Result<(), IntakeError> {
        let attribution = {
            let state = lock(&self.state);
            if !state.broken {
                return Ok(());
            }
            state.attribution.clone()
        };
        let fresh = load_state(&self.store, &self.ledger_config, attribution).await?;
        let mut state = lock(&self.state);
        let version = state.version + 1;
        *state = fresh;
        state.version = version;
        Ok(())
    }

    async fn step(&self) -> Result<Progress, IntakeError> {
        self.follow().await?;
        let cursor = lock(&self.state).cursor;
        let page = self.store.deliveries_after(cursor, self.page_size).await?;
        let Some(last) = page.last().map(|d| d.seq) else {
            return Ok(Progress {
                cursor,
                ..Progress::default()
            });
        };
        let state = self.state.clone();
        let read = self.read.clone();
        let (rows, mut progress) = tokio::task::spawn_blocking(move || {
            let mut state = lock(&state);
            apply_page(&mut state, &page, &read)
        })
        .await
        .map_err(IntakeError::Worker)?;
        progress.cursor = last;
        self.commit(rows, last, &[]).await?;
        Ok(progress)
    }

    /// Commits `rows` with `cursor`; on failure the ledger in memory is ahead of the store,
    /// so it is reloaded before the next operation.
    async fn commit(
        &self,
        rows: Vec<LedgerRow>,
        cursor: i64,
        audit: &[AuditEvent],
    ) -> Result<(), IntakeError> {
        match self.store.commit_ledger(&rows, cursor, audit).await {
            Ok(()) => {
                let mut state = lock(&self.state);
                state.cursor = cursor;
                if !rows.is_empty() {
                    state.version += 1;
                }
                Ok(())
            }
            Err(e) => {
                lock(&self.state).broken = true;
                Err(e.into())
            }
        }
    }

    /// Throws the derived rows away and applies every kept delivery again with the current
    /// configuration and catalog (`pave events replay`). Deliveries whose payloads retention
    /// released cannot be applied: the report says how many.
    pub async fn replay(&self, audit: &[AuditEvent]) -> Result<ReplayReport, IntakeError> {
        let _op = self.op.lock().await;
        let removed = self.store.reset_ledger(audit).await?;
        {
            let mut state = lock(&self.state);
            let version = state.version + 1;
            state.ledger = Ledger::new(self.ledger_config.clone())?;
            state.codec = Codec::new();
            state.cursor = 0;
            state.version = version;
            state.broken = false;
        }
        let mut report = ReplayReport {
            rows_removed: removed,
            ..ReplayReport::default()
        };
        loop {
            let progress = self.step().await?;
            if progress.deliveries == 0 {
                return Ok(report);
            }
            report.replayed += progress.deliveries - progress.expired - progress.unreadable;
            report.expired += progress.expired;
            report.unreadable += progress.unreadable;
            report.rows += progress.rows;
        }
    }

    /// Re-attributes the ledger after a catalog or mapping change and commits the rows that
    /// moved. Returns how many rows were written.
    pub async fn set_attribution(&self, attribution: Attribution) -> Result<usize, IntakeError> {
        let _op = self.op.lock().await;
        self.follow().await?;
        let state = self.state.clone();
        let (rows, cursor) = tokio::task::spawn_blocking(move || {
            let mut state = lock(&state);
            let applied = state.ledger.reattribute(&attribution);
            state.attribution = Arc::new(attribution);
            let rows = encode(&mut state.codec, std::slice::from_ref(&applied));
            (rows, state.cursor)
        })
        .await
        .map_err(IntakeError::Worker)?;
        let written = rows.len();
        self.commit(rows, cursor, &[]).await?;
        Ok(written)
    }

    /// Releases payloads retention allows (`events.retentionDays`); returns how many.
    pub async fn expire(&self, now: i64) -> Result<u64, IntakeError> {
        Ok(self
            .store
            .expire_deliveries(&self.retention.at(now))
            .await?)
    }

    /// Processes until `shutdown` resolves: whenever `wake` is notified (the intake
    /// committed), and at least every `poll` (deliveries another replica committed), and
    /// releases expired payloads every hour. Errors are logged and retried after a pause.
    pub async fn run(
        self: Arc<Self>,
        wake: Arc<Notify>,
        poll: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut last_expiry: Option<Instant> = None;
        // One processor writes the ledger among replicas: the holder of this lease.
        let holder = format!("processor-{}", uuid::Uuid::new_v4().simple());
        let ttl =
            i64::try_from((poll * 3).max(Duration::from_secs(10)).as_millis()).unwrap_or(30_000);
        // Renewed at a third of its term, not on every step: under a flood the processor
        // steps hundreds of times a second, and each renewal is a write that queues with
        // the intake's commits.
        let renew_every = Duration::from_millis(u64::try_from(ttl / 3).unwrap_or(3_000));
        let mut renewed: Option<Instant> = None;
        loop {
            let now = pave_stdx::time::unix_millis();
            let held = renewed.is_some_and(|at| at.elapsed() < renew_every);
            let taken = if held {
                Ok(true)
            } else {
                self.store
                    .acquire_lease(LEDGER_LEASE, &holder, now, ttl)
                    .await
            };
            renewed = match taken {
                Ok(true) if held => renewed,
                Ok(true) => Some(Instant::now()),
                _ => None,
            };
            match taken {
                Ok(true) => {}
                Ok(false) => {
                    if let Err(error) = self.refresh().await {
                        tracing::warn!(error = %error, "cannot follow the delivery ledger");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(poll) => continue,
                        () = &mut shutdown => return,
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot take the delivery processing lease");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => return,
                    }
                }
            }
            match self.run_once().await {
                Ok(progress) if progress.deliveries >= self.page_size => continue,
                Ok(progress) if progress.deliveries > 0 => {
                    // A part page: let the next deliveries gather for a moment, so a flood
                    // is applied in a few dozen commits a second rather than one per intake
                    // commit, each queueing with the intake's on the one writer.
                    tokio::select! {
                        () = tokio::time::sleep(GATHER) => continue,
                        () = &mut shutdown => {
                            let _ = self.store.release_lease(LEDGER_LEASE, &holder).await;
                            return;
                        }
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = %error, "delivery processing failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => return,
                    }
                }
            }
            if last_expiry.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
                last_expiry = Some(Instant::now());
                let now = pave_stdx::time::unix_millis();
                match self.expire(now).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(released = n, "released expired delivery payloads"),
                    Err(error) => tracing::warn!(error = %error, "cannot release expired payloads"),
                }
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                () = &mut shutdown => {
                    let _ = self.store.release_lease(LEDGER_LEASE, &holder).await;
                    return;
                }
            }
        }
    }

    pub(crate) fn with_posted<T>(&self, f: impl FnOnce(&PostedBook) -> T) -> T {
        f(&lock(&self.state).posted)
    }

    pub(crate) fn with_posted_mut<T>(&self, f: impl FnOnce(&mut PostedBook) -> T) -> T {
        f(&mut lock(&self.state).posted)
    }

    /// Runs `f` on the ledger (for views; short reads only: processing waits meanwhile).
    pub(crate) fn with_ledger<T>(&self, f: impl FnOnce(&Ledger, &Attribution) -> T) -> T {
        let state = lock(&self.state);
        f(&state.ledger, &state.attribution)
    }

    /// The index of `environment`'s facts, built once per ledger version (off the async
    /// threads) and shared.
    pub(crate) async fn index(&self, environment: &str) -> Result<Arc<Index>, IntakeError> {
        if let Some(index) = self.cached_index(environment) {
            return Ok(index);
        }
        let state = self.state.clone();
        let cache = self.cache.clone();
        let environment = environment.to_owned();
        tokio::task::spawn_blocking(move || build_index(&state, &cache, environment))
            .await
            .map_err(IntakeError::Worker)?
    }

    /// [`Processor::index`] for callers already off the async threads (the portal's report
    /// pages run in a blocking task): builds on this thread when the cache is stale.
    pub fn index_blocking(&self, environment: &str) -> Result<Arc<Index>, IntakeError> {
        match self.cached_index(environment) {
            Some(index) => Ok(index),
            None => build_index(&self.state, &self.cache, environment.to_owned()),
        }
    }

    fn cached_index(&self, environment: &str) -> Option<Arc<Index>> {
        let version = lock(&self.state).version;
        let cache = lock(&self.cache);
        if cache.version == version {
            cache.by_environment.get(environment).cloned()
        } else {
            None
        }
    }
}

fn build_index(
    state: &Mutex<State>,
    cache: &Mutex<IndexCache>,
    environment: String,
) -> Result<Arc<Index>, IntakeError> {
    let (index, version) = {
        let state = lock(state);
        let org = Arc::new(state.attribution.org().clone());
        let facts = state.ledger.facts(&org, &environment);
        (Index::build_shared(org, &facts)?, state.version)
    };
    let index = Arc::new(index);
    let mut cache = lock(cache);
    if cache.version != version {
        cache.version = version;
        cache.by_environment.clear();
    }
    cache.by_environment.insert(environment, index.clone());
    Ok(index)
}

async fn load_state(
    store: &Arc<dyn Store>,
    config: &LedgerConfig,
    attribution: Arc<Attribution>,
) -> Result<State, IntakeError> {
    let cursor = store.ledger_cursor().await?;
    let mut codec = Codec::new();
    let mut rows = Rows::default();
    let mut failure = None;
    // Decoded as they stream in: the encoded and decoded forms are never both held whole.
    store
        .visit_ledger(&mut |row: LedgerRow| {
            if failure.is_some() {
                return;
            }
            match codec.decode(row.kind, &row.key, &row.body) {
                Ok(Some(decoded)) => rows.push(decoded),
                Ok(None) => {}
                Err(e) => failure = Some(e),
            }
        })
        .await?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    // Posted postmortems are few; their source's rows are read by key, not by a pass over
    // every delivery.
    let mut posted = PostedBook::default();
    let mut after = 0;
    loop {
        let page = store.deliveries_of(POSTMORTEM_SOURCE, after, 500).await?;
        let Some(last) = page.last().map(|d| d.seq) else {
            break;
        };
        for stored in &page {
            posted.apply(stored);
        }
        after = last;
    }
    let config = config.clone();
    let (state, rows) = tokio::task::spawn_blocking(move || {
        let (ledger, applied) = Ledger::from_rows(config, &rows, &attribution)?;
        let mut state = State {
            ledger,
            codec,
            attribution,
            cursor,
            version: 1,
            broken: false,
            posted,
        };
        let rows = encode(&mut state.codec, std::slice::from_ref(&applied));
        Ok::<_, IntakeError>((state, rows))
    })
    .await
    .map_err(IntakeError::Worker)??;
    if !rows.is_empty() {
        // The catalog changed while pave was stopped: the rows that moved are written now.
        store.commit_ledger(&rows, cursor, &[]).await?;
    }
    Ok(state)
}

/// Applies a page of deliveries; returns the encoded rows (each key once, its last state).
fn apply_page(
    state: &mut State,
    page: &[StoredDelivery],
    read: &ReadOptions,
) -> (Vec<LedgerRow>, Progress) {
    let mut progress = Progress {
        deliveries: page.len(),
        ..Progress::default()
    };
    let mut applied = Vec::with_capacity(page.len());
    let attribution = state.attribution.clone();
    for stored in page {
        if stored.source == POSTMORTEM_SOURCE {
            // Not an event: a posted postmortem (another replica's, or one this process
            // noted already), kept beside the ledger.
            state.posted.apply(stored);
            continue;
        }
        if stored.expired {
            progress.expired += 1;
            continue;
        }
        let delivery = match reread(stored, read) {
            Ok(delivery) => delivery,
            Err(message) => {
                tracing::warn!(
                    seq = stored.seq,
                    source = %stored.source,
                    id = %stored.delivery_id,
                    "a stored delivery cannot be read again, skipped: {message}"
                );
                progress.unreadable += 1;
                continue;
            }
        };
        let result = state.ledger.apply(
            u64::try_from(stored.seq).unwrap_or(0),
            stored.received_at,
            &delivery,
            &attribution,
        );
        for note in &result.notes {
            tracing::info!(seq = stored.seq, "{note}");
        }
        applied.push(result);
    }
    let rows = encode(&mut state.codec, &applied);
    progress.rows = rows.len();
    (rows, progress)
}

/// A stored delivery read again, with the headers it was stored with.
fn reread(stored: &StoredDelivery, read: &ReadOptions) -> Result<pave_events::Delivery, String> {
    let source: Source = stored.source.parse().map_err(|e| format!("{e}"))?;
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&stored.headers).map_err(|e| format!("stored headers: {e}"))?;
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .filter_map(|(name, value)| value.as_str().map(|v| (name, v.to_owned())))
        .collect();
    pave_events::read(source, &headers, &stored.body, read).map_err(|e| e.to_string())
}

/// Encodes every row of `applied`, each `(kind, key)` once with its last body (the store
/// upserts; writing a row twice in one transaction would be wasted work).
fn encode(codec: &mut Codec, applied: &[Applied]) -> Vec<LedgerRow> {
    let mut out: Vec<Encoded> = Vec::new();
    for result in applied {
        for row in &result.rows {
            codec.encode(row, &mut out);
        }
    }
    let mut position: HashMap<(i16, &str), usize> = HashMap::with_capacity(out.len());
    let mut keep = vec![true; out.len()];
    for (i, encoded) in out.iter().enumerate() {
        if let Some(previous) = position.insert((encoded.kind, encoded.key.as_str()), i) {
            keep[previous] = false;
        }
    }
    drop(position);
    out.into_iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|(e, _)| LedgerRow {
            kind: e.kind,
            key: e.key,
            body: e.body,
        })
        .collect()
}
