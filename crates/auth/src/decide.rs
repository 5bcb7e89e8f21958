//! The authorization decision: (policy, subject, permission, resource) → allow or deny, with
//! a sentence saying why. Pure, so the whole rule set is tested as a table
//! (`tests/authorize.rs`).

use std::collections::BTreeSet;

use crate::config::CatalogRead;
use crate::permission::Permission;
use crate::policy::{AccessPolicy, Role};
use crate::subject::{Subject, SubjectKind};

/// What an action is done to, with what the decision needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Nothing in particular (listing, reading the audit log, a gate override by role).
    None,
    /// A catalog entity and its owners (`ownedBy` targets, as refs).
    Entity {
        entity_ref: String,
        owners: Vec<String>,
    },
    /// A location whose entities are known: the owners of each entity it provides (for a new
    /// location, from a dry run).
    Location {
        kind: String,
        provided_owners: Vec<Vec<String>>,
    },
    /// A location about to be registered whose entities are not known yet.
    NewLocation { kind: String },
    /// An API token and the user who owns it.
    Token { owner: Option<String> },
}

/// The outcome, for the response and the audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// A sentence: "role viewer lacks catalog.location.create".
    pub reason: String,
    /// The role that allowed it, if a role did.
    pub role: Option<String>,
}

impl Decision {
    fn allow(reason: String, role: Option<&Role>) -> Self {
        Decision {
            allowed: true,
            reason,
            role: role.map(|r| r.name.clone()),
        }
    }

    fn deny(reason: String) -> Self {
        Decision {
            allowed: false,
            reason,
            role: None,
        }
    }
}

/// A refusal of [`may_grant`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denied {
    pub reason: String,
}

/// Decides whether `subject` may do `permission` to `resource`.
///
/// In order: the operator may do everything; `catalogRead: public` opens entity reads to all;
/// anonymous subjects may do nothing else; a role holding `admin` allows everything; only
/// `admin` registers a location type outside `auth.locations.nonAdminTypes`;
/// `auth.token.manage` covers only the subject's own tokens (`auth.token.admin` any); a role
/// granting the permission allows; finally the ownership conditions, for signed-in users
/// only (tokens and workloads act with exactly their role): owning an entity (directly or
/// through a group, transitively) allows refreshing it, and owning every entity a location
/// provides allows refreshing, registering and unregistering that location.
pub fn authorize(
    policy: &AccessPolicy,
    subject: &Subject,
    permission: Permission,
    resource: &Resource,
) -> Decision {
    match subject.kind {
        SubjectKind::Operator => {
            return Decision::allow("the local operator (CLI) may do everything".into(), None);
        }
        SubjectKind::Scheduler => {
            return Decision::allow("pave's own scheduled work".into(), None);
        }
        _ if permission == Permission::CatalogEntityRead
            && policy.catalog_read == CatalogRead::Public =>
        {
            let reason = "catalog reads are public (auth.catalogRead: public)";
            return Decision::allow(reason.into(), None);
        }
        SubjectKind::Anonymous => {
            return Decision::deny(format!(
                "not signed in; {permission} needs a signed-in identity"
            ));
        }
        _ => {}
    }
    // The subject's defined roles, walked again where needed rather than collected: the
    // allowing path of every request allocates nothing for them.
    let roles = || subject.roles.iter().filter_map(|r| policy.role(r));
    if let Some(admin) = roles().find(|r| r.permissions.contains(&Permission::Admin)) {
        return Decision::allow(format!("role {} grants admin", admin.name), Some(admin));
    }
    let granting = |p: Permission| roles().find(|r| r.grants(p));

    let types = &policy.non_admin_location_types;
    if permission == Permission::CatalogLocationCreate
        && let Resource::NewLocation { kind } | Resource::Location { kind, .. } = resource
        && !types.contains(kind)
    {
        let allowed: Vec<&str> = types.iter().map(String::as_str).collect();
        return Decision::deny(format!(
            "registering a {kind} location needs admin (auth.locations.nonAdminTypes: [{}])",
            allowed.join(", ")
        ));
    }

    if let (Permission::AuthTokenManage, Resource::Token { owner }) = (permission, resource) {
        if let Some(role) = granting(Permission::AuthTokenAdmin) {
            let reason = format!("role {} grants auth.token.admin", role.name);
            return Decision::allow(reason, Some(role));
        }
        if let Some(role) = granting(Permission::AuthTokenManage) {
            let owner = owner.as_deref().map(str::to_lowercase);
            if owner.is_some() && owner.as_deref() == subject.acting_user() {
                let reason = format!(
                    "role {} grants auth.token.manage and the token is yours",
                    role.name
                );
                return Decision::allow(reason, Some(role));
            }
            let whose = owner.map_or("nobody".to_owned(), |o| o.to_owned());
            return Decision::deny(format!(
                "auth.token.manage covers only your own tokens; this one belongs to {whose}"
            ));
        }
    }

    if let Some(role) = granting(permission) {
        return Decision::allow(
            format!("role {} grants {permission}", role.name),
            Some(role),
        );
    }
    // A signed-in person reads the catalog without a role (`catalogRead: authenticated`);
    // tokens and workloads do only what their role says.
    if permission == Permission::CatalogEntityRead
        && matches!(subject.kind, SubjectKind::User { .. } | SubjectKind::Guest)
    {
        let reason =
            "signed in, and reading the catalog needs no more (auth.catalogRead: authenticated)";
        return Decision::allow(reason.into(), None);
    }

    let lacking = lacking(subject, &roles().collect::<Vec<_>>(), permission);
    let ownership = match (permission, resource) {
        (Permission::CatalogEntityRefresh, Resource::Entity { entity_ref, owners }) => {
            Some(entity_ownership(subject, entity_ref, owners))
        }
        (
            Permission::CatalogEntityRefresh
            | Permission::CatalogLocationCreate
            | Permission::CatalogLocationDelete,
            Resource::Location {
                provided_owners, ..
            },
        ) => Some(location_ownership(subject, provided_owners)),
        _ => None,
    };
    match ownership {
        Some(Ok(reason)) => Decision::allow(reason, None),
        Some(Err(why_not)) => Decision::deny(format!("{lacking}, and {why_not}")),
        None => Decision::deny(lacking),
    }
}

/// Whether [`authorize`] allows `subject` to do `permission` to any resource, for a reason
/// that needs nothing of the resource: the operator and the scheduler, a public catalog read, or
/// a role granting it (the permissions with rules of their own, registering locations and
/// managing tokens, are left to [`authorize`]). `false` means "ask [`authorize`]", not
/// "denied". The server's per-request check, where the allowing sentence is never read.
pub fn allowed_outright(policy: &AccessPolicy, subject: &Subject, permission: Permission) -> bool {
    match subject.kind {
        SubjectKind::Operator | SubjectKind::Scheduler => true,
        _ if permission == Permission::CatalogEntityRead
            && policy.catalog_read == CatalogRead::Public =>
        {
            true
        }
        SubjectKind::Anonymous => false,
        _ if matches!(
            permission,
            Permission::CatalogLocationCreate | Permission::AuthTokenManage
        ) =>
        {
            false
        }
        _ => subject
            .roles
            .iter()
            .filter_map(|r| policy.role(r))
            .any(|r| r.grants(permission)),
    }
}

/// "role viewer lacks X", "roles a, b lack X", "jane holds no role".
fn lacking(subject: &Subject, roles: &[&Role], permission: Permission) -> String {
    let undefined: Vec<&str> = subject
        .roles
        .iter()
        .filter(|name| !roles.iter().any(|r| &r.name == *name))
        .map(String::as_str)
        .collect();
    let mut text = match roles {
        [] => format!("{} holds no role", subject.display_name),
        [one] => format!("role {} lacks {permission}", one.name),
        many => {
            let names: Vec<&str> = many.iter().map(|r| r.name.as_str()).collect();
            format!("roles {} lack {permission}", names.join(", "))
        }
    };
    if !undefined.is_empty() {
        text.push_str(&format!(" (not defined: {})", undefined.join(", ")));
    }
    text
}

/// The refs a subject owns through: a user and their groups. Tokens and workloads own
/// nothing, so they never exceed their role.
fn owner_refs(subject: &Subject) -> Option<BTreeSet<String>> {
    let SubjectKind::User { entity_ref } = &subject.kind else {
        return None;
    };
    let mut refs: BTreeSet<String> = subject.groups.iter().map(|g| g.to_lowercase()).collect();
    refs.insert(entity_ref.to_lowercase());
    Some(refs)
}

fn entity_ownership(
    subject: &Subject,
    entity_ref: &str,
    owners: &[String],
) -> Result<String, String> {
    let mine = owner_refs(subject).ok_or("ownership counts only for signed-in users")?;
    let owners: Vec<String> = owners.iter().map(|o| o.to_lowercase()).collect();
    match owners.iter().find(|o| mine.contains(*o)) {
        Some(o) if o.starts_with("user:") => Ok(format!("{o} owns {entity_ref}")),
        Some(o) => Ok(format!("member of {o}, which owns {entity_ref}")),
        None if owners.is_empty() => Err(format!("{entity_ref} has no owner")),
        None => Err(format!(
            "you are not among the owners of {entity_ref} ({})",
            owners.join(", ")
        )),
    }
}

fn location_ownership(
    subject: &Subject,
    provided_owners: &[Vec<String>],
) -> Result<String, String> {
    let mine = owner_refs(subject).ok_or("ownership counts only for signed-in users")?;
    if provided_owners.is_empty() {
        // Vacuous ownership would let anyone unregister an empty location.
        return Err("the location provides no entities, so no ownership applies".into());
    }
    let mut through = BTreeSet::new();
    let mut foreign = 0;
    for owners in provided_owners {
        match owners
            .iter()
            .map(|o| o.to_lowercase())
            .find(|o| mine.contains(o))
        {
            Some(o) => _ = through.insert(o),
            None => foreign += 1,
        }
    }
    let total = provided_owners.len();
    if foreign > 0 {
        return Err(format!(
            "{foreign} of the {total} entities the location provides are owned by none of your groups"
        ));
    }
    let through: Vec<String> = through.into_iter().collect();
    Ok(match through.as_slice() {
        [one] if one.starts_with("user:") => {
            format!("{one} owns every entity the location provides ({total})")
        }
        [one] => {
            format!("member of {one}, which owns every entity the location provides ({total})")
        }
        many => format!(
            "every entity the location provides ({total}) is owned by you or your groups ({})",
            many.join(", ")
        ),
    })
}

/// The permissions `subject` holds through its roles (`admin` standing for all).
fn held_permissions(policy: &AccessPolicy, subject: &Subject) -> BTreeSet<Permission> {
    let roles = subject.roles.iter().filter_map(|r| policy.role(r));
    let held: BTreeSet<Permission> = roles.flat_map(|r| r.permissions.iter().copied()).collect();
    if held.contains(&Permission::Admin) {
        Permission::ALL.into_iter().collect()
    } else {
        held
    }
}

/// Whether `granter` may create a token or a binding with `role`: only when the role's
/// permissions are a subset of the granter's own (through roles; ownership does not count),
/// so nobody hands themselves or a token more than they hold.
pub fn may_grant(policy: &AccessPolicy, granter: &Subject, role: &str) -> Result<(), Denied> {
    if granter.kind == SubjectKind::Operator {
        return Ok(());
    }
    let target = policy.role(role).ok_or_else(|| Denied {
        reason: format!("unknown role \"{role}\""),
    })?;
    let held = held_permissions(policy, granter);
    let missing: Vec<&str> = target
        .permissions
        .iter()
        .filter(|p| !held.contains(p))
        .map(|p| p.name())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Denied {
            reason: format!(
                "role {role} grants {}, which {} does not hold",
                missing.join(", "),
                granter.display_name
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn policy() -> AccessPolicy {
        let config: crate::config::AuthConfig = serde_json::from_value(serde_json::json!({
            "roles": {
                "deployer": {"permissions": ["catalog.entity.read", "slo.gate.override"]},
                "superuser": {"permissions": ["admin"]}
            }
        }))
        .unwrap();
        config.validate().unwrap()
    }

    fn with_roles(roles: &[&str]) -> Subject {
        let mut s = Subject::user(&policy(), "user:default/jane", "jane", BTreeSet::new());
        s.roles = roles.iter().map(|r| r.to_string()).collect();
        s
    }

    #[test]
    #[rustfmt::skip]
    fn may_grant_only_subsets_of_what_one_holds() {
        let policy = policy();
        let cases: &[(&[&str], &str, Result<(), &str>)] = &[
            (&["viewer"], "viewer", Ok(())),
            (&["viewer"], "guest", Ok(())),
            (&["viewer"], "editor", Err("role editor grants catalog.entity.refresh, catalog.location.create, catalog.location.delete, incident.manage, postmortem.write, template.push, which jane does not hold")),
            (&["editor"], "admin", Err("role admin grants")),
            (&["editor"], "superuser", Err("role superuser grants admin")),
            (&["editor"], "deployer", Err("grants slo.gate.override")),
            (&["editor", "deployer"], "deployer", Ok(())),
            (&["superuser"], "admin", Ok(())),
            (&["admin"], "deployer", Ok(())),
            (&[], "guest", Err("role guest grants catalog.entity.read")),
            (&["viewer"], "root", Err("unknown role \"root\"")),
        ];
        for (held, role, want) in cases {
            let got = may_grant(&policy, &with_roles(held), role);
            match (got, want) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(want)) => assert!(e.reason.contains(want), "{held:?} → {role}: {e}"),
                (got, want) => panic!("{held:?} → {role}: {got:?}, want {want:?}"),
            }
        }
        assert!(may_grant(&policy, &Subject::operator(), "admin").is_ok());
        assert!(may_grant(&policy, &Subject::anonymous(), "guest").is_err());
        let token = Subject::token("t1", "ci", Some("user:default/jane"), "viewer");
        assert!(may_grant(&policy, &token, "editor").is_err());
    }
}
