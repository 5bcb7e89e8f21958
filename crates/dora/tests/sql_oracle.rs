//! The engine against SQL: the facts loaded into an in-memory SQLite database, the five
//! metrics computed per team and for the whole organisation by plain SQL written here
//! (window functions for "the next deployment", a recursive CTE for team subtrees,
//! `PERCENTILE_CONT` by `ROW_NUMBER` and linear interpolation), and every figure compared
//! with [`report`]: counts and rates exactly, durations to the millisecond (closer than the
//! second the figures are shown to).
//!
//! The SQL is the definition in `metrics.rs` restated row by row, without the index's
//! shortcuts; `bench/src/dora.rs` runs the same definitions on DuckDB at full size.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{DAY, date};
use pave_dora::facts::{Exclusion, Facts, Millis, Org, Outcome};
use pave_dora::generate::{DemoEntity, LargeParams, demo, large};
use pave_dora::{GroupBy, Index, Metrics, Query, report};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Connection, QueryBuilder, Row, Sqlite};

const SCHEMA: &[&str] = &[
    "CREATE TABLE environments (ix INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE groups (ix INTEGER PRIMARY KEY, entity_ref TEXT NOT NULL, parent INTEGER)",
    "CREATE TABLE entities (ix INTEGER PRIMARY KEY, entity_ref TEXT NOT NULL, owner INTEGER)",
    "CREATE TABLE deployments (ix INTEGER PRIMARY KEY, entity INTEGER NOT NULL,
       environment INTEGER NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER,
       outcome TEXT NOT NULL, rollback INTEGER NOT NULL, hotfix INTEGER NOT NULL, excluded TEXT)",
    "CREATE TABLE changes (entity INTEGER NOT NULL, committed_at INTEGER NOT NULL, deployment INTEGER)",
    "CREATE TABLE incidents (ix INTEGER PRIMARY KEY, entity INTEGER, opened_at INTEGER NOT NULL,
       resolved_at INTEGER, caused_by INTEGER, fixed_by INTEGER)",
];

/// Every counted deployment (finished, not running, not excluded) with its
/// window-independent verdicts: `failed` (outcome failed, or named as an incident's cause, or
/// the next counted deployment of the same entity and environment — by time, then index, at
/// any time — is a rollback), `unplanned` (hotfix, rollback, or named as an incident's fix),
/// and `recovery` of a failed one (caused incidents: the latest resolution, none while one
/// is open; else the first later counted deployment that succeeded and did not fail).
const DERIVE: &[&str] = &[
    "CREATE TABLE dep AS
     WITH counted AS (
       SELECT ix, entity, environment, finished_at AS at_ms, outcome, rollback, hotfix
       FROM deployments
       WHERE finished_at IS NOT NULL AND outcome <> 'running' AND excluded IS NULL
     ),
     caused AS (
       SELECT caused_by AS ix, MAX(resolved_at IS NULL) AS open_incident,
              MAX(resolved_at) AS resolved_at
       FROM incidents WHERE caused_by IS NOT NULL GROUP BY caused_by
     ),
     fixing AS (SELECT DISTINCT fixed_by AS ix FROM incidents WHERE fixed_by IS NOT NULL),
     verdict AS (
       SELECT c.ix, c.entity, c.environment, c.at_ms,
              c.outcome = 'succeeded' AS succeeded,
              (c.outcome = 'failed' OR caused.ix IS NOT NULL
                OR COALESCE(LEAD(c.rollback) OVER run, 0)) AS failed,
              (c.hotfix OR c.rollback OR fixing.ix IS NOT NULL) AS unplanned,
              caused.ix IS NOT NULL AS caused_incident, caused.open_incident, caused.resolved_at
       FROM counted c LEFT JOIN caused ON caused.ix = c.ix LEFT JOIN fixing ON fixing.ix = c.ix
       WINDOW run AS (PARTITION BY c.entity, c.environment ORDER BY c.at_ms, c.ix)
     )
     SELECT ix, entity, environment, at_ms, succeeded, failed, unplanned,
            CASE WHEN NOT failed THEN NULL
                 WHEN caused_incident THEN
                   CASE WHEN open_incident THEN NULL ELSE resolved_at - at_ms END
                 ELSE MIN(CASE WHEN succeeded AND NOT failed THEN at_ms END) OVER (
                        PARTITION BY entity, environment ORDER BY at_ms, ix
                        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) - at_ms
            END AS recovery
     FROM verdict",
    "CREATE INDEX dep_by_entity ON dep (entity, environment, at_ms)",
    "CREATE UNIQUE INDEX dep_by_ix ON dep (ix)",
    // Lead time of every change a counted, successful deployment shipped (negative ones too:
    // the report leaves them out), attributed to the deployment's entity and time.
    "CREATE TABLE leads AS
     SELECT d.entity, d.environment, d.at_ms, d.at_ms - c.committed_at AS lead_ms
     FROM changes c JOIN dep d ON d.ix = c.deployment
     WHERE d.succeeded",
    "CREATE INDEX leads_by_entity ON leads (entity, environment, at_ms)",
];

/// `PERCENTILE_CONT` of `sample(name, team, v)` at 0.5 and 0.9 as `{out}(name, team, n,
/// median, p90)`: rank rows with `ROW_NUMBER`, take the ranks `floor(rn)` and `floor(rn) + 1`
/// of `rn = (n - 1) * q`, interpolate `lo * (1 - d) + hi * d`. The fractions are written
/// `5.0 / 10` and `9.0 / 10` so that SQLite's division, not its decimal parser, rounds them.
fn percentile_ctes(sample: &str, out: &str) -> String {
    let pick = |q: &str, tag: &str| {
        format!(
            "MAX((n - 1) * ({q})) AS rn{tag},
             MAX(CAST((n - 1) * ({q}) AS INTEGER)) AS lo_rank{tag},
             MAX(CASE WHEN rk = CAST((n - 1) * ({q}) AS INTEGER) THEN v END) AS lo{tag},
             MAX(CASE WHEN rk = CAST((n - 1) * ({q}) AS INTEGER) + 1 THEN v END) AS hi{tag}"
        )
    };
    let interpolate = |tag: &str| {
        format!(
            "CASE WHEN rn{tag} = lo_rank{tag} THEN lo{tag} * 1.0
                  ELSE lo{tag} * (1.0 - (rn{tag} - lo_rank{tag})) + hi{tag} * (rn{tag} - lo_rank{tag})
             END"
        )
    };
    format!(
        "{out}_ranked AS (
           SELECT name, team, v,
                  ROW_NUMBER() OVER (PARTITION BY name, team ORDER BY v) - 1 AS rk,
                  COUNT(*) OVER (PARTITION BY name, team) AS n
           FROM {sample}
         ),
         {out}_ranks AS (
           SELECT name, team, MAX(n) AS n, {p50}, {p90}
           FROM {out}_ranked GROUP BY name, team
         ),
         {out} AS (
           SELECT name, team, n, {i50} AS median, {i90} AS p90 FROM {out}_ranks
         )",
        p50 = pick("5.0 / 10", "50"),
        p90 = pick("9.0 / 10", "90"),
        i50 = interpolate("50"),
        i90 = interpolate("90"),
    )
}

/// One row per (window, team) and per window for the organisation (team `'org'`): the
/// current window `[from, to)` and the previous one of the same length, in `env`.
fn report_sql(from: Millis, to: Millis, env: &str) -> String {
    let prev = from - (to - from);
    format!(
        "WITH RECURSIVE
         win(name, from_ms, to_ms) AS (VALUES ('current', {from}, {to}), ('previous', {prev}, {from})),
         up(g, anc) AS (   -- each group with itself and every group above it; UNION stops at cycles
           SELECT ix, ix FROM groups
           UNION
           SELECT up.g, p.parent FROM up JOIN groups p ON p.ix = up.anc WHERE p.parent IS NOT NULL
         ),
         member AS (       -- team -> every entity owned by it or a group below it; the org
           SELECT g.entity_ref AS team, e.ix AS entity
           FROM entities e JOIN up ON up.g = e.owner JOIN groups g ON g.ix = up.anc
           UNION ALL
           SELECT 'org', ix FROM entities
         ),
         listed AS (SELECT DISTINCT win.name, win.from_ms, win.to_ms, member.team FROM win, member),
         d AS (
           SELECT win.name, m.team, dep.*
           FROM win JOIN member m JOIN dep ON dep.entity = m.entity
                AND dep.environment = (SELECT ix FROM environments WHERE name = '{env}')
                AND dep.at_ms >= win.from_ms AND dep.at_ms < win.to_ms
         ),
         dstats AS (
           SELECT name, team, COUNT(*) AS counted,
                  SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(unplanned) AS unplanned,
                  COUNT(*) FILTER (WHERE failed AND recovery >= 0) AS recovered,
                  COUNT(*) FILTER (WHERE failed AND recovery IS NULL) AS unrecovered
           FROM d GROUP BY name, team
         ),
         recoveries AS (SELECT name, team, recovery AS v FROM d WHERE failed AND recovery >= 0),
         {recovery_pct},
         lead_sample AS (
           SELECT win.name, m.team, leads.lead_ms AS v
           FROM win JOIN member m JOIN leads ON leads.entity = m.entity
                AND leads.environment = (SELECT ix FROM environments WHERE name = '{env}')
                AND leads.at_ms >= win.from_ms AND leads.at_ms < win.to_ms
           WHERE leads.lead_ms >= 0
         ),
         {lead_pct},
         days AS (         -- distinct UTC days with a successful deployment, with their ISO week
           SELECT DISTINCT name, team, at_ms / 86400000 AS day,
                  (at_ms / 86400000 - ((at_ms / 86400000 + 3) % 7 + 7) % 7) * 86400000 AS week_ms
           FROM d WHERE succeeded
         ),
         weeks(name, week_ms, to_ms) AS (   -- ISO weeks (Monday 00:00 UTC) overlapping the window
           SELECT name, (from_ms / 86400000 - ((from_ms / 86400000 + 3) % 7 + 7) % 7) * 86400000, to_ms
           FROM win
           UNION ALL
           SELECT name, week_ms + 604800000, to_ms FROM weeks WHERE week_ms + 604800000 < to_ms
         ),
         week_sample AS (
           SELECT l.name, l.team,
                  (SELECT COUNT(*) FROM days
                   WHERE days.name = l.name AND days.team = l.team AND days.week_ms = w.week_ms) AS v
           FROM listed l JOIN weeks w ON w.name = l.name
         ),
         {week_pct}
         SELECT l.name, l.team,
                COALESCE(s.counted, 0), COALESCE(s.succeeded, 0),
                COALESCE(s.succeeded, 0) / ((l.to_ms - l.from_ms) * 1.0 / 86400000),
                wk.median, wk.n,
                COALESCE(ls.n, 0), ls.median, ls.p90,
                COALESCE(s.failed, 0),
                CASE WHEN s.counted > 0 THEN s.failed * 1.0 / s.counted END,
                COALESCE(s.recovered, 0), COALESCE(s.unrecovered, 0), rs.median, rs.p90,
                COALESCE(s.unplanned, 0),
                CASE WHEN s.counted > 0 THEN s.unplanned * 1.0 / s.counted END
         FROM listed l
         LEFT JOIN dstats s ON s.name = l.name AND s.team = l.team
         LEFT JOIN recovery_pct rs ON rs.name = l.name AND rs.team = l.team
         LEFT JOIN lead_pct ls ON ls.name = l.name AND ls.team = l.team
         LEFT JOIN week_pct wk ON wk.name = l.name AND wk.team = l.team
         ORDER BY l.name, l.team",
        recovery_pct = percentile_ctes("recoveries", "recovery_pct"),
        lead_pct = percentile_ctes("lead_sample", "lead_pct"),
        week_pct = percentile_ctes("week_sample", "week_pct"),
    )
}

/// A figure of one (window, row).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Figure {
    Count(i64),
    /// The same IEEE division of the same counts on both sides: equal to the bit.
    Exact(Option<f64>),
    /// Milliseconds: equal within 1 ms.
    Duration(Option<f64>),
}

const NAMES: [&str; 16] = [
    "counted",
    "succeeded",
    "per_day",
    "deploy_days_median",
    "weeks",
    "lead_changes",
    "lead_median",
    "lead_p90",
    "failed",
    "change_failure_rate",
    "recovered",
    "unrecovered",
    "recovery_median",
    "recovery_p90",
    "unplanned",
    "rework_rate",
];

fn pave_figures(m: &Metrics) -> Vec<Figure> {
    use Figure::{Count, Duration, Exact};
    let count = |n: u64| Count(n as i64);
    vec![
        count(m.deployments.counted),
        count(m.deployments.succeeded),
        Exact(Some(m.deployment_frequency.per_day)),
        Exact(Some(m.deployment_frequency.median_deploy_days_per_week)),
        count(m.deployment_frequency.weeks.into()),
        count(m.lead_time.changes),
        Duration(m.lead_time.median_ms),
        Duration(m.lead_time.p90_ms),
        count(m.change_failure_rate.failed),
        Exact(m.change_failure_rate.rate),
        count(m.recovery_time.recovered),
        count(m.recovery_time.unrecovered),
        Duration(m.recovery_time.median_ms),
        Duration(m.recovery_time.p90_ms),
        count(m.rework_rate.unplanned),
        Exact(m.rework_rate.rate),
    ]
}

fn sql_figures(row: &SqliteRow, like: &[Figure]) -> Vec<Figure> {
    like.iter()
        .enumerate()
        .map(|(i, kind)| {
            let column = i + 2;
            match kind {
                Figure::Count(_) => Figure::Count(row.try_get(column).unwrap()),
                Figure::Exact(_) => Figure::Exact(row.try_get(column).unwrap()),
                Figure::Duration(_) => Figure::Duration(row.try_get(column).unwrap()),
            }
        })
        .collect()
}

fn agree(a: &Figure, b: &Figure) -> bool {
    match (a, b) {
        (Figure::Duration(Some(a)), Figure::Duration(Some(b))) => (a - b).abs() < 1.0,
        _ => a == b,
    }
}

async fn load(conn: &mut SqliteConnection, org: &Org, facts: &Facts) {
    for sql in SCHEMA {
        sqlx::query(*sql).execute(&mut *conn).await.unwrap();
    }
    let mut tx = conn.begin().await.unwrap();
    // 1,000 rows of at most 9 values per statement: well under SQLite's 32,766 variables.
    const CHUNK: usize = 1000;
    let environments: Vec<(usize, &String)> = facts.environments.iter().enumerate().collect();
    for chunk in environments.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO environments (ix, name) ");
        q.push_values(chunk, |mut b, (i, name)| {
            b.push_bind(*i as i64).push_bind(name.as_str());
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let groups: Vec<_> = org.groups.iter().enumerate().collect();
    for chunk in groups.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO groups (ix, entity_ref, parent) ");
        q.push_values(chunk, |mut b, (i, g)| {
            b.push_bind(*i as i64)
                .push_bind(g.entity_ref.as_str())
                .push_bind(g.parent.map(i64::from));
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let entities: Vec<_> = org.entities.iter().enumerate().collect();
    for chunk in entities.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO entities (ix, entity_ref, owner) ");
        q.push_values(chunk, |mut b, (i, e)| {
            b.push_bind(*i as i64)
                .push_bind(e.entity_ref.as_str())
                .push_bind(e.owner.map(i64::from));
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let deployments: Vec<_> = facts.deployments.iter().enumerate().collect();
    for chunk in deployments.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO deployments (ix, entity, environment, started_at, finished_at, outcome, \
             rollback, hotfix, excluded) ",
        );
        q.push_values(chunk, |mut b, (i, d)| {
            let outcome = match d.outcome {
                Outcome::Succeeded => "succeeded",
                Outcome::Failed => "failed",
                Outcome::Running => "running",
            };
            let excluded = d.excluded.map(|e| match e {
                Exclusion::FinishesBeforeStart => "finishes_before_start",
                Exclusion::InTheFuture => "in_the_future",
                Exclusion::CommittedAfterDeployment => "committed_after_deployment",
            });
            b.push_bind(*i as i64)
                .push_bind(i64::from(d.entity))
                .push_bind(i64::from(d.environment))
                .push_bind(d.started_at)
                .push_bind(d.finished_at)
                .push_bind(outcome)
                .push_bind(d.rollback)
                .push_bind(d.hotfix)
                .push_bind(excluded);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    for chunk in facts.changes.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("INSERT INTO changes (entity, committed_at, deployment) ");
        q.push_values(chunk, |mut b, c| {
            b.push_bind(i64::from(c.entity))
                .push_bind(c.committed_at)
                .push_bind(c.deployment.map(i64::from));
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    let incidents: Vec<_> = facts.incidents.iter().enumerate().collect();
    for chunk in incidents.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO incidents (ix, entity, opened_at, resolved_at, caused_by, fixed_by) ",
        );
        q.push_values(chunk, |mut b, (i, inc)| {
            b.push_bind(*i as i64)
                .push_bind(inc.entity.map(i64::from))
                .push_bind(inc.opened_at)
                .push_bind(inc.resolved_at)
                .push_bind(inc.caused_by.map(i64::from))
                .push_bind(inc.fixed_by.map(i64::from));
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    for sql in DERIVE {
        sqlx::query(*sql).execute(&mut *conn).await.unwrap();
    }
}

/// Loads `facts`, and for each window and environment compares every team row of the team
/// report and the organisation row of the org report with SQL's, current and previous
/// windows. Returns the number of (window, row) pairs compared.
fn compare(label: &str, org: &Org, facts: &Facts, windows: &[(Millis, Millis)]) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        load(&mut conn, org, facts).await;
        let index = Index::build(org, facts).unwrap();
        let mut compared = 0;
        let mut mismatches = Vec::new();
        for env in ["production", "staging"] {
            let environment = facts.environment_ix(env).unwrap();
            for &(from, to) in windows {
                let teams = Query {
                    compare_previous: true,
                    ..Query::new(from, to, environment)
                };
                let whole = Query {
                    group_by: GroupBy::Org,
                    ..teams
                };
                let mut pave: BTreeMap<(String, String), Vec<Figure>> = BTreeMap::new();
                for query in [teams, whole] {
                    for row in report(&index, &query).unwrap().rows {
                        pave.insert(
                            ("current".into(), row.key.clone()),
                            pave_figures(&row.metrics),
                        );
                        pave.insert(
                            ("previous".into(), row.key.clone()),
                            pave_figures(row.previous.as_ref().unwrap()),
                        );
                    }
                }
                let sql = report_sql(from, to, env);
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                let mut sql_keys = Vec::new();
                for row in &rows {
                    let key: (String, String) = (row.get(0), row.get(1));
                    sql_keys.push(key.clone());
                    let Some(ours) = pave.get(&key) else {
                        mismatches.push(format!("{env} {from}..{to} {key:?}: only in SQL"));
                        continue;
                    };
                    let theirs = sql_figures(row, ours);
                    compared += 1;
                    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                        if !agree(a, b) {
                            mismatches.push(format!(
                                "{env} {from}..{to} {key:?} {}: pave {a:?}, SQL {b:?}",
                                NAMES[i]
                            ));
                        }
                    }
                }
                for key in pave.keys() {
                    if !sql_keys.contains(key) {
                        mismatches.push(format!("{env} {from}..{to} {key:?}: only in pave"));
                    }
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{label}: {} mismatches, first ones:\n{}",
            mismatches.len(),
            mismatches[..mismatches.len().min(20)].join("\n")
        );
        compared
    })
}

fn params() -> LargeParams {
    LargeParams {
        services: 90,
        deployments: 12_000,
        changes: 40_000,
        incidents: 1_500,
        days: 120,
        departments: 3,
        teams: 12,
        systems: 6,
        domains: 2,
        end: date(2025, 1, 6),
    }
}

/// The last 30 days, a window starting mid-week and mid-day, and the whole history (whose
/// previous period has nothing in it).
fn windows(end: Millis, days: i64) -> Vec<(Millis, Millis)> {
    vec![
        (end - 30 * DAY, end),
        (end - 45 * DAY - 7 * 3_600_000, end - 10 * DAY + 123),
        (end - days * DAY, end),
    ]
}

#[test]
fn generated_history_agrees_with_sql() {
    let p = params();
    let (org, facts) = large(7, &p);
    let compared = compare("large", &org, &facts, &windows(p.end, p.days.into()));
    // Every group (3 departments + 12 teams) and the org, 2 windows each, 2 environments,
    // 3 queries.
    assert_eq!(compared, 16 * 2 * 2 * 3);
}

/// The cases random histories rarely hit: deployments of one entity finishing at the same
/// millisecond (the next deployment is then the one with the higher index), and a parent
/// cycle among groups (each member counts the others' entities once).
#[test]
fn ties_and_parent_cycles_agree_with_sql() {
    let p = params();
    let (mut org, mut facts) = large(11, &p);
    // department-1 → team-001 → department-1.
    let department = org.group_ix("group:default/department-1").unwrap();
    let team = org.group_ix("group:default/team-001").unwrap();
    assert_eq!(org.groups[team as usize].parent, Some(department));
    org.groups[department as usize].parent = Some(team);
    // Every third deployment of an entity finishes when the one before it did.
    let mut last: BTreeMap<(u32, u16), Millis> = BTreeMap::new();
    for (i, d) in facts.deployments.iter_mut().enumerate() {
        let Some(finished) = d.finished_at else {
            continue;
        };
        let key = (d.entity, d.environment);
        if i % 3 == 0
            && let Some(&previous) = last.get(&key)
        {
            d.finished_at = Some(previous);
        }
        last.insert(key, d.finished_at.unwrap_or(finished));
    }
    let index = Index::build(&org, &facts).unwrap();
    assert!(!index.rollup().cycles().is_empty(), "the cycle is there");
    compare(
        "ties and cycle",
        &org,
        &facts,
        &windows(p.end, p.days.into()),
    );
}

#[test]
fn demo_history_agrees_with_sql() {
    let entities: Vec<DemoEntity<'_>> = [
        (
            "component:default/checkout",
            "group:default/payments",
            "system:default/shop",
        ),
        (
            "component:default/cart",
            "group:default/payments",
            "system:default/shop",
        ),
        (
            "component:default/search",
            "group:default/discovery",
            "system:default/shop",
        ),
        (
            "component:default/recommend",
            "group:default/discovery",
            "system:default/ml",
        ),
        (
            "component:default/ledger",
            "group:default/finance",
            "system:default/books",
        ),
        (
            "component:default/payroll",
            "group:default/finance",
            "system:default/books",
        ),
        (
            "component:default/portal",
            "group:default/platform",
            "system:default/internal",
        ),
    ]
    .into_iter()
    .map(|(entity_ref, owner, system)| DemoEntity {
        entity_ref,
        owner,
        system: Some(system),
    })
    .collect();
    let now = date(2025, 3, 12) + 15 * 3_600_000;
    let (org, facts) = demo(3, &entities, 90, now);
    let compared = compare("demo", &org, &facts, &windows(now, 90));
    assert_eq!(compared, 5 * 2 * 2 * 3, "4 groups and the org");
}
