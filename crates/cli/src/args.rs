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
    /// Check Kubernetes manifests, Terraform plans, Dockerfiles, GitHub workflows and catalog files against guardrails
    Check(CheckArgs),
    /// The Kubernetes admission webhook (served by `pave serve`)
    #[command(subcommand)]
    Admission(AdmissionCommand),
    /// SLOs: generate Sloth-compatible Prometheus rules, validate specs, Grafana dashboards
    /// (`pave slo --help`)
    #[command(disable_help_flag = true)]
    Slo(SloArgs),
    /// Create a repository from a golden-path template
    New(crate::golden::NewArgs),
    /// List and show golden-path templates
    #[command(subcommand)]
    Templates(crate::golden::TemplatesCommand),
    /// Bring a repository made by `pave new` up to a newer template version (3-way merge)
    Update(crate::golden::UpdateArgs),
    /// Report which template version each repository is on and how far behind it is
    Drift(crate::golden::DriftArgs),
    /// Render a Score workload into secure-by-default Kubernetes manifests (`pave render --help`)
    #[command(disable_help_flag = true)]
    Render(crate::render::RenderArgs),
    /// API tokens for machines: create (the secret is shown once), list, revoke
    #[command(subcommand)]
    Token(crate::identity::TokenCommand),
    /// The tamper-evident audit log: verify the chain, export, checkpoint, signing key
    #[command(subcommand)]
    Audit(crate::identity::AuditCommand),
    /// Build a signed evidence pack for auditors (`pave evidence --from --to`), or check
    /// one offline (`pave evidence verify PACK`)
    Evidence(crate::identity::EvidenceArgs),
    /// The five DORA metrics for any window and slice of the organisation
    Dora(crate::delivery::DoraArgs),
    /// Delivery events: status of the intake, unattributed subjects, replay
    #[command(subcommand)]
    Events(crate::delivery::EventsCommand),
    /// Incidents: list, show, declare and resolve (for those no pager reports)
    #[command(subcommand)]
    Incident(crate::delivery::IncidentCommand),
    /// Alert quality: short-lived, actionable and noisy alerts (from Alertmanager)
    Alerts(crate::delivery::AlertsArgs),
    /// Copy the database into a new file, consistent while `pave serve` runs (SQLite;
    /// PostgreSQL is backed up with pg_dump)
    Backup(crate::database::BackupArgs),
    /// Replace the SQLite database with a backup; the one there is kept beside it. Refused
    /// while a server uses the database
    Restore(crate::database::RestoreArgs),
    /// Bring the database's schema up to this pave (`--check`: only report what is pending)
    Migrate(crate::database::MigrateArgs),
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

    /// On SIGTERM, answer /readyz 503 and go on serving this long before closing the listeners, so load balancers stop sending first (`5s` behind a Kubernetes Service)
    #[arg(long, value_name = "DURATION", default_value = "0", env = "PAVE_SHUTDOWN_DELAY", value_parser = crate::config::parse_duration)]
    pub(crate) shutdown_delay: std::time::Duration,

    #[command(flatten)]
    pub(crate) work: WorkArgs,

    /// Serve HTTPS with this PEM certificate chain (the admission webhook needs HTTPS)
    #[arg(long, value_name = "FILE", requires = "tls_key", env = "PAVE_TLS_CERT")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The PEM private key of `--tls-cert`
    #[arg(long, value_name = "FILE", requires = "tls_cert", env = "PAVE_TLS_KEY")]
    pub(crate) tls_key: Option<PathBuf>,

    /// Show live SLO budget and burn rates on entity pages from this Prometheus (`http://host:9090`)
    #[arg(long, value_name = "URL", env = "PAVE_PROMETHEUS_URL")]
    pub(crate) prometheus_url: Option<String>,

    /// Listener limits, browser protections, the admission webhook's own listener
    #[command(flatten)]
    pub(crate) edge: EdgeArgs,

    /// Where the portal's Create page pushes new repositories
    #[command(flatten)]
    pub(crate) create: CreateArgs,

    /// Serve a non-loopback --addr although pave.yaml has no `auth` section: anyone who can reach it may read and change the catalog (warned at every start)
    #[arg(long, env = "PAVE_INSECURE_NO_AUTH")]
    pub(crate) insecure_no_auth: bool,

    /// Set from the global `--log-format`.
    #[arg(skip)]
    pub(crate) json_logs: bool,
}

/// How much work requests may cause (docs/operations.md, "Bounded work per request").
#[derive(Debug, Args)]
#[command(next_help_heading = "Heavy requests")]
pub(crate) struct WorkArgs {
    /// Heavy requests (listings, queries, facets, validation, portal lists) that run at once [default: the number of cores]
    #[arg(long, value_name = "N", env = "PAVE_MAX_HEAVY_REQUESTS", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_heavy_requests: Option<u32>,

    /// Heavy requests that may wait for a slot; more are answered 503 with Retry-After
    #[arg(long, value_name = "N", default_value_t = 64, env = "PAVE_HEAVY_QUEUE")]
    pub(crate) heavy_queue: u32,

    /// How long a heavy request waits for a slot before it is answered 503 with Retry-After
    #[arg(long, value_name = "DURATION", default_value = "10s", env = "PAVE_HEAVY_WAIT", value_parser = crate::config::parse_duration)]
    pub(crate) heavy_wait: std::time::Duration,
}

/// The server's edge: listener limits, browser protections and the admission webhook's own
/// listener (docs/operations.md, "Limits and defaults"; the defaults match
/// `pave_server::Limits::default()` and `AdmissionOptions::default()`, a test checks).
#[derive(Debug, Args)]
pub(crate) struct EdgeArgs {
    /// Time for a new connection's TLS handshake and first request head, and for any later request head from its first byte
    #[arg(long, value_name = "DURATION", default_value = "10s", env = "PAVE_HEADER_TIMEOUT", value_parser = parse_timeout, help_heading = "Limits")]
    pub(crate) header_timeout: std::time::Duration,

    /// Time a kept-alive connection may wait for its next request
    #[arg(long, value_name = "DURATION", default_value = "75s", env = "PAVE_IDLE_TIMEOUT", value_parser = parse_timeout, help_heading = "Limits")]
    pub(crate) idle_timeout: std::time::Duration,

    /// Time limit of API and portal reads (503 after it; writing the answer may take as long again)
    #[arg(long, value_name = "DURATION", default_value = "10s", env = "PAVE_READ_TIMEOUT", value_parser = parse_timeout, help_heading = "Limits")]
    pub(crate) read_timeout: std::time::Duration,

    /// Time limit of requests that change the catalog or read a source (register, refresh, analyze, delete)
    #[arg(long, value_name = "DURATION", default_value = "120s", env = "PAVE_WRITE_TIMEOUT", value_parser = parse_timeout, help_heading = "Limits")]
    pub(crate) write_timeout: std::time::Duration,

    /// Time limit of GET /metrics
    #[arg(long, value_name = "DURATION", default_value = "10s", env = "PAVE_METRICS_TIMEOUT", value_parser = parse_timeout, help_heading = "Limits")]
    pub(crate) metrics_timeout: std::time::Duration,

    /// Open connections at most; at the cap an idle one is closed to make room, or the new one refused (503) when all are working
    #[arg(long, value_name = "N", default_value_t = 1024, env = "PAVE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub(crate) max_connections: u32,

    /// Open connections from one IP address at most (0: no limit; behind a proxy every client has its address)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "PAVE_MAX_CONNECTIONS_PER_CLIENT",
        help_heading = "Limits"
    )]
    pub(crate) max_connections_per_client: u32,

    /// Requests in progress from one IP address at most, 429 beyond (0: no limit)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64,
        env = "PAVE_MAX_REQUESTS_PER_CLIENT",
        help_heading = "Limits"
    )]
    pub(crate) max_requests_per_client: u32,

    /// The URL users reach pave at (`https://pave.example.com`): its host is accepted in the Host header besides localhost and IP addresses
    #[arg(
        long,
        value_name = "URL",
        env = "PAVE_PUBLIC_URL",
        help_heading = "Browser protections"
    )]
    pub(crate) public_url: Option<String>,

    /// Another host name pave answers for (e.g. its Service's DNS name); repeatable; `*` turns the Host check off
    #[arg(
        long = "allowed-host",
        value_name = "HOST",
        env = "PAVE_ALLOWED_HOSTS",
        value_delimiter = ',',
        help_heading = "Browser protections"
    )]
    pub(crate) allowed_hosts: Vec<String>,

    /// An origin whose pages may call the API from a browser (`https://app.example.com`); repeatable; none by default (CORS off)
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        env = "PAVE_CORS_ORIGINS",
        value_delimiter = ',',
        help_heading = "Browser protections"
    )]
    pub(crate) cors_origins: Vec<String>,

    /// Serve the admission webhook on this address too, with its own threads and limits (recommended; the main address keeps serving it)
    #[arg(
        long,
        value_name = "ADDR",
        env = "PAVE_ADMISSION_ADDR",
        help_heading = "Admission webhook"
    )]
    pub(crate) admission_addr: Option<std::net::SocketAddr>,

    /// The admission listener's PEM certificate chain [default: --tls-cert]
    #[arg(
        long,
        value_name = "FILE",
        requires = "admission_tls_key",
        env = "PAVE_ADMISSION_TLS_CERT",
        help_heading = "Admission webhook"
    )]
    pub(crate) admission_tls_cert: Option<PathBuf>,

    /// The private key of `--admission-tls-cert` [default: --tls-key]
    #[arg(
        long,
        value_name = "FILE",
        requires = "admission_tls_cert",
        env = "PAVE_ADMISSION_TLS_KEY",
        help_heading = "Admission webhook"
    )]
    pub(crate) admission_tls_key: Option<PathBuf>,

    /// Admit only clients with a certificate this CA (PEM) signed on the admission listener: the Kubernetes API server's client certificate (its AdmissionConfiguration kubeconfig)
    #[arg(
        long,
        value_name = "FILE",
        requires = "admission_addr",
        env = "PAVE_ADMISSION_CLIENT_CA",
        help_heading = "Admission webhook"
    )]
    pub(crate) admission_client_ca: Option<PathBuf>,

    /// Budget of one review: past it, the answer follows --admission-failure-policy at once
    #[arg(long, value_name = "DURATION", default_value = "3s", env = "PAVE_ADMISSION_TIMEOUT", value_parser = parse_timeout, help_heading = "Admission webhook")]
    pub(crate) admission_timeout: std::time::Duration,

    /// Reviews evaluated at once, per listener
    #[arg(long, value_name = "N", default_value_t = 2, env = "PAVE_ADMISSION_WORKERS", value_parser = clap::value_parser!(u32).range(1..=64), help_heading = "Admission webhook")]
    pub(crate) admission_workers: u32,

    /// Open connections on the admission listener at most
    #[arg(long, value_name = "N", default_value_t = 256, env = "PAVE_ADMISSION_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Admission webhook")]
    pub(crate) admission_max_connections: u32,
}

/// The Create page's push of new repositories to a GitOps or forge target
/// (docs/operations.md, "The Create page's push").
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Offer "Push a branch" on the Create page: the new repository is committed and pushed as the branch `pave/new-<name>` to this URL, `{name}` replaced by its name (`file:///srv/git/{name}.git`, `ssh://git@host/org/{name}.git`, `https://token@host/org/{name}.git`)
    #[arg(
        long,
        value_name = "URL",
        env = "PAVE_CREATE_PUSH_URL",
        help_heading = "Create page"
    )]
    pub(crate) create_push_url: Option<String>,

    /// The pushed commits' committer, and their author when the person asking has no e-mail address in the catalog
    #[arg(long, value_name = "NAME <EMAIL>", default_value = pave_server::DEFAULT_PUSH_IDENTITY, env = "PAVE_CREATE_PUSH_IDENTITY", help_heading = "Create page")]
    pub(crate) create_push_identity: String,

    /// Time for a whole push (every git command together); past it git is stopped
    #[arg(long, value_name = "DURATION", default_value = "60s", env = "PAVE_CREATE_PUSH_TIMEOUT", value_parser = parse_timeout, help_heading = "Create page")]
    pub(crate) create_push_timeout: std::time::Duration,
}

/// A duration above zero (a zero timeout would close every connection at once).
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let duration = crate::config::parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(duration)
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

    /// The guardrails the admission webhook applies
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,

    /// When a policy cannot be evaluated for an object (a Rego error or time-out, or no verdict
    /// within --admission-timeout), the webhook denies it with the reason (`fail`) or allows it
    /// with a warning (`ignore`)
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "fail",
        env = "PAVE_ADMISSION_FAILURE_POLICY"
    )]
    pub(crate) admission_failure_policy: pave_check::admission::FailurePolicy,
}

/// Which guardrails apply: shared by `pave check` and the admission webhook.
#[derive(Debug, Args)]
#[command(next_help_heading = "Policy")]
pub(crate) struct PolicyArgs {
    /// Built-in rules to run: `baseline` or `restricted` (Pod Security Standards), `recommended` (all)
    #[arg(long, value_parser = parse_profile)]
    pub(crate) profile: Option<pave_policy::Profile>,

    /// Findings at or above this severity fail: info, low, medium, high, critical [default: medium]
    #[arg(long, value_parser = parse_severity)]
    pub(crate) fail_on: Option<pave_policy::Severity>,

    /// Policy configuration: profile, rule switches and severities, settings [default: ./pave-policy.yaml if present]
    #[arg(long, value_name = "FILE", env = "PAVE_POLICY_CONFIG")]
    pub(crate) policy_config: Option<PathBuf>,

    /// Exceptions with owners and expiry dates [default: ./pave-exceptions.yaml if present]
    #[arg(long, value_name = "FILE", env = "PAVE_EXCEPTIONS")]
    pub(crate) exceptions: Option<PathBuf>,

    /// Custom Rego policies (conftest-compatible `deny`/`violation`/`warn` rules): files or folders
    #[arg(long = "policy", short = 'p', value_name = "PATH")]
    pub(crate) policies: Vec<PathBuf>,

    /// JSON/YAML files or folders the Rego policies read as `data.*`
    #[arg(long, short = 'd', value_name = "PATH")]
    pub(crate) data: Vec<PathBuf>,

    /// Rego packages whose rules run (globs allowed) [default: main]
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub(crate) namespace: Vec<String>,

    /// Run the rules of every Rego package
    #[arg(long)]
    pub(crate) all_namespaces: bool,

    /// Rego syntax: v1 (OPA 1.x, `deny contains msg if`) or v0 (`deny[msg] { }`)
    #[arg(long, value_name = "VERSION", default_value = "v1", value_parser = parse_rego_version)]
    pub(crate) rego_version: pave_policy_rego::RegoVersion,

    /// Time limit for all Rego rules on one document (`2s`, `500ms`)
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = crate::config::parse_duration)]
    pub(crate) rego_timeout: std::time::Duration,
}

fn parse_rego_version(s: &str) -> Result<pave_policy_rego::RegoVersion, String> {
    s.parse()
}

fn parse_profile(s: &str) -> Result<pave_policy::Profile, String> {
    pave_policy::Profile::parse(s)
        .ok_or_else(|| format!("unknown profile `{s}` (use baseline, restricted or recommended)"))
}

fn parse_severity(s: &str) -> Result<pave_policy::Severity, String> {
    pave_policy::Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}` (use info, low, medium, high or critical)"))
}

/// `--type`/`--parser`: one of pave's kinds, or one of conftest's parsers (which selects
/// conftest mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputType {
    pub(crate) kind: Option<pave_policy::DocKind>,
    pub(crate) parser: Option<pave_formats::Parser>,
}

fn parse_input_type(s: &str) -> Result<InputType, String> {
    let kind = pave_policy::DocKind::parse(s);
    let parser = pave_formats::Parser::from_name(s);
    if kind.is_none() && parser.is_none() {
        return Err(format!(
            "unknown type `{s}` (use kubernetes, terraform, dockerfile, github-actions or catalog, or a conftest parser: {})",
            pave_formats::PARSER_NAMES.join(", ")
        ));
    }
    Ok(InputType { kind, parser })
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files, folders (searched recursively) or `-` for standard input [default: .]
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<String>,

    /// Read every input as this type instead of detecting it: kubernetes, terraform, dockerfile, github-actions, catalog; or as conftest's parser of that name (toml, ini, hcl2, xml, yaml, json, …), which implies --conftest
    #[arg(long = "type", short = 't', visible_alias = "parser", value_parser = parse_input_type)]
    pub(crate) forced: Option<InputType>,

    /// Report format: human, json, sarif, junit, github [default: human, or json with `-o json`]
    #[arg(long, short = 'f')]
    pub(crate) format: Option<String>,

    /// Write the report to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub(crate) output_file: Option<PathBuf>,

    /// List the rules that would run (with `-o json` for every detail) and exit
    #[arg(long)]
    pub(crate) list_rules: bool,

    /// Human format: also show excepted findings and every rule's remediation
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,

    #[command(flatten)]
    pub(crate) policy: PolicyArgs,

    #[command(flatten)]
    pub(crate) conftest: ConftestArgs,

    #[command(flatten)]
    pub(crate) publish: crate::guardrails::PublishArgs,
}

/// `conftest test`'s behaviour and flags. Any of these flags implies `--conftest`.
#[derive(Debug, Args)]
#[command(next_help_heading = "conftest compatibility")]
pub(crate) struct ConftestArgs {
    /// Behave as `conftest test`: read files with conftest's parsers, run only the Rego policies (default ./policy, settings from ./conftest.toml), print and exit as conftest does
    #[arg(long)]
    pub(crate) conftest: bool,

    /// conftest: evaluate all files together as one input of `{path, contents}` entries
    #[arg(long)]
    pub(crate) combine: bool,

    /// conftest: exit 1 on warnings and 2 on failures
    #[arg(long)]
    pub(crate) fail_on_warn: bool,

    /// conftest: exit 0 even when policies fail
    #[arg(long)]
    pub(crate) no_fail: bool,

    /// conftest: no colour
    #[arg(long)]
    pub(crate) no_color: bool,

    /// conftest: leave exceptions out of the output
    #[arg(long)]
    pub(crate) suppress_exceptions: bool,

    /// conftest: print nothing when every test passes
    #[arg(long)]
    pub(crate) quiet: bool,

    /// conftest: a built-in function error fails the evaluation
    #[arg(long)]
    pub(crate) show_builtin_errors: bool,

    /// conftest: OPA capabilities JSON; policies may call only the built-in functions it lists
    #[arg(long, value_name = "FILE")]
    pub(crate) capabilities: Option<PathBuf>,

    /// conftest's settings file [default: ./conftest.toml if present]
    #[arg(long, value_name = "FILE")]
    pub(crate) config_file: Option<PathBuf>,
}

impl ConftestArgs {
    /// Whether conftest mode is on (asked for, or implied by a conftest-only flag).
    pub(crate) fn enabled(&self, forced: Option<InputType>) -> bool {
        self.conftest
            || self.combine
            || self.fail_on_warn
            || self.no_fail
            || self.no_color
            || self.suppress_exceptions
            || self.quiet
            || self.show_builtin_errors
            || self.config_file.is_some()
            || self.capabilities.is_some()
            || forced.is_some_and(|t| t.kind.is_none())
    }
}

/// `pave slo …`: its arguments are parsed by `crate::slo` (its `-o` is an output path, not
/// the global output format).
#[derive(Debug, Args)]
pub(crate) struct SloArgs {
    /// `generate …` or `validate …` (see `pave slo --help`)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub(crate) args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdmissionCommand {
    /// Print the ValidatingWebhookConfiguration that sends objects to `pave serve`
    Manifest(ManifestArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ManifestArgs {
    /// PEM file of the CA that signed `pave serve --tls-cert` (becomes `caBundle`)
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: PathBuf,

    /// The Service in front of `pave serve`
    #[arg(long, default_value = "pave")]
    pub(crate) service: String,

    /// The namespace of that Service (it is also kept out of the webhook's reach)
    #[arg(long, short = 'n', default_value = "pave-system")]
    pub(crate) namespace: String,

    /// The Service port
    #[arg(long, default_value_t = 443)]
    pub(crate) port: u16,

    /// Call pave at this `https://` URL instead of through a Service
    #[arg(long)]
    pub(crate) url: Option<String>,

    /// The configuration's name
    #[arg(long, default_value = "pave-guardrails")]
    pub(crate) name: String,

    /// What the API server does when pave cannot be reached: Fail or Ignore
    #[arg(long, default_value = "Fail")]
    pub(crate) failure_policy: String,

    /// Seconds the API server waits for an answer (1-30)
    #[arg(long, default_value_t = 5)]
    pub(crate) timeout: u8,
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
