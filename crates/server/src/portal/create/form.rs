//! The form generated from a template's parameter schema, and what a submission of it
//! means: each answer read as `--set NAME=VALUE` would be (`params::coerce_set`), errors put
//! on their fields, and when everything passes, the rendered repository in memory. Pure:
//! the pages decide whether the result is a download, a confirmation or a push.

use pave_template::params::{self, ParamInfo};
use pave_template::{Loaded, Rendered};
use serde_json::Value;

/// One input of the form.
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) description: Option<String>,
    pub(crate) required: bool,
    /// `text`, `number`, `checkbox` or `select`.
    pub(crate) input: &'static str,
    /// What the input shows: the submitted value, else the default.
    pub(crate) value: String,
    pub(crate) checked: bool,
    pub(crate) choices: Vec<String>,
    /// Why the answer was refused, shown beside the input.
    pub(crate) error: Option<String>,
}

/// A submission of the form, read.
pub(crate) struct Evaluated {
    pub(crate) fields: Vec<Field>,
    /// Problems not tied to one input.
    pub(crate) errors: Vec<String>,
    /// `--set NAME=VALUE` words for the answers that differ from the defaults.
    pub(crate) sets: Vec<String>,
    /// The `name` answer, when there is one.
    pub(crate) name: Option<String>,
    /// The folder the archive holds everything under.
    pub(crate) folder: String,
    /// The rendered repository, when `go` and every answer passed.
    pub(crate) files: Option<Rendered>,
}

impl Evaluated {
    /// `./<name>` of the command, or `./my-repo` while the name is not a usable folder.
    pub(crate) fn command_folder(&self) -> String {
        let name = self
            .name
            .as_deref()
            .filter(|n| is_folder_name(n))
            .unwrap_or("my-repo");
        format!("./{name}")
    }

    /// The answers as hidden inputs of a confirmation form: every box either way, other
    /// fields when they hold something.
    pub(crate) fn hidden(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter_map(|f| match f.input {
                "checkbox" => Some((f.name.clone(), f.checked.to_string())),
                _ if f.value.is_empty() => None,
                _ => Some((f.name.clone(), f.value.clone())),
            })
            .collect()
    }
}

/// The form for `loaded` with the `submitted` answers; when `go`, the answers are checked
/// and the template rendered if they pass.
pub(crate) fn evaluate(loaded: &Loaded, submitted: &[(String, String)], go: bool) -> Evaluated {
    let manifest = &loaded.template.manifest;
    let infos = params::parameters(manifest);
    let given = |name: &str| {
        submitted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut fields: Vec<Field> = infos.iter().map(|p| field(p, given(&p.name), go)).collect();
    let mut answers = params::Answers::new();
    let mut errors = Vec::new();
    let mut sets = Vec::new();
    for (info, field) in infos.iter().zip(fields.iter_mut()) {
        let raw = match (field.input, given(&info.name)) {
            // A form sends a checked box only; a link may say `false` or `0` as well.
            ("checkbox", Some(value)) => match truth(value) {
                Some(checked) => Some(checked.to_string()),
                None => {
                    field.error = Some(format!("`{value}` is not true or false"));
                    continue;
                }
            },
            ("checkbox", None) => go.then(|| "false".to_owned()),
            (_, value) => value.filter(|v| !v.trim().is_empty()).map(str::to_owned),
        };
        let Some(raw) = raw else { continue };
        let default = info.default.as_ref().map(params::display_value);
        match params::coerce_set(manifest, &format!("{}={raw}", info.name)) {
            Ok((name, value)) => {
                if default.as_deref() != Some(raw.as_str()) {
                    sets.push(format!("--set {}", shell_word(&format!("{name}={raw}"))));
                }
                answers.insert(name, value);
            }
            Err(pave_template::Error::Set { message, .. }) => field.error = Some(message),
            Err(e) => field.error = Some(e.to_string()),
        }
    }
    let name = answers
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let folder = name
        .as_deref()
        .filter(|n| is_folder_name(n))
        .unwrap_or(&manifest.name)
        .to_owned();
    let mut files = None;
    let has_field_errors = fields.iter().any(|f| f.error.is_some());
    if go && !has_field_errors {
        match pave_template::ops::generate(loaded, answers) {
            Ok(rendered) => files = Some(rendered),
            Err(pave_template::Error::MissingParameters(missing)) => {
                for line in missing {
                    attach(&mut fields, &mut errors, &line, "is required");
                }
            }
            Err(pave_template::Error::InvalidParameters(problems)) => {
                for line in problems {
                    attach(&mut fields, &mut errors, &line, "");
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    Evaluated {
        fields,
        errors,
        sets,
        name,
        folder,
        files,
    }
}

fn field(info: &ParamInfo, given: Option<&str>, go: bool) -> Field {
    let default = info.default.as_ref().map(params::display_value);
    let input = if !info.choices.is_empty() {
        "select"
    } else {
        match info.kind.as_deref() {
            Some("boolean") => "checkbox",
            Some("integer" | "number") => "number",
            _ => "text",
        }
    };
    let checked = match given {
        Some(value) => truth(value) == Some(true),
        None => !go && info.default == Some(Value::Bool(true)),
    };
    Field {
        label: info.name.replace(['_', '-'], " "),
        name: info.name.clone(),
        description: info.description.clone(),
        required: info.required,
        input,
        value: given.map(str::to_owned).or(default).unwrap_or_default(),
        checked,
        choices: info.choices.iter().map(params::display_value).collect(),
        error: None,
    }
}

/// Puts a validation line (`  - name: message` or `  - name (type): …`) on its field, or
/// among the form's errors when it names none.
pub(crate) fn attach(fields: &mut [Field], errors: &mut Vec<String>, line: &str, suffix: &str) {
    let text = line.trim().trim_start_matches("- ").trim();
    let name_end = text.find([':', ' ', '.']).unwrap_or(text.len());
    let name = &text[..name_end];
    match fields.iter_mut().find(|f| f.name == name) {
        Some(field) => {
            let message = if suffix.is_empty() {
                text[name_end..].trim_start_matches(':').trim().to_owned()
            } else {
                suffix.to_owned()
            };
            field.error = Some(message);
        }
        None => errors.push(text.to_owned()),
    }
}

/// A checkbox's value as a form or a link gives it: `true`/`on`/`1`/`yes` or
/// `false`/`off`/`0`/`no`/empty; `None` for anything else.
fn truth(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" | "" => Some(false),
        _ => None,
    }
}

fn is_folder_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// A word as a POSIX shell reads it: bare when safe, else single-quoted.
pub(crate) fn shell_word(word: &str) -> String {
    let safe = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c));
    if safe && !word.is_empty() {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_what_the_shell_would_split() {
        assert_eq!(shell_word("name=orders"), "name=orders");
        assert_eq!(shell_word("description=A b"), "'description=A b'");
        assert_eq!(shell_word("x=it's"), r"'x=it'\''s'");
    }

    #[test]
    fn validation_lines_land_on_their_fields() {
        let mut fields = vec![Field {
            name: "port".into(),
            label: "port".into(),
            description: None,
            required: true,
            input: "number",
            value: String::new(),
            checked: false,
            choices: vec![],
            error: None,
        }];
        let mut errors = Vec::new();
        attach(
            &mut fields,
            &mut errors,
            "  - port: 70000 is greater than the maximum of 65535",
            "",
        );
        attach(
            &mut fields,
            &mut errors,
            "  - something else went wrong",
            "",
        );
        assert_eq!(
            fields[0].error.as_deref(),
            Some("70000 is greater than the maximum of 65535")
        );
        assert_eq!(errors, ["something else went wrong"]);
    }
}
