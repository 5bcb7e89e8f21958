//! Plain scalars as Kubernetes reads them: `sigs.k8s.io/yaml` decodes with its copy of
//! go-yaml v2 (`goyaml.v2/resolve.go`), whose resolver is YAML 1.1's, and then converts the
//! result to JSON. This module is that resolver, followed by that conversion.
//!
//! What differs from the YAML 1.2 core schema (the catalog's reading):
//!
//! - booleans: `y Y yes Yes YES true True TRUE on On ON` and `n N no No NO false False FALSE
//!   off Off OFF`;
//! - integers: underscores are dropped first (`1_000` is 1000), then Go's `ParseInt(s, 0, 64)`
//!   reads a sign and a base prefix: `0x1F`/`0X1F` hex, `0o17`/`0O17` and `017` octal (so
//!   `0755` is 493), `0b101` binary; a leading-zero number that is not octal (`08`, `09`) is
//!   read as a float, 8 or 9; past `u64`, a float (go-yaml makes a big integer);
//! - floats: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` after dropping
//!   underscores; a float with no fractional part reaches the API server as a JSON integer
//!   (`1e3` is 1000), as Go's JSON encoder writes it;
//! - `.nan`, `.inf`, `-.inf` (and case forms) are floats that JSON cannot hold: Kubernetes
//!   refuses the object ("json: unsupported value"), so they are errors here;
//! - nulls are the same as in YAML 1.2 (`~ null Null NULL` and empty);
//! - sexagesimal numbers (`1:20`) are **not** resolved: go-yaml v2 left them out on purpose
//!   ("Base 60 floats are a bad idea"), so `1:20` stays a string;
//! - timestamps (`2001-12-14`) stay the string written (go-yaml makes a `time.Time`, which JSON
//!   writes as RFC 3339, `2001-12-14T00:00:00Z`: no Kubernetes field pave checks is a date).

use serde_json::{Number, Value};

/// A scalar JSON cannot represent (`.nan`, `.inf`).
pub(crate) struct NotJson;

/// Resolves a plain scalar as go-yaml v2 does, converted to JSON as `sigs.k8s.io/yaml` does.
pub(crate) fn resolve_plain(text: &str) -> Result<Value, NotJson> {
    let hint = match text.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return Ok(Value::String(text.to_owned())),
    };
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false));
        }
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Err(NotJson),
        _ => {}
    }
    match hint {
        // Not in the table: a string. (Go's ParseFloat would not take underscores here.)
        b'.' => Ok(float_syntax(text)
            .and_then(|()| text.parse::<f64>().ok())
            .map_or_else(|| Value::String(text.to_owned()), float)),
        b'D' | b'S' => {
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(n) = go_parse_int(&plain) {
                return Ok(n);
            }
            if float_syntax(&plain).is_some()
                && let Ok(f) = plain.parse::<f64>()
            {
                return Ok(float(f));
            }
            Ok(Value::String(text.to_owned()))
        }
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// A float as JSON carries it to the API server: whole numbers become integers.
fn float(f: f64) -> Value {
    // Go writes floats below 1e21 without an exponent, and Kubernetes' JSON decoder reads
    // whole numbers as int64; within ±2^53 that is exact.
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        #[allow(clippy::cast_possible_truncation)]
        return Value::Number(Number::from(f as i64));
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn float_syntax(s: &str) -> Option<()> {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int == 0 && frac == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    (i == b.len()).then_some(())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`; past 64 bits, go-yaml
/// makes a big integer, which JSON carries as a number (a float here).
fn go_parse_int(s: &str) -> Option<Value> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match unsigned.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &unsigned[2..]),
        [b'0', b'o' | b'O', ..] => (8, &unsigned[2..]),
        [b'0', b'b' | b'B', ..] => (2, &unsigned[2..]),
        [b'0', _, ..] => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = match u128::from_str_radix(digits, radix) {
        Ok(m) => m,
        // Longer than 128 bits: only decimal reaches here in practice.
        Err(_) => {
            return digits
                .parse::<f64>()
                .ok()
                .map(|f| float(if negative { -f } else { f }));
        }
    };
    if negative {
        if magnitude <= i64::MAX as u128 + 1 {
            #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
            return Some(Value::Number(Number::from(
                (magnitude as i128).wrapping_neg() as i64,
            )));
        }
        #[allow(clippy::cast_precision_loss)]
        return Number::from_f64(-(magnitude as f64)).map(Value::Number);
    }
    if let Ok(u) = u64::try_from(magnitude) {
        return Some(Value::Number(Number::from(u)));
    }
    #[allow(clippy::cast_precision_loss)]
    Number::from_f64(magnitude as f64).map(Value::Number)
}

/// A mapping key as `sigs.k8s.io/yaml` writes it to JSON: resolved, then as text
/// (`on:` is the key `"true"`, `0x10:` is `"16"`, `~:` is `"null"`).
pub(crate) fn key(text: &str) -> String {
    match resolve_plain(text) {
        Ok(Value::String(s)) => s,
        Ok(Value::Null) => "null".to_owned(),
        Ok(Value::Bool(b)) => b.to_string(),
        Ok(Value::Number(n)) => n.to_string(),
        Ok(_) | Err(NotJson) => text.to_owned(),
    }
}
