//! Reading policies and `--data` documents from disk, the way conftest (OPA's loader) does.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::RegoError;

/// Policies and data files larger than this are refused (a policy is kilobytes; a data
/// document a few megabytes at most).
const MAX_FILE_BYTES: u64 = 64 << 20;

fn read_text(path: &Path) -> Result<String, RegoError> {
    pave_fs::read_text(path, MAX_FILE_BYTES).map_err(|e| match e {
        pave_fs::ReadError::Binary { .. } | pave_fs::ReadError::InvalidUtf8 { .. } => {
            RegoError::NotUtf8 {
                path: path.to_owned(),
            }
        }
        pave_fs::ReadError::Io(source) => RegoError::Io {
            path: path.to_owned(),
            source,
        },
        other => RegoError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(other.to_string()),
        },
    })
}

/// Directory entries, sorted so that load order (and so namespace order) is stable.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, RegoError> {
    let io = |source| RegoError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

/// `*.rego` files under `paths` (files or directories, recursively), as `(name, source)`.
///
/// Files not ending in `.rego` are skipped even when named directly, as conftest does.
/// `*_test.rego` files are skipped too: conftest's `test` loads them, but only ever queries
/// `deny`/`violation`/`warn` rules, and unit tests call conftest-only builtins
/// (`parse_config`, …) this engine does not have.
pub(crate) fn policy_files(paths: &[PathBuf]) -> Result<Vec<(String, String)>, RegoError> {
    let mut out = Vec::new();
    for path in paths {
        walk_policies(path, &mut out, 0)?;
    }
    Ok(out)
}

fn walk_policies(
    path: &Path,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), RegoError> {
    // Symlink loops would recurse forever; no real policy tree is this deep.
    if depth > 64 {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|source| RegoError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        for entry in entries(path)? {
            walk_policies(&entry, out, depth + 1)?;
        }
        return Ok(());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.ends_with(".rego") && !name.ends_with("_test.rego") {
        out.push((path.to_string_lossy().into_owned(), read_text(path)?));
    }
    Ok(())
}

/// Splits OPA's `prefix:path` form (`k8s.allowed:data/allowed.yaml` loads the file under
/// `data.k8s.allowed`). A one-letter prefix is taken for a Windows drive.
fn split_prefix(path: &Path) -> (Vec<String>, PathBuf) {
    let Some(s) = path.to_str() else {
        return (Vec::new(), path.to_owned());
    };
    if let Some((prefix, rest)) = s.split_once(':')
        && prefix.len() > 1
        && !rest.starts_with("//")
        && prefix
            .split('.')
            .all(|p| !p.is_empty() && !p.contains(['/', '\\']))
    {
        return (
            prefix.split('.').map(str::to_owned).collect(),
            PathBuf::from(rest),
        );
    }
    (Vec::new(), path.to_owned())
}

/// The `data` document from `--data` paths, with OPA's loader semantics (conftest's
/// `LoadWithData`):
///
/// - only `.json`, `.yaml` and `.yml` files are read (others are skipped, even when named);
/// - a file named directly, or directly inside a named directory, is merged at the root of
///   `data`, so its top level must be an object: `services.yaml` holding `services: …` is
///   `data.services`;
/// - files in subdirectories go under the subdirectories' names: `dir/k8s/x.yaml` holding
///   `{a: 1}` is `data.k8s.a`;
/// - `prefix:path` loads under `data.<prefix>`;
/// - documents are deep-merged; two files that set the same non-object key conflict (even
///   with equal values), which is an error;
/// - of a multi-document YAML file only the first document is read.
pub(crate) fn data(paths: &[PathBuf]) -> Result<Map<String, Value>, RegoError> {
    let mut root = Map::new();
    for path in paths {
        let (prefix, path) = split_prefix(path);
        walk_data(&path, &prefix, 0, &mut root)?;
    }
    Ok(root)
}

fn walk_data(
    path: &Path,
    parents: &[String],
    depth: usize,
    root: &mut Map<String, Value>,
) -> Result<(), RegoError> {
    if depth > 64 {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|source| RegoError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        let mut parents = parents.to_vec();
        if depth > 0
            && let Some(name) = path.file_name()
        {
            parents.push(name.to_string_lossy().into_owned());
        }
        for entry in entries(path)? {
            walk_data(&entry, &parents, depth + 1, root)?;
        }
        return Ok(());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let value = match ext.as_deref() {
        Some("json") => serde_json::from_str(&read_text(path)?).map_err(|e| RegoError::Data {
            path: path.to_owned(),
            message: format!("invalid JSON: {e}"),
        })?,
        Some("yaml" | "yml") => {
            // OPA's loader reads YAML with sigs.k8s.io/yaml: YAML 1.1, as Kubernetes does.
            let docs = pave_yaml::parse_documents_as(
                &read_text(path)?,
                &pave_yaml::Limits::default(),
                pave_yaml::Schema::Kubernetes,
            )
            .map_err(|e| RegoError::Data {
                path: path.to_owned(),
                message: format!("{} at {}", e, e.position()),
            })?;
            docs.into_iter().next().map_or(Value::Null, |d| d.value)
        }
        _ => return Ok(()),
    };
    // Wrap the document in its parents: `a.b` and `{x: 1}` make `{a: {b: {x: 1}}}`.
    let wrapped = parents.iter().rev().fold(value, |v, key| {
        Value::Object(Map::from_iter([(key.clone(), v)]))
    });
    let Value::Object(object) = wrapped else {
        return Err(RegoError::Data {
            path: path.to_owned(),
            message: "the top level must be an object (a mapping) to be merged into data".into(),
        });
    };
    merge(root, object, &mut Vec::new()).map_err(|key| RegoError::Data {
        path: path.to_owned(),
        message: format!("data.{key} is already set by another data file"),
    })
}

/// Deep-merges `new` into `into`; a key both set to something other than objects conflicts.
fn merge(
    into: &mut Map<String, Value>,
    new: Map<String, Value>,
    at: &mut Vec<String>,
) -> Result<(), String> {
    for (key, value) in new {
        match (into.get_mut(&key), value) {
            (None, value) => {
                into.insert(key, value);
            }
            (Some(Value::Object(existing)), Value::Object(value)) => {
                at.push(key);
                merge(existing, value, at)?;
                at.pop();
            }
            (Some(_), _) => {
                at.push(key);
                return Err(at.join("."));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefixes_split_like_opa() {
        assert_eq!(
            split_prefix(Path::new("k8s.allowed:data/a.yaml")),
            (
                vec!["k8s".to_owned(), "allowed".to_owned()],
                PathBuf::from("data/a.yaml")
            )
        );
        assert_eq!(
            split_prefix(Path::new("data/a.yaml")),
            (vec![], PathBuf::from("data/a.yaml"))
        );
        assert_eq!(
            split_prefix(Path::new("C:/data/a.yaml")),
            (vec![], PathBuf::from("C:/data/a.yaml"))
        );
    }

    #[test]
    fn merge_conflicts_on_any_shared_leaf() {
        let mut root = Map::new();
        let obj = |v: Value| match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        merge(&mut root, obj(json!({"a": {"x": 1}})), &mut vec![]).unwrap();
        merge(&mut root, obj(json!({"a": {"y": 2}})), &mut vec![]).unwrap();
        assert_eq!(Value::Object(root.clone()), json!({"a": {"x": 1, "y": 2}}));
        assert_eq!(
            merge(&mut root, obj(json!({"a": {"x": 1}})), &mut vec![]),
            Err("a.x".to_owned())
        );
    }
}
