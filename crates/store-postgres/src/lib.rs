//! PostgreSQL implementation of the catalog store
