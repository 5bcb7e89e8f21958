//! The index: tantivy in RAM, kept in step with the catalog entity by entity.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, FacetCollector, FacetCounts, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Facet, IndexRecordOption, Value as _};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::SearchError;
use crate::doc::{EntityDoc, OperationReader, PageDoc, clip, no_operations};
use crate::highlight::{Fragment, Matcher, snippet};
use crate::query::{Dimension, DocType, SearchRequest, fuzzy_distance, terms};
use crate::schema::{ANALYZER, Fields, analyzer, schema};

/// Text of a page kept for its snippet (bytes); the whole body is indexed.
const STORED_BODY_BYTES: usize = 8 * 1024;
/// Snippet widths (bytes).
const TEXT_SNIPPET: usize = 220;
const TITLE_SNIPPET: usize = 160;
/// Values listed per facet.
const FACET_VALUES: usize = 25;
/// Memory each indexing thread may fill before it writes a segment. Tantivy's minimum is
/// 15 MB; 10,000 entities and 5,000 pages fit in one segment per thread at this size.
const WRITER_MEMORY_PER_THREAD: usize = 64 * 1024 * 1024;

/// Longest typed text compared whole with names within a typo (longer texts are not names).
const MAX_FUZZY_NAME_BYTES: usize = 64;

/// Ranking weights: an exact name is worth more than anything else a document can match;
/// a word of the name more than one of the title, then tags, then the rest. Loose matches
/// (typos, prefixes) score a constant, below an exact word of the same field.
mod boost {
    pub(super) const EXACT_NAME: f32 = 200.0;
    pub(super) const FUZZY_EXACT_NAME: f32 = 30.0;
    pub(super) const NAME: f32 = 10.0;
    pub(super) const TITLE: f32 = 5.0;
    pub(super) const TAGS: f32 = 4.0;
    pub(super) const OWNER: f32 = 2.0;
    pub(super) const HEADINGS: f32 = 2.0;
    pub(super) const DESCRIPTION: f32 = 1.0;
    pub(super) const BODY: f32 = 0.7;
    pub(super) const FUZZY_NAME: f32 = 6.0;
    pub(super) const FUZZY_TITLE: f32 = 3.0;
    pub(super) const FUZZY_TAGS: f32 = 2.0;
    pub(super) const FUZZY_TEXT: f32 = 0.5;
    pub(super) const PREFIX_NAME: f32 = 8.0;
    pub(super) const PREFIX_TITLE: f32 = 4.0;
    pub(super) const PREFIX_TAGS: f32 = 2.0;
}

/// What a result shows, stored with it (JSON in the `stored` field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: String,
    /// Entities: the description; pages: the start of the body.
    pub text: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Pages: the entity's title or name, and the page's path in the docs folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doctype: DocType,
    pub score: f32,
    pub shown: Shown,
    /// The title with matched words marked.
    pub title: Vec<Fragment>,
    /// Where the text matched, matched words marked (empty for type-ahead).
    pub text: Vec<Fragment>,
}

/// A page of results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Every document the query matched.
    pub total: usize,
    /// Per dimension, values and how many results each would leave, most first. A
    /// dimension's counts ignore its own filter (so other values stay visible to choose).
    pub facets: Vec<(Dimension, Vec<(String, u64)>)>,
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

impl Synced {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

/// Results before their documents are read.
struct Ranked {
    results: SearchResults,
    hits_at: Vec<(f32, DocAddress)>,
}

/// One entity's docs pages for [`SearchIndex::sync_pages`].
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub entity_key: String,
    /// Changes when any page does (the caller's hash of what it read); an unchanged site
    /// is not indexed again.
    pub fingerprint: u64,
    pub pages: Vec<PageDoc>,
}

/// The search index. Searches read the last committed state; syncs write under one lock
/// and publish atomically when they commit, so readers never see half an update.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Writer>,
    operations: OperationReader,
}

struct Writer {
    tantivy: IndexWriter,
    /// Entities indexed: key → content hash.
    entities: HashMap<String, String>,
    /// Sites indexed: entity key → fingerprint.
    sites: HashMap<String, u64>,
}

impl SearchIndex {
    /// An empty index in RAM, written with `threads` indexing threads.
    pub fn new(threads: usize) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, analyzer());
        let threads = threads.clamp(1, 8);
        let tantivy = index.writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            fields,
            writer: Mutex::new(Writer {
                tantivy,
                entities: HashMap::new(),
                sites: HashMap::new(),
            }),
            operations: no_operations,
        })
    }

    /// Indexes the operations of OpenAPI definitions as `reader` reads them.
    #[must_use]
    pub fn reading_operations(mut self, reader: OperationReader) -> SearchIndex {
        self.operations = reader;
        self
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while writing leaves tantivy's uncommitted work, which the next commit or
        // rollback settles; the maps only ever hold what was committed.
        match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Documents searchable now.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes the indexed entities those of `entities` (key, content hash, JSON): new and
    /// changed ones (by hash) are indexed, missing ones removed with their pages, the rest
    /// left alone. Only changed entities' JSON is parsed.
    pub fn sync_entities<'a>(
        &self,
        entities: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<Synced, SearchError> {
        let mut w = self.writer();
        let mut synced = Synced::default();
        let mut seen: HashMap<String, String> = HashMap::with_capacity(w.entities.len());
        let mut docs = Vec::new();
        for (key, hash, json) in entities {
            let key = key.to_lowercase();
            match w.entities.get(&key) {
                Some(old) if old == hash => {}
                old => {
                    // An entity search cannot read (no kind or name) is left out, and a
                    // version of it indexed before is removed like a deleted entity.
                    let Some(doc) = serde_json::from_str::<serde_json::Value>(json)
                        .ok()
                        .and_then(|v| EntityDoc::from_json(&key, hash, &v, self.operations))
                    else {
                        continue;
                    };
                    if old.is_some() {
                        synced.updated += 1;
                    } else {
                        synced.added += 1;
                    }
                    docs.push(doc);
                }
            }
            seen.insert(key, hash.to_owned());
        }
        let removed: Vec<String> = w
            .entities
            .keys()
            .filter(|k| !seen.contains_key(*k))
            .cloned()
            .collect();
        synced.removed = removed.len();
        if !synced.changed() {
            return Ok(synced);
        }
        let f = self.fields;
        for key in &removed {
            w.tantivy
                .delete_term(Term::from_field_text(f.id, &entity_id(key)));
            w.tantivy.delete_term(Term::from_field_text(f.page_of, key));
        }
        for doc in &docs {
            w.tantivy
                .delete_term(Term::from_field_text(f.id, &entity_id(&doc.key)));
            w.tantivy.add_document(entity_document(f, doc))?;
        }
        self.commit(&mut w)?;
        for key in &removed {
            w.sites.remove(key);
        }
        w.entities = seen;
        Ok(synced)
    }

    /// Indexes the pages of `sites` whose fingerprint changed. With `complete`, `sites` is
    /// every site there is: pages of entities not in it are removed.
    pub fn sync_pages(
        &self,
        sites: impl IntoIterator<Item = Site>,
        complete: bool,
    ) -> Result<Synced, SearchError> {
        let mut w = self.writer();
        let f = self.fields;
        let mut synced = Synced::default();
        let mut listed: Vec<(String, u64)> = Vec::new();
        for site in sites {
            let key = site.entity_key.to_lowercase();
            listed.push((key.clone(), site.fingerprint));
            if w.sites.get(&key) == Some(&site.fingerprint) {
                continue;
            }
            if w.sites.contains_key(&key) {
                synced.updated += 1;
            } else {
                synced.added += 1;
            }
            w.tantivy
                .delete_term(Term::from_field_text(f.page_of, &key));
            for page in &site.pages {
                w.tantivy.add_document(page_document(f, &key, page))?;
            }
        }
        let gone: Vec<String> = if complete {
            w.sites
                .keys()
                .filter(|k| !listed.iter().any(|(l, _)| l == *k))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        for key in &gone {
            w.tantivy.delete_term(Term::from_field_text(f.page_of, key));
        }
        synced.removed = gone.len();
        if !synced.changed() {
            return Ok(synced);
        }
        self.commit(&mut w)?;
        for key in &gone {
            w.sites.remove(key);
        }
        for (key, fingerprint) in listed {
            w.sites.insert(key, fingerprint);
        }
        Ok(synced)
    }

    fn commit(&self, w: &mut Writer) -> Result<(), SearchError> {
        if let Err(e) = w.tantivy.commit() {
            // Drop what was added, so the next sync starts from the committed state.
            let _ = w.tantivy.rollback();
            return Err(e.into());
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Runs `request`. Never fails on what the text says: it is read as words only.
    ///
    /// Every word must match; when that finds nothing and there are several words, a
    /// document matching any of them is taken (so `name:payments` still finds payments).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let (offset, limit) = request.page()?;
        let mut analyzer = analyzer();
        let words = terms(&mut analyzer, &request.text);
        if words.is_empty() && request.filters.is_empty() && request.types.is_empty() {
            return Ok(SearchResults::default());
        }
        let searcher = self.reader.searcher();
        let mut results = self.run(&searcher, request, &words, true, offset, limit)?;
        if results.results.total == 0 && words.len() > 1 {
            results = self.run(&searcher, request, &words, false, offset, limit)?;
        }
        let matcher = Matcher {
            terms: &words,
            prefix_last: true,
        };
        let docs = std::mem::take(&mut results.hits_at);
        for (score, address) in docs {
            if let Some(hit) = self.hit(&searcher, address, score, &matcher, request, &mut analyzer)
            {
                results.results.hits.push(hit);
            }
        }
        Ok(results.results)
    }

    /// The ranked page and the facet counts of one reading of the words.
    fn run(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest,
        words: &[String],
        every_word: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Ranked, SearchError> {
        let f = self.fields;
        let text_query = text_query(f, words, &request.text, every_word);
        let query = |skip: Option<Dimension>| filtered(f, &text_query, request, skip);
        let top = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_score();
        let unfiltered: Vec<Dimension> = Dimension::ALL
            .into_iter()
            .filter(|d| request.values(*d).is_empty())
            .collect();
        let facets = facet_collector(if request.typeahead { &[] } else { &unfiltered });
        let (docs, total, counts) = searcher.search(&query(None), &(top, Count, facets))?;
        let mut results = SearchResults {
            total,
            ..SearchResults::default()
        };
        if !request.typeahead && total > 0 {
            for d in Dimension::ALL {
                let counts = if unfiltered.contains(&d) {
                    facet_values(&counts, d)
                } else {
                    // Counted without this dimension's own filter.
                    let counts = searcher.search(&query(Some(d)), &facet_collector(&[d]))?;
                    facet_values(&counts, d)
                };
                if !counts.is_empty() {
                    results.facets.push((d, counts));
                }
            }
        }
        Ok(Ranked {
            results,
            hits_at: docs,
        })
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: f32,
        matcher: &Matcher<'_>,
        request: &SearchRequest,
        analyzer: &mut TextAnalyzer,
    ) -> Option<Hit> {
        let doc: TantivyDocument = searcher.doc(address).ok()?;
        let doctype = if doc
            .get_first(self.fields.id)
            .and_then(|v| v.as_str())?
            .starts_with("p:")
        {
            DocType::Page
        } else {
            DocType::Entity
        };
        let shown: Shown =
            serde_json::from_str(doc.get_first(self.fields.stored)?.as_str()?).ok()?;
        let title = snippet(analyzer, matcher, &shown.title, TITLE_SNIPPET);
        let text = if request.typeahead {
            Vec::new()
        } else {
            snippet(analyzer, matcher, &shown.text, TEXT_SNIPPET)
        };
        Some(Hit {
            doctype,
            score,
            shown,
            title,
            text,
        })
    }
}

fn entity_id(key: &str) -> String {
    format!("e:{key}")
}

fn facet(dimension: Dimension, value: &str) -> Facet {
    Facet::from_path([dimension.as_str(), &value.to_lowercase()])
}

fn entity_document(f: Fields, doc: &EntityDoc) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, entity_id(&doc.key));
    d.add_text(f.doctype, DocType::Entity.as_str());
    d.add_text(f.name, &doc.name);
    d.add_text(f.name_exact, doc.name.to_lowercase());
    if let Some(title) = &doc.title {
        d.add_text(f.title, title);
    }
    for tag in &doc.tags {
        d.add_text(f.tags, tag);
        d.add_facet(f.facets, facet(Dimension::Tag, tag));
    }
    if let Some(owner) = doc.owner_name() {
        d.add_text(f.owner, &owner);
        d.add_facet(f.facets, facet(Dimension::Owner, &owner));
    }
    if let Some(description) = &doc.description {
        d.add_text(f.description, description);
    }
    d.add_facet(f.facets, facet(Dimension::Kind, &doc.kind));
    if let Some(t) = &doc.spec_type {
        d.add_facet(f.facets, facet(Dimension::Type, t));
    }
    let others = [
        Some(&doc.kind),
        doc.spec_type.as_ref(),
        doc.lifecycle.as_ref(),
        doc.system.as_ref(),
    ];
    for text in others.into_iter().flatten() {
        d.add_text(f.body, text);
    }
    for text in doc.annotations.iter().chain(&doc.operations) {
        d.add_text(f.body, text);
    }
    let shown = Shown {
        kind: doc.kind.clone(),
        namespace: doc.namespace.clone(),
        name: doc.name.clone(),
        title: doc.title.clone().unwrap_or_else(|| doc.name.clone()),
        text: doc.description.clone().unwrap_or_default(),
        location: doc.location(),
        owner: doc.owner.clone(),
        spec_type: doc.spec_type.clone(),
        lifecycle: doc.lifecycle.clone(),
        tags: doc.tags.clone(),
        entity_title: None,
        path: None,
    };
    d.add_text(f.stored, serde_json::to_string(&shown).unwrap_or_default());
    d
}

fn page_document(f: Fields, key: &str, page: &PageDoc) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, format!("p:{key}:{}", page.path));
    d.add_text(f.page_of, key);
    d.add_text(f.doctype, DocType::Page.as_str());
    d.add_text(f.title, &page.title);
    for h in &page.headings {
        d.add_text(f.headings, h);
    }
    d.add_text(f.body, &page.body);
    // A page is found by its entity's name too ("payments runbook"), but below the entity.
    d.add_text(f.description, &page.entity_name);
    if let Some(t) = &page.entity_title {
        d.add_text(f.description, t);
    }
    d.add_facet(f.facets, facet(Dimension::Kind, &page.entity_kind));
    if let Some(t) = &page.entity_type {
        d.add_facet(f.facets, facet(Dimension::Type, t));
    }
    if let Some(owner) = page.entity_owner.as_deref().map(crate::doc::short_ref) {
        d.add_facet(f.facets, facet(Dimension::Owner, &owner));
    }
    for tag in &page.entity_tags {
        d.add_facet(f.facets, facet(Dimension::Tag, tag));
    }
    let (kind, namespace, name) = split_key(key);
    let shown = Shown {
        kind,
        namespace,
        name,
        title: page.title.clone(),
        text: clip(page.body.trim(), STORED_BODY_BYTES),
        location: page.location.clone(),
        owner: page.entity_owner.clone(),
        spec_type: page.entity_type.clone(),
        lifecycle: None,
        tags: Vec::new(),
        entity_title: Some(
            page.entity_title
                .clone()
                .unwrap_or_else(|| page.entity_name.clone()),
        ),
        path: Some(page.path.clone()),
    };
    d.add_text(f.stored, serde_json::to_string(&shown).unwrap_or_default());
    d
}

/// `kind:namespace/name` → its parts (lower-cased, as keys are).
fn split_key(key: &str) -> (String, String, String) {
    let (kind, rest) = key.split_once(':').unwrap_or(("", key));
    let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
    (kind.to_owned(), namespace.to_owned(), name.to_owned())
}

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

fn term(field: tantivy::schema::Field, text: &str, boost: f32) -> (Occur, Box<dyn Query>) {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    boosted(Box::new(q), boost)
}

/// Every word (`every_word`; else any) must match some field, exactly, within a typo or
/// (the last word) as a prefix; an exact name adds the largest boost.
fn text_query(f: Fields, words: &[String], text: &str, every_word: bool) -> Option<Box<dyn Query>> {
    if words.is_empty() {
        return None;
    }
    let mut top: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let mut any = vec![
            term(f.name, w, boost::NAME),
            term(f.title, w, boost::TITLE),
            term(f.tags, w, boost::TAGS),
            term(f.owner, w, boost::OWNER),
            term(f.headings, w, boost::HEADINGS),
            term(f.description, w, boost::DESCRIPTION),
            term(f.body, w, boost::BODY),
        ];
        let distance = fuzzy_distance(w);
        if distance > 0 {
            let fuzzy = |field, d, b| {
                let q = FuzzyTermQuery::new(Term::from_field_text(field, w), d, true);
                boosted(Box::new(q), b)
            };
            any.push(fuzzy(f.name, distance, boost::FUZZY_NAME));
            any.push(fuzzy(f.title, distance, boost::FUZZY_TITLE));
            any.push(fuzzy(f.tags, distance, boost::FUZZY_TAGS));
            // Long texts: one edit only, which keeps the automaton small on the largest
            // term dictionaries.
            any.push(fuzzy(f.description, 1, boost::FUZZY_TEXT));
            any.push(fuzzy(f.headings, 1, boost::FUZZY_TEXT));
            any.push(fuzzy(f.body, 1, boost::FUZZY_TEXT));
        }
        if i + 1 == words.len() {
            let prefix = |field, b| {
                let q = FuzzyTermQuery::new_prefix(Term::from_field_text(field, w), 0, false);
                boosted(Box::new(q), b)
            };
            any.push(prefix(f.name, boost::PREFIX_NAME));
            any.push(prefix(f.title, boost::PREFIX_TITLE));
            any.push(prefix(f.tags, boost::PREFIX_TAGS));
        }
        let occur = if every_word {
            Occur::Must
        } else {
            Occur::Should
        };
        top.push((occur, Box::new(BooleanQuery::new(any))));
    }
    let typed = text.trim().to_lowercase();
    top.push(term(f.name_exact, &typed, boost::EXACT_NAME));
    let joined = words.join("-");
    if joined != typed {
        top.push(term(f.name_exact, &joined, boost::EXACT_NAME));
    }
    // A whole name within a typo or two of what was typed ranks above names that merely
    // contain a word like it (`storfront` → storefront before storefront-web).
    let distance = fuzzy_distance(&typed);
    if distance > 0 && typed.len() <= MAX_FUZZY_NAME_BYTES {
        let q = FuzzyTermQuery::new(Term::from_field_text(f.name_exact, &typed), distance, true);
        top.push(boosted(Box::new(q), boost::FUZZY_EXACT_NAME));
    }
    Some(Box::new(BooleanQuery::new(top)))
}

/// The text query with the request's type and filters, but not `skip`'s filter.
fn filtered(
    f: Fields,
    text: &Option<Box<dyn Query>>,
    request: &SearchRequest,
    skip: Option<Dimension>,
) -> Box<dyn Query> {
    let mut all: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        match text {
            Some(q) => q.box_clone(),
            None => Box::new(AllQuery),
        },
    )];
    if !request.types.is_empty() {
        let any: Vec<(Occur, Box<dyn Query>)> = request
            .types
            .iter()
            .map(|t| term(f.doctype, t.as_str(), 1.0))
            .collect();
        all.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    for (dimension, values) in &request.filters {
        if Some(*dimension) == skip || values.is_empty() {
            continue;
        }
        let any: Vec<(Occur, Box<dyn Query>)> = values
            .iter()
            .map(|v| {
                let q = TermQuery::new(
                    Term::from_facet(f.facets, &facet(*dimension, v)),
                    IndexRecordOption::Basic,
                );
                (Occur::Should, Box::new(q) as Box<dyn Query>)
            })
            .collect();
        // A filter contributes no score, only membership.
        all.push((
            Occur::Must,
            Box::new(BoostQuery::new(Box::new(BooleanQuery::new(any)), 0.0)),
        ));
    }
    if all.len() == 1 && text.is_none() && request.types.is_empty() {
        return Box::new(EmptyQuery);
    }
    Box::new(BooleanQuery::new(all))
}

fn facet_collector(dimensions: &[Dimension]) -> FacetCollector {
    let mut c = FacetCollector::for_field("facets");
    for d in dimensions {
        c.add_facet(Facet::from_path([d.as_str()]));
    }
    c
}

fn facet_values(counts: &FacetCounts, dimension: Dimension) -> Vec<(String, u64)> {
    let mut values: Vec<(String, u64)> = counts
        .get(Facet::from_path([dimension.as_str()]))
        .filter_map(|(facet, n)| Some((facet.to_path().get(1)?.to_string(), n)))
        .collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    values.truncate(FACET_VALUES);
    values
}
