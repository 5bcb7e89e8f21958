//! Sloth's SLO validation rules (`pkg/common/validation`), on the format-independent model.
//!
//! Each problem names the [`Field`] it is about; the spec readers turn that into a path in
//! their own format and then into a line and column.

use crate::spec::{AlertMeta, Sli, Slo};

/// Which alert of an SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    /// `page` or `ticket` (the `sloth_severity` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// The part of an SLO a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Service,
    Objective,
    Period,
    Label(String),
    Sli,
    ErrorQuery,
    TotalQuery,
    RawQuery,
    AlertName(Severity),
    AlertLabel(Severity, String),
    AlertAnnotation(Severity, String),
}

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub message: String,
}

fn problem(field: Field, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
    }
}

/// Sloth's name rule: starts and ends with an alphanumeric, only alphanumerics, `.`, `_`, `-`
/// (`^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$`, so at least two characters).
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `query` contains the `{{.window}}` template variable (`{{ *\.window *}}`).
pub fn has_window_variable(query: &str) -> bool {
    window_spans(query).next().is_some()
}

/// Byte ranges of every `{{ .window }}` (any spaces inside the braces) in `query`.
pub(crate) fn window_spans(query: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = query.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(offset) = query.get(from..).and_then(|rest| rest.find("{{")) {
            let start = from + offset;
            let mut i = start + 2;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if query.get(i..).is_some_and(|r| r.starts_with(".window")) {
                i += ".window".len();
                while i < bytes.len() && bytes[i] == b' ' {
                    i += 1;
                }
                if query.get(i..).is_some_and(|r| r.starts_with("}}")) {
                    from = i + 2;
                    return Some((start, i + 2));
                }
            }
            from = start + 2;
        }
        None
    })
}

fn check_name(out: &mut Vec<Problem>, field: Field, what: &str, value: &str) {
    if value.is_empty() {
        out.push(problem(field, format!("invalid SLO {what}: is required")));
    } else if !is_valid_name(value) {
        out.push(problem(
            field,
            format!(
                "invalid SLO {what} `{value}`: name must start and end with an alphanumeric and can only contain alphanumeric, '.', '_', and '-'"
            ),
        ));
    }
}

fn check_query(out: &mut Vec<Problem>, field: Field, what: &str, query: &str) {
    if query.trim().is_empty() {
        out.push(problem(field, format!("invalid SLI: {what} is required")));
    } else if !has_window_variable(query) {
        out.push(problem(
            field,
            format!("invalid SLI: {what} template must contain the {{{{.window}}}} variable"),
        ));
    }
}

/// A label name Prometheus accepts (any non-empty UTF-8 name except `__name__`).
fn label_key_problem(k: &str) -> Option<String> {
    if k == "__name__" {
        Some("the label key `__name__` is not allowed".to_owned())
    } else if k.is_empty() {
        Some("label keys must not be empty".to_owned())
    } else {
        None
    }
}

fn check_alert(out: &mut Vec<Problem>, severity: Severity, alert: &AlertMeta) {
    if alert.name.is_empty() {
        out.push(problem(
            Field::AlertName(severity),
            format!(
                "invalid {} alert: `alerting.name` is required (or disable both alerts)",
                severity.as_str()
            ),
        ));
    }
    for (k, v) in &alert.labels {
        if let Some(message) = label_key_problem(k) {
            out.push(problem(Field::AlertLabel(severity, k.clone()), message));
        } else if v.is_empty() {
            out.push(problem(
                Field::AlertLabel(severity, k.clone()),
                format!("invalid alert label `{k}`: the value is required"),
            ));
        }
    }
    for (k, v) in &alert.annotations {
        if k.is_empty() {
            out.push(problem(
                Field::AlertAnnotation(severity, k.clone()),
                "annotation keys must not be empty",
            ));
        } else if v.is_empty() {
            out.push(problem(
                Field::AlertAnnotation(severity, k.clone()),
                format!("invalid alert annotation `{k}`: the value is required"),
            ));
        }
    }
}

/// Every rule `slo` breaks (empty when valid).
pub fn validate_slo(slo: &Slo) -> Vec<Problem> {
    let mut out = Vec::new();
    check_name(&mut out, Field::Name, "name", &slo.name);
    check_name(&mut out, Field::Service, "service", &slo.service);
    if out.is_empty() {
        check_name(&mut out, Field::Id, "ID", &slo.id);
    }
    if slo.period.as_millis() == 0 {
        out.push(problem(Field::Period, "time window is required"));
    }
    if !(slo.objective_percent > 0.0 && slo.objective_percent <= 100.0) {
        out.push(problem(
            Field::Objective,
            format!(
                "objective must be >0 and <=100 (got {})",
                crate::gofmt::format_f(slo.objective_percent)
            ),
        ));
    }
    for (k, v) in &slo.labels {
        if let Some(message) = label_key_problem(k) {
            out.push(problem(Field::Label(k.clone()), message));
        } else if v.is_empty() {
            out.push(problem(
                Field::Label(k.clone()),
                format!("invalid SLO label `{k}`: the value is required"),
            ));
        }
    }
    match &slo.sli {
        Sli::Events {
            error_query,
            total_query,
        } => {
            if error_query == total_query && !error_query.is_empty() {
                out.push(problem(
                    Field::TotalQuery,
                    "invalid SLI: both error and total queries can't be the same",
                ));
            }
            check_query(&mut out, Field::ErrorQuery, "error query", error_query);
            check_query(&mut out, Field::TotalQuery, "total query", total_query);
        }
        Sli::Raw { error_ratio_query } => {
            check_query(&mut out, Field::RawQuery, "raw query", error_ratio_query);
        }
    }
    if let Some(page) = &slo.alerting.page {
        check_alert(&mut out, Severity::Page, page);
    }
    if let Some(ticket) = &slo.alerting.ticket {
        check_alert(&mut out, Severity::Ticket, ticket);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_sloth() {
        for good in ["ab", "requests-availability", "a.b_c-9", "A1"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "a", "-ab", "ab-", "a b", "a/b", "añb"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn window_variable_forms() {
        assert!(has_window_variable("rate(x[{{.window}}])"));
        assert!(has_window_variable("rate(x[{{ .window }}])"));
        assert!(has_window_variable("rate(x[{{   .window}}])"));
        assert!(!has_window_variable("rate(x[{{.Window}}])"));
        assert!(!has_window_variable("rate(x[{{window}}])"));
        assert!(!has_window_variable("rate(x[5m]) {{"));
        let spans: Vec<_> = window_spans("{{.window}} {{ .window }}").collect();
        assert_eq!(spans, vec![(0, 11), (12, 25)]);
    }
}
