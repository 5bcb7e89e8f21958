//! `render-bench`: `pave render` of 100 Score workloads (HTTP APIs with postgres, redis, route
//! and dns; workers with a queue and a bucket; nightly CronJobs), every environment.
//!
//! Three figures: the wall time of one `pave render` of all 100 Score files (a layout per
//! workload under `-o DIR`, what a fleet's CI job runs), of 100 `pave render` processes run one
//! after the other, and the in-process time of `pave_workload` for the same 100 workloads
//! (parse, provision, render three environments, Kustomize layout).
//!
//! `render-bench [--workloads N] [--runs R]`; `PAVE_BIN` overrides the `pave` binary (default:
//! beside this one, i.e. build with `cargo build --release -p pave -p pave-bench`).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod workloads;

use std::time::Duration;

fn main() {
    let mut workloads = 100;
    let mut runs = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{arg} needs a number"));
        match arg.as_str() {
            "--workloads" => workloads = value,
            "--runs" => runs = value,
            other => panic!("unknown argument {other}"),
        }
    }
    let pave = workloads::pave_bin();
    let work = std::env::temp_dir().join(format!("pave-render-bench-{}", std::process::id()));
    println!(
        "# pave render ({} cores, {workloads} workloads × 3 environments)\n",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let figures = workloads::measure(&pave, &work, workloads, runs);
    let _ = std::fs::remove_dir_all(&work);
    if figures.cli.is_none() {
        println!(
            "note: {} not found; skipping the CLI figure",
            pave.display()
        );
    }
    println!("| mode | workloads | files written | median wall | per workload |");
    println!("|---|---|---|---|---|");
    let row = |mode: &str, d: Duration| {
        println!(
            "| {mode} | {workloads} | {} | {:.0} ms | {:.2} ms |",
            figures.files,
            d.as_secs_f64() * 1000.0,
            d.as_secs_f64() * 1000.0 / workloads as f64
        );
    };
    row("pave_workload (in process)", figures.lib);
    if let Some(m) = figures.cli {
        row("`pave render` × N processes", m);
    }
    if let Some(m) = figures.cli_batch {
        row("one `pave render` of all N (`-o DIR`)", m);
        println!(
            "\ntarget: < 1 s for 100 workloads (one run): {}",
            if m < Duration::from_secs(1) {
                "met"
            } else {
                "missed"
            }
        );
    }
}
