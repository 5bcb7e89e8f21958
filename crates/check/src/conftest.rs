//! `pave check --conftest`: conftest's `test` command. Files are read the way conftest reads
//! them (its parser per file, by name or `--parser`; a top-level array is one document per
//! element; a `kind: List` stays whole; an empty YAML file is one `null` document), only the
//! Rego policies run, and results are counted, printed and turned into an exit code as
//! conftest does. pave's built-in rules, exceptions file and report formats are not used:
//! this mode is for repositories whose CI runs conftest today.

use std::io::Read;
use std::path::{Path, PathBuf};

use pave_formats::Parser;
use pave_policy::InputError;
use pave_policy_rego::{ConftestRule, RegoPolicies};
use serde_json::{Map, Value, json};

/// The settings file conftest reads from the working directory.
pub const CONFIG_FILE: &str = "conftest.toml";
/// The policy folder conftest uses when no `--policy` is given.
pub const DEFAULT_POLICY_DIR: &str = "policy";

/// How files are read.
#[derive(Debug, Clone)]
pub struct ConftestRead {
    /// `--parser`: every file through this parser.
    pub parser: Option<Parser>,
    pub limits: pave_yaml::Limits,
    pub max_file_bytes: u64,
}

impl Default for ConftestRead {
    fn default() -> Self {
        ConftestRead {
            parser: None,
            limits: pave_yaml::Limits::default(),
            max_file_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One file as conftest parsed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// As given (`-` for standard input).
    pub path: String,
    pub value: Value,
}

impl Configuration {
    /// The documents conftest evaluates: each element of a top-level array, else the value.
    pub fn documents(&self) -> Vec<&Value> {
        match &self.value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        }
    }
}

/// `conftest.toml`: the keys of `conftest test`'s flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConftestConfig {
    pub policy: Vec<PathBuf>,
    pub data: Vec<PathBuf>,
    pub namespace: Vec<String>,
    pub all_namespaces: Option<bool>,
    pub parser: Option<String>,
    pub combine: Option<bool>,
    pub fail_on_warn: Option<bool>,
    pub no_fail: Option<bool>,
    pub suppress_exceptions: Option<bool>,
    pub rego_version: Option<String>,
    pub output: Option<String>,
}

/// Why `conftest.toml` could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl ConftestConfig {
    /// Reads `conftest.toml` text. Unknown keys are ignored, as viper ignores them.
    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            file: file.to_owned(),
            message,
        };
        let value = Parser::Toml.parse(text).map_err(|e| error(e.to_string()))?;
        let strings = |key: &str| -> Result<Vec<String>, ConfigError> {
            match value.get(key) {
                None => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| error(format!("`{key}` must hold strings")))
                    })
                    .collect(),
                Some(_) => Err(error(format!(
                    "`{key}` must be a string or a list of strings"
                ))),
            }
        };
        let flag = |key: &str| -> Result<Option<bool>, ConfigError> {
            match value.get(key) {
                None => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(_) => Err(error(format!("`{key}` must be true or false"))),
            }
        };
        let string = |key: &str| -> Result<Option<String>, ConfigError> {
            Ok(strings(key)?.into_iter().next())
        };
        Ok(ConftestConfig {
            policy: strings("policy")?.into_iter().map(PathBuf::from).collect(),
            data: strings("data")?.into_iter().map(PathBuf::from).collect(),
            namespace: strings("namespace")?,
            all_namespaces: flag("all-namespaces")?,
            parser: string("parser")?,
            combine: flag("combine")?,
            fail_on_warn: flag("fail-on-warn")?,
            no_fail: flag("no-fail")?,
            suppress_exceptions: flag("suppress-exceptions")?,
            rego_version: string("rego-version")?,
            output: string("output")?,
        })
    }

    /// `conftest.toml` in `dir`, when there is one.
    pub fn find(dir: &Path) -> Result<Option<Self>, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        Self::read(&path).map(Some)
    }

    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }
}

/// Reads `paths` as conftest's `test` does: `-` is standard input (YAML unless `--parser`),
/// empty names are skipped, folders are walked for every file a parser reads (hidden ones
/// included). A file that cannot be read or parsed is an error; the others are still read.
pub fn read_configurations(
    paths: &[String],
    stdin: &mut dyn Read,
    options: &ConftestRead,
) -> (Vec<Configuration>, Vec<InputError>) {
    let mut errors = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for arg in paths {
        if arg.is_empty() {
            continue;
        }
        if arg == "-" {
            files.push(arg.clone());
            continue;
        }
        let path = Path::new(arg);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                for entry in walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name()
                {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            let shown = e.path().to_string_lossy().into_owned();
                            if Parser::for_path(&shown).is_some() {
                                files.push(shown);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(error(arg, None, format!("cannot read: {e}"))),
                    }
                }
            }
            Ok(_) => files.push(arg.clone()),
            Err(e) => errors.push(error(arg, None, format!("cannot read: {e}"))),
        }
    }
    if files.is_empty() && errors.is_empty() {
        errors.push(error("-", None, "no files found".into()));
    }
    let mut configurations = Vec::with_capacity(files.len());
    for file in files {
        match read_one(&file, stdin, options) {
            Ok(value) => configurations.push(Configuration { path: file, value }),
            Err(e) => errors.push(e),
        }
    }
    (configurations, errors)
}

fn read_one(file: &str, stdin: &mut dyn Read, options: &ConftestRead) -> Result<Value, InputError> {
    let parser = match options.parser {
        Some(p) => p,
        None => Parser::for_path(file).ok_or_else(|| {
            error(
                file,
                None,
                "no parser reads this file: name a parser with --parser (conftest reads a file by its extension)".into(),
            )
        })?,
    };
    let mut bytes = Vec::new();
    if file == "-" {
        stdin
            .take(options.max_file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(file, None, format!("cannot read standard input: {e}")))?;
    } else {
        let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if len > options.max_file_bytes {
            return Err(error(
                file,
                None,
                format!(
                    "the file is larger than the limit of {} bytes",
                    options.max_file_bytes
                ),
            ));
        }
        bytes = std::fs::read(file).map_err(|e| error(file, None, format!("cannot read: {e}")))?;
    }
    if bytes.len() as u64 > options.max_file_bytes {
        return Err(error(
            file,
            None,
            format!(
                "input is larger than the limit of {} bytes",
                options.max_file_bytes
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        error(
            file,
            Some((u32::try_from(line).unwrap_or(u32::MAX), 1)),
            "not UTF-8 text".into(),
        )
    })?;
    parse_text(file, &text, parser, &options.limits)
}

/// Parses one file's text with a conftest parser.
pub fn parse_text(
    file: &str,
    text: &str,
    parser: Parser,
    limits: &pave_yaml::Limits,
) -> Result<Value, InputError> {
    match parser {
        Parser::Yaml => yaml(file, text, limits),
        Parser::Dockerfile => {
            let dockerfile = pave_policy::dockerfile::parse(text).map_err(|(line, message)| {
                error(
                    file,
                    Some((line, 1)),
                    format!("invalid Dockerfile: {message}"),
                )
            })?;
            // conftest wraps the instruction list in a list so that it is one document.
            Ok(Value::Array(vec![dockerfile.to_json()]))
        }
        // go-ignore's entries, wrapped the same way.
        Parser::Ignore => Parser::Ignore
            .parse(text)
            .map(|entries| Value::Array(vec![entries]))
            .map_err(|e| format_error(file, &e)),
        other => other.parse(text).map_err(|e| format_error(file, &e)),
    }
}

fn format_error(file: &str, e: &pave_formats::FormatError) -> InputError {
    error(file, e.position(), e.message())
}

/// conftest's YAML reading: the text is split at `\n---\n` lines; one part is that document
/// (`null` when empty), several are an array of documents.
fn yaml(file: &str, text: &str, limits: &pave_yaml::Limits) -> Result<Value, InputError> {
    let separator = if text.contains("\r\n") {
        "\r\n---\r\n"
    } else {
        "\n---\n"
    };
    let mut parts: Vec<(usize, &str)> = Vec::new();
    let mut start = 0;
    for (at, _) in text.match_indices(separator) {
        parts.push((start, &text[start..at]));
        start = at + separator.len();
    }
    parts.push((start, &text[start..]));
    // A `%YAML` directive belongs to the first document.
    if text.starts_with('%') && parts.len() > 1 {
        let (_, second) = parts.remove(1);
        let end = second.as_ptr() as usize - text.as_ptr() as usize + second.len();
        parts[0] = (0, &text[..end]);
    }
    let mut documents = Vec::with_capacity(parts.len());
    for (offset, part) in &parts {
        let lines_before = u32::try_from(text[..*offset].matches('\n').count()).unwrap_or(0);
        let docs = pave_yaml::parse_documents_as(part, limits, pave_yaml::Schema::Kubernetes)
            .map_err(|e| {
                let p = e.position();
                error(file, Some((p.line + lines_before, p.column)), e.to_string())
            })?;
        // Go's yaml.Unmarshal reads the first document of the text it is given.
        documents.push(docs.into_iter().next().map_or(Value::Null, |d| d.value));
    }
    Ok(if documents.len() == 1 {
        documents.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(documents)
    })
}

fn error(file: &str, position: Option<(u32, u32)>, message: String) -> InputError {
    InputError {
        file: file.to_owned(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        message,
    }
}

/// A failure, warning or exception as conftest reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub msg: String,
    /// `query` and the keys of an object result other than `msg`.
    pub metadata: Map<String, Value>,
}

/// conftest's `CheckResult`: one file in one namespace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckResult {
    pub file: String,
    pub namespace: String,
    pub successes: usize,
    pub failures: Vec<Message>,
    pub warnings: Vec<Message>,
    pub exceptions: Vec<Message>,
}

/// Everything `pave check --conftest` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConftestReport {
    pub results: Vec<CheckResult>,
    /// `print()` output, `file:line: text`, in evaluation order.
    pub prints: Vec<String>,
    /// Files that could not be read and evaluations that failed.
    pub errors: Vec<String>,
}

impl ConftestReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for r in &self.results {
            t.failures += r.failures.len();
            t.warnings += r.warnings.len();
            t.exceptions += r.exceptions.len();
            t.successes += r.successes;
        }
        t.tests = t.failures + t.warnings + t.exceptions + t.successes;
        t
    }

    /// conftest's exit code: 1 on failures (or errors); with `fail_on_warn`, 2 on failures
    /// and 1 on warnings; 0 with `no_fail` whatever happened, errors apart.
    pub fn exit_code(&self, fail_on_warn: bool, no_fail: bool) -> i32 {
        if !self.errors.is_empty() {
            return 1;
        }
        if no_fail {
            return 0;
        }
        let t = self.totals();
        match (fail_on_warn, t.failures > 0, t.warnings > 0) {
            (true, true, _) => 2,
            (true, false, true) | (false, true, _) => 1,
            _ => 0,
        }
    }
}

/// The summary line's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub tests: usize,
    pub successes: usize,
    pub warnings: usize,
    pub failures: usize,
    pub exceptions: usize,
}

/// Evaluates every document of every configuration (or, with `combine`, all of them as one
/// `input` of `{path, contents}` entries named `Combined`) in every selected namespace.
pub fn run(
    policies: &RegoPolicies,
    configurations: &[Configuration],
    combine: bool,
) -> ConftestReport {
    let rules = policies.conftest_rules();
    let namespaces: Vec<String> = policies
        .namespaces()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut sorted: Vec<&Configuration> = configurations.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let combined;
    let units: Vec<(String, Vec<&Value>)> = if combine {
        let entries: Vec<Value> = sorted
            .iter()
            .flat_map(|c| {
                c.documents()
                    .into_iter()
                    .map(|d| json!({"path": c.path, "contents": d}))
            })
            .collect();
        combined = Value::Array(entries);
        vec![("Combined".to_owned(), vec![&combined])]
    } else {
        sorted
            .iter()
            .map(|c| (c.path.clone(), c.documents()))
            .collect()
    };
    let mut report = ConftestReport::default();
    // results[namespace][unit]
    let mut results: Vec<Vec<CheckResult>> = namespaces
        .iter()
        .map(|ns| {
            units
                .iter()
                .map(|(file, _)| CheckResult {
                    file: file.clone(),
                    namespace: ns.clone(),
                    ..CheckResult::default()
                })
                .collect()
        })
        .collect();
    for (u, (file, documents)) in units.iter().enumerate() {
        for document in documents {
            let outcome = match policies.check(document, file) {
                Ok(o) => o,
                Err(e) => {
                    report.errors.push(e.to_string());
                    continue;
                }
            };
            report.prints.extend(outcome.prints.iter().cloned());
            for (n, ns) in namespaces.iter().enumerate() {
                add_outcome(&mut results[n][u], ns, &rules, &outcome);
            }
        }
    }
    report.results = results.into_iter().flatten().collect();
    report
}

/// One document's results in one namespace, counted as conftest's `Engine.check` does.
fn add_outcome(
    result: &mut CheckResult,
    ns: &str,
    rules: &[ConftestRule],
    outcome: &pave_policy_rego::Outcome,
) {
    let in_ns: Vec<&ConftestRule> = rules.iter().filter(|r| r.namespace == ns).collect();
    let definitions: usize = in_ns.iter().map(|r| r.definitions).sum();
    let mut failures = 0;
    let mut warnings = 0;
    let mut exceptions = 0;
    let mut passed = 0;
    for rule in &in_ns {
        let applied: usize = outcome
            .exceptions
            .iter()
            .filter(|e| e.namespace == ns && e.name == rule.name)
            .map(|e| e.count)
            .sum();
        if applied > 0 {
            let name = pave_policy_rego_exception_name(&rule.name);
            for _ in 0..applied {
                result.exceptions.push(Message {
                    msg: format!(
                        "data.{ns}.exception[_][_] == {}",
                        Value::String(name.to_owned())
                    ),
                    metadata: Map::new(),
                });
            }
            exceptions += applied;
            continue;
        }
        let found: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.namespace == ns && f.name == rule.name)
            .collect();
        if found.is_empty() {
            passed += 1;
        }
        for f in found {
            let mut metadata = f.metadata.clone();
            metadata.insert(
                "query".into(),
                Value::String(format!("data.{ns}.{}", rule.name)),
            );
            let message = Message {
                msg: f.message.clone(),
                metadata,
            };
            if rule.failure {
                failures += 1;
                result.failures.push(message);
            } else {
                warnings += 1;
                result.warnings.push(message);
            }
        }
    }
    // conftest counts at least one test per rule definition.
    let counted = failures + warnings + exceptions + passed;
    if counted < definitions {
        passed += definitions - counted;
    }
    result.successes += passed;
}

/// The name `exception` rules use for a rule (`run_as_root` for `deny_run_as_root`).
fn pave_policy_rego_exception_name(rule: &str) -> &str {
    if matches!(rule, "deny" | "violation" | "warn") {
        return "";
    }
    let rule = rule.strip_prefix("violation_").unwrap_or(rule);
    let rule = rule.strip_prefix("deny_").unwrap_or(rule);
    rule.strip_prefix("warn_").unwrap_or(rule)
}

/// conftest's `stdout` output.
pub fn render_standard(report: &ConftestReport, color: bool, suppress_exceptions: bool) -> String {
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    for p in &report.prints {
        out.push_str(&format!("{}  {p}\n", paint("PRNT ", "34")));
    }
    for r in &report.results {
        let indicator = if r.file == "-" {
            "-".to_owned()
        } else {
            format!("- {}", r.file)
        };
        let namespace = format!("- {} -", r.namespace);
        for w in &r.warnings {
            out.push_str(&format!(
                "{} {indicator} {namespace} {}\n",
                paint("WARN", "33"),
                w.msg
            ));
        }
        for f in &r.failures {
            out.push_str(&format!(
                "{} {indicator} {namespace} {}\n",
                paint("FAIL", "31"),
                f.msg
            ));
        }
        if !suppress_exceptions {
            for e in &r.exceptions {
                out.push_str(&format!(
                    "{} {indicator} {namespace} {}\n",
                    paint("EXCP", "36"),
                    e.msg
                ));
            }
        }
    }
    let t = report.totals();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let summary = format!(
        "{} test{}, {} passed, {} warning{}, {} failure{}, {} exception{}",
        t.tests,
        plural(t.tests),
        t.successes,
        t.warnings,
        plural(t.warnings),
        t.failures,
        plural(t.failures),
        t.exceptions,
        plural(t.exceptions)
    );
    let code = if t.failures > 0 {
        "31"
    } else if t.warnings > 0 {
        "33"
    } else if t.exceptions > 0 {
        "36"
    } else {
        "32"
    };
    out.push('\n');
    out.push_str(&paint(&summary, code));
    out.push('\n');
    out
}

/// conftest's `json` output: one entry per file and namespace.
pub fn render_json(report: &ConftestReport) -> String {
    let messages = |list: &[Message]| -> Option<Value> {
        (!list.is_empty()).then(|| {
            Value::Array(
                list.iter()
                    .map(|m| {
                        let mut o = Map::new();
                        o.insert("msg".into(), Value::String(m.msg.clone()));
                        if !m.metadata.is_empty() {
                            o.insert("metadata".into(), Value::Object(m.metadata.clone()));
                        }
                        Value::Object(o)
                    })
                    .collect(),
            )
        })
    };
    let entries: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert(
                "filename".into(),
                Value::String(if r.file == "-" {
                    String::new()
                } else {
                    r.file.clone()
                }),
            );
            o.insert("namespace".into(), Value::String(r.namespace.clone()));
            o.insert("successes".into(), Value::from(r.successes));
            for (key, list) in [
                ("warnings", &r.warnings),
                ("failures", &r.failures),
                ("exceptions", &r.exceptions),
            ] {
                if let Some(v) = messages(list) {
                    o.insert(key.into(), v);
                }
            }
            Value::Object(o)
        })
        .collect();
    // conftest indents with tabs (Go's json.Indent with "\t").
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    if serde::Serialize::serialize(&Value::Array(entries), &mut serializer).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn yaml_value(text: &str) -> Value {
        parse_text("f.yaml", text, Parser::Yaml, &pave_yaml::Limits::default()).unwrap()
    }

    #[test]
    fn yaml_files_read_as_conftest_reads_them() {
        // An empty file is one null document.
        assert_eq!(yaml_value(""), Value::Null);
        // sigs.k8s.io/yaml's reading (YAML 1.1): `on` is true, `0755` is octal, `<<` merges.
        assert_eq!(
            yaml_value("base: &b {privileged: on}\nc:\n  <<: *b\n  mode: 0755\n"),
            serde_json::json!({"base": {"privileged": true}, "c": {"privileged": true, "mode": 493}})
        );
        let empty = Configuration {
            path: "e.yaml".into(),
            value: yaml_value(""),
        };
        assert_eq!(empty.documents(), [&Value::Null]);
        // A top-level array is one document per element.
        let list = Configuration {
            path: "l.yaml".into(),
            value: yaml_value("- a: 1\n- a: 2\n"),
        };
        assert_eq!(list.documents().len(), 2);
        // Several documents are an array; a trailing separator adds an empty one.
        assert_eq!(
            yaml_value("a: 1\n---\nb: 2\n---\n"),
            json!([{"a": 1}, {"b": 2}, null])
        );
        // A leading separator starts the only document.
        assert_eq!(yaml_value("---\na: 1\n"), json!({"a": 1}));
        // A Kubernetes List stays whole.
        let v = yaml_value("apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n");
        assert_eq!(v["items"][0]["kind"], "Pod");
        // Errors in later documents count lines from the start of the file.
        let err = parse_text(
            "f.yaml",
            "a: 1\n---\nb: [\n",
            Parser::Yaml,
            &pave_yaml::Limits::default(),
        )
        .unwrap_err();
        assert!(err.line.unwrap() >= 3, "{err}");
    }

    #[test]
    fn dockerfiles_and_ignore_files_are_one_document() {
        let v = parse_text(
            "Dockerfile",
            "FROM alpine\nUSER app\n",
            Parser::Dockerfile,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        let c = Configuration {
            path: "Dockerfile".into(),
            value: v,
        };
        assert_eq!(c.documents().len(), 1);
        assert_eq!(c.documents()[0][0]["Cmd"], "from");
        let v = parse_text(
            ".gitignore",
            "a\nb\n",
            Parser::Ignore,
            &pave_yaml::Limits::default(),
        )
        .unwrap();
        let c = Configuration {
            path: ".gitignore".into(),
            value: v,
        };
        assert_eq!(c.documents()[0][1]["Value"], "b");
    }

    #[test]
    fn conftest_toml_keys() {
        let c = ConftestConfig::parse("conftest.toml", "policy = \"test\"\nnamespace = \"conftest\"\nfail-on-warn = true\ndata = [\"d1\", \"d2\"]\n").unwrap();
        assert_eq!(c.policy, [PathBuf::from("test")]);
        assert_eq!(c.namespace, ["conftest"]);
        assert_eq!(c.fail_on_warn, Some(true));
        assert_eq!(c.data.len(), 2);
        assert!(ConftestConfig::parse("c.toml", "policy = 1\n").is_err());
        assert!(
            ConftestConfig::parse("c.toml", "policy = [\n")
                .unwrap_err()
                .to_string()
                .contains("c.toml")
        );
    }

    fn policies(rego: &str) -> RegoPolicies {
        RegoPolicies::from_sources(
            [("p.rego".to_owned(), rego.to_owned())],
            Map::new(),
            pave_policy_rego::RegoOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn counts_follow_conftest() {
        let p = policies(
            "package main\nimport rego.v1\ndeny contains \"a\" if { input.a }\ndeny contains \"b\" if { input.b }\nwarn contains \"w\" if { input.w }\nexception contains rules if { input.x; rules := [\"run_as_root\"] }\ndeny_run_as_root contains \"root\" if { true }\n",
        );
        let configs = vec![
            Configuration {
                path: "b.json".into(),
                value: json!({"a": true, "w": true}),
            },
            Configuration {
                path: "a.json".into(),
                value: json!([{}, {"x": true}]),
            },
        ];
        let report = run(&p, &configs, false);
        // Sorted by file; a.json's two documents add up.
        assert_eq!(report.results[0].file, "a.json");
        let t = report.totals();
        // b.json: 1 failure (a), 1 warning, deny_run_as_root fails, pass for the second deny
        // definition: 4 definitions → 4 tests. a.json {}: root fails, 3 pass; {"x"}: root
        // excepted, 3 pass.
        assert_eq!((t.failures, t.warnings, t.exceptions), (3, 1, 1));
        assert_eq!(t.tests, 12, "{t:?}");
        let text = render_standard(&report, false, false);
        assert!(
            text.contains("EXCP - a.json - main - data.main.exception[_][_] == \"run_as_root\""),
            "{text}"
        );
        assert!(
            text.ends_with("\n12 tests, 7 passed, 1 warning, 3 failures, 1 exception\n"),
            "{text}"
        );
        assert_eq!(report.exit_code(false, false), 1);
        assert_eq!(report.exit_code(true, false), 2);
        assert_eq!(report.exit_code(false, true), 0);
        let rendered = render_json(&report);
        assert!(
            rendered.starts_with("[\n\t{\n\t\t\"filename\""),
            "{rendered}"
        );
        let json: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(
            json[1]["failures"][0]["metadata"]["query"],
            "data.main.deny"
        );
    }

    #[test]
    fn combine_makes_one_input() {
        let p = policies(
            "package main\nimport rego.v1\ndeny contains msg if { count(input) != 3; msg := sprintf(\"%d\", [count(input)]) }\ndeny contains p if { some e in input; p := e.path; e.contents.bad }\n",
        );
        let configs = vec![
            Configuration {
                path: "x.yaml".into(),
                value: json!([{"a": 1}, {"bad": true}]),
            },
            Configuration {
                path: "y.yaml".into(),
                value: json!({"b": 2}),
            },
        ];
        let report = run(&p, &configs, true);
        assert_eq!(report.results.len(), 1);
        assert_eq!(report.results[0].file, "Combined");
        assert_eq!(report.results[0].failures.len(), 1);
        assert_eq!(report.results[0].failures[0].msg, "x.yaml");
    }
}
