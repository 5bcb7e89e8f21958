//! Where an entity's docs are: `backstage.io/techdocs-ref: dir:<path>`, relative to the
//! entity's catalog file, inside the registered source (a registered folder, or the
//! repository's checkout). Reading and rendering them is `pave-docs`' (through the server).

use std::path::PathBuf;

use pave_ingest::SourceFile;
use serde_json::Value;

/// The annotation TechDocs reads.
pub const ANNOTATION: &str = "backstage.io/techdocs-ref";

/// An entity's docs folder (the one holding `mkdocs.yml`) and the folder nothing read for
/// it may leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsLocation {
    pub dir: PathBuf,
    pub boundary: PathBuf,
}

/// The entity's `backstage.io/techdocs-ref`, when it has one.
pub fn techdocs_ref(entity: &Value) -> Option<&str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(ANNOTATION)?
        .as_str()
}

/// Resolves a `techdocs-ref` against the entity's catalog file. Only `dir:` references are
/// read (`url:` ones would be fetched, and pave fetches nothing it was not pointed at as a
/// location); the folder must stay inside the source. Messages reach the portal, so they
/// never name server paths.
pub fn resolve(source: &SourceFile, reference: &str) -> Result<DocsLocation, String> {
    let dir =
        crate::dir_ref::resolve(source, ANNOTATION, reference, "a folder holding mkdocs.yml")?;
    Ok(DocsLocation {
        dir,
        boundary: source.boundary.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceFile {
        SourceFile {
            file: PathBuf::from("/src/repo/systems/shop.yaml"),
            boundary: PathBuf::from("/src/repo"),
        }
    }

    #[test]
    fn dir_references_resolve_inside_the_source_only() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("dir:.", Ok("/src/repo/systems")),
            ("dir:", Ok("/src/repo/systems")),
            ("dir:../services/cart", Ok("/src/repo/services/cart")),
            ("dir:./docs-site/", Ok("/src/repo/systems/docs-site")),
            ("dir:../../elsewhere", Err("outside the source root")),
            ("dir:/etc", Err("relative to the catalog file")),
            ("url:https://github.com/x/y", Err("only dir: references")),
            ("dir:https://x/y", Err("relative to the catalog file")),
        ];
        for (reference, want) in cases {
            let got = resolve(&source(), reference);
            match (want, &got) {
                (Ok(dir), Ok(location)) => {
                    assert_eq!(location.dir, PathBuf::from(dir), "{reference}");
                    assert_eq!(location.boundary, PathBuf::from("/src/repo"));
                }
                (Err(part), Err(message)) => {
                    assert!(message.contains(part), "{reference}: {message}");
                    assert!(
                        !message.contains("/src/repo"),
                        "{reference}: names a server path"
                    );
                }
                _ => panic!("{reference}: {got:?}"),
            }
        }
    }
}
