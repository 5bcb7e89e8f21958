//! Golden-path templates: a template is a folder with `template.yaml` (name, version,
//! parameters as a JSON Schema, copy globs, conditions) and a `skeleton/` rendered with
//! minijinja. This crate parses and validates templates and answers, renders in memory,
//! plans day-2 updates as 3-way merges, and reports drift.
//!
//! ```text
//!  Source (builtin | folder | git) ──► Template (in memory) ──► params::prepare ──► render ──► Rendered
//!   source.rs, load.rs, builtin.rs       template.rs, manifest.rs   params.rs         render.rs     │
//!                                                                                                    ▼
//!  pave new:    ops::generate (+ .pave/answers.yaml) ──► write::write_new (temp dir + rename)
//!  pave update: ops::plan_dir_update: render(base) + render(theirs) + read_tree(ours) ──► merge::plan_update ──► write::apply_plan
//!  pave drift:  ops::find_repos ──► ops::drift
//! ```
//!
//! The core (manifest, params, render, merge, answers) does no I/O; `source`, `load`,
//! `write` and `ops` do.

mod answers;
mod archive;
pub mod builtin;
mod case;
mod error;
mod load;
mod manifest;
mod merge;
pub mod ops;
pub mod params;
mod render;
pub mod source;
mod template;
pub mod write;

pub use answers::{ANSWERS_PATH, AnswersFile};
pub use archive::zip_archive;
pub use error::{Error, Result};
pub use load::{LoadLimits, load_dir, load_dir_within};
pub use manifest::{Condition, MANIFEST_FILE, Manifest, parse_version, valid_name};
pub use merge::{Action, FileChange, UpdatePlan, merge_text, plan_update};
pub use params::Answers;
pub use render::{FUEL, Rendered, RenderedFile, environment, render};
pub use source::{Loaded, Source, SourceRef, Sources, Want, parse_source};
pub use template::{SKELETON_DIR, Template, TemplateFile};
