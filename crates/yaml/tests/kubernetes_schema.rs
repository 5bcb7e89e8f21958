//! Scalars, keys and merge keys as Kubernetes reads them (`sigs.k8s.io/yaml` → go-yaml v2,
//! YAML 1.1), next to the YAML 1.2 core reading the catalog keeps. The expected values come
//! from go-yaml v2's resolver table and integer/float rules (`goyaml.v2/resolve.go` in
//! kubernetes-sigs/yaml) and its merge (`decode.go`), then Go's JSON encoding.

#![allow(clippy::unwrap_used)]

use pave_yaml::{Limits, PathSegment, Schema, YamlError, parse_documents_as};
use serde_json::{Value, json};

fn value(text: &str, schema: Schema) -> Result<Value, YamlError> {
    let docs = parse_documents_as(&format!("v: {text}\n"), &Limits::default(), schema)?;
    Ok(docs[0].value["v"].clone())
}

#[test]
fn scalars_as_kubernetes_and_the_catalog_read_them() {
    // (as written, Kubernetes, YAML 1.2 core)
    let table: &[(&str, Value, Value)] = &[
        // Booleans: YAML 1.1's words and their case forms.
        ("y", json!(true), json!("y")),
        ("Y", json!(true), json!("Y")),
        ("yes", json!(true), json!("yes")),
        ("Yes", json!(true), json!("Yes")),
        ("YES", json!(true), json!("YES")),
        ("on", json!(true), json!("on")),
        ("On", json!(true), json!("On")),
        ("ON", json!(true), json!("ON")),
        ("true", json!(true), json!(true)),
        ("True", json!(true), json!(true)),
        ("TRUE", json!(true), json!(true)),
        ("n", json!(false), json!("n")),
        ("N", json!(false), json!("N")),
        ("no", json!(false), json!("no")),
        ("No", json!(false), json!("No")),
        ("NO", json!(false), json!("NO")),
        ("off", json!(false), json!("off")),
        ("Off", json!(false), json!("Off")),
        ("OFF", json!(false), json!("OFF")),
        ("false", json!(false), json!(false)),
        ("False", json!(false), json!(false)),
        ("FALSE", json!(false), json!(false)),
        // Not in the table: strings.
        ("yEs", json!("yEs"), json!("yEs")),
        ("oN", json!("oN"), json!("oN")),
        ("yes please", json!("yes please"), json!("yes please")),
        ("'yes'", json!("yes"), json!("yes")),
        ("\"on\"", json!("on"), json!("on")),
        ("!!str on", json!("on"), json!("on")),
        // Nulls.
        ("", json!(null), json!(null)),
        ("~", json!(null), json!(null)),
        ("null", json!(null), json!(null)),
        ("Null", json!(null), json!(null)),
        ("NULL", json!(null), json!(null)),
        ("nULL", json!("nULL"), json!("nULL")),
        // Integers: Go's ParseInt(s, 0, 64) after dropping underscores.
        ("0755", json!(493), json!(755)),
        ("-0755", json!(-493), json!(-755)),
        ("0o755", json!(493), json!(493)),
        ("0O755", json!(493), json!("0O755")),
        ("-0o17", json!(-15), json!("-0o17")),
        ("0x1F", json!(31), json!(31)),
        ("0X1f", json!(31), json!("0X1f")),
        ("-0x10", json!(-16), json!("-0x10")),
        ("+12", json!(12), json!(12)),
        ("0b101", json!(5), json!("0b101")),
        ("-0b101", json!(-5), json!("-0b101")),
        ("1_000", json!(1000), json!("1_000")),
        ("0x_ff", json!(255), json!("0x_ff")),
        ("0", json!(0), json!(0)),
        ("08", json!(8), json!(8)),
        ("09.5", json!(9.5), json!(9.5)),
        (
            "18446744073709551615",
            json!(18_446_744_073_709_551_615_u64),
            json!(18_446_744_073_709_551_615_u64),
        ),
        // Floats: whole ones reach the API server as integers (Go's JSON encoding).
        ("1.5", json!(1.5), json!(1.5)),
        ("1e3", json!(1000), json!(1000.0)),
        ("1_000.5", json!(1000.5), json!("1_000.5")),
        (".5", json!(0.5), json!(0.5)),
        ("-.5", json!(-0.5), json!(-0.5)),
        ("6.", json!(6), json!(6.0)),
        ("1.2.3", json!("1.2.3"), json!("1.2.3")),
        // Sexagesimal: go-yaml v2 does not resolve it ("Base 60 floats are a bad idea").
        ("1:20", json!("1:20"), json!("1:20")),
        ("190:20:30", json!("190:20:30"), json!("190:20:30")),
        // Timestamps stay as written (see yaml11.rs).
        ("2001-12-14", json!("2001-12-14"), json!("2001-12-14")),
        // Neither a number nor a boolean.
        ("0x", json!("0x"), json!("0x")),
        ("_1", json!("_1"), json!("_1")),
        ("12e", json!("12e"), json!("12e")),
    ];
    for (text, kubernetes, core) in table {
        assert_eq!(
            &value(text, Schema::Kubernetes).unwrap(),
            kubernetes,
            "Kubernetes: {text}"
        );
        assert_eq!(&value(text, Schema::Core).unwrap(), core, "core: {text}");
    }
}

#[test]
fn infinities_and_nan_are_refused_for_kubernetes() {
    for text in [
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", "-.INF",
    ] {
        let err = value(text, Schema::Kubernetes).unwrap_err();
        assert!(matches!(err, YamlError::NotJson { .. }), "{text}: {err}");
        assert_eq!(err.position().line, 1, "{text}");
        assert_eq!(err.position().column, 4, "{text}");
        // The catalog keeps the spelling as a string.
        assert_eq!(value(text, Schema::Core).unwrap(), json!(text));
    }
}

#[test]
fn keys_are_resolved_and_written_as_text() {
    // `on` and `yes` are the same key to Kubernetes: a duplicate.
    let err =
        parse_documents_as("on: 1\nyes: 2\n", &Limits::default(), Schema::Kubernetes).unwrap_err();
    assert!(
        matches!(err, YamlError::DuplicateKey { ref key, .. } if key == "true"),
        "{err}"
    );
    let docs = parse_documents_as(
        "on: 1\n0x10: 3\n~: 4\n'off': 5\n",
        &Limits::default(),
        Schema::Kubernetes,
    )
    .unwrap();
    assert_eq!(
        docs[0].value,
        json!({"true": 1, "16": 3, "null": 4, "off": 5})
    );
    let core = parse_documents_as("on: 1\n0x10: 3\n", &Limits::default(), Schema::Core).unwrap();
    assert_eq!(core[0].value, json!({"on": 1, "0x10": 3}));
}

fn merged(text: &str) -> Value {
    parse_documents_as(text, &Limits::default(), Schema::Kubernetes).unwrap()[0]
        .value
        .clone()
}

#[test]
fn merge_keys_as_go_yaml_v2() {
    // One mapping, through an alias; explicit keys after the merge win.
    assert_eq!(
        merged("base: &b {a: 1, b: 2}\nobj:\n  <<: *b\n  b: 3\n")["obj"],
        json!({"a": 1, "b": 3})
    );
    // go-yaml v2 applies entries in order: a merge after an explicit key replaces it.
    assert_eq!(
        merged("base: &b {a: 1, b: 2}\nobj:\n  b: 3\n  <<: *b\n")["obj"],
        json!({"b": 2, "a": 1})
    );
    // A list: earlier mappings win over later ones; explicit keys after still win.
    assert_eq!(
        merged("x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nobj:\n  <<: [*x, *y]\n  c: 3\n")["obj"],
        json!({"b": 1, "c": 3, "a": 1})
    );
    // An inline mapping.
    assert_eq!(
        merged("obj:\n  <<: {a: 1}\n  b: 2\n")["obj"],
        json!({"a": 1, "b": 2})
    );
    // A quoted `<<` is an ordinary key; so is `<<` in the catalog's reading.
    assert_eq!(
        merged("obj:\n  '<<': {a: 1}\n")["obj"],
        json!({"<<": {"a": 1}})
    );
    let core =
        parse_documents_as("obj:\n  <<: {a: 1}\n", &Limits::default(), Schema::Core).unwrap();
    assert_eq!(core[0].value["obj"], json!({"<<": {"a": 1}}));
    // Anything but mappings is refused, as go-yaml refuses it.
    for bad in [
        "obj:\n  <<: 1\n",
        "obj:\n  <<: [1]\n",
        "obj:\n  <<: [{a: 1}, x]\n",
    ] {
        let err = parse_documents_as(bad, &Limits::default(), Schema::Kubernetes).unwrap_err();
        assert!(
            matches!(err, YamlError::MergeNotMapping { .. }),
            "{bad}: {err}"
        );
        assert_eq!(err.position().line, 2, "{bad}");
    }
    // An explicit key twice is still a duplicate.
    let err = parse_documents_as(
        "obj:\n  <<: {a: 1}\n  b: 1\n  b: 2\n",
        &Limits::default(),
        Schema::Kubernetes,
    )
    .unwrap_err();
    assert!(matches!(err, YamlError::DuplicateKey { .. }), "{err}");
}

#[test]
fn positions_stay_exact_through_merges() {
    let text = "\
defaults: &defaults
  privileged: true
  runAsUser: 0
pod:
  name: web
  securityContext:
    <<: *defaults
    runAsNonRoot: yes
  inline:
    <<: {a: 1,
         b: 2}
    c: 3
  after: 1
";
    let docs = parse_documents_as(text, &Limits::default(), Schema::Kubernetes).unwrap();
    let doc = &docs[0];
    let at = |path: &[&str]| {
        let path: Vec<PathSegment> = path.iter().map(|&p| PathSegment::from(p)).collect();
        let p = doc.spans.locate(&doc.value, 0, &path).unwrap();
        (p.line, p.column)
    };
    assert_eq!(
        doc.value["pod"]["securityContext"],
        json!({"privileged": true, "runAsUser": 0, "runAsNonRoot": true})
    );
    // Values that came through an alias merge point at the merge key.
    assert_eq!(at(&["pod", "securityContext", "privileged"]), (7, 5));
    assert_eq!(at(&["pod", "securityContext", "runAsUser"]), (7, 5));
    assert_eq!(at(&["pod", "securityContext", "runAsNonRoot"]), (8, 5));
    // From an inline mapping, at their own keys.
    assert_eq!(at(&["pod", "inline", "a"]), (10, 10));
    assert_eq!(at(&["pod", "inline", "b"]), (11, 10));
    assert_eq!(at(&["pod", "inline", "c"]), (12, 5));
    // Nodes after a merged mapping are where they were.
    assert_eq!(at(&["pod", "after"]), (13, 3));
    assert_eq!(at(&["pod", "name"]), (5, 3));
    assert_eq!(at(&["defaults", "runAsUser"]), (3, 3));
}

#[test]
fn control_characters_are_named_with_their_position() {
    for schema in [Schema::Core, Schema::Kubernetes] {
        let err = parse_documents_as("a: 1\nb: x\0y\n", &Limits::default(), schema).unwrap_err();
        assert_eq!(
            err.to_string(),
            "control character U+0000 is not allowed in YAML"
        );
        assert_eq!((err.position().line, err.position().column), (2, 5));
    }
    let err = parse_documents_as("é: \u{1}", &Limits::default(), Schema::Core).unwrap_err();
    assert_eq!((err.position().line, err.position().column), (1, 4));
    // Tabs and CRLF are fine.
    assert!(
        parse_documents_as("a: \"x\ty\"\r\nb: 2\r\n", &Limits::default(), Schema::Core).is_ok()
    );
}

#[test]
fn removing_a_node_keeps_the_other_positions() {
    let text = "a:\n  b: [1, 2]\n  c:\n    d: 1\n  e: 3\nf: 4\n";
    let mut docs =
        pave_yaml::parse_documents_at(text, &Limits::default(), Schema::Core, 11).unwrap();
    let doc = &mut docs[0];
    assert_eq!(doc.start.line, 11);
    let path =
        |p: &[&str]| -> Vec<PathSegment> { p.iter().map(|&s| PathSegment::from(s)).collect() };
    assert!(doc.spans.remove(&mut doc.value, 0, &path(&["a", "c"])));
    assert!(!doc.spans.remove(&mut doc.value, 0, &path(&["a", "zz"])));
    assert_eq!(doc.value, json!({"a": {"b": [1, 2], "e": 3}, "f": 4}));
    let at = |p: &[&str]| {
        let p = doc.spans.locate(&doc.value, 0, &path(p)).unwrap();
        (p.line, p.column)
    };
    assert_eq!(at(&["a", "e"]), (15, 3));
    assert_eq!(at(&["f"]), (16, 1));
    assert_eq!(at(&["a", "b"]), (12, 3));
    let err =
        pave_yaml::parse_documents_at("a: [\n", &Limits::default(), Schema::Core, 11).unwrap_err();
    assert!(err.position().line >= 11, "{err:?}");
}
