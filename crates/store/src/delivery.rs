//! Rows for delivery events: raw webhook deliveries as they arrived, and the ledger's derived
//! rows. Like the catalog rows they carry no semantics the store acts on: a delivery's body is
//! the sender's bytes, a ledger row an opaque encoding `pave-delivery` wrote and reads back.
//!
//! The two halves are kept apart on purpose. Deliveries are the record of what was received
//! (append-only, deduplicated by the sender's id, bounded by retention); the ledger is derived
//! from them and can always be thrown away and rebuilt (`pave events replay`). The cursor that
//! says how far the ledger has read is written in the same transaction as the rows it produced,
//! so a crash between acknowledging a delivery and deriving its facts reprocesses it.

/// A delivery to record, as the intake verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The source it was posted to (`github`, `cdevents`, …).
    pub source: String,
    /// The sender's idempotency key (`X-GitHub-Delivery`, a CloudEvent's `id`, …).
    pub delivery_id: String,
    /// Unix milliseconds.
    pub received_at: i64,
    /// The request headers the reader needs again (JSON object of lower-case names).
    pub headers: String,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// What [`DeliveryStore::accept_deliveries`] did with one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Recorded under this sequence number.
    New { seq: i64 },
    /// A delivery with the same source and id was recorded before, under this number;
    /// nothing changed.
    Duplicate { seq: i64 },
}

impl Accepted {
    pub fn seq(self) -> i64 {
        match self {
            Accepted::New { seq } | Accepted::Duplicate { seq } => seq,
        }
    }
}

/// A recorded delivery. `headers` and `body` are empty once retention released its payload
/// (`expired`); the row stays so that a redelivery is still recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    pub seq: i64,
    pub source: String,
    pub delivery_id: String,
    pub received_at: i64,
    pub headers: String,
    pub body: Vec<u8>,
    pub expired: bool,
}

/// One derived row, encoded by `pave-delivery`: `(kind, key)` is its identity, `body` its
/// latest state. Upserting the same key replaces the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The table it belongs to (deployment, incident, commit, …), a small number the encoder
    /// chose.
    pub kind: i16,
    pub key: String,
    pub body: Vec<u8>,
}

/// Counts for `pave events status` and the server's metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Deliveries recorded, payload kept or not.
    pub deliveries: u64,
    /// Of which the payload was released by retention.
    pub expired: u64,
    /// Bytes of kept payloads (headers and bodies).
    pub payload_bytes: u64,
    /// The highest sequence number recorded (0 when none).
    pub last_seq: i64,
    /// The highest sequence number the ledger has applied ([`DeliveryStore::ledger_cursor`]).
    pub cursor: i64,
    /// Ledger rows stored.
    pub ledger_rows: u64,
}

/// What retention may release: payloads of deliveries the ledger has applied, oldest first,
/// beyond both limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRetention {
    /// Payloads received before this time (Unix milliseconds) may go.
    pub received_before: i64,
    /// But the newest this many payloads stay whatever their age.
    pub keep_at_least: u64,
    /// Deliveries of these sources are documents pave serves from their payloads (posted
    /// postmortems), not webhook payloads kept for replays: never released.
    pub kept_sources: &'static [&'static str],
}
