//! `dir:` annotations (`backstage.io/techdocs-ref`, `pave.dev/template-ref`): a folder named
//! relative to the entity's catalog file, read only inside its source.

use std::path::{Path, PathBuf};

use pave_ingest::SourceFile;

/// The folder `reference` (`dir:<folder>`) of `annotation` names, relative to the catalog
/// file and lexically inside the source (callers check again once symbolic links are
/// followed). `holding` says what the folder holds, for the message when the reference is
/// not `dir:`. Messages reach the portal, so they never name server paths.
pub(crate) fn resolve(
    source: &SourceFile,
    annotation: &str,
    reference: &str,
    holding: &str,
) -> Result<PathBuf, String> {
    let Some(dir) = reference.strip_prefix("dir:") else {
        return Err(format!(
            "{annotation}: {reference}: only dir: references are read ({holding}, relative to the catalog file)"
        ));
    };
    let dir = dir.trim();
    if dir.contains("://") || Path::new(dir).is_absolute() {
        return Err(format!(
            "{annotation}: {reference}: name a folder relative to the catalog file"
        ));
    }
    let path = pave_fs::resolve_lexically(source.dir(), if dir.is_empty() { "." } else { dir });
    if !path.starts_with(&source.boundary) {
        return Err(format!(
            "{annotation}: {reference}: is outside the source root"
        ));
    }
    Ok(path)
}
