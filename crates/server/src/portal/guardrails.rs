//! The entity page's Guardrails tab: the newest `pave check` report CI published for the
//! entity (`pave check --publish`, stored by `api/guardrails.rs`), laid out as its verdict,
//! the findings that need work first, the files that could not be checked, and the reports
//! before it.

use pave_policy::Status;
use pave_policy_output::{StoredFinding, StoredReport};
use pave_store::CheckReportSummary;

/// Findings the tab lists at most (the report keeps up to 5,000; the rest are counted).
const SHOWN_FINDINGS: usize = 500;

/// The tab's content.
pub(crate) struct GuardrailsCard {
    /// "Failing", "Passing with warnings" or "Passing".
    pub(crate) verdict: &'static str,
    pub(crate) verdict_class: &'static str,
    pub(crate) checked: String,
    pub(crate) commit: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) tool: String,
    pub(crate) profile: String,
    pub(crate) failed: u64,
    pub(crate) warnings: u64,
    pub(crate) excepted: u64,
    pub(crate) files: u64,
    pub(crate) findings: Vec<FindingRow>,
    /// Findings in the report but not listed (over [`SHOWN_FINDINGS`], or left out of the
    /// stored report).
    pub(crate) omitted: u64,
    /// Files that could not be checked, `file:line:col: message`.
    pub(crate) errors: Vec<String>,
    pub(crate) history: Vec<HistoryRow>,
}

/// One finding.
pub(crate) struct FindingRow {
    pub(crate) status: &'static str,
    pub(crate) status_class: &'static str,
    pub(crate) severity: &'static str,
    pub(crate) rule: String,
    pub(crate) title: String,
    /// `file:line:col`, as `pave check` named it (relative to the repository).
    pub(crate) place: String,
    /// The Kubernetes object or catalog entity, `Kind namespace/name`.
    pub(crate) object: Option<String>,
    pub(crate) message: String,
    /// How to fix it (the rule's remediation), for findings that need work.
    pub(crate) remediation: Option<String>,
    /// `id` by `owner` until `expires`: why an excepted finding does not fail.
    pub(crate) exception: Option<String>,
}

/// An earlier report.
pub(crate) struct HistoryRow {
    pub(crate) checked: String,
    pub(crate) commit: Option<String>,
    pub(crate) failed: u64,
    pub(crate) warnings: u64,
    pub(crate) current: bool,
}

/// The card for a stored report and the entity's history (newest first).
pub(crate) fn card(
    row: &CheckReportSummary,
    report: &StoredReport,
    history: &[CheckReportSummary],
) -> GuardrailsCard {
    let summary = &report.summary;
    let (verdict, verdict_class) = if summary.failed > 0 || summary.errors > 0 {
        ("Failing", "check-failing")
    } else if summary.warnings > 0 {
        ("Passing with warnings", "check-warning")
    } else {
        ("Passing", "check-passing")
    };
    let mut findings: Vec<&StoredFinding> = report.findings.iter().collect();
    // What fails first, the most severe first, then by place.
    findings.sort_by(|a, b| {
        (
            status_rank(a.status),
            std::cmp::Reverse(a.severity),
            &a.file,
            a.line,
        )
            .cmp(&(
                status_rank(b.status),
                std::cmp::Reverse(b.severity),
                &b.file,
                b.line,
            ))
    });
    let listed = findings.len().min(SHOWN_FINDINGS);
    let omitted = (findings.len() - listed) as u64 + report.omitted.findings;
    let remediation = |rule: &str| {
        report
            .rules
            .iter()
            .find(|r| r.id == rule)
            .map(|r| r.remediation.trim().to_owned())
            .filter(|r| !r.is_empty())
    };
    GuardrailsCard {
        verdict,
        verdict_class,
        checked: super::dora::date_time(row.received_at.saturating_mul(1000)),
        commit: row.commit.as_deref().map(short_commit),
        branch: row.branch.as_deref().map(visible),
        tool: visible(&format!("{} {}", report.tool.name, report.tool.version)),
        profile: visible(&report.profile),
        failed: summary.failed,
        warnings: summary.warnings,
        excepted: summary.excepted,
        files: summary.files,
        findings: findings
            .into_iter()
            .take(listed)
            .map(|f| FindingRow {
                status: match f.status {
                    Status::Failed => "failed",
                    Status::Warning => "warning",
                    Status::Excepted => "excepted",
                },
                status_class: match f.status {
                    Status::Failed => "check-failing",
                    Status::Warning => "check-warning",
                    Status::Excepted => "check-excepted",
                },
                severity: f.severity.as_str(),
                rule: visible(&f.rule),
                title: visible(&f.title),
                place: visible(&place(&f.file, f.line, f.column)),
                object: f.object.as_ref().map(|o| {
                    visible(&match &o.namespace {
                        Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
                        None => format!("{} {}", o.kind, o.name),
                    })
                }),
                message: visible(&f.message),
                remediation: (f.status != Status::Excepted)
                    .then(|| remediation(&f.rule))
                    .flatten()
                    .map(|r| visible(&r)),
                exception: f.exception.as_ref().map(|e| {
                    visible(&format!(
                        "{} by {} until {}: {}",
                        e.id, e.owner, e.expires, e.reason
                    ))
                }),
            })
            .collect(),
        omitted,
        errors: report
            .errors
            .iter()
            .map(|e| {
                visible(&format!(
                    "{}: {}",
                    place(&e.file, e.line, e.column),
                    e.message
                ))
            })
            .collect(),
        history: history
            .iter()
            .map(|h| HistoryRow {
                checked: super::dora::date_time(h.received_at.saturating_mul(1000)),
                commit: h.commit.as_deref().map(short_commit),
                failed: h.failed,
                warnings: h.warnings,
                current: h.id == row.id,
            })
            .collect(),
    }
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::Failed => 0,
        Status::Warning => 1,
        Status::Excepted => 2,
    }
}

/// What a publisher wrote, with the characters that would change how the rest reads shown
/// as their code instead: bidirectional overrides and isolates (U+202E makes `:1:10` read
/// `:1:01`), and control characters other than tab and newline.
fn visible(text: &str) -> String {
    let hidden = |c: char| {
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || (c.is_control() && c != '\t' && c != '\n')
    };
    if !text.chars().any(hidden) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                format!("<U+{:04X}>", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `file:line:col`, as far as known.
fn place(file: &str, line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        (Some(line), None) => format!("{file}:{line}"),
        _ => file.to_owned(),
    }
}

/// A commit as people quote it: its first 12 characters.
fn short_commit(commit: &str) -> String {
    commit.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_commits_read_as_people_write_them() {
        assert_eq!(
            place("deploy/app.yaml", Some(3), Some(7)),
            "deploy/app.yaml:3:7"
        );
        assert_eq!(place("Dockerfile", Some(1), None), "Dockerfile:1");
        assert_eq!(place("-", None, None), "-");
        assert_eq!(
            short_commit("0123456789abcdef0123456789abcdef01234567"),
            "0123456789ab"
        );
        assert_eq!(short_commit("abc"), "abc");
    }

    #[test]
    fn bidi_overrides_and_controls_cannot_disguise_a_place() {
        assert_eq!(visible("deploy/app.yaml:1:10"), "deploy/app.yaml:1:10");
        assert_eq!(visible("app.yaml:1:\u{202e}01"), "app.yaml:1:<U+202E>01");
        assert_eq!(
            visible("a\u{0}b\u{1b}[31m\r"),
            "a<U+0000>b<U+001B>[31m<U+000D>"
        );
        assert_eq!(visible("tab\tand\nnewline ✓"), "tab\tand\nnewline ✓");
    }
}
