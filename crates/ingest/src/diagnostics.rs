//! Problems found while ingesting, with the file and position they point at.

use std::fmt;

use pave_catalog::{Problem, Severity};
use pave_yaml::Position;
use serde::{Deserialize, Serialize};

/// One reported problem: `file:line:column: error: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file (or source, for problems that are not about one file).
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub severity: DiagnosticSeverity,
    pub message: String,
    /// The entity concerned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticSeverity {
    Error,
    Warning,
}

impl Diagnostic {
    pub fn error(
        file: impl Into<String>,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            severity: DiagnosticSeverity::Error,
            message: message.into(),
            entity_ref: None,
        }
    }

    pub fn warning(
        file: impl Into<String>,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: DiagnosticSeverity::Warning,
            ..Diagnostic::error(file, position, message)
        }
    }

    pub(crate) fn from_problem(
        file: &str,
        position: Option<Position>,
        problem: &Problem,
        entity_ref: Option<String>,
    ) -> Self {
        let mut d = match problem.severity {
            Severity::Error => Diagnostic::error(file, position, problem.message.clone()),
            Severity::Warning => Diagnostic::warning(file, position, problem.message.clone()),
        };
        d.entity_ref = entity_ref;
        d
    }

    pub fn with_entity(mut self, entity_ref: impl Into<String>) -> Self {
        self.entity_ref = Some(entity_ref.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == DiagnosticSeverity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        let level = match self.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
        };
        write!(f, ": {level}: {}", self.message)?;
        if let Some(entity) = &self.entity_ref {
            write!(f, " [{entity}]")?;
        }
        Ok(())
    }
}
