//! Built-in templates, embedded in the binary from `crates/template/builtin/<name>/<version>/`.

use std::collections::BTreeMap;

use rust_embed::RustEmbed;

use crate::error::{Error, Result};
use crate::template::{Template, TemplateFile};

#[derive(RustEmbed)]
#[folder = "builtin/"]
struct Builtin;

/// Built-in template names → their versions (as embedded folder names, ascending).
pub fn catalog() -> BTreeMap<String, Vec<semver::Version>> {
    index(Builtin::iter().map(|p| p.into_owned()))
}

fn index(paths: impl Iterator<Item = String>) -> BTreeMap<String, Vec<semver::Version>> {
    let mut out: BTreeMap<String, Vec<semver::Version>> = BTreeMap::new();
    for path in paths {
        let mut parts = path.splitn(3, '/');
        let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if rest != crate::MANIFEST_FILE {
            continue;
        }
        if let Some(v) = crate::manifest::parse_version(version) {
            out.entry(name.to_owned()).or_default().push(v);
        }
    }
    for versions in out.values_mut() {
        versions.sort();
    }
    out
}

/// Loads built-in `name` at `version`.
pub fn load(name: &str, version: &semver::Version) -> Result<Template> {
    let versions = catalog();
    let Some(known) = versions.get(name) else {
        let names: Vec<&String> = versions.keys().collect();
        return Err(Error::Source(format!(
            "no built-in template `{name}` (built in: {})",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    };
    // The folder name as written (`1.0.0` or `v1.0.0`).
    let folder = Builtin::iter()
        .filter_map(|p| {
            let mut parts = p.splitn(3, '/');
            let (n, v) = (parts.next()?.to_owned(), parts.next()?.to_owned());
            (n == name && crate::manifest::parse_version(&v).as_ref() == Some(version)).then_some(v)
        })
        .next()
        .ok_or_else(|| {
            let list: Vec<String> = known.iter().map(ToString::to_string).collect();
            Error::Source(format!(
                "built-in template `{name}` has no version {version} (has {})",
                list.join(", ")
            ))
        })?;
    let prefix = format!("{name}/{folder}/");
    let files = Builtin::iter().filter_map(|p| {
        let rel = p.strip_prefix(&prefix)?.to_owned();
        let file = Builtin::get(&p)?;
        Some((
            rel,
            TemplateFile {
                contents: file.data.into_owned(),
                executable: rel_is_script(&p),
            },
        ))
    });
    Template::from_files(files)
}

/// Embedded files lose their mode; shell scripts are the files that need the bit.
fn rel_is_script(path: &str) -> bool {
    path.ends_with(".sh")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every embedded template loads, and its `spec.version` and name match its folder.
    #[test]
    fn every_builtin_loads_and_matches_its_folder() {
        for (name, versions) in catalog() {
            for version in versions {
                let t = load(&name, &version).unwrap_or_else(|e| panic!("{name} {version}: {e}"));
                assert_eq!(t.manifest.name, name);
                assert_eq!(
                    t.manifest.version, version,
                    "{name}: spec.version differs from the folder name"
                );
                assert!(!t.files.is_empty(), "{name} {version}: empty skeleton");
            }
        }
    }

    #[test]
    fn indexes_names_and_versions() {
        let paths = [
            "api-service/1.0.0/template.yaml",
            "api-service/1.0.0/skeleton/README.md",
            "api-service/v1.1.0/template.yaml",
            "api-service/notes/template.yaml",
            ".gitkeep",
        ];
        let idx = index(paths.iter().map(|s| (*s).to_owned()));
        assert_eq!(idx.len(), 1);
        assert_eq!(
            idx["api-service"],
            [semver::Version::new(1, 0, 0), semver::Version::new(1, 1, 0)]
        );
    }
}
