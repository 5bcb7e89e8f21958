//! Postmortems kept beside catalog files: `docs/postmortems/*.md` in the folder of each
//! catalog file a location's walk read (a service's repository has its `catalog-info.yaml`
//! at the top and its postmortems under `docs/`). Read on every reading of the location,
//! while its git checkout is held, parsed by `pave_dora::postmortem` (the pure core), and
//! handed on in the location's report; files with problems become diagnostics
//! (`file:line:column`) of the location, like catalog files' problems, and never fail the
//! reading.
//!
//! Bounded: at most [`MAX_FILES_PER_FOLDER`] files per folder and [`MAX_FILES_PER_LOCATION`]
//! per location, each at most [`MAX_FILE_BYTES`], and symbolic links may not leave the
//! source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pave_dora::postmortem::{ParseOptions, Postmortem, parse_with};

use crate::diagnostics::Diagnostic;

/// Where postmortems are, relative to a catalog file's folder.
pub const POSTMORTEM_DIR: &str = "docs/postmortems";
/// Files read per `docs/postmortems` folder (by name order); the rest are reported.
pub const MAX_FILES_PER_FOLDER: usize = 500;
/// Files read per location.
pub const MAX_FILES_PER_LOCATION: usize = 2_000;
/// The largest postmortem file: the parser's front matter and body limits, and some.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// The postmortems of one location and the problems met reading them.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) postmortems: Vec<Postmortem>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// Reads the postmortems beside the catalog files of a walk. `files` are the catalog files
/// (their paths on disk) with the entities each produced; `boundary` is the source's root;
/// `shown` turns a path into the name diagnostics use (`git:<url>#<ref>/docs/…` for git).
pub(crate) fn read_beside(
    files: &[(PathBuf, String)],
    boundary: &Path,
    shown: &dyn Fn(&Path) -> String,
) -> Read {
    // Folder → the entities its catalog files produced.
    let mut folders: BTreeMap<PathBuf, Vec<&str>> = BTreeMap::new();
    for (file, entity_ref) in files {
        if let Some(dir) = file.parent() {
            folders
                .entry(dir.to_path_buf())
                .or_default()
                .push(entity_ref);
        }
    }
    let mut out = Read::default();
    let mut budget = MAX_FILES_PER_LOCATION;
    for (dir, entities) in folders {
        let folder = dir.join(POSTMORTEM_DIR);
        if budget == 0 || !folder.is_dir() || !folder.starts_with(boundary) {
            continue;
        }
        let names = match markdown_files(&folder) {
            Ok(names) => names,
            Err(e) => {
                out.diagnostics.push(Diagnostic::warning(
                    shown(&folder),
                    None,
                    format!("postmortems: cannot list the folder: {e}"),
                ));
                continue;
            }
        };
        let limit = MAX_FILES_PER_FOLDER.min(budget);
        if names.len() > limit {
            out.diagnostics.push(Diagnostic::warning(
                shown(&folder),
                None,
                format!(
                    "postmortems: {} files, only the first {limit} (by name) are read",
                    names.len()
                ),
            ));
        }
        let options = ParseOptions {
            default_entity: default_entity(&entities),
            ..ParseOptions::default()
        };
        for path in names.into_iter().take(limit) {
            budget -= 1;
            let name = shown(&path);
            match read_one(&path, boundary, &name, &options) {
                Ok(postmortem) => out.postmortems.push(postmortem),
                Err(mut diagnostics) => out.diagnostics.append(&mut diagnostics),
            }
        }
    }
    out
}

/// The `*.md` files of `folder`, by name.
fn markdown_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let is_markdown = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        // Symbolic links are followed by the reading, which keeps them inside the source.
        if is_markdown && path.is_file() {
            names.push(path);
        }
    }
    names.sort();
    Ok(names)
}

fn read_one(
    path: &Path,
    boundary: &Path,
    name: &str,
    options: &ParseOptions,
) -> Result<Postmortem, Vec<Diagnostic>> {
    use pave_fs::ReadError;
    let text = pave_fs::read_inside(path, boundary, MAX_FILE_BYTES)
        .and_then(pave_fs::into_text)
        .map_err(|e| {
            let position = e.position().map(|p| pave_yaml::Position {
                line: p.line,
                column: p.column,
            });
            let message = match e {
                ReadError::OutsideRoot { .. } => "leads outside the source root".to_owned(),
                e => e.to_string(),
            };
            vec![Diagnostic::error(
                name,
                position,
                format!("postmortem: {message}"),
            )]
        })?;
    parse_with(name, &text, options).map_err(|error| {
        error
            .diagnostics
            .iter()
            .map(|d| {
                let diagnostic =
                    Diagnostic::error(name, Some(d.position), format!("postmortem: {}", d.problem));
                match &options.default_entity {
                    Some(entity) => diagnostic.with_entity(entity.clone()),
                    None => diagnostic,
                }
            })
            .collect()
    })
}

/// The entity a postmortem of this folder is about when its front matter names none: the
/// folder's only Component, else its only System, else none (the postmortem is kept, not
/// attributed to an entity; its actions still count for their owners).
fn default_entity(entities: &[&str]) -> Option<String> {
    for kind in ["component:", "system:"] {
        let found: BTreeSet<&str> = entities
            .iter()
            .copied()
            .filter(|e| e.starts_with(kind))
            .collect();
        if found.len() == 1 {
            return found.into_iter().next().map(str::to_owned);
        }
        if found.len() > 1 {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const VALID: &str = "---\ntitle: Checkout down\nincidents: [INC-1]\ndate: 2026-01-10\nactions:\n  - title: Add an alert\n    owner: group:default/payments\n    due: 2026-01-20\n    status: open\n---\nWhat happened.\n";

    #[test]
    fn reads_beside_catalog_files_with_positions_and_a_default_entity() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let pm = root.join("svc").join(POSTMORTEM_DIR);
        std::fs::create_dir_all(&pm).unwrap();
        std::fs::write(root.join("svc/catalog-info.yaml"), "").unwrap();
        std::fs::write(pm.join("2026-01-10-checkout.md"), VALID).unwrap();
        std::fs::write(
            pm.join("broken.md"),
            "---\ntitle: x\nincidents: []\ndate: 2026-13-01\nactions: []\n---\n",
        )
        .unwrap();
        std::fs::write(pm.join("notes.txt"), "not a postmortem").unwrap();
        let files = vec![
            (
                root.join("svc/catalog-info.yaml"),
                "component:default/checkout".to_owned(),
            ),
            (
                root.join("svc/catalog-info.yaml"),
                "group:default/payments".to_owned(),
            ),
        ];
        let read = read_beside(&files, &root, &|p: &Path| p.display().to_string());
        assert_eq!(read.postmortems.len(), 1, "{:?}", read.diagnostics);
        let postmortem = &read.postmortems[0];
        assert_eq!(
            postmortem.entity.as_deref(),
            Some("component:default/checkout")
        );
        assert!(postmortem.file.ends_with("2026-01-10-checkout.md"));
        assert_eq!(read.diagnostics.len(), 1, "{:?}", read.diagnostics);
        let d = &read.diagnostics[0];
        assert!(d.file.ends_with("broken.md"), "{d}");
        assert_eq!((d.line, d.column), (Some(4), Some(7)), "{d}");
        assert!(d.is_error() && d.message.contains("not a date"), "{d}");
    }

    #[test]
    fn a_link_leaving_the_source_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let source = root.join("repo");
        let pm = source.join(POSTMORTEM_DIR);
        std::fs::create_dir_all(&pm).unwrap();
        std::fs::write(root.join("secret.md"), VALID).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("secret.md"), pm.join("x.md")).unwrap();
        let files = vec![(
            source.join("catalog-info.yaml"),
            "component:default/a".to_owned(),
        )];
        let read = read_beside(&files, &source, &|p: &Path| p.display().to_string());
        #[cfg(unix)]
        {
            assert!(read.postmortems.is_empty());
            assert!(
                read.diagnostics[0]
                    .message
                    .contains("outside the source root"),
                "{:?}",
                read.diagnostics
            );
        }
    }

    #[test]
    fn folders_are_read_up_to_their_bound_and_the_rest_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let pm = root.join(POSTMORTEM_DIR);
        std::fs::create_dir_all(&pm).unwrap();
        for i in 0..MAX_FILES_PER_FOLDER + 2 {
            std::fs::write(pm.join(format!("{i:04}.md")), VALID).unwrap();
        }
        let files = vec![(
            root.join("catalog-info.yaml"),
            "component:default/a".to_owned(),
        )];
        let read = read_beside(&files, &root, &|p: &Path| p.display().to_string());
        assert_eq!(read.postmortems.len(), MAX_FILES_PER_FOLDER);
        assert!(
            read.postmortems
                .iter()
                .all(|p| !p.file.ends_with("0500.md"))
        );
        let [warning] = read.diagnostics.as_slice() else {
            panic!("{:?}", read.diagnostics)
        };
        assert!(!warning.is_error());
        assert!(
            warning.message.contains("502 files, only the first 500"),
            "{warning}"
        );
    }

    #[test]
    fn the_default_entity_is_the_only_component_else_the_only_system() {
        assert_eq!(
            default_entity(&["component:default/a", "api:default/a"]),
            Some("component:default/a".into())
        );
        assert_eq!(
            default_entity(&["component:default/a", "component:default/b"]),
            None
        );
        assert_eq!(
            default_entity(&["system:default/s", "group:default/g"]),
            Some("system:default/s".into())
        );
        assert_eq!(default_entity(&["group:default/g"]), None);
    }
}
