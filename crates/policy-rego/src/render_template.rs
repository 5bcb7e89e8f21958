//! `strings.render_template(template, vars)`: OPA renders Go's text/template with the
//! object as data and `missingkey=error`. pave supports the part policies use for messages:
//! `{{.key}}` and `{{.a.b}}` substitutions (spaces and `{{-`/`-}}` trimming allowed) and
//! `{{/* comments */}}`; any other action (`if`, `range`, pipelines, functions) is refused
//! with an error naming it rather than rendered differently. Values print as Go's `%v` of
//! the JSON-decoded data prints them (numbers are float64: 1000000 is `1e+06`).

use regorus::Value as RegoValue;
use serde_json::Value;

const NAME: &str = "strings.render_template";

pub(crate) fn render_template(params: Vec<RegoValue>) -> anyhow::Result<RegoValue> {
    let (Some(RegoValue::String(template)), Some(vars @ RegoValue::Object(_))) =
        (params.first(), params.get(1))
    else {
        anyhow::bail!("{NAME}: operand 1 must be a string and operand 2 an object");
    };
    let vars = serde_json::to_value(vars)?;
    Ok(RegoValue::from(render(template, &vars)?))
}

fn render(template: &str, vars: &Value) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            anyhow::bail!(
                "{NAME}: unclosed action {{{{ at byte {}",
                template.len() - rest.len() + open
            );
        };
        let mut action = &after[..close];
        rest = &after[close + 2..];
        // Go trims with "{{- " and " -}}" (the dash must be followed/preceded by a space).
        if let Some(a) = action.strip_prefix("- ") {
            text = text.trim_end();
            action = a;
        }
        let trim_after = if let Some(a) = action.strip_suffix(" -") {
            action = a;
            true
        } else {
            false
        };
        out.push_str(text);
        let action = action.trim();
        if action.starts_with("/*") && action.ends_with("*/") && action.len() >= 4 {
            // A comment renders nothing.
        } else {
            out.push_str(&substitute(action, vars)?);
        }
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `.` or `.a.b`: the value at that path, printed as Go's `%v`.
fn substitute(action: &str, vars: &Value) -> anyhow::Result<String> {
    let refuse = || {
        anyhow::anyhow!(
            "{NAME}: unsupported action {{{{{action}}}}}: pave renders only {{{{.key}}}} substitutions and comments"
        )
    };
    let Some(path) = action.strip_prefix('.') else {
        return Err(refuse());
    };
    let mut current = vars;
    if !path.is_empty() {
        for key in path.split('.') {
            if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(refuse());
            }
            current = match current {
                Value::Object(o) => o.get(key).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{NAME}: executing {{{{{action}}}}}: map has no entry for key {key:?}"
                    )
                })?,
                _ => anyhow::bail!(
                    "{NAME}: executing {{{{{action}}}}}: can't evaluate field {key} of a non-object"
                ),
            };
        }
    }
    Ok(match current {
        Value::Null => "<no value>".to_owned(),
        other => go_value(other),
    })
}

/// Go's `fmt` `%v` of a value decoded from JSON into `any`.
fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(o) => {
            let mut entries: Vec<(&String, &Value)> = o.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent form when the decimal
/// exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`).
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` is the shortest round-trip form: "-1.5e7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return f.to_string();
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}
