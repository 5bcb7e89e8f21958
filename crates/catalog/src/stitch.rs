//! Stitching: turning processed entities plus every emitted relation into the final
//! entities the API serves.
//!
//! An entity's `relations` are the distinct relations whose source is that entity, whoever
//! emitted them, sorted by type then target. So `ownedBy` to a missing group is kept (the
//! owner emitted it), while the reverse `ownerOf` appears only if the group exists.
//!
//! Stitching works on JSON text: the processed body's members are copied as they are, with
//! `metadata.uid`, `metadata.etag` and `relations` written in. No `Value` tree is built, which
//! matters when a catalog is rebuilt with tens of thousands of entities.

use std::hash::{Hash, Hasher};

use serde_json::Value;

use crate::json::{FastMap, FxHasher, RawObject, Str, push_str_literal};
use crate::relations::{Relation, RelationType};

/// A processed entity, ready to be stitched (the `Value` form, convenient in tests).
#[derive(Debug, Clone)]
pub struct SourceEntity {
    /// Canonical key, `kind:namespace/name` lower-cased.
    pub key: String,
    pub uid: String,
    pub entity: Value,
    /// The relations this entity emitted (both directions).
    pub relations: Vec<Relation>,
}

/// A stitched entity: the JSON the API returns, with uid, etag and relations.
#[derive(Debug, Clone)]
pub struct FinalEntity {
    pub key: String,
    pub uid: String,
    pub json: String,
    /// The stored body's content hash (part of the etag), so the entity can be finished
    /// again from `json` when only its relations change.
    pub hash: String,
}

impl FinalEntity {
    /// The entity as a `Value` (it is JSON that stitching wrote).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

/// Stitches every entity. The output is sorted by key.
pub fn stitch(mut sources: Vec<SourceEntity>) -> Vec<FinalEntity> {
    sources.sort_by(|a, b| a.key.cmp(&b.key));
    let mut stitcher = Stitcher::default();
    for s in &sources {
        stitcher.add_entity(&s.key);
    }
    for s in &sources {
        for r in &s.relations {
            stitcher.add_relation(&r.source, r.relation, &r.target);
        }
    }
    stitcher.seal();
    sources
        .into_iter()
        .filter_map(|s| {
            let body = s.entity.to_string();
            stitcher.finish(&s.key, &s.uid, &body, &body).ok()
        })
        .collect()
}

/// The outgoing relations of every entity, collected from what all entities emitted, so that
/// entities can then be finished one at a time (and in parallel).
///
/// Each relation remembers which entity's stored relations it came from, so that one
/// entity's relations can be replaced or removed later ([`Stitcher::replace_stored_relations`],
/// [`Stitcher::remove_entity`]) and the entities they touch finished again: the index is
/// then updated for a small change instead of rebuilt.
#[derive(Default)]
pub struct Stitcher {
    /// Every entity ref seen (entities and relation ends), interned.
    ids: FastMap<String, u32>,
    refs: Vec<String>,
    exists: Vec<bool>,
    /// Per ref: (type, target, the ref whose stored relations said so), sorted by type and
    /// target once sealed.
    outgoing: Vec<Vec<(RelationType, u32, u32)>>,
    /// Per ref: the refs whose `outgoing` its stored relations added to.
    touched: Vec<Vec<u32>>,
}

impl Stitcher {
    fn intern(&mut self, key: &str) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = u32::try_from(self.refs.len()).unwrap_or(u32::MAX);
        self.ids.insert(key.to_owned(), id);
        self.refs.push(key.to_owned());
        self.exists.push(false);
        self.outgoing.push(Vec::new());
        self.touched.push(Vec::new());
        id
    }

    /// Declares an existing entity (only existing entities get relations).
    pub fn add_entity(&mut self, key: &str) {
        let id = self.intern(key);
        self.exists[id as usize] = true;
    }

    /// Records one emitted relation; call after every `add_entity`.
    pub fn add_relation(&mut self, source: &str, relation: RelationType, target: &str) {
        let Some(source) = self.ids.get(source).copied() else {
            return; // The source does not exist: nobody shows this relation.
        };
        if !self.exists[source as usize] {
            return;
        }
        let target = self.intern(target);
        self.outgoing[source as usize].push((relation, target, source));
    }

    /// Records the relations stored for entity `key` (see [`relations_to_text`]): each
    /// `[type, target]` and its reverse. A reverse relation is kept even while its source
    /// does not exist: it shows once that entity appears.
    pub fn add_stored_relations(&mut self, key: &str, text: &str) {
        let origin = self.intern(key);
        // pave wrote this text; if it is damaged, the entity simply shows no relations.
        if let Ok(relations) = serde_json::from_str::<Vec<(Str<'_>, Str<'_>)>>(text) {
            for (relation, target) in relations {
                if let Some(relation) = RelationType::parse(&relation.0) {
                    let target = self.intern(&target.0);
                    self.outgoing[origin as usize].push((relation, target, origin));
                    self.outgoing[target as usize].push((relation.reverse(), origin, origin));
                    self.touched[origin as usize].push(target);
                }
            }
        }
    }

    /// Sorts each entity's relations; call once, before `finish`.
    pub fn seal(&mut self) {
        for id in 0..self.outgoing.len() {
            self.sort(id);
        }
    }

    fn sort(&mut self, id: usize) {
        let refs = &self.refs;
        if let Some(list) = self.outgoing.get_mut(id) {
            list.sort_by(|a, b| {
                (a.0.as_str(), &refs[a.1 as usize], a.2).cmp(&(
                    b.0.as_str(),
                    &refs[b.1 as usize],
                    b.2,
                ))
            });
            list.dedup();
        }
    }

    /// The refs whose relations change when `key`'s stored relations do: `key` and every
    /// target its current stored relations name.
    pub fn related(&self, key: &str) -> Vec<String> {
        let Some(id) = self.ids.get(key).copied() else {
            return vec![key.to_owned()];
        };
        let mut out = vec![key.to_owned()];
        out.extend(
            self.touched[id as usize]
                .iter()
                .map(|t| self.refs[*t as usize].clone()),
        );
        out
    }

    /// Drops what `key`'s stored relations added, so that they can be replaced.
    fn take_stored_relations(&mut self, key: &str) -> Option<u32> {
        let origin = self.ids.get(key).copied()?;
        let mut touched = std::mem::take(&mut self.touched[origin as usize]);
        touched.push(origin);
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            self.outgoing[id as usize].retain(|(_, _, from)| *from != origin);
        }
        Some(origin)
    }

    /// Replaces the stored relations of `key` (an entity that exists from now on) with
    /// `text`, keeping every list sorted; returns the refs whose relations may have
    /// changed (see [`Stitcher::related`], before and after).
    pub fn replace_stored_relations(&mut self, key: &str, text: &str) -> Vec<String> {
        let mut changed = self.related(key);
        self.take_stored_relations(key);
        self.add_entity(key);
        self.add_stored_relations(key, text);
        changed.extend(self.related(key));
        self.sort_refs(&changed);
        changed
    }

    /// Removes entity `key` and what its stored relations added; returns the refs whose
    /// relations changed.
    pub fn remove_entity(&mut self, key: &str) -> Vec<String> {
        let changed = self.related(key);
        if let Some(id) = self.take_stored_relations(key) {
            self.exists[id as usize] = false;
        }
        self.sort_refs(&changed);
        changed
    }

    fn sort_refs(&mut self, keys: &[String]) {
        for key in keys {
            if let Some(id) = self.ids.get(key).copied() {
                self.sort(id as usize);
            }
        }
    }

    /// `(type, target)` of the relations whose source is `key`, each once.
    pub fn relations_of(&self, key: &str) -> impl Iterator<Item = (&'static str, &str)> {
        let mut previous: Option<(RelationType, u32)> = None;
        self.ids
            .get(key)
            .and_then(|id| self.outgoing.get(*id as usize))
            .into_iter()
            .flatten()
            .filter(move |(t, target, _)| {
                let fresh = previous != Some((*t, *target));
                previous = Some((*t, *target));
                fresh
            })
            .map(|(t, target, _)| (t.as_str(), self.refs[*target as usize].as_str()))
    }

    /// Writes the final JSON of a processed entity: its members as they are, plus uid, etag
    /// and relations. `content_hash` names the stored body; the etag changes when it or the
    /// relations change.
    pub fn finish(
        &self,
        key: &str,
        uid: &str,
        body: &str,
        content_hash: &str,
    ) -> Result<FinalEntity, serde_json::Error> {
        let mut hasher = FxHasher::default();
        content_hash.hash(&mut hasher);
        for relation in self.relations_of(key) {
            relation.hash(&mut hasher);
        }
        let etag = format!("{:016x}", hasher.finish());
        let root: RawObject<'_> = serde_json::from_str(body)?;
        let mut out = String::with_capacity(body.len() + 128);
        out.push('{');
        let mut first = true;
        let mut comma = |out: &mut String| {
            if !first {
                out.push(',');
            }
            first = false;
        };
        for (member, raw) in &root.0 {
            if member == "relations" {
                continue;
            }
            comma(&mut out);
            push_str_literal(&mut out, member);
            out.push(':');
            if member == "metadata" {
                let metadata: RawObject<'_> = serde_json::from_str(raw.get())?;
                out.push('{');
                for (field, value) in metadata.0.iter().filter(|(f, _)| f != "uid" && f != "etag") {
                    push_str_literal(&mut out, field);
                    out.push(':');
                    out.push_str(value.get());
                    out.push(',');
                }
                out.push_str("\"uid\":");
                push_str_literal(&mut out, uid);
                out.push_str(",\"etag\":");
                push_str_literal(&mut out, &etag);
                out.push('}');
            } else {
                out.push_str(raw.get());
            }
        }
        comma(&mut out);
        out.push_str("\"relations\":[");
        for (i, (relation, target)) in self.relations_of(key).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"type\":\"");
            out.push_str(relation);
            out.push_str("\",\"targetRef\":");
            push_str_literal(&mut out, target);
            out.push('}');
        }
        out.push_str("]}");
        Ok(FinalEntity {
            key: key.to_owned(),
            uid: uid.to_owned(),
            json: out,
            hash: content_hash.to_owned(),
        })
    }
}

/// The stored form of the relations `source` emitted: `[[type, target], …]`, forward
/// relations only (every relation is emitted with its reverse, which stitching re-creates).
pub fn relations_to_text(source: &str, relations: &[Relation]) -> String {
    let mut out = String::with_capacity(relations.len() * 40 + 2);
    out.push('[');
    for r in relations.iter().filter(|r| r.source == source) {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str("[\"");
        out.push_str(r.relation.as_str());
        out.push_str("\",");
        push_str_literal(&mut out, &r.target);
        out.push(']');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rel(s: &str, t: RelationType, d: &str) -> Relation {
        Relation {
            source: s.into(),
            relation: t,
            target: d.into(),
        }
    }

    #[test]
    fn reverse_relations_only_on_existing_entities_forward_ones_dangle() {
        let component = SourceEntity {
            key: "component:default/a".into(),
            uid: "u1".into(),
            entity: json!({"kind": "Component", "metadata": {"name": "a", "uid": "stale"}, "spec": {"x": [1, "\n"]}}),
            relations: vec![
                rel(
                    "component:default/a",
                    RelationType::OwnedBy,
                    "group:default/missing",
                ),
                rel(
                    "group:default/missing",
                    RelationType::OwnerOf,
                    "component:default/a",
                ),
                rel(
                    "component:default/a",
                    RelationType::OwnedBy,
                    "group:default/team",
                ),
                rel(
                    "group:default/team",
                    RelationType::OwnerOf,
                    "component:default/a",
                ),
            ],
        };
        let group = SourceEntity {
            key: "group:default/team".into(),
            uid: "u2".into(),
            entity: json!({"kind": "Group", "metadata": {"name": "team"}}),
            // Emitted twice (by both sides): stitched once.
            relations: vec![rel(
                "group:default/team",
                RelationType::OwnerOf,
                "component:default/a",
            )],
        };
        let out = stitch(vec![group, component]);
        assert_eq!(out[0].key, "component:default/a");
        let a = out[0].value();
        assert_eq!(
            a["relations"],
            json!([
                {"type": "ownedBy", "targetRef": "group:default/missing"},
                {"type": "ownedBy", "targetRef": "group:default/team"}
            ])
        );
        assert_eq!(
            a["metadata"]["uid"], "u1",
            "the stored uid wins over one in the body"
        );
        assert_eq!(a["spec"], json!({"x": [1, "\n"]}));
        let team = out[1].value();
        assert_eq!(
            team["relations"],
            json!([{"type": "ownerOf", "targetRef": "component:default/a"}])
        );
        assert_eq!(team["metadata"]["uid"], "u2");
        assert!(
            team["metadata"]["etag"]
                .as_str()
                .is_some_and(|e| e.len() == 16)
        );
        // Members keep their order, relations come last.
        let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["kind", "metadata", "spec", "relations"]);
    }

    #[test]
    fn stored_relations_keep_forward_ones_and_restore_reverses() {
        let rels = vec![
            rel("a:b/c", RelationType::PartOf, "d:e/\"f"),
            rel("d:e/\"f", RelationType::HasPart, "a:b/c"),
        ];
        let text = relations_to_text("a:b/c", &rels);
        assert_eq!(text, r#"[["partOf","d:e/\"f"]]"#);
        let mut s = Stitcher::default();
        s.add_entity("a:b/c");
        s.add_entity("d:e/\"f");
        s.add_stored_relations("a:b/c", &text);
        s.add_stored_relations("d:e/\"f", "not json");
        s.seal();
        assert_eq!(
            s.relations_of("a:b/c").collect::<Vec<_>>(),
            vec![("partOf", "d:e/\"f")]
        );
        assert_eq!(
            s.relations_of("d:e/\"f").collect::<Vec<_>>(),
            vec![("hasPart", "a:b/c")]
        );
    }
}
