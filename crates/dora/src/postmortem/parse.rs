//! Reading a postmortem file: the front matter's frame, its fields, and the actions.
//!
//! Validation goes on after a problem so that one run lists everything wrong with a file,
//! as a linter does; only a frame or YAML error stops it (there is nothing to walk then).

use pave_yaml::{Limits, PathSegment, Position, Schema, Spans, parse_documents_at};
use serde_json::{Map, Value};

use super::day::Day;
use super::diagnostic::{Diagnostic, PostmortemError, Problem};
use super::model::{Action, ActionStatus, EXCERPT_CHARS, Postmortem};
use super::names::{normalise_reference, suggest};

/// Bounds on the work one file may cause, and what the caller knows about where it came from.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The front matter's size limit in bytes, the `---` lines left out.
    pub max_front_matter_bytes: usize,
    pub max_body_bytes: usize,
    pub max_actions: usize,
    pub max_incidents: usize,
    /// Diagnostics kept per file; one more says how many were left out.
    pub max_diagnostics: usize,
    pub yaml: Limits,
    /// The entity of the catalog source the file was read from: the postmortem's entity when
    /// its front matter names none.
    pub default_entity: Option<String>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_front_matter_bytes: 64 * 1024,
            max_body_bytes: 1024 * 1024,
            max_actions: 200,
            max_incidents: 100,
            max_diagnostics: 100,
            // Front matter is three levels deep; anchors have no business in it beyond a
            // shared owner or two.
            yaml: Limits {
                max_depth: 32,
                alias_base: 1_000,
                alias_factor: 4,
                alias_bytes_base: 1024 * 1024,
            },
            default_entity: None,
        }
    }
}

const ROOT_FIELDS: &[&str] = &[
    "title",
    "incidents",
    "date",
    "severity",
    "summary",
    "entity",
    "actions",
];
const ACTION_FIELDS: &[&str] = &["title", "owner", "due", "status", "closed", "link"];
const STATUSES: &[&str] = &["open", "in-progress", "done", "wontfix"];

/// Extension fields start with this and are kept, not checked.
const EXTENSION_PREFIX: &str = "x-";

/// The line the front matter's YAML starts on (after the opening `---`).
const FRONT_MATTER_LINE: u32 = 2;
const FILE_START: Position = Position { line: 1, column: 1 };

/// Parses a postmortem with the default [`ParseOptions`].
pub fn parse(file_name: &str, text: &str) -> Result<Postmortem, PostmortemError> {
    parse_with(file_name, text, &ParseOptions::default())
}

/// Parses a postmortem: Markdown with YAML front matter between `---` lines. Every problem
/// of the file is reported, each at its line and column.
pub fn parse_with(
    file_name: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<Postmortem, PostmortemError> {
    let fail = |diagnostics| PostmortemError {
        file: file_name.to_owned(),
        diagnostics,
    };
    let frame = split_front_matter(text, options.max_front_matter_bytes).map_err(|problem| {
        fail(vec![Diagnostic {
            position: FILE_START,
            path: String::new(),
            problem,
        }])
    })?;
    let documents = parse_documents_at(frame.front, &options.yaml, Schema::Core, FRONT_MATTER_LINE)
        .map_err(|e| {
            fail(vec![Diagnostic {
                position: e.position(),
                path: String::new(),
                problem: Problem::Yaml(e),
            }])
        })?;
    let mut reader = Reader {
        options,
        lines: frame
            .front
            .split('\n')
            .map(|l| l.trim_end_matches('\r'))
            .collect(),
        diagnostics: Vec::new(),
        left_out: 0,
    };
    if frame.body.len() > options.max_body_bytes {
        reader.report(
            Position {
                line: frame.body_line,
                column: 1,
            },
            String::new(),
            Problem::BodyTooLarge {
                limit: options.max_body_bytes,
            },
        );
    }
    if let Some(second) = documents.get(1) {
        reader.report(second.start, String::new(), Problem::SeveralDocuments);
    }
    // Front matter with nothing but comments is `null`: read it as no fields at all.
    let empty = (Value::Object(Map::new()), Spans::default());
    let (root, spans) = documents
        .first()
        .filter(|d| !d.value.is_null())
        .map_or((&empty.0, &empty.1), |d| (&d.value, &d.spans));
    let fields = reader.front_matter(
        Node {
            value: root,
            index: 0,
        },
        spans,
    );
    reader.finish();
    match fields {
        Some(fields) if reader.diagnostics.is_empty() => {
            let excerpt = excerpt(fields.summary.as_deref(), frame.body);
            let entity = fields.entity.or_else(|| {
                let default = options.default_entity.as_deref()?;
                Some(normalise_reference(default).unwrap_or_else(|| default.to_owned()))
            });
            Ok(Postmortem {
                file: file_name.to_owned(),
                title: fields.title,
                incidents: fields.incidents,
                date: fields.date,
                severity: fields.severity,
                summary: fields.summary,
                entity,
                actions: fields.actions,
                extensions: fields.extensions,
                body: frame.body.to_owned(),
                body_line: frame.body_line,
                excerpt,
            })
        }
        _ => Err(fail(reader.diagnostics)),
    }
}

/// A file cut at its front matter's `---` lines.
struct Frame<'t> {
    front: &'t str,
    body: &'t str,
    body_line: u32,
}

fn split_front_matter(text: &str, max_front_matter_bytes: usize) -> Result<Frame<'_>, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_fence = |line: &str| line.trim_end_matches(['\n', '\r', ' ', '\t']) == "---";
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().ok_or(Problem::MissingFrontMatter)?;
    if !is_fence(opening) {
        return Err(Problem::MissingFrontMatter);
    }
    let front_start = opening.len();
    let mut offset = front_start;
    for (line_number, line) in (2u32..).zip(lines) {
        if is_fence(line) {
            return Ok(Frame {
                front: &text[front_start..offset],
                body: &text[offset + line.len()..],
                body_line: line_number + 1,
            });
        }
        offset += line.len();
        if offset - front_start > max_front_matter_bytes {
            return Err(Problem::FrontMatterTooLarge {
                limit: max_front_matter_bytes,
            });
        }
    }
    Err(Problem::UnterminatedFrontMatter)
}

/// A node of the front matter: its value and its index in the document's [`Spans`].
#[derive(Clone, Copy)]
struct Node<'v> {
    value: &'v Value,
    index: usize,
}

/// A mapping entry: the node, the key's position, and the value's position (where it starts
/// when on the key's line, else the key's).
#[derive(Clone, Copy)]
struct Entry<'v> {
    node: Node<'v>,
    key_position: Position,
    value_position: Position,
}

/// Where a mapping is, for what it lacks: its position and its dotted path.
#[derive(Clone, Copy)]
struct Place<'p> {
    position: Position,
    prefix: &'p str,
}

/// The front matter's fields, once they are all valid.
struct Fields {
    title: String,
    incidents: Vec<String>,
    date: Day,
    severity: Option<u8>,
    summary: Option<String>,
    entity: Option<String>,
    actions: Vec<Action>,
    extensions: Map<String, Value>,
}

struct Reader<'o, 't> {
    options: &'o ParseOptions,
    /// The front matter's lines; file line `n` is `lines[n - 2]`.
    lines: Vec<&'t str>,
    diagnostics: Vec<Diagnostic>,
    left_out: usize,
}

impl Reader<'_, '_> {
    fn report(&mut self, position: Position, path: String, problem: Problem) {
        if self.diagnostics.len() < self.options.max_diagnostics {
            self.diagnostics.push(Diagnostic {
                position,
                path,
                problem,
            });
        } else {
            self.left_out += 1;
        }
    }

    /// Whether no more diagnostics are kept; then the caller's one is counted as left out.
    /// Callers whose problems are many and costly to locate (unknown keys: finding a key
    /// walks its mapping) ask first, so that a file of 10,000 unknown keys stays linear.
    fn full(&mut self) -> bool {
        let full = self.diagnostics.len() >= self.options.max_diagnostics;
        if full {
            self.left_out += 1;
        }
        full
    }

    /// Sorts the diagnostics into file order and says how many were left out.
    fn finish(&mut self) {
        self.diagnostics.sort_by_key(|d| d.position);
        if self.left_out > 0 {
            let position = self.diagnostics.last().map_or(FILE_START, |d| d.position);
            self.diagnostics.push(Diagnostic {
                position,
                path: String::new(),
                problem: Problem::LeftOut {
                    count: self.left_out,
                    limit: self.options.max_diagnostics,
                },
            });
        }
    }

    fn front_matter(&mut self, root: Node<'_>, spans: &Spans) -> Option<Fields> {
        let Value::Object(map) = root.value else {
            let position = spans
                .locate(root.value, root.index, &[])
                .unwrap_or(FILE_START);
            self.report(
                position,
                String::new(),
                Problem::NotAMapping {
                    what: "the front matter",
                    found: type_name(root.value),
                },
            );
            return None;
        };
        let mut extensions = Map::new();
        for (key, value) in map {
            if key.starts_with(EXTENSION_PREFIX) {
                extensions.insert(key.clone(), value.clone());
            } else if !ROOT_FIELDS.contains(&key.as_str()) && !self.full() {
                let position = self
                    .entry(spans, root, key)
                    .map_or(FILE_START, |e| e.key_position);
                let suggestion = suggest(key, ROOT_FIELDS);
                self.report(
                    position,
                    key.clone(),
                    Problem::UnknownField {
                        key: key.clone(),
                        suggestion,
                    },
                );
            }
        }
        let at = (
            root,
            Place {
                position: FILE_START,
                prefix: "",
            },
        );
        let title = self.required(spans, at, "title", "", |r, e| r.text(e, "", "title"));
        let incidents = self.required(
            spans,
            at,
            "incidents",
            " (write `incidents: []` for a near miss)",
            |r, e| r.incidents(spans, e),
        );
        let date = self.required(spans, at, "date", "", |r, e| r.date(e, "", "date"));
        let severity = self.optional(spans, root, "severity", |r, e| r.severity(e));
        let summary = self.optional(spans, root, "summary", |r, e| r.text(e, "", "summary"));
        let entity = self.optional(spans, root, "entity", |r, e| r.reference(e, "", "entity"));
        let actions = self.required(
            spans,
            at,
            "actions",
            " (write `actions: []` when there are none)",
            |r, e| r.actions(spans, e, date),
        );
        Some(Fields {
            title: title?,
            incidents: incidents?,
            date: date?,
            severity,
            summary,
            entity,
            actions: actions?,
            extensions,
        })
    }

    /// Reads field `field` of `parent` with `read`, or reports at `parent_at` that it is
    /// missing.
    fn required<'v, T>(
        &mut self,
        spans: &Spans,
        (parent, parent_at): (Node<'v>, Place<'_>),
        field: &'static str,
        hint: &'static str,
        read: impl FnOnce(&mut Self, Entry<'v>) -> Option<T>,
    ) -> Option<T> {
        match self.entry(spans, parent, field) {
            Some(entry) => read(self, entry),
            None => {
                let path = dotted(parent_at.prefix, field);
                self.report(
                    parent_at.position,
                    path,
                    Problem::MissingField { field, hint },
                );
                None
            }
        }
    }

    /// Reads field `field` of `parent` with `read` when it is given: there, and neither null
    /// nor blank text.
    fn optional<'v, T>(
        &mut self,
        spans: &Spans,
        parent: Node<'v>,
        field: &str,
        read: impl FnOnce(&mut Self, Entry<'v>) -> Option<T>,
    ) -> Option<T> {
        let entry = self
            .entry(spans, parent, field)
            .filter(|e| is_given(e.node.value))?;
        read(self, entry)
    }

    fn entry<'v>(&self, spans: &Spans, parent: Node<'v>, key: &str) -> Option<Entry<'v>> {
        let value = parent.value.as_object()?.get(key)?;
        let path = [PathSegment::Key(key.to_owned())];
        let index = spans.node(parent.value, parent.index, &path)?;
        let key_position = spans.locate(value, index, &[]).unwrap_or(FILE_START);
        Some(Entry {
            node: Node { value, index },
            key_position,
            value_position: self.value_position(key_position, key),
        })
    }

    /// Where the value of the entry whose key `key` starts at `key_position` starts, when it
    /// is on the same line: pave-yaml records a mapping value at its key, but a reader fixing
    /// `due: 2026-13-01` wants the date pointed at. Keys written other than plainly, and
    /// values on the next lines, stay at the key.
    fn value_position(&self, key_position: Position, key: &str) -> Position {
        let Some(line) = key_position
            .line
            .checked_sub(FRONT_MATTER_LINE)
            .and_then(|i| self.lines.get(i as usize))
        else {
            return key_position;
        };
        let mut column = key_position.column;
        let mut chars = line
            .chars()
            .skip(key_position.column.saturating_sub(1) as usize)
            .peekable();
        for expected in key.chars() {
            if chars.next() != Some(expected) {
                return key_position;
            }
            column += 1;
        }
        while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {
            column += 1;
        }
        if chars.next() != Some(':') {
            return key_position;
        }
        column += 1;
        let mut spaced = false;
        while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {
            column += 1;
            spaced = true;
        }
        match chars.peek() {
            Some(c) if spaced && *c != '#' => Position {
                line: key_position.line,
                column,
            },
            _ => key_position,
        }
    }

    fn text(&mut self, entry: Entry<'_>, prefix: &str, field: &'static str) -> Option<String> {
        let path = dotted(prefix, field);
        match entry.node.value {
            Value::String(s) if s.trim().is_empty() => {
                self.report(entry.value_position, path, Problem::Empty { field });
                None
            }
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Null => {
                self.report(entry.value_position, path, Problem::Empty { field });
                None
            }
            other => {
                self.report(
                    entry.value_position,
                    path,
                    Problem::WrongType {
                        field,
                        expected: "text",
                        found: type_name(other),
                    },
                );
                None
            }
        }
    }

    fn date(&mut self, entry: Entry<'_>, prefix: &str, field: &'static str) -> Option<Day> {
        let day = entry.node.value.as_str().and_then(Day::parse);
        if day.is_none() {
            self.report(
                entry.value_position,
                dotted(prefix, field),
                Problem::BadDate {
                    field,
                    value: shown(entry.node.value),
                },
            );
        }
        day
    }

    fn reference(&mut self, entry: Entry<'_>, prefix: &str, field: &'static str) -> Option<String> {
        let reference = entry.node.value.as_str().and_then(normalise_reference);
        if reference.is_none() {
            self.report(
                entry.value_position,
                dotted(prefix, field),
                Problem::BadReference {
                    field,
                    value: shown(entry.node.value),
                },
            );
        }
        reference
    }

    fn severity(&mut self, entry: Entry<'_>) -> Option<u8> {
        let severity = entry
            .node
            .value
            .as_u64()
            .filter(|s| (1..=5).contains(s))
            .and_then(|s| u8::try_from(s).ok());
        if severity.is_none() {
            self.report(
                entry.value_position,
                "severity".to_owned(),
                Problem::BadSeverity {
                    value: shown(entry.node.value),
                },
            );
        }
        severity
    }

    fn incidents(&mut self, spans: &Spans, entry: Entry<'_>) -> Option<Vec<String>> {
        let Value::Array(items) = entry.node.value else {
            self.report(
                entry.value_position,
                "incidents".to_owned(),
                Problem::WrongType {
                    field: "incidents",
                    expected: "a list of incident ids such as [PD-Q2K3ZL0] ([] for none)",
                    found: type_name(entry.node.value),
                },
            );
            return None;
        };
        let limit = self.options.max_incidents;
        if items.len() > limit {
            self.report(
                entry.key_position,
                "incidents".to_owned(),
                Problem::TooMany {
                    field: "incidents",
                    count: items.len(),
                    limit,
                },
            );
            return None;
        }
        let mut ids: Vec<String> = Vec::with_capacity(items.len());
        let mut valid = true;
        for (i, item) in items.iter().enumerate() {
            let problem = match item {
                Value::String(id) if id.trim().is_empty() => Problem::Empty { field: "incidents" },
                Value::String(id) if ids.iter().any(|seen| seen == id.trim()) => {
                    Problem::DuplicateIncident {
                        id: id.trim().to_owned(),
                    }
                }
                Value::String(id) => {
                    ids.push(id.trim().to_owned());
                    continue;
                }
                other => Problem::BadIncidentId {
                    found: type_name(other),
                },
            };
            valid = false;
            let position = item_position(spans, entry.node, i).unwrap_or(entry.key_position);
            self.report(position, format!("incidents.{i}"), problem);
        }
        valid.then_some(ids)
    }

    fn actions(
        &mut self,
        spans: &Spans,
        entry: Entry<'_>,
        date: Option<Day>,
    ) -> Option<Vec<Action>> {
        let Value::Array(items) = entry.node.value else {
            self.report(
                entry.value_position,
                "actions".to_owned(),
                Problem::WrongType {
                    field: "actions",
                    expected: "a list of actions ([] for none)",
                    found: type_name(entry.node.value),
                },
            );
            return None;
        };
        let limit = self.options.max_actions;
        if items.len() > limit {
            self.report(
                entry.key_position,
                "actions".to_owned(),
                Problem::TooMany {
                    field: "actions",
                    count: items.len(),
                    limit,
                },
            );
            return None;
        }
        let mut actions = Vec::with_capacity(items.len());
        for (i, value) in items.iter().enumerate() {
            let path = [PathSegment::Index(i)];
            // Every node has a span; were one missing, the list's own would only make the
            // positions coarser.
            let index = spans
                .node(entry.node.value, entry.node.index, &path)
                .unwrap_or(entry.node.index);
            let node = Node { value, index };
            if let Some(action) = self.action(spans, node, i, date) {
                actions.push(action);
            }
        }
        (actions.len() == items.len()).then_some(actions)
    }

    fn action(
        &mut self,
        spans: &Spans,
        node: Node<'_>,
        i: usize,
        date: Option<Day>,
    ) -> Option<Action> {
        let prefix = format!("actions.{i}");
        let position = spans
            .locate(node.value, node.index, &[])
            .unwrap_or(FILE_START);
        let Value::Object(map) = node.value else {
            self.report(
                position,
                prefix,
                Problem::NotAMapping {
                    what: "an action",
                    found: type_name(node.value),
                },
            );
            return None;
        };
        let mut extensions = Map::new();
        for (key, value) in map {
            if key.starts_with(EXTENSION_PREFIX) {
                extensions.insert(key.clone(), value.clone());
            } else if !ACTION_FIELDS.contains(&key.as_str()) && !self.full() {
                let at = self
                    .entry(spans, node, key)
                    .map_or(position, |e| e.key_position);
                self.report(
                    at,
                    dotted(&prefix, key),
                    Problem::UnknownField {
                        key: key.clone(),
                        suggestion: suggest(key, ACTION_FIELDS),
                    },
                );
            }
        }
        let at = (
            node,
            Place {
                position,
                prefix: &prefix,
            },
        );
        let title = self.required(spans, at, "title", "", |r, e| r.text(e, &prefix, "title"));
        let owner = self.required(spans, at, "owner", "", |r, e| {
            r.reference(e, &prefix, "owner")
        });
        let due = self.required(spans, at, "due", "", |r, e| r.date(e, &prefix, "due"));
        let status_entry = self
            .entry(spans, node, "status")
            .filter(|e| is_given(e.node.value));
        let status = status_entry.and_then(|e| self.status(e, &prefix));
        let link = self.optional(spans, node, "link", |r, e| r.link(e, &prefix));
        let closed_entry = self
            .entry(spans, node, "closed")
            .filter(|e| is_given(e.node.value));
        let closed = closed_entry.and_then(|e| self.date(e, &prefix, "closed"));

        // How the fields fit together (only when each was readable, so that one mistake is
        // not reported twice).
        let link_given = self
            .entry(spans, node, "link")
            .is_some_and(|e| is_given(e.node.value));
        let mut consistent = true;
        if status_entry.is_none() && !link_given {
            self.report(position, prefix.clone(), Problem::MissingStatus);
            consistent = false;
        }
        match (status, status_entry, closed_entry) {
            (Some(status), Some(at), None) if status.is_closed() => {
                self.report(
                    at.value_position,
                    dotted(&prefix, "status"),
                    Problem::MissingClosed {
                        status: status.as_str(),
                    },
                );
                consistent = false;
            }
            (status, _, Some(at)) if !status.is_some_and(ActionStatus::is_closed) => {
                // A status that did not parse, or no status nor link at all, was reported.
                if status.is_some() || (status_entry.is_none() && link_given) {
                    self.report(
                        at.key_position,
                        dotted(&prefix, "closed"),
                        Problem::ClosedWhileOpen {
                            status: status.map_or("not given", ActionStatus::as_str),
                        },
                    );
                }
                consistent = false;
            }
            _ => {}
        }
        if let (Some(closed), Some(date), Some(at)) = (closed, date, closed_entry)
            && closed < date
        {
            self.report(
                at.value_position,
                dotted(&prefix, "closed"),
                Problem::ClosedBeforeDate { closed, date },
            );
            consistent = false;
        }
        if !consistent || (status_entry.is_some() && status.is_none()) {
            return None;
        }
        Some(Action {
            title: title?,
            owner: owner?,
            due: due?,
            status,
            closed,
            link,
            extensions,
        })
    }

    fn status(&mut self, entry: Entry<'_>, prefix: &str) -> Option<ActionStatus> {
        let text = entry.node.value.as_str();
        let status = text.and_then(ActionStatus::parse);
        if status.is_none() {
            self.report(
                entry.value_position,
                dotted(prefix, "status"),
                Problem::BadStatus {
                    value: shown(entry.node.value),
                    suggestion: text.and_then(|t| suggest(t, STATUSES)),
                },
            );
        }
        status
    }

    fn link(&mut self, entry: Entry<'_>, prefix: &str) -> Option<String> {
        let link = entry.node.value.as_str().filter(|link| {
            let rest = link
                .strip_prefix("https://")
                .or_else(|| link.strip_prefix("http://"));
            rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
        });
        if link.is_none() {
            self.report(
                entry.value_position,
                dotted(prefix, "link"),
                Problem::BadLink {
                    value: shown(entry.node.value),
                },
            );
        }
        link.map(str::to_owned)
    }
}

/// Whether an optional field's value counts as given (`field:`, `field: ~` and `field: ""`
/// do not).
fn is_given(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

fn item_position(spans: &Spans, list: Node<'_>, i: usize) -> Option<Position> {
    let path = [PathSegment::Index(i)];
    let index = spans.node(list.value, list.index, &path)?;
    spans.locate(list.value.get(i)?, index, &[])
}

fn dotted(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A value as JSON, cut short for messages.
fn shown(value: &Value) -> String {
    const MAX: usize = 60;
    let json = value.to_string();
    if json.chars().count() <= MAX {
        return json;
    }
    let mut cut: String = json.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// The summary, else the body's first paragraph that is not a heading, with white space
/// folded, cut at a word boundary to at most [`EXCERPT_CHARS`] characters.
fn excerpt(summary: Option<&str>, body: &str) -> String {
    let source = match summary {
        Some(summary) => summary.to_owned(),
        None => {
            let mut paragraph = Vec::new();
            for line in body.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    if !paragraph.is_empty() {
                        break;
                    }
                    continue;
                }
                paragraph.push(line);
            }
            paragraph.join(" ")
        }
    };
    let folded = source.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= EXCERPT_CHARS {
        return folded;
    }
    let mut cut: String = folded.chars().take(EXCERPT_CHARS - 1).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_prefer_the_summary_and_fold_white_space() {
        assert_eq!(
            excerpt(Some("  Payments\n failed. "), "# x\n\nbody"),
            "Payments failed."
        );
        assert_eq!(
            excerpt(
                None,
                "# Title\n\n## Impact\nCheckout\nwas  down.\n\nMore.\n"
            ),
            "Checkout was down."
        );
        assert_eq!(excerpt(None, ""), "");
        let long = "word ".repeat(100);
        let cut = excerpt(None, &long);
        assert!(cut.chars().count() <= EXCERPT_CHARS, "{}", cut.len());
        assert!(cut.ends_with("word…"), "{cut}");
    }

    #[test]
    fn front_matter_frames() {
        let frame = split_front_matter("---\na: 1\n---\nbody\n", 100).expect("framed");
        assert_eq!(
            (frame.front, frame.body, frame.body_line),
            ("a: 1\n", "body\n", 4)
        );
        let crlf = split_front_matter("\u{feff}---\r\na: 1\r\n--- \r\n", 100).expect("framed");
        assert_eq!((crlf.front, crlf.body, crlf.body_line), ("a: 1\r\n", "", 4));
        let empty = split_front_matter("---\n---", 100).expect("framed");
        assert_eq!((empty.front, empty.body, empty.body_line), ("", "", 3));
        assert_eq!(
            split_front_matter("# no\n---\n", 100).err(),
            Some(Problem::MissingFrontMatter)
        );
        assert_eq!(
            split_front_matter("", 100).err(),
            Some(Problem::MissingFrontMatter)
        );
        assert_eq!(
            split_front_matter("---\na: 1\n", 100).err(),
            Some(Problem::UnterminatedFrontMatter)
        );
        assert_eq!(
            split_front_matter("---\nab: 1\n---\n", 5).err(),
            Some(Problem::FrontMatterTooLarge { limit: 5 })
        );
        assert!(split_front_matter("---\nab: 1\n---\n", 6).is_ok());
    }
}
