//! The authorization decision as a table: subject × permission × resource → allowed, the
//! role used, and a substring of the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use pave_auth::{
    AccessPolicy, AuthConfig, Directory, Permission as P, Resource, Subject, allowed_outright,
    authorize, transitive_groups,
};
use serde_json::json;

struct Org {
    members: BTreeMap<&'static str, Vec<String>>,
    parents: BTreeMap<&'static str, Vec<String>>,
}

impl Directory for Org {
    fn member_of(&self, user_ref: &str) -> Vec<String> {
        self.members.get(user_ref).cloned().unwrap_or_default()
    }
    fn parents_of(&self, group_ref: &str) -> Vec<String> {
        self.parents.get(group_ref).cloned().unwrap_or_default()
    }
    fn user_by_email(&self, _: &str) -> Option<String> {
        None
    }
    fn user_exists(&self, user_ref: &str) -> bool {
        self.members.contains_key(user_ref)
    }
    fn entities_with_annotation(&self, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
}

fn org() -> Org {
    let g = |s: &str| vec![format!("group:default/{s}")];
    Org {
        members: BTreeMap::from([
            ("user:default/jane", g("team-a")),
            ("user:default/bob", g("team-b")),
            ("user:default/multi", [g("team-b"), g("eng")].concat()),
            ("user:default/ed", Vec::new()),
            ("user:default/root", Vec::new()),
            ("user:default/sec", Vec::new()),
            ("user:default/loner", Vec::new()),
        ]),
        parents: BTreeMap::from([
            ("group:default/team-a", g("eng")),
            ("group:default/eng", g("org")),
        ]),
    }
}

fn make_policy(catalog_read: &str) -> AccessPolicy {
    let config: AuthConfig = serde_json::from_value(json!({
        "roles": {
            "deployer": {"permissions": ["catalog.entity.read", "slo.gate.override"]},
            "tokenadmin": {"permissions": ["auth.token.admin", "auth.token.manage"]}
        },
        "bindings": [
            {"role": "viewer", "groups": ["org"]},
            {"role": "editor", "users": ["ed"]},
            {"role": "admin", "users": ["root"]},
            {"role": "deployer", "groups": ["team-b"]},
            {"role": "tokenadmin", "users": ["sec"]}
        ],
        "catalogRead": catalog_read
    }))
    .unwrap();
    config.validate().unwrap()
}

fn user(policy: &AccessPolicy, name: &str) -> Subject {
    let user_ref = format!("user:default/{name}");
    Subject::user(
        policy,
        &user_ref,
        name,
        transitive_groups(&org(), &user_ref),
    )
}

fn entity(name: &str, owners: &[&str]) -> Resource {
    Resource::Entity {
        entity_ref: format!("component:default/{name}"),
        owners: owners.iter().map(|o| o.to_string()).collect(),
    }
}

fn location(kind: &str, provided: &[&[&str]]) -> Resource {
    Resource::Location {
        kind: kind.into(),
        provided_owners: provided
            .iter()
            .map(|o| o.iter().map(|s| s.to_string()).collect())
            .collect(),
    }
}

fn token_of(owner: Option<&str>) -> Resource {
    Resource::Token {
        owner: owner.map(|o| format!("user:default/{o}")),
    }
}

/// Policy, subject, permission, resource → allowed, role used, reason substring.
type Case<'a> = (
    &'a AccessPolicy,
    Subject,
    P,
    &'a Resource,
    bool,
    Option<&'a str>,
    &'a str,
);

const TEAM_A: &str = "group:default/team-a";
const TEAM_B: &str = "group:default/team-b";
const JANE: &str = "user:default/jane";

#[test]
fn authorize_table() {
    let policy = make_policy("authenticated");
    let public = make_policy("public");
    let u = |name: &str| user(&policy, name);
    let web = entity("web", &[TEAM_A]);
    let pay = entity("pay", &[TEAM_B]);
    let janes = entity("janes", &["User:default/Jane"]);
    let orphan = entity("orphan", &[]);
    let loc_mine = location("url", &[&[TEAM_A], &[TEAM_A, TEAM_B], &[JANE]]);
    let loc_team_a = location("url", &[&[TEAM_A]]);
    let loc_mixed = location("url", &[&[TEAM_A], &[TEAM_B]]);
    let loc_empty = location("url", &[]);
    let loc_file = location("file", &[&[TEAM_A]]);
    let new_url = Resource::NewLocation { kind: "url".into() };
    let new_file = Resource::NewLocation {
        kind: "file".into(),
    };
    let jane_token = Subject::token("t1", "jane-ci", Some(JANE), "viewer");
    let ed_token = Subject::token("t2", "ed-ci", Some("user:default/ed"), "editor");
    let ghost_token = Subject::token("t3", "old", None, "ghost");
    let workload = pave_auth::WorkloadMatch {
        issuer: "https://ci".into(),
        subject: "repo:acme/web".into(),
        entity: Some("component:default/web".into()),
        role: "deployer".into(),
    }
    .subject();
    let none = Resource::None;
    let (tok_jane, tok_bob) = (token_of(Some("jane")), token_of(Some("bob")));
    let (tok_ed, tok_none) = (token_of(Some("ed")), token_of(None));

    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        // Who may do anything at all.
        (&policy, Subject::operator(), P::Admin, &none, true, None, "the local operator (CLI) may do everything"),
        (&policy, Subject::anonymous(), P::CatalogEntityRead, &web, false, None, "not signed in; catalog.entity.read needs a signed-in identity"),
        (&public, Subject::anonymous(), P::CatalogEntityRead, &web, true, None, "catalog reads are public (auth.catalogRead: public)"),
        (&public, Subject::anonymous(), P::CatalogLocationRead, &none, false, None, "not signed in"),
        (&public, Subject::anonymous(), P::CatalogEntityRefresh, &web, false, None, "not signed in"),
        (&policy, u("loner"), P::CatalogEntityRead, &web, true, None, "signed in, and reading the catalog needs no more"),
        (&policy, u("loner"), P::CatalogLocationRead, &none, false, None, "loner holds no role"),
        (&policy, Subject::scheduler(), P::CatalogEntityRefresh, &web, true, None, "pave's own scheduled work"),
        (&policy, u("jane"), P::CatalogEntityRead, &web, true, Some("viewer"), "role viewer grants catalog.entity.read"),
        // Ownership of entities.
        (&policy, u("jane"), P::CatalogEntityRefresh, &web, true, None, "member of group:default/team-a, which owns component:default/web"),
        (&policy, u("jane"), P::CatalogEntityRefresh, &pay, false, None, "role viewer lacks catalog.entity.refresh, and you are not among the owners of component:default/pay (group:default/team-b)"),
        (&policy, u("jane"), P::CatalogEntityRefresh, &janes, true, None, "user:default/jane owns component:default/janes"),
        (&policy, u("jane"), P::CatalogEntityRefresh, &orphan, false, None, "component:default/orphan has no owner"),
        (&policy, u("jane"), P::CatalogEntityDelete, &web, false, None, "role viewer lacks catalog.entity.delete"),
        (&policy, u("multi"), P::CatalogEntityRefresh, &pay, true, None, "member of group:default/team-b, which owns component:default/pay"),
        (&policy, u("multi"), P::AuditRead, &none, false, None, "roles deployer, viewer lack audit.read"),
        // Ownership of locations: every entity they provide.
        (&policy, u("jane"), P::CatalogLocationDelete, &loc_mine, true, None, "every entity the location provides (3) is owned by you or your groups (group:default/team-a, user:default/jane)"),
        (&policy, u("jane"), P::CatalogEntityRefresh, &loc_mine, true, None, "owned by you or your groups"),
        (&policy, u("jane"), P::CatalogLocationCreate, &loc_team_a, true, None, "member of group:default/team-a, which owns every entity the location provides (1)"),
        (&policy, u("jane"), P::CatalogLocationDelete, &loc_mixed, false, None, "1 of the 2 entities the location provides are owned by none of your groups"),
        (&policy, u("jane"), P::CatalogLocationDelete, &loc_empty, false, None, "the location provides no entities, so no ownership applies"),
        (&policy, u("bob"), P::CatalogLocationDelete, &loc_team_a, false, None, "role deployer lacks catalog.location.delete, and 1 of the 1 entities"),
        // Location types.
        (&policy, u("jane"), P::CatalogLocationCreate, &loc_file, false, None, "registering a file location needs admin"),
        (&policy, u("jane"), P::CatalogLocationCreate, &new_url, false, None, "role viewer lacks catalog.location.create"),
        (&policy, u("ed"), P::CatalogLocationCreate, &new_url, true, Some("editor"), "role editor grants catalog.location.create"),
        (&policy, u("ed"), P::CatalogLocationCreate, &new_file, false, None, "registering a file location needs admin (auth.locations.nonAdminTypes: [url])"),
        (&policy, u("ed"), P::CatalogLocationDelete, &loc_file, true, Some("editor"), "role editor grants catalog.location.delete"),
        (&policy, u("root"), P::CatalogLocationCreate, &new_file, true, Some("admin"), "role admin grants admin"),
        // Role-only permissions.
        (&policy, u("root"), P::AuditRead, &none, true, Some("admin"), "role admin grants admin"),
        (&policy, u("ed"), P::AuditRead, &none, false, None, "role editor lacks audit.read"),
        (&policy, u("ed"), P::CatalogEntityRefresh, &pay, true, Some("editor"), "role editor grants catalog.entity.refresh"),
        (&policy, u("bob"), P::SloGateOverride, &pay, true, Some("deployer"), "role deployer grants slo.gate.override"),
        (&policy, u("jane"), P::SloGateOverride, &web, false, None, "role viewer lacks slo.gate.override"),
        // Tokens: own tokens only, unless auth.token.admin.
        (&policy, u("jane"), P::AuthTokenManage, &tok_jane, true, Some("viewer"), "role viewer grants auth.token.manage and the token is yours"),
        (&policy, u("jane"), P::AuthTokenManage, &tok_bob, false, None, "auth.token.manage covers only your own tokens; this one belongs to user:default/bob"),
        (&policy, u("jane"), P::AuthTokenManage, &tok_none, false, None, "this one belongs to nobody"),
        (&policy, u("bob"), P::AuthTokenManage, &tok_bob, false, None, "role deployer lacks auth.token.manage"),
        (&policy, u("sec"), P::AuthTokenManage, &tok_bob, true, Some("tokenadmin"), "role tokenadmin grants auth.token.admin"),
        (&policy, u("root"), P::AuthTokenManage, &tok_none, true, Some("admin"), "role admin grants admin"),
        (&policy, u("jane"), P::AuthTokenAdmin, &none, false, None, "role viewer lacks auth.token.admin"),
        // A token does what its role allows and nothing more: no ownership.
        (&policy, jane_token.clone(), P::CatalogEntityRead, &web, true, Some("viewer"), "role viewer grants catalog.entity.read"),
        (&policy, jane_token.clone(), P::CatalogEntityRefresh, &web, false, None, "role viewer lacks catalog.entity.refresh, and ownership counts only for signed-in users"),
        (&policy, jane_token.clone(), P::CatalogLocationDelete, &loc_team_a, false, None, "ownership counts only for signed-in users"),
        (&policy, jane_token.clone(), P::AuthTokenManage, &tok_jane, true, Some("viewer"), "the token is yours"),
        (&policy, jane_token, P::AuthTokenManage, &tok_ed, false, None, "covers only your own tokens"),
        (&policy, ed_token.clone(), P::CatalogEntityRefresh, &pay, true, Some("editor"), "role editor grants catalog.entity.refresh"),
        (&policy, ed_token, P::CatalogLocationCreate, &new_file, false, None, "registering a file location needs admin"),
        (&policy, ghost_token, P::CatalogEntityRead, &web, false, None, "token old holds no role (not defined: ghost)"),
        // Workloads and guests.
        (&policy, workload.clone(), P::SloGateOverride, &web, true, Some("deployer"), "role deployer grants slo.gate.override"),
        (&policy, workload, P::CatalogEntityRefresh, &web, false, None, "role deployer lacks catalog.entity.refresh, and ownership counts only for signed-in users"),
        (&policy, Subject::guest("visitor"), P::CatalogEntityRead, &web, true, Some("guest"), "role guest grants catalog.entity.read"),
        (&policy, Subject::guest("visitor"), P::CatalogLocationRead, &none, false, None, "role guest lacks catalog.location.read"),
    ];

    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for (i, (policy, subject, permission, resource, allowed, role, reason)) in
        cases.iter().enumerate()
    {
        let d = authorize(policy, subject, *permission, resource);
        // The server's shortcut never allows what the full decision refuses, and it does
        // take every case a role allows outright.
        let outright = allowed_outright(policy, subject, *permission);
        if outright && !d.allowed {
            failures.push(format!(
                "case {i}: allowed_outright allows what authorize refuses: {} {permission}",
                subject.display_name
            ));
        }
        if d.allowed
            && d.reason.starts_with("role ")
            && !matches!(permission, P::CatalogLocationCreate | P::AuthTokenManage)
            && !outright
        {
            failures.push(format!(
                "case {i}: a role allows {permission} to {} but allowed_outright does not",
                subject.display_name
            ));
        }
        if d.allowed != *allowed || d.role.as_deref() != *role || !d.reason.contains(reason) {
            failures.push(format!(
                "case {i}: {} {permission} {resource:?}\n  want allowed={allowed} role={role:?} reason ~ {reason:?}\n  got  allowed={} role={:?} reason = {:?}",
                subject.display_name, d.allowed, d.role, d.reason
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_permission_is_refused_to_anonymous_and_allowed_to_admin() {
    let policy = make_policy("authenticated");
    let root = user(&policy, "root");
    for p in P::ALL {
        assert!(
            !authorize(&policy, &Subject::anonymous(), p, &Resource::None).allowed,
            "{p}"
        );
        assert!(!allowed_outright(&policy, &Subject::anonymous(), p));
        // Every subject the table knows, every permission: the shortcut only ever agrees.
        for subject in [
            user(&policy, "root"),
            user(&policy, "jane"),
            Subject::guest("v"),
        ] {
            if allowed_outright(&policy, &subject, p) {
                assert!(
                    authorize(&policy, &subject, p, &Resource::None).allowed,
                    "{p} for {}",
                    subject.display_name
                );
            }
        }
        assert!(authorize(&policy, &root, p, &Resource::None).allowed, "{p}");
        assert!(
            authorize(&policy, &Subject::operator(), p, &Resource::None).allowed,
            "{p}"
        );
    }
    // A user's groups came through the hierarchy: jane is in org through team-a and eng.
    let jane = user(&policy, "jane");
    assert_eq!(jane.roles, ["viewer"]);
    assert_eq!(
        jane.groups,
        BTreeSet::from(["group:default/eng", "group:default/org", TEAM_A].map(String::from))
    );
}
