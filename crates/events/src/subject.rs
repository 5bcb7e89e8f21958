//! Building [`Subject`]s and reading small things out of sender text: a repository's host
//! from its URL, whether a string is a full commit SHA.

use crate::model::Subject;

/// A repository subject from its web URL (`https://gitlab.example.com:8443/group/repo`) and
/// slug. The host keeps its port: two instances on one host are two hosts.
pub(crate) fn repository(web_url: &str, slug: &str) -> Subject {
    Subject::Repository {
        host: host_of(web_url).unwrap_or_default().to_ascii_lowercase(),
        slug: slug.to_owned(),
        url: web_url.to_owned(),
    }
}

/// The `host[:port]` of a URL, without user information; `None` when it has no `scheme://`.
pub(crate) fn host_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then_some(host)
}

/// A full 40-digit (SHA-1) or 64-digit (SHA-256) hexadecimal commit id.
pub(crate) fn is_full_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The first line of a commit message.
pub(crate) fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

/// `refs/heads/main` → `main`; `None` for tags and other refs.
pub(crate) fn branch_of(git_ref: &str) -> Option<&str> {
    git_ref.strip_prefix("refs/heads/")
}

/// An empty or Go-template-missing (`<no value>`) string is no value.
pub(crate) fn given(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty() && text != "<no value>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_urls() {
        assert_eq!(host_of("https://github.com/org/repo"), Some("github.com"));
        assert_eq!(
            host_of("http://10.126.0.2:3000/root/x"),
            Some("10.126.0.2:3000")
        );
        assert_eq!(
            host_of("https://user:pw@git.example.com/a"),
            Some("git.example.com")
        );
        assert_eq!(host_of("https://example.org"), Some("example.org"));
        assert_eq!(host_of("git@github.com:org/repo.git"), None);
        assert_eq!(host_of("/event/source/123"), None);
    }

    #[test]
    fn full_shas_only() {
        assert!(is_full_sha("f95f852bd8fca8fcc58a9a2d6c842781e32a215e"));
        assert!(!is_full_sha("f95f852b"));
        assert!(!is_full_sha("master"));
        assert!(!is_full_sha(&"g".repeat(40)));
    }

    #[test]
    fn small_text_helpers() {
        assert_eq!(first_line("Fix it\n\nBecause."), "Fix it");
        assert_eq!(first_line(""), "");
        assert_eq!(branch_of("refs/heads/feature/x"), Some("feature/x"));
        assert_eq!(branch_of("refs/tags/v1"), None);
        assert_eq!(given(Some("<no value>".into())), None);
        assert_eq!(given(Some(" ".into())), None);
        assert_eq!(given(Some("x".into())), Some("x".into()));
    }
}
