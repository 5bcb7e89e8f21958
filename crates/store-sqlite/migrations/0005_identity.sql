-- Identity and audit (issue 14): sign-in sessions and sign-ins in flight (in the database,
-- so every replica can serve them), API tokens (only their SHA-256 is kept), and the
-- hash-chained audit log with its signed checkpoints.
CREATE TABLE sessions (
    -- SHA-256 (hex) of the cookie's secret: reading the table does not give a session away.
    id_hash TEXT PRIMARY KEY,
    -- Who signed in, as JSON the server wrote (opaque here).
    subject TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- The absolute limit; the idle limit is checked against last_seen_at.
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- An authorization request sent to the provider and not yet answered: taken (deleted) by
-- the callback, so a `state` is good once.
CREATE TABLE logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- The user entity ref that created it; empty when the operator did (the CLI).
    owner TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    source TEXT,
    request_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time_ms);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

-- Where the chain stands; appends lock this row, so records are numbered without gaps
-- whichever replica writes.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    -- Records up to here may be deleted (retention, after a checkpoint vouches for them);
    -- nothing else may be.
    expired_through BIGINT NOT NULL
);
INSERT INTO audit_head (id, seq, hash, expired_through)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- The log is append-only: no record is changed, and none deleted but expired ones.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: records cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.seq > (SELECT expired_through FROM audit_head WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only expired records can be deleted');
END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints cannot be changed');
END;
