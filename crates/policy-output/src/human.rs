//! Text for a terminal.
//!
//! ```text
//! deploy/app.yaml
//!   12:7  FAIL  high    pss-privileged    container "app" is privileged  (Deployment/prod/web)
//!   30:5  EXCP  medium  k8s-cpu-requests  container "app" has no CPU request  (Deployment/prod/web)
//!               excepted by EXC-7 (owner team-a, until 2026-01-31)
//!
//! how to fix
//!   pss-privileged  Set securityContext.privileged to false.
//!
//! 1 file, 2 objects checked: 1 failed, 1 excepted (profile recommended, failing at medium and above)
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pave_policy::{Finding, Report, RuleInfo, Status};

use crate::RenderOptions;
use crate::levels::status_word;
use crate::text::{self, Role};

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }

    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }

    fn role(&self, role: Role, s: &str) -> String {
        match role {
            Role::Fail => self.wrap("1;31", s),
            Role::Warn => self.wrap("33", s),
            Role::Excepted => self.wrap("36", s),
            Role::Ok => self.wrap("32", s),
        }
    }

    fn status(&self, status: Status) -> String {
        let role = match status {
            Status::Failed => Role::Fail,
            Status::Warning => Role::Warn,
            Status::Excepted => Role::Excepted,
        };
        self.role(role, status_word(status))
    }
}

/// Pads `s` to `width` characters (padding after colour codes would count the codes).
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    " ".repeat(width.saturating_sub(n))
}

fn display_file(file: &str) -> String {
    if file == "-" {
        "<stdin>".to_owned()
    } else {
        text::safe(file)
    }
}

fn rule_info<'r>(report: &'r Report, id: &str) -> Option<&'r RuleInfo> {
    report.rules.iter().find(|r| r.id == id)
}

pub(crate) fn render(report: &Report, options: &RenderOptions) -> String {
    let paint = Paint { on: options.color };
    let mut out = String::new();

    // Findings come sorted by file from the engine; group runs of the same file, keeping
    // first-appearance order should a caller hand them in another order.
    let mut files: Vec<(&str, Vec<&Finding>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for f in &report.findings {
        let i = *index.entry(&f.file).or_insert_with(|| {
            files.push((&f.file, Vec::new()));
            files.len() - 1
        });
        if let Some((_, list)) = files.get_mut(i) {
            list.push(f);
        }
    }
    for (file, findings) in &files {
        out.push_str(&paint.bold(&display_file(file)));
        out.push('\n');
        write_findings(&mut out, findings, options, &paint);
        out.push('\n');
    }

    if !report.errors.is_empty() {
        out.push_str(&paint.role(Role::Fail, "input errors"));
        out.push('\n');
        for e in &report.errors {
            let at = text::position(&display_file(&e.file), e.line, e.column);
            let message = text::safe(&e.message);
            let mut lines = message.lines();
            let _ = writeln!(out, "  {at}  {}", lines.next().unwrap_or(""));
            for more in lines {
                let _ = writeln!(out, "    {more}");
            }
        }
        out.push('\n');
    }

    write_hints(&mut out, report, options, &paint);

    let parts: Vec<String> = text::summary_parts(report)
        .into_iter()
        .map(|(t, role)| paint.role(role, &t))
        .collect();
    let _ = writeln!(
        out,
        "{}: {} {}",
        text::summary_head(report),
        parts.join(", "),
        paint.dim(&text::summary_tail(report))
    );
    out
}

fn write_findings(out: &mut String, findings: &[&Finding], options: &RenderOptions, paint: &Paint) {
    let pos = |f: &Finding| match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => l.to_string(),
        _ => "-".to_owned(),
    };
    let pos_w = findings.iter().map(|f| pos(f).len()).max().unwrap_or(1);
    let sev_w = findings
        .iter()
        .map(|f| f.severity.as_str().len())
        .max()
        .unwrap_or(4);
    let rule_w = findings
        .iter()
        .map(|f| f.rule.chars().count())
        .max()
        .unwrap_or(1);
    // Continuation lines (more message lines, exception details) start under the message.
    let indent = " ".repeat(2 + pos_w + 2 + 4 + 2 + sev_w + 2 + rule_w + 2);
    for f in findings {
        let p = pos(f);
        let sev = f.severity.as_str();
        let rule = text::safe(&f.rule);
        let message = text::safe(&f.message);
        let mut lines = message.lines();
        let _ = write!(
            out,
            "  {p}{}  {}  {sev}{}  {}{}  {}",
            pad(&p, pos_w),
            paint.status(f.status),
            pad(sev, sev_w),
            rule,
            pad(&rule, rule_w),
            lines.next().unwrap_or("").trim_end()
        );
        if let Some(object) = &f.object {
            out.push_str("  ");
            out.push_str(&paint.dim(&text::safe(&format!("({object})"))));
        }
        out.push('\n');
        for more in lines {
            let _ = writeln!(out, "{indent}{}", more.trim_end());
        }
        if let Some(e) = &f.exception {
            let line = text::safe(&format!(
                "excepted by {} (owner {}, until {})",
                e.id, e.owner, e.expires
            ));
            let _ = writeln!(out, "{indent}{}", paint.role(Role::Excepted, &line));
            if options.verbose && !e.reason.trim().is_empty() {
                let reason = text::safe(&text::one_line(&e.reason));
                let _ = writeln!(out, "{indent}reason: {reason}");
            }
        }
    }
}

/// Short fixes for failed rules, once per rule; verbose: why, fix and references for every
/// rule with findings.
fn write_hints(out: &mut String, report: &Report, options: &RenderOptions, paint: &Paint) {
    let mut seen = HashSet::new();
    let rules: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| options.verbose || f.status == Status::Failed)
        .map(|f| &*f.rule)
        .filter(|id| seen.insert(*id))
        .collect();
    if options.verbose {
        let mut body = String::new();
        for id in &rules {
            let Some(rule) = rule_info(report, id) else {
                continue;
            };
            let _ = writeln!(
                body,
                "  {}  {} ({})",
                paint.bold(&text::safe(id)),
                text::safe(&rule.title),
                rule.severity
            );
            let why = text::safe(&text::one_line(&rule.rationale));
            if !why.is_empty() {
                let _ = writeln!(body, "    why: {why}");
            }
            let fix = text::safe(&text::one_line(&rule.remediation));
            if !fix.is_empty() {
                let _ = writeln!(body, "    fix: {fix}");
            }
            let refs: Vec<String> = text::references(&rule.references)
                .into_iter()
                .map(|(tool, ids)| format!("{tool} {}", ids.join(", ")))
                .collect();
            if !refs.is_empty() {
                let _ = writeln!(body, "    see: {}", refs.join("; "));
            }
        }
        if !body.is_empty() {
            out.push_str(&paint.bold("rules"));
            out.push('\n');
            out.push_str(&body);
            out.push('\n');
        }
        return;
    }
    let fixes: Vec<(String, String)> = rules
        .iter()
        .filter_map(|id| {
            let rule = rule_info(report, id)?;
            let fix = text::safe(&text::one_line(&rule.remediation));
            (!fix.is_empty()).then_some((text::safe(id), fix))
        })
        .collect();
    if fixes.is_empty() {
        return;
    }
    let w = fixes
        .iter()
        .map(|(id, _)| id.chars().count())
        .max()
        .unwrap_or(0);
    out.push_str(&paint.bold("how to fix"));
    out.push('\n');
    for (id, fix) in fixes {
        let _ = writeln!(out, "  {id}{}  {fix}", pad(&id, w));
    }
    out.push('\n');
}
