//! `serde_json::Value` → block-style YAML text.
//!
//! Strings are written plain when that cannot change their meaning under either YAML 1.1 or
//! 1.2 readers, as literal blocks when they span lines, and double-quoted (JSON escapes are
//! valid YAML) otherwise.

use serde_json::Value;
use std::fmt::Write;

/// Writes `value` as a YAML document (no leading `---`), ending with a newline.
pub fn to_yaml_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    let mut first = true;
    for (key, value) in map {
        if !first {
            indent(out, level);
        }
        first = false;
        write_string(out, key, level, true);
        out.push(':');
        write_child(out, value, level);
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    let mut first = true;
    for item in items {
        if !first {
            indent(out, level);
        }
        first = false;
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, level + 2);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                write_seq(out, inner, level + 2);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, level + 2);
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:` — a scalar on the same line, a collection on the next lines.
fn write_child(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            indent(out, level + 2);
            write_map(out, map, level + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            indent(out, level + 2);
            write_seq(out, items, level + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, level, false),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize, is_key: bool) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if !is_key && level > 0 && s.contains('\n') && is_block_safe(s) {
        write_literal_block(out, s, level);
    } else {
        // serde_json's string escaping is valid YAML double-quoted style.
        out.push_str(&Value::String(s.to_owned()).to_string());
    }
}

fn write_literal_block(out: &mut String, s: &str, level: usize) {
    out.push('|');
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = if trailing > 0 { &s[..s.len() - 1] } else { s };
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
    }
}

fn is_block_safe(s: &str) -> bool {
    // Block indentation is detected from the first non-empty line, so it must not start with
    // a space (an explicit indicator would have to be relative to the parent's indentation).
    !s.trim_matches('\n').is_empty()
        && !s.trim_start_matches('\n').starts_with(' ')
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}')
        && !s.contains("\r")
        && !s.lines().any(|l| l.ends_with(' ') || l.ends_with('\t'))
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    // Document markers at the start of a line.
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // "-" alone or "- x" would start a sequence; "-x" is fine.
        if !(first == '-' && s.len() > 1 && !s[1..].starts_with(' ')) {
            return false;
        }
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    if looks_like_non_string(s) {
        return false;
    }
    true
}

/// Would a YAML 1.1 or 1.2 reader take this plain scalar for something other than a string?
fn looks_like_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || lower.starts_with(".inf")
        || lower.starts_with("-.inf")
        || lower.starts_with("+.inf")
        || lower == ".nan"
    {
        return true;
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || first == b'.' || first == b'-' || first == b'+' {
        // Numbers, dates, times, sexagesimals: quote anything number-ish.
        return s.bytes().all(|b| {
            b.is_ascii_hexdigit() || matches!(b, b'.' | b'-' | b'+' | b'_' | b':' | b'x' | b'o')
        }) || s.parse::<f64>().is_ok();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, parse_documents};
    use proptest::prelude::*;
    use serde_json::json;

    fn round_trip(v: &Value) -> Value {
        let text = to_yaml_string(v);
        let docs = parse_documents(&text, &Limits::default())
            .unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
        docs.into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null)
    }

    #[test]
    fn writes_readable_block_yaml() {
        let v = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "svc", "tags": ["go", "java"], "labels": {}},
            "spec": {"owner": "team-a", "replicas": 2, "on": "yes", "text": "line one\nline two\n",
                     "items": [{"a": 1, "b": [true, null]}, [], "- x"]}
        });
        let text = to_yaml_string(&v);
        assert_eq!(
            text,
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n  tags:\n    - go\n    - java\n  labels: {}\nspec:\n  owner: team-a\n  replicas: 2\n  \"on\": \"yes\"\n  text: |\n    line one\n    line two\n  items:\n    - a: 1\n      b:\n        - true\n        - null\n    - []\n    - \"- x\"\n"
        );
        assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn multi_line_strings_that_cannot_be_blocks_are_quoted() {
        for v in [
            json!(" a\n"),
            json!({"k": " a\nb"}),
            json!({"k": "a\nb"}),
            json!("x\ny"),
        ] {
            assert_eq!(round_trip(&v), v, "{}", to_yaml_string(&v));
        }
        assert_eq!(to_yaml_string(&json!({"k": "a\nb"})), "k: |-\n  a\n  b\n");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            "\\PC{0,12}".prop_map(Value::String),
            "[ a-z0-9:#\\-\n'\"]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z: #\\-]{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn emitted_yaml_reads_back_as_the_same_value(v in json_value()) {
            prop_assert_eq!(round_trip(&v), v);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse_documents(&s, &Limits::default());
            let _ = crate::locate(&s, 0, &[crate::PathSegment::Key("a".into())]);
        }
    }
}
