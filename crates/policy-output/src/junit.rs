//! JUnit XML as CI systems read it (GitLab, Jenkins, GitHub test reporters). Granularity
//! and mappings are in the crate docs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pave_policy::{Finding, ObjectRef, Report, Status};

use crate::RenderOptions;
use crate::text;

struct Suite<'a> {
    name: &'a str,
    cases: Vec<Case>,
    failures: usize,
    errors: usize,
    skipped: usize,
    /// How often each test-case name was used, to suffix repeats with ` #2`, ` #3`…
    names: HashMap<String, usize>,
}

impl Suite<'_> {
    fn push(&mut self, name: String, line: Option<u32>, outcome: Outcome) {
        let n = self.names.entry(name.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 {
            name
        } else {
            format!("{name} #{n}")
        };
        match outcome {
            Outcome::Failure { .. } => self.failures += 1,
            Outcome::Error { .. } => self.errors += 1,
            Outcome::Skipped { .. } => self.skipped += 1,
            Outcome::Pass | Outcome::Note(_) => {}
        }
        self.cases.push(Case {
            name,
            line,
            outcome,
        });
    }
}

/// One suite per file, in the order files are first seen.
#[derive(Default)]
struct Suites<'a> {
    list: Vec<Suite<'a>>,
    index: HashMap<&'a str, usize>,
}

impl<'a> Suites<'a> {
    fn get(&mut self, file: &'a str) -> &mut Suite<'a> {
        let i = *self.index.entry(file).or_insert_with(|| {
            self.list.push(Suite {
                name: file,
                cases: Vec::new(),
                failures: 0,
                errors: 0,
                skipped: 0,
                names: HashMap::new(),
            });
            self.list.len() - 1
        });
        &mut self.list[i]
    }
}

struct Case {
    name: String,
    line: Option<u32>,
    outcome: Outcome,
}

enum Outcome {
    Pass,
    /// Passing, with a note in `<system-out>`.
    Note(String),
    Failure {
        message: String,
        kind: String,
        body: String,
    },
    Error {
        message: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

pub(crate) fn render<'a>(report: &'a Report, _options: &RenderOptions) -> String {
    let mut suites = Suites::default();
    // Suites in the order files were checked, then files known only from findings/errors.
    for c in &report.checked {
        suites.get(&c.file);
    }

    for f in &report.findings {
        let name = match &f.object {
            Some(o) => format!("{} {o}", f.rule),
            None => f.rule.to_string(),
        };
        suites
            .get(&f.file)
            .push(name, f.line, finding_outcome(f, report));
    }

    // A document with no finding at all passed every rule that ran on it. Documents without
    // an object identity (Dockerfiles, plans) are told apart by input kind.
    let key = |file: &'a str, object: Option<&'a ObjectRef>, input: &'a str| {
        (file, object, if object.is_some() { "" } else { input })
    };
    let with_findings: HashSet<_> = report
        .findings
        .iter()
        .map(|f| key(&f.file, f.object.as_deref(), &f.input))
        .collect();
    for c in &report.checked {
        if !with_findings.contains(&key(&c.file, c.object.as_ref(), &c.input)) {
            let name = match &c.object {
                Some(o) => o.to_string(),
                None => c.input.clone(),
            };
            suites.get(&c.file).push(name, None, Outcome::Pass);
        }
    }

    for e in &report.errors {
        let outcome = Outcome::Error {
            message: text::first_line(&e.message).to_owned(),
            body: format!(
                "{}: error: {}",
                text::position(text::display_file(&e.file), e.line, e.column),
                e.message
            ),
        };
        suites
            .get(&e.file)
            .push("input error".to_owned(), e.line, outcome);
    }

    let suites = suites.list;
    let total = |f: fn(&Suite<'_>) -> usize| suites.iter().map(f).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"pave\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
        total(|s| s.cases.len()),
        total(|s| s.failures),
        total(|s| s.errors),
        total(|s| s.skipped)
    );
    for s in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
            attr(text::display_file(s.name)),
            s.cases.len(),
            s.failures,
            s.errors,
            s.skipped
        );
        for c in &s.cases {
            write_case(&mut out, s.name, c);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn finding_outcome(f: &Finding, report: &Report) -> Outcome {
    let at = text::position(text::display_file(&f.file), f.line, f.column);
    let mut body = format!("{} ({}): {}\nat {at}\n", f.rule, f.severity, f.title);
    if let Some(o) = &f.object {
        let _ = writeln!(body, "object: {o}");
    }
    body.push_str(&f.message);
    match f.status {
        Status::Failed => {
            if let Some(fix) = report
                .rules
                .iter()
                .find(|r| r.id == f.rule)
                .map(|r| text::one_line(&r.remediation))
                .filter(|fix| !fix.is_empty())
            {
                let _ = write!(body, "\nfix: {fix}");
            }
            Outcome::Failure {
                message: text::first_line(&f.message).to_owned(),
                kind: f.severity.to_string(),
                body,
            }
        }
        Status::Warning => Outcome::Note(format!("warning: {body}")),
        Status::Excepted => {
            let message = match &f.exception {
                Some(e) => {
                    let reason = text::one_line(&e.reason);
                    format!(
                        "excepted by {} (owner {}, until {}){}{}: {}",
                        e.id,
                        e.owner,
                        e.expires,
                        if reason.is_empty() { "" } else { ": " },
                        reason,
                        text::first_line(&f.message)
                    )
                }
                None => format!("excepted: {}", text::first_line(&f.message)),
            };
            Outcome::Skipped { message }
        }
    }
}

fn write_case(out: &mut String, file: &str, c: &Case) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\"",
        attr(&c.name),
        attr(text::display_file(file))
    );
    if file != "-" {
        let _ = write!(out, " file=\"{}\"", attr(file));
    }
    if let Some(line) = c.line {
        let _ = write!(out, " line=\"{line}\"");
    }
    out.push_str(" time=\"0\"");
    match &c.outcome {
        Outcome::Pass => out.push_str("/>\n"),
        Outcome::Note(note) => {
            let _ = writeln!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                text_node(note)
            );
        }
        Outcome::Failure {
            message,
            kind,
            body,
        } => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                attr(message),
                attr(kind),
                text_node(body)
            );
        }
        Outcome::Error { message, body } => {
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"input-error\">{}</error>\n    </testcase>",
                attr(message),
                text_node(body)
            );
        }
        Outcome::Skipped { message } => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(message)
            );
        }
    }
}

/// XML 1.0 allows tab, LF, CR and everything from U+0020 except U+FFFE/U+FFFF (and
/// surrogates, which a Rust string cannot hold). Anything else becomes U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        _ => c,
    }
}

/// Escapes an attribute value (double-quoted). Tab, LF and CR are written as character
/// references, since attribute-value normalisation would turn them into spaces.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes character data. `>` is escaped too, so `]]>` cannot appear; CR is a reference so
/// that end-of-line handling keeps it.
fn text_node(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_invalid_characters() {
        assert_eq!(attr("a<b>&\"c\"\n"), "a&lt;b&gt;&amp;&quot;c&quot;&#10;");
        assert_eq!(text_node("]]> & <x>\r"), "]]&gt; &amp; &lt;x&gt;&#13;");
        assert_eq!(
            text_node("bell\u{7}nul\u{0}\u{ffff}"),
            "bell\u{fffd}nul\u{fffd}\u{fffd}"
        );
        assert_eq!(attr("tab\tok é 🚀"), "tab&#9;ok é 🚀");
    }
}
