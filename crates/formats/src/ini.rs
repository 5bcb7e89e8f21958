//! INI as conftest reads it (go-ini, then its own conversion): each section is an object of
//! its keys; keys before the first section (go-ini's `DEFAULT`) are left out; values that
//! parse as Go floats are numbers, values `strconv.ParseBool` reads are booleans, the rest
//! strings. Written here because conftest's shape is go-ini's reading (comments after `#`
//! or `;`, `:` or `=` separators, quotes removed), which the Rust INI crates do not share.

use serde_json::{Map, Number, Value};

use crate::FormatError;

pub(crate) fn parse(text: &str) -> Result<Value, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Map<String, Value> = Map::new();
    // `None`: the DEFAULT section, which conftest drops.
    let mut current: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err(FormatError::line(
                    "INI",
                    n + 1,
                    format!("unclosed section header {line:?}"),
                ));
            };
            let name = rest[..end].trim().to_owned();
            current = (name != "DEFAULT").then(|| name.clone());
            if let Some(name) = &current {
                sections
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            continue;
        }
        let Some(at) = line.find(['=', ':']) else {
            return Err(FormatError::line(
                "INI",
                n + 1,
                format!("key-value delimiter not found: {line}"),
            ));
        };
        let key = line[..at].trim().trim_matches('`').trim_matches('"');
        let value = read_value(line[at + 1..].trim());
        if let Some(section) = &current
            && let Some(Value::Object(keys)) = sections.get_mut(section)
        {
            keys.insert(key.to_owned(), typed(&value));
        }
    }
    Ok(Value::Object(sections))
}

/// go-ini's value reading: quotes removed, else an inline comment cut off.
fn read_value(value: &str) -> String {
    for quote in ["\"\"\"", "`", "\"", "'"] {
        if value.len() >= 2 * quote.len()
            && value.starts_with(quote)
            && let Some(end) = value[quote.len()..].rfind(quote)
        {
            return value[quote.len()..quote.len() + end].to_owned();
        }
    }
    match value.find(['#', ';']) {
        Some(at) => value[..at].trim().to_owned(),
        None => value.to_owned(),
    }
}

/// conftest's typing of INI values: Go `strconv.ParseFloat`, then `strconv.ParseBool`.
fn typed(value: &str) -> Value {
    if let Some(n) = go_float(value) {
        // Go prints a float64 without a fraction as an integer (3000, not 3000.0).
        if n.fract() == 0.0 && n.abs() < 9e15 {
            #[allow(clippy::cast_possible_truncation)]
            return Value::from(n as i64);
        }
        return Number::from_f64(n).map_or_else(|| Value::String(value.to_owned()), Value::Number);
    }
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Value::Bool(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Value::Bool(false),
        _ => Value::String(value.to_owned()),
    }
}

/// Decimal floats as Go parses them (Rust accepts the same decimal forms, plus `inf` and
/// `nan`, which JSON cannot hold and stay strings here).
fn go_float(s: &str) -> Option<f64> {
    let digits = s.trim_start_matches(['+', '-']);
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn sections_types_and_comments() {
        let text = "# top\napp_mode = production\n[server]\nprotocol = http\nhttp_addr =\nhttp_port = 3000\nroot_url = %(protocol)s://%(domain)s/\nenforce = false ; comment\n[auth.basic]\nenabled: true\nname = \"quoted # not a comment\"\nratio = 0.5\n";
        assert_eq!(
            super::parse(text).unwrap(),
            json!({
                "server": {
                    "protocol": "http",
                    "http_addr": "",
                    "http_port": 3000,
                    "root_url": "%(protocol)s://%(domain)s/",
                    "enforce": false
                },
                "auth.basic": {"enabled": true, "name": "quoted # not a comment", "ratio": 0.5}
            })
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = super::parse("[a]\nx = 1\njust words\n").unwrap_err();
        assert_eq!(err.position(), Some((3, 1)), "{err}");
        assert!(super::parse("[open\n").is_err());
    }
}
