//! SQLite implementation of the catalog store
