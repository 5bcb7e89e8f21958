//! Reading incident details out of the words senders use: severities (`P2`, `sev1`,
//! `critical`, urgency `high`) to a level 1 (most severe) to 5, and the cause an issue body
//! names (`caused by: <sha>`, `root cause: <sha>` as Four Keys' generator writes it).

use crate::model::Severity;

/// A severity from a priority, severity label or word. Returns `None` for words that carry
/// no level (`unknown`, `bug`).
///
/// | written | level |
/// |---|---|
/// | `P1`…`P5`, `sev1`…`sev5`, `sev-2`, `severity:3`, `S4`, `1`…`5` | the digit |
/// | `critical`, `emergency` | 1 |
/// | `high`, `major`, `error` | 2 |
/// | `medium`, `moderate`, `warning` | 3 |
/// | `low`, `minor` | 4 |
/// | `info`, `informational` | 5 |
pub(crate) fn severity(raw: &str) -> Option<Severity> {
    let word = raw.trim().to_ascii_lowercase();
    let level = match word.as_str() {
        "critical" | "emergency" => 1,
        "high" | "major" | "error" => 2,
        "medium" | "moderate" | "warning" => 3,
        "low" | "minor" => 4,
        "info" | "informational" => 5,
        _ => numbered_level(&word)?,
    };
    Some(Severity {
        level,
        raw: raw.trim().to_owned(),
    })
}

/// `p2`, `sev2`, `sev-2`, `sev 2`, `severity:2`, `severity/2`, `s2`, `2` → 2.
fn numbered_level(word: &str) -> Option<u8> {
    let rest = ["severity", "sev", "p", "s"]
        .iter()
        .find_map(|prefix| word.strip_prefix(prefix))
        .unwrap_or(word);
    let digit = rest.trim_start_matches([' ', '-', ':', '/', '_', '=']);
    match digit.as_bytes() {
        [level @ b'1'..=b'5'] => Some(level - b'0'),
        _ => None,
    }
}

/// The first label of `labels` that names a severity.
pub(crate) fn severity_from_labels<'a>(
    labels: impl IntoIterator<Item = &'a str>,
) -> Option<Severity> {
    labels.into_iter().find_map(|label| {
        let lower = label.to_ascii_lowercase();
        // Only labels that say they are a severity: a plain `high` label could mean anything.
        if lower.starts_with("sev") || lower.starts_with("severity") {
            severity(label)
        } else {
            None
        }
    })
}

/// The cause a text names on a `caused by: X` or `root cause: X` line (case-insensitive):
/// the first word after the colon, without surrounding punctuation or backticks.
pub(crate) fn caused_by(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let lower = line.to_ascii_lowercase();
        let at = ["caused by:", "caused-by:", "root cause:", "root-cause:"]
            .iter()
            .find_map(|marker| lower.find(marker).map(|at| at + marker.len()))?;
        // `lower` and `line` have the same byte offsets: ASCII lowercasing keeps lengths.
        let word = line.get(at..)?.split_whitespace().next()?;
        let word = word.trim_matches(|c: char| "`'\"()[]<>.,;".contains(c));
        (!word.is_empty()).then(|| word.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_normalise_to_levels() {
        for (raw, level) in [
            ("P1", Some(1)),
            ("p5", Some(5)),
            ("sev2", Some(2)),
            ("SEV-3", Some(3)),
            ("severity: 4", Some(4)),
            ("S1", Some(1)),
            ("3", Some(3)),
            ("critical", Some(1)),
            ("High", Some(2)),
            ("warning", Some(3)),
            ("low", Some(4)),
            ("info", Some(5)),
            ("unknown", None),
            ("P6", None),
            ("p12", None),
            ("bug", None),
            ("", None),
        ] {
            assert_eq!(severity(raw).map(|s| s.level), level, "{raw}");
        }
        assert_eq!(severity(" P2 ").unwrap().raw, "P2");
    }

    #[test]
    fn only_severity_labels_count() {
        assert_eq!(
            severity_from_labels(["bug", "high", "sev1"]).map(|s| s.level),
            Some(1)
        );
        assert_eq!(severity_from_labels(["bug", "high"]), None);
    }

    #[test]
    fn causes_are_read_from_marked_lines() {
        let sha = "2f6c2a6e0b7d4c1e9a8b7c6d5e4f3a2b1c0d9e8f";
        assert_eq!(
            caused_by(&format!("Outage.\nroot cause: {sha}\n")),
            Some(sha.to_owned())
        );
        assert_eq!(
            caused_by(&format!("Caused by: `{sha}`.")),
            Some(sha.to_owned())
        );
        assert_eq!(caused_by("Caused-By: deploy 42"), Some("deploy".to_owned()));
        assert_eq!(caused_by("no cause here"), None);
        assert_eq!(caused_by("root cause:"), None);
        assert_eq!(caused_by("Ünïcode root cause: é"), Some("é".to_owned()));
    }
}
