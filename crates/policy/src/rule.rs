//! Rules: what a rule declares about itself, and how it reports.

use std::fmt;

use pave_yaml::PathSegment;
use serde::{Deserialize, Serialize};

use crate::doc::{DocKind, Document};

/// How serious a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "note" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" | "moderate" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The same check in other tools, for readers who know those.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct References {
    /// Pod Security Standards control (the pod-security-admission check ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pss: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polaris: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_linter: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_score: Option<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub checkov: &'static [&'static str],
}

/// Which built-in profile a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Pod Security Standards, baseline level (also in `restricted` and `recommended`).
    Baseline,
    /// Pod Security Standards, restricted level (also in `recommended`).
    Restricted,
    /// Everything else built in: best practices and the other input kinds.
    Recommended,
}

/// What a rule is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleMeta {
    /// Stable, e.g. `pss-privileged`, `k8s-cpu-requests`, `docker-root-user`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub kind: DocKind,
    pub tier: Tier,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
    pub references: References,
}

impl Serialize for DocKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A problem a rule found: which document, where inside it, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFinding {
    pub rule: &'static str,
    /// Index into [`Context::docs`].
    pub doc: usize,
    /// Path inside the document, for the position.
    pub path: Vec<PathSegment>,
    pub message: String,
}

/// What rules see: every document being checked (rules may relate objects, e.g. a Service
/// to the Pods it selects) and the settings that parameterise rules.
pub struct Context<'a> {
    pub docs: &'a [Document],
    pub settings: &'a crate::config::RuleSettings,
}

impl Context<'_> {
    /// Indexes of the documents of `kind`.
    pub fn of_kind(&self, kind: DocKind) -> impl Iterator<Item = (usize, &Document)> {
        self.docs
            .iter()
            .enumerate()
            .filter(move |(_, d)| d.kind == kind)
    }
}

/// A check. Rules are data-driven where they can be; the trait is the seam.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &RuleMeta;
    /// Appends findings for every document this rule applies to.
    fn check(&self, ctx: &Context<'_>, out: &mut Vec<RawFinding>);

    /// Whether the rule relates documents to each other (a Service to the Pods it selects).
    /// Such rules are skipped where one object is seen alone (the admission webhook), since
    /// the rest of the cluster is not in view there.
    fn cross_document(&self) -> bool {
        false
    }

    /// The rule as a per-document function, when it is one: the engine then runs every such
    /// rule on a document before moving to the next, while the document is in cache.
    fn as_doc_rule(&self) -> Option<&DocRule> {
        None
    }
}

/// Builds a path from keys and indexes: `path!["spec", "containers", 0, "image"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::rule::Seg::from($seg).0),*]
    };
}

/// Helper for [`path!`].
pub struct Seg(pub PathSegment);

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg(PathSegment::Key(s.to_owned()))
    }
}

impl From<String> for Seg {
    fn from(s: String) -> Self {
        Seg(PathSegment::Key(s))
    }
}

impl From<&String> for Seg {
    fn from(s: &String) -> Self {
        Seg(PathSegment::Key(s.clone()))
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg(PathSegment::Index(i))
    }
}

impl From<PathSegment> for Seg {
    fn from(p: PathSegment) -> Self {
        Seg(p)
    }
}

/// A rule made of a [`RuleMeta`] and a function over each document of its kind: most rules.
pub struct DocRule {
    pub meta: RuleMeta,
    #[allow(clippy::type_complexity)]
    pub check: fn(&Context<'_>, &Document, &mut dyn FnMut(Vec<PathSegment>, String)),
}

impl Rule for DocRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn as_doc_rule(&self) -> Option<&DocRule> {
        Some(self)
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<RawFinding>) {
        for (i, doc) in ctx.of_kind(self.meta.kind) {
            (self.check)(ctx, doc, &mut |path, message| {
                out.push(RawFinding {
                    rule: self.meta.id,
                    doc: i,
                    path,
                    message,
                });
            });
        }
    }
}
