//! Provisioners: how the platform fulfils a Score resource (`postgres`, `route`, …).
//!
//! A provisioner file (`*.provisioners.yaml`) is a YAML list; each entry matches resources by
//! `type` (and `class`, `id` when set) and carries minijinja templates: one per output and one
//! for the Kubernetes manifests (YAML documents). The first match wins, and user files come
//! before the built-in defaults. See `docs/render.md`.

use minijinja::{Environment as Jinja, UndefinedBehavior, Value as JValue};
use pave_yaml::{Limits, PathSegment, Position};
use serde_json::{Map, Value};

use crate::{Error, Problem};

/// The built-in provisioners, consulted after every user file.
pub const BUILTIN_FILE: &str = "builtin/zz-default.provisioners.yaml";
const BUILTIN: &str = include_str!("../provisioners/zz-default.provisioners.yaml");

/// Start and end of an encoded secret reference inside an output value (what
/// `secret_ref(name, key)` returns in a template). Private-use characters never occur in
/// real configuration.
pub(crate) const SECRET_START: char = '\u{E000}';
pub(crate) const SECRET_SEP: char = '\u{E001}';
pub(crate) const SECRET_END: char = '\u{E002}';

/// Upper bound on template instructions: a template that never terminates fails.
const FUEL: u64 = 2_000_000;

/// Where a template sits in its file: the line of its first line, and whether the template
/// text starts on the next line (block scalars).
#[derive(Debug, Clone, Copy)]
struct TemplateAt {
    position: Option<Position>,
    block: bool,
}

/// One provisioner entry.
#[derive(Debug, Clone)]
pub struct Provisioner {
    pub file: String,
    pub position: Option<Position>,
    pub kind: String,
    pub class: Option<String>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Ports the workload may reach the resource on (egress allows in the NetworkPolicy).
    pub egress: Vec<(u16, String)>,
    outputs: Vec<(String, String, TemplateAt)>,
    manifests: Option<(String, TemplateAt)>,
}

/// The provisioners in match order.
#[derive(Debug, Clone, Default)]
pub struct Provisioners {
    user: Vec<Provisioner>,
    builtin: Vec<Provisioner>,
}

/// What a provisioner made for one resource.
#[derive(Debug, Clone)]
pub(crate) struct Provisioned {
    pub outputs: Map<String, Value>,
    pub manifests: Vec<Value>,
    pub egress: Vec<(u16, String)>,
}

/// The template context of one resource.
pub(crate) struct ResourceContext<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub class: &'a str,
    pub id: Option<&'a str>,
    pub uid: &'a str,
    pub slug: &'a str,
    pub params: &'a Value,
    pub annotations: &'a Map<String, Value>,
    pub workload: &'a str,
    pub namespace: &'a str,
    pub env: &'a str,
}

impl Provisioners {
    /// The built-in defaults only.
    pub fn builtin() -> Provisioners {
        let builtin = parse_file(BUILTIN_FILE, BUILTIN).unwrap_or_else(|e| {
            // The built-in file is part of the binary; its test keeps it valid.
            panic!("built-in provisioners are invalid: {e}")
        });
        Provisioners {
            user: Vec::new(),
            builtin,
        }
    }

    /// Adds a user provisioner file (`file` names it in errors). Files added first match first;
    /// all of them before the built-in defaults.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), Error> {
        let mut parsed = parse_file(file, text)?;
        self.user.append(&mut parsed);
        Ok(())
    }

    /// Every provisioner in match order.
    pub fn all(&self) -> impl Iterator<Item = &Provisioner> {
        self.user.iter().chain(&self.builtin)
    }

    /// The first provisioner for a resource of `kind`/`class`/`id`.
    pub fn find(&self, kind: &str, class: &str, id: Option<&str>) -> Option<&Provisioner> {
        self.all().find(|p| {
            p.kind == kind
                && p.class.as_deref().is_none_or(|c| c == class)
                && p.id.as_deref().is_none_or(|i| Some(i) == id)
        })
    }

    /// Whether any provisioner serves `kind` at all (to tell "unknown type" from "no
    /// provisioner for this class").
    pub fn knows_type(&self, kind: &str) -> bool {
        self.all().any(|p| p.kind == kind)
    }
}

fn parse_file(file: &str, text: &str) -> Result<Vec<Provisioner>, Error> {
    let error = |position: Option<Position>, message: String| Error::Provisioner {
        file: file.to_owned(),
        problem: Problem { position, message },
    };
    let docs = pave_yaml::parse_documents(text, &Limits::default())
        .map_err(|e| error(Some(e.position()), e.to_string()))?;
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for doc in docs {
        let entries = match &doc.value {
            Value::Null => continue,
            Value::Array(items) => items,
            _ => {
                return Err(error(
                    Some(doc.start),
                    "a provisioner file is a list of provisioners".into(),
                ));
            }
        };
        for (i, entry) in entries.iter().enumerate() {
            let at = |extra: &[&str]| {
                let mut p = vec![PathSegment::Index(i)];
                p.extend(extra.iter().map(|s| PathSegment::Key((*s).to_owned())));
                doc.spans.locate(&doc.value, 0, &p)
            };
            let template_at = |extra: &[&str]| {
                let position = at(extra);
                let block = position
                    .and_then(|p| lines.get(p.line.saturating_sub(1) as usize))
                    .and_then(|l| l.split_once(':'))
                    .is_some_and(|(_, rest)| {
                        let rest = rest.trim_start();
                        rest.starts_with('|') || rest.starts_with('>')
                    });
                TemplateAt { position, block }
            };
            let Some(map) = entry.as_object() else {
                return Err(error(at(&[]), "a provisioner must be a mapping".into()));
            };
            for key in map.keys() {
                if ![
                    "type",
                    "class",
                    "id",
                    "description",
                    "egress",
                    "outputs",
                    "manifests",
                ]
                .contains(&key.as_str())
                {
                    return Err(error(
                        at(&[key]),
                        format!(
                            "unknown field `{key}` (allowed: type, class, id, description, egress, outputs, manifests)"
                        ),
                    ));
                }
            }
            let string = |key: &str| -> Result<Option<String>, Error> {
                match map.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(error(at(&[key]), format!("`{key}` must be a string"))),
                }
            };
            let Some(kind) = string("type")? else {
                return Err(error(at(&[]), "a provisioner needs a `type`".into()));
            };
            let mut egress = Vec::new();
            if let Some(list) = map.get("egress") {
                let Some(items) = list.as_array() else {
                    return Err(error(
                        at(&["egress"]),
                        "`egress` must be a list of {port, protocol}".into(),
                    ));
                };
                for item in items {
                    let port = item
                        .get("port")
                        .and_then(Value::as_u64)
                        .and_then(|p| u16::try_from(p).ok())
                        .filter(|p| *p > 0);
                    let protocol = item
                        .get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("TCP");
                    match port {
                        Some(p) if protocol == "TCP" || protocol == "UDP" => {
                            egress.push((p, protocol.to_owned()));
                        }
                        _ => {
                            return Err(error(
                                at(&["egress"]),
                                "each `egress` entry needs a `port` (1-65535) and an optional `protocol` (TCP or UDP)".into(),
                            ));
                        }
                    }
                }
            }
            let mut outputs = Vec::new();
            match map.get("outputs") {
                None | Some(Value::Null) => {}
                Some(Value::Object(o)) => {
                    for (name, t) in o {
                        let text = match t {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            _ => {
                                return Err(error(
                                    at(&["outputs", name]),
                                    format!("output `{name}` must be a template string"),
                                ));
                            }
                        };
                        outputs.push((name.clone(), text, template_at(&["outputs", name])));
                    }
                }
                Some(_) => {
                    return Err(error(
                        at(&["outputs"]),
                        "`outputs` must map output names to templates".into(),
                    ));
                }
            }
            let manifests = string("manifests")?.map(|t| (t, template_at(&["manifests"])));
            // Templates must at least compile: report syntax errors when the file is read.
            let env = jinja();
            for (name, t, place) in &outputs {
                env.template_from_str(t).map_err(|e| {
                    template_error(file, &kind, &format!("output `{name}`"), *place, &e)
                })?;
            }
            if let Some((t, place)) = &manifests {
                env.template_from_str(t)
                    .map_err(|e| template_error(file, &kind, "manifests", *place, &e))?;
            }
            out.push(Provisioner {
                file: file.to_owned(),
                position: at(&[]),
                kind,
                class: string("class")?,
                id: string("id")?,
                description: string("description")?,
                egress,
                outputs,
                manifests,
            });
        }
    }
    Ok(out)
}

fn jinja() -> Jinja<'static> {
    let mut env = Jinja::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_keep_trailing_newline(true);
    env.add_function("secret_ref", |name: String, key: String| -> String {
        format!("{SECRET_START}{name}{SECRET_SEP}{key}{SECRET_END}")
    });
    env.add_filter("tojson", |v: JValue| -> Result<String, minijinja::Error> {
        serde_json::to_string(&v).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
        })
    });
    env
}

fn template_error(
    file: &str,
    kind: &str,
    what: &str,
    place: TemplateAt,
    e: &minijinja::Error,
) -> Error {
    let line_in_template = e.line().unwrap_or(1) as u32;
    let position = place.position.map(|p| Position {
        line: if place.block {
            p.line + line_in_template
        } else {
            p.line
        },
        column: if place.block { 1 } else { p.column },
    });
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    Error::Provisioner {
        file: file.to_owned(),
        problem: Problem {
            position,
            message: format!(
                "provisioner for type `{kind}`, {what} (template line {line_in_template}): {}{detail}",
                e.kind()
            ),
        },
    }
}

impl Provisioner {
    /// Renders the outputs and manifests for one resource.
    pub(crate) fn provision(&self, ctx: &ResourceContext<'_>) -> Result<Provisioned, Error> {
        let context = serde_json::json!({
            "resource": {
                "name": ctx.name,
                "type": ctx.kind,
                "class": ctx.class,
                "id": ctx.id,
                "uid": ctx.uid,
                "slug": ctx.slug,
                "params": ctx.params,
                "annotations": ctx.annotations,
            },
            "params": ctx.params,
            "workload": ctx.workload,
            "namespace": ctx.namespace,
            "env": ctx.env,
        });
        let context = JValue::from_serialize(&context);
        let env = jinja();
        let render = |what: &str, text: &str, place: TemplateAt| -> Result<String, Error> {
            env.render_str(text, context.clone())
                .map_err(|e| template_error(&self.file, &self.kind, what, place, &e))
        };
        let mut outputs = Map::new();
        for (name, text, place) in &self.outputs {
            let value = render(&format!("output `{name}`"), text, *place)?;
            outputs.insert(name.clone(), Value::String(value));
        }
        let mut manifests = Vec::new();
        if let Some((text, place)) = &self.manifests {
            let rendered = render("manifests", text, *place)?;
            let fail = |message: String| Error::Provisioner {
                file: self.file.clone(),
                problem: Problem {
                    position: place.position,
                    message: format!(
                        "provisioner for type `{}`: manifests for resource `{}`: {message}",
                        self.kind, ctx.name
                    ),
                },
            };
            let docs = pave_yaml::parse_documents(&rendered, &Limits::default()).map_err(|e| {
                fail(format!(
                    "the rendered text is not YAML (line {} of the output): {e}",
                    e.position().line
                ))
            })?;
            for doc in docs {
                if doc.value.is_null() {
                    continue;
                }
                let ok = doc.value.get("apiVersion").is_some_and(Value::is_string)
                    && doc.value.get("kind").is_some_and(Value::is_string)
                    && doc
                        .value
                        .pointer("/metadata/name")
                        .is_some_and(Value::is_string);
                if !ok {
                    return Err(fail(format!(
                        "document at line {} of the output is not a Kubernetes object (apiVersion, kind and metadata.name)",
                        doc.start.line
                    )));
                }
                manifests.push(doc.value);
            }
        }
        Ok(Provisioned {
            outputs,
            manifests,
            egress: self.egress.clone(),
        })
    }
}

/// Splits an output value into text and secret references: `(secret, key)` pairs where the
/// value held `secret_ref(secret, key)`.
pub(crate) fn split_secrets(value: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find(SECRET_START) {
        let after = &rest[start + SECRET_START.len_utf8()..];
        let Some(end) = after.find(SECRET_END) else {
            break;
        };
        let inner = &after[..end];
        let Some((name, key)) = inner.split_once(SECRET_SEP) else {
            break;
        };
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_owned()));
        }
        out.push(Piece::Secret {
            name: name.to_owned(),
            key: key.to_owned(),
        });
        rest = &after[end + SECRET_END.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Piece {
    Text(String),
    Secret { name: String, key: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_is_valid_and_serves_the_five_types() {
        let p = Provisioners::builtin();
        for t in ["postgres", "redis", "dns", "route", "s3"] {
            assert!(p.find(t, "default", None).is_some(), "{t}");
        }
    }

    #[test]
    fn user_files_match_first_and_classes_filter() {
        let mut p = Provisioners::builtin();
        p.add_file(
            "mine.provisioners.yaml",
            "- type: postgres\n  class: tiny\n  outputs:\n    host: tiny-db\n- type: postgres\n  outputs:\n    host: mine\n",
        )
        .unwrap();
        assert_eq!(
            p.find("postgres", "tiny", None).map(|p| p.file.as_str()),
            Some("mine.provisioners.yaml")
        );
        assert_eq!(
            p.find("postgres", "default", None)
                .map(|p| p.outputs[0].1.as_str()),
            Some("mine")
        );
        assert!(!p.knows_type("mysql"));
    }

    #[test]
    fn template_syntax_errors_name_file_and_line() {
        let mut p = Provisioners::default();
        let e = p
            .add_file(
                "bad.provisioners.yaml",
                "- type: queue\n  manifests: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: {{ workload }\n",
            )
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.provisioners.yaml:5:1: provisioner for type `queue`, manifests (template line 3)"), "{e}");
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let mut p = Provisioners::default();
        p.add_file(
            "loop.provisioners.yaml",
            "- type: x\n  outputs:\n    a: \"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\"\n",
        )
        .unwrap();
        let prov = p.find("x", "default", None).unwrap();
        let params = Value::Object(Map::new());
        let annotations = Map::new();
        let e = prov
            .provision(&ResourceContext {
                name: "r",
                kind: "x",
                class: "default",
                id: None,
                uid: "x.default#w.r",
                slug: "w-r",
                params: &params,
                annotations: &annotations,
                workload: "w",
                namespace: "dev",
                env: "dev",
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("loop.provisioners.yaml:3:5"), "{e}");
        assert!(e.contains("fuel"), "{e}");
    }

    #[test]
    fn secrets_split_out_of_values() {
        let v = format!("postgres://{SECRET_START}db{SECRET_SEP}user{SECRET_END}@host");
        assert_eq!(
            split_secrets(&v),
            vec![
                Piece::Text("postgres://".into()),
                Piece::Secret {
                    name: "db".into(),
                    key: "user".into()
                },
                Piece::Text("@host".into())
            ]
        );
    }
}
