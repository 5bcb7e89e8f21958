//! What can be wrong with a postmortem file, and where.

use std::fmt;

use pave_yaml::{Position, YamlError};
use serde::{Serialize, Serializer};

use super::day::Day;

/// One thing wrong with a postmortem file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    #[error(
        "no front matter: a postmortem starts with a `---` line, then its YAML fields, then another `---` line"
    )]
    MissingFrontMatter,
    #[error("the front matter opened here is never closed by a `---` line")]
    UnterminatedFrontMatter,
    #[error("the front matter is larger than {limit} bytes")]
    FrontMatterTooLarge { limit: usize },
    #[error("the Markdown body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error(transparent)]
    Yaml(YamlError),
    #[error("the front matter holds more than one YAML document")]
    SeveralDocuments,
    #[error("{what} must be a mapping of fields (`title: …`), not {found}")]
    NotAMapping {
        what: &'static str,
        found: &'static str,
    },
    #[error("missing required field `{field}`{hint}")]
    MissingField {
        field: &'static str,
        hint: &'static str,
    },
    #[error("unknown field `{key}`{}", did_you_mean(*.suggestion))]
    UnknownField {
        key: String,
        suggestion: Option<&'static str>,
    },
    #[error("`{field}` must be {expected}, not {found}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("`{field}` must not be empty")]
    Empty { field: &'static str },
    #[error(
        "`{field}`: {value} is not a date; write YYYY-MM-DD (2026-11-02) or an RFC 3339 time (2026-11-02T14:30:00Z)"
    )]
    BadDate { field: &'static str, value: String },
    #[error(
        "`status`: {value} is not a status; use open, in-progress, done or wontfix{}",
        did_you_mean(*.suggestion)
    )]
    BadStatus {
        value: String,
        suggestion: Option<&'static str>,
    },
    #[error("`severity` must be a whole number from 1 (most severe) to 5, not {value}")]
    BadSeverity { value: String },
    #[error(
        "`{field}`: {value} is not an entity reference; write kind:namespace/name or kind:name, e.g. group:default/payments"
    )]
    BadReference { field: &'static str, value: String },
    #[error("`link`: {value} is not an http:// or https:// URL")]
    BadLink { value: String },
    #[error(
        "the action has neither `status` nor `link`: give its status (open, in-progress, done, wontfix) or a link to the tracker that has it"
    )]
    MissingStatus,
    #[error("status `{status}` needs a `closed` date (the day the action was closed)")]
    MissingClosed { status: &'static str },
    #[error("`closed` is only for actions that are done or wontfix; this one's status is {status}")]
    ClosedWhileOpen { status: &'static str },
    #[error("`closed` ({closed}) is before the postmortem's `date` ({date})")]
    ClosedBeforeDate { closed: Day, date: Day },
    #[error("an incident id must be text, not {found} (quote ids such as \"812\")")]
    BadIncidentId { found: &'static str },
    #[error("incident `{id}` is listed more than once")]
    DuplicateIncident { id: String },
    #[error("{count} more problems not listed (at most {limit} are)")]
    LeftOut { count: usize, limit: usize },
    #[error("{count} {field}: at most {limit} are allowed")]
    TooMany {
        field: &'static str,
        count: usize,
        limit: usize,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}

impl Problem {
    /// A stable, kebab-case name for the kind of problem (for the API and for filtering).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::MissingFrontMatter => "missing-front-matter",
            Problem::UnterminatedFrontMatter => "unterminated-front-matter",
            Problem::FrontMatterTooLarge { .. } => "front-matter-too-large",
            Problem::BodyTooLarge { .. } => "body-too-large",
            Problem::Yaml(_) => "invalid-yaml",
            Problem::SeveralDocuments => "several-documents",
            Problem::NotAMapping { .. } => "not-a-mapping",
            Problem::MissingField { .. } => "missing-field",
            Problem::UnknownField { .. } => "unknown-field",
            Problem::WrongType { .. } => "wrong-type",
            Problem::Empty { .. } => "empty",
            Problem::BadDate { .. } => "bad-date",
            Problem::BadStatus { .. } => "bad-status",
            Problem::BadSeverity { .. } => "bad-severity",
            Problem::BadReference { .. } => "bad-reference",
            Problem::BadLink { .. } => "bad-link",
            Problem::MissingStatus => "missing-status",
            Problem::MissingClosed { .. } => "missing-closed",
            Problem::ClosedWhileOpen { .. } => "closed-while-open",
            Problem::ClosedBeforeDate { .. } => "closed-before-date",
            Problem::BadIncidentId { .. } => "bad-incident-id",
            Problem::DuplicateIncident { .. } => "duplicate-incident",
            Problem::LeftOut { .. } => "left-out",
            Problem::TooMany { .. } => "too-many",
        }
    }
}

/// A [`Problem`] at a line and column of the file (1-based, counted over the whole file,
/// the opening `---` being line 1; columns count characters).
///
/// A wrong value is pointed at where the value starts when it is on its key's line, else at
/// the key; a missing field at the mapping that lacks it (line 1 for the front matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub position: Position,
    /// Where in the front matter, dotted (`actions.1.owner`); empty for the file as a whole.
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.problem)
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            line: u32,
            column: u32,
            path: &'a str,
            code: &'static str,
            message: String,
        }
        Json {
            line: self.position.line,
            column: self.position.column,
            path: &self.path,
            code: self.problem.code(),
            message: self.problem.to_string(),
        }
        .serialize(serializer)
    }
}

/// A postmortem file that could not be read: every problem found in it, in file order, as a
/// linter reports them (not only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{}", self.render())]
pub struct PostmortemError {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl PostmortemError {
    /// One `file:line:column: message` line per diagnostic.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, diagnostic) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{}:{diagnostic}", self.file));
        }
        out
    }
}
