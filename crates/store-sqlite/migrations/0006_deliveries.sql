-- Delivery events (issue 15): raw webhook deliveries as they arrived, and the ledger derived
-- from them, which can always be thrown away and rebuilt from the deliveries.
CREATE TABLE event_deliveries (
    -- AUTOINCREMENT: a number is never handed out twice, whatever is deleted by hand.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Never empty: an intake always knows both (and the store suite uses an empty one to make
    -- a batch fail).
    source TEXT NOT NULL CHECK (source <> ''),
    delivery_id TEXT NOT NULL CHECK (delivery_id <> ''),
    received_at BIGINT NOT NULL,
    -- Before the payload: SQLite decodes a row's columns in order, and reaching a column after
    -- a body that spilled into overflow pages means reading those pages.
    expired INTEGER NOT NULL DEFAULT 0,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (source, delivery_id)
);

-- WITHOUT ROWID: the rows live in the primary key's b-tree alone, with no rowid table beside
-- a second copy of every key (a 16-byte-key row with a 120-byte body: ~161 bytes on disk
-- rather than ~176; the target is at most 200 a deployment).
CREATE TABLE delivery_ledger (
    kind SMALLINT NOT NULL,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- How far the ledger has read the deliveries, written with the rows it derived.
CREATE TABLE delivery_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ledger_cursor BIGINT NOT NULL CHECK (ledger_cursor >= 0)
);
INSERT INTO delivery_state (id, ledger_cursor) VALUES (1, 0);
