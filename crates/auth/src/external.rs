//! Decisions by an external policy (`auth.policy.rego`), which replaces the built-in rules
//! as Backstage's permission policy replaces its default one.
//!
//! The policy sees one JSON document per decision and answers with the rule
//! [`AUTHZ_RULE`] (`data.pave.authz.decision`):
//!
//! ```json
//! {
//!   "subject": {"kind": "user", "ref": "user:default/jane", "name": "Jane",
//!               "roles": ["viewer"], "groups": ["group:default/payments"]},
//!   "permission": "catalog.entity.refresh",
//!   "resource": {"type": "entity", "entityRef": "component:default/checkout",
//!                "owners": ["group:default/payments"]},
//!   "builtin": {"allow": true, "reason": "you own component:default/checkout …", "role": null}
//! }
//! ```
//!
//! `subject.kind` is `user`, `token`, `workload` or `guest` (`ref` is the user's entity, the
//! token's id or the workload's entity; a token also has `owner`, a workload `issuer` and
//! `sub`). `resource.type` is `none`, `entity`, `location` (`locationType`,
//! `providedOwners`: the owners of each entity it provides), `newLocation` (`locationType`)
//! or `token` (`owner`). `builtin` is what the built-in rules would decide, so a policy can
//! tighten or widen them rather than start over.
//!
//! The answer is `{"allow": bool, "reason": "…"}` or a bare boolean. Anything else, an
//! undefined rule, or a failed or timed-out evaluation denies (fail closed) with a reason
//! that says so. The local operator and pave's scheduler are not asked: they act with the
//! database's authority, not the policy's.

use serde_json::{Value, json};

use crate::decide::{Decision, Resource, authorize};
use crate::permission::Permission;
use crate::policy::AccessPolicy;
use crate::subject::{Subject, SubjectKind};

/// The rule the policy answers with.
pub const AUTHZ_RULE: &str = "data.pave.authz.decision";

/// A policy that decides from the document of [`decision_input`]: `Ok(None)` when its rule
/// is undefined for it, `Err` when it could not be evaluated.
pub trait ExternalPolicy: Send + Sync {
    fn decide(&self, input: &Value) -> Result<Option<Value>, String>;
}

/// The document the external policy decides on (see the module docs).
pub fn decision_input(
    subject: &Subject,
    permission: Permission,
    resource: &Resource,
    builtin: &Decision,
) -> Value {
    let mut who = match &subject.kind {
        SubjectKind::User { entity_ref } => json!({"kind": "user", "ref": entity_ref}),
        SubjectKind::Token { id, owner, .. } => {
            json!({"kind": "token", "ref": id, "owner": owner})
        }
        SubjectKind::Workload {
            issuer,
            subject,
            entity,
        } => json!({"kind": "workload", "ref": entity, "issuer": issuer, "sub": subject}),
        SubjectKind::Guest => json!({"kind": "guest", "ref": null}),
        SubjectKind::Operator => json!({"kind": "operator", "ref": null}),
        SubjectKind::Scheduler => json!({"kind": "scheduler", "ref": null}),
        SubjectKind::Anonymous => json!({"kind": "anonymous", "ref": null}),
    };
    who["name"] = json!(subject.display_name);
    who["roles"] = json!(subject.roles);
    who["groups"] = json!(subject.groups);
    let what = match resource {
        Resource::None => json!({"type": "none"}),
        Resource::Entity { entity_ref, owners } => {
            json!({"type": "entity", "entityRef": entity_ref, "owners": owners})
        }
        Resource::Location {
            kind,
            provided_owners,
        } => json!({"type": "location", "locationType": kind, "providedOwners": provided_owners}),
        Resource::NewLocation { kind } => json!({"type": "newLocation", "locationType": kind}),
        Resource::Token { owner } => json!({"type": "token", "owner": owner}),
    };
    json!({
        "subject": who,
        "permission": permission.name(),
        "resource": what,
        "builtin": {"allow": builtin.allowed, "reason": builtin.reason, "role": builtin.role},
    })
}

/// The decision: the built-in one, or, with `external`, the external policy's answer to
/// the built-in one's document (for everyone but the operator and the scheduler).
pub fn authorize_with(
    policy: &AccessPolicy,
    external: Option<&dyn ExternalPolicy>,
    subject: &Subject,
    permission: Permission,
    resource: &Resource,
) -> Decision {
    let builtin = authorize(policy, subject, permission, resource);
    let Some(external) = external else {
        return builtin;
    };
    if matches!(subject.kind, SubjectKind::Operator | SubjectKind::Scheduler) {
        return builtin;
    }
    let input = decision_input(subject, permission, resource, &builtin);
    let deny = |reason: String| Decision {
        allowed: false,
        reason,
        role: None,
    };
    match external.decide(&input) {
        Ok(Some(Value::Bool(allowed))) => Decision {
            allowed,
            reason: plain_reason(allowed),
            role: None,
        },
        Ok(Some(Value::Object(answer))) => match answer.get("allow") {
            Some(Value::Bool(allowed)) => Decision {
                allowed: *allowed,
                reason: match answer.get("reason").and_then(Value::as_str) {
                    Some(reason) if !reason.trim().is_empty() => reason.to_owned(),
                    _ => plain_reason(*allowed),
                },
                role: None,
            },
            _ => deny(format!(
                "the authorization policy's answer has no boolean \"allow\" ({AUTHZ_RULE} = {})",
                Value::Object(answer.clone())
            )),
        },
        Ok(Some(other)) => deny(format!(
            "the authorization policy answered {other}, not a boolean or {{\"allow\": …, \"reason\": …}} ({AUTHZ_RULE})"
        )),
        Ok(None) => deny(format!(
            "the authorization policy gave no decision ({AUTHZ_RULE} is undefined for this request)"
        )),
        Err(e) => deny(format!("the authorization policy failed: {e}")),
    }
}

/// The reason of an answer that gives none.
fn plain_reason(allowed: bool) -> String {
    let verdict = if allowed { "allows it" } else { "denies it" };
    format!("the authorization policy ({AUTHZ_RULE}) {verdict}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeSet;

    /// A policy answering from a function of the input.
    struct Answer(fn(&Value) -> Result<Option<Value>, String>);
    impl ExternalPolicy for Answer {
        fn decide(&self, input: &Value) -> Result<Option<Value>, String> {
            (self.0)(input)
        }
    }

    fn member() -> Subject {
        Subject {
            kind: SubjectKind::User {
                entity_ref: "user:default/jane".into(),
            },
            display_name: "Jane".into(),
            roles: vec!["viewer".into()],
            groups: BTreeSet::from(["group:default/payments".to_owned()]),
        }
    }

    fn entity() -> Resource {
        Resource::Entity {
            entity_ref: "component:default/checkout".into(),
            owners: vec!["group:default/payments".into()],
        }
    }

    #[test]
    fn the_input_document_carries_subject_resource_and_the_builtin_decision() {
        let policy = AccessPolicy::default();
        let builtin = authorize(
            &policy,
            &member(),
            Permission::CatalogEntityRefresh,
            &entity(),
        );
        let input = decision_input(
            &member(),
            Permission::CatalogEntityRefresh,
            &entity(),
            &builtin,
        );
        assert_eq!(input["subject"]["kind"], "user");
        assert_eq!(input["subject"]["ref"], "user:default/jane");
        assert_eq!(input["subject"]["groups"][0], "group:default/payments");
        assert_eq!(input["permission"], Permission::CatalogEntityRefresh.name());
        assert_eq!(input["resource"]["type"], "entity");
        assert_eq!(input["resource"]["owners"][0], "group:default/payments");
        assert_eq!(input["builtin"]["allow"], builtin.allowed);
        assert_eq!(input["builtin"]["reason"], builtin.reason.as_str());
    }

    #[test]
    fn answers_are_read_strictly_and_anything_unclear_denies() {
        let policy = AccessPolicy::default();
        type Case = (
            fn(&Value) -> Result<Option<Value>, String>,
            bool,
            &'static str,
        );
        let cases: [Case; 8] = [
            (|_| Ok(Some(json!(true))), true, "allows it"),
            (|_| Ok(Some(json!(false))), false, "denies it"),
            (
                |_| Ok(Some(json!({"allow": true, "reason": "on call"}))),
                true,
                "on call",
            ),
            (|_| Ok(Some(json!({"allow": false}))), false, "denies it"),
            (|_| Ok(Some(json!({"allow": "yes"}))), false, "no boolean"),
            (|_| Ok(Some(json!(["deny"]))), false, "not a boolean"),
            (|_| Ok(None), false, "gave no decision"),
            (|_| Err("timed out".into()), false, "failed: timed out"),
        ];
        for (answer, allowed, reason) in cases {
            let d = authorize_with(
                &policy,
                Some(&Answer(answer)),
                &member(),
                Permission::CatalogEntityRefresh,
                &entity(),
            );
            assert_eq!(d.allowed, allowed, "{reason}: {d:?}");
            assert!(d.reason.contains(reason), "{reason}: {d:?}");
        }
    }

    #[test]
    fn the_policy_can_widen_and_narrow_the_builtin_rules() {
        let policy = AccessPolicy::default();
        // Widen: a viewer may refresh anything; narrow: nobody may read the audit log.
        let rules = Answer(|input| {
            let permission = input["permission"].as_str().unwrap();
            Ok(Some(json!(match permission {
                "audit.read" => false,
                "catalog.entity.refresh" => true,
                _ => input["builtin"]["allow"].as_bool().unwrap(),
            })))
        });
        let elsewhere = Resource::Entity {
            entity_ref: "component:default/other".into(),
            owners: vec!["group:default/other".into()],
        };
        let refresh = Permission::CatalogEntityRefresh;
        assert!(!authorize(&policy, &member(), refresh, &elsewhere).allowed);
        assert!(authorize_with(&policy, Some(&rules), &member(), refresh, &elsewhere).allowed);
        let read = Permission::CatalogEntityRead;
        assert_eq!(
            authorize_with(&policy, Some(&rules), &member(), read, &entity()).allowed,
            authorize(&policy, &member(), read, &entity()).allowed
        );
        // The operator is not asked.
        let operator = Subject::operator();
        let never = Answer(|_| Ok(Some(json!(false))));
        assert!(
            authorize_with(
                &policy,
                Some(&never),
                &operator,
                Permission::AuditRead,
                &Resource::None
            )
            .allowed
        );
    }
}
