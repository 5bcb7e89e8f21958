//! `fields=kind,metadata.name`: keep only the named subtrees of each entity.
//!
//! Paths are dotted, but keys may contain dots themselves
//! (`metadata.annotations.backstage.io/managed-by-location`), so each path is resolved against
//! the entity greedily, joining segments until a key exists — as Backstage does. Projection
//! works on the entity's JSON text: only the objects on a selected path are parsed.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::QueryError;
use crate::json::{RawObject, push_str_literal};

/// Parsed `fields` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelection {
    fields: Vec<String>,
}

/// A selected subtree being assembled.
enum Node<'a> {
    Leaf(&'a RawValue),
    Branch(Vec<(String, Node<'a>)>),
}

impl<'a> Node<'a> {
    fn insert(&mut self, path: &[String], value: &'a RawValue) {
        let Node::Branch(children) = self else { return };
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            match children.iter_mut().find(|(k, _)| k == first) {
                Some((_, node)) => *node = Node::Leaf(value),
                None => children.push((first.clone(), Node::Leaf(value))),
            }
            return;
        }
        let index = match children.iter().position(|(k, _)| k == first) {
            Some(i) => i,
            None => {
                children.push((first.clone(), Node::Branch(Vec::new())));
                children.len() - 1
            }
        };
        if let Some((_, child)) = children.get_mut(index) {
            if matches!(child, Node::Leaf(_)) {
                return; // A whole subtree is already selected.
            }
            child.insert(rest, value);
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Node::Leaf(raw) => out.push_str(raw.get()),
            Node::Branch(children) => {
                out.push('{');
                for (i, (key, node)) in children.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_str_literal(out, key);
                    out.push(':');
                    node.write(out);
                }
                out.push('}');
            }
        }
    }
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

    /// The selected parts of an entity given as JSON text, as JSON text.
    pub fn apply_json(&self, json: &str) -> String {
        let mut root = Node::Branch(Vec::new());
        if let Ok(top) = serde_json::from_str::<RawObject<'_>>(json) {
            for field in &self.fields {
                let parts: Vec<&str> = field.split('.').collect();
                if let Some((path, value)) = resolve_in(&top.0, &parts) {
                    root.insert(&path, value);
                }
            }
        }
        let mut out = String::new();
        root.write(&mut out);
        out
    }
}

/// Walks `parts` into `value`, joining parts with dots until a member exists (keys may contain
/// dots); returns the member path and the value found, or `None` when nothing matches.
fn resolve<'a>(value: &'a RawValue, parts: &[&str]) -> Option<(Vec<String>, &'a RawValue)> {
    if parts.is_empty() {
        return None;
    }
    let text = value.get().trim_start();
    let members: Vec<(Cow<'a, str>, &'a RawValue)> = if text.starts_with('{') {
        serde_json::from_str::<RawObject<'a>>(value.get()).ok()?.0
    } else if text.starts_with('[') {
        let items: Vec<&'a RawValue> = serde_json::from_str(value.get()).ok()?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string().into(), v))
            .collect()
    } else {
        return None;
    };
    resolve_in(&members, parts)
}

fn resolve_in<'a>(
    members: &[(Cow<'a, str>, &'a RawValue)],
    parts: &[&str],
) -> Option<(Vec<String>, &'a RawValue)> {
    let mut key = String::new();
    for (taken, part) in parts.iter().enumerate() {
        if taken > 0 {
            key.push('.');
        }
        key.push_str(part);
        if let Some((_, child)) = members.iter().find(|(k, _)| k.as_ref() == key) {
            let rest = &parts[taken + 1..];
            if rest.is_empty() {
                return Some((vec![key], child));
            }
            // Selecting inside a child that lacks the rest selects nothing (as lodash.get).
            return resolve(child, rest).map(|(mut path, found)| {
                path.insert(0, key);
                (path, found)
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn project(fields: &[&str], entity: &Value) -> Value {
        let sel = FieldSelection::parse(fields).unwrap().unwrap();
        serde_json::from_str(&sel.apply_json(&entity.to_string())).unwrap()
    }

    #[test]
    fn keeps_selected_subtrees_including_dotted_keys() {
        let e = json!({
            "kind": "Component",
            "metadata": {"name": "a", "namespace": "default",
                         "annotations": {"backstage.io/managed-by-location": "file:/x", "other": "y"}},
            "spec": {"owner": "t", "list": [{"x": 1}, {"x": 2}]}
        });
        assert_eq!(
            project(
                &[
                    "kind,metadata.name",
                    "metadata.annotations.backstage.io/managed-by-location, nope.x"
                ],
                &e
            ),
            json!({"kind": "Component", "metadata": {"name": "a",
                   "annotations": {"backstage.io/managed-by-location": "file:/x"}}})
        );
        assert_eq!(
            project(&["metadata", "metadata.name"], &e)["metadata"],
            e["metadata"]
        );
        assert_eq!(
            project(&["spec.list.1.x"], &e),
            json!({"spec": {"list": {"1": {"x": 2}}}})
        );
        assert_eq!(project(&["nothing"], &e), json!({}));
        assert_eq!(FieldSelection::parse(&[""]).unwrap(), None);
        assert!(FieldSelection::parse(&["a[0]"]).is_err());
    }
}
