//! Generates the demo organisation and benchmark catalogs as Backstage descriptor files.
//!
//! - [`write_demo_org`] writes Northwind Labs, a fictional online grocer: groups, users,
//!   domains, systems, components, APIs with real OpenAPI/AsyncAPI/proto/GraphQL definitions, and
//!   resources, all cross-referenced without dangling refs.
//! - [`write_bench_catalog`] writes N uniform components plus the groups, systems and APIs
//!   they point at, for ingestion and query benchmarks.
//!
//! - [`demo_check_reports`] (feature `guardrails`) makes the `pave check` reports its services'
//!   CI would have published: their golden paths rendered, changed as the teams did, checked.
//!
//! All are deterministic (the same input writes the same bytes) and do no network I/O.
//! Each writes a root `catalog-info.yaml` `Location` whose `spec.targets` list every
//! descriptor file, so registering that one file loads everything.

mod bench;
mod demo;
#[cfg(feature = "guardrails")]
mod guardrails;
mod output;
mod yaml;

#[cfg(test)]
mod tests;

#[cfg(feature = "guardrails")]
pub use guardrails::{DemoCheckReport, DemoReportError, demo_check_reports};

use std::io;
use std::path::Path;

pub(crate) const API_VERSION: &str = "backstage.io/v1alpha1";

/// What [`write_demo_org`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub groups: usize,
    pub users: usize,
    pub domains: usize,
    pub systems: usize,
    pub components: usize,
    pub apis: usize,
    pub resources: usize,
    /// Golden-path templates registered in the catalog (`kind: Template` with a
    /// `pave.dev/template-ref` folder beside them).
    pub templates: usize,
    /// Location entities: the root `catalog-info.yaml`.
    pub locations: usize,
    /// Every file written: descriptors, API definitions and the root location.
    pub files: usize,
}

/// What [`write_bench_catalog`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchSummary {
    /// Entities written, not counting the root `Location`.
    pub entities: usize,
    /// Every file written, the root `catalog-info.yaml` included.
    pub files: usize,
    /// Total size of those files.
    pub bytes: u64,
}

/// Writes the Northwind Labs demo organisation under `dir`, creating directories as needed
/// and overwriting earlier output.
///
/// Layout:
///
/// - `catalog-info.yaml`: the root `Location`, targeting every file below.
/// - `org/groups.yaml`, `org/users.yaml`: the organisation, departments, teams and people.
/// - `domains.yaml`: the business domains.
/// - `systems/<system>.yaml`: a `System` with its components and resources.
/// - `apis/<system>.yaml`: that system's APIs, whose `definition` is a `$text` placeholder
///   pointing at `apis/definitions/<api>.yaml` (OpenAPI 3.0 or AsyncAPI 2.6) or `.proto`.
///   Placeholders resolve relative to the descriptor, hence the separate `apis/` folder.
/// - `templates/python-library/catalog-info.yaml`: a registered golden path, whose
///   `template/` folder beside it is a pave template (`template.yaml`, `skeleton/`).
pub fn write_demo_org(dir: &Path) -> io::Result<DemoSummary> {
    demo::write_demo_org(dir)
}

/// The entities [`write_demo_org`] writes (as JSON, API definitions left as `$text`
/// placeholders), without its root `Location`.
pub fn demo_org_entities() -> Vec<serde_json::Value> {
    demo::demo_org_entities()
}

/// Writes a benchmark catalog with `components` components under `dir`: plus
/// `components / 20` groups, `components / 50` systems and `components / 10` APIs (at least
/// one of each). Each component has an owner, a system, one provided API, one or two
/// consumed APIs and one `dependsOn`; APIs carry a short inline OpenAPI definition.
///
/// Files are named `<kind>-NNNN.yaml` and hold at most 1000 entities each; the root
/// `catalog-info.yaml` `Location` targets all of them.
pub fn write_bench_catalog(dir: &Path, components: usize) -> io::Result<BenchSummary> {
    bench::write_bench_catalog(dir, components)
}
