//! Server-side syntax highlighting with syntect: classed `<span>`s (no inline styles, so the
//! sanitizer need not allow `style`) and the stylesheet for those classes.

use std::sync::LazyLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use crate::admonition::escape;

/// Every class syntect writes starts with this, so a theme's rules cannot reach the portal's
/// own markup (`.keyword`, `.string`…) and the page's classes cannot restyle code.
const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Longer lines are not highlighted (their block is shown plain): syntect's cost grows with
/// the square of a line's length (a 250 KB line of escaped quotes in a `bash` fence took 53 s),
/// and minified code is unreadable highlighted or not.
const MAX_LINE_BYTES: usize = 1_000;

/// The bundled syntaxes, decoded once (a few milliseconds) on first use.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

static CSS: LazyLock<String> = LazyLock::new(build_css);

/// The stylesheet for highlighted code: a light theme, and a dark one under
/// `prefers-color-scheme: dark`. Selectors are `.hl-…` classes.
pub fn highlight_css() -> String {
    CSS.clone()
}

fn build_css() -> String {
    let themes = ThemeSet::load_defaults();
    let mut css = String::new();
    if let Some(light) = themes.themes.get("InspiredGitHub")
        && let Ok(rules) = css_for_theme_with_class_style(light, STYLE)
    {
        css.push_str(&rules);
    }
    if let Some(dark) = themes.themes.get("base16-ocean.dark")
        && let Ok(rules) = css_for_theme_with_class_style(dark, STYLE)
    {
        css.push_str("\n@media (prefers-color-scheme: dark) {\n");
        css.push_str(&rules);
        css.push_str("}\n");
    }
    css
}

/// The HTML of a fenced code block: highlighted when `info`'s language is known and `budget`
/// (bytes left to highlight on this page) allows, else escaped plain text. `budget` is
/// reduced by what was highlighted.
pub(crate) fn code_block(info: &str, code: &str, budget: &mut usize) -> String {
    let lang = language(info);
    let class = if lang.is_empty() {
        String::new()
    } else {
        format!(" class=\"language-{}\"", escape(lang))
    };
    let short_lines = code.lines().all(|l| l.len() <= MAX_LINE_BYTES);
    if !lang.is_empty() && code.len() <= *budget && short_lines {
        let syntaxes = &*SYNTAXES;
        let syntax = syntaxes
            .find_syntax_by_token(alias(lang))
            .filter(|s| s.name != "Plain Text");
        if let Some(syntax) = syntax {
            let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes, STYLE);
            let ok = LinesWithEndings::from(code).all(|line| {
                generator
                    .parse_html_for_line_which_includes_newline(line)
                    .is_ok()
            });
            if ok {
                *budget -= code.len();
                return format!(
                    "<pre class=\"highlight hl-code\" tabindex=\"0\"><code{class}>{}</code></pre>\n",
                    generator.finalize()
                );
            }
        }
    }
    format!(
        "<pre tabindex=\"0\"><code{class}>{}</code></pre>\n",
        escape(code)
    )
}

/// The language of an info string: its first word, without the `{.lang …}` braces and dot
/// Python-Markdown's attribute lists allow. Only word characters and `+#.-` are kept, so the
/// name can be a class.
fn language(info: &str) -> &str {
    let first = info.split_whitespace().next().unwrap_or("");
    let first = first.trim_start_matches('{').trim_start_matches('.');
    let end = first
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_+#-".contains(c)))
        .unwrap_or(first.len());
    &first[..end]
}

/// Names MkDocs users write for which syntect's bundled set has another token.
fn alias(lang: &str) -> &str {
    match lang.to_ascii_lowercase().as_str() {
        "shell" | "console" | "zsh" | "shell-session" | "sh-session" => "sh",
        "yml" => "yaml",
        "ts" | "typescript" | "tsx" | "jsx" | "javascript" | "node" => "js",
        "golang" => "go",
        "py" | "python3" => "python",
        "rs" => "rust",
        "dockerfile" | "docker" => "sh",
        "jsonc" | "json5" => "json",
        "hcl" | "terraform" | "tf" | "toml" | "ini" => "ini-like",
        "c++" => "cpp",
        "c#" | "csharp" => "cs",
        _ => lang,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_info_strings() {
        assert_eq!(language("rust"), "rust");
        assert_eq!(language("{.python linenums=\"1\"}"), "python");
        assert_eq!(language("py title=\"x.py\""), "py");
        assert_eq!(language("<script>"), "");
        assert_eq!(language(""), "");
    }

    #[test]
    fn budget_is_spent_and_respected() {
        let mut budget = 20;
        let html = code_block("rust", "fn main() {}\n", &mut budget);
        assert!(html.contains("hl-"), "{html}");
        assert_eq!(budget, 20 - "fn main() {}\n".len());
        let html = code_block("rust", "fn main() { let x = 1; }\n", &mut budget);
        assert!(!html.contains("<span"), "{html}");
    }
}
