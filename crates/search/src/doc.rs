//! What gets indexed: an entity or a docs page reduced to the texts search looks at.
//!
//! Pure: entity JSON and Markdown text in, [`EntityDoc`]/[`PageDoc`] out.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

/// Longest text kept from one field; the rest is not indexed (a 2 MiB description would
/// cost indexing time and memory for nothing search needs).
const MAX_FIELD_BYTES: usize = 16 * 1024;
/// Longest body of a docs page that is indexed.
pub const MAX_PAGE_BODY_BYTES: usize = 256 * 1024;
/// At most this many tags, annotation values or operation names per entity.
const MAX_LIST: usize = 64;
/// At most this many headings per page.
const MAX_HEADINGS: usize = 200;

/// Annotations whose values people search for (repository slugs, service ids, Kubernetes
/// labels). Others (`managed-by-location`, `backstage.io/techdocs-ref`…) hold file paths or
/// internals that would only add noise, and server paths must never surface in results.
const SEARCHED_ANNOTATIONS: &[&str] = &[
    "github.com/project-slug",
    "gitlab.com/project-slug",
    "backstage.io/kubernetes-id",
    "pagerduty.com/service-id",
    "opsgenie.com/component-selector",
    "sonarqube.org/project-key",
    "jira/project-key",
    "argocd/app-name",
    "backstage.io/source-location",
];

/// Reads the operation names (ids, summaries) of an OpenAPI definition's text; the edge
/// passes one (pave-docs' reader), so this crate does not build a YAML and OpenAPI stack.
pub type OperationReader = fn(&str) -> Vec<String>;

/// An [`OperationReader`] that reads none.
pub fn no_operations(_: &str) -> Vec<String> {
    Vec::new()
}

/// An entity as search sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityDoc {
    /// `kind:namespace/name`, lower-cased (the catalog's key).
    pub key: String,
    /// The content hash of the stored entity: a changed hash re-indexes the entity.
    pub hash: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// `spec.owner` as written (`group:default/payments` or `payments`).
    pub owner: Option<String>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub system: Option<String>,
    /// Values of [`SEARCHED_ANNOTATIONS`].
    pub annotations: Vec<String>,
    /// Operation ids and summaries of an OpenAPI API's definition.
    pub operations: Vec<String>,
}

impl EntityDoc {
    /// Reads an entity's JSON. `None` when it has no kind or name (the index never holds
    /// such an entity, but a search index must not trust that).
    pub fn from_json(
        key: &str,
        hash: &str,
        entity: &Value,
        operations: OperationReader,
    ) -> Option<EntityDoc> {
        let kind = text(entity.get("kind"))?;
        let meta = entity.get("metadata")?;
        let name = text(meta.get("name"))?;
        let spec = entity.get("spec");
        let field = |v: Option<&Value>| text(v).map(|s| clip(&s, MAX_FIELD_BYTES));
        let tags = meta
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| text(Some(t)))
                    .take(MAX_LIST)
                    .collect()
            })
            .unwrap_or_default();
        let annotations = meta
            .get("annotations")
            .and_then(Value::as_object)
            .map(|a| {
                SEARCHED_ANNOTATIONS
                    .iter()
                    .filter_map(|k| field(a.get(*k)))
                    // A source location is a URL: only its last segments read as words.
                    .map(|v| v.trim_start_matches("url:").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let spec_type = field(spec.and_then(|s| s.get("type")));
        let operations = if kind.eq_ignore_ascii_case("api")
            && spec_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("openapi"))
        {
            spec.and_then(|s| s.get("definition"))
                .and_then(Value::as_str)
                .map(|d| operations(d).into_iter().take(MAX_LIST).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let title = field(meta.get("title"))
            .or_else(|| field(spec.and_then(|s| s.get("profile")?.get("displayName"))));
        Some(EntityDoc {
            key: key.to_owned(),
            hash: hash.to_owned(),
            kind,
            namespace: text(meta.get("namespace")).unwrap_or_else(|| "default".to_owned()),
            name,
            title,
            description: field(meta.get("description")),
            tags,
            owner: field(spec.and_then(|s| s.get("owner"))),
            spec_type,
            lifecycle: field(spec.and_then(|s| s.get("lifecycle"))),
            system: field(spec.and_then(|s| s.get("system"))),
            annotations,
            operations,
        })
    }

    /// The portal's URL of the entity.
    pub fn location(&self) -> String {
        format!(
            "/catalog/{}/{}/{}",
            encode_segment(&self.namespace),
            encode_segment(&self.kind.to_ascii_lowercase()),
            encode_segment(&self.name)
        )
    }

    /// The owner's name without kind and namespace (`group:default/payments` → `payments`),
    /// which is what people type and what the owner facet shows.
    pub fn owner_name(&self) -> Option<String> {
        self.owner.as_deref().map(short_ref)
    }
}

/// A docs page as search sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageDoc {
    /// The entity the docs belong to (`kind:namespace/name`, lower-cased).
    pub entity_key: String,
    /// The entity's name, title, kind, owner… (copied so a page is found and filtered by them).
    pub entity_name: String,
    pub entity_title: Option<String>,
    pub entity_kind: String,
    pub entity_owner: Option<String>,
    pub entity_type: Option<String>,
    pub entity_tags: Vec<String>,
    /// The page's portal URL.
    pub location: String,
    /// The page's path in the docs folder (`guides/setup.md`).
    pub path: String,
    pub title: String,
    pub headings: Vec<String>,
    /// The page's text, without markup.
    pub body: String,
}

/// A docs page's Markdown as text: its first `# heading` (or front matter `title:`), its
/// headings and its plain text (code included: people search for commands).
pub fn page_text(markdown: &str) -> (Option<String>, Vec<String>, String) {
    let markdown = if markdown.len() > MAX_PAGE_BODY_BYTES {
        &markdown[..floor_char_boundary(markdown, MAX_PAGE_BODY_BYTES)]
    } else {
        markdown
    };
    let (front_title, markdown) = split_front_matter(markdown);
    let markdown = admonition_titles(markdown);
    let markdown = markdown.as_ref();
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut body = String::with_capacity(markdown.len());
    let mut headings = Vec::new();
    let mut heading: Option<String> = None;
    let mut first_h1: Option<String> = None;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(level)) => {
                if let Some(h) = heading.take() {
                    let h = h.trim().to_owned();
                    if level == pulldown_cmark::HeadingLevel::H1 && first_h1.is_none() {
                        first_h1 = Some(h.clone());
                    }
                    if !h.is_empty() && headings.len() < MAX_HEADINGS {
                        headings.push(h);
                    }
                }
                body.push('\n');
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
                body.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => body.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::TableCell,
            ) => {
                body.push('\n');
            }
            // Raw HTML is not text people read; leave it out rather than index tags.
            _ => {}
        }
    }
    (front_title.or(first_h1), headings, body)
}

/// MkDocs admonition openers (`!!! info "Ownership"`, `??? tip`, `???+ note`) as their
/// titles only: the markers are syntax, not words a reader searched for or wants in a
/// snippet. Their indented bodies stay text.
fn admonition_titles(markdown: &str) -> std::borrow::Cow<'_, str> {
    fn opens(line: &str) -> Option<&str> {
        let line = line.trim_start();
        ["!!! ", "??? ", "???+ "]
            .iter()
            .find_map(|marker| line.strip_prefix(marker))
    }
    if !markdown.lines().any(|line| opens(line).is_some()) {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        match opens(line) {
            Some(rest) => {
                let rest = rest.trim();
                let title = rest
                    .split_once(char::is_whitespace)
                    .map(|(_, title)| title.trim().trim_matches('"'))
                    .unwrap_or("");
                out.push_str(title);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

/// `title:` from YAML front matter (`---` … `---`), read line by line: a full YAML parse
/// per page would cost more than the page, and only this key is used.
fn split_front_matter(markdown: &str) -> (Option<String>, &str) {
    let Some(rest) = markdown.strip_prefix("---\n") else {
        return (None, markdown);
    };
    let Some(end) = rest.find("\n---") else {
        return (None, markdown);
    };
    let title = rest[..end].lines().find_map(|line| {
        let value = line.strip_prefix("title:")?.trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty()).then(|| value.to_owned())
    });
    let after = &rest[end + 4..];
    (title, after.strip_prefix('\n').unwrap_or(after))
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `kind:namespace/name` → `name`.
pub fn short_ref(r: &str) -> String {
    let r = r.rsplit_once('/').map_or(r, |(_, name)| name);
    let r = r.split_once(':').map_or(r, |(_, name)| name);
    r.to_owned()
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s[..floor_char_boundary(s, max)].to_owned()
}

pub(crate) fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Percent-encodes what may not stand in a URL path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_entity() {
        let e = json!({
            "kind": "Component",
            "metadata": {"name": "payments-api", "title": "Payments API", "tags": ["go", 3],
                "annotations": {"github.com/project-slug": "acme/payments",
                    "backstage.io/managed-by-location": "file:/srv/secret/path.yaml"}},
            "spec": {"type": "service", "owner": "group:default/payments", "lifecycle": "production"}
        });
        let d =
            EntityDoc::from_json("component:default/payments-api", "h", &e, no_operations).unwrap();
        assert_eq!(d.namespace, "default");
        assert_eq!(d.tags, ["go", "3"]);
        assert_eq!(d.annotations, ["acme/payments"]);
        assert_eq!(d.owner_name().as_deref(), Some("payments"));
        assert_eq!(d.location(), "/catalog/default/component/payments-api");
        assert!(EntityDoc::from_json("k", "h", &json!({"kind": "X"}), no_operations).is_none());
    }

    #[test]
    fn page_text_keeps_words_drops_markup() {
        let (title, headings, body) = page_text(
            "---\ntitle: \"Runbook\"\n---\n# Payments\n\nSome *text* and `kubectl get`.\n\n## High error rate\n\n<script>x</script>\n",
        );
        assert_eq!(title.as_deref(), Some("Runbook"));
        assert_eq!(headings, ["Payments", "High error rate"]);
        assert!(body.contains("Some text and kubectl get."), "{body}");
        assert!(!body.contains("script"), "{body}");
        let (title, _, _) = page_text("# Only heading\n");
        assert_eq!(title.as_deref(), Some("Only heading"));
        // MkDocs admonition markers are syntax: their titles and bodies stay, the markers go.
        let (_, _, body) = page_text(
            "Intro.\n\n!!! info \"Ownership\"\n    Owned by **web**.\n\n??? tip\n    Roll back.\n",
        );
        assert!(!body.contains("!!!") && !body.contains("???"), "{body}");
        assert!(body.contains("Ownership"), "{body}");
        assert!(
            body.contains("Owned by") && body.contains("Roll back."),
            "{body}"
        );
    }

    #[test]
    fn clipping_respects_characters() {
        assert_eq!(clip("ééé", 3), "é");
        let long = "é".repeat(MAX_PAGE_BODY_BYTES);
        let (_, _, body) = page_text(&long);
        assert!(body.len() <= MAX_PAGE_BODY_BYTES + 1);
    }
}
