//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
//!
//! Escaping follows the Actions toolkit: in the message `%`, CR and LF become `%25`, `%0D`,
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`.
//!
//! GitHub turns only the first 10 commands of each kind (error, warning, notice) of a step
//! into annotations, 50 per job, so input errors come first and findings follow by
//! severity, most severe first; a plain line says when some were left to the log.

use std::collections::HashMap;
use std::fmt::Write as _;

use pave_policy::Report;

use crate::levels::github_command;
use crate::paths::Resolver;
use crate::{RenderOptions, text};

/// Annotations GitHub shows per kind and step.
const SHOWN_PER_KIND: usize = 10;

pub(crate) fn render(report: &Report, options: &RenderOptions) -> String {
    let resolver = Resolver::new(options);
    let mut out = String::new();
    let mut per_kind: HashMap<&str, usize> = HashMap::new();
    for e in &report.errors {
        let place = resolver.place(&e.file);
        *per_kind.entry("error").or_default() += 1;
        command(
            &mut out,
            "error",
            place.annotation_path(),
            e.line,
            e.column,
            "pave: input error",
            &text::safe(&e.message),
        );
    }
    let mut findings: Vec<_> = report.findings.iter().collect();
    // Stable: report order within a severity.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in findings {
        let place = resolver.place(&f.file);
        let mut message = f.message.clone();
        if let Some(object) = &f.object {
            let _ = write!(message, " ({object})");
        }
        if let Some(e) = &f.exception {
            let _ = write!(
                message,
                " [excepted by {} (owner {}, until {})]",
                e.id, e.owner, e.expires
            );
        }
        let title = format!("{} ({})", f.rule, f.severity);
        let kind = github_command(f.status);
        *per_kind.entry(kind).or_default() += 1;
        command(
            &mut out,
            kind,
            place.annotation_path(),
            f.line,
            f.column,
            &title,
            &text::safe(&message),
        );
    }
    // Plain text: a line that is not a command is printed to the log as it is.
    let hidden: usize = per_kind
        .values()
        .map(|n| n.saturating_sub(SHOWN_PER_KIND))
        .sum();
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{hidden} more {} in this log than GitHub shows as annotations ({SHOWN_PER_KIND} of each kind per step)",
            if hidden == 1 { "problem" } else { "problems" }
        );
    }
    out.push_str(&text::summary_line(report));
    out.push('\n');
    out
}

fn command(
    out: &mut String,
    name: &str,
    file: Option<&str>,
    line: Option<u32>,
    column: Option<u32>,
    title: &str,
    message: &str,
) {
    let mut props = Vec::new();
    if let Some(file) = file {
        props.push(format!("file={}", escape_property(&text::safe(file))));
        // A line without a file means nothing to the runner.
        if let Some(line) = line {
            props.push(format!("line={line}"));
            if let Some(col) = column {
                props.push(format!("col={col}"));
            }
        }
    }
    props.push(format!("title={}", escape_property(&text::safe(title))));
    let _ = writeln!(
        out,
        "::{name} {}::{}",
        props.join(","),
        escape_data(message)
    );
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(
            escape_property("dir/a: b,c%.yaml\n"),
            "dir/a%3A b%2Cc%25.yaml%0A"
        );
    }
}
