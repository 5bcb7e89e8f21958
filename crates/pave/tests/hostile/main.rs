//! The hostile-client suite: each finding of an outside test against `pave serve` (slow and
//! flooding clients, heavy and repeated queries, arbitrary methods, foreign Host headers,
//! locations outside the allowed roots and hosts, races between writes), reproduced small,
//! bounded and on loopback only, against the real binary. One module per part of the server.

#[path = "../common/mod.rs"]
mod common;

mod listener;
mod sources;
mod work;
