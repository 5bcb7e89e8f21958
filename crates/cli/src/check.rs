//! `pave check` and `pave admission`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow};
use pave_check::{PolicyOptions, ReadOptions, build_policy, read_inputs};
use serde_json::json;

use crate::Outcome;
use crate::args::{CheckArgs, ManifestArgs, OutputFormat, PolicyArgs};

pub(crate) fn policy_options(args: &PolicyArgs) -> PolicyOptions {
    PolicyOptions {
        config_file: args.policy_config.clone(),
        exceptions_file: args.exceptions.clone(),
        profile: args.profile,
        fail_on: args.fail_on,
    }
}

/// Builds the policy from flags and files, warning about rule ids that name nothing.
pub(crate) fn assemble(args: &PolicyArgs) -> anyhow::Result<pave_policy::Policy> {
    let assembled = build_policy(&policy_options(args), Path::new("."))?;
    for id in assembled.policy.unknown_rule_ids() {
        eprintln!(
            "warning: the policy configuration names rule `{id}`, which does not exist (see `pave check --list-rules`)"
        );
    }
    Ok(assembled.policy)
}

pub(crate) fn check(args: CheckArgs, output: OutputFormat) -> anyhow::Result<Outcome> {
    let policy = assemble(&args.policy)?;
    if args.list_rules {
        return list_rules(&policy, output);
    }
    let format = match args.format.as_deref() {
        Some(f) => f.to_owned(),
        None if output == OutputFormat::Json => "json".to_owned(),
        None => "human".to_owned(),
    };
    let options = ReadOptions {
        forced: args.forced,
        ..ReadOptions::default()
    };
    let inputs = read_inputs(&args.paths, &mut std::io::stdin().lock(), &options);
    let report = policy.check(&inputs.documents, inputs.errors, pave_check::now_unix());
    let text = render(&report, &format)?;
    match &args.output_file {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(match report.exit_code() {
        0 => Outcome::Success,
        1 => Outcome::Failures,
        _ => Outcome::InputErrors,
    })
}

fn render(report: &pave_policy::Report, format: &str) -> anyhow::Result<String> {
    match format {
        "json" => Ok(serde_json::to_string_pretty(
            &json!({"summary": report.summary(), "report": report}),
        )? + "\n"),
        "human" | "text" => {
            let mut out = String::new();
            for e in &report.errors {
                out.push_str(&format!("{e}\n"));
            }
            for f in &report.findings {
                out.push_str(&format!(
                    "{}:{}:{}: {} {} {}\n",
                    f.file,
                    f.line.unwrap_or(0),
                    f.column.unwrap_or(0),
                    f.severity,
                    f.rule,
                    f.message
                ));
            }
            Ok(out)
        }
        other => Err(anyhow!(
            "unknown format `{other}` (use human, json, sarif, junit or github)"
        )),
    }
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
