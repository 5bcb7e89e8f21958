//! SARIF 2.1.0 as GitHub code scanning reads it (see the crate docs for the choices).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pave_policy::rule::References;
use pave_policy::{Finding, ObjectRef, Report, RuleInfo, Status};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::levels::{result_level, rule_level, security_severity};
use crate::paths::{Place, Resolver};
use crate::{INFORMATION_URI, RenderOptions, text};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// GitHub's limits on reportingDescriptor strings.
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1024;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    /// Everything but the results: small, built as values.
    #[serde(flatten)]
    head: Map<String, Value>,
    results: Vec<SarifResult<'a>>,
}

/// The pretty-printed log.
pub(crate) fn render(report: &Report, options: &RenderOptions) -> String {
    // Plain data with string keys: serialisation cannot fail.
    let mut text = serde_json::to_string_pretty(&log(report, options)).unwrap_or_default();
    text.push('\n');
    text
}

pub(crate) fn write(
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(report, options))?;
    out.write_all(b"\n")
}

pub(crate) fn value(report: &Report, options: &RenderOptions) -> Value {
    serde_json::to_value(log(report, options)).unwrap_or(Value::Null)
}

fn log<'a>(report: &'a Report, options: &RenderOptions) -> Log<'a> {
    let resolver = Resolver::new(options);
    let rules = rules(report);
    let index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();

    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut results = Vec::new();
    for f in &report.findings {
        let place = resolver.place(&f.file);
        let (uri, _) = place.sarif_uri();
        let hash = fingerprint(&f.rule, &uri, f.object.as_deref(), &f.message);
        // Counted before any result is left out, so numbers do not depend on the options.
        let n = seen.entry(hash.clone()).or_insert(0);
        *n += 1;
        if f.status == Status::Excepted && options.omit_excepted_from_sarif {
            continue;
        }
        let rule_index = index.get(&*f.rule).copied();
        results.push(result(f, report, &place, rule_index, format!("{hash}:{n}")));
    }

    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut physical = Map::new();
            physical.insert(
                "artifactLocation".into(),
                serde_json::to_value(artifact(&resolver.place(&e.file))).unwrap_or(Value::Null),
            );
            if let Some(line) = e.line {
                let mut region = Map::new();
                region.insert("startLine".into(), json!(line.max(1)));
                if let Some(col) = e.column {
                    region.insert("startColumn".into(), json!(col.max(1)));
                }
                physical.insert("region".into(), Value::Object(region));
            }
            json!({
                "level": "error",
                "message": { "text": non_empty(&e.message, "cannot read this input") },
                "locations": [ { "physicalLocation": physical } ],
            })
        })
        .collect();

    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({
            "driver": {
                "name": "pave",
                "version": options.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules.iter().map(descriptor).collect::<Vec<_>>(),
            }
        }),
    );
    if let Some(id) = options.automation_id.as_deref().filter(|id| !id.is_empty()) {
        run.insert("automationDetails".into(), json!({ "id": id }));
    }
    if let Some(root) = resolver.root_uri() {
        run.insert(
            "originalUriBaseIds".into(),
            json!({ SRCROOT: { "uri": root } }),
        );
    }
    run.insert(
        "invocations".into(),
        json!([{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }]),
    );
    // pave-yaml counts columns in characters.
    run.insert("columnKind".into(), json!("unicodeCodePoints"));

    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run { head: run, results }],
    }
}

/// Every rule that ran, once, plus a bare descriptor for any finding whose rule the report
/// does not describe (so every result has a `ruleIndex`).
fn rules(report: &Report) -> Vec<RuleInfo> {
    let mut rules: Vec<RuleInfo> = Vec::new();
    let mut known: HashSet<&str> = HashSet::new();
    for r in &report.rules {
        if known.insert(&r.id) {
            rules.push(r.clone());
        }
    }
    for f in &report.findings {
        if known.insert(&f.rule) {
            rules.push(RuleInfo {
                id: f.rule.to_string(),
                title: f.title.to_string(),
                severity: f.severity,
                source: "unknown",
                input: Some(f.input.to_string()),
                rationale: String::new(),
                remediation: String::new(),
                references: References::default(),
            });
        }
    }
    rules
}

fn descriptor(rule: &RuleInfo) -> Value {
    let title = non_empty(&rule.title, &rule.id);
    let full = non_empty(&rule.rationale, title);
    let mut tags = vec!["security".to_owned()];
    if let Some(input) = rule.input.as_deref().filter(|i| !i.is_empty()) {
        tags.push(input.to_owned());
    }
    if rule.references.pss.is_some() {
        tags.push("pod-security-standards".to_owned());
    }
    if rule.source != "builtin" {
        tags.push("custom".to_owned());
    }
    // Built-in rules are structural checks of declared configuration; custom policies are
    // whatever their authors wrote.
    let precision = if rule.source == "builtin" {
        "high"
    } else {
        "medium"
    };
    let (help_text, help_markdown) = help(rule, title);
    json!({
        "id": rule.id,
        "name": truncate(&camel_case(&rule.id), MAX_NAME),
        "shortDescription": { "text": truncate(title, MAX_DESCRIPTION) },
        "fullDescription": { "text": truncate(full, MAX_DESCRIPTION) },
        "help": { "text": help_text, "markdown": help_markdown },
        "defaultConfiguration": { "level": rule_level(rule.severity).as_str() },
        "properties": {
            "tags": tags,
            "precision": precision,
            "security-severity": security_severity(rule.severity),
        },
    })
}

fn help(rule: &RuleInfo, title: &str) -> (String, String) {
    let mut text = String::new();
    let mut markdown = String::new();
    let rationale = rule.rationale.trim();
    let remediation = rule.remediation.trim();
    if !rationale.is_empty() {
        text.push_str(rationale);
        markdown.push_str(rationale);
    }
    if !remediation.is_empty() {
        let _ = write!(text, "\n\nFix: {remediation}");
        let _ = write!(markdown, "\n\n**Fix:** {remediation}");
    }
    let refs = text::references(&rule.references);
    if !refs.is_empty() {
        text.push_str("\n\nSame check in other tools:");
        markdown.push_str("\n\n**Same check in other tools**\n");
        for (tool, ids) in refs {
            let _ = write!(text, "\n- {tool}: {}", ids.join(", "));
            let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
            let _ = write!(markdown, "\n- {tool}: {}", ids.join(", "));
        }
    }
    let text = text.trim_start().to_owned();
    let markdown = markdown.trim_start().to_owned();
    if text.is_empty() {
        (title.to_owned(), title.to_owned())
    } else {
        (text, markdown)
    }
}

// One result, serialised straight from these views: building a `Value` map per result costs
// more than everything else in a large report.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: [Location<'a>; 1],
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression; 1]>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: Physical,
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_locations: Option<[Logical<'a>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fingerprints {
    primary_location_line_hash: String,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

fn result<'a>(
    f: &'a Finding,
    report: &Report,
    place: &Place,
    rule_index: Option<usize>,
    fingerprint: String,
) -> SarifResult<'a> {
    let line = f.line.unwrap_or(1).max(1);
    let column = f.column.unwrap_or(1).max(1);
    let mut message = non_empty(&f.message, &f.title).to_owned();
    if let Some(object) = &f.object {
        let _ = write!(message, " ({object})");
    }
    let logical = f.object.as_ref().map(|object| {
        [Logical {
            name: Some(object.name.as_str()).filter(|n| !n.is_empty()),
            fully_qualified_name: object.to_string(),
            kind: "resource",
        }]
    });
    let suppressions = f.exception.as_ref().map(|e| {
        let reason = text::one_line(&e.reason);
        let justification = format!(
            "{}exception {} (owner {}, expires {})",
            if reason.is_empty() {
                String::new()
            } else {
                format!("{reason}; ")
            },
            e.id,
            e.owner,
            e.expires
        );
        [Suppression {
            kind: "external",
            status: "accepted",
            justification,
        }]
    });
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: result_level(f, report.fail_on).as_str(),
        message: Message { text: message },
        locations: [Location {
            physical_location: Physical {
                artifact_location: artifact(place),
                region: Region {
                    start_line: line,
                    start_column: column,
                    end_line: line,
                    end_column: column + 1,
                },
            },
            logical_locations: logical,
        }],
        partial_fingerprints: Fingerprints {
            primary_location_line_hash: fingerprint,
        },
        suppressions,
    }
}

fn artifact(place: &Place) -> Artifact {
    let (uri, relative) = place.sarif_uri();
    Artifact {
        uri,
        uri_base_id: relative.then_some(SRCROOT),
    }
}

/// First 64 bits of SHA-256 over the finding's identity, as 16 hex digits. Fields are
/// NUL-separated so that no two different identities concatenate to the same bytes.
pub(crate) fn fingerprint(
    rule: &str,
    uri: &str,
    object: Option<&ObjectRef>,
    message: &str,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"pave-fingerprint-v1\0");
    for part in [rule, uri] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    match object {
        Some(o) => {
            for part in [
                o.kind.as_str(),
                o.namespace.as_deref().unwrap_or(""),
                o.name.as_str(),
            ] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
        }
        None => hasher.update([0, 0, 0]),
    }
    hasher.update(message.as_bytes());
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(16);
    for b in digest.iter().take(8) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// `pss-run-as-non-root` → `PssRunAsNonRoot`.
fn camel_case(id: &str) -> String {
    let name: String = id
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect();
    if name.is_empty() { id.to_owned() } else { name }
}

fn non_empty<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s }
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_camel_case() {
        assert_eq!(camel_case("pss-run-as-non-root"), "PssRunAsNonRoot");
        assert_eq!(camel_case("deny_latest_tag"), "DenyLatestTag");
        assert_eq!(camel_case("--"), "--");
    }

    #[test]
    fn fingerprints_ignore_position_and_separate_fields() {
        let a = fingerprint("r", "a.yaml", None, "m");
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint("r", "a.yaml", None, "m"));
        assert_ne!(a, fingerprint("r", "a.yam", None, "lm"));
        let pod = |ns: Option<&str>, name: &str| ObjectRef {
            kind: "Pod".into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        };
        assert_ne!(
            fingerprint("r", "a.yaml", Some(&pod(Some("a"), "b")), "m"),
            fingerprint("r", "a.yaml", Some(&pod(None, "ab")), "m")
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("ééé", 3), "ééé");
        assert_eq!(truncate("éééé", 3), "éé…");
    }
}
