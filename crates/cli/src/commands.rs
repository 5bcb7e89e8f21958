//! The commands.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::CommandFactory;
use pave_auth::AccessPolicy;
use pave_catalog::EntityRef;
use pave_catalog::query::{EntitiesRequest, EntityFilter};
use pave_ingest::{IngestConfig, IngestReport, Progress, Source, StoredStatus};
use pave_platform::{Platform, Principal};
use pave_server::{AppState, ServeOptions};
use pave_store::Store;
use serde_json::{Value, json};

use crate::args::{CatalogCommand, Cli, Command, DemoArgs, OutputFormat, ServeArgs, ServerArgs};
use crate::config::{ConfigFile, data_dir, open_store, store_cache};
use crate::output::{print_data, print_diagnostics};
use crate::{Outcome, wants_json};

pub(crate) async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let format = cli.global.output;
    // Commands that need neither pave.yaml nor a store run first, so that a broken pave.yaml
    // does not stop `pave check` or `pave completions`.
    let command = match cli.command {
        Command::Slo(args) => return crate::slo::run(args.args, format).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "pave", &mut std::io::stdout());
            return Ok(Outcome::Success);
        }
        Command::Check(args) => return crate::check::check(args, format).await,
        Command::Render(args) => return crate::render::run(args),
        Command::New(args) => return crate::golden::new(args, format),
        Command::Templates(command) => return crate::golden::templates(command, format),
        Command::Update(args) => return crate::golden::update(args, format),
        Command::Drift(args) => return crate::golden::drift(args, format),
        Command::Admission(crate::args::AdmissionCommand::Manifest(args)) => {
            return crate::check::admission_manifest(&args);
        }
        Command::Audit(crate::identity::AuditCommand::Keygen { out }) => {
            return crate::identity::audit_command(
                crate::identity::AuditCommand::Keygen { out },
                None,
            )
            .await;
        }
        command @ (Command::Catalog(_)
        | Command::Serve(_)
        | Command::Demo(_)
        | Command::Token(_)
        | Command::Audit(_)
        | Command::Evidence(_)
        | Command::Dora(_)
        | Command::Events(_)
        | Command::Incident(_)
        | Command::Alerts(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Migrate(_)) => command,
    };
    let (config_file, _) = ConfigFile::load(cli.global.config.as_deref())?;
    let mut ingest = config_file.ingest_config()?;
    // A mistake in `auth:` stops `serve` and `demo` before anything is opened or read.
    let access = match &command {
        Command::Serve(_) | Command::Demo(_) => config_file.access_policy()?,
        _ => None,
    };
    // Likewise `events:` (secrets read, rules compiled), until the intake is served.
    if matches!(&command, Command::Serve(_) | Command::Demo(_)) {
        config_file.events_config()?;
    }
    let json_logs = cli.global.log_format == crate::args::LogFormat::Json;
    let database_url = cli.global.database_url.as_deref();
    // Each store reads into a git cache of its own.
    let open = async |ingest: &mut IngestConfig, default_file: &str| {
        ingest.git_cache = store_cache(&ingest.git_cache, database_url, default_file);
        open_store(database_url, default_file).await
    };
    match command {
        Command::Catalog(CatalogCommand::Validate { paths }) => validate(&paths, &ingest, format),
        Command::Catalog(command) => {
            let store = open(&mut ingest, "pave.db").await?;
            if let CatalogCommand::Ingest { sources } = &command {
                trust(&mut ingest, sources);
            }
            catalog(command, store, &ingest, format).await
        }
        Command::Serve(mut args) => {
            args.server.json_logs = json_logs;
            let store = open(&mut ingest, "pave.db").await?;
            trust(&mut ingest, &args.sources);
            let events = config_file.events_config()?;
            serve(args, store, ingest, access, events).await
        }
        Command::Demo(mut args) => {
            args.server.json_logs = json_logs;
            let store = open(&mut ingest, "demo.db").await?;
            let events = config_file.events_config()?;
            demo(args, store, ingest, access, events).await
        }
        Command::Token(command) => {
            let policy = config_file.access_policy()?.unwrap_or_default();
            let store = open(&mut ingest, "pave.db").await?;
            crate::identity::token(command, store, &policy, format).await
        }
        Command::Audit(command) => {
            let store = open(&mut ingest, "pave.db").await?;
            crate::identity::audit_command(command, Some(store)).await
        }
        Command::Dora(args) => {
            let events = config_file.events_config()?;
            let store = open(&mut ingest, "pave.db").await?;
            crate::delivery::dora(args, store, &events, &ingest, format).await?;
            Ok(Outcome::Success)
        }
        Command::Events(command) => {
            let events = config_file.events_config()?;
            let store = open(&mut ingest, "pave.db").await?;
            crate::delivery::events(command, store, &events, format).await?;
            Ok(Outcome::Success)
        }
        Command::Alerts(args) => {
            let events = config_file.events_config()?;
            let store = open(&mut ingest, "pave.db").await?;
            crate::delivery::alerts(args, store, &events, format).await?;
            Ok(Outcome::Success)
        }
        Command::Incident(command) => {
            let events = config_file.events_config()?;
            let store = open(&mut ingest, "pave.db").await?;
            crate::delivery::incident(command, store, &events, format).await?;
            Ok(Outcome::Success)
        }
        Command::Evidence(args) => {
            let policy = config_file.access_policy()?.unwrap_or_default();
            // Checking a pack needs no database.
            let store = if args.verify.is_some() {
                None
            } else {
                Some(open(&mut ingest, "pave.db").await?)
            };
            crate::identity::evidence(args, store, &policy).await
        }
        Command::Backup(args) => crate::database::backup(args, database_url, format).await,
        Command::Restore(args) => crate::database::restore(args, database_url, format).await,
        Command::Migrate(args) => crate::database::migrate(args, database_url, format).await,
        _ => Err(anyhow!("internal: command dispatched twice")),
    }
}

/// What the operator names on the command line is read, whatever `catalog.reading` allows
/// (the lists guard the API).
fn trust(ingest: &mut IngestConfig, sources: &[String]) {
    for source in sources {
        ingest.trust(&Source::parse(source));
    }
}

fn validate(
    paths: &[std::path::PathBuf],
    ingest: &IngestConfig,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let report = pave_ingest::validate(paths, ingest);
    print_diagnostics(&report.diagnostics);
    if wants_json(format) {
        print_data(format, &serde_json::to_value(&report)?, &[])?;
    } else {
        let errors = report.errors();
        println!(
            "{} files, {} entities valid, {} rejected, {} postmortems valid, {} errors, {} warnings",
            report.files,
            report.entities,
            report.rejected,
            report.postmortems,
            errors,
            report.diagnostics.len() - errors
        );
    }
    Ok(if report.errors() > 0 {
        Outcome::Failures
    } else {
        Outcome::Success
    })
}

async fn catalog(
    command: CatalogCommand,
    store: Arc<dyn Store>,
    ingest: &IngestConfig,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let platform = Platform::without_snapshot(Arc::clone(&store), ingest.clone());
    match command {
        CatalogCommand::Validate { .. } => Err(anyhow!("validate needs no store")),
        CatalogCommand::Ingest { sources } => {
            let locations = if sources.is_empty() {
                let all = store.locations().await?;
                if all.is_empty() {
                    return Err(anyhow!(
                        "no sources given and none registered; try `pave catalog ingest ./path/to/catalog`"
                    ));
                }
                all
            } else {
                let sources: Vec<Source> = sources.iter().map(|s| Source::parse(s)).collect();
                platform.register(&Principal::Operator, &sources).await?
            };
            let report = run_ingest(&platform, &locations).await?;
            print_report(&report, format)?;
            // A source that could not be read at all (an unreachable repository, a folder
            // that is gone) is an input error; rejected entities are failures.
            Ok(if report.locations.iter().any(|l| l.failed.is_some()) {
                Outcome::InputErrors
            } else if report.has_failures() {
                Outcome::Failures
            } else {
                Outcome::Success
            })
        }
        CatalogCommand::List { filter, kind } => {
            let mut filters = filter;
            if let Some(kind) = kind {
                filters = if filters.is_empty() {
                    vec![format!("kind={kind}")]
                } else {
                    filters
                        .into_iter()
                        .map(|f| format!("{f},kind={kind}"))
                        .collect()
                };
            }
            let catalog = pave_ingest::load_catalog(store.as_ref()).await?;
            let request = EntitiesRequest {
                filter: EntityFilter::parse(&filters)?,
                ..EntitiesRequest::default()
            };
            let page = catalog.entities(&request)?;
            let items: Vec<Value> = page
                .ids
                .iter()
                .filter_map(|id| serde_json::from_str(&catalog.render(*id, None)).ok())
                .collect();
            print_data(
                format,
                &Value::Array(items),
                &[
                    ("KIND", "kind"),
                    ("NAMESPACE", "metadata.namespace"),
                    ("NAME", "metadata.name"),
                    ("TYPE", "spec.type"),
                    ("OWNER", "spec.owner"),
                    ("LIFECYCLE", "spec.lifecycle"),
                ],
            )?;
            Ok(Outcome::Success)
        }
        CatalogCommand::Get { entity_ref } => {
            let key = EntityRef::parse(&entity_ref, Some("component"), "default")?.key();
            let catalog = pave_ingest::load_catalog(store.as_ref()).await?;
            let record = catalog
                .get(&key)
                .ok_or_else(|| anyhow!("no entity {key} in the catalog"))?;
            let format = if format == OutputFormat::Table {
                OutputFormat::Yaml
            } else {
                format
            };
            print_data(format, &record.entity(), &[])?;
            Ok(Outcome::Success)
        }
        CatalogCommand::Locations => {
            let rows: Vec<Value> = store
                .locations()
                .await?
                .into_iter()
                .map(|l| {
                    let status = l.status.as_deref().and_then(StoredStatus::parse);
                    let errors = status.as_ref().map_or(0, StoredStatus::errors);
                    json!({
                        "id": l.id, "type": l.kind, "target": l.target,
                        "refreshedAt": l.refreshed_at.map(iso8601),
                        "errors": errors,
                        "status": status,
                    })
                })
                .collect();
            print_data(
                format,
                &Value::Array(rows),
                &[
                    ("ID", "id"),
                    ("TYPE", "type"),
                    ("TARGET", "target"),
                    ("LAST INGEST", "refreshedAt"),
                    ("ERRORS", "errors"),
                ],
            )?;
            Ok(Outcome::Success)
        }
        CatalogCommand::Unregister { id } => {
            let id = pave_store::LocationId::from(id);
            if platform.remove_location(&Principal::Operator, &id).await? {
                eprintln!("removed location {id} and the entities it provided");
                Ok(Outcome::Success)
            } else {
                Err(anyhow!(
                    "no location with id {id}; see `pave catalog locations`"
                ))
            }
        }
    }
}

/// A spinner on a terminal showing files and entities read so far.
struct Spinner {
    bar: indicatif::ProgressBar,
    files: AtomicUsize,
    entities: AtomicUsize,
}

impl Progress for Spinner {
    fn file_done(&self, entities: usize) {
        let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        let entities = self.entities.fetch_add(entities, Ordering::Relaxed) + entities;
        self.bar
            .set_message(format!("read {files} files, {entities} entities"));
    }
}

async fn run_ingest(
    platform: &Platform,
    locations: &[pave_store::LocationRow],
) -> anyhow::Result<IngestReport> {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(100));
        bar.set_message("reading sources");
        Arc::new(Spinner {
            bar,
            files: AtomicUsize::new(0),
            entities: AtomicUsize::new(0),
        })
    });
    let progress = spinner.clone().map(|s| s as Arc<dyn Progress>);
    let report = platform
        .refresh(&Principal::Operator, locations, progress)
        .await;
    if let Some(spinner) = spinner {
        spinner.bar.finish_and_clear();
    }
    Ok(report?)
}

fn print_report(report: &IngestReport, format: OutputFormat) -> anyhow::Result<()> {
    print_diagnostics(report.diagnostics());
    for location in &report.locations {
        if let Some(failed) = &location.failed {
            eprintln!("error: {}:{}: {failed}", location.kind, location.target);
        }
    }
    if wants_json(format) {
        print_data(format, &serde_json::to_value(report)?, &[])?;
    } else {
        let rows: Vec<Value> = report
            .locations
            .iter()
            .map(|l| {
                json!({"source": format!("{}:{}", l.kind, l.target), "added": l.added, "updated": l.updated,
                       "unchanged": l.unchanged, "removed": l.removed, "rejected": l.rejected + l.conflicts,
                       "errors": l.errors()})
            })
            .collect();
        print_data(
            format,
            &Value::Array(rows),
            &[
                ("SOURCE", "source"),
                ("ADDED", "added"),
                ("UPDATED", "updated"),
                ("UNCHANGED", "unchanged"),
                ("REMOVED", "removed"),
                ("REJECTED", "rejected"),
                ("ERRORS", "errors"),
            ],
        )?;
    }
    let t = report.totals();
    eprintln!(
        "ingested {} source(s) in {:.2} s: {} added, {} updated, {} unchanged, {} removed, {} rejected ({} errors, {} warnings; {} files read, {} unchanged)",
        report.locations.len(),
        report.duration_ms as f64 / 1000.0,
        t.added,
        t.updated,
        t.unchanged,
        t.removed,
        t.rejected + t.conflicts,
        t.errors,
        t.warnings,
        t.files_read,
        t.files_unchanged,
    );
    Ok(())
}

/// `--prometheus-url`: live SLO status on entity pages.
fn set_prometheus(state: &AppState, args: &ServerArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.prometheus_url {
        state
            .set_prometheus_url(url)
            .with_context(|| format!("--prometheus-url {url}"))?;
    }
    Ok(())
}

/// `--create-push-url` and its identity and timeout (the Create page's push), checked
/// before anything is read.
fn create_push(args: &ServerArgs) -> anyhow::Result<Option<pave_server::CreatePush>> {
    let create = &args.create;
    let Some(url) = &create.create_push_url else {
        return Ok(None);
    };
    pave_server::CreatePush::new(
        url,
        Some(&create.create_push_identity),
        create.create_push_timeout,
    )
    .map(Some)
    .map_err(|e| anyhow!(e))
}

/// `--max-heavy-requests`, `--heavy-queue`, `--heavy-wait`.
fn set_work_limits(state: &AppState, args: &ServerArgs) {
    let work = &args.work;
    state.set_work_limits(pave_server::WorkLimits {
        max_heavy: work
            .max_heavy_requests
            .map_or_else(pave_server::cores, |n| n as usize),
        max_queued: work.heavy_queue as usize,
        max_wait: work.heavy_wait,
        ..pave_server::WorkLimits::default()
    });
}

/// Safe defaults: without an `auth` section the server acts for everyone as the operator,
/// so it listens on loopback only, unless `--insecure-no-auth` says otherwise (then it
/// warns, at every start).
fn guard_exposure(args: &ServerArgs, auth: bool) -> anyhow::Result<()> {
    if let Some(warning) = exposure(args.addr, auth, args.insecure_no_auth)? {
        tracing::warn!("{warning}");
        if !args.json_logs {
            eprintln!("warning: {warning}");
        }
    }
    Ok(())
}

/// Whether to serve `addr`: an error when it is reachable from other machines and nothing
/// protects it; a warning when `--insecure-no-auth` allowed that anyway.
pub(crate) fn exposure(
    addr: std::net::SocketAddr,
    auth: bool,
    insecure_no_auth: bool,
) -> anyhow::Result<Option<String>> {
    if auth || addr.ip().is_loopback() {
        return Ok(None);
    }
    if insecure_no_auth {
        return Ok(Some(format!(
            "serving {addr} without authentication (--insecure-no-auth): anyone who can reach it may read the catalog, register locations (including files on this machine) and delete entities"
        )));
    }
    Err(anyhow!(
        "refusing to serve {addr} without authentication: pave.yaml has no `auth` section, so every caller would act as the operator.\n\
         Either add an `auth` section to pave.yaml (docs/operations.md, section Access control; `auth: {{}}` with API tokens is enough), \
         or listen on loopback only (--addr 127.0.0.1:7007), \
         or, on a network you trust completely, pass --insecure-no-auth"
    ))
}

fn serve_options(args: &ServerArgs) -> anyhow::Result<ServeOptions> {
    let edge = &args.edge;
    let files = |cert: &Option<PathBuf>, key: &Option<PathBuf>| match (cert, key) {
        (Some(cert), Some(key)) => Some(pave_server::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    let mut options = ServeOptions::new(args.addr);
    options.refresh_interval = (!args.refresh_interval.is_zero()).then_some(args.refresh_interval);
    options.shutdown_delay = args.shutdown_delay;
    options.tls = files(&args.tls_cert, &args.tls_key);
    let usize_of = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let admission_limit = edge.admission_timeout + Duration::from_secs(2);
    options.limits = pave_server::Limits {
        header_timeout: edge.header_timeout,
        idle_timeout: edge.idle_timeout,
        max_connections: usize_of(edge.max_connections),
        max_connections_per_client: usize_of(edge.max_connections_per_client),
        max_requests_per_client: usize_of(edge.max_requests_per_client),
        request: pave_server::listener::RequestTimeouts {
            read: edge.read_timeout,
            write: edge.write_timeout,
            metrics: edge.metrics_timeout,
            admission: admission_limit,
        },
    };
    options.browser = pave_server::BrowserOptions::new(
        edge.public_url.as_deref(),
        &edge.allowed_hosts,
        &edge.cors_origins,
    )?;
    let admission = &mut options.admission;
    admission.addr = edge.admission_addr;
    admission.tls = files(&edge.admission_tls_cert, &edge.admission_tls_key);
    if edge.admission_client_ca.is_some() && admission.tls.is_none() && options.tls.is_none() {
        bail!(
            "--admission-client-ca verifies client certificates during the TLS handshake: \
             the admission listener needs a certificate (--admission-tls-cert/--admission-tls-key or --tls-cert/--tls-key)"
        );
    }
    admission.client_ca = edge.admission_client_ca.clone();
    admission.budget = edge.admission_timeout;
    admission.workers = usize_of(edge.admission_workers);
    admission.limits.header_timeout = edge.header_timeout;
    admission.limits.idle_timeout = edge.idle_timeout;
    admission.limits.max_connections = usize_of(edge.admission_max_connections);
    admission.limits.request.admission = admission_limit;
    Ok(options)
}

async fn start_server(
    state: Arc<AppState>,
    args: &ServerArgs,
    options: ServeOptions,
    what: &str,
) -> anyhow::Result<()> {
    let what = what.to_owned();
    let json_logs = args.json_logs;
    let scheme = |tls: bool| if tls { "https" } else { "http" };
    let main_scheme = scheme(args.tls_cert.is_some());
    let admission_scheme =
        scheme(args.edge.admission_tls_cert.is_some() || args.tls_cert.is_some());
    pave_server::serve(state, options, move |bound| {
        let addr = bound.addr;
        let webhook = match bound.admission {
            Some(admission) => format!("{admission_scheme}://{admission}"),
            None => format!("{main_scheme}://{addr}"),
        };
        let line = format!(
            "{what}: open {main_scheme}://{addr}/ (API at {main_scheme}://{addr}/api/catalog, admission webhook at {webhook}{}, stop with Ctrl-C)",
            pave_check::admission::WEBHOOK_PATH
        );
        if json_logs {
            // Keep stderr pure JSON lines for log collectors.
            tracing::info!(%addr, "{line}");
        } else {
            eprintln!("{line}");
        }
    })
    .await
    .with_context(|| format!("cannot serve on {}", args.addr))
}

async fn serve(
    args: ServeArgs,
    store: Arc<dyn Store>,
    ingest: IngestConfig,
    access: Option<Arc<AccessPolicy>>,
    events: pave_intake::IntakeConfig,
) -> anyhow::Result<Outcome> {
    // Bad limits or browser settings, or an unprotected public address, stop the start
    // before anything is read.
    guard_exposure(&args.server, access.is_some())?;
    let options = serve_options(&args.server)?;
    let push = create_push(&args.server)?;
    // One server per SQLite file, held until this returns; taken before the first write.
    let _claim = store.claim_serving()?;
    // The metrics recorder before anything records: the first catalog rebuild may finish
    // before the routes are built, and gauges set without a recorder are lost.
    let _ = pave_server::metrics::handle();
    let sources: Vec<Source> = args.sources.iter().map(|s| Source::parse(s)).collect();
    let platform = Platform::new(Arc::clone(&store), ingest);
    let registered = platform.register(&Principal::Operator, &sources).await?;
    tracing::info!(
        backend = store.backend(),
        sources = registered.len(),
        "starting"
    );
    let policy = crate::check::assemble(&args.policy)?;
    let audit_key = audit_signing_key(access.as_deref())?;
    let authz = authorization_policy(access.as_deref())?;
    let state = AppState::with_platform(platform);
    state.set_audit_signing_key(audit_key);
    state.set_access_policy(access);
    state.set_authorization_policy(authz);
    state.set_policy(policy);
    state.set_admission_failure_policy(args.admission_failure_policy);
    set_prometheus(&state, &args.server)?;
    state.set_create_push(push);
    set_work_limits(&state, &args.server);
    // Serve what is stored at once; read the sources in the background: all of them when
    // this replica leads the schedule, else only those never read yet (the leader reads the
    // rest on its schedule).
    state.reload().await?;
    // The search index, built in the background from the snapshot just loaded.
    state.start_search();
    // Postmortems beside catalog files, from the copies on this machine, until the sources
    // are read again.
    if let Err(e) = state.platform.read_stored_postmortems().await {
        tracing::warn!(error = %e, "cannot read the stored sources' postmortems");
    }
    crate::delivery::start(&state, events).await?;
    let background = Arc::clone(&state);
    tokio::spawn(async move {
        let platform = &background.platform;
        let result = match platform.lead(pave_platform::LEAD_TERM).await {
            Ok(true) => background.refresh_all().await,
            Ok(false) | Err(_) => match platform.locations(&Principal::Scheduler).await {
                Ok(all) => {
                    let unread: Vec<_> = all
                        .into_iter()
                        .filter(|l| l.refreshed_at.is_none())
                        .collect();
                    platform.refresh(&Principal::Scheduler, &unread, None).await
                }
                Err(e) => Err(e.into()),
            },
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "initial ingestion failed");
        }
    });
    start_server(state, &args.server, options, "pave serve").await?;
    Ok(Outcome::Success)
}

/// `auth.policy.rego` loaded through pave's Rego engine (the guardrails' own, with its
/// evaluation threads and time limits), as the server's [`pave_auth::ExternalPolicy`].
struct RegoAuthorization(pave_policy_rego::RegoPolicies);

impl pave_auth::ExternalPolicy for RegoAuthorization {
    fn decide(&self, input: &serde_json::Value) -> Result<Option<serde_json::Value>, String> {
        self.0
            .query(input, pave_auth::AUTHZ_RULE)
            .map_err(|e| e.to_string())
    }
}

/// The package `auth.policy.rego` must declare.
const AUTHZ_PACKAGE: &str = "pave.authz";

/// Loads `auth.policy.rego`, if set: a missing file, a syntax error or a policy without
/// `package pave.authz` stops the start with the file's name.
fn authorization_policy(
    access: Option<&AccessPolicy>,
) -> anyhow::Result<Option<Arc<dyn pave_auth::ExternalPolicy>>> {
    let Some(path) = access.and_then(|p| p.rego_policy.as_deref()) else {
        return Ok(None);
    };
    let options = pave_policy_rego::RegoOptions {
        all_namespaces: true,
        // A decision per request: a policy slower than this is a bug, and it denies.
        timeout: Duration::from_millis(500),
        ..pave_policy_rego::RegoOptions::default()
    };
    let rego = pave_policy_rego::RegoPolicies::load(&[path.to_owned()], &[], options)
        .map_err(|e| anyhow!("auth.policy.rego: {}: {e}", path.display()))?;
    if !rego.namespaces().contains(&AUTHZ_PACKAGE) {
        bail!(
            "auth.policy.rego: {} declares no `package {AUTHZ_PACKAGE}` (its rule `decision` answers each request)",
            path.display()
        );
    }
    Ok(Some(Arc::new(RegoAuthorization(rego))))
}

/// `auth.audit.signingKey`, read now so that a missing or bad key stops the start with the
/// file's name rather than failing the first checkpoint.
fn audit_signing_key(
    access: Option<&AccessPolicy>,
) -> anyhow::Result<Option<pave_store::audit::SigningKey>> {
    let Some(path) = access.and_then(|p| p.audit.signing_key.as_deref()) else {
        return Ok(None);
    };
    crate::identity::read_signing_key(path)
        .map(Some)
        .with_context(|| format!("auth.audit.signingKey: {}", path.display()))
}

async fn demo(
    args: DemoArgs,
    store: Arc<dyn Store>,
    ingest: IngestConfig,
    access: Option<Arc<AccessPolicy>>,
    events: pave_intake::IntakeConfig,
) -> anyhow::Result<Outcome> {
    if !args.no_serve {
        guard_exposure(&args.server, access.is_some())?;
    }
    let options = serve_options(&args.server)?;
    let push = create_push(&args.server)?;
    let _claim = if args.no_serve {
        None
    } else {
        Some(store.claim_serving()?)
    };
    let _ = pave_server::metrics::handle();
    let dir = args.dir.clone().unwrap_or_else(|| data_dir().join("demo"));
    let summary = pave_demo::write_demo_org(&dir)
        .with_context(|| format!("cannot write the demo catalog to {}", dir.display()))?;
    let root = dir.join("catalog-info.yaml");
    let platform = Platform::new(store, ingest);
    let locations = platform
        .register(&Principal::Operator, &[Source::Path(root.clone())])
        .await?;
    let audit_key = audit_signing_key(access.as_deref())?;
    let authz = authorization_policy(access.as_deref())?;
    let state = AppState::with_platform(platform);
    state.set_audit_signing_key(audit_key);
    state.set_access_policy(access);
    state.set_authorization_policy(authz);
    set_prometheus(&state, &args.server)?;
    state.set_create_push(push);
    set_work_limits(&state, &args.server);
    let report = state.refresh(&locations).await?;
    print_diagnostics(report.diagnostics());
    state.start_search();
    let catalog = state.catalog();
    eprintln!(
        "demo organisation Northwind Labs in {}: {} entities ({} groups, {} users, {} systems, {} components, {} APIs, {} resources, {} templates) in {:.2} s",
        display(&dir),
        catalog.len(),
        summary.groups,
        summary.users,
        summary.systems,
        summary.components,
        summary.apis,
        summary.resources,
        summary.templates,
        report.duration_ms as f64 / 1000.0
    );
    crate::delivery::start(&state, events).await?;
    let started = std::time::Instant::now();
    let seeded = crate::delivery::seed_demo(&state).await?;
    if seeded > 0 {
        eprintln!(
            "demo delivery history: {seeded} GitHub deliveries over 90 days recorded and processed in {:.2} s (DORA pages at /dora)",
            started.elapsed().as_secs_f64()
        );
    }
    let started = std::time::Instant::now();
    let published = crate::guardrails::seed_demo(&state).await?;
    if published > 0 {
        eprintln!(
            "demo guardrails: {published} pave check reports of the services' repositories stored in {:.2} s (Guardrails tab of each service)",
            started.elapsed().as_secs_f64()
        );
    }
    if args.no_serve {
        return Ok(Outcome::Success);
    }
    start_server(state, &args.server, options, "pave demo").await?;
    Ok(Outcome::Success)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn iso8601(millis: i64) -> String {
    pave_stdx::time::iso8601_utc(millis.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_795_737_600_000), "2026-11-27T00:00:00Z");
        assert_eq!(
            super::iso8601(951_782_400_000 + 3_723_000),
            "2000-02-29T01:02:03Z"
        );
    }

    #[test]
    fn serve_flags_default_to_the_servers_defaults() {
        use clap::Parser as _;
        // Environment variables would change the defaults under test.
        for (name, _) in std::env::vars() {
            if name.starts_with("PAVE_") {
                return;
            }
        }
        let cli = crate::args::Cli::try_parse_from(["pave", "serve"]).unwrap();
        let crate::args::Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let options = super::serve_options(&args.server).unwrap();
        let defaults = pave_server::ServeOptions::default();
        assert_eq!(options.limits, defaults.limits);
        assert_eq!(options.admission.budget, defaults.admission.budget);
        assert_eq!(options.admission.workers, defaults.admission.workers);
        assert_eq!(options.admission.limits, defaults.admission.limits);
        assert!(options.browser.cors_origins().is_empty());
        // The Create page pushes nowhere unless told; its other settings are the server's.
        assert!(super::create_push(&args.server).unwrap().is_none());
        let create = &args.server.create;
        assert_eq!(
            create.create_push_timeout,
            pave_server::DEFAULT_PUSH_TIMEOUT
        );
        assert_eq!(
            create.create_push_identity,
            pave_server::DEFAULT_PUSH_IDENTITY
        );
    }

    #[test]
    #[rustfmt::skip]
    fn unprotected_public_addresses_need_the_insecure_flag() {
        // (addr, auth section, --insecure-no-auth, Ok(warns) or Err(message part))
        let cases: &[(&str, bool, bool, Result<bool, &str>)] = &[
            ("127.0.0.1:7007", false, false, Ok(false)),
            ("[::1]:7007", false, false, Ok(false)),
            ("127.8.9.10:0", false, false, Ok(false)),
            ("0.0.0.0:7007", false, false, Err("refusing to serve 0.0.0.0:7007 without authentication")),
            ("[::]:7007", false, false, Err("--insecure-no-auth")),
            ("192.168.1.5:80", false, false, Err("add an `auth` section")),
            ("0.0.0.0:7007", false, true, Ok(true)),
            ("10.0.0.1:7007", false, true, Ok(true)),
            ("0.0.0.0:7007", true, false, Ok(false)),
            ("0.0.0.0:7007", true, true, Ok(false)),
            ("127.0.0.1:7007", false, true, Ok(false)),
        ];
        for (addr, auth, insecure, want) in cases {
            let got = super::exposure(addr.parse().unwrap(), *auth, *insecure);
            match (got, want) {
                (Ok(warning), Ok(warns)) => assert_eq!(warning.is_some(), *warns, "{addr} {auth} {insecure}"),
                (Err(e), Err(part)) => assert!(format!("{e:#}").contains(part), "{addr}: {e:#}"),
                (got, want) => panic!("{addr} {auth} {insecure}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn bad_browser_settings_stop_serve_with_the_flag() {
        use clap::Parser as _;
        let cli =
            crate::args::Cli::try_parse_from(["pave", "serve", "--cors-origin", "app.example"])
                .unwrap();
        let crate::args::Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let err = super::serve_options(&args.server).unwrap_err();
        assert!(err.to_string().contains("--cors-origin"), "{err}");
        assert!(
            crate::args::Cli::try_parse_from(["pave", "serve", "--header-timeout", "0"]).is_err()
        );
    }
}
