//! The Create page: the golden paths as cards, and for each a form generated from the
//! template's parameter schema (the one `pave new` prompts from). Submitting renders the
//! template in memory and answers with the new repository as a zip archive; the same
//! answers are shown as the `pave new … --set …` command for those who prefer the CLI.
//!
//! - `GET /create`: the built-in templates, newest version of each.
//! - `GET /create/{template}`: the form; with `go=1` in the query, the answers are checked
//!   and either the archive is sent or the form comes back with what is wrong (422).
//!
//! The form submits with GET: rendering a template changes nothing on the server, so the
//! download is a safe, repeatable request and needs no CSRF token. The work is bounded by the
//! template renderer's fuel and runs on the heavy pool.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pave_template::params::{self, ParamInfo};
use pave_template::{Loaded, Source};
use serde_json::Value;

use super::{Layout, PortalError, Section};
use crate::AppState;

/// Longest query string the form reads (answers are short; a paste of a file is not one).
const MAX_QUERY_BYTES: usize = 16 * 1024;

pub(crate) struct TemplateCard {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) version: String,
    pub(crate) kind: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) parameters: usize,
}

#[derive(Template)]
#[template(path = "create.html")]
pub(crate) struct CreatePage {
    pub(crate) layout: Layout,
    pub(crate) templates: Vec<TemplateCard>,
}

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

#[derive(Template)]
#[template(path = "create_form.html")]
pub(crate) struct CreateForm {
    pub(crate) layout: Layout,
    pub(crate) card: TemplateCard,
    pub(crate) fields: Vec<Field>,
    /// Problems not tied to one input.
    pub(crate) errors: Vec<String>,
    pub(crate) command: String,
}

/// The newest version of built-in `name`.
fn load_builtin(name: &str) -> Option<Loaded> {
    let versions = pave_template::builtin::catalog();
    let version = versions.get(name)?.last()?.clone();
    let template = pave_template::builtin::load(name, &version).ok()?;
    Some(Loaded {
        template,
        source: Source::Builtin(name.to_owned()),
        commit: None,
    })
}

fn card(loaded: &Loaded) -> TemplateCard {
    let manifest = &loaded.template.manifest;
    TemplateCard {
        name: manifest.name.clone(),
        title: manifest
            .title
            .clone()
            .unwrap_or_else(|| manifest.name.clone()),
        description: manifest.description.clone(),
        version: manifest.version.to_string(),
        kind: manifest.kind.clone(),
        tags: manifest.tags.clone(),
        parameters: params::parameters(manifest).len(),
    }
}

pub(crate) async fn index(State(_state): State<Arc<AppState>>) -> Response {
    let templates = pave_template::builtin::catalog()
        .keys()
        .filter_map(|name| load_builtin(name))
        .map(|loaded| card(&loaded))
        .collect();
    let page = CreatePage {
        layout: Layout::new("Create", Section::Create),
        templates,
    };
    match super::render(&page) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn form(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return PortalError::BadRequest(format!(
            "The answers are too long (at most {} KiB).",
            MAX_QUERY_BYTES / 1024
        ))
        .into_response();
    }
    let Some(loaded) = load_builtin(&name) else {
        return PortalError::PageNotFound(format!("/create/{name}")).into_response();
    };
    let submitted: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let go = submitted.iter().any(|(k, v)| k == "go" && v != "0");
    let outcome = match state
        .heavy()
        .run(move || answer(&loaded, &submitted, go))
        .await
    {
        Ok(outcome) => outcome,
        Err(busy) => return PortalError::from(busy).into_response(),
    };
    match outcome {
        Outcome::Archive { file_name, bytes } => (
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}.zip\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Outcome::Form(form, status) => match super::render(&*form) {
            Ok(html) => (status, html).into_response(),
            Err(e) => e.into_response(),
        },
    }
}

enum Outcome {
    Archive { file_name: String, bytes: Vec<u8> },
    Form(Box<CreateForm>, StatusCode),
}

/// The form for `loaded` with the `submitted` answers; when `go`, the answers are checked
/// and the template rendered into an archive if they pass.
fn answer(loaded: &Loaded, submitted: &[(String, String)], go: bool) -> Outcome {
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
    let command = format!(
        "pave new {} ./{} {}",
        manifest.name,
        answers
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| is_folder_name(n))
            .unwrap_or("my-repo"),
        sets.join(" ")
    )
    .trim_end()
    .to_owned();
    let has_field_errors = fields.iter().any(|f| f.error.is_some());
    if go && !has_field_errors {
        let folder = answers
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| is_folder_name(n))
            .unwrap_or(&manifest.name)
            .to_owned();
        match pave_template::ops::generate(loaded, answers) {
            Ok(files) => match pave_template::zip_archive(&files, &folder) {
                Ok(bytes) => {
                    return Outcome::Archive {
                        file_name: folder,
                        bytes,
                    };
                }
                Err(e) => errors.push(e.to_string()),
            },
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
    let status = if go {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let card = card(loaded);
    Outcome::Form(
        Box::new(CreateForm {
            layout: Layout::new(format!("Create: {}", card.title), Section::Create),
            card,
            fields,
            errors,
            command,
        }),
        status,
    )
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
fn attach(fields: &mut [Field], errors: &mut Vec<String>, line: &str, suffix: &str) {
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
fn shell_word(word: &str) -> String {
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
