//! Who counts where: an entity counts for its owner group and every ancestor of it
//! (transitively up `parent`), for its system, for that system's domain, and for the org.
//!
//! Group parents come from catalog files, so they can form a cycle (`a → b → a`). The walk
//! up from a group stops at the first group it has already seen: in a cycle every member is
//! an ancestor of every other, each counted once, and the cycle is reported (a warning in
//! reports) instead of looping.

use crate::facts::{DomainIx, EntityIx, GroupIx, Org, SystemIx};

/// Compressed rows: `items[offsets[i]..offsets[i + 1]]` belong to `i`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl Csr {
    /// Builds rows from `(row, item)` pairs produced twice by `pairs` (once to count, once to
    /// fill), keeping the order in which items come for each row.
    fn build<I: Iterator<Item = (usize, u32)>>(rows: usize, pairs: impl Fn() -> I) -> Csr {
        let mut offsets = vec![0u32; rows + 1];
        for (row, _) in pairs() {
            offsets[row + 1] += 1;
        }
        for i in 0..rows {
            offsets[i + 1] += offsets[i];
        }
        let mut next: Vec<u32> = offsets[..rows].to_vec();
        let mut items = vec![0u32; offsets[rows] as usize];
        for (row, item) in pairs() {
            items[next[row] as usize] = item;
            next[row] += 1;
        }
        Csr { offsets, items }
    }

    pub(crate) fn row(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.items[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// The entity sets of every group (with its subtree), system and domain, built once.
#[derive(Debug, Clone, Default)]
pub struct Rollup {
    /// Ancestors of each group, nearest first, without the group itself.
    ancestors: Csr,
    /// Entities of each group's subtree, ascending.
    group_entities: Csr,
    system_entities: Csr,
    domain_entities: Csr,
    /// Each parent cycle once, as the groups on it in walk order.
    cycles: Vec<Vec<GroupIx>>,
}

impl Rollup {
    /// Builds the sets. `org` must have been validated (indices in range); out-of-range
    /// references are skipped here rather than trusted.
    pub fn new(org: &Org) -> Rollup {
        let groups = org.groups.len();
        let (ancestor_lists, cycles) = walk_ancestors(org);
        let ancestors = Csr::build(groups, || {
            ancestor_lists
                .iter()
                .enumerate()
                .flat_map(|(g, list)| list.iter().map(move |&a| (g, a)))
        });
        let owner_of = |e: usize| {
            org.entities[e]
                .owner
                .filter(|&g| (g as usize) < groups)
                .map(|g| g as usize)
        };
        let ancestors_ref = &ancestors;
        let group_entities = Csr::build(groups, || {
            (0..org.entities.len()).flat_map(move |e| {
                let owner = owner_of(e);
                let chain = owner.map_or(&[][..], |g| ancestors_ref.row(g));
                owner
                    .into_iter()
                    .chain(chain.iter().map(|&a| a as usize))
                    .map(move |g| (g, e as u32))
            })
        });
        let system_of = |e: usize| {
            org.entities[e]
                .system
                .filter(|&s| (s as usize) < org.systems.len())
        };
        let system_entities = Csr::build(org.systems.len(), || {
            (0..org.entities.len())
                .filter_map(move |e| system_of(e).map(|s| (s as usize, e as u32)))
        });
        let domain_of = |s: SystemIx| {
            org.system_domains
                .get(s as usize)
                .copied()
                .flatten()
                .filter(|&d| (d as usize) < org.domains.len())
        };
        let domain_entities = Csr::build(org.domains.len(), || {
            (0..org.entities.len()).filter_map(move |e| {
                system_of(e)
                    .and_then(domain_of)
                    .map(|d| (d as usize, e as u32))
            })
        });
        Rollup {
            ancestors,
            group_entities,
            system_entities,
            domain_entities,
            cycles,
        }
    }

    /// The groups above `group`, nearest first (cycle-safe: each once, never `group`).
    pub fn ancestors(&self, group: GroupIx) -> &[GroupIx] {
        self.ancestors.row(group as usize)
    }

    /// Every entity owned by `group` or by a group below it, ascending.
    pub fn group_entities(&self, group: GroupIx) -> &[EntityIx] {
        self.group_entities.row(group as usize)
    }

    /// Every entity of `system`, ascending.
    pub fn system_entities(&self, system: SystemIx) -> &[EntityIx] {
        self.system_entities.row(system as usize)
    }

    /// Every entity of the systems of `domain`, ascending.
    pub fn domain_entities(&self, domain: DomainIx) -> &[EntityIx] {
        self.domain_entities.row(domain as usize)
    }

    /// Whether `group` is `root` or below it.
    pub fn in_subtree(&self, group: GroupIx, root: GroupIx) -> bool {
        group == root || self.ancestors(group).contains(&root)
    }

    /// The parent cycles found, each once (empty for a well-formed catalog).
    pub fn cycles(&self) -> &[Vec<GroupIx>] {
        &self.cycles
    }
}

/// For each group, the groups met walking up `parent` until the top or a group already met;
/// and each cycle once.
fn walk_ancestors(org: &Org) -> (Vec<Vec<GroupIx>>, Vec<Vec<GroupIx>>) {
    let groups = org.groups.len();
    let parent = |g: usize| {
        org.groups[g]
            .parent
            .filter(|&p| (p as usize) < groups)
            .map(|p| p as usize)
    };
    // `seen[g] == stamp` marks groups met during the current walk: one allocation for all.
    let mut seen = vec![usize::MAX; groups];
    let mut lists = Vec::with_capacity(groups);
    let mut cycles: Vec<Vec<GroupIx>> = Vec::new();
    let mut in_a_cycle = vec![false; groups];
    for start in 0..groups {
        seen[start] = start;
        let mut list = Vec::new();
        let mut current = start;
        while let Some(p) = parent(current) {
            if seen[p] == start {
                // `p` was met on this walk: the groups from `p` onwards form a cycle.
                if !in_a_cycle[p] {
                    let mut cycle = vec![p as GroupIx];
                    let mut g = p;
                    while let Some(next) = parent(g) {
                        if next == p {
                            break;
                        }
                        cycle.push(next as GroupIx);
                        g = next;
                    }
                    for &member in &cycle {
                        in_a_cycle[member as usize] = true;
                    }
                    cycles.push(cycle);
                }
                break;
            }
            seen[p] = start;
            list.push(p as GroupIx);
            current = p;
        }
        lists.push(list);
    }
    (lists, cycles)
}
