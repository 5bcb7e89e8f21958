//! `pave token`, `pave audit` and `pave evidence` as an operator runs them: tokens shown
//! once and bounded, the audit log written by real changes, verified, tampered with behind
//! pave's back (triggers dropped, as someone with the database file could) and caught, and
//! evidence packs checked offline, forged and caught.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run, stderr, stdout, write_catalog};
use serde_json::Value;

fn sqlite(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("pave.db").display())
}

/// Runs SQL on the database file directly, as an attacker with the file could.
fn tamper(db: &str, statements: &[&'static str]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(db).await.unwrap();
        for statement in statements {
            sqlx::query(*statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
}

#[test]
fn tokens_are_shown_once_bounded_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let out = run(
        &[
            "token",
            "create",
            "--name",
            "ci-deploy",
            "--role",
            "viewer",
            "--expires",
            "30d",
        ],
        &db,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_owned();
    assert!(
        secret.starts_with("pave_")
            && secret.len() == 47
            && secret[5..].chars().all(|c| c.is_ascii_alphanumeric()),
        "a scannable secret: {secret}"
    );
    assert!(stderr(&out).contains("shown once"), "{}", stderr(&out));

    let out = run(&["token", "list", "-o", "json"], &db);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(list[0]["name"], "ci-deploy");
    assert_eq!(list[0]["state"], "active");
    assert!(
        !stdout(&out).contains(&secret[5..]),
        "the secret is never listed"
    );
    let id = list[0]["id"].as_str().unwrap().to_owned();

    // Over the maximum, no expiry, an unknown role: refused, and nothing stored.
    let over = run(
        &[
            "token",
            "create",
            "--name",
            "x",
            "--role",
            "viewer",
            "--expires",
            "400d",
        ],
        &db,
    );
    assert_eq!(over.status.code(), Some(2));
    assert!(stderr(&over).contains("90d"), "{}", stderr(&over));
    let missing = run(&["token", "create", "--name", "x", "--role", "viewer"], &db);
    assert_eq!(missing.status.code(), Some(2));
    let role = run(
        &[
            "token",
            "create",
            "--name",
            "x",
            "--role",
            "root",
            "--expires",
            "1d",
        ],
        &db,
    );
    assert!(
        stderr(&role).contains("no role `root`"),
        "{}",
        stderr(&role)
    );
    let list: Value =
        serde_json::from_str(&stdout(&run(&["token", "list", "-o", "json"], &db))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let out = run(&["token", "revoke", &id], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = run(&["token", "revoke", &id], &db);
    assert_eq!(again.status.code(), Some(2), "revoked once");
    let list: Value =
        serde_json::from_str(&stdout(&run(&["token", "list", "-o", "json"], &db))).unwrap();
    assert_eq!(list[0]["state"], "revoked");

    // Both were recorded, by the operator.
    let out = run(&["audit", "export", "--format", "jsonl"], &db);
    let actions: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(actions, vec!["token.create", "token.revoke"]);
}

#[test]
fn the_audit_log_verifies_and_catches_edits_deletions_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let root = write_catalog(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: other}\nspec: {type: team, children: []}\n",
    )
    .unwrap();
    for source in [&root, &other] {
        let out = run(&["catalog", "ingest", source.to_str().unwrap()], &db);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let key = dir.path().join("audit.pem");
    let out = run(&["audit", "keygen", "--out", key.to_str().unwrap()], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let public = dir.path().join("audit.pub");
    std::fs::write(&public, stdout(&out)).unwrap();
    assert!(stdout(&out).starts_with("ed25519:"));
    let again = run(&["audit", "keygen", "--out", key.to_str().unwrap()], &db);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing key is never overwritten"
    );

    let out = run(
        &["audit", "checkpoint", "--key", key.to_str().unwrap()],
        &db,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let exported = dir.path().join("checkpoint.json");
    std::fs::write(&exported, stdout(&out)).unwrap();

    let verify = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--public-key", public.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&args, &db)
    };
    let out = verify(&["--checkpoint", exported.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = run(&["audit", "export", "--format", "csv"], &db);
    let csv = stdout(&out);
    assert!(csv.lines().next().unwrap().contains("seq"), "{csv}");
    assert_eq!(csv.matches("location.create").count(), 2, "{csv}");

    // Someone with the file drops the guard and edits a record: named.
    tamper(
        &db,
        &[
            "DROP TRIGGER audit_log_no_update",
            "UPDATE audit_log SET target = 'file:/elsewhere' WHERE seq = 1",
        ],
    );
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("record 1"), "{}", stderr(&out));

    // Put back, then cut the tail: only the exported checkpoint can tell.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = sqlite(dir2.path());
    for source in [&root, &other] {
        run(&["catalog", "ingest", source.to_str().unwrap()], &db2);
    }
    let out = run(
        &["audit", "checkpoint", "--key", key.to_str().unwrap()],
        &db2,
    );
    let exported2 = dir2.path().join("checkpoint.json");
    std::fs::write(&exported2, stdout(&out)).unwrap();
    tamper(
        &db2,
        &[
            "DROP TRIGGER audit_log_no_delete",
            "DELETE FROM audit_checkpoints",
            "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
        ],
    );
    let out = run(
        &["audit", "verify", "--public-key", public.to_str().unwrap()],
        &db2,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "without the exported checkpoint a cut tail looks whole: {}",
        stderr(&out)
    );
    let out = run(
        &[
            "audit",
            "verify",
            "--public-key",
            public.to_str().unwrap(),
            "--checkpoint",
            exported2.to_str().unwrap(),
        ],
        &db2,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).to_lowercase().contains("truncated"),
        "{}",
        stderr(&out)
    );

    // Expiring keeps the chain verifiable from the checkpoint it writes first, and the
    // database lets only those records go.
    let dir4 = tempfile::tempdir().unwrap();
    let db4 = sqlite(dir4.path());
    for source in [&root, &other] {
        run(&["catalog", "ingest", source.to_str().unwrap()], &db4);
    }
    let out = run(
        &[
            "audit",
            "expire",
            "--before",
            "2100-01-01",
            "--key",
            key.to_str().unwrap(),
        ],
        &db4,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("removed 4 records"),
        "{}",
        stderr(&out)
    );
    run(&["catalog", "ingest", other.to_str().unwrap()], &db4);
    let out = run(
        &["audit", "verify", "--public-key", public.to_str().unwrap()],
        &db4,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&["audit", "export", "--format", "jsonl"], &db4);
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "only the new record is left"
    );

    // Deleting a record in the middle breaks the chain at the next one.
    let dir3 = tempfile::tempdir().unwrap();
    let db3 = sqlite(dir3.path());
    for source in [&root, &other] {
        run(&["catalog", "ingest", source.to_str().unwrap()], &db3);
    }
    run(&["catalog", "ingest", root.to_str().unwrap()], &db3);
    tamper(
        &db3,
        &[
            "DROP TRIGGER audit_log_no_delete",
            "DELETE FROM audit_log WHERE seq = 1",
        ],
    );
    let out = run(&["audit", "verify"], &db3);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn evidence_packs_verify_offline_and_forgeries_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let root = write_catalog(dir.path());
    run(&["catalog", "ingest", root.to_str().unwrap()], &db);
    run(
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "viewer",
            "--expires",
            "7d",
        ],
        &db,
    );
    let key = dir.path().join("audit.pem");
    let out = run(&["audit", "keygen", "--out", key.to_str().unwrap()], &db);
    let public = dir.path().join("audit.pub");
    std::fs::write(&public, stdout(&out)).unwrap();

    let pack = dir.path().join("evidence.zip");
    let out = run(
        &[
            "evidence",
            "--from",
            "2020-01-01",
            "--to",
            "2100-01-01",
            "--key",
            key.to_str().unwrap(),
            "--out",
            pack.to_str().unwrap(),
        ],
        &db,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 tokens"), "{}", stderr(&out));

    let verify = |path: &std::path::Path| {
        run(
            &[
                "evidence",
                "verify",
                path.to_str().unwrap(),
                "--public-key",
                public.to_str().unwrap(),
            ],
            &db,
        )
    };
    let out = verify(&pack);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Another key's pack is not this one's.
    let other_key = dir.path().join("other.pem");
    run(
        &["audit", "keygen", "--out", other_key.to_str().unwrap()],
        &db,
    );
    let other_pack = dir.path().join("other.zip");
    run(
        &[
            "evidence",
            "--from",
            "2020-01-01",
            "--to",
            "2100-01-01",
            "--key",
            other_key.to_str().unwrap(),
            "--out",
            other_pack.to_str().unwrap(),
        ],
        &db,
    );
    let out = verify(&other_pack);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // One byte changed in the audit records: the file is named. The zip stores a CRC per
    // entry, so flip a byte inside a stored record's text and let the reader or the manifest
    // catch it.
    let mut bytes = std::fs::read(&pack).unwrap();
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0x01;
    let forged = dir.path().join("forged.zip");
    std::fs::write(&forged, &bytes).unwrap();
    let out = verify(&forged);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// Counts the stored checkpoints, reading the database file directly.
fn stored_checkpoints(db: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(db).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_checkpoints")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    })
}

#[test]
fn serve_reads_the_checkpoint_key_at_start_and_writes_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let key = dir.path().join("audit.pem");
    let config = dir.path().join("pave.yaml");
    let write_config = |key: &std::path::Path| {
        let text = format!(
            "auth:\n  audit:\n    signingKey: {}\n    checkpointEvery: 1\n",
            key.display()
        );
        std::fs::write(&config, text).unwrap();
    };
    // A missing key stops the start, naming the setting and the file.
    let missing = dir.path().join("missing.pem");
    write_config(&missing);
    let out = run(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
        &db,
    );
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("auth.audit.signingKey") && err.contains("missing.pem"),
        "{err}"
    );
    // With a key, the server checkpoints the chain by itself (here: every record).
    let out = run(&["audit", "keygen", "--out", key.to_str().unwrap()], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    write_config(&key);
    let out = run(
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "viewer",
            "--expires",
            "1d",
        ],
        &db,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stored_checkpoints(&db), 0);
    let server = common::Server::start(&["--config", config.to_str().unwrap()], &db);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while stored_checkpoints(&db) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint in 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.terminate();
    let out = run(&["audit", "verify"], &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `auth.policy.rego` decides instead of the built-in rules: here it lets a token named
/// `auditor` read the audit log although its role (viewer) lacks `audit.read`, keeps the
/// built-in answer for everything else, and says why it refuses. A policy that does not
/// load stops the start, naming the file.
#[test]
fn a_rego_policy_replaces_the_builtin_authorization() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let policy = dir.path().join("authz.rego");
    std::fs::write(
        &policy,
        r#"package pave.authz

default decision := {"allow": false, "reason": "the test policy refuses anything else"}

decision := {"allow": true, "reason": "auditors read the audit log"} if {
    input.permission == "audit.read"
    input.subject.kind == "token"
    input.subject.name == "token auditor"
}

decision := input.builtin if {
    input.permission != "audit.read"
}
"#,
    )
    .unwrap();
    let config = dir.path().join("pave.yaml");
    std::fs::write(
        &config,
        format!("auth:\n  policy:\n    rego: {}\n", policy.display()),
    )
    .unwrap();
    let token = |name: &str| {
        let out = run(
            &[
                "--config",
                config.to_str().unwrap(),
                "token",
                "create",
                "--name",
                name,
                "--role",
                "viewer",
                "--expires",
                "1d",
            ],
            &db,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).trim().to_owned()
    };
    let (auditor, reader) = (token("auditor"), token("reader"));
    let server = common::Server::start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--refresh-interval",
            "0",
        ],
        &db,
    );
    let get = |token: &str, path: &str| {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("http://{}{path}", server.addr))
            .output()
            .unwrap();
        let text = stdout(&out);
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse::<u16>().unwrap(), body.to_owned())
    };
    let (code, body) = get(&auditor, "/api/audit");
    assert_eq!(code, 200, "{body}");
    let (code, body) = get(&reader, "/api/audit");
    assert_eq!(code, 403, "{body}");
    assert!(
        body.contains("the test policy refuses anything else"),
        "{body}"
    );
    // The built-in answer where the policy passes it on: viewers read the catalog.
    let (code, body) = get(&reader, "/api/catalog/entities");
    assert_eq!(code, 200, "{body}");
    drop(server);

    // The refusal was audited with the policy's reason.
    let out = run(&["audit", "export", "--format", "jsonl"], &db);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.contains("auth.denied") && l.contains("the test policy refuses")),
        "{}",
        stdout(&out)
    );

    // Policies that cannot decide stop the start.
    for (text, expected) in [
        ("package pave.authz\n\ndecision := {", "authz.rego"),
        ("package other\n\ndecision := true\n", "package pave.authz"),
    ] {
        std::fs::write(&policy, text).unwrap();
        let out = run(
            &[
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--config",
                config.to_str().unwrap(),
            ],
            &db,
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("auth.policy.rego") && stderr(&out).contains(expected),
            "{}",
            stderr(&out)
        );
    }
}
