//! EDN as conftest reads it (olympos.io/encoding/edn, then its clean-up): maps are objects
//! whose keys are printed (`:env`), vectors and lists are arrays, sets are objects of `"true"`,
//! strings stay strings and every other scalar is printed as Go's `%v` prints it (`:debug`,
//! `5432`, `true`, `<nil>`). Read with edn-rs.

use edn_rs::Edn;
use serde_json::{Map, Value};

use crate::FormatError;

pub(crate) fn parse(text: &str) -> Result<Value, FormatError> {
    let edn: Edn = text
        .parse()
        .map_err(|e: edn_rs::EdnError| FormatError::Syntax {
            format: "EDN",
            line: 1,
            column: 1,
            message: format!("{e:?}"),
        })?;
    Ok(value(&edn))
}

fn value(edn: &Edn) -> Value {
    match edn {
        Edn::Map(map) => Value::Object(
            map.clone()
                .to_map()
                .iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect::<Map<_, _>>(),
        ),
        Edn::Set(set) => Value::Object(
            set.clone()
                .to_set()
                .iter()
                .map(|item| (scalar(item), Value::String("true".into())))
                .collect::<Map<_, _>>(),
        ),
        Edn::Vector(items) => Value::Array(items.clone().to_vec().iter().map(value).collect()),
        Edn::List(items) => Value::Array(items.clone().to_vec().iter().map(value).collect()),
        Edn::Str(s) => Value::String(s.clone()),
        other => Value::String(scalar(other)),
    }
}

/// Go's `%v` of a decoded EDN scalar.
fn scalar(edn: &Edn) -> String {
    match edn {
        Edn::Key(k) => k.clone(),
        Edn::Symbol(s) | Edn::Str(s) | Edn::Rational(s) => s.clone(),
        Edn::Int(i) => i.to_string(),
        Edn::UInt(u) => u.to_string(),
        Edn::Double(d) => d.to_string(),
        // A Go rune prints as its number.
        Edn::Char(c) => u32::from(*c).to_string(),
        Edn::Bool(b) => b.to_string(),
        Edn::Nil | Edn::Empty => "<nil>".into(),
        Edn::Tagged(_, inner) => scalar(inner),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn conftest_shape() {
        let text = ";; config\n{:env :development\n :log :debug\n :db {:port 5432 :user \"me\"}\n :features #{:a :b} #_:all\n :hosts [\"x\" \"y\"]\n :ok true :none nil}\n";
        assert_eq!(
            super::parse(text).unwrap(),
            json!({
                ":env": ":development",
                ":log": ":debug",
                ":db": {":port": "5432", ":user": "me"},
                ":features": {":a": "true", ":b": "true"},
                ":hosts": ["x", "y"],
                ":ok": "true",
                ":none": "<nil>"
            })
        );
        assert!(super::parse("{:a ").is_err());
    }
}
