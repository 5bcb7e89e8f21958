//! Backstage-compatible catalog model: entities, refs, validation, relations, queries (no I/O)
