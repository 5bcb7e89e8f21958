//! Every severity and status mapping, in one place.

use pave_policy::{Finding, Severity, Status};

/// A SARIF `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SarifLevel {
    Error,
    Warning,
    Note,
}

impl SarifLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            SarifLevel::Error => "error",
            SarifLevel::Warning => "warning",
            SarifLevel::Note => "note",
        }
    }
}

/// A rule's `defaultConfiguration.level`: what its findings are at the default threshold.
pub fn rule_level(severity: Severity) -> SarifLevel {
    match severity {
        Severity::Critical | Severity::High => SarifLevel::Error,
        Severity::Medium | Severity::Low => SarifLevel::Warning,
        Severity::Info => SarifLevel::Note,
    }
}

/// A result's level: failed findings are errors whatever their severity, warnings are
/// warnings (notes for info); an excepted finding gets the level it would have had without
/// its exception, so the suppressed alert shows what was waived.
pub fn result_level(finding: &Finding, fail_on: Severity) -> SarifLevel {
    let failing = match finding.status {
        Status::Failed => true,
        Status::Warning => false,
        Status::Excepted => finding.severity >= fail_on,
    };
    if failing {
        SarifLevel::Error
    } else if finding.severity == Severity::Info {
        SarifLevel::Note
    } else {
        SarifLevel::Warning
    }
}

/// GitHub's `security-severity` score (it reads >9.0 as critical, 7.0–8.9 high, 4.0–6.9
/// medium, 0.1–3.9 low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// GitHub workflow command for a finding.
pub(crate) fn github_command(status: Status) -> &'static str {
    match status {
        Status::Failed => "error",
        Status::Warning => "warning",
        Status::Excepted => "notice",
    }
}

/// The four-letter status word of human output (as conftest prints FAIL/WARN/EXCP).
pub(crate) fn status_word(status: Status) -> &'static str {
    match status {
        Status::Failed => "FAIL",
        Status::Warning => "WARN",
        Status::Excepted => "EXCP",
    }
}

pub(crate) fn status_str(status: Status) -> &'static str {
    match status {
        Status::Failed => "failed",
        Status::Warning => "warning",
        Status::Excepted => "excepted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, status: Status) -> Finding {
        Finding {
            rule: "r".into(),
            title: "t".into(),
            severity,
            status,
            message: "m".into(),
            file: "f".into(),
            line: None,
            column: None,
            object: None,
            input: "kubernetes".into(),
            exception: None,
        }
    }

    #[test]
    fn result_levels_follow_status() {
        let medium = Severity::Medium;
        assert_eq!(
            result_level(&finding(Severity::Low, Status::Failed), Severity::Low),
            SarifLevel::Error
        );
        assert_eq!(
            result_level(
                &finding(Severity::High, Status::Warning),
                Severity::Critical
            ),
            SarifLevel::Warning
        );
        assert_eq!(
            result_level(&finding(Severity::Info, Status::Warning), medium),
            SarifLevel::Note
        );
        assert_eq!(
            result_level(&finding(Severity::High, Status::Excepted), medium),
            SarifLevel::Error,
            "an excepted finding keeps the level it would have had"
        );
        assert_eq!(
            result_level(&finding(Severity::Low, Status::Excepted), medium),
            SarifLevel::Warning
        );
    }

    #[test]
    fn security_severity_lands_in_githubs_bands() {
        let band = |s: Severity| {
            let score: f64 = security_severity(s).parse().unwrap();
            match score {
                x if x > 9.0 => "critical",
                x if x >= 7.0 => "high",
                x if x >= 4.0 => "medium",
                x if x >= 0.1 => "low",
                _ => "none",
            }
        };
        assert_eq!(band(Severity::Critical), "critical");
        assert_eq!(band(Severity::High), "high");
        assert_eq!(band(Severity::Medium), "medium");
        assert_eq!(band(Severity::Low), "low");
        assert_eq!(band(Severity::Info), "low");
    }
}
