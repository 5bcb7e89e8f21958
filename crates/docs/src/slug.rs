//! Heading ids exactly as MkDocs' `toc` extension (Python-Markdown) makes them, so that links
//! written for a MkDocs or TechDocs site (`setup.md#install-the-cli`) keep working here.

use std::collections::HashSet;

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
pub(crate) fn unique(id: String, used: &mut HashSet<String>) -> String {
    let mut id = id;
    while id.is_empty() || used.contains(&id) {
        id = match id.rsplit_once('_') {
            Some((stem, n))
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.len() < 18 =>
            {
                let next = n.parse::<u64>().map_or(1, |n| n + 1);
                format!("{stem}_{next}")
            }
            _ => format!("{id}_1"),
        };
    }
    used.insert(id.clone());
    id
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
        let mut used = HashSet::new();
        let ids: Vec<String> = ["intro", "intro", "intro", "", "", "intro_1"]
            .iter()
            .map(|s| unique((*s).to_owned(), &mut used))
            .collect();
        assert_eq!(ids, ["intro", "intro_1", "intro_2", "_1", "_2", "intro_3"]);
    }
}
