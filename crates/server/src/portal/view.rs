//! Turning catalog JSON into what the templates show: names, links, badges, relation lists.
//!
//! Everything here tolerates missing or oddly-typed fields: an entity the catalog accepted
//! always renders, with blanks where data is absent.

use pave_catalog::{Catalog, EntityRef};
use serde_json::Value;

use super::graph;

/// The string at `path` (`["spec", "owner"]`), if it is one and not blank.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// Percent-encodes one URL path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The portal page of an entity: `/catalog/{namespace}/{kind}/{name}` (kind lower-cased, as
/// Backstage does).
pub(crate) fn entity_href(kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "/catalog/{}/{}/{}",
        encode_segment(namespace),
        encode_segment(&kind.to_lowercase()),
        encode_segment(name)
    )
}

/// `/catalog?key=value&…`, leaving out empty values.
pub(crate) fn catalog_href(params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (key, value) in params {
        if !value.is_empty() {
            query.append_pair(key, value);
            any = true;
        }
    }
    if any {
        format!("/catalog?{}", query.finish())
    } else {
        "/catalog".to_owned()
    }
}

/// A CSS class token derived from free text (`kind-component`, `lifecycle-production`).
pub(crate) fn class_token(prefix: &str, value: &str) -> String {
    let token: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let token = token.trim_matches('-');
    if token.is_empty() {
        format!("{prefix}-unknown")
    } else {
        format!("{prefix}-{token}")
    }
}

/// The lifecycle badge class; unknown lifecycles share one neutral style.
pub(crate) fn lifecycle_class(lifecycle: &str) -> String {
    match lifecycle.to_lowercase().as_str() {
        l @ ("production" | "experimental" | "deprecated") => format!("lifecycle-{l}"),
        _ => "lifecycle-other".to_owned(),
    }
}

/// Only web and mail links become `href`s; anything else (`javascript:`…) is shown as text.
pub(crate) fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
        .then(|| url.to_owned())
}

/// Cuts text at a word boundary near `max` characters.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > max / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

/// `Backstage`'s short form of a ref: the kind is left out when it is the expected one, the
/// namespace when it is `default`.
pub(crate) fn humanize(reference: &EntityRef, default_kind: Option<&str>) -> String {
    let mut out = String::new();
    if !default_kind.is_some_and(|k| k.eq_ignore_ascii_case(&reference.kind)) {
        out.push_str(&reference.kind.to_lowercase());
        out.push(':');
    }
    if !reference
        .namespace
        .eq_ignore_ascii_case(pave_catalog::DEFAULT_NAMESPACE)
    {
        out.push_str(&reference.namespace);
        out.push('/');
    }
    out.push_str(&reference.name);
    out
}

/// The identity and headline fields of an entity.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// `metadata.title`, else a Group/User's `spec.profile.displayName`.
    pub(crate) title: Option<String>,
    pub(crate) description: String,
    pub(crate) href: String,
    /// `kind:namespace/name`, as written.
    pub(crate) reference: String,
}

impl Identity {
    pub(crate) fn of(entity: &Value) -> Self {
        let kind = str_at(entity, &["kind"]).unwrap_or("Unknown").to_owned();
        let namespace = str_at(entity, &["metadata", "namespace"])
            .unwrap_or(pave_catalog::DEFAULT_NAMESPACE)
            .to_owned();
        let name = str_at(entity, &["metadata", "name"])
            .unwrap_or("")
            .to_owned();
        let title = str_at(entity, &["metadata", "title"])
            .or_else(|| str_at(entity, &["spec", "profile", "displayName"]))
            .filter(|t| *t != name)
            .map(str::to_owned);
        let description = str_at(entity, &["metadata", "description"])
            .unwrap_or("")
            .to_owned();
        Identity {
            href: entity_href(&kind, &namespace, &name),
            reference: format!("{}:{namespace}/{name}", kind.to_lowercase()),
            kind,
            namespace,
            name,
            title,
            description,
        }
    }

    /// What to call the entity: its title, else its name.
    pub(crate) fn display(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    pub(crate) fn kind_class(&self) -> String {
        class_token("kind", &self.kind)
    }
}

/// A link to another entity, or plain text when it is not in the catalog.
#[derive(Debug, Clone)]
pub(crate) struct RefView {
    pub(crate) label: String,
    /// The short ref (`component:checkout-api`).
    pub(crate) reference: String,
    pub(crate) kind: String,
    pub(crate) href: Option<String>,
    /// The canonical key, for looking the entity up again.
    pub(crate) key: String,
}

impl RefView {
    pub(crate) fn kind_class(&self) -> String {
        class_token("kind", &self.kind)
    }

    /// A graph box for this entity.
    pub(crate) fn node(&self) -> graph::Node {
        graph::Node {
            kind: self.kind.clone(),
            label: self.label.clone(),
            reference: self.reference.clone(),
            href: self.href.clone(),
        }
    }
}

/// Resolves `reference` (full or short, kind and namespace defaulted) against the catalog.
pub(crate) fn resolve(
    catalog: &Catalog,
    reference: &str,
    default_kind: Option<&str>,
    namespace: &str,
) -> RefView {
    let Ok(parsed) = EntityRef::parse(reference, default_kind, namespace) else {
        return RefView {
            label: reference.to_owned(),
            reference: reference.to_owned(),
            kind: default_kind.unwrap_or("").to_owned(),
            href: None,
            key: reference.to_lowercase(),
        };
    };
    let key = parsed.key().into_string();
    match catalog.get(&key) {
        Some(record) => {
            let entity = record.entity();
            let id = Identity::of(&entity);
            RefView {
                label: id.display().to_owned(),
                reference: humanize(
                    &EntityRef::new(&id.kind, &id.namespace, &id.name),
                    default_kind,
                ),
                kind: id.kind.clone(),
                href: Some(id.href),
                key,
            }
        }
        None => RefView {
            label: parsed.name.clone(),
            reference: humanize(&parsed, default_kind),
            kind: kind_display(&parsed.kind),
            href: None,
            key,
        },
    }
}

/// The conventional spelling of a kind written in lower case in a ref.
pub(crate) fn kind_display(kind: &str) -> String {
    pave_catalog::kinds::builtin_kind_ignoring_case(kind)
        .map_or_else(|| kind.to_owned(), |k| k.kind.to_owned())
}

/// One `relations` entry.
#[derive(Debug, Clone)]
pub(crate) struct RelationEntry {
    pub(crate) kind: String,
    pub(crate) target: String,
}

/// The entity's relations, in stored order.
pub(crate) fn relations(entity: &Value) -> Vec<RelationEntry> {
    entity
        .get("relations")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    Some(RelationEntry {
                        kind: str_at(r, &["type"])?.to_owned(),
                        target: str_at(r, &["targetRef"])?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Relation types in the order the relations card lists them, with their headings.
pub(crate) const RELATION_LABELS: &[(&str, &str)] = &[
    ("ownedBy", "Owned by"),
    ("ownerOf", "Owner of"),
    ("partOf", "Part of"),
    ("hasPart", "Has part"),
    ("providesApi", "Provides API"),
    ("apiProvidedBy", "API provided by"),
    ("consumesApi", "Consumes API"),
    ("apiConsumedBy", "API consumed by"),
    ("dependsOn", "Depends on"),
    ("dependencyOf", "Dependency of"),
    ("memberOf", "Member of"),
    ("hasMember", "Has member"),
    ("parentOf", "Parent of"),
    ("childOf", "Child of"),
];

/// Where a relation goes in the graph and what its edge says (read in arrow direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Top,
    Left,
    Right,
}

pub(crate) fn graph_placement(relation: &str) -> Option<(Side, &'static str)> {
    Some(match relation {
        "ownedBy" => (Side::Top, "owned by"),
        "childOf" => (Side::Top, "child of"),
        "dependsOn" => (Side::Right, "depends on"),
        "consumesApi" => (Side::Right, "consumes API"),
        "providesApi" => (Side::Right, "provides API"),
        "partOf" => (Side::Right, "part of"),
        "ownerOf" => (Side::Right, "owner of"),
        "memberOf" => (Side::Right, "member of"),
        // Incoming: the neighbour holds the forward relation towards this entity.
        "dependencyOf" => (Side::Left, "depends on"),
        "apiConsumedBy" => (Side::Left, "consumes API"),
        "apiProvidedBy" => (Side::Left, "provides API"),
        "hasPart" => (Side::Left, "part of"),
        "hasMember" => (Side::Left, "member of"),
        "parentOf" => (Side::Left, "child of"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers() {
        assert_eq!(encode_segment("a b/ç"), "a%20b%2F%C3%A7");
        assert_eq!(
            entity_href("API", "default", "orders"),
            "/catalog/default/api/orders"
        );
        assert_eq!(
            catalog_href(&[("kind", "API"), ("q", "")]),
            "/catalog?kind=API"
        );
        assert_eq!(catalog_href(&[("q", "a&b c")]), "/catalog?q=a%26b+c");
        assert_eq!(catalog_href(&[]), "/catalog");
        assert_eq!(class_token("kind", "Component"), "kind-component");
        assert_eq!(class_token("kind", "\"><x"), "kind-x");
        assert_eq!(lifecycle_class("Production"), "lifecycle-production");
        assert_eq!(lifecycle_class("beta"), "lifecycle-other");
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(
            safe_url(" https://x.example ").as_deref(),
            Some("https://x.example")
        );
        assert_eq!(shorten("one two three four", 9), "one two…");
        assert_eq!(shorten("short", 9), "short");
        let r = EntityRef::new("group", "default", "team-a");
        assert_eq!(humanize(&r, Some("Group")), "team-a");
        assert_eq!(humanize(&r, None), "group:team-a");
        assert_eq!(
            humanize(&EntityRef::new("User", "ops", "x"), Some("Group")),
            "user:ops/x"
        );
    }

    #[test]
    fn identity_prefers_title_then_profile() {
        let group = json!({"kind": "Group", "metadata": {"name": "web"}, "spec": {"profile": {"displayName": "Web Team"}}});
        let id = Identity::of(&group);
        assert_eq!(id.display(), "Web Team");
        assert_eq!(id.namespace, "default");
        assert_eq!(id.href, "/catalog/default/group/web");
        let bare = json!({"kind": "Component", "metadata": {"name": "x", "title": "x"}});
        assert_eq!(Identity::of(&bare).title, None);
        let odd = json!({"kind": 3, "metadata": []});
        assert_eq!(Identity::of(&odd).kind, "Unknown");
    }
}
