//! Incidents and alerts: lifecycles merged, incidents linked to deployments.
//!
//! An incident is identified by `(source, id)` (PagerDuty and Opsgenie ids; issues carry
//! their repository, `org/repo#12`). Its events merge in any order:
//!
//! * `opened_at` is the earliest time a sender gave as the opening (an `opened` event, or
//!   an event's own `opened_at`), else the earliest event;
//! * `acknowledged_at` the earliest acknowledgement;
//! * `resolved_at` the latest resolution, unless a reopening came after it (then it is
//!   open again); every reopening is kept (`reopened_at`);
//! * severity is the most severe level any event gave; title, URL, environment and the
//!   named cause the smallest value given (senders do not normally send two).
//!
//! **Caused by.** When the incident names a cause (an issue's `caused by: <sha>` line), it
//! is linked explicitly to a deployment of its entity (any deployment, when it has none)
//! whose id is that text (`deployment_id`), or whose sha is it or starts with it (7+
//! digits, `sha`): production deployments first, successful ones first, then the
//! earliest. Failing that, a full sha the entity's repositories know as a change links to
//! the first production deployment that shipped it (`commit`). Only with `link_by_time` on, an
//! incident with no explicit link is linked to the latest successful production deployment
//! of its entity that finished before it opened, within `link_by_time_window_ms` (`time`).
//! The link kind is recorded.
//!
//! **Fixed by.** The first successful production deployment of the incident's entity that
//! finished between its opening and its resolution (or since its opening, while open) and is
//! a rollback or a hotfix. It counts as rework.
//!
//! Links are kept up to date as deployments arrive: when a deployment's id or sha matches a
//! named cause, and when a line's deployments change (every incident of the entity is
//! linked again), so the result does not depend on whether the incident or the deployment
//! came first.
//!
//! An alert firing is identified by `(source, fingerprint, starts_at)`; repeats of the same
//! notification merge, and its resolution sets `ends_at` (the latest given; when the
//! sender gives none, when the resolution was received).

use pave_events::{Alert, AlertStatus, Incident, IncidentStatus, Millis, Source};

use super::deployments::min_some;
use super::{AlertState, Inc, Ledger, Line, line_of};
use crate::keys::{NONE, Sha, stable_id};
use crate::rows::{AlertRow, IncidentRow, LinkKind};

impl Inc {
    pub(crate) fn opened_at(&self) -> Millis {
        self.reported_opened_at.unwrap_or(self.first_event_at)
    }

    pub(crate) fn resolved_at(&self) -> Option<Millis> {
        let resolved = self.last_resolved_at?;
        match self.reopened_at.last() {
            Some(&reopened) if reopened >= resolved => None,
            _ => Some(resolved),
        }
    }

    pub(crate) fn line(&self) -> Line {
        line_of(self.entity, self.subject)
    }
}

impl Ledger {
    pub(crate) fn apply_incident(
        &mut self,
        seq: u64,
        source: Source,
        event: &Incident,
        subject: u32,
    ) {
        let mut id = stable_id("incident", &[source.as_str(), &event.id]);
        let found = loop {
            match self.incident_ix.get(&id) {
                None => break None,
                Some(&ix) => {
                    let inc = &self.incidents[ix as usize];
                    if inc.source == source && *inc.incident == *event.id {
                        break Some(ix);
                    }
                    id = (id + 1) & (u64::MAX >> 1);
                }
            }
        };
        let ix = match found {
            Some(ix) => ix,
            None => {
                let entity = self.subject_state[subject as usize].entity;
                let ix = self.incidents.len() as u32;
                self.incidents.push(Inc {
                    id,
                    source,
                    incident: event.id.as_str().into(),
                    subject,
                    entity,
                    number: None,
                    title: None,
                    severity: None,
                    url: None,
                    environment: None,
                    reported_opened_at: None,
                    first_event_at: event.at,
                    acknowledged_at: None,
                    last_resolved_at: None,
                    reopened_at: Vec::new(),
                    reference: None,
                    caused_by: NONE,
                    link: None,
                    fixed_by: NONE,
                    first_seq: seq,
                    last_seq: seq,
                });
                self.incident_ix.insert(id, ix);
                self.line_incidents
                    .entry(line_of(entity, subject))
                    .or_default()
                    .push(ix);
                ix
            }
        };
        let reference: Option<Box<str>> = event
            .caused_by
            .as_deref()
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .map(String::into_boxed_str);
        let inc = &mut self.incidents[ix as usize];
        min_some(&mut inc.number, event.number);
        min_some(&mut inc.title, event.title.clone());
        min_some(&mut inc.url, event.url.clone());
        min_some(&mut inc.environment, event.environment.clone());
        min_some(
            &mut inc.severity,
            event.severity.as_ref().map(|s| (s.level, s.raw.clone())),
        );
        inc.first_event_at = inc.first_event_at.min(event.at);
        min_some(&mut inc.reported_opened_at, event.opened_at);
        match event.status {
            IncidentStatus::Opened => min_some(&mut inc.reported_opened_at, Some(event.at)),
            IncidentStatus::Acknowledged => min_some(&mut inc.acknowledged_at, Some(event.at)),
            IncidentStatus::Resolved => {
                inc.last_resolved_at = inc.last_resolved_at.max(Some(event.at));
            }
            IncidentStatus::Reopened => {
                if let Err(p) = inc.reopened_at.binary_search(&event.at) {
                    inc.reopened_at.insert(p, event.at);
                }
            }
        }
        inc.first_seq = inc.first_seq.min(seq);
        inc.last_seq = inc.last_seq.max(seq);
        let old_reference = inc.reference.clone();
        min_some(&mut inc.reference, reference);
        if inc.reference != old_reference {
            let new_reference = inc.reference.clone();
            if let Some(old) = old_reference
                && let Some(list) = self.references.get_mut(&old)
            {
                list.retain(|&i| i != ix);
            }
            if let Some(new) = new_reference {
                self.references.entry(new).or_default().push(ix);
            }
        }
        self.dirty.incidents.push(ix);
        self.link(ix, true);
    }

    pub(crate) fn apply_alert(
        &mut self,
        seq: u64,
        received_at: Millis,
        source: Source,
        event: &Alert,
        subject: u32,
    ) {
        let starts = event.starts_at.to_string();
        let mut id = stable_id("alert", &[source.as_str(), &event.fingerprint, &starts]);
        let found = loop {
            match self.alert_ix.get(&id) {
                None => break None,
                Some(&ix) => {
                    let alert = &self.alerts[ix as usize];
                    if alert.source == source
                        && *alert.fingerprint == *event.fingerprint
                        && alert.starts_at == event.starts_at
                    {
                        break Some(ix);
                    }
                    id = (id + 1) & (u64::MAX >> 1);
                }
            }
        };
        let ix = match found {
            Some(ix) => ix,
            None => {
                let ix = self.alerts.len() as u32;
                self.alerts.push(AlertState {
                    id,
                    source,
                    fingerprint: event.fingerprint.as_str().into(),
                    subject,
                    entity: self.subject_state[subject as usize].entity,
                    name: None,
                    severity: None,
                    summary: None,
                    url: None,
                    starts_at: event.starts_at,
                    ends_at: None,
                    first_seq: seq,
                    last_seq: seq,
                });
                self.alert_ix.insert(id, ix);
                ix
            }
        };
        let alert = &mut self.alerts[ix as usize];
        min_some(&mut alert.name, event.name.clone());
        min_some(&mut alert.severity, event.severity.clone());
        min_some(&mut alert.summary, event.summary.clone());
        min_some(&mut alert.url, event.url.clone());
        if event.status == AlertStatus::Resolved {
            alert.ends_at = alert.ends_at.max(event.ends_at.or(Some(received_at)));
        }
        alert.first_seq = alert.first_seq.min(seq);
        alert.last_seq = alert.last_seq.max(seq);
        self.dirty.alerts.push(ix);
    }

    /// Links incident `i` (see the module docs). `rescan`: search deployments by the named
    /// cause again; otherwise an explicit link to a deployment id or sha is kept (those
    /// change only when such a deployment does, which [`Ledger::check_references`] sees).
    fn link(&mut self, i: u32, rescan: bool) {
        let inc = &self.incidents[i as usize];
        let explicit = if rescan {
            self.link_by_deployment(i)
        } else {
            match inc.link {
                Some(LinkKind::DeploymentId | LinkKind::Sha) => Some((inc.caused_by, inc.link)),
                _ => None,
            }
        }
        .or_else(|| self.link_by_commit(i).map(|d| (d, Some(LinkKind::Commit))));
        let (caused_by, link) = match explicit {
            Some((d, kind)) => (d, kind),
            None if self.rules.config.link_by_time => match self.link_by_time(i) {
                Some(d) => (d, Some(LinkKind::Time)),
                None => (NONE, None),
            },
            None => (NONE, None),
        };
        let fixed_by = self.fixed_by(i);
        let inc = &mut self.incidents[i as usize];
        if (inc.caused_by, inc.link, inc.fixed_by) != (caused_by, link, fixed_by) {
            inc.caused_by = caused_by;
            inc.link = link;
            inc.fixed_by = fixed_by;
            self.dirty.incidents.push(i);
        }
    }

    /// Links again the incidents of a line whose deployments changed.
    pub(crate) fn relink_line(&mut self, line: Line) {
        let Some(list) = self.line_incidents.get(&line) else {
            return;
        };
        for i in list.clone() {
            self.link(i, false);
        }
    }

    /// A deployment changed: incidents naming its id or (an abbreviation of) its sha are
    /// linked again.
    pub(crate) fn check_references(&mut self, d: u32) {
        if self.references.is_empty() {
            return;
        }
        let dep = &self.deployments[d as usize];
        let mut hits: Vec<u32> = Vec::new();
        if let Some(list) = self.references.get(dep.source_id.to_lowercase().as_str()) {
            hits.extend(list);
        }
        if let Some(sha) = &dep.sha {
            let text = sha.to_string();
            for len in 7..=text.len() {
                if let Some(list) = self.references.get(&text[..len]) {
                    hits.extend(list);
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        let line = dep.line();
        for i in hits {
            let inc = &self.incidents[i as usize];
            if inc.entity == NONE || inc.line() == line {
                self.link(i, true);
            }
        }
    }

    /// A deployment the incident names by id or sha: production ones first, successful ones
    /// first, then the earliest.
    fn link_by_deployment(&self, i: u32) -> Option<(u32, Option<LinkKind>)> {
        let inc = &self.incidents[i as usize];
        let text = inc.reference.as_deref()?;
        let candidates: Box<dyn Iterator<Item = u32>> = if inc.entity != NONE {
            Box::new(
                self.line_all
                    .get(&inc.line())
                    .into_iter()
                    .flatten()
                    .copied(),
            )
        } else {
            Box::new(0..self.deployments.len() as u32)
        };
        let sha_like = Sha::looks_like(text);
        candidates
            .filter_map(|d| {
                let dep = &self.deployments[d as usize];
                let kind = if dep.source_id.eq_ignore_ascii_case(text) {
                    LinkKind::DeploymentId
                } else if sha_like && dep.sha.as_ref().is_some_and(|s| s.starts_with(text)) {
                    LinkKind::Sha
                } else {
                    return None;
                };
                let rank = (
                    !dep.production,
                    !dep.succeeded(),
                    dep.finished_at().unwrap_or(Millis::MAX),
                    dep.id,
                );
                Some((rank, d, kind))
            })
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, d, kind)| (d, Some(kind)))
    }

    /// The first production deployment that shipped the commit the incident names.
    fn link_by_commit(&self, i: u32) -> Option<u32> {
        let inc = &self.incidents[i as usize];
        let text = inc.reference.as_deref()?;
        if inc.entity == NONE || !(Sha::looks_like(text) && matches!(text.len(), 40 | 64)) {
            return None;
        }
        let sha = Sha::new(text);
        self.entity_repos
            .get(&inc.entity)?
            .iter()
            .filter_map(|&r| self.change_ix.get(&(r, sha.clone())))
            .flat_map(|&c| self.claims_of(c))
            .map(|(_, d)| d)
            .filter(|&d| self.deployments[d as usize].production)
            .min_by_key(|&d| self.deployments[d as usize].order())
    }

    /// The time heuristic: the latest successful production deployment of the entity that
    /// finished before the incident opened, within the window.
    fn link_by_time(&self, i: u32) -> Option<u32> {
        let inc = &self.incidents[i as usize];
        if inc.entity == NONE {
            return None;
        }
        let opened = inc.opened_at();
        let window = self.rules.config.link_by_time_window_ms;
        let line = inc.line();
        (0..self.environments.len())
            .filter_map(|env| self.lines.get(&(line, env as u16)))
            .filter_map(|list| {
                let p = list.partition_point(|&d| {
                    self.deployments[d as usize]
                        .finished_at()
                        .is_some_and(|f| f < opened)
                });
                let d = *list.get(p.checked_sub(1)?)?;
                let finished = self.deployments[d as usize].finished_at()?;
                (opened.saturating_sub(finished) <= window).then_some(d)
            })
            .max_by_key(|&d| self.deployments[d as usize].order())
    }

    /// The first successful production rollback or hotfix of the entity between the
    /// incident's opening and its resolution.
    fn fixed_by(&self, i: u32) -> u32 {
        let inc = &self.incidents[i as usize];
        if inc.entity == NONE {
            return NONE;
        }
        let opened = inc.opened_at();
        let resolved = inc.resolved_at().unwrap_or(Millis::MAX);
        let line = inc.line();
        (0..self.environments.len())
            .filter_map(|env| self.lines.get(&(line, env as u16)))
            .filter_map(|list| {
                let start = list.partition_point(|&d| {
                    self.deployments[d as usize]
                        .finished_at()
                        .is_some_and(|f| f < opened)
                });
                list[start..]
                    .iter()
                    .copied()
                    .take_while(|&d| {
                        self.deployments[d as usize]
                            .finished_at()
                            .is_some_and(|f| f <= resolved)
                    })
                    .find(|&d| self.deployments[d as usize].rollback || self.is_hotfix(d))
            })
            .min_by_key(|&d| self.deployments[d as usize].order())
            .unwrap_or(NONE)
    }

    /// New entities for incidents and alerts from their subjects; moved incidents linked
    /// again.
    pub(crate) fn reattribute_incidents_and_alerts(&mut self) {
        let mut moved = Vec::new();
        for (i, inc) in self.incidents.iter_mut().enumerate() {
            let entity = self.subject_state[inc.subject as usize].entity;
            if inc.entity != entity {
                inc.entity = entity;
                moved.push(i as u32);
                self.dirty.incidents.push(i as u32);
            }
        }
        if !moved.is_empty() {
            self.line_incidents.clear();
            for (i, inc) in self.incidents.iter().enumerate() {
                self.line_incidents
                    .entry(inc.line())
                    .or_default()
                    .push(i as u32);
            }
            for i in moved {
                self.link(i, true);
            }
        }
        for (a, alert) in self.alerts.iter_mut().enumerate() {
            let entity = self.subject_state[alert.subject as usize].entity;
            if alert.entity != entity {
                alert.entity = entity;
                self.dirty.alerts.push(a as u32);
            }
        }
    }

    pub(crate) fn incident_row(&self, i: u32) -> IncidentRow {
        let inc = &self.incidents[i as usize];
        let id_of = |d: u32| (d != NONE).then(|| self.deployments[d as usize].id);
        IncidentRow {
            id: inc.id,
            source: inc.source,
            incident: inc.incident.to_string(),
            subject_key: self.subjects.name(inc.subject).to_owned(),
            entity: self.entity_name(inc.entity),
            number: inc.number,
            title: inc.title.clone(),
            severity: inc.severity.as_ref().map(|s| s.0),
            severity_raw: inc.severity.as_ref().map(|s| s.1.clone()),
            url: inc.url.clone(),
            environment: inc.environment.clone(),
            opened_at: inc.opened_at(),
            reported_opened_at: inc.reported_opened_at,
            first_event_at: inc.first_event_at,
            acknowledged_at: inc.acknowledged_at,
            resolved_at: inc.resolved_at(),
            last_resolved_at: inc.last_resolved_at,
            reopened_at: inc.reopened_at.clone(),
            caused_by_reference: inc.reference.as_deref().map(str::to_owned),
            caused_by: id_of(inc.caused_by),
            link: inc.link,
            fixed_by: id_of(inc.fixed_by),
            first_seq: inc.first_seq,
            last_seq: inc.last_seq,
        }
    }

    pub(crate) fn alert_row(&self, a: u32) -> AlertRow {
        let alert = &self.alerts[a as usize];
        AlertRow {
            id: alert.id,
            source: alert.source,
            fingerprint: alert.fingerprint.to_string(),
            subject_key: self.subjects.name(alert.subject).to_owned(),
            entity: self.entity_name(alert.entity),
            name: alert.name.clone(),
            severity: alert.severity.clone(),
            summary: alert.summary.clone(),
            url: alert.url.clone(),
            starts_at: alert.starts_at,
            ends_at: alert.ends_at,
            first_seq: alert.first_seq,
            last_seq: alert.last_seq,
        }
    }
}
