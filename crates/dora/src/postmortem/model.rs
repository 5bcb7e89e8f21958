//! A parsed postmortem and its corrective actions.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::day::Day;
use super::kpi::IncidentRecord;

/// One postmortem, as read from its file (see the module documentation for the format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Postmortem {
    /// The file it was read from (its path in the repository, or the name it was posted as).
    pub file: String,
    pub title: String,
    /// The incidents it covers, by the ids their sources give them (`PD-Q2K3ZL0`,
    /// `github:acme/checkout#812`). Empty for a near-miss review.
    pub incidents: Vec<String>,
    pub date: Day,
    /// 1 (most severe) to 5, when the front matter says; see [`Postmortem::effective_severity`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The entity it is about, as `kind:namespace/name` in lower case; from the front matter,
    /// else the entity whose catalog source the file was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    pub actions: Vec<Action>,
    /// `x-` fields, kept as written for tools of the organisation's own.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
    /// The Markdown after the front matter, unchanged.
    pub body: String,
    /// The line of the file the body starts on (so a renderer can point at the source).
    pub body_line: u32,
    /// At most [`EXCERPT_CHARS`] characters for lists: the summary, else the body's first
    /// paragraph, with runs of white space folded into one space.
    pub excerpt: String,
}

/// The longest excerpt, in characters (an ellipsis included).
pub const EXCERPT_CHARS: usize = 280;

impl Postmortem {
    /// The severity to show: the front matter's, else the most severe of the incidents it
    /// covers that `incidents` knows.
    pub fn effective_severity(&self, incidents: &[IncidentRecord]) -> Option<u8> {
        self.severity.or_else(|| {
            incidents
                .iter()
                .filter(|incident| self.incidents.contains(&incident.id))
                .filter_map(|incident| incident.severity)
                .min()
        })
    }
}

/// A corrective action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub title: String,
    /// Who must do it, as `kind:namespace/name` in lower case (usually a group or a user).
    pub owner: String,
    pub due: Day,
    /// `None` when the action is only tracked elsewhere (`link` without `status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    /// The day it was done or dropped; set exactly when the status is done or wontfix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Day>,
    /// Where it is tracked (an issue in Jira, GitHub, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl Action {
    /// Only a tracker knows its state: a `link` and no `status`.
    pub fn is_tracked_elsewhere(&self) -> bool {
        self.status.is_none()
    }
}

/// Where a corrective action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    /// Decided against; closes the action like `done` does.
    Wontfix,
}

impl ActionStatus {
    /// Every status, as written in files.
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Wontfix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in-progress",
            ActionStatus::Done => "done",
            ActionStatus::Wontfix => "wontfix",
        }
    }

    /// `done` or `wontfix`.
    pub fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Wontfix)
    }

    /// The status written exactly as `text`.
    pub fn parse(text: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
