//! The "Service level objectives" card of the entity page: the SLOs the entity's
//! `pave.dev/slo` annotation names, and (with `--prometheus-url`) their live budget and burn
//! rates with a small server-rendered SVG bar chart.

use std::fmt::Write as _;

use pave_slo_status::{SloState, SloStatus};

use super::graph::escape;
use crate::AppState;

/// The card.
pub(crate) struct SloCard {
    pub(crate) slos: Vec<SloRow>,
    pub(crate) problems: Vec<String>,
    /// Why live values are missing ("Prometheus unavailable: …").
    pub(crate) live_note: Option<String>,
}

/// One SLO.
pub(crate) struct SloRow {
    pub(crate) name: String,
    pub(crate) service: String,
    pub(crate) objective: String,
    pub(crate) window: String,
    pub(crate) description: String,
    pub(crate) file: String,
    pub(crate) live: Option<LiveRow>,
}

/// Live values of one SLO.
pub(crate) struct LiveRow {
    pub(crate) budget: String,
    pub(crate) burn_rate: String,
    pub(crate) state: &'static str,
    /// CSS class of the state badge.
    pub(crate) state_class: &'static str,
    /// Already escaped SVG (empty when no window could be read).
    pub(crate) chart: String,
    pub(crate) errors: Vec<String>,
}

/// The card for the entity with index key `key`, if it carries the annotation.
pub(crate) async fn card(state: &AppState, key: &str) -> Option<SloCard> {
    let index = state.slos();
    let entity = index.get(key)?;
    let mut card = SloCard {
        slos: Vec::new(),
        problems: entity.problems.clone(),
        live_note: None,
    };
    let targets: Vec<_> = entity
        .slos
        .iter()
        .filter_map(|s| s.target.clone())
        .collect();
    let live = match state.live_status() {
        Some(live) if !targets.is_empty() => Some(live.status(key, &targets).await),
        _ => None,
    };
    if let Some(Err(e)) = live.as_deref() {
        card.live_note = Some(format!("Prometheus unavailable: {e}"));
    }
    for slo in &entity.slos {
        let status = match live.as_deref() {
            Some(Ok(statuses)) => statuses.get(&slo.id),
            _ => None,
        };
        card.slos.push(SloRow {
            name: slo.name.clone(),
            service: slo.service.clone(),
            objective: format!("{}%", slo.objective_percent),
            window: slo.window.clone(),
            description: slo.description.clone(),
            file: slo.file.clone(),
            live: status.map(live_row),
        });
    }
    Some(card)
}

fn percent(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_finite() => format!("{:.1}%", r * 100.0),
        _ => "—".to_owned(),
    }
}

fn rate(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.2}×"),
        _ => "—".to_owned(),
    }
}

fn live_row(status: &SloStatus) -> LiveRow {
    let (state, state_class) = match status.state {
        SloState::Ok => ("ok", "slo-ok"),
        SloState::Exhausted => ("budget exhausted", "slo-exhausted"),
        SloState::NoData => ("no data", "slo-nodata"),
        SloState::Error => ("error", "slo-error"),
    };
    let bars: Vec<(String, Option<f64>)> = status
        .windows
        .iter()
        .map(|w| (w.window.clone(), w.burn_rate))
        .collect();
    LiveRow {
        budget: percent(status.budget_remaining),
        burn_rate: rate(status.current_burn_rate),
        state,
        state_class,
        chart: chart(&bars),
        errors: status.errors.clone(),
    }
}

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 120.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 20.0;
const LEFT: f64 = 4.0;

/// A bar chart of the burn rate per window, with a dashed line at 1× (spending the budget
/// exactly over the period). Bars over 1× are drawn as burning. Empty when there is nothing
/// to draw.
pub(crate) fn chart(bars: &[(String, Option<f64>)]) -> String {
    if bars.is_empty() {
        return String::new();
    }
    let max = bars
        .iter()
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max)
        * 1.1;
    let plot = HEIGHT - TOP - BOTTOM;
    let y_of = |v: f64| TOP + plot - (v.max(0.0) / max) * plot;
    let slot = (WIDTH - LEFT) / bars.len() as f64;
    let bar_width = (slot * 0.6).max(2.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="slo-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Burn rate per window"><title>Burn rate per window (1× spends the budget exactly over the period)</title>"#
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_width) / 2.0;
        let label = escape(label);
        match value.filter(|v| v.is_finite()) {
            Some(v) => {
                let y = y_of(v);
                let class = if v > 1.0 {
                    "slo-bar burning"
                } else {
                    "slo-bar"
                };
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{bar_width:.1}" height="{h:.1}"><title>{label}: {v:.2}×</title></rect>"#,
                    h = TOP + plot - y,
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<text class="slo-missing" x="{cx:.1}" y="{y:.1}" text-anchor="middle">–</text>"#,
                    cx = x + bar_width / 2.0,
                    y = TOP + plot - 2.0,
                );
            }
        }
        let _ = write!(
            svg,
            r#"<text class="slo-label" x="{cx:.1}" y="{y:.1}" text-anchor="middle">{label}</text>"#,
            cx = x + bar_width / 2.0,
            y = HEIGHT - 6.0,
        );
    }
    let one = y_of(1.0);
    let _ = write!(
        svg,
        r#"<line class="slo-one" x1="0" x2="{WIDTH}" y1="{one:.1}" y2="{one:.1}"/><text class="slo-label" x="{x}" y="{y:.1}" text-anchor="end">1×</text></svg>"#,
        x = WIDTH - 2.0,
        y = one - 3.0,
    );
    svg
}

/// Compile-time check: axum handlers need a `Send` future, and the Prometheus client's once
/// was not.
#[allow(dead_code)]
fn assert_send(state: &AppState) {
    fn is_send<T: Send>(_: T) {}
    is_send(card(state, "x"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heights(svg: &str) -> Vec<f64> {
        svg.match_indices(" height=\"")
            .skip(1) // the svg element's own height
            .filter_map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect()
    }

    #[test]
    fn bars_scale_with_the_burn_rate() {
        let svg = chart(&[
            ("5m".into(), Some(2.0)),
            ("1h".into(), Some(1.0)),
            ("6h".into(), Some(0.5)),
            ("3d".into(), None),
        ]);
        let h = heights(&svg);
        assert_eq!(h.len(), 3, "{svg}");
        assert!((h[0] / h[1] - 2.0).abs() < 0.01, "{h:?}");
        assert!((h[1] / h[2] - 2.0).abs() < 0.01, "{h:?}");
        assert_eq!(svg.matches("slo-bar burning").count(), 1, "{svg}");
        assert!(svg.contains(">3d</text>") && svg.contains("class=\"slo-missing\""));
        assert!(svg.contains("class=\"slo-one\""));
    }

    #[test]
    fn the_one_line_stays_in_view_when_everything_is_low() {
        let svg = chart(&[("5m".into(), Some(0.1))]);
        let h = heights(&svg);
        // The scale is at least 1.1×, so a 0.1× bar is a tenth of the 1× line's height.
        assert!(h[0] > 0.0 && h[0] < (HEIGHT - TOP - BOTTOM) / 10.0, "{h:?}");
        assert_eq!(chart(&[]), "");
    }

    #[test]
    fn labels_are_escaped() {
        let svg = chart(&[("<script>&\"".into(), Some(f64::NAN))]);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;&amp;&quot;"), "{svg}");
    }
}
