//! SLO specs and Sloth-compatible Prometheus rule generation.
//!
//! pave reads the SLO formats Sloth reads — Sloth's `prometheus/v1` spec, its Kubernetes
//! `PrometheusServiceLevel` CRD, OpenSLO `openslo/v1alpha` as Sloth maps it — plus OpenSLO
//! `openslo/v1` (ratio SLIs, inline or by reference), validates them with Sloth's rules, and
//! generates exactly the recording and alert rules Sloth generates (multiwindow, multi-burn-rate
//! alerts from the Google SRE workbook), so dashboards and alerts built for Sloth keep working.
//!
//! Like the other core crates it does no I/O: callers pass file names and texts and get back
//! models, rules, YAML text and diagnostics with line and column.
//!
//! ```text
//! texts ──► spec::SloSet::load ──► SloSet (files → groups → Slo), Diagnostics
//!                 │  (validate: Sloth's rules, positions via pave-yaml)
//!                 ▼
//!     generate::generate(set, WindowsCatalog, options) ──► GeneratedFile (groups of rules)
//!                 ▼
//!     render::render_file ──► Prometheus rule YAML | PrometheusRule CRD YAML
//!
//!     dashboard::dashboards(set, WindowsCatalog, options) ──► Grafana dashboard JSON per service
//! ```

pub mod dashboard;
pub mod duration;
pub mod generate;
pub mod gofmt;
pub mod render;
pub mod spec;
pub mod validate;
pub mod windows;

use std::fmt;

pub use dashboard::{DashboardOptions, ServiceDashboard, dashboard, dashboard_uid, dashboards};
pub use duration::{Duration, DurationError};
pub use generate::{
    GenerateOptions, GeneratedDoc, GeneratedFile, Info, Rule, RuleGroup, RuleKind, SloRules,
    generate, generate_slo, recorded_series, sli_error_metric,
};
pub use pave_yaml::{PathSegment, Position};
pub use render::{header, render_doc, render_file};
pub use spec::{
    AlertMeta, Alerting, K8sMeta, LoadOptions, Sli, Slo, SloGroup, SloSet, Source, SpecFile,
    SpecKind,
};
pub use windows::{AlertWindows, Window, WindowsCatalog};

/// A problem in an input, with where it is: `file:line:column: error: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub position: Option<Position>,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for `file` at `position`.
    pub fn new(file: &str, position: Option<Position>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, p.line, p.column, self.message
            ),
            None => write!(f, "{}: error: {}", self.file, self.message),
        }
    }
}

/// Why rules could not be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Inputs with problems (each with file, line and column).
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    /// No alert windows for an SLO period.
    #[error(
        "no alert windows for the {period} SLO period (available: {}); load an AlertWindows catalog for it with --slo-period-windows",
        list(.available)
    )]
    UnknownPeriod {
        period: Duration,
        available: Vec<Duration>,
    },
}

fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn list(periods: &[Duration]) -> String {
    if periods.is_empty() {
        return "none".to_owned();
    }
    periods
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
