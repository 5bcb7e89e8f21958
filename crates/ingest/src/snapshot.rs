//! Building the query index from stored rows.

use pave_catalog::stitch::{Stitcher, relations_from_json};
use pave_catalog::{Catalog, Relation};
use pave_store::{EntityRow, Store, StoreError};
use serde_json::Value;

fn parse_relations(text: &str) -> Vec<Relation> {
    serde_json::from_str::<Value>(text)
        .map(|v| relations_from_json(&v))
        .unwrap_or_default()
}

fn parse_body(row: &EntityRow) -> Option<Value> {
    match serde_json::from_str(&row.body) {
        Ok(entity) => Some(entity),
        Err(e) => {
            // The store only holds JSON pave wrote; say so loudly rather than fail the index.
            tracing::error!(entity = %row.entity_ref, error = %e, "stored entity is not valid JSON; skipped");
            None
        }
    }
}

/// Stitches stored rows (sorted or not) into a query index.
pub fn build_catalog(mut rows: Vec<EntityRow>) -> Catalog {
    rows.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
    let relations: Vec<(String, Vec<Relation>)> = rows
        .iter()
        .map(|r| (r.entity_ref.clone(), parse_relations(&r.relations)))
        .collect();
    let stitcher = Stitcher::new(relations.iter().map(|(k, r)| (k.as_str(), r.as_slice())));
    Catalog::build(rows.into_iter().filter_map(|row| {
        let entity = parse_body(&row)?;
        Some(stitcher.finish(row.entity_ref, row.uid, entity, &row.hash))
    }))
}

/// Reads every entity from the store and indexes it, streaming: relations are read first
/// (stitching needs all of them), then bodies are finished and indexed one at a time on a
/// blocking thread, so memory holds the index, not every row.
pub async fn load_catalog(store: &dyn Store) -> Result<Catalog, StoreError> {
    let started = std::time::Instant::now();
    let relations: Vec<(String, Vec<Relation>)> = store
        .entity_relations()
        .await?
        .into_iter()
        .map(|(key, text)| {
            let parsed = parse_relations(&text);
            (key, parsed)
        })
        .collect();
    let stitcher = Stitcher::new(relations.iter().map(|(k, r)| (k.as_str(), r.as_slice())));
    drop(relations);
    // Rows travel in batches: one hand-off per row between threads costs more than the work.
    const BATCH: usize = 512;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<EntityRow>>(4);
    let builder = tokio::task::spawn_blocking(move || {
        Catalog::build(rx.into_iter().flatten().filter_map(|row| {
            let entity = parse_body(&row)?;
            Some(stitcher.finish(row.entity_ref, row.uid, entity, &row.hash))
        }))
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
    let read_ms = started.elapsed().as_millis() as u64;
    let _ = tx.send(batch);
    drop(tx);
    let catalog = builder.await.unwrap_or_default();
    visited?;
    tracing::debug!(
        entities = catalog.len(),
        read_ms,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "index built"
    );
    Ok(catalog)
}
