//! Golden-path templates registered in the catalog: a `kind: Template` entity whose
//! `pave.dev/template-ref: dir:<path>` names a pave template folder (the one holding
//! `template.yaml`), relative to the entity's catalog file and inside the registered source,
//! as `backstage.io/techdocs-ref` names a docs folder ([`crate::docs`]). Reading and rendering
//! the template is `pave-template`'s (through the server's Create page).

use std::path::{Path, PathBuf};

use pave_ingest::{Source, SourceFile};
use serde_json::Value;

use crate::Platform;

/// The annotation naming the template folder. Not `pave.dev/template`: `pave new` writes
/// that one into the repositories it makes, naming the template they were made from.
pub const ANNOTATION: &str = "pave.dev/template-ref";

/// The entity's `pave.dev/template-ref`, when it has one.
pub fn template_ref(entity: &Value) -> Option<&str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(ANNOTATION)?
        .as_str()
}

/// A registered template's folder and the folder nothing read for it may leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateLocation {
    pub dir: PathBuf,
    pub boundary: PathBuf,
}

impl TemplateLocation {
    /// The folder relative to the source's root, `/`-separated (`.` for the root itself):
    /// what a page may show of where the template is.
    pub fn relative(&self) -> String {
        let rel = self
            .dir
            .strip_prefix(&self.boundary)
            .unwrap_or(Path::new(""));
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        }
    }
}

/// Resolves a `pave.dev/template-ref` against the entity's catalog file: only `dir:`
/// references, relative, and lexically inside the source (the caller checks again once
/// symbolic links are followed). Messages reach the portal, so they never name server paths.
pub fn resolve(source: &SourceFile, reference: &str) -> Result<TemplateLocation, String> {
    let dir = crate::dir_ref::resolve(
        source,
        ANNOTATION,
        reference,
        "the folder holding template.yaml",
    )?;
    Ok(TemplateLocation {
        dir,
        boundary: source.boundary.clone(),
    })
}

/// The git repository an entity's source was checked out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOrigin {
    /// The repository URL as registered.
    pub url: String,
    /// The branch, tag or commit registered with it (`None`: the remote's default).
    pub reference: Option<String>,
}

/// Where an entity was read from: its catalog file on this machine and, for a git source,
/// the repository (so a page can say how to fetch the same files elsewhere).
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySource {
    pub file: SourceFile,
    pub repository: Option<GitOrigin>,
}

impl Platform {
    /// [`EntitySource`]s of `keys`, with two store reads in all; an entity whose file cannot
    /// be found here (read over HTTP, no longer stored) gets the reason instead.
    pub async fn entity_origins(
        &self,
        keys: &[String],
    ) -> Result<Vec<(String, Result<EntitySource, String>)>, String> {
        let origins = self
            .store
            .entity_origins(keys)
            .await
            .map_err(|e| e.to_string())?;
        let locations = self.store.locations().await.map_err(|e| e.to_string())?;
        let mut out: Vec<(String, Result<EntitySource, String>)> = Vec::with_capacity(keys.len());
        for (key, origin) in origins {
            let found = match locations.iter().find(|l| l.id == origin.location_id) {
                None => Err("the entity's location is no longer registered".to_owned()),
                Some(location) => {
                    let repository = match Source::from_location(location.kind, &location.target) {
                        Ok(Source::Git { url, reference }) => Some(GitOrigin { url, reference }),
                        Ok(Source::Url {
                            repository,
                            reference,
                            ..
                        }) => Some(GitOrigin {
                            url: repository,
                            reference: Some(reference),
                        }),
                        _ => None,
                    };
                    pave_ingest::source_file(location, &origin.location_key, &self.ingest.git_cache)
                        .map(|file| EntitySource { file, repository })
                        .map_err(|e| e.to_string())
                }
            };
            out.push((key, found));
        }
        for key in keys {
            if !out.iter().any(|(k, _)| k == key) {
                out.push((
                    key.clone(),
                    Err(
                        "the entity's catalog file is not known (it is no longer stored)"
                            .to_owned(),
                    ),
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceFile {
        SourceFile {
            file: PathBuf::from("/src/repo/templates/lib/catalog-info.yaml"),
            boundary: PathBuf::from("/src/repo"),
        }
    }

    #[test]
    fn dir_references_resolve_inside_the_source_only() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("dir:./template", Ok("templates/lib/template")),
            ("dir:.", Ok("templates/lib")),
            ("dir:", Ok("templates/lib")),
            ("dir:../../", Ok(".")),
            ("dir:../other/t/", Ok("templates/other/t")),
            ("dir:../../../elsewhere", Err("outside the source root")),
            (
                "dir:./template/../../../../etc",
                Err("outside the source root"),
            ),
            ("dir:/etc", Err("relative to the catalog file")),
            ("dir:file:///etc", Err("relative to the catalog file")),
            ("url:https://github.com/x/y", Err("only dir: references")),
            ("./template", Err("only dir: references")),
        ];
        for (reference, want) in cases {
            let got = resolve(&source(), reference);
            match (want, &got) {
                (Ok(relative), Ok(location)) => {
                    assert_eq!(location.relative(), *relative, "{reference}");
                    assert_eq!(location.boundary, PathBuf::from("/src/repo"));
                }
                (Err(part), Err(message)) => {
                    assert!(message.contains(part), "{reference}: {message}");
                    assert!(message.starts_with(ANNOTATION), "{message}");
                    assert!(
                        !message.contains("/src/repo"),
                        "{reference}: names a server path"
                    );
                }
                _ => panic!("{reference}: {got:?}"),
            }
        }
    }

    #[test]
    fn the_annotation_is_read_only_as_text() {
        let entity = serde_json::json!({"metadata": {"annotations": {ANNOTATION: "dir:./t"}}});
        assert_eq!(template_ref(&entity), Some("dir:./t"));
        let number = serde_json::json!({"metadata": {"annotations": {ANNOTATION: 3}}});
        assert_eq!(template_ref(&number), None);
        assert_eq!(template_ref(&serde_json::json!({})), None);
    }
}
