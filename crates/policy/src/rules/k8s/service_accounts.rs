//! Service accounts: mounted tokens and the default account.

use super::*;

/// The service account a pod runs as, and whether its token is mounted.
pub(super) struct Account<'a> {
    pub(super) name: &'a str,
    /// The pod itself sets `automountServiceAccountToken: true`.
    pub(super) pod_true: bool,
    pub(super) mounted: bool,
    /// The ServiceAccount is in the input.
    pub(super) known: bool,
}

pub(super) fn account<'a>(
    pod: &PodRef<'a>,
    ns: Option<&'a str>,
    docs: &'a [Document],
    accounts: &Names<'a>,
) -> Account<'a> {
    let name = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|f| {
            pod.get(&[*f])
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("default");
    let mut known = false;
    let mounted = match pod.get(&["automountServiceAccountToken"]) {
        Some(Value::Bool(b)) => *b,
        _ => !accounts.find(ns, "ServiceAccount", name).any(|i| {
            known = true;
            docs[i].value.get("automountServiceAccountToken") == Some(&Value::Bool(false))
        }),
    };
    Account {
        name,
        pod_true: pod.get(&["automountServiceAccountToken"]) == Some(&Value::Bool(true)),
        mounted,
        known,
    }
}

pub(super) fn check_automount_token(ctx: &Context<'_>, out: &mut Out<'_>) {
    let accounts = Names::of_kind(ctx, "ServiceAccount");
    for (i, doc) in k8s_docs(ctx) {
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let acc = account(&pod, namespace_of(doc), ctx.docs, &accounts);
        if !acc.mounted {
            continue;
        }
        let message = if acc.pod_true {
            "pod sets automountServiceAccountToken: true".to_owned()
        } else if acc.known {
            format!(
                "the token of service account {} is mounted: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false",
                acc.name
            )
        } else {
            format!(
                "the token of service account {} is mounted: set automountServiceAccountToken: false on the pod (or its ServiceAccount)",
                acc.name
            )
        };
        out.emit(i, pod.path(&["automountServiceAccountToken"]), message);
    }
}

pub(super) fn check_default_service_account(ctx: &Context<'_>, out: &mut Out<'_>) {
    let accounts = Names::of_kind(ctx, "ServiceAccount");
    for (i, doc) in k8s_docs(ctx) {
        let Some(pod) = shipped_pod(doc) else {
            continue;
        };
        let acc = account(&pod, namespace_of(doc), ctx.docs, &accounts);
        if acc.name == "default" && acc.mounted {
            out.emit(
                i,
                pod.path(&["serviceAccountName"]),
                "pod runs as the namespace's default service account, with its token mounted"
                    .into(),
            );
        }
    }
}
