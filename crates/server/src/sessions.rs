//! Browser sessions: the cookie, its lookup in the store, the CSRF token, and the catalog as
//! the identity [`Directory`].
//!
//! - The cookie holds 32 random bytes (base64url); the store keeps only their SHA-256, so a
//!   copy of the database signs nobody in. It is `__Host-pave_session` over HTTPS (no
//!   `Domain`, `Path=/`, `Secure`: a sibling subdomain cannot plant or shadow it), else
//!   `pave_session`; always `HttpOnly` and `SameSite=Lax`.
//! - A session ends when idle longer than `auth.session.idleTimeout` or older than
//!   `absoluteTimeout`; its last use is written at most once a minute.
//! - The subject is rebuilt on every request from what the session names (the user ref):
//!   roles from the current bindings, groups from the current catalog, so a removed
//!   membership takes effect at once.
//! - Every cookie-authenticated request other than GET/HEAD/OPTIONS must carry the session's
//!   CSRF token (`X-CSRF-Token` or a `csrf` form field); bearer-token calls need none: a
//!   browser never adds an `Authorization` header on its own.

use std::collections::BTreeSet;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pave_auth::{AccessPolicy, Directory, Subject};
use pave_catalog::Catalog;
use pave_catalog::query::EntityFilter;
use pave_store::SessionRow;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;

/// The session cookie over HTTPS.
pub(crate) const COOKIE_HOST: &str = "__Host-pave_session";
/// The session cookie over plain HTTP (loopback development), where `__Host-` is not allowed.
pub(crate) const COOKIE_PLAIN: &str = "pave_session";
/// A session's last use is written at most this often (milliseconds).
const TOUCH_EVERY_MS: i64 = 60_000;

/// The session of the current request, in its extensions (logout, the CSRF field of forms).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id_hash: String,
    pub(crate) csrf: String,
}

/// What a session row's `subject` column holds (JSON pave wrote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionSubject {
    /// `user` or `guest`.
    pub(crate) kind: String,
    /// The catalog User (users only).
    #[serde(default)]
    pub(crate) user_ref: String,
    pub(crate) name: String,
    /// Groups named by the provider's groups claim, when configured (catalog groups are
    /// re-read on every request).
    #[serde(default)]
    pub(crate) claim_groups: Vec<String>,
    /// The provider's issuer and subject, for the audit trail.
    #[serde(default)]
    pub(crate) issuer: String,
    #[serde(default)]
    pub(crate) sub: String,
}

/// SHA-256 of `text` as lower-case hex (how secrets are stored).
pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    pave_stdx::hex(digest.as_ref())
}

/// 32 random bytes as base64url (43 characters).
pub(crate) fn random_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the system random generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request, if sent once (a repeated name is ignored:
/// which one a browser sent first is not something to rely on).
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned());
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The session cookie's name for this server.
pub(crate) fn cookie_name(https: bool) -> &'static str {
    if https { COOKIE_HOST } else { COOKIE_PLAIN }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS; `max_age` in
/// seconds (0 clears it; `None`: until the browser closes).
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    https: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if https {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    // Names and values are ours (base64url), so this cannot fail; fall back to clearing.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("pave_session=; Max-Age=0"))
}

/// Why a session cookie did not authenticate (the caller is then anonymous).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stale {
    Unknown,
    Idle,
    Expired,
    Unreadable,
}

/// The subject of the session whose cookie secret is `secret`, rebuilt from the current
/// bindings and catalog; `Err(Stale)` when there is no live session. Touches the session
/// at most once a minute.
pub(crate) async fn session_subject(
    state: &AppState,
    policy: &AccessPolicy,
    secret: &str,
    now: i64,
) -> Result<Result<(Subject, Session), Stale>, ApiError> {
    let id_hash = sha256_hex(secret);
    let store = state.platform.store();
    let Some(row) = store.session(&id_hash).await? else {
        return Ok(Err(Stale::Unknown));
    };
    if row.expires_at <= now {
        return Ok(Err(Stale::Expired));
    }
    if row.last_seen_at < now - millis(policy.session_idle_timeout) {
        return Ok(Err(Stale::Idle));
    }
    let Ok(named) = serde_json::from_str::<SessionSubject>(&row.subject) else {
        return Ok(Err(Stale::Unreadable));
    };
    if now - row.last_seen_at >= TOUCH_EVERY_MS
        && let Err(e) = store.touch_session(&id_hash, now).await
    {
        tracing::warn!(error = %e, "cannot record the session's last use");
    }
    let subject = rebuild(state, policy, &named);
    Ok(Ok((
        subject,
        Session {
            id_hash,
            csrf: row.csrf,
        },
    )))
}

/// The subject a session names, with today's roles and groups.
pub(crate) fn rebuild(state: &AppState, policy: &AccessPolicy, named: &SessionSubject) -> Subject {
    if named.kind != "user" {
        return Subject::guest(&named.name);
    }
    let catalog = state.catalog();
    let dir = CatalogDirectory(&catalog);
    let mut groups: BTreeSet<String> = pave_auth::transitive_groups(&dir, &named.user_ref);
    groups.extend(pave_auth::subject::with_ancestors(
        &dir,
        named.claim_groups.clone(),
    ));
    Subject::user(policy, &named.user_ref, &named.name, groups)
}

/// A new session row for `subject` (times in milliseconds).
pub(crate) fn new_row(
    policy: &AccessPolicy,
    id_hash: String,
    csrf: String,
    subject: &SessionSubject,
    now: i64,
) -> Result<SessionRow, ApiError> {
    Ok(SessionRow {
        id_hash,
        subject: serde_json::to_string(subject)
            .map_err(|e| ApiError::Internal(format!("encoding a session: {e}")))?,
        csrf,
        created_at: now,
        last_seen_at: now,
        expires_at: now + millis(policy.session_absolute_timeout),
    })
}

pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The catalog snapshot as the identity directory: Users, their `memberOf`, Groups' parents
/// (the stitched `memberOf` and `childOf` relations, which cover `spec.memberOf`,
/// `spec.parent` and the other side's `members`/`children`).
pub(crate) struct CatalogDirectory<'a>(pub(crate) &'a Catalog);

impl CatalogDirectory<'_> {
    fn related(&self, from: &str, relation: &str) -> Vec<String> {
        let Some(record) = self.0.get(&from.to_lowercase()) else {
            return Vec::new();
        };
        pave_catalog::query::Record::entity(record)["relations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == relation)
            .filter_map(|r| r["targetRef"].as_str().map(str::to_lowercase))
            .collect()
    }

    fn keys(&self, filter: &EntityFilter) -> Vec<String> {
        self.0
            .filter_ids(Some(filter))
            .into_iter()
            .filter_map(|id| self.0.record(id).map(|r| r.key.to_string()))
            .collect()
    }
}

impl Directory for CatalogDirectory<'_> {
    fn member_of(&self, user_ref: &str) -> Vec<String> {
        self.related(user_ref, "memberOf")
    }

    fn parents_of(&self, group_ref: &str) -> Vec<String> {
        self.related(group_ref, "childOf")
    }

    fn user_by_email(&self, email: &str) -> Option<String> {
        let found = self.keys(&EntityFilter::all_of([
            ("kind", "user"),
            ("spec.profile.email", email),
        ]));
        // Two Users with one address: neither is who signed in.
        match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    fn user_exists(&self, user_ref: &str) -> bool {
        let key = user_ref.to_lowercase();
        key.starts_with("user:") && self.0.get(&key).is_some()
    }

    fn entities_with_annotation(&self, key: &str, value: &str) -> Vec<String> {
        let field = format!("metadata.annotations.{key}");
        self.keys(&EntityFilter::all_of([(field.as_str(), value)]))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cookies_are_read_once_and_written_with_their_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pave_session=s3; b=2"),
        );
        assert_eq!(cookie(&headers, "pave_session").as_deref(), Some("s3"));
        assert_eq!(cookie(&headers, "__Host-pave_session"), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("pave_session=other"),
        );
        assert_eq!(cookie(&headers, "pave_session"), None, "ambiguous: ignored");
        let secure = set_cookie(COOKIE_HOST, "v", true, None);
        assert_eq!(
            secure.to_str().unwrap(),
            "__Host-pave_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let plain = set_cookie(COOKIE_PLAIN, "", false, Some(0));
        assert_eq!(
            plain.to_str().unwrap(),
            "pave_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        assert_eq!(cookie_name(true), COOKIE_HOST);
        assert_eq!(cookie_name(false), COOKIE_PLAIN);
    }

    #[test]
    fn secrets_hash_and_compare() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (a, b) = (random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..42]));
    }
}
