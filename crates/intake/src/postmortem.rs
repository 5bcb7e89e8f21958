//! Postmortems posted through the API (`POST /api/postmortems`), for teams whose postmortems
//! do not live in a registered repository.
//!
//! A posted postmortem is recorded like a delivery: source [`POSTMORTEM_SOURCE`], id
//! `<name>@<first 16 hex digits of the text's SHA-256>`, through the intake's queue, its
//! one transaction and an audit record (`postmortem.post`), and acknowledged only once
//! committed. So posting the same text again is a duplicate that changes nothing, a changed
//! text is a new revision (the latest, by number, is the one that counts), every replica
//! reads it from the store, and nothing needs a table of its own. Retention never releases
//! these payloads (`DeliveryRetention::kept_sources`): the text *is* the postmortem.
//!
//! The processor keeps the latest revision of each name in memory ([`PostedBook`], without
//! the Markdown bodies), loaded with the ledger and followed as deliveries are applied.

use std::collections::BTreeMap;

use pave_audit::{Actor, AuditEvent, Outcome};
use pave_dora::postmortem::{IncidentRecord, Postmortem, parse};
use pave_store::{NewDelivery, StoredDelivery};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::IntakeError;
use crate::intake::{Intake, Origin};
use crate::processor::Processor;

/// The source posted postmortems are recorded under (never a webhook source: no sender can
/// post to it through `/api/events/{source}`).
pub const POSTMORTEM_SOURCE: &str = "postmortem";

/// The longest name a postmortem may be posted as, in bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// What posting did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posted {
    /// The name it is kept under (`2026-11-02-checkout.md`).
    pub name: String,
    /// The revision: the first 16 hex digits of the text's SHA-256.
    pub revision: String,
    /// Its delivery number (the first one's, for a duplicate).
    pub seq: i64,
    /// The same text was posted under this name before: nothing changed.
    pub duplicate: bool,
    pub postmortem: Postmortem,
}

/// Checks a name given by the caller: letters, digits, `-`, `_` and `.`, at most
/// [`MAX_NAME_BYTES`], not starting with a dot; `.md` is added when it does not end so.
pub fn postmortem_name(name: &str) -> Result<String, IntakeError> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return Err(IntakeError::Invalid(format!(
            "{name:?} is not a postmortem name: use letters, digits, '-', '_' and '.', at most {MAX_NAME_BYTES} characters"
        )));
    }
    Ok(if name.ends_with(".md") {
        name.to_owned()
    } else {
        format!("{name}.md")
    })
}

/// The name a postmortem is kept under when the caller names none: its date and its title,
/// lower case, words joined by `-` (`2026-11-02-checkout-outage-after-the-2-14-deploy.md`).
pub fn default_name(postmortem: &Postmortem) -> String {
    let mut slug = String::new();
    for c in postmortem.title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    // The date, a dash and `.md` take 14 bytes.
    let slug = &slug[..slug.len().min(MAX_NAME_BYTES - 14)];
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("{}.md", postmortem.date)
    } else {
        format!("{}-{slug}.md", postmortem.date)
    }
}

fn revision_of(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name a stored delivery id holds (`<name>@<revision>`).
fn name_of(delivery_id: &str) -> &str {
    delivery_id
        .rsplit_once('@')
        .map_or(delivery_id, |(name, _)| name)
}

impl Intake {
    /// Checks a postmortem (size: [`IntakeError::TooLarge`]; name; the file format:
    /// [`IntakeError::Postmortem`] with every problem and its position), then records it
    /// with an audit record of `actor`'s and answers once committed.
    pub async fn post_postmortem(
        &self,
        origin: &Origin,
        name: Option<&str>,
        text: &str,
        actor: Actor,
        received_at: i64,
    ) -> Result<Posted, IntakeError> {
        self.check_size(text.as_bytes())?;
        let given = name.map(postmortem_name).transpose()?;
        let file = given.as_deref().unwrap_or("request body");
        let mut postmortem = parse(file, text).map_err(IntakeError::Postmortem)?;
        let name = given.unwrap_or_else(|| default_name(&postmortem));
        postmortem.file = name.clone();
        let revision = revision_of(text);
        let audit = AuditEvent {
            time_ms: received_at,
            actor,
            action: "postmortem.post".to_owned(),
            target: format!("postmortems/{name}"),
            outcome: Outcome::Success,
            source: origin.address.clone(),
            request_id: origin.request_id.clone(),
            details: json!({
                "revision": revision,
                "incidents": postmortem.incidents,
                "actions": postmortem.actions.len(),
            }),
        };
        let receipt = self
            .submit(
                NewDelivery {
                    source: POSTMORTEM_SOURCE.to_owned(),
                    delivery_id: format!("{name}@{revision}"),
                    received_at,
                    headers: "{}".to_owned(),
                    body: text.as_bytes().to_vec(),
                },
                audit,
                0,
                None,
            )
            .await?;
        Ok(Posted {
            name,
            revision,
            seq: receipt.seq,
            duplicate: receipt.duplicate,
            postmortem,
        })
    }
}

/// The latest revision of each posted postmortem, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct PostedBook {
    by_name: BTreeMap<String, (i64, Postmortem)>,
}

impl PostedBook {
    /// Takes a stored posting, unless a later revision of its name is known. A text that no
    /// longer parses (a stricter pave than the one that took it) is logged and skipped.
    pub(crate) fn apply(&mut self, stored: &StoredDelivery) {
        if stored.expired {
            return;
        }
        let name = name_of(&stored.delivery_id);
        if self
            .by_name
            .get(name)
            .is_some_and(|(seq, _)| *seq >= stored.seq)
        {
            return;
        }
        let parsed = std::str::from_utf8(&stored.body)
            .map_err(|e| e.to_string())
            .and_then(|text| parse(name, text).map_err(|e| e.to_string()));
        match parsed {
            Ok(mut postmortem) => {
                // The Markdown stays in the store; lists show the excerpt.
                postmortem.body = String::new();
                self.by_name
                    .insert(name.to_owned(), (stored.seq, postmortem));
            }
            Err(message) => {
                tracing::warn!(
                    seq = stored.seq,
                    name,
                    "a posted postmortem cannot be read again, skipped: {message}"
                );
            }
        }
    }

    /// Takes a postmortem just posted (so it is listed before the processor gets to it).
    pub(crate) fn note(&mut self, seq: i64, mut postmortem: Postmortem) {
        postmortem.body = String::new();
        let current = self.by_name.get(&postmortem.file).map(|(s, _)| *s);
        if current.is_none_or(|s| s < seq) {
            self.by_name
                .insert(postmortem.file.clone(), (seq, postmortem));
        }
    }

    pub(crate) fn all(&self) -> Vec<Postmortem> {
        self.by_name.values().map(|(_, p)| p.clone()).collect()
    }
}

impl Processor {
    /// The posted postmortems, the latest revision of each, by name, without their
    /// Markdown bodies (kept in the store, up to a megabyte each).
    pub fn posted_postmortems(&self) -> Vec<Postmortem> {
        self.with_posted(PostedBook::all)
    }

    /// Makes a postmortem [`Intake::post_postmortem`] committed visible now.
    pub fn note_posted(&self, posted: &Posted) {
        if !posted.duplicate {
            self.with_posted_mut(|book| book.note(posted.seq, posted.postmortem.clone()));
        }
    }

    /// The incidents of the ledger as the postmortem KPIs see them: each by the id its
    /// source gives it (what postmortems name in `incidents`).
    pub fn incident_records(&self) -> Vec<IncidentRecord> {
        self.with_ledger(|ledger, _| {
            ledger
                .incident_rows()
                .into_iter()
                .map(|row| IncidentRecord {
                    title: row.title.clone().unwrap_or_else(|| row.incident.clone()),
                    id: row.incident,
                    entity: row.entity,
                    severity: row.severity,
                    opened_at: row.opened_at,
                    resolved_at: row.resolved_at,
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const TEXT: &str = "---\ntitle: \"Checkout: 502s after the 2.14 deploy!\"\nincidents: [INC-1]\ndate: 2026-01-10\nactions: []\n---\n";

    #[test]
    fn names_are_checked_and_derived() {
        assert_eq!(postmortem_name("2026-01-10-x").unwrap(), "2026-01-10-x.md");
        assert_eq!(postmortem_name("a.md").unwrap(), "a.md");
        for bad in ["", "../x", "a/b", ".hidden", "a b", &"x".repeat(101)] {
            assert!(postmortem_name(bad).is_err(), "{bad:?}");
        }
        let postmortem = parse("p.md", TEXT).unwrap();
        assert_eq!(
            default_name(&postmortem),
            "2026-01-10-checkout-502s-after-the-2-14-deploy.md"
        );
        assert!(postmortem_name(&default_name(&postmortem)).is_ok());
    }

    #[test]
    fn the_book_keeps_the_latest_revision_of_each_name() {
        let stored = |seq: i64, id: &str, text: &str| StoredDelivery {
            seq,
            source: POSTMORTEM_SOURCE.into(),
            delivery_id: id.into(),
            received_at: 0,
            headers: "{}".into(),
            body: text.as_bytes().to_vec(),
            expired: false,
        };
        let mut book = PostedBook::default();
        book.apply(&stored(5, "a.md@2", &TEXT.replace("INC-1", "INC-2")));
        book.apply(&stored(3, "a.md@1", TEXT));
        book.apply(&stored(4, "b.md@1", "not a postmortem"));
        let all = book.all();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].file, "a.md");
        assert_eq!(all[0].incidents, ["INC-2"], "the later revision stays");
        assert_eq!(name_of("x@y@0123"), "x@y");
        assert_eq!(revision_of(TEXT).len(), 16);
    }
}
