//! Load errors, and regorus's multi-line diagnostics turned into one-line messages.

use std::path::PathBuf;

/// Why policies or data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegoError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    /// conftest refuses to run without policies, so that a mistyped `--policy` cannot pass.
    #[error("no Rego policies (*.rego) found in {paths}")]
    NoPolicies { paths: String },
    #[error("two policies are named {0}")]
    DuplicatePolicy(String),
    /// A syntax error, or a policy regorus rejects while reading it (too long, …).
    #[error("{location}: {message}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Syntax {
        /// `file:line:col`, or the file when the position is unknown.
        location: String,
        message: String,
        /// E.g. that the policy is Rego v0 and `--rego-version v0` reads it.
        hint: Option<String>,
    },
    /// conftest's check: in Rego v1, `deny[msg] if { … }` makes an object, not a set of
    /// messages, so the rule would never fail.
    #[error(
        "{file}:{line}: rule `{rule}` is using 'if' keyword without 'contains' keyword; write `{rule} contains msg if {{ … }}`"
    )]
    IfWithoutContains {
        file: String,
        line: u32,
        rule: String,
    },
    /// A rule or function that depends on itself, as OPA's compiler reports it.
    #[error("{location}: rego_recursion_error: rule {rule} is recursive: {cycle}")]
    Recursion {
        /// `file:line:col` of the rule's first definition.
        location: String,
        rule: String,
        /// `data.main.f -> data.main.g -> data.main.f`.
        cycle: String,
    },
    /// Rules that depend on each other deeper than pave evaluates safely.
    #[error(
        "{location}: rule {rule} starts a chain of {depth} rules that depend on each other; pave evaluates at most {limit}"
    )]
    TooDeep {
        location: String,
        rule: String,
        depth: usize,
        limit: usize,
    },
    /// The policies parse but do not compile (unsafe variables, conflicting imports, …).
    #[error("{0}")]
    Compile(String),
    #[error("data file {}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    #[error("invalid --namespace pattern {pattern:?}: {message}")]
    NamespacePattern { pattern: String, message: String },
}

/// A regorus error, which looks like `\n--> file:line:col\n  |\n3 | source\n  | ^\nerror: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) location: Option<String>,
    pub(crate) message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Flattens a regorus diagnostic: its first location, then the message. Source excerpts
/// are dropped; further locations (e.g. the rules in a recursion) stay in line.
pub(crate) fn diagnostic(error: &anyhow::Error) -> Diagnostic {
    let text = format!("{error:#}");
    let mut location = None;
    let mut parts: Vec<String> = Vec::new();
    let mut in_message = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_excerpt(trimmed) {
            continue;
        }
        if let Some(loc) = trimmed.strip_prefix("--> ") {
            if location.is_none() && !in_message {
                location = Some(loc.to_owned());
            } else {
                parts.push(loc.to_owned());
            }
            continue;
        }
        if let Some(message) = trimmed.strip_prefix("error: ").filter(|_| !in_message) {
            in_message = true;
            parts.push(message.to_owned());
            continue;
        }
        parts.push(trimmed.to_owned());
    }
    Diagnostic {
        location,
        message: parts.join(" "),
    }
}

/// Excerpt lines: `|`, `3 | deny …`, `  |     ^`.
fn is_excerpt(line: &str) -> bool {
    let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.trim_start().starts_with('|')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_regorus_diagnostics() {
        let e = anyhow::anyhow!(
            "\n--> p.rego:3:11\n  |\n3 | deny[msg] {{\n  |           ^\nerror: `if` keyword is required before rule body"
        );
        let d = diagnostic(&e);
        assert_eq!(d.location.as_deref(), Some("p.rego:3:11"));
        assert_eq!(d.message, "`if` keyword is required before rule body");
        assert_eq!(
            d.to_string(),
            "p.rego:3:11: `if` keyword is required before rule body"
        );

        let e = anyhow::anyhow!(
            "\n--> p.rego:11:1\n   |\n11 | rec := x if {{ x := rec2 }}\n   | ^\nerror: recursion detected when evaluating rule:\n--> p.rego:11:1\n   |\n11 | rec := x if {{ x := rec2 }}\n   | ^\ndepends on: \n--> p.rego:12:1\n   |\n12 | rec2 := x if {{ x := rec }}\n   | ^\ndepends on: cyclic evaluation"
        );
        assert_eq!(
            diagnostic(&e).to_string(),
            "p.rego:11:1: recursion detected when evaluating rule: p.rego:11:1 depends on: p.rego:12:1 depends on: cyclic evaluation"
        );

        let e = anyhow::anyhow!("not a valid rule path");
        assert_eq!(diagnostic(&e).to_string(), "not a valid rule path");
    }
}
