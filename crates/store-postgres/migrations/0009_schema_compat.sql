-- Which pave may run on this database during a rolling upgrade: one whose newest migration
-- is at least `readable_by`. Additive migrations (new tables, indexes, nullable columns)
-- leave it, so version N and N-1 run side by side; a migration an older pave cannot run
-- beside sets it to its own version. Paves from before this migration refuse any migration
-- they do not know, so it starts here.
CREATE TABLE pave_schema_compat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    readable_by BIGINT NOT NULL
);
INSERT INTO pave_schema_compat (id, readable_by) VALUES (1, 9);
