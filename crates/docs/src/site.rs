//! Paths inside a docs folder, with no I/O: normalising, resolving links, mapping pages to URLs
//! and back, the bounded list of pages, and freshness.
//!
//! Every path here is relative to the docs folder, uses `/`, and has no `.`, `..` or empty
//! segments. Anything that cannot be written that way (absolute paths, backslashes, NUL, a `..`
//! that climbs above the root) is refused with `None` rather than clamped: a link that points
//! outside the docs is a mistake the author should hear about, not something to guess at.

use crate::DocsError;

/// Normalises a relative path inside the docs folder: `./a//b/../c.md` → `a/c.md`.
///
/// `None` for an absolute path (`/etc/passwd`, `C:…`), a backslash or NUL anywhere, or a
/// `..` that would climb above the root. The empty path (the root itself) is `Some("")`.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    if path.starts_with('/') || !plain(path) {
        return None;
    }
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// No backslash (a Windows separator the server's file system would not treat as one), no NUL
/// or other control character, no drive letter.
fn plain(path: &str) -> bool {
    let drive = path.as_bytes().get(1) == Some(&b':');
    !drive && !path.chars().any(|c| c == '\\' || c.is_control())
}

/// Resolves `href` (a path, already without `#fragment` or `?query`, percent-decoded) against
/// the page at `page`, both relative to the docs folder.
///
/// A folder (`dir/`, `..`, `.`, or the empty href) means its `index.md`, as in MkDocs.
/// `None` when the result would leave the docs folder, or the href is absolute or not plain.
pub fn resolve_link(page: &str, href: &str) -> Option<String> {
    if href.starts_with('/') || !plain(href) {
        return None;
    }
    let dir = match page.rfind('/') {
        Some(i) => &page[..i],
        None => "",
    };
    let joined = if dir.is_empty() {
        href.to_owned()
    } else {
        format!("{dir}/{href}")
    };
    let last = href.rsplit('/').next().unwrap_or("");
    let is_dir = matches!(last, "" | "." | "..");
    let path = normalize(&joined)?;
    Some(if is_dir {
        if path.is_empty() {
            "index.md".to_owned()
        } else {
            format!("{path}/index.md")
        }
    } else {
        path
    })
}

/// Whether `path` names a Markdown page (rendered) rather than an asset (served as is).
pub fn is_page(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.len() > 3 && name.to_ascii_lowercase().ends_with(".md")
}

/// The URL path of a page below the pages base: `guides/setup.md` → `guides/setup`,
/// `guides/index.md` (and `README.md`, MkDocs' other index) → `guides/`, `index.md` → ``.
/// Segments are percent-encoded.
pub fn page_url(page: &str) -> String {
    let (dir, name) = match page.rfind('/') {
        Some(i) => (&page[..=i], &page[i + 1..]),
        None => ("", page),
    };
    let lower = name.to_ascii_lowercase();
    if lower == "index.md" || lower == "readme.md" {
        return encode_path(dir);
    }
    let stem = if is_page(name) {
        &name[..name.len() - 3]
    } else {
        name
    };
    encode_path(&format!("{dir}{stem}"))
}

/// The page a URL path below the pages base names: `guides/setup` → `guides/setup.md`, or
/// `guides/setup/index.md`; `guides/` and `` → that folder's `index.md` (or `README.md`).
/// The path is percent-decoded first; `None` when it is refused or no such page is listed.
pub fn find_page<'a>(pages: &'a Pages, url_path: &str) -> Option<&'a str> {
    let decoded = percent_decode(url_path.trim_start_matches('/'))?;
    let folder = decoded.is_empty() || decoded.ends_with('/');
    let path = normalize(&decoded)?;
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut candidates = Vec::with_capacity(3);
    if !folder {
        if is_page(&path) {
            candidates.push(path.clone());
        }
        candidates.push(format!("{path}.md"));
    }
    candidates.push(format!("{prefix}index.md"));
    candidates.push(format!("{prefix}README.md"));
    candidates.iter().find_map(|c| pages.get(c))
}

/// The Markdown pages of a docs folder, sorted, at most [`crate::Limits::max_pages`] of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pages {
    paths: Vec<String>,
}

impl Pages {
    /// The pages among `paths` (normalised; others dropped), or an error when there are more
    /// than `limit`.
    pub fn new(
        paths: impl IntoIterator<Item = String>,
        limit: usize,
        root: &str,
    ) -> Result<Pages, DocsError> {
        let mut out = Vec::new();
        for path in paths {
            let Some(path) = normalize(&path) else {
                continue;
            };
            if !is_page(&path) {
                continue;
            }
            if out.len() == limit {
                return Err(DocsError::TooManyPages {
                    root: root.to_owned(),
                    limit,
                });
            }
            out.push(path);
        }
        out.sort();
        out.dedup();
        Ok(Pages { paths: out })
    }

    /// The listed page equal to `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.paths
            .binary_search_by(|p| p.as_str().cmp(path))
            .ok()
            .map(|i| self.paths[i].as_str())
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.paths
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Whether a page last changed at `last_changed` (unix seconds) counts as reviewed at `now`:
/// changed within `max_age_days` days (the "reviewed within 6 months" KPI uses 182). A change
/// dated in the future (a skewed committer clock) counts as fresh.
pub fn is_fresh(last_changed: i64, now: i64, max_age_days: u32) -> bool {
    let max_age = i64::from(max_age_days) * 86_400;
    now.saturating_sub(last_changed) <= max_age
}

/// Percent-decodes `text`; `None` when the bytes are not UTF-8 or decode to a NUL.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return (!text.contains('\0')).then(|| text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| hex(*c)),
                bytes.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    let text = String::from_utf8(out).ok()?;
    (!text.contains('\0')).then_some(text)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes a path for a URL: everything but RFC 3986's unreserved characters, `/`
/// and a few sub-delimiters that are harmless in a path.
pub(crate) fn encode_path(path: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_and_refuses() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a/b.md", Some("a/b.md")),
            ("./a//b/../c.md", Some("a/c.md")),
            ("", Some("")),
            ("a/..", Some("")),
            ("..", None),
            ("a/../../b", None),
            ("/etc/passwd", None),
            ("a\\b", None),
            ("a\0b", None),
            ("C:/x", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), *want, "{input:?}");
        }
    }

    #[test]
    fn page_urls_round_trip_through_find_page() {
        let pages = Pages::new(
            [
                "index.md",
                "guides/setup.md",
                "guides/index.md",
                "ref/README.md",
                "a b/c.md",
            ]
            .map(String::from),
            10,
            "docs",
        )
        .unwrap_or_default();
        for page in pages.as_slice() {
            let url = page_url(page);
            assert_eq!(
                find_page(&pages, &url),
                Some(page.as_str()),
                "{page} → {url}"
            );
        }
        assert_eq!(page_url("guides/setup.md"), "guides/setup");
        assert_eq!(page_url("guides/index.md"), "guides/");
        assert_eq!(page_url("index.md"), "");
        assert_eq!(page_url("a b/c.md"), "a%20b/c");
        assert_eq!(find_page(&pages, "guides"), Some("guides/index.md"));
        assert_eq!(
            find_page(&pages, "guides/setup.md"),
            Some("guides/setup.md")
        );
        assert_eq!(find_page(&pages, "../etc/passwd"), None);
        assert_eq!(find_page(&pages, "missing"), None);
    }

    #[test]
    fn too_many_pages_is_reported() {
        let many = (0..11).map(|i| format!("p{i}.md"));
        assert!(matches!(
            Pages::new(many, 10, "docs"),
            Err(DocsError::TooManyPages { limit: 10, .. })
        ));
        let ten_and_images = (0..10)
            .map(|i| format!("p{i}.md"))
            .chain((0..10).map(|i| format!("i{i}.png")));
        assert_eq!(
            Pages::new(ten_and_images, 10, "docs").map(|p| p.len()).ok(),
            Some(10)
        );
    }

    #[test]
    fn freshness_is_a_window() {
        let day = 86_400;
        assert!(is_fresh(1_000 * day, 1_100 * day, 182));
        assert!(is_fresh(1_000 * day, 1_182 * day, 182));
        assert!(!is_fresh(1_000 * day, 1_183 * day, 182));
        assert!(is_fresh(1_200 * day, 1_100 * day, 182));
    }

    #[test]
    fn percent_coding() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("a%00b"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(encode_path("é/x?.png"), "%C3%A9/x%3F.png");
    }
}
