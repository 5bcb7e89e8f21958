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

pub mod facts;
pub mod postmortem;
