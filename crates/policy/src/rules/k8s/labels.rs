//! Ownership: required labels.

use super::*;

pub(super) fn check_required_labels(ctx: &Context<'_>, doc: &Document, emit: Emit<'_>) {
    let required = &ctx.settings.required_labels;
    if required.is_empty()
        || crate::rules::pods::template_keys(kind_of(doc)).is_none()
        || owned(doc)
    {
        return;
    }
    let labels = doc
        .value
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    let missing: Vec<&str> = required
        .iter()
        .filter(|l| {
            labels
                .and_then(|m| m.get(l.as_str()))
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        emit(
            path!["metadata", "labels"],
            format!(
                "missing required label{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        );
    }
}
