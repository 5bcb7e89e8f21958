-- Replicas learn of a change at once: every move of the catalog version is announced on the
-- `pave_catalog` channel when its transaction commits (LISTEN/NOTIFY). Each replica still
-- compares the version itself, so a notification missed during a reconnect costs one poll.
CREATE FUNCTION pave_catalog_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('pave_catalog', NEW.version::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_version_changed
    AFTER UPDATE ON catalog_version
    FOR EACH ROW EXECUTE FUNCTION pave_catalog_changed();
