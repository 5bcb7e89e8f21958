-- Replicas on one database: a version every change that readers see increments (each
-- replica rebuilds its snapshot when the version moves), and leases (one replica reads a
-- given source at a time; one leads the scheduled refreshes).
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
