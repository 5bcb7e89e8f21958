//! `golden-bench`: the golden paths against the figures issue 5 asks for.
//!
//! 1. `pave new api-service` against `copier copy` of an equivalent copier template that this
//!    bench writes from the built-in api-service 1.1.0: the same files, questions, defaults,
//!    conditions (as conditional path names) and substitutions (pave's case filters spelled in
//!    plain Jinja2). Both outputs are compared before anything is timed; any difference but the
//!    answers file stops the bench.
//! 2. `pave update` of 100 repositories made at 1.0.0 and edited locally, one process each,
//!    one after the other; every update must exit 0 and keep the edits.
//! 3. `pave render` of 100 workloads: the `render-bench` figures (`workloads.rs`).
//!
//! `golden-bench [--runs 20] [--repos 100] [--workloads 100] [--render-runs 5] [--copier PATH]`
//! (no `--copier`: pave alone); `PAVE_BIN` overrides the `pave` binary (default: beside this
//! one). `bench/golden.sh` builds both and installs copier into a venv.
#![allow(clippy::print_stdout, clippy::expect_used)]

mod workloads;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pave_template::{Condition, Template};
use serde_json::{Value, json};

const TEMPLATE: &str = "api-service";
const VERSION: &str = "1.1.0";
const OLD_VERSION: &str = "1.0.0";
const ANSWERS_FILE: &str = ".pave/answers.yaml";
const OWNER: &str = "team-payments";
const SYSTEM: &str = "payments";

/// pave's case filter, for the kebab-case values the template's patterns allow, in Jinja2.
const PASCAL_CASE: (&str, &str) = ("pascal_case", "title | replace('-', '')");
/// pave-only filters with no translation here: the bench refuses templates using them.
const UNTRANSLATED: &[&str] = &["kebab_case", "snake_case", "camel_case", "title_case"];

struct Options {
    runs: usize,
    repos: usize,
    workloads: usize,
    render_runs: usize,
    copier: Option<PathBuf>,
}

fn parse_args() -> Options {
    let mut options = Options {
        runs: 20,
        repos: 100,
        workloads: 100,
        render_runs: 5,
        copier: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        let number = || -> usize {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{arg} needs a number, not {value}"))
        };
        match arg.as_str() {
            "--runs" => options.runs = number(),
            "--repos" => options.repos = number(),
            "--workloads" => options.workloads = number(),
            "--render-runs" => options.render_runs = number(),
            "--copier" => options.copier = Some(PathBuf::from(&value)),
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

fn main() {
    let options = parse_args();
    let pave = workloads::pave_bin();
    assert!(
        pave.is_file(),
        "{} not found: `cargo build --release -p pave -p pave-bench`, or set PAVE_BIN",
        pave.display()
    );
    let work = tempfile::Builder::new()
        .prefix("pave-golden-bench-")
        .tempdir()
        .expect("create a work folder");
    let work = work.path();
    println!(
        "# Golden paths ({} cores, load average {})",
        std::thread::available_parallelism().map_or(1, usize::from),
        load_average()
    );

    let new = new_vs_copier(&options, &pave, work);
    let update = update_fleet(&pave, work, options.repos);
    let render = workloads::measure(
        &pave,
        &work.join("render"),
        options.workloads,
        options.render_runs,
    );
    let render_cli = render.cli.expect("the pave binary is there");
    println!(
        "\n## `pave render` of {} workloads × 3 environments\n\n{} files per run; see the \
         summary (the same figures as `render-bench`).",
        options.workloads, render.files
    );

    println!(
        "\n## Summary (load average at the end {})\n",
        load_average()
    );
    println!("| figure | pave | copier | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    let met = |ok: bool| if ok { "yes" } else { "no" };
    match new.copier {
        Some(copier) => {
            let ratio = copier.as_secs_f64() / new.pave.as_secs_f64();
            println!(
                "| `pave new {TEMPLATE}` vs `copier copy`, {} files (median of {}) | {} | {} | {ratio:.1}x | ≥ 10x | {} |",
                new.files,
                options.runs,
                wall(new.pave),
                wall(copier),
                met(ratio >= 10.0)
            );
        }
        None => println!(
            "| `pave new {TEMPLATE}` (median of {}) | {} | not run | | ≥ 10x | ? |",
            options.runs,
            wall(new.pave)
        ),
    }
    println!(
        "| `pave update` {OLD_VERSION} → {VERSION}, {} edited repos (one process each, total) | {} | | | < 5 s | {} |",
        options.repos,
        wall(update),
        met(update < Duration::from_secs(5))
    );
    let render_batch = render.cli_batch.expect("the pave binary is there");
    for (mode, d) in [
        ("one `pave render` for all, written to disk", render_batch),
        ("one process each", render_cli),
        ("in process, `pave_workload`", render.lib),
    ] {
        println!(
            "| `pave render`, {} workloads × 3 environments ({mode}, median of {}) | {} | | | < 1 s | {} |",
            options.workloads,
            options.render_runs,
            wall(d),
            met(d < Duration::from_secs(1))
        );
    }
}

/// Median walls of `pave new` and `copier copy`, and the number of files each writes.
struct NewFigures {
    pave: Duration,
    copier: Option<Duration>,
    files: usize,
}

fn new_vs_copier(options: &Options, pave: &Path, work: &Path) -> NewFigures {
    let version = pave_template::parse_version(VERSION).expect("a version");
    let template =
        pave_template::builtin::load(TEMPLATE, &version).expect("the built-in template loads");
    let copier_template = work.join("copier-template");
    if options.copier.is_some() {
        write_copier_template(&template, &copier_template);
    }
    let name = "payments-api";
    let pave_new = |dest: &Path| pave_new(pave, work, dest, name, VERSION);
    let copier_copy = |copier: &Path, dest: &Path| {
        let mut command = Command::new(copier);
        command
            .args(["copy", "--defaults", "--quiet"])
            .args(["--data", &format!("name={name}")])
            .args(["--data", &format!("owner={OWNER}")])
            .args(["--data", &format!("system={SYSTEM}")])
            .arg(&copier_template)
            .arg(dest);
        command
    };

    println!("\n## `pave new {TEMPLATE}` ({VERSION}) vs `copier copy`\n");
    let out = work.join("new");
    run(&mut pave_new(&out.join("check-pave")));
    let files = read_tree(&out.join("check-pave")).len();
    if let Some(copier) = &options.copier {
        let (_, stderr) = run(&mut copier_copy(copier, &out.join("check-copier")));
        compare(&out.join("check-pave"), &out.join("check-copier"));
        println!(
            "Equivalent copier template: {}; both write the same {files} files with the same \
             contents (the answers file aside).",
            copier_template.display()
        );
        if !stderr.trim().is_empty() {
            println!("copier said on stderr:\n```\n{}\n```", stderr.trim());
        }
    }

    // Interleaved, so a change in machine load hits both alike.
    let (mut pave_walls, mut copier_walls) = (Vec::new(), Vec::new());
    for run_index in 0..options.runs {
        pave_walls.push(run(&mut pave_new(&out.join(format!("pave-{run_index}")))).0);
        if let Some(copier) = &options.copier {
            let dest = out.join(format!("copier-{run_index}"));
            copier_walls.push(run(&mut copier_copy(copier, &dest)).0);
        }
    }
    let figures = NewFigures {
        pave: workloads::median(pave_walls),
        copier: options
            .copier
            .as_ref()
            .map(|_| workloads::median(copier_walls)),
        files,
    };
    println!(
        "\n| tool | runs | median wall |\n|---|---|---|\n| `pave new` | {} | {} |",
        options.runs,
        wall(figures.pave)
    );
    if let Some(copier) = figures.copier {
        println!("| `copier copy` | {} | {} |", options.runs, wall(copier));
    }
    figures
}

/// `pave new TEMPLATE dest --ref version` with the bench's answers.
fn pave_new(pave: &Path, work: &Path, dest: &Path, name: &str, version: &str) -> Command {
    let mut command = Command::new(pave);
    command
        .env("PAVE_CACHE_DIR", work.join("cache"))
        .args(["new", TEMPLATE])
        .arg(dest)
        .args(["--ref", version])
        .args(["--set", &format!("name={name}")])
        .args(["--set", &format!("owner={OWNER}")])
        .args(["--set", &format!("system={SYSTEM}")]);
    command
}

/// Runs `command`, stopping the bench with its stderr unless it succeeds; wall time, stderr.
fn run(command: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{stderr}",
        out.status
    );
    (elapsed, stderr)
}

/// Writes a copier template equivalent to `template` into `dir`: `copier.yml` (questions from
/// the JSON Schema, Jinja options as pave's) and `skeleton/`.
fn write_copier_template(template: &Template, dir: &Path) {
    let manifest = &template.manifest;
    assert!(
        manifest.copy.is_empty(),
        "`files.copy` has no translation to copier here"
    );
    let mut config = json!({
        "_subdirectory": "skeleton",
        "_templates_suffix": "",
        "_answers_file": ANSWERS_FILE,
        "_envops": {"trim_blocks": true, "lstrip_blocks": true, "keep_trailing_newline": true},
    });
    let properties = manifest.parameters["properties"]
        .as_object()
        .expect("the parameters have properties");
    for (name, schema) in properties {
        config[name] = question(schema);
    }
    // pave's `template` variable: a computed value, neither asked nor recorded.
    config["template"] = json!({
        "type": "yaml",
        "when": false,
        "default": {"name": manifest.name, "version": manifest.version.to_string()},
    });
    let skeleton = dir.join("skeleton");
    std::fs::create_dir_all(&skeleton).expect("create the copier template");
    // JSON is YAML.
    let config = serde_json::to_string_pretty(&config).expect("JSON");
    std::fs::write(dir.join("copier.yml"), config).expect("write copier.yml");
    std::fs::write(
        skeleton.join("{{ _copier_conf.answers_file }}"),
        "# Written by copier. Changes here will be overwritten.\n{{ _copier_answers | to_nice_yaml }}",
    )
    .expect("write the answers file template");
    for (path, file) in &template.files {
        let target = skeleton.join(conditional_path(path, &manifest.conditions));
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("create a folder");
        let contents = match std::str::from_utf8(&file.contents) {
            Ok(text) => jinja2_text(path, text).into_bytes(),
            Err(_) => file.contents.clone(),
        };
        std::fs::write(&target, contents).expect("write a skeleton file");
    }
}

/// A copier question for a JSON Schema property.
fn question(schema: &Value) -> Value {
    let kind = match schema["type"].as_str() {
        Some("string") => "str",
        Some("integer") => "int",
        Some("number") => "float",
        Some("boolean") => "bool",
        _ => "yaml",
    };
    let mut question = json!({ "type": kind });
    for (from, to) in [
        ("description", "help"),
        ("default", "default"),
        ("enum", "choices"),
    ] {
        if let Some(value) = schema.get(from) {
            question[to] = value.clone();
        }
    }
    question
}

/// `path` with the component each condition's glob names made conditional:
/// `.github/**` under `ci != 'gitlab'` → `{% if ci != 'gitlab' %}.github{% endif %}/…`.
fn conditional_path(path: &str, conditions: &[Condition]) -> String {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    for condition in conditions {
        for glob in &condition.paths {
            let prefix = glob.strip_suffix("/**").unwrap_or(glob);
            assert!(
                !prefix.contains(['*', '?', '[']),
                "condition glob {glob}: only `dir/**` and plain paths are translated"
            );
            if path == prefix || path.starts_with(&format!("{prefix}/")) {
                let part = &mut parts[prefix.split('/').count() - 1];
                *part = format!("{{% if {} %}}{part}{{% endif %}}", condition.expression);
            }
        }
    }
    parts.join("/")
}

/// A skeleton file's text in Jinja2's dialect: pave-only filters spelled in Jinja2, and the
/// newline after `{% raw %}` removed (Jinja2's `trim_blocks` leaves it, minijinja's does not).
fn jinja2_text(path: &str, text: &str) -> String {
    let (filter, jinja2) = PASCAL_CASE;
    let text = text
        .replace(filter, jinja2)
        .replace("{% raw %}\n", "{% raw %}");
    if let Some(filter) = UNTRANSLATED.iter().find(|f| text.contains(**f)) {
        panic!("{path} uses `{filter}`, which this bench does not translate to Jinja2");
    }
    text
}

/// Every file under `root`, by `/`-separated relative path.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under the root");
                let contents = std::fs::read(&path).expect("read a generated file");
                out.insert(rel.to_string_lossy().replace('\\', "/"), contents);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Stops the bench unless both trees hold the same files with the same contents (the answers
/// file's contents aside: each tool writes its own).
fn compare(pave: &Path, copier: &Path) {
    let (ours, theirs) = (read_tree(pave), read_tree(copier));
    let only = |a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
        a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
    };
    let (only_pave, only_copier) = (only(&ours, &theirs), only(&theirs, &ours));
    assert!(
        only_pave.is_empty() && only_copier.is_empty(),
        "the outputs differ in files: only pave wrote {only_pave:?}, only copier wrote {only_copier:?}"
    );
    for (path, contents) in &ours {
        if path == ANSWERS_FILE || theirs[path] == *contents {
            continue;
        }
        let (a, b) = (
            String::from_utf8_lossy(contents),
            String::from_utf8_lossy(&theirs[path]),
        );
        let line = a
            .split('\n')
            .zip(b.split('\n'))
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| a.split('\n').count().min(b.split('\n').count()));
        panic!(
            "{path} differs from line {}:\n  pave:   {:?}\n  copier: {:?}",
            line + 1,
            a.split('\n').nth(line).unwrap_or("<end of file>"),
            b.split('\n').nth(line).unwrap_or("<end of file>")
        );
    }
}

const RUNBOOK_EDIT: &str = "\n## Local: upstream ledger down\n\n\
    **Act:** page the ledger on-call; requests queue for up to 10 minutes.\n";
const MAIN_EDIT: &str =
    "\n// version is set by the release build (a local edit).\nvar version = \"dev\"\n";
/// A section api-service 1.1.0 adds to the runbook.
const RUNBOOK_NEW: &str = "## Pods crash-looping or not ready";

/// Total wall of `pave update` over `repos` repositories made at 1.0.0 and edited.
fn update_fleet(pave: &Path, work: &Path, repos: usize) -> Duration {
    let fleet = work.join("fleet");
    let dirs: Vec<PathBuf> = (0..repos)
        .map(|i| fleet.join(format!("svc-{i:03}")))
        .collect();
    for (i, dir) in dirs.iter().enumerate() {
        run(&mut pave_new(
            pave,
            work,
            dir,
            &format!("svc-{i:03}"),
            OLD_VERSION,
        ));
        append(&dir.join("docs/runbook.md"), RUNBOOK_EDIT);
        append(&dir.join("main.go"), MAIN_EDIT);
    }
    let start = Instant::now();
    for dir in &dirs {
        run(Command::new(pave)
            .env("PAVE_CACHE_DIR", work.join("cache"))
            .arg("update")
            .arg(dir)
            .args(["--to", VERSION]));
    }
    let total = start.elapsed();
    for dir in &dirs {
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
        };
        let runbook = read("docs/runbook.md");
        assert!(
            runbook.contains(RUNBOOK_EDIT) && runbook.contains(RUNBOOK_NEW),
            "{}: the runbook lost the local edit or missed 1.1.0's section:\n{runbook}",
            dir.display()
        );
        assert!(
            read("main.go").ends_with(MAIN_EDIT),
            "{}: main.go lost the local edit",
            dir.display()
        );
        assert!(
            read(ANSWERS_FILE).contains(&format!("version: \"{VERSION}\"")),
            "{}: {ANSWERS_FILE} does not record {VERSION}",
            dir.display()
        );
    }
    println!(
        "\n## `pave update` of {repos} repositories ({OLD_VERSION} → {VERSION})\n\n\
         Each was made with `pave new {TEMPLATE} --ref {OLD_VERSION}`, then edited (a runbook \
         section appended, main.go changed). All {repos} updates exited 0; every runbook kept \
         its edit and got 1.1.0's new section (a 3-way merge), every main.go kept its edit.\n\n\
         Total wall, one process per repository, one after the other: {} ({:.1} ms per repository).",
        wall(total),
        total.as_secs_f64() * 1000.0 / repos.max(1) as f64
    );
    total
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot edit {}: {e}", path.display()));
}

fn wall(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

/// The 1-, 5- and 15-minute load averages (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}
