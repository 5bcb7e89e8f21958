//! An in-memory, read-only index over stitched entities that answers the catalog API's
//! queries: filters, field selection, ordering, pagination, full-text search and facets.
//!
//! Entities are kept as serialized JSON (what the API returns), plus an inverted index of their
//! search rows, so listing is a memory copy and filtering is set arithmetic on posting lists.

pub mod fields;
pub mod filter;
mod index;
pub mod limits;
mod patch;
pub mod predicate;
mod search;

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use fields::FieldSelection;
pub use filter::{Condition, EntityFilter};
pub use limits::{LimitExceeded, RequestLimits};
pub use predicate::{Matcher, Predicate};

use crate::stitch::FinalEntity;
use index::SearchIndex;

/// A malformed query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("invalid filter, {0}")]
    InvalidFilter(String),
    /// A malformed filter predicate (`query`).
    #[error("Invalid query: {0}")]
    InvalidQuery(String),
    #[error("invalid fields, {0}")]
    InvalidFields(String),
    #[error("invalid order, {0}")]
    InvalidOrder(String),
    #[error("invalid pagination, {0}")]
    InvalidPagination(String),
    #[error("malformed cursor, {0}")]
    InvalidCursor(String),
    /// A request that asks for more work than one request may.
    #[error(transparent)]
    TooMuch(#[from] LimitExceeded),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    Desc,
}

/// Sort by the (lower-cased) value of a field; entities without it come last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderField {
    pub field: String,
    pub order: Direction,
}

impl OrderField {
    /// Parses `order=asc:metadata.name` (the `/entities` form).
    pub fn parse_prefixed(s: &str) -> Result<Self, QueryError> {
        let (dir, field) = s.split_once(':').ok_or_else(|| {
            QueryError::InvalidOrder(format!(
                "'{s}' must be of the form asc:<field> or desc:<field>"
            ))
        })?;
        Self::new(field, dir)
    }

    /// Parses `orderField=metadata.name,desc` (the `/entities/by-query` form).
    pub fn parse_suffixed(s: &str) -> Result<Self, QueryError> {
        let (field, dir) = s.split_once(',').unwrap_or((s, "asc"));
        Self::new(field, dir)
    }

    fn new(field: &str, dir: &str) -> Result<Self, QueryError> {
        let order = match dir.trim() {
            "asc" => Direction::Asc,
            "desc" => Direction::Desc,
            other => {
                return Err(QueryError::InvalidOrder(format!(
                    "'{other}' is not a direction (expected asc or desc)"
                )));
            }
        };
        let field = field.trim();
        if field.is_empty() {
            return Err(QueryError::InvalidOrder(
                "the field must not be empty".into(),
            ));
        }
        Ok(OrderField {
            field: field.to_owned(),
            order,
        })
    }
}

/// Full-text search: `term` appears (ignoring case) in any of `fields`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FullTextFilter {
    pub term: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Fields searched when a full-text query names none.
pub const DEFAULT_TEXT_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "spec.type",
    "spec.profile.displayName",
];

/// One stored entity of the index.
#[derive(Debug)]
pub struct Record {
    pub key: Box<str>,
    pub uid: Box<str>,
    /// The entity as the API returns it.
    pub json: Box<str>,
    /// The stored body's content hash (see [`FinalEntity::hash`]).
    pub hash: Box<str>,
}

impl Record {
    /// Parses the stored JSON (which the index wrote itself).
    pub fn entity(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

/// A set of entity ids.
#[derive(Clone)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn empty(n: usize) -> Self {
        Bitset(vec![0; n.div_ceil(64)])
    }

    fn full(n: usize) -> Self {
        let mut b = Bitset(vec![u64::MAX; n.div_ceil(64)]);
        if !n.is_multiple_of(64)
            && let Some(last) = b.0.last_mut()
        {
            *last = (1u64 << (n % 64)) - 1;
        }
        b
    }

    fn insert(&mut self, i: u32) {
        if let Some(word) = self.0.get_mut(i as usize / 64) {
            *word |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn and(&mut self, other: &Bitset) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn or(&mut self, other: &Bitset) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// The complement within the first `n` ids.
    fn not(&self, n: usize) -> Bitset {
        let mut out = Bitset::full(n);
        for (a, b) in out.0.iter_mut().zip(&self.0) {
            *a &= !b;
        }
        out
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, word)| {
            let mut bits = *word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let tz = bits.trailing_zeros();
                bits &= bits - 1;
                u32::try_from(w * 64).ok().map(|base| base + tz)
            })
        })
    }
}

/// A request to `GET /entities`.
#[derive(Debug, Clone, Default)]
pub struct EntitiesRequest {
    pub filter: Option<EntityFilter>,
    pub fields: Option<FieldSelection>,
    pub order: Vec<OrderField>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    pub after: Option<String>,
}

/// A page of `GET /entities`: the ids to render (see [`Catalog::render`]), in order.
#[derive(Debug)]
pub struct EntitiesPage {
    pub ids: Vec<u32>,
    /// Cursor for the next page (`after=`), if there is one.
    pub next_after: Option<String>,
}

/// A request to `GET /entities/by-query`.
#[derive(Debug, Clone, Default)]
pub struct QueryRequest {
    pub filter: Option<EntityFilter>,
    pub order_field: Option<OrderField>,
    pub full_text: Option<FullTextFilter>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    pub fields: Option<FieldSelection>,
    /// When set, replaces filter, query, order and full text.
    pub cursor: Option<String>,
    /// A filter predicate (`POST /entities/by-query`), ANDed with `filter`; kept as JSON so
    /// that cursors carry it (Backstage's client sends a cursor that holds a `query` back to
    /// the `POST` route).
    pub query: Option<Value>,
    /// `totalItems: exclude`: do not count; `totalItems` is 0, as in Backstage.
    pub exclude_total: bool,
}

/// Items per page of `by-query` when the request names no limit.
pub const DEFAULT_QUERY_LIMIT: usize = 200;

/// A page of `GET /entities/by-query` as entity ids, to render one at a time with
/// [`Catalog::render`] (a server streams them rather than building the page in memory).
#[derive(Debug)]
pub struct QueryIds {
    pub ids: Vec<u32>,
    pub total_items: usize,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// A page of `GET /entities/by-query`.
#[derive(Debug)]
pub struct QueryPage<'a> {
    pub items: Vec<Cow<'a, str>>,
    pub total_items: usize,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    order_fields: Vec<OrderField>,
    /// The sort value and key of the row the page starts after (or before).
    order_field_values: Vec<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<EntityFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    full_text_filter: Option<FullTextFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<Value>,
    is_previous: bool,
    #[serde(default)]
    first_sort_field_values: Option<Vec<Option<String>>>,
    total_items: usize,
}

fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode_cursor<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, QueryError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()))
        .map_err(|_| QueryError::InvalidCursor("not base64".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| QueryError::InvalidCursor(e.to_string()))
}

#[derive(Serialize, Deserialize)]
struct AfterCursor {
    limit: usize,
    offset: usize,
}

/// One entity made ready for the index on a worker thread: its JSON and its search rows,
/// packed into one buffer (no allocation per row).
struct Prepared {
    key: String,
    uid: String,
    json: String,
    hash: String,
    text: String,
    /// (key start, key end, value start, value end); value start `u32::MAX` for no value.
    rows: Vec<(u32, u32, u32, u32)>,
}

fn prepare(entity: FinalEntity) -> Option<Prepared> {
    let mut text = String::new();
    let mut rows = Vec::new();
    let indexed = search::for_each_row(&entity.json, &mut |key, value| {
        let position = |text: &String| u32::try_from(text.len()).unwrap_or(u32::MAX);
        let key_start = position(&text);
        text.push_str(key);
        let key_end = position(&text);
        let (value_start, value_end) = match value {
            Some(v) => {
                let start = position(&text);
                text.push_str(v);
                (start, position(&text))
            }
            None => (u32::MAX, u32::MAX),
        };
        rows.push((key_start, key_end, value_start, value_end));
    });
    // Final JSON comes from stitching; if it is not JSON, the entity cannot be served.
    indexed.ok()?;
    Some(Prepared {
        json: entity.json,
        key: entity.key,
        uid: entity.uid,
        hash: entity.hash,
        text,
        rows,
    })
}

/// Builds a [`Catalog`] from batches of entities (in key order), doing the per-entity work
/// (finishing, serializing, flattening) on all cores and the interning on one.
pub struct CatalogBuilder {
    catalog: Catalog,
    workers: usize,
}

impl CatalogBuilder {
    pub fn new(workers: usize) -> Self {
        CatalogBuilder {
            catalog: Catalog::default(),
            workers: workers.max(1),
        }
    }

    /// Reserves room for about `entities` entities, so the arrays are allocated once rather
    /// than grown (and fragmented) by doubling.
    pub fn with_capacity(workers: usize, entities: usize) -> Self {
        let mut builder = CatalogBuilder::new(workers);
        builder.catalog.records.reserve_exact(entities);
        builder.catalog.index.reserve(entities);
        builder
    }

    /// Adds a batch: `finish` turns each item into a final entity (or skips it) on a worker.
    pub fn add_batch<T: Send>(
        &mut self,
        items: Vec<T>,
        finish: impl Fn(T) -> Option<FinalEntity> + Sync,
    ) {
        let prepared: Vec<Prepared> = if self.workers == 1 || items.len() < 64 {
            items
                .into_iter()
                .filter_map(&finish)
                .filter_map(prepare)
                .collect()
        } else {
            // A panic in `finish` or `prepare` reaches the caller: an index missing a chunk of
            // entities must never be served.
            pave_stdx::par_map(items, self.workers, |item| finish(item).and_then(prepare))
                .into_iter()
                .flatten()
                .collect()
        };
        for entity in prepared {
            self.push(entity);
        }
    }

    fn push(&mut self, entity: Prepared) {
        self.catalog.push(entity);
    }

    pub fn finish(mut self) -> Catalog {
        self.catalog.index.seal();
        self.catalog.records.shrink_to_fit();
        self.catalog.built_strings = self.catalog.index.string_bytes();
        self.catalog
    }
}

impl Catalog {
    /// Appends a prepared entity (entities come in key order).
    fn push(&mut self, entity: Prepared) {
        let catalog = self;
        let Ok(id) = u32::try_from(catalog.records.len()) else {
            return;
        };
        for (ks, ke, vs, ve) in &entity.rows {
            let key = entity
                .text
                .get(*ks as usize..*ke as usize)
                .unwrap_or_default();
            let value = (*vs != u32::MAX)
                .then(|| entity.text.get(*vs as usize..*ve as usize))
                .flatten();
            catalog.index.add(id, key, value);
        }
        catalog.index.finish_entity();
        let key: Box<str> = entity.key.into();
        let uid: Box<str> = entity.uid.into();
        catalog.records.push(Record {
            key,
            uid,
            json: entity.json.into(),
            hash: entity.hash.into(),
        });
    }
}

/// The read-only query index over a whole catalog.
#[derive(Default)]
pub struct Catalog {
    records: Vec<Record>,
    index: SearchIndex,
    /// Bytes of distinct strings when the index was last built whole: patched indexes keep
    /// the strings of entities that changed, so they are rebuilt once these double.
    built_strings: usize,
}

impl Catalog {
    /// Indexes stitched entities, which must come sorted by key.
    pub fn build(entities: impl IntoIterator<Item = FinalEntity>) -> Self {
        let mut builder = CatalogBuilder::new(1);
        builder.add_batch(entities.into_iter().collect(), Some);
        builder.finish()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// All records, sorted by key.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The entity with canonical key `key` (`kind:namespace/name`, any case).
    pub fn get(&self, key: &str) -> Option<&Record> {
        self.records.get(self.id_of(key)? as usize)
    }

    /// Records are sorted by key, so a lookup is a binary search.
    fn id_of(&self, key: &str) -> Option<u32> {
        let key = search::lower(key);
        let i = self.records.binary_search_by(|r| (*r.key).cmp(&key)).ok()?;
        u32::try_from(i).ok()
    }

    pub fn get_by_uid(&self, uid: &str) -> Option<&Record> {
        let id = self.index.entities("metadata.uid", Some(uid)).next()?;
        self.records.get(id as usize).filter(|r| &*r.uid == uid)
    }

    /// Number of entities with `key` = `value` (both compared without case).
    pub fn count(&self, key: &str, value: &str) -> usize {
        self.index
            .entities(&key.to_lowercase(), Some(value))
            .count()
    }

    fn matches(&self, filter: Option<&EntityFilter>) -> Bitset {
        let n = self.records.len();
        let Some(filter) = filter else {
            return Bitset::full(n);
        };
        let mut any = Bitset::empty(n);
        for all_of in &filter.any_of {
            let mut set = Bitset::full(n);
            for condition in all_of {
                set.and(&self.condition(condition));
            }
            any.or(&set);
        }
        any
    }

    /// Entities matching both `filter` and `query` (either may be absent).
    fn selection(&self, filter: Option<&EntityFilter>, query: Option<&Predicate>) -> Bitset {
        let mut set = self.matches(filter);
        if let Some(query) = query {
            set.and(&self.predicate(query));
        }
        set
    }

    fn predicate(&self, predicate: &Predicate) -> Bitset {
        let n = self.records.len();
        match predicate {
            Predicate::All(items) => {
                let mut set = Bitset::full(n);
                for item in items {
                    set.and(&self.predicate(item));
                }
                set
            }
            Predicate::Any(items) => {
                let mut set = Bitset::empty(n);
                for item in items {
                    set.or(&self.predicate(item));
                }
                set
            }
            Predicate::Not(inner) => self.predicate(inner).not(n),
            Predicate::Fields(fields) => {
                let mut set = Bitset::full(n);
                for (key, matcher) in fields {
                    set.and(&self.matcher(key, matcher));
                }
                set
            }
        }
    }

    fn matcher(&self, key: &str, matcher: &Matcher) -> Bitset {
        let n = self.records.len();
        let mut set = Bitset::empty(n);
        let mut add = |key: &str, value: Option<&str>| {
            self.index.entities(key, value).for_each(|e| set.insert(e));
        };
        match matcher {
            Matcher::Equals(value) | Matcher::Contains(value) => add(key, Some(value)),
            Matcher::Exists(true) => add(key, None),
            Matcher::Exists(false) => {
                add(key, None);
                return set.not(n);
            }
            Matcher::In(values) => values.iter().for_each(|v| add(key, Some(v))),
            Matcher::HasPrefix(prefix) => self.index.entities_where(
                key,
                |value| value.starts_with(prefix.as_str()),
                |e| set.insert(e),
            ),
            Matcher::Relation { key, targets: None } => add(key, None),
            Matcher::Relation {
                key,
                targets: Some(targets),
            } => targets.iter().for_each(|t| add(key, Some(t))),
        }
        set
    }

    fn condition(&self, condition: &Condition) -> Bitset {
        let mut set = Bitset::empty(self.records.len());
        match &condition.values {
            None => self
                .index
                .entities(&condition.key, None)
                .for_each(|e| set.insert(e)),
            Some(values) => {
                for value in values {
                    self.index
                        .entities(&condition.key, Some(value))
                        .for_each(|e| set.insert(e));
                }
            }
        }
        set
    }

    fn full_text(&self, text: &FullTextFilter, default_field: Option<&str>) -> Option<Bitset> {
        let term = text.term.trim().to_lowercase();
        if term.is_empty() {
            return None;
        }
        let fields: Vec<String> = if !text.fields.is_empty() {
            text.fields.iter().map(|f| f.to_lowercase()).collect()
        } else if let Some(field) = default_field {
            vec![field.to_lowercase()]
        } else {
            DEFAULT_TEXT_FIELDS
                .iter()
                .map(|f| f.to_lowercase())
                .collect()
        };
        let mut set = Bitset::empty(self.records.len());
        for field in fields {
            self.index.entities_where(
                &field,
                |value| value.contains(term.as_str()),
                |e| set.insert(e),
            );
        }
        Some(set)
    }

    /// Ids of the entities matching `filter`, in key order.
    pub fn filter_ids(&self, filter: Option<&EntityFilter>) -> Vec<u32> {
        self.matches(filter).iter().collect()
    }

    /// The record with index `id`.
    pub fn record(&self, id: u32) -> Option<&Record> {
        self.records.get(id as usize)
    }

    /// The JSON of entity `id`, restricted to `fields` when given.
    pub fn render<'a>(&'a self, id: u32, fields: Option<&FieldSelection>) -> Cow<'a, str> {
        let Some(record) = self.records.get(id as usize) else {
            return Cow::Borrowed("null");
        };
        match fields {
            None => Cow::Borrowed(&record.json),
            Some(fields) => Cow::Owned(fields.apply_json(&record.json)),
        }
    }

    /// Sorts ids by `order` (each field's smallest value, nulls last), then by key.
    fn sort_ids(&self, ids: &mut [u32], order: &[OrderField]) {
        if order.is_empty() {
            return; // Ids are already in key order.
        }
        let columns: Vec<(Option<u32>, Direction)> = order
            .iter()
            .map(|o| (self.index.key_id(&o.field), o.order))
            .collect();
        let last_direction = order.last().map_or(Direction::Asc, |o| o.order);
        let mut keyed: Vec<(Vec<Option<&str>>, u32)> = ids
            .iter()
            .map(|id| {
                let values = columns
                    .iter()
                    .map(|(key, _)| self.index.sort_value(*id, *key))
                    .collect();
                (values, *id)
            })
            .collect();
        keyed.sort_by(|(va, a), (vb, b)| {
            for ((x, y), (_, dir)) in va.iter().zip(vb).zip(&columns) {
                let ord = compare_values(*x, *y, *dir);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            let keys = self.records[*a as usize]
                .key
                .cmp(&self.records[*b as usize].key);
            if last_direction == Direction::Desc {
                keys.reverse()
            } else {
                keys
            }
        });
        for (slot, (_, id)) in ids.iter_mut().zip(keyed) {
            *slot = id;
        }
    }

    /// Answers `GET /entities`.
    pub fn entities(&self, request: &EntitiesRequest) -> Result<EntitiesPage, QueryError> {
        let (mut limit, mut offset) = (request.limit, request.offset);
        if let Some(after) = &request.after {
            if after.is_empty() {
                return Err(QueryError::InvalidPagination(
                    "after must not be empty".into(),
                ));
            }
            let cursor: AfterCursor = decode_cursor(after)?;
            limit = Some(cursor.limit);
            offset = Some(cursor.offset);
        }
        if limit == Some(0) {
            return Err(QueryError::InvalidPagination(
                "limit must be greater than zero".into(),
            ));
        }
        let mut ids = self.filter_ids(request.filter.as_ref());
        self.sort_ids(&mut ids, &request.order);
        let start = offset.unwrap_or(0).min(ids.len());
        let end = limit.map_or(ids.len(), |l| start.saturating_add(l).min(ids.len()));
        let next_after = match limit {
            Some(limit) if end < ids.len() => {
                Some(encode_cursor(&AfterCursor { limit, offset: end }))
            }
            _ => None,
        };
        ids.truncate(end);
        ids.drain(..start);
        Ok(EntitiesPage { ids, next_after })
    }

    /// Answers `GET /entities/by-query`.
    pub fn query(&self, request: &QueryRequest) -> Result<QueryPage<'_>, QueryError> {
        let page = self.query_ids(request)?;
        Ok(QueryPage {
            items: page
                .ids
                .iter()
                .map(|id| self.render(*id, request.fields.as_ref()))
                .collect(),
            total_items: page.total_items,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
        })
    }

    /// Answers `GET /entities/by-query` with the ids of the page's entities.
    pub fn query_ids(&self, request: &QueryRequest) -> Result<QueryIds, QueryError> {
        let limit = request.limit.unwrap_or(DEFAULT_QUERY_LIMIT);
        let (cursor, initial) = match &request.cursor {
            Some(text) => (decode_cursor::<Cursor>(text)?, false),
            None => (
                Cursor {
                    order_fields: request.order_field.iter().cloned().collect(),
                    order_field_values: Vec::new(),
                    filter: request.filter.clone(),
                    full_text_filter: request.full_text.clone(),
                    query: request.query.clone(),
                    is_previous: false,
                    first_sort_field_values: None,
                    total_items: 0,
                },
                true,
            ),
        };
        let sort = cursor.order_fields.first();
        let query = cursor.query.as_ref().map(Predicate::parse).transpose()?;
        let mut set = self.selection(cursor.filter.as_ref(), query.as_ref());
        if let Some(text) = &cursor.full_text_filter
            && let Some(matches) = self.full_text(text, sort.map(|s| s.field.as_str()))
        {
            set.and(&matches);
        }
        let mut ids: Vec<u32> = set.iter().collect();
        let total_items = if initial && request.exclude_total {
            0
        } else if initial {
            ids.len()
        } else {
            cursor.total_items
        };
        let sort_key = sort.and_then(|s| self.index.key_id(&s.field));
        let direction = sort.map_or(Direction::Asc, |s| s.order);
        let position = |id: u32| -> Vec<Option<String>> {
            let key = Some(self.records[id as usize].key.to_string());
            match sort {
                Some(_) => vec![self.index.sort_value(id, sort_key).map(str::to_owned), key],
                None => vec![key],
            }
        };
        let compare = |a: &[Option<String>], b: &[Option<String>]| -> Ordering {
            match (a, b) {
                ([va, ka], [vb, kb]) => compare_values(va.as_deref(), vb.as_deref(), direction)
                    .then_with(|| directed(ka.cmp(kb), direction)),
                ([ka], [kb]) => directed(ka.cmp(kb), direction),
                _ => Ordering::Equal,
            }
        };
        if let Some(sort) = sort {
            self.sort_ids(&mut ids, std::slice::from_ref(sort));
        }
        let (start, end) = if cursor.order_field_values.is_empty() {
            let start = if initial {
                request.offset.unwrap_or(0).min(ids.len())
            } else {
                0
            };
            (start, start.saturating_add(limit).min(ids.len()))
        } else if cursor.is_previous {
            let end = ids.partition_point(|id| {
                compare(&position(*id), &cursor.order_field_values) == Ordering::Less
            });
            (end.saturating_sub(limit), end)
        } else {
            let start = ids.partition_point(|id| {
                compare(&position(*id), &cursor.order_field_values) != Ordering::Greater
            });
            (start, start.saturating_add(limit).min(ids.len()))
        };
        let page = &ids[start..end];
        let has_more = limit > 0 && (cursor.is_previous || end < ids.len());
        let first_values = cursor
            .first_sort_field_values
            .clone()
            .or_else(|| page.first().map(|id| position(*id)));
        let next_cursor = match page.last() {
            Some(last) if has_more => Some(encode_cursor(&Cursor {
                order_field_values: position(*last),
                first_sort_field_values: first_values.clone(),
                is_previous: false,
                total_items,
                ..cursor.clone()
            })),
            _ => None,
        };
        let prev_cursor = match page.first() {
            Some(first) if !initial && first_values.as_ref() != Some(&position(*first)) => {
                Some(encode_cursor(&Cursor {
                    order_field_values: position(*first),
                    first_sort_field_values: first_values.clone(),
                    is_previous: true,
                    total_items,
                    ..cursor.clone()
                }))
            }
            _ => None,
        };
        Ok(QueryIds {
            ids: page.to_vec(),
            total_items,
            next_cursor,
            prev_cursor,
        })
    }

    /// Answers `POST /entities/by-refs`: one item per ref, in order, `None` when missing or
    /// filtered out.
    pub fn by_refs<'a>(
        &'a self,
        refs: &[String],
        filter: Option<&EntityFilter>,
        query: Option<&Predicate>,
        fields: Option<&FieldSelection>,
    ) -> Vec<Option<Cow<'a, str>>> {
        self.by_refs_ids(refs, filter, query)
            .into_iter()
            .map(|id| Some(self.render(id?, fields)))
            .collect()
    }

    /// [`Catalog::by_refs`] as entity ids, to render one at a time.
    pub fn by_refs_ids(
        &self,
        refs: &[String],
        filter: Option<&EntityFilter>,
        query: Option<&Predicate>,
    ) -> Vec<Option<u32>> {
        let allowed = (filter.is_some() || query.is_some()).then(|| self.selection(filter, query));
        refs.iter()
            .map(|r| {
                let id = self.id_of(r)?;
                if allowed.as_ref().is_some_and(|a| !a.contains(id)) {
                    return None;
                }
                Some(id)
            })
            .collect()
    }

    /// Answers `GET /entity-facets`: per facet, each distinct value (case kept) with the number
    /// of matching entities that have it, sorted by value.
    pub fn facets(
        &self,
        filter: Option<&EntityFilter>,
        query: Option<&Predicate>,
        facets: &[String],
    ) -> Vec<(String, Vec<(String, usize)>)> {
        let allowed = self.selection(filter, query);
        facets
            .iter()
            .map(|facet| {
                let values = self
                    .index
                    .facet(&facet.to_lowercase(), |e| allowed.contains(e));
                (facet.clone(), values)
            })
            .collect()
    }
}

fn directed(ord: Ordering, direction: Direction) -> Ordering {
    match direction {
        Direction::Asc => ord,
        Direction::Desc => ord.reverse(),
    }
}

/// Compares sort values: present values in `direction`, missing values always last.
fn compare_values(a: Option<&str>, b: Option<&str>, direction: Direction) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => directed(x.cmp(y), direction),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests;

impl Catalog {
    /// Sizes of the index, for diagnostics: (search rows, distinct strings, string bytes,
    /// entity JSON bytes).
    pub fn stats(&self) -> (usize, usize, usize, usize) {
        let (rows, strings, bytes) = self.index.stats();
        let json = self.records.iter().map(|r| r.json.len()).sum();
        (rows, strings, bytes, json)
    }
}
