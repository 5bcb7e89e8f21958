//! The flattened key/value view of an entity that filters, ordering and facets work on —
//! the same rows Backstage writes to its `search` table.

use std::borrow::Cow;

use serde_json::Value;

/// Paths not indexed by the generic walk: relations get their own keys, and the
/// identity fields are always added explicitly (even when null).
const SPECIAL_KEYS: &[&str] = &[
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];

/// Keys and values longer than this are not searchable (Backstage's limit, kept for parity).
const MAX_LENGTH: usize = 200;

/// Lower-cases without allocating when there is nothing to lower.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Calls `emit(key, value)` for every search row of a final entity. Keys are lower-cased;
/// values keep their case and are `None` for null or over-long values. Rows may repeat;
/// the index drops duplicates per entity.
pub(crate) fn for_each_row(entity: &Value, emit: &mut dyn FnMut(&str, Option<&str>)) {
    let mut emit_checked = |key: &str, value: Option<&str>| {
        let key = lower(key);
        if key.len() <= MAX_LENGTH {
            emit(&key, value.filter(|v| v.len() <= MAX_LENGTH));
        }
    };
    let mut path = String::new();
    visit(entity, &mut path, &mut emit_checked);
    let metadata = entity.get("metadata");
    for field in ["name", "namespace", "uid"] {
        let value = metadata.and_then(|m| m.get(field));
        with_scalar(value, |v| emit_checked(&format!("metadata.{field}"), v));
    }
    if let Some(Value::Array(relations)) = entity.get("relations") {
        for relation in relations {
            if let (Some(t), Some(target)) = (
                relation.get("type").and_then(Value::as_str),
                relation.get("targetRef").and_then(Value::as_str),
            ) {
                emit_checked(&format!("relations.{t}"), Some(target));
            }
        }
    }
}

/// Calls `f` with the scalar's text (numbers and booleans as JavaScript would print them).
fn with_scalar(value: Option<&Value>, f: impl FnOnce(Option<&str>)) {
    match value {
        Some(Value::String(s)) => f(Some(s)),
        Some(Value::Bool(b)) => f(Some(if *b { "true" } else { "false" })),
        Some(Value::Number(n)) => f(Some(&n.to_string())),
        _ => f(None),
    }
}

fn visit(value: &Value, path: &mut String, emit: &mut dyn FnMut(&str, Option<&str>)) {
    if SPECIAL_KEYS.contains(&path.as_str()) {
        return;
    }
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            with_scalar(Some(value), |v| emit(path, v));
        }
        Value::Array(items) => {
            for item in items {
                visit(item, path, emit);
                // `metadata.tags.java = true`, so several items can be required at once.
                if let Value::String(s) = item {
                    let len = path.len();
                    path.push('.');
                    path.push_str(s);
                    emit(path, Some("true"));
                    path.truncate(len);
                }
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                visit(child, path, emit);
                path.truncate(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_match_backstage_shape() {
        let e = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "Svc", "namespace": "default", "uid": "u", "etag": "e",
                         "tags": ["Java", "go"], "description": "x".repeat(201)},
            "spec": {"type": "service", "owner": null, "replicas": 2},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team"}]
        });
        let mut rows: Vec<(String, Option<String>)> = Vec::new();
        for_each_row(&e, &mut |k, v| {
            rows.push((k.to_owned(), v.map(str::to_owned)))
        });
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
        assert!(has("spec.owner", None));
        assert!(has("spec.replicas", Some("2")));
        assert!(has("metadata.name", Some("Svc")));
        assert!(has("metadata.uid", Some("u")));
        assert!(has("relations.ownedby", Some("group:default/team")));
        assert!(!rows.iter().any(|(k, _)| k == "metadata.etag"));
        assert_eq!(rows.iter().filter(|(k, _)| k == "metadata.name").count(), 1);
    }
}
