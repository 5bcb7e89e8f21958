//! `template.yaml`: the template's name, version, parameters (a JSON Schema) and file rules.

use pave_yaml::{Limits, PathSegment, Position};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The manifest's file name inside a template folder.
pub const MANIFEST_FILE: &str = "template.yaml";

/// A parsed and checked `template.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `metadata.name`: `[a-z0-9-]+`.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// `spec.version`.
    pub version: semver::Version,
    /// `spec.type` (`service`, `worker`, `job`, …).
    pub kind: Option<String>,
    /// `spec.parameters`: a JSON Schema (draft 2020-12) with `type: object`.
    pub parameters: Value,
    /// `spec.files.copy`: globs (relative to `skeleton/`) copied byte for byte.
    pub copy: Vec<String>,
    /// `spec.files.conditions`.
    pub conditions: Vec<Condition>,
}

/// Paths included only when an expression over the answers is true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// A minijinja expression, e.g. `ci != 'gitlab'`.
    pub expression: String,
    /// Globs relative to `skeleton/` (before rendering).
    pub paths: Vec<String>,
}

struct Reader<'a> {
    doc: &'a pave_yaml::Document,
}

impl Reader<'_> {
    fn pos(&self, path: &[&str]) -> Option<Position> {
        let segs: Vec<PathSegment> = path
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => PathSegment::Index(i),
                Err(_) => PathSegment::Key((*s).to_owned()),
            })
            .collect();
        self.doc.spans.locate(&self.doc.value, 0, &segs)
    }

    fn err(&self, path: &[&str], message: impl Into<String>) -> Error {
        Error::manifest(MANIFEST_FILE, self.pos(path), message)
    }

    fn get(&self, path: &[&str]) -> Option<&Value> {
        path.iter()
            .try_fold(&self.doc.value, |v, k| match k.parse::<usize>() {
                Ok(i) => v.get(i),
                Err(_) => v.get(*k),
            })
    }

    fn string(&self, path: &[&str], required: bool) -> Result<Option<String>> {
        match self.get(path) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => {
                Err(self.err(path, format!("`{}` is required", path.join("."))))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(path, format!("`{}` must be a string", path.join(".")))),
        }
    }

    fn strings(&self, path: &[&str]) -> Result<Vec<String>> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(str::to_owned).ok_or_else(|| {
                        let index = i.to_string();
                        let mut p = path.to_vec();
                        p.push(&index);
                        self.err(&p, format!("`{}[{i}]` must be a string", path.join(".")))
                    })
                })
                .collect(),
            Some(_) => Err(self.err(
                path,
                format!("`{}` must be a list of strings", path.join(".")),
            )),
        }
    }
}

impl Manifest {
    /// Parses `template.yaml` text. Errors carry `template.yaml:line:column`.
    pub fn parse(text: &str) -> Result<Manifest> {
        let docs = pave_yaml::parse_documents(text, &Limits::default())
            .map_err(|e| Error::manifest(MANIFEST_FILE, Some(e.position()), e.to_string()))?;
        let [doc] = docs.as_slice() else {
            return Err(Error::manifest(
                MANIFEST_FILE,
                None,
                format!("expected one YAML document, found {}", docs.len()),
            ));
        };
        let r = Reader { doc };
        if !doc.value.is_object() {
            return Err(r.err(
                &[],
                "expected a mapping with apiVersion, kind, metadata and spec",
            ));
        }
        let api = r.string(&["apiVersion"], true)?.unwrap_or_default();
        if api != "pave.dev/v1alpha1" {
            return Err(r.err(
                &["apiVersion"],
                format!("unsupported apiVersion `{api}` (expected pave.dev/v1alpha1)"),
            ));
        }
        let kind = r.string(&["kind"], true)?.unwrap_or_default();
        if kind != "Template" {
            return Err(r.err(&["kind"], format!("kind must be Template, not `{kind}`")));
        }
        let name = r.string(&["metadata", "name"], true)?.unwrap_or_default();
        if !valid_name(&name) {
            return Err(r.err(
                &["metadata", "name"],
                format!("invalid template name `{name}`: use lower-case letters, digits and `-`"),
            ));
        }
        let version_text = match r.get(&["spec", "version"]) {
            Some(Value::Number(n)) => n.to_string(),
            _ => r.string(&["spec", "version"], true)?.unwrap_or_default(),
        };
        let version = parse_version(&version_text).ok_or_else(|| {
            r.err(
                &["spec", "version"],
                format!("`{version_text}` is not a semantic version (like 1.2.3)"),
            )
        })?;
        let parameters = match r.get(&["spec", "parameters"]) {
            None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
            Some(schema @ Value::Object(map)) => {
                if map.get("type").and_then(Value::as_str) != Some("object") {
                    return Err(r.err(
                        &["spec", "parameters"],
                        "spec.parameters must be a JSON Schema with `type: object`",
                    ));
                }
                if let Err(e) = jsonschema::draft202012::new(schema) {
                    return Err(r.err(
                        &["spec", "parameters"],
                        format!("spec.parameters is not a valid JSON Schema: {e}"),
                    ));
                }
                schema.clone()
            }
            Some(_) => {
                return Err(r.err(
                    &["spec", "parameters"],
                    "spec.parameters must be a mapping (a JSON Schema)",
                ));
            }
        };
        let copy = r.strings(&["spec", "files", "copy"])?;
        for (i, glob) in copy.iter().enumerate() {
            if let Err(e) = globset::Glob::new(glob) {
                return Err(r.err(
                    &["spec", "files", "copy", &i.to_string()],
                    format!("invalid glob `{glob}`: {e}"),
                ));
            }
        }
        let mut conditions = Vec::new();
        match r.get(&["spec", "files", "conditions"]) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for i in 0..items.len() {
                    let index = i.to_string();
                    let base = ["spec", "files", "conditions", index.as_str()];
                    let expression = r
                        .string(&[&base[..], &["if"]].concat(), true)?
                        .unwrap_or_default();
                    let env = minijinja::Environment::new();
                    if let Err(e) = env.compile_expression(&expression) {
                        return Err(r.err(
                            &[&base[..], &["if"]].concat(),
                            format!("invalid expression `{expression}`: {e}"),
                        ));
                    }
                    let paths = r.strings(&[&base[..], &["paths"]].concat())?;
                    for (j, glob) in paths.iter().enumerate() {
                        if let Err(e) = globset::Glob::new(glob) {
                            return Err(r.err(
                                &[&base[..], &["paths", &j.to_string()]].concat(),
                                format!("invalid glob `{glob}`: {e}"),
                            ));
                        }
                    }
                    conditions.push(Condition { expression, paths });
                }
            }
            Some(_) => {
                return Err(r.err(
                    &["spec", "files", "conditions"],
                    "spec.files.conditions must be a list of {if, paths}",
                ));
            }
        }
        Ok(Manifest {
            name,
            title: r.string(&["metadata", "title"], false)?,
            description: r.string(&["metadata", "description"], false)?,
            tags: r.strings(&["metadata", "tags"])?,
            version,
            kind: r.string(&["spec", "type"], false)?,
            parameters,
            copy,
            conditions,
        })
    }

    /// The schema's `properties` (empty when there are none).
    pub fn properties(&self) -> Map<String, Value> {
        self.parameters
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// The schema's `required` names.
    pub fn required(&self) -> Vec<String> {
        self.parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `[a-z0-9-]+`, not starting or ending with `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// `1.2.3` or `v1.2.3`.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: pave.dev/v1alpha1
kind: Template
metadata:
  name: demo
  title: Demo
spec:
  version: 1.2.0
  parameters:
    type: object
    required: [name]
    properties:
      name: {type: string}
      port: {type: integer, default: 8080}
  files:
    copy: ['**/*.png']
    conditions:
      - if: \"ci != 'gitlab'\"
        paths: ['.github/**']
";

    #[test]
    fn parses_a_manifest() {
        let m = Manifest::parse(GOOD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.name, "demo");
        assert_eq!(m.version, semver::Version::new(1, 2, 0));
        assert_eq!(m.required(), ["name"]);
        assert_eq!(m.copy, ["**/*.png"]);
        assert_eq!(m.conditions[0].expression, "ci != 'gitlab'");
    }

    #[test]
    fn errors_carry_positions() {
        let bad = GOOD.replace("version: 1.2.0", "version: one");
        let e = Manifest::parse(&bad).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("template.yaml:7:3: `one` is not a semantic version (like 1.2.3)")
        );
        let bad = GOOD.replace("name: demo", "name: Demo_X");
        let e = Manifest::parse(&bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("template.yaml:4:3: invalid template name"),
            "{e}"
        );
        let bad = GOOD.replace("if: \"ci != 'gitlab'\"", "if: \"ci ==\"");
        let e = Manifest::parse(&bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("template.yaml:17:9: invalid expression"),
            "{e}"
        );
        let bad = GOOD.replace("type: object\n    required", "type: array\n    required");
        let e = Manifest::parse(&bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("type: object"), "{e}");
        let e = Manifest::parse("a: [")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("template.yaml:2:1: invalid YAML"), "{e}");
    }
}
