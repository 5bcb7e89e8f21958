//! Delivery events and DORA on the command line and in `serve`/`demo`: starting the intake
//! and the processor next to the server ([`start`]), the demo's 90-day history
//! ([`seed_demo`]), and `pave dora`, `pave events …`, `pave incident …` on the database.
//! Results go to stdout, notes and warnings to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use pave_delivery::Attribution;
use pave_intake::{Declaration, Intake, IntakeConfig, Processor};
use pave_platform::Principal;
use pave_server::AppState;
use pave_server::events::{Events, PROCESSOR_POLL};
use pave_store::Store;
use serde_json::{Value, json};

use crate::args::OutputFormat;
use crate::output::print_data;

/// How long `pave events replay` waits for the ledger's lease: longer than a stopped
/// server's lease lives (three processor polls, at least 10 s).
const LEASE_WAIT: Duration = Duration::from_secs(20);

/// How often the server looks at whether the catalog changed who owns what.
const REATTRIBUTE_EVERY: Duration = Duration::from_secs(10);

fn attribution(entities: &[Value], config: &IntakeConfig) -> anyhow::Result<Attribution> {
    let attribution = Attribution::with_config(entities, &config.attribution)
        .map_err(|e| anyhow!("events.attribution: {e}"))?;
    log_problems(&attribution);
    Ok(attribution)
}

/// Catalog annotations attribution cannot use, for the platform team to fix.
fn log_problems(attribution: &Attribution) {
    for problem in attribution.problems() {
        tracing::warn!("delivery attribution: {problem}");
    }
}

fn catalog_entities(state: &AppState) -> Vec<Value> {
    state
        .catalog()
        .records()
        .iter()
        .map(|record| record.entity())
        .collect()
}

/// Starts the intake and the processor for `state` (its catalog read already), and keeps
/// the ledger attributed to the catalog as it changes.
pub(crate) async fn start(state: &Arc<AppState>, config: IntakeConfig) -> anyhow::Result<()> {
    let store = state.platform.store();
    let entities = catalog_entities(state);
    let processor = Processor::load(store.clone(), attribution(&entities, &config)?, &config)
        .await
        .context("cannot load the delivery ledger")?;
    let processor = Arc::new(processor);
    let intake = Arc::new(Intake::start(Arc::clone(store), config.clone()));
    tokio::spawn(Arc::clone(&processor).run(
        intake.committed(),
        PROCESSOR_POLL,
        std::future::pending(),
    ));
    let watcher = Arc::clone(state);
    let reattribute = Arc::clone(&processor);
    tokio::spawn(async move {
        let mut last = None;
        loop {
            tokio::time::sleep(REATTRIBUTE_EVERY).await;
            let entities = catalog_entities(&watcher);
            match Attribution::with_config(&entities, &config.attribution) {
                Ok(next) => {
                    let fingerprint = next.fingerprint();
                    if last != Some(fingerprint) {
                        if last.is_some() {
                            log_problems(&next);
                        }
                        last = Some(fingerprint);
                        if let Err(e) = reattribute.set_attribution(next).await {
                            tracing::error!(error = %e, "cannot re-attribute delivery facts");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "events.attribution"),
            }
        }
    });
    state.set_events(Some(Events { intake, processor }));
    Ok(())
}

/// Records the demo's 90 days of GitHub and Alertmanager deliveries for the demo catalog through the intake,
/// once (a store that has deliveries keeps them), and waits until they are processed.
pub(crate) async fn seed_demo(state: &Arc<AppState>) -> anyhow::Result<usize> {
    let Some(events) = state.events() else {
        return Ok(0);
    };
    let store = state.platform.store();
    if store.delivery_stats().await?.deliveries > 0 {
        return Ok(0);
    }
    let entities = catalog_entities(state);
    let now = pave_stdx::time::unix_millis();
    let deliveries = pave_delivery::demo::demo_deliveries(&entities, now, 7);
    let mut raws = Vec::new();
    for delivery in &deliveries {
        if let Some(raw) = pave_intake::demo::raw_delivery(delivery)? {
            raws.push((raw, pave_delivery::demo::received_at(delivery, now)));
        }
    }
    let actor = Principal::Operator.actor();
    // In order, a group at a time: each group is one transaction of the writer.
    for chunk in raws.chunks(256) {
        let mut pending = Vec::with_capacity(chunk.len());
        for (raw, at) in chunk {
            let intake = Arc::clone(&events.intake);
            let (raw, at, actor) = (raw.clone(), *at, actor.clone());
            pending.push(tokio::spawn(async move {
                intake
                    .record(raw.source, raw.headers.as_slice(), &raw.body, at, actor)
                    .await
            }));
        }
        for task in pending {
            task.await
                .map_err(|e| anyhow!("recording the demo history: {e}"))??;
        }
    }
    events.processor.catch_up().await?;
    seed_demo_postmortems(&events, &entities, now).await?;
    Ok(raws.len())
}

/// Posts the demo's postmortems for its severe incidents (through the intake, as the API
/// does), with actions owned by each entity's team.
async fn seed_demo_postmortems(
    events: &Events,
    entities: &[Value],
    now: i64,
) -> anyhow::Result<usize> {
    let mut owners = std::collections::BTreeMap::new();
    for entity in entities {
        let key = |kind: &str, namespace: Option<&str>, name: &str| {
            pave_catalog::EntityRef::parse(
                &format!("{kind}:{}/{name}", namespace.unwrap_or("default")),
                None,
                "default",
            )
            .ok()
            .map(|r| r.key().into_string())
        };
        let metadata = &entity["metadata"];
        let (Some(kind), Some(name), Some(owner)) = (
            entity["kind"].as_str(),
            metadata["name"].as_str(),
            entity["spec"]["owner"].as_str(),
        ) else {
            continue;
        };
        let owner = pave_catalog::EntityRef::parse(owner, Some("group"), "default")
            .ok()
            .map(|r| r.key().into_string());
        if let (Some(entity), Some(owner)) =
            (key(kind, metadata["namespace"].as_str(), name), owner)
        {
            owners.insert(entity, owner);
        }
    }
    let incidents = events.processor.incident_records();
    let files = pave_intake::postmortem_demo::demo_postmortems(&incidents, &owners, now);
    let actor = Principal::Operator.actor();
    for (name, text) in &files {
        let posted = events
            .intake
            .post_postmortem(
                &pave_intake::Origin::default(),
                Some(name),
                text,
                actor.clone(),
                now,
            )
            .await
            .with_context(|| format!("posting the demo postmortem {name}"))?;
        events.processor.note_posted(&posted);
    }
    Ok(files.len())
}

/// `pave dora`.
#[derive(Debug, Args)]
pub(crate) struct DoraArgs {
    /// The window: a length back from `--to` (`90d`, `12w`, `36h`)
    #[arg(long, default_value = "90d", conflicts_with = "from")]
    since: String,
    /// The window's start instead: a date (`2026-09-01`) or an RFC 3339 time
    #[arg(long)]
    from: Option<String>,
    /// The window's end (default now; a date includes that day)
    #[arg(long)]
    to: Option<String>,
    /// Rows: one per entity, team (with its subteams), system, domain, or the organisation
    #[arg(long, default_value = "team", value_parser = ["entity", "team", "system", "domain", "org"])]
    group_by: String,
    /// The environment deployments count for
    #[arg(long, default_value = "production")]
    env: String,
    /// Only this entity, group (with its subtree), system or domain (an entity reference)
    #[arg(long)]
    only: Option<String>,
    /// Series per week or month (in JSON)
    #[arg(long, value_parser = ["none", "week", "month"])]
    buckets: Option<String>,
    /// The DORA tier table levels come from
    #[arg(long, value_parser = ["2023", "2024"])]
    tiers: Option<String>,
    /// Print CSV (RFC 4180) instead of a table
    #[arg(long)]
    csv: bool,
}

impl DoraArgs {
    /// The same query string `GET /api/dora` takes, so both read parameters alike.
    fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        match &self.from {
            Some(from) => q.append_pair("from", from),
            None => q.append_pair("since", &self.since),
        };
        if let Some(to) = &self.to {
            q.append_pair("to", to);
        }
        q.append_pair("group_by", &self.group_by);
        q.append_pair("env", &self.env);
        q.append_pair("previous", "true");
        for (name, value) in [
            ("only", &self.only),
            ("buckets", &self.buckets),
            ("tiers", &self.tiers),
        ] {
            if let Some(value) = value {
                q.append_pair(name, value);
            }
        }
        q.finish()
    }
}

/// `pave events …`.
#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Deliveries recorded, payload bytes kept, and how far the ledger has read
    Status,
    /// Subjects (repositories, services, applications) no catalog entity claims
    Unattributed,
    /// Rebuild every derived fact from the kept deliveries (after a mapping or rule change)
    Replay,
}

/// `pave incident …`.
#[derive(Debug, Subcommand)]
pub(crate) enum IncidentCommand {
    /// Incidents, most recent first
    List {
        /// Only unresolved ones
        #[arg(long)]
        open: bool,
        /// Only this entity's (an entity reference or a component name)
        #[arg(long)]
        entity: Option<String>,
    },
    /// One incident with its timeline and linked deployments
    Show { id: String },
    /// Declare an incident by hand (for those no pager reports)
    Declare {
        /// The entity it is about (`checkout`, `component:default/checkout`)
        #[arg(long)]
        entity: String,
        #[arg(long)]
        title: String,
        /// `sev1`…`sev5`, `1`…`5`, `P1`, `critical`, …
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        environment: Option<String>,
        /// Its id (default: a new `inc-…`)
        #[arg(long)]
        id: Option<String>,
    },
    /// Resolve an incident declared by hand
    Resolve { id: String },
}

/// `pave alerts`.
#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    /// The window, ending now (`30d`, `12w`, `48h`)
    #[arg(long, default_value = "30d")]
    since: String,
    /// Only this entity's alerts (an entity reference or a component name)
    #[arg(long)]
    entity: Option<String>,
}

/// The ledger as the database holds it, attributed to the stored catalog.
async fn open_processor(
    store: &Arc<dyn Store>,
    config: &IntakeConfig,
) -> anyhow::Result<Processor> {
    let mut entities = Vec::new();
    for row in store.entities().await? {
        let value: Value = serde_json::from_str(&row.body)
            .with_context(|| format!("stored entity {} is not JSON", row.entity_ref))?;
        entities.push(value);
    }
    Ok(Processor::load(Arc::clone(store), attribution(&entities, config)?, config).await?)
}

/// Says how many recorded deliveries the ledger has not applied yet.
async fn note_pending(store: &Arc<dyn Store>, processor: &Processor) -> anyhow::Result<()> {
    let stats = store.delivery_stats().await?;
    let cursor = processor.stats().cursor;
    if stats.last_seq > cursor {
        eprintln!(
            "note: deliveries after #{cursor} are not processed yet (the server processes them; \
             up to #{})",
            stats.last_seq
        );
    }
    Ok(())
}

pub(crate) async fn dora(
    args: DoraArgs,
    store: Arc<dyn Store>,
    config: &IntakeConfig,
    ingest: &pave_ingest::IngestConfig,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let processor = open_processor(&store, config).await?;
    note_pending(&store, &processor).await?;
    let index = processor.index_blocking(&args.env)?;
    let now = pave_stdx::time::unix_millis();
    let query =
        pave_server::dora_query(&args.query_string(), &index, now).map_err(|e| anyhow!(e))?;
    let report = pave_dora::report(&index, &query)?;
    if args.csv {
        print!("{}", pave_dora::csv(&report));
        return Ok(());
    }
    match format {
        OutputFormat::Table => {
            let rows: Vec<Value> = report
                .rows
                .iter()
                .map(|row| {
                    let s = row.summary();
                    let hours = |h: Option<f64>| h.map(|h| format!("{h:.1}h"));
                    let pct = |r: Option<f64>| r.map(|r| format!("{:.1}%", r * 100.0));
                    let level = |l: Option<pave_dora::Level>| l.map(|l| l.as_str());
                    json!({
                        "key": format!("{}{}", "  ".repeat(row.depth as usize), s.key),
                        "deployments": s.deployments,
                        "perDay": format!("{:.2}", s.deployments_per_day),
                        "frequency": level(s.deployment_frequency_level),
                        "leadMedian": hours(s.lead_time_median_hours),
                        "leadP90": hours(s.lead_time_p90_hours),
                        "cfr": pct(s.change_failure_rate),
                        "recovery": hours(s.recovery_median_hours),
                        "rework": pct(s.rework_rate),
                        "success": pct(s.success_rate),
                    })
                })
                .collect();
            print_data(
                format,
                &Value::Array(rows),
                &[
                    ("NAME", "key"),
                    ("DEPLOYS", "deployments"),
                    ("PER DAY", "perDay"),
                    ("FREQ", "frequency"),
                    ("LEAD P50", "leadMedian"),
                    ("LEAD P90", "leadP90"),
                    ("CFR", "cfr"),
                    ("RECOVERY", "recovery"),
                    ("REWORK", "rework"),
                    ("SUCCESS", "success"),
                ],
            )?;
            let kpis = postmortem_kpis(&store, &processor, ingest, &query, now).await?;
            println!("\n{}", postmortem_summary(&kpis));
        }
        _ => {
            let mut value = serde_json::to_value(&report)?;
            let kpis = postmortem_kpis(&store, &processor, ingest, &query, now).await?;
            if let Some(map) = value.as_object_mut() {
                map.insert("postmortems".into(), serde_json::to_value(&kpis)?);
            }
            print_data(format, &value, &[])?;
        }
    }
    Ok(())
}

/// One line of the postmortem KPIs under the table.
fn postmortem_summary(kpis: &pave_dora::postmortem::PostmortemKpis) -> String {
    let pct = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0));
    let overdue: usize = kpis.overdue_by_owner.iter().map(|o| o.actions.len()).sum();
    format!(
        "postmortems: {} of {} sev-1/2 incidents on time ({}, {} pending); actions closed by their due date: {} of {} ({}, {} tracked elsewhere); {overdue} actions overdue; {} of {} incidents repeat within {} days",
        kpis.completion.on_time,
        kpis.completion.counted,
        pct(kpis.completion.rate),
        kpis.completion.pending.len(),
        kpis.closure.closed_on_time,
        kpis.closure.closed_on_time + kpis.closure.closed_late + kpis.closure.overdue,
        pct(kpis.closure.rate),
        kpis.closure.tracked,
        kpis.repeats.repeats,
        kpis.repeats.incidents,
        kpis.options.repeat_days,
    )
}

/// The postmortem KPIs of the report's window for the whole organisation (as `GET /api/dora`
/// gives them): the posted postmortems and those beside the registered sources' catalog
/// files on this machine.
async fn postmortem_kpis(
    store: &Arc<dyn Store>,
    processor: &Processor,
    ingest: &pave_ingest::IngestConfig,
    query: &pave_dora::Query,
    now: i64,
) -> anyhow::Result<pave_dora::postmortem::PostmortemKpis> {
    let mut postmortems = processor.posted_postmortems();
    for (_, read, problems) in pave_ingest::stored_postmortems(store.as_ref(), ingest).await? {
        for problem in &problems {
            eprintln!("{problem}");
        }
        postmortems.extend(read);
    }
    let window = pave_dora::postmortem::Window {
        from: query.from,
        to: query.to,
    };
    Ok(pave_dora::postmortem::kpis(
        &postmortems,
        &processor.incident_records(),
        window,
        now,
        &pave_dora::postmortem::KpiOptions::default(),
    ))
}

pub(crate) async fn events(
    command: EventsCommand,
    store: Arc<dyn Store>,
    config: &IntakeConfig,
    format: OutputFormat,
) -> anyhow::Result<()> {
    match command {
        EventsCommand::Status => {
            let stats = store.delivery_stats().await?;
            let value = json!({
                "deliveries": stats.deliveries,
                "payloadsExpired": stats.expired,
                "payloadBytes": stats.payload_bytes,
                "lastSeq": stats.last_seq,
                "processedThrough": stats.cursor,
                "pending": (stats.last_seq - stats.cursor).max(0),
                "ledgerRows": stats.ledger_rows,
            });
            print_data(
                format,
                &value,
                &[
                    ("DELIVERIES", "deliveries"),
                    ("EXPIRED", "payloadsExpired"),
                    ("PAYLOAD BYTES", "payloadBytes"),
                    ("PROCESSED", "processedThrough"),
                    ("PENDING", "pending"),
                    ("LEDGER ROWS", "ledgerRows"),
                ],
            )?;
        }
        EventsCommand::Unattributed => {
            let processor = open_processor(&store, config).await?;
            let value = serde_json::to_value(processor.unattributed())?;
            print_data(
                format,
                &value,
                &[
                    ("SUBJECT", "key"),
                    ("EVENTS", "events"),
                    ("LAST SEEN", "last_seen"),
                ],
            )?;
        }
        EventsCommand::Replay => {
            // The ledger has one writer: a running server holds this lease while it processes.
            // A server stopped a moment ago still holds it until it expires (seconds).
            let holder = format!("pave-events-replay-{}", std::process::id());
            let deadline = std::time::Instant::now() + LEASE_WAIT;
            let mut acquired = false;
            while !acquired && std::time::Instant::now() < deadline {
                let now = pave_stdx::time::unix_millis();
                acquired = store
                    .acquire_lease(pave_intake::LEDGER_LEASE, &holder, now, 10 * 60_000)
                    .await?;
                if !acquired {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            if !acquired {
                bail!(
                    "a running pave server is processing deliveries (it holds the lease `{}`): stop it, replay, and start it again",
                    pave_intake::LEDGER_LEASE
                );
            }
            let processor = open_processor(&store, config).await?;
            let audit = [Principal::Operator.event(
                "events.replay",
                "events",
                pave_store::audit::Outcome::Success,
                json!({}),
            )];
            let report = processor.replay(&audit).await;
            store
                .release_lease(pave_intake::LEDGER_LEASE, &holder)
                .await?;
            let report = report?;
            if report.expired > 0 {
                eprintln!(
                    "warning: {} deliveries' payloads had expired (events.retentionDays): their facts are no longer derived",
                    report.expired
                );
            }
            print_data(
                format,
                &serde_json::to_value(report)?,
                &[
                    ("REPLAYED", "replayed"),
                    ("ROWS", "rows"),
                    ("REMOVED", "rows_removed"),
                    ("EXPIRED", "expired"),
                    ("UNREADABLE", "unreadable"),
                ],
            )?;
        }
    }
    Ok(())
}

pub(crate) async fn incident(
    command: IncidentCommand,
    store: Arc<dyn Store>,
    config: &IntakeConfig,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let processor = open_processor(&store, config).await?;
    let now = pave_stdx::time::unix_millis();
    match command {
        IncidentCommand::List { open, entity } => {
            let entity = match entity {
                Some(e) => Some(entity_key(&e)?),
                None => None,
            };
            let rows: Vec<Value> = processor
                .incidents(entity.as_deref(), open)
                .into_iter()
                .map(|view| {
                    json!({
                        "id": view.row.incident,
                        "title": view.row.title,
                        "entity": view.row.entity,
                        "severity": view.row.severity,
                        "open": view.open,
                        "openedAt": crate::commands::iso8601(view.row.opened_at),
                        "resolvedAt": view.row.resolved_at.map(crate::commands::iso8601),
                        "source": view.row.source.as_str(),
                    })
                })
                .collect();
            print_data(
                format,
                &Value::Array(rows),
                &[
                    ("ID", "id"),
                    ("SEV", "severity"),
                    ("ENTITY", "entity"),
                    ("OPENED", "openedAt"),
                    ("RESOLVED", "resolvedAt"),
                    ("TITLE", "title"),
                ],
            )?;
        }
        IncidentCommand::Show { id } => {
            let detail = find_incident(&processor, &id)?;
            print_data(
                if format == OutputFormat::Table {
                    OutputFormat::Yaml
                } else {
                    format
                },
                &serde_json::to_value(&detail)?,
                &[],
            )?;
        }
        IncidentCommand::Declare {
            entity,
            title,
            severity,
            environment,
            id,
        } => {
            let intake = Intake::start(Arc::clone(&store), config.clone());
            let declaration = Declaration {
                entity,
                id,
                title,
                severity,
                environment,
                at: now,
            };
            let (id, _) = intake
                .declare_incident(&declaration, Principal::Operator.actor(), now)
                .await?;
            processor.catch_up().await?;
            println!("{id}");
        }
        IncidentCommand::Resolve { id } => {
            let detail = find_incident(&processor, &id)?;
            let row = &detail.incident.row;
            if row.resolved_at.is_some() {
                bail!("incident {id} is resolved already");
            }
            let prefix = format!("{}#", pave_delivery::CATALOG_SOURCE);
            let Some(own) = row.incident.strip_prefix(&prefix) else {
                bail!(
                    "incident {id} came from {}: resolve it there (pave resolves only incidents declared with `pave incident declare`)",
                    row.source.as_str()
                );
            };
            let entity = row
                .entity
                .clone()
                .ok_or_else(|| anyhow!("incident {id} names no entity"))?;
            let intake = Intake::start(Arc::clone(&store), config.clone());
            intake
                .resolve_incident(&entity, own, now, Principal::Operator.actor(), now)
                .await?;
            processor.catch_up().await?;
            println!("resolved {}", row.incident);
        }
    }
    Ok(())
}

fn entity_key(entity: &str) -> anyhow::Result<String> {
    pave_catalog::EntityRef::parse(entity.trim(), Some("component"), "default")
        .map(|r| r.key().into_string())
        .map_err(|e| anyhow!("{entity:?} is not an entity reference: {e}"))
}

/// `pave alerts`: the alert-quality measures over the window, then one row per alert.
pub(crate) async fn alerts(
    args: AlertsArgs,
    store: Arc<dyn Store>,
    config: &IntakeConfig,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let processor = open_processor(&store, config).await?;
    let now = pave_stdx::time::unix_millis();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("since", &args.since);
    if let Some(entity) = &args.entity {
        query.append_pair("entity", entity);
    }
    let (since, entity) = pave_server::alert_query(&query.finish(), now).map_err(|e| anyhow!(e))?;
    let options = pave_delivery::alerts::AlertQualityOptions::default();
    let report = processor.alert_report(entity.map(|e| vec![e]).as_deref(), since, now, &options);
    if format != OutputFormat::Table {
        return Ok(print_data(format, &serde_json::to_value(&report)?, &[])?);
    }
    let pct = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{:.0}%", r * 100.0));
    let minutes =
        |ms: Option<i64>| ms.map_or("-".to_owned(), |ms| format!("{:.1}m", ms as f64 / 60_000.0));
    let rows: Vec<Value> = report
        .alerts
        .iter()
        .map(|a| {
            let q = &a.quality;
            json!({
                "name": if a.noisy { format!("{} (noisy)", a.name) } else { a.name.clone() },
                "entity": a.entity.as_deref().unwrap_or("(unattributed)"),
                "firings": q.firings,
                "now": q.firing_now,
                "short": pct(q.short_lived_ratio),
                "actionable": pct(q.actionable_ratio),
                "median": minutes(q.median_resolve_ms),
                "last": crate::commands::iso8601(a.last_fired_at),
            })
        })
        .collect();
    print_data(
        format,
        &Value::Array(rows),
        &[
            ("ALERT", "name"),
            ("ENTITY", "entity"),
            ("FIRINGS", "firings"),
            ("FIRING", "now"),
            ("SHORT-LIVED", "short"),
            ("ACTIONABLE", "actionable"),
            ("MEDIAN", "median"),
            ("LAST FIRED", "last"),
        ],
    )?;
    let q = &report.quality;
    println!(
        "{} firings since {}: {} short-lived, {} actionable, {} firing now, {} unattributed; \
         median time to resolve {}, p90 {}; {} noisy alerts",
        q.firings,
        crate::commands::iso8601(report.since),
        pct(q.short_lived_ratio),
        pct(q.actionable_ratio),
        q.firing_now,
        q.unattributed,
        minutes(q.median_resolve_ms),
        minutes(q.p90_resolve_ms),
        report.noisy_alerts,
    );
    Ok(())
}

/// An incident by the id its source gives it, a declared incident's short id (`inc-…`), or
/// its row number.
fn find_incident(processor: &Processor, id: &str) -> anyhow::Result<pave_intake::IncidentDetail> {
    processor
        .incident(id)
        .or_else(|| processor.incident(&format!("{}#{id}", pave_delivery::CATALOG_SOURCE)))
        .ok_or_else(|| anyhow!("no incident {id} (see `pave incident list`)"))
}
