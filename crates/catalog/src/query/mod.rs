//! An in-memory, read-only index over stitched entities that answers the catalog API's
//! queries: filters, field selection, ordering, pagination, full-text search and facets.
//!
//! Entities are kept as serialized JSON (what the API returns), plus an inverted index of their
//! search rows, so listing is a memory copy and filtering is set arithmetic on posting lists.

pub mod fields;
pub mod filter;
mod search;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use fields::FieldSelection;
pub use filter::{Condition, EntityFilter};

use crate::stitch::FinalEntity;

/// A malformed query parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("invalid filter, {0}")]
    InvalidFilter(String),
    #[error("invalid fields, {0}")]
    InvalidFields(String),
    #[error("invalid order, {0}")]
    InvalidOrder(String),
    #[error("invalid pagination, {0}")]
    InvalidPagination(String),
    #[error("malformed cursor, {0}")]
    InvalidCursor(String),
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
}

impl Record {
    /// Parses the stored JSON (which the index wrote itself).
    pub fn entity(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

const NO_VALUE: u32 = u32::MAX;

/// FxHash (rustc's hasher): the index hashes millions of short strings while building, and
/// needs no protection from adversarial keys (they come from our own catalog).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// Entity ids of one value, without a heap allocation for the common single entity.
#[derive(Debug)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn last(&self) -> u32 {
        match self {
            Ids::One(id) => *id,
            Ids::Many(ids) => ids.last().copied().unwrap_or(NO_VALUE),
        }
    }

    fn push(&mut self, id: u32) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(ids) => ids.push(id),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

/// One distinct lower-cased value of a key: the entities that have it and the spellings
/// (original case) seen.
struct Posting {
    entities: Ids,
    originals: Ids,
}

/// The posting lists of one search key.
#[derive(Default)]
struct Column {
    /// Lower-cased value → posting.
    index: FastMap<Box<str>, u32>,
    postings: Vec<Posting>,
    /// Distinct original spellings, each with its posting.
    originals: Vec<(Box<str>, u32)>,
    /// (entity, original id or NO_VALUE), ascending by entity.
    rows: Vec<(u32, u32)>,
}

impl Column {
    fn add(&mut self, entity: u32, original: Option<&str>) {
        let Some(original) = original else {
            if self.rows.last() != Some(&(entity, NO_VALUE)) {
                self.rows.push((entity, NO_VALUE));
            }
            return;
        };
        let lower = search::lower(original);
        let posting = match self.index.get(lower.as_ref()) {
            Some(p) => *p,
            None => {
                let p = u32::try_from(self.postings.len()).unwrap_or(NO_VALUE - 1);
                self.index.insert(lower.into(), p);
                self.postings.push(Posting {
                    entities: Ids::Many(Vec::new()),
                    originals: Ids::Many(Vec::new()),
                });
                p
            }
        };
        let Some(entry) = self.postings.get_mut(posting as usize) else {
            return;
        };
        // Backstage keeps one row per (key, lower-cased value) and entity.
        if entry.entities.last() == entity {
            return;
        }
        let known = entry.originals.as_slice().iter().copied().find(|o| {
            self.originals
                .get(*o as usize)
                .is_some_and(|(text, _)| &**text == original)
        });
        let original_id = match known {
            Some(o) => o,
            None => {
                let o = u32::try_from(self.originals.len()).unwrap_or(NO_VALUE - 1);
                self.originals.push((original.into(), posting));
                entry.originals.push(o);
                o
            }
        };
        if matches!(&entry.entities, Ids::Many(ids) if ids.is_empty()) {
            entry.entities = Ids::One(entity);
        } else {
            entry.entities.push(entity);
        }
        self.rows.push((entity, original_id));
    }

    fn entities_with(&self, lower: &str) -> &[u32] {
        self.index
            .get(lower)
            .and_then(|p| self.postings.get(*p as usize))
            .map_or(&[], |p| p.entities.as_slice())
    }

    /// The smallest lower-cased value `entity` has under this key.
    fn sort_value(&self, entity: u32) -> Option<Cow<'_, str>> {
        let start = self.rows.partition_point(|(e, _)| *e < entity);
        self.rows[start..]
            .iter()
            .take_while(|(e, _)| *e == entity)
            .filter_map(|(_, id)| self.originals.get(*id as usize))
            .map(|(text, _)| search::lower(text))
            .min()
    }

    fn shrink(&mut self) {
        self.rows.shrink_to_fit();
        self.originals.shrink_to_fit();
        self.postings.shrink_to_fit();
        for p in &mut self.postings {
            if let Ids::Many(ids) = &mut p.entities {
                ids.shrink_to_fit();
            }
            if let Ids::Many(ids) = &mut p.originals
                && ids.len() == 1
            {
                p.originals = Ids::One(ids[0]);
            }
        }
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

/// A page of `GET /entities`.
#[derive(Debug)]
pub struct EntitiesPage<'a> {
    pub items: Vec<Cow<'a, str>>,
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
    /// When set, replaces filter, order and full text.
    pub cursor: Option<String>,
}

/// Items per page of `by-query` when the request names no limit.
pub const DEFAULT_QUERY_LIMIT: usize = 200;

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

/// The read-only query index over a whole catalog.
#[derive(Default)]
pub struct Catalog {
    records: Vec<Record>,
    by_key: FastMap<Box<str>, u32>,
    by_uid: FastMap<Box<str>, u32>,
    columns: FastMap<Box<str>, Column>,
}

impl Catalog {
    /// Indexes stitched entities, which must come sorted by key. Each is indexed and
    /// serialized as it arrives, so only one is held as a `Value` at a time.
    pub fn build(entities: impl IntoIterator<Item = FinalEntity>) -> Self {
        let mut catalog = Catalog::default();
        for (i, entity) in entities.into_iter().enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let columns = &mut catalog.columns;
            search::for_each_row(
                &entity.entity,
                &mut |key, value| match columns.get_mut(key) {
                    Some(column) => column.add(id, value),
                    None => {
                        let mut column = Column::default();
                        column.add(id, value);
                        columns.insert(key.into(), column);
                    }
                },
            );
            let key: Box<str> = entity.key.into();
            let uid: Box<str> = entity.uid.into();
            catalog.by_key.insert(key.clone(), id);
            catalog.by_uid.insert(uid.clone(), id);
            catalog.records.push(Record {
                key,
                uid,
                json: entity.entity.to_string().into(),
            });
        }
        for column in catalog.columns.values_mut() {
            column.shrink();
        }
        catalog.records.shrink_to_fit();
        catalog
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
        let id = self
            .by_key
            .get(key)
            .or_else(|| self.by_key.get(key.to_lowercase().as_str()))?;
        self.records.get(*id as usize)
    }

    pub fn get_by_uid(&self, uid: &str) -> Option<&Record> {
        self.records.get(*self.by_uid.get(uid)? as usize)
    }

    /// Number of entities with `key` = `value` (both compared without case).
    pub fn count(&self, key: &str, value: &str) -> usize {
        self.columns
            .get(key.to_lowercase().as_str())
            .map_or(0, |c| c.entities_with(&value.to_lowercase()).len())
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

    fn condition(&self, condition: &Condition) -> Bitset {
        let mut set = Bitset::empty(self.records.len());
        let Some(column) = self.columns.get(condition.key.as_str()) else {
            return set;
        };
        match &condition.values {
            None => column.rows.iter().for_each(|(e, _)| set.insert(*e)),
            Some(values) => {
                for value in values {
                    column
                        .entities_with(value)
                        .iter()
                        .for_each(|e| set.insert(*e));
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
            if let Some(column) = self.columns.get(field.as_str()) {
                for (value, posting) in &column.index {
                    if value.contains(term.as_str())
                        && let Some(p) = column.postings.get(*posting as usize)
                    {
                        p.entities.as_slice().iter().for_each(|e| set.insert(*e));
                    }
                }
            }
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

    fn render<'a>(&'a self, id: u32, fields: Option<&FieldSelection>) -> Cow<'a, str> {
        let record = &self.records[id as usize];
        match fields {
            None => Cow::Borrowed(&record.json),
            Some(fields) => Cow::Owned(fields.apply(&record.entity()).to_string()),
        }
    }

    /// Sorts ids by `order` (each field's smallest value, nulls last), then by key.
    fn sort_ids(&self, ids: &mut [u32], order: &[OrderField]) {
        if order.is_empty() {
            return; // Ids are already in key order.
        }
        let columns: Vec<(Option<&Column>, Direction)> = order
            .iter()
            .map(|o| (self.columns.get(o.field.to_lowercase().as_str()), o.order))
            .collect();
        let last_direction = order.last().map_or(Direction::Asc, |o| o.order);
        let mut keyed: Vec<(Vec<Option<Cow<'_, str>>>, u32)> = ids
            .iter()
            .map(|id| {
                let values = columns
                    .iter()
                    .map(|(c, _)| c.and_then(|c| c.sort_value(*id)))
                    .collect();
                (values, *id)
            })
            .collect();
        keyed.sort_by(|(va, a), (vb, b)| {
            for ((x, y), (_, dir)) in va.iter().zip(vb).zip(&columns) {
                let ord = compare_values(x.as_deref(), y.as_deref(), *dir);
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
    pub fn entities(&self, request: &EntitiesRequest) -> Result<EntitiesPage<'_>, QueryError> {
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
        let items = ids[start..end]
            .iter()
            .map(|id| self.render(*id, request.fields.as_ref()))
            .collect();
        let next_after = match limit {
            Some(limit) if end < ids.len() => {
                Some(encode_cursor(&AfterCursor { limit, offset: end }))
            }
            _ => None,
        };
        Ok(EntitiesPage { items, next_after })
    }

    /// Answers `GET /entities/by-query`.
    pub fn query(&self, request: &QueryRequest) -> Result<QueryPage<'_>, QueryError> {
        let limit = request.limit.unwrap_or(DEFAULT_QUERY_LIMIT);
        let (cursor, initial) = match &request.cursor {
            Some(text) => (decode_cursor::<Cursor>(text)?, false),
            None => (
                Cursor {
                    order_fields: request.order_field.iter().cloned().collect(),
                    order_field_values: Vec::new(),
                    filter: request.filter.clone(),
                    full_text_filter: request.full_text.clone(),
                    is_previous: false,
                    first_sort_field_values: None,
                    total_items: 0,
                },
                true,
            ),
        };
        let sort = cursor.order_fields.first();
        let mut set = self.matches(cursor.filter.as_ref());
        if let Some(text) = &cursor.full_text_filter
            && let Some(matches) = self.full_text(text, sort.map(|s| s.field.as_str()))
        {
            set.and(&matches);
        }
        let mut ids: Vec<u32> = set.iter().collect();
        let total_items = if initial {
            ids.len()
        } else {
            cursor.total_items
        };
        let column = sort.and_then(|s| self.columns.get(s.field.to_lowercase().as_str()));
        let direction = sort.map_or(Direction::Asc, |s| s.order);
        let position = |id: u32| -> Vec<Option<String>> {
            let key = Some(self.records[id as usize].key.to_string());
            match sort {
                Some(_) => vec![
                    column.and_then(|c| c.sort_value(id)).map(Cow::into_owned),
                    key,
                ],
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
        Ok(QueryPage {
            items: page
                .iter()
                .map(|id| self.render(*id, request.fields.as_ref()))
                .collect(),
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
        fields: Option<&FieldSelection>,
    ) -> Vec<Option<Cow<'a, str>>> {
        let allowed = filter.map(|f| self.matches(Some(f)));
        refs.iter()
            .map(|r| {
                let id = *self
                    .by_key
                    .get(r.as_str())
                    .or_else(|| self.by_key.get(r.to_lowercase().as_str()))?;
                if allowed.as_ref().is_some_and(|a| !a.contains(id)) {
                    return None;
                }
                Some(self.render(id, fields))
            })
            .collect()
    }

    /// Answers `GET /entity-facets`: per facet, each distinct value (case kept) with the number
    /// of matching entities that have it, sorted by value.
    pub fn facets(
        &self,
        filter: Option<&EntityFilter>,
        facets: &[String],
    ) -> Vec<(String, Vec<(String, usize)>)> {
        let allowed = self.matches(filter);
        facets
            .iter()
            .map(|facet| {
                let mut counts: FastMap<u32, usize> = FastMap::default();
                if let Some(column) = self.columns.get(facet.to_lowercase().as_str()) {
                    for (entity, value) in &column.rows {
                        if *value != NO_VALUE && allowed.contains(*entity) {
                            *counts.entry(*value).or_default() += 1;
                        }
                    }
                    let mut values: Vec<(String, usize)> = counts
                        .into_iter()
                        .filter_map(|(id, n)| {
                            column
                                .originals
                                .get(id as usize)
                                .map(|(v, _)| (v.to_string(), n))
                        })
                        .collect();
                    values.sort();
                    (facet.clone(), values)
                } else {
                    (facet.clone(), Vec::new())
                }
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
