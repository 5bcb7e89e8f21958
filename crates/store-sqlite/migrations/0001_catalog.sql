CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    refreshed_at INTEGER,
    status TEXT,
    UNIQUE (type, target)
);

CREATE TABLE entities (
    entity_ref TEXT PRIMARY KEY CHECK (length(entity_ref) > 0),
    uid TEXT NOT NULL,
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    location_key TEXT NOT NULL,
    body TEXT NOT NULL,
    relations TEXT NOT NULL,
    hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX entities_location_id ON entities (location_id);

CREATE TABLE files (
    location_id TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    deps TEXT NOT NULL,
    problems TEXT NOT NULL,
    PRIMARY KEY (location_id, path)
);
