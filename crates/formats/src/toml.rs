//! TOML as conftest reads it (BurntSushi/toml into `map[string]any`, then JSON): tables are
//! objects, arrays of tables are arrays, dates and times are their RFC 3339 text.

use serde_json::{Map, Number, Value};
use toml_edit::{DocumentMut, Item, Table};

use crate::FormatError;

pub(crate) fn parse(text: &str) -> Result<Value, FormatError> {
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_owned();
        FormatError::at("TOML", text, offset, message)
    })?;
    Ok(table(doc.as_table()))
}

fn table(t: &Table) -> Value {
    Value::Object(
        t.iter()
            .filter_map(|(k, item)| Some((k.to_owned(), self::item(item)?)))
            .collect::<Map<_, _>>(),
    )
}

fn item(item: &Item) -> Option<Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(value(v)),
        Item::Table(t) => Some(table(t)),
        Item::ArrayOfTables(a) => Some(Value::Array(a.iter().map(table).collect())),
    }
}

fn value(v: &toml_edit::Value) -> Value {
    match v {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        // Go's JSON encoder cannot write NaN or infinities either; null is the closest.
        toml_edit::Value::Float(f) => {
            Number::from_f64(*f.value()).map_or(Value::Null, Value::Number)
        }
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().map(value).collect()),
        toml_edit::Value::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_owned(), value(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn tables_arrays_and_dates() {
        let text = "title = \"x\"\nports = [80, 443]\n[server]\nenabled = true\nratio = 0.5\nstarted = 1979-05-27T07:32:00Z\n[[server.cert]]\nfile = \"a\"\n[[server.cert]]\nfile = \"b\"\n";
        assert_eq!(
            super::parse(text).unwrap(),
            json!({
                "title": "x",
                "ports": [80, 443],
                "server": {
                    "enabled": true,
                    "ratio": 0.5,
                    "started": "1979-05-27T07:32:00Z",
                    "cert": [{"file": "a"}, {"file": "b"}]
                }
            })
        );
    }

    #[test]
    fn errors_have_positions() {
        let err = super::parse("a = 1\nb = = 2\n").unwrap_err();
        assert_eq!(err.position().map(|p| p.0), Some(2), "{err}");
    }
}
