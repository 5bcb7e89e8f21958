-- Guardrail reports (issue 16): the newest `pave check` reports CI published for each
-- catalog entity, for the portal's Guardrails tab. The store keeps the newest 20 of an entity.
CREATE TABLE check_reports (
    id BIGSERIAL PRIMARY KEY,
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
    report TEXT NOT NULL
);
CREATE INDEX check_reports_by_entity ON check_reports (entity_ref, id);
