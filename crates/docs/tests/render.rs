//! Rendering: sanitising, admonitions, anchors, links, highlighting and bounds.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use pave_docs::{Limits, LinkBase, Rendered, TocEntry, highlight_css, render_page};

fn links() -> LinkBase {
    LinkBase::new(
        "/c/default/component/svc/docs/",
        "/c/default/component/svc/docs-assets",
    )
}

fn render_at(page: &str, md: &str) -> Rendered {
    render_page(md, page, &links(), &Limits::default())
}

fn render(md: &str) -> Rendered {
    render_at("index.md", md)
}

fn html(md: &str) -> String {
    render(md).html
}

/// Hostile HTML and what must not survive it (checked case-insensitively).
#[test]
fn sanitizer_removes_active_content() {
    let cases: &[(&str, &[&str])] = &[
        ("<script>alert(1)</script>", &["<script", "alert(1)"]),
        ("<SCRIPT SRC=//evil/x.js></SCRIPT>", &["<script", "evil"]),
        ("[x](javascript:alert(1))", &["javascript:", "<a"]),
        ("<a href=\"javascript:alert(1)\">x</a>", &["javascript:"]),
        ("<a href=\"JaVaScRiPt:alert(1)\">x</a>", &["javascript:"]),
        ("<a href=\"jav&#x09;ascript:alert(1)\">x</a>", &["ascript:"]),
        (
            "<img src=\"a.png\" onerror=\"alert(1)\">",
            &["onerror", "alert"],
        ),
        ("<p onclick=\"steal()\">hi</p>", &["onclick", "steal"]),
        ("<div onmouseover='x()'>hi</div>", &["onmouseover"]),
        (
            "<iframe src=\"https://evil.example\"></iframe>",
            &["<iframe", "evil"],
        ),
        (
            "<style>body{display:none}</style>",
            &["<style", "display:none"],
        ),
        ("<p style=\"position:fixed\">x</p>", &["style=", "position"]),
        (
            "<form action=\"https://evil\"><input name=pw></form>",
            &["<form", "evil", "name="],
        ),
        (
            "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
            &["<object", "<embed", "swf"],
        ),
        (
            "<svg><script>alert(1)</script></svg>",
            &["<svg", "<script", "alert"],
        ),
        (
            "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">",
            &["data:"],
        ),
        (
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil\">",
            &["<meta", "evil"],
        ),
        ("<base href=\"https://evil/\">", &["<base", "evil"]),
        ("<!-- <script>alert(1)</script> -->", &["<script", "<!--"]),
        ("# Title {onclick=alert(1)}", &["onclick"]),
    ];
    for (input, banned) in cases {
        let out = html(input).to_lowercase();
        for b in *banned {
            assert!(!out.contains(b), "{input:?} → {out:?} still has {b:?}");
        }
    }
}

#[test]
fn html_cannot_break_out_of_its_container() {
    let out = html(
        "<div>\n\nstart\n\n</div></div></main></body><p>after</p>\n\n!!! note\n    </div></div>inside\n",
    );
    assert!(
        !out.contains("</main>") && !out.contains("</body>"),
        "{out}"
    );
    assert_eq!(
        out.matches("<div").count(),
        out.matches("</div>").count(),
        "{out}"
    );
    assert!(out.contains("after"), "{out}");
    // A closing tag written in the page never closes anything the page did not open: after
    // the stray end tags, content is still inside the fragment's own tree.
    let out = html("<table><tr><td>x</td></tr>\n\n</table></table></table><b>bold");
    assert!(out.ends_with("</b>") || out.ends_with("</b>\n"), "{out}");
}

#[test]
fn renderer_markup_survives_the_sanitizer() {
    let out = html(
        "# Top {#custom .wide}\n\n- [x] done\n- [ ] todo\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n\nNote[^n].\n\n[^n]: The note.\n\n~~old~~\n\n```rust\nfn main() {}\n```\n",
    );
    for want in [
        "<h1 id=\"custom\" class=\"wide\">",
        "<input type=\"checkbox\" disabled=\"\" checked=\"\" aria-label=\"done\">",
        "<input type=\"checkbox\" disabled=\"\" aria-label=\"to do\">",
        "<th class=\"align-center\">",
        "<td class=\"align-right\">",
        "class=\"footnote-reference\"",
        "class=\"footnote-definition\" id=\"n\"",
        "<del>old</del>",
        "<pre class=\"highlight hl-code\" tabindex=\"0\"><code class=\"language-rust\">",
        "<span class=\"hl-",
    ] {
        assert!(out.contains(want), "missing {want:?} in {out}");
    }
}

#[test]
fn styles_from_raw_html_are_removed() {
    // The portal's CSP refuses inline styles; the sanitizer removes them rather than have the
    // browser report each one.
    let out = html(
        "<table><tr><td style=\"text-align: left\">x</td><th style=\"color: red\">y</th></tr></table>",
    );
    assert!(!out.contains("style="), "{out}");
}

#[test]
fn raw_inputs_are_always_disabled_checkboxes() {
    let out = html("<input type=\"text\" name=\"pw\" value=\"x\">");
    assert!(
        out.contains("type=\"checkbox\"") && out.contains("disabled"),
        "{out}"
    );
    assert!(!out.contains("name=") && !out.contains("value="), "{out}");
}

#[test]
fn external_links_get_rel() {
    let out = html("[x](https://example.com) <https://example.org> [m](mailto:a@b.c)");
    assert_eq!(
        out.matches("rel=\"noopener noreferrer\"").count(),
        3,
        "{out}"
    );
    assert!(out.contains("href=\"https://example.com\""), "{out}");
    assert!(out.contains("href=\"mailto:a@b.c\""), "{out}");
}

#[test]
fn admonitions() {
    let cases: &[(&str, &[&str])] = &[
        (
            "!!! note \"Read this\"\n    Body *text*.\n",
            &[
                "<div class=\"admonition note\"><p class=\"admonition-title\">Read this</p>",
                "<p>Body <em>text</em>.</p>\n</div>",
            ],
        ),
        (
            "!!! warning\n    Careful.\n",
            &["<div class=\"admonition warning\"><p class=\"admonition-title\">Warning</p>"],
        ),
        (
            "!!! tip \"\"\n    No title.\n",
            &["<div class=\"admonition tip\">\n<p>No title.</p>"],
        ),
        (
            "!!! danger highlight\n    x\n",
            &[
                "<div class=\"admonition danger highlight\"><p class=\"admonition-title\">Danger</p>",
            ],
        ),
        (
            "??? info \"More\"\n    Hidden.\n",
            &[
                "<details class=\"info\"><summary>More</summary>",
                "<p>Hidden.</p>\n</details>",
            ],
        ),
        (
            "???+ example\n    Shown.\n",
            &["<details class=\"example\" open=\"\"><summary>Example</summary>"],
        ),
        (
            "!!! note \"<b>x</b> & y\"\n    z\n",
            &["<p class=\"admonition-title\">&lt;b&gt;x&lt;/b&gt; &amp; y</p>"],
        ),
        (
            // Nested content: a fenced code block, a list, an indented code block, and an
            // admonition inside an admonition.
            "!!! note\n    Text.\n\n        indented code\n\n    ```python\n    print(1)\n    ```\n\n    - one\n    - two\n\n    !!! tip\n        Inner.\n\nOutside.\n",
            &[
                "<code class=\"language-python\"><span class=\"hl-",
                "<li>one</li>",
                "<pre tabindex=\"0\"><code>indented code\n</code></pre>",
                "<div class=\"admonition tip\"><p class=\"admonition-title\">Tip</p>\n<p>Inner.</p>\n</div>\n</div>",
                "<p>Outside.</p>",
            ],
        ),
    ];
    for (input, wants) in cases {
        let out = html(input);
        for want in *wants {
            assert!(out.contains(want), "{input:?}: missing {want:?} in\n{out}");
        }
    }
}

#[test]
fn admonition_markers_in_code_are_text() {
    let out = html("```\n!!! note\n    x\n```\n");
    assert!(!out.contains("admonition"), "{out}");
    assert!(out.contains("!!! note"), "{out}");
}

#[test]
fn an_unclosed_fence_in_an_admonition_stays_inside_it() {
    let out = html("!!! note\n    ```\n    code\n\nAfter.\n");
    assert!(out.contains("<p>After.</p>"), "{out}");
}

#[test]
fn anchors_and_toc_follow_mkdocs() {
    let r = render(
        "# Payments Service\n\n## Getting Started\n\n### What's new in v1.2?\n\n## Getting Started\n\n## Café `config`\n\n#### Deep\n\nSetext\n------\n",
    );
    let toc: Vec<(u8, &str)> = r.toc.iter().map(|t| (t.level, t.id.as_str())).collect();
    assert_eq!(
        toc,
        [
            (1, "payments-service"),
            (2, "getting-started"),
            (3, "whats-new-in-v12"),
            (2, "getting-started_1"),
            (2, "cafe-config"),
            (4, "deep"),
            (2, "setext"),
        ]
    );
    assert_eq!(
        r.toc[4],
        TocEntry {
            level: 2,
            id: "cafe-config".into(),
            text: "Café config".into()
        }
    );
    assert!(
        r.html
            .contains("<h2 id=\"getting-started_1\">Getting Started</h2>"),
        "{}",
        r.html
    );
    assert_eq!(r.title.as_deref(), Some("Payments Service"));
}

#[test]
fn title_is_front_matter_then_first_h1_then_none() {
    assert_eq!(
        render("---\ntitle: From meta\n---\n# Heading\n")
            .title
            .as_deref(),
        Some("From meta")
    );
    assert_eq!(
        render("## Only h2\n\n# Later h1\n").title.as_deref(),
        Some("Later h1")
    );
    assert_eq!(render("text\n").title, None);
    let r = render("---\ntitle: [unclosed\n---\n# H\n");
    assert_eq!(r.title.as_deref(), Some("H"));
    assert!(
        r.warnings.iter().any(|w| w.starts_with("index.md:2:")),
        "{:?}",
        r.warnings
    );
    assert!(!r.html.contains("title:"), "{}", r.html);
}

/// (page, href, expected href in the output or None when the link must be dropped)
#[test]
fn link_resolution() {
    let p = "/c/default/component/svc/docs";
    let a = "/c/default/component/svc/docs-assets";
    let cases: &[(&str, &str, Option<String>)] = &[
        (
            "index.md",
            "guides/setup.md",
            Some(format!("{p}/guides/setup")),
        ),
        (
            "index.md",
            "guides/setup.md#install",
            Some(format!("{p}/guides/setup#install")),
        ),
        ("index.md", "./guides/", Some(format!("{p}/guides/"))),
        ("index.md", "index.md", Some(format!("{p}/"))),
        ("guides/setup.md", "../index.md", Some(format!("{p}/"))),
        ("guides/setup.md", "../other.md", Some(format!("{p}/other"))),
        (
            "guides/setup.md",
            "deploy.md?x=1#y",
            Some(format!("{p}/guides/deploy?x=1#y")),
        ),
        ("guides/setup.md", "..", Some(format!("{p}/"))),
        (
            "guides/setup.md",
            "img/arch.png",
            Some(format!("{a}/guides/img/arch.png")),
        ),
        (
            "guides/setup.md",
            "../files/My%20Doc.pdf",
            Some(format!("{a}/files/My%20Doc.pdf")),
        ),
        ("guides/setup.md", "#local", Some("#local".into())),
        (
            "guides/setup.md",
            "https://example.com/x.md",
            Some("https://example.com/x.md".into()),
        ),
        (
            "guides/setup.md",
            "mailto:team@example.com",
            Some("mailto:team@example.com".into()),
        ),
        ("guides/setup.md", "../../secret.md", None),
        ("index.md", "../x.md", None),
        ("index.md", "/etc/passwd", None),
        ("index.md", "a\\..\\..\\b.md", None),
        ("index.md", "a%00b.md", None),
        ("index.md", "file:///etc/passwd", None),
        ("index.md", "javascript:alert(1)", None),
        ("index.md", "C:\\Windows\\x.md", None),
    ];
    for (page, href, want) in cases {
        let r = render_at(page, &format!("[text]({href})\n"));
        match want {
            Some(url) => {
                let attr = format!("href=\"{}\"", url.replace('&', "&amp;"));
                assert!(
                    r.html.contains(&attr),
                    "{page} + {href}: want {attr} in {}",
                    r.html
                );
                assert!(r.warnings.is_empty(), "{page} + {href}: {:?}", r.warnings);
            }
            None => {
                assert!(
                    !r.html.contains("<a"),
                    "{page} + {href}: kept in {}",
                    r.html
                );
                assert!(
                    r.html.contains("text"),
                    "{page} + {href}: text lost in {}",
                    r.html
                );
                assert!(
                    r.warnings
                        .iter()
                        .any(|w| w.starts_with(&format!("{page}:1: link"))),
                    "{page} + {href}: no warning: {:?}",
                    r.warnings
                );
            }
        }
    }
}

#[test]
fn images_and_raw_html_urls_are_rewritten_too() {
    let r = render_at(
        "guides/setup.md",
        "![Arch](img/arch.png \"t\")\n\n<img src=\"img/raw.png\" width=\"200\">\n\n<a href=\"deploy.md\">raw</a>\n\n<img src=\"../../../etc/passwd\">\n\n![x](../../up.png)\n",
    );
    let a = "/c/default/component/svc/docs-assets";
    assert!(
        r.html.contains(&format!("src=\"{a}/guides/img/arch.png\"")),
        "{}",
        r.html
    );
    assert!(
        r.html.contains(&format!("src=\"{a}/guides/img/raw.png\"")),
        "{}",
        r.html
    );
    assert!(
        r.html
            .contains("href=\"/c/default/component/svc/docs/guides/deploy\""),
        "{}",
        r.html
    );
    assert!(
        !r.html.contains("passwd") && !r.html.contains("up.png"),
        "{}",
        r.html
    );
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("guides/setup.md:9: image")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn code_highlighting() {
    let out = html("```rust\nlet x = \"<&>\";\n```\n");
    assert!(out.contains("<span class=\"hl-"), "{out}");
    assert!(out.contains("&lt;&amp;&gt;"), "{out}");
    for lang in [
        "python", "yaml", "json", "bash", "go", "js", "yml", "shell", "ts",
    ] {
        let out = html(&format!("```{lang}\nx = 1\n```\n"));
        assert!(out.contains("<span class=\"hl-"), "{lang}: {out}");
    }
    let out = html("```nosuchlang\n<script>alert(1)</script>\n```\n");
    assert!(!out.contains("<span"), "{out}");
    assert!(
        out.contains(
            "<pre tabindex=\"0\"><code class=\"language-nosuchlang\">&lt;script&gt;alert(1)&lt;/script&gt;"
        ),
        "{out}"
    );
    let out = html("```\n<b>plain</b>\n```\n");
    assert!(
        out.contains("<pre tabindex=\"0\"><code>&lt;b&gt;plain&lt;/b&gt;"),
        "{out}"
    );
    let out = html("```\" onclick=\"x\n1\n```\n");
    assert!(!out.contains("onclick"), "{out}");
}

#[test]
fn highlight_css_matches_the_classes() {
    let css = highlight_css();
    assert!(css.contains(".hl-code"), "{css}");
    assert!(
        css.contains(".hl-keyword") || css.contains(".hl-storage"),
        "{css}"
    );
    assert!(css.contains("@media (prefers-color-scheme: dark)"), "{css}");
}

#[test]
fn highlighting_is_bounded_per_page() {
    let limits = Limits {
        max_highlight_bytes: 100,
        ..Limits::default()
    };
    let block = format!("```rust\n{}```\n\n", "let x = 1;\n".repeat(8));
    let md = format!("{block}{block}");
    let r = render_page(&md, "index.md", &links(), &limits);
    assert_eq!(r.html.matches("hl-code").count(), 1, "{}", r.html);
}

#[test]
fn a_page_over_the_limit_is_not_rendered_and_returns_quickly() {
    let big = "# x\n".repeat(50 * 1024 * 1024 / 4);
    let started = Instant::now();
    let r = render(&big);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        r.refused
            .as_deref()
            .is_some_and(|m| m.contains("over the limit")),
        "{:?}",
        r.refused
    );
    assert!(
        r.html.contains("not rendered") && r.html.len() < 1000,
        "{}",
        r.html
    );
    assert!(r.toc.is_empty() && r.title.is_none());
}

/// Pathological pages under the size limit render in bounded time without overflowing the
/// stack (deep nesting is what recursive HTML tree code chokes on).
#[test]
fn hostile_pages_under_the_limit_stay_bounded() {
    let limit = Limits::default().max_page_bytes;
    let cases = [
        ">".repeat(limit - 10),
        "- ".repeat(limit / 2 - 10),
        "<div>".repeat(limit / 5 - 10),
        "[".repeat(limit - 10),
        "*a **a ".repeat(limit / 8),
        "!!! note\n    ".repeat(limit / 16),
        format!("```rust\n{}\n```\n", "(".repeat(limit - 100)),
    ];
    for md in &cases {
        let started = Instant::now();
        let r = render(md);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(20), "{:?}…: {took:?}", &md[..20]);
        assert!(r.refused.is_none());
    }
}

#[test]
fn definition_lists_and_strikethrough() {
    let out = html("Term\n: Definition\n");
    assert!(out.contains("<dl>") && out.contains("<dd>"), "{out}");
}

#[test]
fn warnings_name_the_source_line_inside_admonitions() {
    let r = render("# T\n\n!!! note\n    Text.\n\n    [bad](../../x.md)\n\nafter [bad2](/abs)\n");
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(
        r.warnings[0].starts_with("index.md:6: link `../../x.md`"),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings[1].starts_with("index.md:8: link `/abs`"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn very_long_code_lines_are_not_highlighted() {
    let long = format!("```rust\nlet x = \"{}\";\n```\n", "a".repeat(2_000));
    assert!(!html(&long).contains("<span"));
    let short = format!("```rust\nlet x = \"{}\";\n```\n", "a".repeat(500));
    assert!(html(&short).contains("<span"));
}

#[test]
fn deep_nesting_is_flattened_with_a_warning() {
    let r = render(&format!("{}x\n", ">".repeat(1_000)));
    assert_eq!(r.html.matches("<blockquote>").count(), 64, "{}", r.html);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("nests deeper than 64")),
        "{:?}",
        r.warnings
    );
    let r = render(&format!("{}x", "<div>".repeat(1_000)));
    assert!(r.html.matches("<div>").count() <= 128, "{}", r.html.len());
    assert!(r.html.contains("&lt;div&gt;"), "the rest is text");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("raw HTML nests deeper")),
        "{:?}",
        r.warnings
    );
}

/// Headings do not take the ids of the page around the docs: "Main" would otherwise capture
/// the skip link, and an explicit `{#main}` too.
#[test]
fn headings_keep_clear_of_the_host_pages_ids() {
    let host = links().with_host_ids(&["main", "docs-content"]);
    let md = "# Main\n\n## Docs content\n\n## Other {#main}\n\n## Main\n";
    let rendered = render_page(md, "index.md", &host, &Limits::default());
    let ids: Vec<&str> = rendered.toc.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["main_1", "docs-content_1", "main_2", "main_3"]);
    assert!(!rendered.html.contains(r#"id="main""#), "{}", rendered.html);
    // Without host ids, MkDocs' ids are kept as they are.
    let plain = render(md);
    assert_eq!(plain.toc.first().map(|t| t.id.as_str()), Some("main"));
}
