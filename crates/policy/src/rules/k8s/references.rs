//! References that point at nothing: selectors, Ingress backends, autoscaler targets.

use super::*;

pub(super) fn check_service_selector(ctx: &Context<'_>, out: &mut Out<'_>) {
    let services: Vec<(usize, &Document, Selector<'_>)> = objects(ctx, "Service")
        .filter(|(_, svc)| spec_get(svc, &["type"]).and_then(Value::as_str) != Some("ExternalName"))
        .filter_map(|(i, svc)| Some((i, svc, Selector::map(spec_get(svc, &["selector"]))?)))
        .collect();
    if services.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, svc, sel) in services {
        if !pods.any_match(namespace_of(svc), &sel) {
            out.emit(
                i,
                spec_path(&["selector"]),
                format!("selector {} matches no pods in the input", sel.describe()),
            );
        }
    }
}

/// A Service port an Ingress backend names.
pub(super) enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

/// A Service an Ingress sends traffic to.
pub(super) struct Backend<'a> {
    /// Path to the backend.
    pub(super) path: Vec<PathSegment>,
    pub(super) service: &'a str,
    /// Where the name and port sit under `path` (networking.k8s.io/v1 or v1beta1 layout).
    pub(super) name_at: &'static [&'static str],
    pub(super) port_at: &'static [&'static str],
    pub(super) port: Option<PortRef<'a>>,
}

impl Backend<'_> {
    pub(super) fn at(&self, field: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path.clone();
        p.extend(field.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }
}

pub(super) fn backend<'a>(b: &'a Value, path: Vec<PathSegment>) -> Option<Backend<'a>> {
    let port = |v: Option<&'a Value>| match v {
        Some(Value::Number(n)) => n.as_i64().map(PortRef::Number),
        Some(Value::String(s)) => Some(PortRef::Name(s.as_str())),
        _ => None,
    };
    if let Some(service) = b.get("service") {
        // networking.k8s.io/v1
        let name = service.get("name")?.as_str()?;
        let p = service.get("port");
        let p =
            port(p.and_then(|p| p.get("number"))).or_else(|| port(p.and_then(|p| p.get("name"))));
        return Some(Backend {
            path,
            service: name,
            name_at: &["service", "name"],
            port_at: &["service", "port"],
            port: p,
        });
    }
    // extensions/v1beta1 and networking.k8s.io/v1beta1
    Some(Backend {
        path,
        service: b.get("serviceName")?.as_str()?,
        name_at: &["serviceName"],
        port_at: &["servicePort"],
        port: port(b.get("servicePort")),
    })
}

pub(super) fn backends(ingress: &Document) -> Vec<Backend<'_>> {
    let mut out = Vec::new();
    for field in ["defaultBackend", "backend"] {
        if let Some(b) = spec_get(ingress, &[field]) {
            out.extend(backend(b, spec_path(&[field])));
        }
    }
    let rules = spec_get(ingress, &["rules"]).and_then(Value::as_array);
    for (r, rule) in rules.into_iter().flatten().enumerate() {
        let paths = rule
            .get("http")
            .and_then(|h| h.get("paths"))
            .and_then(Value::as_array);
        for (p, entry) in paths.into_iter().flatten().enumerate() {
            if let Some(b) = entry.get("backend") {
                let path = path!["spec", "rules", r, "http", "paths", p, "backend"];
                out.extend(backend(b, path));
            }
        }
    }
    out
}

pub(super) fn has_port(svc: &Document, port: &PortRef<'_>) -> bool {
    spec_get(svc, &["ports"])
        .and_then(Value::as_array)
        .is_some_and(|ports| {
            ports.iter().any(|p| match port {
                PortRef::Number(n) => p.get("port").and_then(Value::as_i64) == Some(*n),
                PortRef::Name(name) => p.get("name").and_then(Value::as_str) == Some(*name),
            })
        })
}

pub(super) fn check_ingress_backend(ctx: &Context<'_>, out: &mut Out<'_>) {
    if objects(ctx, "Ingress").next().is_none() {
        return;
    }
    let services = Names::of_kind(ctx, "Service");
    if services.kinds.is_empty() {
        return;
    }
    for (i, ingress) in objects(ctx, "Ingress") {
        let ns = namespace_of(ingress);
        for b in backends(ingress) {
            let name = b.service;
            let mut found = services.find(ns, "Service", name).peekable();
            if found.peek().is_none() {
                out.emit(
                    i,
                    b.at(b.name_at),
                    format!("backend service {name} is not in the input"),
                );
                continue;
            }
            if let Some(port) = &b.port
                && !found.any(|s| has_port(&ctx.docs[s], port))
            {
                let shown = match port {
                    PortRef::Number(n) => n.to_string(),
                    PortRef::Name(p) => (*p).to_owned(),
                };
                out.emit(
                    i,
                    b.at(b.port_at),
                    format!("backend service {name} has no port {shown}"),
                );
            }
        }
    }
}

pub(super) fn check_hpa_target(ctx: &Context<'_>, out: &mut Out<'_>) {
    let mut hpas = objects(ctx, "HorizontalPodAutoscaler").peekable();
    if hpas.peek().is_none() {
        return;
    }
    let names =
        Names::new(k8s_docs(ctx).map(|(i, d)| (namespace_of(d), kind_of(d), name_of(d), i)));
    for (i, hpa) in hpas {
        let Some(target) = spec_get(hpa, &["scaleTargetRef"]) else {
            continue;
        };
        let (Some(kind), Some(name)) = (
            target.get("kind").and_then(Value::as_str),
            target.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        if names.kinds.contains(kind) && names.find(namespace_of(hpa), kind, name).next().is_none()
        {
            out.emit(
                i,
                spec_path(&["scaleTargetRef", "name"]),
                format!("scale target {kind} {name} is not in the input"),
            );
        }
    }
}

pub(super) fn check_pdb_selector(ctx: &Context<'_>, out: &mut Out<'_>) {
    let budgets: Vec<(usize, &Document)> = objects(ctx, "PodDisruptionBudget").collect();
    if budgets.is_empty() {
        return;
    }
    let pods = PodIndex::new(ctx);
    if pods.items.is_empty() {
        return;
    }
    for (i, pdb) in budgets {
        let sel = pdb_selector(pdb);
        if matches!(sel, Selector::Nothing) {
            out.emit(
                i,
                spec_path(&["selector"]),
                "PodDisruptionBudget has no usable selector, so it protects no pods".into(),
            );
        } else if !pods.any_match(namespace_of(pdb), &sel) {
            out.emit(
                i,
                spec_path(&["selector"]),
                format!("selector {} matches no pods in the input", sel.describe()),
            );
        }
    }
}
