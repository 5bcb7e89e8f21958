//! Postmortems: Markdown files (`docs/postmortems/*.md`) whose front matter names the
//! incidents, the date, a summary and the corrective actions (owner, due date, status or a
//! tracker link); and the KPIs over them (completion for sev-1/2 incidents within N days,
//! corrective-action closure by due date, repeat incidents per service).
//!
//! pave reads postmortems from the repositories registered as catalog sources, like catalog
//! files, or takes them posted through the API. This module is the pure core: [`parse`] and
//! the KPI functions ([`kpis`]); no I/O.
//!
//! # The file format
//!
//! A postmortem is a Markdown file that starts with YAML *front matter* between two `---`
//! lines. The first line of the file must be `---`; the next line that is exactly `---`
//! (trailing spaces allowed) ends the front matter, and everything after it is the Markdown
//! body, kept as written.
//!
//! ```markdown
//! ---
//! title: Checkout outage after the 2.14 deploy
//! incidents: [PD-Q2K3ZL0, "github:acme/checkout#812"]
//! date: 2026-11-02
//! severity: 1
//! summary: Payments failed for 23 minutes because the connection pool was exhausted.
//! entity: component:default/checkout
//! actions:
//!   - title: Alert on queue depth
//!     owner: group:default/payments
//!     due: 2026-12-01
//!     status: open
//!   - title: Load-test the new pool
//!     owner: user:default/jane
//!     due: 2026-11-20
//!     status: done
//!     closed: 2026-11-18
//!   - title: Upgrade the driver
//!     owner: group:default/payments
//!     due: 2026-12-15
//!     link: https://jira.example.com/browse/PAY-42
//! ---
//! # What happened
//! …
//! ```
//!
//! ## Fields
//!
//! | Field | Required | What it holds |
//! |---|---|---|
//! | `title` | yes | Text. |
//! | `incidents` | yes | A list of incident ids as your pager or tracker names them (`PD-Q2K3ZL0`, `github:acme/checkout#812`). Quote ids that YAML would read as numbers or that contain `: ` or ` #`. Write `incidents: []` for a near-miss review. Each id once; at most 100. |
//! | `date` | yes | The day of the postmortem: `YYYY-MM-DD`, or an RFC 3339 time (`2026-11-02T14:30:00Z`), which counts as the UTC day it falls on. |
//! | `severity` | no | 1 (most severe) to 5. When absent, the most severe of the incidents' own severities is shown. |
//! | `summary` | no | Text; shown in lists (else the body's first paragraph is). |
//! | `entity` | no | The service it is about, as an entity reference. When absent, the entity whose catalog source the file was read from. |
//! | `actions` | yes | The corrective actions (below). Write `actions: []` when there are none: the field is required so that a forgotten list is not mistaken for "nothing to do". At most 200. |
//! | `x-…` | no | Any field whose name starts with `x-` is kept as written for your own tools and otherwise ignored. |
//!
//! Each action:
//!
//! | Field | Required | What it holds |
//! |---|---|---|
//! | `title` | yes | Text. |
//! | `owner` | yes | Who must do it, as an entity reference (a group or a user). |
//! | `due` | yes | The due day, as `date`. |
//! | `status` | unless `link` | `open`, `in-progress`, `done` or `wontfix`. |
//! | `closed` | with done/wontfix | The day it was done or dropped, as `date`; required when the status is `done` or `wontfix`, refused otherwise, and not before the postmortem's `date`. |
//! | `link` | no | An `http://` or `https://` URL of the issue that tracks it. An action with a link and no status is *tracked elsewhere* (see the KPIs). |
//! | `x-…` | no | Kept, not checked. |
//!
//! An entity reference is `kind:namespace/name` or `kind:name` (namespace `default`): the kind
//! is letters and digits, the namespace and name letters, digits, `-`, `_` and `.`, each at
//! most 63 characters. Only the shape is checked here; references are stored in the
//! catalog's canonical lower-case form (`group:Payments` becomes `group:default/payments`).
//!
//! A value that is absent or empty (`severity:` with nothing after it) counts as not given;
//! for a required field that is an error.
//!
//! ## Errors
//!
//! A file with problems is refused as a whole, and every problem in it is reported (up to
//! 100), each as `file:line:column: message` with lines counted over the whole file (the
//! opening `---` is line 1) and columns in characters. A wrong value is pointed at where the
//! value starts when it is on its key's line, else at its key; a missing field at the mapping
//! that lacks it (1:1 for the front matter, the action's first field for an action). Unknown
//! fields are refused, with a suggestion when the name is close to a known one
//! (`titel` → `title`, `deadline` → `due`); so are unknown statuses (`in_progress` →
//! `in-progress`). Through the API each problem is
//! `{"line", "column", "path" (e.g. "actions.1.owner"), "code" (e.g. "bad-date"), "message"}`.
//!
//! Limits, so that a hostile file costs little: the front matter at most 64 KiB, the body at
//! most 1 MiB, YAML nesting at most 32 levels and YAML aliases bounded (see
//! [`ParseOptions`]).
//!
//! # The KPIs
//!
//! They take a time window `[from, to)` (Unix milliseconds) and `now` (the overdue list only
//! `now`), and compare calendar days in UTC. Defaults are in [`KpiOptions`].
//!
//! **Postmortem completion.** The incidents counted are those of severity 1 or 2
//! (`completion_max_severity`) whose resolution time falls in the window. Each is due a
//! postmortem — a postmortem whose `incidents` list names its id — dated no later than
//! `completion_days` (5) days after the day it was resolved. If several postmortems name it,
//! the earliest counts. An incident is then
//! - *on time*: its postmortem is dated on or before the due day (also when it is dated before
//!   the resolution);
//! - *late*: its postmortem is dated after the due day;
//! - *missing*: no postmortem, and the due day is over;
//! - *pending*: no postmortem, but the due day is today or later. Pending incidents are listed
//!   and **not counted**, so that a window ending today does not punish teams for the days
//!   they still have.
//!
//! Completion = on time ÷ (on time + late + missing). Incidents without a severity, or not
//! resolved, are not counted.
//!
//! **Corrective-action closure by due date.** The actions counted are those whose due day is in
//! the window (its 00:00 UTC is in `[from, to)`), from every postmortem. Each is
//! - *closed on time*: `done` or `wontfix` with `closed` on or before `due` (dropping an
//!   action on purpose is a decision, and closes it);
//! - *closed late*: `done` or `wontfix` with `closed` after `due`;
//! - *overdue*: `open` or `in-progress`, and the due day is before today;
//! - *not yet due*: `open` or `in-progress`, due today or later (only when the window reaches
//!   today);
//! - *tracked*: a `link` and no `status`. pave cannot see the tracker, so these count as
//!   neither closed nor overdue and are **left out of the rate**; their number is reported
//!   beside it so that a team whose actions all live in a tracker shows "12 tracked" rather
//!   than a perfect or a zero rate. Give the action a `status` as well to have it counted.
//!
//! Closure rate = closed on time ÷ (closed on time + closed late + overdue); not-yet-due and
//! tracked actions are out of both sides.
//!
//! **Overdue actions by owner.** Every `open` or `in-progress` action whose due day is before
//! today, whatever the window (an action overdue since last quarter is still overdue),
//! grouped by owner reference and most overdue first: what a team's page lists.
//!
//! **Repeat incidents per service.** For each entity, the incidents opened in the window, and
//! how many of them were repeats: an incident is a repeat when another incident of the same
//! entity was opened at most `repeat_days` (30) × 24 hours before it — that earlier incident
//! may be before the window. Incidents opened at the same millisecond are not repeats of each
//! other. Incidents with no entity are counted as unattributed and never repeat. Entities are
//! listed most repeats first.

mod day;
mod diagnostic;
mod kpi;
mod model;
mod names;
mod parse;

pub use day::Day;
pub use diagnostic::{Diagnostic, PostmortemError, Problem};
pub use kpi::{
    ActionClosure, Completion, EntityRepeats, IncidentDue, IncidentRecord, KpiOptions,
    LatePostmortem, Millis, OverdueAction, OwnerOverdue, PostmortemKpis, RepeatIncidents, Window,
    action_closure, completion, kpis, overdue_actions, overdue_by_owner, repeat_incidents,
};
pub use model::{Action, ActionStatus, EXCERPT_CHARS, Postmortem};
pub use parse::{ParseOptions, parse, parse_with};
pub use pave_yaml::Position;
