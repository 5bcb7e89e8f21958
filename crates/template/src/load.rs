//! Reading a template folder from disk into a [`Template`], with the symlink and size
//! defences.

use std::path::Path;

use crate::error::{Error, Result};
use crate::template::{SKELETON_DIR, Template, TemplateFile};

/// Largest file a skeleton may hold.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most files a skeleton may hold.
pub(crate) const MAX_FILES: usize = 20_000;

/// Reads `template.yaml` and `skeleton/` under `root`. Symbolic links are followed only when
/// they stay inside the template folder; anything else is refused before rendering starts.
pub fn load_dir(root: &Path) -> Result<Template> {
    let canonical_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let manifest_path = root.join(crate::MANIFEST_FILE);
    let manifest = read_file(&canonical_root, &manifest_path, crate::MANIFEST_FILE)?;
    let mut files = vec![(crate::MANIFEST_FILE.to_owned(), manifest)];
    let skeleton = root.join(SKELETON_DIR);
    if skeleton.is_dir() {
        for entry in walkdir::WalkDir::new(&skeleton)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| skeleton.clone());
                Error::io(
                    path,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed")),
                )
            })?;
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(root).map_err(|_| {
                Error::Source(format!("{}: outside the template", entry.path().display()))
            })?;
            let rel = rel
                .to_str()
                .ok_or_else(|| {
                    Error::Source(format!(
                        "{}: file names must be UTF-8",
                        entry.path().display()
                    ))
                })?
                .replace(std::path::MAIN_SEPARATOR, "/");
            if files.len() > MAX_FILES {
                return Err(Error::Source(format!(
                    "{}: more than {MAX_FILES} files",
                    skeleton.display()
                )));
            }
            let file = read_file(&canonical_root, entry.path(), &rel)?;
            files.push((rel, file));
        }
    }
    Template::from_files(files)
}

fn read_file(root: &Path, path: &Path, rel: &str) -> Result<TemplateFile> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.file_type().is_symlink() {
        let target = path.canonicalize().map_err(|_| Error::UnsafePath {
            path: rel.to_owned(),
            reason: "a symbolic link whose target does not exist".into(),
        })?;
        if !target.starts_with(root) {
            return Err(Error::UnsafePath {
                path: rel.to_owned(),
                reason: format!(
                    "a symbolic link pointing outside the template (to {})",
                    target.display()
                ),
            });
        }
        if target.is_dir() {
            return Err(Error::UnsafePath {
                path: rel.to_owned(),
                reason: "symbolic links to directories are not supported".into(),
            });
        }
    } else if !meta.is_file() {
        return Err(Error::UnsafePath {
            path: rel.to_owned(),
            reason: "not a regular file".into(),
        });
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let contents = pave_fs::read_bounded(path, MAX_FILE_BYTES).map_err(|e| match e {
        pave_fs::ReadError::TooLarge { .. } => {
            Error::Source(format!("{rel}: larger than {MAX_FILE_BYTES} bytes"))
        }
        e => Error::Source(format!("{rel}: {e}")),
    })?;
    Ok(TemplateFile {
        contents,
        executable: is_executable(&meta),
    })
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}
