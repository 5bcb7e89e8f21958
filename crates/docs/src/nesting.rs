//! A cheap estimate of how deep raw HTML nests, so deep nesting never reaches the sanitizer.
//!
//! html5ever's tree builder checks scopes by walking the stack of open elements, so its cost
//! grows with depth × elements: 40,000 nested `<div>`s (200 KB) take seconds, a 2 MiB page of
//! them minutes. The renderer caps Markdown's own nesting itself; raw HTML is tracked here
//! with a stack of open tag names (void elements, self-closing tags and `p`, which closes by
//! itself, ignored; an end tag closes up to its open element, or nothing), and once it would
//! pass the cap the rest of the page's raw HTML is shown as text.

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose start closes an open one of the same name (`<li><li>`).
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "tbody", "thead",
    "tfoot", "colgroup",
];

#[derive(Debug, Default)]
pub(crate) struct RawDepth {
    open: Vec<String>,
    exceeded: bool,
}

impl RawDepth {
    /// Reads the tags of one raw HTML event; `false` once the nesting would pass `cap` (and
    /// from then on), in which case the event must not be emitted as HTML.
    pub(crate) fn accept(&mut self, html: &str, cap: usize) -> bool {
        if self.exceeded {
            return false;
        }
        let saved = self.open.len();
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            rest = &rest[lt + 1..];
            let (closing, name_start) = match rest.strip_prefix('/') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let name_len = name_start
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(name_start.len());
            if name_len == 0 || !name_start.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            let name = name_start[..name_len].to_ascii_lowercase();
            let end = name_start.find('>');
            let self_closing = end.is_some_and(|e| name_start[..e].ends_with('/'));
            rest = &name_start[name_len..];
            if closing {
                if let Some(at) = self.open.iter().rposition(|n| *n == name) {
                    self.open.truncate(at);
                }
                continue;
            }
            if self_closing || name == "p" || VOID.contains(&name.as_str()) {
                continue;
            }
            if SELF_CLOSING_SIBLINGS.contains(&name.as_str())
                && self.open.last().is_some_and(|top| *top == name)
            {
                self.open.pop();
            }
            self.open.push(name);
            if self.open.len() > cap {
                self.open.truncate(saved);
                self.exceeded = true;
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_estimated() {
        let mut d = RawDepth::default();
        assert!(d.accept("<div><span>x</span></div>", 2));
        assert!(d.accept("<ul><li>a<li>b<li>c</ul><br><img src=x><p><p><p>", 2));
        assert!(d.accept("<div></x></span><div/>", 2));
        assert!(!d.accept("<div><div>", 2), "three open divs");
        assert!(!d.accept("<b>", 2), "once exceeded, always refused");
        let mut d = RawDepth::default();
        assert!(d.accept("<div>", 2));
        assert!(d.accept("</div>", 2));
        assert!(d.accept("<section><div>", 2));
        assert!(!d.accept("<div>", 2));
    }
}
