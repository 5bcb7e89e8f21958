//! The engine: runs the enabled rules (and custom policies) over documents, applies
//! exceptions and the failing threshold, and produces a [`Report`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::config::PolicyConfig;
use crate::doc::{DocKind, Document, Source};
use crate::exceptions::{Exceptions, annotated_exemptions};
use crate::report::{Checked, ExceptionRef, Finding, InputError, Report, RuleInfo, Status};
use crate::rule::{Context, DocRule, References, Rule, Severity};

fn kind_slot(kind: DocKind) -> usize {
    DocKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// A source of rules that are not built in (Rego policies): evaluated per document.
pub trait CustomPolicies: Send + Sync {
    /// Descriptions of the rules it can report.
    fn rules(&self) -> Vec<RuleInfo>;
    /// Findings for one document, or why there are none.
    fn evaluate(&self, doc: &Document) -> Result<Vec<CustomFinding>, EvaluationError>;
}

/// Why a custom policy gave no findings for a document. The variants keep apart what a
/// policy author fixes (a failed or slow policy) from what pave's maintainers fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// The policy ran past its time limit on this document.
    #[error("{0}")]
    TimedOut(String),
    /// The policy failed on this document (a runtime error in the policy: conflicting
    /// values, a builtin given the wrong type, a result that is not a message).
    #[error("{0}")]
    Failed(String),
    /// The evaluator broke (a panic in the engine, a thread that could not start): not the
    /// policy's fault.
    #[error("{0}")]
    Internal(String),
}

/// A finding from a custom policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFinding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
}

/// The order of findings in a report: by file, position, rule and message (then object and
/// status, so that the order is total and an unstable sort, which needs no buffer, gives
/// the same report every time).
fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (&a.file, a.line, a.column, &a.rule, &a.message)
        .cmp(&(&b.file, b.line, b.column, &b.rule, &b.message))
        .then_with(|| a.object.cmp(&b.object))
        .then_with(|| (a.status as u8).cmp(&(b.status as u8)))
}

/// Finding rule for exceptions past their `expires`.
pub const EXPIRED_EXCEPTION: &str = "pave-exception-expired";
/// Finding rule for `pave.dev/exempt` annotations no exception backs.
pub const UNREGISTERED_EXEMPTION: &str = "pave-exemption-unregistered";

/// A finding before its position and exception are known.
struct Pending {
    doc: usize,
    rule: Cow<'static, str>,
    title: Cow<'static, str>,
    severity: Severity,
    message: String,
    path: Vec<pave_yaml::PathSegment>,
}

/// Documents in 64 slices, for [`parallel_flat_map`].
fn doc_ranges(len: usize) -> Vec<std::ops::Range<usize>> {
    let chunk = len.div_ceil(64).max(1);
    (0..len)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(len))
        .collect()
}

/// `items.flat_map(f)` on every core (when `parallel`), in the order of `items`.
fn parallel_flat_map<T: Send, R: Send>(
    parallel: bool,
    items: Vec<T>,
    f: impl Fn(T) -> Vec<R> + Sync,
) -> Vec<R> {
    flatten(parallel_map(parallel, items, f))
}

/// One vector from parts, allocated once at its final size.
fn flatten<R>(parts: Vec<Vec<R>>) -> Vec<R> {
    let mut flat = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        flat.extend(part);
    }
    flat
}

/// `items.map(f)` on every core (when `parallel`), in the order of `items`; a panicking
/// rule is a bug and is re-raised as the panic it is ([`pave_stdx::par_map`]).
fn parallel_map<T: Send, R: Send>(
    parallel: bool,
    items: Vec<T>,
    f: impl Fn(T) -> Vec<R> + Sync,
) -> Vec<Vec<R>> {
    let threads = if parallel {
        pave_stdx::available_threads()
    } else {
        1
    };
    pave_stdx::par_map(items, threads, f)
}

/// Per-document rules with their severities, indexed by the kind of input they read.
type ByKind<'a> = Vec<Vec<(&'a DocRule, Severity)>>;

struct Enabled {
    rule: Box<dyn Rule>,
    severity: Severity,
}

/// Configured rules, exceptions and custom policies, ready to check documents.
pub struct Policy {
    enabled: Vec<Enabled>,
    config: PolicyConfig,
    exceptions: Exceptions,
    custom: Vec<Box<dyn CustomPolicies>>,
}

impl Policy {
    /// The built-in rules the configuration enables.
    pub fn new(config: PolicyConfig, exceptions: Exceptions) -> Self {
        Self::with_rules(crate::rules::builtin(), config, exceptions)
    }

    /// As [`Policy::new`], from a given rule set (for tests).
    pub fn with_rules(
        rules: Vec<Box<dyn Rule>>,
        config: PolicyConfig,
        exceptions: Exceptions,
    ) -> Self {
        let enabled = rules
            .into_iter()
            .filter_map(|rule| {
                let meta = rule.meta();
                let severity = config.effective(meta.id, meta.tier, meta.severity)?;
                Some(Enabled { rule, severity })
            })
            .collect();
        Policy {
            enabled,
            config,
            exceptions,
            custom: Vec::new(),
        }
    }

    /// Adds custom policies (Rego).
    pub fn with_custom(mut self, custom: Box<dyn CustomPolicies>) -> Self {
        self.custom.push(custom);
        self
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The severity of one of the exceptions process's own rules ([`EXPIRED_EXCEPTION`],
    /// [`UNREGISTERED_EXEMPTION`]), `None` when the configuration switches it off. They
    /// belong to every profile and are configured like any rule.
    fn process_rule(&self, id: &str) -> Option<Severity> {
        self.config
            .effective(id, crate::rule::Tier::Baseline, Severity::High)
    }

    /// Ids in the configuration that name no rule (likely typos).
    pub fn unknown_rule_ids(&self) -> Vec<String> {
        let mut known: HashSet<&str> = crate::rules::builtin_ids().collect();
        known.extend([EXPIRED_EXCEPTION, UNREGISTERED_EXEMPTION]);
        let custom: HashSet<String> = self
            .custom
            .iter()
            .flat_map(|c| c.rules())
            .map(|r| r.id)
            .collect();
        self.config
            .overrides
            .keys()
            .filter(|id| !known.contains(id.as_str()) && !custom.contains(*id))
            .cloned()
            .collect()
    }

    /// Checks `docs`. `errors` are inputs that could not be read (they go into the report);
    /// `now` is Unix seconds (for exception expiry).
    pub fn check(&self, docs: &[Document], errors: Vec<InputError>, now: i64) -> Report {
        self.run(docs, errors, now, false)
    }

    /// Checks one object seen alone (an admission request): rules that relate documents
    /// to each other are skipped, since the rest of the cluster is not in view.
    pub fn check_object(&self, doc: Document, now: i64) -> Report {
        self.run(std::slice::from_ref(&doc), Vec::new(), now, true)
    }

    /// Checks inputs as they are read, keeping each document only as far as rules that
    /// relate documents read it ([`Streaming`]): for one large file, memory holds a slimmed
    /// tree per document instead of every parsed one.
    pub fn streaming(&self, now: i64) -> Streaming<'_> {
        Streaming {
            policy: self,
            now,
            kept: Vec::new(),
            findings: Vec::new(),
            errors: Vec::new(),
            checked: Vec::new(),
        }
    }

    /// The enabled rules: per-document ones by the kind they read, and whole-input ones.
    fn rule_sets(&self, alone: bool) -> (ByKind<'_>, Vec<&Enabled>) {
        let runnable = self
            .enabled
            .iter()
            .filter(|e| !(alone && e.rule.cross_document()));
        let (per_document, whole_input): (Vec<&Enabled>, Vec<&Enabled>) =
            runnable.partition(|e| e.rule.as_doc_rule().is_some());
        // Per-document rules run document by document: one document's tree stays in cache
        // while every rule reads it (rule by rule, 10,000 trees are re-read from memory 60 times).
        let mut by_kind: Vec<Vec<(&DocRule, Severity)>> = vec![Vec::new(); DocKind::ALL.len()];
        for e in &per_document {
            if let Some(rule) = e.rule.as_doc_rule() {
                by_kind[kind_slot(rule.meta.kind)].push((rule, e.severity));
            }
        }
        (by_kind, whole_input)
    }

    fn run(&self, docs: &[Document], mut errors: Vec<InputError>, now: i64, alone: bool) -> Report {
        let ctx = Context {
            docs,
            settings: &self.config.settings,
        };
        let (by_kind, whole_input) = self.rule_sets(alone);
        // Threads pay off only for many documents (not for one admission request).
        let parallel = docs.len() >= 64;
        // Findings of whole-input rules, custom policies and exemptions come first, so the
        // per-document pass positions all of a document's findings in one walk.
        let mut pending = self.whole_input_pending(&ctx, whole_input, parallel);
        pending.extend(self.document_pending(docs, &mut errors, parallel));
        let findings = flatten(self.position(&ctx, &by_kind, pending, parallel, now));
        let checked = checked(docs);
        self.report(findings, errors, checked, now)
    }

    /// Findings of rules over the whole input, not yet positioned.
    fn whole_input_pending(
        &self,
        ctx: &Context<'_>,
        whole_input: Vec<&Enabled>,
        parallel: bool,
    ) -> Vec<Pending> {
        parallel_flat_map(parallel, whole_input, |e| {
            let mut found = Vec::new();
            e.rule.check(ctx, &mut found);
            let meta = e.rule.meta();
            found
                .into_iter()
                .map(|f| Pending {
                    doc: f.doc,
                    rule: Cow::Borrowed(meta.id),
                    title: Cow::Borrowed(meta.title),
                    severity: e.severity,
                    message: f.message,
                    path: f.path,
                })
                .collect()
        })
    }

    /// Findings of custom policies and of unbacked exemptions, not yet positioned; custom
    /// policies' failures go to `errors`.
    fn document_pending(
        &self,
        docs: &[Document],
        errors: &mut Vec<InputError>,
        parallel: bool,
    ) -> Vec<Pending> {
        let mut pending = self.custom_pending(docs, errors, parallel);
        pending.extend(self.unbacked_exemptions(docs));
        pending
    }

    /// Findings of custom policies (Rego), with the configuration's overrides applied; a
    /// document a policy could not be evaluated on is an error in `errors`.
    fn custom_pending(
        &self,
        docs: &[Document],
        errors: &mut Vec<InputError>,
        parallel: bool,
    ) -> Vec<Pending> {
        let mut pending = Vec::new();
        for custom in &self.custom {
            // Titles from the policies' METADATA; `pave-policy.yaml` may switch custom rules
            // off or change their severity (profiles do not: they choose built-in rules).
            let titles: std::collections::HashMap<String, String> = custom
                .rules()
                .into_iter()
                .map(|r| (r.id, r.title))
                .collect();
            let ranges = doc_ranges(docs.len());
            let outcomes = parallel_flat_map(parallel, ranges, |range| {
                range.map(|i| (i, custom.evaluate(&docs[i]))).collect()
            });
            for (i, outcome) in outcomes {
                let doc = &docs[i];
                match outcome {
                    Ok(found) => {
                        for f in found {
                            let o = self.config.overrides.get(&f.rule);
                            if o.and_then(|o| o.enabled) == Some(false) {
                                continue;
                            }
                            let severity = o.and_then(|o| o.severity).unwrap_or(f.severity);
                            let title = titles
                                .get(&f.rule)
                                .cloned()
                                .unwrap_or_else(|| f.rule.clone());
                            pending.push(Pending {
                                doc: i,
                                title: Cow::Owned(title),
                                rule: Cow::Owned(f.rule),
                                severity,
                                message: f.message,
                                path: Vec::new(),
                            });
                        }
                    }
                    Err(error) => errors.push(InputError {
                        file: doc.source.path.to_string(),
                        line: doc.locate(&[]).map(|p| p.line),
                        column: None,
                        message: error.to_string(),
                    }),
                }
            }
        }
        pending
    }

    /// Objects that claim exemptions must be backed by an exceptions entry: a finding per
    /// exemption that is not.
    fn unbacked_exemptions(&self, docs: &[Document]) -> Vec<Pending> {
        let mut pending = Vec::new();
        let unregistered = self.process_rule(UNREGISTERED_EXEMPTION);
        for (i, doc) in docs.iter().enumerate().filter(|_| unregistered.is_some()) {
            let exemptions = annotated_exemptions(doc);
            if exemptions.is_empty() {
                continue;
            }
            let object = doc.object();
            for rule in exemptions {
                if self
                    .exceptions
                    .find(&rule, object.as_ref(), &doc.source.path)
                    .is_none()
                {
                    let message = format!(
                        "{} names {rule}, but no entry in the exceptions file covers {}: every waiver needs an owner and an expiry",
                        crate::exceptions::EXEMPT_ANNOTATION,
                        object
                            .as_ref()
                            .map_or_else(|| doc.source.path.to_string(), ToString::to_string)
                    );
                    pending.push(Pending {
                        doc: i,
                        rule: Cow::Borrowed(UNREGISTERED_EXEMPTION),
                        title: Cow::Borrowed("Exemption without a registered exception"),
                        severity: unregistered.unwrap_or(Severity::High),
                        message,
                        path: vec![
                            "metadata".into(),
                            "annotations".into(),
                            crate::exceptions::EXEMPT_ANNOTATION.into(),
                        ],
                    });
                }
            }
        }
        pending
    }

    /// Per-document rules, then positions and exceptions, document by document: a
    /// document's findings are never held as paths for the whole input, and its tree is
    /// walked once for all of them.
    fn position(
        &self,
        ctx: &Context<'_>,
        by_kind: &[Vec<(&DocRule, Severity)>],
        mut pending: Vec<Pending>,
        parallel: bool,
        now: i64,
    ) -> Vec<Vec<Finding>> {
        let docs = ctx.docs;
        pending.sort_by_key(|p| p.doc);
        // Each range's pending findings, moved once (splitting the vector off range by range
        // copied the rest each time and kept every copy's memory: 700 MB for 200,000).
        let mut pending = pending.into_iter().peekable();
        let slices: Vec<(std::ops::Range<usize>, Vec<Pending>)> = doc_ranges(docs.len())
            .into_iter()
            .map(|range| {
                let mut here = Vec::new();
                while let Some(p) = pending.next_if(|p| p.doc < range.end) {
                    here.push(p);
                }
                (range, here)
            })
            .collect();
        parallel_map(parallel, slices, |(range, extra)| {
            let mut extra = extra.into_iter().peekable();
            let mut out = Vec::new();
            let mut here: Vec<Pending> = Vec::new();
            for i in range {
                let doc = &docs[i];
                for (rule, severity) in &by_kind[kind_slot(doc.kind)] {
                    (rule.check)(ctx, doc, &mut |path, message| {
                        here.push(Pending {
                            doc: i,
                            rule: Cow::Borrowed(rule.meta.id),
                            title: Cow::Borrowed(rule.meta.title),
                            severity: *severity,
                            message,
                            path,
                        });
                    });
                }
                while let Some(p) = extra.next_if(|p| p.doc == i) {
                    here.push(p);
                }
                if here.is_empty() {
                    continue;
                }
                let paths: Vec<&[pave_yaml::PathSegment]> =
                    here.iter().map(|p| p.path.as_slice()).collect();
                let positions = doc.locate_many(&paths);
                let object = doc.object().map(Arc::new);
                let start = out.len();
                out.extend(here.drain(..).zip(positions).map(|(mut p, position)| {
                    self.finding(doc, object.clone(), &mut p, position, now)
                }));
                out[start..].sort_by(report_order);
            }
            out
        })
    }

    /// The report: expired exceptions, order, the rules that ran.
    fn report(
        &self,
        mut findings: Vec<Finding>,
        errors: Vec<InputError>,
        checked: Vec<Checked>,
        now: i64,
    ) -> Report {
        // Expired exceptions that still match something are findings of their own.
        let mut expired_reported = HashSet::new();
        let mut expired = Vec::new();
        let expired_severity = self.process_rule(EXPIRED_EXCEPTION);
        for f in findings.iter().filter(|_| expired_severity.is_some()) {
            if f.status == Status::Excepted {
                continue;
            }
            if let Some(e) = self.exceptions.find(&f.rule, f.object.as_deref(), &f.file)
                && e.expired(now)
                && expired_reported.insert(e.id.clone())
            {
                expired.push(Finding {
                        rule: EXPIRED_EXCEPTION.into(),
                        title: "Expired exception".into(),
                        severity: expired_severity.unwrap_or(Severity::High),
                        status: if expired_severity.unwrap_or(Severity::High) >= self.config.fail_on { Status::Failed } else { Status::Warning },
                        message: format!(
                            "exception {} (owner {}) expired on {}; renew it or fix the findings it covered ({})",
                            e.id, e.owner, e.expires, f.rule
                        ),
                        file: e.file.as_str().into(),
                        line: e.position.map(|p| p.line),
                        column: e.position.map(|p| p.column),
                        object: None,
                        input: "exceptions".into(),
                        exception: None,
                    });
            }
        }
        findings.extend(expired);
        // Documents usually arrive in file order, each already sorted: then one pass checks it.
        if !findings.is_sorted_by(|a, b| report_order(a, b).is_le()) {
            findings.sort_unstable_by(report_order);
        }
        let mut rules: Vec<RuleInfo> = self
            .enabled
            .iter()
            .map(|e| RuleInfo::builtin(e.rule.meta(), e.severity))
            .collect();
        rules.extend(self.custom.iter().flat_map(|c| c.rules()));
        for (id, title) in [
            (EXPIRED_EXCEPTION, "Expired exception"),
            (
                UNREGISTERED_EXEMPTION,
                "Exemption without a registered exception",
            ),
        ] {
            let Some(severity) = self.process_rule(id) else {
                continue;
            };
            rules.push(RuleInfo {
                id: id.into(),
                title: title.into(),
                severity,
                source: "builtin",
                input: None,
                rationale: "Every waiver needs an owner, a reason and an expiry date, recorded in pave-exceptions.yaml.".into(),
                remediation: "Add or renew the entry in pave-exceptions.yaml, or fix the findings it covers.".into(),
                references: References::default(),
            });
        }
        Report {
            profile: self.config.profile.as_str().into(),
            fail_on: self.config.fail_on,
            findings,
            rules,
            errors,
            checked,
        }
    }

    fn finding(
        &self,
        doc: &Document,
        object: Option<Arc<crate::doc::ObjectRef>>,
        pending: &mut Pending,
        position: Option<pave_yaml::Position>,
        now: i64,
    ) -> Finding {
        let rule = &*pending.rule;
        let severity = pending.severity;
        let exception = self
            .exceptions
            .find(rule, object.as_deref(), &doc.source.path)
            .filter(|e| !e.expired(now));
        let status = if exception.is_some() {
            Status::Excepted
        } else if severity >= self.config.fail_on {
            Status::Failed
        } else {
            Status::Warning
        };
        Finding {
            rule: pending.rule.clone(),
            title: pending.title.clone(),
            severity,
            status,
            message: std::mem::take(&mut pending.message),
            file: Arc::clone(&doc.source.path),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            object,
            input: Cow::Borrowed(doc.kind.as_str()),
            exception: exception.map(|e| {
                Box::new(ExceptionRef {
                    id: e.id.clone(),
                    owner: e.owner.clone(),
                    reason: e.reason.clone(),
                    expires: e.expires.clone(),
                })
            }),
        }
    }
}

/// What a report lists as checked, per document.
fn checked(docs: &[Document]) -> Vec<Checked> {
    docs.iter()
        .map(|d| Checked {
            file: d.source.path.to_string(),
            input: d.kind.as_str().into(),
            object: d.object(),
        })
        .collect()
}

/// A check fed documents as they are read ([`Policy::streaming`]). Each batch's per-document
/// rules, custom policies and exemptions run when it arrives and its findings are positioned
/// then; the batch is kept only slimmed ([`Document::slim`]) for the rules that relate
/// documents, which run in [`Streaming::finish`]. The report is the one [`Policy::check`]
/// gives for the same documents.
pub struct Streaming<'p> {
    policy: &'p Policy,
    now: i64,
    kept: Vec<Document>,
    /// In parts, joined once at the end: growing one vector of 800,000 findings would copy
    /// it (and hold it twice) at every doubling.
    findings: Vec<Vec<Finding>>,
    errors: Vec<InputError>,
    checked: Vec<Checked>,
}

impl Streaming<'_> {
    /// Checks a batch of documents (a file, or a part of a large one).
    pub fn add(&mut self, mut docs: Vec<Document>) {
        let policy = self.policy;
        let ctx = Context {
            docs: &docs,
            settings: &policy.config.settings,
        };
        let (by_kind, _) = policy.rule_sets(false);
        let parallel = docs.len() >= 64;
        let pending = policy.document_pending(&docs, &mut self.errors, parallel);
        let found = policy.position(&ctx, &by_kind, pending, parallel, self.now);
        self.findings
            .extend(found.into_iter().filter(|f| !f.is_empty()));
        self.checked.extend(checked(&docs));
        // Kept documents locate through their spans: their text is no longer needed.
        let mut without_text: Vec<(Arc<Source>, Arc<Source>)> = Vec::new();
        for doc in &mut docs {
            doc.slim();
            if doc.spans.is_none() || doc.source.text.is_empty() {
                continue;
            }
            let light = match without_text
                .iter()
                .find(|(o, _)| Arc::ptr_eq(o, &doc.source))
            {
                Some((_, light)) => Arc::clone(light),
                None => {
                    let light = Arc::new(Source {
                        path: Arc::clone(&doc.source.path),
                        text: String::new(),
                    });
                    without_text.push((Arc::clone(&doc.source), Arc::clone(&light)));
                    light
                }
            };
            doc.source = light;
        }
        drop(without_text);
        self.kept.append(&mut docs);
    }

    /// An input that could not be read.
    pub fn error(&mut self, error: InputError) {
        self.errors.push(error);
    }

    /// Runs the rules that relate documents and returns the report.
    pub fn finish(self) -> Report {
        let policy = self.policy;
        let ctx = Context {
            docs: &self.kept,
            settings: &policy.config.settings,
        };
        let (_, whole_input) = policy.rule_sets(false);
        let parallel = self.kept.len() >= 64;
        let pending = policy.whole_input_pending(&ctx, whole_input, parallel);
        let no_document_rules = vec![Vec::new(); DocKind::ALL.len()];
        let mut parts = self.findings;
        parts.extend(policy.position(&ctx, &no_document_rules, pending, parallel, self.now));
        // The documents are no longer needed: free them before the findings are joined.
        drop(self.kept);
        policy.report(flatten(parts), self.errors, self.checked, self.now)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Exceptions, PolicyConfig, RuleInfo};

    /// Custom policies that find one thing per document, and panic on the document named
    /// `poison` (a bug in a policy engine).
    struct OneFindingEach {
        poison: Option<&'static str>,
    }

    impl CustomPolicies for OneFindingEach {
        fn rules(&self) -> Vec<RuleInfo> {
            Vec::new()
        }

        fn evaluate(&self, doc: &Document) -> Result<Vec<CustomFinding>, EvaluationError> {
            assert_ne!(Some(&*doc.source.path), self.poison, "injected panic");
            Ok(vec![CustomFinding {
                rule: "main.deny".into(),
                severity: Severity::High,
                message: format!("found in {}", doc.source.path),
            }])
        }
    }

    fn documents(count: usize) -> Vec<Document> {
        (0..count)
            .flat_map(|i| {
                let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n");
                crate::load(
                    &format!("c{i}.yaml"),
                    text,
                    None,
                    &pave_yaml::Limits::default(),
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_panicking_worker_is_raised_not_taken_as_a_document_without_findings() {
        // Enough documents that the engine fans out over threads.
        let docs = documents(200);
        let policy = |poison| {
            Policy::with_rules(Vec::new(), PolicyConfig::default(), Exceptions::default())
                .with_custom(Box::new(OneFindingEach { poison }))
        };
        let report = policy(None).check(&docs, Vec::new(), 0);
        assert_eq!(report.findings.len(), 200);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            policy(Some("c137.yaml")).check(&docs, Vec::new(), 0)
        }));
        let panic = caught.expect_err("the worker's panic reaches the caller");
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(message.contains("injected panic"), "{message}");
    }
}
