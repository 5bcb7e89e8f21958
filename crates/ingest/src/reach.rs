//! What pave may reach when it reads a source (docs/operations.md, "Sources: allowed roots
//! and hosts"):
//!
//! - `file` locations (and `file://` repositories) registered through the API only under the
//!   folders `catalog.reading.fileRoots` names (none by default); the CLI's own arguments are
//!   the operator's and are not checked;
//! - git and `url` locations only on the hosts `catalog.reading.allow` names (Backstage's
//!   `backend.reading.allow`), or that the CLI named;
//! - every connection only to public addresses, unless `catalog.reading.privateNetworks`
//!   lists the address or the allowed host is that address itself. Each address a host
//!   resolves to is checked, and git and HTTP then connect to exactly the checked addresses,
//!   so a DNS answer that changes between the check and the connection cannot move them.
//!
//! Every check runs before any I/O on the source, and a refusal reads the same whether or not
//! the thing outside exists: no `stat` happens outside the roots, and nothing connects to a
//! host that is not allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use url::Url;

use crate::http::{READING_SETTING, ReadingAllow};
use crate::source::Source;
use crate::{IngestConfig, IngestError};

/// The setting naming the folders `file` locations may be registered under.
pub const FILE_ROOTS_SETTING: &str = "catalog.reading.fileRoots";
/// The setting naming private networks pave may connect to.
pub const PRIVATE_NETWORKS_SETTING: &str = "catalog.reading.privateNetworks";

/// A network peer of a source: the URL matched against `catalog.reading.allow` (the URL as
/// the user wrote it, an scp-like git address as `ssh://`), its host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remote {
    pub(crate) url: Url,
    /// Without IPv6 brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Remote {
    /// The remote a git repository URL reads from; `None` for `file://` repositories,
    /// which are local.
    pub(crate) fn of_git(url: &str) -> Result<Option<Remote>, String> {
        if url
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("file://"))
        {
            return Ok(None);
        }
        let text = if url.contains("://") {
            url.to_owned()
        } else {
            // `user@host:path`, git's scp-like ssh syntax.
            let (authority, path) = url
                .split_once(':')
                .ok_or_else(|| format!("`{url}` is not a git repository URL"))?;
            format!("ssh://{authority}/{}", path.trim_start_matches('/'))
        };
        Remote::of_url(&text).map(Some)
    }

    pub(crate) fn of_url(text: &str) -> Result<Remote, String> {
        let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("`{text}` names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        // Hosts reach git's ssh command line: nothing but name and address characters.
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c))
            || host.starts_with('-')
        {
            return Err(format!("`{text}` does not name a host pave connects to"));
        }
        let port = match url.port() {
            Some(port) => port,
            None => match url.scheme() {
                "https" => 443,
                "http" => 80,
                "ssh" | "git+ssh" | "ssh+git" => 22,
                "git" => 9418,
                other => return Err(format!("`{text}`: pave does not read `{other}` URLs")),
            },
        };
        Ok(Remote { url, host, port })
    }

    /// The host as an address, when it is written as one.
    fn literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `host[:port]` as `catalog.reading.allow` entries name it.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }
}

impl IngestConfig {
    /// Lets this process read `source` although the lists do not name it: what the operator
    /// names on the command line (`pave serve --source`, `pave catalog ingest`) is theirs.
    pub fn trust(&mut self, source: &Source) {
        let remote = match source {
            Source::Path(_) => return,
            Source::Git { url, .. } => Remote::of_git(url).ok().flatten(),
            Source::Url { web_url, .. } => Remote::of_url(web_url).ok(),
            Source::Http { url } => Remote::of_url(url).ok(),
        };
        if let Some(remote) = remote {
            self.operator_hosts.push(remote.authority());
        }
    }

    fn named_by_operator(&self, remote: &Remote) -> bool {
        let authority = remote.authority();
        self.operator_hosts.contains(&authority)
    }

    /// Whether `catalog.reading.allow` (or the command line) allows `url`.
    pub(crate) fn allows_url(&self, url: &Url) -> bool {
        crate::http::allowed(&self.reading_allow, url)
            || Remote::of_url(url.as_str()).is_ok_and(|r| self.named_by_operator(&r))
    }

    /// Refuses a remote whose host is not allowed, before anything connects to it.
    pub(crate) fn check_host(&self, remote: &Remote, shown: &str) -> Result<(), String> {
        if self.allows_url(&remote.url) {
            return Ok(());
        }
        Err(format!(
            "{shown} is not allowed by {READING_SETTING}: pave reads git and `url` locations only from hosts listed there (add `- host: {}` to pave.yaml)",
            remote.authority()
        ))
    }

    /// Refuses `ip` (an address `remote`'s host resolved to) unless it is public, inside
    /// `catalog.reading.privateNetworks`, or the allowed host is this very address.
    pub(crate) fn check_address(&self, remote: &Remote, ip: IpAddr) -> Result<(), String> {
        let Some(class) = non_public(ip) else {
            return Ok(());
        };
        let listed = self.private_networks.iter().any(|n| n.contains(&ip))
            || self.named_by_operator(remote)
            || (remote.literal() == Some(ip)
                && self
                    .reading_allow
                    .iter()
                    .any(|a| !a.host.starts_with('*') && a.allows(&remote.url)));
        if listed {
            return Ok(());
        }
        // The address itself goes to the log only: a client learns the kind, not the network.
        tracing::warn!(host = %remote.host, address = %ip, "refused a connection to a {class} address");
        Err(format!(
            "{} resolves to a {class} address: pave connects to private, loopback and link-local addresses only when {PRIVATE_NETWORKS_SETTING} lists them",
            remote.host
        ))
    }

    /// Resolves `remote` and checks every address; the addresses to connect to. `shown`
    /// names the source in errors.
    ///
    /// # Errors
    /// [`IngestError::Unreadable`] when the name does not resolve (that may pass),
    /// [`IngestError::Invalid`] when an address is refused.
    pub(crate) fn resolve_checked(
        &self,
        remote: &Remote,
        shown: &str,
    ) -> Result<Vec<SocketAddr>, IngestError> {
        let unreadable = |message: String| IngestError::Unreadable {
            source_text: shown.to_owned(),
            message,
        };
        let addresses: Vec<SocketAddr> = match remote.literal() {
            Some(ip) => vec![SocketAddr::new(ip, remote.port)],
            None => (remote.host.as_str(), remote.port)
                .to_socket_addrs()
                .map_err(|e| unreadable(format!("cannot resolve {}: {e}", remote.host)))?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(unreadable(format!(
                "{} resolves to no address",
                remote.host
            )));
        }
        for address in &addresses {
            self.check_address(remote, address.ip())
                .map_err(|message| IngestError::Invalid {
                    source_text: shown.to_owned(),
                    message,
                })?;
        }
        Ok(addresses)
    }

    /// Checks a folder or file named through the API against `catalog.reading.fileRoots`:
    /// the path as written (`..` resolved) and the path after symbolic links must both lie
    /// under a root. Nothing outside the roots is looked at, so the refusal is the same
    /// whether the path exists or not.
    pub(crate) fn check_file_root(&self, target: &str) -> Result<(), String> {
        let outside = || {
            let roots = if self.file_roots.is_empty() {
                "none are configured".to_owned()
            } else {
                format!("{} configured", self.file_roots.len())
            };
            format!(
                "`{target}` is not under a folder {FILE_ROOTS_SETTING} allows ({roots}): locations on this machine are registered through the API only there"
            )
        };
        let path = Path::new(target);
        if !path.is_absolute() {
            return Err(format!(
                "`{target}` is not an absolute path: name a file or folder under {FILE_ROOTS_SETTING}"
            ));
        }
        let lexical = pave_fs::resolve_lexically(Path::new("/"), target);
        if !self.under_file_root(&lexical) {
            return Err(outside());
        }
        // Inside a root: links may still lead out. The deepest part of the path that exists,
        // with links followed, must stay inside too; a dangling link is refused like one that
        // leads out, so that a link cannot tell whether its target exists.
        for part in lexical.ancestors() {
            match std::fs::canonicalize(part) {
                Ok(real) if self.under_file_root(&real) => return Ok(()),
                Ok(_) => return Err(outside()),
                Err(_) if std::fs::symlink_metadata(part).is_ok() => return Err(outside()),
                Err(_) => {}
            }
        }
        Err(outside())
    }

    fn under_file_root(&self, path: &Path) -> bool {
        self.file_roots.iter().any(|root| path.starts_with(root))
    }

    /// Checks a location registered through the API against every list, resolving hosts
    /// (blocking: call from a blocking thread). Nothing is read and nothing connected to.
    ///
    /// # Errors
    /// [`IngestError::Invalid`], naming the setting that would allow it.
    pub fn admit(&self, source: &Source) -> Result<(), IngestError> {
        let invalid = |shown: &str, message: String| IngestError::Invalid {
            source_text: shown.to_owned(),
            message,
        };
        match source {
            Source::Path(path) => {
                let shown = path.display().to_string();
                self.check_file_root(&shown)
                    .map_err(|message| invalid(&shown, message))
            }
            Source::Git { url, .. } => match Remote::of_git(url).map_err(|m| invalid(url, m))? {
                None => {
                    let path = local_repository(url).map_err(|m| invalid(url, m))?;
                    self.check_file_root(&path)
                        .map_err(|message| invalid(url, message))
                }
                Some(remote) => self.admit_remote(&remote, url),
            },
            Source::Url { web_url, .. } => {
                let remote = Remote::of_url(web_url).map_err(|m| invalid(web_url, m))?;
                self.admit_remote(&remote, web_url)
            }
            Source::Http { url } => {
                let remote = Remote::of_url(url).map_err(|m| invalid(url, m))?;
                self.admit_remote(&remote, url)
            }
        }
    }

    /// [`IngestConfig::admit`] for a location named by type and target, as the API names
    /// them. A `file` target is checked against the roots before anything looks at it.
    ///
    /// # Errors
    /// [`IngestError::Invalid`] for a refused or malformed location.
    pub fn admit_named(
        &self,
        kind: &str,
        target: &str,
    ) -> Result<(Source, pave_store::LocationKind, String), IngestError> {
        if kind == "file" {
            self.check_file_root(target)
                .map_err(|message| IngestError::Invalid {
                    source_text: target.to_owned(),
                    message,
                })?;
        }
        let (source, kind, target) = Source::resolve_named(kind, target).map_err(|e| match e {
            IngestError::Unreadable {
                source_text,
                message,
            } => IngestError::Invalid {
                source_text,
                message,
            },
            e => e,
        })?;
        self.admit(&source)?;
        Ok((source, kind, target))
    }

    fn admit_remote(&self, remote: &Remote, shown: &str) -> Result<(), IngestError> {
        let invalid = |message| IngestError::Invalid {
            source_text: shown.to_owned(),
            message,
        };
        self.check_host(remote, shown).map_err(invalid)?;
        self.resolve_checked(remote, shown)?;
        Ok(())
    }

    /// Refuses, at reading time, a git or `url` source on a host that is not allowed (the
    /// list may have changed since it was registered). Local sources pass.
    pub(crate) fn check_source_host(&self, source: &Source) -> Result<(), IngestError> {
        let (remote, shown) = match source {
            Source::Path(_) => return Ok(()),
            Source::Git { url, .. } => (Remote::of_git(url), url),
            Source::Url { web_url, .. } => (Remote::of_url(web_url).map(Some), web_url),
            Source::Http { url } => (Remote::of_url(url).map(Some), url),
        };
        let invalid = |message| IngestError::Invalid {
            source_text: shown.clone(),
            message,
        };
        match remote.map_err(invalid)? {
            Some(remote) => self.check_host(&remote, shown).map_err(invalid),
            None => Ok(()),
        }
    }
}

/// The folder a `file://` repository URL names.
fn local_repository(url: &str) -> Result<String, String> {
    let rest = &url[7..];
    let path = match rest.split_once('/') {
        Some(("" | "localhost", path)) => format!("/{path}"),
        _ => return Err(format!("`{url}`: a file:// URL must name a local path")),
    };
    if path.contains('%') {
        return Err(format!(
            "`{url}`: percent-escapes are not accepted in file:// URLs"
        ));
    }
    Ok(path)
}

/// The kind of a non-public address (`None` for a public one): what `privateNetworks` must
/// list before pave connects to it.
pub(crate) fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (192, 0, 0) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that is reached.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return non_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if segments[0] == 0x2002 {
        let [a, b] = segments[1].to_be_bytes();
        let [c, d] = segments[2].to_be_bytes();
        return non_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    Some(match segments[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0 => "reserved", // IPv4-compatible and other ::/8 forms
        0x100 if segments[1..4] == [0, 0, 0] => "reserved", // discard-only
        0x2001 if segments[1] == 0x0db8 => "documentation",
        s if s & 0xfe00 == 0xfc00 => "private (unique local)",
        s if s & 0xffc0 == 0xfe80 => "link-local",
        s if s & 0xffc0 == 0xfec0 => "site-local",
        s if s & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// Parses a `privateNetworks` entry: a network (`10.0.0.0/8`, `fd00::/8`) or one address.
///
/// # Errors
/// When it is neither, as a sentence.
pub fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| {
            format!("{PRIVATE_NETWORKS_SETTING}: `{text}` is not an address or a network such as 10.0.0.0/8")
        })
}

/// The `fileRoots` entry `text`, as a canonical folder.
///
/// # Errors
/// When it is not an absolute path to an existing folder.
pub fn parse_file_root(text: &str) -> Result<PathBuf, String> {
    let path = Path::new(text);
    if !path.is_absolute() {
        return Err(format!(
            "{FILE_ROOTS_SETTING}: `{text}` is not an absolute path"
        ));
    }
    let root = std::fs::canonicalize(path)
        .map_err(|e| format!("{FILE_ROOTS_SETTING}: cannot read `{text}`: {e}"))?;
    if !root.is_dir() {
        return Err(format!("{FILE_ROOTS_SETTING}: `{text}` is not a folder"));
    }
    Ok(root)
}

/// An allow entry for exactly this host (used by tests and the CLI).
pub fn allow_host(host: &str) -> ReadingAllow {
    ReadingAllow {
        host: host.to_owned(),
        paths: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(allow: &[&str], networks: &[&str], roots: &[&Path]) -> IngestConfig {
        IngestConfig {
            reading_allow: allow.iter().map(|h| allow_host(h)).collect(),
            private_networks: networks.iter().map(|n| parse_network(n).unwrap()).collect(),
            file_roots: roots
                .iter()
                .map(|r| std::fs::canonicalize(r).unwrap())
                .collect(),
            ..IngestConfig::default()
        }
    }

    #[test]
    fn addresses_are_classified() {
        let class = |s: &str| non_public(s.parse().unwrap());
        for (ip, expected) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("8.8.8.8", None),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("64:ff9b::a00:1", Some("private")),
            ("2002:7f00:1::", Some("loopback")),
            ("fd12::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn git_remotes_are_parsed_for_the_allow_list() {
        let remote = Remote::of_git("git@github.com:org/repo.git")
            .unwrap()
            .unwrap();
        assert_eq!((remote.host.as_str(), remote.port), ("github.com", 22));
        assert_eq!(remote.url.path(), "/org/repo.git");
        let remote = Remote::of_git("git://127.0.0.1:9418/x").unwrap().unwrap();
        assert_eq!(remote.literal(), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(remote.authority(), "127.0.0.1:9418");
        let remote = Remote::of_git("https://[::1]:8443/r.git").unwrap().unwrap();
        assert_eq!(remote.authority(), "[::1]:8443");
        assert!(Remote::of_git("file:///srv/repo").unwrap().is_none());
        assert!(Remote::of_git("ftp://example.com/r").is_err());
    }

    #[test]
    fn hosts_and_addresses_need_listing() {
        let remote = Remote::of_git("git://127.0.0.1:9/x").unwrap().unwrap();
        // Not allowed at all: refused by host, before any resolution.
        let none = config(&[], &[], &[]);
        let err = none.check_host(&remote, "git://127.0.0.1:9/x").unwrap_err();
        assert!(err.contains("add `- host: 127.0.0.1:9`"), "{err}");
        // Allowed by its own address: explicitly listed.
        let by_address = config(&["127.0.0.1:9"], &[], &[]);
        assert!(by_address.check_host(&remote, "x").is_ok());
        assert!(by_address.resolve_checked(&remote, "x").is_ok());
        // A name that resolves to loopback needs privateNetworks.
        let named = Remote::of_git("git://localhost:9/x").unwrap().unwrap();
        let by_name = config(&["localhost:9"], &[], &[]);
        assert!(by_name.check_host(&named, "x").is_ok());
        if let Err(err) = by_name.resolve_checked(&named, "x") {
            let err = err.to_string();
            assert!(
                err.contains("a loopback address") && err.contains(PRIVATE_NETWORKS_SETTING),
                "{err}"
            );
            assert!(
                !err.contains("127.0.0.1"),
                "the address stays in the log: {err}"
            );
            let listed = config(&["localhost:9"], &["127.0.0.0/8", "::1"], &[]);
            assert!(listed.resolve_checked(&named, "x").is_ok());
        }
        // What the command line names is the operator's.
        let mut trusted = config(&[], &[], &[]);
        trusted.trust(&Source::parse("git://127.0.0.1:9/x"));
        assert!(trusted.check_host(&remote, "x").is_ok());
        assert!(trusted.resolve_checked(&remote, "x").is_ok());
        assert!(parse_network("10.0.0.0/8").is_ok());
        assert!(parse_network("fd00::1").is_ok());
        assert!(parse_network("ten").is_err());
    }

    #[test]
    fn file_roots_refuse_the_same_way_whether_a_path_exists_or_not() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("root");
        std::fs::create_dir_all(root.join("team")).unwrap();
        let outside = temp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink(temp.path().join("gone"), root.join("dangling")).unwrap();
        let config = config(&[], &[], &[&root]);
        let root_text = std::fs::canonicalize(&root).unwrap().display().to_string();
        assert!(config.check_file_root(&format!("{root_text}/team")).is_ok());
        // Missing inside a root: allowed here, the reading says it is missing.
        assert!(config.check_file_root(&format!("{root_text}/none")).is_ok());
        let refusal = |target: &str| {
            config
                .check_file_root(target)
                .unwrap_err()
                .replace(target, "<target>")
        };
        let expected = refusal("/etc/shadow");
        for target in [
            "/etc/no-such-file".to_owned(),
            "/".to_owned(),
            "/root".to_owned(),
            format!("{root_text}/../outside"),
            format!("{root_text}/out"),
            format!("{root_text}/out/missing"),
            format!("{root_text}/dangling"),
        ] {
            assert_eq!(refusal(&target), expected, "{target}");
        }
        assert!(config.check_file_root("relative/path").is_err());
        // No roots: everything is refused.
        let none = IngestConfig::default();
        assert!(none.check_file_root(&format!("{root_text}/team")).is_err());
        // file:// repositories are paths.
        let repo = Source::parse(&format!("file://{root_text}/team"));
        assert!(config.admit(&repo).is_ok());
        let repo = Source::parse("file:///etc");
        assert!(config.admit(&repo).is_err());
    }
}
