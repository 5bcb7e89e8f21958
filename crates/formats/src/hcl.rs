//! HCL2 (`.tf`, `.hcl`, `.tfvars`) in the shape conftest gives it (tmccombs/hcl2json):
//! attributes are keys; a block `type "l1" "l2" { … }` is `type.l1.l2`, an array of the
//! bodies of every such block; literal expressions are JSON values; any other expression is
//! its source text wrapped in `${…}` (a reference, a function call), and a template string
//! keeps its text (`"web-${var.env}"`).

use hcl::expr::{Expression, ObjectKey, TemplateExpr};
use hcl::{Body, Structure};
use serde_json::{Map, Value};

use crate::FormatError;

pub(crate) fn parse(text: &str) -> Result<Value, FormatError> {
    body_value(&read(text)?)
}

/// HCL1 in the shape hashicorp/hcl v1 decodes it into (conftest's `hcl1` parser): every
/// block and every object is a list of maps — `provider "google" { … }` is
/// `provider: [{google: [{…}]}]`, `tags = {a = 1}` is `tags: [{a: 1}]`. The text is read
/// with the HCL2 parser, which reads the HCL1 that configuration files are written in
/// (attributes, blocks with labels, `"${…}"` strings).
pub(crate) fn parse_hcl1(text: &str) -> Result<Value, FormatError> {
    Ok(hcl1_body(&read(text)?))
}

fn hcl1_body(body: &Body) -> Value {
    let mut out = Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                out.insert(attr.key.to_string(), hcl1_expression(&attr.expr));
            }
            Structure::Block(block) => {
                let mut value = hcl1_body(&block.body);
                for label in block.labels.iter().rev() {
                    let mut wrapper = Map::new();
                    wrapper.insert(label.as_str().to_owned(), Value::Array(vec![value]));
                    value = Value::Object(wrapper);
                }
                match out
                    .entry(block.identifier.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(items) => items.push(value),
                    other => *other = Value::Array(vec![value]),
                }
            }
        }
    }
    Value::Object(out)
}

fn hcl1_expression(expr: &Expression) -> Value {
    match expr {
        Expression::Array(items) => Value::Array(items.iter().map(hcl1_expression).collect()),
        Expression::Object(object) => Value::Array(vec![Value::Object(
            object
                .iter()
                .map(|(k, v)| (object_key(k), hcl1_expression(v)))
                .collect(),
        )]),
        other => expression(other),
    }
}

fn read(text: &str) -> Result<Body, FormatError> {
    hcl::parse(text).map_err(|e| match &e {
        hcl::Error::Parse(p) => FormatError::Syntax {
            format: "HCL",
            line: u32::try_from(p.location().line()).unwrap_or(u32::MAX),
            column: u32::try_from(p.location().column()).unwrap_or(u32::MAX),
            message: p.message().to_owned(),
        },
        other => FormatError::Syntax {
            format: "HCL",
            line: 1,
            column: 1,
            message: other.to_string(),
        },
    })
}

fn body_value(body: &Body) -> Result<Value, FormatError> {
    let mut out = Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                out.insert(attr.key.to_string(), expression(&attr.expr));
            }
            Structure::Block(block) => {
                let mut keys: Vec<String> = vec![block.identifier.to_string()];
                keys.extend(block.labels.iter().map(|l| l.as_str().to_owned()));
                let value = body_value(&block.body)?;
                insert_block(&mut out, &keys, value)?;
            }
        }
    }
    Ok(Value::Object(out))
}

fn insert_block(
    out: &mut Map<String, Value>,
    keys: &[String],
    value: Value,
) -> Result<(), FormatError> {
    let Some((last, path)) = keys.split_last() else {
        return Ok(());
    };
    let mut current = out;
    for key in path {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        current = match entry {
            Value::Object(map) => map,
            _ => {
                return Err(conflict(keys));
            }
        };
    }
    match current
        .entry(last.clone())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) => {
            items.push(value);
            Ok(())
        }
        _ => Err(conflict(keys)),
    }
}

fn conflict(keys: &[String]) -> FormatError {
    FormatError::Syntax {
        format: "HCL",
        line: 1,
        column: 1,
        message: format!(
            "block {} clashes with an attribute or a block with more labels of the same name",
            keys.join(".")
        ),
    }
}

fn expression(expr: &Expression) -> Value {
    match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Expression::String(s) => Value::String(s.clone()),
        Expression::Array(items) => Value::Array(items.iter().map(expression).collect()),
        Expression::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| (object_key(k), expression(v)))
                .collect(),
        ),
        Expression::TemplateExpr(template) => Value::String(match template.as_ref() {
            TemplateExpr::QuotedString(s) => s.clone(),
            TemplateExpr::Heredoc(h) => h.template.clone(),
        }),
        Expression::Parenthesis(inner) => expression(inner),
        other => Value::String(format!("${{{}}}", source(other))),
    }
}

fn object_key(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(id) => id.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(other) => match expression(other) {
            Value::String(s) => s,
            v => v.to_string(),
        },
        _ => String::new(),
    }
}

/// An expression as HCL text (hcl2json uses the source bytes; hcl-rs formats the same
/// expression, identical for references and calls written in the usual style).
fn source(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn hcl2json_shape() {
        let text = r#"
resource "aws_alb_listener" "my-alb-listener" {
  port     = "80"
  protocol = "HTTP"
}
resource "aws_db_security_group" "my-group" {
}
resource "azurerm_managed_disk" "source" {
  encryption_settings {
    enabled = false
  }
}
variable "env" {}
locals {
  name  = "web-${var.env}"
  ref   = var.env
  call  = lower("X")
  n     = 3
  list  = ["0.0.0.0/0", 1, true]
  tags  = { owner = "devops", "cost-center" = 1 }
}
"#;
        assert_eq!(
            super::parse(text).unwrap(),
            json!({
                "resource": {
                    "aws_alb_listener": {"my-alb-listener": [{"port": "80", "protocol": "HTTP"}]},
                    "aws_db_security_group": {"my-group": [{}]},
                    "azurerm_managed_disk": {"source": [{"encryption_settings": [{"enabled": false}]}]}
                },
                "variable": {"env": [{}]},
                "locals": [{
                    "name": "web-${var.env}",
                    "ref": "${var.env}",
                    "call": "${lower(\"X\")}",
                    "n": 3,
                    "list": ["0.0.0.0/0", 1, true],
                    "tags": {"owner": "devops", "cost-center": 1}
                }]
            })
        );
    }

    #[test]
    fn hcl1_shape() {
        let text = "provider \"google\" {\n  project = \"instrumenta\"\n}\nresource \"a\" \"b\" {\n  tags = { owner = \"x\" }\n  cluster = \"${google.name}\"\n}\nresource \"c\" \"d\" {}\n";
        assert_eq!(
            super::parse_hcl1(text).unwrap(),
            json!({
                "provider": [{"google": [{"project": "instrumenta"}]}],
                "resource": [
                    {"a": [{"b": [{"tags": [{"owner": "x"}], "cluster": "${google.name}"}]}]},
                    {"c": [{"d": [{}]}]}
                ]
            })
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = super::parse("a = 1\nb = {\n").unwrap_err();
        assert!(err.position().is_some(), "{err}");
        assert!(err.to_string().contains("invalid HCL"), "{err}");
    }
}
