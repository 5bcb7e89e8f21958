//! `pave.yaml`, the optional configuration file, and where pave keeps its data.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use pave_catalog::CatalogRules;
use pave_ingest::IngestConfig;
use pave_store::Store;
use serde::Deserialize;
use serde_json::Value;

/// The file, as far as it concerns the catalog.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub(crate) catalog: CatalogSection,
    /// Identity and access control (`pave_auth::AuthConfig`); kept as written here so that
    /// [`ConfigFile::access_policy`] reports its mistakes with their field paths.
    #[serde(default)]
    pub(crate) auth: Option<Value>,
    /// Delivery and incident events (`pave_intake::IntakeConfig`), kept as written for the
    /// same reason: [`ConfigFile::events_config`] names the field of each mistake.
    #[serde(default)]
    pub(crate) events: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CatalogSection {
    /// Allowed kinds: a list of kinds, or Backstage's `[{allow: [...]}]` form.
    #[serde(default)]
    pub(crate) rules: Option<Value>,
    /// Globs naming catalog files inside folder sources.
    #[serde(default)]
    pub(crate) discovery: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) max_file_bytes: Option<u64>,
    /// Where `url` locations may be fetched from over HTTP.
    #[serde(default)]
    pub(crate) reading: ReadingSection,
}

/// `catalog.reading`, as Backstage's `backend.reading`: what pave may read
/// (docs/operations.md, "Sources: allowed roots and hosts" and "Git").
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReadingSection {
    /// Hosts git and `url` locations may be read from: `[{host: example.com, paths:
    /// [/catalog/]}]`; `*.example.com` allows subdomains.
    #[serde(default)]
    pub(crate) allow: Vec<pave_ingest::http::ReadingAllow>,
    /// Folders under which `file` locations (and `file://` repositories) may be registered
    /// through the API; none by default.
    #[serde(default)]
    pub(crate) file_roots: Vec<String>,
    /// Non-public networks (`10.0.0.0/8`) or addresses pave may connect to.
    #[serde(default)]
    pub(crate) private_networks: Vec<String>,
    /// How long one git command may run (`60s` by default).
    #[serde(default)]
    pub(crate) git_timeout: Option<String>,
}

impl ConfigFile {
    /// Reads `path`, or `./pave.yaml` when no path is given and it exists.
    pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<(ConfigFile, Option<PathBuf>)> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new("pave.yaml").exists() => PathBuf::from("pave.yaml"),
            None => return Ok((ConfigFile::default(), None)),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc = pave_yaml::parse_documents(&text, &pave_yaml::Limits::default())
            .map_err(|e| anyhow!("{}:{}: {e}", path.display(), e.position()))?
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null);
        let config = if doc.is_null() {
            ConfigFile::default()
        } else {
            serde_json::from_value(doc).map_err(|e| anyhow!("{}: {e}", path.display()))?
        };
        Ok((config, Some(path)))
    }

    /// `auth:` checked: `None` without the section, else the policy, or every mistake in it,
    /// one a line, each with its field path (`auth.roles.x.permissions[0]: …`).
    pub(crate) fn access_policy(&self) -> anyhow::Result<Option<Arc<pave_auth::AccessPolicy>>> {
        let Some(section) = &self.auth else {
            return Ok(None);
        };
        let config: pave_auth::AuthConfig =
            serde_path_to_error::deserialize(section).map_err(|e| {
                let path = e.path().to_string();
                let path = if path == "." {
                    "auth".to_owned()
                } else {
                    format!("auth.{path}")
                };
                anyhow!("invalid auth configuration:\n  {path}: {}", e.inner())
            })?;
        config
            .validate()
            .map(|p| Some(Arc::new(p)))
            .map_err(|errors| {
                let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
                let count = match errors.len() {
                    1 => "1 mistake".to_owned(),
                    n => format!("{n} mistakes"),
                };
                anyhow!(
                    "invalid auth configuration ({count}):\n{}",
                    lines.join("\n")
                )
            })
    }

    /// `events:` checked, its `{env: …}` and `{file: …}` secrets read: the defaults (no
    /// source configured, so every webhook is refused) without the section, else the
    /// configuration or the first mistake with its field path (`events.sources.github…`).
    pub(crate) fn events_config(&self) -> anyhow::Result<pave_intake::IntakeConfig> {
        let section = self.events.clone().unwrap_or(Value::Null);
        pave_intake::IntakeConfig::from_section(&section)
            .map_err(|e| anyhow!("invalid events configuration:\n  {e}"))
    }

    pub(crate) fn ingest_config(&self) -> anyhow::Result<IngestConfig> {
        let mut config = IngestConfig {
            git_cache: cache_dir().join("git"),
            ..IngestConfig::default()
        };
        if let Some(rules) = &self.catalog.rules {
            config.rules = parse_rules(rules)?;
        }
        if let Some(discovery) = &self.catalog.discovery {
            config.discovery = discovery.clone();
        }
        if let Some(max) = self.catalog.max_file_bytes {
            config.max_file_bytes = max;
        }
        let reading = &self.catalog.reading;
        config.reading_allow = reading.allow.clone();
        config.file_roots = reading
            .file_roots
            .iter()
            .map(|root| pave_ingest::reach::parse_file_root(root))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!(e))?;
        config.private_networks = reading
            .private_networks
            .iter()
            .map(|n| pave_ingest::reach::parse_network(n))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!(e))?;
        if let Some(timeout) = &reading.git_timeout {
            config.git_timeout = parse_duration(timeout)
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| {
                    anyhow!("catalog.reading.gitTimeout: `{timeout}` is not a duration such as 60s or 2m")
                })?;
        }
        Ok(config)
    }
}

fn parse_rules(value: &Value) -> anyhow::Result<CatalogRules> {
    let strings = |items: &[Value]| -> anyhow::Result<Vec<String>> {
        items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("catalog.rules: kinds must be strings"))
            })
            .collect()
    };
    let Value::Array(items) = value else {
        bail!("catalog.rules must be a list of kinds");
    };
    let mut kinds = Vec::new();
    for item in items {
        match item {
            Value::String(kind) => kinds.push(kind.clone()),
            Value::Object(rule) => match rule.get("allow") {
                Some(Value::Array(allow)) => kinds.extend(strings(allow)?),
                _ => bail!("catalog.rules entries must be kinds or {{allow: [kinds]}}"),
            },
            _ => bail!("catalog.rules entries must be kinds or {{allow: [kinds]}}"),
        }
    }
    Ok(CatalogRules::allowing(kinds))
}

/// Parses `500ms`, `90s`, `5m`, `1h`, `2d`, or a plain number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 90s, 5m or 1h)"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit (use ms, s, m, h or d)"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}

/// Where pave keeps its database by default.
pub(crate) fn data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("pave")
}

/// The git cache of one store: checkouts are kept per database, so that unregistering a
/// location in one removes nothing another reads, and no store sees another's checkouts.
pub(crate) fn store_cache(
    git_cache: &Path,
    database_url: Option<&str>,
    default_file: &str,
) -> PathBuf {
    let identity = match database_url {
        // A path to the same file keys the same cache, however it is written.
        None => data_dir().join(default_file).display().to_string(),
        Some(url) => match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(path) => std::fs::canonicalize(path)
                .map_or_else(|_| path.to_owned(), |p| p.display().to_string()),
            None => without_password(url),
        },
    };
    pave_ingest::store_cache_dir(git_cache, &identity)
}

/// A database URL without its password (which may change without changing the database).
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

fn cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("pave")
}

/// The database a `--database-url` names.
pub(crate) enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// `url`, or `default_file` under the data dir.
    pub(crate) fn named(url: Option<&str>, default_file: &str) -> anyhow::Result<Self> {
        Ok(match url {
            None => Database::Sqlite(data_dir().join(default_file)),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url.to_owned())
            }
            Some(url) => Database::Sqlite(PathBuf::from(
                url.strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .ok_or_else(|| {
                        anyhow!("--database-url `{url}` is not understood: use sqlite://PATH or postgres://user@host/db")
                    })?,
            )),
        })
    }
}

/// Opens the store a `--database-url` names (default: `default_file` under the data dir).
pub(crate) async fn open_store(
    url: Option<&str>,
    default_file: &str,
) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match Database::named(url, default_file)? {
        Database::Sqlite(path) => Arc::new(pave_store_sqlite::SqliteStore::open(&path).await?),
        Database::Postgres(url) => {
            Arc::new(pave_store_postgres::PostgresStore::connect(&url).await?)
        }
    };
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
    }

    #[test]
    fn rules_in_both_forms() {
        let rules = parse_rules(&json!(["Component", {"allow": ["Widget"]}])).unwrap();
        assert!(rules.allows("widget") && rules.allows("Component") && !rules.allows("API"));
        assert!(parse_rules(&json!("Component")).is_err());
        assert!(parse_rules(&json!([{"deny": ["x"]}])).is_err());
    }

    #[test]
    #[rustfmt::skip]
    fn auth_sections_are_checked_with_field_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pave.yaml");
        // (pave.yaml, Ok(auth on) or Err(every part the message must hold))
        let cases: &[(&str, Result<bool, &[&str]>)] = &[
            ("catalog: {}\n", Ok(false)),
            ("auth:\n", Ok(false)),
            ("auth: {}\n", Ok(true)),
            ("auth:\n  catalogRead: public\n  bindings: [{role: editor, groups: [team-a]}]\n", Ok(true)),
            ("auth:\n  sessions: {}\n", Err(&["auth.sessions: unknown field `sessions`"])),
            ("auth:\n  catalogRead: everyone\n", Err(&["auth.catalogRead: unknown variant `everyone`"])),
            (
                "auth:\n  roles:\n    deployer: {permissions: [catalog.entity.read, foo]}\n  bindings: [{role: nobody, users: [jane]}]\n",
                Err(&["2 mistakes", "auth.roles.deployer.permissions[1]", "auth.bindings[0].role"]),
            ),
        ];
        for (yaml, want) in cases {
            std::fs::write(&path, yaml).unwrap();
            let (config, _) = ConfigFile::load(Some(&path)).unwrap();
            match (config.access_policy(), want) {
                (Ok(policy), Ok(on)) => assert_eq!(policy.is_some(), *on, "{yaml}"),
                (Err(e), Err(parts)) => {
                    for part in *parts {
                        assert!(e.to_string().contains(part), "{yaml}: {e}");
                    }
                }
                (got, want) => panic!("{yaml}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn events_sections_are_checked_with_field_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pave.yaml");
        let secret = dir.path().join("github.secret");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let cases: Vec<(String, Result<bool, &str>)> = vec![
            ("catalog: {}\n".into(), Ok(false)),
            ("events:\n".into(), Ok(false)),
            (format!("events:\n  sources:\n    github:\n      secrets: [{{file: {}}}]\n  bodyLimit: 1MiB\n", secret.display()), Ok(true)),
            ("events:\n  sources:\n    github: {secrets: []}\n".into(), Err("events.sources.github.secrets: 0 secrets")),
            ("events:\n  sources:\n    jenkins: {secrets: [x]}\n".into(), Err("events.sources.jenkins: unknown event source")),
            ("events:\n  ledger:\n    hotfixPatterns: ['(']\n".into(), Err("events.ledger.hotfixPatterns[0]")),
            ("events:\n  queueCapacity: lots\n".into(), Err("events.queueCapacity: invalid type")),
        ];
        for (yaml, want) in cases {
            std::fs::write(&path, &yaml).unwrap();
            let (config, _) = ConfigFile::load(Some(&path)).unwrap();
            match (config.events_config(), want) {
                (Ok(events), Ok(github)) => {
                    assert_eq!(events.secrets.is_configured(pave_events::Source::Github), github, "{yaml}");
                }
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{yaml}: {e}"),
                (got, want) => panic!("{yaml}: {:?}, want {want:?}", got.map(|_| ())),
            }
        }
    }

    #[test]
    fn config_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pave.yaml");
        std::fs::write(
            &path,
            "catalog:\n  rules: [Component]\n  discovery: ['**/*.yaml']\n",
        )
        .unwrap();
        let (config, _) = ConfigFile::load(Some(&path)).unwrap();
        let ingest = config.ingest_config().unwrap();
        assert_eq!(ingest.discovery, vec!["**/*.yaml".to_owned()]);
        std::fs::write(
            &path,
            "catalog:\n  reading:\n    allow:\n      - host: '*.example.com'\n        paths: [/catalog/]\n",
        )
        .unwrap();
        let (config, _) = ConfigFile::load(Some(&path)).unwrap();
        let allow = config.ingest_config().unwrap().reading_allow;
        assert_eq!(allow.len(), 1);
        assert!(
            allow[0].allows(&url::Url::parse("https://cdn.example.com/catalog/a.yaml").unwrap())
        );
        let root = dir.path().join("catalogs");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            &path,
            format!(
                "catalog:\n  reading:\n    fileRoots: [{}]\n    privateNetworks: [10.0.0.0/8, '::1']\n    gitTimeout: 90s\n",
                root.display()
            ),
        )
        .unwrap();
        let (config, _) = ConfigFile::load(Some(&path)).unwrap();
        let ingest = config.ingest_config().unwrap();
        assert_eq!(
            ingest.file_roots,
            vec![std::fs::canonicalize(&root).unwrap()]
        );
        assert_eq!(ingest.private_networks.len(), 2);
        assert_eq!(ingest.git_timeout, Duration::from_secs(90));
        for (bad, expected) in [
            ("fileRoots: [relative]", "not an absolute path"),
            ("fileRoots: [/no/such/root]", "cannot read `/no/such/root`"),
            ("privateNetworks: [ten]", "not an address or a network"),
            ("gitTimeout: soon", "catalog.reading.gitTimeout"),
            ("gitTimeout: 0s", "catalog.reading.gitTimeout"),
        ] {
            std::fs::write(&path, format!("catalog:\n  reading:\n    {bad}\n")).unwrap();
            let (config, _) = ConfigFile::load(Some(&path)).unwrap();
            let err = config.ingest_config().unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
        assert_eq!(
            without_password("postgres://pave:secret@db:5432/pave"),
            "postgres://pave@db:5432/pave"
        );
        std::fs::write(&path, "catalog:\n  reading:\n    allow:\n      - hots: x\n").unwrap();
        let err = ConfigFile::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("unknown field `hots`"), "{err}");
        std::fs::write(&path, "catalog:\n  rulez: []\n").unwrap();
        let err = ConfigFile::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("unknown field `rulez`"), "{err}");
        std::fs::write(&path, "catalog: [\n").unwrap();
        let err = ConfigFile::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("pave.yaml:2:1"), "{err}");
    }
}
