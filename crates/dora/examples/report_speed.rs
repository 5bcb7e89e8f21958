//! Times the engine on the large generated history:
//! `cargo run --release -p pave-dora --example report_speed [seed]`.
//!
//! Prints one line per step: generating the history, building the index, the organisation
//! report by team over the whole history, one team (its subtree), one entity, and the team
//! report with weekly buckets and the previous period.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use pave_dora::generate::{LargeParams, large};
use pave_dora::{BucketSize, GroupBy, Index, Query, Scope, report};

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let params = LargeParams::default();
    println!(
        "pave-dora report speed: {} services, {} deployments, {} changes, {} incidents, {} days, seed {seed}, {} threads",
        params.services,
        params.deployments,
        params.changes,
        params.incidents,
        params.days,
        pave_stdx::available_threads()
    );
    println!("{:<44} {:>10} {:>8}", "step", "ms", "rows");

    let started = Instant::now();
    let (org, facts) = large(seed, &params);
    line("generate", started, None);

    let started = Instant::now();
    let index = match Index::build(&org, &facts) {
        Ok(index) => index,
        Err(e) => {
            eprintln!("index: {e}");
            std::process::exit(1);
        }
    };
    line("index build", started, None);
    println!(
        "{:<44} {:>10}",
        "index size (MB)",
        index.heap_bytes() / 1_000_000
    );

    // The same facts with changes in random order: the index does not rely on the order
    // stores deliver them in, but pays for random memory access when it is random.
    {
        let mut shuffled = facts.clone();
        pave_dora::generate::shuffle(seed, &mut shuffled.changes);
        let started = Instant::now();
        let built = Index::build(&org, &shuffled).map(|i| i.heap_bytes());
        line("index build (changes in random order)", started, None);
        if let Err(e) = built {
            eprintln!("index: {e}");
            std::process::exit(1);
        }
    }

    let to = params.end;
    let from = to - i64::from(params.days) * 86_400_000;
    let production = facts.environment_ix("production").unwrap_or(0);
    // The busiest team and service (an elite profile) and the first department.
    let team = org.group_ix("group:default/team-000").unwrap_or(0);
    let department = org.group_ix("group:default/department-0").unwrap_or(0);
    let entity = org.entity_ix("component:default/service-0000").unwrap_or(0);

    let org_by_team = Query::new(from, to, production);
    run("org report by team (365 d)", &index, &org_by_team);
    run(
        "org report, one row (365 d)",
        &index,
        &Query {
            group_by: GroupBy::Org,
            ..org_by_team
        },
    );
    run(
        "one team (365 d)",
        &index,
        &Query {
            only: Some(Scope::Group(team)),
            ..org_by_team
        },
    );
    run(
        "one department by team (365 d)",
        &index,
        &Query {
            only: Some(Scope::Group(department)),
            ..org_by_team
        },
    );
    run(
        "one entity (365 d)",
        &index,
        &Query {
            group_by: GroupBy::Entity,
            only: Some(Scope::Entity(entity)),
            ..org_by_team
        },
    );
    run(
        "org by entity (365 d)",
        &index,
        &Query {
            group_by: GroupBy::Entity,
            ..org_by_team
        },
    );
    run(
        "org by team, last 90 d",
        &index,
        &Query {
            from: to - 90 * 86_400_000,
            ..org_by_team
        },
    );
    run(
        "org by team, weekly + previous (365 d)",
        &index,
        &Query {
            buckets: BucketSize::Week,
            compare_previous: true,
            ..org_by_team
        },
    );
    run(
        "one team, weekly + previous (365 d)",
        &index,
        &Query {
            only: Some(Scope::Group(team)),
            buckets: BucketSize::Week,
            compare_previous: true,
            ..org_by_team
        },
    );
}

fn run(name: &str, index: &Index, query: &Query) {
    // Best of three: the first run also warms caches.
    let mut best = f64::MAX;
    let mut rows = 0;
    let mut first = None;
    for _ in 0..3 {
        let started = Instant::now();
        match report(index, query) {
            Ok(r) => {
                rows = r.rows.len();
                if let Some(row) = r.rows.first() {
                    let m = &row.metrics;
                    first = Some((
                        m.deployments.counted,
                        m.lead_time.changes,
                        m.incidents.opened,
                    ));
                }
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                std::process::exit(1);
            }
        }
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (deployments, changes, incidents) = first.unwrap_or_default();
    println!(
        "{name:<44} {best:>10.1} {rows:>8}   first row: {deployments} deployments, {changes} changes, {incidents} incidents"
    );
}

fn line(name: &str, started: Instant, rows: Option<usize>) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match rows {
        Some(rows) => println!("{name:<44} {ms:>10.1} {rows:>8}"),
        None => println!("{name:<44} {ms:>10.1}"),
    }
}
