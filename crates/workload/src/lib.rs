//! Score v1b1 workloads → secure-by-default Kubernetes manifests (`pave render`).
//!
//! The pipeline, all in memory and without I/O:
//!
//! 1. [`Workload::parse`] reads a Score file with positions and validates it against the
//!    Score v1b1 specification (errors name `file:line:column`).
//! 2. [`Provisioners`] holds the platform team's provisioner files (`*.provisioners.yaml`,
//!    minijinja templates for outputs and manifests) followed by the built-in defaults.
//! 3. [`render`] resolves every resource through its provisioner, substitutes Score
//!    placeholders exactly as score-go does, and builds the objects of each environment.
//! 4. [`Rendered::layout`] turns the environments into a Kustomize layout (`base/` +
//!    `overlays/<env>/`): the caller writes the files (see `pave render`).
//!
//! Files a Score workload names with `files.<path>.source` are read through [`FileSource`], so
//! the caller decides where they come from.

mod env;
mod layout;
mod placeholder;
mod provision;
mod render;
mod score;

pub use env::{Environment, EnvironmentSettings};
pub use layout::{Layout, MARKER};
pub use placeholder::{Reference, substitute};
pub use provision::{BUILTIN_FILE, Provisioner, Provisioners};
pub use render::{FileSource, NoFiles, RenderOptions, Rendered, RenderedEnvironment, render};
pub use score::{
    Container, Metrics, Resource, RunSettings, ServicePort, Workload, WorkloadKind, is_port_name,
};

pub use pave_yaml::Position;

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub position: Option<Position>,
    pub message: String,
}

/// Why a workload could not be rendered. Every variant names the file it comes from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The Score file is not valid YAML or not a valid Score v1b1 workload.
    #[error("{}", show(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
    /// A provisioner file is malformed, or one of its templates failed.
    #[error("{}", show(file, std::slice::from_ref(problem)))]
    Provisioner { file: String, problem: Problem },
    /// Anything else that stops the render (missing `--image`, a file that cannot be read…).
    #[error("{file}: {message}")]
    Render { file: String, message: String },
}

fn show(file: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| match p.position {
            Some(pos) => format!("{file}:{pos}: {}", p.message),
            None => format!("{file}: {}", p.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
