//! Schema versions, and which pave may run on a database: what lets version N and N−1
//! replicas run side by side during a rolling upgrade.
//!
//! Every database from migration `pave_schema_compat` on records `readable_by`: the newest
//! migration a pave must know to run on it. An additive migration (a new table, index or
//! nullable column) leaves it alone, so the previous pave, which does not know that
//! migration, goes on running beside the new one. A migration an older pave cannot run beside
//! (it drops or renames what that pave reads, or adds a constraint its writes break) raises
//! `readable_by` to its own version in its own SQL, and older paves then refuse the database
//! with [`StoreError::SchemaNewer`]. [`breaking_statements`] holds migrations to that rule
//! in the stores' tests.

use crate::StoreError;

/// Where a database's schema stands against this pave's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations applied, by version.
    pub applied: Vec<i64>,
    /// This pave's migrations not applied yet: (version, name).
    pub pending: Vec<(i64, String)>,
    /// Applied migrations this pave does not know: a newer pave applied them.
    pub newer: Vec<i64>,
    /// The newest migration a pave must know to run on the database; `None` before the
    /// database records it (then any unknown migration refuses).
    pub readable_by: Option<i64>,
    /// This pave's newest migration.
    pub known: i64,
}

impl SchemaStatus {
    /// The status of a database whose applied migrations are `applied`, against this pave's
    /// `migrations` (version, name).
    pub fn new(
        migrations: &[(i64, &str)],
        mut applied: Vec<i64>,
        readable_by: Option<i64>,
    ) -> Self {
        applied.sort_unstable();
        let known = migrations.iter().map(|(v, _)| *v).max().unwrap_or(0);
        SchemaStatus {
            pending: migrations
                .iter()
                .filter(|(v, _)| applied.binary_search(v).is_err())
                .map(|(v, name)| (*v, (*name).to_owned()))
                .collect(),
            newer: applied
                .iter()
                .copied()
                .filter(|v| !migrations.iter().any(|(known, _)| known == v))
                .collect(),
            applied,
            readable_by,
            known,
        }
    }

    /// Whether this pave may run on the database (after applying what is pending): refused
    /// when a newer pave applied a migration that this one may not run beside.
    pub fn check_runnable(&self) -> Result<(), StoreError> {
        let Some(&newest) = self.newer.iter().max() else {
            return Ok(());
        };
        match self.readable_by {
            Some(readable_by) if readable_by <= self.known => Ok(()),
            _ => Err(StoreError::SchemaNewer(newest)),
        }
    }

    /// Whether the database is exactly at this pave's schema.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.newer.is_empty()
    }
}

/// The statements of a migration that an older pave could not run beside, unless the
/// migration raises `readable_by` (then it may do anything): dropping or renaming a table,
/// column, index or trigger, and adding a `NOT NULL` column without a default. Comments are
/// ignored. A textual rule on purpose: it is for pave's own migrations, which are written one
/// statement per line start, and a false alarm is fixed by raising `readable_by`.
pub fn breaking_statements(sql: &str) -> Vec<String> {
    let text: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    if text.contains("readable_by =") || text.contains("readable_by=") {
        return Vec::new();
    }
    text.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .filter(|statement| {
            let upper = statement.to_ascii_uppercase();
            // A trigger body holds statements of its own; only its header matters here.
            let head = upper.split(" BEGIN ").next().unwrap_or_default();
            head.starts_with("DROP ")
                || (head.starts_with("ALTER ")
                    && (head.contains(" DROP ")
                        || head.contains(" RENAME ")
                        || head.contains(" ALTER COLUMN ")
                        || (head.contains(" ADD ")
                            && head.contains("NOT NULL")
                            && !head.contains("DEFAULT"))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &[(i64, &str)] = &[(1, "catalog"), (2, "compat"), (3, "more")];

    #[test]
    #[rustfmt::skip]
    fn which_pave_may_run_on_a_database() {
        // (applied, readable_by, pending, newer, runnable)
        type Case<'a> = (&'a [i64], Option<i64>, &'a [i64], &'a [i64], bool);
        let cases: &[Case<'_>] = &[
            (&[], None, &[1, 2, 3], &[], true),
            (&[1], None, &[2, 3], &[], true),
            (&[1, 2, 3], Some(2), &[], &[], true),
            // A newer pave's additive migration: run beside it.
            (&[1, 2, 3, 4], Some(2), &[], &[4], true),
            // A newer pave's migration that raised readable_by: refused.
            (&[1, 2, 3, 4, 5], Some(5), &[], &[4, 5], false),
            // From before the database recorded it: any unknown migration refuses.
            (&[1, 9], None, &[2, 3], &[9], false),
        ];
        for (applied, readable_by, pending, newer, runnable) in cases {
            let status = SchemaStatus::new(OURS, applied.to_vec(), *readable_by);
            let got: Vec<i64> = status.pending.iter().map(|(v, _)| *v).collect();
            assert_eq!(&got, pending, "{applied:?}");
            assert_eq!(&status.newer, newer, "{applied:?}");
            assert_eq!(status.check_runnable().is_ok(), *runnable, "{applied:?}");
            assert_eq!(status.is_current(), pending.is_empty() && newer.is_empty());
            if let Err(e) = status.check_runnable() {
                assert!(matches!(e, StoreError::SchemaNewer(v) if Some(&v) == newer.iter().max()));
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn breaking_statements_are_found() {
        let cases: &[(&str, usize)] = &[
            ("CREATE TABLE t (a TEXT NOT NULL);", 0),
            ("ALTER TABLE t ADD COLUMN b TEXT;", 0),
            ("ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT '';", 0),
            ("CREATE INDEX i ON t (a);", 0),
            ("-- DROP TABLE t; is only a comment\nCREATE TABLE u (a TEXT);", 0),
            ("CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM u; END;", 0),
            ("DROP TABLE t;", 1),
            ("drop index i;", 1),
            ("ALTER TABLE t RENAME TO u;", 1),
            ("ALTER TABLE t DROP COLUMN a;", 1),
            ("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", 1),
            ("ALTER TABLE t ADD COLUMN b TEXT NOT NULL;", 1),
            ("DROP TABLE t; DROP TABLE u;", 2),
            ("DROP TABLE t;\nUPDATE pave_schema_compat SET readable_by = 9;", 0),
        ];
        for (sql, breaking) in cases {
            assert_eq!(breaking_statements(sql).len(), *breaking, "{sql}");
        }
    }
}
