//! Shared test fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::record::{Actor, ActorKind, AuditEvent, AuditRecord, Chain, ChainHead, Outcome};

/// A varied, realistic event number `n`.
pub(crate) fn event(n: i64) -> AuditEvent {
    AuditEvent {
        time_ms: 1_767_225_600_000 + n * 1000,
        actor: Actor {
            kind: if n % 5 == 0 {
                ActorKind::Token
            } else {
                ActorKind::User
            },
            id: format!("user:default/u{}", n % 7),
            role: Some("member".into()),
        },
        action: [
            "location.create",
            "auth.sign_in",
            "token.create",
            "gate.override",
        ][(n % 4) as usize]
            .into(),
        target: format!("location:{n}"),
        outcome: if n % 9 == 0 {
            Outcome::Denied
        } else {
            Outcome::Success
        },
        source: Some("10.0.0.1".into()),
        request_id: Some(format!("req-{n}")),
        details: json!({"n": n, "url": format!("https://git.example/r{n}")}),
    }
}

/// Records 1..=n.
pub(crate) fn chain(n: i64) -> Vec<AuditRecord> {
    let mut c = Chain::new(ChainHead::GENESIS);
    (1..=n).map(|i| c.append(event(i))).collect()
}

/// A strict RFC 4180 reader, to check that what we write reads back field for field.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                assert!(field.is_empty(), "quote inside an unquoted field");
                quoted = true;
            }
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("bare LF outside quotes"),
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "unterminated row"
    );
    rows
}

/// An event with every kind of field and value the encoding must handle.
pub(crate) fn fixed_event() -> AuditEvent {
    AuditEvent {
        time_ms: 1_767_225_600_123,
        actor: Actor {
            kind: ActorKind::Token,
            id: "tok_01".into(),
            role: Some("deployer".into()),
        },
        action: "gate.override".into(),
        target: "component:default/payments".into(),
        outcome: Outcome::Denied,
        source: None,
        request_id: Some("r-1".into()),
        details: json!({"reason": "hotfix \"now\"\n", "b": [1, 2.5, null, true], "a": {"z": 1, "y": "é"}}),
    }
}
