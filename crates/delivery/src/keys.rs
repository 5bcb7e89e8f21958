//! Compact keys: commit shas in 24 bytes, interned names, and row ids that do not depend on
//! the order deliveries arrive in.

use std::collections::HashMap;
use std::fmt;

use ring::digest;

/// A commit id, lower-cased. A 40-digit hexadecimal (SHA-1) id is kept as its 20 bytes, so
/// the usual sha costs no allocation; anything else (SHA-256 repositories, test ids) as text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Sha {
    Sha1([u8; 20]),
    Text(Box<str>),
}

impl Sha {
    pub(crate) fn new(text: &str) -> Sha {
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.len() == 40 {
            let mut out = [0u8; 20];
            let mut ok = true;
            for (i, pair) in bytes.chunks_exact(2).enumerate() {
                match (hex_value(pair[0]), hex_value(pair[1])) {
                    (Some(high), Some(low)) => out[i] = high << 4 | low,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return Sha::Sha1(out);
            }
        }
        Sha::Text(text.to_ascii_lowercase().into_boxed_str())
    }

    /// Whether `text` could be a sha or an abbreviation of one (7+ hexadecimal digits).
    pub(crate) fn looks_like(text: &str) -> bool {
        text.len() >= 7 && text.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Whether this sha starts with `prefix` (lower-case hexadecimal).
    pub(crate) fn starts_with(&self, prefix: &str) -> bool {
        match self {
            Sha::Text(text) => text.starts_with(prefix),
            Sha::Sha1(_) => self.to_string().starts_with(prefix),
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sha::Sha1(bytes) => {
                // Shas are written out for every row and every walk: no formatter per digit.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut hex = [0u8; 40];
                for (i, byte) in bytes.iter().enumerate() {
                    hex[2 * i] = DIGITS[usize::from(byte >> 4)];
                    hex[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
                }
                f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
            }
            Sha::Text(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha({self})")
    }
}

/// Names (entity refs, environments, repositories, subjects) as dense `u32` indices: rows in
/// memory hold the index, not the string.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&ix) = self.ids.get(name) {
            return ix;
        }
        let ix = self.names.len() as u32;
        self.ids.insert(name.into(), ix);
        self.names.push(name.into());
        ix
    }

    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub(crate) fn name(&self, ix: u32) -> &str {
        self.names.get(ix as usize).map_or("", |name| name)
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// "No index" in a `u32` slot (entity, repository, deployment).
pub(crate) const NONE: u32 = u32::MAX;

/// A row id from its natural key: the first 63 bits of the SHA-256 of the key's parts. The
/// same deployment (incident, alert) gets the same id whatever order its events arrive in
/// and on every replay, and the id fits a signed 64-bit column.
pub(crate) fn stable_id(kind: &str, parts: &[&str]) -> u64 {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(kind.as_bytes());
    for part in parts {
        context.update(&[0]);
        context.update(part.as_bytes());
    }
    let digest = context.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_be_bytes(first) & (u64::MAX >> 1)
}

/// A delivery's idempotency key, `(source, id)`, as 128 bits: what the ledger remembers of
/// every delivery it applied (16 bytes each instead of the id's text).
pub(crate) fn delivery_key(source: &str, id: &str) -> u128 {
    let digest = digest::digest(&digest::SHA256, format!("{source}\0{id}").as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest.as_ref()[..16]);
    u128::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas_are_compact_and_case_insensitive() {
        let full = "F95F852BD8FCA8FCC58A9A2D6C842781E32A215E";
        let sha = Sha::new(full);
        assert!(matches!(sha, Sha::Sha1(_)));
        assert_eq!(sha.to_string(), full.to_ascii_lowercase());
        assert_eq!(sha, Sha::new(&full.to_ascii_lowercase()));
        assert!(sha.starts_with("f95f852"));
        assert!(!sha.starts_with("f95f853"));
        assert_eq!(Sha::new("C1").to_string(), "c1");
        assert!(matches!(Sha::new(&"z".repeat(40)), Sha::Text(_)));
        assert!(Sha::looks_like("abc1234"));
        assert!(!Sha::looks_like("abc123"));
        assert!(!Sha::looks_like("deploy-42"));
        assert_eq!(std::mem::size_of::<Option<Sha>>(), 24);
    }

    #[test]
    fn ids_depend_on_every_part_and_fit_63_bits() {
        let a = stable_id("deployment", &["github", "repo:x", "1"]);
        assert_eq!(a, stable_id("deployment", &["github", "repo:x", "1"]));
        assert_ne!(a, stable_id("deployment", &["github", "repo:x", "2"]));
        // Parts are separated: moving a character between parts is another key.
        assert_ne!(stable_id("k", &["ab", "c"]), stable_id("k", &["a", "bc"]));
        assert!(a <= i64::MAX as u64);
        assert_ne!(delivery_key("github", "a"), delivery_key("gitlab", "a"));
    }
}
