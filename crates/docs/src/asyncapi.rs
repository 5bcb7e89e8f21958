//! An AsyncAPI 2.x or 3.x document read for people, into the same [`ApiDoc`] the portal lays
//! OpenAPI out with: one group per channel, one entry per operation on it.
//!
//! - 2.x: a channel's `publish` and `subscribe` operations, each with its message (or
//!   `oneOf` messages); the method column says `PUBLISH` or `SUBSCRIBE` as the document does
//!   (from the application's point of view).
//! - 3.x: the document's `operations`, each naming its channel by `$ref` and saying
//!   `action: send|receive`; its `messages` (or else every message of the channel).
//!
//! Each operation lists the channel's parameters and every message's payload properties
//! (`$ref`s followed, as for OpenAPI), so a reader sees the event's fields without opening
//! the schema. Bounds are OpenAPI's: the size limit, [`MAX_OPERATIONS`], and
//! [`MAX_FIELDS`] fields an operation.

use serde_json::{Map, Value};

use crate::openapi::{
    ApiDoc, ApiStyle, MAX_OPERATIONS, Operation, OperationGroup, Parameter, anchor, read_document,
    resolve, schema_name, text_of,
};

/// Payload fields listed for one operation; the rest are counted in a last row.
pub const MAX_FIELDS: usize = 200;

/// Reads an AsyncAPI 2.x or 3.x document (YAML or JSON). The error is a sentence for the
/// page, with the line and column when the text is not YAML.
pub fn read_asyncapi(text: &str) -> Result<ApiDoc, String> {
    let root = read_document(text)?;
    let version = match root.get("asyncapi") {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("not an AsyncAPI document (no `asyncapi:` version field)".to_owned()),
    };
    let major = version.split('.').next().unwrap_or("");
    if major != "2" && major != "3" {
        return Err(format!(
            "AsyncAPI {version}: only versions 2 and 3 are laid out"
        ));
    }
    let info = root.get("info");
    let mut doc = ApiDoc {
        style: ApiStyle::Events,
        title: text_of(info, "title"),
        version: text_of(info, "version"),
        description: text_of(info, "description"),
        servers: servers(&root),
        ..ApiDoc::default()
    };
    let empty = Map::new();
    let channels = root
        .get("channels")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut listed = 0usize;
    let mut add = |doc: &mut ApiDoc, group: &str, description: Option<String>, op: Operation| {
        if listed == MAX_OPERATIONS {
            doc.omitted += 1;
            return;
        }
        listed += 1;
        match doc.groups.iter_mut().find(|g| g.tag == group) {
            Some(g) => g.operations.push(op),
            None => doc.groups.push(OperationGroup {
                tag: group.to_owned(),
                description,
                operations: vec![op],
            }),
        }
    };
    if major == "2" {
        for (name, channel) in channels {
            let channel = resolve(&root, channel);
            for (key, method) in [("publish", "PUBLISH"), ("subscribe", "SUBSCRIBE")] {
                let Some(op) = channel.get(key).filter(|o| o.is_object()) else {
                    continue;
                };
                let messages = op
                    .get("message")
                    .map(|m| one_or_many(&root, m))
                    .unwrap_or_default();
                let operation = event_operation(
                    &root,
                    method,
                    name,
                    op,
                    text_of(Some(op), "operationId"),
                    channel,
                    &messages,
                );
                add(
                    &mut doc,
                    name,
                    text_of(Some(channel), "description"),
                    operation,
                );
            }
        }
    } else {
        let operations = root
            .get("operations")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (id, op) in operations {
            let op = resolve(&root, op);
            let method = match op.get("action").and_then(Value::as_str) {
                Some("send") => "SEND",
                Some("receive") => "RECEIVE",
                _ => "OPERATION",
            };
            let channel = op
                .get("channel")
                .map_or(&Value::Null, |c| resolve(&root, c));
            let channel_name = channel_name(op, channel, channels);
            let messages: Vec<&Value> = match op.get("messages").and_then(Value::as_array) {
                Some(list) => list.iter().map(|m| resolve(&root, m)).collect(),
                None => channel
                    .get("messages")
                    .and_then(Value::as_object)
                    .map(|m| m.values().map(|m| resolve(&root, m)).collect())
                    .unwrap_or_default(),
            };
            let operation = event_operation(
                &root,
                method,
                &channel_name,
                op,
                Some(id.clone()),
                channel,
                &messages,
            );
            let description = text_of(Some(channel), "description");
            add(&mut doc, &channel_name, description, operation);
        }
    }
    Ok(doc)
}

/// `url (protocol)` of each server: 2.x gives `url`, 3.x `host` and `pathname`.
fn servers(root: &Value) -> Vec<String> {
    let Some(servers) = root.get("servers").and_then(Value::as_object) else {
        return Vec::new();
    };
    servers
        .values()
        .map(|server| {
            let url = match (text_of(Some(server), "url"), text_of(Some(server), "host")) {
                (Some(url), _) => url,
                (None, Some(host)) => host + &text_of(Some(server), "pathname").unwrap_or_default(),
                (None, None) => String::new(),
            };
            match text_of(Some(server), "protocol") {
                Some(protocol) if !url.is_empty() => format!("{url} ({protocol})"),
                Some(protocol) => protocol,
                None => url,
            }
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// A 3.x operation's channel as people know it: its `address`, else its key in `channels`
/// (from the `$ref`), else "channel".
fn channel_name(op: &Value, channel: &Value, channels: &Map<String, Value>) -> String {
    if let Some(address) = channel.get("address").and_then(Value::as_str) {
        return address.to_owned();
    }
    let by_ref = op
        .pointer("/channel/$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/channels/"))
        .filter(|key| channels.contains_key(*key));
    by_ref.unwrap_or("channel").to_owned()
}

/// A 2.x `message`: one message or `oneOf` several, `$ref`s followed.
fn one_or_many<'a>(root: &'a Value, message: &'a Value) -> Vec<&'a Value> {
    let message = resolve(root, message);
    match message.get("oneOf").and_then(Value::as_array) {
        Some(list) => list.iter().map(|m| resolve(root, m)).collect(),
        None => vec![message],
    }
}

fn event_operation(
    root: &Value,
    method: &str,
    channel_name: &str,
    op: &Value,
    operation_id: Option<String>,
    channel: &Value,
    messages: &[&Value],
) -> Operation {
    let mut parameters = Vec::new();
    if let Some(declared) = channel.get("parameters").and_then(Value::as_object) {
        for (name, p) in declared {
            let p = resolve(root, p);
            parameters.push(Parameter {
                name: name.clone(),
                location: "channel".to_owned(),
                required: true,
                schema: p
                    .get("schema")
                    .map_or_else(|| "string".to_owned(), schema_name),
                default: None,
                description: text_of(Some(p), "description"),
            });
        }
    }
    let mut labels = Vec::with_capacity(messages.len());
    let mut fields = 0usize;
    let mut unlisted = 0usize;
    for message in messages {
        let label = ["name", "messageId", "title"]
            .iter()
            .find_map(|key| text_of(Some(message), key))
            .or_else(|| message.get("payload").map(schema_name))
            .unwrap_or_else(|| "message".to_owned());
        labels.push(match text_of(Some(message), "contentType") {
            Some(media) => format!("{label} ({media})"),
            None => label.clone(),
        });
        let Some(payload) = message.get("payload").map(|p| resolve(root, p)) else {
            continue;
        };
        let required: Vec<&str> = payload
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, schema) in payload
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if fields == MAX_FIELDS {
                unlisted += 1;
                continue;
            }
            fields += 1;
            let schema = resolve(root, schema);
            parameters.push(Parameter {
                name: name.clone(),
                location: format!("{label} payload"),
                required: required.contains(&name.as_str()),
                schema: schema_name(schema),
                default: None,
                description: text_of(Some(schema), "description"),
            });
        }
    }
    if unlisted > 0 {
        parameters.push(Parameter {
            name: "…".to_owned(),
            location: String::new(),
            required: false,
            schema: String::new(),
            default: None,
            description: Some(format!("{unlisted} more fields are not listed")),
        });
    }
    Operation {
        anchor: anchor(method, channel_name, operation_id.as_deref()),
        method: method.to_owned(),
        path: channel_name.to_owned(),
        summary: text_of(Some(op), "summary").or_else(|| text_of(Some(op), "description")),
        deprecated: op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        operation_id,
        parameters,
        request_body: Vec::new(),
        messages: labels,
        responses: Vec::new(),
        deprecation: None,
        returns: None,
        returns_anchor: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r##"
asyncapi: "2.6.0"
info: {title: Order events, version: "1.4.0", description: What happens to orders.}
servers:
  production: {url: "kafka.example.com:9092", protocol: kafka}
channels:
  orders.{region}:
    description: Keyed by order id.
    parameters:
      region: {description: The shop's region, schema: {type: string, enum: [eu, us]}}
    subscribe:
      operationId: receiveOrderEvents
      summary: Events about orders.
      message:
        oneOf:
          - $ref: "#/components/messages/OrderPlaced"
          - $ref: "#/components/messages/OrderCancelled"
    publish:
      message: {payload: {type: object, properties: {note: {type: string}}}}
components:
  messages:
    OrderPlaced:
      name: OrderPlaced
      contentType: application/json
      payload: {$ref: "#/components/schemas/OrderPlaced"}
    OrderCancelled:
      messageId: OrderCancelled
      payload:
        type: object
        properties: {reason: {type: string, description: Why.}}
  schemas:
    OrderPlaced:
      type: object
      required: [orderId]
      properties:
        orderId: {type: string, format: uuid, description: The order.}
        total: {$ref: "#/components/schemas/Money"}
        lines: {type: array, items: {$ref: "#/components/schemas/Line"}}
    Money: {type: object}
    Line: {type: object}
"##;

    #[test]
    fn version_2_channels_list_their_operations_messages_and_fields() {
        let doc = read_asyncapi(V2).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Order events"));
        assert_eq!(doc.servers, ["kafka.example.com:9092 (kafka)"]);
        assert_eq!(doc.groups.len(), 1);
        let group = &doc.groups[0];
        assert_eq!(group.tag, "orders.{region}");
        assert_eq!(group.description.as_deref(), Some("Keyed by order id."));
        let methods: Vec<&str> = group.operations.iter().map(|o| o.method.as_str()).collect();
        assert_eq!(methods, ["PUBLISH", "SUBSCRIBE"]);
        let receive = &group.operations[1];
        assert_eq!(receive.anchor, "op-receiveOrderEvents");
        assert_eq!(receive.summary.as_deref(), Some("Events about orders."));
        assert_eq!(
            receive.messages,
            ["OrderPlaced (application/json)", "OrderCancelled"]
        );
        let fields: Vec<(&str, &str, bool, &str)> = receive
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
            fields,
            [
                ("region", "channel", true, "string"),
                ("orderId", "OrderPlaced payload", true, "string (uuid)"),
                ("total", "OrderPlaced payload", false, "object"),
                ("lines", "OrderPlaced payload", false, "array of Line"),
                ("reason", "OrderCancelled payload", false, "string"),
            ]
        );
        assert_eq!(receive.parameters[4].description.as_deref(), Some("Why."));
        // A message with neither name nor id is named by its payload.
        assert_eq!(group.operations[0].messages, ["object"]);
    }

    const V3: &str = r##"
asyncapi: 3.0.0
info: {title: Accounts, version: 2.0.0}
servers:
  production: {host: "broker.example.com", pathname: "/mqtt", protocol: mqtt}
channels:
  userSignedUp:
    address: user/signedup
    description: New accounts.
    messages:
      UserSignedUp: {$ref: "#/components/messages/UserSignedUp"}
  unnamed:
    messages:
      Ping: {payload: {type: object, properties: {at: {type: string, format: date-time}}}}
operations:
  onUserSignedUp:
    action: receive
    channel: {$ref: "#/channels/userSignedUp"}
    summary: A user signed up.
    messages: [{$ref: "#/channels/userSignedUp/messages/UserSignedUp"}]
  sendPing:
    action: send
    channel: {$ref: "#/channels/unnamed"}
components:
  messages:
    UserSignedUp:
      name: UserSignedUp
      payload:
        type: object
        properties: {email: {type: string, format: email}}
"##;

    #[test]
    fn version_3_operations_name_their_channels_and_messages() {
        let doc = read_asyncapi(V3).unwrap();
        assert_eq!(doc.servers, ["broker.example.com/mqtt (mqtt)"]);
        let groups: Vec<(&str, &str, &str)> = doc
            .groups
            .iter()
            .flat_map(|g| {
                g.operations
                    .iter()
                    .map(|o| (g.tag.as_str(), o.method.as_str(), o.anchor.as_str()))
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("user/signedup", "RECEIVE", "op-onUserSignedUp"),
                ("unnamed", "SEND", "op-sendPing"),
            ]
        );
        assert_eq!(doc.groups[0].description.as_deref(), Some("New accounts."));
        let signed_up = &doc.groups[0].operations[0];
        assert_eq!(signed_up.messages, ["UserSignedUp"]);
        assert_eq!(signed_up.parameters[0].name, "email");
        assert_eq!(signed_up.parameters[0].schema, "string (email)");
        // Without `messages`, the channel's messages.
        let ping = &doc.groups[1].operations[0];
        assert_eq!(ping.parameters[0].name, "at");
    }

    #[test]
    fn other_documents_and_enormous_payloads_are_bounded_with_a_sentence() {
        for (text, want) in [
            ("openapi: 3.0.0\n", "not an AsyncAPI document"),
            ("asyncapi: 1.2.0\n", "only versions 2 and 3"),
            ("asyncapi: 2.0.0\nchannels: [\n", "line 3"),
        ] {
            let got = read_asyncapi(text).unwrap_err();
            assert!(got.contains(want), "{text:?}: {got}");
        }
        let mut wide = String::from(
            "asyncapi: 2.6.0\nchannels:\n  c:\n    subscribe:\n      message:\n        payload:\n          properties:\n",
        );
        for i in 0..(MAX_FIELDS + 5) {
            wide.push_str(&format!("            f{i}: {{type: string}}\n"));
        }
        let doc = read_asyncapi(&wide).unwrap();
        let fields = &doc.groups[0].operations[0].parameters;
        assert_eq!(fields.len(), MAX_FIELDS + 1);
        assert_eq!(
            fields[MAX_FIELDS].description.as_deref(),
            Some("5 more fields are not listed")
        );
        // A $ref loop between channels and messages ends.
        let looped = "asyncapi: 2.6.0\nchannels:\n  c:\n    subscribe:\n      message: {$ref: '#/components/messages/A'}\ncomponents:\n  messages:\n    A: {$ref: '#/components/messages/B'}\n    B: {$ref: '#/components/messages/A'}\n";
        let doc = read_asyncapi(looped).unwrap();
        assert_eq!(doc.operation_count(), 1);
    }
}
