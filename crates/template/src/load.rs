//! Reading a template folder from disk into a [`Template`], with the symlink and size
//! defences.

use std::path::Path;

use crate::error::{Error, Result};
use crate::template::{SKELETON_DIR, Template, TemplateFile};

/// Largest file a skeleton may hold.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most files a skeleton may hold.
pub(crate) const MAX_FILES: usize = 20_000;

/// How much of a folder [`load_dir_within`] reads at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Skeleton files.
    pub max_files: usize,
    /// Bytes of one file.
    pub max_file_bytes: u64,
    /// Bytes of every file together (`template.yaml` included).
    pub max_total_bytes: u64,
}

impl Default for LoadLimits {
    /// The CLI's: a template on one's own machine is trusted to be as large as it is.
    fn default() -> Self {
        LoadLimits {
            max_files: MAX_FILES,
            max_file_bytes: MAX_FILE_BYTES,
            max_total_bytes: u64::MAX,
        }
    }
}

/// Reads `template.yaml` and `skeleton/` under `root`. Symbolic links are followed only when
/// they stay inside the template folder; anything else is refused before rendering starts.
pub fn load_dir(root: &Path) -> Result<Template> {
    load_dir_within(root, &LoadLimits::default())
}

/// [`load_dir`] within `limits`: a server reading templates that others registered stops
/// at the first file past them instead of reading the whole folder.
pub fn load_dir_within(root: &Path, limits: &LoadLimits) -> Result<Template> {
    let canonical_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let manifest_path = root.join(crate::MANIFEST_FILE);
    let manifest = read_file(
        &canonical_root,
        &manifest_path,
        crate::MANIFEST_FILE,
        limits.max_file_bytes,
    )?;
    let mut total = manifest.contents.len() as u64;
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
            if files.len() > limits.max_files {
                return Err(Error::Source(format!(
                    "{}: more than {} files",
                    skeleton.display(),
                    limits.max_files
                )));
            }
            let file = read_file(&canonical_root, entry.path(), &rel, limits.max_file_bytes)?;
            total = total.saturating_add(file.contents.len() as u64);
            if total > limits.max_total_bytes {
                return Err(Error::Source(format!(
                    "{SKELETON_DIR}: more than {} bytes in all",
                    limits.max_total_bytes
                )));
            }
            files.push((rel, file));
        }
    }
    Template::from_files(files)
}

fn read_file(root: &Path, path: &Path, rel: &str, max_bytes: u64) -> Result<TemplateFile> {
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
    let contents = pave_fs::read_bounded(path, max_bytes).map_err(|e| match e {
        pave_fs::ReadError::TooLarge { .. } => {
            Error::Source(format!("{rel}: larger than {max_bytes} bytes"))
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
