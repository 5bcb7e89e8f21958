//! The entity page's tabs (Overview, Docs, API, Dependencies, SLOs, Guardrails). Each tab is
//! a page of its own under the entity's address (`…/api`, `…/dependencies`, …), as
//! Backstage's entity routes are, so a tab can be linked, opened in a new window and read
//! without JavaScript, and each page computes only what it shows: the API layout, live SLO
//! budgets and stored check results are read only on their tab.

use serde_json::Value;

use super::view;

/// One tab of the entity page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Overview,
    Docs,
    Api,
    Dependencies,
    Slos,
    Guardrails,
}

impl Tab {
    /// In the order the tab bar shows them.
    pub(crate) const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::Docs,
        Tab::Api,
        Tab::Dependencies,
        Tab::Slos,
        Tab::Guardrails,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Docs => "Docs",
            Tab::Api => "API",
            Tab::Dependencies => "Dependencies",
            Tab::Slos => "SLOs",
            Tab::Guardrails => "Guardrails",
        }
    }

    /// The tab's address below the entity's (empty for the overview).
    pub(crate) fn path(self) -> &'static str {
        match self {
            Tab::Overview => "",
            Tab::Docs => "/docs",
            Tab::Api => "/api",
            Tab::Dependencies => "/dependencies",
            Tab::Slos => "/slos",
            Tab::Guardrails => "/guardrails",
        }
    }

    /// The element id of its link (tests and the browser check find tabs by it).
    pub(crate) fn link_id(self) -> &'static str {
        match self {
            Tab::Overview => "tab-overview",
            Tab::Docs => "tab-docs",
            Tab::Api => "tab-api",
            Tab::Dependencies => "tab-dependencies",
            Tab::Slos => "tab-slos",
            Tab::Guardrails => "tab-guardrails",
        }
    }
}

/// A link in the tab bar.
pub(crate) struct TabLink {
    pub(crate) label: &'static str,
    pub(crate) href: String,
    pub(crate) id: &'static str,
    pub(crate) current: bool,
    /// Shown after the label ("SLOs 3").
    pub(crate) count: Option<usize>,
}

/// What decides which tabs an entity has, read cheaply (nothing is parsed or fetched).
pub(crate) struct TabFacts {
    pub(crate) has_docs: bool,
    /// A definition to lay out (kind API) or APIs provided or consumed.
    pub(crate) api_count: Option<usize>,
    /// Relations the Dependencies tab lists; `None` for groups and users, whose relations
    /// are the overview's members, teams and owned entities.
    pub(crate) dependency_count: Option<usize>,
    /// SLOs the `pave.dev/slo` annotation names.
    pub(crate) slo_count: Option<usize>,
    /// Whether `pave check` results belong on this entity: what is built and deployed from
    /// a repository (components, resources, systems) or has stored results.
    pub(crate) guardrails: bool,
}

impl TabFacts {
    /// The facts the entity itself holds; `slo_count` and stored check results come from
    /// the server's indexes and are set by the caller.
    pub(crate) fn of(entity: &Value) -> Self {
        let kind = view::str_at(entity, &["kind"])
            .unwrap_or("")
            .to_ascii_lowercase();
        let relations = view::relations(entity);
        let apis = relations
            .iter()
            .filter(|r| r.kind == "providesApi" || r.kind == "consumesApi")
            .count();
        let has_definition = kind == "api"
            && match entity.pointer("/spec/definition") {
                Some(Value::String(text)) => !text.trim().is_empty(),
                Some(Value::Null) | None => false,
                Some(_) => true,
            };
        let people = kind == "group" || kind == "user";
        TabFacts {
            has_docs: pave_platform::docs::techdocs_ref(entity).is_some(),
            api_count: if has_definition {
                Some(0)
            } else {
                (apis > 0).then_some(apis)
            },
            dependency_count: (!people && !relations.is_empty()).then_some(relations.len()),
            slo_count: None,
            guardrails: crate::guardrails::GUARDRAIL_KINDS.contains(&kind.as_str()),
        }
    }

    pub(crate) fn has(&self, tab: Tab) -> bool {
        match tab {
            Tab::Overview => true,
            Tab::Docs => self.has_docs,
            Tab::Api => self.api_count.is_some(),
            Tab::Dependencies => self.dependency_count.is_some(),
            Tab::Slos => self.slo_count.is_some(),
            Tab::Guardrails => self.guardrails,
        }
    }

    /// The tab bar for the entity at `entity_href` with `current` selected; empty when the
    /// overview would be the only tab.
    pub(crate) fn links(&self, entity_href: &str, current: Tab) -> Vec<TabLink> {
        let links: Vec<TabLink> = Tab::ALL
            .into_iter()
            .filter(|tab| self.has(*tab))
            .map(|tab| TabLink {
                label: tab.label(),
                href: format!("{entity_href}{}", tab.path()),
                id: tab.link_id(),
                current: tab == current,
                count: match tab {
                    Tab::Api => self.api_count.filter(|n| *n > 0),
                    Tab::Dependencies => self.dependency_count,
                    Tab::Slos => self.slo_count,
                    _ => None,
                },
            })
            .collect();
        if links.len() > 1 { links } else { Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(entity: Value) -> Vec<&'static str> {
        TabFacts::of(&entity)
            .links("/catalog/default/x/y", Tab::Overview)
            .iter()
            .map(|l| l.label)
            .collect()
    }

    #[test]
    fn tabs_follow_what_the_entity_has() {
        let service = json!({
            "kind": "Component",
            "metadata": {"name": "cart", "annotations": {"backstage.io/techdocs-ref": "dir:."}},
            "relations": [
                {"type": "providesApi", "targetRef": "api:default/cart-api"},
                {"type": "ownedBy", "targetRef": "group:default/team-a"},
            ],
        });
        assert_eq!(
            labels(service),
            ["Overview", "Docs", "API", "Dependencies", "Guardrails"]
        );
        let api = json!({"kind": "API", "metadata": {"name": "a"}, "spec": {"definition": "openapi: 3.0.0"}});
        assert_eq!(labels(api), ["Overview", "API"]);
        let empty_api =
            json!({"kind": "API", "metadata": {"name": "a"}, "spec": {"definition": " "}});
        assert!(labels(empty_api).is_empty(), "one tab is no tab bar");
        let group = json!({
            "kind": "Group",
            "metadata": {"name": "g"},
            "relations": [{"type": "hasMember", "targetRef": "user:default/u"}],
        });
        assert!(labels(group).is_empty());
    }

    #[test]
    fn the_current_tab_and_counts_are_marked() {
        let mut facts = TabFacts::of(&json!({
            "kind": "Component",
            "metadata": {"name": "cart"},
            "relations": [{"type": "consumesApi", "targetRef": "api:default/a"}],
        }));
        facts.slo_count = Some(2);
        let links = facts.links("/catalog/default/component/cart", Tab::Slos);
        let current: Vec<_> = links
            .iter()
            .filter(|l| l.current)
            .map(|l| l.label)
            .collect();
        assert_eq!(current, ["SLOs"]);
        let slos = links
            .iter()
            .find(|l| l.label == "SLOs")
            .map(|l| (&l.href, l.count));
        assert_eq!(
            slos,
            Some((&"/catalog/default/component/cart/slos".to_owned(), Some(2)))
        );
        let api = links
            .iter()
            .find(|l| l.label == "API")
            .and_then(|l| l.count);
        assert_eq!(api, Some(1));
    }
}
