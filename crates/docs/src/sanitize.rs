//! The last step of rendering: ammonia's allow-list over the whole page, raw HTML from the
//! Markdown and the renderer's own markup alike.
//!
//! ammonia parses the fragment into a tree (in a `<div>` context) and writes the tree back, so
//! markup can only be what the list allows and stray end tags (`</div></main>`) are dropped:
//! a page cannot close the portal's containers around it. What the renderer needs is added to
//! ammonia's defaults: `class` (admonitions, `hl-` highlight spans, footnotes), `id` (heading
//! anchors, footnotes, table alignment as `align-*` classes), `details`' `open` and task-list
//! checkboxes (always disabled). `script`, `style` (elements and attributes: the portal's CSP
//! refuses inline styles), `iframe`, forms, `on*` attributes and URL schemes other than http,
//! https and mailto are removed.
//!
//! Relative URLs in `href` and `src`, from Markdown or raw HTML, are rewritten here, in one
//! place, by [`crate::render::LinkBase`]'s rules; one that leaves the docs folder loses its
//! attribute and produces a warning.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};

/// Sanitizes `html`; `rewrite` maps a relative URL to its final form, or `Err(message)`
/// to drop the attribute with a warning.
pub(crate) fn sanitize(
    html: &str,
    rewrite: &(dyn Fn(&str) -> Result<String, String> + Sync),
    warnings: &mut Vec<String>,
) -> String {
    let dropped = Mutex::new(Vec::new());
    let evaluate = Evaluator {
        rewrite,
        dropped: &dropped,
    };
    let mut builder = Builder::default();
    builder
        .add_tags(["input"])
        .add_generic_attributes(["class", "id"])
        // A scrolling code block must take keyboard focus (WCAG 2.1.1; axe-core's
        // `scrollable-region-focusable`).
        .add_tag_attributes("pre", ["tabindex"])
        .set_tag_attribute_value("pre", "tabindex", "0")
        .add_tag_attributes("details", ["open"])
        .add_tag_attributes("input", ["type", "checked", "disabled", "aria-label"])
        .add_tag_attributes("code", ["data-lang"])
        .set_tag_attribute_value("input", "disabled", "")
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .add_clean_content_tags([
            "iframe", "object", "embed", "noscript", "template", "textarea", "select", "svg",
            "math", "form", "button",
        ])
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(filter)
        .url_relative(UrlRelative::Custom(Box::new(evaluate)));
    let clean = builder.clean(html).to_string();
    drop(builder);
    if let Ok(d) = dropped.into_inner() {
        warnings.extend(d);
    }
    clean
}

/// ammonia's hook for relative URLs, collecting the messages of those it drops.
struct Evaluator<'r> {
    rewrite: &'r (dyn Fn(&str) -> Result<String, String> + Sync),
    dropped: &'r Mutex<Vec<String>>,
}

impl<'a, 'r: 'a> UrlRelativeEvaluate<'a> for Evaluator<'r> {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        match (self.rewrite)(url) {
            Ok(u) if u == url => Some(Cow::Borrowed(url)),
            Ok(u) => Some(Cow::Owned(u)),
            Err(message) => {
                if let Ok(mut d) = self.dropped.lock() {
                    d.push(message);
                }
                None
            }
        }
    }
}

/// Attribute values beyond what names allow: a checkbox stays a checkbox.
fn filter<'a>(element: &str, attribute: &str, value: &'a str) -> Option<Cow<'a, str>> {
    match (element, attribute) {
        ("input", "type") => Some(Cow::Borrowed("checkbox")),
        _ => Some(Cow::Borrowed(value)),
    }
}
