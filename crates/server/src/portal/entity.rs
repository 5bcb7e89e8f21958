//! `GET /catalog/{namespace}/{kind}/{name}`: one entity, with the extra sections groups and
//! users get.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use pave_catalog::Catalog;
use serde_json::Value;

use super::graph::{self, Graph, Neighbour};
use super::tabs::{Tab, TabFacts, TabLink};
use super::view::{self, Identity, RefView, Side};
use super::{Layout, PortalError, Row, Section, Tag};
use crate::AppState;
use crate::auth::Caller;

/// A line of the About card.
pub(crate) struct Fact {
    pub(crate) label: &'static str,
    pub(crate) value: String,
    pub(crate) href: Option<String>,
    /// A badge class (`lifecycle-production`) instead of plain text.
    pub(crate) badge: Option<String>,
    /// Shown in a muted "not in catalog" style.
    pub(crate) missing: bool,
}

impl Fact {
    fn text(label: &'static str, value: &str) -> Self {
        Fact {
            label,
            value: value.to_owned(),
            href: None,
            badge: None,
            missing: false,
        }
    }

    fn entity(label: &'static str, target: RefView) -> Self {
        Fact {
            label,
            missing: target.href.is_none(),
            value: target.label,
            href: target.href,
            badge: None,
        }
    }
}

/// A `metadata.links` entry.
pub(crate) struct LinkView {
    pub(crate) title: String,
    pub(crate) url: String,
    /// Only set for http(s)/mailto URLs.
    pub(crate) href: Option<String>,
    pub(crate) icon: String,
}

/// An annotation or label.
pub(crate) struct KeyValue {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) href: Option<String>,
}

/// The targets of one relation type.
pub(crate) struct RelationGroup {
    pub(crate) label: String,
    pub(crate) items: Vec<RefView>,
}

/// A group member.
pub(crate) struct Member {
    pub(crate) user: RefView,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) initials: String,
}

/// `spec.definition` of an API.
pub(crate) struct Definition {
    pub(crate) language: String,
    pub(crate) text: String,
    pub(crate) lines: usize,
    /// An OpenAPI, AsyncAPI or gRPC definition laid out by operation
    /// (`pave_docs::read_api_definition`).
    pub(crate) api: Option<pave_docs::ApiDoc>,
    /// Why an OpenAPI definition could not be laid out (the raw text is still shown).
    pub(crate) problem: Option<String>,
}

#[derive(Template)]
#[template(path = "entity.html")]
pub(crate) struct EntityPage {
    pub(crate) layout: Layout,
    pub(crate) id: Identity,
    pub(crate) spec_type: Option<String>,
    pub(crate) lifecycle: Option<String>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) facts: Vec<Fact>,
    pub(crate) links: Vec<LinkView>,
    pub(crate) labels: Vec<KeyValue>,
    pub(crate) annotations: Vec<KeyValue>,
    /// "View source": `backstage.io/source-location` when it is a web address.
    pub(crate) source_href: Option<String>,
    /// "Edit": `backstage.io/edit-url`.
    pub(crate) edit_href: Option<String>,
    pub(crate) relations: Vec<RelationGroup>,
    /// Entries across `relations`.
    pub(crate) relation_count: usize,
    /// The relationship graph, already escaped SVG.
    pub(crate) graph: String,
    /// What each side of the graph shows (only the sides that have nodes).
    pub(crate) legend: Vec<&'static str>,
    pub(crate) definition: Option<Definition>,
    pub(crate) is_group: bool,
    pub(crate) members: Vec<Member>,
    pub(crate) children: Vec<RefView>,
    /// A group's org chart (`org.rs`), HTML escaped there.
    pub(crate) org_chart: Option<String>,
    pub(crate) owned: Vec<Row>,
    pub(crate) is_user: bool,
    pub(crate) member_of: Vec<RefView>,
    /// The SLOs the entity's `pave.dev/slo` annotation names.
    pub(crate) slo: Option<super::slo::SloCard>,
    /// Last deployments and open incidents, when delivery reports are configured.
    pub(crate) delivery: Option<super::dora::DeliveryCardView>,
    /// The tab this page shows, and the tab bar.
    pub(crate) tab: Tab,
    pub(crate) tabs: Vec<TabLink>,
    /// The Guardrails tab: the newest published `pave check` report (`None`: none yet).
    pub(crate) guardrails: Option<super::guardrails::GuardrailsCard>,
    /// A component's APIs (the API tab).
    pub(crate) provided_apis: Vec<Row>,
    pub(crate) consumed_apis: Vec<Row>,
    /// The Refresh form's action, for those who may refresh the entity.
    pub(crate) refresh_action: Option<String>,
}

impl EntityPage {
    pub(crate) fn lifecycle_class(&self) -> String {
        view::lifecycle_class(self.lifecycle.as_deref().unwrap_or(""))
    }

    /// The API tab's two lists, with their headings.
    pub(crate) fn api_lists(&self) -> [(&'static str, &Vec<Row>); 2] {
        [
            ("Provided", &self.provided_apis),
            ("Consumed", &self.consumed_apis),
        ]
    }

    /// The catalog list of entities of this kind.
    pub(crate) fn kind_href(&self) -> String {
        view::catalog_href(&[("kind", &self.id.kind)])
    }

    /// The dependency-graph page around this entity, for the kinds it draws.
    pub(crate) fn graph_href(&self) -> Option<String> {
        ["domain", "system", "component", "api", "resource"]
            .contains(&self.id.kind.to_ascii_lowercase().as_str())
            .then(|| {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("root", &self.id.reference)
                    .finish();
                format!("/graph?{query}")
            })
    }
}

/// The catalog, the entity's key and the entity a `/catalog/{namespace}/{kind}/{name}…`
/// address names, or the error page's error.
fn addressed(
    state: &AppState,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<(Arc<Catalog>, Box<str>, Value), PortalError> {
    let Ok(Path((namespace, kind, name))) = path else {
        return Err(PortalError::BadRequest(
            "The entity address is malformed.".into(),
        ));
    };
    let catalog = state.catalog();
    let Some(record) = catalog.get(&pave_catalog::EntityKey::new(&kind, &namespace, &name)) else {
        return Err(PortalError::EntityNotFound(format!(
            "{kind}:{namespace}/{name}"
        )));
    };
    let found = (record.key.clone(), record.entity());
    Ok((catalog, found.0, found.1))
}

/// `GET /catalog/{namespace}/{kind}/{name}`: the Overview tab.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    tab_page(state, principal, path, Tab::Overview).await
}

/// `GET …/api`: an API's laid-out definition, or the APIs a component provides and consumes.
pub(crate) async fn api_tab(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    tab_page(state, principal, path, Tab::Api).await
}

/// `GET …/dependencies`: the relationship graph and every relation.
pub(crate) async fn dependencies_tab(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    tab_page(state, principal, path, Tab::Dependencies).await
}

/// `GET …/slos`: the SLOs the entity names, with live budgets when Prometheus is configured.
pub(crate) async fn slos_tab(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    tab_page(state, principal, path, Tab::Slos).await
}

/// `GET …/guardrails`: the newest `pave check` report published for the entity.
pub(crate) async fn guardrails_tab(
    State(state): State<Arc<AppState>>,
    Caller(principal): Caller,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    tab_page(state, principal, path, Tab::Guardrails).await
}

/// The tab bar of the entity with index key `key` (also drawn by the docs pages).
pub(crate) fn tab_facts(state: &AppState, key: &str, entity: &Value) -> TabFacts {
    let mut facts = TabFacts::of(entity);
    facts.slo_count = state.slos().get(key).map(|e| e.slos.len());
    facts
}

/// Reports listed in the Guardrails tab's history.
const GUARDRAILS_HISTORY: usize = 10;

/// The Guardrails tab's card, when a report was published for the entity.
async fn guardrails(
    state: &AppState,
    key: &str,
) -> Result<Option<super::guardrails::GuardrailsCard>, PortalError> {
    let Some((row, report)) = crate::guardrails::latest_guardrails(state, key).await? else {
        return Ok(None);
    };
    let history = crate::guardrails::guardrails_history(state, key, GUARDRAILS_HISTORY).await?;
    Ok(Some(super::guardrails::card(&row, &report, &history)))
}

async fn tab_page(
    state: Arc<AppState>,
    principal: pave_platform::Principal,
    path: Result<Path<(String, String, String)>, PathRejection>,
    tab: Tab,
) -> Response {
    let (catalog, key, entity) = match addressed(&state, path) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let facts = tab_facts(&state, &key, &entity);
    if !facts.has(tab) {
        let reference = view::Identity::of(&entity).reference;
        return PortalError::PageNotFound(format!("{reference} has no {} tab", tab.label()))
            .into_response();
    }
    // Live budgets ask Prometheus: only the SLO tab waits for them.
    let slo = match tab {
        Tab::Slos => super::slo::card(&state, &key).await,
        _ => None,
    };
    let reports = match tab {
        Tab::Overview => state.delivery_reports(),
        _ => None,
    };
    let refresh_action = super::locations::entity_refresh_action(&state, &principal, &key).await;
    let guardrails = match tab {
        Tab::Guardrails => match guardrails(&state, &key).await {
            Ok(card) => card,
            Err(e) => return e.into_response(),
        },
        _ => None,
    };
    // A group that owns thousands of entities lists and resolves each, and a large API
    // definition is parsed and laid out: heavy work, off the async threads and within the
    // heavy pool's limit.
    let relations = entity
        .get("relations")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let definition = match (tab, entity.pointer("/spec/definition")) {
        (Tab::Api, Some(Value::String(text))) => text.len(),
        (Tab::Api, Some(other)) if !other.is_null() => HEAVY_DEFINITION_BYTES + 1,
        _ => 0,
    };
    let heavy = relations > HEAVY_RELATIONS || definition > HEAVY_DEFINITION_BYTES;
    let render = move |catalog: &Catalog, entity: &Value| {
        let mut page = build(catalog, entity, tab, &facts);
        page.slo = slo;
        page.guardrails = guardrails;
        page.refresh_action = refresh_action;
        if let Some(reports) = &reports {
            add_delivery(&mut page, reports.as_ref(), &key, catalog);
        }
        super::render(&page)
    };
    let html = if heavy {
        let catalog = Arc::clone(&catalog);
        match state.heavy().run(move || render(&catalog, &entity)).await {
            Ok(html) => html,
            Err(busy) => return PortalError::from(busy).into_response(),
        }
    } else {
        render(&catalog, &entity)
    };
    match html {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET …/definition`: an API's definition as a file to save (`<name>.yaml`, `.proto`,
/// `.graphql`, or `.json` when the text is JSON).
pub(crate) async fn definition_file(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    let (_, _, entity) = match addressed(&state, path) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let Some(def) = definition(&entity) else {
        let reference = view::Identity::of(&entity).reference;
        return PortalError::PageNotFound(format!("{reference} has no API definition"))
            .into_response();
    };
    let extension = match def.language.to_ascii_lowercase().as_str() {
        "grpc" => "proto",
        "graphql" => "graphql",
        _ if def.text.trim_start().starts_with('{') => "json",
        "openapi" | "asyncapi" => "yaml",
        _ => "txt",
    };
    // Catalog names are [a-zA-Z0-9._-] already; filtered anyway, as it goes in a header.
    let file_name: String = view::str_at(&entity, &["metadata", "name"])
        .unwrap_or("definition")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    let disposition = format!("attachment; filename=\"{file_name}.{extension}\"");
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        def.text,
    )
        .into_response()
}

/// With delivery reports configured: the Delivery card on what is deployed, a link to the
/// DORA page on what rolls deployments up (groups, systems, domains).
fn add_delivery(
    page: &mut EntityPage,
    reports: &dyn crate::DeliveryReports,
    key: &str,
    catalog: &Catalog,
) {
    let kind = page.id.kind.to_ascii_lowercase();
    match kind.as_str() {
        "group" | "system" | "domain" => {
            let at = page.facts.len().saturating_sub(2);
            page.facts.insert(
                at,
                Fact {
                    href: Some(super::dora::dora_href(key)),
                    ..Fact::text("Delivery", "DORA metrics")
                },
            );
        }
        "user" | "location" | "template" => {}
        _ => page.delivery = Some(super::dora::delivery_card(reports, key, catalog)),
    }
}

/// Entity pages with more relations than this are built as heavy work.
const HEAVY_RELATIONS: usize = 64;

/// API definitions larger than this are laid out on the heavy pool (a 4 MiB AsyncAPI
/// document takes about half a second).
const HEAVY_DEFINITION_BYTES: usize = 64 * 1024;

/// The page of one tab. Each part is computed only on the tab that shows it: the overview
/// does not lay out an API definition, the API tab does not roll up ownership.
fn build(catalog: &Catalog, entity: &Value, tab: Tab, tab_facts: &TabFacts) -> EntityPage {
    let id = Identity::of(entity);
    let spec = |field: &str| view::str_at(entity, &["spec", field]);
    let relations = view::relations(entity);
    let targets = |relation: &str| -> Vec<RefView> {
        let mut list: Vec<RefView> = relations
            .iter()
            .filter(|r| r.kind == relation)
            .map(|r| view::resolve(catalog, &r.target, None, &id.namespace))
            .collect();
        list.sort_by(|a, b| {
            (&a.kind, a.label.to_lowercase()).cmp(&(&b.kind, b.label.to_lowercase()))
        });
        list.dedup_by(|a, b| a.key == b.key);
        list
    };
    let is_group = id.kind.eq_ignore_ascii_case("group");
    let is_user = id.kind.eq_ignore_ascii_case("user");
    let overview = tab == Tab::Overview;
    let people = overview && (is_group || is_user);

    // Groups and users list their relations on the overview; the rest on Dependencies.
    let groups = if people || tab == Tab::Dependencies {
        relation_groups(&relations, &targets, is_group, is_user)
    } else {
        Vec::new()
    };
    let graph = if overview || tab == Tab::Dependencies {
        let mut graph = graph_of(catalog, &id, &relations);
        if overview && !people {
            graph.more_href = format!("{}{}#relations", id.href, Tab::Dependencies.path());
        }
        graph
    } else {
        Graph::default()
    };
    let title = match tab {
        Tab::Overview => format!("{} · {}", id.display(), view::kind_display(&id.kind)),
        _ => format!("{} · {}", tab.label(), id.display()),
    };
    let layout = Layout::new(title, Section::for_kind(&id.kind));
    let api_tab = tab == Tab::Api;
    let is_api = id.kind.eq_ignore_ascii_case("api");

    EntityPage {
        facts: if overview {
            facts(catalog, entity, &id)
        } else {
            Vec::new()
        },
        links: links(entity),
        labels: key_values(entity, "labels"),
        annotations: key_values(entity, "annotations"),
        source_href: annotation_url(entity, "backstage.io/source-location"),
        edit_href: annotation_url(entity, "backstage.io/edit-url"),
        relation_count: groups.iter().map(|g| g.items.len()).sum(),
        relations: groups,
        legend: legend(&graph, is_group, is_user),
        graph: graph::render(&graph),
        definition: if api_tab && is_api {
            definition(entity)
        } else {
            None
        },
        provided_apis: if api_tab && !is_api {
            owned(catalog, &targets("providesApi"))
        } else {
            Vec::new()
        },
        consumed_apis: if api_tab && !is_api {
            owned(catalog, &targets("consumesApi"))
        } else {
            Vec::new()
        },
        members: if overview && is_group {
            members(catalog, &targets("hasMember"))
        } else {
            Vec::new()
        },
        children: if overview && is_group {
            targets("parentOf")
        } else {
            Vec::new()
        },
        org_chart: if overview && is_group {
            super::org::chart(catalog, &super::org::group_ref(catalog, entity))
        } else {
            None
        },
        owned: if overview && is_group {
            rolled_up_owned(catalog, &targets("ownerOf"), &targets("parentOf"))
        } else if overview && is_user {
            owned(catalog, &targets("ownerOf"))
        } else {
            Vec::new()
        },
        member_of: if overview && is_user {
            targets("memberOf")
        } else {
            Vec::new()
        },
        is_group,
        is_user,
        slo: None,
        guardrails: None,
        delivery: None,
        refresh_action: None,
        spec_type: spec("type").map(str::to_owned),
        lifecycle: spec("lifecycle").map(str::to_owned),
        tags: super::tags(entity),
        tabs: tab_facts.links(&id.href, tab),
        tab,
        layout,
        id,
    }
}

fn facts(catalog: &Catalog, entity: &Value, id: &Identity) -> Vec<Fact> {
    let spec = |field: &str| view::str_at(entity, &["spec", field]);
    let mut facts = Vec::new();
    if let Some(owner) = spec("owner") {
        facts.push(Fact::entity(
            "Owner",
            view::resolve(catalog, owner, Some("Group"), &id.namespace),
        ));
    }
    let system = spec("system").map(|s| view::resolve(catalog, s, Some("System"), &id.namespace));
    // A system names its domain; everything else inherits its system's.
    let domain = match (spec("domain"), &system) {
        (Some(domain), _) => Some(view::resolve(
            catalog,
            domain,
            Some("Domain"),
            &id.namespace,
        )),
        (None, Some(system)) => catalog.get(&system.key).map(|r| r.entity()).and_then(|s| {
            let ns = view::str_at(&s, &["metadata", "namespace"])
                .unwrap_or("default")
                .to_owned();
            view::str_at(&s, &["spec", "domain"])
                .map(|d| view::resolve(catalog, d, Some("Domain"), &ns))
        }),
        (None, None) => None,
    };
    if let Some(system) = system {
        facts.push(Fact::entity("System", system));
    }
    if let Some(domain) = domain {
        facts.push(Fact::entity("Domain", domain));
    }
    if let Some(t) = spec("type") {
        facts.push(Fact::text("Type", t));
    }
    if let Some(lifecycle) = spec("lifecycle") {
        facts.push(Fact {
            badge: Some(view::lifecycle_class(lifecycle)),
            ..Fact::text("Lifecycle", lifecycle)
        });
    }
    if let Some(name) = view::str_at(entity, &["spec", "profile", "displayName"]) {
        facts.push(Fact::text("Display name", name));
    }
    if let Some(email) = view::str_at(entity, &["spec", "profile", "email"]) {
        facts.push(Fact {
            href: view::safe_url(&format!("mailto:{email}")),
            ..Fact::text("Email", email)
        });
    }
    if let Some(target) = spec("target") {
        // A Location read from the server's disk names a path there: its file name only.
        let shown = if target.contains("://") {
            target.to_owned()
        } else {
            shown_value(format!("file:{target}"))
        };
        facts.push(Fact::text("Target", &shown));
    }
    if let Some(targets) = entity.pointer("/spec/targets").and_then(Value::as_array) {
        facts.push(Fact::text(
            "Targets",
            &format!("{} locations", targets.len()),
        ));
    }
    if let Some(fact) = golden_path(entity) {
        facts.push(fact);
    }
    facts.push(Fact::text("Namespace", &id.namespace));
    facts.push(Fact::text("Entity ref", &id.reference));
    facts
}

/// The golden path a repository was made from (`pave new` writes the `pave.dev/template*`
/// annotations into its catalog entry) and, for built-in templates, whether a newer version
/// is out. Other sources are shown as they are: their versions live in git repositories the
/// server does not fetch.
fn golden_path(entity: &Value) -> Option<Fact> {
    let annotation = |key: &str| view::str_at(entity, &["metadata", "annotations", key]);
    let name = annotation(TEMPLATE_ANNOTATION)?;
    let version = annotation(TEMPLATE_VERSION_ANNOTATION).unwrap_or("?");
    let source = annotation(TEMPLATE_SOURCE_ANNOTATION).unwrap_or("builtin");
    let latest = (source == "builtin")
        .then(|| pave_template::builtin::catalog().remove(name))
        .flatten()
        .and_then(|versions| versions.last().cloned());
    let current = semver::Version::parse(version).ok();
    let (value, badge) = match (latest, current) {
        (Some(latest), Some(current)) if latest > current => (
            format!("{name} {version} · {latest} available (pave update)"),
            "template-behind",
        ),
        (Some(_), Some(_)) => (format!("{name} {version} · up to date"), "template-current"),
        _ if source == "builtin" => (format!("{name} {version}"), "template-unknown"),
        _ => (format!("{name} {version} ({source})"), "template-unknown"),
    };
    Some(Fact {
        badge: Some(badge.to_owned()),
        ..Fact::text("Golden path", &value)
    })
}

/// Annotations `pave new` writes into the catalog entry of the repositories it makes.
const TEMPLATE_ANNOTATION: &str = "pave.dev/template";
const TEMPLATE_VERSION_ANNOTATION: &str = "pave.dev/template-version";
const TEMPLATE_SOURCE_ANNOTATION: &str = "pave.dev/template-source";

fn links(entity: &Value) -> Vec<LinkView> {
    entity
        .pointer("/metadata/links")
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .filter_map(|link| {
                    let url = view::str_at(link, &["url"])?;
                    Some(LinkView {
                        title: view::str_at(link, &["title"]).unwrap_or(url).to_owned(),
                        url: url.to_owned(),
                        href: view::safe_url(url),
                        icon: link_icon(view::str_at(link, &["icon"]).unwrap_or("")).to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A glyph for Backstage's common link icons.
fn link_icon(icon: &str) -> &'static str {
    match icon {
        "dashboard" => "▦",
        "docs" | "help" => "❑",
        "web" | "link" => "↗",
        "catalog" => "▤",
        "github" | "code" => "‹›",
        "chat" => "✉",
        _ => "↗",
    }
}

/// An annotation's web address (`url:` prefixes, as Backstage writes locations, removed).
fn annotation_url(entity: &Value, key: &str) -> Option<String> {
    let value = view::str_at(entity, &["metadata", "annotations", key])?;
    view::safe_url(value.strip_prefix("url:").unwrap_or(value))
}

/// What a reader sees of an annotation's value: a `file:` location (where the server read
/// the entity) shows its file name only, never the server's folders.
fn shown_value(value: String) -> String {
    match value.strip_prefix("file:") {
        Some(path) => {
            let name = path
                .trim_end_matches('/')
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or_default();
            format!("file:…/{name}")
        }
        None => value,
    }
}

fn key_values(entity: &Value, field: &str) -> Vec<KeyValue> {
    let mut list: Vec<KeyValue> = entity
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    let value = shown_value(match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    KeyValue {
                        key: key.clone(),
                        href: view::safe_url(&value),
                        value,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    list.sort_by(|a, b| a.key.cmp(&b.key));
    list
}

fn relation_groups(
    relations: &[view::RelationEntry],
    targets: &dyn Fn(&str) -> Vec<RefView>,
    is_group: bool,
    is_user: bool,
) -> Vec<RelationGroup> {
    // Groups and users show these in their own sections.
    let shown_elsewhere: &[&str] = if is_group {
        &["hasMember", "ownerOf", "parentOf", "childOf"]
    } else if is_user {
        &["memberOf", "ownerOf"]
    } else {
        &[]
    };
    let mut groups: Vec<RelationGroup> = view::RELATION_LABELS
        .iter()
        .filter(|(kind, _)| !shown_elsewhere.contains(kind))
        .map(|(kind, label)| RelationGroup {
            label: (*label).to_owned(),
            items: targets(kind),
        })
        .filter(|g| !g.items.is_empty())
        .collect();
    // Relation types this portal does not know, under their own names.
    let mut unknown: Vec<&str> = relations
        .iter()
        .map(|r| r.kind.as_str())
        .filter(|k| !view::RELATION_LABELS.iter().any(|(known, _)| known == k))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    for kind in unknown {
        groups.push(RelationGroup {
            label: kind.to_owned(),
            items: targets(kind),
        });
    }
    groups
}

fn graph_of(catalog: &Catalog, id: &Identity, relations: &[view::RelationEntry]) -> Graph {
    let mut graph = Graph {
        center: Some(graph::Node {
            kind: view::kind_display(&id.kind),
            label: id.display().to_owned(),
            reference: id.reference.clone(),
            href: Some(id.href.clone()),
        }),
        ..Graph::default()
    };
    let mut seen = std::collections::HashSet::new();
    for relation in relations {
        let Some((side, label)) = view::graph_placement(&relation.kind) else {
            continue;
        };
        if !seen.insert((relation.kind.as_str(), relation.target.to_lowercase())) {
            continue;
        }
        let target = view::resolve(catalog, &relation.target, None, &id.namespace);
        let neighbour = Neighbour {
            node: target.node(),
            relation: label,
        };
        match side {
            Side::Top => graph.top.push(neighbour),
            Side::Left => graph.left.push(neighbour),
            Side::Right => graph.right.push(neighbour),
        }
    }
    for column in [&mut graph.top, &mut graph.left, &mut graph.right] {
        column.sort_by(|a, b| {
            (a.relation, &a.node.kind, a.node.label.to_lowercase()).cmp(&(
                b.relation,
                &b.node.kind,
                b.node.label.to_lowercase(),
            ))
        });
    }
    graph
}

fn legend(graph: &Graph, is_group: bool, is_user: bool) -> Vec<&'static str> {
    let [left, top, right] = if is_group {
        [
            "← Members & child groups",
            "↑ Parent group",
            "Owned entities →",
        ]
    } else if is_user {
        ["← Members", "↑ Parent", "Groups & owned entities →"]
    } else {
        [
            "← Dependents & consumers",
            "↑ Owner",
            "Dependencies, APIs & system →",
        ]
    };
    [
        (left, &graph.left),
        (top, &graph.top),
        (right, &graph.right),
    ]
    .into_iter()
    .filter(|(_, side)| !side.is_empty())
    .map(|(label, _)| label)
    .collect()
}

fn definition(entity: &Value) -> Option<Definition> {
    let text = match entity.pointer("/spec/definition")? {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    if text.trim().is_empty() {
        return None;
    }
    let language = view::str_at(entity, &["spec", "type"])
        .unwrap_or("definition")
        .to_owned();
    let (api, problem) = match pave_docs::read_api_definition(&language, &text) {
        Some(Ok(api)) => (Some(api), None),
        Some(Err(problem)) => (None, Some(problem)),
        None => (None, None),
    };
    Some(Definition {
        language,
        lines: text.lines().count(),
        text,
        api,
        problem,
    })
}

fn members(catalog: &Catalog, users: &[RefView]) -> Vec<Member> {
    let mut members: Vec<Member> = users
        .iter()
        .map(|user| {
            let entity = catalog.get(&user.key).map(|r| r.entity());
            let profile = |field: &str| {
                entity
                    .as_ref()
                    .and_then(|e| view::str_at(e, &["spec", "profile", field]))
                    .map(str::to_owned)
            };
            let name = profile("displayName").unwrap_or_else(|| user.label.clone());
            Member {
                initials: initials(&name),
                email: profile("email"),
                name,
                user: user.clone(),
            }
        })
        .collect();
    members.sort_by_key(|m| m.name.to_lowercase());
    members
}

fn initials(name: &str) -> String {
    let mut words = name
        .split(|c: char| c.is_whitespace() || c == '.' || c == '-')
        .filter(|w| !w.is_empty());
    let first = words.next().and_then(|w| w.chars().next());
    let last = words.next_back().and_then(|w| w.chars().next());
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

pub(crate) fn owned(catalog: &Catalog, targets: &[RefView]) -> Vec<Row> {
    let mut rows: Vec<Row> = targets
        .iter()
        .map(|target| match catalog.get(&target.key) {
            Some(record) => Row::of(catalog, &record.entity()),
            None => Row::missing(target),
        })
        .collect();
    rows.sort_by(|a, b| {
        (kind_rank(&a.id.kind), a.id.name.to_lowercase())
            .cmp(&(kind_rank(&b.id.kind), b.id.name.to_lowercase()))
    });
    rows
}

/// Groups below a group visited for its roll-up at most (a cycle or a huge tree ends).
const ROLL_UP_GROUPS: usize = 2_000;

/// Entities a roll-up lists at most: the organisation's root group of a large catalog would
/// otherwise render every entity on one page.
const ROLL_UP_ROWS: usize = 1_000;

/// What a group owns, with what its child groups own (transitively, through `parentOf`), in
/// the order of [`owned`]: a team lead's page shows everything the team's sub-teams run.
pub(crate) fn rolled_up_owned(
    catalog: &Catalog,
    direct: &[RefView],
    children: &[RefView],
) -> Vec<Row> {
    let mut seen: std::collections::HashSet<String> =
        direct.iter().map(|r| r.key.clone()).collect();
    let mut targets: Vec<RefView> = direct.to_vec();
    let mut visited = std::collections::HashSet::new();
    let mut queue: std::collections::VecDeque<RefView> = children.iter().cloned().collect();
    while let Some(group) = queue.pop_front() {
        if targets.len() >= ROLL_UP_ROWS {
            break;
        }
        if visited.len() >= ROLL_UP_GROUPS || !visited.insert(group.key.clone()) {
            continue;
        }
        let Some(record) = catalog.get(&group.key) else {
            continue;
        };
        let entity = record.entity();
        let namespace = view::str_at(&entity, &["metadata", "namespace"])
            .unwrap_or(pave_catalog::DEFAULT_NAMESPACE)
            .to_owned();
        for relation in entity["relations"].as_array().into_iter().flatten() {
            let Some(target) = relation["targetRef"].as_str() else {
                continue;
            };
            match relation["type"].as_str() {
                Some("ownerOf") => {
                    let target = view::resolve(catalog, target, None, &namespace);
                    if seen.insert(target.key.clone()) {
                        targets.push(target);
                    }
                }
                Some("parentOf") => {
                    queue.push_back(view::resolve(catalog, target, Some("Group"), &namespace))
                }
                _ => {}
            }
        }
    }
    owned(catalog, &targets)
}

/// Owned entities list systems first, then what they are made of.
pub(crate) fn kind_rank(kind: &str) -> (u8, String) {
    let rank = match kind.to_lowercase().as_str() {
        "domain" => 0,
        "system" => 1,
        "component" => 2,
        "api" => 3,
        "resource" => 4,
        _ => 5,
    };
    (rank, kind.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Maya Okafor"), "MO");
        assert_eq!(initials("maya.okafor"), "MO");
        assert_eq!(initials("Cher"), "C");
        assert_eq!(initials(""), "");
        assert_eq!(initials("Jean-Luc de la Tour"), "JT");
    }

    fn made_from(annotations: serde_json::Value) -> Option<(String, String)> {
        let entity = serde_json::json!({"metadata": {"name": "x", "annotations": annotations}});
        golden_path(&entity).map(|f| (f.value, f.badge.unwrap_or_default()))
    }

    #[test]
    fn golden_path_says_whether_a_builtin_template_is_behind() {
        let versions = pave_template::builtin::catalog();
        let api = versions.get("api-service").unwrap();
        let (oldest, latest) = (api.first().unwrap(), api.last().unwrap());
        assert!(oldest < latest, "the built-in api-service has one version");

        let (value, badge) = made_from(serde_json::json!({
            "pave.dev/template": "api-service",
            "pave.dev/template-version": oldest.to_string(),
            "pave.dev/template-source": "builtin",
        }))
        .unwrap();
        assert_eq!(badge, "template-behind");
        assert_eq!(
            value,
            format!("api-service {oldest} · {latest} available (pave update)")
        );

        let (value, badge) = made_from(serde_json::json!({
            "pave.dev/template": "api-service",
            "pave.dev/template-version": latest.to_string(),
        }))
        .unwrap();
        assert_eq!(
            (value, badge),
            (
                format!("api-service {latest} · up to date"),
                "template-current".to_owned()
            )
        );

        let (value, badge) = made_from(serde_json::json!({
            "pave.dev/template": "payments-template",
            "pave.dev/template-version": "3.0.0",
            "pave.dev/template-source": "https://git.example.com/templates.git",
        }))
        .unwrap();
        assert_eq!(badge, "template-unknown");
        assert!(
            value.contains("3.0.0") && value.contains("git.example.com"),
            "{value}"
        );

        assert!(made_from(serde_json::json!({"backstage.io/techdocs-ref": "dir:."})).is_none());
    }
}
