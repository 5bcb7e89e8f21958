//! OPA built-in functions regorus 0.11 lacks and conftest policies call, added as engine
//! extensions: `json.patch` (RFC 6902), `crypto.md5`/`sha1`/`sha256`/`sha512` (hex digests) and
//! `io.jwt.decode` (no verification; the `io.jwt.verify_*` functions stay undefined and are
//! refused when policies load), `net.cidr_merge` (cidr_merge.rs),
//! `regex.globs_match` (globs_match.rs), `strings.render_template` (render_template.rs).

use base64::Engine as _;
use regorus::{Engine, Value as RegoValue};
use serde_json::Value;

/// The names added, for the unknown-function check.
pub(crate) const NAMES: &[&str] = &[
    "json.patch",
    "crypto.sha1",
    "crypto.sha256",
    "crypto.sha512",
    "crypto.md5",
    "io.jwt.decode",
    "net.cidr_merge",
    "regex.globs_match",
    "strings.render_template",
];

pub(crate) fn register(engine: &mut Engine) -> anyhow::Result<()> {
    engine.add_extension("json.patch".into(), 2, Box::new(json_patch))?;
    engine.add_extension(
        "crypto.sha1".into(),
        1,
        Box::new(|p: Vec<RegoValue>| digest::<sha1::Sha1>(&p, "crypto.sha1")),
    )?;
    engine.add_extension(
        "crypto.sha256".into(),
        1,
        Box::new(|p: Vec<RegoValue>| digest::<sha2::Sha256>(&p, "crypto.sha256")),
    )?;
    engine.add_extension(
        "crypto.sha512".into(),
        1,
        Box::new(|p: Vec<RegoValue>| digest::<sha2::Sha512>(&p, "crypto.sha512")),
    )?;
    engine.add_extension(
        "crypto.md5".into(),
        1,
        Box::new(|p: Vec<RegoValue>| digest::<md5::Md5>(&p, "crypto.md5")),
    )?;
    engine.add_extension("io.jwt.decode".into(), 1, Box::new(jwt_decode))?;
    engine.add_extension(
        "net.cidr_merge".into(),
        1,
        Box::new(crate::cidr_merge::cidr_merge),
    )?;
    engine.add_extension(
        "regex.globs_match".into(),
        2,
        Box::new(crate::globs_match::globs_match),
    )?;
    engine.add_extension(
        "strings.render_template".into(),
        2,
        Box::new(crate::render_template::render_template),
    )?;
    Ok(())
}

fn json(v: &RegoValue) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(v)?)
}

fn string_arg<'a>(params: &'a [RegoValue], name: &str) -> anyhow::Result<&'a str> {
    match params.first() {
        Some(RegoValue::String(s)) => Ok(s.as_ref()),
        _ => anyhow::bail!("{name}: operand 1 must be a string"),
    }
}

fn digest<D: sha1::Digest>(params: &[RegoValue], name: &str) -> anyhow::Result<RegoValue> {
    let text = string_arg(params, name)?;
    let hash = D::digest(text.as_bytes());
    Ok(RegoValue::from(
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

/// `io.jwt.decode(token)`: `[header, payload, signature as hex]`.
fn jwt_decode(params: Vec<RegoValue>) -> anyhow::Result<RegoValue> {
    let token = string_arg(&params, "io.jwt.decode")?;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        anyhow::bail!("io.jwt.decode: a JWT has three dot-separated parts");
    };
    let decode = |part: &str| -> anyhow::Result<Vec<u8>> {
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('='))?)
    };
    let header: Value = serde_json::from_slice(&decode(header)?)?;
    let payload: Value = serde_json::from_slice(&decode(payload)?)?;
    let signature: String = decode(signature)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(RegoValue::from(Value::Array(vec![
        header,
        payload,
        Value::String(signature),
    ])))
}

/// `json.patch(object, patches)`: RFC 6902 operations applied in order.
fn json_patch(params: Vec<RegoValue>) -> anyhow::Result<RegoValue> {
    let (Some(target), Some(patches)) = (params.first(), params.get(1)) else {
        anyhow::bail!("json.patch: expected 2 operands");
    };
    let mut doc = json(target)?;
    let Value::Array(patches) = json(patches)? else {
        anyhow::bail!("json.patch: operand 2 must be an array of operations");
    };
    for patch in &patches {
        let op = patch.get("op").and_then(Value::as_str).unwrap_or("");
        let path = pointer(patch.get("path"))?;
        match op {
            "add" => add(&mut doc, &path, field(patch, "value")?)?,
            "remove" => {
                remove(&mut doc, &path)?;
            }
            "replace" => {
                remove(&mut doc, &path)?;
                add(&mut doc, &path, field(patch, "value")?)?;
            }
            "move" => {
                let from = pointer(patch.get("from"))?;
                let value = remove(&mut doc, &from)?;
                add(&mut doc, &path, value)?;
            }
            "copy" => {
                let from = pointer(patch.get("from"))?;
                let value = get(&doc, &from)?.clone();
                add(&mut doc, &path, value)?;
            }
            "test" => {
                if get(&doc, &path)? != &field(patch, "value")? {
                    anyhow::bail!("json.patch: test failed at {}", path.join("/"));
                }
            }
            other => anyhow::bail!("json.patch: unknown operation {other:?}"),
        }
    }
    Ok(RegoValue::from(doc))
}

fn field(patch: &Value, key: &str) -> anyhow::Result<Value> {
    patch
        .get(key)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("json.patch: operation without {key:?}"))
}

/// A JSON pointer (`/a/0/b~1c`) or an array of path segments.
fn pointer(path: Option<&Value>) -> anyhow::Result<Vec<String>> {
    match path {
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => {
            let Some(rest) = s.strip_prefix('/') else {
                anyhow::bail!("json.patch: path {s:?} must start with /");
            };
            Ok(rest
                .split('/')
                .map(|p| p.replace("~1", "/").replace("~0", "~"))
                .collect())
        }
        Some(Value::Array(items)) => Ok(items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()),
        _ => anyhow::bail!("json.patch: operation without a path"),
    }
}

fn get<'a>(doc: &'a Value, path: &[String]) -> anyhow::Result<&'a Value> {
    let mut current = doc;
    for key in path {
        current = match current {
            Value::Object(o) => o.get(key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| anyhow::anyhow!("json.patch: no value at /{}", path.join("/")))?;
    }
    Ok(current)
}

fn parent<'a>(doc: &'a mut Value, path: &[String]) -> anyhow::Result<(&'a mut Value, String)> {
    let Some((last, init)) = path.split_last() else {
        anyhow::bail!("json.patch: the root cannot be the target here");
    };
    let mut current = doc;
    for key in init {
        current = match current {
            Value::Object(o) => o.get_mut(key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| anyhow::anyhow!("json.patch: no value at /{}", path.join("/")))?;
    }
    Ok((current, last.clone()))
}

fn add(doc: &mut Value, path: &[String], value: Value) -> anyhow::Result<()> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (target, key) = parent(doc, path)?;
    match target {
        Value::Object(o) => {
            o.insert(key, value);
        }
        Value::Array(a) if key == "-" => a.push(value),
        Value::Array(a) => match key.parse::<usize>() {
            Ok(i) if i <= a.len() => a.insert(i, value),
            _ => anyhow::bail!("json.patch: index {key} out of range"),
        },
        _ => anyhow::bail!("json.patch: cannot add below a scalar"),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &[String]) -> anyhow::Result<Value> {
    let (target, key) = parent(doc, path)?;
    let removed = match target {
        Value::Object(o) => o.shift_remove(&key),
        Value::Array(a) => match key.parse::<usize>() {
            Ok(i) if i < a.len() => Some(a.remove(i)),
            _ => None,
        },
        _ => None,
    };
    removed.ok_or_else(|| anyhow::anyhow!("json.patch: no value at /{}", path.join("/")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use crate::{RegoOptions, RegoPolicies};

    fn messages(policy: &str, input: serde_json::Value) -> Vec<String> {
        let p = RegoPolicies::from_sources(
            [("p.rego".to_owned(), policy.to_owned())],
            serde_json::Map::new(),
            RegoOptions::default(),
        )
        .unwrap();
        p.check(&input, "in.json")
            .unwrap()
            .findings
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    /// The error of the first document's evaluation, which must fail.
    fn evaluation_error(policy: String) -> String {
        let p = RegoPolicies::from_sources(
            [("p.rego".to_owned(), policy)],
            serde_json::Map::new(),
            RegoOptions::default(),
        )
        .unwrap();
        p.check(&json!({}), "in.json").unwrap_err().to_string()
    }

    #[test]
    fn json_patch_crypto_and_jwt() {
        let policy = r#"package main
import rego.v1
deny contains msg if {
  patched := json.patch(input, [
    {"op": "add", "path": "/spec/replicas", "value": 3},
    {"op": "remove", "path": "/drop"},
    {"op": "replace", "path": ["metadata", "name"], "value": "b"},
    {"op": "add", "path": "/list/-", "value": 9}
  ])
  msg := sprintf("%v", [patched])
}
deny contains crypto.sha256("abc")
deny contains crypto.sha1("abc")
deny contains crypto.sha512("abc")
deny contains crypto.md5("abc")
deny contains msg if {
  [header, payload, _] := io.jwt.decode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
  msg := sprintf("%s %s", [header.alg, payload.sub])
}
"#;
        let mut got = messages(
            policy,
            json!({"spec": {}, "drop": 1, "metadata": {"name": "a"}, "list": [1]}),
        );
        got.sort();
        assert_eq!(
            got,
            [
                "900150983cd24fb0d6963f7d28e17f72",
                "HS256 a",
                "a9993e364706816aba3e25717850c26c9cd0d89d",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                "{\"list\": [1, 9], \"metadata\": {\"name\": \"b\"}, \"spec\": {\"replicas\": 3}}",
            ]
        );
    }

    /// Cases from OPA's test/cases/testdata/v1/netcidrmerge (want_result as OPA gives it).
    #[test]
    fn cidr_merge_as_opa() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"["192.0.128.0/24", "192.0.128.0/24"]"#,
                &["192.0.128.0/24"],
            ),
            (r#"["192.0.128.0/24", "0.0.0.0/0"]"#, &["0.0.0.0/0"]),
            (
                r#"["192.0.128.0/24", "192.0.129.0/24"]"#,
                &["192.0.128.0/23"],
            ),
            (
                r#"["192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"]"#,
                &["192.0.2.112/29"],
            ),
            (
                r#"["192.0.2.112/30", "192.0.2.116/32", "192.0.2.118/31"]"#,
                &["192.0.2.112/30", "192.0.2.116/32", "192.0.2.118/31"],
            ),
            (
                r#"["192.0.2.112/31", "192.0.2.116/31", "192.0.2.118/31"]"#,
                &["192.0.2.112/31", "192.0.2.116/30"],
            ),
            (r#"["::/0", "::192.0.2.0/124", "ff00::101/128"]"#, &["::/0"]),
            (
                r#"["fe80::/120", "192.0.2.0/24", "192.0.3.0/24", "192.0.4.0/25", "192.0.4.128/25"]"#,
                &["192.0.2.0/23", "192.0.4.0/24", "fe80::/120"],
            ),
            ("[]", &[]),
            (
                r#"["192.0.2.112", "192.0.2.116/31", "192.0.2.118/31"]"#,
                &["192.0.2.0/24"],
            ),
            (r#"["192.0.128.0", "192.0.129.0"]"#, &["192.0.128.0/23"]),
            (
                r#"{"192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"}"#,
                &["192.0.2.112/29"],
            ),
            (
                r#"["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"]"#,
                &["2601:600:8a80:207e::/64"],
            ),
        ];
        for (addrs, want) in cases {
            let policy = format!(
                "package main\nimport rego.v1\ndeny contains msg if {{\n  merged := net.cidr_merge({addrs})\n  is_set(merged)\n  msg := concat(\",\", array.concat([\"merged\"], sort(merged)))\n}}\n"
            );
            let got = messages(&policy, json!({}));
            let mut want = want.to_vec();
            want.sort();
            want.insert(0, "merged");
            assert_eq!(got, [want.join(",")], "net.cidr_merge({addrs})");
        }
        for bad in [
            r#"["foo"]"#,
            r#"["2601:600:8a80:207e:a57d:7567:e2c9:e7b3"]"#,
        ] {
            let policy = format!(
                "package main\nimport rego.v1\ndeny contains msg if {{\n  msg := concat(\",\", net.cidr_merge({bad}))\n}}\n"
            );
            let err = evaluation_error(policy);
            assert!(err.contains("net.cidr_merge"), "{bad}: {err}");
        }
    }

    /// OPA's test/cases/testdata/v1/globsmatch cases and the documented examples of the
    /// glob-intersection package OPA uses.
    #[test]
    fn globs_match_as_opa() {
        let cases: &[(&str, &str, bool)] = &[
            ("a.a.[0-9]+z", ".b.b2359825792*594823z", true),
            ("[a-z]+", "[0-9]*", false),
            ("a.a.", ".b.b", true),
            (r"[a-z]+\[[0-9]+\]", r"foo\[1\]", true),
            (r"[a-z]+\[[0-9]+\]", r#"foo["bar"]"#, false),
            ("b.*", "bar", true),
            ("b.*", "car", false),
            ("a*", "b*", false),
            ("a?", "ab", false),
            ("a?", r"a\?", true),
            ("x[a-c]+y", "x.*d.*y", false),
            ("x[a-c]+y", "x.*c.*y", true),
        ];
        for (a, b, want) in cases {
            let policy = format!(
                "package main\nimport rego.v1\ndeny contains msg if {{\n  msg := sprintf(\"%v\", [regex.globs_match(`{a}`, `{b}`)])\n}}\n"
            );
            let want = want.to_string();
            assert_eq!(
                messages(&policy, json!({})),
                [want],
                "globs_match({a}, {b})"
            );
        }
        let policy = "package main\nimport rego.v1\ndeny contains msg if {\n  regex.globs_match(\"pqrs]\", \"[a-b]+\")\n  msg := \"x\"\n}\n";
        let err = evaluation_error(policy.to_owned());
        assert!(
            err.contains("input:pqrs], pos:5, set-close ']' with no preceding '['"),
            "{err}"
        );
    }

    /// OPA's documented example (`hello {{.name}}` with `{"name": "world"}`), Go's `%v` of
    /// the JSON-decoded values, `missingkey=error`, and refused actions.
    #[test]
    fn render_template_as_opa() {
        let cases: &[(&str, &str, &str)] = &[
            ("hello {{.name}}", r#"{"name": "world"}"#, "hello world"),
            ("{{ .a.b }}-{{.n}}", r#"{"a": {"b": "x"}, "n": 1}"#, "x-1"),
            (
                "{{.big}} {{.f}} {{.small}}",
                r#"{"big": 1000000, "f": 1.5, "small": 0.00001}"#,
                "1e+06 1.5 1e-05",
            ),
            (
                "{{.l}} {{.m}} {{.t}}",
                r#"{"l": [1, "a"], "m": {"z": 1, "a": true}, "t": false}"#,
                "[1 a] map[a:true z:1] false",
            ),
            ("a  {{- .x -}}  b{{/* note */}}", r#"{"x": "-"}"#, "a-b"),
        ];
        for (template, vars, want) in cases {
            let policy = format!(
                "package main\nimport rego.v1\ndeny contains strings.render_template(`{template}`, {vars})\n"
            );
            assert_eq!(messages(&policy, json!({})), [*want], "{template}");
        }
        for (template, vars, want) in [
            (
                "{{.missing}}",
                "{}",
                r#"map has no entry for key "missing""#,
            ),
            (
                "{{if .a}}x{{end}}",
                r#"{"a": 1}"#,
                "unsupported action {{if .a}}",
            ),
            ("{{.a", r#"{"a": 1}"#, "unclosed action"),
        ] {
            let policy = format!(
                "package main\nimport rego.v1\ndeny contains strings.render_template(`{template}`, {vars})\n"
            );
            let err = evaluation_error(policy);
            assert!(err.contains(want), "{template}: {err}");
        }
    }
}
