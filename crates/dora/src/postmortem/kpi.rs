//! The postmortem KPIs: completion, corrective-action closure, repeat incidents, and the
//! overdue actions of each owner. Pure functions of postmortems, incidents, a window and
//! `now`; the definitions are in the module documentation of [`super`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::day::{DAY_MILLIS, Day};
use super::model::{ActionStatus, Postmortem};

/// Unix time in milliseconds, UTC.
pub type Millis = i64;

/// An incident as the KPIs need it (the store derives it from incident facts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The id postmortems name it by (`PD-Q2K3ZL0`, `github:acme/checkout#812`); matched
    /// exactly, case included.
    pub id: String,
    /// The entity reference it is attributed to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// 1 (most severe) to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    pub opened_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Millis>,
    pub title: String,
}

/// The half-open time range `[from, to)` a report covers, in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Millis,
    pub to: Millis,
}

impl Window {
    pub fn contains(self, at: Millis) -> bool {
        self.from <= at && at < self.to
    }

    /// Whether the day starts (00:00 UTC) inside the window: for windows aligned on days,
    /// the day is in the window.
    fn contains_day(self, day: Day) -> bool {
        self.contains(day.start_millis())
    }
}

/// The KPIs' knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KpiOptions {
    /// A postmortem is on time when dated at most this many days after the incident's
    /// resolution day.
    pub completion_days: u32,
    /// Incidents of this severity or more severe (a lower number) need a postmortem.
    pub completion_max_severity: u8,
    /// An incident repeats when another of the same entity was opened at most this many days
    /// (× 24 h) before it.
    pub repeat_days: u32,
}

impl Default for KpiOptions {
    fn default() -> Self {
        KpiOptions {
            completion_days: 5,
            completion_max_severity: 2,
            repeat_days: 30,
        }
    }
}

/// Every postmortem KPI for one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostmortemKpis {
    pub window: Window,
    pub now: Millis,
    pub options: KpiOptions,
    pub completion: Completion,
    pub closure: ActionClosure,
    pub repeats: RepeatIncidents,
    /// Every action overdue `now`, whatever the window, by owner.
    pub overdue_by_owner: Vec<OwnerOverdue>,
}

/// Computes every KPI.
pub fn kpis(
    postmortems: &[Postmortem],
    incidents: &[IncidentRecord],
    window: Window,
    now: Millis,
    options: &KpiOptions,
) -> PostmortemKpis {
    PostmortemKpis {
        window,
        now,
        options: *options,
        completion: completion(postmortems, incidents, window, now, options),
        closure: action_closure(postmortems, window, now),
        repeats: repeat_incidents(incidents, window, options),
        overdue_by_owner: overdue_by_owner(postmortems, now),
    }
}

/// Postmortem completion for severe incidents resolved in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// Severe incidents resolved in the window whose deadline has passed or that have a
    /// postmortem: `on_time + late.len() + missing.len()`.
    pub counted: u32,
    pub on_time: u32,
    /// `on_time / counted`; `None` when nothing is counted.
    pub rate: Option<f64>,
    /// Postmortems dated after the deadline (counted, not on time).
    pub late: Vec<LatePostmortem>,
    /// Past the deadline and still without a postmortem (counted, not on time).
    pub missing: Vec<IncidentDue>,
    /// Within the deadline and without a postmortem yet (not counted).
    pub pending: Vec<IncidentDue>,
}

/// A severe incident and the day its postmortem is (or was) due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDue {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    pub severity: u8,
    pub resolved_at: Millis,
    /// The last day a postmortem could be dated and be on time.
    pub due: Day,
}

/// A postmortem written after its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatePostmortem {
    pub incident: IncidentDue,
    pub postmortem_file: String,
    pub postmortem_date: Day,
    /// Days from the resolution day to the postmortem's date.
    pub days_after_resolution: i64,
}

/// Postmortem completion: see the module documentation.
pub fn completion(
    postmortems: &[Postmortem],
    incidents: &[IncidentRecord],
    window: Window,
    now: Millis,
    options: &KpiOptions,
) -> Completion {
    // The earliest postmortem naming each incident id.
    let mut first_postmortem: HashMap<&str, &Postmortem> = HashMap::new();
    for postmortem in postmortems {
        for id in &postmortem.incidents {
            first_postmortem
                .entry(id.as_str())
                .and_modify(|seen| {
                    if (postmortem.date, &postmortem.file) < (seen.date, &seen.file) {
                        *seen = postmortem;
                    }
                })
                .or_insert(postmortem);
        }
    }
    let today = Day::of_millis(now);
    let mut result = Completion {
        counted: 0,
        on_time: 0,
        rate: None,
        late: Vec::new(),
        missing: Vec::new(),
        pending: Vec::new(),
    };
    let mut severe: Vec<(&IncidentRecord, u8, Millis)> = incidents
        .iter()
        .filter_map(|incident| {
            let severity = incident
                .severity
                .filter(|s| *s <= options.completion_max_severity)?;
            let resolved_at = incident.resolved_at.filter(|at| window.contains(*at))?;
            Some((incident, severity, resolved_at))
        })
        .collect();
    severe.sort_by(|a, b| (a.2, &a.0.id).cmp(&(b.2, &b.0.id)));
    for (incident, severity, resolved_at) in severe {
        let resolved_day = Day::of_millis(resolved_at);
        let due = Day(resolved_day.0 + i64::from(options.completion_days));
        let record = IncidentDue {
            id: incident.id.clone(),
            title: incident.title.clone(),
            entity: incident.entity.clone(),
            severity,
            resolved_at,
            due,
        };
        match first_postmortem.get(incident.id.as_str()) {
            // A postmortem dated before the resolution (written while the incident was
            // still open, or resolved late in its source) is on time too.
            Some(postmortem) if postmortem.date <= due => {
                result.counted += 1;
                result.on_time += 1;
            }
            Some(postmortem) => {
                result.counted += 1;
                result.late.push(LatePostmortem {
                    incident: record,
                    postmortem_file: postmortem.file.clone(),
                    postmortem_date: postmortem.date,
                    days_after_resolution: postmortem.date.0 - resolved_day.0,
                });
            }
            None if today <= due => result.pending.push(record),
            None => {
                result.counted += 1;
                result.missing.push(record);
            }
        }
    }
    result.rate = ratio(result.on_time, result.counted);
    result
}

/// Corrective actions due in the window, by how they were closed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActionClosure {
    /// Actions due in the window, every kind below included.
    pub due: u32,
    /// Done or wontfix on or before the due day.
    pub closed_on_time: u32,
    /// Of `closed_on_time`, those closed as wontfix.
    pub wontfix_on_time: u32,
    /// Done or wontfix after the due day.
    pub closed_late: u32,
    /// Open or in progress, and the due day is over.
    pub overdue: u32,
    /// Open or in progress, due today or later (the window reaches past today).
    pub not_yet_due: u32,
    /// Only a tracker link, no status: pave cannot tell.
    pub tracked: u32,
    /// `closed_on_time / (closed_on_time + closed_late + overdue)`; `None` when that is 0.
    pub rate: Option<f64>,
}

/// Corrective-action closure by due date: see the module documentation.
pub fn action_closure(postmortems: &[Postmortem], window: Window, now: Millis) -> ActionClosure {
    let today = Day::of_millis(now);
    let mut result = ActionClosure {
        due: 0,
        closed_on_time: 0,
        wontfix_on_time: 0,
        closed_late: 0,
        overdue: 0,
        not_yet_due: 0,
        tracked: 0,
        rate: None,
    };
    let actions = postmortems.iter().flat_map(|p| &p.actions);
    for action in actions.filter(|a| window.contains_day(a.due)) {
        result.due += 1;
        match (action.status, action.closed) {
            (None, _) => result.tracked += 1,
            (Some(status), Some(closed)) if status.is_closed() && closed <= action.due => {
                result.closed_on_time += 1;
                if status == ActionStatus::Wontfix {
                    result.wontfix_on_time += 1;
                }
            }
            (Some(status), _) if status.is_closed() => result.closed_late += 1,
            (Some(_), _) if action.due < today => result.overdue += 1,
            (Some(_), _) => result.not_yet_due += 1,
        }
    }
    result.rate = ratio(
        result.closed_on_time,
        result.closed_on_time + result.closed_late + result.overdue,
    );
    result
}

/// An open action past its due day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueAction {
    pub owner: String,
    pub title: String,
    pub due: Day,
    /// Whole days since the due day (1 the day after).
    pub days_overdue: i64,
    pub status: ActionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub postmortem_file: String,
    pub postmortem_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// One owner's overdue actions, most overdue first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerOverdue {
    pub owner: String,
    pub actions: Vec<OverdueAction>,
}

/// Every open or in-progress action whose due day is before `now`'s day, whatever its
/// postmortem's age, most overdue first.
pub fn overdue_actions(postmortems: &[Postmortem], now: Millis) -> Vec<OverdueAction> {
    let today = Day::of_millis(now);
    let mut overdue: Vec<OverdueAction> = postmortems
        .iter()
        .flat_map(|p| p.actions.iter().map(move |a| (p, a)))
        .filter_map(|(postmortem, action)| {
            let status = action.status.filter(|s| !s.is_closed())?;
            (action.due < today).then(|| OverdueAction {
                owner: action.owner.clone(),
                title: action.title.clone(),
                due: action.due,
                days_overdue: today.0 - action.due.0,
                status,
                link: action.link.clone(),
                postmortem_file: postmortem.file.clone(),
                postmortem_title: postmortem.title.clone(),
                entity: postmortem.entity.clone(),
            })
        })
        .collect();
    overdue.sort_by(|a, b| {
        (a.due, &a.owner, &a.postmortem_file, &a.title).cmp(&(
            b.due,
            &b.owner,
            &b.postmortem_file,
            &b.title,
        ))
    });
    overdue
}

/// [`overdue_actions`] grouped by owner reference (sorted), for the owning team's page.
pub fn overdue_by_owner(postmortems: &[Postmortem], now: Millis) -> Vec<OwnerOverdue> {
    let mut by_owner: BTreeMap<String, Vec<OverdueAction>> = BTreeMap::new();
    for action in overdue_actions(postmortems, now) {
        by_owner
            .entry(action.owner.clone())
            .or_default()
            .push(action);
    }
    by_owner
        .into_iter()
        .map(|(owner, actions)| OwnerOverdue { owner, actions })
        .collect()
}

/// Repeat incidents per entity in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatIncidents {
    /// Incidents opened in the window, attributed or not.
    pub incidents: u32,
    /// Of those, repeats (attributed ones only).
    pub repeats: u32,
    /// Opened in the window with no entity: they cannot repeat.
    pub unattributed: u32,
    /// Entities with an incident in the window: most repeats first, then most incidents,
    /// then by reference.
    pub entities: Vec<EntityRepeats>,
}

/// One entity's incidents in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRepeats {
    pub entity: String,
    pub incidents: u32,
    pub repeats: u32,
    /// The repeats' ids, in the order they were opened.
    pub repeat_ids: Vec<String>,
}

/// Repeat incidents per entity: see the module documentation.
pub fn repeat_incidents(
    incidents: &[IncidentRecord],
    window: Window,
    options: &KpiOptions,
) -> RepeatIncidents {
    let horizon = i64::from(options.repeat_days).saturating_mul(DAY_MILLIS);
    let mut by_entity: HashMap<&str, Vec<&IncidentRecord>> = HashMap::new();
    let mut unattributed = 0;
    for incident in incidents {
        match &incident.entity {
            Some(entity) => by_entity.entry(entity).or_default().push(incident),
            None if window.contains(incident.opened_at) => unattributed += 1,
            None => {}
        }
    }
    let mut entities = Vec::new();
    for (entity, mut list) in by_entity {
        list.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
        let mut row = EntityRepeats {
            entity: entity.to_owned(),
            incidents: 0,
            repeats: 0,
            repeat_ids: Vec::new(),
        };
        // The latest opening strictly before the current one: incidents opened at the same
        // millisecond are not repeats of each other (one outage paged twice).
        let mut previous: Option<Millis> = None;
        let mut last: Option<Millis> = None;
        for incident in list {
            if last.is_some_and(|t| t < incident.opened_at) {
                previous = last;
            }
            last = Some(incident.opened_at);
            if !window.contains(incident.opened_at) {
                continue;
            }
            row.incidents += 1;
            if previous.is_some_and(|p| incident.opened_at - p <= horizon) {
                row.repeats += 1;
                row.repeat_ids.push(incident.id.clone());
            }
        }
        if row.incidents > 0 {
            entities.push(row);
        }
    }
    entities.sort_by(|a, b| {
        (b.repeats, b.incidents, &a.entity).cmp(&(a.repeats, a.incidents, &b.entity))
    });
    RepeatIncidents {
        incidents: entities.iter().map(|e| e.incidents).sum::<u32>() + unattributed,
        repeats: entities.iter().map(|e| e.repeats).sum(),
        unattributed,
        entities,
    }
}

fn ratio(numerator: u32, denominator: u32) -> Option<f64> {
    (denominator > 0).then(|| f64::from(numerator) / f64::from(denominator))
}
