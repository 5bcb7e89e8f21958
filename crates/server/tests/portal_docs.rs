//! Docs-as-code in the portal over the demo organisation and hostile repositories, through
//! the full router (no browser).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{StatusCode, header};
use common::*;

/// The demo's components have docs-as-code: the entity page links them, and the pages
/// render the nav from `mkdocs.yml`, admonitions, highlighted code and a table of contents.
#[tokio::test]
async fn docs_pages_render_the_demo_components_docs() {
    let demo = demo().await;
    let entity = get(
        &demo.state,
        "/catalog/default/component/cart-service",
        false,
    )
    .await;
    assert!(
        entity
            .body
            .contains(r#"id="tab-docs" href="/catalog/default/component/cart-service/docs""#),
        "the entity page links its docs"
    );

    let index = get(
        &demo.state,
        "/catalog/default/component/cart-service/docs",
        false,
    )
    .await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.body);
    assert!(index.content_type.starts_with("text/html"));
    assert_layout(&index.body);
    let html = &index.body;
    assert!(
        html.contains(r#"class="admonition info""#),
        "admonition: {html}"
    );
    assert!(
        html.contains(r#"<a href="/catalog/default/component/cart-service/docs/runbook""#),
        "nav and relative links"
    );
    assert!(
        html.contains(r#"aria-current="page">Overview</a>"#),
        "the current page in the nav"
    );
    // Every page the nav links to is served, the site's first page (`…/docs/`) included.
    let nav = &html[html.find(r#"class="docs-nav-list""#).unwrap()..];
    let nav = &nav[..nav.find("</ul>").unwrap()];
    let links: Vec<&str> = nav
        .split(r#"<a href=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/'))
        .collect();
    assert!(
        links.contains(&"/catalog/default/component/cart-service/docs/"),
        "{links:?}"
    );
    for href in links {
        let page = get(&demo.state, href, false).await;
        assert_eq!(page.status, StatusCode::OK, "{href}");
    }
    assert!(
        html.contains(r#"<h2 id="apis""#) && html.contains("href=\"#apis\""),
        "anchors and contents"
    );
    assert!(html.contains(r#"type="checkbox""#), "task lists");
    assert!(html.contains("/docs-highlight.css"));

    let runbook = get(
        &demo.state,
        "/catalog/default/component/cart-service/docs/runbook",
        false,
    )
    .await;
    assert_eq!(runbook.status, StatusCode::OK);
    let html = &runbook.body;
    assert!(html.contains(r#"aria-current="page">Runbook</a>"#));
    assert!(
        html.contains(r#"id="high-error-rate""#),
        "runbook sections have anchors"
    );
    let rollback = html.find("rollout undo").expect("the rollback command");
    let code = &html[html[..rollback].rfind("<pre").unwrap()..rollback];
    assert!(
        code.contains("<span class="),
        "shell code is highlighted: {code}"
    );
    assert!(html.contains("<details"), "collapsible admonitions");

    let css = get(&demo.state, "/docs-highlight.css", false).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    assert!(css.body.len() > 200, "{}", css.body);

    // Every component's docs read and render without a problem.
    let catalog = demo.state.catalog();
    let mut with_docs = 0;
    for record in catalog.records() {
        let entity = record.entity();
        if entity["metadata"]["annotations"]["backstage.io/techdocs-ref"].is_null() {
            continue;
        }
        let name = entity["metadata"]["name"].as_str().unwrap();
        for page in ["", "/runbook", "/architecture"] {
            let uri = format!("/catalog/default/component/{name}/docs{page}");
            let got = get(&demo.state, &uri, false).await;
            assert_eq!(got.status, StatusCode::OK, "{uri}");
            assert!(!got.body.contains("docs-warning"), "{uri}: {}", got.body);
        }
        with_docs += 1;
    }
    assert!(with_docs >= 20, "{with_docs} components with docs");

    let missing = get(
        &demo.state,
        "/catalog/default/component/cart-service/docs/nope",
        false,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_docs = get(
        &demo.state,
        "/catalog/default/group/checkout-team/docs",
        false,
    )
    .await;
    assert_eq!(no_docs.status, StatusCode::NOT_FOUND);
}

/// Docs come from repositories pave does not control: hostile Markdown is sanitized, paths
/// and symbolic links leaving the folder are refused, and no server path is shown.
#[tokio::test]
async fn docs_are_sanitized_and_stay_inside_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("docs/img")).unwrap();
    std::fs::write(dir.path().join("secret.md"), "# Secret\n\nroot:x:0:0\n").unwrap();
    std::fs::write(
        repo.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hostile\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: escapee\n  annotations:\n    backstage.io/techdocs-ref: dir:../..\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("mkdocs.yml"),
        "site_name: Hostile\nnav:\n  - Home: index.md\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("docs/index.md"),
        "# Hostile\n\n## Main\n\n## Other {#docs-content}\n\n[l0](../../x0.md) [l1](../../x1.md) [l2](../../x2.md) [l3](../../x3.md) [l4](../../x4.md) [l5](../../x5.md) [l6](../../x6.md) [l7](../../x7.md) [l8](../../x8.md) [l9](../../x9.md) [l10](../../x10.md) [l11](../../x11.md) [l12](../../x12.md) [l13](../../x13.md) [l14](../../x14.md) [l15](../../x15.md) [l16](../../x16.md) [l17](../../x17.md) [l18](../../x18.md) [l19](../../x19.md) [l20](../../x20.md) [l21](../../x21.md)\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n<img src=x onerror=alert(3)>\n\n</div></div></main><p id=\"escaped\">out</p>\n\n[up](../../secret.md)\n\n![diagram](img/d.svg)\n",
    )
    .unwrap();
    std::fs::write(repo.join("docs/latin.md"), b"# Caf\xe9\n").unwrap();
    std::fs::write(
        repo.join("docs/img/d.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(4)</script></svg>"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.md"), repo.join("docs/secret.md"))
            .unwrap();
        std::os::unix::fs::symlink(dir.path(), repo.join("docs/outside")).unwrap();
    }
    let state = serving(dir.path(), &repo.join("catalog-info.yaml")).await;

    let page = get(&state, "/catalog/default/component/hostile/docs", false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    let content = &html[html.find(r#"<div class="markdown">"#).unwrap()..];
    for bad in ["<script>alert", "javascript:", "onerror", "alert(3)"] {
        assert!(!content.contains(bad), "{bad} survived: {content}");
    }
    assert_eq!(
        html.matches("</main>").count(),
        1,
        "the page's containers are intact"
    );
    // Headings named like the page's own elements ("Main", `{#docs-content}`) take other
    // ids: every id on the page is unique, and the skip link still reaches the content.
    let mut ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "duplicate ids: {html}");
    assert!(html.contains(r#"<main id="main""#));
    assert!(html.contains(r#"<h2 id="main_1">"#), "{content}");
    assert!(
        html.matches(r#"class="docs-warning""#).count() <= 21,
        "warnings are capped"
    );
    assert!(html.contains("more problems on this page"), "{html}");
    assert!(html.contains("/catalog/default/component/hostile/docs-assets/img/d.svg"));
    assert!(!html.contains("root:x:0:0"));
    let here = dir.path().display().to_string();
    assert!(!html.contains(&here), "a server path is shown");

    let image = get(
        &state,
        "/catalog/default/component/hostile/docs-assets/img/d.svg",
        false,
    )
    .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.content_type, "image/svg+xml");
    let policy = image.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
    assert!(
        policy.to_str().unwrap().contains("sandbox"),
        "an SVG's script must not run"
    );
    for escape in [
        "/catalog/default/component/hostile/docs/secret",
        "/catalog/default/component/hostile/docs/outside/secret",
        "/catalog/default/component/hostile/docs-assets/secret.md",
        "/catalog/default/component/hostile/docs-assets/outside/secret.md",
        "/catalog/default/component/hostile/docs-assets/..%2F..%2Fsecret.md",
        "/catalog/default/component/hostile/docs-assets/%2E%2E/mkdocs.yml",
    ] {
        let got = get(&state, escape, false).await;
        assert!(!got.body.contains("root:x:0:0"), "{escape} leaked the file");
        assert_ne!(got.status, StatusCode::OK, "{escape}");
        assert!(!got.body.contains(&here), "{escape} shows a server path");
    }

    // A page that is not UTF-8 says so in place; the nav stays.
    let latin = get(
        &state,
        "/catalog/default/component/hostile/docs/latin",
        false,
    )
    .await;
    assert_eq!(latin.status, StatusCode::OK);
    assert!(
        latin.body.contains(r#"class="docs-warning""#),
        "{}",
        latin.body
    );
    assert!(
        latin
            .body
            .contains(r#"href="/catalog/default/component/hostile/docs/">Home</a>"#),
        "{}",
        latin.body
    );
    assert!(!latin.body.contains(&here));

    // A techdocs-ref that leaves the registered folder: the page says so, without paths.
    let escapee = get(&state, "/catalog/default/component/escapee/docs", false).await;
    assert_eq!(escapee.status, StatusCode::OK);
    assert!(
        escapee.body.contains("outside the source root"),
        "{}",
        escapee.body
    );
    assert!(!escapee.body.contains(&here));
}

/// "Last changed" comes from git, and a page not changed for six months is marked for review.
#[tokio::test]
async fn docs_pages_show_when_they_last_changed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::write(
        repo.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: dated\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n",
    )
    .unwrap();
    std::fs::write(repo.join("mkdocs.yml"), "site_name: Dated\n").unwrap();
    std::fs::write(repo.join("docs/index.md"), "# Dated\n\nOld news.\n").unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .env("GIT_AUTHOR_DATE", "2020-03-04T05:06:07Z")
            .env("GIT_COMMITTER_DATE", "2020-03-04T05:06:07Z")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "docs"]);
    let state = serving(dir.path(), &repo.join("catalog-info.yaml")).await;
    let page = get(&state, "/catalog/default/component/dated/docs", false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"<time datetime="2020-03-04">"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("not reviewed for 6 months"));
    // The docs index reports it for the freshness KPI.
    let index = get(&state, "/docs", false).await;
    assert_eq!(index.status, StatusCode::OK);
    let html = &index.body;
    assert!(
        html.contains(r#"<a href="/catalog/default/component/dated/docs">"#),
        "{html}"
    );
    assert!(html.contains(r#"<time datetime="2020-03-04">"#), "{html}");
    assert!(html.contains(r#"<span id="docs-stale">1</span>"#), "{html}");
    // Without a nav in mkdocs.yml the pages make one.
    assert!(
        page.body.contains(r#"aria-current="page">Dated</a>"#),
        "{}",
        page.body
    );
}
