//! Field format rules, as Backstage's `FieldFormatEntityPolicy` applies them.

fn len_between(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

/// `[a-zA-Z0-9]` runs separated by single `-`, `_` or `.`; 1–63 characters.
pub fn is_valid_object_name(s: &str) -> bool {
    let b = s.as_bytes();
    len_between(s, 1, 63)
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Lower-case `[a-z0-9]` runs separated by dashes; 1–63 characters.
pub fn is_valid_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    len_between(s, 1, 63)
        && b.first()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.last()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Dot-separated DNS labels; at most 253 characters.
pub fn is_valid_dns_subdomain(s: &str) -> bool {
    len_between(s, 1, 253) && s.split('.').all(is_valid_dns_label)
}

pub fn is_valid_namespace(s: &str) -> bool {
    is_valid_dns_label(s)
}

/// `[<dns-subdomain>/]<v>` where `<v>` is 1–63 alphanumerics.
pub fn is_valid_api_version(s: &str) -> bool {
    prefix_and_or_suffix(s, is_valid_dns_subdomain, |v| {
        len_between(v, 1, 63) && v.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// A letter followed by alphanumerics; 1–63 characters.
pub fn is_valid_kind(s: &str) -> bool {
    len_between(s, 1, 63)
        && s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Label and annotation keys: `[<dns-subdomain>/]<name>`.
pub fn is_valid_label_key(s: &str) -> bool {
    prefix_and_or_suffix(s, is_valid_dns_subdomain, is_valid_object_name)
}

pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_valid_object_name(s)
}

/// Lower-case `[a-z0-9:+#]` runs separated by single dashes; 1–63 characters.
pub fn is_valid_tag(s: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
            })
    };
    len_between(s, 1, 63) && s.split('-').all(word)
}

/// Anything the WHATWG URL parser (what `new URL()` uses) accepts as an absolute URL.
pub fn is_valid_url(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

fn prefix_and_or_suffix(
    s: &str,
    prefix: impl Fn(&str) -> bool,
    suffix: impl Fn(&str) -> bool,
) -> bool {
    let mut parts = s.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(only), None, None) => suffix(only),
        (Some(p), Some(v), None) => prefix(p) && suffix(v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "MyService", "lone.user", "a-b_c.d", &"x".repeat(63)] {
            assert!(is_valid_object_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "payments@v2",
            "multi second",
            &"x".repeat(64),
            "é",
        ] {
            assert!(!is_valid_object_name(bad), "{bad}");
        }
    }

    #[test]
    fn namespaces_and_tags() {
        assert!(is_valid_namespace("team-a"));
        assert!(is_valid_namespace("a--b"));
        assert!(!is_valid_namespace("Team_A"));
        assert!(!is_valid_namespace("-a"));
        assert!(is_valid_tag("c++"));
        assert!(is_valid_tag("lang:go"));
        assert!(is_valid_tag("c#-net"));
        assert!(!is_valid_tag("Java"));
        assert!(!is_valid_tag("go 1.15.3"));
        assert!(!is_valid_tag("a--b"));
    }

    #[test]
    fn keys_versions_kinds_urls() {
        assert!(is_valid_label_key("example.com/tier"));
        assert!(is_valid_label_key("tier"));
        assert!(!is_valid_label_key("example.com/team/tier"));
        assert!(!is_valid_label_key("Example.com/tier"));
        assert!(is_valid_label_value(""));
        assert!(!is_valid_label_value("gold tier"));
        assert!(is_valid_api_version("backstage.io/v1alpha1"));
        assert!(is_valid_api_version("v1"));
        assert!(!is_valid_api_version("backstage.io/v1/x"));
        assert!(is_valid_kind("Component"));
        assert!(!is_valid_kind("1Component"));
        assert!(is_valid_url("https://example.com/x"));
        assert!(is_valid_url("mailto:a@b.c"));
        assert!(!is_valid_url("not a url"));
        assert!(!is_valid_url("/relative"));
    }
}
