//! Docs-as-code the way Backstage's TechDocs reads it: an entity's repository holds a
//! `mkdocs.yml` and a folder of Markdown pages, and pave renders them to HTML itself (no
//! Python, no MkDocs build step, no pre-built site in object storage).
//!
//! ```text
//! mkdocs.yml ──► mkdocs::parse_mkdocs ──► MkdocsConfig (site_name, docs_dir, nav tree)
//!                                           │ no nav: mkdocs::default_nav(pages, titles)
//! docs folder ──► fs::DocsFolder::open ──► site::Pages (bounded list of *.md)
//!                 (the only I/O: listing,    │ site::find_page("guides/setup") → guides/setup.md
//!                  reading inside the root,  ▼
//!                  `git log` for freshness)  render::render_page(markdown, page, LinkBase, Limits)
//!                                              admonitions → CommonMark → anchors, TOC,
//!                                              highlighted code, checked links → ammonia
//!                                              ──► Rendered { title, html, toc, warnings }
//! ```
//!
//! # Safety of the HTML
//!
//! A page is hostile input. The rendered HTML goes through ammonia's allow-list
//! (`sanitize.rs`): no scripts, styles, frames, forms, `on*` attributes or URL schemes but
//! http, https and mailto; stray end tags cannot close the portal's containers; every link
//! gets `rel="noopener noreferrer"` (ammonia adds it to all `<a>`, internal ones included,
//! which costs nothing). `class` and `id` are allowed on any element because the renderer's
//! own markup needs them; the portal should scope its docs styles to the container it puts a
//! page in. Nesting is capped before the sanitizer sees it (its cost grows with depth), pages
//! over [`Limits::max_page_bytes`] are not rendered, and highlighting has a per-page budget,
//! so a 2 MiB hostile page renders in under a second (release build).
//!
//! Everything but `fs.rs` is pure: callers pass texts and paths and get values back, so the
//! server, the CLI and the tests share one behaviour.
//!
//! # URL scheme
//!
//! Pages are addressed without their `.md` suffix under [`LinkBase::pages`]:
//! `guides/setup.md` → `{pages}/guides/setup`, `guides/index.md` → `{pages}/guides/`,
//! `index.md` → `{pages}/`. Every other file of the docs folder (images, PDFs…) is served as
//! is under [`LinkBase::assets`]: `img/arch.png` → `{assets}/img/arch.png`. Keeping assets
//! under their own prefix (e.g. `…/docs` for pages and `…/docs-assets` for files) means a page
//! and a file can never be confused, whatever the folder holds. [`site::find_page`] is the
//! inverse of [`site::page_url`]. Relative links are resolved against the page's own path
//! (`../other.md` from `guides/setup.md` is `other.md`); a folder link (`dir/`) means its
//! `index.md`; a link that leaves the docs folder, an absolute path, a backslash or NUL is
//! dropped (its text stays) with a warning. `#fragment`, `?query`, `http(s):` and `mailto:`
//! are kept as written.

pub mod asyncapi;
pub mod fs;
pub mod graphql;
pub mod mkdocs;
pub mod openapi;
pub mod proto;
pub mod render;
pub mod site;

mod admonition;
mod highlight;
mod nesting;
mod sanitize;
mod slug;

use std::path::PathBuf;
use std::time::Duration;

pub use asyncapi::read_asyncapi;
pub use fs::{DocsFolder, last_changed, open_site};
pub use graphql::read_graphql;
pub use highlight::highlight_css;
pub use mkdocs::{MkdocsConfig, NavItem, default_nav, file_title, fill_titles, parse_mkdocs};
pub use openapi::{ApiDoc, TypeDoc, TypeField, read_openapi};
pub use proto::read_proto;

/// An API definition laid out by its `spec.type` (`openapi`, `asyncapi`, `grpc`, `graphql`), or `None`
/// for types that are shown as text only. The error is a sentence for the page.
pub fn read_api_definition(api_type: &str, text: &str) -> Option<Result<ApiDoc, String>> {
    match api_type.to_ascii_lowercase().as_str() {
        "openapi" => Some(read_openapi(text)),
        "asyncapi" => Some(read_asyncapi(text)),
        "grpc" => Some(read_proto(text)),
        "graphql" => Some(read_graphql(text)),
        _ => None,
    }
}
pub use pave_yaml::Position;
pub use render::{LinkBase, Rendered, TocEntry, internal_target, render_page};
pub use site::{Pages, find_page, is_fresh, is_page, normalize, page_url, resolve_link};

/// Bounds on what one docs folder and one page may cost. Docs come from repositories pave
/// does not control, so every walk, read and render has a ceiling.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A larger page is not rendered: [`Rendered`] carries a message instead.
    pub max_page_bytes: usize,
    /// A docs folder with more Markdown pages is refused ([`DocsError::TooManyPages`]).
    pub max_pages: usize,
    /// Deepest folder level listed below the docs folder (its own files are depth 1).
    pub max_depth: usize,
    /// Directory entries a listing may look at in all (files of any kind, folders), so a
    /// folder of a million images cannot make a listing slow.
    pub max_entries: usize,
    /// Largest asset (image, PDF…) read.
    pub max_asset_bytes: u64,
    /// Largest `mkdocs.yml` read.
    pub max_config_bytes: u64,
    /// Code highlighted per page, in bytes; fences past it are shown plain. Highlighting is
    /// regex-driven and by far the costliest step (about 4 ms per KB in release, and the
    /// HTML grows 40-fold), so this bounds a page's render time to well under a second.
    pub max_highlight_bytes: usize,
    /// How long `git log` may run for [`last_changed`].
    pub git_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page_bytes: 2 * 1024 * 1024,
            max_pages: 10_000,
            max_depth: 16,
            max_entries: 100_000,
            max_asset_bytes: 16 * 1024 * 1024,
            max_config_bytes: 1024 * 1024,
            max_highlight_bytes: 128 * 1024,
            git_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a docs site, or part of it, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// `mkdocs.yml` is not YAML, or not shaped as MkDocs expects.
    #[error("{file}:{}:{}: {message}", .position.line, .position.column)]
    Config {
        file: String,
        position: Position,
        message: String,
    },
    /// The docs folder holds more Markdown pages than [`Limits::max_pages`].
    #[error("{root}: more than {limit} Markdown pages; the docs folder is not listed")]
    TooManyPages { root: String, limit: usize },
    /// The listing looked at more entries than [`Limits::max_entries`].
    #[error("{root}: more than {limit} files and folders below the docs folder; it is not listed")]
    TooManyEntries { root: String, limit: usize },
    /// A path that would leave the docs folder, or is not a plain relative path.
    #[error("`{path}`: {reason}")]
    Refused { path: String, reason: &'static str },
    /// No such page or file.
    #[error("`{path}` does not exist")]
    NotFound { path: String },
    /// The file exists but could not be read (too large, not text, I/O).
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: pave_fs::ReadError,
    },
    /// The docs folder itself cannot be opened.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
