//! Attribution: which catalog entity an event is about.
//!
//! Every normalised event names a [`Subject`] (a repository, a PagerDuty service, an Argo CD
//! application, …). [`Attribution::from_entities`] reads the catalog's entities (Backstage
//! JSON) once and builds one lookup table per rule; [`Attribution::attribute`] answers with
//! the entity and the rule that matched, or with the subject's key when nothing did, so the
//! platform team can see what to annotate ([`crate::Ledger::unattributed`]).
//!
//! | subject | rule, first match wins |
//! |---|---|
//! | any | a configured mapping of the subject key ([`AttributionConfig::mappings`]) |
//! | repository `host/slug` | `github.com/project-slug` (host `github.com`), `gitlab.com/project-slug` (host from `gitlab.com/instance`, else `gitlab.com`); then `backstage.io/source-location` (`url:https://host/org/repo/tree/main/`) |
//! | PagerDuty service | `pagerduty.com/service-id` |
//! | Opsgenie alert | `opsgenie.com/component-selector`, the Opsgenie alert query the Backstage plugin shows alerts by: terms `tag:"x"` (a tag), `detailsPair(key:value)` (an extra property), `entity:x` or a bare name (the alert's entity), joined by `OR`; then `opsgenie.com/team` against its teams (responder team names, then team ids) |
//! | Argo CD application | `argocd/app-name` (a comma-separated list) |
//! | CDEvents subject | a mapping of `cdevents:<source>#<id>`, or of `cdevents:<source>` for every id of the source; with source [`CATALOG_SOURCE`], the id is an entity reference (pave's own events: incidents declared with `pave incident declare`) |
//! | Flux object | a mapping of `flux:<kind>/<namespace>/<name>` |
//! | alert labels | the first configured label (default `service`, then `component`) whose value is a Component's name |
//!
//! Slugs, hosts, service ids, application and component names compare case-insensitively;
//! hosts lose `www.` and default ports, slugs a trailing `.git`. When several entities claim
//! the same key, the explicit slug annotations beat `source-location`, and otherwise the
//! lexicographically smallest entity reference wins, always; each such tie is listed in
//! [`Attribution::conflicts`] so that it can be fixed in the catalog.
//!
//! The same entities give the [`Org`] reports roll up over ([`Attribution::org`]): every
//! entity a rule can attribute to (every Component, every annotated entity, every mapping
//! target), with its owner group (`spec.owner`, or an `ownedBy` relation), its system
//! (`spec.system` or `partOf`), systems' domains (`spec.domain`) and groups' parents
//! (`spec.parent` or `childOf`). Entity references are canonical: `kind:namespace/name`,
//! lower-cased, as the catalog keys them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use pave_catalog::{EntityKey, EntityRef};
use pave_dora::facts::{EntityNode, GroupIx, GroupNode, Named, Org};
use pave_events::Subject;
use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The annotation Backstage's GitHub plugins read: `org/repo`.
pub const GITHUB_SLUG: &str = "github.com/project-slug";
/// The annotation Backstage's GitLab plugin reads: `group/subgroup/repo`.
pub const GITLAB_SLUG: &str = "gitlab.com/project-slug";
/// The GitLab host of [`GITLAB_SLUG`] when it is not `gitlab.com`.
pub const GITLAB_INSTANCE: &str = "gitlab.com/instance";
/// Where the entity's source lives: `url:https://github.com/org/repo/tree/main/`.
pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
/// The PagerDuty service id (`PIJ90N7`).
pub const PAGERDUTY_SERVICE: &str = "pagerduty.com/service-id";
/// Which Opsgenie alerts are the entity's: an alert query (`tag:"service:checkout"`,
/// `detailsPair(component:checkout)`, terms joined by `OR`) or the alerts' entity name.
pub const OPSGENIE_COMPONENT: &str = "opsgenie.com/component-selector";
/// The Opsgenie team whose alerts are the entity's.
pub const OPSGENIE_TEAM: &str = "opsgenie.com/team";
/// The Argo CD application(s) deploying the entity, comma-separated.
pub const ARGOCD_APP: &str = "argocd/app-name";

/// The CDEvents source of events pave writes itself about catalog entities (incidents
/// declared by hand): the subject's id is the entity reference, attributed when the
/// organisation lists the entity.
pub const CATALOG_SOURCE: &str = "pave:catalog";

/// How attribution is configured beyond annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributionConfig {
    /// Subject keys (as [`Attribution::subject_key`] writes them and
    /// [`crate::Ledger::unattributed`] lists them) mapped to entity references. For CDEvents,
    /// `cdevents:<source>` (without `#<id>`) maps every subject of that source.
    pub mappings: Vec<SubjectMapping>,
    /// Alert labels whose value is an entity's name, tried in order.
    pub alert_labels: Vec<String>,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            mappings: Vec::new(),
            alert_labels: vec!["service".to_owned(), "component".to_owned()],
        }
    }
}

/// One configured mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectMapping {
    pub subject: String,
    /// An entity reference; the kind defaults to `component`, the namespace to `default`.
    pub entity: String,
}

/// Bad attribution configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributionError {
    #[error("mappings[{index}].entity: {message}")]
    MappingEntity { index: usize, message: String },
    #[error("mappings[{index}].subject: must not be empty")]
    MappingSubject { index: usize },
}

/// The rule that attributed an event, or the key it could not be attributed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum How {
    /// A configured mapping of this subject key.
    Mapping { subject: String },
    /// An entity annotation (its name).
    Annotation { name: &'static str },
    /// An alert label equal to the entity's name.
    Label { label: String },
    /// The subject names the entity itself ([`CATALOG_SOURCE`]).
    EntityRef,
    /// Nothing matched; `key` is the subject key to annotate or map.
    Unattributed { key: String },
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            How::Mapping { subject } => write!(f, "mapping {subject}"),
            How::Annotation { name } => write!(f, "annotation {name}"),
            How::Label { label } => write!(f, "label {label}"),
            How::EntityRef => f.write_str("entity reference"),
            How::Unattributed { key } => write!(f, "unattributed {key}"),
        }
    }
}

/// What [`Attribution::attribute`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributed {
    /// The canonical entity reference (`component:default/checkout`).
    pub entity: Option<String>,
    pub how: How,
}

/// Several entities claim one key; `chosen` is the one events go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The annotation (or `metadata.name` for alert labels).
    pub rule: String,
    /// The claimed key: a repository `host/slug`, a service id, a name.
    pub value: String,
    pub chosen: String,
    pub others: Vec<String>,
}

/// Claims of one rule's keys before resolution: key → (priority, entity, annotation).
type ClaimTable = BTreeMap<String, Vec<(u8, String, &'static str)>>;

#[derive(Debug, Clone)]
struct Claim {
    entity: String,
    rule: &'static str,
}

/// Lookups from subjects to catalog entities, built from the catalog (see the module docs).
#[derive(Debug, Clone)]
pub struct Attribution {
    repos: HashMap<String, Claim>,
    pagerduty: HashMap<String, Claim>,
    opsgenie_components: HashMap<String, Claim>,
    opsgenie_tags: HashMap<String, Claim>,
    opsgenie_details: HashMap<String, Claim>,
    opsgenie_teams: HashMap<String, Claim>,
    argocd: HashMap<String, Claim>,
    names: HashMap<String, Claim>,
    mappings: HashMap<String, String>,
    alert_labels: Vec<String>,
    entity_repos: BTreeMap<String, Vec<String>>,
    conflicts: Vec<Conflict>,
    problems: Vec<String>,
    org: Org,
    fingerprint: u64,
}

/// The pieces of one entity the rules read.
struct Entity<'a> {
    kind: String,
    key: String,
    namespace: &'a str,
    value: &'a Value,
}

impl Attribution {
    /// Attribution by annotations only, with the default alert labels.
    pub fn from_entities<'a>(entities: impl IntoIterator<Item = &'a Value>) -> Attribution {
        // The default configuration has no mappings, so it cannot be wrong.
        Self::build(entities, &AttributionConfig::default(), HashMap::new())
    }

    /// Attribution with configured mappings and alert labels.
    pub fn with_config<'a>(
        entities: impl IntoIterator<Item = &'a Value>,
        config: &AttributionConfig,
    ) -> Result<Attribution, AttributionError> {
        let mut mappings = HashMap::new();
        for (index, mapping) in config.mappings.iter().enumerate() {
            let subject = mapping.subject.trim();
            if subject.is_empty() {
                return Err(AttributionError::MappingSubject { index });
            }
            let entity = EntityRef::parse(mapping.entity.trim(), Some("component"), "default")
                .map_err(|error| AttributionError::MappingEntity {
                    index,
                    message: error.to_string(),
                })?;
            mappings.insert(subject.to_owned(), entity.key().into_string());
        }
        Ok(Self::build(entities, config, mappings))
    }

    fn build<'a>(
        entities: impl IntoIterator<Item = &'a Value>,
        config: &AttributionConfig,
        mappings: HashMap<String, String>,
    ) -> Attribution {
        let mut problems = Vec::new();
        let mut all: Vec<Entity<'a>> = Vec::new();
        for (index, value) in entities.into_iter().enumerate() {
            let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
            let metadata = value.get("metadata");
            let name = metadata
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if kind.is_empty() || name.is_empty() {
                problems.push(format!(
                    "entities[{index}]: no {}; skipped",
                    if kind.is_empty() {
                        "kind"
                    } else {
                        "metadata.name"
                    }
                ));
                continue;
            }
            let namespace = metadata
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default");
            all.push(Entity {
                kind: kind.to_ascii_lowercase(),
                key: EntityKey::new(kind, namespace, name).into_string(),
                namespace,
                value,
            });
        }
        // Keys claimed by entities: table → key → (priority, entity, rule).
        let mut claims: [ClaimTable; 8] = Default::default();
        const REPOS: usize = 0;
        const PAGERDUTY: usize = 1;
        const OPSGENIE_COMPONENTS: usize = 2;
        const OPSGENIE_TEAMS: usize = 3;
        const ARGOCD: usize = 4;
        const NAMES: usize = 5;
        const OPSGENIE_TAGS: usize = 6;
        const OPSGENIE_DETAILS: usize = 7;
        let mut entity_repos: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entity in &all {
            let annotation = |name: &str| {
                entity
                    .value
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(name))
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            let mut claim = |table: usize, key: String, priority: u8, rule: &'static str| {
                claims[table]
                    .entry(key)
                    .or_default()
                    .push((priority, entity.key.clone(), rule));
            };
            let mut repos = Vec::new();
            if let Some(slug) = annotation(GITHUB_SLUG) {
                repos.push((repo_key("github.com", slug), 0, GITHUB_SLUG));
            }
            if let Some(slug) = annotation(GITLAB_SLUG) {
                let host = annotation(GITLAB_INSTANCE).unwrap_or("gitlab.com");
                let host = host_of(host).unwrap_or(host);
                repos.push((repo_key(host, slug), 0, GITLAB_SLUG));
            }
            if let Some(location) = annotation(SOURCE_LOCATION)
                && let Some(key) = repo_of_url(location)
            {
                repos.push((key, 1, SOURCE_LOCATION));
            }
            for (key, priority, rule) in repos {
                entity_repos
                    .entry(entity.key.clone())
                    .or_default()
                    .insert(key.clone());
                claim(REPOS, key, priority, rule);
            }
            if let Some(id) = annotation(PAGERDUTY_SERVICE) {
                claim(PAGERDUTY, id.to_lowercase(), 0, PAGERDUTY_SERVICE);
            }
            if let Some(selector) = annotation(OPSGENIE_COMPONENT) {
                match opsgenie_terms(selector) {
                    Some(terms) => {
                        for term in terms {
                            let (table, key) = match term {
                                OpsgenieTerm::Entity(name) => (OPSGENIE_COMPONENTS, name),
                                OpsgenieTerm::Tag(tag) => (OPSGENIE_TAGS, tag),
                                OpsgenieTerm::Detail(key, value) => {
                                    (OPSGENIE_DETAILS, detail_key(&key, &value))
                                }
                            };
                            claim(table, key, 0, OPSGENIE_COMPONENT);
                        }
                    }
                    None => problems.push(format!(
                        "{}: {OPSGENIE_COMPONENT} {selector:?} is not read (pave reads tag:x, \
                         detailsPair(key:value), entity:x and names, joined by OR); its \
                         alerts are attributed by {OPSGENIE_TEAM} only",
                        entity.key
                    )),
                }
            }
            if let Some(team) = annotation(OPSGENIE_TEAM) {
                claim(OPSGENIE_TEAMS, team.to_lowercase(), 0, OPSGENIE_TEAM);
            }
            if let Some(apps) = annotation(ARGOCD_APP) {
                for app in apps.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                    claim(ARGOCD, app.to_lowercase(), 0, ARGOCD_APP);
                }
            }
            if entity.kind == "component"
                && let Some(name) = entity
                    .value
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
            {
                claim(NAMES, name.to_lowercase(), 0, "metadata.name");
            }
        }
        let mut conflicts = Vec::new();
        let [
            repos,
            pagerduty,
            opsgenie_components,
            opsgenie_teams,
            argocd,
            names,
            opsgenie_tags,
            opsgenie_details,
        ] = claims.map(|table| resolve(table, &mut conflicts));

        let mut attribution = Attribution {
            repos,
            pagerduty,
            opsgenie_components,
            opsgenie_tags,
            opsgenie_details,
            opsgenie_teams,
            argocd,
            names,
            mappings,
            alert_labels: config
                .alert_labels
                .iter()
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect(),
            entity_repos: entity_repos
                .into_iter()
                .map(|(entity, repos)| (entity, repos.into_iter().collect()))
                .collect(),
            conflicts,
            problems,
            org: Org::default(),
            fingerprint: 0,
        };
        attribution.org = attribution.build_org(&all);
        attribution.fingerprint = attribution.compute_fingerprint();
        attribution
    }

    /// The entity `subject` is about, and how that was decided.
    pub fn attribute(&self, subject: &Subject) -> Attributed {
        let key = self.subject_key(subject);
        if let Some(entity) = self.mapped(subject, &key) {
            return Attributed {
                entity: Some(entity.0.to_owned()),
                how: How::Mapping {
                    subject: entity.1.to_owned(),
                },
            };
        }
        let found: Option<(&Claim, Option<&str>)> = match subject {
            Subject::Repository { host, slug, .. } => {
                self.repos.get(&repo_key(host, slug)).map(|c| (c, None))
            }
            Subject::PagerDutyService { id, .. } => {
                self.pagerduty.get(&id.to_lowercase()).map(|c| (c, None))
            }
            Subject::Opsgenie {
                teams,
                entity,
                tags,
                details,
            } => entity
                .as_ref()
                .and_then(|e| self.opsgenie_components.get(&e.to_lowercase()))
                .or_else(|| {
                    details
                        .iter()
                        .find_map(|(k, v)| self.opsgenie_details.get(&detail_key(k, v)))
                })
                .or_else(|| {
                    tags.iter()
                        .find_map(|t| self.opsgenie_tags.get(&t.trim().to_lowercase()))
                })
                .or_else(|| {
                    teams
                        .iter()
                        .find_map(|t| self.opsgenie_teams.get(&t.to_lowercase()))
                })
                .map(|c| (c, None)),
            Subject::ArgoApp { name, .. } => {
                self.argocd.get(&name.to_lowercase()).map(|c| (c, None))
            }
            Subject::Labels(labels) => self.alert_labels.iter().find_map(|label| {
                let value = labels.get(label)?;
                self.names
                    .get(&value.to_lowercase())
                    .map(|c| (c, Some(label.as_str())))
            }),
            Subject::Cdevents { source, id } if source == CATALOG_SOURCE => {
                return match EntityRef::parse(id.trim(), Some("component"), "default")
                    .ok()
                    .map(|r| r.key().into_string())
                    .filter(|key| self.org.entity_ix(key).is_some())
                {
                    Some(entity) => Attributed {
                        entity: Some(entity),
                        how: How::EntityRef,
                    },
                    None => Attributed {
                        entity: None,
                        how: How::Unattributed { key },
                    },
                };
            }
            Subject::Flux { .. } | Subject::Cdevents { .. } => None,
        };
        match found {
            Some((claim, label)) => Attributed {
                entity: Some(claim.entity.clone()),
                how: match label {
                    Some(label) => How::Label {
                        label: label.to_owned(),
                    },
                    None => How::Annotation { name: claim.rule },
                },
            },
            None => Attributed {
                entity: None,
                how: How::Unattributed { key },
            },
        }
    }

    fn mapped(&self, subject: &Subject, key: &str) -> Option<(&str, &str)> {
        if let Some((k, entity)) = self.mappings.get_key_value(key) {
            return Some((entity, k));
        }
        if let Subject::Cdevents { source, .. } = subject {
            let source_key = format!("cdevents:{source}");
            if let Some((k, entity)) = self.mappings.get_key_value(&source_key) {
                return Some((entity, k));
            }
        }
        None
    }

    /// The key a subject is counted, listed and mapped by: `repo:github.com/org/repo`,
    /// `pagerduty:PIJ90N7`, `opsgenie:<entity>` (or `opsgenie-team:<teams>`, else
    /// `opsgenie-tag:<tags>`), `argocd:<app>`,
    /// `flux:<kind>/<namespace>/<name>`, `cdevents:<source>#<id>`, and for alert labels
    /// `labels:<label>=<value>` of the first configured label present (else of `alertname`).
    pub fn subject_key(&self, subject: &Subject) -> String {
        match subject {
            Subject::Repository { host, slug, .. } => format!("repo:{}", repo_key(host, slug)),
            Subject::PagerDutyService { id, .. } => format!("pagerduty:{id}"),
            Subject::Opsgenie {
                teams,
                entity,
                tags,
                ..
            } => {
                let sorted = |list: &[String]| {
                    let mut list: Vec<String> = list.iter().map(|t| t.to_lowercase()).collect();
                    list.sort();
                    list.join(",")
                };
                match (entity, teams.is_empty(), tags.is_empty()) {
                    (Some(entity), _, _) => format!("opsgenie:{}", entity.to_lowercase()),
                    (None, false, _) => format!("opsgenie-team:{}", sorted(teams)),
                    (None, true, false) => format!("opsgenie-tag:{}", sorted(tags)),
                    (None, true, true) => "opsgenie:".to_owned(),
                }
            }
            Subject::ArgoApp { name, .. } => format!("argocd:{}", name.to_lowercase()),
            Subject::Flux {
                kind,
                namespace,
                name,
            } => format!("flux:{kind}/{namespace}/{name}"),
            Subject::Cdevents { source, id } => format!("cdevents:{source}#{id}"),
            Subject::Labels(labels) => {
                let named = self
                    .alert_labels
                    .iter()
                    .map(String::as_str)
                    .chain(["alertname"])
                    .find_map(|label| labels.get(label).map(|value| (label, value)));
                match named {
                    Some((label, value)) => format!("labels:{label}={value}"),
                    None => "labels:".to_owned(),
                }
            }
        }
    }

    /// The repositories (`host/slug`) an entity's annotations name, sorted: where its
    /// deployments' commits are looked up when the deployment itself names no repository
    /// (Argo CD, Flux, CDEvents).
    pub fn repositories_of(&self, entity: &str) -> &[String] {
        self.entity_repos.get(entity).map_or(&[], Vec::as_slice)
    }

    /// Keys several entities claim, and who won (the others sorted).
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Entities skipped because they lack a kind or a name (with their position), and
    /// annotations that cannot be read (an Opsgenie selector pave cannot evaluate).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The organisation reports roll up over (see the module docs).
    pub fn org(&self) -> &Org {
        &self.org
    }

    /// A digest of everything [`Attribution::attribute`] depends on: equal fingerprints
    /// attribute every subject alike. The ledger re-attributes its rows when it changes.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn compute_fingerprint(&self) -> u64 {
        let mut lines: Vec<String> = Vec::new();
        for (table, map) in [
            ("repo", &self.repos),
            ("pagerduty", &self.pagerduty),
            ("opsgenie", &self.opsgenie_components),
            ("opsgenie-tag", &self.opsgenie_tags),
            ("opsgenie-detail", &self.opsgenie_details),
            ("opsgenie-team", &self.opsgenie_teams),
            ("argocd", &self.argocd),
            ("name", &self.names),
        ] {
            lines.extend(
                map.iter()
                    .map(|(k, c)| format!("{table}\0{k}\0{}\0{}", c.entity, c.rule)),
            );
        }
        lines.extend(
            self.mappings
                .iter()
                .map(|(k, e)| format!("mapping\0{k}\0{e}")),
        );
        lines.extend(
            self.entity_repos
                .iter()
                .map(|(e, r)| format!("repos\0{e}\0{}", r.join("\0"))),
        );
        lines.push(format!("labels\0{}", self.alert_labels.join("\0")));
        lines.sort();
        let digest = digest::digest(&digest::SHA256, lines.join("\n").as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_ref()[..8]);
        u64::from_be_bytes(first)
    }

    fn build_org(&self, all: &[Entity<'_>]) -> Org {
        let by_key: HashMap<&str, &Entity<'_>> = all.iter().map(|e| (e.key.as_str(), e)).collect();
        let mut attributable: BTreeSet<String> = all
            .iter()
            .filter(|e| e.kind == "component")
            .map(|e| e.key.clone())
            .collect();
        for table in [
            &self.repos,
            &self.pagerduty,
            &self.opsgenie_components,
            &self.opsgenie_tags,
            &self.opsgenie_details,
            &self.opsgenie_teams,
            &self.argocd,
        ] {
            attributable.extend(table.values().map(|c| c.entity.clone()));
        }
        attributable.extend(self.mappings.values().cloned());

        let of_kind = |kind: &str| -> Vec<&Entity<'_>> {
            let mut list: Vec<&Entity<'_>> = all.iter().filter(|e| e.kind == kind).collect();
            list.sort_by(|a, b| a.key.cmp(&b.key));
            list.dedup_by(|a, b| a.key == b.key);
            list
        };
        let groups = of_kind("group");
        let systems = of_kind("system");
        let domains = of_kind("domain");
        let index = |list: &[&Entity<'_>]| -> HashMap<String, u32> {
            list.iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i as u32))
                .collect()
        };
        let (group_ix, system_ix, domain_ix) = (index(&groups), index(&systems), index(&domains));

        let mut org = Org::default();
        for group in &groups {
            let parent = reference(group, "/spec/parent", "group", "childOf")
                .and_then(|p| group_ix.get(&p).copied());
            org.groups.push(GroupNode {
                entity_ref: group.key.clone(),
                parent,
            });
        }
        for system in &systems {
            org.systems.push(Named {
                entity_ref: system.key.clone(),
            });
            org.system_domains.push(
                reference(system, "/spec/domain", "domain", "partOf")
                    .and_then(|d| domain_ix.get(&d).copied()),
            );
        }
        org.domains = domains
            .iter()
            .map(|d| Named {
                entity_ref: d.key.clone(),
            })
            .collect();
        for key in attributable {
            let entity = by_key.get(key.as_str());
            let owner: Option<GroupIx> = entity
                .and_then(|e| reference(e, "/spec/owner", "group", "ownedBy"))
                .and_then(|o| group_ix.get(&o).copied());
            let system = entity
                .and_then(|e| reference(e, "/spec/system", "system", "partOf"))
                .and_then(|s| system_ix.get(&s).copied());
            org.entities.push(EntityNode {
                entity_ref: key,
                owner,
                system,
            });
        }
        org
    }
}

/// The organisation of `entities` (see [`Attribution::org`]), when only that is needed.
pub fn org_from_entities<'a>(entities: impl IntoIterator<Item = &'a Value>) -> Org {
    Attribution::from_entities(entities).org
}

/// Resolves each key's claims: best priority, then smallest reference; ties are conflicts.
fn resolve(table: ClaimTable, conflicts: &mut Vec<Conflict>) -> HashMap<String, Claim> {
    table
        .into_iter()
        .map(|(key, mut claimants)| {
            claimants.sort();
            // One claim per entity: its best.
            let mut seen = BTreeSet::new();
            claimants.retain(|c| seen.insert(c.1.clone()));
            let (_, entity, rule) = claimants[0].clone();
            if claimants.len() > 1 {
                let mut others: Vec<String> = claimants[1..].iter().map(|c| c.1.clone()).collect();
                others.sort();
                conflicts.push(Conflict {
                    rule: rule.to_owned(),
                    value: key.clone(),
                    chosen: entity.clone(),
                    others,
                });
            }
            (key, Claim { entity, rule })
        })
        .collect()
}

/// A reference from `pointer` (kind defaulting to `default_kind`, namespace to the entity's),
/// else the first relation of `relation` type to an entity of that kind; canonical.
fn reference(
    entity: &Entity<'_>,
    pointer: &str,
    default_kind: &str,
    relation: &str,
) -> Option<String> {
    if let Some(text) = entity.value.pointer(pointer).and_then(Value::as_str)
        && let Ok(parsed) = EntityRef::parse(text.trim(), Some(default_kind), entity.namespace)
    {
        let key = parsed.key().into_string();
        if key.starts_with(&format!("{default_kind}:")) {
            return Some(key);
        }
        return None;
    }
    entity
        .value
        .get("relations")
        .and_then(Value::as_array)?
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some(relation))
        .filter_map(|r| r.get("targetRef").and_then(Value::as_str))
        .map(|target| EntityKey::of_full_ref(target).into_string())
        .find(|key| key.starts_with(&format!("{default_kind}:")))
}

/// `selector` of `opsgenie.com/component-selector`: `detailsPair(component:x)` names `x`;
/// anything else is the component name itself.
/// One alternative of an `opsgenie.com/component-selector` query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OpsgenieTerm {
    /// The alert's entity (`entity:x`, or a bare name).
    Entity(String),
    /// One of the alert's tags (`tag:"x"`, `tags:x`).
    Tag(String),
    /// One of its extra properties (`detailsPair(key:value)`).
    Detail(String, String),
}

/// The terms of an Opsgenie alert query as the Backstage plugin's annotation holds one
/// (`tag:"service:checkout"`, `detailsPair(app:a) OR detailsPair(app:b)`), lower-cased;
/// `None` for anything else (`AND`, `NOT`, other fields), which pave cannot evaluate on
/// one alert's payload and so does not guess at.
fn opsgenie_terms(selector: &str) -> Option<Vec<OpsgenieTerm>> {
    // A value: quoted (may hold spaces), else one word.
    let value_of = |text: &str| -> Option<String> {
        let text = text.trim();
        let inner = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) if !inner.contains('"') => inner,
            Some(_) => return None,
            None if text.contains([' ', '"', '(', ')']) => return None,
            None => text,
        };
        let inner = inner.trim().to_lowercase();
        (!inner.is_empty()).then_some(inner)
    };
    let mut terms = Vec::new();
    let words: Vec<&str> = selector.split_whitespace().collect();
    // Alternatives are separated by a standalone OR (any case).
    for alternative in words.split(|w| w.eq_ignore_ascii_case("or")) {
        let term = alternative.join(" ");
        if let Some(pair) = term
            .strip_prefix("detailsPair(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            let (key, value) = pair.split_once(':')?;
            terms.push(OpsgenieTerm::Detail(value_of(key)?, value_of(value)?));
            continue;
        }
        terms.push(match term.split_once([':', '=']) {
            Some((field, value)) => match field.trim() {
                "tag" | "tags" => OpsgenieTerm::Tag(value_of(value)?),
                "entity" => OpsgenieTerm::Entity(value_of(value)?),
                _ => return None,
            },
            None => OpsgenieTerm::Entity(value_of(&term)?),
        });
    }
    (!terms.is_empty()).then_some(terms)
}

/// The lookup key of an Opsgenie extra property: `key:value`, lower-cased.
fn detail_key(key: &str, value: &str) -> String {
    format!(
        "{}:{}",
        key.trim().to_lowercase(),
        value.trim().to_lowercase()
    )
}

/// A repository's key, `host/slug`: lower-cased, the host without `www.` or a default port,
/// the slug without surrounding slashes or a trailing `.git`.
pub fn repo_key(host: &str, slug: &str) -> String {
    let host = host.trim().to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let host = host
        .strip_suffix(":443")
        .or_else(|| host.strip_suffix(":80"))
        .unwrap_or(host);
    let slug = slug.trim().trim_matches('/').to_lowercase();
    let slug = slug.strip_suffix(".git").unwrap_or(&slug);
    format!("{host}/{slug}")
}

/// The `host[:port]` of `scheme://host/…`, or the text when it has no scheme.
fn host_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |(_, h)| h))
}

/// The repository key of a repository or source URL: `url:https://host/org/repo/tree/main/`,
/// `https://host/group/sub/repo/-/tree/main`, `git@host:org/repo.git`,
/// `ssh://git@host/org/repo`. On `github.com` the slug is two segments; elsewhere it ends
/// before `-`, `tree`, `blob`, `src` or `browse`. `None` without at least `org/repo`.
pub fn repo_of_url(url: &str) -> Option<String> {
    let url = url.trim();
    let url = url.strip_prefix("url:").unwrap_or(url);
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        (
            authority.rsplit_once('@').map_or(authority, |(_, h)| h),
            path,
        )
    } else {
        // scp-like `git@host:org/repo.git`.
        let (user_host, path) = url.split_once(':')?;
        (
            user_host.rsplit_once('@').map_or(user_host, |(_, h)| h),
            path,
        )
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take_while(|s| !matches!(*s, "-" | "tree" | "blob" | "src" | "browse"))
        .collect();
    let host_lower = host.to_ascii_lowercase();
    if host_lower == "github.com" || host_lower == "www.github.com" {
        segments.truncate(2);
    }
    if host.is_empty() || segments.len() < 2 {
        return None;
    }
    Some(repo_key(host, &segments.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_urls_become_keys() {
        let table = [
            (
                "url:https://github.com/Org/Repo/tree/main/",
                Some("github.com/org/repo"),
            ),
            (
                "url:https://github.com/org/repo/tree/main/services/api",
                Some("github.com/org/repo"),
            ),
            (
                "https://github.com/org/repo.git",
                Some("github.com/org/repo"),
            ),
            (
                "url:https://gitlab.example.com:8443/group/sub/repo/-/tree/main",
                Some("gitlab.example.com:8443/group/sub/repo"),
            ),
            ("https://www.github.com:443/a/b", Some("github.com/a/b")),
            ("git@github.com:org/repo.git", Some("github.com/org/repo")),
            (
                "ssh://git@bitbucket.example.com/proj/repo/src/main",
                Some("bitbucket.example.com/proj/repo"),
            ),
            ("url:https://github.com/org", None),
            ("dir:.", None),
        ];
        for (url, expected) in table {
            assert_eq!(repo_of_url(url).as_deref(), expected, "{url}");
        }
    }

    #[test]
    fn opsgenie_selectors() {
        use OpsgenieTerm::*;
        let detail = |k: &str, v: &str| Detail(k.into(), v.into());
        let table: [(&str, Option<Vec<OpsgenieTerm>>); 10] = [
            (
                "detailsPair(component:checkout)",
                Some(vec![detail("component", "checkout")]),
            ),
            ("checkout", Some(vec![Entity("checkout".into())])),
            (
                r#"tag:"service:My-Service""#,
                Some(vec![Tag("service:my-service".into())]),
            ),
            ("tags: db", Some(vec![Tag("db".into())])),
            ("entity:Checkout", Some(vec![Entity("checkout".into())])),
            (
                "detailsPair(app:my-service) OR detailsPair(app:my-service-app)",
                Some(vec![
                    detail("app", "my-service"),
                    detail("app", "my-service-app"),
                ]),
            ),
            (
                r#"tag:"team payments" or entity:pay"#,
                Some(vec![Tag("team payments".into()), Entity("pay".into())]),
            ),
            ("tag:a AND tag:b", None),
            ("priority:P1", None),
            ("OR tag:a", None),
        ];
        for (selector, expected) in table {
            assert_eq!(opsgenie_terms(selector), expected, "{selector}");
        }
    }
}
