//! Templates registered in the catalog: `kind: Template` entities whose
//! `pave.dev/template-ref: dir:<path>` names a pave template folder beside their catalog file
//! (`pave_platform::templates`). The folder is read from the entity's registered source (a
//! registered folder, or the git checkout of a `git`/`url` location), never from anywhere
//! else: the reference must stay inside the source lexically, and again once symbolic links
//! are followed (the folder, `template.yaml` and every skeleton file).
//!
//! Reading is bounded ([`LIMITS`]); the index reads `template.yaml` only. A template that
//! cannot be read is a problem shown on its card and form (with `file:line:column` for a
//! malformed `template.yaml`), never a failed page, and no message names a server path.

use std::path::PathBuf;

use pave_catalog::Catalog;
use pave_catalog::query::{Direction, EntityFilter, OrderField, QueryRequest};
use pave_platform::templates::{self as platform, EntitySource, GitOrigin, TemplateLocation};
use pave_template::{LoadLimits, Loaded, Manifest, Source, Template};
use serde_json::Value;

use super::super::view::{self, Identity, RefView};

/// Registered templates listed on `/create` at most (by name).
pub(crate) const MAX_REGISTERED: usize = 100;

/// How much of a registered template the server reads for a form, a download or a push.
pub(crate) const LIMITS: LoadLimits = LoadLimits {
    max_files: 2_000,
    max_file_bytes: 4 * 1024 * 1024,
    max_total_bytes: 32 * 1024 * 1024,
};

/// The largest `template.yaml` read for a card (a real one is a few KiB; the index reads
/// up to [`MAX_REGISTERED`] of them).
const MANIFEST_BYTES: u64 = 256 * 1024;

/// A Template entity naming a template folder.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) id: Identity,
    /// The index key, to find the entity's source.
    pub(crate) key: String,
    pub(crate) owner: Option<RefView>,
    /// The annotation's value.
    pub(crate) reference: String,
}

impl Registration {
    fn of(catalog: &Catalog, entity: &Value) -> Option<Registration> {
        let reference = platform::template_ref(entity)?.to_owned();
        let id = Identity::of(entity);
        let key = pave_catalog::EntityKey::new(&id.kind, &id.namespace, &id.name).to_string();
        let owner = view::str_at(entity, &["spec", "owner"])
            .map(|owner| view::resolve(catalog, owner, Some("group"), &id.namespace));
        Some(Registration {
            id,
            key,
            owner,
            reference,
        })
    }

    /// The form's address.
    pub(crate) fn href(&self) -> String {
        format!(
            "/create/registered/{}/{}",
            view::encode_segment(&self.id.namespace),
            view::encode_segment(&self.id.name)
        )
    }
}

/// The registered templates, by name, at most [`MAX_REGISTERED`], and how many there are.
pub(crate) fn find(catalog: &Catalog) -> (Vec<Registration>, usize) {
    let filter = EntityFilter::parse(&[format!(
        "kind=template,metadata.annotations.{}",
        platform::ANNOTATION
    )])
    .ok()
    .flatten();
    let request = QueryRequest {
        filter,
        order_field: Some(OrderField {
            field: "metadata.name".to_owned(),
            order: Direction::Asc,
        }),
        limit: Some(MAX_REGISTERED),
        ..Default::default()
    };
    match catalog.query(&request) {
        Ok(page) => (
            page.items
                .iter()
                .filter_map(|json| serde_json::from_str::<Value>(json).ok())
                .filter_map(|entity| Registration::of(catalog, &entity))
                .collect(),
            page.total_items,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "listing registered templates");
            (Vec::new(), 0)
        }
    }
}

/// The registered template `template:namespace/name`, if that entity names a folder.
pub(crate) fn get(catalog: &Catalog, namespace: &str, name: &str) -> Option<Registration> {
    let key = pave_catalog::EntityKey::new("template", namespace, name);
    let record = catalog.get(&key)?;
    Registration::of(catalog, &record.entity())
}

/// A registered template's folder, found and checked.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The folder, symbolic links resolved, inside the source.
    dir: PathBuf,
    location: TemplateLocation,
    /// The folder relative to the source's root (`.` for the root).
    pub(crate) relative: String,
    pub(crate) repository: Option<GitOrigin>,
    /// The commit the source's checkout is at (git sources).
    pub(crate) commit: Option<String>,
}

/// Finds `registration`'s folder in its `source` (from `Platform::entity_origins`).
pub(crate) fn locate(
    registration: &Registration,
    source: Result<&EntitySource, String>,
) -> Result<Found, String> {
    let source = source.map_err(|e| {
        tracing::warn!(entity = %registration.key, error = %e, "a registered template's source");
        "pave reads registered templates only from folders and git repositories it has registered and read; this entity's source cannot be found on the server".to_owned()
    })?;
    let location = platform::resolve(&source.file, &registration.reference)?;
    let relative = location.relative();
    let missing = || {
        format!(
            "the folder `{relative}` named by {} does not exist in the source",
            platform::ANNOTATION
        )
    };
    let dir = std::fs::canonicalize(&location.dir).map_err(|_| missing())?;
    let boundary = std::fs::canonicalize(&location.boundary).map_err(|_| missing())?;
    if !dir.starts_with(&boundary) {
        return Err(format!(
            "the folder `{relative}` named by {} leads outside the source root",
            platform::ANNOTATION
        ));
    }
    if !dir.is_dir() {
        return Err(format!(
            "`{relative}`, named by {}, is not a folder",
            platform::ANNOTATION
        ));
    }
    let commit = source
        .repository
        .as_ref()
        .and_then(|_| checkout_commit(&boundary));
    Ok(Found {
        dir,
        relative,
        location,
        repository: source.repository.clone(),
        commit,
    })
}

/// The commit a git source's checkout is at: ingestion checks out a detached `HEAD`, so
/// `.git/HEAD` holds it (no git process needed).
fn checkout_commit(checkout: &std::path::Path) -> Option<String> {
    let head = pave_fs::read_bounded(&checkout.join(".git").join("HEAD"), 256).ok()?;
    let head = String::from_utf8(head).ok()?;
    let head = head.trim();
    (head.len() == 40 && head.bytes().all(|b| b.is_ascii_hexdigit())).then(|| head.to_owned())
}

impl Found {
    /// `template.yaml` only: what a card shows.
    pub(crate) fn manifest(&self) -> Result<Manifest, String> {
        let file = format!("{}/{}", self.shown_dir(), pave_template::MANIFEST_FILE);
        let path = self.dir.join(pave_template::MANIFEST_FILE);
        let bytes =
            pave_fs::read_inside(&path, &self.dir, MANIFEST_BYTES).map_err(|e| match e {
                pave_fs::ReadError::NotFound => self.no_manifest(),
                pave_fs::ReadError::OutsideRoot { .. } => {
                    format!("{file}: a symbolic link leading outside the template")
                }
                e => format!("{file}: {e}"),
            })?;
        let text = pave_fs::into_text(bytes).map_err(|e| match e.position() {
            Some(p) => format!("{file}:{}:{}: {e}", p.line, p.column),
            None => format!("{file}: {e}"),
        })?;
        Manifest::parse(&text).map_err(|e| self.problem(&e))
    }

    /// The whole template, within [`LIMITS`].
    pub(crate) fn template(&self) -> Result<Template, String> {
        if !self.dir.join(pave_template::MANIFEST_FILE).exists() {
            return Err(self.no_manifest());
        }
        pave_template::load_dir_within(&self.dir, &LIMITS).map_err(|e| self.problem(&e))
    }

    /// `template` as `pave new` would have loaded it: what `.pave/answers.yaml` records as
    /// its source. A template at the root of a git repository records the repository and
    /// commit, so `pave update` finds it again; any other records its folder relative to
    /// the source (a server path would mean nothing elsewhere).
    pub(crate) fn loaded(&self, template: Template) -> Loaded {
        match (&self.repository, self.relative.as_str()) {
            (Some(repository), ".") => Loaded {
                template,
                source: Source::Git(super::push::strip_credentials(&repository.url)),
                commit: self.commit.clone(),
            },
            _ => Loaded {
                template,
                source: Source::Folder(PathBuf::from(&self.relative)),
                commit: None,
            },
        }
    }

    /// How to make the same repository with the CLI: the words before `./<folder>` and
    /// `--set …`, and a note when there is no way to fetch the template from here.
    pub(crate) fn command(&self) -> (String, Option<String>) {
        let Some(repository) = &self.repository else {
            return (
                format!("pave new {}", super::shell_word(&format!("./{}", self.relative))),
                Some(
                    "This template is read from a folder on the server, not from a git repository: run the command in a copy of the registered folder (the path is relative to it)."
                        .to_owned(),
                ),
            );
        };
        let url = super::push::strip_credentials(&repository.url);
        let pin = self.commit.clone().or_else(|| repository.reference.clone());
        if self.relative == "." {
            let source = match &pin {
                Some(pin) => format!("{url}@{pin}"),
                None => url,
            };
            return (format!("pave new {}", super::shell_word(&source)), None);
        }
        let checkout = match &pin {
            Some(pin) => format!(
                " && git -C pave-template checkout --quiet {}",
                super::shell_word(pin)
            ),
            None => String::new(),
        };
        (
            format!(
                "git clone --quiet -- {} pave-template{checkout} && pave new {}",
                super::shell_word(&url),
                super::shell_word(&format!("./pave-template/{}", self.relative))
            ),
            None,
        )
    }

    fn shown_dir(&self) -> &str {
        &self.relative
    }

    fn no_manifest(&self) -> String {
        format!(
            "no {} in `{}`: {} must name the folder that holds it (one version; older ones live in git history)",
            pave_template::MANIFEST_FILE,
            self.relative,
            platform::ANNOTATION
        )
    }

    /// A pave-template error as the page shows it: relative to the source, its `file:line:
    /// column` kept, never a server path.
    fn problem(&self, error: &pave_template::Error) -> String {
        let text = match error {
            pave_template::Error::Manifest { .. } | pave_template::Error::UnsafePath { .. } => {
                format!("{}/{error}", self.relative)
            }
            other => other.to_string(),
        };
        scrub(&text, &self.location, &self.dir)
    }
}

/// `message` without the server's folders: paths inside the source become relative to it,
/// and a link's target outside it (`(to /etc/…)`) is left out.
fn scrub(message: &str, location: &TemplateLocation, dir: &std::path::Path) -> String {
    let mut out = message.to_owned();
    let mut prefixes = vec![location.boundary.clone()];
    if let Ok(real) = std::fs::canonicalize(&location.boundary) {
        prefixes.push(real);
    }
    prefixes.push(dir.to_path_buf());
    for prefix in prefixes {
        let text = prefix.display().to_string();
        if !text.is_empty() && text != "/" {
            out = out.replace(&format!("{text}/"), "").replace(&text, ".");
        }
    }
    while let Some(start) = out.find(" (to /") {
        let end = out[start..].find(')').map_or(out.len(), |e| start + e + 1);
        out.replace_range(start..end, "");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_server_folders() {
        let location = TemplateLocation {
            dir: PathBuf::from("/srv/pave/demo/templates/t"),
            boundary: PathBuf::from("/srv/pave/demo"),
        };
        let dir = PathBuf::from("/srv/pave/demo/templates/t");
        assert_eq!(
            scrub(
                "templates/t/skeleton/x: a symbolic link pointing outside the template (to /etc/passwd)",
                &location,
                &dir
            ),
            "templates/t/skeleton/x: a symbolic link pointing outside the template"
        );
        assert_eq!(
            scrub(
                "/srv/pave/demo/templates/t/skeleton/a.txt: Permission denied (os error 13)",
                &location,
                &dir
            ),
            "templates/t/skeleton/a.txt: Permission denied (os error 13)"
        );
    }
}
