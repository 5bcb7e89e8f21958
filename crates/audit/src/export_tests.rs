#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::io::Cursor;

use serde_json::json;

use super::*;
use crate::record::ActorKind;
use crate::testutil::{chain, event, parse_csv};
use crate::verify::{Problem, verify};

#[test]
fn csv_quoting_follows_rfc_4180() {
    for (field, written) in [
        ("plain", "plain"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("\"", "\"\"\"\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("cr\rlf", "\"cr\rlf\""),
        ("ünïcødé ✓", "ünïcødé ✓"),
        ("=cmd()", "=cmd()"),
        (" spaces ", " spaces "),
    ] {
        let mut line = Vec::new();
        csv_field(&mut line, field);
        assert_eq!(String::from_utf8(line).unwrap(), written, "{field:?}");
    }
}

#[test]
fn csv_rows_read_back_field_for_field() {
    let rows = [
        vec!["a", "b,c", "d\"e\""],
        vec!["multi\r\nline", "", "x"],
        vec!["\"\"", ",", "\n"],
    ];
    let mut w = CsvWriter::new(Vec::new(), &["one", "two", "three"]).unwrap();
    for r in &rows {
        w.row(r).unwrap();
    }
    let text = String::from_utf8(w.into_inner()).unwrap();
    let parsed = parse_csv(&text);
    assert_eq!(parsed[0], ["one", "two", "three"]);
    for (got, want) in parsed[1..].iter().zip(&rows) {
        assert_eq!(got, want);
    }
    let mut w = CsvWriter::new(Vec::new(), &["one"]).unwrap();
    assert!(
        w.row(&["a", "b"])
            .unwrap_err()
            .to_string()
            .contains("2 fields under a header of 1")
    );
}

#[test]
fn audit_csv_has_a_header_and_one_row_per_record() {
    let mut records = chain(3);
    records[1].event.target = "loc,with \"quotes\"\nand a newline".into();
    records[1].event.details = json!({"z": 1, "a": "x,y"});
    records[1].event.actor.role = None;
    records[1].event.source = None;
    let mut out = Vec::new();
    let n = export(
        &mut out,
        Format::Csv,
        records.iter().cloned().map(Ok::<_, Infallible>),
        &Filter::default(),
    )
    .unwrap();
    assert_eq!(n, 3);
    let rows = parse_csv(std::str::from_utf8(&out).unwrap());
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], AUDIT_CSV_HEADER);
    let r = &records[1];
    assert_eq!(
        rows[2],
        [
            "2",
            "2026-01-01T00:00:02.000Z",
            "user",
            &r.event.actor.id,
            "",
            "token.create",
            "loc,with \"quotes\"\nand a newline",
            "success",
            "",
            "req-2",
            r#"{"a":"x,y","z":1}"#,
            &r.prev_hash.to_hex(),
            &r.hash.to_hex(),
        ]
    );
}

#[test]
fn jsonl_round_trips_and_verifies_again() {
    let mut records = chain(50);
    records[7].event.details =
        json!({"text": "multi\nline \"quoted\" ✓", "nested": {"b": [1, 2], "a": null}});
    records[7].hash = records[7].computed_hash();
    let mut c = crate::record::Chain::new(records[7].head());
    for r in &mut records[8..] {
        *r = c.append(r.event.clone());
    }
    let mut out = Vec::new();
    export(
        &mut out,
        Format::Jsonl,
        records.iter().cloned().map(Ok::<_, Infallible>),
        &Filter::default(),
    )
    .unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(text.lines().count(), 50);
    assert!(
        text.lines()
            .all(|l| l.starts_with("{\"seq\":") && l.contains("\"prev_hash\":"))
    );
    let back: Vec<AuditRecord> = read_jsonl(Cursor::new(&out)).map(Result::unwrap).collect();
    assert_eq!(back, records);
    assert!(verify(read_jsonl(Cursor::new(&out)), &[], None, None).is_ok());
    // Blank lines (and a missing final newline) are fine.
    let spaced = text.replace('\n', "\n\n").trim_end().to_owned();
    assert_eq!(read_jsonl(Cursor::new(spaced)).count(), 50);
}

#[test]
fn jsonl_errors_name_the_line_and_stop() {
    let records = chain(3);
    let mut good = Vec::new();
    export(
        &mut good,
        Format::Jsonl,
        records.iter().cloned().map(Ok::<_, Infallible>),
        &Filter::default(),
    )
    .unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&good).unwrap().lines().collect();
    // (text, line of the error, message, records read before it)
    let cases: Vec<(String, u64, &str, usize)> = vec![
        (
            format!("{}\n\n{{not json\n{}\n", lines[0], lines[1]),
            3,
            "key must be a string",
            1,
        ),
        (
            format!(
                "{}\n{}\n",
                lines[0],
                lines[1].replace("\"hash\"", "\"hush\"")
            ),
            2,
            "unknown field `hush`",
            1,
        ),
        (
            format!(
                "{}\n",
                lines[0].replace("\"outcome\":\"success\"", "\"outcome\":\"maybe\"")
            ),
            1,
            "unknown variant `maybe`",
            0,
        ),
        (
            format!("{}\n", lines[0].replace(&records[0].hash.to_hex(), "abc")),
            1,
            "expected 64 hex digits",
            0,
        ),
        (
            format!("{}\n[1]\n{}\n", lines[0], lines[1]),
            2,
            "expected an audit record (a JSON object)",
            1,
        ),
        (
            format!("{}\n7\n", lines[0]),
            2,
            "invalid type: integer `7`, expected an audit record (a JSON object)",
            1,
        ),
    ];
    for (text, line, message, before) in cases {
        let items: Vec<_> = read_jsonl(Cursor::new(text)).collect();
        let err = items.last().unwrap().as_ref().unwrap_err();
        match err {
            AuditError::Line {
                line: l,
                message: m,
            } => {
                assert_eq!(*l, line, "{m}");
                assert!(m.contains(message), "{m}");
            }
            other => panic!("{other}"),
        }
        assert_eq!(items.len(), before + 1, "stops at the error");
    }
    // Invalid UTF-8 is a line error too, and verify reports it as unreadable.
    let mut bytes = good.clone();
    bytes.extend_from_slice(b"\xff\xfe\n");
    let report = verify(read_jsonl(Cursor::new(bytes)), &[], None, None);
    match report.problem {
        Some(Problem::Unreadable {
            after_seq: 3,
            message,
        }) => assert!(message.starts_with("line 4: "), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn filter_is_a_pure_predicate() {
    let e = event(5);
    assert_eq!(
        (e.action.as_str(), e.outcome),
        ("auth.sign_in", Outcome::Success)
    );
    let t = e.time_ms;
    let cases: Vec<(Filter, bool)> = vec![
        (Filter::default(), true),
        (
            Filter {
                since: Some(t),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                since: Some(t + 1),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                until: Some(t),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                until: Some(t + 1),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                actor: Some(e.actor.id.clone()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                actor: Some("user:default".into()),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                action: Some("auth.sign_in".into()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                action: Some("auth.sign".into()),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                action: Some("auth.*".into()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                action: Some("auth*".into()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                action: Some("token.*".into()),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                action: Some("*".into()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                target_prefix: Some("location:".into()),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                target_prefix: Some("location:6".into()),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                outcome: Some(Outcome::Success),
                ..Filter::default()
            },
            true,
        ),
        (
            Filter {
                outcome: Some(Outcome::Denied),
                ..Filter::default()
            },
            false,
        ),
        (
            Filter {
                since: Some(t),
                until: Some(t + 1),
                action: Some("auth.*".into()),
                outcome: Some(Outcome::Success),
                ..Filter::default()
            },
            true,
        ),
    ];
    for (f, expected) in cases {
        assert_eq!(f.matches(&e), expected, "{f:?}");
    }
    assert_eq!(e.actor.kind, ActorKind::Token);
    assert!(
        Filter {
            since: Some(1),
            until: Some(2),
            ..Filter::default()
        }
        .is_time_window()
    );
    assert!(
        !Filter {
            outcome: Some(Outcome::Denied),
            ..Filter::default()
        }
        .is_time_window()
    );
}

#[test]
fn export_applies_the_filter_and_reports_source_errors() {
    let records = chain(40);
    let filter = Filter {
        action: Some("gate.*".into()),
        ..Filter::default()
    };
    let mut out = Vec::new();
    let n = export(
        &mut out,
        Format::Jsonl,
        records.iter().cloned().map(Ok::<_, Infallible>),
        &filter,
    )
    .unwrap();
    assert_eq!(n, 10);
    assert!(read_jsonl(Cursor::new(&out)).all(|r| r.unwrap().event.action == "gate.override"));
    let failing = records
        .iter()
        .cloned()
        .map(Ok)
        .chain([Err("cursor closed")]);
    let err = export(Vec::new(), Format::Csv, failing, &Filter::default()).unwrap_err();
    assert_eq!(err.to_string(), "reading the audit records: cursor closed");
}

#[test]
fn times_format_as_rfc3339_utc() {
    for (ms, text) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_767_225_600_123, "2026-01-01T00:00:00.123Z"),
        (951_782_400_000 - 1, "2000-02-28T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ] {
        assert_eq!(format_time_ms(ms), text);
    }
}

#[test]
fn formats_parse() {
    assert_eq!("jsonl".parse::<Format>().unwrap(), Format::Jsonl);
    assert_eq!("csv".parse::<Format>().unwrap().to_string(), "csv");
    assert_eq!(
        "json".parse::<Format>().unwrap_err().to_string(),
        "unknown export format \"json\" (expected one of: jsonl, csv)"
    );
}
