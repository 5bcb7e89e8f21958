//! Backstage catalog entities: ownership, descriptions, lifecycle and system, and the
//! annotations that link an entity to its docs and source.

use pave_catalog::EntityRef;
use pave_yaml::PathSegment;
use serde_json::Value;

use crate::doc::{DocKind, Document};
use crate::rule::{DocRule, References, Rule, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::Catalog,
        tier: Tier::Recommended,
        rationale,
        remediation,
        references: References::default(),
    }
}

/// Kinds whose schema gives them an owner.
const OWNED: &[&str] = &["Component", "API", "Resource", "System", "Domain"];

const SOURCE_ANNOTATIONS: &[&str] = &[
    "backstage.io/source-location",
    "github.com/project-slug",
    "gitlab.com/project-slug",
    "gitlab.com/project-id",
    "dev.azure.com/project-repo",
];

/// An entity as the rules see it.
struct Entity<'a> {
    kind: &'a str,
    /// `payments-api` or `ns/payments-api` outside the default namespace.
    label: String,
    namespace: &'a str,
    value: &'a Value,
}

impl<'a> Entity<'a> {
    fn of(doc: &'a Document) -> Option<Self> {
        let kind = doc.value.get("kind")?.as_str()?;
        let metadata = doc.value.get("metadata");
        let field = |k: &str| metadata.and_then(|m| m.get(k)).and_then(Value::as_str);
        let name = field("name").unwrap_or("?");
        let namespace = field("namespace").unwrap_or(pave_catalog::DEFAULT_NAMESPACE);
        let label = if namespace == pave_catalog::DEFAULT_NAMESPACE {
            format!("{kind} {name}")
        } else {
            format!("{kind} {namespace}/{name}")
        };
        Some(Entity {
            kind,
            label,
            namespace,
            value: &doc.value,
        })
    }

    fn is(&self, kinds: &[&str]) -> bool {
        kinds.iter().any(|k| k.eq_ignore_ascii_case(self.kind))
    }

    /// A non-blank string at `path`.
    fn text(&self, path: &[&str]) -> Option<&'a str> {
        path.iter()
            .try_fold(self.value, |v, k| v.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    /// The deepest existing prefix of `path`: where to point when a field is missing.
    fn nearest(&self, path: &[&str]) -> Vec<PathSegment> {
        let mut v = self.value;
        let mut out = Vec::new();
        for k in path {
            match v.get(k) {
                Some(next) if !next.is_null() => {
                    v = next;
                    out.push(PathSegment::Key((*k).to_owned()));
                }
                _ => break,
            }
        }
        out
    }

    fn annotation(&self, key: &str) -> Option<&'a str> {
        self.text(&["metadata", "annotations", key])
    }
}

/// Runs `check` on every entity of `kinds`.
fn on(doc: &Document, kinds: &[&str], emit: Emit<'_>, check: fn(&Entity<'_>, Emit<'_>)) {
    if let Some(e) = Entity::of(doc)
        && e.is(kinds)
    {
        check(&e, emit);
    }
}

fn owner_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if e.text(&["spec", "owner"]).is_none() {
        emit(
            e.nearest(&["spec", "owner"]),
            format!("{} has no spec.owner", e.label),
        );
    }
}

fn owner_user(e: &Entity<'_>, emit: Emit<'_>) {
    let Some(owner) = e.text(&["spec", "owner"]) else {
        return;
    };
    // Owners without a kind are groups; malformed references are the catalog's to report.
    if let Ok(r) = EntityRef::parse(owner, Some("Group"), e.namespace)
        && r.kind.eq_ignore_ascii_case("user")
    {
        emit(
            vec!["spec".into(), "owner".into()],
            format!("{} is owned by a person ({owner}), not a team", e.label),
        );
    }
}

fn description_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if e.text(&["metadata", "description"]).is_none() {
        emit(
            e.nearest(&["metadata", "description"]),
            format!("{} has no metadata.description", e.label),
        );
    }
}

fn lifecycle_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if e.text(&["spec", "lifecycle"]).is_none() {
        emit(
            e.nearest(&["spec", "lifecycle"]),
            format!("{} has no spec.lifecycle", e.label),
        );
    }
}

fn system_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if e.text(&["spec", "system"]).is_none() {
        emit(
            e.nearest(&["spec", "system"]),
            format!("{} belongs to no system (spec.system)", e.label),
        );
    }
}

fn techdocs_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if e.annotation("backstage.io/techdocs-ref").is_none() {
        emit(
            e.nearest(&["metadata", "annotations"]),
            format!("{} has no backstage.io/techdocs-ref annotation", e.label),
        );
    }
}

fn source_missing(e: &Entity<'_>, emit: Emit<'_>) {
    if !SOURCE_ANNOTATIONS.iter().any(|a| e.annotation(a).is_some()) {
        emit(
            e.nearest(&["metadata", "annotations"]),
            format!(
                "{} says nowhere where its source is (backstage.io/source-location or github.com/project-slug)",
                e.label
            ),
        );
    }
}

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    let rules = vec![
        DocRule {
            meta: meta(
                "catalog-owner-missing",
                "Entity without an owner",
                Severity::Medium,
                "An entity nobody owns has nobody to page, to ask, or to fix its findings; \
                 ownership is what the rest of the platform routes by.",
                "Set `spec.owner` to the team that owns it, e.g. `group:payments`.",
            ),
            check: |_, doc, emit| on(doc, OWNED, emit, owner_missing),
        },
        DocRule {
            meta: meta(
                "catalog-owner-user",
                "Entity owned by a person",
                Severity::Low,
                "People change teams and leave; an entity owned by a user is orphaned when they \
                 do, and one person is not an on-call rotation.",
                "Make a group the owner (`spec.owner: group:<team>`).",
            ),
            check: |_, doc, emit| on(doc, OWNED, emit, owner_user),
        },
        DocRule {
            meta: meta(
                "catalog-description-missing",
                "Entity without a description",
                Severity::Low,
                "The description is what people see in search and listings; without one, they \
                 have to guess what the entity is from its name.",
                "Add a one-line `metadata.description`.",
            ),
            check: |_, doc, emit| on(doc, OWNED, emit, description_missing),
        },
        DocRule {
            meta: meta(
                "catalog-lifecycle-missing",
                "Component or API without a lifecycle",
                Severity::Low,
                "The lifecycle (experimental, production, deprecated) tells consumers whether \
                 they may depend on it and drives which guardrails apply.",
                "Set `spec.lifecycle` to experimental, production or deprecated.",
            ),
            check: |_, doc, emit| on(doc, &["Component", "API"], emit, lifecycle_missing),
        },
        DocRule {
            meta: meta(
                "catalog-system-missing",
                "Component not part of a system",
                Severity::Low,
                "Systems group components into what is built, run and reasoned about together; a \
                 component outside any system is missing from architecture views and impact \
                 analysis.",
                "Set `spec.system` to the System entity it belongs to.",
            ),
            check: |_, doc, emit| on(doc, &["Component"], emit, system_missing),
        },
        DocRule {
            meta: meta(
                "catalog-techdocs-missing",
                "Component without TechDocs",
                Severity::Info,
                "Docs next to the code, published through TechDocs, are the ones that stay \
                 current and can be found from the catalog.",
                "Add `backstage.io/techdocs-ref: dir:.` and an mkdocs.yml with a docs/ folder.",
            ),
            check: |_, doc, emit| on(doc, &["Component"], emit, techdocs_missing),
        },
        DocRule {
            meta: meta(
                "catalog-source-missing",
                "Component without a source location",
                Severity::Info,
                "Without a link to its repository, the catalog cannot show the code, CI status, \
                 pull requests or scan results of the component.",
                "Add `github.com/project-slug: <org>/<repo>` or `backstage.io/source-location: \
                 url:<repository URL>`.",
            ),
            check: |_, doc, emit| on(doc, &["Component"], emit, source_missing),
        },
    ];
    rules
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Rule>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Exceptions, Finding, Policy, PolicyConfig};

    fn check(text: &str) -> Vec<Finding> {
        let docs = crate::doc::load(
            "catalog-info.yaml",
            text.to_owned(),
            None,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        assert!(docs.iter().all(|d| d.kind == DocKind::Catalog));
        Policy::with_rules(rules(), PolicyConfig::default(), Exceptions::default())
            .check(&docs, vec![], 0)
            .findings
    }

    fn ids(text: &str) -> Vec<String> {
        let mut ids: Vec<String> = check(text)
            .into_iter()
            .map(|f| f.rule.into_owned())
            .collect();
        ids.sort();
        ids
    }

    const GOOD: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  description: Takes payments.
  annotations:
    github.com/project-slug: acme/payments-api
    backstage.io/techdocs-ref: dir:.
spec:
  type: service
  lifecycle: production
  owner: group:payments
  system: checkout
";

    #[test]
    fn good_entity_has_no_findings() {
        assert!(ids(GOOD).is_empty(), "{:?}", ids(GOOD));
    }

    #[test]
    fn bare_component_has_every_finding() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bare\nspec:\n  type: service\n  owner: \"  \"\n";
        assert_eq!(
            ids(text),
            vec![
                "catalog-description-missing",
                "catalog-lifecycle-missing",
                "catalog-owner-missing",
                "catalog-source-missing",
                "catalog-system-missing",
                "catalog-techdocs-missing",
            ]
        );
    }

    #[test]
    fn which_kinds() {
        // An API needs an owner and lifecycle, not a system, docs or source annotations.
        let api = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: a\n  description: d\nspec:\n  type: openapi\n  owner: team-a\n";
        assert_eq!(ids(api), vec!["catalog-lifecycle-missing"]);
        let system =
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: s\nspec: {}\n";
        assert_eq!(
            ids(system),
            vec!["catalog-description-missing", "catalog-owner-missing"]
        );
        // Groups, users and locations are not checked.
        let group = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: g\nspec:\n  type: team\n  children: []\n";
        assert!(ids(group).is_empty());
    }

    #[test]
    fn owners_that_are_people() {
        for (owner, user) in [
            ("user:jdoe", true),
            ("User:default/jdoe", true),
            ("group:payments", false),
            ("payments", false),
            ("ns/payments", false),
        ] {
            let text = GOOD.replace("group:payments", owner);
            assert_eq!(
                ids(&text) == vec!["catalog-owner-user"],
                user,
                "{owner}: {:?}",
                ids(&text)
            );
        }
    }

    #[test]
    fn positions() {
        let text = GOOD.replace("  description: Takes payments.\n", "");
        let f = check(&format!(
            "{text}---\n{}",
            GOOD.replace("owner: group:payments", "owner: user:jdoe")
        ));
        let got: Vec<(&str, u32, u32)> = f
            .iter()
            .map(|f| (&*f.rule, f.line.unwrap(), f.column.unwrap()))
            .collect();
        // Missing description: at `metadata`; user owner: at the second document's owner.
        assert_eq!(
            got,
            vec![
                ("catalog-description-missing", 3, 1),
                // 12 lines, `---`, then the owner on the 12th line of the second document.
                ("catalog-owner-user", 25, 3),
            ]
        );
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for text in [
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: []\nspec: x\n",
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {annotations: 5, description: 7}\nspec: {owner: \"user:\"}\n",
            "apiVersion: backstage.io/v1alpha1\nkind: System\nspec: {owner: [a]}\n",
        ] {
            let _ = check(text);
        }
    }
}
