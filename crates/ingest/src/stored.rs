//! What ingestion stores about a location's last reading (`locations.status`): a record of
//! its own, so that the in-memory [`LocationReport`] can change without changing rows already
//! written, and readers (the API, `pave catalog locations`) parse one type instead of picking
//! JSON apart. Its shape is fixed by a snapshot test: changing it needs a reader for the old
//! one.

use serde::{Deserialize, Serialize};

use crate::{Diagnostic, DiagnosticSeverity, LocationReport};

/// Diagnostics kept per location; the rest are counted in the report only.
pub const STORED_DIAGNOSTICS: usize = 500;

/// A location's last reading as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredStatus {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub rejected: usize,
    pub conflicts: usize,
    pub files_read: usize,
    pub files_unchanged: usize,
    /// The commit read, for git sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Why the location could not be read at all (its entities were kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// The first [`STORED_DIAGNOSTICS`] problems.
    pub diagnostics: Vec<Diagnostic>,
}

impl StoredStatus {
    /// The stored text, or `None` when it is not a status this version can read.
    pub fn parse(text: &str) -> Option<StoredStatus> {
        serde_json::from_str(text).ok()
    }

    /// The text to store.
    pub fn to_text(&self) -> String {
        // Serializing plain structs of numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Stored problems that are errors, plus a failed reading.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == DiagnosticSeverity::Error)
            .count()
            + usize::from(self.failed.is_some())
    }
}

impl From<&LocationReport> for StoredStatus {
    fn from(report: &LocationReport) -> Self {
        StoredStatus {
            added: report.added,
            updated: report.updated,
            unchanged: report.unchanged,
            removed: report.removed,
            rejected: report.rejected,
            conflicts: report.conflicts,
            files_read: report.files_read,
            files_unchanged: report.files_unchanged,
            commit: report.commit.clone(),
            failed: report.failed.clone(),
            diagnostics: report
                .diagnostics
                .iter()
                .take(STORED_DIAGNOSTICS)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pave_store::{LocationKind, LocationRow};

    #[test]
    fn the_stored_shape_is_fixed_and_rows_written_by_older_versions_still_read() {
        let location = LocationRow {
            id: "l1".into(),
            kind: LocationKind::Git,
            target: "https://git.example.com/r.git#main".into(),
            created_at: 0,
            refreshed_at: None,
            status: None,
        };
        let mut report = LocationReport::new(&location);
        report.added = 2;
        report.rejected = 1;
        report.commit = Some("abc123".into());
        report.diagnostics = vec![
            Diagnostic::error(
                "git:r#main/a.yaml",
                Some(pave_yaml::Position { line: 3, column: 7 }),
                "bad",
            )
            .with_entity("component:default/a"),
            Diagnostic::warning("git:r#main/b.yaml", None, "odd"),
        ];
        let stored = StoredStatus::from(&report);
        insta::assert_snapshot!(stored.to_text(), @r#"{"added":2,"updated":0,"unchanged":0,"removed":0,"rejected":1,"conflicts":0,"filesRead":0,"filesUnchanged":0,"commit":"abc123","diagnostics":[{"file":"git:r#main/a.yaml","line":3,"column":7,"severity":"error","message":"bad","entity_ref":"component:default/a"},{"file":"git:r#main/b.yaml","severity":"warning","message":"odd"}]}"#);
        assert_eq!(StoredStatus::parse(&stored.to_text()), Some(stored.clone()));
        assert_eq!(stored.errors(), 1);
        // Rows written before this type: the whole report, with its location fields.
        let old = r#"{"locationId":"l1","type":"file","target":"/c","added":1,"updated":0,"unchanged":0,"removed":0,"rejected":0,"conflicts":0,"filesRead":1,"filesUnchanged":0,"failed":"gone","diagnostics":[]}"#;
        let old = StoredStatus::parse(old).unwrap();
        assert_eq!((old.added, old.errors()), (1, 1));
        assert_eq!(StoredStatus::parse("not json"), None);
    }
}
