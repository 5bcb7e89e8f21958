//! The JSON report read back (`StoredReport`): what `pave check --format json` writes parses
//! to what `--publish` sends, the stored form reads back to itself, large reports keep their
//! most important findings and count the rest, and every way a report can be wrong is a
//! clear error naming where.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TRICKY_FILE, TRICKY_MESSAGE, clean_report, finding, object, options, report};
use pave_policy::{Severity, Status};
use pave_policy_output::{MAX_KEPT_FINDINGS, MAX_REPORT_BYTES, ReportError, StoredReport, json};
use serde_json::{Value, json};

fn parse(text: &str) -> StoredReport {
    StoredReport::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_json_report_parses_back_to_its_findings() {
    let report = report();
    let stored = parse(&json(&report, &options()));
    assert_eq!(stored, StoredReport::from_report(&report, &options()));
    assert_eq!(stored.schema_version, 1);
    assert_eq!(stored.tool.version, "0.1.0-test");
    assert_eq!(
        (stored.profile.as_str(), stored.fail_on),
        ("recommended", Severity::Medium)
    );
    assert_eq!(stored.exit_code, 2);
    let s = report.summary();
    assert_eq!(
        (
            stored.summary.failed,
            stored.summary.warnings,
            stored.summary.excepted
        ),
        (s.failed as u64, s.warnings as u64, s.excepted as u64)
    );
    assert_eq!(stored.summary.errors, 2);
    assert_eq!(stored.summary.documents, 7);
    assert_eq!(stored.summary.files, 8);
    // Every finding, field by field, in report order.
    assert_eq!(stored.findings.len(), report.findings.len());
    for (got, want) in stored.findings.iter().zip(&report.findings) {
        assert_eq!(got.rule, want.rule);
        assert_eq!(got.title, want.title);
        assert_eq!((got.severity, got.status), (want.severity, want.status));
        assert_eq!(got.message, want.message);
        assert_eq!(got.file, &*want.file);
        assert_eq!((got.line, got.column), (want.line, want.column));
        assert_eq!(got.input, want.input);
        assert_eq!(
            got.object.as_ref().map(ToString::to_string),
            want.object.as_ref().map(ToString::to_string)
        );
        assert_eq!(
            got.exception
                .as_ref()
                .map(|e| (&e.id, &e.owner, &e.reason, &e.expires)),
            want.exception
                .as_ref()
                .map(|e| (&e.id, &e.owner, &e.reason, &e.expires))
        );
    }
    let tricky = stored
        .findings
        .iter()
        .find(|f| f.message == TRICKY_MESSAGE)
        .unwrap();
    assert_eq!(tricky.file, TRICKY_FILE);
    let excepted = stored
        .findings
        .iter()
        .find(|f| f.status == Status::Excepted)
        .unwrap();
    assert_eq!(excepted.exception.as_ref().unwrap().id, "EXC-7");
    assert_eq!(stored.errors.len(), 2);
    assert_eq!(stored.errors[0].line, Some(3));
    // The rules the findings name are kept (with how to fix them); the others counted. A
    // finding of a rule the report does not describe keeps its title.
    let ids: Vec<&str> = stored.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pss-privileged",
            "pss-capabilities",
            "k8s-cpu-requests",
            "docker-root-user"
        ]
    );
    assert_eq!(
        stored.omitted.rules, 1,
        "pss-host-path ran without findings"
    );
    assert!(
        stored
            .rule("docker-root-user")
            .unwrap()
            .remediation
            .contains("USER")
    );
    assert!(stored.rule("deny_latest_tag").is_none());
    assert!(!stored.passed());
}

#[test]
fn the_stored_form_reads_back_to_itself() {
    for report in [report(), clean_report()] {
        let stored = StoredReport::from_report(&report, &options());
        let text = stored.to_json();
        assert!(
            !text.contains("\"checked\""),
            "documents are counted, not listed"
        );
        assert_eq!(parse(&text), stored);
        assert_eq!(parse(&parse(&text).to_json()), stored);
    }
    let clean = StoredReport::from_report(&clean_report(), &options());
    assert!(clean.passed());
    assert_eq!(clean.exit_code, 0);
    assert!(clean.findings.is_empty() && clean.rules.is_empty());
    assert_eq!(clean.omitted.rules, 5);
}

/// 10,000 warnings, then 2,000 failed findings: every failed one is kept, then the first
/// warnings; the summary still counts them all, and the stored form reads back the same.
#[test]
fn a_large_report_keeps_its_most_important_findings() {
    let mut big = clean_report();
    for i in 0..12_000u32 {
        let (status, severity) = if i < 10_000 {
            (Status::Warning, Severity::Low)
        } else {
            (Status::Failed, Severity::High)
        };
        big.findings.push(finding(
            "k8s-cpu-requests",
            "CPU requests",
            severity,
            status,
            &format!("finding {i}"),
            "deploy/app.yaml",
            Some((i + 1, 3)),
            object("Deployment", Some("prod"), "web"),
            "kubernetes",
        ));
    }
    let text = json(&big, &options());
    assert!(text.len() > 4_000_000, "{} bytes", text.len());
    let stored = parse(&text);
    assert_eq!(stored.findings.len(), MAX_KEPT_FINDINGS);
    assert_eq!(stored.omitted.findings, 7_000);
    assert_eq!(
        (stored.summary.failed, stored.summary.warnings),
        (2_000, 10_000)
    );
    let failed = stored
        .findings
        .iter()
        .filter(|f| f.status == Status::Failed)
        .count();
    assert_eq!(failed, 2_000);
    assert_eq!(stored.findings[0].message, "finding 0");
    assert_eq!(stored.findings[2_999].message, "finding 2999");
    assert_eq!(stored.findings[3_000].message, "finding 10000");
    assert_eq!(stored, StoredReport::from_report(&big, &options()));
    let again = stored.to_json();
    assert!(again.len() < text.len() / 2, "{} bytes stored", again.len());
    assert_eq!(parse(&again), stored);
}

#[test]
fn long_strings_are_cut_once() {
    let mut r = clean_report();
    r.findings.push(finding(
        "k8s-cpu-requests",
        &"T".repeat(10_000),
        Severity::Low,
        Status::Warning,
        &"é".repeat(50_000),
        "a.yaml",
        None,
        None,
        "kubernetes",
    ));
    let stored = parse(&json(&r, &options()));
    let f = &stored.findings[0];
    assert_eq!(f.message.chars().count(), 2_000);
    assert!(f.message.ends_with('…'));
    assert_eq!(f.title.chars().count(), 500);
    assert_eq!(parse(&stored.to_json()), stored);
}

/// The JSON report as a value, to break in one place.
fn value() -> Value {
    serde_json::from_str(&json(&report(), &options())).unwrap()
}

fn error_of(v: &Value) -> ReportError {
    StoredReport::parse(&v.to_string()).unwrap_err()
}

#[test]
fn other_schema_versions_are_refused_by_name() {
    for (version, found) in [(json!(2), "2"), (json!("1"), "\"1\""), (json!(0), "0")] {
        let mut v = value();
        v["schemaVersion"] = version;
        // A version 2 may change any field: that is not what the message is about.
        v["findings"][0]["severity"] = json!("urgent");
        let e = error_of(&v);
        assert_eq!(
            e,
            ReportError::UnsupportedVersion {
                found: found.into()
            },
            "{e}"
        );
        assert!(e.to_string().contains("reads schemaVersion 1"), "{e}");
    }
    let mut v = value();
    v.as_object_mut().unwrap().remove("schemaVersion");
    let e = error_of(&v);
    assert!(
        e.to_string().contains("missing field `schemaVersion`"),
        "{e}"
    );
}

#[test]
fn malformed_reports_name_where() {
    let text = json(&report(), &options());
    let cut = &text[..text.len() / 2];
    let e = StoredReport::parse(cut).unwrap_err();
    assert!(matches!(e, ReportError::Syntax { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with("the report is not JSON: EOF"),
        "{e}"
    );

    let e = StoredReport::parse(&format!("{text} {{}}")).unwrap_err();
    assert!(e.to_string().contains("trailing characters"), "{e}");

    let e = StoredReport::parse_slice(b"{\"schemaVersion\": 1, \"tool\": \"\xff\"}").unwrap_err();
    assert!(matches!(e, ReportError::Syntax { .. }), "{e:?}");

    let mut v = value();
    v["findings"][1]["severity"] = json!("urgent");
    match error_of(&v) {
        ReportError::Shape { path, message, .. } => {
            assert_eq!(path, "findings[1].severity");
            assert!(message.contains("unknown variant `urgent`"), "{message}");
        }
        e => panic!("{e:?}"),
    }
    let mut v = value();
    v["findings"][2]["line"] = json!(-4);
    match error_of(&v) {
        ReportError::Shape { path, line, .. } => {
            assert_eq!(path, "findings[2].line");
            assert_eq!(line, 1, "a one-line document");
        }
        e => panic!("{e:?}"),
    }
    let e = StoredReport::parse("\n  [1, 2]").unwrap_err();
    assert_eq!(
        e,
        ReportError::Shape {
            path: ".".into(),
            line: 2,
            column: 3,
            message: "expected a JSON object (`pave check --format json`)".into()
        }
    );
    let e =
        StoredReport::parse(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000))).unwrap_err();
    assert!(matches!(e, ReportError::Shape { .. }), "{e:?}");
    // Deep nesting where the report has no field is skipped without recursion (serde_json
    // ignores values with a stack of its own): no stack overflow at a million levels.
    let deep = json(&report(), &options()).replacen(
        '{',
        &format!(
            "{{\"deep\": {}1{},",
            "[".repeat(1_000_000),
            "]".repeat(1_000_000)
        ),
        1,
    );
    assert_eq!(parse(&deep).findings.len(), report().findings.len());
    for other in ["\"report\"", "42", "null", "true"] {
        let e = StoredReport::parse(other).unwrap_err();
        assert!(
            e.to_string().contains("expected a JSON object"),
            "{other}: {e}"
        );
    }
    let e = StoredReport::parse("<html>").unwrap_err();
    assert!(matches!(e, ReportError::Syntax { .. }), "{e:?}");
    let e = StoredReport::parse("").unwrap_err();
    assert!(matches!(e, ReportError::Syntax { .. }), "{e:?}");
}

#[test]
fn reports_that_contradict_themselves_are_refused() {
    type Break = fn(&mut Value);
    let cases: [(&str, Break); 5] = [
        ("summary.failed is 9 but the findings hold 6", |v| {
            v["summary"]["failed"] = json!(9);
        }),
        ("summary.errors is 3 but the report holds 2 errors", |v| {
            v["summary"]["errors"] = json!(3);
        }),
        ("summary.documents is 7 but checked[] lists 6", |v| {
            v["checked"].as_array_mut().unwrap().pop();
        }),
        (
            "exitCode is 0 but 6 failed findings and 2 input errors make it 2",
            |v| {
                v["exitCode"] = json!(0);
            },
        ),
        (
            "the summary counts 9 findings but the report holds 9 and omits 4",
            |v| {
                v["omitted"] = json!({"findings": 4});
            },
        ),
    ];
    for (want, break_it) in cases {
        let mut v = value();
        break_it(&mut v);
        let e = error_of(&v);
        assert!(matches!(e, ReportError::Inconsistent(_)), "{e:?}");
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
}

#[test]
fn size_is_checked_before_reading() {
    let text = " ".repeat(MAX_REPORT_BYTES + 1);
    assert_eq!(
        StoredReport::parse(&text).unwrap_err(),
        ReportError::TooLarge {
            size: MAX_REPORT_BYTES + 1,
            limit: MAX_REPORT_BYTES
        }
    );
}

#[test]
fn unknown_fields_of_version_one_are_tolerated() {
    let mut v = value();
    v["newField"] = json!({"anything": [1, 2]});
    v["findings"][0]["fingerprint"] = json!("abc");
    let stored = parse(&v.to_string());
    assert_eq!(stored, parse(&json(&report(), &options())));
    // Null where the schema allows it.
    let mut v = value();
    v["findings"][0]["object"] = Value::Null;
    v["findings"][0]["line"] = Value::Null;
    assert!(parse(&v.to_string()).findings[0].object.is_none());
}
