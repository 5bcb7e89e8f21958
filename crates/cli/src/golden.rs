//! Golden paths: `pave new`, `pave templates list|show`, `pave update`, `pave drift`. The
//! engine is `pave-template`; this module reads arguments, prompts, prints and picks exit
//! codes (0 ok; 1 conflicts or repos behind; 2 usage or input errors).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use pave_template::params::{self, Answers, ParamInfo};
use pave_template::{Action, Source, Sources, Want};
use serde_json::{Value, json};

use crate::Outcome;
use crate::args::OutputFormat;
use crate::output::print_data;

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The template: a built-in name (`api-service`, `builtin:api-service`), a folder with
    /// template.yaml, or a git repository (URL or local path), each with an optional `@REF`
    pub(crate) template: String,

    /// Where to create the repository (must be missing or empty unless --force)
    pub(crate) dest: PathBuf,

    /// A parameter value, converted by the parameter's type (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub(crate) set: Vec<String>,

    /// A YAML or JSON file of parameter values (`--set` wins)
    #[arg(long, value_name = "FILE")]
    pub(crate) values: Option<PathBuf>,

    /// The template version, tag, branch or commit (same as `TEMPLATE@REF`)
    #[arg(long = "ref", value_name = "REF")]
    pub(crate) reference: Option<String>,

    /// Write into a non-empty destination (files the template makes are overwritten)
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplatesCommand {
    /// List the built-in templates
    List,
    /// Show a template: description, versions and parameters
    Show {
        /// A built-in name, folder or git source (as for `pave new`)
        template: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The repository made by `pave new` [default: .]
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,

    /// Update to this version, tag or ref [default: the latest release]
    #[arg(long, value_name = "VERSION")]
    pub(crate) to: Option<String>,

    /// Print the changes as a unified diff and write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// Repositories, or folders searched for repositories (`.pave/answers.yaml`)
    #[arg(required = true)]
    pub(crate) dirs: Vec<PathBuf>,
}

/// Where git template sources are cloned: `$PAVE_CACHE_DIR/templates` or the platform cache.
fn sources() -> Sources {
    let base = std::env::var_os("PAVE_CACHE_DIR").map_or_else(
        || {
            dirs::cache_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("pave")
        },
        PathBuf::from,
    );
    Sources::new(base.join("templates"))
}

pub(crate) fn new(args: NewArgs, format: OutputFormat) -> anyhow::Result<Outcome> {
    let parsed = pave_template::parse_source(&args.template)?;
    if let Some(note) = &parsed.note {
        eprintln!("note: {note}");
    }
    let reference = args.reference.clone().or(parsed.reference);
    let sources = sources();
    let want = reference.map_or(Want::Latest, Want::Ref);
    let loaded = sources.load(&parsed.source, &want)?;
    let manifest = &loaded.template.manifest;

    let mut answers = Answers::new();
    if let Some(file) = &args.values {
        let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
        match params::parse_yaml_value(&text) {
            Ok(Value::Object(map)) => answers.extend(map),
            Ok(Value::Null) => {}
            Ok(_) => bail!(
                "{}: expected a mapping of parameter names to values",
                file.display()
            ),
            Err(e) => bail!("{}: {e}", file.display()),
        }
    }
    for set in &args.set {
        let (name, value) = params::coerce_set(manifest, set)?;
        answers.insert(name, value);
    }
    params::apply_defaults(&manifest.parameters, &mut answers);
    let missing = params::missing(manifest, &answers);
    if !missing.is_empty() && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        prompt(manifest, &missing, &mut answers)?;
    }
    // Validates (and lists every missing or invalid parameter) before anything is written.
    let files = pave_template::ops::generate(&loaded, answers)?;
    pave_template::write::write_new(&args.dest, &files, args.force)?;

    let version = manifest.version.to_string();
    if crate::wants_json(format) {
        let value = json!({
            "template": manifest.name,
            "version": version,
            "source": loaded.source.record(),
            "commit": loaded.commit,
            "destination": args.dest.display().to_string(),
            "files": files.keys().collect::<Vec<_>>(),
        });
        print_data(format, &value, &[])?;
    } else {
        println!(
            "Created {} from {} {} ({} files)",
            args.dest.display(),
            manifest.name,
            version,
            files.len()
        );
    }
    Ok(Outcome::Success)
}

/// Asks for each missing parameter on the terminal (description, type, choices shown).
fn prompt(
    manifest: &pave_template::Manifest,
    missing: &[ParamInfo],
    answers: &mut Answers,
) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut err = std::io::stderr();
    for p in missing {
        for attempt in 0..3 {
            let mut label = p.name.clone();
            if let Some(d) = &p.description {
                label.push_str(&format!(" — {d}"));
            }
            if !p.choices.is_empty() {
                let c: Vec<String> = p.choices.iter().map(params::display_value).collect();
                label.push_str(&format!(" [{}]", c.join("|")));
            }
            write!(err, "{label}: ")?;
            err.flush()?;
            let Some(line) = lines.next() else {
                bail!("standard input closed while asking for `{}`", p.name);
            };
            let line = line?;
            let line = line.trim();
            if line.is_empty() {
                if attempt == 2 {
                    bail!("no value for `{}`", p.name);
                }
                continue;
            }
            match params::coerce_set(manifest, &format!("{}={line}", p.name)) {
                Ok((name, value)) => {
                    answers.insert(name, value);
                    break;
                }
                Err(e) if attempt < 2 => writeln!(err, "{e}")?,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

pub(crate) fn templates(
    command: TemplatesCommand,
    format: OutputFormat,
) -> anyhow::Result<Outcome> {
    let sources = sources();
    match command {
        TemplatesCommand::List => {
            let mut rows = Vec::new();
            for (name, versions) in pave_template::builtin::catalog() {
                let loaded = sources.load(&Source::Builtin(name.clone()), &Want::Latest)?;
                let m = &loaded.template.manifest;
                rows.push(json!({
                    "name": name,
                    "version": m.version.to_string(),
                    "type": m.kind,
                    "title": m.title,
                    "description": m.description,
                    "tags": m.tags,
                    "versions": versions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }));
            }
            if rows.is_empty() && !crate::wants_json(format) {
                eprintln!("no built-in templates");
                return Ok(Outcome::Success);
            }
            print_data(
                format,
                &Value::Array(rows),
                &[
                    ("NAME", "name"),
                    ("VERSION", "version"),
                    ("TYPE", "type"),
                    ("TITLE", "title"),
                ],
            )?;
        }
        TemplatesCommand::Show { template } => {
            let parsed = pave_template::parse_source(&template)?;
            if let Some(note) = &parsed.note {
                eprintln!("note: {note}");
            }
            let want = parsed.reference.map_or(Want::Latest, Want::Ref);
            let loaded = sources.load(&parsed.source, &want)?;
            let versions = sources.versions(&parsed.source).unwrap_or_default();
            let m = &loaded.template.manifest;
            let parameters: Vec<Value> = params::parameters(m)
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "type": p.kind,
                        "required": p.required,
                        "default": p.default,
                        "enum": if p.choices.is_empty() { Value::Null } else { Value::Array(p.choices.clone()) },
                        "description": p.description,
                    })
                })
                .collect();
            let value = json!({
                "name": m.name,
                "title": m.title,
                "description": m.description,
                "type": m.kind,
                "tags": m.tags,
                "version": m.version.to_string(),
                "versions": versions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "source": loaded.source.record(),
                "commit": loaded.commit,
                "files": loaded.template.files.keys().collect::<Vec<_>>(),
                "parameters": parameters,
            });
            if crate::wants_json(format) {
                print_data(format, &value, &[])?;
            } else {
                println!(
                    "{} {} — {}",
                    m.name,
                    m.version,
                    m.title.as_deref().unwrap_or("")
                );
                if let Some(d) = &m.description {
                    println!("{}", d.trim());
                }
                println!();
                let rows: Vec<&Value> = parameters.iter().collect();
                print!(
                    "{}",
                    crate::output::table(
                        &rows,
                        &[
                            ("PARAMETER", "name"),
                            ("TYPE", "type"),
                            ("REQUIRED", "required"),
                            ("DEFAULT", "default"),
                            ("DESCRIPTION", "description"),
                        ],
                    )
                );
            }
        }
    }
    Ok(Outcome::Success)
}

pub(crate) fn update(args: UpdateArgs, format: OutputFormat) -> anyhow::Result<Outcome> {
    let sources = sources();
    let outcome = pave_template::ops::plan_dir_update(&args.dir, &sources, args.to.as_deref())?;
    let plan = &outcome.plan;
    let conflicts = plan.conflicts();
    if !args.dry_run {
        pave_template::write::apply_plan(&args.dir, plan)?;
    }
    if crate::wants_json(format) {
        let value = json!({
            "directory": args.dir.display().to_string(),
            "template": outcome.template,
            "from": outcome.from.to_string(),
            "to": outcome.to.to_string(),
            "dryRun": args.dry_run,
            "changes": plan.changes.iter().map(|c| json!({"path": c.path, "action": c.action.as_str()})).collect::<Vec<_>>(),
            "conflicts": conflicts,
            "diff": if args.dry_run { Value::String(plan.diff()) } else { Value::Null },
        });
        print_data(format, &value, &[])?;
    } else if args.dry_run {
        print!("{}", plan.diff());
        summary(&args.dir, &outcome, true);
    } else {
        for c in &plan.changes {
            eprintln!("  {:<12} {}", c.action.as_str(), c.path);
        }
        summary(&args.dir, &outcome, false);
    }
    Ok(if conflicts.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failures
    })
}

fn summary(dir: &Path, outcome: &pave_template::ops::UpdateOutcome, dry_run: bool) {
    let count = |a: Action| {
        outcome
            .plan
            .changes
            .iter()
            .filter(|c| c.action == a)
            .count()
    };
    let verb = if dry_run { "Would update" } else { "Updated" };
    eprintln!(
        "{verb} {} from {} {} to {}: {} added, {} updated, {} merged, {} conflicts, {} removed, {} kept deleted, {} kept edited",
        dir.display(),
        outcome.template,
        outcome.from,
        outcome.to,
        count(Action::Add),
        count(Action::Update),
        count(Action::Merge),
        count(Action::Conflict),
        count(Action::Delete),
        count(Action::KeepDeleted),
        count(Action::KeepEdited),
    );
    let conflicts = outcome.plan.conflicts();
    if !conflicts.is_empty() {
        eprintln!("Conflicts (resolve the <<<<<<< markers, then commit):");
        for c in conflicts {
            eprintln!("  {c}");
        }
    }
}

pub(crate) fn drift(args: DriftArgs, format: OutputFormat) -> anyhow::Result<Outcome> {
    for d in &args.dirs {
        if !d.is_dir() {
            return Err(anyhow!("{}: not a folder", d.display()));
        }
    }
    let repos = pave_template::ops::find_repos(&args.dirs);
    if repos.is_empty() {
        bail!("no repositories made by pave (no .pave/answers.yaml) under the given folders");
    }
    let entries = pave_template::ops::drift(&repos, &sources());
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "path": e.path.display().to_string(),
                "template": e.template,
                "source": e.source,
                "version": e.version.as_ref().map(ToString::to_string),
                "latest": e.latest.as_ref().map(ToString::to_string),
                "behind": e.behind,
                "status": e.status,
                "error": e.error,
            })
        })
        .collect();
    print_data(
        format,
        &Value::Array(rows),
        &[
            ("REPO", "path"),
            ("TEMPLATE", "template"),
            ("VERSION", "version"),
            ("LATEST", "latest"),
            ("BEHIND", "behind"),
            ("STATUS", "status"),
        ],
    )?;
    if !crate::wants_json(format) {
        for e in entries.iter().filter(|e| e.error.is_some()) {
            eprintln!(
                "{}: {}",
                e.path.display(),
                e.error.as_deref().unwrap_or_default()
            );
        }
    }
    Ok(if entries.iter().any(|e| e.status == "error") {
        Outcome::InputErrors
    } else if entries.iter().any(|e| e.status == "behind") {
        Outcome::Failures
    } else {
        Outcome::Success
    })
}
