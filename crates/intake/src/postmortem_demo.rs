//! The demo's postmortems: for the demo history's severe incidents, postmortem files as a
//! team would write them, with corrective actions owned by the entity's team — some closed
//! on time, some late, some still open past their due day (so team pages show overdue
//! actions on the first run), some only tracked in an issue tracker — and a few incidents
//! left without one (so completion is not a perfect 100%). Pure: the caller posts them
//! ([`crate::Intake::post_postmortem`]).

use std::collections::{BTreeMap, BTreeSet};

use pave_dora::postmortem::{Day, IncidentRecord, Millis};

/// At most this many demo postmortems.
const MAX_POSTMORTEMS: usize = 30;
const DAY_MS: Millis = 86_400_000;

/// `(name, text)` of each demo postmortem, for the severe (sev-1/2) resolved `incidents`;
/// `owners` maps an entity key to its owner's key (`group:default/payments`).
pub fn demo_postmortems(
    incidents: &[IncidentRecord],
    owners: &BTreeMap<String, String>,
    now: Millis,
) -> Vec<(String, String)> {
    let mut severe: Vec<&IncidentRecord> = incidents
        .iter()
        .filter(|i| i.severity.is_some_and(|s| s <= 2))
        .filter(|i| i.resolved_at.is_some_and(|r| r < now - DAY_MS))
        .filter(|i| i.entity.as_ref().is_some_and(|e| owners.contains_key(e)))
        .collect();
    severe.sort_by(|a, b| (a.resolved_at, &a.id).cmp(&(b.resolved_at, &b.id)));
    // One per entity first, so several teams get some; oldest first.
    let mut seen = BTreeSet::new();
    let (first, rest): (Vec<&IncidentRecord>, Vec<&IncidentRecord>) = severe
        .iter()
        .partition(|i| seen.insert(i.entity.clone().unwrap_or_default()));
    let today = Day::of_millis(now);
    let mut out = Vec::new();
    for (n, incident) in first.into_iter().chain(rest).enumerate() {
        if out.len() >= MAX_POSTMORTEMS {
            break;
        }
        // Every fourth incident has no postmortem: completion shows the missing ones.
        if n % 4 == 3 {
            continue;
        }
        let (Some(entity), Some(resolved)) = (&incident.entity, incident.resolved_at) else {
            continue;
        };
        let Some(owner) = owners.get(entity) else {
            continue;
        };
        let resolved_day = Day::of_millis(resolved).0;
        // Most are written within the five days; every third a week late.
        let date = if n % 3 == 2 {
            resolved_day + 9
        } else {
            resolved_day + 2
        };
        if date > today.0 {
            continue;
        }
        let name = entity.rsplit('/').next().unwrap_or("service");
        let day = |d: i64| Day(d).to_string();
        let mut actions = String::new();
        // An alert: done on time for the older half, else still open (overdue once due).
        let alert_due = date + 14;
        if n % 2 == 0 && alert_due < today.0 {
            actions.push_str(&format!(
                "  - title: Alert on the error rate of {name} before customers notice\n    owner: {owner}\n    due: {}\n    status: done\n    closed: {}\n",
                day(alert_due),
                day((alert_due - 3).max(date))
            ));
        } else {
            actions.push_str(&format!(
                "  - title: Alert on the error rate of {name} before customers notice\n    owner: {owner}\n    due: {}\n    status: open\n",
                day(alert_due)
            ));
        }
        // A runbook, closed late or in progress.
        let runbook_due = date + 7;
        if n % 3 == 0 && runbook_due + 4 <= today.0 {
            actions.push_str(&format!(
                "  - title: Write the runbook for {name}'s failover\n    owner: {owner}\n    due: {}\n    status: done\n    closed: {}\n",
                day(runbook_due),
                day(runbook_due + 4)
            ));
        } else {
            actions.push_str(&format!(
                "  - title: Write the runbook for {name}'s failover\n    owner: {owner}\n    due: {}\n    status: in-progress\n",
                day(runbook_due)
            ));
        }
        // A fix tracked in the issue tracker only.
        actions.push_str(&format!(
            "  - title: Make the {name} client retry with backoff\n    owner: {owner}\n    due: {}\n    link: https://issues.example.com/browse/OPS-{}\n",
            day(date + 30),
            100 + n
        ));
        let severity = incident.severity.unwrap_or(2);
        let text = format!(
            "---\ntitle: \"{name}: {}\"\nincidents: [{}]\ndate: {}\nseverity: {severity}\nsummary: \"{name} returned errors for {} minutes; the cause was found in the logs and fixed.\"\nentity: {entity}\nactions:\n{actions}---\n# What happened\n\n{name} returned errors to its callers. The on-call engineer was paged, \
             found the cause and restored service.\n\n# What we change\n\nThe actions above.\n",
            incident.title.replace('"', "'"),
            json_string(&incident.id),
            day(date),
            (resolved - incident.opened_at).max(60_000) / 60_000,
        );
        out.push((format!("{}-{name}-{n}.md", day(date)), text));
    }
    out
}

/// `id` quoted for YAML (JSON strings are YAML flow scalars).
fn json_string(id: &str) -> String {
    serde_json::Value::from(id).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use pave_dora::postmortem::{KpiOptions, Window, kpis, parse};

    #[test]
    fn demo_postmortems_parse_and_leave_overdue_closed_and_missing_ones() {
        let now = 1_767_225_600_000; // 2026-01-01
        let teams = ["group:default/payments", "group:default/search"];
        let mut owners = BTreeMap::new();
        let mut incidents = Vec::new();
        for i in 0..16i64 {
            let entity = format!("component:default/svc-{}", i % 5);
            owners.insert(entity.clone(), teams[(i % 2) as usize].to_owned());
            let opened = now - (85 - 5 * i) * DAY_MS;
            incidents.push(IncidentRecord {
                id: format!("acme/svc-{}#{}", i % 5, 1000 + i),
                entity: Some(entity),
                severity: Some(if i % 3 == 0 { 1 } else { 2 }),
                opened_at: opened,
                resolved_at: Some(opened + 45 * 60_000),
                title: "Errors in \"production\"".into(),
            });
        }
        let files = demo_postmortems(&incidents, &owners, now);
        assert!(files.len() >= 6, "{}", files.len());
        let postmortems: Vec<_> = files
            .iter()
            .map(|(name, text)| parse(name, text).unwrap_or_else(|e| panic!("{e}\n{text}")))
            .collect();
        let window = Window {
            from: now - 90 * DAY_MS,
            to: now,
        };
        let k = kpis(
            &postmortems,
            &incidents,
            window,
            now,
            &KpiOptions::default(),
        );
        assert!(!k.overdue_by_owner.is_empty(), "teams have overdue actions");
        assert!(
            k.closure.closed_on_time > 0 && k.closure.overdue > 0,
            "{:?}",
            k.closure
        );
        assert!(k.closure.tracked > 0);
        assert!(!k.completion.missing.is_empty() && !k.completion.late.is_empty());
        assert!(k.completion.on_time > 0);
    }
}
