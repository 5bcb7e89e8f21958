//! Parameters: defaults from the schema, `--set` coercion, missing and invalid answers.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// The answers: parameter name → value.
pub type Answers = Map<String, Value>;

/// What a prompt or `pave templates show` needs to know about one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    /// The schema's `type` (`string`, `integer`, …), when it has one.
    pub kind: Option<String>,
    pub description: Option<String>,
    pub default: Option<Value>,
    /// `enum` values, when there are any.
    pub choices: Vec<Value>,
    pub required: bool,
}

/// Every top-level parameter, in schema order.
pub fn parameters(manifest: &Manifest) -> Vec<ParamInfo> {
    let required = manifest.required();
    manifest
        .properties()
        .into_iter()
        .map(|(name, schema)| ParamInfo {
            required: required.contains(&name),
            kind: schema
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            default: schema.get("default").cloned(),
            choices: schema
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            name,
        })
        .collect()
}

/// Fills in `default`s from the schema, in nested objects too.
pub fn apply_defaults(schema: &Value, answers: &mut Answers) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        if !answers.contains_key(name)
            && let Some(default) = prop.get("default")
        {
            answers.insert(name.clone(), default.clone());
        }
        if let Some(Value::Object(inner)) = answers.get_mut(name) {
            apply_defaults(prop, inner);
        }
    }
}

/// Reads `NAME=VALUE` and converts VALUE to the parameter's schema type: integer, number,
/// boolean, string; arrays and objects (and parameters of no known type) are read as YAML.
pub fn coerce_set(manifest: &Manifest, arg: &str) -> Result<(String, Value)> {
    let err = |message: String| Error::Set {
        arg: arg.to_owned(),
        message,
    };
    let (name, raw) = arg
        .split_once('=')
        .ok_or_else(|| err("expected NAME=VALUE".into()))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(err("expected NAME=VALUE".into()));
    }
    let props = manifest.properties();
    let kind = props
        .get(name)
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str);
    let value = match kind {
        Some("string") => Value::String(raw.to_owned()),
        Some("integer") => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| err(format!("`{raw}` is not an integer")))?,
        Some("number") => {
            let n: f64 = raw
                .trim()
                .parse()
                .map_err(|_| err(format!("`{raw}` is not a number")))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| err(format!("`{raw}` is not a finite number")))?
        }
        Some("boolean") => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => return Err(err(format!("`{raw}` is not a boolean (true or false)"))),
        },
        Some("array" | "object") | None | Some(_) => parse_yaml_value(raw).map_err(err)?,
    };
    if !props.contains_key(name)
        && manifest.parameters.get("additionalProperties") == Some(&Value::Bool(false))
    {
        return Err(err(format!("the template has no parameter `{name}`")));
    }
    Ok((name.to_owned(), value))
}

/// A YAML value (a string when the text is empty or plain).
pub fn parse_yaml_value(raw: &str) -> std::result::Result<Value, String> {
    if raw.trim().is_empty() {
        return Ok(Value::String(raw.to_owned()));
    }
    let docs = pave_yaml::parse_documents(raw, &pave_yaml::Limits::default())
        .map_err(|e| e.to_string())?;
    Ok(docs.into_iter().next().map_or(Value::Null, |d| d.value))
}

/// Required parameters with no answer (after defaults).
pub fn missing(manifest: &Manifest, answers: &Answers) -> Vec<ParamInfo> {
    parameters(manifest)
        .into_iter()
        .filter(|p| p.required && !answers.contains_key(&p.name))
        .chain(
            // Required names the schema has no `properties` entry for.
            manifest
                .required()
                .into_iter()
                .filter(|r| !manifest.properties().contains_key(r) && !answers.contains_key(r))
                .map(|name| ParamInfo {
                    name,
                    kind: None,
                    description: None,
                    default: None,
                    choices: Vec::new(),
                    required: true,
                }),
        )
        .collect()
}

/// Validates the answers against the schema; the error lists every failing parameter.
pub fn validate(manifest: &Manifest, answers: &Answers) -> Result<()> {
    let validator = jsonschema::draft202012::new(&manifest.parameters).map_err(|e| {
        Error::manifest(crate::MANIFEST_FILE, None, format!("spec.parameters: {e}"))
    })?;
    let instance = Value::Object(answers.clone());
    let mut problems: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| {
            let path = e
                .instance_path()
                .as_str()
                .trim_start_matches('/')
                .replace('/', ".");
            if path.is_empty() {
                format!("  - {e}")
            } else {
                format!("  - {path}: {e}")
            }
        })
        .collect();
    // Answers land in source files, YAML and shell: a newline in a one-line answer could
    // write code into a generated file (a `description` closing a Go comment, say). No
    // answer holds control characters, whatever the schema allows.
    let mut controls = Vec::new();
    strings_with_controls(&instance, "", &mut controls);
    problems.extend(
        controls
            .into_iter()
            .map(|path| format!("  - {path}: must be one line, without control characters")),
    );
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidParameters(problems))
    }
}

/// The dotted paths of string answers (nested ones too) holding a control character.
fn strings_with_controls(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::String(text) if text.chars().any(char::is_control) => {
            out.push(path.to_owned());
        }
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                strings_with_controls(inner, &path, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                strings_with_controls(inner, &format!("{path}.{i}"), out);
            }
        }
        _ => {}
    }
}

/// Defaults, then the missing check, then the schema: the answers rendering gets.
pub fn prepare(manifest: &Manifest, mut answers: Answers) -> Result<Answers> {
    apply_defaults(&manifest.parameters, &mut answers);
    let missing = missing(manifest, &answers);
    if !missing.is_empty() {
        return Err(Error::MissingParameters(
            missing.iter().map(describe).collect(),
        ));
    }
    validate(manifest, &answers)?;
    Ok(answers)
}

/// `  - name (string): Service name`.
pub fn describe(p: &ParamInfo) -> String {
    let mut line = format!("  - {}", p.name);
    if let Some(kind) = &p.kind {
        line.push_str(&format!(" ({kind})"));
    }
    if let Some(d) = &p.description {
        line.push_str(&format!(": {d}"));
    }
    if !p.choices.is_empty() {
        let choices: Vec<String> = p.choices.iter().map(display_value).collect();
        line.push_str(&format!(" [one of: {}]", choices.join(", ")));
    }
    line
}

/// A value as a user types it: strings bare, everything else as JSON.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Manifest {
        let text = "apiVersion: pave.dev/v1alpha1
kind: Template
metadata: {name: t}
spec:
  version: 1.0.0
  parameters:
    type: object
    required: [name, owner]
    properties:
      name: {type: string, pattern: '^[a-z][a-z0-9-]+$', description: Service name}
      owner: {type: string, description: Owning group}
      port: {type: integer, default: 8080, minimum: 1, maximum: 65535}
      ratio: {type: number}
      public: {type: boolean, default: false}
      tags: {type: array, items: {type: string}}
      db: {type: object, properties: {engine: {type: string, default: postgres}}, default: {}}
";
        Manifest::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn set_coerces_by_schema_type() {
        let m = manifest();
        let get = |a: &str| coerce_set(&m, a).map(|(_, v)| v).map_err(|e| e.to_string());
        assert_eq!(get("port=9090"), Ok(json!(9090)));
        assert_eq!(get("name=123"), Ok(json!("123")));
        assert_eq!(get("public=yes"), Ok(json!(true)));
        assert_eq!(get("ratio=0.5"), Ok(json!(0.5)));
        assert_eq!(get("tags=[a, b]"), Ok(json!(["a", "b"])));
        assert_eq!(get("unknown=12"), Ok(json!(12)));
        assert_eq!(
            get("port=eighty"),
            Err("--set port=eighty: `eighty` is not an integer".into())
        );
        assert!(get("noequals").is_err());
    }

    #[test]
    fn defaults_missing_and_schema_errors() {
        let m = manifest();
        let e = prepare(&m, Answers::new())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("  - name (string): Service name\n  - owner (string): Owning group"),
            "{e}"
        );
        let mut a = Answers::new();
        a.insert("name".into(), json!("Bad_Name"));
        a.insert("owner".into(), json!(7));
        a.insert("port".into(), json!(70000));
        let e = prepare(&m, a)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("  - name: \"Bad_Name\" does not match"), "{e}");
        assert!(e.contains("  - owner: 7 is not of type \"string\""), "{e}");
        assert!(
            e.contains("  - port: 70000 is greater than the maximum of 65535"),
            "{e}"
        );
        // A newline (or any control character) in an answer could write code into a
        // generated file: refused, nested answers too.
        let mut a = Answers::new();
        a.insert("name".into(), json!("svc"));
        a.insert("owner".into(), json!("team-a\n}\nfunc init() {}"));
        a.insert("db".into(), json!({"engine": "postgres\r"}));
        let e = prepare(&m, a)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("  - owner: must be one line, without control characters"),
            "{e}"
        );
        assert!(e.contains("  - db.engine: must be one line"), "{e}");
        let mut a = Answers::new();
        a.insert("name".into(), json!("svc"));
        a.insert("owner".into(), json!("team-a"));
        let a = prepare(&m, a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.get("port"), Some(&json!(8080)));
        assert_eq!(a.get("db"), Some(&json!({"engine": "postgres"})));
    }
}
