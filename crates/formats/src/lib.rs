//! conftest's input parsers, as pure functions: text in, a `serde_json::Value` (the shape
//! conftest gives Rego policies as `input`) or a [`FormatError`] with line and column out.
//!
//! Which parser reads a file is conftest's rule ([`Parser::for_path`], its
//! `parser.NewFromPath`): the file name for Dockerfiles, `.env` files and ignore files, else
//! the extension, which must be a parser's name (`.toml`, `.ini`, `.xml`, …) or one of the
//! aliases conftest knows (`.yml`, `.tf`, `.tfvars`, `.hcl`). `--parser` forces one
//! ([`Parser::from_name`]).
//!
//! YAML and Dockerfiles are not read here: pave reads them with `pave-yaml` and
//! `pave-policy`'s Dockerfile parser, which keep positions for its built-in rules. Formats
//! no well-kept Rust crate reads the way conftest does (CUE, Jsonnet, HOCON, nginx, VCL,
//! Groovy, textproto) are refused with [`FormatError::Unsupported`], which says
//! why.

mod edn;
mod hcl;
mod ini;
mod keyvalue;
mod sbom;
mod toml;
mod xml;

use serde_json::Value;

/// A conftest parser, by the name `--parser` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parser {
    Yaml,
    Json,
    Jsonc,
    Toml,
    Ini,
    Edn,
    Hcl1,
    Hcl2,
    Xml,
    Dotenv,
    Properties,
    Ignore,
    CycloneDx,
    Spdx,
    Dockerfile,
    /// A conftest parser pave does not implement (named by [`Unsupported`]).
    Unsupported(Unsupported),
}

/// conftest parsers pave refuses, each with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unsupported {
    Cue,
    Groovy,
    Hocon,
    Jsonnet,
    Nginx,
    Textproto,
    Vcl,
}

impl Unsupported {
    pub fn name(self) -> &'static str {
        match self {
            Unsupported::Cue => "cue",
            Unsupported::Groovy => "groovy",
            Unsupported::Hocon => "hocon",
            Unsupported::Jsonnet => "jsonnet",
            Unsupported::Nginx => "nginx",
            Unsupported::Textproto => "textproto",
            Unsupported::Vcl => "vcl",
        }
    }

    /// Why pave does not read this format.
    pub fn reason(self) -> &'static str {
        match self {
            Unsupported::Cue => {
                "CUE needs a CUE evaluator (unification, defaults); no maintained Rust implementation exists"
            }
            Unsupported::Jsonnet => {
                "Jsonnet needs a Jsonnet evaluator; jrsonnet is not built into pave (see ARCHITECTURE.md for its build cost)"
            }
            Unsupported::Hocon => {
                "no maintained Rust HOCON parser resolves includes and substitutions as conftest's go-akka/configuration does"
            }
            Unsupported::Nginx => "conftest's nginx parser (crossplane) has no Rust counterpart",
            Unsupported::Vcl => "conftest's VCL parser (go-vcl) has no Rust counterpart",
            Unsupported::Groovy => {
                "conftest's Groovy AST (a Jenkinsfile parser) has no Rust counterpart"
            }
            Unsupported::Textproto => {
                "textproto needs the .proto message definitions compiled at run time"
            }
        }
    }
}

/// Why text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The text is not valid in its format. Line and column are 1-based.
    #[error("{line}:{column}: invalid {format}: {message}")]
    Syntax {
        format: &'static str,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("the {} format is not supported: {}", .0.name(), .0.reason())]
    Unsupported(Unsupported),
    /// YAML and Dockerfiles are read by their own crates.
    #[error("{0} is not read by pave-formats")]
    NotHere(&'static str),
}

impl FormatError {
    /// Line and column, when the error has them.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            FormatError::Syntax { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }

    /// The message without the position (callers that print `file:line:col:` themselves).
    pub fn message(&self) -> String {
        match self {
            FormatError::Syntax {
                format, message, ..
            } => format!("invalid {format}: {message}"),
            other => other.to_string(),
        }
    }

    pub(crate) fn at(format: &'static str, text: &str, offset: usize, message: String) -> Self {
        let (line, column) = line_column(text, offset);
        FormatError::Syntax {
            format,
            line,
            column,
            message,
        }
    }

    pub(crate) fn line(format: &'static str, line: usize, message: String) -> Self {
        FormatError::Syntax {
            format,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
            message,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Every parser name `--parser` accepts, in conftest's order.
pub const PARSER_NAMES: &[&str] = &[
    "cue",
    "cyclonedx",
    "dockerfile",
    "edn",
    "groovy",
    "hcl1",
    "hcl2",
    "hocon",
    "ignore",
    "ini",
    "json",
    "jsonc",
    "jsonnet",
    "nginx",
    "properties",
    "spdx",
    "textproto",
    "toml",
    "vcl",
    "xml",
    "yaml",
    "dotenv",
];

impl Parser {
    /// A parser by conftest's name (`--parser toml`).
    pub fn from_name(name: &str) -> Option<Parser> {
        Some(match name {
            "yaml" => Parser::Yaml,
            "json" => Parser::Json,
            "jsonc" => Parser::Jsonc,
            "toml" => Parser::Toml,
            "ini" => Parser::Ini,
            "hcl1" => Parser::Hcl1,
            "hcl2" => Parser::Hcl2,
            "xml" => Parser::Xml,
            "dotenv" => Parser::Dotenv,
            "properties" => Parser::Properties,
            "ignore" => Parser::Ignore,
            "cyclonedx" => Parser::CycloneDx,
            "spdx" => Parser::Spdx,
            "dockerfile" => Parser::Dockerfile,
            "cue" => Parser::Unsupported(Unsupported::Cue),
            "edn" => Parser::Edn,
            "groovy" => Parser::Unsupported(Unsupported::Groovy),
            "hocon" => Parser::Unsupported(Unsupported::Hocon),
            "jsonnet" => Parser::Unsupported(Unsupported::Jsonnet),
            "nginx" => Parser::Unsupported(Unsupported::Nginx),
            "textproto" => Parser::Unsupported(Unsupported::Textproto),
            "vcl" => Parser::Unsupported(Unsupported::Vcl),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Parser::Yaml => "yaml",
            Parser::Json => "json",
            Parser::Jsonc => "jsonc",
            Parser::Toml => "toml",
            Parser::Ini => "ini",
            Parser::Edn => "edn",
            Parser::Hcl1 => "hcl1",
            Parser::Hcl2 => "hcl2",
            Parser::Xml => "xml",
            Parser::Dotenv => "dotenv",
            Parser::Properties => "properties",
            Parser::Ignore => "ignore",
            Parser::CycloneDx => "cyclonedx",
            Parser::Spdx => "spdx",
            Parser::Dockerfile => "dockerfile",
            Parser::Unsupported(u) => u.name(),
        }
    }

    /// The parser conftest picks for a path (`parser.NewFromPath`); `None` when conftest
    /// reads no such file (a folder walk skips it; a named file is an error). Standard
    /// input (`-`) is YAML.
    pub fn for_path(path: &str) -> Option<Parser> {
        if path == "-" {
            return Some(Parser::Yaml);
        }
        let name = path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(path)
            .to_ascii_lowercase();
        // Go's filepath.Ext: from the last dot of the last element (".env" has ext "env").
        let ext = name.rfind('.').map_or("", |i| &name[i + 1..]);
        if name == "dockerfile" || name.starts_with("dockerfile.") || ext == "dockerfile" {
            return Some(Parser::Dockerfile);
        }
        match ext {
            "yml" | "yaml" => return Some(Parser::Yaml),
            "hcl" | "tf" | "tfvars" => return Some(Parser::Hcl2),
            "gitignore" | "dockerignore" => return Some(Parser::Ignore),
            _ => {}
        }
        if name == ".env" || name.starts_with(".env.") || ext == "env" {
            return Some(Parser::Dotenv);
        }
        if name == "nginx.conf" {
            return Some(Parser::Unsupported(Unsupported::Nginx));
        }
        if name == "jenkinsfile" || name.starts_with("jenkinsfile.") {
            return Some(Parser::Unsupported(Unsupported::Groovy));
        }
        if matches!(ext, "textproto" | "textpb" | "pbtxt") {
            return Some(Parser::Unsupported(Unsupported::Textproto));
        }
        Parser::from_name(ext)
    }

    /// Reads `text` in this format. YAML and Dockerfiles are [`FormatError::NotHere`].
    pub fn parse(self, text: &str) -> Result<Value, FormatError> {
        match self {
            Parser::Json => parse_json(text, "JSON"),
            Parser::Jsonc => parse_json(&strip_jsonc(text), "JSONC"),
            Parser::Toml => toml::parse(text),
            Parser::Ini => ini::parse(text),
            Parser::Edn => edn::parse(text),
            Parser::Hcl1 => hcl::parse_hcl1(text),
            Parser::Hcl2 => hcl::parse(text),
            Parser::Xml => xml::parse(text),
            Parser::Dotenv => keyvalue::dotenv(text),
            Parser::Properties => keyvalue::properties(text),
            Parser::Ignore => Ok(keyvalue::ignore(text)),
            Parser::CycloneDx => sbom::cyclonedx(text),
            Parser::Spdx => sbom::spdx(text),
            Parser::Yaml => Err(FormatError::NotHere("YAML")),
            Parser::Dockerfile => Err(FormatError::NotHere("a Dockerfile")),
            Parser::Unsupported(u) => Err(FormatError::Unsupported(u)),
        }
    }
}

/// JSON as Go's `encoding/json` reads it (a leading byte-order mark is dropped).
fn parse_json(text: &str, format: &'static str) -> Result<Value, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| FormatError::Syntax {
        format,
        line: u32::try_from(e.line()).unwrap_or(u32::MAX),
        column: u32::try_from(e.column()).unwrap_or(u32::MAX),
        message: e.to_string(),
    })
}

/// JSON with comments (`//`, `/* */`) and trailing commas, turned into JSON of the same
/// length and line structure (comments become spaces), so positions stay exact.
fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                out.extend_from_slice(b"  ");
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    out.push(if bytes[i] == b'\n' { b'\n' } else { b' ' });
                    i += 1;
                }
                if i < bytes.len() {
                    out.extend_from_slice(b"  ");
                    i += 2;
                }
            }
            (b',', _) => {
                // A trailing comma: the next significant byte closes the container.
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                out.push(if matches!(bytes.get(j), Some(b']' | b'}')) {
                    b' '
                } else {
                    b','
                });
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn parsers_by_path_follow_conftest() {
        let cases = [
            ("Dockerfile", Some("dockerfile")),
            ("dev.Dockerfile", Some("dockerfile")),
            ("Dockerfile.prod", Some("dockerfile")),
            ("a/b.yml", Some("yaml")),
            ("main.tf", Some("hcl2")),
            ("x.tfvars", Some("hcl2")),
            (".gitignore", Some("ignore")),
            ("sub/.dockerignore", Some("ignore")),
            (".env", Some("dotenv")),
            (".env.prod", Some("dotenv")),
            ("prod.env", Some("dotenv")),
            ("traefik.toml", Some("toml")),
            ("grafana.ini", Some("ini")),
            ("pom.xml", Some("xml")),
            ("sbom.spdx", Some("spdx")),
            ("a.json", Some("json")),
            ("a.jsonnet", Some("jsonnet")),
            ("Jenkinsfile", Some("groovy")),
            ("hocon.conf", None),
            ("README.md", None),
            ("Makefile", None),
            ("-", Some("yaml")),
        ];
        for (path, want) in cases {
            assert_eq!(Parser::for_path(path).map(Parser::name), want, "{path}");
        }
        for name in PARSER_NAMES {
            assert_eq!(Parser::from_name(name).unwrap().name(), *name);
        }
    }

    #[test]
    fn json_and_jsonc() {
        assert_eq!(
            Parser::Json.parse("\u{feff}{\"a\": [1]}").unwrap(),
            json!({"a": [1]})
        );
        let err = Parser::Json.parse("{\n  \"a\": ,\n}").unwrap_err();
        assert_eq!(err.position(), Some((2, 8)), "{err}");
        let text = "{\n  // comment\n  \"a\": \"http://x\", /* b */\n  \"c\": [1, 2,],\n}\n";
        assert_eq!(
            Parser::Jsonc.parse(text).unwrap(),
            json!({"a": "http://x", "c": [1, 2]})
        );
        let err = Parser::Jsonc.parse("{\n// x\n\"a\": }").unwrap_err();
        assert_eq!(err.position().unwrap().0, 3);
    }

    #[test]
    fn unsupported_formats_say_why() {
        let err = Parser::from_name("cue").unwrap().parse("a: 1").unwrap_err();
        assert!(
            err.to_string().contains("cue format is not supported"),
            "{err}"
        );
        assert!(Parser::Yaml.parse("a: 1").is_err());
    }
}
