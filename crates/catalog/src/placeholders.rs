//! `$text`, `$json` and `$yaml` placeholders: `definition: {$text: ./openapi.yaml}` is
//! replaced by the referenced file's content, read relative to the descriptor.

use pave_yaml::PathSegment;
use serde_json::Value;

use crate::problem::{Problem, Stage};

/// Reads what a placeholder points at. Implemented by the ingestion layer, which knows where
/// the descriptor lives and which files it may read.
pub trait PlaceholderReader {
    /// Returns the text of `target` (a path relative to the descriptor, or a URL), or why it
    /// cannot be read.
    fn read(&self, target: &str) -> Result<String, pave_fs::SeamReadError>;
}

/// Replaces every placeholder in `value`. Objects that merely look like placeholders
/// (`$ref` in a JSON Schema, a `$text` with a non-string value) are left alone, as Backstage
/// does.
pub fn resolve_placeholders(
    value: &mut Value,
    reader: &dyn PlaceholderReader,
    problems: &mut Vec<Problem>,
) {
    // Few entities use placeholders; only walk (and track paths) when one is there.
    if contains_placeholder(value) {
        let mut path = Vec::new();
        resolve_at(value, reader, &mut path, problems);
    }
}

fn is_placeholder(map: &serde_json::Map<String, Value>) -> bool {
    map.len() == 1
        && map.iter().next().is_some_and(|(k, v)| {
            matches!(k.as_str(), "$text" | "$json" | "$yaml") && v.is_string()
        })
}

fn contains_placeholder(value: &Value) -> bool {
    match value {
        Value::Object(map) => is_placeholder(map) || map.values().any(contains_placeholder),
        Value::Array(items) => items.iter().any(contains_placeholder),
        _ => false,
    }
}

fn resolve_at(
    value: &mut Value,
    reader: &dyn PlaceholderReader,
    path: &mut Vec<PathSegment>,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some((key, Value::String(target))) = map.iter().next()
                && matches!(key.as_str(), "$text" | "$json" | "$yaml")
            {
                match substitute(key, target, reader) {
                    Ok(replacement) => *value = replacement,
                    Err(message) => {
                        problems.push(Problem::error(Stage::Placeholder, path.clone(), message));
                    }
                }
                return;
            }
            for (key, child) in map.iter_mut() {
                path.push(PathSegment::Key(key.clone()));
                resolve_at(child, reader, path, problems);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push(PathSegment::Index(i));
                resolve_at(child, reader, path, problems);
                path.pop();
            }
        }
        _ => {}
    }
}

fn substitute(kind: &str, target: &str, reader: &dyn PlaceholderReader) -> Result<Value, String> {
    let text = reader
        .read(target)
        .map_err(|why| format!("placeholder {kind} could not read \"{target}\": {why}"))?;
    match kind {
        "$text" => Ok(Value::String(text)),
        "$json" => serde_json::from_str(&text)
            .map_err(|e| format!("placeholder $json: \"{target}\" is not valid JSON: {e}")),
        _ => {
            let docs =
                pave_yaml::parse_documents(&text, &pave_yaml::Limits::default()).map_err(|e| {
                    format!(
                        "placeholder $yaml: \"{target}\" is not valid YAML at {}: {e}",
                        e.position()
                    )
                })?;
            Ok(docs.into_iter().next().map_or(Value::Null, |d| d.value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Files;
    impl PlaceholderReader for Files {
        fn read(&self, target: &str) -> Result<String, pave_fs::SeamReadError> {
            match target {
                "./a.txt" => Ok("hello\n".into()),
                "./a.json" => Ok("{\"x\": [1]}".into()),
                "./a.yaml" => Ok("x: [1]\n".into()),
                "./bad.json" => Ok("{".into()),
                _ => Err(pave_fs::SeamReadError::Refused("no such file".into())),
            }
        }
    }

    #[test]
    fn substitutes_and_leaves_lookalikes_alone() {
        let mut v = json!({
            "spec": {
                "definition": {"$text": "./a.txt"},
                "j": {"$json": "./a.json"},
                "y": [{"$yaml": "./a.yaml"}],
                "schema": {"$ref": "#/definitions/x"},
                "notstring": {"$text": 42},
                "two": {"$text": "./a.txt", "other": 1}
            }
        });
        let mut problems = vec![];
        resolve_placeholders(&mut v, &Files, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(v["spec"]["definition"], "hello\n");
        assert_eq!(v["spec"]["j"], json!({"x": [1]}));
        assert_eq!(v["spec"]["y"][0], json!({"x": [1]}));
        assert_eq!(v["spec"]["schema"], json!({"$ref": "#/definitions/x"}));
        assert_eq!(v["spec"]["notstring"], json!({"$text": 42}));
        assert_eq!(v["spec"]["two"]["other"], 1);
    }

    #[test]
    fn failures_name_the_target_and_path() {
        let mut v = json!({"spec": {"definition": {"$text": "./missing.yaml"}, "j": {"$json": "./bad.json"}}});
        let mut problems = vec![];
        resolve_placeholders(&mut v, &Files, &mut problems);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].dotted_path(), "spec.definition");
        assert!(problems[0].message.contains("./missing.yaml"));
        assert!(problems[0].message.contains("no such file"));
        assert!(problems[1].message.contains("not valid JSON"));
    }
}
