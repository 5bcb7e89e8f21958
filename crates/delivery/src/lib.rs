//! How pave derives delivery facts: the ledger between webhook deliveries (`pave-events`)
//! and the DORA metrics (`pave-dora`), as a pure core. No database, no HTTP, no clock: the
//! store feeds deliveries in order and persists the rows the ledger returns; at start it
//! rebuilds the ledger from those rows (or replays every delivery after a configuration
//! change, `pave events replay`).
//!
//! ```text
//! Delivery ──► Ledger::apply(seq, received_at, &delivery, &Attribution) ──► Applied { rows }
//!                 │  attribution: Subject ─► catalog entity (annotations, mappings, labels)
//!                 │  deployments: status updates merged by (source, subject, source_id)
//!                 │  commits:     a graph per repository, from pushes and `git log`
//!                 │  changes:     what each production deployment shipped (change sets)
//!                 │  incidents:   lifecycles merged, linked to causing / fixing deployments
//!                 ▼
//! Ledger::facts(&org, "production") ──► pave_dora::Facts ──► Index::build ──► report
//! Ledger::rows() / Ledger::from_rows(rows) ── what the store persists and reloads
//! ```
//!
//! # The rules, in order
//!
//! 1. **Attribution** ([`attribution`]): each event's subject (a repository, a PagerDuty
//!    service, an Argo CD application, …) is looked up in tables built from the catalog's
//!    annotations (`github.com/project-slug`, `gitlab.com/project-slug`,
//!    `backstage.io/source-location`, `pagerduty.com/service-id`,
//!    `opsgenie.com/component-selector`, `opsgenie.com/team`, `argocd/app-name`),
//!    configured mappings of subject keys (CDEvents, Flux, anything), and alert labels that
//!    name a component. Events nobody claims are kept, with no entity, and counted by
//!    subject key ([`Ledger::unattributed`]) so a platform team can annotate them. When the
//!    catalog changes, every row is re-attributed ([`Ledger::reattribute`]; `apply` does it
//!    by itself when handed a different [`Attribution`]).
//! 2. **Deployments** ([`ledger::deployments`]): status updates merge into one row whatever
//!    their order; the latest final status wins; inconsistent ones (finishing before they
//!    start, dated after they were received) are kept and *excluded*, never dropped.
//!    Production is a configured environment name or the sender's word.
//! 3. **Commits and changes** ([`ledger::changes`]): pushes build a commit graph per
//!    repository (parents inferred from the order of a push's commits; a force push starts
//!    a new line; `git log` can fill in history, [`Ledger::add_commits`]). A successful
//!    production deployment shipped the commits reachable from its sha and not from the
//!    previous one's in its line; each change's lead time runs to the first such
//!    deployment.
//! 4. **Hotfix and rework**: a deployment is a hotfix when a label (GitHub `task`) or its
//!    ref matches `hotfix_patterns`, or it first shipped a change whose pull request was
//!    labelled or branched as a hotfix; a rollback when it says so or a label matches
//!    `rollback_patterns`; incidents name the rollback or hotfix that fixed them.
//! 5. **Incidents** ([`ledger::incidents`]): lifecycles merge by `(source, id)`, reopenings
//!    included; an incident is linked to the deployment it names (id, sha, or a commit the
//!    deployment shipped) or, only when configured, to the entity's latest production
//!    deployment before it opened; the link kind is recorded.
//! 6. **To DORA** ([`facts`]): dense facts for any environment, over the org built from the
//!    same catalog ([`Attribution::org`]).
//!
//! Every merge is a minimum, a maximum, an "or" or a set, with ties broken by a fixed
//! order, and every id is a digest of its natural key: applying the same deliveries in
//! another order, twice, or after a rebuild from rows gives the same rows (sequence
//! numbers aside). The one guess that can depend on order is a push's inferred parents
//! when two branches share commits ([`ledger::changes`]); what the default branch's heads
//! reach does not.
//!
//! [`demo`] writes 90 days of deliveries for pave's demo organisation that go through the
//! same path.

pub mod alerts;
pub mod attribution;
pub mod codec;
pub mod config;
pub mod demo;
mod error;
pub mod facts;
mod keys;
pub mod ledger;
pub mod rows;

pub use attribution::{
    Attributed, Attribution, AttributionConfig, AttributionError, CATALOG_SOURCE, Conflict, How,
    SubjectMapping, org_from_entities, repo_key, repo_of_url,
};
pub use config::LedgerConfig;
pub use error::LedgerError;
pub use ledger::{ExternalCommit, LatestDeployment, Ledger, LedgerStats};
pub use rows::{
    AlertRow, Applied, ChangeRow, ChangeSource, ChangesetReason, ChangesetRow, CommitRow,
    CommitSource, DeploymentRow, HotfixReason, IncidentRow, LinkKind, Row, Rows, ShippedIn,
    SubjectRow,
};
