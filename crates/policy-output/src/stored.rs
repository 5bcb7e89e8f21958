//! The JSON report read back: what `pave check --publish` sends to a pave server and what
//! the server keeps per catalog entity for the portal's Guardrails tab.
//!
//! The contract is the JSON writer's (`json.rs`, `schemaVersion` 1, documented in the crate
//! docs); this module is its reader, kept beside it so that a change to one shows in the
//! other's tests (a report rendered by [`crate::json`] parses back to what
//! [`StoredReport::from_report`] builds).
//!
//! Reading is bounded: at most [`MAX_REPORT_BYTES`] of text; at most [`MAX_KEPT_FINDINGS`]
//! findings are kept (the most important: failed before warnings before excepted, then by
//! severity, then in report order) and the rest counted in [`Omitted`]; likewise input errors
//! and rules; long strings are cut. `checked[]` is only counted. The summary, the findings and
//! the exit code must agree with each other, so a stored summary can be trusted without its
//! findings.
//!
//! The stored form ([`StoredReport::to_json`]) is the same JSON without `checked`, with the
//! rules the kept findings name and an `omitted` object; [`StoredReport::parse`] reads it too,
//! to the same value.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};
use std::fmt;
use std::marker::PhantomData;

use pave_policy::{Report, Severity, Status};
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::{RenderOptions, SCHEMA_VERSION, text};

/// The largest report text read (an upload's body limit).
pub const MAX_REPORT_BYTES: usize = 8 * 1024 * 1024;
/// Findings kept for display; the others are counted in [`Omitted::findings`].
pub const MAX_KEPT_FINDINGS: usize = 5_000;
/// Input errors kept; the others are counted in [`Omitted::errors`].
pub const MAX_KEPT_ERRORS: usize = 1_000;
/// Rules read from a report (before keeping those the kept findings name).
const MAX_READ_RULES: usize = 2_000;

/// Characters kept of long texts (messages, rationales, reasons).
const LONG_TEXT: usize = 2_000;
/// Characters kept of names, paths and titles.
const SHORT_TEXT: usize = 500;

/// A `pave check` report as a server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub tool: StoredTool,
    /// `baseline` | `restricted` | `recommended` (or a configured profile's name).
    pub profile: String,
    /// Findings at or above this severity failed the run.
    pub fail_on: Severity,
    /// What `pave check` exited with: 0 clean, 1 a failed finding, 2 an input error.
    pub exit_code: u8,
    /// Counts over the whole report, kept and omitted findings alike.
    pub summary: StoredSummary,
    /// At most [`MAX_KEPT_FINDINGS`], in report order.
    pub findings: Vec<StoredFinding>,
    /// Inputs that could not be read; at most [`MAX_KEPT_ERRORS`].
    pub errors: Vec<StoredError>,
    /// The rules the kept findings name (title, why and how to fix).
    pub rules: Vec<StoredRule>,
    /// What was read but not kept.
    #[serde(default)]
    pub omitted: Omitted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSummary {
    /// Distinct files checked, with findings, or unreadable.
    pub files: u64,
    /// Documents (objects) checked.
    pub documents: u64,
    pub failed: u64,
    pub warnings: u64,
    pub excepted: u64,
    /// Inputs that could not be read.
    pub errors: u64,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// `failed`, `warning` (below `failOn`) or `excepted` (an active exception covers it).
    pub status: Status,
    pub message: String,
    /// As given to `pave check` (relative to where it ran, `-` for stdin).
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub object: Option<StoredObject>,
    /// The kind of input: `kubernetes`, `dockerfile`, `terraform`, …
    pub input: String,
    pub exception: Option<StoredException>,
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// The exception that covers an excepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredException {
    pub id: String,
    pub owner: String,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

/// An input that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredError {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// A rule, as the report describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// `builtin` or `rego`.
    pub source: String,
    pub input: Option<String>,
    pub rationale: String,
    pub remediation: String,
}

/// What a reading counted but did not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Omitted {
    /// Findings beyond [`MAX_KEPT_FINDINGS`] (the least important).
    pub findings: u64,
    /// Input errors beyond [`MAX_KEPT_ERRORS`].
    pub errors: u64,
    /// Rules that ran and no kept finding names.
    pub rules: u64,
}

/// Why a report cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the report is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the report has schemaVersion {found}; this pave reads schemaVersion {SCHEMA_VERSION} (`pave check --format json` of a pave of the same major version)"
    )]
    UnsupportedVersion { found: String },
    #[error("the report is not JSON: {message} at line {line}, column {column}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "the report is not a pave check report (schemaVersion {SCHEMA_VERSION}): at `{path}` (line {line}, column {column}): {message}"
    )]
    Shape {
        /// Where in the document, e.g. `findings[3].severity`.
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the report contradicts itself: {0}")]
    Inconsistent(String),
}

impl StoredReport {
    /// Reads a report as `pave check --format json` writes it (or as [`Self::to_json`]
    /// stores it), within the bounds in the module docs.
    ///
    /// # Errors
    /// Over [`MAX_REPORT_BYTES`], another `schemaVersion`, not JSON, not the report's shape
    /// (with the path of the first problem), or counts that disagree.
    pub fn parse(text: &str) -> Result<StoredReport, ReportError> {
        Self::parse_slice(text.as_bytes())
    }

    /// [`Self::parse`] of bytes (an upload's body; text that is not UTF-8 is an error).
    ///
    /// # Errors
    /// As [`Self::parse`].
    pub fn parse_slice(bytes: &[u8]) -> Result<StoredReport, ReportError> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge {
                size: bytes.len(),
                limit: MAX_REPORT_BYTES,
            });
        }
        // A JSON value other than an object is no report; serde would read an array as the
        // struct's fields in order, and name an internal type for the others. (Text that is
        // no JSON at all is left to the parser's syntax error.)
        let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
        if let Some(at) = first.filter(|&at| {
            matches!(
                bytes[at],
                b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
            )
        }) {
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            let column = at
                - bytes[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |n| n + 1)
                + 1;
            return Err(ReportError::Shape {
                path: ".".into(),
                line,
                column,
                message: "expected a JSON object (`pave check --format json`)".into(),
            });
        }
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let raw: Raw = match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(raw) => raw,
            Err(e) => {
                return Err(version_error(bytes)
                    .unwrap_or_else(|| json_error(e.inner(), &e.path().to_string())));
            }
        };
        // Anything after the report (a second document) is not a report either.
        deserializer.end().map_err(|e| json_error(&e, "."))?;
        if raw.schema_version != SCHEMA_VERSION {
            return Err(ReportError::UnsupportedVersion {
                found: raw.schema_version.to_string(),
            });
        }
        raw.into_report()
    }

    /// The report `pave check` would render as JSON with `options`, as a server keeps it:
    /// what `--publish` sends (a report of 100,000 findings goes as its 5,000 most
    /// important, with the counts of the rest).
    pub fn from_report(report: &Report, options: &RenderOptions) -> StoredReport {
        let s = report.summary();
        let mut keep = Keep::new(MAX_KEPT_FINDINGS);
        for f in &report.findings {
            keep.offer(
                StoredFinding {
                    rule: f.rule.to_string(),
                    title: f.title.to_string(),
                    severity: f.severity,
                    status: f.status,
                    message: f.message.clone(),
                    file: f.file.to_string(),
                    line: f.line,
                    column: f.column,
                    object: f.object.as_deref().map(|o| StoredObject {
                        kind: o.kind.clone(),
                        namespace: o.namespace.clone(),
                        name: o.name.clone(),
                    }),
                    input: f.input.to_string(),
                    exception: f.exception.as_deref().map(|e| StoredException {
                        id: e.id.clone(),
                        owner: e.owner.clone(),
                        reason: e.reason.clone(),
                        expires: e.expires.clone(),
                    }),
                },
                rank(f.status, f.severity),
            );
        }
        let (findings, omitted_findings) = keep.finish();
        let errors: Vec<StoredError> = report
            .errors
            .iter()
            .take(MAX_KEPT_ERRORS)
            .map(|e| StoredError {
                file: e.file.clone(),
                line: e.line,
                column: e.column,
                message: e.message.clone(),
            })
            .collect();
        let rules = report
            .rules
            .iter()
            .map(|r| StoredRule {
                id: r.id.clone(),
                title: r.title.clone(),
                severity: r.severity,
                source: r.source.to_owned(),
                input: r.input.clone(),
                rationale: r.rationale.clone(),
                remediation: r.remediation.clone(),
            })
            .collect();
        let mut stored = StoredReport {
            schema_version: SCHEMA_VERSION,
            tool: StoredTool {
                name: "pave".to_owned(),
                version: options.tool_version.clone(),
            },
            profile: report.profile.clone(),
            fail_on: report.fail_on,
            exit_code: report.exit_code(),
            summary: StoredSummary {
                files: count(text::file_count(report)),
                documents: count(s.documents),
                failed: count(s.failed),
                warnings: count(s.warnings),
                excepted: count(s.excepted),
                errors: count(s.errors),
            },
            findings,
            errors,
            rules: Vec::new(),
            omitted: Omitted {
                findings: omitted_findings,
                errors: count(report.errors.len().saturating_sub(MAX_KEPT_ERRORS)),
                rules: 0,
            },
        };
        stored.keep_rules(rules, 0);
        stored.clip();
        stored
    }

    /// The stored form: compact JSON that [`Self::parse`] reads back to the same value.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The rule a finding names, if the report describes it.
    pub fn rule(&self, id: &str) -> Option<&StoredRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Whether the run passed: no failed finding and no input error (exit code 0).
    pub fn passed(&self) -> bool {
        self.exit_code == 0
    }

    /// Keeps the rules the findings name (and counts the others, plus `dropped` that were
    /// not read at all).
    fn keep_rules(&mut self, rules: Vec<StoredRule>, dropped: u64) {
        let named: BTreeSet<&str> = self.findings.iter().map(|f| f.rule.as_str()).collect();
        let mut seen = BTreeSet::new();
        let mut kept = Vec::new();
        let mut others = dropped;
        for rule in rules {
            if named.contains(rule.id.as_str()) && seen.insert(rule.id.clone()) {
                kept.push(rule);
            } else {
                others += 1;
            }
        }
        self.rules = kept;
        self.omitted.rules = self.omitted.rules.saturating_add(others);
    }

    /// Cuts long strings (idempotent: a cut string is at the limit, ellipsis included).
    fn clip(&mut self) {
        clip(&mut self.tool.name, SHORT_TEXT);
        clip(&mut self.tool.version, SHORT_TEXT);
        clip(&mut self.profile, SHORT_TEXT);
        for f in &mut self.findings {
            for (text, max) in [
                (&mut f.rule, SHORT_TEXT),
                (&mut f.title, SHORT_TEXT),
                (&mut f.message, LONG_TEXT),
                (&mut f.file, SHORT_TEXT),
                (&mut f.input, SHORT_TEXT),
            ] {
                clip(text, max);
            }
            if let Some(o) = &mut f.object {
                clip(&mut o.kind, SHORT_TEXT);
                clip(&mut o.name, SHORT_TEXT);
                if let Some(ns) = &mut o.namespace {
                    clip(ns, SHORT_TEXT);
                }
            }
            if let Some(e) = &mut f.exception {
                clip(&mut e.id, SHORT_TEXT);
                clip(&mut e.owner, SHORT_TEXT);
                clip(&mut e.reason, LONG_TEXT);
                clip(&mut e.expires, SHORT_TEXT);
            }
        }
        for e in &mut self.errors {
            clip(&mut e.file, SHORT_TEXT);
            clip(&mut e.message, LONG_TEXT);
        }
        for r in &mut self.rules {
            clip(&mut r.id, SHORT_TEXT);
            clip(&mut r.title, SHORT_TEXT);
            clip(&mut r.source, SHORT_TEXT);
            if let Some(input) = &mut r.input {
                clip(input, SHORT_TEXT);
            }
            clip(&mut r.rationale, LONG_TEXT);
            clip(&mut r.remediation, LONG_TEXT);
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Cuts `text` to `max` characters, the last an ellipsis.
fn clip(text: &mut String, max: usize) {
    if let Some((at, _)) = text.char_indices().nth(max) {
        let keep = text[..at]
            .char_indices()
            .nth(max.saturating_sub(1))
            .map_or(at, |(i, _)| i);
        text.truncate(keep);
        text.push('…');
    }
}

/// How much a finding matters for display: failed before warnings before excepted, then
/// by severity.
fn rank(status: Status, severity: Severity) -> (u8, Severity) {
    let status = match status {
        Status::Failed => 2,
        Status::Warning => 1,
        Status::Excepted => 0,
    };
    (status, severity)
}

/// The `cap` most important items offered, in the order they were offered, and how many
/// were not kept: memory stays at `cap` items however many are offered.
struct Keep<T> {
    cap: usize,
    /// The least important on top.
    heap: BinaryHeap<Reverse<Ranked<T>>>,
    offered: usize,
    dropped: u64,
}

struct Ranked<T> {
    rank: (u8, Severity),
    index: usize,
    item: T,
}

impl<T> Ranked<T> {
    /// More important first, then earlier first.
    fn key(&self) -> ((u8, Severity), Reverse<usize>) {
        (self.rank, Reverse(self.index))
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<T> Eq for Ranked<T> {}

impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl<T> Keep<T> {
    fn new(cap: usize) -> Self {
        Keep {
            cap,
            heap: BinaryHeap::new(),
            offered: 0,
            dropped: 0,
        }
    }

    fn offer(&mut self, item: T, rank: (u8, Severity)) {
        let entry = Ranked {
            rank,
            index: self.offered,
            item,
        };
        self.offered += 1;
        if self.heap.len() < self.cap {
            self.heap.push(Reverse(entry));
            return;
        }
        self.dropped += 1;
        if let Some(mut least) = self.heap.peek_mut()
            && entry > least.0
        {
            *least = Reverse(entry);
        }
    }

    fn finish(self) -> (Vec<T>, u64) {
        let mut kept: Vec<Ranked<T>> = self.heap.into_iter().map(|r| r.0).collect();
        kept.sort_by_key(|r| r.index);
        (kept.into_iter().map(|r| r.item).collect(), self.dropped)
    }
}

/// The report as read, before its checks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    schema_version: u32,
    tool: StoredTool,
    profile: String,
    fail_on: Severity,
    exit_code: u8,
    summary: StoredSummary,
    findings: Findings,
    errors: Capped<StoredError>,
    rules: Capped<StoredRule>,
    /// Only counted; absent from the stored form.
    #[serde(default)]
    checked: Option<Counted>,
    #[serde(default)]
    omitted: Omitted,
}

impl Raw {
    fn into_report(self) -> Result<StoredReport, ReportError> {
        let Raw {
            schema_version,
            tool,
            profile,
            fail_on,
            exit_code,
            summary,
            findings,
            errors,
            rules,
            checked,
            omitted,
        } = self;
        let inconsistent = |m: String| Err(ReportError::Inconsistent(m));
        let seen = &findings.seen;
        let (kept, dropped) = findings.keep.finish();
        let listed = seen.failed + seen.warnings + seen.excepted;
        let total = summary.failed + summary.warnings + summary.excepted;
        if omitted.findings == 0 {
            for (name, said, found) in [
                ("failed", summary.failed, seen.failed),
                ("warnings", summary.warnings, seen.warnings),
                ("excepted", summary.excepted, seen.excepted),
            ] {
                if said != found {
                    return inconsistent(format!(
                        "summary.{name} is {said} but the findings hold {found}"
                    ));
                }
            }
        } else if listed.saturating_add(omitted.findings) != total
            || seen.failed > summary.failed
            || seen.warnings > summary.warnings
            || seen.excepted > summary.excepted
        {
            return inconsistent(format!(
                "the summary counts {total} findings but the report holds {listed} and omits {}",
                omitted.findings
            ));
        }
        let errors_listed = count(errors.items.len()).saturating_add(errors.dropped);
        if errors_listed.saturating_add(omitted.errors) != summary.errors {
            return inconsistent(format!(
                "summary.errors is {} but the report holds {errors_listed} errors and omits {}",
                summary.errors, omitted.errors
            ));
        }
        if let Some(Counted(documents)) = checked
            && documents != summary.documents
        {
            return inconsistent(format!(
                "summary.documents is {} but checked[] lists {documents}",
                summary.documents
            ));
        }
        let expected = if summary.errors > 0 {
            2
        } else if summary.failed > 0 {
            1
        } else {
            0
        };
        if exit_code != expected {
            return inconsistent(format!(
                "exitCode is {exit_code} but {} failed findings and {} input errors make it {expected}",
                summary.failed, summary.errors
            ));
        }
        let mut report = StoredReport {
            schema_version,
            tool,
            profile,
            fail_on,
            exit_code,
            summary,
            findings: kept,
            errors: errors.items,
            rules: Vec::new(),
            omitted: Omitted {
                findings: omitted.findings.saturating_add(dropped),
                errors: omitted.errors.saturating_add(errors.dropped),
                rules: omitted.rules,
            },
        };
        report.keep_rules(rules.items, rules.dropped);
        report.clip();
        Ok(report)
    }
}

/// Findings counted by status as they are read, the most important kept.
struct Findings {
    keep: Keep<StoredFinding>,
    seen: Seen,
}

#[derive(Default)]
struct Seen {
    failed: u64,
    warnings: u64,
    excepted: u64,
}

impl<'de> Deserialize<'de> for Findings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FindingsVisitor;
        impl<'de> Visitor<'de> for FindingsVisitor {
            type Value = Findings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of findings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Findings, A::Error> {
                let mut out = Findings {
                    keep: Keep::new(MAX_KEPT_FINDINGS),
                    seen: Seen::default(),
                };
                while let Some(f) = seq.next_element::<StoredFinding>()? {
                    match f.status {
                        Status::Failed => out.seen.failed += 1,
                        Status::Warning => out.seen.warnings += 1,
                        Status::Excepted => out.seen.excepted += 1,
                    }
                    let rank = rank(f.status, f.severity);
                    out.keep.offer(f, rank);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(FindingsVisitor)
    }
}

/// The first items of an array (up to a cap by type) and how many more there were.
struct Capped<T> {
    items: Vec<T>,
    dropped: u64,
}

trait Cap {
    const CAP: usize;
}

impl Cap for StoredError {
    const CAP: usize = MAX_KEPT_ERRORS;
}

impl Cap for StoredRule {
    const CAP: usize = MAX_READ_RULES;
}

impl<'de, T: Deserialize<'de> + Cap> Deserialize<'de> for Capped<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CappedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Cap> Visitor<'de> for CappedVisitor<T> {
            type Value = Capped<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped<T>, A::Error> {
                let mut out = Capped {
                    items: Vec::new(),
                    dropped: 0,
                };
                while let Some(item) = seq.next_element::<T>()? {
                    if out.items.len() < T::CAP {
                        out.items.push(item);
                    } else {
                        out.dropped += 1;
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(CappedVisitor(PhantomData))
    }
}

/// The length of an array whose items are not kept (they must still be JSON).
struct Counted(u64);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Counted;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counted, A::Error> {
                let mut n = 0u64;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Counted(n))
            }
        }
        deserializer.deserialize_seq(CountVisitor)
    }
}

/// When a report cannot be read, whether it says it is of another schema version (then
/// that is the message, not whatever field of the other version failed first).
fn version_error(bytes: &[u8]) -> Option<ReportError> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    let found = probe.schema_version?;
    (found != SCHEMA_VERSION).then(|| ReportError::UnsupportedVersion {
        found: found.to_string().chars().take(40).collect(),
    })
}

fn json_error(inner: &serde_json::Error, path: &str) -> ReportError {
    let (line, column) = (inner.line(), inner.column());
    // serde_json's own text ends with " at line L column C"; ours says where itself.
    let message = inner.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    };
    match inner.classify() {
        serde_json::error::Category::Data => ReportError::Shape {
            path: path.to_owned(),
            line,
            column,
            message,
        },
        _ => ReportError::Syntax {
            line,
            column,
            message,
        },
    }
}

impl fmt::Display for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
#[path = "stored_tests.rs"]
mod tests;
