//! Backstage's filter predicates (`@backstage/filter-predicates`), the `query` of
//! `POST /entities/by-query`, `POST /entity-facets` and `POST /entities/by-refs`:
//!
//! ```json
//! {"$all": [{"kind": "component"}, {"$not": {"spec.lifecycle": {"$in": ["experimental"]}}}]}
//! ```
//!
//! They are evaluated on the same search rows as `filter=`, the way Backstage's catalog
//! backend translates them to SQL over its `search` table
//! (`applyPredicateEntityFilterToQuery`): keys and values compare without case, numbers and
//! booleans as their text, arrays match when any item does, `relations.<type>` holds
//! relation targets. The messages for malformed predicates follow Backstage's.

use serde_json::Value;

use super::QueryError;

/// How deep predicates may nest, and how many nodes one may have: a request's work stays
/// bounded whatever its body holds.
const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 10_000;

/// A parsed predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// Every one matches (`$all`; an empty list matches everything).
    All(Vec<Predicate>),
    /// At least one matches (`$any`; an empty list matches nothing).
    Any(Vec<Predicate>),
    /// The inner one does not match (`$not`).
    Not(Box<Predicate>),
    /// Every field matches its matcher (an empty object matches everything).
    Fields(Vec<(String, Matcher)>),
}

/// What a field's values must satisfy. Keys and values are lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// A value equal to this (a primitive).
    Equals(String),
    /// `$contains` of a primitive: an array item equal to this. On the search rows, where an
    /// array's items are rows of their own, this is [`Matcher::Equals`].
    Contains(String),
    /// The field is present (`true`) or absent (`false`).
    Exists(bool),
    /// A value equal to one of these.
    In(Vec<String>),
    /// A value starting with this.
    HasPrefix(String),
    /// `relations: {$contains: {type, targetRef}}`: a relation of `key` (`relations.<type>`)
    /// to one of `targets`, or to anything when `None`.
    Relation {
        key: String,
        targets: Option<Vec<String>>,
    },
}

impl Predicate {
    /// Parses a predicate from its JSON form.
    ///
    /// # Errors
    /// When the value is not a predicate Backstage accepts, with its message.
    pub fn parse(value: &Value) -> Result<Predicate, QueryError> {
        let mut nodes = 0;
        parse(value, 0, &mut nodes)
    }
}

fn invalid(message: String) -> QueryError {
    QueryError::InvalidQuery(message)
}

fn too_large() -> QueryError {
    invalid(format!(
        "the query predicate is too large (at most {MAX_DEPTH} levels and {MAX_NODES} expressions)"
    ))
}

fn parse(value: &Value, depth: usize, nodes: &mut usize) -> Result<Predicate, QueryError> {
    *nodes += 1;
    if depth > MAX_DEPTH || *nodes > MAX_NODES {
        return Err(too_large());
    }
    let Value::Object(map) = value else {
        return Err(invalid(format!(
            "top-level primitive values are not supported. Wrap the value in a field expression, e.g. {{ \"kind\": {value} }}"
        )));
    };
    if map.keys().any(|k| k.starts_with('$')) {
        let single = map.len() == 1;
        return match map.iter().next() {
            Some((op, Value::Array(items))) if single && (op == "$all" || op == "$any") => {
                let items = items
                    .iter()
                    .map(|item| parse(item, depth + 1, nodes))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "$all" {
                    Predicate::All(items)
                } else {
                    Predicate::Any(items)
                })
            }
            Some((op, inner)) if single && op == "$not" => {
                Ok(Predicate::Not(Box::new(parse(inner, depth + 1, nodes)?)))
            }
            _ => Err(invalid(format!(
                "operators must be a single $all or $any with an array, or $not, but got {value}"
            ))),
        };
    }
    let mut fields = Vec::with_capacity(map.len());
    for (key, value) in map {
        // Every field and every `$in` value is work (a lookup, a scan for `$hasPrefix`):
        // they count as expressions, so one object of many keys is bounded too.
        let values = value
            .get("$in")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        *nodes = nodes.saturating_add(1 + values);
        if *nodes > MAX_NODES {
            return Err(too_large());
        }
        let key = key.to_lowercase();
        let matcher = matcher(&key, value)?;
        fields.push((key, matcher));
    }
    Ok(Predicate::Fields(fields))
}

/// A primitive's text as the search table holds it (`7`, `true`, lower-cased strings).
fn primitive(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn matcher(key: &str, value: &Value) -> Result<Matcher, QueryError> {
    if let Some(text) = primitive(value) {
        return Ok(Matcher::Equals(text));
    }
    let unknown = || {
        invalid(format!(
            "invalid filter predicate value for field \"{key}\": expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got {value}"
        ))
    };
    let Value::Object(map) = value else {
        return Err(unknown());
    };
    if map.len() != 1 {
        return Err(unknown());
    }
    let Some((op, operand)) = map.iter().next() else {
        return Err(unknown());
    };
    match (op.as_str(), operand) {
        ("$exists", Value::Bool(b)) => Ok(Matcher::Exists(*b)),
        ("$in", Value::Array(items)) => items
            .iter()
            .map(|item| primitive(item).ok_or_else(unknown))
            .collect::<Result<Vec<_>, _>>()
            .map(Matcher::In),
        ("$hasPrefix", Value::String(prefix)) => Ok(Matcher::HasPrefix(prefix.to_lowercase())),
        ("$contains", target) => {
            if let Some(text) = primitive(target) {
                return Ok(Matcher::Contains(text));
            }
            match target {
                Value::Object(target) if key == "relations" => relation(target),
                Value::Object(_) => Err(invalid(format!(
                    "object form of $contains is not supported for field \"{key}\""
                ))),
                other => Err(invalid(format!(
                    "unsupported $contains target for field \"{key}\": {other}"
                ))),
            }
        }
        _ => Err(unknown()),
    }
}

fn relation(target: &serde_json::Map<String, Value>) -> Result<Matcher, QueryError> {
    let mut kind = None;
    let mut targets = None;
    for (raw, value) in target {
        match raw.to_lowercase().as_str() {
            "type" => match value {
                Value::String(s) if kind.is_none() => kind = Some(s.to_lowercase()),
                Value::String(_) => {
                    return Err(invalid(format!(
                        "duplicate key \"{raw}\" in $contains for \"relations\""
                    )));
                }
                _ => {
                    return Err(invalid(
                        "the $contains operator for \"relations\" requires a \"type\" string property"
                            .into(),
                    ));
                }
            },
            "targetref" if targets.is_none() => {
                targets = Some(match value {
                    Value::String(s) => vec![s.to_lowercase()],
                    Value::Object(m) if m.len() == 1 => match m.get("$in") {
                        Some(Value::Array(items)) if !items.is_empty() => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_lowercase))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| bad_relation_target(value))?,
                        Some(Value::Array(_)) => {
                            return Err(invalid(
                                "empty \"$in\" array for $contains on \"relations\" is not allowed"
                                    .into(),
                            ));
                        }
                        _ => return Err(bad_relation_target(value)),
                    },
                    _ => return Err(bad_relation_target(value)),
                });
            }
            "targetref" => {
                return Err(invalid(format!(
                    "duplicate key \"{raw}\" in $contains for \"relations\""
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "unsupported key \"{raw}\" in $contains for \"relations\". Only \"type\" and \"targetRef\" are supported"
                )));
            }
        }
    }
    let kind = kind.ok_or_else(|| {
        invalid(
            "the $contains operator for \"relations\" requires a \"type\" string property".into(),
        )
    })?;
    Ok(Matcher::Relation {
        key: format!("relations.{kind}"),
        targets,
    })
}

fn bad_relation_target(value: &Value) -> QueryError {
    invalid(format!(
        "unsupported value in $contains for \"relations\": expected a string or {{ \"$in\": [strings] }}, but got {value}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_operators_and_matchers() {
        let p = Predicate::parse(&json!({"$all": [
            {"Kind": "Component", "spec.type": {"$in": ["service", 7, true]}},
            {"$not": {"metadata.tags": {"$contains": "Java"}}},
            {"$any": [{"spec.owner": {"$exists": false}}, {"metadata.name": {"$hasPrefix": "Pay"}}]},
            {"relations": {"$contains": {"type": "ownedBy", "targetRef": {"$in": ["group:default/A"]}}}},
        ]}))
        .unwrap();
        assert_eq!(
            p,
            Predicate::All(vec![
                Predicate::Fields(vec![
                    ("kind".into(), Matcher::Equals("component".into())),
                    (
                        "spec.type".into(),
                        Matcher::In(vec!["service".into(), "7".into(), "true".into()])
                    ),
                ]),
                Predicate::Not(Box::new(Predicate::Fields(vec![(
                    "metadata.tags".into(),
                    Matcher::Contains("java".into())
                )]))),
                Predicate::Any(vec![
                    Predicate::Fields(vec![("spec.owner".into(), Matcher::Exists(false))]),
                    Predicate::Fields(vec![(
                        "metadata.name".into(),
                        Matcher::HasPrefix("pay".into())
                    )]),
                ]),
                Predicate::Fields(vec![(
                    "relations".into(),
                    Matcher::Relation {
                        key: "relations.ownedby".into(),
                        targets: Some(vec!["group:default/a".into()])
                    }
                )]),
            ])
        );
    }

    #[test]
    fn refuses_what_backstage_refuses() {
        let cases = [
            (json!("component"), "top-level primitive"),
            (json!([{"kind": "x"}]), "top-level primitive"),
            (
                json!({"$all": [], "kind": "x"}),
                "operators must be a single",
            ),
            (json!({"$all": {"kind": "x"}}), "operators must be a single"),
            (json!({"$foo": []}), "operators must be a single"),
            (json!({"kind": null}), "expected a primitive value"),
            (
                json!({"kind": {"$regex": "x"}}),
                "expected a primitive value",
            ),
            (
                json!({"kind": {"$in": [{"a": 1}]}}),
                "expected a primitive value",
            ),
            (
                json!({"spec": {"$contains": {"a": 1}}}),
                "object form of $contains",
            ),
            (
                json!({"relations": {"$contains": {"targetRef": "x"}}}),
                "requires a \"type\"",
            ),
            (
                json!({"relations": {"$contains": {"type": "ownedBy", "x": 1}}}),
                "unsupported key",
            ),
            (
                json!({"relations": {"$contains": {"type": "a", "targetRef": {"$in": []}}}}),
                "empty \"$in\"",
            ),
        ];
        for (value, expected) in cases {
            let err = Predicate::parse(&value).unwrap_err().to_string();
            assert!(err.contains(expected), "{value}: {err}");
        }
    }

    #[test]
    fn deep_or_huge_predicates_are_refused() {
        let mut deep = json!({"kind": "x"});
        for _ in 0..40 {
            deep = json!({"$not": deep});
        }
        assert!(
            Predicate::parse(&deep)
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
        let wide = json!({"$any": vec![json!({"kind": "x"}); 6000]});
        assert!(
            Predicate::parse(&wide)
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
        // Fields of one object and `$in` values count as well.
        let keys: serde_json::Map<String, Value> = (0..12_000)
            .map(|i| (format!("k{i}"), json!({"$hasPrefix": "a"})))
            .collect();
        let values = json!({"kind": {"$in": vec!["x"; 12_000]}});
        for huge in [Value::Object(keys), values] {
            assert!(
                Predicate::parse(&huge)
                    .unwrap_err()
                    .to_string()
                    .contains("too large")
            );
        }
        let fine = json!({"$any": vec![json!({"kind": {"$in": ["a", "b"]}}); 1000]});
        assert!(Predicate::parse(&fine).is_ok());
    }
}
