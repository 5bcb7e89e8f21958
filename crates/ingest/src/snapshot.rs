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

/// A query index with the relations it was stitched from, so that it can be updated for
/// a few changed rows ([`update_index`]) instead of read again from the store.
pub struct Index {
    pub catalog: Catalog,
    pub stitcher: Stitcher,
}

/// Stitches stored rows (sorted or not) into a query index.
pub fn build_catalog(rows: Vec<EntityRow>) -> Catalog {
    build_index(rows).catalog
}

/// [`build_catalog`], keeping the relations for [`update_index`].
pub fn build_index(mut rows: Vec<EntityRow>) -> Index {
    rows.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
    let relations: Vec<(String, String)> = rows
        .iter_mut()
        .map(|r| (r.entity_ref.clone(), std::mem::take(&mut r.relations)))
        .collect();
    let stitcher = stitcher(&relations);
    let mut builder = CatalogBuilder::new(workers());
    builder.add_batch(rows, |row| finish(&stitcher, &row));
    Index {
        catalog: builder.finish(),
        stitcher,
    }
}

/// The index after a write of `upserts` and `deletes` (a batch's rows): the written entities
/// and every entity whose relations they change are stitched again, the rest copied
/// (`Catalog::patch`). Equal to a whole build from the store after the write.
pub fn update_index(
    index: &Catalog,
    stitcher: &mut Stitcher,
    upserts: &[EntityRow],
    deletes: &[String],
) -> Catalog {
    let mut touched: Vec<String> = Vec::new();
    for key in deletes {
        touched.extend(stitcher.remove_entity(key));
    }
    for row in upserts {
        touched.extend(stitcher.replace_stored_relations(&row.entity_ref, &row.relations));
    }
    touched.sort_unstable();
    touched.dedup();
    let written: std::collections::HashMap<&str, &EntityRow> =
        upserts.iter().map(|r| (r.entity_ref.as_str(), r)).collect();
    let deleted: std::collections::HashSet<&str> = deletes.iter().map(String::as_str).collect();
    let finished: Vec<pave_catalog::FinalEntity> = touched
        .iter()
        .filter_map(|key| match written.get(key.as_str()) {
            Some(row) => finish(stitcher, row),
            // An entity whose relations changed: its served JSON is its stored body with
            // relations, so finishing it again gives the body it would be built from.
            None if !deleted.contains(key.as_str()) => {
                let record = index.get(key)?;
                stitcher
                    .finish(&record.key, &record.uid, &record.json, &record.hash)
                    .ok()
            }
            None => None,
        })
        .collect();
    let removed: Vec<String> = deletes
        .iter()
        .filter(|k| !written.contains_key(k.as_str()))
        .cloned()
        .collect();
    index.patch(finished, &removed)
}

/// Reads every entity from the store and indexes it, streaming: relations are read first
/// (stitching needs all of them), then bodies are finished and indexed in batches on a
/// blocking thread pool, so memory holds the index, not every row.
///
/// # Errors
/// When the store cannot be read, or a worker building the index failed (then no index is
/// better than one missing entities).
pub async fn load_catalog(store: &dyn Store) -> Result<Catalog, IngestError> {
    load_index(store, workers())
        .await
        .map(|index| index.catalog)
}

/// [`load_catalog`] on `workers` threads, keeping the relations for [`update_index`].
///
/// # Errors
/// As [`load_catalog`].
pub async fn load_index(store: &dyn Store, workers: usize) -> Result<Index, IngestError> {
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
        let mut builder = CatalogBuilder::with_capacity(workers, count);
        for batch in rx {
            builder.add_batch(batch, |row: EntityRow| finish(&stitcher, &row));
        }
        Index {
            catalog: builder.finish(),
            stitcher,
        }
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
    let index = builder.await;
    visited?;
    let index = index.map_err(|source| IngestError::Worker {
        task: "building the index",
        source,
    })?;
    tracing::debug!(
        entities = index.catalog.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "index built"
    );
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, owner: &str, depends: &[&str], version: u32) -> EntityRow {
        let (kind, name) = key.split_once(":default/").unwrap();
        let mut relations: Vec<(String, String)> = Vec::new();
        if !owner.is_empty() {
            relations.push(("ownedBy".into(), owner.into()));
        }
        relations.extend(
            depends
                .iter()
                .map(|d| ("dependsOn".to_owned(), (*d).to_owned())),
        );
        let body = format!(
            r#"{{"apiVersion":"backstage.io/v1alpha1","kind":"{kind}","metadata":{{"name":"{name}","namespace":"default","title":"v{version}"}},"spec":{{"owner":"{owner}"}}}}"#
        );
        EntityRow {
            entity_ref: key.into(),
            uid: format!("uid-{name}"),
            location_id: "l1".into(),
            location_key: format!("file:/c/{name}.yaml"),
            hash: format!("h-{name}-{version}"),
            body,
            relations: serde_json::to_string(&relations).unwrap(),
            updated_at: 1,
            parent_ref: String::new(),
        }
    }

    fn everything(catalog: &Catalog) -> Vec<String> {
        let mut out: Vec<String> = catalog
            .records()
            .iter()
            .map(|r| r.json.to_string())
            .collect();
        out.push(format!(
            "{:?}",
            catalog.facets(
                None,
                None,
                &[
                    "relations.ownedby".into(),
                    "relations.dependencyof".into(),
                    "relations.ownerof".into()
                ]
            )
        ));
        out
    }

    #[test]
    fn an_updated_index_equals_one_built_from_the_rows_after_the_write() {
        let mut rows = vec![
            row("group:default/g1", "", &[], 1),
            row("group:default/g2", "", &[], 1),
        ];
        for i in 0..10 {
            let next = format!("component:default/c{}", i + 1);
            rows.push(row(
                &format!("component:default/c{i}"),
                &format!("group:default/g{}", 1 + i % 2),
                &[next.as_str()],
                1,
            ));
        }
        let mut index = build_index(rows.clone());
        // Writes in turn: (rows written, refs deleted).
        let writes: Vec<(Vec<EntityRow>, Vec<&str>)> = vec![
            // One body and owner change: both groups' ownerOf change too.
            (
                vec![row("component:default/c3", "group:default/g2", &[], 2)],
                vec![],
            ),
            // A removal: c4's dependencyOf goes, c6's stays.
            (vec![], vec!["component:default/c5"]),
            // A new entity naming a missing one, and a new group.
            (
                vec![
                    row(
                        "component:default/c10",
                        "group:default/g3",
                        &["component:default/c5"],
                        1,
                    ),
                    row("group:default/g3", "", &[], 1),
                ],
                vec![],
            ),
            // The missing one comes back (its reverse relations show again), a group goes.
            (
                vec![row("component:default/c5", "group:default/g1", &[], 3)],
                vec!["group:default/g1"],
            ),
            // Deleted and written in one batch.
            (
                vec![row("component:default/c0", "", &[], 4)],
                vec!["component:default/c0"],
            ),
            // Nothing at all.
            (vec![], vec![]),
        ];
        for (written, deleted) in writes {
            let deleted: Vec<String> = deleted.into_iter().map(str::to_owned).collect();
            rows.retain(|r| {
                !deleted.contains(&r.entity_ref)
                    && !written.iter().any(|w| w.entity_ref == r.entity_ref)
            });
            rows.extend(written.iter().cloned());
            let updated = update_index(&index.catalog, &mut index.stitcher, &written, &deleted);
            let rebuilt = build_index(rows.clone());
            assert_eq!(
                everything(&updated),
                everything(&rebuilt.catalog),
                "after {deleted:?}"
            );
            index.catalog = updated;
        }
        assert!(index.catalog.get("group:default/g1").is_none());
        let c5 = index.catalog.get("component:default/c5").unwrap().entity();
        assert_eq!(
            c5["relations"],
            serde_json::json!([
                {"type": "dependencyOf", "targetRef": "component:default/c10"},
                {"type": "dependencyOf", "targetRef": "component:default/c4"},
                {"type": "ownedBy", "targetRef": "group:default/g1"},
            ])
        );
    }
}
