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
}
