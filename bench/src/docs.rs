//! Docs-as-code rendering (issue 16: a docs page < 5 ms of server time), side by side with
//! MkDocs building the same sites.
//!
//! pave: every page of every demo component's docs, each as the portal serves it (the site
//! opened, the page found and read, the nav's titles read, the page rendered), then one long
//! page (300 KiB of Markdown with 60 code fences). MkDocs (`--mkdocs <path>`): `mkdocs build`
//! of each of the same sites (MkDocs renders every page of a site in one build; its per-page
//! figure is the build's time over its pages).
//!
//! Usage: `bench/docs.sh` or `target/release/docs-bench [--mkdocs path/to/mkdocs] [--runs 5]`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_docs::{Limits, LinkBase};
use pave_testkit::{arg, percentile};

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// One page as the portal serves it.
fn serve_page(site: &Path, page: &str, limits: &Limits) -> usize {
    let (config, folder) = pave_docs::open_site(site, limits).unwrap();
    let file = pave_docs::find_page(folder.pages(), page)
        .unwrap()
        .to_owned();
    let markdown = folder.read_page(&file).unwrap();
    let links = LinkBase::new(
        "/catalog/default/component/x/docs",
        "/catalog/default/component/x/docs-assets",
    );
    let rendered = pave_docs::render_page(&markdown, &file, &links, limits);
    let titles = folder.titles();
    let mut nav = config.nav.clone();
    pave_docs::fill_titles(&mut nav, &titles);
    rendered.html.len() + nav.len()
}

fn long_page() -> String {
    let mut text = String::from("# A long page\n\n");
    for i in 0..60 {
        text.push_str(&format!(
            "## Section {i}\n\n!!! note \"Remember\"\n    Section {i} matters: see [the runbook](runbook.md#section-{i}).\n\n| key | value |\n|---|---|\n| a | {i} |\n\n```rust\nfn section_{i}(x: u64) -> u64 {{\n    let mut total = 0;\n    for n in 0..x {{ total += n * {i}; }}\n    total\n}}\n```\n\n"
        ));
        for _ in 0..18 {
            text.push_str("Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis **nostrud** exercitation.\n");
        }
        text.push('\n');
    }
    text
}

fn main() {
    let runs: usize = arg("--runs").map_or(5, |r| r.parse().unwrap());
    let mkdocs = arg("--mkdocs").map(PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    pave_demo::write_demo_org(dir.path()).unwrap();
    let mut sites: Vec<PathBuf> = std::fs::read_dir(dir.path().join("services"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    sites.sort();
    let limits = Limits::default();

    let mut times = Vec::new();
    let mut pages = 0;
    for _ in 0..runs {
        for site in &sites {
            let (_, folder) = pave_docs::open_site(site, &limits).unwrap();
            let urls: Vec<String> = folder
                .pages()
                .as_slice()
                .iter()
                .map(|p| pave_docs::page_url(p))
                .collect();
            for url in urls {
                let started = Instant::now();
                std::hint::black_box(serve_page(site, url.trim_end_matches('/'), &limits));
                times.push(started.elapsed());
                pages += 1;
            }
        }
    }
    times.sort();
    println!("| measure | pave | MkDocs | target |");
    println!("|---|---|---|---|");
    println!(
        "| a demo docs page served ({} sites, {} page renders), p50 / p99 / max | {} / {} / {} | | < 5 ms |",
        sites.len(),
        pages,
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );

    let long = long_page();
    let links = LinkBase::new("/d", "/a");
    let mut long_times: Vec<Duration> = (0..runs.max(3))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(pave_docs::render_page(&long, "guide.md", &links, &limits));
            started.elapsed()
        })
        .collect();
    long_times.sort();
    println!(
        "| a long page ({} KiB, 60 code fences), rendered, median | {} | | |",
        long.len() / 1024,
        ms(percentile(&long_times, 0.5))
    );

    let Some(mkdocs) = mkdocs else {
        println!("\n(MkDocs not run: pass --mkdocs, or use bench/docs.sh)");
        return;
    };
    // MkDocs builds a site's pages together: its figure per page is a build over its pages.
    let mut builds = Vec::new();
    let mut built_pages = 0usize;
    for site in &sites {
        let config = std::fs::read_to_string(site.join("mkdocs.yml")).unwrap();
        // techdocs-core is Backstage's MkDocs plugin; the bench runs plain MkDocs.
        let plain: String = config
            .lines()
            .filter(|l| !l.contains("techdocs-core") && !l.starts_with("plugins:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(site.join("mkdocs.plain.yml"), plain).unwrap();
        let n = std::fs::read_dir(site.join("docs")).unwrap().count();
        let started = Instant::now();
        let out = Command::new(&mkdocs)
            .args(["build", "--quiet", "-f"])
            .arg(site.join("mkdocs.plain.yml"))
            .arg("-d")
            .arg(dir.path().join("site-out"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        builds.push(started.elapsed());
        built_pages += n;
    }
    let total: Duration = builds.iter().sum();
    builds.sort();
    println!(
        "| `mkdocs build` of each site ({} sites, {} pages), median per site / per page | | {} / {} | |",
        sites.len(),
        built_pages,
        ms(percentile(&builds, 0.5)),
        ms(total / u32::try_from(built_pages.max(1)).unwrap())
    );
}
