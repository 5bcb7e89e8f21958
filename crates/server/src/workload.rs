//! Workload identity at the HTTP edge: a CI job's OIDC token (`Authorization: Bearer <JWT>`)
//! from an issuer in `auth.workload`, verified against that issuer's keys (`jwksUri`, else the
//! `jwks_uri` of its discovery document) and mapped by the claim rules to an entity and a
//! role (`pave_auth::workload`). The issuer is read from the unverified payload only to pick
//! the keys and rules; nothing else is believed before the signature is checked.

use std::collections::HashMap;
use std::sync::Arc;

use pave_auth::jwt::{MIN_REFRESH_INTERVAL_SECS, unverified_issuer};
use pave_auth::{AccessPolicy, Expected, JwtError, Subject};
use url::Url;

use crate::AppState;
use crate::jwks::{KeyError, KeySet};
use crate::sessions::CatalogDirectory;

/// What [`WorkloadRuntime::subject`] refused, or could not check.
#[derive(Debug)]
pub(crate) enum WorkloadFailure {
    /// 401 with this reason.
    Refused(String),
    /// The issuer's keys could not be fetched (503: the token may well be good).
    Unreachable(String),
}

/// One issuer's key set address (once known) and keys.
#[derive(Default)]
struct Issuer {
    discovered: tokio::sync::Mutex<Discovered>,
    keys: KeySet,
}

/// What the issuer's discovery document gave, or when and why reading it last failed (so a
/// stream of tokens naming an unreachable issuer costs one fetch a minute, like unknown kids).
#[derive(Default)]
struct Discovered {
    jwks_uri: Option<Url>,
    failed: Option<(i64, String)>,
}

/// The workload issuers' keys, as fetched; by issuer.
#[derive(Default)]
pub(crate) struct WorkloadRuntime {
    issuers: std::sync::Mutex<HashMap<String, Arc<Issuer>>>,
}

/// How much of an untrusted issuer's name a refusal repeats.
const MAX_SHOWN_ISSUER: usize = 200;

const SETTING: &str = "auth.workload[].issuer / jwksUri (https, or http on loopback)";

/// Whether a bearer credential is a JWT (three base64url parts, the first a JSON object)
/// rather than an API token.
pub(crate) fn looks_like_jwt(secret: &str) -> bool {
    !secret.starts_with(pave_auth::token::PREFIX)
        && secret.starts_with("eyJ")
        && secret.split('.').count() == 3
}

impl WorkloadRuntime {
    fn issuer(&self, issuer: &str) -> Arc<Issuer> {
        let mut issuers = match self.issuers.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Only configured issuers get here, so the map stays as small as the configuration.
        Arc::clone(issuers.entry(issuer.to_owned()).or_default())
    }

    /// The subject a workload token acts as.
    pub(crate) async fn subject(
        &self,
        state: &AppState,
        policy: &AccessPolicy,
        token: &str,
        now_secs: i64,
    ) -> Result<Subject, WorkloadFailure> {
        let refused = |e: String| WorkloadFailure::Refused(format!("workload token: {e}"));
        let issuer = unverified_issuer(token).map_err(|e| refused(e.to_string()))?;
        let trusts = pave_auth::trusts_for(policy, &issuer).map_err(|_| {
            // Unverified text: shown (and audited) only in part.
            let mut shown: String = issuer.chars().take(MAX_SHOWN_ISSUER).collect();
            if shown.len() < issuer.len() {
                shown.push('…');
            }
            WorkloadFailure::Refused(format!(
                "workload token: issuer {shown} is not trusted (auth.workload)"
            ))
        })?;
        let mut expected: Vec<Expected> = Vec::new();
        for trust in &trusts {
            if !expected.iter().any(|e| e.audience == trust.audience) {
                expected.push(Expected::new(&issuer, &trust.audience));
            }
        }
        let configured = trusts.iter().find_map(|t| t.jwks_uri.clone());
        let entry = self.issuer(&issuer);
        let jwks_uri = jwks_uri(&entry, &issuer, configured.as_deref(), now_secs).await?;
        let claims = entry
            .keys
            .verify(&jwks_uri, SETTING, token, &expected, now_secs)
            .await
            .map_err(|e| match e {
                KeyError::Refused(e @ JwtError::UnknownKey { .. }) => {
                    refused(format!("{e} (keys are re-fetched at most once a minute)"))
                }
                KeyError::Refused(e) => refused(e.to_string()),
                KeyError::Unreachable(e) => WorkloadFailure::Unreachable(format!(
                    "cannot fetch the keys of workload issuer {issuer}: {e}"
                )),
            })?;
        let catalog = state.catalog();
        let matched = pave_auth::match_workload(policy, &claims, &CatalogDirectory(&catalog))
            .map_err(|e| refused(e.to_string()))?;
        Ok(matched.subject())
    }
}

/// The issuer's key set address: configured, else from its discovery document (fetched once;
/// after a failure, again at most once a minute).
async fn jwks_uri(
    entry: &Issuer,
    issuer: &str,
    configured: Option<&str>,
    now_secs: i64,
) -> Result<Url, WorkloadFailure> {
    if let Some(uri) = configured {
        return Url::parse(uri).map_err(|e| {
            WorkloadFailure::Unreachable(format!("auth.workload jwksUri \"{uri}\": {e}"))
        });
    }
    let unreachable = |e: &str| {
        WorkloadFailure::Unreachable(format!("workload issuer {issuer}'s discovery: {e}"))
    };
    let mut known = entry.discovered.lock().await;
    if let Some(uri) = &known.jwks_uri {
        return Ok(uri.clone());
    }
    if let Some((at, error)) = &known.failed
        && now_secs - at < MIN_REFRESH_INTERVAL_SECS
    {
        return Err(unreachable(&format!(
            "{error} (tried again at most once a minute)"
        )));
    }
    match discover(issuer).await {
        Ok(uri) => {
            known.jwks_uri = Some(uri.clone());
            known.failed = None;
            Ok(uri)
        }
        Err(error) => {
            let failure = unreachable(&error);
            known.failed = Some((now_secs, error));
            Err(failure)
        }
    }
}

async fn discover(issuer: &str) -> Result<Url, String> {
    let base = issuer.trim_end_matches('/');
    let url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|e| e.to_string())?;
    let text = crate::jwks::fetch(&url, SETTING).await?;
    pave_auth::discovery_jwks_uri(&text, issuer).map_err(|e| e.to_string())
}
