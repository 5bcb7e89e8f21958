//! One Markdown page to safe HTML, the way MkDocs (with the extensions TechDocs enables) would
//! show it.
//!
//! ```text
//! markdown ──► size check ──► admonitions (line rewrite) ──► pulldown-cmark events
//!   ──► front matter title, heading ids + TOC, fenced code highlighted, links checked
//!   ──► HTML ──► ammonia (allow-list; relative URLs rewritten by LinkBase) ──► Rendered
//! ```
//!
//! Nothing here fails: problems in a page (a link that leaves the docs folder, bad front
//! matter, a page too large) are warnings with the page's name and line, and the page is
//! rendered without the offending part.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::Limits;
use crate::admonition::{self, escape};
use crate::highlight;
use crate::nesting::RawDepth;
use crate::sanitize::sanitize;
use crate::site::{encode_path, is_page, page_url, percent_decode, resolve_link};
use crate::slug::slugify;

/// Where rendered links point: pages under `pages`, other files of the docs folder under
/// `assets` (see the crate documentation for the scheme). Both are URL prefixes such as
/// `/catalog/default/component/payments/docs`; a trailing `/` is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    pub pages: String,
    pub assets: String,
    /// Element ids the page around the docs uses (its skip link's `main`, say): headings,
    /// generated or written `{#id}`, take `main_1` instead, so a heading "Main" does not
    /// capture the host page's links.
    pub host_ids: Vec<String>,
}

impl LinkBase {
    pub fn new(pages: impl Into<String>, assets: impl Into<String>) -> Self {
        LinkBase {
            pages: pages.into(),
            assets: assets.into(),
            host_ids: Vec::new(),
        }
    }

    /// The same, with the host page's ids kept from headings.
    pub fn with_host_ids(mut self, ids: &[&str]) -> Self {
        self.host_ids = ids.iter().map(|id| (*id).to_owned()).collect();
        self
    }

    /// The URL of the page at `path` (relative to the docs folder).
    pub fn page(&self, path: &str) -> String {
        format!("{}/{}", self.pages.trim_end_matches('/'), page_url(path))
    }

    /// The URL of the asset at `path` (relative to the docs folder).
    pub fn asset(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.assets.trim_end_matches('/'),
            encode_path(path)
        )
    }
}

/// A heading of the page, for the table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    /// 1 to 6. Every heading is listed; MkDocs' themes show levels 2 and 3 beside a page.
    pub level: u8,
    /// The heading's `id`, for `#id` links.
    pub id: String,
    /// The heading as plain text.
    pub text: String,
}

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// `title` from the page's front matter, else its first `h1`.
    pub title: Option<String>,
    /// Sanitised HTML, ready to be placed inside a container of the portal's page.
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// What was wrong with the page: `page:line: message`.
    pub warnings: Vec<String>,
    /// Why the page was not rendered at all (it is over [`Limits::max_page_bytes`]); `html`
    /// then shows this message.
    pub refused: Option<String>,
}

/// How deep Markdown's own elements (quotes, lists, emphasis…) may nest; deeper ones are
/// shown without their element. The sanitizer's HTML parser slows down with depth × elements
/// (see `nesting.rs`), and no real page nests this deep.
const MAX_MARKDOWN_DEPTH: usize = 64;

/// How deep raw HTML may nest before the rest of the page's raw HTML is shown as text.
const MAX_RAW_HTML_DEPTH: usize = 128;

/// Markdown features MkDocs sites use: GFM tables, task lists and strikethrough, footnotes,
/// `{#id .class}` heading attributes, definition lists, and YAML front matter.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
}

/// Renders the page at `page` (its path inside the docs folder, e.g. `guides/setup.md`).
pub fn render_page(markdown: &str, page: &str, links: &LinkBase, limits: &Limits) -> Rendered {
    if markdown.len() > limits.max_page_bytes {
        let message = format!(
            "{page}: the page is {} bytes, over the limit of {} bytes; it is not rendered",
            markdown.len(),
            limits.max_page_bytes
        );
        return Rendered {
            html: format!(
                "<div class=\"admonition failure\"><p class=\"admonition-title\">Page not rendered</p><p>{}</p></div>",
                escape(&message)
            ),
            warnings: vec![message.clone()],
            refused: Some(message),
            ..Rendered::default()
        };
    }
    let expanded = admonition::expand(markdown);
    let mut state = State::new(page, limits);
    for id in &links.host_ids {
        state.ids.reserve(id);
        state.host_ids.insert(id.clone());
    }
    for (event, range) in Parser::new_ext(&expanded.text, options()).into_offset_iter() {
        let line = expanded.source_line(range.start);
        state.event(event, line);
    }
    let mut raw = String::with_capacity(expanded.text.len() + expanded.text.len() / 2);
    pulldown_cmark::html::push_html(&mut raw, state.out.into_iter());
    let raw = alignment_classes(&raw);
    let mut warnings = state.warnings;
    let rewrite = |url: &str| {
        rewrite_relative(page, links, url)
            .map_err(|why| format!("{page}: `{url}` in HTML {why}; the attribute is removed"))
    };
    let html = sanitize(&raw, &rewrite, &mut warnings);
    Rendered {
        title: state.meta_title.or(state.first_h1),
        html,
        toc: state.toc,
        warnings,
        refused: None,
    }
}

/// The final form of a relative URL found on `page`: `#frag` and `?query` stay, a page
/// becomes `{pages}/…`, another file `{assets}/…`; `Err(why)` when it is refused.
fn rewrite_relative(page: &str, links: &LinkBase, url: &str) -> Result<String, &'static str> {
    if url.is_empty() || url.starts_with('#') || url.starts_with('?') || url.starts_with("//") {
        // Same page, or a network-path reference (another host): nothing to resolve.
        return Ok(url.to_owned());
    }
    if url.starts_with('/') {
        return Err("is an absolute path");
    }
    let (rest, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let (path, query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let decoded = percent_decode(path).ok_or("is not a valid path")?;
    if decoded.contains('\\') {
        return Err("contains a backslash");
    }
    let target = resolve_link(page, &decoded).ok_or("leaves the docs folder")?;
    let base = if is_page(&target) {
        links.page(&target)
    } else {
        links.asset(&target)
    };
    Ok(format!("{base}{query}{fragment}"))
}

/// What a link or image destination in Markdown is.
fn check_destination(page: &str, dest: &str) -> Result<(), &'static str> {
    match scheme(dest) {
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("mailto") => Ok(()),
        Some(_) => Err("uses a scheme other than http, https or mailto"),
        None => {
            rewrite_relative(page, &LinkBase::new(String::new(), String::new()), dest).map(|_| ())
        }
    }
}

/// The URL scheme of `url` (`https` in `https://…`), if it has one.
fn scheme(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let candidate = &url[..colon];
    let mut chars = candidate.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)))
        .then_some(candidate)
}

/// A heading being read: its events are held until its text (and so its id) is known.
struct Heading<'a> {
    tag: Tag<'a>,
    events: Vec<Event<'a>>,
    text: String,
}

struct State<'p, 'a> {
    page: &'p str,
    warnings: Vec<String>,
    out: Vec<Event<'a>>,
    heading: Option<Heading<'a>>,
    ids: crate::slug::Ids,
    /// [`LinkBase::host_ids`]: not even an explicit `{#id}` may take one.
    host_ids: std::collections::HashSet<String>,
    toc: Vec<TocEntry>,
    first_h1: Option<String>,
    meta_title: Option<String>,
    /// Front matter text while inside it.
    meta: Option<String>,
    /// A code block being read: its info string (`None` when indented) and text.
    code: Option<(Option<CowStr<'a>>, String)>,
    /// For each open link or image, whether it is kept.
    links: Vec<bool>,
    highlight_budget: usize,
    /// For each open Markdown element, whether it is kept (not nested too deep).
    kept: Vec<bool>,
    raw: RawDepth,
    raw_warned: bool,
    depth_warned: bool,
}

impl<'p> State<'p, '_> {
    fn new(page: &'p str, limits: &Limits) -> Self {
        State {
            page,
            warnings: Vec::new(),
            out: Vec::new(),
            heading: None,
            ids: crate::slug::Ids::default(),
            host_ids: std::collections::HashSet::new(),
            toc: Vec::new(),
            first_h1: None,
            meta_title: None,
            meta: None,
            code: None,
            links: Vec::new(),
            highlight_budget: limits.max_highlight_bytes,
            kept: Vec::new(),
            raw: RawDepth::default(),
            raw_warned: false,
            depth_warned: false,
        }
    }
}

impl<'a> State<'_, 'a> {
    fn event(&mut self, event: Event<'a>, line: u32) {
        let Some(event) = self.bound_nesting(event, line) else {
            return;
        };
        match event {
            // pulldown-cmark's checkbox has no name: screen readers (and axe-core's `label`
            // rule) need one.
            Event::TaskListMarker(done) => self.emit(Event::Html(
                if done {
                    r#"<input type="checkbox" disabled checked aria-label="done"> "#
                } else {
                    r#"<input type="checkbox" disabled aria-label="to do"> "#
                }
                .into(),
            )),
            Event::Start(Tag::MetadataBlock(_)) => self.meta = Some(String::new()),
            Event::End(TagEnd::MetadataBlock(_)) => self.front_matter(line),
            Event::Text(text) if self.meta.is_some() => {
                if let Some(meta) = &mut self.meta {
                    meta.push_str(&text);
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => Some(info),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some((info, String::new()));
            }
            Event::Text(text) if self.code.is_some() => {
                if let Some((_, code)) = &mut self.code {
                    code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((info, code)) = self.code.take() {
                    let html = match info {
                        Some(info) => {
                            highlight::code_block(&info, &code, &mut self.highlight_budget)
                        }
                        None => {
                            format!("<pre tabindex=\"0\"><code>{}</code></pre>\n", escape(&code))
                        }
                    };
                    self.emit(Event::Html(html.into()));
                }
            }
            Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }) => {
                let kind = if matches!(event, Event::Start(Tag::Image { .. })) {
                    "image"
                } else {
                    "link"
                };
                match check_destination(self.page, dest_url) {
                    Ok(()) => {
                        self.links.push(true);
                        self.emit(event);
                    }
                    Err(why) => {
                        self.warnings.push(format!(
                            "{}:{line}: {kind} `{dest_url}` {why}; it is shown without the {kind}",
                            self.page
                        ));
                        self.links.push(false);
                    }
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if self.links.pop().unwrap_or(true) {
                    self.emit(event);
                }
            }
            Event::Start(tag @ Tag::Heading { .. }) => {
                self.heading = Some(Heading {
                    tag,
                    events: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(level)) => self.end_heading(level),
            other => self.emit(other),
        }
    }

    /// Keeps nesting bounded: a Markdown element deeper than the cap is dropped with its end
    /// (its content stays), raw HTML past its cap becomes text. `None`: drop the event.
    fn bound_nesting(&mut self, event: Event<'a>, line: u32) -> Option<Event<'a>> {
        match event {
            Event::Start(_) => {
                let keep = self.kept.len() < MAX_MARKDOWN_DEPTH;
                self.kept.push(keep);
                if !keep && !self.depth_warned {
                    self.depth_warned = true;
                    self.warnings.push(format!(
                        "{}:{line}: Markdown nests deeper than {MAX_MARKDOWN_DEPTH} levels; deeper elements are shown as plain text",
                        self.page
                    ));
                }
                keep.then_some(event)
            }
            Event::End(_) => {
                let keep = self.kept.pop().unwrap_or(true);
                keep.then_some(event)
            }
            // The guard reads the event's tags into the tracker (once: no other arm matches
            // raw HTML); accepted HTML falls through to the last arm unchanged.
            Event::Html(html) | Event::InlineHtml(html)
                if !self.raw.accept(&html, MAX_RAW_HTML_DEPTH) =>
            {
                if !self.raw_warned {
                    self.raw_warned = true;
                    self.warnings.push(format!(
                        "{}:{line}: raw HTML nests deeper than {MAX_RAW_HTML_DEPTH} elements; from here on it is shown as text",
                        self.page
                    ));
                }
                Some(Event::Text(html))
            }
            other => Some(other),
        }
    }

    /// Sends an event to the output, or into the heading being read.
    fn emit(&mut self, event: Event<'a>) {
        match &mut self.heading {
            Some(h) => {
                match &event {
                    Event::Text(t) | Event::Code(t) => h.text.push_str(t),
                    Event::SoftBreak | Event::HardBreak => h.text.push(' '),
                    _ => {}
                }
                h.events.push(event);
            }
            None => self.out.push(event),
        }
    }

    fn end_heading(&mut self, end: pulldown_cmark::HeadingLevel) {
        let Some(heading) = self.heading.take() else {
            return;
        };
        let Tag::Heading {
            level,
            id,
            classes,
            attrs,
        } = heading.tag
        else {
            return;
        };
        let text = heading
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // An explicit `{#id}` is kept as written (MkDocs does too), but reserved so that
        // later generated ids do not repeat it.
        let id = match id {
            Some(id) if !self.host_ids.contains(id.as_ref()) => {
                self.ids.reserve(&id);
                id.to_string()
            }
            Some(id) => self.ids.unique(id.to_string()),
            None => self.ids.unique(slugify(&text)),
        };
        let level_number = level as u8;
        if level_number == 1 && self.first_h1.is_none() {
            self.first_h1 = Some(text.clone());
        }
        self.toc.push(TocEntry {
            level: level_number,
            id: id.clone(),
            text,
        });
        self.out.push(Event::Start(Tag::Heading {
            level,
            id: Some(id.into()),
            classes,
            attrs,
        }));
        self.out.extend(heading.events);
        self.out.push(Event::End(TagEnd::Heading(end)));
    }

    /// Reads `title` from the YAML front matter (MkDocs' `meta`); other keys are ignored.
    fn front_matter(&mut self, line: u32) {
        let Some(text) = self.meta.take() else {
            return;
        };
        match pave_yaml::parse_documents(&text, &pave_yaml::Limits::default()) {
            Ok(docs) => {
                let title = docs
                    .first()
                    .and_then(|d| d.value.get("title"))
                    .and_then(|t| t.as_str());
                if let Some(title) = title {
                    self.meta_title = Some(title.to_owned());
                }
            }
            Err(e) => {
                // The metadata block's text starts on the line after the opening `---`; the
                // event's line is where the block ends, so count back from it.
                let lines = u32::try_from(text.lines().count()).unwrap_or(0);
                let first = line.saturating_sub(lines);
                self.warnings.push(format!(
                    "{}:{}:{}: front matter: {e}",
                    self.page,
                    first + e.position().line,
                    e.position().column
                ));
            }
        }
    }
}

/// Whether a rendered link target is inside the docs folder (a page or an asset), for
/// callers that check links across a site.
pub fn internal_target(page: &str, href: &str) -> Option<String> {
    if scheme(href).is_some() || href.starts_with('#') || href.starts_with("//") {
        return None;
    }
    let path = href.split(['#', '?']).next().unwrap_or("");
    resolve_link(page, &percent_decode(path)?)
}

/// pulldown-cmark writes a table column's alignment as `style="text-align: …"`, which the
/// portal's CSP (`style-src 'self'`) refuses and reports; a class (`align-left`,
/// `align-center`, `align-right`) says the same and the stylesheet applies it. Cell styles
/// from raw HTML are removed by the sanitizer.
fn alignment_classes(html: &str) -> std::borrow::Cow<'_, str> {
    if !html.contains(" style=\"text-align: ") {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = html.to_owned();
    for side in ["left", "center", "right"] {
        for cell in ["th", "td"] {
            out = out.replace(
                &format!("<{cell} style=\"text-align: {side}\">"),
                &format!("<{cell} class=\"align-{side}\">"),
            );
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme("https://x"), Some("https"));
        assert_eq!(scheme("mailto:a@b"), Some("mailto"));
        assert_eq!(scheme("javascript:alert(1)"), Some("javascript"));
        assert_eq!(scheme("C:\\x"), Some("C"));
        assert_eq!(scheme("foo.md#a:b"), None);
        assert_eq!(scheme("./a:b"), None);
    }

    #[test]
    fn internal_targets() {
        assert_eq!(
            internal_target("a/b.md", "c.md#x").as_deref(),
            Some("a/c.md")
        );
        assert_eq!(internal_target("a/b.md", "https://x"), None);
        assert_eq!(internal_target("a/b.md", "../../x"), None);
    }
}
