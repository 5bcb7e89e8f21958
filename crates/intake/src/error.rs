//! What can go wrong at the intake, and what each error means for the caller (the HTTP
//! status the server answers with: [`IntakeError::kind`]).

use std::sync::Arc;
use std::time::Duration;

use pave_delivery::LedgerError;
use pave_dora::DoraError;
use pave_events::{AuthError, ReadError, Source};
use pave_store::StoreError;

/// How the server should answer an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404: no such source, or none configured.
    NotFound,
    /// 401: the delivery is not authentic.
    Unauthorized,
    /// 413: the body is over the limit.
    TooLarge,
    /// 400: the delivery cannot be read (with the position or field).
    BadRequest,
    /// 429 with `Retry-After`: the write queue is full.
    Busy,
    /// 503: the intake or the store is not available now.
    Unavailable,
    /// 500: configuration or stored data that does not fit.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    UnknownSource(#[from] pave_events::UnknownSource),
    #[error("no secret is configured for {0} deliveries: set events.sources.{0}.secrets")]
    NotConfigured(Source),
    #[error("the delivery is not authentic: {0}")]
    Unauthorized(#[source] AuthError),
    #[error("the body is {size} bytes, over the limit of {limit} bytes (events.bodyLimit)")]
    TooLarge { size: usize, limit: usize },
    #[error("the delivery cannot be read: {0}")]
    BadRequest(#[source] ReadError),
    #[error("the intake queue is full; retry after {} s", retry_after.as_secs().max(1))]
    Busy { retry_after: Duration },
    #[error("the intake has stopped")]
    Stopped,
    #[error("the store failed: {0}")]
    Store(#[source] Arc<StoreError>),
    #[error("the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("the report: {0}")]
    Dora(#[from] DoraError),
    /// A configuration mistake, with the field path in pave.yaml (`events.sources.github`).
    #[error("{field}: {message}")]
    Config { field: String, message: String },
    #[error("{0}")]
    Invalid(String),
    /// A postmortem that cannot be read: every problem, each at its line and column.
    #[error("the postmortem cannot be read:\n{0}")]
    Postmortem(pave_dora::postmortem::PostmortemError),
    #[error("a worker task failed: {0}")]
    Worker(#[source] tokio::task::JoinError),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Store(Arc::new(e))
    }
}

impl IntakeError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            IntakeError::UnknownSource(_) | IntakeError::NotConfigured(_) => ErrorKind::NotFound,
            IntakeError::Unauthorized(_) => ErrorKind::Unauthorized,
            IntakeError::TooLarge { .. } => ErrorKind::TooLarge,
            IntakeError::BadRequest(_) | IntakeError::Invalid(_) | IntakeError::Postmortem(_) => {
                ErrorKind::BadRequest
            }
            IntakeError::Busy { .. } => ErrorKind::Busy,
            IntakeError::Stopped | IntakeError::Store(_) => ErrorKind::Unavailable,
            IntakeError::Ledger(_)
            | IntakeError::Dora(_)
            | IntakeError::Config { .. }
            | IntakeError::Worker(_) => ErrorKind::Internal,
        }
    }

    /// For [`ErrorKind::Busy`]: how long the sender should wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            IntakeError::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        IntakeError::Config {
            field: field.into(),
            message: message.into(),
        }
    }
}
