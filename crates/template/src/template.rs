//! A template held in memory: the manifest and the skeleton's files.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_FILE, Manifest};

/// The skeleton folder inside a template.
pub const SKELETON_DIR: &str = "skeleton";

/// One file of a template's skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    pub contents: Vec<u8>,
    /// The file had an executable bit (rendered files keep it).
    pub executable: bool,
}

/// A whole template in memory. Sources ([`crate::source`]) build it from a folder, a git
/// commit or the binary; rendering needs nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub manifest: Manifest,
    /// Skeleton files by path relative to `skeleton/`, `/`-separated.
    pub files: BTreeMap<String, TemplateFile>,
}

impl Template {
    /// Builds a template from its files: `template.yaml` and `skeleton/…`, paths relative to
    /// the template folder and `/`-separated. Other files (a README, tests) are ignored.
    pub fn from_files(files: impl IntoIterator<Item = (String, TemplateFile)>) -> Result<Template> {
        let mut manifest = None;
        let mut skeleton = BTreeMap::new();
        for (path, file) in files {
            if path == MANIFEST_FILE {
                let text = String::from_utf8(file.contents)
                    .map_err(|_| Error::manifest(MANIFEST_FILE, None, "not UTF-8 text"))?;
                manifest = Some(Manifest::parse(&text)?);
            } else if let Some(rel) = path
                .strip_prefix(SKELETON_DIR)
                .and_then(|p| p.strip_prefix('/'))
            {
                check_skeleton_path(rel).map_err(|reason| Error::UnsafePath {
                    path: path.clone(),
                    reason,
                })?;
                skeleton.insert(rel.to_owned(), file);
            }
        }
        let manifest =
            manifest.ok_or_else(|| Error::Source(format!("no {MANIFEST_FILE} in the template")))?;
        Ok(Template {
            manifest,
            files: skeleton,
        })
    }
}

/// A skeleton path before rendering: components may be expressions (with `/` inside).
fn check_skeleton_path(path: &str) -> std::result::Result<(), String> {
    let parts = crate::render::split_outside_tags(path);
    if parts.iter().any(|p| p.contains("{{") || p.contains("{%")) {
        // Checked again after rendering.
        if parts.iter().any(|p| matches!(*p, "" | "." | "..")) || path.starts_with('/') {
            return Err("`..`, `.` and empty path components are not allowed".into());
        }
        return Ok(());
    }
    check_relative(path)
}

/// A relative `/`-separated path with no empty, `.` or `..` components and no backslashes.
pub(crate) fn check_relative(path: &str) -> std::result::Result<(), String> {
    if path.starts_with('/') || path.contains('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err("absolute paths are not allowed".into());
    }
    for part in path.split('/') {
        match part {
            "" | "." => return Err("empty or `.` path components are not allowed".into()),
            ".." => return Err("`..` would escape the destination".into()),
            ".git" => return Err("pave never writes into `.git`".into()),
            _ if part.contains('\0') => return Err("NUL in a path".into()),
            _ => {}
        }
    }
    Ok(())
}
