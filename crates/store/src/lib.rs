//! The catalog storage trait and its data types
