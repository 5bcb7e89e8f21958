//! Alert quality: how much of what pages people is worth it. Computed from the alert rows
//! (Alertmanager firings, [`crate::AlertRow`]) and the incidents of the same entities, over
//! a window, as pure functions of the rows (no clock: `now` is an argument).
//!
//! The measures (docs/delivery.md, "Alert quality"):
//! - **short-lived**: resolved within [`AlertQualityOptions::short_lived_ms`] (5 minutes) of
//!   firing: it fired and went away before anyone could act, the usual sign of a threshold
//!   set too tight or a flapping condition;
//! - **actionable**: an incident of the same entity was open when it fired, or opened within
//!   [`AlertQualityOptions::incident_within_ms`] (1 hour) after: someone had to act on it;
//! - **noisy alerts**: an alert (name and entity) that fired at least
//!   [`AlertQualityOptions::noisy_firings`] times in the window;
//! - time to resolve (median and p90 of resolved firings), firing now, unattributed.

use std::collections::BTreeMap;

use pave_events::Millis;
use serde::Serialize;

use crate::rows::{AlertRow, IncidentRow};

/// The thresholds behind the measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertQualityOptions {
    /// A firing resolved within this long counts as short-lived.
    pub short_lived_ms: Millis,
    /// A firing followed within this long by an incident of its entity is actionable.
    pub incident_within_ms: Millis,
    /// An alert that fired this often in the window is noisy.
    pub noisy_firings: u64,
}

impl Default for AlertQualityOptions {
    fn default() -> Self {
        AlertQualityOptions {
            short_lived_ms: 5 * 60_000,
            incident_within_ms: 60 * 60_000,
            noisy_firings: 5,
        }
    }
}

/// The alert-quality measures over one set of firings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertQuality {
    /// Firings that started in the window.
    pub firings: u64,
    /// Of those, still firing at `now`.
    pub firing_now: u64,
    /// Of those, resolved within the short-lived threshold.
    pub short_lived: u64,
    /// `short_lived / resolved firings`, when any resolved.
    pub short_lived_ratio: Option<f64>,
    /// Of those, with an incident of the same entity (open when it fired or opened soon after).
    pub actionable: u64,
    /// `actionable / attributed firings`, when any are attributed.
    pub actionable_ratio: Option<f64>,
    /// Of those, with no catalog entity (their subjects are listed by `pave events unattributed`).
    pub unattributed: u64,
    /// Median time from firing to resolution, of resolved firings.
    pub median_resolve_ms: Option<Millis>,
    /// 90th percentile (nearest rank) of the same.
    pub p90_resolve_ms: Option<Millis>,
}

/// One alert (a name on an entity) and how it behaved in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSummary {
    /// The alert's name (Alertmanager's `alertname`), or its fingerprint when it has none.
    pub name: String,
    pub entity: Option<String>,
    pub severity: Option<String>,
    #[serde(flatten)]
    pub quality: AlertQuality,
    /// When it last started firing.
    pub last_fired_at: Millis,
    /// Whether it fired at least the noisy threshold's times.
    pub noisy: bool,
}

/// The measures for the whole set and per alert, noisiest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertReport {
    /// The window's start (inclusive), `now` its end.
    pub since: Millis,
    pub now: Millis,
    #[serde(flatten)]
    pub quality: AlertQuality,
    /// Alerts (name and entity) that fired at least the noisy threshold's times.
    pub noisy_alerts: u64,
    pub alerts: Vec<AlertSummary>,
}

/// When an entity had an incident open: what decides whether an alert was actionable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentSpan<'a> {
    pub entity: &'a str,
    pub opened_at: Millis,
    pub resolved_at: Option<Millis>,
}

impl<'a> IncidentSpan<'a> {
    /// The span of an attributed incident.
    pub fn of(row: &'a IncidentRow) -> Option<IncidentSpan<'a>> {
        Some(IncidentSpan {
            entity: row.entity.as_deref()?,
            opened_at: row.opened_at,
            resolved_at: row.resolved_at,
        })
    }
}

/// The measures over `alerts` that started firing in `since..=now`, judged against
/// `incidents` (any window: an incident opened before `since` may cover a firing in it).
pub fn alert_report(
    alerts: &[AlertRow],
    incidents: &[IncidentSpan<'_>],
    since: Millis,
    now: Millis,
    options: &AlertQualityOptions,
) -> AlertReport {
    let mut by_entity: BTreeMap<&str, Vec<(Millis, Option<Millis>)>> = BTreeMap::new();
    for incident in incidents {
        by_entity
            .entry(incident.entity)
            .or_default()
            .push((incident.opened_at, incident.resolved_at));
    }
    let actionable = |alert: &AlertRow| {
        alert
            .entity
            .as_deref()
            .and_then(|e| by_entity.get(e))
            .is_some_and(|spans| {
                spans.iter().any(|&(opened, resolved)| {
                    let open_at_start =
                        opened <= alert.starts_at && resolved.is_none_or(|r| r >= alert.starts_at);
                    let opened_soon_after = opened >= alert.starts_at
                        && opened - alert.starts_at <= options.incident_within_ms;
                    open_at_start || opened_soon_after
                })
            })
    };

    let in_window: Vec<&AlertRow> = alerts
        .iter()
        .filter(|a| a.starts_at >= since && a.starts_at <= now)
        .collect();
    let mut groups: BTreeMap<(String, Option<&str>), Vec<&AlertRow>> = BTreeMap::new();
    for &alert in &in_window {
        let name = alert
            .name
            .clone()
            .unwrap_or_else(|| alert.fingerprint.clone());
        groups
            .entry((name, alert.entity.as_deref()))
            .or_default()
            .push(alert);
    }
    let mut summaries: Vec<AlertSummary> = groups
        .into_iter()
        .map(|((name, entity), firings)| {
            let quality = measure(&firings, now, options, &actionable);
            AlertSummary {
                name,
                entity: entity.map(str::to_owned),
                severity: firings.iter().find_map(|a| a.severity.clone()),
                last_fired_at: firings.iter().map(|a| a.starts_at).max().unwrap_or(since),
                noisy: quality.firings >= options.noisy_firings,
                quality,
            }
        })
        .collect();
    summaries.sort_by(|a, b| {
        b.quality
            .firings
            .cmp(&a.quality.firings)
            .then_with(|| b.last_fired_at.cmp(&a.last_fired_at))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.entity.cmp(&b.entity))
    });
    AlertReport {
        since,
        now,
        quality: measure(&in_window, now, options, &actionable),
        noisy_alerts: summaries.iter().filter(|s| s.noisy).count() as u64,
        alerts: summaries,
    }
}

fn measure(
    firings: &[&AlertRow],
    now: Millis,
    options: &AlertQualityOptions,
    actionable: &dyn Fn(&AlertRow) -> bool,
) -> AlertQuality {
    let mut durations: Vec<Millis> = firings
        .iter()
        .filter_map(|a| {
            a.ends_at
                .filter(|&e| e <= now)
                .map(|e| (e - a.starts_at).max(0))
        })
        .collect();
    durations.sort_unstable();
    let resolved = durations.len() as u64;
    let short_lived = durations
        .iter()
        .filter(|&&d| d <= options.short_lived_ms)
        .count() as u64;
    let attributed = firings.iter().filter(|a| a.entity.is_some()).count() as u64;
    let actionable_count = firings.iter().filter(|a| actionable(a)).count() as u64;
    AlertQuality {
        firings: firings.len() as u64,
        firing_now: firings.len() as u64 - resolved,
        short_lived,
        short_lived_ratio: ratio(short_lived, resolved),
        actionable: actionable_count,
        actionable_ratio: ratio(actionable_count, attributed),
        unattributed: firings.len() as u64 - attributed,
        median_resolve_ms: nearest_rank(&durations, 0.5),
        p90_resolve_ms: nearest_rank(&durations, 0.9),
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[Millis], q: f64) -> Option<Millis> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
