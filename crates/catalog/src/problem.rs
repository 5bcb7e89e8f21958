//! Problems found while processing an entity.

use std::fmt;

use pave_yaml::PathSegment;

/// How bad a problem is: errors reject the entity, warnings keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// The processing step that found a problem (the steps Backstage's orchestrator runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The envelope: an object with apiVersion, kind and metadata.
    Envelope,
    /// The `catalog.rules` kind allow-list.
    Rules,
    /// `$text` / `$json` / `$yaml` substitution.
    Placeholder,
    /// Field formats: names, namespaces, labels, annotations, tags, links, root fields.
    Policy,
    /// The kind's own schema (required spec fields and their types).
    Kind,
    /// Entity references in spec fields, turned into relations.
    Relations,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Envelope => "envelope",
            Stage::Rules => "rules",
            Stage::Placeholder => "placeholder",
            Stage::Policy => "policy",
            Stage::Kind => "kind",
            Stage::Relations => "relations",
        }
    }
}

/// One finding about one entity. `path` points into the entity document so callers can map it
/// back to a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub stage: Stage,
    pub path: Vec<PathSegment>,
    pub message: String,
}

impl Problem {
    pub fn error(stage: Stage, path: Vec<PathSegment>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            stage,
            path,
            message: message.into(),
        }
    }

    pub fn warning(stage: Stage, path: Vec<PathSegment>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            stage,
            path,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The path in dotted form, `spec.owner` or `metadata.tags.1`.
    pub fn dotted_path(&self) -> String {
        dotted(&self.path)
    }
}

pub(crate) fn dotted(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&seg.to_string());
    }
    out
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Builds a path from string keys: `path(&["spec", "owner"])`.
pub(crate) fn path(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter()
        .map(|k| PathSegment::Key((*k).to_owned()))
        .collect()
}
