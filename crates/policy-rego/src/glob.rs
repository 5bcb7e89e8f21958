//! `--namespace` patterns as conftest matches them: Go's `path.Match` (`*`, `?`, `[…]`,
//! `\` escapes; `*` and `?` do not match `/`, and `.` is an ordinary character).

/// Whether `pattern` has glob metacharacters; conftest matches namespaces literally unless
/// one of the patterns does.
pub(crate) fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Matches `name` against `pattern`. Errors name what is malformed in the pattern.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    validate(&p)?;
    let s: Vec<char> = name.chars().collect();
    Ok(match_from(&p, &s))
}

fn validate(p: &[char]) -> Result<(), String> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err("trailing backslash".into());
                }
                i += 2;
            }
            '[' => {
                i = class(p, i, None)?.1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Parses the class starting at `p[start] == '['`. With `c`, also tells whether it matches.
/// Returns (matched, index after the class).
fn class(p: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), String> {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        match p.get(i) {
            None => return Err("unterminated character class".into()),
            Some(']') if ranges > 0 => {
                i += 1;
                break;
            }
            _ => {}
        }
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if c.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
        ranges += 1;
    }
    Ok((matched != negated, i))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), String> {
    match p.get(i) {
        None => Err("unterminated character class".into()),
        Some('-' | ']') => Err("`-` and `]` must be escaped in a character class".into()),
        Some('\\') => p
            .get(i + 1)
            .map(|&c| (c, i + 2))
            .ok_or_else(|| "trailing backslash".into()),
        Some(&c) => Ok((c, i + 1)),
    }
}

fn match_from(p: &[char], s: &[char]) -> bool {
    let Some(&first) = p.first() else {
        return s.is_empty();
    };
    match first {
        '*' => {
            // Try every split that does not cross a `/`.
            for k in 0..=s.len() {
                if k > 0 && s[k - 1] == '/' {
                    break;
                }
                if match_from(&p[1..], &s[k..]) {
                    return true;
                }
            }
            false
        }
        '?' => s.first().is_some_and(|&c| c != '/') && match_from(&p[1..], &s[1..]),
        '[' => {
            let Some(&c) = s.first() else { return false };
            match class(p, 0, Some(c)) {
                Ok((true, next)) => c != '/' && match_from(&p[next..], &s[1..]),
                _ => false,
            }
        }
        '\\' => p
            .get(1)
            .is_some_and(|&e| s.first() == Some(&e) && match_from(&p[2..], &s[1..])),
        c => s.first() == Some(&c) && match_from(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_path_match() {
        let yes = [
            ("*", "main"),
            ("*", "main.gke"),
            ("main.*", "main.gke"),
            ("c*", "commands"),
            ("ma?n", "main"),
            ("[a-c]*", "commands"),
            ("[^m]*", "commands"),
            ("main\\*", "main*"),
            ("main", "main"),
        ];
        for (p, n) in yes {
            assert_eq!(matches(p, n), Ok(true), "{p} {n}");
        }
        let no = [
            ("c*", "main"),
            ("main.*", "main"),
            ("*", "a/b"),
            ("[^m]*", "main"),
            ("ma?n", "man"),
        ];
        for (p, n) in no {
            assert_eq!(matches(p, n), Ok(false), "{p} {n}");
        }
        for bad in ["[", "[]", "[a-", "main\\", "[-a]", "[a]]x["] {
            assert!(matches(bad, "main").is_err(), "{bad}");
        }
        assert!(has_wildcard("c*") && !has_wildcard("main.gke"));
    }
}
