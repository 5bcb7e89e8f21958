//! Why a delivery could not be read, and the JSON reading every sender shares: one typed
//! pass over the body, errors with line and column (syntax) or the JSON path (a missing or
//! ill-typed field).

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::source::Source;
use crate::time::NOT_A_TIMESTAMP;

/// Why a delivery could not be read. Unknown event types are not errors (see
/// [`crate::Delivery::ignored`]); these are deliveries that claim a type and do not match it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the body is empty; {sender} deliveries are JSON objects")]
    EmptyBody { sender: Source },
    #[error("the body is not valid JSON: {message} at line {line}, column {column}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the body must be a JSON object, not {found}")]
    NotAnObject { found: &'static str },
    /// A required field is missing or a field has the wrong type. `path` is dotted from the
    /// body's top (`deployment.id`, `commits[3].timestamp`).
    #[error("{path}: {message}{}", location(*line, *column))]
    Field {
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    /// A timestamp field that holds no timestamp; the message quotes the value.
    #[error("{path}: {message}{}", location(*line, *column))]
    Timestamp {
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("header {header} is missing{hint}")]
    MissingHeader {
        header: &'static str,
        hint: &'static str,
    },
    #[error("header {header}: {message}")]
    BadHeader {
        header: &'static str,
        message: String,
    },
    /// The CloudEvents envelope is invalid (a required attribute, the spec version).
    #[error("CloudEvents envelope: {message}")]
    CloudEvent { message: String },
}

/// ` (line 3, column 10)`, or nothing when the position is unknown (values read from an
/// already parsed document have none).
fn location(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (line {line}, column {column})")
    }
}

/// The first non-whitespace byte says whether the body can be an object; anything else gets a
/// precise error (empty, invalid JSON with its position, or valid JSON of another type).
pub(crate) fn check_object(sender: Source, body: &[u8]) -> Result<(), ReadError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => Err(ReadError::EmptyBody { sender }),
        Some(b'{') => Ok(()),
        Some(_) => match serde_json::from_slice::<serde_json::Value>(body) {
            Err(err) => Err(syntax_error(&err)),
            Ok(value) => Err(ReadError::NotAnObject {
                found: json_type(&value),
            }),
        },
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn syntax_error(err: &serde_json::Error) -> ReadError {
    ReadError::Json {
        line: err.line(),
        column: err.column(),
        message: bare_message(err),
    }
}

/// serde_json's message without its ` at line L column C` suffix (kept as fields).
fn bare_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Reads the body into `T` in one pass. Syntax errors carry line and column; data errors the
/// JSON path (prefixed with `prefix`, e.g. `data` for a CloudEvent's data) as well.
pub(crate) fn parse<T: DeserializeOwned>(
    sender: Source,
    body: &[u8],
    prefix: &str,
) -> Result<T, ReadError> {
    check_object(sender, body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| path_error(prefix, err))?;
    deserializer.end().map_err(|err| syntax_error(&err))?;
    Ok(value)
}

/// Checks that the body is a JSON object, reading nothing from it (events pave ignores).
pub(crate) fn validate(sender: Source, body: &[u8]) -> Result<(), ReadError> {
    parse::<IgnoredAny>(sender, body, "").map(|_| ())
}

/// Reads an already parsed value into `T` (a CloudEvent's data, a CDEvent's content).
pub(crate) fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ReadError> {
    serde_path_to_error::deserialize(value).map_err(|err| path_error(prefix, err))
}

fn path_error(prefix: &str, err: serde_path_to_error::Error<serde_json::Error>) -> ReadError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return syntax_error(&inner);
    }
    let message = bare_message(&inner);
    let (line, column) = (inner.line(), inner.column());
    let mut path = join_path(prefix, if path == "." { "" } else { &path });
    // `missing field `id`` at `deployment` reads better as `deployment.id: missing`.
    let message = match message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        Some(field) => {
            path = join_path(&path, field);
            "required field is missing".to_owned()
        }
        None => message,
    };
    let path = if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path
    };
    if message.starts_with(NOT_A_TIMESTAMP) {
        ReadError::Timestamp {
            path,
            message,
            line,
            column,
        }
    } else {
        ReadError::Field {
            path,
            message,
            line,
            column,
        }
    }
}

pub(crate) fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// A required field that is present but unusable (an empty string where an id is needed).
pub(crate) fn invalid(path: &str, message: impl Into<String>) -> ReadError {
    ReadError::Field {
        path: path.to_owned(),
        message: message.into(),
        line: 0,
        column: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        inner: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        id: u64,
    }

    #[test]
    fn paths_name_the_field() {
        let err =
            parse::<Outer>(Source::Github, br#"{"inner":[{"id":1},{"id":"x"}]}"#, "").unwrap_err();
        assert!(
            matches!(&err, ReadError::Field { path, .. } if path == "inner[1].id"),
            "{err}"
        );
        let err = parse::<Outer>(Source::Github, br#"{"inner":[{}]}"#, "data").unwrap_err();
        assert_eq!(
            err.to_string(),
            "data.inner[0].id: required field is missing (line 1, column 12)"
        );
        let err = parse::<Outer>(Source::Github, br#"{}"#, "").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("inner: required field is missing"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse::<Outer>(Source::Github, b"{\n  \"inner\": [,]\n}", "").unwrap_err();
        assert!(matches!(err, ReadError::Json { line: 2, .. }), "{err:?}");
        let err = parse::<Outer>(Source::Github, br#"{"inner":[]} trailing"#, "").unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Json {
                    line: 1,
                    column: 14,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
