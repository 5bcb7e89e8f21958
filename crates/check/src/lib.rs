//! The application layer of pave's guardrails, shared by `pave check` and the admission
//! webhook in `pave serve`: which files to read and how ([`inputs`]), how the policy is
//! assembled from flags and files ([`setup`]), and how an `AdmissionReview` is answered
//! ([`admission`]); [`conftest`] is `pave check --conftest`, conftest's `test` command. The rules themselves live in `pave-policy`, which does no I/O.

pub mod admission;
pub mod conftest;
pub mod inputs;
pub mod setup;

pub use inputs::{Inputs, ReadOptions, read_inputs, read_inputs_each};
pub use setup::{Assembled, PolicyOptions, SetupError, build_policy};

/// Seconds since the Unix epoch (for exception expiry).
pub fn now_unix() -> i64 {
    pave_stdx::time::unix_seconds()
}
