//! The operations behind `pave new`, `pave update` and `pave drift`, on top of the pure core
//! (render, merge) and the I/O modules (sources, writing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::answers::{ANSWERS_PATH, AnswersFile};
use crate::error::{Error, Result};
use crate::merge::{Action, FileChange, UpdatePlan, plan_update};
use crate::params::{self, Answers};
use crate::render::{Rendered, RenderedFile, render};
use crate::source::{Loaded, Source, Sources, Want};

/// The answers file a render of `loaded` with `answers` gets.
pub fn answers_file(loaded: &Loaded, answers: &Answers) -> AnswersFile {
    AnswersFile {
        template: loaded.template.manifest.name.clone(),
        source: loaded.source.record(),
        version: loaded.template.manifest.version.clone(),
        commit: loaded.commit.clone(),
        answers: answers.clone(),
    }
}

/// Validates `answers` (defaults applied), renders, and adds `.pave/answers.yaml`: the whole
/// repository `pave new` writes, in memory.
pub fn generate(loaded: &Loaded, answers: Answers) -> Result<Rendered> {
    let answers = params::prepare(&loaded.template.manifest, answers)?;
    let mut files = render(&loaded.template, &answers)?;
    files.insert(
        ANSWERS_PATH.to_owned(),
        RenderedFile {
            contents: answers_file(loaded, &answers).to_yaml().into_bytes(),
            executable: false,
        },
    );
    Ok(files)
}

/// Reads `dir/.pave/answers.yaml`.
pub fn read_answers(dir: &Path) -> Result<AnswersFile> {
    let path = dir.join(ANSWERS_PATH);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    AnswersFile::parse(&text, &path.display().to_string())
}

/// An update, planned and not yet written.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    pub template: String,
    pub from: Version,
    pub to: Version,
    pub plan: UpdatePlan,
}

/// Plans `pave update` for the repository at `dir`: renders the recorded version (base) and
/// `to` (or the latest, theirs) with the recorded answers and merges them with the working
/// tree. Writes nothing; see [`crate::write::apply_plan`].
pub fn plan_dir_update(dir: &Path, sources: &Sources, to: Option<&str>) -> Result<UpdateOutcome> {
    let recorded = read_answers(dir)?;
    let source = Source::from_record(&recorded.template, &recorded.source);
    let base = sources.load_recorded(&source, &recorded.version, recorded.commit.as_deref())?;
    let want = to.map_or(Want::Latest, |t| Want::Ref(t.to_owned()));
    let theirs = sources.load(&source, &want)?;
    if theirs.template.manifest.name != recorded.template {
        return Err(Error::Source(format!(
            "{}: the source now holds template `{}`, not `{}`",
            recorded.source, theirs.template.manifest.name, recorded.template
        )));
    }
    let base_files = render(&base.template, &recorded.answers)?;
    let new_answers = params::prepare(&theirs.template.manifest, recorded.answers.clone()).map_err(|e| match e {
        Error::MissingParameters(list) => Error::Source(format!(
            "version {} of `{}` needs parameters the answers file does not have; add them under `answers:` in {}:\n{}",
            theirs.template.manifest.version,
            recorded.template,
            dir.join(ANSWERS_PATH).display(),
            list.join("\n")
        )),
        other => other,
    })?;
    let theirs_files = render(&theirs.template, &new_answers)?;
    let ours = crate::write::read_tree(dir, base_files.keys().chain(theirs_files.keys()))?;
    let mut plan = plan_update(&base_files, &theirs_files, &ours);
    let answers = answers_file(&theirs, &new_answers);
    let text = answers.to_yaml().into_bytes();
    let before = std::fs::read(dir.join(ANSWERS_PATH)).ok();
    if before.as_deref() != Some(text.as_slice()) {
        plan.changes.push(FileChange {
            path: ANSWERS_PATH.to_owned(),
            action: Action::Update,
            before,
            after: Some(text),
            executable: false,
            theirs_copy: None,
        });
    }
    Ok(UpdateOutcome {
        template: recorded.template,
        from: recorded.version,
        to: theirs.template.manifest.version.clone(),
        plan,
    })
}

/// Where one repository stands against its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftEntry {
    /// The repository folder.
    pub path: PathBuf,
    pub template: Option<String>,
    pub source: Option<String>,
    pub version: Option<Version>,
    pub latest: Option<Version>,
    /// Released versions between `version` (exclusive) and `latest` (inclusive).
    pub behind: Option<usize>,
    /// `current`, `behind`, `ahead` (newer than any release) or `error`.
    pub status: &'static str,
    pub error: Option<String>,
}

/// Repositories under `dirs`: each dir holding `.pave/answers.yaml`, or every folder below
/// it that does (not looking inside `.git`, `node_modules` or `target`).
pub fn find_repos(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        if dir.join(ANSWERS_PATH).is_file() {
            out.push(dir.clone());
            continue;
        }
        let walk = walkdir::WalkDir::new(dir)
            .max_depth(6)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                !(e.depth() > 0 && matches!(name.as_ref(), ".git" | "node_modules" | "target"))
            });
        for entry in walk.flatten() {
            if entry.file_type().is_dir() && entry.path().join(ANSWERS_PATH).is_file() {
                out.push(entry.path().to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Drift of each repository; a repository whose answers or source cannot be read gets
/// status `error` (the others are still reported).
pub fn drift(repos: &[PathBuf], sources: &Sources) -> Vec<DriftEntry> {
    let mut versions: HashMap<Source, std::result::Result<Vec<Version>, String>> = HashMap::new();
    repos
        .iter()
        .map(|repo| {
            let mut entry = DriftEntry {
                path: repo.clone(),
                template: None,
                source: None,
                version: None,
                latest: None,
                behind: None,
                status: "error",
                error: None,
            };
            let recorded = match read_answers(repo) {
                Ok(a) => a,
                Err(e) => {
                    entry.error = Some(e.to_string());
                    return entry;
                }
            };
            entry.template = Some(recorded.template.clone());
            entry.source = Some(recorded.source.clone());
            entry.version = Some(recorded.version.clone());
            let source = Source::from_record(&recorded.template, &recorded.source);
            let known = versions
                .entry(source.clone())
                .or_insert_with(|| sources.versions(&source).map_err(|e| e.to_string()));
            match known {
                Err(e) => entry.error = Some(e.clone()),
                Ok(list) => {
                    let releases: Vec<&Version> =
                        list.iter().filter(|v| v.pre.is_empty()).collect();
                    let latest = releases
                        .iter()
                        .max()
                        .copied()
                        .or_else(|| list.iter().max())
                        .cloned();
                    match latest {
                        None => entry.error = Some(format!("{}: no versions", recorded.source)),
                        Some(latest) => {
                            let behind = releases
                                .iter()
                                .filter(|v| ***v > recorded.version && ***v <= latest)
                                .count();
                            entry.status = if recorded.version > latest {
                                "ahead"
                            } else if behind > 0 {
                                "behind"
                            } else {
                                "current"
                            };
                            entry.behind = Some(behind);
                            entry.latest = Some(latest);
                        }
                    }
                }
            }
            entry
        })
        .collect()
}
