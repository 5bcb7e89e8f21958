//! pave's guardrails: built-in rules over Kubernetes objects, Terraform plans, Dockerfiles,
//! GitHub Actions workflows and catalog entities; profiles and configuration; exceptions
//! with expiry; and the report every output format is written from.
//!
//! No I/O: callers hand in file text and get a [`Report`] back. Rego policies plug in
//! through [`CustomPolicies`] (see the `pave-policy-rego` crate); outputs live in
//! `pave-policy-output`.

pub mod config;
pub mod doc;
pub mod dockerfile;
pub mod engine;
pub mod exceptions;
pub mod report;
pub mod rule;
pub mod rules;

pub use config::{ConfigError, PolicyConfig, Profile, RuleSettings};
pub use doc::{DocKind, Document, LoadError, ObjectRef, Source, load, load_at};
pub use engine::{
    CustomFinding, CustomPolicies, EXPIRED_EXCEPTION, EvaluationError, Policy, Streaming,
    UNREGISTERED_EXEMPTION,
};
pub use exceptions::{Exception, Exceptions};
pub use report::{Checked, Finding, InputError, Report, RuleInfo, Status, Summary};
pub use rule::{RawFinding, Rule, RuleMeta, Severity, Tier};
