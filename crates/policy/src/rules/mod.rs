//! The built-in rule catalog, one module per input kind.

mod catalog;
mod docker;
mod gha;
mod k8s;
pub(crate) mod pods;
mod pss;
mod terraform;

use crate::rule::{DocRule, Rule, RuleMeta};

/// Every built-in rule, in catalog order.
pub fn builtin() -> Vec<Box<dyn Rule>> {
    let mut rules: Vec<Box<dyn Rule>> = Vec::new();
    rules.extend(pss::rules().into_iter().map(boxed));
    rules.extend(k8s::rules());
    rules.extend(terraform::rules());
    rules.extend(docker::rules());
    rules.extend(gha::rules());
    rules.extend(catalog::rules());
    rules
}

fn boxed(rule: DocRule) -> Box<dyn Rule> {
    Box::new(rule)
}

/// The ids of every built-in rule.
pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
    builtin()
        .into_iter()
        .map(|r| r.meta().id)
        .collect::<Vec<_>>()
        .into_iter()
}

/// What every built-in rule declares, for `pave check --list-rules` and docs.
pub fn catalog() -> Vec<RuleMeta> {
    builtin().iter().map(|r| *r.meta()).collect()
}
