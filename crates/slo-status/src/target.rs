//! What to look up: an SLO as Sloth names it in Prometheus, with its objective, period and
//! alert windows. Plain data, so any spec parser can produce it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{format_prometheus, serde_prometheus};

/// Who gets told when an alert window pair burns: Sloth's `sloth_severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Page,
    Ticket,
}

/// One multi-window burn-rate alert condition: both `short` and `long` error ratios above
/// `burn_rate_factor × error budget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertWindow {
    pub severity: Severity,
    #[serde(with = "serde_prometheus")]
    pub short: Duration,
    #[serde(with = "serde_prometheus")]
    pub long: Duration,
    pub burn_rate_factor: f64,
}

impl AlertWindow {
    /// Sloth's default windows (Google's SRE workbook): page 5m/1h (2% of the budget) and
    /// 30m/6h (5%), ticket 2h/1d (10%) and 6h/3d (10%), with Sloth's factor
    /// `budget% × period hours / 100 / long window hours` (14.4, 6, 3, 1 for 30 days).
    pub fn sloth_defaults(period: Duration) -> Vec<AlertWindow> {
        let period_hours = period.as_secs_f64() / 3600.0;
        let window = |severity, budget_percent: f64, short_m: u64, long_h: u64| AlertWindow {
            severity,
            short: Duration::from_secs(short_m * 60),
            long: Duration::from_secs(long_h * 3600),
            burn_rate_factor: budget_percent * period_hours / 100.0 / long_h as f64,
        };
        vec![
            window(Severity::Page, 2.0, 5, 1),
            window(Severity::Page, 5.0, 30, 6),
            window(Severity::Ticket, 10.0, 120, 24),
            window(Severity::Ticket, 10.0, 360, 72),
        ]
    }
}

/// An SLO to read from Prometheus, identified as Sloth's rules label it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloTarget {
    /// `sloth_id`, e.g. `myservice-requests-availability`.
    pub id: String,
    /// `sloth_service`.
    pub service: String,
    /// `sloth_slo`.
    pub name: String,
    /// The objective in percent, e.g. `99.9`.
    pub objective_percent: f64,
    /// The SLO period (rolling window), e.g. 30 days; written `30d` in JSON.
    #[serde(with = "serde_prometheus")]
    pub period: Duration,
    /// The period as it appears in series names (`30d`, `4w`); derived from `period` when empty.
    #[serde(default)]
    pub period_label: String,
    /// The burn-rate alert windows; empty means none (only the current and period windows
    /// are read).
    #[serde(default)]
    pub alert_windows: Vec<AlertWindow>,
}

impl SloTarget {
    /// The target of an SLO read from a spec, with the alert windows of its period (`windows`,
    /// e.g. from [`pave_slo::WindowsCatalog::require`]).
    pub fn from_slo(slo: &pave_slo::Slo, windows: &pave_slo::AlertWindows) -> Self {
        let std_duration = |d: pave_slo::Duration| Duration::from_millis(d.as_millis());
        let alert_windows = [
            (Severity::Page, &windows.page_quick),
            (Severity::Page, &windows.page_slow),
            (Severity::Ticket, &windows.ticket_quick),
            (Severity::Ticket, &windows.ticket_slow),
        ]
        .into_iter()
        .map(|(severity, window)| AlertWindow {
            severity,
            short: std_duration(window.short),
            long: std_duration(window.long),
            burn_rate_factor: windows.burn_rate_factor(window),
        })
        .collect();
        SloTarget {
            id: slo.id.clone(),
            service: slo.service.clone(),
            name: slo.name.clone(),
            objective_percent: slo.objective_percent,
            period: std_duration(slo.period),
            period_label: slo.period.to_string(),
            alert_windows,
        }
    }

    /// An SLO as `sloth generate` names it: `id = <service>-<name>`, the period label
    /// formatted like Prometheus, and Sloth's default alert windows.
    pub fn sloth(service: &str, name: &str, objective_percent: f64, period: Duration) -> Self {
        SloTarget {
            id: format!("{service}-{name}"),
            service: service.to_owned(),
            name: name.to_owned(),
            objective_percent,
            period,
            period_label: format_prometheus(period),
            alert_windows: AlertWindow::sloth_defaults(period),
        }
    }

    /// The objective as a ratio (`0.999`).
    pub fn objective(&self) -> f64 {
        self.objective_percent / 100.0
    }

    /// `1 − objective`, computed as Sloth does: `(100 − objective%) / 100`.
    pub fn error_budget(&self) -> f64 {
        (100.0 - self.objective_percent) / 100.0
    }

    /// The period label used in series names.
    pub fn period_window(&self) -> String {
        if self.period_label.is_empty() {
            format_prometheus(self.period)
        } else {
            self.period_label.clone()
        }
    }

    /// Every window whose error ratio is read: `5m` (the current burn rate), the alert
    /// windows and the period, shortest first, without repeats.
    pub fn windows(&self) -> Vec<(Duration, String)> {
        let mut windows: Vec<(Duration, String)> = std::iter::once(Duration::from_secs(300))
            .chain(self.alert_windows.iter().flat_map(|w| [w.short, w.long]))
            .map(|d| (d, format_prometheus(d)))
            .collect();
        windows.push((self.period, self.period_window()));
        windows.sort();
        windows.dedup_by(|a, b| a.1 == b.1);
        windows
    }

    /// Why this target cannot be looked up, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.id.trim().is_empty() {
            return Some("an SLO without an id (sloth_id)".to_owned());
        }
        if !(self.objective_percent > 0.0 && self.objective_percent < 100.0) {
            return Some(format!(
                "objective {}% leaves no error budget to measure (use a value above 0 and below 100)",
                self.objective_percent
            ));
        }
        if self.period.is_zero() {
            return Some("a period of zero".to_owned());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn sloth_factors() {
        let factors = |days| -> Vec<f64> {
            AlertWindow::sloth_defaults(Duration::from_secs(days * DAY))
                .iter()
                .map(|w| w.burn_rate_factor)
                .collect()
        };
        assert_eq!(factors(30), [14.4, 6.0, 3.0, 1.0]);
        let f28 = factors(28);
        assert!((f28[0] - 13.44).abs() < 1e-9 && (f28[3] - 0.9333333333).abs() < 1e-9);
    }

    #[test]
    fn windows_and_labels() {
        let t = SloTarget::sloth("svc", "avail", 99.9, Duration::from_secs(28 * DAY));
        assert_eq!(t.id, "svc-avail");
        assert_eq!(t.period_window(), "4w");
        let names: Vec<String> = t.windows().into_iter().map(|w| w.1).collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "4w"]);
        assert!((t.error_budget() - 0.001).abs() < 1e-12);
        assert!(t.problem().is_none());

        let bare = SloTarget {
            alert_windows: vec![],
            period_label: String::new(),
            ..SloTarget::sloth("svc", "x", 99.0, Duration::from_secs(30 * DAY))
        };
        let names: Vec<String> = bare.windows().into_iter().map(|w| w.1).collect();
        assert_eq!(names, ["5m", "30d"]);
    }

    #[test]
    fn unusable_targets() {
        let base = SloTarget::sloth("s", "n", 99.0, Duration::from_secs(DAY));
        for (t, needle) in [
            (
                SloTarget {
                    objective_percent: 100.0,
                    ..base.clone()
                },
                "no error budget",
            ),
            (
                SloTarget {
                    objective_percent: f64::NAN,
                    ..base.clone()
                },
                "no error budget",
            ),
            (
                SloTarget {
                    id: " ".to_owned(),
                    ..base.clone()
                },
                "without an id",
            ),
            (
                SloTarget {
                    period: Duration::ZERO,
                    ..base.clone()
                },
                "zero",
            ),
        ] {
            assert!(t.problem().is_some_and(|p| p.contains(needle)), "{t:?}");
        }
    }
}
