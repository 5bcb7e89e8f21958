//! From recorded series to an SLO's status, without I/O: which queries to send
//! ([`plan`]), what came back ([`Fetched`]), and the budget arithmetic ([`status_of`]).

use std::collections::HashMap;
use std::time::Duration;

use pave_prometheus::{Sample, quote, regex_escape};
use serde::Serialize;

use crate::target::{Severity, SloTarget};

/// The series Sloth records for every window: `slo:sli_error:ratio_rate<window>`.
pub const SLI_ERROR_PREFIX: &str = "slo:sli_error:ratio_rate";
/// Sloth's recorded objective (a ratio), read to spot rules that are out of date.
pub const OBJECTIVE_METRIC: &str = "slo:objective:ratio";
/// Prometheus' series of pending and firing alerts.
pub const ALERTS_METRIC: &str = "ALERTS";

/// Hint appended to every "missing series" problem.
const LOADED_HINT: &str =
    "are the rules from `pave slo generate` loaded into this Prometheus and evaluated?";

/// One query to send: `metric{sloth_id=~"a|b|…"}` for a batch of SLOs.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    pub metric: String,
    pub promql: String,
}

/// The queries that read every series `targets` need: one per metric name (each window's
/// error ratio, the objective, `ALERTS`) and per batch of SLO ids, a batch's `sloth_id`
/// regex staying under `max_selector_bytes`. Results are joined by `sloth_id` afterwards.
pub fn plan(targets: &[SloTarget], max_selector_bytes: usize) -> Vec<PlannedQuery> {
    let mut windows: Vec<(Duration, String)> =
        targets.iter().flat_map(SloTarget::windows).collect();
    windows.sort();
    windows.dedup_by(|a, b| a.1 == b.1);
    let metrics = windows
        .into_iter()
        .map(|(_, w)| format!("{SLI_ERROR_PREFIX}{w}"))
        .chain([OBJECTIVE_METRIC.to_owned(), ALERTS_METRIC.to_owned()]);

    let mut ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut batches: Vec<Vec<&str>> = Vec::new();
    let mut size = 0;
    for id in ids {
        let len = regex_escape(id).len() + 1;
        match batches.last_mut() {
            Some(batch) if size + len <= max_selector_bytes => batch.push(id),
            _ => {
                batches.push(vec![id]);
                size = 0;
            }
        }
        size += len;
    }
    let selectors: Vec<String> = batches
        .iter()
        .map(|batch| match batch.as_slice() {
            [one] => format!("{{sloth_id={}}}", quote(one)),
            many => {
                let alternatives: Vec<String> = many.iter().map(|id| regex_escape(id)).collect();
                format!("{{sloth_id=~{}}}", quote(&alternatives.join("|")))
            }
        })
        .collect();
    metrics
        .flat_map(|metric| {
            selectors.iter().map(move |s| PlannedQuery {
                promql: format!("{metric}{s}"),
                metric: metric.clone(),
            })
        })
        .collect()
}

/// A pending or firing alert of an SLO, from `ALERTS`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAlert {
    pub name: String,
    /// `sloth_severity` (`page`, `ticket`), if set.
    pub severity: Option<String>,
    /// `firing` or `pending`.
    pub state: String,
}

/// What the queries returned, by metric name and `sloth_id`.
#[derive(Debug, Default)]
pub struct Fetched {
    values: HashMap<(String, String), Vec<f64>>,
    alerts: HashMap<String, Vec<ActiveAlert>>,
}

impl Fetched {
    /// Files the samples of a query for `metric` under their `sloth_id`.
    pub fn add(&mut self, metric: &str, samples: Vec<Sample>) {
        for mut sample in samples {
            let Some(id) = sample.labels.remove("sloth_id") else {
                continue;
            };
            if metric == ALERTS_METRIC {
                let alert = ActiveAlert {
                    name: sample.labels.remove("alertname").unwrap_or_default(),
                    severity: sample.labels.remove("sloth_severity"),
                    state: sample.labels.remove("alertstate").unwrap_or_default(),
                };
                self.alerts.entry(id).or_default().push(alert);
            } else {
                self.values
                    .entry((metric.to_owned(), id))
                    .or_default()
                    .push(sample.point.value);
            }
        }
    }

    fn values(&self, metric: &str, id: &str) -> Option<&[f64]> {
        self.values
            .get(&(metric.to_owned(), id.to_owned()))
            .map(Vec::as_slice)
    }
}

/// Where an SLO stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloState {
    /// Budget left over the period.
    Ok,
    /// Budget remaining ≤ 0 over the period.
    Exhausted,
    /// The period's error ratio is NaN: no traffic, nothing to divide.
    NoData,
    /// The period's error ratio could not be read (see `errors`).
    Error,
}

/// When the budget runs out at the current burn rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exhaustion {
    /// Already spent.
    Exhausted,
    /// Spending; runs out after `time_to_exhaustion_seconds`.
    Burning,
    /// The current burn rate is zero: never at this rate.
    NotBurning,
    /// No current burn rate (no traffic in the last 5 minutes) or no budget figure.
    Unknown,
}

/// The error ratio and burn rate over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowStatus {
    pub window: String,
    /// `slo:sli_error:ratio_rate<window>`; `None` when missing or NaN (no traffic).
    pub error_ratio: Option<f64>,
    /// `error_ratio / (1 − objective)`.
    pub burn_rate: Option<f64>,
}

/// One SLO's live status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloStatus {
    pub id: String,
    pub service: String,
    pub name: String,
    pub objective_percent: f64,
    pub period: String,
    pub state: SloState,
    /// `1 − period error ratio`.
    pub sli: Option<f64>,
    pub period_error_ratio: Option<f64>,
    /// `1 − period_error_ratio / (1 − objective)`: 1 untouched, 0 spent, negative overspent.
    pub budget_remaining: Option<f64>,
    /// The 5-minute error ratio over the error budget (1 spends the budget in one period).
    pub current_burn_rate: Option<f64>,
    pub exhaustion: Exhaustion,
    /// `budget_remaining × period / current_burn_rate` while burning.
    pub time_to_exhaustion_seconds: Option<f64>,
    pub windows: Vec<WindowStatus>,
    pub alerts: Vec<ActiveAlert>,
    /// Series that could not be read, each with what to check.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl SloStatus {
    /// Alerts that are firing (not merely pending).
    pub fn firing(&self) -> impl Iterator<Item = &ActiveAlert> {
        self.alerts.iter().filter(|a| a.state == "firing")
    }

    /// A status that could not be read at all (bad target, Prometheus unavailable).
    pub fn unreadable(target: &SloTarget, error: String) -> SloStatus {
        SloStatus {
            id: target.id.clone(),
            service: target.service.clone(),
            name: target.name.clone(),
            objective_percent: target.objective_percent,
            period: target.period_window(),
            state: SloState::Error,
            sli: None,
            period_error_ratio: None,
            budget_remaining: None,
            current_burn_rate: None,
            exhaustion: Exhaustion::Unknown,
            time_to_exhaustion_seconds: None,
            windows: Vec::new(),
            alerts: Vec::new(),
            errors: vec![error],
            warnings: Vec::new(),
        }
    }
}

/// `1 − error_ratio / error_budget`; `None` without traffic (NaN) or without a budget.
pub fn budget_remaining(error_ratio: f64, error_budget: f64) -> Option<f64> {
    burn_rate(error_ratio, error_budget).map(|burn| 1.0 - burn)
}

/// `error_ratio / error_budget`; `None` without traffic (NaN, ±∞) or without a budget.
pub fn burn_rate(error_ratio: f64, error_budget: f64) -> Option<f64> {
    (error_ratio.is_finite() && error_budget > 0.0).then(|| error_ratio / error_budget)
}

/// When the remaining budget runs out at `burn_rate`: `remaining × period / burn_rate`.
pub fn time_to_exhaustion(
    remaining: Option<f64>,
    burn_rate: Option<f64>,
    period: Duration,
) -> (Exhaustion, Option<f64>) {
    match (remaining, burn_rate) {
        (Some(r), _) if r <= 0.0 => (Exhaustion::Exhausted, None),
        (Some(r), Some(b)) if b > 0.0 => (Exhaustion::Burning, Some(r * period.as_secs_f64() / b)),
        (Some(_), Some(_)) => (Exhaustion::NotBurning, None),
        _ => (Exhaustion::Unknown, None),
    }
}

fn selector(metric: &str, id: &str) -> String {
    format!("{metric}{{sloth_id={}}}", quote(id))
}

/// One value of `metric` for `id`, with problems said: a missing series is an error when
/// `required`, a warning otherwise; several series (rules loaded twice, extra labels) use the
/// worst (highest) value and warn.
fn lookup(
    fetched: &Fetched,
    metric: &str,
    id: &str,
    required: bool,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<f64> {
    let Some(values) = fetched.values(metric, id).filter(|v| !v.is_empty()) else {
        let message = format!("missing series {}: {LOADED_HINT}", selector(metric, id));
        if required {
            errors.push(message);
        } else {
            warnings.push(message);
        }
        return None;
    };
    if values.len() > 1 {
        warnings.push(format!(
            "{} series match {}; using the highest value (are the rules loaded twice?)",
            values.len(),
            selector(metric, id)
        ));
    }
    Some(
        values
            .iter()
            .copied()
            .reduce(|a, b| if b > a || a.is_nan() { b } else { a })
            .unwrap_or(f64::NAN),
    )
}

/// Joins what was fetched for `target` into its status. The period and 5-minute error
/// ratios are required (their absence is an error); other windows and the recorded
/// objective only warn.
pub fn status_of(target: &SloTarget, fetched: &Fetched) -> SloStatus {
    if let Some(problem) = target.problem() {
        return SloStatus::unreadable(target, problem);
    }
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let budget = target.error_budget();
    let period_label = target.period_window();
    let mut windows = Vec::new();
    let (mut period_ratio, mut current_ratio) = (None, None);
    for (_, window) in target.windows() {
        let metric = format!("{SLI_ERROR_PREFIX}{window}");
        let required = window == period_label || window == "5m";
        let value = lookup(
            fetched,
            &metric,
            &target.id,
            required,
            &mut errors,
            &mut warnings,
        );
        if window == period_label {
            period_ratio = value;
        }
        if window == "5m" {
            current_ratio = value;
        }
        let error_ratio = value.filter(|v| v.is_finite());
        windows.push(WindowStatus {
            burn_rate: error_ratio.and_then(|r| burn_rate(r, budget)),
            error_ratio,
            window,
        });
    }
    // The recorded objective is only a cross-check: its absence says nothing new.
    let (mut ignored_errors, mut ignored_warnings) = (Vec::new(), Vec::new());
    if let Some(recorded) = lookup(
        fetched,
        OBJECTIVE_METRIC,
        &target.id,
        false,
        &mut ignored_errors,
        &mut ignored_warnings,
    ) && (recorded - target.objective()).abs() > 1e-9
    {
        warnings.push(format!(
            "Prometheus records objective {}% for this SLO but the spec says {}%: reload the rules from `pave slo generate`",
            recorded * 100.0,
            target.objective_percent
        ));
    }

    let remaining = period_ratio.and_then(|r| budget_remaining(r, budget));
    let current_burn_rate = current_ratio.and_then(|r| burn_rate(r, budget));
    let (exhaustion, time_to_exhaustion_seconds) =
        time_to_exhaustion(remaining, current_burn_rate, target.period);
    let state = match (period_ratio, remaining) {
        (None, _) => SloState::Error,
        (Some(_), None) => SloState::NoData,
        (Some(_), Some(r)) if r <= 0.0 => SloState::Exhausted,
        (Some(_), Some(_)) => SloState::Ok,
    };
    let period_error_ratio = period_ratio.filter(|r| r.is_finite());
    let mut alerts = fetched.alerts.get(&target.id).cloned().unwrap_or_default();
    alerts.sort_by(|a, b| (&a.state, &a.severity, &a.name).cmp(&(&b.state, &b.severity, &b.name)));
    SloStatus {
        id: target.id.clone(),
        service: target.service.clone(),
        name: target.name.clone(),
        objective_percent: target.objective_percent,
        period: period_label,
        state,
        sli: period_error_ratio.map(|r| 1.0 - r),
        period_error_ratio,
        budget_remaining: remaining,
        current_burn_rate,
        exhaustion,
        time_to_exhaustion_seconds,
        windows,
        alerts,
        errors,
        warnings,
    }
}

/// Whether `severity` names Sloth's page or ticket alerts.
pub fn is_severity(alert: &ActiveAlert, severity: Severity) -> bool {
    let name = match severity {
        Severity::Page => "page",
        Severity::Ticket => "ticket",
    };
    alert.severity.as_deref() == Some(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pave_prometheus::{Labels, Point};

    const DAY: Duration = Duration::from_secs(86_400);

    fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Labels>(),
            point: Point {
                timestamp: 0.0,
                value,
            },
        }
    }

    fn target() -> SloTarget {
        SloTarget::sloth("svc", "avail", 99.9, 30 * DAY)
    }

    /// Every window of `target()` at `ratio`, the period at `period`.
    fn fetched(ratio: f64, period: f64) -> Fetched {
        let mut f = Fetched::default();
        for (_, w) in target().windows() {
            let v = if w == "30d" { period } else { ratio };
            f.add(
                &format!("{SLI_ERROR_PREFIX}{w}"),
                vec![sample(
                    &[("sloth_id", "svc-avail"), ("sloth_window", &w)],
                    v,
                )],
            );
        }
        f
    }

    #[test]
    fn plans_one_query_per_metric_and_batch() {
        let targets: Vec<SloTarget> = (0..10)
            .map(|i| SloTarget::sloth(&format!("svc{i}"), "a.b", 99.0, 30 * DAY))
            .collect();
        let queries = plan(&targets, 10_000);
        // 8 windows + objective + ALERTS, one batch.
        assert_eq!(queries.len(), 10);
        assert_eq!(queries[0].metric, "slo:sli_error:ratio_rate5m");
        assert!(
            queries[0]
                .promql
                .starts_with(r#"slo:sli_error:ratio_rate5m{sloth_id=~"svc0-a\\.b|svc1-a\\.b|"#),
            "{}",
            queries[0].promql
        );
        assert_eq!(queries[7].metric, "slo:sli_error:ratio_rate30d");
        assert_eq!(queries[9].metric, "ALERTS");

        // Small batches: every id lands in exactly one batch per metric.
        let queries = plan(&targets, 25);
        let per_metric = queries.iter().filter(|q| q.metric == "ALERTS").count();
        assert_eq!(per_metric, 5);
        let alerts: String = queries
            .iter()
            .filter(|q| q.metric == "ALERTS")
            .map(|q| q.promql.clone())
            .collect();
        for i in 0..10 {
            assert_eq!(alerts.matches(&format!("svc{i}-a")).count(), 1);
        }

        let one = plan(&targets[..1], 100);
        assert_eq!(
            one[0].promql,
            r#"slo:sli_error:ratio_rate5m{sloth_id="svc0-a.b"}"#
        );
    }

    #[test]
    fn budget_arithmetic() {
        let budget = 0.001;
        assert!((budget_remaining(0.0005, budget).unwrap() - 0.5).abs() < 1e-12);
        assert!((budget_remaining(0.002, budget).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(budget_remaining(f64::NAN, budget), None);
        assert_eq!(budget_remaining(0.1, 0.0), None);
        assert_eq!(burn_rate(f64::INFINITY, budget), None);

        let (e, t) = time_to_exhaustion(Some(0.5), Some(0.5), 30 * DAY);
        assert_eq!(e, Exhaustion::Burning);
        assert!((t.unwrap() - (30 * DAY).as_secs_f64()).abs() < 1e-6);
        assert_eq!(
            time_to_exhaustion(Some(0.5), Some(0.0), DAY),
            (Exhaustion::NotBurning, None)
        );
        assert_eq!(
            time_to_exhaustion(Some(-0.1), Some(3.0), DAY),
            (Exhaustion::Exhausted, None)
        );
        assert_eq!(
            time_to_exhaustion(Some(0.0), None, DAY),
            (Exhaustion::Exhausted, None)
        );
        assert_eq!(
            time_to_exhaustion(Some(0.5), None, DAY),
            (Exhaustion::Unknown, None)
        );
        assert_eq!(
            time_to_exhaustion(None, Some(2.0), DAY),
            (Exhaustion::Unknown, None)
        );
    }

    #[test]
    fn healthy_and_exhausted() {
        let s = status_of(&target(), &fetched(0.0005, 0.0005));
        assert_eq!(s.state, SloState::Ok);
        assert!((s.budget_remaining.unwrap() - 0.5).abs() < 1e-9);
        assert!((s.sli.unwrap() - 0.9995).abs() < 1e-12);
        assert!((s.current_burn_rate.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(s.exhaustion, Exhaustion::Burning);
        assert!((s.time_to_exhaustion_seconds.unwrap() / 86_400.0 - 30.0).abs() < 1e-6);
        assert_eq!(s.windows.len(), 8);
        assert!(s.errors.is_empty() && s.warnings.is_empty(), "{s:?}");

        let s = status_of(&target(), &fetched(0.02, 0.003));
        assert_eq!(s.state, SloState::Exhausted);
        assert!((s.budget_remaining.unwrap() + 2.0).abs() < 1e-9);
        assert!((s.current_burn_rate.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(s.exhaustion, Exhaustion::Exhausted);
    }

    #[test]
    fn no_traffic_is_no_data_not_a_division_by_zero() {
        let s = status_of(&target(), &fetched(f64::NAN, f64::NAN));
        assert_eq!(s.state, SloState::NoData);
        assert_eq!(s.budget_remaining, None);
        assert_eq!(s.sli, None);
        assert_eq!(s.current_burn_rate, None);
        assert_eq!(s.exhaustion, Exhaustion::Unknown);
        assert!(s.errors.is_empty());
        // Quiet now, traffic over the period: budget known, exhaustion unknown.
        let s = status_of(&target(), &fetched(f64::NAN, 0.0002));
        assert_eq!(s.state, SloState::Ok);
        assert_eq!(s.exhaustion, Exhaustion::Unknown);
        // No errors at all: not burning.
        let s = status_of(&target(), &fetched(0.0, 0.0));
        assert_eq!(s.exhaustion, Exhaustion::NotBurning);
        assert_eq!(s.budget_remaining, Some(1.0));
    }

    #[test]
    fn missing_series_are_named() {
        let s = status_of(&target(), &Fetched::default());
        assert_eq!(s.state, SloState::Error);
        assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
        assert!(
            s.errors[0]
                .contains(r#"missing series slo:sli_error:ratio_rate5m{sloth_id="svc-avail"}"#)
                && s.errors[0].contains("pave slo generate"),
            "{}",
            s.errors[0]
        );
        assert!(s.errors[1].contains("slo:sli_error:ratio_rate30d"));
        // Optional windows and the objective only warn.
        assert_eq!(s.warnings.len(), 6, "{:?}", s.warnings);

        // Only an alert window missing: still OK, with a warning.
        let mut f = fetched(0.0005, 0.0005);
        f.values.remove(&(
            "slo:sli_error:ratio_rate3d".to_owned(),
            "svc-avail".to_owned(),
        ));
        let s = status_of(&target(), &f);
        assert_eq!(s.state, SloState::Ok);
        assert!(s.warnings.iter().any(|w| w.contains("ratio_rate3d")));
    }

    #[test]
    fn objective_mismatch_duplicates_and_alerts() {
        let mut f = fetched(0.0005, 0.0005);
        f.add(
            OBJECTIVE_METRIC,
            vec![sample(&[("sloth_id", "svc-avail")], 0.995)],
        );
        f.add(
            "slo:sli_error:ratio_rate30d",
            vec![sample(&[("sloth_id", "svc-avail"), ("x", "y")], 0.0008)],
        );
        f.add(
            ALERTS_METRIC,
            vec![
                sample(
                    &[
                        ("sloth_id", "svc-avail"),
                        ("alertname", "High"),
                        ("alertstate", "firing"),
                        ("sloth_severity", "page"),
                    ],
                    1.0,
                ),
                sample(
                    &[
                        ("sloth_id", "svc-avail"),
                        ("alertname", "High"),
                        ("alertstate", "pending"),
                        ("sloth_severity", "ticket"),
                    ],
                    1.0,
                ),
                sample(&[("sloth_id", "other"), ("alertname", "X")], 1.0),
            ],
        );
        let s = status_of(&target(), &f);
        assert!(
            s.warnings.iter().any(|w| w.contains("objective 99.5%")),
            "{:?}",
            s.warnings
        );
        assert!(s.warnings.iter().any(|w| w.contains("2 series match")));
        // The worst of the two period values.
        assert!((s.budget_remaining.unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(s.alerts.len(), 2);
        let firing: Vec<&ActiveAlert> = s.firing().collect();
        assert_eq!(firing.len(), 1);
        assert!(is_severity(firing[0], Severity::Page));
    }

    #[test]
    fn unusable_targets_are_errors() {
        let t = SloTarget {
            objective_percent: 100.0,
            ..target()
        };
        let s = status_of(&t, &fetched(0.0, 0.0));
        assert_eq!(s.state, SloState::Error);
        assert!(s.errors[0].contains("no error budget"));
    }
}
