//! `pave check --conftest`: conftest's `test` command on pave's Rego engine.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use pave_check::conftest::{
    self, ConftestConfig, ConftestRead, DEFAULT_POLICY_DIR, read_configurations,
};
use pave_policy_rego::{RegoOptions, RegoPolicies, RegoVersion};

use crate::Outcome;
use crate::args::{CheckArgs, OutputFormat};

pub(crate) fn check(args: &CheckArgs, output: OutputFormat) -> anyhow::Result<Outcome> {
    let flags = &args.conftest;
    let config = match &flags.config_file {
        Some(file) => ConftestConfig::read(file)?,
        None => ConftestConfig::find(Path::new("."))?.unwrap_or_default(),
    };
    // Flags win over conftest.toml, which wins over conftest's defaults.
    let policies: Vec<PathBuf> = if !args.policy.policies.is_empty() {
        args.policy.policies.clone()
    } else if !config.policy.is_empty() {
        config.policy.clone()
    } else {
        vec![PathBuf::from(DEFAULT_POLICY_DIR)]
    };
    let data = if args.policy.data.is_empty() {
        config.data.clone()
    } else {
        args.policy.data.clone()
    };
    let namespaces = if !args.policy.namespace.is_empty() {
        args.policy.namespace.clone()
    } else if !config.namespace.is_empty() {
        config.namespace.clone()
    } else {
        vec!["main".to_owned()]
    };
    let parser = match (args.forced, &config.parser) {
        (Some(t), _) => Some(t.parser.context("this --type is not a conftest parser")?),
        (None, Some(name)) => Some(pave_formats::Parser::from_name(name).with_context(|| {
            format!(
                "conftest.toml: unknown parser `{name}` (use {})",
                pave_formats::PARSER_NAMES.join(", ")
            )
        })?),
        (None, None) => None,
    };
    let rego_version = match (&config.rego_version, args.policy.rego_version) {
        (Some(v), RegoVersion::V1) => v
            .parse()
            .map_err(|e: String| anyhow::anyhow!("conftest.toml: {e}"))?,
        (_, v) => v,
    };
    let fail_on_warn = flags.fail_on_warn || config.fail_on_warn == Some(true);
    let no_fail = flags.no_fail || config.no_fail == Some(true);
    let combine = flags.combine || config.combine == Some(true);
    let suppress = flags.suppress_exceptions || config.suppress_exceptions == Some(true);
    let json = output == OutputFormat::Json
        || config.output.as_deref() == Some("json")
        || args.format.as_deref() == Some("json");

    let allowed_builtins = match &flags.capabilities {
        Some(file) => Some(capabilities(file)?),
        None => None,
    };
    let options = RegoOptions {
        allowed_builtins,
        namespaces,
        all_namespaces: args.policy.all_namespaces || config.all_namespaces == Some(true),
        rego_version,
        timeout: args.policy.rego_timeout,
        strict_builtin_errors: flags.show_builtin_errors,
    };
    let rego = match RegoPolicies::load(&policies, &data, options) {
        Ok(r) => r,
        Err(e) => {
            // conftest exits 1 when policies do not load.
            eprintln!("Error: {e}");
            return Ok(Outcome::Failures);
        }
    };
    let read = ConftestRead {
        parser,
        ..ConftestRead::default()
    };
    let (configurations, errors) =
        read_configurations(&args.paths, &mut std::io::stdin().lock(), &read);
    let mut report = conftest::run(&rego, &configurations, combine);
    report
        .errors
        .splice(0..0, errors.iter().map(ToString::to_string));
    let code = report.exit_code(fail_on_warn, no_fail);
    let color = !flags.no_color
        && crate::output::use_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR"),
        );
    for e in &report.errors {
        eprintln!("{e}");
    }
    if !flags.quiet || code != 0 {
        let text = if json {
            conftest::render_json(&report)
        } else {
            conftest::render_standard(&report, color, suppress)
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(match code {
        0 => Outcome::Success,
        1 => Outcome::Failures,
        _ => Outcome::InputErrors,
    })
}

/// The built-in function names an OPA capabilities file allows (`builtins[].name`).
fn capabilities(file: &Path) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value = pave_formats::Parser::Json
        .parse(&text)
        .map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
    let builtins = value
        .get("builtins")
        .and_then(serde_json::Value::as_array)
        .with_context(|| {
            format!(
                "{}: no `builtins` list (an OPA capabilities file has one)",
                file.display()
            )
        })?;
    Ok(builtins
        .iter()
        .filter_map(|b| b.get("name").and_then(serde_json::Value::as_str))
        .map(str::to_owned)
        .collect())
}
