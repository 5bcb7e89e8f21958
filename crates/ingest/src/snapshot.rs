//! Building the query index from stored rows.

use pave_catalog::stitch::relations_from_json;
use pave_catalog::{Catalog, SourceEntity, stitch};
use pave_store::{EntityRow, Store, StoreError};

/// Stitches stored rows into a query index. Rows whose JSON does not parse are skipped with a
/// log line (the store only ever holds JSON that pave wrote).
pub fn build_catalog(rows: Vec<EntityRow>) -> Catalog {
    let sources: Vec<SourceEntity> = rows
        .into_iter()
        .filter_map(|row| {
            let entity = match serde_json::from_str(&row.body) {
                Ok(entity) => entity,
                Err(e) => {
                    tracing::error!(entity = %row.entity_ref, error = %e, "stored entity is not valid JSON; skipped");
                    return None;
                }
            };
            let relations = serde_json::from_str(&row.relations)
                .map(|v| relations_from_json(&v))
                .unwrap_or_default();
            Some(SourceEntity {
                key: row.entity_ref,
                uid: row.uid,
                entity,
                relations,
            })
        })
        .collect();
    Catalog::build(stitch(sources))
}

/// Reads every entity from the store and indexes it.
pub async fn load_catalog(store: &dyn Store) -> Result<Catalog, StoreError> {
    let rows = store.entities().await?;
    Ok(tokio::task::spawn_blocking(move || build_catalog(rows))
        .await
        .unwrap_or_default())
}
