//! Queries and reports: the figures of [`crate::metrics`] for each row of a grouping, with
//! an optional previous period and weekly or monthly series.
//!
//! Rows by [`GroupBy`]:
//!
//! * `entity`: every entity (its owner group as `parent`).
//! * `team`: every group with its whole subtree (an entity counts for its owner group and
//!   every ancestor), in tree order (pre-order from the top groups, children by index);
//!   `depth` is the distance from the top of the listing.
//! * `system`: every system (its domain as `parent`); `domain`: every domain.
//! * `org`: one row, key `"org"`.
//!
//! [`Query::only`] narrows every row to the entities of one entity, group (with its
//! subtree), system or domain. A row left with no entity is not listed, except the `org`
//! row, which is always there. With `only: group`, the team view lists that group and its
//! subtree. Incidents attributed to no entity count only in the `org` row of a query
//! without `only`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::buckets::{BucketSize, previous_window, spans};
use crate::error::DoraError;
use crate::facts::{DomainIx, EntityIx, EnvIx, GroupIx, Millis, Org, SystemIx};
use crate::index::Index;
use crate::metrics::{Metrics, Scratch, Slice, compute};
use crate::tiers::{TierVersion, tiers};

/// What a report rolls up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Entity,
    #[default]
    Team,
    System,
    Domain,
    Org,
}

/// One slice of the organisation a query is narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Entity(EntityIx),
    /// The group and every group below it.
    Group(GroupIx),
    System(SystemIx),
    Domain(DomainIx),
}

/// A report request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// Window start, Unix ms UTC, inclusive.
    pub from: Millis,
    /// Window end, Unix ms UTC, exclusive.
    pub to: Millis,
    pub environment: EnvIx,
    pub group_by: GroupBy,
    pub only: Option<Scope>,
    pub buckets: BucketSize,
    /// Also compute the window of the same length immediately before.
    pub compare_previous: bool,
    /// Which year's tier table levels come from.
    pub tiers: TierVersion,
}

impl Query {
    /// The whole organisation by team over `[from, to)` in `environment`, no series, 2023
    /// tiers.
    pub fn new(from: Millis, to: Millis, environment: EnvIx) -> Query {
        Query {
            from,
            to,
            environment,
            group_by: GroupBy::Team,
            only: None,
            buckets: BucketSize::None,
            compare_previous: false,
            tiers: TierVersion::default(),
        }
    }
}

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Entity,
    Group,
    System,
    Domain,
    Org,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: Millis,
    pub to: Millis,
    pub environment: String,
    pub group_by: GroupBy,
    pub tiers: TierVersion,
    /// The window of `previous` figures, when asked for.
    pub previous: Option<(Millis, Millis)>,
    pub rows: Vec<Row>,
    /// Things the reader should know (parent cycles in the catalog).
    pub warnings: Vec<String>,
}

/// One entity, group, system, domain, or the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub kind: RowKind,
    /// The entity reference, or `"org"`.
    pub key: String,
    /// Entity rows: the owner group; group rows: the parent group; system rows: the domain.
    pub parent: Option<String>,
    /// Team view: depth in the listed tree (0 at the top); 0 otherwise.
    pub depth: u32,
    /// Entities the row covers.
    pub entities: u32,
    pub metrics: Metrics,
    pub previous: Option<Metrics>,
    pub buckets: Vec<Bucket>,
}

/// One point of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Calendar start (Monday or first of the month, 00:00 UTC).
    pub start: Millis,
    /// Calendar end, exclusive. The figures cover only the part inside the window.
    pub end: Millis,
    pub metrics: Metrics,
}

/// Year 1 and year 9999, 00:00 UTC: the dates a query may name.
const MIN_TIME: Millis = -62_135_596_800_000;
const MAX_TIME: Millis = 253_402_300_800_000;
/// About a century: keeps per-day tables small.
const MAX_WINDOW_DAYS: i64 = 36_600;

/// A row before its figures: what it is and the entities it covers.
struct RowSpec<'a> {
    kind: RowKind,
    key: &'a str,
    parent: Option<&'a str>,
    depth: u32,
    entities: Cow<'a, [EntityIx]>,
    unattributed: bool,
}

/// Answers `query` from `index`.
pub fn report(index: &Index<'_>, query: &Query) -> Result<Report, DoraError> {
    validate(index, query)?;
    let specs = row_specs(index, query);
    let table = tiers(query.tiers);
    let series = spans(query.from, query.to, query.buckets);
    let previous = query
        .compare_previous
        .then(|| previous_window(query.from, query.to));

    let compute_row = |spec: &RowSpec<'_>, scratch: &mut Scratch| {
        let slice = |from, to| Slice {
            entities: &spec.entities,
            unattributed: spec.unattributed,
            environment: query.environment,
            from,
            to,
        };
        Row {
            kind: spec.kind,
            key: spec.key.to_owned(),
            parent: spec.parent.map(str::to_owned),
            depth: spec.depth,
            entities: spec.entities.len() as u32,
            metrics: compute(index, slice(query.from, query.to), table, scratch),
            previous: previous.map(|(from, to)| compute(index, slice(from, to), table, scratch)),
            buckets: series
                .iter()
                .map(|span| Bucket {
                    start: span.start,
                    end: span.end,
                    metrics: compute(index, slice(span.from, span.to), table, scratch),
                })
                .collect(),
        }
    };

    // Rows are independent: split them over the machine's threads in contiguous chunks (one
    // scratch per chunk), and keep their order.
    let threads = pave_stdx::available_threads()
        .min(specs.len().div_ceil(16))
        .max(1);
    let rows = if threads == 1 {
        let mut scratch = Scratch::default();
        specs.iter().map(|s| compute_row(s, &mut scratch)).collect()
    } else {
        let chunk = specs.len().div_ceil(threads);
        let chunks: Vec<&[RowSpec<'_>]> = specs.chunks(chunk).collect();
        pave_stdx::par_map(chunks, threads, |chunk| {
            let mut scratch = Scratch::default();
            chunk
                .iter()
                .map(|s| compute_row(s, &mut scratch))
                .collect::<Vec<Row>>()
        })
        .into_iter()
        .flatten()
        .collect()
    };

    let org: &Org = &index.org;
    let warnings = index
        .rollup
        .cycles()
        .iter()
        .map(|cycle| {
            let names: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .map(|&g| org.groups[g as usize].entity_ref.as_str())
                .collect();
            format!(
                "groups form a parent cycle ({}): each counts the others as ancestors, once",
                names.join(" → ")
            )
        })
        .collect();
    Ok(Report {
        from: query.from,
        to: query.to,
        environment: index.environments[query.environment as usize].clone(),
        group_by: query.group_by,
        tiers: query.tiers,
        previous,
        rows,
        warnings,
    })
}

fn validate(index: &Index<'_>, query: &Query) -> Result<(), DoraError> {
    let Query { from, to, .. } = *query;
    if from >= to {
        return Err(DoraError::EmptyWindow { from, to });
    }
    if from < MIN_TIME || to > MAX_TIME || (to - from) / crate::buckets::DAY_MS > MAX_WINDOW_DAYS {
        return Err(DoraError::WindowOutOfRange {
            from,
            to,
            min: MIN_TIME,
            max: MAX_TIME,
            max_days: MAX_WINDOW_DAYS,
        });
    }
    let org: &Org = &index.org;
    let check = |path: &str, value: u32, what: &'static str, len: usize| {
        if value as usize >= len {
            Err(DoraError::IndexOutOfRange {
                path: path.to_owned(),
                value: value.into(),
                what,
                len,
            })
        } else {
            Ok(())
        }
    };
    check(
        "query.environment",
        query.environment.into(),
        "environment",
        index.environments.len(),
    )?;
    match query.only {
        None => Ok(()),
        Some(Scope::Entity(e)) => check("query.only.entity", e, "entity", org.entities.len()),
        Some(Scope::Group(g)) => check("query.only.group", g, "group", org.groups.len()),
        Some(Scope::System(s)) => check("query.only.system", s, "system", org.systems.len()),
        Some(Scope::Domain(d)) => check("query.only.domain", d, "domain", org.domains.len()),
    }
}

/// The rows of `query`, in listing order, each with its entity set (narrowed by `only`).
fn row_specs<'a>(index: &'a Index<'_>, query: &Query) -> Vec<RowSpec<'a>> {
    let org: &Org = &index.org;
    let rollup = &index.rollup;
    let scope: Option<Cow<'a, [EntityIx]>> = match query.only {
        None => None,
        Some(Scope::Entity(e)) => Some(Cow::Owned(vec![e])),
        Some(Scope::Group(g)) => Some(Cow::Borrowed(rollup.group_entities(g))),
        Some(Scope::System(s)) => Some(Cow::Borrowed(rollup.system_entities(s))),
        Some(Scope::Domain(d)) => Some(Cow::Borrowed(rollup.domain_entities(d))),
    };
    if query.group_by == GroupBy::Org {
        let entities = scope.unwrap_or_else(|| (0..org.entities.len() as EntityIx).collect());
        return vec![RowSpec {
            kind: RowKind::Org,
            key: "org",
            parent: None,
            depth: 0,
            entities,
            unattributed: query.only.is_none(),
        }];
    }
    let in_scope: Option<Vec<bool>> = scope.as_ref().map(|set| {
        let mut member = vec![false; org.entities.len()];
        for &e in set.iter() {
            member[e as usize] = true;
        }
        member
    });
    let narrow = |set: Cow<'a, [EntityIx]>| -> Cow<'a, [EntityIx]> {
        match &in_scope {
            None => set,
            Some(member) => set
                .iter()
                .copied()
                .filter(|&e| member[e as usize])
                .collect(),
        }
    };
    let mut specs = Vec::new();
    let mut push =
        |kind, key: &'a str, parent: Option<&'a str>, depth, entities: Cow<'a, [EntityIx]>| {
            // A row with nothing in it is not listed (see the module docs).
            if !entities.is_empty() {
                specs.push(RowSpec {
                    kind,
                    key,
                    parent,
                    depth,
                    entities,
                    unattributed: false,
                });
            }
        };
    let group_ref = |g: GroupIx| org.groups[g as usize].entity_ref.as_str();
    match query.group_by {
        GroupBy::Entity => {
            for (e, node) in org.entities.iter().enumerate() {
                let set = narrow(Cow::Owned(vec![e as EntityIx]));
                push(
                    RowKind::Entity,
                    &node.entity_ref,
                    node.owner.map(group_ref),
                    0,
                    set,
                );
            }
        }
        GroupBy::Team => {
            for (g, depth) in group_tree_order(index, query.only) {
                let node = &org.groups[g as usize];
                let set = narrow(Cow::Borrowed(rollup.group_entities(g)));
                push(
                    RowKind::Group,
                    &node.entity_ref,
                    node.parent.map(group_ref),
                    depth,
                    set,
                );
            }
        }
        GroupBy::System => {
            for (s, node) in org.systems.iter().enumerate() {
                let domain =
                    org.system_domains[s].map(|d| org.domains[d as usize].entity_ref.as_str());
                let set = narrow(Cow::Borrowed(rollup.system_entities(s as SystemIx)));
                push(RowKind::System, &node.entity_ref, domain, 0, set);
            }
        }
        GroupBy::Domain => {
            for (d, node) in org.domains.iter().enumerate() {
                let set = narrow(Cow::Borrowed(rollup.domain_entities(d as DomainIx)));
                push(RowKind::Domain, &node.entity_ref, None, 0, set);
            }
        }
        GroupBy::Org => {}
    }
    specs
}

/// Groups in tree order with their depth: pre-order from the top groups (no parent), children
/// by index; groups reachable from no top group (parent cycles) follow, each walked once.
/// With `only: group`, that group's subtree only.
fn group_tree_order(index: &Index<'_>, only: Option<Scope>) -> Vec<(GroupIx, u32)> {
    let groups = &index.org.groups;
    let mut children: Vec<Vec<GroupIx>> = vec![Vec::new(); groups.len()];
    for (g, node) in groups.iter().enumerate() {
        if let Some(p) = node.parent {
            children[p as usize].push(g as GroupIx);
        }
    }
    let roots: Vec<GroupIx> = match only {
        Some(Scope::Group(g)) => vec![g],
        _ => {
            let mut roots: Vec<GroupIx> = (0..groups.len() as GroupIx)
                .filter(|&g| groups[g as usize].parent.is_none())
                .collect();
            // Cycle members have parents but no top: appended after the trees, so every
            // group is listed.
            roots.extend(0..groups.len() as GroupIx);
            roots
        }
    };
    let mut visited = vec![false; groups.len()];
    let mut order = Vec::with_capacity(groups.len());
    let mut stack: Vec<(GroupIx, u32)> = Vec::new();
    for root in roots {
        if visited[root as usize] {
            continue;
        }
        stack.push((root, 0));
        while let Some((g, depth)) = stack.pop() {
            if std::mem::replace(&mut visited[g as usize], true) {
                continue;
            }
            order.push((g, depth));
            for &child in children[g as usize].iter().rev() {
                if !visited[child as usize] {
                    stack.push((child, depth + 1));
                }
            }
        }
    }
    order
}
