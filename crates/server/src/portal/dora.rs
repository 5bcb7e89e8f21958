//! The DORA pages and the entity page's Delivery card.
//!
//! - `GET /dora`: the organisation; `GET /dora/{namespace}/{kind}/{name}`: a team (group,
//!   with its subtree), a system, a domain or one entity. Each shows the five DORA metrics
//!   and deployment success rate with their levels and the change against the previous
//!   period, four server-rendered SVG charts ([`super::charts`]) with the same figures in a
//!   table, a breakdown (teams, systems or components), time to restore by severity, recent
//!   incidents, and on team pages the overdue postmortem actions.
//! - The Delivery card: last deployment per environment, the production version, open
//!   incidents.
//!
//! Figures come from `pave_dora::report` over the index the configured
//! [`DeliveryReports`] hand out; parameters are the API's (`api::dora::DoraParams`).

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use pave_catalog::{Catalog, EntityKey, EntityRef};
use pave_dora::facts::Millis;
use pave_dora::metrics::Metrics;
use pave_dora::{BucketSize, GroupBy, Index, Level, Query, Report, Row as ReportRow, Scope};

use super::charts::{self, Chart, Point, Unit, duration, percent};
use super::view::{self, encode_segment};
use super::{Layout, PortalError, Section};
use crate::AppState;
use crate::api::dora::{DoraParams, PAGE_PARAMS, scope_of};
use crate::delivery::{DeliveryReports, IncidentFilter, IncidentState, IncidentSummary};

const DAY_MS: Millis = 86_400_000;
/// Incidents listed on a DORA page.
const PAGE_INCIDENTS: usize = 10;
/// The windows the page's form offers.
const WINDOWS: [(&str, &str); 5] = [
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("180d", "180 days"),
    ("365d", "365 days"),
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The DORA page of an entity, group, system or domain key (`group:default/payments`).
pub(crate) fn dora_href(key: &str) -> String {
    match EntityRef::from_key(key) {
        Some(r) => format!(
            "/dora/{}/{}/{}",
            encode_segment(&r.namespace),
            encode_segment(&r.kind.to_lowercase()),
            encode_segment(&r.name)
        ),
        None => "/dora".to_owned(),
    }
}

/// `2026-01-05`.
fn date(ms: Millis) -> String {
    let (y, m, d) = pave_stdx::time::civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-01-05 14:03 UTC`.
pub(crate) fn date_time(ms: Millis) -> String {
    let minutes = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02} UTC", date(ms), minutes / 60, minutes % 60)
}

/// `5 Jan`, for chart ticks.
fn day_month(ms: Millis) -> String {
    let (_, m, d) = pave_stdx::time::civil_from_days(ms.div_euclid(DAY_MS));
    let month = usize::try_from(m - 1).ok().and_then(|i| MONTHS.get(i));
    format!("{d} {}", month.unwrap_or(&"?"))
}

// --- the change against the previous period ------------------------------------------------

/// How two periods' figures are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    /// Relative change, in percent (frequencies and durations).
    Relative,
    /// Difference in percentage points (rates).
    Points,
}

/// The change of one figure against the previous period, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) text: String,
    /// `change-better`, `change-worse` or `change-same`.
    pub(crate) class: &'static str,
    /// The previous figure.
    pub(crate) title: String,
}

/// `current` against `previous`; `None` when either has no figure.
pub(crate) fn change(
    current: Option<f64>,
    previous: Option<f64>,
    compare: Compare,
    higher_is_better: bool,
    shown: impl Fn(f64) -> String,
) -> Option<Change> {
    let (current, previous) = (
        current.filter(|c| c.is_finite())?,
        previous.filter(|p| p.is_finite())?,
    );
    let title = format!("previous period: {}", shown(previous));
    let (delta, text) = match compare {
        Compare::Points => {
            let points = (current - previous) * 100.0;
            (points, format!("{:.1} pp", points.abs()))
        }
        Compare::Relative if previous == 0.0 => {
            if current == 0.0 {
                (0.0, String::new())
            } else {
                (current, format!("up from {}", shown(0.0)))
            }
        }
        Compare::Relative => {
            let relative = (current - previous) / previous.abs() * 100.0;
            (relative, format!("{:.0}%", relative.abs()))
        }
    };
    let same = match compare {
        Compare::Points => delta.abs() < 0.05,
        Compare::Relative => delta.abs() < 0.5,
    };
    if same {
        return Some(Change {
            text: "no change".to_owned(),
            class: "change-same",
            title,
        });
    }
    let arrow = if delta > 0.0 { "▲" } else { "▼" };
    let better = (delta > 0.0) == higher_is_better;
    Some(Change {
        text: if text.starts_with("up from") {
            text
        } else {
            format!("{arrow} {text}")
        },
        class: if better {
            "change-better"
        } else {
            "change-worse"
        },
        title,
    })
}

// --- what the page shows ------------------------------------------------------------------

/// One metric's tile.
pub(crate) struct Tile {
    /// The element id (`deployment-frequency`).
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) detail: String,
    pub(crate) level: Option<&'static str>,
    /// Why there is no level (rework rate and success rate have no DORA tiers).
    pub(crate) no_level: &'static str,
    pub(crate) change: Option<Change>,
}

impl Tile {
    pub(crate) fn level_class(&self) -> String {
        format!("level level-{}", self.level.unwrap_or("none"))
    }
}

fn level(l: Option<Level>) -> Option<&'static str> {
    l.map(Level::as_str)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

/// The six tiles of `metrics`, each against `previous` when given.
pub(crate) fn tiles(m: &Metrics, previous: Option<&Metrics>) -> Vec<Tile> {
    let p = previous;
    let ms = |v: Option<f64>| v.map(duration);
    let pct = |v: Option<f64>| v.map(percent);
    let per_week = |x: f64| format!("{x:.1}/week");
    vec![
        Tile {
            id: "deployment-frequency",
            name: "Deployment frequency",
            value: per_week(m.deployment_frequency.per_week),
            detail: format!(
                "median {} deploy days a week · {} deployments",
                charts::Unit::Count.format(m.deployment_frequency.median_deploy_days_per_week),
                m.deployments.counted
            ),
            level: level(m.deployment_frequency.level),
            no_level: "no deployments",
            change: p.and_then(|p| {
                change(
                    Some(m.deployment_frequency.per_week),
                    Some(p.deployment_frequency.per_week),
                    Compare::Relative,
                    true,
                    per_week,
                )
            }),
        },
        Tile {
            id: "lead-time",
            name: "Change lead time",
            value: or_dash(ms(m.lead_time.median_ms)),
            detail: format!(
                "median · p90 {} · {} changes",
                or_dash(ms(m.lead_time.p90_ms)),
                m.lead_time.changes
            ),
            level: level(m.lead_time.level),
            no_level: "no changes shipped",
            change: p.and_then(|p| {
                change(
                    m.lead_time.median_ms,
                    p.lead_time.median_ms,
                    Compare::Relative,
                    false,
                    duration,
                )
            }),
        },
        Tile {
            id: "change-failure-rate",
            name: "Change failure rate",
            value: or_dash(pct(m.change_failure_rate.rate)),
            detail: format!(
                "{} of {} deployments failed",
                m.change_failure_rate.failed, m.deployments.counted
            ),
            level: level(m.change_failure_rate.level),
            no_level: "no deployments",
            change: p.and_then(|p| {
                change(
                    m.change_failure_rate.rate,
                    p.change_failure_rate.rate,
                    Compare::Points,
                    false,
                    percent,
                )
            }),
        },
        Tile {
            id: "recovery-time",
            name: "Failed deployment recovery time",
            value: or_dash(ms(m.recovery_time.median_ms)),
            detail: format!(
                "median · p90 {} · {} not recovered",
                or_dash(ms(m.recovery_time.p90_ms)),
                m.recovery_time.unrecovered
            ),
            level: level(m.recovery_time.level),
            no_level: "no recovered failures",
            change: p.and_then(|p| {
                change(
                    m.recovery_time.median_ms,
                    p.recovery_time.median_ms,
                    Compare::Relative,
                    false,
                    duration,
                )
            }),
        },
        Tile {
            id: "rework-rate",
            name: "Rework rate",
            value: or_dash(pct(m.rework_rate.rate)),
            detail: format!(
                "{} unplanned deployments (hotfixes, rollbacks, incident fixes)",
                m.rework_rate.unplanned
            ),
            level: None,
            no_level: "DORA gives rework rate no levels",
            change: p.and_then(|p| {
                change(
                    m.rework_rate.rate,
                    p.rework_rate.rate,
                    Compare::Points,
                    false,
                    percent,
                )
            }),
        },
        Tile {
            id: "success-rate",
            name: "Deployment success rate",
            value: or_dash(pct(m.deployments.success_rate)),
            detail: format!(
                "{} of {} deployments succeeded",
                m.deployments.succeeded, m.deployments.counted
            ),
            level: None,
            no_level: "not a DORA metric: no levels",
            change: p.and_then(|p| {
                change(
                    m.deployments.success_rate,
                    p.deployments.success_rate,
                    Compare::Points,
                    true,
                    percent,
                )
            }),
        },
    ]
}

/// A chart, rendered.
pub(crate) struct ChartView {
    pub(crate) id: &'static str,
    pub(crate) heading: &'static str,
    /// Escaped SVG.
    pub(crate) svg: String,
}

/// One week of the figures table (the charts' text alternative).
pub(crate) struct WeekRow {
    pub(crate) week: String,
    pub(crate) deployments: u64,
    pub(crate) failed: u64,
    pub(crate) failure_rate: String,
    pub(crate) lead_median: String,
    pub(crate) lead_p90: String,
    pub(crate) recovery_median: String,
    pub(crate) recovery_p90: String,
    pub(crate) rework: String,
}

/// The four charts and the table of their figures from a row's weekly buckets.
pub(crate) fn charts_of(row: &ReportRow, environment: &str) -> (Vec<ChartView>, Vec<WeekRow>) {
    let buckets = &row.buckets;
    let label = |b: &pave_dora::Bucket| day_month(b.start);
    let week = |b: &pave_dora::Bucket| format!("Week of {}", date(b.start));
    let deployments: Vec<Point> = buckets
        .iter()
        .map(|b| {
            let d = &b.metrics.deployments;
            Point {
                label: label(b),
                value: Some(d.counted as f64),
                upper: None,
                note: format!(
                    "{}: {} deployments, {} failed",
                    week(b),
                    d.counted,
                    b.metrics.change_failure_rate.failed
                ),
            }
        })
        .collect();
    let lead: Vec<Point> = buckets
        .iter()
        .map(|b| {
            let l = &b.metrics.lead_time;
            Point {
                label: label(b),
                value: l.median_ms,
                upper: l.p90_ms,
                note: format!(
                    "{}: median {}, p90 {} over {} changes",
                    week(b),
                    or_dash(l.median_ms.map(duration)),
                    or_dash(l.p90_ms.map(duration)),
                    l.changes
                ),
            }
        })
        .collect();
    let failures: Vec<Point> = buckets
        .iter()
        .map(|b| {
            let c = &b.metrics.change_failure_rate;
            Point {
                label: label(b),
                value: c.rate,
                upper: None,
                note: format!(
                    "{}: {} ({} of {} deployments)",
                    week(b),
                    or_dash(c.rate.map(percent)),
                    c.failed,
                    b.metrics.deployments.counted
                ),
            }
        })
        .collect();
    let recovery: Vec<Point> = buckets
        .iter()
        .map(|b| {
            let r = &b.metrics.recovery_time;
            Point {
                label: label(b),
                value: r.median_ms,
                upper: r.p90_ms,
                note: format!(
                    "{}: median {}, p90 {} ({} recovered, {} not)",
                    week(b),
                    or_dash(r.median_ms.map(duration)),
                    or_dash(r.p90_ms.map(duration)),
                    r.recovered,
                    r.unrecovered
                ),
            }
        })
        .collect();
    let with_data = buckets
        .iter()
        .filter(|b| b.metrics.deployments.counted > 0)
        .count();
    let busiest = buckets
        .iter()
        .map(|b| b.metrics.deployments.counted)
        .max()
        .unwrap_or(0);
    let deploy_desc = format!(
        "Deployments to {environment} per ISO week: {} weeks, {with_data} with deployments, at most {busiest} in a week.",
        buckets.len()
    );
    let lead_desc = format!(
        "Change lead time per week on a logarithmic scale: each box spans the median to the 90th percentile; overall median {}.",
        or_dash(row.metrics.lead_time.median_ms.map(duration))
    );
    let failure_desc = format!(
        "Change failure rate per week (failed deployments over deployments); {} over the window.",
        or_dash(row.metrics.change_failure_rate.rate.map(percent))
    );
    let recovery_desc = format!(
        "Failed deployment recovery time per week on a logarithmic scale: the dot is the median, the whisker reaches the 90th percentile; overall median {}.",
        or_dash(row.metrics.recovery_time.median_ms.map(duration))
    );
    let charts = vec![
        ChartView {
            id: "chart-deployments",
            heading: "Deployments per week",
            svg: charts::bars(
                &Chart {
                    id: "chart-deployments-svg",
                    title: "Deployments per week",
                    desc: &deploy_desc,
                    x_label: "Week (UTC)",
                    y_label: "Deployments",
                    unit: Unit::Count,
                },
                &deployments,
            ),
        },
        ChartView {
            id: "chart-lead-time",
            heading: "Lead time distribution",
            svg: charts::ranges(
                &Chart {
                    id: "chart-lead-time-svg",
                    title: "Change lead time per week (median to p90)",
                    desc: &lead_desc,
                    x_label: "Week (UTC)",
                    y_label: "Lead time",
                    unit: Unit::Duration,
                },
                &lead,
            ),
        },
        ChartView {
            id: "chart-failure-rate",
            heading: "Change failure rate trend",
            svg: charts::line(
                &Chart {
                    id: "chart-failure-rate-svg",
                    title: "Change failure rate per week",
                    desc: &failure_desc,
                    x_label: "Week (UTC)",
                    y_label: "Failure rate",
                    unit: Unit::Percent,
                },
                &failures,
            ),
        },
        ChartView {
            id: "chart-recovery",
            heading: "Recovery times",
            svg: charts::dots(
                &Chart {
                    id: "chart-recovery-svg",
                    title: "Failed deployment recovery time per week (median and p90)",
                    desc: &recovery_desc,
                    x_label: "Week (UTC)",
                    y_label: "Recovery time",
                    unit: Unit::Duration,
                },
                &recovery,
            ),
        },
    ];
    let weeks = buckets
        .iter()
        .map(|b| {
            let m = &b.metrics;
            WeekRow {
                week: date(b.start),
                deployments: m.deployments.counted,
                failed: m.change_failure_rate.failed,
                failure_rate: or_dash(m.change_failure_rate.rate.map(percent)),
                lead_median: or_dash(m.lead_time.median_ms.map(duration)),
                lead_p90: or_dash(m.lead_time.p90_ms.map(duration)),
                recovery_median: or_dash(m.recovery_time.median_ms.map(duration)),
                recovery_p90: or_dash(m.recovery_time.p90_ms.map(duration)),
                rework: or_dash(m.rework_rate.rate.map(percent)),
            }
        })
        .collect();
    (charts, weeks)
}

/// Time to restore for one severity.
pub(crate) struct SeverityRow {
    pub(crate) severity: String,
    pub(crate) opened: u64,
    pub(crate) resolved: u64,
    pub(crate) median: String,
}

/// A table of rows below the headline (teams, systems, components).
pub(crate) struct Breakdown {
    pub(crate) id: &'static str,
    pub(crate) heading: &'static str,
    pub(crate) rows: Vec<BreakdownRow>,
}

pub(crate) struct BreakdownRow {
    pub(crate) label: String,
    pub(crate) href: String,
    /// Indentation in the team tree.
    pub(crate) depth: u32,
    pub(crate) entities: u32,
    pub(crate) deployments: u64,
    pub(crate) per_week: String,
    pub(crate) lead: String,
    pub(crate) failure_rate: String,
    pub(crate) recovery: String,
    pub(crate) rework: String,
    /// The level classes of frequency, lead time, failure rate and recovery time.
    pub(crate) frequency_class: String,
    pub(crate) lead_class: String,
    pub(crate) failure_class: String,
    pub(crate) recovery_class: String,
}

impl BreakdownRow {
    pub(crate) fn indent(&self) -> String {
        format!("depth-{}", self.depth.min(6))
    }

    fn of(row: &ReportRow, catalog: &Catalog) -> BreakdownRow {
        let m = &row.metrics;
        let label = view::resolve(catalog, &row.key, None, pave_catalog::DEFAULT_NAMESPACE).label;
        BreakdownRow {
            label,
            href: dora_href(&row.key),
            depth: row.depth,
            entities: row.entities,
            deployments: m.deployments.counted,
            per_week: format!("{:.1}", m.deployment_frequency.per_week),
            lead: or_dash(m.lead_time.median_ms.map(duration)),
            failure_rate: or_dash(m.change_failure_rate.rate.map(percent)),
            recovery: or_dash(m.recovery_time.median_ms.map(duration)),
            rework: or_dash(m.rework_rate.rate.map(percent)),
            frequency_class: level_class(m.deployment_frequency.level),
            lead_class: level_class(m.lead_time.level),
            failure_class: level_class(m.change_failure_rate.level),
            recovery_class: level_class(m.recovery_time.level),
        }
    }
}

/// `level level-high`, or the neutral class.
fn level_class(level: Option<Level>) -> String {
    format!("level level-{}", level.map_or("none", Level::as_str))
}

/// An incident as a page lists it.
pub(crate) struct IncidentRow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) href: Option<String>,
    pub(crate) entity: Option<view::RefView>,
    pub(crate) severity: String,
    pub(crate) state: &'static str,
    pub(crate) opened: String,
    /// How long it lasted, or has lasted so far.
    pub(crate) duration: String,
}

impl IncidentRow {
    pub(crate) fn of(incident: &IncidentSummary, catalog: &Catalog, now: Millis) -> IncidentRow {
        let end = incident.resolved_at.unwrap_or(now);
        IncidentRow {
            id: incident.id.clone(),
            title: incident.title.clone(),
            href: incident.url.as_deref().and_then(view::safe_url),
            entity: incident.entity.as_ref().map(|e| {
                view::resolve(
                    catalog,
                    e,
                    Some("Component"),
                    pave_catalog::DEFAULT_NAMESPACE,
                )
            }),
            severity: incident
                .severity
                .map_or_else(|| "—".to_owned(), |s| format!("SEV{s}")),
            state: incident.state.as_str(),
            opened: date_time(incident.opened_at),
            duration: duration((end - incident.opened_at).max(0) as f64),
        }
    }

    pub(crate) fn state_class(&self) -> &'static str {
        if self.state == IncidentState::Open.as_str() {
            "badge incident-open"
        } else {
            "badge incident-resolved"
        }
    }
}

/// An overdue corrective action.
pub(crate) struct OverdueRow {
    pub(crate) title: String,
    pub(crate) owner: String,
    pub(crate) due: String,
    pub(crate) days_overdue: i64,
    pub(crate) postmortem: String,
    pub(crate) href: Option<String>,
}

/// Alert quality over the page's window and slice.
pub(crate) struct AlertCard {
    pub(crate) firings: u64,
    pub(crate) short_lived: String,
    pub(crate) actionable: String,
    pub(crate) median: String,
    pub(crate) firing_now: u64,
    pub(crate) noisy: u64,
    /// The noisiest alerts, at most [`PAGE_ALERTS`].
    pub(crate) rows: Vec<AlertLine>,
}

/// One alert on the card.
pub(crate) struct AlertLine {
    pub(crate) name: String,
    pub(crate) entity: String,
    pub(crate) entity_href: Option<String>,
    pub(crate) firings: u64,
    pub(crate) short_lived: String,
    pub(crate) actionable: String,
    pub(crate) noisy: bool,
}

/// Alerts listed on a page at most.
const PAGE_ALERTS: usize = 10;

impl AlertCard {
    fn of(report: &pave_delivery::alerts::AlertReport, catalog: &Catalog) -> Option<AlertCard> {
        let pct = |r: Option<f64>| r.map_or("–".to_owned(), |r| format!("{:.0} %", r * 100.0));
        let q = &report.quality;
        (q.firings > 0).then(|| AlertCard {
            firings: q.firings,
            short_lived: pct(q.short_lived_ratio),
            actionable: pct(q.actionable_ratio),
            median: q.median_resolve_ms.map_or("–".to_owned(), |ms| {
                format!("{:.1} min", ms as f64 / 60_000.0)
            }),
            firing_now: q.firing_now,
            noisy: report.noisy_alerts,
            rows: report
                .alerts
                .iter()
                .take(PAGE_ALERTS)
                .map(|a| {
                    let found = a
                        .entity
                        .as_deref()
                        .map(|e| view::resolve(catalog, e, None, pave_catalog::DEFAULT_NAMESPACE));
                    AlertLine {
                        name: a.name.clone(),
                        entity: found
                            .as_ref()
                            .map_or("(unattributed)".to_owned(), |f| f.label.clone()),
                        entity_href: found.and_then(|f| f.href),
                        firings: a.quality.firings,
                        short_lived: pct(a.quality.short_lived_ratio),
                        actionable: pct(a.quality.actionable_ratio),
                        noisy: a.noisy,
                    }
                })
                .collect(),
        })
    }
}

/// The window form's choices.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "dora.html")]
pub(crate) struct DoraPage {
    pub(crate) layout: Layout,
    /// "Organisation", "Team", "System"…
    pub(crate) kind_label: String,
    pub(crate) heading: String,
    pub(crate) reference: Option<String>,
    pub(crate) catalog_href: Option<String>,
    pub(crate) action: String,
    pub(crate) windows: Vec<Choice>,
    pub(crate) environments: Vec<Choice>,
    pub(crate) tier_tables: Vec<Choice>,
    /// "2025-10-07 – 2026-01-05 (UTC) · production".
    pub(crate) window: String,
    pub(crate) previous_window: String,
    /// Why there are no figures (no ledger, no data for the environment or the entity).
    pub(crate) empty: Option<String>,
    pub(crate) tiles: Vec<Tile>,
    pub(crate) charts: Vec<ChartView>,
    pub(crate) weeks: Vec<WeekRow>,
    pub(crate) severities: Vec<SeverityRow>,
    pub(crate) breakdowns: Vec<Breakdown>,
    pub(crate) incidents: Vec<IncidentRow>,
    pub(crate) overdue: Vec<OverdueRow>,
    pub(crate) alerts: Option<AlertCard>,
    pub(crate) warnings: Vec<String>,
    /// The same figures from the API.
    pub(crate) api_href: String,
}

/// What a page is about.
struct Target {
    /// `None`: the organisation.
    key: Option<String>,
    kind_label: String,
    heading: String,
    catalog_href: Option<String>,
}

impl Target {
    fn of(catalog: &Catalog, key: Option<&str>) -> Target {
        let Some(key) = key else {
            return Target {
                key: None,
                kind_label: "Organisation".to_owned(),
                heading: "Delivery performance".to_owned(),
                catalog_href: None,
            };
        };
        let found = view::resolve(catalog, key, None, pave_catalog::DEFAULT_NAMESPACE);
        let kind = key.split(':').next().unwrap_or("");
        Target {
            key: Some(key.to_owned()),
            kind_label: if kind == "group" {
                "Team".to_owned()
            } else {
                view::kind_display(kind)
            },
            heading: found.label,
            catalog_href: found.href,
        }
    }
}

/// `GET /dora`.
pub(crate) async fn org_page(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(state, raw, None).await
}

/// `GET /dora/{namespace}/{kind}/{name}`.
pub(crate) async fn slice_page(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(Path((namespace, kind, name))) = path else {
        return PortalError::BadRequest("The address is malformed.".into()).into_response();
    };
    let key = EntityKey::new(&kind, &namespace, &name).into_string();
    page(state, raw, Some(key)).await
}

async fn page(state: Arc<AppState>, raw: Option<String>, key: Option<String>) -> Response {
    let now = pave_stdx::time::unix_millis();
    let params = match DoraParams::parse(raw.as_deref(), &PAGE_PARAMS, now) {
        Ok(params) => params,
        Err(e) => return PortalError::BadRequest(format!("{e}.")).into_response(),
    };
    let catalog = state.catalog();
    let target = Target::of(&catalog, key.as_deref());
    let mut page = skeleton(&target, &params);
    let Some(reports) = state.delivery_reports() else {
        page.empty = Some(
            "This server has no delivery data: DORA metrics appear once deployments and \
             incidents are sent to it (see the README, \"Delivery events\")."
                .to_owned(),
        );
        return finish(&page);
    };
    let Some(index) = reports.index(&params.environment) else {
        page.empty = Some(format!(
            "No delivery data for the environment “{}” yet.",
            params.environment
        ));
        return finish(&page);
    };
    page.environments = environment_choices(index.environments(), &params.environment);
    let scope = match &target.key {
        None => None,
        Some(key) => match scope_of(index.org(), key) {
            Some(scope) => Some(scope),
            None if target.catalog_href.is_some() => {
                page.empty = Some(format!(
                    "No deliveries are attributed to {} (or anything it contains) yet.",
                    target.heading
                ));
                return finish(&page);
            }
            None => return PortalError::EntityNotFound(key.clone()).into_response(),
        },
    };
    let incidents = reports.incidents(&IncidentFilter {
        entities: scope.map(|s| scope_entities(&index, s)),
        limit: PAGE_INCIDENTS,
        ..IncidentFilter::default()
    });
    page.incidents = incidents
        .iter()
        .take(PAGE_INCIDENTS)
        .map(|i| IncidentRow::of(i, &catalog, now))
        .collect();
    if let Some(Scope::Group(g)) = scope {
        page.overdue = overdue(reports.as_ref(), &index, g);
    }
    let alert_report = reports.alert_report(
        scope.map(|s| scope_entities(&index, s)).as_deref(),
        params.from,
        params.to,
    );
    page.alerts = AlertCard::of(&alert_report, &catalog);
    let environment = params.environment.clone();
    // Several reports over the window's facts: heavy work, off the async threads.
    let figures = state
        .heavy()
        .run(move || figures(&index, &catalog, &params, scope, &environment))
        .await;
    match figures {
        Ok(Ok(figures)) => {
            page.tiles = figures.tiles;
            page.charts = figures.charts;
            page.weeks = figures.weeks;
            page.severities = figures.severities;
            page.breakdowns = figures.breakdowns;
            page.warnings = figures.warnings;
            finish(&page)
        }
        Ok(Err(e)) => PortalError::BadRequest(format!("{e}.")).into_response(),
        Err(busy) => PortalError::from(busy).into_response(),
    }
}

fn finish(page: &DoraPage) -> Response {
    match super::render(page) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The page without figures: heading, form, window.
fn skeleton(target: &Target, params: &DoraParams) -> DoraPage {
    let title = match &target.key {
        None => "DORA metrics".to_owned(),
        Some(_) => format!("DORA metrics · {}", target.heading),
    };
    let since = match (params.value("since"), params.value("from")) {
        ("", "") => crate::api::dora::DEFAULT_SINCE,
        (since, _) => since,
    };
    let mut windows: Vec<Choice> = WINDOWS
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == since,
        })
        .collect();
    if !since.is_empty() && !windows.iter().any(|w| w.selected) {
        windows.insert(
            0,
            Choice {
                value: since.to_owned(),
                label: since.to_owned(),
                selected: true,
            },
        );
    }
    let days = (params.to - params.from) as f64 / DAY_MS as f64;
    let mut api = url::form_urlencoded::Serializer::new(String::new());
    api.append_pair("group_by", "org");
    if let Some(key) = &target.key {
        api.append_pair("only", key);
    }
    for (name, value) in &params.given {
        api.append_pair(name, value);
    }
    api.append_pair("buckets", "week");
    api.append_pair("previous", "true");
    DoraPage {
        layout: Layout::new(title, Section::Delivery),
        kind_label: target.kind_label.clone(),
        heading: target.heading.clone(),
        reference: target.key.clone(),
        catalog_href: target.catalog_href.clone(),
        action: target
            .key
            .as_deref()
            .map_or_else(|| "/dora".to_owned(), dora_href),
        windows,
        environments: environment_choices(
            std::slice::from_ref(&params.environment),
            &params.environment,
        ),
        tier_tables: pave_dora::TierVersion::ALL
            .iter()
            .map(|t| Choice {
                value: t.as_str().to_owned(),
                label: format!("DORA {}", t.as_str()),
                selected: *t == params.tiers,
            })
            .collect(),
        window: format!(
            "{} – {} (UTC, {} days) · {}",
            date_time(params.from),
            date_time(params.to),
            charts::Unit::Count.format((days * 10.0).round() / 10.0),
            params.environment
        ),
        previous_window: format!(
            "{} – {}",
            date_time(params.from - (params.to - params.from)),
            date_time(params.from)
        ),
        empty: None,
        tiles: Vec::new(),
        charts: Vec::new(),
        weeks: Vec::new(),
        severities: Vec::new(),
        breakdowns: Vec::new(),
        incidents: Vec::new(),
        overdue: Vec::new(),
        alerts: None,
        warnings: Vec::new(),
        api_href: format!("/api/dora?{}", api.finish()),
    }
}

fn environment_choices(environments: &[String], current: &str) -> Vec<Choice> {
    let mut choices: Vec<Choice> = environments
        .iter()
        .map(|e| Choice {
            value: e.clone(),
            label: e.clone(),
            selected: e == current,
        })
        .collect();
    if !choices.iter().any(|c| c.selected) {
        choices.insert(
            0,
            Choice {
                value: current.to_owned(),
                label: current.to_owned(),
                selected: true,
            },
        );
    }
    choices
}

/// The keys of the entities `scope` covers.
fn scope_entities(index: &Index, scope: Scope) -> Vec<String> {
    let org = index.org();
    let rollup = index.rollup();
    let ixs: Vec<u32> = match scope {
        Scope::Entity(e) => vec![e],
        Scope::Group(g) => rollup.group_entities(g).to_vec(),
        Scope::System(s) => rollup.system_entities(s).to_vec(),
        Scope::Domain(d) => rollup.domain_entities(d).to_vec(),
    };
    ixs.iter()
        .filter_map(|&e| org.entities.get(e as usize))
        .map(|e| e.entity_ref.to_lowercase())
        .collect()
}

/// Overdue actions owned by group `g` or any group below it.
fn overdue(reports: &dyn DeliveryReports, index: &Index, g: u32) -> Vec<OverdueRow> {
    let org = index.org();
    let mut actions: Vec<pave_dora::postmortem::OverdueAction> = org
        .groups
        .iter()
        .enumerate()
        .filter(|(i, _)| index.rollup().in_subtree(*i as u32, g))
        .flat_map(|(_, group)| reports.overdue_actions(&group.entity_ref.to_lowercase()))
        .collect();
    actions.sort_by_key(|a| std::cmp::Reverse(a.days_overdue));
    actions
        .into_iter()
        .map(|a| OverdueRow {
            href: a.link.as_deref().and_then(view::safe_url),
            title: a.title,
            owner: a.owner,
            due: a.due.to_string(),
            days_overdue: a.days_overdue,
            postmortem: a.postmortem_title,
        })
        .collect()
}

/// Everything computed from reports.
struct Figures {
    tiles: Vec<Tile>,
    charts: Vec<ChartView>,
    weeks: Vec<WeekRow>,
    severities: Vec<SeverityRow>,
    breakdowns: Vec<Breakdown>,
    warnings: Vec<String>,
}

fn figures(
    index: &Index,
    catalog: &Catalog,
    params: &DoraParams,
    scope: Option<Scope>,
    environment: &str,
) -> Result<Figures, String> {
    let base = params.query(index)?;
    let run = |query: Query| -> Result<Report, String> {
        pave_dora::report(index, &query).map_err(|e| e.to_string())
    };
    // The headline: one row covering the whole slice, with weekly series and the previous
    // period.
    let headline = run(Query {
        group_by: GroupBy::Org,
        only: scope,
        buckets: BucketSize::Week,
        compare_previous: true,
        ..base
    })?;
    let Some(row) = headline.rows.first() else {
        return Err("the report has no row".to_owned());
    };
    let (charts, weeks) = charts_of(row, environment);
    let severities = row
        .metrics
        .incidents
        .by_severity
        .iter()
        .map(|s| SeverityRow {
            severity: s
                .severity
                .map_or_else(|| "unknown".to_owned(), |s| format!("SEV{s}")),
            opened: s.opened,
            resolved: s.resolved,
            median: or_dash(s.median_ms.map(duration)),
        })
        .collect();
    let breakdown =
        |id: &'static str, heading: &'static str, group_by: GroupBy| -> Result<Breakdown, String> {
            let report = run(Query {
                group_by,
                only: scope,
                ..base
            })?;
            Ok(Breakdown {
                id,
                heading,
                rows: report
                    .rows
                    .iter()
                    .map(|r| BreakdownRow::of(r, catalog))
                    .collect(),
            })
        };
    let mut breakdowns = match scope {
        None => vec![
            breakdown("teams", "Teams", GroupBy::Team)?,
            breakdown("systems", "Systems", GroupBy::System)?,
        ],
        Some(Scope::Group(_)) => vec![
            breakdown("teams", "Teams", GroupBy::Team)?,
            breakdown("components", "Components", GroupBy::Entity)?,
        ],
        Some(Scope::System(_)) => vec![breakdown("components", "Components", GroupBy::Entity)?],
        Some(Scope::Domain(_)) => vec![
            breakdown("systems", "Systems", GroupBy::System)?,
            breakdown("components", "Components", GroupBy::Entity)?,
        ],
        Some(Scope::Entity(_)) => Vec::new(),
    };
    // A team without sub-teams has one row: itself, already the headline.
    breakdowns.retain(|b| !(b.id == "teams" && scope.is_some() && b.rows.len() < 2));
    Ok(Figures {
        tiles: tiles(&row.metrics, row.previous.as_ref()),
        charts,
        weeks,
        severities,
        breakdowns,
        warnings: headline.warnings.clone(),
    })
}

// --- the Delivery card ----------------------------------------------------------------------

/// An environment's latest deployment, for the card.
pub(crate) struct EnvironmentRow {
    pub(crate) environment: String,
    pub(crate) when: String,
    pub(crate) version: String,
    pub(crate) outcome: &'static str,
    pub(crate) rollback: bool,
    pub(crate) href: Option<String>,
}

impl EnvironmentRow {
    pub(crate) fn outcome_class(&self) -> String {
        format!("badge outcome-{}", self.outcome)
    }
}

/// The entity page's Delivery card.
pub(crate) struct DeliveryCardView {
    pub(crate) environments: Vec<EnvironmentRow>,
    pub(crate) production_version: Option<String>,
    pub(crate) incidents: Vec<IncidentRow>,
    pub(crate) dora_href: String,
}

/// The card of entity `key` from `reports`.
pub(crate) fn delivery_card(
    reports: &dyn DeliveryReports,
    key: &str,
    catalog: &Catalog,
) -> DeliveryCardView {
    let card = reports.delivery_card(key);
    let now = pave_stdx::time::unix_millis();
    DeliveryCardView {
        environments: card
            .environments
            .iter()
            .map(|d| EnvironmentRow {
                environment: d.environment.clone(),
                when: date_time(d.at),
                version: match (&d.version, &d.sha) {
                    (Some(v), Some(sha)) => format!("{v} ({})", short_sha(sha)),
                    (Some(v), None) => v.clone(),
                    (None, Some(sha)) => short_sha(sha).to_owned(),
                    (None, None) => "—".to_owned(),
                },
                outcome: d.outcome.as_str(),
                rollback: d.rollback,
                href: d.url.as_deref().and_then(view::safe_url),
            })
            .collect(),
        production_version: card.production_version.clone(),
        incidents: card
            .open_incidents
            .iter()
            .map(|i| IncidentRow::of(i, catalog, now))
            .collect(),
        dora_href: dora_href(key),
    }
}

fn short_sha(sha: &str) -> &str {
    if sha.len() > 12 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        &sha[..12]
    } else {
        sha
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn changes_say_which_way_is_better() {
        // Lead time down 50%: better.
        let c = change(Some(1.0), Some(2.0), Compare::Relative, false, duration).unwrap();
        assert_eq!((c.text.as_str(), c.class), ("▼ 50%", "change-better"));
        // Deployment frequency down: worse.
        let c = change(Some(1.0), Some(2.0), Compare::Relative, true, |x| {
            x.to_string()
        })
        .unwrap();
        assert_eq!(c.class, "change-worse");
        // Failure rate 10% → 12.5%: 2.5 points up, worse.
        let c = change(Some(0.125), Some(0.10), Compare::Points, false, percent).unwrap();
        assert_eq!((c.text.as_str(), c.class), ("▲ 2.5 pp", "change-worse"));
        assert_eq!(c.title, "previous period: 10%");
        // No difference, nothing before, and from zero.
        let c = change(Some(0.1), Some(0.1), Compare::Points, false, percent).unwrap();
        assert_eq!((c.text.as_str(), c.class), ("no change", "change-same"));
        assert_eq!(
            change(Some(1.0), None, Compare::Relative, true, percent),
            None
        );
        assert_eq!(
            change(None, Some(1.0), Compare::Relative, true, percent),
            None
        );
        assert_eq!(
            change(Some(f64::NAN), Some(1.0), Compare::Points, true, percent),
            None
        );
        let c = change(Some(3.0), Some(0.0), Compare::Relative, true, |x| {
            format!("{x}/week")
        })
        .unwrap();
        assert_eq!(
            (c.text.as_str(), c.class),
            ("up from 0/week", "change-better")
        );
        let c = change(Some(0.0), Some(0.0), Compare::Relative, true, |x| {
            x.to_string()
        })
        .unwrap();
        assert_eq!(c.class, "change-same");
    }

    #[test]
    fn links_and_dates() {
        assert_eq!(
            dora_href("group:default/payments"),
            "/dora/default/group/payments"
        );
        assert_eq!(dora_href("component:ops/a b"), "/dora/ops/component/a%20b");
        assert_eq!(dora_href("org"), "/dora");
        assert_eq!(date(1_767_225_600_000), "2026-01-01");
        assert_eq!(
            date_time(1_767_225_600_000 + 14 * 3_600_000 + 3 * 60_000),
            "2026-01-01 14:03 UTC"
        );
        assert_eq!(day_month(1_767_225_600_000 + 4 * DAY_MS), "5 Jan");
        assert_eq!(short_sha("0123456789abcdef0123"), "0123456789ab");
        assert_eq!(
            short_sha("v1.2.3-with-a-long-name"),
            "v1.2.3-with-a-long-name"
        );
    }
}
