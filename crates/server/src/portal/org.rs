//! A group page's org chart: the line of parent groups from the top of the organisation down
//! to this group, then this group's teams below it (a few levels deep), each with its
//! member and owned-entity counts. Nested lists, so screen readers announce the levels and
//! every team is a link; bounded in depth and size, and a `childOf` cycle ends.

use std::collections::HashSet;

use pave_catalog::Catalog;
use serde_json::Value;

use super::graph::escape;
use super::view::{self, RefView};

/// Parent groups followed upward at most.
const MAX_ANCESTORS: usize = 20;
/// Levels of teams shown below the group.
const MAX_DEPTH: usize = 3;
/// Teams shown below the group at most (the rest are counted).
const MAX_NODES: usize = 200;

struct Counts {
    members: usize,
    owned: usize,
    /// Child groups' references, resolved only when drawn (a group of thousands of teams
    /// must not read each one to show two hundred).
    children: Vec<String>,
    namespace: String,
    parent: Option<RefView>,
}

impl Counts {
    fn empty() -> Self {
        Counts {
            members: 0,
            owned: 0,
            children: Vec::new(),
            namespace: pave_catalog::DEFAULT_NAMESPACE.to_owned(),
            parent: None,
        }
    }
}

fn counts(catalog: &Catalog, group: &RefView) -> Option<Counts> {
    let entity = catalog.get(&group.key)?.entity();
    let namespace = view::str_at(&entity, &["metadata", "namespace"])
        .unwrap_or(pave_catalog::DEFAULT_NAMESPACE)
        .to_owned();
    let mut counts = Counts {
        namespace: namespace.clone(),
        ..Counts::empty()
    };
    for relation in entity["relations"].as_array().into_iter().flatten() {
        let target = relation["targetRef"].as_str();
        match (relation["type"].as_str(), target) {
            (Some("hasMember"), _) => counts.members += 1,
            (Some("ownerOf"), _) => counts.owned += 1,
            (Some("parentOf"), Some(t)) => counts.children.push(t.to_owned()),
            (Some("childOf"), Some(t)) if counts.parent.is_none() => {
                counts.parent = Some(view::resolve(catalog, t, Some("Group"), &namespace));
            }
            _ => {}
        }
    }
    counts.children.sort_by_key(|child| child.to_lowercase());
    Some(counts)
}

fn node(out: &mut String, group: &RefView, counts: Option<&Counts>, current: bool) {
    let label = escape(&group.label);
    match (&group.href, current) {
        (_, true) => out.push_str(&format!(
            r#"<span class="org-name org-current" aria-current="page">{label}</span>"#
        )),
        (Some(href), false) => out.push_str(&format!(
            r#"<a class="org-name" href="{}">{label}</a>"#,
            escape(href)
        )),
        (None, false) => out.push_str(&format!(r#"<span class="org-name">{label}</span>"#)),
    }
    if let Some(c) = counts {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        out.push_str(&format!(
            r#" <span class="org-meta">{} · {}</span>"#,
            plural(c.members, "member", "members"),
            plural(c.owned, "owned", "owned")
        ));
    }
}

/// The chart for `group` as HTML (escaped here), or `None` when the group has neither parent
/// nor child groups.
pub(crate) fn chart(catalog: &Catalog, group: &RefView) -> Option<String> {
    let own = counts(catalog, group)?;
    // The line upward, nearest parent first.
    let mut line: Vec<(RefView, Counts)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([group.key.clone()]);
    let mut next = own.parent.clone();
    while let Some(parent) = next.take() {
        if line.len() >= MAX_ANCESTORS || !seen.insert(parent.key.clone()) {
            break;
        }
        let c = counts(catalog, &parent);
        next = c.as_ref().and_then(|c| c.parent.clone());
        match c {
            Some(c) => line.push((parent, c)),
            None => {
                line.push((parent, Counts::empty()));
                break;
            }
        }
    }
    if line.is_empty() && own.children.is_empty() {
        return None;
    }
    let mut out = String::from(r#"<ul class="org-chart">"#);
    for (ancestor, c) in line.iter().rev() {
        out.push_str("<li>");
        node(&mut out, ancestor, Some(c), false);
        let others = c.children.len().saturating_sub(1);
        if others > 0 {
            out.push_str(&format!(
                r#" <span class="org-meta">and {others} other team{}</span>"#,
                if others == 1 { "" } else { "s" }
            ));
        }
        out.push_str("<ul>");
    }
    out.push_str("<li>");
    node(&mut out, group, Some(&own), true);
    let mut budget = MAX_NODES;
    subtree(catalog, &own, 1, &mut seen, &mut budget, &mut out);
    out.push_str("</li>");
    for _ in &line {
        out.push_str("</ul></li>");
    }
    out.push_str("</ul>");
    Some(out)
}

fn subtree(
    catalog: &Catalog,
    group: &Counts,
    depth: usize,
    seen: &mut HashSet<String>,
    budget: &mut usize,
    out: &mut String,
) {
    if group.children.is_empty() {
        return;
    }
    out.push_str("<ul>");
    let (mut skipped, mut repeated) = (0usize, 0usize);
    for reference in &group.children {
        if *budget == 0 {
            skipped += 1;
            continue;
        }
        let child = view::resolve(catalog, reference, Some("Group"), &group.namespace);
        if !seen.insert(child.key.clone()) {
            // A `parentOf` cycle (or a team with two parents) comes back to a group drawn
            // already.
            repeated += 1;
            continue;
        }
        *budget -= 1;
        let c = counts(catalog, &child);
        out.push_str("<li>");
        node(out, &child, c.as_ref(), false);
        if let Some(c) = c {
            if depth < MAX_DEPTH {
                subtree(catalog, &c, depth + 1, seen, budget, out);
            } else if !c.children.is_empty() {
                out.push_str(&format!(
                    r#" <span class="org-meta">{} more team{} below</span>"#,
                    c.children.len(),
                    if c.children.len() == 1 { "" } else { "s" }
                ));
            }
        }
        out.push_str("</li>");
    }
    if skipped > 0 {
        out.push_str(&format!(
            r#"<li class="org-meta">{skipped} more not shown</li>"#
        ));
    }
    if repeated > 0 {
        out.push_str(&format!(
            r#"<li class="org-meta">{repeated} already shown above (the groups' parents loop)</li>"#
        ));
    }
    out.push_str("</ul>");
}

/// A group's `RefView` from its entity, for the chart's root call.
pub(crate) fn group_ref(catalog: &Catalog, entity: &Value) -> RefView {
    let id = view::Identity::of(entity);
    let reference = pave_catalog::EntityRef::new(&id.kind, &id.namespace, &id.name).to_string();
    view::resolve(catalog, &reference, Some("Group"), &id.namespace)
}
