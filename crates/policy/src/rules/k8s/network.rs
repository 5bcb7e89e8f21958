//! Network: network policies and Ingress TLS.

use super::*;

pub(super) const INGRESS: u8 = 1;
pub(super) const EGRESS: u8 = 2;

/// The directions a NetworkPolicy restricts for the pods it selects.
pub(super) fn policy_directions(spec: Option<&Value>) -> u8 {
    let Some(spec) = spec else { return INGRESS };
    match spec.get("policyTypes").and_then(Value::as_array) {
        Some(types) => types.iter().fold(0, |acc, t| match t.as_str() {
            Some("Ingress") => acc | INGRESS,
            Some("Egress") => acc | EGRESS,
            _ => acc,
        }),
        // Unset: Ingress, plus Egress when there are egress rules.
        None => {
            let egress = spec
                .get("egress")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            INGRESS | if egress { EGRESS } else { 0 }
        }
    }
}

pub(super) fn check_network_policy(ctx: &Context<'_>, out: &mut Out<'_>) {
    let policies: Vec<&Document> = objects(ctx, "NetworkPolicy").map(|(_, d)| d).collect();
    if policies.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    let mut directions = vec![0u8; pods.items.len()];
    // Namespace-wide policies (`podSelector: {}`), by namespace; `any` for pods without one,
    // which may land next to any of them.
    let mut namespace_wide: HashMap<Option<&str>, u8> = HashMap::new();
    let mut any = 0u8;
    for policy in policies {
        let spec = policy.value.get("spec");
        let flags = policy_directions(spec);
        // podSelector is required; the API reads a missing one as empty (every pod).
        let sel = match spec.and_then(|s| s.get("podSelector")) {
            None | Some(Value::Null) => Selector::everything(),
            some => Selector::label_selector(some),
        };
        let ns = namespace_of(policy);
        if sel.is_everything() {
            *namespace_wide.entry(ns).or_default() |= flags;
            any |= flags;
            continue;
        }
        pods.for_each_match(ns, &sel, |w| {
            directions[w] |= flags;
            ControlFlow::Continue(())
        });
    }
    let unnamespaced = namespace_wide.get(&None).copied().unwrap_or(0);
    for (w, item) in pods.items.iter().enumerate() {
        // NetworkPolicies do not apply to pods on the host network.
        if item.owned || item.pod.get(&["hostNetwork"]) == Some(&Value::Bool(true)) {
            continue;
        }
        let wide = match item.ns {
            Some(_) => namespace_wide.get(&item.ns).copied().unwrap_or(0) | unnamespaced,
            None => any,
        };
        let what = match directions[w] | wide {
            d if d == INGRESS | EGRESS => continue,
            INGRESS => "restricts egress from",
            EGRESS => "restricts ingress to",
            _ => "selects",
        };
        out.emit(
            item.doc,
            item.pod.template_path(&["metadata", "labels"]),
            format!(
                "no NetworkPolicy {what} the pods of {} {}",
                item.kind, item.name
            ),
        );
    }
}

pub(super) fn check_ingress_tls(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    const CERT_ANNOTATIONS: &[&str] = &[
        "alb.ingress.kubernetes.io/certificate-arn",
        "networking.gke.io/managed-certificates",
        "ingress.gcp.kubernetes.io/pre-shared-cert",
    ];
    if kind_of(doc) != "Ingress" {
        return;
    }
    let tls = spec_get(doc, &["tls"])
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    let annotated = doc
        .value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .is_some_and(|a| CERT_ANNOTATIONS.iter().any(|k| a.contains_key(*k)));
    if !tls && !annotated {
        emit(
            spec_path(&["tls"]),
            "Ingress has no spec.tls: it serves plain HTTP".into(),
        );
    }
}
