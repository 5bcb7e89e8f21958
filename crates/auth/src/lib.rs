//! Identity and access control, the pure core: who is acting, what they may do, and the
//! checks behind sign-in, API tokens and workload tokens. No network, no database, no HTTP:
//! the server fetches, stores and serves; this crate decides.
//!
//! # The model
//!
//! - **Subjects** ([`Subject`]) are who acts: a *user* signed in through OIDC and resolved to
//!   a catalog `User` entity; an API *token* (`pave_…`, owned by the user who created it); a
//!   CI *workload* presenting its provider's OIDC token; a *guest* (signed in, no matching
//!   User, when `auth.oidc.unmatched: guest`); the local *operator* (the CLI on the database
//!   itself); or *anonymous*. A subject carries role names and, for users, their groups —
//!   catalog `memberOf`, transitively up `spec.parent` ([`transitive_groups`]), plus the
//!   optional groups claim.
//! - **Permissions** ([`Permission`]) name actions: `catalog.entity.read|refresh|delete`,
//!   `catalog.location.read|create|delete`, `slo.gate.override`, `auth.token.manage` (own
//!   tokens), `auth.token.admin` (everyone's), `audit.read`, `events.write`, `incident.manage`, `postmortem.write`, `template.push`, `admin`
//!   (implies all).
//! - **Roles** are named permission sets: built-in `admin` (everything), `editor` (read,
//!   refresh, register/unregister locations, own tokens), `viewer` (read, own tokens),
//!   `guest` (read entities), plus any defined in `auth.roles` (which may replace the
//!   built-ins except `admin`). `auth.bindings` bind roles to catalog groups and users
//!   ([`roles_for`]); a token and a workload hold exactly one role each.
//! - **Resources** ([`Resource`]) are what an action touches, with what the decision needs:
//!   an entity and its owners, a location and the owners of each entity it provides, a
//!   location about to be registered (its type), a token and its owner.
//! - **The decision** ([`authorize`]) is a pure function (policy, subject, permission,
//!   resource) → [`Decision`] { allowed, reason, role }. The operator may do everything;
//!   `catalogRead: public` opens entity reads to anyone; a role granting the permission
//!   allows; **ownership** allows a signed-in user who owns an entity (directly, or as a
//!   transitive member of an owning group) to refresh it, and one who owns *every* entity a
//!   location provides to refresh, register and unregister that location. Only `admin`
//!   registers location types outside `auth.locations.nonAdminTypes` (`file` by default);
//!   `auth.token.manage` covers only the subject's own tokens. Tokens and workloads never
//!   use ownership: they do what their role allows, nothing more. [`may_grant`] refuses a
//!   token or binding whose role holds a permission the granter does not.
//!
//! # The pieces
//!
//! - [`config`]: `auth:` in `pave.yaml` ([`AuthConfig`]); [`policy`]: it validated
//!   ([`AuthConfig::validate`] → [`AccessPolicy`], or every mistake with its field path).
//! - [`token`]: API token secrets (`pave_` + 36 random + 6 checksum base62 characters),
//!   their SHA-256 ([`TokenHash`]) and bounded, mandatory expiry.
//! - [`jwt`]: RS256/ES256 verification against a [`Jwks`], the [`JwksCache`] refresh rule.
//! - [`oidc`]: discovery, PKCE, `state`/`nonce`, authorization/logout URLs, the token
//!   exchange's form and response, sign-in resolvers ([`resolve_sign_in`]), and
//!   [`safe_return_path`] against open redirects.
//! - [`workload`]: claim rules mapping a CI token to an entity and a role.
//!
//! ```text
//! ID token ─jwt::verify─► Claims ─oidc::resolve_sign_in(Directory)─► SignIn::User ─► Subject::user
//! pave_… ─TokenHash::of─► (server looks up the hash) ───────────────────────────────► Subject::token
//! CI JWT ─jwt::verify─► Claims ─workload::match_workload(Directory)─► WorkloadMatch ─► Subject
//!                                              Subject × Permission × Resource ─authorize─► Decision
//! ```

pub mod config;
pub mod decide;
pub mod duration;
pub mod external;
pub mod jwt;
pub mod oidc;
pub mod permission;
pub mod policy;
pub mod subject;
pub mod token;
pub mod workload;

pub use config::{AuthConfig, CatalogRead};
pub use decide::{Decision, Denied, Resource, allowed_outright, authorize, may_grant};
pub use external::{AUTHZ_RULE, ExternalPolicy, authorize_with, decision_input};
pub use jwt::{Claims, Expected, Jwks, JwksCache, JwtError, Lookup};
pub use oidc::{Discovery, OidcError, Pkce, SignIn, resolve_sign_in, safe_return_path};
pub use permission::Permission;
pub use policy::{AccessPolicy, AuditPolicy, ConfigError, Role};
pub use subject::{Directory, Subject, SubjectKind, roles_for, transitive_groups};
pub use token::{TokenDigest, TokenError, TokenHash, TokenSecret};
pub use workload::{WorkloadError, WorkloadMatch, discovery_jwks_uri, match_workload, trusts_for};
