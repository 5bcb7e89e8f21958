//! The search index: every (key, value) row of every entity, interned and kept in two sorted
//! arrays, so that a large catalog costs a few bytes per row instead of a hash map per value.
//!
//! - `by_entity` lists rows entity by entity (the order they were added): ordering reads it.
//! - `by_key` orders the same rows by (key, lower-cased value, entity): filters, existence
//!   checks, facets and full-text search are binary searches and range scans over it.

use std::borrow::Cow;
use std::hash::Hasher;
use std::ops::Range;

use super::search::lower;
use crate::json::{FastMap, FxHasher};

fn hash(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

const NONE: u32 = u32::MAX;

/// Typical search rows of one entity (a component with owner, system and a few relations).
const ROWS_PER_ENTITY: usize = 28;

/// Distinct strings stored once in one buffer, with ids.
#[derive(Default, Clone)]
pub(crate) struct Interner {
    text: String,
    spans: Vec<(u32, u32)>,
    /// Hash → first id with that hash; `chain` links ids that share a hash.
    first: FastMap<u64, u32>,
    chain: Vec<u32>,
}

impl Interner {
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        let mut id = *self.first.get(&hash(s))?;
        while id != NONE {
            if self.resolve(id) == s {
                return Some(id);
            }
            id = self.chain.get(id as usize).copied().unwrap_or(NONE);
        }
        None
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        let h = hash(s);
        let mut id = self.first.get(&h).copied().unwrap_or(NONE);
        while id != NONE {
            if self.resolve(id) == s {
                return id;
            }
            id = self.chain.get(id as usize).copied().unwrap_or(NONE);
        }
        let new = u32::try_from(self.spans.len()).unwrap_or(NONE - 1);
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(s);
        self.spans
            .push((start, u32::try_from(s.len()).unwrap_or(0)));
        let previous = self.first.insert(h, new).unwrap_or(NONE);
        self.chain.push(previous);
        new
    }

    pub(crate) fn resolve(&self, id: u32) -> &str {
        self.spans
            .get(id as usize)
            .and_then(|(start, len)| self.text.get(*start as usize..(*start + *len) as usize))
            .unwrap_or("")
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.chain.shrink_to_fit();
        self.first.shrink_to_fit();
    }
}

/// One search row. `original` is the value as written (for facets), `lower` its lower-cased
/// form (for matching and ordering); both `NONE` for null or over-long values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    entity: u32,
    key: u32,
    lower: u32,
    original: u32,
}

/// Rows of all entities, interned and sorted two ways.
#[derive(Default)]
pub(crate) struct SearchIndex {
    strings: Interner,
    by_entity: Vec<Row>,
    by_key: Vec<u32>,
    pending: Vec<Row>,
    /// The keys of the previous entity, by position: entities of one kind list the same keys
    /// in the same order, so most keys are found here without hashing.
    recent_keys: Vec<(String, u32)>,
    /// Likewise the previous entity's values by position (kind, lifecycle, owner… repeat).
    recent_values: Vec<(String, u32, u32)>,
    seen: Vec<(u32, u32)>,
}

impl SearchIndex {
    /// Reserves room for the rows of about `entities` entities.
    pub(crate) fn reserve(&mut self, entities: usize) {
        self.by_entity
            .reserve_exact(entities.saturating_mul(ROWS_PER_ENTITY));
    }

    /// Adds one row of `entity`; entities must be added in increasing order.
    pub(crate) fn add(&mut self, entity: u32, key: &str, value: Option<&str>) {
        let position = self.pending.len();
        let key = match self.recent_keys.get(position) {
            Some((recent, id)) if recent == key => *id,
            _ => {
                let id = self.strings.intern(key);
                if position < self.recent_keys.len() {
                    self.recent_keys[position] = (key.to_owned(), id);
                } else {
                    self.recent_keys.push((key.to_owned(), id));
                }
                id
            }
        };
        let (lower_id, original) = match value {
            None => (NONE, NONE),
            Some(v) => match self.recent_values.get(position) {
                Some((recent, original, lower_id)) if recent == v => (*lower_id, *original),
                _ => {
                    let original = self.strings.intern(v);
                    let lower_id = match lower(v) {
                        Cow::Borrowed(_) => original,
                        Cow::Owned(l) => self.strings.intern(&l),
                    };
                    let entry = (v.to_owned(), original, lower_id);
                    if position < self.recent_values.len() {
                        self.recent_values[position] = entry;
                    } else {
                        self.recent_values.push(entry);
                    }
                    (lower_id, original)
                }
            },
        };
        self.pending.push(Row {
            entity,
            key,
            lower: lower_id,
            original,
        });
    }

    /// Ends an entity: keeps the first row of each (key, lower-cased value), as Backstage does.
    pub(crate) fn finish_entity(&mut self) {
        self.seen.clear();
        for row in self.pending.drain(..) {
            if !self.seen.contains(&(row.key, row.lower)) {
                self.seen.push((row.key, row.lower));
                self.by_entity.push(row);
            }
        }
    }

    /// Sorts the key-ordered view; call once after the last entity.
    pub(crate) fn seal(&mut self) {
        // Rows are stored entity by entity, so sorting (key, value, row position) sorts by
        // (key, value, entity); packed into plain integers, the sort stays in cache.
        let mut order: Vec<(u64, u32)> = self
            .by_entity
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let packed = (u64::from(r.key) << 32) | u64::from(r.lower);
                (packed, u32::try_from(i).unwrap_or(u32::MAX))
            })
            .collect();
        order.sort_unstable();
        self.by_key = order.into_iter().map(|(_, i)| i).collect();
        self.recent_keys = Vec::new();
        self.recent_values = Vec::new();
        self.by_entity.shrink_to_fit();
        self.strings.shrink();
    }

    /// An empty index that shares this one's strings (ids stay valid), for an index made
    /// of this one's rows with a few entities changed.
    pub(crate) fn derive(&self) -> SearchIndex {
        SearchIndex {
            strings: self.strings.clone(),
            by_entity: Vec::with_capacity(self.by_entity.len() + 64 * ROWS_PER_ENTITY),
            ..SearchIndex::default()
        }
    }

    /// Adds the rows `entity` has in `from` (an index this one was derived from) as the rows
    /// of `as_entity`; entities must be added in increasing order.
    pub(crate) fn copy_rows(&mut self, from: &SearchIndex, entity: u32, as_entity: u32) {
        let start = from.by_entity.partition_point(|r| r.entity < entity);
        let rows = from.by_entity[start..]
            .iter()
            .take_while(|r| r.entity == entity)
            .map(|r| Row {
                entity: as_entity,
                ..*r
            });
        self.by_entity.extend(rows);
    }

    /// Bytes of distinct strings held (they are never dropped from a derived index).
    pub(crate) fn string_bytes(&self) -> usize {
        self.strings.text.len()
    }

    fn row(&self, i: u32) -> Row {
        self.by_entity[i as usize]
    }

    /// Rows (as `by_key` positions) with `key`, optionally only those whose lower-cased value
    /// is `lower`.
    fn range(&self, key: u32, lower: Option<u32>) -> Range<usize> {
        let lo = (key, lower.unwrap_or(0));
        let start = self.by_key.partition_point(|i| {
            let r = self.row(*i);
            (r.key, r.lower) < lo
        });
        let end = self.by_key.partition_point(|i| {
            let r = self.row(*i);
            match lower {
                Some(l) => (r.key, r.lower) <= (key, l),
                None => r.key <= key,
            }
        });
        start..end.max(start)
    }

    /// Entities whose `key` (lower-cased) has a value equal to `value` (any case); all
    /// entities with the key when `value` is `None`.
    pub(crate) fn entities(
        &self,
        key: &str,
        value: Option<&str>,
    ) -> impl Iterator<Item = u32> + '_ {
        let key_id = self.strings.get(key);
        let range = match (key_id, value) {
            (None, _) => 0..0,
            (Some(k), None) => self.range(k, None),
            (Some(k), Some(v)) => match self.strings.get(&lower(v)) {
                Some(l) => self.range(k, Some(l)),
                None => 0..0,
            },
        };
        self.by_key[range].iter().map(|i| self.row(*i).entity)
    }

    /// Calls `add` with every entity that has a lower-cased value of `key` for which `keep`
    /// holds; `keep` is asked once per distinct value. Allocates nothing: prefix and
    /// full-text matching scan every value of a key, once per matcher.
    pub(crate) fn entities_where(
        &self,
        key: &str,
        mut keep: impl FnMut(&str) -> bool,
        mut add: impl FnMut(u32),
    ) {
        let Some(k) = self.strings.get(key) else {
            return;
        };
        let (mut current, mut wanted) = (NONE, false);
        for i in &self.by_key[self.range(k, None)] {
            let r = self.row(*i);
            if r.lower == NONE {
                continue;
            }
            if r.lower != current {
                current = r.lower;
                wanted = keep(self.strings.resolve(r.lower));
            }
            if wanted {
                add(r.entity);
            }
        }
    }

    /// Distinct lower-cased values of `key`, each with the entities that have it.
    #[cfg(test)]
    pub(crate) fn values(&self, key: &str) -> Vec<(&str, Vec<u32>)> {
        let Some(k) = self.strings.get(key) else {
            return Vec::new();
        };
        let mut out: Vec<(&str, Vec<u32>)> = Vec::new();
        let mut current = NONE;
        for i in &self.by_key[self.range(k, None)] {
            let r = self.row(*i);
            if r.lower == NONE {
                continue;
            }
            if r.lower != current || out.is_empty() {
                current = r.lower;
                out.push((self.strings.resolve(r.lower), Vec::new()));
            }
            if let Some((_, entities)) = out.last_mut() {
                entities.push(r.entity);
            }
        }
        out
    }

    /// Original spellings of `key` with how many of the entities `allowed` has each.
    pub(crate) fn facet(&self, key: &str, allowed: impl Fn(u32) -> bool) -> Vec<(String, usize)> {
        let Some(k) = self.strings.get(key) else {
            return Vec::new();
        };
        let mut counts: FastMap<u32, usize> = FastMap::default();
        for i in &self.by_key[self.range(k, None)] {
            let r = self.row(*i);
            if r.original != NONE && allowed(r.entity) {
                *counts.entry(r.original).or_default() += 1;
            }
        }
        let mut values: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(id, n)| (self.strings.resolve(id).to_owned(), n))
            .collect();
        values.sort();
        values
    }

    /// The smallest lower-cased value `entity` has under `key`.
    pub(crate) fn sort_value(&self, entity: u32, key: Option<u32>) -> Option<&str> {
        let key = key?;
        let start = self.by_entity.partition_point(|r| r.entity < entity);
        self.by_entity[start..]
            .iter()
            .take_while(|r| r.entity == entity)
            .filter(|r| r.key == key && r.lower != NONE)
            .map(|r| self.strings.resolve(r.lower))
            .min()
    }

    /// The id of a (lower-cased) key, to look up many sort values.
    pub(crate) fn key_id(&self, key: &str) -> Option<u32> {
        self.strings.get(&lower(key))
    }

    /// (rows, distinct strings, string bytes)
    pub(crate) fn stats(&self) -> (usize, usize, usize) {
        (
            self.by_entity.len(),
            self.strings.spans.len(),
            self.strings.text.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_dedups_and_survives_collisions() {
        let mut i = Interner::default();
        let a = i.intern("alpha");
        let b = i.intern("beta");
        assert_eq!(i.intern("alpha"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "beta");
        assert_eq!(i.get("gamma"), None);
        // Force a shared hash bucket by chaining manually.
        let many: Vec<u32> = (0..10_000).map(|n| i.intern(&n.to_string())).collect();
        for (n, id) in many.iter().enumerate() {
            assert_eq!(i.get(&n.to_string()), Some(*id));
        }
    }

    #[test]
    fn rows_are_found_by_key_and_value_and_deduplicated() {
        let mut idx = SearchIndex::default();
        idx.add(0, "kind", Some("Component"));
        idx.add(0, "metadata.tags", Some("Java"));
        idx.add(0, "metadata.tags", Some("java"));
        idx.finish_entity();
        idx.add(1, "kind", Some("component"));
        idx.add(1, "spec.owner", None);
        idx.finish_entity();
        idx.seal();
        assert_eq!(
            idx.entities("kind", Some("COMPONENT")).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(
            idx.entities("spec.owner", None).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(idx.entities("nope", None).count(), 0);
        assert_eq!(
            idx.facet("metadata.tags", |_| true),
            vec![("Java".to_owned(), 1)]
        );
        assert_eq!(
            idx.facet("kind", |_| true),
            vec![("Component".to_owned(), 1), ("component".to_owned(), 1)]
        );
        assert_eq!(idx.sort_value(1, idx.key_id("KIND")), Some("component"));
        assert_eq!(idx.values("kind"), vec![("component", vec![0, 1])]);
        let mut found = Vec::new();
        idx.entities_where("kind", |v| v.starts_with("comp"), |e| found.push(e));
        assert_eq!(found, vec![0, 1]);
        found.clear();
        idx.entities_where("metadata.tags", |v| v == "nope", |e| found.push(e));
        assert!(found.is_empty());
    }
}
