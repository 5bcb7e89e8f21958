//! Reading descriptor files defensively: size limit, binary and encoding checks, hashing.

use std::io::Read;
use std::path::{Path, PathBuf};

use pave_yaml::Position;
use sha2::{Digest, Sha256};

/// Why a file could not be used as text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("file is {size} bytes, over the limit of {limit} bytes (catalog.maxFileBytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("file is binary (it contains NUL bytes), not YAML")]
    Binary { position: Position },
    #[error("file is not valid UTF-8")]
    InvalidUtf8 { position: Position },
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    pub(crate) fn position(&self) -> Option<Position> {
        match self {
            ReadError::Binary { position } | ReadError::InvalidUtf8 { position } => Some(*position),
            _ => None,
        }
    }
}

/// A file read as text, with its content hash.
#[derive(Debug)]
pub(crate) struct TextFile {
    pub(crate) text: String,
    pub(crate) hash: String,
}

pub(crate) fn hash_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Reads `path` as UTF-8 text of at most `limit` bytes.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<TextFile, ReadError> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Read at most one byte past the limit, in case the file grew since `metadata`.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    let hash = hash_bytes(&bytes);
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        return Err(ReadError::Binary {
            position: position_of(&bytes, nul),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ReadError::InvalidUtf8 {
            position: position_of(e.as_bytes(), at),
        }
    })?;
    // A byte-order mark is not content.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    Ok(TextFile { text, hash })
}

/// The 1-based line and column of byte `offset`.
fn position_of(bytes: &[u8], offset: usize) -> Position {
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
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// Resolves `target` against `base_dir` without touching the file system: `..` and `.` are
/// folded lexically so a path that escapes the root is caught even if it does not exist.
pub fn resolve_lexically(base_dir: &Path, target: &str) -> PathBuf {
    let joined = base_dir.join(target);
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_large_binary_and_non_utf8_files_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "a: b\n".repeat(100)).unwrap();
        assert!(matches!(
            read_text(&big, 10),
            Err(ReadError::TooLarge {
                size: 500,
                limit: 10
            })
        ));

        let bin = dir.path().join("bin.yaml");
        std::fs::write(&bin, b"a: 1\nb: \x00\x01").unwrap();
        let err = read_text(&bin, 1000).unwrap_err();
        assert_eq!(err.position(), Some(Position { line: 2, column: 4 }));

        let latin1 = dir.path().join("latin1.yaml");
        std::fs::write(&latin1, b"name: caf\xe9\n").unwrap();
        let err = read_text(&latin1, 1000).unwrap_err();
        assert!(matches!(err, ReadError::InvalidUtf8 { .. }));
        assert_eq!(
            err.position(),
            Some(Position {
                line: 1,
                column: 10
            })
        );

        let ok = dir.path().join("ok.yaml");
        std::fs::write(&ok, "\u{feff}a: é\n").unwrap();
        let file = read_text(&ok, 1000).unwrap();
        assert_eq!(file.text, "a: é\n");
        assert_eq!(file.hash.len(), 64);
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
