//! Line-oriented formats: `.env` files (gotenv), Java properties (magiconair/properties) and
//! ignore files (go-ignore). Each is a few rules, written here rather than taken from crates
//! whose readings differ from the Go libraries conftest uses (dotenvy substitutes from the
//! process environment, which a pure reader must not read).

use serde_json::{Map, Value, json};

use crate::FormatError;

/// `.env`: `KEY=value` lines (`export ` and `KEY: value` accepted), `#` comments, single
/// quotes literal, double quotes with `\n`-style escapes, `$VAR`/`${VAR}` expanded from
/// earlier keys of the file (conftest's gotenv also reads the process environment; pave does
/// not, so a check does not depend on who runs it).
pub(crate) fn dotenv(text: &str) -> Result<Value, FormatError> {
    let mut vars: Map<String, Value> = Map::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some(at) = line.find(['=', ':']) else {
            return Err(FormatError::line(
                "dotenv",
                n + 1,
                format!("line `{line}` has an unexpected format (KEY=value)"),
            ));
        };
        let key = line[..at].trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(FormatError::line(
                "dotenv",
                n + 1,
                format!("invalid variable name {key:?}"),
            ));
        }
        let rest = line[at + 1..].trim();
        let value = if let Some(inner) = quoted(rest, '\'') {
            inner.to_owned()
        } else if let Some(inner) = quoted(rest, '"') {
            expand(&unescape(inner), &vars)
        } else {
            let bare = match rest.find(" #") {
                Some(at) => rest[..at].trim_end(),
                None => rest,
            };
            expand(bare, &vars)
        };
        vars.insert(key.to_owned(), Value::String(value));
    }
    Ok(Value::Object(vars))
}

fn quoted(s: &str, q: char) -> Option<&str> {
    let inner = s.strip_prefix(q)?;
    let end = inner.rfind(q)?;
    Some(&inner[..end])
}

/// `$NAME` and `${NAME}` from earlier keys; unknown names expand to nothing, as in gotenv.
fn expand(s: &str, vars: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        if let Some(Value::String(v)) = vars.get(name) {
            out.push_str(v);
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// Java properties: `key=value`, `key: value` or `key value`; `#`/`!` comments; a trailing
/// backslash continues the line; `\t`, `\n`, `\uXXXX` escapes; `${key}` expanded from the
/// file's other keys, as magiconair/properties does.
pub(crate) fn properties(text: &str) -> Result<Value, FormatError> {
    let mut entries: Vec<(String, String, usize)> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let first = raw.trim_start();
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = first.to_owned();
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_property(&logical);
        entries.push((unescape(key), unescape(value), n + 1));
    }
    let map: Map<String, Value> = entries
        .iter()
        .map(|(k, v, _)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut out = Map::new();
    for (key, value, line) in &entries {
        let expanded = expand_property(value, &map, 0).ok_or_else(|| {
            FormatError::line(
                "properties",
                *line,
                format!("circular or too deep ${{…}} reference in {key}"),
            )
        })?;
        out.insert(key.clone(), Value::String(expanded));
    }
    Ok(Value::Object(out))
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

fn split_property(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' => return (&line[..i], line[i + 1..].trim_start()),
            b' ' | b'\t' | b'\x0c' => {
                let value = line[i..].trim_start();
                let value = value
                    .strip_prefix(['=', ':'])
                    .map_or(value, str::trim_start);
                return (&line[..i], value);
            }
            _ => i += 1,
        }
    }
    (line, "")
}

/// Backslash escapes of double-quoted `.env` values and of properties: `\t`, `\n`, `\r`,
/// `\f`, `\uXXXX`; any other escaped character stands for itself.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn expand_property(value: &str, map: &Map<String, Value>, depth: usize) -> Option<String> {
    if depth > 32 {
        return None;
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        out.push_str(&rest[..at]);
        let name = &rest[at + 2..at + end];
        match map.get(name).and_then(Value::as_str) {
            Some(v) => out.push_str(&expand_property(v, map, depth + 1)?),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Ignore files (`.gitignore`, `.dockerignore`) as go-ignore's entries, one per line (blank
/// lines and comments included): `Kind` is `Path`, `NegatedPath`, `Comment` or `Empty`.
/// conftest wraps the list in another list so that it is one document: the result is that
/// one document, the list.
pub(crate) fn ignore(text: &str) -> Value {
    let entries: Vec<Value> = text
        .split('\n')
        .map(|line| {
            let stripped = trim_right_space(line);
            let (kind, value) = if stripped.is_empty() {
                ("Empty", line.to_owned())
            } else if line.starts_with('#') {
                ("Comment", stripped[1..].trim().to_owned())
            } else if line.starts_with('!') {
                ("NegatedPath", go_ignore_unescape(&stripped[1..]))
            } else {
                ("Path", go_ignore_unescape(stripped))
            };
            json!({"Kind": kind, "Value": value, "Original": line})
        })
        .collect();
    Value::Array(entries)
}

/// Trailing spaces go, unless escaped with a backslash.
fn trim_right_space(s: &str) -> &str {
    let trimmed = s.trim_end_matches(' ');
    if trimmed.ends_with('\\') && trimmed.len() < s.len() {
        &s[..=trimmed.len()]
    } else {
        trimmed
    }
}

/// go-ignore's `Unescape`: a backslash is dropped, `\\` is one backslash.
fn go_ignore_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
        } else if chars.peek() == Some(&'\\') {
            out.push('\\');
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn dotenv_quotes_comments_and_expansion() {
        let text = "# c\nAPP_NAME=test\nexport USER=root # inline\nQUOTED=\"a\\nb ${APP_NAME}\"\nRAW='$APP_NAME'\nEMPTY=\nREF=$APP_NAME-x\n";
        assert_eq!(
            super::dotenv(text).unwrap(),
            json!({"APP_NAME": "test", "USER": "root", "QUOTED": "a\nb test", "RAW": "$APP_NAME", "EMPTY": "", "REF": "test-x"})
        );
        let err = super::dotenv("A=1\nnot a pair\n").unwrap_err();
        assert_eq!(err.position(), Some((2, 1)));
    }

    #[test]
    fn properties_separators_continuations_and_references() {
        let text = "# c\n! c\nSAMPLE_VALUE=something-here\nother.value.url = https://example.com/\nspaced value\ncolon:x\nlong = a \\\n   b\nref = ${SAMPLE_VALUE}/y\nuni = caf\\u00e9\n";
        assert_eq!(
            super::properties(text).unwrap(),
            json!({
                "SAMPLE_VALUE": "something-here",
                "other.value.url": "https://example.com/",
                "spaced": "value",
                "colon": "x",
                "long": "a b",
                "ref": "something-here/y",
                "uni": "café"
            })
        );
        assert!(super::properties("a=${b}\nb=${a}\n").is_err());
    }

    #[test]
    fn ignore_entries_as_go_ignore_gives_them() {
        let value = super::ignore("foo\n!bar\n\n# Baz\nqux\\ ");
        assert_eq!(
            value,
            json!([
                {"Kind": "Path", "Value": "foo", "Original": "foo"},
                {"Kind": "NegatedPath", "Value": "bar", "Original": "!bar"},
                {"Kind": "Empty", "Value": "", "Original": ""},
                {"Kind": "Comment", "Value": "Baz", "Original": "# Baz"},
                {"Kind": "Path", "Value": "qux ", "Original": "qux\\ "}
            ])
        );
    }
}
