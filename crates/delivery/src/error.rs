//! What can go wrong: configuration that does not compile, and persisted rows that do not fit
//! together. Deliveries themselves never fail to apply: what the ledger cannot use is kept,
//! counted, or explained in [`crate::Applied::notes`].

/// An error, with the configuration field or the row (`deployments[3].environment`) it is
/// about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{field}: {message}")]
    Config { field: String, message: String },
    #[error("{path}: {message}")]
    Rows { path: String, message: String },
    /// A stored row that cannot be decoded ([`crate::codec`]): corrupt, truncated, or written
    /// by another format.
    #[error("ledger row (kind {kind}, key {key:?}): {message}")]
    Decode {
        kind: i16,
        key: String,
        message: String,
    },
}
