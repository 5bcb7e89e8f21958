//! A small YAML writer for `serde_json::Value`s.
//!
//! The crate has no YAML library, and the output is read by people as much as by parsers, so
//! this writes the conventional Backstage layout: two-space indentation, block sequences,
//! plain scalars where that is unambiguous and double quotes everywhere else. Strings are
//! quoted conservatively so that YAML 1.1 readers see the same values as YAML 1.2 ones.

use serde_json::{Map, Value};

/// How collections are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Every mapping and sequence in block style: the usual look of catalog descriptors.
    Block,
    /// Collections that fit on their line in flow style (`{type: string}`, `[a, b]`), which
    /// keeps API definitions short enough to read.
    Compact,
}

/// Lines in compact style stay within this many characters where they can.
const MAX_WIDTH: usize = 100;

/// Joins documents into one multi-document stream, `---` between documents.
pub(crate) fn to_documents(header: &str, documents: &[Value], style: Style) -> String {
    let mut writer = Writer {
        out: String::from(header),
        style,
    };
    for (index, document) in documents.iter().enumerate() {
        if index > 0 {
            writer.out.push_str("---\n");
        }
        writer.document(document);
    }
    writer.out
}

struct Writer {
    out: String,
    style: Style,
}

impl Writer {
    /// Writes one document (normally a mapping) followed by a newline.
    fn document(&mut self, document: &Value) {
        match document {
            Value::Object(map) if !map.is_empty() => self.mapping(map, 0, false),
            Value::Array(items) if !items.is_empty() => self.sequence(items, 0),
            scalar => {
                write_scalar(&mut self.out, scalar, false);
                self.out.push('\n');
            }
        }
    }

    /// Writes `key: value` lines at `indent`. With `continues_line` the first key goes
    /// right after a `- ` that is already written.
    fn mapping(&mut self, map: &Map<String, Value>, indent: usize, continues_line: bool) {
        for (index, (key, value)) in map.iter().enumerate() {
            if index > 0 || !continues_line {
                pad(&mut self.out, indent);
            }
            write_string(&mut self.out, key, false);
            self.out.push(':');
            self.after_indicator(value, indent);
        }
    }

    fn sequence(&mut self, items: &[Value], indent: usize) {
        for item in items {
            pad(&mut self.out, indent);
            self.out.push('-');
            match item {
                Value::Object(map) if !map.is_empty() && !self.fits_in_flow(item) => {
                    self.out.push(' ');
                    self.mapping(map, indent + 2, true);
                }
                other => self.after_indicator(other, indent),
            }
        }
    }

    /// Writes what follows `key:` or `-`: an inline scalar or flow collection, or a nested
    /// block one level deeper.
    fn after_indicator(&mut self, value: &Value, indent: usize) {
        let is_collection = matches!(value, Value::Object(m) if !m.is_empty())
            || matches!(value, Value::Array(a) if !a.is_empty());
        if is_collection && self.fits_in_flow(value) {
            self.out.push(' ');
            write_flow(&mut self.out, value);
            self.out.push('\n');
            return;
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                self.out.push('\n');
                self.mapping(map, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                self.out.push('\n');
                self.sequence(items, indent + 2);
            }
            Value::String(text) if literal_block_style(text).is_some() => {
                write_literal_block(&mut self.out, text, indent + 2);
            }
            scalar => {
                self.out.push(' ');
                write_scalar(&mut self.out, scalar, false);
                self.out.push('\n');
            }
        }
    }

    /// Whether `value`, written in flow style after the current position, stays within
    /// the line width. Always false in block style.
    fn fits_in_flow(&self, value: &Value) -> bool {
        if self.style == Style::Block {
            return false;
        }
        let column = self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1);
        let mut flow = String::new();
        write_flow(&mut flow, value);
        column + 1 + flow.len() <= MAX_WIDTH
    }
}

fn write_flow(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (index, (key, value)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_string(out, key, true);
                out.push_str(": ");
                write_flow(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_flow(out, item);
            }
            out.push(']');
        }
        scalar => write_scalar(out, scalar, true),
    }
}

fn write_scalar(out: &mut String, value: &Value, in_flow: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_string(out, text, in_flow),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Plain when unambiguous, double-quoted otherwise. Inside flow collections a `:` is
/// quoted too, which some YAML 1.1 readers otherwise misread.
fn write_string(out: &mut String, text: &str, in_flow: bool) {
    if is_safe_plain(text) && !(in_flow && text.contains(':')) {
        out.push_str(text);
    } else {
        write_double_quoted(out, text);
    }
}

/// The block chomping indicator for a multi-line string, or `None` when the string is better
/// double-quoted (leading spaces would need an indentation indicator, several trailing
/// newlines need `|+`, carriage returns do not survive a literal block).
fn literal_block_style(text: &str) -> Option<&'static str> {
    if !text.contains('\n')
        || text.starts_with([' ', '\t', '\n'])
        || text
            .chars()
            .any(|c| c == '\r' || (c.is_control() && c != '\n'))
    {
        return None;
    }
    if text.ends_with("\n\n") {
        None
    } else if text.ends_with('\n') {
        Some("|")
    } else {
        Some("|-")
    }
}

fn write_literal_block(out: &mut String, text: &str, indent: usize) {
    out.push(' ');
    out.push_str(literal_block_style(text).unwrap_or("|"));
    out.push('\n');
    for line in text.lines() {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Whether `text` reads back as the same string when written without quotes. Deliberately
/// conservative: anything unusual is quoted.
fn is_safe_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let first_ok = first.is_ascii_alphabetic()
        || first == '$'
        || first == '_'
        || (first == '/' && !text.starts_with("//"))
        || text.starts_with("./");
    let chars_ok = text.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '$' | '+' | '@')
    });
    first_ok && chars_ok && !text.ends_with(':') && !is_reserved_word(text)
}

/// Words a YAML 1.1 or 1.2 reader would turn into a boolean or null.
fn is_reserved_word(text: &str) -> bool {
    const WORDS: &[&str] = &["true", "false", "null", "yes", "no", "on", "off", "y", "n"];
    WORDS.iter().any(|word| word.eq_ignore_ascii_case(text))
}

/// JSON string escaping is a subset of YAML's double-quoted style.
fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(value: &Value) -> String {
        to_documents("", std::slice::from_ref(value), Style::Block)
    }

    #[test]
    fn writes_nested_mappings_and_sequences() {
        let value = json!({
            "kind": "Component",
            "metadata": {"name": "cart-service", "tags": ["kotlin", "postgres"]},
            "spec": {"children": [], "links": [{"url": "https://example.com/x", "title": "A dashboard"}]}
        });
        assert_eq!(
            render(&value),
            "kind: Component\n\
             metadata:\n  name: cart-service\n  tags:\n    - kotlin\n    - postgres\n\
             spec:\n  children: []\n  links:\n    - url: https://example.com/x\n      title: \"A dashboard\"\n"
        );
    }

    #[test]
    fn quotes_ambiguous_strings() {
        for (text, expected) in [
            ("plain-name", "plain-name"),
            ("resource:orders-db", "resource:orders-db"),
            ("./org/groups.yaml", "./org/groups.yaml"),
            ("$text", "$text"),
            ("200", "\"200\""),
            ("1.0.0", "\"1.0.0\""),
            ("true", "\"true\""),
            ("No", "\"No\""),
            ("/orders/{orderId}", "\"/orders/{orderId}\""),
            (
                "#/components/schemas/Order",
                "\"#/components/schemas/Order\"",
            ),
            ("key:", "\"key:\""),
            ("", "\"\""),
            ("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\""),
            (".inf", "\".inf\""),
            ("-x", "\"-x\""),
        ] {
            let mut out = String::new();
            write_string(&mut out, text, false);
            assert_eq!(out, expected, "for {text:?}");
        }
    }

    #[test]
    fn writes_multi_line_strings_as_literal_blocks() {
        let value = json!({"spec": {"definition": "openapi: 3.0.3\ninfo:\n  title: x\n"}});
        assert_eq!(
            render(&value),
            "spec:\n  definition: |\n    openapi: 3.0.3\n    info:\n      title: x\n"
        );
        let no_trailing_newline = json!({"a": "one\n\ntwo"});
        assert_eq!(render(&no_trailing_newline), "a: |-\n  one\n\n  two\n");
        let leading_space = json!({"a": " one\ntwo"});
        assert_eq!(render(&leading_space), "a: \" one\\ntwo\"\n");
    }

    #[test]
    fn compact_style_uses_flow_collections_that_fit() {
        let value = json!({
            "schema": {"type": "string", "enum": ["a", "b"]},
            "parameters": [{"name": "limit", "in": "query"}],
            "links": {"url": "https://example.com"},
            "long": ["x".repeat(60), "y".repeat(60)],
        });
        let text = to_documents("", &[value], Style::Compact);
        let long = format!("long:\n  - {}\n  - {}\n", "x".repeat(60), "y".repeat(60));
        assert_eq!(
            text,
            format!(
                "schema: {{type: string, enum: [a, b]}}\n\
                 parameters: [{{name: limit, in: query}}]\n\
                 links: {{url: \"https://example.com\"}}\n{long}"
            )
        );
    }

    #[test]
    fn separates_documents() {
        let text = to_documents(
            "# header\n",
            &[json!({"a": 1}), json!({"b": [true, null]})],
            Style::Block,
        );
        assert_eq!(text, "# header\na: 1\n---\nb:\n  - true\n  - null\n");
    }
}
