//! Reading files from sources pave does not control (catalog descriptors, SLO specs, Score
//! files and what they name, templates, policies), one way everywhere: a size bound checked
//! before and while reading, text that must be UTF-8 without NUL bytes (with the line and
//! column of the first bad byte), and paths that must stay inside a root, symbolic links
//! included.
//!
//! uv's `uv-fs` is the model: one small crate instead of a copy of these checks per reader.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// A 1-based line and column (in characters) in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    pub line: u32,
    pub column: u32,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// Shown after the position (`file:line:col: …`), so the message does not repeat it.
    #[error("file is binary (it contains NUL bytes), not text")]
    Binary { position: TextPosition },
    #[error("file is not valid UTF-8")]
    InvalidUtf8 { position: TextPosition },
    #[error("does not exist")]
    NotFound,
    #[error("not a regular file")]
    NotAFile,
    #[error("leads outside {}", root.display())]
    OutsideRoot { root: PathBuf },
    #[error("cannot read it: {0}")]
    Io(#[source] std::io::Error),
}

impl ReadError {
    /// Where in the file the problem is, when it is in the content.
    pub fn position(&self) -> Option<TextPosition> {
        match self {
            ReadError::Binary { position } | ReadError::InvalidUtf8 { position } => Some(*position),
            _ => None,
        }
    }

    fn io(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

/// Why a file that a core crate asked for through a trait seam (a catalog placeholder, a
/// Score `files` source) was not given: refused by the reader's rules, or failed to read.
/// The cause is kept, so callers can tell a refusal from an I/O failure.
#[derive(Debug, thiserror::Error)]
pub enum SeamReadError {
    /// Not allowed: a URL where only files are read, a path that leaves the source.
    #[error("{0}")]
    Refused(String),
    /// Allowed, but reading it failed.
    #[error("{}", describe_read(path, source))]
    Read {
        /// The file as shown.
        path: String,
        #[source]
        source: ReadError,
    },
}

fn describe_read(path: &str, source: &ReadError) -> String {
    match source {
        ReadError::NotFound => format!("{path} does not exist"),
        other => format!("{path}: {other}"),
    }
}

/// Reads at most `limit` bytes of the regular file `path`; a larger file is an error, also
/// when it grows while being read.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Before opening: opening a named pipe (or a device) blocks until a writer comes, which
    // would hold a worker forever.
    if !std::fs::metadata(path).map_err(ReadError::io)?.is_file() {
        return Err(ReadError::NotAFile);
    }
    let file = std::fs::File::open(path).map_err(ReadError::io)?;
    let meta = file.metadata().map_err(ReadError::io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    let size = meta.len();
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // At most one byte past the limit, in case the file grew since `metadata`.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// `bytes` as text: UTF-8 without NUL bytes; a leading byte-order mark is dropped.
pub fn into_text(bytes: Vec<u8>) -> Result<String, ReadError> {
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        return Err(ReadError::Binary {
            position: position_of(&bytes, nul),
        });
    }
    into_utf8(bytes)
}

/// `bytes` as UTF-8 (NUL bytes allowed: for readers whose parser reports them itself, with
/// its own message); a leading byte-order mark is dropped.
pub fn into_utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ReadError::InvalidUtf8 {
            position: position_of(e.as_bytes(), at),
        }
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// [`read_bounded`] then [`into_text`].
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    into_text(read_bounded(path, limit)?)
}

/// Reads `path` (at most `limit` bytes) only if it is inside `root` once every symbolic link
/// is followed: a link inside a repository may not lead to the rest of the machine.
pub fn read_inside(path: &Path, root: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let real = std::fs::canonicalize(path).map_err(ReadError::io)?;
    let real_root = std::fs::canonicalize(root).map_err(ReadError::io)?;
    if !real.starts_with(&real_root) {
        return Err(ReadError::OutsideRoot {
            root: root.to_owned(),
        });
    }
    read_bounded(&real, limit)
}

/// Resolves `target` against `base_dir` without touching the file system: `..` and `.` are
/// folded lexically, so a path that escapes a root is caught even if it does not exist.
pub fn resolve_lexically(base_dir: &Path, target: &str) -> PathBuf {
    let joined = base_dir.join(target);
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The 1-based line and column of byte `offset`.
fn position_of(bytes: &[u8], offset: usize) -> TextPosition {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    TextPosition {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_and_text_problems_have_positions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "ok: 1\n").unwrap();
        assert_eq!(read_text(&file, 6).unwrap(), "ok: 1\n");
        assert!(matches!(
            read_text(&file, 5),
            Err(ReadError::TooLarge { size: 6, limit: 5 })
        ));
        std::fs::write(&file, "a: 1\nbé: \0").unwrap();
        let e = read_text(&file, 100).unwrap_err();
        assert_eq!(e.position(), Some(TextPosition { line: 2, column: 5 }));
        assert!(e.to_string().contains("binary"), "{e}");
        std::fs::write(&file, b"a: \xff").unwrap();
        let e = read_text(&file, 100).unwrap_err();
        assert_eq!(e.position(), Some(TextPosition { line: 1, column: 4 }));
        std::fs::write(&file, "\u{feff}a: 1").unwrap();
        assert_eq!(read_text(&file, 100).unwrap(), "a: 1");
        assert!(matches!(
            read_text(&dir.path().join("none"), 10),
            Err(ReadError::NotFound)
        ));
        assert!(matches!(
            read_text(dir.path(), 10),
            Err(ReadError::NotAFile)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn reads_stay_inside_the_root_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::fs::write(root.join("in.txt"), "i").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
        assert_eq!(read_inside(&root.join("in.txt"), &root, 10).unwrap(), b"i");
        assert!(matches!(
            read_inside(&root.join("link"), &root, 10),
            Err(ReadError::OutsideRoot { .. })
        ));
        assert!(matches!(
            read_inside(&root.join("../secret"), &root, 10),
            Err(ReadError::OutsideRoot { .. })
        ));
    }

    #[test]
    fn lexical_resolution_folds_dots() {
        assert_eq!(
            resolve_lexically(Path::new("/a/b"), "../c/./d.yaml"),
            PathBuf::from("/a/c/d.yaml")
        );
        assert_eq!(
            resolve_lexically(Path::new("/a"), "../../../etc/passwd"),
            PathBuf::from("/etc/passwd")
        );
    }
}
