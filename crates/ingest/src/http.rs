//! `url` locations served over plain HTTP(S), as Backstage's `FetchUrlReader` reads them:
//! the file, and the files its `Location` entities name (relative targets resolved against
//! its URL), fetched into a mirror folder that the ordinary walk then reads. Only hosts that
//! `catalog.reading.allow` names are fetched from, redirects included; every fetch is bounded
//! in time and size, and a location in files.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use sha1::Digest;
use url::Url;

use crate::reach::Remote;
use crate::{IngestConfig, IngestError};

/// The setting that allows hosts, named in refusals.
pub const READING_SETTING: &str = "catalog.reading.allow";

/// Redirects followed per fetch.
const MAX_REDIRECTS: usize = 5;
/// Time for one fetch, and for a whole location.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
const LOCATION_TIMEOUT: Duration = Duration::from_secs(120);
/// Files one HTTP location may bring in.
const MAX_FILES: usize = 1_000;

/// One entry of `catalog.reading.allow` (Backstage's `backend.reading.allow`): a host
/// (`example.com`, `example.com:8080`, or `*.example.com` for any subdomain) and optionally
/// the path prefixes allowed on it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadingAllow {
    pub host: String,
    #[serde(default)]
    pub paths: Option<Vec<String>>,
}

impl ReadingAllow {
    /// Whether this entry allows `url`, as Backstage matches `URL.host` and the pathname.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
        .to_ascii_lowercase();
        let wanted = self.host.to_ascii_lowercase();
        let host_ok = match wanted.strip_prefix('*') {
            Some(suffix) if suffix.starts_with('.') => host.ends_with(suffix),
            _ => host == wanted,
        };
        host_ok
            && self
                .paths
                .as_ref()
                .is_none_or(|paths| paths.iter().any(|p| url.path().starts_with(p.as_str())))
    }
}

/// Whether any entry of `allow` allows `url`.
pub fn allowed(allow: &[ReadingAllow], url: &Url) -> bool {
    allow.iter().any(|a| a.allows(url))
}

/// Checks that `text` is an http(s) URL pave could fetch (not whether it is allowed).
pub(crate) fn check_url(text: &str) -> Result<(), String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    Ok(())
}

/// Refuses `url` unless `allow` allows it, with a message naming the setting.
///
/// # Errors
/// When the URL cannot be parsed or no entry allows it.
pub fn check_allowed(allow: &[ReadingAllow], text: &str) -> Result<(), String> {
    check_url(text)?;
    let url = Url::parse(text).map_err(|e| e.to_string())?;
    if allowed(allow, &url) {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    Err(format!(
        "{text} is not allowed by {READING_SETTING}: pave fetches `url` locations only from hosts listed there (add `- host: {host}{}` to pave.yaml)",
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ))
}

/// Where the files of the HTTP location `url` are mirrored under the cache `cache_dir`.
pub(crate) fn mirror_dir(url: &str, cache_dir: &Path) -> PathBuf {
    let key = crate::files::hex(&sha1::Sha1::digest(url.as_bytes()));
    cache_dir.join("http").join(&key[..16])
}

/// What a crawl fetched.
pub(crate) struct Mirror {
    /// The folder the files were written to.
    pub(crate) dir: PathBuf,
    /// The location's own file in it.
    pub(crate) root: PathBuf,
    /// Files targets named that could not be fetched, with why.
    pub(crate) failures: HashMap<PathBuf, String>,
}

/// Where `url` is kept in a mirror folder: `<scheme>/<host[:port]>/<path>[?query]`.
pub(crate) fn mirror_path(url: &Url) -> PathBuf {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("_")),
        None => url.host_str().unwrap_or("_").to_owned(),
    };
    let mut path = PathBuf::from(url.scheme()).join(host);
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| {
            s.filter(|s| !s.is_empty() && *s != "." && *s != "..")
                .collect()
        })
        .unwrap_or_default();
    for segment in &segments {
        path.push(segment);
    }
    if segments.is_empty() || url.path().ends_with('/') {
        path.push("index");
    }
    if let Some(query) = url.query() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        path.set_file_name(format!("{name}?{}", query.replace('/', "%2F")));
    }
    path
}

/// The URL a mirrored file stands for (the inverse of [`mirror_path`]).
pub(crate) fn url_of(dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(dir).ok()?;
    let mut parts = rel.iter().map(|p| p.to_string_lossy().into_owned());
    let scheme = parts.next()?;
    let host = parts.next()?;
    let rest: Vec<String> = parts.collect();
    Some(format!(
        "{scheme}://{host}/{}",
        rest.join("/").replace("%2F", "/")
    ))
}

fn is_glob(target: &str) -> bool {
    target.contains(['*', '?', '[', '{'])
}

/// The targets of the `Location` entities in `text`, as URLs resolved against `base`.
fn location_targets(text: &str, base: &Url, config: &IngestConfig) -> Vec<Url> {
    let Ok(docs) = pave_yaml::parse_documents(text, &config.yaml_limits) else {
        return Vec::new(); // The walk reports the parse error with its position.
    };
    let mut urls = Vec::new();
    for doc in docs {
        let value = &doc.value;
        let is_location = value["kind"]
            .as_str()
            .is_some_and(|k| k.eq_ignore_ascii_case("location"));
        if !is_location {
            continue;
        }
        let spec = &value["spec"];
        if !matches!(spec["type"].as_str(), None | Some("url" | "file")) {
            continue;
        }
        let targets = spec["target"].as_str().into_iter().chain(
            spec["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        for target in targets.filter(|t| !is_glob(t)) {
            if let Ok(url) = base.join(target.trim_start_matches("file:")) {
                urls.push(url);
            }
        }
    }
    urls
}

/// Fetches the file at `url` and, breadth-first, the files its Location entities name, into
/// a mirror folder under the cache. Runs on a blocking thread of the tokio runtime.
///
/// # Errors
/// When the location's own file cannot be fetched (what it named is reported per target).
pub(crate) fn mirror(url: &str, config: &IngestConfig) -> Result<Mirror, IngestError> {
    let fail = |message: String| IngestError::Unreadable {
        source_text: url.to_owned(),
        message,
    };
    check_url(url).map_err(fail)?;
    let root_url = Url::parse(url).map_err(|e| fail(e.to_string()))?;
    if !config.allows_url(&root_url) {
        return Err(fail(
            check_allowed(&config.reading_allow, url)
                .err()
                .unwrap_or_default(),
        ));
    }
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| fail("HTTP sources are read from the server or the CLI runtime".into()))?;
    let dir = mirror_dir(url, &config.git_cache);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(format!("cannot clear {}: {e}", dir.display()))),
    }
    let allow = |u: &Url| config.allows_url(u);
    // Every address of every hop, redirects included, is checked right before connecting.
    let check_address = |u: &Url, ip: std::net::IpAddr| {
        let remote = Remote::of_url(u.as_str())?;
        config.check_address(&remote, ip)
    };
    let options = pave_http::GetOptions {
        timeout: FETCH_TIMEOUT,
        max_bytes: usize::try_from(config.max_file_bytes).unwrap_or(usize::MAX),
        max_redirects: MAX_REDIRECTS,
        allow: &allow,
        allow_setting: READING_SETTING,
        check_address: &check_address,
    };
    let started = Instant::now();
    let mut failures = HashMap::new();
    let mut seen: HashSet<Url> = HashSet::from([root_url.clone()]);
    let mut queue = VecDeque::from([root_url.clone()]);
    while let Some(next) = queue.pop_front() {
        let path = dir.join(mirror_path(&next));
        let is_root = next == root_url;
        if !is_root && started.elapsed() > LOCATION_TIMEOUT {
            failures.insert(
                path,
                format!(
                    "not fetched: the location took over {} s",
                    LOCATION_TIMEOUT.as_secs()
                ),
            );
            continue;
        }
        let fetched = match runtime.block_on(pave_http::get(&next, &options)) {
            Ok(fetched) => fetched,
            Err(e) if is_root => return Err(fail(e.to_string())),
            Err(e) => {
                failures.insert(path, e.to_string());
                continue;
            }
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail(format!("cannot write {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, &fetched.body)
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        let Ok(text) = std::str::from_utf8(&fetched.body) else {
            continue; // The walk reports it as not UTF-8.
        };
        for target in location_targets(text, &next, config) {
            if !matches!(target.scheme(), "http" | "https") || !seen.insert(target.clone()) {
                continue;
            }
            if seen.len() > MAX_FILES {
                failures.insert(
                    dir.join(mirror_path(&target)),
                    format!("not fetched: a location may read at most {MAX_FILES} files over HTTP"),
                );
                continue;
            }
            queue.push_back(target);
        }
    }
    Ok(Mirror {
        root: dir.join(mirror_path(&root_url)),
        dir,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(host: &str, paths: Option<&[&str]>) -> ReadingAllow {
        ReadingAllow {
            host: host.into(),
            paths: paths.map(|p| p.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[test]
    fn allow_entries_match_as_backstage_matches_them() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(allow("example.com", None).allows(&url("https://Example.com/a.yaml")));
        assert!(!allow("example.com", None).allows(&url("https://example.com:8443/a.yaml")));
        assert!(allow("example.com:8443", None).allows(&url("https://example.com:8443/a")));
        assert!(allow("*.example.com", None).allows(&url("https://cdn.example.com/a")));
        assert!(!allow("*.example.com", None).allows(&url("https://example.com/a")));
        assert!(!allow("*.example.com", None).allows(&url("https://badexample.com/a")));
        let scoped = allow("example.com", Some(&["/catalog/"]));
        assert!(scoped.allows(&url("https://example.com/catalog/x.yaml")));
        assert!(!scoped.allows(&url("https://example.com/catalog/../secret.yaml")));
        assert!(!scoped.allows(&url("https://example.com/other.yaml")));
        let err = check_allowed(&[], "http://127.0.0.1:9/x.yaml").unwrap_err();
        assert!(
            err.contains("not allowed by catalog.reading.allow"),
            "{err}"
        );
        assert!(err.contains("- host: 127.0.0.1:9"), "{err}");
        assert!(
            check_allowed(&[], "ftp://x/y")
                .unwrap_err()
                .contains("not an http(s) URL")
        );
    }

    #[test]
    fn mirror_paths_round_trip() {
        let dir = Path::new("/m");
        for text in [
            "https://example.com/catalog/all.yaml",
            "http://127.0.0.1:8080/a/b/c.yml",
            "https://example.com/raw?path=a/b.yaml",
        ] {
            let url = Url::parse(text).unwrap();
            let path = dir.join(mirror_path(&url));
            assert!(path.starts_with(dir));
            assert_eq!(
                url_of(dir, &path).as_deref(),
                Some(text),
                "{}",
                path.display()
            );
        }
        let path = mirror_path(&Url::parse("https://example.com/x/").unwrap());
        assert_eq!(path, PathBuf::from("https/example.com/x/index"));
    }
}
