//! An independent oracle: generated delivery streams (in order, then shuffled within a few
//! hours and with redeliveries) go through the ledger; a plain computation over the ledger's
//! *rows* (lead times, change failure rate, rework) must agree with `pave_dora::report` over
//! `Ledger::facts`, and the shuffled stream must give the same rows as the ordered one.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use pave_delivery::{DeploymentRow, LedgerConfig, Rows};
use pave_dora::generate::SplitMix64;
use pave_events::{Delivery, DeploymentStatus, IncidentStatus, Source};

const REPOS: [&str; 3] = ["shop/checkout", "shop/search", "shop/legacy"];
const DAYS: i64 = 20;

/// A seeded history: releases with pushes and deployment status updates, failures,
/// rollbacks, hotfixes, staging runs, incidents naming their cause or not.
fn generate(seed: u64) -> Vec<(i64, Delivery)> {
    let mut rng = SplitMix64::new(seed);
    let mut out: Vec<(i64, Delivery)> = Vec::new();
    for (r, slug) in REPOS.iter().enumerate() {
        let mut head: Option<String> = None;
        let mut good: Option<String> = None;
        let mut commit = 0;
        let mut t = T0 + rng.below(6 * HOUR as u64) as i64;
        let mut release = 0;
        while t < T0 + DAYS * DAY {
            release += 1;
            // Commits, pushed in one or two pushes.
            let n = 1 + rng.below(4) as usize;
            let names: Vec<(String, i64)> = (0..n)
                .map(|_| {
                    commit += 1;
                    (format!("r{r}c{commit}"), t - rng.spread_ms(5 * HOUR, 2))
                })
                .collect();
            let split = if n > 1 && rng.chance(0.3) { n / 2 } else { n };
            for (k, part) in [&names[..split], &names[split..]].into_iter().enumerate() {
                if part.is_empty() {
                    continue;
                }
                let commits: Vec<(&str, i64)> =
                    part.iter().map(|(s, at)| (s.as_str(), *at)).collect();
                let before = head.clone().unwrap_or_default();
                let at = part.last().unwrap().1 + MINUTE;
                out.push((
                    at,
                    push(
                        slug,
                        &format!("{slug}/push/{release}/{k}"),
                        &before,
                        &commits,
                        false,
                    ),
                ));
                head = Some(part.last().unwrap().0.clone());
            }
            let sha_name = head.clone().unwrap();
            let id = format!("{slug}/dep/{release}");
            if rng.chance(0.3) {
                let mut s = Deploy::new(
                    slug,
                    "",
                    &sha_name,
                    DeploymentStatus::Succeeded,
                    t - 30 * MINUTE,
                );
                let sid = format!("{id}/staging");
                s.source_id = &sid;
                s.environment = "staging";
                out.push((t - 30 * MINUTE, s.delivery(&format!("{sid}/s"))));
            }
            let failed = rng.chance(0.15);
            let hotfix = !failed && rng.chance(0.08);
            let statuses = [
                (DeploymentStatus::Queued, t - 4 * MINUTE),
                (DeploymentStatus::Started, t - 3 * MINUTE),
                (
                    if failed {
                        DeploymentStatus::Failed
                    } else {
                        DeploymentStatus::Succeeded
                    },
                    t,
                ),
            ];
            for (status, at) in statuses {
                let mut d = Deploy::new(slug, &id, &sha_name, status, at);
                if hotfix {
                    d.labels = vec!["deploy:hotfix".into()];
                }
                out.push((at, d.delivery(&format!("{id}/{status:?}"))));
            }
            // A deployment whose clocks disagree, now and then.
            if rng.chance(0.03) {
                let odd = format!("{id}/odd");
                let mut d = Deploy::new(
                    slug,
                    &odd,
                    &sha_name,
                    DeploymentStatus::Started,
                    t + 10 * MINUTE,
                );
                d.source_id = &odd;
                out.push((t, d.delivery(&format!("{odd}/a"))));
                let d = Deploy::new(
                    slug,
                    &odd,
                    &sha_name,
                    DeploymentStatus::Succeeded,
                    t + 5 * MINUTE,
                );
                out.push((t, d.delivery(&format!("{odd}/b"))));
            }
            if failed
                && rng.chance(0.6)
                && let Some(previous) = good.clone()
            {
                let rb = format!("{id}/rollback");
                let at = t + rng.spread_ms(15 * MINUTE, 1);
                let mut d = Deploy::new(slug, &rb, &previous, DeploymentStatus::Succeeded, at);
                d.labels = vec!["deploy:rollback".into()];
                out.push((at, d.delivery(&format!("{rb}/ok"))));
            } else if !failed {
                good = Some(sha_name.clone());
            }
            // Incidents: some name the deployed commit (abbreviated), some name nothing.
            if rng.chance(0.12) {
                let opened = t + rng.spread_ms(30 * MINUTE, 2);
                let name = format!("{slug}#{release}");
                let cause = rng.chance(0.7).then(|| sha(&sha_name)[..12].to_owned());
                out.push((
                    opened,
                    incident(
                        Source::Github,
                        repo(slug),
                        &name,
                        IncidentStatus::Opened,
                        opened,
                        cause.as_deref(),
                    ),
                ));
                let resolved = opened + rng.spread_ms(2 * HOUR, 2);
                out.push((
                    resolved,
                    incident(
                        Source::Github,
                        repo(slug),
                        &name,
                        IncidentStatus::Resolved,
                        resolved,
                        None,
                    ),
                ));
            }
            t += rng.spread_ms(DAY / 2, 2);
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// The stream shuffled within windows of a few hours, with a tenth of it delivered twice.
fn perturb(seed: u64, stream: &[(i64, Delivery)]) -> Vec<(i64, Delivery)> {
    let mut rng = SplitMix64::new(seed ^ 0xABCD);
    let mut keyed: Vec<(i64, usize, (i64, Delivery))> = stream
        .iter()
        .enumerate()
        .map(|(i, d)| (d.0 + rng.below(6 * HOUR as u64) as i64, i, d.clone()))
        .collect();
    let mut copies: Vec<(i64, usize, (i64, Delivery))> = Vec::new();
    for (k, i, d) in &keyed {
        if rng.chance(0.1) {
            copies.push((*k + rng.below(DAY as u64) as i64, *i, d.clone()));
        }
    }
    keyed.extend(copies);
    keyed.sort_by_key(|(k, i, _)| (*k, *i));
    keyed.into_iter().map(|(_, _, d)| d).collect()
}

fn run(stream: &[(i64, Delivery)]) -> Feed {
    let mut feed = Feed::new(LedgerConfig::default());
    for (at, delivery) in stream {
        feed.seq += 1;
        // Received a second after it happened, or when it arrives late.
        let received_at = at + 1000;
        let attribution = feed.attribution.clone();
        feed.ledger
            .apply(feed.seq, received_at.max(*at), delivery, &attribution);
    }
    feed
}

/// PERCENTILE_CONT, written out.
fn percentile(values: &mut [i64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let position = q * (values.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    Some(values[low] as f64 + (values[high] - values[low]) as f64 * (position - low as f64))
}

struct Naive {
    counted: u64,
    leads: Vec<i64>,
    failed: u64,
    unplanned: u64,
}

/// The figures for one entity and window, from rows alone.
fn naive(rows: &Rows, entity: &str, from: i64, to: i64) -> Naive {
    let counted = |d: &&DeploymentRow| {
        d.entity.as_deref() == Some(entity)
            && d.environment == "production"
            && d.excluded.is_none()
            && d.finished_at.is_some()
            && matches!(
                d.status,
                DeploymentStatus::Succeeded
                    | DeploymentStatus::RolledBack
                    | DeploymentStatus::Failed
            )
    };
    let mut all: Vec<&DeploymentRow> = rows.deployments.iter().filter(counted).collect();
    all.sort_by_key(|d| (d.finished_at, d.id));
    let caused: HashMap<u64, ()> = rows
        .incidents
        .iter()
        .filter_map(|i| i.caused_by)
        .map(|d| (d, ()))
        .collect();
    let fixed: HashMap<u64, ()> = rows
        .incidents
        .iter()
        .filter_map(|i| i.fixed_by)
        .map(|d| (d, ()))
        .collect();
    let mut result = Naive {
        counted: 0,
        leads: vec![],
        failed: 0,
        unplanned: 0,
    };
    for (k, d) in all.iter().enumerate() {
        let finished = d.finished_at.unwrap();
        if finished < from || finished >= to {
            continue;
        }
        result.counted += 1;
        let succeeded = d.status != DeploymentStatus::Failed;
        let rolled_back = all.get(k + 1).is_some_and(|next| next.rollback);
        if !succeeded || caused.contains_key(&d.id) || rolled_back {
            result.failed += 1;
        }
        if d.hotfix.is_some() || d.rollback || fixed.contains_key(&d.id) {
            result.unplanned += 1;
        }
        if succeeded {
            for change in &rows.changes {
                let ships = change
                    .shipped
                    .iter()
                    .any(|s| s.environment == "production" && s.deployment == d.id);
                if ships && finished >= change.committed_at {
                    result.leads.push(finished - change.committed_at);
                }
            }
        }
    }
    result
}

/// Equal to a thousandth of a millisecond (interpolation may round differently).
fn close(got: Option<f64>, expected: Option<f64>, context: &str) {
    match (got, expected) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3, "{context}: {a} != {b}"),
        (a, b) => assert_eq!(a, b, "{context}"),
    }
}

#[test]
fn the_ledger_agrees_with_a_plain_computation_and_with_itself_out_of_order() {
    let mut checked = BTreeMap::new();
    for seed in 0..6 {
        let stream = generate(seed);
        let ordered = run(&stream);
        let shuffled = run(&perturb(seed, &stream));
        let rows = ordered.rows();
        assert_eq!(
            without_seqs(shuffled.rows()),
            without_seqs(rows.clone()),
            "seed {seed}: arrival order changed the rows"
        );

        let org = ordered.attribution.org().clone();
        let facts = ordered.ledger.facts(&org, "production");
        let index = pave_dora::Index::build(&org, &facts).unwrap();
        let env = index.environment("production").unwrap();
        for (from, to) in [(T0, T0 + DAYS * DAY), (T0 + 3 * DAY, T0 + 10 * DAY)] {
            let mut query = pave_dora::Query::new(from, to, env);
            query.group_by = pave_dora::GroupBy::Entity;
            let report = pave_dora::report(&index, &query).unwrap();
            for entity in ["component:default/checkout", "component:default/search"] {
                let row = report.rows.iter().find(|r| r.key == entity).unwrap();
                let mut expected = naive(&rows, entity, from, to);
                let m = &row.metrics;
                let context = format!("seed {seed}, {entity}, [{from}, {to})");
                assert_eq!(m.deployments.counted, expected.counted, "{context}");
                assert_eq!(
                    m.lead_time.changes,
                    expected.leads.len() as u64,
                    "{context}"
                );
                close(
                    m.lead_time.median_ms,
                    percentile(&mut expected.leads, 0.5),
                    &context,
                );
                close(
                    m.lead_time.p90_ms,
                    percentile(&mut expected.leads, 0.9),
                    &context,
                );
                assert_eq!(m.change_failure_rate.failed, expected.failed, "{context}");
                assert_eq!(m.rework_rate.unplanned, expected.unplanned, "{context}");
                *checked.entry("deployments").or_insert(0) += expected.counted;
                *checked.entry("failed").or_insert(0) += expected.failed;
                *checked.entry("unplanned").or_insert(0) += expected.unplanned;
                *checked.entry("leads").or_insert(0) += expected.leads.len() as u64;
            }
        }
        // The unattributed repository's facts are kept but are in no entity's figures.
        assert!(
            ordered
                .ledger
                .unattributed()
                .iter()
                .any(|(k, _, _)| k == "repo:github.com/shop/legacy")
        );
    }
    // The streams exercise every rule the oracle checks.
    for (what, count) in &checked {
        assert!(*count > 10, "only {count} {what}");
    }
}
