//! The Backstage-compatible catalog model. No I/O: callers hand in parsed documents and get
//! validated entities, relations, stitched results and query answers back.
//!
//! - [`process::process_entity`] runs one document through Backstage's processing steps.
//! - [`stitch::stitch`] assembles final entities with their relations.
//! - [`query::Catalog`] indexes final entities and answers API queries.

pub mod entity_ref;
pub mod format;
mod json;
pub mod kinds;
pub mod placeholders;
pub mod problem;
pub mod process;
pub mod query;
pub mod relations;
pub mod stitch;

pub use entity_ref::{DEFAULT_NAMESPACE, EntityKey, EntityRef, RefError};
pub use placeholders::PlaceholderReader;
pub use problem::{Problem, Severity, Stage};
pub use process::{CatalogRules, ProcessContext, Processed, Rejected, process_entity};
pub use query::{Catalog, CatalogBuilder};
pub use relations::{Relation, RelationType};
pub use stitch::{FinalEntity, SourceEntity, stitch};
