//! The flattened key/value view of an entity that filters, ordering and facets work on —
//! the same rows Backstage writes to its `search` table.

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

/// One search row: lower-cased key, and the original value (None for null or over-long).
pub(crate) type Row = (String, Option<String>);

/// All search rows of a final entity, de-duplicated by (key, lower-cased value).
pub(crate) fn search_rows(entity: &Value) -> Vec<Row> {
    let mut raw: Vec<(String, Option<String>)> = Vec::new();
    let mut path = String::new();
    visit(entity, &mut path, &mut raw);
    let metadata = entity.get("metadata");
    for field in ["name", "namespace", "uid"] {
        raw.push((
            format!("metadata.{field}"),
            metadata.and_then(|m| m.get(field)).and_then(scalar_string),
        ));
    }
    if let Some(Value::Array(relations)) = entity.get("relations") {
        for relation in relations {
            if let (Some(t), Some(target)) = (
                relation.get("type").and_then(Value::as_str),
                relation.get("targetRef").and_then(Value::as_str),
            ) {
                raw.push((format!("relations.{t}"), Some(target.to_owned())));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        let key = key.to_lowercase();
        if key.len() > MAX_LENGTH {
            continue;
        }
        let value = value.filter(|v| v.len() <= MAX_LENGTH);
        let dedup = (key.clone(), value.as_ref().map(|v| v.to_lowercase()));
        if seen.insert(dedup) {
            rows.push((key, value));
        }
    }
    rows
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn visit(value: &Value, path: &mut String, out: &mut Vec<(String, Option<String>)>) {
    if SPECIAL_KEYS.contains(&path.as_str()) {
        return;
    }
    match value {
        Value::Null => out.push((path.clone(), None)),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((path.clone(), scalar_string(value)));
        }
        Value::Array(items) => {
            for item in items {
                visit(item, path, out);
                // `metadata.tags.java = true`, so several items can be required at once.
                if let Value::String(s) = item {
                    out.push((format!("{path}.{s}"), Some("true".into())));
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
                visit(child, path, out);
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
                         "tags": ["Java", "java", "go"], "description": "x".repeat(201)},
            "spec": {"type": "service", "owner": null, "replicas": 2},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team"}]
        });
        let rows = search_rows(&e);
        let has =
            |k: &str, v: Option<&str>| rows.iter().any(|(rk, rv)| rk == k && rv.as_deref() == v);
        assert!(has("kind", Some("Component")));
        assert!(has("metadata.tags", Some("Java")));
        assert!(
            !has("metadata.tags", Some("java")),
            "dedup is case-insensitive on values"
        );
        assert!(has("metadata.tags.java", Some("true")));
        assert!(has("metadata.tags.go", Some("true")));
        assert!(has("metadata.description", None));
        assert!(has("spec.owner", None));
        assert!(has("spec.replicas", Some("2")));
        assert!(has("metadata.name", Some("Svc")));
        assert!(has("metadata.uid", Some("u")));
        assert!(has("relations.ownedby", Some("group:default/team")));
        assert!(!rows.iter().any(|(k, _)| k == "metadata.etag"));
    }
}
