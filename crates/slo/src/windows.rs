//! Multiwindow, multi-burn-rate alert windows: Sloth's `AlertWindows` catalogs.
//!
//! An SLO period (30d, 28d, …) needs a catalog entry saying, for the page and ticket alerts,
//! which short and long windows to watch and how much of the error budget they may consume.
//! The Google SRE workbook catalogs for 30 and 28 days are built in; others are loaded from
//! `apiVersion: sloth.slok.dev/v1, kind: AlertWindows` documents.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::duration::Duration;
use crate::{Diagnostic, PathSegment};

/// The built-in 30-day catalog (Sloth's `google-30d.yaml`, SRE workbook numbers).
pub const GOOGLE_30D: &str = "apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 30d
  page:
    quick: {errorBudgetPercent: 2, shortWindow: 5m, longWindow: 1h}
    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d}
";

/// The built-in 28-day catalog (Sloth's `google-28d.yaml`).
pub const GOOGLE_28D: &str = "apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 28d
  page:
    quick: {errorBudgetPercent: 2, shortWindow: 5m, longWindow: 1h}
    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d}
";

/// One alert's window pair and the share of the period's error budget it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Percent of the whole period's error budget consumed when the alert fires.
    pub error_budget_percent: f64,
    /// The short window: stops the alert soon after the problem is gone.
    pub short: Duration,
    /// The long window: the budget consumption being measured.
    pub long: Duration,
}

/// The four alert windows for one SLO period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertWindows {
    pub period: Duration,
    pub page_quick: Window,
    pub page_slow: Window,
    pub ticket_quick: Window,
    pub ticket_slow: Window,
}

impl AlertWindows {
    /// How many times faster than "exactly the budget over the period" errors must burn for
    /// `window` to fire: `budget% × period hours / 100 / long-window hours` (14.4 for the
    /// 30-day page-quick window). Computed in Sloth's order so the digits match.
    pub fn burn_rate_factor(&self, window: &Window) -> f64 {
        let hours_to_consume = window.error_budget_percent * self.period.hours() / 100.0;
        hours_to_consume / window.long.hours()
    }

    /// The distinct alert windows, shortest first (the `slo:sli_error:ratio_rate<W>` series
    /// recorded besides the period's).
    pub fn alert_windows(&self) -> Vec<Duration> {
        let mut all = vec![
            self.page_quick.short,
            self.page_quick.long,
            self.page_slow.short,
            self.page_slow.long,
            self.ticket_quick.short,
            self.ticket_quick.long,
            self.ticket_slow.short,
            self.ticket_slow.long,
        ];
        all.sort();
        all.dedup();
        all
    }

    /// Every window with a recorded SLI error ratio: the alert windows, then the period.
    pub fn recorded_windows(&self) -> Vec<Duration> {
        let mut all = self.alert_windows();
        all.push(self.period);
        all
    }

    /// Parses one `AlertWindows` document (already loaded from YAML).
    pub fn from_value(value: &Value) -> Result<AlertWindows, (Vec<PathSegment>, String)> {
        let key = |k: &str| PathSegment::Key(k.to_owned());
        if value.get("apiVersion").and_then(Value::as_str) != Some("sloth.slok.dev/v1")
            || value.get("kind").and_then(Value::as_str) != Some("AlertWindows")
        {
            return Err((
                vec![],
                "not an alert windows catalog (want `apiVersion: sloth.slok.dev/v1` and `kind: AlertWindows`)"
                    .to_owned(),
            ));
        }
        let spec = value
            .get("spec")
            .ok_or_else(|| (vec![], "`spec` is required".to_owned()))?;
        let period = duration_field(spec, &[key("spec")], "sloPeriod")?;
        if period.as_millis() == 0 {
            return Err((
                vec![key("spec"), key("sloPeriod")],
                "the SLO period is required".to_owned(),
            ));
        }
        let window = |severity: &str, speed: &str| -> Result<Window, (Vec<PathSegment>, String)> {
            let path = vec![key("spec"), key(severity), key(speed)];
            let node = spec
                .get(severity)
                .and_then(|s| s.get(speed))
                .ok_or_else(|| {
                    (
                        path[..2].to_vec(),
                        format!("`{severity}.{speed}` is required"),
                    )
                })?;
            let short = duration_field(node, &path, "shortWindow")?;
            let long = duration_field(node, &path, "longWindow")?;
            let mut budget_path = path.clone();
            budget_path.push(key("errorBudgetPercent"));
            let budget = node
                .get("errorBudgetPercent")
                .and_then(Value::as_f64)
                .ok_or_else(|| {
                    (
                        budget_path.clone(),
                        "`errorBudgetPercent` must be a number".to_owned(),
                    )
                })?;
            if short.as_millis() == 0 || long.as_millis() == 0 {
                return Err((path, "short and long windows are required".to_owned()));
            }
            if budget == 0.0 {
                return Err((
                    budget_path,
                    "the error budget percent is required".to_owned(),
                ));
            }
            Ok(Window {
                error_budget_percent: budget,
                short,
                long,
            })
        };
        Ok(AlertWindows {
            period,
            page_quick: window("page", "quick")?,
            page_slow: window("page", "slow")?,
            ticket_quick: window("ticket", "quick")?,
            ticket_slow: window("ticket", "slow")?,
        })
    }
}

fn duration_field(
    node: &Value,
    parent: &[PathSegment],
    field: &str,
) -> Result<Duration, (Vec<PathSegment>, String)> {
    let mut path = parent.to_vec();
    path.push(PathSegment::Key(field.to_owned()));
    let text = node.get(field).and_then(Value::as_str).ok_or_else(|| {
        (
            path.clone(),
            format!("`{field}` must be a duration such as 30d"),
        )
    })?;
    Duration::parse(text).map_err(|e| (path, e.to_string()))
}

/// Alert windows by SLO period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowsCatalog {
    by_period: BTreeMap<Duration, AlertWindows>,
}

impl WindowsCatalog {
    /// The built-in Google catalogs for 30 and 28 days.
    pub fn builtin() -> Self {
        let mut catalog = WindowsCatalog::default();
        for text in [GOOGLE_30D, GOOGLE_28D] {
            // The embedded texts are constants covered by tests; a failure here would be a
            // build defect, and the catalog then simply lacks that period.
            if let Ok(docs) = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()) {
                for doc in docs {
                    if let Ok(w) = AlertWindows::from_value(&doc.value) {
                        catalog.by_period.insert(w.period, w);
                    }
                }
            }
        }
        catalog
    }

    /// An empty catalog, to fill with [`WindowsCatalog::add_file`] (custom catalogs replace
    /// the built-in ones, as in Sloth).
    pub fn empty() -> Self {
        WindowsCatalog::default()
    }

    /// Adds every `AlertWindows` document of a YAML file. A period already present with
    /// different windows is an error; an identical duplicate is accepted.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), Diagnostic> {
        let docs = pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
            .map_err(|e| Diagnostic::new(file, Some(e.position()), e.to_string()))?;
        for (index, doc) in docs.iter().enumerate() {
            if doc.value.is_null() {
                continue;
            }
            let windows = AlertWindows::from_value(&doc.value).map_err(|(path, message)| {
                let position = crate::spec::position_of(text, index, &path, doc.start);
                Diagnostic::new(file, Some(position), message)
            })?;
            match self.by_period.get(&windows.period) {
                Some(existing) if *existing != windows => {
                    return Err(Diagnostic::new(
                        file,
                        Some(doc.start),
                        format!(
                            "the {} SLO period is already in the catalog with other windows",
                            windows.period
                        ),
                    ));
                }
                _ => {
                    self.by_period.insert(windows.period, windows);
                }
            }
        }
        Ok(())
    }

    /// Inserts (or replaces) the windows of one period.
    pub fn insert(&mut self, windows: AlertWindows) {
        self.by_period.insert(windows.period, windows);
    }

    /// The windows of `period`, if the catalog has them.
    pub fn get(&self, period: Duration) -> Option<&AlertWindows> {
        self.by_period.get(&period)
    }

    /// The periods the catalog knows, shortest first.
    pub fn periods(&self) -> Vec<Duration> {
        self.by_period.keys().copied().collect()
    }

    /// The windows of `period`, or an error naming the periods that are available.
    pub fn require(&self, period: Duration) -> Result<&AlertWindows, crate::Error> {
        self.get(period).ok_or_else(|| crate::Error::UnknownPeriod {
            period,
            available: self.periods(),
        })
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.by_period.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gofmt::format_g;

    fn d(s: &str) -> Duration {
        Duration::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn builtin_factors_match_the_workbook() {
        let catalog = WindowsCatalog::builtin();
        assert_eq!(catalog.periods(), vec![d("28d"), d("30d")]);
        let factors = |period: &str| -> [String; 4] {
            let w = catalog
                .get(d(period))
                .copied()
                .unwrap_or_else(|| panic!("{period}"));
            [w.page_quick, w.page_slow, w.ticket_quick, w.ticket_slow]
                .map(|window| format_g(w.burn_rate_factor(&window)))
        };
        assert_eq!(factors("30d"), ["14.4", "6", "3", "1"]);
        assert_eq!(
            factors("28d"),
            [
                "13.44",
                "5.6000000000000005",
                "2.8000000000000003",
                "0.9333333333333333"
            ]
        );
        let w30 = catalog
            .get(d("30d"))
            .copied()
            .unwrap_or_else(|| panic!("30d"));
        let names: Vec<String> = w30
            .recorded_windows()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    }

    #[test]
    fn custom_catalogs_load_and_conflicts_are_errors() {
        let seven = GOOGLE_30D.replace("30d", "7d");
        let mut catalog = WindowsCatalog::empty();
        assert!(catalog.add_file("7d.yaml", &seven).is_ok());
        assert!(catalog.add_file("again.yaml", &seven).is_ok());
        let other = seven.replace("errorBudgetPercent: 2,", "errorBudgetPercent: 3,");
        let err = catalog
            .add_file("other.yaml", &other)
            .err()
            .unwrap_or_else(|| panic!("conflict"));
        assert!(err.message.contains("already"), "{err}");
        let err = catalog
            .add_file(
                "bad.yaml",
                "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7x\n",
            )
            .err()
            .unwrap_or_else(|| panic!("bad"));
        assert_eq!(err.position.map(|p| p.line), Some(4), "{err}");
        assert!(matches!(
            catalog.require(d("30d")),
            Err(crate::Error::UnknownPeriod { .. })
        ));
    }
}
