//! Text shared by the formats: the summary line, counts, one-line forms.

use std::collections::HashSet;

use pave_policy::{Report, Severity};

/// Distinct files the report mentions (checked, with findings, or unreadable).
pub(crate) fn file_count(report: &Report) -> usize {
    let files: HashSet<&str> = report
        .checked
        .iter()
        .map(|c| c.file.as_str())
        .chain(report.findings.iter().map(|f| &*f.file))
        .chain(report.errors.iter().map(|e| e.file.as_str()))
        .collect();
    files.len()
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The counts after the colon of the summary line, each with its colour role.
pub(crate) fn summary_parts(report: &Report) -> Vec<(String, Role)> {
    let s = report.summary();
    let mut parts = Vec::new();
    if s.failed > 0 {
        parts.push((format!("{} failed", s.failed), Role::Fail));
    }
    if s.warnings > 0 {
        parts.push((plural(s.warnings, "warning", "warnings"), Role::Warn));
    }
    if s.excepted > 0 {
        parts.push((format!("{} excepted", s.excepted), Role::Excepted));
    }
    if s.errors > 0 {
        parts.push((plural(s.errors, "error", "errors"), Role::Fail));
    }
    if parts.is_empty() {
        parts.push(("no findings".to_owned(), Role::Ok));
    }
    parts
}

/// What the colours mean (human output only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Fail,
    Warn,
    Excepted,
    Ok,
}

pub(crate) fn summary_head(report: &Report) -> String {
    format!(
        "{}, {} checked",
        plural(file_count(report), "file", "files"),
        plural(report.checked.len(), "object", "objects")
    )
}

pub(crate) fn summary_tail(report: &Report) -> String {
    let threshold = match report.fail_on {
        Severity::Critical => "failing at critical".to_owned(),
        s => format!("failing at {s} and above"),
    };
    format!("(profile {}, {threshold})", report.profile)
}

/// `12 files, 340 objects checked: 3 failed, 5 warnings, 2 excepted, 1 error (profile
/// recommended, failing at medium and above)`, without colour or newline.
pub fn summary_line(report: &Report) -> String {
    let counts: Vec<String> = summary_parts(report).into_iter().map(|(t, _)| t).collect();
    format!(
        "{}: {} {}",
        summary_head(report),
        counts.join(", "),
        summary_tail(report)
    )
}

/// Collapses runs of whitespace, newlines included, into single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first line of `s`, trimmed.
pub(crate) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// `file:line:col`, `file:line` or `file`.
pub(crate) fn position(file: &str, line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_owned(),
    }
}

/// References to the same check in other tools, e.g. `("Checkov", ["CKV_K8S_16"])`.
pub(crate) fn references(
    refs: &pave_policy::rule::References,
) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out = Vec::new();
    for (tool, id) in [
        ("Pod Security Standards", refs.pss),
        ("Polaris", refs.polaris),
        ("kube-linter", refs.kube_linter),
        ("kube-score", refs.kube_score),
    ] {
        if let Some(id) = id {
            out.push((tool, vec![id]));
        }
    }
    if !refs.checkov.is_empty() {
        out.push(("Checkov", refs.checkov.to_vec()));
    }
    out
}

/// Replaces control characters other than newline and tab with U+FFFD, so that text from
/// checked files cannot move the cursor or recolour a terminal or a CI log.
pub(crate) fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// How stdin (`-`) is named in text.
pub(crate) fn display_file(file: &str) -> &str {
    if file == "-" { "stdin" } else { file }
}
