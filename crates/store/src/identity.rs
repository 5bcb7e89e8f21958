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
#[derive(Debug, Clone, Default)]
pub struct AuditTip(std::sync::Arc<tokio::sync::Mutex<Option<pave_audit::ChainHead>>>);

impl AuditTip {
    #[doc(hidden)]
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Option<pave_audit::ChainHead>> {
        self.0.lock().await
    }
}
