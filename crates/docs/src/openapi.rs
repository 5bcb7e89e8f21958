//! An OpenAPI 3.x document read for people (AsyncAPI and gRPC definitions are read into the
//! same [`ApiDoc`] by `asyncapi.rs` and `proto.rs`): operations grouped by tag, each with its method,
//! path, summary, parameters, request body and responses, schemas named by their `$ref`.
//! The portal renders it on an API entity's page (server-side, no client renderer).
//!
//! Definitions come from repositories pave does not control: the text is parsed with
//! pave-yaml's limits (depth, alias expansion), operations are capped, and a document that
//! is not OpenAPI 3 gives a message for the page, never an error page.

use serde_json::{Map, Value};

/// Operations listed at most; the rest are counted.
pub const MAX_OPERATIONS: usize = 2_000;

/// Definitions larger than this are not read (the raw text is still shown).
pub const MAX_DEFINITION_BYTES: usize = 4 * 1024 * 1024;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What kind of API a document describes, for the words the page uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiStyle {
    /// OpenAPI: operations on paths, with parameters.
    #[default]
    Rest,
    /// AsyncAPI: operations on channels, with message fields.
    Events,
    /// gRPC: methods of services, with message fields.
    Rpc,
    /// GraphQL: the fields of the root operation types, with arguments, then the types.
    Graph,
}

/// The document, ready to lay out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiDoc {
    pub style: ApiStyle,
    pub title: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub servers: Vec<String>,
    pub groups: Vec<OperationGroup>,
    /// Operations past [`MAX_OPERATIONS`], not listed.
    pub omitted: usize,
    /// The schema's other named types (GraphQL: objects, interfaces, inputs, enums, unions,
    /// scalars), in the document's order; empty for the other styles.
    pub types: Vec<TypeDoc>,
    /// Types past the GraphQL reader's cap, not listed.
    pub omitted_types: usize,
}

impl ApiDoc {
    pub fn operation_count(&self) -> usize {
        self.groups.iter().map(|g| g.operations.len()).sum()
    }

    /// The card's heading: `Operations`, `Channels` or `Methods`.
    pub fn heading(&self) -> &'static str {
        match self.style {
            ApiStyle::Rest => "Operations",
            ApiStyle::Events => "Channels",
            ApiStyle::Rpc => "Methods",
            ApiStyle::Graph => "Operations",
        }
    }

    /// The first column of an operation's table: `Parameter` or `Field`.
    pub fn field_heading(&self) -> &'static str {
        match self.style {
            ApiStyle::Rest => "Parameter",
            ApiStyle::Events | ApiStyle::Rpc => "Field",
            ApiStyle::Graph => "Argument",
        }
    }

    /// Whether operations' parameters say where they go (`In`: path, query, channel,
    /// request…); a GraphQL argument is always an argument.
    pub fn shows_location(&self) -> bool {
        self.style != ApiStyle::Graph
    }

    /// Fields (and enum values) listed across [`ApiDoc::types`].
    pub fn type_field_count(&self) -> usize {
        self.types.iter().map(|t| t.fields.len()).sum()
    }
}

/// A named type of a GraphQL schema, as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDoc {
    pub name: String,
    /// The SDL keyword: `type`, `interface`, `input`, `enum`, `union` or `scalar`.
    pub kind: &'static str,
    pub description: Option<String>,
    /// Interfaces an object type or interface implements.
    pub implements: Vec<String>,
    /// A union's member types.
    pub members: Vec<String>,
    /// Fields of objects, interfaces and inputs; an enum's values (with an empty `schema`).
    pub fields: Vec<TypeField>,
    /// Fields (or values, members) past the cap, not listed.
    pub omitted: usize,
    /// An `id` for the type on the page (`type-Name`), which return and field types link to.
    pub anchor: String,
}

/// One field of a [`TypeDoc`], or one enum value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeField {
    pub name: String,
    /// The type as written (`[ID!]!`); empty for an enum value.
    pub schema: String,
    /// The anchor of the named type inside `schema`, when the page lists that type.
    pub schema_anchor: Option<String>,
    /// A field's arguments as SDL (`first: Int = 10`).
    pub arguments: Vec<String>,
    /// An input field's default value, as written.
    pub default: Option<String>,
    pub description: Option<String>,
    /// `@deprecated`'s reason (GraphQL's default one when none is given).
    pub deprecated: Option<String>,
}

/// Operations sharing their first tag (untagged ones under "default", as Swagger UI does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationGroup {
    pub tag: String,
    pub description: Option<String>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Upper case: `GET`.
    pub method: String,
    pub path: String,
    pub operation_id: Option<String>,
    pub summary: Option<String>,
    pub deprecated: bool,
    /// Why it is deprecated, when the definition says (GraphQL's `@deprecated(reason:)`).
    pub deprecation: Option<String>,
    pub parameters: Vec<Parameter>,
    /// Media type and schema, e.g. `application/json: Order`.
    pub request_body: Vec<String>,
    /// The messages an event or RPC operation carries (AsyncAPI, gRPC), e.g.
    /// `OrderPlaced (application/json)`; empty for OpenAPI.
    pub messages: Vec<String>,
    pub responses: Vec<Response>,
    /// What a GraphQL field returns (`Repository`, `[Issue!]!`); `None` for the others.
    pub returns: Option<String>,
    /// The anchor of the named type `returns` names, when the page lists that type.
    pub returns_anchor: Option<String>,
    /// An `id` for the operation on the page.
    pub anchor: String,
}

impl Operation {
    /// The method as a class name: `get`, `subscribe`, `server-stream`.
    pub fn method_class(&self) -> String {
        self.method.to_ascii_lowercase().replace(' ', "-")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    pub required: bool,
    pub schema: String,
    /// A GraphQL argument's default value, as written; `None` for the others.
    pub default: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: String,
    pub description: String,
    pub schema: Option<String>,
}

/// Reads an OpenAPI 3.x document (YAML or JSON). The error is a sentence for the page,
/// with the line and column when the text is not YAML.
pub fn read_openapi(text: &str) -> Result<ApiDoc, String> {
    let root = read_document(text)?;
    let version = root.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with('3') {
        return Err(match root.get("swagger") {
            Some(_) => "a Swagger 2.0 document: only OpenAPI 3 is laid out".to_owned(),
            None => "not an OpenAPI 3 document (no `openapi: 3.x` field)".to_owned(),
        });
    }
    let info = root.get("info");
    let mut doc = ApiDoc {
        title: text_of(info, "title"),
        version: text_of(info, "version"),
        description: text_of(info, "description"),
        servers: root
            .get("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("url").and_then(Value::as_str))
            .map(str::to_owned)
            .collect(),
        ..ApiDoc::default()
    };
    let tag_descriptions: Vec<(String, Option<String>)> = root
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t.get("name")?.as_str()?.to_owned();
            Some((name, text_of(Some(t), "description")))
        })
        .collect();
    let empty = Map::new();
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut listed = 0usize;
    for (path, item) in paths {
        let item = resolve(&root, item);
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(op) = item.get(*method).filter(|o| o.is_object()) else {
                continue;
            };
            if listed == MAX_OPERATIONS {
                doc.omitted += 1;
                continue;
            }
            listed += 1;
            let tag = op
                .get("tags")
                .and_then(Value::as_array)
                .and_then(|t| t.first())
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned();
            let operation = operation(&root, method, path, op, shared);
            match doc.groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(operation),
                None => doc.groups.push(OperationGroup {
                    description: tag_descriptions
                        .iter()
                        .find(|(name, _)| *name == tag)
                        .and_then(|(_, d)| d.clone()),
                    tag,
                    operations: vec![operation],
                }),
            }
        }
    }
    // Groups in the order the document's `tags` list gives, then the rest as they came.
    let rank = |tag: &str| {
        tag_descriptions
            .iter()
            .position(|(name, _)| name == tag)
            .unwrap_or(usize::MAX)
    };
    doc.groups.sort_by_key(|g| rank(&g.tag));
    Ok(doc)
}

/// The first document of a YAML or JSON definition, within the size and parser limits; the
/// error is a sentence for the page.
pub(crate) fn read_document(text: &str) -> Result<Value, String> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(format!(
            "the definition is {} KiB; definitions over {} KiB are shown as text only",
            text.len() / 1024,
            MAX_DEFINITION_BYTES / 1024
        ));
    }
    let docs = pave_yaml::parse_documents(text, &pave_yaml::Limits::default()).map_err(|e| {
        let at = e.position();
        format!("line {}, column {}: {e}", at.line, at.column)
    })?;
    docs.into_iter()
        .next()
        .map(|d| d.value)
        .ok_or_else(|| "the definition is empty".to_owned())
}

/// `value[key]` as an owned string, when it is one.
pub(crate) fn text_of(value: Option<&Value>, key: &str) -> Option<String> {
    value
        .and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn operation(
    root: &Value,
    method: &str,
    path: &str,
    op: &Value,
    shared: Option<&Value>,
) -> Operation {
    let text = |key: &str| op.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut parameters: Vec<Parameter> = Vec::new();
    // The operation's own parameters override the path item's with the same name and place.
    for p in [shared, op.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        let p = resolve(root, p);
        let (Some(name), Some(location)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let parameter = Parameter {
            name: name.to_owned(),
            location: location.to_owned(),
            required: p
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(location == "path"),
            schema: p
                .get("schema")
                .map_or_else(|| "any".to_owned(), schema_name),
            default: None,
            description: p
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        parameters.retain(|q| !(q.name == parameter.name && q.location == parameter.location));
        parameters.push(parameter);
    }
    let request_body = op
        .get("requestBody")
        .map(|b| resolve(root, b))
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .map(|content| {
            content
                .iter()
                .map(|(media, m)| match m.get("schema") {
                    Some(s) => format!("{media}: {}", schema_name(s)),
                    None => media.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|responses| {
            responses
                .iter()
                .map(|(status, r)| {
                    let r = resolve(root, r);
                    Response {
                        status: status.clone(),
                        description: r
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        schema: r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().find_map(|m| m.get("schema")))
                            .map(schema_name),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let operation_id = text("operationId");
    Operation {
        anchor: anchor(method, path, operation_id.as_deref()),
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: text("summary").or_else(|| text("description")),
        deprecated: op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        operation_id,
        parameters,
        request_body,
        messages: Vec::new(),
        responses,
        deprecation: None,
        returns: None,
        returns_anchor: None,
    }
}

/// A local `$ref` (`#/components/...`) followed (a few hops at most: refs may chain, and a
/// loop must end); anything else as it is.
pub(crate) fn resolve<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..8 {
        let Some(target) = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        else {
            return current;
        };
        current = target;
    }
    current
}

/// A schema in a few words: its `$ref` name, `array of X`, its type (and format), or
/// `object`.
pub(crate) fn schema_name(schema: &Value) -> String {
    schema_words(schema, 0)
}

fn schema_words(schema: &Value, depth: usize) -> String {
    if depth > 4 {
        return "…".to_owned();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
            let words: Vec<String> = parts.iter().map(|p| schema_words(p, depth + 1)).collect();
            let joiner = if combinator == "allOf" { " & " } else { " | " };
            return words.join(joiner);
        }
    }
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "array" => match schema.get("items") {
            Some(items) => format!("array of {}", schema_words(items, depth + 1)),
            None => "array".to_owned(),
        },
        "" => {
            if schema.get("properties").is_some() {
                "object".to_owned()
            } else {
                "any".to_owned()
            }
        }
        other => match schema.get("format").and_then(Value::as_str) {
            Some(format) => format!("{other} ({format})"),
            None => other.to_owned(),
        },
    }
}

/// `operationId` when there is one, else the method and path, as an HTML id.
pub(crate) fn anchor(method: &str, path: &str, operation_id: Option<&str>) -> String {
    let raw = match operation_id {
        Some(id) => format!("op-{id}"),
        None => format!("op-{method}-{path}"),
    };
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETS: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: "1.2.0", description: Pets for sale.}
servers: [{url: "https://api.example.com/v1"}]
tags:
  - {name: store, description: What the shop sells}
  - {name: pets}
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, schema: {type: string}}
    get:
      tags: [pets]
      operationId: showPet
      summary: One pet
      parameters:
        - $ref: "#/components/parameters/Verbose"
      responses:
        "200":
          description: The pet
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
        default: {$ref: "#/components/responses/Error"}
  /pets:
    post:
      tags: [pets]
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
      responses: {"201": {description: Created}}
    get:
      tags: [pets]
      deprecated: true
      parameters:
        - {name: limit, in: query, schema: {type: integer, format: int32}}
      responses:
        "200":
          description: Pets
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}}}
  /orders:
    get:
      tags: [store]
      responses: {"200": {description: Orders}}
  /health:
    get:
      responses: {"204": {description: Up}}
components:
  parameters:
    Verbose: {name: verbose, in: query, required: false, schema: {type: boolean}}
  responses:
    Error: {description: Something failed, content: {application/json: {schema: {oneOf: [{$ref: "#/components/schemas/Problem"}, {type: string}]}}}}
  schemas:
    Pet: {type: object, properties: {name: {type: string}}}
    Problem: {type: object}
"##;

    #[test]
    fn operations_are_grouped_by_tag_with_their_details() {
        let doc = read_openapi(PETS).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Pets"));
        assert_eq!(doc.version.as_deref(), Some("1.2.0"));
        assert_eq!(doc.servers, ["https://api.example.com/v1"]);
        let tags: Vec<&str> = doc.groups.iter().map(|g| g.tag.as_str()).collect();
        assert_eq!(
            tags,
            ["store", "pets", "default"],
            "the document's tag order, then the rest"
        );
        assert_eq!(
            doc.groups[0].description.as_deref(),
            Some("What the shop sells")
        );
        assert_eq!(doc.operation_count(), 5);

        let pets = &doc.groups[1].operations;
        let show = pets
            .iter()
            .find(|o| o.operation_id.as_deref() == Some("showPet"))
            .unwrap();
        assert_eq!(
            (show.method.as_str(), show.path.as_str()),
            ("GET", "/pets/{petId}")
        );
        assert_eq!(show.anchor, "op-showPet");
        let params: Vec<(&str, &str, bool, &str)> = show
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location.as_str(),
                    p.required,
                    p.schema.as_str(),
                )
            })
            .collect();
        assert_eq!(
            params,
            [
                ("petId", "path", true, "string"),
                ("verbose", "query", false, "boolean")
            ],
            "path-level parameters and a $ref'd one"
        );
        let responses: Vec<(&str, &str, Option<&str>)> = show
            .responses
            .iter()
            .map(|r| {
                (
                    r.status.as_str(),
                    r.description.as_str(),
                    r.schema.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            responses,
            [
                ("200", "The pet", Some("Pet")),
                ("default", "Something failed", Some("Problem | string"))
            ]
        );
        let create = pets.iter().find(|o| o.method == "POST").unwrap();
        assert_eq!(create.request_body, ["application/json: Pet"]);
        let list = pets
            .iter()
            .find(|o| o.method == "GET" && o.path == "/pets")
            .unwrap();
        assert!(list.deprecated);
        assert_eq!(list.parameters[0].schema, "integer (int32)");
        assert_eq!(list.responses[0].schema.as_deref(), Some("array of Pet"));
        assert_eq!(list.anchor, "op-get--pets");
    }

    #[test]
    fn other_documents_get_a_sentence_not_an_error_page() {
        let cases: &[(&str, &str)] = &[
            ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0"),
            ("asyncapi: 2.6.0\n", "not an OpenAPI 3 document"),
            ("openapi: 3.0.0\npaths: [\n", "line 3"),
            ("", "empty"),
        ];
        for (text, want) in cases {
            let got = read_openapi(text).unwrap_err();
            assert!(got.contains(want), "{text:?}: {got}");
        }
        let huge = "x".repeat(MAX_DEFINITION_BYTES + 1);
        assert!(
            read_openapi(&huge)
                .unwrap_err()
                .contains("shown as text only")
        );
    }

    #[test]
    fn ref_loops_and_many_operations_are_bounded() {
        let looped = "openapi: 3.1.0\npaths:\n  /x:\n    get:\n      parameters: [{$ref: '#/components/parameters/A'}]\n      responses: {}\ncomponents:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n    B: {$ref: '#/components/parameters/A'}\n";
        let doc = read_openapi(looped).unwrap();
        assert_eq!(doc.operation_count(), 1);
        assert!(
            doc.groups[0].operations[0].parameters.is_empty(),
            "a loop names nothing"
        );

        let mut many = String::from("openapi: 3.0.0\npaths:\n");
        for i in 0..(MAX_OPERATIONS + 10) {
            many.push_str(&format!("  /p{i}: {{get: {{responses: {{}}}}}}\n"));
        }
        let doc = read_openapi(&many).unwrap();
        assert_eq!(doc.operation_count(), MAX_OPERATIONS);
        assert_eq!(doc.omitted, 10);
    }
}
