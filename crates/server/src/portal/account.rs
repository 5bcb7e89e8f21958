//! The signed-in person's pages, linked from the header's user menu:
//!
//! - `GET /me`: who you are, your roles and the bindings that gave them, your groups
//!   (transitively) and what you and your groups own.
//! - `GET /me/tokens`, `POST /me/tokens`, `POST /me/tokens/{id}/revoke`: your API tokens.
//!   A new token's role is limited to what [`pave_auth::may_grant`] allows you and its
//!   expiry to `auth.tokens.maxExpiry`; the secret is shown once, on the answer to the
//!   form. Creating and revoking are audited in the same transaction (the store's calls).
//! - `GET /audit`: the audit log for `audit.read` holders, filtered and paged by seq
//!   (plain links and a GET form: no JavaScript needed).
//!
//! The forms are cookie-authenticated writes, so [`crate::auth::authenticate`] has already
//! checked their `csrf` field when a handler here runs.

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use pave_auth::{AccessPolicy, Permission, Resource, Subject, SubjectKind};
use pave_platform::Principal;
use pave_store::TokenRow;
use pave_store::audit::{AuditRecord, Outcome};
use serde_json::json;

use super::view::{self, RefView};
use super::{Layout, PortalError, Row, Section, render};
use crate::AppState;
use crate::api::audit::{AuditParams, PARAMS, next_cursor};
use crate::auth::{self, Caller};
use crate::error::ApiError;

/// Expiry choices offered by the form (those within the policy's maximum, plus it).
const EXPIRY_CHOICES: &[&str] = &["1d", "7d", "30d", "90d", "180d", "365d"];
/// The longest token name accepted.
const MAX_NAME: usize = 100;

/// A refusal or failure from the shared checks, as the portal shows it.
fn portal_error(error: ApiError) -> PortalError {
    match error {
        ApiError::Forbidden(message) | ApiError::Unauthenticated(message) => {
            PortalError::Forbidden(message)
        }
        ApiError::Input(message) | ApiError::NotFound(message) => PortalError::BadRequest(message),
        other => PortalError::internal("serving an account page", other),
    }
}

/// The policy in force, or (auth off) the defaults, so the pages still show the roles a
/// token could have.
fn policy(state: &AppState) -> Result<Arc<AccessPolicy>, PortalError> {
    if let Some(policy) = auth::enabled(state) {
        return Ok(policy);
    }
    pave_auth::AuthConfig::default()
        .validate()
        .map(Arc::new)
        .map_err(|e| PortalError::internal("the default access policy", format!("{e:?}")))
}

fn iso(ms: i64) -> String {
    pave_stdx::time::iso8601_utc(ms.div_euclid(1000))
}

// --- /me ----------------------------------------------------------------------------------

/// A role the viewer holds, its permissions and why they hold it.
pub(crate) struct RoleView {
    pub(crate) name: String,
    pub(crate) permissions: Vec<&'static str>,
    pub(crate) why: Vec<String>,
}

/// Entities one owner (you, or one of your groups) owns.
pub(crate) struct Owned {
    pub(crate) owner: RefView,
    pub(crate) rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "me.html")]
pub(crate) struct MePage {
    pub(crate) layout: Layout,
    pub(crate) name: String,
    /// The user ref, or what kind of identity this is.
    pub(crate) identity: String,
    pub(crate) user: Option<RefView>,
    pub(crate) roles: Vec<RoleView>,
    pub(crate) groups: Vec<RefView>,
    pub(crate) owned: Vec<Owned>,
    pub(crate) owned_total: usize,
}

/// The roles `subject` holds and the reasons: the bindings naming them or their groups.
pub(crate) fn roles_and_why(policy: &AccessPolicy, subject: &Subject) -> Vec<RoleView> {
    let user = match &subject.kind {
        SubjectKind::User { entity_ref } => Some(entity_ref.as_str()),
        _ => None,
    };
    subject
        .roles
        .iter()
        .map(|role| {
            let mut why = Vec::new();
            for (i, binding) in policy.bindings.iter().enumerate() {
                if binding.role != *role {
                    continue;
                }
                if let Some(user) = user
                    && binding.users.contains(user)
                {
                    why.push(format!("auth.bindings[{i}] binds it to you ({user})"));
                }
                for group in binding.groups.intersection(&subject.groups) {
                    why.push(format!("auth.bindings[{i}] binds it to your group {group}"));
                }
            }
            if why.is_empty() {
                why.push(match &subject.kind {
                    SubjectKind::Token { .. } => "the token's role".to_owned(),
                    SubjectKind::Workload { .. } => "the workload rule's role".to_owned(),
                    SubjectKind::Guest => {
                        "signed in without a catalog User (auth.oidc.unmatched: guest)".to_owned()
                    }
                    _ => "granted by the identity provider".to_owned(),
                });
            }
            let permissions = policy
                .role(role)
                .map(|r| r.permissions.iter().map(|p| p.name()).collect())
                .unwrap_or_default();
            RoleView {
                name: role.clone(),
                permissions,
                why,
            }
        })
        .collect()
}

/// `GET /me`.
pub(crate) async fn me(State(state): State<Arc<AppState>>, Caller(principal): Caller) -> Response {
    match me_page(&state, &principal).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn me_page(state: &AppState, principal: &Principal) -> Result<Response, PortalError> {
    auth::check(
        state,
        principal,
        Permission::CatalogEntityRead,
        &Resource::None,
        "/me",
    )
    .await
    .map_err(portal_error)?;
    let policy = policy(state)?;
    let subject = principal.subject();
    let catalog = state.catalog();
    let resolve =
        |r: &str, kind| view::resolve(&catalog, r, Some(kind), pave_catalog::DEFAULT_NAMESPACE);
    let user = subject.acting_user().map(|u| resolve(u, "User"));
    let identity = match &subject.kind {
        SubjectKind::User { entity_ref } => entity_ref.clone(),
        SubjectKind::Token { id, owner, .. } => match owner {
            Some(owner) => format!("API token {id} of {owner}"),
            None => format!("API token {id}"),
        },
        SubjectKind::Workload {
            issuer, subject, ..
        } => format!("workload {subject} ({issuer})"),
        SubjectKind::Guest => "guest (no catalog User)".to_owned(),
        SubjectKind::Operator => "the operator (auth is off: every permission)".to_owned(),
        SubjectKind::Scheduler => "pave's scheduler".to_owned(),
        SubjectKind::Anonymous => "anonymous".to_owned(),
    };
    let groups: Vec<RefView> = subject.groups.iter().map(|g| resolve(g, "Group")).collect();
    // What you own, then what each of your groups owns (their `ownerOf` relations).
    let mut owners: Vec<RefView> = user.iter().cloned().collect();
    owners.extend(groups.iter().cloned());
    let mut seen = BTreeSet::new();
    let mut owned = Vec::new();
    for owner in owners {
        let Some(record) = catalog.get(&owner.key) else {
            continue;
        };
        let entity = record.entity();
        let targets: Vec<RefView> = entity["relations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == "ownerOf")
            .filter_map(|r| r["targetRef"].as_str())
            .filter(|t| seen.insert(t.to_lowercase()))
            .map(|t| view::resolve(&catalog, t, None, pave_catalog::DEFAULT_NAMESPACE))
            .collect();
        if !targets.is_empty() {
            owned.push(Owned {
                rows: super::entity::owned(&catalog, &targets),
                owner,
            });
        }
    }
    let page = MePage {
        layout: Layout::new("Your account", Section::Catalog),
        name: subject.display_name.clone(),
        identity,
        user,
        roles: roles_and_why(&policy, &subject),
        groups,
        owned_total: owned.iter().map(|o| o.rows.len()).sum(),
        owned,
    };
    Ok(render(&page)?.into_response())
}

// --- /me/tokens ---------------------------------------------------------------------------

/// A token as the list shows it (never its secret or hash).
pub(crate) struct TokenView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) created: String,
    pub(crate) last_used: String,
    pub(crate) expires: String,
    pub(crate) state: &'static str,
}

impl TokenView {
    fn of(row: &TokenRow, now: i64) -> Self {
        TokenView {
            id: row.id.clone(),
            name: row.name.clone(),
            role: row.role.clone(),
            created: iso(row.created_at),
            last_used: row.last_used_at.map_or_else(|| "never".to_owned(), iso),
            expires: iso(row.expires_at),
            state: if row.revoked_at.is_some() {
                "revoked"
            } else if row.expires_at <= now {
                "expired"
            } else {
                "active"
            },
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.state == "active"
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub(crate) struct TokensPage {
    pub(crate) layout: Layout,
    pub(crate) tokens: Vec<TokenView>,
    /// Roles the viewer may give a token.
    pub(crate) roles: Vec<String>,
    pub(crate) expiries: Vec<String>,
    pub(crate) max_expiry: String,
    /// Shown once, after creating a token.
    pub(crate) created: Option<Created>,
}

pub(crate) struct Created {
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) expires: String,
    pub(crate) secret: String,
}

/// The user whose tokens these pages manage: the signed-in user (or a token's owner);
/// `None` for the operator (auth off), whose tokens have no owner.
fn token_owner(subject: &Subject) -> Option<String> {
    subject.acting_user().map(str::to_lowercase)
}

/// `auth.token.manage` on the viewer's own tokens (audited when refused).
async fn may_manage(
    state: &AppState,
    principal: &Principal,
    owner: Option<String>,
    target: &str,
) -> Result<(), PortalError> {
    let resource = Resource::Token { owner };
    auth::check(
        state,
        principal,
        Permission::AuthTokenManage,
        &resource,
        target,
    )
    .await
    .map_err(portal_error)
}

/// `GET /me/tokens`.
pub(crate) async fn tokens(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
) -> Response {
    let answer = async {
        let owner = token_owner(&principal.subject());
        may_manage(&state, &principal, owner, "/me/tokens").await?;
        tokens_page(&state, &principal, None).await
    };
    match answer.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn tokens_page(
    state: &AppState,
    principal: &Principal,
    created: Option<Created>,
) -> Result<Response, PortalError> {
    let policy = policy(state)?;
    let subject = principal.subject();
    let owner = token_owner(&subject).unwrap_or_default();
    let now = pave_stdx::time::unix_millis();
    let mut rows: Vec<TokenRow> = state
        .platform
        .store()
        .tokens()
        .await
        .map_err(|e| PortalError::internal("listing tokens", e))?
        .into_iter()
        .filter(|t| t.owner == owner)
        .collect();
    rows.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    let roles = policy
        .roles
        .keys()
        .filter(|r| pave_auth::may_grant(&policy, &subject, r).is_ok())
        .cloned()
        .collect();
    let max = policy.token_max_expiry;
    let mut expiries: Vec<String> = EXPIRY_CHOICES
        .iter()
        .filter(|c| pave_auth::duration::parse_duration(c).is_some_and(|d| d <= max))
        .map(|c| (*c).to_owned())
        .collect();
    let max_expiry = pave_auth::duration::format_duration(max);
    if !expiries.contains(&max_expiry) {
        expiries.push(max_expiry.clone());
    }
    let secret_shown = created.is_some();
    let page = TokensPage {
        layout: Layout::new("Your API tokens", Section::Catalog),
        tokens: rows.iter().map(|t| TokenView::of(t, now)).collect(),
        roles,
        expiries,
        max_expiry,
        created,
    };
    let mut response = render(&page)?.into_response();
    if secret_shown {
        // The secret must not stay in any cache (or the back button's).
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// The form's fields (the `csrf` field was checked before the handler ran).
fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// `POST /me/tokens`: name, role, expires.
pub(crate) async fn create_token(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    body: Bytes,
) -> Response {
    match create(&state, &principal, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn create(
    state: &AppState,
    principal: &Principal,
    body: &[u8],
) -> Result<Response, PortalError> {
    let subject = principal.subject();
    let owner = token_owner(&subject);
    may_manage(state, principal, owner.clone(), "/me/tokens").await?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (name, role, expires) = (
        field(&form, "name"),
        field(&form, "role"),
        field(&form, "expires"),
    );
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(PortalError::BadRequest(format!(
            "A token needs a name of 1 to {MAX_NAME} characters."
        )));
    }
    let policy = policy(state)?;
    if policy.role(&role).is_none() {
        let known: Vec<&str> = policy.roles.keys().map(String::as_str).collect();
        return Err(PortalError::BadRequest(format!(
            "There is no role “{role}”; the roles are {}.",
            known.join(", ")
        )));
    }
    if let Err(denied) = pave_auth::may_grant(&policy, &subject, &role) {
        // A crafted form (the select offers only grantable roles): refused and recorded.
        let details = json!({
            "permission": Permission::AuthTokenManage.name(),
            "reason": denied.reason,
            "name": name,
            "role": role,
        });
        let event = principal.event("auth.denied", "/me/tokens", Outcome::Denied, details);
        if let Err(e) = state.platform.store().append_audit(&[event]).await {
            tracing::error!(error = %e, "cannot append the token refusal's audit record");
        }
        return Err(PortalError::Forbidden(format!(
            "{} denied: {}",
            Permission::AuthTokenManage,
            denied.reason
        )));
    }
    let now = pave_stdx::time::unix_millis();
    let expires_s = pave_auth::token::expiry(Some(&expires), policy.token_max_expiry, now / 1000)
        .map_err(|e| PortalError::BadRequest(format!("Expiry: {e}.")))?;
    let (secret, hash) = pave_auth::TokenSecret::generate()
        .map_err(|e| PortalError::internal("generating a token secret", e))?;
    let id = uuid::Uuid::new_v4().to_string();
    let owner = owner.unwrap_or_default();
    let row = TokenRow {
        id: id.clone(),
        name: name.clone(),
        owner: owner.clone(),
        role: role.clone(),
        hash: hash.as_str().to_owned(),
        created_at: now,
        expires_at: expires_s.saturating_mul(1000),
        last_used_at: None,
        revoked_at: None,
    };
    let event = principal.event(
        "token.create",
        &id,
        Outcome::Success,
        json!({"name": name, "role": role, "owner": owner, "expiresAt": row.expires_at}),
    );
    state
        .platform
        .store()
        .create_token(&row, &[event])
        .await
        .map_err(|e| PortalError::internal("creating a token", e))?;
    let created = Created {
        name,
        role,
        expires: iso(row.expires_at),
        secret,
    };
    tokens_page(state, principal, Some(created)).await
}

/// `POST /me/tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Response {
    match revoke(&state, &principal, &id).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Response, PortalError> {
    let store = state.platform.store();
    let tokens = store
        .tokens()
        .await
        .map_err(|e| PortalError::internal("listing tokens", e))?;
    let Some(row) = tokens.iter().find(|t| t.id == id) else {
        return Err(PortalError::BadRequest(format!("There is no token {id}.")));
    };
    let owner = (!row.owner.is_empty()).then(|| row.owner.clone());
    // Someone else's token is refused like any other permission (and recorded).
    may_manage(state, principal, owner, id).await?;
    if row.revoked_at.is_none() {
        let event = principal.event(
            "token.revoke",
            id,
            Outcome::Success,
            json!({"name": row.name, "role": row.role, "owner": row.owner}),
        );
        store
            .revoke_token(id, pave_stdx::time::unix_millis(), &[event])
            .await
            .map_err(|e| PortalError::internal("revoking a token", e))?;
        state.auth_runtime().forget_token(id);
    }
    Ok(Redirect::to("/me/tokens").into_response())
}

// --- /audit -------------------------------------------------------------------------------

/// One audit record as the table shows it.
pub(crate) struct RecordView {
    pub(crate) seq: i64,
    pub(crate) time: String,
    pub(crate) actor: String,
    pub(crate) role: String,
    pub(crate) action: String,
    pub(crate) target: String,
    pub(crate) outcome: &'static str,
    pub(crate) source: String,
    pub(crate) details: String,
}

impl RecordView {
    fn of(record: &AuditRecord) -> Self {
        let e = &record.event;
        let details = match &e.details {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Object(map) if map.is_empty() => String::new(),
            other => view::shorten(&other.to_string(), 240),
        };
        RecordView {
            seq: record.seq,
            time: iso(e.time_ms),
            actor: if e.actor.id.is_empty() {
                e.actor.kind.as_str().to_owned()
            } else {
                format!("{} {}", e.actor.kind, e.actor.id)
            },
            role: e.actor.role.clone().unwrap_or_default(),
            action: e.action.clone(),
            target: e.target.clone(),
            outcome: e.outcome.as_str(),
            source: e.source.clone().unwrap_or_default(),
            details,
        }
    }

    pub(crate) fn outcome_class(&self) -> &'static str {
        match self.outcome {
            "success" => "badge outcome-success",
            "denied" => "badge outcome-denied",
            _ => "badge outcome-failure",
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    pub(crate) layout: Layout,
    pub(crate) params: AuditParams,
    pub(crate) outcomes: [&'static str; 3],
    pub(crate) records: Vec<RecordView>,
    pub(crate) older_href: Option<String>,
    pub(crate) newest_href: Option<String>,
}

/// `/audit?…` with `params`' values but `before`, then `before` if given.
fn audit_href(params: &AuditParams, before: Option<i64>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for name in PARAMS.iter().filter(|n| **n != "before") {
        let value = params.value(name);
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    if let Some(before) = before {
        query.append_pair("before", &before.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/audit".to_owned()
    } else {
        format!("/audit?{query}")
    }
}

/// `GET /audit`.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    RawQuery(raw): RawQuery,
) -> Response {
    match audit_page(&state, &principal, raw.as_deref()).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn audit_page(
    state: &AppState,
    principal: &Principal,
    raw: Option<&str>,
) -> Result<Response, PortalError> {
    auth::check(
        state,
        principal,
        Permission::AuditRead,
        &Resource::None,
        "/audit",
    )
    .await
    .map_err(portal_error)?;
    let params =
        AuditParams::parse(raw, true).map_err(|e| PortalError::BadRequest(format!("{e}.")))?;
    let records = state
        .platform
        .store()
        .audit_records(&params.query)
        .await
        .map_err(|e| PortalError::internal("reading the audit log", e))?;
    let next = next_cursor(&records, params.query.limit);
    let page = AuditPage {
        layout: Layout::new("Audit log", Section::Catalog),
        outcomes: ["success", "denied", "failure"],
        records: records.iter().map(RecordView::of).collect(),
        older_href: next.map(|seq| audit_href(&params, Some(seq))),
        newest_href: params.query.before_seq.map(|_| audit_href(&params, None)),
        params,
    };
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn roles_name_the_bindings_that_gave_them() {
        let config: pave_auth::AuthConfig = serde_json::from_value(json!({
            "bindings": [
                {"role": "viewer", "groups": ["team-a"]},
                {"role": "editor", "users": ["jane"]},
                {"role": "viewer", "groups": ["org"]},
            ]
        }))
        .unwrap();
        let policy = config.validate().unwrap();
        let groups = BTreeSet::from([
            "group:default/team-a".to_owned(),
            "group:default/org".to_owned(),
        ]);
        let jane = Subject::user(&policy, "user:default/jane", "Jane", groups);
        let roles = roles_and_why(&policy, &jane);
        let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["editor", "viewer"]);
        assert_eq!(
            roles[0].why,
            ["auth.bindings[1] binds it to you (user:default/jane)"]
        );
        assert_eq!(
            roles[1].why,
            [
                "auth.bindings[0] binds it to your group group:default/team-a",
                "auth.bindings[2] binds it to your group group:default/org",
            ]
        );
        assert!(roles[1].permissions.contains(&"catalog.entity.read"));
        let token = Subject::token("t1", "ci", Some("user:default/jane"), "viewer");
        assert_eq!(roles_and_why(&policy, &token)[0].why, ["the token's role"]);
    }

    #[test]
    fn older_links_keep_the_filters_and_move_the_cursor() {
        let params = AuditParams::parse(
            Some("actor=user:default/jane&before=9&outcome=denied"),
            true,
        )
        .unwrap();
        assert_eq!(
            audit_href(&params, Some(3)),
            "/audit?actor=user%3Adefault%2Fjane&outcome=denied&before=3"
        );
        assert_eq!(
            audit_href(&params, None),
            "/audit?actor=user%3Adefault%2Fjane&outcome=denied"
        );
        assert_eq!(audit_href(&AuditParams::default(), None), "/audit");
    }
}
