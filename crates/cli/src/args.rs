//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// pave: the paved road in one binary — a Backstage-compatible software catalog, portal and API.
#[derive(Debug, Parser)]
#[command(name = "pave", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// How commands print data
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table, env = "PAVE_OUTPUT")]
    pub(crate) output: OutputFormat,

    /// Database: a SQLite path (`sqlite://PATH`) or `postgres://user@host/db`. Default: a SQLite
    /// file in the platform data directory
    #[arg(long, global = true, env = "PAVE_DATABASE_URL")]
    pub(crate) database_url: Option<String>,

    /// Configuration file (default: ./pave.yaml when it exists)
    #[arg(long, global = true, env = "PAVE_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Log format: human-readable text or JSON lines (for servers)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "PAVE_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,

    /// Log level filter, e.g. `info` or `pave_ingest=debug` (overrides RUST_LOG)
    #[arg(long, global = true, env = "PAVE_LOG")]
    pub(crate) log: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Seed a store with a demo organisation and serve the portal (start here)
    Demo(DemoArgs),
    /// Serve the catalog API, portal, health checks and metrics
    Serve(ServeArgs),
    /// Read, check and query the software catalog
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Print shell completions
    Completions {
        /// The shell to generate completions for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7007", env = "PAVE_ADDR")]
    pub(crate) addr: std::net::SocketAddr,

    /// Re-read every registered source this often (`90s`, `5m`, `1h`; `0` never)
    #[arg(long, default_value = "2m", value_parser = crate::config::parse_duration)]
    pub(crate) refresh_interval: std::time::Duration,

    /// Set from the global `--log-format`.
    #[arg(skip)]
    pub(crate) json_logs: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// Where to write the demo catalog files (default: the data directory)
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,

    /// Seed the store and exit without serving
    #[arg(long)]
    pub(crate) no_serve: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,

    /// A source to register and read: a file, a folder or a git URL (`URL#ref`); repeatable
    #[arg(long = "source", value_name = "SOURCE")]
    pub(crate) sources: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CatalogCommand {
    /// Read sources into the catalog: files, folders, git URLs (`URL#ref`); none: every registered source
    Ingest {
        /// Files, folders or git repository URLs
        sources: Vec<String>,
    },
    /// Check descriptor files or folders without storing anything
    Validate {
        /// Files or folders
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List entities
    List {
        /// Backstage filter, e.g. `kind=component,spec.type=service`; repeat to OR
        #[arg(long, short)]
        filter: Vec<String>,
        /// Shorthand for `--filter kind=<KIND>`
        #[arg(long, short)]
        kind: Option<String>,
    },
    /// Show one entity: `[kind:][namespace/]name` (kind defaults to component)
    Get {
        /// The entity reference
        entity_ref: String,
    },
    /// List registered sources and how their last ingestion went
    Locations,
    /// Unregister a source and remove the entities it provided
    Unregister {
        /// The location id (see `pave catalog locations`)
        id: String,
    },
}
