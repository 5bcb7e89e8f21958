//! Full-text search over the catalog and its docs pages.
//!
//! ```text
//! catalog records (key, hash, JSON) ──► SearchIndex::sync_entities ──┐ only new and changed
//!                                          doc::EntityDoc             │ entities are parsed
//! docs sites (Markdown, read by the edge) ──► doc::page_text ──► sync_pages (by fingerprint)
//!                                                                      ▼
//!                                                tantivy index in RAM (one writer, readers
//!                                                see the last commit)
//!                                                                      │
//! SearchRequest (text, types, filters, page) ──► words (the index's analyzer; no query
//!   syntax) ──► exact + fuzzy + prefix terms, boosted by field ──► hits, snippets, facets
//! ```
//!
//! # Ranking
//!
//! Every word of the query must match a document somewhere: exactly, within one edit (words
//! of 4–7 characters) or two (8 and more) in the name, title and tags and one elsewhere,
//! or, for the last word, as a prefix of a word of the name, title or tags (type-ahead).
//! Exact words score BM25 times a field weight (name ≫ title > tags > owner, headings >
//! description > body); loose matches a constant below that; a query equal to an
//! entity's whole name adds a boost that puts it first. See `index.rs`'s `boost`.
//!
//! # Bounds
//!
//! A query reads at most 512 bytes and 12 words, 20 values per filter, 100 results a page
//! and 1,000 deep; indexed fields are capped (16 KiB an entity field, 256 KiB a page body).
//! Nothing the user types can make tantivy fail: the text is only ever cut into words.

mod doc;
mod highlight;
mod index;
mod query;
mod schema;

pub use doc::{
    EntityDoc, MAX_PAGE_BODY_BYTES, OperationReader, PageDoc, no_operations, page_text, short_ref,
};
pub use highlight::{Fragment, tagged};
pub use index::{Hit, SearchIndex, SearchResults, Shown, Site, Synced};
pub use query::{
    Dimension, DocType, MAX_FILTER_VALUES, MAX_OFFSET, MAX_PAGE_SIZE, MAX_QUERY_BYTES, MAX_TERMS,
    SearchRequest,
};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index itself failed (out of memory, a bug): not the caller's input.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A page past what a request may rank.
    #[error("results are listed at most {max} deep")]
    TooDeep { max: usize },
}

#[cfg(test)]
mod tests;
