//! The day-2 update plan: a 3-way merge per file of the old render (base), the new render
//! (theirs) and the working tree (ours). Pure: the caller reads the working tree and writes
//! the plan.

use std::collections::{BTreeMap, BTreeSet};

use crate::render::{Rendered, RenderedFile};

/// What the update does to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// New in the template: written.
    Add,
    /// Unedited locally: the template's new version replaces it.
    Update,
    /// Edited locally and changed in the template: merged without conflicts.
    Merge,
    /// Edited locally and changed in the template in the same place: written with conflict
    /// markers (text) or kept with the template's version beside it (binary).
    Conflict,
    /// Removed from the template and unedited locally: removed.
    Delete,
    /// Deleted locally: stays deleted, whatever the template did.
    KeepDeleted,
    /// Removed from the template but edited locally: kept.
    KeepEdited,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Update => "update",
            Action::Merge => "merge",
            Action::Conflict => "conflict",
            Action::Delete => "delete",
            Action::KeepDeleted => "keep-deleted",
            Action::KeepEdited => "keep-edited",
        }
    }

    /// Whether the working tree changes.
    pub fn writes(self) -> bool {
        !matches!(self, Action::KeepDeleted | Action::KeepEdited)
    }
}

/// One file's part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub action: Action,
    /// The working tree's file now (`None`: absent).
    pub before: Option<Vec<u8>>,
    /// The file after the update (`None`: absent).
    pub after: Option<Vec<u8>>,
    pub executable: bool,
    /// For a binary conflict: the template's version, written to `<path>.theirs`.
    pub theirs_copy: Option<Vec<u8>>,
}

/// Everything an update does, computed before anything is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdatePlan {
    /// Files whose content or presence changes, or that need a mention (kept deletions and
    /// edits), in path order.
    pub changes: Vec<FileChange>,
}

impl UpdatePlan {
    /// Paths written with conflict markers (or with a `.theirs` copy beside them).
    pub fn conflicts(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Conflict)
            .map(|c| c.path.as_str())
            .collect()
    }

    /// A unified diff of the working tree before and after (binary files are named only).
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for c in self.changes.iter().filter(|c| c.action.writes()) {
            let before = c.before.as_deref().unwrap_or_default();
            let after = c.after.as_deref().unwrap_or_default();
            match (std::str::from_utf8(before), std::str::from_utf8(after)) {
                (Ok(b), Ok(a)) => {
                    let old = if c.before.is_some() {
                        format!("a/{}", c.path)
                    } else {
                        "/dev/null".to_owned()
                    };
                    let new = if c.after.is_some() {
                        format!("b/{}", c.path)
                    } else {
                        "/dev/null".to_owned()
                    };
                    let patch = diffy::DiffOptions::new()
                        .set_original_filename(old)
                        .set_modified_filename(new)
                        .create_patch(b, a);
                    out.push_str(&patch.to_string());
                }
                _ => out.push_str(&format!("Binary file {} differs\n", c.path)),
            }
            if let Some(theirs) = &c.theirs_copy {
                out.push_str(&format!(
                    "Binary file {}.theirs added ({} bytes)\n",
                    c.path,
                    theirs.len()
                ));
            }
        }
        out
    }
}

/// 3-way merges one file. `Ok`: clean; `Err`: with conflict markers. Binary content
/// (not UTF-8) that both sides changed is always a conflict (`Err(None)`).
pub fn merge_text(base: &[u8], ours: &[u8], theirs: &[u8]) -> Result<Vec<u8>, Option<Vec<u8>>> {
    match (
        std::str::from_utf8(base),
        std::str::from_utf8(ours),
        std::str::from_utf8(theirs),
    ) {
        (Ok(b), Ok(o), Ok(t)) => {
            let mut opts = diffy::MergeOptions::new();
            opts.set_conflict_style(diffy::ConflictStyle::Merge);
            match opts.merge(b, o, t) {
                Ok(m) => Ok(m.into_bytes()),
                Err(conflicted) => Err(Some(conflicted.into_bytes())),
            }
        }
        _ => Err(None),
    }
}

/// Plans an update. `ours` holds the working tree's version of every path in `base` or
/// `theirs` (`None`: absent); files only the user has are never touched.
pub fn plan_update(
    base: &Rendered,
    theirs: &Rendered,
    ours: &BTreeMap<String, Option<Vec<u8>>>,
) -> UpdatePlan {
    let paths: BTreeSet<&String> = base.keys().chain(theirs.keys()).collect();
    let mut changes = Vec::new();
    for path in paths {
        let b = base.get(path);
        let t = theirs.get(path);
        let o = ours.get(path).and_then(Option::as_ref);
        let change = |action, after: Option<Vec<u8>>, executable| FileChange {
            path: path.clone(),
            action,
            before: o.cloned(),
            after,
            executable,
            theirs_copy: None,
        };
        let exec = |f: Option<&RenderedFile>| f.is_some_and(|f| f.executable);
        let same = |x: Option<&Vec<u8>>, y: Option<&RenderedFile>| match (x, y) {
            (Some(x), Some(y)) => *x == y.contents,
            (None, None) => true,
            _ => false,
        };
        match (b, t, o) {
            // Nothing changed in the template, or the working tree already has the new version.
            (_, _, _) if b == t || same(o, t) => {}
            // Deleted locally: stays deleted.
            (Some(_), _, None) => changes.push(change(Action::KeepDeleted, None, false)),
            // New in the template.
            (None, Some(t), None) => {
                changes.push(change(Action::Add, Some(t.contents.clone()), t.executable))
            }
            (None, Some(t), Some(o)) => match merge_text(b"", o, &t.contents) {
                Ok(m) => changes.push(change(Action::Merge, Some(m), t.executable)),
                Err(m) => changes.push(conflict(path, o, t, m)),
            },
            // Removed from the template.
            (Some(b), None, Some(o)) => {
                if *o == b.contents {
                    changes.push(change(Action::Delete, None, false));
                } else {
                    changes.push(change(Action::KeepEdited, Some(o.clone()), exec(Some(b))));
                }
            }
            (Some(b), Some(t), Some(o)) => {
                if *o == b.contents {
                    changes.push(change(
                        Action::Update,
                        Some(t.contents.clone()),
                        t.executable,
                    ));
                } else {
                    match merge_text(&b.contents, o, &t.contents) {
                        Ok(m) if m == *o => {}
                        Ok(m) => changes.push(change(Action::Merge, Some(m), t.executable)),
                        Err(m) => changes.push(conflict(path, o, t, m)),
                    }
                }
            }
            (None, None, _) => {}
        }
    }
    UpdatePlan { changes }
}

fn conflict(path: &str, ours: &[u8], theirs: &RenderedFile, merged: Option<Vec<u8>>) -> FileChange {
    match merged {
        Some(m) => FileChange {
            path: path.to_owned(),
            action: Action::Conflict,
            before: Some(ours.to_vec()),
            after: Some(m),
            executable: theirs.executable,
            theirs_copy: None,
        },
        None => FileChange {
            path: path.to_owned(),
            action: Action::Conflict,
            before: Some(ours.to_vec()),
            after: Some(ours.to_vec()),
            executable: theirs.executable,
            theirs_copy: Some(theirs.contents.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Rendered {
        files
            .iter()
            .map(|(p, c)| {
                (
                    (*p).to_owned(),
                    RenderedFile {
                        contents: c.as_bytes().to_vec(),
                        executable: false,
                    },
                )
            })
            .collect()
    }

    fn ours(files: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<Vec<u8>>> {
        files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.map(|c| c.as_bytes().to_vec())))
            .collect()
    }

    fn action(plan: &UpdatePlan, path: &str) -> Option<Action> {
        plan.changes
            .iter()
            .find(|c| c.path == path)
            .map(|c| c.action)
    }

    fn after(plan: &UpdatePlan, path: &str) -> String {
        plan.changes
            .iter()
            .find(|c| c.path == path)
            .and_then(|c| c.after.as_ref())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn every_case() {
        let base = tree(&[
            ("same", "x\n"),
            ("unedited", "a\nb\n"),
            ("edited-clean", "1\n2\n3\n4\n5\n6\n7\n"),
            ("edited-conflict", "port: 8080\n"),
            ("deleted-by-user", "d\n"),
            ("removed-unedited", "r\n"),
            ("removed-edited", "r\n"),
        ]);
        let theirs = tree(&[
            ("same", "x\n"),
            ("unedited", "a\nB\n"),
            ("edited-clean", "1\n2\n3\n4\n5\n6\nseven\n"),
            ("edited-conflict", "port: 9090\n"),
            ("deleted-by-user", "d2\n"),
            ("new", "n\n"),
        ]);
        let o = ours(&[
            ("same", Some("x\n")),
            ("unedited", Some("a\nb\n")),
            ("edited-clean", Some("one\n2\n3\n4\n5\n6\n7\n")),
            ("edited-conflict", Some("port: 7070\n")),
            ("deleted-by-user", None),
            ("removed-unedited", Some("r\n")),
            ("removed-edited", Some("mine\n")),
            ("new", None),
        ]);
        let plan = plan_update(&base, &theirs, &o);
        assert_eq!(action(&plan, "same"), None);
        assert_eq!(action(&plan, "unedited"), Some(Action::Update));
        assert_eq!(after(&plan, "unedited"), "a\nB\n");
        assert_eq!(action(&plan, "edited-clean"), Some(Action::Merge));
        assert_eq!(after(&plan, "edited-clean"), "one\n2\n3\n4\n5\n6\nseven\n");
        assert_eq!(action(&plan, "edited-conflict"), Some(Action::Conflict));
        assert_eq!(
            after(&plan, "edited-conflict"),
            "<<<<<<< ours\nport: 7070\n=======\nport: 9090\n>>>>>>> theirs\n"
        );
        assert_eq!(action(&plan, "deleted-by-user"), Some(Action::KeepDeleted));
        assert_eq!(action(&plan, "removed-unedited"), Some(Action::Delete));
        assert_eq!(action(&plan, "removed-edited"), Some(Action::KeepEdited));
        assert_eq!(action(&plan, "new"), Some(Action::Add));
        assert_eq!(plan.conflicts(), ["edited-conflict"]);
        let diff = plan.diff();
        assert!(diff.contains("--- a/unedited\n+++ b/unedited\n"), "{diff}");
        assert!(diff.contains("--- /dev/null\n+++ b/new\n"), "{diff}");
        assert!(
            diff.contains("--- a/removed-unedited\n+++ /dev/null\n"),
            "{diff}"
        );
        assert!(!diff.contains("removed-edited"), "{diff}");
    }

    #[test]
    fn binary_conflicts_keep_ours_and_offer_theirs() {
        let base = BTreeMap::from([(
            "b".to_owned(),
            RenderedFile {
                contents: vec![0xff, 1],
                executable: false,
            },
        )]);
        let theirs = BTreeMap::from([(
            "b".to_owned(),
            RenderedFile {
                contents: vec![0xff, 2],
                executable: false,
            },
        )]);
        let o = BTreeMap::from([("b".to_owned(), Some(vec![0xff, 3]))]);
        let plan = plan_update(&base, &theirs, &o);
        assert_eq!(plan.changes[0].action, Action::Conflict);
        assert_eq!(plan.changes[0].after, Some(vec![0xff, 3]));
        assert_eq!(plan.changes[0].theirs_copy, Some(vec![0xff, 2]));
    }
}
