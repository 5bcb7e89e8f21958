//! The 14 relation types and how spec fields turn into them, as Backstage's
//! `BuiltinKindsEntityProcessor` (and the scaffolder's Template processor) emit them.

use pave_yaml::PathSegment;
use serde_json::Value;

use crate::entity_ref::EntityRef;
use crate::problem::{Problem, Stage};

/// A relation type. Each has a reverse, emitted alongside it with source and target swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelationType {
    ApiConsumedBy,
    ApiProvidedBy,
    ChildOf,
    ConsumesApi,
    DependencyOf,
    DependsOn,
    HasMember,
    HasPart,
    MemberOf,
    OwnedBy,
    OwnerOf,
    ParentOf,
    PartOf,
    ProvidesApi,
}

impl RelationType {
    pub const ALL: [RelationType; 14] = [
        RelationType::ApiConsumedBy,
        RelationType::ApiProvidedBy,
        RelationType::ChildOf,
        RelationType::ConsumesApi,
        RelationType::DependencyOf,
        RelationType::DependsOn,
        RelationType::HasMember,
        RelationType::HasPart,
        RelationType::MemberOf,
        RelationType::OwnedBy,
        RelationType::OwnerOf,
        RelationType::ParentOf,
        RelationType::PartOf,
        RelationType::ProvidesApi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationType::ApiConsumedBy => "apiConsumedBy",
            RelationType::ApiProvidedBy => "apiProvidedBy",
            RelationType::ChildOf => "childOf",
            RelationType::ConsumesApi => "consumesApi",
            RelationType::DependencyOf => "dependencyOf",
            RelationType::DependsOn => "dependsOn",
            RelationType::HasMember => "hasMember",
            RelationType::HasPart => "hasPart",
            RelationType::MemberOf => "memberOf",
            RelationType::OwnedBy => "ownedBy",
            RelationType::OwnerOf => "ownerOf",
            RelationType::ParentOf => "parentOf",
            RelationType::PartOf => "partOf",
            RelationType::ProvidesApi => "providesApi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn reverse(self) -> Self {
        match self {
            RelationType::ApiConsumedBy => RelationType::ConsumesApi,
            RelationType::ConsumesApi => RelationType::ApiConsumedBy,
            RelationType::ApiProvidedBy => RelationType::ProvidesApi,
            RelationType::ProvidesApi => RelationType::ApiProvidedBy,
            RelationType::ChildOf => RelationType::ParentOf,
            RelationType::ParentOf => RelationType::ChildOf,
            RelationType::DependencyOf => RelationType::DependsOn,
            RelationType::DependsOn => RelationType::DependencyOf,
            RelationType::HasMember => RelationType::MemberOf,
            RelationType::MemberOf => RelationType::HasMember,
            RelationType::HasPart => RelationType::PartOf,
            RelationType::PartOf => RelationType::HasPart,
            RelationType::OwnedBy => RelationType::OwnerOf,
            RelationType::OwnerOf => RelationType::OwnedBy,
        }
    }
}

/// A directed relation between two canonical (lower-cased) entity keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relation {
    pub source: String,
    pub relation: RelationType,
    pub target: String,
}

/// Which spec field emits which relation, and the kind a bare name defaults to.
struct Rule {
    field: &'static str,
    relation: RelationType,
    default_kind: Option<&'static str>,
}

const fn rule(
    field: &'static str,
    relation: RelationType,
    default_kind: Option<&'static str>,
) -> Rule {
    Rule {
        field,
        relation,
        default_kind,
    }
}

use RelationType::*;

const COMPONENT: &[Rule] = &[
    rule("owner", OwnedBy, Some("Group")),
    rule("subcomponentOf", PartOf, Some("Component")),
    rule("providesApis", ProvidesApi, Some("API")),
    rule("consumesApis", ConsumesApi, Some("API")),
    rule("dependsOn", DependsOn, None),
    rule("dependencyOf", DependencyOf, None),
    rule("system", PartOf, Some("System")),
];
const API: &[Rule] = &[
    rule("owner", OwnedBy, Some("Group")),
    rule("system", PartOf, Some("System")),
];
const RESOURCE: &[Rule] = &[
    rule("owner", OwnedBy, Some("Group")),
    rule("dependsOn", DependsOn, None),
    rule("dependencyOf", DependencyOf, None),
    rule("system", PartOf, Some("System")),
];
const USER: &[Rule] = &[rule("memberOf", MemberOf, Some("Group"))];
const GROUP: &[Rule] = &[
    rule("parent", ChildOf, Some("Group")),
    rule("children", ParentOf, Some("Group")),
    rule("members", HasMember, Some("User")),
];
const SYSTEM: &[Rule] = &[
    rule("owner", OwnedBy, Some("Group")),
    rule("domain", PartOf, Some("Domain")),
];
const DOMAIN: &[Rule] = &[
    rule("owner", OwnedBy, Some("Group")),
    rule("subdomainOf", PartOf, Some("Domain")),
];
const TEMPLATE: &[Rule] = &[rule("owner", OwnedBy, Some("Group"))];

fn rules_for(kind: &str) -> &'static [Rule] {
    match kind {
        "Component" => COMPONENT,
        "API" => API,
        "Resource" => RESOURCE,
        "User" => USER,
        "Group" => GROUP,
        "System" => SYSTEM,
        "Domain" => DOMAIN,
        "Template" => TEMPLATE,
        _ => &[],
    }
}

/// Emits the relations (and their reverses) that `entity`'s spec declares. Targets default to
/// the entity's own namespace. Unparseable references are problems.
pub fn derive_relations(entity: &Value, own: &EntityRef) -> Result<Vec<Relation>, Vec<Problem>> {
    let self_key = own.key().into_string();
    let spec = entity.get("spec");
    let mut relations = Vec::new();
    let mut problems = Vec::new();
    for rule in rules_for(&own.kind) {
        let Some(value) = spec.and_then(|s| s.get(rule.field)) else {
            continue;
        };
        let targets: Vec<(Option<usize>, &str)> = match value {
            Value::String(s) => vec![(None, s.as_str())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_str().map(|s| (Some(i), s)))
                .collect(),
            _ => continue,
        };
        for (index, target) in targets {
            match EntityRef::parse(target, rule.default_kind, &own.namespace) {
                Ok(target) => {
                    let target = target.key().into_string();
                    relations.push(Relation {
                        source: self_key.clone(),
                        relation: rule.relation,
                        target: target.clone(),
                    });
                    relations.push(Relation {
                        source: target,
                        relation: rule.relation.reverse(),
                        target: self_key.clone(),
                    });
                }
                Err(err) => {
                    let mut path = vec![
                        PathSegment::Key("spec".into()),
                        PathSegment::Key(rule.field.into()),
                    ];
                    path.extend(index.map(PathSegment::Index));
                    problems.push(Problem::error(
                        Stage::Relations,
                        path,
                        format!("`spec.{}`: {err}", rule.field),
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(relations)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn derive(entity: Value) -> Vec<String> {
        let own = EntityRef::new(
            entity["kind"].as_str().unwrap(),
            entity["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default"),
            entity["metadata"]["name"].as_str().unwrap(),
        );
        derive_relations(&entity, &own)
            .unwrap()
            .into_iter()
            .map(|r| format!("{} {} {}", r.source, r.relation.as_str(), r.target))
            .collect()
    }

    #[test]
    fn every_type_has_a_distinct_reverse() {
        for t in RelationType::ALL {
            assert_eq!(t.reverse().reverse(), t);
            assert_ne!(t.reverse(), t);
            assert_eq!(RelationType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn component_fields_emit_pairs_in_the_source_namespace() {
        let got = derive(json!({
            "kind": "Component",
            "metadata": {"name": "MyService", "namespace": "prod"},
            "spec": {"owner": "Team-A", "system": "default/payments", "dependsOn": ["resource:db"],
                     "providesApis": ["api-a"], "consumesApis": ["other/api-b"],
                     "subcomponentOf": "parent", "dependencyOf": ["component:x"]}
        }));
        assert_eq!(
            got,
            vec![
                "component:prod/myservice ownedBy group:prod/team-a",
                "group:prod/team-a ownerOf component:prod/myservice",
                "component:prod/myservice partOf component:prod/parent",
                "component:prod/parent hasPart component:prod/myservice",
                "component:prod/myservice providesApi api:prod/api-a",
                "api:prod/api-a apiProvidedBy component:prod/myservice",
                "component:prod/myservice consumesApi api:other/api-b",
                "api:other/api-b apiConsumedBy component:prod/myservice",
                "component:prod/myservice dependsOn resource:prod/db",
                "resource:prod/db dependencyOf component:prod/myservice",
                "component:prod/myservice dependencyOf component:prod/x",
                "component:prod/x dependsOn component:prod/myservice",
                "component:prod/myservice partOf system:default/payments",
                "system:default/payments hasPart component:prod/myservice",
            ]
        );
    }

    #[test]
    fn groups_users_systems_domains_templates() {
        assert_eq!(
            derive(json!({"kind": "Group", "metadata": {"name": "g"},
                "spec": {"parent": "p", "children": ["c"], "members": ["u"]}})),
            vec![
                "group:default/g childOf group:default/p",
                "group:default/p parentOf group:default/g",
                "group:default/g parentOf group:default/c",
                "group:default/c childOf group:default/g",
                "group:default/g hasMember user:default/u",
                "user:default/u memberOf group:default/g",
            ]
        );
        assert_eq!(
            derive(
                json!({"kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": ["group:default/g"]}})
            ),
            vec![
                "user:default/u memberOf group:default/g",
                "group:default/g hasMember user:default/u"
            ]
        );
        assert_eq!(
            derive(
                json!({"kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "o", "subdomainOf": "top"}})
            ),
            vec![
                "domain:default/d ownedBy group:default/o",
                "group:default/o ownerOf domain:default/d",
                "domain:default/d partOf domain:default/top",
                "domain:default/top hasPart domain:default/d",
            ]
        );
        assert_eq!(
            derive(
                json!({"kind": "Template", "metadata": {"name": "t"}, "spec": {"owner": "user:me"}})
            ),
            vec![
                "template:default/t ownedBy user:default/me",
                "user:default/me ownerOf template:default/t"
            ]
        );
        assert!(
            derive(json!({"kind": "Widget", "metadata": {"name": "w"}, "spec": {"owner": "x"}}))
                .is_empty()
        );
    }

    #[test]
    fn bad_refs_are_problems_with_paths() {
        let entity = json!({"kind": "Component", "metadata": {"name": "c"},
            "spec": {"owner": "group:", "dependsOn": ["ok:x", "no-kind"]}});
        let own = EntityRef::new("Component", "default", "c");
        let problems = derive_relations(&entity, &own).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].dotted_path(), "spec.owner");
        assert!(
            problems[0].message.contains("\"group:\""),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[1].dotted_path(), "spec.dependsOn.1");
        assert!(
            problems[1].message.contains("has no kind"),
            "{}",
            problems[1].message
        );
    }
}
