//! Render timings: a typical page, and hostile pages at the size limit.
//! `cargo run --release -p pave-docs --example timing`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use pave_docs::{Limits, LinkBase, render_page};

/// A typical docs page: headings, prose with links, a table, an admonition, three code blocks.
pub fn typical_page() -> String {
    let mut md = String::from(
        "# Payments service\n\nThe payments service takes card payments. See [setup](guides/setup.md) and the [API](api/index.md#auth).\n\n",
    );
    for i in 0..6 {
        md.push_str(&format!(
            "## Section {i}\n\nSome *prose* with **bold**, `code`, a [link](https://example.com/{i}) and an ![image](img/diagram-{i}.png).\n\n- item one\n- item two with [a page](../other.md)\n- [x] a task\n\n"
        ));
    }
    md.push_str("!!! warning \"Before you deploy\"\n    Check the SLOs first.\n\n    ```bash\n    pave slo status --service payments\n    ```\n\n");
    md.push_str("| Env | URL | Owner |\n|---|---|---|\n| prod | https://pay.example.com | team-pay |\n| staging | https://pay.staging | team-pay |\n\n");
    md.push_str("```rust\nuse std::collections::HashMap;\n\nfn main() {\n    let mut m = HashMap::new();\n    m.insert(\"a\", 1);\n    for (k, v) in &m {\n        println!(\"{k}: {v}\");\n    }\n}\n```\n\n");
    md.push_str("```yaml\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\nspec:\n  type: service\n  owner: team-pay\n```\n");
    md
}

fn time(name: &str, md: &str, runs: u32) {
    let links = LinkBase::new(
        "/catalog/default/component/payments/docs",
        "/catalog/default/component/payments/docs-assets",
    );
    let limits = Limits::default();
    let started = Instant::now();
    let mut out = 0;
    for _ in 0..runs {
        out += render_page(md, "guides/index.md", &links, &limits)
            .html
            .len();
    }
    let each = started.elapsed() / runs;
    println!(
        "{name:<28} {:>9} bytes in, {:>9} bytes out: {each:?} per page",
        md.len(),
        out / runs as usize
    );
}

fn main() {
    let started = Instant::now();
    let _ = render_page(
        "```rust\nfn x() {}\n```\n",
        "index.md",
        &LinkBase::new("/d", "/a"),
        &Limits::default(),
    );
    println!("first render (loads syntaxes): {:?}", started.elapsed());
    time("typical page", &typical_page(), 200);
    let limit = Limits::default().max_page_bytes;
    let hostile = [
        ("nested quotes", ">".repeat(limit - 10)),
        ("nested lists", "- ".repeat(limit / 2 - 10)),
        ("nested divs", "<div>".repeat(limit / 5 - 10)),
        ("open brackets", "[".repeat(limit - 10)),
        ("emphasis", "*a **a ".repeat(limit / 8)),
        ("nested admonitions", "!!! note\n    ".repeat(limit / 16)),
        (
            "one huge code line",
            format!("```rust\n{}\n```\n", "(".repeat(limit - 100)),
        ),
        (
            "120 KB of Rust, highlighted",
            format!(
                "```rust\n{}```\n",
                "fn main() { let x = vec![1, 2, 3]; println!(\"{x:?}\"); }\n".repeat(120_000 / 56)
            ),
        ),
        (
            "250 KB Rust line (plain)",
            format!("```rust\n{}\n```\n", "(".repeat(250_000)),
        ),
        (
            "120 KB of 999-byte bash lines",
            format!(
                "```bash\n{}```\n",
                format!("echo \"{}\n", "\\\"".repeat(497)).repeat(120)
            ),
        ),
        (
            "120 KB of YAML, highlighted",
            format!(
                "```yaml\n{}```\n",
                "key: [a, {b: c}, 'd']\n".repeat(120_000 / 22)
            ),
        ),
        (
            "2 MiB of prose",
            "Some *prose* with a [link](a.md) and `code`.\n\n".repeat(limit / 50),
        ),
        ("50 MB (refused)", "x".repeat(50 * 1024 * 1024)),
    ];
    for (name, md) in &hostile {
        time(name, md, 1);
    }
}
