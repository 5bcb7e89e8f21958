//! `sprintf` with Go's `%q` verb. regorus 0.11's `sprintf` refuses `%q` (the call becomes
//! undefined, so a `deny` using it silently passes), and Terraform and Kubernetes policies
//! written for conftest use it often. When a policy's text has `%q`, this implementation
//! replaces regorus's (extensions take precedence over builtins); it formats the other verbs
//! as regorus does (`%v`/`%s` in OPA's notation, `%d`, `%f`/`%.2f`, `%t`, `%x`, `%X`, `%%`,
//! widths).

use regorus::Value;

/// Registers the extension on `engine`.
pub(crate) fn register(engine: &mut regorus::Engine) -> anyhow::Result<()> {
    engine.add_extension("sprintf".into(), 2, Box::new(sprintf))
}

fn sprintf(params: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(format), Some(args)) = (params.first(), params.get(1)) else {
        anyhow::bail!("sprintf: expected 2 operands");
    };
    let format = format
        .as_string()
        .map_err(|_| anyhow::anyhow!("sprintf: operand 1 must be a string"))?;
    let args = args
        .as_array()
        .map_err(|_| anyhow::anyhow!("sprintf: operand 2 must be an array"))?;
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '.' || d == '-' {
                width.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            anyhow::bail!("sprintf: missing format verb after `%` at end of format string");
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            anyhow::bail!("sprintf: no argument for format verb {next}");
        };
        next += 1;
        let (cell, precision) = match width.split_once('.') {
            Some((w, p)) => (w.to_owned(), p.parse::<usize>().ok()),
            None => (width.clone(), None),
        };
        let text = match (verb, arg) {
            ('q', Value::String(s)) => go_quote(s),
            ('q', other) => go_quote(&plain(other)),
            ('s' | 'v', other) => plain(other),
            ('t', Value::Bool(b)) => b.to_string(),
            ('d', Value::Number(_)) => number(arg, Some(0)),
            ('f' | 'F', Value::Number(_)) => number(arg, Some(precision.unwrap_or(6))),
            ('x', Value::Number(_)) => arg.as_i64().map(|i| format!("{i:x}")).unwrap_or_default(),
            ('X', Value::Number(_)) => arg.as_i64().map(|i| format!("{i:X}")).unwrap_or_default(),
            (verb, _) => anyhow::bail!("sprintf: unsupported format verb %{verb} for {arg}"),
        };
        out.push_str(&pad(&text, &cell));
    }
    Ok(Value::from(out))
}

/// Go's `%q`: a double-quoted string with Go escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    pave_stdx::go_quote(&mut out, s);
    out
}

/// `%v`: strings bare at the top, quoted inside collections; sets `{…}`, objects `{"k": v}`.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => nested(other),
    }
}

fn nested(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => serde_json::to_string(s.as_ref()).unwrap_or_default(),
        Value::Number(_) => number(v, None),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(nested).collect::<Vec<_>>().join(", ")
        ),
        Value::Set(items) => format!(
            "{{{}}}",
            items.iter().map(nested).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}: {}", nested(k), nested(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Undefined => "#undefined".into(),
    }
}

fn number(v: &Value, decimals: Option<usize>) -> String {
    match (decimals, v.as_i64(), v.as_f64()) {
        (Some(0) | None, Ok(i), _) => i.to_string(),
        (Some(d), _, Ok(f)) => format!("{f:.d$}"),
        (None, _, Ok(f)) => f.to_string(),
        _ => v.to_string(),
    }
}

fn pad(text: &str, cell: &str) -> String {
    let left = cell.starts_with('-');
    let zeros = cell.starts_with('0');
    let Ok(width) = cell.trim_start_matches('-').parse::<usize>() else {
        return text.to_owned();
    };
    let len = text.chars().count();
    if len >= width {
        return text.to_owned();
    }
    let fill = width - len;
    match (left, zeros) {
        (true, _) => format!("{text}{}", " ".repeat(fill)),
        (false, true) => format!("{}{text}", "0".repeat(fill)),
        (false, false) => format!("{}{text}", " ".repeat(fill)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn fmt(format: &str, args: serde_json::Value) -> String {
        let out = sprintf(vec![Value::from(format), Value::from(args)]).unwrap();
        out.as_string().unwrap().to_string()
    }

    #[test]
    fn go_verbs() {
        assert_eq!(
            fmt(
                "%q named %q: %v",
                serde_json::json!(["aws_s3", "a\"b", ["x", 1]])
            ),
            "\"aws_s3\" named \"a\\\"b\": [\"x\", 1]"
        );
        assert_eq!(
            fmt("%d%% %.2f %s %t", serde_json::json!([5, 1.5, "s", true])),
            "5% 1.50 s true"
        );
        assert_eq!(
            fmt("[%5s|%-3d|%03d]", serde_json::json!(["ab", 7, 7])),
            "[   ab|7  |007]"
        );
        assert!(sprintf(vec![Value::from("%d"), Value::from(serde_json::json!([]))]).is_err());
    }
}
