-- The database keeps the audit chain: a record must extend the head (the next seq, the
-- head's hash as its previous hash), and inserting it moves the head. A writer may then
-- chain records onto the head it remembers and append them in one statement: when another
-- writer (a transaction, another replica) moved the head meanwhile, the insert is refused
-- and the writer reads the head again. The conditional UPDATE takes the head row's lock, so
-- a concurrent insert waits for the first to commit and then finds the head moved.
CREATE FUNCTION pave_audit_extend_head() RETURNS trigger AS $$
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash
        WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain head moved: the record does not extend the chain';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_extends_head
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION pave_audit_extend_head();
