//! `GET /api/audit`: the audit log, newest first, filtered and paged by sequence number
//! (`audit.read`). The portal's `/audit` page reads the same parameters through
//! [`AuditParams::parse`], so the two cannot drift apart.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use pave_store::AuditQuery;
use pave_store::audit::Outcome;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// Records per page unless `limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 100;

/// The query parameters of an audit listing, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuditParams {
    pub(crate) query: AuditQuery,
    /// The values as given (for the portal's form and its "older" link).
    pub(crate) given: Vec<(String, String)>,
}

/// The parameters, in the order the portal's links write them.
pub(crate) const PARAMS: [&str; 8] = [
    "actor", "action", "target", "outcome", "since", "until", "before", "limit",
];

/// Why a parameter was refused: the parameter's name and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadParam {
    pub(crate) name: String,
    pub(crate) message: String,
}

impl std::fmt::Display for BadParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad parameter `{}`: {}", self.name, self.message)
    }
}

impl From<BadParam> for ApiError {
    fn from(e: BadParam) -> Self {
        ApiError::Input(e.to_string())
    }
}

pub(crate) fn bad(name: &str, message: impl Into<String>) -> BadParam {
    BadParam {
        name: name.to_owned(),
        message: message.into(),
    }
}

/// Unix milliseconds from all digits (ms), an RFC 3339 time, or a date (midnight UTC).
/// With `whole_days`, a bare date means the end of that day (a form's "to" date includes it).
pub(crate) fn parse_time(name: &str, text: &str, whole_days: bool) -> Result<i64, BadParam> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| bad(name, format!("`{text}` is too large for Unix milliseconds")));
    }
    let seconds = pave_policy::exceptions::parse_rfc3339(text).ok_or_else(|| {
        bad(
            name,
            format!(
                "`{text}` is not an RFC 3339 time (2026-12-01T09:00:00Z), a date (2026-12-01) \
                 or Unix milliseconds"
            ),
        )
    })?;
    let bare_date = !text.contains(['T', 't', ' ']);
    let seconds = if whole_days && bare_date {
        seconds.saturating_add(86_400)
    } else {
        seconds
    };
    Ok(seconds.saturating_mul(1000))
}

impl AuditParams {
    /// Reads `raw` (a query string). Empty values count as unset (HTML forms send every
    /// field); unknown parameters and repeats are refused, naming the parameter.
    /// `inclusive_until`: a bare date in `until` includes that day (the portal's form).
    pub(crate) fn parse(raw: Option<&str>, inclusive_until: bool) -> Result<Self, BadParam> {
        let mut params = AuditParams {
            query: AuditQuery {
                limit: DEFAULT_LIMIT,
                ..AuditQuery::default()
            },
            given: Vec::new(),
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let Some(name) = PARAMS.iter().find(|p| **p == key) else {
                return Err(bad(
                    &key,
                    format!("unknown; the parameters are {}", PARAMS.join(", ")),
                ));
            };
            if params.given.iter().any(|(k, _)| k == name) {
                return Err(bad(name, "given more than once"));
            }
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > 500 {
                return Err(bad(name, "longer than 500 characters"));
            }
            let q = &mut params.query;
            match *name {
                "actor" => q.actor = Some(value.to_owned()),
                "action" => q.action = Some(value.to_owned()),
                "target" => q.target_prefix = Some(value.to_owned()),
                "outcome" => {
                    q.outcome = Some(
                        value
                            .parse::<Outcome>()
                            .map_err(|e| bad(name, e.to_string()))?,
                    );
                }
                "since" => q.since = Some(parse_time(name, value, false)?),
                "until" => q.until = Some(parse_time(name, value, inclusive_until)?),
                "before" => {
                    let seq = value.parse::<i64>().ok().filter(|s| *s > 0);
                    q.before_seq = Some(seq.ok_or_else(|| {
                        bad(
                            name,
                            format!("`{value}` is not a record's seq (a positive integer)"),
                        )
                    })?);
                }
                _ => {
                    let max = pave_store::AUDIT_PAGE_MAX;
                    q.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=max).contains(l))
                        .ok_or_else(|| {
                            bad(name, format!("`{value}` is not a number from 1 to {max}"))
                        })?;
                }
            }
            params.given.push(((*name).to_owned(), value.to_owned()));
        }
        Ok(params)
    }

    /// The value given for `name`, or "".
    pub(crate) fn value(&self, name: &str) -> &str {
        self.given
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The cursor of the page after `records` (the last seq), when the page was full.
pub(crate) fn next_cursor(records: &[pave_store::audit::AuditRecord], limit: usize) -> Option<i64> {
    if records.len() < limit {
        return None;
    }
    records.last().map(|r| r.seq)
}

/// List audit records.
///
/// Newest first. `next` is the `before` of the next (older) page, or null on the last.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(
        ("since" = Option<String>, Query, description = "From this time, inclusive: RFC 3339, a date, or Unix ms"),
        ("until" = Option<String>, Query, description = "Until this time, exclusive: RFC 3339, a date, or Unix ms"),
        ("actor" = Option<String>, Query, description = "The actor id, exactly (a user ref, a token id)"),
        ("action" = Option<String>, Query, description = "The action, exactly, or a prefix ending in `*` (`auth.*`)"),
        ("target" = Option<String>, Query, description = "A prefix of the target"),
        ("outcome" = Option<String>, Query, description = "success, denied or failure"),
        ("before" = Option<i64>, Query, description = "Only records before this seq (the previous page's `next`)"),
        ("limit" = Option<usize>, Query, description = "At most this many records (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "`{items: [records], next: seq | null}`; records as `pave audit export -o jsonl` writes them"),
        (status = 400, description = "A bad parameter (named)"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Lacks audit.read"),
    ))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = AuditParams::parse(raw.as_deref(), false)?;
    let records = state.platform.store().audit_records(&params.query).await?;
    let next = next_cursor(&records, params.query.limit);
    Ok(Json(json!({"items": records, "next": next})).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parameters_parse_or_name_the_bad_one() {
        let p = AuditParams::parse(
            Some("actor=user:default/jane&action=token.*&target=tok&outcome=denied&since=2026-01-01&until=1767225600000&before=42&limit=7"),
            false,
        )
        .unwrap();
        let q = &p.query;
        assert_eq!(q.actor.as_deref(), Some("user:default/jane"));
        assert_eq!(q.action.as_deref(), Some("token.*"));
        assert_eq!(q.target_prefix.as_deref(), Some("tok"));
        assert_eq!(q.outcome, Some(Outcome::Denied));
        assert_eq!(q.since, Some(1_767_225_600_000));
        assert_eq!(q.until, Some(1_767_225_600_000));
        assert_eq!(q.before_seq, Some(42));
        assert_eq!(q.limit, 7);
        assert_eq!(p.value("actor"), "user:default/jane");

        let empty = AuditParams::parse(Some("actor=&since=&limit="), false).unwrap();
        assert_eq!(empty.query.limit, DEFAULT_LIMIT);
        assert_eq!(empty.query.actor, None);
        // RFC 3339 with an offset; a form's "to" date includes its day.
        let t = AuditParams::parse(Some("since=2026-01-01T02:00:00%2B02:00"), false).unwrap();
        assert_eq!(t.query.since, Some(1_767_225_600_000));
        let to = AuditParams::parse(Some("until=2026-01-01"), true).unwrap();
        assert_eq!(to.query.until, Some(1_767_225_600_000 + 86_400_000));

        let cases = [
            ("since=yesterday", "since"),
            ("until=2026-13-01", "until"),
            ("outcome=maybe", "outcome"),
            ("before=-1", "before"),
            ("before=x", "before"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("bogus=1", "bogus"),
            ("actor=a&actor=b", "actor"),
        ];
        for (raw, name) in cases {
            let e = AuditParams::parse(Some(raw), false).unwrap_err();
            assert_eq!(e.name, name, "{raw}: {e}");
            assert!(e.to_string().contains(&format!("`{name}`")), "{e}");
        }
    }
}
