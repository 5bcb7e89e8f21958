//! Keeping the snapshot up to date after writes, without stalling readers.
//!
//! - **Small writes update the index.** Each ingestion reports the rows it wrote and the
//!   change version its transaction moved the store to ([`pave_ingest::Written`]). When
//!   those versions follow the snapshot's without a gap, the index is updated from them
//!   (`pave_ingest::update_index`: the written entities and those whose relations they
//!   change are stitched again, the rest copied): tens of milliseconds where reading and
//!   indexing 11,700 entities again took most of a second of both cores.
//! - **Anything else rebuilds**: a write of another kind or of another replica (a version
//!   with no rows here), a large write, or an index whose left-over strings have doubled.
//!   While serving, a rebuild indexes on one core fewer than the machine has, so reads keep
//!   a core.
//! - Both run on the blocking pool, never on the async threads, and readers keep the old
//!   snapshot until the new one is swapped in.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use pave_catalog::stitch::Stitcher;
use pave_ingest::{IngestError, Written};

use crate::{Platform, Snapshot, record_catalog_metrics, resident_mb};

/// A write larger than this (rows written and deleted) rebuilds instead: copying the
/// index costs the same either way, and stitching many entities again costs more.
const MAX_PATCH_ROWS: usize = 2_000;

impl Platform {
    /// Keeps what an ingestion wrote, for the next [`Platform::reload`] to update the
    /// index from.
    pub(crate) fn note_written(&self, written: Option<Written>) {
        let Some(written) = written.filter(|w| w.version.is_some()) else {
            return;
        };
        if !self.keeps_snapshot {
            return;
        }
        let mut pending = match self.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        pending.push(written);
    }

    /// Drops what writes up to version `through` wrote: the snapshot holds it.
    fn forget_written(&self, through: i64) {
        let mut pending = match self.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        pending.retain(|w| w.version.is_some_and(|v| v > through));
    }

    /// The pending writes that follow version `built` without a gap, in order; `None` when
    /// the next version is not among them (or cannot be applied exactly).
    fn writes_after(&self, built: i64) -> Option<Vec<Written>> {
        let mut pending = match self.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        pending.retain(|w| w.version.is_some_and(|v| v > built));
        pending.sort_by_key(|w| w.version);
        let mut next = built.saturating_add(1);
        let mut take = 0;
        let mut rows = 0;
        for w in pending.iter() {
            if w.version != Some(next) || !w.exact {
                break;
            }
            rows += w.upserts.len() + w.deletes.len();
            next = next.saturating_add(1);
            take += 1;
        }
        if take == 0 || rows > MAX_PATCH_ROWS {
            return None;
        }
        Some(pending.drain(..take).collect())
    }

    /// Rebuilds or updates the snapshot unless it already holds every change written so far;
    /// see the module documentation.
    pub(crate) async fn refresh_snapshot(&self) -> Result<(), IngestError> {
        let mut relations = self.rebuild.lock().await;
        // Read before the rows: a change made while they are read moves it again.
        let wanted = self.store.change_version().await?;
        let built = self.built.load(Ordering::Acquire);
        if self.is_loaded() && built == wanted {
            self.forget_written(built);
            return Ok(());
        }
        let started = Instant::now();
        let current = self.snapshot();
        let update = match relations.take() {
            Some(stitcher) if self.is_loaded() && !current.catalog.wants_rebuild() => {
                match self.writes_after(built) {
                    Some(writes) => Ok((stitcher, writes)),
                    None => Err(()),
                }
            }
            _ => Err(()),
        };
        let (index, stitcher, version, how) = match update {
            Ok((mut stitcher, writes)) => {
                let version = writes.last().and_then(|w| w.version).unwrap_or(wanted);
                let catalog = Arc::clone(&current.catalog);
                let (catalog, stitcher) = tokio::task::spawn_blocking(move || {
                    let mut catalog = catalog;
                    for w in &writes {
                        catalog = Arc::new(pave_ingest::update_index(
                            &catalog,
                            &mut stitcher,
                            &w.upserts,
                            &w.deletes,
                        ));
                    }
                    (catalog, stitcher)
                })
                .await
                .map_err(|source| IngestError::Worker {
                    task: "updating the index",
                    source,
                })?;
                (catalog, stitcher, version, "updated")
            }
            Err(()) => {
                // While serving, leave a core to the readers.
                let workers = if self.is_loaded() {
                    cores().saturating_sub(1).max(1)
                } else {
                    cores()
                };
                let index = pave_ingest::load_index(self.store.as_ref(), workers).await?;
                (Arc::new(index.catalog), index.stitcher, wanted, "rebuilt")
            }
        };
        let slos = self.read_slos(&index).await?;
        record_catalog_metrics(&index);
        let entities = index.len();
        self.swap(Snapshot {
            catalog: index,
            slos,
        });
        *relations = Some(stitcher);
        self.built.store(version, Ordering::Release);
        self.forget_written(version);
        self.loaded.store(true, Ordering::Release);
        ::metrics::counter!("pave_catalog_index_builds_total", "how" => how).increment(1);
        tracing::info!(
            entities,
            elapsed_ms = started.elapsed().as_millis() as u64,
            rss_mb = resident_mb(),
            "catalog index {how}"
        );
        Ok(())
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// The relations an index was stitched from, kept with it (behind the rebuild lock).
pub(crate) type Relations = Option<Stitcher>;
