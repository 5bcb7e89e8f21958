//! Stitching: turning processed entities plus every emitted relation into the final
//! entities the API serves.
//!
//! An entity's `relations` are the distinct relations whose source is that entity, whoever
//! emitted them, sorted by type then target. So `ownedBy` to a missing group is kept (the
//! owner emitted it), while the reverse `ownerOf` appears only if the group exists.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::relations::{Relation, RelationType};

/// A processed entity as stored, ready to be stitched.
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
    pub entity: Value,
}

/// Stitches every entity. The output is sorted by key.
pub fn stitch(mut sources: Vec<SourceEntity>) -> Vec<FinalEntity> {
    sources.sort_by(|a, b| a.key.cmp(&b.key));
    let stitcher = Stitcher::new(
        sources
            .iter()
            .map(|s| (s.key.as_str(), s.relations.as_slice())),
    );
    sources
        .into_iter()
        .map(|s| {
            let hash = s.entity.to_string();
            stitcher.finish(s.key, s.uid, s.entity, &hash)
        })
        .collect()
}

/// The outgoing relations of every entity, collected from what all entities emitted, so that
/// entities can then be finished one at a time (without holding them all in memory).
pub struct Stitcher {
    outgoing: HashMap<String, BTreeSet<(&'static str, String)>>,
}

impl Stitcher {
    /// `entities` yields each existing entity's key and the relations it emitted.
    pub fn new<'a>(entities: impl Iterator<Item = (&'a str, &'a [Relation])> + Clone) -> Self {
        let mut outgoing: HashMap<String, BTreeSet<(&'static str, String)>> = entities
            .clone()
            .map(|(key, _)| (key.to_owned(), BTreeSet::new()))
            .collect();
        for (_, relations) in entities {
            for relation in relations {
                if let Some(set) = outgoing.get_mut(relation.source.as_str()) {
                    set.insert((relation.relation.as_str(), relation.target.clone()));
                }
            }
        }
        Stitcher { outgoing }
    }

    /// Adds relations, uid and etag to a processed entity. `content_hash` identifies the
    /// stored body; the etag changes when it or the relations change.
    pub fn finish(
        &self,
        key: String,
        uid: String,
        entity: Value,
        content_hash: &str,
    ) -> FinalEntity {
        let mut root = match entity {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        let mut hasher = DefaultHasher::new();
        content_hash.hash(&mut hasher);
        let relations: Vec<Value> = self
            .outgoing
            .get(&key)
            .map(|set| {
                set.iter()
                    .map(|(t, target)| {
                        (t, target).hash(&mut hasher);
                        json!({"type": t, "targetRef": target})
                    })
                    .collect()
            })
            .unwrap_or_default();
        root.insert("relations".into(), Value::Array(relations));
        if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
            metadata.insert("uid".into(), Value::String(uid.clone()));
            metadata.insert(
                "etag".into(),
                Value::String(format!("{:016x}", hasher.finish())),
            );
        }
        FinalEntity {
            key,
            uid,
            entity: Value::Object(root),
        }
    }
}

/// Reads a stored relation list (`[[source, type, target], …]`), skipping unknown types.
pub fn relations_from_json(value: &Value) -> Vec<Relation> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let [source, relation, target] = item.as_array()?.as_slice() else {
                        return None;
                    };
                    Some(Relation {
                        source: source.as_str()?.to_owned(),
                        relation: RelationType::parse(relation.as_str()?)?,
                        target: target.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a relation list in the stored form read by [`relations_from_json`].
pub fn relations_to_json(relations: &[Relation]) -> Value {
    Value::Array(
        relations
            .iter()
            .map(|r| json!([r.source, r.relation.as_str(), r.target]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            entity: json!({"kind": "Component", "metadata": {"name": "a"}}),
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
        assert_eq!(
            out[0].entity["relations"],
            json!([
                {"type": "ownedBy", "targetRef": "group:default/missing"},
                {"type": "ownedBy", "targetRef": "group:default/team"}
            ])
        );
        assert_eq!(
            out[1].entity["relations"],
            json!([{"type": "ownerOf", "targetRef": "component:default/a"}])
        );
        assert_eq!(out[1].entity["metadata"]["uid"], "u2");
        assert!(
            out[1].entity["metadata"]["etag"]
                .as_str()
                .is_some_and(|e| e.len() == 16)
        );
    }

    #[test]
    fn stored_relations_round_trip() {
        let rels = vec![rel("a:b/c", RelationType::PartOf, "d:e/f")];
        assert_eq!(relations_from_json(&relations_to_json(&rels)), rels);
    }
}
