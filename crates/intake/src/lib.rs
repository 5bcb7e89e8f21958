//! Delivery intake's I/O edge: between the HTTP route (or a CLI command) and the ledger.
//!
//! ```text
//! POST /api/events/<source> ──► Intake::receive ── unknown source? 404 ── secret? 401 (audited)
//!                                 │                 too large? 413 ── unreadable? 400 line:col
//!                                 ▼ bounded queue (full: 429 Retry-After)
//!                        one writer task: whatever is queued, up to max_batch,
//!                        in ONE transaction (accept_deliveries + an audit record each)
//!                                 │ then answers every caller (Receipt) ── nothing before
//!                                 ▼ Notify
//! Processor::run ─ deliveries after the cursor ─► pave_events::read ─► Ledger::apply
//!                 └─► commit_ledger(rows encoded by pave_delivery::codec, new cursor)
//! Processor::report / incidents / latest deployments ◄── the ledger in memory
//! ```
//!
//! # Why this shape
//!
//! * **Acknowledged means committed.** A caller gets its [`Receipt`] only after the
//!   transaction holding its delivery committed; a crash before that loses nothing the
//!   sender was told it has (it retries), and a crash after it loses nothing at all.
//! * **Group commit.** One writer takes everything queued and commits it together: on a
//!   disk that syncs in a millisecond or two, 2,000 deliveries a second are a few hundred
//!   transactions, not 2,000, and SQLite's single writer is never contended.
//! * **Derived facts are asynchronous but durable.** The [`Processor`] reads what was
//!   committed after the ledger's cursor and commits the derived rows with the new cursor in
//!   one transaction: a crash between acknowledging and deriving reprocesses, and
//!   reprocessing is harmless (the ledger's merges are idempotent).
//! * **Raw payloads are kept** (for `retentionDays`), so a mapping or rule change can be
//!   applied to the whole history: [`Processor::replay`].
//! * **Posted postmortems go the same way** ([`postmortem`]): recorded as deliveries of
//!   their own source, revisions by content, never released by retention.
//! * **Manual incidents go the same way** ([`incident`]): `pave incident declare` records a
//!   CDEvents delivery, so declared and paged incidents are merged, linked and counted by
//!   the same rules.

mod config;
pub mod demo;
mod error;
pub mod incident;
mod intake;
pub mod postmortem;
pub mod postmortem_demo;
mod processor;
mod views;

pub use config::{IntakeConfig, Retention, parse_duration};
pub use error::{ErrorKind, IntakeError};
pub use incident::Declaration;
pub use intake::{Intake, Origin, PauseGuard, Receipt, stored_headers};
pub use postmortem::{POSTMORTEM_SOURCE, Posted};
pub use processor::{LEDGER_LEASE, Processor, ProcessorStats, Progress, ReplayReport};
pub use views::{DeploymentView, IncidentDetail, IncidentView, Unattributed};
