//! `mkdocs.yml`: nav forms, real-world tags, positioned errors, the default nav.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use pave_docs::{NavItem, default_nav, fill_titles, parse_mkdocs};

/// The nav as `title → page | url | [children]` lines, for compact comparisons.
fn outline(items: &[NavItem], depth: usize, out: &mut Vec<String>) {
    for item in items {
        let target = match (&item.page, &item.url) {
            (Some(p), _) => format!(" → {p}"),
            (_, Some(u)) => format!(" → <{u}>"),
            _ => String::new(),
        };
        out.push(format!("{}{}{target}", "  ".repeat(depth), item.title));
        outline(&item.children, depth + 1, out);
    }
}

fn lines(items: &[NavItem]) -> Vec<String> {
    let mut out = Vec::new();
    outline(items, 0, &mut out);
    out
}

const MATERIAL: &str = r#"site_name: !ENV [SITE_NAME, "Payments docs"]
site_description: How to run payments
repo_url: https://github.com/acme/payments
edit_uri: edit/main/docs/
docs_dir: documentation
theme:
  name: material
  features: [navigation.tabs]
plugins:
  - techdocs-core
  - search:
      lang: en
markdown_extensions:
  - admonition
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
  - toc:
      slugify: !!python/object/apply:pymdownx.slugs.slugify {kwds: {case: lower}}
  - pymdownx.snippets:
      base_path: !relative $config_dir
nav:
  - index.md
  - Getting started: getting-started.md
  - Guides:
      - guides/index.md
      - Setup: guides/setup.md
      - Deep:
          - Deeper: guides/deep/page.md
  - Runbook: https://runbooks.example.com/payments
  - Status: /status/
  - ./reference/api_reference.md
"#;

#[test]
fn nav_forms_and_python_tags() {
    let config = parse_mkdocs(MATERIAL, "mkdocs.yml").unwrap();
    assert_eq!(config.site_name.as_deref(), Some("Payments docs"));
    assert_eq!(config.docs_dir, "documentation");
    assert_eq!(
        config.repo_url.as_deref(),
        Some("https://github.com/acme/payments")
    );
    assert_eq!(config.edit_uri.as_deref(), Some("edit/main/docs/"));
    assert_eq!(
        lines(&config.nav),
        [
            "Home → index.md",
            "Getting started → getting-started.md",
            "Guides",
            "  Guides → guides/index.md",
            "  Setup → guides/setup.md",
            "  Deep",
            "    Deeper → guides/deep/page.md",
            "Runbook → <https://runbooks.example.com/payments>",
            "Status → </status/>",
            "Api reference → reference/api_reference.md",
        ]
    );
    assert!(config.nav[0].title_from_page && !config.nav[1].title_from_page);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let pages = config.nav[2].pages();
    assert_eq!(
        pages,
        ["guides/index.md", "guides/setup.md", "guides/deep/page.md"]
    );
}

#[test]
fn defaults_and_minimal_files() {
    let config = parse_mkdocs("site_name: x\n", "mkdocs.yml").unwrap();
    assert_eq!(config.docs_dir, "docs");
    assert!(config.nav.is_empty());
    let config = parse_mkdocs("", "mkdocs.yml").unwrap();
    assert_eq!((config.site_name, config.docs_dir.as_str()), (None, "docs"));
    let config = parse_mkdocs("docs_dir: ./site/docs/\n", "mkdocs.yml").unwrap();
    assert_eq!(config.docs_dir, "site/docs");
}

/// (file, expected error prefix `mkdocs.yml:line:col:` and a word of the message)
#[test]
fn malformed_files_name_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "site_name: x\nnav:\n  - a.md\n  b: [\n",
            "mkdocs.yml:4:",
            "YAML",
        ),
        ("site_name: x\nnav: index.md\n", "mkdocs.yml:2:1:", "list"),
        (
            "site_name: x\nnav:\n  - index.md\n  - 42\n",
            "mkdocs.yml:4:5:",
            "nav entry",
        ),
        (
            "nav:\n  - A: a.md\n    B: b.md\n",
            "mkdocs.yml:2:5:",
            "nav entry",
        ),
        (
            "nav:\n  - Section:\n      - ok.md\n      - Bad: {x: 1}\n",
            "mkdocs.yml:4:9:",
            "`Bad`",
        ),
        ("docs_dir: ../outside\n", "mkdocs.yml:1:1:", "docs_dir"),
        ("docs_dir: /abs\n", "mkdocs.yml:1:1:", "docs_dir"),
        ("- just\n- a list\n", "mkdocs.yml:1:1:", "mapping"),
        ("site_name: {a: 1}\n", "mkdocs.yml:1:1:", "site_name"),
        ("a: 1\na: 2\n", "mkdocs.yml:2:1:", "duplicate"),
    ];
    for (text, prefix, word) in cases {
        let err = parse_mkdocs(text, "mkdocs.yml").unwrap_err().to_string();
        assert!(
            err.starts_with(prefix),
            "{text:?}: want {prefix}, got {err}"
        );
        assert!(err.contains(word), "{text:?}: want {word:?} in {err}");
    }
}

#[test]
fn nav_pages_leaving_the_docs_folder_are_left_out_with_a_warning() {
    let config =
        parse_mkdocs("nav:\n  - ok.md\n  - Bad: ../../etc/passwd\n", "mkdocs.yml").unwrap();
    assert_eq!(lines(&config.nav), ["Ok → ok.md"]);
    assert_eq!(config.warnings.len(), 1);
    assert!(
        config.warnings[0].starts_with("mkdocs.yml:3:5: "),
        "{:?}",
        config.warnings
    );
}

#[test]
fn default_nav_is_mkdocs_order() {
    let pages: Vec<String> = [
        "zeta.md",
        "guides/setup.md",
        "index.md",
        "about.md",
        "guides/index.md",
        "guides/advanced/tuning.md",
        "api-reference/README.md",
        "guides/alpha.md",
    ]
    .map(String::from)
    .to_vec();
    let titles = HashMap::from([("guides/setup.md".to_owned(), "Setting up".to_owned())]);
    assert_eq!(
        lines(&default_nav(&pages, &titles)),
        [
            "Home → index.md",
            "About → about.md",
            "Zeta → zeta.md",
            "Api reference",
            "  Api reference → api-reference/README.md",
            "Guides",
            "  Guides → guides/index.md",
            "  Alpha → guides/alpha.md",
            "  Setting up → guides/setup.md",
            "  Advanced",
            "    Tuning → guides/advanced/tuning.md",
        ]
    );
}

#[test]
fn fill_titles_replaces_only_derived_titles() {
    let mut config = parse_mkdocs(
        "nav:\n  - index.md\n  - Mine: a.md\n  - S:\n      - b.md\n",
        "mkdocs.yml",
    )
    .unwrap();
    let titles = HashMap::from([
        ("index.md".to_owned(), "Welcome".to_owned()),
        ("a.md".to_owned(), "Not used".to_owned()),
        ("b.md".to_owned(), "Bee".to_owned()),
    ]);
    fill_titles(&mut config.nav, &titles);
    assert_eq!(
        lines(&config.nav),
        ["Welcome → index.md", "Mine → a.md", "S", "  Bee → b.md"]
    );
}
