//! Generates the demo organisation and benchmark catalogs
