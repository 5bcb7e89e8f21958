//! A light Rego tokenizer for what regorus's API does not expose: which identifiers could be
//! rule heads (regorus confirms them), conftest's "`if` without `contains`" check, and
//! `# METADATA` annotations (regorus skips comments).

use std::collections::BTreeMap;

use serde_json::Value;

/// Whether `name` is a rule conftest reports as a failure: `^(deny|violation)(_[a-zA-Z0-9]+)*$`.
pub(crate) fn is_failure(name: &str) -> bool {
    matches_rule(name, &["deny", "violation"])
}

/// Whether `name` is a rule conftest reports as a warning: `^warn(_[a-zA-Z0-9]+)*$`.
pub(crate) fn is_warning(name: &str) -> bool {
    matches_rule(name, &["warn"])
}

fn matches_rule(name: &str, heads: &[&str]) -> bool {
    let mut parts = name.split('_');
    parts.next().is_some_and(|head| heads.contains(&head))
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The name `exception` rules use for a rule: conftest strips one `violation_`, then one
/// `deny_`, then one `warn_` prefix, and bare `deny`/`violation`/`warn` become `""`.
pub(crate) fn exception_name(rule: &str) -> &str {
    if matches!(rule, "deny" | "violation" | "warn") {
        return "";
    }
    let rule = rule.strip_prefix("violation_").unwrap_or(rule);
    let rule = rule.strip_prefix("deny_").unwrap_or(rule);
    rule.strip_prefix("warn_").unwrap_or(rule)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Open(char),
    Close(char),
    Other,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: u32,
    /// Nesting of `(`, `[`, `{` before this token.
    depth: u32,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1u32;
    let mut depth = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        // An unterminated string: regorus reports it; stop at the line's end.
                        '\n' => {
                            line += 1;
                            break;
                        }
                        _ => {}
                    }
                }
                out.push(Token {
                    tok: Tok::Other,
                    line,
                    depth,
                });
            }
            '`' => {
                for c in chars.by_ref() {
                    match c {
                        '`' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
                out.push(Token {
                    tok: Tok::Other,
                    line,
                    depth,
                });
            }
            '(' | '[' | '{' => {
                out.push(Token {
                    tok: Tok::Open(c),
                    line,
                    depth,
                });
                depth = depth.saturating_add(1);
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                out.push(Token {
                    tok: Tok::Close(c),
                    line,
                    depth,
                });
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut ident = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        ident.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token {
                    tok: Tok::Ident(ident),
                    line,
                    depth,
                });
            }
            c if c.is_whitespace() => {}
            _ => {
                // Digits and operators; identifiers never start with a digit, so a number's
                // alphanumeric tail must not be read as one.
                if c.is_ascii_digit() {
                    while chars
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
                    {
                        chars.next();
                    }
                }
                out.push(Token {
                    tok: Tok::Other,
                    line,
                    depth,
                });
            }
        }
    }
    out
}

/// What the scanner found in one policy file.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Identifiers at the top level that could name a conftest rule (`deny…`, `violation…`,
    /// `warn…`, `exception`), in order of first appearance. Only candidates: the engine
    /// confirms which are declared rules.
    pub(crate) candidates: Vec<String>,
    /// `deny[msg] if { … }` heads (rule name, line): in Rego v1 these define an object of
    /// `msg: true`, which conftest refuses to load.
    pub(crate) bracket_if: Vec<(String, u32)>,
    /// `# METADATA` annotations of the rule that follows them, by rule name (first wins).
    pub(crate) annotations: BTreeMap<String, Annotation>,
    /// The package's annotation (`scope: package`, or placed before `package`).
    pub(crate) package_annotation: Option<Annotation>,
    /// Whether the policy mentions `conftest` (it may read `data.conftest.file`).
    pub(crate) mentions_conftest: bool,
    /// The first use of each of the `if` and `contains` keywords in rule heads, with its
    /// line: Rego v0 reads them as keywords only once imported.
    pub(crate) v1_keywords: Vec<(String, u32)>,
    /// Keywords imported with `import future.keywords.<kw>`; `*` for `import
    /// future.keywords` and `import rego.v1`.
    pub(crate) imported_keywords: Vec<String>,
}

impl Scan {
    /// The first `if`/`contains` used without its import (which Rego v0 needs).
    pub(crate) fn unimported_keyword(&self) -> Option<&(String, u32)> {
        if self.imported_keywords.iter().any(|k| k == "*") {
            return None;
        }
        self.v1_keywords
            .iter()
            .find(|(k, _)| !self.imported_keywords.contains(k))
    }
}

/// The parts of an OPA METADATA annotation reports use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Annotation {
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    /// `custom.remediation`, if any.
    pub(crate) remediation: Option<String>,
}

pub(crate) fn scan(text: &str) -> Scan {
    let tokens = tokenize(text);
    let mut scan = Scan::default();
    let mut last_line = 0;
    let mut import_line = false;
    for (i, t) in tokens.iter().enumerate() {
        let line_start = t.line != last_line;
        last_line = t.line;
        if line_start {
            import_line = t.tok == Tok::Ident("import".into());
        }
        let Tok::Ident(name) = &t.tok else { continue };
        let next = tokens.get(i + 1).map(|n| &n.tok);
        if name == "conftest" {
            scan.mentions_conftest = true;
        }
        if t.depth != 0 {
            continue;
        }
        if name == "import" && line_start {
            let path: Vec<&str> = tokens[i + 1..]
                .iter()
                .take_while(|n| n.line == t.line)
                .filter_map(|n| match &n.tok {
                    Tok::Ident(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            match path[..] {
                ["future", "keywords"] | ["rego", "v1", ..] => {
                    scan.imported_keywords.push("*".into());
                }
                ["future", "keywords", keyword, ..] => {
                    scan.imported_keywords.push(keyword.to_owned());
                }
                _ => {}
            }
        }
        // At the top level `if` only appears in rule heads; `contains(` is the builtin.
        if (name == "if" || (name == "contains" && next != Some(&Tok::Open('('))))
            && !import_line
            && !scan.v1_keywords.iter().any(|(k, _)| k == name)
        {
            scan.v1_keywords.push((name.clone(), t.line));
        }
        let rule = is_failure(name) || is_warning(name);
        if (rule || name == "exception") && !scan.candidates.contains(name) {
            scan.candidates.push(name.clone());
        }
        if rule
            && line_start
            && tokens.get(i + 1).is_some_and(|n| n.tok == Tok::Open('['))
            && let Some(close) = tokens[i + 1..]
                .iter()
                .position(|n| n.depth == 0 && n.tok == Tok::Close(']'))
            && tokens
                .get(i + 1 + close + 1)
                .is_some_and(|n| n.tok == Tok::Ident("if".into()))
        {
            scan.bracket_if.push((name.clone(), t.line));
        }
    }
    annotations(text, &mut scan);
    scan
}

/// Reads `# METADATA` blocks: the comment lines after the marker are YAML; the first
/// non-comment line says what they describe.
fn annotations(text: &str, scan: &mut Scan) {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() != "# METADATA" {
            continue;
        }
        let mut yaml = String::new();
        while let Some(next) = lines.peek() {
            let Some(comment) = next.trim_start().strip_prefix('#') else {
                break;
            };
            yaml.push_str(comment.strip_prefix(' ').unwrap_or(comment));
            yaml.push('\n');
            lines.next();
        }
        let Ok(docs) = pave_yaml::parse_documents(&yaml, &pave_yaml::Limits::default()) else {
            continue;
        };
        let Some(value) = docs.into_iter().next().map(|d| d.value) else {
            continue;
        };
        let text_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let annotation = Annotation {
            title: text_of(value.get("title")),
            description: text_of(value.get("description")),
            remediation: text_of(value.get("custom").and_then(|c| c.get("remediation"))),
        };
        let scope = value.get("scope").and_then(Value::as_str);
        let next = lines.peek().map(|l| l.trim_start()).unwrap_or("");
        let ident: String = next
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if scope == Some("package") || scope == Some("subpackages") || ident == "package" {
            scan.package_annotation.get_or_insert(annotation);
        } else if !ident.is_empty() {
            scan.annotations.entry(ident).or_insert(annotation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_follow_conftest_patterns() {
        for name in [
            "deny",
            "deny_x",
            "deny_run_as_root",
            "violation_a1",
            "warn",
            "warn_B2",
        ] {
            assert!(is_failure(name) || is_warning(name), "{name}");
        }
        for name in [
            "denyx",
            "deny_",
            "deny__x",
            "deny-x",
            "warning",
            "_deny",
            "exception",
        ] {
            assert!(!is_failure(name) && !is_warning(name), "{name}");
        }
        assert!(is_warning("warn_x") && !is_failure("warn_x"));
    }

    #[test]
    fn exception_names_strip_prefixes_like_conftest() {
        assert_eq!(exception_name("deny"), "");
        assert_eq!(exception_name("violation"), "");
        assert_eq!(exception_name("warn"), "");
        assert_eq!(exception_name("deny_run_as_root"), "run_as_root");
        assert_eq!(exception_name("violation_run_as_root"), "run_as_root");
        assert_eq!(exception_name("warn_labels"), "labels");
        // Prefixes are stripped in a fixed order, once each.
        assert_eq!(exception_name("violation_deny_x"), "x");
        assert_eq!(exception_name("deny_violation_x"), "violation_x");
    }

    #[test]
    fn candidates_skip_strings_comments_and_bodies() {
        let s = scan(
            "package main\n# deny_in_comment\nx := \"deny_in_string\"\ndeny contains msg if {\n  warn_inside := 1\n  msg := `raw\ndeny_raw`\n}\nwarn_a contains 1 if { true }\nexception contains r if { r := [\"\"] }\n",
        );
        assert_eq!(s.candidates, ["deny", "warn_a", "exception"]);
        assert!(s.bracket_if.is_empty());
        assert!(!s.mentions_conftest);
        assert_eq!(s.unimported_keyword(), Some(&("contains".to_owned(), 4)));
        let s = scan(
            "package main\nimport future.keywords.if\nx := contains(\"a\", \"b\")\ny if true\n",
        );
        assert_eq!(s.unimported_keyword(), None);
        let s = scan("package main\nimport future.keywords.if\ndeny contains 1 if true\n");
        assert_eq!(s.unimported_keyword(), Some(&("contains".to_owned(), 3)));
        let s = scan("package main\nimport rego.v1\ndeny contains 1 if true\n");
        assert_eq!(s.unimported_keyword(), None);
    }

    #[test]
    fn finds_bracket_heads_with_if() {
        let s = scan(
            "package main\n\ndeny[msg] if {\n  msg := \"a]\"\n}\nwarn[m] {\n m := 1\n}\ndeny contains m if { m := \"x\" }\n",
        );
        assert_eq!(s.bracket_if, [("deny".to_owned(), 3)]);
    }

    #[test]
    fn reads_metadata_annotations() {
        let s = scan(
            "# METADATA\n# title: Main policies\npackage main\n\n# METADATA\n# title: No root\n# description: |\n#   Containers must\n#   not run as root.\n# custom:\n#   remediation: Set runAsNonRoot.\ndeny_root contains msg if { msg := \"x\" }\nz := data.conftest.file.name\n",
        );
        assert_eq!(
            s.package_annotation.and_then(|a| a.title).as_deref(),
            Some("Main policies")
        );
        let a = &s.annotations["deny_root"];
        assert_eq!(a.title.as_deref(), Some("No root"));
        assert_eq!(
            a.description.as_deref(),
            Some("Containers must\nnot run as root.\n")
        );
        assert_eq!(a.remediation.as_deref(), Some("Set runAsNonRoot."));
        assert!(s.mentions_conftest);
    }
}
