//! Entity references: `[<kind>:][<namespace>/]<name>`.

use std::fmt;

/// The namespace an entity lives in when it names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A parsed reference. Fields keep the case they were written in; identity is
/// case-insensitive, so compare [`EntityRef::key`]s, never the fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Why a reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("entity reference must not be empty")]
    Empty,
    #[error("entity reference \"{0}\" is not of the form [<kind>:][<namespace>/]<name>")]
    Malformed(String),
    #[error(
        "entity reference \"{0}\" has no kind; write it as <kind>:[<namespace>/]<name>, e.g. \"component:{0}\""
    )]
    MissingKind(String),
}

impl EntityRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        EntityRef {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Parses `reference`, filling in what it leaves out from the defaults.
    ///
    /// A `:` only separates the kind when it comes before the first `/`, so
    /// `default/a:b` is the name `a:b` in namespace `default`.
    pub fn parse(
        reference: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<Self, RefError> {
        if reference.is_empty() {
            return Err(RefError::Empty);
        }
        let slash = reference.find('/');
        let colon = reference.find(':').filter(|c| slash.is_none_or(|s| *c < s));
        let kind = colon.map(|c| &reference[..c]);
        let after_kind = colon.map_or(0, |c| c + 1);
        let (namespace, name) = match slash {
            Some(s) => (Some(&reference[after_kind..s]), &reference[s + 1..]),
            None => (None, &reference[after_kind..]),
        };
        if kind == Some("") || namespace == Some("") || name.is_empty() {
            return Err(RefError::Malformed(reference.to_owned()));
        }
        let kind = kind
            .or(default_kind)
            .ok_or_else(|| RefError::MissingKind(reference.to_owned()))?;
        let namespace = namespace.unwrap_or(if default_namespace.is_empty() {
            DEFAULT_NAMESPACE
        } else {
            default_namespace
        });
        Ok(EntityRef::new(kind, namespace, name))
    }

    /// The canonical, lower-cased form `kind:namespace/name` used as identity.
    pub fn key(&self) -> EntityKey {
        EntityKey::new(&self.kind, &self.namespace, &self.name)
    }

    /// Splits a canonical key back into its parts.
    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, rest) = key.split_once(':')?;
        let (namespace, name) = rest.split_once('/')?;
        Some(EntityRef::new(kind, namespace, name))
    }
}

/// An entity's identity: `kind:namespace/name`, lower-cased. Entities are the same when
/// their keys are; this type is the one place keys are lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey(String);

impl EntityKey {
    /// The key of the entity `kind`, `namespace`, `name` (any case).
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        let mut key = String::with_capacity(kind.len() + namespace.len() + name.len() + 2);
        key.push_str(&kind.to_lowercase());
        key.push(':');
        key.push_str(&namespace.to_lowercase());
        key.push('/');
        key.push_str(&name.to_lowercase());
        EntityKey(key)
    }

    /// The key of a full reference already written `kind:namespace/name` (any case), as
    /// relation targets and stored refs are.
    pub fn of_full_ref(reference: &str) -> Self {
        EntityKey(reference.to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for EntityKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for EntityKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<EntityKey> for String {
    fn from(key: EntityKey) -> String {
        key.0
    }
}

impl PartialEq<str> for EntityKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for EntityKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(r: &str, kind: Option<&str>, ns: &str) -> Result<String, RefError> {
        EntityRef::parse(r, kind, ns).map(|r| r.key().into_string())
    }

    #[test]
    fn defaults_fill_in_what_is_missing() {
        assert_eq!(
            parse("team-a", Some("Group"), "default").unwrap(),
            "group:default/team-a"
        );
        assert_eq!(
            parse("Team-A", Some("Group"), "prod").unwrap(),
            "group:prod/team-a"
        );
        assert_eq!(
            parse("user:guest", Some("Group"), "prod").unwrap(),
            "user:prod/guest"
        );
        assert_eq!(
            parse("default/team-a", Some("Group"), "alt").unwrap(),
            "group:default/team-a"
        );
        assert_eq!(
            parse("resource:db", None, "default").unwrap(),
            "resource:default/db"
        );
        assert_eq!(parse("x", Some("Group"), "").unwrap(), "group:default/x");
    }

    #[test]
    fn colon_after_slash_belongs_to_the_name() {
        let r = EntityRef::parse("ns/a:b", Some("Component"), "default").unwrap();
        assert_eq!((r.namespace.as_str(), r.name.as_str()), ("ns", "a:b"));
        let r = EntityRef::parse("ns/a/b", Some("Component"), "default").unwrap();
        assert_eq!(r.name, "a/b");
    }

    #[test]
    fn malformed_refs_are_errors() {
        assert_eq!(parse("", Some("Group"), "default"), Err(RefError::Empty));
        for bad in ["group:", ":x", "/x", "ns/", "k:/x"] {
            assert_eq!(
                parse(bad, Some("Group"), "default"),
                Err(RefError::Malformed(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            parse("db", None, "default"),
            Err(RefError::MissingKind("db".into()))
        );
    }

    #[test]
    fn keys_round_trip() {
        let r = EntityRef::from_key("component:default/svc").unwrap();
        assert_eq!(r.key(), "component:default/svc");
        assert!(EntityRef::from_key("nonsense").is_none());
    }
}
