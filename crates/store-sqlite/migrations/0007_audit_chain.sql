-- The database keeps the audit chain: a record must extend the head (the next seq, the
-- head's hash as its previous hash), and inserting it moves the head. A writer may then
-- chain records onto the head it remembers and append them in one statement: when another
-- writer (a transaction, another process) moved the head meanwhile, the insert is refused
-- and the writer reads the head again.
CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log
    WHEN NOT EXISTS (
        SELECT 1 FROM audit_head WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash
    )
BEGIN
    SELECT RAISE(ABORT, 'audit chain head moved: the record does not extend the chain');
END;
CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
