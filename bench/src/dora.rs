//! DORA metrics benchmark: pave-dora against DuckDB on the same facts, with the same figures.
//!
//! 1. Generates the large history (`pave_dora::generate::large`: 1,000,000 deployments,
//!    5,000,000 changes, 50,000 incidents over 2,000 services and 365 days by default).
//! 2. Times pave: `Index::build`, the organisation report (every group with its subtree, a
//!    90-day window ending at the history's end, the previous 90 days too, production) and
//!    the same report narrowed to one team; the median of `--runs` runs each.
//! 3. Writes the facts as CSV (one file per table, below) and hands DuckDB (through Python,
//!    `--python`, a venv `bench/dora.sh` makes) a plan: load the CSV into tables, derive the
//!    window-independent per-deployment verdicts (the analogue of `Index::build`), then the
//!    same two reports, once on the derived tables and once from the loaded tables alone. The
//!    driver times each statement with `time.perf_counter` around `execute` + `fetchall`.
//! 4. Compares DuckDB's figures with pave's for every team and both windows: counts, rates,
//!    deployments per day and median deploy-days per week exactly, durations (lead time and
//!    recovery, median and p90) to the second; prints the number of mismatches and exits 1
//!    when there is any.
//!
//! Usage: `cargo run --release -p pave-bench --bin dora-bench -- --python PATH [--services N
//! --deployments N --changes N --incidents N --seed N --runs N --keep DIR]`.
//!
//! # The SQL
//!
//! The tables (`*.csv`, NULL as an empty cell):
//!
//! ```text
//! environments(ix, name)
//! groups(ix, entity_ref, parent)            parent: a groups.ix or NULL
//! entities(ix, entity_ref, owner, system)   owner: a groups.ix or NULL
//! deployments(ix, entity, environment, started_at, finished_at, outcome, rollback, hotfix, excluded)
//! changes(entity, committed_at, deployment) deployment: a deployments.ix or NULL
//! incidents(ix, entity, severity, opened_at, resolved_at, caused_by, fixed_by)
//! ```
//!
//! Times are Unix milliseconds (`BIGINT`). The definitions follow `pave_dora::metrics`:
//!
//! * **counted**: finished, outcome not `running`, not excluded; a deployment's time is its
//!   `finished_at`; the window is `[from, to)`.
//! * **failed**: outcome `failed`, or named by an incident's `caused_by`, or the next counted
//!   deployment of the same entity and environment (order: time, then `ix`, at any time) is a
//!   rollback ([`DERIVE_DEPLOYMENTS`]: `lead(rollback)`).
//! * **recovery** of a failed one: with causing incidents, the latest `resolved_at` (none
//!   while any is open) minus its time; else the first later counted deployment of the same
//!   entity and environment that succeeded and did not fail (`min(...) OVER (... ROWS BETWEEN
//!   1 FOLLOWING AND UNBOUNDED FOLLOWING)`, which is the first since times ascend) minus its
//!   time. Negative recoveries are left out of the percentiles.
//! * **unplanned** (rework): `hotfix`, `rollback`, or named by an incident's `fixed_by`.
//! * **lead time**: for each change whose deployment is counted and succeeded, the
//!   deployment's time minus `committed_at`; negative ones left out; attributed to the
//!   deployment's entity and window.
//! * **teams**: a group counts every entity owned by it or by a group below it (a recursive
//!   CTE up `parent`; `UNION` stops at a parent cycle as pave does); groups owning nothing
//!   are not listed.
//! * **deploy-days per week**: distinct UTC days with a successful counted deployment, per
//!   ISO week (Monday 00:00 UTC) overlapping the window, weeks without any included; median.
//! * Percentiles: `quantile_cont`, pave's `PERCENTILE_CONT`.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use pave_dora::facts::{Exclusion, Facts, Millis, Org, Outcome};
use pave_dora::generate::{LargeParams, large};
use pave_dora::{Index, Metrics, Query, Report, Scope, report};
use serde_json::{Value, json};

const DAY: Millis = 86_400_000;
const WINDOW_DAYS: i64 = 90;
const TEAM: &str = "group:default/team-000";

/// Loads the CSV files into tables. `{dir}` is replaced by the folder holding them. Column
/// types are given, so nothing is sniffed and an empty cell is NULL.
const LOAD: &[&str] = &[
    "CREATE OR REPLACE TABLE environments AS SELECT * FROM read_csv('{dir}/environments.csv', header = true,
       columns = {'ix': 'INTEGER', 'name': 'VARCHAR'})",
    "CREATE OR REPLACE TABLE groups AS SELECT * FROM read_csv('{dir}/groups.csv', header = true,
       columns = {'ix': 'INTEGER', 'entity_ref': 'VARCHAR', 'parent': 'INTEGER'})",
    "CREATE OR REPLACE TABLE entities AS SELECT * FROM read_csv('{dir}/entities.csv', header = true,
       columns = {'ix': 'INTEGER', 'entity_ref': 'VARCHAR', 'owner': 'INTEGER', 'system': 'INTEGER'})",
    "CREATE OR REPLACE TABLE deployments AS SELECT * FROM read_csv('{dir}/deployments.csv', header = true,
       columns = {'ix': 'INTEGER', 'entity': 'INTEGER', 'environment': 'INTEGER',
                  'started_at': 'BIGINT', 'finished_at': 'BIGINT', 'outcome': 'VARCHAR',
                  'rollback': 'BOOLEAN', 'hotfix': 'BOOLEAN', 'excluded': 'VARCHAR'})",
    "CREATE OR REPLACE TABLE changes AS SELECT * FROM read_csv('{dir}/changes.csv', header = true,
       columns = {'entity': 'INTEGER', 'committed_at': 'BIGINT', 'deployment': 'INTEGER'})",
    "CREATE OR REPLACE TABLE incidents AS SELECT * FROM read_csv('{dir}/incidents.csv', header = true,
       columns = {'ix': 'INTEGER', 'entity': 'INTEGER', 'severity': 'INTEGER', 'opened_at': 'BIGINT',
                  'resolved_at': 'BIGINT', 'caused_by': 'INTEGER', 'fixed_by': 'INTEGER'})",
    // What was loaded, for a sanity check against the facts.
    "SELECT (SELECT count(*) FROM deployments), (SELECT count(*) FROM changes),
            (SELECT count(*) FROM incidents), (SELECT count(*) FROM deployments WHERE excluded IS NULL)",
];

/// Every counted deployment with its window-independent verdicts (pave: `Index::build`'s
/// `settle_run`): failed and why, unplanned and why, recovery in ms (NULL: not failed, or
/// not recovered).
const DERIVE_DEPLOYMENTS: &str = "
  counted AS (
    SELECT ix, entity, environment, finished_at AS at_ms, outcome, rollback, hotfix
    FROM deployments
    WHERE finished_at IS NOT NULL AND outcome <> 'running' AND excluded IS NULL
  ),
  caused AS (   -- deployments incidents name as their cause
    SELECT caused_by AS ix, bool_or(resolved_at IS NULL) AS open_incident,
           max(resolved_at) AS resolved_at
    FROM incidents WHERE caused_by IS NOT NULL GROUP BY caused_by
  ),
  fixing AS (SELECT DISTINCT fixed_by AS ix FROM incidents WHERE fixed_by IS NOT NULL),
  verdict AS (
    SELECT c.ix, c.entity, c.environment, c.at_ms,
           c.outcome = 'succeeded' AS succeeded,
           c.outcome = 'failed' OR caused.ix IS NOT NULL
             OR coalesce(lead(c.rollback) OVER run, false) AS failed,
           c.hotfix OR c.rollback OR fixing.ix IS NOT NULL AS unplanned,
           caused.ix IS NOT NULL AS caused_incident, caused.open_incident, caused.resolved_at
    FROM counted c LEFT JOIN caused ON caused.ix = c.ix LEFT JOIN fixing ON fixing.ix = c.ix
    WINDOW run AS (PARTITION BY c.entity, c.environment ORDER BY c.at_ms, c.ix)
  ),
  dep_derived AS (
    SELECT ix, entity, environment, at_ms, succeeded, failed, unplanned,
           CASE WHEN NOT failed THEN NULL
                WHEN caused_incident THEN CASE WHEN open_incident THEN NULL ELSE resolved_at - at_ms END
                ELSE min(CASE WHEN succeeded AND NOT failed THEN at_ms END) OVER (
                       PARTITION BY entity, environment ORDER BY at_ms, ix
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) - at_ms
           END AS recovery
    FROM verdict
  )";

/// Lead times (negative ones included; the report leaves them out) by shipping deployment.
const DERIVE_LEADS: &str = "
  lead_derived AS (
    SELECT d.entity, d.environment, d.at_ms, d.at_ms - c.committed_at AS lead_ms
    FROM changes c JOIN dep d ON d.ix = c.deployment
    WHERE d.succeeded
  )";

/// The report: one row per (window, team). `{from}`, `{to}`, `{prev}` are the windows'
/// bounds, `{env}` the environment's name, `{team_filter}` empty or a condition narrowing
/// `member` to one group (the team report; a leaf team's subtree is itself). The CTEs `dep`
/// and `leads` are the derived tables or, for the run from loaded tables, the derivations
/// above inlined.
const REPORT: &str = "
  win(name, from_ms, to_ms) AS (VALUES ('current', {from}, {to}), ('previous', {prev}, {from})),
  up(g, anc) AS (   -- each group with itself and every group above it
    SELECT ix, ix FROM groups
    UNION
    SELECT up.g, p.parent FROM up JOIN groups p ON p.ix = up.anc WHERE p.parent IS NOT NULL
  ),
  member AS (       -- team -> every entity it or a group below it owns
    SELECT g.entity_ref AS team, e.ix AS entity
    FROM entities e JOIN up ON up.g = e.owner JOIN groups g ON g.ix = up.anc
    {team_filter}
  ),
  listed AS (SELECT DISTINCT win.name, win.from_ms, win.to_ms, member.team FROM win, member),
  prod AS (SELECT ix FROM environments WHERE name = '{env}'),
  d AS (
    SELECT win.name, m.team, dep.*
    FROM dep JOIN win ON dep.at_ms >= win.from_ms AND dep.at_ms < win.to_ms
             JOIN member m ON m.entity = dep.entity
    WHERE dep.environment = (SELECT ix FROM prod)
  ),
  dstats AS (
    SELECT name, team, count(*) AS counted,
           count(*) FILTER (WHERE succeeded) AS succeeded,
           count(*) FILTER (WHERE failed) AS failed,
           count(*) FILTER (WHERE unplanned) AS unplanned,
           count(*) FILTER (WHERE failed AND recovery >= 0) AS recovered,
           count(*) FILTER (WHERE failed AND recovery IS NULL) AS unrecovered,
           quantile_cont(recovery, 0.5) FILTER (WHERE failed AND recovery >= 0) AS recovery_median,
           quantile_cont(recovery, 0.9) FILTER (WHERE failed AND recovery >= 0) AS recovery_p90
    FROM d GROUP BY name, team
  ),
  lstats AS (
    SELECT win.name, m.team, count(*) AS changes,
           quantile_cont(leads.lead_ms, 0.5) AS lead_median,
           quantile_cont(leads.lead_ms, 0.9) AS lead_p90
    FROM leads JOIN win ON leads.at_ms >= win.from_ms AND leads.at_ms < win.to_ms
              JOIN member m ON m.entity = leads.entity
    WHERE leads.environment = (SELECT ix FROM prod) AND leads.lead_ms >= 0
    GROUP BY win.name, m.team
  ),
  days AS (         -- distinct UTC days with a successful deployment, with their ISO week
    SELECT DISTINCT name, team, at_ms // 86400000 AS day,
           (at_ms // 86400000 - ((at_ms // 86400000 + 3) % 7 + 7) % 7) * 86400000 AS week_ms
    FROM d WHERE succeeded
  ),
  weeks AS (        -- ISO weeks overlapping each window: Monday 00:00 UTC (1970-01-01 a Thursday)
    SELECT name, unnest(range(
             (from_ms // 86400000 - ((from_ms // 86400000 + 3) % 7 + 7) % 7) * 86400000,
             to_ms, 604800000)) AS week_ms
    FROM win
  ),
  per_week AS (
    SELECT name, team, week_ms, count(*) AS deploy_days FROM days GROUP BY name, team, week_ms
  ),
  wstats AS (
    SELECT l.name, l.team, count(*) AS weeks,
           quantile_cont(coalesce(p.deploy_days, 0), 0.5) AS deploy_days_median
    FROM listed l JOIN weeks w ON w.name = l.name
    LEFT JOIN per_week p ON p.name = l.name AND p.team = l.team AND p.week_ms = w.week_ms
    GROUP BY l.name, l.team
  )
SELECT l.name, l.team,
       coalesce(s.counted, 0) AS counted,
       coalesce(s.succeeded, 0) AS succeeded,
       coalesce(s.succeeded, 0) / ((l.to_ms - l.from_ms)::DOUBLE / 86400000.0) AS per_day,
       w.deploy_days_median, w.weeks,
       coalesce(ls.changes, 0) AS changes, ls.lead_median, ls.lead_p90,
       coalesce(s.failed, 0) AS failed, s.failed::DOUBLE / s.counted AS change_failure_rate,
       coalesce(s.recovered, 0) AS recovered, coalesce(s.unrecovered, 0) AS unrecovered,
       s.recovery_median, s.recovery_p90,
       coalesce(s.unplanned, 0) AS unplanned, s.unplanned::DOUBLE / s.counted AS rework_rate
FROM listed l
LEFT JOIN dstats s ON s.name = l.name AND s.team = l.team
LEFT JOIN lstats ls ON ls.name = l.name AND ls.team = l.team
LEFT JOIN wstats w ON w.name = l.name AND w.team = l.team
ORDER BY l.name, l.team";

/// Runs the plan it reads on stdin with DuckDB and writes timings and rows as JSON. Floats
/// are written with `repr` (shortest round trip) as strings, so Rust reads them back exactly.
const DRIVER: &str = r#"
import json, sys, time
import duckdb
plan = json.load(sys.stdin)
con = duckdb.connect(":memory:")
con.execute("SET enable_progress_bar = false")  # it writes to stdout, where the JSON goes
def cell(v):
    return repr(v) if isinstance(v, float) else v
out = []
for step in plan["steps"]:
    times, rows, columns = [], [], []
    for _ in range(step["runs"]):
        started = time.perf_counter()
        for sql in step["sql"]:
            cur = con.execute(sql)
        rows = cur.fetchall()
        times.append((time.perf_counter() - started) * 1000.0)
        columns = [d[0] for d in cur.description] if cur.description else []
    out.append({"name": step["name"], "ms": times, "columns": columns,
                "rows": [[cell(v) for v in r] for r in rows]})
threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
sys.stdout.write("\n" + json.dumps({"version": duckdb.__version__, "threads": threads, "steps": out}) + "\n")
"#;

struct Args {
    params: LargeParams,
    seed: u64,
    runs: usize,
    python: Option<PathBuf>,
    keep: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: dora-bench [--python PATH] [--services N] [--deployments N] [--changes N] \
         [--incidents N] [--seed N] [--runs N] [--keep DIR]\n\
         without --python, pave alone is timed"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        params: LargeParams::default(),
        seed: 42,
        runs: 5,
        python: None,
        keep: None,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.len().is_multiple_of(2) {
        usage();
    }
    for pair in raw.chunks(2) {
        let value = pair[1].as_str();
        let number = || value.parse::<u32>().unwrap_or_else(|_| usage());
        match pair[0].as_str() {
            "--services" => args.params.services = number(),
            "--deployments" => args.params.deployments = number(),
            "--changes" => args.params.changes = number(),
            "--incidents" => args.params.incidents = number(),
            "--seed" => args.seed = value.parse().unwrap_or_else(|_| usage()),
            "--runs" => args.runs = (number() as usize).max(1),
            "--python" => args.python = Some(PathBuf::from(value)),
            "--keep" => args.keep = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    // Teams are a tenth of the services by default (200 for 2,000); fewer services, fewer
    // teams, so each still owns some.
    args.params.teams = (args.params.services / 10).clamp(1, 200);
    args
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        ms[n / 2]
    } else {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    }
}

/// Runs `f` `runs` times; the median wall time in ms and the last result.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), last.unwrap())
}

fn main() {
    let args = parse_args();
    let p = &args.params;
    println!(
        "pave-dora vs DuckDB: {} services, {} teams, {} deployments, {} changes, {} incidents, {} days, seed {}, {} threads, median of {} runs",
        p.services,
        p.teams,
        p.deployments,
        p.changes,
        p.incidents,
        p.days,
        args.seed,
        pave_stdx::available_threads(),
        args.runs
    );

    // The machine may be shared: say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }

    let started = Instant::now();
    let (org, facts) = large(args.seed, p);
    let generate_ms = started.elapsed().as_secs_f64() * 1000.0;

    let (build_ms, index) = timed(args.runs.min(3), || Index::build(&org, &facts).unwrap());
    let to = p.end;
    let from = to - WINDOW_DAYS * DAY;
    let production = facts.environment_ix("production").unwrap();
    let org_query = Query {
        compare_previous: true,
        ..Query::new(from, to, production)
    };
    let team = org.group_ix(TEAM).unwrap();
    let team_query = Query {
        only: Some(Scope::Group(team)),
        ..org_query
    };
    let (org_ms, org_report) = timed(args.runs, || report(&index, &org_query).unwrap());
    let (team_ms, team_report) = timed(args.runs, || report(&index, &team_query).unwrap());

    let mut table: Vec<(String, Option<f64>, Option<f64>)> = vec![
        ("generate the history".into(), Some(generate_ms), None),
        (
            "Index::build / derive per-deployment tables".into(),
            Some(build_ms),
            None,
        ),
        (
            format!(
                "org report by team, {WINDOW_DAYS} d + previous ({} rows)",
                org_report.rows.len()
            ),
            Some(org_ms),
            None,
        ),
        (
            format!("one team ({TEAM}), {WINDOW_DAYS} d + previous"),
            Some(team_ms),
            None,
        ),
    ];

    let Some(python) = args.python.as_deref() else {
        print_table(&table);
        return;
    };

    let scratch = tempfile::tempdir().unwrap();
    let dir = args
        .keep
        .clone()
        .unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let bytes = write_csv(&dir, &org, &facts).unwrap();
    let csv_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "CSV: {:.0} MB in {} ({csv_ms:.0} ms)",
        bytes as f64 / 1e6,
        dir.display()
    );

    let duck = run_duckdb(python, &dir, args.runs, from, to);
    let steps: BTreeMap<String, (f64, Vec<Vec<Value>>)> = duck["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let ms: Vec<f64> = s["ms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let rows = s["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().clone())
                .collect();
            (s["name"].as_str().unwrap().to_owned(), (median(ms), rows))
        })
        .collect();
    println!(
        "DuckDB {} ({} threads)",
        duck["version"].as_str().unwrap_or("?"),
        duck["threads"]
    );

    // The load's own check: every fact arrived, and empty cells read as NULL.
    let loaded = &steps["load"].1[0];
    let counted_ok = facts
        .deployments
        .iter()
        .filter(|d| d.excluded.is_none())
        .count();
    let expected = [
        facts.deployments.len(),
        facts.changes.len(),
        facts.incidents.len(),
        counted_ok,
    ];
    let got: Vec<usize> = loaded
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(got, expected, "rows loaded into DuckDB");

    let duck_ms = |name: &str| steps[name].0;
    table[1].2 = Some(duck_ms("derive"));
    table[2].2 = Some(duck_ms("org"));
    table[3].2 = Some(duck_ms("team"));
    table.insert(
        1,
        (
            "write CSV / load CSV into tables".into(),
            Some(csv_ms),
            Some(duck_ms("load")),
        ),
    );
    table.push((
        "org report from loaded tables (pave: build + report)".into(),
        Some(build_ms + org_ms),
        Some(duck_ms("org_raw")),
    ));
    table.push((
        "one team from loaded tables (pave: build + report)".into(),
        Some(build_ms + team_ms),
        Some(duck_ms("team_raw")),
    ));
    print_table(&table);

    let mut mismatches = Mismatches::default();
    for (name, report) in [
        ("org", &org_report),
        ("org_raw", &org_report),
        ("team", &team_report),
        ("team_raw", &team_report),
    ] {
        mismatches.compare(name, report, &steps[name].1);
    }
    println!(
        "\nfigures compared: {} (teams × windows × figures, 4 DuckDB queries); \
         durations bit-identical: {} of {} (largest difference {} ms); mismatches: {}",
        mismatches.compared,
        mismatches.identical_durations,
        mismatches.durations,
        mismatches.largest_difference,
        mismatches.found.len()
    );
    for m in mismatches.found.iter().take(20) {
        println!("  {m}");
    }
    if !mismatches.found.is_empty() {
        std::process::exit(1);
    }
}

fn print_table(rows: &[(String, Option<f64>, Option<f64>)]) {
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(4);
    let cell = |v: Option<f64>| v.map_or("–".to_owned(), |ms| format!("{ms:.1}"));
    println!(
        "\n| {:w$} | {:>9} | {:>9} |",
        "step", "pave ms", "DuckDB ms"
    );
    println!("| {} | --------: | --------: |", "-".repeat(w));
    for (step, pave, duck) in rows {
        println!("| {step:w$} | {:>9} | {:>9} |", cell(*pave), cell(*duck));
    }
}

/// Writes the six tables as CSV into `dir`; returns the bytes written.
fn write_csv(dir: &Path, org: &Org, facts: &Facts) -> std::io::Result<u64> {
    fn open(dir: &Path, name: &str, header: &str) -> std::io::Result<BufWriter<File>> {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?);
        writeln!(w, "{header}")?;
        Ok(w)
    }
    fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or(String::new(), |v| v.to_string())
    }
    let mut w = open(dir, "environments.csv", "ix,name")?;
    for (i, name) in facts.environments.iter().enumerate() {
        writeln!(w, "{i},{name}")?;
    }
    w.flush()?;
    let mut w = open(dir, "groups.csv", "ix,entity_ref,parent")?;
    for (i, g) in org.groups.iter().enumerate() {
        writeln!(w, "{i},{},{}", g.entity_ref, opt(g.parent))?;
    }
    w.flush()?;
    let mut w = open(dir, "entities.csv", "ix,entity_ref,owner,system")?;
    for (i, e) in org.entities.iter().enumerate() {
        writeln!(w, "{i},{},{},{}", e.entity_ref, opt(e.owner), opt(e.system))?;
    }
    w.flush()?;
    let mut w = open(
        dir,
        "deployments.csv",
        "ix,entity,environment,started_at,finished_at,outcome,rollback,hotfix,excluded",
    )?;
    for (i, d) in facts.deployments.iter().enumerate() {
        let outcome = match d.outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Running => "running",
        };
        let excluded = match d.excluded {
            None => "",
            Some(Exclusion::FinishesBeforeStart) => "finishes_before_start",
            Some(Exclusion::InTheFuture) => "in_the_future",
            Some(Exclusion::CommittedAfterDeployment) => "committed_after_deployment",
        };
        writeln!(
            w,
            "{i},{},{},{},{},{outcome},{},{},{excluded}",
            d.entity,
            d.environment,
            d.started_at,
            opt(d.finished_at),
            d.rollback,
            d.hotfix
        )?;
    }
    w.flush()?;
    let mut w = open(dir, "changes.csv", "entity,committed_at,deployment")?;
    for c in &facts.changes {
        writeln!(w, "{},{},{}", c.entity, c.committed_at, opt(c.deployment))?;
    }
    w.flush()?;
    let mut w = open(
        dir,
        "incidents.csv",
        "ix,entity,severity,opened_at,resolved_at,caused_by,fixed_by",
    )?;
    for (i, inc) in facts.incidents.iter().enumerate() {
        writeln!(
            w,
            "{i},{},{},{},{},{},{}",
            opt(inc.entity),
            opt(inc.severity),
            inc.opened_at,
            opt(inc.resolved_at),
            opt(inc.caused_by),
            opt(inc.fixed_by)
        )?;
    }
    w.flush()?;
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir)? {
        bytes += entry?.metadata()?.len();
    }
    Ok(bytes)
}

/// The report SQL for one window, over `dep`/`leads` given as `source` CTEs (empty: the
/// derived tables).
fn report_sql(source: &str, from: Millis, to: Millis, team_filter: &str) -> String {
    let prev = from - (to - from);
    let body = REPORT
        .replace("{from}", &from.to_string())
        .replace("{to}", &to.to_string())
        .replace("{prev}", &prev.to_string())
        .replace("{env}", "production")
        .replace("{team_filter}", team_filter);
    format!("WITH RECURSIVE {source}{body}")
}

fn run_duckdb(python: &Path, dir: &Path, runs: usize, from: Millis, to: Millis) -> Value {
    let load: Vec<String> = LOAD
        .iter()
        .map(|s| s.replace("{dir}", &dir.display().to_string()))
        .collect();
    let derive = vec![
        format!(
            "CREATE OR REPLACE TABLE dep AS WITH {DERIVE_DEPLOYMENTS} SELECT * FROM dep_derived"
        ),
        format!("CREATE OR REPLACE TABLE leads AS WITH {DERIVE_LEADS} SELECT * FROM lead_derived"),
        "SELECT (SELECT count(*) FROM dep), (SELECT count(*) FROM leads)".to_owned(),
    ];
    // From the loaded tables alone: the derivations inlined as CTEs named like the tables.
    let inline = format!(
        "{DERIVE_DEPLOYMENTS}, dep AS (SELECT * FROM dep_derived), \
         {}, leads AS (SELECT * FROM lead_derived),",
        DERIVE_LEADS
    );
    let team_filter = format!("WHERE g.entity_ref = '{TEAM}'");
    let plan = json!({
        "steps": [
            {"name": "load", "runs": 1, "sql": load},
            {"name": "derive", "runs": runs.min(3), "sql": derive},
            {"name": "org", "runs": runs, "sql": [report_sql("", from, to, "")]},
            {"name": "team", "runs": runs, "sql": [report_sql("", from, to, &team_filter)]},
            {"name": "org_raw", "runs": runs, "sql": [report_sql(&inline, from, to, "")]},
            {"name": "team_raw", "runs": runs, "sql": [report_sql(&inline, from, to, &team_filter)]},
        ]
    });
    let mut child = Command::new(python)
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    if !output.status.success() {
        eprintln!("DuckDB driver failed ({})", output.status);
        std::process::exit(1);
    }
    // The JSON is the last line: anything a DuckDB version prints before it is left out.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("DuckDB driver output: {e}: {stdout:.500}"))
}

/// The figures of one (window, team) in the order of [`REPORT`]'s columns.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Figure {
    Count(u64),
    /// Compared exactly (rates and per-day figures are the same IEEE divisions of the same
    /// counts).
    Exact(Option<f64>),
    /// Milliseconds, compared to the second.
    Duration(Option<f64>),
}

const FIGURES: [&str; 16] = [
    "counted",
    "succeeded",
    "per_day",
    "deploy_days_median",
    "weeks",
    "changes",
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

fn pave_figures(m: &Metrics) -> [Figure; 16] {
    use Figure::{Count, Duration, Exact};
    [
        Count(m.deployments.counted),
        Count(m.deployments.succeeded),
        Exact(Some(m.deployment_frequency.per_day)),
        Exact(Some(m.deployment_frequency.median_deploy_days_per_week)),
        Count(m.deployment_frequency.weeks.into()),
        Count(m.lead_time.changes),
        Duration(m.lead_time.median_ms),
        Duration(m.lead_time.p90_ms),
        Count(m.change_failure_rate.failed),
        Exact(m.change_failure_rate.rate),
        Count(m.recovery_time.recovered),
        Count(m.recovery_time.unrecovered),
        Duration(m.recovery_time.median_ms),
        Duration(m.recovery_time.p90_ms),
        Count(m.rework_rate.unplanned),
        Exact(m.rework_rate.rate),
    ]
}

/// DuckDB's cells as figures of the same kinds as `like`.
fn duck_figures(cells: &[Value], like: &[Figure; 16]) -> Option<[Figure; 16]> {
    let float = |v: &Value| -> Option<Option<f64>> {
        match v {
            Value::Null => Some(None),
            Value::String(s) => s.parse().ok().map(Some),
            Value::Number(n) => n.as_f64().map(Some),
            _ => None,
        }
    };
    let mut out = *like;
    for (i, slot) in out.iter_mut().enumerate() {
        let v = cells.get(i)?;
        *slot = match like[i] {
            Figure::Count(_) => Figure::Count(v.as_u64()?),
            Figure::Exact(_) => Figure::Exact(float(v)?),
            Figure::Duration(_) => Figure::Duration(float(v)?),
        };
    }
    Some(out)
}

#[derive(Default)]
struct Mismatches {
    compared: u64,
    durations: u64,
    identical_durations: u64,
    /// The largest difference between two durations, in ms.
    largest_difference: f64,
    found: Vec<String>,
}

impl Mismatches {
    fn compare(&mut self, query: &str, report: &Report, rows: &[Vec<Value>]) {
        let mut duck: BTreeMap<(String, String), &[Value]> = BTreeMap::new();
        for row in rows {
            let (Some(window), Some(team)) = (row[0].as_str(), row[1].as_str()) else {
                self.found
                    .push(format!("{query}: a row without window or team"));
                continue;
            };
            duck.insert((window.to_owned(), team.to_owned()), &row[2..]);
        }
        let mut seen = 0;
        for row in &report.rows {
            let windows = [
                ("current", Some(&row.metrics)),
                ("previous", row.previous.as_ref()),
            ];
            for (window, metrics) in windows {
                let Some(metrics) = metrics else {
                    self.found
                        .push(format!("{query}: {} has no previous period", row.key));
                    continue;
                };
                let Some(cells) = duck.get(&(window.to_owned(), row.key.clone())) else {
                    self.found
                        .push(format!("{query}: DuckDB has no row {window} {}", row.key));
                    continue;
                };
                seen += 1;
                let ours = pave_figures(metrics);
                let Some(theirs) = duck_figures(cells, &ours) else {
                    self.found.push(format!(
                        "{query}: {window} {}: unreadable row {cells:?}",
                        row.key
                    ));
                    continue;
                };
                for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                    self.compared += 1;
                    let same = match (a, b) {
                        (Figure::Count(a), Figure::Count(b)) => a == b,
                        (Figure::Exact(a), Figure::Exact(b)) => a == b,
                        (Figure::Duration(a), Figure::Duration(b)) => {
                            self.durations += 1;
                            self.identical_durations += u64::from(a == b);
                            match (a, b) {
                                (None, None) => true,
                                (Some(a), Some(b)) => {
                                    let difference = (a - b).abs();
                                    self.largest_difference =
                                        self.largest_difference.max(difference);
                                    difference < 1000.0
                                }
                                _ => false,
                            }
                        }
                        _ => false,
                    };
                    if !same {
                        self.found.push(format!(
                            "{query}: {window} {} {}: pave {a:?}, DuckDB {b:?}",
                            row.key, FIGURES[i]
                        ));
                    }
                }
            }
        }
        if seen != duck.len() {
            self.found.push(format!(
                "{query}: DuckDB has {} rows, pave {seen}",
                duck.len()
            ));
        }
    }
}
