//! The one error type of pave-template.

use std::path::PathBuf;

/// Everything that can go wrong loading, rendering, merging or writing a template. Every
/// message names the file (and line, where there is one) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `template.yaml` (or an answers file) is not what it should be: `file:line:column: message`.
    #[error("{file}{}: {message}", position.map(|p| format!(":{p}")).unwrap_or_default())]
    Manifest {
        file: String,
        position: Option<pave_yaml::Position>,
        message: String,
    },
    /// Required parameters without a value (one line each, with its description).
    #[error("missing required parameters (pass them with --set NAME=VALUE or --values FILE):\n{}", .0.join("\n"))]
    MissingParameters(Vec<String>),
    /// Answers that fail the template's JSON Schema (one line per failing parameter).
    #[error("parameters do not satisfy the template's schema:\n{}", .0.join("\n"))]
    InvalidParameters(Vec<String>),
    /// A `--set NAME=VALUE` that cannot be read or converted.
    #[error("--set {arg}: {message}")]
    Set { arg: String, message: String },
    /// A template file that cannot be rendered: `skeleton/README.md:12: message`.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Render {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// A path that would land outside the destination (or somewhere pave never writes).
    #[error("{path}: {reason}")]
    UnsafePath { path: String, reason: String },
    /// The destination exists and is not empty.
    #[error(
        "{}: destination exists and is not empty (use --force to write into it)",
        .0.display()
    )]
    DestinationNotEmpty(PathBuf),
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A git command failed.
    #[error("git {command}: {message}")]
    Git { command: String, message: String },
    /// A template source that cannot be found or used.
    #[error("{0}")]
    Source(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn manifest(
        file: &str,
        position: Option<pave_yaml::Position>,
        message: impl Into<String>,
    ) -> Self {
        Error::Manifest {
            file: file.to_owned(),
            position,
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
