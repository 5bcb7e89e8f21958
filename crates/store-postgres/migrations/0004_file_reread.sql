-- A file whose reading must be redone next time even when its content has not changed (what
-- it produced was not all accepted, or it could not be read): a flag of its own instead of a
-- prefix written into its hash.
ALTER TABLE files ADD COLUMN reread BOOLEAN NOT NULL DEFAULT false;
