//! The JSON report. Its own view of the report, so the field names are this crate's contract
//! (documented in the crate docs) rather than whatever `pave-policy` names its fields.

use pave_policy::{Finding, ObjectRef, Report, RuleInfo, Severity};
use serde::Serialize;
use serde_json::Value;

use crate::levels::status_str;
use crate::{RenderOptions, SCHEMA_VERSION, text};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    profile: &'a str,
    fail_on: Severity,
    exit_code: u8,
    summary: Summary,
    /// Serialized one by one: a report of 800,000 findings is not copied into views first.
    findings: Findings<'a>,
    errors: Vec<JsonError<'a>>,
    rules: Vec<JsonRule<'a>>,
    checked: Vec<JsonChecked<'a>>,
}

struct Findings<'a>(&'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonFinding::of))
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    documents: usize,
    failed: usize,
    warnings: usize,
    excepted: usize,
    errors: usize,
}

#[derive(Serialize)]
struct Object<'a> {
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> Object<'a> {
    fn of(o: Option<&'a ObjectRef>) -> Option<Self> {
        o.map(|o| Object {
            kind: &o.kind,
            namespace: o.namespace.as_deref(),
            name: &o.name,
        })
    }
}

#[derive(Serialize)]
struct Exception<'a> {
    id: &'a str,
    owner: &'a str,
    reason: &'a str,
    expires: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    title: &'a str,
    severity: Severity,
    status: &'static str,
    message: &'a str,
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    object: Option<Object<'a>>,
    input: &'a str,
    exception: Option<Exception<'a>>,
}

impl<'a> JsonFinding<'a> {
    fn of(f: &'a Finding) -> Self {
        JsonFinding {
            rule: &f.rule,
            title: &f.title,
            severity: f.severity,
            status: status_str(f.status),
            message: &f.message,
            file: &f.file,
            line: f.line,
            column: f.column,
            object: Object::of(f.object.as_deref()),
            input: &f.input,
            exception: f.exception.as_ref().map(|e| Exception {
                id: &e.id,
                owner: &e.owner,
                reason: &e.reason,
                expires: &e.expires,
            }),
        }
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct References<'a> {
    pss: Option<&'a str>,
    polaris: Option<&'a str>,
    kube_linter: Option<&'a str>,
    kube_score: Option<&'a str>,
    checkov: &'a [&'a str],
}

#[derive(Serialize)]
struct JsonRule<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    source: &'a str,
    input: Option<&'a str>,
    rationale: &'a str,
    remediation: &'a str,
    references: References<'a>,
}

impl<'a> JsonRule<'a> {
    fn of(r: &'a RuleInfo) -> Self {
        let refs = &r.references;
        JsonRule {
            id: &r.id,
            title: &r.title,
            severity: r.severity,
            source: r.source,
            input: r.input.as_deref(),
            rationale: &r.rationale,
            remediation: &r.remediation,
            references: References {
                pss: refs.pss,
                polaris: refs.polaris,
                kube_linter: refs.kube_linter,
                kube_score: refs.kube_score,
                checkov: refs.checkov,
            },
        }
    }
}

#[derive(Serialize)]
struct JsonChecked<'a> {
    file: &'a str,
    input: &'a str,
    object: Option<Object<'a>>,
}

/// The pretty-printed report, serialised straight from borrowed views (no intermediate
/// `Value`: a report of 100,000 findings would need gigabytes as a tree of maps).
pub(crate) fn render(report: &Report, options: &RenderOptions) -> String {
    let out = view(report, options);
    let mut text = serde_json::to_string_pretty(&out)
        // Plain data with string keys: serialisation cannot fail.
        .unwrap_or_default();
    text.push('\n');
    text
}

pub(crate) fn write(
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &view(report, options))?;
    out.write_all(b"\n")
}

pub(crate) fn value(report: &Report, options: &RenderOptions) -> Value {
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_value(view(report, options)).unwrap_or(Value::Null)
}

fn view<'a>(report: &'a Report, options: &'a RenderOptions) -> Out<'a> {
    let s = report.summary();
    Out {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "pave",
            version: &options.tool_version,
        },
        profile: &report.profile,
        fail_on: report.fail_on,
        exit_code: report.exit_code(),
        summary: Summary {
            files: text::file_count(report),
            documents: s.documents,
            failed: s.failed,
            warnings: s.warnings,
            excepted: s.excepted,
            errors: s.errors,
        },
        findings: Findings(&report.findings),
        errors: report
            .errors
            .iter()
            .map(|e| JsonError {
                file: &e.file,
                line: e.line,
                column: e.column,
                message: &e.message,
            })
            .collect(),
        rules: report.rules.iter().map(JsonRule::of).collect(),
        checked: report
            .checked
            .iter()
            .map(|c| JsonChecked {
                file: &c.file,
                input: &c.input,
                object: Object::of(c.object.as_ref()),
            })
            .collect(),
    }
}
