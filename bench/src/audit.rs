//! Audit trail benchmark (issue 14's targets): appending records to the hash chain in memory,
//! `verify` of 1,000,000 records (< 2 s), the same from a JSON Lines export, and an evidence
//! pack over 100,000 records (< 3 s), built and verified. In-process, pure core only: the
//! store's append rate inside SQLite transactions is measured with the store.
//!
//! Usage: `cargo run --release -p pave-bench --bin audit-bench [-- --records 1000000 --pack 100000]`
//! (the records are kept in memory: about 2.3 GB at the peak for a million).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::convert::Infallible;
use std::io::Cursor;
use std::time::{Duration, Instant};

use pave_audit::{
    AccessRow, Actor, ActorKind, AuditEvent, AuditRecord, Chain, ChainHead, ChainLink, Details,
    EventParts, EvidenceInputs, Exporter, Format, Hash, Outcome, RecordHasher, SigningKey,
    TokenRow, build_pack, canonical_json, read_jsonl, verify, verify_pack,
};
use serde_json::json;

const ACTIONS: [&str; 6] = [
    "location.refresh",
    "auth.sign_in",
    "location.create",
    "token.create",
    "gate.override",
    "auth.failed",
];

/// A realistic record: an entity ref as actor, a few details (a URL, a reason), ~350 bytes
/// of canonical JSON.
fn event(n: i64) -> AuditEvent {
    let action = ACTIONS[(n % 6) as usize];
    AuditEvent {
        time_ms: 1_767_225_600_000 + n * 37,
        actor: Actor {
            kind: if n % 11 == 0 {
                ActorKind::Token
            } else {
                ActorKind::User
            },
            id: format!("user:default/person-{}", n % 977),
            role: Some(if n % 13 == 0 { "admin" } else { "member" }.to_owned()),
        },
        action: action.to_owned(),
        target: format!(
            "location:url:https://git.example.com/team-{}/repo-{n}",
            n % 89
        ),
        outcome: if action == "auth.failed" {
            Outcome::Denied
        } else {
            Outcome::Success
        },
        source: Some(format!(
            "10.{}.{}.{}",
            n % 256,
            n / 256 % 256,
            n / 65536 % 256
        )),
        request_id: Some(format!("req-{n:012x}")),
        details: json!({
            "type": "url",
            "target": format!("https://git.example.com/team-{}/repo-{n}/catalog-info.yaml", n % 89),
            "entities": n % 17,
            "reason": if action == "gate.override" { "hotfix for INC-1234, approved by SRE" } else { "" },
        }),
    }
}

/// Records 1..=n, generated on the fly.
fn records(n: i64) -> impl Iterator<Item = AuditRecord> {
    let mut chain = Chain::new(ChainHead::GENESIS);
    (1..=n).map(move |i| chain.append(event(i)))
}

/// A store row: the columns' strings, `details` as stored canonical JSON text.
struct Row {
    record: AuditRecord,
    details: String,
}

impl Row {
    fn new(record: AuditRecord) -> Row {
        let details = canonical_json(&record.event.details);
        Row { record, details }
    }
}

impl ChainLink for Row {
    fn seq(&self) -> i64 {
        self.record.seq
    }
    fn prev_hash(&self) -> Hash {
        self.record.prev_hash
    }
    fn hash(&self) -> Hash {
        self.record.hash
    }
    fn recompute(&self, hasher: &mut RecordHasher) -> Hash {
        let parts = EventParts {
            details: Details::Canonical(&self.details),
            ..self.record.event.parts()
        };
        hasher.hash_parts(self.record.seq, &self.record.prev_hash, &parts)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn rate(n: i64, d: Duration) -> String {
    let per_s = n as f64 / d.as_secs_f64();
    let digits = format!("{per_s:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out + " records/s"
}

fn main() {
    let mut n_verify: i64 = 1_000_000;
    let mut n_pack: i64 = 100_000;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1).and_then(|v| v.parse().ok())) {
            ("--records", Some(v)) => n_verify = v,
            ("--pack", Some(v)) => n_pack = v,
            _ => panic!("usage: audit-bench [--records N] [--pack N]"),
        }
    }
    let mut rows: Vec<(String, String, &str)> = Vec::new();

    // Appending: build the event, canonicalize, hash, link (kept in memory for the rest).
    let t = Instant::now();
    let all: Vec<AuditRecord> = records(n_verify).collect();
    let append = t.elapsed();
    rows.push((
        format!("append {n_verify} records (in memory)"),
        rate(n_verify, append),
        "",
    ));

    // Verify records already in memory: canonical encoding of every record (details
    // re-sorted), SHA-256, links.
    let t = Instant::now();
    let report = verify(all.iter().map(Ok::<_, Infallible>), &[], None, None);
    let verified = t.elapsed();
    assert!(
        report.is_ok() && report.records == n_verify as u64,
        "{report}"
    );
    rows.push((
        format!("verify {n_verify} records"),
        secs(verified),
        "< 2 s",
    ));

    // The store's fast path: rows with details as stored canonical text, hashed verbatim.
    let table: Vec<Row> = all.into_iter().map(Row::new).collect();
    let t = Instant::now();
    let report = verify(table.iter().map(Ok::<_, Infallible>), &[], None, None);
    let verified = t.elapsed();
    assert!(
        report.is_ok() && report.records == n_verify as u64,
        "{report}"
    );
    rows.push((
        format!("verify {n_verify} rows, details as canonical text"),
        secs(verified),
        "< 2 s",
    ));

    // Verify from a JSON Lines export: parse + verify, the `pave audit verify FILE` path.
    let mut exporter = Exporter::new(Vec::new(), Format::Jsonl).unwrap();
    for row in &table {
        exporter.write(&row.record).unwrap();
    }
    drop(table);
    let jsonl = exporter.finish().unwrap();
    let t = Instant::now();
    let report = verify(read_jsonl(Cursor::new(&jsonl)), &[], None, None);
    let from_jsonl = t.elapsed();
    assert!(
        report.is_ok() && report.records == n_verify as u64,
        "{report}"
    );
    rows.push((
        format!(
            "verify {n_verify} records from JSONL ({} MB)",
            jsonl.len() / 1_000_000
        ),
        secs(from_jsonl),
        "",
    ));
    drop(jsonl);

    // Evidence pack.
    let key = SigningKey::generate().unwrap();
    let recs: Vec<AuditRecord> = records(n_pack).collect();
    let inputs = EvidenceInputs {
        from_ms: recs.first().map_or(0, |r| r.event.time_ms),
        to_ms: recs.last().map_or(0, |r| r.event.time_ms + 1),
        generated_ms: 1_800_000_000_000,
        records: recs,
        access: (0..500)
            .map(|i| AccessRow {
                subject: format!("group:default/team-{i}"),
                role: "member".into(),
                why: "pave.yaml auth.roles".into(),
            })
            .collect(),
        tokens: (0..200)
            .map(|i| TokenRow {
                id: format!("tok_{i:04}"),
                name: format!("ci-{i}"),
                owner: format!("group:default/team-{i}"),
                role: "deployer".into(),
                created_ms: 1_767_225_600_000,
                last_used_ms: Some(1_767_225_700_000),
                expires_ms: 1_775_001_600_000,
            })
            .collect(),
        ..EvidenceInputs::default()
    };
    let t = Instant::now();
    let pack = build_pack(&inputs, &key).unwrap();
    let built = t.elapsed();
    rows.push((
        format!("evidence pack over {n_pack} records: build"),
        format!("{} ({:.1} MB zip)", secs(built), pack.len() as f64 / 1e6),
        "< 3 s",
    ));
    let t = Instant::now();
    let report = verify_pack(&pack, Some(&key.public())).unwrap();
    let checked = t.elapsed();
    assert_eq!(report.chain.records, n_pack as u64);
    rows.push((
        format!("evidence pack over {n_pack} records: verify"),
        secs(checked),
        "",
    ));

    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let v = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    println!("| {:w$} | {:v$} | target |", "measure", "result");
    println!("| {} | {} | --- |", "-".repeat(w), "-".repeat(v));
    for (what, result, target) in rows {
        println!("| {what:w$} | {result:v$} | {target} |");
    }
}
