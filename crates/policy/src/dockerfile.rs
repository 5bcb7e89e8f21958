//! A Dockerfile parser: instructions with their lines, flags and arguments, read the way
//! buildkit's parser reads them (comments before an instruction, continuation lines joined
//! as written, flags, per-instruction argument rules), and the JSON conftest makes of
//! buildkit's result for Rego policies ([`Dockerfile::to_json`]).

use serde_json::{Value, json};

/// One instruction, possibly spread over continued lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// First line (1-based).
    pub line: u32,
    /// Lower-cased instruction name: `from`, `run`, `user`, …
    pub cmd: String,
    /// `--platform=…`, `--from=…`, `--mount=…`: flags before the arguments.
    pub flags: Vec<String>,
    /// Arguments: the JSON array for exec form; for `ENV`/`LABEL`/`ARG` key and value pairs;
    /// otherwise the words (or, for shell-form `RUN`/`CMD`/`ENTRYPOINT`/`SHELL`, one string).
    pub value: Vec<String>,
    /// Written in JSON (exec) form.
    pub json: bool,
    /// The instruction as written, continuation lines joined.
    pub original: String,
    /// Build stage (0-based, counted by `FROM`).
    pub stage: usize,
    /// `FROM … AS name`: the stage name, if any.
    pub stage_name: Option<String>,
    /// Heredoc bodies (`RUN <<EOF … EOF`), joined.
    pub heredoc: Option<String>,
    /// Comment lines just before it (buildkit's `PrevComment`: `#` and surrounding spaces
    /// removed; an empty `#` line drops those above it).
    pub comments: Vec<String>,
    /// `ONBUILD RUN …`: the sub-instruction (`run`), as buildkit writes it.
    pub sub_cmd: String,
    /// The arguments as buildkit's parser splits them (conftest's `Value`): quotes and `=`
    /// separators kept for `ENV`/`LABEL` (`[key, value, "="]` per pair; `[key, value, ""]`
    /// for the legacy `ENV key value`), `HEALTHCHECK` as `[type, command]`, one string for
    /// `USER`/`WORKDIR`/`MAINTAINER`/`STOPSIGNAL`. `None` when there are no arguments (Go's
    /// nil: `null` in JSON).
    pub buildkit_value: Option<Vec<String>>,
    /// `Flags` as buildkit gives them: `None` for an instruction without arguments.
    pub buildkit_flags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

const INSTRUCTIONS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

impl Dockerfile {
    /// conftest's JSON (its `parser/docker`): an array with, for each instruction, first one
    /// `{"Cmd": "comment", "Value": [text]}` entry per comment line before it, then
    /// `{"Cmd", "SubCmd", "JSON", "Flags", "Value", "Stage"}` from buildkit's node.
    pub fn to_json(&self) -> Value {
        let mut out = Vec::with_capacity(self.instructions.len());
        for i in &self.instructions {
            for comment in &i.comments {
                out.push(json!({
                    "Cmd": "comment",
                    "SubCmd": "",
                    "JSON": false,
                    "Flags": null,
                    "Value": [comment],
                    "Stage": i.stage,
                }));
            }
            out.push(json!({
                "Cmd": i.cmd,
                "SubCmd": i.sub_cmd,
                "JSON": i.json,
                "Flags": i.buildkit_flags,
                "Value": i.buildkit_value,
                "Stage": i.stage,
            }));
        }
        Value::Array(out)
    }

    /// Instructions of the last stage (what the image runs as).
    pub fn final_stage(&self) -> impl Iterator<Item = (usize, &Instruction)> {
        let last = self.instructions.iter().map(|i| i.stage).max().unwrap_or(0);
        self.instructions
            .iter()
            .enumerate()
            .filter(move |(_, i)| i.stage == last)
    }
}

/// Parses a Dockerfile. Errors are `(line, message)`.
pub fn parse(text: &str) -> Result<Dockerfile, (u32, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut escape = '\\';
    let mut lines = text.lines().enumerate().peekable();
    let mut comments: Vec<String> = Vec::new();
    // Parser directives (`# escape=`` ` ``) come first, before any other line. buildkit also
    // counts them as comments of the first instruction.
    while let Some((_, line)) = lines.peek() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") {
            escape = value.trim().chars().next().unwrap_or('\\');
        } else if !key.trim().eq_ignore_ascii_case("syntax")
            && !key.trim().eq_ignore_ascii_case("check")
        {
            break;
        }
        comments.push(directive.trim().to_owned());
        lines.next();
    }
    let mut instructions = Vec::new();
    let mut stage: Option<usize> = None;
    while let Some((number, line)) = lines.next() {
        let start = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim_start();
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if comment.is_empty() {
                comments.clear();
            } else {
                comments.push(comment.to_owned());
            }
            continue;
        }
        if trimmed.trim().is_empty() {
            continue;
        }
        // Join continuation lines as buildkit does: the escape character and the blanks
        // after it go, the next line is appended as written (its indentation kept);
        // comment lines and blank lines inside are skipped.
        let (mut logical, mut continued) = strip_continuation(trimmed, escape);
        while continued {
            let Some((_, next)) = lines.next() else { break };
            let next_trimmed = next.trim_start();
            if next_trimmed.starts_with('#') || next_trimmed.is_empty() {
                continue;
            }
            let (part, more) = strip_continuation(next, escape);
            logical.push_str(&part);
            continued = more;
        }
        let logical = logical.trim().to_owned();
        let (word, rest) = match logical.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (logical.as_str(), ""),
        };
        let cmd = word.to_ascii_lowercase();
        if !INSTRUCTIONS.contains(&cmd.as_str()) {
            return Err((start, format!("unknown instruction `{word}`")));
        }
        if cmd != "from" && cmd != "arg" && stage.is_none() {
            return Err((start, format!("`{word}` before the first FROM")));
        }
        // Heredocs: `RUN <<EOF` … `EOF`.
        let mut heredoc = None;
        if let Some(marker) = heredoc_marker(rest) {
            let mut body = String::new();
            let mut closed = false;
            for (_, l) in lines.by_ref() {
                if l.trim() == marker {
                    closed = true;
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            if !closed {
                return Err((start, format!("heredoc `{marker}` is never closed")));
            }
            heredoc = Some(body);
        }
        let (flags, args) = split_flags(rest);
        if cmd == "from" {
            stage = Some(stage.map_or(0, |s| s + 1));
        }
        let (value, json) = arguments(&cmd, &args);
        let node = buildkit_node(&cmd, &args, escape)
            .map_err(|message| (start, format!("{word}: {message}")))?;
        let stage_name = (cmd == "from")
            .then(|| {
                let words: Vec<&str> = args.split_whitespace().collect();
                (words.len() == 3 && words[1].eq_ignore_ascii_case("as"))
                    .then(|| words[2].to_owned())
            })
            .flatten();
        if cmd == "from" && value.is_empty() {
            return Err((start, "FROM needs an image".into()));
        }
        instructions.push(Instruction {
            line: start,
            cmd,
            buildkit_flags: (!rest.is_empty()).then(|| flags.clone()),
            flags,
            value,
            json: node.json || json,
            original: logical.clone(),
            stage: stage.unwrap_or(0),
            stage_name,
            heredoc,
            comments: std::mem::take(&mut comments),
            sub_cmd: node.sub_cmd,
            buildkit_value: node.value,
        });
    }
    if !instructions.iter().any(|i| i.cmd == "from") {
        return Err((1, "no FROM instruction: this is not a Dockerfile".into()));
    }
    Ok(Dockerfile { instructions })
}

/// buildkit's line continuation: the escape character, then only blanks, at the end.
fn strip_continuation(line: &str, escape: char) -> (String, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    match body.strip_suffix(escape) {
        Some(before) => (before.to_owned(), true),
        None => (line.to_owned(), false),
    }
}

/// What conftest reads from buildkit's node for one instruction.
struct BuildkitNode {
    value: Option<Vec<String>>,
    json: bool,
    sub_cmd: String,
}

/// buildkit's per-instruction argument parsing (`parser/line_parsers.go`).
fn buildkit_node(cmd: &str, args: &str, escape: char) -> Result<BuildkitNode, String> {
    let plain = |value: Option<Vec<String>>| BuildkitNode {
        value,
        json: false,
        sub_cmd: String::new(),
    };
    let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    Ok(match cmd {
        "run" | "cmd" | "entrypoint" | "shell" => {
            let (value, json) = maybe_json(args)?;
            BuildkitNode {
                value,
                json,
                sub_cmd: String::new(),
            }
        }
        "add" | "copy" | "volume" => match json_array(args)? {
            Some(items) => BuildkitNode {
                value: Some(items),
                json: true,
                sub_cmd: String::new(),
            },
            None => plain(non_empty(whitespace_words(args))),
        },
        "from" | "expose" => plain(non_empty(whitespace_words(args))),
        "env" | "label" => plain(name_values(args, cmd, escape)?),
        "arg" => plain(non_empty(parse_words(args, escape))),
        "healthcheck" => {
            let (kind, rest) = match args.split_once(char::is_whitespace) {
                Some((k, r)) => (k, r.trim_start()),
                None => (args, ""),
            };
            if kind.is_empty() {
                return Ok(plain(None));
            }
            let (command, json) = maybe_json(rest)?;
            let mut value = vec![kind.to_owned()];
            value.extend(command.unwrap_or_default());
            BuildkitNode {
                value: Some(value),
                json,
                sub_cmd: String::new(),
            }
        }
        "onbuild" => {
            if args.is_empty() {
                return Ok(plain(None));
            }
            let (word, rest) = match args.split_once(char::is_whitespace) {
                Some((w, r)) => (w, r.trim()),
                None => (args, ""),
            };
            let sub = word.to_ascii_lowercase();
            let (_, sub_args) = split_flags(rest);
            let node = buildkit_node(&sub, &sub_args, escape)?;
            BuildkitNode {
                value: node.value,
                json: node.json,
                sub_cmd: sub,
            }
        }
        // `user`, `workdir`, `maintainer`, `stopsignal`: the rest of the line as one string.
        _ => plain((!args.is_empty()).then(|| vec![args.to_owned()])),
    })
}

/// A JSON array of strings, `None` when `args` is not a JSON array; an array holding
/// anything but strings is an error, as in buildkit.
fn json_array(args: &str) -> Result<Option<Vec<String>>, String> {
    if !args.starts_with('[') {
        return Ok(None);
    }
    match serde_json::from_str::<Vec<Value>>(args) {
        Ok(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(
                    "when using JSON array syntax, arrays must be comprised of strings only"
                        .to_owned(),
                ),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Err(_) => Ok(None),
    }
}

/// `parseMaybeJSON`: a JSON array, or the whole text as one string.
fn maybe_json(args: &str) -> Result<(Option<Vec<String>>, bool), String> {
    if args.is_empty() {
        return Ok((None, false));
    }
    Ok(match json_array(args)? {
        Some(items) => (Some(items), true),
        None => (Some(vec![args.to_owned()]), false),
    })
}

fn whitespace_words(args: &str) -> Vec<String> {
    args.split_whitespace().map(str::to_owned).collect()
}

/// buildkit's `parseWords`: words split at unquoted whitespace, quotes kept, the escape
/// character kept with the character it escapes (outside single quotes).
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            None => {
                if c.is_whitespace() {
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    blank_ok = false;
                    continue;
                }
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                }
                if c == escape {
                    // An escape at the very end is dropped.
                    if let Some(next) = chars.next() {
                        word.push(c);
                        word.push(next);
                    }
                    continue;
                }
                word.push(c);
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                if c == escape && q != '\'' {
                    match chars.next() {
                        Some(next) => {
                            word.push(c);
                            word.push(next);
                        }
                        None => quote = None,
                    }
                    continue;
                }
                word.push(c);
            }
        }
    }
    if blank_ok || !word.is_empty() {
        words.push(word);
    }
    words
}

/// buildkit's `parseNameVal` for `ENV` and `LABEL`: `[key, value, "="]` per `key=value`
/// word (quotes kept), or `[key, rest, ""]` for the legacy `ENV key value`.
fn name_values(args: &str, cmd: &str, escape: char) -> Result<Option<Vec<String>>, String> {
    let words = parse_words(args, escape);
    let Some(first) = words.first() else {
        return Ok(None);
    };
    if !first.contains('=') {
        let Some((key, value)) = args.split_once(char::is_whitespace) else {
            return Err(format!(
                "{} must have two arguments",
                cmd.to_ascii_uppercase()
            ));
        };
        return Ok(Some(vec![
            key.to_owned(),
            value.trim_start().to_owned(),
            String::new(),
        ]));
    }
    let mut out = Vec::with_capacity(words.len() * 3);
    for word in &words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!(
                "can't find = in {word:?}. Must be of the form: name=value"
            ));
        };
        out.extend([key.to_owned(), value.to_owned(), "=".to_owned()]);
    }
    Ok(Some(out))
}

fn heredoc_marker(args: &str) -> Option<String> {
    let at = args.find("<<")?;
    let marker = args[at + 2..].trim_start_matches('-');
    let marker: String = marker
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!marker.is_empty()).then_some(marker)
}

/// buildkit's `extractBuilderFlags`: leading words that start with `--` are flags (quotes
/// removed, backslash escapes applied); a lone `--` ends them.
fn split_flags(args: &str) -> (Vec<String>, String) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut end = rest.len();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => {
                    end = i;
                    break;
                }
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => {
                    if let Some((_, next)) = chars.next() {
                        word.push(next);
                    }
                }
                (_, c) => word.push(c),
            }
        }
        rest = rest[end..].trim_start();
        if word == "--" {
            break;
        }
        flags.push(word);
    }
    (flags, rest.trim_end().to_owned())
}

fn arguments(cmd: &str, args: &str) -> (Vec<String>, bool) {
    if args.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<String>>(args)
    {
        return (items, true);
    }
    match cmd {
        "run" | "cmd" | "entrypoint" | "shell" => (
            if args.is_empty() {
                vec![]
            } else {
                vec![args.to_owned()]
            },
            false,
        ),
        "env" | "label" => (key_values(args), false),
        _ => (args.split_whitespace().map(str::to_owned).collect(), false),
    }
}

/// `A=1 B="two words"` → [A, 1, B, two words]; the legacy `ENV A some value` → [A, some value].
fn key_values(args: &str) -> Vec<String> {
    let first = args.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        return match args.split_once(char::is_whitespace) {
            Some((k, v)) => vec![k.to_owned(), unquote(v.trim())],
            None => vec![args.to_owned(), String::new()],
        };
    }
    let mut out = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut token = String::new();
        let mut quote = None;
        for c in chars.by_ref() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => break,
                (_, c) => token.push(c),
            }
        }
        match token.split_once('=') {
            Some((k, v)) => {
                out.push(k.to_owned());
                out.push(v.to_owned());
            }
            None => {
                out.push(token);
                out.push(String::new());
            }
        }
    }
    out
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_owned()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_instructions_flags_continuations_and_stages() {
        let text = "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN apt-get update && \\\n    # comment inside\n    apt-get install -y curl\nENV A=1 B=\"two words\"\nENV LEGACY some value\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /out /app\nUSER 65532\nENTRYPOINT [\"/app\"]\n";
        let d = parse(text).unwrap();
        let cmds: Vec<&str> = d.instructions.iter().map(|i| i.cmd.as_str()).collect();
        assert_eq!(
            cmds,
            vec![
                "from",
                "run",
                "env",
                "env",
                "from",
                "copy",
                "user",
                "entrypoint"
            ]
        );
        assert_eq!(d.instructions[0].flags, vec!["--platform=$BUILDPLATFORM"]);
        assert_eq!(d.instructions[0].stage_name.as_deref(), Some("build"));
        assert_eq!(
            d.instructions[1].value,
            vec!["apt-get update &&     apt-get install -y curl"]
        );
        assert_eq!(d.instructions[1].line, 3);
        assert_eq!(d.instructions[2].value, vec!["A", "1", "B", "two words"]);
        assert_eq!(d.instructions[3].value, vec!["LEGACY", "some value"]);
        assert_eq!(d.instructions[5].stage, 1);
        assert!(d.instructions[7].json);
        assert_eq!(d.final_stage().count(), 4);
        let json = d.to_json();
        // The syntax directive is a comment of the first instruction, as in buildkit.
        assert_eq!(json[0]["Cmd"], "comment");
        assert_eq!(json[0]["Value"], json!(["syntax=docker/dockerfile:1"]));
        assert_eq!(json[1]["Cmd"], "from");
        assert_eq!(json[8]["Value"], json!(["/app"]));
    }

    /// One instruction as conftest gives it (its JSON entry, comments excluded).
    fn conftest(line: &str) -> Value {
        let text = if line.starts_with("FROM") {
            format!("{line}\n")
        } else {
            format!("FROM scratch\n{line}\n")
        };
        let json = parse(&text).unwrap().to_json();
        json.as_array().unwrap().last().unwrap().clone()
    }

    #[test]
    fn every_instruction_kind_in_buildkits_shape() {
        // (instruction, Flags, Value, JSON, SubCmd) as buildkit's line parsers and
        // conftest's parser/docker make them.
        let cases: Vec<(&str, Value, Value, bool, &str)> = vec![
            (
                "FROM --platform=linux/amd64 golang:1.22 AS build",
                json!(["--platform=linux/amd64"]),
                json!(["golang:1.22", "AS", "build"]),
                false,
                "",
            ),
            (
                "RUN apt-get update && apt-get install -y curl",
                json!([]),
                json!(["apt-get update && apt-get install -y curl"]),
                false,
                "",
            ),
            (
                "RUN [\"sh\", \"-c\", \"echo hi\"]",
                json!([]),
                json!(["sh", "-c", "echo hi"]),
                true,
                "",
            ),
            (
                "RUN --mount=type=cache,target=/root/.cache go build",
                json!(["--mount=type=cache,target=/root/.cache"]),
                json!(["go build"]),
                false,
                "",
            ),
            (
                "CMD [\"/app\", \"--port\", \"80\"]",
                json!([]),
                json!(["/app", "--port", "80"]),
                true,
                "",
            ),
            (
                "CMD /app --port 80",
                json!([]),
                json!(["/app --port 80"]),
                false,
                "",
            ),
            (
                "ENTRYPOINT [\"/app\"]",
                json!([]),
                json!(["/app"]),
                true,
                "",
            ),
            (
                "SHELL [\"/bin/bash\", \"-c\"]",
                json!([]),
                json!(["/bin/bash", "-c"]),
                true,
                "",
            ),
            (
                "ENV A=1 B=\"two words\" C=",
                json!([]),
                json!(["A", "1", "=", "B", "\"two words\"", "=", "C", "", "="]),
                false,
                "",
            ),
            (
                "ENV LEGACY some value",
                json!([]),
                json!(["LEGACY", "some value", ""]),
                false,
                "",
            ),
            (
                "LABEL org.opencontainers.image.title=\"pave app\" version=1",
                json!([]),
                json!([
                    "org.opencontainers.image.title",
                    "\"pave app\"",
                    "=",
                    "version",
                    "1",
                    "="
                ]),
                false,
                "",
            ),
            (
                "ARG VERSION=\"1.0\" OTHER",
                json!([]),
                json!(["VERSION=\"1.0\"", "OTHER"]),
                false,
                "",
            ),
            (
                "COPY --from=build --chown=app:app /out /app",
                json!(["--from=build", "--chown=app:app"]),
                json!(["/out", "/app"]),
                false,
                "",
            ),
            (
                "COPY [\"a b\", \"/c\"]",
                json!([]),
                json!(["a b", "/c"]),
                true,
                "",
            ),
            (
                "ADD https://example.com/x.tgz /opt/",
                json!([]),
                json!(["https://example.com/x.tgz", "/opt/"]),
                false,
                "",
            ),
            (
                "VOLUME /data /logs",
                json!([]),
                json!(["/data", "/logs"]),
                false,
                "",
            ),
            (
                "EXPOSE 8080/tcp 9090",
                json!([]),
                json!(["8080/tcp", "9090"]),
                false,
                "",
            ),
            ("USER app:app", json!([]), json!(["app:app"]), false, ""),
            (
                "WORKDIR /srv/my app",
                json!([]),
                json!(["/srv/my app"]),
                false,
                "",
            ),
            (
                "MAINTAINER Jane Doe <jane@example.com>",
                json!([]),
                json!(["Jane Doe <jane@example.com>"]),
                false,
                "",
            ),
            (
                "STOPSIGNAL SIGTERM",
                json!([]),
                json!(["SIGTERM"]),
                false,
                "",
            ),
            (
                "HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost/ || exit 1",
                json!(["--interval=30s", "--timeout=3s"]),
                json!(["CMD", "curl -f http://localhost/ || exit 1"]),
                false,
                "",
            ),
            (
                "HEALTHCHECK CMD [\"/healthz\", \"-q\"]",
                json!([]),
                json!(["CMD", "/healthz", "-q"]),
                true,
                "",
            ),
            ("HEALTHCHECK NONE", json!([]), json!(["NONE"]), false, ""),
            (
                "ONBUILD RUN make /app",
                json!([]),
                json!(["make /app"]),
                false,
                "run",
            ),
            (
                "ONBUILD COPY [\"a\", \"b\"]",
                json!([]),
                json!(["a", "b"]),
                true,
                "copy",
            ),
        ];
        for (line, flags, value, is_json, sub_cmd) in cases {
            let got = conftest(line);
            let word = line.split_whitespace().next().unwrap().to_ascii_lowercase();
            assert_eq!(got["Cmd"], json!(word), "{line}");
            assert_eq!(got["Flags"], flags, "{line}");
            assert_eq!(got["Value"], value, "{line}");
            assert_eq!(got["JSON"], json!(is_json), "{line}");
            assert_eq!(got["SubCmd"], json!(sub_cmd), "{line}");
            assert!(
                got.get("Original").is_none(),
                "conftest has no Original: {line}"
            );
        }
        // No arguments: Go's nil slices, `null` in JSON.
        let bare = conftest("RUN");
        assert_eq!(
            (&bare["Flags"], &bare["Value"]),
            (&Value::Null, &Value::Null)
        );
    }

    #[test]
    fn comments_are_entries_and_continuations_keep_their_whitespace() {
        let text = "# syntax=docker/dockerfile:1\n# base image\n\n#\n# kept\nFROM alpine\n  # indented comment\nRUN a && \\\n    # inside: skipped\n\n    b \\  \n\tc\n# trailing, attached to nothing\n";
        let d = parse(text).unwrap();
        let json = d.to_json();
        let cmds: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Cmd"].as_str().unwrap())
            .collect();
        // `#` alone drops the comments above it; comments after the last instruction go.
        assert_eq!(cmds, ["comment", "from", "comment", "run"]);
        assert_eq!(json[0]["Value"], json!(["kept"]));
        assert_eq!(json[2]["Value"], json!(["indented comment"]));
        assert_eq!(json[3]["Value"], json!(["a &&     b \tc"]));
        assert_eq!(d.instructions[1].line, 8);
        // Built-in rules index instructions, not JSON entries.
        assert_eq!(d.instructions[1].cmd, "run");
    }

    #[test]
    fn stages_count_from_each_from_comments_included() {
        let d = parse("FROM golang AS base\nRUN x\n# build stage\nFROM base AS builder\nRUN y\n")
            .unwrap();
        let json = d.to_json();
        let stages: Vec<u64> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Stage"].as_u64().unwrap())
            .collect();
        assert_eq!(stages, [0, 0, 1, 1, 1]);
    }

    #[test]
    fn heredocs_and_errors() {
        let d = parse("FROM alpine\nRUN <<EOF\napk add curl\nEOF\nUSER app\n").unwrap();
        assert_eq!(d.instructions[1].heredoc.as_deref(), Some("apk add curl\n"));
        assert_eq!(d.instructions[2].cmd, "user");
        assert_eq!(
            parse("FROM alpine\nRUNN x\n").unwrap_err(),
            (2, "unknown instruction `RUNN`".into())
        );
        assert_eq!(parse("RUN x\n").unwrap_err().0, 1);
        assert!(parse("").is_err());
        assert!(parse("FROM a\nRUN <<EOF\nnever closed\n").is_err());
    }
}
