-- The entity whose processing emitted this one (the Location that read its file, or the
-- generated Location of its registered location): Backstage's ancestry. Empty for rows
-- written before this column existed, until their location is read again.
ALTER TABLE entities ADD COLUMN parent_ref TEXT NOT NULL DEFAULT '';
