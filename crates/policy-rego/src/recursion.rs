//! OPA's recursion check, which regorus 0.11 does not have: a rule or function that depends on
//! itself, directly or through others, is refused when the policies load, with the cycle
//! named as OPA names it (`rego_recursion_error: rule data.main.f is recursive: data.main.f ->
//! data.main.f`). regorus finds recursive *rules* only when evaluation reaches them, and a
//! recursive *function* (`f(x) := f(x)`) overflows the stack and aborts the process.
//!
//! With cycles gone, how deep evaluation can nest is bounded by the longest chain of rules
//! that depend on each other (expressions within a rule are bounded by regorus's parser, 32
//! levels). That chain is measured here too and refused past [`MAX_RULE_DEPTH`], so that
//! every accepted policy evaluates within the stack `crate::policies` gives it.
//!
//! Dependencies are found the way OPA's compiler resolves names: a variable that names a
//! rule of the same package is that rule unless the rule declares it (`some`, `:=`, a
//! function argument, `every`); `data.…` references and imported aliases are followed to
//! every rule they may read (a reference to a whole package depends on all its rules).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;

use regorus::Source;
use regorus::unstable::{Expr, Literal, Module, Parser, Query, Ref, Rule, RuleHead};

use crate::error::RegoError;
use crate::policies::RegoVersion;

/// The longest chain of rules that depend on one another that pave evaluates: each level
/// costs regorus stack, and evaluation runs on a 64 MiB stack
/// (`crate::worker::EVAL_STACK`) that a chain this deep fits in, even in a debug build (tested
/// in `tests/rego.rs`). No real policy comes near it.
pub const MAX_RULE_DEPTH: usize = 1_000;

/// One rule (all definitions of one name, as OPA groups them).
#[derive(Debug)]
struct Node {
    /// `data.main.f`.
    id: String,
    /// `file:line:col` of its first definition.
    location: String,
    deps: Vec<usize>,
}

/// Refuses recursion and over-deep rule chains among `policies` (`(file, source)` pairs that
/// regorus has already accepted).
pub(crate) fn check(policies: &[(String, String)], version: RegoVersion) -> Result<(), RegoError> {
    let mut modules = Vec::new();
    for (name, text) in policies {
        let source = Source::from_contents(name.clone(), text.clone())
            .map_err(|e| RegoError::Compile(format!("{name}: {e}")))?;
        let mut parser =
            Parser::new(&source).map_err(|e| RegoError::Compile(format!("{name}: {e}")))?;
        parser.set_max_col(NonZeroU32::new(1 << 20).unwrap_or(NonZeroU32::MAX));
        if version == RegoVersion::V1 {
            parser
                .enable_rego_v1()
                .map_err(|e| RegoError::Compile(format!("{name}: {e}")))?;
        }
        // regorus parsed these already; a failure here is regorus's to report.
        if let Ok(module) = parser.parse() {
            modules.push((name.clone(), module));
        }
    }
    let nodes = graph(&modules);
    if let Some(cycle) = find_cycle(&nodes) {
        let first = &nodes[cycle[0]];
        let path: Vec<&str> = cycle.iter().map(|&i| nodes[i].id.as_str()).collect();
        return Err(RegoError::Recursion {
            location: first.location.clone(),
            rule: first.id.clone(),
            cycle: path.join(" -> "),
        });
    }
    if let Some((start, depth)) = deepest(&nodes)
        && depth > MAX_RULE_DEPTH
    {
        return Err(RegoError::TooDeep {
            location: nodes[start].location.clone(),
            rule: nodes[start].id.clone(),
            depth,
            limit: MAX_RULE_DEPTH,
        });
    }
    Ok(())
}

/// The dependency graph: one node per rule name, edges to the rules its definitions read.
fn graph(modules: &[(String, Module)]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Each rule definition with the node it belongs to and its module.
    let mut defs: Vec<(usize, &Ref<Rule>, &Module)> = Vec::new();
    for (_, module) in modules {
        let Some(package) = static_path(&module.package.refr) else {
            continue;
        };
        let package = format!("data.{}", package.join("."));
        for rule in &module.policy {
            let Some(name) = rule_name(rule) else {
                continue;
            };
            let id = format!("{package}.{}", name.join("."));
            let span = rule.span();
            let node = *index.entry(id.clone()).or_insert_with(|| {
                nodes.push(Node {
                    id,
                    location: format!("{}:{}:{}", span.source.file(), span.line, span.col),
                    deps: Vec::new(),
                });
                nodes.len() - 1
            });
            defs.push((node, rule, module));
        }
    }
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    for (node, rule, module) in defs {
        let mut refs = Refs::new(module);
        refs.rule(rule);
        for path in refs.paths {
            for (target, id) in ids.iter().enumerate() {
                if reads(&path, id) && !nodes[node].deps.contains(&target) {
                    nodes[node].deps.push(target);
                }
            }
        }
    }
    nodes
}

/// Whether a reference to `path` may read rule `id`: one is a prefix of the other.
fn reads(path: &str, id: &str) -> bool {
    let prefix = |short: &str, long: &str| {
        long.starts_with(short) && long.as_bytes().get(short.len()).is_none_or(|&b| b == b'.')
    };
    prefix(path, id) || prefix(id, path)
}

/// `a.b.c` or `a["b"]` as components, up to the first component that is not a constant.
fn static_path(expr: &Expr) -> Option<Vec<String>> {
    let mut comps = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            Expr::Var { span, .. } => {
                comps.push(span.text().to_owned());
                comps.reverse();
                return Some(comps);
            }
            Expr::RefDot { refr, field, .. } => {
                comps.push(field.0.text().to_owned());
                cur = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => {
                        comps.push(value.as_string().map(|s| s.to_string()).unwrap_or_default());
                    }
                    // A variable part ends the static prefix.
                    _ => comps.clear(),
                }
                cur = refr;
            }
            _ => return None,
        }
    }
}

/// The name a rule defines: `f`, `deny`, `a.b` (the static part of a ref head).
fn rule_name(rule: &Rule) -> Option<Vec<String>> {
    let refr = match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
        Rule::Default { refr, .. } => refr,
    };
    static_path(refr).filter(|p| !p.is_empty())
}

/// The data paths one rule definition reads.
struct Refs {
    package: String,
    /// Import aliases: `lib` → `data.lib`.
    imports: HashMap<String, String>,
    /// Variables the rule declares, which shadow rules of the same name.
    locals: HashSet<String>,
    paths: Vec<String>,
}

impl Refs {
    fn new(module: &Module) -> Self {
        let package = static_path(&module.package.refr)
            .map(|p| format!("data.{}", p.join(".")))
            .unwrap_or_default();
        let mut imports = HashMap::new();
        for import in &module.imports {
            let Some(path) = static_path(&import.refr) else {
                continue;
            };
            if path.first().map(String::as_str) != Some("data") {
                continue;
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_owned(),
                None => path.last().cloned().unwrap_or_default(),
            };
            imports.insert(alias, path.join("."));
        }
        Refs {
            package,
            imports,
            locals: HashSet::new(),
            paths: Vec::new(),
        }
    }

    fn rule(&mut self, rule: &Rule) {
        match rule {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Func { args, assign, .. } => {
                        for arg in args {
                            self.declare(arg);
                        }
                        for arg in args {
                            self.nested(arg);
                        }
                        if let Some(a) = assign {
                            self.declare_in_expr(&a.value);
                        }
                    }
                    RuleHead::Compr { refr, assign, .. } => {
                        self.nested(refr);
                        if let Some(a) = assign {
                            self.declare_in_expr(&a.value);
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        self.nested(refr);
                        if let Some(k) = key {
                            self.declare_in_expr(k);
                        }
                    }
                }
                for body in bodies {
                    self.declare_in_query(&body.query);
                    if let Some(a) = &body.assign {
                        self.declare_in_expr(&a.value);
                    }
                }
                match head {
                    RuleHead::Func { assign, .. } | RuleHead::Compr { assign, .. } => {
                        if let Some(a) = assign {
                            self.expr(&a.value);
                        }
                    }
                    RuleHead::Set { key, .. } => {
                        if let Some(k) = key {
                            self.expr(k);
                        }
                    }
                }
                for body in bodies {
                    if let Some(a) = &body.assign {
                        self.expr(&a.value);
                    }
                    self.query(&body.query);
                }
            }
            Rule::Default { value, .. } => self.expr(value),
        }
    }

    /// Every variable in a pattern (`x`, `[a, b]`, `{"k": v}`) is a local.
    fn declare(&mut self, pattern: &Expr) {
        match pattern {
            Expr::Var { span, .. } => {
                self.locals.insert(span.text().to_owned());
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for item in items {
                    self.declare(item);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, _, value) in fields {
                    self.declare(value);
                }
            }
            _ => {}
        }
    }

    /// Declarations anywhere inside an expression (comprehension bodies).
    fn declare_in_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::ArrayCompr { query, .. }
            | Expr::SetCompr { query, .. }
            | Expr::ObjectCompr { query, .. } => self.declare_in_query(query),
            Expr::AssignExpr { op, lhs, rhs, .. } => {
                if matches!(op, regorus::unstable::AssignOp::ColEq) {
                    self.declare(lhs);
                }
                self.declare_in_expr(rhs);
            }
            Expr::Call { params, .. } => {
                for p in params {
                    self.declare_in_expr(p);
                }
            }
            _ => {}
        }
    }

    fn declare_in_query(&mut self, query: &Query) {
        for stmt in &query.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    for v in vars {
                        self.locals.insert(v.text().to_owned());
                    }
                }
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    if let Some(k) = key {
                        self.declare(k);
                    }
                    self.declare(value);
                    self.declare_in_expr(collection);
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                    self.declare_in_expr(expr);
                }
                Literal::Every {
                    key, value, query, ..
                } => {
                    if let Some(k) = key {
                        self.locals.insert(k.text().to_owned());
                    }
                    self.locals.insert(value.text().to_owned());
                    self.declare_in_query(query);
                }
            }
        }
    }

    fn query(&mut self, query: &Query) {
        for stmt in &query.stmts {
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    if let Some(k) = key {
                        self.expr(k);
                    }
                    self.expr(value);
                    self.expr(collection);
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr),
                Literal::Every { domain, query, .. } => {
                    self.expr(domain);
                    self.query(query);
                }
            }
            for with in &stmt.with_mods {
                self.expr(&with.r#as);
            }
        }
    }

    /// The reference an expression makes, if it is one, and those inside it.
    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                self.reference(expr);
                self.nested(expr);
            }
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => {}
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for item in items {
                    self.expr(item);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.expr(key);
                    self.expr(value);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term);
                self.query(query);
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.expr(key);
                self.expr(value);
                self.query(query);
            }
            Expr::Call { fcn, params, .. } => {
                self.expr(fcn);
                for p in params {
                    self.expr(p);
                }
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    self.expr(k);
                }
                self.expr(value);
                self.expr(collection);
            }
        }
    }

    /// Index expressions inside a reference (`a[b.c]` reads `b.c`).
    fn nested(&mut self, expr: &Expr) {
        match expr {
            Expr::RefDot { refr, .. } => self.nested(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.expr(index);
                self.nested(refr);
            }
            _ => {}
        }
    }

    /// Records the data path a reference reads, if it reads `data`.
    fn reference(&mut self, expr: &Expr) {
        // The base variable and the constant components after it.
        let mut comps: Vec<String> = Vec::new();
        let mut cur = expr;
        let base = loop {
            match cur {
                Expr::Var { span, .. } => break span.text().to_owned(),
                Expr::RefDot { refr, field, .. } => {
                    comps.push(field.0.text().to_owned());
                    cur = refr;
                }
                Expr::RefBrack { refr, index, .. } => {
                    match index.as_ref() {
                        Expr::String { value, .. } | Expr::RawString { value, .. } => {
                            comps
                                .push(value.as_string().map(|s| s.to_string()).unwrap_or_default());
                        }
                        _ => comps.clear(),
                    }
                    cur = refr;
                }
                _ => return,
            }
        };
        comps.reverse();
        if base == "_" || base == "input" || self.locals.contains(&base) {
            return;
        }
        let root = if base == "data" {
            "data".to_owned()
        } else if let Some(path) = self.imports.get(&base) {
            path.clone()
        } else {
            format!("{}.{base}", self.package)
        };
        let mut path = root;
        for c in comps {
            path.push('.');
            path.push_str(&c);
        }
        self.paths.push(path);
    }
}

/// The first cycle in rule order, as node indices from a rule back to itself.
fn find_cycle(nodes: &[Node]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; nodes.len()];
    for start in 0..nodes.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // An explicit stack: (node, next dependency to visit). Policies can be long chains.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = nodes[node].deps.get(*next) {
                *next += 1;
                match marks[dep] {
                    Mark::New => {
                        marks[dep] = Mark::Active;
                        stack.push((dep, 0));
                    }
                    Mark::Active => {
                        let from = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|&(n, _)| n).collect();
                        cycle.push(dep);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

/// The rule that starts the longest dependency chain, and that chain's length in rules
/// (the graph has no cycles).
fn deepest(nodes: &[Node]) -> Option<(usize, usize)> {
    let mut depth: Vec<Option<usize>> = vec![None; nodes.len()];
    for start in 0..nodes.len() {
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if depth[node].is_some() {
                stack.pop();
                continue;
            }
            if let Some(&dep) = nodes[node].deps.get(*next) {
                *next += 1;
                if depth[dep].is_none() {
                    stack.push((dep, 0));
                }
            } else {
                let below = nodes[node]
                    .deps
                    .iter()
                    .filter_map(|&d| depth[d])
                    .max()
                    .unwrap_or(0);
                depth[node] = Some(below + 1);
                stack.pop();
            }
        }
    }
    depth
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|d| (i, d)))
        .max_by_key(|&(i, d)| (d, std::cmp::Reverse(i)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn check_one(text: &str) -> Result<(), String> {
        check(&[("p.rego".to_owned(), text.to_owned())], RegoVersion::V1).map_err(|e| e.to_string())
    }

    #[test]
    fn cycles_are_named_like_opa() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "package x\nf(n) := f(n)\n",
                Some(
                    "p.rego:2:1: rego_recursion_error: rule data.x.f is recursive: data.x.f -> data.x.f",
                ),
            ),
            (
                "package x\nfact(n) := 1 if n <= 1\nfact(n) := n * fact(n - 1) if n > 1\n",
                Some("rule data.x.fact is recursive: data.x.fact -> data.x.fact"),
            ),
            (
                "package x\na if b\nb if c\nc if a\n",
                Some("rule data.x.a is recursive: data.x.a -> data.x.b -> data.x.c -> data.x.a"),
            ),
            (
                "package x\nxs := {x | some x in ys}\nys := {y | some y in xs}\n",
                Some("rule data.x.xs is recursive: data.x.xs -> data.x.ys -> data.x.xs"),
            ),
            (
                "package x\nimport data.x as me\nf(n) := me.f(n)\n",
                Some("data.x.f -> data.x.f"),
            ),
            (
                "package x\nf(n) := data.x.f(n)\n",
                Some("data.x.f -> data.x.f"),
            ),
            // A variable the rule declares is not the rule of that name.
            ("package x\ng(x) := x\nf(g) := g + 1\n", None),
            ("package x\nf := 1\ng if { some f in [1]; f == 1 }\n", None),
            (
                "package x\nf := 1\ng if { every f in [1] { f == 1 } }\n",
                None,
            ),
            (
                "package x\ndeny contains msg if { msg := \"m\"; input.a }\nmsg := 2\n",
                None,
            ),
            // Chains without cycles are fine.
            ("package x\na if b\nb if c\nc := true\n", None),
            (
                "package x\ndeny contains m if { some m in data.lib.msgs }\n",
                None,
            ),
        ];
        for (text, expected) in cases {
            match (check_one(text), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => assert!(e.contains(want), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn cycles_across_packages_and_files() {
        let err = check(
            &[
                (
                    "a.rego".to_owned(),
                    "package a\nimport data.b\nf(n) := b.g(n)\n".to_owned(),
                ),
                (
                    "b.rego".to_owned(),
                    "package b\ng(n) := data.a.f(n)\n".to_owned(),
                ),
            ],
            RegoVersion::V1,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "a.rego:3:1: rego_recursion_error: rule data.a.f is recursive: data.a.f -> data.b.g -> data.a.f"
        );
    }

    #[test]
    fn over_deep_chains_are_refused() {
        let chain = |n: usize| {
            let mut text = String::from("package x\n");
            for i in 0..n {
                text.push_str(&format!("r{i} := r{} + 1\n", i + 1));
            }
            text.push_str(&format!("r{n} := 0\n"));
            text
        };
        assert!(check_one(&chain(MAX_RULE_DEPTH - 1)).is_ok());
        let err = check_one(&chain(MAX_RULE_DEPTH + 5)).unwrap_err();
        assert!(err.contains("rule data.x.r0 starts a chain of"), "{err}");
    }
}
