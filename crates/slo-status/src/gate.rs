//! The deploy gate: does the error-budget policy say "freeze"? Pure functions over
//! [`SloStatus`]es.
//!
//! **Fail closed.** An SLO whose budget cannot be read (missing series, Prometheus
//! unavailable, an unusable target) freezes, because "unknown" must not let a change through
//! unnoticed. An override (`--override-reason`) lets the change through anyway and is
//! recorded in the decision. No traffic over the whole period (NaN) leaves the budget
//! untouched and passes, unless [`GatePolicy::freeze_on_no_data`] says otherwise.

use serde::{Deserialize, Serialize};

use crate::status::{SloState, SloStatus};

/// When to freeze.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GatePolicy {
    /// Freeze when the remaining error budget (a ratio: 1 untouched, 0 spent) is at or below
    /// this. Default 0: freeze once the budget is spent.
    pub min_budget_remaining: f64,
    /// Freeze when an SLO had no traffic over its period (default: pass).
    pub freeze_on_no_data: bool,
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            min_budget_remaining: 0.0,
            freeze_on_no_data: false,
        }
    }
}

/// One SLO's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Freeze,
    /// Could not be read: freezes (fail closed).
    Unknown,
}

/// One SLO in a [`GateDecision`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateSlo {
    pub id: String,
    pub verdict: Verdict,
    pub budget_remaining: Option<f64>,
    pub reason: String,
}

/// The gate's answer, serializable as the record of the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateDecision {
    /// Whether the policy says freeze (also true when overridden).
    pub freeze: bool,
    /// Whether an override let a freeze through.
    pub overridden: bool,
    /// Whether the change may go ahead: `!freeze || overridden`.
    pub allowed: bool,
    /// Why the override was used, as given.
    pub override_reason: Option<String>,
    pub policy: GatePolicy,
    /// One line per SLO that freezes (or all, when none does), then the override.
    pub reasons: Vec<String>,
    pub slos: Vec<GateSlo>,
}

fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

fn judge(status: &SloStatus, policy: &GatePolicy) -> GateSlo {
    let (verdict, reason) = match (status.state, status.budget_remaining) {
        (SloState::Error, _) | (SloState::Ok | SloState::Exhausted, None) => {
            let why = if status.errors.is_empty() {
                "the error budget could not be read".to_owned()
            } else {
                status.errors.join("; ")
            };
            (
                Verdict::Unknown,
                format!("status unknown, failing closed: {why}"),
            )
        }
        (SloState::NoData, _) if policy.freeze_on_no_data => (
            Verdict::Freeze,
            format!(
                "no traffic over {} and the policy freezes on no data",
                status.period
            ),
        ),
        (SloState::NoData, _) => (
            Verdict::Pass,
            format!("no traffic over {}: no budget spent", status.period),
        ),
        (_, Some(remaining)) if remaining <= policy.min_budget_remaining => (
            Verdict::Freeze,
            format!(
                "error budget remaining {} over {} is at or below the threshold {}",
                percent(remaining),
                status.period,
                percent(policy.min_budget_remaining)
            ),
        ),
        (_, Some(remaining)) => (
            Verdict::Pass,
            format!(
                "error budget remaining {} over {} (threshold {})",
                percent(remaining),
                status.period,
                percent(policy.min_budget_remaining)
            ),
        ),
    };
    GateSlo {
        id: status.id.clone(),
        verdict,
        budget_remaining: status.budget_remaining,
        reason,
    }
}

/// Applies `policy` to every status. Any SLO that freezes or cannot be read freezes the
/// gate; a non-blank `override_reason` lets it through and is recorded. No SLOs at all
/// pass (there is no budget to protect).
pub fn decide(
    statuses: &[SloStatus],
    policy: &GatePolicy,
    override_reason: Option<&str>,
) -> GateDecision {
    let slos: Vec<GateSlo> = statuses.iter().map(|s| judge(s, policy)).collect();
    let freeze = slos.iter().any(|s| s.verdict != Verdict::Pass);
    let override_reason = override_reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let overridden = freeze && override_reason.is_some();
    let mut reasons: Vec<String> = slos
        .iter()
        .filter(|s| !freeze || s.verdict != Verdict::Pass)
        .map(|s| format!("{}: {}", s.id, s.reason))
        .collect();
    if slos.is_empty() {
        reasons.push("no SLOs to check".to_owned());
    }
    if let Some(reason) = &override_reason {
        reasons.push(if overridden {
            format!("overridden: {reason}")
        } else {
            format!("override not needed (nothing freezes): {reason}")
        });
    }
    GateDecision {
        freeze,
        overridden,
        allowed: !freeze || overridden,
        override_reason,
        policy: *policy,
        reasons,
        slos,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::status::Exhaustion;
    use crate::target::SloTarget;
    use std::time::Duration;

    fn status(id: &str, state: SloState, remaining: Option<f64>) -> SloStatus {
        let target = SloTarget::sloth(id, "x", 99.9, Duration::from_secs(30 * 86_400));
        SloStatus {
            state,
            budget_remaining: remaining,
            exhaustion: Exhaustion::Unknown,
            errors: if state == SloState::Error {
                vec!["missing series slo:sli_error:ratio_rate30d{sloth_id=\"b-x\"}".to_owned()]
            } else {
                vec![]
            },
            ..SloStatus::unreadable(&target, String::new())
        }
    }

    #[test]
    fn healthy_passes_exhausted_freezes() {
        let policy = GatePolicy::default();
        let d = decide(&[status("a", SloState::Ok, Some(0.5))], &policy, None);
        assert!(!d.freeze && d.allowed && !d.overridden);
        assert!(d.reasons[0].contains("50.0%"), "{:?}", d.reasons);

        let d = decide(
            &[
                status("a", SloState::Ok, Some(0.5)),
                status("b", SloState::Exhausted, Some(-1.0)),
            ],
            &policy,
            None,
        );
        assert!(d.freeze && !d.allowed);
        assert_eq!(d.reasons.len(), 1, "only the freezing SLO: {:?}", d.reasons);
        assert!(d.reasons[0].starts_with("b-x: error budget remaining -100.0%"));
        // Exactly at the threshold freezes.
        let d = decide(
            &[status("a", SloState::Exhausted, Some(0.0))],
            &policy,
            None,
        );
        assert!(d.freeze);
    }

    #[test]
    fn thresholds_are_configurable() {
        let strict = GatePolicy {
            min_budget_remaining: 0.6,
            ..GatePolicy::default()
        };
        let d = decide(&[status("a", SloState::Ok, Some(0.5))], &strict, None);
        assert!(d.freeze && d.reasons[0].contains("threshold 60.0%"));
    }

    #[test]
    fn unreadable_fails_closed_unless_overridden() {
        let policy = GatePolicy::default();
        let s = [status("b", SloState::Error, None)];
        let d = decide(&s, &policy, None);
        assert!(d.freeze && !d.allowed);
        assert_eq!(d.slos[0].verdict, Verdict::Unknown);
        assert!(
            d.reasons[0].contains("failing closed") && d.reasons[0].contains("ratio_rate30d"),
            "{:?}",
            d.reasons
        );

        let d = decide(&s, &policy, Some("  hotfix for INC-42  "));
        assert!(d.freeze && d.overridden && d.allowed);
        assert_eq!(d.override_reason.as_deref(), Some("hotfix for INC-42"));
        assert_eq!(
            d.reasons.last().map(String::as_str),
            Some("overridden: hotfix for INC-42")
        );
        // A blank reason is no override.
        let d = decide(&s, &policy, Some("  "));
        assert!(!d.allowed && d.override_reason.is_none());
    }

    #[test]
    fn no_data_passes_unless_the_policy_says_otherwise() {
        let s = [status("a", SloState::NoData, None)];
        let d = decide(&s, &GatePolicy::default(), None);
        assert!(d.allowed && d.reasons[0].contains("no traffic"));
        let d = decide(
            &s,
            &GatePolicy {
                freeze_on_no_data: true,
                ..GatePolicy::default()
            },
            None,
        );
        assert!(d.freeze);
    }

    #[test]
    fn override_without_freeze_is_noted_and_json_is_stable() {
        let d = decide(
            &[status("a", SloState::Ok, Some(0.9))],
            &GatePolicy::default(),
            Some("routine"),
        );
        assert!(!d.overridden && d.allowed);
        assert!(d.reasons.last().unwrap().contains("override not needed"));
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["slos"][0]["verdict"], "pass");
        assert_eq!(json["policy"]["min_budget_remaining"], 0.0);
        assert_eq!(json["override_reason"], "routine");

        let d = decide(&[], &GatePolicy::default(), None);
        assert!(d.allowed && d.reasons == ["no SLOs to check"]);
    }
}
