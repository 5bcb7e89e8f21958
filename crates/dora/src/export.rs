//! Flat views of a report for people: one [`Summary`] per row with the headline figures
//! (durations in hours), and CSV (RFC 4180) of them for `pave dora -o csv`. The JSON API
//! serialises [`Report`] itself, with every count and milliseconds.

use serde::Serialize;

use crate::report::{Report, Row, RowKind};
use crate::tiers::Level;

const HOUR_MS: f64 = 3_600_000.0;

/// A row's headline figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub kind: RowKind,
    pub key: String,
    pub parent: Option<String>,
    pub entities: u32,
    pub deployments: u64,
    pub deployments_per_day: f64,
    pub deploy_days_per_week: f64,
    pub deployment_frequency_level: Option<Level>,
    pub lead_time_median_hours: Option<f64>,
    pub lead_time_p90_hours: Option<f64>,
    pub lead_time_level: Option<Level>,
    pub change_failure_rate: Option<f64>,
    pub change_failure_level: Option<Level>,
    pub recovery_median_hours: Option<f64>,
    pub recovery_p90_hours: Option<f64>,
    pub unrecovered: u64,
    pub recovery_level: Option<Level>,
    pub rework_rate: Option<f64>,
    pub success_rate: Option<f64>,
    pub incidents: u64,
    pub incident_median_hours: Option<f64>,
}

impl Row {
    /// The row's headline figures.
    pub fn summary(&self) -> Summary {
        let m = &self.metrics;
        let hours = |ms: Option<f64>| ms.map(|ms| ms / HOUR_MS);
        Summary {
            kind: self.kind,
            key: self.key.clone(),
            parent: self.parent.clone(),
            entities: self.entities,
            deployments: m.deployments.counted,
            deployments_per_day: m.deployment_frequency.per_day,
            deploy_days_per_week: m.deployment_frequency.median_deploy_days_per_week,
            deployment_frequency_level: m.deployment_frequency.level,
            lead_time_median_hours: hours(m.lead_time.median_ms),
            lead_time_p90_hours: hours(m.lead_time.p90_ms),
            lead_time_level: m.lead_time.level,
            change_failure_rate: m.change_failure_rate.rate,
            change_failure_level: m.change_failure_rate.level,
            recovery_median_hours: hours(m.recovery_time.median_ms),
            recovery_p90_hours: hours(m.recovery_time.p90_ms),
            unrecovered: m.recovery_time.unrecovered,
            recovery_level: m.recovery_time.level,
            rework_rate: m.rework_rate.rate,
            success_rate: m.deployments.success_rate,
            incidents: m.incidents.opened,
            incident_median_hours: hours(m.incidents.median_ms),
        }
    }
}

/// The CSV header, in [`Summary`] field order.
pub const CSV_HEADER: &str = "kind,key,parent,entities,deployments,deployments_per_day,\
deploy_days_per_week,deployment_frequency_level,lead_time_median_hours,lead_time_p90_hours,\
lead_time_level,change_failure_rate,change_failure_level,recovery_median_hours,\
recovery_p90_hours,unrecovered,recovery_level,rework_rate,success_rate,incidents,\
incident_median_hours";

/// The report's rows as CSV with [`CSV_HEADER`]; empty cells for undefined figures, CRLF
/// line ends (RFC 4180).
pub fn csv(report: &Report) -> String {
    let mut out = String::with_capacity(256 * (report.rows.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for row in &report.rows {
        let s = row.summary();
        let kind = match s.kind {
            RowKind::Entity => "entity",
            RowKind::Group => "group",
            RowKind::System => "system",
            RowKind::Domain => "domain",
            RowKind::Org => "org",
        };
        let level = |l: Option<Level>| l.map_or("", Level::as_str);
        let number = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
        let cells = [
            kind.to_owned(),
            quoted(&s.key),
            quoted(s.parent.as_deref().unwrap_or("")),
            s.entities.to_string(),
            s.deployments.to_string(),
            s.deployments_per_day.to_string(),
            s.deploy_days_per_week.to_string(),
            level(s.deployment_frequency_level).to_owned(),
            number(s.lead_time_median_hours),
            number(s.lead_time_p90_hours),
            level(s.lead_time_level).to_owned(),
            number(s.change_failure_rate),
            level(s.change_failure_level).to_owned(),
            number(s.recovery_median_hours),
            number(s.recovery_p90_hours),
            s.unrecovered.to_string(),
            level(s.recovery_level).to_owned(),
            number(s.rework_rate),
            number(s.success_rate),
            s.incidents.to_string(),
            number(s.incident_median_hours),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV cell: quoted (with doubled quotes) when it holds a comma, quote or line break.
fn quoted(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}
