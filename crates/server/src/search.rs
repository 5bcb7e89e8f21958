//! Keeping the search index (`pave-search`) in step with the catalog: the I/O edge.
//!
//! The platform swaps in a new snapshot after every change; this module notices the swap
//! (a pointer comparison, checked at every search and once a second by a follower task)
//! and brings the index up to date **off the request path**: entities whose content hash
//! changed are indexed again, removed ones deleted, the rest left alone; then the docs
//! sites are read again and only those whose pages changed are re-indexed. Searches keep
//! reading the previous commit meanwhile. Only the very first search of a process waits,
//! for the entities (not the docs), so an empty index is never served as "no results".

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pave_catalog::Catalog;
use pave_search::{PageDoc, SearchIndex, Site};
use serde_json::Value;

use crate::AppState;

/// How often the follower compares the snapshot with what was indexed.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// Docs pages indexed in all, at most (a catalog of many large sites cannot fill memory).
const MAX_INDEXED_PAGES: usize = 50_000;

/// The index and what it was built from.
pub(crate) struct SearchState {
    index: OnceLock<Arc<SearchIndex>>,
    /// The catalog the entities were last indexed from (`None`: never).
    indexed: Mutex<Option<Arc<Catalog>>>,
    /// A sync is running (one at a time; a change during one is picked up when it ends).
    running: tokio::sync::Mutex<()>,
    /// The follower task was started.
    following: AtomicBool,
}

impl Default for SearchState {
    fn default() -> Self {
        SearchState {
            index: OnceLock::new(),
            indexed: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
            following: AtomicBool::new(false),
        }
    }
}

impl SearchState {
    fn indexed(&self) -> Option<Arc<Catalog>> {
        match self.indexed.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_indexed(&self, catalog: Arc<Catalog>) {
        match self.indexed.lock() {
            Ok(mut guard) => *guard = Some(catalog),
            Err(poisoned) => *poisoned.into_inner() = Some(catalog),
        }
    }
}

/// The index, up to date or being brought up to date in the background.
///
/// # Errors
/// When the index cannot be created or the first sync fails (a bug, not input).
pub(crate) async fn index(state: &Arc<AppState>) -> Result<Arc<SearchIndex>, String> {
    start(state);
    let search = &state.search;
    let index = created(state)?;
    if search.indexed().is_none() {
        // The first search waits for the entities; docs follow in the background.
        sync_entities(state, &index).await?;
        spawn_sync(state);
    } else if !is_current(state) {
        spawn_sync(state);
    }
    Ok(index)
}

/// Starts the follower (once): it brings the index up to date within a second of each
/// snapshot swap, so searches after a change rarely see the old catalog.
pub(crate) fn start(state: &Arc<AppState>) {
    if state.search.following.swap(true, Ordering::AcqRel) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        state.search.following.store(false, Ordering::Release);
        return;
    };
    let weak = Arc::downgrade(state);
    runtime.spawn(async move {
        loop {
            {
                let Some(state) = weak.upgrade() else {
                    return;
                };
                // Built as soon as a snapshot is loaded, before anyone searches.
                if state.platform.is_loaded() && !is_current(&state) {
                    match created(&state) {
                        Ok(_) => sync(&state).await,
                        Err(e) => tracing::error!(error = %e, "cannot create the search index"),
                    }
                }
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    });
}

/// The index, created empty on first use.
fn created(state: &AppState) -> Result<Arc<SearchIndex>, String> {
    if let Some(index) = state.search.index.get() {
        return Ok(Arc::clone(index));
    }
    // One thread: a rebuild must leave the other core to the readers.
    let index = SearchIndex::new(1)
        .map_err(|e| e.to_string())?
        .reading_operations(openapi_operations);
    let index = Arc::new(index);
    Ok(Arc::clone(state.search.index.get_or_init(|| index)))
}

/// Operation ids and summaries of an OpenAPI definition (unreadable: none).
fn openapi_operations(definition: &str) -> Vec<String> {
    let Ok(doc) = pave_docs::read_openapi(definition) else {
        return Vec::new();
    };
    doc.groups
        .iter()
        .flat_map(|g| &g.operations)
        .flat_map(|op| [op.operation_id.clone(), op.summary.clone()])
        .flatten()
        .collect()
}

fn is_current(state: &AppState) -> bool {
    state
        .search
        .indexed()
        .is_some_and(|c| Arc::ptr_eq(&c, &state.catalog()))
}

fn spawn_sync(state: &Arc<AppState>) {
    let state = Arc::clone(state);
    tokio::spawn(async move { sync(&state).await });
}

/// Brings entities, then docs pages, up to date with the current snapshot; again while
/// the snapshot moved meanwhile. Failures are logged: the old index keeps serving.
async fn sync(state: &Arc<AppState>) {
    let Ok(_running) = state.search.running.try_lock() else {
        return;
    };
    let Some(index) = state.search.index.get().cloned() else {
        return;
    };
    loop {
        let catalog = state.catalog();
        if let Err(e) = sync_entities(state, &index).await {
            tracing::error!(error = %e, "updating the search index failed");
            return;
        }
        if let Err(e) = sync_docs(state, &index, &catalog).await {
            tracing::warn!(error = %e, "indexing docs pages for search failed");
        }
        if Arc::ptr_eq(&catalog, &state.catalog()) {
            return;
        }
    }
}

async fn sync_entities(state: &Arc<AppState>, index: &Arc<SearchIndex>) -> Result<(), String> {
    let catalog = state.catalog();
    let started = Instant::now();
    let job = {
        let (index, catalog) = (Arc::clone(index), Arc::clone(&catalog));
        move || {
            index.sync_entities(
                catalog
                    .records()
                    .iter()
                    .map(|r| (&*r.key, &*r.hash, &*r.json)),
            )
        }
    };
    let synced = tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    state.search.set_indexed(catalog);
    if synced.changed() {
        tracing::info!(
            added = synced.added,
            updated = synced.updated,
            removed = synced.removed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index updated"
        );
    }
    Ok(())
}

/// Reads every entity's docs site and indexes the sites whose pages changed.
async fn sync_docs(
    state: &Arc<AppState>,
    index: &Arc<SearchIndex>,
    catalog: &Arc<Catalog>,
) -> Result<(), String> {
    let entities: Vec<(String, Value)> = catalog
        .records()
        .iter()
        .filter(|r| r.json.contains(pave_platform::docs::ANNOTATION))
        .filter_map(|r| {
            let value: Value = serde_json::from_str(&r.json).ok()?;
            pave_platform::docs::techdocs_ref(&value)?;
            Some((r.key.to_string(), value))
        })
        .collect();
    let keys: Vec<String> = entities.iter().map(|(k, _)| k.clone()).collect();
    let sources: HashMap<String, Result<pave_ingest::SourceFile, String>> = state
        .platform
        .entity_sources(&keys)
        .await?
        .into_iter()
        .collect();
    let index = Arc::clone(index);
    let job = move || {
        let mut budget = MAX_INDEXED_PAGES;
        let mut sites = Vec::with_capacity(entities.len());
        for (key, entity) in &entities {
            let Some(Ok(source)) = sources.get(key) else {
                continue;
            };
            let Some(location) = pave_platform::docs::techdocs_ref(entity)
                .and_then(|r| pave_platform::docs::resolve(source, r).ok())
            else {
                continue;
            };
            // A site that cannot be read is indexed as having no pages (its own page
            // says why).
            let pages = read_site(&location, key, entity, budget).unwrap_or_default();
            budget = budget.saturating_sub(pages.len());
            sites.push(site(key, pages));
        }
        index.sync_pages(sites, true)
    };
    let synced = tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if synced.changed() {
        tracing::info!(
            sites_added = synced.added,
            sites_updated = synced.updated,
            sites_removed = synced.removed,
            "docs pages indexed for search"
        );
    }
    Ok(())
}

fn site(key: &str, pages: Vec<PageDoc>) -> Site {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for p in &pages {
        (&p.path, &p.title, &p.body, &p.entity_title, &p.entity_owner).hash(&mut hasher);
        (&p.entity_tags, &p.entity_type, &p.location).hash(&mut hasher);
    }
    Site {
        entity_key: key.to_owned(),
        fingerprint: hasher.finish(),
        pages,
    }
}

/// The pages of one site as search documents, at most `budget`.
fn read_site(
    location: &pave_platform::docs::DocsLocation,
    key: &str,
    entity: &Value,
    budget: usize,
) -> Option<Vec<PageDoc>> {
    let limits = pave_docs::Limits::default();
    let root = std::fs::canonicalize(&location.dir).ok()?;
    let boundary = std::fs::canonicalize(&location.boundary).ok()?;
    if !root.starts_with(&boundary) {
        return None;
    }
    let (_, folder) = pave_docs::open_site(&root, &limits).ok()?;
    let doc = pave_search::EntityDoc::from_json(key, "", entity, pave_search::no_operations)?;
    let base = format!("{}/docs/", doc.location());
    let titles = folder.titles();
    let mut pages = Vec::new();
    for path in folder.pages().as_slice().iter().take(budget) {
        let Ok(markdown) = folder.read_page(path) else {
            continue;
        };
        let (title, headings, body) = pave_search::page_text(&markdown);
        let title = title
            .or_else(|| titles.get(path).cloned())
            .unwrap_or_else(|| pave_docs::file_title(path));
        pages.push(PageDoc {
            entity_key: key.to_owned(),
            entity_name: doc.name.clone(),
            entity_title: doc.title.clone(),
            entity_kind: doc.kind.clone(),
            entity_owner: doc.owner.clone(),
            entity_type: doc.spec_type.clone(),
            entity_tags: doc.tags.clone(),
            location: format!("{base}{}", pave_docs::page_url(path)),
            path: path.clone(),
            title,
            headings,
            body,
        });
    }
    Some(pages)
}
