//! The named permissions: one per kind of action, with stable dotted names that appear in
//! `pave.yaml` roles, audit records and refusal messages.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One action a subject may be allowed to do. Later features add variants (and their names);
/// existing names never change, because configurations and audit records hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    CatalogEntityRead,
    CatalogEntityRefresh,
    CatalogEntityDelete,
    CatalogLocationRead,
    CatalogLocationCreate,
    CatalogLocationDelete,
    SloGateOverride,
    AuthTokenManage,
    AuthTokenAdmin,
    AuditRead,
    /// Post delivery events with a token (CDEvents from CI) instead of a per-source secret,
    /// and publish `pave check` reports (`pave check --publish`): what CI posts.
    EventsWrite,
    /// Declare and resolve incidents by hand.
    IncidentManage,
    /// Post postmortems (and their revisions) through the API.
    PostmortemWrite,
    /// Push a repository made from a golden-path template to the configured GitOps target
    /// (the Create page): it writes outside pave, so reading the catalog is not enough.
    TemplatePush,
    /// Administration; a role holding it is allowed every permission.
    Admin,
}

impl Permission {
    /// Every permission, in the order they are documented.
    pub const ALL: [Permission; 15] = [
        Permission::CatalogEntityRead,
        Permission::CatalogEntityRefresh,
        Permission::CatalogEntityDelete,
        Permission::CatalogLocationRead,
        Permission::CatalogLocationCreate,
        Permission::CatalogLocationDelete,
        Permission::SloGateOverride,
        Permission::AuthTokenManage,
        Permission::AuthTokenAdmin,
        Permission::AuditRead,
        Permission::EventsWrite,
        Permission::IncidentManage,
        Permission::PostmortemWrite,
        Permission::TemplatePush,
        Permission::Admin,
    ];

    /// The stable dotted name, e.g. `catalog.entity.read`.
    pub const fn name(self) -> &'static str {
        match self {
            Permission::CatalogEntityRead => "catalog.entity.read",
            Permission::CatalogEntityRefresh => "catalog.entity.refresh",
            Permission::CatalogEntityDelete => "catalog.entity.delete",
            Permission::CatalogLocationRead => "catalog.location.read",
            Permission::CatalogLocationCreate => "catalog.location.create",
            Permission::CatalogLocationDelete => "catalog.location.delete",
            Permission::SloGateOverride => "slo.gate.override",
            Permission::AuthTokenManage => "auth.token.manage",
            Permission::AuthTokenAdmin => "auth.token.admin",
            Permission::AuditRead => "audit.read",
            Permission::EventsWrite => "events.write",
            Permission::IncidentManage => "incident.manage",
            Permission::PostmortemWrite => "postmortem.write",
            Permission::TemplatePush => "template.push",
            Permission::Admin => "admin",
        }
    }

    /// One line for `pave auth permissions` and the docs.
    pub const fn description(self) -> &'static str {
        match self {
            Permission::CatalogEntityRead => "read entities, their relations and facets",
            Permission::CatalogEntityRefresh => "refresh an entity or a location from its source",
            Permission::CatalogEntityDelete => "delete an entity (orphans included)",
            Permission::CatalogLocationRead => "list locations and where they point",
            Permission::CatalogLocationCreate => "register a location",
            Permission::CatalogLocationDelete => "unregister a location and what it provides",
            Permission::SloGateOverride => "override a failing SLO deploy gate, with a reason",
            Permission::AuthTokenManage => "create, list and revoke one's own API tokens",
            Permission::AuthTokenAdmin => "list and revoke everyone's API tokens",
            Permission::AuditRead => "read and export the audit log",
            Permission::EventsWrite => {
                "post delivery events (CDEvents) with a token instead of a source's secret, and `pave check` reports"
            }
            Permission::IncidentManage => "declare and resolve incidents by hand",
            Permission::PostmortemWrite => "post postmortems and their revisions through the API",
            Permission::TemplatePush => {
                "push a new repository from a golden-path template to the GitOps target"
            }
            Permission::Admin => "administration: every permission, any location type",
        }
    }

    /// The permission named `name` (exact, lower-case), if there is one.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Permission::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown permission \"{name}\"")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(p));
            assert!(seen.insert(p.name()), "duplicate name {}", p.name());
            assert!(!p.description().is_empty());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), p);
        }
        assert_eq!(seen.len(), Permission::ALL.len());
    }

    #[test]
    fn unknown_and_differently_cased_names_are_refused() {
        for name in ["Admin", "catalog.entity", "catalog.*", "", "audit.read "] {
            assert_eq!(Permission::parse(name), None, "{name:?}");
        }
        let err = serde_json::from_str::<Permission>("\"foo\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown permission \"foo\""),
            "{err}"
        );
    }
}
