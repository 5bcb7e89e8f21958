//! Availability: replicas, disruption budgets, spreading, autoscalers, priority classes.

use super::*;

/// How many pods a workload runs, when the input tells: an autoscaler's minReplicas, or
/// spec.replicas (1 when unset). `None` for DaemonSets and Jobs.
pub(super) fn replicas_of<'a>(
    w: &Workload<'a>,
    hpas: &Names<'a>,
    docs: &[Document],
) -> Option<i64> {
    match w.kind {
        "Pod" => Some(1),
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            if let Some(h) = hpas.find(w.ns, w.kind, w.name).next() {
                return Some(
                    spec_get(&docs[h], &["minReplicas"])
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                );
            }
            Some(
                spec_get(w.doc_ref, &["replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1),
            )
        }
        _ => None,
    }
}

pub(super) fn check_replicas(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    let hpas = autoscalers(ctx);
    for (i, doc) in k8s_docs(ctx) {
        let kind = kind_of(doc);
        if !matches!(kind, "Deployment" | "StatefulSet") || owned(doc) {
            continue;
        }
        let ns = namespace_of(doc);
        if !production.matches(ns) || hpas.find(ns, kind, name_of(doc)).next().is_some() {
            continue;
        }
        let message = match spec_get(doc, &["replicas"]) {
            None | Some(Value::Null) => "does not set spec.replicas, so it runs 1 replica".into(),
            Some(v) => match v.as_i64() {
                Some(n @ 1) => format!("runs {n} replica; use 2 or more in production"),
                _ => continue,
            },
        };
        out.emit(i, spec_path(&["replicas"]), message);
    }
}

pub(super) fn check_pdb(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    let budgets: Vec<&Document> = objects(ctx, "PodDisruptionBudget")
        .map(|(_, d)| d)
        .collect();
    // Covered, by document index; namespace-wide budgets by namespace (any of them for
    // workloads without one).
    let mut covered = vec![false; ctx.docs.len()];
    let mut namespace_wide: HashSet<Option<&str>> = HashSet::new();
    if !budgets.is_empty() {
        let pods = PodIndex::new(ctx);
        for pdb in budgets {
            let sel = pdb_selector(pdb);
            if sel.is_everything() {
                namespace_wide.insert(namespace_of(pdb));
                continue;
            }
            pods.for_each_match(namespace_of(pdb), &sel, |w| {
                covered[pods.items[w].doc] = true;
                ControlFlow::Continue(())
            });
        }
    }
    let wide = |ns: Option<&str>| match ns {
        Some(_) => namespace_wide.contains(&ns) || namespace_wide.contains(&None),
        None => !namespace_wide.is_empty(),
    };
    for (doc, d) in k8s_docs(ctx) {
        let Some(pod) = pod_ref(d) else { continue };
        if covered[doc]
            || wide(namespace_of(d))
            || !matches!(pod.kind, "Deployment" | "StatefulSet")
            || owned(d)
            || !production.matches(namespace_of(d))
            || spec_get(d, &["replicas"]).and_then(Value::as_i64) == Some(0)
        {
            continue;
        }
        out.emit(
            doc,
            pod.template_path(&["metadata", "labels"]),
            format!(
                "no PodDisruptionBudget selects the pods of {} {}",
                pod.kind,
                name_of(d)
            ),
        );
    }
}

/// A value as written: `50%`, `0`.
pub(super) fn shown(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A percentage such as `50%`.
pub(super) fn percent(v: &Value) -> Option<i64> {
    v.as_str()?.strip_suffix('%')?.trim().parse().ok()
}

pub(super) fn check_pdb_zero_disruptions(ctx: &Context<'_>, out: &mut Out<'_>) {
    const HANGS: &str = "allows no voluntary eviction, so node drains hang";
    let mut pods = None;
    let mut hpas = None;
    for (i, pdb) in objects(ctx, "PodDisruptionBudget") {
        let min = spec_get(pdb, &["minAvailable"]);
        let max = spec_get(pdb, &["maxUnavailable"]);
        if let Some(max) = max
            && (max.as_i64() == Some(0) || percent(max) == Some(0) || max.as_str() == Some("0"))
        {
            out.emit(
                i,
                spec_path(&["maxUnavailable"]),
                format!("maxUnavailable {} {HANGS}", shown(max)),
            );
            continue;
        }
        let Some(min) = min else { continue };
        if percent(min).is_some_and(|p| p >= 100) {
            out.emit(
                i,
                spec_path(&["minAvailable"]),
                format!("minAvailable {} {HANGS}", shown(min)),
            );
            continue;
        }
        // Compare with what it selects, when the input tells how many pods that is.
        let pods: &PodIndex<'_> = pods.get_or_insert_with(|| PodIndex::new(ctx));
        let hpas: &Names<'_> = hpas.get_or_insert_with(|| autoscalers(ctx));
        let mut total = Some(0);
        let mut what = Vec::new();
        pods.for_each_match(namespace_of(pdb), &pdb_selector(pdb), |w| {
            let item = &pods.items[w];
            if item.owned {
                return ControlFlow::Continue(());
            }
            match (replicas_of(item, hpas, ctx.docs), total.as_mut()) {
                (Some(n), Some(t)) => {
                    *t += n;
                    what.push(format!("{} {}", item.kind, item.name));
                    ControlFlow::Continue(())
                }
                _ => {
                    total = None;
                    ControlFlow::Break(())
                }
            }
        });
        let Some(total) = total.filter(|t| *t > 0) else {
            continue;
        };
        let required = match (min.as_i64(), percent(min)) {
            (Some(n), _) => n,
            // Kubernetes rounds a percentage of minAvailable up.
            (None, Some(p)) => (p * total + 99) / 100,
            _ => continue,
        };
        if required >= total {
            if what.len() > 3 {
                let more = what.len() - 3;
                what.truncate(3);
                what.push(format!("{more} more"));
            }
            out.emit(
                i,
                spec_path(&["minAvailable"]),
                format!(
                    "minAvailable {} with {total} pod{} selected ({}) {HANGS}",
                    shown(min),
                    if total == 1 { "" } else { "s" },
                    what.join(", ")
                ),
            );
        }
    }
}

pub(super) fn check_topology_spread(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    for (i, doc) in k8s_docs(ctx) {
        if !matches!(
            kind_of(doc),
            "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController"
        ) || !production.matches(namespace_of(doc))
        {
            continue;
        }
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let spread = pod
            .get(&["topologySpreadConstraints"])
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        let anti_affinity = pod
            .get(&["affinity", "podAntiAffinity"])
            .and_then(Value::as_object)
            .is_some_and(|a| !a.is_empty());
        if !spread && !anti_affinity {
            out.emit(
                i,
                pod.path(&["topologySpreadConstraints"]),
                "pods set no topologySpreadConstraints (or pod anti-affinity): replicas may share one node or zone".into(),
            );
        }
    }
}

pub(super) fn check_hpa_min_replicas(ctx: &Context<'_>, out: &mut Out<'_>) {
    let production = Production::new(ctx.settings);
    for (i, hpa) in objects(ctx, "HorizontalPodAutoscaler") {
        if !production.matches(namespace_of(hpa)) {
            continue;
        }
        let message = match spec_get(hpa, &["minReplicas"]) {
            None | Some(Value::Null) => {
                "does not set minReplicas, so it scales down to 1 replica".to_owned()
            }
            // 0 is scale-to-zero, a deliberate choice.
            Some(v) => match v.as_i64() {
                Some(n @ 1) => format!("minReplicas {n} scales down to a single replica"),
                _ => continue,
            },
        };
        out.emit(i, spec_path(&["minReplicas"]), message);
    }
}

pub(super) fn check_hpa_max_replicas(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    if kind_of(doc) != "HorizontalPodAutoscaler" {
        return;
    }
    let Some(max) = spec_get(doc, &["maxReplicas"]).and_then(Value::as_i64) else {
        return;
    };
    let min = spec_get(doc, &["minReplicas"])
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if max <= min {
        emit(
            spec_path(&["maxReplicas"]),
            format!("maxReplicas {max} is not above minReplicas {min}: it can never scale up"),
        );
    }
}

pub(super) fn check_priority_class(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let Some(pod) = shipped_pod(doc) else { return };
    if pod
        .get(&["priorityClassName"])
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        emit(
            pod.path(&["priorityClassName"]),
            "pod sets no priorityClassName".into(),
        );
    }
}
