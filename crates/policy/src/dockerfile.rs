//! A Dockerfile parser: instructions with their lines, flags and arguments, in the shape
//! conftest's Dockerfile parser gives Rego policies (`Cmd`, `Flags`, `Value`, `Original`, …).

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
    /// The conftest-style JSON: an array of instructions.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.instructions
                .iter()
                .map(|i| {
                    json!({
                        "Cmd": i.cmd,
                        "Flags": i.flags,
                        "JSON": i.json,
                        "Original": i.original,
                        "Stage": i.stage,
                        "SubCmd": "",
                        "Value": i.value,
                    })
                })
                .collect(),
        )
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
    let mut escape = '\\';
    let mut lines = text.lines().enumerate().peekable();
    // Parser directives (`# escape=`` ` ``) come first, before any other line.
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
        lines.next();
    }
    let mut instructions = Vec::new();
    let mut stage: Option<usize> = None;
    while let Some((number, line)) = lines.next() {
        let start = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Join continuation lines (comments inside a continued instruction are dropped).
        let mut logical = String::from(trimmed);
        while logical.ends_with(escape) {
            logical.pop();
            let mut next = None;
            for (_, l) in lines.by_ref() {
                let t = l.trim();
                if t.starts_with('#') {
                    continue;
                }
                next = Some(t);
                break;
            }
            match next {
                Some(t) => {
                    logical.push(' ');
                    logical.push_str(t);
                }
                None => break,
            }
        }
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
            flags,
            value,
            json,
            original: logical.clone(),
            stage: stage.unwrap_or(0),
            stage_name,
            heredoc,
        });
    }
    if !instructions.iter().any(|i| i.cmd == "from") {
        return Err((1, "no FROM instruction: this is not a Dockerfile".into()));
    }
    Ok(Dockerfile { instructions })
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

fn split_flags(args: &str) -> (Vec<String>, String) {
    let mut flags = Vec::new();
    let mut rest = args.trim();
    while let Some(stripped) = rest.strip_prefix("--") {
        let end = stripped.find(char::is_whitespace).unwrap_or(stripped.len());
        flags.push(format!("--{}", &stripped[..end]));
        rest = stripped[end..].trim_start();
    }
    (flags, rest.to_owned())
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
            vec!["apt-get update &&  apt-get install -y curl"]
        );
        assert_eq!(d.instructions[1].line, 3);
        assert_eq!(d.instructions[2].value, vec!["A", "1", "B", "two words"]);
        assert_eq!(d.instructions[3].value, vec!["LEGACY", "some value"]);
        assert_eq!(d.instructions[5].stage, 1);
        assert!(d.instructions[7].json);
        assert_eq!(d.final_stage().count(), 4);
        let json = d.to_json();
        assert_eq!(json[0]["Cmd"], "from");
        assert_eq!(json[7]["Value"], json!(["/app"]));
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
