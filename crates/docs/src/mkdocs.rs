//! `mkdocs.yml`: the site name, the docs folder and the navigation tree; the rest of MkDocs'
//! configuration (theme, plugins, extensions) does not change how pave renders and is ignored.
//!
//! Real files carry Python-specific tags (`!!python/name:material.extensions.emoji.twemoji`,
//! `!ENV [SITE_NAME, "Docs"]`, `!relative`). pave-yaml reads an unknown tag's node as the
//! untagged node (a string, a list), so they parse; `!ENV [VAR, default]` where a string is
//! expected gives its default, since the pure core reads no environment.

use std::collections::HashMap;

use pave_yaml::{Document, PathSegment, Position};
use serde_json::Value;

use crate::DocsError;
use crate::site::normalize;

/// What pave needs from `mkdocs.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MkdocsConfig {
    pub site_name: Option<String>,
    /// The Markdown folder relative to `mkdocs.yml`'s folder, normalised (`docs` by default).
    pub docs_dir: String,
    /// The `nav` tree; empty when the file has none (use [`default_nav`] then).
    pub nav: Vec<NavItem>,
    pub repo_url: Option<String>,
    pub edit_uri: Option<String>,
    /// Problems that did not stop reading: `mkdocs.yml:line:col: message`.
    pub warnings: Vec<String>,
}

/// One entry of the navigation: a page, an external link, or a section with children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavItem {
    pub title: String,
    /// The title was not written in `nav` (`- guides/setup.md`): it is derived from the file
    /// name until [`fill_titles`] replaces it with the page's own title.
    pub title_from_page: bool,
    /// A page, relative to the docs folder and normalised.
    pub page: Option<String>,
    /// An external link (`https://…`, or an absolute path).
    pub url: Option<String>,
    pub children: Vec<NavItem>,
}

impl NavItem {
    fn page(path: String, title: Option<String>) -> Self {
        NavItem {
            title_from_page: title.is_none(),
            title: title.unwrap_or_else(|| file_title(&path)),
            page: Some(path),
            url: None,
            children: Vec::new(),
        }
    }

    fn link(url: String, title: Option<String>) -> Self {
        NavItem {
            title: title.unwrap_or_else(|| url.clone()),
            title_from_page: false,
            page: None,
            url: Some(url),
            children: Vec::new(),
        }
    }

    fn section(title: String, children: Vec<NavItem>) -> Self {
        NavItem {
            title,
            title_from_page: false,
            page: None,
            url: None,
            children,
        }
    }

    /// Every page of this item and its children, depth first.
    pub fn pages(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(item) = stack.pop() {
            if let Some(p) = &item.page {
                out.push(p.as_str());
            }
            stack.extend(item.children.iter().rev());
        }
        out
    }
}

/// Parses `mkdocs.yml` (`file` is its name for messages).
pub fn parse_mkdocs(text: &str, file: &str) -> Result<MkdocsConfig, DocsError> {
    let docs = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()).map_err(|e| {
        DocsError::Config {
            file: file.to_owned(),
            position: e.position(),
            message: e.to_string(),
        }
    })?;
    let mut reader = Reader {
        file,
        doc: docs.into_iter().next(),
        warnings: Vec::new(),
    };
    let root = match reader.doc.as_ref().map(|d| &d.value) {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(reader.error(&[], "mkdocs.yml must be a mapping of settings")),
    };
    let site_name = reader.string(&root, "site_name")?;
    let repo_url = reader.string(&root, "repo_url")?;
    let edit_uri = reader.string(&root, "edit_uri")?;
    let docs_dir = match reader.string(&root, "docs_dir")? {
        None => "docs".to_owned(),
        Some(dir) => match normalize(&dir) {
            Some(d) if !d.is_empty() => d,
            _ => {
                return Err(reader.error(
                    &["docs_dir".into()],
                    "docs_dir must be a folder below mkdocs.yml's folder (relative, no `..` above it)",
                ));
            }
        },
    };
    let nav = match root.get("nav") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut path = vec![PathSegment::from("nav")];
            reader.items(items, &mut path, 0)?
        }
        Some(_) => {
            return Err(reader.error(&["nav".into()], "nav must be a list of pages and sections"));
        }
    };
    Ok(MkdocsConfig {
        site_name,
        docs_dir,
        nav,
        repo_url,
        edit_uri,
        warnings: reader.warnings,
    })
}

/// Sections nest at most this deep; deeper is refused rather than walked.
const MAX_NAV_DEPTH: usize = 32;

struct Reader<'f> {
    file: &'f str,
    doc: Option<Document>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn position(&self, path: &[PathSegment]) -> Position {
        self.doc
            .as_ref()
            .and_then(|d| d.spans.locate(&d.value, 0, path))
            .unwrap_or(Position { line: 1, column: 1 })
    }

    fn error(&self, path: &[PathSegment], message: &str) -> DocsError {
        DocsError::Config {
            file: self.file.to_owned(),
            position: self.position(path),
            message: message.to_owned(),
        }
    }

    fn warn(&mut self, path: &[PathSegment], message: &str) {
        let p = self.position(path);
        self.warnings
            .push(format!("{}:{}:{}: {message}", self.file, p.line, p.column));
    }

    /// A string setting; `!ENV [VAR, default]` (read as a list) gives its default.
    fn string(&self, root: &Value, key: &str) -> Result<Option<String>, DocsError> {
        match root.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(Value::Array(items)) => {
                Ok(items.last().and_then(Value::as_str).map(str::to_owned))
            }
            Some(Value::Object(_)) => {
                Err(self.error(&[key.into()], &format!("{key} must be a string")))
            }
        }
    }

    fn items(
        &mut self,
        items: &[Value],
        path: &mut Vec<PathSegment>,
        depth: usize,
    ) -> Result<Vec<NavItem>, DocsError> {
        if depth > MAX_NAV_DEPTH {
            return Err(self.error(path, "nav sections nest too deeply"));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            path.push(i.into());
            if let Some(item) = self.item(item, path, depth)? {
                out.push(item);
            }
            path.pop();
        }
        Ok(out)
    }

    fn item(
        &mut self,
        item: &Value,
        path: &mut Vec<PathSegment>,
        depth: usize,
    ) -> Result<Option<NavItem>, DocsError> {
        match item {
            Value::String(target) => Ok(self.target(target, None, path)),
            Value::Object(map) if map.len() == 1 => {
                let Some((title, value)) = map.iter().next() else {
                    return Ok(None);
                };
                path.push(title.as_str().into());
                let item = match value {
                    Value::String(target) => Ok(self.target(target, Some(title.clone()), path)),
                    Value::Array(children) => {
                        let children = self.items(children, path, depth + 1)?;
                        Ok(Some(NavItem::section(title.clone(), children)))
                    }
                    _ => Err(self.error(
                        path,
                        &format!("nav entry `{title}` must name a page, a URL or a list"),
                    )),
                };
                path.pop();
                item
            }
            _ => Err(self.error(
                path,
                "a nav entry is `page.md`, `Title: page.md`, `Title: https://…` or `Section: [...]`",
            )),
        }
    }

    fn target(
        &mut self,
        target: &str,
        title: Option<String>,
        path: &[PathSegment],
    ) -> Option<NavItem> {
        if is_link(target) {
            // The page's own links go through the sanitizer's scheme list; nav links are
            // written into the portal's markup directly, so they get the same list here.
            if !safe_link(target) {
                self.warn(
                    path,
                    &format!("nav link `{target}`: only http(s), mailto and absolute paths are linked; left out"),
                );
                return None;
            }
            return Some(NavItem::link(target.to_owned(), title));
        }
        match normalize(target) {
            Some(page) if !page.is_empty() => Some(NavItem::page(page, title)),
            _ => {
                self.warn(
                    path,
                    &format!("nav page `{target}` is not a path inside the docs folder; left out"),
                );
                None
            }
        }
    }
}

/// MkDocs treats a nav target with a scheme, or an absolute path, as a link, not a page.
/// Link targets the portal writes as they are: `http(s)://`, `mailto:` and paths on this
/// site (`/…`, but not `//host`).
fn safe_link(target: &str) -> bool {
    let lower = target.trim_start().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//") && !lower.starts_with("/\\"))
}

fn is_link(target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    target.split_once(':').is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.len() > 1
            && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

/// The navigation MkDocs builds when `mkdocs.yml` has no `nav`: in each folder its
/// `index.md` (or `README.md`) first, then the other pages alphabetically, then its
/// subfolders alphabetically as sections titled after the folder. `titles` maps a page
/// to its title (front matter or first heading); pages without one get [`file_title`].
pub fn default_nav(pages: &[String], titles: &HashMap<String, String>) -> Vec<NavItem> {
    let mut sorted: Vec<&str> = pages.iter().map(String::as_str).collect();
    // MkDocs' `file_sort_key`: (folder parts, not an index, name).
    sorted.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let mut root: Vec<NavItem> = Vec::new();
    for page in sorted {
        let mut branch = &mut root;
        let folders: Vec<&str> = page.split('/').collect();
        for folder in &folders[..folders.len() - 1] {
            let title = folder_title(folder);
            let at = branch
                .iter()
                .position(|i| i.page.is_none() && i.url.is_none() && i.title == title);
            let at = match at {
                Some(at) => at,
                None => {
                    branch.push(NavItem::section(title, Vec::new()));
                    branch.len() - 1
                }
            };
            branch = &mut branch[at].children;
        }
        let title = titles.get(page).cloned();
        let mut item = NavItem::page(page.to_owned(), title.clone());
        item.title_from_page = title.is_none();
        branch.push(item);
    }
    root
}

fn sort_key(page: &str) -> (Vec<&str>, bool, &str) {
    let mut parts: Vec<&str> = page.split('/').collect();
    let name = parts.pop().unwrap_or("");
    (parts, !is_index(name), name)
}

fn is_index(name: &str) -> bool {
    name.eq_ignore_ascii_case("index.md") || name.eq_ignore_ascii_case("readme.md")
}

/// Replaces the derived titles of `nav`'s pages by their pages' own titles.
pub fn fill_titles(nav: &mut [NavItem], titles: &HashMap<String, String>) {
    for item in nav {
        if item.title_from_page
            && let Some(title) = item.page.as_ref().and_then(|p| titles.get(p))
        {
            item.title.clone_from(title);
            item.title_from_page = false;
        }
        fill_titles(&mut item.children, titles);
    }
}

/// A page's title from its file name, as MkDocs makes one when the page has none: the home
/// page is "Home", another index takes its folder's name, `getting-started.md` is
/// "Getting started".
pub fn file_title(page: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    let name = parts.pop().unwrap_or("");
    if is_index(name) {
        return parts
            .last()
            .map_or_else(|| "Home".to_owned(), |d| folder_title(d));
    }
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    folder_title(stem)
}

/// MkDocs' `dirname_to_title`: `-` and `_` become spaces; an all-lowercase name is
/// capitalised.
fn folder_title(name: &str) -> String {
    let title = name.replace(['-', '_'], " ");
    if title.to_lowercase() == title {
        let mut chars = title.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => title,
        }
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_file_names() {
        assert_eq!(file_title("index.md"), "Home");
        assert_eq!(file_title("guides/index.md"), "Guides");
        assert_eq!(file_title("getting-started.md"), "Getting started");
        assert_eq!(file_title("API_Reference.md"), "API Reference");
    }

    #[test]
    fn links_are_told_from_pages() {
        assert!(is_link("https://example.com"));
        for bad in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "vbscript:x",
            "//evil.example/x",
            " javascript:x",
        ] {
            assert!(!safe_link(bad), "{bad}");
        }
        for good in [
            "https://example.com",
            "HTTP://x",
            "mailto:a@b.c",
            "/catalog",
        ] {
            assert!(safe_link(good), "{good}");
        }
        assert!(is_link("mailto:a@b.c"));
        assert!(is_link("/absolute/"));
        assert!(!is_link("guides/setup.md"));
        assert!(!is_link("C:/x"));
    }
}
