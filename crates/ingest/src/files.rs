//! Reading descriptor files defensively: size limit, binary and encoding checks, hashing.

use std::path::Path;

use pave_yaml::Position;
use sha2::{Digest, Sha256};

/// Why a file could not be used as text: [`pave_fs::ReadError`] with the ingestion's setting
/// named when the size limit is the reason.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("{0} (catalog.maxFileBytes)")]
    TooLarge(#[source] pave_fs::ReadError),
    #[error(transparent)]
    File(pave_fs::ReadError),
}

impl From<pave_fs::ReadError> for ReadError {
    fn from(e: pave_fs::ReadError) -> Self {
        match e {
            e @ pave_fs::ReadError::TooLarge { .. } => ReadError::TooLarge(e),
            e => ReadError::File(e),
        }
    }
}

impl ReadError {
    pub(crate) fn position(&self) -> Option<Position> {
        match self {
            ReadError::File(e) => e.position().map(|p| Position {
                line: p.line,
                column: p.column,
            }),
            ReadError::TooLarge(_) => None,
        }
    }

    /// The underlying read error (the setting's name is only for catalog diagnostics).
    pub(crate) fn into_fs(self) -> pave_fs::ReadError {
        match self {
            ReadError::TooLarge(e) | ReadError::File(e) => e,
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

pub(crate) use pave_stdx::hex;

/// Reads `path` as UTF-8 text of at most `limit` bytes, hashing the bytes as read.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<TextFile, ReadError> {
    let bytes = pave_fs::read_bounded(path, limit)?;
    let hash = hash_bytes(&bytes);
    let text = pave_fs::into_text(bytes)?;
    Ok(TextFile { text, hash })
}

pub use pave_fs::resolve_lexically;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_large_binary_and_non_utf8_files_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "a: b\n".repeat(100)).unwrap();
        let err = read_text(&big, 10).unwrap_err();
        assert!(matches!(
            err,
            ReadError::TooLarge(pave_fs::ReadError::TooLarge {
                size: 500,
                limit: 10
            })
        ));
        assert!(err.to_string().ends_with("(catalog.maxFileBytes)"), "{err}");

        let bin = dir.path().join("bin.yaml");
        std::fs::write(&bin, b"a: 1\nb: \x00\x01").unwrap();
        let err = read_text(&bin, 1000).unwrap_err();
        assert_eq!(err.position(), Some(Position { line: 2, column: 4 }));

        let latin1 = dir.path().join("latin1.yaml");
        std::fs::write(&latin1, b"name: caf\xe9\n").unwrap();
        let err = read_text(&latin1, 1000).unwrap_err();
        assert!(matches!(
            err,
            ReadError::File(pave_fs::ReadError::InvalidUtf8 { .. })
        ));
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
}
