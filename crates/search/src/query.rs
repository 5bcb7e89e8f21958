//! A search request and its reading into terms.
//!
//! The user's text is never handed to tantivy's `QueryParser`: its syntax (`"`, `:`, `(`,
//! `*`, `AND`, `~`, `^`…) would turn typing into errors or into queries nobody meant. The
//! text is cut into words by the same analyzer that indexed the documents, so a word
//! matches exactly when it was indexed that way; everything else is punctuation.

use tantivy::tokenizer::TextAnalyzer;

/// Longest query text read (bytes); the rest is ignored.
pub const MAX_QUERY_BYTES: usize = 512;
/// At most this many words of a query are used.
pub const MAX_TERMS: usize = 12;
/// At most this many values per filter.
pub const MAX_FILTER_VALUES: usize = 20;
/// Results per page at most.
pub const MAX_PAGE_SIZE: usize = 100;
/// How deep paging may go: offsets past this are refused, so no request ranks the
/// whole index.
pub const MAX_OFFSET: usize = 1_000;

/// Which documents a request searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocType {
    /// Catalog entities (Backstage's `software-catalog`).
    Entity,
    /// Docs pages (Backstage's `techdocs`).
    Page,
}

impl DocType {
    /// Backstage's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Entity => "software-catalog",
            DocType::Page => "techdocs",
        }
    }

    /// Reads Backstage's name; `None` for a type pave does not index.
    pub fn parse(s: &str) -> Option<DocType> {
        match s {
            "software-catalog" => Some(DocType::Entity),
            "techdocs" => Some(DocType::Page),
            _ => None,
        }
    }
}

/// A dimension results can be filtered and counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Kind,
    Type,
    Owner,
    Tag,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [
        Dimension::Kind,
        Dimension::Type,
        Dimension::Owner,
        Dimension::Tag,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Kind => "kind",
            Dimension::Type => "type",
            Dimension::Owner => "owner",
            Dimension::Tag => "tag",
        }
    }

    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// What a caller asks for. Build with [`SearchRequest::new`]; every list is bounded when
/// it is added to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    /// The text as typed (cut to [`MAX_QUERY_BYTES`]).
    pub text: String,
    /// Empty: every type.
    pub types: Vec<DocType>,
    /// Per dimension, the values any of which a result must have (lower-cased).
    pub filters: Vec<(Dimension, Vec<String>)>,
    pub offset: usize,
    pub limit: usize,
    /// Type-ahead: fewer results, no facet counts, no snippets of the body.
    pub typeahead: bool,
}

impl SearchRequest {
    pub fn new(text: &str) -> SearchRequest {
        SearchRequest {
            text: crate::doc::clip(text, MAX_QUERY_BYTES),
            limit: 25,
            ..SearchRequest::default()
        }
    }

    /// Adds a filter value (case-insensitive); past [`MAX_FILTER_VALUES`] values of a
    /// dimension, more are ignored.
    pub fn filter(&mut self, dimension: Dimension, value: &str) {
        let value = crate::doc::clip(value.trim(), 256).to_lowercase();
        if value.is_empty() {
            return;
        }
        match self.filters.iter_mut().find(|(d, _)| *d == dimension) {
            Some((_, values)) => {
                if values.len() < MAX_FILTER_VALUES && !values.contains(&value) {
                    values.push(value);
                }
            }
            None => self.filters.push((dimension, vec![value])),
        }
    }

    /// Values asked for in `dimension`.
    pub fn values(&self, dimension: Dimension) -> &[String] {
        self.filters
            .iter()
            .find(|(d, _)| *d == dimension)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The page: `limit` capped to [`MAX_PAGE_SIZE`] and at least 1; `offset` over
    /// [`MAX_OFFSET`] is an error.
    pub fn page(&self) -> Result<(usize, usize), crate::SearchError> {
        if self.offset > MAX_OFFSET {
            return Err(crate::SearchError::TooDeep { max: MAX_OFFSET });
        }
        Ok((self.offset, self.limit.clamp(1, MAX_PAGE_SIZE)))
    }
}

/// The words of `text` as the index's analyzer cuts them, at most [`MAX_TERMS`], without
/// repeats, in order.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = &stream.token().text;
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.clone());
            if out.len() == MAX_TERMS {
                break;
            }
        }
    }
    out
}

/// Edits allowed when matching `term` loosely: none below 4 characters (too many words
/// are one edit from "api"), one from 4, two from 8.
pub(crate) fn fuzzy_distance(term: &str) -> u8 {
    match term.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Whether `word` is within `max` edits of `term` (Levenshtein, transpositions counted
/// as one, as the index's fuzzy queries count them). Bounded: words are short, and a long
/// one is compared only while its length allows.
pub(crate) fn within_edits(term: &str, word: &str, max: u8) -> bool {
    let max = usize::from(max);
    let (la, lb) = (term.chars().count(), word.chars().count());
    if la.abs_diff(lb) > max || la > 64 || lb > 64 {
        return term == word;
    }
    let a: Vec<char> = term.chars().collect();
    let b: Vec<char> = word.chars().collect();
    // Optimal string alignment distance.
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> TextAnalyzer {
        crate::schema::analyzer()
    }

    #[test]
    fn syntax_is_punctuation() {
        let mut a = analyzer();
        assert_eq!(
            terms(&mut a, r#"name:"payments" AND (api* OR ~x^2) -"#),
            ["name", "payments", "and", "api", "or", "x", "2"]
        );
        assert!(terms(&mut a, "\"\"\"::(()))*~").is_empty());
        assert_eq!(terms(&mut a, "Café CAFÉ"), ["cafe"]);
        let many = "w ".repeat(100) + &(0..100).map(|i| format!("t{i} ")).collect::<String>();
        assert_eq!(terms(&mut a, &many).len(), MAX_TERMS);
    }

    #[test]
    fn edit_distance() {
        assert!(within_edits("payments", "paymetns", 1));
        assert!(within_edits("payments", "payment", 1));
        assert!(!within_edits("payments", "pay", 2));
        assert!(within_edits("kafka", "kafka", 0));
        assert_eq!(fuzzy_distance("api"), 0);
        assert_eq!(fuzzy_distance("kafka"), 1);
        assert_eq!(fuzzy_distance("inventory"), 2);
    }

    #[test]
    fn requests_are_bounded() {
        let mut r = SearchRequest::new(&"x".repeat(10_000));
        assert_eq!(r.text.len(), MAX_QUERY_BYTES);
        for i in 0..100 {
            r.filter(Dimension::Tag, &format!("T{i}"));
        }
        assert_eq!(r.values(Dimension::Tag).len(), MAX_FILTER_VALUES);
        assert_eq!(r.values(Dimension::Tag)[0], "t0");
        r.limit = 10_000;
        assert_eq!(r.page().ok(), Some((0, MAX_PAGE_SIZE)));
        r.offset = MAX_OFFSET + 1;
        assert!(r.page().is_err());
    }
}
