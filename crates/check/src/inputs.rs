//! Which files `pave check` reads and how: paths, directories (recursively), stdin; kind
//! detection; size and encoding checks. Files are read and parsed in parallel; a file that
//! cannot be read becomes an [`InputError`] and the others are still checked.

use std::path::{Path, PathBuf};

use pave_policy::{DocKind, Document, InputError, LoadError};

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `--type`: read every input as this kind instead of detecting it.
    pub forced: Option<DocKind>,
    pub limits: pave_yaml::Limits,
    /// Larger files are refused (an error, not a crash or a stall).
    pub max_file_bytes: u64,
    /// Parser threads; 0 means one per core.
    pub threads: usize,
    /// A YAML stream this large or larger is parsed `part_bytes` at a time, each part checked
    /// before the next is parsed.
    pub large_file_bytes: usize,
    pub part_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            forced: None,
            limits: pave_yaml::Limits::default(),
            max_file_bytes: 64 * 1024 * 1024,
            threads: 0,
            large_file_bytes: 8 << 20,
            part_bytes: 2 << 20,
        }
    }
}

/// What was read.
#[derive(Debug, Default)]
pub struct Inputs {
    /// In input order: file by file, document by document.
    pub documents: Vec<Document>,
    pub errors: Vec<InputError>,
    /// Files (and stdin) that were read.
    pub files: usize,
}

/// Directories never worth descending into.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "vendor",
    ".terraform",
    ".venv",
    "__pycache__",
];

/// One file to read.
struct Job {
    /// As reports show it.
    display: String,
    /// `None` for stdin.
    path: Option<PathBuf>,
    /// Named on the command line (rather than found in a directory): it must be checkable.
    explicit: bool,
}

/// One file, read.
enum Read {
    Documents(Vec<Document>),
    /// A YAML stream too large to hold parsed at once: parsed a part at a time as the
    /// documents are checked ([`ReadOptions::large_file_bytes`]).
    Large {
        text: String,
        forced: Option<DocKind>,
    },
}

/// Files parsed in parallel before their documents are handed on.
const GROUP: usize = 256;

/// Reads `paths` (`-` is `stdin`; a directory is searched recursively; no paths means `.`).
pub fn read_inputs(
    paths: &[String],
    stdin: &mut dyn std::io::Read,
    options: &ReadOptions,
) -> Inputs {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let files = read_inputs_each(paths, stdin, options, &mut |read| match read {
        Ok(docs) => documents.extend(docs),
        Err(e) => errors.push(e),
    });
    Inputs {
        documents,
        errors,
        files,
    }
}

/// [`read_inputs`], handing each file's documents (a large file's a part at a time) and
/// each error to `sink` in input order as they are read, so that a caller can check them
/// without holding every parsed document (`pave check` on one 50 MB file). Returns how
/// many files were read.
pub fn read_inputs_each(
    paths: &[String],
    stdin: &mut dyn std::io::Read,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Result<Vec<Document>, InputError>),
) -> usize {
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    let mut stdin_text = None;
    let default = [".".to_owned()];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    for arg in paths {
        if arg == "-" {
            let mut bytes = Vec::new();
            match stdin.read_to_end(&mut bytes) {
                Ok(_) => stdin_text = Some(bytes),
                Err(e) => errors.push(error("-", None, format!("cannot read standard input: {e}"))),
            }
            jobs.push(Job {
                display: "-".into(),
                path: None,
                explicit: true,
            });
            continue;
        }
        let path = Path::new(arg);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => collect_dir(path, options.forced, &mut jobs, &mut errors),
            Ok(_) => jobs.push(Job {
                display: display_path(path),
                path: Some(path.to_path_buf()),
                explicit: true,
            }),
            Err(e) => errors.push(error(arg, None, format!("cannot read: {e}"))),
        }
    }

    for e in errors {
        sink(Err(e));
    }
    let files = jobs.len();
    for group in jobs.chunks(GROUP) {
        for (job, result) in group
            .iter()
            .zip(read_group(group, stdin_text.as_deref(), options))
        {
            match result {
                Ok(Read::Documents(docs)) => sink(Ok(docs)),
                Ok(Read::Large { text, forced }) => read_large(job, text, forced, options, sink),
                Err(e) => sink(Err(e)),
            }
        }
    }
    files
}

/// Reads and parses a group of files in parallel; outcomes in the group's order. A worker
/// that panics (a parser bug) is re-raised, never taken as a file with nothing in it.
fn read_group(
    jobs: &[Job],
    stdin_text: Option<&[u8]>,
    options: &ReadOptions,
) -> Vec<Result<Read, InputError>> {
    let threads = match options.threads {
        0 => pave_stdx::available_threads(),
        n => n,
    };
    pave_stdx::par_map(jobs.iter().collect(), threads, |job| {
        read_job(job, stdin_text, options)
    })
}

/// A large YAML stream, parsed [`ReadOptions::part_bytes`] at a time at document markers (`---` at the
/// start of a line, which YAML allows nowhere inside a document), each part with the file's
/// line numbers; a part that does not parse is an error for that part only.
fn read_large(
    job: &Job,
    text: String,
    forced: Option<DocKind>,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Result<Vec<Document>, InputError>),
) {
    let mut found = 0;
    for (start, end, first_line) in parts(&text, options.part_bytes) {
        let part = text[start..end].to_owned();
        match pave_policy::load_at(&job.display, part, first_line, forced, &options.limits) {
            Ok(docs) => {
                found += docs.len();
                sink(Ok(docs));
            }
            Err(e) => sink(Err(error(&job.display, e.position(), e.to_string()))),
        }
    }
    if found == 0 && job.explicit && !is_blank(&text) {
        sink(Err(nothing_to_check(&job.display)));
    }
}

/// `(start, end, first line)` of the parts of a large YAML stream: whole documents, about
/// `part_bytes` each.
fn parts(text: &str, part_bytes: usize) -> Vec<(usize, usize, u32)> {
    let mut out = Vec::new();
    let (mut start, mut start_line) = (0, 1u32);
    let (mut offset, mut line) = (0, 1u32);
    for l in text.split_inclusive('\n') {
        let marker = l.starts_with("---")
            && matches!(
                l.as_bytes().get(3),
                None | Some(b'\n' | b'\r' | b' ' | b'\t')
            );
        if marker && offset - start >= part_bytes {
            out.push((start, offset, start_line));
            (start, start_line) = (offset, line);
        }
        offset += l.len();
        line += 1;
    }
    out.push((start, text.len(), start_line));
    out
}

fn nothing_to_check(display: &str) -> InputError {
    error(
        display,
        None,
        "nothing to check: not a Kubernetes object, Terraform plan (`terraform show -json`), Dockerfile, GitHub Actions workflow or catalog entity; use --type to say what it is, or --conftest to read it with conftest's parsers (TOML, INI, HCL, XML, …)".into(),
    )
}

fn collect_dir(
    root: &Path,
    forced: Option<DocKind>,
    jobs: &mut Vec<Job>,
    errors: &mut Vec<InputError>,
) {
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 || !e.file_type().is_dir() {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            !SKIPPED_DIRS.contains(&name.as_ref()) && (!name.starts_with('.') || name == ".github")
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e.path().map_or_else(|| display_path(root), display_path);
                errors.push(error(&at, None, format!("cannot read: {e}")));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let display = display_path(entry.path());
        if forced.is_some() || is_candidate(&display) {
            jobs.push(Job {
                display,
                path: Some(entry.into_path()),
                explicit: false,
            });
        }
    }
}

/// Files found in directories that may hold something checkable.
fn is_candidate(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with(".json")
        || pave_policy::doc::is_dockerfile_name(path)
}

/// Reports show paths as given, without a leading `./`, with forward slashes.
fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => s,
    }
}

fn error(file: &str, position: Option<pave_yaml::Position>, message: String) -> InputError {
    InputError {
        file: file.to_owned(),
        line: position.map(|p| p.line),
        column: position.map(|p| p.column),
        message,
    }
}

fn read_job(job: &Job, stdin: Option<&[u8]>, options: &ReadOptions) -> Result<Read, InputError> {
    let limit = size(options.max_file_bytes);
    let bytes = match &job.path {
        None => {
            let bytes = stdin.unwrap_or_default();
            if bytes.len() as u64 > options.max_file_bytes {
                return Err(error(
                    &job.display,
                    None,
                    format!("input is larger than the limit of {limit}"),
                ));
            }
            bytes.to_vec()
        }
        Some(path) => pave_fs::read_bounded(path, options.max_file_bytes).map_err(|e| match e {
            pave_fs::ReadError::TooLarge { size: len, .. } => error(
                &job.display,
                None,
                format!("the file is {}, more than the limit of {limit}", size(len)),
            ),
            other => error(&job.display, None, format!("cannot read: {other}")),
        })?,
    };
    // NUL bytes are left to the YAML parser, which names them (`control character U+0000`).
    let text = pave_fs::into_utf8(bytes).map_err(|e| {
        let position = e.position().map(|p| pave_yaml::Position {
            line: p.line,
            column: p.column,
        });
        error(
            &job.display,
            position,
            "not UTF-8 text (pave reads UTF-8 YAML, JSON and Dockerfiles)".into(),
        )
    })?;
    // Directory walks meet many YAML/JSON files that are not ours (values files, package.json):
    // skip those that cannot be one without parsing them.
    if !job.explicit
        && options.forced.is_none()
        && !pave_policy::doc::is_dockerfile_name(&job.display)
        && !pave_policy::doc::is_workflow_path(&job.display)
        && !text.contains("apiVersion")
        && !text.contains("format_version")
    {
        return Ok(Read::Documents(Vec::new()));
    }
    let mut forced = options.forced;
    // `cat Dockerfile | pave check -`: stdin has no name to tell by.
    if job.path.is_none() && forced.is_none() && looks_like_dockerfile(&text) {
        forced = Some(DocKind::Dockerfile);
    }
    // Directives (`%YAML`) belong to the document after them: such a stream is read whole.
    if text.len() >= options.large_file_bytes
        && forced != Some(DocKind::Dockerfile)
        && !text.contains("\n%")
    {
        return Ok(Read::Large { text, forced });
    }
    let blank = is_blank(&text);
    match pave_policy::load(&job.display, text, forced, &options.limits) {
        Ok(docs) if docs.is_empty() && job.explicit && !blank => {
            Err(nothing_to_check(&job.display))
        }
        Ok(docs) => Ok(Read::Documents(docs)),
        Err(e @ LoadError::Unknown) => Err(error(&job.display, None, e.to_string())),
        Err(e) => Err(error(&job.display, e.position(), e.to_string())),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{} MiB", b / (1024 * 1024)),
        b if b >= 1024 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// Only whitespace, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

/// The first instruction of a Dockerfile is `FROM`, `ARG` or a parser directive comment.
fn looks_like_dockerfile(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| {
            let word = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            word == "FROM" || word == "ARG"
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(paths: &[&str], stdin: &str) -> Inputs {
        let paths: Vec<String> = paths.iter().map(|s| (*s).to_owned()).collect();
        read_inputs(&paths, &mut stdin.as_bytes(), &ReadOptions::default())
    }

    #[test]
    fn walks_directories_and_skips_what_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("k8s")).unwrap();
        std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(
            root.join("k8s/pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(root.join("k8s/values.yaml"), "replicas: 2\n").unwrap();
        std::fs::write(root.join("package.json"), "{\"name\": \"x\"}").unwrap();
        std::fs::write(root.join("Dockerfile"), "FROM alpine:3.20\nUSER app\n").unwrap();
        std::fs::write(
            root.join(".github/workflows/ci.yml"),
            "on: push\njobs: {}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("node_modules/x/pod.yaml"),
            "apiVersion: v1\nkind: Pod\n",
        )
        .unwrap();
        std::fs::write(root.join(".hidden/pod.yaml"), "apiVersion: v1\nkind: Pod\n").unwrap();
        let inputs = read(&[root.to_str().unwrap()], "");
        assert!(inputs.errors.is_empty(), "{:?}", inputs.errors);
        let mut kinds: Vec<_> = inputs.documents.iter().map(|d| d.kind.as_str()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["dockerfile", "github-actions", "kubernetes"]);
    }

    #[test]
    fn bad_files_are_errors_with_positions_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("bad.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
        )
        .unwrap();
        std::fs::write(
            root.join("latin1.yaml"),
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n",
        )
        .unwrap();
        std::fs::write(
            root.join("good.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
        )
        .unwrap();
        let inputs = read(&[root.to_str().unwrap(), "/no/such/file.yaml"], "");
        assert_eq!(inputs.documents.len(), 1);
        let mut errors: Vec<String> = inputs.errors.iter().map(ToString::to_string).collect();
        errors.sort();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("/no/such/file.yaml: error: cannot read"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("bad.yaml:4:1: error: invalid YAML"),
            "{errors:?}"
        );
        assert!(
            errors[2].contains("latin1.yaml:4:12: error: not UTF-8"),
            "{errors:?}"
        );
    }

    #[test]
    fn stdin_holds_streams_and_dockerfiles() {
        let inputs = read(
            &["-"],
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n",
        );
        assert_eq!(inputs.documents.len(), 2);
        assert_eq!(&*inputs.documents[1].source.path, "-");
        let inputs = read(
            &["-"],
            "# syntax=docker/dockerfile:1\nFROM alpine\nRUN true\n",
        );
        assert_eq!(inputs.documents[0].kind, DocKind::Dockerfile);
    }

    #[test]
    fn a_named_file_must_be_checkable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("values.yaml");
        std::fs::write(&file, "replicas: 3\n").unwrap();
        let inputs = read(&[file.to_str().unwrap()], "");
        assert!(
            inputs.errors[0].message.contains("use --type"),
            "{:?}",
            inputs.errors
        );
        let empty = dir.path().join("empty.yaml");
        std::fs::write(&empty, "# nothing yet\n---\n").unwrap();
        assert!(read(&[empty.to_str().unwrap()], "").errors.is_empty());
    }

    #[test]
    fn large_streams_are_read_in_parts_with_the_files_positions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.yaml");
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers: [{{name: c, image: x}}]\n"
            ));
        }
        // A broken document in the middle: an error for its part only.
        text.push_str("---\napiVersion: v1\nkind: Pod\nmetadata: {name: [\n");
        for i in 30..40 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n"
            ));
        }
        std::fs::write(&file, &text).unwrap();
        let options = ReadOptions {
            large_file_bytes: 100,
            part_bytes: 300,
            ..ReadOptions::default()
        };
        let mut batches = 0;
        let mut docs = Vec::new();
        let mut errors = Vec::new();
        read_inputs_each(
            &[file.to_str().unwrap().to_owned()],
            &mut std::io::empty(),
            &options,
            &mut |read| match read {
                Ok(d) => {
                    batches += 1;
                    docs.extend(d);
                }
                Err(e) => errors.push(e),
            },
        );
        assert!(batches > 3, "{batches}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let broken = text
            .lines()
            .position(|l| l.starts_with("metadata: {name: ["))
            .unwrap() as u32
            + 1;
        assert!(errors[0].line >= Some(broken), "{errors:?}");
        let names: Vec<&str> = docs
            .iter()
            .filter_map(|d| d.str_at(&["metadata", "name"]))
            .collect();
        assert!(names.len() >= 30 && names.len() < 40, "{names:?}");
        assert_eq!(names.first(), Some(&"p0"));
        assert_eq!(names.last(), Some(&"p39"));
        // Positions are the file's, in every part.
        for doc in &docs {
            let name = doc.str_at(&["metadata", "name"]).unwrap();
            let line = doc
                .locate(&[pave_yaml::PathSegment::from("metadata"), "name".into()])
                .unwrap()
                .line;
            let expected = text
                .lines()
                .position(|l| l == format!("  name: {name}"))
                .unwrap() as u32
                + 1;
            assert_eq!(line, expected, "{name}");
        }
    }

    #[test]
    fn oversized_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.yaml");
        std::fs::write(&file, "apiVersion: v1\nkind: ConfigMap\n".repeat(10)).unwrap();
        let options = ReadOptions {
            max_file_bytes: 100,
            ..ReadOptions::default()
        };
        let inputs = read_inputs(
            &[file.to_string_lossy().into_owned()],
            &mut std::io::empty(),
            &options,
        );
        assert!(
            inputs.errors[0].message.contains("limit"),
            "{:?}",
            inputs.errors
        );
    }
}
