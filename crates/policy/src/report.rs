//! The outcome of a check: findings with positions and status, the rules involved, and the
//! inputs that could not be read.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::doc::{DocKind, ObjectRef};
use crate::rule::{References, RuleMeta, Severity};

/// What a finding means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At or above the failing threshold.
    Failed,
    /// Below the threshold: reported, does not fail the run.
    Warning,
    /// Covered by an active exception: reported, does not fail the run.
    Excepted,
}

/// The exception that covers a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionRef {
    pub id: String,
    pub owner: String,
    pub reason: String,
    pub expires: String,
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    // Built-in rules' ids and titles are static; a report of 100,000 findings should not
    // allocate them 100,000 times, nor the file name each finding shares with its document.
    pub rule: Cow<'static, str>,
    pub title: Cow<'static, str>,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub file: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Shared by the findings of one document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Arc<ObjectRef>>,
    /// The kind of input, `kubernetes`, `terraform`, …
    pub input: Cow<'static, str>,
    /// Boxed: most findings have none, and a report may hold 800,000 findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Box<ExceptionRef>>,
}

/// A rule as reports describe it (built-in or custom).
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// `builtin` or `rego`.
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub rationale: String,
    pub remediation: String,
    pub references: References,
}

impl RuleInfo {
    pub fn builtin(meta: &RuleMeta, severity: Severity) -> Self {
        RuleInfo {
            id: meta.id.to_owned(),
            title: meta.title.to_owned(),
            severity,
            source: "builtin",
            input: Some(meta.kind.as_str().to_owned()),
            rationale: meta.rationale.to_owned(),
            remediation: meta.remediation.to_owned(),
            references: meta.references,
        }
    }
}

/// An input that could not be read or checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": error: {}", self.message)
    }
}

/// A checked object (for reports that list passes, such as JUnit).
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub file: String,
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub fail_on: Severity,
    pub findings: Vec<Finding>,
    /// Every rule that ran (built-in and custom).
    pub rules: Vec<RuleInfo>,
    pub errors: Vec<InputError>,
    pub checked: Vec<Checked>,
}

/// Totals for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub documents: usize,
    pub failed: usize,
    pub warnings: usize,
    pub excepted: usize,
    pub errors: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let count = |s| self.findings.iter().filter(|f| f.status == s).count();
        Summary {
            documents: self.checked.len(),
            failed: count(Status::Failed),
            warnings: count(Status::Warning),
            excepted: count(Status::Excepted),
            errors: self.errors.len(),
        }
    }

    /// Exit code: 2 when an input could not be read, 1 when a finding fails, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.findings.iter().any(|f| f.status == Status::Failed) {
            1
        } else {
            0
        }
    }

    pub fn input_kinds(&self) -> Vec<DocKind> {
        let mut kinds: Vec<DocKind> = self
            .checked
            .iter()
            .filter_map(|c| DocKind::parse(&c.input))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}
