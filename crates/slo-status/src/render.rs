//! Human output: table rows (display strings, for any table printer), the notes under the
//! table, and the gate's verdict.

use std::time::Duration;

use serde_json::{Value, json};

use crate::StatusReport;
use crate::duration::format_human;
use crate::gate::GateDecision;
use crate::status::{Exhaustion, SloState, SloStatus};

/// Column headers and the keys of [`status_rows`]' objects.
pub const STATUS_COLUMNS: &[(&str, &str)] = &[
    ("SLO", "slo"),
    ("OBJECTIVE", "objective"),
    ("PERIOD", "period"),
    ("SLI", "sli"),
    ("BUDGET LEFT", "budget"),
    ("BURN NOW", "burn"),
    ("EXHAUSTED IN", "exhaustion"),
    ("ALERTS", "alerts"),
];

fn percent(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(
        || "-".to_owned(),
        |v| format!("{:.*}%", decimals, v * 100.0),
    )
}

fn exhaustion(s: &SloStatus) -> String {
    match (s.exhaustion, s.time_to_exhaustion_seconds) {
        (Exhaustion::Exhausted, _) => "exhausted".to_owned(),
        (Exhaustion::Burning, Some(secs)) if secs.is_finite() && secs >= 0.0 => {
            format_human(Duration::from_secs_f64(secs))
        }
        (Exhaustion::NotBurning, _) => "not burning".to_owned(),
        _ => "-".to_owned(),
    }
}

/// One row per SLO, as JSON objects of display strings keyed as in [`STATUS_COLUMNS`].
pub fn status_rows(report: &StatusReport) -> Vec<Value> {
    report
        .slos
        .iter()
        .map(|s| {
            let (sli, budget) = match s.state {
                SloState::Error => ("error".to_owned(), "error".to_owned()),
                SloState::NoData => ("no data".to_owned(), "no data".to_owned()),
                _ => (percent(s.sli, 3), percent(s.budget_remaining, 1)),
            };
            let alerts: Vec<String> = s
                .alerts
                .iter()
                .map(|a| {
                    let severity = a.severity.as_deref().unwrap_or("alert");
                    if a.state == "firing" {
                        format!("{severity}:{}", a.name)
                    } else {
                        format!("{severity}:{} ({})", a.name, a.state)
                    }
                })
                .collect();
            json!({
                "slo": s.id,
                "objective": format!("{}%", s.objective_percent),
                "period": s.period,
                "sli": sli,
                "budget": budget,
                "burn": s.current_burn_rate.map_or_else(|| "-".to_owned(), |b| format!("{b:.2}x")),
                "exhaustion": exhaustion(s),
                "alerts": if alerts.is_empty() { "-".to_owned() } else { alerts.join(", ") },
            })
        })
        .collect()
}

/// The lines under the table: each SLO's errors and warnings, then Prometheus' warnings.
pub fn status_notes(report: &StatusReport) -> Vec<String> {
    let mut notes = Vec::new();
    for s in &report.slos {
        notes.extend(s.errors.iter().map(|e| format!("error: {}: {e}", s.id)));
        notes.extend(s.warnings.iter().map(|w| format!("warning: {}: {w}", s.id)));
    }
    notes.extend(
        report
            .warnings
            .iter()
            .map(|w| format!("warning: Prometheus: {w}")),
    );
    notes
}

/// The gate's verdict and reasons, one per line.
pub fn gate_text(decision: &GateDecision) -> String {
    let head = match (decision.freeze, decision.overridden) {
        (false, _) => "PASS: the error-budget policy allows changes",
        (true, false) => "FREEZE: the error-budget policy stops changes",
        (true, true) => "OVERRIDDEN: the error-budget policy says freeze; the change goes ahead",
    };
    let mut out = format!("{head}\n");
    for reason in &decision.reasons {
        out.push_str(&format!("  {reason}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::status::ActiveAlert;
    use crate::target::SloTarget;
    use crate::{GatePolicy, decide};

    fn report() -> StatusReport {
        let t = SloTarget::sloth("svc", "avail", 99.9, Duration::from_secs(30 * 86_400));
        let ok = SloStatus {
            state: SloState::Ok,
            sli: Some(0.9995),
            budget_remaining: Some(0.5),
            current_burn_rate: Some(0.5),
            exhaustion: Exhaustion::Burning,
            time_to_exhaustion_seconds: Some(30.0 * 86_400.0),
            errors: vec![],
            alerts: vec![ActiveAlert {
                name: "High".to_owned(),
                severity: Some("ticket".to_owned()),
                state: "pending".to_owned(),
            }],
            warnings: vec!["w".to_owned()],
            ..SloStatus::unreadable(&t, String::new())
        };
        let broken = SloStatus::unreadable(&t, "missing series x".to_owned());
        StatusReport {
            prometheus_url: "http://p".to_owned(),
            evaluated_at: 0.0,
            queries: 10,
            slos: vec![ok, broken],
            warnings: vec![],
        }
    }

    #[test]
    fn rows_and_notes() {
        let r = report();
        let rows = status_rows(&r);
        assert_eq!(rows[0]["sli"], "99.950%");
        assert_eq!(rows[0]["budget"], "50.0%");
        assert_eq!(rows[0]["burn"], "0.50x");
        assert_eq!(rows[0]["exhaustion"], "30d");
        assert_eq!(rows[0]["alerts"], "ticket:High (pending)");
        assert_eq!(rows[1]["budget"], "error");
        let notes = status_notes(&r);
        assert_eq!(
            notes,
            [
                "warning: svc-avail: w",
                "error: svc-avail: missing series x"
            ]
        );
    }

    #[test]
    fn gate_lines() {
        let r = report();
        let text = gate_text(&decide(&r.slos, &GatePolicy::default(), None));
        assert!(text.starts_with("FREEZE"), "{text}");
        assert!(text.contains("failing closed: missing series x"), "{text}");
        let text = gate_text(&decide(&r.slos, &GatePolicy::default(), Some("INC-1")));
        assert!(text.starts_with("OVERRIDDEN") && text.contains("overridden: INC-1"));
        let text = gate_text(&decide(&r.slos[..1], &GatePolicy::default(), None));
        assert!(text.starts_with("PASS"));
    }
}
