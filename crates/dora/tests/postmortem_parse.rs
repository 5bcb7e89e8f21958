//! Postmortem files: the fixtures under `tests/fixtures/postmortems/` and small inline cases.
//! Every refused file states each diagnostic's exact line, column, code and a message
//! fragment; positions were counted by hand from the files (the opening `---` is line 1).

use std::path::PathBuf;

use pave_dora::postmortem::{
    Action, ActionStatus, Day, ParseOptions, Postmortem, PostmortemError, parse, parse_with,
};
use serde_json::json;

fn fixture(kind: &str, name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/postmortems",
        kind,
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn day(text: &str) -> Day {
    Day::parse(text).expect("a valid day in the test")
}

/// `(line, column, code, fragment of the message)`.
type Expected<'a> = &'a [(u32, u32, &'a str, &'a str)];

fn assert_refused(file: &str, result: Result<Postmortem, PostmortemError>, expected: Expected) {
    let error = match result {
        Ok(postmortem) => panic!("{file} was accepted: {postmortem:#?}"),
        Err(error) => error,
    };
    assert_eq!(error.file, file);
    let report = error.render();
    assert_eq!(
        error.diagnostics.len(),
        expected.len(),
        "{file}: diagnostics differ:\n{report}"
    );
    for (diagnostic, (line, column, code, fragment)) in error.diagnostics.iter().zip(expected) {
        let message = diagnostic.problem.to_string();
        assert_eq!(
            (
                diagnostic.position.line,
                diagnostic.position.column,
                diagnostic.problem.code()
            ),
            (*line, *column, *code),
            "{file}: {message}\n{report}"
        );
        assert!(
            message.contains(fragment),
            "{file}:{line}:{column}: `{message}` lacks `{fragment}`"
        );
    }
}

#[test]
fn bad_fixtures_report_every_problem_where_it_is() {
    let cases: &[(&str, Expected)] = &[
        (
            "no-front-matter.md",
            &[(1, 1, "missing-front-matter", "starts with a `---` line")],
        ),
        (
            "unterminated.md",
            &[(1, 1, "unterminated-front-matter", "never closed")],
        ),
        (
            // Line 3 opens a flow list that is never closed; the parser stops at the `:` of
            // `date:` on line 4.
            "invalid-yaml.md",
            &[(4, 5, "invalid-yaml", "invalid YAML")],
        ),
        (
            "duplicate-key.md",
            &[(5, 1, "invalid-yaml", "duplicate mapping key `title`")],
        ),
        (
            "not-a-mapping.md",
            &[(
                2,
                1,
                "not-a-mapping",
                "must be a mapping of fields (`title: …`), not a list",
            )],
        ),
        (
            "empty-front-matter.md",
            &[
                (1, 1, "missing-field", "`title`"),
                (1, 1, "missing-field", "`incidents: []` for a near miss"),
                (1, 1, "missing-field", "`date`"),
                (1, 1, "missing-field", "`actions: []` when there are none"),
            ],
        ),
        (
            "front-matter-fields.md",
            &[
                (1, 1, "missing-field", "`title`"),
                (2, 1, "unknown-field", "`titel` (did you mean `title`?)"),
                // `incidents: [PD-1, 812, PD-1, ""]`: 812 at 19, PD-1 again at 24, "" at 30.
                (3, 19, "bad-incident-id", "must be text, not a number"),
                (
                    3,
                    24,
                    "duplicate-incident",
                    "`PD-1` is listed more than once",
                ),
                (3, 30, "empty", "`incidents` must not be empty"),
                (4, 7, "bad-date", "\"2026-13-02\" is not a date"),
                (5, 11, "bad-severity", "from 1 (most severe) to 5, not 7"),
                (
                    6,
                    9,
                    "bad-reference",
                    "\"checkout\" is not an entity reference",
                ),
            ],
        ),
        (
            "wrong-types.md",
            &[
                (2, 8, "wrong-type", "`title` must be text, not a number"),
                (3, 12, "wrong-type", "`incidents` must be a list"),
                (4, 7, "bad-date", "[\"2026-11-02\"] is not a date"),
                (5, 11, "bad-severity", "not \"1\""),
                (6, 10, "wrong-type", "`summary` must be text, not a mapping"),
                // A quoted key: the value is pointed at through its key.
                (7, 1, "bad-reference", "`entity`: \"checkout\""),
                // The value is on the next lines: the key.
                (8, 1, "wrong-type", "`actions` must be a list of actions"),
            ],
        ),
        (
            "actions.md",
            &[
                (7, 12, "bad-reference", "`owner`: \"payments\""),
                (9, 13, "bad-status", "(did you mean `in-progress`?)"),
                // The second action (its first field at 10:5) has no owner.
                (10, 5, "missing-field", "`owner`"),
                (11, 10, "bad-date", "\"2026-11-31\" is not a date"),
                (
                    12,
                    13,
                    "missing-closed",
                    "status `done` needs a `closed` date",
                ),
                (16, 11, "bad-link", "not an http:// or https:// URL"),
                (17, 5, "missing-field", "`title`"),
                (17, 5, "missing-status", "neither `status` nor `link`"),
                (19, 5, "unknown-field", "`deadline` (did you mean `due`?)"),
                (
                    24,
                    5,
                    "closed-while-open",
                    "done or wontfix; this one's status is open",
                ),
                (
                    29,
                    13,
                    "closed-before-date",
                    "(2026-10-30) is before the postmortem's `date` (2026-11-02)",
                ),
                (30, 5, "not-a-mapping", "an action must be a mapping"),
                (31, 12, "empty", "`title` must not be empty"),
            ],
        ),
    ];
    let directory = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/postmortems/bad"]
        .iter()
        .collect::<PathBuf>();
    let on_disk = std::fs::read_dir(&directory)
        .expect("the bad fixtures")
        .count();
    assert_eq!(on_disk, cases.len(), "every bad fixture has a row");
    for (file, expected) in cases {
        assert_refused(file, parse(file, &fixture("bad", file)), expected);
    }
}

#[test]
fn the_documented_example_reads_completely() {
    let file = "docs/postmortems/2026-11-02-checkout-outage.md";
    let postmortem = parse(file, &fixture("good", "2026-11-02-checkout-outage.md"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(postmortem.file, file);
    assert_eq!(postmortem.title, "Checkout outage after the 2.14 deploy");
    assert_eq!(
        postmortem.incidents,
        ["PD-Q2K3ZL0", "github:acme/checkout#812"]
    );
    assert_eq!(postmortem.date, day("2026-11-02"));
    assert_eq!(postmortem.severity, Some(1));
    assert_eq!(
        postmortem.entity.as_deref(),
        Some("component:default/checkout")
    );
    let summary = "Payments failed for 23 minutes because the new connection pool was too small.";
    assert_eq!(postmortem.summary.as_deref(), Some(summary));
    assert_eq!(postmortem.excerpt, summary);
    assert_eq!(
        postmortem.actions,
        [
            Action {
                title: "Alert on queue depth".into(),
                owner: "group:default/payments".into(),
                due: day("2026-12-01"),
                status: Some(ActionStatus::Open),
                closed: None,
                link: None,
                extensions: Default::default(),
            },
            Action {
                title: "Load-test the new pool".into(),
                owner: "user:default/jane".into(),
                due: day("2026-11-20"),
                status: Some(ActionStatus::Done),
                closed: Some(day("2026-11-18")),
                link: None,
                extensions: Default::default(),
            },
            Action {
                title: "Upgrade the driver".into(),
                owner: "group:default/payments".into(),
                due: day("2026-12-15"),
                status: None,
                closed: None,
                link: Some("https://jira.example.com/browse/PAY-42".into()),
                extensions: Default::default(),
            },
        ]
    );
    assert!(postmortem.actions[2].is_tracked_elsewhere());
    // The closing `---` is line 22.
    assert_eq!(postmortem.body_line, 23);
    assert!(
        postmortem
            .body
            .starts_with("# Checkout outage after the 2.14 deploy\n")
    );
    assert!(postmortem.body.ends_with("from 50 to 5.\n"));
}

#[test]
fn near_miss_with_extensions_and_an_rfc3339_date() {
    let postmortem = parse("near-miss.md", &fixture("good", "2026-10-14-near-miss.md"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(postmortem.title, "Near miss: certificate renewal");
    assert!(postmortem.incidents.is_empty());
    assert!(postmortem.actions.is_empty());
    // 16:45 at UTC+02:00 is 14:45 UTC, the same day.
    assert_eq!(postmortem.date, day("2026-10-14"));
    assert_eq!(postmortem.severity, None);
    assert_eq!(postmortem.entity, None);
    assert_eq!(
        serde_json::Value::Object(postmortem.extensions.clone()),
        json!({"x-review-board": "platform-weekly", "x-tags": ["tls", "certificates"]})
    );
    // No summary: the first paragraph that is not a heading, folded onto one line.
    assert_eq!(
        postmortem.excerpt,
        "The certificate for api.example.com was renewed with two hours to spare."
    );
    assert_eq!(postmortem.body_line, 10);
}

#[test]
fn flow_actions_folded_summary_and_references_in_any_case() {
    let postmortem = parse(
        "search.md",
        &fixture("good", "2026-09-01-search-latency.md"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(postmortem.incidents, ["4711", "INC-0042"]);
    assert_eq!(
        postmortem.summary.as_deref(),
        Some("Search p99 latency rose to 4 s for two hours while the index was rebuilt.")
    );
    assert_eq!(postmortem.body, "");
    let owners: Vec<&str> = postmortem
        .actions
        .iter()
        .map(|a| a.owner.as_str())
        .collect();
    assert_eq!(owners, ["group:default/search", "group:default/search"]);
    assert_eq!(postmortem.actions[0].status, Some(ActionStatus::Wontfix));
    assert_eq!(postmortem.actions[0].closed, Some(day("2026-09-10")));
    // A link and a status: the status counts, the link is kept.
    assert_eq!(postmortem.actions[1].status, Some(ActionStatus::InProgress));
    assert!(!postmortem.actions[1].is_tracked_elsewhere());
    assert_eq!(
        serde_json::Value::Object(postmortem.actions[1].extensions.clone()),
        json!({"x-points": 3})
    );
}

/// A valid front matter with `extra` lines inserted before `actions: []`.
fn with_lines(extra: &str) -> String {
    format!("---\ntitle: T\nincidents: [PD-1]\ndate: 2026-11-02\n{extra}actions: []\n---\n")
}

#[test]
fn inline_cases() {
    let bomb = format!(
        "---\nx-a: &a [{}]\nx-b: [{}]\n---\n",
        ["a"; 200].join(", "),
        ["*a"; 12].join(", ")
    );
    let deep = format!("---\nx-deep: {}{}\n---\n", "[".repeat(40), "]".repeat(40));
    let cases: Vec<(&str, String, Expected)> = vec![
        (
            "CRLF line ends count like LF",
            "---\r\ntitle: T\r\nincidents: []\r\ndate: 2026-02-30\r\nactions: []\r\n---\r\n".into(),
            &[(4, 7, "bad-date", "\"2026-02-30\"")],
        ),
        (
            "an empty required value is pointed at through its key",
            "---\ntitle:\nincidents: []\ndate: 2026-11-02\nactions: []\n---\n".into(),
            &[(2, 1, "empty", "`title` must not be empty")],
        ),
        (
            "front matter of comments only has no fields",
            "---\n# title: T\n---\n".into(),
            &[
                (1, 1, "missing-field", "`title`"),
                (1, 1, "missing-field", "`incidents`"),
                (1, 1, "missing-field", "`date`"),
                (1, 1, "missing-field", "`actions`"),
            ],
        ),
        (
            "a case slip suggests the field",
            with_lines("Severity: 1\n"),
            &[(5, 1, "unknown-field", "`Severity` (did you mean `severity`?)")],
        ),
        (
            "a comment after the key is not the value",
            with_lines("entity: # none\n  checkout\n"),
            &[(5, 1, "bad-reference", "\"checkout\"")],
        ),
        (
            "flow mapping actions point at their values",
            // `  - {title: A, owner: payments, due: 2026-11-05, status: Done}`
            //       6          16     23        33   38          50      58
            with_lines("").replace(
                "actions: []",
                "actions:\n  - {title: A, owner: payments, due: 2026-11-05, status: Done}",
            ),
            &[
                (6, 23, "bad-reference", "`owner`"),
                (6, 58, "bad-status", "(did you mean `done`?)"),
            ],
        ),
        (
            "a tracked action cannot be closed without a status",
            with_lines("").replace(
                "actions: []",
                "actions:\n  - title: A\n    owner: group:sre\n    due: 2026-11-05\n    link: https://example.com/1\n    closed: 2026-11-04",
            ),
            &[(10, 5, "closed-while-open", "this one's status is not given")],
        ),
        (
            "a second YAML document",
            "---\ntitle: T\nincidents: []\ndate: 2026-11-02\nactions: []\n...\ntitle: U\n---\n"
                .into(),
            &[(7, 1, "several-documents", "more than one YAML document")],
        ),
        (
            "a control character",
            "---\ntitle: T\u{7}\n---\n".into(),
            &[(2, 9, "invalid-yaml", "U+0007")],
        ),
        (
            // The root mapping is level 1; the 32nd `[` (column 9 + 31) would be level 33.
            "nesting deeper than 32 levels",
            deep,
            &[(2, 40, "invalid-yaml", "deeper than 32 levels")],
        ),
        (
            // 203 nodes are read before `x-b` (the root, `x-a`, the list and its 200 items),
            // the `[` of `x-b` makes 205: aliases may add 1,000 + 4 × 205 = 1,820 nodes.
            // Each `*a` adds the 201 nodes of the list: the 10th makes 2,010, at column
            // 7 + 9 × 4 of line 3.
            "aliases that expand too far",
            bomb,
            &[(3, 43, "invalid-yaml", "more than 1820 nodes")],
        ),
    ];
    for (name, text, expected) in &cases {
        assert_refused(name, parse(name, text), expected);
    }
}

#[test]
fn absent_optional_values_are_not_given() {
    let postmortem = parse(
        "nulls.md",
        &with_lines("severity:\nentity: ~\nsummary: \"\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (postmortem.severity, postmortem.entity, postmortem.summary),
        (None, None, None)
    );
    assert_eq!(postmortem.excerpt, "");
}

#[test]
fn the_catalog_source_gives_the_entity_when_the_file_names_none() {
    let options = ParseOptions {
        default_entity: Some("Component:checkout".into()),
        ..ParseOptions::default()
    };
    let from_source =
        parse_with("a.md", &with_lines(""), &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        from_source.entity.as_deref(),
        Some("component:default/checkout")
    );
    let own = parse_with(
        "b.md",
        &with_lines("entity: component:payments/ledger\n"),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(own.entity.as_deref(), Some("component:payments/ledger"));
}

#[test]
fn limits_bound_the_work() {
    let action = "  - {title: A, owner: group:sre, due: 2026-11-05, status: open}\n";
    let many_actions = with_lines("").replace(
        "actions: []\n",
        &format!("actions:\n{}", action.repeat(201)),
    );
    assert_refused(
        "201 actions",
        parse("201 actions", &many_actions),
        &[(5, 1, "too-many", "201 actions: at most 200")],
    );
    let ids: Vec<String> = (0..101).map(|i| format!("PD-{i}")).collect();
    let many_incidents = with_lines("").replace("[PD-1]", &format!("[{}]", ids.join(", ")));
    assert_refused(
        "101 incidents",
        parse("101 incidents", &many_incidents),
        &[(3, 1, "too-many", "101 incidents: at most 100")],
    );
    let options = ParseOptions {
        max_front_matter_bytes: 40,
        max_body_bytes: 10,
        ..ParseOptions::default()
    };
    // 61 bytes of front matter.
    assert_refused(
        "large front matter",
        parse_with("large front matter", &with_lines(""), &options),
        &[(1, 1, "front-matter-too-large", "larger than 40 bytes")],
    );
    // A large body is reported with the front matter's own problems.
    let text = "---\ntitle: T\n---\n0123456789A\n";
    assert_refused(
        "large body",
        parse_with("large body", text, &options),
        &[
            (1, 1, "missing-field", "`incidents`"),
            (1, 1, "missing-field", "`date`"),
            (1, 1, "missing-field", "`actions`"),
            (4, 1, "body-too-large", "larger than 10 bytes"),
        ],
    );
    // 150 unknown fields and 4 missing ones: the first 100 found are listed, in file order.
    let keys: String = (0..150).map(|i| format!("k{i}: 1\n")).collect();
    let error = parse("noisy.md", &format!("---\n{keys}---\n")).expect_err("refused");
    assert_eq!(error.diagnostics.len(), 101);
    assert_eq!(error.diagnostics[0].position.line, 2);
    assert_eq!(error.diagnostics[99].position.line, 101);
    let last = &error.diagnostics[100];
    assert_eq!(last.problem.code(), "left-out");
    assert_eq!(
        last.problem.to_string(),
        "54 more problems not listed (at most 100 are)"
    );
}

#[test]
fn errors_serialise_for_the_api_and_render_for_a_terminal() {
    let error = parse("pm.md", &with_lines("severity: 9\n")).expect_err("refused");
    assert_eq!(
        serde_json::to_value(&error).expect("serialises"),
        json!({
            "file": "pm.md",
            "diagnostics": [{
                "line": 5,
                "column": 11,
                "path": "severity",
                "code": "bad-severity",
                "message": "`severity` must be a whole number from 1 (most severe) to 5, not 9",
            }],
        })
    );
    assert_eq!(
        error.to_string(),
        "pm.md:5:11: `severity` must be a whole number from 1 (most severe) to 5, not 9"
    );
}

#[test]
fn postmortems_round_trip_through_json() {
    let postmortem = parse("a.md", &fixture("good", "2026-11-02-checkout-outage.md"))
        .unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&postmortem).expect("serialises");
    assert_eq!(json["date"], "2026-11-02");
    assert_eq!(json["actions"][1]["status"], "done");
    assert_eq!(json["actions"][1]["closed"], "2026-11-18");
    assert!(json["actions"][2].get("status").is_none());
    let back: Postmortem = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, postmortem);
}
