//! `fields=kind,metadata.name`: keep only the named subtrees of each entity.
//!
//! Paths are dotted, but keys may contain dots themselves
//! (`metadata.annotations.backstage.io/managed-by-location`), so each path is resolved against
//! the entity greedily, joining segments until a key exists — as Backstage does.

use serde_json::{Map, Value};

use super::QueryError;

/// Parsed `fields` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelection {
    fields: Vec<String>,
}

impl FieldSelection {
    /// Parses repeated, comma-separated `fields` parameters; `None` keeps whole entities.
    pub fn parse(params: &[impl AsRef<str>]) -> Result<Option<Self>, QueryError> {
        let fields: Vec<String> = params
            .iter()
            .flat_map(|p| p.as_ref().split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        if fields.iter().any(|f| f.contains('[')) {
            return Err(QueryError::InvalidFields(
                "array type fields are not supported".into(),
            ));
        }
        Ok((!fields.is_empty()).then_some(FieldSelection { fields }))
    }

    pub fn from_fields(fields: Vec<String>) -> Option<Self> {
        (!fields.is_empty()).then_some(FieldSelection { fields })
    }

    /// The selected parts of `entity`.
    pub fn apply(&self, entity: &Value) -> Value {
        let mut out = Value::Object(Map::new());
        for field in &self.fields {
            let path = resolve_path(entity, field);
            if path.is_empty() {
                continue;
            }
            if let Some(value) = get(entity, &path) {
                set(&mut out, &path, value.clone());
            }
        }
        out
    }
}

fn resolve_path(entity: &Value, field: &str) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut pending = String::new();
    let mut node = entity;
    for part in field.split('.') {
        if !pending.is_empty() {
            pending.push('.');
        }
        pending.push_str(part);
        if let Some(child) = child(node, &pending) {
            node = child;
            path.push(std::mem::take(&mut pending));
        }
    }
    path
}

fn child<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

fn get<'a>(entity: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(entity, |node, key| child(node, key))
}

fn set(out: &mut Value, path: &[String], value: Value) {
    let mut node = out;
    for key in &path[..path.len() - 1] {
        let Value::Object(map) = node else { return };
        node = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let (Value::Object(map), Some(last)) = (node, path.last()) {
        map.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_selected_subtrees_including_dotted_keys() {
        let e = json!({
            "kind": "Component",
            "metadata": {"name": "a", "namespace": "default",
                         "annotations": {"backstage.io/managed-by-location": "file:/x", "other": "y"}},
            "spec": {"owner": "t"}
        });
        let sel = FieldSelection::parse(&[
            "kind,metadata.name",
            "metadata.annotations.backstage.io/managed-by-location, nope.x",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            sel.apply(&e),
            json!({"kind": "Component", "metadata": {"name": "a",
                   "annotations": {"backstage.io/managed-by-location": "file:/x"}}})
        );
        assert_eq!(FieldSelection::parse(&[""]).unwrap(), None);
        assert!(FieldSelection::parse(&["a[0]"]).is_err());
    }
}
