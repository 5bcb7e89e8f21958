//! Entity references and "did you mean" suggestions for field names and statuses.

/// The longest kind, namespace or name (Backstage's limit for names).
const MAX_PART: usize = 63;

/// `kind:namespace/name` or `kind:name` (namespace `default`) in the canonical lower-case
/// form `kind:namespace/name` the catalog uses as identity; `None` when `text` has another
/// shape. Only the shape is checked: whether the entity exists is the catalog's business.
pub(crate) fn normalise_reference(text: &str) -> Option<String> {
    let (kind, rest) = text.split_once(':')?;
    let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
    let kind_ok = !kind.is_empty()
        && kind.len() <= MAX_PART
        && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    let part_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= MAX_PART
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if !(kind_ok && part_ok(namespace) && part_ok(name)) {
        return None;
    }
    Some(format!("{kind}:{namespace}/{name}").to_ascii_lowercase())
}

/// Names people reach for that are spelt too differently from ours for edit distance to find.
const ALIASES: &[(&str, &str)] = &[
    ("action_items", "actions"),
    ("action-items", "actions"),
    ("assignee", "owner"),
    ("closed_at", "closed"),
    ("component", "entity"),
    ("completed", "closed"),
    ("deadline", "due"),
    ("due_date", "due"),
    ("due-date", "due"),
    ("incident", "incidents"),
    ("service", "entity"),
    ("sev", "severity"),
    ("state", "status"),
    ("url", "link"),
];

/// The candidate `word` most likely stands for: the same word in another case, an alias, or
/// one within a small edit distance (1 for short words, 2 from five letters on).
pub(crate) fn suggest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    // Edit distance is quadratic in the lengths; a long key is no typo of a short name.
    if word.len() > 40 {
        return None;
    }
    let lower = word.to_ascii_lowercase().replace(['_', ' '], "-");
    if let Some(exact) = candidates.iter().find(|c| **c == lower) {
        return Some(exact);
    }
    let lower_underscored = word.to_ascii_lowercase();
    if let Some((_, target)) = ALIASES
        .iter()
        .find(|(alias, target)| *alias == lower_underscored && candidates.contains(target))
    {
        return Some(target);
    }
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(&lower, c), *c))
        .filter(|(distance, c)| *distance <= if c.len() >= 5 { 2 } else { 1 })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_have_a_kind_and_at_most_a_namespace() {
        let cases: &[(&str, Option<&str>)] = &[
            ("group:default/payments", Some("group:default/payments")),
            ("group:payments", Some("group:default/payments")),
            ("User:Ops/Jane.Doe", Some("user:ops/jane.doe")),
            (
                "component:checkout_v2-eu",
                Some("component:default/checkout_v2-eu"),
            ),
            ("payments", None),
            ("default/payments", None),
            (":payments", None),
            ("group:", None),
            ("group:/payments", None),
            ("group:default/", None),
            ("group:a/b/c", None),
            ("group:default/pay ments", None),
            ("group:default/payments:x", None),
            ("gr-oup:payments", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(normalise_reference(text).as_deref(), *expected, "{text}");
        }
        let long = format!("group:{}", "a".repeat(64));
        assert_eq!(normalise_reference(&long), None);
    }

    #[test]
    fn suggestions_find_typos_cases_and_aliases() {
        let fields = &["title", "owner", "due", "status", "closed", "link"];
        let cases: &[(&str, Option<&str>)] = &[
            ("titel", Some("title")),
            ("Title", Some("title")),
            ("owners", Some("owner")),
            ("deadline", Some("due")),
            ("state", Some("status")),
            ("statsu", Some("status")),
            ("du", Some("due")),
            ("priority", None),
            ("x", None),
        ];
        for (word, expected) in cases {
            assert_eq!(suggest(word, fields), *expected, "{word}");
        }
        let statuses = &["open", "in-progress", "done", "wontfix"];
        assert_eq!(suggest("in_progress", statuses), Some("in-progress"));
        assert_eq!(suggest("In Progress", statuses), Some("in-progress"));
        assert_eq!(suggest("Done", statuses), Some("done"));
        assert_eq!(suggest("won't fix", statuses), Some("wontfix"));
        assert_eq!(suggest("blocked", statuses), None);
    }
}
