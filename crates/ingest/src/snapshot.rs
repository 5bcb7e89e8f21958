//! Building the query index from stored rows.

use pave_catalog::stitch::Stitcher;
use pave_catalog::{Catalog, CatalogBuilder};
use pave_store::{EntityRow, Store};

use crate::IngestError;

/// Collects every entity and the relations it emitted.
fn stitcher(relations: &[(String, String)]) -> Stitcher {
    let mut stitcher = Stitcher::default();
    for (key, _) in relations {
        stitcher.add_entity(key);
    }
    for (key, text) in relations {
        stitcher.add_stored_relations(key, text);
    }
    stitcher.seal();
    stitcher
}

fn finish(stitcher: &Stitcher, row: &EntityRow) -> Option<pave_catalog::FinalEntity> {
    match stitcher.finish(&row.entity_ref, &row.uid, &row.body, &row.hash) {
        Ok(entity) => Some(entity),
        Err(e) => {
            // The store only holds JSON pave wrote; say so loudly rather than fail the index.
            tracing::error!(entity = %row.entity_ref, error = %e, "stored entity is not valid JSON; skipped");
            None
        }
    }
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// Stitches stored rows (sorted or not) into a query index.
pub fn build_catalog(mut rows: Vec<EntityRow>) -> Catalog {
    rows.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
    let relations: Vec<(String, String)> = rows
        .iter_mut()
        .map(|r| (r.entity_ref.clone(), std::mem::take(&mut r.relations)))
        .collect();
    let stitcher = stitcher(&relations);
    let mut builder = CatalogBuilder::new(workers());
    builder.add_batch(rows, |row| finish(&stitcher, &row));
    builder.finish()
}

/// Reads every entity from the store and indexes it, streaming: relations are read first
/// (stitching needs all of them), then bodies are finished and indexed in batches on a
/// blocking thread pool, so memory holds the index, not every row.
///
/// # Errors
/// When the store cannot be read, or a worker building the index failed (then no index is
/// better than one missing entities).
pub async fn load_catalog(store: &dyn Store) -> Result<Catalog, IngestError> {
    let started = std::time::Instant::now();
    let relations = store.entity_relations().await?;
    let count = relations.len();
    let stitcher = tokio::task::spawn_blocking(move || stitcher(&relations))
        .await
        .map_err(|source| IngestError::Worker {
            task: "stitching relations",
            source,
        })?;
    // Rows travel in batches: one hand-off per row between threads costs more than the work.
    const BATCH: usize = 1024;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<EntityRow>>(2);
    let builder = tokio::task::spawn_blocking(move || {
        let mut builder = CatalogBuilder::with_capacity(workers(), count);
        for batch in rx {
            builder.add_batch(batch, |row: EntityRow| finish(&stitcher, &row));
        }
        builder.finish()
    });
    let mut batch = Vec::with_capacity(BATCH);
    let visited = store
        .visit_entities(&mut |row| {
            batch.push(row);
            if batch.len() == BATCH {
                // Fails only if the builder died; the join below reports that.
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        })
        .await;
    let _ = tx.send(batch);
    drop(tx);
    let catalog = builder.await;
    visited?;
    let catalog = catalog.map_err(|source| IngestError::Worker {
        task: "building the index",
        source,
    })?;
    tracing::debug!(
        entities = catalog.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "index built"
    );
    Ok(catalog)
}
