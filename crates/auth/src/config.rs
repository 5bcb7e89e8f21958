//! The `auth:` section of `pave.yaml` as written. Values stay strings here:
//! [`AuthConfig::validate`] (in [`crate::policy`]) checks them and names the field path of
//! every mistake.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

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
    #[serde(default)]
    pub audit: AuditConfig,
    /// A Rego policy that replaces the built-in decision.
    #[serde(default)]
    pub policy: Option<PolicyConfig>,
}

/// `auth.policy`: decisions made by a Rego policy instead of the built-in rules, as
/// Backstage's permission policy replaces its default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyConfig {
    /// `.rego` files (a file or a folder) declaring `package pave.authz` and its rule
    /// `decision`.
    pub rego: String,
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

/// `auth.audit`: signed checkpoints of the audit chain and retention.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The Ed25519 key (PKCS#8 PEM, `pave audit keygen`) checkpoints are signed with; read
    /// once at start. Without it `pave serve` writes no checkpoints.
    pub signing_key: Option<String>,
    /// A checkpoint whenever the chain has grown by this many records since the last one.
    pub checkpoint_every: u64,
    /// Records older than this are expired (after a checkpoint vouching for them).
    pub retention: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            signing_key: None,
            checkpoint_every: 1000,
            retention: None,
        }
    }
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

    #[test]
    fn unknown_fields_and_values_are_refused_by_serde() {
        for value in [
            json!({"oidc": {"issuer": "https://x", "clientId": "p", "clientSecret": "inline"}}),
            json!({"catalogRead": "everyone"}),
            json!({"oidc": {"issuer": "https://x", "clientId": "p", "resolver": "ldap"}}),
            json!({"sessions": {}}),
        ] {
            assert!(
                serde_json::from_value::<AuthConfig>(value.clone()).is_err(),
                "{value}"
            );
        }
    }
}
