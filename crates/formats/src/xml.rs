//! XML as conftest reads it (basgys/goxml2json): the root element is the top key; an
//! element with only text is its text (trimmed; `""` when empty); an element with attributes
//! or children is an object with `-attr` keys for attributes, child names as keys (an array
//! when a name repeats) and `#content` for its text. Namespaces are dropped (local names),
//! values stay strings. Unlike goxml2json, malformed XML is an error with its position rather
//! than a silently truncated document.

use serde_json::{Map, Value};

use crate::FormatError;

pub(crate) fn parse(text: &str) -> Result<Value, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        FormatError::Syntax {
            format: "XML",
            line: pos.row,
            column: pos.col,
            message: e.to_string(),
        }
    })?;
    let root = doc.root_element();
    let mut top = Map::new();
    top.insert(root.tag_name().name().to_owned(), element(root));
    Ok(Value::Object(top))
}

fn element(node: roxmltree::Node<'_, '_>) -> Value {
    // goxml2json keeps the last run of character data it saw in the element.
    let mut data = String::new();
    // Go's decoder lists namespace declarations among the attributes (`xmlns`, `xmlns:xsi`
    // as `-xmlns`, `-xsi`); roxmltree keeps them apart, in scope for every descendant.
    let inherited: Vec<_> = node
        .parent_element()
        .map(|p| p.namespaces().collect())
        .unwrap_or_default();
    let mut children: Vec<(String, Value)> = node
        .namespaces()
        .filter(|ns| !inherited.contains(ns))
        .map(|ns| {
            let name = ns
                .name()
                .map_or_else(|| "-xmlns".to_owned(), |p| format!("-{p}"));
            (name, Value::String(ns.uri().to_owned()))
        })
        .chain(node.attributes().map(|a| {
            (
                format!("-{}", a.name()),
                Value::String(a.value().to_owned()),
            )
        }))
        .collect();
    for child in node.children() {
        if child.is_element() {
            children.push((child.tag_name().name().to_owned(), element(child)));
        } else if child.is_text() {
            data = trim_non_graphic(child.text().unwrap_or(""));
        }
    }
    if children.is_empty() {
        return Value::String(data);
    }
    let mut object = Map::new();
    if !data.is_empty() {
        object.insert("#content".into(), Value::String(data));
    }
    for (name, value) in children {
        match object.get_mut(&name) {
            // Element values are strings or objects: an array was made by a repeated name.
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = std::mem::take(existing);
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                object.insert(name, value);
            }
        }
    }
    Value::Object(object)
}

/// Leading and trailing spaces and non-graphic characters removed.
fn trim_non_graphic(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c.is_control())
        .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn goxml2json_shape() {
        let text = r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x">
  <version>1.0</version>
  <empty/>
  <build><plugins>
    <plugin><artifactId>a</artifactId><version>3.6.0</version></plugin>
    <plugin id="p2"><artifactId>b</artifactId></plugin>
  </plugins></build>
  <note lang="en">hello</note>
</project>"#;
        assert_eq!(
            super::parse(text).unwrap(),
            json!({"project": {
                "-xmlns": "http://maven.apache.org/POM/4.0.0",
                "-xsi": "http://www.w3.org/2001/XMLSchema-instance",
                "-schemaLocation": "x",
                "version": "1.0",
                "empty": "",
                "build": {"plugins": {"plugin": [
                    {"artifactId": "a", "version": "3.6.0"},
                    {"-id": "p2", "artifactId": "b"}
                ]}},
                "note": {"#content": "hello", "-lang": "en"}
            }})
        );
    }

    #[test]
    fn malformed_xml_is_an_error_with_a_position() {
        let err = super::parse("<a>\n  <b>\n</a>").unwrap_err();
        assert_eq!(err.position().map(|p| p.0), Some(3), "{err}");
    }
}
