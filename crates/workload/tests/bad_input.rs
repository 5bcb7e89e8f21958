//! Bad input: every failure is a clear error naming the file and position, never a panic.
#![allow(clippy::unwrap_used)]

use pave_workload::{Environment, Error, NoFiles, Provisioners, RenderOptions, Workload, render};

fn render_text(text: &str, provisioners: &Provisioners, image: Option<&str>) -> Result<(), Error> {
    let w = Workload::parse("score.yaml", text)?;
    let options = RenderOptions {
        environments: vec![Environment::Dev],
        image: image.map(str::to_owned),
        namespace: None,
    };
    render(&w, provisioners, &NoFiles, &options).map(|_| ())
}

fn error(text: &str) -> String {
    render_text(text, &Provisioners::builtin(), None)
        .unwrap_err()
        .to_string()
}

/// The error of rendering a workload with one `queue` resource, served by `text` only.
fn queue_error(file: &str, text: &str) -> String {
    let mut p = Provisioners::default();
    p.add_file(file, text).unwrap();
    render_text(
        &format!(
            "{HEAD}containers:\n  main: {{image: nginx:1.27}}\nresources:\n  qq:\n    type: queue\n"
        ),
        &p,
        None,
    )
    .unwrap_err()
    .to_string()
}

const HEAD: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\n";

#[test]
fn unknown_placeholder_root_names_the_field() {
    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    variables:\n      GREETING: hello ${{workload.name}}\n"
    ));
    assert_eq!(
        e,
        "score.yaml:8:7: invalid ref `workload.name`: unknown reference root, use $$ to escape the substitution"
    );
}

#[test]
fn unknown_metadata_key_resource_and_output() {
    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    args: [\"${{metadata.team}}\"]\n"
    ));
    assert!(e.starts_with("score.yaml:7:12:"), "{e}");
    assert!(
        e.contains("invalid ref `metadata.team`: key `team` not found"),
        "{e}"
    );

    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    variables:\n      DB: ${{resources.db.host}}\n"
    ));
    assert_eq!(
        e,
        "score.yaml:8:7: invalid ref `resources.db.host`: no resource named `db` in `resources`"
    );

    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    variables:\n      DB: ${{resources.db.hostname}}\nresources:\n  db:\n    type: postgres\n"
    ));
    assert!(
        e.starts_with(
            "score.yaml:8:7: invalid ref `resources.db.hostname`: key `hostname` not found"
        ),
        "{e}"
    );
    assert!(
        e.contains("(resource `db` has outputs: host, port, name, database, username, password)"),
        "{e}"
    );
}

#[test]
fn unknown_resource_type_and_missing_provisioner() {
    let e = error(&format!(
        "{HEAD}containers:\n  main: {{image: nginx:1.27}}\nresources:\n  queue:\n    type: rabbitmq\n"
    ));
    assert!(e.starts_with("score.yaml:8:5: resource `queue`: unknown resource type `rabbitmq` (no provisioner serves it; known types: dns, postgres, redis, route, s3)"), "{e}");

    let mut only = Provisioners::default();
    only.add_file(
        "platform/db.provisioners.yaml",
        "- type: postgres\n  class: large\n  outputs:\n    host: db\n",
    )
    .unwrap();
    let e = render_text(
        &format!("{HEAD}containers:\n  main: {{image: nginx:1.27}}\nresources:\n  db:\n    type: postgres\n"),
        &only,
        None,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "score.yaml:8:5: resource `db`: no provisioner for type `postgres` with class `default`"
    );
}

#[test]
fn provisioner_template_errors_name_the_provisioner_file_and_line() {
    // The route provisioner needs params.port: strict undefined values are errors.
    let e = error(&format!(
        "{HEAD}containers:\n  main: {{image: nginx:1.27}}\nresources:\n  web:\n    type: route\n    params: {{host: demo.example.com}}\n"
    ));
    assert!(
        e.starts_with("builtin/zz-default.provisioners.yaml:"),
        "{e}"
    );
    assert!(e.contains("provisioner for type `route`, manifests"), "{e}");
    assert!(e.contains("undefined value"), "{e}");

    let e = queue_error(
        "platform/queue.provisioners.yaml",
        "# queues\n- type: queue\n  outputs:\n    url: \"amqp://{{ params.host }}\"\n",
    );
    assert!(
        e.starts_with("platform/queue.provisioners.yaml:4:5: provisioner for type `queue`, output `url` (template line 1): undefined value"),
        "{e}"
    );

    // Manifests that are not Kubernetes objects.
    let e = queue_error(
        "platform/bad.provisioners.yaml",
        "- type: queue\n  manifests: |\n    just: text\n",
    );
    assert!(e.starts_with("platform/bad.provisioners.yaml:2:3:"), "{e}");
    assert!(e.contains("is not a Kubernetes object"), "{e}");
}

#[test]
fn malformed_provisioner_files() {
    let mut p = Provisioners::default();
    let e = p
        .add_file("x.provisioners.yaml", "- type: a\n  output: {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.provisioners.yaml:2:3: unknown field `output`"),
        "{e}"
    );
    let e = p
        .add_file("x.provisioners.yaml", "type: a\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a provisioner file is a list"), "{e}");
    let e = p
        .add_file("x.provisioners.yaml", "- type: a\n  outputs: [\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x.provisioners.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn malformed_yaml_has_file_line_column() {
    let e = error(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\ncontainers:\n  main:\n    image: \"unterminated\n",
    );
    assert!(e.starts_with("score.yaml:"), "{e}");
    let pos: Vec<&str> = e.splitn(4, ':').collect();
    assert!(
        pos[1].parse::<u32>().is_ok() && pos[2].parse::<u32>().is_ok(),
        "{e}"
    );
    assert!(e.contains("invalid YAML"), "{e}");

    let e = error(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\n  name: again\ncontainers: {}\n",
    );
    assert!(
        e.starts_with("score.yaml:4:3: duplicate mapping key `name`"),
        "{e}"
    );
}

#[test]
fn invalid_score_fields() {
    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    files:\n      /etc/a:\n        mode: \"999\"\n        content: x\n    readinessProbe:\n      httpGet: {{path: /, port: 0}}\nresources:\n  db:\n    type: p\n    class: \"a b\"\n"
    ));
    assert!(
        e.contains(
            "score.yaml:9:9: containers.main.files./etc/a.mode: `999` is not an octal file mode"
        ),
        "{e}"
    );
    assert!(
        e.contains(
            "score.yaml:12:26: containers.main.readinessProbe.httpGet.port: 0 is outside 1..65535"
        ),
        "{e}"
    );
    assert!(
        e.contains("score.yaml:15:5: resources.db.type: `p` is not a resource type"),
        "{e}"
    );
    assert!(
        e.contains("score.yaml:16:5: resources.db.class: `a b` is not a resource class"),
        "{e}"
    );

    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    livenessProbe:\n      httpGet: {{host: 10.0.0.1, path: /, port: 80}}\n"
    ));
    assert!(e.starts_with("score.yaml:8:17: a probe `host`"), "{e}");
}

#[test]
fn dot_image_needs_the_image_option() {
    let text = format!("{HEAD}containers:\n  main:\n    image: .\n");
    let e = error(&text);
    assert_eq!(
        e,
        "score.yaml:6:5: container `main` has image `.` (built from this repository): pass the built image with --image"
    );
    render_text(
        &text,
        &Provisioners::builtin(),
        Some("registry.example.com/demo:1.0.0"),
    )
    .unwrap();
}

#[test]
fn secrets_never_reach_files_or_args() {
    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    args: [\"--password=${{resources.db.password}}\"]\nresources:\n  db: {{type: postgres}}\n"
    ));
    assert!(e.contains("a secret output cannot be used in args"), "{e}");
}

#[test]
fn resource_param_cycles_are_reported() {
    let e = error(&format!(
        "{HEAD}containers:\n  main: {{image: nginx:1.27}}\nresources:\n  aa:\n    type: dns\n    params: {{host: \"${{resources.bb.host}}\"}}\n  bb:\n    type: dns\n    params: {{host: \"${{resources.aa.host}}\"}}\n"
    ));
    assert!(
        e.contains("resources aa, bb refer to each other in their params"),
        "{e}"
    );
}

#[test]
fn volumes_are_refused_clearly() {
    let e = error(&format!(
        "{HEAD}containers:\n  main:\n    image: nginx:1.27\n    volumes:\n      /data:\n        source: ${{resources.data}}\n"
    ));
    assert!(
        e.starts_with("score.yaml:8:7: volumes are not supported"),
        "{e}"
    );
}

#[test]
fn scrape_and_run_annotations_are_checked() {
    let annotated = |annotations: &str, rest: &str| {
        error(&format!(
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo\n  annotations:\n{annotations}{rest}containers:\n  main: {{image: nginx:1.27}}\n"
        ))
    };
    let ports = "service:\n  ports:\n    web: {port: 80}\n";
    let e = annotated("    pave.dev/metrics-port: metrics\n", ports);
    assert!(e.starts_with("score.yaml:5:5:"), "{e}");
    assert!(
        e.contains("`metrics` is not a service port (ports: web)"),
        "{e}"
    );
    let e = annotated("    pave.dev/metrics-port: metrics\n", "");
    assert!(e.contains("this workload has none"), "{e}");
    let e = annotated("    pave.dev/metrics-path: /metrics\n", ports);
    assert!(e.contains("needs pave.dev/metrics-port"), "{e}");
    let e = annotated(
        "    pave.dev/metrics-port: web\n    pave.dev/metrics-path: metrics\n",
        ports,
    );
    assert!(e.contains("is not a URL path"), "{e}");
    let e = annotated("    pave.dev/active-deadline-seconds: \"60\"\n", "");
    assert!(e.contains("Job and CronJob workloads only"), "{e}");
    let cron = "    pave.dev/workload-kind: CronJob\n    pave.dev/schedule: \"@daily\"\n";
    let e = annotated(
        &format!("{cron}    pave.dev/active-deadline-seconds: soon\n"),
        "",
    );
    assert!(
        e.contains("`soon` is not a positive number of seconds"),
        "{e}"
    );
    let e = annotated(&format!("{cron}    pave.dev/time-zone: \"../etc\"\n"), "");
    assert!(e.contains("is not a time zone name"), "{e}");
    let e = annotated(
        &format!("{cron}    pave.dev/concurrency-policy: Never\n"),
        "",
    );
    assert!(e.contains("is not Allow, Forbid or Replace"), "{e}");
    let e = annotated("    pave.dev/time-zone: Etc/UTC\n", "");
    assert!(e.contains("CronJob workloads only"), "{e}");
}
