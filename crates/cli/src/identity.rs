//! `pave token`, `pave audit` and `pave evidence`: API tokens, the audit log's verification,
//! export, checkpoints and signing key, and evidence packs. Run by the operator on the
//! database itself (the store's own access is the boundary), so each is recorded with the
//! operator as its actor.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use pave_auth::{AccessPolicy, TokenSecret};
use pave_platform::Principal;
use pave_store::audit::{self, AuditRecord, Outcome, SigningKey, VerifyingKey};
use pave_store::{Store, TokenRow};
use serde_json::{Value, json};

use crate::Outcome as Exit;
use crate::args::OutputFormat;
use crate::output::print_data;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token; its secret is printed once and only its hash is kept
    Create {
        /// A name to tell it by (`ci-deploy`)
        #[arg(long)]
        name: String,
        /// The role it acts with (one of `auth.roles`, or a built-in: admin, editor, viewer, guest)
        #[arg(long)]
        role: String,
        /// How long it is valid (`30d`, `12h`); at most `auth.tokens.maxExpiry` (90d by default)
        #[arg(long)]
        expires: String,
        /// The user it belongs to (`user:default/jane`), if any
        #[arg(long)]
        owner: Option<String>,
    },
    /// List tokens (never their secrets): owner, role, last use, expiry
    List,
    /// Revoke a token at once
    Revoke {
        /// The token's id (`pave token list`)
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Walk the hash chain and the signed checkpoints; name the first bad record
    Verify {
        /// The public key checkpoints are signed with (`pave audit keygen` prints it)
        #[arg(long, env = "PAVE_AUDIT_PUBLIC_KEY")]
        public_key: Option<PathBuf>,
        /// A checkpoint exported earlier (`pave audit checkpoint`): a log cut shorter than it
        /// is caught
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
    },
    /// Export records as JSON Lines (verifiable again) or CSV
    Export {
        /// From this date or time (`2026-12-01`, RFC 3339), inclusive
        #[arg(long)]
        since: Option<String>,
        /// Until this date or time, exclusive
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Write here instead of standard output
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
    /// Sign where the chain stands now, store the checkpoint and print it (keep a copy:
    /// `pave audit verify --checkpoint` then detects a truncated log)
    Checkpoint {
        /// The signing key (`pave audit keygen`)
        #[arg(long, env = "PAVE_AUDIT_KEY")]
        key: PathBuf,
    },
    /// Retention: remove records older than a date, after a signed checkpoint of the last
    /// one to go (the chain then verifies from that checkpoint)
    Expire {
        /// Records before this date or time go (`2025-12-01`, RFC 3339)
        #[arg(long)]
        before: String,
        /// The signing key (`pave audit keygen`)
        #[arg(long, env = "PAVE_AUDIT_KEY")]
        key: PathBuf,
    },
    /// Create an Ed25519 signing key for checkpoints and evidence packs
    Keygen {
        /// Where to write the private key (PEM, PKCS#8; created with mode 0600)
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct EvidenceArgs {
    #[command(subcommand)]
    pub(crate) verify: Option<EvidenceCommand>,
    /// The window's start (`2026-10-01`, RFC 3339), inclusive
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// The window's end, exclusive
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// The pack to write
    #[arg(long, default_value = "evidence.zip")]
    pub(crate) out: PathBuf,
    /// The signing key (`pave audit keygen`)
    #[arg(long, env = "PAVE_AUDIT_KEY")]
    pub(crate) key: Option<PathBuf>,
    /// The guardrail exceptions register to include (default: ./pave-exceptions.yaml when
    /// it exists)
    #[arg(long)]
    pub(crate) exceptions: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Check a pack offline: every file's SHA-256, the signature, the audit chain inside
    Verify {
        pack: PathBuf,
        /// The public key it must be signed with (otherwise the key inside the pack is
        /// used, which proves integrity, not origin)
        #[arg(long, env = "PAVE_AUDIT_PUBLIC_KEY")]
        public_key: Option<PathBuf>,
    },
}

fn now_ms() -> i64 {
    pave_stdx::time::unix_millis()
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time, as Unix milliseconds.
pub(crate) fn parse_time(text: &str) -> anyhow::Result<i64> {
    let date = text.split('-').collect::<Vec<_>>();
    if text.len() == 10
        && let [y, m, d] = date.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<i64>(), d.parse::<i64>())
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
    {
        return Ok(pave_stdx::time::days_from_civil(y, m, d) * 86_400_000);
    }
    pave_policy::exceptions::parse_rfc3339(text)
        .map(|seconds| seconds * 1000)
        .ok_or_else(|| anyhow!("`{text}` is not a date (2026-12-01) or an RFC 3339 time"))
}

pub(crate) async fn token(
    command: TokenCommand,
    store: Arc<dyn Store>,
    policy: &AccessPolicy,
    format: OutputFormat,
) -> anyhow::Result<Exit> {
    let operator = Principal::Operator;
    match command {
        TokenCommand::Create {
            name,
            role,
            expires,
            owner,
        } => {
            if policy.role(&role).is_none() {
                let known: Vec<&str> = policy.roles.keys().map(String::as_str).collect();
                bail!("no role `{role}`; roles: {}", known.join(", "));
            }
            let now = now_ms();
            let expires_s =
                pave_auth::token::expiry(Some(&expires), policy.token_max_expiry, now / 1000)?;
            let (secret, hash) = TokenSecret::generate()?;
            let id = uuid::Uuid::new_v4().to_string();
            let owner = owner.map(|o| o.to_lowercase()).unwrap_or_default();
            let row = TokenRow {
                id: id.clone(),
                name: name.clone(),
                owner: owner.clone(),
                role: role.clone(),
                hash: hash.as_str().to_owned(),
                created_at: now,
                expires_at: expires_s * 1000,
                last_used_at: None,
                revoked_at: None,
            };
            let event = operator.event(
                "token.create",
                &id,
                Outcome::Success,
                json!({"name": name, "role": role, "owner": owner, "expiresAt": row.expires_at}),
            );
            store.create_token(&row, &[event]).await?;
            eprintln!(
                "created token {name} ({id}), role {role}, expires {}; the secret is shown once:",
                pave_stdx::time::iso8601_utc(expires_s)
            );
            println!("{secret}");
            Ok(Exit::Success)
        }
        TokenCommand::List => {
            let now = now_ms();
            let rows: Vec<Value> = store
                .tokens()
                .await?
                .iter()
                .map(|t| {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else if t.expires_at <= now {
                        "expired"
                    } else {
                        "active"
                    };
                    json!({
                        "id": t.id,
                        "name": t.name,
                        "owner": t.owner,
                        "role": t.role,
                        "state": state,
                        "created": pave_stdx::time::iso8601_utc(t.created_at / 1000),
                        "lastUsed": t.last_used_at.map(|ms| pave_stdx::time::iso8601_utc(ms / 1000)),
                        "expires": pave_stdx::time::iso8601_utc(t.expires_at / 1000),
                    })
                })
                .collect();
            print_data(
                format,
                &Value::Array(rows),
                &[
                    ("ID", "id"),
                    ("NAME", "name"),
                    ("OWNER", "owner"),
                    ("ROLE", "role"),
                    ("STATE", "state"),
                    ("LAST USED", "lastUsed"),
                    ("EXPIRES", "expires"),
                ],
            )?;
            Ok(Exit::Success)
        }
        TokenCommand::Revoke { id } => {
            let event = operator.event("token.revoke", &id, Outcome::Success, json!({}));
            if store.revoke_token(&id, now_ms(), &[event]).await? {
                eprintln!("revoked token {id}");
                Ok(Exit::Success)
            } else {
                bail!("no active token with id {id}; see `pave token list`")
            }
        }
    }
}

pub(crate) fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = pave_fs::read_bounded(path, 64 * 1024)
        .with_context(|| format!("cannot read the signing key {}", path.display()))?;
    let text = String::from_utf8(text)
        .map_err(|_| anyhow!("{}: not a PEM key (not UTF-8)", path.display()))?;
    SigningKey::from_pem(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn read_public_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the public key {}", path.display()))?;
    text.trim()
        .parse::<VerifyingKey>()
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}

pub(crate) async fn audit_command(
    command: AuditCommand,
    store: Option<Arc<dyn Store>>,
) -> anyhow::Result<Exit> {
    if let AuditCommand::Keygen { out } = &command {
        keygen(out)?;
        return Ok(Exit::Success);
    }
    let store = store.ok_or_else(|| anyhow!("internal: no store for `pave audit`"))?;
    match command {
        AuditCommand::Verify {
            public_key,
            checkpoint,
        } => {
            let key = public_key.as_deref().map(read_public_key).transpose()?;
            let mut checkpoints = store.checkpoints().await?;
            for path in &checkpoint {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                checkpoints.push(
                    audit::Checkpoint::from_json(text.trim())
                        .map_err(|e| anyhow!("{}: {e}", path.display()))?,
                );
            }
            checkpoints.sort_by_key(|c| c.seq);
            let started = std::time::Instant::now();
            let bounds = store.audit_window(i64::MIN, i64::MAX).await?;
            // After retention the chain starts at the checkpoint of the last expired record.
            let anchor = bounds
                .and_then(|(first, _)| checkpoints.iter().find(|c| c.seq == first - 1).cloned());
            let report = stream_records(&*store, bounds, move |chunks| {
                // Each chunk is hashed on two threads while the store reads the next ones.
                let records = chunks.flat_map(|chunk| audit::prehash(chunk, 2));
                audit::verify(
                    records.map(Ok::<_, std::convert::Infallible>),
                    &checkpoints,
                    key.as_ref(),
                    anchor.as_ref(),
                )
            })
            .await?;
            if report.is_ok() {
                eprintln!("{report} ({} ms)", started.elapsed().as_millis());
                if report.key_id.is_none() && report.checkpoints_matched > 0 {
                    eprintln!(
                        "note: checkpoint signatures were not checked; pass --public-key to check them"
                    );
                }
                Ok(Exit::Success)
            } else {
                eprintln!("{report}");
                Ok(Exit::Failures)
            }
        }
        AuditCommand::Export {
            since,
            until,
            format,
            file,
        } => {
            let filter = audit::Filter {
                since: since.as_deref().map(parse_time).transpose()?,
                until: until.as_deref().map(parse_time).transpose()?,
                ..audit::Filter::default()
            };
            let (_, records) = collect_records(&*store).await?;
            let format = match format {
                ExportFormat::Jsonl => audit::Format::Jsonl,
                ExportFormat::Csv => audit::Format::Csv,
            };
            let written = match &file {
                Some(path) => {
                    let mut out = std::io::BufWriter::new(
                        std::fs::File::create(path)
                            .with_context(|| format!("cannot create {}", path.display()))?,
                    );
                    let n = audit::export(
                        &mut out,
                        format,
                        records.iter().map(Ok::<_, std::convert::Infallible>),
                        &filter,
                    )?;
                    out.flush()?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    let n = audit::export(
                        &mut out,
                        format,
                        records.iter().map(Ok::<_, std::convert::Infallible>),
                        &filter,
                    )?;
                    out.flush()?;
                    n
                }
            };
            eprintln!("exported {written} records");
            Ok(Exit::Success)
        }
        AuditCommand::Checkpoint { key } => {
            let key = read_signing_key(&key)?;
            let head = store.audit_head().await?;
            if head.seq == 0 {
                bail!("the audit log is empty: nothing to vouch for yet");
            }
            let checkpoint = key.checkpoint(&head, now_ms());
            store.add_checkpoint(&checkpoint).await?;
            println!("{}", checkpoint.to_json());
            Ok(Exit::Success)
        }
        AuditCommand::Expire { before, key } => {
            let key = read_signing_key(&key)?;
            let before = parse_time(&before)?;
            let (_, records) = collect_records(&*store).await?;
            // Records are in time order only roughly (replicas' clocks): the run that goes
            // is the prefix of the chain up to the last record before the date.
            let Some(last) = records.iter().rposition(|r| r.event.time_ms < before) else {
                eprintln!(
                    "no records before {}",
                    pave_stdx::time::iso8601_utc(before / 1000)
                );
                return Ok(Exit::Success);
            };
            let checkpoint = key.checkpoint(&records[last].head(), now_ms());
            let removed = store.expire_audit(&checkpoint).await?;
            eprintln!(
                "removed {removed} records (through {}); the checkpoint that vouches for them:",
                records[last].seq
            );
            println!("{}", checkpoint.to_json());
            Ok(Exit::Success)
        }
        AuditCommand::Keygen { .. } => Ok(Exit::Success),
    }
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    let key = SigningKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", out.display()))?;
    file.write_all(key.to_pem().as_bytes())?;
    eprintln!(
        "wrote the private key to {} (key id {}); the public key, for auditors and `--public-key`:",
        out.display(),
        key.key_id()
    );
    println!("{}", key.public());
    Ok(())
}

/// Hands the records `range` names (the whole log when `None`), oldest first, to `consume`
/// on a blocking thread as they are read: reading the database and the work on the records
/// overlap, and memory stays bounded whatever the log's length.
async fn stream_records<T: Send + 'static>(
    store: &dyn Store,
    range: Option<(i64, i64)>,
    consume: impl FnOnce(&mut dyn Iterator<Item = Vec<audit::StoredRecord>>) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let Some((first, last)) = range else {
        return Ok(consume(&mut std::iter::empty()));
    };
    // The store reads chunks while the walk hashes the previous ones on another thread.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<audit::StoredRecord>>(4);
    let worker = tokio::task::spawn_blocking(move || consume(&mut receiver.into_iter()));
    // A consumer that stops early (a bad record) drops the receiver: the rest is not read.
    let read = store
        .visit_stored_audit(first, last, &mut |chunk| sender.send(chunk).is_ok())
        .await;
    drop(sender);
    let consumed = worker.await?;
    read?;
    Ok(consumed)
}

/// Every record, oldest first, and the first one's seq.
async fn collect_records(store: &dyn Store) -> anyhow::Result<(Option<i64>, Vec<AuditRecord>)> {
    let mut records = Vec::new();
    store.visit_audit(0, &mut |r| records.push(r)).await?;
    Ok((records.first().map(|r| r.seq), records))
}

pub(crate) async fn evidence(
    args: EvidenceArgs,
    store: Option<Arc<dyn Store>>,
    policy: &AccessPolicy,
) -> anyhow::Result<Exit> {
    if let Some(EvidenceCommand::Verify { pack, public_key }) = args.verify {
        let key = public_key.as_deref().map(read_public_key).transpose()?;
        let bytes =
            std::fs::read(&pack).with_context(|| format!("cannot read {}", pack.display()))?;
        return match audit::verify_pack(&bytes, key.as_ref()) {
            Ok(report) => {
                println!("{report}");
                Ok(if report.chain.is_ok() {
                    Exit::Success
                } else {
                    Exit::Failures
                })
            }
            Err(e) => {
                eprintln!("{}: {e}", pack.display());
                Ok(Exit::Failures)
            }
        };
    }
    let store = store.ok_or_else(|| anyhow!("internal: no store for an evidence pack"))?;
    let (Some(from), Some(to)) = (args.from.as_deref(), args.to.as_deref()) else {
        bail!("an evidence pack needs its window: --from <date> --to <date>");
    };
    let (from_ms, to_ms) = (parse_time(from)?, parse_time(to)?);
    if to_ms <= from_ms {
        bail!("--to must be after --from");
    }
    let key_path = args
        .key
        .ok_or_else(|| anyhow!("an evidence pack is signed: pass --key (`pave audit keygen`)"))?;
    let key = read_signing_key(&key_path)?;
    let started = std::time::Instant::now();
    let now = now_ms();

    // The window's records: one contiguous run of the chain, chosen by seq.
    let mut records = Vec::new();
    if let Some((first, last)) = store.audit_window(from_ms, to_ms).await? {
        store
            .visit_audit_range(first, last, &mut |r| records.push(r))
            .await?;
    }

    let tokens: Vec<audit::TokenRow> = store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| t.revoked_at.is_none() && t.expires_at > now)
        .map(|t| audit::TokenRow {
            id: t.id,
            name: t.name,
            owner: t.owner,
            role: t.role,
            created_ms: t.created_at,
            last_used_ms: t.last_used_at,
            expires_ms: t.expires_at,
        })
        .collect();
    let mut access = Vec::new();
    for (i, binding) in policy.bindings.iter().enumerate() {
        for subject in binding.groups.iter().chain(&binding.users) {
            access.push(audit::AccessRow {
                subject: subject.clone(),
                role: binding.role.clone(),
                why: format!("auth.bindings[{i}]"),
            });
        }
    }
    for token in &tokens {
        access.push(audit::AccessRow {
            subject: format!("token {} ({})", token.name, token.id),
            role: token.role.clone(),
            why: if token.owner.is_empty() {
                "API token created by the operator".to_owned()
            } else {
                format!("API token of {}", token.owner)
            },
        });
    }

    let exceptions_path = args.exceptions.or_else(|| {
        let default = PathBuf::from("pave-exceptions.yaml");
        default.exists().then_some(default)
    });
    let mut exceptions = Vec::new();
    if let Some(path) = exceptions_path {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let register =
            pave_policy::exceptions::Exceptions::parse(&path.display().to_string(), &text)
                .map_err(|e| anyhow!("{e}"))?;
        for entry in register.entries {
            exceptions.push(audit::ExceptionRow {
                rule: entry.rules.join(" "),
                target: entry.id,
                owner: entry.owner,
                reason: entry.reason,
                expires_ms: Some(entry.expires_at * 1000),
            });
        }
    }

    let index = pave_ingest::load_index(&*store, 1).await?;
    let catalog = &index.catalog;
    let mut ownerless = Vec::new();
    for record in catalog.records() {
        let entity = record.entity();
        let kind = entity["kind"].as_str().unwrap_or_default();
        if !matches!(kind, "Component" | "API" | "Resource" | "System" | "Domain") {
            continue;
        }
        let owner = entity["spec"]["owner"].as_str().unwrap_or_default();
        let owned_by: Vec<&str> = entity["relations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == "ownedBy")
            .filter_map(|r| r["targetRef"].as_str())
            .collect();
        let problem = if owner.is_empty() {
            Some("no spec.owner".to_owned())
        } else if owned_by.iter().all(|target| catalog.get(target).is_none()) {
            Some(format!(
                "owner {} is not in the catalog",
                owned_by.join(", ")
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            ownerless.push(audit::OwnerlessRow {
                entity_ref: record.key.to_string(),
                owner: owner.to_owned(),
                problem,
            });
        }
    }

    let inputs = audit::EvidenceInputs {
        from_ms,
        to_ms,
        generated_ms: now,
        records,
        access,
        tokens,
        exceptions,
        ownerless,
    };
    let pack = audit::build_pack(&inputs, &key)?;
    let event = Principal::Operator.event(
        "evidence.create",
        &args.out.display().to_string(),
        Outcome::Success,
        json!({"from": from_ms, "to": to_ms, "records": inputs.records.len(), "bytes": pack.len()}),
    );
    store.append_audit(&[event]).await?;
    std::fs::write(&args.out, &pack)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({} bytes): {} audit records, {} access rows, {} tokens, {} exceptions, {} entities without a valid owner ({} ms)",
        args.out.display(),
        pack.len(),
        inputs.records.len(),
        inputs.access.len(),
        inputs.tokens.len(),
        inputs.exceptions.len(),
        inputs.ownerless.len(),
        started.elapsed().as_millis()
    );
    Ok(Exit::Success)
}
