//! The pave command line: argument parsing, configuration, logging, exit codes, and the
//! commands themselves (thin glue over the library crates).
//!
//! Exit codes: 0 success; 1 the run finished but found failures (rejected entities, invalid
//! files); 2 usage or input errors (bad arguments, unreadable sources, unusable database).

mod args;
mod check;
mod commands;
mod config;
mod conftest;
mod database;
mod delivery;
mod golden;
mod guardrails;
mod identity;
mod output;
mod render;
mod slo;
mod slo_live;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use args::Cli;
use args::{LogFormat, OutputFormat};

/// What a command reports back.
pub(crate) enum Outcome {
    Success,
    /// Finished, but with findings or failures.
    Failures,
    /// Finished, but some inputs could not be read (exit code 2; the rest was still checked).
    InputErrors,
}

/// Runs pave with `args` (including the program name) and returns the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report_error(&anyhow::anyhow!("cannot start the async runtime: {e}"));
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failures) => ExitCode::from(1),
        Ok(Outcome::InputErrors) => ExitCode::from(2),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

#[allow(clippy::print_stderr)]
fn report_error(e: &anyhow::Error) {
    let prefix = if output::color_stderr() {
        "\x1b[31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{prefix}: {e:#}");
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = match cli.command {
        args::Command::Serve(_) | args::Command::Demo(_) => "info,tower_http=warn,sqlx=warn",
        _ => "warn",
    };
    let filter = cli
        .global
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.to_owned());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = output::color_stderr() && std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match cli.global.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub(crate) fn wants_json(format: OutputFormat) -> bool {
    format != OutputFormat::Table
}
