//! Who is acting ([`Subject`]), the catalog questions identity needs ([`Directory`]), group
//! membership and role bindings.

use std::collections::BTreeSet;

use crate::policy::AccessPolicy;

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKind {
    /// A person signed in through OIDC, resolved to a catalog `User`.
    User { entity_ref: String },
    /// An API token (`pave_…`); `owner` is the user who created it, if any.
    Token {
        id: String,
        name: String,
        owner: Option<String>,
    },
    /// A CI job's OIDC token, mapped by claim rules to an entity (when a rule names one).
    Workload {
        issuer: String,
        subject: String,
        entity: Option<String>,
    },
    /// Signed in, but no catalog `User` matched (`auth.oidc.unmatched: guest`).
    Guest,
    /// The local CLI working on the database directly: whoever can do that owns the data.
    Operator,
    /// pave itself: the scheduled refreshes and the reading of sources at start.
    Scheduler,
    /// Nobody signed in.
    Anonymous,
}

/// Who is acting, with what they hold. Built by the server per request (or session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    /// For "signed in as" and audit records.
    pub display_name: String,
    /// Role names from bindings, a token's or a workload's role.
    pub roles: Vec<String>,
    /// Group refs, transitively (only users' groups count for ownership).
    pub groups: BTreeSet<String>,
}

impl Subject {
    /// A user with the roles their bindings give them.
    pub fn user(
        policy: &AccessPolicy,
        user_ref: &str,
        display_name: &str,
        groups: BTreeSet<String>,
    ) -> Self {
        let user_ref = user_ref.to_lowercase();
        Subject {
            roles: roles_for(policy, &user_ref, &groups),
            kind: SubjectKind::User {
                entity_ref: user_ref,
            },
            display_name: display_name.to_owned(),
            groups,
        }
    }

    /// An API token acting with exactly its role.
    pub fn token(id: &str, name: &str, owner: Option<&str>, role: &str) -> Self {
        Subject {
            kind: SubjectKind::Token {
                id: id.to_owned(),
                name: name.to_owned(),
                owner: owner.map(str::to_lowercase),
            },
            display_name: format!("token {name}"),
            roles: vec![role.to_owned()],
            groups: BTreeSet::new(),
        }
    }

    /// A signed-in identity without a catalog User, holding the `guest` role.
    pub fn guest(display_name: &str) -> Self {
        Subject {
            kind: SubjectKind::Guest,
            display_name: display_name.to_owned(),
            roles: vec!["guest".to_owned()],
            groups: BTreeSet::new(),
        }
    }

    /// The local CLI.
    pub fn operator() -> Self {
        Subject {
            kind: SubjectKind::Operator,
            display_name: "operator (local CLI)".to_owned(),
            roles: Vec::new(),
            groups: BTreeSet::new(),
        }
    }

    /// pave's own scheduled work.
    pub fn scheduler() -> Self {
        Subject {
            kind: SubjectKind::Scheduler,
            display_name: "pave (scheduled)".to_owned(),
            roles: Vec::new(),
            groups: BTreeSet::new(),
        }
    }

    /// Nobody signed in.
    pub fn anonymous() -> Self {
        Subject {
            kind: SubjectKind::Anonymous,
            display_name: "anonymous".to_owned(),
            roles: Vec::new(),
            groups: BTreeSet::new(),
        }
    }

    /// The user ref this subject acts as (a user, or a token's owner), for "own tokens".
    pub fn acting_user(&self) -> Option<&str> {
        match &self.kind {
            SubjectKind::User { entity_ref } => Some(entity_ref),
            SubjectKind::Token { owner, .. } => owner.as_deref(),
            _ => None,
        }
    }
}

/// The catalog questions identity needs; the server implements it over its store. Refs are
/// lower-case `kind:namespace/name` keys.
pub trait Directory {
    /// The groups `user_ref` is directly a member of (`memberOf`).
    fn member_of(&self, user_ref: &str) -> Vec<String>;
    /// The direct parents of `group_ref` (`spec.parent`).
    fn parents_of(&self, group_ref: &str) -> Vec<String>;
    /// The User whose `spec.profile.email` is `email` (case-insensitive), if exactly one.
    fn user_by_email(&self, email: &str) -> Option<String>;
    fn user_exists(&self, user_ref: &str) -> bool;
    /// Entities whose annotation `key` equals `value`.
    fn entities_with_annotation(&self, key: &str, value: &str) -> Vec<String>;
}

/// The groups of `user_ref`: its direct groups and all their ancestors (cycle-safe).
pub fn transitive_groups(dir: &dyn Directory, user_ref: &str) -> BTreeSet<String> {
    with_ancestors(dir, dir.member_of(user_ref))
}

/// `groups` and all their ancestors. A visited set stops cycles (`a` parent of `b` parent
/// of `a`), which catalogs do contain.
pub fn with_ancestors(dir: &dyn Directory, groups: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = groups;
    while let Some(group) = queue.pop() {
        let group = group.to_lowercase();
        if seen.insert(group.clone()) {
            queue.extend(dir.parents_of(&group));
        }
    }
    seen
}

/// The roles bound to `user_ref` directly or through any of `groups`, sorted, without repeats.
pub fn roles_for(policy: &AccessPolicy, user_ref: &str, groups: &BTreeSet<String>) -> Vec<String> {
    let roles: BTreeSet<&str> = policy
        .bindings
        .iter()
        .filter(|b| b.users.contains(user_ref) || !b.groups.is_disjoint(groups))
        .map(|b| b.role.as_str())
        .collect();
    roles.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::BTreeMap;

    /// An in-memory directory for the crate's tests.
    #[derive(Default)]
    pub(crate) struct TestDirectory {
        pub(crate) members: BTreeMap<String, Vec<String>>,
        pub(crate) parents: BTreeMap<String, Vec<String>>,
        pub(crate) emails: BTreeMap<String, String>,
        pub(crate) annotations: Vec<(String, String, String)>,
    }

    impl Directory for TestDirectory {
        fn member_of(&self, user_ref: &str) -> Vec<String> {
            self.members.get(user_ref).cloned().unwrap_or_default()
        }
        fn parents_of(&self, group_ref: &str) -> Vec<String> {
            self.parents.get(group_ref).cloned().unwrap_or_default()
        }
        fn user_by_email(&self, email: &str) -> Option<String> {
            self.emails.get(&email.to_lowercase()).cloned()
        }
        fn user_exists(&self, user_ref: &str) -> bool {
            self.members.contains_key(user_ref) || self.emails.values().any(|u| u == user_ref)
        }
        fn entities_with_annotation(&self, key: &str, value: &str) -> Vec<String> {
            let hits = self
                .annotations
                .iter()
                .filter(|(_, k, v)| k == key && v == value);
            hits.map(|(e, _, _)| e.clone()).collect()
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[rustfmt::skip]
    pub(crate) fn directory() -> TestDirectory {
        let mut dir = TestDirectory::default();
        dir.members.insert("user:default/jane".into(), strings(&["group:default/team-a"]));
        dir.members.insert("user:default/bob".into(), strings(&["group:default/team-b"]));
        dir.members.insert("user:default/loner".into(), Vec::new());
        dir.parents.insert("group:default/team-a".into(), strings(&["group:default/eng"]));
        dir.parents.insert("group:default/eng".into(), strings(&["group:default/org"]));
        // A cycle: org's parent is eng.
        dir.parents.insert("group:default/org".into(), strings(&["group:default/eng"]));
        dir.emails.insert("jane@example.com".into(), "user:default/jane".into());
        dir.annotations.push(("component:default/web".into(), "github.com/project-slug".into(), "acme/web".into()));
        dir.annotations.push(("api:default/web-api".into(), "github.com/project-slug".into(), "acme/web".into()));
        dir.annotations.push(("component:default/a".into(), "github.com/project-slug".into(), "acme/mono".into()));
        dir.annotations.push(("component:default/b".into(), "github.com/project-slug".into(), "acme/mono".into()));
        dir
    }

    #[test]
    fn transitive_groups_follow_parents_and_survive_cycles() {
        let dir = directory();
        let groups = transitive_groups(&dir, "user:default/jane");
        let want = [
            "group:default/eng",
            "group:default/org",
            "group:default/team-a",
        ];
        assert_eq!(groups.iter().map(String::as_str).collect::<Vec<_>>(), want);
        assert_eq!(transitive_groups(&dir, "user:default/bob").len(), 1);
        assert!(transitive_groups(&dir, "user:default/nobody").is_empty());
    }

    #[test]
    #[rustfmt::skip]
    fn roles_come_from_user_and_group_bindings() {
        let config: crate::config::AuthConfig = serde_json::from_value(serde_json::json!({
            "bindings": [
                {"role": "viewer", "groups": ["org"]},
                {"role": "editor", "users": ["jane"]},
                {"role": "admin", "groups": ["team-b"]},
                {"role": "viewer", "users": ["jane"]},
            ]
        }))
        .unwrap();
        let policy = config.validate().unwrap();
        let dir = directory();
        let jane = Subject::user(&policy, "User:default/Jane", "Jane", transitive_groups(&dir, "user:default/jane"));
        assert_eq!(jane.roles, ["editor", "viewer"]);
        assert_eq!(jane.acting_user(), Some("user:default/jane"));
        let bob = transitive_groups(&dir, "user:default/bob");
        assert_eq!(roles_for(&policy, "user:default/bob", &bob), ["admin"]);
        assert!(roles_for(&policy, "user:default/loner", &BTreeSet::new()).is_empty());
    }
}
