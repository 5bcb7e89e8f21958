//! The index's fields and its analyzer.

use tantivy::schema::{
    FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

/// The analyzer's name in the index's tokenizer manager.
pub(crate) const ANALYZER: &str = "pave";

/// Words split on anything not a letter or digit (so `payments-api` is `payments` and
/// `api`), lower-cased, accents folded (`café` finds `cafe`); words over 40 bytes dropped
/// (hashes and base64 blobs are not searched for). No stemming: names are not English,
/// and the stemmer would be one more dependency to build.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Unique per document: `e:<entity key>` or `p:<entity key>:<page path>`.
    pub id: Field,
    /// Pages: the entity they belong to (to replace an entity's pages at once).
    pub page_of: Field,
    /// `software-catalog` or `techdocs`.
    pub doctype: Field,
    /// The entity's name, as words.
    pub name: Field,
    /// The entity's whole name, lower-cased: an exact match ranks first.
    pub name_exact: Field,
    pub title: Field,
    pub tags: Field,
    pub owner: Field,
    pub headings: Field,
    pub description: Field,
    /// Everything else worth finding (kind, type, lifecycle, system, annotation values,
    /// operation names; a page's body).
    pub body: Field,
    /// `/kind/…`, `/type/…`, `/owner/…`, `/tag/…`: filters and their counts.
    pub facets: Field,
    /// What a result shows, as JSON (not indexed).
    pub stored: Field,
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |stored: bool, positions: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(if positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::WithFreqs
            });
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        page_of: b.add_text_field("page_of", STRING),
        doctype: b.add_text_field("doctype", STRING),
        name: b.add_text_field("name", words(false, false)),
        name_exact: b.add_text_field("name_exact", STRING),
        title: b.add_text_field("title", words(false, false)),
        tags: b.add_text_field("tags", words(false, false)),
        owner: b.add_text_field("owner", words(false, false)),
        headings: b.add_text_field("headings", words(false, false)),
        description: b.add_text_field("description", words(false, false)),
        body: b.add_text_field("body", words(false, false)),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        stored: b.add_text_field("stored", STORED),
    };
    (b.build(), fields)
}
