//! Delivery facts and the five DORA metrics (2024 definitions), as a pure core.
//!
//! The intake (`pave-events`) turns webhook deliveries into events; the store derives
//! [`facts`] from them (one deployment from its status updates, one incident from its
//! lifecycle, the commits each production deployment shipped) and hands them to this crate,
//! which answers DORA questions for any window and any slice of the organisation. Postmortems
//! ([`postmortem`]) are Markdown files with front matter, read like catalog files.
//!
//! No database and no HTTP: everything here is a function of its arguments, so the metrics are
//! tested as tables and against an independent computation.
//!
//! ```text
//! Org + Facts ──► Index::build (validate, sort, settle failures/recoveries, lay out lead times)
//!                    │
//!   Query ─────────► report::report ──► Report { rows: [Row { metrics, previous, buckets }] }
//!                    (metrics: exact definitions; tiers: levels; rollup: who counts where;
//!                     buckets: ISO weeks / months)
//!
//! CommitGraph + previous sha + sha ──► changeset::shipped ──► Shipped { commits, truncated }
//! generate::large / generate::demo ──► (Org, Facts), seeded and deterministic
//! ```

pub mod buckets;
pub mod changeset;
pub mod error;
pub mod export;
pub mod facts;
pub mod generate;
pub mod index;
pub mod metrics;
pub mod postmortem;
pub mod quantile;
pub mod report;
pub mod rollup;
pub mod tiers;

pub use buckets::BucketSize;
pub use changeset::{
    ChangesetError, CommitGraph, Extended, Limits, Shipped, ShippedReason, shipped,
};
pub use error::DoraError;
pub use export::{Summary, csv};
pub use index::Index;
pub use metrics::Metrics;
pub use report::{Bucket, GroupBy, Query, Report, Row, RowKind, Scope, report};
pub use tiers::{Level, TierTable, TierVersion, tiers};
