//! A small, case-insensitive view of HTTP request headers, so this crate needs no HTTP types:
//! the server adapts its header map (one `impl` or a `Vec` of pairs).

/// The request's headers. Names compare case-insensitively (HTTP header names are
/// case-insensitive); values are the raw text the sender sent.
pub trait Headers {
    /// Every header as `(name, value)`, in any order; a repeated header appears repeatedly.
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_>;

    /// The first value of the header `name`, compared case-insensitively.
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }
}

impl Headers for [(String, String)] {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        Box::new(
            self.iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
    }
}

impl Headers for Vec<(String, String)> {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        self.as_slice().pairs()
    }
}

impl<const N: usize> Headers for [(String, String); N] {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        self.as_slice().pairs()
    }
}

impl<'a> Headers for [(&'a str, &'a str)] {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        Box::new(self.iter().map(|&(name, value)| (name, value)))
    }
}

impl<'a, const N: usize> Headers for [(&'a str, &'a str); N] {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        self.as_slice().pairs()
    }
}

impl<'a> Headers for Vec<(&'a str, &'a str)> {
    fn pairs(&self) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
        self.as_slice().pairs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_returns_the_first_value() {
        let headers = vec![
            ("X-GitHub-Event".to_owned(), "push".to_owned()),
            ("x-github-event".to_owned(), "ping".to_owned()),
        ];
        assert_eq!(headers.get("x-github-event"), Some("push"));
        assert_eq!(headers.get("X-GITHUB-EVENT"), Some("push"));
        assert_eq!(headers.get("X-GitHub-Delivery"), None);
        let borrowed = [("Content-Type", "application/json")];
        assert_eq!(borrowed.get("content-type"), Some("application/json"));
    }
}
