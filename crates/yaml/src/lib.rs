//! YAML to JSON values with source positions and resource limits.
//!
//! Catalog descriptors, Kubernetes manifests and SLO specs are YAML, but everything downstream
//! (validation, Rego, JSON Schema, the API) works on JSON values. This crate turns a YAML stream
//! into `serde_json::Value` documents under the YAML 1.2 core schema (what Backstage's `yaml`
//! package uses) or, for Kubernetes objects, as the API server reads them ([`Schema`]), and answers "where in the file is `spec.owner`?" so that errors can name a
//! line and column. It does no I/O: callers pass text.
//!
//! Untrusted input is expected. The builder never recurses, caps nesting depth, and caps how
//! many nodes aliases may expand to (the "billion laughs" defence), so a hostile file gets an
//! error instead of exhausting memory or the stack.

mod emit;
mod load;
mod yaml11;

pub use emit::to_yaml_string;
pub use load::{
    Document, Limits, PathSegment, Position, Schema, Spans, YamlError, locate, locate_many,
    parse_documents, parse_documents_as, parse_documents_at,
};
