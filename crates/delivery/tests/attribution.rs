//! Attribution rules, one table row per rule; conflicts; configuration errors; the org.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use pave_delivery::{Attribution, AttributionConfig, How, SubjectMapping};
use pave_events::Subject;
use serde_json::json;

fn annotated() -> Vec<serde_json::Value> {
    vec![
        group("payments", None),
        system("pay", "money"),
        domain("money"),
        component(
            "api",
            "payments",
            "pay",
            json!({"github.com/project-slug": "Acme/API"}),
        ),
        component(
            "web",
            "payments",
            "pay",
            json!({
                "gitlab.com/project-slug": "front/web",
                "gitlab.com/instance": "gitlab.acme.io",
            }),
        ),
        component(
            "batch",
            "payments",
            "pay",
            json!({
                "backstage.io/source-location": "url:https://git.acme.io/tools/batch/-/tree/main/",
            }),
        ),
        component(
            "pager",
            "payments",
            "pay",
            json!({"pagerduty.com/service-id": "P123ABC"}),
        ),
        component(
            "genie",
            "payments",
            "pay",
            json!({
                "opsgenie.com/component-selector": "detailsPair(component:genie-svc)",
                "opsgenie.com/team": "Payments Team",
            }),
        ),
        component(
            "argo",
            "payments",
            "pay",
            json!({"argocd/app-name": "argo-prod, argo-eu"}),
        ),
        component(
            "tagged",
            "payments",
            "pay",
            // The Backstage Opsgenie plugin's recommended form.
            json!({"opsgenie.com/component-selector": "tag:\"service:Tagged\" OR entity:tagged-host"}),
        ),
        component(
            "vague",
            "payments",
            "pay",
            // Not evaluable on one alert: listed as a problem, never guessed at.
            json!({"opsgenie.com/component-selector": "tag:a AND tag:b"}),
        ),
        component("plain", "payments", "pay", json!({})),
    ]
}

fn opsgenie(
    teams: &[&str],
    entity: Option<&str>,
    tags: &[&str],
    details: &[(&str, &str)],
) -> Subject {
    Subject::Opsgenie {
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        entity: entity.map(str::to_owned),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        details: details
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Subject {
    Subject::Labels(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    )
}

#[test]
fn each_rule_attributes_its_subjects() {
    let config = AttributionConfig {
        mappings: vec![
            SubjectMapping {
                subject: "cdevents:/tekton/prod".into(),
                entity: "plain".into(),
            },
            SubjectMapping {
                subject: "flux:Kustomization/apps/batch".into(),
                entity: "component:default/batch".into(),
            },
        ],
        ..AttributionConfig::default()
    };
    let attribution = Attribution::with_config(&annotated(), &config).unwrap();
    let problems = attribution.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("component:default/vague: opsgenie.com/component-selector"),
        "{problems:?}"
    );
    let repo_at = |host: &str, slug: &str| Subject::Repository {
        host: host.into(),
        slug: slug.into(),
        url: String::new(),
    };
    let table: Vec<(Subject, Option<&str>, &str)> = vec![
        (
            repo_at("github.com", "acme/api"),
            Some("api"),
            "annotation github.com/project-slug",
        ),
        (
            repo_at("GitHub.com", "ACME/api.git"),
            Some("api"),
            "annotation github.com/project-slug",
        ),
        (
            repo_at("gitlab.acme.io", "front/web"),
            Some("web"),
            "annotation gitlab.com/project-slug",
        ),
        (repo_at("gitlab.com", "front/web"), None, ""),
        (
            repo_at("git.acme.io", "tools/batch"),
            Some("batch"),
            "annotation backstage.io/source-location",
        ),
        (
            Subject::PagerDutyService {
                id: "p123abc".into(),
                name: None,
            },
            Some("pager"),
            "annotation pagerduty.com/service-id",
        ),
        // detailsPair(component:genie-svc): the alert's extra property, not its entity.
        (
            opsgenie(&[], None, &["vip"], &[("Component", "GENIE-svc")]),
            Some("genie"),
            "annotation opsgenie.com/component-selector",
        ),
        (opsgenie(&[], Some("genie-svc"), &[], &[]), None, ""),
        (
            opsgenie(&["other", "payments team"], None, &[], &[]),
            Some("genie"),
            "annotation opsgenie.com/team",
        ),
        (
            opsgenie(&[], None, &["vip", "service:tagged"], &[]),
            Some("tagged"),
            "annotation opsgenie.com/component-selector",
        ),
        (
            opsgenie(&[], Some("Tagged-Host"), &[], &[]),
            Some("tagged"),
            "annotation opsgenie.com/component-selector",
        ),
        (opsgenie(&[], None, &["a", "b"], &[]), None, ""),
        (
            Subject::ArgoApp {
                name: "argo-eu".into(),
                repo_url: None,
            },
            Some("argo"),
            "annotation argocd/app-name",
        ),
        (
            Subject::Cdevents {
                source: "/tekton/prod".into(),
                id: "svc-1".into(),
            },
            Some("plain"),
            "mapping cdevents:/tekton/prod",
        ),
        (
            Subject::Cdevents {
                source: "/tekton/dev".into(),
                id: "svc-1".into(),
            },
            None,
            "",
        ),
        (
            Subject::Flux {
                kind: "Kustomization".into(),
                namespace: "apps".into(),
                name: "batch".into(),
            },
            Some("batch"),
            "mapping flux:Kustomization/apps/batch",
        ),
        (
            labels(&[("alertname", "High"), ("service", "Pager")]),
            Some("pager"),
            "label service",
        ),
        // `service` names no component: the next label does.
        (
            labels(&[("component", "web"), ("service", "nope")]),
            Some("web"),
            "label component",
        ),
        (labels(&[("alertname", "web")]), None, ""),
        (
            labels(&[("component", "web")]),
            Some("web"),
            "label component",
        ),
    ];
    for (subject, entity, how) in table {
        let attributed = attribution.attribute(&subject);
        let expected = entity.map(|e| format!("component:default/{e}"));
        assert_eq!(attributed.entity, expected, "{subject:?}");
        match attributed.how {
            How::Unattributed { key } => {
                assert!(entity.is_none());
                assert_eq!(key, attribution.subject_key(&subject));
            }
            other => assert_eq!(other.to_string(), how, "{subject:?}"),
        }
    }
}

#[test]
fn subject_keys_name_what_to_annotate() {
    let attribution = Attribution::from_entities(&annotated());
    let table = [
        (
            Subject::Repository {
                host: "GitHub.com".into(),
                slug: "Org/Repo".into(),
                url: String::new(),
            },
            "repo:github.com/org/repo",
        ),
        (
            Subject::PagerDutyService {
                id: "PX".into(),
                name: None,
            },
            "pagerduty:PX",
        ),
        (
            opsgenie(&["B", "a"], None, &["x"], &[]),
            "opsgenie-team:a,b",
        ),
        (
            opsgenie(&[], None, &["vip", "Service:X"], &[]),
            "opsgenie-tag:service:x,vip",
        ),
        (
            Subject::ArgoApp {
                name: "Shop".into(),
                repo_url: None,
            },
            "argocd:shop",
        ),
        (
            Subject::Cdevents {
                source: "/s".into(),
                id: "x".into(),
            },
            "cdevents:/s#x",
        ),
        (
            labels(&[("alertname", "Down"), ("instance", "i-1")]),
            "labels:alertname=Down",
        ),
        (
            labels(&[("alertname", "Down"), ("component", "db")]),
            "labels:component=db",
        ),
    ];
    for (subject, key) in table {
        assert_eq!(attribution.subject_key(&subject), key);
    }
}

#[test]
fn several_claimants_pick_the_smallest_ref_and_report_the_conflict() {
    let entities = [
        component(
            "zeta",
            "t",
            "s",
            json!({"github.com/project-slug": "org/mono"}),
        ),
        component(
            "alpha",
            "t",
            "s",
            json!({"github.com/project-slug": "org/mono"}),
        ),
        // A source-location claim loses to any slug annotation, whatever its name.
        component(
            "aaa",
            "t",
            "s",
            json!({"backstage.io/source-location": "url:https://github.com/org/mono/tree/main/aaa"}),
        ),
    ];
    for order in [vec![0, 1, 2], vec![2, 1, 0], vec![1, 2, 0]] {
        let list: Vec<_> = order.iter().map(|&i| entities[i].clone()).collect();
        let attribution = Attribution::from_entities(&list);
        let subject = Subject::Repository {
            host: "github.com".into(),
            slug: "org/mono".into(),
            url: String::new(),
        };
        assert_eq!(
            attribution.attribute(&subject).entity.as_deref(),
            Some("component:default/alpha")
        );
        assert_eq!(attribution.conflicts().len(), 1);
        let conflict = &attribution.conflicts()[0];
        assert_eq!(conflict.value, "github.com/org/mono");
        assert_eq!(conflict.chosen, "component:default/alpha");
        assert_eq!(
            conflict.others,
            ["component:default/aaa", "component:default/zeta"]
        );
    }
}

#[test]
fn the_org_rolls_up_owners_systems_domains_and_parents() {
    let entities = vec![
        group("eng", None),
        group("team", Some("eng")),
        json!({"kind": "Group", "metadata": {"name": "ops", "namespace": "infra"}, "spec": {}, "relations": [{"type": "childOf", "targetRef": "group:default/eng"}]}),
        system("shop", "commerce"),
        domain("commerce"),
        component(
            "a",
            "team",
            "shop",
            json!({"github.com/project-slug": "o/a"}),
        ),
        component("b", "user:default/someone", "shop", json!({})),
        json!({"kind": "Resource", "metadata": {"name": "db", "annotations": {"pagerduty.com/service-id": "PDB"}}, "spec": {"owner": "group:infra/ops"}}),
        json!({"kind": "Component", "metadata": {}}),
    ];
    let attribution = Attribution::from_entities(&entities);
    assert_eq!(
        attribution.problems(),
        ["entities[8]: no metadata.name; skipped"]
    );
    let org = attribution.org();
    let refs: Vec<&str> = org.entities.iter().map(|e| e.entity_ref.as_str()).collect();
    assert_eq!(
        refs,
        [
            "component:default/a",
            "component:default/b",
            "resource:default/db"
        ]
    );
    let group_ref = |ix: Option<u32>| ix.map(|g| org.groups[g as usize].entity_ref.as_str());
    assert_eq!(group_ref(org.entities[0].owner), Some("group:default/team"));
    assert_eq!(
        group_ref(org.entities[1].owner),
        None,
        "a user is not a group"
    );
    assert_eq!(group_ref(org.entities[2].owner), Some("group:infra/ops"));
    let team = org.group_ix("group:default/team").unwrap();
    let ops = org.group_ix("group:infra/ops").unwrap();
    assert_eq!(
        group_ref(org.groups[team as usize].parent),
        Some("group:default/eng")
    );
    assert_eq!(
        group_ref(org.groups[ops as usize].parent),
        Some("group:default/eng"),
        "from relations"
    );
    let shop = org.entities[0].system.unwrap();
    assert_eq!(org.systems[shop as usize].entity_ref, "system:default/shop");
    assert_eq!(
        org.system_domains[shop as usize].map(|d| org.domains[d as usize].entity_ref.as_str()),
        Some("domain:default/commerce")
    );
    // pave-dora accepts it.
    pave_dora::Index::build(org, &pave_dora::facts::Facts::default()).unwrap();
}

#[test]
fn bad_mappings_name_their_index_and_fingerprints_follow_the_rules() {
    let bad = AttributionConfig {
        mappings: vec![
            SubjectMapping {
                subject: "x".into(),
                entity: "a".into(),
            },
            SubjectMapping {
                subject: "y".into(),
                entity: "kind:/".into(),
            },
        ],
        ..AttributionConfig::default()
    };
    let err = Attribution::with_config(&annotated(), &bad)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("mappings[1].entity:"), "{err}");
    let a = Attribution::from_entities(&annotated());
    let b = Attribution::from_entities(annotated().iter().rev());
    assert_eq!(
        a.fingerprint(),
        b.fingerprint(),
        "order of entities does not matter"
    );
    let mut changed = annotated();
    changed[3]["metadata"]["annotations"]["github.com/project-slug"] = json!("acme/api2");
    assert_ne!(
        a.fingerprint(),
        Attribution::from_entities(&changed).fingerprint()
    );
    assert_eq!(
        a.repositories_of("component:default/api"),
        ["github.com/acme/api"]
    );
}

#[test]
fn one_entity_claiming_a_repository_twice_is_no_conflict() {
    let entities = vec![component(
        "a",
        "t",
        "s",
        json!({
            "github.com/project-slug": "org/a",
            "backstage.io/source-location": "url:https://github.com/org/a/tree/main/",
        }),
    )];
    let attribution = Attribution::from_entities(&entities);
    assert!(attribution.conflicts().is_empty());
    assert_eq!(
        attribution.repositories_of("component:default/a"),
        ["github.com/org/a"]
    );
}

#[test]
fn pave_catalog_subjects_name_their_entity() {
    let attribution = Attribution::from_entities(&annotated());
    let subject = |id: &str| Subject::Cdevents {
        source: pave_delivery::CATALOG_SOURCE.to_owned(),
        id: id.to_owned(),
    };
    for id in ["api", "component:default/api", "Component:default/API"] {
        let attributed = attribution.attribute(&subject(id));
        assert_eq!(
            attributed.entity.as_deref(),
            Some("component:default/api"),
            "{id}"
        );
        assert_eq!(attributed.how, How::EntityRef);
    }
    // An entity the catalog does not list, or no reference at all, stays unattributed.
    for id in ["nope", "group:default/payments/x", ""] {
        let attributed = attribution.attribute(&subject(id));
        assert_eq!(attributed.entity, None, "{id}");
    }
    // Another CDEvents source with the same id is not the catalog's.
    let other = Subject::Cdevents {
        source: "/monitoring".to_owned(),
        id: "api".to_owned(),
    };
    assert_eq!(attribution.attribute(&other).entity, None);
}
