//! Properties of `parse`: it never panics, whatever the text; every diagnostic points inside
//! the file, in file order; and what a valid file says is what is read.

use pave_dora::postmortem::{ActionStatus, Day, Postmortem, PostmortemError, parse};
use proptest::prelude::*;

/// Every diagnostic is inside the file and they come in file order.
fn check_error(text: &str, error: &PostmortemError) -> Result<(), TestCaseError> {
    prop_assert!(!error.diagnostics.is_empty());
    // `split` counts the empty line after a final newline, where an error at the end of the
    // text is placed.
    let lines = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
    for diagnostic in &error.diagnostics {
        let position = diagnostic.position;
        prop_assert!(
            position.line >= 1 && position.line <= lines && position.column >= 1,
            "{} outside a {}-line file",
            diagnostic,
            lines
        );
    }
    prop_assert!(
        error
            .diagnostics
            .windows(2)
            .all(|w| w[0].position <= w[1].position)
    );
    prop_assert!(!error.to_string().is_empty());
    Ok(())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match parse("prop.md", text) {
        Ok(postmortem) => {
            prop_assert!(postmortem.actions.len() <= 200);
            prop_assert!(postmortem.excerpt.chars().count() <= 280);
            Ok(())
        }
        Err(error) => check_error(text, &error),
    }
}

/// A line of front matter as people (and their editors) get it wrong.
fn yamlish_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "title",
            "incidents",
            "date",
            "severity",
            "summary",
            "entity",
            "actions",
            "owner",
            "due",
            "status",
            "closed",
            "link",
            "titel",
            "Title",
            "x-extra",
            "deadline",
            "",
        ])
        .prop_map(str::to_owned),
        "[a-z\\-]{1,8}",
    ];
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            "~",
            "[]",
            "{}",
            "2026-11-02",
            "2026-02-30",
            "2026-11-02T14:30:00Z",
            "2026-11-02T25:00:00+02:00",
            "group:default/payments",
            "group:payments",
            "payments",
            "open",
            "in-progress",
            "done",
            "wontfix",
            "Done",
            "1",
            "7",
            "-1",
            "1.5",
            "true",
            "[PD-1, PD-1]",
            "[PD-1, 812]",
            "\"quoted\"",
            "'single'",
            "&anchor x",
            "*anchor",
            "*missing",
            "|",
            ">",
            "[unclosed",
            "{a: [b",
            "https://example.com/x",
            "# comment",
            "---",
            "...",
            "\t",
            "@reserved",
            "`tick",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,20}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ];
    let indent = prop::sample::select(vec!["", "  ", "    ", "  - ", "- ", "\t", "      "]);
    prop_oneof![
        3 => (indent.clone(), key, value).prop_map(|(i, k, v)| format!("{i}{k}: {v}")),
        1 => (indent, prop::sample::select(vec!["- ", "-", "  - "]), "[ -~]{0,12}")
            .prop_map(|(i, dash, v)| format!("{i}{dash}{v}")),
        1 => "[ -~]{0,30}",
    ]
}

/// A scalar as it may appear in front matter: plain values of every field's kind, right and
/// wrong, and arbitrary text written as a double-quoted YAML scalar (a JSON string is one).
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", "~", "[]", "{}", "2026-11-02", "2026-02-30", "2026-11-02T14:30:00Z",
            "2026-11-02T25:00:00+02:00", "2026-10-01", "group:default/payments",
            "group:payments", "payments", "user:a/b/c", "open", "in-progress", "done", "wontfix",
            "Done", "in_progress", "1", "2", "7", "-1", "1.5", "true", "PD-1", "[PD-1, PD-1]",
            "[PD-1, 812]", "[PD-1, \"\"]", "https://example.com/x", "example.com", "x # c",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| {
            let short: String = s.chars().take(16).collect();
            serde_json::to_string(&short).unwrap_or_default()
        }),
    ]
}

fn field_name(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(names).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["titel", "Title", "x-extra", "deadline", "incident", "zzz"])
            .prop_map(str::to_owned),
    ]
}

const ROOT: &[&str] = &[
    "title",
    "incidents",
    "date",
    "severity",
    "summary",
    "entity",
];
const ACTION: &[&str] = &["title", "owner", "due", "status", "closed", "link"];

/// Well-formed YAML with the front matter's shape and values right or wrong: the
/// validation's paths rather than the YAML parser's.
fn structured_front_matter() -> impl Strategy<Value = String> {
    let entries = prop::collection::btree_map(field_name(ROOT), scalar(), 0..7);
    let action = prop::collection::btree_map(field_name(ACTION), scalar(), 0..7);
    let actions = prop::option::of(prop::collection::vec(
        prop_oneof![9 => action.prop_map(Some), 1 => Just(None)],
        0..5,
    ));
    (entries, actions).prop_map(|(entries, actions)| {
        let mut text: String = entries
            .iter()
            .filter(|(k, _)| k.as_str() != "actions")
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        if let Some(actions) = actions {
            text.push_str(if actions.is_empty() {
                "actions: []\n"
            } else {
                "actions:\n"
            });
            for action in actions {
                match action {
                    Some(fields) if !fields.is_empty() => {
                        for (i, (k, v)) in fields.iter().enumerate() {
                            let lead = if i == 0 { "  - " } else { "    " };
                            text.push_str(&format!("{lead}{k}: {v}\n"));
                        }
                    }
                    _ => text.push_str("  - just text\n"),
                }
            }
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        check(&text)?;
        check(&format!("---\n{text}\n---\n"))?;
    }

    #[test]
    fn never_panics_on_yamlish_front_matter(
        lines in prop::collection::vec(yamlish_line(), 0..30),
        crlf in any::<bool>(),
        body in "[ -~\n]{0,40}",
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let text = format!(
            "---{newline}{}{newline}---{newline}{body}",
            lines.join(newline)
        );
        check(&text)?;
    }

    #[test]
    fn never_panics_on_structured_front_matter(
        front in structured_front_matter(),
        junk in prop::option::of((0usize..12, yamlish_line())),
    ) {
        // Now and then a broken line in the middle.
        let mut lines: Vec<String> = front.lines().map(str::to_owned).collect();
        if let Some((at, line)) = junk {
            lines.insert(at.min(lines.len()), line);
        }
        check(&format!("---\n{}\n---\n", lines.join("\n")))?;
    }
}

/// A valid postmortem, written out as YAML front matter.
#[derive(Debug, Clone)]
struct Written {
    title: String,
    incidents: Vec<String>,
    date: i64,
    severity: Option<u8>,
    actions: Vec<(String, String, i64, usize, i64)>,
}

fn written() -> impl Strategy<Value = Written> {
    // Plain scalars: leave out the words YAML reads as booleans or null.
    let plain_title = "[A-Za-z][A-Za-z0-9 ]{0,20}[A-Za-z0-9]"
        .prop_filter("not a YAML keyword", |t| {
            !matches!(t.to_ascii_lowercase().as_str(), "true" | "false" | "null")
        });
    let action = (
        plain_title,
        "(group|user):[a-z][a-z0-9-]{0,10}",
        0i64..40_000,
        0usize..5,
        0i64..60,
    );
    (
        "[A-Za-z][A-Za-z0-9 ,.()-]{0,40}[A-Za-z0-9)]",
        prop::collection::btree_set("[A-Z]{2,4}-[0-9A-Z]{1,8}", 0..5),
        0i64..40_000,
        prop::option::of(1u8..=5),
        prop::collection::vec(action, 0..8),
    )
        .prop_map(|(title, incidents, date, severity, actions)| Written {
            title,
            incidents: incidents.into_iter().collect(),
            date,
            severity,
            actions,
        })
}

fn render(w: &Written) -> String {
    let mut text = format!(
        "---\ntitle: \"{}\"\nincidents: [{}]\ndate: {}\n",
        w.title,
        w.incidents.join(", "),
        Day(w.date)
    );
    if let Some(severity) = w.severity {
        text.push_str(&format!("severity: {severity}\n"));
    }
    text.push_str("actions:");
    if w.actions.is_empty() {
        text.push_str(" []");
    }
    for (title, owner, due, status, closed_after) in &w.actions {
        text.push_str(&format!(
            "\n  - title: {title}\n    owner: {owner}\n    due: {}",
            Day(*due)
        ));
        match status {
            0 => text.push_str("\n    link: https://example.com/issue"),
            s => {
                let status = ActionStatus::ALL[s - 1];
                text.push_str(&format!("\n    status: {status}"));
                if status.is_closed() {
                    text.push_str(&format!("\n    closed: {}", Day(w.date + closed_after)));
                }
            }
        }
    }
    text.push_str("\n---\nBody.\n");
    text
}

proptest! {
    #[test]
    fn valid_files_read_back_what_they_say(w in written()) {
        let text = render(&w);
        let postmortem: Postmortem = match parse("w.md", &text) {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        prop_assert_eq!(&postmortem.title, w.title.trim());
        prop_assert_eq!(&postmortem.incidents, &w.incidents);
        prop_assert_eq!(postmortem.date, Day(w.date));
        prop_assert_eq!(postmortem.severity, w.severity);
        prop_assert_eq!(postmortem.actions.len(), w.actions.len());
        for (action, (title, owner, due, status, closed_after)) in
            postmortem.actions.iter().zip(&w.actions)
        {
            prop_assert_eq!(&action.title, title);
            let (kind, name) = owner.split_once(':').unwrap_or_default();
            prop_assert_eq!(&action.owner, &format!("{kind}:default/{name}"));
            prop_assert_eq!(action.due, Day(*due));
            prop_assert_eq!(action.status, status.checked_sub(1).map(|s| ActionStatus::ALL[s]));
            let closed = action.status.is_some_and(ActionStatus::is_closed);
            prop_assert_eq!(action.closed, closed.then(|| Day(w.date + closed_after)));
        }
        prop_assert_eq!(postmortem.body, "Body.\n");
    }
}
