//! Renders a [`pave_policy::Report`] for people and machines: human text, JSON, SARIF 2.1.0
//! (GitHub code scanning), JUnit XML (CI test reports) and GitHub Actions workflow commands.
//!
//! Pure functions, no I/O: the caller decides colour (TTY, `NO_COLOR`), passes the working
//! directory and repository root it found, and writes the returned string.
//!
//! ```
//! use pave_policy_output::{Format, RenderOptions, render};
//! # let report = pave_policy::Report {
//! #     profile: "recommended".into(), fail_on: pave_policy::Severity::Medium,
//! #     findings: vec![], rules: vec![], errors: vec![], checked: vec![],
//! # };
//! let format = Format::parse("sarif").unwrap();
//! let mut options = RenderOptions::default();
//! options.tool_version = "1.2.3".into();
//! let sarif = render(&report, format, &options);
//! assert!(sarif.contains("\"version\": \"2.1.0\""));
//! ```
//!
//! # Levels
//!
//! Every severity and status mapping lives in one module (`levels.rs`):
//!
//! | severity | SARIF rule level | `security-severity` |
//! |----------|------------------|---------------------|
//! | critical | error            | 9.5                 |
//! | high     | error            | 8.0                 |
//! | medium   | warning          | 5.5                 |
//! | low      | warning          | 3.0                 |
//! | info     | note             | 1.0                 |
//!
//! A result's level follows its status: failed → `error`, warning → `warning` (`note` for
//! info), excepted → what it would have been without the exception, plus a suppression.
//! GitHub workflow commands: failed → `::error`, warning → `::warning`, excepted → `::notice`.
//!
//! # JSON (`schemaVersion` 1)
//!
//! One object; every field is always present (`null` when unknown), names are camelCase:
//!
//! - `schemaVersion`: `1`. Bumped only when a field is removed, renamed or changes meaning.
//! - `tool`: `{name: "pave", version}`.
//! - `profile`: `baseline` | `restricted` | `recommended`; `failOn`: the failing severity.
//! - `exitCode`: what `pave check` exits with (0 clean, 1 failed finding, 2 input error).
//! - `summary`: `{files, documents, failed, warnings, excepted, errors}` (counts).
//! - `findings[]`: `{rule, title, severity, status, message, file, line, column, object,
//!   input, exception}` where `severity` is `info|low|medium|high|critical`, `status` is
//!   `failed|warning|excepted`, `object` is `{kind, namespace, name}` or `null`, `exception`
//!   is `{id, owner, reason, expires}` or `null`; `file` is as given on the command line
//!   (relative to the working directory, `-` for stdin).
//! - `errors[]`: inputs that could not be read, `{file, line, column, message}`.
//! - `rules[]`: every rule that ran, `{id, title, severity, source, input, rationale,
//!   remediation, references: {pss, polaris, kubeLinter, kubeScore, checkov[]}}`.
//! - `checked[]`: every document checked, `{file, input, object}`.
//!
//! [`StoredReport::parse`] reads it back (what a pave server keeps for the portal after
//! `pave check --publish`): bounded in size, other schema versions refused, at most
//! [`MAX_KEPT_FINDINGS`] findings kept (the most important) and the rest counted, and the
//! summary checked against the findings.
//!
//! # SARIF
//!
//! One run, tool `pave`, every rule that ran in `tool.driver.rules` (so code scanning can
//! tell "ran and found nothing" and close fixed alerts). URIs are repository-relative with
//! `uriBaseId: "%SRCROOT%"` when [`RenderOptions::repo_root`] is known (else relative to
//! the working directory), forward slashes, percent-encoded; stdin is the URI `stdin`.
//!
//! `partialFingerprints.primaryLocationLineHash` is `<16 hex>:<n>`: the first 64 bits of
//! SHA-256 over (rule id, artifact URI, object kind/namespace/name, message) and `n`, the
//! occurrence of that same hash in the run (1-based). No line numbers or file contents go
//! in, so an alert keeps its identity when unrelated lines move; it changes when the file
//! is renamed, the object is renamed or the message wording changes. The status is not
//! hashed either: adding an exception turns the same alert into a suppressed one.
//!
//! Excepted findings are results with `suppressions: [{kind: "external", status:
//! "accepted", justification}]`. GitHub code scanning does not list `suppressions` among
//! the properties it reads, and users report that such results still open alerts; set
//! [`RenderOptions::omit_excepted_from_sarif`] to leave them out of the upload instead.
//!
//! Input errors are `invocations[0].toolExecutionNotifications`, with
//! `executionSuccessful: false`.
//!
//! # JUnit
//!
//! One `<testsuite>` per file. Test cases: one per finding (name `rule-id Kind/ns/name`,
//! `#2`, `#3`… appended to repeats so names stay unique and stable), one passing case per
//! checked document without findings, and one per input error. Failed findings are
//! `<failure type="severity">`, input errors `<error>`, excepted findings `<skipped>`.
//! Warnings are passing cases with the warning in `<system-out>`: they do not fail the run,
//! and a JUnit failure would turn Jenkins builds unstable and GitLab merge requests red
//! while `pave check` exits 0 (conftest reports warnings as failures because it has no
//! threshold; ours is `failOn`). Test cases carry `file` and `line` attributes, which
//! GitLab and GitHub test reporters use to link to the source.
//!
//! # GitHub workflow commands
//!
//! One command per input error, then per finding, most severe first: GitHub makes
//! annotations of only the first 10 commands of each kind in a step (50 per job), and says
//! nothing about the rest, so a plain line counts what stayed in the log. Then the summary
//! line. Paths are repo-relative as for SARIF, unencoded; stdin findings have no `file`.
//! Human and GitHub output replace control characters from the input (other than newline
//! and tab) with U+FFFD, so checked files cannot drive the terminal.

mod github;
mod human;
mod json;
mod junit;
mod levels;
mod paths;
mod sarif;
mod stored;
mod text;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use pave_policy::Report;

pub use levels::{SarifLevel, result_level, rule_level, security_severity};
pub use stored::{
    MAX_KEPT_ERRORS, MAX_KEPT_FINDINGS, MAX_REPORT_BYTES, Omitted, ReportError, StoredError,
    StoredException, StoredFinding, StoredObject, StoredReport, StoredRule, StoredSummary,
    StoredTool,
};
pub use text::summary_line;

/// The `schemaVersion` of the JSON output.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the tool is documented (SARIF `informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/pave-dev/pave";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Text for a terminal, grouped by file.
    #[default]
    Human,
    /// The report as one JSON object (see the crate docs for its fields).
    Json,
    /// SARIF 2.1.0, as GitHub code scanning accepts it.
    Sarif,
    /// JUnit XML, for CI test report views.
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

impl Format {
    /// The canonical names, for `--format` help.
    pub const NAMES: [&'static str; 5] = ["human", "json", "sarif", "junit", "github"];

    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
    ];

    /// Parses a `--format` value (case-insensitive; `text` is `human`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "human" | "text" => Some(Format::Human),
            "json" => Some(Format::Json),
            "sarif" => Some(Format::Sarif),
            "junit" => Some(Format::Junit),
            "github" => Some(Format::Github),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format {:?} (expected one of: {})",
            self.0,
            Format::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::parse(s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// How to render. Build it from [`RenderOptions::default`] and set what you know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderOptions {
    /// ANSI colour in human output (the caller checks the TTY and `NO_COLOR`).
    pub color: bool,
    /// Human output: also exception reasons, and why/fix/references for every rule with
    /// findings instead of short fixes for failed rules.
    pub verbose: bool,
    /// pave's version, for SARIF and JSON.
    pub tool_version: String,
    /// The absolute directory the report's relative paths are relative to (the working
    /// directory). With [`Self::repo_root`], lets SARIF and GitHub paths be repo-relative.
    pub working_dir: Option<PathBuf>,
    /// The absolute root of the repository being checked.
    pub repo_root: Option<PathBuf>,
    /// SARIF `automationDetails.id` (`category/run-id`), to tell apart several uploads for
    /// the same commit.
    pub automation_id: Option<String>,
    /// SARIF: leave excepted findings out instead of reporting them as suppressed results.
    pub omit_excepted_from_sarif: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            verbose: false,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            working_dir: None,
            repo_root: None,
            automation_id: None,
            omit_excepted_from_sarif: false,
        }
    }
}

/// Renders `report` in `format`. The text ends with a newline.
pub fn render(report: &Report, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Human => human(report, options),
        Format::Json => json(report, options),
        Format::Sarif => sarif(report, options),
        Format::Junit => junit(report, options),
        Format::Github => github(report, options),
    }
}

/// Writes `report` in `format` to `out`: JSON and SARIF are serialized straight into the
/// writer, so a report of 100,000 findings is never held as one string.
pub fn write(
    report: &Report,
    format: Format,
    options: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, options, out),
        Format::Sarif => sarif::write(report, options, out),
        _ => out.write_all(render(report, format, options).as_bytes()),
    }
}

/// Human text: findings grouped by file, input errors, fixes, and a summary line.
pub fn human(report: &Report, options: &RenderOptions) -> String {
    human::render(report, options)
}

/// The report as JSON (`schemaVersion` 1, pretty-printed).
pub fn json(report: &Report, options: &RenderOptions) -> String {
    json::render(report, options)
}

/// The JSON report as a value, for callers that embed it.
pub fn json_value(report: &Report, options: &RenderOptions) -> serde_json::Value {
    json::value(report, options)
}

/// A SARIF 2.1.0 log (pretty-printed).
pub fn sarif(report: &Report, options: &RenderOptions) -> String {
    sarif::render(report, options)
}

/// The SARIF log as a value.
pub fn sarif_value(report: &Report, options: &RenderOptions) -> serde_json::Value {
    sarif::value(report, options)
}

/// JUnit XML.
pub fn junit(report: &Report, options: &RenderOptions) -> String {
    junit::render(report, options)
}

/// GitHub Actions workflow commands, one per line, then the summary line.
pub fn github(report: &Report, options: &RenderOptions) -> String {
    github::render(report, options)
}
