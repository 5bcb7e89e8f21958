-- Delivery events (issue 15): raw webhook deliveries as they arrived, and the ledger derived
-- from them, which can always be thrown away and rebuilt from the deliveries.
CREATE TABLE event_deliveries (
    -- Numbers are taken when a row is inserted but seen when it commits; writers take the
    -- table's lock first (see sql_delivery.rs), so that numbers are seen in order.
    seq BIGSERIAL PRIMARY KEY,
    -- Never empty: an intake always knows both (and the store suite uses an empty one to make
    -- a batch fail).
    source TEXT NOT NULL CHECK (source <> ''),
    delivery_id TEXT NOT NULL CHECK (delivery_id <> ''),
    received_at BIGINT NOT NULL,
    expired BOOLEAN NOT NULL DEFAULT false,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    UNIQUE (source, delivery_id)
);

-- Keys in byte order ("C"), as SQLite orders them, whatever the database's collation: the
-- ledger is visited in (kind, key) order and both stores must give the same one.
CREATE TABLE delivery_ledger (
    kind SMALLINT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (kind, key)
);

-- How far the ledger has read the deliveries, written with the rows it derived.
CREATE TABLE delivery_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ledger_cursor BIGINT NOT NULL CHECK (ledger_cursor >= 0)
);
INSERT INTO delivery_state (id, ledger_cursor) VALUES (1, 0);
