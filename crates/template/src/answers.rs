//! `.pave/answers.yaml`: which template, source, version and answers made a repository.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::params::Answers;

/// Where the answers file lives in a generated repository.
pub const ANSWERS_PATH: &str = ".pave/answers.yaml";

const HEADER: &str = "# Written by pave (pave new / pave update). `pave update` re-renders the template with these answers.\n";

/// The contents of `.pave/answers.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswersFile {
    pub template: String,
    /// `builtin`, a git URL or path, or a folder path.
    pub source: String,
    pub version: semver::Version,
    /// The commit rendered (git sources only).
    pub commit: Option<String>,
    pub answers: Answers,
}

impl AnswersFile {
    /// The file's text: a header comment, then block YAML.
    pub fn to_yaml(&self) -> String {
        let mut v = Map::new();
        v.insert("template".into(), json!(self.template));
        v.insert("source".into(), json!(self.source));
        v.insert("version".into(), json!(self.version.to_string()));
        if let Some(c) = &self.commit {
            v.insert("commit".into(), json!(c));
        }
        v.insert("answers".into(), Value::Object(self.answers.clone()));
        format!("{HEADER}{}", pave_yaml::to_yaml_string(&Value::Object(v)))
    }

    /// Reads the file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<AnswersFile> {
        let docs = pave_yaml::parse_documents(text, &pave_yaml::Limits::default())
            .map_err(|e| Error::manifest(file, Some(e.position()), e.to_string()))?;
        let Some(doc) = docs.first() else {
            return Err(Error::manifest(file, None, "empty answers file"));
        };
        let pos = |key: &str| doc.spans.locate(&doc.value, 0, &[key.into()]);
        let string = |key: &str| -> Result<String> {
            match doc.value.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(Error::manifest(
                    file,
                    pos(key),
                    format!("`{key}` must be a string"),
                )),
                None => Err(Error::manifest(
                    file,
                    pos(key),
                    format!("`{key}` is required"),
                )),
            }
        };
        let template = string("template")?;
        let source = string("source")?;
        let version_text = string("version")?;
        let version = crate::manifest::parse_version(&version_text).ok_or_else(|| {
            Error::manifest(
                file,
                pos("version"),
                format!("`{version_text}` is not a semantic version"),
            )
        })?;
        let commit = match doc.value.get("commit") {
            None | Some(Value::Null) => None,
            Some(_) => Some(string("commit")?),
        };
        let answers = match doc.value.get("answers") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(Error::manifest(
                    file,
                    pos("answers"),
                    "`answers` must be a mapping",
                ));
            }
        };
        Ok(AnswersFile {
            template,
            source,
            version,
            commit,
            answers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut answers = Answers::new();
        answers.insert("name".into(), json!("payments-api"));
        answers.insert("port".into(), json!(8080));
        answers.insert("tags".into(), json!(["a", "b"]));
        let a = AnswersFile {
            template: "api-service".into(),
            source: "builtin".into(),
            version: semver::Version::new(1, 0, 0),
            commit: Some("0123abcd".into()),
            answers,
        };
        let text = a.to_yaml();
        assert!(text.starts_with("# Written by pave"), "{text}");
        assert!(text.contains("version: \"1.0.0\"\n"), "{text}");
        let back = AnswersFile::parse(&text, ANSWERS_PATH).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, a);
        let e = AnswersFile::parse(
            "template: x\nsource: builtin\nversion: nope\n",
            ANSWERS_PATH,
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(".pave/answers.yaml:3:1: `nope` is not a semantic version")
        );
    }
}
