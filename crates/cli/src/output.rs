//! Printing: data as a table, JSON or YAML on stdout; diagnostics and summaries on stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use pave_ingest::{Diagnostic, DiagnosticSeverity};
use serde_json::Value;

use crate::args::OutputFormat;

/// Whether to colour stderr: a terminal, and `NO_COLOR` unset.
pub(crate) fn color_stderr() -> bool {
    use_color(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    )
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
pub(crate) fn use_color(is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Prints `value` as JSON or YAML; for tables, `columns` picks (header, path) pairs from each
/// item of a list.
pub(crate) fn print_data(
    format: OutputFormat,
    value: &Value,
    columns: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, value)?;
            writeln!(out)
        }
        OutputFormat::Yaml => out.write_all(pave_yaml::to_yaml_string(value).as_bytes()),
        OutputFormat::Table => {
            let rows: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            out.write_all(table(&rows, columns).as_bytes())
        }
    }
}

fn cell(value: &Value, path: &str) -> String {
    let v = path.split('.').try_fold(value, |v, key| v.get(key));
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// Left-aligned columns sized to their widest cell.
pub(crate) fn table(rows: &[&Value], columns: &[(&str, &str)]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|(_, path)| cell(row, path)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |parts: Vec<&str>| {
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            out.push_str(part);
            if i < last {
                let pad = widths[i].saturating_sub(part.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(columns.iter().map(|(h, _)| *h).collect());
    for row in &cells {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// `file:line:col: error: message`, coloured on a terminal.
pub(crate) fn print_diagnostics<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) {
    let color = color_stderr();
    let mut err = std::io::stderr().lock();
    for d in diagnostics {
        let text = d.to_string();
        if color {
            let code = match d.severity {
                DiagnosticSeverity::Error => "31",
                DiagnosticSeverity::Warning => "33",
            };
            let _ = writeln!(err, "\x1b[{code}m{text}\x1b[0m");
        } else {
            let _ = writeln!(err, "{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_show_missing_cells() {
        let a =
            json!({"kind": "Component", "metadata": {"name": "svc"}, "spec": {"tags": ["a", "b"]}});
        let b = json!({"kind": "API", "metadata": {"name": "a-much-longer-name"}});
        let text = table(
            &[&a, &b],
            &[
                ("KIND", "kind"),
                ("NAME", "metadata.name"),
                ("TAGS", "spec.tags"),
            ],
        );
        assert_eq!(
            text,
            "KIND       NAME                TAGS\nComponent  svc                 a,b\nAPI        a-much-longer-name  -\n"
        );
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(super::use_color(true, None));
        assert!(
            super::use_color(true, Some("".into())),
            "an empty NO_COLOR is unset"
        );
        assert!(!super::use_color(true, Some("1".into())));
        assert!(
            !super::use_color(true, Some("0".into())),
            "any value disables colour"
        );
        assert!(!super::use_color(false, None));
    }
}
