//! Backstage's `filter=` syntax: `filter=kind=component,spec.type=service` ANDs the
//! conditions of one parameter; repeating `filter` ORs the sets. `key` alone tests existence.
//! Matching ignores case.

use serde::{Deserialize, Serialize};

use super::QueryError;

/// One condition: the key has one of `values`, or (no values) exists at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// Any of the sets matches when all of its conditions match.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntityFilter {
    pub any_of: Vec<Vec<Condition>>,
}

impl EntityFilter {
    /// A filter of one set of `key=value` conditions.
    pub fn all_of<'a>(conditions: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        EntityFilter {
            any_of: vec![
                conditions
                    .into_iter()
                    .map(|(k, v)| Condition {
                        key: k.to_lowercase(),
                        values: Some(vec![v.to_lowercase()]),
                    })
                    .collect(),
            ],
        }
    }

    /// Parses the values of repeated `filter` parameters; `None` when there is nothing to filter.
    pub fn parse(params: &[impl AsRef<str>]) -> Result<Option<Self>, QueryError> {
        let mut any_of = Vec::new();
        for param in params {
            if let Some(set) = parse_one(param.as_ref())? {
                any_of.push(set);
            }
        }
        Ok((!any_of.is_empty()).then_some(EntityFilter { any_of }))
    }
}

fn parse_one(param: &str) -> Result<Option<Vec<Condition>>, QueryError> {
    let mut conditions: Vec<Condition> = Vec::new();
    for statement in param.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = match statement.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (statement, None),
        };
        if key.is_empty() {
            return Err(QueryError::InvalidFilter(format!(
                "'{statement}' is not a valid statement (expected a string on the form a=b or a= or a)"
            )));
        }
        let key = key.to_lowercase();
        // Repeating a key inside one filter means "any of these values".
        let index = match conditions.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                conditions.push(Condition { key, values: None });
                conditions.len() - 1
            }
        };
        if let Some(value) = value {
            conditions[index]
                .values
                .get_or_insert_with(Vec::new)
                .push(value.to_lowercase());
        }
    }
    Ok((!conditions.is_empty()).then_some(conditions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_or_existence_and_repeats() {
        let f = EntityFilter::parse(&[
            "kind=Component, spec.type=service",
            "metadata.tags.java",
            "kind=api,kind=system",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(f.any_of.len(), 3);
        assert_eq!(
            f.any_of[0],
            vec![
                Condition {
                    key: "kind".into(),
                    values: Some(vec!["component".into()])
                },
                Condition {
                    key: "spec.type".into(),
                    values: Some(vec!["service".into()])
                },
            ]
        );
        assert_eq!(
            f.any_of[1],
            vec![Condition {
                key: "metadata.tags.java".into(),
                values: None
            }]
        );
        assert_eq!(
            f.any_of[2][0].values,
            Some(vec!["api".into(), "system".into()])
        );
        assert_eq!(EntityFilter::parse(&[" , "]).unwrap(), None);
        assert!(EntityFilter::parse(&["=x"]).is_err());
    }

    #[test]
    fn value_may_contain_equals_and_be_empty() {
        let f = EntityFilter::parse(&["metadata.annotations.x=a=b,spec.owner="])
            .unwrap()
            .unwrap();
        assert_eq!(f.any_of[0][0].values, Some(vec!["a=b".into()]));
        assert_eq!(f.any_of[0][1].values, Some(vec![String::new()]));
    }
}
