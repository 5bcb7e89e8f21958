//! Writing rendered trees and update plans. Everything is computed before the first write.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::merge::UpdatePlan;
use crate::render::Rendered;
use crate::template::check_relative;

/// Writes a fresh render to `dest`. A missing or empty `dest` is filled in a temp folder
/// beside it, then renamed into place: never half-written. A non-empty `dest` is refused
/// unless `force`; then each file is written (temp file + rename) over what is there.
pub fn write_new(dest: &Path, files: &Rendered, force: bool) -> Result<()> {
    for path in files.keys() {
        check_relative(path).map_err(|reason| Error::UnsafePath {
            path: path.clone(),
            reason,
        })?;
    }
    let state = match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(dest, e)),
        Ok(m) if m.is_dir() => Some(
            std::fs::read_dir(dest)
                .map_err(|e| Error::io(dest, e))?
                .next()
                .is_none(),
        ),
        Ok(_) => {
            return Err(Error::UnsafePath {
                path: dest.display().to_string(),
                reason: "the destination exists and is not a folder".into(),
            });
        }
    };
    match state {
        Some(false) if !force => Err(Error::DestinationNotEmpty(dest.to_path_buf())),
        Some(false) => {
            // Every path is checked before the first write.
            let root = dest.canonicalize().map_err(|e| Error::io(dest, e))?;
            for path in files.keys() {
                inside(&root, path)?;
            }
            for (path, file) in files {
                write_file(dest, path, &file.contents, file.executable)?;
            }
            Ok(())
        }
        empty => {
            let parent = match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
            let tmp = tempfile::Builder::new()
                .prefix(".pave-new-")
                .tempdir_in(&parent)
                .map_err(|e| Error::io(&parent, e))?;
            for (path, file) in files {
                let target = tmp.path().join(path);
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                std::fs::write(&target, &file.contents).map_err(|e| Error::io(&target, e))?;
                set_executable(&target, file.executable)?;
            }
            set_dir_mode(tmp.path())?;
            if empty == Some(true) {
                std::fs::remove_dir(dest).map_err(|e| Error::io(dest, e))?;
            }
            let tmp = tmp.keep();
            std::fs::rename(&tmp, dest).map_err(|e| {
                let _ = std::fs::remove_dir_all(&tmp);
                Error::io(dest, e)
            })?;
            Ok(())
        }
    }
}

/// The working tree's version of each path (`None`: absent). Paths whose parent is a
/// symbolic link leading out of `dir` are refused.
pub fn read_tree<'a>(
    dir: &Path,
    paths: impl IntoIterator<Item = &'a String>,
) -> Result<BTreeMap<String, Option<Vec<u8>>>> {
    let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let mut out = BTreeMap::new();
    for path in paths {
        let full = inside(&root, path)?;
        let value = match std::fs::read(&full) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                return Err(Error::UnsafePath {
                    path: path.clone(),
                    reason: "a folder in the working tree where the template has a file".into(),
                });
            }
            Err(e) => return Err(Error::io(&full, e)),
        };
        out.insert(path.clone(), value);
    }
    Ok(out)
}

/// Writes an update plan into `dir`: each file through a temp file and a rename.
pub fn apply_plan(dir: &Path, plan: &UpdatePlan) -> Result<()> {
    for change in plan.changes.iter().filter(|c| c.action.writes()) {
        match &change.after {
            Some(contents) => write_file(dir, &change.path, contents, change.executable)?,
            None => {
                let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
                let full = inside(&root, &change.path)?;
                match std::fs::remove_file(&full) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&full, e)),
                }
            }
        }
        if let Some(theirs) = &change.theirs_copy {
            write_file(dir, &format!("{}.theirs", change.path), theirs, false)?;
        }
    }
    Ok(())
}

/// `root/path`, refusing paths that escape `root` lexically or through a linked folder.
fn inside(root: &Path, path: &str) -> Result<PathBuf> {
    check_relative(path).map_err(|reason| Error::UnsafePath {
        path: path.to_owned(),
        reason,
    })?;
    let full = root.join(path);
    let mut dir = full.parent();
    while let Some(d) = dir {
        if let Ok(real) = d.canonicalize() {
            if !real.starts_with(root) {
                return Err(Error::UnsafePath {
                    path: path.to_owned(),
                    reason: format!(
                        "{} is a link leading outside {}",
                        d.display(),
                        root.display()
                    ),
                });
            }
            break;
        }
        dir = d.parent();
    }
    if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::UnsafePath {
            path: path.to_owned(),
            reason: "is a symbolic link; pave does not write through links".into(),
        });
    }
    Ok(full)
}

fn write_file(dir: &Path, path: &str, contents: &[u8], executable: bool) -> Result<()> {
    let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let full = inside(&root, path)?;
    let parent = full.parent().unwrap_or(&root);
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    // Re-check now that the folders exist.
    inside(&root, path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pave-")
        .tempfile_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    std::io::Write::write_all(&mut tmp, contents).map_err(|e| Error::io(tmp.path(), e))?;
    set_executable(tmp.path(), executable)?;
    tmp.persist(&full).map_err(|e| Error::io(&full, e.error))?;
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(path, e))
}

/// Temp folders are private (0700); a generated repository is not.
#[cfg(unix)]
fn set_dir_mode(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_dir_mode(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_: &Path, _: bool) -> Result<()> {
    Ok(())
}
