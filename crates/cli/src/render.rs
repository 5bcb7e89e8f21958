//! `pave render`: a Score workload → a Kustomize layout of secure-by-default manifests.
//!
//! The file work is here (reading the Score file, its `files.*.source` files and the
//! provisioner folders; writing the layout transactionally); everything else is
//! `pave-workload`. Because pave's global `-o/--output` means "output format", `pave render`
//! parses its own arguments (as `pave slo` does) so that `-o DIR` names the output folder.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use pave_workload::{Environment, FileSource, Layout, MARKER, Provisioners, RenderOptions};

use crate::Outcome;

/// The arguments after `pave render` (parsed by [`RenderCli`]).
#[derive(Debug, clap::Args)]
pub(crate) struct RenderArgs {
    /// `[score.yaml]… [--env ENV]… [-o DIR] [--image REF] …` (see `pave render --help`)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub(crate) args: Vec<OsString>,
}

/// Render a Score workload into Kubernetes manifests with the platform's defaults: a
/// Kustomize layout (base/ and overlays/<env>/) whose pods pass the restricted Pod Security
/// Standard, with resources from provisioners.
#[derive(Debug, Parser)]
#[command(name = "pave render", version, max_term_width = 100)]
struct RenderCli {
    /// The Score v1b1 workload file(s). With several, each layout goes to `<DIR>/<workload>`
    /// with `-o DIR`, else to `deploy/` beside its Score file
    #[arg(value_name = "SCORE", default_value = "score.yaml", num_args = 1..)]
    scores: Vec<PathBuf>,

    /// Environments to render (dev, staging, prod; repeatable or comma-separated); default all three
    #[arg(long = "env", short = 'e', value_name = "ENV", value_delimiter = ',', value_parser = parse_env)]
    envs: Vec<Environment>,

    /// Output folder (replaced as a whole; see --force); default `deploy`
    #[arg(long = "out", short = 'o', alias = "output", value_name = "DIR")]
    out: Option<PathBuf>,

    /// Image for containers whose Score image is `.` (built from this repository)
    #[arg(long, value_name = "REF")]
    image: Option<String>,

    /// Namespace of every environment (default: the environment's name)
    #[arg(long, short = 'n', value_name = "NAMESPACE", value_parser = parse_namespace)]
    namespace: Option<String>,

    /// Folder of `*.provisioners.yaml` files, consulted before the built-in provisioners
    /// (repeatable; earlier folders first)
    #[arg(long = "provisioners", value_name = "DIR")]
    provisioners: Vec<PathBuf>,

    /// Replace the output folder even when it is not empty and was not written by pave render
    #[arg(long)]
    force: bool,
}

fn parse_env(s: &str) -> Result<Environment, String> {
    Environment::parse(s)
        .ok_or_else(|| format!("unknown environment `{s}` (use dev, staging or prod)"))
}

fn parse_namespace(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}` is not a valid namespace (an RFC 1123 label)"
        ))
    }
}

/// Runs `pave render <args>`.
pub(crate) fn run(args: RenderArgs) -> anyhow::Result<Outcome> {
    let cli = match RenderCli::try_parse_from(
        std::iter::once(OsString::from("pave render")).chain(args.args),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ok(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Outcome::Success
                }
                _ => Outcome::InputErrors,
            });
        }
    };
    let options = RenderOptions {
        environments: if cli.envs.is_empty() {
            Environment::ALL.to_vec()
        } else {
            cli.envs.clone()
        },
        image: cli.image.clone(),
        namespace: cli.namespace.clone(),
    };
    let envs: Vec<&str> = options.environments.iter().map(|e| e.as_str()).collect();
    if let [score] = cli.scores.as_slice() {
        let RenderedFile {
            layout, warnings, ..
        } = render_file(score, &cli.provisioners, &options)?;
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        let out = cli.out.unwrap_or_else(|| PathBuf::from("deploy"));
        write_layout(&layout, &out, cli.force)?;
        println!(
            "wrote {} ({} files): kubectl kustomize {}/overlays/<{}>",
            out.display(),
            layout.files.len(),
            out.display(),
            envs.join("|")
        );
        return Ok(Outcome::Success);
    }
    render_many(&cli, &options, &envs)
}

/// Renders several workloads in one run: every layout is planned (and every error reported)
/// before the first one is written, so a bad Score file leaves every output as it was.
fn render_many(cli: &RenderCli, options: &RenderOptions, envs: &[&str]) -> anyhow::Result<Outcome> {
    let provisioners = load_provisioners(&cli.provisioners)?;
    let mut planned: Vec<(PathBuf, Layout)> = Vec::new();
    let mut errors = Vec::new();
    let mut outputs: std::collections::BTreeMap<PathBuf, &Path> = Default::default();
    for score in &cli.scores {
        let result = render_with(score, &provisioners, options).and_then(|rendered| {
            for w in &rendered.warnings {
                eprintln!("warning: {}: {w}", score.display());
            }
            let out = match &cli.out {
                Some(dir) => dir.join(&rendered.name),
                None => score.parent().unwrap_or(Path::new("")).join("deploy"),
            };
            if let Some(other) = outputs.insert(out.clone(), score) {
                bail!(
                    "{} and {} would both be written to {}",
                    other.display(),
                    score.display(),
                    out.display()
                );
            }
            Ok((out, rendered.layout))
        });
        match result {
            Ok(plan) => planned.push(plan),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "pave render: {} of {} workloads failed; nothing was written",
            errors.len(),
            cli.scores.len()
        );
        return Ok(Outcome::InputErrors);
    }
    let mut files = 0;
    for (out, layout) in &planned {
        write_layout(layout, out, cli.force)?;
        files += layout.files.len();
    }
    println!(
        "wrote {} layouts ({files} files): kubectl kustomize <layout>/overlays/<{}>",
        planned.len(),
        envs.join("|")
    );
    Ok(Outcome::Success)
}

/// A workload rendered in memory (nothing is written yet).
pub(crate) struct RenderedFile {
    /// The workload's `metadata.name`.
    pub(crate) name: String,
    pub(crate) layout: Layout,
    pub(crate) warnings: Vec<String>,
}

/// Reads `score` and the provisioner folders and renders the layout (nothing is written).
pub(crate) fn render_file(
    score: &Path,
    provisioner_dirs: &[PathBuf],
    options: &RenderOptions,
) -> anyhow::Result<RenderedFile> {
    render_with(score, &load_provisioners(provisioner_dirs)?, options)
}

/// The built-in provisioners after those of `dirs` (`*.provisioners.yaml`, sorted by name).
fn load_provisioners(dirs: &[PathBuf]) -> anyhow::Result<Provisioners> {
    let mut provisioners = Provisioners::builtin();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the provisioners folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".provisioners.yaml"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            bail!(
                "{}: no *.provisioners.yaml files in this folder",
                dir.display()
            );
        }
        for file in files {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            provisioners
                .add_file(&file.display().to_string(), &text)
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    Ok(provisioners)
}

/// Reads `score` and renders it with `provisioners`.
fn render_with(
    score: &Path,
    provisioners: &Provisioners,
    options: &RenderOptions,
) -> anyhow::Result<RenderedFile> {
    let text = std::fs::read_to_string(score)
        .with_context(|| format!("cannot read {}", score.display()))?;
    let name = score.display().to_string();
    let workload = pave_workload::Workload::parse(&name, &text).map_err(|e| anyhow!("{e}"))?;
    let base = match score.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let rendered = pave_workload::render(&workload, provisioners, &Files { base }, options)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(RenderedFile {
        name: workload.name,
        layout: rendered.layout(),
        warnings: rendered.warnings,
    })
}

use pave_fs::SeamReadError;

/// Files named by `files.*.source`, relative to the Score file's folder.
struct Files {
    base: PathBuf,
}

/// Larger `source` files are refused (a ConfigMap holds at most 1 MiB).
const MAX_SOURCE: u64 = 1024 * 1024;

impl FileSource for Files {
    fn read(&self, path: &str) -> Result<Vec<u8>, SeamReadError> {
        // Inside the Score file's folder, links followed: a workload in a repository may not
        // copy the rest of the machine (a CI runner's credentials) into its ConfigMaps.
        let p = pave_fs::resolve_lexically(&self.base, path);
        pave_fs::read_inside(&p, &self.base, MAX_SOURCE).map_err(|e| match e {
            pave_fs::ReadError::TooLarge { .. } => SeamReadError::Refused(format!(
                "{} is larger than 1 MiB (a ConfigMap's limit)",
                p.display()
            )),
            pave_fs::ReadError::OutsideRoot { .. } => SeamReadError::Refused(format!(
                "{path}: outside the Score file's folder {}",
                self.base.display()
            )),
            source => SeamReadError::Read {
                path: p.display().to_string(),
                source,
            },
        })
    }
}

/// Writes `layout` to `out` as a whole: into a temporary folder beside it, then renamed into
/// place, so `out` is never half-written. An existing `out` is replaced only when it is empty
/// or was written by pave render (it has the marker file), or with `force`.
pub(crate) fn write_layout(layout: &Layout, out: &Path, force: bool) -> anyhow::Result<()> {
    let exists = out.exists();
    if exists {
        if !out.is_dir() {
            bail!("{} exists and is not a folder", out.display());
        }
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_none();
        if !empty && !out.join(MARKER).is_file() && !force {
            bail!(
                "{} is not empty and was not written by pave render (no {MARKER} file); pass --force to replace it",
                out.display()
            );
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let stem = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "deploy".into());
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let tmp = parent.join(format!(".{stem}.pave-tmp-{unique}"));
    let written = (|| -> anyhow::Result<()> {
        for (rel, text) in &layout.files {
            let p = tmp.join(rel);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if exists {
        let old = parent.join(format!(".{stem}.pave-old-{unique}"));
        if let Err(e) = std::fs::rename(out, &old) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e).with_context(|| format!("cannot move {} aside", out.display()));
        }
        if let Err(e) = std::fs::rename(&tmp, out) {
            // Put the previous output back.
            let _ = std::fs::rename(&old, out);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e)
                .with_context(|| format!("cannot move the new output to {}", out.display()));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else if let Err(e) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot move the new output to {}", out.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn score_file_sources_stay_in_the_score_files_folder() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("svc");
        std::fs::create_dir_all(base.join("config")).unwrap();
        std::fs::write(base.join("config/app.toml"), "a = 1").unwrap();
        std::fs::write(dir.path().join("secret"), "token").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), base.join("config/link")).unwrap();
        std::fs::write(base.join("big"), vec![b'x'; MAX_SOURCE as usize + 1]).unwrap();
        let files = Files { base: base.clone() };
        assert_eq!(files.read("config/app.toml").unwrap(), b"a = 1");
        assert_eq!(files.read("./config/../config/app.toml").unwrap(), b"a = 1");
        for outside in ["../secret", "config/link", "/etc/passwd"] {
            let e = files.read(outside).unwrap_err().to_string();
            assert!(
                e.contains("outside the Score file's folder"),
                "{outside}: {e}"
            );
        }
        let big = files.read("big").unwrap_err().to_string();
        assert!(big.contains("larger than 1 MiB"), "{big}");
        let none = files.read("none").unwrap_err();
        assert!(none.to_string().contains("does not exist"), "{none}");
        assert!(matches!(
            none,
            SeamReadError::Read {
                source: pave_fs::ReadError::NotFound,
                ..
            }
        ));
    }

    fn layout(text: &str) -> Layout {
        let mut files = std::collections::BTreeMap::new();
        files.insert(MARKER.to_owned(), "x\n".to_owned());
        files.insert("base/a.yaml".to_owned(), text.to_owned());
        Layout { files }
    }

    #[test]
    fn writes_replaces_and_refuses_foreign_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy");
        write_layout(&layout("one\n"), &out, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("base/a.yaml")).unwrap(),
            "one\n"
        );
        // A pave-written folder is replaced as a whole.
        std::fs::write(out.join("stale.yaml"), "x").unwrap();
        write_layout(&layout("two\n"), &out, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("base/a.yaml")).unwrap(),
            "two\n"
        );
        assert!(!out.join("stale.yaml").exists());
        // A folder pave did not write is left alone without --force.
        let foreign = tmp.path().join("mine");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("keep.txt"), "precious").unwrap();
        let e = write_layout(&layout("x\n"), &foreign, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pass --force"), "{e}");
        assert_eq!(
            std::fs::read_to_string(foreign.join("keep.txt")).unwrap(),
            "precious"
        );
        write_layout(&layout("x\n"), &foreign, true).unwrap();
        assert!(!foreign.join("keep.txt").exists());
        // No temporary folders are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty());
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../workload/tests/fixtures")
            .join(name)
    }

    fn error_of(result: anyhow::Result<Outcome>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => format!("{e:#}"),
        }
    }

    fn run_with(args: &[&str]) -> anyhow::Result<Outcome> {
        run(RenderArgs {
            args: args.iter().map(OsString::from).collect(),
        })
    }

    #[test]
    fn renders_a_fixture_and_reads_provisioner_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy");
        let api = fixture("api.score.yaml");
        let outcome = run_with(&[
            api.to_str().unwrap(),
            "--env",
            "dev,prod",
            "-o",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert!(matches!(outcome, Outcome::Success));
        assert!(out.join("overlays/prod/kustomization.yaml").is_file());
        assert!(!out.join("overlays/staging").exists());

        // A platform folder overriding the dns provisioner comes first.
        let platform = tmp.path().join("platform");
        std::fs::create_dir(&platform).unwrap();
        std::fs::write(
            platform.join("dns.provisioners.yaml"),
            "- type: dns\n  outputs:\n    host: \"{{ workload }}.{{ env }}.corp.example\"\n",
        )
        .unwrap();
        let options = RenderOptions {
            environments: vec![Environment::Prod],
            image: None,
            namespace: Some("payments".into()),
        };
        let RenderedFile {
            layout, warnings, ..
        } = render_file(&api, std::slice::from_ref(&platform), &options).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let all: String = layout.files.values().cloned().collect();
        assert!(all.contains("payments-api.prod.corp.example"), "{all}");
        assert!(all.contains("namespace: payments"));

        // A broken provisioner file: the error names it, and nothing is written.
        std::fs::write(
            platform.join("broken.provisioners.yaml"),
            "- type: dns\n  outputs: [\n",
        )
        .unwrap();
        let out2 = tmp.path().join("never");
        let e = error_of(run_with(&[
            api.to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
            "--provisioners",
            platform.to_str().unwrap(),
        ]));
        assert!(e.contains("broken.provisioners.yaml:"), "{e}");
        assert!(!out2.exists());
    }

    #[test]
    fn many_workloads_in_one_run_are_planned_before_any_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let all = tmp.path().join("all");
        let (api, batch) = (fixture("api.score.yaml"), fixture("batch.score.yaml"));
        let outcome = run_with(&[
            api.to_str().unwrap(),
            batch.to_str().unwrap(),
            "-o",
            all.to_str().unwrap(),
        ])
        .unwrap();
        assert!(matches!(outcome, Outcome::Success));
        for name in ["payments-api", "nightly-report"] {
            assert!(
                all.join(name)
                    .join("overlays/prod/kustomization.yaml")
                    .is_file(),
                "{name}"
            );
        }

        // Without -o, each layout lands beside its Score file.
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for dir in [&a, &b] {
            std::fs::create_dir(dir).unwrap();
            std::fs::copy(&api, dir.join("score.yaml")).unwrap();
        }
        let (a_score, b_score) = (a.join("score.yaml"), b.join("score.yaml"));
        let scores = [a_score.to_str().unwrap(), b_score.to_str().unwrap()];
        assert!(matches!(run_with(&scores).unwrap(), Outcome::Success));
        assert!(a.join("deploy/base/kustomization.yaml").is_file());
        assert!(b.join("deploy/base/kustomization.yaml").is_file());

        // Two workloads with one name under -o, or one bad Score file: nothing is written.
        let never = tmp.path().join("never");
        let clash = [scores[0], scores[1], "-o", never.to_str().unwrap()];
        assert!(matches!(run_with(&clash).unwrap(), Outcome::InputErrors));
        let worker = fixture("worker.score.yaml");
        let bad = [
            api.to_str().unwrap(),
            worker.to_str().unwrap(),
            "-o",
            never.to_str().unwrap(),
        ];
        assert!(matches!(run_with(&bad).unwrap(), Outcome::InputErrors));
        assert!(!never.exists());
    }

    #[test]
    fn bad_arguments_and_missing_image() {
        assert!(matches!(
            run_with(&["--env", "qa"]).unwrap(),
            Outcome::InputErrors
        ));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy");
        let e = error_of(run_with(&[
            fixture("worker.score.yaml").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]));
        assert!(
            e.contains("worker.score.yaml:10:5: container `worker` has image `.`"),
            "{e}"
        );
        assert!(!out.exists());
    }
}
