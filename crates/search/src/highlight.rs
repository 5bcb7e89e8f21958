//! Snippets: the part of a text where the query's words are, with those words marked.
//!
//! Our own rather than tantivy's `SnippetGenerator`: that one highlights only the terms a
//! query names exactly, and most of what people type reaches a document through a fuzzy
//! or prefix term. This one marks what the query matched the same three ways.

use tantivy::tokenizer::TextAnalyzer;

use crate::query::{fuzzy_distance, within_edits};

/// A piece of a snippet: text, marked or not. The caller escapes it for its output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fragment {
    pub text: String,
    pub marked: bool,
}

/// Which query words a text word matches.
pub(crate) struct Matcher<'a> {
    pub terms: &'a [String],
    /// The last term also matches as a prefix (type-ahead).
    pub prefix_last: bool,
}

impl Matcher<'_> {
    pub(crate) fn matches(&self, word: &str) -> bool {
        self.terms.iter().enumerate().any(|(i, t)| {
            if word == t
                || (self.prefix_last && i + 1 == self.terms.len() && word.starts_with(t.as_str()))
            {
                return true;
            }
            // Most words differ in length by more than a typo: skip them before the edit
            // distance (a character is at most 4 bytes).
            let d = fuzzy_distance(t);
            d > 0 && word.len().abs_diff(t.len()) <= 4 * usize::from(d) && within_edits(t, word, d)
        })
    }
}

/// At most `width` bytes of `text` around its first cluster of matched words, matched words
/// marked; `…` where text was cut. With no match: the text's start.
pub(crate) fn snippet(
    analyzer: &mut TextAnalyzer,
    matcher: &Matcher<'_>,
    text: &str,
    width: usize,
) -> Vec<Fragment> {
    // Matched byte ranges, in order; the analyzer gives each token's offsets in `text`.
    let mut marks: Vec<(usize, usize)> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        // Past the window that starts at the first match, nothing more can be shown.
        if marks
            .first()
            .is_some_and(|(from, _)| token.offset_from > from.saturating_add(width))
        {
            break;
        }
        if matcher.matches(&token.text) {
            marks.push((token.offset_from, token.offset_to));
            if marks.len() >= 64 {
                break;
            }
        }
    }
    // The window starting a little before the first match, so it reads as a sentence.
    let start = marks.first().map_or(0, |(from, _)| {
        let back = ceil_char_boundary(text, from.saturating_sub(width / 4)).min(*from);
        if back == 0 {
            return 0;
        }
        // Start at a word, not inside one.
        text[back..*from]
            .find(char::is_whitespace)
            .map_or(back, |i| back + i + 1)
    });
    let end = crate::doc::floor_char_boundary(text, start.saturating_add(width));
    let mut out = Vec::new();
    if start > 0 {
        out.push(Fragment {
            text: "…".to_owned(),
            marked: false,
        });
    }
    let mut at = start;
    for (from, to) in marks {
        if from < at || to > end {
            continue;
        }
        if from > at {
            out.push(plain(&text[at..from]));
        }
        out.push(Fragment {
            text: text[from..to].to_owned(),
            marked: true,
        });
        at = to;
    }
    if end > at {
        out.push(plain(&text[at..end]));
    }
    if end < text.len() {
        out.push(Fragment {
            text: "…".to_owned(),
            marked: false,
        });
    }
    out
}

/// Unmarked text, its runs of white space (Markdown's line breaks) as one space, so a
/// snippet reads as one line.
fn plain(s: &str) -> Fragment {
    let mut text = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                text.push(' ');
            }
            space = true;
        } else {
            text.push(c);
            space = false;
        }
    }
    Fragment {
        text,
        marked: false,
    }
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

/// Fragments as one string with `pre`/`post` around marked parts (Backstage's
/// `highlight.fields` shape).
pub fn tagged(fragments: &[Fragment], pre: &str, post: &str) -> String {
    let mut s = String::new();
    for f in fragments {
        if f.marked {
            s.push_str(pre);
            s.push_str(&f.text);
            s.push_str(post);
        } else {
            s.push_str(&f.text);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(terms: &[&str], prefix: bool, text: &str, width: usize) -> String {
        let terms: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
        let m = Matcher {
            terms: &terms,
            prefix_last: prefix,
        };
        tagged(
            &snippet(&mut crate::schema::analyzer(), &m, text, width),
            "[",
            "]",
        )
    }

    #[test]
    fn marks_exact_fuzzy_and_prefix() {
        assert_eq!(
            run(
                &["payments", "ka"],
                true,
                "Handles Payments via Kafka.",
                100
            ),
            "Handles [Payments] via [Kafka]."
        );
        assert_eq!(
            run(&["paymnts"], false, "the payments service", 100),
            "the [payments] service"
        );
        assert_eq!(run(&["zzz"], false, "no match here", 100), "no match here");
    }

    #[test]
    fn windows_long_text_at_the_match() {
        let text = format!("{} needle {}", "word ".repeat(200), "tail ".repeat(200));
        let s = run(&["needle"], false, &text, 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("[needle]"), "{s}");
        assert!(s.len() < 100, "{s}");
        // Multi-byte text is cut at character boundaries.
        let s = run(&["ü"], false, &"ü".repeat(500), 33);
        assert!(s.len() < 120);
    }
}
