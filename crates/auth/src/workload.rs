//! Workload identity: a CI job's OIDC token (GitHub Actions, GitLab CI), already verified
//! against its issuer's JWKS, mapped by `auth.workload` claim rules to an entity and a role.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::jwt::Claims;
use crate::policy::{AccessPolicy, ClaimRule, WorkloadTrust};
use crate::subject::{Directory, Subject, SubjectKind};

/// Why a workload token maps to nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    #[error("tokens from issuer \"{0}\" are not accepted (it is not in auth.workload)")]
    UnconfiguredIssuer(String),
    #[error("the issuer's discovery document: {0}")]
    Discovery(String),
    #[error("no auth.workload entry for {issuer} matches: {}", reasons.join("; "))]
    NoMatch {
        issuer: String,
        reasons: Vec<String>,
    },
}

/// The `jwks_uri` of a CI issuer's discovery document. CI providers publish only the parts
/// of OIDC discovery a verifier needs (GitHub Actions has no authorization or token
/// endpoint), so this reads just the issuer, checked exactly, and the key set's address
/// (https, or http on loopback).
pub fn discovery_jwks_uri(json: &str, expected_issuer: &str) -> Result<url::Url, WorkloadError> {
    let bad = |m: String| WorkloadError::Discovery(m);
    let doc: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let issuer = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if issuer != expected_issuer {
        return Err(bad(format!(
            "the document is for issuer \"{issuer}\", expected \"{expected_issuer}\""
        )));
    }
    let text = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no jwks_uri".into()))?;
    let uri = url::Url::parse(text).map_err(|e| bad(format!("jwks_uri \"{text}\": {e}")))?;
    if uri.scheme() == "https" || (uri.scheme() == "http" && crate::policy::is_loopback(&uri)) {
        Ok(uri)
    } else {
        Err(bad(format!("jwks_uri \"{text}\" is not https")))
    }
}

/// What a workload token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadMatch {
    pub issuer: String,
    /// The token's `sub` (`repo:acme/web:ref:refs/heads/main` on GitHub).
    pub subject: String,
    /// The entity an `equalsAnnotation` rule mapped the token to.
    pub entity: Option<String>,
    pub role: String,
}

impl WorkloadMatch {
    /// The subject for [`crate::authorize`]: exactly the trust's role, no groups.
    pub fn subject(&self) -> Subject {
        Subject {
            kind: SubjectKind::Workload {
                issuer: self.issuer.clone(),
                subject: self.subject.clone(),
                entity: self.entity.clone(),
            },
            display_name: format!(
                "workload {}",
                self.entity.as_deref().unwrap_or(&self.subject)
            ),
            roles: vec![self.role.clone()],
            groups: BTreeSet::new(),
        }
    }
}

/// The trusts configured for `issuer` (to pick the audience and JWKS to verify with), or
/// the refusal for an issuer nobody configured.
pub fn trusts_for<'a>(
    policy: &'a AccessPolicy,
    issuer: &str,
) -> Result<Vec<&'a WorkloadTrust>, WorkloadError> {
    let trusts: Vec<&WorkloadTrust> = policy
        .workload
        .iter()
        .filter(|t| t.issuer == issuer)
        .collect();
    if trusts.is_empty() {
        return Err(WorkloadError::UnconfiguredIssuer(issuer.to_owned()));
    }
    Ok(trusts)
}

/// Maps verified `claims` to the first `auth.workload` entry whose issuer and audience match
/// and whose rules all hold.
pub fn match_workload(
    policy: &AccessPolicy,
    claims: &Claims,
    dir: &dyn Directory,
) -> Result<WorkloadMatch, WorkloadError> {
    let issuer = claims
        .str("iss")
        .ok_or(WorkloadError::MissingClaim("iss"))?;
    trusts_for(policy, issuer)?;
    let audiences: Vec<&str> = match claims.0.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut reasons = Vec::new();
    for (i, trust) in policy
        .workload
        .iter()
        .enumerate()
        .filter(|(_, t)| t.issuer == issuer)
    {
        if !audiences.contains(&trust.audience.as_str()) {
            reasons.push(format!(
                "[{i}] wants audience \"{}\", the token has {audiences:?}",
                trust.audience
            ));
            continue;
        }
        match check_rules(trust, claims, dir) {
            Ok(entity) => {
                return Ok(WorkloadMatch {
                    issuer: issuer.to_owned(),
                    subject: claims.sub().unwrap_or_default().to_owned(),
                    entity,
                    role: trust.role.clone(),
                });
            }
            Err(reason) => reasons.push(format!("[{i}] {reason}")),
        }
    }
    Err(WorkloadError::NoMatch {
        issuer: issuer.to_owned(),
        reasons,
    })
}

/// A claim as text: strings as they are, numbers and booleans as JSON writes them (GitLab
/// sends some as booleans); arrays and objects never match.
fn claim_text(claims: &Claims, name: &str) -> Option<String> {
    match claims.0.get(name)? {
        Value::String(s) => Some(s.clone()),
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

/// Checks every rule; returns the entity the annotation rules agree on.
fn check_rules(
    trust: &WorkloadTrust,
    claims: &Claims,
    dir: &dyn Directory,
) -> Result<Option<String>, String> {
    let mut candidates: Option<BTreeSet<String>> = None;
    for rule in &trust.rules {
        let (ClaimRule::Equals { claim, .. } | ClaimRule::EqualsAnnotation { claim, .. }) = rule;
        let got =
            claim_text(claims, claim).ok_or_else(|| format!("claim \"{claim}\" is missing"))?;
        match rule {
            ClaimRule::Equals { value, .. } if got != *value => {
                return Err(format!(
                    "claim \"{claim}\" is \"{got}\", expected \"{value}\""
                ));
            }
            ClaimRule::Equals { .. } => {}
            ClaimRule::EqualsAnnotation { annotation, .. } => {
                let found: BTreeSet<String> = dir
                    .entities_with_annotation(annotation, &got)
                    .iter()
                    .map(|e| e.to_lowercase())
                    .collect();
                if found.is_empty() {
                    return Err(format!(
                        "no catalog entity has {annotation} = \"{got}\" (claim \"{claim}\")"
                    ));
                }
                let both: BTreeSet<String> = match candidates {
                    Some(previous) => previous.intersection(&found).cloned().collect(),
                    None => found,
                };
                if both.is_empty() {
                    return Err("the annotation rules point at different entities".into());
                }
                candidates = Some(both);
            }
        }
    }
    let Some(candidates) = candidates else {
        return Ok(None);
    };
    if candidates.len() == 1 {
        return Ok(candidates.into_iter().next());
    }
    // A repository's Component and its API usually share the annotation: the Component is
    // what a pipeline deploys.
    let components: Vec<&String> = candidates
        .iter()
        .filter(|e| e.starts_with("component:"))
        .collect();
    match components.as_slice() {
        [one] => Ok(Some((*one).clone())),
        _ => {
            let list: Vec<&str> = candidates.iter().map(String::as_str).collect();
            Err(format!(
                "{} entities match ({}); the token cannot act for one of them",
                list.len(),
                list.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::subject::tests::directory;
    use serde_json::json;

    const GITHUB: &str = "https://token.actions.githubusercontent.com";

    #[rustfmt::skip]
    fn policy() -> AccessPolicy {
        let config: crate::config::AuthConfig = serde_json::from_value(json!({
            "roles": {"deployer": {"permissions": ["catalog.entity.read", "slo.gate.override"]}},
            "workload": [
                {"issuer": GITHUB, "audience": "pave", "role": "deployer", "rules": [
                    {"claim": "repository", "equalsAnnotation": "github.com/project-slug"},
                    {"claim": "ref", "equals": "refs/heads/main"}]},
                {"issuer": GITHUB, "audience": "pave-read", "role": "viewer", "rules": [
                    {"claim": "repository_owner", "equals": "acme"}]},
                {"issuer": "https://gitlab.example.com", "audience": "pave", "role": "viewer", "rules": [
                    {"claim": "ref_protected", "equals": "true"}, {"claim": "project_id", "equals": "42"}]}
            ]
        }))
        .unwrap();
        config.validate().unwrap()
    }

    fn github(repository: &str, git_ref: &str, aud: Value) -> Claims {
        let c = json!({"iss": GITHUB, "aud": aud, "sub": format!("repo:{repository}:ref:{git_ref}"),
                       "repository": repository, "repository_owner": "acme", "ref": git_ref});
        Claims(c.as_object().unwrap().clone())
    }

    #[test]
    #[rustfmt::skip]
    fn matching_tokens_map_to_entity_and_role() {
        let (policy, dir) = (policy(), directory());
        let m = match_workload(&policy, &github("acme/web", "refs/heads/main", json!("pave")), &dir).unwrap();
        // Both component:default/web and api:default/web-api carry the slug: the Component wins.
        assert_eq!(m.entity.as_deref(), Some("component:default/web"));
        assert_eq!(m.role, "deployer");
        assert_eq!(m.subject, "repo:acme/web:ref:refs/heads/main");
        let subject = m.subject();
        assert_eq!(subject.roles, ["deployer"]);
        assert!(subject.groups.is_empty());
        // The second entry: another audience, no entity.
        let m = match_workload(&policy, &github("acme/other", "refs/heads/dev", json!(["x", "pave-read"])), &dir).unwrap();
        assert_eq!((m.entity, m.role.as_str()), (None, "viewer"));
        // Non-string claims compare by their JSON text.
        let gitlab = json!({"iss": "https://gitlab.example.com", "aud": "pave", "sub": "p", "ref_protected": true, "project_id": 42});
        let m = match_workload(&policy, &Claims(gitlab.as_object().unwrap().clone()), &dir).unwrap();
        assert_eq!(m.role, "viewer");
    }

    #[test]
    #[rustfmt::skip]
    fn refusals_say_why() {
        let (policy, dir) = (policy(), directory());
        let cases = [
            (github("acme/web", "refs/heads/feature", json!("pave")),
             "[0] claim \"ref\" is \"refs/heads/feature\", expected \"refs/heads/main\"; [1] wants audience \"pave-read\""),
            (github("evil/web", "refs/heads/main", json!("pave")),
             "[0] no catalog entity has github.com/project-slug = \"evil/web\" (claim \"repository\")"),
            (github("acme/mono", "refs/heads/main", json!("pave")),
             "2 entities match (component:default/a, component:default/b)"),
            (github("acme/web", "refs/heads/main", json!("other")), "[0] wants audience \"pave\", the token has [\"other\"]"),
        ];
        for (claims, want) in cases {
            let err = match_workload(&policy, &claims, &dir).unwrap_err().to_string();
            assert!(err.starts_with(&format!("no auth.workload entry for {GITHUB} matches: ")), "{err}");
            assert!(err.contains(want), "want {want}\n got {err}");
        }
        let mut foreign = github("acme/web", "refs/heads/main", json!("pave"));
        foreign.0.insert("iss".into(), json!("https://ci.evil.example"));
        let err = match_workload(&policy, &foreign, &dir).unwrap_err();
        assert_eq!(err, WorkloadError::UnconfiguredIssuer("https://ci.evil.example".into()));
        assert!(trusts_for(&policy, "https://ci.evil.example").is_err());
        assert_eq!(trusts_for(&policy, GITHUB).unwrap().len(), 2);
        let mut missing = github("acme/web", "refs/heads/main", json!("pave"));
        missing.0.remove("ref");
        let err = match_workload(&policy, &missing, &dir).unwrap_err().to_string();
        assert!(err.contains("claim \"ref\" is missing"), "{err}");
        // Arrays never equal a literal, even one that looks like their JSON.
        let gitlab = json!({"iss": "https://gitlab.example.com", "aud": "pave", "ref_protected": ["true"], "project_id": 42});
        assert!(match_workload(&policy, &Claims(gitlab.as_object().unwrap().clone()), &dir).is_err());
    }

    #[test]
    #[rustfmt::skip]
    fn discovery_gives_the_key_set_address() {
        // GitHub's document as published: no authorization or token endpoint.
        let doc = json!({"issuer": GITHUB, "jwks_uri": format!("{GITHUB}/.well-known/jwks"),
                         "subject_types_supported": ["public", "pairwise"]});
        let uri = discovery_jwks_uri(&doc.to_string(), GITHUB).unwrap();
        assert_eq!(uri.as_str(), "https://token.actions.githubusercontent.com/.well-known/jwks");
        let local = json!({"issuer": "http://127.0.0.1:9", "jwks_uri": "http://127.0.0.1:9/jwks"});
        assert!(discovery_jwks_uri(&local.to_string(), "http://127.0.0.1:9").is_ok());
        let cases = [
            (json!({"issuer": "https://evil.example", "jwks_uri": "https://evil.example/k"}), "is for issuer \"https://evil.example\""),
            (json!({"issuer": GITHUB}), "no jwks_uri"),
            (json!({"issuer": GITHUB, "jwks_uri": "http://keys.example/k"}), "is not https"),
            (json!({"issuer": GITHUB, "jwks_uri": "not a url"}), "jwks_uri \"not a url\""),
            (json!(["x"]), "is for issuer \"\""),
        ];
        for (doc, want) in cases {
            let err = discovery_jwks_uri(&doc.to_string(), GITHUB).unwrap_err().to_string();
            assert!(err.contains(want), "{doc}: {err}");
        }
        assert!(discovery_jwks_uri("{", GITHUB).is_err());
    }
}
