//! Prints the rendering of a Markdown file (or stdin): `cargo run -p pave-docs --example peek -- file.md [path/in/docs.md]`.
#![allow(clippy::print_stdout)]

use std::io::Read;

fn main() -> std::io::Result<()> {
    let mut text = String::new();
    let page = match std::env::args().nth(1) {
        Some(path) => {
            text = std::fs::read_to_string(&path)?;
            std::env::args()
                .nth(2)
                .unwrap_or_else(|| "index.md".to_owned())
        }
        None => {
            std::io::stdin().read_to_string(&mut text)?;
            "index.md".to_owned()
        }
    };
    let links = pave_docs::LinkBase::new("/docs", "/docs-assets");
    let r = pave_docs::render_page(&text, &page, &links, &pave_docs::Limits::default());
    println!("{}", r.html);
    println!(
        "title: {:?}\ntoc: {:?}\nwarnings: {:#?}",
        r.title, r.toc, r.warnings
    );
    Ok(())
}
