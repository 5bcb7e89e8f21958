//! What a repository or folder holds for the catalog, before anything is registered: the
//! `POST /analyze-location` of Backstage's "register existing component" flow. Catalog
//! files found in it are returned with the location that would register each; a source
//! without any gets the repository's name, from which the caller proposes an entity.

use std::path::{Path, PathBuf};

use serde_json::Value;

use pave_store::LocationKind;

use crate::files::read_text;
use crate::source::{self, Source};
use crate::{IngestConfig, IngestError};

/// Catalog files read per analysis; a repository with more is summarised by these.
const MAX_FILES: usize = 200;
/// Folder entries looked at per analysis, so that analysing `/` ends.
const MAX_ENTRIES: usize = 100_000;

/// A catalog file found in the analysed source.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFile {
    /// The location that registers this file on its own: `url` with a forge web URL for
    /// repositories on a forge, `file` with a path for folders, else the analysed location.
    pub location_type: LocationKind,
    pub location_target: String,
    /// The entities in it, as written (not processed).
    pub entities: Vec<Value>,
}

/// Where a source lives, to name an entity for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceName {
    /// `github.com`, `gitlab.example.com`, … (none for folders).
    pub host: Option<String>,
    /// The organisation or group path (none for folders).
    pub owner: Option<String>,
    /// The repository's (or folder's, or file's) name.
    pub name: String,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub files: Vec<FoundFile>,
    pub name: SourceName,
    /// Problems reading files that were found (they are left out of `files`).
    pub problems: Vec<String>,
}

/// Reads `source` and lists the catalog files named `catalog_filename` in it.
///
/// # Errors
/// When the source cannot be read at all (a git fetch fails, a path does not exist).
pub async fn analyze(
    source: &Source,
    config: &IngestConfig,
    catalog_filename: &str,
) -> Result<Analysis, IngestError> {
    let source = source.clone();
    let mut config = config.clone();
    // Checkouts of its own: an analysis never fetches into a checkout ingestion is reading.
    config.git_cache = config.git_cache.join("analyze");
    let filename = catalog_filename.to_owned();
    tokio::task::spawn_blocking(move || analyze_blocking(&source, &config, &filename))
        .await
        .map_err(|source| IngestError::Worker {
            task: "analyzing a location",
            source,
        })?
}

fn analyze_blocking(
    source: &Source,
    config: &IngestConfig,
    filename: &str,
) -> Result<Analysis, IngestError> {
    if filename.is_empty() || filename.contains(['/', '\\']) || filename == ".." {
        return Err(IngestError::Invalid {
            source_text: filename.to_owned(),
            message: "catalogFilename must be a file name such as catalog-info.yaml".into(),
        });
    }
    config.check_source_host(source)?;
    let mut analysis = Analysis::default();
    match source {
        Source::Path(path) => {
            let root = std::fs::canonicalize(path).map_err(|e| IngestError::Unreadable {
                source_text: path.display().to_string(),
                message: format!("cannot read it: {e}"),
            })?;
            analysis.name = SourceName {
                name: root
                    .file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                ..SourceName::default()
            };
            for file in find(&root, filename) {
                let target = file.display().to_string();
                read_found(&file, config, LocationKind::File, &target, &mut analysis);
            }
        }
        Source::Git { url, reference } => {
            let checkout = source::sync_git(url, reference.as_deref(), config)?;
            analysis.name = repository_name(url);
            let reference = reference.as_deref().unwrap_or("HEAD");
            for file in find(&checkout.dir, filename) {
                let rel = relative(&checkout.dir, &file);
                let (kind, target) = match web_blob_url(url, reference, &rel) {
                    Some(web) => (LocationKind::Url, web),
                    None => (LocationKind::Git, format!("{url}#{reference}")),
                };
                read_found(&file, config, kind, &target, &mut analysis);
            }
        }
        Source::Url {
            repository,
            reference,
            path,
            ..
        } => {
            let (dir, root, _, _lock) = source::checkout_path(repository, reference, path, config)?;
            analysis.name = repository_name(repository);
            for file in find(&root, filename) {
                let rel = relative(&dir, &file);
                let target = web_blob_url(repository, reference, &rel).unwrap_or_default();
                read_found(&file, config, LocationKind::Url, &target, &mut analysis);
            }
        }
        Source::Http { url } => {
            let mirror = crate::http::mirror(url, config)?;
            analysis.name = SourceName {
                name: url
                    .rsplit('/')
                    .next()
                    .and_then(|f| f.split('.').next())
                    .unwrap_or_default()
                    .to_owned(),
                ..SourceName::default()
            };
            read_found(&mirror.root, config, LocationKind::Url, url, &mut analysis);
        }
    }
    Ok(analysis)
}

/// Files named `filename` under `root` (or `root` itself), sorted, skipping hidden folders.
fn find(root: &Path, filename: &str) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .take(MAX_ENTRIES)
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() == filename)
        .map(walkdir::DirEntry::into_path)
        .take(MAX_FILES)
        .collect();
    files.sort();
    files
}

fn relative(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir).unwrap_or(file).display().to_string()
}

fn read_found(
    path: &Path,
    config: &IngestConfig,
    kind: LocationKind,
    target: &str,
    into: &mut Analysis,
) {
    let text = match read_text(path, config.max_file_bytes) {
        Ok(file) => file.text,
        Err(e) => {
            into.problems.push(format!("{target}: {e}"));
            return;
        }
    };
    match pave_yaml::parse_documents(&text, &config.yaml_limits) {
        Ok(docs) => {
            let entities: Vec<Value> = docs
                .into_iter()
                .map(|d| d.value)
                .filter(|v| v["kind"].is_string() && v["metadata"].is_object())
                .collect();
            if !entities.is_empty() {
                into.files.push(FoundFile {
                    location_type: kind,
                    location_target: target.to_owned(),
                    entities,
                });
            }
        }
        Err(e) => into
            .problems
            .push(format!("{target}:{}: {e}", e.position())),
    }
}

/// `https://host/owner/repo.git` → host, owner and name.
fn repository_name(url: &str) -> SourceName {
    let without_scheme = url.split("://").nth(1).unwrap_or(url);
    let (host, path) = without_scheme
        .split_once('/')
        .unwrap_or((without_scheme, ""));
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let (owner, name) = match path.rsplit_once('/') {
        Some((owner, name)) => (Some(owner.to_owned()), name.to_owned()),
        None => (None, path.to_owned()),
    };
    let host = host.rsplit('@').next().unwrap_or(host);
    SourceName {
        host: (!host.is_empty() && url.contains("://") && !url.starts_with("file:"))
            .then(|| host.to_owned()),
        owner,
        name,
    }
}

/// The forge's web URL of `path` in an `https://` repository (GitLab's `/-/blob/` form for
/// hosts named gitlab), as Backstage `url` locations name files.
fn web_blob_url(repository: &str, reference: &str, path: &str) -> Option<String> {
    let base = repository.strip_prefix("https://")?;
    let base = base.trim_end_matches('/').trim_end_matches(".git");
    let marker = if base.split('/').next()?.contains("gitlab") {
        "/-/blob/"
    } else {
        "/blob/"
    };
    Some(format!("https://{base}{marker}{reference}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_web_urls_of_repositories() {
        assert_eq!(
            repository_name("https://github.com/acme/shop.git"),
            SourceName {
                host: Some("github.com".into()),
                owner: Some("acme".into()),
                name: "shop".into()
            }
        );
        assert_eq!(repository_name("file:///srv/repos/shop").name, "shop");
        assert_eq!(repository_name("file:///srv/repos/shop").host, None);
        assert_eq!(
            web_blob_url(
                "https://github.com/acme/shop.git",
                "main",
                "svc/catalog-info.yaml"
            )
            .as_deref(),
            Some("https://github.com/acme/shop/blob/main/svc/catalog-info.yaml")
        );
        assert_eq!(
            web_blob_url(
                "https://gitlab.example.com/g/sub/shop.git",
                "v1",
                "catalog-info.yaml"
            )
            .as_deref(),
            Some("https://gitlab.example.com/g/sub/shop/-/blob/v1/catalog-info.yaml")
        );
        assert_eq!(web_blob_url("file:///srv/shop", "main", "x"), None);
    }

    #[tokio::test]
    async fn folders_list_their_catalog_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shop");
        std::fs::create_dir_all(root.join("svc")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(
            root.join("svc/catalog-info.yaml"),
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n---\nnot: an entity\n",
        )
        .unwrap();
        std::fs::write(root.join(".hidden/catalog-info.yaml"), "kind: X\n").unwrap();
        std::fs::write(root.join("broken.yaml"), "a: [").unwrap();
        let analysis = analyze(
            &Source::Path(root.clone()),
            &IngestConfig::default(),
            "catalog-info.yaml",
        )
        .await
        .unwrap();
        assert_eq!(analysis.name.name, "shop");
        assert_eq!(analysis.files.len(), 1);
        assert_eq!(analysis.files[0].location_type, LocationKind::File);
        assert!(
            analysis.files[0]
                .location_target
                .ends_with("shop/svc/catalog-info.yaml")
        );
        assert_eq!(analysis.files[0].entities[0]["metadata"]["name"], "svc");
        assert_eq!(analysis.files[0].entities.len(), 1);
        let err = analyze(&Source::Path(root), &IngestConfig::default(), "../x")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("catalogFilename"), "{err}");
    }
}
