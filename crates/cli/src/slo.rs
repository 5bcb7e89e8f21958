//! `pave slo generate|validate|dashboard`: Sloth-compatible rule generation and Grafana
//! dashboards. The file work (walking folders, reading specs and window catalogs, writing
//! outputs) is here; everything else is `pave-slo`.
//!
//! The flags follow Sloth's names and short forms (`-i`, `-o`, `-l`, `-e`, `-n`) so existing
//! scripts work. Because pave's global `-o/--output` means "output format", `pave slo` parses
//! its own arguments: everything after `pave slo` is handed to [`SloCli`].

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use pave_slo::{
    DashboardOptions, Diagnostic, Duration, Error, GenerateOptions, LoadOptions, SloSet,
    WindowsCatalog, dashboard_uid, dashboards, generate, render_file,
};
use regex::Regex;

use crate::Outcome;

/// Service level objectives: generate Sloth-compatible Prometheus rules from SLO specs
/// (Sloth `prometheus/v1`, the `PrometheusServiceLevel` CRD, OpenSLO `v1alpha` and `v1`).
#[derive(Debug, Parser)]
#[command(name = "pave slo", version, max_term_width = 100)]
struct SloCli {
    #[command(subcommand)]
    command: SloCommand,
}

#[derive(Debug, Subcommand)]
enum SloCommand {
    /// Generate Prometheus rules (or PrometheusRule objects for CRD inputs) from SLO specs
    Generate(GenerateArgs),
    /// Check SLO specs (and that rules can be generated) without writing anything; exit 2 on problems
    Validate(ValidateArgs),
    /// Grafana dashboards (JSON, one per service) for the rules `generate` writes
    Dashboard(DashboardArgs),
    /// Live status from Prometheus: SLI and error budget over the period, burn rate, time to exhaustion, alerts
    Status(StatusCli),
    /// Deploy gate: exit 1 when the error-budget policy says freeze, 0 otherwise
    Gate(GateCli),
}

/// The SLO specs `status` and `gate` read (the same files `generate` reads).
#[derive(Debug, Args)]
struct SpecArgs {
    /// SLO spec files or folders (Sloth, Sloth CRD, OpenSLO)
    #[arg(value_name = "SPEC", required = true)]
    specs: Vec<PathBuf>,

    /// The SLO period of specs that do not say (as for `generate`)
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_period)]
    default_slo_period: Duration,

    /// Sloth AlertWindows catalogs for periods other than 30d and 28d
    #[arg(long, alias = "slo-period-windows-path", value_name = "PATH")]
    slo_period_windows: Option<PathBuf>,

    /// Output format (default: the global `--output`, a table)
    #[arg(long = "output", short = 'o', value_enum, value_name = "FORMAT")]
    output: Option<crate::args::OutputFormat>,
}

#[derive(Debug, Args)]
struct StatusCli {
    #[command(flatten)]
    specs: SpecArgs,
    #[command(flatten)]
    live: crate::slo_live::StatusArgs,
}

#[derive(Debug, Args)]
struct GateCli {
    #[command(flatten)]
    specs: SpecArgs,
    #[command(flatten)]
    live: crate::slo_live::GateArgs,
}

#[derive(Debug, Args)]
struct InputArgs {
    /// SLO spec file, or folder searched recursively for `.yml`/`.yaml` files
    #[arg(long, short = 'i', value_name = "PATH")]
    input: PathBuf,

    /// With a folder input: skip files whose path matches this regex (wins over --fs-include)
    #[arg(long, short = 'e', value_name = "REGEX")]
    fs_exclude: Option<String>,

    /// With a folder input: read only files whose path matches this regex
    #[arg(long, short = 'n', value_name = "REGEX")]
    fs_include: Option<String>,

    /// Labels added to every recording rule (`key=value`, repeatable); they win over spec labels
    #[arg(long = "extra-labels", short = 'l', value_name = "KEY=VALUE", value_parser = parse_label)]
    extra_labels: Vec<(String, String)>,

    /// The SLO period of specs that do not set one (all but OpenSLO): needs alert windows for
    /// it (built in: 30d, 28d)
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_period)]
    default_slo_period: Duration,

    /// AlertWindows catalog file or folder (`apiVersion: sloth.slok.dev/v1`, `kind: AlertWindows`);
    /// replaces the built-in 30d/28d catalogs, as in Sloth
    #[arg(long, alias = "slo-period-windows-path", value_name = "PATH")]
    slo_period_windows: Option<PathBuf>,

    /// The `sloth_version` label and header version [default: pave-<version>]
    #[arg(long, value_name = "VERSION")]
    sloth_version: Option<String>,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Output file, or folder for a folder input (relative paths are mirrored); `-` for
    /// standard output
    #[arg(
        long = "out",
        short = 'o',
        alias = "output",
        value_name = "PATH",
        default_value = "-"
    )]
    out: String,

    /// Do not generate alert rules
    #[arg(long)]
    disable_alerts: bool,

    /// Do not generate recording rules (SLI and metadata)
    #[arg(long)]
    disable_recordings: bool,

    /// Record the period's error ratio from the SLI queries instead of averaging the 5m
    /// recording (exact, but heavier on Prometheus)
    #[arg(long)]
    disable_optimized_rules: bool,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Do not report SLOs defined more than once across the inputs
    #[arg(long)]
    ignore_slo_duplicates: bool,
}

#[derive(Debug, Args)]
struct DashboardArgs {
    /// SLO spec file, or folder searched recursively for `.yml`/`.yaml` files
    #[arg(long, short = 'i', value_name = "PATH")]
    input: PathBuf,

    /// Where to write: `-` (standard output), a file, or a folder (an existing folder or a path
    /// ending in `/`) that gets `<service>.json` per service. Standard output and files get
    /// the dashboard itself when there is one service, a JSON array of dashboards otherwise.
    #[arg(
        long = "out",
        short = 'o',
        alias = "output",
        value_name = "PATH",
        default_value = "-"
    )]
    out: String,

    /// With a folder input: skip files whose path matches this regex (wins over --fs-include)
    #[arg(long, short = 'e', value_name = "REGEX")]
    fs_exclude: Option<String>,

    /// With a folder input: read only files whose path matches this regex
    #[arg(long, short = 'n', value_name = "REGEX")]
    fs_include: Option<String>,

    /// The SLO period of specs that do not set one (as for `generate`)
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_period)]
    default_slo_period: Duration,

    /// AlertWindows catalog file or folder (as for `generate`): the burn-rate windows and
    /// alert thresholds shown
    #[arg(long, alias = "slo-period-windows-path", value_name = "PATH")]
    slo_period_windows: Option<PathBuf>,

    /// Dashboard auto-refresh interval (empty: off)
    #[arg(long, value_name = "INTERVAL", default_value = "1m")]
    refresh: String,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not `key=value`"))?;
    if k.is_empty() || k == "__name__" {
        return Err(format!("invalid label name `{k}`"));
    }
    if v.is_empty() {
        return Err(format!("label `{k}` needs a value"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_period(s: &str) -> Result<Duration, String> {
    match Duration::parse(s) {
        Ok(d) if d.as_millis() > 0 => Ok(d),
        Ok(_) => Err("the SLO period must be longer than 0".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `pave slo <args>` (the arguments after `slo`); `format` is the global `--output`.
pub(crate) async fn run(
    args: Vec<OsString>,
    format: crate::args::OutputFormat,
) -> anyhow::Result<Outcome> {
    let cli =
        match SloCli::try_parse_from(std::iter::once(OsString::from("pave slo")).chain(args)) {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return Ok(match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => Outcome::Success,
                    _ => Outcome::InputErrors,
                });
            }
        };
    match cli.command {
        SloCommand::Generate(args) => run_generate(&args),
        SloCommand::Validate(args) => run_validate(&args),
        SloCommand::Dashboard(args) => run_dashboard(&args),
        SloCommand::Status(args) => {
            let Some(targets) = targets(&args.specs)? else {
                return Ok(Outcome::InputErrors);
            };
            let format = args.specs.output.unwrap_or(format);
            crate::slo_live::run_status(&args.live, targets, format).await
        }
        SloCommand::Gate(args) => {
            let Some(targets) = targets(&args.specs)? else {
                return Ok(Outcome::InputErrors);
            };
            let format = args.specs.output.unwrap_or(format);
            crate::slo_live::run_gate(&args.live, targets, format).await
        }
    }
}

/// The SLOs of the specs as Prometheus lookups (ids, objectives, windows and burn-rate
/// factors exactly as `generate` writes them); `None` after printing the specs' problems.
fn targets(args: &SpecArgs) -> anyhow::Result<Option<Vec<pave_slo_status::SloTarget>>> {
    let mut files = Vec::new();
    let mut catalog = None;
    for spec in &args.specs {
        let input = InputArgs {
            input: spec.clone(),
            fs_exclude: None,
            fs_include: None,
            extra_labels: Vec::new(),
            default_slo_period: args.default_slo_period,
            slo_period_windows: args.slo_period_windows.clone(),
            sloth_version: None,
        };
        if catalog.is_none() {
            catalog = Some(self::catalog(&input)?);
        }
        files.extend(discover(&input)?.1);
    }
    let catalog = catalog.unwrap_or_else(WindowsCatalog::builtin);
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let inputs: Vec<(&str, &str)> = names
        .iter()
        .zip(&files)
        .map(|(n, f)| (n.as_str(), f.text.as_str()))
        .collect();
    let (set, mut problems) = SloSet::load(
        &inputs,
        &LoadOptions {
            default_period: args.default_slo_period,
        },
    );
    problems.extend(set.duplicates());
    let mut targets = Vec::new();
    for slo in set.slos() {
        let windows = match catalog.require(slo.period) {
            Ok(windows) => windows,
            Err(e) => {
                problems.push(Diagnostic::new(
                    &slo.source.file,
                    Some(slo.source.position),
                    e.to_string(),
                ));
                continue;
            }
        };
        targets.push(pave_slo_status::SloTarget::from_slo(slo, windows));
    }
    if !problems.is_empty() {
        print_problems(&problems);
        return Ok(None);
    }
    if targets.is_empty() {
        bail!("no SLOs in {}", names.join(", "));
    }
    Ok(Some(targets))
}

/// An input file: its path, the name used in messages and outputs (relative to a folder
/// input), and its text.
struct InputFile {
    path: PathBuf,
    relative: PathBuf,
    text: String,
}

fn discover(input: &InputArgs) -> anyhow::Result<(bool, Vec<InputFile>)> {
    let meta = std::fs::metadata(&input.input)
        .with_context(|| format!("cannot read {}", input.input.display()))?;
    if !meta.is_dir() {
        let text = std::fs::read_to_string(&input.input)
            .with_context(|| format!("cannot read {}", input.input.display()))?;
        let relative = PathBuf::from(input.input.file_name().unwrap_or_default());
        return Ok((
            false,
            vec![InputFile {
                path: input.input.clone(),
                relative,
                text,
            }],
        ));
    }
    let regex = |r: &Option<String>, flag: &str| -> anyhow::Result<Option<Regex>> {
        r.as_deref()
            .map(|r| Regex::new(r).map_err(|e| anyhow!("invalid {flag} regex: {e}")))
            .transpose()
    };
    let exclude = regex(&input.fs_exclude, "--fs-exclude")?;
    let include = regex(&input.fs_include, "--fs-include")?;
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&input.input).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", input.input.display()))?;
        let path = entry.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
        if !entry.file_type().is_file() || !is_yaml {
            continue;
        }
        let shown = path.to_string_lossy();
        if exclude.as_ref().is_some_and(|r| r.is_match(&shown))
            || include.as_ref().is_some_and(|r| !r.is_match(&shown))
        {
            continue;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let relative = path
            .strip_prefix(&input.input)
            .unwrap_or(path)
            .to_path_buf();
        files.push(InputFile {
            path: path.to_path_buf(),
            relative,
            text,
        });
    }
    if files.is_empty() {
        bail!(
            "no SLO spec files (.yml, .yaml) found in {}",
            input.input.display()
        );
    }
    Ok((true, files))
}

fn catalog(input: &InputArgs) -> anyhow::Result<WindowsCatalog> {
    let Some(path) = &input.slo_period_windows else {
        return Ok(WindowsCatalog::builtin());
    };
    let mut catalog = WindowsCatalog::empty();
    let files: Vec<PathBuf> = if path.is_dir() {
        walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e == "yml" || e == "yaml")
            })
            .collect()
    } else {
        vec![path.clone()]
    };
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        catalog
            .add_file(&file.display().to_string(), &text)
            .map_err(|d| anyhow!("{d}"))?;
    }
    if catalog.is_empty() {
        bail!("no AlertWindows catalogs found in {}", path.display());
    }
    Ok(catalog)
}

/// Everything both commands share: read inputs and catalogs, load, check the default period.
struct Loaded {
    folder: bool,
    files: Vec<InputFile>,
    set: SloSet,
    problems: Vec<Diagnostic>,
    catalog: WindowsCatalog,
    options: GenerateOptions,
}

fn load(input: &InputArgs) -> anyhow::Result<Loaded> {
    let catalog = catalog(input)?;
    // Sloth refuses a default period without windows up front, whatever the specs say.
    catalog
        .require(input.default_slo_period)
        .map_err(|e| anyhow!("--default-slo-period: {e}"))?;
    let (folder, files) = discover(input)?;
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let inputs: Vec<(&str, &str)> = names
        .iter()
        .zip(&files)
        .map(|(n, f)| (n.as_str(), f.text.as_str()))
        .collect();
    let (set, problems) = SloSet::load(
        &inputs,
        &LoadOptions {
            default_period: input.default_slo_period,
        },
    );
    let options = GenerateOptions {
        extra_labels: input
            .extra_labels
            .iter()
            .cloned()
            .collect::<BTreeMap<_, _>>(),
        version: input
            .sloth_version
            .clone()
            .unwrap_or_else(|| format!("pave-{}", env!("CARGO_PKG_VERSION"))),
        ..GenerateOptions::default()
    };
    Ok(Loaded {
        folder,
        files,
        set,
        problems,
        catalog,
        options,
    })
}

fn print_problems(problems: &[Diagnostic]) {
    let color = crate::output::color_stderr();
    let mut err = std::io::stderr().lock();
    for p in problems {
        if color {
            let _ = writeln!(err, "\x1b[31m{p}\x1b[0m");
        } else {
            let _ = writeln!(err, "{p}");
        }
    }
}

fn generation_problems(e: Error) -> Vec<Diagnostic> {
    match e {
        Error::Invalid(problems) => problems,
        other => vec![Diagnostic::new("pave slo", None, other.to_string())],
    }
}

fn run_validate(args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let mut loaded = load(&args.input)?;
    if !args.ignore_slo_duplicates {
        loaded.problems.extend(loaded.set.duplicates());
    }
    if let Err(e) = generate(&loaded.set, &loaded.catalog, &loaded.options) {
        loaded.problems.extend(generation_problems(e));
    }
    print_problems(&loaded.problems);
    let slos = loaded.set.slos().count();
    eprintln!(
        "{} files, {slos} SLOs valid, {} problems",
        loaded.files.len(),
        loaded.problems.len()
    );
    Ok(if loaded.problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::InputErrors
    })
}

/// Renders and writes `jobs` under `out`, mirroring input paths; returns how many files.
fn write_outputs(
    jobs: &[(&pave_slo::GeneratedFile, &InputFile)],
    out: &Path,
    version: &str,
) -> anyhow::Result<usize> {
    let mut written = 0;
    for (file, input) in jobs {
        let text = render_file(file, version);
        if text.is_empty() {
            continue; // only OpenSLO SLI or other non-SLO documents
        }
        let target = out.join(&input.relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write {}", target.display()))?;
        written += 1;
    }
    Ok(written)
}

fn run_generate(args: &GenerateArgs) -> anyhow::Result<Outcome> {
    let mut loaded = load(&args.input)?;
    loaded.options.disable_alerts = args.disable_alerts;
    loaded.options.disable_recordings = args.disable_recordings;
    loaded.options.disable_optimized = args.disable_optimized_rules;
    if !loaded.problems.is_empty() {
        print_problems(&loaded.problems);
        return Ok(Outcome::InputErrors);
    }
    let generated = match generate(&loaded.set, &loaded.catalog, &loaded.options) {
        Ok(g) => g,
        Err(e) => {
            print_problems(&generation_problems(e));
            return Ok(Outcome::InputErrors);
        }
    };
    let version = &loaded.options.version;
    if args.out == "-" {
        let mut out = std::io::stdout().lock();
        for file in &generated {
            out.write_all(render_file(file, version).as_bytes())?;
        }
        out.flush()?;
        return Ok(Outcome::Success);
    }
    let out = Path::new(&args.out);
    if !loaded.folder {
        let text: String = generated.iter().map(|f| render_file(f, version)).collect();
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
        return Ok(Outcome::Success);
    }
    // Folder in, folder out: mirror relative paths.
    if let (Ok(a), Ok(b)) = (
        std::fs::canonicalize(&args.input.input),
        std::fs::canonicalize(out),
    ) && a == b
    {
        bail!("input and output can't be the same folder: {}", a.display());
    }
    if out.exists() && !out.is_dir() {
        bail!(
            "{} is not a folder, but the input is a folder",
            out.display()
        );
    }
    // Render and write on every core: files are independent.
    let jobs: Vec<(&pave_slo::GeneratedFile, &InputFile)> =
        generated.iter().zip(&loaded.files).collect();
    let threads = pave_stdx::available_threads();
    let chunk = jobs.len().div_ceil(threads).max(1);
    let parts: Vec<&[(&pave_slo::GeneratedFile, &InputFile)]> = jobs.chunks(chunk).collect();
    let results = pave_stdx::par_map(parts, threads, |part| write_outputs(part, out, version));
    let mut written = 0;
    for r in results {
        written += r?;
    }
    eprintln!("wrote {written} rule files to {}", out.display());
    Ok(Outcome::Success)
}

/// The file name of a service's dashboard: `<service>.json` when the name is a plain file
/// name, else `<uid>.json` (the uid is sanitised and unique).
fn dashboard_file_name(service: &str) -> String {
    let plain = service
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && service
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if plain {
        format!("{service}.json")
    } else {
        format!("{}.json", dashboard_uid(service))
    }
}

fn run_dashboard(args: &DashboardArgs) -> anyhow::Result<Outcome> {
    let input = InputArgs {
        input: args.input.clone(),
        fs_exclude: args.fs_exclude.clone(),
        fs_include: args.fs_include.clone(),
        extra_labels: Vec::new(),
        default_slo_period: args.default_slo_period,
        slo_period_windows: args.slo_period_windows.clone(),
        sloth_version: None,
    };
    let mut loaded = load(&input)?;
    // Two SLOs with one id would share series: the dashboard could not tell them apart.
    loaded.problems.extend(loaded.set.duplicates());
    if !loaded.problems.is_empty() {
        print_problems(&loaded.problems);
        return Ok(Outcome::InputErrors);
    }
    let options = DashboardOptions {
        refresh: args.refresh.clone(),
    };
    let boards = match dashboards(&loaded.set, &loaded.catalog, &options) {
        Ok(b) => b,
        Err(e) => {
            print_problems(&generation_problems(e));
            return Ok(Outcome::InputErrors);
        }
    };
    if boards.is_empty() {
        print_problems(&[Diagnostic::new(
            &args.input.display().to_string(),
            None,
            "no SLOs: nothing to put on a dashboard",
        )]);
        return Ok(Outcome::InputErrors);
    }
    let pretty = |v: &serde_json::Value| -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(v)? + "\n")
    };
    let out = Path::new(&args.out);
    let folder = args.out != "-"
        && (out.is_dir()
            || args.out.ends_with('/')
            || args.out.ends_with(std::path::MAIN_SEPARATOR));
    if folder {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let mut names = std::collections::BTreeSet::new();
        for board in &boards {
            let mut name = dashboard_file_name(&board.service);
            if !names.insert(name.to_ascii_lowercase()) {
                // Case-insensitive file systems: fall back to the (hashed) uid.
                name = format!("{}.json", dashboard_uid(&board.service));
                names.insert(name.to_ascii_lowercase());
            }
            let target = out.join(name);
            std::fs::write(&target, pretty(&board.dashboard)?)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        eprintln!("wrote {} dashboards to {}", boards.len(), out.display());
        return Ok(Outcome::Success);
    }
    let text = match boards.as_slice() {
        [one] => pretty(&one.dashboard)?,
        many => pretty(&serde_json::Value::Array(
            many.iter().map(|b| b.dashboard.clone()).collect(),
        ))?,
    };
    if args.out == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
    } else {
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {} dashboards to {}", boards.len(), out.display());
    }
    Ok(Outcome::Success)
}
