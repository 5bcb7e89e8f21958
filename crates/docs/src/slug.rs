//! Heading ids exactly as MkDocs' `toc` extension (Python-Markdown) makes them, so that links
//! written for a MkDocs or TechDocs site (`setup.md#install-the-cli`) keep working here.

use std::collections::{HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

/// Python-Markdown's `toc.slugify(value, '-')`: NFKD, drop what is not ASCII (so `é` → `e`),
/// drop characters other than word characters, whitespace and `-`, trim, lowercase, then every
/// run of whitespace and `-` becomes one `-`.
pub(crate) fn slugify(text: &str) -> String {
    let kept: String = text
        .nfkd()
        .filter(|c| c.is_ascii())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || c.is_ascii_whitespace())
        .collect();
    let trimmed = kept.trim().to_ascii_lowercase();
    let mut out = String::with_capacity(trimmed.len());
    let mut in_run = false;
    for c in trimmed.chars() {
        if c == '-' || c.is_ascii_whitespace() {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// Python-Markdown's `toc.unique(id, ids)`: while the id is taken (or empty), `x` becomes
/// `x_1`, and `x_N` becomes `x_{N+1}`. The chosen id is added to `used`.
///
/// Each stem remembers the next number to try, so a page repeating one heading 100,000 times
/// costs linear time (Python-Markdown's loop starts from `_1` every time: quadratic).
#[derive(Debug, Default)]
pub(crate) struct Ids {
    used: HashSet<String>,
    next: HashMap<String, u64>,
}

impl Ids {
    /// Reserves an id written by the author (`{#id}`), so generated ones skip it.
    pub(crate) fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_owned());
    }

    pub(crate) fn unique(&mut self, id: String) -> String {
        if !id.is_empty() && !self.used.contains(&id) {
            self.used.insert(id.clone());
            return id;
        }
        let (stem, start) = match id.rsplit_once('_') {
            Some((stem, n))
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.len() < 18 =>
            {
                (stem.to_owned(), n.parse::<u64>().map_or(1, |n| n + 1))
            }
            _ => (id, 1),
        };
        let mut n = start.max(self.next.get(&stem).copied().unwrap_or(1));
        let mut candidate = format!("{stem}_{n}");
        while self.used.contains(&candidate) {
            n += 1;
            candidate = format!("{stem}_{n}");
        }
        self.next.insert(stem, n + 1);
        self.used.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_match_python_markdown() {
        // Expected values from Python-Markdown 3.x `markdown.extensions.toc.slugify(t, "-")`.
        let cases = [
            ("Hello World", "hello-world"),
            ("  Install the CLI  ", "install-the-cli"),
            ("What's new in v1.2?", "whats-new-in-v12"),
            ("a -- b", "a-b"),
            ("Café au lait", "cafe-au-lait"),
            ("snake_case_name", "snake_case_name"),
            ("C++ & Rust", "c-rust"),
            ("日本語", ""),
            ("`code` span", "code-span"),
        ];
        for (text, want) in cases {
            assert_eq!(slugify(text), want, "{text:?}");
        }
    }

    #[test]
    fn duplicates_are_numbered() {
        let mut ids = Ids::default();
        let got: Vec<String> = [
            "intro", "intro", "intro", "", "", "intro_1", "x_2", "x", "x", "x",
        ]
        .iter()
        .map(|s| ids.unique((*s).to_owned()))
        .collect();
        assert_eq!(
            got,
            [
                "intro", "intro_1", "intro_2", "_1", "_2", "intro_3", "x_2", "x", "x_1", "x_3"
            ]
        );
    }

    #[test]
    fn many_repeats_take_linear_time() {
        let mut ids = Ids::default();
        // Numbered from the start each time, this took minutes (a hostile page's 150,000
        // repeated headings held the server's heavy pool); counted per stem, it is linear.
        for _ in 0..200_000 {
            ids.unique("same".to_owned());
        }
        assert_eq!(ids.unique("same".to_owned()), "same_200000");
    }
}
