//! A Protocol Buffers (`.proto`, proto2 or proto3) file read for people, into the same
//! [`ApiDoc`] the portal lays OpenAPI out with: one group per `service`, one entry per `rpc`
//! with its gRPC path (`/package.Service/Method`), its comment, and the fields of its
//! request and response messages.
//!
//! Hand-written rather than a dependency: what the page needs is the declarations' outline
//! (services, rpcs, messages and their fields, leading comments), which a scanner of about
//! two hundred lines gives. The Rust parsers (`protobuf-parse`, `protox`) resolve imports
//! and build full descriptors, pulling in `protobuf`'s runtime or `prost-types`, and fail on
//! the unresolved imports every real definition has (`google/protobuf/timestamp.proto`).
//! Anything the scanner does not understand inside a body is skipped to its `;` or matching
//! `}`; a file that does not scan (an unterminated string or comment, unbalanced braces)
//! gets a sentence with its line and column.

use std::collections::HashMap;

use crate::openapi::{
    ApiDoc, ApiStyle, MAX_DEFINITION_BYTES, MAX_OPERATIONS, Operation, OperationGroup, Parameter,
    anchor,
};

/// Fields listed for one message; the rest are counted.
const MAX_FIELDS: usize = 200;

/// Nesting of messages and blocks followed at most.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Symbol(char),
}

#[derive(Debug, Clone)]
struct Lexeme {
    token: Token,
    line: usize,
    column: usize,
    /// The `//` or `/* */` comment lines right before this token.
    comment: Option<String>,
}

fn scan(text: &str) -> Result<Vec<Lexeme>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let (mut line, mut column) = (1usize, 1usize);
    let mut comment: Vec<String> = Vec::new();
    let mut blank_lines = 0;
    // Advances over one char, keeping line and column.
    let step = |c: char, line: &mut usize, column: &mut usize| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    while let Some(&(at, c)) = chars.peek() {
        let (start_line, start_column) = (line, column);
        if c.is_whitespace() {
            chars.next();
            step(c, &mut line, &mut column);
            if c == '\n' {
                blank_lines += 1;
                // A blank line detaches a comment from what follows.
                if blank_lines > 1 {
                    comment.clear();
                }
            }
            continue;
        }
        blank_lines = 0;
        let rest = &text[at..];
        if let Some(body) = rest.strip_prefix("//") {
            let end = body.find('\n').unwrap_or(body.len());
            comment.push(body[..end].trim().to_owned());
            for c in rest[..end + 2].chars() {
                chars.next();
                step(c, &mut line, &mut column);
            }
            continue;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let Some(end) = body.find("*/") else {
                return Err(format!(
                    "line {start_line}, column {start_column}: a comment is not closed"
                ));
            };
            for part in body[..end].lines() {
                let part = part.trim().trim_start_matches('*').trim();
                if !part.is_empty() {
                    comment.push(part.to_owned());
                }
            }
            for c in rest[..end + 4].chars() {
                chars.next();
                step(c, &mut line, &mut column);
            }
            continue;
        }
        let token = if c == '"' || c == '\'' {
            chars.next();
            step(c, &mut line, &mut column);
            let mut value = String::new();
            let mut closed = false;
            while let Some((_, d)) = chars.next() {
                step(d, &mut line, &mut column);
                if d == '\\' {
                    if let Some((_, e)) = chars.next() {
                        step(e, &mut line, &mut column);
                        value.push(e);
                    }
                } else if d == c {
                    closed = true;
                    break;
                } else if d == '\n' {
                    break;
                } else {
                    value.push(d);
                }
            }
            if !closed {
                return Err(format!(
                    "line {start_line}, column {start_column}: a string is not closed"
                ));
            }
            Token::Text(value)
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let mut word = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '.' {
                    word.push(d);
                    chars.next();
                    step(d, &mut line, &mut column);
                } else {
                    break;
                }
            }
            Token::Word(word)
        } else {
            chars.next();
            step(c, &mut line, &mut column);
            Token::Symbol(c)
        };
        let comment = (!comment.is_empty()).then(|| std::mem::take(&mut comment).join(" "));
        out.push(Lexeme {
            token,
            line: start_line,
            column: start_column,
            comment,
        });
    }
    Ok(out)
}

struct Rpc {
    name: String,
    request: (bool, String),
    response: (bool, String),
    comment: Option<String>,
    deprecated: bool,
}

struct Service {
    name: String,
    comment: Option<String>,
    rpcs: Vec<Rpc>,
}

struct Field {
    name: String,
    kind: String,
    comment: Option<String>,
}

#[derive(Default)]
struct Outline {
    package: Option<String>,
    services: Vec<Service>,
    /// Message name (nested ones as `Outer.Inner`) → fields.
    messages: HashMap<String, Vec<Field>>,
}

struct Parser<'a> {
    tokens: &'a [Lexeme],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Lexeme> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&'a Lexeme> {
        let lexeme = self.tokens.get(self.at);
        self.at += 1;
        lexeme
    }

    fn word(&mut self) -> Option<&'a str> {
        match self.peek().map(|l| &l.token) {
            Some(Token::Word(w)) => {
                self.at += 1;
                Some(w)
            }
            _ => None,
        }
    }

    fn is(&self, symbol: char) -> bool {
        self.peek().map(|l| &l.token) == Some(&Token::Symbol(symbol))
    }

    /// Skips one statement: to its `;`, or over its `{…}` block.
    fn skip_statement(&mut self) -> Result<(), String> {
        while let Some(lexeme) = self.next() {
            match lexeme.token {
                Token::Symbol(';') => return Ok(()),
                Token::Symbol('{') => return self.skip_block(),
                Token::Symbol('}') => {
                    self.at -= 1;
                    return Ok(());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips to the `}` that closes a block whose `{` was just read.
    fn skip_block(&mut self) -> Result<(), String> {
        let mut depth = 1usize;
        while let Some(lexeme) = self.next() {
            match lexeme.token {
                Token::Symbol('{') => depth += 1,
                Token::Symbol('}') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err("a `{` is not closed".to_owned())
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        match self.next() {
            Some(l) if l.token == Token::Symbol(symbol) => Ok(()),
            Some(l) => Err(format!(
                "line {}, column {}: expected `{symbol}`",
                l.line, l.column
            )),
            None => Err(format!("the file ends where `{symbol}` was expected")),
        }
    }

    fn file(&mut self, outline: &mut Outline) -> Result<(), String> {
        while let Some(lexeme) = self.peek() {
            match &lexeme.token {
                Token::Word(w) if w == "package" => {
                    self.at += 1;
                    outline.package = self.word().map(str::to_owned);
                    self.skip_statement()?;
                }
                Token::Word(w) if w == "service" => {
                    self.at += 1;
                    let service = self.service(lexeme.comment.clone())?;
                    outline.services.push(service);
                }
                Token::Word(w) if w == "message" => {
                    self.at += 1;
                    self.message("", outline, 0)?;
                }
                Token::Symbol('}') => {
                    return Err(format!(
                        "line {}, column {}: a `}}` closes nothing",
                        lexeme.line, lexeme.column
                    ));
                }
                _ => self.skip_statement()?,
            }
        }
        Ok(())
    }

    fn service(&mut self, comment: Option<String>) -> Result<Service, String> {
        let name = self.word().unwrap_or("Service").to_owned();
        self.expect('{')?;
        let mut service = Service {
            name,
            comment,
            rpcs: Vec::new(),
        };
        loop {
            let Some(lexeme) = self.peek() else {
                return Err(format!("service {} is not closed", service.name));
            };
            match &lexeme.token {
                Token::Symbol('}') => {
                    self.at += 1;
                    return Ok(service);
                }
                Token::Word(w) if w == "rpc" => {
                    self.at += 1;
                    let rpc = self.rpc(lexeme.comment.clone())?;
                    service.rpcs.push(rpc);
                }
                _ => self.skip_statement()?,
            }
        }
    }

    /// `Name (stream? Request) returns (stream? Response)` then `;` or `{ option … }`.
    fn rpc(&mut self, comment: Option<String>) -> Result<Rpc, String> {
        let name = self.word().unwrap_or("rpc").to_owned();
        let request = self.rpc_type()?;
        if self.word() != Some("returns") {
            let at = self.peek().map_or((0, 0), |l| (l.line, l.column));
            return Err(format!(
                "line {}, column {}: rpc {name} has no `returns`",
                at.0, at.1
            ));
        }
        let response = self.rpc_type()?;
        let mut deprecated = false;
        if self.is('{') {
            self.at += 1;
            let start = self.at;
            self.skip_block()?;
            deprecated = self.tokens[start..self.at].windows(3).any(|w| {
                w[0].token == Token::Word("deprecated".to_owned())
                    && w[2].token == Token::Word("true".to_owned())
            });
        } else if self.is(';') {
            self.at += 1;
        }
        Ok(Rpc {
            name,
            request,
            response,
            comment,
            deprecated,
        })
    }

    fn rpc_type(&mut self) -> Result<(bool, String), String> {
        self.expect('(')?;
        let mut stream = false;
        let mut kind = self.word().unwrap_or("").to_owned();
        if kind == "stream" && !self.is(')') {
            stream = true;
            kind = self.word().unwrap_or("").to_owned();
        }
        self.expect(')')?;
        Ok((stream, kind))
    }

    /// A message body after `message`: fields, nested messages (as `Outer.Inner`), oneof
    /// members as fields; enums, options and reserved ranges skipped.
    fn message(&mut self, outer: &str, outline: &mut Outline, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("messages nest more than {MAX_DEPTH} deep"));
        }
        let name = self.word().unwrap_or("Message");
        let name = if outer.is_empty() {
            name.to_owned()
        } else {
            format!("{outer}.{name}")
        };
        self.expect('{')?;
        let mut fields = Vec::new();
        self.fields(&name, &mut fields, outline, depth)?;
        outline.messages.insert(name, fields);
        Ok(())
    }

    fn fields(
        &mut self,
        message: &str,
        fields: &mut Vec<Field>,
        outline: &mut Outline,
        depth: usize,
    ) -> Result<(), String> {
        loop {
            let Some(lexeme) = self.peek() else {
                return Err(format!("message {message} is not closed"));
            };
            let Token::Word(first) = &lexeme.token else {
                if lexeme.token == Token::Symbol('}') {
                    self.at += 1;
                    return Ok(());
                }
                self.skip_statement()?;
                continue;
            };
            match first.as_str() {
                "message" => {
                    self.at += 1;
                    self.message(message, outline, depth + 1)?;
                }
                "oneof" => {
                    self.at += 1;
                    self.word();
                    self.expect('{')?;
                    self.fields(message, fields, outline, depth + 1)?;
                }
                "enum" | "option" | "reserved" | "extensions" | "extend" => {
                    self.skip_statement()?
                }
                _ => {
                    let start = self.at;
                    let comment = lexeme.comment.clone();
                    let mut kind = String::new();
                    // `[repeated|optional|required] type name = N [opts];`, or `map<K, V> name = N;`.
                    while let Some(l) = self.peek() {
                        match &l.token {
                            Token::Symbol('=' | ';' | '{' | '}') => break,
                            Token::Symbol(c) => kind.push(*c),
                            Token::Word(w) => {
                                if !kind.is_empty() && !kind.ends_with(['<', ',']) {
                                    kind.push(' ');
                                }
                                kind.push_str(w);
                            }
                            Token::Text(_) => {}
                        }
                        self.at += 1;
                    }
                    // The last word before `=` is the field's name.
                    let name = match self.tokens[start..self.at].last().map(|l| &l.token) {
                        Some(Token::Word(w)) if self.is('=') => w.clone(),
                        _ => {
                            self.skip_statement()?;
                            continue;
                        }
                    };
                    let kind = kind
                        .strip_suffix(name.as_str())
                        .unwrap_or(&kind)
                        .trim()
                        .replace(',', ", ")
                        .replace("optional ", "");
                    self.skip_statement()?;
                    if fields.len() < MAX_FIELDS {
                        fields.push(Field {
                            name,
                            kind,
                            comment,
                        });
                    }
                }
            }
        }
    }
}

/// Reads a `.proto` file. The error is a sentence for the page.
pub fn read_proto(text: &str) -> Result<ApiDoc, String> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(format!(
            "the definition is {} KiB; definitions over {} KiB are shown as text only",
            text.len() / 1024,
            MAX_DEFINITION_BYTES / 1024
        ));
    }
    let tokens = scan(text)?;
    let mut outline = Outline::default();
    Parser {
        tokens: &tokens,
        at: 0,
    }
    .file(&mut outline)?;
    if outline.services.is_empty() {
        return Err("the file declares no `service`: there are no methods to list".to_owned());
    }
    let package = outline.package.clone();
    let qualified = |name: &str| match &package {
        Some(p) => format!("{p}.{name}"),
        None => name.to_owned(),
    };
    let mut doc = ApiDoc {
        style: ApiStyle::Rpc,
        title: package.clone(),
        ..ApiDoc::default()
    };
    let mut listed = 0usize;
    for service in &outline.services {
        let mut operations = Vec::new();
        for rpc in &service.rpcs {
            if listed == MAX_OPERATIONS {
                doc.omitted += 1;
                continue;
            }
            listed += 1;
            let path = format!("/{}/{}", qualified(&service.name), rpc.name);
            let method = match (rpc.request.0, rpc.response.0) {
                (false, false) => "RPC",
                (false, true) => "SERVER STREAM",
                (true, false) => "CLIENT STREAM",
                (true, true) => "BIDI STREAM",
            };
            let mut parameters = Vec::new();
            for (place, (_, kind)) in [("request", &rpc.request), ("response", &rpc.response)] {
                for field in fields_of(&outline, package.as_deref(), kind) {
                    parameters.push(Parameter {
                        name: field.name.clone(),
                        location: place.to_owned(),
                        required: false,
                        schema: field.kind.clone(),
                        default: None,
                        description: field.comment.clone(),
                    });
                }
            }
            let streamed = |(stream, kind): &(bool, String)| {
                if *stream {
                    format!("stream of {kind}")
                } else {
                    kind.clone()
                }
            };
            operations.push(Operation {
                anchor: anchor(
                    "rpc",
                    &path,
                    Some(&format!("{}-{}", service.name, rpc.name)),
                ),
                method: method.to_owned(),
                path,
                operation_id: None,
                summary: rpc.comment.clone(),
                deprecated: rpc.deprecated,
                parameters,
                request_body: Vec::new(),
                messages: vec![
                    format!("request {}", streamed(&rpc.request)),
                    format!("response {}", streamed(&rpc.response)),
                ],
                responses: Vec::new(),
                deprecation: None,
                returns: None,
                returns_anchor: None,
            });
        }
        doc.groups.push(OperationGroup {
            tag: qualified(&service.name),
            description: service.comment.clone(),
            operations,
        });
    }
    Ok(doc)
}

/// The fields of message `kind` as an rpc names it (`Order`, `shop.v1.Order`, `.shop.v1.Order`
/// or `Outer.Inner`); none for a message declared elsewhere (an import).
fn fields_of<'a>(outline: &'a Outline, package: Option<&str>, kind: &str) -> &'a [Field] {
    let kind = kind.trim_start_matches('.');
    let local = package
        .and_then(|p| kind.strip_prefix(p))
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(kind);
    outline
        .messages
        .get(local)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"
// Orders, generated.
syntax = "proto3";

package shop.v1;

import "google/protobuf/timestamp.proto";
option go_package = "example.com/shop/v1;shopv1";

// Takes and tracks orders.
service Orders {
  // Places an order.
  rpc PlaceOrder(PlaceOrderRequest) returns (Order);
  /* Streams status changes
   * as they happen. */
  rpc WatchOrder(.shop.v1.WatchRequest) returns (stream Order) {
    option deprecated = true;
  }
  rpc Chat(stream Note) returns (stream Note) {}
}

service Health { rpc Check(Empty) returns (Empty); }

message PlaceOrderRequest {
  // Who orders.
  string customer_id = 1;
  repeated Line lines = 2 [packed = true];
  map<string, string> labels = 3;
  oneof payment {
    string card_token = 4;
    string voucher = 5;
  }
  message Line { string sku = 1; int32 quantity = 2; }
  enum Kind { KIND_UNSPECIFIED = 0; }
  reserved 9, 10;
}

message Order {
  string id = 1;
  google.protobuf.Timestamp placed_at = 2;
  optional string note = 3;
}
message WatchRequest { string id = 1; }
message Note { string text = 1; }
message Empty {}
"#;

    #[test]
    fn services_list_their_rpcs_with_paths_comments_and_message_fields() {
        let doc = read_proto(SHOP).unwrap();
        assert_eq!(doc.title.as_deref(), Some("shop.v1"));
        let groups: Vec<&str> = doc.groups.iter().map(|g| g.tag.as_str()).collect();
        assert_eq!(groups, ["shop.v1.Orders", "shop.v1.Health"]);
        assert_eq!(
            doc.groups[0].description.as_deref(),
            Some("Takes and tracks orders.")
        );
        let orders = &doc.groups[0].operations;
        let outline: Vec<(&str, &str, bool)> = orders
            .iter()
            .map(|o| (o.method.as_str(), o.path.as_str(), o.deprecated))
            .collect();
        assert_eq!(
            outline,
            [
                ("RPC", "/shop.v1.Orders/PlaceOrder", false),
                ("SERVER STREAM", "/shop.v1.Orders/WatchOrder", true),
                ("BIDI STREAM", "/shop.v1.Orders/Chat", false),
            ]
        );
        assert_eq!(orders[0].summary.as_deref(), Some("Places an order."));
        assert_eq!(
            orders[1].summary.as_deref(),
            Some("Streams status changes as they happen.")
        );
        assert_eq!(
            orders[1].messages,
            ["request .shop.v1.WatchRequest", "response stream of Order"]
        );
        let fields: Vec<(&str, &str, &str)> = orders[0]
            .parameters
            .iter()
            .map(|p| (p.location.as_str(), p.name.as_str(), p.schema.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("request", "customer_id", "string"),
                ("request", "lines", "repeated Line"),
                ("request", "labels", "map<string, string>"),
                ("request", "card_token", "string"),
                ("request", "voucher", "string"),
                ("response", "id", "string"),
                ("response", "placed_at", "google.protobuf.Timestamp"),
                ("response", "note", "string"),
            ]
        );
        assert_eq!(
            orders[0].parameters[0].description.as_deref(),
            Some("Who orders.")
        );
        // A fully qualified request type finds its message.
        assert_eq!(orders[1].parameters[0].name, "id");
        assert_eq!(doc.groups[1].operations[0].path, "/shop.v1.Health/Check");
    }

    #[test]
    fn broken_files_get_a_sentence_with_the_position() {
        for (text, want) in [
            (
                "service S {\n  rpc A(B) returns (C);\n",
                "service S is not closed",
            ),
            (
                "/* open\nservice S {}",
                "line 1, column 1: a comment is not closed",
            ),
            (
                "package \"x;\nservice S {}",
                "line 1, column 9: a string is not closed",
            ),
            ("}\n", "a `}` closes nothing"),
            ("service S { rpc A(B) (C); }", "has no `returns`"),
            ("message M { string a = 1; }", "declares no `service`"),
        ] {
            let got = read_proto(text).unwrap_err();
            assert!(got.contains(want), "{text:?}: {got}");
        }
        let deep = format!(
            "service S {{}}\n{}{}",
            "message M { ".repeat(MAX_DEPTH + 2),
            "}".repeat(MAX_DEPTH + 2)
        );
        assert!(read_proto(&deep).unwrap_err().contains("nest more than"));
    }
}
