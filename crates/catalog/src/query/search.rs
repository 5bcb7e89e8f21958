//! The flattened key/value view of an entity that filters, ordering and facets work on —
//! the same rows Backstage writes to its `search` table — read straight from the entity's
//! JSON text with a streaming visitor (no `Value` tree).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json::Str;

/// Keys and values longer than this are not searchable (Backstage's limit, kept for parity).
const MAX_LENGTH: usize = 200;

/// The identity fields Backstage always indexes, even when null.
const IDENTITY: [&str; 3] = ["metadata.name", "metadata.namespace", "metadata.uid"];

/// Lower-cases without allocating when there is nothing to lower.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Calls `emit(key, value)` for every search row of a final entity given as JSON. Keys are
/// lower-cased; values keep their case and are `None` for null or over-long values. Rows may
/// repeat; the index keeps one per (key, lower-cased value).
pub(crate) fn for_each_row(
    json: &str,
    emit: &mut dyn FnMut(&str, Option<&str>),
) -> Result<(), serde_json::Error> {
    let mut sink = Sink {
        emit,
        identity_seen: [false; 3],
    };
    let mut path = String::new();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Walk {
        path: &mut path,
        sink: &mut sink,
        array_item: false,
    }
    .deserialize(&mut deserializer)?;
    for (field, seen) in IDENTITY.iter().zip(sink.identity_seen) {
        if !seen {
            (sink.emit)(field, None);
        }
    }
    Ok(())
}

struct Sink<'e> {
    emit: &'e mut dyn FnMut(&str, Option<&str>),
    identity_seen: [bool; 3],
}

impl Sink<'_> {
    fn row(&mut self, key: &str, value: Option<&str>) {
        let key = lower(key);
        if key.len() <= MAX_LENGTH {
            (self.emit)(&key, value.filter(|v| v.len() <= MAX_LENGTH));
        }
    }
}

/// Visits one JSON value at `path`.
struct Walk<'p, 's, 'e> {
    path: &'p mut String,
    sink: &'s mut Sink<'e>,
    /// Array items that are strings also emit `<path>.<item> = true`.
    array_item: bool,
}

impl Walk<'_, '_, '_> {
    fn scalar(self, value: Option<&str>) {
        if let Some(i) = IDENTITY.iter().position(|f| *f == self.path.as_str()) {
            self.sink.identity_seen[i] = true;
        }
        self.sink.row(self.path, value);
        if self.array_item
            && let Some(item) = value
        {
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(item);
            self.sink.row(self.path, Some("true"));
            self.path.truncate(len);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.path.as_str() {
            // Not searchable, or computed: skip.
            "attachments" | "status" | "metadata.etag" => {
                deserializer.deserialize_ignored_any(IgnoredAny)?;
                Ok(())
            }
            "relations" => deserializer.deserialize_seq(Relations { sink: self.sink }),
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Some(if v { "true" } else { "false" }));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Some(&v.to_string()));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Some(&v.to_string()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Some(&v.to_string()));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Some(v));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(None);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar(None);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk {
                path: &mut *self.path,
                sink: &mut *self.sink,
                array_item: true,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
            let len = self.path.len();
            if len > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            map.next_value_seed(Walk {
                path: &mut *self.path,
                sink: &mut *self.sink,
                array_item: false,
            })?;
            self.path.truncate(len);
        }
        Ok(())
    }
}

/// `relations: [{type, targetRef}]` → `relations.<type> = <targetRef>` rows.
struct Relations<'s, 'e> {
    sink: &'s mut Sink<'e>,
}

#[derive(serde::Deserialize)]
struct RelationRow<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "targetRef", borrow)]
    target: Cow<'a, str>,
}

impl<'de> Visitor<'de> for Relations<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of relations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut key = String::from("relations.");
        while let Some(relation) = seq.next_element::<RelationRow<'de>>()? {
            key.truncate("relations.".len());
            key.push_str(&relation.kind);
            self.sink.row(&key, Some(&relation.target));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: &serde_json::Value) -> Vec<(String, Option<String>)> {
        let mut rows = Vec::new();
        for_each_row(&v.to_string(), &mut |k, v| {
            rows.push((k.to_owned(), v.map(str::to_owned)))
        })
        .unwrap();
        rows
    }

    #[test]
    fn rows_match_backstage_shape() {
        let e = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "Svc", "namespace": "default", "uid": "u", "etag": "e",
                         "tags": ["Java", "go"], "description": "x".repeat(201), "escaped": "a\"b"},
            "spec": {"type": "service", "owner": null, "replicas": 2, "ratio": 0.5, "on": true,
                     "nested": [{"a": 1}]},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team"}]
        });
        let rows = rows(&e);
        let has =
            |k: &str, v: Option<&str>| rows.iter().any(|(rk, rv)| rk == k && rv.as_deref() == v);
        assert!(has("kind", Some("Component")));
        assert!(has("metadata.tags", Some("Java")));
        assert!(
            has("metadata.tags.java", Some("true")),
            "keys are lower-cased"
        );
        assert!(has("metadata.tags.go", Some("true")));
        assert!(
            has("metadata.description", None),
            "over-long values are null"
        );
        assert!(has("metadata.escaped", Some("a\"b")));
        assert!(has("spec.owner", None));
        assert!(has("spec.replicas", Some("2")));
        assert!(has("spec.ratio", Some("0.5")));
        assert!(has("spec.on", Some("true")));
        assert!(has("spec.nested.a", Some("1")));
        assert!(has("metadata.name", Some("Svc")));
        assert!(has("metadata.uid", Some("u")));
        assert!(has("relations.ownedby", Some("group:default/team")));
        assert!(
            !rows
                .iter()
                .any(|(k, _)| k == "metadata.etag" || k.starts_with("relations.type"))
        );
        assert_eq!(rows.iter().filter(|(k, _)| k == "metadata.name").count(), 1);
    }

    #[test]
    fn identity_fields_are_always_present() {
        let rows = rows(&json!({"kind": "X", "metadata": {"name": "n"}}));
        assert!(rows.contains(&("metadata.namespace".into(), None)));
        assert!(rows.contains(&("metadata.uid".into(), None)));
        assert!(for_each_row("{not json", &mut |_, _| {}).is_err());
    }
}
