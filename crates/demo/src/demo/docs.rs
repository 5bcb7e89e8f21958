//! Docs-as-code for the demo's components, as a team keeps them beside its code: an
//! `mkdocs.yml` with its nav and a `docs/` folder (overview, runbook, architecture) using
//! what TechDocs renders (admonitions, tables, fenced code, relative links), so the portal's
//! docs pages show real content on first run.

use super::landscape::{Component, ComponentType, Lifecycle, System};
use super::{has_slos, title_of};

/// The folder holding `component`'s docs, relative to the demo's root.
pub(super) fn docs_root(component: &Component) -> String {
    format!("services/{}", component.name)
}

/// `backstage.io/techdocs-ref` for a component whose entity file lives in `systems/`.
pub(super) fn techdocs_ref(component: &Component) -> String {
    format!("dir:../{}", docs_root(component))
}

/// Every file of `component`'s docs: (path relative to the demo's root, contents).
pub(super) fn files(component: &Component, system: &System) -> Vec<(String, String)> {
    let root = docs_root(component);
    vec![
        (format!("{root}/mkdocs.yml"), mkdocs_yml(component)),
        (format!("{root}/docs/index.md"), overview(component, system)),
        (format!("{root}/docs/runbook.md"), runbook(component)),
        (
            format!("{root}/docs/architecture.md"),
            architecture(component, system),
        ),
    ]
}

fn mkdocs_yml(component: &Component) -> String {
    // Quoted as JSON strings, which YAML reads alike: descriptions hold `: `.
    let quoted = |text: &str| serde_json::Value::from(text).to_string();
    format!(
        "site_name: {title}\nsite_description: {description}\nnav:\n  - Overview: index.md\n  - Runbook: runbook.md\n  - Architecture: architecture.md\nplugins:\n  - techdocs-core\nmarkdown_extensions:\n  - admonition\n  - toc:\n      permalink: true\n",
        title = quoted(&title_of(component)),
        description = quoted(component.description),
    )
}

fn overview(component: &Component, system: &System) -> String {
    let title = title_of(component);
    let lifecycle = match component.lifecycle {
        Lifecycle::Production => String::new(),
        Lifecycle::Experimental => "\n!!! warning \"Experimental\"\n    This component is not in production yet: its interfaces may change without notice.\n".to_owned(),
        Lifecycle::Deprecated => "\n!!! danger \"Deprecated\"\n    Do not build anything new on this component; see the [architecture](architecture.md#replacement) page for what replaces it.\n".to_owned(),
    };
    let mut apis = String::new();
    for api in component.provides {
        apis.push_str(&format!("| `{api}` | provides |\n"));
    }
    for api in component.consumes {
        apis.push_str(&format!("| `{api}` | consumes |\n"));
    }
    let apis = if apis.is_empty() {
        "It neither provides nor consumes an API.\n".to_owned()
    } else {
        format!("| API | Relation |\n|---|---|\n{apis}")
    };
    format!(
        "# {title}\n\n{description}\n{lifecycle}\n!!! info \"Ownership\"\n    Owned by **{owner}**, part of the *{system_title}* system.\n\n## APIs\n\n{apis}\n## Getting started\n\n- [ ] Read the [runbook](runbook.md) before your first on-call shift.\n- [ ] Skim the [architecture](architecture.md) and its dependencies.\n\nTags: {tags}.\n",
        description = component.description,
        owner = system.owner,
        system_title = system.title,
        tags = component.tags.join(", "),
    )
}

fn runbook(component: &Component) -> String {
    let name = component.name;
    let title = title_of(component);
    let alerts = if has_slos(component) {
        format!(
            "## High error rate\n\nPaged when more than 0.1 % of requests fail with a 5xx over the SLO's burn-rate windows.\n\n1. Check the last deployment on the entity page's Delivery card; roll back if it is recent (below).\n2. Look for a failing dependency in the [architecture](architecture.md#dependencies).\n\n## High latency\n\nA ticket, not a page: more than 1 % of requests slower than 500 ms.\n\n```promql\nhistogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{job=\"{name}\"}}[5m])))\n```\n\n"
        )
    } else {
        String::new()
    };
    let restart = match component.component_type {
        ComponentType::Library => format!(
            "## Releasing a fix\n\n```sh\ngit tag v$(date +%Y.%m.%d) && git push --tags\n```\n\nConsumers pick it up with their next dependency update; see who depends on {title} on its entity page.\n"
        ),
        _ => format!(
            "## Rolling back\n\n```sh\nkubectl -n {name} rollout undo deployment/{name}\nkubectl -n {name} rollout status deployment/{name} --timeout=5m\n```\n\n??? tip \"Before you roll back\"\n    Say so in the incident channel, and record the rollback so DORA counts it.\n"
        ),
    };
    format!(
        "# {title} runbook\n\n!!! note \"On call\"\n    This runbook is for whoever holds {title}'s pager. Keep it short and current.\n\n{alerts}{restart}"
    )
}

fn architecture(component: &Component, system: &System) -> String {
    let title = title_of(component);
    let dependencies = if component.depends_on.is_empty() {
        "None outside its own code.\n".to_owned()
    } else {
        component
            .depends_on
            .iter()
            .map(|d| format!("- `{d}`\n"))
            .collect()
    };
    let replacement = if component.lifecycle == Lifecycle::Deprecated {
        format!(
            "\n## Replacement\n\nNew work goes to the other components of the *{}* system.\n",
            system.title
        )
    } else {
        String::new()
    };
    format!(
        "# {title}: architecture\n\n{description}\n\n## Dependencies\n\n{dependencies}\n## Configuration\n\n```yaml\nservice: {name}\nsystem: {system}\nlog_level: info\n```\n\nBack to the [overview](index.md).\n{replacement}",
        description = component.description,
        name = component.name,
        system = system.name,
    )
}
