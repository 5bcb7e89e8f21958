//! Times the ledger: `cargo run --release -p pave-delivery --example ledger_speed [rounds]`.
//!
//! 2,000 services on GitHub, 200 teams. Each round, every service pushes 5 commits to its
//! default branch and deploys the new head to production (one `deployment_status: success`
//! delivery). With the default 500 rounds that is 1,000,000 pushes (5,000,000 commits and
//! changes) and 1,000,000 production deployments, each shipping 5 changes. Prints the time
//! `apply` takes per delivery of each kind (building the deliveries is not timed), what that
//! means at 2,000 deliveries a second, the `facts()` conversion and `Index::build` over the
//! result, `rows()` and `from_rows`, resident memory, and the stored size of a deployment row.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use pave_delivery::{Attribution, DeploymentRow, Ledger, LedgerConfig};
use pave_events::{Commit, Delivery, Deployment, DeploymentStatus, Event, Push, Source, Subject};
use serde_json::json;

const SERVICES: usize = 2_000;
const TEAMS: usize = 200;
const COMMITS_PER_PUSH: usize = 5;
const MINUTE: i64 = 60_000;
const START: i64 = 20_000 * 86_400_000;

fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// This thread's CPU time in nanoseconds (`/proc/thread-self/schedstat`), 0 where there is
/// none.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn sha(service: usize, n: u64) -> String {
    format!(
        "{:08x}{:032x}",
        service,
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

fn subject(service: usize) -> Subject {
    let slug = format!("speed/service-{service:04}");
    Subject::Repository {
        host: "github.com".into(),
        url: format!("https://github.com/{slug}"),
        slug,
    }
}

/// A stored-size estimate of a row, as a SQLite record holds it: text as its bytes plus a
/// length byte, integers and times as up to 8 bytes, flags and enums as 1. With
/// `dictionary`, the names a store would keep once (subject key, entity, environment,
/// repository) count as 4-byte ids.
fn stored_bytes(d: &DeploymentRow, dictionary: bool) -> usize {
    let text = |s: &str| s.len() + 1;
    let name = |s: &str| if dictionary { 4 } else { text(s) };
    let opt_text = |s: &Option<String>| s.as_deref().map_or(1, text);
    let opt_name = |s: &Option<String>| s.as_deref().map_or(1, name);
    let int = 8;
    let opt_int = |o: Option<i64>| if o.is_some() { int } else { 1 };
    int // id
        + 1 // source
        + name(&d.subject_key)
        + text(&d.source_id)
        + opt_name(&d.entity)
        + name(&d.environment)
        + 2 // production, sender_production
        + opt_name(&d.repo)
        + opt_text(&d.sha)
        + opt_text(&d.version)
        + opt_text(&d.url)
        + 1 // status
        + opt_int(d.status_at)
        + opt_int(d.queued_at)
        + opt_int(d.started_at)
        + opt_int(d.finished_at)
        + 3 // rollback, hotfix, excluded
        + d.changeset.as_ref().map_or(1, |_| int + 4 + 1 + 1 + 1) // previous, commits, truncated, reason, sources
        + 2 * int // first_seq, last_seq
}

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let entities: Vec<serde_json::Value> = (0..SERVICES)
        .map(|s| {
            json!({
                "kind": "Component",
                "metadata": {"name": format!("service-{s:04}"), "annotations": {"github.com/project-slug": format!("speed/service-{s:04}")}},
                "spec": {"owner": format!("team-{:03}", s % TEAMS), "system": "speed"},
            })
        })
        .chain((0..TEAMS).map(|t| json!({"kind": "Group", "metadata": {"name": format!("team-{t:03}")}, "spec": {}})))
        .collect();
    let attribution = Attribution::from_entities(&entities);
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    println!(
        "pave-delivery ledger speed: {SERVICES} services, {rounds} rounds of a {COMMITS_PER_PUSH}-commit push and a production deployment each"
    );
    let rss_start = resident_mb();

    // Each round's deliveries are built first, then applied in two batches (every push,
    // then every deployment), timed by wall clock and by this thread's CPU time (the
    // machine may be shared).
    let mut push_time = Duration::ZERO;
    let mut deploy_time = Duration::ZERO;
    let mut push_cpu = 0u64;
    let mut deploy_cpu = 0u64;
    let mut seq = 0u64;
    let mut heads = vec![None::<String>; SERVICES];
    let mut pushes = 0u64;
    let mut deploys = 0u64;
    for round in 0..rounds {
        let mut push_batch = Vec::with_capacity(SERVICES);
        let mut deploy_batch = Vec::with_capacity(SERVICES);
        for (service, head) in heads.iter_mut().enumerate() {
            let at = START + (round as i64 * SERVICES as i64 + service as i64) * MINUTE / 10;
            let before = head.clone().unwrap_or_else(|| "0".repeat(40));
            let commits: Vec<Commit> = (0..COMMITS_PER_PUSH as u64)
                .map(|c| Commit {
                    sha: sha(service, round * COMMITS_PER_PUSH as u64 + c + 1),
                    committed_at: Some(at - (COMMITS_PER_PUSH as i64 - c as i64) * MINUTE),
                    author: Some("dev".into()),
                    message: "change".into(),
                })
                .collect();
            let after = commits.last().map(|c| c.sha.clone()).unwrap_or_default();
            *head = Some(after.clone());
            seq += 1;
            push_batch.push((
                seq,
                at,
                Delivery {
                    source: Source::Github,
                    id: format!("push-{seq}"),
                    kind: "push".into(),
                    occurred_at: Some(at),
                    events: vec![Event::Push(Push {
                        subject: subject(service),
                        branch: "main".into(),
                        before,
                        after: after.clone(),
                        forced: false,
                        commits,
                        truncated: false,
                        total_commits: None,
                        default_branch: Some("main".into()),
                        pushed_at: Some(at),
                    })],
                    ignored: None,
                },
            ));
            seq += 1;
            let finished = at + 5 * MINUTE;
            deploy_batch.push((
                seq,
                finished,
                Delivery {
                    source: Source::Github,
                    id: format!("status-{seq}"),
                    kind: "deployment_status".into(),
                    occurred_at: Some(finished),
                    events: vec![Event::Deployment(Deployment {
                        subject: subject(service),
                        source_id: (1_000_000_000 + seq).to_string(),
                        environment: "production".into(),
                        sha: Some(after),
                        version: None,
                        status: DeploymentStatus::Succeeded,
                        at: finished,
                        started_at: None,
                        finished_at: Some(finished),
                        rollback: false,
                        labels: vec!["deploy".into()],
                        git_ref: Some("main".into()),
                        production: Some(true),
                        url: None,
                    })],
                    ignored: None,
                },
            ));
        }
        let (cpu, wall) = (thread_cpu_ns(), Instant::now());
        for (seq, at, delivery) in &push_batch {
            ledger.apply(*seq, *at, delivery, &attribution);
        }
        push_cpu += thread_cpu_ns() - cpu;
        push_time += wall.elapsed();
        pushes += push_batch.len() as u64;
        let (cpu, wall) = (thread_cpu_ns(), Instant::now());
        for (seq, at, delivery) in &deploy_batch {
            ledger.apply(*seq, *at, delivery, &attribution);
        }
        deploy_cpu += thread_cpu_ns() - cpu;
        deploy_time += wall.elapsed();
        deploys += deploy_batch.len() as u64;
    }
    let rss_loaded = resident_mb();
    let per_push = push_time.as_secs_f64() * 1e6 / pushes as f64;
    let per_deploy = deploy_time.as_secs_f64() * 1e6 / deploys as f64;
    let cpu_push = push_cpu as f64 / 1e3 / pushes as f64;
    let cpu_deploy = deploy_cpu as f64 / 1e3 / deploys as f64;
    let stats = ledger.stats();
    println!("{stats:?}");
    println!("apply, per delivery:                   wall µs   cpu µs");
    println!(
        "  push ({COMMITS_PER_PUSH} commits)                    {per_push:8.2} {cpu_push:8.2}"
    );
    println!(
        "  deployment_status (ships {COMMITS_PER_PUSH})        {per_deploy:8.2} {cpu_deploy:8.2}"
    );
    println!(
        "at 2,000 deliveries/s (half each):     {:8.2} % of one core (cpu time)",
        2_000.0 * (cpu_push + cpu_deploy) / 2.0 / 1e6 * 100.0
    );
    println!(
        "resident memory: {:.0} MB for the ledger ({:.0} bytes per change incl. its commit)",
        rss_loaded - rss_start,
        (rss_loaded - rss_start) * 1_048_576.0 / stats.changes as f64
    );

    let org = attribution.org().clone();
    let started = Instant::now();
    let facts = ledger.facts(&org, "production");
    println!(
        "facts(): {} deployments, {} changes in {:.0} ms",
        facts.deployments.len(),
        facts.changes.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let started = Instant::now();
    let index = pave_dora::Index::build(&org, &facts).unwrap();
    println!(
        "Index::build: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(index);
    drop(facts);

    let started = Instant::now();
    let rows = ledger.rows();
    println!(
        "rows(): {} commits, {} changes, {} deployments in {:.0} ms",
        rows.commits.len(),
        rows.changes.len(),
        rows.deployments.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let sample = &rows.deployments[rows.deployments.len() / 2];
    println!(
        "a deployment row: ~{} bytes stored with names inline, ~{} with names as dictionary ids (SQLite-like estimate), {} bytes as JSON",
        stored_bytes(sample, false),
        stored_bytes(sample, true),
        serde_json::to_string(sample).unwrap().len()
    );
    drop(ledger);
    let started = Instant::now();
    let (rebuilt, applied) =
        Ledger::from_rows(LedgerConfig::default(), &rows, &attribution).unwrap();
    println!(
        "from_rows: {:.0} ms ({} rows re-attributed)",
        started.elapsed().as_secs_f64() * 1e3,
        applied.rows.len()
    );
    assert_eq!(rebuilt.stats(), stats);
}
