//! The built-in kinds and their spec schemas (Backstage catalog-model 1.10 and
//! scaffolder v1beta3), checked field by field so problems carry exact paths.

use pave_yaml::PathSegment;
use serde_json::{Map, Value};

use crate::problem::{Problem, Stage};

const BACKSTAGE_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];
const SCAFFOLDER_VERSIONS: &[&str] = &["scaffolder.backstage.io/v1beta3"];

/// The shape a field must have.
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// A non-empty string.
    Str,
    /// An array of non-empty strings.
    StrList,
    /// An object whose listed fields are checked.
    Obj(&'static [Field]),
    /// An array of objects, each checked.
    ObjList(&'static [Field]),
    /// Any object.
    AnyObj,
    /// An object or an array (Template parameters: one schema or a list of form pages).
    ObjOrList,
    /// A string or a boolean (Template step `if`).
    StrOrBool,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    ty: Ty,
    required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

const PROFILE: &[Field] = &[
    opt("displayName", Ty::Str),
    opt("email", Ty::Str),
    opt("picture", Ty::Str),
];

const TEMPLATE_STEP: &[Field] = &[
    opt("id", Ty::Str),
    opt("name", Ty::Str),
    req("action", Ty::Str),
    opt("input", Ty::AnyObj),
    opt("if", Ty::StrOrBool),
];

/// A built-in kind: its name (case-sensitive, as Backstage's validators treat it), the
/// apiVersions it accepts and its spec fields. Unlisted spec fields are kept and ignored.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: &'static str,
    pub api_versions: &'static [&'static str],
    spec: &'static [Field],
}

pub const BUILTIN_KINDS: &[KindSpec] = &[
    KindSpec {
        kind: "API",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("type", Ty::Str),
            req("lifecycle", Ty::Str),
            req("owner", Ty::Str),
            req("definition", Ty::Str),
            opt("system", Ty::Str),
        ],
    },
    KindSpec {
        kind: "Component",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("type", Ty::Str),
            req("lifecycle", Ty::Str),
            req("owner", Ty::Str),
            opt("subcomponentOf", Ty::Str),
            opt("providesApis", Ty::StrList),
            opt("consumesApis", Ty::StrList),
            opt("dependsOn", Ty::StrList),
            opt("dependencyOf", Ty::StrList),
            opt("system", Ty::Str),
        ],
    },
    KindSpec {
        kind: "Domain",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("owner", Ty::Str),
            opt("subdomainOf", Ty::Str),
            opt("type", Ty::Str),
        ],
    },
    KindSpec {
        kind: "Group",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("type", Ty::Str),
            opt("profile", Ty::Obj(PROFILE)),
            opt("parent", Ty::Str),
            req("children", Ty::StrList),
            opt("members", Ty::StrList),
        ],
    },
    KindSpec {
        kind: "Location",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            opt("type", Ty::Str),
            opt("target", Ty::Str),
            opt("targets", Ty::StrList),
            opt("presence", Ty::OneOf(&["required", "optional"])),
        ],
    },
    KindSpec {
        kind: "Resource",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("type", Ty::Str),
            req("owner", Ty::Str),
            opt("dependsOn", Ty::StrList),
            opt("dependencyOf", Ty::StrList),
            opt("system", Ty::Str),
        ],
    },
    KindSpec {
        kind: "System",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            req("owner", Ty::Str),
            opt("domain", Ty::Str),
            opt("type", Ty::Str),
        ],
    },
    KindSpec {
        kind: "Template",
        api_versions: SCAFFOLDER_VERSIONS,
        spec: &[
            req("type", Ty::Str),
            opt("owner", Ty::Str),
            opt("lifecycle", Ty::Str),
            opt("parameters", Ty::ObjOrList),
            req("steps", Ty::ObjList(TEMPLATE_STEP)),
            opt("output", Ty::AnyObj),
            opt("presentation", Ty::AnyObj),
            opt("secrets", Ty::AnyObj),
        ],
    },
    KindSpec {
        kind: "User",
        api_versions: BACKSTAGE_VERSIONS,
        spec: &[
            opt("profile", Ty::Obj(PROFILE)),
            req("memberOf", Ty::StrList),
        ],
    },
];

/// Names of the built-in kinds.
pub fn builtin_kind_names() -> impl Iterator<Item = &'static str> {
    BUILTIN_KINDS.iter().map(|k| k.kind)
}

/// The built-in kind spelled exactly `kind`.
pub fn builtin_kind(kind: &str) -> Option<&'static KindSpec> {
    BUILTIN_KINDS.iter().find(|k| k.kind == kind)
}

/// The built-in kind spelled `kind` in any case.
pub fn builtin_kind_ignoring_case(kind: &str) -> Option<&'static KindSpec> {
    BUILTIN_KINDS
        .iter()
        .find(|k| k.kind.eq_ignore_ascii_case(kind))
}

impl KindSpec {
    /// Checks `spec` against this kind's schema, appending problems.
    pub fn check_spec(&self, spec: Option<&Value>, problems: &mut Vec<Problem>) {
        let path = vec![PathSegment::Key("spec".into())];
        match spec {
            None => problems.push(Problem::error(
                Stage::Kind,
                path,
                format!("{} entities need a `spec`", self.kind),
            )),
            // Most specs are valid: check cheaply first, describe problems only when needed.
            Some(Value::Object(map)) if fields_ok(self.spec, map) => {}
            Some(Value::Object(map)) => check_fields(self.spec, map, &path, problems),
            Some(other) => problems.push(Problem::error(
                Stage::Kind,
                path,
                format!("`spec` must be an object, found {}", describe(other)),
            )),
        }
    }
}

/// Whether `map` satisfies `fields`, without building any message.
fn fields_ok(fields: &[Field], map: &Map<String, Value>) -> bool {
    fields.iter().all(|field| match map.get(field.name) {
        None => !field.required,
        Some(value) => value_ok(field.ty, value),
    })
}

fn value_ok(ty: Ty, value: &Value) -> bool {
    match ty {
        Ty::Str => value.as_str().is_some_and(|s| !s.is_empty()),
        Ty::StrList => value
            .as_array()
            .is_some_and(|items| items.iter().all(|i| value_ok(Ty::Str, i))),
        Ty::Obj(fields) => value.as_object().is_some_and(|m| fields_ok(fields, m)),
        Ty::ObjList(fields) => value
            .as_array()
            .is_some_and(|items| items.iter().all(|i| value_ok(Ty::Obj(fields), i))),
        Ty::AnyObj => value.is_object(),
        Ty::ObjOrList => value.is_object() || value.is_array(),
        Ty::StrOrBool => value.is_string() || value.is_boolean(),
        Ty::OneOf(allowed) => value.as_str().is_some_and(|s| allowed.contains(&s)),
    }
}

fn check_fields(
    fields: &[Field],
    map: &Map<String, Value>,
    at: &[PathSegment],
    problems: &mut Vec<Problem>,
) {
    for field in fields {
        let mut path = at.to_vec();
        path.push(PathSegment::Key(field.name.into()));
        match map.get(field.name) {
            None if field.required => problems.push(Problem::error(
                Stage::Kind,
                path.clone(),
                format!("`{}` is required", crate::problem::dotted(&path)),
            )),
            None => {}
            Some(value) => check_value(field.ty, value, &path, problems),
        }
    }
}

fn check_value(ty: Ty, value: &Value, path: &[PathSegment], problems: &mut Vec<Problem>) {
    let name = crate::problem::dotted(path);
    let fail = |problems: &mut Vec<Problem>, path: Vec<PathSegment>, message: String| {
        problems.push(Problem::error(Stage::Kind, path, message));
    };
    match ty {
        Ty::Str => match value {
            Value::String(s) if s.is_empty() => {
                fail(
                    problems,
                    path.to_vec(),
                    format!("`{name}` must not be empty"),
                );
            }
            Value::String(_) => {}
            other => fail(
                problems,
                path.to_vec(),
                format!("`{name}` must be a string, found {}", describe(other)),
            ),
        },
        Ty::StrList => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mut item_path = path.to_vec();
                    item_path.push(PathSegment::Index(i));
                    check_value(Ty::Str, item, &item_path, problems);
                }
            }
            other => fail(
                problems,
                path.to_vec(),
                format!(
                    "`{name}` must be a list of strings, found {}",
                    describe(other)
                ),
            ),
        },
        Ty::Obj(fields) => match value {
            Value::Object(map) => check_fields(fields, map, path, problems),
            other => fail(
                problems,
                path.to_vec(),
                format!("`{name}` must be an object, found {}", describe(other)),
            ),
        },
        Ty::ObjList(fields) => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mut item_path = path.to_vec();
                    item_path.push(PathSegment::Index(i));
                    check_value(Ty::Obj(fields), item, &item_path, problems);
                }
            }
            other => fail(
                problems,
                path.to_vec(),
                format!("`{name}` must be a list, found {}", describe(other)),
            ),
        },
        Ty::AnyObj => {
            if !value.is_object() {
                fail(
                    problems,
                    path.to_vec(),
                    format!("`{name}` must be an object, found {}", describe(value)),
                );
            }
        }
        Ty::ObjOrList => {
            if !value.is_object() && !value.is_array() {
                fail(
                    problems,
                    path.to_vec(),
                    format!(
                        "`{name}` must be an object or a list, found {}",
                        describe(value)
                    ),
                );
            }
        }
        Ty::StrOrBool => {
            if !value.is_string() && !value.is_boolean() {
                fail(
                    problems,
                    path.to_vec(),
                    format!(
                        "`{name}` must be a string or a boolean, found {}",
                        describe(value)
                    ),
                );
            }
        }
        Ty::OneOf(allowed) => {
            if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
                fail(
                    problems,
                    path.to_vec(),
                    format!(
                        "`{name}` must be one of {}, found {}",
                        allowed.join(", "),
                        describe(value)
                    ),
                );
            }
        }
    }
}

/// "a number (42)", "a list", … for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("a string (\"{s}\")"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
