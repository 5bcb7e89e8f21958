//! Facts read from regorus's parsed modules once, when policies load: how many definitions
//! each rule has in each package (conftest counts one "test" per definition), and calls to
//! functions that exist nowhere — OPA's compiler rejects those when the policy loads, while
//! regorus would fail only when an evaluation reaches the call.

use std::collections::{BTreeSet, HashMap, HashSet};

use regorus::Engine;
use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};

/// `(package, rule)` → number of definitions (`deny contains msg if {…}` twice is 2).
pub(crate) type Definitions = HashMap<(String, String), usize>;

/// What the modules say.
pub(crate) struct Facts {
    pub(crate) definitions: Definitions,
    /// `file:line:col: undefined function name`, for every call to an unknown function.
    pub(crate) unknown_calls: Vec<String>,
}

/// Reads the modules of `engine` (after `add_policy`). `extensions` are functions added with
/// `Engine::add_extension`; `allowed`, OPA capabilities: the only builtins that may be called.
pub(crate) fn facts(
    engine: &mut Engine,
    extensions: &[&str],
    allowed: Option<&BTreeSet<String>>,
) -> Facts {
    let modules = engine.get_modules().clone();
    let mut definitions: Definitions = HashMap::new();
    // Names defined at the top of each package (rules and functions), for local calls.
    let mut defined: HashMap<String, HashSet<String>> = HashMap::new();
    for module in &modules {
        let package = path(&module.package.refr).unwrap_or_default();
        for rule in &module.policy {
            let (name, count) = match rule.as_ref() {
                Rule::Spec { head, bodies, .. } => (head_name(head), bodies.len().max(1)),
                Rule::Default { refr, .. } => (path(refr), 1),
            };
            let Some(name) = name else { continue };
            let first = name.split('.').next().unwrap_or(&name).to_owned();
            *definitions
                .entry((package.clone(), first.clone()))
                .or_default() += 1.max(count);
            defined.entry(package.clone()).or_default().insert(first);
        }
    }
    let mut unknown: BTreeSet<(String, u32, u32, String)> = BTreeSet::new();
    for module in &modules {
        let package = path(&module.package.refr).unwrap_or_default();
        let aliases: HashSet<String> = module
            .imports
            .iter()
            .filter_map(|import| match &import.r#as {
                Some(alias) => Some(alias.text().to_owned()),
                None => path(&import.refr).and_then(|p| p.rsplit('.').next().map(str::to_owned)),
            })
            .collect();
        let local = defined.get(&package);
        let known = |name: &str| {
            let first = name.split('.').next().unwrap_or(name);
            let builtin = name == "print"
                || regorus::unstable::BUILTINS.contains_key(name)
                || extensions.contains(&name);
            (builtin && allowed.is_none_or(|a| a.contains(name)))
                || first == "data"
                || aliases.contains(first)
                || local.is_some_and(|l| l.contains(first))
        };
        let mut visit = |expr: &Expr| {
            if let Expr::Call { fcn, .. } = expr
                && let Some(name) = path(fcn)
                && !known(&name)
            {
                let span = leftmost(fcn).span();
                unknown.insert((span.source.file().to_string(), span.line, span.col, name));
            }
        };
        walk_module(module, &mut visit);
    }
    Facts {
        definitions,
        unknown_calls: unknown
            .into_iter()
            .map(|(file, line, col, name)| {
                format!("{file}:{line}:{col}: rego_type_error: undefined function {name}")
            })
            .collect(),
    }
}

/// The first term of a reference (`http` in `http.send`), where it starts in the text.
fn leftmost(expr: &Expr) -> &Expr {
    match expr {
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => leftmost(refr),
        other => other,
    }
}

fn head_name(head: &RuleHead) -> Option<String> {
    match head {
        RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => {
            path(refr)
        }
    }
}

/// `a.b["c"].d` as `a.b.c.d`; `None` for anything but a plain reference.
fn path(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { span, .. } => Some(span.text().to_owned()),
        Expr::RefDot { refr, field, .. } => Some(format!("{}.{}", path(refr)?, field.0.text())),
        Expr::RefBrack { refr, index, .. } => match index.as_ref() {
            Expr::String { span, .. } => Some(format!("{}.{}", path(refr)?, span.text())),
            _ => None,
        },
        _ => None,
    }
}

fn walk_module(module: &Module, visit: &mut dyn FnMut(&Expr)) {
    for rule in &module.policy {
        match rule.as_ref() {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        walk_expr(refr, visit);
                        if let Some(a) = assign {
                            walk_expr(&a.value, visit);
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        walk_expr(refr, visit);
                        if let Some(k) = key {
                            walk_expr(k, visit);
                        }
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => {
                        walk_expr(refr, visit);
                        for a in args {
                            walk_expr(a, visit);
                        }
                        if let Some(a) = assign {
                            walk_expr(&a.value, visit);
                        }
                    }
                }
                for body in bodies {
                    if let Some(a) = &body.assign {
                        walk_expr(&a.value, visit);
                    }
                    walk_query(&body.query, visit);
                }
            }
            Rule::Default { value, args, .. } => {
                for a in args {
                    walk_expr(a, visit);
                }
                walk_expr(value, visit);
            }
        }
    }
}

fn walk_query(query: &Query, visit: &mut dyn FnMut(&Expr)) {
    for stmt in &query.stmts {
        for with in &stmt.with_mods {
            walk_expr(&with.refr, visit);
            walk_expr(&with.r#as, visit);
        }
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => walk_membership(key.as_ref(), value, collection, visit),
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit),
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit);
                walk_query(query, visit);
            }
        }
    }
}

/// `key, value in collection` (in `some … in` and in expressions).
fn walk_membership(
    key: Option<&regorus::unstable::ExprRef>,
    value: &Expr,
    collection: &Expr,
    visit: &mut dyn FnMut(&Expr),
) {
    if let Some(k) = key {
        walk_expr(k, visit);
    }
    walk_expr(value, visit);
    walk_expr(collection, visit);
}

fn walk_expr(expr: &Expr, visit: &mut dyn FnMut(&Expr)) {
    visit(expr);
    match expr {
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for i in items {
                walk_expr(i, visit);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                walk_expr(k, visit);
                walk_expr(v, visit);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, visit);
            walk_query(query, visit);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, visit);
            walk_expr(value, visit);
            walk_query(query, visit);
        }
        Expr::Call { params, .. } => {
            for p in params {
                walk_expr(p, visit);
            }
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, visit);
            walk_expr(index, visit);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, visit);
            walk_expr(rhs, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => walk_membership(key.as_ref(), value, collection, visit),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::{RegoOptions, RegoPolicies};

    fn load(policy: &str) -> Result<RegoPolicies, String> {
        RegoPolicies::from_sources(
            [("p.rego".to_owned(), policy.to_owned())],
            serde_json::Map::new(),
            RegoOptions::default(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_functions_are_refused_at_load_with_every_call_named() {
        let err = load(
            "package main\nimport rego.v1\ndeny contains msg if {\n  input.kind == \"never\"\n  http.send({})\n  msg := opa.runtime().x\n}\n",
        )
        .unwrap_err();
        assert!(
            err.contains("p.rego:5:3: rego_type_error: undefined function http.send"),
            "{err}"
        );
        assert!(err.contains("undefined function opa.runtime"), "{err}");
        // Builtins, local functions, imported packages and data references are known.
        load(
            "package main\nimport rego.v1\nimport data.lib.util as u\nf(x) := upper(x)\nwarn contains m if {\n  m := f(sprintf(\"%v\", [u.g(1)]))\n  print(m)\n  data.lib.h(1)\n}\n",
        )
        .unwrap();
    }

    #[test]
    fn definitions_are_counted_per_rule() {
        let p = load(
            "package main\nimport rego.v1\ndeny contains \"a\" if { input.a }\ndeny contains \"b\" if { input.b }\nwarn_x contains \"c\" if { input.c }\nhelper := 1\n",
        )
        .unwrap();
        let rules: Vec<(String, usize)> = p
            .conftest_rules()
            .into_iter()
            .map(|r| (r.name, r.definitions))
            .collect();
        assert_eq!(rules, [("deny".to_owned(), 2), ("warn_x".to_owned(), 1)]);
    }
}
