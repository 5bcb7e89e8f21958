#![allow(clippy::unwrap_used, clippy::print_stdout)]

use super::*;

/// A finding as a reader sees it.
#[derive(Debug)]
struct Found {
    doc: usize,
    message: String,
    line: u32,
    column: u32,
}

fn load(yaml: &str) -> Vec<Document> {
    crate::doc::load(
        "t.yaml",
        yaml.to_owned(),
        None,
        &pave_yaml::Limits::default(),
    )
    .unwrap()
}

fn rule(id: &str) -> Box<dyn Rule> {
    rules()
        .into_iter()
        .find(|r| r.meta().id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

fn run_with(id: &str, yaml: &str, settings: &RuleSettings) -> Vec<Found> {
    let docs = load(yaml);
    let ctx = Context {
        docs: &docs,
        settings,
    };
    let mut out = Vec::new();
    rule(id).check(&ctx, &mut out);
    out.into_iter()
        .map(|f| {
            assert_eq!(f.rule, id);
            let pos = docs[f.doc].locate(&f.path).unwrap();
            Found {
                doc: f.doc,
                message: f.message,
                line: pos.line,
                column: pos.column,
            }
        })
        .collect()
}

fn run(id: &str, yaml: &str) -> Vec<Found> {
    run_with(id, yaml, &RuleSettings::default())
}

fn messages(id: &str, yaml: &str) -> Vec<String> {
    run(id, yaml).into_iter().map(|f| f.message).collect()
}

#[track_caller]
fn quiet(id: &str, yaml: &str) {
    let found = messages(id, yaml);
    assert!(found.is_empty(), "{id} fired: {found:?}");
}

#[track_caller]
fn fires(id: &str, yaml: &str) -> Vec<String> {
    let found = messages(id, yaml);
    assert!(!found.is_empty(), "{id} did not fire");
    found
}

/// A Pod whose spec is given in YAML flow style (without braces).
fn pod(spec: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{{spec}}}\n")
}

/// A Deployment `name` in `ns` (`-` for none) with pod labels `app: name`.
fn deployment(name: &str, ns: &str, spec: &str, pod_spec: &str) -> String {
    let ns = if ns == "-" {
        String::new()
    } else {
        format!(", namespace: {ns}")
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}{ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n{spec}  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: {name}, image: 'r/{name}:1'}}]{pod_spec}}}\n"
    )
}

/// Everything done right: no k8s rule may fire on it.
const GOOD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {owner: team-a, cost-center: cc-1}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      priorityClassName: standard
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: web}}
      initContainers:
      - name: migrate
        image: registry.example.com:5000/web@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
        imagePullPolicy: Always
        securityContext: {readOnlyRootFilesystem: true}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {cpu: 100m, memory: 64Mi}
      containers:
      - name: web
        image: registry.example.com:5000/web:1.4.2
        imagePullPolicy: Always
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        - {name: GREETING, value: hello}
        - {name: TOKEN_FILE, value: /var/run/secrets/token}
        - {name: API_TOKEN, value: ""}
        ports:
        - {name: http, containerPort: 8080}
        securityContext: {readOnlyRootFilesystem: true}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 1, memory: 128Mi}
        readinessProbe: {httpGet: {path: /ready, port: http}}
        livenessProbe: {httpGet: {path: /live, port: http}}
      volumes:
      - {name: tmp, emptyDir: {}}
      - {name: certs, hostPath: {path: /etc/ssl/certs}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 2
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [web, api]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: ExternalName
  externalName: db.example.com
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  tls:
  - hosts: [shop.example.com]
    secretName: web-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
      - path: /api
        pathType: Prefix
        backend:
          service: {name: web, port: {name: http}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 10
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: shop}
data:
  LOG_LEVEL: info
  SECRET_NAME: web-credentials
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
- apiGroups: [""]
  resources: [configmaps, pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: web-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
"#;

#[test]
fn catalog_is_consistent() {
    let mut seen = HashSet::new();
    for r in rules() {
        let m = r.meta();
        assert!(m.id.starts_with("k8s-"), "{}", m.id);
        assert!(seen.insert(m.id), "duplicate {}", m.id);
        assert_eq!(m.tier, Tier::Recommended, "{}", m.id);
        assert_eq!(m.kind, DocKind::Kubernetes, "{}", m.id);
        assert!(!m.title.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty());
    }
    assert!(seen.len() >= 30);
}

#[test]
fn a_good_bundle_passes_every_rule() {
    for r in rules() {
        quiet(r.meta().id, GOOD);
    }
}

#[test]
fn resources_per_container_and_kind() {
    let yaml = pod(
        "initContainers: [{name: migrate, image: 'm:1'}], containers: [{name: web, image: 'w:1', resources: {requests: {memory: 1Mi, cpu: ''}, limits: {cpu: 1}}}]",
    );
    assert_eq!(
        fires("k8s-cpu-requests", &yaml),
        [
            "container web has no CPU request",
            "init container migrate has no CPU request"
        ]
    );
    assert_eq!(
        fires("k8s-memory-requests", &yaml),
        ["init container migrate has no memory request"]
    );
    assert_eq!(
        fires("k8s-cpu-limits", &yaml),
        ["init container migrate has no CPU limit"]
    );
    assert_eq!(
        fires("k8s-memory-limits", &yaml),
        [
            "container web has no memory limit",
            "init container migrate has no memory limit"
        ]
    );
    // Ephemeral containers cannot have resources: never asked for.
    let ephemeral = pod(
        "containers: [{name: web, image: 'w:1', resources: {requests: {cpu: 1, memory: 1Mi}, limits: {cpu: 1, memory: 1Mi}}}], ephemeralContainers: [{name: debug, image: 'busybox:1'}]",
    );
    for id in [
        "k8s-cpu-requests",
        "k8s-cpu-limits",
        "k8s-memory-requests",
        "k8s-memory-limits",
    ] {
        quiet(id, &ephemeral);
    }
}

#[test]
fn positions_point_at_the_field_or_its_nearest_parent() {
    let yaml = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:latest
        resources:
          limits:
            cpu: 100m
";
    let f = run("k8s-memory-limits", yaml);
    assert_eq!(f[0].message, "container web has no memory limit");
    // resources.limits.memory is missing: the finding sits on `limits`.
    assert_eq!((f[0].line, f[0].column), (12, 11));
    let f = run("k8s-image-tag", yaml);
    assert_eq!(
        f[0].message,
        "container web image nginx:latest uses the mutable latest tag"
    );
    assert_eq!((f[0].line, f[0].column), (10, 9));
    // A container without probes: the container itself.
    let f = run("k8s-readiness-probe", yaml);
    assert_eq!((f[0].line, f[0].column), (9, 9));
}

#[test]
fn probes_skip_run_to_completion_pods_and_init_containers() {
    let deploy = deployment(
        "web",
        "-",
        "",
        ", initContainers: [{name: init, image: 'i:1'}]",
    );
    assert_eq!(
        fires("k8s-readiness-probe", &deploy),
        ["container web has no readiness probe"]
    );
    assert_eq!(
        fires("k8s-liveness-probe", &deploy),
        ["container web has no liveness probe"]
    );
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: j, image: 'j:1'}]}\n";
    let one_off = pod("restartPolicy: Never, containers: [{name: p, image: 'p:1'}]");
    for id in ["k8s-readiness-probe", "k8s-liveness-probe"] {
        quiet(id, job);
        quiet(id, &one_off);
    }
    quiet(
        "k8s-liveness-probe",
        &pod("containers: [{name: p, image: 'p:1', livenessProbe: {tcpSocket: {port: 80}}}]"),
    );
}

#[test]
fn image_tags() {
    for (image, problem) in [
        ("nginx", Some("has no tag, which means latest")),
        ("nginx:latest", Some("uses the mutable latest tag")),
        (
            "registry:5000/team/nginx",
            Some("has no tag, which means latest"),
        ),
        ("nginx:", Some("has an empty tag")),
        ("registry:5000/team/nginx:1.25", None),
        ("nginx@sha256:abcd", None),
        ("nginx:latest@sha256:abcd", None),
    ] {
        assert_eq!(image_tag_problem(image), problem, "{image}");
    }
    assert_eq!(
        fires(
            "k8s-image-tag",
            &pod(
                "containers: [{name: web, image: nginx}], initContainers: [{name: i, image: 'i:2'}]"
            )
        ),
        ["container web image nginx has no tag, which means latest"]
    );
}

#[test]
fn pull_policy_must_be_always() {
    let yaml = pod(
        "containers: [{name: a, image: 'a:1'}, {name: b, image: 'b:1', imagePullPolicy: IfNotPresent}, {name: c, image: 'c:1', imagePullPolicy: Always}]",
    );
    assert_eq!(
        fires("k8s-image-pull-policy", &yaml),
        [
            "container a does not set imagePullPolicy: Always",
            "container b has imagePullPolicy IfNotPresent; use Always"
        ]
    );
}

#[test]
fn read_only_root_filesystem() {
    let yaml = pod(
        "containers: [{name: a, image: 'a:1'}, {name: b, image: 'b:1', securityContext: {readOnlyRootFilesystem: false}}, {name: c, image: 'c:1', securityContext: {readOnlyRootFilesystem: true}}]",
    );
    assert_eq!(
        fires("k8s-read-only-root-fs", &yaml),
        [
            "container a does not set securityContext.readOnlyRootFilesystem: true",
            "container b sets readOnlyRootFilesystem: false"
        ]
    );
    quiet(
        "k8s-read-only-root-fs",
        &pod("os: {name: windows}, containers: [{name: a, image: 'a:1'}]"),
    );
}

#[test]
fn host_mounts() {
    let yaml = pod(
        "containers: [{name: a, image: 'a:1'}], volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}, {name: run, hostPath: {path: /run/containerd/}}, {name: etc, hostPath: {path: /etc}}, {name: kubelet, hostPath: {path: /var/lib/kubelet/pods}}, {name: root, hostPath: {path: /}}, {name: logs, hostPath: {path: /var/log}}, {name: certs, hostPath: {path: /etc/ssl/certs}}, {name: rootish, hostPath: {path: /rootfs}}]",
    );
    assert_eq!(
        fires("k8s-docker-socket", &yaml),
        [
            "volume sock mounts the node's container runtime socket (/var/run/docker.sock)",
            "volume run mounts the node's container runtime socket (/run/containerd)"
        ]
    );
    assert_eq!(
        fires("k8s-sensitive-host-mount", &yaml),
        [
            "volume etc mounts the node's /etc",
            "volume kubelet mounts the node's /var/lib/kubelet/pods",
            "volume root mounts the node's /"
        ]
    );
}

#[test]
fn secrets_in_env() {
    for (name, value, why) in [
        ("DB_PASSWORD", "hunter2", Some("holds a literal secret")),
        ("AWS_SECRET_ACCESS_KEY", "x", Some("holds a literal secret")),
        ("AZURE_STORAGE_KEY", "x", Some("holds a literal secret")),
        ("github_token", "ghp_x", Some("holds a literal secret")),
        (
            "SSH",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
            Some("holds a private key"),
        ),
        ("GREETING", "hello", None),
        ("API_TOKEN", "", None),
        ("TOKEN_FILE", "/run/secrets/token", None),
        ("SECRET_NAME", "db-credentials", None),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/var/secrets/key.json",
            None,
        ),
        ("PASSWORD", "$(DB_PASSWORD)", None),
        ("TOKENIZERS_PARALLELISM", "false", None),
        ("AZURE_KEY", "x", None),
    ] {
        assert_eq!(literal_secret(name, value), why, "{name}");
    }
    let yaml = pod(
        "containers: [{name: web, image: 'w:1', env: [{name: my_password, value: abc123}, {name: token, valueFrom: {secretKeyRef: {name: s, key: t}}}]}]",
    );
    let f = run("k8s-env-secret", &yaml);
    assert_eq!(
        f[0].message,
        "container web env my_password holds a literal secret; use valueFrom.secretKeyRef"
    );
    assert_eq!(f.len(), 1);
}

#[test]
fn secrets_in_configmaps() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  db_user: app\n  db_password: abc\n  key.pem: |\n    -----BEGIN RSA PRIVATE KEY-----\n    xyz\n";
    assert_eq!(
        fires("k8s-configmap-secret", yaml),
        [
            "key db_password holds a literal secret; move it to a Secret",
            "key key.pem holds a private key; move it to a Secret"
        ]
    );
    quiet(
        "k8s-configmap-secret",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {db_user: app}\n",
    );
}

const SA_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {serviceAccountName: app, containers: [{name: c, image: 'c:1'}]}\n";

#[test]
fn token_automount_follows_pod_then_service_account() {
    assert_eq!(
        fires("k8s-automount-token", SA_POD),
        [
            "the token of service account app is mounted: set automountServiceAccountToken: false on the pod (or its ServiceAccount)"
        ]
    );
    let sa = |ns: &str, auto: &str| {
        format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app, namespace: {ns}}}\n{auto}\n"
        )
    };
    quiet(
        "k8s-automount-token",
        &format!("{SA_POD}{}", sa("a", "automountServiceAccountToken: false")),
    );
    assert_eq!(
        fires("k8s-automount-token", &format!("{SA_POD}{}", sa("a", ""))),
        [
            "the token of service account app is mounted: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false"
        ]
    );
    // The account that disables the token lives in another namespace.
    fires(
        "k8s-automount-token",
        &format!("{SA_POD}{}", sa("b", "automountServiceAccountToken: false")),
    );
    // The pod's own setting wins.
    let pod_true = SA_POD.replace(
        "serviceAccountName: app,",
        "serviceAccountName: app, automountServiceAccountToken: true,",
    );
    assert_eq!(
        fires(
            "k8s-automount-token",
            &format!(
                "{pod_true}{}",
                sa("a", "automountServiceAccountToken: false")
            )
        ),
        ["pod sets automountServiceAccountToken: true"]
    );
    quiet(
        "k8s-automount-token",
        &pod("automountServiceAccountToken: false, containers: [{name: c, image: 'c:1'}]"),
    );
}

#[test]
fn default_service_account() {
    assert_eq!(
        fires(
            "k8s-default-service-account",
            &pod("containers: [{name: c, image: 'c:1'}]")
        ),
        ["pod runs as the namespace's default service account, with its token mounted"]
    );
    fires(
        "k8s-default-service-account",
        &pod("serviceAccountName: default, containers: [{name: c, image: 'c:1'}]"),
    );
    quiet(
        "k8s-default-service-account",
        &pod("automountServiceAccountToken: false, containers: [{name: c, image: 'c:1'}]"),
    );
    quiet("k8s-default-service-account", SA_POD);
    quiet(
        "k8s-default-service-account",
        &format!(
            "{}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default}}\nautomountServiceAccountToken: false\n",
            pod("containers: [{name: c, image: 'c:1'}]")
        ),
    );
}

#[test]
fn replicas_in_production() {
    assert_eq!(
        fires(
            "k8s-replicas",
            &deployment("web", "-", "  replicas: 1\n", "")
        ),
        ["runs 1 replica; use 2 or more in production"]
    );
    assert_eq!(
        fires("k8s-replicas", &deployment("web", "-", "", "")),
        ["does not set spec.replicas, so it runs 1 replica"]
    );
    quiet(
        "k8s-replicas",
        &deployment("web", "-", "  replicas: 2\n", ""),
    );
    quiet(
        "k8s-replicas",
        &deployment("web", "-", "  replicas: 0\n", ""),
    );
    // An autoscaler manages it.
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n";
    quiet(
        "k8s-replicas",
        &format!("{}{hpa}", deployment("web", "-", "", "")),
    );

    let prod = RuleSettings {
        production_namespaces: vec!["prod-*".into(), "payments".into()],
        ..RuleSettings::default()
    };
    let count = |ns: &str| run_with("k8s-replicas", &deployment("web", ns, "", ""), &prod).len();
    assert_eq!(count("prod-eu"), 1);
    assert_eq!(count("payments"), 1);
    assert_eq!(count("dev"), 0);
    assert_eq!(count("-"), 0, "no namespace is `default`, not listed");
    let with_default = RuleSettings {
        production_namespaces: vec!["default".into()],
        ..RuleSettings::default()
    };
    assert_eq!(
        run_with(
            "k8s-replicas",
            &deployment("web", "-", "", ""),
            &with_default
        )
        .len(),
        1
    );
}

fn pdb(name: &str, ns: &str, spec: &str) -> String {
    let ns = if ns == "-" {
        String::new()
    } else {
        format!(", namespace: {ns}")
    };
    format!(
        "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}{ns}}}\nspec: {{{spec}}}\n"
    )
}

#[test]
fn disruption_budgets_across_namespaces() {
    let yaml = format!(
        "{}---\n{}{}",
        deployment("web", "a", "  replicas: 2\n", ""),
        deployment("web", "b", "  replicas: 2\n", ""),
        pdb(
            "web",
            "a",
            "maxUnavailable: 1, selector: {matchLabels: {app: web}}"
        ),
    );
    let f = run("k8s-pdb", &yaml);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].doc, 1, "the Deployment in namespace b");
    assert_eq!(
        f[0].message,
        "no PodDisruptionBudget selects the pods of Deployment web"
    );
    // Points at the pod template's labels.
    assert_eq!((f[0].line, f[0].column), (18, 16));
    // A budget without a namespace may be applied next to either.
    quiet(
        "k8s-pdb",
        &format!(
            "{}{}",
            deployment("web", "a", "  replicas: 2\n", ""),
            pdb(
                "web",
                "-",
                "maxUnavailable: 1, selector: {matchLabels: {app: web}}"
            )
        ),
    );
    fires(
        "k8s-pdb",
        &format!(
            "{}{}",
            deployment("web", "a", "  replicas: 2\n", ""),
            pdb(
                "web",
                "a",
                "maxUnavailable: 1, selector: {matchLabels: {app: web, tier: x}}"
            )
        ),
    );
    quiet(
        "k8s-pdb",
        &format!(
            "{}{}",
            deployment("web", "a", "  replicas: 2\n", ""),
            pdb("all", "a", "maxUnavailable: 1, selector: {}")
        ),
    );
    // policy/v1beta1: an empty selector selected nothing.
    fires(
        "k8s-pdb",
        &format!(
            "{}{}",
            deployment("web", "a", "  replicas: 2\n", ""),
            pdb("all", "a", "maxUnavailable: 1, selector: {}")
                .replace("policy/v1", "policy/v1beta1")
        ),
    );
    // DaemonSets are not asked for a budget.
    quiet(
        "k8s-pdb",
        &deployment("agent", "a", "", "").replace("Deployment", "DaemonSet"),
    );
}

#[test]
fn budgets_that_block_eviction() {
    assert_eq!(
        fires(
            "k8s-pdb-zero-disruptions",
            &pdb("p", "-", "maxUnavailable: 0")
        ),
        ["maxUnavailable 0 allows no voluntary eviction, so node drains hang"]
    );
    assert_eq!(
        fires(
            "k8s-pdb-zero-disruptions",
            &pdb("p", "-", "minAvailable: 100%")
        ),
        ["minAvailable 100% allows no voluntary eviction, so node drains hang"]
    );
    quiet(
        "k8s-pdb-zero-disruptions",
        &pdb("p", "-", "minAvailable: 1"),
    );
    let with = |replicas: &str, spec: &str| {
        format!(
            "{}{}",
            deployment("web", "-", replicas, ""),
            pdb(
                "p",
                "-",
                &format!("{spec}, selector: {{matchLabels: {{app: web}}}}")
            )
        )
    };
    assert_eq!(
        fires(
            "k8s-pdb-zero-disruptions",
            &with("  replicas: 2\n", "minAvailable: 2")
        ),
        [
            "minAvailable 2 with 2 pods selected (Deployment web) allows no voluntary eviction, so node drains hang"
        ]
    );
    fires("k8s-pdb-zero-disruptions", &with("", "minAvailable: 1"));
    fires("k8s-pdb-zero-disruptions", &with("", "minAvailable: 50%"));
    quiet(
        "k8s-pdb-zero-disruptions",
        &with("  replicas: 3\n", "minAvailable: 2"),
    );
    quiet(
        "k8s-pdb-zero-disruptions",
        &with("  replicas: 4\n", "minAvailable: 50%"),
    );
    // The autoscaler's minimum counts, not spec.replicas.
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 6}\n";
    quiet(
        "k8s-pdb-zero-disruptions",
        &format!("{}{hpa}", with("  replicas: 1\n", "minAvailable: 2")),
    );
    // A DaemonSet's size is unknown here.
    quiet(
        "k8s-pdb-zero-disruptions",
        &with("", "minAvailable: 1").replace("kind: Deployment", "kind: DaemonSet"),
    );
}

#[test]
fn topology_spread() {
    assert_eq!(
        fires("k8s-topology-spread", &deployment("web", "-", "", "")),
        [
            "pods set no topologySpreadConstraints (or pod anti-affinity): replicas may share one node or zone"
        ]
    );
    quiet(
        "k8s-topology-spread",
        &deployment(
            "web",
            "-",
            "",
            ", affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]}}",
        ),
    );
    quiet(
        "k8s-topology-spread",
        &deployment("web", "-", "", "").replace("Deployment", "DaemonSet"),
    );
    quiet("k8s-topology-spread", &pod("containers: []"));
}

fn hpa(ns: &str, spec: &str) -> String {
    format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h, namespace: {ns}}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}{spec}}}\n"
    )
}

#[test]
fn autoscaler_bounds() {
    assert_eq!(
        fires(
            "k8s-hpa-min-replicas",
            &hpa("a", ", minReplicas: 1, maxReplicas: 5")
        ),
        ["minReplicas 1 scales down to a single replica"]
    );
    assert_eq!(
        fires("k8s-hpa-min-replicas", &hpa("a", ", maxReplicas: 5")),
        ["does not set minReplicas, so it scales down to 1 replica"]
    );
    quiet(
        "k8s-hpa-min-replicas",
        &hpa("a", ", minReplicas: 2, maxReplicas: 5"),
    );
    let prod = RuleSettings {
        production_namespaces: vec!["prod".into()],
        ..RuleSettings::default()
    };
    assert!(
        run_with(
            "k8s-hpa-min-replicas",
            &hpa("dev", ", maxReplicas: 5"),
            &prod
        )
        .is_empty()
    );

    assert_eq!(
        fires(
            "k8s-hpa-max-replicas",
            &hpa("a", ", minReplicas: 5, maxReplicas: 5")
        ),
        ["maxReplicas 5 is not above minReplicas 5: it can never scale up"]
    );
    fires("k8s-hpa-max-replicas", &hpa("a", ", maxReplicas: 1"));
    quiet("k8s-hpa-max-replicas", &hpa("a", ", maxReplicas: 2"));
}

#[test]
fn priority_class() {
    assert_eq!(
        fires("k8s-priority-class", &pod("containers: []")),
        ["pod sets no priorityClassName"]
    );
    quiet(
        "k8s-priority-class",
        &pod("priorityClassName: high, containers: []"),
    );
}

fn netpol(ns: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: {ns}}}\nspec: {{{spec}}}\n"
    )
}

#[test]
fn network_policies() {
    let web = deployment("web", "a", "", "");
    // Without any NetworkPolicy in the input, coverage is someone else's business.
    quiet("k8s-network-policy", &web);
    assert_eq!(
        fires(
            "k8s-network-policy",
            &format!(
                "{web}{}",
                netpol(
                    "a",
                    "podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]"
                )
            )
        ),
        ["no NetworkPolicy restricts egress from the pods of Deployment web"]
    );
    // Without policyTypes: ingress, plus egress when there are egress rules.
    quiet(
        "k8s-network-policy",
        &format!(
            "{web}{}",
            netpol(
                "a",
                "podSelector: {matchLabels: {app: web}}, egress: [{to: [{podSelector: {}}]}]"
            )
        ),
    );
    assert_eq!(
        fires(
            "k8s-network-policy",
            &format!(
                "{web}{}",
                netpol("a", "podSelector: {}, policyTypes: [Egress]")
            )
        ),
        ["no NetworkPolicy restricts ingress to the pods of Deployment web"]
    );
    // A default deny in another namespace does not cover it.
    assert_eq!(
        fires(
            "k8s-network-policy",
            &format!(
                "{web}{}",
                netpol("b", "podSelector: {}, policyTypes: [Ingress, Egress]")
            )
        ),
        ["no NetworkPolicy selects the pods of Deployment web"]
    );
    quiet(
        "k8s-network-policy",
        &format!(
            "{}{}",
            deployment("web", "a", "", ", hostNetwork: true"),
            netpol("b", "podSelector: {}")
        ),
    );
    // Objects without a namespace may land next to anything, both ways round.
    let wide = "podSelector: {}, policyTypes: [Ingress, Egress]";
    quiet(
        "k8s-network-policy",
        &format!("{web}{}", netpol("b", wide).replace(", namespace: b", "")),
    );
    quiet(
        "k8s-network-policy",
        &format!("{}{}", deployment("web", "-", "", ""), netpol("b", wide)),
    );
    // Two partial policies add up.
    quiet(
        "k8s-network-policy",
        &format!(
            "{web}{}{}",
            netpol("a", "podSelector: {}, policyTypes: [Ingress]"),
            netpol(
                "a",
                "podSelector: {matchExpressions: [{key: app, operator: In, values: [api, web]}]}, policyTypes: [Egress]"
            )
        ),
    );
}

#[test]
fn ingress_tls() {
    let ingress = |extra: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i{extra}}}\nspec: {{rules: []}}\n"
        )
    };
    assert_eq!(
        fires("k8s-ingress-tls", &ingress("")),
        ["Ingress has no spec.tls: it serves plain HTTP"]
    );
    quiet(
        "k8s-ingress-tls",
        &ingress(", annotations: {alb.ingress.kubernetes.io/certificate-arn: 'arn:aws:acm:x'}"),
    );
}

fn service(ns: &str, selector: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\nspec: {{selector: {{{selector}}}, ports: [{{name: http, port: 80}}]}}\n"
    )
}

#[test]
fn services_that_select_nothing() {
    // Alone, a Service cannot be judged.
    quiet("k8s-service-selector", &service("a", "app: api"));
    let f = run(
        "k8s-service-selector",
        &format!(
            "{}{}",
            deployment("web", "a", "", ""),
            service("a", "app: api")
        ),
    );
    assert_eq!(
        f[0].message,
        "selector app=api matches no pods in the input"
    );
    quiet(
        "k8s-service-selector",
        &format!(
            "{}{}",
            deployment("web", "a", "", ""),
            service("a", "app: web")
        ),
    );
    // The matching pods are in another namespace.
    fires(
        "k8s-service-selector",
        &format!(
            "{}{}",
            deployment("web", "b", "", ""),
            service("a", "app: web")
        ),
    );
}

#[test]
fn ingress_backends() {
    let ingress = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: a}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 8080}}}\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}\n      - {path: /ok, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}\n";
    // No Services in the input: nothing to compare with.
    quiet("k8s-ingress-backend", ingress);
    let f = run(
        "k8s-ingress-backend",
        &format!("{}{ingress}", service("a", "app: web")),
    );
    let messages: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "backend service web has no port 8080",
            "backend service api is not in the input"
        ]
    );
    // On the backend's service name.
    assert_eq!((f[1].line, f[1].column), (15, 57), "{f:?}");
    // The Service is in another namespace.
    fires(
        "k8s-ingress-backend",
        &format!("{}{ingress}", service("b", "app: web")),
    );
    let beta = "---\napiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: i, namespace: a}\nspec: {backend: {serviceName: web, servicePort: 80}}\n";
    quiet(
        "k8s-ingress-backend",
        &format!("{}{beta}", service("a", "app: web")),
    );
}

#[test]
fn autoscaler_targets() {
    let target = hpa("a", ", maxReplicas: 3");
    quiet("k8s-hpa-target", &target);
    assert_eq!(
        fires(
            "k8s-hpa-target",
            &format!("{}---\n{target}", deployment("api", "a", "", ""))
        ),
        ["scale target Deployment web is not in the input"]
    );
    quiet(
        "k8s-hpa-target",
        &format!("{}---\n{target}", deployment("web", "a", "", "")),
    );
    fires(
        "k8s-hpa-target",
        &format!("{}---\n{target}", deployment("web", "b", "", "")),
    );
}

#[test]
fn budgets_that_select_nothing() {
    let web = deployment("web", "a", "", "");
    quiet(
        "k8s-pdb-selector",
        &pdb(
            "p",
            "a",
            "maxUnavailable: 1, selector: {matchLabels: {app: api}}",
        ),
    );
    assert_eq!(
        fires(
            "k8s-pdb-selector",
            &format!(
                "{web}{}",
                pdb(
                    "p",
                    "a",
                    "maxUnavailable: 1, selector: {matchLabels: {app: api}}"
                )
            )
        ),
        ["selector app=api matches no pods in the input"]
    );
    assert_eq!(
        fires(
            "k8s-pdb-selector",
            &format!("{web}{}", pdb("p", "a", "maxUnavailable: 1"))
        ),
        ["PodDisruptionBudget has no usable selector, so it protects no pods"]
    );
    quiet(
        "k8s-pdb-selector",
        &format!(
            "{web}{}",
            pdb(
                "p",
                "a",
                "maxUnavailable: 1, selector: {matchExpressions: [{key: app, operator: NotIn, values: [api]}]}"
            )
        ),
    );
}

#[test]
fn required_labels() {
    assert_eq!(
        fires("k8s-required-labels", &deployment("web", "-", "", "")),
        ["missing required labels owner, cost-center"]
    );
    let labelled = deployment("web", "-", "", "").replace(
        "metadata: {name: web}",
        "metadata: {name: web, labels: {owner: a, cost-center: ''}}",
    );
    assert_eq!(
        fires("k8s-required-labels", &labelled),
        ["missing required label cost-center"]
    );
    let team = RuleSettings {
        required_labels: vec!["owner".into()],
        ..RuleSettings::default()
    };
    assert!(run_with("k8s-required-labels", &labelled, &team).is_empty());
    let none = RuleSettings {
        required_labels: Vec::new(),
        ..RuleSettings::default()
    };
    assert!(
        run_with(
            "k8s-required-labels",
            &deployment("web", "-", "", ""),
            &none
        )
        .is_empty()
    );
    // Only workloads are asked.
    quiet("k8s-required-labels", &service("a", "app: web"));
}

fn role(kind: &str, name: &str, rules: &str) -> String {
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: a}}\nrules: [{rules}]\n"
    )
}

fn binding(kind: &str, name: &str, ns: &str, role_kind: &str, role: &str) -> String {
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: {role}}}\nsubjects: [{{kind: User, name: u}}]\n"
    )
}

const ALL: &str = "{apiGroups: ['*'], resources: ['*'], verbs: ['*']}";

#[test]
fn rbac_wildcards() {
    assert_eq!(
        fires(
            "k8s-rbac-wildcard",
            &role(
                "ClusterRole",
                "ops",
                "{apiGroups: [''], resources: [pods], verbs: [get]}, {apiGroups: [apps], resources: ['*'], verbs: ['*']}"
            )
        ),
        ["rules[1] uses * in resources, verbs"]
    );
    quiet("k8s-rbac-wildcard", &role("ClusterRole", "system:ops", ALL));
    quiet(
        "k8s-rbac-wildcard",
        &role(
            "Role",
            "r",
            "{apiGroups: [''], resources: [pods], verbs: [get]}",
        ),
    );
}

#[test]
fn rbac_pod_exec() {
    let exec = "{apiGroups: [''], resources: [pods, pods/exec], verbs: [create]}";
    assert_eq!(
        fires(
            "k8s-rbac-clusterrole-pod-exec",
            &role("ClusterRole", "debug", exec)
        ),
        ["rules[0] allows exec or attach into pods"]
    );
    quiet(
        "k8s-rbac-clusterrole-pod-exec",
        &role("ClusterRole", "edit", exec),
    );
    quiet(
        "k8s-rbac-clusterrole-pod-exec",
        &role("Role", "debug", exec),
    );
    fires("k8s-rbac-role-pod-exec", &role("Role", "debug", exec));
    quiet(
        "k8s-rbac-role-pod-exec",
        &role(
            "Role",
            "debug",
            "{apiGroups: [''], resources: [pods/exec], verbs: [list]}",
        ),
    );
}

#[test]
fn rbac_admin_bindings() {
    assert_eq!(
        fires(
            "k8s-rbac-cluster-admin-binding",
            &binding(
                "ClusterRoleBinding",
                "ops",
                "a",
                "ClusterRole",
                "cluster-admin"
            )
        ),
        ["binds the cluster-admin ClusterRole"]
    );
    assert_eq!(
        fires(
            "k8s-rbac-cluster-admin-binding",
            &format!(
                "{}{}",
                role(
                    "ClusterRole",
                    "god",
                    "{apiGroups: ['*'], resources: ['*'], verbs: [get, list, watch, create, update, patch, delete]}"
                ),
                binding("ClusterRoleBinding", "ops", "a", "ClusterRole", "god")
            )
        ),
        ["binds ClusterRole god, which grants every verb on every resource"]
    );
    quiet(
        "k8s-rbac-cluster-admin-binding",
        &binding(
            "ClusterRoleBinding",
            "system:ops",
            "a",
            "ClusterRole",
            "cluster-admin",
        ),
    );
    quiet(
        "k8s-rbac-cluster-admin-binding",
        &format!(
            "{}{}",
            role(
                "ClusterRole",
                "god",
                "{apiGroups: [''], resources: ['*'], verbs: ['*']}"
            ),
            binding("ClusterRoleBinding", "ops", "a", "ClusterRole", "god")
        ),
    );

    fires(
        "k8s-rbac-rolebinding-cluster-admin",
        &binding("RoleBinding", "ops", "a", "ClusterRole", "cluster-admin"),
    );
    quiet(
        "k8s-rbac-rolebinding-cluster-admin",
        &binding("RoleBinding", "ops", "a", "ClusterRole", "edit"),
    );
    quiet(
        "k8s-rbac-rolebinding-cluster-admin",
        &format!(
            "{}{}",
            role("Role", "all", ALL),
            binding("RoleBinding", "ops", "a", "Role", "all")
        ),
    );

    assert_eq!(
        fires(
            "k8s-rbac-rolebinding-admin-role",
            &format!(
                "{}{}",
                role("Role", "all", ALL),
                binding("RoleBinding", "ops", "a", "Role", "all")
            )
        ),
        ["binds Role all, which grants every verb on every resource"]
    );
    // The Role of that name lives in another namespace.
    quiet(
        "k8s-rbac-rolebinding-admin-role",
        &format!(
            "{}{}",
            role("Role", "all", ALL),
            binding("RoleBinding", "ops", "b", "Role", "all")
        ),
    );
}

#[test]
fn owned_pods_are_left_to_their_controller() {
    let owned = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, controller: true}]\nspec: {containers: [{name: web, image: nginx}]}\n";
    for id in [
        "k8s-image-tag",
        "k8s-cpu-requests",
        "k8s-readiness-probe",
        "k8s-automount-token",
    ] {
        quiet(id, owned);
    }
    // …but they are pods a Service can select.
    quiet(
        "k8s-service-selector",
        &format!(
            "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{selector: {{app: web}}}}\n",
            owned.replace("  name: web-1\n", "  name: web-1\n  labels: {app: web}\n")
        ),
    );
}
