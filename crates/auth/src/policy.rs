//! `auth:` checked: [`AuthConfig::validate`] turns the section as written into the
//! [`AccessPolicy`] that [`crate::authorize`] and the sign-in code read, or into every
//! mistake found, each naming its field path (`auth.roles.deployer.permissions[2]: unknown
//! permission "foo"`) rather than stopping at serde's first, path-less error.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::config::{AuthConfig, CatalogRead, LOCATION_TYPES, OidcConfig};
use crate::duration::parse_duration;
use crate::permission::Permission;

/// A mistake in `auth:`, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// A role, built-in or configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub permissions: BTreeSet<Permission>,
    pub builtin: bool,
}

impl Role {
    /// Whether the role allows `permission` (`admin` allows everything).
    pub fn grants(&self, permission: Permission) -> bool {
        self.permissions.contains(&Permission::Admin) || self.permissions.contains(&permission)
    }
}

/// A checked binding, refs normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub role: String,
    pub groups: BTreeSet<String>,
    pub users: BTreeSet<String>,
}

/// A checked workload issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadTrust {
    pub issuer: String,
    pub audience: String,
    pub jwks_uri: Option<String>,
    pub role: String,
    pub rules: Vec<ClaimRule>,
}

/// A workload claim rule; all of a trust's rules must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRule {
    /// The claim equals this literal.
    Equals { claim: String, value: String },
    /// The claim equals this annotation of some catalog entity, which the token then acts for.
    EqualsAnnotation { claim: String, annotation: String },
}

/// `auth:` checked, with defaults and built-in roles filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub roles: BTreeMap<String, Role>,
    pub bindings: Vec<Binding>,
    pub catalog_read: CatalogRead,
    pub non_admin_location_types: BTreeSet<String>,
    pub token_max_expiry: Duration,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    pub oidc: Option<OidcConfig>,
    pub workload: Vec<WorkloadTrust>,
    pub audit: AuditPolicy,
    /// `auth.policy.rego`: the Rego policy that decides instead of the built-in rules
    /// ([`crate::external`]); the server loads it at start.
    pub rego_policy: Option<std::path::PathBuf>,
}

/// `auth.audit` checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPolicy {
    /// Where the checkpoint signing key is (the server reads it at start).
    pub signing_key: Option<std::path::PathBuf>,
    pub checkpoint_every: u64,
    pub retention: Option<Duration>,
}

/// The most records between two automatic checkpoints (a checkpoint per ten million
/// records leaves a truncated tail undetected for too long).
pub const MAX_CHECKPOINT_EVERY: u64 = 10_000_000;

impl Default for AuditPolicy {
    fn default() -> Self {
        AuditPolicy {
            signing_key: None,
            checkpoint_every: 1000,
            retention: None,
        }
    }
}

impl Default for AccessPolicy {
    /// The policy of an `auth:` section with nothing in it.
    fn default() -> Self {
        AccessPolicy {
            roles: builtin_roles(),
            bindings: Vec::new(),
            catalog_read: CatalogRead::Authenticated,
            non_admin_location_types: BTreeSet::from(["url".to_owned()]),
            token_max_expiry: Duration::from_secs(90 * 86_400),
            session_idle_timeout: Duration::from_secs(8 * 3_600),
            session_absolute_timeout: Duration::from_secs(7 * 86_400),
            oidc: None,
            workload: Vec::new(),
            audit: AuditPolicy::default(),
            rego_policy: None,
        }
    }
}

impl AccessPolicy {
    /// The role named `name`.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }
}

/// The built-in roles: `admin`, `editor`, `viewer`, `guest`.
pub fn builtin_roles() -> BTreeMap<String, Role> {
    use Permission::*;
    let role = |name: &str, description: &str, permissions: &[Permission]| Role {
        name: name.to_owned(),
        description: description.to_owned(),
        permissions: permissions.iter().copied().collect(),
        builtin: true,
    };
    let read = [CatalogEntityRead, CatalogLocationRead, AuthTokenManage];
    let edit = [
        CatalogEntityRefresh,
        CatalogLocationCreate,
        CatalogLocationDelete,
        IncidentManage,
        PostmortemWrite,
        TemplatePush,
    ];
    let editor = "read, refresh, register and unregister locations, declare incidents, post postmortems, push new repositories, own tokens";
    [
        role("admin", "everything", &Permission::ALL),
        role("editor", editor, &[read.as_slice(), &edit].concat()),
        role("viewer", "read the catalog, own tokens", &read),
        role("guest", "read entities only", &[CatalogEntityRead]),
    ]
    .into_iter()
    .map(|r| (r.name.clone(), r))
    .collect()
}

/// Normalizes an entity ref to the catalog's lower-case `kind:namespace/name` (the same
/// parser as the catalog's), filling in `kind` and the `default` namespace, and refuses refs
/// of another kind.
pub fn normalize_ref(text: &str, kind: &str) -> Result<String, String> {
    let parsed = pave_catalog::EntityRef::parse(text.trim(), Some(kind), "default");
    let key = parsed.map_err(|e| e.to_string())?.key().into_string();
    if !key.starts_with(&format!("{}:", kind.to_lowercase())) {
        return Err(format!("\"{text}\" is not a {kind} ref"));
    }
    Ok(key)
}

/// Collects mistakes so that all of them are reported at once.
#[derive(Default)]
struct Errors(Vec<ConfigError>);

impl Errors {
    fn at(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let (path, message) = (path.into(), message.into());
        self.0.push(ConfigError { path, message });
    }

    fn duration(&mut self, text: &str, path: &str) -> Option<Duration> {
        let parsed = parse_duration(text);
        if parsed.is_none() {
            self.at(
                path,
                format!("\"{text}\" is not a duration such as 90d, 8h, 30m or 45s"),
            );
        }
        parsed
    }

    /// Issuers and endpoints are `https`, except on loopback (a provider in tests or on a
    /// laptop).
    fn url(&mut self, text: &str, path: &str) {
        match url::Url::parse(text) {
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)) => {}
            Ok(_) => self.at(
                path,
                format!("\"{text}\" must be an https URL (http only on loopback)"),
            ),
            Err(e) => self.at(path, format!("\"{text}\" is not a URL: {e}")),
        }
    }

    fn refs(&mut self, list: &[String], path: &str, kind: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (i, text) in list.iter().enumerate() {
            match normalize_ref(text, kind) {
                Ok(key) => _ = out.insert(key),
                Err(message) => self.at(format!("{path}[{i}]"), message),
            }
        }
        out
    }
}

pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn is_name(text: &str, first: fn(char) -> bool, rest: fn(char) -> bool) -> bool {
    text.starts_with(first) && text.chars().all(rest)
}

impl AuthConfig {
    /// Checks everything and returns the policy, or every mistake found.
    pub fn validate(&self) -> Result<AccessPolicy, Vec<ConfigError>> {
        let mut e = Errors::default();
        let mut policy = AccessPolicy::default();

        if let Some(oidc) = &self.oidc {
            e.url(&oidc.issuer, "auth.oidc.issuer");
            if oidc.client_id.trim().is_empty() {
                e.at("auth.oidc.clientId", "must not be empty");
            }
            let env_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
            let env_start = |c: char| c.is_ascii_alphabetic() || c == '_';
            if let Some(env) = oidc
                .client_secret_env
                .as_deref()
                .filter(|v| !is_name(v, env_start, env_name))
            {
                let msg = format!(
                    "\"{env}\" is not an environment variable name (the secret belongs in that variable, not here)"
                );
                e.at("auth.oidc.clientSecretEnv", msg);
            }
            if !oidc.scopes.iter().any(|s| s == "openid") {
                e.at("auth.oidc.scopes", "must include \"openid\"");
            }
            if oidc
                .groups_claim
                .as_deref()
                .is_some_and(|c| c.trim().is_empty())
            {
                e.at("auth.oidc.groupsClaim", "must not be empty");
            }
            if let Some(url) = &oidc.post_logout_redirect {
                e.url(url, "auth.oidc.postLogoutRedirect");
            }
            policy.oidc = Some(oidc.clone());
        }

        let session = &self.session;
        let idle = e.duration(&session.idle_timeout, "auth.session.idleTimeout");
        let absolute = e.duration(&session.absolute_timeout, "auth.session.absoluteTimeout");
        if let (Some(idle), Some(absolute)) = (idle, absolute) {
            if idle > absolute {
                let msg = format!("{} is longer than absoluteTimeout", session.idle_timeout);
                e.at("auth.session.idleTimeout", msg);
            }
            (policy.session_idle_timeout, policy.session_absolute_timeout) = (idle, absolute);
        }

        let role_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        for (name, role) in &self.roles {
            let path = format!("auth.roles.{name}");
            if !is_name(name, |c| c.is_ascii_lowercase(), role_char) {
                e.at(&path, "role names are lower-case letters, digits, - and _");
            }
            if name == "admin" {
                e.at(&path, "the built-in admin role cannot be redefined");
                continue;
            }
            if role.permissions.is_empty() {
                e.at(
                    format!("{path}.permissions"),
                    "must name at least one permission",
                );
            }
            let mut permissions = BTreeSet::new();
            for (i, text) in role.permissions.iter().enumerate() {
                match Permission::parse(text) {
                    Some(p) => _ = permissions.insert(p),
                    None => e.at(
                        format!("{path}.permissions[{i}]"),
                        format!("unknown permission \"{text}\""),
                    ),
                }
            }
            // A replaced built-in keeps its description unless given a new one.
            let description = match policy.roles.get(name) {
                Some(builtin) if role.description.is_empty() => builtin.description.clone(),
                _ => role.description.clone(),
            };
            let role = Role {
                name: name.clone(),
                description,
                permissions,
                builtin: false,
            };
            policy.roles.insert(name.clone(), role);
        }

        for (i, binding) in self.bindings.iter().enumerate() {
            let path = format!("auth.bindings[{i}]");
            if !policy.roles.contains_key(&binding.role) {
                e.at(
                    format!("{path}.role"),
                    format!("unknown role \"{}\"", binding.role),
                );
            }
            if binding.groups.is_empty() && binding.users.is_empty() {
                e.at(&path, "names neither groups nor users");
            }
            let groups = e.refs(&binding.groups, &format!("{path}.groups"), "group");
            let users = e.refs(&binding.users, &format!("{path}.users"), "user");
            policy.bindings.push(Binding {
                role: binding.role.clone(),
                groups,
                users,
            });
        }

        if let Some(max) = e.duration(&self.tokens.max_expiry, "auth.tokens.maxExpiry") {
            policy.token_max_expiry = max;
        }

        for (i, trust) in self.workload.iter().enumerate() {
            let path = format!("auth.workload[{i}]");
            e.url(&trust.issuer, &format!("{path}.issuer"));
            if let Some(uri) = &trust.jwks_uri {
                e.url(uri, &format!("{path}.jwksUri"));
            }
            if trust.audience.trim().is_empty() {
                e.at(format!("{path}.audience"), "must not be empty");
            }
            if !policy.roles.contains_key(&trust.role) {
                e.at(
                    format!("{path}.role"),
                    format!("unknown role \"{}\"", trust.role),
                );
            }
            if trust.rules.is_empty() {
                // Public CI issuers sign tokens for every repository on their service.
                let msg = format!(
                    "at least one rule is needed: without one, any token {} issues for this audience would be accepted",
                    trust.issuer
                );
                e.at(format!("{path}.rules"), msg);
            }
            let mut rules = Vec::new();
            for (j, rule) in trust.rules.iter().enumerate() {
                let (path, claim) = (format!("{path}.rules[{j}]"), rule.claim.clone());
                if claim.trim().is_empty() {
                    e.at(format!("{path}.claim"), "must not be empty");
                }
                match (&rule.equals, &rule.equals_annotation) {
                    (Some(value), None) => rules.push(ClaimRule::Equals {
                        claim,
                        value: value.clone(),
                    }),
                    (None, Some(a)) => rules.push(ClaimRule::EqualsAnnotation {
                        claim,
                        annotation: a.clone(),
                    }),
                    _ => e.at(path, "needs exactly one of equals and equalsAnnotation"),
                }
            }
            policy.workload.push(WorkloadTrust {
                issuer: trust.issuer.clone(),
                audience: trust.audience.clone(),
                jwks_uri: trust.jwks_uri.clone(),
                role: trust.role.clone(),
                rules,
            });
        }

        let audit = &self.audit;
        if let Some(path) = &audit.signing_key
            && path.trim().is_empty()
        {
            e.at("auth.audit.signingKey", "must not be empty");
        }
        if !(1..=MAX_CHECKPOINT_EVERY).contains(&audit.checkpoint_every) {
            let msg = format!("must be between 1 and {MAX_CHECKPOINT_EVERY}");
            e.at("auth.audit.checkpointEvery", msg);
        }
        let retention = audit
            .retention
            .as_deref()
            .and_then(|r| e.duration(r, "auth.audit.retention"));
        if retention.is_some() && audit.signing_key.is_none() {
            // Expiring without a signed checkpoint would make a cut log look like a whole one.
            e.at(
                "auth.audit.retention",
                "needs auth.audit.signingKey: expired records are vouched for by a signed checkpoint",
            );
        }
        policy.audit = AuditPolicy {
            signing_key: audit.signing_key.as_ref().map(std::path::PathBuf::from),
            checkpoint_every: audit.checkpoint_every,
            retention,
        };

        if let Some(config) = &self.policy {
            if config.rego.trim().is_empty() {
                e.at(
                    "auth.policy.rego",
                    "must name a .rego file or a folder of them",
                );
            } else {
                policy.rego_policy = Some(std::path::PathBuf::from(&config.rego));
            }
        }

        policy.catalog_read = self.catalog_read;
        policy.non_admin_location_types.clear();
        for (i, kind) in self.locations.non_admin_types.iter().enumerate() {
            if LOCATION_TYPES.contains(&kind.as_str()) {
                policy.non_admin_location_types.insert(kind.clone());
            } else {
                let msg = format!("unknown location type \"{kind}\" (pave registers url and file)");
                e.at(format!("auth.locations.nonAdminTypes[{i}]"), msg);
            }
        }

        if e.0.is_empty() { Ok(policy) } else { Err(e.0) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::config::{Resolver, Unmatched};
    use serde_json::{Value, json};

    fn parse(value: Value) -> AuthConfig {
        serde_json::from_value(value).unwrap()
    }

    fn errors(value: Value) -> Vec<String> {
        let result = parse(value).validate();
        result
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn empty_section_gives_defaults_and_builtin_roles() {
        let policy = parse(json!({})).validate().unwrap();
        assert_eq!(policy, AccessPolicy::default());
        assert_eq!(policy.token_max_expiry, Duration::from_secs(90 * 86_400));
        assert_eq!(policy.session_idle_timeout, Duration::from_secs(8 * 3_600));
        assert_eq!(
            policy.non_admin_location_types,
            BTreeSet::from(["url".to_owned()])
        );
        let names: Vec<_> = policy.roles.keys().map(String::as_str).collect();
        assert_eq!(names, ["admin", "editor", "guest", "viewer"]);
        let role = |name: &str| policy.role(name).unwrap();
        assert!(role("viewer").grants(Permission::CatalogEntityRead));
        assert!(!role("viewer").grants(Permission::CatalogLocationCreate));
        assert!(role("editor").grants(Permission::CatalogLocationDelete));
        assert!(!role("editor").grants(Permission::AuthTokenAdmin));
        assert!(Permission::ALL.iter().all(|p| role("admin").grants(*p)));
        assert_eq!(
            role("guest").permissions,
            BTreeSet::from([Permission::CatalogEntityRead])
        );
    }

    #[test]
    fn full_section_parses_with_defaults_filled() {
        let config = parse(json!({
            "oidc": {"issuer": "https://id.example.com", "clientId": "pave", "clientSecretEnv": "PAVE_OIDC_SECRET"},
            "session": {"idleTimeout": "30m", "absoluteTimeout": "1d"},
            "roles": {"deployer": {"permissions": ["slo.gate.override", "catalog.entity.read"]},
                      "viewer": {"permissions": ["catalog.entity.read"]}},
            "bindings": [{"role": "deployer", "groups": ["Team-A", "group:ops/sre"], "users": ["Jane"]}],
            "tokens": {"maxExpiry": "30d"},
            "workload": [{"issuer": "https://token.actions.githubusercontent.com", "audience": "pave", "role": "deployer",
                          "rules": [{"claim": "repository", "equalsAnnotation": "github.com/project-slug"},
                                    {"claim": "ref", "equals": "refs/heads/main"}]}],
            "catalogRead": "public",
            "locations": {"nonAdminTypes": ["url", "file"]}
        }));
        let oidc = config.oidc.clone().unwrap();
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        assert_eq!(
            (oidc.resolver, oidc.unmatched),
            (Resolver::Email, Unmatched::Refuse)
        );
        let policy = config.validate().unwrap();
        assert_eq!(policy.session_idle_timeout, Duration::from_secs(1_800));
        assert_eq!(policy.token_max_expiry, Duration::from_secs(30 * 86_400));
        assert_eq!(policy.catalog_read, CatalogRead::Public);
        let binding = &policy.bindings[0];
        let groups = ["group:default/team-a", "group:ops/sre"].map(String::from);
        assert_eq!(binding.groups, BTreeSet::from(groups));
        assert_eq!(
            binding.users,
            BTreeSet::from(["user:default/jane".to_owned()])
        );
        // A configured role replaces the built-in one of the same name, keeping its description.
        let viewer = policy.role("viewer").unwrap();
        assert!(!viewer.grants(Permission::AuthTokenManage));
        assert!(!viewer.builtin && viewer.description == "read the catalog, own tokens");
        let rule = ClaimRule::Equals {
            claim: "ref".into(),
            value: "refs/heads/main".into(),
        };
        assert_eq!(policy.workload[0].rules[1], rule);
        assert!(policy.non_admin_location_types.contains("file"));
    }

    #[test]
    fn every_mistake_is_reported_with_its_path() {
        #[rustfmt::skip]
        let cases = [
            (json!({"roles": {"deployer": {"permissions": ["catalog.entity.read", "audit.read", "foo"]}}}),
             "auth.roles.deployer.permissions[2]: unknown permission \"foo\""),
            (json!({"roles": {"admin": {"permissions": ["catalog.entity.read"]}}}), "auth.roles.admin: the built-in admin role cannot be redefined"),
            (json!({"roles": {"Ops Team": {"permissions": ["admin"]}}}), "auth.roles.Ops Team: role names"),
            (json!({"roles": {"empty": {"permissions": []}}}), "auth.roles.empty.permissions: must name at least one"),
            (json!({"bindings": [{"role": "nope", "users": ["jane"]}]}), "auth.bindings[0].role: unknown role \"nope\""),
            (json!({"bindings": [{"role": "viewer"}]}), "auth.bindings[0]: names neither groups nor users"),
            (json!({"bindings": [{"role": "viewer", "groups": ["user:jane"]}]}), "auth.bindings[0].groups[0]: \"user:jane\" is not a group ref"),
            (json!({"bindings": [{"role": "viewer", "users": ["ok", "a/"]}]}), "auth.bindings[0].users[1]: entity reference \"a/\""),
            (json!({"session": {"idleTimeout": "8 hours"}}), "auth.session.idleTimeout: \"8 hours\" is not a duration"),
            (json!({"session": {"idleTimeout": "8d", "absoluteTimeout": "1d"}}), "auth.session.idleTimeout: 8d is longer than absoluteTimeout"),
            (json!({"tokens": {"maxExpiry": "0s"}}), "auth.tokens.maxExpiry: \"0s\" is not a duration"),
            (json!({"oidc": {"issuer": "http://id.example.com", "clientId": "p"}}), "auth.oidc.issuer: \"http://id.example.com\" must be an https URL"),
            (json!({"oidc": {"issuer": "id.example.com", "clientId": "p"}}), "auth.oidc.issuer: \"id.example.com\" is not a URL"),
            (json!({"oidc": {"issuer": "https://id", "clientId": " "}}), "auth.oidc.clientId: must not be empty"),
            (json!({"oidc": {"issuer": "https://id", "clientId": "p", "clientSecretEnv": "s3cr3t-value!"}}),
             "auth.oidc.clientSecretEnv: \"s3cr3t-value!\" is not an environment variable name"),
            (json!({"oidc": {"issuer": "https://id", "clientId": "p", "scopes": ["email"]}}), "auth.oidc.scopes: must include \"openid\""),
            (json!({"oidc": {"issuer": "https://id", "clientId": "p", "postLogoutRedirect": "/bye"}}), "auth.oidc.postLogoutRedirect: \"/bye\" is not a URL"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "pave", "role": "viewer"}]}), "auth.workload[0].rules: at least one rule is needed"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "p", "role": "viewer", "rules": [{"claim": "x", "equals": "1", "equalsAnnotation": "a"}]}]}),
             "auth.workload[0].rules[0]: needs exactly one of equals and equalsAnnotation"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "p", "role": "viewer", "rules": [{"claim": "x"}]}]}), "auth.workload[0].rules[0]: needs exactly one"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "pave", "role": "root", "rules": [{"claim": "x", "equals": "1"}]}]}), "auth.workload[0].role: unknown role \"root\""),
            (json!({"workload": [{"issuer": "https://ci", "audience": " ", "role": "viewer", "rules": [{"claim": "x", "equals": "1"}]}]}), "auth.workload[0].audience: must not be empty"),
            (json!({"locations": {"nonAdminTypes": ["url", "git"]}}), "auth.locations.nonAdminTypes[1]: unknown location type \"git\""),
            (json!({"audit": {"signingKey": "k.pem", "checkpointEvery": 0}}), "auth.audit.checkpointEvery: must be between 1 and"),
            (json!({"audit": {"signingKey": "k.pem", "retention": "400x"}}), "auth.audit.retention:"),
            (json!({"audit": {"retention": "400d"}}), "auth.audit.retention: needs auth.audit.signingKey"),
            (json!({"audit": {"signingKey": " "}}), "auth.audit.signingKey: must not be empty"),
        ];
        for (config, want) in cases {
            let got = errors(config.clone());
            assert!(
                got.iter().any(|e| e.starts_with(want)),
                "{config}\nwant {want}\ngot {got:?}"
            );
        }
        let fine = json!({"audit": {"signingKey": "/etc/pave/audit.pem", "checkpointEvery": 500, "retention": "400d"}});
        let config: AuthConfig = serde_json::from_value(fine).unwrap();
        let audit = config.validate().unwrap().audit;
        assert_eq!(
            audit.signing_key.unwrap().to_str(),
            Some("/etc/pave/audit.pem")
        );
        assert_eq!(
            (audit.checkpoint_every, audit.retention),
            (500, Some(Duration::from_secs(400 * 86_400)))
        );
        let defaults = serde_json::from_value::<AuthConfig>(json!({}))
            .unwrap()
            .validate()
            .unwrap()
            .audit;
        assert_eq!(defaults, AuditPolicy::default());
        // All mistakes at once, not just the first.
        let got = errors(
            json!({"tokens": {"maxExpiry": "x"}, "bindings": [{"role": "nope", "users": ["a"]}]}),
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn loopback_http_is_allowed_for_test_providers() {
        for issuer in [
            "http://localhost:4000",
            "http://127.0.0.1:9/x",
            "http://[::1]:80",
        ] {
            let got = errors(json!({"oidc": {"issuer": issuer, "clientId": "p"}}));
            assert!(got.is_empty(), "{issuer}: {got:?}");
        }
    }

    #[test]
    fn refs_normalize_like_the_catalog() {
        let cases = [
            ("jane", "user", Ok("user:default/jane")),
            ("User:Prod/Jane", "user", Ok("user:prod/jane")),
            ("team-a", "group", Ok("group:default/team-a")),
            ("component:x", "group", Err("not a group ref")),
            ("", "user", Err("must not be empty")),
        ];
        for (text, kind, want) in cases {
            let got = normalize_ref(text, kind);
            match (&got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want),
                (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
                _ => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
    }
}
