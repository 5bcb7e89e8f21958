//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
//!
//! Escaping follows the Actions toolkit: in the message `%`, CR and LF become `%25`, `%0D`,
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`.

use std::fmt::Write as _;

use pave_policy::Report;

use crate::levels::github_command;
use crate::paths::Resolver;
use crate::{RenderOptions, text};

pub(crate) fn render(report: &Report, options: &RenderOptions) -> String {
    let resolver = Resolver::new(options);
    let mut out = String::new();
    for f in &report.findings {
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
        command(
            &mut out,
            github_command(f.status),
            place.annotation_path(),
            f.line,
            f.column,
            &title,
            &text::safe(&message),
        );
    }
    for e in &report.errors {
        let place = resolver.place(&e.file);
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
    // Plain text: a line that is not a command is printed to the log as it is.
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
