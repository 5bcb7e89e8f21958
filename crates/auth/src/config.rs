//! The `auth:` section of `pave.yaml` as written ([`AuthConfig`]) and as checked
//! ([`AccessPolicy`], what [`crate::authorize`] and the sign-in code read).
//!
//! Values stay strings in [`AuthConfig`] so that [`AuthConfig::validate`] can name the field
//! path of every mistake at once (`auth.roles.deployer.permissions[2]: unknown permission
//! "foo"`) instead of stopping at serde's first error without a path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::duration::parse_duration;
use crate::permission::Permission;

/// `auth:` as written in `pave.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    #[serde(default)]
    pub session: SessionConfig,
    /// Roles by name, merged over (replacing) the built-in ones of the same name.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleConfig>,
    #[serde(default)]
    pub bindings: Vec<BindingConfig>,
    #[serde(default)]
    pub tokens: TokensConfig,
    #[serde(default)]
    pub workload: Vec<WorkloadConfig>,
    #[serde(default)]
    pub catalog_read: CatalogRead,
    #[serde(default)]
    pub locations: LocationsConfig,
}

/// `auth.oidc`: the OpenID provider people sign in with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcConfig {
    /// Compared exactly with the discovery document's and the ID tokens' `iss`.
    pub issuer: String,
    pub client_id: String,
    /// The name of the environment variable holding the client secret (never the secret).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub resolver: Resolver,
    /// A claim listing group names or refs, added to the catalog's memberships.
    #[serde(default)]
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub unmatched: Unmatched,
    /// Where the provider sends the browser after RP-initiated logout (absolute URL).
    #[serde(default)]
    pub post_logout_redirect: Option<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(str::to_owned).to_vec()
}

/// How an ID token finds its catalog `User` (Backstage's sign-in resolvers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolver {
    /// `email` claim = the User's `spec.profile.email`.
    #[default]
    Email,
    /// `preferred_username` claim = the User's `metadata.name` (namespace `default`).
    Username,
}

/// What happens to an identity with no matching User.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmatched {
    #[default]
    Refuse,
    /// Signed in with the `guest` role only.
    Guest,
}

/// `auth.session`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout: String,
    pub absolute_timeout: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout: "8h".to_owned(),
            absolute_timeout: "7d".to_owned(),
        }
    }
}

/// `auth.roles.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleConfig {
    pub permissions: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// `auth.bindings[i]`: who holds `role`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingConfig {
    pub role: String,
    /// Group refs (`team-a`, `group:default/team-a`); members hold the role transitively.
    #[serde(default)]
    pub groups: Vec<String>,
    /// User refs (`jane`, `user:default/jane`).
    #[serde(default)]
    pub users: Vec<String>,
}

/// `auth.tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TokensConfig {
    pub max_expiry: String,
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            max_expiry: "90d".to_owned(),
        }
    }
}

/// `auth.workload[i]`: a CI issuer whose tokens pave accepts, and what they map to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadConfig {
    pub issuer: String,
    pub audience: String,
    /// Defaults to the issuer's discovery document's `jwks_uri`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    pub role: String,
    #[serde(default)]
    pub rules: Vec<WorkloadRuleConfig>,
}

/// One claim rule; exactly one of `equals` and `equalsAnnotation`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadRuleConfig {
    pub claim: String,
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub equals_annotation: Option<String>,
}

/// `auth.catalogRead`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogRead {
    /// Reading needs a role granting `catalog.entity.read`.
    #[default]
    Authenticated,
    /// Anyone, signed in or not, may read entities.
    Public,
}

/// `auth.locations`, as Backstage's `catalog.locations` rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LocationsConfig {
    /// Location types a non-admin may register; `file` reads the server's disk, so admins only.
    pub non_admin_types: Vec<String>,
}

impl Default for LocationsConfig {
    fn default() -> Self {
        LocationsConfig {
            non_admin_types: vec!["url".to_owned()],
        }
    }
}

/// The location types pave registers.
pub const LOCATION_TYPES: [&str; 2] = ["url", "file"];

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

/// A checked binding: normalized refs.
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
    /// As written (`90d`), for messages.
    pub token_max_expiry_text: String,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    pub oidc: Option<OidcConfig>,
    pub workload: Vec<WorkloadTrust>,
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
            token_max_expiry_text: "90d".to_owned(),
            session_idle_timeout: Duration::from_secs(8 * 3_600),
            session_absolute_timeout: Duration::from_secs(7 * 86_400),
            oidc: None,
            workload: Vec::new(),
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
    let edit = [CatalogEntityRefresh, CatalogLocationCreate, CatalogLocationDelete];
    [
        role("admin", "everything", &Permission::ALL),
        role(
            "editor",
            "read, refresh, register and unregister locations, own tokens",
            &[read.as_slice(), &edit].concat(),
        ),
        role("viewer", "read the catalog, own tokens", &read),
        role("guest", "read entities only", &[CatalogEntityRead]),
    ]
    .into_iter()
    .map(|r| (r.name.clone(), r))
    .collect()
}

/// Normalizes an entity ref to the catalog's lower-case `kind:namespace/name`, filling in
/// `default_kind` and the `default` namespace, and refuses refs of another kind.
pub fn normalize_ref(text: &str, default_kind: &str) -> Result<String, String> {
    let key = pave_catalog::EntityRef::parse(text.trim(), Some(default_kind), "default")
        .map_err(|e| e.to_string())?
        .key()
        .into_string();
    if !key.starts_with(&format!("{}:", default_kind.to_lowercase())) {
        return Err(format!("\"{text}\" is not a {default_kind} ref"));
    }
    Ok(key)
}

impl AuthConfig {
    /// Checks everything and returns the policy, or every mistake found.
    pub fn validate(&self) -> Result<AccessPolicy, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |path: String, message: String| errors.push(ConfigError { path, message });
        let mut policy = AccessPolicy::default();

        if let Some(oidc) = &self.oidc {
            check_url(&oidc.issuer, "auth.oidc.issuer", &mut err);
            if oidc.client_id.trim().is_empty() {
                err("auth.oidc.clientId".into(), "must not be empty".into());
            }
            if let Some(env) = &oidc.client_secret_env {
                let valid = env.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    let msg = format!("\"{env}\" is not an environment variable name (the secret itself belongs in that variable, not here)");
                    err("auth.oidc.clientSecretEnv".into(), msg);
                }
            }
            if !oidc.scopes.iter().any(|s| s == "openid") {
                err("auth.oidc.scopes".into(), "must include \"openid\"".into());
            }
            if oidc.groups_claim.as_deref().is_some_and(|c| c.trim().is_empty()) {
                err("auth.oidc.groupsClaim".into(), "must not be empty".into());
            }
            if let Some(url) = &oidc.post_logout_redirect {
                check_url(url, "auth.oidc.postLogoutRedirect", &mut err);
            }
            policy.oidc = Some(oidc.clone());
        }

        let idle = duration(&self.session.idle_timeout, "auth.session.idleTimeout", &mut err);
        let absolute = duration(
            &self.session.absolute_timeout,
            "auth.session.absoluteTimeout",
            &mut err,
        );
        if let (Some(idle), Some(absolute)) = (idle, absolute) {
            if idle > absolute {
                let msg = format!("{} is longer than absoluteTimeout", self.session.idle_timeout);
                err("auth.session.idleTimeout".into(), msg);
            }
            (policy.session_idle_timeout, policy.session_absolute_timeout) = (idle, absolute);
        }

        for (name, role) in &self.roles {
            let path = format!("auth.roles.{name}");
            let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid_name {
                err(path.clone(), "role names are lower-case letters, digits, - and _".into());
            }
            if name == "admin" {
                err(path, "the built-in admin role cannot be redefined".into());
                continue;
            }
            if role.permissions.is_empty() {
                err(format!("{path}.permissions"), "must name at least one permission".into());
            }
            let mut permissions = BTreeSet::new();
            for (i, text) in role.permissions.iter().enumerate() {
                match Permission::parse(text) {
                    Some(p) => _ = permissions.insert(p),
                    None => err(format!("{path}.permissions[{i}]"), format!("unknown permission \"{text}\"")),
                }
            }
            let description = match (role.description.is_empty(), policy.roles.get(name)) {
                (true, Some(builtin)) => builtin.description.clone(),
                _ => role.description.clone(),
            };
            let role = Role { name: name.clone(), description, permissions, builtin: false };
            policy.roles.insert(name.clone(), role);
        }

        for (i, binding) in self.bindings.iter().enumerate() {
            let path = format!("auth.bindings[{i}]");
            if !policy.roles.contains_key(&binding.role) {
                err(format!("{path}.role"), format!("unknown role \"{}\"", binding.role));
            }
            if binding.groups.is_empty() && binding.users.is_empty() {
                err(path.clone(), "names neither groups nor users".into());
            }
            let mut refs = |list: &[String], field: &str, kind: &str| -> BTreeSet<String> {
                let mut out = BTreeSet::new();
                for (j, text) in list.iter().enumerate() {
                    match normalize_ref(text, kind) {
                        Ok(key) => _ = out.insert(key),
                        Err(message) => err(format!("{path}.{field}[{j}]"), message),
                    }
                }
                out
            };
            let groups = refs(&binding.groups, "groups", "group");
            let users = refs(&binding.users, "users", "user");
            policy.bindings.push(Binding { role: binding.role.clone(), groups, users });
        }

        if let Some(max) = duration(&self.tokens.max_expiry, "auth.tokens.maxExpiry", &mut err) {
            policy.token_max_expiry = max;
            policy.token_max_expiry_text = self.tokens.max_expiry.clone();
        }

        for (i, trust) in self.workload.iter().enumerate() {
            let path = format!("auth.workload[{i}]");
            check_url(&trust.issuer, &format!("{path}.issuer"), &mut err);
            if let Some(uri) = &trust.jwks_uri {
                check_url(uri, &format!("{path}.jwksUri"), &mut err);
            }
            if trust.audience.trim().is_empty() {
                err(format!("{path}.audience"), "must not be empty".into());
            }
            if !policy.roles.contains_key(&trust.role) {
                err(format!("{path}.role"), format!("unknown role \"{}\"", trust.role));
            }
            if trust.rules.is_empty() {
                // Public CI issuers sign tokens for every repository on the service.
                let msg = format!("at least one rule is needed: without one, any token {} issues for this audience would be accepted", trust.issuer);
                err(format!("{path}.rules"), msg);
            }
            let mut rules = Vec::new();
            for (j, rule) in trust.rules.iter().enumerate() {
                let path = format!("{path}.rules[{j}]");
                if rule.claim.trim().is_empty() {
                    err(format!("{path}.claim"), "must not be empty".into());
                }
                let claim = rule.claim.clone();
                match (&rule.equals, &rule.equals_annotation) {
                    (Some(value), None) => rules.push(ClaimRule::Equals { claim, value: value.clone() }),
                    (None, Some(annotation)) => rules.push(ClaimRule::EqualsAnnotation { claim, annotation: annotation.clone() }),
                    _ => err(path, "needs exactly one of equals and equalsAnnotation".into()),
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

        policy.catalog_read = self.catalog_read;
        policy.non_admin_location_types = BTreeSet::new();
        for (i, kind) in self.locations.non_admin_types.iter().enumerate() {
            if LOCATION_TYPES.contains(&kind.as_str()) {
                policy.non_admin_location_types.insert(kind.clone());
            } else {
                let msg = format!("unknown location type \"{kind}\" (pave registers {})", LOCATION_TYPES.join(" and "));
                err(format!("auth.locations.nonAdminTypes[{i}]"), msg);
            }
        }

        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }
}

fn duration(text: &str, path: &str, err: &mut impl FnMut(String, String)) -> Option<Duration> {
    let parsed = parse_duration(text);
    if parsed.is_none() {
        err(path.to_owned(), format!("\"{text}\" is not a duration such as 90d, 8h, 30m or 45s"));
    }
    parsed
}

/// Issuers and endpoints are `https`, except on loopback (a provider in tests or on a laptop).
fn check_url(text: &str, path: &str, err: &mut impl FnMut(String, String)) {
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) => {}
        Ok(_) => err(path.to_owned(), format!("\"{text}\" must be an https URL (http only on loopback)")),
        Err(e) => err(path.to_owned(), format!("\"{text}\" is not a URL: {e}")),
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

impl fmt::Display for CatalogRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CatalogRead::Authenticated => "authenticated",
            CatalogRead::Public => "public",
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> AuthConfig {
        serde_json::from_value(value).unwrap()
    }

    fn errors(value: serde_json::Value) -> Vec<String> {
        match parse(value).validate() {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn empty_section_gives_defaults_and_builtin_roles() {
        let policy = parse(json!({})).validate().unwrap();
        assert_eq!(policy, AccessPolicy::default());
        assert_eq!(policy.token_max_expiry, Duration::from_secs(90 * 86_400));
        assert_eq!(policy.session_idle_timeout, Duration::from_secs(8 * 3_600));
        assert_eq!(policy.non_admin_location_types, BTreeSet::from(["url".to_owned()]));
        let names: Vec<_> = policy.roles.keys().map(String::as_str).collect();
        assert_eq!(names, ["admin", "editor", "guest", "viewer"]);
        let viewer = policy.role("viewer").unwrap();
        assert!(viewer.grants(Permission::CatalogEntityRead));
        assert!(!viewer.grants(Permission::CatalogLocationCreate));
        assert!(policy.role("editor").unwrap().grants(Permission::CatalogLocationDelete));
        assert!(!policy.role("editor").unwrap().grants(Permission::AuthTokenAdmin));
        assert!(policy.role("admin").unwrap().grants(Permission::AuditRead));
        let guest = &policy.role("guest").unwrap().permissions;
        assert_eq!(guest, &BTreeSet::from([Permission::CatalogEntityRead]));
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
            "workload": [{"issuer": "https://token.actions.githubusercontent.com", "audience": "pave",
                          "role": "deployer", "rules": [{"claim": "repository", "equalsAnnotation": "github.com/project-slug"},
                                                         {"claim": "ref", "equals": "refs/heads/main"}]}],
            "catalogRead": "public",
            "locations": {"nonAdminTypes": ["url", "file"]}
        }));
        let oidc = config.oidc.clone().unwrap();
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        assert_eq!((oidc.resolver, oidc.unmatched), (Resolver::Email, Unmatched::Refuse));
        let policy = config.validate().unwrap();
        assert_eq!(policy.session_idle_timeout, Duration::from_secs(1_800));
        assert_eq!(policy.token_max_expiry_text, "30d");
        assert_eq!(policy.catalog_read, CatalogRead::Public);
        let binding = &policy.bindings[0];
        assert_eq!(binding.groups, BTreeSet::from(["group:default/team-a".into(), "group:ops/sre".into()]));
        assert_eq!(binding.users, BTreeSet::from(["user:default/jane".into()]));
        // A configured role replaces the built-in one of the same name, keeping its description.
        let viewer = policy.role("viewer").unwrap();
        assert!(!viewer.grants(Permission::AuthTokenManage));
        assert!(!viewer.builtin && !viewer.description.is_empty());
        assert_eq!(policy.workload[0].rules[1], ClaimRule::Equals { claim: "ref".into(), value: "refs/heads/main".into() });
        assert!(policy.non_admin_location_types.contains("file"));
    }

    #[test]
    fn every_mistake_is_reported_with_its_path() {
        let cases = [
            (json!({"roles": {"deployer": {"permissions": ["catalog.entity.read", "audit.read", "foo"]}}}),
             "auth.roles.deployer.permissions[2]: unknown permission \"foo\""),
            (json!({"roles": {"admin": {"permissions": ["catalog.entity.read"]}}}),
             "auth.roles.admin: the built-in admin role cannot be redefined"),
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
            (json!({"oidc": {"issuer": "https://id", "clientId": "p", "clientSecretEnv": "s3cr3t-value!"}}), "auth.oidc.clientSecretEnv: \"s3cr3t-value!\" is not an environment variable name"),
            (json!({"oidc": {"issuer": "https://id", "clientId": "p", "scopes": ["email"]}}), "auth.oidc.scopes: must include \"openid\""),
            (json!({"workload": [{"issuer": "https://ci", "audience": "pave", "role": "viewer"}]}), "auth.workload[0].rules: at least one rule is needed"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "", "role": "root", "rules": [{"claim": "x", "equals": "1", "equalsAnnotation": "a"}]}]}),
             "auth.workload[0].rules[0]: needs exactly one of equals and equalsAnnotation"),
            (json!({"workload": [{"issuer": "https://ci", "audience": "pave", "role": "root", "rules": [{"claim": "x", "equals": "1"}]}]}), "auth.workload[0].role: unknown role \"root\""),
            (json!({"locations": {"nonAdminTypes": ["url", "git"]}}), "auth.locations.nonAdminTypes[1]: unknown location type \"git\""),
        ];
        for (config, want) in cases {
            let got = errors(config.clone());
            assert!(got.iter().any(|e| e.starts_with(want)), "{config}\nwant {want}\ngot {got:?}");
        }
        // All mistakes at once, not just the first.
        let got = errors(json!({"tokens": {"maxExpiry": "x"}, "bindings": [{"role": "nope", "users": ["a"]}]}));
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn loopback_http_is_allowed_for_test_providers() {
        for issuer in ["http://localhost:4000", "http://127.0.0.1:9/x", "http://[::1]:80"] {
            let got = errors(json!({"oidc": {"issuer": issuer, "clientId": "p"}}));
            assert!(got.is_empty(), "{issuer}: {got:?}");
        }
    }

    #[test]
    fn unknown_fields_and_values_are_refused_by_serde() {
        for value in [
            json!({"oidc": {"issuer": "https://x", "clientId": "p", "clientSecret": "inline"}}),
            json!({"catalogRead": "everyone"}),
            json!({"oidc": {"issuer": "https://x", "clientId": "p", "resolver": "ldap"}}),
            json!({"sessions": {}}),
        ] {
            assert!(serde_json::from_value::<AuthConfig>(value.clone()).is_err(), "{value}");
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
            match (normalize_ref(text, kind), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want),
                (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
    }
}
