//! `pave check` and `pave admission`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, anyhow};
use pave_check::setup::RegoSetup;
use pave_check::{PolicyOptions, ReadOptions, build_policy, read_inputs_each};
use pave_policy_output::{Format, RenderOptions};

use crate::Outcome;
use crate::args::{CheckArgs, ManifestArgs, OutputFormat, PolicyArgs};

pub(crate) fn policy_options(args: &PolicyArgs) -> PolicyOptions {
    PolicyOptions {
        config_file: args.policy_config.clone(),
        exceptions_file: args.exceptions.clone(),
        profile: args.profile,
        fail_on: args.fail_on,
        rego: (!args.policies.is_empty()).then(|| RegoSetup {
            policies: args.policies.clone(),
            data: args.data.clone(),
            options: pave_policy_rego::RegoOptions {
                namespaces: if args.namespace.is_empty() {
                    vec!["main".to_owned()]
                } else {
                    args.namespace.clone()
                },
                all_namespaces: args.all_namespaces,
                rego_version: args.rego_version,
                timeout: args.rego_timeout,
                ..pave_policy_rego::RegoOptions::default()
            },
        }),
    }
}

/// Builds the policy from flags and files, warning about rule ids that name nothing.
pub(crate) fn assemble(args: &PolicyArgs) -> anyhow::Result<pave_policy::Policy> {
    if args.policies.is_empty()
        && (!args.data.is_empty() || !args.namespace.is_empty() || args.all_namespaces)
    {
        return Err(anyhow!(
            "--data, --namespace and --all-namespaces apply to Rego policies: name them with --policy (or use --conftest, which reads ./policy)"
        ));
    }
    let assembled = build_policy(&policy_options(args), Path::new("."))?;
    for id in assembled.policy.unknown_rule_ids() {
        eprintln!(
            "warning: the policy configuration names rule `{id}`, which does not exist (see `pave check --list-rules`)"
        );
    }
    Ok(assembled.policy)
}

pub(crate) async fn check(args: CheckArgs, output: OutputFormat) -> anyhow::Result<Outcome> {
    if args.conftest.enabled(args.forced) {
        if args.publish.publish.is_some() {
            return Err(anyhow!(
                "--publish sends pave's own report; conftest mode prints conftest's (run without --conftest to publish)"
            ));
        }
        return crate::conftest::check(&args, output);
    }
    let working_dir = std::env::current_dir().ok();
    // Where the report goes is settled before anything is checked: a mistake costs no check.
    let publish = crate::guardrails::target(
        &args.publish,
        working_dir.as_deref().unwrap_or(Path::new(".")),
    )?;
    let policy = assemble(&args.policy)?;
    if args.list_rules {
        return list_rules(&policy, output);
    }
    let format = match args.format.as_deref() {
        Some(f) => Format::parse(f)
            .ok_or_else(|| anyhow!("unknown format `{f}` (use {})", Format::NAMES.join(", ")))?,
        None if output == OutputFormat::Json => Format::Json,
        None => Format::Human,
    };
    let options = ReadOptions {
        forced: args.forced.and_then(|t| t.kind),
        ..ReadOptions::default()
    };
    // Documents are checked as they are read, and kept only as far as rules that relate
    // documents need them: one 50 MB file does not sit in memory parsed.
    let mut checking = policy.streaming(pave_check::now_unix());
    read_inputs_each(
        &args.paths,
        &mut std::io::stdin().lock(),
        &options,
        &mut |read| match read {
            Ok(docs) => checking.add(docs),
            Err(e) => checking.error(e),
        },
    );
    let report = checking.finish();
    warn_if_nothing_checked(&args.paths, &report);
    let mut render_options = RenderOptions::default();
    render_options.color = args.output_file.is_none()
        && crate::output::use_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR"),
        );
    render_options.verbose = args.verbose;
    render_options.tool_version = env!("CARGO_PKG_VERSION").to_owned();
    render_options.repo_root = working_dir.as_deref().and_then(repo_root);
    render_options.working_dir = working_dir;
    match &args.output_file {
        Some(path) => {
            let write = || -> std::io::Result<()> {
                let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
                pave_policy_output::write(&report, format, &render_options, &mut out)?;
                out.flush()
            };
            write().with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{}", pave_policy_output::summary_line(&report));
        }
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            pave_policy_output::write(&report, format, &render_options, &mut out)?;
            out.flush()?;
        }
    }
    let code = report.exit_code();
    let published = publish
        .as_ref()
        .map(|_| pave_policy_output::StoredReport::from_report(&report, &render_options));
    // The process ends here: freeing every finding one by one (100,000 findings: tens of
    // milliseconds) would only delay the exit.
    std::mem::forget(report);
    if let (Some(target), Some(stored)) = (&publish, &published) {
        // After the report is out: a failed publication is its own error (exit 2), the
        // report and its findings stand.
        crate::guardrails::publish(target, stored)
            .await
            .with_context(|| {
                format!(
                    "the report was checked but not published for {}",
                    target.entity
                )
            })?;
    }
    Ok(match code {
        0 => Outcome::Success,
        1 => Outcome::Failures,
        _ => Outcome::InputErrors,
    })
}

/// An empty file or an empty stdin (`helm template` that rendered nothing) passes, as there
/// is nothing to fail on, but never silently.
fn warn_if_nothing_checked(paths: &[String], report: &pave_policy::Report) {
    if !report.checked.is_empty() || !report.errors.is_empty() {
        return;
    }
    let what = if paths.iter().any(|p| p == "-") {
        "standard input held no document"
    } else {
        "no Kubernetes object, Terraform plan, Dockerfile, workflow or catalog entity found (empty files?)"
    };
    eprintln!("pave: warning: nothing was checked: {what}");
}

/// The enclosing git work tree (SARIF URIs are relative to it).
fn repo_root(dir: &Path) -> Option<std::path::PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn list_rules(policy: &pave_policy::Policy, output: OutputFormat) -> anyhow::Result<Outcome> {
    let report = policy.check(&[], Vec::new(), 0);
    let rules = serde_json::to_value(&report.rules)?;
    crate::output::print_data(
        output,
        &rules,
        &[
            ("ID", "id"),
            ("SEVERITY", "severity"),
            ("INPUT", "input"),
            ("TITLE", "title"),
        ],
    )?;
    Ok(Outcome::Success)
}

pub(crate) fn admission_manifest(args: &ManifestArgs) -> anyhow::Result<Outcome> {
    let ca_pem = std::fs::read_to_string(&args.ca_file)
        .with_context(|| format!("cannot read {}", args.ca_file.display()))?;
    let yaml = pave_check::admission::manifest(&pave_check::admission::ManifestOptions {
        name: args.name.clone(),
        service: args.service.clone(),
        namespace: args.namespace.clone(),
        port: args.port,
        url: args.url.clone(),
        ca_pem,
        failure_policy: args.failure_policy.clone(),
        timeout_seconds: args.timeout,
    })
    .map_err(|e| anyhow!("{}: {e}", args.ca_file.display()))?;
    std::io::stdout().lock().write_all(yaml.as_bytes())?;
    Ok(Outcome::Success)
}
