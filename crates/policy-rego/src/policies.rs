//! [`RegoPolicies`]: policies compiled once, evaluated per document the way `conftest test`
//! does.

use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pave_policy::rule::References;
use pave_policy::{CustomFinding, CustomPolicies, Document, EvaluationError, RuleInfo, Severity};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError, PolicyLengthConfig, Value as RegoValue};
use serde_json::{Map, Value};

use crate::error::{RegoError, diagnostic};
use crate::scan::{self, Annotation, Scan};
use crate::worker::Failure;

/// Severity of `deny`/`violation` findings: at or above the default failing threshold
/// (medium), as conftest fails on them.
pub const FAILURE_SEVERITY: Severity = Severity::High;
/// Severity of `warn` findings: reported, below the default failing threshold.
pub const WARNING_SEVERITY: Severity = Severity::Low;
/// The most numbers `numbers.range`/`numbers.range_step` may make. regorus allocates the
/// whole array up front, so `numbers.range(1, 1e12)` would abort the process; no config
/// policy needs a million numbers.
pub const RANGE_LIMIT: i128 = 1_000_000;

/// Which Rego syntax policies are written in (conftest `--rego-version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegoVersion {
    /// OPA before 1.0: `deny[msg] { … }`; `if`/`contains` need `import future.keywords` or
    /// `import rego.v1`.
    V0,
    /// OPA 1.x, conftest's default since 0.60: `deny contains msg if { … }`.
    #[default]
    V1,
}

impl FromStr for RegoVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v0" | "V0" => Ok(RegoVersion::V0),
            "v1" | "V1" => Ok(RegoVersion::V1),
            _ => Err(format!("invalid Rego version {s:?}: use v0 or v1")),
        }
    }
}

impl fmt::Display for RegoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegoVersion::V0 => "v0",
            RegoVersion::V1 => "v1",
        })
    }
}

/// How policies are selected and evaluated (conftest's `test` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegoOptions {
    /// Packages whose rules run (`--namespace`, default `main`). Matched literally, unless a
    /// pattern has `*`, `?` or `[`: then every pattern is a glob (Go `path.Match`) over the
    /// loaded packages, so `main.*` matches `main.gke`.
    pub namespaces: Vec<String>,
    /// Every loaded package (`--all-namespaces`); overrides `namespaces`.
    pub all_namespaces: bool,
    /// `--rego-version`.
    pub rego_version: RegoVersion,
    /// Wall-clock budget for all rules over one document.
    pub timeout: Duration,
    /// Built-in function errors (`contains(1, "a")`, `to_number("x")`) fail the document,
    /// like conftest's `--show-builtin-errors`. Off, they make the expression undefined,
    /// conftest's default.
    pub strict_builtin_errors: bool,
    /// OPA capabilities (`--capabilities`): when set, only these built-in functions may be
    /// called; a policy calling another is refused when it loads.
    pub allowed_builtins: Option<std::collections::BTreeSet<String>>,
}

impl Default for RegoOptions {
    fn default() -> Self {
        RegoOptions {
            namespaces: vec!["main".into()],
            all_namespaces: false,
            rego_version: RegoVersion::V1,
            timeout: Duration::from_secs(2),
            strict_builtin_errors: false,
            allowed_builtins: None,
        }
    }
}

/// A finding with everything conftest reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegoFinding {
    /// `<package>.<rule>`, e.g. `main.deny` or `main.warn_labels`.
    pub rule: String,
    pub namespace: String,
    /// The rule's name, e.g. `deny_run_as_root`.
    pub name: String,
    pub severity: Severity,
    pub message: String,
    /// For object results (`{"msg": …, "details": …}`), every key but `msg`.
    pub metadata: Map<String, Value>,
}

/// A rule whose results an `exception` rule set aside for a document.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedException {
    /// `<package>.<rule>`.
    pub rule: String,
    pub namespace: String,
    pub name: String,
    /// How many `exception` entries named the rule (conftest counts each).
    pub count: usize,
    /// The results it set aside (conftest does not show them; they may be none).
    pub findings: Vec<RegoFinding>,
}

/// The result of checking one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub findings: Vec<RegoFinding>,
    pub exceptions: Vec<AppliedException>,
    /// What `print()` wrote, in order.
    pub prints: Vec<String>,
}

#[derive(Debug, Clone)]
struct RegoRule {
    name: String,
    /// `data.main.deny`.
    query: String,
    failure: bool,
    /// The name `exception` rules use for this rule (`run_as_root` for `deny_run_as_root`).
    exception_name: String,
    /// Files that declare it, for messages.
    files: Vec<String>,
    /// How many definitions it has (conftest counts a passing "test" per definition).
    definitions: usize,
}

/// A conftest rule of a selected namespace, for conftest's counts ([`RegoPolicies::conftest_rules`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConftestRule {
    pub namespace: String,
    /// `deny`, `warn_labels`, …
    pub name: String,
    /// `deny`/`violation` (else `warn`).
    pub failure: bool,
    /// Definitions in the namespace's modules.
    pub definitions: usize,
}

#[derive(Debug, Clone)]
struct Namespace {
    name: String,
    /// `data.main`.
    path: String,
    rules: Vec<RegoRule>,
    /// Files declaring `exception`, if any do.
    exception: Option<Vec<String>>,
}

/// Rego policies, parsed and compiled once, evaluated per document like `conftest test`.
///
/// For each selected namespace and each `deny`, `violation` and `warn` rule (with optional
/// `_suffix`) declared in it, the rule is queried with the document as `input`:
///
/// - sets and arrays give one finding per string (the message) or object (its `msg` must be
///   a string; other keys are metadata); empty strings and other values pass, as they do
///   in conftest;
/// - other values (a bare `deny if { … }` boolean, a string, an object) pass;
/// - `exception` rules whose values contain the rule's name (`run_as_root` for
///   `deny_run_as_root`/`violation_run_as_root`/`warn_run_as_root`; `""` for the unsuffixed
///   rules) set all of that rule's results aside.
///
/// Evaluation is pure and `&self`: each call works on a clone of the prepared engine, so
/// documents may be checked from several threads.
pub struct RegoPolicies {
    prepared: Arc<Prepared>,
    rules: Vec<RuleInfo>,
    excepted: AtomicUsize,
}

/// What evaluation needs, shared with the evaluation threads.
struct Prepared {
    engine: Engine,
    namespaces: Vec<Namespace>,
    options: RegoOptions,
    /// A policy mentions `conftest`, so `data.conftest.file` is set per document.
    file_info: bool,
}

impl fmt::Debug for RegoPolicies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegoPolicies")
            .field("namespaces", &self.prepared.namespaces)
            .field("options", &self.prepared.options)
            .finish_non_exhaustive()
    }
}

impl RegoPolicies {
    /// Loads `.rego` files under `policy_paths` (files or directories, recursively, in
    /// name order; `*_test.rego` skipped) and the `data` document from `data_paths`, the
    /// way conftest's `--data` does (OPA's loader):
    ///
    /// - only `.json`, `.yaml` and `.yml` files are read, others skipped even when named;
    /// - a file named directly, or directly inside a named directory, is merged at the root
    ///   of `data`, so its top level must be an object: `services.yaml` holding
    ///   `services: {ports: [22]}` is `data.services.ports`;
    /// - files in subdirectories go under the subdirectories' names (not the files'):
    ///   `dir/k8s/x.yaml` holding `{a: 1}` is `data.k8s.a`;
    /// - `prefix.path:file` loads the file under `data.prefix.path`;
    /// - documents are deep-merged; two files setting the same key to anything but objects
    ///   conflict (even with equal values), which is an error;
    /// - of a multi-document YAML file only the first document is read.
    pub fn load(
        policy_paths: &[PathBuf],
        data_paths: &[PathBuf],
        options: RegoOptions,
    ) -> Result<Self, RegoError> {
        let policies = crate::load::policy_files(policy_paths)?;
        if policies.is_empty() {
            return Err(RegoError::NoPolicies {
                paths: policy_paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let data = crate::load::data(data_paths)?;
        Self::from_sources(policies, data, options)
    }

    /// From in-memory `(name, source)` policies and a `data` document.
    pub fn from_sources(
        policies: impl IntoIterator<Item = (String, String)>,
        data: Map<String, Value>,
        options: RegoOptions,
    ) -> Result<Self, RegoError> {
        // regorus is third-party code fed user input: a panic in it must not take pave down.
        catch_unwind(AssertUnwindSafe(|| build(policies, data, options))).unwrap_or_else(|_| {
            Err(RegoError::Compile(
                "the Rego engine failed on these policies (internal error)".into(),
            ))
        })
    }

    pub fn options(&self) -> &RegoOptions {
        &self.prepared.options
    }

    /// The namespaces (packages) evaluated, in order.
    pub fn namespaces(&self) -> Vec<&str> {
        self.prepared
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect()
    }

    /// Every `deny`/`violation`/`warn` rule of the selected namespaces, in order, with its
    /// number of definitions (what conftest's test counts are made of).
    pub fn conftest_rules(&self) -> Vec<ConftestRule> {
        self.prepared
            .namespaces
            .iter()
            .flat_map(|ns| {
                ns.rules.iter().map(|r| ConftestRule {
                    namespace: ns.name.clone(),
                    name: r.name.clone(),
                    failure: r.failure,
                    definitions: r.definitions,
                })
            })
            .collect()
    }

    /// How many rule results `exception` rules have set aside in [`CustomPolicies::evaluate`]
    /// calls so far (that interface has no place for them).
    pub fn excepted(&self) -> usize {
        self.excepted.load(Ordering::Relaxed)
    }

    /// Checks one document. `file` is where it came from: it names the document in errors
    /// and fills `data.conftest.file`.
    pub fn check(&self, input: &Value, file: &str) -> Result<Outcome, EvaluationError> {
        self.check_labelled(input, file, file)
    }

    /// The value of one rule (`data.pave.authz.decision`) for `input`, `None` when it is
    /// undefined: for policies that answer a question rather than list findings (the
    /// authorization policy). Runs like [`RegoPolicies::check`]: on an evaluation thread,
    /// within [`RegoOptions::timeout`] and the hard limit.
    pub fn query(&self, input: &Value, rule: &str) -> Result<Option<Value>, EvaluationError> {
        let prepared = Arc::clone(&self.prepared);
        let (input, owned_rule) = (input.clone(), rule.to_owned());
        let hard_limit = hard_limit(self.prepared.options.timeout);
        match crate::worker::run(hard_limit, move || prepared.query(&input, &owned_rule)) {
            Ok(result) => result,
            Err(Failure::Panicked) => Err(EvaluationError::Internal(format!(
                "the Rego engine failed on {rule} (internal error)"
            ))),
            Err(Failure::HardLimit) => Err(EvaluationError::TimedOut(format!(
                "{rule} did not stop within the hard limit of {hard_limit:?}; it was abandoned"
            ))),
            Err(Failure::Spawn(e)) => Err(EvaluationError::Internal(format!(
                "cannot start a Rego evaluation thread for {rule}: {e}"
            ))),
        }
    }

    /// Evaluates on an evaluation thread (see [`crate::worker`]): a panic in regorus, or an
    /// evaluation that outlives the hard limit, is an error for this document only.
    fn check_labelled(
        &self,
        input: &Value,
        file: &str,
        label: &str,
    ) -> Result<Outcome, EvaluationError> {
        let prepared = Arc::clone(&self.prepared);
        let (input, file, owned_label) = (input.clone(), file.to_owned(), label.to_owned());
        let hard_limit = hard_limit(self.prepared.options.timeout);
        match crate::worker::run(hard_limit, move || {
            prepared.run(&input, &file, &owned_label)
        }) {
            Ok(result) => result,
            Err(Failure::Panicked) => Err(EvaluationError::Internal(format!(
                "the Rego engine failed on {label} (internal error)"
            ))),
            Err(Failure::HardLimit) => Err(EvaluationError::TimedOut(format!(
                "evaluation on {label} did not stop within the hard limit of {hard_limit:?} (the time limit is {:?}); it was abandoned",
                self.prepared.options.timeout
            ))),
            Err(Failure::Spawn(e)) => Err(EvaluationError::Internal(format!(
                "cannot start a Rego evaluation thread for {label}: {e}"
            ))),
        }
    }
}

/// The wall-clock limit enforced from outside regorus, for work its timer does not see
/// (one long builtin call): twice the time limit, and at least a second more.
pub(crate) fn hard_limit(timeout: Duration) -> Duration {
    timeout + timeout.max(Duration::from_secs(1))
}

impl Prepared {
    fn query(&self, input: &Value, rule: &str) -> Result<Option<Value>, EvaluationError> {
        let mut engine = self.engine.clone();
        engine.set_input(RegoValue::from(input.clone()));
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: self.options.timeout,
            check_interval: NonZeroU32::MIN.saturating_add(15),
        });
        match engine.eval_rule(rule.to_owned()) {
            Ok(RegoValue::Undefined) => Ok(None),
            Ok(value) => serde_json::to_value(&value)
                .map(Some)
                .map_err(|e| EvaluationError::Failed(format!("{rule}: {e}"))),
            Err(e) if is_time_limit(&e) => Err(EvaluationError::TimedOut(format!(
                "{rule} exceeded the time limit of {:?}",
                self.options.timeout
            ))),
            Err(e) => Err(EvaluationError::Failed(format!(
                "{rule} failed: {}",
                diagnostic(&e)
            ))),
        }
    }

    fn run(&self, input: &Value, file: &str, label: &str) -> Result<Outcome, EvaluationError> {
        let deadline = Instant::now() + self.options.timeout;
        let mut engine = self.engine.clone();
        if self.file_info {
            // If `--data` already set `conftest.file`, that value stays.
            let _ = engine.add_data(RegoValue::from(file_info(file)));
        }
        engine.set_input(RegoValue::from(input.clone()));
        let mut outcome = Outcome::default();
        for ns in &self.namespaces {
            let exceptions = match &ns.exception {
                Some(files) => {
                    let query = format!("{}.exception", ns.path);
                    Some(self.eval(&mut engine, &query, files, deadline, label)?.1)
                }
                None => None,
            };
            for rule in &ns.rules {
                let (collection, value) =
                    self.eval(&mut engine, &rule.query, &rule.files, deadline, label)?;
                let id = format!("{}.{}", ns.name, rule.name);
                let count = exceptions
                    .as_ref()
                    .map_or(0, |e| count_exceptions(e, &rule.exception_name));
                let found = match (collection, count) {
                    (false, _) => Vec::new(),
                    (true, 0) => {
                        results(&value, &rule.query, label).map_err(EvaluationError::Failed)?
                    }
                    // conftest never reads excepted results, so a malformed one is no error.
                    (true, _) => results(&value, &rule.query, label).unwrap_or_default(),
                };
                let findings = found.into_iter().map(|(message, metadata)| RegoFinding {
                    rule: id.clone(),
                    namespace: ns.name.clone(),
                    name: rule.name.clone(),
                    severity: if rule.failure {
                        FAILURE_SEVERITY
                    } else {
                        WARNING_SEVERITY
                    },
                    message,
                    metadata,
                });
                if count > 0 {
                    outcome.exceptions.push(AppliedException {
                        rule: id.clone(),
                        namespace: ns.name.clone(),
                        name: rule.name.clone(),
                        count,
                        findings: findings.collect(),
                    });
                } else {
                    outcome.findings.extend(findings);
                }
            }
        }
        outcome.prints = engine.take_prints().unwrap_or_default();
        Ok(outcome)
    }

    /// Evaluates one rule within what is left of the document's time budget: its value as
    /// JSON, and whether it is a set or an array (the only values that can hold messages;
    /// sets become arrays in JSON).
    fn eval(
        &self,
        engine: &mut Engine,
        query: &str,
        files: &[String],
        deadline: Instant,
        label: &str,
    ) -> Result<(bool, Value), EvaluationError> {
        let timeout = || {
            EvaluationError::TimedOut(format!(
                "evaluation of {query} ({}) exceeded the time limit of {:?} on {label}",
                files.join(", "),
                self.options.timeout
            ))
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timeout());
        }
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: remaining,
            // Clock reads are cheap next to a work unit; check often so the limit holds.
            check_interval: NonZeroU32::MIN.saturating_add(15),
        });
        match engine.eval_rule(query.to_owned()) {
            Ok(value) => serde_json::to_value(&value)
                .map(|json| {
                    (
                        matches!(value, RegoValue::Set(_) | RegoValue::Array(_)),
                        json,
                    )
                })
                .map_err(|e| {
                    EvaluationError::Failed(format!("evaluation of {query} on {label}: {e}"))
                }),
            Err(e) if is_time_limit(&e) => Err(timeout()),
            Err(e) => Err(EvaluationError::Failed(format!(
                "evaluation of {query} ({}) failed on {label}: {}",
                files.join(", "),
                diagnostic(&e)
            ))),
        }
    }
}

impl CustomPolicies for RegoPolicies {
    fn rules(&self) -> Vec<RuleInfo> {
        self.rules.clone()
    }

    fn evaluate(&self, doc: &Document) -> Result<Vec<CustomFinding>, EvaluationError> {
        let label = match doc.object() {
            Some(object) => format!("{} ({object})", doc.source.path),
            None => doc.source.path.to_string(),
        };
        let outcome = self.check_labelled(&doc.value, &doc.source.path, &label)?;
        let excepted: usize = outcome.exceptions.iter().map(|e| e.count).sum();
        self.excepted.fetch_add(excepted, Ordering::Relaxed);
        Ok(outcome
            .findings
            .into_iter()
            .map(|f| CustomFinding {
                rule: f.rule,
                severity: f.severity,
                message: f.message,
            })
            .collect())
    }
}

fn is_time_limit(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<LimitError>(),
            Some(LimitError::TimeLimitExceeded { .. })
        )
    }) || e.to_string().contains("exceeded time limit")
}

/// `data.conftest.file`: the document's file name and the absolute directory it is in,
/// cleaned as Go's `filepath.Dir(filepath.Abs(file))` cleans it (no `.` or `..` parts).
fn file_info(file: &str) -> Value {
    let path = std::path::Path::new(file);
    let dir = std::path::absolute(path)
        .ok()
        .map(|p| clean(&p))
        .and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name = path
        .file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned());
    serde_json::json!({"conftest": {"file": {"name": name, "dir": dir}}})
}

/// A path without `.` and `..` parts, resolved lexically as Go's `filepath.Clean` does
/// (`..` at the root stays at the root).
fn clean(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push(part);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// How many `(entry, element)` pairs of `exception[_][_]` equal `name`, as conftest's query
/// `data.<ns>.exception[_][_] == "<name>"` counts them.
fn count_exceptions(exceptions: &Value, name: &str) -> usize {
    let items = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(a) => a.clone(),
            Value::Object(o) => o.values().cloned().collect(),
            _ => Vec::new(),
        }
    };
    items(exceptions)
        .iter()
        .flat_map(items)
        .filter(|v| v.as_str() == Some(name))
        .count()
}

/// A failing result: its message and metadata.
type Message = (String, Map<String, Value>);

/// conftest's reading of a rule's value: each failing result.
fn results(value: &Value, query: &str, label: &str) -> Result<Vec<Message>, String> {
    let Value::Array(items) = value else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(msg) if !msg.is_empty() => out.push((msg.clone(), Map::new())),
            Value::Object(object) => {
                let Some(msg) = object.get("msg").and_then(Value::as_str) else {
                    return Err(format!(
                        "{query} returned an object without a string \"msg\" field on {label}: {item}"
                    ));
                };
                if msg.is_empty() {
                    continue;
                }
                let mut metadata = object.clone();
                metadata.remove("msg");
                out.push((msg.to_owned(), metadata));
            }
            // Numbers, booleans, empty messages: conftest counts these as passes.
            _ => {}
        }
    }
    Ok(out)
}

struct Loaded {
    name: String,
    scan: Scan,
}

fn build(
    policies: impl IntoIterator<Item = (String, String)>,
    data: Map<String, Value>,
    options: RegoOptions,
) -> Result<RegoPolicies, RegoError> {
    let mut engine = new_engine(options.rego_version);
    engine.set_strict_builtin_errors(options.strict_builtin_errors);
    engine.set_gather_prints(true);
    add_range_limits(&mut engine, options.strict_builtin_errors)?;

    let mut loaded: Vec<Loaded> = Vec::new();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut uses_go_quote = false;
    for (name, text) in policies {
        uses_go_quote |= text.contains("%q");
        if loaded.iter().any(|l| l.name == name) {
            return Err(RegoError::DuplicatePolicy(name));
        }
        let scan = scan::scan(&text);
        if let Err(e) = engine.add_policy(name.clone(), text.clone()) {
            return Err(syntax_error(&name, &text, &e, options.rego_version));
        }
        // regorus reads these as identifiers (with a warning on stderr) where OPA's v0
        // parser stops: the rule would be silently wrong.
        if options.rego_version == RegoVersion::V0
            && let Some((keyword, line)) = scan.unimported_keyword()
        {
            return Err(RegoError::Syntax {
                location: format!("{name}:{line}"),
                message: format!(
                    "`{keyword}` is a keyword in Rego v0 only after `import future.keywords.{keyword}` or `import rego.v1`"
                ),
                hint: other_version_hint(&name, &text, RegoVersion::V1),
            });
        }
        if options.rego_version == RegoVersion::V1
            && let Some((rule, line)) = scan.bracket_if.first()
        {
            return Err(RegoError::IfWithoutContains {
                file: name,
                line: *line,
                rule: rule.clone(),
            });
        }
        sources.push((name.clone(), text));
        loaded.push(Loaded { name, scan });
    }
    if loaded.is_empty() {
        return Err(RegoError::NoPolicies {
            paths: "the given sources".into(),
        });
    }
    if !data.is_empty() {
        engine
            .add_data(RegoValue::from(Value::Object(data)))
            .map_err(|e| RegoError::Compile(format!("data: {}", diagnostic(&e))))?;
    }
    // OPA refuses recursion when it compiles; regorus would overflow its stack on it.
    crate::recursion::check(&sources, options.rego_version)?;
    if uses_go_quote {
        crate::sprintf::register(&mut engine).map_err(|e| RegoError::Compile(e.to_string()))?;
    }
    // OPA's compiler refuses calls to functions that exist nowhere when policies load;
    // regorus would fail only when an evaluation reaches the call.
    crate::builtins::register(&mut engine).map_err(|e| RegoError::Compile(e.to_string()))?;
    let mut extensions = vec!["numbers.range", "numbers.range_step"];
    extensions.extend_from_slice(crate::builtins::NAMES);
    let facts = crate::modules::facts(&mut engine, &extensions, options.allowed_builtins.as_ref());
    if !facts.unknown_calls.is_empty() {
        return Err(RegoError::Compile(facts.unknown_calls.join("\n")));
    }
    // Analyse and schedule the policies now, once: clones share the prepared state, and
    // compile errors (unsafe variables, …) surface at load, as in conftest.
    engine
        .eval_query("true".into(), false)
        .map_err(|e| RegoError::Compile(diagnostic(&e).to_string()))?;

    let available = discover(&engine, &loaded, &facts.definitions)?;
    let selected = select(&available, &options)?;
    let rules = rule_infos(&selected, &loaded);
    let file_info = loaded.iter().any(|l| l.scan.mentions_conftest);
    Ok(RegoPolicies {
        prepared: Arc::new(Prepared {
            engine,
            namespaces: selected,
            options,
            file_info,
        }),
        rules,
        excepted: AtomicUsize::new(0),
    })
}

fn new_engine(version: RegoVersion) -> Engine {
    let mut engine = Engine::new();
    engine.set_rego_v0(version == RegoVersion::V0);
    // regorus's defaults (1 MiB, 20,000 lines of at most 1,024 columns) guard services
    // that take policies from strangers; these are the repository's own, and OPA reads a
    // long deny-list on one line.
    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(1 << 20).unwrap_or(NonZeroU32::MAX),
        max_file_bytes: NonZeroUsize::new(64 << 20).unwrap_or(NonZeroUsize::MAX),
        max_lines: NonZeroUsize::new(1 << 20).unwrap_or(NonZeroUsize::MAX),
    });
    engine
}

/// A syntax error, with a hint when the other Rego version reads the policy.
fn syntax_error(name: &str, text: &str, e: &anyhow::Error, version: RegoVersion) -> RegoError {
    let d = diagnostic(e);
    let other = match version {
        RegoVersion::V0 => RegoVersion::V1,
        RegoVersion::V1 => RegoVersion::V0,
    };
    RegoError::Syntax {
        location: d.location.unwrap_or_else(|| name.to_owned()),
        message: d.message,
        hint: other_version_hint(name, text, other),
    }
}

/// A hint when the policy parses as `other`.
fn other_version_hint(name: &str, text: &str, other: RegoVersion) -> Option<String> {
    new_engine(other)
        .add_policy(name.to_owned(), text.to_owned())
        .is_ok()
        .then(|| match other {
            RegoVersion::V0 => "this is Rego v0 syntax: rewrite it for Rego v1 (`deny contains msg if { … }`, e.g. with `opa fmt --v0-v1`) or read it with --rego-version v0".to_owned(),
            RegoVersion::V1 => "this is Rego v1 syntax: read it with --rego-version v1".to_owned(),
        })
}

/// `numbers.range` and `numbers.range_step` that refuse to make more than [`RANGE_LIMIT`]
/// numbers (extensions take precedence over regorus's builtins).
fn add_range_limits(engine: &mut Engine, strict: bool) -> Result<(), RegoError> {
    let range = move |params: Vec<RegoValue>| make_range(&params, strict, "numbers.range");
    let range_step =
        move |params: Vec<RegoValue>| make_range(&params, strict, "numbers.range_step");
    engine
        .add_extension("numbers.range".into(), 2, Box::new(range))
        .and_then(|()| engine.add_extension("numbers.range_step".into(), 3, Box::new(range_step)))
        .map_err(|e| RegoError::Compile(e.to_string()))
}

fn make_range(params: &[RegoValue], strict: bool, name: &str) -> anyhow::Result<RegoValue> {
    let mut ints = Vec::with_capacity(params.len());
    for (i, p) in params.iter().enumerate() {
        let n = p
            .as_number()
            .map_err(|_| anyhow::anyhow!("{name}: operand {} must be a number", i + 1))?;
        match p.as_i128() {
            Ok(v) if n.is_integer() => ints.push(v),
            _ if n.is_integer() => anyhow::bail!("{name}: operand {} is too large", i + 1),
            _ if strict => anyhow::bail!("{name}: operand {} must be an integer", i + 1),
            _ => return Ok(RegoValue::Undefined),
        }
    }
    let (from, to) = match ints[..] {
        [from, to, ..] => (from, to),
        _ => anyhow::bail!("{name}: expected {} operands", params.len()),
    };
    let step = match ints.get(2) {
        Some(&step) if step <= 0 => anyhow::bail!("{name}: step must be a positive integer"),
        Some(&step) => step,
        None => 1,
    };
    let count = (to - from).abs() / step + 1;
    if count > RANGE_LIMIT {
        anyhow::bail!(
            "{name}({from}, {to}) would make {count} numbers; pave allows at most {RANGE_LIMIT}"
        );
    }
    let step = if to < from { -step } else { step };
    let mut values = Vec::new();
    let mut v = from;
    while (step > 0 && v <= to) || (step < 0 && v >= to) {
        values.push(RegoValue::from(i64::try_from(v)?));
        v += step;
    }
    Ok(RegoValue::from(values))
}

/// Every package in load order, with the conftest rules declared in it.
fn discover(
    engine: &Engine,
    loaded: &[Loaded],
    definitions: &crate::modules::Definitions,
) -> Result<Vec<Namespace>, RegoError> {
    // One entry per module, in the same order: its package path and its file.
    let packages = engine
        .get_packages()
        .map_err(|e| RegoError::Compile(diagnostic(&e).to_string()))?;
    let sources = engine
        .get_policies()
        .map_err(|e| RegoError::Compile(diagnostic(&e).to_string()))?;
    let mut namespaces: Vec<Namespace> = Vec::new();
    for (path, source) in packages.into_iter().zip(sources) {
        let Some(module) = loaded.iter().find(|l| l.name == source.get_path().as_str()) else {
            continue;
        };
        let name = path.strip_prefix("data.").unwrap_or(&path).to_owned();
        let index = match namespaces.iter().position(|n| n.name == name) {
            Some(i) => i,
            None => {
                namespaces.push(Namespace {
                    path: path.clone(),
                    name,
                    rules: Vec::new(),
                    exception: None,
                });
                namespaces.len() - 1
            }
        };
        let ns = &mut namespaces[index];
        // The scanner finds rule heads: identifiers at the top level of the module, outside
        // strings, comments and bodies. (regorus 0.11 does not expose its parsed rules.)
        for candidate in &module.scan.candidates {
            if candidate == "exception" {
                ns.exception
                    .get_or_insert_with(Vec::new)
                    .push(module.name.clone());
                continue;
            }
            match ns.rules.iter_mut().find(|r| &r.name == candidate) {
                Some(rule) => rule.files.push(module.name.clone()),
                None => ns.rules.push(RegoRule {
                    definitions: definitions
                        .get(&(ns.name.clone(), candidate.clone()))
                        .copied()
                        .unwrap_or(1),
                    query: format!("{}.{candidate}", ns.path),
                    failure: scan::is_failure(candidate),
                    exception_name: scan::exception_name(candidate).to_owned(),
                    files: vec![module.name.clone()],
                    name: candidate.clone(),
                }),
            }
        }
    }
    Ok(namespaces)
}

/// `data.a.b`, with bracket notation for components that are not identifiers.
fn rule_path(components: &[String]) -> String {
    let mut path = String::from("data");
    for c in components {
        let ident = c
            .chars()
            .next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if ident {
            path.push('.');
            path.push_str(c);
        } else {
            path.push('[');
            path.push_str(&Value::String(c.clone()).to_string());
            path.push(']');
        }
    }
    path
}

/// The namespaces to evaluate, per `--namespace`/`--all-namespaces`.
fn select(available: &[Namespace], options: &RegoOptions) -> Result<Vec<Namespace>, RegoError> {
    if options.all_namespaces {
        return Ok(available.to_vec());
    }
    if options
        .namespaces
        .iter()
        .any(|p| crate::glob::has_wildcard(p))
    {
        let mut out = Vec::new();
        for ns in available {
            for pattern in &options.namespaces {
                let matched = crate::glob::matches(pattern, &ns.name).map_err(|message| {
                    RegoError::NamespacePattern {
                        pattern: pattern.clone(),
                        message,
                    }
                })?;
                if matched {
                    out.push(ns.clone());
                    break;
                }
            }
        }
        return Ok(out);
    }
    // Literal names, in the order given; a namespace no policy declares checks nothing.
    let mut out: Vec<Namespace> = Vec::new();
    for name in &options.namespaces {
        if out.iter().any(|n| &n.name == name) {
            continue;
        }
        out.push(match available.iter().find(|n| &n.name == name) {
            Some(ns) => ns.clone(),
            None => Namespace {
                name: name.clone(),
                path: rule_path(&name.split('.').map(str::to_owned).collect::<Vec<_>>()),
                rules: Vec::new(),
                exception: None,
            },
        });
    }
    Ok(out)
}

fn rule_infos(namespaces: &[Namespace], loaded: &[Loaded]) -> Vec<RuleInfo> {
    let mut out = Vec::new();
    for ns in namespaces {
        for rule in &ns.rules {
            let annotation: Annotation = rule
                .files
                .iter()
                .filter_map(|f| loaded.iter().find(|l| &l.name == f))
                .find_map(|l| l.scan.annotations.get(&rule.name).cloned())
                .unwrap_or_default();
            out.push(RuleInfo {
                id: format!("{}.{}", ns.name, rule.name),
                title: annotation.title.unwrap_or_else(|| rule.name.clone()),
                severity: if rule.failure {
                    FAILURE_SEVERITY
                } else {
                    WARNING_SEVERITY
                },
                source: "rego",
                input: None,
                rationale: annotation.description.unwrap_or_else(|| {
                    format!(
                        "Rego rule {} in package {} ({})",
                        rule.name,
                        ns.name,
                        rule.files.join(", ")
                    )
                }),
                remediation: annotation.remediation.unwrap_or_default(),
                references: References::default(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conftest_file_dir_is_clean() {
        for (file, dir) in [
            ("/a/b/../c/./d.yaml", "/a/c"),
            ("/a//b/x.yaml", "/a/b"),
            ("/../x.yaml", "/"),
        ] {
            assert_eq!(file_info(file)["conftest"]["file"]["dir"], dir, "{file}");
        }
        let relative = file_info("k8s/../deploy/./app.yaml");
        let dir = relative["conftest"]["file"]["dir"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(dir.ends_with("/deploy") && !dir.contains(".."), "{dir}");
        assert_eq!(relative["conftest"]["file"]["name"], "app.yaml");
    }
}
