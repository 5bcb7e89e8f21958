//! Rows for guardrail reports: the latest `pave check` reports CI published for each catalog
//! entity (`pave check --publish`), shown on the entity's Guardrails tab.
//!
//! Like the catalog rows they carry no semantics the store acts on: `report` is the JSON the
//! server read and normalised (`pave_policy_output::StoredReport`), and the counts beside it
//! are copied from its summary so that a history can be listed without reading reports.
//! Only the newest [`CHECK_REPORTS_KEPT`] of an entity are kept: the tab shows the latest and
//! a short trend, and the report itself is in CI's logs.

/// Reports kept per entity; a newer one pushes the oldest out in the same transaction.
pub const CHECK_REPORTS_KEPT: usize = 20;

/// A report to store, as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckReport {
    /// Canonical, lower-cased `kind:namespace/name`.
    pub entity_ref: String,
    /// Unix seconds.
    pub received_at: i64,
    /// The commit that was checked, as CI named it.
    pub commit: Option<String>,
    /// The branch that was checked.
    pub branch: Option<String>,
    pub counts: CheckCounts,
    /// The normalised report (JSON).
    pub report: String,
}

/// The summary counts of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Findings at or above the failing threshold.
    pub failed: u64,
    /// Findings below it.
    pub warnings: u64,
    /// Findings an active exception covers.
    pub excepted: u64,
    /// Inputs that could not be read.
    pub errors: u64,
    /// Files checked.
    pub files: u64,
}

/// A stored report with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReportRow {
    /// Grows with every report stored (the newest of an entity has the largest).
    pub id: i64,
    pub entity_ref: String,
    /// Unix seconds.
    pub received_at: i64,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub failed: u64,
    pub warnings: u64,
    pub excepted: u64,
    pub errors: u64,
    pub files: u64,
    /// The normalised report (JSON), as stored.
    pub report: String,
}

/// A stored report's metadata without the report: one line of an entity's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReportSummary {
    pub id: i64,
    pub entity_ref: String,
    /// Unix seconds.
    pub received_at: i64,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub failed: u64,
    pub warnings: u64,
    pub excepted: u64,
    pub errors: u64,
    pub files: u64,
}

impl CheckReportRow {
    /// The row's metadata.
    pub fn summary(&self) -> CheckReportSummary {
        CheckReportSummary {
            id: self.id,
            entity_ref: self.entity_ref.clone(),
            received_at: self.received_at,
            commit: self.commit.clone(),
            branch: self.branch.clone(),
            failed: self.failed,
            warnings: self.warnings,
            excepted: self.excepted,
            errors: self.errors,
            files: self.files,
        }
    }
}
