//! The YAML event stream → `serde_json::Value` builder, and position lookup.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl Position {
    fn from_span(span: &Span) -> Self {
        Position {
            line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
            column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// Resource limits for untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest allowed nesting of mappings and sequences.
    pub max_depth: usize,
    /// Alias expansion may add at most `alias_base + alias_factor × (nodes written out)` nodes.
    pub alias_base: usize,
    pub alias_factor: usize,
    /// …and at most `alias_bytes_base + alias_factor × (the text's length)` bytes: a few
    /// aliases of one long string are few nodes but many bytes (70 × 70 copies of a 300 KB
    /// string took 2.9 GB).
    pub alias_bytes_base: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            alias_base: 10_000,
            alias_factor: 10,
            alias_bytes_base: 16 * 1024 * 1024,
        }
    }
}

/// What a value holds in bytes (its strings and keys, a word per node), counted until past
/// `cap`: an alias's copy costs about this much.
fn value_bytes(value: &Value, cap: usize) -> usize {
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(8);
        match v {
            Value::String(text) => total = total.saturating_add(text.len()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (key, item) in map {
                    total = total.saturating_add(key.len());
                    stack.push(item);
                }
            }
            _ => {}
        }
        if total > cap {
            break;
        }
    }
    total
}

/// How plain scalars and merge keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// YAML 1.2's core schema, as Backstage's `yaml` package reads catalog files: `yes` and
    /// `on` are strings, `0755` is 755, `<<` is an ordinary key.
    #[default]
    Core,
    /// As the Kubernetes API server reads manifests (`sigs.k8s.io/yaml`, go-yaml v2, YAML 1.1):
    /// `yes`/`on`/`y` are booleans, `0755` is 493, `1_000` is 1000, `<<` merges mappings,
    /// mapping keys are resolved and written back as text (`on:` is `"true"`). See
    /// `yaml11.rs` for the full table.
    Kubernetes,
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// Where the document's content starts.
    pub start: Position,
    /// Where each node of `value` starts.
    pub spans: Spans,
}

/// Where each node of a document starts, recorded while parsing so that finding a field's
/// line and column needs no second pass over the text. Nodes are kept in document order
/// (pre-order, mapping keys left out) with their subtree sizes: 12 bytes per node, a small
/// fraction of what the `Value` itself takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    nodes: Vec<NodeSpan>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NodeSpan {
    /// For a mapping value, its key's position (where a reader looks first), as [`locate`].
    position: Position,
    /// Nodes in this subtree, itself included.
    size: u32,
}

impl Spans {
    /// The node at `path` below node `from` of `value`'s tree (`value` is node `from`), or
    /// `None` when the path does not exist.
    pub fn node(&self, value: &Value, from: usize, path: &[PathSegment]) -> Option<usize> {
        let mut node = from;
        let mut value = value;
        for segment in path {
            let (next, child) = self.child(value, node, segment)?;
            node = next;
            value = child;
        }
        Some(node)
    }

    /// Where the node at `path` below node `from` starts, as [`locate`] answers: the deepest
    /// existing ancestor when the path does not exist; `None` only when `from` is unknown.
    pub fn locate(&self, value: &Value, from: usize, path: &[PathSegment]) -> Option<Position> {
        let mut best = self.nodes.get(from)?.position;
        let mut node = from;
        let mut value = value;
        for segment in path {
            let Some((next, child)) = self.child(value, node, segment) else {
                break;
            };
            let Some(span) = self.nodes.get(next) else {
                break;
            };
            best = span.position;
            node = next;
            value = child;
        }
        Some(best)
    }

    /// Removes the node at `path` below node `from` from `value` (node `from`'s tree) and
    /// from these spans, so that the rest still locates exactly. `false` when there is no
    /// such node (nothing changes). Mapping order is kept.
    pub fn remove(&mut self, value: &mut Value, from: usize, path: &[PathSegment]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        // The nodes from `from` down to the parent of the removed node.
        let mut chain = vec![from];
        let mut node = from;
        let mut current: &Value = value;
        for segment in parents {
            let Some((next, child)) = self.child(current, node, segment) else {
                return false;
            };
            chain.push(next);
            node = next;
            current = child;
        }
        let Some((target, _)) = self.child(current, node, last) else {
            return false;
        };
        let Some(size) = self.nodes.get(target).map(|n| n.size) else {
            return false;
        };
        // Now the value: walk down again mutably.
        let mut parent: &mut Value = value;
        for segment in parents {
            let next = match (segment, parent) {
                (PathSegment::Key(k), Value::Object(map)) => map.get_mut(k),
                (PathSegment::Index(i), Value::Array(items)) => items.get_mut(*i),
                _ => None,
            };
            let Some(next) = next else { return false };
            parent = next;
        }
        let removed = match (last, parent) {
            (PathSegment::Key(k), Value::Object(map)) => map.shift_remove(k).is_some(),
            (PathSegment::Index(i), Value::Array(items)) if *i < items.len() => {
                items.remove(*i);
                true
            }
            _ => false,
        };
        if !removed {
            return false;
        }
        let end = (target + size as usize).min(self.nodes.len());
        self.nodes.drain(target..end);
        for n in chain {
            if let Some(span) = self.nodes.get_mut(n) {
                span.size = span.size.saturating_sub(size);
            }
        }
        self.nodes.shrink_to_fit();
        true
    }

    /// Moves every position down by `lines` (a text that starts at line `lines + 1` of its
    /// file).
    fn shift_lines(&mut self, lines: u32) {
        for node in &mut self.nodes {
            node.position.line = node.position.line.saturating_add(lines);
        }
    }

    fn child<'v>(
        &self,
        value: &'v Value,
        node: usize,
        segment: &PathSegment,
    ) -> Option<(usize, &'v Value)> {
        // Children follow their parent, each after the previous one's subtree.
        let mut index = node + 1;
        match (segment, value) {
            (PathSegment::Key(key), Value::Object(map)) => {
                for (k, child) in map {
                    if k == key {
                        return Some((index, child));
                    }
                    index += self.nodes.get(index)?.size as usize;
                }
                None
            }
            (PathSegment::Index(i), Value::Array(items)) => {
                let child = items.get(*i)?;
                for _ in 0..*i {
                    index += self.nodes.get(index)?.size as usize;
                }
                Some((index, child))
            }
            _ => None,
        }
    }
}

/// A step in a path into a document (`spec`, `owner`, or an array index).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Key(k) => f.write_str(k),
            PathSegment::Index(i) => write!(f, "{i}"),
        }
    }
}

impl From<&str> for PathSegment {
    fn from(value: &str) -> Self {
        PathSegment::Key(value.to_owned())
    }
}

impl From<usize> for PathSegment {
    fn from(value: usize) -> Self {
        PathSegment::Index(value)
    }
}

/// Why a YAML stream could not be turned into documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("invalid YAML: {message}")]
    Syntax { position: Position, message: String },
    #[error("document nests deeper than {limit} levels")]
    TooDeep { position: Position, limit: usize },
    #[error(
        "aliases expand to more than {limit} nodes; refusing a possible \"billion laughs\" document"
    )]
    AliasExpansion { position: Position, limit: usize },
    #[error(
        "aliases copy more than {limit} bytes; refusing a document that expands to far more than its text"
    )]
    AliasBytes { position: Position, limit: usize },
    #[error("duplicate mapping key `{key}`")]
    DuplicateKey { position: Position, key: String },
    #[error("alias refers to an unknown anchor")]
    UnknownAlias { position: Position },
    #[error("mapping keys must be scalars, not mappings or sequences")]
    ComplexKey { position: Position },
    #[error("`{text}` is a YAML 1.1 float that JSON cannot hold; Kubernetes rejects the object")]
    NotJson { position: Position, text: String },
    #[error("a merge key (`<<`) needs a mapping or a list of mappings")]
    MergeNotMapping { position: Position },
    #[error("control character U+{code:04X} is not allowed in YAML")]
    ControlCharacter { position: Position, code: u32 },
}

impl YamlError {
    pub fn position(&self) -> Position {
        match self {
            YamlError::Syntax { position, .. }
            | YamlError::TooDeep { position, .. }
            | YamlError::AliasExpansion { position, .. }
            | YamlError::AliasBytes { position, .. }
            | YamlError::DuplicateKey { position, .. }
            | YamlError::UnknownAlias { position }
            | YamlError::ComplexKey { position }
            | YamlError::NotJson { position, .. }
            | YamlError::MergeNotMapping { position }
            | YamlError::ControlCharacter { position, .. } => *position,
        }
    }
}

fn syntax_error(err: &ScanError) -> YamlError {
    YamlError::Syntax {
        position: Position {
            line: u32::try_from(err.marker().line()).unwrap_or(u32::MAX),
            column: u32::try_from(err.marker().col() + 1).unwrap_or(u32::MAX),
        },
        message: err.info().to_owned(),
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes_before: usize,
        span: usize,
    },
    Map {
        /// Entries in document order; the `Map` is built once, at its exact size, when the
        /// mapping ends (growing it entry by entry left up to half of it unused).
        entries: Vec<(String, Value)>,
        /// Keys of a large mapping, for duplicate checks (small ones are scanned).
        keys: Option<std::collections::HashSet<String>>,
        key: Option<String>,
        /// Where the pending key starts: the position recorded for its value.
        key_position: Position,
        /// Where the pending value's spans start.
        value_start: usize,
        /// The pending key is a merge key (`<<`, Kubernetes schema).
        merge_key: bool,
        /// Set once a merge happened in this mapping.
        merged: Option<Box<Merged>>,
        anchor: usize,
        nodes_before: usize,
        span: usize,
    },
}

/// A mapping with merge keys: which entries came from merges (explicit keys after them
/// replace them rather than being duplicates), and each entry's spans, since merged entries
/// no longer follow one another in the text.
#[derive(Default)]
struct Merged {
    keys: std::collections::HashSet<String>,
    entry_spans: Vec<EntrySpans>,
}

enum EntrySpans {
    /// `len` spans from `start` in `Builder::spans`.
    Range { start: usize, len: usize },
    /// Spans taken from a merged mapping.
    Owned(Vec<NodeSpan>),
}

struct Builder<'a> {
    limits: &'a Limits,
    stack: Vec<Frame>,
    /// Completed anchored nodes: anchor id → (value, node count, first span).
    anchors: HashMap<usize, (Value, usize, usize)>,
    /// The current document's node spans.
    spans: Vec<NodeSpan>,
    /// Nodes read from the text.
    nodes: usize,
    /// Nodes added by alias expansion.
    expanded: usize,
    /// Bytes the expanded aliases copied (see [`Limits::alias_bytes_base`]).
    expanded_bytes: usize,
}

impl Builder<'_> {
    /// Records the start of a value node (not a key); returns its slot.
    fn start_node(&mut self, span: &Span) -> usize {
        let position = match self.stack.last() {
            Some(Frame::Map { key_position, .. }) => *key_position,
            _ => Position::from_span(span),
        };
        self.spans.push(NodeSpan { position, size: 1 });
        self.spans.len() - 1
    }

    /// Places a finished node in its parent; returns it when it is a document root.
    fn push_value(&mut self, value: Value, span: &Span) -> Result<Option<Value>, YamlError> {
        match self.stack.last_mut() {
            None => Ok(Some(value)),
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(None)
            }
            Some(Frame::Map {
                entries,
                keys,
                key,
                value_start,
                merge_key,
                merged,
                span: map_slot,
                ..
            }) => match key.take() {
                Some(_) if *merge_key => {
                    *merge_key = false;
                    let spans = self.spans.split_off(*value_start);
                    let merged = merged.get_or_insert_with(|| {
                        Box::new(Merged {
                            keys: std::collections::HashSet::new(),
                            entry_spans: explicit_spans(&self.spans, *map_slot, entries.len()),
                        })
                    });
                    merge(entries, keys, merged, value, &spans).map_err(|()| {
                        YamlError::MergeNotMapping {
                            position: Position::from_span(span),
                        }
                    })?;
                    Ok(None)
                }
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Array(_) | Value::Object(_) => {
                            return Err(YamlError::ComplexKey {
                                position: Position::from_span(span),
                            });
                        }
                    };
                    let from_merge = merged.as_ref().is_some_and(|m| m.keys.contains(&k));
                    if is_duplicate(entries, keys, &k) && !from_merge {
                        return Err(YamlError::DuplicateKey {
                            position: Position::from_span(span),
                            key: k,
                        });
                    }
                    *key = Some(k);
                    *value_start = self.spans.len();
                    if let Some(Frame::Map { key_position, .. }) = self.stack.last_mut() {
                        *key_position = Position::from_span(span);
                    }
                    Ok(None)
                }
                Some(k) => {
                    match merged {
                        None => entries.push((k, value)),
                        Some(merged) => {
                            let spans = EntrySpans::Range {
                                start: *value_start,
                                len: self.spans.len() - *value_start,
                            };
                            // An explicit key after a merge replaces the merged value.
                            if merged.keys.remove(&k)
                                && let Some(i) = entries.iter().position(|(e, _)| *e == k)
                            {
                                entries[i].1 = value;
                                merged.entry_spans[i] = spans;
                            } else {
                                entries.push((k, value));
                                merged.entry_spans.push(spans);
                            }
                        }
                    }
                    Ok(None)
                }
            },
        }
    }

    fn open(&mut self, frame: Frame, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError::TooDeep {
                position: Position::from_span(span),
                limit: self.limits.max_depth,
            });
        }
        self.nodes += 1;
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<Option<Value>, YamlError> {
        let (value, anchor, nodes_before, slot) = match self.stack.pop() {
            Some(Frame::Seq {
                mut items,
                anchor,
                nodes_before,
                span,
            }) => {
                items.shrink_to_fit();
                (Value::Array(items), anchor, nodes_before, span)
            }
            Some(Frame::Map {
                entries,
                anchor,
                nodes_before,
                span,
                merged,
                ..
            }) => {
                if let Some(merged) = merged {
                    // Lay the entries' spans out in the mapping's final order.
                    let tail = self.spans.split_off(span + 1);
                    for entry in merged.entry_spans {
                        match entry {
                            EntrySpans::Range { start, len } => {
                                let from = start - (span + 1);
                                self.spans.extend_from_slice(&tail[from..from + len]);
                            }
                            EntrySpans::Owned(spans) => self.spans.extend(spans),
                        }
                    }
                }
                let mut map = Map::with_capacity(entries.len());
                map.extend(entries);
                (Value::Object(map), anchor, nodes_before, span)
            }
            None => return Ok(None),
        };
        let size = u32::try_from(self.spans.len() - slot).unwrap_or(u32::MAX);
        if let Some(node) = self.spans.get_mut(slot) {
            node.size = size;
        }
        if anchor != 0 {
            let count = self.nodes + self.expanded - nodes_before;
            self.anchors.insert(anchor, (value.clone(), count, slot));
        }
        self.push_value(value, span)
    }

    /// A merge key (`<<`) was read: its value is merged into the mapping.
    fn merge_key(&mut self, span: &Span) {
        let start = self.spans.len();
        if let Some(Frame::Map {
            key,
            key_position,
            value_start,
            merge_key,
            ..
        }) = self.stack.last_mut()
        {
            *key = Some("<<".to_owned());
            *merge_key = true;
            *key_position = Position::from_span(span);
            *value_start = start;
        }
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }
}

/// The spans of a mapping's entries so far, which follow one another from its slot.
fn explicit_spans(spans: &[NodeSpan], map_slot: usize, entries: usize) -> Vec<EntrySpans> {
    let mut out = Vec::with_capacity(entries);
    let mut at = map_slot + 1;
    for _ in 0..entries {
        let len = spans.get(at).map_or(1, |n| n.size as usize);
        out.push(EntrySpans::Range { start: at, len });
        at += len;
    }
    out
}

/// Applies a merge key's value to a mapping being built, as go-yaml v2 does: each merged
/// entry is set in turn, replacing a key already there; of a list of mappings the last is
/// applied first, so earlier mappings win. `spans` are the value's spans (its root first).
fn merge(
    entries: &mut Vec<(String, Value)>,
    keys: &mut Option<std::collections::HashSet<String>>,
    merged: &mut Merged,
    value: Value,
    spans: &[NodeSpan],
) -> Result<(), ()> {
    // (mapping, its spans) for each mapping to merge, in the order to apply them.
    let mut sources: Vec<(Map<String, Value>, &[NodeSpan])> = Vec::new();
    match value {
        Value::Object(map) => sources.push((map, spans)),
        Value::Array(items) => {
            let mut at = 1;
            for item in items {
                let len = spans.get(at).map_or(1, |n| n.size as usize);
                let item_spans = spans.get(at..at + len).unwrap_or(&[]);
                at += len;
                match item {
                    Value::Object(map) => sources.push((map, item_spans)),
                    _ => return Err(()),
                }
            }
            sources.reverse();
        }
        _ => return Err(()),
    }
    for (map, spans) in sources {
        let mut at = 1;
        for (k, v) in map {
            let len = spans.get(at).map_or(1, |n| n.size as usize);
            let child = EntrySpans::Owned(spans.get(at..at + len).unwrap_or(&[]).to_vec());
            at += len;
            match entries.iter().position(|(e, _)| *e == k) {
                Some(i) => {
                    entries[i].1 = v;
                    merged.entry_spans[i] = child;
                }
                None => {
                    if let Some(keys) = keys {
                        keys.insert(k.clone());
                    }
                    entries.push((k.clone(), v));
                    merged.entry_spans.push(child);
                }
            }
            merged.keys.insert(k);
        }
    }
    Ok(())
}

/// Whether `key` is already in a mapping being built. Small mappings are scanned; from
/// `SCAN_LIMIT` entries on, a set of their keys is kept so that a huge mapping stays linear.
fn is_duplicate(
    entries: &[(String, Value)],
    keys: &mut Option<std::collections::HashSet<String>>,
    key: &str,
) -> bool {
    const SCAN_LIMIT: usize = 32;
    if entries.len() < SCAN_LIMIT {
        return entries.iter().any(|(k, _)| k == key);
    }
    let keys = keys.get_or_insert_with(|| entries.iter().map(|(k, _)| k.clone()).collect());
    !keys.insert(key.to_owned())
}

/// Parses every document of a YAML stream (YAML 1.2 core schema).
///
/// An empty stream gives no documents; a document that is only a comment gives `null`.
pub fn parse_documents(text: &str, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    parse_documents_as(text, limits, Schema::Core)
}

/// The first control character YAML does not allow (anything below U+0020 but tab, line
/// feed and carriage return), with its position: the parser would stop at it with a
/// misleading "unexpected end of stream".
fn control_character(text: &str) -> Option<YamlError> {
    let at = text
        .bytes()
        .position(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))?;
    let before = &text[..at];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Some(YamlError::ControlCharacter {
        position: Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        },
        code: u32::from(text.as_bytes()[at]),
    })
}

/// [`parse_documents_as`] for a text that starts at line `first_line` of its file (a part of
/// a large file read in pieces): positions, and error positions, are the file's.
pub fn parse_documents_at(
    text: &str,
    limits: &Limits,
    schema: Schema,
    first_line: u32,
) -> Result<Vec<Document>, YamlError> {
    let lines = first_line.saturating_sub(1);
    if lines == 0 {
        return parse_documents_as(text, limits, schema);
    }
    match parse_documents_as(text, limits, schema) {
        Ok(mut docs) => {
            for doc in &mut docs {
                doc.start.line = doc.start.line.saturating_add(lines);
                doc.spans.shift_lines(lines);
            }
            Ok(docs)
        }
        Err(mut e) => {
            let position = match &mut e {
                YamlError::Syntax { position, .. }
                | YamlError::TooDeep { position, .. }
                | YamlError::AliasExpansion { position, .. }
                | YamlError::AliasBytes { position, .. }
                | YamlError::DuplicateKey { position, .. }
                | YamlError::UnknownAlias { position }
                | YamlError::ComplexKey { position }
                | YamlError::NotJson { position, .. }
                | YamlError::MergeNotMapping { position }
                | YamlError::ControlCharacter { position, .. } => position,
            };
            position.line = position.line.saturating_add(lines);
            Err(e)
        }
    }
}

/// Parses every document of a YAML stream under `schema`.
pub fn parse_documents_as(
    text: &str,
    limits: &Limits,
    schema: Schema,
) -> Result<Vec<Document>, YamlError> {
    if let Some(error) = control_character(text) {
        return Err(error);
    }
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        spans: Vec::new(),
        nodes: 0,
        expanded: 0,
        expanded_bytes: 0,
    };
    let mut documents = Vec::new();
    let mut doc_start = Position::default();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| syntax_error(&e))?;
        let finished = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                doc_start = Position::from_span(&span);
                builder.anchors.clear();
                builder.spans.clear();
                None
            }
            Event::DocumentEnd => None,
            Event::Alias(id) => {
                let position = Position::from_span(&span);
                let (value, count, first) = builder
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or(YamlError::UnknownAlias { position })?;
                builder.expanded += count;
                let limit = limits.alias_base + limits.alias_factor * builder.nodes;
                if builder.expanded > limit {
                    return Err(YamlError::AliasExpansion { position, limit });
                }
                let byte_limit = limits
                    .alias_bytes_base
                    .saturating_add(limits.alias_factor.saturating_mul(text.len()));
                let room = byte_limit.saturating_sub(builder.expanded_bytes);
                builder.expanded_bytes = builder
                    .expanded_bytes
                    .saturating_add(value_bytes(&value, room));
                if builder.expanded_bytes > byte_limit {
                    return Err(YamlError::AliasBytes {
                        position,
                        limit: byte_limit,
                    });
                }
                if !builder.in_key_position() {
                    // The copy has the anchored node's shape; all of it sits at the alias.
                    let slot = builder.start_node(&span);
                    let size = builder.spans.get(first).map_or(1, |n| n.size);
                    if let Some(node) = builder.spans.get_mut(slot) {
                        node.size = size;
                        let at = node.position;
                        for i in 1..size as usize {
                            let size = builder.spans.get(first + i).map_or(1, |n| n.size);
                            builder.spans.push(NodeSpan { position: at, size });
                        }
                    }
                }
                builder.push_value(value, &span)?
            }
            Event::Scalar(text, style, anchor, tag) => {
                builder.nodes += 1;
                let kubernetes = schema == Schema::Kubernetes;
                let plain = style == ScalarStyle::Plain && tag.is_none();
                let (value, slot) = if builder.in_key_position() {
                    if kubernetes && plain && text == "<<" {
                        builder.merge_key(&span);
                        continue;
                    }
                    let key = if kubernetes && plain {
                        crate::yaml11::key(&text)
                    } else {
                        text.into_owned()
                    };
                    (Value::String(key), usize::MAX)
                } else {
                    let slot = builder.start_node(&span);
                    let value = if kubernetes && plain {
                        crate::yaml11::resolve_plain(&text).map_err(|_| YamlError::NotJson {
                            position: Position::from_span(&span),
                            text: text.clone().into_owned(),
                        })?
                    } else {
                        resolve_scalar(text, style, tag.as_deref())
                    };
                    (value, slot)
                };
                if anchor != 0 {
                    builder.anchors.insert(anchor, (value.clone(), 1, slot));
                }
                builder.push_value(value, &span)?
            }
            Event::SequenceStart(anchor, _) => {
                if builder.in_key_position() {
                    return Err(YamlError::ComplexKey {
                        position: Position::from_span(&span),
                    });
                }
                let nodes_before = builder.nodes + builder.expanded;
                let slot = builder.start_node(&span);
                builder.open(
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        nodes_before,
                        span: slot,
                    },
                    &span,
                )?;
                None
            }
            Event::MappingStart(anchor, _) => {
                if builder.in_key_position() {
                    return Err(YamlError::ComplexKey {
                        position: Position::from_span(&span),
                    });
                }
                let nodes_before = builder.nodes + builder.expanded;
                let slot = builder.start_node(&span);
                builder.open(
                    Frame::Map {
                        entries: Vec::new(),
                        keys: None,
                        key: None,
                        key_position: Position::default(),
                        value_start: 0,
                        merge_key: false,
                        merged: None,
                        anchor,
                        nodes_before,
                        span: slot,
                    },
                    &span,
                )?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(&span)?,
        };
        if let Some(value) = finished {
            documents.push(Document {
                value,
                start: doc_start,
                spans: Spans {
                    nodes: std::mem::take(&mut builder.spans),
                },
            });
        }
    }
    Ok(documents)
}

/// Resolves a scalar under the YAML 1.2 core schema.
fn resolve_scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && tag.is_yaml_core_schema()
    {
        match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => return Value::String(text.into_owned()),
            "null" => return Value::Null,
            "bool" | "int" | "float" => return resolve_plain(text),
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.into_owned());
    }
    resolve_plain(text)
}

fn resolve_plain(text: Cow<'_, str>) -> Value {
    match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(&text) {
        return Value::Number(n);
    }
    if let Some(n) = parse_float(&text) {
        return n;
    }
    Value::String(text.into_owned())
}

fn parse_int(s: &str) -> Option<Number> {
    let bytes = s.as_bytes();
    let first = *bytes.first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return u64::from_str_radix(oct, 8).ok().map(Number::from);
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::from(i));
    }
    if let Ok(u) = s.trim_start_matches('+').parse::<u64>() {
        return Some(Number::from(u));
    }
    // Too large for an integer: keep it as a float, as JavaScript would.
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

fn parse_float(s: &str) -> Option<Value> {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        // JSON has no infinities or NaN; keep the YAML spelling rather than invent a number.
        return Some(Value::String(s.to_owned()));
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let b = unsigned.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

enum LocateFrame {
    Seq {
        next_index: usize,
    },
    Map {
        expecting_key: bool,
        key: Option<(String, Position)>,
    },
}

/// Finds where the node at `path` in document `doc_index` (0-based) starts.
///
/// For a mapping entry the position of its key is returned, which is where a reader looks
/// first. When the path does not exist (a missing required field, say), the position of the
/// deepest existing ancestor is returned instead; `None` only when the document is missing.
pub fn locate(text: &str, doc_index: usize, path: &[PathSegment]) -> Option<Position> {
    locate_many(text, doc_index, &[path]).pop().flatten()
}

/// [`locate`] for several paths of one document in a single pass over the text (a document
/// with many findings is read once, not once per finding).
pub fn locate_many(
    text: &str,
    doc_index: usize,
    paths: &[&[PathSegment]],
) -> Vec<Option<Position>> {
    let mut best: Vec<Option<Position>> = vec![None; paths.len()];
    let mut done = vec![false; paths.len()];
    let mut remaining = paths.len();
    if remaining == 0 {
        return best;
    }
    let mut parser = Parser::new_from_str(text);
    let mut doc = None::<usize>;
    let mut stack: Vec<LocateFrame> = Vec::new();
    let mut current: Vec<PathSegment> = Vec::new();
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::DocumentStart(_) => {
                doc = Some(doc.map_or(0, |d| d + 1));
                if doc == Some(doc_index) {
                    best.fill(Some(Position::from_span(&span)));
                }
                continue;
            }
            Event::DocumentEnd => {
                if doc == Some(doc_index) {
                    return best;
                }
                continue;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
            _ => {}
        }
        if doc != Some(doc_index) {
            continue;
        }
        let position = Position::from_span(&span);
        // Is this event a key, or a node at some path?
        if let Some(LocateFrame::Map {
            expecting_key: true,
            key,
        }) = stack.last_mut()
        {
            match &event {
                Event::MappingEnd => {}
                Event::Scalar(text, ..) => {
                    *key = Some((text.to_string(), position));
                    if let Some(LocateFrame::Map { expecting_key, .. }) = stack.last_mut() {
                        *expecting_key = false;
                    }
                    continue;
                }
                _ => return best,
            }
        }
        let node_position = match stack.last_mut() {
            Some(LocateFrame::Seq { next_index }) if !matches!(event, Event::SequenceEnd) => {
                current.push(PathSegment::Index(*next_index));
                *next_index += 1;
                Some(position)
            }
            Some(LocateFrame::Map {
                expecting_key,
                key: Some((k, key_position)),
            }) if !matches!(event, Event::MappingEnd) => {
                current.push(PathSegment::Key(k.clone()));
                *expecting_key = true;
                Some(*key_position)
            }
            None => Some(position),
            _ => None,
        };
        if let Some(node_position) = node_position {
            for (i, path) in paths.iter().enumerate() {
                if !done[i] && current.len() <= path.len() && path.starts_with(&current) {
                    best[i] = Some(node_position);
                    if current.len() == path.len() {
                        done[i] = true;
                        remaining -= 1;
                    }
                }
            }
            if remaining == 0 {
                return best;
            }
        }
        match event {
            Event::SequenceStart(..) => stack.push(LocateFrame::Seq { next_index: 0 }),
            Event::MappingStart(..) => stack.push(LocateFrame::Map {
                expecting_key: true,
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                current.pop();
            }
            _ => {
                current.pop();
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every path of `value`, parents before children.
    fn all_paths(value: &Value, prefix: &mut Vec<PathSegment>, out: &mut Vec<Vec<PathSegment>>) {
        out.push(prefix.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    prefix.push(PathSegment::Key(k.clone()));
                    all_paths(v, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    prefix.push(PathSegment::Index(i));
                    all_paths(v, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    #[test]
    fn recorded_spans_agree_with_reading_the_text_again() {
        let text = "a: 1\nb:\n  - x\n  - {c: 2, d: [3, 4]}\n  - - 5\n    - six: 6\nbase: &base\n  k: v\n  list: [1, 2]\n\
                    copy: *base\nafter: {\"q\": 1}\n---\n- &s scalar\n- *s\n- nested:\n    deep:\n      deeper: [a, b]\n---\nplain\n";
        let docs = parse_documents(text, &Limits::default()).unwrap();
        assert_eq!(docs.len(), 3);
        let mut checked = 0;
        for (index, doc) in docs.iter().enumerate() {
            let mut paths = Vec::new();
            all_paths(&doc.value, &mut Vec::new(), &mut paths);
            for path in &paths {
                let expected = locate(text, index, path);
                assert_eq!(
                    doc.spans.locate(&doc.value, 0, path),
                    expected,
                    "doc {index} path {path:?}"
                );
                let node = doc.spans.node(&doc.value, 0, path).unwrap();
                assert_eq!(doc.spans.locate(&doc.value, node, &[]), expected);
                checked += 1;
            }
            // Missing paths fall back to the deepest existing ancestor, as `locate` does.
            let missing = vec![
                PathSegment::Key("b".into()),
                PathSegment::Index(1),
                PathSegment::Key("zzz".into()),
            ];
            assert_eq!(
                doc.spans.locate(&doc.value, 0, &missing),
                locate(text, index, &missing)
            );
        }
        assert!(checked > 25, "{checked}");
        assert_eq!(
            docs[0]
                .spans
                .locate(&docs[0].value, 0, &["copy".into(), "list".into(), 1.into()])
                .unwrap()
                .line,
            10
        );
    }

    fn parse(text: &str) -> Result<Vec<Value>, YamlError> {
        parse_documents(text, &Limits::default()).map(|d| d.into_iter().map(|d| d.value).collect())
    }

    #[test]
    fn core_schema_scalars() {
        let docs = parse(
            "a: 1\nb: -2.5\nc: true\nd: ~\ne: 'true'\nf: yes\ng: 0x1F\nh: 1e3\ni: .inf\nj: 007\nk: \"1\"\nl:\n",
        )
        .unwrap();
        assert_eq!(
            docs,
            vec![json!({
                "a": 1, "b": -2.5, "c": true, "d": null, "e": "true", "f": "yes",
                "g": 31, "h": 1000.0, "i": ".inf", "j": 7, "k": "1", "l": null
            })]
        );
    }

    #[test]
    fn multi_document_streams_keep_order_and_start_lines() {
        let docs = parse_documents(
            "a: 1\n---\nb: 2\n---\n# only a comment\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].value, json!({"a": 1}));
        assert_eq!(docs[1].value, json!({"b": 2}));
        assert_eq!(docs[2].value, Value::Null);
        assert_eq!(docs[1].start.line, 2);
    }

    #[test]
    fn empty_stream_has_no_documents() {
        assert_eq!(parse("").unwrap(), Vec::<Value>::new());
        assert_eq!(parse("# nothing\n").unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn aliases_expand() {
        let docs = parse("a: &x {k: [1, 2]}\nb: *x\n").unwrap();
        assert_eq!(docs, vec![json!({"a": {"k": [1, 2]}, "b": {"k": [1, 2]}})]);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, YamlError::AliasExpansion { .. }), "{err:?}");
        assert!(err.position().line >= 2);
    }

    /// Few nodes, many bytes: 70 × 70 copies of one long string passed the node count and
    /// took gigabytes.
    #[test]
    fn aliases_of_long_strings_are_refused_by_size() {
        let long = "l".repeat(300_000);
        let seventy = |name: &str| vec![format!("*{name}"); 70].join(", ");
        let text = format!(
            "a0: &a0 \"{long}\"\na1: &a1 [{}]\na2: &a2 [{}]\nsite_name: x\n",
            seventy("a0"),
            seventy("a1")
        );
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, YamlError::AliasBytes { .. }), "{err:?}");
        assert!(err.to_string().contains("bytes"), "{err}");
        // A few copies of a long string stay fine.
        let few = format!("a0: &a0 \"{long}\"\nb: [*a0, *a0, *a0]\n");
        assert!(parse(&few).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let mut text = String::new();
        for level in 0..200 {
            text.push_str(&" ".repeat(level * 2));
            text.push_str("a:\n");
        }
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(err, YamlError::TooDeep { limit: 128, .. }),
            "{err:?}"
        );
        assert_eq!(err.position().line, 129);
        // Flow nesting is stopped by the scanner itself.
        assert!(parse(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn syntax_errors_carry_positions() {
        let err = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        let YamlError::Syntax { position, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(position.line >= 2, "{position:?}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            err,
            YamlError::DuplicateKey {
                position: Position { line: 3, column: 1 },
                key: "a".into()
            }
        );
        // Large mappings check duplicates through a key set, early and late keys alike.
        let many: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        let doc = parse(&many).unwrap();
        assert_eq!(doc[0].as_object().map(|m| m.len()), Some(100));
        assert_eq!(doc[0]["k99"], 99);
        for (dup, line) in [("k3", 101), ("k70", 101)] {
            let err = parse(&format!("{many}{dup}: x\n")).unwrap_err();
            assert_eq!(
                err,
                YamlError::DuplicateKey {
                    position: Position { line, column: 1 },
                    key: dup.into()
                }
            );
        }
    }

    #[test]
    fn complex_keys_are_errors() {
        assert!(matches!(
            parse("? [a, b]\n: 1\n").unwrap_err(),
            YamlError::ComplexKey { .. }
        ));
    }

    #[test]
    fn locate_finds_keys_items_and_ancestors() {
        let text = "a: 1\n---\nkind: Component\nspec:\n  owner: team\n  tags:\n    - x\n    - y\n";
        let p = |segs: &[PathSegment]| locate(text, 1, segs);
        assert_eq!(
            p(&["spec".into(), "owner".into()]),
            Some(Position { line: 5, column: 3 })
        );
        assert_eq!(
            p(&["spec".into(), "tags".into(), 1.into()]),
            Some(Position { line: 8, column: 7 })
        );
        // Missing field: the deepest existing ancestor.
        assert_eq!(
            p(&["spec".into(), "lifecycle".into()]),
            Some(Position { line: 4, column: 1 })
        );
        assert_eq!(
            locate(text, 0, &["a".into()]),
            Some(Position { line: 1, column: 1 })
        );
        assert_eq!(locate(text, 5, &["a".into()]), None);
    }
}
