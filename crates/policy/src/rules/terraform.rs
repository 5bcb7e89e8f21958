//! Terraform plans (`terraform show -json`): storage encryption, public S3 buckets, security
//! groups open to the internet on admin ports, public databases, full-admin IAM policies and
//! required tags, for the AWS provider.
//!
//! Resources are read from `planned_values` (or `values`, for `terraform show -json` of a
//! state), modules included, so a finding points at the attribute in the JSON. Planned values
//! leave out what is unknown until apply; `resource_changes[].change.after_unknown` tells an
//! unknown attribute from an unset one, and unknown is never a violation.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use pave_yaml::PathSegment;
use serde_json::Value;

use crate::doc::{DocKind, Document};
use crate::rule::{DocRule, References, Rule, RuleMeta, Severity, Tier};

type Emit<'e> = &'e mut dyn FnMut(Vec<PathSegment>, String);

static NULL: Value = Value::Null;

fn meta(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    rationale: &'static str,
    remediation: &'static str,
    checkov: &'static [&'static str],
) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity,
        kind: DocKind::TerraformPlan,
        tier: Tier::Recommended,
        rationale,
        remediation,
        references: References {
            checkov,
            ..References::default()
        },
    }
}

/// A managed resource in the plan and where its object is in the JSON.
struct Resource<'a> {
    address: &'a str,
    kind: &'a str,
    values: &'a Value,
    /// `planned_values` or `values`.
    root: &'static str,
    /// Indexes into `child_modules` at each level, then into `resources`; the path is only
    /// built for findings.
    modules: Vec<usize>,
    index: usize,
}

impl<'a> Resource<'a> {
    /// A set (non-null) attribute.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The path to the resource object.
    fn path(&self) -> Vec<PathSegment> {
        let mut p = Vec::with_capacity(4 + 2 * self.modules.len());
        p.extend([self.root.into(), "root_module".into()]);
        for m in &self.modules {
            p.extend(["child_modules".into(), PathSegment::Index(*m)]);
        }
        p.extend(["resources".into(), PathSegment::Index(self.index)]);
        p
    }

    /// The path to `values.<keys…>`.
    fn at(&self, keys: &[&str]) -> Vec<PathSegment> {
        let mut p = self.path();
        p.push("values".into());
        p.extend(keys.iter().map(|k| PathSegment::Key((*k).to_owned())));
        p
    }
}

/// What a plan says about an attribute.
enum Attr<'a> {
    Set(&'a Value),
    /// Known only after apply.
    Unknown,
    /// Not set: the provider default applies.
    Unset,
}

struct Plan<'a> {
    doc: &'a Document,
    resources: Vec<Resource<'a>>,
    /// Address → `after_unknown`, built when first needed.
    unknown: OnceCell<HashMap<&'a str, &'a Value>>,
}

impl<'a> Plan<'a> {
    fn new(doc: &'a Document) -> Self {
        let mut resources = Vec::new();
        for root in ["planned_values", "values"] {
            if let Some(module) = doc.value.get(root).and_then(|v| v.get("root_module")) {
                walk(module, root, &mut Vec::new(), &mut resources);
                break;
            }
        }
        Plan {
            doc,
            resources,
            unknown: OnceCell::new(),
        }
    }

    /// `after_unknown` of a resource.
    fn unknown(&self, address: &str) -> Option<&'a Value> {
        self.unknown
            .get_or_init(|| {
                let mut unknown = HashMap::new();
                if let Some(Value::Array(changes)) = self.doc.value.get("resource_changes") {
                    for c in changes {
                        if let (Some(address), Some(after)) = (
                            c.get("address").and_then(Value::as_str),
                            c.get("change").and_then(|c| c.get("after_unknown")),
                        ) {
                            unknown.insert(address, after);
                        }
                    }
                }
                unknown
            })
            .get(address)
            .copied()
    }

    fn of_type<'s>(&'s self, kinds: &'s [&str]) -> impl Iterator<Item = &'s Resource<'a>> {
        self.resources
            .iter()
            .filter(move |r| kinds.contains(&r.kind))
    }

    fn attr(&self, r: &Resource<'a>, key: &str) -> Attr<'a> {
        if let Some(v) = r.get(key) {
            return Attr::Set(v);
        }
        if self
            .unknown(r.address)
            .and_then(|u| u.get(key))
            .is_some_and(|u| u == &Value::Bool(true))
        {
            Attr::Unknown
        } else {
            Attr::Unset
        }
    }
}

fn walk<'a>(
    module: &'a Value,
    root: &'static str,
    modules: &mut Vec<usize>,
    out: &mut Vec<Resource<'a>>,
) {
    if let Some(Value::Array(resources)) = module.get("resources") {
        for (index, r) in resources.iter().enumerate() {
            // Data sources are read, not created: nothing to guard.
            if r.get("mode").and_then(Value::as_str).unwrap_or("managed") != "managed" {
                continue;
            }
            let (Some(address), Some(kind)) = (
                r.get("address").and_then(Value::as_str),
                r.get("type").and_then(Value::as_str),
            ) else {
                continue;
            };
            out.push(Resource {
                address,
                kind,
                values: r.get("values").unwrap_or(&NULL),
                root,
                modules: modules.clone(),
                index,
            });
        }
    }
    if modules.len() < 64
        && let Some(Value::Array(children)) = module.get("child_modules")
    {
        for (j, child) in children.iter().enumerate() {
            modules.push(j);
            walk(child, root, modules, out);
            modules.pop();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Linking S3 sub-resources (encryption, public access block) to their buckets.

/// An address without instance keys: `module.a["x"].aws_s3_bucket.b[0]` → `module.a.aws_s3_bucket.b`,
/// which is how the `configuration` section names it.
fn strip_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in address.chars() {
        if depth == 0 {
            if c == '[' {
                depth = 1;
            } else {
                out.push(c);
            }
            continue;
        }
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if c == '"' {
            quoted = true;
        } else if c == '[' {
            depth += 1;
        } else if c == ']' {
            depth -= 1;
        }
    }
    out
}

/// `module.a.module.b.` of `module.a.module.b.aws_s3_bucket.x` (empty for the root module).
fn module_prefix(address: &str) -> &str {
    let mut end = 0;
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let Some(dot) = after.find('.') else { break };
        end += "module.".len() + dot + 1;
        rest = &after[dot + 1..];
    }
    &address[..end]
}

/// The resource a configuration reference names (`aws_s3_bucket.b.id` → `aws_s3_bucket.b`),
/// if it names one in the same module.
fn resource_ref(reference: &str) -> Option<String> {
    let plain = strip_keys(reference);
    let mut parts = plain.split('.');
    let (kind, name) = (parts.next()?, parts.next()?);
    const NOT_RESOURCES: &[&str] = &[
        "var",
        "local",
        "module",
        "data",
        "each",
        "count",
        "path",
        "terraform",
        "self",
    ];
    (!NOT_RESOURCES.contains(&kind) && !name.is_empty()).then(|| format!("{kind}.{name}"))
}

/// Resource configurations by address (instance keys stripped, module path included).
fn config_index(doc: &Document) -> HashMap<String, &Value> {
    fn walk_config<'a>(
        module: &'a Value,
        prefix: &str,
        out: &mut HashMap<String, &'a Value>,
        depth: usize,
    ) {
        if let Some(Value::Array(resources)) = module.get("resources") {
            for r in resources {
                if let Some(address) = r.get("address").and_then(Value::as_str) {
                    out.insert(format!("{prefix}{address}"), r);
                }
            }
        }
        if depth < 64
            && let Some(Value::Object(calls)) = module.get("module_calls")
        {
            for (name, call) in calls {
                if let Some(child) = call.get("module") {
                    walk_config(child, &format!("{prefix}module.{name}."), out, depth + 1);
                }
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(root) = doc
        .value
        .get("configuration")
        .and_then(|c| c.get("root_module"))
    {
        walk_config(root, "", &mut out, 0);
    }
    out
}

/// Which buckets the resources of one type (e.g. encryption configurations) apply to.
///
/// A bucket is matched by name when the plan knows it, else through the `configuration`
/// section's references (`bucket = aws_s3_bucket.logs.id`): a new bucket's id is unknown
/// until apply. A resource whose bucket can be told neither way is taken to cover the buckets
/// of its own module, so that an unresolvable reference never makes a false finding.
#[derive(Default)]
struct BucketLinks<'a> {
    names: HashSet<&'a str>,
    addresses: HashSet<String>,
    modules: HashSet<String>,
}

impl<'a> BucketLinks<'a> {
    fn build(plan: &Plan<'a>, config: &HashMap<String, &'a Value>, kind: &str) -> Self {
        let mut links = BucketLinks::default();
        for r in plan.of_type(&[kind]) {
            let mut resolved = false;
            if let Some(name) = r.str("bucket") {
                links.names.insert(name);
                resolved = true;
            }
            let address = strip_keys(r.address);
            let module = module_prefix(&address);
            if let Some(Value::Array(refs)) = config
                .get(&address)
                .and_then(|c| c.pointer("/expressions/bucket/references"))
            {
                for target in refs
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(resource_ref)
                {
                    links.addresses.insert(format!("{module}{target}"));
                    resolved = true;
                }
            }
            if !resolved {
                links.modules.insert(module.to_owned());
            }
        }
        links
    }

    fn covers(&self, bucket: &Resource<'_>) -> bool {
        if ["bucket", "id"]
            .iter()
            .any(|k| bucket.str(k).is_some_and(|n| self.names.contains(n)))
        {
            return true;
        }
        let address = strip_keys(bucket.address);
        self.addresses.contains(&address) || self.modules.contains(module_prefix(&address))
    }
}

/// The items of a nested block: plans give blocks as arrays; tolerate a single object.
fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        Some(v @ Value::Object(_)) => std::slice::from_ref(v),
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

const PUBLIC_ACLS: &[&str] = &["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES: &[&str] = &[
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];
const BLOCK_FLAGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

fn s3_encryption(plan: &Plan<'_>, emit: Emit<'_>) {
    let mut buckets = plan.of_type(&["aws_s3_bucket"]).peekable();
    if buckets.peek().is_none() {
        return;
    }
    let config = config_index(plan.doc);
    let links = BucketLinks::build(
        plan,
        &config,
        "aws_s3_bucket_server_side_encryption_configuration",
    );
    for bucket in buckets {
        // The legacy inline block (provider < 4). Provider 4+ computes it from AWS, so an
        // unknown block means "whatever AWS applies", i.e. the SSE-S3 default: not declared.
        if !items(bucket.get("server_side_encryption_configuration")).is_empty()
            || links.covers(bucket)
        {
            continue;
        }
        emit(
            bucket.path(),
            format!(
                "{} declares no server-side encryption (no aws_s3_bucket_server_side_encryption_configuration for it): it relies on the SSE-S3 default",
                bucket.address
            ),
        );
    }
}

fn storage_unencrypted(plan: &Plan<'_>, emit: Emit<'_>) {
    // Account-level EBS encryption by default covers volumes that do not say.
    let ebs_default = plan
        .of_type(&["aws_ebs_encryption_by_default"])
        .any(|r| r.get("enabled") != Some(&Value::Bool(false)));
    let set = |r: &Resource<'_>, key: &str| r.str(key).is_some_and(|s| !s.is_empty());
    for r in plan.of_type(&["aws_ebs_volume", "aws_db_instance", "aws_rds_cluster"]) {
        let key = if r.kind == "aws_ebs_volume" {
            "encrypted"
        } else {
            "storage_encrypted"
        };
        // Replicas, restores and global-cluster members take their encryption from the source.
        let inherited = match r.kind {
            "aws_ebs_volume" => set(r, "snapshot_id"),
            "aws_db_instance" => set(r, "replicate_source_db") || set(r, "snapshot_identifier"),
            _ => {
                set(r, "replication_source_identifier")
                    || set(r, "snapshot_identifier")
                    || set(r, "global_cluster_identifier")
                    // Aurora Serverless v1 is always encrypted.
                    || r.str("engine_mode") == Some("serverless")
            }
        };
        match plan.attr(r, key) {
            Attr::Set(Value::Bool(false)) => {
                emit(r.at(&[key]), format!("{} sets {key} = false", r.address))
            }
            Attr::Unset if !inherited && (r.kind != "aws_ebs_volume" || !ebs_default) => emit(
                r.path(),
                format!(
                    "{} does not set {key}: its storage is not encrypted at rest",
                    r.address
                ),
            ),
            _ => {}
        }
    }
}

fn s3_public_acl(plan: &Plan<'_>, emit: Emit<'_>) {
    for r in plan.of_type(&["aws_s3_bucket", "aws_s3_bucket_acl"]) {
        if let Some(acl) = r.str("acl")
            && PUBLIC_ACLS.contains(&acl)
        {
            emit(
                r.at(&["acl"]),
                format!("{} sets the canned ACL {acl}", r.address),
            );
        }
        // Explicit grants: `grant` (legacy inline) or `access_control_policy.grant.grantee`.
        let mut grants: Vec<(Vec<PathSegment>, &Value)> = Vec::new();
        for (i, g) in items(r.get("grant")).iter().enumerate() {
            let mut p = r.at(&["grant"]);
            p.push(i.into());
            grants.push((p, g));
        }
        for (i, acp) in items(r.get("access_control_policy")).iter().enumerate() {
            for (j, g) in items(acp.get("grant")).iter().enumerate() {
                for grantee in items(g.get("grantee")) {
                    let mut p = r.at(&["access_control_policy"]);
                    p.extend([i.into(), "grant".into(), j.into()]);
                    grants.push((p, grantee));
                }
            }
        }
        for (path, g) in grants {
            if let Some(uri) = g.get("uri").and_then(Value::as_str)
                && PUBLIC_GRANTEES.contains(&uri)
            {
                let group = uri.rsplit('/').next().unwrap_or(uri);
                emit(
                    path,
                    format!("{} grants access to the {group} group", r.address),
                );
            }
        }
    }
}

fn public_access_block(plan: &Plan<'_>, emit: Emit<'_>) {
    for r in plan.of_type(&[
        "aws_s3_bucket_public_access_block",
        "aws_s3_account_public_access_block",
    ]) {
        // The flags default to false.
        let off: Vec<&str> = BLOCK_FLAGS
            .into_iter()
            .filter(|f| match plan.attr(r, f) {
                Attr::Set(v) => v == &Value::Bool(false),
                Attr::Unknown => false,
                Attr::Unset => true,
            })
            .collect();
        let Some(first) = off.first() else { continue };
        let path = if r.get(first).is_some() {
            r.at(&[*first])
        } else {
            r.path()
        };
        emit(path, format!("{} leaves {} off", r.address, off.join(", ")));
    }
}

fn public_access_block_missing(plan: &Plan<'_>, emit: Emit<'_>) {
    let mut buckets = plan.of_type(&["aws_s3_bucket"]).peekable();
    if buckets.peek().is_none() {
        return;
    }
    // An account-wide block with every flag on covers every bucket.
    if plan
        .of_type(&["aws_s3_account_public_access_block"])
        .any(|r| {
            BLOCK_FLAGS
                .iter()
                .all(|f| !matches!(plan.attr(r, f), Attr::Set(Value::Bool(false)) | Attr::Unset))
        })
    {
        return;
    }
    let config = config_index(plan.doc);
    let links = BucketLinks::build(plan, &config, "aws_s3_bucket_public_access_block");
    for bucket in buckets {
        if !links.covers(bucket) {
            emit(
                bucket.path(),
                format!(
                    "{} has no aws_s3_bucket_public_access_block (and no account-wide block)",
                    bucket.address
                ),
            );
        }
    }
}

fn public_db(plan: &Plan<'_>, emit: Emit<'_>) {
    for r in plan.of_type(&["aws_db_instance", "aws_rds_cluster_instance"]) {
        if r.get("publicly_accessible") == Some(&Value::Bool(true)) {
            emit(
                r.at(&["publicly_accessible"]),
                format!("{} sets publicly_accessible = true", r.address),
            );
        }
    }
}

/// One ingress rule, whichever resource it comes from.
struct Ingress<'a> {
    path: Vec<PathSegment>,
    cidrs: Vec<&'a str>,
    protocol: String,
    from: Option<i64>,
    to: Option<i64>,
}

fn port(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    items(v).iter().filter_map(Value::as_str)
}

fn protocol(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn ingress_rules<'a>(plan: &Plan<'a>) -> Vec<(&'a str, Ingress<'a>)> {
    let mut out = Vec::new();
    for r in plan.of_type(&[
        "aws_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
    ]) {
        match r.kind {
            "aws_security_group" => {
                for (i, rule) in items(r.get("ingress")).iter().enumerate() {
                    let mut path = r.at(&["ingress"]);
                    path.push(i.into());
                    out.push((
                        r.address,
                        Ingress {
                            path,
                            cidrs: strings(rule.get("cidr_blocks"))
                                .chain(strings(rule.get("ipv6_cidr_blocks")))
                                .collect(),
                            protocol: protocol(rule.get("protocol")),
                            from: port(rule.get("from_port")),
                            to: port(rule.get("to_port")),
                        },
                    ));
                }
            }
            "aws_security_group_rule" => {
                if r.str("type") == Some("ingress") {
                    out.push((
                        r.address,
                        Ingress {
                            path: r.path(),
                            cidrs: strings(r.get("cidr_blocks"))
                                .chain(strings(r.get("ipv6_cidr_blocks")))
                                .collect(),
                            protocol: protocol(r.get("protocol")),
                            from: port(r.get("from_port")),
                            to: port(r.get("to_port")),
                        },
                    ));
                }
            }
            _ => out.push((
                r.address,
                Ingress {
                    path: r.path(),
                    cidrs: r
                        .str("cidr_ipv4")
                        .into_iter()
                        .chain(r.str("cidr_ipv6"))
                        .collect(),
                    protocol: protocol(r.get("ip_protocol")),
                    from: port(r.get("from_port")),
                    to: port(r.get("to_port")),
                },
            )),
        }
    }
    out
}

fn open_admin_ports(plan: &Plan<'_>, admin_ports: &[u16], emit: Emit<'_>) {
    if admin_ports.is_empty() {
        return;
    }
    for (address, rule) in ingress_rules(plan) {
        let Some(cidr) = rule
            .cidrs
            .iter()
            .find(|c| **c == "0.0.0.0/0" || **c == "::/0")
        else {
            continue;
        };
        let all = rule.protocol == "-1" || rule.protocol == "all";
        // ICMP's "ports" are types and codes; other protocols carry no admin services.
        if !all && !matches!(rule.protocol.as_str(), "tcp" | "udp" | "6" | "17") {
            continue;
        }
        let open: Vec<String> = admin_ports
            .iter()
            .filter(|p| {
                all || matches!((rule.from, rule.to), (Some(f), Some(t)) if (f..=t).contains(&i64::from(**p)))
            })
            .map(u16::to_string)
            .collect();
        if open.is_empty() {
            continue;
        }
        let range = if all {
            "all ports".to_owned()
        } else {
            match (rule.from, rule.to) {
                (Some(f), Some(t)) if f == t => format!("{} {f}", rule.protocol),
                (Some(f), Some(t)) => format!("{} {f}-{t}", rule.protocol),
                _ => rule.protocol.clone(),
            }
        };
        let ports = if open.len() == 1 { "port" } else { "ports" };
        emit(
            rule.path,
            format!(
                "{address} allows ingress from {cidr} to admin {ports} {} ({range})",
                open.join(", ")
            ),
        );
    }
}

/// Whether an IAM policy document (JSON text) has an `Allow` of action `*` on resource `*`.
fn grants_admin(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let star = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s == "*" || s == "*:*",
        Some(Value::Array(a)) => a
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s == "*" || s == "*:*")),
        _ => false,
    };
    items(doc.get("Statement")).iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && star(s.get("Action"))
            && star(s.get("Resource"))
    })
}

fn iam_admin(plan: &Plan<'_>, emit: Emit<'_>) {
    for r in plan.of_type(&[
        "aws_iam_policy",
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
        "aws_iam_role",
    ]) {
        let mut policies: Vec<(Vec<PathSegment>, &str)> = Vec::new();
        if let Some(p) = r.str("policy") {
            policies.push((r.at(&["policy"]), p));
        }
        for (i, inline) in items(r.get("inline_policy")).iter().enumerate() {
            if let Some(p) = inline.get("policy").and_then(Value::as_str) {
                let mut path = r.at(&["inline_policy"]);
                path.extend([i.into(), "policy".into()]);
                policies.push((path, p));
            }
        }
        for (path, policy) in policies {
            if grants_admin(policy) {
                emit(
                    path,
                    format!(
                        "{} allows action \"*\" on resource \"*\": full administrator access",
                        r.address
                    ),
                );
            }
        }
    }
}

fn required_tags(plan: &Plan<'_>, required: &[String], emit: Emit<'_>) {
    if required.is_empty() {
        return;
    }
    for r in &plan.resources {
        let Some(values) = r.values.as_object() else {
            continue;
        };
        if !values.contains_key("tags") && !values.contains_key("tags_all") {
            continue;
        }
        // `tags_all` adds the provider's default_tags.
        let (key, tags) = match (plan.attr(r, "tags_all"), plan.attr(r, "tags")) {
            (Attr::Set(t), _) => ("tags_all", t),
            (Attr::Unknown, _) => continue,
            (Attr::Unset, Attr::Set(t)) => ("tags", t),
            (Attr::Unset, Attr::Unknown) => continue,
            (Attr::Unset, Attr::Unset) => ("tags", &NULL),
        };
        let unknown = plan.unknown(r.address).and_then(|u| u.get(key));
        let missing: Vec<&str> = required
            .iter()
            .filter(|k| match tags.get(k.as_str()) {
                None | Some(Value::Null) => {
                    // A tag whose value is known only after apply is there.
                    unknown.and_then(|u| u.get(k.as_str())) != Some(&Value::Bool(true))
                }
                Some(Value::String(s)) => s.trim().is_empty(),
                Some(_) => false,
            })
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let path = if values.contains_key("tags") {
            r.at(&["tags"])
        } else {
            r.at(&["tags_all"])
        };
        emit(
            path,
            format!(
                "{} is missing required tag{} {}",
                r.address,
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        );
    }
}

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    let rules = vec![
        DocRule {
            meta: meta(
                "tf-storage-unencrypted",
                "Unencrypted EBS volumes and RDS storage",
                Severity::High,
                "EBS volumes and RDS databases are not encrypted at rest unless asked; snapshots, \
                 replicas and backups of them are then unencrypted too, and encryption cannot be \
                 turned on in place later.",
                "Set `encrypted = true` on aws_ebs_volume (or enable aws_ebs_encryption_by_default) \
                 and `storage_encrypted = true` on aws_db_instance and aws_rds_cluster, with a \
                 `kms_key_id` where you need key control.",
                &["CKV_AWS_3", "CKV_AWS_16", "CKV_AWS_96"],
            ),
            check: |_, doc, emit| storage_unencrypted(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-s3-encryption",
                "S3 bucket without declared server-side encryption",
                // Since January 2023 S3 encrypts every new object with SSE-S3 by default, so
                // an undeclared configuration is not plaintext: it is unreviewed key management.
                Severity::Low,
                "S3 has encrypted new objects with SSE-S3 by default since January 2023, so data is \
                 not stored in the clear; but without a declared configuration the choice of keys \
                 (SSE-KMS for key policies, audit and revocation) is never made or reviewed, and \
                 drift goes unnoticed.",
                "Add an aws_s3_bucket_server_side_encryption_configuration for the bucket \
                 (sse_algorithm `aws:kms` with a customer-managed key where the data is sensitive, \
                 with bucket_key_enabled).",
                &["CKV_AWS_19"],
            ),
            check: |_, doc, emit| s3_encryption(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-s3-public-acl",
                "S3 bucket ACL grants public access",
                Severity::High,
                "The public-read, public-read-write and authenticated-read canned ACLs (and grants \
                 to the AllUsers or AuthenticatedUsers groups) expose the bucket to anyone on the \
                 internet, or to any AWS account.",
                "Use the `private` ACL, or better disable ACLs (object_ownership = \
                 BucketOwnerEnforced) and grant access through bucket policies to named \
                 principals; serve public content through CloudFront with origin access control.",
                &["CKV_AWS_20", "CKV_AWS_57"],
            ),
            check: |_, doc, emit| s3_public_acl(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-s3-public-access-block",
                "S3 public access block with settings off",
                Severity::Medium,
                "The four public access block settings are the guard against a later ACL or \
                 bucket policy making data public; each one left off reopens a way.",
                "Set block_public_acls, block_public_policy, ignore_public_acls and \
                 restrict_public_buckets to true.",
                &["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
            ),
            check: |_, doc, emit| public_access_block(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-s3-public-access-block-missing",
                "S3 bucket without a public access block",
                // AWS turns Block Public Access on for new buckets since April 2023; declaring
                // it keeps that from drifting.
                Severity::Low,
                "Without a public access block, nothing in the configuration stops an ACL or \
                 policy change from making the bucket public (AWS enables the block on new \
                 buckets since April 2023, but undeclared settings drift).",
                "Add an aws_s3_bucket_public_access_block for the bucket with all four settings \
                 true, or an aws_s3_account_public_access_block for the whole account.",
                &["CKV2_AWS_6"],
            ),
            check: |_, doc, emit| public_access_block_missing(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-sg-open-admin-port",
                "Security group open to the internet on an admin port",
                Severity::High,
                "SSH, RDP and database ports open to 0.0.0.0/0 or ::/0 are scanned and \
                 brute-forced within minutes of going live.",
                "Restrict the source to known CIDRs or security groups, or reach instances \
                 through SSM Session Manager, a VPN or a bastion instead. The ports checked are \
                 the `adminPorts` setting.",
                &["CKV_AWS_24", "CKV_AWS_25"],
            ),
            check: |ctx, doc, emit| {
                open_admin_ports(&Plan::new(doc), &ctx.settings.admin_ports, emit);
            },
        },
        DocRule {
            meta: meta(
                "tf-db-public",
                "Publicly accessible database",
                Severity::High,
                "A publicly accessible RDS instance gets a public DNS name and IP: only its \
                 security group and password stand between it and the internet.",
                "Set `publicly_accessible = false` and reach the database from inside the VPC \
                 (a bastion, SSM port forwarding, or a VPN).",
                &["CKV_AWS_17"],
            ),
            check: |_, doc, emit| public_db(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-iam-admin-policy",
                "IAM policy grants full administrator access",
                Severity::Critical,
                "A statement allowing action \"*\" on resource \"*\" makes whoever holds the \
                 policy an administrator of the account: a leaked credential or compromised \
                 workload takes everything.",
                "Grant only the actions and resources the principal needs; use AWS managed job \
                 function policies or IAM Access Analyzer policy generation as a start.",
                &["CKV_AWS_62"],
            ),
            check: |_, doc, emit| iam_admin(&Plan::new(doc), emit),
        },
        DocRule {
            meta: meta(
                "tf-required-tags",
                "Resource without required tags",
                Severity::Low,
                "Tags are how cost, ownership and incidents are traced back to a team; untagged \
                 resources become orphans nobody pays attention to.",
                "Add the tags (the `requiredTags` setting), ideally once for all resources \
                 through the AWS provider's default_tags block.",
                &[],
            ),
            check: |ctx, doc, emit| {
                required_tags(&Plan::new(doc), &ctx.settings.required_tags, emit);
            },
        },
    ];
    rules
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Rule>)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Exceptions, Finding, Policy, PolicyConfig};

    fn check(plan: &Value) -> Vec<Finding> {
        let text = serde_json::to_string_pretty(plan).unwrap();
        let docs =
            crate::doc::load("plan.json", text, None, &pave_yaml::Limits::default()).unwrap();
        assert_eq!(docs[0].kind, DocKind::TerraformPlan);
        Policy::with_rules(rules(), PolicyConfig::default(), Exceptions::default())
            .check(&docs, vec![], 0)
            .findings
    }

    fn ids(plan: &Value) -> Vec<String> {
        let mut ids: Vec<String> = check(plan)
            .into_iter()
            .map(|f| f.rule.into_owned())
            .collect();
        ids.sort();
        ids
    }

    fn res(address: &str, values: Value) -> Value {
        let (kind, name) = address
            .rsplit_once('.')
            .map_or(("", ""), |(k, n)| (k.rsplit('.').next().unwrap_or(k), n));
        json!({"address": address, "mode": "managed", "type": kind, "name": name,
               "provider_name": "registry.terraform.io/hashicorp/aws", "values": values})
    }

    /// A plan with `resources` in the root module and no configuration.
    fn plan(resources: Vec<Value>) -> Value {
        json!({"format_version": "1.2", "terraform_version": "1.9.5",
               "planned_values": {"root_module": {"resources": resources}}})
    }

    fn tags() -> Value {
        json!({"owner": "team-a", "cost-center": "42"})
    }

    #[test]
    fn storage_encryption() {
        let p = plan(vec![
            res(
                "aws_ebs_volume.bad",
                json!({"encrypted": false, "tags": tags()}),
            ),
            res(
                "aws_ebs_volume.ok",
                json!({"encrypted": true, "tags": tags()}),
            ),
            res(
                "aws_db_instance.unset",
                json!({"engine": "postgres", "tags": tags()}),
            ),
            res(
                "aws_db_instance.ok",
                json!({"storage_encrypted": true, "tags": tags()}),
            ),
            res(
                "aws_db_instance.replica",
                json!({"replicate_source_db": "main", "tags": tags()}),
            ),
            res(
                "aws_rds_cluster.bad",
                json!({"storage_encrypted": false, "tags": tags()}),
            ),
        ]);
        let f = check(&p);
        let got: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(f.len(), 3, "{got:?}");
        assert!(f.iter().all(|f| f.rule == "tf-storage-unencrypted"));
        assert!(
            got.iter()
                .any(|m| m.starts_with("aws_ebs_volume.bad sets encrypted"))
        );
        assert!(
            got.iter()
                .any(|m| m.starts_with("aws_db_instance.unset does not set"))
        );
        assert!(
            got.iter()
                .any(|m| m.starts_with("aws_rds_cluster.bad sets"))
        );
    }

    #[test]
    fn unknown_is_not_a_violation() {
        let mut p = plan(vec![
            res("aws_ebs_volume.v", json!({"tags": tags()})),
            res("aws_rds_cluster.c", json!({"tags": tags()})),
        ]);
        p["resource_changes"] = json!([
            {"address": "aws_ebs_volume.v", "change": {"actions": ["create"], "after_unknown": {"encrypted": true, "id": true}}},
            {"address": "aws_rds_cluster.c", "change": {"actions": ["create"], "after_unknown": {"storage_encrypted": true}}}
        ]);
        assert!(ids(&p).is_empty(), "{:?}", ids(&p));
        // The same volume, known to be unset, is a finding; account-level default encryption
        // covers it.
        p["resource_changes"] = json!([]);
        assert_eq!(
            ids(&p),
            vec!["tf-storage-unencrypted", "tf-storage-unencrypted"]
        );
        p["planned_values"]["root_module"]["resources"]
            .as_array_mut()
            .unwrap()
            .push(res(
                "aws_ebs_encryption_by_default.on",
                json!({"enabled": true}),
            ));
        assert_eq!(ids(&p), vec!["tf-storage-unencrypted"]);
    }

    fn bucket(address: &str, name: &str) -> Value {
        res(address, json!({"bucket": name, "tags": tags()}))
    }

    fn pab(address: &str, bucket: Option<&str>, on: bool) -> Value {
        let mut v = json!({"block_public_acls": on, "block_public_policy": on,
                           "ignore_public_acls": on, "restrict_public_buckets": true});
        if let Some(b) = bucket {
            v["bucket"] = json!(b);
        }
        res(address, v)
    }

    #[test]
    fn s3_encryption_inline_separate_and_by_reference() {
        let sse = |address: &str, bucket: Option<&str>| {
            let mut v = json!({"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]});
            if let Some(b) = bucket {
                v["bucket"] = json!(b);
            }
            res(address, v)
        };
        let mut legacy = bucket("aws_s3_bucket.legacy", "legacy");
        legacy["values"]["server_side_encryption_configuration"] = json!([{"rule": [{}]}]);
        let mut p = plan(vec![
            legacy,
            bucket("aws_s3_bucket.by_name", "named"),
            sse(
                "aws_s3_bucket_server_side_encryption_configuration.by_name",
                Some("named"),
            ),
            // A new bucket: its id, and so the configuration's `bucket`, is unknown.
            bucket("aws_s3_bucket.by_ref", "referenced"),
            sse(
                "aws_s3_bucket_server_side_encryption_configuration.by_ref",
                None,
            ),
            bucket("aws_s3_bucket.plain", "plain"),
            pab("aws_s3_account_public_access_block.all", None, true),
        ]);
        p["configuration"] = json!({"root_module": {"resources": [
            {"address": "aws_s3_bucket_server_side_encryption_configuration.by_ref",
             "mode": "managed", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "by_ref",
             "expressions": {"bucket": {"references": ["aws_s3_bucket.by_ref.id", "aws_s3_bucket.by_ref"]}}}
        ]}});
        let f = check(&p);
        assert_eq!(
            f.len(),
            1,
            "{:?}",
            f.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        assert_eq!(f[0].rule, "tf-s3-encryption");
        assert!(
            f[0].message.starts_with("aws_s3_bucket.plain "),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn public_acls_and_grants() {
        let mut acl_grant = res("aws_s3_bucket_acl.grant", json!({"bucket": "b"}));
        acl_grant["values"]["access_control_policy"] = json!([{"grant": [
            {"grantee": [{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}], "permission": "READ"},
            {"grantee": [{"type": "CanonicalUser", "id": "abc"}], "permission": "FULL_CONTROL"}
        ]}]);
        let p = plan(vec![
            res(
                "aws_s3_bucket_acl.public",
                json!({"bucket": "b", "acl": "public-read"}),
            ),
            res(
                "aws_s3_bucket_acl.private",
                json!({"bucket": "b", "acl": "private"}),
            ),
            acl_grant,
            res(
                "aws_s3_bucket.legacy",
                json!({"bucket": "b", "acl": "authenticated-read", "tags": tags()}),
            ),
            pab("aws_s3_bucket_public_access_block.b", Some("b"), true),
        ]);
        let f = check(&p);
        let msgs: Vec<&str> = f
            .iter()
            .filter(|f| f.rule == "tf-s3-public-acl")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs.contains(&"aws_s3_bucket_acl.public sets the canned ACL public-read"));
        assert!(msgs.contains(&"aws_s3_bucket_acl.grant grants access to the AllUsers group"));
        assert!(msgs.contains(&"aws_s3_bucket.legacy sets the canned ACL authenticated-read"));
    }

    #[test]
    fn public_access_blocks() {
        let mut off = pab("aws_s3_bucket_public_access_block.off", Some("a"), false);
        // An unset flag defaults to false.
        off["values"]
            .as_object_mut()
            .unwrap()
            .remove("block_public_policy");
        let p = plan(vec![
            bucket("aws_s3_bucket.a", "a"),
            bucket("aws_s3_bucket.b", "b"),
            off,
            res(
                "aws_s3_bucket_server_side_encryption_configuration.a",
                json!({"bucket": "a"}),
            ),
            res(
                "aws_s3_bucket_server_side_encryption_configuration.b",
                json!({"bucket": "b"}),
            ),
        ]);
        let f = check(&p);
        let got: Vec<(&str, &str)> = f.iter().map(|f| (&*f.rule, f.message.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    "tf-s3-public-access-block-missing",
                    "aws_s3_bucket.b has no aws_s3_bucket_public_access_block (and no account-wide block)"
                ),
                (
                    "tf-s3-public-access-block",
                    "aws_s3_bucket_public_access_block.off leaves block_public_acls, block_public_policy, ignore_public_acls off"
                ),
            ]
        );
    }

    #[test]
    fn security_groups_on_admin_ports() {
        let ingress = |from: i64, to: i64, proto: &str, cidrs: Value| {
            json!({"from_port": from, "to_port": to, "protocol": proto, "cidr_blocks": cidrs,
                   "ipv6_cidr_blocks": [], "description": "", "prefix_list_ids": [],
                   "security_groups": [], "self": false})
        };
        let p = plan(vec![
            res(
                "aws_security_group.web",
                json!({"name": "web", "tags": tags(), "ingress": [
                    ingress(443, 443, "tcp", json!(["0.0.0.0/0"])),
                    ingress(22, 22, "tcp", json!(["10.0.0.0/8"])),
                    ingress(0, 65535, "tcp", json!(["0.0.0.0/0"])),
                ]}),
            ),
            res(
                "aws_security_group_rule.all",
                json!({"type": "ingress", "from_port": 0, "to_port": 0, "protocol": "-1",
                       "cidr_blocks": [], "ipv6_cidr_blocks": ["::/0"]}),
            ),
            res(
                "aws_security_group_rule.egress",
                json!({"type": "egress", "from_port": 0, "to_port": 0, "protocol": "-1",
                       "cidr_blocks": ["0.0.0.0/0"]}),
            ),
            res(
                "aws_vpc_security_group_ingress_rule.rdp",
                json!({"cidr_ipv4": "0.0.0.0/0", "from_port": 3389, "to_port": 3389, "ip_protocol": "tcp", "tags": tags()}),
            ),
            res(
                "aws_vpc_security_group_ingress_rule.https",
                json!({"cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443, "ip_protocol": "tcp", "tags": tags()}),
            ),
            res(
                "aws_vpc_security_group_ingress_rule.icmp",
                json!({"cidr_ipv4": "0.0.0.0/0", "from_port": 8, "to_port": 0, "ip_protocol": "icmp", "tags": tags()}),
            ),
        ]);
        let f = check(&p);
        let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(f.iter().all(|f| f.rule == "tf-sg-open-admin-port"));
        assert!(
            msgs[0].starts_with(
                "aws_security_group.web allows ingress from 0.0.0.0/0 to admin ports 22, 3389,"
            ),
            "{}",
            msgs[0]
        );
        assert!(msgs[0].ends_with("(tcp 0-65535)"));
        assert!(msgs.iter().any(|m| {
            m.starts_with("aws_security_group_rule.all allows ingress from ::/0")
                && m.ends_with("(all ports)")
        }));
        assert!(msgs.contains(&"aws_vpc_security_group_ingress_rule.rdp allows ingress from 0.0.0.0/0 to admin port 3389 (tcp 3389)"));
    }

    #[test]
    fn public_databases() {
        let p = plan(vec![
            res(
                "aws_db_instance.pub",
                json!({"publicly_accessible": true, "storage_encrypted": true, "tags": tags()}),
            ),
            res(
                "aws_rds_cluster_instance.pub",
                json!({"publicly_accessible": true, "tags": tags()}),
            ),
            res(
                "aws_db_instance.private",
                json!({"publicly_accessible": false, "storage_encrypted": true, "tags": tags()}),
            ),
        ]);
        assert_eq!(ids(&p), vec!["tf-db-public", "tf-db-public"]);
    }

    #[test]
    fn iam_admin_policies() {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let admin_arrays = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","*"],"Resource":["*"]}}"#;
        let scoped = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
        let p = plan(vec![
            res(
                "aws_iam_policy.admin",
                json!({"policy": admin, "tags": tags()}),
            ),
            res("aws_iam_role_policy.admin", json!({"policy": admin_arrays})),
            res("aws_iam_user_policy.scoped", json!({"policy": scoped})),
            res("aws_iam_group_policy.broken", json!({"policy": "not json"})),
            res(
                "aws_iam_role.inline",
                json!({"tags": tags(), "inline_policy": [{"name": "a", "policy": scoped}, {"name": "b", "policy": admin}]}),
            ),
        ]);
        let f = check(&p);
        let addrs: Vec<&str> = f
            .iter()
            .map(|f| f.message.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            addrs,
            vec![
                "aws_iam_policy.admin",
                "aws_iam_role_policy.admin",
                "aws_iam_role.inline"
            ]
        );
        assert!(f.iter().all(|f| f.rule == "tf-iam-admin-policy"));
    }

    #[test]
    fn required_tags_prefer_tags_all() {
        let p = plan(vec![
            // default_tags supply what `tags` lacks.
            res(
                "aws_sqs_queue.ok",
                json!({"tags": {"owner": "a"}, "tags_all": {"owner": "a", "cost-center": "1"}}),
            ),
            res(
                "aws_sqs_queue.missing",
                json!({"tags": {"owner": "a"}, "tags_all": {"owner": "a"}}),
            ),
            res("aws_sqs_queue.none", json!({"tags": null, "tags_all": {}})),
            res(
                "aws_sqs_queue.empty",
                json!({"tags": {"owner": "a", "cost-center": " "}}),
            ),
            // Not taggable.
            res("aws_s3_bucket_policy.p", json!({"bucket": "b"})),
        ]);
        let msgs: Vec<String> = check(&p).into_iter().map(|f| f.message).collect();
        assert_eq!(
            msgs,
            vec![
                "aws_sqs_queue.missing is missing required tag cost-center",
                "aws_sqs_queue.none is missing required tags owner, cost-center",
                "aws_sqs_queue.empty is missing required tag cost-center",
            ]
        );
    }

    #[test]
    fn modules_are_walked_and_positions_are_exact() {
        let p = json!({
            "format_version": "1.2",
            "terraform_version": "1.9.5",
            "planned_values": {"root_module": {
                "resources": [res("aws_sqs_queue.q", json!({"tags": tags()}))],
                "child_modules": [{
                    "address": "module.data",
                    "resources": [],
                    "child_modules": [{
                        "address": "module.data.module.db",
                        "resources": [
                            res("module.data.module.db.aws_db_instance.main", json!({
                                "storage_encrypted": true, "tags": tags(),
                                "publicly_accessible": true}))
                        ]
                    }]
                }]
            }}
        });
        let f = check(&p);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "tf-db-public");
        let text = serde_json::to_string_pretty(&p).unwrap();
        let line = text
            .lines()
            .position(|l| l.contains("\"publicly_accessible\""))
            .unwrap();
        assert_eq!(f[0].line, Some(u32::try_from(line).unwrap() + 1));
        let column = text.lines().nth(line).unwrap().find('"').unwrap();
        assert_eq!(f[0].column, Some(u32::try_from(column).unwrap() + 1));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            strip_keys(r#"module.a["x.y]"].aws_s3_bucket.b[0]"#),
            "module.a.aws_s3_bucket.b"
        );
        assert_eq!(
            module_prefix("module.a.module.b.aws_s3_bucket.x"),
            "module.a.module.b."
        );
        assert_eq!(module_prefix("aws_s3_bucket.x"), "");
        assert_eq!(
            resource_ref("aws_s3_bucket.b[count.index].id").as_deref(),
            Some("aws_s3_bucket.b")
        );
        assert_eq!(resource_ref("var.bucket_id"), None);
        assert_eq!(resource_ref("module.s3.bucket_id"), None);
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for p in [
            json!({"format_version": "1", "planned_values": {"root_module": "x"}}),
            json!({"format_version": "1", "planned_values": {"root_module": {
                "resources": [1, null, {"address": 5}, {"address": "aws_s3_bucket.x", "type": "aws_s3_bucket", "values": 3},
                              {"address": "aws_security_group.x", "type": "aws_security_group", "values": {"ingress": "open", "tags": 1}},
                              {"address": "aws_iam_policy.x", "type": "aws_iam_policy", "values": {"policy": "{\"Statement\": 7}"}}],
                "child_modules": {"a": 1}}},
                "resource_changes": [{"address": "aws_s3_bucket.x", "change": null}, 4],
                "configuration": {"root_module": {"resources": 2, "module_calls": []}}}),
        ] {
            let _ = check(&p);
        }
    }
}
