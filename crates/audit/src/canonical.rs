//! The canonical encoding record hashes cover (documented on [`canonical_bytes`]).

use std::io::Write as _;

use serde_json::Value;

use crate::record::{ActorKind, AuditEvent, Outcome};

/// The canonical encoding a record's hash covers. **Stable forever** (a change needs a new
/// version tag in [`crate::record::HASH_TAG`]).
///
/// It is the JSON object
///
/// ```text
/// {"action":…,"actor":{"id":…,"kind":…,"role":…},"details":…,"outcome":…,
///  "request_id":…,"seq":…,"source":…,"target":…,"time_ms":…}
/// ```
///
/// written RFC 8785 (JCS)-like:
/// - no whitespace anywhere; absent options are `null`; `kind` and `outcome` are the
///   lowercase names (`user`, `success`);
/// - object keys sorted by Unicode code point (byte order of UTF-8; JCS sorts by UTF-16
///   code units, which differs only for keys mixing characters above U+FFFF with
///   U+E000–U+FFFF), recursively inside `details`; arrays keep their order;
/// - strings in double quotes, escaping only `"` as `\"`, `\` as `\\`, and control
///   characters below U+0020 (`\b \t \n \f \r`, others `\u00XX` with lowercase hex), all
///   other characters as raw UTF-8 (exactly what serde_json and JCS write);
/// - numbers as serde_json writes them: integers in plain decimal, other numbers as the
///   shortest text that reads back to the same `f64` (audit details should prefer
///   integers and strings).
///
/// It does not depend on the order of keys in `details` (serde_json keeps insertion order
/// in this workspace), so a record read back from a database hashes the same. Python's
/// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes the
/// same bytes for records without fractional numbers, so auditors can recompute hashes
/// without pave (the evidence pack's README shows how).
pub fn canonical_bytes(seq: i64, event: &AuditEvent) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    write_canonical_record(&mut buf, seq, &event.parts());
    buf
}

/// The canonical text of any JSON value (keys sorted, compact), as `details` is hashed.
/// Stored as the `details` column's text (not a PostgreSQL `jsonb`, which rewrites it), it
/// can be hashed verbatim when verifying ([`Details::Canonical`]). Parsing it and writing
/// it again gives the same text.
pub fn canonical_json(value: &Value) -> String {
    let mut buf = Vec::with_capacity(64);
    write_canonical_value(&mut buf, value);
    // The encoding writes UTF-8 only.
    String::from_utf8(buf).unwrap_or_default()
}

/// An event's fields, borrowed: what [`crate::RecordHasher::hash_parts`] hashes. Build it
/// with [`AuditEvent::parts`] or straight from a database row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventParts<'a> {
    pub time_ms: i64,
    pub actor_kind: ActorKind,
    pub actor_id: &'a str,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: Outcome,
    pub source: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub details: Details<'a>,
}

/// An event's `details`, as a value or as its canonical text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Details<'a> {
    /// Canonicalized while hashing (any key order).
    Value(&'a Value),
    /// [`canonical_json`] text, hashed byte for byte: any other text of the same value
    /// gives another hash (so an edited column shows as an edited record).
    Canonical(&'a str),
}

pub(crate) fn write_canonical_record(buf: &mut Vec<u8>, seq: i64, e: &EventParts<'_>) {
    // The keys are written in sorted order by hand; a test checks this against the generic
    // sorting path over the same object.
    buf.extend_from_slice(b"{\"action\":");
    write_str(buf, e.action);
    buf.extend_from_slice(b",\"actor\":{\"id\":");
    write_str(buf, e.actor_id);
    buf.extend_from_slice(b",\"kind\":");
    write_str(buf, e.actor_kind.as_str());
    buf.extend_from_slice(b",\"role\":");
    write_opt_str(buf, e.actor_role);
    buf.extend_from_slice(b"},\"details\":");
    match e.details {
        Details::Value(v) => write_canonical_value(buf, v),
        Details::Canonical(text) => buf.extend_from_slice(text.as_bytes()),
    }
    buf.extend_from_slice(b",\"outcome\":");
    write_str(buf, e.outcome.as_str());
    buf.extend_from_slice(b",\"request_id\":");
    write_opt_str(buf, e.request_id);
    buf.extend_from_slice(b",\"seq\":");
    write_int(buf, seq);
    buf.extend_from_slice(b",\"source\":");
    write_opt_str(buf, e.source);
    buf.extend_from_slice(b",\"target\":");
    write_str(buf, e.target);
    buf.extend_from_slice(b",\"time_ms\":");
    write_int(buf, e.time_ms);
    buf.push(b'}');
}

/// Decimal, as serde_json (itoa) writes it; by hand because `write!` costs more than the
/// rest of a record's encoding.
fn write_int(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    write_u64(buf, n.unsigned_abs());
}

fn write_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

fn write_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// Bytes a JSON string must escape: control characters, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A JSON string, escaped as documented on [`canonical_bytes`]. Written here rather than
/// through serde_json so the hashed bytes cannot change with a dependency update.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[usize::from(b)] {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0x08 => buf.extend_from_slice(b"\\b"),
            0x0c => buf.extend_from_slice(b"\\f"),
            _ => {
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 15)]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Any JSON value with object keys sorted recursively.
pub(crate) fn write_canonical_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(true) => buf.extend_from_slice(b"true"),
        Value::Bool(false) => buf.extend_from_slice(b"false"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => write_u64(buf, u),
            (None, Some(i)) => write_int(buf, i),
            // serde_json's Display for numbers is its JSON output (shortest round trip).
            (None, None) => {
                // Writing to a Vec cannot fail.
                let _ = write!(buf, "{n}");
            }
        },
        Value::String(s) => write_str(buf, s),
        Value::Array(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_canonical_value(buf, item);
            }
            buf.push(b']');
        }
        Value::Object(map) => {
            buf.push(b'{');
            // Details objects are small: sort them on the stack, no allocation per record.
            const SMALL: usize = 16;
            if map.keys().is_sorted() {
                write_members(buf, map.iter().map(|(k, v)| (k.as_str(), v)));
            } else if map.len() <= SMALL {
                let mut members = [("", &NULL); SMALL];
                for (slot, (k, v)) in members.iter_mut().zip(map) {
                    *slot = (k.as_str(), v);
                }
                let members = &mut members[..map.len()];
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                write_members(buf, members.iter().copied());
            } else {
                let mut members: Vec<(&str, &Value)> =
                    map.iter().map(|(k, v)| (k.as_str(), v)).collect();
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                write_members(buf, members.into_iter());
            }
            buf.push(b'}');
        }
    }
}

static NULL: Value = Value::Null;

fn write_members<'a>(buf: &mut Vec<u8>, members: impl Iterator<Item = (&'a str, &'a Value)>) {
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_str(buf, k);
        buf.push(b':');
        write_canonical_value(buf, v);
    }
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
mod tests;
