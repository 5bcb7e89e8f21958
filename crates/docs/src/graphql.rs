//! A GraphQL schema (SDL) read for people, into the same [`ApiDoc`] the portal lays OpenAPI
//! out with: one group per root operation type (`Query`, `Mutation`, `Subscription`, or the
//! types a `schema { … }` block names), one entry per root field with its arguments, return
//! type, description and `@deprecated` reason; then every other named type (objects,
//! interfaces, inputs, enums with their values, unions with their members, scalars) in
//! [`ApiDoc::types`]. `extend …` definitions are merged into the type they extend.
//!
//! Parsed by `apollo-parser` (Apollo's spec-compliant, error-resilient parser; ARCHITECTURE.md
//! says why this one) with a token limit and a recursion limit, so a hostile document costs
//! bounded time, memory and stack. A document with any syntax error is not laid out: the
//! page shows the text with the first error's line and column. Bounds are the other
//! readers': the size limit, [`MAX_OPERATIONS`] root fields, and here [`MAX_TYPES`] types
//! with at most [`MAX_FIELDS`] fields each and [`MAX_LISTED_FIELDS`] in all; the rest counted.

use std::collections::{HashMap, HashSet};

use apollo_parser::Parser;
use apollo_parser::cst::{self, CstNode};

use crate::openapi::{
    ApiDoc, ApiStyle, MAX_DEFINITION_BYTES, MAX_OPERATIONS, Operation, OperationGroup, Parameter,
    TypeDoc, TypeField, anchor,
};

/// Types listed at most (besides the root types); the rest are counted.
pub const MAX_TYPES: usize = 2_000;

/// Fields (enum values, union members) listed for one type; the rest are counted.
pub const MAX_FIELDS: usize = 200;

/// Fields and enum values listed across all types, so the page stays a few MB at most.
pub const MAX_LISTED_FIELDS: usize = 20_000;

/// Lexer tokens (white space and comments included) read at most. GitHub's public schema
/// (1.2 MB, 1,623 types) has about 105,000; the concrete syntax tree costs about 200 bytes a
/// token, so this bounds one reading to some 60 MB and a third of a second.
const MAX_TOKENS: usize = 300_000;

/// Entries of one kind (fields, values, members) kept for one type while reading; the rest
/// are only counted. Root types list up to [`MAX_OPERATIONS`] fields, others [`MAX_FIELDS`].
const KEPT_PER_TYPE: usize = if MAX_OPERATIONS > MAX_FIELDS {
    MAX_OPERATIONS
} else {
    MAX_FIELDS
};

/// Nesting the parser follows (list types, input values): well inside the 2 MiB stack of
/// the threads that render pages.
const RECURSION_LIMIT: usize = 128;

/// Characters of a default value shown; longer ones are cut with `…`.
const MAX_VALUE_CHARS: usize = 200;

/// `@deprecated` without a `reason` means this one (the GraphQL specification's default).
const DEFAULT_DEPRECATION: &str = "No longer supported";

/// Reads a GraphQL schema document (SDL). The error is a sentence for the page, with the
/// line and column of the first syntax error.
pub fn read_graphql(text: &str) -> Result<ApiDoc, String> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(format!(
            "the definition is {} KiB; definitions over {} KiB are shown as text only",
            text.len() / 1024,
            MAX_DEFINITION_BYTES / 1024
        ));
    }
    if text.trim().is_empty() {
        return Err("the definition is empty".to_owned());
    }
    let tree = Parser::new(text)
        .token_limit(MAX_TOKENS)
        .recursion_limit(RECURSION_LIMIT)
        .parse();
    if let Some(error) = tree.errors().next() {
        return Err(describe_error(text, error));
    }
    let mut schema = Schema::default();
    for definition in tree.document().definitions() {
        schema.add(definition);
    }
    schema.into_doc()
}

/// `line L, column C: what` for the parser's error at its byte offset.
fn describe_error(text: &str, error: &apollo_parser::Error) -> String {
    if error.is_limit() {
        return if error.message().contains("token") {
            format!("the document has more than {MAX_TOKENS} tokens; it is shown as text only")
        } else {
            let (line, column) = line_column(text, error.index());
            format!(
                "line {line}, column {column}: nested more than {RECURSION_LIMIT} deep; \
                 the document is shown as text only"
            )
        };
    }
    let (line, column) = line_column(text, error.index());
    let message = plain_words(error.message());
    let found = error.data().lines().next().unwrap_or("").trim();
    if message.contains(", got ") || message.contains("end of the document") {
        format!("line {line}, column {column}: {message}")
    } else if error.is_eof() || found.is_empty() {
        format!("line {line}, column {column}: {message} (at the end of the document)")
    } else if message.contains(&format!("\"{found}\"")) {
        format!("line {line}, column {column}: {message}")
    } else {
        let found: String = found.chars().take(40).collect();
        format!("line {line}, column {column}: {message}, found `{found}`")
    }
}

/// The parser's messages name tokens by their syntax kind (`expected R_PAREN, got EOF`);
/// people read the characters.
fn plain_words(message: &str) -> String {
    let mut out = message.trim_end_matches('.').to_owned();
    for (kind, plain) in [
        ("L_PAREN", "`(`"),
        ("R_PAREN", "`)`"),
        ("L_CURLY", "`{`"),
        ("R_CURLY", "`}`"),
        ("L_BRACK", "`[`"),
        ("R_BRACK", "`]`"),
        ("COLON", "`:`"),
        ("EQ", "`=`"),
        ("PIPE", "`|`"),
        ("AMP", "`&`"),
        ("BANG", "`!`"),
        ("<EOF>", "end of the document"),
        ("EOF", "the end of the document"),
    ] {
        out = out.replace(kind, plain);
    }
    match out.strip_prefix("Unexpected") {
        Some(rest) => format!("unexpected{rest}"),
        None => out,
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, index: usize) -> (usize, usize) {
    let mut end = index.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// An argument or input field as read.
struct Input {
    name: String,
    ty: String,
    /// The named type inside `ty`, for the link.
    named: String,
    non_null: bool,
    default: Option<String>,
    description: Option<String>,
    deprecated: Option<String>,
}

/// A field of an object type or interface as read.
struct FieldDef {
    name: String,
    ty: String,
    named: String,
    /// The first [`MAX_FIELDS`] arguments; `more_arguments` counts the rest.
    arguments: Vec<Input>,
    more_arguments: usize,
    description: Option<String>,
    deprecated: Option<String>,
}

/// A named type as read, definitions and extensions merged.
struct TypeDef {
    name: String,
    kind: &'static str,
    description: Option<String>,
    implements: Vec<String>,
    members: Vec<String>,
    fields: Vec<FieldDef>,
    inputs: Vec<Input>,
    /// Enum values: name, description, deprecation.
    values: Vec<(String, Option<String>, Option<String>)>,
    /// Entries past [`KEPT_PER_TYPE`], not kept.
    dropped: usize,
}

impl TypeDef {
    /// Whether one more entry of a list this long is kept; counts it as dropped if not.
    fn keeps(&mut self, len: usize) -> bool {
        let keep = len < KEPT_PER_TYPE;
        if !keep {
            self.dropped += 1;
        }
        keep
    }
}

#[derive(Default)]
struct Schema {
    description: Option<String>,
    /// `schema { query: … }` (and `extend schema`), by operation.
    roots: HashMap<&'static str, String>,
    types: Vec<TypeDef>,
    by_name: HashMap<String, usize>,
}

impl Schema {
    fn add(&mut self, definition: cst::Definition) {
        use cst::Definition as D;
        match definition {
            D::SchemaDefinition(d) => {
                if self.description.is_none() {
                    self.description = description(d.description());
                }
                self.add_roots(d.root_operation_type_definitions());
            }
            D::SchemaExtension(d) => self.add_roots(d.root_operation_type_definitions()),
            D::ObjectTypeDefinition(d) => {
                let t = self.entry(d.name(), "type", d.description());
                add_fields(t, d.implements_interfaces(), d.fields_definition());
            }
            D::ObjectTypeExtension(d) => {
                let t = self.entry(d.name(), "type", None);
                add_fields(t, d.implements_interfaces(), d.fields_definition());
            }
            D::InterfaceTypeDefinition(d) => {
                let t = self.entry(d.name(), "interface", d.description());
                add_fields(t, d.implements_interfaces(), d.fields_definition());
            }
            D::InterfaceTypeExtension(d) => {
                let t = self.entry(d.name(), "interface", None);
                add_fields(t, d.implements_interfaces(), d.fields_definition());
            }
            D::InputObjectTypeDefinition(d) => {
                let t = self.entry(d.name(), "input", d.description());
                add_inputs(t, d.input_fields_definition());
            }
            D::InputObjectTypeExtension(d) => {
                let t = self.entry(d.name(), "input", None);
                add_inputs(t, d.input_fields_definition());
            }
            D::EnumTypeDefinition(d) => {
                let t = self.entry(d.name(), "enum", d.description());
                add_values(t, d.enum_values_definition());
            }
            D::EnumTypeExtension(d) => {
                let t = self.entry(d.name(), "enum", None);
                add_values(t, d.enum_values_definition());
            }
            D::UnionTypeDefinition(d) => {
                let t = self.entry(d.name(), "union", d.description());
                add_members(t, d.union_member_types());
            }
            D::UnionTypeExtension(d) => {
                let t = self.entry(d.name(), "union", None);
                add_members(t, d.union_member_types());
            }
            D::ScalarTypeDefinition(d) => {
                self.entry(d.name(), "scalar", d.description());
            }
            D::ScalarTypeExtension(d) => {
                self.entry(d.name(), "scalar", None);
            }
            // Directive definitions say how the schema is processed, not what it offers;
            // operations and fragments do not belong in a schema and are left out.
            D::DirectiveDefinition(_) | D::OperationDefinition(_) | D::FragmentDefinition(_) => {}
        }
    }

    fn add_roots(&mut self, roots: cst::CstChildren<cst::RootOperationTypeDefinition>) {
        for root in roots {
            let Some(operation) = root.operation_type() else {
                continue;
            };
            let key = if operation.query_token().is_some() {
                "query"
            } else if operation.mutation_token().is_some() {
                "mutation"
            } else if operation.subscription_token().is_some() {
                "subscription"
            } else {
                continue;
            };
            if let Some(name) = root.named_type().and_then(|n| n.name()) {
                self.roots.insert(key, name.text().to_string());
            }
        }
    }

    /// The type called `name`, created at its first definition or extension. The first
    /// definition with a description gives it; an extension never changes the kind.
    fn entry(
        &mut self,
        name: Option<cst::Name>,
        kind: &'static str,
        described: Option<cst::Description>,
    ) -> &mut TypeDef {
        let name = name.map_or_else(String::new, |n| n.text().to_string());
        let at = match self.by_name.get(&name) {
            Some(&at) => at,
            None => {
                self.types.push(TypeDef {
                    name: name.clone(),
                    kind,
                    description: None,
                    implements: Vec::new(),
                    members: Vec::new(),
                    fields: Vec::new(),
                    inputs: Vec::new(),
                    values: Vec::new(),
                    dropped: 0,
                });
                self.by_name.insert(name, self.types.len() - 1);
                self.types.len() - 1
            }
        };
        let entry = &mut self.types[at];
        if entry.description.is_none() {
            entry.description = description(described);
        }
        entry
    }

    fn into_doc(self) -> Result<ApiDoc, String> {
        if self.types.is_empty() {
            return Err(
                "the document defines no types: is it a query rather than a schema?".to_owned(),
            );
        }
        // Without a schema block, the types named Query, Mutation and Subscription are the
        // roots (the specification's default names).
        let root_of = |key: &'static str, default: &str| {
            match self.roots.get(key) {
                Some(name) => Some(name.clone()),
                None if self.roots.is_empty() => Some(default.to_owned()),
                None => None,
            }
            .filter(|name| self.by_name.contains_key(name))
        };
        let roots: Vec<(&'static str, String)> = [
            ("QUERY", root_of("query", "Query")),
            ("MUTATION", root_of("mutation", "Mutation")),
            ("SUBSCRIPTION", root_of("subscription", "Subscription")),
        ]
        .into_iter()
        .filter_map(|(method, name)| Some((method, name?)))
        .collect();
        let is_root = |name: &str| roots.iter().any(|(_, root)| root == name);

        // The types listed, so return and field types can link to them.
        let mut listed: HashSet<&str> = HashSet::new();
        let mut omitted_types = 0usize;
        for t in self.types.iter().filter(|t| !is_root(&t.name)) {
            if listed.len() < MAX_TYPES {
                listed.insert(&t.name);
            } else {
                omitted_types += 1;
            }
        }
        let link = |named: &str| listed.contains(named).then(|| type_anchor(named));

        let mut doc = ApiDoc {
            style: ApiStyle::Graph,
            description: self.description.clone(),
            omitted_types,
            ..ApiDoc::default()
        };
        let mut operations_listed = 0usize;
        for (method, name) in &roots {
            let Some(root) = self.by_name.get(name).map(|&at| &self.types[at]) else {
                continue;
            };
            let mut operations = Vec::new();
            doc.omitted += root.dropped;
            for field in &root.fields {
                if operations_listed == MAX_OPERATIONS {
                    doc.omitted += 1;
                    continue;
                }
                operations_listed += 1;
                operations.push(operation(method, field, &link));
            }
            doc.groups.push(OperationGroup {
                tag: root.name.clone(),
                description: root.description.clone(),
                operations,
            });
        }

        let mut budget = MAX_LISTED_FIELDS;
        for t in self
            .types
            .iter()
            .filter(|t| listed.contains(t.name.as_str()))
        {
            let mut fields: Vec<TypeField> = Vec::new();
            let mut omitted = t.dropped;
            let mut push = |field: TypeField| {
                if fields.len() < MAX_FIELDS && budget > 0 {
                    fields.push(field);
                    budget -= 1;
                } else {
                    omitted += 1;
                }
            };
            for f in &t.fields {
                push(TypeField {
                    name: f.name.clone(),
                    schema: f.ty.clone(),
                    schema_anchor: link(&f.named),
                    arguments: f
                        .arguments
                        .iter()
                        .map(sdl_argument)
                        .chain(
                            (f.more_arguments > 0).then(|| format!("… {} more", f.more_arguments)),
                        )
                        .collect(),
                    default: None,
                    description: f.description.clone(),
                    deprecated: f.deprecated.clone(),
                });
            }
            for i in &t.inputs {
                push(TypeField {
                    name: i.name.clone(),
                    schema: i.ty.clone(),
                    schema_anchor: link(&i.named),
                    arguments: Vec::new(),
                    default: i.default.clone(),
                    description: i.description.clone(),
                    deprecated: i.deprecated.clone(),
                });
            }
            for (name, description, deprecated) in &t.values {
                push(TypeField {
                    name: name.clone(),
                    schema: String::new(),
                    schema_anchor: None,
                    arguments: Vec::new(),
                    default: None,
                    description: description.clone(),
                    deprecated: deprecated.clone(),
                });
            }
            let members = t.members.iter().take(MAX_FIELDS).cloned().collect();
            omitted += t.members.len().saturating_sub(MAX_FIELDS);
            doc.types.push(TypeDoc {
                name: t.name.clone(),
                kind: t.kind,
                description: t.description.clone(),
                implements: t.implements.clone(),
                members,
                fields,
                omitted,
                anchor: type_anchor(&t.name),
            });
        }
        Ok(doc)
    }
}

/// A root field as an operation: its arguments as parameters, its type as what it returns.
fn operation(method: &str, field: &FieldDef, link: &dyn Fn(&str) -> Option<String>) -> Operation {
    let parameters = field
        .arguments
        .iter()
        .map(|a| Parameter {
            name: a.name.clone(),
            location: "argument".to_owned(),
            // The specification's rule: non-null without a default must be given.
            required: a.non_null && a.default.is_none(),
            schema: a.ty.clone(),
            default: a.default.clone(),
            description: match (&a.description, &a.deprecated) {
                (d, None) => d.clone(),
                (None, Some(reason)) => Some(format!("Deprecated: {reason}")),
                (Some(d), Some(reason)) => Some(format!("{d} (Deprecated: {reason})")),
            },
        })
        .chain((field.more_arguments > 0).then(|| Parameter {
            name: "…".to_owned(),
            location: String::new(),
            required: false,
            schema: String::new(),
            default: None,
            description: Some(format!(
                "{} more arguments are not listed",
                field.more_arguments
            )),
        }))
        .collect();
    Operation {
        method: method.to_owned(),
        path: field.name.clone(),
        operation_id: None,
        summary: field.description.clone(),
        deprecated: field.deprecated.is_some(),
        deprecation: field.deprecated.clone(),
        parameters,
        request_body: Vec::new(),
        messages: Vec::new(),
        responses: Vec::new(),
        returns: Some(field.ty.clone()),
        returns_anchor: link(&field.named),
        anchor: anchor(&method.to_ascii_lowercase(), &field.name, None),
    }
}

/// `type-Name`: GraphQL names are `[_A-Za-z][_0-9A-Za-z]*`, valid in an HTML id as they are.
fn type_anchor(name: &str) -> String {
    format!("type-{name}")
}

/// `name: Type = default`, as SDL writes an argument.
fn sdl_argument(a: &Input) -> String {
    match &a.default {
        Some(default) => format!("{}: {} = {default}", a.name, a.ty),
        None => format!("{}: {}", a.name, a.ty),
    }
}

fn add_fields(
    t: &mut TypeDef,
    implements: Option<cst::ImplementsInterfaces>,
    fields: Option<cst::FieldsDefinition>,
) {
    for named in implements.iter().flat_map(|i| i.named_types()) {
        if let Some(name) = named.name()
            && t.keeps(t.implements.len())
        {
            t.implements.push(name.text().to_string());
        }
    }
    for field in fields.iter().flat_map(|f| f.field_definitions()) {
        if !t.keeps(t.fields.len()) {
            continue;
        }
        let (ty, named, _) = type_of(field.ty());
        t.fields.push(FieldDef {
            name: name_of(field.name()),
            ty,
            named,
            arguments: field
                .arguments_definition()
                .iter()
                .flat_map(|a| a.input_value_definitions())
                .take(MAX_FIELDS)
                .map(input)
                .collect(),
            more_arguments: field
                .arguments_definition()
                .map_or(0, |a| a.input_value_definitions().count())
                .saturating_sub(MAX_FIELDS),
            description: description(field.description()),
            deprecated: deprecation(field.directives()),
        });
    }
}

fn add_inputs(t: &mut TypeDef, fields: Option<cst::InputFieldsDefinition>) {
    for field in fields.iter().flat_map(|f| f.input_value_definitions()) {
        if t.keeps(t.inputs.len()) {
            t.inputs.push(input(field));
        }
    }
}

fn add_values(t: &mut TypeDef, values: Option<cst::EnumValuesDefinition>) {
    for value in values.iter().flat_map(|v| v.enum_value_definitions()) {
        if !t.keeps(t.values.len()) {
            continue;
        }
        let name = value
            .enum_value()
            .and_then(|v| v.name())
            .map_or_else(String::new, |n| n.text().to_string());
        t.values.push((
            name,
            description(value.description()),
            deprecation(value.directives()),
        ));
    }
}

fn add_members(t: &mut TypeDef, members: Option<cst::UnionMemberTypes>) {
    for named in members.iter().flat_map(|m| m.named_types()) {
        if let Some(name) = named.name()
            && t.keeps(t.members.len())
        {
            t.members.push(name.text().to_string());
        }
    }
}

fn input(value: cst::InputValueDefinition) -> Input {
    let (ty, named, non_null) = type_of(value.ty());
    Input {
        name: name_of(value.name()),
        ty,
        named,
        non_null,
        default: value
            .default_value()
            .and_then(|d| d.value())
            .map(|v| value_text(v.syntax())),
        description: description(value.description()),
        deprecated: deprecation(value.directives()),
    }
}

fn name_of(name: Option<cst::Name>) -> String {
    name.map_or_else(String::new, |n| n.text().to_string())
}

/// A type as written (`[ID!]!`), the named type inside it, and whether it is non-null.
fn type_of(ty: Option<cst::Type>) -> (String, String, bool) {
    let mut text = String::new();
    let mut named = String::new();
    write_type(ty, &mut text, &mut named, 0);
    let non_null = text.ends_with('!');
    (text, named, non_null)
}

fn write_type(ty: Option<cst::Type>, text: &mut String, named: &mut String, depth: usize) {
    // The parser's recursion limit bounds this already; a second bound costs nothing.
    if depth > RECURSION_LIMIT {
        text.push('…');
        return;
    }
    match ty {
        Some(cst::Type::NamedType(n)) => write_named(&n, text, named),
        Some(cst::Type::ListType(l)) => write_list(&l, text, named, depth),
        Some(cst::Type::NonNullType(n)) => {
            if let Some(inner) = n.named_type() {
                write_named(&inner, text, named);
            } else if let Some(inner) = n.list_type() {
                write_list(&inner, text, named, depth);
            }
            text.push('!');
        }
        None => {}
    }
}

fn write_named(n: &cst::NamedType, text: &mut String, named: &mut String) {
    if let Some(name) = n.name() {
        let name = name.text();
        text.push_str(&name);
        *named = name.to_string();
    }
}

fn write_list(l: &cst::ListType, text: &mut String, named: &mut String, depth: usize) {
    text.push('[');
    write_type(l.ty(), text, named, depth + 1);
    text.push(']');
}

/// A value as written, its runs of white space (and commas, which GraphQL ignores) made
/// one space, cut at [`MAX_VALUE_CHARS`].
fn value_text(node: &apollo_parser::SyntaxNode) -> String {
    let raw = node.text().to_string();
    let mut out = String::new();
    let mut chars = 0usize;
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if chars == MAX_VALUE_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

/// A description's text (block strings with their common indentation removed, as the
/// specification says), or `None` when empty.
fn description(d: Option<cst::Description>) -> Option<String> {
    let text = String::from(d?.string_value()?);
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `@deprecated(reason: "…")`'s reason, the default one without a reason, `None` without
/// the directive.
fn deprecation(directives: Option<cst::Directives>) -> Option<String> {
    let directive = directives?
        .directives()
        .find(|d| d.name().is_some_and(|n| n.text() == "deprecated"))?;
    let reason = directive
        .arguments()
        .iter()
        .flat_map(|a| a.arguments())
        .find(|a| a.name().is_some_and(|n| n.text() == "reason"))
        .and_then(|a| a.value())
        .and_then(|v| match v {
            cst::Value::StringValue(s) => Some(String::from(s).trim().to_owned()),
            _ => None,
        })
        .filter(|r| !r.is_empty());
    Some(reason.unwrap_or_else(|| DEFAULT_DEPRECATION.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"
"""
The shop's public graph.
"""
schema { query: QueryRoot, mutation: Mutations }

"""
  Entry points for reading.

    Indented lines keep their extra indentation.
"""
type QueryRoot {
  "One order by its id."
  order(id: ID!): Order
  """
  Orders, newest first.
  """
  orders(first: Int = 10, after: String, status: [OrderStatus!] = [PLACED, PICKING]): [Order!]!
  legacyOrders: [Order] @deprecated
}

type Mutations {
  placeOrder(input: PlaceOrderInput!): Order @deprecated(reason: "Use `submitOrder`.")
}

"An order."
type Order implements Node & Timestamped {
  id: ID!
  lines(first: Int!): [Line!]!
  status: OrderStatus
}

interface Node { id: ID! }
interface Timestamped { createdAt: DateTime! }

enum OrderStatus {
  "Just placed."
  PLACED
  PICKING
  LOST @deprecated(reason: "Never happens.")
}

input PlaceOrderInput {
  "Who orders."
  customerId: ID!
  note: String = "none"
}

union SearchResult = Order | Line
scalar DateTime
type Line { sku: String! }

# A Query type that is not the root, because the schema block names QueryRoot.
type Query { unused: Int }

extend type QueryRoot {
  search(text: String!): [SearchResult!]!
}
extend enum OrderStatus { DELIVERED }
extend schema { subscription: Events }
type Events { orderChanged(id: ID!): Order }
"#;

    #[test]
    fn root_types_named_by_the_schema_block_are_operation_groups() {
        let doc = read_graphql(SHOP).unwrap();
        assert_eq!(doc.style, ApiStyle::Graph);
        assert_eq!(doc.description.as_deref(), Some("The shop's public graph."));
        let groups: Vec<(&str, Vec<(&str, &str)>)> = doc
            .groups
            .iter()
            .map(|g| {
                let ops = g
                    .operations
                    .iter()
                    .map(|o| (o.method.as_str(), o.path.as_str()))
                    .collect();
                (g.tag.as_str(), ops)
            })
            .collect();
        assert_eq!(
            groups,
            [
                (
                    "QueryRoot",
                    vec![
                        ("QUERY", "order"),
                        ("QUERY", "orders"),
                        ("QUERY", "legacyOrders"),
                        ("QUERY", "search"),
                    ]
                ),
                ("Mutations", vec![("MUTATION", "placeOrder")]),
                ("Events", vec![("SUBSCRIPTION", "orderChanged")]),
            ],
            "the schema block's names, `extend schema` and `extend type` merged in"
        );
        assert_eq!(
            doc.groups[0].description.as_deref(),
            Some("Entry points for reading.\n\n  Indented lines keep their extra indentation."),
            "a block string loses its common indentation and blank first and last lines"
        );

        let orders = &doc.groups[0].operations[1];
        assert_eq!(orders.summary.as_deref(), Some("Orders, newest first."));
        assert_eq!(orders.returns.as_deref(), Some("[Order!]!"));
        assert_eq!(orders.returns_anchor.as_deref(), Some("type-Order"));
        assert_eq!(orders.anchor, "op-query-orders");
        let args: Vec<(&str, &str, bool, Option<&str>)> = orders
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.schema.as_str(),
                    p.required,
                    p.default.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            args,
            [
                ("first", "Int", false, Some("10")),
                ("after", "String", false, None),
                ("status", "[OrderStatus!]", false, Some("[PLACED, PICKING]")),
            ]
        );
        let order = &doc.groups[0].operations[0];
        assert_eq!(order.summary.as_deref(), Some("One order by its id."));
        assert!(order.parameters[0].required, "`ID!` without a default");
        assert_eq!(order.parameters[0].location, "argument");

        let legacy = &doc.groups[0].operations[2];
        assert!(legacy.deprecated);
        assert_eq!(legacy.deprecation.as_deref(), Some(DEFAULT_DEPRECATION));
        let place = &doc.groups[1].operations[0];
        assert_eq!(place.deprecation.as_deref(), Some("Use `submitOrder`."));
        assert!(!order.deprecated);
    }

    #[test]
    fn other_types_list_fields_values_members_and_defaults() {
        let doc = read_graphql(SHOP).unwrap();
        let types: Vec<(&str, &str)> = doc
            .types
            .iter()
            .map(|t| (t.kind, t.name.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("type", "Order"),
                ("interface", "Node"),
                ("interface", "Timestamped"),
                ("enum", "OrderStatus"),
                ("input", "PlaceOrderInput"),
                ("union", "SearchResult"),
                ("scalar", "DateTime"),
                ("type", "Line"),
                ("type", "Query"),
            ],
            "in the document's order, root types left out"
        );
        let order = &doc.types[0];
        assert_eq!(order.description.as_deref(), Some("An order."));
        assert_eq!(order.implements, ["Node", "Timestamped"]);
        assert_eq!(order.anchor, "type-Order");
        let lines = &order.fields[1];
        assert_eq!(lines.schema, "[Line!]!");
        assert_eq!(lines.schema_anchor.as_deref(), Some("type-Line"));
        assert_eq!(lines.arguments, ["first: Int!"]);
        assert_eq!(
            order.fields[0].schema_anchor, None,
            "built-in scalars are not listed"
        );

        let status = &doc.types[3];
        let values: Vec<(&str, Option<&str>, Option<&str>)> = status
            .fields
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.description.as_deref(),
                    v.deprecated.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                ("PLACED", Some("Just placed."), None),
                ("PICKING", None, None),
                ("LOST", None, Some("Never happens.")),
                ("DELIVERED", None, None),
            ],
            "`extend enum` adds its values"
        );
        let input = &doc.types[4];
        assert_eq!(input.fields[0].description.as_deref(), Some("Who orders."));
        assert_eq!(input.fields[1].default.as_deref(), Some("\"none\""));
        assert_eq!(doc.types[5].members, ["Order", "Line"]);
        assert!(doc.types[6].fields.is_empty());
        assert_eq!(doc.type_field_count(), 3 + 1 + 1 + 4 + 2 + 1 + 1);
    }

    #[test]
    fn without_a_schema_block_the_default_root_names_are_used() {
        let doc = read_graphql(
            "type Query { me: User }\ntype Subscription { ping: Boolean }\ntype User { name: String }\n",
        )
        .unwrap();
        let groups: Vec<(&str, &str)> = doc
            .groups
            .iter()
            .map(|g| (g.tag.as_str(), g.operations[0].method.as_str()))
            .collect();
        assert_eq!(
            groups,
            [("Query", "QUERY"), ("Subscription", "SUBSCRIPTION")]
        );
        assert_eq!(doc.types.len(), 1);
        // Only extensions (a federated subgraph's style) still lay out.
        let doc = read_graphql(
            "extend type Query { product(upc: String!): Product }\ntype Product { upc: String! }",
        )
        .unwrap();
        assert_eq!(doc.groups[0].operations[0].path, "product");
    }

    #[test]
    fn malformed_documents_name_line_and_column() {
        for (text, want) in [
            (
                "type Query {\n  order(id: ID!: Order\n}\n",
                "line 2, column 16: expected `)`, got :",
            ),
            (
                "type Query {\n  a: Int\n",
                "line 3, column 1: expected `}`, got the end of the document",
            ),
            ("\"\"\"open\ntype Query { a: Int }", "line 1, column 1:"),
            ("type Query { a: [Int }", "line 1, column 22:"),
            ("   \n", "the definition is empty"),
            (
                "# only a comment\n",
                "line 2, column 1: unexpected end of the document",
            ),
            ("query { me { name } }", "defines no types"),
            (
                "type Qüery { a: Int }",
                "line 1, column 7: unexpected character \"ü\"",
            ),
        ] {
            let got = read_graphql(text).unwrap_err();
            assert!(got.contains(want), "{text:?}: {got}");
        }
    }

    #[test]
    fn enormous_and_deep_documents_are_bounded() {
        let huge = "#".repeat(MAX_DEFINITION_BYTES + 1);
        assert!(
            read_graphql(&huge)
                .unwrap_err()
                .contains("shown as text only")
        );

        let deep = format!(
            "type Query {{ a: {}Int{} }}",
            "[".repeat(RECURSION_LIMIT + 10),
            "]".repeat(RECURSION_LIMIT + 10)
        );
        let got = read_graphql(&deep).unwrap_err();
        assert!(got.contains("nested more than"), "{got}");

        let tokens = "type Query { a: Int }\n".repeat(MAX_TOKENS / 8 + 1);
        let got = read_graphql(&tokens).unwrap_err();
        assert!(got.contains("tokens"), "{got}");

        // Many root fields, many types, wide types: listed up to the caps, the rest counted.
        let mut many = String::from("type Query {\n");
        for i in 0..(MAX_OPERATIONS + 7) {
            many.push_str(&format!("  f{i}: Int\n"));
        }
        many.push_str("}\ntype Wide {\n");
        for i in 0..(MAX_FIELDS + 3) {
            many.push_str(&format!("  w{i}: Int\n"));
        }
        many.push_str("}\n");
        for i in 0..(MAX_TYPES + 5) {
            many.push_str(&format!("type T{i} {{ a: Int b: Int c: Int d: Int e: Int f: Int g: Int h: Int i: Int j: Int k: Int }}\n"));
        }
        let doc = read_graphql(&many).unwrap();
        assert_eq!(doc.operation_count(), MAX_OPERATIONS);
        assert_eq!(doc.omitted, 7);
        assert_eq!(doc.types.len(), MAX_TYPES);
        assert_eq!(doc.omitted_types, 6, "the last six T types, past the cap");
        assert_eq!(doc.types[0].fields.len(), MAX_FIELDS);
        assert_eq!(doc.types[0].omitted, 3);
        assert_eq!(doc.type_field_count(), MAX_LISTED_FIELDS);
        let counted: usize = doc.types.iter().map(|t| t.omitted).sum();
        assert_eq!(
            counted + MAX_LISTED_FIELDS,
            MAX_FIELDS + 3 + (MAX_TYPES - 1) * 11,
            "every field of a listed type is listed or counted"
        );
    }

    #[test]
    fn wide_types_values_and_argument_lists_are_cut_and_counted() {
        let args = |n: usize| {
            (0..n)
                .map(|i| format!("a{i}: Int"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let values = (0..(KEPT_PER_TYPE + 9))
            .map(|i| format!("V{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let wide = format!(
            "type Query {{ f({}): Int }}\nenum Huge {{ {values} }}\ntype Args {{ g({}): Int }}\n",
            args(MAX_FIELDS + 2),
            args(MAX_FIELDS + 3)
        );
        let doc = read_graphql(&wide).unwrap();
        let f = &doc.groups[0].operations[0];
        assert_eq!(f.parameters.len(), MAX_FIELDS + 1);
        assert_eq!(
            f.parameters[MAX_FIELDS].description.as_deref(),
            Some("2 more arguments are not listed")
        );
        let huge = &doc.types[0];
        assert_eq!(huge.fields.len(), MAX_FIELDS);
        assert_eq!(
            huge.omitted,
            KEPT_PER_TYPE + 9 - MAX_FIELDS,
            "values past what is kept are counted too"
        );
        let g = &doc.types[1].fields[0].arguments;
        assert_eq!(g.len(), MAX_FIELDS + 1);
        assert_eq!(g[MAX_FIELDS], "… 3 more");
    }
}
