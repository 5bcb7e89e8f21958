//! The rules Sloth generates for an SLO: SLI error-ratio recordings per window, metadata
//! recordings, and multiwindow, multi-burn-rate page and ticket alerts.
//!
//! Expressions are built with Sloth's exact templates and Go float formatting, so the output
//! is the same text, not just equivalent PromQL.

use std::collections::BTreeMap;

use crate::duration::Duration;
use crate::gofmt::{format_f, format_g};
use crate::spec::{AlertMeta, Sli, Slo, SloSet, SpecKind};
use crate::validate::{Severity, window_spans};
use crate::windows::{AlertWindows, Window, WindowsCatalog};
use crate::{Diagnostic, Error};

/// The window label of SLI recordings.
pub const WINDOW_LABEL: &str = "sloth_window";
/// `slo:objective:ratio`: the objective as a ratio.
pub const OBJECTIVE_RATIO: &str = "slo:objective:ratio";
/// `slo:error_budget:ratio`: 1 - objective.
pub const ERROR_BUDGET_RATIO: &str = "slo:error_budget:ratio";
/// `slo:time_period:days`: the SLO period in days.
pub const TIME_PERIOD_DAYS: &str = "slo:time_period:days";
/// `slo:current_burn_rate:ratio`: the shortest window's error ratio over the budget.
pub const CURRENT_BURN_RATE: &str = "slo:current_burn_rate:ratio";
/// `slo:period_burn_rate:ratio`: the period's error ratio over the budget.
pub const PERIOD_BURN_RATE: &str = "slo:period_burn_rate:ratio";
/// `slo:period_error_budget_remaining:ratio`: 1 - period burn rate.
pub const PERIOD_ERROR_BUDGET_REMAINING: &str = "slo:period_error_budget_remaining:ratio";
/// `sloth_slo_info`: 1, with version, mode, spec and objective labels.
pub const SLO_INFO: &str = "sloth_slo_info";

/// `slo:sli_error:ratio_rate<window>`, e.g. `slo:sli_error:ratio_rate5m`.
pub fn sli_error_metric(window: Duration) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// Every series name generated for an SLO with these windows: the SLI error ratio of each
/// recorded window (alert windows, then the period), then the metadata series.
pub fn recorded_series(windows: &AlertWindows) -> Vec<String> {
    let mut out: Vec<String> = windows
        .recorded_windows()
        .into_iter()
        .map(sli_error_metric)
        .collect();
    out.extend(
        [
            OBJECTIVE_RATIO,
            ERROR_BUDGET_RATIO,
            TIME_PERIOD_DAYS,
            CURRENT_BURN_RATE,
            PERIOD_BURN_RATE,
            PERIOD_ERROR_BUDGET_REMAINING,
            SLO_INFO,
        ]
        .map(str::to_owned),
    );
    out
}

/// What the `sloth_slo_info` series says about the generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// `sloth_version` (Sloth's own outputs say `dev` or a release).
    pub version: String,
    /// `sloth_mode`, e.g. `cli-gen-prom`.
    pub mode: String,
    /// `sloth_spec`, e.g. `prometheus/v1`.
    pub spec: String,
}

/// Generation switches (Sloth's command-line flags).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenerateOptions {
    /// Added to every recording rule; they win over spec labels.
    pub extra_labels: BTreeMap<String, String>,
    pub disable_alerts: bool,
    pub disable_recordings: bool,
    /// Record the period's error ratio from the SLI queries instead of averaging the
    /// shortest window's recording (exact, but expensive on Prometheus).
    pub disable_optimized: bool,
    /// The `sloth_version` label value.
    pub version: String,
}

/// A recording or alerting rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    Record,
    Alert,
}

/// One Prometheus rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub kind: RuleKind,
    /// The recorded series or the alert name.
    pub name: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A named group of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// The rule groups of one SLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloRules {
    pub slo_id: String,
    /// `sloth-slo-sli-recordings-<id>`.
    pub sli_recordings: RuleGroup,
    /// `sloth-slo-meta-recordings-<id>`.
    pub meta_recordings: RuleGroup,
    /// `sloth-slo-alerts-<id>`.
    pub alerts: RuleGroup,
}

impl SloRules {
    /// The groups that have rules, in Sloth's order.
    pub fn groups(&self) -> impl Iterator<Item = &RuleGroup> {
        [&self.sli_recordings, &self.meta_recordings, &self.alerts]
            .into_iter()
            .filter(|g| !g.rules.is_empty())
    }
}

/// The rules of one input document (one output document).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedDoc {
    pub kind: SpecKind,
    pub slos: Vec<SloRules>,
}

impl GeneratedDoc {
    /// Whether any group has rules.
    pub fn has_rules(&self) -> bool {
        self.slos.iter().any(|s| s.groups().next().is_some())
    }
}

/// The output of one input file.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    /// The input file's name.
    pub name: String,
    pub docs: Vec<GeneratedDoc>,
}

/// A Prometheus label filter as `LabelSet.String()` prints it: sorted, `", "`-separated,
/// values Go-quoted: `{a="1", b="2"}`.
pub fn label_filter(labels: &BTreeMap<String, String>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        pave_stdx::go_quote(&mut out, v);
    }
    out.push('}');
    out
}

/// Replaces every `{{.window}}` of `template` with `window`.
fn render_window(template: &str, window: Duration) -> String {
    let window = window.to_string();
    let mut out = String::with_capacity(template.len() + 8);
    let mut last = 0;
    for (start, end) in window_spans(template) {
        out.push_str(&template[last..start]);
        out.push_str(&window);
        last = end;
    }
    out.push_str(&template[last..]);
    out
}

fn record(name: String, expr: String, labels: BTreeMap<String, String>) -> Rule {
    Rule {
        kind: RuleKind::Record,
        name,
        expr,
        labels,
        annotations: BTreeMap::new(),
    }
}

/// The SLI error-ratio expression of `slo` over `window`, from its queries.
fn sli_expr(slo: &Slo, window: Duration) -> String {
    match &slo.sli {
        Sli::Events {
            error_query,
            total_query,
        } => render_window(&format!("({error_query})\n/\n({total_query})\n"), window),
        Sli::Raw { error_ratio_query } => render_window(&format!("({error_ratio_query})"), window),
    }
}

/// All rules of one SLO (before the disable switches).
pub fn generate_slo(
    slo: &Slo,
    windows: &AlertWindows,
    info: &Info,
    options: &GenerateOptions,
) -> SloRules {
    let mut labels = slo.labels.clone();
    labels.extend(options.extra_labels.clone());
    let id_labels = slo.id_labels();
    let filter = label_filter(&id_labels);
    let short = windows.page_quick.short;

    // SLI recordings: one per alert window, then the period.
    let mut sli_rules = Vec::new();
    for window in windows.recorded_windows() {
        let expr = if window == slo.period && !options.disable_optimized && window != short {
            let metric = sli_error_metric(short);
            format!(
                "sum_over_time({metric}{filter}[{window}])\n/ ignoring ({WINDOW_LABEL})\ncount_over_time({metric}{filter}[{window}])\n"
            )
        } else {
            sli_expr(slo, window)
        };
        let mut l = id_labels.clone();
        l.insert(WINDOW_LABEL.to_owned(), window.to_string());
        l.extend(labels.clone());
        sli_rules.push(record(sli_error_metric(window), expr, l));
    }

    // Metadata recordings.
    let mut meta_labels = id_labels.clone();
    meta_labels.extend(labels);
    let objective_ratio = format_g(slo.objective_ratio());
    let burn_rate = |metric: String| {
        format!(
            "{metric}{filter}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\n{ERROR_BUDGET_RATIO}{filter}\n"
        )
    };
    let mut info_labels = meta_labels.clone();
    info_labels.extend([
        ("sloth_version".to_owned(), info.version.clone()),
        ("sloth_mode".to_owned(), info.mode.clone()),
        ("sloth_spec".to_owned(), info.spec.clone()),
        (
            "sloth_objective".to_owned(),
            format_f(slo.objective_percent),
        ),
    ]);
    let meta_rules = vec![
        record(
            OBJECTIVE_RATIO.to_owned(),
            format!("vector({objective_ratio})"),
            meta_labels.clone(),
        ),
        record(
            ERROR_BUDGET_RATIO.to_owned(),
            format!("vector(1-{objective_ratio})"),
            meta_labels.clone(),
        ),
        record(
            TIME_PERIOD_DAYS.to_owned(),
            format!("vector({})", format_g(slo.period.hours() / 24.0)),
            meta_labels.clone(),
        ),
        record(
            CURRENT_BURN_RATE.to_owned(),
            burn_rate(sli_error_metric(short)),
            meta_labels.clone(),
        ),
        record(
            PERIOD_BURN_RATE.to_owned(),
            burn_rate(sli_error_metric(slo.period)),
            meta_labels.clone(),
        ),
        record(
            PERIOD_ERROR_BUDGET_REMAINING.to_owned(),
            format!("1 - {PERIOD_BURN_RATE}{filter}"),
            meta_labels,
        ),
        record(SLO_INFO.to_owned(), "vector(1)".to_owned(), info_labels),
    ];

    // Alerts.
    let mut alert_rules = Vec::new();
    let pairs = [
        (
            Severity::Page,
            &slo.alerting.page,
            &windows.page_quick,
            &windows.page_slow,
        ),
        (
            Severity::Ticket,
            &slo.alerting.ticket,
            &windows.ticket_quick,
            &windows.ticket_slow,
        ),
    ];
    for (severity, meta, quick, slow) in pairs {
        if let Some(meta) = meta {
            alert_rules.push(alert_rule(
                slo, windows, &filter, severity, meta, quick, slow,
            ));
        }
    }

    let group = |prefix: &str, rules: Vec<Rule>, disabled: bool| RuleGroup {
        name: format!("{prefix}{}", slo.id),
        rules: if disabled { Vec::new() } else { rules },
    };
    SloRules {
        slo_id: slo.id.clone(),
        sli_recordings: group(
            "sloth-slo-sli-recordings-",
            sli_rules,
            options.disable_recordings,
        ),
        meta_recordings: group(
            "sloth-slo-meta-recordings-",
            meta_rules,
            options.disable_recordings,
        ),
        alerts: group("sloth-slo-alerts-", alert_rules, options.disable_alerts),
    }
}

fn alert_rule(
    slo: &Slo,
    windows: &AlertWindows,
    filter: &str,
    severity: Severity,
    meta: &AlertMeta,
    quick: &Window,
    slow: &Window,
) -> Rule {
    let budget = format_g(slo.error_budget_ratio());
    let quick_factor = format_g(windows.burn_rate_factor(quick));
    let slow_factor = format_g(windows.burn_rate_factor(slow));
    let line = |window: Duration, factor: &str| {
        format!(
            "    max({}{filter} > ({factor} * {budget})) without ({WINDOW_LABEL})\n",
            sli_error_metric(window)
        )
    };
    let expr = format!(
        "(\n{}    and\n{})\nor\n(\n{}    and\n{})\n",
        line(quick.short, &quick_factor),
        line(quick.long, &quick_factor),
        line(slow.short, &slow_factor),
        line(slow.long, &slow_factor),
    );
    let s = severity.as_str();
    let mut labels = BTreeMap::from([("sloth_severity".to_owned(), s.to_owned())]);
    labels.extend(meta.labels.clone());
    let mut annotations = BTreeMap::from([
        (
            "title".to_owned(),
            format!(
                "({s}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast."
            ),
        ),
        (
            "summary".to_owned(),
            "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected."
                .to_owned(),
        ),
    ]);
    annotations.extend(meta.annotations.clone());
    Rule {
        kind: RuleKind::Alert,
        name: meta.name.clone(),
        expr,
        labels,
        annotations,
    }
}

/// Generates the rules of every SLO of `set`: one [`GeneratedFile`] per input file, one
/// [`GeneratedDoc`] per input document. Fails when an SLO's period has no alert windows
/// (with the SLO's position) or, for a Prometheus rule file, when everything is disabled.
pub fn generate(
    set: &SloSet,
    catalog: &WindowsCatalog,
    options: &GenerateOptions,
) -> Result<Vec<GeneratedFile>, Error> {
    let mut problems = Vec::new();
    let mut files = Vec::with_capacity(set.files.len());
    for file in &set.files {
        let mut docs = Vec::with_capacity(file.groups.len());
        for group in &file.groups {
            let info = Info {
                version: options.version.clone(),
                mode: group.kind.cli_mode().to_owned(),
                spec: group.kind.spec_name().to_owned(),
            };
            let mut slos = Vec::with_capacity(group.slos.len());
            for slo in &group.slos {
                match catalog.require(slo.period) {
                    Ok(windows) => slos.push(generate_slo(slo, windows, &info, options)),
                    Err(e) => problems.push(Diagnostic::new(
                        &slo.source.file,
                        Some(slo.source.position),
                        format!("SLO `{}`: {e}", slo.id),
                    )),
                }
            }
            let doc = GeneratedDoc {
                kind: group.kind.clone(),
                slos,
            };
            if !matches!(doc.kind, SpecKind::Kubernetes(_))
                && !doc.has_rules()
                && !doc.slos.is_empty()
            {
                problems.push(Diagnostic::new(
                    &file.name,
                    None,
                    "0 SLO Prometheus rules generated (alerts and recordings are all disabled)",
                ));
            }
            docs.push(doc);
        }
        files.push(GeneratedFile {
            name: file.name.clone(),
            docs,
        });
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Error::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_sorted_and_go_quoted() {
        let labels = BTreeMap::from([
            ("b".to_owned(), "x\"y".to_owned()),
            ("a".to_owned(), "1\n".to_owned()),
        ]);
        assert_eq!(label_filter(&labels), "{a=\"1\\n\", b=\"x\\\"y\"}");
    }

    #[test]
    fn window_substitution() {
        let d = Duration::parse("5m").unwrap_or_default();
        assert_eq!(
            render_window(
                "rate(a[{{.window}}]) / rate(b[{{ .window }}]) {{.other}}",
                d
            ),
            "rate(a[5m]) / rate(b[5m]) {{.other}}"
        );
    }
}
