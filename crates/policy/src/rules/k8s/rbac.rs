//! RBAC: wildcards, pod exec, cluster-admin bindings.

use super::*;

/// Names Kubernetes (or GKE) manages: not the team's to fix.
pub(super) fn platform_name(name: &str) -> bool {
    name.starts_with("system:") || name == "gce:podsecuritypolicy:calico-sa"
}

pub(super) fn rbac_rules(doc: &Document) -> impl Iterator<Item = (usize, &Value)> {
    doc.value
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Every verb on every resource of every API group: cluster-admin by another name.
pub(super) fn grants_everything(rule: &Value) -> bool {
    const VERBS: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    any_str(rule, "apiGroups", |g| g == "*")
        && any_str(rule, "resources", |r| r == "*")
        && (any_str(rule, "verbs", |v| v == "*")
            || VERBS
                .iter()
                .all(|verb| any_str(rule, "verbs", |v| v == *verb)))
}

/// `pods/exec` or `pods/attach`, with create (or get, which opens the websocket).
pub(super) fn grants_pod_exec(rule: &Value) -> bool {
    any_str(rule, "apiGroups", |g| g.is_empty() || g == "*")
        && any_str(rule, "resources", |r| {
            matches!(r, "*" | "pods/exec" | "pods/attach" | "*/exec" | "*/attach")
        })
        && any_str(rule, "verbs", |v| matches!(v, "*" | "get" | "create"))
}

pub(super) fn check_rbac_wildcard(_: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    if !matches!(kind_of(doc), "Role" | "ClusterRole") || platform_name(name_of(doc)) {
        return;
    }
    for (i, rule) in rbac_rules(doc) {
        let fields: Vec<&str> = ["apiGroups", "resources", "verbs", "nonResourceURLs"]
            .into_iter()
            .filter(|f| any_str(rule, f, |x| x == "*"))
            .collect();
        if let Some(first) = fields.first() {
            emit(
                path!["rules", i, *first],
                format!("rules[{i}] uses * in {}", fields.join(", ")),
            );
        }
    }
}

pub(super) fn pod_exec(doc: &Document, emit: Emit<'_>, kind: &str) {
    if kind_of(doc) != kind {
        return;
    }
    let name = name_of(doc);
    let builtin = kind == "ClusterRole" && matches!(name, "admin" | "edit" | "cluster-admin");
    if builtin || platform_name(name) {
        return;
    }
    for (i, rule) in rbac_rules(doc) {
        if grants_pod_exec(rule) {
            emit(
                path!["rules", i, "resources"],
                format!("rules[{i}] allows exec or attach into pods"),
            );
        }
    }
}

/// The role a binding references, if it is of `kind`.
pub(super) fn role_ref<'a>(binding: &'a Document, kind: &str) -> Option<&'a str> {
    let r = binding.value.get("roleRef")?;
    (r.get("kind")?.as_str()? == kind)
        .then(|| r.get("name")?.as_str())
        .flatten()
}

/// Why binding a ClusterRole hands over the cluster, if it does.
pub(super) fn cluster_admin_role<'a>(
    name: &'a str,
    cluster_roles: &Names<'a>,
    docs: &[Document],
) -> Option<String> {
    if name == "cluster-admin" {
        return Some("binds the cluster-admin ClusterRole".into());
    }
    cluster_roles
        .find(None, "ClusterRole", name)
        .any(|r| rbac_rules(&docs[r]).any(|(_, rule)| grants_everything(rule)))
        .then(|| format!("binds ClusterRole {name}, which grants every verb on every resource"))
}

/// ClusterRoles are cluster-scoped: indexed without a namespace.
pub(super) fn cluster_roles<'a>(ctx: &Context<'a>) -> Names<'a> {
    Names::new(objects(ctx, "ClusterRole").map(|(i, d)| (None, "ClusterRole", name_of(d), i)))
}

pub(super) fn check_cluster_admin_binding(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = cluster_roles(ctx);
    for (i, binding) in objects(ctx, "ClusterRoleBinding") {
        let name = name_of(binding);
        if name == "cluster-admin" || platform_name(name) {
            continue;
        }
        if let Some(role) = role_ref(binding, "ClusterRole")
            && let Some(message) = cluster_admin_role(role, &roles, ctx.docs)
        {
            out.emit(i, path!["roleRef", "name"], message);
        }
    }
}

pub(super) fn check_rolebinding_cluster_admin(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = cluster_roles(ctx);
    for (i, binding) in objects(ctx, "RoleBinding") {
        if platform_name(name_of(binding)) {
            continue;
        }
        if let Some(role) = role_ref(binding, "ClusterRole")
            && let Some(message) = cluster_admin_role(role, &roles, ctx.docs)
        {
            out.emit(i, path!["roleRef", "name"], message);
        }
    }
}

pub(super) fn check_rolebinding_admin_role(ctx: &Context<'_>, out: &mut Out<'_>) {
    let roles = Names::of_kind(ctx, "Role");
    for (i, binding) in objects(ctx, "RoleBinding") {
        if platform_name(name_of(binding)) {
            continue;
        }
        let Some(role) = role_ref(binding, "Role") else {
            continue;
        };
        if roles
            .find(namespace_of(binding), "Role", role)
            .any(|r| rbac_rules(&ctx.docs[r]).any(|(_, rule)| grants_everything(rule)))
        {
            out.emit(
                i,
                path!["roleRef", "name"],
                format!("binds Role {role}, which grants every verb on every resource"),
            );
        }
    }
}
