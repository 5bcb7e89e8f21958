//! MkDocs admonitions (Python-Markdown's `admonition`, `pymdownx.details`) as a line-based
//! rewrite before CommonMark parsing.
//!
//! ```text
//! !!! note "Title"             <div class="admonition note">
//!     body, indented 4   ──►   <p class="admonition-title">Title</p>
//!                              (blank line: the HTML block ends, the body is Markdown again)
//!                              body, dedented
//!                              </div>
//! ```
//!
//! `??? type "title"` becomes `<details class="type"><summary>title</summary>…</details>`,
//! `???+` the same with `open`. The body is rewritten recursively (admonitions nest) and
//! stays part of the one document, so reference links and footnotes defined anywhere work in
//! it, and its headings get anchors like any other. Lines inside fenced code blocks are never
//! read as admonitions. The output keeps, for every line, the source line it came from, so
//! warnings still name the author's line numbers.

/// How deep admonitions may nest; deeper markers are left as text.
const MAX_NESTING: usize = 16;

/// The rewritten text and, for each of its lines, the 1-based source line.
pub(crate) struct Expanded {
    pub(crate) text: String,
    /// Byte offset where each output line starts, and its source line.
    lines: Vec<(usize, u32)>,
}

impl Expanded {
    /// The source line of byte `offset` of the rewritten text.
    pub(crate) fn source_line(&self, offset: usize) -> u32 {
        let i = self.lines.partition_point(|(start, _)| *start <= offset);
        self.lines
            .get(i.saturating_sub(1))
            .map_or(1, |(_, line)| *line)
    }

    fn push(&mut self, text: &str, source_line: u32) {
        self.lines.push((self.text.len(), source_line));
        self.text.push_str(text);
        if !text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

/// Rewrites every admonition of `markdown`.
pub(crate) fn expand(markdown: &str) -> Expanded {
    let lines: Vec<(u32, &str)> = markdown
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
        .collect();
    let mut out = Expanded {
        text: String::with_capacity(markdown.len() + markdown.len() / 16),
        lines: Vec::with_capacity(lines.len()),
    };
    // Fast path: no admonition marker at all, nothing to rewrite.
    if !markdown.contains("!!!") && !markdown.contains("???") {
        for (n, line) in lines {
            out.push(line, n);
        }
        return out;
    }
    expand_block(&lines, &mut out, 0);
    out
}

/// An open fence: its character and length.
type Fence = (u8, usize);

fn expand_block(lines: &[(u32, &str)], out: &mut Expanded, depth: usize) {
    let mut fence: Option<Fence> = None;
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = lines[i];
        if let Some(open) = fence {
            if closes(open, line) {
                fence = None;
            }
            out.push(line, n);
            i += 1;
            continue;
        }
        if let Some(open) = opens_fence(line) {
            fence = Some(open);
            out.push(line, n);
            i += 1;
            continue;
        }
        let head = if depth < MAX_NESTING {
            parse_head(line)
        } else {
            None
        };
        let Some(head) = head else {
            out.push(line, n);
            i += 1;
            continue;
        };
        // The body: following lines indented by 4 spaces or a tab, blank lines between them
        // included, blank lines after the last one not.
        let mut last = i;
        let mut j = i + 1;
        while j < lines.len() {
            let l = lines[j].1;
            if is_blank(l) {
                j += 1;
            } else if dedent(l).is_some() {
                last = j;
                j += 1;
            } else {
                break;
            }
        }
        let body: Vec<(u32, &str)> = lines[i + 1..=last]
            .iter()
            .map(|(n, l)| (*n, dedent(l).unwrap_or("\n")))
            .collect();
        out.push("\n", n);
        out.push(&head.open_html(), n);
        out.push("\n", n);
        expand_block(&body, out, depth + 1);
        let end = lines[last].0;
        out.push("\n", end);
        out.push(head.close_html(), end);
        out.push("\n", end);
        i = last + 1;
    }
    // A fence the author left open would otherwise run past the closing tag into the rest of
    // the page; close it where its block ends.
    if let (Some((c, len)), Some((n, _))) = (fence, lines.last())
        && depth > 0
    {
        out.push(&format!("{}\n", char::from(c).to_string().repeat(len)), *n);
    }
}

struct Head {
    collapsible: bool,
    open: bool,
    classes: Vec<String>,
    /// `None`: no title element at all (`!!! note ""`).
    title: Option<String>,
}

impl Head {
    fn open_html(&self) -> String {
        let classes = self.classes.join(" ");
        let title = self.title.as_deref().map(escape);
        if self.collapsible {
            let open = if self.open { " open" } else { "" };
            let summary = title.map_or(String::new(), |t| format!("<summary>{t}</summary>"));
            format!("<details class=\"{}\"{open}>{summary}\n", escape(&classes))
        } else {
            let title = title.map_or(String::new(), |t| {
                format!("<p class=\"admonition-title\">{t}</p>")
            });
            format!("<div class=\"admonition {}\">{title}\n", escape(&classes))
        }
    }

    fn close_html(&self) -> &'static str {
        if self.collapsible {
            "</details>\n"
        } else {
            "</div>\n"
        }
    }
}

/// Python-Markdown's `^!!! ?([\w\-]+(?: +[\w\-]+)*)(?: +"(.*?)")? *$` (and `???`, `???+`).
fn parse_head(line: &str) -> Option<Head> {
    let line = line.trim_end_matches(['\n', '\r']);
    let (collapsible, open, rest) = if let Some(rest) = line.strip_prefix("???+") {
        (true, true, rest)
    } else if let Some(rest) = line.strip_prefix("???") {
        (true, false, rest)
    } else if let Some(rest) = line.strip_prefix("!!!") {
        (false, false, rest)
    } else {
        return None;
    };
    let rest = rest.strip_prefix(' ').unwrap_or(rest).trim_end_matches(' ');
    let (types, title) = match rest.find('"') {
        Some(q) => {
            let quoted = &rest[q..];
            if quoted.len() < 2 || !quoted.ends_with('"') || !rest[..q].ends_with(' ') {
                return None;
            }
            (&rest[..q], Some(&quoted[1..quoted.len() - 1]))
        }
        None => (rest, None),
    };
    let classes: Vec<String> = types
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    let word = |t: &String| {
        t.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    if classes.is_empty() || !classes.iter().all(word) {
        return None;
    }
    let title = match title {
        None => Some(capitalize(&classes[0])),
        Some("") => None,
        Some(t) => Some(t.to_owned()),
    };
    Some(Head {
        collapsible,
        open,
        classes,
        title,
    })
}

/// Python's `str.capitalize`: first character upper case, the rest lower case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// `line` without one level of indentation (4 spaces or a tab), or `None` if it has less.
fn dedent(line: &str) -> Option<&str> {
    line.strip_prefix("    ")
        .or_else(|| line.strip_prefix('\t'))
}

/// A fence opening line: up to 3 spaces, then 3 or more backticks or tildes.
fn opens_fence(line: &str) -> Option<Fence> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = *rest.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|b| *b == c).count();
    // A backtick fence's info string may not contain backticks (CommonMark).
    if len < 3 || (c == b'`' && rest[len..].contains('`')) {
        return None;
    }
    Some((c, len))
}

fn closes((c, len): Fence, line: &str) -> bool {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return false;
    }
    let run = trimmed.bytes().take_while(|b| *b == c).count();
    run >= len && trimmed[run..].trim().is_empty()
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let h = parse_head("!!! note \"Read me\"\n").unwrap();
        assert_eq!(
            (h.classes, h.title),
            (vec!["note".to_owned()], Some("Read me".to_owned()))
        );
        let h = parse_head("!!! Danger highlight").unwrap();
        assert_eq!(h.classes, ["danger", "highlight"]);
        assert_eq!(h.title.as_deref(), Some("Danger"));
        assert_eq!(parse_head("!!! tip \"\"").unwrap().title, None);
        let h = parse_head("???+ warning").unwrap();
        assert!(h.collapsible && h.open);
        assert!(parse_head("!!!").is_none());
        assert!(parse_head("!!! not/a/type").is_none());
        assert!(parse_head("!!! note \"unterminated").is_none());
        assert!(parse_head("Wow!!! note").is_none());
    }

    #[test]
    fn line_numbers_survive_the_rewrite() {
        let src = "# T\n\n!!! note\n    body\n\nafter\n";
        let e = expand(src);
        let at = e.text.find("after").unwrap();
        assert_eq!(e.source_line(at), 6);
        let at = e.text.find("body").unwrap();
        assert_eq!(e.source_line(at), 4);
    }

    #[test]
    fn markers_in_code_are_left_alone() {
        let src = "```\n!!! note\n    x\n```\n";
        assert_eq!(expand(src).text, src);
    }
}
