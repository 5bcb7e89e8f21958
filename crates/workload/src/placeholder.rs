//! Score placeholders, as score-go's `framework/substitution.go` resolves them.
//!
//! `${ref}` is replaced by what `ref` names; `$$` is a literal `$` (so `$${ref}` is the literal
//! text `${ref}`); `${}` becomes `{}`; a lone `$` stays. A reference splits on `.` (`\.` is a
//! literal dot) and starts with `metadata` or `resources`: anything else is an error.

use serde_json::Value;

/// A parsed reference: its text and its dot-separated parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub text: String,
    pub parts: Vec<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Reference {
        // score-go: replace `\.` with NUL, split on `.`, put the dots back.
        let parts = text
            .replace("\\.", "\0")
            .split('.')
            .map(|p| p.replace('\0', "."))
            .collect();
        Reference {
            text: text.to_owned(),
            parts,
        }
    }
}

/// Replaces every placeholder of `src` with what `resolve` returns for its reference. All
/// errors are collected (score-go joins them); the first is returned.
pub fn substitute(
    src: &str,
    mut resolve: impl FnMut(&Reference) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(src.len());
    let mut errors: Vec<String> = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            // `$${…}` is the literal `${…}`; `$$` alone is `$`.
            if let Some(body) = tail.strip_prefix('{')
                && let Some(end) = body.find('}')
            {
                out.push_str("${");
                out.push_str(&body[..end]);
                out.push('}');
                rest = &body[end + 1..];
            } else {
                out.push('$');
                rest = tail;
            }
        } else if let Some(body) = after.strip_prefix('{')
            && let Some(end) = body.find('}')
        {
            let inner = &body[..end];
            if inner.is_empty() {
                out.push_str("{}");
            } else {
                match resolve(&Reference::parse(inner)) {
                    Ok(v) => out.push_str(&v),
                    Err(e) => errors.push(e),
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Looks `parts` up in `value` (mappings by key, lists by index); strings come back as they
/// are, anything else JSON-encoded (as score-go does).
pub(crate) fn lookup(value: &Value, parts: &[String], reference: &str) -> Result<String, String> {
    let mut current = value;
    for (i, part) in parts.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|n| items.get(n)),
            _ => None,
        };
        current = next.ok_or_else(|| {
            let at = if i == 0 {
                String::new()
            } else {
                format!(" under `{}`", parts[..i].join("."))
            };
            format!("invalid ref `{reference}`: key `{part}` not found{at}")
        })?;
    }
    Ok(match current {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Result<String, String> {
        substitute(src, |r| match r.parts.first().map(String::as_str) {
            Some("metadata") => Ok(format!("<{}>", r.parts[1..].join("|"))),
            _ => Err(format!(
                "invalid ref `{}`: unknown reference root, use $$ to escape the substitution",
                r.text
            )),
        })
    }

    #[test]
    fn score_go_cases() {
        // The cases of score-go's TestSubstituteString.
        assert_eq!(run("").unwrap(), "");
        assert_eq!(run("abc").unwrap(), "abc");
        assert_eq!(run("$abc").unwrap(), "$abc");
        assert_eq!(run("abc $$ abc").unwrap(), "abc $ abc");
        assert_eq!(run("$${abc}").unwrap(), "${abc}");
        assert_eq!(run("$${abc .def}").unwrap(), "${abc .def}");
        assert_eq!(run("$$${metadata.name}").unwrap(), "$<name>");
        assert_eq!(run("${}").unwrap(), "{}");
        assert_eq!(run("${metadata.name}").unwrap(), "<name>");
        assert_eq!(
            run("abc ${metadata.a\\.b.c} def").unwrap(),
            "abc <a.b|c> def"
        );
        assert!(
            run("${abc}")
                .unwrap_err()
                .contains("unknown reference root")
        );
        assert_eq!(run("${metadata.unclosed").unwrap(), "${metadata.unclosed");
    }

    #[test]
    fn lookup_encodes_non_strings() {
        let v = serde_json::json!({"a": {"b": [1, {"c": "x"}]}, "n": 3});
        assert_eq!(lookup(&v, &["n".into()], "n").unwrap(), "3");
        assert_eq!(
            lookup(&v, &["a".into(), "b".into(), "1".into(), "c".into()], "r").unwrap(),
            "x"
        );
        assert!(
            lookup(&v, &["a".into(), "z".into()], "a.z")
                .unwrap_err()
                .contains("key `z` not found under `a`")
        );
    }
}
