//! Change sets: linear history, merges, first deployments and their lookback, unknown shas,
//! the walk's cap, missing history, bad input; and random graphs against plain reachability.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};

use pave_dora::changeset::{ChangesetError, CommitGraph, Limits, ShippedReason, shipped};
use pave_dora::generate::SplitMix64;

const DAY: i64 = 86_400_000;

/// A graph from `(sha, parents, committed_at)`.
fn graph(commits: &[(&str, &[&str], i64)]) -> CommitGraph {
    let mut builder = CommitGraph::builder();
    for &(sha, parents, at) in commits {
        builder.add(sha, parents.iter().copied(), at).unwrap();
    }
    builder.finish().unwrap()
}

fn shas(graph: &CommitGraph, previous: Option<&str>, sha: &str, limits: &Limits) -> Vec<String> {
    shipped(graph, previous, sha, limits)
        .commits
        .iter()
        .map(|c| c.sha.to_owned())
        .collect()
}

#[test]
fn linear_history() {
    // a ← b ← c ← d ← e
    let g = graph(&[
        ("a", &[], 1),
        ("b", &["a"], 2),
        ("c", &["b"], 3),
        ("d", &["c"], 4),
        ("e", &["d"], 5),
    ]);
    let limits = Limits::default();
    let s = shipped(&g, Some("b"), "e", &limits);
    assert_eq!(shas(&g, Some("b"), "e", &limits), ["e", "d", "c"]);
    assert!(!s.truncated);
    assert_eq!(s.reason, None);
    assert_eq!(s.commits[0].committed_at, 5);
    // Redeploying the same sha ships nothing; so does going back (a rollback).
    assert!(shas(&g, Some("e"), "e", &limits).is_empty());
    assert!(shas(&g, Some("e"), "c", &limits).is_empty());
}

#[test]
fn merge_commits_bring_their_branch() {
    //   a ← b ─────── m        m's parents: b (first), f2
    //    ↖ f1 ← f2 ↙
    let g = graph(&[
        ("a", &[], 0),
        ("b", &["a"], 1),
        ("f1", &["a"], 2),
        ("f2", &["f1"], 3),
        ("m", &["b", "f2"], 4),
    ]);
    let limits = Limits::default();
    let set = |prev, sha| {
        shas(&g, prev, sha, &limits)
            .into_iter()
            .collect::<BTreeSet<_>>()
    };
    let expect = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(set(Some("b"), "m"), expect(&["m", "f1", "f2"]));
    // Deployed from the branch before: main's b comes with the merge.
    assert_eq!(set(Some("f1"), "m"), expect(&["m", "b", "f2"]));
    // Newest first: the merge before what it merged.
    assert_eq!(shas(&g, Some("b"), "m", &limits)[0], "m");
}

#[test]
fn first_deployment_is_capped_by_the_lookback() {
    // One commit a day for 60 days.
    let names: Vec<String> = (0..60).map(|d| format!("c{d:02}")).collect();
    let mut builder = CommitGraph::builder();
    for d in 0..60usize {
        let parents: Vec<&str> = if d == 0 {
            vec![]
        } else {
            vec![names[d - 1].as_str()]
        };
        builder.add(&names[d], parents, d as i64 * DAY).unwrap();
    }
    let g = builder.finish().unwrap();
    let s = shipped(&g, None, "c59", &Limits::default());
    // 30 days before day 59 is day 29: days 29..=59, 31 commits; older ones left out.
    assert_eq!(s.commits.len(), 31);
    assert_eq!(s.commits.last().unwrap().sha, "c29");
    assert!(s.truncated);
    assert_eq!(
        s.reason,
        Some(ShippedReason::FirstDeployment { since: 29 * DAY })
    );
    let week = Limits {
        first_deployment_lookback_ms: 7 * DAY,
        ..Limits::default()
    };
    assert_eq!(shipped(&g, None, "c59", &week).commits.len(), 8);
    // A young repository fits in the lookback: complete, but still said to be a first one.
    let s = shipped(&g, None, "c10", &Limits::default());
    assert_eq!(s.commits.len(), 11);
    assert!(!s.truncated);
    assert!(matches!(
        s.reason,
        Some(ShippedReason::FirstDeployment { .. })
    ));
}

#[test]
fn unknown_shas_are_reasons_not_panics() {
    let g = graph(&[("a", &[], 0), ("b", &["a"], DAY)]);
    let s = shipped(&g, Some("a"), "nope", &Limits::default());
    assert!(s.commits.is_empty() && s.truncated);
    assert_eq!(
        s.reason,
        Some(ShippedReason::UnknownSha { sha: "nope".into() })
    );
    assert!(
        s.reason
            .unwrap()
            .to_string()
            .contains("not in the commit history")
    );
    // An unknown previous sha: like a first deployment.
    let s = shipped(&g, Some("gone"), "b", &Limits::default());
    assert_eq!(s.commits.len(), 2);
    assert!(
        matches!(s.reason, Some(ShippedReason::UnknownPrevious { ref sha, .. }) if sha == "gone")
    );
}

#[test]
fn the_walk_is_capped() {
    let names: Vec<String> = (0..100).map(|d| format!("c{d:02}")).collect();
    let mut builder = CommitGraph::builder();
    for d in 0..100usize {
        let parents: Vec<&str> = if d == 0 {
            vec![]
        } else {
            vec![names[d - 1].as_str()]
        };
        builder.add(&names[d], parents, d as i64).unwrap();
    }
    let g = builder.finish().unwrap();
    let limits = Limits {
        max_commits: 10,
        ..Limits::default()
    };
    let s = shipped(&g, Some("c00"), "c99", &limits);
    assert!(s.truncated);
    assert_eq!(s.reason, Some(ShippedReason::Cap { limit: 10 }));
    // What it did list is shipped: the newest ten.
    let listed: Vec<&str> = s.commits.iter().map(|c| c.sha).collect();
    assert_eq!(
        listed,
        names[90..]
            .iter()
            .rev()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // Under the cap: complete.
    assert_eq!(shipped(&g, Some("c89"), "c99", &limits).commits.len(), 10);
    assert!(!shipped(&g, Some("c89"), "c99", &limits).truncated);
}

#[test]
fn missing_history_and_clock_skew() {
    // c's parent "shallow" was never added (a shallow clone, a partial push history).
    let g = graph(&[("b", &["shallow"], 5), ("c", &["b"], 6)]);
    let s = shipped(&g, None, "c", &Limits::default());
    assert_eq!(s.commits.len(), 2);
    assert!(s.truncated);
    assert_eq!(
        s.reason,
        Some(ShippedReason::HistoryBoundary { missing: 1 })
    );
    assert_eq!(g.len(), 2);
    assert!(g.commit("shallow").is_none());

    // Commit dates going backwards do not confuse the walk (it orders by generation).
    let g = graph(&[
        ("a", &[], 100 * DAY),
        ("b", &["a"], 50 * DAY),
        ("c", &["b"], DAY),
        ("x", &["a"], 200 * DAY),
        ("m", &["c", "x"], 2 * DAY),
    ]);
    let set: BTreeSet<String> = shas(&g, Some("x"), "m", &Limits::default())
        .into_iter()
        .collect();
    assert_eq!(set, ["b", "c", "m"].iter().map(|s| s.to_string()).collect());
}

#[test]
fn bad_histories_are_errors() {
    let mut builder = CommitGraph::builder();
    builder.add("a", ["b"], 1).unwrap();
    builder.add("b", ["a"], 2).unwrap();
    assert!(matches!(
        builder.finish(),
        Err(ChangesetError::Cycle { .. })
    ));

    let mut builder = CommitGraph::builder();
    builder.add("a", ["p"], 1).unwrap();
    builder.add("a", ["p"], 1).unwrap(); // the same push twice: fine
    assert_eq!(
        builder.add("a", ["q"], 1),
        Err(ChangesetError::Conflicting { sha: "a".into() })
    );

    let log = "c3 300 c2\nc2 200 c1\n\nc1 100\n";
    let g = CommitGraph::from_git_log(log).unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(g.commit("c2").unwrap().committed_at, 200_000);
    assert_eq!(shas(&g, Some("c1"), "c3", &Limits::default()), ["c3", "c2"]);
    let err = CommitGraph::from_git_log("c3 300 c2\nc2 yesterday c1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column 4: `yesterday` is not a Unix time in seconds"
    );
    let err = CommitGraph::from_git_log("c3\n").unwrap_err();
    assert!(err.to_string().starts_with("line 1, column 3:"), "{err}");
}

/// Everything reachable from `start` (inclusive), by plain search.
fn ancestors(parents: &HashMap<String, Vec<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.to_owned()];
    while let Some(c) = stack.pop() {
        if seen.insert(c.clone()) {
            stack.extend(parents.get(&c).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn random_graphs_agree_with_plain_reachability() {
    let mut rng = SplitMix64::new(2024);
    let unlimited = Limits {
        max_commits: usize::MAX,
        first_deployment_lookback_ms: i64::MAX / 4,
    };
    for case in 0..300 {
        let n = 1 + rng.below(60) as usize;
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        let mut builder = CommitGraph::builder();
        // Added in a shuffled order, with skewed dates: neither may matter.
        let mut order: Vec<usize> = (0..n).collect();
        pave_dora::generate::shuffle(case, &mut order);
        let mut lists = vec![Vec::new(); n];
        for (i, list) in lists.iter_mut().enumerate().skip(1) {
            let k = 1 + rng.below(3) as usize;
            for _ in 0..k {
                let p = format!("n{}", rng.below(i as u64));
                if !list.contains(&p) {
                    list.push(p);
                }
            }
        }
        for &i in &order {
            let sha = format!("n{i}");
            let at = i as i64 * 1000 + rng.below(5000) as i64 - 2500;
            builder
                .add(&sha, lists[i].iter().map(String::as_str), at)
                .unwrap();
            parents.insert(sha, lists[i].clone());
        }
        let g = builder.finish().unwrap();
        let sha = format!("n{}", rng.below(n as u64));
        let previous = format!("n{}", rng.below(n as u64));
        let expected: BTreeSet<String> = ancestors(&parents, &sha)
            .difference(&ancestors(&parents, &previous))
            .cloned()
            .collect();
        let s = shipped(&g, Some(&previous), &sha, &unlimited);
        let got: Vec<String> = s.commits.iter().map(|c| c.sha.to_owned()).collect();
        assert_eq!(
            got.iter().cloned().collect::<BTreeSet<_>>(),
            expected,
            "case {case}"
        );
        assert_eq!(got.len(), expected.len(), "no duplicates, case {case}");
        assert!(!s.truncated && s.reason.is_none(), "case {case}");
        // Children before parents.
        let position: HashMap<&str, usize> = got
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        for c in &got {
            for p in &parents[c] {
                if let Some(&pi) = position.get(p.as_str()) {
                    assert!(
                        pi > position[c.as_str()],
                        "case {case}: {p} listed before its child {c}"
                    );
                }
            }
        }
        // Without a previous deployment and no effective lookback: every ancestor.
        let first = shipped(&g, None, &sha, &unlimited);
        assert_eq!(
            first.commits.len(),
            ancestors(&parents, &sha).len(),
            "case {case}"
        );
    }
}

#[test]
fn graphs_extended_piecewise_agree_with_plain_reachability() {
    // The same random histories, added in shuffled batches to a finished graph (children
    // before parents included): change sets must not depend on how the graph was built.
    let mut rng = SplitMix64::new(77);
    let unlimited = Limits {
        max_commits: usize::MAX,
        first_deployment_lookback_ms: i64::MAX / 4,
    };
    let mut filled_total = 0;
    for case in 0..200 {
        let n = 1 + rng.below(50) as usize;
        let mut lists = vec![Vec::new(); n];
        for (i, list) in lists.iter_mut().enumerate().skip(1) {
            for _ in 0..1 + rng.below(3) {
                let p = format!("n{}", rng.below(i as u64));
                if !list.contains(&p) {
                    list.push(p);
                }
            }
        }
        let parents: HashMap<String, Vec<String>> = (0..n)
            .map(|i| (format!("n{i}"), lists[i].clone()))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        pave_dora::generate::shuffle(case + 1000, &mut order);
        let mut g = CommitGraph::builder().finish().unwrap();
        for batch in order.chunks(1 + rng.below(6) as usize) {
            let names: Vec<String> = batch.iter().map(|i| format!("n{i}")).collect();
            let extended =
                g.extend(batch.iter().zip(&names).map(|(&i, sha)| {
                    (sha.as_str(), lists[i].iter().map(String::as_str), i as i64)
                }))
                .unwrap();
            assert_eq!(extended.added, batch.len(), "case {case}");
            filled_total += extended.filled;
        }
        // Adding everything again changes nothing.
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let again = g
            .extend(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, sha)| (sha.as_str(), lists[i].iter().map(String::as_str), i as i64)),
            )
            .unwrap();
        assert_eq!(again.added, 0);
        assert_eq!(g.len(), n);
        for _ in 0..5 {
            let sha = format!("n{}", rng.below(n as u64));
            let previous = format!("n{}", rng.below(n as u64));
            let expected: BTreeSet<String> = ancestors(&parents, &sha)
                .difference(&ancestors(&parents, &previous))
                .cloned()
                .collect();
            let s = shipped(&g, Some(&previous), &sha, &unlimited);
            let got: BTreeSet<String> = s.commits.iter().map(|c| c.sha.to_owned()).collect();
            assert_eq!(got, expected, "case {case}");
            assert!(!s.truncated, "case {case}");
        }
    }
    // Parents added after their children fill history in: the shuffles do that often.
    assert!(filled_total > 0, "no case filled a parent in");
}

#[test]
fn extending_a_graph_fills_history_or_fails_without_changes() {
    let mut g = graph(&[("c", &["b"], 3), ("d", &["c"], 4)]);
    // `b` is only a parent: a history boundary.
    let s = shipped(&g, None, "d", &Limits::default());
    assert_eq!(
        s.reason,
        Some(ShippedReason::HistoryBoundary { missing: 1 })
    );
    let extended = g.extend([("b", vec!["a"], 2), ("a", vec![], 1)]).unwrap();
    assert_eq!(
        extended,
        pave_dora::changeset::Extended {
            added: 2,
            filled: 1
        }
    );
    assert_eq!(
        shas(&g, Some("a"), "d", &Limits::default()),
        ["d", "c", "b"]
    );

    // A cycle through a filled parent, and a conflicting date: errors, graph unchanged.
    let mut g = graph(&[("c", &["b"], 3)]);
    assert!(matches!(
        g.extend([("b", vec!["c"], 2)]),
        Err(ChangesetError::Cycle { .. })
    ));
    assert!(g.commit("b").is_none());
    assert_eq!(
        g.extend([("x", vec!["c"], 9), ("c", vec!["b"], 30)]),
        Err(ChangesetError::Conflicting { sha: "c".into() })
    );
    assert!(g.commit("x").is_none());
    assert_eq!(g.len(), 1);
    assert_eq!(
        g.extend([("x", vec!["x"], 9)]).map(|e| e.added),
        Err(ChangesetError::Cycle { sha: "x".into() })
    );
    // Still usable afterwards.
    g.extend([("b", vec![], 2), ("d", vec!["c"], 4)]).unwrap();
    assert_eq!(shas(&g, Some("b"), "d", &Limits::default()), ["d", "c"]);
}

#[test]
fn a_graph_lists_its_commits_and_parents() {
    let g = graph(&[("b", &["a"], 2), ("m", &["b", "x"], 3)]);
    let listed: Vec<(&str, i64)> = g.commits().map(|c| (c.sha, c.committed_at)).collect();
    assert_eq!(listed, [("b", 2), ("m", 3)]);
    assert_eq!(g.parents("m").unwrap().collect::<Vec<_>>(), ["b", "x"]);
    // `a` and `x` are only named as parents: not commits of the graph.
    assert!(g.parents("a").is_none());
    assert!(g.parents("nope").is_none());
}
