//! Rendering a template in memory: file names, conditions, copy globs, contents.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value as JValue};
use serde_json::{Value, json};

use crate::answers::ANSWERS_PATH;
use crate::error::{Error, Result};
use crate::params::Answers;
use crate::template::{SKELETON_DIR, Template, check_relative};

/// Instructions one file (or file name, or condition) may run before rendering stops: a
/// large skeleton file needs a few thousand; a template that never ends hits it in well under
/// a second.
pub const FUEL: u64 = 5_000_000;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// A rendered tree: destination-relative `/`-separated paths → files. Nothing is on disk.
pub type Rendered = BTreeMap<String, RenderedFile>;

/// The minijinja environment every template renders with: strict about undefined values
/// (but `{% if x is defined %}` works), trailing newlines kept, block tags trimmed, the case
/// filters, and a fuel limit.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // Skeletons are source files: no HTML escaping of `.html`, no JSON quoting of `.yaml`.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(100);
    env.add_filter("kebab_case", |s: &str| crate::case::kebab(s));
    env.add_filter("snake_case", |s: &str| crate::case::snake(s));
    env.add_filter("pascal_case", |s: &str| crate::case::pascal(s));
    env.add_filter("camel_case", |s: &str| crate::case::camel(s));
    env.add_filter("title_case", |s: &str| crate::case::title(s));
    env
}

fn globset(globs: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| {
            Error::manifest(
                crate::MANIFEST_FILE,
                None,
                format!("invalid glob `{g}`: {e}"),
            )
        })?;
        b.add(glob);
    }
    b.build()
        .map_err(|e| Error::manifest(crate::MANIFEST_FILE, None, e.to_string()))
}

fn render_error(file: &str, e: &minijinja::Error) -> Error {
    let message = match e.kind() {
        ErrorKind::OutOfFuel => format!(
            "rendering stopped after {FUEL} instructions (the fuel limit): does the template loop forever?"
        ),
        ErrorKind::UndefinedError => match e.detail() {
            Some(d) => format!("undefined value: {d}"),
            None => "undefined value (a parameter the template does not define?)".to_owned(),
        },
        _ => {
            let kind = e.kind().to_string();
            match e.detail() {
                Some(d) => format!("{kind}: {d}"),
                None => kind,
            }
        }
    };
    Error::Render {
        file: file.to_owned(),
        line: e.line(),
        message,
    }
}

/// The rendering context: every answer at top level plus `template` = {name, version}.
pub(crate) fn context(template: &Template, answers: &Answers) -> JValue {
    let mut ctx = answers.clone();
    ctx.insert(
        "template".into(),
        json!({"name": template.manifest.name, "version": template.manifest.version.to_string()}),
    );
    JValue::from_serialize(Value::Object(ctx))
}

/// Renders `template` with `answers` (already validated: see [`crate::params::prepare`]).
/// Pure: reads and writes nothing.
pub fn render(template: &Template, answers: &Answers) -> Result<Rendered> {
    let env = environment();
    let ctx = context(template, answers);
    let copy = globset(&template.manifest.copy)?;
    let mut conditions = Vec::new();
    for (i, c) in template.manifest.conditions.iter().enumerate() {
        let name = format!("{}: spec.files.conditions[{i}].if", crate::MANIFEST_FILE);
        let expr = env
            .compile_expression(&c.expression)
            .map_err(|e| render_error(&name, &e))?;
        let value = expr.eval(&ctx).map_err(|e| render_error(&name, &e))?;
        conditions.push((globset(&c.paths)?, value.is_true()));
    }
    let mut out = Rendered::new();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    for (path, file) in &template.files {
        let name = format!("{SKELETON_DIR}/{path}");
        if conditions
            .iter()
            .any(|(set, keep)| !keep && set.is_match(path))
        {
            continue;
        }
        let Some(target) = render_path(&env, &ctx, &name, path)? else {
            continue;
        };
        if target == ANSWERS_PATH {
            return Err(Error::UnsafePath {
                path: name,
                reason: format!("{ANSWERS_PATH} is written by pave, not by the skeleton"),
            });
        }
        if let Some(first) = origin.insert(target.clone(), name.clone()) {
            return Err(Error::UnsafePath {
                path: name,
                reason: format!("renders to `{target}`, as {first} does"),
            });
        }
        let contents = if copy.is_match(path) {
            file.contents.clone()
        } else {
            match std::str::from_utf8(&file.contents) {
                // Binary files are copied whatever the globs say.
                Err(_) => file.contents.clone(),
                Ok(text)
                    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") =>
                {
                    file.contents.clone()
                }
                Ok(text) => env
                    .render_named_str(&name, text, &ctx)
                    .map_err(|e| render_error(&name, &e))?
                    .into_bytes(),
            }
        };
        out.insert(
            target,
            RenderedFile {
                contents,
                executable: file.executable,
            },
        );
    }
    Ok(out)
}

/// Renders a skeleton path one component at a time. `None`: a component rendered empty,
/// so the file is left out.
fn render_path(
    env: &Environment<'_>,
    ctx: &JValue,
    name: &str,
    path: &str,
) -> Result<Option<String>> {
    if !path.contains("{{") && !path.contains("{%") {
        return Ok(Some(path.to_owned()));
    }
    let mut parts = Vec::new();
    for component in split_outside_tags(path) {
        let rendered = if component.contains("{{") || component.contains("{%") {
            env.render_named_str(&format!("{name} (file name)"), component, ctx)
                .map_err(|e| render_error(&format!("{name} (file name)"), &e))?
        } else {
            component.to_owned()
        };
        if rendered.trim().is_empty() {
            return Ok(None);
        }
        parts.push(rendered);
    }
    let target = parts.join("/");
    check_relative(&target).map_err(|reason| Error::UnsafePath {
        path: format!("{name} (renders to `{target}`)"),
        reason,
    })?;
    Ok(Some(target))
}

/// Splits at `/` outside `{{ }}` and `{% %}` (an expression may hold a `/`).
pub(crate) fn split_outside_tags(path: &str) -> Vec<&str> {
    let bytes = path.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut depth, mut i) = (0, 0usize, 0);
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{' | b'%')) => {
                depth += 1;
                i += 2;
            }
            (b'}' | b'%', Some(b'}')) if depth > 0 => {
                depth -= 1;
                i += 2;
            }
            (b'/', _) if depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    parts.push(&path[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::TemplateFile;

    fn template(files: &[(&str, &str)]) -> Template {
        let manifest = "apiVersion: pave.dev/v1alpha1
kind: Template
metadata: {name: t}
spec:
  version: 1.0.0
  parameters: {type: object, properties: {name: {type: string}, ci: {type: string, default: both}}}
  files:
    copy: ['**/*.bin']
    conditions:
      - if: \"ci != 'gitlab'\"
        paths: ['.github/**']
";
        let mut all = vec![(
            "template.yaml".to_owned(),
            TemplateFile {
                contents: manifest.into(),
                executable: false,
            },
        )];
        for (p, c) in files {
            all.push((
                format!("skeleton/{p}"),
                TemplateFile {
                    contents: (*c).into(),
                    executable: false,
                },
            ));
        }
        Template::from_files(all).unwrap_or_else(|e| panic!("{e}"))
    }

    fn answers(ci: &str) -> Answers {
        let mut a = Answers::new();
        a.insert("name".into(), json!("My Service"));
        a.insert("ci".into(), json!(ci));
        a
    }

    fn text(r: &Rendered, p: &str) -> String {
        r.get(p)
            .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
            .unwrap_or_else(|| panic!("no {p} in {:?}", r.keys()))
    }

    #[test]
    fn renders_names_contents_conditions_and_copies() {
        let t = template(&[
            ("values.yaml", "name: {{ name }}\n"),
            ("index.html", "<h1>{{ '<b>' }}</h1>\n"),
            (
                "{{ name | kebab_case }}/README.md",
                "# {{ name | title_case }} ({{ template.name }} {{ template.version }})\n{% if ci == 'both' %}\nboth\n{% endif %}\n",
            ),
            (
                "src/{{ name | snake_case }}.py",
                "class {{ name | pascal_case }}: {{ name | camel_case }}\n",
            ),
            (".github/workflows/ci.yaml", "on: push\n"),
            ("{% if false %}x{% endif %}/dropped.txt", "gone"),
            ("raw.bin", "{{ not rendered }}"),
        ]);
        let r = render(&t, &answers("both")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text(&r, "my-service/README.md"),
            "# My Service (t 1.0.0)\nboth\n"
        );
        assert_eq!(
            text(&r, "src/my_service.py"),
            "class MyService: myService\n"
        );
        assert_eq!(text(&r, "raw.bin"), "{{ not rendered }}");
        assert!(r.contains_key(".github/workflows/ci.yaml"));
        assert_eq!(text(&r, "values.yaml"), "name: My Service\n");
        assert_eq!(text(&r, "index.html"), "<h1><b></h1>\n");
        assert_eq!(r.len(), 6);
        let r = render(&t, &answers("gitlab")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.contains_key(".github/workflows/ci.yaml"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let t = template(&[("a.txt", "line one\n{{ name }}\n{% if %}\n")]);
        let e = render(&t, &answers("both"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("skeleton/a.txt:3: syntax error"), "{e}");
        let t = template(&[("b.txt", "ok\n\n{{ nope }}\n")]);
        let e = render(&t, &answers("both"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("skeleton/b.txt:3: undefined value"), "{e}");
        let t = template(&[(
            "c.txt",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        )]);
        let e = render(&t, &answers("both"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("skeleton/c.txt:1: rendering stopped after"),
            "{e}"
        );
    }

    #[test]
    fn escaping_paths_are_refused() {
        for (path, want) in [
            ("{{ '..' }}/x", "`..` would escape"),
            ("{{ '/etc' }}/passwd", "absolute paths"),
            ("{{ '../../x' }}", "`..` would escape"),
            ("{{ '.git' }}/hooks/pre-commit", "never writes into `.git`"),
            ("{{ '.pave' }}/answers.yaml", "written by pave"),
        ] {
            let t = template(&[(path, "x")]);
            let e = render(&t, &answers("both"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want), "{path}: {e}");
        }
        let files = vec![
            (
                "template.yaml".to_owned(),
                TemplateFile {
                    contents: b"x".to_vec(),
                    executable: false,
                },
            ),
            (
                "skeleton/../evil".to_owned(),
                TemplateFile {
                    contents: b"x".to_vec(),
                    executable: false,
                },
            ),
        ];
        assert!(Template::from_files(files).is_err());
    }
}
