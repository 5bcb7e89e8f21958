//! How much work one catalog request may ask for. Every repeatable parameter of the API
//! (`facet`, `filter`, `fields`, `order`, `orderField`, `fullTextFilterFields`) is
//! de-duplicated — a repeat asks for nothing new, so it must cost nothing — and then capped,
//! and a request past a cap is refused before any work with a message that names the limit
//! (`at most 20 facets per request; got 4,000`). Backstage sets no such caps; they are far
//! above what its clients send (the catalog UI asks for one facet per picker, a handful of
//! filters and fields).

use std::collections::HashSet;

/// A request that asks for more than a limit allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at most {} {what} per request; got {}", thousands(*limit), thousands(*got))]
pub struct LimitExceeded {
    /// What is counted, plural (`facets`, `filter conditions`).
    pub what: &'static str,
    pub limit: usize,
    pub got: usize,
}

/// The caps; [`RequestLimits::default`] is what `pave serve` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Query parameters of one request, repeats included.
    pub parameters: usize,
    /// Distinct `facet` values (or `facets` of a `POST /entity-facets` body).
    pub facets: usize,
    /// Distinct `filter` parameters (each one a set of conditions, ORed together).
    pub filters: usize,
    /// `key=value` conditions in all `filter` parameters together.
    pub filter_conditions: usize,
    /// Field paths in all `fields` parameters together.
    pub fields: usize,
    /// Distinct `order`/`orderField` parameters.
    pub order_fields: usize,
    /// Field paths in all `fullTextFilterFields` parameters together.
    pub text_fields: usize,
    /// Characters of `fullTextFilterTerm`.
    pub text_chars: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            parameters: 1_000,
            facets: 20,
            filters: 100,
            filter_conditions: 1_000,
            fields: 100,
            order_fields: 10,
            text_fields: 20,
            text_chars: 1_000,
        }
    }
}

/// How a repeatable parameter is counted.
enum Count {
    /// Each distinct value is one item.
    Values,
    /// Each comma-separated, non-empty part of every value is one item.
    Parts,
    /// Characters of each value (the largest counts).
    Chars,
}

impl RequestLimits {
    /// The limits of the catalog API's parameters: (parameter, how counted, what, limit).
    fn rules(&self) -> [(&'static str, Count, &'static str, usize); 8] {
        [
            ("facet", Count::Values, "facets", self.facets),
            ("filter", Count::Values, "filter parameters", self.filters),
            (
                "filter",
                Count::Parts,
                "filter conditions",
                self.filter_conditions,
            ),
            ("fields", Count::Parts, "fields", self.fields),
            ("order", Count::Values, "order fields", self.order_fields),
            (
                "orderField",
                Count::Values,
                "order fields",
                self.order_fields,
            ),
            (
                "fullTextFilterFields",
                Count::Parts,
                "full-text fields",
                self.text_fields,
            ),
            (
                "fullTextFilterTerm",
                Count::Chars,
                "characters of full-text search",
                self.text_chars,
            ),
        ]
    }

    /// Drops repeated `name=value` pairs (the first of each stays, in order), then checks
    /// every cap. Pure: the caller has decoded the query string already.
    ///
    /// # Errors
    /// The first limit the request goes past.
    pub fn tidy_params(
        &self,
        pairs: Vec<(String, String)>,
    ) -> Result<Vec<(String, String)>, LimitExceeded> {
        let raw = pairs.len();
        let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(raw.min(4096));
        let mut keep = Vec::with_capacity(raw);
        for (i, (name, value)) in pairs.iter().enumerate() {
            keep.push(seen.insert((name.as_str(), value.as_str())).then_some(i));
        }
        drop(seen);
        let tidy: Vec<(String, String)> = pairs
            .into_iter()
            .zip(keep)
            .filter_map(|(pair, keep)| keep.map(|_| pair))
            .collect();
        // Named limits first: they say more than the overall count does.
        for (name, count, what, limit) in self.rules() {
            let values = tidy.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
            let got = match count {
                Count::Values => values.count(),
                Count::Parts => values
                    .flat_map(|v| v.split(','))
                    .filter(|p| !p.trim().is_empty())
                    .count(),
                Count::Chars => values.map(|v| v.chars().count()).max().unwrap_or(0),
            };
            check(what, got, limit)?;
        }
        check("query parameters", raw, self.parameters)?;
        Ok(tidy)
    }

    /// De-duplicates a list from a request body (`facets`, `fields`), keeping the first of
    /// each in order, and caps it.
    ///
    /// # Errors
    /// More than `limit` distinct items.
    pub fn tidy_list(
        what: &'static str,
        items: Vec<String>,
        limit: usize,
    ) -> Result<Vec<String>, LimitExceeded> {
        let mut seen: HashSet<&str> = HashSet::with_capacity(items.len().min(4096));
        let keep: Vec<bool> = items.iter().map(|i| seen.insert(i.as_str())).collect();
        drop(seen);
        let items: Vec<String> = items
            .into_iter()
            .zip(keep)
            .filter_map(|(item, keep)| keep.then_some(item))
            .collect();
        check(what, items.len(), limit)?;
        Ok(items)
    }
}

/// `Err` when `got` is over `limit`.
///
/// # Errors
/// [`LimitExceeded`] naming `what`.
pub fn check(what: &'static str, got: usize, limit: usize) -> Result<(), LimitExceeded> {
    if got > limit {
        return Err(LimitExceeded { what, limit, got });
    }
    Ok(())
}

/// `4000` → `4,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn repeat(part: &str, n: usize) -> String {
        vec![part; n].join("&")
    }

    fn numbered(name: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{name}=f{i}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn limits_name_what_was_asked() {
        let limits = RequestLimits::default();
        // (query, the error's message, or None when accepted)
        let cases: Vec<(String, Option<&str>)> = vec![
            ("facet=kind&facet=spec.type".into(), None),
            (numbered("facet", 20), None),
            (
                numbered("facet", 4000),
                Some("at most 20 facets per request; got 4,000"),
            ),
            // Repeats of one value cost nothing, up to the overall count.
            (repeat("facet=kind", 1000), None),
            (
                repeat("facet=kind", 3600),
                Some("at most 1,000 query parameters per request; got 3,600"),
            ),
            (
                numbered("filter", 101),
                Some("at most 100 filter parameters per request; got 101"),
            ),
            (
                format!("filter={}", vec!["kind=a"; 1001].join(",")),
                Some("at most 1,000 filter conditions per request; got 1,001"),
            ),
            (
                format!("fields={}", vec!["kind"; 101].join(",")),
                Some("at most 100 fields per request; got 101"),
            ),
            (
                numbered("order", 11),
                Some("at most 10 order fields per request; got 11"),
            ),
            (
                numbered("orderField", 11),
                Some("at most 10 order fields per request; got 11"),
            ),
            (
                format!("fullTextFilterFields={}", vec!["a"; 21].join(",")),
                Some("at most 20 full-text fields per request; got 21"),
            ),
            (
                format!("fullTextFilterTerm={}", "é".repeat(1001)),
                Some("at most 1,000 characters of full-text search per request; got 1,001"),
            ),
            (format!("fullTextFilterTerm={}", "é".repeat(1000)), None),
            // Parameters that are not capped only count towards the total.
            (numbered("limit", 999), None),
        ];
        for (query, want) in cases {
            let got = limits.tidy_params(pairs(&query));
            match want {
                None => assert!(got.is_ok(), "{}…: {got:?}", &query[..40.min(query.len())]),
                Some(message) => assert_eq!(
                    got.map(|_| ()).unwrap_err().to_string(),
                    message,
                    "{}…",
                    &query[..40.min(query.len())]
                ),
            }
        }
    }

    #[test]
    fn repeats_are_dropped_in_order() {
        let tidy = RequestLimits::default()
            .tidy_params(pairs(
                "facet=kind&filter=a=b&facet=kind&facet=Kind&filter=a=b&limit=1",
            ))
            .unwrap();
        assert_eq!(
            tidy,
            pairs("facet=kind&filter=a=b&facet=Kind&limit=1"),
            "exact repeats go, other spellings stay"
        );
        let list = RequestLimits::tidy_list(
            "facets",
            vec!["kind".into(), "kind".into(), "spec.type".into()],
            2,
        )
        .unwrap();
        assert_eq!(list, vec!["kind".to_owned(), "spec.type".to_owned()]);
        let err = RequestLimits::tidy_list("facets", vec!["a".into(), "b".into()], 1).unwrap_err();
        assert_eq!(err.to_string(), "at most 1 facets per request; got 2");
    }

    #[test]
    fn thousands_are_grouped() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (123_456, "123,456"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), text);
        }
    }
}
