-- Guardrail reports (issue 16): the newest `pave check` reports CI published for each
-- catalog entity, for the portal's Guardrails tab. The store keeps the newest 20 of an entity.
CREATE TABLE check_reports (
    -- AUTOINCREMENT: a number is never handed out twice, so an entity's newest report is
    -- always its highest number.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Canonical, lower-cased kind:namespace/name.
    entity_ref TEXT NOT NULL CHECK (entity_ref <> ''),
    -- Unix seconds.
    received_at BIGINT NOT NULL,
    commit_id TEXT,
    branch TEXT,
    -- The report's summary, so that a history is listed without reading reports.
    failed BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    excepted BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    files BIGINT NOT NULL,
    -- Last: SQLite decodes a row's columns in order, and a report may spill into overflow
    -- pages that a history need not read.
    report TEXT NOT NULL
);
CREATE INDEX check_reports_by_entity ON check_reports (entity_ref, id);
