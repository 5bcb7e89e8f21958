//! Rows for identity and audit: sessions, sign-ins in flight, API tokens, and the query of
//! the audit log. Like the catalog rows they carry no semantics the store acts on: a
//! session's subject is JSON the server wrote, a token's role a name the server checks.

use pave_audit::Outcome;

/// A signed-in browser session. The cookie holds a secret; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the cookie's secret.
    pub id_hash: String,
    /// Who signed in, as JSON the server wrote.
    pub subject: String,
    /// The token state-changing forms must carry.
    pub csrf: String,
    /// Unix milliseconds, as every time here.
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute limit.
    pub expires_at: i64,
}

/// An authorization request waiting for the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRow {
    /// SHA-256 (hex) of the `state` sent to the provider.
    pub state_hash: String,
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to go after signing in (a same-origin path).
    pub return_to: String,
    pub created_at: i64,
}

/// An API token (`pave_…`), by the SHA-256 of its secret. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    /// The user entity ref that created it; empty when the operator did.
    pub owner: String,
    pub role: String,
    /// SHA-256 (hex) of the secret.
    pub hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Which audit records to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Unix milliseconds, inclusive.
    pub since: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_prefix: Option<String>,
    pub outcome: Option<Outcome>,
    /// Only records before this sequence number (the next page's cursor).
    pub before_seq: Option<i64>,
    /// At most this many (the store caps it at [`AUDIT_PAGE_MAX`]).
    pub limit: usize,
}

/// The most records one [`AuditQuery`] returns.
pub const AUDIT_PAGE_MAX: usize = 1000;

/// The audit chain's head as this store last wrote it: a hint, because the database checks
/// every record against the stored head (see `sql_identity.rs`). Held across an append, so
/// one store's appends queue here rather than collide in the database.
///
/// Appends that arrive while another is being written wait in [`AuditTip::enqueue`]'s
/// queue, and whoever takes the head next writes all of them in one statement (group
/// commit): a burst of refused sign-ins or webhooks costs one commit per burst, not one per
/// record.
#[derive(Debug, Clone, Default)]
pub struct AuditTip(std::sync::Arc<TipState>);

#[derive(Debug, Default)]
struct TipState {
    head: tokio::sync::Mutex<Option<pave_audit::ChainHead>>,
    waiting: std::sync::Mutex<Vec<WaitingAppend>>,
}

/// Events waiting for the next writer, and where their records go.
#[doc(hidden)]
#[derive(Debug)]
pub struct WaitingAppend {
    pub events: Vec<pave_audit::AuditEvent>,
    pub done: tokio::sync::oneshot::Sender<crate::Result<Vec<pave_audit::AuditRecord>>>,
}

impl AuditTip {
    #[doc(hidden)]
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Option<pave_audit::ChainHead>> {
        self.0.head.lock().await
    }

    /// Queues `events` for the next writer; the receiver gets their records.
    #[doc(hidden)]
    pub fn enqueue(
        &self,
        events: &[pave_audit::AuditEvent],
    ) -> tokio::sync::oneshot::Receiver<crate::Result<Vec<pave_audit::AuditRecord>>> {
        let (done, receiver) = tokio::sync::oneshot::channel();
        let entry = WaitingAppend {
            events: events.to_vec(),
            done,
        };
        self.0
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(entry);
        receiver
    }

    /// Everything queued so far, oldest first (called holding [`AuditTip::lock`]).
    #[doc(hidden)]
    pub fn take_waiting(&self) -> Vec<WaitingAppend> {
        std::mem::take(
            &mut *self
                .0
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
