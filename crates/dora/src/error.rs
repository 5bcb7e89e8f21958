//! Errors of the metrics engine: facts that point nowhere and queries that cannot be answered.
//!
//! Facts arrive from the store as plain vectors of indices; an index past the end of the
//! vector it points into is a broken store or a broken caller, and it is reported with the
//! JSON path of the offending field (`deployments[12].entity`), never a panic.

use crate::facts::Millis;

/// What went wrong, with the JSON path of the field where it applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoraError {
    /// A cross-reference points past the end of the vector it indexes.
    #[error("{path}: {value} is out of range ({what} indices are 0..{len})")]
    IndexOutOfRange {
        path: String,
        value: u64,
        what: &'static str,
        len: usize,
    },
    /// `org.system_domains` must have one entry per system.
    #[error("org.system_domains: {got} entries, but org.systems has {want}; they must be parallel")]
    SystemDomainsLength { got: usize, want: usize },
    /// Severity is 1 (most severe) to 5.
    #[error("{path}: severity {value} is outside 1-5")]
    SeverityOutOfRange { path: String, value: u8 },
    /// More facts than a `u32` index can address.
    #[error("{what}: {len} entries is more than the 4,294,967,295 an index can address")]
    TooMany { what: &'static str, len: usize },
    /// `from` must be before `to`.
    #[error("query window [{from}, {to}) is empty: `from` must be before `to`")]
    EmptyWindow { from: Millis, to: Millis },
    /// Windows are bounded so that day and week tables stay small and arithmetic cannot
    /// overflow.
    #[error("query window [{from}, {to}) is outside {min}..{max} or longer than {max_days} days")]
    WindowOutOfRange {
        from: Millis,
        to: Millis,
        min: Millis,
        max: Millis,
        max_days: i64,
    },
}
